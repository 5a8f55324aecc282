//! `FeatureStoreStub`: a [`FeatureStore`] over in-memory daily closes that computes real 1D EMAs.
//!
//! It lets the CLI and the other crates' tests use the contract without a database or price data,
//! while still returning true values: every EMA comes from the same kernel as the real store.
//!
//! Limitation: the stub has no bars, so it serves timeframe 1D only; any other valid timeframe is
//! a [`FeatureError::UnsupportedTimeframe`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{Days, NaiveDate};
use polars_core::prelude::DataFrame;

use crate::{
    DEFAULT_PERIODS, DEFAULT_TIMEFRAME, EmaRow, FeatureError, FeatureStore, ema, ema_frame, normalise_symbol,
    normalise_timeframe,
};

/// One symbol's closes, one per calendar day from `first_date` (NaN = missing day).
#[derive(Debug, Clone)]
struct Series {
    first_date: NaiveDate,
    closes: Vec<f64>,
}

impl Series {
    fn last_date(&self) -> NaiveDate {
        let offset = self.closes.len().saturating_sub(1) as u64;
        self.first_date
            .checked_add_days(Days::new(offset))
            .unwrap_or(NaiveDate::MAX)
    }

    /// The position of `date` in `closes`, or the error naming the range.
    fn index_of(&self, symbol: &str, date: NaiveDate) -> Result<usize, FeatureError> {
        if self.closes.is_empty() {
            return Err(FeatureError::NoData {
                symbol: symbol.into(),
            });
        }
        let (first, last) = (self.first_date, self.last_date());
        if date < first || date > last {
            return Err(FeatureError::DateOutOfRange {
                symbol: symbol.into(),
                date,
                first,
                last,
            });
        }
        Ok((date - first).num_days() as usize)
    }
}

/// A [`FeatureStore`] over closes held in memory, with real EMAs for [`DEFAULT_PERIODS`] on 1D.
///
/// - `refresh_ema` computes the EMAs of each symbol for every day through `date`, keeps the rows,
///   and returns that date's rows; on 1D, `ema_bar` = `ema` and `roll` is false (as the spec says).
/// - `get_ema` returns the rows kept for that date (an empty frame if that day was never refreshed).
/// - A period has no row before its seed (the first `period` present closes).
/// - `refresh_ema` with no symbols does nothing and returns an empty frame; a symbol named twice
///   is computed once, and rows come in the order the symbols were given, periods ascending.
/// - Symbols are case-insensitive; an unknown one is [`FeatureError::UnknownSymbol`]; a date before
///   the first close or after the last is [`FeatureError::DateOutOfRange`].
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use chrono::NaiveDate;
/// use talab_features::{FeatureStore, stubs::FeatureStoreStub};
/// let day0 = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
/// let closes: Vec<f64> = (0..30).map(|i| 100.0 + i as f64).collect();
/// let store = FeatureStoreStub::new().with_closes("BTC", day0, closes);
/// let df = store.refresh_ema(&["btc".to_string()], NaiveDate::from_ymd_opt(2024, 1, 30).unwrap()).await.unwrap();
/// assert_eq!(df.height(), 4); // periods 9, 10, 20 and 21 are seeded; 50, 100, 200 are not
/// # });
/// ```
#[derive(Debug, Default)]
pub struct FeatureStoreStub {
    series: HashMap<String, Series>,
    /// Rows computed so far: symbol → date → one row per seeded period.
    stored: Mutex<HashMap<String, BTreeMap<NaiveDate, Vec<EmaRow>>>>,
}

impl FeatureStoreStub {
    /// An empty store (every symbol unknown).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a symbol's daily closes: one per calendar day starting at `first_date`,
    /// NaN for a missing day. The symbol is trimmed and upper-cased.
    pub fn with_closes(mut self, symbol: impl Into<String>, first_date: NaiveDate, closes: Vec<f64>) -> Self {
        let symbol = symbol.into().trim().to_ascii_uppercase();
        self.stored_mut().remove(&symbol);
        self.series.insert(symbol, Series { first_date, closes });
        self
    }

