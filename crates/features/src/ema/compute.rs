//! One (timeframe, period) of one asset: decide between rolling forward and rebuilding, then compute.
//!
//! The decision is the heart of the incremental refresh (spec §6). A saved state may be continued
//! only if the days it was computed from are still exactly the asset's first days: same first day,
//! same number of days up to the saved last day, same fingerprint of their (day, close) pairs.
//! Anything else (a revised close, a back-filled day, an earlier first day) rebuilds the series from
//! the first day, never from a truncated history. Both paths run the same [`MultiTfEmaState`], so a
//! roll-forward gives the bits a rebuild would.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::multi_tf::{MultiTfEmaRow, MultiTfEmaState, TfDay};
use super::series::{Cadence, Closes};
use super::validate::{CloseBand, EmaRejectReason};
use crate::bars::grid::Grid;
use crate::{FeatureError, Timeframe};

/// Where one (symbol, tf, period) stopped, as stored in `cmc_ema_multi_tf_state`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedState {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Days of the series up to and including `last_day`.
    pub n_days: i64,
    /// The fingerprint of those days ([`Closes::prefix_fingerprints`]).
    pub fingerprint: i64,
    /// The EMA state after `last_day`.
    pub state: MultiTfEmaState,
}

/// What happened to one series in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesAction {
    /// Computed from the first day (no state, changed history, or asked for).
    Rebuilt,
    /// Rolled forward from the saved state.
    Extended,
    /// Already computed through the requested day; nothing written.
    UpToDate,
}

/// A value that failed validation (it is still written).
#[derive(Debug, Clone, PartialEq)]
pub struct EmaReject {
    /// Index of the day in the asset's [`Closes`].
    pub index: usize,
    pub column: &'static str,
    pub value: f64,
    pub reason: EmaRejectReason,
    pub detail: String,
}

/// The result of one (tf, period) for one asset.
#[derive(Debug, Clone)]
pub struct SeriesResult {
    pub tf: Timeframe,
    pub code: String,
    pub period: usize,
    pub tf_days: u32,
    pub action: SeriesAction,
    /// New rows: (index of the day in the asset's closes, values); roll = is_partial_end.
    pub rows: Vec<(usize, MultiTfEmaRow)>,
    pub rejects: Vec<EmaReject>,
    /// The state to store (None when nothing changed).
    pub saved: Option<SavedState>,
}

/// Which closes complete a bar of `tf`, for an asset whose closes are `closes`.
///
/// Daily series follow the timeframe's grid ([`Grid`]). Hourly series count hours from 00:00 UTC
/// of the asset's first day: bar k covers hours [k·N, (k+1)·N), so for N dividing 24 (1H, 2H, 4H,
/// 6H, 8H, 12H) the bars are the exchanges' UTC-aligned candles. As with day bars, a bar completes
/// on its last hour; a bar whose last hour is missing does not.
pub fn bar_closes(tf: &Timeframe, closes: &Closes) -> Result<Vec<bool>, FeatureError> {
    check_cadence(tf, closes.cadence)?;
    let Some(first) = closes.first_day() else {
        return Ok(Vec::new());
    };
    match closes.cadence {
        Cadence::Daily => {
            let grid = Grid::new(tf, first)?;
            Ok(closes.days.iter().map(|&d| grid.closes_bar(d)).collect())
        }
        Cadence::Hourly => {
            let anchor = crate::day_start(first).timestamp().div_euclid(3600);
            let n = i64::from(tf.qty);
            Ok(closes.slots.iter().map(|&h| (h - anchor + 1) % n == 0).collect())
        }
    }
}

/// Refuses a timeframe on the other grid (an intraday timeframe over daily closes, or the reverse).
fn check_cadence(tf: &Timeframe, cadence: Cadence) -> Result<(), FeatureError> {
    if Cadence::of(tf) == cadence {
        return Ok(());
    }
    Err(FeatureError::UnsupportedTimeframe {
        tf: tf.code(),
        reason: match cadence {
            Cadence::Daily => "intraday EMAs are computed from hourly bars, not daily closes".into(),
            Cadence::Hourly => "only intraday (NH) timeframes are computed from hourly bars".into(),
        },
    })
}

/// Closes per bar (the `ema` column's α uses it) and the `tf_days` column: the nominal days of a
/// daily-grid timeframe; for an intraday one its hours, and `tf_days` 0 (a bar shorter than a day).
fn bar_length(tf: &Timeframe) -> (f64, u32) {
    match tf.tf_days_nominal() {
        Some(days) => (f64::from(days), days),
        None => (f64::from(tf.qty), 0),
    }
}

