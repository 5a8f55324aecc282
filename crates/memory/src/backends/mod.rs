//! Memory backends other than the embedded store ([`crate::SqlMemoryManager`], the default), each
//! behind [`crate::MemoryManager`] in a module of its own, each passing the same contract tests
//! (`tests/contract.rs`).

pub mod pgvector;
