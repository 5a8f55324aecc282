//! `SqlMemoryManager`: the real [`MemoryManager`] on the shared database, with an embedder.
//!
//! Rows live in [`MemoryRecords`]; searches run on an in-memory [`SearchIndex`] loaded lazily
//! from the database on first use and kept in sync by this manager's writes (writes made by
//! another process are seen after [`SqlMemoryManager::refresh`]). Embedding always happens
//! before any transaction, so a failed embedding stores nothing.

pub mod info;
pub mod reindex;
pub(crate) mod sync;

use std::sync::Arc;
use talab_db::sqlx;

use chrono::{DateTime, Utc};
use talab_db::on_pool;
use talab_db::sqlx::types::Json;
use tokio::sync::RwLock;

use crate::search::{IndexEntry, SearchIndex, SearchMode, SearchOutcome, SearchRequest};
use crate::store::DEFAULT_SCOPE;
use crate::{
    BackendInfo, Embedder, EmbedderIdentity, Inserted, Memory, MemoryError, MemoryEvent, MemoryManager,
    MemoryRecords, Metadata, NewMemory, Page, now_micros, validate_content, validate_query, validate_scope,
    validate_threshold, vector,
};
pub use info::{StoreInfo, identity_key};

/// The backend name of [`SqlMemoryManager`] (the default, embedded store).
pub const EMBEDDED: &str = "embedded";

/// A memory store on the database, searched with one embedder's vectors.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::sync::Arc;
/// use talab_memory::{MemoryManager, MemoryRecords, Metadata, SqlMemoryManager};
/// use talab_memory::embed::lexical::LexicalEmbedder;
///
/// let records = MemoryRecords::connect("sqlite::memory:").await?;
/// let memory = SqlMemoryManager::open(records, Arc::new(LexicalEmbedder::new())).await?;
/// let id = memory.add("EMA refresh completed for BTC and ETH", Metadata::new()).await?;
/// let hits = memory.search("refreshing BTC EMAs", 0.2, 5).await?;
/// assert_eq!(hits[0].id, id);
/// # Ok::<(), talab_memory::MemoryError>(())
/// # }).unwrap();
/// ```
pub struct SqlMemoryManager {
    pub(crate) records: MemoryRecords,
    pub(crate) embedder: Arc<dyn Embedder>,
    pub(crate) identity: EmbedderIdentity,
    pub(crate) key: String,
    pub(crate) scope: String,
    pub(crate) index: RwLock<Option<SearchIndex>>,
    /// The newest history event the index reflects (see [`sync`]).
    pub(crate) seen_event: std::sync::atomic::AtomicI64,
}

/// The columns [`load_entries`] reads, in the order of [`EntryRow`].
const ENTRY_COLUMNS: &str =
    "id, content, scope, metadata, embedding, created_at, updated_at, verified_at, deprecated_at";
