//! EMAs: the exact core kernel, the multi-timeframe `ema`/`ema_bar` values built on it, and the
//! incremental refresh that keeps them in the database.
//!
//! Everything that computes an EMA in talab calls [`kernel`], so one set of tests pins the
//! semantics (TA-Lib's SMA seed, NaN gaps carried forward) for all of them. The refresh is split
//! by concern: [`series`] (the closes an EMA depends on), [`compute`] (roll forward or rebuild one
//! series), [`validate`] (the checks behind `ema_rejects`), [`table`] (bulk SQL on both backends),
//! [`refresh`] (one transaction per symbol under its lock), [`request`] (what callers ask and get
//! back), [`journal`] (a caller's hooks, one written in that transaction), [`coverage`] (what is
//! stored) and [`sql_store`] (the `FeatureStore`).

pub mod compute;
pub mod coverage;
pub mod journal;
pub mod kernel;
pub mod multi_tf;
pub mod refresh;
pub mod request;
pub mod series;
pub mod sql_store;
pub mod table;
pub mod validate;

pub use coverage::{EmaCoverage, ema_coverage};
pub use journal::{CommitJournal, RefreshWatch, SymbolDone};
pub use kernel::{EmaState, ema, ema_alpha, ema_into, ema_step};
pub use multi_tf::{MultiTfEmaRow, MultiTfEmaState, TfDay, multi_tf_ema};
pub use refresh::EmaRefresher;
pub use request::{RefreshOptions, RefreshPlan, RefreshReport, RefreshRequest, SymbolOutcome, SymbolRefresh};
pub use sql_store::SqlFeatureStore;
pub use table::{EmaQuery, StoredEma, read_emas};
