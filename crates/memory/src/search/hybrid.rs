//! Fusion for hybrid search: how the vector cosine and the BM25 score make one ranking. Which
//! fusion suits depends on the embedder's scores, as its threshold does, so each embedder names
//! its [`Fusion`] ([`crate::Embedder::fusion`]).
//!
//! - **Cosine nudged by BM25** ([`Fusion::CosineNudge`], semantic embedders): each hit scores
//!   `cosine + w · bm25 / best_bm25`, best_bm25 being the query's best BM25 among the hits that
//!   passed the filters and the threshold. A semantic cosine already ranks paraphrases well, and
//!   its differences mean something; BM25 on a paraphrased question mostly matches common words.
//!   So BM25 only settles near-ties (at most `w` of cosine), where an exact name or number in the
//!   query should win. Rank fusion threw that information away: with MiniLM, RRF ranked *worse*
//!   than the cosine alone (recall@5 0.797 / MRR 0.688 against 0.953 / 0.850 on
//!   `tests/fixtures/labelled_set.json`; 0.689 / 0.519 against 0.754 / 0.586 on the held-out
//!   `labelled_set_heldout.json`).
//!   `w` = [`SEMANTIC_BM25_WEIGHT`] was chosen on the first set only (the best MRR among the
//!   weights 0.02–0.3 keeping the cosine's recall: 0.953 / 0.856) and then measured on the
//!   held-out set, written afterwards by someone who had not seen the first: 0.738 / 0.618
//!   against the cosine's 0.754 / 0.586 and BM25's 0.475 / 0.344 (`fusion_study` in
//!   `tests/search_quality.rs` prints every weight on either set).
//! - **Reciprocal rank fusion** ([`Fusion::Rrf`], the lexical fallback): each hit gets
//!   `1 / (K + rank_cos) + 1 / (K + rank_bm25)`, ranks counted from 0 within this query's hits,
//!   equal scores sharing a rank (so the many BM25 zeros add the same amount to all). The
//!   fallback's "cosine" is itself a bag of words, so neither score is worth more than its rank.
//!   On the labelled set RRF scored recall@5 0.672 / MRR 0.571 against 0.594 / 0.563 (vector) and
//!   0.672 / 0.548 (BM25); a convex combination of min-max normalised scores did worse at every
//!   weight tried (0.2–0.7), never at least BM25 and vector on both measures at once.
//!
//! `relevance_score` stays the raw cosine in every mode, so the threshold contract does not
//! depend on the fusion.

/// How hybrid search combines the cosine and BM25.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fusion {
    /// `cosine + bm25_weight · bm25 / best_bm25` (see the module docs).
    CosineNudge { bm25_weight: f32 },
    /// Reciprocal rank fusion with constant `k` (see the module docs).
    Rrf { k: f32 },
}

/// The BM25 weight of [`Fusion::CosineNudge`] for semantic embedders.
pub const SEMANTIC_BM25_WEIGHT: f32 = 0.05;

/// The fusion of semantic embedders (MiniLM, HTTP embedding models).
pub const SEMANTIC: Fusion = Fusion::CosineNudge {
    bm25_weight: SEMANTIC_BM25_WEIGHT,
};

/// The fusion of the lexical fallback embedder.
pub const LEXICAL: Fusion = Fusion::Rrf { k: K };

/// The RRF constant (the usual 60): damps the difference between the first few ranks.
pub const K: f32 = 60.0;

/// How deep each list goes: the best `max(limit, DEPTH)` by cosine and by BM25 are fused;
/// a memory in neither cannot reach the first `limit` fused places anyway when it is in
/// neither top list, and only these are scored exactly.
pub const DEPTH: usize = 100;

/// The weight of the vector list against the BM25 list's 1.
pub const VECTOR_WEIGHT: f32 = 1.0;

/// Reciprocal rank fusion of two ranked lists of `(slot, score)`, best first: each slot gets
/// `weight / (k + rank)` from each list it is in (the vector list's weight is `vector_weight`,
/// the BM25 list's 1), ranks counted from 0, equal scores sharing a rank. Returns every slot of
/// either list with its fused score, in no particular order.
pub fn fuse_weighted<T: Copy + Eq + std::hash::Hash>(
    by_cosine: &[(T, f32)],
    by_bm25: &[(T, f32)],
    k: f32,
    vector_weight: f32,
) -> Vec<(T, f32)> {
    let mut fused: Vec<(T, f32)> = Vec::with_capacity(by_cosine.len() + by_bm25.len());
    let mut position: std::collections::HashMap<T, usize> = std::collections::HashMap::new();
    for (list, weight) in [(by_cosine, vector_weight), (by_bm25, 1.0)] {
        let scores: Vec<f32> = list.iter().map(|(_, s)| *s).collect();
        for ((slot, _), rank) in list.iter().zip(ranks(&scores)) {
            let add = weight / (k + rank as f32);
            match position.get(slot) {
                Some(&i) => fused[i].1 += add,
                None => {
                    position.insert(*slot, fused.len());
                    fused.push((*slot, add));
                }
            }
        }
    }
    fused
}

