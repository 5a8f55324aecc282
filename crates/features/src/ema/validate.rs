//! Validation of computed EMA values (spec §5): values are always written; the suspicious ones are
//! also recorded in `ema_rejects` with a reason, and counted in the run summary.
//!
//! Checks, per value (`ema` and `ema_bar`): not finite; negative; outside [0.5·min, 2·max] of the
//! closes of the last [`WINDOW_DAYS`] calendar days up to and including the row's day. An EMA is an
//! average of past closes, so it can only leave that band when the series moved by more than a
//! factor of two inside the window, or when something upstream is wrong.

use std::collections::VecDeque;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The window of the range check, in calendar days.
pub const WINDOW_DAYS: i64 = 90;

/// Why a value was flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmaRejectReason {
    NonFinite,
    Negative,
    OutOfRange,
}

impl EmaRejectReason {
    pub fn code(self) -> &'static str {
        match self {
            EmaRejectReason::NonFinite => "non_finite",
            EmaRejectReason::Negative => "negative",
            EmaRejectReason::OutOfRange => "out_of_range",
        }
    }
}

/// The running [min, max] of each day's trailing window of closes.
#[derive(Debug, Clone, Default)]
pub struct CloseBand {
    min: Vec<f64>,
    max: Vec<f64>,
}

impl CloseBand {
    /// The band of every day of a series (days sorted; NaN closes ignored).
    pub fn new(days: &[NaiveDate], closes: &[f64]) -> Self {
        let mut band = CloseBand {
            min: Vec::with_capacity(days.len()),
            max: Vec::with_capacity(days.len()),
        };
        // Monotonic queues of indexes: front = min (resp. max) of the window.
        let mut lo: VecDeque<usize> = VecDeque::new();
        let mut hi: VecDeque<usize> = VecDeque::new();
        for (i, (&day, &x)) in days.iter().zip(closes).enumerate() {
            if !x.is_nan() {
                while lo.back().is_some_and(|&j| closes[j] >= x) {
                    lo.pop_back();
                }
                lo.push_back(i);
                while hi.back().is_some_and(|&j| closes[j] <= x) {
                    hi.pop_back();
                }
                hi.push_back(i);
            }
            for q in [&mut lo, &mut hi] {
                while q
                    .front()
                    .is_some_and(|&j| (day - days[j]).num_days() >= WINDOW_DAYS)
                {
                    q.pop_front();
                }
            }
            band.min.push(lo.front().map_or(f64::NAN, |&j| closes[j]));
            band.max.push(hi.front().map_or(f64::NAN, |&j| closes[j]));
        }
        band
    }

    /// The first check `value` fails on day `i`, with a human detail.
    pub fn check(&self, i: usize, value: f64) -> Option<(EmaRejectReason, String)> {
        if !value.is_finite() {
            return Some((EmaRejectReason::NonFinite, format!("value {value} is not finite")));
        }
        if value < 0.0 {
            return Some((EmaRejectReason::Negative, format!("value {value} is negative")));
        }
        let (min, max) = (self.min[i], self.max[i]);
        if min.is_nan() {
            return None;
        }
        let (low, high) = (0.5 * min, 2.0 * max);
        (value < low || value > high).then(|| {
            (
                EmaRejectReason::OutOfRange,
                format!(
                    "value {value} is outside [{low}, {high}] (half the minimum, twice the maximum of the \
                     closes of the last {WINDOW_DAYS} days)"
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(n: usize) -> Vec<NaiveDate> {
        let d0 = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        (0..n).map(|i| d0 + chrono::Duration::days(i as i64)).collect()
    }

    #[test]
    fn band_is_the_trailing_window_min_and_max() {
        let closes: Vec<f64> = (0..200).map(|i| ((i * 37) % 101) as f64 + 1.0).collect();
        let d = days(200);
        let band = CloseBand::new(&d, &closes);
        for i in 0..200usize {
            let from = i.saturating_sub(WINDOW_DAYS as usize - 1);
            let w = &closes[from..=i];
            let min = w.iter().cloned().fold(f64::INFINITY, f64::min);
            let max = w.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!((band.min[i], band.max[i]), (min, max), "day {i}");
        }
    }

    #[test]
    fn gaps_shrink_the_window_by_calendar_days() {
        let d0 = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let d = [d0, d0 + chrono::Duration::days(100)];
        let band = CloseBand::new(&d, &[1000.0, 10.0]);
        assert_eq!(
            (band.min[1], band.max[1]),
            (10.0, 10.0),
            "day 0 fell out of the window"
        );
    }

    #[test]
    fn checks_name_the_first_failure() {
        let d = days(3);
        let band = CloseBand::new(&d, &[10.0, 12.0, 11.0]);
        assert_eq!(band.check(2, 11.5), None);
        assert_eq!(
            band.check(2, 5.0).map(|r| r.0),
            None,
            "exactly half the minimum is allowed"
        );
        assert_eq!(band.check(2, 4.9).unwrap().0, EmaRejectReason::OutOfRange);
        assert_eq!(band.check(2, 24.1).unwrap().0, EmaRejectReason::OutOfRange);
        assert_eq!(band.check(2, -1.0).unwrap().0, EmaRejectReason::Negative);
        assert_eq!(band.check(2, f64::NAN).unwrap().0, EmaRejectReason::NonFinite);
    }
}
