//! RSI with Wilder's smoothing (TA-Lib's `RSI` with no unstable period), the filter of the
//! crossover signals.
//!
//! The first value, at index `period`, averages the first `period` gains and losses simply; then
//! `avg = (avg·(period − 1) + x) / period`. RSI = 100·gain/(gain + loss), which equals
//! 100 − 100/(1 + RS) and is 0 when nothing moved (TA-Lib's convention). NaN before the first value.

/// The RSI period of the signal filter.
pub const RSI_PERIOD: usize = 14;

/// Wilder's RSI of `closes` (one asset, oldest first); NaN where it is not defined yet.
///
/// ```
/// let up: Vec<f64> = (1..=20).map(f64::from).collect();
/// let r = talab_features::signals::rsi_wilder(&up, 14);
/// assert!(r[13].is_nan());
/// assert_eq!(r[14], 100.0); // only gains
/// ```
pub fn rsi_wilder(closes: &[f64], period: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; closes.len()];
    if period == 0 || closes.len() <= period {
        return out;
    }
    let rsi = |gain: f64, loss: f64| {
        let total = gain + loss;
        if total == 0.0 { 0.0 } else { 100.0 * gain / total }
    };
    let n = period as f64;
    let (mut gain, mut loss) = (0.0, 0.0);
    for i in 1..=period {
        let d = closes[i] - closes[i - 1];
        if d > 0.0 {
            gain += d;
        } else {
            loss -= d;
        }
    }
    gain /= n;
    loss /= n;
    out[period] = rsi(gain, loss);
    for i in period + 1..closes.len() {
        let d = closes[i] - closes[i - 1];
        let (g, l) = if d > 0.0 { (d, 0.0) } else { (0.0, -d) };
        gain = (gain * (n - 1.0) + g) / n;
        loss = (loss * (n - 1.0) + l) / n;
        out[i] = rsi(gain, loss);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_hand_computed_wilder_rsi() {
        // period 2: changes +1, −1 → avg gain 0.5, avg loss 0.5 → 50; then +2: gain (0.5 + 2)/2 = 1.25,
        // loss 0.25 → 100·1.25/1.5.
        let r = rsi_wilder(&[10.0, 11.0, 10.0, 12.0], 2);
        assert!(r[0].is_nan() && r[1].is_nan());
        assert_eq!(r[2], 50.0);
        assert!((r[3] - 100.0 * 1.25 / 1.5).abs() < 1e-12);
        assert_eq!(rsi_wilder(&[5.0; 20], 14)[14], 0.0);
        let down: Vec<f64> = (1..=20).rev().map(f64::from).collect();
        assert_eq!(rsi_wilder(&down, 14)[19], 0.0);
        assert!(rsi_wilder(&[1.0, 2.0], 14).iter().all(|x| x.is_nan()));
    }
}
