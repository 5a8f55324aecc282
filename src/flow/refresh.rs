//! `refresh-ema` as one orchestrated, remembered task (integration spec):
//!
//! 1. a `sql_db_work` task naming the local `ema_refresh` tool, with a fresh correlation id;
//! 2. memory context: earlier refreshes of these symbols (`task_type = ema_refresh`) rendered with
//!    `get_context` into `task.context["memory"]`;
//! 3. the orchestrator routes it (to `local`) and runs the tool;
//! 4. the outcome is stored twice: a structured run (`talab_runs`) and a memory sentence with
//!    metadata — failures included, with their error.
//!
//! The run row is written `running` before the task starts, and each symbol is logged as it commits
//! (`talab_run_symbols`). A process killed half-way leaves that row behind; the next refresh (or
//! `ask`) finds its owner gone ([`super::owner`]) and finishes it as `interrupted`, with what was
//! committed and a memory, so no committed EMA is left without a record.
//!
//! One tracing span carries the correlation id through all four steps (visible with `-v`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use talab_db::{DbError, Tx};
use talab_features::{
    CommitJournal, FeatureStore, RefreshReport, RefreshRequest, SymbolOutcome, SymbolRefresh,
};
use talab_memory::search::{Filters, SearchRequest};
use talab_memory::{MemoryManager, Metadata};
use talab_orchestrator::{
    CORRELATION_ID_KEY, Orchestrator, Platform, STRICT_KEY, TASK_ID_KEY, TIMEOUT_KEY, TOOL_KEY, Task,
    TaskResult, TaskType,
};
use tracing::Instrument;

use super::ema_tool::{EMA_REFRESH_TOOL, RUN_ID_KEY, SymbolLog};
use super::error::FlowError;
use super::owner;
use super::runs::{Run, RunState, RunStore, short_id};

/// The memory metadata key that says what kind of work a memory records.
pub const TASK_TYPE_KEY: &str = "task_type";
/// [`TASK_TYPE_KEY`] of refresh memories, and `kind` of refresh runs.
pub const REFRESH_KIND: &str = "ema_refresh";
/// How many earlier refreshes go into the context.
const CONTEXT_MEMORIES: usize = 5;
/// The refresh task's time limit. A platform call is cut at two minutes and retried, but a refresh
/// is the lab's own work and takes what its data needs (a large universe, a slow disk, a busy
/// machine); cut and retried, the retry would also report only what was left. Ctrl-C stops it.
pub const REFRESH_TIMEOUT_SECS: u64 = 24 * 3600;

/// What one orchestrated refresh did.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshOutcome {
    pub run: Run,
    /// The tool's per-symbol report (None when the task failed before the tool answered).
    pub report: Option<RefreshReport>,
    /// The memories given to the task as context.
    pub context_ids: Vec<String>,
    /// The context text as the task carried it.
    pub context: String,
    /// The sentence remembered.
    pub memory: String,
    pub platform: String,
}

/// The parts the flow joins: any orchestrator (real or stub), memory (real or stub), the feature
/// store (the one the orchestrator's `ema_refresh` tool refreshes, for callers that check a request
/// before running it), and the runs table. A bad request given to [`Flow::refresh`] is recorded as
/// a failed run, as every failure is.
#[derive(Clone)]
pub struct Flow {
    pub orchestrator: Arc<dyn Orchestrator>,
    pub memory: Arc<dyn MemoryManager>,
    pub features: Arc<dyn FeatureStore>,
    pub runs: RunStore,
}

