//! CoinMarketCap's API (`GET /v2/cryptocurrency/ohlcv/historical`), the lab's historical source.
//!
//! Needs a key (`X-CMC_PRO_API_KEY`) on a plan that includes historical OHLCV: the free plans do
//! not, and CMC says so with `status.error_code` 1006. That is reported as such ("your plan does
//! not include…"), never as "no data", and the default chain moves on to a keyless exchange.
//!
//! `time_start` is exclusive, so a fetch from day D asks for quotes after D−1 23:59:59.999. Pages of
//! up to 10,000 quotes continue after the last quote received. The asset is asked for by CMC id
//! where known (one coin), else by symbol (CMC may list several coins under one symbol; the first
//! one it returns is taken).

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::Value;

use crate::prices::{RawPrice, SourceKind, day_end};
use crate::sources::http::{
    CallError, HttpClient, HttpOptions, Reply, describe, last_complete_day, retry_after,
};
use crate::sources::{PriceSource, within};
use crate::{FeatureError, normalise_symbol};

/// CoinMarketCap's API.
pub const CMC_BASE_URL: &str = "https://pro-api.coinmarketcap.com";

/// The most quotes CMC returns per call.
pub const CMC_MAX_PAGE: usize = 10_000;

/// The first day asked for when no start is given (before any coin CMC lists).
const EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(2010, 7, 13) {
    Some(d) => d,
    None => unreachable!(),
};

/// Daily OHLCV from CoinMarketCap.
pub struct CmcSource {
    http: HttpClient,
    key: HeaderValue,
    ids: HashMap<String, i64>,
    page_size: usize,
}

impl std::fmt::Debug for CmcSource {
    /// The key never shows.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CmcSource")
            .field("base_url", &self.http.base_url())
            .field("key", &"***")
            .field("ids", &self.ids)
            .field("page_size", &self.page_size)
            .finish()
    }
}

#[derive(Debug, Deserialize)]
struct Status {
    #[serde(default)]
    error_code: i64,
    error_message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Envelope {
    status: Option<Status>,
    #[serde(default)]
    data: Value,
}

#[derive(Debug, Deserialize)]
struct Quote {
    time_open: DateTime<Utc>,
    time_close: DateTime<Utc>,
    time_high: Option<DateTime<Utc>>,
    time_low: Option<DateTime<Utc>>,
    quote: HashMap<String, Usd>,
}

#[derive(Debug, Deserialize)]
struct Usd {
    open: Option<f64>,
    high: Option<f64>,
    low: Option<f64>,
    close: Option<f64>,
    volume: Option<f64>,
    market_cap: Option<f64>,
}

impl CmcSource {
    /// A client of `base_url` (e.g. [`CMC_BASE_URL`], a proxy, or a test server) with an API key.
    pub fn new(base_url: &str, api_key: &str) -> Result<Self, FeatureError> {
        Self::with_options(base_url, api_key, HttpOptions::default())
    }

    pub fn with_options(base_url: &str, api_key: &str, options: HttpOptions) -> Result<Self, FeatureError> {
        let http = HttpClient::new(SourceKind::Cmc, base_url, options)?;
        let mut key = HeaderValue::from_str(api_key.trim())
            .map_err(|_| http.unavailable("the API key contains characters not allowed in an HTTP header"))?;
        key.set_sensitive(true);
        Ok(Self {
            http,
            key,
            ids: HashMap::new(),
            page_size: CMC_MAX_PAGE,
        })
    }

    /// CoinMarketCap ids by symbol (from `dim_assets`): these assets are asked for by id.
    pub fn with_ids(mut self, ids: impl IntoIterator<Item = (String, i64)>) -> Self {
        self.ids
            .extend(ids.into_iter().map(|(s, id)| (s.to_ascii_uppercase(), id)));
        self
    }

    /// Quotes per call (1 to 10,000; the API's maximum by default).
    pub fn with_page_size(mut self, rows: usize) -> Self {
        self.page_size = rows.clamp(1, CMC_MAX_PAGE);
        self
    }

    /// The waits made between retries so far.
    pub fn retry_waits(&self) -> Vec<std::time::Duration> {
        self.http.waits()
    }

