//! What the three HTTP price sources share: one `reqwest` client per source, base-URL joining, the
//! retry loop (429 and 5xx are retried with backoff, never sooner than `Retry-After`, a bounded
//! number of times), and the wording of failures people actually meet: a blocked region (451), an
//! unreachable host, an HTML error page where JSON was promised, truncated JSON.
//!
//! Failures that another source could avoid (451, unreachable, a plan or key refusal, an unknown
//! pair) are [`FeatureError::SourceUnavailable`], so the default chain falls through on them; all
//! others are [`FeatureError::Source`] and stop the fetch.

use std::sync::Mutex;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::{NaiveDate, Utc};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;

use crate::FeatureError;
use crate::prices::SourceKind;

/// Timeouts and retry bounds of an HTTP source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpOptions {
    /// Per request.
    pub timeout: Duration,
    /// Calls in all for one request, the first included (1 = no retry).
    pub max_attempts: u32,
    /// The first backoff wait when the server names none; it doubles per retry.
    pub base_wait: Duration,
    /// A `Retry-After` longer than this is not waited for: the fetch fails and says so.
    pub max_retry_after: Duration,
}

impl Default for HttpOptions {
    /// 30 s per request; 5 calls; waits from 1 s doubling; `Retry-After` honoured up to 120 s.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_attempts: 5,
            base_wait: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

/// An HTTP answer, read whole.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

/// One failed call: the error to report and whether (and how long after) to try again.
#[derive(Debug)]
pub(crate) struct CallError {
    pub error: FeatureError,
    pub retry: bool,
    pub retry_after: Option<Duration>,
}

impl CallError {
    pub fn fatal(error: FeatureError) -> Self {
        Self {
            error,
            retry: false,
            retry_after: None,
        }
    }

