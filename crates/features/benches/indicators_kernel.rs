//! Throughput of the indicator kernels (values per second) on the EMA kernel bench's shapes: one
//! series of 1M values, and 1,000 series of 3,000. `scripts/talib_compare.py --indicators` times
//! TA-Lib's C functions on the same data, for the ratio. Run with
//! `cargo bench -p talab-features --bench indicators_kernel`.

use std::hint::black_box;

use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use talab_features::{atr_into, bollinger_into, macd_into, rsi_into};

mod walk;

/// Bars from the kernel benches' random walk (xorshift64, ±4 % steps) without its NaNs, since these
/// kernels refuse missing values (and TA-Lib's timing is taken on clean data too); high and low
/// are the close ± 1 %.
struct Bars {
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
}

fn bars(n: usize, seed: u64) -> Bars {
    let close = walk::walk(n, seed, None);
    Bars {
        high: close.iter().map(|c| c * 1.01).collect(),
        low: close.iter().map(|c| c * 0.99).collect(),
        close,
    }
}

/// Buffers for the widest output (three lines).
struct Out([Vec<f64>; 3]);

impl Out {
    fn new(n: usize) -> Self {
        Self([vec![0.0; n], vec![0.0; n], vec![0.0; n]])
    }
}

/// One indicator call with its default-ish parameters (TA-Lib's defaults; Bollinger 20/2).
fn run(name: &str, b: &Bars, out: &mut Out) {
    let [o1, o2, o3] = &mut out.0;
    let c = black_box(&b.close[..]);
    match name {
        "rsi14" => rsi_into(c, 14, o1).unwrap(),
        "atr14" => atr_into(black_box(&b.high), black_box(&b.low), c, 14, o1).unwrap(),
        "macd12_26_9" => macd_into(c, 12, 26, 9, o1, o2, o3).unwrap(),
        "bbands20_2" => bollinger_into(c, 20, 2.0, 2.0, o1, o2, o3).unwrap(),
        _ => unreachable!(),
    }
    black_box(&out.0);
}

const INDICATORS: [&str; 4] = ["rsi14", "atr14", "macd12_26_9", "bbands20_2"];

fn bench_all(group: &mut BenchmarkGroup<'_, WallTime>, series: &[Bars], len: usize) {
    let mut out = Out::new(len);
    for name in INDICATORS {
        group.bench_function(name, |bench| {
            bench.iter(|| {
                for s in series {
                    run(name, s, &mut out);
                }
            });
        });
    }
}

fn one_long_series(c: &mut Criterion) {
    let series = [bars(1_000_000, 7)];
    let mut group = c.benchmark_group("indicators_1_series_x_1M");
    group.throughput(Throughput::Elements(1_000_000));
    bench_all(&mut group, &series, 1_000_000);
    group.finish();
}

fn many_short_series(c: &mut Criterion) {
    let series: Vec<Bars> = (0..1_000).map(|i| bars(3_000, 1_000 + i)).collect();
    let mut group = c.benchmark_group("indicators_1000_series_x_3000");
    group.throughput(Throughput::Elements(3_000_000));
    bench_all(&mut group, &series, 3_000);
    group.finish();
}

criterion_group!(benches, one_long_series, many_short_series);
criterion_main!(benches);
