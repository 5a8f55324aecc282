//! The operations beyond add/search on [`SqlMemoryManager`]: get, update, deprecate, delete,
//! verify, history, stats, health and the complete paged list.
//!
//! Every change is written with its `memory_events` row in one transaction, and mirrored into
//! the in-memory search index, so searches never see a state the database does not hold.

use std::collections::BTreeMap;
use talab_db::sqlx;

use chrono::{DateTime, Utc};
use talab_db::on_pool;
use talab_db::sqlx::types::Json;

pub use crate::event::MemoryEvent;
use crate::event::{Revision, delete_detail, deprecate_detail, revise};
use crate::search::matrix::dot;
use crate::writers::WriterLock;
use crate::{EmbedderIdentity, Memory, MemoryError, Metadata, Page, SqlMemoryManager, now_micros, vector};

/// Counts and sizes of a store.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MemoryStats {
    /// Memories in every scope.
    pub total: u64,
    /// Of which deprecated.
    pub deprecated: u64,
    /// Of which holding no vector of the current embedder (need `talab memory reindex`).
    pub not_searchable: u64,
    /// Memories by their metadata `type` (`(none)` without one).
    pub by_type: BTreeMap<String, u64>,
    /// The embedder in use.
    pub embedder: EmbedderIdentity,
    /// Bytes of stored text (UTF-8).
    pub content_bytes: u64,
    /// Bytes of stored vectors.
    pub vector_bytes: u64,
}

/// What `health` looks for.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthOptions {
    /// A memory neither updated nor verified for this many days is stale.
    pub stale_days: i64,
    /// Metadata keys every memory should have.
    pub required_keys: Vec<String>,
    /// Two memories of one scope at least this similar are near-duplicates.
    pub duplicate_cosine: f32,
}

impl Default for HealthOptions {
    fn default() -> Self {
        HealthOptions {
            stale_days: 90,
            required_keys: vec!["type".into(), "source".into()],
            duplicate_cosine: 0.98,
        }
    }
}

/// Problems found by `health` among the active (not deprecated) searchable memories.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HealthReport {
    /// Memories checked.
    pub checked: usize,
    /// (id, last updated or verified), oldest first.
    pub stale: Vec<(String, DateTime<Utc>)>,
    /// (id, the required keys it lacks).
    pub missing_metadata: Vec<(String, Vec<String>)>,
    /// (id, id, cosine) of near-duplicate pairs, most similar first.
    pub duplicates: Vec<(String, String, f32)>,
}

/// Appends one history event inside the caller's transaction (a macro: it runs on either pool).
macro_rules! record {
    ($tx:expr, $id:expr, $event:expr, $at:expr, $detail:expr) => {
        sqlx::query("INSERT INTO memory_events (memory_id, event, at, detail) VALUES ($1, $2, $3, $4)")
            .bind($id)
            .bind($event)
            .bind($at)
            .bind(Json($detail))
            .execute($tx)
            .await?
    };
}

type StatsRow = (
    Json<Metadata>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<i32>,
    String,
    Option<i64>,
);

impl SqlMemoryManager {
    /// The memory with this id, in any scope.
    pub async fn get(&self, id: &str) -> Result<Memory, MemoryError> {
        self.records
            .get(id)
            .await?
            .ok_or_else(|| MemoryError::NotFound(id.to_string()))
    }

    /// Changes a memory's content (re-embedded before anything is written) and/or metadata,
    /// keeping the previous values in its history. Returns the updated memory.
    pub async fn update(
        &self,
        id: &str,
        content: Option<&str>,
        metadata: Option<Metadata>,
    ) -> Result<Memory, MemoryError> {
        let old = self.get(id).await?;
        let Revision {
            content,
            metadata,
            hash,
            detail,
        } = revise(&old, content, metadata)?;
        let vector = self.embed(std::slice::from_ref(&content)).await?.remove(0);
        let now = now_micros();
        let dim = vector.len() as i32;
        let result = on_pool!(self.records.database(), pool => async {
            let mut tx = pool.begin().await?;
            tx.lock_writers().await?;
            sqlx::query(
                "UPDATE memories SET content = $1, content_hash = $2, metadata = $3, embedding = $4, \
                 embedder = $5, dim = $6, updated_at = $7 WHERE id = $8",
            )
            .bind(&content).bind(&hash).bind(Json(&metadata)).bind(vector::encode(&vector))
            .bind(&self.key).bind(dim).bind(now).bind(id)
            .execute(&mut *tx)
            .await?;
            record!(&mut *tx, id, "update", now, &detail);
            tx.commit().await
        }
        .await);
        if let Err(e) = result {
            if let Some(existing) = self.holder_of(id, &hash).await? {
                return Err(MemoryError::DuplicateContent {
                    id: id.to_string(),
                    existing,
                });
            }
            return Err(e.into());
        }
        self.reload_entry(id).await?;
        self.get(id).await
    }

