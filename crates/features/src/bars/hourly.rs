//! Hourly bars (`cmc_price_bars_1h`): what intraday (`NH`) EMAs are computed from.
//!
//! Exchange sources deliver hourly candles; they are validated by the same rules as daily rows
//! ([`validate_row`]: a missing open or close, a non-finite or negative price or volume, two rows
//! for one hour are rejected; high and low are widened to cover open and close, flagged) and
//! stored in one transaction per load under the symbol's price lock, so a failed load changes
//! nothing. Like a daily series, an hourly series keeps one source: loading another is refused
//! unless the caller replaces the series. Unchanged hours are not rewritten.

use std::collections::HashMap;
use talab_db::sqlx;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use talab_db::{Database, Tx, on_pool, on_tx};

use crate::bars::daily::{RejectReason, validate_row};
use crate::load::{IngestReport, check_delivered, replaces_other_source};
use crate::prices::{RawPrice, SourceKind, Val, batches, bind_vals};
use crate::{FeatureError, MIGRATIONS, normalise_symbol};

/// The table of validated hourly bars.
pub const HOURLY_TABLE: &str = "cmc_price_bars_1h";

const COLUMNS: &[&str] = &[
    "symbol",
    "ts",
    "time_open",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "source",
    "repaired_high",
    "repaired_low",
    "ingested_at",
];

/// What is stored for one asset's hourly series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourlyCoverage {
    pub symbol: String,
    pub source: String,
    /// `ts` of the first and last stored hour.
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub rows: i64,
    /// Hours missing between the first and the last.
    pub gaps: i64,
}

/// Whether `ts` is an hour's last millisecond.
pub fn is_hour_end(ts: DateTime<Utc>) -> bool {
    ts.timestamp_millis().rem_euclid(3_600_000) == 3_599_999
}

/// The coverage of every asset's hourly series (or of one), by symbol.
pub async fn hourly_coverage(
    db: &Database,
    symbol: Option<&str>,
) -> Result<Vec<HourlyCoverage>, FeatureError> {
    db.migrate(&MIGRATIONS).await?;
    let symbol = symbol.map(normalise_symbol).transpose()?;
    coverage_of(db, symbol.as_deref()).await
}

/// [`hourly_coverage`] of a normalised symbol (or all), on a migrated database.
async fn coverage_of(db: &Database, symbol: Option<&str>) -> Result<Vec<HourlyCoverage>, FeatureError> {
    type Row = (String, DateTime<Utc>, DateTime<Utc>, i64, String);
    let rows: Vec<Row> = on_pool!(db, pool => {
        sqlx::query_as(&format!(
            "SELECT symbol, MIN(ts), MAX(ts), COUNT(*), MIN(source) FROM {HOURLY_TABLE} \
             WHERE ($1 IS NULL OR symbol = $1) GROUP BY symbol ORDER BY symbol"
        ))
        .bind(symbol)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(symbol, first, last, rows, source)| HourlyCoverage {
            gaps: (last - first).num_hours() + 1 - rows,
            symbol,
            source,
            first,
            last,
            rows,
        })
        .collect())
}

