//! [`FeatureStore`] on the database: `refresh_ema` and `refresh` run the incremental
//! [`EmaRefresher`] (one transaction per symbol); `get_ema`, `read_emas` and `ema_coverage` read
//! what is stored.

use std::time::Instant;

use chrono::NaiveDate;
use futures_util::StreamExt;
use polars_core::prelude::DataFrame;
use talab_db::Database;

use super::coverage::{EmaCoverage, ema_coverage};
use super::journal::RefreshWatch;
use super::refresh::EmaRefresher;
use super::request::{RefreshOptions, RefreshPlan, RefreshReport, RefreshRequest, SymbolOutcome};
use super::table::{EmaQuery, StoredEma, read_emas};
use crate::{
    EmaRow, FeatureError, FeatureStore, Timeframe, ema_frame, normalise_symbol, normalise_timeframe,
};

/// The database-backed [`FeatureStore`] (SQLite or PostgreSQL).
///
/// - `refresh_ema(symbols, date)` refreshes each symbol through `date` with the enabled
///   timeframes and the default periods (each symbol in its own transaction) and returns the rows of
///   `date`, symbols in the order given, then timeframe and period.
/// - `get_ema(symbol, date, tf)` returns the stored rows of `date` for one timeframe (any case;
///   "1d" when empty); an empty frame when nothing was computed for that day.
/// - An unknown symbol is [`FeatureError::UnknownSymbol`]; for `refresh_ema`, a date outside the
///   symbol's data is [`FeatureError::DateOutOfRange`].
#[derive(Debug, Clone)]
pub struct SqlFeatureStore {
    engine: EmaRefresher,
    options: RefreshOptions,
}

impl SqlFeatureStore {
    /// A store refreshing the enabled timeframes and the default periods.
    pub async fn open(db: Database) -> Result<Self, FeatureError> {
        Ok(Self {
            engine: EmaRefresher::open(db).await?,
            options: RefreshOptions::default(),
        })
    }

    /// Refreshes these timeframes and periods instead (empty = the defaults).
    pub fn with_options(mut self, options: RefreshOptions) -> Self {
        self.options = options;
        self
    }

    pub fn engine(&self) -> &EmaRefresher {
        &self.engine
    }

    /// The plan of refreshing `symbols` with `options`: timeframes and periods resolved, every
    /// symbol checked and canonical, each once.
    async fn plan(
        &self,
        symbols: &[String],
        options: RefreshOptions,
        jobs: Option<usize>,
    ) -> Result<RefreshPlan, FeatureError> {
        let (tfs, periods) = self.engine.resolve(&options).await?;
        let mut checked: Vec<String> = Vec::new();
        for s in symbols {
            let (symbol, ..) = self.engine.check_symbol(s, options.through, &options.tfs).await?;
            if !checked.contains(&symbol) {
                checked.push(symbol);
            }
        }
        Ok(RefreshPlan {
            symbols: checked,
            tfs,
            periods,
            options,
            jobs,
        })
    }

    async fn rows_of(
        &self,
        symbol: &str,
        date: NaiveDate,
        tfs: Vec<String>,
        periods: Vec<u32>,
    ) -> Result<Vec<EmaRow>, FeatureError> {
        let query = EmaQuery {
            symbol: symbol.to_string(),
            tfs,
            periods,
            from: Some(date),
            to: Some(date),
        };
        Ok(read_emas(self.engine.database(), &query)
            .await?
            .into_iter()
            .map(StoredEma::into_row)
            .collect())
    }
}

impl StoredEma {
    /// The contract's row (the columns of [`crate::EMA_COLUMNS`]).
    pub fn into_row(self) -> EmaRow {
        EmaRow {
            symbol: self.symbol,
            date: self.day,
            tf: self.tf,
            period: self.period,
            ema: self.ema,
            ema_bar: self.ema_bar,
            roll: self.roll,
            ts: self.ts,
        }
    }
}

#[async_trait::async_trait]
impl FeatureStore for SqlFeatureStore {
    async fn refresh_ema(&self, symbols: &[String], date: NaiveDate) -> Result<DataFrame, FeatureError> {
        let options = RefreshOptions {
            through: Some(date),
            ..self.options.clone()
        };
        let plan = self.plan(symbols, options, None).await?;
        let mut each =
            std::pin::pin!(
                self.engine
                    .refresh_each(&plan.symbols, &plan.tfs, &plan.periods, &plan.options)
            );
        while let Some((_, result)) = each.next().await {
            result?;
        }
        let mut rows = Vec::new();
        for symbol in &plan.symbols {
            let codes = plan.tfs.iter().map(|t| t.code()).collect();
            let asked = plan.periods.iter().map(|&p| p as u32).collect();
            rows.extend(self.rows_of(symbol, date, codes, asked).await?);
        }
        ema_frame(&rows)
    }

    async fn get_ema(
        &self,
        symbol: &str,
        date: NaiveDate,
        timeframe: &str,
    ) -> Result<DataFrame, FeatureError> {
        let symbol = normalise_symbol(symbol)?;
        let tf = if timeframe.trim().is_empty() {
            crate::DEFAULT_TIMEFRAME.to_string()
        } else {
            normalise_timeframe(timeframe)?
        };
        self.engine
            .check_symbol(&symbol, None, &[Timeframe::parse(&tf)?])
            .await?;
        ema_frame(&self.rows_of(&symbol, date, vec![tf], Vec::new()).await?)
    }

    async fn check_refresh(&self, request: &RefreshRequest) -> Result<RefreshPlan, FeatureError> {
        self.plan(&request.symbols, request.options()?, request.jobs)
            .await
    }

    async fn refresh(&self, plan: &RefreshPlan, watch: &RefreshWatch) -> Result<RefreshReport, FeatureError> {
        let started = Instant::now();
        let mut engine = self.engine.clone();
        if let Some(jobs) = plan.jobs {
            engine = engine.with_concurrency(jobs);
        }
        if let Some(journal) = &watch.journal {
            engine = engine.with_journal(journal.clone());
        }
        let mut each =
            std::pin::pin!(engine.refresh_each(&plan.symbols, &plan.tfs, &plan.periods, &plan.options));
        let mut outcomes = Vec::with_capacity(plan.symbols.len());
        while let Some((symbol, result)) = each.next().await {
            let (refresh, error) = match result {
                Ok(r) => (Some(r), None),
                Err(e) => (None, Some(e.to_string())),
            };
            let outcome = SymbolOutcome {
                symbol: symbol.to_string(),
                refresh,
                error,
            };
            watch.symbol_done(&outcome);
            outcomes.push(outcome);
        }
        Ok(RefreshReport {
            symbols: outcomes,
            tfs: plan.tfs.iter().map(Timeframe::code).collect(),
            periods: plan.periods.clone(),
            elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
        })
    }

    async fn read_emas(&self, query: &EmaQuery) -> Result<Vec<StoredEma>, FeatureError> {
        read_emas(self.engine.database(), query).await
    }

    async fn ema_coverage(
        &self,
        symbol: &str,
        tf: &Timeframe,
    ) -> Result<(String, EmaCoverage), FeatureError> {
        let (symbol, ..) = self
            .engine
            .check_symbol(symbol, None, std::slice::from_ref(tf))
            .await?;
        let coverage = ema_coverage(self.engine.database(), &symbol, tf).await?;
        Ok((symbol, coverage))
    }
}
