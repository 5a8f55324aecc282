//! The EMA refresh end to end, next to what the database's own bulk loader does with the same rows.
//!
//! `cargo bench -p talab-features --bench ema_refresh` prints, for SQLite and PostgreSQL
//! (`TALAB_TEST_DATABASE_URL`, default the local server):
//! 1. full refresh of the real BTC + ETH histories, default set (13 timeframes × 7 periods): time,
//!    rows/s, and the split between reading + computing and writing;
//! 2. the same rows loaded by `psql \copy` (PostgreSQL) or the `sqlite3` shell's `.import`
//!    (SQLite) into an identical empty table: the write limit of the machine;
//! 3. synthetic assets (EMA_BENCH_ASSETS, default 100 × EMA_BENCH_YEARS, default 5 years): the full
//!    rebuild's rows/s, then one new day for every asset and the incremental refresh's time.
//!
//! Timings are printed, never asserted; one run each (they take seconds to minutes).

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::NaiveDate;
use talab_db::{Database, on_pool};
use talab_features::{EmaRefresher, IngestOptions, RefreshOptions, SyntheticSource, ingest_csv};

fn data(name: &str) -> String {
    format!("{}/../../../shared/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

async fn refresh_all(db: &Database, symbols: &[String]) -> (u64, f64, f64, f64) {
    let engine = EmaRefresher::open(db.clone()).await.unwrap();
    let started = Instant::now();
    let (mut rows, mut compute, mut write) = (0, 0.0, 0.0);
    for s in symbols {
        let r = engine
            .refresh_symbol(s, &RefreshOptions::default())
            .await
            .unwrap();
        rows += r.rows();
        compute += r.compute_ms;
        write += r.write_ms;
    }
    (rows, started.elapsed().as_secs_f64(), compute / 1e3, write / 1e3)
}

/// Time of the backend's own bulk loader for the rows now in `cmc_ema_multi_tf` +
/// `cmc_ema_multi_tf_cal`, loaded into an identical empty table.
async fn loader_baseline(t: &talab_db::testing::TestDb) -> Option<f64> {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("rows.csv");
    match &t.db {
        Database::Postgres(_) => {
            let url = t.url();
            let psql = |sql: &str| {
                let out = Command::new("psql")
                    .arg(&url)
                    .arg("-qAtc")
                    .arg(sql)
                    .output()
                    .ok()?;
                out.status.success().then_some(()).or_else(|| {
                    eprintln!("psql: {}", String::from_utf8_lossy(&out.stderr));
                    None
                })
            };
            let all = "(SELECT * FROM cmc_ema_multi_tf UNION ALL SELECT * FROM cmc_ema_multi_tf_cal)";
            psql(&format!("\\copy {all} TO '{}'", csv.display()))?;
            psql("CREATE TABLE bench_copy (LIKE cmc_ema_multi_tf INCLUDING ALL)")?;
            let started = Instant::now();
            psql(&format!("\\copy bench_copy FROM '{}'", csv.display()))?;
            Some(started.elapsed().as_secs_f64())
        }
        Database::Sqlite(_) => {
            let file = t.url().trim_start_matches("sqlite://").to_string();
            // The script goes in on stdin: given as an argument, a leading dot-command swallows
            // every line after it.
            let shell = |script: &str| {
                let mut child = Command::new("sqlite3")
                    .arg(&file)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .ok()?;
                let script = format!(".timeout 30000\n{script}\n");
                child.stdin.take()?.write_all(script.as_bytes()).ok()?;
                let out = child.wait_with_output().ok()?;
                out.status.success().then_some(()).or_else(|| {
                    eprintln!("sqlite3: {}", String::from_utf8_lossy(&out.stderr));
                    None
                })
            };
            let ddl: String = on_pool!(&t.db, pool => {
                sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = 'cmc_ema_multi_tf'").fetch_one(pool).await
            })
            .unwrap();
            t.db.close().await;
            let export = format!(
                ".mode csv\n.output {}\nSELECT * FROM cmc_ema_multi_tf UNION ALL SELECT * FROM cmc_ema_multi_tf_cal;",
                csv.display()
            );
            shell(&export)?;
            shell(&ddl.replace("cmc_ema_multi_tf", "bench_copy"))?;
            let started = Instant::now();
            shell(&format!(
                "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\n.import --csv {} bench_copy",
                csv.display()
            ))?;
            Some(started.elapsed().as_secs_f64())
        }
    }
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
        "{:<10} BTC+ETH full refresh: {rows} rows in {secs:.2} s ({:.0} rows/s; read+compute {compute:.2} s, write {write:.2} s)",
        t.label(),
        rows as f64 / secs
    );
    if let Some(base) = loader_baseline(t).await {
        let tool = if matches!(t.db, Database::Sqlite(_)) {
            "sqlite3 .import"
        } else {
            "psql \\copy"
        };
        println!(
            "{:<10} {tool} of the same {rows} rows into the same table: {base:.2} s ({:.0} rows/s); refresh writes at {:.0}% of it",
            t.label(),
            rows as f64 / base,
            100.0 * base / write
        );
    }
}

async fn synthetic(t: &talab_db::testing::TestDb, assets: usize, years: usize) {
    let days = years * 365;
    let source = SyntheticSource::new(11).with_start(NaiveDate::from_ymd_opt(2015, 1, 1).unwrap());
    let symbols: Vec<String> = (0..assets).map(|i| format!("S{i:03}")).collect();
    talab_features::ingest::ingest_synthetic(&t.db, &source, &symbols, days, false)
        .await
        .unwrap();
    let (rows, secs, compute, write) = refresh_all(&t.db, &symbols).await;
    println!(
        "{:<10} {assets} assets × {years} y full rebuild: {rows} rows in {secs:.1} s ({:.0} rows/s; read+compute {compute:.1} s, write {write:.1} s)",
        t.label(),
        rows as f64 / secs
    );
    talab_features::ingest::ingest_synthetic(&t.db, &source, &symbols, days + 1, false)
        .await
        .unwrap();
    let (rows, secs, compute, write) = refresh_all(&t.db, &symbols).await;
    println!(
        "{:<10} {assets} assets, one new day, incremental: {rows} rows in {secs:.2} s (read+compute {compute:.2} s, write {write:.2} s)",
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
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        for t in talab_db::testing::backends().await {
            real_histories(&t).await;
        }
        if assets > 0 {
            for t in talab_db::testing::backends().await {
                synthetic(&t, assets, years).await;
            }
        }
    });
}
