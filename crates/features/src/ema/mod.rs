//! EMAs: the exact core kernel now; the multi-timeframe `ema`/`ema_bar` values build on it.
//!
//! Everything that computes an EMA in talab calls [`kernel`], so one set of tests pins the
//! semantics (TA-Lib's SMA seed, NaN gaps carried forward) for all of them.

pub mod kernel;

pub use kernel::{EmaState, ema, ema_alpha, ema_into};
