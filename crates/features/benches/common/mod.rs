//! What the benches compare talab's writes with: the backend's own bulk loader (`psql \copy` on
//! PostgreSQL, the `sqlite3` shell's `.import` on SQLite) loading the same rows into an identical
//! empty table on the same machine, the write limit the issues' targets are stated against.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Instant;
use talab_db::sqlx;

use talab_db::testing::TestDb;
use talab_db::{Pool, on_pool};

/// The test databases to bench on: SQLite and PostgreSQL (as the tests find them), or only the
/// backend `TALAB_BENCH_BACKEND` names (`sqlite` or `postgres`).
pub async fn backends() -> Vec<TestDb> {
    let only = std::env::var("TALAB_BENCH_BACKEND")
        .ok()
        .map(|b| b.to_lowercase());
    let mut all = talab_db::testing::backends().await;
    all.retain(|t| {
        only.as_deref()
            .is_none_or(|b| t.label().to_lowercase().starts_with(b))
    });
    all
}

/// The loader's name, as printed.
pub fn loader_name(t: &TestDb) -> &'static str {
    match t.db.pool() {
        Pool::Sqlite(_) => "sqlite3 .import",
        Pool::Postgres(_) => "psql \\copy",
    }
}

/// Seconds the backend's loader takes for the rows now in `tables` (all of one shape), loaded
/// into one identical empty table. Closes a SQLite database (the shell needs the file to itself):
/// call it last. None (with the reason on stderr) when the tool is missing or fails.
pub async fn loader_baseline(t: &TestDb, tables: &[&str]) -> Option<f64> {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("rows.csv");
    let all = tables
        .iter()
        .map(|t| format!("SELECT * FROM {t}"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    match t.db.pool() {
        Pool::Postgres(_) => {
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
            psql(&format!("\\copy ({all}) TO '{}'", csv.display()))?;
            psql(&format!(
                "CREATE TABLE bench_copy (LIKE {} INCLUDING ALL)",
                tables[0]
            ))?;
            let started = Instant::now();
            psql(&format!("\\copy bench_copy FROM '{}'", csv.display()))?;
            Some(started.elapsed().as_secs_f64())
        }
        Pool::Sqlite(_) => {
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
                sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = $1")
                    .bind(tables[0])
                    .fetch_one(pool)
                    .await
            })
            .unwrap();
            t.db.close().await;
            shell(&format!(".mode csv\n.output {}\n{all};", csv.display()))?;
            shell(&ddl.replacen(tables[0], "bench_copy", 1))?;
            let started = Instant::now();
            shell(&format!(
                "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\n.import --csv {} bench_copy",
                csv.display()
            ))?;
            Some(started.elapsed().as_secs_f64())
        }
    }
}

/// Prints the loader's rate for the rows now in `tables` and how talab's rate (`rows_per_sec`)
/// compares. Closes a SQLite database, like [`loader_baseline`].
pub async fn print_baseline(t: &TestDb, tables: &[&str], rows_per_sec: f64, what: &str) {
    let mut rows = 0i64;
    for table in tables {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let n: i64 = on_pool!(&t.db, pool => sqlx::query_scalar(&sql).fetch_one(pool).await).unwrap();
        rows += n;
    }
    if let Some(base) = loader_baseline(t, tables).await {
        let rate = rows as f64 / base;
        println!(
            "{:<10} {} of the same {rows} rows into the same table: {base:.2} s ({rate:.0} rows/s); {what} at {:.0}% of that rate",
            t.label(),
            loader_name(t),
            100.0 * rows_per_sec / rate
        );
    }
}
