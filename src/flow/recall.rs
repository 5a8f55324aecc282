//! Filtered memory search for the flow, over either the real store or any `MemoryManager`.
//!
//! The seed's `MemoryManager::search` has no filters, but the flow needs them (earlier refreshes
//! only; "today" only). The real store filters inside its search ([`SqlMemoryManager::search_with`]);
//! any other manager (the stub in tests) is searched broadly and filtered here, so the flow runs
//! the same with either.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use talab_memory::search::{Filters, SearchRequest};
use talab_memory::{Memory, MemoryError, MemoryManager, Metadata, SqlMemoryManager};

/// What to look for.
#[derive(Debug, Clone, Default)]
pub struct Recall {
    pub query: String,
    pub metadata_eq: Metadata,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: usize,
}

/// What was found, and how.
#[derive(Debug, Clone)]
pub struct Recalled {
    pub hits: Vec<Memory>,
    pub threshold: f32,
    pub below_threshold: usize,
    pub filtered_out: usize,
}

/// The memory the flow uses.
#[derive(Clone)]
pub enum FlowMemory {
    /// The real store (filters and thresholds applied by its search).
    Sql(Arc<SqlMemoryManager>),
    /// Any manager, e.g. `MemoryStub` (searched with `threshold`, filtered afterwards).
    Other {
        manager: Arc<dyn MemoryManager>,
        threshold: f32,
    },
}

impl FlowMemory {
    pub fn manager(&self) -> Arc<dyn MemoryManager> {
        match self {
            FlowMemory::Sql(m) => m.clone(),
            FlowMemory::Other { manager, .. } => manager.clone(),
        }
    }

    pub async fn recall(&self, r: &Recall) -> Result<Recalled, MemoryError> {
        match self {
            FlowMemory::Sql(m) => {
                let request = SearchRequest {
                    limit: r.limit,
                    filters: Filters {
                        metadata_eq: r.metadata_eq.clone(),
                        since: r.since,
                        until: r.until,
                        ..Filters::default()
                    },
                    ..SearchRequest::new(r.query.clone())
                };
                let out = m.search_with(&request).await?;
                Ok(Recalled {
                    hits: out.hits,
                    threshold: out.threshold_used,
                    below_threshold: out.below_threshold,
                    filtered_out: out.filtered_out,
                })
            }
            FlowMemory::Other { manager, threshold } => {
                let all = manager
                    .search(&r.query, *threshold, r.limit.saturating_mul(20).max(100))
                    .await?;
                let total = all.len();
                let mut hits: Vec<Memory> = all
                    .into_iter()
                    .filter(|m| r.metadata_eq.iter().all(|(k, v)| m.metadata.get(k) == Some(v)))
                    .filter(|m| r.since.is_none_or(|s| m.created_at >= s))
                    .filter(|m| r.until.is_none_or(|u| m.created_at < u))
                    .collect();
                let filtered_out = total - hits.len();
                hits.truncate(r.limit);
                Ok(Recalled {
                    filtered_out,
                    hits,
                    threshold: *threshold,
                    below_threshold: 0,
                })
            }
        }
    }
}
