//! The tools the `local` platform runs: talab's own work, registered here at wiring time because
//! the orchestrator crate knows none of the other crates. A task names its tool in
//! `metadata.tool` (`talab run --tool NAME`, or a batch line's `"metadata": {"tool": …}`):
//! `memory_search` and `ema_refresh`.

use std::sync::Arc;

use talab_memory::MemoryError;
use talab_memory::search::SearchRequest;
use talab_orchestrator::adapters::{LocalTool, LocalToolRegistry};
use talab_orchestrator::{AdapterOutput, PlatformError, Task, Usage};

use tokio::sync::OnceCell;

use crate::app::App;
use crate::exit::CliError;
use crate::flow::ema_tool::{EMA_REFRESH_TOOL, EmaRefreshTool};

/// The names of the tools [`registry`] registers (what `talab status` lists without opening anything).
pub fn names() -> Vec<String> {
    vec![EMA_REFRESH_TOOL.to_string(), MEMORY_SEARCH.to_string()]
}

/// Every local tool, over the app's handles.
pub fn registry(app: &App) -> LocalToolRegistry {
    LocalToolRegistry::new()
        .with(Arc::new(MemorySearch { app: app.clone() }))
        .with(Arc::new(EmaRefresh {
            app: app.clone(),
            tool: OnceCell::new(),
        }))
}

/// `ema_refresh` for any task that names it (`talab run --tool ema_refresh`, a batch line): the
/// flow's [`EmaRefreshTool`] over the app's database, built on first use. `refresh-ema` and `demo`
/// register their own instance (with a progress bar and the run log) over this one.
struct EmaRefresh {
    app: App,
    tool: OnceCell<Arc<EmaRefreshTool>>,
}

#[async_trait::async_trait]
impl LocalTool for EmaRefresh {
    fn name(&self) -> &str {
        EMA_REFRESH_TOOL
    }

    async fn run(&self, task: &Task) -> Result<AdapterOutput, PlatformError> {
        let tool = self
            .tool
            .get_or_try_init(|| async {
                let features = self.app.features().await?;
                Ok::<_, CliError>(Arc::new(EmaRefreshTool::new(features, false)))
            })
            .await
            .map_err(|e| PlatformError::Transient {
                message: format!("the EMA tables cannot be opened: {}", e.message()),
            })?;
        tool.run(task).await
    }
}

/// `memory_search`: the memories closest to the task's prompt (or `metadata.query`), best first,
/// as text. The app's memory store is opened on first use, so registering the tool costs nothing.
struct MemorySearch {
    app: App,
}

pub const MEMORY_SEARCH: &str = "memory_search";

#[async_trait::async_trait]
impl LocalTool for MemorySearch {
    fn name(&self) -> &str {
        MEMORY_SEARCH
    }

    async fn run(&self, task: &Task) -> Result<AdapterOutput, PlatformError> {
        let query = task
            .metadata
            .get("query")
            .and_then(|q| q.as_str())
            .unwrap_or(&task.prompt)
            .to_string();
        let manager = self.app.memory().await.map_err(|e| PlatformError::Transient {
            message: format!("the memory store cannot be opened: {}", e.message()),
        })?;
        let outcome = manager
            .search_with(&SearchRequest::new(query))
            .await
            .map_err(|e| match e {
                MemoryError::EmptyQuery | MemoryError::InvalidSearch(_) => PlatformError::BadRequest {
                    message: e.to_string(),
                },
                other => PlatformError::Transient {
                    message: other.to_string(),
                },
            })?;
        let mut lines: Vec<String> = outcome
            .hits
            .iter()
            .map(|m| format!("[{:.3}] {} {}", m.relevance_score, m.id, m.content))
            .collect();
        if lines.is_empty() {
            lines.push(format!(
                "no memory matches (threshold {:.2}; {} below it, {} filtered out)",
                outcome.threshold_used, outcome.below_threshold, outcome.filtered_out
            ));
        }
        Ok(AdapterOutput {
            output: lines.join("\n"),
            model: format!(
                "{MEMORY_SEARCH} ({})",
                outcome
                    .embedder
                    .as_ref()
                    .map_or("the backend's own ranking", |e| e.name.as_str())
            ),
            usage: Usage::default(),
            cost_usd: Some(0.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Overrides};

    #[test]
    fn names_are_what_the_registry_registers() {
        let config = Config::load_with(&Overrides::default(), &|name| {
            (name == "TALAB_HOME").then(|| "/nonexistent/talab-home".to_string())
        })
        .unwrap();
        let mut registered = registry(&App::new(config)).names();
        registered.sort();
        assert_eq!(registered, names());
    }
}
