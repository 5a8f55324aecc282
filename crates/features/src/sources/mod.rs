//! Price sources: everything that can deliver raw daily rows for an asset, behind one
//! [`PriceSource`] trait, so ingest, refresh and the CLI do not care where prices come from.
//!
//! Implemented here: CSV files ([`csv`]: CoinMarketCap's `;` export and plain OHLCV files) and the
//! seeded [`synthetic`] random walk for offline demos and benchmarks.

pub mod csv;
pub mod synthetic;

use chrono::NaiveDate;

use crate::FeatureError;
use crate::prices::{RawPrice, SourceKind};

pub use self::csv::{BadCsvRow, CsvFormat, CsvRow, CsvSource, ParsedCsv, parse_csv, parse_csv_file};
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
}

/// Keeps the rows whose day lies in [since, until].
pub(crate) fn within(rows: Vec<RawPrice>, since: Option<NaiveDate>, until: NaiveDate) -> Vec<RawPrice> {
    rows.into_iter()
        .filter(|r| since.is_none_or(|s| r.day() >= s) && r.day() <= until)
        .collect()
}
