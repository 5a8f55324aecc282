//! The dual multi-timeframe EMA on an asset's daily grid (spec §5), for one (timeframe, period).
//!
//! Two values per day: `ema_bar` is the core EMA over the closes of *completed* bars, stepped once
//! from the last completed value on days inside a bar (never chained day to day); `ema` is a
//! continuous daily EMA with α = 2/(tf_days·p + 1), seeded with the bar EMA on the first day it
//! exists. A single state machine ([`MultiTfEmaState`]) computes both, so a full build and an
//! incremental roll-forward from a saved state are the same code and give the same bits.
//!
//! ```
//! use talab_features::ema::multi_tf::{MultiTfEmaState, TfDay};
//! // tf 2D, period 2: bars close on days 2, 4, 6.
//! let mut state = MultiTfEmaState::new(2, 2.0).unwrap();
//! let closes = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
//! let rows: Vec<_> = closes
//!     .iter()
//!     .enumerate()
//!     .filter_map(|(i, &close)| state.push(TfDay { close, bar_close: i % 2 == 1 }))
//!     .collect();
//! assert_eq!(rows.len(), 3); // days 4, 5, 6: the bar EMA seeds on the 2nd bar close (day 4)
//! assert_eq!(rows[0].ema_bar, 3.0); // mean of bar closes 2 and 4
//! assert!(!rows[0].roll && rows[1].roll);
//! ```

use serde::{Deserialize, Serialize};

use crate::FeatureError;
use crate::ema::kernel::{EmaState, ema_alpha, ema_step};

/// One day of an asset's daily grid, as seen by one timeframe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TfDay {
    /// The day's close (NaN = missing: values carry forward).
    pub close: f64,
    /// Whether a bar of this timeframe completes on this day (always true for 1D).
    pub bar_close: bool,
}

/// The values of one day, from the day the bar EMA first exists (nothing is written before).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MultiTfEmaRow {
    /// Continuous daily EMA.
    pub ema: f64,
    /// Bar EMA: E_k on bar-close days, one step from the last E elsewhere.
    pub ema_bar: f64,
    /// True on days that are not bar closes (always false for 1D).
    pub roll: bool,
    /// First difference of `ema` over bar-close rows only (None on roll rows and the first one).
    pub d1: Option<f64>,
    /// Second difference of `ema` over bar-close rows only.
    pub d2: Option<f64>,
    /// First difference of `ema` over all rows.
    pub d1_roll: Option<f64>,
    /// Second difference of `ema` over all rows.
    pub d2_roll: Option<f64>,
}

/// Last value and first difference of a differenced sequence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct Diffs {
    last: Option<f64>,
    last_d1: Option<f64>,
}

impl Diffs {
    /// Appends `value`; returns (d1, d2).
    fn push(&mut self, value: f64) -> (Option<f64>, Option<f64>) {
        let d1 = self.last.map(|prev| value - prev);
        let d2 = match (d1, self.last_d1) {
            (Some(a), Some(b)) => Some(a - b),
            _ => None,
        };
        self.last = Some(value);
        self.last_d1 = d1;
        (d1, d2)
    }
}

/// Everything needed to continue the series from the last day seen; serialisable so an
/// incremental refresh can store it and roll forward later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiTfEmaState {
    bar: EmaState,
    alpha_daily: f64,
    daily: Option<f64>,
    canonical: Diffs,
    all: Diffs,
}

impl MultiTfEmaState {
    /// A fresh state for `period` on a timeframe of `tf_days_nominal` days (1 for 1D, 7 for a week…).
    pub fn new(period: usize, tf_days_nominal: f64) -> Result<Self, FeatureError> {
        if !(tf_days_nominal.is_finite() && tf_days_nominal > 0.0) {
            return Err(FeatureError::InvalidPeriod {
                period,
                reason: format!("the timeframe's nominal length must be positive, not {tf_days_nominal}"),
            });
        }
        Ok(MultiTfEmaState {
            bar: EmaState::new(period)?,
            alpha_daily: 2.0 / (tf_days_nominal * period as f64 + 1.0),
            daily: None,
            canonical: Diffs::default(),
            all: Diffs::default(),
        })
    }

    /// The bar EMA's period.
    pub fn period(&self) -> usize {
        self.bar.period()
    }

