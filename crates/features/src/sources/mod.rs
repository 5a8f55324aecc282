//! Price sources: everything that can deliver raw daily rows for an asset, behind one
//! [`PriceSource`] trait, so ingest, refresh and the CLI do not care where prices come from.
//!
//! Implemented here: CSV files ([`csv`]: CoinMarketCap's `;` export and plain OHLCV files), the
//! seeded [`synthetic`] random walk for offline demos and benchmarks, and three HTTP sources:
//! CoinMarketCap's API ([`cmc`], needs a key), Binance klines ([`binance`]) and Coinbase candles
//! ([`coinbase`]), both keyless. [`chain`] tries sources in order (CMC when a key is set, then
//! Binance, then Coinbase), falling through on "unavailable here"; [`fetch`] loads what they
//! deliver incrementally, and [`missing`] decides what a refresh needs fetched.

pub mod binance;
pub mod chain;
pub mod cmc;
pub mod coinbase;
pub mod csv;
pub mod fetch;
pub(crate) mod http;
pub mod missing;
pub mod synthetic;

use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};

use crate::FeatureError;
use crate::prices::{RawPrice, SourceKind};

pub use self::binance::{BINANCE_BASE_URL, BinanceSource};
pub use self::chain::{Fetched, SourceChain};
pub use self::cmc::{CMC_BASE_URL, CmcSource};
pub use self::coinbase::{COINBASE_BASE_URL, CoinbaseSource};
pub use self::csv::{
    BadCsvRow, CsvFormat, CsvRow, CsvSource, ParsedCsv, parse_csv, parse_csv_file, parse_csv_file_of,
    parse_csv_of,
};
pub use self::fetch::{FetchOptions, FetchOutcome, fetch_symbol};
pub use self::http::HttpOptions;
pub use self::missing::{MissingFetch, fetch_missing};
pub use self::synthetic::SyntheticSource;

/// Something that delivers raw daily rows for one asset at a time. Object safe (`Arc<dyn PriceSource>`).
#[async_trait::async_trait]
pub trait PriceSource: Send + Sync {
    /// Which source this is (stored with every row it delivers).
    fn kind(&self) -> SourceKind;

    /// Daily rows for `symbol` (normalised, upper-case) from `since` (inclusive; None = as far back
    /// as the source goes) through `until` (inclusive), oldest first.
    async fn daily(
        &self,
        symbol: &str,
        since: Option<NaiveDate>,
        until: NaiveDate,
    ) -> Result<Vec<RawPrice>, FeatureError>;

    /// Hourly candles of `symbol` opening in [from, to), oldest first (ts = the hour's last
    /// millisecond). A source without hourly candles says it is unavailable, so a chain falls
    /// through to one that has them.
    async fn hourly(
        &self,
        symbol: &str,
        from: Option<DateTime<Utc>>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RawPrice>, FeatureError> {
        let _ = (symbol, from, to);
        Err(FeatureError::SourceUnavailable {
            source_name: self.kind().to_string(),
            reason: "it has no hourly candles".into(),
        })
    }
}

/// Keeps the rows whose day lies in [since, until].
pub(crate) fn within(rows: Vec<RawPrice>, since: Option<NaiveDate>, until: NaiveDate) -> Vec<RawPrice> {
    rows.into_iter()
        .filter(|r| since.is_none_or(|s| r.day() >= s) && r.day() <= until)
        .collect()
}

/// The candle length a source is asked for: days (raw prices and 1D bars) or hours (the hourly bars
/// intraday EMAs are computed from; the exchange sources have them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    #[default]
    Day,
    Hour,
}

impl Interval {
    /// What rows of this interval are called where a user reads them.
    pub fn rows_name(self) -> &'static str {
        match self {
            Self::Day => "prices",
            Self::Hour => "hourly bars",
        }
    }

    /// The candle's length.
    pub fn duration(self) -> Duration {
        match self {
            Self::Day => Duration::days(1),
            Self::Hour => Duration::hours(1),
        }
    }

    /// Binance's name (`1d`, `1h`).
    pub fn binance(self) -> &'static str {
        match self {
            Self::Day => "1d",
            Self::Hour => "1h",
        }
    }

    /// The candle's `ts`: its last millisecond (D 23:59:59.999 for a day).
    pub fn close_of(self, open: DateTime<Utc>) -> DateTime<Utc> {
        open + self.duration() - Duration::milliseconds(1)
    }

    /// The last UTC day with complete candles of this length: yesterday for days (today's candle
    /// is still moving), today for hours (up to its last complete hour).
    pub fn last_fetchable_day(self) -> NaiveDate {
        let today = Utc::now().date_naive();
        match self {
            Self::Day => today.pred_opt().unwrap_or(today),
            Self::Hour => today,
        }
    }

    /// `to`, capped at the start of the candle still moving: only complete candles are asked for.
    pub fn complete_before(self, to: DateTime<Utc>) -> DateTime<Utc> {
        to.min(self.floor(Utc::now()))
    }

    /// The start of the candle containing `t`.
    pub fn floor(self, t: DateTime<Utc>) -> DateTime<Utc> {
        t.duration_trunc(self.duration()).unwrap_or(t)
    }
}
