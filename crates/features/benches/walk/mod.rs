//! The kernel benches' input: a deterministic random walk of prices (xorshift64, ±4 % steps), the
//! same series `scripts/talib_compare.py` rebuilds for TA-Lib's side of the comparison.

/// `n` prices from `seed`; with `nan_every = Some(k)`, a value is missing (NaN) wherever the
/// generator's state is a multiple of `k` (about 1 in `k`).
pub fn walk(n: usize, seed: u64, nan_every: Option<u64>) -> Vec<f64> {
    let mut s = seed | 1;
    let mut price = 100.0;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let r = (s >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
            price *= 1.0 + (r - 0.5) * 0.08;
            match nan_every {
                Some(k) if s.is_multiple_of(k) => f64::NAN,
                _ => price,
            }
        })
        .collect()
}
