//! The one error type of talab-memory: what went wrong and, where there is one, what to do.
//!
//! Bad input (empty content, a threshold outside the score range, an embedding without the
//! embedder that made it) is reported as data, never as a panic.

use talab_db::DbError;
use talab_db::sqlx;

/// Everything a memory operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// Opening or migrating the database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A query on the memory tables failed.
    #[error("memory store: {0}")]
    Sql(sqlx::Error),
    /// `add` was given nothing but whitespace.
    #[error("cannot store an empty memory: the content is empty or only whitespace")]
    EmptyContent,
    /// Text with a NUL character, which neither backend is allowed to store (the message says where).
    #[error("{0}")]
    NulInText(String),
    /// `search` was given nothing but whitespace.
    #[error("cannot search for an empty query: give some words to look for")]
    EmptyQuery,
    /// A threshold that no relevance score can be compared with.
    #[error(
        "invalid threshold {0}: relevance scores are similarities between -1 and 1, so give a number \
         in that range (without one, each embedder's own default is used)"
    )]
    InvalidThreshold(f32),
    /// A scope name that is empty or only whitespace.
    #[error("invalid scope {0:?}: a scope needs a non-empty name (the default is \"default\")")]
    InvalidScope(String),
    /// An embedding that cannot be stored as given.
    #[error("invalid embedding: {0}")]
    InvalidEmbedding(String),
    /// A stored embedding whose bytes do not match its recorded dimension.
    #[error(
        "memory {id}: its stored embedding has {bytes} bytes, which is not {dim} f32 values; \
         re-embed the store to repair it"
    )]
    CorruptEmbedding { id: String, bytes: usize, dim: i64 },
    /// Adding kept losing a race with a concurrent delete of the same content.
    #[error("could not add the memory: the same content was added and removed concurrently; try again")]
    AddRace,
    /// No all-MiniLM-L6-v2 model directory was found; the message lists every place looked at
    /// and how to install the model.
    #[error("{0}")]
    EmbedModelNotFound(String),
    /// A local embedding model could not be loaded or run.
    #[error("embedding model at {dir}: {message}")]
    EmbedModel { dir: String, message: String },
    /// An embeddings HTTP API failed or answered something unusable (never includes the key).
    #[error("embeddings API {url}: {message}")]
    EmbedHttp { url: String, message: String },
    /// The store's vectors come from another embedder than the one in use.
    #[error(
        "this memory store holds vectors from {stored}, but the embedder in use is {current}; \
         their scores cannot be compared; re-embed the store with {current} to use it (nothing was \
         changed)"
    )]
    EmbedderMismatch { stored: String, current: String },
    /// A reindex to another embedder was started and has not finished.
    #[error(
        "this memory store is being re-embedded from {stored} to {target} (a reindex was interrupted); \
         re-embed it again with {target} to finish"
    )]
    ReindexUnfinished { stored: String, target: String },
    /// An embedder returned something other than one vector of its dimension per text.
    #[error("embedder {embedder} misbehaved: {problem}")]
    EmbedderOutput { embedder: String, problem: String },
    /// No memory has this id.
    #[error("no memory has the id {0}")]
    NotFound(String),
    /// An update would give a memory the same content as another one in its scope.
    #[error("memory {id}: another memory ({existing}) already holds this content in the same scope")]
    DuplicateContent { id: String, existing: String },
    /// A search request that cannot be answered as given.
    #[error("invalid search: {0}")]
    InvalidSearch(String),
    /// The backend in use has no such operation (it says so rather than doing nothing).
    #[error("the {backend} memory backend cannot {operation}")]
    Unsupported {
        backend: &'static str,
        operation: &'static str,
    },
    /// A backend could not be used where it is configured: unreachable, refused, missing a server
    /// extension, or holding another embedder's vectors. One line: which backend, where (credentials
    /// masked), what is wrong and what to do.
    #[error("{backend} memory at {location}: {message}")]
    Backend {
        backend: &'static str,
        location: String,
        message: String,
    },
}

impl From<sqlx::Error> for MemoryError {
    /// See [`talab_db::DbError::sort`]: a read-only database is said so.
    fn from(e: sqlx::Error) -> Self {
        talab_db::DbError::sort(e).map_or_else(Self::Db, Self::Sql)
    }
}

impl MemoryError {
    /// Whose move it is (see [`talab_db::ErrorKind`]).
    pub fn kind(&self) -> talab_db::ErrorKind {
        use talab_db::ErrorKind::{Failure, Input};
        match self {
            MemoryError::Db(e) => e.kind(),
            MemoryError::EmptyContent
            | MemoryError::EmptyQuery
            | MemoryError::InvalidThreshold(_)
            | MemoryError::InvalidScope(_)
            | MemoryError::NulInText(_)
            | MemoryError::InvalidSearch(_)
            | MemoryError::NotFound(_)
            | MemoryError::DuplicateContent { .. }
            | MemoryError::Unsupported { .. } => Input,
            MemoryError::Sql(_)
            | MemoryError::InvalidEmbedding(_)
            | MemoryError::CorruptEmbedding { .. }
            | MemoryError::AddRace
            | MemoryError::EmbedModelNotFound(_)
            | MemoryError::EmbedModel { .. }
            | MemoryError::EmbedHttp { .. }
            | MemoryError::EmbedderMismatch { .. }
            | MemoryError::ReindexUnfinished { .. }
            | MemoryError::EmbedderOutput { .. }
            | MemoryError::Backend { .. } => Failure,
        }
    }
}
