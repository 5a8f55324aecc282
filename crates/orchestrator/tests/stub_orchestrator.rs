//! The seed's orchestrator example test and the routing rules end to end through OrchestratorStub:
//! fallback on QuotaExhausted, strict hints, GSD tasks, failures reported inside the result.

use std::sync::Arc;

use serde_json::{Value, json};
use talab_orchestrator::stubs::{OrchestratorStub, StubAdapter};
use talab_orchestrator::{
    AdapterOutput, Attempt, Orchestrator, Platform, PlatformAdapter, PlatformError, PlatformStatus,
    RoutingDecision, Task, TaskType, Usage,
};

fn adapters(list: Vec<StubAdapter>) -> (Vec<Arc<StubAdapter>>, OrchestratorStub) {
    let held: Vec<Arc<StubAdapter>> = list.into_iter().map(Arc::new).collect();
    let dyns = held
        .iter()
        .map(|a| a.clone() as Arc<dyn PlatformAdapter>)
        .collect();
    (held, OrchestratorStub::with_adapters(dyns))
}

fn attempts(metadata: &serde_json::Map<String, Value>) -> Vec<Attempt> {
    serde_json::from_value(metadata["attempts"].clone()).expect("attempts in metadata")
}

fn routing(metadata: &serde_json::Map<String, Value>) -> RoutingDecision {
    serde_json::from_value(metadata["routing"].clone()).expect("routing in metadata")
}

#[tokio::test]
async fn test_routing_to_claude() {
    let orch = OrchestratorStub::new();
    let task = Task::new(TaskType::CodeGeneration, "test");
    let result = orch.execute(task.clone(), true).await;
    assert!(result.success, "{:?}", result.error);
    assert_eq!(result.platform, Platform::Claude);
    assert_eq!(result.output, "[STUB claude] Would execute: test");
    assert_eq!(result.task, task);
    assert_eq!(result.error, None);
    // "test" is 1 token in, the output 9 tokens (4 characters each, rounded up).
    assert_eq!(result.tokens_used, 1 + 9);
    assert_eq!(result.metadata["model"], "stub-claude");
    assert_eq!(routing(&result.metadata).candidates[0], Platform::Claude);
    assert_eq!(attempts(&result.metadata).len(), 1);
    assert_eq!(orch.calls(), [task]);
}

#[tokio::test]
async fn quota_exhausted_falls_back_to_the_next_platform_and_records_attempts() {
    let usage = Usage {
        input_uncached: 120,
        cache_read: 30,
        output: 40,
        reasoning: 10,
        ..Usage::default()
    };
    let (held, orch) = adapters(vec![
        StubAdapter::new(Platform::Claude).then_err(PlatformError::QuotaExhausted {
            message: "spend limit reached".into(),
        }),
        StubAdapter::new(Platform::ClaudeCode).then_ok(AdapterOutput {
            output: "fn ema() {}".into(),
            model: "claude-sonnet-4-5-20250929".into(),
            usage,
            cost_usd: Some(0.0123),
        }),
        StubAdapter::new(Platform::Chatgpt),
    ]);
    let result = orch
        .execute(Task::new(TaskType::CodeGeneration, "write ema"), true)
        .await;
    assert!(result.success, "{:?}", result.error);
    assert_eq!(result.platform, Platform::ClaudeCode);
    assert_eq!(result.output, "fn ema() {}");
    assert_eq!(result.tokens_used, 200);
    assert_eq!(result.cost, 0.0123);
    assert_eq!(result.metadata["model"], "claude-sonnet-4-5-20250929");

    let tried = attempts(&result.metadata);
    assert_eq!(tried.len(), 2);
    assert_eq!(tried[0].platform, Platform::Claude);
    assert_eq!(tried[0].error_class.as_deref(), Some("quota_exhausted"));
    assert_eq!(
        tried[0].error.as_deref(),
        Some("quota exhausted: spend limit reached")
    );
    assert_eq!(
        (tried[1].platform, tried[1].error_class.as_deref()),
        (Platform::ClaudeCode, None)
    );

    let decision = routing(&result.metadata);
    assert_eq!(
        decision.candidates,
        [Platform::Claude, Platform::ClaudeCode, Platform::Chatgpt]
    );
    assert_eq!(
        decision.skipped,
        [(Platform::Gemini, "no adapter for gemini".to_string())]
    );
    assert_eq!(held[0].received().len(), 1);
    assert_eq!(held[1].received().len(), 1);
    assert!(
        held[2].received().is_empty(),
        "chatgpt must not be called after a success"
    );
}

#[tokio::test]
async fn retryable_error_ends_the_task_without_fallback_in_the_stub() {
    let (held, orch) = adapters(vec![
        StubAdapter::new(Platform::Gemini).then_err(PlatformError::Overloaded {
            message: "503 UNAVAILABLE".into(),
        }),
        StubAdapter::new(Platform::Claude),
    ]);
    let result = orch.execute(Task::new(TaskType::DataAnalysis, "x"), true).await;
    assert!(!result.success);
    assert_eq!(result.platform, Platform::Gemini);
    assert_eq!(
        result.error.as_deref(),
        Some("gemini: overloaded: 503 UNAVAILABLE")
    );
    assert_eq!(result.output, "");
    assert!(held[1].received().is_empty());
}

