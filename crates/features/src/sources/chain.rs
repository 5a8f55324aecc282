//! Sources tried in order: the first that can serve a symbol delivers its rows.
//!
//! Only "unavailable here" ([`FeatureError::SourceUnavailable`]: HTTP 451, a plan or key refusal,
//! an unreachable host, an unknown pair) moves on to the next source, and each such skip is kept
//! as a note so the user is told why the data came from elsewhere. Any other failure (a bad
//! response, rate limits that outlast the retries) stops: silently switching sources on a broken
//! response would hide it.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::FeatureError;
use crate::prices::{RawPrice, SourceKind};
use crate::sources::PriceSource;

/// What a chain delivered for one symbol.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The source the rows came from.
    pub source: SourceKind,
    pub rows: Vec<RawPrice>,
    /// Why earlier sources were skipped (`binance is unavailable: …; trying coinbase`).
    pub notes: Vec<String>,
}

/// What a chain is asked for.
#[derive(Debug, Clone, Copy)]
enum Ask {
    Daily {
        since: Option<NaiveDate>,
        until: NaiveDate,
    },
    Hourly {
        from: Option<DateTime<Utc>>,
        to: DateTime<Utc>,
    },
}

/// Price sources in the order they are tried.
#[derive(Clone)]
pub struct SourceChain {
    sources: Vec<Arc<dyn PriceSource>>,
}

impl std::fmt::Debug for SourceChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.kinds()).finish()
    }
}

impl SourceChain {
    /// The sources, tried first to last.
    pub fn new(sources: Vec<Arc<dyn PriceSource>>) -> Self {
        Self { sources }
    }

    /// The default order: CoinMarketCap when a key is configured, then Binance, then Coinbase.
    pub fn default_order(
        cmc: Option<Arc<dyn PriceSource>>,
        binance: Arc<dyn PriceSource>,
        coinbase: Arc<dyn PriceSource>,
    ) -> Self {
        Self::new(cmc.into_iter().chain([binance, coinbase]).collect())
    }

    /// Which sources, in order.
    pub fn kinds(&self) -> Vec<SourceKind> {
        self.sources.iter().map(|s| s.kind()).collect()
    }

    /// Only the source of this kind, if the chain has it (a series keeps its source).
    pub fn only(&self, kind: SourceKind) -> Option<SourceChain> {
        self.sources
            .iter()
            .find(|s| s.kind() == kind)
            .map(|s| Self::new(vec![s.clone()]))
    }

    /// Daily rows of `symbol` from the first source that can serve it.
    pub async fn daily(
        &self,
        symbol: &str,
        since: Option<NaiveDate>,
        until: NaiveDate,
    ) -> Result<Fetched, FeatureError> {
        self.first_serving(symbol, Ask::Daily { since, until }).await
    }

    /// Hourly candles of `symbol` opening in [from, to) from the first source that has them.
    pub async fn hourly(
        &self,
        symbol: &str,
        from: Option<DateTime<Utc>>,
        to: DateTime<Utc>,
    ) -> Result<Fetched, FeatureError> {
        self.first_serving(symbol, Ask::Hourly { from, to }).await
    }

    async fn first_serving(&self, symbol: &str, ask: Ask) -> Result<Fetched, FeatureError> {
        let mut notes = Vec::new();
        let mut reasons = Vec::new();
        for (i, source) in self.sources.iter().enumerate() {
            let rows = match ask {
                Ask::Daily { since, until } => source.daily(symbol, since, until).await,
                Ask::Hourly { from, to } => source.hourly(symbol, from, to).await,
            };
            match rows {
                Ok(rows) => {
                    return Ok(Fetched {
                        source: source.kind(),
                        rows,
                        notes,
                    });
                }
                Err(e @ FeatureError::SourceUnavailable { .. }) => {
                    let next = self.sources.get(i + 1).map(|s| s.kind());
                    let note = match next {
                        Some(n) => format!("{symbol}: {e}; trying {n}"),
                        None => format!("{symbol}: {e}"),
                    };
                    // Not a warning: the caller gets the note (on success) or the reason (in the
                    // error), and says it once.
                    tracing::debug!("{note}");
                    notes.push(note);
                    if let FeatureError::SourceUnavailable { source_name, reason } = e {
                        reasons.push((source_name, reason));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(FeatureError::NoSource {
            symbol: symbol.to_string(),
            reasons,
        })
    }
}
