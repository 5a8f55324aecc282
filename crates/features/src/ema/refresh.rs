//! The EMA refresh: brings `cmc_ema_multi_tf` / `cmc_ema_multi_tf_cal` up to date for some symbols,
//! timeframes and periods, incrementally (spec §6).
//!
//! Each symbol is one transaction that holds the symbol's write lock from its first read
//! ([`Tx::begin_locked`]): it reads the closes and the saved states, computes, deletes what rebuilt
//! series replace, inserts, and saves the new states. A crash or a kill leaves the symbol exactly
//! before or after its refresh; a second refresh of the same symbol waits, then finds it up to
//! date. Computing is cheap next to writing (a few milliseconds per symbol), so it runs inside the
//! lock rather than risk computing from closes that change before the write.

use std::sync::Arc;
use std::time::{Duration, Instant};
use talab_db::sqlx;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::{Stream, StreamExt, stream};
use talab_db::{Backend, Database, Tx, on_pool};
use tracing::Instrument;

use super::compute::{AssetInput, SeriesAction, SeriesResult, bar_closes, compute_series};
use super::journal::CommitJournal;
use super::request::{RefreshOptions, SymbolRefresh};
use super::series::{Cadence, Closes};
use super::table::{self, CALENDAR_TABLE, TF_DAY_TABLE};
use crate::time::TimeframeRegistry;
use crate::{FeatureError, MIGRATIONS, Timeframe, normalise_symbol};

/// The EMA engine over one database.
#[derive(Clone)]
pub struct EmaRefresher {
    db: Database,
    /// Overrides [`EmaRefresher::concurrency`]'s default.
    concurrency: Option<usize>,
    /// Written in each symbol's transaction (see [`EmaRefresher::with_journal`]).
    journal: Option<Arc<dyn CommitJournal>>,
}

impl std::fmt::Debug for EmaRefresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmaRefresher")
            .field("db", &self.db)
            .field("concurrency", &self.concurrency)
            .field("journal", &self.journal.is_some())
            .finish()
    }
}

