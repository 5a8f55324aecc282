//! The read-only record tools: the stored AI tasks, what they cost, the signals' results, and the
//! memory store's health — what an assistant needs to explain what the lab did and spent.

use chrono::NaiveDate;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use talab_memory::ops::HealthOptions;
use talab_orchestrator::TaskStore;

use super::bounds;
use super::{TalabMcp, failed};
use crate::cli::CostsBy;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TasksArgs {
    /// At most this many tasks, newest first (default 10, at most 100).
    pub limit: Option<usize>,
    /// Where to continue: the `next_cursor` of the previous answer.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Rows {
    /// One object per row.
    pub rows: Vec<Value>,
    /// Rows in all.
    pub total: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CostsArgs {
    /// Only tasks from this day on (YYYY-MM-DD, in the configured time zone).
    pub since: Option<NaiveDate>,
    /// Group by `platform` (default), `model` or `day`.
    pub by: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SignalsArgs {
    /// One signal (e.g. ema_9_21_long); default: all.
    pub signal: Option<String>,
    /// One asset; default: all.
    pub symbol: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Report {
    /// The report, as `talab … --json` gives it.
    pub report: Value,
}

#[tool_router(router = record_router, vis = "pub(super)")]
impl TalabMcp {
    #[tool(
        description = "The AI tasks run so far, newest first: type, platform, success, tokens, cost, error. Paginated.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_tasks(&self, Parameters(a): Parameters<TasksArgs>) -> Result<Json<Rows>, String> {
        let store = TaskStore::open(self.app.db().await.map_err(failed)?)
            .await
            .map_err(failed)?;
        let offset = bounds::cursor(a.cursor.as_deref())?;
        let page = store
            .list(offset as u64, bounds::items(a.limit) as u64)
            .await
            .map_err(failed)?;
        let mut rows: Vec<Value> = page
            .items
            .iter()
            .map(|t| {
                let r = &t.result;
                json!({
                    "id": t.id, "created_at": t.created_at.to_rfc3339(), "type": r.task.task_type,
                    "platform": r.platform, "success": r.success, "tokens": r.tokens_used,
                    "cost_usd": r.cost, "error": r.error,
                    "prompt": bounds::preview(&r.task.prompt, 200, "see `talab tasks show ID`").0,
                })
            })
            .collect();
        self.bounds.fit(&mut rows, |rows| rows.to_vec());
        let end = offset + rows.len();
        Ok(Json(Rows {
            rows,
            total: page.total,
            next_cursor: ((end as u64) < page.total).then(|| end.to_string()),
        }))
    }

    #[tool(
        description = "What the AI tasks cost, by platform, model or day, with the total (as `talab costs`).",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn costs(&self, Parameters(a): Parameters<CostsArgs>) -> Result<Json<Report>, String> {
        let by = match a.by.as_deref() {
            None => CostsBy::Platform,
            Some(by) => super::choice::<CostsBy>("by", by)?,
        };
        let report = crate::commands::costs::report(&self.app, a.since, by)
            .await
            .map_err(|e| e.message().to_string())?;
        Ok(Json(Report {
            report: json!(report),
        }))
    }

    #[tool(
        description = "The EMA-crossover signals' results: trades, open trades, win rate, mean and total P&L, max drawdown (as `talab signals summary`).",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn signals_summary(&self, Parameters(a): Parameters<SignalsArgs>) -> Result<Json<Report>, String> {
        let db = self.app.db().await.map_err(failed)?;
        let mut sums = talab_features::signals::summary(&db, a.signal.as_deref(), a.symbol.as_deref())
            .await
            .map_err(failed)?;
        self.bounds.fit(&mut sums, |s| s.to_vec());
        Ok(Json(Report { report: json!(sums) }))
    }

    #[tool(
        description = "The memory store's health: stale memories, ones missing the usual metadata, near-duplicates (as `talab memory health`); `found` counts each in full when the lists are cut to fit.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn memory_health(&self) -> Result<Json<Report>, String> {
        let manager = self.app.embedded("memory_health").await.map_err(failed)?;
        let mut report = manager.health(&HealthOptions::default()).await.map_err(failed)?;
        let found = json!({
            "stale": report.stale.len(),
            "missing_metadata": report.missing_metadata.len(),
            "duplicates": report.duplicates.len(),
        });
        // Too many findings to send: the longest list gives way first (the counts stay whole).
        while !self.bounds.fits(&report) {
            let lens = [
                report.stale.len(),
                report.missing_metadata.len(),
                report.duplicates.len(),
            ];
            match lens.iter().enumerate().max_by_key(|(_, n)| **n) {
                Some((_, 0)) | None => break,
                Some((0, _)) => drop(report.stale.pop()),
                Some((1, _)) => drop(report.missing_metadata.pop()),
                Some(_) => drop(report.duplicates.pop()),
            }
        }
        let mut report = json!(report);
        report["found"] = found;
        Ok(Json(Report { report }))
    }
}
