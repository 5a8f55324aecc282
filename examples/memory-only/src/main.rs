//! Stores and searches memories with talab-memory alone, on a SQLite file.
//!
//! Run: `cargo run --manifest-path examples/memory-only/Cargo.toml [DATABASE_URL]` (default: a
//! SQLite file in the system's temporary folder, made afresh). With `TALAB_EMBED_MODEL_DIR` set
//! to an all-MiniLM-L6-v2 folder the search is semantic; without it, lexical.
//!
//! It prints each step and exits non-zero if anything is not as a user of the crate would expect:
//! a duplicate stored twice, a search that misses the memory it should find, a ranking that puts
//! an unrelated memory first.

use std::process::ExitCode;
use std::sync::Arc;

use talab_memory::embed::lexical::LexicalEmbedder;
use talab_memory::embed::minilm::MiniLmEmbedder;
use talab_memory::{Embedder, MemoryManager, MemoryRecords, Metadata, SqlMemoryManager};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let scratch = std::env::temp_dir().join(format!("talab-memory-only-{}.db", std::process::id()));
    let url = match std::env::args().nth(1) {
        Some(url) => url,
        None => format!("sqlite://{}", scratch.display()),
    };
    let result = demo(&url).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", scratch.display()));
    }
    result
}

async fn demo(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let embedder: Arc<dyn Embedder> = match std::env::var_os("TALAB_EMBED_MODEL_DIR") {
        Some(dir) => Arc::new(MiniLmEmbedder::load(std::path::Path::new(&dir))?),
        None => Arc::new(LexicalEmbedder::new()),
    };
    let records = MemoryRecords::connect(url).await?;
    let memory = SqlMemoryManager::open(records, embedder).await?;
    println!("store: {url}");

    let notes = [
        "Refreshed the daily EMAs for BTC and ETH: 301,760 rows",
        "The EMA uses alpha = 2 / (period + 1), seeded with a simple mean",
        "Quota for the Claude platform was exhausted at noon",
    ];
    let mut ids = Vec::new();
    for note in notes {
        let mut meta = Metadata::new();
        meta.insert("source".into(), "memory-only example".into());
        ids.push(memory.add(note, meta).await?);
    }
    let again = memory.add(notes[0], Metadata::new()).await?;
    if again != ids[0] {
        return Err(format!("the same note was stored twice ({} and {again})", ids[0]).into());
    }
    println!(
        "added {} memories (the repeated one kept its id {})",
        ids.len(),
        ids[0]
    );

    let hits = memory.search("which EMAs were refreshed for BTC", 0.0, 3).await?;
    for hit in &hits {
        println!("[{:.3}] {} {}", hit.relevance_score, hit.id, hit.content);
    }
    match hits.first() {
        Some(best) if best.id == ids[0] => {}
        Some(best) => {
            return Err(format!("the best match is {:?}, not the BTC refresh", best.content).into());
        }
        None => return Err("the search found nothing".into()),
    }
    let context = memory.get_context(&ids[..1]).await?;
    println!("context for a prompt:\n{context}");
    Ok(())
}
