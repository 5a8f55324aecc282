//! RSI: TA-Lib's `RSI` (Wilder's relative strength index), batch and incremental.
//!
//! # Definition (TA-Lib, default compatibility, unstable period 0)
//! - Changes d_t = x_t − x_{t−1}. A negative change is a loss of −d, any other a gain of d.
//! - Seed: the gains and the losses of the first `p` changes (indices 1…p) are each summed from 0
//!   in order and multiplied by 1/p. The first RSI is at index p (lookback p); indices 0…p−1 are
//!   NaN.
//! - Then Wilder's smoothing, as TA-Lib 0.8 writes it: avg ← (avg·(p−1) + today's gain or loss)
//!   · (1/p), each of the three steps rounded on its own (no fused multiply-add: TA-Lib builds its
//!   RSI without one).
//! - RSI = 100 · (gain / (gain + loss)), or 0 when gain + loss is within 1e-14 of zero (TA-Lib's
//!   `TA_IS_ZERO`: a flat window reads 0, not 50).
//!
//! Measured against TA-Lib 0.8.2 on the BTC and ETH daily closes, periods 2, 14 and 30: every
//! value bit-identical. Dividing by p instead of multiplying by 1/p matches only about a third of
//! them in the smoothing (worst 1.5e-15 relative), and in the seed alone it changes a few ETH
//! values (RSI 14 from its first one).
//!
//! # TradingView
//! Pine's documented `ta.rsi` smooths the same up/down changes with `ta.rma`, which is seeded by
//! the SMA of the first `length` changes, so its first value is at the same bar and follows the
//! same recurrence (rounded in its own order, and written as 100 − 100/(1 + up/down), whose
//! flat-window case was not checked). Both start the warm-up at the first bar they are given, so
//! on histories that start on different days the values differ until the seed is forgotten.

use serde::{Deserialize, Serialize};

use super::{check_out, check_period, reject_nan};
use crate::FeatureError;

const NAME: &str = "RSI";

/// The index of the first RSI: TA-Lib's `RSI_Lookback`, the period.
pub fn rsi_lookback(period: usize) -> usize {
    period
}

/// The RSI of `values` with period `period` (2…100,000); NaN before index `period`.
///
/// ```
/// let x = [10.0, 11.0, 10.5, 11.5, 12.0];
/// let r = talab_features::rsi(&x, 2).unwrap();
/// assert!(r[0].is_nan() && r[1].is_nan());
/// // Changes +1 and −0.5: average gain 0.5, average loss 0.25.
/// assert_eq!(r[2], 100.0 * (0.5 / 0.75));
/// ```
pub fn rsi(values: &[f64], period: usize) -> Result<Vec<f64>, FeatureError> {
    let mut out = vec![f64::NAN; values.len()];
    rsi_into(values, period, &mut out)?;
    Ok(out)
}

/// [`rsi`] into a buffer of the same length, without allocating.
pub fn rsi_into(values: &[f64], period: usize, out: &mut [f64]) -> Result<(), FeatureError> {
    RsiState::new(period)?.push_slice(values, out)
}

/// Where an [`RsiState`] is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    /// No value yet.
    Empty,
    /// `changes` changes summed so far (fewer than the period).
    Seeding {
        prev: f64,
        changes: usize,
        gain: f64,
        loss: f64,
    },
    /// Running: the average gain and loss after the last value.
    Running { prev: f64, gain: f64, loss: f64 },
}

/// An RSI fed one value at a time; each `push` returns what [`rsi`] gives at that index, bit for
/// bit. Clone or serialize it to save the state and go on later.
///
/// ```
/// use talab_features::{RsiState, rsi};
/// let x = [44.3, 44.1, 44.2, 43.6, 44.3, 44.8, 45.1];
/// let mut state = RsiState::new(3).unwrap();
/// let pushed: Vec<f64> = x.iter().map(|&v| state.push(v).unwrap().unwrap_or(f64::NAN)).collect();
/// let batch = rsi(&x, 3).unwrap();
/// assert!(pushed.iter().zip(&batch).all(|(a, b)| a.to_bits() == b.to_bits()));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RsiStateRepr", into = "RsiStateRepr")]
pub struct RsiState {
    period: usize,
    /// Values taken so far (the index of the next one).
    seen: usize,
    phase: Phase,
}

