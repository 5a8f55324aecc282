//! A transaction on either backend, and the one way talab's writers take a per-key write lock.
//!
//! Derived tables (bars, EMAs, signals) are rewritten one asset at a time, all or nothing, and two
//! processes refreshing the same asset must queue rather than interleave. [`Tx::begin_locked`]
//! gives both: on SQLite `BEGIN IMMEDIATE` (the database's single write lock, taken before the
//! transaction reads anything, so what it read cannot go stale); on PostgreSQL an advisory lock on
//! the key held until commit or rollback. A `Tx` dropped without [`Tx::commit`] rolls back, so an
//! error or a killed process leaves the tables as they were. [`on_tx!`] runs one SQL text on either.

use std::time::{Duration, Instant};

use sqlx::{Postgres, Sqlite, Transaction};

use crate::{Database, DbError, Pool};

/// How long a writer waits for another writer of the same key before giving up.
pub const LOCK_WAIT_LIMIT: Duration = Duration::from_secs(600);

/// SQLite's default `SQLITE_MAX_VARIABLE_NUMBER`.
pub const SQLITE_MAX_PARAMS: usize = 32_766;
/// PostgreSQL's limit on the bind parameters of one statement.
pub const POSTGRES_MAX_PARAMS: usize = 65_535;

/// An open transaction (rolled back when dropped uncommitted).
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs the same expression against whichever connection a [`Tx`] holds (`$c` is the
/// `Transaction`; use `&mut **$c` as the executor).
///
/// ```ignore
/// on_tx!(&mut tx, c => sqlx::query("DELETE FROM t WHERE k = $1").bind(k).execute(&mut **c).await)?;
/// ```
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite($c) => $body,
            $crate::Tx::Postgres($c) => $body,
        }
    };
}

impl Tx {
    /// A plain transaction (for consistent reads).
    pub async fn begin(db: &Database) -> Result<Self, sqlx::Error> {
        Ok(match db.pool() {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A write transaction holding the lock on `key` from its first statement (see the module
    /// docs); a second writer of the same key waits until this one ends, for at most
    /// [`LOCK_WAIT_LIMIT`], then fails with [`DbError::LockTimeout`].
    pub async fn begin_locked(db: &Database, key: &str) -> Result<Self, DbError> {
        let timed_out = || DbError::LockTimeout {
            key: key.to_string(),
            waited_secs: LOCK_WAIT_LIMIT.as_secs(),
        };
        match db.pool() {
            Pool::Sqlite(p) => {
                // Each attempt waits up to the connection's busy timeout inside SQLite; another
                // writer's long refresh is a queue to wait in, not an error, up to the limit.
                let started = Instant::now();
                loop {
                    match p.begin_with("BEGIN IMMEDIATE").await {
                        Ok(tx) => return Ok(Tx::Sqlite(tx)),
                        Err(e) if is_sqlite_busy(&e) => {
                            if started.elapsed() >= LOCK_WAIT_LIMIT {
                                return Err(timed_out());
                            }
                            tracing::info!(
                                key,
                                waited_s = started.elapsed().as_secs(),
                                "another writer holds the SQLite database; still waiting"
                            );
                            // SQLite may answer busy without waiting; never spin on it.
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
                // `lock_timeout` bounds the advisory lock's wait like the SQLite loop above.
                sqlx::query(&format!(
                    "SET LOCAL lock_timeout = '{}s'",
                    LOCK_WAIT_LIMIT.as_secs()
                ))
                .execute(&mut *tx)
                .await?;
                let locked = sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                    .bind(key)
                    .execute(&mut *tx)
                    .await;
                match locked {
                    Ok(_) => Ok(Tx::Postgres(tx)),
                    Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55P03") => Err(timed_out()),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        on_tx!(self, c => c.commit().await)
    }

    /// Which backend this transaction is on.
    pub fn backend(&self) -> crate::Backend {
        match self {
            Tx::Sqlite(_) => crate::Backend::Sqlite,
            Tx::Postgres(_) => crate::Backend::Postgres,
        }
    }
}

/// SQLITE_BUSY (5) and its extended codes: the database's write lock is held by another connection.
fn is_sqlite_busy(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d)
        if d.code().is_some_and(|c| c.parse::<i32>().is_ok_and(|n| n & 0xff == 5)))
}
