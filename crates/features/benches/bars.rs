//! Throughput of the snapshot bar builders: every default canonical timeframe for 100 synthetic
//! assets × 10 years of daily bars (rows per second), pure compute (criterion), then written to
//! SQLite and PostgreSQL (`TALAB_TEST_DATABASE_URL`, as the tests find it) through the batched
//! writer, next to `psql \copy` / `sqlite3 .import` of the same rows. Run with
//! `cargo bench -p talab-features --bench bars` (`TALAB_BENCH_BACKEND=sqlite|postgres`: one backend).

mod common;

use std::hint::black_box;
use std::time::Instant;

use chrono::{Duration, NaiveDate};
use criterion::{Criterion, Throughput};
use talab_features::bars::{build_all, store};
use talab_features::{DEFAULT_CANONICAL_TIMEFRAMES, DailyBar, MIGRATIONS, Timeframe};

const ASSETS: usize = 100;
const DAYS: usize = 3_653;

/// A deterministic random walk of daily bars (xorshift noise, ±4 % a day).
fn series(seed: u64) -> Vec<DailyBar> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut rnd = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let start = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
    let mut close = 100.0;
    (0..DAYS)
        .map(|i| {
            let day = start + Duration::days(i as i64);
            let open = close;
            close = open * (1.0 + (rnd() - 0.5) * 0.08);
            let high = open.max(close) * (1.0 + rnd() * 0.02);
            let low = open.min(close) * (1.0 - rnd() * 0.02);
            let t0 = day.and_hms_opt(0, 0, 0).unwrap().and_utc();
            DailyBar {
                day,
                time_open: t0,
                time_close: t0 + Duration::milliseconds(86_399_999),
                time_high: t0 + Duration::hours(6),
                time_low: t0 + Duration::hours(18),
                open,
                high,
                low,
                close,
                volume: 1e6 * (1.0 + rnd()),
                market_cap: None,
            }
        })
        .collect()
}

fn canonical() -> Vec<Timeframe> {
    DEFAULT_CANONICAL_TIMEFRAMES
        .iter()
        .map(|c| Timeframe::parse(c).unwrap())
        .collect()
}

fn compute(c: &mut Criterion) {
    let assets: Vec<Vec<DailyBar>> = (0..ASSETS as u64).map(series).collect();
    let tfs = canonical();
    let rows: usize = assets.iter().map(|a| build_all(&tfs, a).unwrap().len()).sum();
    let mut group = c.benchmark_group("bars_compute");
    group.throughput(Throughput::Elements(rows as u64));
    group.sample_size(10);
    group.bench_function("canonical_100_assets_x_10y", |b| {
        b.iter(|| {
            let mut n = 0;
            for a in &assets {
                n += build_all(black_box(&tfs), black_box(a)).unwrap().len();
            }
            n
        })
    });
    group.finish();
}

/// One rebuild of every asset's bars per backend (it takes tens of seconds: timed once, not
/// sampled), then the backend's own loader on the same rows.
fn write() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let assets: Vec<Vec<DailyBar>> = (0..ASSETS as u64).map(series).collect();
    let tfs = canonical();
    rt.block_on(async {
        for t in common::backends().await {
            t.db.migrate(&MIGRATIONS).await.unwrap();
            let started = Instant::now();
            let mut rows = 0;
            for (i, a) in assets.iter().enumerate() {
                rows += store::rebuild_asset(&t.db, &format!("SYN{i}"), a, &tfs)
                    .await
                    .unwrap()
                    .rows_written;
            }
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{:<10} bars of {ASSETS} assets × 10 y, {} timeframes: {rows} rows in {secs:.1} s ({:.0} rows/s)",
                t.label(),
                tfs.len(),
                rows as f64 / secs
            );
            let tables = ["cmc_price_bars_multi_tf", "cmc_price_bars_multi_tf_cal"];
            common::print_baseline(&t, &tables, rows as f64 / secs, "the bar rebuild").await;
        }
    });
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    compute(&mut c);
    c.final_summary();
    write();
}
