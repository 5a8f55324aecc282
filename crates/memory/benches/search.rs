//! Search latency of the exact scan at 10k and 100k memories (random unit 384-d vectors):
//! search only (no query embedding), vector ranking, limit 10, no threshold. Besides criterion's
//! estimate, prints p50/p95 over 200 timed searches and the memory the vectors take.

use std::time::Instant;

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use talab_memory::Metadata;
use talab_memory::search::{IndexEntry, SearchIndex, SearchMode, SearchRequest};

const DIM: usize = 384;

/// xorshift64*: reproducible vectors without a dependency.
struct Rng(u64);
impl Rng {
    fn unit_vector(&mut self) -> Vec<f32> {
        let mut v: Vec<f32> = (0..DIM)
            .map(|_| {
                self.0 ^= self.0 >> 12;
                self.0 ^= self.0 << 25;
                self.0 ^= self.0 >> 27;
                (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        v
    }
}

fn index_of(n: usize, rng: &mut Rng) -> SearchIndex {
    let at: DateTime<Utc> = "2026-11-20T10:00:00Z".parse().unwrap();
    let mut index = SearchIndex::new(DIM);
    for i in 0..n {
        let entry = IndexEntry {
            id: format!("{i:08}"),
            content: format!("memory number {i}"),
            scope: "default".into(),
            metadata: Metadata::new(),
            created_at: at,
            updated_at: at,
            verified_at: None,
            deprecated: false,
        };
        index.upsert(entry, &rng.unit_vector());
    }
    index
}

fn bench(c: &mut Criterion) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let request = SearchRequest {
        threshold: Some(-1.0),
        limit: 10,
        mode: SearchMode::Vector,
        ..SearchRequest::new("query")
    };
    for n in [10_000, 100_000] {
        let index = index_of(n, &mut rng);
        let queries: Vec<Vec<f32>> = (0..200).map(|_| rng.unit_vector()).collect();
        let mut times: Vec<f64> = queries
            .iter()
            .map(|q| {
                let start = Instant::now();
                std::hint::black_box(index.rank(q, &request, -1.0, "default"));
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "exact scan, {n} x {DIM}: p50 {:.3} ms, p95 {:.3} ms; vectors take {:.1} MB",
            times[times.len() / 2],
            times[times.len() * 95 / 100],
            index.matrix().bytes() as f64 / 1e6
        );
        let mut group = c.benchmark_group(format!("search_{n}"));
        group.sample_size(30);
        let mut k = 0;
        group.bench_function("exact_vector_top10", |b| {
            b.iter(|| {
                k = (k + 1) % queries.len();
                index.rank(&queries[k], &request, -1.0, "default")
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
