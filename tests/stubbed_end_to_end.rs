//! The seed's end-to-end flow with every track stubbed (`stubs` features): user request → memory
//! context → orchestrator routing → features refresh on the `local` platform → memory write.
//! The real implementations replace these stubs track by track; this test pins the contracts
//! they meet through.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use serde_json::{Value, json};
use talab_features::{FeatureStore, stubs::FeatureStoreStub};
use talab_memory::{DEFAULT_LIMIT, MemoryManager, Metadata, stubs::MemoryStub};
use talab_orchestrator::stubs::{OrchestratorStub, StubAdapter};
use talab_orchestrator::{
    AdapterOutput, Orchestrator, Platform, PlatformAdapter, PlatformError, PlatformStatus, Task, TaskType,
    Usage,
};

/// The fixture's 50 real BTC closes, 2010-07-13 onwards.
fn fixture_closes() -> (NaiveDate, Vec<f64>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ema_fixture_btc_2010.csv");
    let text = std::fs::read_to_string(path).expect("the EMA fixture in tests/data");
    let closes = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("day_idx") && !l.trim().is_empty())
        .map(|l| l.split(',').nth(2).unwrap().parse::<f64>().unwrap())
        .collect();
    (NaiveDate::from_ymd_opt(2010, 7, 13).unwrap(), closes)
}

/// The `local` platform's EMA-refresh tool, backed by whatever FeatureStore it is given.
struct EmaRefreshTool {
    features: Arc<dyn FeatureStore>,
}

#[async_trait]
impl PlatformAdapter for EmaRefreshTool {
    fn platform(&self) -> Platform {
        Platform::Local
    }

    fn status(&self) -> PlatformStatus {
        PlatformStatus {
            configured: true,
            requirements_met: true,
            reachable: None,
            quota_left: None,
            message: "tools: ema_refresh".into(),
        }
    }

    async fn execute(&self, task: &Task) -> Result<AdapterOutput, PlatformError> {
        let bad = |m: &str| PlatformError::BadRequest {
            message: m.to_string(),
        };
        let symbols: Vec<String> =
            serde_json::from_value(task.metadata.get("symbols").cloned().unwrap_or(Value::Null))
                .map_err(|_| bad("metadata.symbols must be a list of symbols"))?;
        let date: NaiveDate = task
            .metadata
            .get("date")
            .and_then(Value::as_str)
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| bad("metadata.date must be YYYY-MM-DD"))?;
        let frame =
            self.features
                .refresh_ema(&symbols, date)
                .await
                .map_err(|e| PlatformError::BadRequest {
                    message: e.to_string(),
                })?;
        Ok(AdapterOutput {
            output: format!(
                "EMA refresh completed for {} on {date}: 1D × {} periods",
                symbols.join(", "),
                frame.height()
            ),
            model: "ema_refresh".into(),
            usage: Usage::default(),
            cost_usd: Some(0.0),
        })
    }
}

fn refresh_task(symbols: &[&str], date: &str) -> Task {
    Task::new(
        TaskType::SqlDbWork,
        format!("Refresh EMAs for {}", symbols.join(", ")),
    )
    .with_metadata("tool", json!("ema_refresh"))
    .with_metadata("symbols", json!(symbols))
    .with_metadata("date", json!(date))
}

async fn refresh_with_memory(
    orch: &dyn Orchestrator,
    memory: &dyn MemoryManager,
    task: Task,
) -> (Task, bool) {
    let hits = memory
        .search("previous EMA refresh BTC", 0.3, DEFAULT_LIMIT)
        .await
        .unwrap();
    let ids: Vec<String> = hits.iter().map(|m| m.id.clone()).collect();
    let context = memory.get_context(&ids).await.unwrap();
    let task = task.with_context("memory", json!(context));
    let result = orch.execute(task.clone(), true).await;
    assert_eq!(
        result.platform,
        Platform::Local,
        "sql_db_work with a registered tool runs locally"
    );
    let mut meta = Metadata::new();
    meta.insert("task_type".into(), json!("ema_refresh"));
    memory.add(&result.output, meta).await.unwrap();
    (task, result.success)
}

#[tokio::test]
async fn test_ema_refresh_with_memory() {
    let (first_day, closes) = fixture_closes();
    let features: Arc<dyn FeatureStore> =
        Arc::new(FeatureStoreStub::new().with_closes("BTC", first_day, closes));
    let orch = OrchestratorStub::with_adapters(vec![
        Arc::new(EmaRefreshTool {
            features: features.clone(),
        }) as Arc<dyn PlatformAdapter>,
        Arc::new(StubAdapter::new(Platform::ClaudeCode)),
        Arc::new(StubAdapter::new(Platform::Claude)),
    ]);
    let memory = MemoryStub::new();

    let (first, ok) = refresh_with_memory(&orch, &memory, refresh_task(&["BTC"], "2010-08-31")).await;
    assert!(ok);
    let empty = talab_memory::render_context(&[], &[], talab_memory::DEFAULT_CONTEXT_BUDGET);
    assert_eq!(
        first.context["memory"].as_str().unwrap(),
        empty,
        "the first refresh has no history"
    );

    let history = memory
        .search("EMA refresh BTC", 0.5, DEFAULT_LIMIT)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    // Day 50 of the series: periods 9…50 have seeded, 100 and 200 have not (no row before the seed).
    assert_eq!(
        history[0].content,
        "EMA refresh completed for BTC on 2010-08-31: 1D × 5 periods"
    );

    // A second refresh sees the first one in its memory context.
    let (second, ok) = refresh_with_memory(&orch, &memory, refresh_task(&["BTC"], "2010-08-30")).await;
    assert!(ok);
    assert!(
        second.context["memory"]
            .as_str()
            .unwrap()
            .contains("EMA refresh completed for BTC on 2010-08-31")
    );

    // The EMA the tool computed is the fixture's value (1D, period 10, on 2010-07-22).
    let frame = features
        .get_ema("BTC", NaiveDate::from_ymd_opt(2010, 7, 22).unwrap(), "1d")
        .await
        .unwrap();
    assert_eq!(
        frame.height(),
        2,
        "by day 10 only periods 9 and 10 have their seed: {frame}"
    );
}

#[tokio::test]
async fn a_failed_refresh_is_reported_not_hidden() {
    let features: Arc<dyn FeatureStore> = Arc::new(FeatureStoreStub::new());
    let orch = OrchestratorStub::with_adapters(vec![
        Arc::new(EmaRefreshTool { features }) as Arc<dyn PlatformAdapter>
    ]);
    let result = orch.execute(refresh_task(&["NOPE"], "2021-01-01"), true).await;
    assert!(!result.success);
    assert!(result.error.unwrap_or_default().contains("NOPE"));
}
