//! A memory store used on its own, from any Rust program: open a SQLite file, add a few memories
//! (one of them twice), page through everything stored, and render a prompt context.
//!
//! Run: `cargo run -p talab-memory --example standalone_store [DATABASE_URL]`
//! (without an argument it uses a SQLite file in a temporary folder).

use talab_memory::{DEFAULT_CONTEXT_BUDGET, MemoryRecords, Metadata, NewMemory};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("memories.db").display()));
    let records = MemoryRecords::connect(&url).await?;
    println!("store: {}", records.database());

    let notes = [
        ("EMA calculation logic: alpha = 2 / (period + 1)", "code"),
        ("Refreshed the daily EMAs for BTC and ETH", "run"),
        ("Bars are built from CoinMarketCap daily quotes", "design"),
        // The same note again, differently spaced: stored once.
        ("EMA calculation logic:  alpha = 2 / (period + 1)\n", "code"),
    ];
    let mut ids = Vec::new();
    for (content, kind) in notes {
        let mut metadata = Metadata::new();
        metadata.insert("type".into(), kind.into());
        metadata.insert("source".into(), "standalone_store example".into());
        let added = records.insert(NewMemory::new(content, metadata)).await?;
        println!(
            "{} {}",
            if added.created { "added  " } else { "exists " },
            added.id
        );
        ids.push(added.id);
    }

    let mut offset = 0;
    loop {
        let page = records.list(offset, 2).await?;
        for m in &page.memories {
            println!("  [{}] {}", m.created_at.format("%Y-%m-%d %H:%M:%S"), m.content);
        }
        match page.next_offset() {
            Some(next) => offset = next,
            None => {
                println!("{} memories in all", page.total);
                break;
            }
        }
    }

    println!("\n{}", records.context(&ids[..2], DEFAULT_CONTEXT_BUDGET).await?);
    records.database().close().await;
    Ok(())
}
