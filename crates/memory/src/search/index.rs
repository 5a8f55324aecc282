//! The in-memory search index of one store: the vector matrix, the BM25 statistics and what the
//! filters need, in parallel slots, kept in sync by the manager on every write.
//!
//! Searching never touches the database: an exact scan of the matrix, the filters, then a
//! partial sort of the survivors. Contents are kept for BM25 and for building hits.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::bm25::Bm25;
use super::filter::Candidate;
use super::matrix::VectorMatrix;
use super::{SearchMode, SearchRequest, hybrid};
use crate::{Memory, Metadata};

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

/// One ranked hit: its slot, cosine and fused rank.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    /// Slot in the index.
    pub slot: usize,
    /// Cosine with the query (the `relevance_score`).
    pub cosine: f32,
    /// The score the ranking used.
    pub rank: f32,
}

/// Ranked hits and what was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// Best first, at most the limit.
    pub hits: Vec<Ranked>,
    /// Passed the filters, scored below the threshold.
    pub below_threshold: usize,
    /// Excluded by the filters.
    pub filtered_out: usize,
}

/// Vectors, BM25 documents and entries in the same slots.
#[derive(Debug, Clone)]
pub struct SearchIndex {
    matrix: VectorMatrix,
    bm25: Bm25,
    entries: Vec<IndexEntry>,
    slots: HashMap<String, usize>,
}

impl SearchIndex {
    /// An empty index of `dim`-long vectors.
    pub fn new(dim: usize) -> Self {
        SearchIndex {
            matrix: VectorMatrix::new(dim),
            bm25: Bm25::new(),
            entries: Vec::new(),
            slots: HashMap::new(),
        }
    }

    /// How many memories it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in slot order.
    pub fn entries(&self) -> &[IndexEntry] {
        &self.entries
    }

    /// The vectors, in slot order.
    pub fn matrix(&self) -> &VectorMatrix {
        &self.matrix
    }

    /// The slot holding this id.
    pub fn slot(&self, id: &str) -> Option<usize> {
        self.slots.get(id).copied()
    }

    /// Adds a memory, or replaces the one with the same id.
    pub fn upsert(&mut self, entry: IndexEntry, vector: &[f32]) {
        match self.slots.get(&entry.id) {
            Some(&slot) => {
                self.matrix.set(slot, vector);
                if self.entries[slot].content != entry.content {
                    self.bm25.set(slot, &entry.content);
                }
                self.entries[slot] = entry;
            }
            None => {
                let slot = self.matrix.push(vector);
                self.bm25.push(&entry.content);
                self.slots.insert(entry.id.clone(), slot);
                self.entries.push(entry);
            }
        }
    }

