//! Search latency at 10k and 100k memories of 384-d unit vectors, limit 10, no threshold, vector
//! ranking (and hybrid: BM25 over generated 12–23-word memories, 6-word queries): the search path
//! `SqlMemoryManager` uses (`SearchIndex::rank`: int8 first pass, exact re-rank) against the
//! plain exact f32 scan, on two data sets:
//!
//! - `uniform`: random directions (every cosine near 0, the top 10 barely above the rest);
//! - `clustered`: 1000 random centres, each memory a centre plus noise (cosine ~0.8 inside a
//!   cluster), closer to real text embeddings where many memories say nearly the same thing.
//!
//! Prints p50/p95 over 300 timed searches, recall@10 against the exact scan, and the memory the
//! vectors and the whole index take. With `TALAB_EMBED_MODEL_DIR` set it also times MiniLM query
//! embedding + search. With `TALAB_BENCH_EXPORT=<dir>` it writes the clustered vectors and
//! queries as `.npy` files for `scripts/chroma_compare.py`.

use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use talab_memory::Metadata;
use talab_memory::embed::locate::MODEL_DIR_ENV;
use talab_memory::embed::minilm::MiniLmEmbedder;
use talab_memory::search::hybrid::SEMANTIC;
use talab_memory::search::{IndexEntry, SearchIndex, SearchMode, SearchRequest};

const DIM: usize = 384;
const QUERIES: usize = 300;

/// xorshift64*: reproducible vectors without a dependency.
struct Rng(u64);
impl Rng {
    fn uniform(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }
    fn unit_vector(&mut self) -> Vec<f32> {
        unit((0..DIM).map(|_| self.uniform()).collect())
    }
    /// `centre + spread · noise`, normalised.
    fn near(&mut self, centre: &[f32], spread: f32) -> Vec<f32> {
        let noise = self.unit_vector();
        unit(centre.iter().zip(&noise).map(|(c, n)| c + spread * n).collect())
    }
}

fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

/// `n` memories and `QUERIES` queries of one data set.
fn data(kind: &str, n: usize, rng: &mut Rng) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    match kind {
        "uniform" => (
            (0..n).map(|_| rng.unit_vector()).collect(),
            (0..QUERIES).map(|_| rng.unit_vector()).collect(),
        ),
        _ => {
            let centres: Vec<Vec<f32>> = (0..1000).map(|_| rng.unit_vector()).collect();
            let memories = (0..n)
                .map(|i| rng.near(&centres[(i * 7919) % 1000], 0.5))
                .collect();
            let queries = (0..QUERIES)
                .map(|i| rng.near(&centres[(i * 31) % 1000], 0.6))
                .collect();
            (memories, queries)
        }
    }
}

/// Words memories are made of: a domain vocabulary plus numbered names, drawn log-uniformly
/// (a few words in most memories, most words in few), as real run notes are.
const WORDS: &[&str] = &[
    "ema",
    "refresh",
    "completed",
    "failed",
    "btc",
    "eth",
    "sol",
    "timeframes",
    "periods",
    "rows",
    "rejects",
    "weekly",
    "monthly",
    "daily",
    "bars",
    "calendar",
    "quota",
    "exceeded",
    "gemini",
    "claude",
    "openai",
    "retry",
    "fallback",
    "timeout",
    "cost",
    "tokens",
    "memory",
    "reindex",
    "signal",
    "crossover",
    "rsi",
    "trade",
    "pnl",
    "binance",
    "coinbase",
    "coinmarketcap",
    "csv",
    "import",
    "gap",
    "revised",
    "backfill",
    "rebuild",
    "incremental",
    "postgres",
    "sqlite",
    "lock",
    "benchmark",
    "latency",
    "recall",
    "threshold",
];

/// `len` words, log-uniform over the vocabulary and 5000 numbered names.
fn text(rng: &mut Rng, len: usize) -> String {
    let vocabulary = (WORDS.len() + 5000) as f32;
    (0..len)
        .map(|_| {
            let rank = ((rng.uniform() + 0.5) * vocabulary.ln()).exp() as usize - 1;
            WORDS
                .get(rank)
                .map_or_else(|| format!("name{rank}"), |w| w.to_string())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn index_of(vectors: &[Vec<f32>]) -> SearchIndex {
    let mut rng = Rng(0x5eed);
    let at: DateTime<Utc> = "2026-11-20T10:00:00Z".parse().unwrap();
    let mut index = SearchIndex::new(DIM);
    index.reserve_exact(vectors.len());
    for (i, v) in vectors.iter().enumerate() {
        let entry = IndexEntry {
            id: format!("{i:08}"),
            content: text(&mut rng, 12 + i % 12),
            scope: "default".into(),
            metadata: Metadata::new(),
            created_at: at,
            updated_at: at,
            verified_at: None,
            deprecated: false,
        };
        index.upsert(entry, v);
    }
    index
}

/// The exact answer: every dot product, then the best 10.
fn exact_top10(index: &SearchIndex, query: &[f32]) -> Vec<usize> {
    let scores = index.matrix().scores(query);
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.select_nth_unstable_by(9, |a, b| scores[*b].total_cmp(&scores[*a]));
    order.truncate(10);
    order
}

fn percentiles(mut times: Vec<f64>) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() * 95 / 100])
}