    /// The symbols this store has, sorted.
    pub fn symbols(&self) -> Vec<String> {
        let mut known: Vec<String> = self.series.keys().cloned().collect();
        known.sort();
        known
    }

    fn stored_mut(&mut self) -> &mut HashMap<String, BTreeMap<NaiveDate, Vec<EmaRow>>> {
        self.stored
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The canonical symbol, its series and the index of `date` in it.
    fn locate(&self, symbol: &str, date: NaiveDate) -> Result<(String, &Series, usize), FeatureError> {
        let symbol = normalise_symbol(symbol)?;
        let Some(series) = self.series.get(&symbol) else {
            return Err(FeatureError::UnknownSymbol {
                symbol,
                known: self.symbols(),
            });
        };
        let index = series.index_of(&symbol, date)?;
        Ok((symbol, series, index))
    }

    /// The 1D rows of one symbol for every day through `series.closes[index]`, by date.
    fn compute(
        symbol: &str,
        series: &Series,
        index: usize,
    ) -> Result<BTreeMap<NaiveDate, Vec<EmaRow>>, FeatureError> {
        let closes = &series.closes[..=index];
        let mut days: BTreeMap<NaiveDate, Vec<EmaRow>> = BTreeMap::new();
        for period in DEFAULT_PERIODS {
            let values = ema(closes, period)?;
            for (offset, &value) in values.iter().enumerate() {
                if value.is_nan() {
                    continue; // no row before the seed
                }
                let date = series.first_date + Days::new(offset as u64);
                days.entry(date).or_default().push(EmaRow {
                    symbol: symbol.to_string(),
                    date,
                    tf: DEFAULT_TIMEFRAME.to_string(),
                    period: period as u32,
                    ema: value,
                    ema_bar: value,
                    roll: false,
                    ts: crate::day_end(date),
                });
            }
        }
        Ok(days)
    }
}

#[async_trait::async_trait]
impl FeatureStore for FeatureStoreStub {
    async fn refresh_ema(&self, symbols: &[String], date: NaiveDate) -> Result<DataFrame, FeatureError> {
        // Check every symbol before computing anything, so a bad one changes nothing.
        let mut targets = Vec::with_capacity(symbols.len());
        for symbol in symbols {
            let (symbol, series, index) = self.locate(symbol, date)?;
            if !targets.iter().any(|(s, _, _)| *s == symbol) {
                targets.push((symbol, series, index));
            }
        }
        let mut computed = Vec::with_capacity(targets.len());
        for (symbol, series, index) in targets {
            let days = Self::compute(&symbol, series, index)?;
            computed.push((symbol, days));
        }
        let mut rows = Vec::new();
        let mut stored = self
            .stored
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (symbol, days) in computed {
            rows.extend(days.get(&date).into_iter().flatten().cloned());
            stored.entry(symbol).or_default().extend(days);
        }
        drop(stored);
        ema_frame(&rows)
    }

    async fn get_ema(
        &self,
        symbol: &str,
        date: NaiveDate,
        timeframe: &str,
    ) -> Result<DataFrame, FeatureError> {
        let tf = normalise_timeframe(timeframe)?;
        if tf != DEFAULT_TIMEFRAME {
            return Err(FeatureError::UnsupportedTimeframe {
                tf,
                reason: format!(
                    "the stub feature store has no bars and serves {DEFAULT_TIMEFRAME} only; \
                     use the database-backed store for other timeframes"
                ),
            });
        }
        let (symbol, _, _) = self.locate(symbol, date)?;
        let stored = self
            .stored
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let rows: Vec<EmaRow> = stored
            .get(&symbol)
            .and_then(|days| days.get(&date))
            .cloned()
            .unwrap_or_default();
        drop(stored);
        ema_frame(&rows)
    }
}
