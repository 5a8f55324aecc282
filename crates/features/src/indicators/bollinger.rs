//! Bollinger bands: TA-Lib's `BBANDS` with an SMA middle band, batch and incremental.
//!
//! # Definition (TA-Lib 0.8, `matype` SMA)
//! - Middle band: the SMA of the last `p` values, from a running sum (add the new value, divide
//!   by p, subtract the value leaving the window). First value at index p−1 (lookback p−1).
//! - Deviation: the **population** standard deviation of the same window (divided by p, not p−1),
//!   computed as TA-Lib 0.8 does to avoid cancellation: running sums of (x − shift) and
//!   (x − shift)², where `shift` starts as the first value; variance = S2/p − (S1/p)². The sums are
//!   re-centred on the window's mean (recomputed from the window) every 32·p values, or sooner
//!   when the variance falls below 1e-6 of S2/p or a value leaving the window dominates S2 (its
//!   square above 1e6·S2); after a re-centring a variance below 1e-12 of S2/p is 0. The deviation
//!   is √variance (0 when the variance is 0). No fused multiply-add.
//! - Bands: with k_up = k_dn, d = σ·k and the bands are middle ± d; otherwise middle + σ·k_up and
//!   middle − σ·k_dn. k may be any finite number within ±3e37 (TA-Lib's bounds; a negative k
//!   swaps the bands' sides, as in TA-Lib).
//!
//! Measured against TA-Lib 0.8.2 on the BTC and ETH daily closes (20/2/2, 10/1.5/1.5, 20/2/1,
//! 5/1/1) and on a synthetic series with jumps and flat stretches: every value of the three bands
//! bit-identical. TA-Lib ≤ 0.7's naive sum of squares agrees only to 1e-12 on the real files and
//! 1e-2 on the synthetic one. TA-Lib 0.8's sources have had slightly different re-centring triggers
//! over time; none of the tested data tells them apart, and this is the one its `bbands.c` of
//! 2026-08 documents.
//!
//! # TradingView
//! Pine's documented `ta.bb` is also an SMA middle band with `ta.stdev`, whose default (`biased`)
//! is the population deviation, so the definition is the same, with the first band at the same
//! bar; the values differ only in rounding (Pine's `ta.stdev` is computed its own way).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::{check_out, check_period, reject_nan};
use crate::FeatureError;

const NAME: &str = "BBANDS";

/// The index of the first bands: TA-Lib's `BBANDS_Lookback` for an SMA, period − 1.
pub fn bollinger_lookback(period: usize) -> usize {
    period.saturating_sub(1)
}

/// The three bands of a series, aligned to its index (NaN before [`bollinger_lookback`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Bollinger {
    /// Middle + σ·k_up.
    pub upper: Vec<f64>,
    /// The SMA.
    pub middle: Vec<f64>,
    /// Middle − σ·k_dn.
    pub lower: Vec<f64>,
}

/// The three bands at one index.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BollingerBands {
    /// Middle + σ·k_up.
    pub upper: f64,
    /// The SMA.
    pub middle: f64,
    /// Middle − σ·k_dn.
    pub lower: f64,
}

/// TA-Lib's `BBANDS(values, period, nbdevup, nbdevdn, SMA)`.
///
/// ```
/// let b = talab_features::bollinger(&[1.0, 2.0, 3.0, 4.0], 2, 2.0, 2.0).unwrap();
/// assert!(b.middle[0].is_nan());
/// // Window (1, 2): mean 1.5, population σ 0.5.
/// assert_eq!((b.lower[1], b.middle[1], b.upper[1]), (0.5, 1.5, 2.5));
/// ```
pub fn bollinger(
    values: &[f64],
    period: usize,
    nbdev_up: f64,
    nbdev_dn: f64,
) -> Result<Bollinger, FeatureError> {
    let n = values.len();
    let mut b = Bollinger {
        upper: vec![f64::NAN; n],
        middle: vec![f64::NAN; n],
        lower: vec![f64::NAN; n],
    };
    bollinger_into(
        values,
        period,
        nbdev_up,
        nbdev_dn,
        &mut b.upper,
        &mut b.middle,
        &mut b.lower,
    )?;
    Ok(b)
}

