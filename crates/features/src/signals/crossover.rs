//! Crosses of a fast EMA over a slow one, per asset.
//!
//! A [`SignalBar`] is one asset's day with the values a signal looks at. [`signal_bars`] builds
//! them from validated daily bars with the crate's EMA kernel (the same bits the 1D EMA tables
//! hold: a missing day carries the EMA forward, which on present days equals skipping it) and
//! Wilder's RSI. [`crosses`] compares each bar with the previous bar **of the same asset** only: a
//! multi-asset frame never produces a cross from the last day of one asset and the first day of
//! the next (the old lab shifted over the whole frame and did).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::rsi::{RSI_PERIOD, rsi_wilder};
use crate::{DailyBar, FeatureError, day_end, ema};

/// One asset's day as a signal sees it. EMAs and RSI are NaN before they exist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalBar {
    pub symbol: String,
    pub day: NaiveDate,
    /// The bar's `ts` (its close): entries and exits happen at it, at `close`.
    pub ts: DateTime<Utc>,
    pub close: f64,
    pub fast: f64,
    pub slow: f64,
    pub rsi: f64,
}

impl SignalBar {
    /// A bar of a UTC day (ts = the day's close), for hand-built series.
    pub fn new(symbol: &str, day: NaiveDate, close: f64, fast: f64, slow: f64, rsi: f64) -> Self {
        Self {
            symbol: symbol.to_string(),
            day,
            ts: day_end(day),
            close,
            fast,
            slow,
            rsi,
        }
    }
}

/// One asset's signal bars from its validated daily bars (sorted by day): EMA `fast` and `slow`
/// of the closes, and RSI(14).
pub fn signal_bars(
    symbol: &str,
    bars: &[DailyBar],
    fast: usize,
    slow: usize,
) -> Result<Vec<SignalBar>, FeatureError> {
    let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
    let f = ema(&closes, fast)?;
    let s = ema(&closes, slow)?;
    let r = rsi_wilder(&closes, RSI_PERIOD);
    Ok(bars
        .iter()
        .enumerate()
        .map(|(i, b)| SignalBar {
            symbol: symbol.to_string(),
            day: b.day,
            ts: b.time_close,
            close: b.close,
            fast: f[i],
            slow: s[i],
            rsi: r[i],
        })
        .collect())
}

/// Which way the fast EMA crossed the slow one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrossKind {
    /// f_t > s_t and f_{t−1} ≤ s_{t−1}.
    Up,
    /// f_t < s_t and f_{t−1} ≥ s_{t−1}.
    Down,
}

/// A cross on bar `index` of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cross {
    pub index: usize,
    pub kind: CrossKind,
}

/// The cross on bar `i`, if any: bar `i − 1` must be of the same asset and both EMAs must exist on
/// both bars.
pub(crate) fn cross_at(rows: &[SignalBar], i: usize) -> Option<CrossKind> {
    let (prev, cur) = (rows.get(i.checked_sub(1)?)?, &rows[i]);
    if prev.symbol != cur.symbol {
        return None;
    }
    let defined = |b: &SignalBar| b.fast.is_finite() && b.slow.is_finite();
    if !defined(prev) || !defined(cur) {
        return None;
    }
    if cur.fast > cur.slow && prev.fast <= prev.slow {
        Some(CrossKind::Up)
    } else if cur.fast < cur.slow && prev.fast >= prev.slow {
        Some(CrossKind::Down)
    } else {
        None
    }
}

/// Every cross in `rows` (one or more assets, each sorted by day, assets one after another).
pub fn crosses(rows: &[SignalBar]) -> Vec<Cross> {
    (1..rows.len())
        .filter_map(|i| cross_at(rows, i).map(|kind| Cross { index: i, kind }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(symbol: &str, d: u32, fast: f64, slow: f64) -> SignalBar {
        SignalBar::new(
            symbol,
            NaiveDate::from_ymd_opt(2021, 1, d).unwrap(),
            1.0,
            fast,
            slow,
            50.0,
        )
    }

    #[test]
    fn touching_is_not_crossing_until_the_lines_part() {
        let rows = vec![
            bar("A", 1, 1.0, 2.0),
            bar("A", 2, 2.0, 2.0), // touch from below: no cross yet
            bar("A", 3, 3.0, 2.0), // now above: up
            bar("A", 4, 2.0, 2.0), // touch from above: no cross (not below)
            bar("A", 5, 3.0, 2.0), // back above: up again (a long already open ignores it)
            bar("A", 6, 1.0, 2.0), // below: down
        ];
        let kinds: Vec<_> = crosses(&rows).iter().map(|c| (c.index, c.kind)).collect();
        assert_eq!(
            kinds,
            vec![(2, CrossKind::Up), (4, CrossKind::Up), (5, CrossKind::Down)]
        ); // 0-based indices
    }

    #[test]
    fn undefined_emas_never_cross() {
        let rows = vec![
            bar("A", 1, f64::NAN, 2.0),
            bar("A", 2, 3.0, 2.0),
            bar("A", 3, 3.0, f64::NAN),
        ];
        assert!(crosses(&rows).is_empty());
    }
}
