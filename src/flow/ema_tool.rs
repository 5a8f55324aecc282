//! The `local` platform's `ema_refresh` tool: a [`FeatureStore`] refresh, run in-process when the
//! orchestrator routes a `sql_db_work` task to it.
//!
//! The task says what to refresh in its metadata (a [`RefreshRequest`]: `symbols`, `tfs`,
//! `periods`, `date`, `full`, `jobs`); the store checks it once, before writing anything (a bad
//! request is a BadRequest, never retried), then refreshes symbol by symbol — each one its own
//! transaction — and the tool answers with the JSON [`RefreshReport`], in which a symbol that
//! failed says why while the others keep their rows.

use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use talab_features::{
    CommitJournal, FeatureError, FeatureStore, RefreshReport, RefreshRequest, RefreshWatch, SymbolOutcome,
};
use talab_orchestrator::adapters::LocalTool;
use talab_orchestrator::{AdapterOutput, PlatformError, Task, Usage};
use tokio::task::JoinHandle;

/// The tool's name in `metadata.tool`.
pub const EMA_REFRESH_TOOL: &str = "ema_refresh";

/// The metadata key that names the run a refresh task belongs to (see [`SymbolLog`]).
pub const RUN_ID_KEY: &str = "run_id";

/// Where the tool records each symbol under the task's run id, so that a process killed half-way
/// leaves a record of what it had done.
#[async_trait::async_trait]
pub trait SymbolLog: Send + Sync {
    /// The record of each committed symbol, written inside the symbol's own transaction so that
    /// a kill can never leave committed rows unlogged (or logged rows uncommitted).
    fn journal(&self, run_id: &str) -> Arc<dyn CommitJournal>;

    /// Records a symbol whose refresh failed (nothing of it was committed).
    async fn failed(&self, run_id: &str, outcome: &SymbolOutcome);
}

/// The tool over one feature store.
pub struct EmaRefreshTool {
    features: Arc<dyn FeatureStore>,
    progress: bool,
    log: Option<Arc<dyn SymbolLog>>,
}

impl EmaRefreshTool {
    /// `progress`: draw a per-symbol progress bar on stderr.
    pub fn new(features: Arc<dyn FeatureStore>, progress: bool) -> Self {
        Self {
            features,
            progress,
            log: None,
        }
    }

    /// Records each symbol in `log` when the task names its run ([`RUN_ID_KEY`]).
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
    ) -> Result<RefreshReport, FeatureError> {
        let plan = self.features.check_refresh(request).await?;
        let bar = self.bar(plan.symbols.len());
        let log = self.log.clone().zip(run_id.map(str::to_string));
        // A failed symbol's line is written by a task of its own, never awaited while the refresh
        // runs: a symbol still in flight may hold the SQLite write lock the line needs (with
        // --jobs > 1 that was a deadlock until the busy timeout). Committed symbols are logged by
        // the journal, in their own transactions.
        let failures: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let watch = RefreshWatch {
            journal: log.as_ref().map(|(log, run_id)| log.journal(run_id)),
            on_symbol: Some(Arc::new({
                let (bar, log, failures) = (bar.clone(), log.clone(), failures.clone());
                move |outcome: &SymbolOutcome| {
                    if let Some((log, run_id)) = &log
                        && outcome.error.is_some()
                    {
                        let (log, run_id, outcome) = (log.clone(), run_id.clone(), outcome.clone());
                        let line = tokio::spawn(async move { log.failed(&run_id, &outcome).await });
                        failures.lock().unwrap_or_else(|p| p.into_inner()).push(line);
                    }
                    bar.set_message(outcome.symbol.clone());
                    bar.inc(1);
                }
            })),
        };
        let report = self.features.refresh(&plan, &watch).await;
        let lines = std::mem::take(&mut *failures.lock().unwrap_or_else(|p| p.into_inner()));
        for line in lines {
            if let Err(e) = line.await {
                tracing::warn!(%e, "a symbol log line was not written");
            }
        }
        bar.finish_and_clear();
        report
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
