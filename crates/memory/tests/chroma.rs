//! What only the Chroma backend has to show beyond the shared contract (`contract.rs`): its
//! errors name `chroma`, where and what to do; a collection of another embedder, another
//! dimension or not talab's is refused with nothing written; the record layout keeps metadata
//! losslessly and filters compare JSON values exactly (which Chroma's own `$eq` does not); a
//! filter it cannot express and a lexical search are refused; concurrent adds of one content end
//! as one memory; memories survive a restart of the server on the same data.

use std::sync::Arc;

use serde_json::{Value, json};
use talab_db::testing::chroma::{ChromaServer, ChromaTest, chroma};
use talab_memory::backends::chroma::{ChromaConfig, ChromaMemory, MAX_FILTERABLE};
use talab_memory::embed::lexical::LexicalEmbedder;
use talab_memory::search::{Filters, SearchMode, SearchRequest};
use talab_memory::{Embedder, MemoryError, MemoryManager, Metadata};

use crate::contract::Letters;

fn lexical() -> Arc<dyn Embedder> {
    Arc::new(LexicalEmbedder::new())
}

fn config(c: &ChromaTest) -> ChromaConfig {
    ChromaConfig::new(c.url()).with_collection(c.collection())
}

async fn open(c: &ChromaTest) -> ChromaMemory {
    ChromaMemory::connect(&config(c), lexical()).await.unwrap()
}

fn meta(value: Value) -> Metadata {
    value.as_object().expect("a JSON object").clone()
}

/// The one-line message of a refused open.
async fn refused(config: &ChromaConfig, embedder: Arc<dyn Embedder>) -> String {
    let err = ChromaMemory::connect(config, embedder)
        .await
        .err()
        .unwrap_or_else(|| panic!("{config:?} opened"));
    assert!(matches!(err, MemoryError::Backend { .. }), "{err:?}");
    let message = err.to_string();
    assert!(!message.contains('\n'), "one line: {message}");
    assert!(message.starts_with("chroma memory at http://"), "{message}");
    message
}

/// Chroma's own API, for what talab does not do: make foreign collections, read raw records.
struct Raw {
    http: reqwest::Client,
    base: String,
}

