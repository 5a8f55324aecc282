//! The memories table on the shared database (SQLite or PostgreSQL): insert with content-hash
//! dedup, fetch by id, complete paged listing, with an append-only event history.
//!
//! It computes no embeddings and ranks nothing: it keeps the embedding it is given, checked (finite,
//! non-empty, named by the embedder that made it, so vectors of two models are never compared),
//! and renders stored memories as a prompt's context block. Searching by meaning is built on top
//! of it ([`crate::manager_sql`]).

use chrono::{DateTime, Utc};
use talab_db::sqlx;
use talab_db::sqlx::types::Json;
use talab_db::{Database, MigrationSet, on_pool};

use crate::context::render_context;
use crate::model::{FETCHED_RELEVANCE, now_micros, unique_ids, validate_content, validate_metadata};
use crate::normalise::content_hash;
use crate::writers::WriterLock;
use crate::{Memory, MemoryError, Metadata, vector};

/// The memory crate's schema, applied by [`MemoryRecords::open`].
pub static MIGRATIONS: MigrationSet = MigrationSet {
    component: "memory",
    migrations: &[
        talab_db::migration!(1, "memories", "0001_memories.sql"),
        talab_db::migration!(2, "store_info", "0002_store_info.sql"),
    ],
};

/// The scope memories go to when none is named. Dedup is per scope.
pub const DEFAULT_SCOPE: &str = "default";

/// How many ids one `IN (…)` query binds (below every backend's parameter limit).
const IDS_PER_QUERY: usize = 500;

/// A memory to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMemory {
    /// The text; must not be empty or only whitespace.
    pub content: String,
    /// Context stored with it.
    pub metadata: Metadata,
    /// Which store within the database; dedup is per scope.
    pub scope: String,
    /// Its vector, if it has been embedded (finite values, at least one).
    pub embedding: Option<Vec<f32>>,
    /// The embedder (name and revision) that made `embedding`; required with it, refused without it.
    pub embedder: Option<String>,
}

impl NewMemory {
    /// Content and metadata in the default scope, with no embedding.
    pub fn new(content: impl Into<String>, metadata: Metadata) -> Self {
        NewMemory {
            content: content.into(),
            metadata,
            scope: DEFAULT_SCOPE.to_string(),
            embedding: None,
            embedder: None,
        }
    }

    /// The same memory in another scope.
    pub fn in_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// The same memory with the vector `embedder` made for it.
    pub fn with_embedding(mut self, embedder: impl Into<String>, embedding: Vec<f32>) -> Self {
        self.embedder = Some(embedder.into());
        self.embedding = Some(embedding);
        self
    }
}

/// What [`MemoryRecords::insert`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inserted {
    /// The memory's id: a new one, or the one already holding the same content in that scope.
    pub id: String,
    /// False when the content was already stored (nothing was written).
    pub created: bool,
}

/// One page of [`MemoryRecords::list`], with the total so nothing is ever truncated silently.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The memories of this page, oldest first.
    pub memories: Vec<Memory>,
    /// Where this page starts in the whole list.
    pub offset: u64,
    /// How many memories there are in all.
    pub total: u64,
}

impl Page {
    /// Where the next page starts; `None` when this page reaches the end.
    pub fn next_offset(&self) -> Option<u64> {
        let end = self.offset + self.memories.len() as u64;
        (end < self.total).then_some(end)
    }
}

/// Memories found by id, in the caller's order, and the ids that were not found.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    /// The memories found, in the order asked, each once.
    pub found: Vec<Memory>,
    /// The ids asked for that are not stored, in the order asked.
    pub unknown: Vec<String>,
}

/// The memories tables of one database.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use talab_memory::{Metadata, store::{MemoryRecords, NewMemory}};
/// let records = MemoryRecords::connect("sqlite::memory:").await.unwrap();
/// let first = records.insert(NewMemory::new("EMA calculation logic", Metadata::new())).await.unwrap();
/// let again = records.insert(NewMemory::new("  EMA calculation\nlogic ", Metadata::new())).await.unwrap();
/// assert!(first.created && !again.created);
/// assert_eq!(first.id, again.id);
/// assert_eq!(records.count().await.unwrap(), 1);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct MemoryRecords {
    db: Database,
}

/// The columns every read selects, in the order of [`Row`].
const COLUMNS: &str = "id, content, metadata, embedding, dim, created_at";
type Row = (
    String,
    String,
    Json<Metadata>,
    Option<Vec<u8>>,
    Option<i32>,
    DateTime<Utc>,
);
/// A [`Row`] followed by the total row count (`COUNT(*) OVER ()`).
type CountedRow = (
    String,
    String,
    Json<Metadata>,
    Option<Vec<u8>>,
    Option<i32>,
    DateTime<Utc>,
    i64,
);

const INSERT: &str = "INSERT INTO memories \
    (id, content, content_hash, scope, metadata, embedding, embedder, dim, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
    ON CONFLICT (scope, content_hash) DO NOTHING";
