//! SqlMemoryManager on every backend: persistence, embedder identity, concurrency, filters,
//! threshold reporting, the operations and reindex.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{Duration, Utc};
use serde_json::json;
use talab_db::{Database, testing::backends};
use talab_memory::embed::lexical::LexicalEmbedder;
use talab_memory::manager_sql::reindex::{ReindexProgress, reindex};
use talab_memory::ops::HealthOptions;
use talab_memory::search::{Filters, SearchMode, SearchRequest};
use talab_memory::{
    Embedder, EmbedderIdentity, MemoryError, MemoryManager, MemoryRecords, Metadata, SqlMemoryManager,
};

fn meta(value: serde_json::Value) -> Metadata {
    value.as_object().expect("a JSON object").clone()
}

/// A small deterministic embedder of another identity: letter counts, normalised.
struct Letters {
    dim: usize,
    fail: bool,
}

#[async_trait::async_trait]
impl Embedder for Letters {
    fn identity(&self) -> EmbedderIdentity {
        EmbedderIdentity {
            name: "test-letters".into(),
            revision: "2".into(),
            dim: self.dim,
        }
    }
    fn default_threshold(&self) -> f32 {
        0.5
    }
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, MemoryError> {
        if self.fail {
            return Err(MemoryError::EmbedderOutput {
                embedder: "test-letters".into(),
                problem: "offline".into(),
            });
        }
        Ok(texts
            .iter()
            .map(|t| {
                let mut v = vec![0.01f32; self.dim];
                for c in t.to_lowercase().chars().filter(char::is_ascii_lowercase) {
                    v[(c as usize - 'a' as usize) % self.dim] += 1.0;
                }
                let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.into_iter().map(|x| x / n).collect()
            })
            .collect())
    }
}

async fn lexical(db: &Database) -> SqlMemoryManager {
    let records = MemoryRecords::open(db.clone()).await.unwrap();
    SqlMemoryManager::open(records, Arc::new(LexicalEmbedder::new()))
        .await
        .unwrap()
}

fn vector_search(query: &str) -> SearchRequest {
    SearchRequest {
        threshold: Some(-1.0),
        limit: 100,
        mode: SearchMode::Vector,
        ..SearchRequest::new(query)
    }
}

#[tokio::test]
async fn search_survives_close_and_reopen() {
    for t in backends().await {
        let memory = lexical(&t.db).await;
        for text in [
            "EMA refresh for BTC and ETH",
            "Gemini quota exhausted",
            "weekly bars close on Sunday",
        ] {
            memory.add(text, Metadata::new()).await.unwrap();
        }
        let before = memory.search("refresh the BTC EMA", 0.0, 10).await.unwrap();
        assert!(!before.is_empty(), "{}", t.label());
        drop(memory);
        t.db.close().await;

        let db = Database::connect(&t.url()).await.unwrap();
        let after = lexical(&db)
            .await
            .search("refresh the BTC EMA", 0.0, 10)
            .await
            .unwrap();
        assert_eq!(after, before, "{}", t.label());
        db.close().await;
    }
}

#[tokio::test]
async fn another_embedder_is_refused_and_nothing_changes() {
    for t in backends().await {
        let memory = lexical(&t.db).await;
        memory
            .add("EMA seed is the simple average", Metadata::new())
            .await
            .unwrap();
        let records = MemoryRecords::open(t.db.clone()).await.unwrap();
        let err = SqlMemoryManager::open(records.clone(), Arc::new(Letters { dim: 8, fail: false }))
            .await
            .err()
            .expect("a store of 512-d lexical vectors refuses an 8-d embedder");
        let message = err.to_string();
        for needle in [
            "lexical-hash@1 (512 dims)",
            "test-letters@2 (8 dims)",
            "re-embed the store with test-letters@2",
        ] {
            assert!(message.contains(needle), "{}: {message}", t.label());
        }
        assert_eq!(records.count().await.unwrap(), 1, "{}", t.label());
        let again = lexical(&t.db).await;
        assert_eq!(
            again.search("simple average seed", 0.0, 5).await.unwrap().len(),
            1,
            "{}",
            t.label()
        );
    }
}

