//! Loading raw prices: one asset's rows go in with its 1D bars rebuilt, in ONE transaction, so a
//! failed or refused load leaves the database exactly as it was.
//!
//! Rows are compared with what is stored: unchanged rows are not written (re-loading a file changes
//! nothing), revised days are updated, new days inserted, all in multi-row batches. A series keeps
//! one source: loading another is refused unless the caller asks to replace the series.

use std::collections::HashMap;
use std::path::Path;
use talab_db::sqlx;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use talab_db::{Backend, Database, Tx, on_pool, on_tx};

use crate::bars::daily::{BAR_COLUMNS, REJECT_COLUMNS, bar_values, reject_values, validate_daily};
use crate::bars::hourly::store_hourly;
pub use crate::load::IngestReport;
use crate::load::{check_delivered, replaces_other_source};
use crate::prices::{
    RAW_COLUMNS, RawPrice, SourceKind, Val, batches, bind_vals, fetch_raw, raw_from_tuple, raw_upsert_clause,
    raw_values,
};
use crate::sources::{BadCsvRow, CsvFormat, Interval, SyntheticSource, parse_csv_file_of};
use crate::{FeatureError, MIGRATIONS, normalise_symbol};

/// How to load a CSV file.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// The asset; None takes it from the file's Symbol column or its CoinMarketCap name.
    pub symbol: Option<String>,
    /// The layout; None detects it from the header.
    pub format: Option<CsvFormat>,
    /// Load the good rows and record the bad ones instead of rejecting the file.
    pub skip_bad_rows: bool,
    /// Replace a series that came from another source instead of refusing.
    pub replace: bool,
    /// Daily rows (raw prices and 1D bars) or hourly rows (hourly bars, for intraday EMAs; a
    /// plain OHLCV file whose time column holds each hour's start).
    pub interval: Interval,
}

/// What is stored for one asset (for `talab assets`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub symbol: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub rows: i64,
    /// Days missing between the first and the last day.
    pub gaps: i64,
    pub source: String,
}

/// Loads a CSV file (CoinMarketCap export or plain OHLCV) and rebuilds the asset's 1D bars.
///
/// A row that cannot be parsed rejects the whole file (`file:line: column: reason`) and nothing is
/// written, unless `skip_bad_rows`; a day that appears twice is always an error naming both lines.
pub async fn ingest_csv(
    db: &Database,
    path: &Path,
    options: &IngestOptions,
) -> Result<IngestReport, FeatureError> {
    db.migrate(&MIGRATIONS).await?;
    let parsed = parse_csv_file_of(path, options.format, options.symbol.as_deref(), options.interval)?;
    if !options.skip_bad_rows
        && let Some(e) = parsed.first_error()
    {
        return Err(e);
    }
    let no_rows = |reason: &str| FeatureError::PriceFile {
        file: parsed.file.clone(),
        reason: reason.into(),
    };
    let Some(first) = parsed.rows.first() else {
        return Err(no_rows("no usable data rows"));
    };
    let symbol = match &first.price.symbol {
        s if !s.is_empty() => s.clone(),
        _ => symbol_by_name(db, parsed.name.as_deref()).await?.ok_or_else(|| {
            no_rows("the file names no symbol (no Symbol column, no known name); give the symbol")
        })?,
    };
    let rows: Vec<RawPrice> = parsed
        .rows
        .iter()
        .map(|r| RawPrice {
            symbol: symbol.clone(),
            ..r.price.clone()
        })
        .collect();
    if options.interval == Interval::Hour {
        // Bad rows (with skip_bad_rows) are counted; hourly bars have no rejects table.
        let mut report = store_hourly(db, &symbol, parsed.format.source(), rows, options.replace).await?;
        report.file = Some(parsed.file.clone());
        report.rejected = parsed.bad.len();
        report.rows_read = parsed.rows.len() + parsed.bad.len();
        return Ok(report);
    }
    let load = Load {
        symbol,
        source: parsed.format.source(),
        file: Some(parsed.file.clone()),
        name: parsed.name.clone(),
        bad: parsed.bad.clone(),
        replace: options.replace,
    };
    let mut report = write_series(db, &load, rows).await?;
    report.rows_read = parsed.rows.len() + parsed.bad.len();
    Ok(report)
}

/// Loads rows that a source delivered for one symbol (all rows must be of that symbol and source)
/// and rebuilds the asset's 1D bars.
pub async fn ingest_rows(
    db: &Database,
    symbol: &str,
    source: SourceKind,
    rows: Vec<RawPrice>,
    replace: bool,
) -> Result<IngestReport, FeatureError> {
    db.migrate(&MIGRATIONS).await?;
    let symbol = normalise_symbol(symbol)?;
    check_delivered(&symbol, source, &rows)?;
    let rows_read = rows.len();
    let load = Load {
        symbol,
        source,
        file: None,
        name: None,
        bad: Vec::new(),
        replace,
    };
    let mut report = write_series(db, &load, rows).await?;
    report.rows_read = rows_read;
    Ok(report)
}

