//! The vocabulary of the seed's orchestrator contract: what a task is ([`TaskType`], [`Task`]),
//! where it can run ([`Platform`]) and what came back ([`TaskResult`]). Everything is serde with
//! snake_case names, so tasks and results round-trip as JSON (batch files, stored rows, `--json`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The kind of work a task is; it decides the platform order (see [`crate::PreferenceTable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskType {
    CodeGeneration,
    Refactoring,
    Research,
    DataAnalysis,
    Documentation,
    CodeReview,
    SqlDbWork,
    Testing,
    Debugging,
    Planning,
}

/// Where a task can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// The Anthropic Messages API.
    Claude,
    /// The `claude` command-line program (Claude Code), run as a subprocess.
    ClaudeCode,
    /// The OpenAI Chat Completions API, or any OpenAI-compatible server (Ollama, vLLM, LM Studio).
    Chatgpt,
    /// The Gemini API.
    Gemini,
    /// talab's own registered tools (EMA refresh, memory queries): no AI, no key, no network.
    Local,
}

/// A name that is not one of an enum's snake_case names; the message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{given}'; valid names: {}", .valid.join(", "))]
pub struct ParseNameError {
    /// "task type" or "platform".
    pub kind: &'static str,
    /// What was given.
    pub given: String,
    /// Every valid name.
    pub valid: &'static [&'static str],
}

/// Display, FromStr and `ALL` for a fieldless enum, with the same names serde uses.
macro_rules! named_enum {
    ($ty:ident, $kind:literal, $names:ident, [$($variant:ident => $name:literal),+ $(,)?]) => {
        const $names: &[&str] = &[$($name),+];

        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The snake_case name used on the wire, in config and on the command line.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl fmt::Display for $ty {
            /// The snake_case name; width and alignment apply (`{:<12}` in tables).
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = ParseNameError;

            /// Parses the snake_case name; surrounding spaces and ASCII case are ignored.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim();
                $ty::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(wanted))
                    .ok_or_else(|| ParseNameError { kind: $kind, given: s.to_string(), valid: $names })
            }
        }
    };
}

named_enum!(TaskType, "task type", TASK_TYPE_NAMES, [
    CodeGeneration => "code_generation",
    Refactoring => "refactoring",
    Research => "research",
    DataAnalysis => "data_analysis",
    Documentation => "documentation",
    CodeReview => "code_review",
    SqlDbWork => "sql_db_work",
    Testing => "testing",
    Debugging => "debugging",
    Planning => "planning",
]);

named_enum!(Platform, "platform", PLATFORM_NAMES, [
    Claude => "claude",
    ClaudeCode => "claude_code",
    Chatgpt => "chatgpt",
    Gemini => "gemini",
    Local => "local",
]);

/// The priority a task has when none is given (0 is the highest).
pub const DEFAULT_PRIORITY: u8 = 5;

fn default_priority() -> u8 {
    DEFAULT_PRIORITY
}

/// A unit of work for the orchestrator (the seed's `Task`).
///
/// ```
/// use talab_orchestrator::{Platform, Task, TaskType};
///
/// let task: Task = serde_json::from_str(r#"{"type":"research","prompt":"compare EMA spans"}"#).unwrap();
/// assert_eq!(task.priority, 5);
/// let hinted = Task::new(TaskType::Research, "compare EMA spans").with_hint(Platform::Gemini);
/// assert_eq!(hinted.platform_hint, Some(Platform::Gemini));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// What kind of work this is.
    #[serde(rename = "type")]
    pub task_type: TaskType,
    /// The instruction itself.
    pub prompt: String,
    /// Extra material for the platform (memory context, a previous result in a chain).
    #[serde(default)]
    pub context: Map<String, Value>,
    /// A preferred platform: used first when it can run, otherwise explained and ignored.
    #[serde(default)]
    pub platform_hint: Option<Platform>,
    /// Start order in a batch; 0 is the highest.
    #[serde(default = "default_priority")]
    pub priority: u8,
    /// Needs the GSD workflow, which only Claude Code runs.
    #[serde(default)]
    pub requires_gsd: bool,
    /// Free-form data: `tool` names a local tool, `strict` asks for strict hint routing.
    #[serde(default)]
    pub metadata: Map<String, Value>,
}

impl Task {
    /// A task with the seed's defaults (no context, no hint, priority 5).
    pub fn new(task_type: TaskType, prompt: impl Into<String>) -> Self {
        Task {
            task_type,
            prompt: prompt.into(),
            context: Map::new(),
            platform_hint: None,
            priority: DEFAULT_PRIORITY,
            requires_gsd: false,
            metadata: Map::new(),
        }
    }

    /// Sets the platform hint.
    pub fn with_hint(mut self, platform: Platform) -> Self {
        self.platform_hint = Some(platform);
        self
    }

    /// Why no platform should see `prompt`, if so: it is empty, or holds a NUL (which no database
    /// stores as text, see `talab_db::nul_byte`). The one check of `talab run`, batch files and the
    /// engine, so all three refuse the same prompts with the same words.
    pub fn prompt_problem(prompt: &str) -> Option<String> {
        if prompt.trim().is_empty() {
            return Some("the prompt is empty".into());
        }
        talab_db::nul_byte::check("the prompt", prompt).err()
    }

    /// Sends the task to `platform` and nowhere else: the hint, made strict
    /// (`metadata.strict = true`). If `platform` cannot run or fails, the task fails; no other
    /// platform ever sees the prompt.
    pub fn with_strict_hint(self, platform: Platform) -> Self {
        self.with_hint(platform)
            .with_metadata(crate::routing::STRICT_KEY, true)
    }

