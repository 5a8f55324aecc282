//! The indicator kernels against live TA-Lib on the real BTC and ETH daily files: every output of
//! every tested period within 1e-9 relative, NaN at the same indices, and (as the kernels' docs
//! claim) bit-identical. TA-Lib is the PyPI package `TA-Lib` 0.8.2, installed with numpy into the
//! tests' own Python folder (`talab_db::testing::python::python_path`) and run by
//! `tests/talib_reference.py`. Also: parameter and NaN rejection.

use std::collections::HashMap;
use std::process::Command;
use std::sync::OnceLock;

use crate::support;
use talab_features::{
    AtrState, BollingerState, FeatureError, MacdState, RsiState, atr, bollinger, macd, rsi, rsi_into,
};

/// The pinned TA-Lib; its folder name carries the version so a new pin installs afresh.
const TALIB: (&str, &str) = ("talib-0.8.2", "TA-Lib==0.8.2");
const FILES: [&str; 2] = ["coin_Bitcoin.csv", "coin_Ethereum.csv"];
const RSI: [usize; 3] = [14, 2, 30];
const ATR: [usize; 3] = [14, 20, 1];
const MACD: [(usize, usize, usize); 3] = [(12, 26, 9), (5, 35, 5), (12, 12, 1)];
const BBANDS: [(usize, f64, f64); 4] = [(20, 2.0, 2.0), (10, 1.5, 1.5), (20, 2.0, 1.0), (5, 1.0, 1.0)];

/// TA-Lib's outputs for one data file, by the names `talib_reference.py` prints.
fn talib(file: &str) -> &'static HashMap<String, Vec<f64>> {
    static OUTPUTS: OnceLock<HashMap<String, HashMap<String, Vec<f64>>>> = OnceLock::new();
    let all = OUTPUTS.get_or_init(|| FILES.iter().map(|f| (f.to_string(), run_talib(f))).collect());
    &all[file]
}

fn run_talib(file: &str) -> HashMap<String, Vec<f64>> {
    let (folder, package) = TALIB;
    let path = talab_db::testing::python::python_path(folder, &[package]);
    let script = format!("{}/tests/talib_reference.py", env!("CARGO_MANIFEST_DIR"));
    let mut specs: Vec<String> = Vec::new();
    specs.extend(RSI.iter().map(|p| format!("rsi:{p}")));
    specs.extend(ATR.iter().map(|p| format!("atr:{p}")));
    specs.extend(MACD.iter().map(|(f, s, g)| format!("macd:{f}:{s}:{g}")));
    specs.extend(BBANDS.iter().map(|(p, u, d)| format!("bbands:{p}:{u}:{d}")));
    let out = Command::new("python3")
        .env("PYTHONPATH", &path)
        .arg(&script)
        .arg(support::data_path(file))
        .args(&specs)
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed: {stderr}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("talib,0.8.2"),
        "the reference must be the pinned TA-Lib"
    );
    lines
        .map(|line| {
            let mut fields = line.split(',');
            let name = fields.next().unwrap().to_string();
            let values = fields
                .map(|v| v.parse::<f64>().unwrap_or_else(|e| panic!("{name}: {v}: {e}")))
                .collect();
            (name, values)
        })
        .collect()
}

/// Same length, NaN at the same indices, within 1e-9 relative, and the same bits; returns how many
/// values were compared.
fn assert_matches(what: &str, got: &[f64], want: &[f64]) -> usize {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let mut compared = 0;
    let mut differing = Vec::new();
    for (t, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.is_nan(), w.is_nan(), "{what} t{t}: talab {g}, TA-Lib {w}");
        if w.is_nan() {
            continue;
        }
        let rel = if w == 0.0 { g.abs() } else { ((g - w) / w).abs() };
        assert!(
            rel <= 1e-9,
            "{what} t{t}: talab {g}, TA-Lib {w} (relative {rel:e})"
        );
        if g.to_bits() != w.to_bits() {
            differing.push(t);
        }
        compared += 1;
    }
    assert!(compared > 0, "{what}: TA-Lib gave no value at all");
    assert!(
        differing.is_empty(),
        "{what}: within 1e-9 but {} of {compared} values differ in their bits (first at t{}), \
         while the kernel's doc says bit-identical",
        differing.len(),
        differing[0]
    );
    compared
}

struct Prices {
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
}

fn prices(file: &str) -> Prices {
    Prices {
        high: support::coin_column(file, "High"),
        low: support::coin_column(file, "Low"),
        close: support::coin_column(file, "Close"),
    }
}

#[test]
fn rsi_matches_talib_on_btc_and_eth() {
    for file in FILES {
        let (p, want) = (prices(file), talib(file));
        for period in RSI {
            let got = rsi(&p.close, period).unwrap();
            let n = assert_matches(
                &format!("{file} rsi:{period}"),
                &got,
                &want[&format!("rsi:{period}")],
            );
            assert_eq!(n, p.close.len() - period);
        }
    }
}

#[test]
fn atr_matches_talib_on_btc_and_eth() {
    for file in FILES {
        let (p, want) = (prices(file), talib(file));
        for period in ATR {
            let got = atr(&p.high, &p.low, &p.close, period).unwrap();
            let n = assert_matches(
                &format!("{file} atr:{period}"),
                &got,
                &want[&format!("atr:{period}")],
            );
            assert_eq!(n, p.close.len() - period);
        }
    }
}