/// [`bollinger`] into three buffers of the input's length, without allocating.
pub fn bollinger_into(
    values: &[f64],
    period: usize,
    nbdev_up: f64,
    nbdev_dn: f64,
    upper: &mut [f64],
    middle: &mut [f64],
    lower: &mut [f64],
) -> Result<(), FeatureError> {
    let mut state = BollingerState::new(period, nbdev_up, nbdev_dn)?;
    check_out(values.len(), &[upper.len(), middle.len(), lower.len()])?;
    reject_nan(NAME, values, 0)?;
    // The batch walks the slice itself (the window is `values[i+1−p..=i]`) rather than through the
    // state's queue; both go through `Sums`, so the bits are the same.
    let lookback = period - 1;
    for (i, &x) in values.iter().enumerate() {
        if i < lookback {
            state.sums.warm(x, i == 0);
            upper[i] = f64::NAN;
            middle[i] = f64::NAN;
            lower[i] = f64::NAN;
            continue;
        }
        let window = &values[i - lookback..=i];
        let (mid, sd) = state.sums.roll(x, window[0], window.iter(), period);
        let b = state.bands(mid, sd);
        (upper[i], middle[i], lower[i]) = (b.upper, b.middle, b.lower);
    }
    Ok(())
}

/// TA-Lib 0.8's running sums for the SMA and the shifted variance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Sums {
    /// Sum of the window (the SMA's running total, never re-centred).
    ma: f64,
    /// The value the variance sums are centred on.
    shift: f64,
    /// Σ(x − shift).
    s1: f64,
    /// Σ(x − shift)².
    s2: f64,
    /// Values until the next scheduled re-centring.
    until_reseed: i64,
}

impl Sums {
    fn new(period: usize) -> Self {
        Self {
            ma: 0.0,
            shift: 0.0,
            s1: 0.0,
            s2: 0.0,
            until_reseed: reseed_every(period),
        }
    }

    /// Adds a value.
    #[inline(always)]
    fn add(&mut self, x: f64) {
        self.ma += x;
        let d = x - self.shift;
        self.s1 += d;
        self.s2 += d * d;
    }

    /// A value of the warm-up (before the first band); the very first one is the shift.
    #[inline(always)]
    fn warm(&mut self, x: f64, first: bool) {
        if first {
            self.shift = x;
        }
        self.add(x);
    }

    /// One value once the window is full: `trailing` is the value leaving the window and `window`
    /// the `period` values ending with `x`. Returns (middle, σ).
    #[inline(always)]
    fn roll<'a>(
        &mut self,
        x: f64,
        trailing: f64,
        window: impl Iterator<Item = &'a f64> + Clone,
        period: usize,
    ) -> (f64, f64) {
        let inv = 1.0 / period as f64;
        self.add(x);
        let m1 = self.s1 * inv;
        let mut variance = self.s2 * inv - m1 * m1;
        let middle = self.ma / period as f64;
        self.ma -= trailing;
        let d = trailing - self.shift;
        self.s1 -= d;
        let leaving = d * d;
        self.s2 -= leaving;
        self.until_reseed -= 1;
        if variance < 1e-6 * (self.s2 * inv) || leaving > 1e6 * self.s2 || self.until_reseed <= 0 {
            variance = self.reseed(window, inv, period);
        }
        let sd = if variance != 0.0 { variance.sqrt() } else { 0.0 };
        (middle, sd)
    }

    /// Re-centres the variance sums on the window's mean; returns the window's variance. The
    /// window's first value is then taken out, as `roll` already did for the SMA.
    #[cold]
    fn reseed<'a>(&mut self, window: impl Iterator<Item = &'a f64> + Clone, inv: f64, period: usize) -> f64 {
        self.until_reseed = reseed_every(period);
        let mut total = 0.0;
        for &w in window.clone() {
            total += w;
        }
        self.shift = total * inv;
        self.s1 = 0.0;
        self.s2 = 0.0;
        let mut first = None;
        for &w in window {
            first.get_or_insert(w);
            let d = w - self.shift;
            self.s1 += d;
            self.s2 += d * d;
        }
        let m1 = self.s1 * inv;
        let mut variance = self.s2 * inv - m1 * m1;
        if variance < 1e-12 * (self.s2 * inv) {
            variance = 0.0;
        }
        let d = first.unwrap_or(self.shift) - self.shift;
        self.s1 -= d;
        self.s2 -= d * d;
        variance
    }
}

