//! What the three HTTP adapters share: one `reqwest` client with the call timeout, base-URL
//! joining, the mapping of transport failures and HTTP statuses to [`PlatformError`], readable
//! messages for bodies that are not the JSON promised (HTML error pages, truncated JSON), the
//! `retry-after` header, and scrubbing the key out of every message.
//!
//! Scrubbing uses the shared [`Redactor`]: the key and the base URL's credentials, and any
//! 8+-character prefix of them, are masked out of an error body as soon as it is read, before any
//! message quotes (and cuts) it, and once more out of the final message.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::Value;
use talab_db::redact::Redactor;

use crate::{
    AdapterOutput, HttpPlatformConfig, OrchestratorError, Platform, PlatformError, PlatformStatus,
    PriceTable, Secret, Usage, display_url,
};

/// One HTTP platform's client and settings.
pub(crate) struct HttpCore {
    pub platform: Platform,
    client: reqwest::Client,
    base_url: String,
    /// The base URL was configured (a proxy or local server), not the provider's default.
    custom_base: bool,
    pub model: String,
    pub api_key: Option<Secret>,
    /// Masks the key and the base URL's credentials out of error bodies and messages.
    redactor: Redactor,
    prices: Arc<PriceTable>,
    timeout: Duration,
}

impl std::fmt::Debug for HttpCore {
    /// The settings people need to see; the key shows as `***`, the base URL without credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpCore")
            .field("platform", &self.platform)
            .field("base_url", &display_url(&self.base_url))
            .field("model", &self.model)
            .field("api_key", &self.api_key)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// An HTTP answer, read whole.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl HttpCore {
    pub fn new(
        platform: Platform,
        cfg: &HttpPlatformConfig,
        default_base: &str,
        default_model: &str,
        prices: Arc<PriceTable>,
        timeout: Duration,
    ) -> Result<Self, OrchestratorError> {
        let client =
            reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .map_err(|e| OrchestratorError::Config {
                    what: format!("{platform} HTTP client"),
                    reason: error_chain(&e),
                })?;
        let trimmed = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        let custom = trimmed(&cfg.base_url);
        let api_key = cfg.api_key.clone().filter(|k| !k.is_blank());
        let redactor = Redactor::for_endpoint(
            custom.as_deref().unwrap_or(default_base),
            api_key.as_ref().map(Secret::expose),
        );
        Ok(HttpCore {
            platform,
            client,
            custom_base: custom.is_some(),
            base_url: custom
                .unwrap_or_else(|| default_base.to_string())
                .trim_end_matches('/')
                .to_string(),
            model: trimmed(&cfg.model).unwrap_or_else(|| default_model.to_string()),
            api_key,
            redactor,
            prices,
            timeout,
        })
    }

    /// `{base}/{version}/{path}`, or `{base}/{path}` when the base already ends in `/{version}`
    /// (`http://localhost:11434/v1` and `https://api.openai.com` both work).
    pub fn url(&self, version: &str, path: &str) -> String {
        if self.base_url.ends_with(&format!("/{version}")) {
            format!("{}/{path}", self.base_url)
        } else {
            format!("{}/{version}/{path}", self.base_url)
        }
    }

    /// Configured when a key is set, or for `keyless_ok` platforms when a server was configured
    /// (an OpenAI-compatible local server needs no key; the provider's own API does).
    pub fn status(&self, keyless_ok: bool) -> PlatformStatus {
        let at = format!("model {} at {}", self.model, display_url(&self.base_url));
        match &self.api_key {
            Some(_) => PlatformStatus::ready(format!("API key set; {at}")),
            None if keyless_ok && self.custom_base => PlatformStatus::ready(format!("no API key; {at}")),
            None => PlatformStatus::not_configured(format!(
                "{} is not set",
                crate::api_key_var(self.platform).unwrap_or("the API key")
            )),
        }
    }

