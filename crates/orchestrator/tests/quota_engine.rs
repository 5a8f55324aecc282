//! Quota through the engine: 50 concurrent tasks against a limit of 20 requests make exactly 20
//! calls to that platform (counted in the stub); the rest fall back to the next platform while it
//! has quota, then fail with a quota reason. Also: a budget routes around a spent platform.

use std::sync::Arc;

use talab_orchestrator::stubs::StubAdapter;
use talab_orchestrator::{
    Orchestrator, Platform, PlatformAdapter, PlatformQuota, QuotaConfig, TalabOrchestrator, Task, TaskType,
    execute_parallel,
};

fn requests(n: u64) -> PlatformQuota {
    PlatformQuota {
        requests_per_day: Some(n),
        ..PlatformQuota::default()
    }
}

#[tokio::test]
async fn fifty_concurrent_tasks_make_exactly_the_allowed_calls() {
    for t in talab_db::testing::backends().await {
        let claude = Arc::new(StubAdapter::new(Platform::Claude));
        let chatgpt = Arc::new(StubAdapter::new(Platform::Chatgpt));
        let quota = QuotaConfig::default()
            .with(Platform::Claude, requests(20))
            .with(Platform::Chatgpt, requests(10));
        let adapters = vec![
            claude.clone() as Arc<dyn PlatformAdapter>,
            chatgpt.clone() as Arc<dyn PlatformAdapter>,
        ];
        let orch = Arc::new(
            TalabOrchestrator::open(t.db.clone(), adapters, quota)
                .await
                .unwrap(),
        );
        let tasks = (0..50)
            .map(|i| Task::new(TaskType::CodeGeneration, format!("task {i}")))
            .collect();
        let results = execute_parallel(&orch, tasks, 50).await;

        assert_eq!(claude.received().len(), 20, "{}", t.label());
        assert_eq!(chatgpt.received().len(), 10, "{}", t.label());
        let on = |p| results.iter().filter(|r| r.success && r.platform == p).count();
        assert_eq!((on(Platform::Claude), on(Platform::Chatgpt)), (20, 10));
        let failures: Vec<&str> = results
            .iter()
            .filter(|r| !r.success)
            .map(|r| r.error.as_deref().unwrap())
            .collect();
        assert_eq!(failures.len(), 20);
        assert!(failures.iter().all(|e| e.contains("quota")), "{failures:?}");

        let lines = orch.quota().report().await.unwrap();
        let used: Vec<(Platform, i64, i64)> =
            lines.iter().map(|l| (l.platform, l.used, l.reserved)).collect();
        assert_eq!(
            used,
            [(Platform::Claude, 20, 0), (Platform::Chatgpt, 10, 0)],
            "{}",
            t.label()
        );
        let alerts = orch.quota().alerts(None).await.unwrap();
        assert_eq!(alerts.len(), 6, "50/80/90 % once each for both platforms");
    }
}

#[tokio::test]
async fn a_spent_budget_sends_tasks_elsewhere() {
    for t in talab_db::testing::backends().await {
        let claude = Arc::new(StubAdapter::new(Platform::Claude).with_cost(0.02));
        let chatgpt = Arc::new(StubAdapter::new(Platform::Chatgpt).with_cost(0.001));
        let quota = QuotaConfig::default().with(
            Platform::Claude,
            PlatformQuota {
                daily_budget_usd: Some(0.05),
                ..PlatformQuota::default()
            },
        );
        let adapters = vec![
            claude.clone() as Arc<dyn PlatformAdapter>,
            chatgpt as Arc<dyn PlatformAdapter>,
        ];
        let orch = TalabOrchestrator::open(t.db.clone(), adapters, quota)
            .await
            .unwrap();
        let mut platforms = Vec::new();
        for i in 0..5 {
            let r = orch
                .execute(Task::new(TaskType::Planning, format!("p{i}")), true)
                .await;
            assert!(r.success, "{:?}", r.error);
            platforms.push(r.platform);
        }
        // Without a price table a call is estimated at what the platform's last call cost: after
        // $0.04 the third $0.02 call would exceed $0.05, so it is refused before it is made and
        // the task falls back.
        assert_eq!(claude.received().len(), 2, "{}: {platforms:?}", t.label());
        assert_eq!(&platforms[..2], [Platform::Claude, Platform::Claude]);
        assert!(
            platforms[2..].iter().all(|p| *p == Platform::Chatgpt),
            "{platforms:?}"
        );
        let line = &orch.quota().lines(Platform::Claude).await.unwrap()[0];
        assert_eq!((line.used, line.reserved), (40_000, 0));
        let r = orch
            .execute(Task::new(TaskType::Planning, "once more"), true)
            .await;
        let attempts = r.metadata["attempts"].as_array().unwrap();
        assert_eq!(attempts[0]["error_class"], "quota_exhausted");
        assert!(
            attempts[0]["error"].as_str().unwrap().contains("talab's quota"),
            "{attempts:?}"
        );
    }
}
