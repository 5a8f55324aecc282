//! The `FeatureStore` contract as the binary uses it — check a request once, refresh with a
//! per-symbol report, read a range, say what is stored — with the same assertions for the
//! database-backed store (SQLite and PostgreSQL) and the stub; and the commit journal, which must
//! commit exactly with a symbol's rows.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use talab_db::{DbError, ErrorKind, Tx};
use talab_features::{
    CommitJournal, EmaCoverage, EmaQuery, FeatureError, FeatureStore, RefreshRequest, RefreshWatch,
    SqlFeatureStore, SymbolRefresh, Timeframe, ema,
};

use crate::ema_refresh::{load, series};

const DAYS: usize = 60;

fn one_d() -> Timeframe {
    Timeframe::parse("1D").unwrap()
}

/// The contract on one store holding AAA's `closes` (60 days from `first`).
async fn contract(label: &str, store: &dyn FeatureStore, first: NaiveDate, closes: &[f64]) {
    let last = first + chrono::Duration::days(DAYS as i64 - 1);
    // Checked once: canonical symbols, each once; periods sorted and unique.
    let request = RefreshRequest {
        symbols: vec!["aaa".into(), " AAA ".into()],
        tfs: vec!["1d".into()],
        periods: vec![20, 9, 9],
        ..RefreshRequest::default()
    };
    let plan = store.check_refresh(&request).await.unwrap();
    assert_eq!(plan.symbols, ["AAA"], "{label}");
    assert_eq!(plan.periods, [9, 20], "{label}");
    assert_eq!(plan.tfs, [one_d()], "{label}");
    // Refused before anything is written, as the caller's to fix.
    for (bad, what) in [
        (vec!["AAA".to_string(), "NOPE".into()], "unknown symbol"),
        (vec!["A;A".to_string()], "invalid symbol"),
    ] {
        let e = store
            .check_refresh(&RefreshRequest {
                symbols: bad,
                ..request.clone()
            })
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Input, "{label}: {what}: {e}");
    }
    let late = RefreshRequest {
        date: Some(last + chrono::Duration::days(1)),
        ..request.clone()
    };
    let e = store.check_refresh(&late).await.unwrap_err();
    assert!(matches!(e, FeatureError::DateOutOfRange { .. }), "{label}: {e}");
    let zero = RefreshRequest {
        periods: vec![0],
        ..request.clone()
    };
    assert_eq!(
        store.check_refresh(&zero).await.unwrap_err().kind(),
        ErrorKind::Input
    );
    let (symbol, before) = store.ema_coverage("aaa", &one_d()).await.unwrap();
    assert_eq!(
        (symbol.as_str(), before),
        ("AAA", EmaCoverage::NotRefreshed),
        "{label}"
    );

    // Refreshed with a report, each symbol told to the watcher as it ends.
    let told = Arc::new(AtomicUsize::new(0));
    let watch = RefreshWatch {
        journal: None,
        on_symbol: Some(Arc::new({
            let told = told.clone();
            move |o| {
                assert!(o.error.is_none(), "{o:?}");
                told.fetch_add(1, Ordering::SeqCst);
            }
        })),
    };
    let report = store.refresh(&plan, &watch).await.unwrap();
    assert!(report.ok(), "{label}: {report:?}");
    assert_eq!(told.load(Ordering::SeqCst), 1, "{label}");
    assert_eq!(
        (report.tfs.clone(), report.periods.clone()),
        (vec!["1D".to_string()], vec![9, 20])
    );
    let done: Vec<&SymbolRefresh> = report.refreshed().collect();
    assert_eq!(done.len(), 1, "{label}");
    assert_eq!((done[0].first_day, done[0].last_day), (first, last), "{label}");
    // 52 values of period 9 and 41 of period 20.
    let want_rows = (DAYS - 8 + DAYS - 19) as u64;
    assert_eq!(done[0].rows_tf_day, want_rows, "{label}");

    // What is stored: from the shortest period's seed to the last day, equal to the kernel.
    let (_, after) = store.ema_coverage("AAA", &one_d()).await.unwrap();
    let seeded = first + chrono::Duration::days(8);
    assert_eq!(after, EmaCoverage::Stored { first: seeded, last }, "{label}");
    let from = first + chrono::Duration::days(30);
    let rows = store
        .read_emas(&EmaQuery {
            symbol: "AAA".into(),
            tfs: vec!["1D".into()],
            periods: vec![9],
            from: Some(from),
            to: None,
        })
        .await
        .unwrap();
    let kernel = ema(closes, 9).unwrap();
    assert_eq!(rows.len(), DAYS - 30, "{label}");
    for r in &rows {
        let i = (r.day - first).num_days() as usize;
        assert_eq!(r.ema.to_bits(), kernel[i].to_bits(), "{label}: {}", r.day);
        assert_eq!(r.d1.is_some(), i > 8, "{label}: {}", r.day);
    }
    let all = store
        .read_emas(&EmaQuery {
            symbol: "AAA".into(),
            ..EmaQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len() as u64, want_rows, "{label}");
}

