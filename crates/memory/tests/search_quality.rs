//! Retrieval quality on the labelled set (`tests/fixtures/labelled_set.json`): recall@5 and MRR
//! for vector-only, BM25-only and hybrid ranking, printed, with hybrid required to beat both.
//!
//! `quality_with` is generic over the embedder, so the same check runs with MiniLM once wired.

use std::sync::Arc;

use talab_memory::embed::lexical::{LEXICAL_THRESHOLD, LexicalEmbedder};
use talab_memory::search::SearchMode;
use talab_memory::search::eval::{EvalReport, LabelledSet, evaluate};
use talab_memory::{Embedder, MemoryRecords, SqlMemoryManager};

const SET: &str = include_str!("fixtures/labelled_set.json");

/// Evaluates any embedder on the labelled set, in a fresh SQLite store.
async fn quality_with(embedder: Arc<dyn Embedder>) -> EvalReport {
    let set: LabelledSet = serde_json::from_str(SET).expect("labelled set parses");
    assert!(set.memories.len() >= 60 && set.queries.len() >= 30);
    let dir = tempfile::tempdir().unwrap();
    let records = MemoryRecords::connect(dir.path().join("eval.db").to_str().unwrap())
        .await
        .unwrap();
    let manager = SqlMemoryManager::open(records, embedder).await.unwrap();
    evaluate(&manager, &set).await.unwrap()
}

#[tokio::test]
async fn hybrid_beats_each_half_with_the_lexical_embedder() {
    let report = quality_with(Arc::new(LexicalEmbedder::new())).await;
    println!("{report}");
    let (v, l, h) = (
        report.mode(SearchMode::Vector),
        report.mode(SearchMode::Lexical),
        report.mode(SearchMode::Hybrid),
    );
    assert!(
        h.recall_at_5 >= v.recall_at_5 && h.recall_at_5 >= l.recall_at_5,
        "{report}"
    );
    assert!(h.mrr >= v.mrr && h.mrr >= l.mrr, "{report}");
    assert!(
        h.mrr > 0.5,
        "hybrid should find most answers near the top: {report}"
    );

    // The documented default threshold keeps most relevant pairs.
    let cos = &report.relevant_cosines;
    let kept = cos.iter().filter(|c| **c >= LEXICAL_THRESHOLD).count() as f64 / cos.len() as f64;
    let pct = |p: usize| cos[cos.len() * p / 100];
    println!(
        "relevant cosines: p10 {:.3}, p20 {:.3}, median {:.3}; share >= {LEXICAL_THRESHOLD}: {kept:.2}",
        pct(10),
        pct(20),
        pct(50)
    );
    assert!(
        kept >= 0.75,
        "the lexical default threshold should keep most relevant hits: {kept:.2}"
    );
}
