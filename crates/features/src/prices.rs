//! Raw daily prices (`cmc_price_histories`): the row type every source produces, the day/time
//! conventions (a UTC day D has ts = D 23:59:59.999), and reading the table back.
//!
//! Raw rows are kept exactly as a source delivered them; repairs happen only when they become
//! validated 1D bars (see [`crate::bars::daily`]), so a revised source row can always be re-validated.

use std::fmt;
use std::str::FromStr;
use talab_db::sqlx;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use talab_db::{Backend, Database, on_pool};

use crate::{FeatureError, normalise_symbol};

/// Where a series came from. One asset's series comes from one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// CoinMarketCap's API.
    Cmc,
    /// CoinMarketCap's website CSV export.
    CmcCsv,
    /// Binance klines.
    Binance,
    /// Coinbase Exchange candles.
    Coinbase,
    /// A plain OHLCV CSV file.
    Csv,
    /// The seeded random walk (offline demos and benchmarks only).
    Synthetic,
}

impl SourceKind {
    /// Every source, in the order the spec lists them.
    pub const ALL: [SourceKind; 6] = [
        Self::Cmc,
        Self::CmcCsv,
        Self::Binance,
        Self::Coinbase,
        Self::Csv,
        Self::Synthetic,
    ];

    /// The name stored in the `source` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cmc => "cmc",
            Self::CmcCsv => "cmc_csv",
            Self::Binance => "binance",
            Self::Coinbase => "coinbase",
            Self::Csv => "csv",
            Self::Synthetic => "synthetic",
        }
    }

    /// Whether a fetch can extend a series of this source (an HTTP API, not a file or the
    /// generator).
    pub fn is_fetchable(self) -> bool {
        matches!(self, Self::Cmc | Self::Binance | Self::Coinbase)
    }

    /// Whether this source reports when the day's high and low happened. Where it does, a missing
    /// or out-of-range time means the extreme itself is suspect (and is repaired); where it does not
    /// (exchange candles, plain OHLCV files), the extremes are kept and only their times are placed.
    pub fn reports_extreme_times(self) -> bool {
        matches!(self, Self::Cmc | Self::CmcCsv | Self::Synthetic)
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SourceKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == lower)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown source '{s}'; known: {}", names.join(", "))
            })
    }
}

/// One raw daily row, as a source delivered it (before any repair).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawPrice {
    /// Upper-case symbol.
    pub symbol: String,
    /// The day's close (D 23:59:59.999 UTC): the row's key with the symbol.
    pub ts: DateTime<Utc>,
    pub time_open: DateTime<Utc>,
    pub time_close: DateTime<Utc>,
    /// When the high happened, where the source says.
    pub time_high: Option<DateTime<Utc>>,
    /// When the low happened, where the source says.
    pub time_low: Option<DateTime<Utc>>,
    pub open: Option<f64>,
    pub high: Option<f64>,
    pub low: Option<f64>,
    pub close: Option<f64>,
    pub volume: Option<f64>,
    pub market_cap: Option<f64>,
    pub source: SourceKind,
    /// The file the row was read from, for file sources.
    pub source_file: Option<String>,
}

impl RawPrice {
    /// The UTC day this row describes (the day of its `ts`).
    pub fn day(&self) -> NaiveDate {
        self.ts.date_naive()
    }

    /// Whether two rows carry the same data (ignoring which file delivered it), so re-loading a
    /// file can tell unchanged rows from revised ones. Floats compare bit for bit.
    pub fn same_data(&self, other: &RawPrice) -> bool {
        let f = |a: Option<f64>, b: Option<f64>| a.map(f64::to_bits) == b.map(f64::to_bits);
        self.symbol == other.symbol
            && self.ts == other.ts
            && self.time_open == other.time_open
            && self.time_close == other.time_close
            && self.time_high == other.time_high
            && self.time_low == other.time_low
            && f(self.open, other.open)
            && f(self.high, other.high)
            && f(self.low, other.low)
            && f(self.close, other.close)
            && f(self.volume, other.volume)
            && f(self.market_cap, other.market_cap)
            && self.source == other.source
    }
}

