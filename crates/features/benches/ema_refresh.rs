//! The EMA refresh end to end, next to what the database's own bulk loader does with the same rows.
//!
//! `cargo bench -p talab-features --bench ema_refresh` prints, for SQLite and PostgreSQL
//! (`TALAB_TEST_DATABASE_URL`, default the local server):
//! 1. full refresh of the real BTC + ETH histories, default set (13 timeframes × 7 periods): time,
//!    rows/s, and the split between reading + computing and writing;
//! 2. the same rows loaded by `psql \copy` (PostgreSQL) or the `sqlite3` shell's `.import`
//!    (SQLite) into an identical empty table: the write limit of the machine;
//! 3. synthetic assets (EMA_BENCH_ASSETS, default 100 × EMA_BENCH_YEARS, default 5 years): the full
//!    rebuild's rows/s, then one new day for every asset and the incremental refresh's time;
//! 4. intraday: EMA_BENCH_HOURLY_ASSETS (default 10) assets × EMA_BENCH_HOURLY_DAYS (default 365)
//!    of hourly bars, 1H and 4H × 7 periods: the full rebuild's rows/s, then one new hour each.
//!
//! `TALAB_BENCH_BACKEND=sqlite|postgres` runs one backend only. Symbols are refreshed as
//! `talab refresh-ema` does, several at once on PostgreSQL (`EMA_BENCH_JOBS` overrides
//! [`EmaRefresher::concurrency`]).
//!
//! Timings are printed, never asserted; one run each (they take seconds to minutes).

mod common;

use std::path::Path;
use std::time::Instant;

use chrono::NaiveDate;
use futures_util::StreamExt;
use talab_db::Database;
use talab_features::sources::Interval;
use talab_features::{
    EmaRefresher, IngestOptions, RawPrice, RefreshOptions, SourceKind, SyntheticSource, Timeframe,
    ingest_csv, store_hourly,
};

