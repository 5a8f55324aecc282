//! `talab ask`: answers a question about what was done, from memory and the runs table.
//!
//! The time phrase ("today", "last 3 days", "since 2026-11-01"…) becomes a window in the user's
//! time zone and is stripped from the semantic query. Memory is searched (hybrid) inside the
//! window; when the question is about EMA refreshes, the runs in the window are the exact facts.
//! With no AI platform configured the answer is composed here, deterministically and offline; with
//! one, it is a `research` task whose context is `get_context` of the hits plus the runs, and the
//! answer reports the platform's cost and tokens. Finding nothing says what was searched.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::json;
use talab_memory::MemoryManager;
use talab_memory::search::{Filters, SearchRequest};
use talab_memory::time_phrase;
use talab_orchestrator::{Orchestrator, Task, TaskType};

use super::error::FlowError;
use super::refresh::{REFRESH_KIND, TASK_TYPE_KEY, grid_of, record_interrupted, thousands};
use super::runs::{Run, RunState, RunStore, short_id};

/// Words that make a question about refresh runs.
const RUN_WORDS: [&str; 7] = ["ema", "emas", "refresh", "refreshes", "run", "ran", "runs"];
/// Memory hits shown or sent as context.
const ASK_LIMIT: usize = 8;

/// One memory used in an answer.
#[derive(Debug, Clone, Serialize)]
pub struct UsedMemory {
    pub id: String,
    pub content: String,
    pub score: f32,
    pub created_at: DateTime<Utc>,
}

/// An answer and everything it was built from.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub question: String,
    /// The semantic query (the question without its time phrase).
    pub query: String,
    /// The window understood, e.g. `today (2026-11-27, UTC)`.
    pub window: Option<String>,
    pub answer: String,
    /// `offline` (composed here) or the platform that answered.
    pub answered_by: String,
    pub cost_usd: f64,
    pub tokens: u64,
    pub runs: Vec<Run>,
    pub memories: Vec<UsedMemory>,
    /// What was searched, for an empty answer and for `--json`.
    pub searched: String,
}

/// Answers `question` as of `now` in zone `tz`. `platform`: an orchestrator that has an AI
/// platform configured (None = answer offline).
pub async fn ask(
    memory: &dyn MemoryManager,
    runs: &RunStore,
    platform: Option<Arc<dyn Orchestrator>>,
    question: &str,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<Answer, FlowError> {
    record_interrupted(runs, memory).await?;
    let parsed = time_phrase::parse(question, now, tz);
    let (since, until) = parsed
        .window
        .as_ref()
        .map_or((None, None), |w| (w.since, w.until));
    let query = if parsed.query.trim().is_empty() {
        question.to_string()
    } else {
        parsed.query.clone()
    };
    let recall = SearchRequest {
        limit: ASK_LIMIT,
        filters: Filters {
            since,
            until,
            ..Filters::default()
        },
        ..SearchRequest::new(query.clone())
    };
    let found = memory.search_with(&recall).await?;
    let about_runs = query
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| RUN_WORDS.contains(&w.to_ascii_lowercase().as_str()))
        || found
            .hits
            .iter()
            .any(|m| m.metadata.get(TASK_TYPE_KEY).and_then(|v| v.as_str()) == Some(REFRESH_KIND));
    let runs_found = if about_runs {
        runs.between(since, until).await?
    } else {
        Vec::new()
    };
    let window = parsed.window.as_ref().map(|w| w.description.clone());
    let searched = format!(
        "memory for \"{query}\"{} (hybrid search, threshold {:.2}: {} below it, {} outside the filters){}",
        window.as_ref().map_or(String::new(), |w| format!(" in {w}")),
        found.threshold_used,
        found.below_threshold,
        found.filtered_out,
        if about_runs { ", and the runs table" } else { "" }
    );
    let memories: Vec<UsedMemory> = found
        .hits
        .iter()
        .map(|m| UsedMemory {
            id: m.id.clone(),
            content: m.content.clone(),
            score: m.relevance_score,
            created_at: m.created_at,
        })
        .collect();
    let mut answer = Answer {
        question: question.to_string(),
        query,
        window,
        answer: String::new(),
        answered_by: "offline".into(),
        cost_usd: 0.0,
        tokens: 0,
        runs: runs_found,
        memories,
        searched,
    };
    match platform {
        Some(orchestrator) if !(answer.runs.is_empty() && answer.memories.is_empty()) => {
            let ids: Vec<String> = answer.memories.iter().map(|m| m.id.clone()).collect();
            let context = if ids.is_empty() {
                String::new()
            } else {
                memory.get_context(&ids).await?
            };
            let mut task = Task::new(
                TaskType::Research,
                format!(
                    "{question}\n\nAnswer from the memories and runs in the context only; cite memory ids in \
                     [brackets]; say so if they do not answer the question."
                ),
            );
            task.context.insert("memory".into(), json!(context));
            task.context
                .insert("runs".into(), json!(runs_text(&answer.runs, tz)));
            let result = orchestrator.execute(task, true).await;
            if !result.success {
                return Err(FlowError::NoAnswer {
                    platform: result.platform.to_string(),
                    reason: result.error.unwrap_or_default(),
                });
            }
            answer.answer = result.output;
            answer.answered_by = result.platform.to_string();
            answer.cost_usd = result.cost;
            answer.tokens = result.tokens_used;
        }
        _ => answer.answer = compose(&answer, tz),
    }
    Ok(answer)
}

