//! The contract every memory backend fulfils: the seed's `MemoryManager`, in Rust, with a search
//! that takes filters.
//!
//! Stores, stubs and remote backends all implement [`MemoryManager`]. The `talab` binary's refresh
//! flow, `talab ask` and the local `memory_search` tool talk to memory only through it (as
//! `Arc<dyn MemoryManager>` / `&dyn MemoryManager`), so a test or another backend can stand in;
//! `talab memory` also uses what only the embedded store has (paged listing, re-indexing).

use crate::MemoryError;
use crate::model::{DEFAULT_THRESHOLD, Memory, Metadata};
use crate::search::{SearchOutcome, SearchRequest};

/// How many times the limit the default [`MemoryManager::search_with`] asks a backend for before
/// filtering.
pub const FILTER_OVERFETCH: usize = 20;

/// A semantic memory: add text, find it again by meaning, render it for a prompt.
///
/// Object safe, so it is used as `Arc<dyn MemoryManager>`.
#[async_trait::async_trait]
pub trait MemoryManager: Send + Sync {
    /// Stores content; returns its id (an existing id when the same normalised content is already stored).
    async fn add(&self, content: &str, metadata: Metadata) -> Result<String, MemoryError> {
        Ok(self.insert(content, metadata).await?.id)
    }

    /// [`MemoryManager::add`] that also says whether the memory was created (`created: false`:
    /// the same normalised content was already stored, and nothing was written).
    async fn insert(&self, content: &str, metadata: Metadata) -> Result<crate::Inserted, MemoryError>;

    /// Hits with relevance_score >= threshold, best first (ties: newest first), at most `limit`.
    async fn search(&self, query: &str, threshold: f32, limit: usize) -> Result<Vec<Memory>, MemoryError>;

    /// The threshold [`MemoryManager::search_with`] uses when the request has none.
    fn default_threshold(&self) -> f32 {
        DEFAULT_THRESHOLD
    }

    /// A search with a request (threshold, limit, filters, mode) and an account of what was left
    /// out: what `talab ask`, the refresh flow's recall and `memory search` use, on any backend.
    ///
    /// The default serves a backend that only has [`MemoryManager::search`]: it searches broadly
    /// ([`FILTER_OVERFETCH`] times the limit, at least 100) at the request's threshold, then applies
    /// the metadata, tag and date filters to what came back. Such a backend keeps no scopes and no
    /// deprecation, and ranks in its own way whatever the mode; it cannot count what scored below
    /// the threshold (0), and a filter can leave fewer hits than the limit when more exist beyond
    /// the broad search. A backend that filters in its store overrides this (the SQL store does).
    async fn search_with(&self, request: &SearchRequest) -> Result<SearchOutcome, MemoryError> {
        let threshold = request.threshold.unwrap_or_else(|| self.default_threshold());
        let broad = request.limit.saturating_mul(FILTER_OVERFETCH).max(100);
        let found = self.search(&request.query, threshold, broad).await?;
        let total = found.len();
        let filters = &request.filters;
        let mut hits: Vec<Memory> = found
            .into_iter()
            .filter(|m| {
                filters.matches_columns(false, true, m.created_at) && filters.matches_metadata(&m.metadata)
            })
            .collect();
        let filtered_out = total - hits.len();
        hits.truncate(request.limit);
        Ok(SearchOutcome {
            hits,
            threshold_used: threshold,
            below_threshold: 0,
            filtered_out,
            embedder: None,
        })
    }

    /// The prompt-ready context block for these ids (format: [`crate::context`]).
    async fn get_context(&self, ids: &[String]) -> Result<String, MemoryError>;
}
