//! How a signal did: closed trades, win rate, mean and total P&L, and the maximum drawdown of its
//! equity curve.
//!
//! The equity curve compounds the closed trades in order of exit (equity starts at 1 and is
//! multiplied by 1 + pnl/100 per trade), as if the whole stake went into each trade in turn; over
//! several assets the trades are taken in exit order as one sequence. The drawdown is the largest
//! fall from a running peak, in percent of that peak. Open trades are counted but not scored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use talab_db::Database;

use super::definition::list_definitions;
use super::position::Trade;
use super::store::list_trades;
use crate::{FeatureError, normalise_symbol};

/// The scores of one signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalSummary {
    pub signal_id: String,
    /// The assets the trades are on.
    pub symbols: Vec<String>,
    /// Closed trades.
    pub trades: usize,
    /// Trades still open (not scored).
    pub open: usize,
    /// Closed trades with a P&L above zero.
    pub wins: usize,
    /// wins / trades in percent (None without closed trades).
    pub win_rate_pct: Option<f64>,
    pub mean_pnl_pct: Option<f64>,
    /// The sum of the closed trades' P&L in percent.
    pub total_pnl_pct: f64,
    /// The compounded return of the equity curve in percent.
    pub compounded_return_pct: f64,
    /// The largest fall of the equity curve from a running peak, in percent (0 when it never fell).
    pub max_drawdown_pct: f64,
}

/// Scores `trades` of one signal (any order, any assets).
///
/// ```
/// use talab_features::signals::{summarise, Trade};
/// let s = summarise("x", &[]);
/// assert_eq!((s.trades, s.win_rate_pct, s.max_drawdown_pct), (0, None, 0.0));
/// ```
pub fn summarise(signal_id: &str, trades: &[Trade]) -> SignalSummary {
    let mut closed: Vec<&Trade> = trades.iter().filter(|t| !t.is_open()).collect();
    closed.sort_by_key(|t| (t.exit_ts, t.entry_ts, t.symbol.clone()));
    let pnls: Vec<f64> = closed.iter().filter_map(|t| t.pnl_pct()).collect();
    let wins = pnls.iter().filter(|p| **p > 0.0).count();
    let total: f64 = pnls.iter().sum();
    let (mut equity, mut peak, mut max_dd) = (1.0_f64, 1.0_f64, 0.0_f64);
    for p in &pnls {
        equity *= 1.0 + p / 100.0;
        peak = peak.max(equity);
        max_dd = max_dd.max((peak - equity) / peak * 100.0);
    }
    let n = pnls.len();
    let mut symbols: Vec<String> = trades.iter().map(|t| t.symbol.clone()).collect();
    symbols.sort();
    symbols.dedup();
    SignalSummary {
        signal_id: signal_id.to_string(),
        symbols,
        trades: n,
        open: trades.len() - closed.len(),
        wins,
        win_rate_pct: (n > 0).then(|| wins as f64 * 100.0 / n as f64),
        mean_pnl_pct: (n > 0).then(|| total / n as f64),
        total_pnl_pct: total,
        compounded_return_pct: (equity - 1.0) * 100.0,
        max_drawdown_pct: max_dd,
    }
}

/// The summary of each defined signal (or just `signal_id`) over the stored trades (of `symbol`,
/// when given).
pub async fn summary(
    db: &Database,
    signal_id: Option<&str>,
    symbol: Option<&str>,
) -> Result<Vec<SignalSummary>, FeatureError> {
    let symbol = symbol.map(normalise_symbol).transpose()?;
    let mut ids: Vec<String> = match signal_id {
        Some(id) => vec![super::definition::get_definition(db, id).await?.signal_id],
        None => list_definitions(db)
            .await?
            .into_iter()
            .map(|d| d.signal_id)
            .collect(),
    };
    ids.sort();
    let mut by_signal: BTreeMap<String, Vec<Trade>> = ids.iter().map(|id| (id.clone(), Vec::new())).collect();
    for row in list_trades(db, symbol.as_deref(), signal_id, false).await? {
        if let Some(v) = by_signal.get_mut(&row.signal_id) {
            v.push(row.trade);
        }
    }
    Ok(by_signal
        .iter()
        .map(|(id, trades)| summarise(id, trades))
        .collect())
}
