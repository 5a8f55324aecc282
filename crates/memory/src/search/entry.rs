//! What the search index keeps of one memory besides its vector: the fields the filters, BM25 and
//! the hits read. Its own file because both the index and its filter columns are built from it.

use chrono::{DateTime, Utc};

use crate::Metadata;

/// What the index keeps of one memory besides its vector.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexEntry {
    /// Its id.
    pub id: String,
    /// Its text.
    pub content: String,
    /// Its scope.
    pub scope: String,
    /// Its metadata.
    pub metadata: Metadata,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When its content or metadata last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was last confirmed still true.
    pub verified_at: Option<DateTime<Utc>>,
    /// Whether it is deprecated.
    pub deprecated: bool,
}
