//! Orchestration overhead and batch throughput against instant stub adapters on SQLite (a temp
//! file): one task through routing + quota + retries + ledger + task store, and 1,000 tasks through
//! `execute_parallel` with 10 % of calls answering RateLimited (retried after a 1 ms backoff).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use talab_orchestrator::stubs::StubAdapter;
use talab_orchestrator::{
    AdapterOutput, Orchestrator, Platform, PlatformAdapter, PlatformError, PlatformQuota, PlatformStatus,
    QuotaConfig, RetryPolicy, TalabOrchestrator, Task, TaskType, execute_parallel,
};

/// Every tenth call is rate limited; counts calls.
struct Flaky {
    inner: StubAdapter,
    calls: AtomicU64,
}

#[async_trait::async_trait]
impl PlatformAdapter for Flaky {
    fn platform(&self) -> Platform {
        self.inner.platform()
    }

    fn status(&self) -> PlatformStatus {
        self.inner.status()
    }

    async fn execute(&self, task: &Task) -> Result<AdapterOutput, PlatformError> {
        if self.calls.fetch_add(1, Ordering::Relaxed) % 10 == 9 {
            return Err(PlatformError::RateLimited {
                retry_after: None,
                message: "rate_limit_exceeded".into(),
            });
        }
        self.inner.execute(task).await
    }
}

async fn engine(dir: &std::path::Path, adapter: Arc<dyn PlatformAdapter>) -> TalabOrchestrator {
    let db = talab_db::Database::connect(&format!("sqlite://{}", dir.join("bench.db").display()))
        .await
        .unwrap();
    let quota = QuotaConfig::default().with(
        Platform::Claude,
        PlatformQuota {
            requests_per_day: Some(100_000_000),
            tokens_per_day: Some(u64::MAX / 4),
            ..PlatformQuota::default()
        },
    );
    TalabOrchestrator::open(db, vec![adapter], quota)
        .await
        .unwrap()
        .with_retry(RetryPolicy::new(
            4,
            Duration::from_millis(1),
            Duration::from_millis(4),
        ))
}

fn overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let orch = rt.block_on(engine(dir.path(), Arc::new(StubAdapter::new(Platform::Claude))));
    let task = Task::new(TaskType::CodeGeneration, "write a function that adds two numbers");
    c.bench_function("execute one task (routing+quota+ledger+store, SQLite)", |b| {
        b.to_async(&rt).iter(|| orch.execute(task.clone(), true))
    });

    // p50 over plain samples, printed for the report.
    let mut samples: Vec<Duration> = (0..500)
        .map(|_| {
            let t0 = Instant::now();
            let r = rt.block_on(orch.execute(task.clone(), true));
            assert!(r.success);
            t0.elapsed()
        })
        .collect();
    samples.sort();
    println!(
        "overhead per task over 500 runs: p50 {:?}, p90 {:?}, p99 {:?}",
        samples[250], samples[450], samples[495]
    );
}

fn batch(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let flaky = Arc::new(Flaky {
        inner: StubAdapter::new(Platform::Claude),
        calls: AtomicU64::new(0),
    });
    let orch = Arc::new(rt.block_on(engine(dir.path(), flaky.clone())));
    let tasks: Vec<Task> = (0..1000)
        .map(|i| Task::new(TaskType::Planning, format!("task {i}")))
        .collect();
    for parallel in [1usize, 16] {
        let before = flaky.calls.load(Ordering::Relaxed);
        let t0 = Instant::now();
        let results = rt.block_on(execute_parallel(&orch, tasks.clone(), parallel));
        let wall = t0.elapsed();
        let ok = results.iter().filter(|r| r.success).count();
        let calls = flaky.calls.load(Ordering::Relaxed) - before;
        println!(
            "1000 tasks, --parallel {parallel}, 10 % RateLimited: wall {wall:?}, calls {calls}, succeeded {ok}"
        );
    }
    let mut group = c.benchmark_group("batch");
    group.sample_size(10);
    group.bench_function("1000 tasks, parallel 16, 10% rate limited", |b| {
        b.to_async(&rt)
            .iter(|| execute_parallel(&orch, tasks.clone(), 16))
    });
    group.finish();
}

criterion_group!(benches, overhead, batch);
criterion_main!(benches);
