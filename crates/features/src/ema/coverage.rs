//! What is stored of one symbol's EMAs on one timeframe: the stored days, or — when a refresh ran
//! but no EMA has a value yet — why not, so a reader can tell "never refreshed" from "too little
//! history" instead of one bare "nothing found".

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use talab_db::sqlx;
use talab_db::{Database, on_pool};

use super::table::{STATE_TABLE, table_for};
use crate::{FeatureError, Timeframe};

/// The stored EMAs of one (symbol, timeframe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EmaCoverage {
    /// Values are stored from `first` to `last` (UTC days).
    Stored { first: NaiveDate, last: NaiveDate },
    /// The timeframe was refreshed, but its bars from the prices `first` .. `last` are fewer than
    /// the shortest period, and an EMA starts after that many bars.
    TooShort {
        shortest_period: usize,
        first: NaiveDate,
        last: NaiveDate,
    },
    /// The timeframe was never refreshed for the symbol.
    NotRefreshed,
}

impl EmaCoverage {
    /// The stored days, if any.
    pub fn stored(&self) -> Option<(NaiveDate, NaiveDate)> {
        match *self {
            EmaCoverage::Stored { first, last } => Some((first, last)),
            _ => None,
        }
    }

    /// Why nothing is stored (None when something is), in words naming `symbol` and `tf`.
    pub fn why_empty(&self, symbol: &str, tf: &str) -> Option<String> {
        match *self {
            EmaCoverage::Stored { .. } => None,
            EmaCoverage::TooShort {
                shortest_period,
                first,
                last,
            } => Some(format!(
                "no {tf} EMA of {symbol} yet: its prices ({first} .. {last}) hold fewer {tf} bars than \
                 the shortest period, {shortest_period}, and an EMA starts after that many bars"
            )),
            EmaCoverage::NotRefreshed => Some(format!("no {tf} EMAs stored for {symbol}")),
        }
    }
}

/// The coverage of a canonical `symbol`'s `tf` EMAs.
pub async fn ema_coverage(db: &Database, symbol: &str, tf: &Timeframe) -> Result<EmaCoverage, FeatureError> {
    let code = tf.code();
    let sql = format!(
        "SELECT MIN(ts), MAX(ts) FROM {} WHERE symbol = $1 AND tf = $2",
        table_for(tf)
    );
    let range: (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = on_pool!(db, pool => {
        sqlx::query_as(&sql).bind(symbol).bind(&code).fetch_one(pool).await
    })?;
    if let (Some(first), Some(last)) = range {
        return Ok(EmaCoverage::Stored {
            first: first.date_naive(),
            last: last.date_naive(),
        });
    }
    let sql = format!(
        "SELECT CAST(MIN(period) AS BIGINT), MIN(first_day), MAX(last_day) FROM {STATE_TABLE} \
         WHERE symbol = $1 AND tf = $2"
    );
    let state: (Option<i64>, Option<NaiveDate>, Option<NaiveDate>) = on_pool!(db, pool => {
        sqlx::query_as(&sql).bind(symbol).bind(&code).fetch_one(pool).await
    })?;
    Ok(match state {
        (Some(period), Some(first), Some(last)) => EmaCoverage::TooShort {
            shortest_period: period as usize,
            first,
            last,
        },
        _ => EmaCoverage::NotRefreshed,
    })
}
