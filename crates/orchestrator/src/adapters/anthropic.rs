//! The Anthropic Messages API (`POST {base}/v1/messages`). Anthropic's `input_tokens` already
//! excludes cache reads and writes, so usage maps one to one; a 429 or 400 about a spend or usage
//! limit is QuotaExhausted (waiting will not help), other 429s are rate limits, 529 is overload.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{self, HttpCore, Reply};
use super::render_context;
use crate::{
    AdapterOutput, HttpPlatformConfig, OrchestratorError, Platform, PlatformAdapter, PlatformError,
    PlatformStatus, PriceTable, Task, Usage,
};

/// Anthropic's API server.
pub const ANTHROPIC_DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The model asked for when none is configured.
pub const ANTHROPIC_DEFAULT_MODEL: &str = "claude-sonnet-4-5";
/// The `anthropic-version` header sent.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";
/// `max_tokens` (required by the API) unless the task's `metadata.max_tokens` says otherwise.
const DEFAULT_MAX_TOKENS: u64 = 4096;

/// Claude through the Anthropic API.
#[derive(Debug)]
pub struct AnthropicAdapter {
    core: HttpCore,
}

impl AnthropicAdapter {
    /// From the `claude` settings; each call is bounded by `timeout`.
    pub fn new(
        cfg: &HttpPlatformConfig,
        prices: Arc<PriceTable>,
        timeout: Duration,
    ) -> Result<Self, OrchestratorError> {
        let core = HttpCore::new(
            Platform::Claude,
            cfg,
            ANTHROPIC_DEFAULT_BASE_URL,
            ANTHROPIC_DEFAULT_MODEL,
            prices,
            timeout,
        )?;
        Ok(AnthropicAdapter { core })
    }

    fn body(&self, task: &Task) -> Value {
        let max_tokens = task
            .metadata
            .get("max_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(DEFAULT_MAX_TOKENS);
        let mut body = json!({
            "model": self.core.model,
            "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": task.prompt}],
        });
        if let Some(system) = render_context(task) {
            body["system"] = Value::String(system);
        }
        body
    }

    async fn call(&self, task: &Task) -> Result<AdapterOutput, PlatformError> {
        let Some(key) = self.core.key_header("")? else {
            return Err(PlatformError::Auth {
                message: "ANTHROPIC_API_KEY is not set".into(),
            });
        };
        let headers = vec![
            (HeaderName::from_static("x-api-key"), key),
            (
                HeaderName::from_static("anthropic-version"),
                HeaderValue::from_static(ANTHROPIC_VERSION),
            ),
        ];
        let reply = self
            .core
            .post(&self.core.url("v1", "messages"), headers, &self.body(task))
            .await?;
        if !reply.status.is_success() {
            return Err(classify(&reply));
        }
        let response: MessagesResponse = self.core.parse_json(&reply)?;
        let text: Vec<&str> = response
            .content
            .iter()
            .filter(|b| b.kind == "text")
            .filter_map(|b| b.text.as_deref())
            .collect();
        if text.is_empty() && response.stop_reason.as_deref() == Some("refusal") {
            return Err(PlatformError::BadRequest {
                message: "Claude declined to answer (stop_reason: refusal)".into(),
            });
        }
        Ok(self
            .core
            .output(text.join(""), response.model, response.usage.normalise()))
    }
}

#[async_trait::async_trait]
impl PlatformAdapter for AnthropicAdapter {
    fn platform(&self) -> Platform {
        Platform::Claude
    }

    fn status(&self) -> PlatformStatus {
        self.core.status(false)
    }

    async fn execute(&self, task: &Task) -> Result<AdapterOutput, PlatformError> {
        self.call(task).await.map_err(|e| self.core.scrub(e))
    }
}

#[derive(Deserialize)]
struct MessagesResponse {
    model: String,
    content: Vec<ContentBlock>,
    #[serde(default)]
    stop_reason: Option<String>,
    usage: AnthropicUsage,
}

#[derive(Deserialize)]
struct ContentBlock {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct AnthropicUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
}

impl AnthropicUsage {
    /// Anthropic's counts are already disjoint; thinking tokens are inside `output_tokens` and
    /// not reported apart, so `reasoning` stays 0.
    fn normalise(&self) -> Usage {
        Usage {
            input_uncached: self.input_tokens,
            cache_read: self.cache_read_input_tokens.unwrap_or(0),
            cache_write: self.cache_creation_input_tokens.unwrap_or(0),
            output: self.output_tokens,
            reasoning: 0,
        }
    }
}

/// Words of Anthropic's messages when an account or workspace spend/usage limit is reached.
const SPEND_LIMIT_WORDS: &[&str] = &["usage limit", "spend limit", "spending limit", "credit balance"];

fn classify(reply: &Reply) -> PlatformError {
    let body = http::error_json(reply);
    let kind = body["error"]["type"].as_str();
    let provider_message = body["error"]["message"].as_str();
    let message = http::describe(reply.status, kind, provider_message, &reply.body);
    let lower = provider_message.unwrap_or_default().to_ascii_lowercase();
    let status = reply.status.as_u16();
    if matches!(status, 400 | 403 | 429) && SPEND_LIMIT_WORDS.iter().any(|w| lower.contains(w)) {
        return PlatformError::QuotaExhausted { message };
    }
    match kind {
        Some("overloaded_error") => PlatformError::Overloaded { message },
        Some("rate_limit_error") => PlatformError::RateLimited {
            retry_after: http::retry_after(&reply.headers),
            message,
        },
        Some("authentication_error" | "permission_error") => PlatformError::Auth { message },
        _ => http::by_status(reply.status, message, http::retry_after(&reply.headers)),
    }
}
