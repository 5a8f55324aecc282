//! MemoryStub behaves like a memory: word matching, threshold, limit, dedup, context.

use std::sync::Arc;

use serde_json::json;
use talab_memory::{DEFAULT_LIMIT, DEFAULT_THRESHOLD, MemoryError, MemoryManager, MemoryStub, Metadata};

fn meta(value: serde_json::Value) -> Metadata {
    value.as_object().expect("a JSON object").clone()
}

/// The seed's example test, as it is written there.
#[tokio::test]
async fn test_memory_search() {
    let memory = MemoryStub::new();
    let memory_id = memory
        .add("EMA calculation logic", meta(json!({"type": "code"})))
        .await
        .unwrap();
    let results = memory
        .search("how to calculate EMA", DEFAULT_THRESHOLD, DEFAULT_LIMIT)
        .await
        .unwrap();
    assert!(!results.is_empty());
    assert_eq!(results[0].id, memory_id);
    assert_eq!(results[0].relevance_score, 1.0);
    assert_eq!(results[0].metadata, meta(json!({"type": "code"})));
}

#[tokio::test]
async fn unrelated_query_finds_nothing() {
    let memory = MemoryStub::new();
    memory
        .add("EMA calculation logic", Metadata::new())
        .await
        .unwrap();
    memory
        .add("Refreshed daily bars for BTC", Metadata::new())
        .await
        .unwrap();
    let hits = memory
        .search("quota of the Gemini account", DEFAULT_THRESHOLD, DEFAULT_LIMIT)
        .await
        .unwrap();
    assert!(hits.is_empty(), "{hits:?}");
    // Only stop words: no terms, no hits.
    assert!(
        memory
            .search("how to do it", 0.0, DEFAULT_LIMIT)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn limit_is_honoured_best_first_then_newest() {
    let memory = MemoryStub::new();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            memory
                .add(&format!("EMA refresh run {i}"), Metadata::new())
                .await
                .unwrap(),
        );
    }
    let best = memory.add("EMA refresh for BTC", Metadata::new()).await.unwrap();
    memory.add("nothing in common", Metadata::new()).await.unwrap();

    let hits = memory.search("EMA refresh BTC", 0.5, 3).await.unwrap();
    let got: Vec<&str> = hits.iter().map(|m| m.id.as_str()).collect();
    // The full match first; then ties at 2/3, newest first.
    assert_eq!(got, [best.as_str(), ids[4].as_str(), ids[3].as_str()]);
    assert_eq!(hits[0].relevance_score, 1.0);
    assert!(
        (hits[1].relevance_score - 2.0 / 3.0).abs() < 1e-6,
        "{}",
        hits[1].relevance_score
    );

    let all = memory
        .search("EMA refresh BTC", 0.5, DEFAULT_LIMIT)
        .await
        .unwrap();
    assert_eq!(all.len(), 6);
    assert!(memory.search("EMA refresh BTC", 0.5, 0).await.unwrap().is_empty());
}

#[tokio::test]
async fn threshold_is_honoured() {
    let memory = MemoryStub::new();
    let full = memory
        .add("EMA crossover signal for ETH", Metadata::new())
        .await
        .unwrap();
    let half = memory.add("ETH price bars", Metadata::new()).await.unwrap();
    // Query terms: ema, crossover, eth → 3/3 and 1/3.
    let strict = memory
        .search("EMA crossover ETH", DEFAULT_THRESHOLD, DEFAULT_LIMIT)
        .await
        .unwrap();
    assert_eq!(strict.iter().map(|m| &m.id).collect::<Vec<_>>(), [&full]);
    let loose = memory
        .search("EMA crossover ETH", 0.3, DEFAULT_LIMIT)
        .await
        .unwrap();
    assert_eq!(loose.iter().map(|m| &m.id).collect::<Vec<_>>(), [&full, &half]);
    assert!((loose[1].relevance_score - 1.0 / 3.0).abs() < 1e-6);
    // Exactly at the threshold counts as a hit.
    let at = memory
        .search("EMA crossover ETH", 1.0 / 3.0, DEFAULT_LIMIT)
        .await
        .unwrap();
    assert_eq!(at.len(), 2);
    // The stored memory keeps its own relevance; only the returned copy is scored.
    assert_eq!(memory.get(&half).unwrap().relevance_score, 1.0);

    for bad in [1.5, -2.0, f32::NAN] {
        let e = memory.search("EMA", bad, DEFAULT_LIMIT).await.unwrap_err();
        assert!(matches!(e, MemoryError::InvalidThreshold(_)), "{e}");
    }
    assert!(matches!(
        memory.search("  ", 0.5, 1).await,
        Err(MemoryError::EmptyQuery)
    ));
}

