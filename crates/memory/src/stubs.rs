//! [`MemoryStub`]: an in-memory [`MemoryManager`] that finds memories by their words, so other
//! crates' tests (the orchestrator, the CLI's end-to-end tests) run without a database or a model.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};

use crate::context::{DEFAULT_CONTEXT_BUDGET, render_context};
use crate::model::{
    FETCHED_RELEVANCE, now_micros, unique_ids, validate_content, validate_query, validate_threshold,
};
use crate::normalise::content_hash;
use crate::{BackendInfo, Inserted, Memory, MemoryError, MemoryManager, Metadata, terms};

/// An in-memory [`MemoryManager`] that matches on words.
///
/// Behaves like a store: ids are UUID v4, adding the same normalised content again returns the
/// first id, `search` honours threshold and limit and sorts best first (ties: newest first), and
/// `get_context` renders the real format ([`crate::context`]) in the caller's order, reporting
/// unknown ids.
///
/// How it scores: the query and each content are reduced to [`terms`] (lowercase words, English
/// stop words such as "how", "to", "the" dropped, a crude stemmer so "calculate" meets
/// "calculation"); a memory's score is the fraction of the query's distinct terms found in its
/// content, from 0 to 1.
///
/// Limitations, on purpose:
/// - No meaning: synonyms and paraphrases with other words do not match ("moving average" does not
///   find "EMA"); metadata is not searched.
/// - A query made only of stop words ("how to") has no terms and finds nothing.
/// - As the contract says, a hit is any memory scoring at least the threshold, so a threshold of 0
///   or below returns every memory (with score 0 for those sharing no word).
/// - `embedding` is always empty; nothing persists beyond the value; there are no scopes.
/// - Memories fetched by id carry a relevance of [`FETCHED_RELEVANCE`].
/// - Of the record operations it has `get` and `describe`; the others answer
///   [`MemoryError::Unsupported`].
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use talab_memory::{DEFAULT_LIMIT, DEFAULT_THRESHOLD, MemoryManager, Metadata, stubs::MemoryStub};
/// let memory = MemoryStub::new();
/// memory.add("EMA calculation logic", Metadata::new()).await.unwrap();
/// let hits = memory.search("how to calculate EMA", DEFAULT_THRESHOLD, DEFAULT_LIMIT).await.unwrap();
/// assert_eq!(hits[0].content, "EMA calculation logic");
/// # });
/// ```
#[derive(Debug, Default)]
pub struct MemoryStub {
    entries: Mutex<Vec<Entry>>,
}

#[derive(Debug)]
struct Entry {
    memory: Memory,
    hash: String,
    terms: HashSet<String>,
}

impl MemoryStub {
    /// An empty memory.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many memories it holds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The memory with this id.
    pub fn get(&self, id: &str) -> Option<Memory> {
        self.lock()
            .iter()
            .find(|e| e.memory.id == id)
            .map(|e| e.memory.clone())
    }

    /// Every memory, oldest first.
    pub fn all(&self) -> Vec<Memory> {
        self.lock().iter().map(|e| e.memory.clone()).collect()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Entry>> {
        // A panic elsewhere while holding the lock leaves the Vec consistent (every change is one push).
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait::async_trait]
impl MemoryManager for MemoryStub {
    async fn insert(&self, content: &str, metadata: Metadata) -> Result<Inserted, MemoryError> {
        validate_content(content)?;
        let hash = content_hash(content);
        let mut entries = self.lock();
        if let Some(existing) = entries.iter().find(|e| e.hash == hash) {
            return Ok(Inserted {
                id: existing.memory.id.clone(),
                created: false,
            });
        }
        let id = uuid::Uuid::new_v4().to_string();
        entries.push(Entry {
            memory: Memory {
                id: id.clone(),
                content: content.to_string(),
                metadata,
                embedding: Vec::new(),
                created_at: now_micros(),
                relevance_score: FETCHED_RELEVANCE,
            },
            hash,
            terms: terms::terms(content).into_iter().collect(),
        });
        Ok(Inserted { id, created: true })
    }

    /// Any shared word: the stub's scores are the fraction of the query's words a memory holds.
    fn default_threshold(&self) -> f32 {
        0.0
    }

    async fn search(&self, query: &str, threshold: f32, limit: usize) -> Result<Vec<Memory>, MemoryError> {
        validate_query(query)?;
        validate_threshold(threshold)?;
        let wanted: HashSet<String> = terms::terms(query).into_iter().collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let entries = self.lock();
        // (score, position): a later position is a newer memory.
        let mut hits: Vec<(f32, usize)> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let found = wanted.iter().filter(|t| e.terms.contains(*t)).count();
                (found as f32 / wanted.len() as f32, i)
            })
            .filter(|(score, _)| *score >= threshold)
            .collect();
        hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
        Ok(hits
            .into_iter()
            .take(limit)
            .map(|(score, i)| Memory {
                relevance_score: score,
                ..entries[i].memory.clone()
            })
            .collect())
    }

    fn backend_name(&self) -> &'static str {
        "stub"
    }

    async fn get(&self, id: &str) -> Result<Memory, MemoryError> {
        MemoryStub::get(self, id).ok_or_else(|| MemoryError::NotFound(id.to_string()))
    }

    /// In memory, with no embedder; the other record operations answer `Unsupported`.
    async fn describe(&self) -> Result<BackendInfo, MemoryError> {
        Ok(BackendInfo {
            backend: "stub",
            location: "in memory".into(),
            embedder: None,
            count: self.len() as u64,
        })
    }

    async fn get_context(&self, ids: &[String]) -> Result<String, MemoryError> {
        let entries = self.lock();
        let mut found = Vec::new();
        let mut unknown = Vec::new();
        for id in unique_ids(ids) {
            match entries.iter().find(|e| e.memory.id == id) {
                Some(e) => found.push(e.memory.clone()),
                None => unknown.push(id.to_string()),
            }
        }
        Ok(render_context(&found, &unknown, DEFAULT_CONTEXT_BUDGET))
    }
}