impl Flow {
    /// Runs a refresh request end to end (see the module docs). Errors here are the flow's own
    /// (database, memory); a failed refresh is an `Ok` outcome whose run says `success: false`.
    pub async fn refresh(&self, request: &RefreshRequest) -> Result<RefreshOutcome, FlowError> {
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
    ) -> Result<RefreshOutcome, FlowError> {
        record_interrupted(&self.runs, self.memory.as_ref()).await?;
        let started_at = Utc::now();
        let symbols: Vec<String> = request.symbols.iter().map(|s| s.trim().to_uppercase()).collect();
        let mut run = Run::start(&symbols, correlation_id.clone(), started_at);
        self.runs.put(&run).await?;

        let mut filter = Metadata::new();
        filter.insert(TASK_TYPE_KEY.into(), json!(REFRESH_KIND));
        let recall = SearchRequest {
            limit: CONTEXT_MEMORIES,
            filters: Filters {
                metadata_eq: filter,
                ..Filters::default()
            },
            ..SearchRequest::new(format!("EMA refresh {}", symbols.join(" ")))
        };
        let found = self.memory.search_with(&recall).await?;
        let context_ids: Vec<String> = found.hits.iter().map(|m| m.id.clone()).collect();
        let context = if context_ids.is_empty() {
            String::new()
        } else {
            self.memory.get_context(&context_ids).await?
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
        metadata.insert(TOOL_KEY.into(), json!(EMA_REFRESH_TOOL));
        // The refresh is the lab's own work: if the tool refuses it, no AI platform is asked to
        // stand in (it could not run the tool, and the call would be paid for).
        metadata.insert(STRICT_KEY.into(), json!(true));
        metadata.insert(CORRELATION_ID_KEY.into(), json!(correlation_id));
        metadata.insert(RUN_ID_KEY.into(), json!(run.id));
        metadata.insert(TIMEOUT_KEY.into(), json!(REFRESH_TIMEOUT_SECS));
        task.metadata = metadata;
        task.platform_hint = Some(Platform::Local);
        task.context.insert("memory".into(), json!(context));
        task.context.insert("memory_ids".into(), json!(context_ids));

        let result = self.orchestrator.execute(task, true).await;
        tracing::info!(platform = %result.platform, success = result.success, "task done");
        let report: Option<RefreshReport> = result
            .success
            .then(|| serde_json::from_str(&result.output).ok())
            .flatten();
        finish(&mut run, &result, report.as_ref());
        self.runs.put(&run).await?;
        let sentence = remember(&self.runs, self.memory.as_ref(), &mut run).await?;
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

impl Run {
    /// A refresh of `symbols` that starts now in this process.
    fn start(symbols: &[String], correlation_id: String, started_at: DateTime<Utc>) -> Run {
        Run {
            id: uuid::Uuid::new_v4().to_string(),
            kind: REFRESH_KIND.into(),
            correlation_id,
            task_id: None,
            memory_id: None,
            started_at,
            finished_at: started_at,
            symbols: symbols.to_vec(),
            tfs: Vec::new(),
            periods: Vec::new(),
            date_from: None,
            date_to: None,
            rows_tf_day: 0,
            rows_calendar: 0,
            rejects: 0,
            duration_ms: 0.0,
            success: false,
            error: None,
            detail: Value::Null,
            state: RunState::Running,
            owner: Some(owner::this_process()),
        }
    }

    /// The facts of a (whole or partial) tool report: grid, days, rows, the report itself.
    fn take_report(&mut self, report: &RefreshReport) {
        let refreshed: Vec<_> = report.refreshed().collect();
        self.tfs = report.tfs.clone();
        self.periods = report.periods.clone();
        self.date_from = refreshed.iter().map(|r| r.first_day).min();
        self.date_to = refreshed.iter().map(|r| r.last_day).max();
        self.rows_tf_day = refreshed.iter().map(|r| r.rows_tf_day as i64).sum();
        self.rows_calendar = refreshed.iter().map(|r| r.rows_calendar as i64).sum();
        self.rejects = refreshed.iter().map(|r| r.rejects as i64).sum();
        self.detail = serde_json::to_value(report).unwrap_or(Value::Null);
    }

    fn end(&mut self, finished_at: DateTime<Utc>, state: RunState, error: Option<String>) {
        self.finished_at = finished_at;
        self.duration_ms = (finished_at - self.started_at).num_milliseconds() as f64;
        self.success = error.is_none();
        self.error = error;
        self.state = state;
        self.owner = None;
    }
}

/// The symbols that failed, as "BTC: why; ETH: why".
fn symbol_errors(outcomes: &[SymbolOutcome]) -> String {
    outcomes
        .iter()
        .filter_map(|s| s.error.as_ref().map(|e| format!("{}: {e}", s.symbol)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A run as its task ended.
fn finish(run: &mut Run, result: &TaskResult, report: Option<&RefreshReport>) {
    run.task_id = result
        .metadata
        .get(TASK_ID_KEY)
        .and_then(Value::as_str)
        .map(str::to_string);
    let error = match report {
        Some(r) if !r.ok() => Some(symbol_errors(&r.symbols)),
        Some(_) => None,
        None => Some(
            result
                .error
                .clone()
                .unwrap_or_else(|| "the refresh tool gave no report".into()),
        ),
    };
    if let Some(r) = report {
        run.take_report(r);
    }
    run.end(Utc::now(), RunState::Done, error);
}

/// Writes the run's memory sentence and notes its id on the run.
async fn remember(runs: &RunStore, memory: &dyn MemoryManager, run: &mut Run) -> Result<String, FlowError> {
    let sentence = sentence(run);
    let memory_id = memory.add(&sentence, memory_metadata(run)).await?;
    run.memory_id = Some(memory_id);
    runs.put(run).await?;
    Ok(sentence)
}

/// Why an interrupted run is not a success, with what it had committed.
fn interrupted_error(run: &Run, last_known: &RefreshReport) -> String {
    let committed: Vec<String> = last_known
        .refreshed()
        .map(|r| format!("{} ({} rows)", r.symbol, thousands(r.rows() as i64)))
        .collect();
    let unfinished: Vec<&str> = run
        .symbols
        .iter()
        .filter(|s| !last_known.symbols.iter().any(|o| &o.symbol == *s))
        .map(String::as_str)
        .collect();
    let mut parts = vec!["its process ended before the refresh finished".to_string()];
    if !committed.is_empty() {
        parts.push(format!("committed {}", committed.join(", ")));
    }
    let failed = symbol_errors(&last_known.symbols);
    if !failed.is_empty() {
        parts.push(format!("failed {failed}"));
    }
    if !unfinished.is_empty() {
        parts.push(format!(
            "not finished {} (their EMAs are as before this run)",
            unfinished.join(", ")
        ));
    }
    parts.join("; ")
}

/// Finishes, as `interrupted`, every run whose process ended before it did: the run gets what
/// its symbols had committed (from the symbol log) and a memory. A run another process finishes at
/// the same moment is finished once, by one of them.
pub async fn record_interrupted(runs: &RunStore, memory: &dyn MemoryManager) -> Result<(), FlowError> {
    let now = Utc::now();
    for mut run in runs.running().await? {
        if !owner::is_gone(run.owner.as_deref(), run.started_at, now) {
            continue;
        }
        let mut done: Vec<SymbolOutcome> = Vec::new();
        for json in runs.symbols_done(&run.id).await? {
            match serde_json::from_str(&json) {
                Ok(outcome) => done.push(outcome),
                Err(e) => tracing::warn!(run_id = %run.id, %e, "unreadable symbol record skipped"),
            }
        }
        let last_known = RefreshReport {
            symbols: done,
            tfs: Vec::new(),
            periods: Vec::new(),
            elapsed_ms: 0.0,
        };
        run.take_report(&last_known);
        let error = interrupted_error(&run, &last_known);
        run.end(now, RunState::Interrupted, Some(error));
        run.duration_ms = 0.0;
        if !runs.replace_running(&run).await? {
            continue;
        }
        remember(runs, memory, &mut run).await?;
        tracing::warn!(run_id = %run.id, "recorded an interrupted refresh");
    }
    Ok(())
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
        let how = match run.state {
            RunState::Interrupted => "INTERRUPTED",
            RunState::Running | RunState::Done => "FAILED",
        };
        format!(
            "EMA refresh {how} for {symbols} on {day}: {}",
            run.error.as_deref().unwrap_or("unknown error")
        )
    }
}

fn memory_metadata(run: &Run) -> Metadata {
    let mut m = Metadata::new();
    m.insert(TASK_TYPE_KEY.into(), json!(REFRESH_KIND));
    m.insert("symbols".into(), json!(run.symbols));
    m.insert("tfs".into(), json!(run.tfs));
    m.insert("periods".into(), json!(run.periods));
    m.insert("rows".into(), json!(run.rows()));
    m.insert(RUN_ID_KEY.into(), json!(run.id));
    m.insert("date".into(), json!(run.started_at.date_naive().to_string()));
    m.insert("success".into(), json!(run.success));
    m.insert("state".into(), json!(run.state));
    m.insert(CORRELATION_ID_KEY.into(), json!(run.correlation_id));
    m
}

/// The run store records each symbol of a running refresh: committed ones in their own
/// transaction ([`RunJournal`]), failed ones after the fact.
#[async_trait::async_trait]
impl SymbolLog for RunStore {
    fn journal(&self, run_id: &str) -> Arc<dyn CommitJournal> {
        Arc::new(RunJournal {
            run_id: run_id.to_string(),
        })
    }

    async fn failed(&self, run_id: &str, outcome: &SymbolOutcome) {
        if let Err(e) = self
            .symbol_done(run_id, &outcome.symbol, &outcome_json(outcome))
            .await
        {
            tracing::warn!(run_id, symbol = %outcome.symbol, error = %e, "symbol not logged");
        }
    }
}

/// Writes a committed symbol's line in `talab_run_symbols` inside the symbol's transaction.
struct RunJournal {
    run_id: String,
}

#[async_trait::async_trait]
impl CommitJournal for RunJournal {
    async fn record(&self, tx: &mut Tx, refresh: &SymbolRefresh) -> Result<(), DbError> {
        let outcome = SymbolOutcome {
            symbol: refresh.symbol.clone(),
            refresh: Some(refresh.clone()),
            error: None,
        };
        Ok(RunStore::symbol_done_in(tx, &self.run_id, &refresh.symbol, &outcome_json(&outcome)).await?)
    }
}

/// A SymbolOutcome is plain data: it always serialises.
fn outcome_json(outcome: &SymbolOutcome) -> String {
    serde_json::to_string(outcome).unwrap_or_default()
}
