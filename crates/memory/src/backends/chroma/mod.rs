//! `ChromaMemory`: memories in a ChromaDB collection, searched by the Chroma server.
//!
//! Why a Chroma backend: teams that already run Chroma for their vectors can keep talab's
//! memories there, shared by processes and machines, with the nearest-neighbour search in the
//! server. talab computes every embedding itself (the [`Embedder`] given) and hands Chroma the
//! vectors, so the store and the queries always agree on the model; the collection records which
//! embedder made its vectors and an open with another one is refused, nothing written
//! ([`collection`]).
//!
//! It speaks Chroma's HTTP API v2 (`/api/v2/tenants/{t}/databases/{d}/collections/…`, Chroma 1.x;
//! tested against `chroma run` of PyPI's chromadb 1.5.9) through [`client`]. How a memory is laid
//! out in a record (content as the document, talab's metadata as JSON text plus filterable flat
//! copies, tags, scope, times, deprecation): [`record`]. Filters become a Chroma `where`
//! ([`filter`]); searches: [`search`].
//!
//! What it keeps of the embedded store's contract: dedup per scope by content hash (adding the
//! same normalised content returns the first id, `created: false`), get, update (re-embedded;
//! content another memory of the scope holds is refused), deprecate, delete, list (oldest first),
//! describe, every search filter, the cosine threshold, the shared context renderer.
//!
//! What it does not have, said as [`MemoryError::Unsupported`], never silently done otherwise:
//! - **history**: Chroma keeps no record of changes, and no transaction could write one together
//!   with the change;
//! - **lexical search**: Chroma has no text ranking (its `where_document` `$contains` is a
//!   case-sensitive substring test, not a score); **hybrid** ranks by the vector alone here (the
//!   cosine being hybrid's score anyway), as [`search`] says.
//!
//! Chroma has no transactions or unique constraints, but its `add` keeps the record an id already
//! has: a new memory's id is derived from its scope and content hash, so concurrent adds of the
//! same content write one record, and each reads back whether it was its own
//! ([`ChromaMemory::insert_at`]). What stays unguarded: an update racing an add or another update
//! to the same content can leave two memories with it.

mod client;
mod collection;
mod filter;
mod record;
mod records;
mod search;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::context::render_context;
use crate::model::{now_micros, unique_ids};
use crate::search::{SearchMode, SearchOutcome, SearchRequest};
use crate::store::DEFAULT_SCOPE;
use crate::{
    BackendInfo, Embedder, EmbedderIdentity, Inserted, Memory, MemoryError, MemoryManager, Metadata, Page,
    content_hash, validate_content, validate_metadata,
};
use client::Client;
use record::{Facts, Stored};
use records::{Collection, Write};

pub use client::valid_name;
pub use record::MAX_FILTERABLE;

/// The backend's name in messages and [`BackendInfo`].
pub const CHROMA: &str = "chroma";
/// The collection memories go to when none is named.
pub const DEFAULT_COLLECTION: &str = "talab_memories";
/// Chroma's default tenant.
pub const DEFAULT_TENANT: &str = "default_tenant";
/// Chroma's default database.
pub const DEFAULT_DATABASE: &str = "default_database";

/// Where a Chroma store is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChromaConfig {
    /// The server, `http://HOST:PORT` (as `chroma run` prints it).
    pub url: String,
    /// The tenant (Chroma's default: `default_tenant`).
    pub tenant: String,
    /// The database in the tenant (Chroma's default: `default_database`).
    pub database: String,
    /// The collection (one per embedder; default `talab_memories`).
    pub collection: String,
}

impl ChromaConfig {
    /// The default collection in the default tenant and database of the server at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        ChromaConfig {
            url: url.into(),
            tenant: DEFAULT_TENANT.into(),
            database: DEFAULT_DATABASE.into(),
            collection: DEFAULT_COLLECTION.into(),
        }
    }

    /// The same, in another collection.
    pub fn with_collection(mut self, collection: impl Into<String>) -> Self {
        self.collection = collection.into();
        self
    }

    /// The same, in another tenant.
    pub fn with_tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = tenant.into();
        self
    }

    /// The same, in another database.
    pub fn with_database(mut self, database: impl Into<String>) -> Self {
        self.database = database.into();
        self
    }
}

/// A memory store in one Chroma collection, searched with one embedder.
pub struct ChromaMemory {
    collection: Collection,
    embedder: Arc<dyn Embedder>,
    identity: EmbedderIdentity,
    scope: String,
}

impl ChromaMemory {
    /// Opens the store the config names: checks the tenant and database, creates the collection
    /// when missing, and refuses (changing nothing) one holding another embedder's vectors.
    pub async fn connect(config: &ChromaConfig, embedder: Arc<dyn Embedder>) -> Result<Self, MemoryError> {
        let client = Client::new(&config.url, &config.tenant, &config.database, &config.collection)?;
        if !valid_name(&config.collection) {
            return Err(client.fail(format!(
                "invalid collection name {:?}: Chroma's names are 3 to 512 of a-z A-Z 0-9 . _ -, \
                 starting and ending with a letter or digit",
                config.collection
            )));
        }
        let identity = embedder.identity();
        let id = collection::open(&client, &config.collection, &identity).await?;
        Ok(ChromaMemory {
            collection: Collection { client, id },
            embedder,
            identity,
            scope: DEFAULT_SCOPE.to_string(),
        })
    }

