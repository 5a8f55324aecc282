//! Calendar grids: US (Sunday–Saturday) and ISO (Monday–Sunday) weeks, months, quarters and years,
//! in groups of N, either starting at the asset's first full period or anchored on a global grid.
//!
//! Non-anchored bars start at the first full period (week, month, quarter or year) on or after the
//! asset's first day; days before it belong to no bar and emit no rows. Anchored bars sit on a grid
//! shared by every asset: N-week groups counted from 1970-01-04 (US) or 1970-01-05 (ISO), N-month
//! groups starting at month ⌊(m−1)/N⌋·N+1 of each year (a group never crosses a year end; for N a
//! multiple of 12 the groups are N/12-year groups), quarters as 3N months, N-year groups at ⌊y/N⌋·N.

use chrono::{Datelike, Duration, NaiveDate};

use super::slot::Slot;
use crate::timeframe::{CalendarScheme, TfUnit, Timeframe};

/// Where the bars of a calendar timeframe fall.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CalendarGrid {
    /// Weeks: groups of `len` days from `base`; `k_first` is the group of the first bar.
    Weeks { base: NaiveDate, len: i64, k_first: i64 },
    /// Groups of `len` months counted from absolute month `base` (year·12 + month − 1).
    Months { base: i64, len: i64, k_first: i64 },
    /// Anchored groups of `len` months restarting every January (`len` not dividing 12).
    MonthsInYear { len: i64, key_first: i64 },
}

/// Year·12 + month − 1.
fn abs_month(day: NaiveDate) -> i64 {
    i64::from(day.year()) * 12 + i64::from(day.month0())
}

fn month_start(abs: i64) -> Option<NaiveDate> {
    let year = i32::try_from(abs.div_euclid(12)).ok()?;
    NaiveDate::from_ymd_opt(year, abs.rem_euclid(12) as u32 + 1, 1)
}

impl CalendarGrid {
    /// The grid of a calendar timeframe for an asset whose data starts on `first_day`.
    pub fn new(tf: &Timeframe, first_day: NaiveDate) -> Self {
        let qty = i64::from(tf.qty);
        if tf.unit == TfUnit::Week {
            let (epoch, from_start) = match tf.scheme {
                Some(CalendarScheme::Us) => (
                    NaiveDate::from_ymd_opt(1970, 1, 4),
                    first_day.weekday().num_days_from_sunday(),
                ),
                _ => (
                    NaiveDate::from_ymd_opt(1970, 1, 5),
                    first_day.weekday().num_days_from_monday(),
                ),
            };
            let len = 7 * qty;
            if tf.anchored {
                let base = epoch.expect("1970-01-04/05 are valid dates");
                let k_first = (first_day - base).num_days().div_euclid(len);
                return CalendarGrid::Weeks { base, len, k_first };
            }
            let to_next = (7 - i64::from(from_start)) % 7;
            let base = first_day + Duration::days(to_next);
            return CalendarGrid::Weeks {
                base,
                len,
                k_first: 0,
            };
        }
        let (unit_months, len) = match tf.unit {
            TfUnit::Quarter => (3, 3 * qty),
            TfUnit::Year => (12, 12 * qty),
            _ => (1, qty),
        };
        let first = abs_month(first_day);
        if tf.anchored {
            if 12 % len == 0 || len % 12 == 0 {
                return CalendarGrid::Months {
                    base: 0,
                    len,
                    k_first: first.div_euclid(len),
                };
            }
            let key_first = Self::year_key(first_day, len);
            return CalendarGrid::MonthsInYear { len, key_first };
        }
        // The first full unit (month, quarter, year) on or after the first day.
        let mut base = if first_day.day() == 1 { first } else { first + 1 };
        base += (unit_months - base.rem_euclid(unit_months)) % unit_months;
        CalendarGrid::Months {
            base,
            len,
            k_first: 0,
        }
    }

    fn groups_per_year(len: i64) -> i64 {
        (12 + len - 1) / len
    }

    fn year_key(day: NaiveDate, len: i64) -> i64 {
        i64::from(day.year()) * Self::groups_per_year(len) + i64::from(day.month0()) / len
    }

