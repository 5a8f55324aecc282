//! Rank fusion for hybrid search: how the vector cosine and the BM25 score make one ranking.
//!
//! Fusion is reciprocal rank fusion (RRF): each hit that passed the filters and the threshold
//! gets `1 / (K + rank_cos) + 1 / (K + rank_bm25)`, ranks counted from 0 within this query's
//! hits, equal scores sharing a rank (so the many BM25 zeros add the same amount to all).
//! RRF needs no score scaling (raw BM25 grows with rare words, cosines cluster differently per
//! embedder). `relevance_score` stays the raw cosine, so the threshold contract does not depend
//! on the mode. On `tests/fixtures/labelled_set.json` with the lexical embedder, RRF scored
//! recall@5 0.672 / MRR 0.571 against 0.594 / 0.563 (vector) and 0.672 / 0.548 (BM25); a
//! convex combination of min-max normalised scores did worse at every weight tried
//! (0.2–0.7: recall@5 0.656–0.688, MRR 0.567–0.608, never at least BM25 and vector on both
//! measures at once except 0.3–0.4, which tie RRF's recall with a lower MRR).

/// The RRF constant (the usual 60): damps the difference between the first few ranks.
pub const K: f32 = 60.0;

/// The fused rank of each hit: `cos[i]` and `bm25[i]` are the raw scores of hit `i`.
pub fn fuse(cos: &[f32], bm25: &[f32]) -> Vec<f32> {
    let (rc, rb) = (ranks(cos), ranks(bm25));
    rc.iter()
        .zip(&rb)
        .map(|(c, b)| 1.0 / (K + *c as f32) + 1.0 / (K + *b as f32))
        .collect()
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
    fn fusion_adds_reciprocal_ranks() {
        let fused = fuse(&[0.2, 0.6, 0.4], &[0.0, 0.0, 8.0]);
        let expected = [
            1.0 / (K + 2.0) + 1.0 / (K + 1.0),
            1.0 / K + 1.0 / (K + 1.0),
            1.0 / (K + 1.0) + 1.0 / K,
        ];
        assert_eq!(fused, expected);
        // Second on both beats first on one and last on the other.
        assert!(fused[2] > fused[0]);
    }
}
