//! The quota tracker against both backends: two pools on one database (two processes) never
//! exceed a limit together, requests and tokens are separate units, windows follow each
//! platform's reset time zone, alerts are recorded once per window, and the daily budget holds.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use talab_orchestrator::{Platform, PlatformQuota, QuotaConfig, QuotaError, QuotaTracker, QuotaUnit};

fn config(platform: Platform, quota: PlatformQuota) -> QuotaConfig {
    QuotaConfig::default().with(platform, quota)
}

fn requests(n: u64) -> PlatformQuota {
    PlatformQuota {
        requests_per_day: Some(n),
        ..PlatformQuota::default()
    }
}

#[tokio::test]
async fn two_pools_on_one_database_never_exceed_the_limit_together() {
    for t in talab_db::testing::backends().await {
        let cfg = config(Platform::Claude, requests(20));
        let a = QuotaTracker::open(t.db.clone(), cfg.clone()).await.unwrap();
        let other = talab_db::Database::connect(&t.url()).await.unwrap();
        let b = QuotaTracker::open(other.clone(), cfg).await.unwrap();
        let mut set = tokio::task::JoinSet::new();
        for i in 0..60 {
            let tracker = if i % 2 == 0 { a.clone() } else { b.clone() };
            set.spawn(async move { tracker.reserve(Platform::Claude, 0, 0.0).await });
        }
        let mut granted = Vec::new();
        let mut refused = 0;
        while let Some(r) = set.join_next().await {
            match r.unwrap() {
                Ok(res) => granted.push(res),
                Err(QuotaError::Exhausted { unit, limit, .. }) => {
                    assert_eq!((unit, limit), (QuotaUnit::Requests, 20));
                    refused += 1;
                }
                Err(e) => panic!("{}: {e}", t.label()),
            }
        }
        assert_eq!((granted.len(), refused), (20, 40), "{}", t.label());
        let line = &a.lines(Platform::Claude).await.unwrap()[0];
        assert_eq!((line.used, line.reserved, line.left()), (0, 20, 0));
        // Half settle, half release: the released ones can be reserved again.
        for (i, res) in granted.into_iter().enumerate() {
            if i % 2 == 0 {
                b.settle(res, 100, 0.0).await.unwrap();
            } else {
                a.release(res).await.unwrap();
            }
        }
        let line = &b.lines(Platform::Claude).await.unwrap()[0];
        assert_eq!(
            (line.used, line.reserved, line.left()),
            (10, 0, 10),
            "{}",
            t.label()
        );
        assert!(a.has_room(Platform::Claude).await.is_ok());
        other.close().await;
    }
}

#[tokio::test]
async fn requests_and_tokens_are_separate_units() {
    for t in talab_db::testing::backends().await {
        let cfg = config(
            Platform::Chatgpt,
            PlatformQuota {
                requests_per_day: Some(100),
                tokens_per_day: Some(1000),
                ..PlatformQuota::default()
            },
        );
        let q = QuotaTracker::open(t.db.clone(), cfg).await.unwrap();
        let first = q.reserve(Platform::Chatgpt, 600, 0.0).await.unwrap();
        match q.reserve(Platform::Chatgpt, 600, 0.0).await {
            Err(QuotaError::Exhausted {
                unit,
                used,
                reserved,
                wanted,
                ..
            }) => {
                assert_eq!(
                    (unit, used, reserved, wanted),
                    (QuotaUnit::Tokens, 0, 600, 600),
                    "{}",
                    t.label()
                );
            }
            other => panic!("{other:?}"),
        }
        // The refused reservation gave its request back.
        let lines = q.lines(Platform::Chatgpt).await.unwrap();
        assert_eq!((lines[0].unit, lines[0].reserved), (QuotaUnit::Requests, 1));
        q.settle(first, 350, 0.0).await.unwrap();
        let lines = q.lines(Platform::Chatgpt).await.unwrap();
        assert_eq!((lines[0].used, lines[1].used, lines[1].reserved), (1, 350, 0));
        let text = q.left_text(Platform::Chatgpt).await.unwrap();
        assert!(
            text.starts_with("99 requests of 100 requests left; 650 tokens of 1000 tokens left"),
            "{text}"
        );
        assert!(
            q.left_text(Platform::Claude).await.is_none(),
            "no limits, nothing tracked"
        );
        assert!(
            q.reserve(Platform::Claude, 1_000_000, 5.0)
                .await
                .unwrap()
                .held
                .is_empty()
        );
    }
}

