//! A transaction on either backend, and the one way talab's writers take a per-key write lock.
//!
//! Derived tables (bars, EMAs, signals) are rewritten one asset at a time, all or nothing, and two
//! processes refreshing the same asset must queue rather than interleave. [`Tx::begin_locked`]
//! gives both: on SQLite `BEGIN IMMEDIATE` (the database's single write lock, taken before the
//! transaction reads anything, so what it read cannot go stale); on PostgreSQL an advisory lock on
//! the key held until commit or rollback. A `Tx` dropped without [`Tx::commit`] rolls back, so an
//! error or a killed process leaves the tables as they were. [`on_tx!`] runs one SQL text on either.

use sqlx::{Postgres, Sqlite, Transaction};

use crate::Database;

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
        Ok(match db {
            Database::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Database::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A write transaction holding the lock on `key` from its first statement (see the module
    /// docs); a second writer of the same key waits until this one ends.
    pub async fn begin_locked(db: &Database, key: &str) -> Result<Self, sqlx::Error> {
        Ok(match db {
            Database::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Database::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                Tx::Postgres(tx)
            }
        })
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        on_tx!(self, c => c.commit().await)
    }

    /// The most bind parameters one statement may carry on this backend.
    pub fn max_params(&self) -> usize {
        match self {
            Tx::Sqlite(_) => SQLITE_MAX_PARAMS,
            Tx::Postgres(_) => POSTGRES_MAX_PARAMS,
        }
    }
}