impl Raw {
    fn new(c: &ChromaTest) -> Self {
        Raw {
            http: reqwest::Client::new(),
            base: format!(
                "{}/api/v2/tenants/default_tenant/databases/default_database",
                c.url()
            ),
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.unwrap()
    }

    /// Creates a collection; returns its id.
    async fn create(&self, name: &str, configuration: Value, metadata: Value) -> String {
        let body = json!({"name": name, "configuration": configuration, "metadata": metadata});
        self.post("/collections", body).await["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn count(&self, id: &str) -> u64 {
        let url = format!("{}/collections/{id}/count", self.base);
        self.http.get(url).send().await.unwrap().json().await.unwrap()
    }
}

#[tokio::test]
async fn unreachable_server_and_missing_tenant_or_database_say_where_and_what_to_do() {
    let message = refused(&ChromaConfig::new("http://127.0.0.1:1"), lexical()).await;
    assert!(message.contains("127.0.0.1:1 tenant default_tenant"), "{message}");
    assert!(message.contains("cannot reach the server"), "{message}");
    assert!(message.contains("start it (`chroma run"), "{message}");
    assert!(message.contains("correct the host and port"), "{message}");
    let no_scheme = ChromaMemory::connect(&ChromaConfig::new("127.0.0.1:8000"), lexical()).await;
    let message = no_scheme.err().expect("no scheme, no store").to_string();
    assert!(
        message.starts_with("chroma memory at 127.0.0.1:8000"),
        "{message}"
    );
    assert!(message.contains("http://HOST:PORT"), "{message}");

    let Some(c) = chroma() else {
        return;
    };
    let message = refused(&config(&c).with_tenant("no_such_tenant"), lexical()).await;
    assert!(message.contains("has no tenant no_such_tenant"), "{message}");
    assert!(message.contains("name an existing one"), "{message}");
    let message = refused(&config(&c).with_database("no_such_db"), lexical()).await;
    assert!(
        message.contains("tenant default_tenant has no database no_such_db"),
        "{message}"
    );
    let message = refused(&config(&c).with_tenant("a/b"), lexical()).await;
    assert!(message.contains("invalid tenant name"), "{message}");
    let message = refused(&config(&c).with_collection("x"), lexical()).await;
    assert!(message.contains("invalid collection name"), "{message}");
}

#[tokio::test]
async fn a_collection_of_another_embedder_or_dimension_or_not_talabs_is_refused_unchanged() {
    let Some(c) = chroma() else {
        return;
    };
    let raw = Raw::new(&c);
    let memory = open(&c).await;
    memory.add("EMA refresh for BTC", Metadata::new()).await.unwrap();
    memory
        .add("gemini quota exhausted", Metadata::new())
        .await
        .unwrap();
    let message = refused(&config(&c), Arc::new(Letters)).await;
    assert!(message.contains("lexical-hash@1 (512 dims)"), "{message}");
    assert!(message.contains("nothing was changed"), "{message}");
    assert_eq!(memory.count().await.unwrap(), 2, "nothing written");

    // Recorded as the lexical embedder's, but holding 8-long vectors.
    let lying = format!("{}_lying", c.collection());
    let identity = LexicalEmbedder::new().identity();
    let id = raw
        .create(
            &lying,
            json!({"hnsw": {"space": "cosine"}}),
            json!({"talab.embedder_name": identity.name, "talab.embedder_revision": identity.revision,
                   "talab.dim": identity.dim}),
        )
        .await;
    raw.post(
        &format!("/collections/{id}/add"),
        json!({"ids": ["x"], "embeddings": [[1.0, 0, 0, 0, 0, 0, 0, 0]]}),
    )
    .await;
    let message = refused(&config(&c).with_collection(&lying), lexical()).await;
    assert!(
        message.contains("its vectors have 8 dimensions, not the recorded 512"),
        "{message}"
    );
    assert!(message.contains("not a talab memory store"), "{message}");
    assert_eq!(raw.count(&id).await, 1, "nothing written");

    // Someone else's collections: no talab metadata, or another distance.
    let foreign = format!("{}_foreign", c.collection());
    let id = raw.create(&foreign, json!({}), json!({"owner": "someone"})).await;
    let message = refused(&config(&c).with_collection(&foreign), lexical()).await;
    assert!(message.contains("names no talab embedder"), "{message}");
    assert_eq!(raw.count(&id).await, 0);
    let l2 = format!("{}_l2", c.collection());
    raw.create(
        &l2,
        json!({"hnsw": {"space": "l2"}}),
        json!({"talab.embedder_name": identity.name, "talab.embedder_revision": identity.revision,
               "talab.dim": identity.dim}),
    )
    .await;
    let message = refused(&config(&c).with_collection(&l2), lexical()).await;
    assert!(message.contains("its distance is l2, not cosine"), "{message}");
}

#[tokio::test]
async fn records_keep_metadata_losslessly_and_filters_compare_json_exactly() {
    let Some(c) = chroma() else {
        return;
    };
    let memory = open(&c).await;
    let int = memory
        .add("EMA one", meta(json!({"n": 1, "o": {"b": 1, "a": [1, "x"]}})))
        .await
        .unwrap();
    let float = memory
        .add("EMA one point zero", meta(json!({"n": 1.0})))
        .await
        .unwrap();
    let text = memory
        .add(
            "EMA the string one",
            meta(json!({"n": "1", "tags": ["a", 2, "b"]})),
        )
        .await
        .unwrap();
    assert_eq!(
        memory.get(&int).await.unwrap().metadata,
        meta(json!({"n": 1, "o": {"a": [1, "x"], "b": 1}}))
    );
    let ids = |filters: Filters| {
        let memory = &memory;
        async move {
            let request = SearchRequest {
                threshold: Some(-1.0),
                limit: 10,
                mode: SearchMode::Vector,
                filters,
                ..SearchRequest::new("EMA one")
            };
            let mut ids: Vec<String> = memory
                .search_with(&request)
                .await
                .unwrap()
                .hits
                .into_iter()
                .map(|m| m.id)
                .collect();
            ids.sort();
            ids
        }
    };
    let eq = |v: Value| Filters {
        metadata_eq: meta(v),
        ..Filters::default()
    };
    // Chroma's `$eq` finds 1 equal to 1.0; talab's filters do not.
    assert_eq!(ids(eq(json!({"n": 1}))).await, [int.as_str()]);
    assert_eq!(ids(eq(json!({"n": 1.0}))).await, [float.as_str()]);
    assert_eq!(ids(eq(json!({"n": "1"}))).await, [text.as_str()]);
    assert_eq!(
        ids(eq(json!({"o": {"a": [1, "x"], "b": 1}}))).await,
        [int.as_str()],
        "objects compare whatever their key order"
    );
    assert!(ids(eq(json!({"o": {"a": [1], "b": 1}}))).await.is_empty());
    let tagged = Filters {
        tags_all: vec!["a".into(), "b".into()],
        ..Filters::default()
    };
    assert_eq!(ids(tagged).await, [text.as_str()]);
    let number_tag = Filters {
        tags_any: vec!["2".into()],
        ..Filters::default()
    };
    assert!(ids(number_tag).await.is_empty(), "a number is not a tag");

    // The record layout the module documents.
    let raw = Raw::new(&c);
    let collection: Value = reqwest::get(format!("{}/collections/{}", raw.base, c.collection()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = collection["id"].as_str().unwrap();
    let got = raw
        .post(
            &format!("/collections/{id}/get"),
            json!({"ids": [text], "include": ["metadatas", "documents"]}),
        )
        .await;
    let record = &got["metadatas"][0];
    assert_eq!(got["documents"][0], "EMA the string one");
    assert_eq!(record["talab.scope"], "default");
    assert_eq!(record["talab.tags"], json!(["a", "b"]));
    assert_eq!(record["meta.n"], "\"1\"");
    assert_eq!(record["talab.deprecated"], false);
    assert!(record["talab.created_us"].is_i64(), "{record}");
    assert_eq!(
        serde_json::from_str::<Value>(record["talab.metadata"].as_str().unwrap()).unwrap(),
        json!({"n": "1", "tags": ["a", 2, "b"]})
    );
}

#[tokio::test]
async fn dates_filter_on_the_stored_creation_time() {
    let Some(c) = chroma() else {
        return;
    };
    let memory = open(&c).await;
    let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let old = memory
        .insert_at("EMA of 2020", Metadata::new(), at("2020-05-01T00:00:00.000001Z"))
        .await
        .unwrap()
        .id;
    let new = memory
        .insert_at("EMA of 2024", Metadata::new(), at("2024-05-01T00:00:00Z"))
        .await
        .unwrap()
        .id;
    let found = |since: Option<&str>, until: Option<&str>| {
        let memory = &memory;
        let filters = Filters {
            since: since.map(at),
            until: until.map(at),
            ..Filters::default()
        };
        async move {
            let request = SearchRequest {
                threshold: Some(-1.0),
                limit: 10,
                mode: SearchMode::Vector,
                filters,
                ..SearchRequest::new("EMA")
            };
            let outcome = memory.search_with(&request).await.unwrap();
            let ids: Vec<String> = outcome.hits.into_iter().map(|m| m.id).collect();
            (ids, outcome.filtered_out)
        }
    };
    assert_eq!(
        found(Some("2020-05-01T00:00:00.000001Z"), None).await,
        (vec![new.clone(), old.clone()], 0),
        "since is inclusive, to the microsecond"
    );
    assert_eq!(
        found(Some("2020-05-01T00:00:00.000002Z"), None).await,
        (vec![new.clone()], 1)
    );
    assert_eq!(
        found(None, Some("2024-05-01T00:00:00Z")).await,
        (vec![old.clone()], 1),
        "until is exclusive"
    );
    assert_eq!(
        memory.get(&old).await.unwrap().created_at,
        at("2020-05-01T00:00:00.000001Z")
    );
}

#[tokio::test]
async fn a_filter_chroma_cannot_express_and_a_lexical_search_are_refused() {
    let Some(c) = chroma() else {
        return;
    };
    let memory = open(&c).await;
    let long = "y".repeat(MAX_FILTERABLE);
    let id = memory
        .add("a note with a long field", meta(json!({"long": long})))
        .await
        .unwrap();
    assert_eq!(
        memory.get(&id).await.unwrap().metadata["long"],
        long,
        "stored whole"
    );
    let request = SearchRequest {
        threshold: Some(-1.0),
        filters: Filters {
            metadata_eq: meta(json!({"long": long})),
            ..Filters::default()
        },
        mode: SearchMode::Vector,
        ..SearchRequest::new("note")
    };
    match memory.search_with(&request).await {
        Err(MemoryError::InvalidSearch(message)) => {
            assert!(message.contains("chroma backend cannot filter"), "{message}");
            assert!(message.contains(&format!("up to {MAX_FILTERABLE}")), "{message}");
            assert!(message.contains("nothing was searched"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let lexical = SearchRequest {
        mode: SearchMode::Lexical,
        ..SearchRequest::new("note")
    };
    let message = memory.search_with(&lexical).await.unwrap_err().to_string();
    assert!(
        message.starts_with("the chroma memory backend cannot rank memories by their words"),
        "{message}"
    );
    assert!(message.contains("use vector or hybrid"), "{message}");
    let history = memory.history(&id).await.unwrap_err().to_string();
    assert!(history.contains("Chroma keeps none"), "{history}");

    // Hybrid is the vector ranking, hit for hit.
    memory.add("EMA refresh for BTC", Metadata::new()).await.unwrap();
    memory
        .add("gemini quota exhausted", Metadata::new())
        .await
        .unwrap();
    let by = |mode| SearchRequest {
        threshold: Some(-1.0),
        mode,
        ..SearchRequest::new("EMA quota note")
    };
    let hybrid = memory.search_with(&by(SearchMode::Hybrid)).await.unwrap();
    let vector = memory.search_with(&by(SearchMode::Vector)).await.unwrap();
    assert_eq!(hybrid, vector);
    assert_eq!(hybrid.hits.len(), 3);
}

#[tokio::test]
async fn concurrent_adds_of_one_content_end_as_one_memory() {
    let Some(c) = chroma() else {
        return;
    };
    let first = open(&c).await;
    for round in 0..3 {
        let note = format!("the same note from six writers, round {round}");
        let adds: Vec<_> = (0..6)
            .map(|_| {
                let (config, note) = (config(&c), note.clone());
                tokio::spawn(async move {
                    let memory = ChromaMemory::connect(&config, lexical()).await.unwrap();
                    memory.insert(&note, Metadata::new()).await.unwrap()
                })
            })
            .collect();
        let mut results = Vec::new();
        for add in adds {
            results.push(add.await.unwrap());
        }
        let id = &results[0].id;
        assert!(
            results.iter().all(|r| &r.id == id),
            "round {round}: one id for all"
        );
        assert_eq!(
            results.iter().filter(|r| r.created).count(),
            1,
            "round {round}: one says it created it"
        );
        assert_eq!(first.count().await.unwrap(), round + 1, "round {round}");
        assert_eq!(first.get(id).await.unwrap().content, note);
    }
}

#[tokio::test]
async fn memories_survive_a_restart_of_the_server_on_the_same_data() {
    if chroma().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = ChromaServer::start(&data).unwrap();
    let memory = ChromaMemory::connect(&ChromaConfig::new(server.url()), lexical())
        .await
        .unwrap();
    let ema = memory
        .add("EMA refresh for BTC", meta(json!({"tags": ["btc"]})))
        .await
        .unwrap();
    let quota = memory
        .add("gemini quota exhausted", Metadata::new())
        .await
        .unwrap();
    memory.deprecate(&quota, "old").await.unwrap();
    let listed = memory.list(0, 10).await.unwrap();
    drop(memory);
    let old_url = server.url().to_string();
    drop(server);
    assert!(
        ChromaMemory::connect(&ChromaConfig::new(&old_url), lexical())
            .await
            .is_err(),
        "the server is down"
    );

    let server = ChromaServer::start(&data).unwrap();
    let reopened = ChromaMemory::connect(&ChromaConfig::new(server.url()), lexical())
        .await
        .unwrap();
    assert_eq!(reopened.list(0, 10).await.unwrap(), listed);
    let found = reopened.search("refresh EMA", -1.0, 10).await.unwrap();
    assert_eq!(
        found.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        [ema.as_str()],
        "the deprecated one stays hidden"
    );
    let again = reopened
        .insert("EMA refresh for BTC", Metadata::new())
        .await
        .unwrap();
    assert_eq!((again.id.as_str(), again.created), (ema.as_str(), false));
}
