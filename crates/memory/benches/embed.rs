//! Embedding throughput of the Rust all-MiniLM-L6-v2: 32 short texts per call, reported by
//! criterion as elements (sentences) per second. The Python side of the comparison is
//! `python3 scripts/minilm_reference.py --bench` on the same machine.
//!
//! Needs `TALAB_EMBED_MODEL_DIR`; without it the benchmark prints why and measures nothing.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use talab_memory::embed::locate::{INSTALL_HINT, MODEL_DIR_ENV};
use talab_memory::embed::minilm::MiniLmEmbedder;

fn minilm_batch_32(c: &mut Criterion) {
    let Some(dir) = std::env::var_os(MODEL_DIR_ENV) else {
        eprintln!("embed benchmark skipped: {MODEL_DIR_ENV} is not set; {INSTALL_HINT}");
        return;
    };
    let model = MiniLmEmbedder::load(dir.as_ref()).expect("the model loads");
    // Same texts as the Python benchmark in scripts/minilm_reference.py.
    let texts: Vec<String> = (0..32)
        .map(|i| {
            format!(
                "EMA refresh {i} for symbol BTC/USDT finished in {} seconds",
                i % 7
            )
        })
        .collect();
    let mut group = c.benchmark_group("minilm");
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.sample_size(20);
    group.bench_function("embed_batch_32_short", |b| {
        b.iter(|| model.embed_blocking(&texts).expect("embeds"))
    });
    group.finish();
}

criterion_group!(benches, minilm_batch_32);
criterion_main!(benches);