#[tokio::test]
async fn same_normalised_content_is_stored_once() {
    let memory = MemoryStub::new();
    let a = memory
        .add("EMA calculation logic", Metadata::new())
        .await
        .unwrap();
    let b = memory
        .add("  EMA\tcalculation\n logic ", meta(json!({"x": 1})))
        .await
        .unwrap();
    let c = memory
        .add("ema calculation logic", Metadata::new())
        .await
        .unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c, "case is kept: a different memory");
    assert_eq!(memory.len(), 2);
    assert_eq!(uuid::Uuid::parse_str(&a).unwrap().get_version_num(), 4);
    assert!(matches!(
        memory.add(" \n ", Metadata::new()).await,
        Err(MemoryError::EmptyContent)
    ));
    assert_eq!(memory.len(), 2);
    assert!(memory.all().iter().all(|m| m.embedding.is_empty()));
}

#[tokio::test]
async fn get_context_keeps_caller_order_and_reports_unknown_ids() {
    let memory: Arc<dyn MemoryManager> = Arc::new(MemoryStub::new());
    let first = memory
        .add(
            "Bars come from CoinMarketCap",
            meta(json!({"type": "design", "source": "docs"})),
        )
        .await
        .unwrap();
    let second = memory
        .add(
            "EMA refresh completed for BTC",
            meta(json!({"task_type": "ema_refresh"})),
        )
        .await
        .unwrap();

    let context = memory
        .get_context(&[second.clone(), "missing-id".into(), first.clone(), second.clone()])
        .await
        .unwrap();
    let lines: Vec<&str> = context.lines().collect();
    assert_eq!(lines[0], "# Relevant memories (2)");
    assert_eq!(lines[2], "## Memory 1 (Relevance: 100%)");
    assert!(
        lines[3].starts_with("task_type: ema_refresh | created_at: 20"),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4], "EMA refresh completed for BTC");
    assert_eq!(lines[6], "## Memory 2 (Relevance: 100%)");
    assert!(
        lines[7].starts_with("type: design | source: docs | created_at: "),
        "{}",
        lines[7]
    );
    assert_eq!(lines[8], "Bars come from CoinMarketCap");
    assert_eq!(lines[9], "");
    assert_eq!(lines[10], "Unknown memory ids (not found): missing-id");
    assert_eq!(lines.len(), 11, "{context}");

    assert_eq!(
        memory.get_context(&[]).await.unwrap(),
        "# Relevant memories: none\n"
    );
}

/// The seed's end-to-end shape with the orchestrator's stub output: stored, then found by words.
#[tokio::test]
async fn stored_task_output_is_found_again() {
    let memory = MemoryStub::new();
    assert!(
        memory
            .search("previous EMA refreshes for BTC", DEFAULT_THRESHOLD, DEFAULT_LIMIT)
            .await
            .unwrap()
            .is_empty()
    );
    let id = memory
        .add(
            "[STUB] Executed: Refresh EMAs for BTC",
            meta(json!({"task": "ema_refresh"})),
        )
        .await
        .unwrap();
    let history = memory
        .search("EMA refresh BTC", DEFAULT_THRESHOLD, DEFAULT_LIMIT)
        .await
        .unwrap();
    assert_eq!(history.iter().map(|m| &m.id).collect::<Vec<_>>(), [&id]);
    let stub = memory
        .search("STUB", DEFAULT_THRESHOLD, DEFAULT_LIMIT)
        .await
        .unwrap();
    assert_eq!(stub.len(), 1);
}

