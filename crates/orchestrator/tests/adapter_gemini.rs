//! The Gemini adapter against a wiremock server answering with generateContent's real shapes,
//! including `RESOURCE_EXHAUSTED` with `RetryInfo` and a per-day `QuotaFailure`.

use crate::adapter_support;

use std::sync::Arc;
use std::time::Duration;

use adapter_support::*;
use serde_json::json as j;
use talab_orchestrator::adapters::GeminiAdapter;
use talab_orchestrator::{Platform, PlatformAdapter, PlatformError, PriceTable, Usage};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer};

const SUCCESS: &str = r#"{
  "candidates": [{"content": {"parts": [{"text": "Momentum", "thought": false}, {"text": " turned up."}], "role": "model"},
                  "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 1500, "candidatesTokenCount": 220, "totalTokenCount": 2120,
                    "cachedContentTokenCount": 1024,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1500}],
                    "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 1024}],
                    "thoughtsTokenCount": 400},
  "modelVersion": "gemini-2.5-flash",
  "responseId": "mAitaLmkHPPlz7IPvtfUqQ4"
}"#;

fn adapter(server: &MockServer) -> GeminiAdapter {
    GeminiAdapter::new(
        &config(server, "", None),
        Arc::new(PriceTable::builtin()),
        TIMEOUT,
    )
    .unwrap()
}

fn exhausted(quota_id: &str, delay: &str) -> String {
    j!({"error": {"code": 429,
        "message": "You exceeded your current quota, please check your plan and billing details.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
          {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
           "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                           "quotaId": quota_id,
                           "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"},
                           "quotaValue": "10"}]},
          {"@type": "type.googleapis.com/google.rpc.Help",
           "links": [{"description": "Learn more about Gemini API quotas",
                      "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
          {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}]}})
    .to_string()
}

#[tokio::test]
async fn success_separates_cache_and_thinking_and_prices_them() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1beta/models/gemini-2.5-flash:generateContent"))
        .and(header("x-goog-api-key", KEY))
        .respond_with(json(200, SUCCESS))
        .mount(&server)
        .await;
    let gemini = adapter(&server);
    assert_eq!(gemini.platform(), Platform::Gemini);
    let out = gemini.execute(&task()).await.unwrap();
    assert_eq!(out.output, "Momentum turned up.");
    assert_eq!(out.model, "gemini-2.5-flash");
    assert_eq!(
        out.usage,
        Usage {
            input_uncached: 476,
            cache_read: 1024,
            cache_write: 0,
            output: 220,
            reasoning: 400
        }
    );
    // $0.30 / $2.50 per million, cached $0.03; thinking billed as output.
    let expected = 476.0 * 3e-7 + 1024.0 * 3e-8 + 620.0 * 2.5e-6;
    assert!(
        close(out.cost_usd.unwrap(), expected) && close(expected, 0.001_723_52),
        "{:?}",
        out.cost_usd
    );

    let (body, request) = only_request(&server).await;
    assert!(
        request.url.query().is_none(),
        "the key goes in a header, not the URL"
    );
    assert_eq!(body["contents"][0]["parts"][0]["text"], PROMPT);
    assert!(
        body["systemInstruction"]["parts"][0]["text"]
            .as_str()
            .unwrap()
            .contains(MEMORY),
        "{body}"
    );
}

#[tokio::test]
async fn per_minute_exhaustion_waits_retry_delay_but_per_day_is_quota_exhausted() {
    let server = MockServer::start().await;
    let gemini = adapter(&server);
    let e = error_for(
        &gemini,
        &server,
        json(
            429,
            &exhausted("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "34s"),
        ),
    )
    .await;
    assert!(matches!(e, PlatformError::RateLimited { .. }), "{e:?}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(34)));
    answer(&server, json(200, SUCCESS)).await;
    assert!(gemini.execute(&task()).await.is_ok());

    let e = error_for(
        &gemini,
        &server,
        json(
            429,
            &exhausted("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "12s"),
        ),
    )
    .await;
    assert!(matches!(e, PlatformError::QuotaExhausted { .. }), "{e:?}");
    assert!(
        e.message().ends_with(
            "(daily quota GenerateRequestsPerDayPerProjectPerModel-FreeTier: wait for the daily reset)"
        ),
        "{e}"
    );
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn overload_auth_and_bad_requests() {
    let server = MockServer::start().await;
    let gemini = adapter(&server);
    let err = |code: u16, status: &str, message: &str| {
        json(
            code,
            &j!({"error": {"code": code, "message": message, "status": status}}).to_string(),
        )
    };
    let key_invalid = j!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
        "status": "INVALID_ARGUMENT",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                     "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}]}});
    let cases = [
        (
            err(
                503,
                "UNAVAILABLE",
                "The model is overloaded. Please try again later.",
            ),
            "overloaded",
        ),
        (json(400, &key_invalid.to_string()), "auth"),
        (
            err(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers.",
            ),
            "auth",
        ),
        (
            err(
                400,
                "INVALID_ARGUMENT",
                "* GenerateContentRequest.contents: contents is not specified",
            ),
            "bad_request",
        ),
        (
            err(
                404,
                "NOT_FOUND",
                "models/gemini-9 is not found for API version v1beta",
            ),
            "bad_request",
        ),
        (
            err(500, "INTERNAL", "An internal error has occurred."),
            "transient",
        ),
    ];
    for (template, class) in cases {
        let e = error_for(&gemini, &server, template).await;
        assert_eq!(e.class(), class, "{e}");
    }
    let blocked = json(
        200,
        r#"{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":8}}"#,
    );
    let e = error_for(&gemini, &server, blocked).await;
    assert_eq!(
        e.message(),
        "Gemini returned no candidate (prompt blocked: SAFETY)"
    );
}

#[tokio::test]
async fn malformed_html_and_slow_answers() {
    let server = MockServer::start().await;
    let gemini = adapter(&server);
    let e = error_for(&gemini, &server, json(200, &SUCCESS[..40])).await;
    assert!(e.message().starts_with("the response JSON is truncated"), "{e}");
    let e = error_for(&gemini, &server, html(200)).await;
    assert_eq!(e.class(), "transient");
    assert!(e.message().contains("HTML page"), "{e}");
    let e = error_for(&gemini, &server, json(200, SUCCESS).set_delay(TIMEOUT * 4)).await;
    assert_eq!(e.class(), "timeout", "{e}");
}