#[tokio::test]
async fn a_failed_embedding_stores_nothing() {
    for t in backends().await {
        let records = MemoryRecords::open(t.db.clone()).await.unwrap();
        let memory = SqlMemoryManager::open(records.clone(), Arc::new(Letters { dim: 8, fail: true }))
            .await
            .unwrap();
        assert!(matches!(
            memory.add("anything", Metadata::new()).await,
            Err(MemoryError::EmbedderOutput { .. })
        ));
        assert_eq!(records.count().await.unwrap(), 0, "{}", t.label());
    }
}

#[tokio::test]
async fn eight_tasks_adding_and_searching_lose_nothing() {
    for t in backends().await {
        let memory = Arc::new(lexical(&t.db).await);
        let mut tasks = Vec::new();
        for task in 0..8 {
            let memory = memory.clone();
            tasks.push(tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..10 {
                    ids.push(
                        memory
                            .add(&format!("task {task} note {i} about EMA bars"), Metadata::new())
                            .await?,
                    );
                    ids.push(memory.add("shared note every task adds", Metadata::new()).await?);
                    memory.search_with(&vector_search("EMA bars note")).await?;
                }
                Ok::<_, MemoryError>(ids)
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap().unwrap());
        }
        let distinct: HashSet<&String> = all.iter().collect();
        assert_eq!(distinct.len(), 81, "{}", t.label());
        assert_eq!(memory.records().count().await.unwrap(), 81, "{}", t.label());
        let hits = memory.search_with(&vector_search("note")).await.unwrap().hits;
        let found: HashSet<&String> = hits.iter().map(|h| &h.id).collect();
        assert_eq!(hits.len(), 81, "{}", t.label());
        assert_eq!(found, distinct, "{}", t.label());
    }
}

#[tokio::test]
async fn filters_and_threshold_reporting() {
    for t in backends().await {
        let memory = lexical(&t.db).await;
        let yesterday = Utc::now() - Duration::days(1);
        let old = memory
            .add_at(
                "EMA refresh for BTC yesterday",
                meta(json!({"task_type": "ema_refresh", "tags": ["btc"]})),
                yesterday,
            )
            .await
            .unwrap();
        let new = memory
            .add(
                "EMA refresh for BTC today",
                meta(json!({"task_type": "ema_refresh", "tags": ["btc", "daily"]})),
            )
            .await
            .unwrap();
        let other = memory
            .add("Gemini quota exhausted", meta(json!({"task_type": "quota"})))
            .await
            .unwrap();
        let ids =
            |o: &talab_memory::search::SearchOutcome| o.hits.iter().map(|h| h.id.clone()).collect::<Vec<_>>();

        let today = Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc();
        let mut request = vector_search("EMA refresh BTC");
        request.filters = Filters {
            since: Some(today),
            ..Filters::default()
        };
        let outcome = memory.search_with(&request).await.unwrap();
        assert!(!ids(&outcome).contains(&old), "{}", t.label());
        assert!(ids(&outcome).contains(&new), "{}", t.label());
        assert_eq!(outcome.filtered_out, 1, "{}", t.label());

        request.filters = Filters {
            metadata_eq: meta(json!({"task_type": "quota"})),
            ..Filters::default()
        };
        assert_eq!(
            ids(&memory.search_with(&request).await.unwrap()),
            [other.as_str()],
            "{}",
            t.label()
        );
        request.filters = Filters {
            tags_all: vec!["btc".into(), "daily".into()],
            ..Filters::default()
        };
        assert_eq!(
            ids(&memory.search_with(&request).await.unwrap()),
            [new.as_str()],
            "{}",
            t.label()
        );

        memory.deprecate(&new, "superseded").await.unwrap();
        request.filters = Filters::default();
        assert!(
            !ids(&memory.search_with(&request).await.unwrap()).contains(&new),
            "{}",
            t.label()
        );
        request.filters.include_deprecated = true;
        assert!(
            ids(&memory.search_with(&request).await.unwrap()).contains(&new),
            "{}",
            t.label()
        );

        // The embedder's default threshold is reported, and what fell below it is counted.
        let outcome = memory
            .search_with(&SearchRequest::new("Gemini quota"))
            .await
            .unwrap();
        assert_eq!(
            outcome.threshold_used,
            memory.default_threshold(),
            "{}",
            t.label()
        );
        assert_eq!(ids(&outcome), [other.as_str()], "{}", t.label());
        assert_eq!(
            (outcome.below_threshold, outcome.filtered_out),
            (1, 1),
            "{}",
            t.label()
        );
        let strict = SearchRequest {
            threshold: Some(0.999),
            ..SearchRequest::new("Gemini quota")
        };
        let outcome = memory.search_with(&strict).await.unwrap();
        assert!(outcome.hits.is_empty());
        assert_eq!(
            (outcome.threshold_used, outcome.below_threshold),
            (0.999, 2),
            "{}",
            t.label()
        );
    }
}

