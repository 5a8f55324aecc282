//! The one trait every platform implements. An adapter knows how to talk to its platform and
//! nothing else: routing, retries, fallback, quota and storage are the orchestrator's, so adding a
//! platform is one adapter plus one registry line.

use serde::{Deserialize, Serialize};

use crate::{Platform, PlatformError, PlatformStatus, Task, Usage};

/// What one successful call gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterOutput {
    /// The answer text.
    pub output: String,
    /// The model that answered, as the provider named it (dated ids included).
    pub model: String,
    /// Tokens, normalised.
    pub usage: Usage,
    /// The cost when the platform reports it (Claude Code does); otherwise priced from usage.
    pub cost_usd: Option<f64>,
}

/// A platform that can execute tasks.
#[async_trait::async_trait]
pub trait PlatformAdapter: Send + Sync {
    /// Which platform this is.
    fn platform(&self) -> Platform;

    /// Whether it is configured and what it needs, without any network call.
    fn status(&self) -> PlatformStatus;

    /// Sends one task, once (no retries here), and reports a typed error on failure.
    async fn execute(&self, task: &Task) -> Result<AdapterOutput, PlatformError>;
}
