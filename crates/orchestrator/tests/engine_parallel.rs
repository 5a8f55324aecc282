//! `execute_parallel` over the real engine: results in input order, independent failures, the
//! concurrency limit respected (measured as the most calls in flight in the adapter), and start
//! order by priority.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use talab_orchestrator::stubs::StubAdapter;
use talab_orchestrator::{
    AdapterOutput, Platform, PlatformAdapter, PlatformError, PlatformStatus, QuotaConfig, TalabOrchestrator,
    Task, TaskType, execute_parallel,
};

/// A stub that takes a while and counts how many calls overlap.
struct Slow {
    inner: StubAdapter,
    delay: Duration,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

#[async_trait::async_trait]
impl PlatformAdapter for Slow {
    fn platform(&self) -> Platform {
        self.inner.platform()
    }

    fn status(&self) -> PlatformStatus {
        self.inner.status()
    }

    async fn execute(&self, task: &Task) -> Result<AdapterOutput, PlatformError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if task.prompt.starts_with("fail") {
            return Err(PlatformError::BadRequest {
                message: format!("refused: {}", task.prompt),
            });
        }
        self.inner.execute(task).await
    }
}

#[tokio::test]
async fn results_keep_input_order_with_independent_failures_and_a_concurrency_limit() {
    for t in talab_db::testing::backends().await {
        let slow = Arc::new(Slow {
            inner: StubAdapter::new(Platform::Claude),
            delay: Duration::from_millis(20),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let orch = Arc::new(
            TalabOrchestrator::open(
                t.db.clone(),
                vec![slow.clone() as Arc<dyn PlatformAdapter>],
                QuotaConfig::default(),
            )
            .await
            .unwrap(),
        );
        let tasks: Vec<Task> = (0..24)
            .map(|i| {
                let prompt = if i % 5 == 3 {
                    format!("fail {i}")
                } else {
                    format!("task {i}")
                };
                Task::new(TaskType::Planning, prompt).with_priority((i % 3) as u8)
            })
            .collect();
        let results = execute_parallel(&orch, tasks.clone(), 4).await;
        assert_eq!(results.len(), 24);
        for (i, (r, t_in)) in results.iter().zip(&tasks).enumerate() {
            assert_eq!(r.task.prompt, t_in.prompt, "result {i} is out of order");
            assert_eq!(r.success, i % 5 != 3, "{i}: {:?}", r.error);
        }
        assert!(results[3].error.as_deref().unwrap().contains("refused: fail 3"));
        let max = slow.max_in_flight.load(Ordering::SeqCst);
        assert!(max <= 4, "{}: {max} calls in flight with a limit of 4", t.label());
        assert!(
            max >= 2,
            "{}: the tasks did run concurrently (max {max})",
            t.label()
        );
    }
}

#[tokio::test]
async fn priority_decides_the_start_order() {
    let t = talab_db::testing::sqlite().await;
    let claude = Arc::new(StubAdapter::new(Platform::Claude));
    let orch = Arc::new(
        TalabOrchestrator::open(
            t.db.clone(),
            vec![claude.clone() as Arc<dyn PlatformAdapter>],
            QuotaConfig::default(),
        )
        .await
        .unwrap(),
    );
    let tasks = vec![
        Task::new(TaskType::Planning, "low").with_priority(9),
        Task::new(TaskType::Planning, "high").with_priority(0),
        Task::new(TaskType::Planning, "mid").with_priority(5),
        Task::new(TaskType::Planning, "high2").with_priority(0),
    ];
    let results = execute_parallel(&orch, tasks, 1).await;
    let out: Vec<&str> = results.iter().map(|r| r.task.prompt.as_str()).collect();
    assert_eq!(out, ["low", "high", "mid", "high2"]);
    let started: Vec<String> = claude.received().into_iter().map(|t| t.prompt).collect();
    assert_eq!(started, ["high", "high2", "mid", "low"]);
    assert!(execute_parallel(&orch, vec![], 3).await.is_empty());
}
