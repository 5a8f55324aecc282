//! Throughput of the snapshot bar builders: every default canonical timeframe for 100 synthetic
//! assets × 10 years of daily bars (rows per second), pure compute, then written to SQLite and
//! PostgreSQL through the batched writer. Run with `cargo bench -p talab-features --bench bars`;
//! PostgreSQL is used when `TALAB_BENCH_DATABASE_URL` names a server (e.g. postgres://postgres@127.0.0.1:5432/postgres).

use std::hint::black_box;

use chrono::{Duration, NaiveDate};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
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

fn write(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let assets: Vec<Vec<DailyBar>> = (0..ASSETS as u64).map(series).collect();
    let tfs = canonical();
    let rows: usize = assets.iter().map(|a| build_all(&tfs, a).unwrap().len()).sum();
    let dir = tempfile::tempdir().unwrap();
    let mut targets = vec![("sqlite", format!("sqlite://{}/bench.db", dir.path().display()))];
    if let Ok(url) = std::env::var("TALAB_BENCH_DATABASE_URL") {
        targets.push(("postgres", rt.block_on(fresh_pg_schema(&url))));
    }
    let mut group = c.benchmark_group("bars_write");
    group.throughput(Throughput::Elements(rows as u64));
    group.sample_size(10);
    for (name, url) in targets {
        let db = rt.block_on(async {
            let db = talab_db::Database::connect(&url).await.unwrap();
            db.migrate(&MIGRATIONS).await.unwrap();
            db
        });
        group.bench_function(format!("rebuild_canonical_100_assets_x_10y_{name}"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    for (i, a) in assets.iter().enumerate() {
                        store::rebuild_asset(&db, &format!("SYN{i}"), a, &tfs)
                            .await
                            .unwrap();
                    }
                })
            })
        });
        rt.block_on(db.close());
    }
    group.finish();
    if let Ok(url) = std::env::var("TALAB_BENCH_DATABASE_URL") {
        rt.block_on(async {
            let admin = talab_db::Database::connect(&url).await.unwrap();
            let sql = format!(
                "DROP SCHEMA IF EXISTS talab_bench_bars_{} CASCADE",
                std::process::id()
            );
            talab_db::on_pool!(&admin, pool => sqlx::raw_sql(&sql).execute(pool).await.map(|_| ())).unwrap();
            admin.close().await;
        });
    }
}

/// A new schema on the server (the bench never writes into an existing one); returns its URL.
async fn fresh_pg_schema(url: &str) -> String {
    let schema = format!("talab_bench_bars_{}", std::process::id());
    let admin = talab_db::Database::connect(url).await.unwrap();
    talab_db::on_pool!(&admin, pool => sqlx::raw_sql(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).execute(pool).await.map(|_| ())).unwrap();
    admin.close().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

criterion_group!(benches, compute, write);
criterion_main!(benches);
