//! talab-features: crypto price history, the time model, and exact TA-Lib-style EMAs behind the
//! [`FeatureStore`] contract.
//!
//! The EMA kernel matches TA-Lib's `EMA` bit for bit (SMA seed at index p−1, then
//! `e = α·x + (1−α)·e` computed as TA-Lib does), carries missing values (NaN) forward, and gives the
//! same bits whether a series is computed at once or one value at a time:
//!
//! ```
//! use talab_features::{EmaState, ema};
//!
//! let closes = [44.0, 44.5, 43.8, f64::NAN, 45.1, 46.0, 45.7];
//! let batch = ema(&closes, 3).unwrap();
//! assert!(batch[0].is_nan() && batch[1].is_nan()); // nothing before the seed
//! assert!((batch[2] - (44.0 + 44.5 + 43.8) / 3.0).abs() < 1e-12); // the seed: a simple mean
//! assert_eq!(batch[3], batch[2]); // a missing close carries the EMA forward
//!
//! let mut state = EmaState::new(3).unwrap();
//! let last = closes.iter().map(|&x| state.push(x)).last().flatten();
//! assert_eq!(last, Some(batch[6]));
//! ```
//!
//! Storage: [`AssetRegistry`] opens this crate's tables on SQLite or PostgreSQL (see
//! [`MIGRATIONS`]). With the `stubs` feature, [`stubs::FeatureStoreStub`] serves real 1D EMAs over
//! in-memory closes.
//!
//! Indicators: [`indicators`] holds TA-Lib's RSI, ATR, MACD and Bollinger bands (batch and
//! incremental, the same bits as TA-Lib 0.8 on the tested data).
//!
//! Signals: [`signals`] turns 1D EMA crosses into trades with P&L (`dim_signals`,
//! `cmc_signals_ema_crossover`); [`chart`] gathers what a price chart shows, and with the `chart`
//! feature draws it to PNG or SVG.

pub mod assets;
pub mod bars;
pub mod chart;
pub mod ema;
pub mod error;
mod fma;
pub mod indicators;
pub mod ingest;
mod load;
pub mod migrations;
pub mod prices;
pub mod signals;
pub mod sources;
pub mod store;
#[cfg(feature = "stubs")]
pub mod stubs;
pub mod time;
pub mod timeframe;

pub use assets::{Asset, AssetRegistry, normalise_symbol};
pub use bars::daily::{DailyReject, RejectReason, Repairs, ValidatedBar, load_daily_bars, validate_daily};
pub use bars::hourly::{HourlyCoverage, hourly_coverage, store_hourly};
pub use bars::{DailyBar, MultiTfBar};
pub use ema::{
    CommitJournal, EmaCoverage, EmaQuery, EmaRefresher, EmaState, RefreshOptions, RefreshPlan, RefreshReport,
    RefreshRequest, RefreshWatch, SqlFeatureStore, StoredEma, SymbolDone, SymbolOutcome, SymbolRefresh, ema,
    ema_alpha, ema_coverage, ema_into, read_emas,
};
pub use error::FeatureError;
pub use indicators::{
    AtrState, Bollinger, BollingerBands, BollingerState, Macd, MacdPoint, MacdState, RsiState, atr, atr_into,
    atr_lookback, bollinger, bollinger_into, bollinger_lookback, macd, macd_into, macd_lookback, rsi,
    rsi_into, rsi_lookback,
};
pub use ingest::{Coverage, IngestOptions, IngestReport, coverage, ingest_csv, ingest_rows};
pub use migrations::MIGRATIONS;
/// The DataFrame crate of [`FeatureStore`]'s answers (the same type as `polars::prelude::DataFrame`).
pub use polars_core;
pub use prices::{RawPrice, SourceKind, day_end, day_start, load_raw};
pub use sources::{
    BinanceSource, CmcSource, CoinbaseSource, CsvFormat, FetchOptions, FetchOutcome, HttpOptions,
    MissingFetch, PriceSource, SourceChain, SyntheticSource, fetch_missing, fetch_symbol,
};
pub use store::{EMA_COLUMNS, EmaRow, FeatureStore, ema_frame};
pub use timeframe::{
    ALLOWED_PERIODS, DEFAULT_CANONICAL_TIMEFRAMES, DEFAULT_PERIODS, DEFAULT_TIMEFRAME, Timeframe,
    normalise_timeframe, validate_period,
};
