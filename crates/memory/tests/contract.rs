//! The contract every memory backend passes: one set of assertions, written once against
//! `&dyn MemoryManager`, run on each backend — the embedded store on SQLite and on PostgreSQL,
//! pgvector (a pgserver the tests start; see `talab_db::testing::pgvector`) and Chroma (`chroma
//! run`, started by the tests too; see `talab_db::testing::chroma`).
//!
//! Where a backend genuinely lacks an operation (Chroma keeps no history and has no text
//! ranking), its [`Capabilities`] say so, and the suite asserts that it answers
//! [`MemoryError::Unsupported`] naming itself instead; every other assertion is the same for all.
//!
//! Each test opens a fresh store per backend through [`Backend::open`], which can open the same
//! store again (a restart) or with another embedder (the dimension guard). Most checks use the
//! deterministic lexical embedder; one ranks with MiniLM.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use talab_db::Database;
use talab_db::testing::TestDb;
use talab_db::testing::chroma::ChromaTest;
use talab_db::testing::pgvector::PgVectorDb;
use talab_memory::backends::chroma::{ChromaConfig, ChromaMemory};
use talab_memory::backends::pgvector::{DEFAULT_TABLE, PgVectorMemory};
use talab_memory::embed::lexical::LexicalEmbedder;
use talab_memory::search::{Filters, SearchMode, SearchOutcome, SearchRequest};
use talab_memory::{
    Embedder, EmbedderIdentity, MemoryError, MemoryManager, MemoryRecords, Metadata, SqlMemoryManager,
};

/// Where one backend under test keeps its fresh store.
enum Store {
    Embedded(TestDb),
    PgVector(PgVectorDb),
    Chroma(ChromaTest),
}

/// What a backend can do beyond the operations every backend has.
struct Capabilities {
    /// `history` answers the events of a memory.
    history: bool,
    /// Lexical search ranks by words.
    lexical: bool,
}

/// One backend under test.
struct Backend {
    store: Store,
}

impl Backend {
    /// Which backend, for assertion messages.
    fn label(&self) -> String {
        match &self.store {
            Store::Embedded(t) => format!("embedded on {}", t.label()),
            Store::PgVector(_) => "pgvector".into(),
            Store::Chroma(_) => "chroma".into(),
        }
    }

    /// The name the backend gives itself.
    fn name(&self) -> &'static str {
        match &self.store {
            Store::Embedded(_) => "embedded",
            Store::PgVector(_) => "pgvector",
            Store::Chroma(_) => "chroma",
        }
    }

    fn can(&self) -> Capabilities {
        match &self.store {
            Store::Embedded(_) | Store::PgVector(_) => Capabilities {
                history: true,
                lexical: true,
            },
            Store::Chroma(_) => Capabilities {
                history: false,
                lexical: false,
            },
        }
    }

    /// Asserts that `result` is this backend's refusal of an operation it does not have.
    fn assert_unsupported<T: std::fmt::Debug>(&self, result: Result<T, MemoryError>) {
        match result {
            Err(MemoryError::Unsupported { backend, .. }) => {
                assert_eq!(backend, self.name(), "{}", self.label())
            }
            other => panic!("{}: expected Unsupported, got {other:?}", self.label()),
        }
    }

    /// Opens the store (over a new connection pool, as another process would) in `scope`.
    async fn open(
        &self,
        embedder: Arc<dyn Embedder>,
        scope: &str,
    ) -> Result<Arc<dyn MemoryManager>, MemoryError> {
        Ok(match &self.store {
            Store::Embedded(t) => {
                let records = MemoryRecords::open(Database::connect(&t.url()).await?).await?;
                Arc::new(SqlMemoryManager::open(records, embedder).await?.in_scope(scope)?)
            }
            Store::PgVector(p) => Arc::new(
                PgVectorMemory::connect(p.url(), DEFAULT_TABLE, embedder)
                    .await?
                    .in_scope(scope)?,
            ),
            Store::Chroma(c) => Arc::new(
                ChromaMemory::connect(
                    &ChromaConfig::new(c.url()).with_collection(c.collection()),
                    embedder,
                )
                .await?
                .in_scope(scope)?,
            ),
        })
    }

    /// The store in the default scope with the lexical embedder.
    async fn lexical(&self) -> Arc<dyn MemoryManager> {
        self.open(Arc::new(LexicalEmbedder::new()), "default")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.label()))
    }
}

