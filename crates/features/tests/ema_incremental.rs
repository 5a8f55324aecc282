//! Property: feeding a series one value at a time, with the state saved and restored at a random
//! split, gives bit-identical results to the batch kernel, whatever the NaN gaps.

use proptest::prelude::*;
use talab_features::{EmaState, ema};

/// Prices with random gaps: each value is missing with probability ~1/5.
fn series() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(prop_oneof![1 => Just(f64::NAN), 4 => 0.001f64..100_000.0], 0..400)
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn pushing_with_a_saved_state_equals_the_batch(
        values in series(),
        period in 1usize..60,
        split_frac in 0.0f64..=1.0,
        via_serde in any::<bool>(),
    ) {
        let batch = ema(&values, period).unwrap();
        let split = ((values.len() as f64) * split_frac) as usize;

        let mut first = EmaState::new(period).unwrap();
        let mut out: Vec<f64> = values[..split].iter().map(|&x| first.push(x).unwrap_or(f64::NAN)).collect();

        // Save and restore: a clone, or serde through JSON (exact with serde_json's
        // `float_roundtrip`, enabled for these tests).
        let mut second = if via_serde {
            let json = serde_json::to_string(&first).unwrap();
            let back: EmaState = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back.value().map(f64::to_bits), first.value().map(f64::to_bits));
            back
        } else {
            first.clone()
        };

        // Second half: alternately by push and by push_slice, which must agree too.
        let rest = &values[split..];
        let mid = rest.len() / 2;
        out.extend(rest[..mid].iter().map(|&x| second.push(x).unwrap_or(f64::NAN)));
        let mut tail = vec![0.0; rest.len() - mid];
        second.push_slice(&rest[mid..], &mut tail).unwrap();
        out.extend(tail);

        prop_assert_eq!(bits(&out), bits(&batch));
        let last = batch.last().copied().filter(|v| !v.is_nan());
        prop_assert_eq!(second.value().map(f64::to_bits), last.map(f64::to_bits));

        // The seed sits at the index of the period-th present value, and nothing is written before it.
        let seed_at = values.iter().enumerate().filter(|(_, x)| !x.is_nan()).nth(period - 1).map(|(i, _)| i);
        match seed_at {
            None => prop_assert!(batch.iter().all(|v| v.is_nan())),
            Some(i) => {
                prop_assert!(batch[..i].iter().all(|v| v.is_nan()));
                prop_assert!(batch[i..].iter().all(|v| !v.is_nan()));
            }
        }
    }
}