    /// The key as a header value, marked sensitive so HTTP-level logging never prints it.
    pub fn key_header(&self, prefix: &str) -> Result<Option<HeaderValue>, PlatformError> {
        let Some(key) = &self.api_key else {
            return Ok(None);
        };
        let mut value =
            HeaderValue::from_str(&format!("{prefix}{}", key.expose())).map_err(|_| PlatformError::Auth {
                message: "the API key contains characters not allowed in an HTTP header".into(),
            })?;
        value.set_sensitive(true);
        Ok(Some(value))
    }

    /// POSTs `body` as JSON and reads the whole answer; transport failures become typed errors.
    /// The body of an error status is returned already masked, since it is only ever quoted.
    pub async fn post(
        &self,
        url: &str,
        headers: Vec<(HeaderName, HeaderValue)>,
        body: &Value,
    ) -> Result<Reply, PlatformError> {
        tracing::debug!(platform = %self.platform, url = %display_url(url), "sending request");
        let mut request = self.client.post(url).json(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| self.transport_error(url, e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.map_err(|e| self.transport_error(url, e))?;
        let body = if status.is_success() {
            body
        } else {
            self.redactor.redact(&body)
        };
        tracing::debug!(platform = %self.platform, status = status.as_u16(), bytes = body.len(), "response read");
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    fn transport_error(&self, url: &str, e: reqwest::Error) -> PlatformError {
        let e = e.without_url();
        let at = display_url(url);
        if e.is_timeout() {
            PlatformError::Timeout {
                message: format!("no answer from {at} within {:.1} s", self.timeout.as_secs_f64()),
            }
        } else if e.is_connect() {
            PlatformError::Transient {
                message: format!("cannot connect to {at}: {}", error_chain(&e)),
            }
        } else {
            PlatformError::Transient {
                message: format!("request to {at} failed: {}", error_chain(&e)),
            }
        }
    }

    /// The answer, priced from the table (unknown models cost 0; the caller flags them by model).
    pub fn output(&self, text: String, model: String, usage: Usage) -> AdapterOutput {
        let priced = self.prices.cost(&model, &usage);
        AdapterOutput {
            output: text,
            cost_usd: Some(priced.cost_usd),
            model,
            usage,
        }
    }

    /// The error with the key, the base URL's credentials and any 8+-character prefix of them
    /// masked (provider messages may echo them).
    pub fn scrub(&self, e: PlatformError) -> PlatformError {
        scrub_with(&self.redactor, e)
    }

    /// Decodes a success body like [`parse_json`]; a body quoted in the error is masked first.
    pub fn parse_json<T: DeserializeOwned>(&self, reply: &Reply) -> Result<T, PlatformError> {
        parse_json(reply, &self.redactor)
    }
}

/// `e` with its message masked by `redactor` (unchanged when there is nothing to mask).
pub(crate) fn scrub_with(redactor: &Redactor, e: PlatformError) -> PlatformError {
    let masked = redactor.redact(e.message());
    if masked == e.message() {
        e
    } else {
        with_message(e, masked)
    }
}

/// Rebuilds `e` with another message, keeping its kind and wait.
pub(crate) fn with_message(e: PlatformError, message: String) -> PlatformError {
    match e {
        PlatformError::RateLimited { retry_after, .. } => PlatformError::RateLimited { retry_after, message },
        PlatformError::Overloaded { .. } => PlatformError::Overloaded { message },
        PlatformError::QuotaExhausted { .. } => PlatformError::QuotaExhausted { message },
        PlatformError::Auth { .. } => PlatformError::Auth { message },
        PlatformError::BadRequest { .. } => PlatformError::BadRequest { message },
        PlatformError::Transient { .. } => PlatformError::Transient { message },
        PlatformError::Timeout { .. } => PlatformError::Timeout { message },
    }
}

/// An error and its causes, `: `-separated.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Decodes a success body; an empty body, an HTML page, truncated or malformed JSON or missing
/// fields become [`PlatformError::Transient`] saying which. A quoted body is masked before it is cut.
fn parse_json<T: DeserializeOwned>(reply: &Reply, redactor: &Redactor) -> Result<T, PlatformError> {
    if let Some(what) = not_json(&reply.body) {
        return Err(PlatformError::Transient {
            message: format!("HTTP {} with {what} instead of JSON", reply.status.as_u16()),
        });
    }
    serde_json::from_str(&reply.body).map_err(|e| {
        use serde_json::error::Category;
        let message = match e.classify() {
            Category::Eof => format!(
                "the response JSON is truncated (it ends at line {}, column {})",
                e.line(),
                e.column()
            ),
            Category::Data => format!("the response JSON is not the expected shape: {e}"),
            Category::Syntax | Category::Io => {
                format!(
                    "the response is not valid JSON ({e}); it starts with {:?}",
                    snippet(&redactor.redact(&reply.body))
                )
            }
        };
        PlatformError::Transient { message }
    })
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

/// The start of a body, for a message. Callers pass bodies already masked (see [`HttpCore::post`]):
/// cutting first could leave the start of a key behind.
fn snippet(body: &str) -> String {
    body.trim().chars().take(60).collect()
}

/// The class an HTTP status has when the body says nothing more specific.
pub(crate) fn by_status(status: StatusCode, message: String, retry_after: Option<Duration>) -> PlatformError {
    match status.as_u16() {
        429 => PlatformError::RateLimited { retry_after, message },
        503 | 529 => PlatformError::Overloaded { message },
        401 | 403 => PlatformError::Auth { message },
        408 | 409 | 425 => PlatformError::Transient { message },
        400..=499 => PlatformError::BadRequest { message },
        _ => PlatformError::Transient { message },
    }
}

/// `HTTP 429 rate_limit_error: <provider message>`, or what the body was when it was not JSON.
pub(crate) fn describe(status: StatusCode, kind: Option<&str>, message: Option<&str>, body: &str) -> String {
    let head = match kind {
        Some(k) => format!("HTTP {} {k}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    };
    match (message, not_json(body)) {
        (Some(m), _) => format!("{head}: {m}"),
        (None, Some(what)) => format!("{head} with {what}"),
        (None, None) => format!("{head}: {}", snippet(body)),
    }
}

/// The wait asked for by `retry-after-ms` or `retry-after` (seconds or an HTTP date).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let seconds = |text: &str| text.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0);
    if let Some(ms) = get("retry-after-ms").and_then(seconds) {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = get("retry-after")?;
    if let Some(s) = seconds(value) {
        return Some(Duration::from_secs_f64(s));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// The JSON error body, if the body is JSON.
pub(crate) fn error_json(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or(Value::Null)
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
    fn retry_after_reads_seconds_milliseconds_and_dates() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "20")])),
            Some(Duration::from_secs(20))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "1.5"), ("retry-after-ms", "250")])),
            Some(Duration::from_millis(250))
        );
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(120)).to_rfc2822();
        let wait = retry_after(&headers(&[("retry-after", &soon.replace("+0000", "GMT"))])).unwrap();
        assert!((100..=120).contains(&wait.as_secs()), "{wait:?}");
        let past = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(
            retry_after(&headers(&[("retry-after", past)])),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "-3")])), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn non_json_bodies_are_named() {
        let html = "<!DOCTYPE html>\n<html><head><TITLE>502 Bad Gateway</TITLE></head></html>";
        assert_eq!(not_json(html).unwrap(), "an HTML page (\"502 Bad Gateway\")");
        assert_eq!(not_json("  ").unwrap(), "an empty body");
        assert_eq!(not_json("<html></html>").unwrap(), "an HTML page");
        assert_eq!(not_json(r#"{"a":1}"#), None);
    }

    #[test]
    fn statuses_map_to_classes() {
        let class = |s: u16| by_status(StatusCode::from_u16(s).unwrap(), "m".into(), None).class();
        let got: Vec<_> = [429, 529, 503, 401, 403, 400, 404, 422, 408, 500, 502]
            .into_iter()
            .map(class)
            .collect();
        assert_eq!(
            got,
            [
                "rate_limited",
                "overloaded",
                "overloaded",
                "auth",
                "auth",
                "bad_request",
                "bad_request",
                "bad_request",
                "transient",
                "transient",
                "transient"
            ]
        );
    }
}
