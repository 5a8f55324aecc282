//! Memory backends other than the embedded store ([`crate::SqlMemoryManager`], the default), each
//! behind [`crate::MemoryManager`] in a module of its own, each passing the same contract tests
//! (`tests/contract.rs`).
//!
//! What they say and do alike is here, once: the refusal of another embedder's store, and the
//! order of hits.

pub mod chroma;
pub mod pgvector;

use std::cmp::Ordering;

use crate::{EmbedderIdentity, Memory};

/// The one-line refusal of a store (`kind` `name`: `table talab_memories`, `collection x`) that
/// holds vectors of another embedder than the one in use.
pub(crate) fn another_embedder(
    kind: &str,
    name: &str,
    stored: &EmbedderIdentity,
    in_use: &EmbedderIdentity,
) -> String {
    format!(
        "{kind} {name} holds vectors from {stored}, but the embedder in use is {in_use}; their \
         scores cannot be compared; use {name} with the embedder that made them, or give {} a \
         {kind} of its own (nothing was changed)",
        in_use.name
    )
}

/// Higher score first, then newer, then smaller id (the embedded store's order).
pub(crate) fn newest_first_on_ties(a: &(f32, Memory), b: &(f32, Memory)) -> Ordering {
    b.0.total_cmp(&a.0)
        .then_with(|| b.1.created_at.cmp(&a.1.created_at))
        .then_with(|| a.1.id.cmp(&b.1.id))
}
