//! Retrieval quality on a labelled set: recall@5 and MRR per ranking mode, for any embedder.
//!
//! A labelled set is memories with ids of its own and queries naming the relevant ids; the
//! queries paraphrase (they do not copy the memories' words), so lexical overlap alone is not
//! enough. The numbers guide the fusion weight and each embedder's default threshold.

use std::collections::HashMap;

use serde::Deserialize;

use super::{SearchMode, SearchRequest};
use crate::{EmbedderIdentity, MemoryError, Metadata, SqlMemoryManager};

/// Hits looked at for recall.
pub const RECALL_AT: usize = 5;

/// A labelled set (the JSON of `tests/fixtures/labelled_set.json`).
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledSet {
    /// The memories to store.
    pub memories: Vec<LabelledMemory>,
    /// The questions asked of them.
    pub queries: Vec<LabelledQuery>,
}

/// One memory of a labelled set.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledMemory {
    /// Its id within the set.
    pub id: String,
    /// Its text.
    pub content: String,
    /// Its metadata.
    #[serde(default)]
    pub metadata: Metadata,
}

/// One query of a labelled set.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledQuery {
    /// The question.
    pub query: String,
    /// The set ids of the memories that answer it.
    pub relevant: Vec<String>,
}

/// The quality of one ranking mode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModeQuality {
    /// The mode.
    pub mode: SearchMode,
    /// Mean over queries of the share of relevant memories among the first [`RECALL_AT`] hits.
    pub recall_at_5: f64,
    /// Mean reciprocal rank of the first relevant hit (0 when none is returned).
    pub mrr: f64,
}

/// The quality of every mode for one embedder, plus the cosines seen (for thresholds).
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    /// The embedder.
    pub embedder: EmbedderIdentity,
    /// Vector, Lexical, Hybrid, in this order.
    pub modes: Vec<ModeQuality>,
    /// Cosine of every (query, relevant memory) pair, sorted ascending.
    pub relevant_cosines: Vec<f32>,
}

impl EvalReport {
    /// The quality of one mode.
    pub fn mode(&self, mode: SearchMode) -> ModeQuality {
        *self
            .modes
            .iter()
            .find(|m| m.mode == mode)
            .expect("every mode is evaluated")
    }
}

impl std::fmt::Display for EvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "retrieval quality with {}:", self.embedder)?;
        for m in &self.modes {
            writeln!(
                f,
                "  {:<8} recall@5 {:.3}  MRR {:.3}",
                format!("{:?}", m.mode),
                m.recall_at_5,
                m.mrr
            )?;
        }
        Ok(())
    }
}

/// Adds the set's memories to `manager` (an empty store) and scores every query in every mode,
/// with no threshold (-1) so the ranking alone is judged.
pub async fn evaluate(manager: &SqlMemoryManager, set: &LabelledSet) -> Result<EvalReport, MemoryError> {
    let mut real_ids: HashMap<String, String> = HashMap::new();
    for memory in &set.memories {
        let id = crate::MemoryManager::add(manager, &memory.content, memory.metadata.clone()).await?;
        real_ids.insert(id, memory.id.clone());
    }
    let mut modes = Vec::new();
    let mut relevant_cosines = Vec::new();
    for mode in [SearchMode::Vector, SearchMode::Lexical, SearchMode::Hybrid] {
        let (mut recall, mut mrr) = (0.0, 0.0);
        for q in &set.queries {
            let request = SearchRequest {
                threshold: Some(-1.0),
                limit: set.memories.len(),
                mode,
                ..SearchRequest::new(q.query.clone())
            };
            let hits = manager.search_with(&request).await?.hits;
            let labels: Vec<&str> = hits.iter().map(|h| real_ids[&h.id].as_str()).collect();
            let found = labels
                .iter()
                .take(RECALL_AT)
                .filter(|l| q.relevant.iter().any(|r| r == *l))
                .count();
            recall += found as f64 / q.relevant.len().min(RECALL_AT) as f64;
            if let Some(rank) = labels.iter().position(|l| q.relevant.iter().any(|r| r == l)) {
                mrr += 1.0 / (rank + 1) as f64;
            }
            if mode == SearchMode::Vector {
                relevant_cosines.extend(
                    hits.iter()
                        .filter(|h| q.relevant.contains(&real_ids[&h.id]))
                        .map(|h| h.relevance_score),
                );
            }
        }
        let n = set.queries.len().max(1) as f64;
        modes.push(ModeQuality {
            mode,
            recall_at_5: recall / n,
            mrr: mrr / n,
        });
    }
    relevant_cosines.sort_by(f32::total_cmp);
    Ok(EvalReport {
        embedder: manager.embedder_identity().clone(),
        modes,
        relevant_cosines,
    })
}