/// Fuses two ranked candidate lists the way [`Fusion`] says, for a backend whose server ranks
/// (pgvector): `by_cosine` are the best candidates by cosine, `by_lexical` the best by a lexical
/// score (only those sharing a term with the query), each best first, every candidate having
/// passed the filters and the threshold; `cosine` gives the cosine of any candidate of either.
/// Returns each candidate once with its fused score, in no particular order.
///
/// [`Fusion::CosineNudge`] adds `w · lexical / best_lexical` to the cosine, best_lexical being
/// the first of `by_lexical`, as the in-memory index does over all its candidates;
/// [`Fusion::Rrf`] is [`fuse_weighted`] of the two lists.
pub fn fuse_lists<T: Copy + Eq + std::hash::Hash>(
    fusion: Fusion,
    by_cosine: &[(T, f32)],
    by_lexical: &[(T, f32)],
    cosine: impl Fn(T) -> f32,
) -> Vec<(T, f32)> {
    match fusion {
        Fusion::Rrf { k } => fuse_weighted(by_cosine, by_lexical, k, VECTOR_WEIGHT),
        Fusion::CosineNudge { bm25_weight } => {
            let best = by_lexical.iter().map(|(_, s)| *s).fold(0.0, f32::max);
            let scale = if best > 0.0 { bm25_weight / best } else { 0.0 };
            let lexical: std::collections::HashMap<T, f32> = by_lexical.iter().copied().collect();
            let mut seen = std::collections::HashSet::new();
            by_cosine
                .iter()
                .chain(by_lexical)
                .filter(|(t, _)| seen.insert(*t))
                .map(|&(t, _)| (t, cosine(t) + scale * lexical.get(&t).copied().unwrap_or(0.0)))
                .collect()
        }
    }
}

/// Each value's rank (0 = highest); equal values share the rank of the first of them.
fn ranks(values: &[f32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|a, b| values[*b].total_cmp(&values[*a]));
    let mut rank = vec![0; values.len()];
    for (position, &i) in order.iter().enumerate() {
        rank[i] = match position {
            0 => 0,
            _ if values[order[position - 1]] == values[i] => rank[order[position - 1]],
            _ => position,
        };
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_a_rank() {
        assert_eq!(ranks(&[0.2, 0.6, 0.6, 0.1]), [2, 0, 0, 3]);
        assert!(ranks(&[]).is_empty());
    }

    #[test]
    fn fusion_adds_reciprocal_ranks_of_both_lists() {
        // Slot 7 is first by cosine only; slot 3 second by cosine and first by BM25; slot 5 is
        // only in the BM25 list, tied with slot 3.
        let fuse = |a: &[(usize, f32)], b: &[(usize, f32)]| fuse_weighted(a, b, K, VECTOR_WEIGHT);
        let mut fused = fuse(&[(7, 0.6), (3, 0.4)], &[(3, 8.0), (5, 8.0), (9, 1.0)]);
        fused.sort_by_key(|(slot, _)| *slot);
        let expected = [
            (3, 1.0 / (K + 1.0) + 1.0 / K),
            (5, 1.0 / K),
            (7, 1.0 / K),
            (9, 1.0 / (K + 2.0)),
        ];
        assert_eq!(fused, expected);
        // Second on one list and first on the other beats first on one list only.
        assert!(fused[0].1 > fused[2].1);
        assert!(fuse(&[], &[]).is_empty());
    }

    #[test]
    fn lists_fuse_by_the_embedders_fusion() {
        let by_cosine = [(1, 0.9), (2, 0.8)];
        let by_lexical = [(3, 4.0), (2, 2.0)];
        let cosine = |t: i32| [0.0, 0.9, 0.8, 0.5][t as usize];
        let mut nudged = fuse_lists(SEMANTIC, &by_cosine, &by_lexical, cosine);
        nudged.sort_by_key(|(t, _)| *t);
        let w = SEMANTIC_BM25_WEIGHT;
        assert_eq!(nudged, [(1, 0.9), (2, 0.8 + w * 0.5), (3, 0.5 + w)]);
        let mut rrf = fuse_lists(LEXICAL, &by_cosine, &by_lexical, cosine);
        let mut direct = fuse_weighted(&by_cosine, &by_lexical, K, VECTOR_WEIGHT);
        rrf.sort_by_key(|(t, _)| *t);
        direct.sort_by_key(|(t, _)| *t);
        assert_eq!(rrf, direct);
    }
}
