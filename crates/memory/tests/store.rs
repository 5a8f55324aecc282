//! MemoryRecords on every backend: round trips, dedup, concurrency, persistence, paging.

use std::collections::HashSet;
use talab_db::sqlx;

use serde_json::json;
use talab_db::{Database, on_pool, testing::backends};
use talab_memory::{FETCHED_RELEVANCE, MemoryError, MemoryRecords, Metadata, NewMemory, content_hash};

fn meta(value: serde_json::Value) -> Metadata {
    value.as_object().expect("a JSON object").clone()
}

/// The events recorded for one memory, oldest first.
async fn events(db: &Database, id: &str) -> Vec<String> {
    on_pool!(db, pool => {
        sqlx::query_scalar("SELECT event FROM memory_events WHERE memory_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(pool)
            .await
    })
    .expect("read events")
}

async fn rows_with_hash(db: &Database, content: &str) -> i64 {
    on_pool!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM memories WHERE content_hash = $1")
            .bind(content_hash(content))
            .fetch_one(pool)
            .await
    })
    .expect("count rows")
}

#[tokio::test]
async fn insert_and_get_round_trip() {
    for t in backends().await {
        let records = MemoryRecords::open(t.db.clone()).await.unwrap();
        let metadata = meta(json!({
            "type": "code",
            "source": "notes/ema.md",
            "symbols": ["BTC", "ETH"],
            "period": 21,
            "alpha": 0.0909,
            "nested": {"ok": true, "none": null},
            "note": "déjà vu — 日本語",
        }));
        let embedding = vec![0.25, -1.5, 0.0, 3.0e-7];
        let before = talab_memory::now_micros();
        let added = records
            .insert(
                NewMemory::new("EMA calculation logic", metadata.clone())
                    .with_embedding("test-embedder@1", embedding.clone()),
            )
            .await
            .unwrap();
        assert!(added.created, "{}", t.label());
        assert_eq!(
            uuid::Uuid::parse_str(&added.id).unwrap().get_version_num(),
            4,
            "{}",
            t.label()
        );

        let m = records.get(&added.id).await.unwrap().expect("stored");
        assert_eq!(m.id, added.id, "{}", t.label());
        assert_eq!(m.content, "EMA calculation logic", "{}", t.label());
        assert_eq!(m.metadata, metadata, "{}", t.label());
        assert_eq!(m.embedding, embedding, "{}", t.label());
        assert_eq!(m.relevance_score, FETCHED_RELEVANCE, "{}", t.label());
        assert!(
            m.created_at >= before && m.created_at <= talab_memory::now_micros(),
            "{}",
            t.label()
        );
        assert_eq!(events(&t.db, &added.id).await, ["add"], "{}", t.label());

        let plain = records
            .insert(NewMemory::new("no vector here", Metadata::new()))
            .await
            .unwrap();
        let p = records.get(&plain.id).await.unwrap().expect("stored");
        assert!(p.embedding.is_empty() && p.metadata.is_empty(), "{}", t.label());

        assert_eq!(records.get("no-such-id").await.unwrap(), None, "{}", t.label());
        assert_eq!(records.count().await.unwrap(), 2, "{}", t.label());
    }
}

