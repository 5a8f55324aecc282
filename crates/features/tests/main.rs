//! The integration tests of talab-features as one test binary: one link against the dependency tree
//! instead of one per file (linking was most of a cold test build). Shared helpers: `support`,
//! `bars_common`; the other modules are one area each.

mod assets;
mod bars_common;
mod bars_incremental;
mod bars_snapshot;
mod daily_bars;
mod ema_incremental;
mod ema_intraday;
mod ema_kernel;
mod ema_multi_tf;
mod ema_refresh;
mod feature_store;
mod indicators_incremental;
mod indicators_kernel;
mod ingest_csv;
mod signals;
#[cfg(feature = "chart")]
mod signals_chart;
mod sources_csv;
mod sources_http;
mod sources_synthetic;
#[cfg(feature = "stubs")]
mod stub;
mod support;
mod time_model;
