//! The engine's bookkeeping around a call: ids and chains, handoff of a previous result, the cost
//! ledger (sums, unknown prices flagged), strict hints, empty prompts, and quota in
//! `validate_environment`, on both backends.

use std::sync::Arc;

use talab_orchestrator::stubs::StubAdapter;
use talab_orchestrator::{
    CHAIN_ID_KEY, CORRELATION_ID_KEY, CostGrouping, Orchestrator, PREVIOUS_RESULT_KEY, PRICED_KNOWN_KEY,
    Platform, PlatformAdapter, PlatformQuota, PriceLookup, QuotaConfig, TASK_ID_KEY, TalabOrchestrator, Task,
    TaskType, Usage,
};

struct FlatPrice;

impl PriceLookup for FlatPrice {
    /// $1 per million tokens for "known-model", nothing else known.
    fn cost_usd(&self, _: Platform, model: &str, usage: &Usage) -> Option<f64> {
        (model == "known-model").then(|| usage.total() as f64 / 1e6)
    }
}

fn usage(input: u64, output: u64) -> Usage {
    Usage {
        input_uncached: input,
        output,
        ..Usage::default()
    }
}

fn dyns(adapters: &[Arc<StubAdapter>]) -> Vec<Arc<dyn PlatformAdapter>> {
    adapters
        .iter()
        .map(|a| a.clone() as Arc<dyn PlatformAdapter>)
        .collect()
}

#[tokio::test]
async fn followup_carries_the_previous_result_and_keeps_the_chain() {
    for t in talab_db::testing::backends().await {
        let claude = Arc::new(StubAdapter::new(Platform::Claude).with_output("step one done"));
        let orch = TalabOrchestrator::open(
            t.db.clone(),
            dyns(std::slice::from_ref(&claude)),
            QuotaConfig::default(),
        )
        .await
        .unwrap();
        let first = orch
            .execute(
                Task::new(TaskType::Planning, "plan").with_metadata(CORRELATION_ID_KEY, "corr-1"),
                true,
            )
            .await;
        assert!(first.success, "{}", t.label());
        assert_eq!(first.metadata[CORRELATION_ID_KEY], "corr-1");
        let chain = first.metadata[CHAIN_ID_KEY].as_str().unwrap().to_string();

        let second = orch
            .execute_followup(&first, Task::new(TaskType::CodeGeneration, "do step two"))
            .await;
        assert!(second.success);
        assert_eq!(second.metadata[CHAIN_ID_KEY], chain.as_str());
        assert_ne!(second.metadata[CORRELATION_ID_KEY], "corr-1");
        let sent = &claude.received()[1];
        assert_eq!(sent.context[PREVIOUS_RESULT_KEY]["output"], "step one done");
        assert_eq!(
            sent.context[PREVIOUS_RESULT_KEY]["task_id"],
            first.metadata[TASK_ID_KEY]
        );

        let stored = orch
            .store()
            .get(second.metadata[TASK_ID_KEY].as_str().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.chain_id.as_deref(), Some(chain.as_str()), "{}", t.label());
        let rows = orch.ledger().chain(&chain).await.unwrap();
        assert_eq!(rows.len(), 2, "{}", t.label());
        assert!(rows.iter().all(|r| r.platform == Platform::Claude));
    }
}

