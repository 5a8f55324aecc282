//! What only the pgvector backend has to show beyond the shared contract (`contract.rs`): its
//! errors name the backend, where it is and what to do; a selective filter never shortens a
//! result the approximate index came back short on; concurrent first opens do not race; tables
//! are isolated by name; searches run on the HNSW index.

use std::sync::Arc;

use serde_json::json;
use talab_db::testing::pgvector::pgvector;
use talab_db::{Database, Pool, sqlx};
use talab_memory::backends::pgvector::{DEFAULT_TABLE, PgVectorMemory};
use talab_memory::embed::lexical::LexicalEmbedder;
use talab_memory::search::{Filters, SearchMode, SearchRequest};
use talab_memory::{Embedder, MemoryError, MemoryManager, Metadata};

fn lexical() -> Arc<dyn Embedder> {
    Arc::new(LexicalEmbedder::new())
}

/// The one-line message of a failed open.
async fn refused(url: &str) -> String {
    let err = PgVectorMemory::connect(url, DEFAULT_TABLE, lexical())
        .await
        .err()
        .unwrap_or_else(|| panic!("{url} opened"));
    assert!(matches!(err, MemoryError::Backend { .. }), "{err:?}");
    let message = err.to_string();
    assert!(!message.contains('\n'), "one line: {message}");
    assert!(message.starts_with("pgvector memory at "), "{message}");
    message
}

#[tokio::test]
async fn unreachable_server_and_refused_login_say_where_and_what_to_do() {
    let message = refused("postgres://postgres:hunter2@127.0.0.1:1/postgres").await;
    assert!(message.contains("127.0.0.1:1"), "{message}");
    assert!(message.contains("cannot reach the server"), "{message}");
    assert!(
        message.contains("start it, or correct the host and port"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "the password is masked: {message}");

    // The machine's PostgreSQL (trust auth) knows no such role.
    if let Some(t) = talab_db::testing::postgres().await {
        drop(t);
        let url = std::env::var(talab_db::testing::PG_URL_ENV)
            .unwrap_or_else(|_| talab_db::testing::DEFAULT_PG_URL.to_string());
        let stranger = url.replacen("://postgres@", "://no_such_talab_role:pw@", 1);
        if stranger != url {
            let message = refused(&stranger).await;
            assert!(message.contains("refused the connection"), "{message}");
            assert!(
                message.contains("check the user, password and database"),
                "{message}"
            );
        }
    }
    let message = refused("sqlite::memory:").await;
    assert!(message.contains("needs a PostgreSQL server"), "{message}");
}

#[tokio::test]
async fn a_server_without_pgvector_is_reported_and_left_untouched() {
    // Debian's PostgreSQL on this machine has no pgvector: the plain test server is such a server.
    let Some(t) = talab_db::testing::postgres().await else {
        return;
    };
    let available: bool = match t.db.pool() {
        Pool::Postgres(pool) => {
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector')")
                .fetch_one(pool)
                .await
                .unwrap()
        }
        Pool::Sqlite(_) => unreachable!(),
    };
    if available {
        eprintln!(
            "note: the PostgreSQL test server has pgvector; the missing-extension case is not exercised"
        );
        return;
    }
    let err = PgVectorMemory::open(t.db.clone(), DEFAULT_TABLE, lexical())
        .await
        .err()
        .expect("no extension, no store");
    let message = err.to_string();
    assert!(message.starts_with("pgvector memory at postgres://"), "{message}");
    assert!(message.contains("no pgvector extension"), "{message}");
    assert!(message.contains("install pgvector"), "{message}");
    let Pool::Postgres(pool) = t.db.pool() else {
        unreachable!()
    };
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(tables, 0, "nothing half-written");
}

#[tokio::test]
async fn bad_table_names_are_refused() {
    let Some(p) = pgvector().await else {
        return;
    };
    for name in ["", "Memories", "1st", "a-b", "x; DROP TABLE y", &"a".repeat(49)] {
        let err = PgVectorMemory::connect(p.url(), name, lexical()).await.err();
        let message = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("invalid table name"), "{name:?}: {message}");
    }
}

#[tokio::test]
async fn tables_are_separate_stores_and_concurrent_first_opens_do_not_race() {
    let Some(p) = pgvector().await else {
        return;
    };
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let url = p.url().to_string();
            tokio::spawn(async move { PgVectorMemory::connect(&url, "shared_first", lexical()).await })
        })
        .collect();
    for open in opens {
        open.await.unwrap().unwrap();
    }
    let a = PgVectorMemory::connect(p.url(), "shared_first", lexical())
        .await
        .unwrap();
    let b = PgVectorMemory::connect(p.url(), "other_table", lexical())
        .await
        .unwrap();
    a.add("only in the first table", Metadata::new()).await.unwrap();
    assert_eq!(a.count().await.unwrap(), 1);
    assert_eq!(b.count().await.unwrap(), 0);
    let info = b.describe().await.unwrap();
    assert!(info.location.ends_with("table other_table"), "{}", info.location);
}

#[tokio::test]
async fn a_selective_filter_never_shortens_the_result() {
    let Some(p) = pgvector().await else {
        return;
    };
    let memory = PgVectorMemory::connect(p.url(), DEFAULT_TABLE, lexical())
        .await
        .unwrap();
    for i in 0..400 {
        memory
            .add(&format!("EMA refresh {i} for BTC bars"), Metadata::new())
            .await
            .unwrap();
    }
    let rare = json!({"tags": ["rare"]}).as_object().unwrap().clone();
    for text in [
        "gemini quota exhausted",
        "tiingo empty page",
        "weekly close on Sunday",
    ] {
        memory.add(text, rare.clone()).await.unwrap();
    }
    let pool = p.connect().await;
    let Pool::Postgres(pg) = pool.pool() else {
        unreachable!()
    };
    sqlx::query("ANALYZE").execute(pg).await.unwrap();
    let request = SearchRequest {
        threshold: Some(-1.0),
        limit: 3,
        mode: SearchMode::Vector,
        filters: Filters {
            tags_any: vec!["rare".into()],
            ..Filters::default()
        },
        ..SearchRequest::new("EMA refresh for BTC bars")
    };
    let found = memory.search_with(&request).await.unwrap();
    assert_eq!(
        found.hits.len(),
        3,
        "all three rare memories, though 400 others are nearer"
    );
    assert_eq!(found.filtered_out, 400);
}

#[tokio::test]
async fn vector_search_walks_the_hnsw_index() {
    let Some(p) = pgvector().await else {
        return;
    };
    let memory = PgVectorMemory::connect(p.url(), DEFAULT_TABLE, lexical())
        .await
        .unwrap();
    memory.add("EMA refresh for BTC", Metadata::new()).await.unwrap();
    let db: Database = p.connect().await;
    let Pool::Postgres(pg) = db.pool() else {
        unreachable!()
    };
    let query: Vec<f32> = LexicalEmbedder::embed_one("EMA");
    // The shape of the backend's vector query (see backends/pgvector/search.rs: the vector bound
    // as real[] and cast), planned as on a large table, where scanning and sorting every row is
    // the expensive plan.
    let mut tx = pg.begin().await.unwrap();
    sqlx::raw_sql("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off")
        .execute(&mut *tx)
        .await
        .unwrap();
    let plan: Vec<String> = sqlx::query_scalar(&format!(
        "EXPLAIN SELECT id FROM {DEFAULT_TABLE} WHERE scope = 'default' \
         ORDER BY embedding <=> ($1::real[]::vector) LIMIT 5"
    ))
    .bind(&query)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains(&format!("{DEFAULT_TABLE}_embedding")), "{plan}");
}
