//! The memory backends side by side in one run: add throughput, search latency (p50/p95) and
//! recall@10 against the exact scan, and what a one-shot CLI command pays before its first result
//! (open the store, first search), for the embedded store (SQLite), pgvector (PyPI pgserver) and
//! Chroma (PyPI chromadb), the servers started as the tests start them.
//!
//! The vectors come from a planted embedder: each memory "m{i}" and query "q{j}" maps to a fixed
//! 384-d unit vector (clusters of nearby vectors, as real embeddings form), so the exact top 10 of
//! every query is known without a model and the timings are the stores' own, not MiniLM's.
//!
//! `cargo bench -p talab-memory --bench backends` (TALAB_BENCH_MEMORIES=N, default 10000;
//! TALAB_BENCH_BACKENDS=embedded,pgvector,chroma to choose).

use std::sync::Arc;
use std::time::{Duration, Instant};

use talab_memory::backends::chroma::{ChromaConfig, ChromaMemory};
use talab_memory::backends::pgvector::PgVectorMemory;
use talab_memory::search::{SearchMode, SearchRequest};
use talab_memory::{
    Embedder, EmbedderIdentity, MemoryError, MemoryManager, MemoryRecords, Metadata, SqlMemoryManager,
};

const DIM: usize = 384;
const CLUSTERS: u64 = 200;
const QUERIES: usize = 200;

/// xorshift64*: the same numbers on every run.
fn numbers(seed: u64) -> impl Iterator<Item = f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    std::iter::from_fn(move || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let bits = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
        Some(bits as f32 / (1u64 << 24) as f32 - 0.5)
    })
}

fn unit(v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}

/// A cluster centre plus noise: memory i in cluster i % CLUSTERS; query j near memory j*7919.
fn planted(text: &str) -> Vec<f32> {
    let (kind, n) = text.split_at(1);
    let n: u64 = n.parse().expect("m{i} or q{j}");
    let (centre, noise, scale) = match kind {
        "m" => (n % CLUSTERS, 1_000_000 + n, 0.6),
        _ => ((n * 7919) % CLUSTERS, 9_000_000 + n, 0.8),
    };
    let c = numbers(centre + 1);
    unit(
        c.zip(numbers(noise))
            .take(DIM)
            .map(|(c, e)| c + scale * e)
            .collect(),
    )
}

struct Planted;

#[async_trait::async_trait]
impl Embedder for Planted {
    fn identity(&self) -> EmbedderIdentity {
        EmbedderIdentity {
            name: "bench-planted".into(),
            revision: "1".into(),
            dim: DIM,
        }
    }
    fn default_threshold(&self) -> f32 {
        0.3
    }
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, MemoryError> {
        Ok(texts.iter().map(|t| planted(t)).collect())
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// The exact top 10 memory texts of each query.
fn exact(n: usize) -> Vec<Vec<String>> {
    let memories: Vec<Vec<f32>> = (0..n).map(|i| planted(&format!("m{i}"))).collect();
    (0..QUERIES)
        .map(|j| {
            let q = planted(&format!("q{j}"));
            let mut scored: Vec<(f32, usize)> = memories
                .iter()
                .enumerate()
                .map(|(i, m)| (m.iter().zip(&q).map(|(a, b)| a * b).sum(), i))
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0));
            scored.iter().take(10).map(|(_, i)| format!("m{i}")).collect()
        })
        .collect()
}

type Opener = Box<dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Arc<dyn MemoryManager>>>>>;

async fn measure(name: &str, open: Opener, n: usize, truth: &[Vec<String>]) {
    let memory = open().await;
    let started = Instant::now();
    for i in 0..n {
        memory
            .insert(&format!("m{i}"), Metadata::new())
            .await
            .expect("add");
    }
    let adds = n as f64 / started.elapsed().as_secs_f64();
    drop(memory);
    // A one-shot command: open, first search.
    let started = Instant::now();
    let memory = open().await;
    let request = |j: usize| SearchRequest {
        threshold: Some(-1.0),
        limit: 10,
        mode: SearchMode::Vector,
        ..SearchRequest::new(format!("q{j}"))
    };
    memory.search_with(&request(0)).await.expect("search");
    let first = started.elapsed();
    let mut times = Vec::new();
    let mut found = 0usize;
    for (j, want) in truth.iter().enumerate() {
        let started = Instant::now();
        let hits = memory.search_with(&request(j)).await.expect("search").hits;
        times.push(started.elapsed());
        found += hits.iter().filter(|h| want.contains(&h.content)).count();
    }
    times.sort();
    println!(
        "| {name} | {n} | {adds:.0} | {:.1} | {:.1} | {:.3} | {:.0} |",
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        found as f64 / (10 * truth.len()) as f64,
        first.as_secs_f64() * 1000.0,
    );
}

fn main() {
    let n: usize = std::env::var("TALAB_BENCH_MEMORIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let wanted = std::env::var("TALAB_BENCH_BACKENDS").unwrap_or("embedded,pgvector,chroma".into());
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let truth = exact(n);
    println!("| backend | memories | adds/s | search p50 ms | p95 ms | recall@10 | open + first search ms |");
    println!("|---|---|---|---|---|---|---|");
    runtime.block_on(async {
        let embedder: Arc<dyn Embedder> = Arc::new(Planted);
        if wanted.contains("embedded") {
            let dir = tempfile::tempdir().expect("a folder");
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            let e = embedder.clone();
            let open: Opener = Box::new(move || {
                let (url, e) = (url.clone(), e.clone());
                Box::pin(async move {
                    let records = MemoryRecords::connect(&url).await.expect("sqlite");
                    Arc::new(SqlMemoryManager::open(records, e).await.expect("open"))
                        as Arc<dyn MemoryManager>
                })
            });
            measure("embedded (SQLite)", open, n, &truth).await;
        }
        if wanted.contains("pgvector") {
            let pg = talab_db::testing::pgvector::pgvector().await.expect("pgserver");
            let url = pg.url().to_string();
            let e = embedder.clone();
            let open: Opener = Box::new(move || {
                let (url, e) = (url.clone(), e.clone());
                Box::pin(async move {
                    Arc::new(PgVectorMemory::connect(&url, "bench", e).await.expect("pgvector"))
                        as Arc<dyn MemoryManager>
                })
            });
            measure("pgvector (HNSW)", open, n, &truth).await;
        }
        if wanted.contains("chroma") {
            let chroma = talab_db::testing::chroma::chroma().expect("chroma");
            let config = ChromaConfig::new(chroma.url()).with_collection(chroma.collection());
            let e = embedder.clone();
            let open: Opener = Box::new(move || {
                let (config, e) = (config.clone(), e.clone());
                Box::pin(async move {
                    Arc::new(ChromaMemory::connect(&config, e).await.expect("chroma"))
                        as Arc<dyn MemoryManager>
                })
            });
            measure("chroma", open, n, &truth).await;
        }
    });
}