#[tokio::test]
async fn ledger_sums_by_platform_model_and_day_and_flags_unknown_prices() {
    for t in talab_db::testing::backends().await {
        let claude = Arc::new(
            StubAdapter::new(Platform::Claude)
                .with_usage(usage(1000, 500))
                .with_cost(0.0125),
        );
        let chatgpt = Arc::new(
            StubAdapter::new(Platform::Chatgpt)
                .with_model("known-model")
                .with_usage(usage(3000, 1000)),
        );
        let gemini = Arc::new(
            StubAdapter::new(Platform::Gemini)
                .with_model("mystery-1")
                .with_usage(usage(10, 20)),
        );
        let orch = TalabOrchestrator::open(
            t.db.clone(),
            dyns(&[claude, chatgpt, gemini]),
            QuotaConfig::default(),
        )
        .await
        .unwrap()
        .with_pricer(Arc::new(FlatPrice));
        for (ty, hint) in [
            (TaskType::Planning, Platform::Claude),
            (TaskType::Planning, Platform::Claude),
            (TaskType::Research, Platform::Chatgpt),
            (TaskType::DataAnalysis, Platform::Gemini),
        ] {
            let r = orch.execute(Task::new(ty, "x").with_hint(hint), true).await;
            assert_eq!(r.platform, hint, "{}", t.label());
        }
        let last = orch.execute(Task::new(TaskType::DataAnalysis, "x"), true).await;
        assert_eq!(
            (last.cost, last.metadata[PRICED_KNOWN_KEY].as_bool()),
            (0.0, Some(false))
        );

        let by_platform = orch.ledger().summary(None, CostGrouping::Platform).await.unwrap();
        let keys: Vec<&str> = by_platform.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["chatgpt", "claude", "gemini"], "{}", t.label());
        let claude_row = &by_platform[1];
        assert_eq!(claude_row.calls, 2);
        assert!(
            (claude_row.cost_usd - 0.025).abs() < 1e-12,
            "{}",
            claude_row.cost_usd
        );
        assert_eq!(claude_row.usage, usage(2000, 1000));
        assert!(
            (by_platform[0].cost_usd - 0.004).abs() < 1e-12,
            "priced by the table"
        );
        assert_eq!((by_platform[2].calls, by_platform[2].unpriced_calls), (2, 2));

        let total = orch.ledger().total(None).await.unwrap();
        assert_eq!((total.calls, total.unpriced_calls), (5, 2));
        assert!((total.cost_usd - 0.029).abs() < 1e-12);
        assert_eq!(total.usage.total(), 2 * 1500 + 4000 + 2 * 30);

        let by_model = orch.ledger().summary(None, CostGrouping::Model).await.unwrap();
        assert_eq!(
            by_model.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
            ["known-model", "mystery-1", "stub-claude"]
        );
        let by_day = orch.ledger().summary(None, CostGrouping::Day).await.unwrap();
        assert_eq!(by_day.len(), 1);
        assert_eq!(by_day[0].key, chrono::Utc::now().date_naive().to_string());
        let later = chrono::Utc::now() + chrono::TimeDelta::hours(1);
        assert!(
            orch.ledger()
                .summary(Some(later), CostGrouping::Day)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(orch.ledger().total(Some(later)).await.unwrap().calls, 0);
        assert_eq!("Model".parse::<CostGrouping>(), Ok(CostGrouping::Model));
        assert!("week".parse::<CostGrouping>().is_err());
    }
}

#[tokio::test]
async fn strict_hints_empty_prompts_and_environment_are_reported() {
    for t in talab_db::testing::backends().await {
        let claude = Arc::new(StubAdapter::new(Platform::Claude));
        let gemini = Arc::new(StubAdapter::new(Platform::Gemini).unconfigured("GEMINI_API_KEY is not set"));
        let quota = QuotaConfig::default().with(
            Platform::Claude,
            PlatformQuota {
                requests_per_day: Some(100),
                ..PlatformQuota::default()
            },
        );
        let orch = TalabOrchestrator::open(t.db.clone(), dyns(&[claude.clone(), gemini]), quota)
            .await
            .unwrap();

        let strict = Task::new(TaskType::Planning, "x")
            .with_hint(Platform::Gemini)
            .with_metadata("strict", true);
        let r = orch.execute(strict, true).await;
        assert!(!r.success);
        assert!(
            r.error.as_deref().unwrap().contains("GEMINI_API_KEY is not set"),
            "{:?}",
            r.error
        );
        let loose = orch
            .execute(
                Task::new(TaskType::Planning, "x").with_hint(Platform::Gemini),
                true,
            )
            .await;
        assert_eq!(loose.platform, Platform::Claude);
        assert!(
            loose.metadata["routing"]["hint_note"]
                .as_str()
                .unwrap()
                .contains("gemini was not used")
        );

        let empty = orch.execute(Task::new(TaskType::Planning, "  "), true).await;
        assert_eq!(empty.error.as_deref(), Some("the prompt is empty"));
        assert!(
            orch.store()
                .get(empty.metadata[TASK_ID_KEY].as_str().unwrap())
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(claude.received().len(), 1, "{}", t.label());

        let env = orch.validate_environment().await;
        assert!(
            env[&Platform::Claude]
                .quota_left
                .as_deref()
                .unwrap()
                .starts_with("99 requests of 100 requests left")
        );
        assert_eq!(env[&Platform::Gemini].quota_left, None);
        assert!(!env[&Platform::Gemini].configured);
        assert!(env[&Platform::Local].message.contains("no adapter registered"));
        assert_eq!(orch.store().list(0, 10).await.unwrap().total, 3);
    }
}