#[tokio::test]
async fn update_delete_history_stats_and_health() {
    for t in backends().await {
        let memory = lexical(&t.db).await;
        let id = memory
            .add("EMA periods are 9 and 21", meta(json!({"type": "design"})))
            .await
            .unwrap();
        let twin = memory
            .add(
                "Tiingo throttled the bar download",
                meta(json!({"type": "error"})),
            )
            .await
            .unwrap();
        memory
            .add("Tiingo throttled the bar download!", Metadata::new())
            .await
            .unwrap();

        let updated = memory
            .update(&id, Some("EMA periods are 9, 21 and 200"), None)
            .await
            .unwrap();
        assert_eq!(updated.metadata, meta(json!({"type": "design"})));
        let hit = &memory
            .search_with(&vector_search("EMA periods 200"))
            .await
            .unwrap()
            .hits[0];
        assert_eq!(
            (hit.id.as_str(), hit.content.as_str()),
            (id.as_str(), "EMA periods are 9, 21 and 200")
        );
        let dup = memory
            .update(&id, Some("Tiingo throttled the bar download"), None)
            .await;
        assert!(
            matches!(dup, Err(MemoryError::DuplicateContent { existing, .. }) if existing == twin),
            "{}",
            t.label()
        );

        let stats = memory.stats().await.unwrap();
        assert_eq!(
            (stats.total, stats.deprecated, stats.not_searchable),
            (3, 0, 0),
            "{}",
            t.label()
        );
        assert_eq!(stats.by_type.get("design"), Some(&1));
        assert_eq!(stats.by_type.get("(none)"), Some(&1));
        assert_eq!(stats.vector_bytes, 3 * 512 * 4, "{}", t.label());

        let health = memory.health(&HealthOptions::default()).await.unwrap();
        assert_eq!(health.checked, 3);
        assert_eq!(health.duplicates.len(), 1, "{}: {health:?}", t.label());
        assert_eq!(health.missing_metadata.len(), 3, "none has a source");
        assert!(health.stale.is_empty());

        memory.delete(&id).await.unwrap();
        assert!(matches!(memory.get(&id).await, Err(MemoryError::NotFound(_))));
        let events: Vec<String> = memory
            .history(&id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event)
            .collect();
        assert_eq!(events, ["add", "update", "delete"], "{}", t.label());
        assert!(
            memory
                .search_with(&vector_search("EMA periods"))
                .await
                .unwrap()
                .hits
                .iter()
                .all(|h| h.id != id)
        );
        assert!(matches!(memory.delete(&id).await, Err(MemoryError::NotFound(_))));
        let page = memory.list(0, 1).await.unwrap();
        assert_eq!(
            (page.memories.len(), page.total, page.next_offset()),
            (1, 2, Some(1))
        );
    }
}

