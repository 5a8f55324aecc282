//! Talking to a Chroma server: its HTTP API v2 (`/api/v2/tenants/{t}/databases/{d}/…`), with
//! every failure turned into one line that names `chroma`, where, and what to do.
//!
//! Only JSON bodies cross here; what they mean is the other modules' business. Chroma answers an
//! error as `{"error": "NotFoundError", "message": "…"}` with a 4xx/5xx status; [`Failure`] keeps
//! the status and that message so a caller can tell "no such collection" (404) from a refusal.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;
use talab_db::redact::display_url;

use super::CHROMA;
use crate::MemoryError;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(60);
/// Longest part of an unexpected answer quoted in a message.
const QUOTE: usize = 300;

/// A Chroma server and the tenant and database the store lives in.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `http://host:port`, as given (without a trailing `/`).
    base: String,
    tenant: String,
    database: String,
    /// `/api/v2/tenants/{t}/databases/{d}`.
    database_path: String,
    /// Where, for messages: the URL without credentials, tenant, database, collection.
    location: String,
}

/// A request the server refused or could not be sent.
#[derive(Debug)]
pub enum Failure {
    /// The server answered this status with this message.
    Status(u16, String),
    /// The answer never came, or was not what the API says.
    Other(MemoryError),
}

impl Client {
    /// A client for `tenant`/`database` on the server at `base_url`; `collection` only names the
    /// place in messages.
    pub fn new(base_url: &str, tenant: &str, database: &str, collection: &str) -> Result<Self, MemoryError> {
        let base = base_url.trim_end_matches('/').to_string();
        let location = format!(
            "{} tenant {tenant} database {database} collection {collection}",
            display_url(&base)
        );
        let fail = |message: String| MemoryError::Backend {
            backend: CHROMA,
            location: location.clone(),
            message,
        };
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(fail(
                "give the server's URL as http://HOST:PORT (as `chroma run` prints it)".into(),
            ));
        }
        for (what, name) in [("tenant", tenant), ("database", database)] {
            if !valid_name(name) {
                return Err(fail(format!(
                    "invalid {what} name {name:?}: Chroma's names are 3 to 512 of a-z A-Z 0-9 . _ -, \
                     starting and ending with a letter or digit"
                )));
            }
        }
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| fail(format!("cannot build an HTTP client: {e}")))?;
        Ok(Client {
            http,
            database_path: format!("/api/v2/tenants/{tenant}/databases/{database}"),
            tenant: tenant.to_string(),
            database: database.to_string(),
            base,
            location,
        })
    }

    /// The tenant the store is in.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The database the store is in.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// Where the store is, for messages and [`crate::BackendInfo`].
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The one-line error for this store.
    pub fn fail(&self, message: String) -> MemoryError {
        MemoryError::Backend {
            backend: CHROMA,
            location: self.location.clone(),
            message,
        }
    }

    /// `GET {path}` under the server's root (`/api/v2/…`).
    pub async fn get_root<T: DeserializeOwned>(&self, path: &str) -> Result<T, Failure> {
        self.send(reqwest::Method::GET, &format!("{}{path}", self.base), None)
            .await
    }

    /// `method {path}` under the database (`/api/v2/tenants/{t}/databases/{d}{path}`).
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, Failure> {
        let url = format!("{}{}{path}", self.base, self.database_path);
        self.send(method, &url, body).await
    }

    /// [`Client::call`] where any refusal is an error (no status is expected).
    pub async fn expect<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, MemoryError> {
        self.call(method, path, body).await.map_err(|f| self.explain(f))
    }

    /// A failure as the store's one-line error.
    pub fn explain(&self, failure: Failure) -> MemoryError {
        match failure {
            Failure::Status(status, message) => {
                self.fail(format!("the server refused a request ({status}: {message})"))
            }
            Failure::Other(e) => e,
        }
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<T, Failure> {
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| Failure::Other(self.unsent(&e)))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| Failure::Other(self.fail(format!("the answer was cut off ({e})"))))?;
        if !status.is_success() {
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| quote(&text));
            return Err(Failure::Status(status.as_u16(), message));
        }
        serde_json::from_str(&text).map_err(|e| {
            Failure::Other(self.fail(format!(
                "the server's answer is not what Chroma's API v2 returns ({e}): {}; is this a \
                 Chroma server of version 1.x?",
                quote(&text)
            )))
        })
    }

    /// Why a request got no answer, and what to do.
    fn unsent(&self, e: &reqwest::Error) -> MemoryError {
        let why = std::error::Error::source(e).map_or_else(|| e.to_string(), |s| s.to_string());
        if e.is_timeout() {
            self.fail(format!(
                "the server did not answer within {} s; check that it is up and not overloaded",
                TIMEOUT.as_secs()
            ))
        } else if e.is_connect() {
            self.fail(format!(
                "cannot reach the server ({why}); start it (`chroma run --path DIR --host HOST \
                 --port PORT`), or correct the host and port in the URL"
            ))
        } else {
            self.fail(format!("the request failed ({why})"))
        }
    }
}

/// Chroma's rule for tenant, database and collection names (checked here so a name never
/// changes the path it is put in).
pub fn valid_name(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    (3..=512).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && edge(name.chars().next())
        && edge(name.chars().last())
}

/// The start of a body, on one line.
fn quote(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(QUOTE) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}