/// TA-Lib's scheduled re-centring interval, 32 periods.
fn reseed_every(period: usize) -> i64 {
    32 * period as i64
}

/// Bollinger bands fed one value at a time; each `push` returns what [`bollinger`] gives at that
/// index, bit for bit. It keeps the last period − 1 values (the re-centring reads the window).
/// Clone or serialize it to save the state and go on later.
///
/// ```
/// use talab_features::{BollingerState, bollinger};
/// let x = [3.0, 4.5, 4.0, 5.5, 5.0, 6.5];
/// let mut state = BollingerState::new(3, 2.0, 2.0).unwrap();
/// let last = x.iter().map(|&v| state.push(v).unwrap()).last().flatten().unwrap();
/// assert_eq!(last.upper, bollinger(&x, 3, 2.0, 2.0).unwrap().upper[5]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "BollingerStateRepr", into = "BollingerStateRepr")]
pub struct BollingerState {
    period: usize,
    nbdev_up: f64,
    nbdev_dn: f64,
    /// Values taken so far (the index of the next one).
    seen: usize,
    /// The last period − 1 values (fewer during the warm-up).
    window: VecDeque<f64>,
    sums: Sums,
}

impl BollingerState {
    /// A fresh state: `period` 2…100,000, `nbdev_up`/`nbdev_dn` finite within ±3e37 (TA-Lib's bounds).
    pub fn new(period: usize, nbdev_up: f64, nbdev_dn: f64) -> Result<Self, FeatureError> {
        check_period(NAME, "period", period, 2)?;
        for (what, k) in [("nbdev_up", nbdev_up), ("nbdev_dn", nbdev_dn)] {
            if k.is_nan() || k.abs() > 3e37 {
                return Err(FeatureError::InvalidIndicator {
                    indicator: NAME,
                    reason: format!("{what} must be a finite number within ±3e37 (TA-Lib's bounds), got {k}"),
                });
            }
        }
        Ok(Self {
            period,
            nbdev_up,
            nbdev_dn,
            seen: 0,
            window: VecDeque::with_capacity(period),
            sums: Sums::new(period),
        })
    }

    /// (period, nbdev_up, nbdev_dn).
    pub fn params(&self) -> (usize, f64, f64) {
        (self.period, self.nbdev_up, self.nbdev_dn)
    }

    /// How many values the state has taken.
    pub fn seen(&self) -> usize {
        self.seen
    }

    /// Feeds the next value; returns the bands at its index (None during the warm-up). A NaN is
    /// refused ([`FeatureError::NanInput`]) and leaves the state as it was.
    pub fn push(&mut self, x: f64) -> Result<Option<BollingerBands>, FeatureError> {
        reject_nan(NAME, &[x], self.seen)?;
        let first = self.seen == 0;
        self.seen += 1;
        if self.window.len() + 1 < self.period {
            self.sums.warm(x, first);
            self.window.push_back(x);
            return Ok(None);
        }
        let trailing = self.window.front().copied().unwrap_or(x);
        let window = self.window.iter().chain(std::iter::once(&x));
        let (mid, sd) = self.sums.roll(x, trailing, window, self.period);
        self.window.pop_front();
        self.window.push_back(x);
        Ok(Some(self.bands(mid, sd)))
    }

    /// TA-Lib's band arithmetic.
    #[inline(always)]
    fn bands(&self, middle: f64, sd: f64) -> BollingerBands {
        if self.nbdev_up == self.nbdev_dn {
            let d = sd * self.nbdev_up;
            BollingerBands {
                upper: middle + d,
                middle,
                lower: middle - d,
            }
        } else {
            BollingerBands {
                upper: middle + sd * self.nbdev_up,
                middle,
                lower: middle - sd * self.nbdev_dn,
            }
        }
    }
}