#[tokio::test]
async fn the_database_store_meets_the_contract() {
    let data = series(DAYS, 3);
    let closes: Vec<f64> = data.iter().map(|d| d.1).collect();
    for t in talab_db::testing::backends().await {
        load(&t.db, "AAA", &data).await;
        let store = SqlFeatureStore::open(t.db.clone()).await.unwrap();
        contract(t.label(), &store, data[0].0, &closes).await;
    }
}

#[cfg(feature = "stubs")]
#[tokio::test]
async fn the_stub_meets_the_contract() {
    let data = series(DAYS, 3);
    let closes: Vec<f64> = data.iter().map(|d| d.1).collect();
    let store = talab_features::stubs::FeatureStoreStub::new().with_closes("AAA", data[0].0, closes.clone());
    contract("stub", &store, data[0].0, &closes).await;
}

#[tokio::test]
async fn a_history_shorter_than_every_period_is_told_apart_from_never_refreshed() {
    for t in talab_db::testing::backends().await {
        load(&t.db, "AAA", &series(5, 1)).await;
        let store = SqlFeatureStore::open(t.db.clone()).await.unwrap();
        let request = RefreshRequest {
            symbols: vec!["AAA".into()],
            tfs: vec!["1D".into()],
            periods: vec![9],
            ..RefreshRequest::default()
        };
        let plan = store.check_refresh(&request).await.unwrap();
        store.refresh(&plan, &RefreshWatch::default()).await.unwrap();
        let (_, coverage) = store.ema_coverage("AAA", &one_d()).await.unwrap();
        assert!(
            matches!(
                coverage,
                EmaCoverage::TooShort {
                    shortest_period: 9,
                    ..
                }
            ),
            "{}: {coverage:?}",
            t.label()
        );
        let why = coverage.why_empty("AAA", "1D").unwrap();
        assert!(why.contains("fewer 1D bars than the shortest period, 9"), "{why}");
    }
}

/// Records each symbol in a table of its own, in the symbol's transaction; fails for `fail`.
struct TableJournal {
    fail: Option<String>,
    calls: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl CommitJournal for TableJournal {
    async fn record(&self, tx: &mut Tx, refresh: &SymbolRefresh) -> Result<(), DbError> {
        self.calls.lock().unwrap().push(refresh.symbol.clone());
        talab_db::on_tx!(tx, c => {
            talab_db::sqlx::query("INSERT INTO journal_test (symbol) VALUES ($1)")
                .bind(&refresh.symbol)
                .execute(&mut **c)
                .await
                .map(|_| ())
        })?;
        if self.fail.as_deref() == Some(refresh.symbol.as_str()) {
            return Err(DbError::InvalidUrl("the journal refused".into()));
        }
        Ok(())
    }
}

#[tokio::test]
async fn the_journal_commits_with_the_rows_and_its_failure_rolls_them_back() {
    for t in talab_db::testing::backends().await {
        talab_db::on_pool!(&t.db, pool => {
            talab_db::sqlx::query("CREATE TABLE journal_test (symbol TEXT NOT NULL)").execute(pool).await.map(|_| ())
        })
        .unwrap();
        for (i, s) in ["AAA", "BBB", "CCC"].iter().enumerate() {
            load(&t.db, s, &series(30, i as u64)).await;
        }
        let store = SqlFeatureStore::open(t.db.clone()).await.unwrap();
        let request = RefreshRequest {
            symbols: vec!["AAA".into(), "BBB".into(), "CCC".into()],
            tfs: vec!["1D".into()],
            periods: vec![9],
            ..RefreshRequest::default()
        };
        let plan = store.check_refresh(&request).await.unwrap();
        let journal = Arc::new(TableJournal {
            fail: Some("BBB".into()),
            calls: Mutex::default(),
        });
        let watch = RefreshWatch {
            journal: Some(journal.clone()),
            on_symbol: None,
        };
        let report = store.refresh(&plan, &watch).await.unwrap();
        // Once per symbol (in any order: PostgreSQL refreshes several at once).
        let mut calls = journal.calls.lock().unwrap().clone();
        calls.sort();
        assert_eq!(calls, ["AAA", "BBB", "CCC"], "{}", t.label());
        let failed: Vec<&str> = report
            .symbols
            .iter()
            .filter(|s| s.error.is_some())
            .map(|s| s.symbol.as_str())
            .collect();
        assert_eq!(failed, ["BBB"], "{}", t.label());
        let journaled: Vec<String> = talab_db::on_pool!(&t.db, pool => {
            talab_db::sqlx::query_scalar("SELECT symbol FROM journal_test ORDER BY symbol").fetch_all(pool).await
        })
        .unwrap();
        assert_eq!(journaled, ["AAA", "CCC"], "{}", t.label());
        for (symbol, stored) in [("AAA", true), ("BBB", false), ("CCC", true)] {
            let (_, coverage) = store.ema_coverage(symbol, &one_d()).await.unwrap();
            assert_eq!(coverage.stored().is_some(), stored, "{}: {symbol}", t.label());
        }
    }
}
