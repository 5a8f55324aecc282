//! The `FeatureStore` contract and the shape of the EMA rows it returns.
//!
//! The seed's two methods (`refresh_ema`, `get_ema`, answering polars DataFrames) are joined by
//! what the product asks of a store: check a refresh request once, refresh it with a per-symbol
//! report, read stored EMAs for a range, and say what is stored. The `talab` binary's refresh tool
//! and `talab ema` talk to the store only through this trait, so the stub and the database-backed
//! store are interchangeable behind `Arc<dyn FeatureStore>`.

use chrono::{DateTime, NaiveDate, Utc};
use polars_core::prelude::*;

use crate::ema::{
    EmaCoverage, EmaQuery, RefreshPlan, RefreshReport, RefreshRequest, RefreshWatch, StoredEma,
};
use crate::{FeatureError, Timeframe};

/// The columns of an EMA frame, in order.
pub const EMA_COLUMNS: [&str; 8] = ["symbol", "date", "tf", "period", "ema", "ema_bar", "roll", "ts"];

/// Computes and serves EMAs of assets' daily closes.
///
/// Frames returned by both methods have the columns of [`EMA_COLUMNS`]: `symbol` (str), `date`
/// (Date), `tf` (str, canonical code), `period` (u32), `ema` (f64), `ema_bar` (f64), `roll` (bool),
/// and `ts` (Datetime ms, naive, in UTC): the close the row is the value at, the day's last
/// millisecond or, for intraday timeframes (one row per hour), the hour's; see [`ema_frame`]. A
/// (symbol, tf, period) whose EMA has no value yet on that date (the seed needs `period` closes)
/// has no row.
#[async_trait::async_trait]
pub trait FeatureStore: Send + Sync {
    /// Refreshes EMAs for `symbols` through `date` and returns that date's rows:
    /// columns symbol (str), date (Date), tf (str), period (u32), ema (f64), ema_bar (f64), roll (bool),
    /// ts (Datetime).
    async fn refresh_ema(&self, symbols: &[String], date: NaiveDate) -> Result<DataFrame, FeatureError>;

    /// The stored EMA rows of one symbol on one date for a timeframe (see DEFAULT_TIMEFRAME), same columns.
    async fn get_ema(
        &self,
        symbol: &str,
        date: NaiveDate,
        timeframe: &str,
    ) -> Result<DataFrame, FeatureError>;

    /// Checks a refresh request before anything is written — every symbol known and holding the
    /// closes its timeframes need, the date inside its data, the timeframes and periods valid — and
    /// returns what refreshing it computes. The one check a request needs, wherever it came from.
    async fn check_refresh(&self, request: &RefreshRequest) -> Result<RefreshPlan, FeatureError>;

    /// Refreshes a checked plan symbol by symbol, each symbol all or nothing; a symbol that fails
    /// is reported (the others keep their rows), so an `Err` means the refresh could not run.
    async fn refresh(&self, plan: &RefreshPlan, watch: &RefreshWatch) -> Result<RefreshReport, FeatureError>;

    /// The stored rows `query` asks for (symbol canonical, timeframe codes canonical), ordered by
    /// timeframe, period and time.
    async fn read_emas(&self, query: &EmaQuery) -> Result<Vec<StoredEma>, FeatureError>;

    /// A symbol's canonical spelling and what is stored of its EMAs on `tf`; an unknown symbol, or
    /// one without the closes `tf` is computed from, is an error.
    async fn ema_coverage(&self, symbol: &str, tf: &Timeframe)
    -> Result<(String, EmaCoverage), FeatureError>;
}

/// One EMA value of one (symbol, tf, period) on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct EmaRow {
    /// Upper-case symbol.
    pub symbol: String,
    /// The UTC day.
    pub date: NaiveDate,
    /// Canonical timeframe code (`1D`).
    pub tf: String,
    /// EMA period.
    pub period: u32,
    /// The continuous daily EMA.
    pub ema: f64,
    /// The bar EMA (one step from the last completed bar on roll days).
    pub ema_bar: f64,
    /// True on days that do not close a bar of `tf` (always false on 1D).
    pub roll: bool,
    /// The close the value is at: `date`'s last millisecond, or the hour's for intraday timeframes.
    pub ts: DateTime<Utc>,
}

