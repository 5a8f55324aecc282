//! `PgVectorMemory`: memories in PostgreSQL with the pgvector extension, searched in the server.
//!
//! Why a second backend: the embedded store ([`crate::SqlMemoryManager`]) keeps every vector in
//! the process's memory and scans them all per search, which is fast up to a few hundred thousand
//! memories on one machine and impossible beyond its RAM. Here the vectors stay in the server:
//! a `vector(D)` column (D the embedder's dimension) under an HNSW index with cosine distance,
//! `ORDER BY embedding <=> query LIMIT k`, the filters in the same SQL; only the hits cross the
//! wire. Several processes and machines can share one store.
//!
//! It keeps the embedded store's contract: the same content hash and dedup per scope (adding the
//! same normalised content returns the first id, `created: false`), the same thresholds per mode,
//! the same history (`<table>_events`, written in the same transaction as each change), and the
//! same refusal to mix embedders (`<table>_info` records the embedder; opening with another one
//! is an error that changes nothing). Search details: [`search`]; schema and checks: [`schema`].
//!
//! Errors name the backend and where it is, credentials masked: an unreachable server, a refused
//! login, a server without the extension, a table of another embedder each say what to do.

mod filter;
pub mod schema;
mod search;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use talab_db::sqlx::types::Json;
use talab_db::sqlx::{self, PgConnection, PgPool};
use talab_db::{Database, DatabaseLocation, DbError, Pool};

use crate::context::{in_order, render_context};
use crate::event::{Revision, add_detail, delete_detail, deprecate_detail, revise};
use crate::manager_sql::identity_key;
use crate::model::{FETCHED_RELEVANCE, now_micros, unique_ids};
use crate::search::{SearchMode, SearchOutcome, SearchRequest};
use crate::store::DEFAULT_SCOPE;
use crate::{
    BackendInfo, Embedder, EmbedderIdentity, Inserted, Memory, MemoryError, MemoryEvent, MemoryManager,
    Metadata, Page, content_hash, validate_content, validate_metadata,
};
pub use schema::Tables;

/// The backend's name in messages and [`BackendInfo`].
pub const PGVECTOR: &str = "pgvector";
/// The table memories go to when none is named.
pub const DEFAULT_TABLE: &str = "talab_memories";

/// The columns every read of a memory selects, in the order of [`MemoryRow`].
const COLUMNS: &str = "id, content, metadata, embedding::real[], created_at";
type MemoryRow = (String, String, Json<Metadata>, Vec<f32>, DateTime<Utc>);
/// A [`MemoryRow`] followed by one more column (the scope, or the total count of a page).
type RowAnd<T> = (String, String, Json<Metadata>, Vec<f32>, DateTime<Utc>, T);

/// A memory store in a PostgreSQL table with a pgvector column, searched with one embedder.
pub struct PgVectorMemory {
    pool: PgPool,
    /// Where, credentials masked (`postgres://user@host:port/db table NAME`).
    location: String,
    tables: Tables,
    embedder: Arc<dyn Embedder>,
    identity: EmbedderIdentity,
    scope: String,
}

impl PgVectorMemory {
    /// Connects to the PostgreSQL server a `postgres://` URL names and opens the store in `table`
    /// (created, with the extension, when missing).
    pub async fn connect(url: &str, table: &str, embedder: Arc<dyn Embedder>) -> Result<Self, MemoryError> {
        let location = DatabaseLocation::parse(url)?;
        let place = location.to_string();
        let fail = |message: String| MemoryError::Backend {
            backend: PGVECTOR,
            location: place.clone(),
            message,
        };
        if !matches!(location, DatabaseLocation::Postgres(_)) {
            return Err(fail(
                "pgvector needs a PostgreSQL server: give a postgres://USER@HOST:PORT/DB URL".into(),
            ));
        }
        let db = Database::open(&location).await.map_err(|e| match e {
            DbError::Unreachable { reason, .. } => fail(format!(
                "cannot reach the server ({reason}); start it, or correct the host and port in the URL"
            )),
            DbError::Refused { reason, .. } => fail(format!(
                "the server refused the connection ({reason}); check the user, password and database in the URL"
            )),
            other => MemoryError::Db(other),
        })?;
        Self::open(db, table, embedder).await
    }

    /// Opens the store in `table` of an open PostgreSQL database: creates the `vector` extension
    /// and the tables when missing, and refuses (changing nothing) a table holding another
    /// embedder's vectors.
    pub async fn open(db: Database, table: &str, embedder: Arc<dyn Embedder>) -> Result<Self, MemoryError> {
        let location = format!("{db} table {table}");
        let fail = |message: String| MemoryError::Backend {
            backend: PGVECTOR,
            location: location.clone(),
            message,
        };
        let Pool::Postgres(pool) = db.pool() else {
            return Err(fail(
                "pgvector needs a PostgreSQL server, not SQLite: give a postgres:// URL".into(),
            ));
        };
        let tables = Tables::new(table).map_err(fail)?;
        let identity = embedder.identity();
        // Boxed so the future is checked as `Send` here, where its lifetimes are concrete (as
        // `Database::migrate` does): left to inference, sqlx's executor bounds make a caller's
        // spawned `connect` fail to prove `Send`.
        let prepare: std::pin::Pin<Box<dyn Future<Output = Result<(), MemoryError>> + Send + '_>> =
            Box::pin(schema::prepare(pool, &tables, &identity, &location));
        prepare.await?;
        Ok(PgVectorMemory {
            pool: pool.clone(),
            location,
            tables,
            embedder,
            identity,
            scope: DEFAULT_SCOPE.to_string(),
        })
    }