impl RsiState {
    /// A fresh state for `period` (2…100,000, TA-Lib's bounds).
    pub fn new(period: usize) -> Result<Self, FeatureError> {
        check_period(NAME, "period", period, 2)?;
        Ok(Self {
            period,
            seen: 0,
            phase: Phase::Empty,
        })
    }

    /// The period.
    pub fn period(&self) -> usize {
        self.period
    }

    /// How many values the state has taken.
    pub fn seen(&self) -> usize {
        self.seen
    }

    /// The RSI after the last value, or None during the warm-up.
    pub fn value(&self) -> Option<f64> {
        match self.phase {
            Phase::Running { gain, loss, .. } => Some(rsi_of(gain, loss)),
            _ => None,
        }
    }

    /// Feeds the next value; returns the RSI at its index (None during the warm-up). A NaN is
    /// refused ([`FeatureError::NanInput`]) and leaves the state as it was.
    pub fn push(&mut self, x: f64) -> Result<Option<f64>, FeatureError> {
        reject_nan(NAME, &[x], self.seen)?;
        Ok(self.step(x))
    }

    /// Feeds a run of values, writing the RSI at each index to `out` (NaN during the warm-up). On
    /// a NaN or a length mismatch nothing is written and the state is unchanged.
    pub fn push_slice(&mut self, values: &[f64], out: &mut [f64]) -> Result<(), FeatureError> {
        check_out(values.len(), &[out.len()])?;
        reject_nan(NAME, values, self.seen)?;
        let mut i = 0;
        while i < values.len() && !matches!(self.phase, Phase::Running { .. }) {
            out[i] = self.step(values[i]).unwrap_or(f64::NAN);
            i += 1;
        }
        if let Phase::Running { prev, gain, loss } = &mut self.phase {
            (*prev, *gain, *loss) = roll(self.period, (*prev, *gain, *loss), &values[i..], &mut out[i..]);
            self.seen += values.len() - i;
        }
        Ok(())
    }

    /// One value, known not to be NaN.
    #[inline(always)]
    fn step(&mut self, x: f64) -> Option<f64> {
        self.seen += 1;
        let p = self.period;
        match &mut self.phase {
            Phase::Empty => {
                self.phase = Phase::Seeding {
                    prev: x,
                    changes: 0,
                    gain: 0.0,
                    loss: 0.0,
                };
                None
            }
            Phase::Seeding {
                prev,
                changes,
                gain,
                loss,
            } => {
                let d = x - *prev;
                *prev = x;
                if d < 0.0 {
                    *loss -= d;
                } else {
                    *gain += d;
                }
                *changes += 1;
                if *changes < p {
                    return None;
                }
                let inv = 1.0 / p as f64;
                let (gain, loss) = (*gain * inv, *loss * inv);
                self.phase = Phase::Running { prev: x, gain, loss };
                Some(rsi_of(gain, loss))
            }
            Phase::Running { prev, gain, loss } => {
                (*gain, *loss) = wilder(*gain, *loss, x - *prev, (p - 1) as f64, 1.0 / p as f64);
                *prev = x;
                Some(rsi_of(*gain, *loss))
            }
        }
    }
}

/// The running RSI over `values` from (previous value, average gain, average loss), writing every
/// output; returns the new triple. The same arithmetic as `step`, on locals.
fn roll(
    period: usize,
    (mut prev, mut gain, mut loss): (f64, f64, f64),
    values: &[f64],
    out: &mut [f64],
) -> (f64, f64, f64) {
    let (keep, inv) = ((period - 1) as f64, 1.0 / period as f64);
    for (o, &x) in out.iter_mut().zip(values) {
        (gain, loss) = wilder(gain, loss, x - prev, keep, inv);
        prev = x;
        *o = rsi_of(gain, loss);
    }
    (prev, gain, loss)
}