/// A fresh store on every backend (those opted out with `TALAB_TEST_SKIP` left out, counted).
async fn backends() -> Vec<Backend> {
    let mut all: Vec<Backend> = talab_db::testing::backends()
        .await
        .into_iter()
        .map(|t| Backend {
            store: Store::Embedded(t),
        })
        .collect();
    if let Some(p) = talab_db::testing::pgvector::pgvector().await {
        all.push(Backend {
            store: Store::PgVector(p),
        });
    }
    if let Some(c) = talab_db::testing::chroma::chroma() {
        all.push(Backend {
            store: Store::Chroma(c),
        });
    }
    all
}

fn meta(value: serde_json::Value) -> Metadata {
    value.as_object().expect("a JSON object").clone()
}

fn request(query: &str, mode: SearchMode) -> SearchRequest {
    SearchRequest {
        threshold: Some(-1.0),
        limit: 100,
        mode,
        ..SearchRequest::new(query)
    }
}

fn with_filters(query: &str, filters: Filters) -> SearchRequest {
    SearchRequest {
        filters,
        ..request(query, SearchMode::Vector)
    }
}

fn contents(outcome: &SearchOutcome) -> Vec<&str> {
    outcome.hits.iter().map(|m| m.content.as_str()).collect()
}

const EMA: &str = "EMA refresh completed for BTC and ETH on the daily bars";
const QUOTA: &str = "Gemini quota exhausted after forty requests";
const WEEKLY: &str = "weekly bars close on Sunday at midnight UTC";
const SEED: &str = "the EMA seed is the simple average of the first bars";
const TIINGO: &str = "tiingo returned an empty page for SOL hourly candles";

/// Adds the five notes above, returning their ids in that order.
async fn five(memory: &dyn MemoryManager) -> Vec<String> {
    let mut ids = Vec::new();
    for text in [EMA, QUOTA, WEEKLY, SEED, TIINGO] {
        ids.push(memory.add(text, Metadata::new()).await.unwrap());
    }
    ids
}

/// A small deterministic embedder of another identity and dimension: letter counts.
pub(crate) struct Letters;

#[async_trait::async_trait]
impl Embedder for Letters {
    fn identity(&self) -> EmbedderIdentity {
        EmbedderIdentity {
            name: "test-letters".into(),
            revision: "2".into(),
            dim: 8,
        }
    }
    fn default_threshold(&self) -> f32 {
        0.5
    }
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, MemoryError> {
        Ok(texts
            .iter()
            .map(|t| {
                let mut v = vec![0.01f32; 8];
                for c in t.to_lowercase().chars().filter(char::is_ascii_lowercase) {
                    v[(c as usize - 'a' as usize) % 8] += 1.0;
                }
                let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.into_iter().map(|x| x / n).collect()
            })
            .collect())
    }
}

#[tokio::test]
async fn contract_add_get_and_dedup() {
    for b in backends().await {
        let (label, memory) = (b.label(), b.lexical().await);
        let metadata = meta(json!({"type": "code", "tags": ["btc"]}));
        let first = memory.insert(EMA, metadata.clone()).await.unwrap();
        assert!(first.created, "{label}");
        let got = memory.get(&first.id).await.unwrap();
        assert_eq!((got.content.as_str(), &got.metadata), (EMA, &metadata), "{label}");
        assert_eq!(got.embedding.len(), 512, "{label}");
        let spaced = format!("  {}\n", EMA.replace(' ', "  "));
        let again = memory.insert(&spaced, Metadata::new()).await.unwrap();
        assert_eq!(
            (again.id.as_str(), again.created),
            (first.id.as_str(), false),
            "{label}"
        );
        assert_eq!(
            memory.get(&first.id).await.unwrap().metadata,
            metadata,
            "{label}: untouched"
        );
        let info = memory.describe().await.unwrap();
        assert_eq!((info.backend, info.count), (b.name(), 1), "{label}");
        assert_eq!(info.embedder, Some(LexicalEmbedder::new().identity()), "{label}");
        assert!(
            matches!(memory.get("no-such-id").await, Err(MemoryError::NotFound(_))),
            "{label}"
        );
        assert!(
            matches!(
                memory.add(" \n", Metadata::new()).await,
                Err(MemoryError::EmptyContent)
            ),
            "{label}"
        );
        assert!(
            matches!(
                memory.add("a\0b", Metadata::new()).await,
                Err(MemoryError::NulInText(_))
            ),
            "{label}"
        );
        assert_eq!(
            memory.describe().await.unwrap().count,
            1,
            "{label}: nothing more stored"
        );
    }
}

