//! Shared by the adapter tests: a key that must never leak, a task with memory context, mock
//! servers answering once with a real provider body, and the checks every error must pass.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::Value;
use talab_orchestrator::{HttpPlatformConfig, PlatformAdapter, PlatformError, Secret, Task, TaskType};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

pub const KEY: &str = "sk-test-SECRET-4f9a2b7c";
pub const MEMORY: &str = "BTC EMA-20 crossed above EMA-50 on 2024-03-01";
pub const PROMPT: &str = "Summarise the BTC EMA crossover";
/// Long enough for a mock on this machine, short enough for the timeout test to be quick.
pub const TIMEOUT: Duration = Duration::from_millis(1500);

pub fn config(server: &MockServer, base_suffix: &str, model: Option<&str>) -> HttpPlatformConfig {
    HttpPlatformConfig {
        api_key: Some(Secret::new(KEY)),
        base_url: Some(format!("{}{base_suffix}", server.uri())),
        model: model.map(String::from),
    }
}

pub fn task() -> Task {
    Task::new(TaskType::Research, PROMPT).with_context("memory", MEMORY)
}

/// Answers every request with `template`.
pub async fn answer(server: &MockServer, template: ResponseTemplate) {
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(server)
        .await;
}

pub fn json(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

pub fn html(status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(
        b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>"
            .to_vec(),
        "text/html",
    )
}

/// The single request the server received, as JSON, with its headers.
pub async fn only_request(server: &MockServer) -> (Value, wiremock::Request) {
    let requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1, "exactly one HTTP call per execute");
    let request = requests.into_iter().next().unwrap();
    (
        serde_json::from_slice(&request.body).expect("request body is JSON"),
        request,
    )
}

/// Runs the task against `template` and returns the error, checking the key never shows.
pub async fn error_for(
    adapter: &dyn PlatformAdapter,
    server: &MockServer,
    template: ResponseTemplate,
) -> PlatformError {
    answer(server, template).await;
    let e = adapter
        .execute(&task())
        .await
        .expect_err("this answer is an error");
    assert_no_key(&e);
    e
}

pub fn assert_no_key(e: &PlatformError) {
    for text in [e.to_string(), format!("{e:?}"), e.message().to_string()] {
        assert!(!text.contains(KEY), "the key leaked: {text}");
    }
}

pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

/// A server address where nothing listens.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}
