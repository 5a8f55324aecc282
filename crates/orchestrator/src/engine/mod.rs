//! The real [`Orchestrator`]: routes a task by the preference table over the platforms that can
//! run (adapter present, configured, pre-flight, not cooling down, quota left), then tries each
//! candidate with the one retry layer, falling back on errors another platform may not have
//! (never for a strict task: its hint is the only platform that sees the prompt).
//! Every task is stored with its routing and attempts; every successful call goes to the ledger.

mod call;
mod cooldown;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::Utc;
use serde_json::{Map, Value, json};
use tokio::time::Instant;

pub use cooldown::CooldownPolicy;
use cooldown::Cooldowns;

use crate::ledger::{CostLedger, LedgerEntry, PriceLookup};
use crate::orchestrator::{ATTEMPTS_KEY, MODEL_KEY, ROUTING_KEY};
use crate::quota::{QuotaConfig, QuotaTracker};
use crate::retry::RetryPolicy;
use crate::routing::{route_with, wants_strict};
use crate::{
    Attempt, Orchestrator, OrchestratorError, Platform, PlatformAdapter, PlatformStatus, PreferenceTable,
    Task, TaskIds, TaskResult, TaskStore,
};

/// Metadata key of the correlation id (read from the task when given, else fresh).
pub const CORRELATION_ID_KEY: &str = "correlation_id";
/// Metadata key of the chain id (read from the task when given, else fresh).
pub const CHAIN_ID_KEY: &str = "chain_id";
/// Result-metadata key of the stored task's id.
pub const TASK_ID_KEY: &str = "task_id";
/// Result-metadata key: false when the model had no known price (cost recorded as 0).
pub const PRICED_KNOWN_KEY: &str = "priced_known";
/// Task-metadata key: the time limit of one call, in seconds.
pub const TIMEOUT_KEY: &str = "timeout_seconds";
/// Context key under which a follow-up task carries the previous result.
pub const PREVIOUS_RESULT_KEY: &str = "previous_result";

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// talab's orchestrator over real (or stub) adapters, with quota, ledger and task store.
pub struct TalabOrchestrator {
    adapters: Vec<Arc<dyn PlatformAdapter>>,
    table: PreferenceTable,
    retry: RetryPolicy,
    quota: QuotaTracker,
    ledger: CostLedger,
    store: TaskStore,
    cooldowns: Cooldowns,
    pricer: Option<Arc<dyn PriceLookup>>,
    call_timeout: Option<Duration>,
    /// Each platform's last model and cost, for budget estimates.
    last_answer: Mutex<HashMap<Platform, (String, f64)>>,
}

impl TalabOrchestrator {
    /// An orchestrator over `adapters` (the first one of a platform wins) with the default table,
    /// retry and cool-down policies, no price table and no call time limit.
    pub fn new(
        adapters: Vec<Arc<dyn PlatformAdapter>>,
        store: TaskStore,
        quota: QuotaTracker,
        ledger: CostLedger,
    ) -> Self {
        TalabOrchestrator {
            adapters,
            table: PreferenceTable::default(),
            retry: RetryPolicy::default(),
            quota,
            ledger,
            store,
            cooldowns: Cooldowns::new(CooldownPolicy::default()),
            pricer: None,
            call_timeout: None,
            last_answer: Mutex::new(HashMap::new()),
        }
    }

    /// Opens store, quota tracker and ledger on one database (migrating it).
    pub async fn open(
        db: talab_db::Database,
        adapters: Vec<Arc<dyn PlatformAdapter>>,
        quota: QuotaConfig,
    ) -> Result<Self, OrchestratorError> {
        let store = TaskStore::open(db).await?;
        let quota = QuotaTracker::for_store(&store, quota).await?;
        let ledger = CostLedger::for_store(&store).await?;
        Ok(Self::new(adapters, store, quota, ledger))
    }

    /// Routes by this table.
    pub fn with_table(mut self, table: PreferenceTable) -> Self {
        self.table = table;
        self
    }

    /// Retries by this policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Cools failing platforms down by this policy.
    pub fn with_cooldown(mut self, policy: CooldownPolicy) -> Self {
        self.cooldowns = Cooldowns::new(policy);
        self
    }

    /// Prices calls whose adapter reports no cost.
    pub fn with_pricer(mut self, pricer: Arc<dyn PriceLookup>) -> Self {
        self.pricer = Some(pricer);
        self
    }

    /// Limits every call to `limit` (a task's `metadata.timeout_seconds` overrides it).
    pub fn with_call_timeout(mut self, limit: Duration) -> Self {
        self.call_timeout = Some(limit);
        self
    }