#[tokio::test]
async fn contract_insert_in_a_named_scope_keeps_it_apart() {
    for b in backends().await {
        let (label, memory) = (b.label(), b.lexical().await);
        let mine = memory.insert(EMA, Metadata::new()).await.unwrap();
        let desk = memory.insert_in("desk-a", EMA, Metadata::new()).await.unwrap();
        assert!(
            desk.created && desk.id != mine.id,
            "{label}: one memory per scope"
        );
        let again = memory.insert_in("desk-a", EMA, Metadata::new()).await.unwrap();
        assert_eq!(
            (again.id.as_str(), again.created),
            (desk.id.as_str(), false),
            "{label}"
        );
        let in_scope = |scope: Option<&str>| {
            with_filters(
                EMA,
                Filters {
                    scope: scope.map(str::to_string),
                    ..Filters::default()
                },
            )
        };
        let ids = |o: SearchOutcome| o.hits.into_iter().map(|m| m.id).collect::<Vec<_>>();
        let desk_hits = ids(memory.search_with(&in_scope(Some("desk-a"))).await.unwrap());
        assert_eq!(desk_hits, std::slice::from_ref(&desk.id), "{label}");
        let own_hits = ids(memory.search_with(&in_scope(None)).await.unwrap());
        assert_eq!(own_hits, std::slice::from_ref(&mine.id), "{label}");
        for blank in ["", "  "] {
            assert!(
                matches!(
                    memory.insert_in(blank, EMA, Metadata::new()).await,
                    Err(MemoryError::InvalidScope(_))
                ),
                "{label}"
            );
        }
    }
}

