//! The joined flow on real implementations (SQLite and PostgreSQL): the seed's
//! `test_ema_refresh_with_memory` on the real BTC history, the memory context of a second refresh,
//! a failed refresh remembered as failed — and every combination of real and stubbed tracks
//! (each track alone with the other two stubbed, each pair, all three real).

use std::path::Path;
use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use talab::flow::ask::ask;
use talab::flow::ema_tool::EmaRefreshTool;
use talab::flow::refresh::Flow;
use talab::flow::runs::RunStore;
use talab_db::Database;
use talab_features::stubs::FeatureStoreStub;
use talab_features::{FeatureStore, IngestOptions, RefreshRequest, SqlFeatureStore, ingest_csv};
use talab_memory::embed::lexical::LexicalEmbedder;
use talab_memory::embed::minilm::MiniLmEmbedder;
use talab_memory::stubs::MemoryStub;
use talab_memory::{Embedder, MemoryManager, MemoryRecords, SqlMemoryManager};
use talab_orchestrator::adapters::{LocalAdapter, LocalTool, LocalToolRegistry};
use talab_orchestrator::stubs::OrchestratorStub;
use talab_orchestrator::{Orchestrator, PlatformAdapter, QuotaConfig, TalabOrchestrator};

const BTC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/coin_Bitcoin.csv");

/// The local model (the harness fetches it), or the lexical fallback under `TALAB_TEST_SKIP=minilm`.
fn embedder() -> Arc<dyn Embedder> {
    match talab_db::testing::minilm_model_dir() {
        Some(dir) => Arc::new(MiniLmEmbedder::load(&dir).expect("the MiniLM model")),
        None => Arc::new(LexicalEmbedder::new()),
    }
}

async fn real_memory(db: &Database) -> Arc<dyn MemoryManager> {
    let records = MemoryRecords::open(db.clone()).await.unwrap();
    Arc::new(SqlMemoryManager::open(records, embedder()).await.unwrap())
}

fn stub_memory() -> Arc<dyn MemoryManager> {
    Arc::new(MemoryStub::new())
}

/// A database with the real BTC history loaded.
async fn with_btc(db: &Database) {
    let options = IngestOptions {
        symbol: Some("BTC".into()),
        ..Default::default()
    };
    ingest_csv(db, Path::new(BTC), &options).await.unwrap();
}

/// The real feature store on `db`, or the stub over 60 days of BTC closes (1D only).
async fn features(db: &Database, real: bool) -> Arc<dyn FeatureStore> {
    if real {
        Arc::new(SqlFeatureStore::open(db.clone()).await.unwrap())
    } else {
        let closes: Vec<f64> = (0..60).map(|i| 100.0 + i as f64).collect();
        let first = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
        Arc::new(FeatureStoreStub::new().with_closes("BTC", first, closes))
    }
}

async fn orchestrator(db: &Database, real: bool, tool: Arc<dyn LocalTool>) -> Arc<dyn Orchestrator> {
    let local: Arc<dyn PlatformAdapter> = Arc::new(LocalAdapter::new(LocalToolRegistry::new().with(tool)));
    if real {
        Arc::new(
            TalabOrchestrator::open(db.clone(), vec![local], QuotaConfig::default())
                .await
                .unwrap(),
        )
    } else {
        Arc::new(OrchestratorStub::with_adapters(vec![local]))
    }
}

/// The real flow; each track real or stubbed. The `ema_refresh` tool is the real one either way,
/// over the real or the stubbed feature store.
async fn flow(db: &Database, real_features: bool, real_orchestrator: bool, real_memory_: bool) -> Flow {
    let features = features(db, real_features).await;
    let tool = Arc::new(EmaRefreshTool::new(features.clone(), false));
    Flow {
        orchestrator: orchestrator(db, real_orchestrator, tool).await,
        features,
        memory: if real_memory_ {
            real_memory(db).await
        } else {
            stub_memory()
        },
        runs: RunStore::open(db.clone()).await.unwrap(),
    }
}

/// BTC on four timeframes (both families) × four periods: the real engine, a CI-sized load.
fn btc() -> RefreshRequest {
    RefreshRequest {
        symbols: vec!["btc".into()],
        tfs: vec!["1D".into(), "3D".into(), "1W_CAL_ISO".into(), "1M_CAL".into()],
        periods: vec![10, 20, 50, 200],
        ..Default::default()
    }
}