#[tokio::test]
async fn windows_follow_the_reset_time_zone() {
    let t = talab_db::testing::sqlite().await;
    let now: Arc<Mutex<DateTime<Utc>>> =
        Arc::new(Mutex::new(Utc.with_ymd_and_hms(2026, 3, 10, 6, 30, 0).unwrap()));
    let clock = now.clone();
    let cfg = config(Platform::Gemini, requests(2)).with(Platform::Claude, requests(2));
    let q = QuotaTracker::open(t.db.clone(), cfg)
        .await
        .unwrap()
        .with_clock(move || *clock.lock().unwrap());
    // 06:30 UTC is 23:30 the day before in Los Angeles (PDT, UTC-7).
    assert_eq!(q.window(Platform::Gemini), "2026-03-09");
    assert_eq!(q.window(Platform::Claude), "2026-03-10");
    for _ in 0..2 {
        let r = q.reserve(Platform::Gemini, 0, 0.0).await.unwrap();
        q.settle(r, 0, 0.0).await.unwrap();
    }
    let refused = q.reserve(Platform::Gemini, 0, 0.0).await.unwrap_err().to_string();
    assert!(
        refused.contains("2026-03-09") && refused.contains("America/Los_Angeles"),
        "{refused}"
    );
    *now.lock().unwrap() = Utc.with_ymd_and_hms(2026, 3, 10, 7, 0, 0).unwrap();
    assert_eq!(q.window(Platform::Gemini), "2026-03-10");
    assert!(
        q.reserve(Platform::Gemini, 0, 0.0).await.is_ok(),
        "Pacific midnight started a new window"
    );
}

#[tokio::test]
async fn alerts_are_recorded_once_per_window() {
    for t in talab_db::testing::backends().await {
        let now = Arc::new(Mutex::new(Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap()));
        let clock = now.clone();
        let q = QuotaTracker::open(t.db.clone(), config(Platform::Claude, requests(10)))
            .await
            .unwrap()
            .with_clock(move || *clock.lock().unwrap());
        let mut seen = Vec::new();
        for _ in 0..10 {
            let r = q.reserve(Platform::Claude, 0, 0.0).await.unwrap();
            q.settle(r, 0, 0.0).await.unwrap();
            seen.push(q.alerts(None).await.unwrap().len());
        }
        assert_eq!(seen, [0, 0, 0, 0, 1, 1, 1, 2, 3, 3], "{}", t.label());
        let alerts = q.alerts(Some(Platform::Claude)).await.unwrap();
        let mut at: Vec<(i64, i64)> = alerts.iter().map(|a| (a.threshold, a.used)).collect();
        at.sort();
        assert_eq!(at, [(50, 5), (80, 8), (90, 9)]);
        assert!(alerts.iter().all(|a| a.window == "2026-05-01" && a.limit == 10));
        assert!(q.alerts(Some(Platform::Gemini)).await.unwrap().is_empty());

        *now.lock().unwrap() = Utc.with_ymd_and_hms(2026, 5, 2, 12, 0, 0).unwrap();
        for _ in 0..5 {
            let r = q.reserve(Platform::Claude, 0, 0.0).await.unwrap();
            q.settle(r, 0, 0.0).await.unwrap();
        }
        let alerts = q.alerts(None).await.unwrap();
        assert_eq!(alerts.len(), 4, "{}", t.label());
        assert_eq!(
            (alerts[0].window.as_str(), alerts[0].threshold),
            ("2026-05-02", 50)
        );
    }
}

#[tokio::test]
async fn the_daily_budget_refuses_what_would_exceed_it() {
    for t in talab_db::testing::backends().await {
        let cfg = config(
            Platform::Claude,
            PlatformQuota {
                daily_budget_usd: Some(0.01),
                ..PlatformQuota::default()
            },
        );
        let q = QuotaTracker::open(t.db.clone(), cfg).await.unwrap();
        for _ in 0..2 {
            let r = q.reserve(Platform::Claude, 0, 0.004).await.unwrap();
            q.settle(r, 0, 0.004).await.unwrap();
        }
        let e = q.reserve(Platform::Claude, 0, 0.004).await.unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(
                e,
                QuotaError::Exhausted {
                    unit: QuotaUnit::UsdMicros,
                    used: 8000,
                    ..
                }
            ),
            "{text}"
        );
        assert!(text.contains("$0.01") && text.contains("usd_micros"), "{text}");
        // A cheaper call still fits; then the budget is spent and even an unpriced call is refused.
        let r = q.reserve(Platform::Claude, 0, 0.0015).await.unwrap();
        q.settle(r, 0, 0.002).await.unwrap();
        assert!(
            q.reserve(Platform::Claude, 0, 0.0).await.is_err(),
            "{}",
            t.label()
        );
        assert!(
            q.has_room(Platform::Claude)
                .await
                .unwrap_err()
                .contains("usd_micros")
        );
    }
}
