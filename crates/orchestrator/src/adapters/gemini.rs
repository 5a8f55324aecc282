//! The Gemini API (`POST {base}/v1beta/models/{model}:generateContent`, key in `x-goog-api-key`).
//! `promptTokenCount` includes `cachedContentTokenCount` and thinking is billed as output. A 429
//! `RESOURCE_EXHAUSTED` names its wait in `RetryInfo.retryDelay` ("34s"), unless the violated
//! quota is a per-day one: then only the daily reset helps, so it is QuotaExhausted.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderName;
use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{self, HttpCore, Reply};
use super::render_context;
use crate::{
    AdapterOutput, HttpPlatformConfig, OrchestratorError, Platform, PlatformAdapter, PlatformError,
    PlatformStatus, PriceTable, Task, Usage,
};

/// Google's Gemini API server.
pub const GEMINI_DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";
/// The model asked for when none is configured.
pub const GEMINI_DEFAULT_MODEL: &str = "gemini-2.5-flash";

/// Gemini through the Gemini API.
#[derive(Debug)]
pub struct GeminiAdapter {
    core: HttpCore,
}

impl GeminiAdapter {
    /// From the `gemini` settings; each call is bounded by `timeout`.
    pub fn new(
        cfg: &HttpPlatformConfig,
        prices: Arc<PriceTable>,
        timeout: Duration,
    ) -> Result<Self, OrchestratorError> {
        let core = HttpCore::new(
            Platform::Gemini,
            cfg,
            GEMINI_DEFAULT_BASE_URL,
            GEMINI_DEFAULT_MODEL,
            prices,
            timeout,
        )?;
        Ok(GeminiAdapter { core })
    }

    fn body(task: &Task) -> Value {
        let mut body = json!({"contents": [{"role": "user", "parts": [{"text": task.prompt}]}]});
        if let Some(system) = render_context(task) {
            body["systemInstruction"] = json!({"parts": [{"text": system}]});
        }
        body
    }

    async fn call(&self, task: &Task) -> Result<AdapterOutput, PlatformError> {
        let Some(key) = self.core.key_header("")? else {
            return Err(PlatformError::Auth {
                message: "GEMINI_API_KEY is not set".into(),
            });
        };
        let model = self.core.model.trim_start_matches("models/");
        let url = self
            .core
            .url("v1beta", &format!("models/{model}:generateContent"));
        let headers = vec![(HeaderName::from_static("x-goog-api-key"), key)];
        let reply = self.core.post(&url, headers, &Self::body(task)).await?;
        if !reply.status.is_success() {
            return Err(classify(&reply));
        }
        let response: GenerateResponse = self.core.parse_json(&reply)?;
        let Some(candidate) = response.candidates.into_iter().next() else {
            let reason = response
                .prompt_feedback
                .and_then(|f| f.block_reason)
                .unwrap_or_else(|| "no reason given".into());
            return Err(PlatformError::BadRequest {
                message: format!("Gemini returned no candidate (prompt blocked: {reason})"),
            });
        };
        let parts = candidate.content.map(|c| c.parts).unwrap_or_default();
        let text: String = parts
            .iter()
            .filter(|p| !p.thought)
            .filter_map(|p| p.text.as_deref())
            .collect();
        let finish = candidate.finish_reason.unwrap_or_default();
        if text.is_empty()
            && matches!(
                finish.as_str(),
                "SAFETY" | "RECITATION" | "PROHIBITED_CONTENT" | "BLOCKLIST"
            )
        {
            return Err(PlatformError::BadRequest {
                message: format!("Gemini stopped without an answer (finishReason {finish})"),
            });
        }
        let model = response.model_version.unwrap_or_else(|| model.to_string());
        Ok(self.core.output(
            text,
            model,
            response.usage_metadata.unwrap_or_default().normalise(),
        ))
    }
}

#[async_trait::async_trait]
impl PlatformAdapter for GeminiAdapter {
    fn platform(&self) -> Platform {
        Platform::Gemini
    }

    fn status(&self) -> PlatformStatus {
        self.core.status(false)
    }