    /// Removes a memory; false when it was not there.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some(slot) = self.slots.remove(id) else {
            return false;
        };
        self.matrix.swap_remove(slot);
        self.bm25.swap_remove(slot);
        self.entries.swap_remove(slot);
        if let Some(moved) = self.entries.get(slot) {
            self.slots.insert(moved.id.clone(), slot);
        }
        true
    }

    /// Marks a memory deprecated (or not); false when it is not there.
    pub fn set_deprecated(&mut self, id: &str, deprecated: bool) -> bool {
        match self.slots.get(id) {
            Some(&slot) => {
                self.entries[slot].deprecated = deprecated;
                true
            }
            None => false,
        }
    }

    /// Ranks the memories for a query vector: filters, threshold on the cosine, ranking by
    /// `request.mode`, ties newest first (then by id), at most `request.limit`.
    pub fn rank(
        &self,
        query: &[f32],
        request: &SearchRequest,
        threshold: f32,
        default_scope: &str,
    ) -> Ranking {
        let cosines = self.matrix.scores(query);
        let lexical = match request.mode {
            SearchMode::Vector => None,
            SearchMode::Hybrid | SearchMode::Lexical => Some(self.bm25.scores(&request.query)),
        };
        let (mut below_threshold, mut filtered_out) = (0, 0);
        let mut kept: Vec<usize> = Vec::new();
        for (slot, entry) in self.entries.iter().enumerate() {
            let candidate = Candidate {
                metadata: &entry.metadata,
                scope: &entry.scope,
                created_at: entry.created_at,
                deprecated: entry.deprecated,
            };
            if !request.filters.matches(&candidate, default_scope) {
                filtered_out += 1;
            } else if cosines[slot] < threshold
                || (request.mode == SearchMode::Lexical && lexical.as_ref().is_some_and(|l| l[slot] <= 0.0))
            {
                below_threshold += 1;
            } else {
                kept.push(slot);
            }
        }
        let cos: Vec<f32> = kept.iter().map(|&s| cosines[s]).collect();
        let ranks: Vec<f32> = match (&request.mode, &lexical) {
            (SearchMode::Hybrid, Some(l)) => {
                hybrid::fuse(&cos, &kept.iter().map(|&s| l[s]).collect::<Vec<_>>())
            }
            (SearchMode::Lexical, Some(l)) => kept.iter().map(|&s| l[s]).collect(),
            _ => cos.clone(),
        };
        let mut hits: Vec<Ranked> = kept
            .iter()
            .zip(cos.iter().zip(&ranks))
            .map(|(&slot, (&cosine, &rank))| Ranked { slot, cosine, rank })
            .collect();
        let order = |a: &Ranked, b: &Ranked| {
            b.rank
                .total_cmp(&a.rank)
                .then_with(|| {
                    self.entries[b.slot]
                        .created_at
                        .cmp(&self.entries[a.slot].created_at)
                })
                .then_with(|| self.entries[a.slot].id.cmp(&self.entries[b.slot].id))
        };
        if hits.len() > request.limit && request.limit > 0 {
            hits.select_nth_unstable_by(request.limit - 1, order);
        }
        hits.truncate(request.limit);
        hits.sort_unstable_by(order);
        Ranking {
            hits,
            below_threshold,
            filtered_out,
        }
    }

    /// The memory in a slot, as a search hit with this score.
    pub fn memory(&self, slot: usize, relevance_score: f32) -> Memory {
        let entry = &self.entries[slot];
        Memory {
            id: entry.id.clone(),
            content: entry.content.clone(),
            metadata: entry.metadata.clone(),
            embedding: self.matrix.row(slot).to_vec(),
            created_at: entry.created_at,
            relevance_score,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, content: &str, minute: u32) -> IndexEntry {
        let at: DateTime<Utc> = format!("2026-11-20T10:{minute:02}:00Z").parse().unwrap();
        IndexEntry {
            id: id.into(),
            content: content.into(),
            scope: "default".into(),
            metadata: Metadata::new(),
            created_at: at,
            updated_at: at,
            verified_at: None,
            deprecated: false,
        }
    }

    #[test]
    fn ranking_keeps_threshold_limit_and_recency_ties() {
        let mut index = SearchIndex::new(2);
        index.upsert(entry("old", "alpha", 1), &[1.0, 0.0]);
        index.upsert(entry("new", "alpha again", 2), &[1.0, 0.0]);
        index.upsert(entry("far", "beta", 3), &[0.0, 1.0]);
        let request = SearchRequest {
            mode: SearchMode::Vector,
            limit: 5,
            ..SearchRequest::new("alpha")
        };
        let r = index.rank(&[1.0, 0.0], &request, 0.5, "default");
        let ids: Vec<&str> = r
            .hits
            .iter()
            .map(|h| index.entries()[h.slot].id.as_str())
            .collect();
        assert_eq!(ids, ["new", "old"]);
        assert_eq!((r.below_threshold, r.filtered_out), (1, 0));
        let one = index.rank(
            &[1.0, 0.0],
            &SearchRequest {
                limit: 1,
                ..request.clone()
            },
            0.5,
            "default",
        );
        assert_eq!(index.entries()[one.hits[0].slot].id, "new");

        assert!(index.remove("new"));
        assert!(!index.remove("new"));
        assert!(index.set_deprecated("old", true));
        let r = index.rank(&[1.0, 0.0], &request, 0.5, "default");
        assert!(r.hits.is_empty());
        assert_eq!((r.below_threshold, r.filtered_out), (1, 1));
        assert_eq!(index.slot("far"), Some(1));
    }
}