/// One Wilder step of the averages for a change `d`, as TA-Lib 0.8: ·(p−1), + the gain or the
/// loss (a negative change is a loss; anything else, NaN included, a gain), ·(1/p). Adding 0 to
/// the other average is exact, so both are updated without a branch.
#[inline(always)]
fn wilder(gain: f64, loss: f64, d: f64, keep: f64, inv: f64) -> (f64, f64) {
    let is_loss = d < 0.0;
    let add_loss = if is_loss { -d } else { 0.0 };
    let add_gain = if is_loss { 0.0 } else { d };
    ((gain * keep + add_gain) * inv, (loss * keep + add_loss) * inv)
}

/// 100·gain/(gain + loss), 0 when the sum is within TA-Lib's epsilon of zero.
#[inline(always)]
fn rsi_of(gain: f64, loss: f64) -> f64 {
    const TA_EPSILON: f64 = 1e-14;
    let sum = gain + loss;
    if -TA_EPSILON < sum && sum < TA_EPSILON {
        0.0
    } else {
        100.0 * (gain / sum)
    }
}

/// The serialized form, checked on the way in.
#[derive(Serialize, Deserialize)]
struct RsiStateRepr {
    period: usize,
    seen: usize,
    phase: Phase,
}

impl From<RsiState> for RsiStateRepr {
    fn from(s: RsiState) -> Self {
        Self {
            period: s.period,
            seen: s.seen,
            phase: s.phase,
        }
    }
}

impl TryFrom<RsiStateRepr> for RsiState {
    type Error = FeatureError;

    fn try_from(r: RsiStateRepr) -> Result<Self, FeatureError> {
        let mut state = RsiState::new(r.period)?;
        let consistent = match r.phase {
            Phase::Empty => r.seen == 0,
            Phase::Seeding { changes, .. } => changes < r.period && r.seen == changes + 1,
            Phase::Running { .. } => r.seen > r.period,
        };
        if !consistent {
            return Err(FeatureError::InvalidIndicator {
                indicator: NAME,
                reason: format!(
                    "a saved state (period {}, {} values) is not one RSI can be in",
                    r.period, r.seen
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
    fn flat_windows_read_zero_as_in_talib() {
        let r = rsi(&[5.0; 6], 2).unwrap();
        assert!(r[..2].iter().all(|v| v.is_nan()));
        assert!(r[2..].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn only_gains_read_100() {
        let r = rsi(&[1.0, 2.0, 3.0, 4.0, 5.0], 3).unwrap();
        assert_eq!(&r[3..], &[100.0, 100.0]);
    }

    #[test]
    fn the_smoothing_multiplies_by_the_reciprocal() {
        // p = 3: changes +1, −1, +2 give the seeds gain 3·(1/3) and loss 1·(1/3); then a loss
        // of 0.5: gain = (gain·2 + 0)·(1/3), loss = (loss·2 + 0.5)·(1/3).
        let r = rsi(&[1.0, 2.0, 1.0, 3.0, 2.5], 3).unwrap();
        let inv = 1.0 / 3.0;
        let (g0, l0) = (3.0 * inv, 1.0 * inv);
        assert_eq!(r[3], 100.0 * (g0 / (g0 + l0)));
        let (g, l) = ((g0 * 2.0) * inv, (l0 * 2.0 + 0.5) * inv);
        assert_eq!(r[4], 100.0 * (g / (g + l)));
    }

    #[test]
    fn saved_states_are_checked() {
        let mut s = RsiState::new(3).unwrap();
        for x in [1.0, 2.0, 1.5, 3.0, 2.0] {
            s.push(x).unwrap();
        }
        let json = serde_json::to_string(&s).unwrap();
        let back: RsiState = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        let bad = r#"{"period":3,"seen":2,"phase":{"running":{"prev":1.0,"gain":1.0,"loss":1.0}}}"#;
        assert!(serde_json::from_str::<RsiState>(bad).is_err());
        assert!(serde_json::from_str::<RsiState>(r#"{"period":1,"seen":0,"phase":"empty"}"#).is_err());
    }
}
