//! Writing snapshot bars: `cmc_price_bars_multi_tf` (the `nD` family) and `cmc_price_bars_multi_tf_cal`
//! (calendar families), one transaction per symbol, in bulk (never a round trip per row): `COPY`
//! on PostgreSQL, multi-row upserts on SQLite; and incremental appends that are proven equal to a
//! full rebuild.
//!
//! Each (symbol, tf) keeps a state row: the first and last daily bar it was built from, how many,
//! and a fingerprint of them. [`extend_asset`] appends when the stored days are unchanged and
//! otherwise (a revised or back-filled day, a new first day) rebuilds that timeframe from scratch.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use talab_db::bulk::{push_rows, rows_per_statement};
use talab_db::copy::CopyIn;
use talab_db::sqlx;
use talab_db::sqlx::Row;
use talab_db::{Backend, Database, Tx, on_tx};

use super::snapshot::{MultiTfBar, SnapshotBuilder, build_snapshots_into};
use crate::{DailyBar, FeatureError, Timeframe, normalise_symbol};

/// The table of the `tf_day` family.
pub const TF_DAY_TABLE: &str = "cmc_price_bars_multi_tf";
/// The table of the calendar families.
pub const CALENDAR_TABLE: &str = "cmc_price_bars_multi_tf_cal";
const STATE_TABLE: &str = "cmc_price_bars_multi_tf_state";

/// Bind parameters per row (every column).
const PARAMS_PER_ROW: usize = 18;

const COLUMNS: &str = "symbol, tf, ts, day, bar_seq, pos_in_bar, time_open, open, high, low, close, volume, \
                       time_high, time_low, count_days, count_missing_days, is_partial_start, is_partial_end";

/// The table a timeframe's bars live in.
pub fn table_for(tf: &Timeframe) -> &'static str {
    if tf.is_calendar() {
        CALENDAR_TABLE
    } else {
        TF_DAY_TABLE
    }
}

/// What a write did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BarWriteSummary {
    /// Rows inserted or replaced.
    pub rows_written: u64,
    /// Timeframes rebuilt from scratch (no state, changed history, or asked for).
    pub rebuilt: Vec<String>,
    /// Timeframes extended from their stored state (possibly by zero days).
    pub extended: Vec<String>,
}

