//! The engine's retry layer and fallback on a real database: retries then success with every
//! attempt recorded and retry-after honoured, no retry on Auth/BadRequest/QuotaExhausted, fallback
//! when retries run out, and cool-down of a platform that keeps failing.

use std::sync::Arc;
use std::time::Duration;

use talab_orchestrator::stubs::StubAdapter;
use talab_orchestrator::{
    ATTEMPTS_KEY, Attempt, CooldownPolicy, Orchestrator, Platform, PlatformAdapter, PlatformError,
    QuotaConfig, RetryPolicy, TASK_ID_KEY, TalabOrchestrator, Task, TaskType, call_with_retries,
};

fn attempts(result: &talab_orchestrator::TaskResult) -> Vec<Attempt> {
    serde_json::from_value(result.metadata[ATTEMPTS_KEY].clone()).unwrap()
}

fn classes(attempts: &[Attempt]) -> Vec<(Platform, Option<&str>)> {
    attempts
        .iter()
        .map(|a| (a.platform, a.error_class.as_deref()))
        .collect()
}

fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy::new(max_attempts, Duration::from_millis(1), Duration::from_millis(5))
}

async fn engine(db: &talab_db::Database, adapters: Vec<Arc<StubAdapter>>) -> TalabOrchestrator {
    let adapters = adapters
        .into_iter()
        .map(|a| a as Arc<dyn PlatformAdapter>)
        .collect();
    TalabOrchestrator::open(db.clone(), adapters, QuotaConfig::default())
        .await
        .unwrap()
        .with_retry(fast_retry(4))
}

#[tokio::test]
async fn retries_then_succeeds_with_every_attempt_recorded() {
    for t in talab_db::testing::backends().await {
        let claude = Arc::new(
            StubAdapter::new(Platform::Claude)
                .then_err(PlatformError::RateLimited {
                    retry_after: Some(Duration::from_millis(40)),
                    message: "rate_limit_error".into(),
                })
                .then_err(PlatformError::Overloaded {
                    message: "overloaded_error".into(),
                }),
        );
        let orch = engine(&t.db, vec![claude.clone()]).await;
        let result = orch
            .execute(Task::new(TaskType::CodeGeneration, "write a parser"), true)
            .await;
        assert!(result.success, "{}: {:?}", t.label(), result.error);
        assert_eq!(result.platform, Platform::Claude);
        assert_eq!(claude.received().len(), 3, "{}", t.label());
        let made = attempts(&result);
        assert_eq!(
            classes(&made),
            [
                (Platform::Claude, Some("rate_limited")),
                (Platform::Claude, Some("overloaded")),
                (Platform::Claude, None)
            ],
            "{}",
            t.label()
        );
        assert_eq!(made[0].wait_seconds, 0.0);
        assert!(
            made[1].wait_seconds >= 0.040,
            "retry-after honoured: {}",
            made[1].wait_seconds
        );
        assert!(
            made[2].wait_seconds <= 0.005,
            "backoff capped: {}",
            made[2].wait_seconds
        );

        // The stored row has the same attempts.
        let id = result.metadata[TASK_ID_KEY].as_str().unwrap();
        let stored = orch.store().get(id).await.unwrap().unwrap();
        assert_eq!(attempts(&stored.result), made, "{}", t.label());
    }
}

#[tokio::test]
async fn never_retries_auth_bad_request_or_quota_and_falls_back() {
    for t in talab_db::testing::backends().await {
        for error in [
            PlatformError::Auth {
                message: "invalid x-api-key".into(),
            },
            PlatformError::BadRequest {
                message: "prompt is too long".into(),
            },
            PlatformError::QuotaExhausted {
                message: "insufficient_quota".into(),
            },
        ] {
            let class = error.class();
            let claude = Arc::new(StubAdapter::new(Platform::Claude).then_err(error));
            let chatgpt = Arc::new(StubAdapter::new(Platform::Chatgpt));
            let orch = engine(&t.db, vec![claude.clone(), chatgpt.clone()]).await;
            let result = orch.execute(Task::new(TaskType::CodeGeneration, "x"), true).await;
            assert!(result.success, "{} {class}: {:?}", t.label(), result.error);
            assert_eq!(result.platform, Platform::Chatgpt, "{class}");
            assert_eq!(claude.received().len(), 1, "{class} was retried");
            assert_eq!(chatgpt.received().len(), 1);
            assert_eq!(
                classes(&attempts(&result)),
                [(Platform::Claude, Some(class)), (Platform::Chatgpt, None)]
            );
        }
    }
}

