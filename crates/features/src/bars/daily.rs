//! Raw daily rows → validated 1D bars (`cmc_price_bars_1d`), by the repair and reject rules of the
//! spec (§4), as a pure function so the rules can be tested on small vectors and re-run on revisions.
//!
//! Repairs, each flagged: a time_high that is missing or outside [time_open, time_close] becomes
//! close ≥ open ? time_close : time_open and high := max(open, close); the mirror for low
//! (close ≤ open ? time_close : time_open, low := min(open, close)); then high := max(h, o, c, l) and
//! low := min(l, o, c, h). Sources that never report extreme times (exchange candles, plain OHLCV
//! files; see [`SourceKind::reports_extreme_times`]) keep their high and low: only the times are
//! placed by the same rule, and flagged. Rejects, with a code: a missing open or close, time_open
//! after time_close, a non-finite or negative price or volume, and every row of a day that has two.

use std::collections::HashMap;
use std::fmt;
use talab_db::sqlx;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use talab_db::{Database, on_pool};

use crate::bars::DailyBar;
use crate::prices::{RawPrice, SourceKind, Val};
use crate::{FeatureError, normalise_symbol};

/// Which fields of a bar were repaired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repairs {
    pub time_high: bool,
    pub time_low: bool,
    pub high: bool,
    pub low: bool,
}

/// One validated bar with its repair flags and source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatedBar {
    pub symbol: String,
    pub bar: DailyBar,
    pub repairs: Repairs,
    pub source: SourceKind,
}

/// Why a raw row did not become a bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    NullOpen,
    NullClose,
    OpenAfterClose,
    BadPrice,
    BadVolume,
    DuplicateDay,
}