/// Everything one asset's series share: its closes, their validation band and prefix
/// fingerprints (computed once, not once per series), and how far to go.
pub struct AssetInput<'a> {
    pub closes: &'a Closes,
    pub band: CloseBand,
    /// [`Closes::prefix_fingerprints`] of `closes`.
    pub fingerprints: Vec<i64>,
    /// Compute days `[0, end)`.
    pub end: usize,
    /// Rebuild even when a state could continue.
    pub force: bool,
}

impl<'a> AssetInput<'a> {
    pub fn new(closes: &'a Closes, end: usize, force: bool) -> Self {
        AssetInput {
            closes,
            band: CloseBand::new(&closes.days, &closes.closes),
            fingerprints: closes.prefix_fingerprints(),
            end,
            force,
        }
    }

    /// How many closes a saved state has consumed, if it can continue on these closes: its first
    /// `n_days` closes are still exactly the ones it saw (same first and last day, same
    /// fingerprint of every (slot, close) pair).
    fn resumable(&self, s: &SavedState) -> Option<usize> {
        let done = usize::try_from(s.n_days)
            .ok()
            .filter(|&n| n >= 1 && n <= self.closes.len())?;
        let c = self.closes;
        (c.days[0] == s.first_day
            && c.days[done - 1] == s.last_day
            && self.fingerprints[done] == s.fingerprint)
            .then_some(done)
    }
}

