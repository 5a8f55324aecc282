//! `refresh-ema` as one orchestrated, remembered task (integration spec):
//!
//! 1. a `sql_db_work` task naming the local `ema_refresh` tool, with a fresh correlation id;
//! 2. memory context: earlier refreshes of these symbols (`task_type = ema_refresh`) rendered with
//!    `get_context` into `task.context["memory"]`;
//! 3. the orchestrator routes it (to `local`) and runs the tool;
//! 4. the outcome is stored twice: a structured run (`talab_runs`) and a memory sentence with
//!    metadata — failures included, with their error.
//!
//! One tracing span carries the correlation id through all four steps (visible with `-v`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use talab_memory::Metadata;
use talab_orchestrator::{Orchestrator, Task, TaskResult, TaskType};
use tracing::Instrument;

use super::ema_tool::{EMA_REFRESH_TOOL, RefreshRequest, ToolReport};
use super::recall::{FlowMemory, Recall};
use super::runs::{Run, RunStore, short_id};
use crate::exit::CliError;

/// `task_type` of refresh memories (metadata), and `kind` of refresh runs.
pub const REFRESH_KIND: &str = "ema_refresh";
/// How many earlier refreshes go into the context.
const CONTEXT_MEMORIES: usize = 5;

/// What one orchestrated refresh did.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshOutcome {
    pub run: Run,
    /// The tool's per-symbol report (None when the task failed before the tool answered).
    pub report: Option<ToolReport>,
    /// The memories given to the task as context.
    pub context_ids: Vec<String>,
    /// The context text as the task carried it.
    pub context: String,
    /// The sentence remembered.
    pub memory: String,
    pub platform: String,
}

/// The parts the flow joins: any orchestrator (real or stub), memory (real or stub), the runs table.
#[derive(Clone)]
pub struct Flow {
    pub orchestrator: Arc<dyn Orchestrator>,
    pub memory: FlowMemory,
    pub runs: RunStore,
}

impl Flow {
    /// Runs a refresh request end to end (see the module docs). Errors here are the flow's own
    /// (database, memory); a failed refresh is an `Ok` outcome whose run says `success: false`.
    pub async fn refresh(&self, request: &RefreshRequest) -> Result<RefreshOutcome, CliError> {
        let correlation_id = uuid::Uuid::new_v4().to_string();
        let span = tracing::info_span!("refresh_ema", correlation_id = %correlation_id);
        self.refresh_in_span(request, correlation_id)
            .instrument(span)
            .await
    }