    /// CMC's own error codes, which come with 4xx statuses (and 429 for rate limits).
    fn refusal(&self, reply: &Reply) -> Option<CallError> {
        let envelope: Envelope = serde_json::from_str(&reply.body).ok()?;
        let status = envelope.status?;
        let code = status.error_code;
        let message = status.error_message.unwrap_or_default();
        let said = format!("CMC error {code}: {message}");
        match code {
            0 => None,
            1001 | 1002 | 1005 => Some(CallError::fatal(self.http.unavailable(format!(
                "the API key was refused ({said}); check CMC_API_KEY or market_data.cmc_api_key"
            )))),
            1003 | 1004 | 1006 | 1007 => Some(CallError::fatal(self.http.unavailable(format!(
                "your API key's plan does not include historical OHLCV ({said}); \
                 use a keyless source (--source binance or coinbase) or a plan that includes it"
            )))),
            1008 | 1011 => Some(CallError::retry(
                self.http.failed(format!("rate limited ({said})")),
                retry_after(&reply.headers),
            )),
            1009 | 1010 => Some(CallError::fatal(
                self.http
                    .unavailable(format!("the API key's credit limit is used up ({said})")),
            )),
            400 if message.contains("symbol") || message.contains("\"id\"") => Some(CallError::fatal(
                self.http.unavailable(format!("unknown asset ({said})")),
            )),
            _ if reply.status.is_success() => Some(CallError::fatal(
                self.http.failed(format!("the API answered {said}")),
            )),
            _ => None,
        }
    }

    /// The quotes of the one asset in `data`, in any of CMC's shapes: `{quotes}`, `{"1": {quotes}}`,
    /// or `{"BTC": [{quotes}, …]}`.
    fn quotes_of<'a>(data: &'a Value, symbol: &str, id: Option<i64>) -> Option<&'a Vec<Value>> {
        if let Some(q) = data.get("quotes").and_then(Value::as_array) {
            return Some(q);
        }
        let entries: Vec<&Value> = data
            .as_object()?
            .values()
            .flat_map(|v| match v {
                Value::Array(items) => items.iter().collect::<Vec<_>>(),
                other => vec![other],
            })
            .filter(|e| e.get("quotes").is_some())
            .collect();
        let matches = |e: &&&Value| match id {
            Some(id) => e.get("id").and_then(Value::as_i64) == Some(id),
            None => e
                .get("symbol")
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case(symbol)),
        };
        entries
            .iter()
            .find(matches)
            .or(entries.first())
            .and_then(|e| e.get("quotes"))
            .and_then(Value::as_array)
    }
}

#[async_trait::async_trait]
impl PriceSource for CmcSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Cmc
    }

    async fn daily(
        &self,
        symbol: &str,
        since: Option<NaiveDate>,
        until: NaiveDate,
    ) -> Result<Vec<RawPrice>, FeatureError> {
        let symbol = normalise_symbol(symbol)?;
        let until = last_complete_day(until);
        let first = since.unwrap_or(EARLIEST);
        if first > until {
            return Ok(Vec::new());
        }
        let id = self.ids.get(&symbol).copied();
        let asset = match id {
            Some(id) => ("id", id.to_string()),
            None => ("symbol", symbol.clone()),
        };
        let header = [(HeaderName::from_static("x-cmc_pro_api_key"), self.key.clone())];
        let iso = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut after = day_end(first - Duration::days(1));
        let mut rows: Vec<RawPrice> = Vec::new();
        loop {
            let query = [
                asset.clone(),
                ("time_period", "daily".to_string()),
                ("time_start", iso(after)),
                ("time_end", iso(day_end(until))),
                ("count", self.page_size.to_string()),
                ("convert", "USD".to_string()),
            ];
            let reply = self
                .http
                .get("/v2/cryptocurrency/ohlcv/historical", &query, &header, |r| {
                    self.refusal(r)
                })
                .await?;
            if !reply.status.is_success() {
                return Err(self.http.failed(describe(&reply, "request refused")));
            }
            let envelope: Envelope = self.http.parse(&reply)?;
            let quotes = Self::quotes_of(&envelope.data, &symbol, id);
            let page: Vec<Quote> = match quotes {
                Some(q) => serde_json::from_value(Value::Array(q.clone())).map_err(|e| {
                    self.http
                        .failed(format!("a quote is not the expected shape: {e}"))
                })?,
                None => Vec::new(),
            };
            let n = page.len();
            let mut newest = None;
            for q in page {
                let Some(usd) = q.quote.get("USD") else {
                    return Err(self.http.failed("a quote has no USD values (convert=USD)"));
                };
                let day = q.time_open.date_naive();
                rows.push(RawPrice {
                    symbol: symbol.clone(),
                    ts: day_end(day),
                    time_open: q.time_open,
                    time_close: q.time_close,
                    time_high: q.time_high,
                    time_low: q.time_low,
                    open: usd.open,
                    high: usd.high,
                    low: usd.low,
                    close: usd.close,
                    volume: usd.volume,
                    market_cap: usd.market_cap,
                    source: SourceKind::Cmc,
                    source_file: None,
                });
                newest = newest.max(Some(day_end(day)));
            }
            match newest {
                Some(t) if n >= self.page_size && t > after && t.date_naive() < until => after = t,
                _ => break,
            }
        }
        rows.sort_by_key(|r| r.ts);
        rows.dedup_by_key(|r| r.ts);
        Ok(within(rows, since, until))
    }
}
