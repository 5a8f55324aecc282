//! The OpenAI-compatible adapter against a wiremock server answering with Chat Completions'
//! real shapes (OpenAI itself, and an Ollama-style keyless server under `/v1`).

use crate::adapter_support;

use std::sync::Arc;
use std::time::Duration;

use adapter_support::*;
use talab_orchestrator::adapters::OpenAiAdapter;
use talab_orchestrator::{HttpPlatformConfig, Platform, PlatformAdapter, PlatformError, PriceTable, Usage};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer};

const SUCCESS: &str = r#"{
  "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
  "object": "chat.completion",
  "created": 1741570283,
  "model": "o4-mini-2025-04-16",
  "choices": [{"index": 0,
               "message": {"role": "assistant", "content": "The 20-period EMA crossed the 50-period EMA upward.",
                           "refusal": null, "annotations": []},
               "logprobs": null, "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
            "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 192, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
  "service_tier": "default",
  "system_fingerprint": "fp_fc9f1d7035"
}"#;

const OLLAMA: &str = r#"{"id":"chatcmpl-123","object":"chat.completion","created":1728000000,"model":"llama3.1:8b",
  "system_fingerprint":"fp_ollama","choices":[{"index":0,"message":{"role":"assistant","content":"Bullish crossover."},
  "finish_reason":"stop"}],"usage":{"prompt_tokens":26,"completion_tokens":9,"total_tokens":35}}"#;

fn adapter(cfg: &HttpPlatformConfig) -> OpenAiAdapter {
    OpenAiAdapter::new(cfg, Arc::new(PriceTable::builtin()), TIMEOUT).unwrap()
}

fn error_body(message: &str, kind: &str, code: Option<&str>) -> String {
    serde_json::json!({"error": {"message": message, "type": kind, "param": null, "code": code}}).to_string()
}

#[tokio::test]
async fn success_subtracts_cached_and_reasoning_tokens_and_prices_them() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(json(200, SUCCESS))
        .mount(&server)
        .await;
    let gpt = adapter(&config(&server, "", Some("o4-mini")));
    assert_eq!(gpt.platform(), Platform::Chatgpt);
    let out = gpt.execute(&task()).await.unwrap();
    assert_eq!(out.output, "The 20-period EMA crossed the 50-period EMA upward.");
    assert_eq!(out.model, "o4-mini-2025-04-16");
    assert_eq!(
        out.usage,
        Usage {
            input_uncached: 86,
            cache_read: 1920,
            cache_write: 0,
            output: 108,
            reasoning: 192
        }
    );
    // o4-mini: $1.10 / $4.40 per million, cached $0.275; reasoning billed as output.
    let expected = 86.0 * 1.1e-6 + 1920.0 * 2.75e-7 + 300.0 * 4.4e-6;
    assert!(
        close(out.cost_usd.unwrap(), expected) && close(expected, 0.001_942_6),
        "{:?}",
        out.cost_usd
    );

    let (body, _) = only_request(&server).await;
    assert_eq!(body["model"], "o4-mini");
    assert_eq!(body["messages"][0]["role"], "system");
    assert!(
        body["messages"][0]["content"].as_str().unwrap().contains(MEMORY),
        "{body}"
    );
    assert_eq!(
        body["messages"][1],
        serde_json::json!({"role": "user", "content": PROMPT})
    );
}

#[tokio::test]
async fn keyless_server_with_v1_base_works_and_unknown_model_costs_zero() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(json(200, OLLAMA))
        .mount(&server)
        .await;
    let cfg = HttpPlatformConfig {
        api_key: None,
        base_url: Some(format!("{}/v1/", server.uri())),
        model: Some("llama3.1:8b".into()),
    };
    let ollama = adapter(&cfg);
    assert!(ollama.status().usable(), "{:?}", ollama.status());
    let openai_without_key = adapter(&HttpPlatformConfig::default());
    assert_eq!(openai_without_key.status().message, "OPENAI_API_KEY is not set");
    let out = ollama.execute(&task()).await.unwrap();
    assert_eq!(
        (out.output.as_str(), out.model.as_str()),
        ("Bullish crossover.", "llama3.1:8b")
    );
    assert_eq!((out.usage.input_uncached, out.usage.output), (26, 9));
    assert_eq!(out.cost_usd, Some(0.0));
    assert!(!PriceTable::builtin().cost(&out.model, &out.usage).known);
    let (_, request) = only_request(&server).await;
    assert!(!request.headers.contains_key("authorization"));
}

