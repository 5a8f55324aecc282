//! Bars: validated daily bars are the input every other bar and every EMA is built from.
//!
//! [`DailyBar`] is one asset's validated bar for one UTC day (after the repair and reject rules of
//! `cmc_price_bars_1d`); builders of multi-timeframe and calendar bars take one asset's daily bars,
//! sorted by day, and never look across assets.

mod calendar;
pub mod daily;
pub(crate) mod grid;
pub mod hourly;
mod slot;
pub mod snapshot;
pub mod store;
mod tf_day;

pub use snapshot::{MultiTfBar, SnapshotBuilder, build_all, build_snapshots, build_snapshots_into};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// One asset's validated bar for one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyBar {
    /// The day (in the asset's session time zone; UTC for crypto).
    pub day: NaiveDate,
    pub time_open: DateTime<Utc>,
    /// The bar's timestamp `ts` (D 23:59:59.999 UTC for a UTC day).
    pub time_close: DateTime<Utc>,
    /// When the high was reached (repaired to time_open or time_close when missing or out of range).
    pub time_high: DateTime<Utc>,
    /// When the low was reached (repaired likewise).
    pub time_low: DateTime<Utc>,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
    pub market_cap: Option<f64>,
}
