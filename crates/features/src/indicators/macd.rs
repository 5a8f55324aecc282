//! MACD: TA-Lib's `MACD(fast, slow, signal)`, batch and incremental.
//!
//! # Definition (TA-Lib, default compatibility)
//! - Three EMAs with k = 2/(p+1) each, updated as TA-Lib 0.8 does, `fma(x − e, k, e)` (the same
//!   step as talab's EMA kernel, [`crate::ema::ema_step`]).
//! - Alignment: the slow EMA is seeded by the mean of the first `slow` closes, at index slow−1;
//!   the fast EMA is seeded **at the same index**, by the mean of the `fast` closes that end there
//!   (indices slow−fast…slow−1), not at index fast−1. So its fast EMA is not `ema(close, fast)`.
//! - MACD line = fast − slow from index slow−1; the signal EMA is seeded by the mean of the first
//!   `signal` MACD values, at index slow+signal−2; histogram = MACD − signal.
//! - TA-Lib writes all three only from index slow+signal−2 (its lookback, [`macd_lookback`]);
//!   before it all three are NaN, the MACD line too.
//! - This is `MACD`, not `MACDFIX`: 12/26 uses k = 2/13 and 2/27. TA-Lib's hard-coded
//!   k = 0.15 and 0.075 belong to `MACDFIX` (periods passed as 0), which this is not.
//! - Parameters: fast and slow 2…100,000 with fast ≤ slow, signal 1…100,000 (signal 1 makes the
//!   signal line track the MACD line). TA-Lib silently swaps a fast period longer than the slow; talab
//!   refuses it instead, since it is nearly always a mistake in the call.
//!
//! Measured against TA-Lib 0.8.2 on the BTC and ETH daily closes (12/26/9, 5/35/5, 12/12/1): every
//! value of the three lines bit-identical. The unfused update `(x − e)·k + e` matches from 38 % to
//! all of them depending on the line and series (worst 2.4e-12 relative, on a histogram).
//!
//! # TradingView
//! Pine's documented `ta.macd` is `ta.ema(src, fast) − ta.ema(src, slow)` with `ta.ema` of that
//! line as the signal: each EMA runs on its own from the first bar, so the fast EMA is not aligned
//! with the slow as here and the lines differ during the warm-up, converging after. How `ta.ema`
//! seeds was not checked here.

use serde::{Deserialize, Serialize};

use super::{check_out, check_period, reject_nan};
use crate::FeatureError;
use crate::ema::{ema_alpha, ema_step};

const NAME: &str = "MACD";

/// The index of the first MACD values: TA-Lib's `MACD_Lookback`, (slow − 1) + (signal − 1).
pub fn macd_lookback(slow: usize, signal: usize) -> usize {
    slow.saturating_sub(1) + signal.saturating_sub(1)
}

/// The three MACD lines of a series, aligned to its index (NaN before [`macd_lookback`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Macd {
    /// Fast EMA − slow EMA.
    pub macd: Vec<f64>,
    /// The EMA of the MACD line.
    pub signal: Vec<f64>,
    /// MACD − signal.
    pub hist: Vec<f64>,
}

/// The three MACD values at one index.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MacdPoint {
    /// Fast EMA − slow EMA.
    pub macd: f64,
    /// The EMA of the MACD line.
    pub signal: f64,
    /// MACD − signal.
    pub hist: f64,
}

/// TA-Lib's `MACD(values, fast, slow, signal)`.
///
/// ```
/// let x: Vec<f64> = (0..40).map(|i| 100.0 + (i as f64 * 0.7).sin()).collect();
/// let m = talab_features::macd(&x, 3, 6, 4).unwrap();
/// assert!(m.macd[..8].iter().all(|v| v.is_nan())); // lookback (6 − 1) + (4 − 1) = 8
/// assert_eq!(m.hist[8], m.macd[8] - m.signal[8]);
/// ```
pub fn macd(values: &[f64], fast: usize, slow: usize, signal: usize) -> Result<Macd, FeatureError> {
    let n = values.len();
    let mut m = Macd {
        macd: vec![f64::NAN; n],
        signal: vec![f64::NAN; n],
        hist: vec![f64::NAN; n],
    };
    macd_into(
        values,
        fast,
        slow,
        signal,
        &mut m.macd,
        &mut m.signal,
        &mut m.hist,
    )?;
    Ok(m)
}

/// [`macd`] into three buffers of the input's length, without allocating.
pub fn macd_into(
    values: &[f64],
    fast: usize,
    slow: usize,
    signal: usize,
    out_macd: &mut [f64],
    out_signal: &mut [f64],
    out_hist: &mut [f64],
) -> Result<(), FeatureError> {
    MacdState::new(fast, slow, signal)?.push_slice(values, out_macd, out_signal, out_hist)
}

/// Where a [`MacdState`] is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    /// Summing the first `slow` closes (and the last `fast` of them).
    Seeding { slow_sum: f64, fast_sum: f64 },
    /// Both EMAs run; summing the first `count` MACD values for the signal's seed.
    SignalSeeding {
        fast: f64,
        slow: f64,
        count: usize,
        sum: f64,
    },
    /// All three EMAs run.
    Running { fast: f64, slow: f64, signal: f64 },
}

