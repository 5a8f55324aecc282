//! The seed's `Orchestrator` contract: execute a task on the best platform that can run it, and
//! report which platforms are available. Failures are data in the [`TaskResult`] (as the seed's
//! `Result` has them), so a batch of tasks never stops at the first failure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Platform, PlatformError, PlatformStatus, Task, TaskResult};

/// The result-metadata key holding the [`RoutingDecision`](crate::RoutingDecision).
pub const ROUTING_KEY: &str = "routing";
/// The result-metadata key holding the list of [`Attempt`]s.
pub const ATTEMPTS_KEY: &str = "attempts";
/// The result-metadata key holding the model that answered.
pub const MODEL_KEY: &str = "model";

/// Runs tasks on AI platforms and local tools.
#[async_trait::async_trait]
pub trait Orchestrator: Send + Sync {
    /// Routes and executes one task. With `pre_flight`, a platform must also pass its checks
    /// (requirements met, not known unreachable) to be a candidate. Never fails: a failure is a
    /// result with `success == false` and `error` set.
    async fn execute(&self, task: Task, pre_flight: bool) -> TaskResult;

    /// How every platform stands.
    async fn validate_environment(&self) -> BTreeMap<Platform, PlatformStatus>;
}

/// One call to one platform, as recorded in the result's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// Where the call went.
    pub platform: Platform,
    /// `None` on success; otherwise [`PlatformError::class`] (`quota_exhausted`, `rate_limited`…).
    pub error_class: Option<String>,
    /// The error message, on failure.
    pub error: Option<String>,
    /// How long the call took.
    pub duration_seconds: f64,
    /// How long was waited before this call (backoff, retry-after).
    pub wait_seconds: f64,
}

impl Attempt {
    /// A successful call.
    pub fn succeeded(platform: Platform, duration_seconds: f64) -> Self {
        Attempt {
            platform,
            error_class: None,
            error: None,
            duration_seconds,
            wait_seconds: 0.0,
        }
    }

    /// A failed call.
    pub fn failed(platform: Platform, error: &PlatformError, duration_seconds: f64) -> Self {
        Attempt {
            platform,
            error_class: Some(error.class().to_string()),
            error: Some(error.to_string()),
            duration_seconds,
            wait_seconds: 0.0,
        }
    }
}
