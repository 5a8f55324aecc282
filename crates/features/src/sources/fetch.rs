//! Fetching one symbol into the database, incrementally: only the days (or hours) after the stored
//! last one are asked for (unless a start is given), from the source the series already comes from.
//!
//! A series keeps one source, so a stored series pins the chain to its source; a series from a
//! file or the synthetic walk cannot be extended by a fetch and is refused before any request,
//! unless the caller replaces it (then the whole history is fetched).

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use talab_db::Database;

use crate::bars::hourly::{hourly_coverage, next_hour, store_hourly};
use crate::ingest::{IngestReport, coverage, ingest_rows};
use crate::prices::{SourceKind, day_start};
use crate::sources::Interval;
use crate::sources::chain::SourceChain;
use crate::{FeatureError, normalise_symbol};

/// How many days of hourly candles a first hourly fetch asks for when no start is given (all of
/// an exchange's hourly history is tens of thousands of candles; ask for it with a start day).
pub const HOURLY_DEFAULT_DAYS: i64 = 90;

/// How to fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// First day to fetch; None = the day after the stored last day (the hour after the last hour),
    /// or all history ([`HOURLY_DEFAULT_DAYS`] for hourly candles).
    pub since: Option<NaiveDate>,
    /// Last day to fetch (never later than yesterday, UTC, for daily rows: today's candle is still
    /// moving; hourly candles go up to the last complete hour).
    pub until: NaiveDate,
    /// Replace a series that came from another source.
    pub replace: bool,
    /// Daily rows (raw prices and 1D bars) or hourly candles (hourly bars, for intraday EMAs).
    pub interval: Interval,
}

impl FetchOptions {
    /// Everything new of `interval` candles, up to the last complete ones.
    pub fn new(interval: Interval) -> Self {
        Self {
            since: None,
            until: interval.last_fetchable_day(),
            replace: false,
            interval,
        }
    }
}

impl Default for FetchOptions {
    /// Everything new of the daily rows, up to yesterday (UTC).
    fn default() -> Self {
        Self::new(Interval::Day)
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

/// Fetches `symbol` through `chain` and loads the rows (one transaction: raw rows with their 1D
/// bars rebuilt, or hourly bars).
pub async fn fetch_symbol(
    db: &Database,
    chain: &SourceChain,
    symbol: &str,
    options: &FetchOptions,
) -> Result<FetchOutcome, FeatureError> {
    let symbol = normalise_symbol(symbol)?;
    // What is stored: its source, its rows, and where a fetch continues (the day after the last
    // day; for hourly candles, the hour after the last hour).
    let stored = match options.interval {
        Interval::Day => coverage(db)
            .await?
            .into_iter()
            .find(|c| c.symbol == symbol)
            .map(|c| (c.source, c.rows, day_start(c.last_day + Duration::days(1)))),
        Interval::Hour => hourly_coverage(db, Some(&symbol))
            .await?
            .into_iter()
            .next()
            .map(|c| (c.source, c.rows, next_hour(c.last))),
    };
    // Where the fetch starts: the day asked for, else where the stored series ends.
    let mut start = options.since.map(day_start);
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
    if let Some((source, rows, next)) = &stored {
        let kind = source.parse::<SourceKind>().ok();
        match kind.and_then(|k| chain.only(k)) {
            Some(pinned) if !options.replace => {
                chain = pinned;
                start = start.or(Some(*next));
            }
            _ if !options.replace => {
                return Err(FeatureError::SourceConflict {
                    symbol,
                    existing: source.clone(),
                    new: chain
                        .kinds()
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(" or "),
                    rows: *rows,
                });
            }
            _ => {}
        }
    }
    outcome.until = options.until.min(options.interval.last_fetchable_day());
    if options.interval == Interval::Hour && start.is_none() {
        start = Some(day_start(outcome.until - Duration::days(HOURLY_DEFAULT_DAYS - 1)));
    }
    outcome.from = start.map(|t| t.date_naive());
    if outcome.from.is_some_and(|f| f > outcome.until) {
        outcome
            .notes
            .push(format!("{symbol}: up to date through {}", outcome.until));
        return Ok(outcome);
    }
    let fetched = match options.interval {
        Interval::Day => chain.daily(&symbol, outcome.from, outcome.until).await?,
        Interval::Hour => {
            let to = day_start(outcome.until) + Duration::days(1);
            chain.hourly(&symbol, start, to).await?
        }
    };
    outcome.source = Some(fetched.source);
    outcome.fetched = fetched.rows.len();
    outcome.notes = fetched.notes;
    if fetched.rows.is_empty() {
        outcome
            .notes
            .push(format!("{symbol}: {} returned no rows", fetched.source));
        return Ok(outcome);
    }
    outcome.report = Some(match options.interval {
        Interval::Day => ingest_rows(db, &symbol, fetched.source, fetched.rows, options.replace).await?,
        Interval::Hour => store_hourly(db, &symbol, fetched.source, fetched.rows, options.replace).await?,
    });
    Ok(outcome)
}