    /// The same store, adding to and searching in another scope.
    pub fn in_scope(mut self, scope: impl Into<String>) -> Result<Self, MemoryError> {
        let scope = scope.into();
        if scope.trim().is_empty() {
            return Err(MemoryError::InvalidScope(scope));
        }
        self.scope = scope;
        Ok(self)
    }

    /// The store's tables.
    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// Adds content with a chosen creation time (imports keeping their dates; tests of filters).
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
        let vector = self.embed(&[content.to_string()]).await?.remove(0);
        let hash = content_hash(content);
        let key = identity_key(&self.identity);
        let detail = add_detail(scope, &hash, Some(&key), Some(dim_i32(&self.identity)?));
        let insert = format!(
            "INSERT INTO {} (id, content, content_hash, scope, metadata, embedding, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6::real[]::vector, $7, $7) ON CONFLICT (scope, content_hash) DO NOTHING",
            self.tables.memories
        );
        // A retry is needed only when a concurrent delete removes the row we conflicted with
        // before we read its id (as in the embedded store).
        for _ in 0..3 {
            let id = uuid::Uuid::new_v4().to_string();
            let mut tx = self.pool.begin().await?;
            let done = sqlx::query(&insert)
                .bind(&id)
                .bind(content)
                .bind(&hash)
                .bind(scope)
                .bind(Json(&metadata))
                .bind(&vector)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 1 {
                self.record(&mut tx, &id, "add", at, &detail).await?;
                tx.commit().await?;
                return Ok(Inserted { id, created: true });
            }
            tx.rollback().await?;
            if let Some(id) = self.holder(scope, &hash).await? {
                return Ok(Inserted { id, created: false });
            }
        }
        Err(MemoryError::AddRace)
    }

    /// Embeds texts, checked ([`crate::embed::embed_checked`]).
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, MemoryError> {
        crate::embed::embed_checked(self.embedder.as_ref(), &self.identity, texts).await
    }

    /// The id of the memory of `scope` holding content with this hash.
    async fn holder(&self, scope: &str, hash: &str) -> Result<Option<String>, MemoryError> {
        Ok(sqlx::query_scalar(&format!(
            "SELECT id FROM {} WHERE scope = $1 AND content_hash = $2",
            self.tables.memories
        ))
        .bind(scope)
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Appends one history event inside the caller's transaction.
    async fn record(
        &self,
        tx: &mut PgConnection,
        id: &str,
        event: &str,
        at: DateTime<Utc>,
        detail: &serde_json::Value,
    ) -> Result<(), MemoryError> {
        sqlx::query(&format!(
            "INSERT INTO {} (memory_id, event, at, detail) VALUES ($1, $2, $3, $4)",
            self.tables.events
        ))
        .bind(id)
        .bind(event)
        .bind(at)
        .bind(Json(detail))
        .execute(tx)
        .await?;
        Ok(())
    }

    /// The memory with this id and the scope it is in.
    async fn get_with_scope(&self, id: &str) -> Result<(Memory, String), MemoryError> {
        let row: Option<RowAnd<String>> = sqlx::query_as(&format!(
            "SELECT {COLUMNS}, scope FROM {} WHERE id = $1",
            self.tables.memories
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let (id_, content, metadata, embedding, created_at, scope) =
            row.ok_or_else(|| MemoryError::NotFound(id.to_string()))?;
        Ok((
            into_memory((id_, content, metadata, embedding, created_at)),
            scope,
        ))
    }
}

/// A stored row as a memory fetched by id.
fn into_memory((id, content, metadata, embedding, created_at): MemoryRow) -> Memory {
    Memory {
        id,
        content,
        metadata: metadata.0,
        embedding,
        created_at,
        relevance_score: FETCHED_RELEVANCE,
    }
}

/// The embedder's dimension as the `INTEGER` it is stored as.
pub(crate) fn dim_i32(identity: &EmbedderIdentity) -> Result<i32, MemoryError> {
    crate::manager_sql::info::dim_i32(identity)
}

#[async_trait::async_trait]
impl MemoryManager for PgVectorMemory {
    fn backend_name(&self) -> &'static str {
        PGVECTOR
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

    /// Every mode and filter in the server, with exact counts (see [`search`]).
    async fn search_with(&self, request: &SearchRequest) -> Result<SearchOutcome, MemoryError> {
        self.search_in_server(request).await
    }

    /// One query for every id.
    async fn context_within(&self, ids: &[String], budget_chars: usize) -> Result<String, MemoryError> {
        let wanted = unique_ids(ids);
        let rows: Vec<MemoryRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM {} WHERE id = ANY($1)",
            self.tables.memories
        ))
        .bind(wanted.iter().map(|id| id.to_string()).collect::<Vec<_>>())
        .fetch_all(&self.pool)
        .await?;
        let by_id = rows
            .into_iter()
            .map(|row| (row.0.clone(), into_memory(row)))
            .collect();
        let (found, unknown) = in_order(&wanted, by_id);
        Ok(render_context(&found, &unknown, budget_chars))
    }

    async fn get(&self, id: &str) -> Result<Memory, MemoryError> {
        Ok(self.get_with_scope(id).await?.0)
    }

    async fn update(
        &self,
        id: &str,
        content: Option<&str>,
        metadata: Option<Metadata>,
    ) -> Result<Memory, MemoryError> {
        let (old, scope) = self.get_with_scope(id).await?;
        let Revision {
            content,
            metadata,
            hash,
            detail,
        } = revise(&old, content, metadata)?;
        let vector = self.embed(std::slice::from_ref(&content)).await?.remove(0);
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(&format!(
            "UPDATE {} SET content = $1, content_hash = $2, metadata = $3, embedding = $4::real[]::vector, \
             updated_at = $5 WHERE id = $6",
            self.tables.memories
        ))
        .bind(&content)
        .bind(&hash)
        .bind(Json(&metadata))
        .bind(&vector)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await;
        match updated {
            Ok(done) if done.rows_affected() == 0 => return Err(MemoryError::NotFound(id.to_string())),
            Ok(_) => {}
            Err(e) => {
                drop(tx);
                if e.as_database_error().is_some_and(|d| d.is_unique_violation())
                    && let Some(existing) = self.holder(&scope, &hash).await?
                {
                    return Err(MemoryError::DuplicateContent {
                        id: id.to_string(),
                        existing,
                    });
                }
                return Err(e.into());
            }
        }
        self.record(&mut tx, id, "update", now, &detail).await?;
        tx.commit().await?;
        self.get(id).await
    }

    async fn deprecate(&self, id: &str, reason: &str) -> Result<(), MemoryError> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(&format!(
            "UPDATE {} SET deprecated_at = $1, deprecation_reason = $2 WHERE id = $3",
            self.tables.memories
        ))
        .bind(now)
        .bind(reason)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(MemoryError::NotFound(id.to_string()));
        }
        self.record(&mut tx, id, "deprecate", now, &deprecate_detail(reason))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete(&self, id: &str) -> Result<(), MemoryError> {
        let mut tx = self.pool.begin().await?;
        let old: Option<(String, Json<Metadata>)> = sqlx::query_as(&format!(
            "DELETE FROM {} WHERE id = $1 RETURNING content, metadata",
            self.tables.memories
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((content, metadata)) = old else {
            return Err(MemoryError::NotFound(id.to_string()));
        };
        self.record(
            &mut tx,
            id,
            "delete",
            now_micros(),
            &delete_detail(&content, &metadata.0),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn history(&self, id: &str) -> Result<Vec<MemoryEvent>, MemoryError> {
        let rows: Vec<(String, DateTime<Utc>, Json<serde_json::Value>)> = sqlx::query_as(&format!(
            "SELECT event, at, detail FROM {} WHERE memory_id = $1 ORDER BY id",
            self.tables.events
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        crate::event::history(id, rows)
    }

    async fn list(&self, offset: u64, limit: u64) -> Result<Page, MemoryError> {
        let to_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let rows: Vec<RowAnd<i64>> = sqlx::query_as(&format!(
            "SELECT {COLUMNS}, COUNT(*) OVER () FROM {} ORDER BY created_at, id LIMIT $1 OFFSET $2",
            self.tables.memories
        ))
        .bind(to_i64(limit))
        .bind(to_i64(offset))
        .fetch_all(&self.pool)
        .await?;
        let total = match rows.first() {
            Some(row) => row.5 as u64,
            // Past the end (or empty): the window count has no row to ride on.
            None => self.count().await?,
        };
        let memories = rows
            .into_iter()
            .map(|(id, content, metadata, embedding, created_at, _)| {
                into_memory((id, content, metadata, embedding, created_at))
            })
            .collect();
        Ok(Page {
            memories,
            offset,
            total,
        })
    }

    async fn describe(&self) -> Result<BackendInfo, MemoryError> {
        Ok(BackendInfo {
            backend: PGVECTOR,
            location: self.location.clone(),
            embedder: Some(self.identity.clone()),
            count: self.count().await?,
        })
    }
}

impl PgVectorMemory {
    /// How many memories the table holds, in every scope.
    pub async fn count(&self) -> Result<u64, MemoryError> {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", self.tables.memories))
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }
}