/// A fingerprint of daily bars (FNV-1a over every field bars are built from), so an append can
/// tell that the days it continues from are the days the stored rows were built from.
pub fn fingerprint(bars: &[DailyBar]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |x: u64| {
        for b in x.to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    let t = |t: &DateTime<Utc>| t.timestamp_micros() as u64;
    for b in bars {
        eat(i64::from(b.day.num_days_from_ce()) as u64);
        for x in [t(&b.time_open), t(&b.time_close), t(&b.time_high), t(&b.time_low)] {
            eat(x);
        }
        for x in [b.open, b.high, b.low, b.close, b.volume] {
            eat(x.to_bits());
        }
    }
    h as i64
}

/// Deletes and rebuilds the bars of `tfs` for one asset from its full daily series, in one
/// transaction.
pub async fn rebuild_asset(
    db: &Database,
    symbol: &str,
    bars: &[DailyBar],
    tfs: &[Timeframe],
) -> Result<BarWriteSummary, FeatureError> {
    write_asset(db, symbol, bars, tfs, true).await
}

/// Brings the bars of `tfs` up to date with the asset's full daily series `bars`, in one
/// transaction: days after the stored ones are appended from the stored state; a timeframe whose
/// stored days were revised, back-filled or never built is rebuilt. The result is always the same
/// as [`rebuild_asset`]. An empty series removes the asset's bars of `tfs`.
pub async fn extend_asset(
    db: &Database,
    symbol: &str,
    bars: &[DailyBar],
    tfs: &[Timeframe],
) -> Result<BarWriteSummary, FeatureError> {
    write_asset(db, symbol, bars, tfs, false).await
}

/// Every stored row of (symbol, tf), by day.
pub async fn load_bars(db: &Database, symbol: &str, tf: &Timeframe) -> Result<Vec<MultiTfBar>, FeatureError> {
    let symbol = normalise_symbol(symbol)?;
    let mut conn = Conn::begin(db, None).await?;
    Ok(conn.rows(&symbol, tf, false).await?)
}

struct State {
    first_day: NaiveDate,
    last_day: NaiveDate,
    n_days: i64,
    fingerprint: i64,
}

async fn write_asset(
    db: &Database,
    symbol: &str,
    bars: &[DailyBar],
    tfs: &[Timeframe],
    force_rebuild: bool,
) -> Result<BarWriteSummary, FeatureError> {
    let symbol = normalise_symbol(symbol)?;
    if let Some(w) = bars.windows(2).find(|w| w[1].day <= w[0].day) {
        return Err(FeatureError::UnsortedBars {
            previous: w[0].day,
            day: w[1].day,
        });
    }
    // On any error (or if this future is dropped) the transaction rolls back: all or nothing.
    let mut conn = Conn::begin(db, Some(&symbol)).await?;
    let summary = write_in_tx(&mut conn, &symbol, bars, tfs, force_rebuild).await?;
    conn.commit().await?;
    Ok(summary)
}

async fn write_in_tx(
    conn: &mut Conn,
    symbol: &str,
    bars: &[DailyBar],
    tfs: &[Timeframe],
    force_rebuild: bool,
) -> Result<BarWriteSummary, FeatureError> {
    let mut summary = BarWriteSummary::default();
    let mut rows = Vec::with_capacity(bars.len());
    let fp_all = fingerprint(bars);
    // Fingerprints of prefixes, by length: most timeframes were built up to the same day.
    let mut prefix_fps: Vec<(usize, i64)> = vec![(bars.len(), fp_all)];
    for tf in tfs {
        rows.clear();
        let code = tf.code();
        let state = if force_rebuild {
            None
        } else {
            conn.state(symbol, &code).await?
        };
        let resumed = match (&state, bars.first()) {
            (Some(s), Some(first)) if s.first_day == first.day => {
                let done = bars.partition_point(|b| b.day <= s.last_day);
                let fp = match prefix_fps.iter().find(|(n, _)| *n == done) {
                    Some(&(_, fp)) => fp,
                    None => {
                        let fp = fingerprint(&bars[..done]);
                        prefix_fps.push((done, fp));
                        fp
                    }
                };
                if done as i64 == s.n_days && fp == s.fingerprint {
                    let last = conn.rows(symbol, tf, true).await?.pop();
                    let last = last.filter(|r| r.day == s.last_day);
                    SnapshotBuilder::resume(*tf, first.day, s.last_day, last.as_ref())
                        .ok()
                        .map(|b| (b, done))
                } else {
                    None
                }
            }
            _ => None,
        };
        match resumed {
            Some((mut builder, done)) => {
                builder.push_all(&bars[done..], &mut rows)?;
                summary.extended.push(code.clone());
            }
            None => {
                conn.delete(symbol, tf).await?;
                build_snapshots_into(*tf, bars, &mut rows)?;
                summary.rebuilt.push(code.clone());
            }
        }
        summary.rows_written += conn.write(symbol, table_for(tf), &code, &rows).await?;
        match (bars.first(), bars.last()) {
            (Some(first), Some(last)) => {
                let state = State {
                    first_day: first.day,
                    last_day: last.day,
                    n_days: bars.len() as i64,
                    fingerprint: fp_all,
                };
                conn.put_state(symbol, &code, &state).await?;
            }
            _ => conn.clear_state(symbol, &code).await?,
        }
    }
    Ok(summary)
}

/// This module's queries on one transaction (see [`Tx`]).
struct Conn(Tx);

impl Conn {
    /// Starts a transaction. With a symbol to write, it holds that symbol's write lock from the
    /// start, so two writers of one symbol queue up instead of interleaving.
    async fn begin(db: &Database, writing: Option<&str>) -> Result<Self, talab_db::DbError> {
        Ok(Conn(match writing {
            Some(symbol) => Tx::begin_locked(db, &format!("talab bars {symbol}")).await?,
            None => Tx::begin(db).await?,
        }))
    }

    async fn commit(self) -> Result<(), sqlx::Error> {
        self.0.commit().await
    }

    async fn state(&mut self, symbol: &str, tf: &str) -> Result<Option<State>, sqlx::Error> {
        let sql = format!(
            "SELECT first_day, last_day, n_days, fingerprint FROM {STATE_TABLE} WHERE symbol = $1 AND tf = $2"
        );
        let row: Option<(NaiveDate, NaiveDate, i64, i64)> = on_tx!(&mut self.0, c => {
            sqlx::query_as(&sql).bind(symbol).bind(tf).fetch_optional(&mut **c).await
        })?;
        Ok(row.map(|(first_day, last_day, n_days, fingerprint)| State {
            first_day,
            last_day,
            n_days,
            fingerprint,
        }))
    }

    async fn put_state(&mut self, symbol: &str, tf: &str, s: &State) -> Result<(), sqlx::Error> {
        let sql = format!(
            "INSERT INTO {STATE_TABLE} (symbol, tf, first_day, last_day, n_days, fingerprint)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (symbol, tf) DO UPDATE SET first_day = excluded.first_day,
               last_day = excluded.last_day, n_days = excluded.n_days, fingerprint = excluded.fingerprint"
        );
        on_tx!(&mut self.0, c => {
            sqlx::query(&sql)
                .bind(symbol)
                .bind(tf)
                .bind(s.first_day)
                .bind(s.last_day)
                .bind(s.n_days)
                .bind(s.fingerprint)
                .execute(&mut **c)
                .await
                .map(|_| ())
        })
    }

    async fn clear_state(&mut self, symbol: &str, tf: &str) -> Result<(), sqlx::Error> {
        let sql = format!("DELETE FROM {STATE_TABLE} WHERE symbol = $1 AND tf = $2");
        on_tx!(&mut self.0, c => sqlx::query(&sql).bind(symbol).bind(tf).execute(&mut **c).await.map(|_| ()))
    }

    async fn delete(&mut self, symbol: &str, tf: &Timeframe) -> Result<(), sqlx::Error> {
        let sql = format!("DELETE FROM {} WHERE symbol = $1 AND tf = $2", table_for(tf));
        let code = tf.code();
        on_tx!(&mut self.0, c => sqlx::query(&sql).bind(symbol).bind(&code).execute(&mut **c).await.map(|_| ()))
    }

    /// The stored rows of (symbol, tf) by day, or only the last one.
    async fn rows(
        &mut self,
        symbol: &str,
        tf: &Timeframe,
        last_only: bool,
    ) -> Result<Vec<MultiTfBar>, sqlx::Error> {
        let order = if last_only { "ts DESC LIMIT 1" } else { "ts" };
        let sql = format!(
            "SELECT day, ts, bar_seq, pos_in_bar, time_open, open, high, low, close, volume, time_high, time_low,
                    count_days, count_missing_days, is_partial_start, is_partial_end
             FROM {} WHERE symbol = $1 AND tf = $2 ORDER BY {order}",
            table_for(tf)
        );
        let code = tf.code();
        on_tx!(&mut self.0, c => {
            let rows = sqlx::query(&sql).bind(symbol).bind(&code).fetch_all(&mut **c).await?;
            rows.iter()
                .map(|r| {
                    Ok(MultiTfBar {
                        tf: *tf,
                        day: r.try_get(0)?,
                        time_close: r.try_get(1)?,
                        bar_seq: r.try_get(2)?,
                        pos_in_bar: r.try_get(3)?,
                        time_open: r.try_get(4)?,
                        open: r.try_get(5)?,
                        high: r.try_get(6)?,
                        low: r.try_get(7)?,
                        close: r.try_get(8)?,
                        volume: r.try_get(9)?,
                        time_high: r.try_get(10)?,
                        time_low: r.try_get(11)?,
                        count_days: r.try_get(12)?,
                        count_missing_days: r.try_get(13)?,
                        is_partial_start: r.try_get(14)?,
                        is_partial_end: r.try_get(15)?,
                    })
                })
                .collect()
        })
    }

    /// Writes rows that are not stored yet (a rebuilt series was deleted first; an extended one
    /// only adds days after its last): COPY on PostgreSQL (a conflict fails the transaction
    /// instead of hiding a bug), the multi-row upsert on SQLite.
    async fn write(
        &mut self,
        symbol: &str,
        table: &str,
        tf: &str,
        rows: &[MultiTfBar],
    ) -> Result<u64, sqlx::Error> {
        let Tx::Postgres(c) = &mut self.0 else {
            return self.upsert(symbol, table, tf, rows).await;
        };
        if rows.is_empty() {
            return Ok(0);
        }
        let mut copy = CopyIn::start(c, table, COLUMNS).await?;
        for r in rows {
            copy.text(symbol)
                .text(tf)
                .timestamp(r.time_close)
                .date(r.day)
                .int(r.bar_seq)
                .int(r.pos_in_bar)
                .timestamp(r.time_open);
            for v in [r.open, r.high, r.low, r.close, r.volume] {
                copy.float(Some(v));
            }
            copy.timestamp(r.time_high)
                .timestamp(r.time_low)
                .int(r.count_days)
                .int(r.count_missing_days)
                .bool(r.is_partial_start)
                .bool(r.is_partial_end);
            copy.end_row().await?;
        }
        copy.finish().await
    }

    /// Upserts rows of one table in multi-row statements sized to the backend's parameter limit.
    async fn upsert(
        &mut self,
        symbol: &str,
        table: &str,
        tf: &str,
        rows: &[MultiTfBar],
    ) -> Result<u64, sqlx::Error> {
        let backend = self.0.backend();
        let per_stmt = rows_per_statement(backend, PARAMS_PER_ROW);
        let mut full_sql = None;
        let mut written = 0;
        for chunk in rows.chunks(per_stmt) {
            let sql = if chunk.len() == per_stmt {
                full_sql
                    .get_or_insert_with(|| upsert_sql(backend, table, per_stmt))
                    .clone()
            } else {
                upsert_sql(backend, table, chunk.len())
            };
            written += on_tx!(&mut self.0, c => {
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = q
                        .bind(symbol)
                        .bind(tf)
                        .bind(r.time_close)
                        .bind(r.day)
                        .bind(r.bar_seq)
                        .bind(r.pos_in_bar)
                        .bind(r.time_open)
                        .bind(r.open)
                        .bind(r.high)
                        .bind(r.low)
                        .bind(r.close)
                        .bind(r.volume)
                        .bind(r.time_high)
                        .bind(r.time_low)
                        .bind(r.count_days)
                        .bind(r.count_missing_days)
                        .bind(r.is_partial_start)
                        .bind(r.is_partial_end);
                }
                q.execute(&mut **c).await?.rows_affected()
            });
        }
        Ok(written)
    }
}

/// `INSERT … VALUES (…), (…) … ON CONFLICT (symbol, tf, ts) DO UPDATE …` for `n` rows.
fn upsert_sql(backend: Backend, table: &str, n: usize) -> String {
    let mut sql = format!("INSERT INTO {table} ({COLUMNS}) VALUES ");
    push_rows(&mut sql, backend, 1, PARAMS_PER_ROW, n);
    sql.push_str(" ON CONFLICT (symbol, tf, ts) DO UPDATE SET ");
    let updates: Vec<String> = COLUMNS
        .split(", ")
        .skip(3)
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    sql.push_str(&updates.join(", "));
    sql
}
