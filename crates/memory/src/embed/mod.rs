//! Embedders turn text into vectors. Every store records which embedder made its vectors
//! ([`EmbedderIdentity`]) and refuses to mix them; each embedder also carries the threshold at
//! which its cosine scores mean "relevant", since that differs by model.

pub mod http;
pub mod lexical;
pub mod locate;
pub mod minilm;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::MemoryError;
use crate::search::hybrid::{self, Fusion};

/// Which model made a vector: stored with every vector and checked when a store is opened.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EmbedderIdentity {
    /// e.g. `sentence-transformers/all-MiniLM-L6-v2`, `lexical-hash`, `openai:text-embedding-3-small`.
    pub name: String,
    /// A revision that changes whenever the same name would produce different vectors.
    pub revision: String,
    /// Vector length.
    pub dim: usize,
}

impl std::fmt::Display for EmbedderIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{} ({} dims)", self.name, self.revision, self.dim)
    }
}

/// Text → L2-normalised vectors.
#[async_trait]
pub trait Embedder: Send + Sync {
    /// Which model this is (name, revision, dimension).
    fn identity(&self) -> EmbedderIdentity;
    /// The cosine threshold at which this embedder's hits are usually relevant (the default
    /// `search` threshold when the caller gives none).
    fn default_threshold(&self) -> f32;
    /// How hybrid search fuses this embedder's cosines with BM25 (see [`crate::search::hybrid`]):
    /// by default the semantic fusion, where BM25 only settles near-ties.
    fn fusion(&self) -> Fusion {
        hybrid::SEMANTIC
    }
    /// Embeds a batch; one L2-normalised vector of `identity().dim` values per input, in order.
    /// Fails as a whole: a failed call stores nothing.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, MemoryError>;
}

/// Embeds texts and checks the embedder kept its promise (one unit vector of its dimension per
/// text); vectors slightly off unit length are renormalised. Every store embeds through this, so
/// a misbehaving embedder is caught before anything is written.
pub(crate) async fn embed_checked(
    embedder: &dyn Embedder,
    identity: &EmbedderIdentity,
    texts: &[String],
) -> Result<Vec<Vec<f32>>, MemoryError> {
    let vectors = embedder.embed(texts).await?;
    let fail = |problem: String| MemoryError::EmbedderOutput {
        embedder: identity.to_string(),
        problem,
    };
    if vectors.len() != texts.len() {
        return Err(fail(format!(
            "{} vectors for {} texts",
            vectors.len(),
            texts.len()
        )));
    }
    vectors
        .into_iter()
        .map(|mut v| {
            if v.len() != identity.dim {
                return Err(fail(format!(
                    "a vector of {} values, not {}",
                    v.len(),
                    identity.dim
                )));
            }
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            if !norm.is_finite() || norm == 0.0 {
                return Err(fail("a zero or non-finite vector".into()));
            }
            if (norm - 1.0).abs() > 1e-4 {
                v.iter_mut().for_each(|x| *x /= norm);
            }
            Ok(v)
        })
        .collect()
}
