//! The EMA tables on either backend: `cmc_ema_multi_tf` (the `nD` family), `cmc_ema_multi_tf_cal`
//! (calendar families), `ema_rejects` and `cmc_ema_multi_tf_state`.
//!
//! Writes are bulk, never a round trip per row (spec §6): PostgreSQL gets `COPY … FROM STDIN` (the
//! refresh only ever inserts rows that do not exist yet: a rebuilt series is deleted first, an
//! extended one only adds days after its last one), SQLite gets multi-row `INSERT`s as large as its
//! parameter limit allows, inside the caller's single transaction.

use std::collections::HashMap;
use std::fmt::Write as _;
use talab_db::sqlx;

use chrono::{DateTime, NaiveDate, Utc};
use talab_db::bulk::{delete_keys_sql, push_rows, rows_per_statement};
use talab_db::copy::CopyIn;
use talab_db::sqlx::Row;
use talab_db::{Backend, Database, Tx, on_pool, on_tx};

use super::compute::{EmaReject, SavedState, SeriesAction, SeriesResult};
use super::multi_tf::MultiTfEmaState;
use super::series::Closes;
use crate::{FeatureError, Timeframe};

/// The table of the `tf_day` family.
pub const TF_DAY_TABLE: &str = "cmc_ema_multi_tf";
/// The table of the calendar families.
pub const CALENDAR_TABLE: &str = "cmc_ema_multi_tf_cal";
/// Values that failed validation.
pub const REJECTS_TABLE: &str = "ema_rejects";
pub(crate) const STATE_TABLE: &str = "cmc_ema_multi_tf_state";

const COLUMNS: &str = "symbol, computed_at, tf, ts, period, tf_days, roll, ema, ema_bar, d1, d2, d1_roll, d2_roll, is_partial_end";
/// Bind parameters per row (every column).
const PARAMS_PER_ROW: usize = 14;

/// The table a timeframe's EMAs live in.
pub fn table_for(tf: &Timeframe) -> &'static str {
    if tf.is_calendar() {
        CALENDAR_TABLE
    } else {
        TF_DAY_TABLE
    }
}

/// Every saved state of a symbol, by (tf code, period). A state this version cannot read is
/// treated as absent (its series is rebuilt), never trusted.
pub async fn load_states(
    tx: &mut Tx,
    symbol: &str,
) -> Result<HashMap<(String, usize), SavedState>, FeatureError> {
    let sql = format!(
        "SELECT tf, period, first_day, last_day, n_days, fingerprint, state FROM {STATE_TABLE} WHERE symbol = $1"
    );
    type StateRow = (String, i32, NaiveDate, NaiveDate, i64, i64, String);
    let rows: Vec<StateRow> = on_tx!(tx, c => sqlx::query_as(&sql).bind(symbol).fetch_all(&mut **c).await)?;
    let mut out = HashMap::with_capacity(rows.len());
    for (tf, period, first_day, last_day, n_days, fingerprint, state) in rows {
        let Ok(state) = serde_json::from_str::<MultiTfEmaState>(&state) else {
            tracing::warn!(
                symbol,
                tf,
                period,
                "unreadable EMA state; the series will be rebuilt"
            );
            continue;
        };
        let saved = SavedState {
            first_day,
            last_day,
            n_days,
            fingerprint,
            state,
        };
        out.insert((tf, period as usize), saved);
    }
    Ok(out)
}

/// Writes a symbol's results: deletes what rebuilt series replace, inserts the new rows and
/// rejects, saves the states. Returns the EMA rows written.
pub async fn write_results(
    tx: &mut Tx,
    symbol: &str,
    closes: &Closes,
    results: &[SeriesResult],
    computed_at: DateTime<Utc>,
) -> Result<u64, FeatureError> {
    // What rebuilt series replace: one DELETE per table, `(symbol, tf, period) IN (VALUES …)`.
    let rebuilt: Vec<&SeriesResult> = results
        .iter()
        .filter(|r| r.action == SeriesAction::Rebuilt)
        .collect();
    for table in [TF_DAY_TABLE, CALENDAR_TABLE, REJECTS_TABLE] {
        let of_table: Vec<&SeriesResult> = rebuilt
            .iter()
            .copied()
            .filter(|r| table == REJECTS_TABLE || table_for(&r.tf) == table)
            .collect();
        const KEY: [&str; 3] = ["symbol", "tf", "period"];
        for chunk in of_table.chunks(rows_per_statement(tx.backend(), KEY.len())) {
            let sql = delete_keys_sql(tx.backend(), table, &KEY, chunk.len());
            on_tx!(tx, c => {
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = q.bind(symbol).bind(&r.code).bind(r.period as i32);
                }
                q.execute(&mut **c).await.map(|_| ())
            })?;
        }
    }
    let mut written = 0;
    for table in [TF_DAY_TABLE, CALENDAR_TABLE] {
        let of_table: Vec<&SeriesResult> = results.iter().filter(|r| table_for(&r.tf) == table).collect();
        if of_table.iter().all(|r| r.rows.is_empty()) {
            continue;
        }
        written += match tx {
            Tx::Postgres(c) => copy_rows(c, table, symbol, closes, &of_table, computed_at).await?,
            Tx::Sqlite(_) => insert_rows(tx, table, symbol, closes, &of_table, computed_at).await?,
        };
    }
    write_rejects(tx, symbol, closes, results, computed_at).await?;
    put_states(tx, symbol, results, computed_at).await?;
    Ok(written)
}

