//! The `tasks` table on SQLite and PostgreSQL: a full result round-trips (metadata JSON, floats),
//! listings are newest first and paged, and rows survive reopening the database.

use std::time::Duration;
use talab_db::sqlx;

use serde_json::{Map, Value, json};
use talab_db::Database;
use talab_orchestrator::{Platform, Task, TaskIds, TaskResult, TaskStore, TaskType};

fn full_result(prompt: &str) -> TaskResult {
    let task = Task::new(TaskType::SqlDbWork, prompt)
        .with_hint(Platform::Local)
        .with_context("memory", json!(["refreshed BTC on 2024-01-01", {"score": 0.83}]))
        .with_metadata("tool", "ema_refresh")
        .with_priority(1);
    let metadata: Map<String, Value> = serde_json::from_value(json!({
        "routing": {
            "candidates": ["local", "claude_code"],
            "hint_note": "platform_hint local is used; it is also the table's first choice",
            "skipped": [["claude", "ANTHROPIC_API_KEY is not set"]]
        },
        "attempts": [
            {"platform": "local", "error_class": null, "error": null,
             "duration_seconds": 0.012_345_678_9, "wait_seconds": 0.0}
        ],
        "model": "ema_refresh",
        "third": 0.1 + 0.2,
        "unicode": "EMA → ✓ «δ»"
    }))
    .unwrap();
    TaskResult {
        task,
        platform: Platform::Local,
        output: "refreshed 2 symbols\nBTC 1d ema_21=42150.125".into(),
        success: true,
        error: None,
        cost: 0.000_123_456_789,
        tokens_used: 9_876_543_210,
        duration_seconds: 1.234_567_890_123,
        metadata,
    }
}

fn failed_result(prompt: &str, duration: f64) -> TaskResult {
    TaskResult {
        task: Task::new(TaskType::Research, prompt),
        platform: Platform::Chatgpt,
        output: String::new(),
        success: false,
        error: Some("chatgpt: quota exhausted: insufficient_quota".into()),
        cost: 0.0,
        tokens_used: 0,
        duration_seconds: duration,
        metadata: Map::new(),
    }
}