/// A MACD fed one close at a time; each `push` returns what [`macd`] gives at that index, bit for
/// bit. Clone or serialize it to save the state and go on later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "MacdStateRepr", into = "MacdStateRepr")]
pub struct MacdState {
    fast: usize,
    slow: usize,
    signal: usize,
    /// Closes taken so far (the index of the next one).
    seen: usize,
    phase: Phase,
}

impl MacdState {
    /// A fresh state (fast and slow 2…100,000 with fast ≤ slow; signal 1…100,000).
    pub fn new(fast: usize, slow: usize, signal: usize) -> Result<Self, FeatureError> {
        check_period(NAME, "fast period", fast, 2)?;
        check_period(NAME, "slow period", slow, 2)?;
        check_period(NAME, "signal period", signal, 1)?;
        if fast > slow {
            return Err(FeatureError::InvalidIndicator {
                indicator: NAME,
                reason: format!(
                    "the fast period ({fast}) is longer than the slow ({slow}); TA-Lib would swap them silently, talab asks for them in order"
                ),
            });
        }
        Ok(Self {
            fast,
            slow,
            signal,
            seen: 0,
            phase: Phase::Seeding {
                slow_sum: 0.0,
                fast_sum: 0.0,
            },
        })
    }

    /// (fast, slow, signal).
    pub fn periods(&self) -> (usize, usize, usize) {
        (self.fast, self.slow, self.signal)
    }

    /// How many closes the state has taken.
    pub fn seen(&self) -> usize {
        self.seen
    }

    /// The values after the last close, or None during the warm-up.
    pub fn value(&self) -> Option<MacdPoint> {
        match self.phase {
            Phase::Running { fast, slow, signal } => Some(point(fast - slow, signal)),
            _ => None,
        }
    }

    /// Feeds the next close; returns the MACD values at its index (None during the warm-up). A NaN
    /// is refused ([`FeatureError::NanInput`]) and leaves the state as it was.
    pub fn push(&mut self, x: f64) -> Result<Option<MacdPoint>, FeatureError> {
        reject_nan(NAME, &[x], self.seen)?;
        Ok(self.step(x))
    }

    /// Feeds a run of closes, writing the three lines at each index (NaN during the warm-up). On a
    /// NaN or a length mismatch nothing is written and the state is unchanged.
    pub fn push_slice(
        &mut self,
        values: &[f64],
        out_macd: &mut [f64],
        out_signal: &mut [f64],
        out_hist: &mut [f64],
    ) -> Result<(), FeatureError> {
        check_out(values.len(), &[out_macd.len(), out_signal.len(), out_hist.len()])?;
        reject_nan(NAME, values, self.seen)?;
        let mut i = 0;
        while i < values.len() && !matches!(self.phase, Phase::Running { .. }) {
            let p = self.step(values[i]);
            out_macd[i] = p.map_or(f64::NAN, |p| p.macd);
            out_signal[i] = p.map_or(f64::NAN, |p| p.signal);
            out_hist[i] = p.map_or(f64::NAN, |p| p.hist);
            i += 1;
        }
        if let Phase::Running { fast, slow, signal } = &mut self.phase {
            let k = (ema_alpha(self.fast), ema_alpha(self.slow), ema_alpha(self.signal));
            let outs = (&mut out_macd[i..], &mut out_signal[i..], &mut out_hist[i..]);
            (*fast, *slow, *signal) = roll(k, (*fast, *slow, *signal), &values[i..], outs);
            self.seen += values.len() - i;
        }
        Ok(())
    }

    /// One close, known not to be NaN.
    #[inline(always)]
    fn step(&mut self, x: f64) -> Option<MacdPoint> {
        let t = self.seen;
        self.seen += 1;
        let (kf, ks) = (ema_alpha(self.fast), ema_alpha(self.slow));
        match &mut self.phase {
            Phase::Seeding { slow_sum, fast_sum } => {
                *slow_sum += x;
                if t >= self.slow - self.fast {
                    *fast_sum += x;
                }
                if t + 1 < self.slow {
                    return None;
                }
                let fast = *fast_sum / self.fast as f64;
                let slow = *slow_sum / self.slow as f64;
                // TA-Lib sums the signal's seed from 0.0.
                self.phase = Phase::SignalSeeding {
                    fast,
                    slow,
                    count: 1,
                    sum: 0.0 + (fast - slow),
                };
                self.finish_signal_seed()
            }
            Phase::SignalSeeding {
                fast,
                slow,
                count,
                sum,
            } => {
                *fast = ema_step(*fast, x, kf);
                *slow = ema_step(*slow, x, ks);
                *sum += *fast - *slow;
                *count += 1;
                self.finish_signal_seed()
            }
            Phase::Running { fast, slow, signal } => {
                let p;
                ((*fast, *slow, *signal), p) =
                    advance((kf, ks, ema_alpha(self.signal)), (*fast, *slow, *signal), x);
                Some(p)
            }
        }
    }

