//! talab's AI orchestrator: route typed tasks to Claude, Claude Code, ChatGPT (or any
//! OpenAI-compatible server), Gemini or talab's own local tools, and keep a record of every task.
//!
//! The pieces stand on their own: [`route`] decides where a task goes from the
//! [`PreferenceTable`] and what can run; [`validate_environment`] says what is configured;
//! [`TaskStore`] keeps results in SQLite or PostgreSQL; [`PlatformAdapter`] is the one trait a
//! platform implements; [`Orchestrator`] is the seed's contract tying them together. With the
//! `stubs` feature, [`stubs::OrchestratorStub`] runs the real routing over scripted adapters.
//!
//! ```
//! use talab_orchestrator::{route, Platform, PreferenceTable, Task, TaskType};
//!
//! let table = PreferenceTable::default();
//! let task = Task::new(TaskType::Research, "Compare EMA spans for BTC");
//! // Only Gemini and Claude are configured here.
//! let decision = route(&table, &task, |p| match p {
//!     Platform::Gemini | Platform::Claude => Ok(()),
//!     other => Err(format!("{other} is not configured")),
//! })
//! .unwrap();
//! assert_eq!(decision.candidates, [Platform::Gemini, Platform::Claude]);
//! assert_eq!(decision.skipped[0].0, Platform::Chatgpt);
//! ```

mod adapter;
pub mod adapters;
mod engine;
mod environment;
mod error;
pub mod ledger;
mod orchestrator;
mod parallel;
mod pricing;
pub mod quota;
mod retry;
pub mod routing;
mod secret;
#[cfg(feature = "stubs")]
pub mod stubs;
mod task_store;
mod types;
mod usage;

pub use adapter::{AdapterOutput, PlatformAdapter};
pub use engine::{
    CHAIN_ID_KEY, CORRELATION_ID_KEY, CooldownPolicy, PREVIOUS_RESULT_KEY, PRICED_KNOWN_KEY, TASK_ID_KEY,
    TIMEOUT_KEY, TalabOrchestrator,
};
pub use environment::{
    CLAUDE_CODE_BINARY_VARS, CLAUDE_CODE_DEFAULT_BINARY, ClaudeCodeConfig, EnvironmentConfig, HTTP_PLATFORMS,
    HttpPlatformConfig, PlatformStatus, api_key_var, base_url_vars, display_url, locate_binary, model_var,
    validate_environment, validate_with_path,
};
pub use error::{OrchestratorError, PlatformError};
pub use ledger::{CostGrouping, CostLedger, CostRow, LedgerEntry, PriceLookup};
pub use orchestrator::{ATTEMPTS_KEY, Attempt, MODEL_KEY, Orchestrator, ROUTING_KEY};
pub use parallel::{execute_parallel, load_jsonl, parse_jsonl};
pub use pricing::{BUILTIN_PRICES_JSON, ModelPrice, PriceTable, Priced};
pub use quota::{
    PlatformQuota, QuotaAlert, QuotaConfig, QuotaError, QuotaLine, QuotaTracker, QuotaUnit, Reservation,
};
pub use retry::{FullJitter, RetryPolicy, call_with_retries};
pub use routing::{PreferenceTable, RoutingDecision, STRICT_KEY, TOOL_KEY, route, route_strict, route_with};
pub use secret::Secret;
pub use task_store::{MIGRATIONS, Page, StoredTask, TaskIds, TaskStore};
pub use types::{DEFAULT_PRIORITY, ParseNameError, Platform, Task, TaskResult, TaskType};
pub use usage::Usage;
