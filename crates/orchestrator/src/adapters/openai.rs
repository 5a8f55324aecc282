//! OpenAI Chat Completions (`POST {base}/v1/chat/completions`), which Ollama, vLLM and LM Studio
//! also speak: the key is optional and the base URL may end in `/v1` or not. OpenAI's
//! `prompt_tokens` include cached tokens and `completion_tokens` include reasoning tokens, so both
//! are subtracted to keep [`Usage`]'s fields disjoint; `insufficient_quota` is QuotaExhausted.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::AUTHORIZATION;
use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{self, HttpCore, Reply};
use super::render_context;
use crate::{
    AdapterOutput, HttpPlatformConfig, OrchestratorError, Platform, PlatformAdapter, PlatformError,
    PlatformStatus, PriceTable, Task, Usage,
};

/// OpenAI's API server.
pub const OPENAI_DEFAULT_BASE_URL: &str = "https://api.openai.com";
/// The model asked for when none is configured.
pub const OPENAI_DEFAULT_MODEL: &str = "gpt-4o";

/// ChatGPT through the OpenAI API, or any OpenAI-compatible server.
#[derive(Debug)]
pub struct OpenAiAdapter {
    core: HttpCore,
}

impl OpenAiAdapter {
    /// From the `chatgpt` settings; each call is bounded by `timeout`.
    pub fn new(
        cfg: &HttpPlatformConfig,
        prices: Arc<PriceTable>,
        timeout: Duration,
    ) -> Result<Self, OrchestratorError> {
        let core = HttpCore::new(
            Platform::Chatgpt,
            cfg,
            OPENAI_DEFAULT_BASE_URL,
            OPENAI_DEFAULT_MODEL,
            prices,
            timeout,
        )?;
        Ok(OpenAiAdapter { core })
    }

    fn body(&self, task: &Task) -> Value {
        let mut messages = Vec::new();
        if let Some(system) = render_context(task) {
            messages.push(json!({"role": "system", "content": system}));
        }
        messages.push(json!({"role": "user", "content": task.prompt}));
        json!({"model": self.core.model, "messages": messages})
    }

    async fn call(&self, task: &Task) -> Result<AdapterOutput, PlatformError> {
        let headers = self
            .core
            .key_header("Bearer ")?
            .map(|v| (AUTHORIZATION, v))
            .into_iter()
            .collect();
        let reply = self
            .core
            .post(
                &self.core.url("v1", "chat/completions"),
                headers,
                &self.body(task),
            )
            .await?;
        if !reply.status.is_success() {
            return Err(classify(&reply));
        }
        let response: ChatResponse = self.core.parse_json(&reply)?;
        let Some(choice) = response.choices.into_iter().next() else {
            return Err(PlatformError::Transient {
                message: "the response has no choices".into(),
            });
        };
        let text = match (choice.message.content, choice.message.refusal) {
            (Some(text), _) => text,
            (None, Some(refusal)) => {
                return Err(PlatformError::BadRequest {
                    message: format!("the model refused: {refusal}"),
                });
            }
            (None, None) => String::new(),
        };
        let model = response.model.unwrap_or_else(|| self.core.model.clone());
        Ok(self.core.output(
            text,
            model,
            response.usage.map(|u| u.normalise()).unwrap_or_default(),
        ))
    }
}

#[async_trait::async_trait]
impl PlatformAdapter for OpenAiAdapter {
    fn platform(&self) -> Platform {
        Platform::Chatgpt
    }

    fn status(&self) -> PlatformStatus {
        self.core.status(true)
    }

    async fn execute(&self, task: &Task) -> Result<AdapterOutput, PlatformError> {
        self.call(task).await.map_err(|e| self.core.scrub(e))
    }
}

#[derive(Deserialize)]
struct ChatResponse {
    #[serde(default)]
    model: Option<String>,
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<ChatUsage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct ChatUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

impl ChatUsage {
    fn normalise(&self) -> Usage {
        let cached = self
            .prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens)
            .unwrap_or(0)
            .min(self.prompt_tokens);
        let reasoning = self
            .completion_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens)
            .unwrap_or(0)
            .min(self.completion_tokens);
        Usage {
            input_uncached: self.prompt_tokens - cached,
            cache_read: cached,
            cache_write: 0,
            output: self.completion_tokens - reasoning,
            reasoning,
        }
    }
}

fn classify(reply: &Reply) -> PlatformError {
    let body = http::error_json(reply);
    let error = &body["error"];
    let code = error["code"].as_str();
    let kind = error["type"].as_str();
    let provider_message = error["message"].as_str();
    let message = http::describe(reply.status, code.or(kind), provider_message, &reply.body);
    if code == Some("insufficient_quota") || kind == Some("insufficient_quota") {
        return PlatformError::QuotaExhausted { message };
    }
    if reply.status.as_u16() == 429 {
        let retry_after =
            http::retry_after(&reply.headers).or_else(|| provider_message.and_then(try_again_in));
        return PlatformError::RateLimited { retry_after, message };
    }
    if code == Some("invalid_api_key") {
        return PlatformError::Auth { message };
    }
    http::by_status(reply.status, message, None)
}

/// The wait in OpenAI's rate-limit message: "Please try again in 1.02s" / "in 250ms".
fn try_again_in(message: &str) -> Option<Duration> {
    let rest = &message[message.find("try again in ")? + "try again in ".len()..];
    let number: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let value: f64 = number.parse().ok()?;
    let unit = &rest[number.len()..];
    if unit.starts_with("ms") {
        Some(Duration::from_secs_f64(value / 1000.0))
    } else if unit.starts_with('s') {
        Some(Duration::from_secs_f64(value))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_subtracts_cached_and_reasoning_tokens() {
        let u: ChatUsage = serde_json::from_str(
            r#"{"prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
                "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 192, "audio_tokens": 0,
                  "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}"#,
        )
        .unwrap();
        let n = u.normalise();
        assert_eq!(
            n,
            Usage {
                input_uncached: 86,
                cache_read: 1920,
                cache_write: 0,
                output: 108,
                reasoning: 192
            }
        );
        assert_eq!(n.total(), 2306);
        // Ollama and older servers send no details.
        let plain: ChatUsage =
            serde_json::from_str(r#"{"prompt_tokens": 26, "completion_tokens": 9}"#).unwrap();
        assert_eq!(
            (plain.normalise().input_uncached, plain.normalise().output),
            (26, 9)
        );
    }

    #[test]
    fn try_again_in_reads_seconds_and_milliseconds() {
        let m = "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, \
                 Used 29500, Requested 1200. Please try again in 1.4s. Visit https://platform.openai.com";
        assert_eq!(try_again_in(m), Some(Duration::from_millis(1400)));
        assert_eq!(
            try_again_in("Please try again in 250ms."),
            Some(Duration::from_millis(250))
        );
        assert_eq!(try_again_in("Please try again in a moment"), None);
        assert_eq!(try_again_in("no hint"), None);
    }
}
