//! Reliability and security through the real engine and HTTP adapters, against wiremock servers:
//! a provider echoing the key never leaks any long prefix of it (returned error, stored error and
//! attempts, on both backends); a strict task is never sent to another platform; and failed
//! calls count toward the request quota, retries included, so a limit of 3 means 3 requests.

use crate::adapter_support;

use std::sync::Arc;
use std::time::Duration;

use adapter_support::{KEY, config};
use talab_orchestrator::adapters::{AnthropicAdapter, GeminiAdapter, OpenAiAdapter};
use talab_orchestrator::routing::STRICT_KEY;
use talab_orchestrator::{
    CooldownPolicy, Orchestrator, Platform, PlatformAdapter, PlatformQuota, PriceTable, QuotaConfig,
    QuotaUnit, RetryPolicy, TalabOrchestrator, Task, TaskResult, TaskType, execute_parallel,
};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// No run of this many leading characters of the key may appear anywhere.
const MIN_PREFIX: usize = 8;

const CHAT_OK: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini",
  "choices":[{"index":0,"message":{"role":"assistant","content":"fallback answer"},"finish_reason":"stop"}],
  "usage":{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13}}"#;
const GEMINI_OK: &str = r#"{"candidates":[{"content":{"parts":[{"text":"fallback answer"}],"role":"model"},
  "finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":3,"totalTokenCount":13},
  "modelVersion":"gemini-2.5-flash"}"#;

/// A server answering every POST with `template`.
async fn server(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

/// A plain-text 500 whose body echoes the key (as some proxies and servers do).
fn echoing_500() -> ResponseTemplate {
    ResponseTemplate::new(500).set_body_string(format!("Internal error: upstream rejected key {KEY}"))
}

fn claude(server: &MockServer) -> Arc<dyn PlatformAdapter> {
    Arc::new(
        AnthropicAdapter::new(
            &config(server, "", None),
            Arc::new(PriceTable::builtin()),
            CALL_TIMEOUT,
        )
        .unwrap(),
    )
}

fn chatgpt(server: &MockServer) -> Arc<dyn PlatformAdapter> {
    Arc::new(
        OpenAiAdapter::new(
            &config(server, "", None),
            Arc::new(PriceTable::builtin()),
            CALL_TIMEOUT,
        )
        .unwrap(),
    )
}

fn gemini(server: &MockServer) -> Arc<dyn PlatformAdapter> {
    Arc::new(
        GeminiAdapter::new(
            &config(server, "", None),
            Arc::new(PriceTable::builtin()),
            CALL_TIMEOUT,
        )
        .unwrap(),
    )
}

/// Quick retries and no cool-down, so every test is fast and each task meets the same platforms.
fn quick(orch: TalabOrchestrator, attempts: u32) -> TalabOrchestrator {
    orch.with_retry(RetryPolicy::new(
        attempts,
        Duration::from_millis(1),
        Duration::from_millis(2),
    ))
    .with_cooldown(CooldownPolicy {
        failures: 0,
        period: Duration::ZERO,
    })
}

/// The first prefix of the key, 8 characters or longer, that `text` contains.
fn leaked_prefix(text: &str) -> Option<&'static str> {
    (MIN_PREFIX..=KEY.len())
        .map(|n| &KEY[..n])
        .find(|p| text.contains(p))
}

fn assert_no_prefix(what: &str, text: &str) {
    assert_eq!(leaked_prefix(text), None, "{what} holds part of the key: {text}");
}