#[tokio::test]
async fn dedup_returns_the_same_id_and_writes_one_row() {
    for t in backends().await {
        let records = MemoryRecords::open(t.db.clone()).await.unwrap();
        let first = records
            .insert(NewMemory::new("Refreshed EMAs for BTC", meta(json!({"run": 1}))))
            .await
            .unwrap();
        let again = records
            .insert(NewMemory::new(
                "  Refreshed   EMAs\nfor BTC \n",
                meta(json!({"run": 2})),
            ))
            .await
            .unwrap();
        assert!(first.created && !again.created, "{}", t.label());
        assert_eq!(first.id, again.id, "{}", t.label());
        assert_eq!(
            rows_with_hash(&t.db, "Refreshed EMAs for BTC").await,
            1,
            "{}",
            t.label()
        );
        assert_eq!(events(&t.db, &first.id).await, ["add"], "{}", t.label());
        // The first content and metadata stay as they were.
        let m = records.get(&first.id).await.unwrap().unwrap();
        assert_eq!(
            (m.content.as_str(), m.metadata),
            ("Refreshed EMAs for BTC", meta(json!({"run": 1})))
        );

        // Dedup is per scope.
        let other = records
            .insert(NewMemory::new("Refreshed EMAs for BTC", Metadata::new()).in_scope("lab-2"))
            .await
            .unwrap();
        assert!(other.created && other.id != first.id, "{}", t.label());
        assert_eq!(records.count().await.unwrap(), 2, "{}", t.label());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_inserts_of_the_same_content_make_one_row() {
    for t in backends().await {
        let records = MemoryRecords::open(t.db.clone()).await.unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let records = records.clone();
                tokio::spawn(async move {
                    records
                        .insert(NewMemory::new("the same finding", meta(json!({"task": i}))))
                        .await
                })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap().unwrap());
        }
        let ids: HashSet<&str> = results.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), 1, "{}: {results:?}", t.label());
        assert_eq!(results.iter().filter(|r| r.created).count(), 1, "{}", t.label());
        assert_eq!(
            rows_with_hash(&t.db, "the same finding").await,
            1,
            "{}",
            t.label()
        );
        assert_eq!(events(&t.db, &results[0].id).await, ["add"], "{}", t.label());
    }
}

#[tokio::test]
async fn memories_survive_close_and_reopen() {
    for t in backends().await {
        let records = MemoryRecords::open(t.db.clone()).await.unwrap();
        let added = records
            .insert(
                NewMemory::new("BTC daily bars rebuilt", meta(json!({"type": "run"})))
                    .with_embedding("e@1", vec![0.6, 0.8]),
            )
            .await
            .unwrap();
        let before = records.get(&added.id).await.unwrap().unwrap();
        t.db.close().await;

        let reopened = MemoryRecords::open(Database::connect(&t.url()).await.unwrap())
            .await
            .unwrap();
        let after = reopened.get(&added.id).await.unwrap();
        assert_eq!(after.as_ref(), Some(&before), "{}", t.label());
        assert_eq!(reopened.count().await.unwrap(), 1, "{}", t.label());
        let again = reopened
            .insert(NewMemory::new("BTC daily bars rebuilt", Metadata::new()))
            .await
            .unwrap();
        assert_eq!(
            (again.id.as_str(), again.created),
            (added.id.as_str(), false),
            "{}",
            t.label()
        );
        reopened.database().close().await;
    }
}

#[tokio::test]
async fn paging_covers_every_row_once() {
    for t in backends().await {
        let records = MemoryRecords::open(t.db.clone()).await.unwrap();
        let mut added = HashSet::new();
        for i in 0..23 {
            let r = records
                .insert(NewMemory::new(format!("memory number {i}"), Metadata::new()))
                .await
                .unwrap();
            added.insert(r.id);
        }
        let mut seen = Vec::new();
        let mut offset = 0;
        let mut pages = 0;
        loop {
            let page = records.list(offset, 5).await.unwrap();
            assert_eq!(page.total, 23, "{}", t.label());
            assert_eq!(page.offset, offset, "{}", t.label());
            assert!(page.memories.len() <= 5, "{}", t.label());
            let next = page.next_offset();
            seen.extend(page.memories.into_iter().map(|m| (m.created_at, m.id)));
            pages += 1;
            match next {
                Some(next) => offset = next,
                None => break,
            }
        }
        assert_eq!(pages, 5, "{}", t.label());
        assert_eq!(seen.len(), 23, "{}", t.label());
        assert!(
            seen.windows(2).all(|w| w[0] <= w[1]),
            "{}: oldest first",
            t.label()
        );
        let ids: HashSet<String> = seen.into_iter().map(|(_, id)| id).collect();
        assert_eq!(ids, added, "{}", t.label());

        let past = records.list(100, 5).await.unwrap();
        assert!(past.memories.is_empty(), "{}", t.label());
        assert_eq!((past.total, past.next_offset()), (23, None), "{}", t.label());
        let all = records.list(0, u64::MAX).await.unwrap();
        assert_eq!(
            (all.memories.len(), all.next_offset()),
            (23, None),
            "{}",
            t.label()
        );
    }
}

