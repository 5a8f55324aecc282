//! `FeatureStoreStub`: a [`FeatureStore`] over in-memory daily closes that computes real 1D EMAs.
//!
//! It lets the CLI and the other crates' tests use the contract without a database or price data,
//! while still returning true values: every EMA comes from the same kernel as the real store.
//!
//! Limitation: the stub has no bars, so it serves timeframe 1D only; any other valid timeframe is
//! a [`FeatureError::UnsupportedTimeframe`]. Its 1D rows carry every column of the real store's
//! (differences included), computed by the same multi-timeframe code.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Instant;

use chrono::{Days, NaiveDate};
use polars_core::prelude::DataFrame;

use crate::ema::{TfDay, multi_tf_ema};
use crate::{
    DEFAULT_PERIODS, DEFAULT_TIMEFRAME, EmaCoverage, EmaQuery, EmaRow, FeatureError, FeatureStore,
    RefreshPlan, RefreshReport, RefreshRequest, RefreshWatch, StoredEma, SymbolOutcome, SymbolRefresh,
    Timeframe, ema_frame, normalise_symbol, normalise_timeframe,
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

/// A [`FeatureStore`] over closes held in memory, with real 1D EMAs.
///
/// - `refresh_ema` computes the EMAs of [`DEFAULT_PERIODS`] for each symbol for every day through
///   `date`, keeps the rows, and returns that date's rows; on 1D, `ema_bar` = `ema` and `roll` is
///   false (as the spec says). `check_refresh` and `refresh` do the same for a request's periods
///   (through its date, or the last close), reporting each symbol.
/// - `get_ema` returns the rows kept for that date (an empty frame if that day was never
///   refreshed); `read_emas` and `ema_coverage` read the rows kept.
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
    stored: Mutex<HashMap<String, BTreeMap<NaiveDate, Vec<StoredEma>>>>,
}

/// The rows of one symbol by date.
type Days1D = BTreeMap<NaiveDate, Vec<StoredEma>>;

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

    fn stored_mut(&mut self) -> &mut HashMap<String, Days1D> {
        self.stored
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn stored(&self) -> std::sync::MutexGuard<'_, HashMap<String, Days1D>> {
        self.stored
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The canonical symbol and its series.
    fn series_of(&self, symbol: &str) -> Result<(String, &Series), FeatureError> {
        let symbol = normalise_symbol(symbol)?;
        match self.series.get(&symbol) {
            Some(series) => Ok((symbol, series)),
            None => Err(FeatureError::UnknownSymbol {
                symbol,
                known: self.symbols(),
            }),
        }
    }

    /// The canonical symbol, its series and the index of `date` in it.
    fn locate(&self, symbol: &str, date: NaiveDate) -> Result<(String, &Series, usize), FeatureError> {
        let (symbol, series) = self.series_of(symbol)?;
        let index = series.index_of(&symbol, date)?;
        Ok((symbol, series, index))
    }

    /// The 1D rows of `periods` for one symbol for every day through `series.closes[index]`.
    fn compute(
        symbol: &str,
        series: &Series,
        index: usize,
        periods: &[usize],
    ) -> Result<Days1D, FeatureError> {
        let days: Vec<TfDay> = series.closes[..=index]
            .iter()
            .map(|&close| TfDay {
                close,
                bar_close: true,
            })
            .collect();
        let mut out = Days1D::new();
        for &period in periods {
            for (offset, row) in multi_tf_ema(&days, period, 1.0)? {
                let day = series.first_date + Days::new(offset as u64);
                out.entry(day).or_default().push(StoredEma {
                    symbol: symbol.to_string(),
                    tf: DEFAULT_TIMEFRAME.to_string(),
                    day,
                    ts: crate::day_end(day),
                    period: period as u32,
                    tf_days: 1,
                    roll: row.roll,
                    ema: row.ema,
                    ema_bar: row.ema_bar,
                    d1: row.d1,
                    d2: row.d2,
                    d1_roll: row.d1_roll,
                    d2_roll: row.d2_roll,
                    is_partial_end: false,
                });
            }
        }
        Ok(out)
    }

    /// Only 1D: the stub has no bars.
    fn only_1d(tf: &str) -> Result<(), FeatureError> {
        if tf == DEFAULT_TIMEFRAME {
            return Ok(());
        }
        Err(FeatureError::UnsupportedTimeframe {
            tf: tf.to_string(),
            reason: format!(
                "the stub feature store has no bars and serves {DEFAULT_TIMEFRAME} only; \
                 use the database-backed store for other timeframes"
            ),
        })
    }
}