impl RejectReason {
    /// The code stored in `cmc_price_bars_1d_rejects.reason`.
    pub fn code(self) -> &'static str {
        match self {
            Self::NullOpen => "null_open",
            Self::NullClose => "null_close",
            Self::OpenAfterClose => "time_open_after_time_close",
            Self::BadPrice => "bad_price",
            Self::BadVolume => "bad_volume",
            Self::DuplicateDay => "duplicate_day",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One raw row that did not become a bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyReject {
    pub symbol: String,
    pub ts: DateTime<Utc>,
    pub day: NaiveDate,
    pub reason: RejectReason,
    /// What exactly was wrong, for a person.
    pub detail: String,
}

/// Validates one asset's raw rows (any order) into bars sorted by day, plus the rejected rows.
pub fn validate_daily(rows: &[RawPrice]) -> (Vec<ValidatedBar>, Vec<DailyReject>) {
    let mut per_day: HashMap<NaiveDate, usize> = HashMap::new();
    for r in rows {
        *per_day.entry(r.day()).or_default() += 1;
    }
    let mut bars = Vec::with_capacity(rows.len());
    let mut rejects = Vec::new();
    for r in rows {
        let reject = |reason, detail: String| DailyReject {
            symbol: r.symbol.clone(),
            ts: r.ts,
            day: r.day(),
            reason,
            detail,
        };
        if per_day[&r.day()] > 1 {
            let detail = format!("{} rows for {} {}", per_day[&r.day()], r.symbol, r.day());
            rejects.push(reject(RejectReason::DuplicateDay, detail));
            continue;
        }
        match validate_row(r) {
            Ok(bar) => bars.push(bar),
            Err((reason, detail)) => rejects.push(reject(reason, detail)),
        }
    }
    bars.sort_by_key(|b| b.bar.day);
    rejects.sort_by_key(|r| r.ts);
    (bars, rejects)
}

pub(crate) fn validate_row(r: &RawPrice) -> Result<ValidatedBar, (RejectReason, String)> {
    let open = r.open.ok_or((RejectReason::NullOpen, "open is missing".into()))?;
    let close = r
        .close
        .ok_or((RejectReason::NullClose, "close is missing".into()))?;
    if r.time_open > r.time_close {
        let detail = format!("time_open {} is after time_close {}", r.time_open, r.time_close);
        return Err((RejectReason::OpenAfterClose, detail));
    }
    for (name, v) in [
        ("open", Some(open)),
        ("high", r.high),
        ("low", r.low),
        ("close", Some(close)),
    ] {
        // A price of 0 is as wrong as a negative one (and breaks log charts and ratios); a
        // volume of 0 is real (early BTC days).
        if let Some(v) = v.filter(|v| !v.is_finite() || *v <= 0.0) {
            return Err((RejectReason::BadPrice, format!("{name} is {v}")));
        }
    }
    if let Some(v) = r.volume.filter(|v| !v.is_finite() || *v < 0.0) {
        return Err((RejectReason::BadVolume, format!("volume is {v}")));
    }

    let in_range = |t: Option<DateTime<Utc>>| t.filter(|t| (r.time_open..=r.time_close).contains(t));
    let keeps_extremes = !r.source.reports_extreme_times();
    let mut repairs = Repairs::default();
    let (mut high, mut low) = (r.high, r.low);
    let time_high = in_range(r.time_high).unwrap_or_else(|| {
        repairs.time_high = true;
        if !keeps_extremes || high.is_none() {
            high = Some(open.max(close));
        }
        if close >= open { r.time_close } else { r.time_open }
    });
    let time_low = in_range(r.time_low).unwrap_or_else(|| {
        repairs.time_low = true;
        if !keeps_extremes || low.is_none() {
            low = Some(open.min(close));
        }
        if close <= open { r.time_close } else { r.time_open }
    });
    let (h, l) = (high.unwrap_or(open.max(close)), low.unwrap_or(open.min(close)));
    let (high, low) = (h.max(open).max(close).max(l), l.min(open).min(close).min(h));
    repairs.high = r.high.map(f64::to_bits) != Some(high.to_bits());
    repairs.low = r.low.map(f64::to_bits) != Some(low.to_bits());
    Ok(ValidatedBar {
        symbol: r.symbol.clone(),
        bar: DailyBar {
            day: r.day(),
            time_open: r.time_open,
            time_close: r.ts,
            time_high,
            time_low,
            open,
            high,
            low,
            close,
            volume: r.volume.unwrap_or(0.0),
            market_cap: r.market_cap,
        },
        repairs,
        source: r.source,
    })
}

/// Columns of `cmc_price_bars_1d`, in the order [`bar_values`] gives them.
pub(crate) const BAR_COLUMNS: &[&str] = &[
    "symbol",
    "ts",
    "day",
    "time_open",
    "time_close",
    "time_high",
    "time_low",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "market_cap",
    "source",
    "repaired_time_high",
    "repaired_time_low",
    "repaired_high",
    "repaired_low",
];

pub(crate) fn bar_values(v: &ValidatedBar) -> Vec<Val> {
    let b = &v.bar;
    vec![
        Val::Text(Some(v.symbol.clone())),
        Val::Time(Some(b.time_close)),
        Val::Day(b.day),
        Val::Time(Some(b.time_open)),
        Val::Time(Some(b.time_close)),
        Val::Time(Some(b.time_high)),
        Val::Time(Some(b.time_low)),
        Val::Float(Some(b.open)),
        Val::Float(Some(b.high)),
        Val::Float(Some(b.low)),
        Val::Float(Some(b.close)),
        Val::Float(Some(b.volume)),
        Val::Float(b.market_cap),
        Val::Text(Some(v.source.as_str().into())),
        Val::Bool(v.repairs.time_high),
        Val::Bool(v.repairs.time_low),
        Val::Bool(v.repairs.high),
        Val::Bool(v.repairs.low),
    ]
}

/// Columns of `cmc_price_bars_1d_rejects`, in the order [`reject_values`] gives them.
pub(crate) const REJECT_COLUMNS: &[&str] = &["symbol", "ts", "day", "reason", "detail"];

pub(crate) fn reject_values(r: &DailyReject) -> Vec<Val> {
    vec![
        Val::Text(Some(r.symbol.clone())),
        Val::Time(Some(r.ts)),
        Val::Day(r.day),
        Val::Text(Some(r.reason.code().into())),
        Val::Text(Some(r.detail.clone())),
    ]
}

type BarTuple = (
    NaiveDate,
    DateTime<Utc>,
    DateTime<Utc>,
    DateTime<Utc>,
    DateTime<Utc>,
    f64,
    f64,
    f64,
    f64,
    f64,
    Option<f64>,
);

/// One asset's validated daily bars from `cmc_price_bars_1d`, oldest first: the input of every
/// multi-timeframe bar and EMA.
pub async fn load_daily_bars(db: &Database, symbol: &str) -> Result<Vec<DailyBar>, FeatureError> {
    let symbol = normalise_symbol(symbol)?;
    let rows: Vec<BarTuple> = on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT day, time_open, time_close, time_high, time_low, open, high, low, close, volume, \
             market_cap FROM cmc_price_bars_1d WHERE symbol = $1 ORDER BY day",
        )
        .bind(&symbol)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|t| DailyBar {
            day: t.0,
            time_open: t.1,
            time_close: t.2,
            time_high: t.3,
            time_low: t.4,
            open: t.5,
            high: t.6,
            low: t.7,
            close: t.8,
            volume: t.9,
            market_cap: t.10,
        })
        .collect())
}