/// The start of UTC day `d` (00:00:00).
pub fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN).and_utc()
}

/// The close of UTC day `d`: D 23:59:59.999, the `ts` of a daily row.
pub fn day_end(d: NaiveDate) -> DateTime<Utc> {
    day_start(d) + Duration::days(1) - Duration::milliseconds(1)
}

/// Columns of `cmc_price_histories`, in the order [`raw_values`] gives them.
pub(crate) const RAW_COLUMNS: &[&str] = &[
    "symbol",
    "ts",
    "time_open",
    "time_close",
    "time_high",
    "time_low",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "market_cap",
    "source",
    "source_file",
    "ingested_at",
];

/// One value to bind in a batched statement; lets one SQL text be bound on either backend.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Text(Option<String>),
    Time(Option<DateTime<Utc>>),
    Float(Option<f64>),
    Int(i64),
    Bool(bool),
    Day(NaiveDate),
}

/// Binds a slice of [`Val`]s to a query, in order (expands on either backend inside `on_pool!`).
macro_rules! bind_vals {
    ($query:expr, $vals:expr) => {{
        let mut q = $query;
        for v in $vals {
            q = match v {
                $crate::prices::Val::Text(x) => q.bind(x.clone()),
                $crate::prices::Val::Time(x) => q.bind(*x),
                $crate::prices::Val::Float(x) => q.bind(*x),
                $crate::prices::Val::Int(x) => q.bind(*x),
                $crate::prices::Val::Bool(x) => q.bind(*x),
                $crate::prices::Val::Day(x) => q.bind(*x),
            };
        }
        q
    }};
}
pub(crate) use bind_vals;

/// The values of one raw row, in [`RAW_COLUMNS`] order.
pub(crate) fn raw_values(r: &RawPrice, ingested_at: DateTime<Utc>) -> Vec<Val> {
    vec![
        Val::Text(Some(r.symbol.clone())),
        Val::Time(Some(r.ts)),
        Val::Time(Some(r.time_open)),
        Val::Time(Some(r.time_close)),
        Val::Time(r.time_high),
        Val::Time(r.time_low),
        Val::Float(r.open),
        Val::Float(r.high),
        Val::Float(r.low),
        Val::Float(r.close),
        Val::Float(r.volume),
        Val::Float(r.market_cap),
        Val::Text(Some(r.source.as_str().to_string())),
        Val::Text(r.source_file.clone()),
        Val::Time(Some(ingested_at)),
    ]
}

/// Multi-row `INSERT` statements for `rows` rows of `columns.len()` values each, in batches that
/// stay under the backend's bind-parameter limit: (SQL, rows in this batch).
pub(crate) fn batched_insert(
    backend: Backend,
    table: &str,
    columns: &[&str],
    rows: usize,
    on_conflict: &str,
) -> Vec<(String, usize)> {
    let per_batch = talab_db::bulk::rows_per_statement(backend, columns.len());
    let mut out = Vec::new();
    let mut done = 0;
    while done < rows {
        let n = per_batch.min(rows - done);
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        talab_db::bulk::push_rows(&mut sql, backend, 1, columns.len(), n);
        sql.push(' ');
        sql.push_str(on_conflict);
        out.push((sql, n));
        done += n;
    }
    out
}