    async fn execute(&self, task: &Task) -> Result<AdapterOutput, PlatformError> {
        self.call(task).await.map_err(|e| self.core.scrub(e))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateResponse {
    #[serde(default)]
    candidates: Vec<Candidate>,
    #[serde(default)]
    prompt_feedback: Option<PromptFeedback>,
    #[serde(default)]
    usage_metadata: Option<UsageMetadata>,
    #[serde(default)]
    model_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
struct Part {
    #[serde(default)]
    text: Option<String>,
    /// A thought summary, not part of the answer.
    #[serde(default)]
    thought: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    #[serde(default)]
    block_reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: u64,
    #[serde(default)]
    cached_content_token_count: u64,
    #[serde(default)]
    candidates_token_count: u64,
    #[serde(default)]
    thoughts_token_count: u64,
}

impl UsageMetadata {
    fn normalise(&self) -> Usage {
        let cached = self.cached_content_token_count.min(self.prompt_token_count);
        Usage {
            input_uncached: self.prompt_token_count - cached,
            cache_read: cached,
            cache_write: 0,
            output: self.candidates_token_count,
            reasoning: self.thoughts_token_count,
        }
    }
}

fn classify(reply: &Reply) -> PlatformError {
    let body = http::error_json(reply);
    let error = &body["error"];
    let status_name = error["status"].as_str();
    let message = http::describe(reply.status, status_name, error["message"].as_str(), &reply.body);
    let details: &[Value] = error["details"].as_array().map_or(&[], Vec::as_slice);
    let detail = |suffix: &'static str| {
        details
            .iter()
            .filter(move |d| d["@type"].as_str().is_some_and(|t| t.ends_with(suffix)))
    };
    let per_day = detail("QuotaFailure")
        .flat_map(|d| d["violations"].as_array().into_iter().flatten())
        .filter_map(|v| v["quotaId"].as_str())
        .find(|id| id.contains("PerDay"));
    if let Some(quota) = per_day {
        return PlatformError::QuotaExhausted {
            message: format!("{message} (daily quota {quota}: wait for the daily reset)"),
        };
    }
    let api_key_invalid = detail("ErrorInfo").any(|d| d["reason"].as_str() == Some("API_KEY_INVALID"));
    if api_key_invalid || matches!(status_name, Some("UNAUTHENTICATED" | "PERMISSION_DENIED")) {
        return PlatformError::Auth { message };
    }
    if reply.status.as_u16() == 429 || status_name == Some("RESOURCE_EXHAUSTED") {
        let retry_delay = detail("RetryInfo").find_map(|d| d["retryDelay"].as_str().and_then(parse_delay));
        return PlatformError::RateLimited {
            retry_after: retry_delay.or_else(|| http::retry_after(&reply.headers)),
            message,
        };
    }
    if status_name == Some("UNAVAILABLE") {
        return PlatformError::Overloaded { message };
    }
    http::by_status(reply.status, message, None)
}

/// A protobuf JSON duration: "34s", "0.250s".
fn parse_delay(text: &str) -> Option<Duration> {
    let seconds: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_separates_cached_prompt_and_thinking() {
        let u: UsageMetadata = serde_json::from_str(
            r#"{"promptTokenCount": 1500, "candidatesTokenCount": 220, "totalTokenCount": 2120,
                "cachedContentTokenCount": 1024, "thoughtsTokenCount": 400,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1500}]}"#,
        )
        .unwrap();
        let n = u.normalise();
        assert_eq!(
            n,
            Usage {
                input_uncached: 476,
                cache_read: 1024,
                cache_write: 0,
                output: 220,
                reasoning: 400
            }
        );
        assert_eq!(n.total(), 2120);
    }

    #[test]
    fn retry_delay_is_a_protobuf_duration() {
        assert_eq!(parse_delay("34s"), Some(Duration::from_secs(34)));
        assert_eq!(parse_delay("0.250s"), Some(Duration::from_millis(250)));
        assert_eq!(parse_delay("34"), None);
        assert_eq!(parse_delay("-1s"), None);
    }
}
