//! Search over a store: what a request may ask ([`SearchRequest`]), what it tells back
//! ([`SearchOutcome`]), and the in-memory index that answers it ([`SearchIndex`]).
//!
//! The contract: `relevance_score` is the cosine of query and memory vectors, a hit is kept iff
//! it is at least the threshold, hits are sorted best first with ties going to the newest. The
//! [`SearchMode`] only changes the ranking among the kept hits (see [`hybrid`]).

pub mod bm25;
mod columns;
mod entry;
pub mod eval;
pub mod filter;
pub mod hybrid;
mod index;
pub mod matrix;
pub mod quantised;

pub use entry::IndexEntry;
pub use filter::{Filters, TAGS_KEY};
pub use index::SearchIndex;

use crate::{DEFAULT_LIMIT, EmbedderIdentity, Memory};

/// How hits are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// Vector cosine fused with BM25 (the default; see [`hybrid`]).
    #[default]
    Hybrid,
    /// Vector cosine only.
    Vector,
    /// BM25 only; memories sharing no term with the query are not returned.
    Lexical,
}

impl std::str::FromStr for SearchMode {
    type Err = crate::MemoryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "hybrid" => Ok(SearchMode::Hybrid),
            "vector" => Ok(SearchMode::Vector),
            "lexical" => Ok(SearchMode::Lexical),
            other => Err(crate::MemoryError::InvalidSearch(format!(
                "unknown search mode {other:?}: use hybrid, vector or lexical"
            ))),
        }
    }
}

/// A search with everything it can say.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// What to look for.
    pub query: String,
    /// Each mode's own threshold. Vector and hybrid: keep hits whose cosine is at least this
    /// (`None`: the embedder's default). Lexical: keep hits whose BM25 score is at least this
    /// fraction of the best match's, in [0, 1] (`None`: 0, every memory sharing a term); a cosine
    /// threshold there hid exact-word matches whose meaning scored low.
    pub threshold: Option<f32>,
    /// At most this many hits.
    pub limit: usize,
    /// Which memories may be returned.
    pub filters: Filters,
    /// How hits are ranked.
    pub mode: SearchMode,
}

impl SearchRequest {
    /// A hybrid search for `query` with the embedder's threshold, the default limit, no filters.
    pub fn new(query: impl Into<String>) -> Self {
        SearchRequest {
            query: query.into(),
            threshold: None,
            limit: DEFAULT_LIMIT,
            filters: Filters::default(),
            mode: SearchMode::Hybrid,
        }
    }
}

/// The hits of a search and what was left out, so a caller can explain an empty answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOutcome {
    /// Best first; `relevance_score` is the cosine.
    pub hits: Vec<Memory>,
    /// The threshold applied (the request's, or the embedder's default).
    pub threshold_used: f32,
    /// Memories that passed the filters but scored below the threshold (in lexical mode, also
    /// those sharing no term with the query).
    pub below_threshold: usize,
    /// Memories excluded by the filters (deprecated, scope, dates, metadata, tags).
    pub filtered_out: usize,
    /// The embedder that scored them (None: a backend that ranks in its own way and does not say).
    pub embedder: Option<EmbedderIdentity>,
}
