//! The in-memory search index of one store: the vector matrix, the BM25 statistics and what the
//! filters need, in parallel slots, kept in sync by the manager on every write.
//!
//! Searching never touches the database: an exact scan of the matrix, the filters, then a
//! partial sort of the survivors. Contents are kept for BM25 and for building hits.

use std::collections::HashMap;

use super::bm25::Bm25;
use super::columns::FilterColumns;
use super::entry::IndexEntry;
use super::hybrid::{self, Fusion};
use super::matrix::{VectorMatrix, dot};
use super::quantised::{QuantisedMatrix, QuantisedQuery};
use super::{SearchMode, SearchRequest};
use crate::Memory;

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

/// A memory that passed the filters and the threshold, with an interval holding its cosine.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    slot: usize,
    lo: f32,
    hi: f32,
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
    quantised: QuantisedMatrix,
    bm25: Bm25,
    entries: Vec<IndexEntry>,
    /// What the filters read of every entry, compact.
    columns: FilterColumns,
    slots: HashMap<String, usize>,
}

impl SearchIndex {
    /// An empty index of `dim`-long vectors.
    pub fn new(dim: usize) -> Self {
        SearchIndex {
            matrix: VectorMatrix::new(dim),
            quantised: QuantisedMatrix::new(dim),
            bm25: Bm25::new(),
            entries: Vec::new(),
            columns: FilterColumns::default(),
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

    /// Bytes held by the vectors: the f32 matrix and its int8 codes.
    pub fn vector_bytes(&self) -> usize {
        self.matrix.bytes() + self.quantised.bytes()
    }

    /// Makes room for `rows` more memories at once (a bulk load).
    pub fn reserve_exact(&mut self, rows: usize) {
        self.matrix.reserve_exact(rows);
        self.quantised.reserve_exact(rows);
        self.entries.reserve_exact(rows);
        self.columns.reserve_exact(rows);
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
                self.quantised.set(slot, vector);
                if self.entries[slot].content != entry.content {
                    self.bm25.set(slot, &entry.content);
                }
                self.columns.set(slot, &entry);
                self.entries[slot] = entry;
            }
            None => {
                let slot = self.matrix.push(vector);
                self.quantised.push(vector);
                self.bm25.push(&entry.content);
                self.columns.push(&entry);
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
        self.quantised.swap_remove(slot);
        self.bm25.swap_remove(slot);
        self.columns.swap_remove(slot);
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
                self.columns.set_deprecated(slot, deprecated);
                true
            }
            None => false,
        }
    }

