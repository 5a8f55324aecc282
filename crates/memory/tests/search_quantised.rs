//! The search path (int8 first pass, exact re-rank) against the plain exact f32 scan on 10k
//! memories, random directions and clustered ones: recall@10 ≥ 0.99 (by construction it is
//! exact, so this also checks the error bound holds on realistic data), the reported scores are
//! the exact cosines, and the threshold counts are the exact counts.

use chrono::{DateTime, Utc};
use talab_memory::Metadata;
use talab_memory::search::bm25::Bm25;
use talab_memory::search::hybrid::{SEMANTIC, SEMANTIC_BM25_WEIGHT};
use talab_memory::search::matrix::dot;
use talab_memory::search::{IndexEntry, SearchIndex, SearchMode, SearchRequest};

const DIM: usize = 384;
const N: usize = 10_000;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }
    fn unit(&mut self) -> Vec<f32> {
        unit((0..DIM).map(|_| self.next()).collect())
    }
    fn near(&mut self, centre: &[f32], spread: f32) -> Vec<f32> {
        let noise = self.unit();
        unit(centre.iter().zip(&noise).map(|(c, n)| c + spread * n).collect())
    }
}

fn unit(v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}

/// Memory i's text: a few words shared with some others, so BM25 scores differ.
fn content(i: usize) -> String {
    format!("memory {i} about topic{} on asset{}", i % 7, i % 13)
}

fn index_of(vectors: &[Vec<f32>]) -> SearchIndex {
    let mut index = SearchIndex::new(DIM);
    for (i, v) in vectors.iter().enumerate() {
        let at: DateTime<Utc> = DateTime::from_timestamp(1_790_000_000 + i as i64, 0).unwrap();
        let entry = IndexEntry {
            id: format!("{i:06}"),
            content: content(i),
            scope: "default".into(),
            metadata: Metadata::new(),
            created_at: at,
            updated_at: at,
            verified_at: None,
            deprecated: i % 10 == 3,
        };
        index.upsert(entry, v);
    }
    index
}

/// Checks the search path against the exact scan; returns recall@10.
fn check(vectors: &[Vec<f32>], queries: &[Vec<f32>], threshold: f32) -> f64 {
    let index = index_of(vectors);
    let request = SearchRequest {
        threshold: Some(threshold),
        limit: 10,
        mode: SearchMode::Vector,
        ..SearchRequest::new("q")
    };
    let mut found = 0;
    let mut wanted = 0;
    for q in queries {
        let ranking = index.rank(q, &request, threshold, SEMANTIC, "default");
        let exact: Vec<f32> = vectors.iter().map(|v| dot(v, q)).collect();
        let eligible: Vec<usize> = (0..vectors.len()).filter(|i| i % 10 != 3).collect();
        let below = eligible.iter().filter(|&&i| exact[i] < threshold).count();
        assert_eq!(ranking.below_threshold, below, "exact below-threshold count");
        assert_eq!(ranking.filtered_out, vectors.len() - eligible.len());
        let mut truth: Vec<usize> = eligible.into_iter().filter(|&i| exact[i] >= threshold).collect();
        // Exact order: cosine, then newer (larger index) first.
        truth.sort_by(|a, b| exact[*b].total_cmp(&exact[*a]).then(b.cmp(a)));
        truth.truncate(10);
        for hit in &ranking.hits {
            assert_eq!(
                hit.cosine.to_bits(),
                exact[hit.slot].to_bits(),
                "the score is the exact cosine"
            );
        }
        wanted += truth.len();
        found += ranking.hits.iter().filter(|h| truth.contains(&h.slot)).count();
        assert_eq!(ranking.hits.len(), truth.len());
    }
    found as f64 / wanted.max(1) as f64
}

#[test]
fn recall_on_random_directions() {
    let mut rng = Rng(5);
    let vectors: Vec<Vec<f32>> = (0..N).map(|_| rng.unit()).collect();
    let queries: Vec<Vec<f32>> = (0..20).map(|_| rng.unit()).collect();
    let recall = check(&vectors, &queries, -1.0);
    println!("random directions: recall@10 {recall:.4}");
    assert!(recall >= 0.99, "recall@10 {recall}");
    // A threshold inside the bulk of the scores: the counts must still be exact.
    assert!(check(&vectors[..2000], &queries, 0.05) >= 0.99);
}

#[test]
fn recall_on_clustered_vectors() {
    let mut rng = Rng(9);
    let centres: Vec<Vec<f32>> = (0..100).map(|_| rng.unit()).collect();
    let vectors: Vec<Vec<f32>> = (0..N).map(|i| rng.near(&centres[i % 100], 0.4)).collect();
    // Queries near a centre: hundreds of memories within a few hundredths of each other.
    let queries: Vec<Vec<f32>> = (0..20).map(|i| rng.near(&centres[(i * 7) % 100], 0.3)).collect();
    let recall = check(&vectors, &queries, -1.0);
    println!("clustered: recall@10 {recall:.4}");
    assert!(recall >= 0.99, "recall@10 {recall}");
    assert!(check(&vectors[..3000], &queries, 0.8) >= 0.99);
}

#[test]
fn hybrid_ranking_with_the_bm25_nudge_is_exact_too() {
    let mut rng = Rng(11);
    let centres: Vec<Vec<f32>> = (0..50).map(|_| rng.unit()).collect();
    let vectors: Vec<Vec<f32>> = (0..N).map(|i| rng.near(&centres[i % 50], 0.4)).collect();
    let index = index_of(&vectors);
    let mut bm25 = Bm25::new();
    for i in 0..N {
        bm25.push(&content(i));
    }
    for (k, query_text) in ["topic3 asset5", "asset11", "topic6 memory"].iter().enumerate() {
        let q = rng.near(&centres[k * 17 % 50], 0.3);
        let request = SearchRequest {
            threshold: Some(-1.0),
            limit: 10,
            mode: SearchMode::Hybrid,
            ..SearchRequest::new(*query_text)
        };
        let ranking = index.rank(&q, &request, -1.0, SEMANTIC, "default");
        let lexical = bm25.scores(query_text);
        let eligible: Vec<usize> = (0..N).filter(|i| i % 10 != 3).collect();
        let best = eligible.iter().map(|&i| lexical[i]).fold(0.0f32, f32::max);
        assert!(best > 0.0, "the query shares words with some memories");
        let scale = SEMANTIC_BM25_WEIGHT / best;
        let fused = |i: usize| dot(&vectors[i], &q) + scale * lexical[i];
        let mut truth = eligible;
        truth.sort_by(|a, b| fused(*b).total_cmp(&fused(*a)).then(b.cmp(a)));
        truth.truncate(10);
        let got: Vec<usize> = ranking.hits.iter().map(|h| h.slot).collect();
        assert_eq!(got, truth, "query {query_text:?}");
        for hit in &ranking.hits {
            assert_eq!(
                hit.cosine.to_bits(),
                dot(&vectors[hit.slot], &q).to_bits(),
                "the score is the cosine"
            );
        }
    }
}
