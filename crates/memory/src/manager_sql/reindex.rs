//! `reindex`: re-embeds a whole store with another embedder, in committed batches, so that an
//! interrupted run resumes where it stopped. The store's recorded embedder switches only when
//! every vector has been re-embedded; until then the store says a reindex is unfinished.

use std::sync::Arc;
use talab_db::sqlx;

use talab_db::on_pool;

use super::info::{self, dim_i32, identity_key};
use crate::{Embedder, EmbedderIdentity, MemoryError, MemoryRecords, vector};

/// How many memories one batch re-embeds (and one transaction commits) by default.
pub const DEFAULT_REINDEX_BATCH: usize = 64;

/// Where a reindex stands, reported after every batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReindexProgress {
    /// Memories holding a vector of the new embedder.
    pub done: u64,
    /// All memories.
    pub total: u64,
}

/// What a finished reindex did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReindexReport {
    /// The embedder recorded before (None for a store without one).
    pub from: Option<EmbedderIdentity>,
    /// The embedder recorded now.
    pub to: EmbedderIdentity,
    /// Memories re-embedded by this run.
    pub re_embedded: u64,
    /// Memories in the store.
    pub total: u64,
}

/// Re-embeds every memory whose vector is not from `embedder` (or has none), `batch` at a time,
/// each batch embedded outside any transaction then committed, calling `progress` after each.
/// Safe to run again after a crash: finished rows are skipped.
pub async fn reindex(
    records: &MemoryRecords,
    embedder: Arc<dyn Embedder>,
    batch: usize,
    progress: &mut (dyn FnMut(ReindexProgress) + Send),
) -> Result<ReindexReport, MemoryError> {
    let db = records.database();
    let to = embedder.identity();
    let key = identity_key(&to);
    let dim = dim_i32(&to)?;
    let batch = batch.max(1);
    let from = info::read(db).await?;
    match &from {
        None => {
            info::record_if_absent(db, &to).await?;
            info::set_target(db, Some(&to)).await?;
        }
        Some(stored) if stored.reindex_target.as_ref() != Some(&to) => {
            info::set_target(db, Some(&to)).await?
        }
        Some(_) => {}
    }
    const PENDING: &str = "FROM memories WHERE embedder IS NULL OR embedder <> $1 OR dim <> $2";
    let total = records.count().await?;
    let mut re_embedded = 0u64;
    loop {
        let sql = format!("SELECT id, content, content_hash {PENDING} ORDER BY id LIMIT $3");
        let rows: Vec<(String, String, String)> = on_pool!(db, pool => {
            sqlx::query_as(&sql).bind(&key).bind(dim).bind(batch as i64).fetch_all(pool).await
        })?;
        if rows.is_empty() {
            break;
        }
        let texts: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
        let vectors = embedder.embed(&texts).await?;
        if vectors.len() != rows.len() || vectors.iter().any(|v| v.len() != to.dim) {
            return Err(MemoryError::EmbedderOutput {
                embedder: to.to_string(),
                problem: format!("expected {} vectors of {} values", rows.len(), to.dim),
            });
        }
        let updated = on_pool!(db, pool => async {
            let mut tx = pool.begin().await?;
            let mut updated = 0u64;
            for ((id, _, hash), v) in rows.iter().zip(&vectors) {
                // The hash guard skips a row whose content changed meanwhile: the next batch
                // picks it up again if its vector is still stale.
                updated += sqlx::query(
                    "UPDATE memories SET embedding = $1, embedder = $2, dim = $3 WHERE id = $4 AND content_hash = $5",
                )
                .bind(vector::encode(v))
                .bind(&key)
                .bind(dim)
                .bind(id)
                .bind(hash)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(updated)
        }
        .await)?;
        re_embedded += updated;
        let pending: i64 = on_pool!(db, pool => {
            sqlx::query_scalar(&format!("SELECT COUNT(*) {PENDING}")).bind(&key).bind(dim).fetch_one(pool).await
        })?;
        progress(ReindexProgress {
            done: total.saturating_sub(pending as u64),
            total,
        });
    }
    info::switch_to(db, &to).await?;
    progress(ReindexProgress { done: total, total });
    Ok(ReindexReport {
        from: from.map(|f| f.embedder),
        to,
        re_embedded,
        total,
    })
}
