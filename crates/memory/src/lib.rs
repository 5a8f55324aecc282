//! Semantic memory for talab: remember what was done, find it again, hand it to a prompt.
//!
//! The contract is [`MemoryManager`] (`add`, `search`, `get_context`) over [`Memory`] values, as
//! the seed names them. This crate holds the pieces every implementation shares:
//!
//! - [`store::MemoryRecords`]: the `memories` table and its append-only `memory_events` history
//!   on SQLite or PostgreSQL, with content-hash dedup and complete paging;
//! - [`context::render_context`]: the prompt-ready `get_context` format, with a character budget;
//! - [`normalise`], [`vector`] and [`terms`]: content hashing, f32 vector bytes, search terms;
//! - with the `stubs` feature, `stubs::MemoryStub`, an in-memory `MemoryManager` matching words.
//!
//! A standalone store, no CLI needed:
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use talab_memory::{Metadata, store::{MemoryRecords, NewMemory}};
//!
//! let records = MemoryRecords::connect("sqlite::memory:").await?;
//! let mut metadata = Metadata::new();
//! metadata.insert("type".into(), "code".into());
//! let added = records.insert(NewMemory::new("EMA calculation logic", metadata)).await?;
//!
//! let context = records.context(&[added.id.clone(), "no-such-id".into()], 4000).await?;
//! assert!(context.starts_with("# Relevant memories (1)\n"));
//! assert!(context.contains("EMA calculation logic"));
//! assert!(context.ends_with("Unknown memory ids (not found): no-such-id\n"));
//! # Ok::<(), talab_memory::MemoryError>(())
//! # }).unwrap();
//! ```

pub mod backends;
pub mod context;
pub mod embed;
mod error;
pub mod event;
mod manager;
pub mod manager_sql;
pub mod model;
pub mod normalise;
pub mod ops;
pub mod search;
pub mod store;
#[cfg(feature = "stubs")]
pub mod stubs;
pub mod terms;
pub mod time_phrase;
pub mod vector;
mod writers;

pub use backends::chroma::ChromaMemory;
pub use backends::pgvector::PgVectorMemory;
pub use context::{DEFAULT_CONTEXT_BUDGET, render_context};
pub use embed::{Embedder, EmbedderIdentity};
pub use error::MemoryError;
pub use event::MemoryEvent;
pub use manager::{BackendInfo, FILTER_OVERFETCH, MemoryManager};
pub use manager_sql::SqlMemoryManager;
pub use model::{
    DEFAULT_LIMIT, DEFAULT_THRESHOLD, FETCHED_RELEVANCE, Memory, Metadata, now_micros, unique_ids,
    validate_content, validate_metadata, validate_query, validate_scope, validate_threshold,
};
pub use normalise::content_hash;
pub use store::{DEFAULT_SCOPE, Fetched, Inserted, MIGRATIONS, MemoryRecords, NewMemory, Page};
#[cfg(feature = "stubs")]
pub use stubs::MemoryStub;