#[tokio::test]
async fn rate_limits_quota_overload_and_auth_are_told_apart() {
    let server = MockServer::start().await;
    let gpt = adapter(&config(&server, "", None));
    let limited = "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, \
                   Used 29500, Requested 1200. Please try again in 1.4s. Visit https://platform.openai.com/account/rate-limits.";
    let e = error_for(
        &gpt,
        &server,
        json(429, &error_body(limited, "tokens", Some("rate_limit_exceeded"))),
    )
    .await;
    assert!(matches!(e, PlatformError::RateLimited { .. }), "{e:?}");
    assert_eq!(e.retry_after(), Some(Duration::from_millis(1400)));
    let with_header = json(429, &error_body(limited, "tokens", Some("rate_limit_exceeded")))
        .insert_header("retry-after", "7");
    assert_eq!(
        error_for(&gpt, &server, with_header).await.retry_after(),
        Some(Duration::from_secs(7))
    );
    answer(&server, json(200, SUCCESS)).await;
    assert!(gpt.execute(&task()).await.is_ok());

    let quota = "You exceeded your current quota, please check your plan and billing details.";
    let cases = [
        (
            json(
                429,
                &error_body(quota, "insufficient_quota", Some("insufficient_quota")),
            ),
            "quota_exhausted",
        ),
        (
            json(
                503,
                &error_body("The server is overloaded or not ready yet.", "server_error", None),
            ),
            "overloaded",
        ),
        (
            json(
                401,
                &error_body(
                    "Incorrect API key provided: sk-test-****7c.",
                    "invalid_request_error",
                    Some("invalid_api_key"),
                ),
            ),
            "auth",
        ),
        (
            json(
                400,
                &error_body(
                    "This model's maximum context length is 128000 tokens.",
                    "invalid_request_error",
                    Some("context_length_exceeded"),
                ),
            ),
            "bad_request",
        ),
        (
            json(
                404,
                &error_body(
                    "The model `gpt-9` does not exist",
                    "invalid_request_error",
                    Some("model_not_found"),
                ),
            ),
            "bad_request",
        ),
        (
            json(
                500,
                &error_body(
                    "The server had an error while processing your request.",
                    "server_error",
                    None,
                ),
            ),
            "transient",
        ),
    ];
    for (template, class) in cases {
        let e = error_for(&gpt, &server, template).await;
        assert_eq!(e.class(), class, "{e}");
    }
    let e = error_for(
        &gpt,
        &server,
        json(
            429,
            &error_body(quota, "insufficient_quota", Some("insufficient_quota")),
        ),
    )
    .await;
    assert_eq!(e.message(), format!("HTTP 429 insufficient_quota: {quota}"));
    assert!(e.should_fall_back());
}

#[tokio::test]
async fn malformed_html_and_slow_answers() {
    let server = MockServer::start().await;
    let gpt = adapter(&config(&server, "", None));
    let e = error_for(
        &gpt,
        &server,
        json(200, "{\"id\": \"chatcmpl-1\", \"choices\": ["),
    )
    .await;
    assert!(e.message().starts_with("the response JSON is truncated"), "{e}");
    let e = error_for(&gpt, &server, json(200, "data: {\"id\":1}")).await;
    assert!(e.message().starts_with("the response is not valid JSON"), "{e}");
    let e = error_for(&gpt, &server, json(200, r#"{"id":"x","choices":[]}"#)).await;
    assert_eq!(e.message(), "the response has no choices");
    let e = error_for(&gpt, &server, html(502)).await;
    assert_eq!(
        (e.class(), e.message()),
        ("transient", "HTTP 502 with an HTML page (\"502 Bad Gateway\")")
    );
    let e = error_for(&gpt, &server, json(200, SUCCESS).set_delay(TIMEOUT * 4)).await;
    assert_eq!(e.class(), "timeout", "{e}");
    assert!(!format!("{gpt:?}").contains(KEY));
}
