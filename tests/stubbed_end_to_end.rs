//! The seed's end-to-end flow with every track stubbed (`stubs` features): user request → memory
//! context → orchestrator routing → features refresh on the `local` platform → memory write. The
//! flow and its `ema_refresh` tool are talab's real ones; only the three crates are their stubs,
//! so this pins the contracts the real implementations meet through.

use std::sync::Arc;

use chrono::NaiveDate;
use talab::flow::ema_tool::EmaRefreshTool;
use talab::flow::refresh::Flow;
use talab::flow::runs::RunStore;
use talab_features::{DEFAULT_PERIODS, FeatureStore, RefreshRequest, stubs::FeatureStoreStub};
use talab_memory::{DEFAULT_LIMIT, stubs::MemoryStub};
use talab_orchestrator::adapters::{LocalAdapter, LocalToolRegistry};
use talab_orchestrator::stubs::{OrchestratorStub, StubAdapter};
use talab_orchestrator::{Platform, PlatformAdapter};

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

/// The real flow and the real `ema_refresh` tool, over the stub crates: the feature store over
/// `features`, the orchestrator stub (local tools, then stub Claude Code and Claude), the memory
/// stub; only the runs table is on a database (a fresh SQLite one).
async fn stub_flow(features: Arc<dyn FeatureStore>) -> (Flow, talab_db::testing::TestDb) {
    let tool = EmaRefreshTool::new(features.clone(), false);
    let local = LocalAdapter::new(LocalToolRegistry::new().with(Arc::new(tool)));
    let orchestrator = OrchestratorStub::with_adapters(vec![
        Arc::new(local) as Arc<dyn PlatformAdapter>,
        Arc::new(StubAdapter::new(Platform::ClaudeCode)),
        Arc::new(StubAdapter::new(Platform::Claude)),
    ]);
    let t = talab_db::testing::sqlite().await;
    let flow = Flow {
        orchestrator: Arc::new(orchestrator),
        memory: Arc::new(MemoryStub::new()),
        features,
        runs: RunStore::open(t.db.clone()).await.unwrap(),
    };
    (flow, t)
}

fn refresh_of(symbols: &[&str], date: &str) -> RefreshRequest {
    RefreshRequest {
        symbols: symbols.iter().map(|s| s.to_string()).collect(),
        date: Some(date.parse().unwrap()),
        ..RefreshRequest::default()
    }
}

#[tokio::test]
async fn test_ema_refresh_with_memory() {
    let (first_day, closes) = fixture_closes();
    let features: Arc<dyn FeatureStore> =
        Arc::new(FeatureStoreStub::new().with_closes("BTC", first_day, closes));
    let (flow, _db) = stub_flow(features.clone()).await;

    let first = flow.refresh(&refresh_of(&["btc"], "2010-08-31")).await.unwrap();
    assert!(first.run.success, "{:?}", first.run.error);
    assert_eq!(
        first.platform, "local",
        "sql_db_work with a registered tool runs locally"
    );
    assert!(
        first.context_ids.is_empty() && first.context.is_empty(),
        "the first refresh has no history"
    );
    // Day 50 of the series: periods 9…50 have seeded, 100 and 200 have not (no row before the seed).
    let report = first.report.as_ref().expect("the tool's report");
    assert_eq!(report.periods, DEFAULT_PERIODS.to_vec());
    let btc = report.refreshed().next().expect("BTC refreshed");
    assert_eq!(
        (btc.symbol.as_str(), btc.last_day.to_string()),
        ("BTC", "2010-08-31".into())
    );
    // Rows: every seeded period from its seed day (its `period`-th close) through day 50.
    let want: u64 = DEFAULT_PERIODS
        .iter()
        .map(|&p| 50u64.saturating_sub(p as u64 - 1))
        .sum();
    assert_eq!(first.run.rows(), want as i64);

    let history = flow
        .memory
        .search("EMA refresh BTC", 0.5, DEFAULT_LIMIT)
        .await
        .unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].content, first.memory);
    assert!(
        first.memory.contains("EMA refresh completed for BTC"),
        "{}",
        first.memory
    );

    // A second refresh sees the first one in its memory context.
    let second = flow.refresh(&refresh_of(&["BTC"], "2010-08-30")).await.unwrap();
    assert!(second.run.success);
    assert_eq!(second.context_ids, vec![first.run.memory_id.clone().unwrap()]);
    assert!(second.context.contains(&first.memory), "{}", second.context);

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
    let (flow, _db) = stub_flow(Arc::new(FeatureStoreStub::new())).await;
    let request = refresh_of(&["NOPE"], "2021-01-01");
    let refused = flow.features.check_refresh(&request).await.unwrap_err();
    assert_eq!(refused.kind(), talab_db::ErrorKind::Input, "{refused:?}");
    let out = flow.refresh(&request).await.unwrap();
    assert!(!out.run.success);
    let error = out.run.error.unwrap_or_default();
    assert!(error.contains("NOPE"), "{error}");
    assert_eq!(
        out.platform, "local",
        "a refused refresh is not handed to an AI platform"
    );
    assert!(
        out.memory.contains("FAILED") && out.memory.contains("NOPE"),
        "{}",
        out.memory
    );
}