    /// The same store, adding to and searching in another scope.
    pub fn in_scope(mut self, scope: impl Into<String>) -> Result<Self, MemoryError> {
        let scope = scope.into();
        crate::validate_scope(&scope)?;
        self.scope = scope;
        Ok(self)
    }

    /// How many memories the collection holds, in every scope.
    pub async fn count(&self) -> Result<u64, MemoryError> {
        self.collection.count().await
    }

    /// Adds content with a chosen creation time (imports keeping their dates; tests of filters).
    ///
    /// Dedup without a unique constraint: if the scope holds the content, its id is returned.
    /// Otherwise the record is added under the id [`claim_id`] derives from the scope and content
    /// hash, carrying a random nonce; Chroma keeps the first record of an id, so reading it back
    /// tells whether this add made it (its nonce) or a concurrent add of the same content did.
    /// Only when that id belongs to a memory since updated to other content does the memory get a
    /// random id (unguarded against a concurrent add of the same content).
    pub async fn insert_at(
        &self,
        content: &str,
        metadata: Metadata,
        at: DateTime<Utc>,
    ) -> Result<Inserted, MemoryError> {
        self.insert_into(&self.scope, content, metadata, at).await
    }

    async fn insert_into(
        &self,
        scope: &str,
        content: &str,
        metadata: Metadata,
        at: DateTime<Utc>,
    ) -> Result<Inserted, MemoryError> {
        use chrono::SubsecRound;
        let at = at.trunc_subsecs(6);
        validate_content(content)?;
        validate_metadata(&metadata)?;
        let hash = content_hash(content);
        if let Some(id) = self.holders(scope, &hash).await?.into_iter().next() {
            return Ok(Inserted { id, created: false });
        }
        let vector = self.embed(content).await?;
        let facts = Facts {
            scope,
            hash: &hash,
            created_at: at,
            updated_at: at,
        };
        let nonce = uuid::Uuid::new_v4().to_string();
        let mut fields = record::to_chroma(&metadata, &facts);
        fields.insert(record::NONCE.into(), nonce.clone().into());
        let write = |id| Write {
            id,
            embedding: &vector,
            document: content,
            metadata: fields.clone(),
        };
        let claimed = claim_id(scope, &hash);
        self.collection.add(write(&claimed)).await?;
        let holder = self.collection.records(&[&claimed]).await?.remove(&claimed);
        match holder {
            Some(held) if held.raw.get(record::NONCE) == Some(&nonce.into()) => Ok(Inserted {
                id: claimed,
                created: true,
            }),
            Some(held) if held.scope == scope && held.hash == hash => Ok(Inserted {
                id: claimed,
                created: false,
            }),
            _ => {
                let id = uuid::Uuid::new_v4().to_string();
                self.collection.add(write(&id)).await?;
                Ok(Inserted { id, created: true })
            }
        }
    }

    /// Embeds one text, checked ([`crate::embed::embed_checked`]).
    async fn embed(&self, text: &str) -> Result<Vec<f32>, MemoryError> {
        let texts = [text.to_string()];
        Ok(
            crate::embed::embed_checked(self.embedder.as_ref(), &self.identity, &texts)
                .await?
                .remove(0),
        )
    }

    /// The ids of `scope`'s memories holding content with this hash, oldest first (ties by id).
    async fn holders(&self, scope: &str, hash: &str) -> Result<Vec<String>, MemoryError> {
        let where_ = serde_json::json!({ "$and": [
            { record::SCOPE: { "$eq": scope } },
            { record::HASH: { "$eq": hash } },
        ]});
        let mut found: Vec<(i64, String)> = self
            .collection
            .metadata(Some(&where_))
            .await?
            .into_iter()
            .map(|(id, m)| {
                (
                    m.get(record::CREATED)
                        .and_then(|v| v.as_i64())
                        .unwrap_or(i64::MAX),
                    id,
                )
            })
            .collect();
        found.sort();
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }

    /// The record with this id ([`MemoryError::NotFound`] when there is none).
    async fn stored(&self, id: &str) -> Result<Stored, MemoryError> {
        self.collection
            .records(&[id])
            .await?
            .remove(id)
            .ok_or_else(|| MemoryError::NotFound(id.to_string()))
    }

    /// The memories with these ids in this order (unknown ids left out, listed second).
    async fn in_order(&self, ids: &[&str]) -> Result<(Vec<Memory>, Vec<String>), MemoryError> {
        let by_id = self.collection.records(ids).await?;
        let memories = by_id
            .into_iter()
            .map(|(id, stored)| (id, stored.memory))
            .collect();
        Ok(crate::context::in_order(ids, memories))
    }
}

