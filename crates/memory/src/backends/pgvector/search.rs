//! Searching a pgvector store: the ranking runs in the server, and only the hits (with their
//! scores) come back to the process.
//!
//! - **Vector**: `ORDER BY embedding <=> query LIMIT k` over the HNSW index, the filters and the
//!   cosine threshold in the same `WHERE`. pgvector 0.6 filters *after* the index scan, so a
//!   selective filter can leave fewer than `k` rows although more qualify; the count query
//!   (below) says how many qualify, and when the index came back short the same query runs again
//!   as an exact scan (`enable_indexscan = off`), so a filter never silently shortens a result.
//! - **Lexical**: PostgreSQL's full-text search, not talab's BM25: BM25 needs the collection's
//!   term statistics in the process, which is what this backend exists to avoid. The query's
//!   words are stemmed by the server (`to_tsvector('english', …)`) and OR-ed, so a memory sharing
//!   any word matches (as with BM25), ranked by `ts_rank_cd` (normalised by document length). The
//!   threshold is relative, as in the embedded store: a hit scores at least that fraction of the
//!   best match.
//! - **Hybrid**: the server returns the best candidates by cosine and the best by text rank
//!   (each [`hybrid::DEPTH`] deep, all above the cosine threshold), and talab's own fusion for the
//!   embedder ([`hybrid::fuse_lists`]) ranks them, as the embedded store does; the scores differ
//!   only in the lexical half (text rank rather than BM25).
//!
//! `relevance_score` is the cosine in every mode, as in the embedded store. The counts
//! (`filtered_out`, `below_threshold`) are exact: one aggregate over the table, in the server
//! (it reads every row's vector there, a sequential scan; it loads none into the process).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use talab_db::sqlx::types::Json;
use talab_db::sqlx::{self, PgConnection, Postgres, QueryBuilder};

use super::{PgVectorMemory, filter};
use crate::backends::newest_first_on_ties;
use crate::search::{SearchMode, SearchOutcome, SearchRequest, hybrid};
use crate::{Memory, MemoryError, Metadata, validate_query, validate_threshold};

/// pgvector's largest `hnsw.ef_search`.
const MAX_EF_SEARCH: usize = 1000;
/// pgvector's default `hnsw.ef_search`, kept when a search asks for fewer rows.
const MIN_EF_SEARCH: usize = 40;

/// What one candidate row brings back.
type Row = (String, String, Json<Metadata>, Vec<f32>, DateTime<Utc>, f32, f32);

/// A memory found, with its cosine (its `relevance_score`) and its text rank (0 when not ranked
/// by text).
struct Candidate {
    memory: Memory,
    lexical: f32,
}

/// How a candidate list is ordered.
#[derive(Clone, Copy, PartialEq)]
enum Order {
    Cosine,
    Lexical,
}

/// Which rows a search keeps, for the counts.
#[derive(Clone, Copy)]
enum Keep {
    /// Cosine at least this.
    Cosine(f32),
    /// Sharing a word with the query, text rank at least this.
    Lexical(f32),
}

/// (all rows, rows passing the filters, rows passing the filters and kept).
struct Counts {
    total: i64,
    passing: i64,
    kept: i64,
}

