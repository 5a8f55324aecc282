//! ATR: TA-Lib's `ATR` (Wilder's average true range), batch and incremental.
//!
//! # Definition (TA-Lib 0.8, unstable period 0)
//! - True range at t ≥ 1: start from high_t − low_t, replace it by |close_{t−1} − high_t| if that
//!   is greater, then by |close_{t−1} − low_t| if that is greater (TA-Lib's order; index 0 has no
//!   previous close and no true range).
//! - Seed: the first `p` true ranges (indices 1…p) summed from 0 in order, divided by p, written
//!   at index p (lookback p); indices 0…p−1 are NaN.
//! - Then Wilder's smoothing in TA-Lib 0.8's two-coefficient form: β = (p−1)/p, α = 1 − β (α from
//!   β, so α + β is exactly 1), and atr ← fma(β, atr, α·tr), one rounding for the multiply-add.
//!   Period 1 is the true range itself (α = 1, β = 0), as TA-Lib's `ATR(…, 1)` is `TRANGE`.
//!
//! Measured against TA-Lib 0.8.2 on the BTC and ETH daily files, periods 1, 14 and 20: every value
//! bit-identical. The three-statement form of TA-Lib ≤ 0.7 (`atr·(p−1)`, `+ tr`, `/ p`) matches
//! a quarter to a third of them (worst 1.1e-15 relative); α computed first as 1/p almost none.
//!
//! # TradingView
//! Pine's documented `ta.atr(length)` is `ta.rma(ta.tr(true), length)`: its true range on the first
//! bar is high − low (no previous close), and that bar enters the RMA's SMA seed, so its first ATR
//! is one bar earlier than TA-Lib's and averages a different set of ranges. The recurrence after
//! the seed is the same Wilder smoothing, so the two converge as the seed is forgotten.

use serde::{Deserialize, Serialize};

use super::{check_out, check_period};
use crate::FeatureError;

const NAME: &str = "ATR";

/// The index of the first ATR: TA-Lib's `ATR_Lookback`, the period.
pub fn atr_lookback(period: usize) -> usize {
    period
}

/// The ATR of the bars (`high`, `low`, `close`, the same length) with period `period`
/// (1…100,000); NaN before index `period`.
///
/// ```
/// let (h, l, c) = ([10.0, 11.0, 12.0, 11.5], [9.0, 10.0, 10.5, 10.0], [9.5, 10.8, 11.0, 10.2]);
/// let a = talab_features::atr(&h, &l, &c, 2).unwrap();
/// assert!(a[0].is_nan() && a[1].is_nan());
/// // True ranges: 1.5 (11 − 9.5) and 1.5 (12 − 10.5); the seed is their mean.
/// assert_eq!(a[2], 1.5);
/// ```
pub fn atr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, FeatureError> {
    let mut out = vec![f64::NAN; close.len()];
    atr_into(high, low, close, period, &mut out)?;
    Ok(out)
}

/// [`atr`] into a buffer of the same length, without allocating.
pub fn atr_into(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    out: &mut [f64],
) -> Result<(), FeatureError> {
    AtrState::new(period)?.push_slice(high, low, close, out)
}

/// Where an [`AtrState`] is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    /// No bar yet.
    Empty,
    /// `ranges` true ranges summed so far (fewer than the period).
    Seeding { close: f64, ranges: usize, total: f64 },
    /// Running: the ATR after the last bar.
    Running { close: f64, atr: f64 },
}

/// An ATR fed one bar at a time; each `push` returns what [`atr`] gives at that index, bit for
/// bit. Clone or serialize it to save the state and go on later.
///
/// ```
/// use talab_features::{AtrState, atr};
/// let (h, l, c) = ([10.0, 11.0, 12.0, 11.5], [9.0, 10.0, 10.5, 10.0], [9.5, 10.8, 11.0, 10.2]);
/// let mut state = AtrState::new(2).unwrap();
/// let last = (0..4).map(|i| state.push(h[i], l[i], c[i]).unwrap()).last().flatten();
/// assert_eq!(last, Some(atr(&h, &l, &c, 2).unwrap()[3]));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "AtrStateRepr", into = "AtrStateRepr")]
pub struct AtrState {
    period: usize,
    /// Bars taken so far (the index of the next one).
    seen: usize,
    phase: Phase,
}

