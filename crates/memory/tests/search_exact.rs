//! The exact scan against the naive reference on random vectors: every score agrees, the
//! parallel path is bit-identical to the serial one, and the top hits are the reference's.

use proptest::prelude::*;
use talab_memory::search::matrix::{VectorMatrix, dot, naive_dot};

fn unit(v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.into_iter().map(|x| x / n).collect()
}

fn top(scores: &[f32], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));
    order.truncate(k);
    order
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn scan_equals_naive_reference(
        dim in 1usize..70,
        rows in 1usize..300,
        seed in proptest::collection::vec(-1.0f32..1.0, 1..4096),
    ) {
        let value = |i: usize| seed[i % seed.len()] * (1.0 + (i % 7) as f32 * 0.1);
        let mut matrix = VectorMatrix::new(dim);
        let vectors: Vec<Vec<f32>> = (0..rows).map(|r| unit((0..dim).map(|c| value(r * 31 + c * 7 + 3)).collect())).collect();
        for v in &vectors {
            matrix.push(v);
        }
        let query = unit((0..dim).map(|c| value(c * 13 + 1)).collect());
        let scores = matrix.scores(&query);
        let reference: Vec<f32> = vectors.iter().map(|v| naive_dot(v, &query)).collect();
        for (i, (s, r)) in scores.iter().zip(&reference).enumerate() {
            prop_assert!((s - r).abs() <= 1e-5, "row {i}: {s} vs {r}");
            prop_assert_eq!(s.to_bits(), dot(&vectors[i], &query).to_bits());
        }
        // Same top 10 unless two reference scores are closer than the rounding difference.
        let (ours, theirs) = (top(&scores, 10), top(&reference, 10));
        let sorted: Vec<f32> = theirs.iter().map(|i| reference[*i]).collect();
        if sorted.windows(2).all(|w| w[0] - w[1] > 3e-5) {
            prop_assert_eq!(ours, theirs);
        }
    }
}

#[test]
fn large_matrices_scan_in_parallel_with_identical_results() {
    // 3000 × 384 values exceed the parallel cut-off, so this takes the multi-thread path.
    let dim = 384;
    let mut matrix = VectorMatrix::new(dim);
    let mut state = 7u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let vectors: Vec<Vec<f32>> = (0..3000)
        .map(|_| unit((0..dim).map(|_| next()).collect()))
        .collect();
    for v in &vectors {
        matrix.push(v);
    }
    let query = unit((0..dim).map(|_| next()).collect());
    let scores = matrix.scores(&query);
    assert_eq!(scores.len(), 3000);
    for (v, s) in vectors.iter().zip(&scores) {
        assert_eq!(s.to_bits(), dot(v, &query).to_bits());
        assert!((s - naive_dot(v, &query)).abs() <= 1e-5);
    }
}
