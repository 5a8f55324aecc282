//! Searching a Chroma store: Chroma ranks by cosine distance in the server, talab reads the
//! scores (`relevance_score = 1 − distance`, the cosine) and applies the threshold.
//!
//! - **Vector**: `query` with the query's vector and the filters as `where` ([`super::filter`]).
//! - **Hybrid**: the same ranking. talab's hybrid fuses the cosine with BM25, and BM25 needs the
//!   collection's term statistics, which Chroma does not keep; hybrid's score is the cosine in
//!   every backend, so ranking by the vector alone keeps its meaning and its threshold.
//! - **Lexical**: refused ([`MemoryError::Unsupported`]): Chroma has no text ranking, and its
//!   `where_document` `$contains` is a case-sensitive substring test that would rank nothing.
//!
//! The counts are exact, as on the other backends, at the cost of reading ids and distances of
//! every memory that passes the filters (never their documents or vectors): Chroma has no count
//! with a filter, so `filtered_out` is the collection's count minus the ids `get` returns for the
//! filters, and `below_threshold` is what the query over all of those scored under the threshold.
//! Only the hits (the limit, and any tied with the last) are then fetched in full.

use super::{ChromaMemory, filter};
use crate::backends::newest_first_on_ties;
use crate::search::{SearchMode, SearchOutcome, SearchRequest};
use crate::{Memory, MemoryError, validate_query, validate_threshold};

impl ChromaMemory {
    /// The search of [`crate::MemoryManager::search_with`], in the server.
    pub(super) async fn search_in_server(
        &self,
        request: &SearchRequest,
    ) -> Result<SearchOutcome, MemoryError> {
        if request.mode == SearchMode::Lexical {
            return Err(self.lexical_unsupported());
        }
        validate_query(&request.query)?;
        let threshold = request
            .threshold
            .unwrap_or_else(|| self.embedder.default_threshold());
        validate_threshold(threshold)?;
        let where_ = filter::where_clause(&request.filters, &self.scope)?;
        let vector = self.embed(&request.query).await?;
        let total = self.collection.count().await? as usize;
        let passing = self.collection.ids(&where_).await?.len();
        let scored = match passing {
            0 => Vec::new(),
            n => self.collection.query(&vector, &where_, n).await?,
        };
        let mut kept: Vec<(String, f32)> = scored
            .into_iter()
            .map(|(id, distance)| (id, 1.0 - distance))
            .filter(|(_, score)| *score >= threshold)
            .collect();
        kept.sort_by(|a, b| b.1.total_cmp(&a.1));
        let below_threshold = passing.saturating_sub(kept.len());
        // The limit, and any tied with the last, whose order is decided by age below.
        let cut = match (request.limit, kept.get(request.limit.saturating_sub(1))) {
            (0, _) => 0,
            (limit, Some((_, last))) => limit + kept[limit..].iter().take_while(|(_, s)| s == last).count(),
            (_, None) => kept.len(),
        };
        kept.truncate(cut);
        let ids: Vec<&str> = kept.iter().map(|(id, _)| id.as_str()).collect();
        let mut records = self.collection.records(&ids).await?;
        let mut hits: Vec<(f32, Memory)> = kept
            .iter()
            .filter_map(|(id, score)| {
                let mut memory = records.remove(id)?.memory;
                memory.relevance_score = *score;
                Some((*score, memory))
            })
            .collect();
        hits.sort_by(newest_first_on_ties);
        hits.truncate(request.limit);
        Ok(SearchOutcome {
            hits: hits.into_iter().map(|(_, memory)| memory).collect(),
            threshold_used: threshold,
            below_threshold,
            filtered_out: total.saturating_sub(passing),
            embedder: Some(self.identity.clone()),
        })
    }

    /// What a lexical search answers.
    pub(super) fn lexical_unsupported(&self) -> MemoryError {
        use crate::MemoryManager;
        self.unsupported(
            "rank memories by their words (lexical search): Chroma has no text ranking; use vector \
             or hybrid search (hybrid ranks by the vector alone on chroma)",
        )
    }
}
