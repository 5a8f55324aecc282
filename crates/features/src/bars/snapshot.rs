//! Snapshot bars: every day emits the current state of the multi-day bar it belongs to, so the
//! state of any bar on any day is one row (and the last row is all an append needs to resume).
//!
//! Per day: open = the bar's first open, high/low = running max/min with the time of the day that
//! set them (the earliest on ties), close = that day's close, volume = running sum. `pos_in_bar` is
//! the day's calendar position in the bar (1-based, from the bar's grid start); `count_days` the
//! days with data so far; `count_missing_days` the days without data from the later of the bar's
//! start and the asset's first day up to this day; `is_partial_start` marks an anchored bar that
//! began before the asset's data; `is_partial_end` marks a row whose day is not its bar's last day
//! (the bar is not complete as of that day). Rows depend only on days up to their own, so
//! appending days never changes a stored row. A bar whose last day is missing never gets a
//! complete row; its rows keep `is_partial_end` and `count_missing_days` says why.

use chrono::{DateTime, NaiveDate, Utc};

use super::grid::Grid;
use super::slot::Slot;
use crate::{DailyBar, FeatureError, Timeframe};

/// One day's snapshot of the bar of timeframe `tf` it belongs to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MultiTfBar {
    pub tf: Timeframe,
    /// The day this row is the state of.
    pub day: NaiveDate,
    /// The bar's number on the asset's grid, from 1 (a bar with no data at all still counts).
    pub bar_seq: i64,
    /// The day's calendar position in the bar, from 1.
    pub pos_in_bar: i64,
    /// The time_open of the bar's first day with data.
    pub time_open: DateTime<Utc>,
    /// This day's time_close: the row's `ts`.
    pub time_close: DateTime<Utc>,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
    pub time_high: DateTime<Utc>,
    pub time_low: DateTime<Utc>,
    pub count_days: i64,
    pub count_missing_days: i64,
    pub is_partial_start: bool,
    pub is_partial_end: bool,
}

/// The bar being built.
#[derive(Debug, Clone, Copy)]
struct OpenBar {
    slot: Slot,
    time_open: DateTime<Utc>,
    open: f64,
    high: f64,
    low: f64,
    time_high: DateTime<Utc>,
    time_low: DateTime<Utc>,
    volume: f64,
    count_days: i64,
}

/// Builds one timeframe's snapshot rows for one asset, day by day; resumable from the last row.
#[derive(Debug, Clone)]
pub struct SnapshotBuilder {
    tf: Timeframe,
    first_day: NaiveDate,
    grid: Grid,
    open: Option<OpenBar>,
    last_day: Option<NaiveDate>,
}

impl SnapshotBuilder {
    /// A builder for an asset whose data starts on `first_day` (the grid origin of `nD` bars and
    /// of non-anchored calendar bars). Hourly timeframes need hourly rows and are refused.
    pub fn new(tf: Timeframe, first_day: NaiveDate) -> Result<Self, FeatureError> {
        let grid = Grid::new(&tf, first_day)?;
        Ok(Self {
            tf,
            first_day,
            grid,
            open: None,
            last_day: None,
        })
    }

    /// A builder that continues after `last_day`, the last daily bar already consumed, whose
    /// snapshot row (if that day emitted one) is `last_row`. Refuses a row that does not fit.
    pub fn resume(
        tf: Timeframe,
        first_day: NaiveDate,
        last_day: NaiveDate,
        last_row: Option<&MultiTfBar>,
    ) -> Result<Self, FeatureError> {
        let mut b = Self::new(tf, first_day)?;
        let bad = |reason: String| FeatureError::InconsistentBarState {
            tf: tf.code(),
            reason,
        };
        if last_day < first_day {
            return Err(bad(format!(
                "last day {last_day} is before the first day {first_day}"
            )));
        }
        match last_row {
            Some(row) => {
                let slot = b.grid.locate(row.day);
                let fits = row.tf == tf
                    && row.day == last_day
                    && slot.is_some_and(|s| {
                        s.seq == row.bar_seq && (row.day - s.start).num_days() + 1 == row.pos_in_bar
                    });
                let Some(slot) = slot.filter(|_| fits) else {
                    return Err(bad(format!(
                        "the stored row of {} (bar {}) is not on this grid",
                        row.day, row.bar_seq
                    )));
                };
                b.open = Some(OpenBar {
                    slot,
                    time_open: row.time_open,
                    open: row.open,
                    high: row.high,
                    low: row.low,
                    time_high: row.time_high,
                    time_low: row.time_low,
                    volume: row.volume,
                    count_days: row.count_days,
                });
            }
            None if b.grid.locate(last_day).is_some() => {
                return Err(bad(format!(
                    "{last_day} belongs to a bar but no row of it is stored"
                )));
            }
            None => {}
        }
        b.last_day = Some(last_day);
        Ok(b)
    }

    /// The timeframe being built.
    pub fn timeframe(&self) -> Timeframe {
        self.tf
    }

