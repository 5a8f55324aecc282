//! Throughput of the EMA kernel (values per second): one long series, and many short ones as in a
//! refresh of many (symbol, tf, period) series. Run with `cargo bench -p talab-features --bench ema_kernel`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use talab_features::ema_into;

mod walk;

/// The walk with ~1 % of values missing (NaN), which the EMA carries over.
fn prices(n: usize, seed: u64) -> Vec<f64> {
    walk::walk(n, seed, Some(100))
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
