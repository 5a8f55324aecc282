//! Writing and reading `cmc_signals_ema_crossover`: one row per trade, keyed by its entry
//! (symbol, ts, signal_id).
//!
//! A refresh recomputes a signal over the asset's whole validated 1D history (a few thousand bars:
//! microseconds) and writes only the difference with what is stored: new trades are inserted,
//! changed ones (an open trade that closed, a day that was revised) updated, vanished ones deleted.
//! So a re-run writes nothing, and a run after new days gives exactly the rows a run on a fresh
//! database gives. Each symbol is written in one transaction under its write lock (SQLite
//! `BEGIN IMMEDIATE`, a PostgreSQL advisory lock), so a crash leaves it before or after, never half.

use std::collections::HashMap;
use talab_db::sqlx;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use talab_db::sqlx::types::Json;
use talab_db::{Backend, Database, Tx, on_pool, on_tx};

use super::crossover::signal_bars;
use super::definition::{SignalDefinition, get_definition, list_definitions};
use super::position::{FeatureSnapshot, Side, Trade, simulate};
use crate::{FeatureError, MIGRATIONS, load_daily_bars, normalise_symbol};

/// The table of crossover trades.
pub const SIGNALS_TABLE: &str = "cmc_signals_ema_crossover";

const COLUMNS: &[&str] = &[
    "symbol",
    "ts",
    "signal_id",
    "direction",
    "entry_ts",
    "entry_price",
    "exit_ts",
    "exit_price",
    "pnl_pct",
    "status",
    "bars_held",
    "feature_snapshot",
    "computed_at",
];

/// What a refresh did for one (symbol, signal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalRefresh {
    pub symbol: String,
    pub signal_id: String,
    /// Daily bars the signal ran over.
    pub bars: usize,
    /// Trades now stored, and how many of them are open.
    pub trades: usize,
    pub open: usize,
    pub inserted: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
}

/// One stored trade, as `talab signals list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalRow {
    pub signal_id: String,
    #[serde(flatten)]
    pub trade: Trade,
    /// Realised P&L in percent (None while open).
    pub pnl_pct: Option<f64>,
    /// `open` or `closed`.
    pub status: String,
    pub computed_at: DateTime<Utc>,
}

/// Recomputes signals for each symbol from its validated daily bars and stores the difference.
/// `signal_ids` None means every active definition. Unknown symbols (no bars) are refused before
/// anything is written.
pub async fn refresh_signals(
    db: &Database,
    symbols: &[String],
    signal_ids: Option<&[String]>,
) -> Result<Vec<SignalRefresh>, FeatureError> {
    db.migrate(&MIGRATIONS).await?;
    let defs: Vec<SignalDefinition> = match signal_ids {
        Some(ids) => {
            let mut defs = Vec::with_capacity(ids.len());
            for id in ids {
                defs.push(get_definition(db, id).await?);
            }
            defs
        }
        None => list_definitions(db)
            .await?
            .into_iter()
            .filter(|d| d.is_active)
            .collect(),
    };
    for d in &defs {
        d.params.validate(&d.signal_id)?;
    }
    let mut loaded = Vec::with_capacity(symbols.len());
    for s in symbols {
        let symbol = normalise_symbol(s)?;
        let bars = load_daily_bars(db, &symbol).await?;
        if bars.is_empty() {
            return Err(FeatureError::NoData { symbol });
        }
        loaded.push((symbol, bars));
    }
    let mut reports = Vec::new();
    for (symbol, bars) in loaded {
        let mut computed = Vec::with_capacity(defs.len());
        for d in &defs {
            let rows = signal_bars(&symbol, &bars, d.params.fast, d.params.slow)?;
            computed.push((d.signal_id.clone(), simulate(&rows, &d.params)));
        }
        let mut written = write_symbol(db, &symbol, &computed).await?;
        for r in &mut written {
            r.bars = bars.len();
        }
        reports.extend(written);
    }
    Ok(reports)
}

type RowTuple = (
    String,
    String,
    String,
    DateTime<Utc>,
    f64,
    Option<DateTime<Utc>>,
    Option<f64>,
    i64,
    Json<FeatureSnapshot>,
    DateTime<Utc>,
);

const SELECT: &str = "SELECT symbol, signal_id, direction, entry_ts, entry_price, exit_ts, exit_price, bars_held, \
                      feature_snapshot, computed_at FROM cmc_signals_ema_crossover";

fn row_from_tuple(t: RowTuple) -> Result<SignalRow, FeatureError> {
    let side: Side = t.2.parse().map_err(|reason| FeatureError::Corrupt {
        table: SIGNALS_TABLE.into(),
        reason,
    })?;
    let day = |ts: DateTime<Utc>| -> NaiveDate { ts.date_naive() };
    let trade = Trade {
        symbol: t.0,
        side,
        entry_day: day(t.3),
        entry_ts: t.3,
        entry_price: t.4,
        exit_day: t.5.map(day),
        exit_ts: t.5,
        exit_price: t.6,
        bars_held: t.7,
        snapshot: t.8.0,
    };
    Ok(SignalRow {
        signal_id: t.1,
        pnl_pct: trade.pnl_pct(),
        status: if trade.is_open() { "open" } else { "closed" }.into(),
        trade,
        computed_at: t.9,
    })
}

