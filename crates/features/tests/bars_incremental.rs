//! Incremental bars equal a full build: resuming a builder from its last stored row (property test
//! over random series with gaps and random split days), and the store's extend vs rebuild on both
//! backends, including a revised and a back-filled day.

use crate::bars_common;
use talab_db::sqlx;

use bars_common::{d, random_series, tf};
use proptest::prelude::*;
use talab_features::bars::{MultiTfBar, SnapshotBuilder, build_all, build_snapshots, store};
use talab_features::{DEFAULT_CANONICAL_TIMEFRAMES, DailyBar, MIGRATIONS, Timeframe};

const TFS: [&str; 12] = [
    "1D",
    "2D",
    "5D",
    "14D",
    "1W_CAL_US",
    "1W_CAL_ISO",
    "2W_CAL_ANCHOR_ISO",
    "1M_CAL",
    "5M_CAL_ANCHOR",
    "1Q_CAL",
    "1Y_CAL_ANCHOR",
    "3M_CAL",
];

/// Builds the first `split` days, then resumes from what a store would keep (the last row and the
/// last day consumed) and builds the rest.
fn split_build(code: &str, bars: &[DailyBar], split: usize) -> Vec<MultiTfBar> {
    let t = tf(code);
    let mut rows = build_snapshots(t, &bars[..split]).unwrap();
    let last_day = bars[split - 1].day;
    let last_row = rows.last().filter(|r| r.day == last_day).copied();
    let mut b = SnapshotBuilder::resume(t, bars[0].day, last_day, last_row.as_ref()).unwrap();
    b.push_all(&bars[split..], &mut rows).unwrap();
    rows
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn resumed_build_equals_full_build(seed in any::<u64>(), span in 2usize..800, keep in 0.3f64..1.0, split_frac in 0.0f64..1.0, start_off in 0i64..400) {
        let start = d("2019-11-20") + chrono::Duration::days(start_off);
        let bars = random_series(seed, start, span, keep);
        prop_assume!(bars.len() >= 2);
        let split = 1 + ((bars.len() - 1) as f64 * split_frac) as usize;
        for code in TFS {
            let full = build_snapshots(tf(code), &bars).unwrap();
            prop_assert_eq!(&split_build(code, &bars, split), &full, "{} split at {}", code, split);
            // Invariants of every row.
            for r in &full {
                prop_assert!(r.low <= r.close && r.close <= r.high && r.count_days >= 1 && r.count_missing_days >= 0);
                prop_assert!(r.pos_in_bar >= r.count_days + r.count_missing_days);
            }
        }
    }

    #[test]
    fn a_revised_day_changes_rows_from_its_bar_on_only(seed in any::<u64>(), span in 10usize..300, pick in 0.0f64..1.0) {
        let bars = random_series(seed, d("2020-01-01"), span, 0.8);
        let i = ((bars.len() - 1) as f64 * pick) as usize;
        let mut revised = bars.clone();
        revised[i].close = revised[i].open; // stays within [low, high]
        revised[i].volume += 1.0;
        for code in ["3D", "1W_CAL_ISO", "1M_CAL"] {
            let before = build_snapshots(tf(code), &bars).unwrap();
            let after = build_snapshots(tf(code), &revised).unwrap();
            // Rows before the revised day are untouched; the revised day's row differs.
            let k = before.iter().position(|r| r.day >= revised[i].day).unwrap_or(before.len());
            prop_assert_eq!(&before[..k], &after[..k]);
            if k < after.len() && after[k].day == revised[i].day {
                prop_assert!(after[k].volume != before[k].volume);
            }
        }
    }
}

fn canonical() -> Vec<Timeframe> {
    DEFAULT_CANONICAL_TIMEFRAMES.iter().map(|c| tf(c)).collect()
}

async fn stored(db: &talab_db::Database, symbol: &str, tfs: &[Timeframe]) -> Vec<MultiTfBar> {
    let mut all = Vec::new();
    for t in tfs {
        all.extend(store::load_bars(db, symbol, t).await.unwrap());
    }
    all
}

async fn count(db: &talab_db::Database, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    talab_db::on_pool!(db, pool => sqlx::query_scalar(&sql).fetch_one(pool).await).unwrap()
}