/// Resident memory of this process, in MB (Linux; 0 elsewhere).
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |pages| pages * 4096.0 / 1e6)
}

/// Writes a `n × DIM` f32 array as a NumPy `.npy` file (format 1.0).
fn write_npy(path: &Path, rows: &[Vec<f32>]) {
    let header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {DIM}), }}",
        rows.len()
    );
    let pad = 64 - (10 + header.len() + 1) % 64;
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&((header.len() + pad + 1) as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend(std::iter::repeat_n(b' ', pad));
    bytes.push(b'\n');
    for row in rows {
        for v in row {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
    std::fs::write(path, bytes).expect("writes the export");
}

fn bench(c: &mut Criterion) {
    let request = SearchRequest {
        threshold: Some(-1.0),
        limit: 10,
        mode: SearchMode::Vector,
        ..SearchRequest::new("query")
    };
    let model = std::env::var_os(MODEL_DIR_ENV)
        .map(|dir| MiniLmEmbedder::load(dir.as_ref()).expect("the model loads"));
    let export = std::env::var_os("TALAB_BENCH_EXPORT");
    for n in [10_000, 100_000] {
        for kind in ["uniform", "clustered"] {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ n as u64);
            let (vectors, queries) = data(kind, n, &mut rng);
            if let (Some(dir), "clustered") = (&export, kind) {
                let dir = Path::new(dir);
                std::fs::create_dir_all(dir).expect("export dir");
                write_npy(&dir.join(format!("memories_{n}.npy")), &vectors);
                write_npy(&dir.join(format!("queries_{n}.npy")), &queries);
            }
            let rss_before = rss_mb();
            let index = index_of(&vectors);
            let rss_index = rss_mb() - rss_before;
            drop(vectors);

            let (mut fast, mut exact, mut found) = (Vec::new(), Vec::new(), 0usize);
            for q in &queries {
                let start = Instant::now();
                let ranking = std::hint::black_box(index.rank(q, &request, -1.0, SEMANTIC, "default"));
                fast.push(start.elapsed().as_secs_f64() * 1e3);
                let start = Instant::now();
                let truth = std::hint::black_box(exact_top10(&index, q));
                exact.push(start.elapsed().as_secs_f64() * 1e3);
                found += ranking.hits.iter().filter(|h| truth.contains(&h.slot)).count();
            }
            let mut words = Rng(0xbeef ^ n as u64);
            let hybrid_times: Vec<f64> = queries
                .iter()
                .map(|q| {
                    let asked = SearchRequest {
                        mode: SearchMode::Hybrid,
                        ..SearchRequest::new(text(&mut words, 6))
                    };
                    let start = Instant::now();
                    std::hint::black_box(index.rank(
                        q,
                        &SearchRequest {
                            threshold: Some(-1.0),
                            limit: 10,
                            ..asked
                        },
                        -1.0,
                        SEMANTIC,
                        "default",
                    ));
                    start.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            let (h50, h95) = percentiles(hybrid_times);
            println!(
                "{kind} {n}: hybrid (cosine + BM25 nudge, 6-word query) p50 {h50:.3} ms, p95 {h95:.3} ms"
            );
            let (p50, p95) = percentiles(fast);
            let (e50, e95) = percentiles(exact);
            println!(
                "{kind} {n} x {DIM}: int8 + exact re-rank p50 {p50:.3} ms, p95 {p95:.3} ms, recall@10 {:.4}; \
                 exact f32 scan p50 {e50:.3} ms, p95 {e95:.3} ms; vectors {:.1} MB, index RSS {rss_index:.1} MB",
                found as f64 / (10 * queries.len()) as f64,
                index.vector_bytes() as f64 / 1e6,
            );
            if let (Some(model), "clustered") = (&model, kind) {
                let texts: Vec<String> = (0..100)
                    .map(|i| format!("why did the EMA refresh number {i} of BTC/USDT take so long"))
                    .collect();
                let times: Vec<f64> = texts
                    .iter()
                    .map(|t| {
                        let start = Instant::now();
                        let q = model
                            .embed_blocking(std::slice::from_ref(t))
                            .expect("embeds")
                            .remove(0);
                        std::hint::black_box(index.rank(&q, &request, -1.0, SEMANTIC, "default"));
                        start.elapsed().as_secs_f64() * 1e3
                    })
                    .collect();
                let (m50, m95) = percentiles(times);
                println!("{kind} {n}: MiniLM query embedding + search p50 {m50:.3} ms, p95 {m95:.3} ms");
            }
            let mut group = c.benchmark_group(format!("search_{kind}_{n}"));
            group.sample_size(30);
            let mut k = 0;
            group.bench_function("int8_rerank_top10", |b| {
                b.iter(|| {
                    k = (k + 1) % queries.len();
                    index.rank(&queries[k], &request, -1.0, SEMANTIC, "default")
                })
            });
            group.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
