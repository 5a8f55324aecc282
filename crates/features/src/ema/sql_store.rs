//! [`FeatureStore`] on the database: `refresh_ema` runs the incremental [`EmaRefresher`] through a
//! date and returns that date's rows; `get_ema` reads what is stored.

use chrono::NaiveDate;
use futures_util::StreamExt;
use polars_core::prelude::DataFrame;
use talab_db::Database;

use super::refresh::{EmaRefresher, RefreshOptions};
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
        let (tfs, periods) = self.engine.resolve(&self.options).await?;
        let options = RefreshOptions {
            through: Some(date),
            ..self.options.clone()
        };
        let mut checked: Vec<String> = Vec::new();
        for s in symbols {
            let (symbol, ..) = self.engine.check_symbol(s, Some(date), &self.options.tfs).await?;
            if !checked.contains(&symbol) {
                checked.push(symbol);
            }
        }
        let mut each = std::pin::pin!(self.engine.refresh_each(&checked, &tfs, &periods, &options));
        while let Some((_, result)) = each.next().await {
            result?;
        }
        let mut rows = Vec::new();
        for symbol in &checked {
            let codes = tfs.iter().map(|t| t.code()).collect();
            let asked = periods.iter().map(|&p| p as u32).collect();
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
}
