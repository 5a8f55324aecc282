//! Binance spot klines (`GET /api/v3/klines`), keyless: a new user gets real daily prices without
//! signing up anywhere. Symbols trade against USDT (BTC → BTCUSDT).
//!
//! Rows are `[openMs, "open", "high", "low", "close", "volume", closeMs, …]` with prices as strings;
//! volume is in the base asset (BTC for BTCUSDT). Pages of up to 1000 rows are walked forward from
//! `startTime` until a short page or the last complete day. Binance answers HTTP 451 to US
//! addresses: that is "unavailable here", so the default chain moves on to the next source.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::Value;

use crate::prices::{RawPrice, SourceKind, day_end, day_start};
use crate::sources::http::{CallError, HttpClient, HttpOptions, Reply, describe, last_complete_day};
use crate::sources::{Interval, PriceSource, within};
use crate::{FeatureError, normalise_symbol};

/// Binance's public API.
pub const BINANCE_BASE_URL: &str = "https://api.binance.com";

/// The most rows Binance returns per call.
pub const BINANCE_MAX_PAGE: usize = 1000;

/// Daily (and hourly) candles from Binance klines.
#[derive(Debug)]
pub struct BinanceSource {
    http: HttpClient,
    quote: String,
    page_size: usize,
}

impl BinanceSource {
    /// A client of `base_url` (e.g. [`BINANCE_BASE_URL`], a proxy, or a test server).
    pub fn new(base_url: &str) -> Result<Self, FeatureError> {
        Self::with_options(base_url, HttpOptions::default())
    }

    pub fn with_options(base_url: &str, options: HttpOptions) -> Result<Self, FeatureError> {
        Ok(Self {
            http: HttpClient::new(SourceKind::Binance, base_url, options)?,
            quote: "USDT".into(),
            page_size: BINANCE_MAX_PAGE,
        })
    }

    /// Rows per call (1 to 1000; the API's maximum by default).
    pub fn with_page_size(mut self, rows: usize) -> Self {
        self.page_size = rows.clamp(1, BINANCE_MAX_PAGE);
        self
    }

    /// The quote currency of the pairs (USDT by default).
    pub fn with_quote(mut self, quote: &str) -> Self {
        self.quote = quote.trim().to_ascii_uppercase();
        self
    }

    /// The waits made between retries so far.
    pub fn retry_waits(&self) -> Vec<std::time::Duration> {
        self.http.waits()
    }

    /// The exchange pair of a symbol (BTC → BTCUSDT).
    pub fn pair(&self, symbol: &str) -> String {
        format!("{symbol}{}", self.quote)
    }

    /// Complete candles of `interval` opening in [from, to), oldest first.
    pub async fn candles(
        &self,
        symbol: &str,
        interval: Interval,
        from: Option<DateTime<Utc>>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RawPrice>, FeatureError> {
        let symbol = normalise_symbol(symbol)?;
        let pair = self.pair(&symbol);
        let step = interval.duration().num_milliseconds();
        let end_ms = to.timestamp_millis() - 1;
        let mut start_ms = from.map_or(0, |t| t.timestamp_millis());
        let mut rows = Vec::new();
        while start_ms <= end_ms {
            let query = [
                ("symbol", pair.clone()),
                ("interval", interval.binance().to_string()),
                ("startTime", start_ms.to_string()),
                ("endTime", end_ms.to_string()),
                ("limit", self.page_size.to_string()),
            ];
            let reply = self
                .http
                .get("/api/v3/klines", &query, &[], |r| self.refusal(r, &pair))
                .await?;
            if !reply.status.is_success() {
                return Err(self.http.failed(describe(&reply, "request refused")));
            }
            let page: Vec<Vec<Value>> = self.http.parse(&reply)?;
            let n = page.len();
            let mut last_open = None;
            for row in page {
                let r = self.kline(&symbol, interval, &row)?;
                last_open = Some(r.time_open.timestamp_millis());
                rows.push(r);
            }
            match last_open {
                Some(open) if n >= self.page_size && open >= start_ms => start_ms = open + step,
                Some(open) if open < start_ms => {
                    return Err(self.http.failed(format!(
                        "a page starting at {start_ms} ms returned older candles; stopping instead of looping"
                    )));
                }
                _ => break,
            }
        }
        let cutoff = to;
        rows.retain(|r| r.time_open < cutoff);
        rows.sort_by_key(|r| r.ts);
        rows.dedup_by_key(|r| r.ts);
        Ok(rows)
    }

    /// Binance-specific refusals: an unknown pair (400, code -1121) can be found elsewhere.
    fn refusal(&self, reply: &Reply, pair: &str) -> Option<CallError> {
        if reply.status.as_u16() != 400 {
            return None;
        }
        let json: Value = serde_json::from_str(&reply.body).unwrap_or_default();
        (json["code"].as_i64() == Some(-1121)).then(|| {
            CallError::fatal(self.http.unavailable(format!(
                "Binance has no pair {pair} ({})",
                describe(reply, "unknown pair")
            )))
        })
    }

    fn kline(&self, symbol: &str, interval: Interval, row: &[Value]) -> Result<RawPrice, FeatureError> {
        let bad = |what: &str| {
            self.http.failed(format!(
                "a kline row is not [openMs, \"open\", \"high\", \"low\", \"close\", \"volume\", closeMs, …]: {what} in {}",
                Value::Array(row.to_vec())
            ))
        };
        let ms = |i: usize| row.get(i).and_then(Value::as_i64).ok_or_else(|| bad("a time"));
        let price = |i: usize| {
            let v = row.get(i).ok_or_else(|| bad("a missing value"))?;
            let x = match v {
                Value::String(s) => s.trim().parse::<f64>().map_err(|_| bad("a number"))?,
                Value::Number(n) => n.as_f64().ok_or_else(|| bad("a number"))?,
                _ => return Err(bad("a number")),
            };
            Ok::<_, FeatureError>(Some(x))
        };
        let open_at = DateTime::from_timestamp_millis(ms(0)?).ok_or_else(|| bad("a time"))?;
        let close_at = DateTime::from_timestamp_millis(ms(6)?).ok_or_else(|| bad("a time"))?;
        Ok(RawPrice {
            symbol: symbol.to_string(),
            ts: interval.close_of(open_at),
            time_open: open_at,
            time_close: close_at,
            time_high: None,
            time_low: None,
            open: price(1)?,
            high: price(2)?,
            low: price(3)?,
            close: price(4)?,
            volume: price(5)?,
            market_cap: None,
            source: SourceKind::Binance,
            source_file: None,
        })
    }
}

#[async_trait::async_trait]
impl PriceSource for BinanceSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Binance
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
        Ok(within(rows, since, until)
            .into_iter()
            .filter(|r| r.ts == day_end(r.day()))
            .collect())
    }

    async fn hourly(
        &self,
        symbol: &str,
        from: Option<DateTime<Utc>>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RawPrice>, FeatureError> {
        self.candles(symbol, Interval::Hour, from, Interval::Hour.complete_before(to))
            .await
    }
}