    /// Feeds the next day; returns its row, or None before the bar EMA exists.
    pub fn push(&mut self, day: TfDay) -> Option<MultiTfEmaRow> {
        let ema_bar = if day.bar_close {
            self.bar.push(day.close)?
        } else {
            let last = self.bar.value()?;
            if day.close.is_nan() {
                last
            } else {
                ema_step(last, day.close, ema_alpha(self.period()))
            }
        };
        let ema = match self.daily {
            // Seeded with E on the first day E exists (a bar-close day), then updated every day.
            None => self.bar.value()?,
            Some(prev) if day.close.is_nan() => prev,
            Some(prev) => ema_step(prev, day.close, self.alpha_daily),
        };
        self.daily = Some(ema);
        let roll = !day.bar_close;
        let (d1, d2) = if roll {
            (None, None)
        } else {
            self.canonical.push(ema)
        };
        let (d1_roll, d2_roll) = self.all.push(ema);
        Some(MultiTfEmaRow {
            ema,
            ema_bar,
            roll,
            d1,
            d2,
            d1_roll,
            d2_roll,
        })
    }
}

/// The rows of a whole series: `(index into days, row)` from the first day the bar EMA exists.
pub fn multi_tf_ema(
    days: &[TfDay],
    period: usize,
    tf_days_nominal: f64,
) -> Result<Vec<(usize, MultiTfEmaRow)>, FeatureError> {
    let mut state = MultiTfEmaState::new(period, tf_days_nominal)?;
    Ok(days
        .iter()
        .enumerate()
        .filter_map(|(i, d)| state.push(*d).map(|row| (i, row)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(closes: &[f64], every: usize) -> Vec<TfDay> {
        closes
            .iter()
            .enumerate()
            .map(|(i, &close)| TfDay {
                close,
                bar_close: (i + 1) % every == 0,
            })
            .collect()
    }

    #[test]
    fn one_day_timeframe_has_ema_equal_to_ema_bar_and_never_rolls() {
        let closes: Vec<f64> = (0..40).map(|i| 100.0 + (i as f64 * 0.7).sin() * 5.0).collect();
        let rows = multi_tf_ema(&days(&closes, 1), 10, 1.0).unwrap();
        let core = crate::ema(&closes, 10).unwrap();
        assert_eq!(rows.len(), 31);
        for (i, r) in rows {
            assert_eq!(r.ema.to_bits(), r.ema_bar.to_bits(), "day {i}");
            assert_eq!(r.ema.to_bits(), core[i].to_bits(), "day {i}");
            assert!(!r.roll);
            assert_eq!(r.d1, r.d1_roll);
        }
    }

    #[test]
    fn differences_filter_first_then_difference() {
        // tf 2D, period 1: the bar EMA is just the bar close; α_daily = 2/3.
        let rows = multi_tf_ema(&days(&[10.0, 20.0, 30.0, 40.0, 50.0, 60.0], 2), 1, 2.0).unwrap();
        let emas: Vec<f64> = rows.iter().map(|(_, r)| r.ema).collect();
        assert_eq!(rows[0].0, 1, "first row on the first bar close");
        assert_eq!(emas[0], 20.0);
        // Canonical rows are at indexes 0, 2, 4 of `rows`; d1 there is the difference between them.
        assert_eq!(rows[0].1.d1, None);
        assert_eq!(rows[1].1.d1, None, "roll rows have no canonical difference");
        assert_eq!(rows[2].1.d1, Some(emas[2] - emas[0]));
        assert_eq!(rows[4].1.d2, Some((emas[4] - emas[2]) - (emas[2] - emas[0])));
        assert_eq!(rows[3].1.d1_roll, Some(emas[3] - emas[2]));
        assert_eq!(rows[3].1.d2_roll, Some((emas[3] - emas[2]) - (emas[2] - emas[1])));
    }

    #[test]
    fn ema_bar_inside_a_bar_is_one_step_from_the_last_completed_value() {
        let rows = multi_tf_ema(&days(&[1.0, 2.0, 3.0, 4.0, 7.0, 9.0], 2), 2, 2.0).unwrap();
        // E after bar closes 2 and 4 = 3; day 5 (close 7): one step from 3, not chained.
        let alpha = ema_alpha(2);
        assert_eq!(rows[1].1.ema_bar, ema_step(3.0, 7.0, alpha));
        // Day 6 closes the bar: E = step(3, 9).
        assert_eq!(rows[2].1.ema_bar, ema_step(3.0, 9.0, alpha));
    }

    #[test]
    fn a_missing_close_carries_values_forward() {
        let mut closes = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        closes[4] = f64::NAN;
        let rows = multi_tf_ema(&days(&closes, 2), 2, 2.0).unwrap();
        assert_eq!(rows[1].1.ema, rows[0].1.ema);
        assert_eq!(rows[1].1.ema_bar, rows[0].1.ema_bar);
    }

    #[test]
    fn a_bad_nominal_length_is_refused() {
        assert!(MultiTfEmaState::new(10, 0.0).is_err());
        assert!(MultiTfEmaState::new(0, 1.0).is_err());
    }
}