    /// Moves to `Running` once the signal's seed holds `signal` MACD values.
    #[inline(always)]
    fn finish_signal_seed(&mut self) -> Option<MacdPoint> {
        let Phase::SignalSeeding {
            fast,
            slow,
            count,
            sum,
        } = self.phase
        else {
            return None;
        };
        if count < self.signal {
            return None;
        }
        let signal = sum / self.signal as f64;
        self.phase = Phase::Running { fast, slow, signal };
        Some(point(fast - slow, signal))
    }
}

type Emas = (f64, f64, f64);

/// One close through the three running EMAs (fast, slow, signal), with their k's.
#[inline(always)]
fn advance((kf, ks, kg): Emas, (fast, slow, signal): Emas, x: f64) -> (Emas, MacdPoint) {
    let fast = ema_step(fast, x, kf);
    let slow = ema_step(slow, x, ks);
    let m = fast - slow;
    let signal = ema_step(signal, m, kg);
    ((fast, slow, signal), point(m, signal))
}

type Outs<'a> = (&'a mut [f64], &'a mut [f64], &'a mut [f64]);

crate::fma::fma_dispatch! {
    /// The running MACD over `values`, writing the three lines; returns the new EMAs. The same
    /// arithmetic as `step`, on locals.
    fn roll(k: Emas, emas: Emas, values: &[f64], outs: Outs<'_>) -> Emas => roll_body
}

#[inline(always)]
fn roll_body(k: Emas, mut emas: Emas, values: &[f64], (m, s, h): Outs<'_>) -> Emas {
    for (i, &x) in values.iter().enumerate() {
        let p;
        (emas, p) = advance(k, emas, x);
        (m[i], s[i], h[i]) = (p.macd, p.signal, p.hist);
    }
    emas
}

#[inline(always)]
fn point(macd: f64, signal: f64) -> MacdPoint {
    MacdPoint {
        macd,
        signal,
        hist: macd - signal,
    }
}

/// The serialized form, checked on the way in.
#[derive(Serialize, Deserialize)]
struct MacdStateRepr {
    fast: usize,
    slow: usize,
    signal: usize,
    seen: usize,
    phase: Phase,
}

impl From<MacdState> for MacdStateRepr {
    fn from(s: MacdState) -> Self {
        Self {
            fast: s.fast,
            slow: s.slow,
            signal: s.signal,
            seen: s.seen,
            phase: s.phase,
        }
    }
}

impl TryFrom<MacdStateRepr> for MacdState {
    type Error = FeatureError;

    fn try_from(r: MacdStateRepr) -> Result<Self, FeatureError> {
        let mut state = MacdState::new(r.fast, r.slow, r.signal)?;
        let consistent = match r.phase {
            Phase::Seeding { .. } => r.seen < r.slow,
            Phase::SignalSeeding { count, .. } => {
                count >= 1 && count < r.signal && r.seen == r.slow - 1 + count
            }
            Phase::Running { .. } => r.seen > macd_lookback(r.slow, r.signal),
        };
        if !consistent {
            return Err(FeatureError::InvalidIndicator {
                indicator: NAME,
                reason: format!(
                    "a saved state ({}/{}/{}, {} closes) is not one MACD can be in",
                    r.fast, r.slow, r.signal, r.seen
                ),
            });
        }
        state.seen = r.seen;
        state.phase = r.phase;
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_ema_is_seeded_where_the_slow_one_is() {
        // fast 2, slow 4, signal 1: at index 3 the fast EMA is the mean of closes 2 and 3 (not an
        // EMA started at index 1), the slow the mean of all four.
        let x = [1.0, 2.0, 4.0, 8.0, 16.0];
        let m = macd(&x, 2, 4, 1).unwrap();
        assert!(m.macd[..3].iter().all(|v| v.is_nan()));
        assert_eq!(m.macd[3], 6.0 - 3.75);
        assert_eq!(m.signal[3], m.macd[3]); // signal 1: the MACD line itself
        assert_eq!(m.hist[3], 0.0);
        let (fast, slow) = (ema_step(6.0, 16.0, 2.0 / 3.0), ema_step(3.75, 16.0, 0.4));
        assert_eq!(m.macd[4], fast - slow);
    }

    #[test]
    fn periods_are_checked() {
        assert!(MacdState::new(1, 26, 9).is_err());
        assert!(MacdState::new(12, 1, 9).is_err());
        assert!(MacdState::new(12, 26, 0).is_err());
        let e = MacdState::new(26, 12, 9).unwrap_err().to_string();
        assert!(e.contains("fast period (26) is longer than the slow (12)"), "{e}");
        assert!(MacdState::new(12, 12, 1).is_ok());
    }

    #[test]
    fn saved_states_are_checked() {
        let mut s = MacdState::new(2, 3, 3).unwrap();
        for x in [1.0, 2.0, 3.0, 5.0] {
            s.push(x).unwrap();
        }
        let back: MacdState = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        let bad = r#"{"fast":2,"slow":3,"signal":3,"seen":1,"phase":{"running":{"fast":1.0,"slow":1.0,"signal":0.0}}}"#;
        assert!(serde_json::from_str::<MacdState>(bad).is_err());
    }
}
