//! Coinbase Exchange candles (`GET /products/{BASE}-USD/candles`), keyless: the second keyless
//! source, and the one that answers from the US where Binance does not.
//!
//! Rows are `[time, low, high, open, close, volume]` (note the order: low before high, open after
//! them), newest first, at most 300 per call. Windows of 300 candles are walked backwards from the
//! last complete day down to `since`; without `since`, until a window comes back empty (the
//! product's listing). Volume is in the base asset.

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};

use crate::prices::{RawPrice, SourceKind, day_start};
use crate::sources::http::{CallError, HttpClient, HttpOptions, Reply, describe, last_complete_day};
use crate::sources::{Interval, PriceSource, within};
use crate::{FeatureError, normalise_symbol};

/// Coinbase Exchange's public API.
pub const COINBASE_BASE_URL: &str = "https://api.exchange.coinbase.com";

/// The most candles Coinbase returns per call.
pub const COINBASE_MAX_PAGE: usize = 300;

/// Daily (and hourly) candles from Coinbase Exchange.
#[derive(Debug)]
pub struct CoinbaseSource {
    http: HttpClient,
    quote: String,
    page_size: usize,
}

type Candle = (i64, f64, f64, f64, f64, f64);

impl CoinbaseSource {
    /// A client of `base_url` (e.g. [`COINBASE_BASE_URL`], a proxy, or a test server).
    pub fn new(base_url: &str) -> Result<Self, FeatureError> {
        Self::with_options(base_url, HttpOptions::default())
    }

    pub fn with_options(base_url: &str, options: HttpOptions) -> Result<Self, FeatureError> {
        Ok(Self {
            http: HttpClient::new(SourceKind::Coinbase, base_url, options)?,
            quote: "USD".into(),
            page_size: COINBASE_MAX_PAGE,
        })
    }

    /// Candles per call (1 to 300; the API's maximum by default).
    pub fn with_page_size(mut self, rows: usize) -> Self {
        self.page_size = rows.clamp(1, COINBASE_MAX_PAGE);
        self
    }

    /// The quote currency of the products (USD by default).
    pub fn with_quote(mut self, quote: &str) -> Self {
        self.quote = quote.trim().to_ascii_uppercase();
        self
    }

    /// The waits made between retries so far.
    pub fn retry_waits(&self) -> Vec<std::time::Duration> {
        self.http.waits()
    }

    /// The product of a symbol (BTC → BTC-USD).
    pub fn product(&self, symbol: &str) -> String {
        format!("{symbol}-{}", self.quote)
    }

    /// Candles of `interval` opening in [from, to), oldest first.
    pub async fn candles(
        &self,
        symbol: &str,
        interval: Interval,
        from: Option<DateTime<Utc>>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RawPrice>, FeatureError> {
        let symbol = normalise_symbol(symbol)?;
        let product = self.product(&symbol);
        let path = format!("/products/{product}/candles");
        let step = interval.duration();
        let span = step * (self.page_size as i32 - 1);
        let iso = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let mut rows = Vec::new();
        // The window's last candle opens at `last`; both ends are inclusive on Coinbase.
        let mut last = to - step;
        loop {
            let first = match from {
                Some(f) if last - span <= f => f,
                _ => last - span,
            };
            if first > last {
                break;
            }
            let query = [
                ("granularity", step.num_seconds().to_string()),
                ("start", iso(first)),
                ("end", iso(last)),
            ];
            let reply = self
                .http
                .get(&path, &query, &[], |r| self.refusal(r, &product))
                .await?;
            if !reply.status.is_success() {
                return Err(self.http.failed(describe(&reply, "request refused")));
            }
            let page: Vec<Candle> = self.http.parse(&reply)?;
            let empty = page.is_empty();
            for c in page {
                let open_at = DateTime::from_timestamp(c.0, 0).ok_or_else(|| {
                    self.http
                        .failed(format!("a candle has an impossible time {}", c.0))
                })?;
                if open_at < first || open_at > last {
                    continue;
                }
                rows.push(RawPrice {
                    symbol: symbol.clone(),
                    ts: interval.close_of(open_at),
                    time_open: open_at,
                    time_close: interval.close_of(open_at),
                    time_high: None,
                    time_low: None,
                    open: Some(c.3),
                    high: Some(c.2),
                    low: Some(c.1),
                    close: Some(c.4),
                    volume: Some(c.5),
                    market_cap: None,
                    source: SourceKind::Coinbase,
                    source_file: None,
                });
            }
            let reached_since = from.is_some_and(|f| first <= f);
            if reached_since || (from.is_none() && empty) {
                break;
            }
            last = first - step;
        }
        rows.sort_by_key(|r| r.ts);
        rows.dedup_by_key(|r| r.ts);
        Ok(rows)
    }

    /// Coinbase-specific refusals: an unknown product (404 NotFound) can be found elsewhere.
    fn refusal(&self, reply: &Reply, product: &str) -> Option<CallError> {
        (reply.status.as_u16() == 404 && !reply.body.trim_start().starts_with('<')).then(|| {
            CallError::fatal(self.http.unavailable(format!(
                "Coinbase has no product {product} ({})",
                describe(reply, "not found")
            )))
        })
    }
}

#[async_trait::async_trait]
impl PriceSource for CoinbaseSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Coinbase
    }

    async fn daily(
        &self,
        symbol: &str,
        since: Option<NaiveDate>,
        until: NaiveDate,
    ) -> Result<Vec<RawPrice>, FeatureError> {
        let until = last_complete_day(until);
        if since.is_some_and(|s| s > until) {
            return Ok(Vec::new());
        }
        let to = day_start(until) + Duration::days(1);
        let rows = self
            .candles(symbol, Interval::Day, since.map(day_start), to)
            .await?;
        Ok(within(rows, since, until))
    }

    async fn hourly(
        &self,
        symbol: &str,
        from: Option<DateTime<Utc>>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RawPrice>, FeatureError> {
        let from =
            from.map(|f| Interval::Hour.floor(f + Interval::Hour.duration() - Duration::milliseconds(1)));
        self.candles(symbol, Interval::Hour, from, Interval::Hour.complete_before(to))
            .await
    }
}