/// The trait's default `search_with`: any backend that only has `search` serves filtered searches
/// (metadata, tags, dates) with an account of what the filters left out.
#[tokio::test]
async fn the_default_search_with_filters_after_searching() {
    use talab_memory::search::{Filters, SearchRequest};
    let memory = MemoryStub::new();
    for (content, kind, tag) in [
        ("EMA refresh of BTC done", "ema_refresh", "btc"),
        ("EMA refresh of ETH done", "ema_refresh", "eth"),
        ("EMA chart drawn for BTC", "chart", "btc"),
    ] {
        memory
            .add(content, meta(json!({"task_type": kind, "tags": [tag]})))
            .await
            .unwrap();
    }
    let request = |filters: Filters| SearchRequest {
        limit: 5,
        filters,
        ..SearchRequest::new("EMA refresh")
    };
    let only_refreshes = Filters {
        metadata_eq: meta(json!({"task_type": "ema_refresh"})),
        ..Filters::default()
    };
    let out = memory.search_with(&request(only_refreshes)).await.unwrap();
    let contents: Vec<&str> = out.hits.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(contents.len(), 2, "{contents:?}");
    assert!(
        contents.iter().all(|c| c.starts_with("EMA refresh")),
        "{contents:?}"
    );
    assert_eq!((out.filtered_out, out.threshold_used), (1, 0.0));
    assert!(out.embedder.is_none());

    let btc = Filters {
        tags_all: vec!["btc".into()],
        metadata_eq: meta(json!({"task_type": "ema_refresh"})),
        ..Filters::default()
    };
    let out = memory.search_with(&request(btc)).await.unwrap();
    assert_eq!(out.hits.len(), 1);
    assert_eq!(out.hits[0].content, "EMA refresh of BTC done");

    let future = Filters {
        since: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        ..Filters::default()
    };
    let out = memory.search_with(&request(future)).await.unwrap();
    assert!(out.hits.is_empty());
    assert_eq!(out.filtered_out, 3);
}

/// A backend without an operation says so, naming itself and the operation; it never does
/// nothing. The stub has get and describe; the rest are the trait's defaults.
#[tokio::test]
async fn operations_a_backend_lacks_are_refused_by_name() {
    let memory: Arc<dyn MemoryManager> = Arc::new(MemoryStub::new());
    let id = memory
        .add("EMA calculation logic", Metadata::new())
        .await
        .unwrap();
    assert_eq!(memory.get(&id).await.unwrap().content, "EMA calculation logic");
    let info = memory.describe().await.unwrap();
    assert_eq!((info.backend, info.count, info.embedder), ("stub", 1, None));
    let refusals = [
        memory.update(&id, Some("other"), None).await.err(),
        memory.deprecate(&id, "old").await.err(),
        memory.delete(&id).await.err(),
        memory.history(&id).await.map(|_| ()).err(),
        memory.list(0, 10).await.map(|_| ()).err(),
    ];
    for (err, operation) in refusals
        .into_iter()
        .zip(["update", "deprecate", "delete", "history", "list"])
    {
        let err = err.unwrap_or_else(|| panic!("{operation} did something"));
        assert!(
            matches!(err, MemoryError::Unsupported { backend: "stub", .. }),
            "{operation}: {err:?}"
        );
        assert!(
            err.to_string().starts_with("the stub memory backend cannot "),
            "{err}"
        );
        assert_eq!(err.kind(), talab_db::ErrorKind::Input);
    }
    assert_eq!(
        memory.get(&id).await.unwrap().content,
        "EMA calculation logic",
        "unchanged"
    );
}