const INSERT_EVENT: &str = "INSERT INTO memory_events (memory_id, event, at, detail) VALUES ($1, $2, $3, $4)";

impl MemoryRecords {
    /// Uses an open database, creating or upgrading the memory tables first.
    pub async fn open(db: Database) -> Result<Self, MemoryError> {
        db.migrate(&MIGRATIONS).await?;
        Ok(MemoryRecords { db })
    }

    /// Opens the database a URL or path names (see [`talab_db::DatabaseLocation::parse`]) and
    /// prepares the memory tables.
    pub async fn connect(url: &str) -> Result<Self, MemoryError> {
        Self::open(Database::connect(url).await?).await
    }

    /// The database these records live in.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Stores a memory, unless the same normalised content is already stored in its scope: then
    /// nothing is written and the existing id is returned. Safe when several tasks or processes
    /// add the same content at once (exactly one row results). The row and its `add` event are
    /// written in one transaction.
    pub async fn insert(&self, new: NewMemory) -> Result<Inserted, MemoryError> {
        self.insert_at(new, now_micros()).await
    }

    /// [`insert`](Self::insert) with a chosen `created_at`/`updated_at` (truncated to whole
    /// microseconds): for imports that keep original dates, and for tests of date filters.
    pub async fn insert_at(&self, new: NewMemory, at: DateTime<Utc>) -> Result<Inserted, MemoryError> {
        use chrono::SubsecRound;
        let now = at.trunc_subsecs(6);
        validate_content(&new.content)?;
        validate_metadata(&new.metadata)?;
        if new.scope.trim().is_empty() {
            return Err(MemoryError::InvalidScope(new.scope));
        }
        let (blob, dim) = checked_embedding(&new)?;
        let hash = content_hash(&new.content);
        let detail = crate::event::add_detail(&new.scope, &hash, new.embedder.as_deref(), dim);
        // A retry is needed only when a concurrent delete removes the row we conflicted with
        // before we read its id.
        for _ in 0..3 {
            let id = uuid::Uuid::new_v4().to_string();
            let created = on_pool!(&self.db, pool => async {
                let mut tx = pool.begin().await?;
                tx.lock_writers().await?;
                let done = sqlx::query(INSERT)
                    .bind(&id)
                    .bind(&new.content)
                    .bind(&hash)
                    .bind(&new.scope)
                    .bind(Json(&new.metadata))
                    .bind(blob.as_deref())
                    .bind(new.embedder.as_deref())
                    .bind(dim)
                    .bind(now)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    tx.rollback().await?;
                    return Ok::<_, sqlx::Error>(false);
                }
                sqlx::query(INSERT_EVENT)
                    .bind(&id)
                    .bind("add")
                    .bind(now)
                    .bind(Json(&detail))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(true)
            }
            .await)?;
            if created {
                tracing::debug!(%id, scope = %new.scope, "memory added");
                return Ok(Inserted { id, created: true });
            }
            let existing: Option<String> = on_pool!(&self.db, pool => {
                sqlx::query_scalar("SELECT id FROM memories WHERE scope = $1 AND content_hash = $2")
                    .bind(&new.scope)
                    .bind(&hash)
                    .fetch_optional(pool)
                    .await
            })?;
            if let Some(id) = existing {
                tracing::debug!(%id, scope = %new.scope, "memory already stored");
                return Ok(Inserted { id, created: false });
            }
        }
        Err(MemoryError::AddRace)
    }

    /// The memory with this id, in any scope; `None` when there is none.
    pub async fn get(&self, id: &str) -> Result<Option<Memory>, MemoryError> {
        let sql = format!("SELECT {COLUMNS} FROM memories WHERE id = $1");
        let row: Option<Row> =
            on_pool!(&self.db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
        row.map(into_memory).transpose()
    }

    /// The memories with these ids, in the order asked (each once), and the ids not found.
    pub async fn get_many(&self, ids: &[String]) -> Result<Fetched, MemoryError> {
        let wanted = unique_ids(ids);
        let mut by_id = std::collections::HashMap::new();
        for chunk in wanted.chunks(IDS_PER_QUERY) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {COLUMNS} FROM memories WHERE id IN ({})",
                placeholders.join(", ")
            );
            let rows: Vec<Row> = on_pool!(&self.db, pool => {
                let mut query = sqlx::query_as(&sql);
                for id in chunk {
                    query = query.bind(*id);
                }
                query.fetch_all(pool).await
            })?;
            for row in rows {
                let memory = into_memory(row)?;
                by_id.insert(memory.id.clone(), memory);
            }
        }
        let mut fetched = Fetched {
            found: Vec::with_capacity(by_id.len()),
            unknown: Vec::new(),
        };
        for id in wanted {
            match by_id.remove(id) {
                Some(memory) => fetched.found.push(memory),
                None => fetched.unknown.push(id.to_string()),
            }
        }
        Ok(fetched)
    }

    /// The `get_context` block for these ids (format: [`crate::context`]).
    pub async fn context(&self, ids: &[String], budget_chars: usize) -> Result<String, MemoryError> {
        let fetched = self.get_many(ids).await?;
        Ok(render_context(&fetched.found, &fetched.unknown, budget_chars))
    }

    /// Up to `limit` memories of every scope starting at `offset`, oldest first (ties by id), with
    /// the total count taken in the same query.
    pub async fn list(&self, offset: u64, limit: u64) -> Result<Page, MemoryError> {
        let sql = format!(
            "SELECT {COLUMNS}, COUNT(*) OVER () FROM memories ORDER BY created_at, id LIMIT $1 OFFSET $2"
        );
        let rows: Vec<CountedRow> = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql)
                .bind(to_i64(limit))
                .bind(to_i64(offset))
                .fetch_all(pool)
                .await
        })?;
        let total = match rows.first() {
            Some(row) => row.6 as u64,
            // Past the end (or empty): the window count has no row to ride on.
            None => self.count().await?,
        };
        let memories = rows
            .into_iter()
            .map(|(id, content, metadata, embedding, dim, created_at, _)| {
                into_memory((id, content, metadata, embedding, dim, created_at))
            })
            .collect::<Result<_, _>>()?;
        Ok(Page {
            memories,
            offset,
            total,
        })
    }

    /// How many memories are stored, in every scope.
    pub async fn count(&self) -> Result<u64, MemoryError> {
        let n: i64 = on_pool!(&self.db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM memories").fetch_one(pool).await
        })?;
        Ok(n as u64)
    }
}

