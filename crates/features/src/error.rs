//! The one error type of talab-features, with messages a user can act on.
//!
//! Every variant says what was wrong and, where there is one, what would be accepted instead
//! (the known symbols, the valid timeframe forms, the dates that have data).

use chrono::NaiveDate;
use talab_db::sqlx;

/// What can go wrong in talab-features.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// Opening or migrating the database failed.
    #[error(transparent)]
    Db(#[from] talab_db::DbError),
    /// A query failed.
    #[error("database error: {0}")]
    Sql(sqlx::Error),
    /// The symbol is well formed but no asset or series has it.
    #[error("unknown symbol '{symbol}'; known symbols: {}", list_or_none(known))]
    UnknownSymbol { symbol: String, known: Vec<String> },
    /// The text cannot be a symbol at all.
    #[error(
        "invalid symbol '{input}': {reason} (a symbol is 1 to {max} characters: letters, digits, '-', '_' or '.')",
        max = crate::assets::MAX_SYMBOL_LEN
    )]
    InvalidSymbol { input: String, reason: String },
    /// The timeframe code does not follow the grammar.
    #[error(
        "unknown timeframe '{code}': valid forms are ND (rolling days, e.g. 1D, 3D), NW_CAL_US, NW_CAL_ISO, \
         NM_CAL, NQ_CAL, NY_CAL, the anchored NW_CAL_ANCHOR_US, NW_CAL_ANCHOR_ISO, NM_CAL_ANCHOR, NQ_CAL_ANCHOR, \
         NY_CAL_ANCHOR, and NH (hours), where N is a whole number from 1 to {max}; case does not matter",
        max = crate::timeframe::MAX_TF_QTY
    )]
    UnknownTimeframe { code: String },
    /// The timeframe is valid but this store cannot serve it.
    #[error("timeframe {tf} is not available here: {reason}")]
    UnsupportedTimeframe { tf: String, reason: String },
    /// The EMA period cannot be used.
    #[error("invalid EMA period {period}: {reason}")]
    InvalidPeriod { period: usize, reason: String },
    /// An indicator's parameters cannot be used (outside TA-Lib's bounds, or inputs of unequal length).
    #[error("invalid {indicator}: {reason}")]
    InvalidIndicator { indicator: &'static str, reason: String },
    /// A value given to an indicator kernel is NaN: those kernels take no missing values.
    #[error(
        "{indicator}: value {index} is NaN; the indicator kernels take no missing values (fill or drop the gap first)"
    )]
    NanInput { indicator: &'static str, index: usize },
    /// An output buffer does not fit its input.
    #[error("output buffer holds {out} values but the input has {values}; they must be the same length")]
    LengthMismatch { values: usize, out: usize },
    /// The date lies outside the days the symbol has data for.
    #[error("{symbol} has data from {first} to {last}; {date} is outside that range")]
    DateOutOfRange {
        symbol: String,
        date: NaiveDate,
        first: NaiveDate,
        last: NaiveDate,
    },
    /// The symbol is known but has no prices yet.
    #[error("no prices for {symbol} yet")]
    NoData { symbol: String },
    /// Intraday timeframes were asked for a symbol without hourly bars.
    #[error("no hourly bars for {symbol}; intraday timeframes (NH) are computed from them")]
    NoHourlyBars { symbol: String },
    /// Another asset already has this CoinMarketCap id.
    #[error("CoinMarketCap id {cmc_id} already belongs to {holder}; cannot give it to {symbol} as well")]
    CmcIdTaken {
        cmc_id: i64,
        symbol: String,
        holder: String,
    },
    /// Daily bars given to a bar builder are out of order or repeat a day.
    #[error("daily bars must be sorted by day with one bar per day, but {day} comes after {previous}")]
    UnsortedBars { previous: NaiveDate, day: NaiveDate },
    /// Stored bar state cannot continue with the given data (the caller rebuilds instead).
    #[error("stored {tf} bars cannot be extended: {reason}")]
    InconsistentBarState { tf: String, reason: String },
    /// A trading session is unknown or its stored definition is unusable.
    #[error("session {session}: {reason}")]
    InvalidSession { session: String, reason: String },
    /// A stored row cannot be read back as this version understands it.
    #[error("table {table} holds a row this version cannot read: {reason}")]
    Corrupt { table: String, reason: String },
    /// A price file cannot be read at all (missing, unreadable, no usable header).
    #[error("{file}: {reason}")]
    PriceFile { file: String, reason: String },
    /// One row of a price file cannot be parsed; the whole file is rejected.
    #[error("{file}:{line}: {column}: {reason}")]
    BadRow {
        file: String,
        line: u64,
        column: String,
        reason: String,
    },
    /// The same day appears twice in one file.
    #[error(
        "{file}:{second_line}: day {day} already appears on line {first_line}; a file may hold each day once"
    )]
    DuplicateDay {
        file: String,
        day: NaiveDate,
        first_line: u64,
        second_line: u64,
    },
    /// The series already comes from another source.
    #[error(
        "{symbol} already has {rows} rows from source '{existing}'; refusing to mix in '{new}' \
         (one series comes from one source; ask to replace the series to switch it to '{new}')"
    )]
    SourceConflict {
        symbol: String,
        existing: String,
        new: String,
        rows: i64,
    },
    /// A file would change stored days that another file delivered (both are source `csv`, so
    /// the file is part of the series' identity): refused unless replacing.
    #[error(
        "{file} would change {} stored day(s) of {symbol} that came from {}; nothing was written \
         (an ingest that replaces lets this file's values win)",
        others.iter().map(|(_, n)| n).sum::<usize>(),
        others.iter().map(|(f, n)| format!("{f} ({n})")).collect::<Vec<_>>().join(", ")
    )]
    ChangesAnotherFile {
        symbol: String,
        file: String,
        /// (file, days it would change).
        others: Vec<(String, usize)>,
    },
    /// A price source failed or refused (HTTP error, plan limit, bad response).
    #[error("price source {source_name}: {reason}")]
    Source { source_name: String, reason: String },
    /// A price source cannot serve here (blocked region, plan limit, bad key, unreachable, unknown
    /// pair): the next source may, so the default chain falls through on this one.
    #[error("price source {source_name} is unavailable: {reason}")]
    SourceUnavailable { source_name: String, reason: String },
    /// Every source of a chain was unavailable for a symbol; each one's reason, in chain order.
    #[error("no price source could serve {symbol}: {}", source_reasons(.reasons))]
    NoSource {
        symbol: String,
        /// (source, reason) per source tried.
        reasons: Vec<(String, String)>,
    },
    /// No signal definition has this id.
    #[error("unknown signal '{signal_id}'; known signals: {}", list_or_none(known))]
    UnknownSignal { signal_id: String, known: Vec<String> },
    /// A signal definition cannot be used.
    #[error("signal {signal_id}: {reason}")]
    InvalidSignal { signal_id: String, reason: String },
    /// A chart cannot be drawn or written.
    #[error("chart: {0}")]
    Chart(String),
    /// A chart was asked for in a way that cannot be drawn (the file's extension, the size).
    #[error("chart: {0}")]
    InvalidChart(String),
    /// A symbol without stored rows of `interval` could not get any from its sources.
    #[error("no {} for {symbol}, and fetching them failed: {reason}", interval.rows_name())]
    NothingFetched {
        symbol: String,
        interval: crate::sources::Interval,
        reason: String,
    },
    /// Building a DataFrame failed.
    #[error("building a DataFrame failed: {0}")]
    Polars(#[from] polars_core::error::PolarsError),
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none yet".to_string()
    } else {
        items.join(", ")
    }
}

