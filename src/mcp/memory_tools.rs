//! The memory tools: search, add, read, change and forget memories, and render them for a prompt.
//! Names and argument shapes follow Mem0's MCP server where they overlap (`search_memories`,
//! `add_memory`, `get_memory`, `update_memory`, `delete_memory`), so a user can switch.
//!
//! Every tool works in the store's default scope, the same one `talab memory` uses, so what one
//! client writes every other client (and the CLI) finds; `add_memory` and `search_memories` take a
//! `scope` to keep a project's or an agent's memories apart (as `talab memory add|search --scope`).

use chrono::{DateTime, NaiveDate, Utc};
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use talab_memory::search::{Filters, SearchMode, SearchRequest, TAGS_KEY};
use talab_memory::{DEFAULT_CONTEXT_BUDGET, Memory};

use super::bounds::{self, PREVIEW_CHARS};
use super::{TalabMcp, failed};
use crate::cli::ModeArg;

/// A memory as the tools return it (no vector; long content cut, see [`bounds`]).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MemoryOut {
    pub id: String,
    pub content: String,
    /// True when `content` was cut (get_memory returns it whole).
    pub content_cut: bool,
    pub metadata: Map<String, Value>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// How well it matched the search (absent outside a search).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
}

impl MemoryOut {
    fn of(m: Memory, score: bool, max: usize) -> Self {
        let (content, content_cut) =
            bounds::preview(&m.content, max, "call get_memory with its id for the rest");
        MemoryOut {
            id: m.id,
            content,
            content_cut,
            metadata: m.metadata,
            created_at: m.created_at.to_rfc3339(),
            score: score.then_some(m.relevance_score),
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchArgs {
    /// What to look for: words or a question.
    pub query: String,
    /// At most this many memories (default 10, at most 100).
    pub limit: Option<usize>,
    /// Minimum relevance; default: the embedder's own (about 0.3 for the local model).
    pub threshold: Option<f32>,
    /// `hybrid` (meaning and words, the default), `vector` (meaning) or `lexical` (words).
    pub mode: Option<String>,
    /// Only memories whose metadata has exactly these values.
    pub metadata: Option<Map<String, Value>>,
    /// Only memories carrying all of these tags.
    pub tags: Option<Vec<String>>,
    /// Only memories created at or after this time (RFC 3339, or a UTC day YYYY-MM-DD).
    pub since: Option<String>,
    /// Only memories created before this time (RFC 3339, or a UTC day YYYY-MM-DD: before that day).
    pub until: Option<String>,
    /// Also return deprecated memories.
    pub include_deprecated: Option<bool>,
    /// Search this scope instead of the default one ("default", shared with `talab memory`).
    pub scope: Option<String>,
    /// Where to continue: the `next_cursor` of the previous answer.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchOut {
    pub memories: Vec<MemoryOut>,
    /// The threshold applied.
    pub threshold_used: f32,
    /// Memories that matched but scored below the threshold, and those the filters left out.
    pub below_threshold: usize,
    pub filtered_out: usize,
    /// Pass as `cursor` for the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AddArgs {
    /// The text to remember.
    pub content: String,
    /// Facts stored with it (a JSON object), used by search filters.
    pub metadata: Option<Map<String, Value>>,
    /// Tags (stored in metadata.tags).
    pub tags: Option<Vec<String>>,
    /// Store it in this scope (a project, an agent) instead of the default one ("default",
    /// shared with `talab memory`); search it with the same `scope`.
    pub scope: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AddOut {
    pub id: String,
    /// True when the same text was already stored: nothing was written and its id is returned.
    pub duplicate: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct IdArg {
    /// The memory's id.
    pub id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateArgs {
    /// The memory's id.
    pub id: String,
    /// The new text (re-embedded); absent: unchanged.
    pub content: Option<String>,
    /// The new metadata (replaces the old); absent: unchanged.
    pub metadata: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DeprecateArgs {
    /// The memory's id.
    pub id: String,
    /// Why it no longer holds (kept in its history).
    pub reason: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ContextArgs {
    /// The memories' ids, in the order wanted.
    pub ids: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Done {
    pub id: String,
    /// What was done.
    pub done: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HistoryOut {
    pub id: String,
    /// Each change, oldest first: `add`, `update`, `deprecate` or `delete`, when, and what changed.
    pub events: Vec<Value>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ContextOut {
    /// The prompt-ready block.
    pub context: String,
}

#[tool_router(router = memory_router, vis = "pub(super)")]
impl TalabMcp {
    #[tool(
        description = "Search the lab's memories by meaning and words. Returns the best matches with scores; filters on metadata, tags and creation time; paginated with `cursor`.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn search_memories(
        &self,
        Parameters(a): Parameters<SearchArgs>,
    ) -> Result<Json<SearchOut>, String> {
        let manager = self.app.memory().await.map_err(failed)?;
        let limit = bounds::items(a.limit);
        let offset = bounds::cursor(a.cursor.as_deref())?;
        let metadata = a.metadata.unwrap_or_default();
        if let Some(tags) = &a.tags
            && metadata.contains_key(TAGS_KEY)
        {
            return Err(format!(
                "give tags either as `tags` or in metadata, not both ({tags:?})"
            ));
        }
        let request = SearchRequest {
            query: a.query,
            threshold: a.threshold,
            limit: offset + limit + 1,
            mode: match a.mode.as_deref() {
                None => SearchMode::Hybrid,
                Some(mode) => super::choice::<ModeArg>("mode", mode)?.into(),
            },
            filters: Filters {
                metadata_eq: metadata,
                tags_all: a.tags.unwrap_or_default(),
                since: a.since.as_deref().map(|t| time("since", t)).transpose()?,
                until: a.until.as_deref().map(|t| time("until", t)).transpose()?,
                include_deprecated: a.include_deprecated.unwrap_or(false),
                scope: a.scope,
                ..Filters::default()
            },
        };
        let outcome = manager.search_with(&request).await.map_err(failed)?;
        let more = outcome.hits.len() > offset + limit;
        let mut memories: Vec<MemoryOut> = outcome
            .hits
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|m| MemoryOut::of(m, true, PREVIEW_CHARS))
            .collect();
        let answer = |memories: &[MemoryOut], next: Option<String>| SearchOut {
            memories: memories.to_vec(),
            threshold_used: outcome.threshold_used,
            below_threshold: outcome.below_threshold,
            filtered_out: outcome.filtered_out,
            next_cursor: next,
        };
        let dropped = self.bounds.fit(&mut memories, |m| answer(m, Some(String::new())));
        let next = (more || dropped > 0).then(|| (offset + memories.len()).to_string());
        Ok(Json(answer(&memories, next)))
    }

    #[tool(
        description = "Remember a text, with optional metadata and tags. Returns its id; says when the same text was already stored (then nothing is written).",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn add_memory(&self, Parameters(a): Parameters<AddArgs>) -> Result<Json<AddOut>, String> {
        let manager = self.app.memory().await.map_err(failed)?;
        let mut metadata = a.metadata.unwrap_or_default();
        if let Some(tags) = a.tags {
            metadata.insert(TAGS_KEY.into(), Value::from(tags));
        }
        let inserted = match a.scope.as_deref() {
            Some(scope) => manager.insert_in(scope, &a.content, metadata).await,
            None => manager.insert(&a.content, metadata).await,
        }
        .map_err(failed)?;
        Ok(Json(AddOut {
            id: inserted.id,
            duplicate: !inserted.created,
        }))
    }

    #[tool(
        description = "One memory by id, with its whole content (up to the answer size limit).",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_memory(&self, Parameters(a): Parameters<IdArg>) -> Result<Json<MemoryOut>, String> {
        let manager = self.app.memory().await.map_err(failed)?;
        let memory = manager.get(&a.id).await.map_err(failed)?;
        Ok(Json(MemoryOut::of(memory, false, self.bounds.text_chars())))
    }

    #[tool(
        description = "Change a memory's content and/or metadata; the previous values stay in its history.",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn update_memory(&self, Parameters(a): Parameters<UpdateArgs>) -> Result<Json<MemoryOut>, String> {
        let manager = self.app.memory().await.map_err(failed)?;
        let memory = manager
            .update(&a.id, a.content.as_deref(), a.metadata)
            .await
            .map_err(failed)?;
        Ok(Json(MemoryOut::of(memory, false, PREVIEW_CHARS)))
    }

    #[tool(
        description = "Mark a memory as no longer true (it stays, with the reason, and searches skip it unless asked).",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn deprecate_memory(&self, Parameters(a): Parameters<DeprecateArgs>) -> Result<Json<Done>, String> {
        let manager = self.app.memory().await.map_err(failed)?;
        manager.deprecate(&a.id, &a.reason).await.map_err(failed)?;
        Ok(Json(Done {
            id: a.id,
            done: "deprecated".into(),
        }))
    }

    #[tool(
        description = "Delete a memory for good (its history keeps that it was deleted).",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_memory(&self, Parameters(a): Parameters<IdArg>) -> Result<Json<Done>, String> {
        let manager = self.app.memory().await.map_err(failed)?;
        manager.delete(&a.id).await.map_err(failed)?;
        Ok(Json(Done {
            id: a.id,
            done: "deleted".into(),
        }))
    }

    #[tool(
        description = "A memory's changes, oldest first.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn memory_history(&self, Parameters(a): Parameters<IdArg>) -> Result<Json<HistoryOut>, String> {
        let manager = self.app.memory().await.map_err(failed)?;
        let mut events: Vec<Value> = manager
            .history(&a.id)
            .await
            .map_err(failed)?
            .into_iter()
            .map(|e| serde_json::json!({"event": e.event, "at": e.at.to_rfc3339(), "detail": e.detail}))
            .collect();
        let id = a.id;
        self.bounds.fit(&mut events, |events| HistoryOut {
            id: id.clone(),
            events: events.to_vec(),
        });
        Ok(Json(HistoryOut { id, events }))
    }

    #[tool(
        description = "Memories by id rendered as one prompt-ready context block, in the order given.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn memory_context(
        &self,
        Parameters(a): Parameters<ContextArgs>,
    ) -> Result<Json<ContextOut>, String> {
        let manager = self.app.memory().await.map_err(failed)?;
        if a.ids.len() > bounds::MAX_ITEMS {
            return Err(format!("at most {} ids at once", bounds::MAX_ITEMS));
        }
        let context = manager.get_context(&a.ids).await.map_err(failed)?;
        let budget = DEFAULT_CONTEXT_BUDGET.min(self.bounds.text_chars());
        let (context, _) = bounds::preview(&context, budget, "ask for fewer ids");
        Ok(Json(ContextOut { context }))
    }
}

/// An RFC 3339 time, or a UTC day (its start).
fn time(what: &str, text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(talab_features::day_start)
        .map_err(|_| format!("{what}: '{text}' is neither an RFC 3339 time nor a day YYYY-MM-DD"))
}
