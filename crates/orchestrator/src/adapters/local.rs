//! The `local` platform: talab's own tools (EMA refresh, memory queries), registered by other
//! crates at wiring time and run in-process — no AI, no key, no network. A task names its tool in
//! `metadata.tool`; an unknown or missing name is a BadRequest listing the registered tools.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::routing::{TOOL_KEY, task_tool};
use crate::{AdapterOutput, Platform, PlatformAdapter, PlatformError, PlatformStatus, Task};

/// One named local tool.
#[async_trait::async_trait]
pub trait LocalTool: Send + Sync {
    /// The name tasks use in `metadata.tool` (e.g. `ema_refresh`).
    fn name(&self) -> &str;

    /// Runs the task. Usage is normally zero and `cost_usd` `Some(0.0)`: nothing is billed.
    async fn run(&self, task: &Task) -> Result<AdapterOutput, PlatformError>;
}

/// The tools registered at wiring time, by name.
#[derive(Clone, Default)]
pub struct LocalToolRegistry {
    tools: BTreeMap<String, Arc<dyn LocalTool>>,
}

impl LocalToolRegistry {
    /// No tools.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tool under its name; a tool already registered under that name is replaced and returned.
    pub fn register(&mut self, tool: Arc<dyn LocalTool>) -> Option<Arc<dyn LocalTool>> {
        self.tools.insert(tool.name().to_string(), tool)
    }

    /// [`register`](Self::register), chained.
    pub fn with(mut self, tool: Arc<dyn LocalTool>) -> Self {
        self.register(tool);
        self
    }

    /// The registered names, sorted (what `EnvironmentConfig::local_tools` should hold).
    pub fn names(&self) -> Vec<String> {
        self.tools.keys().cloned().collect()
    }

    /// The tool registered under `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn LocalTool>> {
        self.tools.get(name)
    }

    fn listing(&self) -> String {
        if self.tools.is_empty() {
            "no local tools are registered".into()
        } else {
            format!("registered tools: {}", self.names().join(", "))
        }
    }
}

impl std::fmt::Debug for LocalToolRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalToolRegistry")
            .field("tools", &self.names())
            .finish()
    }
}

/// The `local` platform over a [`LocalToolRegistry`].
#[derive(Debug, Clone)]
pub struct LocalAdapter {
    registry: LocalToolRegistry,
}

impl LocalAdapter {
    /// Dispatches to the tools of `registry`.
    pub fn new(registry: LocalToolRegistry) -> Self {
        LocalAdapter { registry }
    }

    /// The tools it dispatches to.
    pub fn registry(&self) -> &LocalToolRegistry {
        &self.registry
    }
}

#[async_trait::async_trait]
impl PlatformAdapter for LocalAdapter {
    fn platform(&self) -> Platform {
        Platform::Local
    }

    fn status(&self) -> PlatformStatus {
        if self.registry.tools.is_empty() {
            PlatformStatus::ready("no local tools registered yet")
        } else {
            PlatformStatus::ready(format!(
                "local tools registered: {}",
                self.registry.names().join(", ")
            ))
        }
    }

    async fn execute(&self, task: &Task) -> Result<AdapterOutput, PlatformError> {
        let Some(name) = task_tool(task) else {
            return Err(PlatformError::BadRequest {
                message: format!(
                    "the task names no local tool (set metadata.{TOOL_KEY}); {}",
                    self.registry.listing()
                ),
            });
        };
        let Some(tool) = self.registry.get(name) else {
            return Err(PlatformError::BadRequest {
                message: format!("no local tool named '{name}'; {}", self.registry.listing()),
            });
        };
        tool.run(task).await
    }
}
