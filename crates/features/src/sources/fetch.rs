//! Fetching one symbol into the database, incrementally: only the days after the stored last day
//! are asked for (unless a start is given), from the source the series already comes from.
//!
//! A series keeps one source, so a stored series pins the chain to its source; a series from a
//! file or the synthetic walk cannot be extended by a fetch and is refused before any request,
//! unless the caller replaces it (then the whole history is fetched).

use chrono::{Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use talab_db::Database;

use crate::ingest::{IngestReport, coverage, ingest_rows};
use crate::prices::SourceKind;
use crate::sources::chain::SourceChain;
use crate::{FeatureError, normalise_symbol};

/// How to fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// First day to fetch; None = the day after the stored last day, or all history.
    pub since: Option<NaiveDate>,
    /// Last day to fetch (never later than yesterday, UTC: today's candle is still moving).
    pub until: NaiveDate,
    /// Replace a series that came from another source.
    pub replace: bool,
}

impl Default for FetchOptions {
    /// Everything new up to yesterday (UTC).
    fn default() -> Self {
        Self {
            since: None,
            until: Utc::now().date_naive() - Duration::days(1),
            replace: false,
        }
    }
}

/// What fetching one symbol did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchOutcome {
    pub symbol: String,
    /// The source the rows came from (None when nothing was asked: already up to date).
    pub source: Option<SourceKind>,
    /// The days asked for.
    pub from: Option<NaiveDate>,
    pub until: NaiveDate,
    /// Rows the source delivered.
    pub fetched: usize,
    /// Why sources were skipped, or why nothing was asked.
    pub notes: Vec<String>,
    /// The load (None when no rows came).
    pub report: Option<IngestReport>,
}

/// Fetches `symbol` through `chain` and loads the rows (one transaction; 1D bars rebuilt).
pub async fn fetch_symbol(
    db: &Database,
    chain: &SourceChain,
    symbol: &str,
    options: &FetchOptions,
) -> Result<FetchOutcome, FeatureError> {
    let symbol = normalise_symbol(symbol)?;
    let stored = coverage(db).await?.into_iter().find(|c| c.symbol == symbol);
    let mut outcome = FetchOutcome {
        symbol: symbol.clone(),
        source: None,
        from: options.since,
        until: options.until,
        fetched: 0,
        notes: Vec::new(),
        report: None,
    };
    let mut chain = chain.clone();
    if let Some(c) = &stored {
        let kind = c.source.parse::<SourceKind>().ok();
        match kind.and_then(|k| chain.only(k)) {
            Some(pinned) if !options.replace => {
                chain = pinned;
                outcome.from = options.since.or(Some(c.last_day + Duration::days(1)));
            }
            _ if !options.replace => {
                return Err(FeatureError::SourceConflict {
                    symbol,
                    existing: c.source.clone(),
                    new: chain
                        .kinds()
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(" or "),
                    rows: c.rows,
                });
            }
            _ => {}
        }
    }
    let yesterday = Utc::now().date_naive() - Duration::days(1);
    outcome.until = options.until.min(yesterday);
    if outcome.from.is_some_and(|f| f > outcome.until) {
        outcome
            .notes
            .push(format!("{symbol}: up to date through {}", outcome.until));
        return Ok(outcome);
    }
    let fetched = chain.daily(&symbol, outcome.from, outcome.until).await?;
    outcome.source = Some(fetched.source);
    outcome.fetched = fetched.rows.len();
    outcome.notes = fetched.notes;
    if fetched.rows.is_empty() {
        outcome
            .notes
            .push(format!("{symbol}: {} returned no rows", fetched.source));
        return Ok(outcome);
    }
    outcome.report = Some(ingest_rows(db, &symbol, fetched.source, fetched.rows, options.replace).await?);
    Ok(outcome)
}
