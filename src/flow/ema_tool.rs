//! The `local` platform's `ema_refresh` tool: the features crate's incremental EMA refresh, run
//! in-process when the orchestrator routes a `sql_db_work` task to it.
//!
//! The task says what to refresh in its metadata (`symbols`, `tfs`, `periods`, `date`, `full`);
//! the tool checks every symbol before writing anything (a bad request is a BadRequest, never
//! retried), then refreshes symbol by symbol — each one its own transaction — and answers with a
//! JSON [`ToolReport`] in which a symbol that failed says why while the others keep their rows.

use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use talab_features::{EmaRefresher, RefreshOptions, SymbolRefresh, Timeframe};
use talab_orchestrator::adapters::LocalTool;
use talab_orchestrator::{AdapterOutput, PlatformError, Task, Usage};

/// The tool's name in `metadata.tool`.
pub const EMA_REFRESH_TOOL: &str = "ema_refresh";

/// One symbol's outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SymbolOutcome {
    pub symbol: String,
    pub refresh: Option<SymbolRefresh>,
    pub error: Option<String>,
}

/// What the tool answers (as JSON text in the task's output).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolReport {
    pub symbols: Vec<SymbolOutcome>,
    pub tfs: Vec<String>,
    pub periods: Vec<usize>,
    pub elapsed_ms: f64,
}

impl ToolReport {
    pub fn ok(&self) -> bool {
        self.symbols.iter().all(|s| s.error.is_none())
    }

    pub fn refreshed(&self) -> impl Iterator<Item = &SymbolRefresh> {
        self.symbols.iter().filter_map(|s| s.refresh.as_ref())
    }
}

/// What a refresh task asks for, read from (and written to) task metadata.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RefreshRequest {
    pub symbols: Vec<String>,
    #[serde(default)]
    pub tfs: Vec<String>,
    #[serde(default)]
    pub periods: Vec<usize>,
    /// Compute through this day (None: the last day with prices).
    #[serde(default)]
    pub date: Option<NaiveDate>,
    #[serde(default)]
    pub full: bool,
    /// Symbols refreshed at once (None: the engine's default for the backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<usize>,
}

impl RefreshRequest {
    /// The engine's options, or the reason they are invalid.
    pub fn options(&self) -> Result<RefreshOptions, talab_features::FeatureError> {
        Ok(RefreshOptions {
            tfs: self
                .tfs
                .iter()
                .map(|t| Timeframe::parse(t))
                .collect::<Result<_, _>>()?,
            periods: self.periods.clone(),
            through: self.date,
            full: self.full,
        })
    }
}

/// The metadata key that names the run a refresh task belongs to (see [`SymbolLog`]).
pub const RUN_ID_KEY: &str = "run_id";

/// Where the tool records each symbol as soon as it is committed, under the task's run id, so that
/// a process killed half-way leaves a record of what it had done.
#[async_trait::async_trait]
pub trait SymbolLog: Send + Sync {
    async fn committed(&self, run_id: &str, outcome: &SymbolOutcome);
}

/// The tool over one database.
pub struct EmaRefreshTool {
    engine: EmaRefresher,
    progress: bool,
    log: Option<Arc<dyn SymbolLog>>,
}

impl EmaRefreshTool {
    /// `progress`: draw a per-symbol progress bar on stderr.
    pub fn new(engine: EmaRefresher, progress: bool) -> Self {
        Self {
            engine,
            progress,
            log: None,
        }
    }

    /// Records each committed symbol in `log` when the task names its run ([`RUN_ID_KEY`]).
    pub fn with_log(mut self, log: Arc<dyn SymbolLog>) -> Self {
        self.log = Some(log);
        self
    }

    /// Runs a request directly (what the orchestrated task does, without the orchestrator); each
    /// symbol is logged under `run_id` when there is one.
    pub async fn refresh(
        &self,
        request: &RefreshRequest,
        run_id: Option<&str>,
    ) -> Result<ToolReport, talab_features::FeatureError> {
        let started = Instant::now();
        let options = request.options()?;
        let (tfs, periods) = self.engine.resolve(&options).await?;
        let mut symbols: Vec<String> = Vec::new();
        for s in &request.symbols {
            let (symbol, ..) = self.engine.check_symbol(s, options.through, &options.tfs).await?;
            if !symbols.contains(&symbol) {
                symbols.push(symbol);
            }
        }
        let bar = self.bar(symbols.len());
        let mut outcomes = Vec::with_capacity(symbols.len());
        let mut engine = self.engine.clone();
        if let Some(jobs) = request.jobs {
            engine = engine.with_concurrency(jobs);
        }
        let mut each = std::pin::pin!(engine.refresh_each(&symbols, &tfs, &periods, &options));
        // Each log line is written by a task of its own, never awaited here: while this loop
        // waits, the stream is not polled, and a symbol still in flight may hold the SQLite write
        // lock the log line needs (with --jobs > 1 that was a deadlock until the busy timeout).
        let mut logged = Vec::new();
        while let Some((symbol, result)) = each.next().await {
            let (refresh, error) = match result {
                Ok(r) => (Some(r), None),
                Err(e) => (None, Some(e.to_string())),
            };
            let outcome = SymbolOutcome {
                symbol: symbol.to_string(),
                refresh,
                error,
            };
            if let (Some(log), Some(run_id)) = (&self.log, run_id) {
                let (log, run_id, outcome) = (log.clone(), run_id.to_string(), outcome.clone());
                logged.push(tokio::spawn(
                    async move { log.committed(&run_id, &outcome).await },
                ));
            }
            outcomes.push(outcome);
            bar.set_message(symbol.to_string());
            bar.inc(1);
        }
        for line in logged {
            if let Err(e) = line.await {
                tracing::warn!(%e, "a symbol log line was not written");
            }
        }
        bar.finish_and_clear();
        Ok(ToolReport {
            symbols: outcomes,
            tfs: tfs.iter().map(Timeframe::code).collect(),
            periods: periods.clone(),
            elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
        })
    }

    fn bar(&self, n: usize) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(n as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} refreshing EMAs [{bar:30}] {pos}/{len} {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    }
}

#[async_trait::async_trait]
impl LocalTool for EmaRefreshTool {
    fn name(&self) -> &str {
        EMA_REFRESH_TOOL
    }

    async fn run(&self, task: &Task) -> Result<AdapterOutput, PlatformError> {
        let bad = |message: String| PlatformError::BadRequest { message };
        let request: RefreshRequest =
            serde_json::from_value(Value::Object(task.metadata.clone())).map_err(|e| {
                bad(format!(
                    "ema_refresh needs metadata {{symbols, tfs, periods, date, full, jobs}}: {e}"
                ))
            })?;
        let run_id = task.metadata.get(RUN_ID_KEY).and_then(Value::as_str);
        let report = self
            .refresh(&request, run_id)
            .await
            .map_err(|e| bad(e.to_string()))?;
        let output =
            serde_json::to_string(&report).map_err(|e| bad(format!("cannot encode the report: {e}")))?;
        Ok(AdapterOutput {
            output,
            model: EMA_REFRESH_TOOL.into(),
            usage: Usage::default(),
            cost_usd: Some(0.0),
        })
    }
}
