//! Throw-away databases for tests on both backends, and the other resources tests need.
//!
//! Each test gets its own SQLite file and its own PostgreSQL schema, so tests run in parallel
//! without seeing each other's rows. PostgreSQL comes from `TALAB_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). A test that cannot reach it fails, saying how to
//! point it at a server or go without (`TALAB_TEST_SKIP=postgres`, see [`skip`]): a test that did
//! not run must not report `ok`.
//!
//! A schema is dropped when its [`TestDb`] is dropped, a failing test's too (its connections are
//! ended first, so a transaction left open by the panic cannot hold the drop up). Schemas that no
//! drop could remove (a killed test process) are swept by the next run: their names carry the
//! hour they were made, and the first test of each process drops those more than a day old.
//!
//! ```no_run
//! # async fn demo() {
//! for t in talab_db::testing::backends().await {
//!     // t.db is a fresh, empty database; t.label() says which backend, for assertion messages.
//!     assert!(!t.label().is_empty());
//! }
//! # }
//! ```

use std::str::FromStr;

use sqlx::Executor;
use sqlx::postgres::PgConnectOptions;

use crate::{Database, Pool};

pub mod chroma;
pub mod pgvector;
pub mod python;
pub mod skip;

pub use python::minilm_model_dir;
pub use skip::{Resource, SKIP_ENV};

/// The last part of a log file, for a failure message.
pub(crate) fn log_tail(path: &std::path::Path) -> String {
    let mut text = String::new();
    let _ = std::fs::File::open(path).and_then(|mut f| std::io::Read::read_to_string(&mut f, &mut text));
    let start = text.len().saturating_sub(1500);
    let start = (start..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    text[start..].trim().to_string()
}

/// Environment variable naming the PostgreSQL server tests use.
pub const PG_URL_ENV: &str = "TALAB_TEST_DATABASE_URL";
/// The server tests use when the variable is not set (the machine's local one, trust auth).
pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists for one test and is removed when dropped.
pub struct TestDb {
    /// The fresh, migrated-nothing database.
    pub db: Database,
    /// Keeps the SQLite file's folder alive.
    dir: Option<tempfile::TempDir>,
    /// The PostgreSQL schema to drop afterwards, with the URL to drop it through.
    schema: Option<(String, String)>,
}

impl TestDb {
    /// "SQLite" or "PostgreSQL", for assertion messages.
    pub fn label(&self) -> &'static str {
        self.db.backend().name()
    }

    /// The folder of a SQLite test database (None on PostgreSQL).
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(|d| d.path())
    }

    /// A URL that opens this same database from another process or pool.
    pub fn url(&self) -> String {
        match (self.db.pool(), &self.schema) {
            (Pool::Sqlite(pool), _) => {
                format!("sqlite://{}", pool.connect_options().get_filename().display())
            }
            (Pool::Postgres(_), Some((url, schema))) => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}options=-c%20search_path%3D{schema}")
            }
            (Pool::Postgres(_), None) => unreachable!("a PostgreSQL test database always has a schema"),
        }
    }
}

/// A fresh SQLite file in a temporary folder.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary folder for a test database");
    let url = format!("sqlite://{}", dir.path().join("talab.db").display());
    let db = Database::connect(&url)
        .await
        .expect("open a SQLite test database");
    TestDb {
        db,
        dir: Some(dir),
        schema: None,
    }
}

/// The prefix of every test schema; the rest is `<unix hour>_<random>`.
const SCHEMA_PREFIX: &str = "talab_test_";
/// A leftover schema older than this many hours is swept (no test runs that long).
const SWEEP_AFTER_HOURS: u64 = 24;