impl PgVectorMemory {
    /// The search of [`crate::MemoryManager::search_with`], in the server.
    pub(super) async fn search_in_server(
        &self,
        request: &SearchRequest,
    ) -> Result<SearchOutcome, MemoryError> {
        validate_query(&request.query)?;
        let threshold = request.threshold.unwrap_or_else(|| match request.mode {
            SearchMode::Lexical => 0.0,
            SearchMode::Vector | SearchMode::Hybrid => self.embedder.default_threshold(),
        });
        validate_threshold(threshold)?;
        let vector = self.embed(std::slice::from_ref(&request.query)).await?.remove(0);
        let search = Search {
            memory: self,
            request,
            vector,
        };
        let mut tx = self.pool.begin().await?;
        let depth = match request.mode {
            SearchMode::Hybrid => request.limit.max(hybrid::DEPTH),
            SearchMode::Vector | SearchMode::Lexical => request.limit,
        };
        sqlx::query(&format!(
            "SET LOCAL hnsw.ef_search = {}",
            depth.clamp(MIN_EF_SEARCH, MAX_EF_SEARCH)
        ))
        .execute(&mut *tx)
        .await?;
        let (mut hits, counts) = match request.mode {
            SearchMode::Vector => {
                let counts = search.counts(&mut tx, Keep::Cosine(threshold)).await?;
                let by_cosine = search.by_cosine(&mut tx, threshold, depth, &counts).await?;
                let hits = by_cosine
                    .into_iter()
                    .map(|c| (c.memory.relevance_score, c.memory))
                    .collect();
                (hits, counts)
            }
            SearchMode::Lexical => {
                let ranked = search
                    .fetch(&mut tx, Order::Lexical, None, request.limit.max(1))
                    .await?;
                let best = ranked.first().map_or(0.0, |c| c.lexical);
                let floor = threshold * best;
                let counts = search.counts(&mut tx, Keep::Lexical(floor)).await?;
                let hits = ranked
                    .into_iter()
                    .filter(|c| c.lexical >= floor)
                    .map(|c| (c.lexical, c.memory))
                    .collect();
                (hits, counts)
            }
            SearchMode::Hybrid => {
                let counts = search.counts(&mut tx, Keep::Cosine(threshold)).await?;
                let by_cosine = search.by_cosine(&mut tx, threshold, depth, &counts).await?;
                let by_lexical = search
                    .fetch(&mut tx, Order::Lexical, Some(threshold), depth)
                    .await?;
                (self.fuse(by_cosine, by_lexical), counts)
            }
        };
        tx.rollback().await?;
        hits.sort_by(newest_first_on_ties);
        hits.truncate(request.limit);
        Ok(SearchOutcome {
            hits: hits.into_iter().map(|(_, memory)| memory).collect(),
            threshold_used: threshold,
            below_threshold: (counts.passing - counts.kept).max(0) as usize,
            filtered_out: (counts.total - counts.passing).max(0) as usize,
            embedder: Some(self.identity.clone()),
        })
    }

    /// The two candidate lists of a hybrid search as one, scored by the embedder's fusion.
    fn fuse(&self, by_cosine: Vec<Candidate>, by_lexical: Vec<Candidate>) -> Vec<(f32, Memory)> {
        let mut all: Vec<Memory> = Vec::new();
        let mut slot: HashMap<String, usize> = HashMap::new();
        let mut slot_of = |c: Candidate| match slot.get(&c.memory.id) {
            Some(&at) => (at, c.lexical),
            None => {
                slot.insert(c.memory.id.clone(), all.len());
                all.push(c.memory);
                (all.len() - 1, c.lexical)
            }
        };
        let by_cosine: Vec<(usize, f32)> = by_cosine.into_iter().map(&mut slot_of).collect();
        let by_lexical: Vec<(usize, f32)> = by_lexical.into_iter().map(&mut slot_of).collect();
        let by_cosine: Vec<(usize, f32)> = by_cosine
            .into_iter()
            .map(|(at, _)| (at, all[at].relevance_score))
            .collect();
        let fused = hybrid::fuse_lists(self.embedder.fusion(), &by_cosine, &by_lexical, |at| {
            all[at].relevance_score
        });
        fused
            .into_iter()
            .map(|(at, score)| (score, all[at].clone()))
            .collect()
    }
}

/// One search's query, embedded, and the SQL it runs.
struct Search<'a> {
    memory: &'a PgVectorMemory,
    request: &'a SearchRequest,
    vector: Vec<f32>,
}

