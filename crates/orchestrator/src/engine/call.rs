//! One candidate platform, tried: every call reserves quota first, runs under the optional time
//! limit, then settles the reservation. The retry layer repeats the whole step, so each retry is
//! counted against the quota like any call, and a retry the quota has no room for is never sent.
//!
//! A failed call is settled too, as one request with no tokens and no cost: a 5xx or a timeout
//! may still be billed and is load on the provider all the same, and releasing it would let
//! concurrent tasks and their retries send many times the daily request limit. Tokens and cost
//! stay what the provider reports, which for a failed call is nothing. (A call that never left
//! the machine, such as a refused connection, is counted as well: the engine cannot tell it from
//! one that reached the provider, and counting errs on the side of the limit.)

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::{TIMEOUT_KEY, TalabOrchestrator};
use crate::quota::QuotaError;
use crate::retry::call_with_retries;
use crate::{AdapterOutput, Attempt, Platform, PlatformAdapter, PlatformError, Task, Usage};

/// How a refusal by talab's own quota tracker (not the provider's) begins its message.
pub(crate) const OWN_QUOTA_PREFIX: &str = "talab's quota";

/// A successful call, priced.
pub(crate) struct Answer {
    pub(crate) output: AdapterOutput,
    pub(crate) cost_usd: f64,
    pub(crate) priced_known: bool,
}

/// Roughly four characters per token: what a task will send, before the provider counts it.
pub(crate) fn estimate_prompt_tokens(task: &Task) -> u64 {
    let context = if task.context.is_empty() {
        0
    } else {
        Value::Object(task.context.clone()).to_string().chars().count() as u64
    };
    (task.prompt.chars().count() as u64 + context).div_ceil(4).max(1)
}

impl TalabOrchestrator {
    /// The time limit of one call: the task's `metadata.timeout_seconds`, else the engine's.
    fn call_timeout(&self, task: &Task) -> Option<Duration> {
        task.metadata
            .get(TIMEOUT_KEY)
            .and_then(Value::as_f64)
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .filter(|d| !d.is_zero())
            .or(self.call_timeout)
    }

    /// The adapter's own cost, else the price table's; unknown prices are 0 and flagged.
    fn price(&self, platform: Platform, out: &AdapterOutput) -> (f64, bool) {
        if let Some(cost) = out.cost_usd.filter(|c| c.is_finite()) {
            return (cost, true);
        }
        match self
            .pricer
            .as_ref()
            .and_then(|p| p.cost_usd(platform, &out.model, &out.usage))
        {
            Some(cost) if cost.is_finite() => (cost, true),
            _ => (0.0, false),
        }
    }

    /// What a call is likely to cost, for the budget reservation: the prompt estimate at the
    /// price of the model this platform last answered with, or else what its last call cost
    /// (0 before the first answer).
    fn estimate_cost(&self, platform: Platform, tokens: u64) -> f64 {
        let Some((model, last_cost)) = super::lock(&self.last_answer).get(&platform).cloned() else {
            return 0.0;
        };
        let usage = Usage {
            input_uncached: tokens,
            ..Usage::default()
        };
        self.pricer
            .as_ref()
            .and_then(|p| p.cost_usd(platform, &model, &usage))
            .unwrap_or(last_cost)
    }

    /// Reserve → call → settle, once (a failure settles one request, no tokens, no cost).
    async fn call_once(
        &self,
        adapter: &Arc<dyn PlatformAdapter>,
        task: &Task,
    ) -> Result<Answer, PlatformError> {
        let platform = adapter.platform();
        let tokens = estimate_prompt_tokens(task);
        let reservation = match self
            .quota
            .reserve(platform, tokens, self.estimate_cost(platform, tokens))
            .await
        {
            Ok(r) => r,
            Err(e @ QuotaError::Exhausted { .. }) => {
                return Err(PlatformError::QuotaExhausted {
                    message: format!("{OWN_QUOTA_PREFIX}: {e}"),
                });
            }
            Err(e) => {
                return Err(PlatformError::Transient {
                    message: e.to_string(),
                });
            }
        };
        let outcome = match self.call_timeout(task) {
            Some(limit) => match tokio::time::timeout(limit, adapter.execute(task)).await {
                Ok(outcome) => outcome,
                Err(_) => Err(PlatformError::Timeout {
                    message: format!("no answer from {platform} within {:.1} s", limit.as_secs_f64()),
                }),
            },
            None => adapter.execute(task).await,
        };
        match outcome {
            Ok(output) => {
                let (cost_usd, priced_known) = self.price(platform, &output);
                if let Err(e) = self
                    .quota
                    .settle(reservation, output.usage.total(), cost_usd)
                    .await
                {
                    tracing::error!(%platform, error = %e, "settling quota failed; usage not counted");
                }
                super::lock(&self.last_answer).insert(platform, (output.model.clone(), cost_usd));
                Ok(Answer {
                    output,
                    cost_usd,
                    priced_known,
                })
            }
            Err(error) => {
                if let Err(e) = self.quota.settle(reservation, 0, 0.0).await {
                    tracing::error!(%platform, error = %e, "settling a failed call's quota failed; it stays reserved today");
                }
                Err(error)
            }
        }
    }

    /// Tries one platform with retries; appends every call to `attempts`.
    pub(crate) async fn try_platform(
        &self,
        adapter: &Arc<dyn PlatformAdapter>,
        task: &Task,
        attempts: &mut Vec<Attempt>,
    ) -> Result<Answer, PlatformError> {
        let (outcome, made) =
            call_with_retries(&self.retry, adapter.platform(), || self.call_once(adapter, task)).await;
        attempts.extend(made);
        outcome
    }
}
