//! The OpenAI-compatible HTTP embedder against a wiremock server answering in the real
//! `/v1/embeddings` shape: request body and auth, ordering by index, normalisation, batching,
//! and the errors for 401 / 429 / 5xx / malformed or inconsistent answers (never leaking the key).

use serde_json::{Value, json};
use talab_memory::embed::http::{HttpEmbedder, HttpEmbedderConfig};
use talab_memory::{Embedder, MemoryError};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const KEY: &str = "sk-test-0123456789abcdef";

/// Answers like OpenAI, in reverse index order: input `i` with text `t` gets
/// `[len(t), i + 1, 0]` (not normalised, so the client must do it).
struct EchoLengths;

impl Respond for EchoLengths {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let inputs = body["input"].as_array().unwrap();
        let mut data: Vec<Value> = inputs
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let len = text.as_str().unwrap().chars().count() as f32;
                json!({"object": "embedding", "index": i, "embedding": [len, (i + 1) as f32, 0.0]})
            })
            .collect();
        data.reverse();
        ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "data": data, "model": body["model"],
            "usage": {"prompt_tokens": 5, "total_tokens": 5}
        }))
    }
}

fn texts(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn http_error(result: Result<Vec<Vec<f32>>, MemoryError>) -> String {
    match result {
        Err(error @ MemoryError::EmbedHttp { .. }) => {
            let message = error.to_string();
            assert!(!message.contains(KEY), "the key leaked into: {message}");
            message
        }
        other => panic!("expected an HTTP embedding error, got {other:?}"),
    }
}

async fn server_answering(template: ResponseTemplate) -> (MockServer, HttpEmbedder) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .respond_with(template)
        .mount(&server)
        .await;
    let config = HttpEmbedderConfig::new(server.uri(), "text-embedding-3-small").with_api_key(KEY);
    let embedder = HttpEmbedder::new(config, 3).unwrap();
    (server, embedder)
}

#[tokio::test]
async fn sends_model_input_and_key_and_returns_normalised_vectors_in_input_order() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(body_json(
            json!({"model": "text-embedding-3-small", "input": ["abc", "abcd"]}),
        ))
        .respond_with(EchoLengths)
        .expect(1)
        .mount(&server)
        .await;
    let config =
        HttpEmbedderConfig::new(format!("{}/", server.uri()), "text-embedding-3-small").with_api_key(KEY);
    let embedder = HttpEmbedder::new(config, 3).unwrap();
    let vectors = embedder.embed(&texts(&["abc", "abcd"])).await.unwrap();
    // [3, 1, 0] / sqrt(10) and [4, 2, 0] / sqrt(20).
    let expect = [
        [3.0 / 10f32.sqrt(), 1.0 / 10f32.sqrt(), 0.0],
        [4.0 / 20f32.sqrt(), 2.0 / 20f32.sqrt(), 0.0],
    ];
    for (got, want) in vectors.iter().zip(expect) {
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
        }
    }
    let identity = embedder.identity();
    assert_eq!(identity.name, "openai:text-embedding-3-small");
    assert_eq!(identity.dim, 3);
    assert_eq!(embedder.default_threshold(), 0.4);
    assert!(!format!("{embedder:?}").contains(KEY));
}