    /// The task store results are recorded in.
    pub fn store(&self) -> &TaskStore {
        &self.store
    }

    /// The quota tracker.
    pub fn quota(&self) -> &QuotaTracker {
        &self.quota
    }

    /// The cost ledger.
    pub fn ledger(&self) -> &CostLedger {
        &self.ledger
    }

    fn adapter(&self, platform: Platform) -> Option<&Arc<dyn PlatformAdapter>> {
        self.adapters.iter().find(|a| a.platform() == platform)
    }

    /// Runs `task` as a follow-up of `prev`: the previous task and output go into
    /// `context.previous_result`, and the chain id is kept.
    pub async fn execute_followup(&self, prev: &TaskResult, task: Task) -> TaskResult {
        let mut task = task;
        task.context.insert(
            PREVIOUS_RESULT_KEY.into(),
            json!({
                "task_type": prev.task.task_type,
                "prompt": prev.task.prompt,
                "platform": prev.platform,
                "success": prev.success,
                "output": prev.output,
                "task_id": prev.metadata.get(TASK_ID_KEY),
            }),
        );
        if let Some(chain) = prev.metadata.get(CHAIN_ID_KEY) {
            task.metadata.insert(CHAIN_ID_KEY.into(), chain.clone());
        }
        self.execute(task, true).await
    }

    /// Why each platform can or cannot take a task now (everything but the task's own rules).
    async fn availability(&self, pre_flight: bool) -> BTreeMap<Platform, Result<(), String>> {
        let mut out = BTreeMap::new();
        for &p in Platform::ALL {
            let verdict = match self.adapter(p) {
                None => Err(format!("no adapter for {p}")),
                Some(a) => {
                    let status = a.status();
                    if !status.configured {
                        Err(status.message)
                    } else if pre_flight && !status.usable() {
                        Err(format!("pre-flight failed: {}", status.message))
                    } else if let Err(why) = self.cooldowns.check(p) {
                        Err(why)
                    } else {
                        self.quota.has_room(p).await
                    }
                }
            };
            out.insert(p, verdict);
        }
        out
    }

    /// Where a task that never ran is reported: its hint, Claude Code for GSD, else the table's first.
    fn intended_platform(&self, task: &Task) -> Platform {
        task.platform_hint
            .or(task.requires_gsd.then_some(Platform::ClaudeCode))
            .or_else(|| self.table.get(task.task_type).first().copied())
            .unwrap_or(Platform::Local)
    }

    /// Stores the result (and its ledger row on success); the stored id goes into its metadata.
    async fn record(
        &self,
        mut result: TaskResult,
        ids: TaskIds,
        answer: Option<(&crate::Usage, &str)>,
    ) -> TaskResult {
        match self.store.record(&result, ids.clone()).await {
            Ok(id) => {
                if let Some((usage, model)) = answer {
                    let entry = LedgerEntry {
                        task_id: Some(id.clone()),
                        chain_id: ids.chain_id.clone(),
                        correlation_id: Some(ids.correlation_id.clone()),
                        platform: result.platform,
                        model: model.to_string(),
                        usage: *usage,
                        cost_usd: result.cost,
                        priced_known: result.metadata.get(PRICED_KNOWN_KEY) != Some(&Value::Bool(false)),
                        ts: Utc::now(),
                    };
                    if let Err(e) = self.ledger.record(&entry).await {
                        tracing::error!(task_id = %id, error = %e, "cost ledger write failed");
                        result
                            .metadata
                            .insert("ledger_error".into(), Value::String(e.to_string()));
                    }
                }
                result.metadata.insert(TASK_ID_KEY.into(), Value::String(id));
            }
            Err(e) => {
                tracing::error!(correlation_id = %ids.correlation_id, error = %e, "task store write failed");
                result
                    .metadata
                    .insert("storage_error".into(), Value::String(e.to_string()));
            }
        }
        result
    }
}