impl Search<'_> {
    /// The query vector, as pgvector's type.
    fn push_vector(&self, q: &mut QueryBuilder<'_, Postgres>) {
        q.push("(")
            .push_bind(self.vector.clone())
            .push("::real[]::vector)");
    }

    /// The query's words, stemmed by the server, OR-ed: a memory sharing any of them matches.
    /// Each lexeme is quoted for `tsquery` (quotes and backslashes doubled); a query of stop words
    /// only gives NULL, which matches nothing.
    fn push_tsquery(&self, q: &mut QueryBuilder<'_, Postgres>) {
        q.push(
            "(SELECT string_agg('''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || '''', ' | ')::tsquery \
             FROM unnest(to_tsvector('english', ",
        )
        .push_bind(self.request.query.clone())
        .push(")))");
    }

    fn push_rank(&self, q: &mut QueryBuilder<'_, Postgres>) {
        q.push("ts_rank_cd(lexical, ");
        self.push_tsquery(q);
        q.push(", 1)");
    }

    fn push_cosine(&self, q: &mut QueryBuilder<'_, Postgres>) {
        q.push("(1 - (embedding <=> ");
        self.push_vector(q);
        q.push("))");
    }

    fn push_filters(&self, q: &mut QueryBuilder<'_, Postgres>) {
        filter::push(q, &self.request.filters, &self.memory.scope);
    }

    /// The best `k` rows passing the filters (and, with `cosine_floor`, the cosine threshold),
    /// by `order`; lexical order only returns rows sharing a word with the query.
    async fn fetch(
        &self,
        tx: &mut PgConnection,
        order: Order,
        cosine_floor: Option<f32>,
        k: usize,
    ) -> Result<Vec<Candidate>, MemoryError> {
        let mut q = QueryBuilder::new("SELECT id, content, metadata, embedding::real[], created_at, ");
        self.push_cosine(&mut q);
        q.push("::float4, ");
        match order {
            Order::Cosine => q.push("0::float4"),
            Order::Lexical => {
                self.push_rank(&mut q);
                q.push("::float4")
            }
        };
        q.push(format!(" FROM {} WHERE ", self.memory.tables.memories));
        self.push_filters(&mut q);
        if order == Order::Lexical {
            q.push(" AND lexical @@ ");
            self.push_tsquery(&mut q);
        }
        if let Some(floor) = cosine_floor {
            q.push(" AND ");
            self.push_cosine(&mut q);
            q.push(" >= ").push_bind(f64::from(floor));
        }
        match order {
            // Exactly `embedding <=> constant`, so the planner can walk the HNSW index.
            Order::Cosine => {
                q.push(" ORDER BY embedding <=> ");
                self.push_vector(&mut q);
            }
            Order::Lexical => {
                q.push(" ORDER BY ");
                self.push_rank(&mut q);
                q.push(" DESC, created_at DESC, id");
            }
        }
        q.push(" LIMIT ").push_bind(i64::try_from(k).unwrap_or(i64::MAX));
        let rows: Vec<Row> = q.build_query_as().fetch_all(&mut *tx).await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, content, metadata, embedding, created_at, cosine, lexical)| Candidate {
                    memory: Memory {
                        id,
                        content,
                        metadata: metadata.0,
                        embedding,
                        created_at,
                        relevance_score: cosine,
                    },
                    lexical,
                },
            )
            .collect())
    }

    /// The best `k` by cosine at or above `threshold`; exact even when the approximate index
    /// returned fewer rows than qualify (see the module docs).
    async fn by_cosine(
        &self,
        tx: &mut PgConnection,
        threshold: f32,
        k: usize,
        counts: &Counts,
    ) -> Result<Vec<Candidate>, MemoryError> {
        let found = self.fetch(tx, Order::Cosine, Some(threshold), k).await?;
        let qualifying = usize::try_from(counts.kept).unwrap_or(0);
        if found.len() >= k.min(qualifying) {
            return Ok(found);
        }
        tracing::debug!(
            found = found.len(),
            qualifying,
            "the HNSW index returned fewer rows than pass the filters; scanning exactly"
        );
        sqlx::query("SET LOCAL enable_indexscan = off")
            .execute(&mut *tx)
            .await?;
        let exact = self.fetch(tx, Order::Cosine, Some(threshold), k).await;
        sqlx::query("SET LOCAL enable_indexscan = on")
            .execute(&mut *tx)
            .await?;
        exact
    }

    /// How many rows there are, pass the filters, and are kept by `keep`: one aggregate, in the
    /// server.
    async fn counts(&self, tx: &mut PgConnection, keep: Keep) -> Result<Counts, MemoryError> {
        let mut q = QueryBuilder::new("SELECT count(*), count(*) FILTER (WHERE ");
        self.push_filters(&mut q);
        q.push("), count(*) FILTER (WHERE ");
        self.push_filters(&mut q);
        match keep {
            Keep::Cosine(threshold) => {
                q.push(" AND ");
                self.push_cosine(&mut q);
                q.push(" >= ").push_bind(f64::from(threshold));
            }
            Keep::Lexical(floor) => {
                q.push(" AND lexical @@ ");
                self.push_tsquery(&mut q);
                q.push(" AND ");
                self.push_rank(&mut q);
                q.push(" >= ").push_bind(floor);
            }
        }
        q.push(format!(") FROM {}", self.memory.tables.memories));
        let (total, passing, kept): (i64, i64, i64) = q.build_query_as().fetch_one(&mut *tx).await?;
        Ok(Counts { total, passing, kept })
    }
}