    /// Adds (or replaces) one metadata entry.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Adds (or replaces) one context entry.
    pub fn with_context(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.context.insert(key.into(), value.into());
        self
    }

    /// Sets the priority (0 is the highest).
    pub fn with_priority(mut self, priority: u8) -> Self {
        self.priority = priority;
        self
    }

    /// Marks the task as needing GSD (Claude Code only).
    pub fn with_requires_gsd(mut self, requires_gsd: bool) -> Self {
        self.requires_gsd = requires_gsd;
        self
    }
}

/// What running a task gave (the seed's `Result`). Failures are data here: `success` is false and
/// `error` says why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskResult {
    /// The task as it was executed.
    pub task: Task,
    /// The platform that produced this result (for a task no platform could take: the first one
    /// it would have gone to).
    pub platform: Platform,
    /// The platform's answer (empty on failure).
    pub output: String,
    /// Whether the task succeeded.
    pub success: bool,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<String>,
    /// Cost in US dollars.
    #[serde(default)]
    pub cost: f64,
    /// Every token billed, all kinds together.
    #[serde(default)]
    pub tokens_used: u64,
    /// Wall time of the whole execution, fallbacks included.
    #[serde(default)]
    pub duration_seconds: f64,
    /// The routing decision, every attempt, the model, and anything else worth keeping.
    #[serde(default)]
    pub metadata: Map<String, Value>,
}

impl TaskResult {
    /// A failed result: no output, no cost, `error` saying why.
    pub fn failure(
        task: Task,
        platform: Platform,
        error: impl Into<String>,
        duration_seconds: f64,
        metadata: Map<String, Value>,
    ) -> Self {
        TaskResult {
            task,
            platform,
            output: String::new(),
            success: false,
            error: Some(error.into()),
            cost: 0.0,
            tokens_used: 0,
            duration_seconds,
            metadata,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seed_style_task_parses_with_defaults() {
        let task: Task = serde_json::from_str(r#"{"type":"code_generation","prompt":"x"}"#).unwrap();
        assert_eq!(task, Task::new(TaskType::CodeGeneration, "x"));
        assert_eq!(task.priority, 5);
        assert!(task.context.is_empty() && task.metadata.is_empty());
        assert_eq!(task.platform_hint, None);
        assert!(!task.requires_gsd);
    }

    #[test]
    fn full_task_round_trips_with_snake_case_names() {
        let task = Task::new(TaskType::SqlDbWork, "Refresh EMAs for BTC, ETH")
            .with_hint(Platform::ClaudeCode)
            .with_context("memory", json!(["ema refresh ran on 2024-01-01"]))
            .with_metadata("tool", "ema_refresh")
            .with_priority(0)
            .with_requires_gsd(true);
        let text = serde_json::to_string(&task).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["type"], "sql_db_work");
        assert_eq!(value["platform_hint"], "claude_code");
        assert_eq!(value["priority"], 0);
        assert_eq!(value["requires_gsd"], true);
        assert_eq!(value["metadata"]["tool"], "ema_refresh");
        let back: Task = serde_json::from_str(&text).unwrap();
        assert_eq!(back, task);
    }

    #[test]
    fn task_result_round_trips_and_seed_defaults_apply() {
        let result = TaskResult {
            task: Task::new(TaskType::Research, "q"),
            platform: Platform::Gemini,
            output: "answer".into(),
            success: true,
            error: None,
            cost: 0.000_123_4,
            tokens_used: 1234,
            duration_seconds: 1.5,
            metadata: Map::from_iter([("model".to_string(), json!("gemini-2.5-flash"))]),
        };
        let text = serde_json::to_string(&result).unwrap();
        assert_eq!(serde_json::from_str::<TaskResult>(&text).unwrap(), result);

        let minimal: TaskResult = serde_json::from_str(
            r#"{"task":{"type":"planning","prompt":"p"},"platform":"local","output":"","success":false}"#,
        )
        .unwrap();
        assert_eq!(minimal.platform, Platform::Local);
        assert_eq!((minimal.cost, minimal.tokens_used, minimal.error), (0.0, 0, None));
    }

    #[test]
    fn unknown_names_are_rejected_with_the_valid_list() {
        let e = "gpt".parse::<Platform>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown platform 'gpt'; valid names: claude, claude_code, chatgpt, gemini, local"
        );
        let e = "sql".parse::<TaskType>().unwrap_err().to_string();
        assert!(e.contains("sql_db_work") && e.contains("code_generation"), "{e}");
        assert!(serde_json::from_str::<Task>(r#"{"type":"poetry","prompt":"x"}"#).is_err());
    }

    #[test]
    fn display_from_str_and_serde_agree() {
        for &p in Platform::ALL {
            assert_eq!(p.to_string().parse::<Platform>().unwrap(), p);
            assert_eq!(serde_json::to_value(p).unwrap(), json!(p.to_string()));
        }
        for &t in TaskType::ALL {
            assert_eq!(t.to_string().parse::<TaskType>().unwrap(), t);
            assert_eq!(serde_json::to_value(t).unwrap(), json!(t.to_string()));
        }
        assert_eq!(TaskType::ALL.len(), 10);
        assert_eq!(Platform::ALL.len(), 5);
        assert_eq!(" Claude_Code ".parse::<Platform>().unwrap(), Platform::ClaudeCode);
        assert_eq!(
            format!("[{:<8}|{:>8}]", Platform::Local, TaskType::Testing),
            "[local   | testing]"
        );
    }
}
