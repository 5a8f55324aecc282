//! What every load of prices shares, daily (`ingest`) or hourly (`bars::hourly`): the report it
//! returns, and the two rules a series keeps: the rows are of the symbol and source the load says,
//! and a series has one source unless the caller asks to replace it. Its own file so that the two
//! loads share it without importing each other.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::FeatureError;
use crate::prices::{RawPrice, SourceKind};

/// What one load did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestReport {
    pub symbol: String,
    pub source: SourceKind,
    /// The file loaded, for file sources.
    pub file: Option<String>,
    /// Data rows read (good and bad).
    pub rows_read: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows skipped as unparseable (only with skip_bad_rows), recorded in `cmc_price_histories_rejects`
    /// for daily loads (counted only for hourly ones).
    pub rejected: usize,
    /// Validated bars of the whole series after the load (1D bars; hours for hourly loads).
    pub bars: usize,
    /// Raw rows of the series that could not become bars (`cmc_price_bars_1d_rejects`; for an
    /// hourly load, its own candles that failed validation, logged).
    pub bar_rejects: usize,
    /// First and last day of the whole stored series.
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    /// Days missing between the first and the last day.
    pub gaps: usize,
}

/// Refuses rows for `symbol` that are of another symbol or source than the load says.
pub(crate) fn check_delivered(
    symbol: &str,
    source: SourceKind,
    rows: &[RawPrice],
) -> Result<(), FeatureError> {
    match rows.iter().find(|r| r.symbol != symbol || r.source != source) {
        Some(r) => Err(FeatureError::Source {
            source_name: source.to_string(),
            reason: format!(
                "delivered a row of {} from {} while loading {symbol}",
                r.symbol, r.source
            ),
        }),
        None => Ok(()),
    }
}

/// One series, one source: given the (source, rows) stored for `symbol`, whether loading from
/// `new` must first wipe another source's series (only when the caller asked to replace it; a
/// conflict otherwise).
pub(crate) fn replaces_other_source(
    symbol: &str,
    new: SourceKind,
    stored: &[(String, i64)],
    replace: bool,
) -> Result<bool, FeatureError> {
    let other: Vec<&(String, i64)> = stored.iter().filter(|(s, _)| s != new.as_str()).collect();
    if !other.is_empty() && !replace {
        return Err(FeatureError::SourceConflict {
            symbol: symbol.into(),
            existing: other
                .iter()
                .map(|(s, _)| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            new: new.to_string(),
            rows: other.iter().map(|(_, n)| n).sum(),
        });
    }
    Ok(!other.is_empty())
}