#[tokio::test]
async fn contract_search_ranks_with_threshold_and_limit() {
    for b in backends().await {
        let (label, memory) = (b.label(), b.lexical().await);
        let ids = five(memory.as_ref()).await;
        let all = memory
            .search("refresh the BTC EMA bars", -1.0, 100)
            .await
            .unwrap();
        assert_eq!(all.len(), 5, "{label}");
        assert_eq!(all[0].id, ids[0], "{label}");
        assert!(
            all.windows(2)
                .all(|w| w[0].relevance_score >= w[1].relevance_score),
            "{label}: best first"
        );
        // The threshold keeps exactly the hits at or above it.
        let cut = (all[1].relevance_score + all[2].relevance_score) / 2.0;
        let kept = memory.search("refresh the BTC EMA bars", cut, 100).await.unwrap();
        assert_eq!(kept.len(), 2, "{label}");
        assert!(kept.iter().all(|m| m.relevance_score >= cut), "{label}");
        assert!(
            memory
                .search("refresh the BTC EMA bars", 0.99, 100)
                .await
                .unwrap()
                .is_empty(),
            "{label}"
        );
        let counted = memory
            .search_with(&SearchRequest {
                threshold: Some(cut),
                mode: SearchMode::Vector,
                ..SearchRequest::new("refresh the BTC EMA bars")
            })
            .await
            .unwrap();
        assert_eq!(counted.hits.len(), 2, "{label}");
        assert_eq!(
            (
                counted.threshold_used,
                counted.below_threshold,
                counted.filtered_out
            ),
            (cut, 3, 0),
            "{label}"
        );
        // The limit keeps the best.
        let two = memory.search("refresh the BTC EMA bars", -1.0, 2).await.unwrap();
        let best: Vec<&str> = all[..2].iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            two.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            best,
            "{label}"
        );
        assert!(memory.search("EMA", -1.0, 0).await.unwrap().is_empty(), "{label}");
        // Bad input is refused.
        assert!(
            matches!(
                memory.search("EMA", 1.5, 5).await,
                Err(MemoryError::InvalidThreshold(_))
            ),
            "{label}"
        );
        assert!(
            matches!(memory.search("  ", 0.0, 5).await, Err(MemoryError::EmptyQuery)),
            "{label}"
        );
        // Lexical: only memories sharing a word, the exact name first; its threshold is relative.
        if b.can().lexical {
            let lexical = memory
                .search_with(&request("gemini quota", SearchMode::Lexical))
                .await
                .unwrap();
            assert_eq!(contents(&lexical), [QUOTA], "{label}");
            let words = memory
                .search_with(&SearchRequest {
                    threshold: Some(1.0),
                    ..request("EMA bars", SearchMode::Lexical)
                })
                .await
                .unwrap();
            assert_eq!(
                words.hits.len(),
                1,
                "{label}: only the best match at a relative threshold of 1"
            );
            assert!(words.below_threshold >= 2, "{label}: {}", words.below_threshold);
        } else {
            b.assert_unsupported(
                memory
                    .search_with(&request("gemini quota", SearchMode::Lexical))
                    .await,
            );
        }
        // Hybrid finds the right one first too.
        let hybrid = memory
            .search_with(&request("tiingo SOL candles", SearchMode::Hybrid))
            .await
            .unwrap();
        assert_eq!(hybrid.hits[0].id, ids[4], "{label}");
        assert!(
            hybrid.hits.iter().all(|m| m.relevance_score >= -1.0),
            "{label}: scores are cosines"
        );
    }
}