/// The upsert clause of `cmc_price_histories`: a later load of the same day replaces it.
pub(crate) fn raw_upsert_clause() -> String {
    let sets: Vec<String> = RAW_COLUMNS[2..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!("ON CONFLICT (symbol, ts) DO UPDATE SET {}", sets.join(", "))
}

type RawTuple = (
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    String,
    Option<String>,
);

pub(crate) const RAW_SELECT: &str = "SELECT symbol, ts, time_open, time_close, time_high, time_low, open, high, \
     low, close, volume, market_cap, source, source_file FROM cmc_price_histories WHERE symbol = $1 ORDER BY ts";

pub(crate) fn raw_from_tuple(t: RawTuple) -> Result<RawPrice, FeatureError> {
    let source = t.12.parse().map_err(|reason| FeatureError::Corrupt {
        table: "cmc_price_histories".into(),
        reason,
    })?;
    Ok(RawPrice {
        symbol: t.0,
        ts: t.1,
        time_open: t.2,
        time_close: t.3,
        time_high: t.4,
        time_low: t.5,
        open: t.6,
        high: t.7,
        low: t.8,
        close: t.9,
        volume: t.10,
        market_cap: t.11,
        source,
        source_file: t.13,
    })
}

/// Fetches one symbol's raw rows, oldest first, on an executor (pool or open transaction).
macro_rules! fetch_raw {
    ($exec:expr, $symbol:expr) => {{
        let rows: Vec<_> = sqlx::query_as($crate::prices::RAW_SELECT)
            .bind($symbol)
            .fetch_all($exec)
            .await?;
        rows
    }};
}
pub(crate) use fetch_raw;

/// One symbol's raw rows, oldest first (any case for the symbol).
pub async fn load_raw(db: &Database, symbol: &str) -> Result<Vec<RawPrice>, FeatureError> {
    let symbol = normalise_symbol(symbol)?;
    let rows: Vec<RawTuple> = on_pool!(db, pool => async {
        Ok::<_, sqlx::Error>(fetch_raw!(pool, &symbol))
    }
    .await)?;
    rows.into_iter().map(raw_from_tuple).collect()
}

/// Splits flat row values into batched multi-row INSERT statements.
pub(crate) fn batches(
    backend: Backend,
    table: &str,
    columns: &[&str],
    on_conflict: &str,
    vals: Vec<Val>,
) -> Vec<(String, Vec<Val>)> {
    let rows = vals.len() / columns.len();
    let mut rest = vals.into_iter();
    batched_insert(backend, table, columns, rows, on_conflict)
        .into_iter()
        .map(|(sql, n)| (sql, rest.by_ref().take(n * columns.len()).collect()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_runs_from_midnight_to_the_last_millisecond() {
        let d = NaiveDate::from_ymd_opt(2021, 2, 27).unwrap();
        assert_eq!(day_start(d).to_rfc3339(), "2021-02-27T00:00:00+00:00");
        assert_eq!(day_end(d).to_rfc3339(), "2021-02-27T23:59:59.999+00:00");
        assert_eq!(day_end(d).date_naive(), d);
    }

    #[test]
    fn batches_number_placeholders_per_batch() {
        let b = batched_insert(Backend::Postgres, "t", &["a", "b"], 3, "");
        assert_eq!(b.len(), 1);
        assert_eq!(
            b[0].0.trim(),
            "INSERT INTO t (a, b) VALUES ($1,$2),($3,$4),($5,$6)"
        );
        let b = batched_insert(Backend::Sqlite, "t", &["a", "b"], 2, "");
        assert_eq!(b[0].0.trim(), "INSERT INTO t (a, b) VALUES (?,?),(?,?)");
        let b = batched_insert(Backend::Postgres, "t", &RAW_COLUMNS[..15], 10_000, "");
        assert_eq!(b.iter().map(|x| x.1).collect::<Vec<_>>(), vec![4369, 4369, 1262]);
    }

    #[test]
    fn sources_round_trip_their_names() {
        for k in SourceKind::ALL {
            assert_eq!(k.as_str().parse::<SourceKind>().unwrap(), k);
        }
        assert_eq!("CMC_CSV".parse::<SourceKind>().unwrap(), SourceKind::CmcCsv);
        assert!(
            "yahoo"
                .parse::<SourceKind>()
                .unwrap_err()
                .contains("known: cmc, cmc_csv")
        );
    }
}
