//! Stand-ins that need no key and no network, for tests here and in other crates: [`StubAdapter`]
//! plays one platform (scripted answers and errors, recorded calls), and [`OrchestratorStub`]
//! routes with the real [`route`](crate::route) over the adapters it holds, falling back as the
//! real orchestrator does.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use serde_json::{Map, Value};

use crate::orchestrator::{ATTEMPTS_KEY, Attempt, MODEL_KEY, ROUTING_KEY};
use crate::routing::{route_with, wants_strict};
use crate::{
    AdapterOutput, Orchestrator, Platform, PlatformAdapter, PlatformError, PlatformStatus, PreferenceTable,
    Task, TaskResult, Usage,
};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Roughly four characters per token, as providers' rules of thumb have it (at least 1 for text).
fn estimate_tokens(text: &str) -> u64 {
    let chars = text.chars().count() as u64;
    chars.div_ceil(4)
}

/// One platform, played: answers with a fixed or scripted output, and remembers what it was sent.
///
/// Without a script every call succeeds with `[STUB <platform>] Would execute: <prompt>` (or the
/// text given to [`with_output`](Self::with_output)) and a usage estimated from the text lengths.
/// A script is consumed one entry per call, then the default answer resumes.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use talab_orchestrator::stubs::StubAdapter;
/// use talab_orchestrator::{Platform, PlatformAdapter, PlatformError, Task, TaskType};
///
/// let claude = StubAdapter::new(Platform::Claude)
///     .then_err(PlatformError::QuotaExhausted { message: "spend limit reached".into() });
/// let task = Task::new(TaskType::Planning, "plan the week");
/// assert!(claude.execute(&task).await.is_err());
/// assert!(claude.execute(&task).await.unwrap().output.contains("plan the week"));
/// assert_eq!(claude.received().len(), 2);
/// # });
/// ```
pub struct StubAdapter {
    platform: Platform,
    status: PlatformStatus,
    output: Option<String>,
    model: String,
    usage: Option<Usage>,
    cost_usd: Option<f64>,
    script: Mutex<VecDeque<Result<AdapterOutput, PlatformError>>>,
    received: Mutex<Vec<Task>>,
}

impl StubAdapter {
    /// A configured stub for `platform` that always succeeds.
    pub fn new(platform: Platform) -> Self {
        StubAdapter {
            platform,
            status: PlatformStatus::ready(format!("stub adapter for {platform}")),
            output: None,
            model: format!("stub-{platform}"),
            usage: None,
            cost_usd: None,
            script: Mutex::new(VecDeque::new()),
            received: Mutex::new(Vec::new()),
        }
    }

    /// Reports itself not configured, with this reason (routing will skip it).
    pub fn unconfigured(mut self, message: impl Into<String>) -> Self {
        self.status = PlatformStatus::not_configured(message);
        self
    }

    /// Replaces the whole status (e.g. configured but unreachable, to exercise pre-flight).
    pub fn with_status(mut self, status: PlatformStatus) -> Self {
        self.status = status;
        self
    }

    /// The text every default answer carries.
    pub fn with_output(mut self, output: impl Into<String>) -> Self {
        self.output = Some(output.into());
        self
    }

    /// The model name reported.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// A fixed usage instead of the estimate.
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// A cost reported with each default answer.
    pub fn with_cost(mut self, cost_usd: f64) -> Self {
        self.cost_usd = Some(cost_usd);
        self
    }

    /// Appends a scripted successful answer.
    pub fn then_ok(self, output: AdapterOutput) -> Self {
        lock(&self.script).push_back(Ok(output));
        self
    }

    /// Appends a scripted error.
    pub fn then_err(self, error: PlatformError) -> Self {
        lock(&self.script).push_back(Err(error));
        self
    }

    /// Every task this adapter was sent, in order.
    pub fn received(&self) -> Vec<Task> {
        lock(&self.received).clone()
    }

