//! The multi-timeframe EMA against the real-BTC fixture (`tests/data/ema_fixture_btc_2010.csv`), and incremental = full as a property.

use proptest::prelude::*;
use talab_features::ema::multi_tf::{MultiTfEmaState, TfDay, multi_tf_ema};

/// (close, roll_3d, ema_bar_3d_p10, ema_3d_p10) per fixture day.
fn fixture_3d() -> Vec<(f64, bool, Option<f64>, Option<f64>)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/ema_fixture_btc_2010.csv"
    );
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_path(path)
        .expect("the EMA fixture");
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let (close, roll, bar, ema) = (
        col("close"),
        col("roll_3d"),
        col("ema_bar_3d_p10"),
        col("ema_3d_p10"),
    );
    let opt = |s: &str| {
        if s.is_empty() {
            None
        } else {
            Some(s.parse::<f64>().unwrap())
        }
    };
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[close].parse().unwrap(),
                &r[roll] == "true",
                opt(&r[bar]),
                opt(&r[ema]),
            )
        })
        .collect()
}

#[test]
fn fixture_3d_period_10_matches_both_values() {
    let fixture = fixture_3d();
    let days: Vec<TfDay> = fixture
        .iter()
        .map(|&(close, roll, _, _)| TfDay {
            close,
            bar_close: !roll,
        })
        .collect();
    let rows = multi_tf_ema(&days, 10, 3.0).unwrap();
    let expected: Vec<usize> = fixture
        .iter()
        .enumerate()
        .filter(|(_, f)| f.2.is_some())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        rows.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        expected,
        "rows exactly where the fixture has values"
    );
    for (i, row) in &rows {
        let (_, roll, bar, ema) = fixture[*i];
        let (bar, ema) = (bar.unwrap(), ema.unwrap());
        assert!(
            ((row.ema_bar - bar) / bar).abs() <= 1e-12,
            "day {}: ema_bar {} vs {bar}",
            i + 1,
            row.ema_bar
        );
        assert!(
            ((row.ema - ema) / ema).abs() <= 1e-12,
            "day {}: ema {} vs {ema}",
            i + 1,
            row.ema
        );
        assert_eq!(row.roll, roll, "day {}", i + 1);
    }
    assert_eq!(rows.len(), 21);
}

fn series() -> impl Strategy<Value = (Vec<TfDay>, usize, usize, f64)> {
    (
        1usize..6,
        1usize..25,
        prop::sample::select(vec![1.0, 2.0, 3.0, 7.0, 30.0]),
    )
        .prop_flat_map(|(every, period, tf_days)| {
            let days = prop::collection::vec((1.0f64..1000.0, prop::bool::weighted(0.05)), 0..300).prop_map(
                move |v| {
                    v.into_iter()
                        .enumerate()
                        .map(|(i, (c, missing))| TfDay {
                            close: if missing { f64::NAN } else { c },
                            bar_close: (i + 1) % every == 0,
                        })
                        .collect::<Vec<_>>()
                },
            );
            (days, Just(period), Just(every), Just(tf_days))
        })
        .prop_flat_map(|(days, period, _every, tf_days)| {
            let n = days.len();
            (Just(days), Just(period), 0..=n, Just(tf_days))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Rolling forward from a state saved (as JSON) at any split point gives the same bits as one pass.
    #[test]
    fn incremental_from_a_saved_state_equals_a_full_build((days, period, split, tf_days) in series()) {
        let full = multi_tf_ema(&days, period, tf_days).unwrap();

        let mut first = MultiTfEmaState::new(period, tf_days).unwrap();
        let mut rows: Vec<(usize, _)> = Vec::new();
        for (i, d) in days[..split].iter().enumerate() {
            rows.extend(first.push(*d).map(|r| (i, r)));
        }
        let saved = serde_json::to_string(&first).unwrap();
        let mut resumed: MultiTfEmaState = serde_json::from_str(&saved).unwrap();
        for (i, d) in days.iter().enumerate().skip(split) {
            rows.extend(resumed.push(*d).map(|r| (i, r)));
        }
        prop_assert_eq!(rows.len(), full.len());
        for ((i, a), (j, b)) in rows.iter().zip(&full) {
            prop_assert_eq!(i, j);
            prop_assert_eq!(a.ema.to_bits(), b.ema.to_bits());
            prop_assert_eq!(a.ema_bar.to_bits(), b.ema_bar.to_bits());
            prop_assert_eq!(a.d1.map(f64::to_bits), b.d1.map(f64::to_bits));
            prop_assert_eq!(a.d2_roll.map(f64::to_bits), b.d2_roll.map(f64::to_bits));
        }
    }
}