/// Generates and loads `days` synthetic days for each symbol (one transaction per symbol).
pub async fn ingest_synthetic(
    db: &Database,
    source: &SyntheticSource,
    symbols: &[String],
    days: usize,
    replace: bool,
) -> Result<Vec<IngestReport>, FeatureError> {
    let mut reports = Vec::with_capacity(symbols.len());
    for symbol in symbols {
        let rows = source.series(symbol, days)?;
        reports.push(ingest_rows(db, symbol, SourceKind::Synthetic, rows, replace).await?);
    }
    Ok(reports)
}

/// First/last day, rows, gaps and source of every asset with raw prices, by symbol.
pub async fn coverage(db: &Database) -> Result<Vec<Coverage>, FeatureError> {
    db.migrate(&MIGRATIONS).await?;
    type Row = (String, DateTime<Utc>, DateTime<Utc>, i64, String);
    let rows: Vec<Row> = on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT symbol, MIN(ts), MAX(ts), COUNT(*), MIN(source) || CASE WHEN COUNT(DISTINCT source) > 1 \
             THEN '+' ELSE '' END FROM cmc_price_histories GROUP BY symbol ORDER BY symbol",
        )
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(symbol, first, last, rows, source)| {
            let (first_day, last_day) = (first.date_naive(), last.date_naive());
            Coverage {
                gaps: (last_day - first_day).num_days() + 1 - rows,
                symbol,
                first_day,
                last_day,
                rows,
                source,
            }
        })
        .collect())
}

/// The symbol of the asset whose display name is `name` (any case), if one is known.
async fn symbol_by_name(db: &Database, name: Option<&str>) -> Result<Option<String>, FeatureError> {
    let Some(name) = name else { return Ok(None) };
    Ok(on_pool!(db, pool => {
        sqlx::query_scalar("SELECT symbol FROM dim_assets WHERE lower(name) = lower($1) ORDER BY symbol")
            .bind(name)
            .fetch_optional(pool)
            .await
    })?)
}

/// One series to write.
struct Load {
    symbol: String,
    source: SourceKind,
    file: Option<String>,
    name: Option<String>,
    bad: Vec<BadCsvRow>,
    replace: bool,
}

/// The statements one load runs, decided from what is stored.
struct Plan {
    /// Delete the series first (replacing another source).
    wipe: bool,
    statements: Vec<(String, Vec<Val>)>,
    report: IngestReport,
}

async fn write_series(db: &Database, load: &Load, rows: Vec<RawPrice>) -> Result<IngestReport, FeatureError> {
    let backend = db.backend();
    let symbol = load.symbol.as_str();
    // Two loads of one symbol at once queue up instead of interleaving (and, on SQLite, the
    // write lock is held from the first read, so the diff below cannot go stale).
    let mut tx = Tx::begin_locked(db, &format!("talab prices {symbol}")).await?;
    let report = on_tx!(&mut tx, c => async {
        let sources: Vec<(String, i64)> = sqlx::query_as(
            "SELECT source, COUNT(*) FROM cmc_price_histories WHERE symbol = $1 GROUP BY source ORDER BY source",
        )
        .bind(symbol)
        .fetch_all(&mut **c)
        .await?;
        let stored = fetch_raw!(&mut **c, symbol);
        let stored = stored.into_iter().map(raw_from_tuple).collect::<Result<Vec<_>, _>>()?;
        let plan = plan(backend, load, &sources, stored, rows)?;
        sqlx::query("INSERT INTO dim_assets (symbol, name) VALUES ($1, $2) ON CONFLICT (symbol) DO NOTHING")
            .bind(symbol)
            .bind(load.name.as_deref().unwrap_or(symbol))
            .execute(&mut **c)
            .await?;
        if plan.wipe {
            for table in ["cmc_price_histories", "cmc_price_bars_1d", "cmc_price_bars_1d_rejects"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE symbol = $1"))
                    .bind(symbol)
                    .execute(&mut **c)
                    .await?;
            }
        }
        for (sql, vals) in &plan.statements {
            bind_vals!(sqlx::query(sql), vals).execute(&mut **c).await?;
        }
        Ok::<_, FeatureError>(plan.report)
    }
    .await)?;
    tx.commit().await?;
    Ok(report)
}

