//! The crate's errors. [`PlatformError`] is what an adapter reports, typed so the one retry layer
//! can decide: retry here, fall back to the next platform, or give up. [`OrchestratorError`] is
//! everything else (routing found nothing, storage failed), with messages a user can act on.

use std::time::Duration;
use talab_db::sqlx;

use crate::{Platform, TaskType};

/// Why one call to a platform failed (spec §3).
///
/// [`is_retryable`](Self::is_retryable) errors are retried on the same platform with backoff;
/// [`should_fall_back`](Self::should_fall_back) errors go straight to the next platform. A
/// retryable error whose retries are used up also falls back (the platform keeps failing).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlatformError {
    /// Too many requests right now (HTTP 429 that is not a spend limit).
    #[error("rate limited{}: {message}", retry_after_note(.retry_after))]
    RateLimited {
        /// How long the provider asked us to wait, when it said.
        retry_after: Option<Duration>,
        message: String,
    },
    /// The provider is overloaded (Anthropic 529, HTTP 503).
    #[error("overloaded: {message}")]
    Overloaded { message: String },
    /// The quota or spend limit is used up (insufficient_quota, per-day limit, daily budget).
    #[error("quota exhausted: {message}")]
    QuotaExhausted { message: String },
    /// The key is missing, wrong or not allowed (HTTP 401/403).
    #[error("authentication failed: {message}")]
    Auth { message: String },
    /// The provider rejected the request itself (HTTP 400/404/422, context too long).
    #[error("bad request: {message}")]
    BadRequest { message: String },
    /// A failure that may pass: connection reset, HTTP 500, malformed response.
    #[error("transient failure: {message}")]
    Transient { message: String },
    /// No answer within the time allowed.
    #[error("timed out: {message}")]
    Timeout { message: String },
}

fn retry_after_note(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(" (retry after {:.1} s)", d.as_secs_f64()),
        None => String::new(),
    }
}

impl PlatformError {
    /// Worth trying again on the same platform after a wait: rate limits, overload, transient
    /// failures and timeouts (as the providers' own SDKs do). Never Auth, BadRequest or
    /// QuotaExhausted: the same request would fail the same way.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            PlatformError::RateLimited { .. }
                | PlatformError::Overloaded { .. }
                | PlatformError::Transient { .. }
                | PlatformError::Timeout { .. }
        )
    }

    /// This platform cannot serve the task now, another may: go to the next candidate at once
    /// (QuotaExhausted, Auth, BadRequest — the errors that are never retried).
    pub fn should_fall_back(&self) -> bool {
        !self.is_retryable()
    }

    /// The wait the provider asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            PlatformError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A stable snake_case name for the kind of error, for result metadata and stored attempts.
    pub fn class(&self) -> &'static str {
        match self {
            PlatformError::RateLimited { .. } => "rate_limited",
            PlatformError::Overloaded { .. } => "overloaded",
            PlatformError::QuotaExhausted { .. } => "quota_exhausted",
            PlatformError::Auth { .. } => "auth",
            PlatformError::BadRequest { .. } => "bad_request",
            PlatformError::Transient { .. } => "transient",
            PlatformError::Timeout { .. } => "timeout",
        }
    }

    /// The provider's (or adapter's) own words.
    pub fn message(&self) -> &str {
        match self {
            PlatformError::RateLimited { message, .. }
            | PlatformError::Overloaded { message }
            | PlatformError::QuotaExhausted { message }
            | PlatformError::Auth { message }
            | PlatformError::BadRequest { message }
            | PlatformError::Transient { message }
            | PlatformError::Timeout { message } => message,
        }
    }
}