    pub fn retry(error: FeatureError, retry_after: Option<Duration>) -> Self {
        Self {
            error,
            retry: true,
            retry_after,
        }
    }
}

/// A source's HTTP client: base URL, options, and the waits it made (for tests and `-v`).
#[derive(Debug)]
pub(crate) struct HttpClient {
    kind: SourceKind,
    client: reqwest::Client,
    base_url: String,
    options: HttpOptions,
    waits: Mutex<Vec<Duration>>,
}

impl HttpClient {
    pub fn new(kind: SourceKind, base_url: &str, options: HttpOptions) -> Result<Self, FeatureError> {
        let client = reqwest::Client::builder()
            .timeout(options.timeout)
            .user_agent(concat!("talab/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FeatureError::Source {
                source_name: kind.to_string(),
                reason: format!("cannot build an HTTP client: {}", error_chain(&e)),
            })?;
        Ok(Self {
            kind,
            client,
            base_url: base_url.trim().trim_end_matches('/').to_string(),
            options,
            waits: Mutex::new(Vec::new()),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The waits between retries so far (the server's `Retry-After` where it gave one).
    pub fn waits(&self) -> Vec<Duration> {
        self.waits.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn unavailable(&self, reason: impl Into<String>) -> FeatureError {
        FeatureError::SourceUnavailable {
            source_name: self.kind.to_string(),
            reason: reason.into(),
        }
    }

    pub fn failed(&self, reason: impl Into<String>) -> FeatureError {
        FeatureError::Source {
            source_name: self.kind.to_string(),
            reason: reason.into(),
        }
    }

    /// GETs `{base}{path}` with `query` and `headers`; `check` sees every answer first and may
    /// claim it (a source-specific refusal or rate limit); then 429 and 5xx are retried, 451 and
    /// 418 are "unavailable here", and any other status is returned for the source to read.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        headers: &[(HeaderName, HeaderValue)],
        check: impl Fn(&Reply) -> Option<CallError>,
    ) -> Result<Reply, FeatureError> {
        let url = format!("{}{path}", self.base_url);
        let once = || async {
            let reply = self.send(&url, query, headers).await?;
            if let Some(e) = check(&reply) {
                return Err(e);
            }
            self.classify(reply)
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.options.base_wait)
            .with_max_delay(self.options.max_retry_after)
            .with_max_times(self.options.max_attempts.saturating_sub(1) as usize)
            .with_jitter();
        let max_retry_after = self.options.max_retry_after;
        once.retry(backoff)
            .when(|e: &CallError| e.retry)
            .adjust(|e, drawn| match e.retry_after {
                Some(asked) if asked > max_retry_after => None,
                Some(asked) => drawn.map(|_| asked),
                None => drawn,
            })
            .notify(|e, wait| {
                tracing::info!(source = %self.kind, wait_ms = wait.as_millis() as u64, error = %e.error, "retrying");
                self.waits.lock().unwrap_or_else(|p| p.into_inner()).push(wait);
            })
            .await
            .map_err(|e| match e.retry_after {
                Some(asked) if e.retry && asked > max_retry_after => self.failed(format!(
                    "{}; the server asks to wait {} s, more than the {} s talab waits; try again later",
                    reason_of(&e.error),
                    asked.as_secs(),
                    max_retry_after.as_secs()
                )),
                _ if e.retry => self.failed(format!(
                    "{} (gave up after {} attempts)",
                    reason_of(&e.error),
                    self.options.max_attempts
                )),
                _ => e.error,
            })
    }

    async fn send(
        &self,
        url: &str,
        query: &[(&str, String)],
        headers: &[(HeaderName, HeaderValue)],
    ) -> Result<Reply, CallError> {
        tracing::debug!(source = %self.kind, url, ?query, "GET");
        let mut request = self.client.get(url).query(query);
        for (name, value) in headers {
            request = request.header(name, value.clone());
        }
        let response = request.send().await.map_err(|e| self.transport_error(url, e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.map_err(|e| self.transport_error(url, e))?;
        tracing::debug!(source = %self.kind, status = status.as_u16(), bytes = body.len(), "response");
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    fn transport_error(&self, url: &str, e: reqwest::Error) -> CallError {
        let e = e.without_url();
        if e.is_timeout() {
            CallError::retry(
                self.failed(format!(
                    "no answer from {url} within {:.0} s",
                    self.options.timeout.as_secs_f64()
                )),
                None,
            )
        } else if e.is_connect() {
            // The host and the innermost cause ("Connection refused", the DNS failure): the
            // layers between (client error, connect) say nothing more to a user.
            CallError::fatal(self.unavailable(format!("cannot reach {} ({})", host_of(url), root_cause(&e))))
        } else {
            CallError::retry(
                self.failed(format!("request to {url} failed: {}", error_chain(&e))),
                None,
            )
        }
    }

    fn classify(&self, reply: Reply) -> Result<Reply, CallError> {
        let code = reply.status.as_u16();
        match code {
            429 => Err(CallError::retry(
                self.failed(describe(&reply, "rate limited")),
                retry_after(&reply.headers),
            )),
            451 => Err(CallError::fatal(self.unavailable(describe(
                &reply,
                "not available from this location (HTTP 451)",
            )))),
            418 => Err(CallError::fatal(self.unavailable(describe(
                &reply,
                "this address is banned for ignoring rate limits (HTTP 418)",
            )))),
            500..=599 => Err(CallError::retry(
                self.failed(describe(&reply, "server error")),
                None,
            )),
            _ => Ok(reply),
        }
    }

    /// Decodes a success body; an empty body, an HTML page, or truncated or malformed JSON become
    /// errors saying which.
    pub fn parse<T: DeserializeOwned>(&self, reply: &Reply) -> Result<T, FeatureError> {
        if let Some(what) = not_json(&reply.body) {
            return Err(self.failed(format!(
                "HTTP {} with {what} instead of JSON",
                reply.status.as_u16()
            )));
        }
        serde_json::from_str(&reply.body).map_err(|e| {
            use serde_json::error::Category;
            self.failed(match e.classify() {
                Category::Eof => format!(
                    "the response JSON is truncated (it ends at line {}, column {}); try again",
                    e.line(),
                    e.column()
                ),
                Category::Data => format!("the response JSON is not the expected shape: {e}"),
                Category::Syntax | Category::Io => format!(
                    "the response is not valid JSON ({e}); it starts with {:?}",
                    snippet(&reply.body)
                ),
            })
        })
    }
}

/// The reason text of a source error (without the "price source X:" prefix).
fn reason_of(e: &FeatureError) -> String {
    match e {
        FeatureError::Source { reason, .. } | FeatureError::SourceUnavailable { reason, .. } => {
            reason.clone()
        }
        other => other.to_string(),
    }
}

/// `what: HTTP 451 "message"`, with the server's message (JSON `msg`/`message`/`error_message`)
/// or what the body was.
pub(crate) fn describe(reply: &Reply, what: &str) -> String {
    let status = reply.status.as_u16();
    if let Some(kind) = not_json(&reply.body) {
        return format!("{what}: HTTP {status} with {kind}");
    }
    let json: serde_json::Value = serde_json::from_str(&reply.body).unwrap_or_default();
    let message = ["msg", "message", "error_message"]
        .iter()
        .find_map(|k| {
            json.get(k)
                .or_else(|| json["status"].get(k))
                .and_then(|v| v.as_str())
        })
        .map(str::to_string);
    match message {
        Some(m) => format!("{what}: HTTP {status}: {m}"),
        None => format!("{what}: HTTP {status}: {}", snippet(&reply.body)),
    }
}

/// What a body is when it is clearly not JSON: empty, or an HTML page (with its title).
pub(crate) fn not_json(body: &str) -> Option<String> {
    let start = body.trim_start();
    if start.is_empty() {
        return Some("an empty body".into());
    }
    if !start.starts_with('<') {
        return None;
    }
    let lower = start.to_ascii_lowercase();
    let title = lower
        .find("<title>")
        .and_then(|i| {
            let rest = &start[i + 7..];
            rest.to_ascii_lowercase()
                .find("</title>")
                .map(|j| rest[..j].trim().to_string())
        })
        .filter(|t| !t.is_empty());
    Some(match title {
        Some(t) => format!("an HTML page (\"{t}\")"),
        None => "an HTML page".into(),
    })
}

fn snippet(body: &str) -> String {
    body.trim().chars().take(80).collect()
}

/// The wait asked for by `Retry-After` (seconds or an HTTP date).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(s) = value.parse::<f64>() {
        return (s.is_finite() && s >= 0.0).then(|| Duration::from_secs_f64(s));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&Utc) - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// An error and its causes, `: `-separated.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The innermost error of a chain.
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

/// `host[:port]` of a URL (the URL itself if it does not parse).
fn host_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => url.to_string(),
        },
        Err(_) => url.to_string(),
    }
}

/// The last day a source may deliver: `until`, but never today (UTC) or later, whose candle is
/// still moving.
pub(crate) fn last_complete_day(until: NaiveDate) -> NaiveDate {
    let yesterday = Utc::now().date_naive().pred_opt().unwrap_or(NaiveDate::MIN);
    until.min(yesterday)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_str(v).unwrap()))
            .collect()
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        let past = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(
            retry_after(&headers(&[("retry-after", past)])),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "later")])), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn html_pages_and_server_messages_are_named() {
        let reply = |status: u16, body: &str| Reply {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.into(),
        };
        let html = "<html><head><title>502 Bad Gateway</title></head></html>";
        assert_eq!(
            describe(&reply(502, html), "server error"),
            "server error: HTTP 502 with an HTML page (\"502 Bad Gateway\")"
        );
        assert_eq!(
            describe(
                &reply(451, r#"{"code":0,"msg":"Service unavailable"}"#),
                "blocked"
            ),
            "blocked: HTTP 451: Service unavailable"
        );
        assert_eq!(
            describe(
                &reply(403, r#"{"status":{"error_code":1006,"error_message":"plan"}}"#),
                "x"
            ),
            "x: HTTP 403: plan"
        );
    }

    #[test]
    fn today_is_never_complete() {
        let today = Utc::now().date_naive();
        assert!(last_complete_day(today) < today);
        let old = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        assert_eq!(last_complete_day(old), old);
    }
}