#[tokio::test]
async fn contract_every_filter_restricts() {
    for b in backends().await {
        let (label, memory) = (b.label(), b.lexical().await);
        let btc = memory
            .add(
                EMA,
                meta(json!({"task_type": "ema_refresh", "tags": ["btc", "daily"]})),
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let between = Utc::now();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let eth = memory
            .add(SEED, meta(json!({"task_type": "bars", "tags": "eth", "n": 1})))
            .await
            .unwrap();
        let research = b
            .open(Arc::new(LexicalEmbedder::new()), "research")
            .await
            .unwrap();
        let elsewhere = research.add(QUOTA, Metadata::new()).await.unwrap();
        let ids = |o: SearchOutcome| o.hits.into_iter().map(|m| m.id).collect::<Vec<_>>();
        let search = |filters: Filters| {
            let memory = memory.clone();
            async move {
                memory
                    .search_with(&with_filters("EMA seed bars refresh", filters))
                    .await
                    .unwrap()
            }
        };
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let all = search(Filters::default()).await;
        assert_eq!(all.hits.len(), 2, "{label}: the other scope is not searched");
        assert_eq!(all.filtered_out, 1, "{label}");
        let eq = |v: serde_json::Value| Filters {
            metadata_eq: meta(v),
            ..Filters::default()
        };
        assert_eq!(
            ids(search(eq(json!({"task_type": "ema_refresh"}))).await),
            [btc.as_str()],
            "{label}"
        );
        assert_eq!(ids(search(eq(json!({"n": 1}))).await), [eth.as_str()], "{label}");
        assert!(
            ids(search(eq(json!({"n": "1"}))).await).is_empty(),
            "{label}: JSON values compare exactly"
        );
        assert!(
            ids(search(eq(json!({"tags": ["btc"]}))).await).is_empty(),
            "{label}: equality, not containment"
        );
        let any = |t: &[&str]| Filters {
            tags_any: tags(t),
            ..Filters::default()
        };
        assert_eq!(
            ids(search(any(&["eth"])).await),
            [eth.as_str()],
            "{label}: a tags string is one tag"
        );
        assert_eq!(
            ids(search(any(&["sol", "daily"])).await),
            [btc.as_str()],
            "{label}"
        );
        assert!(
            ids(search(any(&["dai"])).await).is_empty(),
            "{label}: whole tags only"
        );
        let all_of = |t: &[&str]| Filters {
            tags_all: tags(t),
            ..Filters::default()
        };
        assert_eq!(
            ids(search(all_of(&["daily", "btc"])).await),
            [btc.as_str()],
            "{label}"
        );
        assert!(ids(search(all_of(&["daily", "eth"])).await).is_empty(), "{label}");
        let since = search(Filters {
            since: Some(between),
            ..Filters::default()
        })
        .await;
        assert_eq!(ids(since.clone()), [eth.as_str()], "{label}");
        assert_eq!(since.filtered_out, 2, "{label}");
        let until = Filters {
            until: Some(between),
            ..Filters::default()
        };
        assert_eq!(ids(search(until).await), [btc.as_str()], "{label}");
        let scoped = Filters {
            scope: Some("research".into()),
            ..Filters::default()
        };
        let found = memory
            .search_with(&with_filters("gemini quota", scoped))
            .await
            .unwrap();
        assert_eq!(ids(found), [elsewhere.as_str()], "{label}: another scope by name");
        assert_eq!(
            ids(research
                .search_with(&request("quota", SearchMode::Vector))
                .await
                .unwrap()),
            [elsewhere.as_str()],
            "{label}: a manager opened in a scope searches it"
        );
        // The same content in another scope is another memory.
        let copy = research.insert(EMA, Metadata::new()).await.unwrap();
        assert!(copy.created && copy.id != btc, "{label}");
        // Deprecated memories are left out unless asked for.
        memory.deprecate(&btc, "superseded").await.unwrap();
        assert_eq!(ids(search(Filters::default()).await), [eth.as_str()], "{label}");
        let with_old = search(Filters {
            include_deprecated: true,
            ..Filters::default()
        })
        .await;
        assert_eq!(with_old.hits.len(), 2, "{label}");
        // Filters apply in every mode.
        for mode in [SearchMode::Lexical, SearchMode::Hybrid] {
            let r = SearchRequest {
                filters: any(&["eth"]),
                ..request("EMA seed bars refresh", mode)
            };
            if mode == SearchMode::Lexical && !b.can().lexical {
                b.assert_unsupported(memory.search_with(&r).await);
                continue;
            }
            assert_eq!(
                ids(memory.search_with(&r).await.unwrap()),
                [eth.as_str()],
                "{label} {mode:?}"
            );
        }
    }
}

#[tokio::test]
async fn contract_update_deprecate_delete_and_history() {
    for b in backends().await {
        let (label, memory) = (b.label(), b.lexical().await);
        let ids = five(memory.as_ref()).await;
        let weekly = &ids[2];
        let updated = memory
            .update(
                weekly,
                Some("monthly candles settle on the first trading day"),
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            updated.content, "monthly candles settle on the first trading day",
            "{label}"
        );
        let found = memory
            .search_with(&request("monthly candles settle", SearchMode::Vector))
            .await
            .unwrap();
        assert_eq!(found.hits[0].id, *weekly, "{label}: found by its new content");
        let old_words = request("weekly Sunday midnight", SearchMode::Lexical);
        if b.can().lexical {
            let lexical = memory.search_with(&old_words).await.unwrap();
            assert!(
                lexical.hits.iter().all(|m| m.id != *weekly),
                "{label}: not by its old content"
            );
        } else {
            b.assert_unsupported(memory.search_with(&old_words).await);
        }
        let metadata = meta(json!({"type": "calendar"}));
        let again = memory.update(weekly, None, Some(metadata.clone())).await.unwrap();
        assert_eq!(
            (again.metadata, again.content.as_str()),
            (metadata, updated.content.as_str()),
            "{label}"
        );
        match memory.update(weekly, Some(QUOTA), None).await {
            Err(MemoryError::DuplicateContent { existing, .. }) => assert_eq!(existing, ids[1], "{label}"),
            other => panic!("{label}: {other:?}"),
        }
        assert!(
            matches!(
                memory.update("nope", Some("x"), None).await,
                Err(MemoryError::NotFound(_))
            ),
            "{label}"
        );
        assert!(
            matches!(
                memory.update(weekly, Some(" "), None).await,
                Err(MemoryError::EmptyContent)
            ),
            "{label}"
        );

        // Deprecate: kept and fetchable, hidden from searches unless asked for.
        memory
            .deprecate(&ids[0], "replaced by the new refresh")
            .await
            .unwrap();
        let ema = request("EMA refresh BTC ETH", SearchMode::Vector);
        assert!(
            memory
                .search_with(&ema)
                .await
                .unwrap()
                .hits
                .iter()
                .all(|m| m.id != ids[0]),
            "{label}"
        );
        let mut everything = ema.clone();
        everything.filters.include_deprecated = true;
        assert_eq!(
            memory.search_with(&everything).await.unwrap().hits[0].id,
            ids[0],
            "{label}"
        );
        assert_eq!(memory.get(&ids[0]).await.unwrap().content, EMA, "{label}");
        assert!(
            matches!(memory.deprecate("nope", "x").await, Err(MemoryError::NotFound(_))),
            "{label}"
        );

        // Delete: gone, its history kept.
        memory.delete(&ids[4]).await.unwrap();
        assert!(
            matches!(memory.get(&ids[4]).await, Err(MemoryError::NotFound(_))),
            "{label}"
        );
        let tiingo = memory
            .search_with(&request("tiingo SOL candles", SearchMode::Hybrid))
            .await
            .unwrap();
        assert!(tiingo.hits.iter().all(|m| m.id != ids[4]), "{label}");
        assert!(
            matches!(memory.delete(&ids[4]).await, Err(MemoryError::NotFound(_))),
            "{label}"
        );
        assert_eq!(memory.describe().await.unwrap().count, 4, "{label}");

        if !b.can().history {
            b.assert_unsupported(memory.history(weekly).await);
            continue;
        }
        let events = |h: Vec<talab_memory::MemoryEvent>| h.into_iter().map(|e| e.event).collect::<Vec<_>>();
        let history = memory.history(weekly).await.unwrap();
        assert_eq!(history[1].detail["previous_content"], WEEKLY, "{label}");
        assert_eq!(history[1].detail["content_changed"], true, "{label}");
        assert_eq!(history[2].detail["content_changed"], false, "{label}");
        assert_eq!(events(history), ["add", "update", "update"], "{label}");
        let deprecated = memory.history(&ids[0]).await.unwrap();
        assert_eq!(
            deprecated[1].detail["reason"], "replaced by the new refresh",
            "{label}"
        );
        assert_eq!(events(deprecated), ["add", "deprecate"], "{label}");
        let deleted = memory.history(&ids[4]).await.unwrap();
        assert_eq!(deleted[1].detail["content"], TIINGO, "{label}");
        assert!(deleted[0].at <= deleted[1].at, "{label}");
        assert_eq!(events(deleted), ["add", "delete"], "{label}");
        assert!(
            matches!(memory.history("nope").await, Err(MemoryError::NotFound(_))),
            "{label}"
        );
    }
}

#[tokio::test]
async fn contract_context_and_list() {
    for b in backends().await {
        let (label, memory) = (b.label(), b.lexical().await);
        let ids = five(memory.as_ref()).await;
        let asked = vec![
            ids[3].clone(),
            "no-such-id".into(),
            ids[0].clone(),
            ids[3].clone(),
        ];
        let context = memory.get_context(&asked).await.unwrap();
        assert!(
            context.starts_with("# Relevant memories (2)\n"),
            "{label}: {context}"
        );
        let (seed, ema) = (context.find(SEED).unwrap(), context.find(EMA).unwrap());
        assert!(seed < ema, "{label}: in the order asked");
        assert!(
            context.ends_with("Unknown memory ids (not found): no-such-id\n"),
            "{label}: {context}"
        );
        let first = memory.list(0, 3).await.unwrap();
        assert_eq!(
            (first.total, first.memories.len(), first.next_offset()),
            (5, 3, Some(3)),
            "{label}"
        );
        let rest = memory.list(3, 3).await.unwrap();
        assert_eq!((rest.memories.len(), rest.next_offset()), (2, None), "{label}");
        let listed: Vec<String> = first
            .memories
            .iter()
            .chain(&rest.memories)
            .map(|m| m.id.clone())
            .collect();
        assert_eq!(listed, ids, "{label}: oldest first");
        let past = memory.list(10, 3).await.unwrap();
        assert_eq!((past.total, past.memories.len()), (5, 0), "{label}");
    }
}

#[tokio::test]
async fn contract_survives_a_restart() {
    for b in backends().await {
        let label = b.label();
        let memory = b.lexical().await;
        let ids = five(memory.as_ref()).await;
        memory.deprecate(&ids[1], "old").await.unwrap();
        memory
            .update(&ids[2], None, Some(meta(json!({"type": "calendar"}))))
            .await
            .unwrap();
        let query = request("refresh the BTC EMA bars", SearchMode::Hybrid);
        let before = memory.search_with(&query).await.unwrap();
        let listed = memory.list(0, 10).await.unwrap();
        drop(memory);

        let reopened = b.lexical().await;
        assert_eq!(reopened.list(0, 10).await.unwrap(), listed, "{label}");
        let after = reopened.search_with(&query).await.unwrap();
        assert_eq!(contents(&after), contents(&before), "{label}");
        assert_eq!(after.hits.len(), 4, "{label}: the deprecated one stays hidden");
        assert_eq!(
            reopened.get(&ids[2]).await.unwrap().metadata["type"],
            "calendar",
            "{label}"
        );
        if b.can().history {
            assert_eq!(reopened.history(&ids[1]).await.unwrap().len(), 2, "{label}");
        } else {
            b.assert_unsupported(reopened.history(&ids[1]).await);
        }
        let again = reopened.insert(EMA, Metadata::new()).await.unwrap();
        assert_eq!(
            (again.id.as_str(), again.created),
            (ids[0].as_str(), false),
            "{label}"
        );
    }
}

#[tokio::test]
async fn contract_another_embedder_is_refused_and_nothing_changes() {
    for b in backends().await {
        let label = b.label();
        let memory = b.lexical().await;
        five(memory.as_ref()).await;
        let listed = memory.list(0, 10).await.unwrap();
        drop(memory);
        let err = b
            .open(Arc::new(Letters), "default")
            .await
            .err()
            .unwrap_or_else(|| panic!("{label}: a store of 512-d vectors opened with an 8-d embedder"));
        let message = err.to_string();
        for needle in [
            "lexical-hash@1 (512 dims)",
            "test-letters@2 (8 dims)",
            "nothing was changed",
        ] {
            assert!(message.contains(needle), "{label}: {message}");
        }
        assert!(!message.contains('\n'), "{label}: one line: {message}");
        let reopened = b.lexical().await;
        assert_eq!(reopened.list(0, 10).await.unwrap(), listed, "{label}");
        let hits = reopened.search("gemini quota", 0.1, 5).await.unwrap();
        assert_eq!(hits[0].content, QUOTA, "{label}");
    }
}

#[tokio::test]
async fn contract_minilm_ranks_paraphrases() {
    let Some(model) = crate::util::minilm() else {
        return;
    };
    for b in backends().await {
        let label = b.label();
        let memory = b.open(Arc::new(model.clone()), "default").await.unwrap();
        let ids = five(memory.as_ref()).await;
        for (query, want) in [
            ("the moving averages were recomputed for bitcoin", 0),
            ("we ran out of API calls on the language model", 1),
            ("missing hourly data for solana", 4),
        ] {
            for mode in [SearchMode::Vector, SearchMode::Hybrid] {
                let found = memory.search_with(&request(query, mode)).await.unwrap();
                assert_eq!(found.hits[0].id, ids[want], "{label} {mode:?}: {query}");
            }
        }
        let default = memory
            .search_with(&SearchRequest::new(
                "we ran out of API calls on the language model",
            ))
            .await
            .unwrap();
        assert_eq!(default.threshold_used, model.default_threshold(), "{label}");
    }
}
