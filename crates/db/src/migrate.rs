//! Per-crate migrations, recorded in one `talab_migrations` table keyed by (component, version).
//!
//! Why not `sqlx::migrate!`: sqlx 0.8 keeps a single `_sqlx_migrations` history per database, so
//! three crates with their own migration folders would collide on version numbers and each would
//! see the others' migrations as unknown. Here each crate names its component, versions are per
//! component, and each backend has its own SQL text.
//!
//! All pending migrations of a component apply in one transaction under a write lock (SQLite
//! `BEGIN IMMEDIATE`, a PostgreSQL advisory lock), so two processes opening a fresh database at the
//! same moment neither fail nor apply anything twice, and a crash leaves the schema as it was.
//!
//! The history is read first without any lock: when nothing is pending, nothing is written. So a
//! current schema opens on a read-only database (a file its reader may not write, a read-only
//! PostgreSQL role or standby), and opening costs no write lock.

use sha2::{Digest, Sha256};
use sqlx::{Executor, Row};

use crate::{Database, DbError};

/// One schema change, with its SQL for each backend (several statements allowed).
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Increasing within a component, starting at 1.
    pub version: i64,
    /// A short name for messages.
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// The migrations of one crate.
#[derive(Debug, Clone, Copy)]
pub struct MigrationSet {
    /// The owning crate ("memory", "orchestrator", "features").
    pub component: &'static str,
    pub migrations: &'static [Migration],
}

const HISTORY_SQLITE: &str = "CREATE TABLE IF NOT EXISTS talab_migrations (
    component TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    PRIMARY KEY (component, version))";
const HISTORY_POSTGRES: &str = "CREATE TABLE IF NOT EXISTS talab_migrations (
    component TEXT NOT NULL, version BIGINT NOT NULL, name TEXT NOT NULL, checksum TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version))";

fn checksum(sql: &str) -> String {
    let digest = Sha256::digest(sql.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) async fn apply(db: &Database, set: &MigrationSet) -> Result<(), DbError> {
    if is_current(db, set).await {
        return Ok(());
    }
    let applied = match db.pool() {
        crate::Pool::Sqlite(pool) => apply_sqlite(pool, set).await,
        crate::Pool::Postgres(pool) => apply_postgres(pool, set).await,
    };
    applied.map_err(|e| match e {
        DbError::ReadOnly { reason, .. } => DbError::ReadOnly {
            action: format!(
                "creating or updating its {} tables (this build of talab has migrations it lacks)",
                set.component
            ),
            reason,
        },
        other => other,
    })
}

/// Whether every migration of `set` is applied, read without a lock. Any doubt (no history table
/// yet, an edited or unknown migration, a failed read) answers no, and the locked path decides and
/// reports.
async fn is_current(db: &Database, set: &MigrationSet) -> bool {
    const SQL: &str = "SELECT version, checksum FROM talab_migrations WHERE component = $1";
    let applied: Result<Vec<(i64, String)>, sqlx::Error> = crate::on_pool!(db, pool => {
        sqlx::query_as(SQL).bind(set.component).fetch_all(pool).await
    });
    let Ok(applied) = applied else {
        return false;
    };
    let sql_of: fn(&Migration) -> &'static str = match db.backend() {
        crate::Backend::Sqlite => |m| m.sqlite,
        crate::Backend::Postgres => |m| m.postgres,
    };
    matches!(pending(set, &applied, sql_of), Ok(todo) if todo.is_empty())
}

/// Compares what the database has applied with what this build knows; returns what is pending.
fn pending<'s>(
    set: &'s MigrationSet,
    applied: &[(i64, String)],
    sql_of: fn(&Migration) -> &'static str,
) -> Result<Vec<&'s Migration>, DbError> {
    for (version, sum) in applied {
        match set.migrations.iter().find(|m| m.version == *version) {
            None => {
                return Err(DbError::MigrationUnknown {
                    component: set.component.into(),
                    version: *version,
                });
            }
            Some(m) if checksum(sql_of(m)) != *sum => {
                return Err(DbError::MigrationChanged {
                    component: set.component.into(),
                    version: m.version,
                    name: m.name.into(),
                });
            }
            Some(_) => {}
        }
    }
    let mut todo: Vec<&Migration> = set
        .migrations
        .iter()
        .filter(|m| !applied.iter().any(|(v, _)| *v == m.version))
        .collect();
    todo.sort_by_key(|m| m.version);
    Ok(todo)
}

/// A migration run, written once and compiled for each backend: begin under the write lock, apply
/// what is pending, commit, or roll back everything on the first failure.
macro_rules! apply_on {
    ($fn_name:ident, $pool:ty, $begin:expr, $history:expr, $field:ident) => {
        async fn $fn_name(pool: &$pool, set: &MigrationSet) -> Result<(), DbError> {
            let mut conn = pool.acquire().await?;
            (&mut *conn).execute($begin).await?;
            let outcome: Result<(), DbError> = async {
                (&mut *conn).execute($history).await?;
                let rows = sqlx::query("SELECT version, checksum FROM talab_migrations WHERE component = $1")
                    .bind(set.component)
                    .fetch_all(&mut *conn)
                    .await?;
                let applied: Vec<(i64, String)> = rows
                    .iter()
                    .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?)))
                    .collect::<Result<_, sqlx::Error>>()?;
                for m in pending(set, &applied, |m| m.$field)? {
                    tracing::info!(component = set.component, version = m.version, name = m.name, "applying migration");
                    let failed = |source| DbError::MigrationFailed {
                        component: set.component.into(),
                        version: m.version,
                        name: m.name.into(),
                        source,
                    };
                    (&mut *conn).execute(m.$field).await.map_err(failed)?;
                    sqlx::query(
                        "INSERT INTO talab_migrations (component, version, name, checksum) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(set.component)
                    .bind(m.version)
                    .bind(m.name)
                    .bind(checksum(m.$field))
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(())
            }
            .await;
            match outcome {
                Ok(()) => {
                    (&mut *conn).execute("COMMIT").await?;
                    Ok(())
                }
                Err(e) => {
                    if let Err(rollback) = (&mut *conn).execute("ROLLBACK").await {
                        tracing::warn!(%rollback, "rollback after a failed migration failed too");
                        conn.detach();
                    }
                    Err(e)
                }
            }
        }
    };
}

apply_on!(
    apply_sqlite,
    sqlx::SqlitePool,
    "BEGIN IMMEDIATE",
    HISTORY_SQLITE,
    sqlite
);
apply_on!(
    apply_postgres,
    sqlx::PgPool,
    // The advisory lock (key "talabmig" in ASCII) serialises migration runs across processes.
    "BEGIN; SELECT pg_advisory_xact_lock(8386095523632277863)",
    HISTORY_POSTGRES,
    postgres
);

/// Declares one [`Migration`] from the calling crate's own `migrations/{sqlite,postgres}/<file>`,
/// so every crate lays its SQL out the same way, carries it when packaged, and a missing dialect
/// fails the build.
///
/// ```ignore
/// pub static MIGRATIONS: MigrationSet = MigrationSet {
///     component: "memory",
///     migrations: &[talab_db::migration!(1, "memories", "0001_memories.sql")],
/// };
/// ```
#[macro_export]
macro_rules! migration {
    ($version:literal, $name:literal, $file:literal) => {
        $crate::Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite/", $file)),
            postgres: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/migrations/postgres/",
                $file
            )),
        }
    };
}
