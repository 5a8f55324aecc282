//! Seeing what other processes wrote. A `talab mcp` server or a long-running program keeps its
//! search index in memory for as long as it runs, while CLI commands and other servers write to
//! the same store; a search must find what they added and stop finding what they deleted.
//!
//! Every change of a memory writes its `memory_events` row in the same transaction, and memory
//! writers are serialised (SQLite has one writer at a time; on PostgreSQL each write transaction
//! first takes the writers' lock, `crate::writers`), so event ids grow in commit order: the
//! events past the last one this manager has seen are exactly the changes it has not. Before each search the manager asks
//! for the newest event id (one indexed lookup) and reloads just the memories changed since
//! ([`SqlMemoryManager::catch_up`]), or the whole index when many changed.

use talab_db::on_pool;
use talab_db::sqlx;

use crate::{MemoryError, SqlMemoryManager};

/// Above this many changed memories the whole index is reloaded (this also keeps the one query
/// that reloads the changed ones well within every backend's bind limit).
const RELOAD_ALL_ABOVE: usize = 256;

impl SqlMemoryManager {
    /// The id of the newest history event (0 for none).
    pub(crate) async fn last_event(&self) -> Result<i64, MemoryError> {
        let last: Option<i64> = on_pool!(self.records.database(), pool => {
            sqlx::query_scalar("SELECT MAX(id) FROM memory_events").fetch_one(pool).await
        })?;
        Ok(last.unwrap_or(0))
    }

    /// Brings a loaded index up to date with what any process committed since it last looked.
    pub(crate) async fn catch_up(&self) -> Result<(), MemoryError> {
        use std::sync::atomic::Ordering;
        if self.index.read().await.is_none() {
            return Ok(());
        }
        let seen = self.seen_event.load(Ordering::Acquire);
        let last = self.last_event().await?;
        if last <= seen {
            return Ok(());
        }
        let changed: Vec<String> = on_pool!(self.records.database(), pool => {
            sqlx::query_scalar("SELECT DISTINCT memory_id FROM memory_events WHERE id > $1 AND id <= $2")
                .bind(seen)
                .bind(last)
                .fetch_all(pool)
                .await
        })?;
        tracing::debug!(
            changed = changed.len(),
            seen,
            last,
            "catching up with other writers"
        );
        if changed.len() > RELOAD_ALL_ABOVE {
            self.refresh().await;
            return self.ensure_loaded().await;
        }
        let changed: Vec<&str> = changed.iter().map(String::as_str).collect();
        self.reload_entries(&changed).await?;
        self.seen_event.fetch_max(last, Ordering::AcqRel);
        Ok(())
    }
}