    /// Ranks the memories for a query vector: filters, the mode's threshold (on the cosine; in
    /// lexical mode on BM25 relative to the best match), ranking by `request.mode`, ties newest
    /// first (then by id), at most `request.limit`.
    ///
    /// The int8 first pass ([`QuantisedMatrix`]) gives each memory an interval sure to hold its
    /// cosine; only memories whose interval straddles the threshold or reaches into the best
    /// ones are scored exactly. Counts, hits and scores are those of the exact scan.
    pub fn rank(
        &self,
        query: &[f32],
        request: &SearchRequest,
        threshold: f32,
        fusion: Fusion,
        default_scope: &str,
    ) -> Ranking {
        assert_eq!(query.len(), self.matrix.dim(), "query length");
        let quantised_query = QuantisedQuery::new(query);
        let approx = self.quantised.approximate(&quantised_query);
        let (mut below_threshold, mut filtered_out) = (0, 0);
        // Memories that pass the filters and whose cosine is surely at least the threshold.
        let mut above: Vec<Bounds> = Vec::new();
        let filters = &request.filters;
        let scope = self
            .columns
            .scope_id(filters.scope.as_deref().unwrap_or(default_scope));
        let reads_metadata = filters.reads_metadata();
        for (slot, &approx) in approx.iter().enumerate() {
            if !self.columns.passes(slot, filters, scope)
                || (reads_metadata && !filters.matches_metadata(&self.entries[slot].metadata))
            {
                filtered_out += 1;
                continue;
            }
            let error = self.quantised.error_bound(slot, &quantised_query);
            let (lo, hi) = (approx - error, approx + error);
            if request.mode == SearchMode::Lexical {
                // Lexical has its own threshold, on BM25 (below); every memory is a candidate.
                above.push(Bounds { slot, lo, hi });
            } else if hi < threshold {
                below_threshold += 1;
            } else if lo >= threshold {
                above.push(Bounds { slot, lo, hi });
            } else {
                let cosine = dot(self.matrix.row(slot), query);
                if cosine < threshold {
                    below_threshold += 1;
                } else {
                    above.push(Bounds {
                        slot,
                        lo: cosine,
                        hi: cosine,
                    });
                }
            }
        }
        let exact = |slot: usize| dot(self.matrix.row(slot), query);
        // A hit ranked by `rank`, reporting its exact cosine.
        let with_cosine = |(slot, rank): (usize, f32)| Ranked {
            slot,
            cosine: exact(slot),
            rank,
        };
        // The kept memories that share a term with the query, with their BM25 score.
        let bm25_matches = |lexical: &[f32]| -> Vec<(usize, f32)> {
            above
                .iter()
                .filter(|b| lexical[b.slot] > 0.0)
                .map(|b| (b.slot, lexical[b.slot]))
                .collect()
        };
        let mut hits: Vec<Ranked> = match request.mode {
            SearchMode::Vector => self
                .best_by_cosine(query, &above, request.limit)
                .into_iter()
                .map(|(slot, cosine)| Ranked {
                    slot,
                    cosine,
                    rank: cosine,
                })
                .collect(),
            SearchMode::Lexical => {
                let mut matching = bm25_matches(&self.bm25.scores(&request.query));
                let best = matching.iter().map(|m| m.1).fold(0.0, f32::max);
                matching.retain(|m| m.1 >= threshold * best);
                below_threshold += above.len() - matching.len();
                self.best_by(matching, request.limit)
                    .into_iter()
                    .map(with_cosine)
                    .collect()
            }
            SearchMode::Hybrid => {
                let lexical = self.bm25.scores(&request.query);
                match fusion {
                    Fusion::CosineNudge { bm25_weight } => {
                        let best = above.iter().map(|b| lexical[b.slot]).fold(0.0, f32::max);
                        let scale = if best > 0.0 { bm25_weight / best } else { 0.0 };
                        self.best_by_cosine_plus(query, &above, request.limit, |slot| scale * lexical[slot])
                            .into_iter()
                            .map(with_cosine)
                            .collect()
                    }
                    Fusion::Rrf { k } => {
                        let depth = request.limit.max(hybrid::DEPTH);
                        let by_cosine = self.best_by_cosine(query, &above, depth);
                        let by_bm25 = self.best_by(bm25_matches(&lexical), depth);
                        let fused = hybrid::fuse_weighted(&by_cosine, &by_bm25, k, hybrid::VECTOR_WEIGHT);
                        let cosines: HashMap<usize, f32> = by_cosine.iter().copied().collect();
                        fused
                            .into_iter()
                            .map(|(slot, rank)| Ranked {
                                slot,
                                cosine: cosines.get(&slot).copied().unwrap_or_else(|| exact(slot)),
                                rank,
                            })
                            .collect()
                    }
                }
            }
        };
        let order = |a: &Ranked, b: &Ranked| self.order(b.rank, b.slot, a.rank, a.slot);
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

    /// The exact `k` best of `above` by cosine, best first: the memories whose upper bound
    /// reaches the k-th best lower bound are scored exactly, the rest surely rank lower.
    fn best_by_cosine(&self, query: &[f32], above: &[Bounds], k: usize) -> Vec<(usize, f32)> {
        self.best_by_cosine_plus(query, above, k, |_| 0.0)
    }

    /// The exact `k` best of `above` by cosine plus a per-memory `bonus`, best first, with that
    /// sum: as [`best_by_cosine`](Self::best_by_cosine), the bonus moving both bounds.
    fn best_by_cosine_plus(
        &self,
        query: &[f32],
        above: &[Bounds],
        k: usize,
        bonus: impl Fn(usize) -> f32,
    ) -> Vec<(usize, f32)> {
        if k == 0 || above.is_empty() {
            return Vec::new();
        }
        let cut = if above.len() <= k {
            f32::NEG_INFINITY
        } else {
            let mut lows: Vec<f32> = above.iter().map(|b| b.lo + bonus(b.slot)).collect();
            let (_, kth, _) = lows.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
            *kth
        };
        let scored: Vec<(usize, f32)> = above
            .iter()
            .filter(|b| b.hi + bonus(b.slot) >= cut)
            .map(|b| (b.slot, dot(self.matrix.row(b.slot), query) + bonus(b.slot)))
            .collect();
        self.best_by(scored, k)
    }

    /// The `k` best `(slot, score)` pairs, best first, ties newest first then by id.
    fn best_by(&self, mut scored: Vec<(usize, f32)>, k: usize) -> Vec<(usize, f32)> {
        let order = |a: &(usize, f32), b: &(usize, f32)| self.order(b.1, b.0, a.1, a.0);
        if scored.len() > k && k > 0 {
            scored.select_nth_unstable_by(k - 1, order);
        }
        scored.truncate(k);
        scored.sort_unstable_by(order);
        scored
    }

    /// Compares two scored slots: higher score, then newer, then smaller id is greater.
    fn order(&self, score_a: f32, slot_a: usize, score_b: f32, slot_b: usize) -> std::cmp::Ordering {
        let (a, b) = (&self.entries[slot_a], &self.entries[slot_b]);
        score_a
            .total_cmp(&score_b)
            .then_with(|| a.created_at.cmp(&b.created_at))
            .then_with(|| b.id.cmp(&a.id))
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
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::Metadata;

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
        let r = index.rank(&[1.0, 0.0], &request, 0.5, hybrid::SEMANTIC, "default");
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
            hybrid::SEMANTIC,
            "default",
        );
        assert_eq!(index.entries()[one.hits[0].slot].id, "new");

        assert!(index.remove("new"));
        assert!(!index.remove("new"));
        assert!(index.set_deprecated("old", true));
        let r = index.rank(&[1.0, 0.0], &request, 0.5, hybrid::SEMANTIC, "default");
        assert!(r.hits.is_empty());
        assert_eq!((r.below_threshold, r.filtered_out), (1, 1));
        assert_eq!(index.slot("far"), Some(1));
    }
}