/// The embedding's bytes and dimension, after checking it can be stored as given.
fn checked_embedding(new: &NewMemory) -> Result<(Option<Vec<u8>>, Option<i32>), MemoryError> {
    let invalid = |why: &str| Err(MemoryError::InvalidEmbedding(why.to_string()));
    match (&new.embedding, &new.embedder) {
        (None, None) => Ok((None, None)),
        (Some(_), None) => invalid("an embedding needs the name of the embedder that made it"),
        (None, Some(_)) => invalid("an embedder was named but no embedding was given"),
        (Some(_), Some(name)) if name.trim().is_empty() => invalid("the embedder name is empty"),
        (Some(v), Some(_)) if v.is_empty() => invalid("the embedding has no values"),
        (Some(v), Some(_)) if v.iter().any(|x| !x.is_finite()) => {
            invalid("the embedding holds NaN or infinite values")
        }
        (Some(v), Some(_)) => {
            let dim = i32::try_from(v.len())
                .map_err(|_| MemoryError::InvalidEmbedding(format!("{} dimensions is too many", v.len())))?;
            Ok((Some(vector::encode(v)), Some(dim)))
        }
    }
}

fn into_memory((id, content, metadata, embedding, dim, created_at): Row) -> Result<Memory, MemoryError> {
    let embedding = match embedding {
        None => Vec::new(),
        Some(bytes) => {
            let dim = i64::from(dim.unwrap_or(0));
            match vector::decode(&bytes) {
                Some(v) if v.len() as i64 == dim => v,
                _ => {
                    return Err(MemoryError::CorruptEmbedding {
                        id,
                        bytes: bytes.len(),
                        dim,
                    });
                }
            }
        }
    };
    Ok(Memory {
        id,
        content,
        metadata: metadata.0,
        embedding,
        created_at,
        relevance_score: FETCHED_RELEVANCE,
    })
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedding_is_checked_before_anything_is_written() {
        let base = NewMemory::new("x", Metadata::new());
        let bad = [
            NewMemory {
                embedding: Some(vec![1.0]),
                ..base.clone()
            },
            NewMemory {
                embedder: Some("m".into()),
                ..base.clone()
            },
            base.clone().with_embedding(" ", vec![1.0]),
            base.clone().with_embedding("m", vec![]),
            base.clone().with_embedding("m", vec![0.5, f32::NAN]),
        ];
        for new in bad {
            assert!(
                matches!(checked_embedding(&new), Err(MemoryError::InvalidEmbedding(_))),
                "{new:?}"
            );
        }
        let (blob, dim) = checked_embedding(&base.clone().with_embedding("m", vec![1.0, -2.5])).unwrap();
        assert_eq!(blob.unwrap(), vector::encode(&[1.0, -2.5]));
        assert_eq!(dim, Some(2));
        assert_eq!(checked_embedding(&base).unwrap(), (None, None));
    }

    #[test]
    fn page_knows_where_the_next_starts() {
        let page = |offset, n, total| Page {
            memories: vec![
                Memory {
                    id: String::new(),
                    content: String::new(),
                    metadata: Metadata::new(),
                    embedding: vec![],
                    created_at: DateTime::<Utc>::UNIX_EPOCH,
                    relevance_score: 1.0,
                };
                n
            ],
            offset,
            total,
        };
        assert_eq!(page(0, 2, 5).next_offset(), Some(2));
        assert_eq!(page(4, 1, 5).next_offset(), None);
        assert_eq!(page(9, 0, 5).next_offset(), None);
    }
}
