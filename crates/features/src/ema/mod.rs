//! EMAs: the exact core kernel, and the multi-timeframe `ema`/`ema_bar` values built on it.
//!
//! Everything that computes an EMA in talab calls [`kernel`], so one set of tests pins the
//! semantics (TA-Lib's SMA seed, NaN gaps carried forward) for all of them.

pub mod kernel;
pub mod multi_tf;

pub use kernel::{EmaState, ema, ema_alpha, ema_into, ema_step};
pub use multi_tf::{MultiTfEmaRow, MultiTfEmaState, TfDay, multi_tf_ema};
