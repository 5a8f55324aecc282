//! The one retry layer: a call that fails with a retryable [`PlatformError`] (rate limit, overload,
//! transient failure, timeout) is tried again on the same platform after a capped exponential
//! backoff with full jitter, and never sooner than the provider's `retry-after`. Auth, BadRequest
//! and QuotaExhausted are never retried: the engine falls back to the next platform instead.
//!
//! The loop itself is `backon`'s (`when` decides what is retried, `adjust` applies retry-after,
//! `notify` sees each wait); the delays come from [`FullJitter`] because backon's own jitter adds
//! up to one delay on top instead of drawing the whole wait at random ("full jitter", which spreads
//! concurrent clients best). Every call is recorded as an [`Attempt`] with the wait before it.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use backon::Retryable;
use tokio::time::Instant;

use crate::{Attempt, Platform, PlatformError};

/// How often and how long to retry on one platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Calls in all, the first one included (1 = no retry).
    pub max_attempts: u32,
    /// The ceiling of the first wait; it doubles for each retry.
    pub base: Duration,
    /// The ceiling never grows past this.
    pub cap: Duration,
    /// A provider asking to wait longer than this is not waited for: the engine falls back to
    /// the next platform instead of blocking the task.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 4 calls, waits drawn from [0, 0.5 s], [0, 1 s], [0, 2 s]…, at most 30 s; retry-after
    /// honoured up to 60 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy with these three settings and the default `max_retry_after`.
    pub fn new(max_attempts: u32, base: Duration, cap: Duration) -> Self {
        RetryPolicy {
            max_attempts,
            base,
            cap,
            ..RetryPolicy::default()
        }
    }

    /// The waits between calls (one fewer than `max_attempts`).
    pub fn backoff(&self) -> FullJitter {
        FullJitter {
            base: self.base,
            cap: self.cap,
            retry: 0,
            left: self.max_attempts.saturating_sub(1),
            rng: fastrand::Rng::new(),
        }
    }

    /// The wait before the next call, given the drawn backoff and the error: at least the
    /// provider's retry-after; `None` (stop retrying here) when that is beyond `max_retry_after`.
    pub fn wait_for(&self, error: &PlatformError, drawn: Duration) -> Option<Duration> {
        match error.retry_after() {
            Some(asked) if asked > self.max_retry_after => None,
            Some(asked) => Some(asked.max(drawn)),
            None => Some(drawn),
        }
    }
}

/// Capped exponential backoff with full jitter: the n-th wait is uniform in
/// `[0, min(cap, base · 2ⁿ)]`.
#[derive(Debug, Clone)]
pub struct FullJitter {
    base: Duration,
    cap: Duration,
    retry: u32,
    left: u32,
    rng: fastrand::Rng,
}

impl FullJitter {
    /// The same sequence of waits for the same seed (for tests).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = fastrand::Rng::with_seed(seed);
        self
    }

    /// The ceiling of the n-th wait (0-based).
    pub fn ceiling(base: Duration, cap: Duration, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        base.saturating_mul(factor).min(cap)
    }
}

impl Iterator for FullJitter {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let ceiling = Self::ceiling(self.base, self.cap, self.retry);
        self.retry = self.retry.saturating_add(1);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Some(Duration::from_nanos(self.rng.u64(0..=nanos)))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Calls `call` until it succeeds, fails with an error that is not retried, or the policy's
/// attempts are used up; returns the last outcome and every call as an [`Attempt`].
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
/// use talab_orchestrator::{Platform, PlatformError, RetryPolicy, call_with_retries};
///
/// let calls = AtomicU32::new(0);
/// let policy = RetryPolicy::new(3, Duration::from_millis(1), Duration::from_millis(5));
/// let (result, attempts) = call_with_retries(&policy, Platform::Claude, || async {
///     if calls.fetch_add(1, Ordering::SeqCst) == 0 {
///         Err(PlatformError::Overloaded { message: "529".into() })
///     } else {
///         Ok("done")
///     }
/// })
/// .await;
/// assert_eq!(result, Ok("done"));
/// assert_eq!(attempts.len(), 2);
/// assert_eq!(attempts[0].error_class.as_deref(), Some("overloaded"));
/// # });
/// ```
pub async fn call_with_retries<T, F, Fut>(
    policy: &RetryPolicy,
    platform: Platform,
    call: F,
) -> (Result<T, PlatformError>, Vec<Attempt>)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, PlatformError>>,
{
    let attempts: Mutex<Vec<Attempt>> = Mutex::new(Vec::new());
    let next_wait: Mutex<Duration> = Mutex::new(Duration::ZERO);
    let (attempts_ref, wait_ref, call_ref) = (&attempts, &next_wait, &call);

    let once = move || async move {
        let waited = std::mem::take(&mut *lock(wait_ref));
        let started = Instant::now();
        let outcome = call_ref().await;
        let took = started.elapsed().as_secs_f64();
        let mut attempt = match &outcome {
            Ok(_) => Attempt::succeeded(platform, took),
            Err(e) => Attempt::failed(platform, e, took),
        };
        attempt.wait_seconds = waited.as_secs_f64();
        lock(attempts_ref).push(attempt);
        outcome
    };
    let result = once
        .retry(policy.backoff())
        .when(PlatformError::is_retryable)
        .adjust(|e, drawn| drawn.and_then(|d| policy.wait_for(e, d)))
        .notify(|e, wait| {
            tracing::debug!(%platform, class = e.class(), wait_ms = wait.as_millis() as u64, "retrying");
            *lock(wait_ref) = wait;
        })
        .await;
    (result, attempts.into_inner().unwrap_or_else(|p| p.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_jitter_stays_under_the_capped_ceiling() {
        let policy = RetryPolicy::new(8, Duration::from_millis(100), Duration::from_millis(700));
        let waits: Vec<Duration> = policy.backoff().with_seed(7).collect();
        assert_eq!(waits.len(), 7);
        let ceilings = [100, 200, 400, 700, 700, 700, 700];
        for (w, c) in waits.iter().zip(ceilings) {
            assert!(*w <= Duration::from_millis(c), "{w:?} > {c} ms");
        }
        // Full jitter: the waits are spread, not all at the ceiling.
        assert!(waits.iter().any(|w| *w < Duration::from_millis(350)), "{waits:?}");
        assert_eq!(RetryPolicy::new(1, policy.base, policy.cap).backoff().count(), 0);
        assert_eq!(
            FullJitter::ceiling(Duration::from_secs(1), Duration::from_secs(30), 40),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn retry_after_is_a_minimum_and_has_a_limit() {
        let policy = RetryPolicy::default();
        let limited = |s| PlatformError::RateLimited {
            retry_after: Some(Duration::from_secs(s)),
            message: "429".into(),
        };
        let drawn = Duration::from_millis(200);
        assert_eq!(policy.wait_for(&limited(3), drawn), Some(Duration::from_secs(3)));
        assert_eq!(
            policy.wait_for(&limited(0), drawn),
            Some(drawn),
            "a drawn wait longer than retry-after stays"
        );
        assert_eq!(policy.wait_for(&limited(3600), drawn), None);
        let overloaded = PlatformError::Overloaded {
            message: "529".into(),
        };
        assert_eq!(policy.wait_for(&overloaded, drawn), Some(drawn));
    }
}
