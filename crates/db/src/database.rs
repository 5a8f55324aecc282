//! Opening a database: SQLite (WAL, busy timeout, foreign keys) or PostgreSQL, from one location.
//!
//! A PostgreSQL server is probed with a single connection first, so an unreachable server or a bad
//! password is reported at once with host and port, instead of a pool timing out half a minute
//! later with no cause.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};

use crate::{DatabaseLocation, DbError, MigrationSet};

/// How long a SQLite writer waits for another writer before giving up.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Statements slower than this are logged at debug level (`-vv`): a long locked write or a bulk
/// COPY is expected work, not a warning to print on every run.
const SLOW_STATEMENT: Duration = Duration::from_secs(1);
/// How long connecting to PostgreSQL may take before it is called unreachable.
pub const POSTGRES_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An open database: a connection pool on one of the two supported backends, and what this handle
/// has already migrated.
///
/// Use [`on_pool!`](crate::on_pool) to run one SQL text on whichever backend this is. Clones share
/// the pool and the record of migrations: each crate's migrations are checked once per handle, not
/// on every store opened over it.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    /// Sets already brought up to date through this handle: (component, where its migrations
    /// are, how many), so an edited or a longer set of the same component is still checked.
    migrated: Arc<Mutex<HashSet<MigratedSet>>>,
}

/// A migration set as [`Database::migrate`] remembers it.
type MigratedSet = (&'static str, usize, usize);

/// The connection pool of a [`Database`].
#[derive(Clone)]
pub enum Pool {
    /// The embedded default.
    Sqlite(SqlitePool),
    /// A PostgreSQL server.
    Postgres(PgPool),
}

impl From<Pool> for Database {
    fn from(pool: Pool) -> Self {
        Database {
            pool,
            migrated: Arc::default(),
        }
    }
}

/// Which backend a [`Database`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The name people know it by.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Database {
    /// Opens the database a URL or path names (see [`DatabaseLocation::parse`]).
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        Self::open(&DatabaseLocation::parse(url)?).await
    }

    /// Opens a parsed location; a SQLite file and its folders are created when missing, readable by
    /// their owner only (see [`crate::private`]).
    pub async fn open(location: &DatabaseLocation) -> Result<Self, DbError> {
        match location {
            DatabaseLocation::SqliteFile(path) => {
                let fail = |reason: String| DbError::SqliteOpen {
                    path: path.display().to_string(),
                    reason,
                };
                crate::private::create_private(path).map_err(|e| fail(e.to_string()))?;
                let pool = if may_write(path) {
                    let options = sqlite_options()
                        .journal_mode(SqliteJournalMode::Wal)
                        .filename(path)
                        .create_if_missing(true);
                    sqlite_pool(options).await.map_err(|e| e.to_string())
                } else {
                    open_read_only(path).await
                };
                Ok(Pool::Sqlite(pool.map_err(fail)?).into())
            }
            DatabaseLocation::SqliteMemory => {
                // Every connection to `:memory:` is a separate database: keep exactly one, forever.
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_with(
                        sqlite_options()
                            .journal_mode(SqliteJournalMode::Wal)
                            .in_memory(true),
                    )
                    .await?;
                Ok(Pool::Sqlite(pool).into())
            }
            DatabaseLocation::Postgres(options) => Self::open_postgres((**options).clone()).await,
        }
    }

    /// Opens PostgreSQL with explicit options (used by the test harness to pin a schema).
    pub async fn open_postgres(options: PgConnectOptions) -> Result<Self, DbError> {
        let options = options
            .log_statements(log::LevelFilter::Trace)
            .log_slow_statements(log::LevelFilter::Debug, SLOW_STATEMENT);
        let probe = tokio::time::timeout(POSTGRES_CONNECT_TIMEOUT, options.connect()).await;
        let unreachable = |reason: String| DbError::Unreachable {
            backend: "PostgreSQL",
            host: crate::location::postgres_host(&options),
            port: options.get_port(),
            reason,
        };
        match probe {
            Err(_) => {
                return Err(unreachable(format!(
                    "no answer within {} s",
                    POSTGRES_CONNECT_TIMEOUT.as_secs()
                )));
            }
            Ok(Err(e)) => return Err(classify_postgres_error(&options, e)),
            Ok(Ok(conn)) => conn.close().await.map_err(|e| unreachable(e.to_string()))?,
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(POSTGRES_CONNECT_TIMEOUT)
            .connect_lazy_with(options);
        Ok(Pool::Postgres(pool).into())
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The connection pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Applies a crate's pending migrations (idempotent, safe when several processes start at once).
    /// Through one handle (and its clones) a set is checked once: later calls return at once.
    pub async fn migrate(&self, set: &MigrationSet) -> Result<(), DbError> {
        let key = (
            set.component,
            set.migrations.as_ptr() as usize,
            set.migrations.len(),
        );
        if self.migrated().contains(&key) {
            return Ok(());
        }
        // Boxed so the future is checked as `Send` here, where its lifetimes are concrete; left to
        // inference, sqlx's executor bounds make callers' spawned futures fail to prove `Send`.
        let fut: std::pin::Pin<Box<dyn Future<Output = Result<(), DbError>> + Send + '_>> =
            Box::pin(crate::migrate::apply(self, set));
        fut.await?;
        self.migrated().insert(key);
        Ok(())
    }

    fn migrated(&self) -> std::sync::MutexGuard<'_, HashSet<MigratedSet>> {
        self.migrated
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Closes every connection; later use fails.
    pub async fn close(&self) {
        crate::on_pool!(self, pool => pool.close().await)
    }
}

/// Whether this process may write the SQLite file (root may write any file).
fn may_write(path: &std::path::Path) -> bool {
    match std::fs::OpenOptions::new().write(true).open(path) {
        Ok(_) => true,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
        ),
    }
}

