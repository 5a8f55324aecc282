//! The lab's tools: what prices are stored, the stored EMAs, a refresh through the same
//! orchestrated, remembered flow as `talab refresh-ema`, and the answer `talab ask` gives.

use chrono::NaiveDate;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use talab_features::{EmaQuery, RefreshRequest, Timeframe};

use super::bounds;
use super::{TalabMcp, failed};
use crate::flow::refresh::sentence;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PageArgs {
    /// At most this many items (default 10, at most 100).
    pub limit: Option<usize>,
    /// Where to continue: the `next_cursor` of the previous answer.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AssetOut {
    pub symbol: String,
    /// First and last day with prices (UTC).
    pub first_day: String,
    pub last_day: String,
    pub rows: i64,
    /// Days missing between the first and the last.
    pub gaps: i64,
    /// Where the prices came from (cmc, binance, coinbase, csv, synthetic…).
    pub source: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AssetsOut {
    pub assets: Vec<AssetOut>,
    pub total: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct EmaArgs {
    /// The asset's symbol (any case), e.g. BTC.
    pub symbol: String,
    /// Timeframe code, e.g. 1D (default), 7D, 1W_CAL_ISO, 1M_CAL, 4H.
    pub timeframe: Option<String>,
    /// First day (YYYY-MM-DD); with neither `from` nor `to`, the last stored day only.
    pub from: Option<NaiveDate>,
    /// Last day (YYYY-MM-DD).
    pub to: Option<NaiveDate>,
    /// Only these periods (e.g. [20, 50]); default: all stored.
    pub periods: Option<Vec<u32>>,
    /// At most this many rows (default 10, at most 100).
    pub limit: Option<usize>,
    /// Where to continue: the `next_cursor` of the previous answer.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EmaOut {
    /// The UTC day (intraday timeframes: the hour's close in `ts`).
    pub day: String,
    pub ts: String,
    pub period: u32,
    pub ema: f64,
    pub ema_bar: f64,
    /// True on days that do not close a bar of the timeframe.
    pub roll: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct EmasOut {
    pub symbol: String,
    pub timeframe: String,
    /// First and last stored day of this timeframe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored: Option<(String, String)>,
    pub rows: Vec<EmaOut>,
    /// Why there are no rows, when there are none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RefreshArgs {
    /// Symbols to refresh, e.g. ["BTC", "ETH"].
    pub symbols: Vec<String>,
    /// Timeframe codes; default: the enabled ones.
    pub timeframes: Option<Vec<String>>,
    /// Periods; default: 9, 10, 20, 21, 50, 100, 200.
    pub periods: Option<Vec<usize>>,
    /// Compute through this day (default: the last day with prices).
    pub date: Option<NaiveDate>,
    /// Rebuild every series from its first day.
    pub full: Option<bool>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RefreshOut {
    pub run_id: String,
    pub success: bool,
    /// The sentence remembered for this run.
    pub summary: String,
    pub rows: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AskArgs {
    /// A question about what was done, e.g. "what EMAs ran today".
    pub question: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AskOut {
    pub answer: String,
    /// `offline` (composed from memory and runs) or the AI platform that answered.
    pub answered_by: String,
    /// The time window understood, if the question named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// The memories used, by id.
    pub memory_ids: Vec<String>,
}

#[tool_router(router = lab_router, vis = "pub(super)")]
impl TalabMcp {
    #[tool(
        description = "The assets with stored prices: first and last day, rows, gaps and source. Paginated.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_assets(&self, Parameters(a): Parameters<PageArgs>) -> Result<Json<AssetsOut>, String> {
        let db = self.app.db().await.map_err(failed)?;
        let all: Vec<AssetOut> = talab_features::coverage(&db)
            .await
            .map_err(failed)?
            .into_iter()
            .map(|c| AssetOut {
                symbol: c.symbol,
                first_day: c.first_day.to_string(),
                last_day: c.last_day.to_string(),
                rows: c.rows,
                gaps: c.gaps,
                source: c.source,
            })
            .collect();
        let total = all.len();
        let (assets, next_cursor) = self.bounds.page(all, a.limit, a.cursor.as_deref())?;
        Ok(Json(AssetsOut {
            assets,
            total,
            next_cursor,
        }))
    }

    #[tool(
        description = "Stored EMA values of one symbol on one timeframe (TA-Lib's EMA, exact), for a day range (default: the last stored day). Paginated.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_ema(&self, Parameters(a): Parameters<EmaArgs>) -> Result<Json<EmasOut>, String> {
        let features = self.app.features().await.map_err(failed)?;
        let tf = Timeframe::parse(a.timeframe.as_deref().unwrap_or("1D")).map_err(failed)?;
        let (symbol, coverage) = features.ema_coverage(&a.symbol, &tf).await.map_err(failed)?;
        let code = tf.code();
        let stored = coverage.stored();
        let (from, to) = match (a.from, a.to, stored) {
            (None, None, Some((_, last))) => (Some(last), Some(last)),
            (from, to, _) => (from, to),
        };
        let mut out = EmasOut {
            symbol: symbol.clone(),
            timeframe: code.clone(),
            stored: stored.map(|(f, l)| (f.to_string(), l.to_string())),
            rows: Vec::new(),
            note: coverage.why_empty(&symbol, &code),
            next_cursor: None,
        };
        if stored.is_none() {
            return Ok(Json(out));
        }
        let rows: Vec<EmaOut> = features
            .read_emas(&EmaQuery {
                symbol,
                tfs: vec![code],
                periods: a.periods.unwrap_or_default(),
                from,
                to,
            })
            .await
            .map_err(failed)?
            .into_iter()
            .map(|r| EmaOut {
                day: r.day.to_string(),
                ts: r.ts.to_rfc3339(),
                period: r.period,
                ema: r.ema,
                ema_bar: r.ema_bar,
                roll: r.roll,
            })
            .collect();
        if rows.is_empty() {
            out.note = Some("no stored rows in that range or for those periods".into());
        }
        (out.rows, out.next_cursor) = self.bounds.page(rows, a.limit, a.cursor.as_deref())?;
        Ok(Json(out))
    }

    #[tool(
        description = "Refresh EMAs from the stored prices, as `talab refresh-ema --no-fetch` does: an orchestrated task, recorded as a run and remembered. Incremental; `full` rebuilds.",
        annotations(read_only_hint = false, destructive_hint = false, open_world_hint = false)
    )]
    async fn refresh_ema(&self, Parameters(a): Parameters<RefreshArgs>) -> Result<Json<RefreshOut>, String> {
        let request = RefreshRequest {
            symbols: a.symbols,
            tfs: a.timeframes.unwrap_or_default(),
            periods: a.periods.unwrap_or_default(),
            date: a.date,
            full: a.full.unwrap_or(false),
            jobs: None,
        };
        let features = self.app.features().await.map_err(failed)?;
        features.check_refresh(&request).await.map_err(failed)?;
        let flow = crate::wiring::flow(&self.app, false).await.map_err(failed)?;
        let outcome = flow.refresh(&request).await.map_err(failed)?;
        let run = outcome.run;
        Ok(Json(RefreshOut {
            run_id: run.id.clone(),
            success: run.success,
            summary: sentence(&run),
            rows: run.rows(),
            error: run.error.clone(),
            memory_id: run.memory_id.clone(),
        }))
    }

    #[tool(
        description = "Answer a question about what the lab did (refreshes, runs, memories), as `talab ask` does; time phrases like 'today' or 'last week' are understood.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn ask(&self, Parameters(a): Parameters<AskArgs>) -> Result<Json<AskOut>, String> {
        let answer = crate::commands::ask::answer(&self.app, &a.question)
            .await
            .map_err(|e| e.message().to_string())?;
        let (text, _) = bounds::preview(
            &answer.answer,
            self.bounds.text_chars(),
            "ask a narrower question",
        );
        Ok(Json(AskOut {
            answer: text,
            answered_by: answer.answered_by,
            window: answer.window,
            memory_ids: answer.memories.iter().map(|m| m.id.clone()).collect(),
        }))
    }
}