/// Builds the DataFrame of [`FeatureStore`] from rows (an empty slice gives an empty frame with the
/// same columns and types).
///
/// ```
/// use chrono::NaiveDate;
/// use talab_features::{EmaRow, day_end, ema_frame};
/// let date = NaiveDate::from_ymd_opt(2021, 2, 27).unwrap();
/// let row = EmaRow {
///     symbol: "BTC".into(),
///     date,
///     tf: "1D".into(),
///     period: 10,
///     ema: 48_000.5,
///     ema_bar: 48_000.5,
///     roll: false,
///     ts: day_end(date),
/// };
/// let df = ema_frame(&[row]).unwrap();
/// assert_eq!(df.shape(), (1, 8));
/// assert_eq!(df.column("ema").unwrap().f64().unwrap().get(0), Some(48_000.5));
/// ```
pub fn ema_frame(rows: &[EmaRow]) -> Result<DataFrame, FeatureError> {
    let symbol: Vec<&str> = rows.iter().map(|r| r.symbol.as_str()).collect();
    let tf: Vec<&str> = rows.iter().map(|r| r.tf.as_str()).collect();
    let period: Vec<u32> = rows.iter().map(|r| r.period).collect();
    let ema: Vec<f64> = rows.iter().map(|r| r.ema).collect();
    let ema_bar: Vec<f64> = rows.iter().map(|r| r.ema_bar).collect();
    let roll: Vec<bool> = rows.iter().map(|r| r.roll).collect();
    let date = DateChunked::from_naive_date("date".into(), rows.iter().map(|r| r.date));
    // Naive (no time zone attached: that needs polars' `timezones` and chrono-tz), in UTC.
    let ts = DatetimeChunked::from_naive_datetime(
        "ts".into(),
        rows.iter().map(|r| r.ts.naive_utc()),
        TimeUnit::Milliseconds,
    )
    .into_column();
    let columns = vec![
        Column::new("symbol".into(), symbol),
        date.into_column(),
        Column::new("tf".into(), tf),
        Column::new("period".into(), period),
        Column::new("ema".into(), ema),
        Column::new("ema_bar".into(), ema_bar),
        Column::new("roll".into(), roll),
        ts,
    ];
    Ok(DataFrame::new(rows.len(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(symbol: &str, day: u32, period: u32, ema: f64) -> EmaRow {
        let date = NaiveDate::from_ymd_opt(2010, 7, day).unwrap();
        EmaRow {
            symbol: symbol.into(),
            date,
            tf: "1D".into(),
            period,
            ema,
            ema_bar: ema,
            roll: false,
            ts: crate::day_end(date),
        }
    }

    #[test]
    fn frame_has_the_contract_columns_and_types() {
        let df = ema_frame(&[row("BTC", 22, 10, 0.06628232), row("ETH", 23, 20, 1.5)]).unwrap();
        assert_eq!(df.shape(), (2, 8));
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(names, EMA_COLUMNS);
        let types: Vec<DataType> = df.dtypes();
        assert_eq!(
            types,
            vec![
                DataType::String,
                DataType::Date,
                DataType::String,
                DataType::UInt32,
                DataType::Float64,
                DataType::Float64,
                DataType::Boolean,
                DataType::Datetime(TimeUnit::Milliseconds, None),
            ]
        );
        assert_eq!(df.column("symbol").unwrap().str().unwrap().get(1), Some("ETH"));
        assert_eq!(df.column("period").unwrap().u32().unwrap().get(0), Some(10));
        assert_eq!(df.column("ema").unwrap().f64().unwrap().get(0), Some(0.06628232));
        assert_eq!(df.column("roll").unwrap().bool().unwrap().get(1), Some(false));
        // 2010-07-22 is day 14_812 since 1970-01-01.
        let days = df.column("date").unwrap().date().unwrap().physical().get(0);
        assert_eq!(days, Some(14_812));
        let ms = df.column("ts").unwrap().datetime().unwrap().physical().get(0);
        assert_eq!(ms, Some(14_813 * 86_400_000 - 1), "the day's last millisecond");
    }

    #[test]
    fn empty_rows_give_an_empty_frame_with_the_same_schema() {
        let df = ema_frame(&[]).unwrap();
        assert_eq!(df.shape(), (0, 8));
        assert_eq!(df.column("date").unwrap().dtype(), &DataType::Date);
        assert_eq!(df.column("period").unwrap().dtype(), &DataType::UInt32);
    }
}