/// `COPY` in text format, streamed in chunks of about a megabyte.
async fn copy_rows(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    table: &str,
    symbol: &str,
    closes: &Closes,
    results: &[&SeriesResult],
    computed_at: DateTime<Utc>,
) -> Result<u64, FeatureError> {
    let mut copy = CopyIn::start(tx, table, COLUMNS).await?;
    for r in results {
        for (i, row) in &r.rows {
            copy.text(symbol)
                .timestamp(computed_at)
                .text(&r.code)
                .timestamp(closes.ts[*i])
                .int(r.period as i64)
                .int(i64::from(r.tf_days))
                .bool(row.roll);
            for v in [
                Some(row.ema),
                Some(row.ema_bar),
                row.d1,
                row.d2,
                row.d1_roll,
                row.d2_roll,
            ] {
                copy.float(v);
            }
            copy.bool(row.roll);
            copy.end_row().await?;
        }
    }
    Ok(copy.finish().await?)
}

/// Multi-row `INSERT`s sized to SQLite's parameter limit.
async fn insert_rows(
    tx: &mut Tx,
    table: &str,
    symbol: &str,
    closes: &Closes,
    results: &[&SeriesResult],
    computed_at: DateTime<Utc>,
) -> Result<u64, FeatureError> {
    let rows: Vec<(&SeriesResult, usize, &super::multi_tf::MultiTfEmaRow)> = results
        .iter()
        .flat_map(|r| r.rows.iter().map(move |(i, row)| (*r, *i, row)))
        .collect();
    let per_stmt = rows_per_statement(tx.backend(), PARAMS_PER_ROW);
    let full_sql = insert_sql(table, per_stmt);
    let mut written = 0;
    for chunk in rows.chunks(per_stmt) {
        let sql = if chunk.len() == per_stmt {
            full_sql.clone()
        } else {
            insert_sql(table, chunk.len())
        };
        written += on_tx!(tx, c => {
            let mut q = sqlx::query(&sql);
            for (r, i, row) in chunk {
                q = q
                    .bind(symbol)
                    .bind(computed_at)
                    .bind(&r.code)
                    .bind(closes.ts[*i])
                    .bind(r.period as i32)
                    .bind(r.tf_days as i32)
                    .bind(row.roll)
                    .bind(row.ema)
                    .bind(row.ema_bar)
                    .bind(row.d1)
                    .bind(row.d2)
                    .bind(row.d1_roll)
                    .bind(row.d2_roll)
                    .bind(row.roll);
            }
            q.execute(&mut **c).await?.rows_affected()
        });
    }
    Ok(written)
}

/// `INSERT INTO table (…) VALUES (?,…), (?,…) …` for `n` rows (SQLite only: PostgreSQL gets COPY).
fn insert_sql(table: &str, n: usize) -> String {
    let mut sql = format!("INSERT INTO {table} ({COLUMNS}) VALUES ");
    push_rows(&mut sql, Backend::Sqlite, 1, PARAMS_PER_ROW, n);
    sql
}