#[tokio::test]
async fn an_echoed_key_leaves_no_prefix_in_the_error_nor_the_stored_task() {
    let mock = server(echoing_500()).await;
    // The adapter's own error, as it is returned (and printed on stderr by `talab run`).
    let direct = claude(&mock)
        .execute(&Task::new(TaskType::CodeGeneration, "hello"))
        .await
        .expect_err("a 500 is an error");
    assert!(direct.message().contains("HTTP 500"), "{direct}");
    for text in [direct.to_string(), format!("{direct:?}")] {
        assert_no_prefix("the adapter's error", &text);
    }

    for t in talab_db::testing::backends().await {
        let orch = TalabOrchestrator::open(t.db.clone(), vec![claude(&mock)], QuotaConfig::default())
            .await
            .unwrap();
        let orch = quick(orch, 2);
        let result = orch
            .execute(
                Task::new(TaskType::CodeGeneration, "hello").with_hint(Platform::Claude),
                true,
            )
            .await;
        assert!(!result.success, "{}", t.label());
        assert_no_prefix("the result", &serde_json::to_string(&result).unwrap());

        let id = result.metadata["task_id"].as_str().expect("stored").to_string();
        let stored = orch.store().get(&id).await.unwrap().expect("the task was stored");
        let error = stored.result.error.clone().unwrap();
        assert!(error.contains("HTTP 500"), "{}: {error}", t.label());
        assert_no_prefix("the stored error", &error);
        let attempts = &stored.result.metadata["attempts"];
        assert_eq!(
            attempts.as_array().map(Vec::len),
            Some(2),
            "{}: {attempts}",
            t.label()
        );
        assert_no_prefix("the stored attempts", &attempts.to_string());
        assert_no_prefix("the stored task", &serde_json::to_string(&stored).unwrap());
    }
}

/// Claude (answering `claude_answer`) and working OpenAI and Gemini servers behind one engine.
struct ThreePlatforms {
    claude: MockServer,
    chatgpt: MockServer,
    gemini: MockServer,
}

impl ThreePlatforms {
    async fn new(claude_answer: ResponseTemplate) -> Self {
        let ok = |body: &str| {
            ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/json")
        };
        ThreePlatforms {
            claude: server(claude_answer).await,
            chatgpt: server(ok(CHAT_OK)).await,
            gemini: server(ok(GEMINI_OK)).await,
        }
    }

    async fn run(&self, db: &talab_db::Database, task: Task) -> TaskResult {
        let adapters = vec![claude(&self.claude), chatgpt(&self.chatgpt), gemini(&self.gemini)];
        let orch = TalabOrchestrator::open(db.clone(), adapters, QuotaConfig::default())
            .await
            .unwrap();
        quick(orch, 2).execute(task, true).await
    }

    async fn requests(server: &MockServer) -> usize {
        server.received_requests().await.expect("recording is on").len()
    }

    /// Requests received by (claude, chatgpt, gemini).
    async fn counts(&self) -> (usize, usize, usize) {
        (
            Self::requests(&self.claude).await,
            Self::requests(&self.chatgpt).await,
            Self::requests(&self.gemini).await,
        )
    }
}

#[tokio::test]
async fn a_strict_task_never_reaches_another_platform() {
    let t = talab_db::testing::sqlite().await;
    // Research prefers chatgpt and gemini; the hint puts claude first.
    let task = || Task::new(TaskType::Research, "secret plans").with_hint(Platform::Claude);

    // The control: without --strict, a failing claude falls back (so the setup can route elsewhere).
    let loose = ThreePlatforms::new(ResponseTemplate::new(500)).await;
    let result = loose.run(&t.db, task()).await;
    assert!(result.success, "{:?}", result.error);
    assert_ne!(result.platform, Platform::Claude);

    for status in [401, 500] {
        let platforms = ThreePlatforms::new(ResponseTemplate::new(status)).await;
        let result = platforms.run(&t.db, task().with_metadata(STRICT_KEY, true)).await;
        assert!(
            !result.success,
            "HTTP {status}: the strict task must fail with claude"
        );
        assert_eq!(result.platform, Platform::Claude);
        let (claude, chatgpt, gemini) = platforms.counts().await;
        assert!(claude >= 1, "HTTP {status}: claude was not called");
        assert_eq!(
            (chatgpt, gemini),
            (0, 0),
            "HTTP {status}: the prompt went elsewhere"
        );
        let attempts = result.metadata["attempts"].as_array().unwrap();
        assert!(
            attempts.iter().all(|a| a["platform"] == "claude"),
            "HTTP {status}: {attempts:?}"
        );
    }
}