    async fn refresh_in_span(
        &self,
        request: &RefreshRequest,
        correlation_id: String,
    ) -> Result<RefreshOutcome, CliError> {
        let started_at = Utc::now();
        let symbols: Vec<String> = request.symbols.iter().map(|s| s.trim().to_uppercase()).collect();

        let mut filter = Metadata::new();
        filter.insert("task_type".into(), json!(REFRESH_KIND));
        let recall = Recall {
            query: format!("EMA refresh {}", symbols.join(" ")),
            metadata_eq: filter,
            limit: CONTEXT_MEMORIES,
            ..Recall::default()
        };
        let found = self.memory.recall(&recall).await.map_err(memory_error)?;
        let context_ids: Vec<String> = found.hits.iter().map(|m| m.id.clone()).collect();
        let context = if context_ids.is_empty() {
            String::new()
        } else {
            self.memory
                .manager()
                .get_context(&context_ids)
                .await
                .map_err(memory_error)?
        };
        tracing::info!(memories = context_ids.len(), "memory context");

        let mut task = Task::new(
            TaskType::SqlDbWork,
            format!("Refresh EMAs for {}", symbols.join(", ")),
        );
        let mut metadata = match serde_json::to_value(request) {
            Ok(Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        metadata.insert("tool".into(), json!(EMA_REFRESH_TOOL));
        metadata.insert("correlation_id".into(), json!(correlation_id));
        task.metadata = metadata;
        task.context.insert("memory".into(), json!(context));
        task.context.insert("memory_ids".into(), json!(context_ids));

        let result = self.orchestrator.execute(task, true).await;
        tracing::info!(platform = %result.platform, success = result.success, "task done");
        let report: Option<ToolReport> = result
            .success
            .then(|| serde_json::from_str(&result.output).ok())
            .flatten();
        let mut run = run_record(&result, report.as_ref(), &symbols, correlation_id, started_at);
        self.runs.put(&run).await?;

        let sentence = sentence(&run);
        let memory_id = self
            .memory
            .manager()
            .add(&sentence, memory_metadata(&run))
            .await
            .map_err(memory_error)?;
        run.memory_id = Some(memory_id);
        self.runs.put(&run).await?;
        tracing::info!(run_id = %run.id, "run and memory stored");
        Ok(RefreshOutcome {
            run,
            report,
            context_ids,
            context,
            memory: sentence,
            platform: result.platform.to_string(),
        })
    }
}

fn memory_error(e: talab_memory::MemoryError) -> CliError {
    CliError::failure(format!("memory: {e}"))
}

fn run_record(
    result: &TaskResult,
    report: Option<&ToolReport>,
    symbols: &[String],
    correlation_id: String,
    started_at: DateTime<Utc>,
) -> Run {
    let finished_at = Utc::now();
    let refreshed: Vec<_> = report.map(|r| r.refreshed().collect()).unwrap_or_default();
    let error = match report {
        Some(r) if !r.ok() => Some(
            r.symbols
                .iter()
                .filter_map(|s| s.error.as_ref().map(|e| format!("{}: {e}", s.symbol)))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Some(_) => None,
        None => Some(
            result
                .error
                .clone()
                .unwrap_or_else(|| "the refresh tool gave no report".into()),
        ),
    };
    let first_days = refreshed.iter().map(|r| r.first_day);
    let last_days = refreshed.iter().map(|r| r.last_day);
    Run {
        id: uuid::Uuid::new_v4().to_string(),
        kind: REFRESH_KIND.into(),
        correlation_id,
        task_id: result
            .metadata
            .get("task_id")
            .and_then(Value::as_str)
            .map(str::to_string),
        memory_id: None,
        started_at,
        finished_at,
        symbols: symbols.to_vec(),
        tfs: report.map(|r| r.tfs.clone()).unwrap_or_default(),
        periods: report.map(|r| r.periods.clone()).unwrap_or_default(),
        date_from: first_days.min(),
        date_to: last_days.max(),
        rows_tf_day: refreshed.iter().map(|r| r.rows_tf_day as i64).sum(),
        rows_calendar: refreshed.iter().map(|r| r.rows_calendar as i64).sum(),
        rejects: refreshed.iter().map(|r| r.rejects as i64).sum(),
        duration_ms: (finished_at - started_at).num_milliseconds() as f64,
        success: error.is_none(),
        error,
        detail: report.map_or(Value::Null, |r| serde_json::to_value(r).unwrap_or(Value::Null)),
    }
}

/// "12 204" for people.
pub fn thousands(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// "1D…1Y_CAL" for a list of timeframes; "9…200" for periods.
pub fn span_of<T: ToString>(items: &[T]) -> String {
    match items {
        [] => "none".into(),
        [one] => one.to_string(),
        [first, .., last] => format!("{}…{}", first.to_string(), last.to_string()),
    }
}

/// "13 timeframes (1D…1Y_CAL) × 7 periods (9…200)", "1 timeframe (4H) × 1 period (10)".
pub fn grid_of(run: &Run) -> String {
    let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    format!(
        "{} ({}) × {} ({})",
        count(run.tfs.len(), "timeframe"),
        span_of(&run.tfs),
        count(run.periods.len(), "period"),
        span_of(&run.periods)
    )
}

/// The plain sentence a run is remembered by. It names the run, so that two runs with the same
/// outcome in the same second are two memories (memories with the same content are one).
pub fn sentence(run: &Run) -> String {
    let symbols = run.symbols.join(", ");
    let day = format!(
        "{} (run {})",
        run.started_at.format("%Y-%m-%d at %H:%M:%S UTC"),
        short_id(&run.id)
    );
    if run.success {
        format!(
            "EMA refresh completed for {symbols} on {day}: {}, {} rows, {:.1} s",
            grid_of(run),
            thousands(run.rows()),
            run.duration_ms / 1e3
        )
    } else {
        format!(
            "EMA refresh FAILED for {symbols} on {day}: {}",
            run.error.as_deref().unwrap_or("unknown error")
        )
    }
}

fn memory_metadata(run: &Run) -> Metadata {
    let mut m = Metadata::new();
    m.insert("task_type".into(), json!(REFRESH_KIND));
    m.insert("symbols".into(), json!(run.symbols));
    m.insert("tfs".into(), json!(run.tfs));
    m.insert("periods".into(), json!(run.periods));
    m.insert("rows".into(), json!(run.rows()));
    m.insert("run_id".into(), json!(run.id));
    m.insert("date".into(), json!(run.started_at.date_naive().to_string()));
    m.insert("success".into(), json!(run.success));
    m.insert("correlation_id".into(), json!(run.correlation_id));
    m
}