fn source_reasons(reasons: &[(String, String)]) -> String {
    if reasons.is_empty() {
        return "no source is configured".into();
    }
    reasons
        .iter()
        .map(|(source, reason)| format!("{source}: {reason}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<sqlx::Error> for FeatureError {
    /// See [`talab_db::DbError::sort`]: a read-only database is said so.
    fn from(e: sqlx::Error) -> Self {
        talab_db::DbError::sort(e).map_or_else(Self::Db, Self::Sql)
    }
}

impl FeatureError {
    /// Whose move it is (see [`talab_db::ErrorKind`]).
    pub fn kind(&self) -> talab_db::ErrorKind {
        use talab_db::ErrorKind::{Failure, Input};
        match self {
            FeatureError::Db(e) => e.kind(),
            FeatureError::UnknownSymbol { .. }
            | FeatureError::InvalidSymbol { .. }
            | FeatureError::UnknownTimeframe { .. }
            | FeatureError::UnsupportedTimeframe { .. }
            | FeatureError::InvalidPeriod { .. }
            | FeatureError::InvalidIndicator { .. }
            | FeatureError::NanInput { .. }
            | FeatureError::LengthMismatch { .. }
            | FeatureError::DateOutOfRange { .. }
            | FeatureError::NoHourlyBars { .. }
            | FeatureError::CmcIdTaken { .. }
            | FeatureError::PriceFile { .. }
            | FeatureError::BadRow { .. }
            | FeatureError::DuplicateDay { .. }
            | FeatureError::SourceConflict { .. }
            | FeatureError::ChangesAnotherFile { .. }
            | FeatureError::UnknownSignal { .. }
            | FeatureError::InvalidSignal { .. }
            | FeatureError::InvalidChart(_) => Input,
            // A known symbol without prices: the request is fine, the data is not there (yet).
            FeatureError::Sql(_)
            | FeatureError::NoData { .. }
            | FeatureError::UnsortedBars { .. }
            | FeatureError::InconsistentBarState { .. }
            | FeatureError::InvalidSession { .. }
            | FeatureError::Corrupt { .. }
            | FeatureError::Source { .. }
            | FeatureError::SourceUnavailable { .. }
            | FeatureError::NoSource { .. }
            | FeatureError::NothingFetched { .. }
            | FeatureError::Chart(_)
            | FeatureError::Polars(_) => Failure,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_would_be_accepted() {
        let e = FeatureError::UnknownSymbol {
            symbol: "DOGE".into(),
            known: vec!["BTC".into(), "ETH".into()],
        };
        assert_eq!(e.to_string(), "unknown symbol 'DOGE'; known symbols: BTC, ETH");
        let e = FeatureError::UnknownSymbol {
            symbol: "DOGE".into(),
            known: vec![],
        };
        assert_eq!(e.to_string(), "unknown symbol 'DOGE'; known symbols: none yet");
        let e = FeatureError::DateOutOfRange {
            symbol: "BTC".into(),
            date: NaiveDate::from_ymd_opt(2009, 1, 1).unwrap(),
            first: NaiveDate::from_ymd_opt(2013, 4, 29).unwrap(),
            last: NaiveDate::from_ymd_opt(2021, 2, 27).unwrap(),
        };
        assert_eq!(
            e.to_string(),
            "BTC has data from 2013-04-29 to 2021-02-27; 2009-01-01 is outside that range"
        );
        let e = FeatureError::UnknownTimeframe { code: "2X".into() }.to_string();
        assert!(e.starts_with("unknown timeframe '2X': valid forms are ND"), "{e}");
        assert!(e.contains("NW_CAL_ANCHOR_ISO") && e.contains("NH (hours)"), "{e}");
    }
}