#[test]
fn macd_matches_talib_on_btc_and_eth() {
    for file in FILES {
        let (p, want) = (prices(file), talib(file));
        for (fast, slow, signal) in MACD {
            let got = macd(&p.close, fast, slow, signal).unwrap();
            let key = format!("macd:{fast}:{slow}:{signal}");
            for (part, line) in [("macd", &got.macd), ("signal", &got.signal), ("hist", &got.hist)] {
                let n = assert_matches(
                    &format!("{file} {key}:{part}"),
                    line,
                    &want[&format!("{key}:{part}")],
                );
                assert_eq!(n, p.close.len() - (slow - 1) - (signal - 1));
            }
        }
    }
}

#[test]
fn bollinger_matches_talib_on_btc_and_eth() {
    for file in FILES {
        let (p, want) = (prices(file), talib(file));
        for (period, up, down) in BBANDS {
            let got = bollinger(&p.close, period, up, down).unwrap();
            let key = format!("bbands:{period}:{up}:{down}");
            for (part, line) in [
                ("upper", &got.upper),
                ("middle", &got.middle),
                ("lower", &got.lower),
            ] {
                let n = assert_matches(
                    &format!("{file} {key}:{part}"),
                    line,
                    &want[&format!("{key}:{part}")],
                );
                assert_eq!(n, p.close.len() - (period - 1));
            }
        }
    }
}

#[test]
fn spot_values_talib_prints() {
    // Printed by tests/talib_reference.py with TA-Lib 0.8.2 on coin_Bitcoin.csv: RSI(14) at its
    // first index (14) and ATR(1), the true range, at index 1 (2013-04-30). Checked without Python.
    let p = prices("coin_Bitcoin.csv");
    assert_eq!(rsi(&p.close, 14).unwrap()[14], 33.81120283304839);
    assert_eq!(atr(&p.high, &p.low, &p.close, 1).unwrap()[1], 12.879989600000016);
}

#[test]
fn parameters_outside_talib_bounds_are_refused() {
    let invalid = |r: Result<(), FeatureError>| matches!(r, Err(FeatureError::InvalidIndicator { .. }));
    for period in [0, 1, 100_001] {
        assert!(invalid(RsiState::new(period).map(drop)), "RSI {period}");
        assert!(invalid(rsi(&[1.0; 5], period).map(drop)), "RSI {period}");
    }
    assert!(invalid(AtrState::new(0).map(drop)));
    assert!(invalid(AtrState::new(100_001).map(drop)));
    assert!(invalid(MacdState::new(1, 26, 9).map(drop)));
    assert!(invalid(MacdState::new(12, 26, 0).map(drop)));
    assert!(invalid(MacdState::new(26, 12, 9).map(drop)));
    assert!(invalid(macd(&[1.0; 50], 12, 100_001, 9).map(drop)));
    assert!(invalid(BollingerState::new(1, 2.0, 2.0).map(drop)));
    assert!(invalid(BollingerState::new(20, 2.0, f64::INFINITY).map(drop)));
    assert!(invalid(bollinger(&[1.0; 5], 2, 4e37, 2.0).map(drop)));
    // The smallest periods TA-Lib allows are accepted.
    assert!(RsiState::new(2).is_ok() && AtrState::new(1).is_ok() && MacdState::new(2, 2, 1).is_ok());
    let e = rsi(&[1.0; 5], 1).unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid RSI: the period must be from 2 to 100000 (TA-Lib's bounds), got 1"
    );
}

#[test]
fn nan_inputs_are_refused_with_their_index_and_leave_the_state_as_it_was() {
    let x = [1.0, 2.0, f64::NAN, 3.0];
    let e = rsi(&x, 2).unwrap_err();
    assert!(
        matches!(
            e,
            FeatureError::NanInput {
                indicator: "RSI",
                index: 2
            }
        ),
        "{e}"
    );
    assert!(matches!(
        macd(&x, 2, 3, 1),
        Err(FeatureError::NanInput { index: 2, .. })
    ));
    assert!(matches!(
        bollinger(&x, 2, 2.0, 2.0),
        Err(FeatureError::NanInput { index: 2, .. })
    ));
    let e = atr(&[1.0, 2.0], &[0.5, f64::NAN], &[1.0, 1.5], 1).unwrap_err();
    assert!(
        matches!(
            e,
            FeatureError::NanInput {
                indicator: "ATR",
                index: 1
            }
        ),
        "{e}"
    );

    let mut state = RsiState::new(2).unwrap();
    state.push(1.0).unwrap();
    let before = state.clone();
    let e = state.push(f64::NAN).unwrap_err();
    assert!(matches!(e, FeatureError::NanInput { index: 1, .. }), "{e}");
    assert_eq!(state, before);
    let mut out = vec![-1.0; 3];
    assert!(state.push_slice(&[2.0, f64::NAN, 3.0], &mut out).is_err());
    assert_eq!(state, before);
    assert_eq!(out, vec![-1.0; 3], "nothing is written before the NaN either");
}

#[test]
fn output_buffers_must_fit_and_short_series_give_only_nan() {
    let mut out = vec![0.0; 2];
    assert!(matches!(
        rsi_into(&[1.0, 2.0, 3.0], 2, &mut out),
        Err(FeatureError::LengthMismatch { values: 3, out: 2 })
    ));
    assert!(rsi(&[1.0, 2.0], 2).unwrap().iter().all(|v| v.is_nan()));
    assert!(
        atr(&[1.0; 3], &[1.0; 3], &[1.0; 3], 3)
            .unwrap()
            .iter()
            .all(|v| v.is_nan())
    );
    assert!(macd(&[1.0; 9], 3, 6, 5).unwrap().macd.iter().all(|v| v.is_nan()));
    assert!(
        bollinger(&[1.0; 4], 5, 2.0, 2.0)
            .unwrap()
            .middle
            .iter()
            .all(|v| v.is_nan())
    );
    assert!(rsi(&[], 14).unwrap().is_empty());
}