impl EmaRefresher {
    /// Opens the engine, applying this crate's pending migrations.
    pub async fn open(db: Database) -> Result<Self, FeatureError> {
        db.migrate(&MIGRATIONS).await?;
        Ok(Self {
            db,
            concurrency: None,
            journal: None,
        })
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The timeframes and periods a refresh with `options` computes, validated: the enabled
    /// timeframes when none are named (intraday ones included; they are computed for the symbols
    /// that have hourly bars).
    pub async fn resolve(
        &self,
        options: &RefreshOptions,
    ) -> Result<(Vec<Timeframe>, Vec<usize>), FeatureError> {
        let mut tfs = TimeframeRegistry::open(self.db.clone())
            .await?
            .named_or_enabled(&options.tfs)
            .await?;
        tfs.sort_by_key(|t| t.sort_order());
        tfs.dedup();
        Ok((tfs, options.resolved_periods()?))
    }

    /// Checks that a symbol has the closes `named` timeframes need (daily closes for all but the
    /// intraday ones, which need hourly bars; daily closes when none are named) and that `through`
    /// is inside them; returns its canonical spelling and (first, last) day.
    pub async fn check_symbol(
        &self,
        symbol: &str,
        through: Option<NaiveDate>,
        named: &[Timeframe],
    ) -> Result<(String, NaiveDate, NaiveDate), FeatureError> {
        let symbol = normalise_symbol(symbol)?;
        let hourly = named.iter().any(|t| t.is_intraday());
        let daily = named.is_empty() || named.iter().any(|t| !t.is_intraday());
        let mut span = None;
        for (cadence, wanted) in [(Cadence::Hourly, hourly), (Cadence::Daily, daily)] {
            if !wanted {
                continue;
            }
            let (first, last) = self.stored_range(&symbol, cadence).await?;
            if let Some(date) = through
                && (date < first || date > last)
            {
                return Err(FeatureError::DateOutOfRange {
                    symbol,
                    date,
                    first,
                    last,
                });
            }
            span = Some((first, last));
        }
        let (first, last) = span.expect("daily or hourly is wanted");
        Ok((symbol, first, last))
    }

    /// The first and last day of a symbol's closes on `cadence`, or why there are none.
    async fn stored_range(
        &self,
        symbol: &str,
        cadence: Cadence,
    ) -> Result<(NaiveDate, NaiveDate), FeatureError> {
        let sql = format!(
            "SELECT MIN(ts), MAX(ts) FROM {} WHERE symbol = $1",
            cadence.table()
        );
        let range: (Option<DateTime<Utc>>, Option<DateTime<Utc>>) =
            on_pool!(&self.db, pool => sqlx::query_as(&sql).bind(symbol).fetch_one(pool).await)?;
        if let (Some(first), Some(last)) = range {
            return Ok((first.date_naive(), last.date_naive()));
        }
        let known: Vec<String> = on_pool!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT DISTINCT symbol FROM cmc_price_bars_1d UNION SELECT DISTINCT symbol FROM cmc_price_bars_1h \
                 ORDER BY symbol",
            )
            .fetch_all(pool)
            .await
        })?;
        let listed: Option<String> = on_pool!(&self.db, pool => {
            sqlx::query_scalar("SELECT symbol FROM dim_assets WHERE symbol = $1")
                .bind(symbol)
                .fetch_optional(pool)
                .await
        })?;
        let symbol = symbol.to_string();
        Err(match (listed.is_some() || known.contains(&symbol), cadence) {
            (true, Cadence::Hourly) => FeatureError::NoHourlyBars { symbol },
            (true, Cadence::Daily) => FeatureError::NoData { symbol },
            (false, _) => FeatureError::UnknownSymbol { symbol, known },
        })
    }

    /// Refreshes one symbol in one transaction (see the module docs).
    pub async fn refresh_symbol(
        &self,
        symbol: &str,
        options: &RefreshOptions,
    ) -> Result<SymbolRefresh, FeatureError> {
        let (tfs, periods) = self.resolve(options).await?;
        let (symbol, ..) = self.check_symbol(symbol, options.through, &options.tfs).await?;
        self.refresh_resolved(&symbol, &tfs, &periods, options).await
    }

    /// How many symbols [`refresh_each`](Self::refresh_each) refreshes at once. By default on
    /// PostgreSQL four, so one symbol's round trips and commit overlap the others' reads and
    /// compute (each symbol still has its own transaction and lock); on SQLite one, since it has a
    /// single writer and the lock is taken before the first read, so more would only queue.
    pub fn concurrency(&self) -> usize {
        self.concurrency.unwrap_or(match self.db.backend() {
            Backend::Postgres => 4,
            Backend::Sqlite => 1,
        })
    }

    /// Sets [`concurrency`](Self::concurrency) (at least 1).
    pub fn with_concurrency(mut self, symbols_at_once: usize) -> Self {
        self.concurrency = Some(symbols_at_once.max(1));
        self
    }

    /// Records each symbol's refresh with `journal` inside the symbol's transaction, so the record
    /// commits exactly when the rows do (see [`CommitJournal`]).
    pub fn with_journal(mut self, journal: Arc<dyn CommitJournal>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// Refreshes checked, canonical symbols, [`concurrency`](Self::concurrency) at a time,
    /// yielding each symbol with its outcome in the order given. One symbol's failure does not
    /// stop the others.
    pub fn refresh_each<'a>(
        &'a self,
        symbols: &'a [String],
        tfs: &'a [Timeframe],
        periods: &'a [usize],
        options: &'a RefreshOptions,
    ) -> impl Stream<Item = (&'a str, Result<SymbolRefresh, FeatureError>)> + 'a {
        stream::iter(symbols)
            .map(move |symbol| {
                let span = tracing::info_span!("ema_refresh_symbol", symbol = %symbol);
                async move {
                    let result = self.refresh_resolved(symbol, tfs, periods, options).await;
                    match &result {
                        Ok(r) => tracing::info!(
                            rows = r.rows(),
                            rebuilt = r.rebuilt,
                            extended = r.extended,
                            "refreshed"
                        ),
                        Err(e) => tracing::warn!(error = %e, "refresh failed"),
                    }
                    (symbol.as_str(), result)
                }
                .instrument(span)
            })
            .buffered(self.concurrency())
    }

    /// [`refresh_symbol`](Self::refresh_symbol) with timeframes and periods already resolved and
    /// the symbol already checked (for callers refreshing many symbols).
    pub async fn refresh_resolved(
        &self,
        symbol: &str,
        tfs: &[Timeframe],
        periods: &[usize],
        options: &RefreshOptions,
    ) -> Result<SymbolRefresh, FeatureError> {
        let mut tx = Tx::begin_locked(&self.db, &format!("talab ema {symbol}")).await?;
        let started = Instant::now();
        let states = table::load_states(&mut tx, symbol).await?;
        let mut groups = Vec::with_capacity(2);
        for cadence in [Cadence::Daily, Cadence::Hourly] {
            let of_cadence: Vec<&Timeframe> = tfs.iter().filter(|t| Cadence::of(t) == cadence).collect();
            if of_cadence.is_empty() {
                continue;
            }
            let closes = Closes::load(&mut tx, symbol, cadence).await?;
            if closes.is_empty() {
                let symbol = symbol.to_string();
                match cadence {
                    Cadence::Daily => return Err(FeatureError::NoData { symbol }),
                    // Enabled intraday timeframes are computed where hourly bars exist.
                    Cadence::Hourly if options.tfs.is_empty() => continue,
                    Cadence::Hourly => return Err(FeatureError::NoHourlyBars { symbol }),
                }
            }
            let end = options.through.map_or(closes.len(), |d| closes.count_through(d));
            let input = AssetInput::new(&closes, end, options.full);
            let mut results: Vec<SeriesResult> = Vec::with_capacity(of_cadence.len() * periods.len());
            for tf in of_cadence {
                let flags = bar_closes(tf, &closes)?;
                for &period in periods {
                    let saved = states.get(&(tf.code(), period));
                    results.push(compute_series(&input, tf, &flags, period, saved)?);
                }
            }
            drop(input);
            groups.push(Computed { closes, end, results });
        }
        let Some(first) = groups.first() else {
            return Err(FeatureError::NoData {
                symbol: symbol.into(),
            });
        };
        let first_day = first.closes.days[0];
        let compute = started.elapsed();
        let write_started = Instant::now();
        let now = Utc::now();
        for g in &groups {
            table::write_results(&mut tx, symbol, &g.closes, &g.results, now).await?;
        }
        if let Some(journal) = &self.journal {
            let written = summarise(symbol, first_day, &groups, compute, write_started.elapsed());
            journal.record(&mut tx, &written).await?;
        }
        tx.commit().await?;
        let write = write_started.elapsed();
        Ok(summarise(symbol, first_day, &groups, compute, write))
    }
}

