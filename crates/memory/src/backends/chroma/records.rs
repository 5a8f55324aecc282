//! The record calls on one collection (`add`, `update`, `delete`, `get`, `query`, `count`), typed.
//!
//! Chroma answers some requests as success when nothing happened: `add` with an id it already has
//! keeps the old record, `update` and `delete` of an unknown id succeed. So the manager reads
//! before it writes where the difference matters (not found, already there); this module only
//! carries the calls.

use std::collections::HashMap;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::Client;
use super::record::{ChromaMetadata, Stored, from_chroma};
use crate::MemoryError;

/// One collection of a Chroma server.
#[derive(Clone)]
pub struct Collection {
    pub client: Client,
    /// Chroma's id of the collection (its URL segment).
    pub id: String,
}

#[derive(Deserialize)]
struct GetResponse {
    ids: Vec<String>,
    #[serde(default)]
    documents: Option<Vec<Option<String>>>,
    #[serde(default)]
    metadatas: Option<Vec<Option<ChromaMetadata>>>,
    #[serde(default)]
    embeddings: Option<Vec<Option<Vec<f32>>>>,
}

#[derive(Deserialize)]
struct QueryResponse {
    ids: Vec<Vec<String>>,
    #[serde(default)]
    distances: Option<Vec<Vec<Option<f32>>>>,
}

/// A new or changed record.
pub struct Write<'a> {
    pub id: &'a str,
    pub embedding: &'a [f32],
    pub document: &'a str,
    pub metadata: ChromaMetadata,
}

impl Collection {
    fn path(&self, op: &str) -> String {
        format!("/collections/{}/{op}", self.id)
    }

    async fn post<T: serde::de::DeserializeOwned>(&self, op: &str, body: Value) -> Result<T, MemoryError> {
        self.client
            .expect(Method::POST, &self.path(op), Some(&body))
            .await
    }

    /// Adds a record (Chroma keeps the old one if the id exists: ids here are new UUIDs).
    pub async fn add(&self, record: Write<'_>) -> Result<(), MemoryError> {
        self.post::<Value>("add", body(record)).await.map(drop)
    }

    /// Changes a record: its embedding, document, and the metadata keys given (null removes one).
    pub async fn update(&self, record: Write<'_>) -> Result<(), MemoryError> {
        self.post::<Value>("update", body(record)).await.map(drop)
    }

    /// Merges `metadata` into a record's, leaving its embedding and document.
    pub async fn update_metadata(&self, id: &str, metadata: ChromaMetadata) -> Result<(), MemoryError> {
        let change = json!({ "ids": [id], "metadatas": [metadata] });
        self.post::<Value>("update", change).await.map(drop)
    }

    /// Removes records.
    pub async fn delete(&self, ids: &[&str]) -> Result<(), MemoryError> {
        self.post::<Value>("delete", json!({ "ids": ids }))
            .await
            .map(drop)
    }

    /// How many records the collection holds.
    pub async fn count(&self) -> Result<u64, MemoryError> {
        self.client.expect(Method::GET, &self.path("count"), None).await
    }

    /// The records with these ids, in full, by id (unknown ids are missing).
    pub async fn records(&self, ids: &[&str]) -> Result<HashMap<String, Stored>, MemoryError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let found = self
            .get(json!({ "ids": ids, "include": ["documents", "metadatas", "embeddings"] }))
            .await?;
        self.decode(found)
            .map(|all| all.into_iter().map(|s| (s.memory.id.clone(), s)).collect())
    }

    /// The ids and metadata of the records passing `where_` (no documents or vectors), or of
    /// every record with `None`.
    pub async fn metadata(
        &self,
        where_: Option<&Value>,
    ) -> Result<Vec<(String, ChromaMetadata)>, MemoryError> {
        let mut request = json!({ "include": ["metadatas"] });
        if let Some(w) = where_ {
            request["where"] = w.clone();
        }
        let found = self.get(request).await?;
        let metadatas = found.metadatas.unwrap_or_default();
        Ok(found
            .ids
            .into_iter()
            .zip(metadatas.into_iter().chain(std::iter::repeat(None)))
            .map(|(id, m)| (id, m.unwrap_or_default()))
            .collect())
    }

    /// The ids of the records passing `where_`.
    pub async fn ids(&self, where_: &Value) -> Result<Vec<String>, MemoryError> {
        Ok(self.get(json!({ "where": where_, "include": [] })).await?.ids)
    }

    /// The `n` records nearest to `vector` among those passing `where_`, nearest first, with
    /// their cosine distances.
    pub async fn query(
        &self,
        vector: &[f32],
        where_: &Value,
        n: usize,
    ) -> Result<Vec<(String, f32)>, MemoryError> {
        let request = json!({
            "query_embeddings": [vector],
            "n_results": n,
            "where": where_,
            "include": ["distances"],
        });
        let found: QueryResponse = self.post("query", request).await?;
        let ids = found.ids.into_iter().next().unwrap_or_default();
        let distances = found
            .distances
            .and_then(|d| d.into_iter().next())
            .unwrap_or_default();
        ids.into_iter()
            .zip(distances.into_iter().chain(std::iter::repeat(None)))
            .map(|(id, d)| match d {
                Some(d) => Ok((id, d)),
                None => Err(self
                    .client
                    .fail(format!("the server gave no distance for record {id}"))),
            })
            .collect()
    }

    async fn get(&self, request: Value) -> Result<GetResponse, MemoryError> {
        self.post("get", request).await
    }

    fn decode(&self, found: GetResponse) -> Result<Vec<Stored>, MemoryError> {
        let n = found.ids.len();
        let mut documents = found.documents.unwrap_or_default().into_iter();
        let mut metadatas = found.metadatas.unwrap_or_default().into_iter();
        let mut embeddings = found.embeddings.unwrap_or_default().into_iter();
        let mut out = Vec::with_capacity(n);
        for id in found.ids {
            let stored = from_chroma(
                id,
                documents.next().flatten(),
                metadatas.next().flatten(),
                embeddings.next().flatten(),
            )
            .map_err(|why| {
                self.client
                    .fail(format!("{why}; keep talab's collections for talab alone"))
            })?;
            out.push(stored);
        }
        Ok(out)
    }
}

fn body(record: Write<'_>) -> Value {
    json!({
        "ids": [record.id],
        "embeddings": [record.embedding],
        "documents": [record.document],
        "metadatas": [record.metadata],
    })
}
