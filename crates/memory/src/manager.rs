//! The contract every memory backend fulfils: the seed's `MemoryManager`, in Rust, with a search
//! that takes filters.
//!
//! Stores, stubs and remote backends all implement [`MemoryManager`]. The `talab` binary's refresh
//! flow, `talab ask` and the local `memory_search` tool talk to memory only through it (as
//! `Arc<dyn MemoryManager>` / `&dyn MemoryManager`), so a test or another backend can stand in;
//! `talab memory` also uses what only the embedded store has (re-indexing, stats, health).
//!
//! The record operations (get, update, deprecate, delete, history, list, describe) are on the
//! trait so a program can hold any backend as `Arc<dyn MemoryManager>`. Their default bodies
//! answer [`MemoryError::Unsupported`], naming the backend and the operation: a backend without
//! one says so, never does nothing.

use crate::event::MemoryEvent;
use crate::model::{DEFAULT_THRESHOLD, Memory, Metadata};
use crate::search::{SearchOutcome, SearchRequest};
use crate::{EmbedderIdentity, MemoryError, Page};

/// How many times the limit the default [`MemoryManager::search_with`] asks a backend for before
/// filtering.
pub const FILTER_OVERFETCH: usize = 20;

/// What a backend is and where it keeps its memories, for `talab memory stats` and error reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BackendInfo {
    /// The backend's name (`embedded`, `pgvector`, …), as in [`MemoryManager::backend_name`].
    pub backend: &'static str,
    /// Where its memories are (a URL or path), credentials masked.
    pub location: String,
    /// The embedder whose vectors it searches (None: a backend that ranks in its own way).
    pub embedder: Option<EmbedderIdentity>,
    /// How many memories it holds, in every scope.
    pub count: u64,
}

/// A semantic memory: add text, find it again by meaning, render it for a prompt.
///
/// Object safe, so it is used as `Arc<dyn MemoryManager>`.
#[async_trait::async_trait]
pub trait MemoryManager: Send + Sync {
    /// The backend's name in messages (`embedded`, `pgvector`, …); by default the type's name.
    fn backend_name(&self) -> &'static str {
        std::any::type_name::<Self>()
    }

    /// Stores content; returns its id (an existing id when the same normalised content is already stored).
    async fn add(&self, content: &str, metadata: Metadata) -> Result<String, MemoryError> {
        Ok(self.insert(content, metadata).await?.id)
    }

    /// [`MemoryManager::add`] that also says whether the memory was created (`created: false`:
    /// the same normalised content was already stored, and nothing was written).
    async fn insert(&self, content: &str, metadata: Metadata) -> Result<crate::Inserted, MemoryError>;

    /// [`MemoryManager::insert`] into a named scope rather than the manager's own (one store
    /// serving several projects or agents; dedup is per scope). Searches reach it with
    /// [`crate::search::Filters::scope`].
    async fn insert_in(
        &self,
        scope: &str,
        content: &str,
        metadata: Metadata,
    ) -> Result<crate::Inserted, MemoryError> {
        let _ = (scope, content, metadata);
        Err(self.unsupported("add to a named scope"))
    }

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

    /// The prompt-ready context block for these ids (format: [`crate::context`]), within
    /// [`crate::DEFAULT_CONTEXT_BUDGET`].
    async fn get_context(&self, ids: &[String]) -> Result<String, MemoryError> {
        self.context_within(ids, crate::DEFAULT_CONTEXT_BUDGET).await
    }

    /// [`MemoryManager::get_context`] within `budget_chars` (memories are never cut in the
    /// middle): each id fetched with [`MemoryManager::get`], unknown ones named in the block.
    async fn context_within(&self, ids: &[String], budget_chars: usize) -> Result<String, MemoryError> {
        let (mut found, mut unknown) = (Vec::new(), Vec::new());
        for id in crate::unique_ids(ids) {
            match self.get(id).await {
                Ok(memory) => found.push(memory),
                Err(MemoryError::NotFound(_)) => unknown.push(id.to_string()),
                Err(e) => return Err(e),
            }
        }
        Ok(crate::render_context(&found, &unknown, budget_chars))
    }

    /// The memory with this id, in any scope ([`MemoryError::NotFound`] when there is none).
    async fn get(&self, id: &str) -> Result<Memory, MemoryError> {
        let _ = id;
        Err(self.unsupported("get a memory by id"))
    }

    /// Changes a memory's content (re-embedded before anything is written) and/or metadata,
    /// keeping the previous values in its history; returns the updated memory. Content another
    /// memory of the same scope already holds is refused ([`MemoryError::DuplicateContent`]).
    async fn update(
        &self,
        id: &str,
        content: Option<&str>,
        metadata: Option<Metadata>,
    ) -> Result<Memory, MemoryError> {
        let _ = (id, content, metadata);
        Err(self.unsupported("update a memory"))
    }

    /// Soft-deletes a memory: kept and fetchable, left out of searches unless they ask for it.
    async fn deprecate(&self, id: &str, reason: &str) -> Result<(), MemoryError> {
        let _ = (id, reason);
        Err(self.unsupported("deprecate a memory"))
    }

    /// Removes a memory for good; its history is kept where the backend has one.
    async fn delete(&self, id: &str) -> Result<(), MemoryError> {
        let _ = id;
        Err(self.unsupported("delete a memory"))
    }

    /// Everything that happened to a memory, oldest first (also after it was deleted);
    /// [`MemoryError::NotFound`] when nothing ever did.
    async fn history(&self, id: &str) -> Result<Vec<MemoryEvent>, MemoryError> {
        let _ = id;
        Err(self.unsupported("show a memory's history"))
    }

    /// Up to `limit` memories of every scope from `offset`, oldest first (ties by id), with the
    /// total, so nothing is ever cut silently.
    async fn list(&self, offset: u64, limit: u64) -> Result<Page, MemoryError> {
        let _ = (offset, limit);
        Err(self.unsupported("list memories"))
    }

    /// Which backend this is, where, with which embedder, holding how many memories.
    async fn describe(&self) -> Result<BackendInfo, MemoryError> {
        Err(self.unsupported("describe itself"))
    }

    /// The error a backend answers for an operation it does not have.
    fn unsupported(&self, operation: &'static str) -> MemoryError {
        MemoryError::Unsupported {
            backend: self.backend_name(),
            operation,
        }
    }
}