async fn sqlite_pool(options: SqliteConnectOptions) -> Result<SqlitePool, sqlx::Error> {
    SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
}

/// A SQLite file this process may not write, opened for reading: without asking for WAL (which
/// would be a write), so reads work and writes fail as [`DbError::ReadOnly`]. A WAL database needs
/// its `-shm` file; when the folder may not be written either, and no `-shm` is there, SQLite can
/// only open the file as immutable, i.e. trusting that no one writes it while talab reads. That is
/// never done over a write-ahead log that holds changes: they would be silently missing.
async fn open_read_only(path: &std::path::Path) -> Result<SqlitePool, String> {
    let options = sqlite_options().filename(path).read_only(true);
    let first = match sqlite_pool(options.clone()).await {
        Ok(pool) => return Ok(pool),
        Err(first) => first,
    };
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal = std::path::PathBuf::from(wal);
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Err(format!(
            "{first}; this user may not write it, and its write-ahead log {} holds changes not yet \
             in the file, which only a user who may write the folder can fold in (any talab command \
             run by the file's owner does)",
            wal.display()
        ));
    }
    tracing::debug!(path = %path.display(), %first, "opening the read-only database as immutable");
    sqlite_pool(options.immutable(true))
        .await
        .map_err(|_| first.to_string())
}

fn sqlite_options() -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        // WAL + NORMAL: a crash of talab never corrupts or loses committed work; a power cut may
        // lose the last transactions, which a re-run redoes.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true)
        .log_statements(log::LevelFilter::Trace)
        .log_slow_statements(log::LevelFilter::Debug, SLOW_STATEMENT)
}

fn classify_postgres_error(options: &PgConnectOptions, e: sqlx::Error) -> DbError {
    let host = crate::location::postgres_host(options);
    let port = options.get_port();
    match e {
        sqlx::Error::Io(io) => DbError::Unreachable {
            backend: "PostgreSQL",
            host,
            port,
            reason: io_reason(&io),
        },
        sqlx::Error::Database(db) => DbError::Refused {
            backend: "PostgreSQL",
            host,
            port,
            reason: db.message().to_string(),
        },
        sqlx::Error::Tls(t) => DbError::Refused {
            backend: "PostgreSQL",
            host,
            port,
            reason: format!("TLS: {t}"),
        },
        other => DbError::Unreachable {
            backend: "PostgreSQL",
            host,
            port,
            reason: other.to_string(),
        },
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused (is the server running?)".into(),
        std::io::ErrorKind::TimedOut => "connection timed out".into(),
        _ => e.to_string(),
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Database({self})")
    }
}

impl fmt::Display for Database {
    /// Where this database is, without any password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pool {
            Pool::Sqlite(pool) => {
                let name = pool.connect_options().get_filename().display().to_string();
                write!(f, "sqlite://{name}")
            }
            Pool::Postgres(pool) => {
                DatabaseLocation::Postgres(Box::new((*pool.connect_options()).clone())).fmt(f)
            }
        }
    }
}
