//! The flow's own errors. The flow is a library for the binary (and for tests that join other
//! implementations), so it says what failed in its terms — the runs table, memory, the feature
//! store, the platform that was asked — and whose move it is ([`FlowError::kind`]); the binary maps
//! that to an exit code like every other library error.

use talab_db::{DbError, ErrorKind};
use talab_features::FeatureError;
use talab_memory::MemoryError;

/// What can go wrong joining memory, the orchestrator, the features and the runs table.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The runs tables hold something unreadable, or a query on them failed.
    #[error("runs table: {0}")]
    Runs(String),
    /// The database refused (read-only, locked, unreachable).
    #[error(transparent)]
    Db(#[from] DbError),
    /// Memory failed or refused the input.
    #[error("memory: {0}")]
    Memory(#[from] MemoryError),
    /// The feature store refused the request or failed.
    #[error(transparent)]
    Features(#[from] FeatureError),
    /// The AI platform asked to answer a question could not.
    #[error("the {platform} platform could not answer: {reason}")]
    NoAnswer { platform: String, reason: String },
}

impl FlowError {
    /// Whose move it is: the library errors keep their own kind; the runs table and a platform
    /// that could not answer are failures.
    pub fn kind(&self) -> ErrorKind {
        match self {
            FlowError::Db(e) => e.kind(),
            FlowError::Memory(e) => e.kind(),
            FlowError::Features(e) => e.kind(),
            FlowError::Runs(_) | FlowError::NoAnswer { .. } => ErrorKind::Failure,
        }
    }
}

impl From<talab_db::sqlx::Error> for FlowError {
    /// A query error on the runs tables; a read-only database says so (see [`DbError::sort`]).
    fn from(e: talab_db::sqlx::Error) -> Self {
        DbError::sort(e).map_or_else(FlowError::Db, |e| FlowError::Runs(e.to_string()))
    }
}
