//! Loading the BTC CSV (2,862 days) into a fresh SQLite file and building its 1D bars, end to end:
//! parse, diff, batched upserts, validation and the bar rebuild in one transaction.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use talab_features::{IngestOptions, ingest_csv};

fn ingest_btc(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/coin_Bitcoin.csv");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut group = c.benchmark_group("ingest");
    group.sample_size(20);
    group.bench_function("btc_csv_sqlite_with_1d_bars", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}/bench.db", dir.path().display());
                let db = rt.block_on(talab_db::Database::connect(&url)).unwrap();
                rt.block_on(db.migrate(&talab_features::MIGRATIONS)).unwrap();
                (dir, db)
            },
            |(dir, db)| {
                let report = rt
                    .block_on(ingest_csv(&db, Path::new(path), &IngestOptions::default()))
                    .unwrap();
                assert_eq!(report.bars, 2862);
                rt.block_on(db.close());
                drop(dir);
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, ingest_btc);
criterion_main!(benches);
