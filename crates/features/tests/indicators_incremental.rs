//! The indicator states against their batch functions: fed one value at a time, or in runs, or
//! saved (serde JSON) mid-way and restored — the way a stored state rolls one day forward — they
//! give the batch function's bits at every index. On the real BTC file and on random series.

use proptest::prelude::*;

use crate::support;
use talab_features::{AtrState, BollingerState, MacdState, RsiState, atr, bollinger, macd, rsi};

/// One of the four indicators with its parameters, over (high, low, close) bars.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Rsi(usize),
    Atr(usize),
    Macd(usize, usize, usize),
    Bollinger(usize, f64, f64),
}

/// The batch outputs, one vector per line.
fn batch(kind: Kind, h: &[f64], l: &[f64], c: &[f64]) -> Vec<Vec<f64>> {
    match kind {
        Kind::Rsi(p) => vec![rsi(c, p).unwrap()],
        Kind::Atr(p) => vec![atr(h, l, c, p).unwrap()],
        Kind::Macd(f, s, g) => {
            let m = macd(c, f, s, g).unwrap();
            vec![m.macd, m.signal, m.hist]
        }
        Kind::Bollinger(p, u, d) => {
            let b = bollinger(c, p, u, d).unwrap();
            vec![b.upper, b.middle, b.lower]
        }
    }
}

/// A state of any kind, pushed one bar at a time; `resume_at` saves it to JSON before that index
/// and goes on with the restored copy.
fn incremental(kind: Kind, h: &[f64], l: &[f64], c: &[f64], resume_at: Option<usize>) -> Vec<Vec<f64>> {
    fn run<S: serde::Serialize + serde::de::DeserializeOwned>(
        mut state: S,
        outputs: usize,
        n: usize,
        resume_at: Option<usize>,
        mut push: impl FnMut(&mut S, usize) -> Vec<f64>,
    ) -> Vec<Vec<f64>> {
        // As many lines as the batch function gives, even for an empty series.
        let mut lines: Vec<Vec<f64>> = vec![Vec::new(); outputs];
        for t in 0..n {
            if resume_at == Some(t) {
                let json = serde_json::to_string(&state).unwrap();
                state = serde_json::from_str(&json).unwrap_or_else(|e| panic!("restore {json}: {e}"));
            }
            let values = push(&mut state, t);
            assert_eq!(values.len(), lines.len(), "outputs per bar");
            for (line, v) in lines.iter_mut().zip(values) {
                line.push(v);
            }
        }
        lines
    }
    let nan = f64::NAN;
    match kind {
        Kind::Rsi(p) => run(RsiState::new(p).unwrap(), 1, c.len(), resume_at, |s, t| {
            vec![s.push(c[t]).unwrap().unwrap_or(nan)]
        }),
        Kind::Atr(p) => run(AtrState::new(p).unwrap(), 1, c.len(), resume_at, |s, t| {
            vec![s.push(h[t], l[t], c[t]).unwrap().unwrap_or(nan)]
        }),
        Kind::Macd(f, sl, g) => run(
            MacdState::new(f, sl, g).unwrap(),
            3,
            c.len(),
            resume_at,
            |s, t| match s.push(c[t]).unwrap() {
                Some(m) => vec![m.macd, m.signal, m.hist],
                None => vec![nan; 3],
            },
        ),
        Kind::Bollinger(p, u, d) => run(
            BollingerState::new(p, u, d).unwrap(),
            3,
            c.len(),
            resume_at,
            |s, t| match s.push(c[t]).unwrap() {
                Some(b) => vec![b.upper, b.middle, b.lower],
                None => vec![nan; 3],
            },
        ),
    }
}

fn assert_same_bits(what: &str, got: &[Vec<f64>], want: &[Vec<f64>]) {
    assert_eq!(got.len(), want.len(), "{what}: number of lines");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.len(), w.len(), "{what} line {k}: length");
        for (t, (a, b)) in g.iter().zip(w).enumerate() {
            assert_eq!(
                a.to_bits(),
                b.to_bits(),
                "{what} line {k} t{t}: pushed {a}, batch {b}"
            );
        }
    }
}

const BTC_KINDS: [Kind; 8] = [
    Kind::Rsi(14),
    Kind::Rsi(2),
    Kind::Atr(14),
    Kind::Atr(1),
    Kind::Macd(12, 26, 9),
    Kind::Macd(5, 35, 5),
    Kind::Bollinger(20, 2.0, 2.0),
    Kind::Bollinger(10, 1.5, 1.0),
];

#[test]
fn pushing_btc_one_day_at_a_time_gives_the_batch_bits() {
    let file = "coin_Bitcoin.csv";
    let (h, l, c) = (
        support::coin_column(file, "High"),
        support::coin_column(file, "Low"),
        support::coin_column(file, "Close"),
    );
    // Bollinger 20 re-centres every 640 days, so BTC's 2,862 days go through several re-centrings.
    for kind in BTC_KINDS {
        let want = batch(kind, &h, &l, &c);
        assert_same_bits(&format!("{kind:?}"), &incremental(kind, &h, &l, &c, None), &want);
        // Saved and restored the day before the last: the stored-state path.
        let resumed = incremental(kind, &h, &l, &c, Some(c.len() - 1));
        assert_same_bits(&format!("{kind:?} resumed"), &resumed, &want);
    }
}

#[test]
fn push_slice_in_runs_gives_the_batch_bits() {
    let c = support::coin_column("coin_Ethereum.csv", "Close");
    let want = rsi(&c, 14).unwrap();
    let mut state = RsiState::new(14).unwrap();
    let mut out = vec![0.0; c.len()];
    for (a, b) in [(0, 5), (5, 15), (15, 1000), (1000, c.len())] {
        state.push_slice(&c[a..b], &mut out[a..b]).unwrap();
    }
    assert!(out.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_eq!(state.value().map(f64::to_bits), want.last().map(|v| v.to_bits()));
}

/// Random bars: a random walk of closes with flat stretches and jumps (which exercise RSI's zero
/// case and Bollinger's re-centring), high and low around them.
fn bars(seed: u64, n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut price = 100.0;
    let (mut h, mut l, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let r = next();
        if r < 0.05 {
            price *= 50.0 * next() + 0.5; // a jump
        } else if r > 0.2 {
            price *= 1.0 + (next() - 0.5) * 0.1;
        } // else flat
        let spread = price * 0.03 * next();
        c.push(price);
        h.push(price + spread);
        l.push(price - spread * next());
    }
    (h, l, c)
}

fn kind_strategy() -> impl Strategy<Value = Kind> {
    prop_oneof![
        (2usize..40).prop_map(Kind::Rsi),
        (1usize..40).prop_map(Kind::Atr),
        (2usize..15, 0usize..20, 1usize..12).prop_map(|(f, extra, g)| Kind::Macd(f, f + extra, g)),
        (
            2usize..30,
            -3.0f64..3.0,
            prop_oneof![Just(None), (-3.0f64..3.0).prop_map(Some)]
        )
            .prop_map(|(p, u, d)| Kind::Bollinger(p, u, d.unwrap_or(u))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn incremental_equals_batch_on_random_series(
        kind in kind_strategy(),
        seed in any::<u64>(),
        n in 0usize..400,
        resume in proptest::option::of(0.0f64..1.0),
    ) {
        let (h, l, c) = bars(seed, n);
        let resume_at = resume.map(|f| (f * n as f64) as usize);
        let want = batch(kind, &h, &l, &c);
        assert_same_bits(&format!("{kind:?} seed {seed} n {n}"), &incremental(kind, &h, &l, &c, resume_at), &want);
    }
}
