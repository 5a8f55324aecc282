//! The real platform adapters, one file each, and [`build`], the one place that turns the
//! configuration into adapters: adding a platform is one adapter file plus one line in
//! [`adapter_for`]. Adapters make exactly one call per `execute` (retries are the orchestrator's).

mod anthropic;
mod claude_code;
mod claude_code_mcp;
mod gemini;
mod http;
mod local;
mod openai;
mod process_group;
mod unconfigured;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

pub use anthropic::{
    ANTHROPIC_DEFAULT_BASE_URL, ANTHROPIC_DEFAULT_MODEL, ANTHROPIC_VERSION, AnthropicAdapter,
};
pub use claude_code::ClaudeCodeAdapter;
pub use claude_code_mcp::McpServerConfig;
pub use gemini::{GEMINI_DEFAULT_BASE_URL, GEMINI_DEFAULT_MODEL, GeminiAdapter};
pub use local::{LocalAdapter, LocalTool, LocalToolRegistry};
pub use openai::{OPENAI_DEFAULT_BASE_URL, OPENAI_DEFAULT_MODEL, OpenAiAdapter};
pub use unconfigured::UnconfiguredAdapter;

use crate::{
    EnvironmentConfig, OrchestratorError, Platform, PlatformAdapter, PriceTable, Task, validate_environment,
};

/// An adapter for every platform, in [`Platform::ALL`] order: the real one where it is configured
/// (key set, OpenAI-compatible server given, `claude` found; `local` always), else an
/// [`UnconfiguredAdapter`] carrying the reason. `timeout` bounds each call.
pub fn build(
    cfg: &EnvironmentConfig,
    prices: Arc<PriceTable>,
    local: LocalToolRegistry,
    timeout: Duration,
) -> Result<Vec<Arc<dyn PlatformAdapter>>, OrchestratorError> {
    let mut status = validate_environment(cfg);
    let mut adapters = Vec::new();
    for &platform in Platform::ALL {
        match status.remove(&platform) {
            Some(s) if !s.configured => {
                let adapter: Arc<dyn PlatformAdapter> = Arc::new(UnconfiguredAdapter::new(platform, s));
                adapters.push(adapter);
            }
            _ => adapters.push(adapter_for(platform, cfg, &prices, &local, timeout)?),
        }
    }
    Ok(adapters)
}

/// The registry: one line per platform.
fn adapter_for(
    platform: Platform,
    cfg: &EnvironmentConfig,
    prices: &Arc<PriceTable>,
    local: &LocalToolRegistry,
    timeout: Duration,
) -> Result<Arc<dyn PlatformAdapter>, OrchestratorError> {
    Ok(match platform {
        Platform::Claude => Arc::new(AnthropicAdapter::new(&cfg.claude, prices.clone(), timeout)?),
        Platform::Chatgpt => Arc::new(OpenAiAdapter::new(&cfg.chatgpt, prices.clone(), timeout)?),
        Platform::Gemini => Arc::new(GeminiAdapter::new(&cfg.gemini, prices.clone(), timeout)?),
        Platform::ClaudeCode => Arc::new(ClaudeCodeAdapter::new(&cfg.claude_code, prices.clone(), timeout)),
        Platform::Local => Arc::new(LocalAdapter::new(local.clone())),
    })
}

/// The task's context as text for a system prompt / preamble, or `None` without context.
///
/// Each entry becomes a `## key` section: a string as it is, a list of strings as bullets, other
/// JSON pretty-printed. (`context["memory"]` is what the memory crate fills.)
pub fn render_context(task: &Task) -> Option<String> {
    let sections: Vec<String> = task
        .context
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(key, value)| format!("## {key}\n{}", render_value(value)))
        .collect();
    (!sections.is_empty()).then(|| format!("Context for this task:\n\n{}", sections.join("\n\n")))
}

fn render_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.trim_end().to_string(),
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|s| format!("- {s}"))
            .collect::<Vec<_>>()
            .join("\n"),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Secret, TaskType};
    use serde_json::json;

    #[test]
    fn context_renders_strings_lists_and_json() {
        let task = Task::new(TaskType::Research, "q")
            .with_context("memory", "BTC EMA-20 crossed EMA-50 on 2024-03-01\n")
            .with_context("previous", json!(["first", "second"]))
            .with_context("params", json!({"span": 20}))
            .with_context("nothing", Value::Null);
        assert_eq!(
            render_context(&task).unwrap(),
            "Context for this task:\n\n## memory\nBTC EMA-20 crossed EMA-50 on 2024-03-01\n\n\
             ## params\n{\n  \"span\": 20\n}\n\n## previous\n- first\n- second"
        );
        assert_eq!(render_context(&Task::new(TaskType::Research, "q")), None);
    }

    #[test]
    fn build_gives_every_platform_an_adapter_and_the_unconfigured_their_reason() {
        let prices = Arc::new(PriceTable::builtin());
        let t = Duration::from_secs(5);
        let none = build(
            &EnvironmentConfig::default(),
            prices.clone(),
            LocalToolRegistry::new(),
            t,
        )
        .unwrap();
        let names: Vec<Platform> = none.iter().map(|a| a.platform()).collect();
        assert_eq!(names, Platform::ALL, "one adapter per platform, in order");
        let status = |a: &[Arc<dyn PlatformAdapter>], p: Platform| {
            a.iter().find(|a| a.platform() == p).unwrap().status()
        };
        // The HTTP platforms need keys; the reason is the environment's own message.
        let claude = status(&none, Platform::Claude);
        assert!(!claude.configured);
        assert_eq!(claude.message, "ANTHROPIC_API_KEY is not set");
        assert!(!status(&none, Platform::Gemini).configured);
        assert!(status(&none, Platform::Local).usable());

        let mut cfg = EnvironmentConfig::default();
        cfg.claude.api_key = Some(Secret::new("sk-ant-x"));
        cfg.gemini.api_key = Some(Secret::new("AIza-x"));
        cfg.chatgpt.base_url = Some("http://localhost:11434/v1".into());
        cfg.claude_code.binary = Some("/definitely/not/here/claude".into());
        let all = build(&cfg, prices, LocalToolRegistry::new(), t).unwrap();
        for p in [
            Platform::Claude,
            Platform::Chatgpt,
            Platform::Gemini,
            Platform::Local,
        ] {
            assert!(status(&all, p).usable(), "{p}");
        }
        assert!(!status(&all, Platform::ClaudeCode).configured, "no such binary");
    }
}
