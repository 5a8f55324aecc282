//! The EMA kernel on real data: the BTC 2010 fixture (1D p10, to 1e-12) and the full BTC and ETH
//! daily closes against a plain loop written from the spec's formula (to 1e-9 relative).

use crate::support;

use talab_features::{EmaState, ema, ema_into};

/// The spec's definition, written as plainly as possible and independently of the kernel:
/// mean of the first p values at p−1, then α·x + (1−α)·e (no missing values in these series).
fn reference_ema(x: &[f64], p: usize) -> Vec<Option<f64>> {
    let alpha = 2.0 / (p as f64 + 1.0);
    let mut out = vec![None; x.len()];
    if x.len() < p {
        return out;
    }
    let mut e = x[..p].iter().sum::<f64>() / p as f64;
    out[p - 1] = Some(e);
    for t in p..x.len() {
        e = alpha * x[t] + (1.0 - alpha) * e;
        out[t] = Some(e);
    }
    out
}

#[test]
fn fixture_1d_p10_to_1e_12() {
    let fx = support::fixture();
    assert_eq!(fx.len(), 50);
    let closes: Vec<f64> = fx.iter().map(|d| d.close).collect();
    let got = ema(&closes, 10).unwrap();
    let mut checked = 0;
    for (d, &g) in fx.iter().zip(&got) {
        match d.ema_1d_p10 {
            None => assert!(g.is_nan(), "day {} should have no value, has {g}", d.day_idx),
            Some(expected) => {
                assert!(
                    (g - expected).abs() <= 1e-12,
                    "day {}: {g} vs {expected}",
                    d.day_idx
                );
                checked += 1;
            }
        }
    }
    // Values from day 10 (the seed, 2010-07-22) to day 50.
    assert_eq!(checked, 41);
    assert_eq!(fx[9].date.to_string(), "2010-07-22");
    assert!((got[9] - 0.06628232).abs() <= 1e-12);
}

fn check_against_reference(name: &str, closes: &[f64]) {
    for p in [10, 20, 50, 200] {
        let got = ema(closes, p).unwrap();
        let want = reference_ema(closes, p);
        let mut worst: f64 = 0.0;
        for (t, (g, w)) in got.iter().zip(&want).enumerate() {
            match w {
                None => assert!(g.is_nan(), "{name} p{p} t{t}: value before the seed"),
                Some(w) => {
                    let rel = ((g - w) / w).abs();
                    assert!(rel <= 1e-9, "{name} p{p} t{t}: {g} vs {w} (rel {rel:e})");
                    worst = worst.max(rel);
                }
            }
        }
        // The two forms differ only by rounding: a few ulps, never more.
        assert!(worst < 1e-13, "{name} p{p}: worst relative difference {worst:e}");
        assert_eq!(got.iter().filter(|v| !v.is_nan()).count(), closes.len() - p + 1);
    }
}

#[test]
fn btc_daily_closes_match_a_plain_loop() {
    let rows = support::coin_closes("coin_Bitcoin.csv");
    assert_eq!(rows.len(), 2862);
    assert_eq!(rows[0].0.to_string(), "2013-04-29");
    let closes: Vec<f64> = rows.iter().map(|r| r.1).collect();
    check_against_reference("BTC", &closes);
}

#[test]
fn eth_daily_closes_match_a_plain_loop() {
    let rows = support::coin_closes("coin_Ethereum.csv");
    assert_eq!(rows.len(), 2031);
    let closes: Vec<f64> = rows.iter().map(|r| r.1).collect();
    check_against_reference("ETH", &closes);
}

#[test]
fn btc_values_talib_gives_bit_for_bit() {
    // TA-Lib 0.8.2 `EMA(close, 10)` on coin_Bitcoin.csv: its seed (index 9, 2013-05-08) and the
    // value of 2021-01-07 (index 2810), where the fused update and the unfused one differ by an ulp.
    let closes: Vec<f64> = support::coin_closes("coin_Bitcoin.csv")
        .iter()
        .map(|r| r.1)
        .collect();
    let got = ema(&closes, 10).unwrap();
    assert_eq!(got[9], 116.9265999);
    assert_eq!(got[2810], 32849.16004784195);
}

#[test]
fn batch_into_buffer_and_incremental_agree_on_btc() {
    let closes: Vec<f64> = support::coin_closes("coin_Bitcoin.csv")
        .iter()
        .map(|r| r.1)
        .collect();
    for p in [9, 21, 100] {
        let batch = ema(&closes, p).unwrap();
        let mut buf = vec![-1.0; closes.len()];
        ema_into(&closes, p, &mut buf).unwrap();
        let mut state = EmaState::new(p).unwrap();
        for (t, &x) in closes.iter().enumerate() {
            let pushed = state.push(x).unwrap_or(f64::NAN);
            assert_eq!(pushed.to_bits(), batch[t].to_bits(), "p{p} t{t}");
            assert_eq!(buf[t].to_bits(), batch[t].to_bits(), "p{p} t{t}");
        }
    }
}