type EntryRow = (
    String,
    String,
    String,
    Json<Metadata>,
    Vec<u8>,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

impl SqlMemoryManager {
    /// Opens the store for `embedder`: records it as the store's embedder on first use, and
    /// refuses (changing nothing) a store whose vectors come from another embedder.
    pub async fn open(records: MemoryRecords, embedder: Arc<dyn Embedder>) -> Result<Self, MemoryError> {
        let identity = embedder.identity();
        let db = records.database();
        let stored = match info::read(db).await? {
            Some(stored) => stored,
            None => {
                if let Some(other) = info::foreign_vectors(db, &identity).await?.into_iter().next() {
                    return Err(MemoryError::EmbedderMismatch {
                        stored: other,
                        current: identity.to_string(),
                    });
                }
                info::record_if_absent(db, &identity).await?
            }
        };
        info::check(&stored, &identity)?;
        if let Some(target) = &stored.reindex_target {
            tracing::warn!(%target, "a reindex of this memory store is unfinished; re-embedded memories are not searchable until it completes");
        }
        Ok(SqlMemoryManager {
            key: identity_key(&identity),
            identity,
            embedder,
            records,
            scope: DEFAULT_SCOPE.to_string(),
            index: RwLock::new(None),
            seen_event: std::sync::atomic::AtomicI64::new(0),
        })
    }

    /// The same store, adding to and searching in another scope.
    pub fn in_scope(mut self, scope: impl Into<String>) -> Result<Self, MemoryError> {
        let scope = scope.into();
        validate_scope(&scope)?;
        self.scope = scope;
        Ok(self)
    }

    /// The scope this manager adds to and searches when none is named.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The rows underneath.
    pub fn records(&self) -> &MemoryRecords {
        &self.records
    }

    /// The embedder's identity.
    pub fn embedder_identity(&self) -> &EmbedderIdentity {
        &self.identity
    }

    /// The threshold searches use when given none.
    pub fn default_threshold(&self) -> f32 {
        self.embedder.default_threshold()
    }

    /// Adds content with a chosen creation time (imports keeping their dates; tests of filters).
    pub async fn add_at(
        &self,
        content: &str,
        metadata: Metadata,
        at: DateTime<Utc>,
    ) -> Result<String, MemoryError> {
        Ok(self.insert_at(content, metadata, at).await?.id)
    }

    /// [`SqlMemoryManager::add_at`] that also says whether the memory was created.
    pub async fn insert_at(
        &self,
        content: &str,
        metadata: Metadata,
        at: DateTime<Utc>,
    ) -> Result<Inserted, MemoryError> {
        self.insert_into(&self.scope, content, metadata, at).await
    }

    async fn insert_into(
        &self,
        scope: &str,
        content: &str,
        metadata: Metadata,
        at: DateTime<Utc>,
    ) -> Result<Inserted, MemoryError> {
        validate_content(content)?;
        let vector = self.embed(&[content.to_string()]).await?.remove(0);
        let new = NewMemory::new(content, metadata)
            .in_scope(scope)
            .with_embedding(self.key.clone(), vector.clone());
        let inserted = self.records.insert_at(new, at).await?;
        if inserted.created {
            let entry = self.load_entries(Some(&[&inserted.id])).await?;
            let mut index = self.index.write().await;
            if let (Some(index), Some((entry, vector))) = (index.as_mut(), entry.into_iter().next()) {
                index.upsert(entry, &vector);
            }
        }
        Ok(inserted)
    }

    /// A search with filters, a ranking mode and an account of what was left out.
    pub async fn search_with(&self, request: &SearchRequest) -> Result<SearchOutcome, MemoryError> {
        validate_query(&request.query)?;
        if let Some(scope) = &request.filters.scope {
            validate_scope(scope)?;
        }
        let threshold = request.threshold.unwrap_or_else(|| match request.mode {
            SearchMode::Lexical => 0.0,
            SearchMode::Vector | SearchMode::Hybrid => self.default_threshold(),
        });
        validate_threshold(threshold)?;
        let query = self.embed(std::slice::from_ref(&request.query)).await?.remove(0);
        self.ensure_loaded().await?;
        self.catch_up().await?;
        let guard = self.index.read().await;
        let index = guard
            .as_ref()
            .expect("loaded just above and never unloaded while read");
        let ranking = index.rank(&query, request, threshold, self.embedder.fusion(), &self.scope);
        Ok(SearchOutcome {
            hits: ranking
                .hits
                .iter()
                .map(|h| index.memory(h.slot, h.cosine))
                .collect(),
            threshold_used: threshold,
            below_threshold: ranking.below_threshold,
            filtered_out: ranking.filtered_out,
            embedder: Some(self.identity.clone()),
        })
    }

    /// Forgets the in-memory index, so the next search reloads it from the database (to see
    /// rows written by other processes).
    pub async fn refresh(&self) {
        *self.index.write().await = None;
    }

    /// Embeds texts, checked ([`crate::embed::embed_checked`]).
    pub(crate) async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, MemoryError> {
        crate::embed::embed_checked(self.embedder.as_ref(), &self.identity, texts).await
    }

    /// Loads the index from the database unless it is loaded. The write lock is held during the
    /// load, so a concurrent add either lands in the loaded rows or is applied after.
    pub(crate) async fn ensure_loaded(&self) -> Result<(), MemoryError> {
        if self.index.read().await.is_some() {
            return Ok(());
        }
        let mut slot = self.index.write().await;
        if slot.is_none() {
            // Read first: a change committed during the load is then caught up later (again).
            let seen = self.last_event().await?;
            let mut index = SearchIndex::new(self.identity.dim);
            let entries = self.load_entries(None).await?;
            index.reserve_exact(entries.len());
            for (entry, vector) in entries {
                index.upsert(entry, &vector);
            }
            tracing::debug!(memories = index.len(), "memory search index loaded");
            *slot = Some(index);
            self.seen_event.store(seen, std::sync::atomic::Ordering::Release);
        }
        Ok(())
    }

    /// Applies a change to the index when it is loaded (else the next load reads it anyway).
    pub(crate) async fn with_index(&self, change: impl FnOnce(&mut SearchIndex)) {
        if let Some(index) = self.index.write().await.as_mut() {
            change(index);
        }
    }

    /// The searchable rows (vectors of this embedder): all of them, or those of these ids (in
    /// one query; callers keep the list within the backends' bind limits).
    pub(crate) async fn load_entries(
        &self,
        ids: Option<&[&str]>,
    ) -> Result<Vec<(IndexEntry, Vec<f32>)>, MemoryError> {
        let only = match ids {
            Some(ids) => {
                let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
                format!(" AND id IN ({})", marks.join(", "))
            }
            None => String::new(),
        };
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM memories WHERE embedder = $1 AND dim = $2{only}");
        let dim = info::dim_i32(&self.identity)?;
        let rows: Vec<EntryRow> = on_pool!(self.records.database(), pool => {
            let mut query = sqlx::query_as(&sql).bind(&self.key).bind(dim);
            for id in ids.unwrap_or_default() {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await
        })?;
        rows.into_iter()
            .map(
                |(id, content, scope, metadata, blob, created_at, updated_at, verified_at, deprecated_at)| {
                    let vector = vector::decode(&blob)
                        .filter(|v| v.len() == self.identity.dim)
                        .ok_or_else(|| MemoryError::CorruptEmbedding {
                            id: id.clone(),
                            bytes: blob.len(),
                            dim: i64::from(dim),
                        })?;
                    let entry = IndexEntry {
                        id,
                        content,
                        scope,
                        metadata: metadata.0,
                        created_at,
                        updated_at,
                        verified_at,
                        deprecated: deprecated_at.is_some(),
                    };
                    Ok((entry, vector))
                },
            )
            .collect()
    }
}

#[async_trait::async_trait]
impl MemoryManager for SqlMemoryManager {
    async fn insert(&self, content: &str, metadata: Metadata) -> Result<Inserted, MemoryError> {
        self.insert_at(content, metadata, now_micros()).await
    }

    async fn insert_in(
        &self,
        scope: &str,
        content: &str,
        metadata: Metadata,
    ) -> Result<Inserted, MemoryError> {
        validate_scope(scope)?;
        self.insert_into(scope, content, metadata, now_micros()).await
    }

    /// Vector ranking, so hits are sorted by their `relevance_score` as the contract says; use
    /// [`SqlMemoryManager::search_with`] for hybrid ranking and filters.
    async fn search(&self, query: &str, threshold: f32, limit: usize) -> Result<Vec<Memory>, MemoryError> {
        let request = SearchRequest {
            threshold: Some(threshold),
            limit,
            mode: SearchMode::Vector,
            ..SearchRequest::new(query)
        };
        Ok(self.search_with(&request).await?.hits)
    }

    /// One query for every id.
    async fn context_within(&self, ids: &[String], budget_chars: usize) -> Result<String, MemoryError> {
        self.records.context(ids, budget_chars).await
    }

    /// The embedder's own threshold.
    fn default_threshold(&self) -> f32 {
        SqlMemoryManager::default_threshold(self)
    }

    /// Filters inside the index, with every mode and an exact account (the inherent
    /// [`SqlMemoryManager::search_with`]).
    async fn search_with(&self, request: &SearchRequest) -> Result<SearchOutcome, MemoryError> {
        SqlMemoryManager::search_with(self, request).await
    }

    fn backend_name(&self) -> &'static str {
        EMBEDDED
    }

    // The record operations are the inherent ones of `ops`, unchanged.

    async fn get(&self, id: &str) -> Result<Memory, MemoryError> {
        SqlMemoryManager::get(self, id).await
    }

    async fn update(
        &self,
        id: &str,
        content: Option<&str>,
        metadata: Option<Metadata>,
    ) -> Result<Memory, MemoryError> {
        SqlMemoryManager::update(self, id, content, metadata).await
    }

    async fn deprecate(&self, id: &str, reason: &str) -> Result<(), MemoryError> {
        SqlMemoryManager::deprecate(self, id, reason).await
    }

    async fn delete(&self, id: &str) -> Result<(), MemoryError> {
        SqlMemoryManager::delete(self, id).await
    }

    async fn history(&self, id: &str) -> Result<Vec<MemoryEvent>, MemoryError> {
        SqlMemoryManager::history(self, id).await
    }

    async fn list(&self, offset: u64, limit: u64) -> Result<Page, MemoryError> {
        SqlMemoryManager::list(self, offset, limit).await
    }

    /// The database (SQLite file or PostgreSQL URL, without its password) and the row count.
    async fn describe(&self) -> Result<BackendInfo, MemoryError> {
        Ok(BackendInfo {
            backend: EMBEDDED,
            location: self.records.database().to_string(),
            embedder: Some(self.identity.clone()),
            count: self.records.count().await?,
        })
    }
}