/// A fresh schema on the test PostgreSQL server; `None` only when the user opted out with
/// `TALAB_TEST_SKIP=postgres` (counted). Panics, with what to do, when the server is unreachable.
pub async fn postgres() -> Option<TestDb> {
    if skip::opted_out(Resource::Postgres) {
        skip::record(Resource::Postgres);
        return None;
    }
    let url = std::env::var(PG_URL_ENV).unwrap_or_else(|_| DEFAULT_PG_URL.to_string());
    let admin = Database::connect(&url).await.unwrap_or_else(|e| {
        panic!(
            "the PostgreSQL tests need a server at {url} ({e}); start one, point {PG_URL_ENV} at \
             another, or run without them: {SKIP_ENV}=postgres"
        )
    });
    let Pool::Postgres(pool) = admin.pool() else {
        panic!("{PG_URL_ENV} must name a PostgreSQL server")
    };
    sweep_once(pool).await;
    let hour = now_hours();
    let schema = format!("{SCHEMA_PREFIX}{hour}_{}", uuid::Uuid::new_v4().simple());
    pool.execute(format!("CREATE SCHEMA {schema}").as_str())
        .await
        .expect("create a test schema");
    admin.close().await;
    // The schema's name as application_name too: the drop can then end this test's connections.
    let options = PgConnectOptions::from_str(&url)
        .expect("the test PostgreSQL URL parses")
        .application_name(&schema)
        .options([("search_path", schema.as_str())]);
    let db = Database::open_postgres(options)
        .await
        .expect("open the test schema");
    Some(TestDb {
        db,
        dir: None,
        schema: Some((url, schema)),
    })
}

pub(crate) fn now_hours() -> u64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    since_epoch.as_secs() / 3600
}

/// Drops the test schemas that earlier, killed runs left behind (once per process).
async fn sweep_once(pool: &sqlx::PgPool) {
    static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    SWEPT
        .get_or_init(|| async {
            let names: Vec<String> =
                sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1)")
                    .bind(SCHEMA_PREFIX)
                    .fetch_all(pool)
                    .await
                    .unwrap_or_default();
            let now = now_hours();
            for name in names.iter().filter(|n| is_stale(n, now)) {
                drop_schema(pool, name).await;
            }
        })
        .await;
}

/// Ends the connections still using a test schema (they carry its name as `application_name`; a
/// panicking test may have left a transaction open on one, holding the locks the drop needs), then
/// drops it. Errors are ignored: what is left behind is swept by a later run.
async fn drop_schema(pool: &sqlx::PgPool, schema: &str) {
    let _ = sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = $1 AND pid <> pg_backend_pid()",
    )
    .bind(schema)
    .execute(pool)
    .await;
    let sql = format!("SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {schema} CASCADE");
    let _ = sqlx::raw_sql(&sql).execute(pool).await;
}

/// A test schema made more than [`SWEEP_AFTER_HOURS`] ago, or one without an hour in its name
/// (made before names carried one).
fn is_stale(name: &str, now_hours: u64) -> bool {
    is_stale_with(SCHEMA_PREFIX, name, now_hours)
}

/// [`is_stale`] for any test object named `<prefix><unix hour>_<random>` (schemas here, the
/// pgvector tests' databases in [`pgvector`]).
pub(crate) fn is_stale_with(prefix: &str, name: &str, now_hours: u64) -> bool {
    let Some(rest) = name.strip_prefix(prefix) else {
        return false;
    };
    match rest.split_once('_').map(|(hour, _)| hour.parse::<u64>()) {
        Some(Ok(hour)) => hour + SWEEP_AFTER_HOURS < now_hours,
        _ => true,
    }
}

/// A fresh database on each backend: SQLite, and PostgreSQL unless `TALAB_TEST_SKIP=postgres`.
pub async fn backends() -> Vec<TestDb> {
    let mut all = vec![sqlite().await];
    all.extend(postgres().await);
    all
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((url, schema)) = self.schema.take() else {
            return;
        };
        // Drop is synchronous and may run inside the test's runtime: clean up from a thread with a
        // runtime of its own. The test's own connections are ended first (a panicking test may
        // leave a transaction open on one, holding locks the drop needs). Never panic here; what
        // is left behind is swept by a later run.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let admin = Database::connect(&url).await.ok()?;
                if let Pool::Postgres(pool) = admin.pool() {
                    drop_schema(pool, &schema).await;
                }
                admin.close().await;
                Some(())
            })
        });
        let _ = cleanup.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_old_or_hourless_test_schemas_are_stale() {
        let now = 500_000;
        assert!(is_stale("talab_test_499000_abc", now));
        assert!(!is_stale("talab_test_499990_abc", now));
        assert!(!is_stale(&format!("talab_test_{now}_abc"), now));
        assert!(is_stale("talab_test_0123456789abcdef0123456789abcdef", now));
        assert!(!is_stale("public", now));
        assert!(!is_stale("talab_other", now));
    }
}
