//! The time model: which timeframes exist and are computed ([`TimeframeRegistry`] over
//! `dim_timeframe`), and which local hours make up a market's day ([`Session`] over `dim_sessions`).
//!
//! Bars and EMAs read their grid from here, so every table agrees on what "a week" or "a day" is.

pub mod dim_timeframe;
pub mod sessions;

pub use dim_timeframe::{TimeframeInfo, TimeframeRegistry};
pub use sessions::{Session, SessionKey, SessionRegistry};