/// The seed's test, all real, on both backends.
#[tokio::test]
async fn test_ema_refresh_with_memory() {
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        with_btc(db).await;
        let flow = flow(db, true, true, true).await;
        let first = flow.refresh(&btc()).await.unwrap();
        assert!(first.run.success, "{}: {:?}", t.label(), first.run.error);
        assert_eq!(first.platform, "local");
        assert!(first.context_ids.is_empty(), "the first refresh has no history");
        assert!(
            first.run.rows() > 25_000,
            "{}: {} rows",
            t.label(),
            first.run.rows()
        );
        assert!(first.run.task_id.is_some() && first.run.memory_id.is_some());
        assert!(
            first.memory.contains("BTC") && first.memory.contains("4 timeframes"),
            "{}",
            first.memory
        );

        let tz = chrono_tz::UTC;
        let today = ask(
            flow.memory.as_ref(),
            &flow.runs,
            None,
            "what EMAs ran today",
            Utc::now(),
            tz,
        )
        .await
        .unwrap();
        assert_eq!(today.runs.len(), 1, "{}: {}", t.label(), today.answer);
        let rows = talab::flow::refresh::thousands(first.run.rows());
        for needle in ["BTC", "1D…1M_CAL", "10…200", rows.as_str(), "today"] {
            assert!(
                today.answer.contains(needle),
                "{}: no {needle} in:\n{}",
                t.label(),
                today.answer
            );
        }
        let yesterday = ask(
            flow.memory.as_ref(),
            &flow.runs,
            None,
            "what EMAs ran yesterday",
            Utc::now(),
            tz,
        )
        .await
        .unwrap();
        assert!(
            yesterday.runs.is_empty() && !yesterday.answer.contains("BTC"),
            "{}",
            yesterday.answer
        );
        assert!(
            yesterday.answer.starts_with("Nothing found"),
            "{}",
            yesterday.answer
        );
        assert!(
            yesterday.answer.contains("yesterday"),
            "says what it searched: {}",
            yesterday.answer
        );

        // A second refresh sees the first in its memory context.
        let second = flow.refresh(&btc()).await.unwrap();
        assert!(second.run.success);
        assert_eq!(
            second.context_ids,
            vec![first.run.memory_id.clone().unwrap()],
            "{}",
            t.label()
        );
        assert!(
            second.context.contains("EMA refresh completed for BTC"),
            "{}",
            second.context
        );
        assert_eq!(second.run.rows(), 0, "nothing new to compute");
        assert_ne!(second.run.correlation_id, first.run.correlation_id);
    }
}

/// A refresh of a symbol with no prices: it fails, and is remembered as failed.
fn unknown_symbol() -> RefreshRequest {
    RefreshRequest {
        symbols: vec!["NOPE".into()],
        ..Default::default()
    }
}

#[tokio::test]
async fn a_failed_refresh_is_remembered_as_failed() {
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        with_btc(db).await;
        let flow = flow(db, true, true, true).await;
        let request = unknown_symbol();
        let out = flow.refresh(&request).await.unwrap();
        assert!(!out.run.success);
        assert!(
            out.run.error.as_deref().unwrap_or("").contains("NOPE"),
            "{:?}",
            out.run.error
        );
        assert!(
            out.memory.contains("FAILED") && out.memory.contains("NOPE"),
            "{}",
            out.memory
        );
        let a = ask(
            flow.memory.as_ref(),
            &flow.runs,
            None,
            "which EMA refresh failed today",
            Utc::now(),
            chrono_tz::UTC,
        )
        .await
        .unwrap();
        assert!(a.answer.contains("FAILED NOPE"), "{}: {}", t.label(), a.answer);
        let stored: i64 = talab_db::on_pool!(db, pool => {
            talab_db::sqlx::query_scalar("SELECT COUNT(*) FROM cmc_ema_multi_tf").fetch_one(pool).await
        })
        .unwrap();
        assert_eq!(stored, 0, "nothing half-written");
    }
}

/// Two runs with the same outcome in the same second are two memories, each naming its run (the
/// sentence was the same, so content dedup gave both runs one memory id).
#[tokio::test]
async fn runs_in_the_same_second_get_their_own_memories() {
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        with_btc(db).await;
        let flow = flow(db, true, true, true).await;
        let request = unknown_symbol();
        let (a, b) = tokio::join!(flow.refresh(&request), flow.refresh(&request));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_ne!(a.run.id, b.run.id);
        assert_ne!(
            a.run.memory_id,
            b.run.memory_id,
            "{}: {} / {}",
            t.label(),
            a.memory,
            b.memory
        );
        for out in [&a, &b] {
            let short = &out.run.id[..8];
            assert!(out.memory.contains(&format!("(run {short})")), "{}", out.memory);
        }
    }
}

/// Each track alone, each pair, and all three, with the missing tracks as their stubs.
#[tokio::test]
async fn every_combination_of_real_and_stubbed_tracks() {
    for combo in 0..8u8 {
        let (features, orchestrator, memory) = (combo & 1 != 0, combo & 2 != 0, combo & 4 != 0);
        let label = format!("features {features}, orchestrator {orchestrator}, memory {memory}");
        let t = talab_db::testing::sqlite().await;
        if features {
            with_btc(&t.db).await;
        }
        let flow = flow(&t.db, features, orchestrator, memory).await;
        // The stub has no bars: 1D only.
        let request = if features {
            btc()
        } else {
            RefreshRequest {
                tfs: vec!["1D".into()],
                ..btc()
            }
        };
        let first = flow.refresh(&request).await.unwrap();
        assert!(first.run.success, "{label}: {:?}", first.run.error);
        assert!(first.run.rows() > 0, "{label}");
        let second = flow.refresh(&request).await.unwrap();
        assert_eq!(
            second.context_ids.len(),
            1,
            "{label}: the second refresh sees the first"
        );
        let a = ask(
            flow.memory.as_ref(),
            &flow.runs,
            None,
            "what EMAs ran today",
            Utc::now(),
            chrono_tz::UTC,
        )
        .await
        .unwrap();
        assert_eq!(a.runs.len(), 2, "{label}: {}", a.answer);
        assert!(a.answer.contains("BTC"), "{label}: {}", a.answer);
    }
}