#[tokio::test]
async fn failed_calls_and_their_retries_count_toward_the_request_quota() {
    for t in talab_db::testing::backends().await {
        let mock = server(ResponseTemplate::new(500).set_body_string("upstream failed")).await;
        let quota = QuotaConfig::default().with(
            Platform::Claude,
            PlatformQuota {
                requests_per_day: Some(3),
                daily_budget_usd: Some(5.0),
                ..PlatformQuota::default()
            },
        );
        let orch = TalabOrchestrator::open(t.db.clone(), vec![claude(&mock)], quota)
            .await
            .unwrap();
        // Four calls per task: without the quota, four tasks would make 16 requests.
        let orch = Arc::new(quick(orch, 4));
        let tasks = (0..4)
            .map(|i| Task::new(TaskType::CodeGeneration, format!("task {i}")))
            .collect();
        let results = execute_parallel(&orch, tasks, 4).await;
        assert!(results.iter().all(|r| !r.success), "{}", t.label());

        let received = mock.received_requests().await.unwrap().len();
        assert_eq!(received, 3, "{}: requests sent past the quota", t.label());
        let lines = orch.quota().report().await.unwrap();
        let line = |unit| {
            lines
                .iter()
                .find(|l| l.platform == Platform::Claude && l.unit == unit)
                .map(|l| (l.used, l.reserved))
        };
        assert_eq!(line(QuotaUnit::Requests), Some((3, 0)), "{}", t.label());
        // A failed call reported no usage: it costs nothing.
        assert_eq!(line(QuotaUnit::UsdMicros), Some((0, 0)), "{}", t.label());
        assert_eq!(orch.ledger().total(None).await.unwrap().calls, 0, "{}", t.label());
        let refused = results
            .iter()
            .filter(|r| r.error.as_deref().is_some_and(|e| e.contains("quota")))
            .count();
        assert!(refused >= 1, "{}: {results:?}", t.label());
    }
}

/// NUL: a prompt holding one is refused before any call (and the refusal is recorded); an answer
/// holding one is stored with U+FFFD, with its cost, on both backends — the paid call that went
/// unrecorded on PostgreSQL.
#[tokio::test]
async fn nul_prompts_are_refused_and_nul_answers_are_recorded() {
    const ANSWER_WITH_NUL: &str = r#"{"id":"msg_1","type":"message","role":"assistant",
      "model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"before\u0000after"}],
      "stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":2000,"output_tokens":500}}"#;
    let answering = server(
        ResponseTemplate::new(200).set_body_raw(ANSWER_WITH_NUL.as_bytes().to_vec(), "application/json"),
    )
    .await;
    for t in talab_db::testing::backends().await {
        let orch = TalabOrchestrator::open(t.db.clone(), vec![claude(&answering)], QuotaConfig::default())
            .await
            .unwrap();
        let orch = quick(orch, 1);
        let before = answering.received_requests().await.unwrap().len();
        let refused = orch
            .execute(
                Task::new(TaskType::CodeGeneration, "a\0b").with_hint(Platform::Claude),
                true,
            )
            .await;
        assert!(!refused.success, "{}", t.label());
        assert!(
            refused.error.as_deref().unwrap().contains("NUL character"),
            "{:?}",
            refused.error
        );
        assert_eq!(
            answering.received_requests().await.unwrap().len(),
            before,
            "nothing was sent"
        );
        let id = refused.metadata["task_id"]
            .as_str()
            .expect("the refusal was stored");
        let stored = orch.store().get(id).await.unwrap().unwrap();
        assert_eq!(stored.result.task.prompt, "a\u{FFFD}b", "{}", t.label());

        let answered = orch
            .execute(
                Task::new(TaskType::CodeGeneration, "hello").with_hint(Platform::Claude),
                true,
            )
            .await;
        assert!(answered.success, "{}: {:?}", t.label(), answered.error);
        assert!(answered.cost > 0.0);
        let id = answered.metadata["task_id"]
            .as_str()
            .expect("the paid call was stored");
        let stored = orch.store().get(id).await.unwrap().unwrap();
        assert_eq!(stored.result.output, "before\u{FFFD}after", "{}", t.label());
        assert_eq!(stored.result.cost, answered.cost, "{}", t.label());
    }
}
