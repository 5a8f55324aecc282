//! Reading the repository's test data (`tests/data/`) for the integration tests.

#![allow(dead_code)] // each test binary uses part of it

use chrono::{DateTime, NaiveDate, Utc};
use talab_features::{RawPrice, SourceKind};

/// A raw row of one candle [time_open, ts] whose open, high, low and close are all `close`.
pub fn flat_candle(
    symbol: &str,
    time_open: DateTime<Utc>,
    ts: DateTime<Utc>,
    close: f64,
    source: SourceKind,
) -> RawPrice {
    RawPrice {
        symbol: symbol.into(),
        ts,
        time_open,
        time_close: ts,
        time_high: None,
        time_low: None,
        open: Some(close),
        high: Some(close),
        low: Some(close),
        close: Some(close),
        volume: Some(1.0),
        market_cap: None,
        source,
        source_file: None,
    }
}

/// A file under the repository's `tests/data/` (see its README).
pub fn data_path(name: &str) -> String {
    format!("{}/../../tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// One day of `ema_fixture_btc_2010.csv`.
#[derive(Debug, Clone)]
pub struct FixtureDay {
    pub day_idx: usize,
    pub date: NaiveDate,
    pub close: f64,
    /// Expected SMA-seeded EMA, period 10, tf 1D (None before the seed).
    pub ema_1d_p10: Option<f64>,
}

/// The 50 days of the EMA fixture, in order.
pub fn fixture() -> Vec<FixtureDay> {
    let path = data_path("ema_fixture_btc_2010.csv");
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_path(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let (idx, ts, close, ema) = (col("day_idx"), col("ts"), col("close"), col("ema_1d_p10"));
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            FixtureDay {
                day_idx: r[idx].parse().unwrap(),
                date: NaiveDate::parse_from_str(&r[ts][..10], "%Y-%m-%d").unwrap(),
                close: r[close].parse().unwrap(),
                ema_1d_p10: (!r[ema].is_empty()).then(|| r[ema].parse().unwrap()),
            }
        })
        .collect()
}

/// (date, close) of a CoinMarketCap scrape such as `coin_Bitcoin.csv`, oldest first.
pub fn coin_closes(name: &str) -> Vec<(NaiveDate, f64)> {
    let path = data_path(name);
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let (date, close) = (col("Date"), col("Close"));
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let d = NaiveDate::parse_from_str(&r[date][..10], "%Y-%m-%d").unwrap();
            (d, r[close].parse::<f64>().unwrap())
        })
        .collect()
}

/// One numeric column (e.g. `High`) of a CoinMarketCap scrape such as `coin_Bitcoin.csv`, oldest first.
pub fn coin_column(name: &str, column: &str) -> Vec<f64> {
    let path = data_path(name);
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let at = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("{path}: no {column}"));
    reader
        .records()
        .map(|r| r.unwrap()[at].parse::<f64>().unwrap())
        .collect()
}