async fn write_rejects(
    tx: &mut Tx,
    symbol: &str,
    closes: &Closes,
    results: &[SeriesResult],
    computed_at: DateTime<Utc>,
) -> Result<(), FeatureError> {
    const PER_ROW: usize = 9;
    let rejects: Vec<(&SeriesResult, &EmaReject)> = results
        .iter()
        .flat_map(|r| r.rejects.iter().map(move |rej| (r, rej)))
        .collect();
    for chunk in rejects.chunks(rows_per_statement(tx.backend(), PER_ROW)) {
        let mut sql = format!(
            "INSERT INTO {REJECTS_TABLE} (symbol, computed_at, tf, ts, period, column_name, value, reason, detail) VALUES "
        );
        push_rows(&mut sql, tx.backend(), 1, PER_ROW, chunk.len());
        sql.push_str(
            " ON CONFLICT (symbol, tf, ts, period, column_name) DO UPDATE SET value = excluded.value, \
             reason = excluded.reason, detail = excluded.detail, computed_at = excluded.computed_at",
        );
        on_tx!(tx, c => {
            let mut q = sqlx::query(&sql);
            for (r, rej) in chunk {
                q = q
                    .bind(symbol)
                    .bind(computed_at)
                    .bind(&r.code)
                    .bind(closes.ts[rej.index])
                    .bind(r.period as i32)
                    .bind(rej.column)
                    .bind(rej.value.is_finite().then_some(rej.value))
                    .bind(rej.reason.code())
                    .bind(&rej.detail);
            }
            q.execute(&mut **c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Upserts the states of the series that changed, in multi-row statements.
async fn put_states(
    tx: &mut Tx,
    symbol: &str,
    results: &[SeriesResult],
    now: DateTime<Utc>,
) -> Result<(), FeatureError> {
    let changed: Vec<(&SeriesResult, &SavedState, String)> = results
        .iter()
        .filter_map(|r| {
            let s = r.saved.as_ref()?;
            Some((r, s, serde_json::to_string(&s.state).ok()?))
        })
        .collect();
    for chunk in changed.chunks(rows_per_statement(tx.backend(), 9)) {
        let mut sql = format!(
            "INSERT INTO {STATE_TABLE} (symbol, updated_at, tf, period, first_day, last_day, n_days, fingerprint, state) VALUES "
        );
        push_rows(&mut sql, tx.backend(), 1, 9, chunk.len());
        sql.push_str(
            " ON CONFLICT (symbol, tf, period) DO UPDATE SET first_day = excluded.first_day, \
             last_day = excluded.last_day, n_days = excluded.n_days, fingerprint = excluded.fingerprint, \
             state = excluded.state, updated_at = excluded.updated_at",
        );
        on_tx!(tx, c => {
            let mut q = sqlx::query(&sql);
            for (r, s, json) in chunk {
                q = q
                    .bind(symbol)
                    .bind(now)
                    .bind(&r.code)
                    .bind(r.period as i32)
                    .bind(s.first_day)
                    .bind(s.last_day)
                    .bind(s.n_days)
                    .bind(s.fingerprint)
                    .bind(json);
            }
            q.execute(&mut **c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// One stored EMA row with every column (for `talab ema` and tests).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredEma {
    pub symbol: String,
    pub tf: String,
    pub day: NaiveDate,
    pub ts: DateTime<Utc>,
    pub period: u32,
    pub tf_days: u32,
    pub roll: bool,
    pub ema: f64,
    pub ema_bar: f64,
    pub d1: Option<f64>,
    pub d2: Option<f64>,
    pub d1_roll: Option<f64>,
    pub d2_roll: Option<f64>,
    pub is_partial_end: bool,
}

/// What to read back.
#[derive(Debug, Clone, Default)]
pub struct EmaQuery {
    pub symbol: String,
    /// Canonical timeframe codes; empty = every timeframe.
    pub tfs: Vec<String>,
    /// Empty = every period.
    pub periods: Vec<u32>,
    /// Inclusive day range (UTC days of `ts`).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Reads stored rows ordered by tf, period and day.
pub async fn read_emas(db: &Database, q: &EmaQuery) -> Result<Vec<StoredEma>, FeatureError> {
    let from = q.from.map(crate::day_start);
    let to = q.to.map(crate::day_end);
    // One query per asked timeframe (on its table), or one per table for all of them.
    let mut targets: Vec<(&str, Option<&str>)> = Vec::new();
    for code in &q.tfs {
        targets.push((table_for(&Timeframe::parse(code)?), Some(code.as_str())));
    }
    if q.tfs.is_empty() {
        targets = vec![(TF_DAY_TABLE, None), (CALENDAR_TABLE, None)];
    }
    // The asked periods, as `AND period IN ($5, …)`: only wanted rows leave the database.
    let mut periods = String::new();
    for (i, _) in q.periods.iter().enumerate() {
        let _ = write!(
            periods,
            "{}${}",
            if i == 0 { " AND period IN (" } else { "," },
            i + 5
        );
    }
    if !periods.is_empty() {
        periods.push(')');
    }
    let mut out = Vec::new();
    for (table, tf) in targets {
        let sql = format!(
            "SELECT tf, ts, period, tf_days, roll, ema, ema_bar, d1, d2, d1_roll, d2_roll, is_partial_end
             FROM {table} WHERE symbol = $1 AND ($2 IS NULL OR ts >= $2) AND ($3 IS NULL OR ts <= $3)
               AND ($4 IS NULL OR tf = $4){periods}"
        );
        let rows = on_pool!(db, pool => {
            let mut query = sqlx::query(&sql).bind(&q.symbol).bind(from).bind(to).bind(tf);
            for &p in &q.periods {
                query = query.bind(p as i32);
            }
            let rows = query.fetch_all(pool).await?;
            rows.iter().map(|r| stored_from_row(&q.symbol, r)).collect::<Result<Vec<_>, sqlx::Error>>()
        })?;
        out.extend(rows);
    }
    out.sort_by(|a, b| (&a.tf, a.period, a.ts).cmp(&(&b.tf, b.period, b.ts)));
    Ok(out)
}

fn stored_from_row<R: Row>(symbol: &str, r: &R) -> Result<StoredEma, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i32: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> f64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let ts: DateTime<Utc> = r.try_get(1)?;
    Ok(StoredEma {
        symbol: symbol.to_string(),
        tf: r.try_get(0)?,
        day: ts.date_naive(),
        ts,
        period: r.try_get::<i32, _>(2)? as u32,
        tf_days: r.try_get::<i32, _>(3)? as u32,
        roll: r.try_get(4)?,
        ema: r.try_get(5)?,
        ema_bar: r.try_get(6)?,
        d1: r.try_get(7)?,
        d2: r.try_get(8)?,
        d1_roll: r.try_get(9)?,
        d2_roll: r.try_get(10)?,
        is_partial_end: r.try_get(11)?,
    })
}
