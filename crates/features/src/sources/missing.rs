//! Bringing stored prices up to date before an EMA refresh: the policy of what to fetch.
//!
//! For each symbol, the days (or, for intraday timeframes, the hours) after its last stored one,
//! from the series' own source (the default chain for a new symbol). Series loaded from files or
//! generated are not fetched. A fetch that fails for a symbol that has prices is reported and the
//! stored prices are refreshed; for a symbol without any, it is an error before anything is
//! written. Hours are fetched for every symbol when an intraday timeframe is named, and, when one
//! is only enabled (part of the default set), for the symbols that already keep hourly bars.

use serde::Serialize;
use talab_db::Database;

use super::Interval;
use super::chain::SourceChain;
use super::fetch::{FetchOptions, FetchOutcome, fetch_symbol};
use crate::bars::hourly::hourly_coverage;
use crate::ema::RefreshRequest;
use crate::ingest::coverage;
use crate::prices::SourceKind;
use crate::time::TimeframeRegistry;
use crate::{FeatureError, normalise_symbol};

/// What bringing one symbol's prices up to date did.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum MissingFetch {
    /// The stored series comes from a file or the generator, which a fetch cannot extend.
    NotFetchable {
        symbol: String,
        interval: Interval,
        source: String,
    },
    /// Fetched (possibly nothing new: see the outcome's notes).
    Fetched {
        interval: Interval,
        outcome: FetchOutcome,
    },
    /// The fetch failed; the stored prices stay as they are.
    Kept {
        symbol: String,
        interval: Interval,
        error: String,
    },
}

/// Fetches what a refresh of `request` is missing through `chain` (see the module docs), daily
/// rows first, then hours; an error names the first symbol that has no prices and could not get
/// any.
pub async fn fetch_missing(
    db: &Database,
    chain: &SourceChain,
    request: &RefreshRequest,
) -> Result<Vec<MissingFetch>, FeatureError> {
    let named = request.options()?.tfs;
    let tfs = TimeframeRegistry::open(db.clone())
        .await?
        .named_or_enabled(&named)
        .await?;
    let mut done = Vec::new();
    if tfs.iter().any(|t| !t.is_intraday()) {
        done.extend(fetch_interval(db, chain, &request.symbols, Interval::Day).await?);
    }
    let hourly: Vec<String> = if named.iter().any(|t| t.is_intraday()) {
        request.symbols.clone()
    } else if tfs.iter().any(|t| t.is_intraday()) {
        let kept = hourly_coverage(db, None).await?;
        request
            .symbols
            .iter()
            .filter(|s| kept.iter().any(|c| c.symbol.eq_ignore_ascii_case(s.trim())))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    if !hourly.is_empty() {
        done.extend(fetch_interval(db, chain, &hourly, Interval::Hour).await?);
    }
    Ok(done)
}

/// [`fetch_missing`] for one interval.
async fn fetch_interval(
    db: &Database,
    chain: &SourceChain,
    symbols: &[String],
    interval: Interval,
) -> Result<Vec<MissingFetch>, FeatureError> {
    // (symbol, source) of the stored series.
    let stored: Vec<(String, String)> = match interval {
        Interval::Day => coverage(db)
            .await?
            .into_iter()
            .map(|c| (c.symbol, c.source))
            .collect(),
        Interval::Hour => hourly_coverage(db, None)
            .await?
            .into_iter()
            .map(|c| (c.symbol, c.source))
            .collect(),
    };
    let options = FetchOptions::new(interval);
    let mut done = Vec::with_capacity(symbols.len());
    for s in symbols {
        let symbol = normalise_symbol(s)?;
        let have = stored.iter().find(|(s, _)| *s == symbol);
        if let Some((_, source)) = have
            && !source.parse::<SourceKind>().is_ok_and(SourceKind::is_fetchable)
        {
            tracing::info!(symbol = %symbol, source = %source, "prices from a file or generator; not fetching");
            done.push(MissingFetch::NotFetchable {
                symbol,
                interval,
                source: source.clone(),
            });
            continue;
        }
        match fetch_symbol(db, chain, &symbol, &options).await {
            Ok(outcome) => done.push(MissingFetch::Fetched { interval, outcome }),
            Err(e) if have.is_some() => done.push(MissingFetch::Kept {
                symbol,
                interval,
                error: e.to_string(),
            }),
            Err(e) => {
                return Err(FeatureError::NothingFetched {
                    symbol,
                    interval,
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(done)
}