#[tokio::test]
async fn writer_round_trips_counts_and_reruns_change_nothing() {
    let tfs = canonical();
    let bars = random_series(7, d("2020-01-01"), 900, 0.95);
    let expected = build_all(&tfs, &bars).unwrap();
    let n_day = expected.iter().filter(|r| !r.tf.is_calendar()).count() as i64;
    let n_cal = expected.len() as i64 - n_day;
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        db.migrate(&MIGRATIONS).await.unwrap();
        let s = store::rebuild_asset(db, "btc", &bars, &tfs).await.unwrap();
        assert_eq!(s.rows_written, expected.len() as u64, "{}", t.label());
        assert_eq!(s.rebuilt.len(), tfs.len());
        assert_eq!(count(db, store::TF_DAY_TABLE).await, n_day, "{}", t.label());
        assert_eq!(count(db, store::CALENDAR_TABLE).await, n_cal, "{}", t.label());
        assert_eq!(
            stored(db, "BTC", &tfs).await,
            expected,
            "{}: stored rows read back equal",
            t.label()
        );
        // Re-running changes nothing: an extend with no new days writes nothing, a rebuild the same rows.
        let again = store::extend_asset(db, "BTC", &bars, &tfs).await.unwrap();
        assert_eq!(
            (again.rows_written, again.extended.len()),
            (0, tfs.len()),
            "{}",
            t.label()
        );
        store::rebuild_asset(db, "BTC", &bars, &tfs).await.unwrap();
        assert_eq!(
            count(db, store::TF_DAY_TABLE).await + count(db, store::CALENDAR_TABLE).await,
            expected.len() as i64
        );
        assert_eq!(stored(db, "BTC", &tfs).await, expected, "{}", t.label());
        // A series larger than one statement (SQLite: 2047 rows, PostgreSQL: 4095) in one tf.
        let long = random_series(8, d("2000-01-01"), 9000, 1.0);
        let s = store::rebuild_asset(db, "LONG", &long, &[tf("1D")])
            .await
            .unwrap();
        assert_eq!(s.rows_written, 9000, "{}", t.label());
        assert_eq!(store::load_bars(db, "LONG", &tf("1D")).await.unwrap().len(), 9000);
    }
}

#[tokio::test]
async fn extend_equals_rebuild_and_revisions_rebuild() {
    let tfs: Vec<Timeframe> = TFS.iter().map(|c| tf(c)).collect();
    let bars = random_series(11, d("2020-02-10"), 500, 0.9);
    let full = build_all(&tfs, &bars).unwrap();
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        db.migrate(&MIGRATIONS).await.unwrap();
        // Grow the series in three steps.
        for end in [1, 200, 333, bars.len()] {
            let s = store::extend_asset(db, "ETH", &bars[..end], &tfs).await.unwrap();
            if end > 1 {
                assert_eq!(s.extended.len(), tfs.len(), "{} at {end}: {s:?}", t.label());
            }
        }
        assert_eq!(
            stored(db, "ETH", &tfs).await,
            full,
            "{}: extend == full",
            t.label()
        );
        // A revised day in the middle: the fingerprint differs, so every tf is rebuilt.
        let mut revised = bars.clone();
        revised[123].high *= 1.5;
        let s = store::extend_asset(db, "ETH", &revised, &tfs).await.unwrap();
        assert_eq!(s.rebuilt.len(), tfs.len(), "{}", t.label());
        assert_eq!(
            stored(db, "ETH", &tfs).await,
            build_all(&tfs, &revised).unwrap(),
            "{}",
            t.label()
        );
        // A back-filled day before the first one: a new origin, rebuilt too.
        let mut backfilled = vec![random_series(3, d("2020-02-01"), 1, 1.0).remove(0)];
        backfilled.extend(revised.iter().cloned());
        let s = store::extend_asset(db, "ETH", &backfilled, &tfs).await.unwrap();
        assert_eq!(s.rebuilt.len(), tfs.len());
        assert_eq!(
            stored(db, "ETH", &tfs).await,
            build_all(&tfs, &backfilled).unwrap(),
            "{}",
            t.label()
        );
        // A back-filled gap day inside the history (a missing day appears) also rebuilds.
        let missing = (1..backfilled.len())
            .find(|&i| (backfilled[i].day - backfilled[i - 1].day).num_days() > 1)
            .unwrap();
        let mut filled = backfilled.clone();
        let mut extra = filled[missing - 1].clone();
        extra.day = extra.day.succ_opt().unwrap();
        extra.time_open += chrono::Duration::days(1);
        extra.time_close += chrono::Duration::days(1);
        extra.time_high += chrono::Duration::days(1);
        extra.time_low += chrono::Duration::days(1);
        filled.insert(missing, extra);
        let s = store::extend_asset(db, "ETH", &filled, &tfs).await.unwrap();
        assert_eq!(s.rebuilt.len(), tfs.len());
        assert_eq!(
            stored(db, "ETH", &tfs).await,
            build_all(&tfs, &filled).unwrap(),
            "{}",
            t.label()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn store_extend_at_a_random_split_equals_rebuild(seed in any::<u64>(), span in 30usize..400, split_frac in 0.05f64..0.95) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let tfs: Vec<Timeframe> = TFS.iter().map(|c| tf(c)).collect();
            let bars = random_series(seed, d("2021-06-15"), span, 0.85);
            let split = 1 + ((bars.len() - 1) as f64 * split_frac) as usize;
            let t = talab_db::testing::sqlite().await;
            t.db.migrate(&MIGRATIONS).await.unwrap();
            store::extend_asset(&t.db, "X", &bars[..split], &tfs).await.unwrap();
            store::extend_asset(&t.db, "X", &bars, &tfs).await.unwrap();
            assert_eq!(stored(&t.db, "X", &tfs).await, build_all(&tfs, &bars).unwrap());
        });
    }
}