#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_written() {
    for t in backends().await {
        let records = MemoryRecords::open(t.db.clone()).await.unwrap();
        let refused = [
            (NewMemory::new(" \n\t ", Metadata::new()), "empty"),
            (NewMemory::new("x", Metadata::new()).in_scope(" "), "scope"),
            (
                NewMemory::new("x", Metadata::new()).with_embedding("e@1", vec![f32::NAN]),
                "nan",
            ),
            (
                NewMemory {
                    embedding: Some(vec![1.0]),
                    ..NewMemory::new("x", Metadata::new())
                },
                "no embedder",
            ),
        ];
        for (new, why) in refused {
            let e = records.insert(new).await.unwrap_err();
            match why {
                "empty" => assert!(matches!(e, MemoryError::EmptyContent), "{e}"),
                "scope" => assert!(matches!(e, MemoryError::InvalidScope(_)), "{e}"),
                _ => assert!(matches!(e, MemoryError::InvalidEmbedding(_)), "{why}: {e}"),
            }
        }
        assert_eq!(records.count().await.unwrap(), 0, "{}", t.label());
        let no_events: i64 = on_pool!(&t.db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM memory_events").fetch_one(pool).await
        })
        .unwrap();
        assert_eq!(no_events, 0, "{}", t.label());
    }
}

#[tokio::test]
async fn get_many_and_context_keep_caller_order_and_report_unknown_ids() {
    for t in backends().await {
        let records = MemoryRecords::open(t.db.clone()).await.unwrap();
        let a = records
            .insert(NewMemory::new("alpha note", meta(json!({"type": "a"}))))
            .await
            .unwrap();
        let b = records
            .insert(NewMemory::new("beta note", Metadata::new()))
            .await
            .unwrap();
        let ids = vec![b.id.clone(), "ghost".to_string(), a.id.clone(), b.id.clone()];

        let fetched = records.get_many(&ids).await.unwrap();
        let order: Vec<&str> = fetched.found.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(order, [b.id.as_str(), a.id.as_str()], "{}", t.label());
        assert_eq!(fetched.unknown, ["ghost"], "{}", t.label());

        let context = records.context(&ids, 4000).await.unwrap();
        let beta = context.find("beta note").unwrap();
        let alpha = context.find("alpha note").unwrap();
        assert!(beta < alpha, "{}: {context}", t.label());
        assert!(context.starts_with("# Relevant memories (2)\n"), "{context}");
        assert!(
            context.contains("## Memory 2 (Relevance: 100%)\ntype: a | created_at: "),
            "{context}"
        );
        assert!(
            context.ends_with("\nUnknown memory ids (not found): ghost\n"),
            "{context}"
        );

        // More ids than one query binds.
        let many: Vec<String> = (0..1203)
            .map(|i| format!("missing-{i}"))
            .chain([a.id.clone()])
            .collect();
        let fetched = records.get_many(&many).await.unwrap();
        assert_eq!(
            (fetched.found.len(), fetched.unknown.len()),
            (1, 1203),
            "{}",
            t.label()
        );
    }
}

#[tokio::test]
async fn opening_twice_applies_the_migration_once() {
    for t in backends().await {
        MemoryRecords::open(t.db.clone()).await.unwrap();
        let records = MemoryRecords::open(t.db.clone()).await.unwrap();
        records
            .insert(NewMemory::new("still works", Metadata::new()))
            .await
            .unwrap();
        let applied: i64 = on_pool!(&t.db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM talab_migrations WHERE component = 'memory'")
                .fetch_one(pool)
                .await
        })
        .unwrap();
        let expected = talab_memory::MIGRATIONS.migrations.len() as i64;
        assert_eq!((applied, expected), (2, 2), "{}", t.label());
    }
}
