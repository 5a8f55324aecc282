//! EMA-crossover signals on 1D EMAs (spec §8): definitions in `dim_signals`, one row per trade in
//! `cmc_signals_ema_crossover`, and a per-signal summary.
//!
//! The work is split so each rule can be tested on hand-built series: [`crossover`] turns one
//! asset's closes into EMAs, RSI and crosses (never across assets); [`position`] turns crosses into
//! trades (filters, cooldown, one position at a time, P&L); [`store`] writes them idempotently;
//! [`summary`] reads them back as trades, win rate, P&L and drawdown.
//!
//! ```
//! use talab_features::signals::{SignalBar, SignalParams, Direction, simulate};
//! use chrono::NaiveDate;
//!
//! let day = |d| NaiveDate::from_ymd_opt(2021, 1, d).unwrap();
//! // fast crosses above slow on day 2 (entry at 100) and below on day 4 (exit at 105).
//! let rows: Vec<SignalBar> = [(1, 90.0, 1.0, 2.0), (2, 100.0, 3.0, 2.0), (3, 104.0, 3.0, 2.0), (4, 105.0, 1.0, 2.0)]
//!     .into_iter()
//!     .map(|(d, close, fast, slow)| SignalBar::new("BTC", day(d), close, fast, slow, f64::NAN))
//!     .collect();
//! let params = SignalParams { fast: 9, slow: 21, direction: Direction::Long, ..SignalParams::default() };
//! let trades = simulate(&rows, &params);
//! assert_eq!(trades.len(), 1);
//! assert_eq!(trades[0].pnl_pct(), Some(5.0));
//! ```

pub mod crossover;
pub mod definition;
pub mod position;
pub mod rsi;
pub mod store;
pub mod summary;

pub use crossover::{Cross, CrossKind, SignalBar, crosses, signal_bars};
pub use definition::{
    DEFAULT_SIGNALS, Direction, SignalDefinition, SignalParams, get_definition, list_definitions,
    upsert_definition,
};
pub use position::{FeatureSnapshot, Side, Trade, pnl_pct, simulate};
pub use rsi::{RSI_PERIOD, rsi_wilder};
pub use store::{SIGNALS_TABLE, SignalRefresh, list_trades, refresh_signals, trades_for};
pub use summary::{SignalSummary, summarise, summary};
