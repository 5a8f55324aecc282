//! A bar's place on a grid, as every grid (day counts, calendar periods) reports it. Its own file so
//! that the grids and the snapshot builder share it without importing each other.

use chrono::NaiveDate;

/// Where a day falls on a grid: the bar's number and its first and last calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    pub seq: i64,
    pub start: NaiveDate,
    pub last: NaiveDate,
}