    /// The last day consumed.
    pub fn last_day(&self) -> Option<NaiveDate> {
        self.last_day
    }

    /// Consumes the next day; returns its snapshot row, or None for a day before the first bar.
    pub fn push(&mut self, bar: &DailyBar) -> Result<Option<MultiTfBar>, FeatureError> {
        let day = bar.day;
        let previous = self.last_day.unwrap_or(self.first_day.pred_opt().unwrap_or(day));
        if day <= previous || day < self.first_day {
            return Err(FeatureError::UnsortedBars { previous, day });
        }
        self.last_day = Some(day);
        let open = match &mut self.open {
            Some(o) if day <= o.slot.last => {
                if bar.high > o.high {
                    (o.high, o.time_high) = (bar.high, bar.time_high);
                }
                if bar.low < o.low {
                    (o.low, o.time_low) = (bar.low, bar.time_low);
                }
                o.volume += bar.volume;
                o.count_days += 1;
                *o
            }
            _ => {
                let Some(slot) = self.grid.locate(day) else {
                    return Ok(None);
                };
                *self.open.insert(OpenBar {
                    slot,
                    time_open: bar.time_open,
                    open: bar.open,
                    high: bar.high,
                    low: bar.low,
                    time_high: bar.time_high,
                    time_low: bar.time_low,
                    volume: bar.volume,
                    count_days: 1,
                })
            }
        };
        let effective_start = open.slot.start.max(self.first_day);
        Ok(Some(MultiTfBar {
            tf: self.tf,
            day,
            bar_seq: open.slot.seq,
            pos_in_bar: (day - open.slot.start).num_days() + 1,
            time_open: open.time_open,
            time_close: bar.time_close,
            open: open.open,
            high: open.high,
            low: open.low,
            close: bar.close,
            volume: open.volume,
            time_high: open.time_high,
            time_low: open.time_low,
            count_days: open.count_days,
            count_missing_days: (day - effective_start).num_days() + 1 - open.count_days,
            is_partial_start: open.slot.start < self.first_day,
            is_partial_end: day < open.slot.last,
        }))
    }

    /// Consumes `bars` (sorted by day, after the last consumed day), appending their rows to `out`.
    pub fn push_all(&mut self, bars: &[DailyBar], out: &mut Vec<MultiTfBar>) -> Result<(), FeatureError> {
        out.reserve(bars.len());
        for bar in bars {
            if let Some(row) = self.push(bar)? {
                out.push(row);
            }
        }
        Ok(())
    }
}

/// The snapshot rows of one timeframe over one asset's daily bars (sorted by day, one per day).
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use talab_features::{DailyBar, Timeframe, bars::build_snapshots};
///
/// let day = |d: u32, o: f64, h: f64, l: f64, c: f64| {
///     let date = NaiveDate::from_ymd_opt(2024, 1, d).unwrap();
///     let t0 = date.and_hms_opt(0, 0, 0).unwrap().and_utc();
///     let t1 = date.and_hms_milli_opt(23, 59, 59, 999).unwrap().and_utc();
///     DailyBar { day: date, time_open: t0, time_close: t1, time_high: t0, time_low: t1,
///                open: o, high: h, low: l, close: c, volume: 10.0, market_cap: None }
/// };
/// let rows = build_snapshots(Timeframe::parse("2D").unwrap(),
///     &[day(1, 10.0, 12.0, 9.0, 11.0), day(2, 11.0, 15.0, 10.0, 14.0), day(3, 14.0, 14.5, 13.0, 13.5)]).unwrap();
/// assert_eq!((rows[1].open, rows[1].high, rows[1].low, rows[1].close, rows[1].volume), (10.0, 15.0, 9.0, 14.0, 20.0));
/// assert!(!rows[1].is_partial_end && rows[2].is_partial_end && rows[2].bar_seq == 2);
/// ```
pub fn build_snapshots(tf: Timeframe, bars: &[DailyBar]) -> Result<Vec<MultiTfBar>, FeatureError> {
    let mut out = Vec::new();
    build_snapshots_into(tf, bars, &mut out)?;
    Ok(out)
}

/// Like [`build_snapshots`], appending to a caller's buffer (reuse it across assets).
pub fn build_snapshots_into(
    tf: Timeframe,
    bars: &[DailyBar],
    out: &mut Vec<MultiTfBar>,
) -> Result<(), FeatureError> {
    let Some(first) = bars.first() else {
        return Ok(());
    };
    SnapshotBuilder::new(tf, first.day)?.push_all(bars, out)
}

/// The rows of every timeframe in `tfs` (in that order) over one asset's daily bars.
pub fn build_all(tfs: &[Timeframe], bars: &[DailyBar]) -> Result<Vec<MultiTfBar>, FeatureError> {
    let mut out = Vec::with_capacity(tfs.len() * bars.len());
    for tf in tfs {
        build_snapshots_into(*tf, bars, &mut out)?;
    }
    Ok(out)
}
