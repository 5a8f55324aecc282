//! The `local` platform: tools registered at wiring time, chosen by `metadata.tool`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use talab_orchestrator::adapters::{self, LocalAdapter, LocalTool, LocalToolRegistry};
use talab_orchestrator::{
    AdapterOutput, EnvironmentConfig, Platform, PlatformAdapter, PlatformError, PriceTable, Task, TaskType,
    Usage,
};

/// A tool that "refreshes" the symbols it is given and counts its runs.
struct EmaRefresh {
    runs: AtomicUsize,
}

#[async_trait::async_trait]
impl LocalTool for EmaRefresh {
    fn name(&self) -> &str {
        "ema_refresh"
    }

    async fn run(&self, task: &Task) -> Result<AdapterOutput, PlatformError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let symbols = task
            .metadata
            .get("symbols")
            .and_then(|s| s.as_array())
            .ok_or_else(|| PlatformError::BadRequest {
                message: "ema_refresh needs metadata.symbols".into(),
            })?;
        let names: Vec<&str> = symbols.iter().filter_map(|s| s.as_str()).collect();
        Ok(AdapterOutput {
            output: format!("refreshed EMAs for {}", names.join(", ")),
            model: "ema_refresh".into(),
            usage: Usage::default(),
            cost_usd: Some(0.0),
        })
    }
}

struct Named(&'static str);

#[async_trait::async_trait]
impl LocalTool for Named {
    fn name(&self) -> &str {
        self.0
    }

    async fn run(&self, _task: &Task) -> Result<AdapterOutput, PlatformError> {
        Err(PlatformError::Transient {
            message: format!("{} is not wired in this test", self.0),
        })
    }
}

fn registry(ema: Arc<EmaRefresh>) -> LocalToolRegistry {
    LocalToolRegistry::new()
        .with(ema)
        .with(Arc::new(Named("memory_query")))
}

#[tokio::test]
async fn dispatches_on_metadata_tool() {
    let ema = Arc::new(EmaRefresh {
        runs: AtomicUsize::new(0),
    });
    let local = LocalAdapter::new(registry(ema.clone()));
    assert_eq!(local.platform(), Platform::Local);
    assert_eq!(
        local.status().message,
        "local tools registered: ema_refresh, memory_query"
    );
    let task = Task::new(TaskType::SqlDbWork, "Refresh EMAs for BTC, ETH")
        .with_metadata("tool", "ema_refresh")
        .with_metadata("symbols", serde_json::json!(["BTC", "ETH"]));
    let out = local.execute(&task).await.unwrap();
    assert_eq!(out.output, "refreshed EMAs for BTC, ETH");
    assert_eq!(ema.runs.load(Ordering::SeqCst), 1);
    let e = local
        .execute(&task.clone().with_metadata("tool", "memory_query"))
        .await
        .unwrap_err();
    assert_eq!(e.message(), "memory_query is not wired in this test");
}

#[tokio::test]
async fn unknown_or_missing_tool_is_a_bad_request_naming_the_registered_ones() {
    let ema = Arc::new(EmaRefresh {
        runs: AtomicUsize::new(0),
    });
    let local = LocalAdapter::new(registry(ema.clone()));
    let e = local
        .execute(&Task::new(TaskType::Debugging, "x").with_metadata("tool", "backtest"))
        .await
        .unwrap_err();
    assert!(matches!(e, PlatformError::BadRequest { .. }));
    assert_eq!(
        e.message(),
        "no local tool named 'backtest'; registered tools: ema_refresh, memory_query"
    );
    let e = local
        .execute(&Task::new(TaskType::Debugging, "x"))
        .await
        .unwrap_err();
    assert_eq!(
        e.message(),
        "the task names no local tool (set metadata.tool); registered tools: ema_refresh, memory_query"
    );
    let empty = LocalAdapter::new(LocalToolRegistry::new());
    let e = empty
        .execute(&Task::new(TaskType::Debugging, "x").with_metadata("tool", "a"))
        .await
        .unwrap_err();
    assert_eq!(
        e.message(),
        "no local tool named 'a'; no local tools are registered"
    );
    assert_eq!(ema.runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn registering_a_name_again_replaces_the_tool_and_build_wires_the_registry() {
    let ema = Arc::new(EmaRefresh {
        runs: AtomicUsize::new(0),
    });
    let mut tools = registry(ema.clone());
    let replaced = tools.register(Arc::new(Named("ema_refresh")));
    assert_eq!(
        replaced.map(|t| t.name().to_string()).as_deref(),
        Some("ema_refresh")
    );
    assert_eq!(tools.names(), ["ema_refresh", "memory_query"]);

    let built = adapters::build(
        &EnvironmentConfig::default(),
        Arc::new(PriceTable::builtin()),
        tools,
        Duration::from_secs(1),
    )
    .unwrap();
    let local = built.iter().find(|a| a.platform() == Platform::Local).unwrap();
    let e = local
        .execute(&Task::new(TaskType::Refactoring, "x").with_metadata("tool", "ema_refresh"))
        .await
        .unwrap_err();
    assert_eq!(e.message(), "ema_refresh is not wired in this test");
}
