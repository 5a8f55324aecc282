//! Rank fusion for hybrid search: how the vector cosine and the BM25 score make one ranking.
//!
//! Fusion is a convex combination of the two scores, each min-max normalised over the hits
//! that passed the filters and the threshold for this query:
//! `rank = ALPHA · cos_norm + (1 − ALPHA) · bm25_norm`. Normalising per query puts the two on
//! one scale (raw BM25 grows with rare words, raw cosines cluster differently per embedder).
//! `relevance_score` stays the raw cosine, so the threshold contract does not depend on the
//! mode. ALPHA was chosen on `tests/fixtures/labelled_set.json` (see `tests/search_quality.rs`):
//! with the lexical embedder, hybrid beats both halves alone in recall@5 and MRR.

/// Weight of the vector score in the fused rank.
pub const ALPHA: f32 = 0.5;

/// The fused rank of each hit: `cos[i]` and `bm25[i]` are the raw scores of hit `i`.
pub fn fuse(cos: &[f32], bm25: &[f32]) -> Vec<f32> {
    let (c, b) = (min_max(cos), min_max(bm25));
    c.iter()
        .zip(&b)
        .map(|(c, b)| ALPHA * c + (1.0 - ALPHA) * b)
        .collect()
}

/// Values scaled to [0, 1] (all equal: all 0, so that a constant score adds nothing).
fn min_max(values: &[f32]) -> Vec<f32> {
    let lo = values.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if hi > lo {
        values.iter().map(|v| (v - lo) / (hi - lo)).collect()
    } else {
        vec![0.0; values.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_mixes_normalised_scores() {
        let fused = fuse(&[0.2, 0.6, 0.4], &[0.0, 0.0, 8.0]);
        assert_eq!(fused, [0.0, ALPHA, ALPHA * 0.5 + (1.0 - ALPHA)]);
        assert_eq!(fuse(&[0.3], &[2.0]), [0.0]);
        assert!(fuse(&[], &[]).is_empty());
    }
}