/// The id a memory of this content gets in this scope when the id is free: a UUID (version 8,
/// "custom") made of the first 16 bytes of SHA-256 over scope and content hash.
fn claim_id(scope: &str, hash: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{scope}\0{hash}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid().to_string()
}

#[async_trait::async_trait]
impl MemoryManager for ChromaMemory {
    fn backend_name(&self) -> &'static str {
        CHROMA
    }

    async fn insert(&self, content: &str, metadata: Metadata) -> Result<Inserted, MemoryError> {
        self.insert_at(content, metadata, now_micros()).await
    }

    async fn insert_in(
        &self,
        scope: &str,
        content: &str,
        metadata: Metadata,
    ) -> Result<Inserted, MemoryError> {
        crate::validate_scope(scope)?;
        self.insert_into(scope, content, metadata, now_micros()).await
    }

    /// Vector ranking, as the embedded store's `search`.
    async fn search(&self, query: &str, threshold: f32, limit: usize) -> Result<Vec<Memory>, MemoryError> {
        let request = SearchRequest {
            threshold: Some(threshold),
            limit,
            mode: SearchMode::Vector,
            ..SearchRequest::new(query)
        };
        Ok(self.search_in_server(&request).await?.hits)
    }

    fn default_threshold(&self) -> f32 {
        self.embedder.default_threshold()
    }

    /// Every filter in the server, exact counts; lexical mode refused (see [`search`]).
    async fn search_with(&self, request: &SearchRequest) -> Result<SearchOutcome, MemoryError> {
        self.search_in_server(request).await
    }

    /// One request for every id.
    async fn context_within(&self, ids: &[String], budget_chars: usize) -> Result<String, MemoryError> {
        let (found, unknown) = self.in_order(&unique_ids(ids)).await?;
        Ok(render_context(&found, &unknown, budget_chars))
    }

    async fn get(&self, id: &str) -> Result<Memory, MemoryError> {
        Ok(self.stored(id).await?.memory)
    }

    async fn update(
        &self,
        id: &str,
        content: Option<&str>,
        metadata: Option<Metadata>,
    ) -> Result<Memory, MemoryError> {
        let old = self.stored(id).await?;
        if let Some(content) = content {
            validate_content(content)?;
        }
        if let Some(metadata) = &metadata {
            validate_metadata(metadata)?;
        }
        let content = content.unwrap_or(&old.memory.content).to_string();
        let metadata = metadata.unwrap_or_else(|| old.memory.metadata.clone());
        let hash = content_hash(&content);
        if hash != old.hash
            && let Some(existing) = self
                .holders(&old.scope, &hash)
                .await?
                .into_iter()
                .find(|other| other != id)
        {
            return Err(MemoryError::DuplicateContent {
                id: id.to_string(),
                existing,
            });
        }
        let vector = self.embed(&content).await?;
        let facts = Facts {
            scope: &old.scope,
            hash: &hash,
            created_at: old.memory.created_at,
            updated_at: now_micros(),
        };
        self.collection
            .update(Write {
                id,
                embedding: &vector,
                document: &content,
                metadata: record::replacing(&old.raw, record::to_chroma(&metadata, &facts)),
            })
            .await?;
        self.get(id).await
    }

    async fn deprecate(&self, id: &str, reason: &str) -> Result<(), MemoryError> {
        self.stored(id).await?;
        self.collection
            .update_metadata(id, record::deprecation(now_micros(), reason))
            .await
    }

    async fn delete(&self, id: &str) -> Result<(), MemoryError> {
        self.stored(id).await?;
        self.collection.delete(&[id]).await
    }

    /// Chroma keeps no history of changes (see the module docs).
    async fn history(&self, id: &str) -> Result<Vec<crate::MemoryEvent>, MemoryError> {
        let _ = id;
        Err(self.unsupported("show a memory's history (Chroma keeps none)"))
    }

    /// Chroma cannot sort: the ids and creation times of every record are read (no documents
    /// or vectors), sorted here, and the page fetched in full.
    async fn list(&self, offset: u64, limit: u64) -> Result<Page, MemoryError> {
        let mut all: Vec<(i64, String)> = self
            .collection
            .metadata(None)
            .await?
            .into_iter()
            .map(|(id, m)| (m.get(record::CREATED).and_then(|v| v.as_i64()).unwrap_or(0), id))
            .collect();
        all.sort();
        let total = all.len() as u64;
        let page: Vec<&str> = all
            .iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|(_, id)| id.as_str())
            .collect();
        let (memories, _gone) = self.in_order(&page).await?;
        Ok(Page {
            memories,
            offset,
            total,
        })
    }

    async fn describe(&self) -> Result<BackendInfo, MemoryError> {
        Ok(BackendInfo {
            backend: CHROMA,
            location: self.collection.client.location().to_string(),
            embedder: Some(self.identity.clone()),
            count: self.count().await?,
        })
    }
}
