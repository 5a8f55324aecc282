//! Cool-down of failing platforms, in memory and per process: a platform whose calls end in
//! failure several times in a row is left out of routing for a while, so a dead provider does not
//! cost every task a round of retries. One success resets its count.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::Platform;

/// When a platform is cooled down, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CooldownPolicy {
    /// Failed candidates in a row (each after its retries) that start a cool-down; 0 disables it.
    pub failures: u32,
    /// How long the platform is left out.
    pub period: Duration,
}

impl Default for CooldownPolicy {
    /// Three failures in a row → five minutes out.
    fn default() -> Self {
        CooldownPolicy {
            failures: 3,
            period: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Default)]
struct Health {
    consecutive_failures: u32,
    until: Option<Instant>,
}

/// The per-process record of failures.
#[derive(Debug, Default)]
pub(crate) struct Cooldowns {
    policy: CooldownPolicy,
    health: Mutex<HashMap<Platform, Health>>,
}

impl Cooldowns {
    pub(crate) fn new(policy: CooldownPolicy) -> Self {
        Cooldowns {
            policy,
            health: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Platform, Health>> {
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Why `platform` is cooling down now, if it is.
    pub(crate) fn check(&self, platform: Platform) -> Result<(), String> {
        let now = Instant::now();
        match self.lock().get(&platform).and_then(|h| h.until) {
            Some(until) if until > now => Err(format!(
                "cooling down for {:.0} s more after {} failures in a row",
                (until - now).as_secs_f64().ceil(),
                self.policy.failures
            )),
            _ => Ok(()),
        }
    }

    pub(crate) fn succeeded(&self, platform: Platform) {
        self.lock().remove(&platform);
    }

    /// Counts a failure; returns true when it starts a cool-down.
    pub(crate) fn failed(&self, platform: Platform) -> bool {
        if self.policy.failures == 0 {
            return false;
        }
        let mut map = self.lock();
        let health = map.entry(platform).or_default();
        health.consecutive_failures += 1;
        if health.consecutive_failures >= self.policy.failures {
            health.consecutive_failures = 0;
            health.until = Some(Instant::now() + self.policy.period);
            tracing::warn!(%platform, period_s = self.policy.period.as_secs(), "platform cooled down");
            return true;
        }
        false
    }
}
