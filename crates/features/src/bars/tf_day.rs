//! The `tf_day` grid (`nD`): bars of `n` calendar days counted from the asset's first day.
//!
//! Bar k covers days `[first + k·n, first + (k+1)·n)` whatever data exists, so a missing day leaves
//! its bar with fewer rows (and `count_missing_days > 0`) instead of stretching the bar over the
//! gap, as the old lab's row counting did.

use chrono::{Duration, NaiveDate};

use super::slot::Slot;

/// `n`-day bars counted from `origin` (the asset's first day).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DayGrid {
    pub origin: NaiveDate,
    pub n: i64,
}

impl DayGrid {
    /// The bar `day` belongs to; None before the origin.
    pub fn locate(&self, day: NaiveDate) -> Option<Slot> {
        let offset = (day - self.origin).num_days();
        if offset < 0 {
            return None;
        }
        let k = offset / self.n;
        let start = self.origin + Duration::days(k * self.n);
        Some(Slot {
            seq: k + 1,
            start,
            last: start + Duration::days(self.n - 1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_count_calendar_days_from_the_origin() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let g = DayGrid {
            origin: d("2024-01-30"),
            n: 3,
        };
        assert_eq!(g.locate(d("2024-01-29")), None);
        let s = g.locate(d("2024-02-02")).unwrap();
        assert_eq!((s.seq, s.start, s.last), (2, d("2024-02-02"), d("2024-02-04")));
        let s = g.locate(d("2024-02-01")).unwrap();
        assert_eq!((s.seq, s.start, s.last), (1, d("2024-01-30"), d("2024-02-01")));
    }
}