/// Stored trades, by symbol, signal and entry time; each filter is optional.
pub async fn list_trades(
    db: &Database,
    symbol: Option<&str>,
    signal_id: Option<&str>,
    open_only: bool,
) -> Result<Vec<SignalRow>, FeatureError> {
    db.migrate(&MIGRATIONS).await?;
    let symbol = symbol.map(normalise_symbol).transpose()?;
    let signal_id = signal_id.map(|s| s.trim().to_ascii_lowercase());
    let sql = format!(
        "{SELECT} WHERE ($1 IS NULL OR symbol = $1) AND ($2 IS NULL OR signal_id = $2) \
         AND ($3 = FALSE OR exit_ts IS NULL) ORDER BY symbol, signal_id, ts"
    );
    let rows: Vec<RowTuple> = on_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(symbol.as_deref())
            .bind(signal_id.as_deref())
            .bind(open_only)
            .fetch_all(pool)
            .await
    })?;
    rows.into_iter().map(row_from_tuple).collect()
}

/// The stored trades of one signal on one asset, by entry.
pub async fn trades_for(db: &Database, symbol: &str, signal_id: &str) -> Result<Vec<Trade>, FeatureError> {
    Ok(list_trades(db, Some(symbol), Some(signal_id), false)
        .await?
        .into_iter()
        .map(|r| r.trade)
        .collect())
}

fn upsert_sql(backend: Backend, rows: usize) -> String {
    let mut sql = format!("INSERT INTO {SIGNALS_TABLE} ({}) VALUES ", COLUMNS.join(", "));
    talab_db::bulk::push_rows(&mut sql, backend, 1, COLUMNS.len(), rows);
    let sets: Vec<String> = COLUMNS[3..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    sql.push_str(&format!(
        " ON CONFLICT (symbol, ts, signal_id) DO UPDATE SET {}",
        sets.join(", ")
    ));
    sql
}

/// Writes the difference between `computed` and the stored trades of one symbol, in one
/// transaction under the symbol's write lock.
async fn write_symbol(
    db: &Database,
    symbol: &str,
    computed: &[(String, Vec<Trade>)],
) -> Result<Vec<SignalRefresh>, FeatureError> {
    let backend = db.backend();
    let rows_per_statement = talab_db::bulk::rows_per_statement(backend, COLUMNS.len());
    let now = Utc::now();
    let sql = format!("{SELECT} WHERE symbol = $1 AND signal_id = $2 ORDER BY ts");
    const TRADE_KEY: [&str; 3] = ["symbol", "signal_id", "ts"];
    let delete_per_statement = talab_db::bulk::rows_per_statement(backend, TRADE_KEY.len());
    let mut tx = Tx::begin_locked(db, &format!("talab signals {symbol}")).await?;
    let reports = on_tx!(&mut tx, c => async {
        let mut reports = Vec::with_capacity(computed.len());
        for (signal_id, trades) in computed {
            let stored: Vec<RowTuple> = sqlx::query_as(&sql)
                .bind(symbol)
                .bind(signal_id)
                .fetch_all(&mut **c)
                .await?;
            let mut stored: HashMap<DateTime<Utc>, Trade> = stored
                .into_iter()
                .map(|t| row_from_tuple(t).map(|r| (r.trade.entry_ts, r.trade)))
                .collect::<Result<_, _>>()?;
            let mut report = SignalRefresh {
                symbol: symbol.to_string(),
                signal_id: signal_id.clone(),
                bars: 0,
                trades: trades.len(),
                open: trades.iter().filter(|t| t.is_open()).count(),
                inserted: 0,
                updated: 0,
                deleted: 0,
                unchanged: 0,
            };
            let mut to_write = Vec::new();
            for t in trades {
                match stored.remove(&t.entry_ts) {
                    Some(old) if old == *t => report.unchanged += 1,
                    Some(_) => {
                        report.updated += 1;
                        to_write.push(t);
                    }
                    None => {
                        report.inserted += 1;
                        to_write.push(t);
                    }
                }
            }
            // Trades the new prices no longer produce: one statement per chunk, not per trade.
            let stale: Vec<DateTime<Utc>> = stored.into_keys().collect();
            for chunk in stale.chunks(delete_per_statement) {
                let stmt = talab_db::bulk::delete_keys_sql(backend, SIGNALS_TABLE, &TRADE_KEY, chunk.len());
                let mut q = sqlx::query(&stmt);
                for ts in chunk {
                    q = q.bind(symbol).bind(signal_id).bind(*ts);
                }
                report.deleted += q.execute(&mut **c).await?.rows_affected() as usize;
            }
            for chunk in to_write.chunks(rows_per_statement) {
                let stmt = upsert_sql(backend, chunk.len());
                let mut q = sqlx::query(&stmt);
                for t in chunk {
                    q = q
                        .bind(symbol)
                        .bind(t.entry_ts)
                        .bind(signal_id)
                        .bind(t.side.as_str())
                        .bind(t.entry_ts)
                        .bind(t.entry_price)
                        .bind(t.exit_ts)
                        .bind(t.exit_price)
                        .bind(t.pnl_pct())
                        .bind(if t.is_open() { "open" } else { "closed" })
                        .bind(t.bars_held)
                        .bind(Json(&t.snapshot))
                        .bind(now);
                }
                q.execute(&mut **c).await?;
            }
            reports.push(report);
        }
        Ok::<_, FeatureError>(reports)
    }
    .await)?;
    tx.commit().await?;
    Ok(reports)
}
