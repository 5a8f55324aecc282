//! Throughput of the EMA kernel (values per second): one long series, and many short ones as in a
//! refresh of many (symbol, tf, period) series. Run with `cargo bench -p talab-features --bench ema_kernel`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use talab_features::ema_into;

/// A deterministic random walk of prices with ~1 % of values missing (NaN).
fn prices(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed | 1;
    let mut price = 100.0;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let r = (s >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
            price *= 1.0 + (r - 0.5) * 0.08;
            if s.is_multiple_of(100) { f64::NAN } else { price }
        })
        .collect()
}

fn one_long_series(c: &mut Criterion) {
    let values = prices(1_000_000, 7);
    let mut out = vec![0.0; values.len()];
    let mut group = c.benchmark_group("ema_1_series_x_1M");
    group.throughput(Throughput::Elements(values.len() as u64));
    for period in [10, 200] {
        group.bench_with_input(BenchmarkId::from_parameter(period), &period, |b, &p| {
            b.iter(|| ema_into(black_box(&values), p, &mut out).unwrap());
        });
    }
    group.finish();
}

fn many_short_series(c: &mut Criterion) {
    let series: Vec<Vec<f64>> = (0..1_000).map(|i| prices(3_000, 1_000 + i)).collect();
    let mut out = vec![0.0; 3_000];
    let mut group = c.benchmark_group("ema_1000_series_x_3000");
    group.throughput(Throughput::Elements((series.len() * 3_000) as u64));
    for period in [10, 200] {
        group.bench_with_input(BenchmarkId::from_parameter(period), &period, |b, &p| {
            b.iter(|| {
                for s in &series {
                    ema_into(black_box(s), p, &mut out).unwrap();
                    black_box(&out);
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, one_long_series, many_short_series);
criterion_main!(benches);
