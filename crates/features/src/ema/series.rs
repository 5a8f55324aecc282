//! One asset's closes on one grid (days, or hours for intraday timeframes): everything an EMA of
//! that asset depends on, and its fingerprint.
//!
//! EMAs of every timeframe are functions of the (slot, close) series alone (bar boundaries come
//! from the slots, bar closes from the closes), so the incremental refresh compares a fingerprint
//! of exactly those two fields: a revised volume does not force a recompute, a revised close or a
//! back-filled day (or hour) always does. Daily and hourly series are the same type so that one
//! roll-forward/rebuild path serves every timeframe.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use talab_db::sqlx;
use talab_db::{Tx, on_tx};

use crate::FeatureError;

/// The grid a series is on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Cadence {
    /// One close per UTC day (`cmc_price_bars_1d`): every timeframe but the intraday ones.
    #[default]
    Daily,
    /// One close per UTC hour (`cmc_price_bars_1h`): intraday (`NH`) timeframes.
    Hourly,
}

impl Cadence {
    /// The grid a timeframe's EMAs are computed on.
    pub fn of(tf: &crate::Timeframe) -> Self {
        if tf.is_intraday() {
            Cadence::Hourly
        } else {
            Cadence::Daily
        }
    }

    /// The table the series is read from.
    pub fn table(self) -> &'static str {
        match self {
            Cadence::Daily => "cmc_price_bars_1d",
            Cadence::Hourly => crate::bars::hourly::HOURLY_TABLE,
        }
    }
}

/// One asset's validated closes on one grid, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Closes {
    pub cadence: Cadence,
    /// The grid position of each close: days since 0001-01-01 (daily) or hours since the Unix
    /// epoch (hourly). Strictly increasing.
    pub slots: Vec<i64>,
    /// The UTC day of each close (for hourly series, the day the hour is in).
    pub days: Vec<NaiveDate>,
    /// Each close's `ts` (its time_close).
    pub ts: Vec<DateTime<Utc>>,
    pub closes: Vec<f64>,
}

impl Closes {
    /// Builds a daily series from (day, ts, close) rows, refusing unsorted or repeated days.
    pub fn from_rows(
        rows: impl IntoIterator<Item = (NaiveDate, DateTime<Utc>, f64)>,
    ) -> Result<Self, FeatureError> {
        let mut s = Closes::default();
        for (day, ts, close) in rows {
            s.push(i64::from(day.num_days_from_ce()), day, ts, close)?;
        }
        Ok(s)
    }

    /// Builds an hourly series from (ts, close) rows (ts = the hour's last millisecond),
    /// refusing unsorted or repeated hours.
    pub fn from_hourly_rows(
        rows: impl IntoIterator<Item = (DateTime<Utc>, f64)>,
    ) -> Result<Self, FeatureError> {
        let mut s = Closes {
            cadence: Cadence::Hourly,
            ..Closes::default()
        };
        for (ts, close) in rows {
            s.push(ts.timestamp().div_euclid(3600), ts.date_naive(), ts, close)?;
        }
        Ok(s)
    }