/// Decides what to write: refuses a second source, diffs against the stored rows, and (when
/// anything changed) rebuilds the 1D bars of the merged series.
fn plan(
    backend: Backend,
    load: &Load,
    sources: &[(String, i64)],
    stored: Vec<RawPrice>,
    rows: Vec<RawPrice>,
) -> Result<Plan, FeatureError> {
    let symbol = load.symbol.as_str();
    let wipe = replaces_other_source(symbol, load.source, sources, load.replace)?;
    let mut merged: HashMap<DateTime<Utc>, RawPrice> = if wipe {
        HashMap::new()
    } else {
        stored.into_iter().map(|r| (r.ts, r)).collect()
    };
    let now = Utc::now();
    let (mut inserted, mut updated, mut unchanged) = (0, 0, 0);
    let mut changed = Vec::new();
    // Stored days this load would change that another file delivered (file → days).
    let mut from_other_files: std::collections::BTreeMap<String, usize> = Default::default();
    for row in rows {
        match merged.get(&row.ts) {
            Some(old) if old.same_data(&row) => unchanged += 1,
            Some(old) => {
                if let (Some(file), Some(old_file)) = (&load.file, &old.source_file)
                    && file != old_file
                {
                    *from_other_files.entry(old_file.clone()).or_default() += 1;
                }
                updated += 1;
                changed.extend(raw_values(&row, now));
                merged.insert(row.ts, row);
            }
            None => {
                inserted += 1;
                changed.extend(raw_values(&row, now));
                merged.insert(row.ts, row);
            }
        }
    }
    if !from_other_files.is_empty() && !load.replace {
        return Err(FeatureError::ChangesAnotherFile {
            symbol: symbol.into(),
            file: load.file.clone().unwrap_or_default(),
            others: from_other_files.into_iter().collect(),
        });
    }
    let batches = |table: &str, columns: &[&str], on_conflict: &str, vals: Vec<Val>| {
        batches(backend, table, columns, on_conflict, vals)
    };
    let mut statements = batches("cmc_price_histories", RAW_COLUMNS, &raw_upsert_clause(), changed);
    let rejected = record_bad_rows(backend, load, now, &mut statements);

    let all: Vec<RawPrice> = merged.into_values().collect();
    let (bars, bar_rejects) = validate_daily(&all);
    if inserted + updated > 0 || wipe {
        for table in ["cmc_price_bars_1d", "cmc_price_bars_1d_rejects"] {
            let sql = format!("DELETE FROM {table} WHERE symbol = $1");
            statements.push((sql, vec![Val::Text(Some(symbol.into()))]));
        }
        let vals = bars.iter().flat_map(bar_values).collect();
        statements.extend(batches("cmc_price_bars_1d", BAR_COLUMNS, "", vals));
        let vals = bar_rejects.iter().flat_map(reject_values).collect();
        statements.extend(batches("cmc_price_bars_1d_rejects", REJECT_COLUMNS, "", vals));
    }
    let first_day = all.iter().map(RawPrice::day).min();
    let last_day = all.iter().map(RawPrice::day).max();
    let span = match (first_day, last_day) {
        (Some(f), Some(l)) => (l - f).num_days() as usize + 1,
        _ => 0,
    };
    let distinct_days = all
        .iter()
        .map(RawPrice::day)
        .collect::<std::collections::HashSet<_>>()
        .len();
    Ok(Plan {
        wipe,
        statements,
        report: IngestReport {
            symbol: symbol.into(),
            source: load.source,
            file: load.file.clone(),
            rows_read: 0,
            inserted,
            updated,
            unchanged,
            rejected,
            bars: bars.len(),
            bar_rejects: bar_rejects.len(),
            first_day,
            last_day,
            gaps: span - distinct_days,
        },
    })
}

/// Adds the upserts of the skipped CSV rows; returns how many there are.
fn record_bad_rows(
    backend: Backend,
    load: &Load,
    now: DateTime<Utc>,
    statements: &mut Vec<(String, Vec<Val>)>,
) -> usize {
    const COLUMNS: &[&str] = &["source_file", "line", "symbol", "reason", "raw", "rejected_at"];
    let file = load.file.clone().unwrap_or_default();
    let vals = load
        .bad
        .iter()
        .flat_map(|b| {
            [
                Val::Text(Some(file.clone())),
                Val::Int(b.line as i64),
                Val::Text(Some(load.symbol.clone())),
                Val::Text(Some(format!("{}: {}", b.column, b.reason))),
                Val::Text(Some(b.raw.clone())),
                Val::Time(Some(now)),
            ]
        })
        .collect();
    let conflict = "ON CONFLICT (source_file, line) DO UPDATE SET symbol = excluded.symbol, \
                    reason = excluded.reason, raw = excluded.raw";
    statements.extend(batches(
        backend,
        "cmc_price_histories_rejects",
        COLUMNS,
        conflict,
        vals,
    ));
    load.bad.len()
}
