//! Throw-away databases for tests, on every backend this machine has.
//!
//! Each test gets its own SQLite file and its own PostgreSQL schema, so tests run in parallel
//! without seeing each other's rows. PostgreSQL comes from `TALAB_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). Where it is missing, PostgreSQL tests are skipped
//! with a note, except when `CI` is set: then a missing server fails the test, so CI can never pass
//! by silently testing one backend.
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

use crate::Database;

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
        match (&self.db, &self.schema) {
            (Database::Sqlite(pool), _) => {
                format!("sqlite://{}", pool.connect_options().get_filename().display())
            }
            (Database::Postgres(_), Some((url, schema))) => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}options=-c%20search_path%3D{schema}")
            }
            (Database::Postgres(_), None) => unreachable!("a PostgreSQL test database always has a schema"),
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

/// A fresh schema on the test PostgreSQL server; `None` (with a note on stderr) when there is no
/// server and `CI` is not set.
pub async fn postgres() -> Option<TestDb> {
    let url = std::env::var(PG_URL_ENV).unwrap_or_else(|_| DEFAULT_PG_URL.to_string());
    let admin = match Database::connect(&url).await {
        Ok(db) => db,
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("CI is set, so the PostgreSQL tests must run, but the test server is unavailable: {e}")
        }
        Err(e) => {
            eprintln!("note: skipping PostgreSQL for this test ({e}); set {PG_URL_ENV} to run it");
            return None;
        }
    };
    let schema = format!("talab_test_{}", uuid::Uuid::new_v4().simple());
    let Database::Postgres(pool) = &admin else {
        panic!("{PG_URL_ENV} must name a PostgreSQL server")
    };
    pool.execute(format!("CREATE SCHEMA {schema}").as_str())
        .await
        .expect("create a test schema");
    admin.close().await;
    let options = PgConnectOptions::from_str(&url)
        .expect("the test PostgreSQL URL parses")
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

/// A fresh database on every available backend: SQLite always, PostgreSQL when reachable (always
/// under `CI`).
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
        // runtime of its own. A failure only leaves an empty-named schema behind; never panic here.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let admin = Database::connect(&url).await.ok()?;
                if let Database::Postgres(pool) = &admin {
                    let sql = format!("SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {schema} CASCADE");
                    let _ = sqlx::raw_sql(&sql).execute(pool).await;
                }
                admin.close().await;
                Some(())
            })
        });
        let _ = cleanup.join();
    }
}