/// The task's ids from its metadata, or fresh ones.
fn ids_for(task: &Task) -> TaskIds {
    let given = |key: &str| {
        task.metadata
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    TaskIds {
        correlation_id: given(CORRELATION_ID_KEY).unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        chain_id: Some(given(CHAIN_ID_KEY).unwrap_or_else(|| uuid::Uuid::new_v4().to_string())),
    }
}

fn failed(
    task: Task,
    platform: Platform,
    error: String,
    metadata: Map<String, Value>,
    started: Instant,
) -> TaskResult {
    TaskResult::failure(task, platform, error, started.elapsed().as_secs_f64(), metadata)
}

#[async_trait::async_trait]
impl Orchestrator for TalabOrchestrator {
    async fn execute(&self, task: Task, pre_flight: bool) -> TaskResult {
        let started = Instant::now();
        let ids = ids_for(&task);
        let mut metadata = Map::new();
        metadata.insert(CORRELATION_ID_KEY.into(), json!(ids.correlation_id));
        metadata.insert(CHAIN_ID_KEY.into(), json!(ids.chain_id));
        metadata.insert(ATTEMPTS_KEY.into(), Value::Array(vec![]));

        // A prompt no platform should see: refused before any call, and recorded.
        if let Some(why) = Task::prompt_problem(&task.prompt) {
            let platform = self.intended_platform(&task);
            let result = failed(task, platform, why, metadata, started);
            return self.record(result, ids, None).await;
        }
        let availability = self.availability(pre_flight).await;
        let can_run = |p: Platform| {
            availability
                .get(&p)
                .cloned()
                .unwrap_or_else(|| Err(format!("unknown {p}")))
        };
        let decision = match route_with(&self.table, &task, wants_strict(&task), can_run) {
            Ok(d) => d,
            Err(e) => {
                let platform = self.intended_platform(&task);
                let result = failed(task, platform, e.to_string(), metadata, started);
                return self.record(result, ids, None).await;
            }
        };
        metadata.insert(
            ROUTING_KEY.into(),
            serde_json::to_value(&decision).unwrap_or(Value::Null),
        );

        let mut attempts: Vec<Attempt> = Vec::new();
        let mut last_error = None;
        // A strict task's candidates are its hint alone (routing decides that, once).
        for &platform in &decision.candidates {
            let Some(adapter) = self.adapter(platform) else {
                continue;
            };
            // Another task may have cooled it down since routing.
            if let Err(why) = self.cooldowns.check(platform) {
                tracing::debug!(%platform, why, "skipped: cooled down since routing");
                continue;
            }
            match self.try_platform(adapter, &task, &mut attempts).await {
                Ok(answer) => {
                    self.cooldowns.succeeded(platform);
                    metadata.insert(
                        ATTEMPTS_KEY.into(),
                        serde_json::to_value(&attempts).unwrap_or_default(),
                    );
                    metadata.insert(MODEL_KEY.into(), Value::String(answer.output.model.clone()));
                    metadata.insert(PRICED_KNOWN_KEY.into(), Value::Bool(answer.priced_known));
                    let result = TaskResult {
                        task,
                        platform,
                        output: answer.output.output.clone(),
                        success: true,
                        error: None,
                        cost: answer.cost_usd,
                        tokens_used: answer.output.usage.total(),
                        duration_seconds: started.elapsed().as_secs_f64(),
                        metadata,
                    };
                    let usage = answer.output.usage;
                    return self
                        .record(result, ids, Some((&usage, &answer.output.model)))
                        .await;
                }
                Err(e) => {
                    // A bad request is the task's fault, and our own quota refusal is no failure of the platform.
                    let own_quota = e.message().starts_with(call::OWN_QUOTA_PREFIX);
                    if !matches!(e, crate::PlatformError::BadRequest { .. }) && !own_quota {
                        self.cooldowns.failed(platform);
                    }
                    tracing::debug!(%platform, error = %e, "candidate failed; falling back");
                    last_error = Some((platform, e));
                }
            }
        }
        metadata.insert(
            ATTEMPTS_KEY.into(),
            serde_json::to_value(&attempts).unwrap_or_default(),
        );
        let (platform, error) = match last_error {
            Some((platform, e)) if decision.candidates.len() == 1 => (platform, format!("{platform}: {e}")),
            Some((platform, _)) => {
                let each: Vec<String> = attempts
                    .iter()
                    .filter_map(|a| a.error.as_ref().map(|e| format!("{}: {e}", a.platform)))
                    .collect();
                (
                    platform,
                    format!("every platform tried failed: {}", each.join("; ")),
                )
            }
            None => (
                self.intended_platform(&task),
                "no candidate platform could be tried (each was cooled down after routing)".into(),
            ),
        };
        let result = failed(task, platform, error, metadata, started);
        self.record(result, ids, None).await
    }

    async fn validate_environment(&self) -> BTreeMap<Platform, PlatformStatus> {
        let mut out = BTreeMap::new();
        for &p in Platform::ALL {
            let mut status = match self.adapter(p) {
                Some(a) => a.status(),
                None => PlatformStatus::not_configured(format!("no adapter registered for {p}")),
            };
            status.quota_left = self.quota.left_text(p).await;
            if let Err(why) = self.cooldowns.check(p) {
                status.message = format!("{}; {why}", status.message);
            }
            out.insert(p, status);
        }
        out
    }
}