impl AtrState {
    /// A fresh state for `period` (1…100,000, TA-Lib's bounds).
    pub fn new(period: usize) -> Result<Self, FeatureError> {
        check_period(NAME, "period", period, 1)?;
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

    /// How many bars the state has taken.
    pub fn seen(&self) -> usize {
        self.seen
    }

    /// The ATR after the last bar, or None during the warm-up.
    pub fn value(&self) -> Option<f64> {
        match self.phase {
            Phase::Running { atr, .. } => Some(atr),
            _ => None,
        }
    }

    /// Feeds the next bar; returns the ATR at its index (None during the warm-up). A NaN in any of
    /// the three is refused ([`FeatureError::NanInput`]) and leaves the state as it was.
    pub fn push(&mut self, high: f64, low: f64, close: f64) -> Result<Option<f64>, FeatureError> {
        reject_bar_nan(high, low, close, self.seen)?;
        Ok(self.step(high, low, close))
    }

    /// Feeds a run of bars, writing the ATR at each index to `out` (NaN during the warm-up). On a
    /// NaN or unequal lengths nothing is written and the state is unchanged.
    pub fn push_slice(
        &mut self,
        high: &[f64],
        low: &[f64],
        close: &[f64],
        out: &mut [f64],
    ) -> Result<(), FeatureError> {
        if high.len() != close.len() || low.len() != close.len() {
            return Err(FeatureError::InvalidIndicator {
                indicator: NAME,
                reason: format!(
                    "high, low and close must have the same length, got {}, {} and {}",
                    high.len(),
                    low.len(),
                    close.len()
                ),
            });
        }
        check_out(close.len(), &[out.len()])?;
        for i in 0..close.len() {
            reject_bar_nan(high[i], low[i], close[i], self.seen + i)?;
        }
        let mut i = 0;
        while i < close.len() && !matches!(self.phase, Phase::Running { .. }) {
            out[i] = self.step(high[i], low[i], close[i]).unwrap_or(f64::NAN);
            i += 1;
        }
        if let Phase::Running { close: prev, atr } = &mut self.phase {
            let bars = (&high[i..], &low[i..], &close[i..]);
            (*prev, *atr) = roll(self.period, (*prev, *atr), bars, &mut out[i..]);
            self.seen += close.len() - i;
        }
        Ok(())
    }

    /// One bar, known to hold no NaN.
    #[inline(always)]
    fn step(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        self.seen += 1;
        let p = self.period;
        match &mut self.phase {
            Phase::Empty => {
                self.phase = Phase::Seeding {
                    close,
                    ranges: 0,
                    total: 0.0,
                };
                None
            }
            Phase::Seeding {
                close: prev,
                ranges,
                total,
            } => {
                *total += true_range(high, low, *prev);
                *prev = close;
                *ranges += 1;
                if *ranges < p {
                    return None;
                }
                let atr = *total / p as f64;
                self.phase = Phase::Running { close, atr };
                Some(atr)
            }
            Phase::Running { close: prev, atr } => {
                let (alpha, beta) = coefficients(p);
                *atr = smooth(*atr, true_range(high, low, *prev), alpha, beta);
                *prev = close;
                Some(*atr)
            }
        }
    }
}

/// TA-Lib 0.8's Wilder coefficients: β = (p−1)/p first, then α = 1 − β.
#[inline(always)]
fn coefficients(period: usize) -> (f64, f64) {
    let beta = (period - 1) as f64 / period as f64;
    (1.0 - beta, beta)
}

/// One Wilder step: fma(β, atr, α·tr).
#[inline(always)]
fn smooth(atr: f64, tr: f64, alpha: f64, beta: f64) -> f64 {
    beta.mul_add(atr, alpha * tr)
}

type Bars<'a> = (&'a [f64], &'a [f64], &'a [f64]);