#[tokio::test]
async fn batches_requests_and_keeps_the_order_across_them() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .respond_with(EchoLengths)
        .expect(3)
        .mount(&server)
        .await;
    // A base URL ending in /v1 is accepted as well; no key means no Authorization header.
    let mut config = HttpEmbedderConfig::new(format!("{}/v1", server.uri()), "nomic-embed-text");
    config.batch_size = 2;
    let embedder = HttpEmbedder::new(config, 3).unwrap();
    let inputs = texts(&["a", "bb", "ccc", "dddd", "eeeee"]);
    let vectors = embedder.embed(&inputs).await.unwrap();
    assert_eq!(vectors.len(), 5);
    for (i, vector) in vectors.iter().enumerate() {
        let (len, position) = ((i + 1) as f32, (i % 2 + 1) as f32);
        let norm = (len * len + position * position).sqrt();
        assert!((vector[0] - len / norm).abs() < 1e-6, "input {i}: {vector:?}");
        assert!(
            (vector[1] - position / norm).abs() < 1e-6,
            "input {i}: {vector:?}"
        );
    }
    let requests = server.received_requests().await.unwrap();
    assert!(requests.iter().all(|r| !r.headers.contains_key("authorization")));
    assert!(embedder.embed(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn probe_learns_the_dimension() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .respond_with(EchoLengths)
        .mount(&server)
        .await;
    let embedder = HttpEmbedder::probe(HttpEmbedderConfig::new(server.uri(), "bge-small"))
        .await
        .unwrap();
    assert_eq!(embedder.identity().dim, 3);
}

#[tokio::test]
async fn unauthorized_names_the_problem_without_the_key() {
    let body = json!({"error": {"message": format!("Incorrect API key provided: {KEY}"), "type": "invalid_request_error"}});
    let (_server, embedder) = server_answering(ResponseTemplate::new(401).set_body_json(body)).await;
    let message = http_error(embedder.embed(&texts(&["x"])).await);
    assert!(message.contains("HTTP 401"), "{message}");
    assert!(message.contains("check the API key"), "{message}");
    assert!(message.contains("[redacted]"), "{message}");
}

#[tokio::test]
async fn rate_limited_says_when_to_retry() {
    let template = ResponseTemplate::new(429)
        .insert_header("retry-after", "20")
        .set_body_json(json!({"error": {"message": "Rate limit reached", "type": "requests"}}));
    let (_server, embedder) = server_answering(template).await;
    let message = http_error(embedder.embed(&texts(&["x"])).await);
    assert!(message.contains("HTTP 429"), "{message}");
    assert!(message.contains("wait 20 s (Retry-After)"), "{message}");
    assert!(message.contains("Rate limit reached"), "{message}");
}

#[tokio::test]
async fn server_errors_are_reported_with_the_status() {
    let (_server, embedder) =
        server_answering(ResponseTemplate::new(503).set_body_string("upstream overloaded")).await;
    let message = http_error(embedder.embed(&texts(&["x"])).await);
    assert!(
        message.contains("HTTP 503: the embeddings server failed"),
        "{message}"
    );
    assert!(message.contains("upstream overloaded"), "{message}");
    assert!(message.contains("/v1/embeddings"), "{message}");
}

#[tokio::test]
async fn malformed_json_is_an_error_quoting_the_body() {
    let (_server, embedder) =
        server_answering(ResponseTemplate::new(200).set_body_string("<html>proxy login</html>")).await;
    let message = http_error(embedder.embed(&texts(&["x"])).await);
    assert!(message.contains("not an embeddings response"), "{message}");
    assert!(message.contains("<html>proxy login</html>"), "{message}");
}

#[tokio::test]
async fn inconsistent_answers_are_refused() {
    let answer = |data: Value| ResponseTemplate::new(200).set_body_json(json!({"data": data, "model": "m"}));
    let cases = [
        (
            json!([{"index": 0, "embedding": [1.0, 0.0, 0.0]}, {"index": 1, "embedding": [1.0, 0.0]}]),
            "has 2 dimensions, expected 3",
        ),
        (
            json!([{"index": 0, "embedding": [1.0, 0.0, 0.0]}]),
            "sent 2 inputs but got 1 embeddings back",
        ),
        (
            json!([{"index": 0, "embedding": [1.0, 0.0, 0.0]}, {"index": 0, "embedding": [0.0, 1.0, 0.0]}]),
            "position 1 has index 0",
        ),
        (
            json!([{"index": 0, "embedding": [0.0, 0.0, 0.0]}, {"index": 1, "embedding": [0.0, 1.0, 0.0]}]),
            "embedding 0 is zero",
        ),
    ];
    for (data, expected) in cases {
        let (_server, embedder) = server_answering(answer(data)).await;
        let message = http_error(embedder.embed(&texts(&["x", "y"])).await);
        assert!(message.contains(expected), "expected {expected:?} in {message}");
    }
}

#[test]
fn invalid_configs_are_refused() {
    let config = HttpEmbedderConfig::new("http://127.0.0.1:9", "m");
    assert!(
        HttpEmbedder::new(config.clone(), 0)
            .unwrap_err()
            .to_string()
            .contains("dimension must be at least 1")
    );
    let mut zero_batch = config.clone();
    zero_batch.batch_size = 0;
    assert!(
        HttpEmbedder::new(zero_batch, 8)
            .unwrap_err()
            .to_string()
            .contains("batch_size must be at least 1")
    );
    let mut threshold = config;
    threshold.default_threshold = 1.5;
    assert!(matches!(HttpEmbedder::new(threshold, 8), Err(MemoryError::InvalidThreshold(t)) if t == 1.5));
}
