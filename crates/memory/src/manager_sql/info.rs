//! The `memory_store_info` row: which embedder a store's vectors come from, checked on every
//! open so a store is never searched with vectors of another model (a dimension mismatch deep
//! in a dot product is the most reported failure of other memory stores).

use talab_db::sqlx;
use talab_db::{Database, on_pool};

use crate::{EmbedderIdentity, MemoryError, now_micros};

/// How the `embedder` column of `memories` names an embedder: `name@revision`.
pub fn identity_key(identity: &EmbedderIdentity) -> String {
    format!("{}@{}", identity.name, identity.revision)
}

/// The recorded identity and, while a reindex runs, the one it moves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreInfo {
    /// The embedder the store's searchable vectors come from.
    pub embedder: EmbedderIdentity,
    /// Set while a reindex to this embedder has not finished.
    pub reindex_target: Option<EmbedderIdentity>,
}

type InfoRow = (String, String, i32, Option<String>, Option<String>, Option<i32>);

/// The store's info row, if one was recorded.
pub async fn read(db: &Database) -> Result<Option<StoreInfo>, MemoryError> {
    let row: Option<InfoRow> = on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT embedder_name, embedder_revision, dim, target_name, target_revision, target_dim \
             FROM memory_store_info WHERE id = 1",
        )
        .fetch_optional(pool)
        .await
    })?;
    Ok(
        row.map(|(name, revision, dim, t_name, t_revision, t_dim)| StoreInfo {
            embedder: EmbedderIdentity {
                name,
                revision,
                dim: dim as usize,
            },
            reindex_target: match (t_name, t_revision, t_dim) {
                (Some(name), Some(revision), Some(dim)) => Some(EmbedderIdentity {
                    name,
                    revision,
                    dim: dim as usize,
                }),
                _ => None,
            },
        }),
    )
}

/// Records `identity` as the store's embedder when no embedder is recorded yet (first writer
/// wins when several open at once); then returns what is recorded.
pub async fn record_if_absent(db: &Database, identity: &EmbedderIdentity) -> Result<StoreInfo, MemoryError> {
    on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO memory_store_info (id, embedder_name, embedder_revision, dim, updated_at) \
             VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&identity.name)
        .bind(&identity.revision)
        .bind(dim_i32(identity)?)
        .bind(now_micros())
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
    })?;
    read(db)
        .await?
        .ok_or_else(|| MemoryError::InvalidSearch("memory_store_info vanished while opening".into()))
}

/// Sets (or clears, with `None`) the reindex target.
pub async fn set_target(db: &Database, target: Option<&EmbedderIdentity>) -> Result<(), MemoryError> {
    let dim = target.map(dim_i32).transpose()?;
    on_pool!(db, pool => {
        sqlx::query(
            "UPDATE memory_store_info SET target_name = $1, target_revision = $2, target_dim = $3, \
             updated_at = $4 WHERE id = 1",
        )
        .bind(target.map(|t| t.name.as_str()))
        .bind(target.map(|t| t.revision.as_str()))
        .bind(dim)
        .bind(now_micros())
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(())
}

/// Makes `identity` the store's embedder and clears any reindex target.
pub async fn switch_to(db: &Database, identity: &EmbedderIdentity) -> Result<(), MemoryError> {
    on_pool!(db, pool => {
        sqlx::query(
            "UPDATE memory_store_info SET embedder_name = $1, embedder_revision = $2, dim = $3, \
             target_name = NULL, target_revision = NULL, target_dim = NULL, updated_at = $4 WHERE id = 1",
        )
        .bind(&identity.name)
        .bind(&identity.revision)
        .bind(dim_i32(identity)?)
        .bind(now_micros())
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(())
}

/// The embedders of stored vectors that differ from `identity` (as `name@revision (N dims)`),
/// for stores that hold vectors but no info row yet.
pub async fn foreign_vectors(db: &Database, identity: &EmbedderIdentity) -> Result<Vec<String>, MemoryError> {
    let rows: Vec<(String, i32)> = on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT DISTINCT embedder, dim FROM memories WHERE embedding IS NOT NULL \
             AND (embedder <> $1 OR dim <> $2) ORDER BY embedder, dim",
        )
        .bind(identity_key(identity))
        .bind(dim_i32(identity)?)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(key, dim)| format!("{key} ({dim} dims)"))
        .collect())
}

/// Refuses to use a store whose vectors come from another embedder than `current`.
pub fn check(info: &StoreInfo, current: &EmbedderIdentity) -> Result<(), MemoryError> {
    if let Some(target) = &info.reindex_target
        && (target == current || &info.embedder != current)
    {
        return Err(MemoryError::ReindexUnfinished {
            stored: info.embedder.to_string(),
            target: target.to_string(),
        });
    }
    if &info.embedder != current {
        return Err(MemoryError::EmbedderMismatch {
            stored: info.embedder.to_string(),
            current: current.to_string(),
        });
    }
    Ok(())
}

pub(crate) fn dim_i32(identity: &EmbedderIdentity) -> Result<i32, MemoryError> {
    i32::try_from(identity.dim)
        .ok()
        .filter(|d| *d > 0)
        .ok_or_else(|| MemoryError::EmbedderOutput {
            embedder: identity.to_string(),
            problem: format!("a dimension of {} cannot be stored", identity.dim),
        })
}