crate::fma::fma_dispatch! {
    /// The running ATR over the bars from (previous close, ATR), writing every output; returns the
    /// new pair. The same arithmetic as `step`, on locals.
    fn roll(period: usize, state: (f64, f64), bars: Bars<'_>, out: &mut [f64]) -> (f64, f64) => roll_body
}

#[inline(always)]
fn roll_body(
    period: usize,
    (mut prev, mut atr): (f64, f64),
    (high, low, close): Bars<'_>,
    out: &mut [f64],
) -> (f64, f64) {
    let (alpha, beta) = coefficients(period);
    for (i, o) in out.iter_mut().enumerate() {
        atr = smooth(atr, true_range(high[i], low[i], prev), alpha, beta);
        prev = close[i];
        *o = atr;
    }
    (prev, atr)
}

/// TA-Lib's true range: high − low, replaced by either previous-close distance that is greater.
#[inline(always)]
fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    let mut greatest = high - low;
    let up = (prev_close - high).abs();
    if up > greatest {
        greatest = up;
    }
    let down = (prev_close - low).abs();
    if down > greatest {
        greatest = down;
    }
    greatest
}

/// A bar's NaN as the error, at bar `index`.
fn reject_bar_nan(high: f64, low: f64, close: f64, index: usize) -> Result<(), FeatureError> {
    if high.is_nan() || low.is_nan() || close.is_nan() {
        return Err(FeatureError::NanInput {
            indicator: NAME,
            index,
        });
    }
    Ok(())
}

/// The serialized form, checked on the way in.
#[derive(Serialize, Deserialize)]
struct AtrStateRepr {
    period: usize,
    seen: usize,
    phase: Phase,
}

impl From<AtrState> for AtrStateRepr {
    fn from(s: AtrState) -> Self {
        Self {
            period: s.period,
            seen: s.seen,
            phase: s.phase,
        }
    }
}

impl TryFrom<AtrStateRepr> for AtrState {
    type Error = FeatureError;

    fn try_from(r: AtrStateRepr) -> Result<Self, FeatureError> {
        let mut state = AtrState::new(r.period)?;
        let consistent = match r.phase {
            Phase::Empty => r.seen == 0,
            Phase::Seeding { ranges, .. } => ranges < r.period && r.seen == ranges + 1,
            Phase::Running { .. } => r.seen > r.period,
        };
        if !consistent {
            return Err(FeatureError::InvalidIndicator {
                indicator: NAME,
                reason: format!(
                    "a saved state (period {}, {} bars) is not one ATR can be in",
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
    fn true_range_takes_the_greatest_distance() {
        assert_eq!(true_range(12.0, 10.0, 11.0), 2.0); // inside the bar
        assert_eq!(true_range(12.0, 10.0, 15.0), 5.0); // gap down
        assert_eq!(true_range(12.0, 10.0, 7.0), 5.0); // gap up
    }

    #[test]
    fn period_one_is_the_true_range() {
        let (h, l, c) = ([5.0, 6.0, 9.0], [4.0, 5.5, 8.0], [4.5, 6.0, 8.5]);
        let a = atr(&h, &l, &c, 1).unwrap();
        assert!(a[0].is_nan());
        assert_eq!(&a[1..], &[1.5, 3.0]);
    }

    #[test]
    fn the_smoothing_is_the_fused_two_coefficient_step() {
        // p = 3: seed (1 + 1 + 1)/3 = 1 at index 3, then tr = 4.5 (5 − the previous close 0.5).
        let h = [1.0, 1.0, 1.0, 1.0, 5.0];
        let l = [0.0, 0.0, 0.0, 0.0, 1.0];
        let c = [0.5, 0.5, 0.5, 0.5, 3.0];
        let a = atr(&h, &l, &c, 3).unwrap();
        assert_eq!(a[3], 1.0);
        let beta: f64 = 2.0 / 3.0;
        assert_eq!(a[4], beta.mul_add(1.0, (1.0 - beta) * 4.5));
    }

    #[test]
    fn unequal_inputs_are_refused() {
        let e = atr(&[1.0, 2.0], &[1.0], &[1.0, 2.0], 1).unwrap_err();
        assert!(e.to_string().contains("same length, got 2, 1 and 2"), "{e}");
    }
}