    /// Soft-deletes a memory: kept and listed, but excluded from searches unless asked for.
    pub async fn deprecate(&self, id: &str, reason: &str) -> Result<(), MemoryError> {
        let now = now_micros();
        let detail = deprecate_detail(reason);
        let changed = on_pool!(self.records.database(), pool => async {
            let mut tx = pool.begin().await?;
            tx.lock_writers().await?;
            let n = sqlx::query("UPDATE memories SET deprecated_at = $1, deprecation_reason = $2 WHERE id = $3")
                .bind(now).bind(reason).bind(id)
                .execute(&mut *tx).await?.rows_affected();
            if n > 0 {
                record!(&mut *tx, id, "deprecate", now, &detail);
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(n)
        }
        .await)?;
        if changed == 0 {
            return Err(MemoryError::NotFound(id.to_string()));
        }
        self.with_index(|index| {
            index.set_deprecated(id, true);
        })
        .await;
        Ok(())
    }

    /// Removes a memory for good; its history (with its last content) is kept.
    pub async fn delete(&self, id: &str) -> Result<(), MemoryError> {
        let old = self.get(id).await?;
        let detail = delete_detail(&old.content, &old.metadata);
        let now = now_micros();
        let removed = on_pool!(self.records.database(), pool => async {
            let mut tx = pool.begin().await?;
            tx.lock_writers().await?;
            let n = sqlx::query("DELETE FROM memories WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
            if n > 0 {
                record!(&mut *tx, id, "delete", now, &detail);
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(n)
        }
        .await)?;
        if removed == 0 {
            return Err(MemoryError::NotFound(id.to_string()));
        }
        self.with_index(|index| {
            index.remove(id);
        })
        .await;
        Ok(())
    }

    /// Marks a memory as checked and still true now (it stops being stale).
    pub async fn verify(&self, id: &str) -> Result<(), MemoryError> {
        let n = on_pool!(self.records.database(), pool => {
            sqlx::query("UPDATE memories SET verified_at = $1 WHERE id = $2").bind(now_micros()).bind(id).execute(pool).await.map(|d| d.rows_affected())
        })?;
        if n == 0 {
            return Err(MemoryError::NotFound(id.to_string()));
        }
        self.reload_entry(id).await
    }

    /// Everything that happened to a memory, oldest first (also after it was deleted).
    pub async fn history(&self, id: &str) -> Result<Vec<MemoryEvent>, MemoryError> {
        let rows: Vec<(String, DateTime<Utc>, Json<serde_json::Value>)> = on_pool!(self.records.database(), pool => {
            sqlx::query_as("SELECT event, at, detail FROM memory_events WHERE memory_id = $1 ORDER BY id")
                .bind(id).fetch_all(pool).await
        })?;
        crate::event::history(id, rows)
    }

    /// Up to `limit` memories of every scope from `offset`, oldest first, with the total.
    pub async fn list(&self, offset: u64, limit: u64) -> Result<Page, MemoryError> {
        self.records.list(offset, limit).await
    }

    /// Counts by state and type, the embedder, and the bytes stored.
    pub async fn stats(&self) -> Result<MemoryStats, MemoryError> {
        let rows: Vec<StatsRow> = on_pool!(self.records.database(), pool => {
            sqlx::query_as("SELECT metadata, deprecated_at, embedder, dim, content, CAST(LENGTH(embedding) AS BIGINT) FROM memories")
                .fetch_all(pool).await
        })?;
        let mut stats = MemoryStats {
            total: rows.len() as u64,
            deprecated: 0,
            not_searchable: 0,
            by_type: BTreeMap::new(),
            embedder: self.identity.clone(),
            content_bytes: 0,
            vector_bytes: 0,
        };
        for (metadata, deprecated_at, embedder, dim, content, vector_bytes) in rows {
            stats.deprecated += u64::from(deprecated_at.is_some());
            let searchable =
                embedder.as_deref() == Some(self.key.as_str()) && dim == Some(self.identity.dim as i32);
            stats.not_searchable += u64::from(!searchable);
            let kind = match metadata.0.get("type") {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => "(none)".to_string(),
            };
            *stats.by_type.entry(kind).or_default() += 1;
            stats.content_bytes += content.len() as u64;
            stats.vector_bytes += vector_bytes.unwrap_or(0) as u64;
        }
        Ok(stats)
    }

    /// Stale memories, missing metadata and near-duplicates (pairwise cosine within a scope:
    /// quadratic in the store size, meant for occasional checks).
    pub async fn health(&self, options: &HealthOptions) -> Result<HealthReport, MemoryError> {
        self.ensure_loaded().await?;
        let guard = self.index.read().await;
        let index = guard.as_ref().expect("loaded just above");
        let cutoff = Utc::now() - chrono::Duration::days(options.stale_days);
        let active: Vec<usize> = (0..index.len())
            .filter(|&s| !index.entries()[s].deprecated)
            .collect();
        let mut report = HealthReport {
            checked: active.len(),
            stale: vec![],
            missing_metadata: vec![],
            duplicates: vec![],
        };
        for (k, &slot) in active.iter().enumerate() {
            let e = &index.entries()[slot];
            let last = e.verified_at.map_or(e.updated_at, |v| v.max(e.updated_at));
            if last < cutoff {
                report.stale.push((e.id.clone(), last));
            }
            let missing: Vec<String> = options
                .required_keys
                .iter()
                .filter(|key| !e.metadata.contains_key(*key))
                .cloned()
                .collect();
            if !missing.is_empty() {
                report.missing_metadata.push((e.id.clone(), missing));
            }
            for &other in &active[k + 1..] {
                let o = &index.entries()[other];
                let cosine = dot(index.matrix().row(slot), index.matrix().row(other));
                if o.scope == e.scope && cosine >= options.duplicate_cosine {
                    report.duplicates.push((e.id.clone(), o.id.clone(), cosine));
                }
            }
        }
        report
            .stale
            .sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        report.duplicates.sort_by(|a, b| b.2.total_cmp(&a.2));
        Ok(report)
    }

    /// The id of the memory in `id`'s scope, other than `id`, holding content with this hash.
    async fn holder_of(&self, id: &str, hash: &str) -> Result<Option<String>, MemoryError> {
        Ok(on_pool!(self.records.database(), pool => {
            sqlx::query_scalar(
                "SELECT m.id FROM memories m JOIN memories me ON me.id = $1 \
                 WHERE m.scope = me.scope AND m.content_hash = $2 AND m.id <> $1",
            )
            .bind(id).bind(hash).fetch_optional(pool).await
        })?)
    }

    /// Re-reads one memory into the loaded index.
    pub(crate) async fn reload_entry(&self, id: &str) -> Result<(), MemoryError> {
        self.reload_entries(&[id]).await
    }

    /// Re-reads these memories into the loaded index in one query: the ones still searchable
    /// are replaced, the others (deleted, or re-embedded by another embedder) removed.
    pub(crate) async fn reload_entries(&self, ids: &[&str]) -> Result<(), MemoryError> {
        let fresh = self.load_entries(Some(ids)).await?;
        self.with_index(|index| {
            let mut gone: std::collections::HashSet<&str> = ids.iter().copied().collect();
            for (entry, vector) in fresh {
                gone.remove(entry.id.as_str());
                index.upsert(entry, &vector);
            }
            for id in gone {
                index.remove(id);
            }
        })
        .await;
        Ok(())
    }
}