    fn default_answer(&self, task: &Task) -> AdapterOutput {
        let output = self
            .output
            .clone()
            .unwrap_or_else(|| format!("[STUB {}] Would execute: {}", self.platform, task.prompt));
        let usage = self.usage.unwrap_or_else(|| {
            let context = if task.context.is_empty() {
                0
            } else {
                estimate_tokens(&Value::Object(task.context.clone()).to_string())
            };
            Usage {
                input_uncached: estimate_tokens(&task.prompt) + context,
                output: estimate_tokens(&output),
                ..Usage::default()
            }
        });
        AdapterOutput {
            output,
            model: self.model.clone(),
            usage,
            cost_usd: self.cost_usd,
        }
    }
}

#[async_trait::async_trait]
impl PlatformAdapter for StubAdapter {
    fn platform(&self) -> Platform {
        self.platform
    }

    fn status(&self) -> PlatformStatus {
        self.status.clone()
    }

    async fn execute(&self, task: &Task) -> Result<AdapterOutput, PlatformError> {
        lock(&self.received).push(task.clone());
        let scripted = lock(&self.script).pop_front();
        scripted.unwrap_or_else(|| Ok(self.default_answer(task)))
    }
}

/// An [`Orchestrator`] over in-process adapters, with the real routing rules.
///
/// A platform can run a task when an adapter for it is held and its status is configured (with
/// `pre_flight`, also usable: requirements met, not known unreachable). Candidates are tried in
/// the routing order; an error with [`PlatformError::should_fall_back`] moves to the next one.
/// The result's metadata has `routing` (the [`RoutingDecision`](crate::RoutingDecision)),
/// `attempts` (each [`Attempt`]) and `model`. `metadata.strict = true` on the task asks for strict
/// hint routing.
///
/// Limitations, on purpose: no retries or backoff (a retryable error ends the task on that
/// platform), no cool-down, no quota or budget, no cost pricing (the adapter's `cost_usd` or 0),
/// no timeouts, no persistence (see [`TaskStore`](crate::TaskStore)).
pub struct OrchestratorStub {
    adapters: Vec<Arc<dyn PlatformAdapter>>,
    table: PreferenceTable,
    calls: Mutex<Vec<Task>>,
}

impl Default for OrchestratorStub {
    fn default() -> Self {
        Self::new()
    }
}

impl OrchestratorStub {
    /// A configured [`StubAdapter`] for every platform, and the default preference table.
    pub fn new() -> Self {
        Self::with_adapters(
            Platform::ALL
                .iter()
                .map(|&p| Arc::new(StubAdapter::new(p)) as Arc<dyn PlatformAdapter>)
                .collect(),
        )
    }

    /// Exactly these adapters (the first one of a platform wins), and the default table.
    pub fn with_adapters(adapters: Vec<Arc<dyn PlatformAdapter>>) -> Self {
        OrchestratorStub {
            adapters,
            table: PreferenceTable::default(),
            calls: Mutex::new(Vec::new()),
        }
    }

    /// Routes by this table instead.
    pub fn with_table(mut self, table: PreferenceTable) -> Self {
        self.table = table;
        self
    }

    /// The preference table in use.
    pub fn table(&self) -> &PreferenceTable {
        &self.table
    }

    /// Every task given to [`Orchestrator::execute`], in order.
    pub fn calls(&self) -> Vec<Task> {
        lock(&self.calls).clone()
    }

    fn adapter(&self, platform: Platform) -> Option<&Arc<dyn PlatformAdapter>> {
        self.adapters.iter().find(|a| a.platform() == platform)
    }

    /// Where a task that never ran is reported: its hint, Claude Code for GSD, else the table's first.
    fn intended_platform(&self, task: &Task) -> Platform {
        task.platform_hint
            .or(task.requires_gsd.then_some(Platform::ClaudeCode))
            .or_else(|| self.table.get(task.task_type).first().copied())
            .unwrap_or(Platform::Local)
    }
}