#[tokio::test]
async fn reindex_switches_the_store_to_another_embedder() {
    for t in backends().await {
        let memory = lexical(&t.db).await;
        for i in 0..5 {
            memory
                .add(&format!("note {i} about bars"), Metadata::new())
                .await
                .unwrap();
        }
        drop(memory);
        let records = MemoryRecords::open(t.db.clone()).await.unwrap();
        let letters = Arc::new(Letters { dim: 8, fail: false });
        let mut seen: Vec<ReindexProgress> = Vec::new();
        let report = reindex(&records, letters.clone(), 2, &mut |p| seen.push(p))
            .await
            .unwrap();
        assert_eq!((report.re_embedded, report.total), (5, 5), "{}", t.label());
        assert_eq!(report.from.unwrap().name, "lexical-hash");
        let done: Vec<u64> = seen.iter().map(|p| p.done).collect();
        assert_eq!(done, [2, 4, 5, 5], "{}", t.label());

        let switched = SqlMemoryManager::open(records.clone(), letters).await.unwrap();
        assert_eq!(
            switched
                .search_with(&vector_search("bars"))
                .await
                .unwrap()
                .hits
                .len(),
            5
        );
        let refused = SqlMemoryManager::open(records, Arc::new(LexicalEmbedder::new())).await;
        assert!(
            matches!(refused, Err(MemoryError::EmbedderMismatch { .. })),
            "{}",
            t.label()
        );
    }
}

/// Each mode applies its own threshold: lexical keeps an exact-word match that the cosine
/// threshold would drop (it used to report "1 below the threshold"), and its threshold is a
/// fraction of the best BM25 score.
#[tokio::test]
async fn lexical_mode_has_its_own_threshold() {
    for t in backends().await {
        let records = MemoryRecords::open(t.db.clone()).await.unwrap();
        let memory = SqlMemoryManager::open(records, Arc::new(Letters { dim: 26, fail: false }))
            .await
            .unwrap();
        let relay = memory
            .add(
                "The XK relay failed at noon during the nightly refresh",
                Metadata::new(),
            )
            .await
            .unwrap();
        memory
            .add(
                "XK twice: XK spare parts ordered for the relay rack",
                Metadata::new(),
            )
            .await
            .unwrap();
        memory
            .add("Lunch order for the whole team", Metadata::new())
            .await
            .unwrap();
        let search = |mode, threshold| SearchRequest {
            mode,
            threshold,
            ..SearchRequest::new("xk")
        };
        let vector = memory
            .search_with(&search(SearchMode::Vector, None))
            .await
            .unwrap();
        assert!(
            vector.hits.is_empty(),
            "the letters' cosine is below 0.5: {:?}",
            vector.hits
        );

        let lexical = memory
            .search_with(&search(SearchMode::Lexical, None))
            .await
            .unwrap();
        assert_eq!(lexical.threshold_used, 0.0, "{}", t.label());
        assert_eq!(lexical.hits.len(), 2, "{}: {:?}", t.label(), lexical.hits);
        assert!(lexical.hits.iter().any(|h| h.id == relay), "{}", t.label());
        assert_eq!(lexical.below_threshold, 1, "the lunch note shares no word");

        let best_only = memory
            .search_with(&search(SearchMode::Lexical, Some(1.0)))
            .await
            .unwrap();
        assert_eq!(best_only.hits.len(), 1, "{}", t.label());
        assert_ne!(
            best_only.hits[0].id, relay,
            "the note saying XK twice scores higher"
        );
    }
}