    fn push(&mut self, slot: i64, day: NaiveDate, ts: DateTime<Utc>, close: f64) -> Result<(), FeatureError> {
        if self.slots.last().is_some_and(|&previous| slot <= previous) {
            let previous = *self.days.last().expect("a slot has a day");
            return Err(FeatureError::UnsortedBars { previous, day });
        }
        self.slots.push(slot);
        self.days.push(day);
        self.ts.push(ts);
        self.closes.push(close);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.days.len()
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    pub fn first_day(&self) -> Option<NaiveDate> {
        self.days.first().copied()
    }

    pub fn last_day(&self) -> Option<NaiveDate> {
        self.days.last().copied()
    }

    /// How many days are on or before `day`.
    pub fn count_through(&self, day: NaiveDate) -> usize {
        self.days.partition_point(|d| *d <= day)
    }

    /// The fingerprint of every prefix: element `n` is FNV-1a over the (slot, close bits) of the
    /// first `n` closes, for every `n` in `0..=len`, in one pass. The refresh checks ~100 saved
    /// states per asset against prefixes of the same series; hashing each prefix again made that
    /// check most of an incremental refresh's time.
    pub fn prefix_fingerprints(&self) -> Vec<i64> {
        // 64-bit FNV-1a over little-endian words; saved states hold these values: keep it stable.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut out = Vec::with_capacity(self.len() + 1);
        out.push(h as i64);
        for (&slot, close) in self.slots.iter().zip(&self.closes) {
            for word in [slot as u64, close.to_bits()] {
                for b in word.to_le_bytes() {
                    h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
                }
            }
            out.push(h as i64);
        }
        out
    }

    /// Loads a symbol's closes on `cadence` (all of them), inside `tx` so that they are the closes
    /// the transaction's writes are computed from.
    pub async fn load(tx: &mut Tx, symbol: &str, cadence: Cadence) -> Result<Self, FeatureError> {
        match cadence {
            Cadence::Daily => {
                let sql = "SELECT day, ts, close FROM cmc_price_bars_1d WHERE symbol = $1 ORDER BY day";
                let rows: Vec<(NaiveDate, DateTime<Utc>, f64)> =
                    on_tx!(tx, c => sqlx::query_as(sql).bind(symbol).fetch_all(&mut **c).await)?;
                Self::from_rows(rows)
            }
            Cadence::Hourly => {
                let sql = format!(
                    "SELECT ts, close FROM {} WHERE symbol = $1 ORDER BY ts",
                    cadence.table()
                );
                let rows: Vec<(DateTime<Utc>, f64)> =
                    on_tx!(tx, c => sqlx::query_as(&sql).bind(symbol).fetch_all(&mut **c).await)?;
                Self::from_hourly_rows(rows)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::day_end;

    fn series(closes: &[(u32, f64)]) -> Closes {
        Closes::from_rows(closes.iter().map(|&(d, c)| {
            let day = NaiveDate::from_ymd_opt(2024, 1, d).unwrap();
            (day, day_end(day), c)
        }))
        .unwrap()
    }

    #[test]
    fn fingerprint_sees_closes_and_days_but_only_the_prefix() {
        let a = series(&[(1, 1.0), (2, 2.0), (3, 3.0)]);
        let revised = series(&[(1, 1.0), (2, 2.5), (3, 3.0)]);
        let moved = series(&[(1, 1.0), (3, 2.0), (4, 3.0)]);
        let longer = series(&[(1, 1.0), (2, 2.0), (3, 3.0), (4, 9.0)]);
        let fp = |s: &Closes, n: usize| s.prefix_fingerprints()[n];
        assert_ne!(fp(&a, 3), fp(&revised, 3));
        assert_ne!(fp(&a, 2), fp(&moved, 2));
        assert_eq!(fp(&a, 3), fp(&longer, 3));
        assert_eq!(fp(&a, 1), fp(&revised, 1));
        // Saved states hold these values: the hash must not change between versions.
        assert_eq!(
            fp(&a, 0),
            0xcbf2_9ce4_8422_2325_u64 as i64,
            "the FNV offset basis"
        );
        assert_eq!(fp(&a, 3), -999_610_993_022_669_180);
        assert_eq!(
            longer.prefix_fingerprints().len(),
            5,
            "one per prefix, the empty one included"
        );
    }

    #[test]
    fn unsorted_days_are_refused_and_counts_stop_at_a_day() {
        let day = |d| NaiveDate::from_ymd_opt(2024, 1, d).unwrap();
        let err = Closes::from_rows([(day(2), day_end(day(2)), 1.0), (day(2), day_end(day(2)), 1.0)]);
        assert!(matches!(err, Err(FeatureError::UnsortedBars { .. })));
        let s = series(&[(1, 1.0), (2, 2.0), (5, 3.0)]);
        assert_eq!(s.count_through(day(4)), 2);
        assert_eq!(s.count_through(day(5)), 3);
        assert_eq!(s.last_day(), Some(day(5)));
    }

    #[test]
    fn hourly_series_count_hours_and_refuse_repeats() {
        let hour =
            |h: i64| day_end(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()) + chrono::Duration::hours(h - 23);
        let s = Closes::from_hourly_rows([(hour(0), 1.0), (hour(1), 2.0), (hour(25), 3.0)]).unwrap();
        assert_eq!(s.cadence, Cadence::Hourly);
        assert_eq!(s.slots[1] - s.slots[0], 1);
        assert_eq!(s.slots[2] - s.slots[0], 25);
        assert_eq!(s.days[2], NaiveDate::from_ymd_opt(2024, 1, 2).unwrap());
        assert_eq!(s.count_through(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()), 2);
        let moved = Closes::from_hourly_rows([(hour(0), 1.0), (hour(2), 2.0)]).unwrap();
        assert_ne!(s.prefix_fingerprints()[2], moved.prefix_fingerprints()[2]);
        assert!(Closes::from_hourly_rows([(hour(1), 1.0), (hour(1), 2.0)]).is_err());
    }
}
