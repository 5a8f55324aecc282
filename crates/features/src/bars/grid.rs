//! Which bar of a timeframe a day belongs to, for one asset: `nD` day counts from the asset's first
//! day, or calendar periods (see `calendar`). The snapshot builder and the EMA engine both ask it.

use chrono::NaiveDate;

use super::calendar::CalendarGrid;
use super::slot::Slot;
use super::tf_day::DayGrid;
use crate::timeframe::TfUnit;
use crate::{FeatureError, Timeframe};

/// The bars of one timeframe for one asset: which bar a day belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Grid {
    Days(DayGrid),
    Calendar(CalendarGrid),
}

impl Grid {
    /// The grid of `tf` for an asset whose data starts on `first_day` (the origin of `nD` bars and
    /// of non-anchored calendar bars). Hourly timeframes need hourly rows and are refused.
    pub(crate) fn new(tf: &Timeframe, first_day: NaiveDate) -> Result<Self, FeatureError> {
        Ok(match tf.unit {
            TfUnit::Day => Grid::Days(DayGrid {
                origin: first_day,
                n: i64::from(tf.qty),
            }),
            TfUnit::Hour => {
                return Err(FeatureError::UnsupportedTimeframe {
                    tf: tf.code(),
                    reason: "hourly bars are built from hourly rows, not from daily bars".into(),
                });
            }
            _ => Grid::Calendar(CalendarGrid::new(tf, first_day)),
        })
    }

    /// Whether a bar completes on `day`: the day is its bar's last day.
    pub(crate) fn closes_bar(&self, day: NaiveDate) -> bool {
        self.locate(day).is_some_and(|slot| slot.last == day)
    }

    pub(crate) fn locate(&self, day: NaiveDate) -> Option<Slot> {
        match self {
            Grid::Days(g) => g.locate(day),
            Grid::Calendar(g) => g.locate(day),
        }
    }
}
