//! A memory's history: the [`MemoryEvent`]s every backend with a history returns, and the detail
//! each kind of event records.
//!
//! Written once here so that the embedded store and the pgvector backend record the same details
//! for the same change (a history read through `MemoryManager::history` means the same thing
//! whichever backend wrote it).

use chrono::{DateTime, Utc};
use talab_db::sqlx::types as sqlx_json;

use crate::Metadata;

/// One entry of a memory's history.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MemoryEvent {
    /// `add`, `update`, `deprecate` or `delete`.
    pub event: String,
    /// When.
    pub at: DateTime<Utc>,
    /// What changed (e.g. the previous content of an update, the reason of a deprecation).
    pub detail: serde_json::Value,
}

/// A memory's history from its stored rows `(event, at, detail)`, oldest first;
/// [`crate::MemoryError::NotFound`] when nothing ever happened to it.
pub fn history(
    id: &str,
    rows: Vec<(String, DateTime<Utc>, sqlx_json::Json<serde_json::Value>)>,
) -> Result<Vec<MemoryEvent>, crate::MemoryError> {
    if rows.is_empty() {
        return Err(crate::MemoryError::NotFound(id.to_string()));
    }
    Ok(rows
        .into_iter()
        .map(|(event, at, detail)| MemoryEvent {
            event,
            at,
            detail: detail.0,
        })
        .collect())
}

/// The detail of an `add`: where it went and which embedder made its vector.
pub fn add_detail(
    scope: &str,
    content_hash: &str,
    embedder: Option<&str>,
    dim: Option<i32>,
) -> serde_json::Value {
    serde_json::json!({
        "scope": scope,
        "content_hash": content_hash,
        "embedder": embedder,
        "dim": dim,
    })
}

/// What an update writes: the new content and metadata (each the old one when not given, both
/// checked), the new content's hash, and the `update` event's detail.
pub struct Revision {
    pub content: String,
    pub metadata: Metadata,
    pub hash: String,
    pub detail: serde_json::Value,
}

/// The revision of `old` that an update with `content` and/or `metadata` makes, or why it cannot
/// be made (empty content, a NUL), before anything is embedded or written.
pub fn revise(
    old: &crate::Memory,
    content: Option<&str>,
    metadata: Option<Metadata>,
) -> Result<Revision, crate::MemoryError> {
    if let Some(content) = content {
        crate::validate_content(content)?;
    }
    if let Some(metadata) = &metadata {
        crate::validate_metadata(metadata)?;
    }
    let content = content.unwrap_or(&old.content).to_string();
    let metadata = metadata.unwrap_or_else(|| old.metadata.clone());
    let hash = crate::content_hash(&content);
    let detail = update_detail(
        &old.content,
        &old.metadata,
        crate::content_hash(&old.content) != hash,
    );
    Ok(Revision {
        content,
        metadata,
        hash,
        detail,
    })
}

/// The detail of an `update`: the previous content and metadata, and whether the content changed.
pub fn update_detail(
    previous_content: &str,
    previous_metadata: &Metadata,
    content_changed: bool,
) -> serde_json::Value {
    serde_json::json!({
        "previous_content": previous_content,
        "previous_metadata": previous_metadata,
        "content_changed": content_changed,
    })
}

/// The detail of a `deprecate`: why.
pub fn deprecate_detail(reason: &str) -> serde_json::Value {
    serde_json::json!({ "reason": reason })
}

/// The detail of a `delete`: the last content and metadata, so the history outlives the memory.
pub fn delete_detail(content: &str, metadata: &Metadata) -> serde_json::Value {
    serde_json::json!({ "content": content, "metadata": metadata })
}