/// The runs as lines of text (for people and for a platform's context).
pub fn runs_text(runs: &[Run], tz: Tz) -> String {
    runs.iter()
        .map(|r| run_line(r, tz))
        .collect::<Vec<_>>()
        .join("\n")
}

fn run_line(r: &Run, tz: Tz) -> String {
    let at = r.started_at.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %Z");
    let ids = format!(
        "run {}{}",
        short_id(&r.id),
        r.memory_id
            .as_deref()
            .map_or(String::new(), |m| format!(", memory {}", short_id(m)))
    );
    if r.state == RunState::Running {
        format!("- RUNNING {} since {at} [{ids}]", r.symbols.join(", "))
    } else if r.success {
        format!(
            "- {} at {at}: {}, {} rows, {} rejects, {:.1} s [{ids}]",
            r.symbols.join(", "),
            grid_of(r),
            thousands(r.rows()),
            r.rejects,
            r.duration_ms / 1e3
        )
    } else {
        let how = match r.state {
            RunState::Interrupted => "INTERRUPTED",
            RunState::Running | RunState::Done => "FAILED",
        };
        format!(
            "- {how} {} at {at}: {} [{ids}]",
            r.symbols.join(", "),
            r.error.as_deref().unwrap_or("unknown error")
        )
    }
}

/// The offline answer.
fn compose(a: &Answer, tz: Tz) -> String {
    let when = a.window.clone().unwrap_or_else(|| "in all history".into());
    let mut out = Vec::new();
    if !a.runs.is_empty() {
        let count = |state: RunState, success: bool| {
            a.runs
                .iter()
                .filter(|r| r.state == state && r.success == success)
                .count()
        };
        let notes: Vec<String> = [
            (count(RunState::Done, false), "failed"),
            (count(RunState::Interrupted, false), "interrupted"),
            (count(RunState::Running, false), "still running"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        let mut head = format!(
            "{} EMA refresh{} ran {when}",
            a.runs.len(),
            if a.runs.len() == 1 { "" } else { "es" }
        );
        if !notes.is_empty() {
            head.push_str(&format!(" ({})", notes.join(", ")));
        }
        head.push(':');
        out.push(head);
        out.push(runs_text(&a.runs, tz));
    }
    let run_memories: Vec<&str> = a.runs.iter().filter_map(|r| r.memory_id.as_deref()).collect();
    let others: Vec<&UsedMemory> = a
        .memories
        .iter()
        .filter(|m| !run_memories.contains(&m.id.as_str()))
        .collect();
    if !others.is_empty() {
        out.push(if a.runs.is_empty() {
            format!("From memory ({when}):")
        } else {
            "Related memories:".to_string()
        });
        for m in others {
            out.push(format!(
                "- [{}] {} (score {:.2})",
                short_id(&m.id),
                m.content,
                m.score
            ));
        }
    }
    if out.is_empty() {
        return format!("Nothing found. Searched {}.", a.searched);
    }
    out.join("\n")
}
