//! The Anthropic adapter against a wiremock server answering with the Messages API's real shapes.

use crate::adapter_support;

use std::sync::Arc;
use std::time::Duration;

use adapter_support::*;
use talab_orchestrator::adapters::AnthropicAdapter;
use talab_orchestrator::{Platform, PlatformAdapter, PlatformError, PriceTable, Usage};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer};

const SUCCESS: &str = r#"{
  "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
  "type": "message",
  "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [{"type": "text", "text": "EMA-20 moved above EMA-50: short-term momentum turned up."}],
  "stop_reason": "end_turn",
  "stop_sequence": null,
  "usage": {"input_tokens": 2095, "cache_creation_input_tokens": 250, "cache_read_input_tokens": 1800,
            "output_tokens": 503, "service_tier": "standard"}
}"#;

fn adapter(server: &MockServer) -> AnthropicAdapter {
    AnthropicAdapter::new(
        &config(server, "", None),
        Arc::new(PriceTable::builtin()),
        TIMEOUT,
    )
    .unwrap()
}

fn error_body(kind: &str, message: &str) -> String {
    serde_json::json!({"type": "error", "error": {"type": kind, "message": message},
                       "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"})
    .to_string()
}

#[tokio::test]
async fn success_parses_text_usage_model_and_cost_and_sends_the_right_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .respond_with(json(200, SUCCESS))
        .mount(&server)
        .await;
    let claude = adapter(&server);
    assert_eq!(claude.platform(), Platform::Claude);
    let out = claude.execute(&task()).await.unwrap();
    assert_eq!(
        out.output,
        "EMA-20 moved above EMA-50: short-term momentum turned up."
    );
    assert_eq!(out.model, "claude-sonnet-4-5-20250929");
    assert_eq!(
        out.usage,
        Usage {
            input_uncached: 2095,
            cache_read: 1800,
            cache_write: 250,
            output: 503,
            reasoning: 0
        }
    );
    // $3 / $15 per million, cache read $0.30, cache write $3.75.
    let expected = 2095.0 * 3e-6 + 1800.0 * 3e-7 + 250.0 * 3.75e-6 + 503.0 * 1.5e-5;
    assert!(
        close(out.cost_usd.unwrap(), expected) && close(expected, 0.015_307_5),
        "{:?}",
        out.cost_usd
    );

    let (body, _) = only_request(&server).await;
    assert_eq!(body["model"], "claude-sonnet-4-5");
    assert_eq!(body["max_tokens"], 4096);
    assert_eq!(body["messages"][0]["role"], "user");
    assert_eq!(body["messages"][0]["content"], PROMPT);
    assert!(body["system"].as_str().unwrap().contains(MEMORY), "{body}");
}

#[tokio::test]
async fn rate_limit_honours_retry_after_and_the_next_call_succeeds() {
    let server = MockServer::start().await;
    let claude = adapter(&server);
    let limited = json(429, &error_body("rate_limit_error",
        "This request would exceed the rate limit for your organization (a1b2c3) of 50 input tokens per minute."))
        .insert_header("retry-after", "20");
    let e = error_for(&claude, &server, limited).await;
    assert_eq!(e.retry_after(), Some(Duration::from_secs(20)));
    assert!(matches!(e, PlatformError::RateLimited { .. }), "{e:?}");
    assert!(
        e.message()
            .starts_with("HTTP 429 rate_limit_error: This request would exceed"),
        "{e}"
    );
    answer(&server, json(200, SUCCESS)).await;
    assert_eq!(claude.execute(&task()).await.unwrap().usage.output, 503);
}