fn data(name: &str) -> String {
    format!("{}/../../tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Refreshes `symbols` as `talab refresh-ema` does ([`EmaRefresher::refresh_each`]): rows, wall
/// seconds, and read+compute / write seconds summed over symbols (they overlap on PostgreSQL).
async fn refresh_all(db: &Database, symbols: &[String]) -> (u64, f64, f64, f64) {
    refresh_with(db, symbols, &RefreshOptions::default()).await
}

/// [`refresh_all`] with other options (timeframes, periods).
async fn refresh_with(db: &Database, symbols: &[String], options: &RefreshOptions) -> (u64, f64, f64, f64) {
    let mut engine = EmaRefresher::open(db.clone()).await.unwrap();
    if let Some(jobs) = std::env::var("EMA_BENCH_JOBS").ok().and_then(|v| v.parse().ok()) {
        engine = engine.with_concurrency(jobs);
    }
    let (tfs, periods) = engine.resolve(options).await.unwrap();
    let started = Instant::now();
    let (mut rows, mut compute, mut write) = (0, 0.0, 0.0);
    let mut each = std::pin::pin!(engine.refresh_each(symbols, &tfs, &periods, options));
    while let Some((_, result)) = each.next().await {
        let r = result.unwrap();
        rows += r.rows();
        compute += r.compute_ms;
        write += r.write_ms;
    }
    (rows, started.elapsed().as_secs_f64(), compute / 1e3, write / 1e3)
}

async fn real_histories(t: &talab_db::testing::TestDb) {
    for (file, symbol) in [("coin_Bitcoin.csv", "BTC"), ("coin_Ethereum.csv", "ETH")] {
        let o = IngestOptions {
            symbol: Some(symbol.into()),
            ..Default::default()
        };
        ingest_csv(&t.db, Path::new(&data(file)), &o).await.unwrap();
    }
    let (rows, secs, compute, write) = refresh_all(&t.db, &["BTC".into(), "ETH".into()]).await;
    println!(
        "{:<10} BTC+ETH full refresh: {rows} rows in {secs:.2} s ({:.0} rows/s; read+compute {compute:.2} s, write {write:.2} s, summed over symbols)",
        t.label(),
        rows as f64 / secs
    );
    common::print_baseline(t, &EMA_TABLES, rows as f64 / secs, "the refresh, end to end,").await;
}

const EMA_TABLES: [&str; 2] = ["cmc_ema_multi_tf", "cmc_ema_multi_tf_cal"];

async fn synthetic(t: &talab_db::testing::TestDb, assets: usize, years: usize) {
    let days = years * 365;
    let source = SyntheticSource::new(11).with_start(NaiveDate::from_ymd_opt(2015, 1, 1).unwrap());
    let symbols: Vec<String> = (0..assets).map(|i| format!("S{i:03}")).collect();
    talab_features::ingest::ingest_synthetic(&t.db, &source, &symbols, days, false)
        .await
        .unwrap();
    let (rows, secs, compute, write) = refresh_all(&t.db, &symbols).await;
    println!(
        "{:<10} {assets} assets × {years} y full rebuild: {rows} rows in {secs:.1} s ({:.0} rows/s; read+compute {compute:.1} s, write {write:.1} s, summed over symbols)",
        t.label(),
        rows as f64 / secs
    );
    let full_rate = rows as f64 / secs;
    talab_features::ingest::ingest_synthetic(&t.db, &source, &symbols, days + 1, false)
        .await
        .unwrap();
    let (rows, secs, compute, write) = refresh_all(&t.db, &symbols).await;
    println!(
        "{:<10} {assets} assets, one new day, incremental: {rows} rows in {secs:.2} s (read+compute {compute:.2} s, write {write:.2} s, summed over symbols)",
        t.label()
    );
    common::print_baseline(t, &EMA_TABLES, full_rate, "the full rebuild, end to end,").await;
}

/// `hours` hourly candles of a seeded random walk from 2024-01-01 00:00 UTC.
fn hourly_walk(symbol: &str, hours: usize, seed: u64) -> Vec<RawPrice> {
    let start = talab_features::day_start(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap());
    let (mut state, mut price) = (seed, 100.0f64);
    (0..hours)
        .map(|h| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            price *= 1.0 + (((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5) * 0.01;
            let open = start + chrono::Duration::hours(h as i64);
            RawPrice {
                symbol: symbol.into(),
                ts: Interval::Hour.close_of(open),
                time_open: open,
                time_close: Interval::Hour.close_of(open),
                time_high: None,
                time_low: None,
                open: Some(price),
                high: Some(price),
                low: Some(price),
                close: Some(price),
                volume: Some(1.0),
                market_cap: None,
                source: SourceKind::Binance,
                source_file: None,
            }
        })
        .collect()
}

async fn intraday(t: &talab_db::testing::TestDb, assets: usize, days: usize) {
    let symbols: Vec<String> = (0..assets).map(|i| format!("H{i:03}")).collect();
    let hours = days * 24;
    for (i, s) in symbols.iter().enumerate() {
        store_hourly(
            &t.db,
            s,
            SourceKind::Binance,
            hourly_walk(s, hours, i as u64),
            false,
        )
        .await
        .unwrap();
    }
    let options = RefreshOptions {
        tfs: ["1H", "4H"]
            .iter()
            .map(|c| Timeframe::parse(c).unwrap())
            .collect(),
        ..RefreshOptions::default()
    };
    let (rows, secs, compute, write) = refresh_with(&t.db, &symbols, &options).await;
    println!(
        "{:<10} {assets} assets × {days} days hourly, 1H+4H × 7 periods full rebuild: {rows} rows in {secs:.1} s ({:.0} rows/s; read+compute {compute:.1} s, write {write:.1} s, summed over symbols)",
        t.label(),
        rows as f64 / secs
    );
    for (i, s) in symbols.iter().enumerate() {
        let next = hourly_walk(s, hours + 1, i as u64).split_off(hours);
        store_hourly(&t.db, s, SourceKind::Binance, next, false)
            .await
            .unwrap();
    }
    let (rows, secs, ..) = refresh_with(&t.db, &symbols, &options).await;
    println!(
        "{:<10} {assets} assets, one new hour, incremental: {rows} rows in {secs:.2} s",
        t.label()
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let env_usize = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let assets = env_usize("EMA_BENCH_ASSETS", 100);
    let years = env_usize("EMA_BENCH_YEARS", 5);
    let hourly_assets = env_usize("EMA_BENCH_HOURLY_ASSETS", 10);
    let hourly_days = env_usize("EMA_BENCH_HOURLY_DAYS", 365);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        for t in common::backends().await {
            real_histories(&t).await;
        }
        if assets > 0 {
            for t in common::backends().await {
                synthetic(&t, assets, years).await;
            }
        }
        if hourly_assets > 0 {
            for t in common::backends().await {
                intraday(&t, hourly_assets, hourly_days).await;
            }
        }
    });
}