#[tokio::test]
async fn full_result_round_trips() {
    for t in talab_db::testing::backends().await {
        let store = TaskStore::open(t.db.clone()).await.unwrap();
        let result = full_result("Refresh EMAs for BTC, ETH");
        let ids = TaskIds {
            correlation_id: "corr-1".into(),
            chain_id: Some("chain-7".into()),
        };
        let id = store.record(&result, ids).await.unwrap();
        assert_eq!(id.len(), 36, "{}", t.label());
        let stored = store.get(&id).await.unwrap().expect("the row");
        assert_eq!(stored.result, result, "{}", t.label());
        assert_eq!(stored.id, id);
        assert_eq!(stored.correlation_id, "corr-1");
        assert_eq!(stored.chain_id.as_deref(), Some("chain-7"));
        let took = (stored.finished_at - stored.created_at)
            .num_microseconds()
            .unwrap();
        assert!((took - 1_234_567).abs() <= 1, "{}: {took} µs", t.label());

        // A failure with no routing or attempts stays without them.
        let failed = failed_result("q", 0.0);
        let id = store.record(&failed, TaskIds::fresh()).await.unwrap();
        let back = store.get(&id).await.unwrap().unwrap();
        assert_eq!(back.result, failed, "{}", t.label());
        assert_eq!(back.chain_id, None);
        assert!(store.get("no-such-id").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn routing_and_attempts_live_in_their_own_columns() {
    for t in talab_db::testing::backends().await {
        let store = TaskStore::open(t.db.clone()).await.unwrap();
        let id = store.record(&full_result("p"), TaskIds::fresh()).await.unwrap();
        let (task_type, prompt, platform, routing, metadata): (String, String, String, String, String) =
            talab_db::on_pool!(&t.db, pool => sqlx::query_as(
                "SELECT task_type, prompt, platform, CAST(routing AS TEXT), CAST(metadata AS TEXT) \
                 FROM tasks WHERE id = $1",
            )
            .bind(&id)
            .fetch_one(pool)
            .await)
            .unwrap();
        assert_eq!(
            (task_type.as_str(), prompt.as_str(), platform.as_str()),
            ("sql_db_work", "p", "local")
        );
        let routing: Value = serde_json::from_str(&routing).unwrap();
        assert_eq!(
            routing["candidates"],
            json!(["local", "claude_code"]),
            "{}",
            t.label()
        );
        let metadata: Value = serde_json::from_str(&metadata).unwrap();
        assert!(metadata.get("routing").is_none() && metadata.get("attempts").is_none());
        assert_eq!(metadata["model"], "ema_refresh", "{}", t.label());
    }
}

#[tokio::test]
async fn list_is_newest_first_and_paged() {
    for t in talab_db::testing::backends().await {
        let store = TaskStore::open(t.db.clone()).await.unwrap();
        let empty = store.list(0, 10).await.unwrap();
        assert_eq!((empty.total, empty.items.len()), (0, 0), "{}", t.label());

        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(
                store
                    .record(&failed_result(&format!("task {i}"), 0.0), TaskIds::fresh())
                    .await
                    .unwrap(),
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let newest_first: Vec<String> = ids.iter().rev().cloned().collect();

        let page = store.list(0, 2).await.unwrap();
        assert_eq!(page.total, 5, "{}", t.label());
        assert_eq!((page.offset, page.limit), (0, 2));
        let got: Vec<&str> = page.items.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(got, &newest_first[..2], "{}", t.label());
        assert_eq!(page.items[0].result.task.prompt, "task 4");

        let page = store.list(2, 2).await.unwrap();
        let got: Vec<&str> = page.items.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(got, &newest_first[2..4], "{}", t.label());

        let last = store.list(4, 10).await.unwrap();
        assert_eq!(last.items.len(), 1);
        assert_eq!(last.items[0].result.task.prompt, "task 0", "{}", t.label());
        assert!(store.list(5, 10).await.unwrap().items.is_empty());
        assert!(store.list(0, 0).await.unwrap().items.is_empty());

        // A long-running task started earlier, so it sorts by its start, not its end.
        let long = store
            .record(&failed_result("long", 3600.0), TaskIds::fresh())
            .await
            .unwrap();
        let all = store.list(0, 100).await.unwrap();
        assert_eq!(all.items.last().unwrap().id, long, "{}", t.label());
    }
}

#[tokio::test]
async fn rows_survive_reopening_and_migrations_are_idempotent() {
    for t in talab_db::testing::backends().await {
        let store = TaskStore::open(t.db.clone()).await.unwrap();
        let result = full_result("kept");
        let id = store.record(&result, TaskIds::fresh()).await.unwrap();
        drop(store);

        let again = Database::connect(&t.url()).await.unwrap();
        let reopened = TaskStore::open(again.clone()).await.unwrap();
        let stored = reopened.get(&id).await.unwrap().expect("row after reopen");
        assert_eq!(stored.result, result, "{}", t.label());
        assert_eq!(reopened.list(0, 10).await.unwrap().total, 1);
        // Opening a third time applies nothing twice.
        TaskStore::open(again.clone()).await.unwrap();
        again.close().await;
    }
}

#[tokio::test]
async fn non_finite_numbers_do_not_break_recording() {
    for t in talab_db::testing::backends().await {
        let store = TaskStore::open(t.db.clone()).await.unwrap();
        let mut result = failed_result("nan", f64::NAN);
        result.cost = f64::INFINITY;
        let id = store.record(&result, TaskIds::fresh()).await.unwrap();
        let back = store.get(&id).await.unwrap().unwrap();
        assert_eq!(
            (back.result.cost, back.result.duration_seconds),
            (0.0, 0.0),
            "{}",
            t.label()
        );
    }
}