#[tokio::test]
async fn errors_are_classified_from_status_and_body() {
    let server = MockServer::start().await;
    let claude = adapter(&server);
    let cases = [
        (
            json(529, &error_body("overloaded_error", "Overloaded")),
            "overloaded",
        ),
        (json(503, "{}"), "overloaded"),
        (
            json(401, &error_body("authentication_error", "invalid x-api-key")),
            "auth",
        ),
        (
            json(
                403,
                &error_body("permission_error", "Your API key does not have permission"),
            ),
            "auth",
        ),
        (
            json(
                400,
                &error_body(
                    "invalid_request_error",
                    "You have reached your specified API usage limits. You will regain access on 2025-12-01 at 00:00 UTC.",
                ),
            ),
            "quota_exhausted",
        ),
        (
            json(
                429,
                &error_body(
                    "rate_limit_error",
                    "Your workspace has reached its monthly spend limit.",
                ),
            ),
            "quota_exhausted",
        ),
        (
            json(
                400,
                &error_body(
                    "invalid_request_error",
                    "prompt is too long: 215000 tokens > 200000 maximum",
                ),
            ),
            "bad_request",
        ),
        (
            json(404, &error_body("not_found_error", "model: claude-nonexistent")),
            "bad_request",
        ),
        (
            json(500, &error_body("api_error", "Internal server error")),
            "transient",
        ),
    ];
    for (template, class) in cases {
        let e = error_for(&claude, &server, template).await;
        assert_eq!(e.class(), class, "{e}");
    }
}

#[tokio::test]
async fn bad_bodies_and_hangs_are_transient_or_timeout_with_a_clear_message() {
    let server = MockServer::start().await;
    let claude = adapter(&server);
    let truncated = &SUCCESS[..SUCCESS.len() / 2];
    let e = error_for(&claude, &server, json(200, truncated)).await;
    assert_eq!(e.class(), "transient");
    assert!(e.message().starts_with("the response JSON is truncated"), "{e}");

    let e = error_for(&claude, &server, html(502)).await;
    assert_eq!(e.message(), "HTTP 502 with an HTML page (\"502 Bad Gateway\")");
    let e = error_for(&claude, &server, html(200)).await;
    assert_eq!(
        (e.class(), e.message()),
        (
            "transient",
            "HTTP 200 with an HTML page (\"502 Bad Gateway\") instead of JSON"
        )
    );

    let e = error_for(
        &claude,
        &server,
        json(200, r#"{"type":"message","content":"oops"}"#),
    )
    .await;
    assert!(
        e.message()
            .starts_with("the response JSON is not the expected shape"),
        "{e}"
    );

    let slow = json(200, SUCCESS).set_delay(TIMEOUT * 4);
    let e = error_for(&claude, &server, slow).await;
    assert!(matches!(e, PlatformError::Timeout { .. }), "{e:?}");
}

#[tokio::test]
async fn no_server_is_transient_and_the_key_never_leaks() {
    let mut cfg = talab_orchestrator::HttpPlatformConfig {
        api_key: Some(talab_orchestrator::Secret::new(KEY)),
        base_url: Some(closed_port_url()),
        model: None,
    };
    let claude = AnthropicAdapter::new(&cfg, Arc::new(PriceTable::builtin()), TIMEOUT).unwrap();
    let e = claude.execute(&task()).await.unwrap_err();
    assert_eq!(e.class(), "transient");
    assert!(
        e.message().starts_with("cannot connect to http://127.0.0.1:"),
        "{e}"
    );
    assert_no_key(&e);
    let shown = format!("{claude:?} {:?}", claude.status());
    assert!(!shown.contains(KEY) && shown.contains("***"), "{shown}");

    // A provider that echoes the key back has it masked.
    let server = MockServer::start().await;
    cfg.base_url = Some(server.uri());
    let claude = AnthropicAdapter::new(&cfg, Arc::new(PriceTable::builtin()), TIMEOUT).unwrap();
    let echo = json(
        401,
        &error_body("authentication_error", &format!("invalid x-api-key: {KEY}")),
    );
    let e = error_for(&claude, &server, echo).await;
    assert_eq!(
        e.message(),
        "HTTP 401 authentication_error: invalid x-api-key: ***"
    );

    let keyless =
        AnthropicAdapter::new(&Default::default(), Arc::new(PriceTable::builtin()), TIMEOUT).unwrap();
    assert!(!keyless.status().configured);
    assert_eq!(keyless.execute(&task()).await.unwrap_err().class(), "auth");
}