/// NUL in what a caller gives is refused alike on both backends (PostgreSQL cannot store it; SQLite
/// used to keep it), with a clear error and nothing stored.
#[tokio::test]
async fn nul_in_content_or_metadata_is_refused_on_every_backend() {
    for t in backends().await {
        let memory = lexical(&t.db).await;
        let err = memory.add("before\0after", Metadata::new()).await.unwrap_err();
        assert!(matches!(err, MemoryError::NulInText(_)), "{}: {err:?}", t.label());
        assert!(
            err.to_string().contains("NUL character (U+0000) at byte 6"),
            "{err}"
        );
        for bad in [
            json!({"note": "a\u{0}b"}),
            json!({"list": ["ok", "x\u{0}"]}),
            json!({"k\u{0}": 1}),
        ] {
            let err = memory
                .add("a fine sentence", meta(bad.clone()))
                .await
                .unwrap_err();
            assert!(
                matches!(err, MemoryError::NulInText(_)),
                "{}: {bad}: {err:?}",
                t.label()
            );
        }
        assert_eq!(memory.records().count().await.unwrap(), 0, "{}", t.label());
        let id = memory.add("a fine sentence", Metadata::new()).await.unwrap();
        let err = memory.update(&id, Some("changed\0"), None).await.unwrap_err();
        assert!(matches!(err, MemoryError::NulInText(_)), "{}: {err:?}", t.label());
        let err = memory
            .update(&id, None, Some(meta(json!({"x": "\u{0}"}))))
            .await
            .unwrap_err();
        assert!(matches!(err, MemoryError::NulInText(_)), "{}: {err:?}", t.label());
        assert_eq!(
            memory.records().get(&id).await.unwrap().unwrap().content,
            "a fine sentence"
        );
    }
}

#[tokio::test]
async fn a_loaded_index_sees_what_another_process_adds_changes_and_deletes() {
    // Two managers on separate connections stand for two processes (a `talab mcp` server whose
    // index is loaded, and CLI commands).
    for t in backends().await {
        let label = t.label();
        let server = lexical(&t.db).await;
        let other_db = Database::connect(&t.url()).await.unwrap();
        let cli = lexical(&other_db).await;
        let found = |hits: Vec<talab_memory::Memory>| -> Vec<String> {
            hits.into_iter().map(|m| m.content).collect()
        };
        server
            .add("the BTC refresh stored 91 rows", Metadata::new())
            .await
            .unwrap();
        let hits = found(server.search("BTC refresh", 0.0, 10).await.unwrap());
        assert_eq!(hits[0], "the BTC refresh stored 91 rows", "{label}");

        let id = cli
            .add("the ETH refresh rejected 3 bars", Metadata::new())
            .await
            .unwrap();
        let hits = found(server.search("ETH refresh", 0.0, 10).await.unwrap());
        assert!(
            hits.contains(&"the ETH refresh rejected 3 bars".to_string()),
            "{label}: {hits:?}"
        );

        cli.update(&id, Some("the SOL refresh rejected 3 bars"), None)
            .await
            .unwrap();
        let hits = found(server.search("SOL rejected", 0.0, 10).await.unwrap());
        assert_eq!(hits[0], "the SOL refresh rejected 3 bars", "{label}: {hits:?}");
        assert!(!hits.iter().any(|h| h.contains("ETH")), "{label}: {hits:?}");

        cli.deprecate(&id, "wrong asset").await.unwrap();
        let hits = found(server.search("SOL rejected", 0.0, 10).await.unwrap());
        assert!(!hits.iter().any(|h| h.contains("SOL")), "{label}: {hits:?}");

        let gone = cli
            .add("a memory about to be deleted", Metadata::new())
            .await
            .unwrap();
        let deleted = "a memory about to be deleted".to_string();
        let hits = found(server.search("deleted", 0.0, 10).await.unwrap());
        assert!(hits.contains(&deleted), "{label}: {hits:?}");
        cli.delete(&gone).await.unwrap();
        let hits = found(server.search("deleted", 0.0, 10).await.unwrap());
        assert!(!hits.contains(&deleted), "{label}: {hits:?}");

        // Many changes at once reload the whole index, with the same result.
        for i in 0..300 {
            cli.add(&format!("bulk note {i} about the quota"), Metadata::new())
                .await
                .unwrap();
        }
        let bulk = found(server.search("bulk quota", -1.0, 1000).await.unwrap());
        let notes = bulk.iter().filter(|h| h.starts_with("bulk note")).count();
        assert_eq!(notes, 300, "{label}");
        other_db.close().await;
    }
}