    /// The bar `day` belongs to; None before the first bar.
    pub fn locate(&self, day: NaiveDate) -> Option<Slot> {
        match *self {
            CalendarGrid::Weeks { base, len, k_first } => {
                let k = (day - base).num_days().div_euclid(len);
                if k < k_first {
                    return None;
                }
                let start = base + Duration::days(k * len);
                Some(Slot {
                    seq: k - k_first + 1,
                    start,
                    last: start + Duration::days(len - 1),
                })
            }
            CalendarGrid::Months { base, len, k_first } => {
                let k = (abs_month(day) - base).div_euclid(len);
                if k < k_first {
                    return None;
                }
                let first_month = base + k * len;
                let start = month_start(first_month)?;
                let last = month_start(first_month + len)?.pred_opt()?;
                Some(Slot {
                    seq: k - k_first + 1,
                    start,
                    last,
                })
            }
            CalendarGrid::MonthsInYear { len, key_first } => {
                let key = Self::year_key(day, len);
                if key < key_first {
                    return None;
                }
                let year = i64::from(day.year());
                let m0 = (i64::from(day.month0()) / len) * len;
                let start = month_start(year * 12 + m0)?;
                let last = month_start(year * 12 + (m0 + len).min(12))?.pred_opt()?;
                Some(Slot {
                    seq: key - key_first + 1,
                    start,
                    last,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn slot(code: &str, first: &str, day: &str) -> Option<(i64, NaiveDate, NaiveDate)> {
        let tf = Timeframe::parse(code).unwrap();
        CalendarGrid::new(&tf, d(first))
            .locate(d(day))
            .map(|s| (s.seq, s.start, s.last))
    }

    #[test]
    fn months_quarters_and_years() {
        // Non-anchored: the first full month after a mid-month start.
        assert_eq!(slot("1M_CAL", "2020-01-15", "2020-01-31"), None);
        assert_eq!(
            slot("1M_CAL", "2020-01-15", "2020-02-29"),
            Some((1, d("2020-02-01"), d("2020-02-29")))
        );
        assert_eq!(
            slot("3M_CAL", "2020-01-15", "2020-04-30"),
            Some((1, d("2020-02-01"), d("2020-04-30")))
        );
        assert_eq!(
            slot("1Q_CAL", "2020-01-15", "2020-04-30"),
            Some((1, d("2020-04-01"), d("2020-06-30")))
        );
        assert_eq!(
            slot("1Y_CAL", "2020-01-01", "2021-03-01"),
            Some((2, d("2021-01-01"), d("2021-12-31")))
        );
        // Anchored: on the global grid, first bar partial.
        assert_eq!(
            slot("3M_CAL_ANCHOR", "2020-02-15", "2020-02-20"),
            Some((1, d("2020-01-01"), d("2020-03-31")))
        );
        assert_eq!(
            slot("2Y_CAL_ANCHOR", "2021-06-01", "2022-06-01"),
            Some((2, d("2022-01-01"), d("2023-12-31")))
        );
        // 5 months does not divide a year: Jan–May, Jun–Oct, Nov–Dec.
        assert_eq!(
            slot("5M_CAL_ANCHOR", "2020-01-01", "2020-12-05"),
            Some((3, d("2020-11-01"), d("2020-12-31")))
        );
        assert_eq!(
            slot("5M_CAL_ANCHOR", "2020-01-01", "2021-01-05"),
            Some((4, d("2021-01-01"), d("2021-05-31")))
        );
        assert_eq!(
            slot("2Q_CAL_ANCHOR", "2020-08-01", "2020-08-01"),
            Some((1, d("2020-07-01"), d("2020-12-31")))
        );
    }

    #[test]
    fn anchored_weeks_count_from_1970() {
        // 1970-01-04 + 14·1304 days = 2019-12-29 (a Sunday): a 2-week group starts there.
        assert_eq!(
            slot("2W_CAL_ANCHOR_US", "2020-01-08", "2020-01-10"),
            Some((1, d("2019-12-29"), d("2020-01-11")))
        );
        assert_eq!(
            slot("2W_CAL_ANCHOR_US", "2020-01-08", "2020-01-12"),
            Some((2, d("2020-01-12"), d("2020-01-25")))
        );
        assert_eq!(
            slot("2W_CAL_ANCHOR_ISO", "2020-01-08", "2020-01-10"),
            Some((1, d("2019-12-30"), d("2020-01-12")))
        );
        assert_eq!(slot("2W_CAL_US", "2020-01-08", "2020-01-10"), None);
        assert_eq!(
            slot("2W_CAL_US", "2020-01-08", "2020-01-12"),
            Some((1, d("2020-01-12"), d("2020-01-25")))
        );
    }
}
