//! The lock memory writers take, so that history events are numbered in the order their
//! transactions commit: what lets a long-running reader see exactly the changes it has not seen
//! (see `manager_sql::sync`). SQLite admits one writer at a time already; PostgreSQL draws
//! `BIGSERIAL` ids when rows are inserted, so without the lock event 11 could commit before 10.

use talab_db::sqlx::{self, Postgres, Sqlite, Transaction};

/// The PostgreSQL advisory lock key of memory writers ("talabmem" in ASCII).
const WRITERS_KEY: i64 = 0x7461_6c61_626d_656d;

/// Serialises memory write transactions, so their events are numbered in commit order.
pub(crate) trait WriterLock {
    /// Called first in every transaction that writes `memories` or `memory_events`.
    async fn lock_writers(&mut self) -> Result<(), sqlx::Error>;
}

impl WriterLock for Transaction<'_, Sqlite> {
    /// SQLite admits one writer at a time already: nothing to do.
    async fn lock_writers(&mut self) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

impl WriterLock for Transaction<'_, Postgres> {
    /// A transaction-scoped advisory lock, released at commit or rollback.
    async fn lock_writers(&mut self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITERS_KEY)
            .execute(&mut **self)
            .await
            .map(|_| ())
    }
}