/// Computes one (tf, period) given its bar-close flags and its saved state.
pub fn compute_series(
    input: &AssetInput<'_>,
    tf: &Timeframe,
    bar_close: &[bool],
    period: usize,
    saved: Option<&SavedState>,
) -> Result<SeriesResult, FeatureError> {
    check_cadence(tf, input.closes.cadence)?;
    let (bar_len, tf_days) = bar_length(tf);
    let closes = input.closes;
    let mut end = input.end;
    let resume = match saved {
        Some(s) if !input.force => input.resumable(s),
        _ => None,
    };
    let (action, start, mut state) = match resume {
        Some(done) if done >= end => {
            return Ok(SeriesResult {
                tf: *tf,
                code: tf.code(),
                period,
                tf_days,
                action: SeriesAction::UpToDate,
                rows: Vec::new(),
                rejects: Vec::new(),
                saved: None,
            });
        }
        Some(done) => (
            SeriesAction::Extended,
            done,
            saved.expect("resumable").state.clone(),
        ),
        None => {
            // A rebuild never stops short of what was computed before (never re-seed from, or
            // leave behind, a truncated history).
            if let Some(s) = saved {
                end = end.max(closes.count_through(s.last_day));
            }
            (SeriesAction::Rebuilt, 0, MultiTfEmaState::new(period, bar_len)?)
        }
    };
    let mut rows = Vec::with_capacity(end - start);
    let mut rejects = Vec::new();
    let days = closes.closes[start..end].iter().zip(&bar_close[start..end]);
    for (i, (&close, &bar_close)) in (start..end).zip(days) {
        let day = TfDay { close, bar_close };
        if let Some(row) = state.push(day) {
            for (column, value) in [("ema", row.ema), ("ema_bar", row.ema_bar)] {
                if let Some((reason, detail)) = input.band.check(i, value) {
                    rejects.push(EmaReject {
                        index: i,
                        column,
                        value,
                        reason,
                        detail,
                    });
                }
            }
            rows.push((i, row));
        }
    }
    let saved = (end > 0).then(|| SavedState {
        first_day: closes.days[0],
        last_day: closes.days[end - 1],
        n_days: end as i64,
        fingerprint: input.fingerprints[end],
        state,
    });
    Ok(SeriesResult {
        tf: *tf,
        code: tf.code(),
        period,
        tf_days,
        action,
        rows,
        rejects,
        saved,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::day_end;

    fn closes(values: &[f64]) -> Closes {
        let d0 = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        Closes::from_rows(values.iter().enumerate().map(|(i, &c)| {
            let day = d0 + chrono::Duration::days(i as i64);
            (day, day_end(day), c)
        }))
        .unwrap()
    }

    fn run(c: &Closes, end: usize, tf: &str, period: usize, saved: Option<&SavedState>) -> SeriesResult {
        let tf = Timeframe::parse(tf).unwrap();
        let flags = bar_closes(&tf, c).unwrap();
        let input = AssetInput::new(c, end, false);
        compute_series(&input, &tf, &flags, period, saved).unwrap()
    }

    #[test]
    fn roll_forward_equals_rebuild_and_revisions_rebuild() {
        let values: Vec<f64> = (0..120).map(|i| 100.0 + (i as f64 * 0.3).sin() * 7.0).collect();
        let c = closes(&values);
        let full = run(&c, 120, "3D", 5, None);
        let first = run(&c, 70, "3D", 5, None);
        let rest = run(&c, 120, "3D", 5, first.saved.as_ref());
        assert_eq!(rest.action, SeriesAction::Extended);
        let joined: Vec<_> = first.rows.iter().chain(&rest.rows).cloned().collect();
        assert_eq!(joined, full.rows);
        assert_eq!(rest.saved, full.saved);

        let again = run(&c, 120, "3D", 5, full.saved.as_ref());
        assert_eq!(again.action, SeriesAction::UpToDate);

        let mut revised = values.clone();
        revised[10] += 1.0;
        let r = run(&closes(&revised), 120, "3D", 5, first.saved.as_ref());
        assert_eq!(r.action, SeriesAction::Rebuilt);
        assert_eq!(r.rows, run(&closes(&revised), 120, "3D", 5, None).rows);
    }

    #[test]
    fn a_rebuild_never_ends_before_the_saved_day() {
        let values: Vec<f64> = (0..60).map(|i| 50.0 + i as f64).collect();
        let full = run(&closes(&values), 60, "1D", 10, None);
        let mut revised = values.clone();
        revised[3] = 1.0;
        let r = run(&closes(&revised), 30, "1D", 10, full.saved.as_ref());
        assert_eq!(r.action, SeriesAction::Rebuilt);
        assert_eq!(
            r.saved.unwrap().n_days,
            60,
            "asked through day 30, but day 60 was computed before"
        );
    }

    #[test]
    fn a_timeframe_on_the_other_grid_is_refused_with_a_reason() {
        let c = closes(&[1.0, 2.0]);
        let tf = Timeframe::parse("4h").unwrap();
        let input = AssetInput::new(&c, 2, false);
        let err = compute_series(&input, &tf, &[true, true], 3, None).unwrap_err();
        assert!(err.to_string().contains("hourly"), "{err}");
        let hourly = hours(&[1.0, 2.0], 0);
        let err = bar_closes(&Timeframe::parse("1D").unwrap(), &hourly).unwrap_err();
        assert!(err.to_string().contains("intraday"), "{err}");
    }

    /// Hourly closes from 2024-01-01 `first_hour`:00 UTC, one per hour.
    fn hours(values: &[f64], first_hour: i64) -> Closes {
        let start = crate::day_start(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap());
        Closes::from_hourly_rows(values.iter().enumerate().map(|(i, &c)| {
            let ts = start + chrono::Duration::hours(first_hour + i as i64 + 1)
                - chrono::Duration::milliseconds(1);
            (ts, c)
        }))
        .unwrap()
    }

    #[test]
    fn hour_bars_sit_on_utc_boundaries_counted_from_the_first_day() {
        // First close at 02:00–03:00: the first 4H bar (00:00–04:00) closes on its 2nd hour.
        let c = hours(&[1.0; 10], 2);
        let flags = bar_closes(&Timeframe::parse("4H").unwrap(), &c).unwrap();
        let closing: Vec<usize> = (0..10).filter(|&i| flags[i]).collect();
        assert_eq!(closing, vec![1, 5, 9], "bars end at 03:59, 07:59, 11:59");
        assert!(
            bar_closes(&Timeframe::parse("1h").unwrap(), &c)
                .unwrap()
                .iter()
                .all(|&f| f)
        );
    }

    #[test]
    fn hourly_roll_forward_equals_rebuild() {
        let values: Vec<f64> = (0..300).map(|i| 100.0 + (i as f64 * 0.2).sin() * 3.0).collect();
        let c = hours(&values, 5);
        let tf = Timeframe::parse("4H").unwrap();
        let flags = bar_closes(&tf, &c).unwrap();
        let run = |end, saved: Option<&SavedState>| {
            compute_series(&AssetInput::new(&c, end, false), &tf, &flags, 10, saved).unwrap()
        };
        let full = run(300, None);
        assert_eq!(full.tf_days, 0);
        let first = run(123, None);
        let rest = run(300, first.saved.as_ref());
        assert_eq!(rest.action, SeriesAction::Extended);
        let joined: Vec<_> = first.rows.iter().chain(&rest.rows).cloned().collect();
        assert_eq!(joined, full.rows);
        assert_eq!(rest.saved, full.saved);
    }
}