/// The serialized form, checked on the way in.
#[derive(Serialize, Deserialize)]
struct BollingerStateRepr {
    period: usize,
    nbdev_up: f64,
    nbdev_dn: f64,
    seen: usize,
    window: Vec<f64>,
    sums: Sums,
}

impl From<BollingerState> for BollingerStateRepr {
    fn from(s: BollingerState) -> Self {
        Self {
            period: s.period,
            nbdev_up: s.nbdev_up,
            nbdev_dn: s.nbdev_dn,
            seen: s.seen,
            window: s.window.into(),
            sums: s.sums,
        }
    }
}

impl TryFrom<BollingerStateRepr> for BollingerState {
    type Error = FeatureError;

    fn try_from(r: BollingerStateRepr) -> Result<Self, FeatureError> {
        let mut state = BollingerState::new(r.period, r.nbdev_up, r.nbdev_dn)?;
        if r.window.len() != r.seen.min(r.period - 1) || r.window.iter().any(|x| x.is_nan()) {
            return Err(FeatureError::InvalidIndicator {
                indicator: NAME,
                reason: format!(
                    "a saved state (period {}, {} values) holds a window of {} values",
                    r.period,
                    r.seen,
                    r.window.len()
                ),
            });
        }
        state.seen = r.seen;
        state.window = r.window.into();
        state.sums = r.sums;
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn population_deviation_and_unequal_multipliers() {
        // Window (2, 4, 6): mean 4, population variance 8/3.
        let b = bollinger(&[2.0, 4.0, 6.0], 3, 2.0, 1.0).unwrap();
        let sd = (8.0f64 / 3.0).sqrt();
        assert_eq!(b.middle[2], 4.0);
        assert!((b.upper[2] - (4.0 + 2.0 * sd)).abs() < 1e-12);
        assert!((b.lower[2] - (4.0 - sd)).abs() < 1e-12);
    }

    #[test]
    fn a_flat_window_has_zero_width() {
        let b = bollinger(&[7.0, 7.0, 7.0, 7.0], 2, 2.0, 2.0).unwrap();
        assert_eq!(&b.upper[1..], &[7.0, 7.0, 7.0]);
        assert_eq!(&b.lower[1..], &[7.0, 7.0, 7.0]);
    }

    #[test]
    fn re_centring_keeps_a_jump_accurate() {
        // 100 then 1e9 plus small moves: without re-centring, (x − 100)² swamps the variance.
        let mut x = vec![100.0; 10];
        x.extend((0..40).map(|i| 1e9 + (i % 3) as f64));
        let b = bollinger(&x, 5, 1.0, 1.0).unwrap();
        let w = &x[45..50];
        let mean = w.iter().sum::<f64>() / 5.0;
        let sd = (w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 5.0).sqrt();
        assert!(
            ((b.upper[49] - b.middle[49]) - sd).abs() < 1e-6,
            "{} vs {sd}",
            b.upper[49] - b.middle[49]
        );
    }

    #[test]
    fn multipliers_are_checked() {
        assert!(BollingerState::new(20, f64::INFINITY, 2.0).is_err());
        assert!(BollingerState::new(20, 2.0, f64::NAN).is_err());
        assert!(BollingerState::new(1, 2.0, 2.0).is_err());
        assert!(BollingerState::new(20, -1.0, 0.0).is_ok());
    }

    #[test]
    fn saved_states_are_checked() {
        let mut s = BollingerState::new(3, 2.0, 2.0).unwrap();
        for x in [1.0, 2.0, 4.0, 3.0] {
            s.push(x).unwrap();
        }
        let json = serde_json::to_string(&s).unwrap();
        let back: BollingerState = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        let bad = json.replace("\"window\":[4.0,3.0]", "\"window\":[3.0]");
        assert_ne!(bad, json);
        assert!(serde_json::from_str::<BollingerState>(&bad).is_err());
    }
}