/// Validates and stores hourly candles of one symbol (all of that symbol and source) in one
/// transaction. The report counts hours: `bars` is the stored series' length, `gaps` its missing
/// hours, `bar_rejects` the candles of this load that failed validation (not stored; each reason
/// is logged as a warning).
pub async fn store_hourly(
    db: &Database,
    symbol: &str,
    source: SourceKind,
    rows: Vec<RawPrice>,
    replace: bool,
) -> Result<IngestReport, FeatureError> {
    db.migrate(&MIGRATIONS).await?;
    let symbol = normalise_symbol(symbol)?;
    check_delivered(&symbol, source, &rows)?;
    let mut per_hour: HashMap<DateTime<Utc>, usize> = HashMap::new();
    for r in &rows {
        if !is_hour_end(r.ts) {
            return Err(FeatureError::Source {
                source_name: source.to_string(),
                reason: format!(
                    "{symbol} {}: not an hourly candle (ts is not an hour's last millisecond)",
                    r.ts
                ),
            });
        }
        *per_hour.entry(r.ts).or_default() += 1;
    }
    let mut good = Vec::with_capacity(rows.len());
    let mut rejected = 0;
    for r in &rows {
        let checked = if per_hour[&r.ts] > 1 {
            Err((
                RejectReason::DuplicateDay,
                format!("{} candles for {symbol} {}", per_hour[&r.ts], r.ts),
            ))
        } else {
            validate_row(r)
        };
        match checked {
            Ok(v) => good.push(v),
            Err((reason, detail)) => {
                rejected += 1;
                tracing::warn!(%symbol, ts = %r.ts, reason = reason.code(), detail, "hourly candle rejected");
            }
        }
    }

    let mut tx = Tx::begin_locked(db, &format!("talab prices {symbol}")).await?;
    let counts = on_tx!(&mut tx, c => async {
        let sources: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT source, COUNT(*) FROM {HOURLY_TABLE} WHERE symbol = $1 GROUP BY source ORDER BY source"
        ))
        .bind(&symbol)
        .fetch_all(&mut **c)
        .await?;
        if replaces_other_source(&symbol, source, &sources, replace)? {
            sqlx::query(&format!("DELETE FROM {HOURLY_TABLE} WHERE symbol = $1"))
                .bind(&symbol)
                .execute(&mut **c)
                .await?;
        }
        let (first, last) = match (good.iter().map(|v| v.bar.time_close).min(), good.iter().map(|v| v.bar.time_close).max()) {
            (Some(f), Some(l)) => (f, l),
            _ => return Ok((0, 0, 0)),
        };
        type Stored = (DateTime<Utc>, f64, f64, f64, f64, f64);
        let stored: Vec<Stored> = sqlx::query_as(&format!(
            "SELECT ts, open, high, low, close, volume FROM {HOURLY_TABLE} WHERE symbol = $1 AND ts >= $2 AND ts <= $3"
        ))
        .bind(&symbol)
        .bind(first)
        .bind(last)
        .fetch_all(&mut **c)
        .await?;
        // What an hour holds, bit for bit: a candle equal to the stored one is not rewritten.
        let bits = |o: f64, h: f64, l: f64, c: f64, v: f64| [o, h, l, c, v].map(f64::to_bits);
        let stored: HashMap<DateTime<Utc>, [u64; 5]> = stored
            .into_iter()
            .map(|(ts, o, h, l, c, v)| (ts, bits(o, h, l, c, v)))
            .collect();
        let now = Utc::now();
        let (mut inserted, mut updated, mut unchanged) = (0, 0, 0);
        let mut vals = Vec::new();
        for v in &good {
            let b = &v.bar;
            match stored.get(&b.time_close) {
                Some(old) if *old == bits(b.open, b.high, b.low, b.close, b.volume) => {
                    unchanged += 1;
                    continue;
                }
                Some(_) => updated += 1,
                None => inserted += 1,
            }
            vals.extend([
                Val::Text(Some(symbol.clone())),
                Val::Time(Some(b.time_close)),
                Val::Time(Some(b.time_open)),
                Val::Float(Some(b.open)),
                Val::Float(Some(b.high)),
                Val::Float(Some(b.low)),
                Val::Float(Some(b.close)),
                Val::Float(Some(b.volume)),
                Val::Text(Some(source.as_str().into())),
                Val::Bool(v.repairs.high),
                Val::Bool(v.repairs.low),
                Val::Time(Some(now)),
            ]);
        }
        let sets: Vec<String> = COLUMNS[2..].iter().map(|c| format!("{c} = excluded.{c}")).collect();
        let upsert = format!("ON CONFLICT (symbol, ts) DO UPDATE SET {}", sets.join(", "));
        for (sql, vals) in batches(db.backend(), HOURLY_TABLE, COLUMNS, &upsert, vals) {
            bind_vals!(sqlx::query(&sql), &vals).execute(&mut **c).await?;
        }
        Ok::<_, FeatureError>((inserted, updated, unchanged))
    }
    .await)?;
    tx.commit().await?;
    let (inserted, updated, unchanged) = counts;
    let coverage = coverage_of(db, Some(&symbol)).await?.into_iter().next();
    Ok(IngestReport {
        symbol,
        source,
        file: None,
        rows_read: rows.len(),
        inserted,
        updated,
        unchanged,
        rejected: 0,
        bars: coverage.as_ref().map_or(0, |c| c.rows as usize),
        bar_rejects: rejected,
        first_day: coverage.as_ref().map(|c| c.first.date_naive()),
        last_day: coverage.as_ref().map(|c| c.last.date_naive()),
        gaps: coverage.as_ref().map_or(0, |c| c.gaps as usize),
    })
}

/// The next hour to fetch after a stored series ending at `last` (an hour's last millisecond).
pub fn next_hour(last: DateTime<Utc>) -> DateTime<Utc> {
    last + Duration::milliseconds(1)
}
