//! A refresh as callers ask for it and as it reports back: the request (plain data, serialisable
//! so it can travel in a task's metadata), the checked plan a store builds from it once, and the
//! per-symbol report.
//!
//! Checking is the store's job ([`crate::FeatureStore::check_refresh`]): whoever receives a request
//! (a command line, an orchestrated task, an MCP call) hands it over and gets either a
//! [`RefreshPlan`] — canonical symbols, resolved timeframes and periods, every symbol known and the
//! date inside its data — or the one error that says what is wrong, before anything is written.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{DEFAULT_PERIODS, FeatureError, Timeframe, validate_period};

/// What to refresh.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefreshOptions {
    /// Timeframes; empty = the enabled ones of `dim_timeframe` (the canonical set by default).
    pub tfs: Vec<Timeframe>,
    /// Periods; empty = [`DEFAULT_PERIODS`].
    pub periods: Vec<usize>,
    /// Compute through this day (None = the last day with data).
    pub through: Option<NaiveDate>,
    /// Rebuild every series from the first day even where a saved state could continue.
    pub full: bool,
}

impl RefreshOptions {
    /// The periods computed: the ones asked for (each checked), else [`DEFAULT_PERIODS`];
    /// ascending, each once.
    pub fn resolved_periods(&self) -> Result<Vec<usize>, FeatureError> {
        let mut periods = if self.periods.is_empty() {
            DEFAULT_PERIODS.to_vec()
        } else {
            self.periods.clone()
        };
        for &p in &periods {
            validate_period(p)?;
        }
        periods.sort_unstable();
        periods.dedup();
        Ok(periods)
    }
}

/// What the refresh did for one symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolRefresh {
    pub symbol: String,
    /// First and last day computed.
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Rows written to `cmc_ema_multi_tf` and `cmc_ema_multi_tf_cal`.
    pub rows_tf_day: u64,
    pub rows_calendar: u64,
    /// Values flagged in `ema_rejects`.
    pub rejects: u64,
    /// Series (tf × period) rebuilt, rolled forward, already up to date.
    pub rebuilt: usize,
    pub extended: usize,
    pub up_to_date: usize,
    /// Time spent reading the closes and states and computing, then writing (lock wait excluded).
    pub compute_ms: f64,
    pub write_ms: f64,
}

impl SymbolRefresh {
    pub fn rows(&self) -> u64 {
        self.rows_tf_day + self.rows_calendar
    }
}

/// What a refresh asks for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RefreshRequest {
    pub symbols: Vec<String>,
    /// Timeframe codes (any case); empty = the enabled ones.
    #[serde(default)]
    pub tfs: Vec<String>,
    /// Periods; empty = the defaults.
    #[serde(default)]
    pub periods: Vec<usize>,
    /// Compute through this day (None: the last day with prices).
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// Rebuild every series from its first day.
    #[serde(default)]
    pub full: bool,
    /// Symbols refreshed at once (None: the store's default for the backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<usize>,
}

impl RefreshRequest {
    /// The engine's options (timeframes parsed), or why they are invalid.
    pub fn options(&self) -> Result<RefreshOptions, FeatureError> {
        Ok(RefreshOptions {
            tfs: self
                .tfs
                .iter()
                .map(|t| Timeframe::parse(t))
                .collect::<Result<_, _>>()?,
            periods: self.periods.clone(),
            through: self.date,
            full: self.full,
        })
    }
}

/// A checked request: what a store refreshes (built by [`crate::FeatureStore::check_refresh`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshPlan {
    /// Canonical symbols, each once, in the order asked.
    pub symbols: Vec<String>,
    /// The timeframes computed (the enabled ones when none were named), in their display order.
    pub tfs: Vec<Timeframe>,
    /// The periods computed, ascending.
    pub periods: Vec<usize>,
    /// The options as asked (named timeframes, through, full).
    pub options: RefreshOptions,
    /// Symbols refreshed at once (None: the store's default).
    pub jobs: Option<usize>,
}

/// One symbol's outcome: what was refreshed, or why it failed (the others keep their rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolOutcome {
    pub symbol: String,
    pub refresh: Option<SymbolRefresh>,
    pub error: Option<String>,
}

/// What a refresh did, symbol by symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshReport {
    pub symbols: Vec<SymbolOutcome>,
    /// Timeframe codes computed.
    pub tfs: Vec<String>,
    pub periods: Vec<usize>,
    pub elapsed_ms: f64,
}

impl RefreshReport {
    /// Whether every symbol was refreshed.
    pub fn ok(&self) -> bool {
        self.symbols.iter().all(|s| s.error.is_none())
    }

    /// The symbols that were refreshed.
    pub fn refreshed(&self) -> impl Iterator<Item = &SymbolRefresh> {
        self.symbols.iter().filter_map(|s| s.refresh.as_ref())
    }
}