/// Keeps newly computed rows: each replaces the kept row of its day and period.
fn keep(kept: &mut Days1D, computed: Days1D) {
    for (day, rows) in computed {
        let old = kept.entry(day).or_default();
        old.retain(|o| !rows.iter().any(|r| r.period == o.period));
        old.extend(rows);
        old.sort_by_key(|r| r.period);
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
            let days = Self::compute(&symbol, series, index, &DEFAULT_PERIODS)?;
            computed.push((symbol, days));
        }
        let mut rows = Vec::new();
        let mut stored = self.stored();
        for (symbol, days) in computed {
            rows.extend(
                days.get(&date)
                    .into_iter()
                    .flatten()
                    .cloned()
                    .map(StoredEma::into_row),
            );
            keep(stored.entry(symbol).or_default(), days);
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
        Self::only_1d(&tf)?;
        let (symbol, _, _) = self.locate(symbol, date)?;
        let rows: Vec<EmaRow> = self
            .stored()
            .get(&symbol)
            .and_then(|days| days.get(&date))
            .into_iter()
            .flatten()
            .cloned()
            .map(StoredEma::into_row)
            .collect();
        ema_frame(&rows)
    }

    async fn check_refresh(&self, request: &RefreshRequest) -> Result<RefreshPlan, FeatureError> {
        let options = request.options()?;
        for tf in &options.tfs {
            Self::only_1d(&tf.code())?;
        }
        let periods = options.resolved_periods()?;
        let mut symbols: Vec<String> = Vec::new();
        for s in &request.symbols {
            let (symbol, series) = self.series_of(s)?;
            series.index_of(&symbol, options.through.unwrap_or_else(|| series.last_date()))?;
            if !symbols.contains(&symbol) {
                symbols.push(symbol);
            }
        }
        Ok(RefreshPlan {
            symbols,
            tfs: vec![Timeframe::parse(DEFAULT_TIMEFRAME)?],
            periods,
            options,
            jobs: request.jobs,
        })
    }

    async fn refresh(&self, plan: &RefreshPlan, watch: &RefreshWatch) -> Result<RefreshReport, FeatureError> {
        let started = Instant::now();
        let mut outcomes = Vec::with_capacity(plan.symbols.len());
        for symbol in &plan.symbols {
            let one = Instant::now();
            let computed = self.series_of(symbol).and_then(|(symbol, series)| {
                let through = plan.options.through.unwrap_or_else(|| series.last_date());
                let index = series.index_of(&symbol, through)?;
                Ok((
                    series.first_date,
                    through,
                    Self::compute(&symbol, series, index, &plan.periods)?,
                ))
            });
            let outcome = match computed {
                Ok((first_day, last_day, days)) => {
                    let rows = days.values().map(|d| d.len() as u64).sum();
                    keep(self.stored().entry(symbol.clone()).or_default(), days);
                    SymbolOutcome {
                        symbol: symbol.clone(),
                        refresh: Some(SymbolRefresh {
                            symbol: symbol.clone(),
                            first_day,
                            last_day,
                            rows_tf_day: rows,
                            rows_calendar: 0,
                            rejects: 0,
                            rebuilt: plan.periods.len(),
                            extended: 0,
                            up_to_date: 0,
                            compute_ms: one.elapsed().as_secs_f64() * 1e3,
                            write_ms: 0.0,
                        }),
                        error: None,
                    }
                }
                Err(e) => SymbolOutcome {
                    symbol: symbol.clone(),
                    refresh: None,
                    error: Some(e.to_string()),
                },
            };
            watch.symbol_done(&outcome);
            outcomes.push(outcome);
        }
        Ok(RefreshReport {
            symbols: outcomes,
            tfs: vec![DEFAULT_TIMEFRAME.to_string()],
            periods: plan.periods.clone(),
            elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
        })
    }

    async fn read_emas(&self, query: &EmaQuery) -> Result<Vec<StoredEma>, FeatureError> {
        for tf in &query.tfs {
            Self::only_1d(tf)?;
        }
        let stored = self.stored();
        let Some(days) = stored.get(&query.symbol) else {
            return Ok(Vec::new());
        };
        let from = query.from.unwrap_or(NaiveDate::MIN);
        let to = query.to.unwrap_or(NaiveDate::MAX);
        let mut rows: Vec<StoredEma> = days
            .range(from..=to)
            .flat_map(|(_, rows)| rows)
            .filter(|r| query.periods.is_empty() || query.periods.contains(&r.period))
            .cloned()
            .collect();
        drop(stored);
        rows.sort_by(|a, b| (&a.tf, a.period, a.ts).cmp(&(&b.tf, b.period, b.ts)));
        Ok(rows)
    }

    async fn ema_coverage(
        &self,
        symbol: &str,
        tf: &Timeframe,
    ) -> Result<(String, EmaCoverage), FeatureError> {
        Self::only_1d(&tf.code())?;
        let (symbol, _) = self.series_of(symbol)?;
        let coverage = match self.stored().get(&symbol) {
            Some(days) if !days.is_empty() => {
                let first = *days.keys().next().expect("not empty");
                let last = *days.keys().next_back().expect("not empty");
                EmaCoverage::Stored { first, last }
            }
            _ => EmaCoverage::NotRefreshed,
        };
        Ok((symbol, coverage))
    }
}