/// What can go wrong in the orchestrator outside one platform call.
#[derive(Debug, thiserror::Error)]
pub enum OrchestratorError {
    /// Opening or migrating the database failed.
    #[error(transparent)]
    Db(#[from] talab_db::DbError),
    /// A query failed.
    #[error("database error: {0}")]
    Sql(sqlx::Error),
    /// No platform can run the task; each candidate's reason is listed.
    #[error("no platform can run this {task_type} task: {}", reasons_text(.task_type, .reasons))]
    NoPlatform {
        task_type: TaskType,
        reasons: Vec<(Platform, String)>,
    },
    /// Strict routing was asked for and the hinted platform cannot run the task.
    #[error(
        "platform_hint {hint} cannot run this task ({reason}) and strict routing forbids another platform"
    )]
    StrictHint { hint: Platform, reason: String },
    /// A platform call failed.
    #[error("{platform}: {source}")]
    Platform {
        platform: Platform,
        #[source]
        source: PlatformError,
    },
    /// A file or setting the orchestrator was given cannot be used (a price table, the HTTP client).
    #[error("{what}: {reason}")]
    Config { what: String, reason: String },
    /// A line of a batch file is not a task.
    #[error("{file}:{line}: not a task: {reason}")]
    BatchLine {
        file: String,
        line: usize,
        reason: String,
    },
    /// A batch file cannot be read.
    #[error("cannot read the batch file {file}: {reason}")]
    BatchFile { file: String, reason: String },
    /// A stored task row does not decode (written by another version, or edited by hand).
    #[error("stored task {id} cannot be read: {reason}")]
    CorruptTask { id: String, reason: String },
}

fn reasons_text(task_type: &TaskType, reasons: &[(Platform, String)]) -> String {
    if reasons.is_empty() {
        return format!("the preference table lists no platform for {task_type}");
    }
    reasons
        .iter()
        .map(|(p, r)| format!("{p}: {r}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<sqlx::Error> for OrchestratorError {
    /// See [`talab_db::DbError::sort`]: a read-only database is said so.
    fn from(e: sqlx::Error) -> Self {
        talab_db::DbError::sort(e).map_or_else(Self::Db, Self::Sql)
    }
}

impl OrchestratorError {
    /// Whose move it is (see [`talab_db::ErrorKind`]).
    pub fn kind(&self) -> talab_db::ErrorKind {
        use talab_db::ErrorKind::{Failure, Input};
        match self {
            OrchestratorError::Db(e) => e.kind(),
            OrchestratorError::BatchFile { .. }
            | OrchestratorError::BatchLine { .. }
            | OrchestratorError::Config { .. } => Input,
            OrchestratorError::Sql(_)
            | OrchestratorError::NoPlatform { .. }
            | OrchestratorError::StrictHint { .. }
            | OrchestratorError::Platform { .. }
            | OrchestratorError::CorruptTask { .. } => Failure,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<PlatformError> {
        let m = || "m".to_string();
        vec![
            PlatformError::RateLimited {
                retry_after: Some(Duration::from_secs(34)),
                message: m(),
            },
            PlatformError::Overloaded { message: m() },
            PlatformError::QuotaExhausted { message: m() },
            PlatformError::Auth { message: m() },
            PlatformError::BadRequest { message: m() },
            PlatformError::Transient { message: m() },
            PlatformError::Timeout { message: m() },
        ]
    }

    #[test]
    fn retry_and_fallback_follow_the_spec() {
        let retryable: Vec<&str> = all()
            .iter()
            .filter(|e| e.is_retryable())
            .map(|e| e.class())
            .collect();
        assert_eq!(retryable, ["rate_limited", "overloaded", "transient", "timeout"]);
        let fall_back: Vec<&str> = all()
            .iter()
            .filter(|e| e.should_fall_back())
            .map(|e| e.class())
            .collect();
        assert_eq!(fall_back, ["quota_exhausted", "auth", "bad_request"]);
    }

    #[test]
    fn messages_name_the_kind_and_the_wait() {
        let e = &all()[0];
        assert_eq!(e.to_string(), "rate limited (retry after 34.0 s): m");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(34)));
        assert_eq!(all()[2].to_string(), "quota exhausted: m");
        assert_eq!(all()[2].retry_after(), None);
        assert_eq!(all()[6].message(), "m");
    }

    #[test]
    fn no_platform_lists_every_reason() {
        let e = OrchestratorError::NoPlatform {
            task_type: TaskType::Research,
            reasons: vec![
                (Platform::Chatgpt, "OPENAI_API_KEY is not set".into()),
                (Platform::Gemini, "GEMINI_API_KEY is not set".into()),
            ],
        };
        assert_eq!(
            e.to_string(),
            "no platform can run this research task: chatgpt: OPENAI_API_KEY is not set; \
             gemini: GEMINI_API_KEY is not set"
        );
        let empty = OrchestratorError::NoPlatform {
            task_type: TaskType::Planning,
            reasons: vec![],
        };
        assert!(empty.to_string().contains("lists no platform for planning"));
    }
}