#[tokio::test]
async fn every_candidate_failing_lists_each_failure() {
    let (_, orch) = adapters(vec![
        StubAdapter::new(Platform::Chatgpt).then_err(PlatformError::QuotaExhausted {
            message: "insufficient_quota".into(),
        }),
        StubAdapter::new(Platform::Gemini).then_err(PlatformError::Auth {
            message: "API key not valid".into(),
        }),
    ]);
    let result = orch.execute(Task::new(TaskType::Research, "x"), true).await;
    assert!(!result.success);
    assert_eq!(result.platform, Platform::Gemini);
    assert_eq!(
        result.error.as_deref(),
        Some(
            "every platform tried failed: chatgpt: quota exhausted: insufficient_quota; \
             gemini: authentication failed: API key not valid"
        )
    );
    assert_eq!(attempts(&result.metadata).len(), 2);
}

#[tokio::test]
async fn strict_hint_that_cannot_run_is_an_error_result() {
    let (held, orch) = adapters(vec![
        StubAdapter::new(Platform::Claude),
        StubAdapter::new(Platform::Gemini).unconfigured("GEMINI_API_KEY is not set"),
    ]);
    let task = Task::new(TaskType::CodeGeneration, "x")
        .with_hint(Platform::Gemini)
        .with_metadata("strict", true);
    let result = orch.execute(task, true).await;
    assert!(!result.success);
    assert_eq!(result.platform, Platform::Gemini);
    let error = result.error.unwrap();
    assert!(
        error.contains("platform_hint gemini cannot run this task (GEMINI_API_KEY is not set)"),
        "{error}"
    );
    assert_eq!(result.metadata["attempts"], json!([]));
    assert!(
        held[0].received().is_empty(),
        "strict routing must not fall back to claude"
    );

    // Not strict: the hint is explained and the table decides.
    let lenient = Task::new(TaskType::CodeGeneration, "x").with_hint(Platform::Gemini);
    let result = orch.execute(lenient, true).await;
    assert!(result.success);
    assert_eq!(result.platform, Platform::Claude);
    let note = routing(&result.metadata).hint_note.unwrap();
    assert!(
        note.contains("gemini was not used: GEMINI_API_KEY is not set"),
        "{note}"
    );
}

#[tokio::test]
async fn requires_gsd_runs_only_on_claude_code() {
    let orch = OrchestratorStub::new();
    let task = Task::new(TaskType::Research, "plan phase 3").with_requires_gsd(true);
    let result = orch.execute(task, true).await;
    assert!(result.success);
    assert_eq!(result.platform, Platform::ClaudeCode);
    assert_eq!(routing(&result.metadata).candidates, [Platform::ClaudeCode]);

    let (_, without) = adapters(vec![
        StubAdapter::new(Platform::Claude),
        StubAdapter::new(Platform::ClaudeCode).unconfigured("`claude` not found on PATH (/usr/bin)"),
    ]);
    let result = without
        .execute(Task::new(TaskType::Planning, "x").with_requires_gsd(true), true)
        .await;
    assert!(!result.success);
    assert_eq!(result.platform, Platform::ClaudeCode);
    assert_eq!(
        result.error.as_deref(),
        Some("no platform can run this planning task: claude_code: `claude` not found on PATH (/usr/bin)")
    );
}

#[tokio::test]
async fn local_runs_only_tasks_naming_a_tool() {
    let orch = OrchestratorStub::new();
    let plain = orch
        .execute(Task::new(TaskType::SqlDbWork, "Refresh EMAs for BTC"), true)
        .await;
    assert_eq!(plain.platform, Platform::ClaudeCode);
    let tool = Task::new(TaskType::SqlDbWork, "Refresh EMAs for BTC").with_metadata("tool", "ema_refresh");
    let result = orch.execute(tool, true).await;
    assert_eq!(result.platform, Platform::Local);
    assert!(result.success);
    assert_eq!(orch.calls().len(), 2);
}

#[tokio::test]
async fn pre_flight_skips_platforms_known_unreachable() {
    let unreachable = PlatformStatus {
        reachable: Some(false),
        ..PlatformStatus::ready("probe failed: connection refused")
    };
    let (_, orch) = adapters(vec![
        StubAdapter::new(Platform::Claude).with_status(unreachable),
        StubAdapter::new(Platform::Chatgpt),
    ]);
    let task = Task::new(TaskType::Planning, "x");
    let checked = orch.execute(task.clone(), true).await;
    assert_eq!(checked.platform, Platform::Chatgpt);
    assert_eq!(
        routing(&checked.metadata).skipped[0],
        (
            Platform::Claude,
            "pre-flight failed: probe failed: connection refused".to_string()
        )
    );
    let unchecked = orch.execute(task, false).await;
    assert_eq!(unchecked.platform, Platform::Claude);
}

#[tokio::test]
async fn validate_environment_reports_every_platform() {
    let (_, orch) = adapters(vec![
        StubAdapter::new(Platform::Claude),
        StubAdapter::new(Platform::Gemini).unconfigured("GEMINI_API_KEY is not set"),
    ]);
    let status = orch.validate_environment().await;
    assert_eq!(status.len(), 5);
    assert!(status[&Platform::Claude].configured);
    assert_eq!(status[&Platform::Gemini].message, "GEMINI_API_KEY is not set");
    assert_eq!(
        status[&Platform::Local].message,
        "no adapter registered for local"
    );
    assert!(!status[&Platform::Chatgpt].configured);
}

#[tokio::test]
async fn orchestrator_is_usable_as_a_shared_trait_object() {
    let orch: Arc<dyn Orchestrator> = Arc::new(OrchestratorStub::new());
    let handles: Vec<_> = TaskType::ALL
        .iter()
        .map(|&t| {
            let orch = orch.clone();
            tokio::spawn(async move { orch.execute(Task::new(t, "x"), true).await })
        })
        .collect();
    for (h, &t) in handles.into_iter().zip(TaskType::ALL) {
        let r = h.await.unwrap();
        assert!(r.success, "{t}");
        assert_eq!(r.task.task_type, t);
    }
}