#[async_trait::async_trait]
impl Orchestrator for OrchestratorStub {
    async fn execute(&self, task: Task, pre_flight: bool) -> TaskResult {
        let started = Instant::now();
        lock(&self.calls).push(task.clone());

        let statuses: BTreeMap<Platform, PlatformStatus> = self.validate_environment().await;
        let can_run = |p: Platform| -> Result<(), String> {
            match (self.adapter(p), statuses.get(&p)) {
                (None, _) | (_, None) => Err(format!("no adapter for {p}")),
                (Some(_), Some(s)) if !s.configured => Err(s.message.clone()),
                (Some(_), Some(s)) if pre_flight && !s.usable() => {
                    Err(format!("pre-flight failed: {}", s.message))
                }
                _ => Ok(()),
            }
        };
        let mut metadata = Map::new();
        let decision = match route_with(&self.table, &task, wants_strict(&task), can_run) {
            Ok(d) => d,
            Err(e) => {
                metadata.insert(ATTEMPTS_KEY.into(), Value::Array(vec![]));
                let platform = self.intended_platform(&task);
                let elapsed = started.elapsed().as_secs_f64();
                return TaskResult::failure(task, platform, e.to_string(), elapsed, metadata);
            }
        };
        metadata.insert(
            ROUTING_KEY.into(),
            serde_json::to_value(&decision).unwrap_or(Value::Null),
        );

        let mut attempts: Vec<Attempt> = Vec::new();
        let mut outcome: Option<(Platform, Result<AdapterOutput, PlatformError>)> = None;
        for &platform in &decision.candidates {
            let Some(adapter) = self.adapter(platform) else {
                continue;
            };
            let t0 = Instant::now();
            let result = adapter.execute(&task).await;
            let took = t0.elapsed().as_secs_f64();
            let go_on = match &result {
                Ok(_) => {
                    attempts.push(Attempt::succeeded(platform, took));
                    false
                }
                Err(e) => {
                    tracing::debug!(%platform, error = %e, "stub attempt failed");
                    attempts.push(Attempt::failed(platform, e, took));
                    e.should_fall_back()
                }
            };
            outcome = Some((platform, result));
            if !go_on {
                break;
            }
        }
        metadata.insert(
            ATTEMPTS_KEY.into(),
            serde_json::to_value(&attempts).unwrap_or(Value::Null),
        );

        let duration_seconds = started.elapsed().as_secs_f64();
        match outcome {
            Some((platform, Ok(out))) => {
                metadata.insert(MODEL_KEY.into(), Value::String(out.model));
                TaskResult {
                    task,
                    platform,
                    output: out.output,
                    success: true,
                    error: None,
                    cost: out.cost_usd.unwrap_or(0.0),
                    tokens_used: out.usage.total(),
                    duration_seconds,
                    metadata,
                }
            }
            Some((platform, Err(last))) => {
                let error = if attempts.len() > 1 {
                    let each: Vec<String> = attempts
                        .iter()
                        .map(|a| format!("{}: {}", a.platform, a.error.as_deref().unwrap_or("ok")))
                        .collect();
                    format!("every platform tried failed: {}", each.join("; "))
                } else {
                    format!("{platform}: {last}")
                };
                TaskResult::failure(task, platform, error, duration_seconds, metadata)
            }
            None => {
                let platform = self.intended_platform(&task);
                let error = "no adapter answered for any candidate platform";
                TaskResult::failure(task, platform, error, duration_seconds, metadata)
            }
        }
    }

    async fn validate_environment(&self) -> BTreeMap<Platform, PlatformStatus> {
        Platform::ALL
            .iter()
            .map(|&p| {
                let status = self.adapter(p).map(|a| a.status()).unwrap_or_else(|| {
                    PlatformStatus::not_configured(format!("no adapter registered for {p}"))
                });
                (p, status)
            })
            .collect()
    }
}
