//! From crosses to trades: one position at a time per asset, opened on a cross that passes the
//! filters and closed on the opposite cross, back to flat (first in, first out).
//!
//! Rules, per asset (state never carries from one asset to the next):
//! - Up-cross: a short closes; then, if flat, a long opens at the bar's close.
//! - Down-cross: a long closes; then, if flat and the signal trades both ways, a short opens.
//! - RSI filter (when on): a long needs RSI(14) ≥ 45, a short ≤ 55 (an RSI that does not exist
//!   yet blocks the entry). Exits are never filtered.
//! - Cooldown N: after an exit on bar e, no entry on bars e..=e+N (with N = 0 a reversal may happen
//!   on the exit bar itself).
//! - pnl_pct = (exit − entry)·100/entry, reversed for shorts; an open trade has none.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::crossover::{CrossKind, SignalBar, cross_at};
use super::definition::{Direction, SignalParams};

/// Which way a trade is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Long,
    Short,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Long => "long",
            Side::Short => "short",
        }
    }
}

impl std::str::FromStr for Side {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "long" => Ok(Side::Long),
            "short" => Ok(Side::Short),
            other => Err(format!("unknown direction '{other}' (long or short)")),
        }
    }
}

/// The values the signal saw on the entry bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSnapshot {
    pub close: f64,
    pub fast: f64,
    pub slow: f64,
    /// RSI(14), when it exists on that bar.
    pub rsi: Option<f64>,
}

/// One trade of one signal on one asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    pub symbol: String,
    pub side: Side,
    pub entry_day: NaiveDate,
    pub entry_ts: DateTime<Utc>,
    pub entry_price: f64,
    pub exit_day: Option<NaiveDate>,
    pub exit_ts: Option<DateTime<Utc>>,
    pub exit_price: Option<f64>,
    /// Bars from entry to exit (to the asset's last bar while open).
    pub bars_held: i64,
    pub snapshot: FeatureSnapshot,
}

impl Trade {
    /// True until the opposite cross closes it.
    pub fn is_open(&self) -> bool {
        self.exit_ts.is_none()
    }

    /// The realised P&L in percent; None while open.
    pub fn pnl_pct(&self) -> Option<f64> {
        self.exit_price
            .map(|exit| pnl_pct(self.side, self.entry_price, exit))
    }
}

/// (exit − entry)·100/entry for a long, (entry − exit)·100/entry for a short. Written with the
/// multiplication first so round cases stay exact (100 → 105 is 5.0, not 5.000000000000001).
///
/// ```
/// use talab_features::signals::{Side, pnl_pct};
/// assert_eq!(pnl_pct(Side::Long, 100.0, 105.0), 5.0);
/// assert_eq!(pnl_pct(Side::Short, 100.0, 105.0), -5.0);
/// ```
pub fn pnl_pct(side: Side, entry: f64, exit: f64) -> f64 {
    match side {
        Side::Long => (exit - entry) * 100.0 / entry,
        Side::Short => (entry - exit) * 100.0 / entry,
    }
}

struct AssetState {
    open: Option<(Trade, usize)>,
    last_exit: Option<usize>,
}

/// The trades of a signal over `rows` (one or more assets, each sorted by day, one after another),
/// in order of entry per asset. An asset's last trade may still be open.
pub fn simulate(rows: &[SignalBar], params: &SignalParams) -> Vec<Trade> {
    let mut trades = Vec::new();
    let mut state = AssetState {
        open: None,
        last_exit: None,
    };
    let mut last_of_asset = 0;
    for (i, bar) in rows.iter().enumerate() {
        if i > 0 && rows[i - 1].symbol != bar.symbol {
            flush_open(&mut state, last_of_asset, &mut trades);
            state = AssetState {
                open: None,
                last_exit: None,
            };
        }
        last_of_asset = i;
        let Some(kind) = cross_at(rows, i) else {
            continue;
        };
        let (closes, opens) = match kind {
            CrossKind::Up => (Side::Short, Some(Side::Long)),
            CrossKind::Down => (
                Side::Long,
                (params.direction == Direction::LongShort).then_some(Side::Short),
            ),
        };
        if let Some((trade, entry)) = state.open.take_if(|(t, _)| t.side == closes) {
            trades.push(Trade {
                exit_day: Some(bar.day),
                exit_ts: Some(bar.ts),
                exit_price: Some(bar.close),
                bars_held: (i - entry) as i64,
                ..trade
            });
            state.last_exit = Some(i);
        }
        if let Some(side) = opens
            && state.open.is_none()
            && entry_allowed(&state, i, side, bar, params)
        {
            let trade = Trade {
                symbol: bar.symbol.clone(),
                side,
                entry_day: bar.day,
                entry_ts: bar.ts,
                entry_price: bar.close,
                exit_day: None,
                exit_ts: None,
                exit_price: None,
                bars_held: 0,
                snapshot: FeatureSnapshot {
                    close: bar.close,
                    fast: bar.fast,
                    slow: bar.slow,
                    rsi: bar.rsi.is_finite().then_some(bar.rsi),
                },
            };
            state.open = Some((trade, i));
        }
    }
    flush_open(&mut state, last_of_asset, &mut trades);
    trades
}

fn flush_open(state: &mut AssetState, last: usize, trades: &mut Vec<Trade>) {
    if let Some((trade, entry)) = state.open.take() {
        trades.push(Trade {
            bars_held: (last - entry) as i64,
            ..trade
        });
    }
}

fn entry_allowed(state: &AssetState, i: usize, side: Side, bar: &SignalBar, params: &SignalParams) -> bool {
    let cooling = params.cooldown_bars > 0 && state.last_exit.is_some_and(|e| i - e <= params.cooldown_bars);
    if cooling {
        return false;
    }
    if !params.rsi_filter {
        return true;
    }
    match side {
        Side::Long => bar.rsi >= params.rsi_long_min,
        Side::Short => bar.rsi <= params.rsi_short_max,
    }
}