/// One grid's closes and what was computed from them.
struct Computed {
    closes: Closes,
    end: usize,
    results: Vec<SeriesResult>,
}

fn summarise(
    symbol: &str,
    first_day: NaiveDate,
    groups: &[Computed],
    compute: Duration,
    write: Duration,
) -> SymbolRefresh {
    let results = || groups.iter().flat_map(|g| &g.results);
    let count = |action| results().filter(|r| r.action == action).count();
    let rows_in = |t: &str| {
        results()
            .filter(|r| table::table_for(&r.tf) == t)
            .map(|r| r.rows.len() as u64)
            .sum()
    };
    let last_day = results()
        .filter_map(|r| r.saved.as_ref().map(|s| s.last_day))
        .chain(
            groups
                .iter()
                .filter_map(|g| g.end.checked_sub(1).map(|i| g.closes.days[i])),
        )
        .max()
        .unwrap_or(first_day);
    SymbolRefresh {
        symbol: symbol.to_string(),
        first_day,
        last_day,
        rows_tf_day: rows_in(TF_DAY_TABLE),
        rows_calendar: rows_in(CALENDAR_TABLE),
        rejects: results().map(|r| r.rejects.len() as u64).sum(),
        rebuilt: count(SeriesAction::Rebuilt),
        extended: count(SeriesAction::Extended),
        up_to_date: count(SeriesAction::UpToDate),
        compute_ms: compute.as_secs_f64() * 1e3,
        write_ms: write.as_secs_f64() * 1e3,
    }
}
