//! The integration tests of talab-memory as one test binary: one link against the dependency tree
//! instead of one per file (linking was most of a cold test build). `util` loads the MiniLM model
//! once; the other modules are one area each.

mod chroma;
mod contract;
mod embed_http;
mod embed_locate;
mod embed_minilm;
mod manager_store;
mod pgvector;
mod search_exact;
mod search_quality;
mod search_quantised;
mod store;
#[cfg(feature = "stubs")]
mod stub;
mod trust_scrub;
mod util;