#[tokio::test]
async fn exhausted_retries_fall_back_and_total_failure_lists_every_attempt() {
    for t in talab_db::testing::backends().await {
        let transient = || PlatformError::Transient {
            message: "HTTP 500".into(),
        };
        let claude = Arc::new(
            StubAdapter::new(Platform::Claude)
                .then_err(transient())
                .then_err(transient()),
        );
        let chatgpt = Arc::new(StubAdapter::new(Platform::Chatgpt));
        let orch = engine(&t.db, vec![claude.clone(), chatgpt.clone()])
            .await
            .with_retry(fast_retry(2));
        let result = orch.execute(Task::new(TaskType::Planning, "x"), true).await;
        assert_eq!(result.platform, Platform::Chatgpt, "{}", t.label());
        assert_eq!(claude.received().len(), 2);
        assert_eq!(attempts(&result).len(), 3);

        let dead = || PlatformError::Timeout {
            message: "no answer".into(),
        };
        let claude = Arc::new(
            StubAdapter::new(Platform::Claude)
                .then_err(dead())
                .then_err(dead()),
        );
        let gemini = Arc::new(StubAdapter::new(Platform::Gemini).then_err(PlatformError::Auth {
            message: "401".into(),
        }));
        let orch = engine(&t.db, vec![claude, gemini])
            .await
            .with_retry(fast_retry(2));
        let result = orch.execute(Task::new(TaskType::Planning, "x"), true).await;
        assert!(!result.success);
        let error = result.error.unwrap();
        assert!(
            error.starts_with("every platform tried failed: claude: timed out"),
            "{error}"
        );
        assert!(error.contains("gemini: authentication failed: 401"), "{error}");
        assert_eq!(result.platform, Platform::Gemini);
    }
}

#[tokio::test]
async fn a_platform_failing_repeatedly_is_cooled_down() {
    for t in talab_db::testing::backends().await {
        let mut claude = StubAdapter::new(Platform::Claude);
        for _ in 0..5 {
            claude = claude.then_err(PlatformError::Overloaded {
                message: "529".into(),
            });
        }
        let claude = Arc::new(claude);
        let chatgpt = Arc::new(StubAdapter::new(Platform::Chatgpt));
        let orch = engine(&t.db, vec![claude.clone(), chatgpt.clone()])
            .await
            .with_retry(fast_retry(1))
            .with_cooldown(CooldownPolicy {
                failures: 2,
                period: Duration::from_secs(600),
            });
        for _ in 0..2 {
            let r = orch.execute(Task::new(TaskType::Testing, "x"), true).await;
            assert_eq!(r.platform, Platform::Chatgpt);
        }
        assert_eq!(claude.received().len(), 2, "{}", t.label());
        let r = orch.execute(Task::new(TaskType::Testing, "x"), true).await;
        assert_eq!(claude.received().len(), 2, "a cooled-down platform is not called");
        assert_eq!(r.platform, Platform::Chatgpt);
        let skipped = &r.metadata["routing"]["skipped"];
        assert_eq!(skipped[0][0], "claude", "{skipped}");
        assert!(
            skipped[0][1].as_str().unwrap().contains("cooling down"),
            "{skipped}"
        );
        let status = orch.validate_environment().await;
        assert!(status[&Platform::Claude].message.contains("cooling down"));
        assert!(!status[&Platform::Chatgpt].message.contains("cooling down"));
    }
}

#[tokio::test(start_paused = true)]
async fn long_retry_after_is_waited_in_full_and_too_long_is_not_waited() {
    let policy = RetryPolicy::new(3, Duration::from_millis(100), Duration::from_secs(1));
    let calls = std::sync::atomic::AtomicU32::new(0);
    let started = tokio::time::Instant::now();
    let (result, made) = call_with_retries(&policy, Platform::Gemini, || async {
        if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Err(PlatformError::RateLimited {
                retry_after: Some(Duration::from_secs(34)),
                message: "RESOURCE_EXHAUSTED".into(),
            })
        } else {
            Ok(7)
        }
    })
    .await;
    assert_eq!(result, Ok(7));
    assert!(started.elapsed() >= Duration::from_secs(34));
    assert!(made[1].wait_seconds >= 34.0, "{made:?}");

    let (result, made) = call_with_retries(&policy, Platform::Gemini, || async {
        Err::<(), _>(PlatformError::RateLimited {
            retry_after: Some(Duration::from_secs(3600)),
            message: "come back in an hour".into(),
        })
    })
    .await;
    assert!(matches!(result, Err(PlatformError::RateLimited { .. })));
    assert_eq!(made.len(), 1, "a wait beyond max_retry_after falls back at once");

    let (_, made) = call_with_retries(&policy, Platform::Claude, || async {
        Err::<(), _>(PlatformError::Overloaded {
            message: "529".into(),
        })
    })
    .await;
    assert_eq!(made.len(), 3, "max_attempts counts every call");
    assert!(made.iter().skip(1).all(|a| a.wait_seconds <= 1.0));
}
