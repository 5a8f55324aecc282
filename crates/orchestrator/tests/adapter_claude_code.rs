//! The Claude Code adapter against a fake `claude` script (tests/fixtures/fake_claude.sh) that
//! prints Claude Code's real JSON result, fails, prints garbage, or hangs past the timeout.
#![cfg(unix)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use talab_orchestrator::adapters::{ClaudeCodeAdapter, McpServerConfig};
use talab_orchestrator::{
    ClaudeCodeConfig, Platform, PlatformAdapter, PlatformError, PriceTable, Task, TaskType, Usage,
};

fn script() -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fake_claude.sh"
    ));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn adapter(mode: &str, timeout: Duration) -> ClaudeCodeAdapter {
    let cfg = ClaudeCodeConfig {
        binary: Some(script()),
        mcp: None,
    };
    ClaudeCodeAdapter::new(&cfg, Arc::new(PriceTable::builtin()), timeout).with_env("FAKE_CLAUDE_MODE", mode)
}

fn task() -> Task {
    Task::new(
        TaskType::CodeGeneration,
        "Write the EMA refresh job; it's \"urgent\" & $HOME-safe",
    )
    .with_context("memory", "EMAs live in the ema_values table")
}

#[tokio::test]
async fn success_parses_result_usage_cost_and_model_and_sends_the_prompt_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("record.txt");
    let claude = adapter("success", Duration::from_secs(20)).with_env("FAKE_CLAUDE_RECORD", &record);
    assert_eq!(claude.platform(), Platform::ClaudeCode);
    assert!(claude.status().usable(), "{:?}", claude.status());
    let out = claude.execute(&task()).await.unwrap();
    assert_eq!(out.output, "EMA-20 is above EMA-50 for BTC.");
    assert_eq!(out.model, "claude-sonnet-4-5-20250929");
    assert_eq!(
        out.usage,
        Usage {
            input_uncached: 4,
            cache_read: 13496,
            cache_write: 4373,
            output: 212,
            reasoning: 0
        }
    );
    assert_eq!(
        out.cost_usd,
        Some(0.0213468),
        "Claude Code's own total_cost_usd is used"
    );

    let recorded = std::fs::read_to_string(&record).unwrap();
    assert!(
        recorded.starts_with("args: -p --output-format json\n"),
        "{recorded}"
    );
    assert!(
        recorded.contains("## memory\nEMAs live in the ema_values table"),
        "{recorded}"
    );
    assert!(
        recorded.ends_with("## Task\nWrite the EMA refresh job; it's \"urgent\" & $HOME-safe"),
        "{recorded}"
    );
}

#[tokio::test]
async fn reported_errors_are_classified() {
    let e = adapter("limit", Duration::from_secs(20))
        .execute(&task())
        .await
        .unwrap_err();
    assert!(matches!(e, PlatformError::QuotaExhausted { .. }), "{e:?}");
    assert_eq!(e.message(), "Claude AI usage limit reached|1764302400");
    let e = adapter("auth", Duration::from_secs(20))
        .execute(&task())
        .await
        .unwrap_err();
    assert_eq!(
        (e.class(), e.message()),
        ("auth", "Invalid API key · Please run /login")
    );
}

#[tokio::test]
async fn non_zero_exit_is_transient_with_stderr_last_line() {
    let e = adapter("exit", Duration::from_secs(20))
        .execute(&task())
        .await
        .unwrap_err();
    assert_eq!(e.class(), "transient");
    assert!(
        e.message()
            .ends_with("fake_claude.sh exited with status 2: Error: connect ECONNREFUSED 127.0.0.1:443"),
        "{e}"
    );
}

#[tokio::test]
async fn invalid_json_is_transient() {
    let e = adapter("invalid", Duration::from_secs(20))
        .execute(&task())
        .await
        .unwrap_err();
    assert_eq!(e.class(), "transient");
    assert!(
        e.message()
            .contains("printed output that is not its JSON result; it starts with \"Welcome to Claude Code!"),
        "{e}"
    );
}

/// Runs the fake in `mode` (which hangs) with a 1.5 s timeout: the timeout error and the PID the
/// fake wrote to FAKE_CLAUDE_PID_FILE.
async fn timed_out(mode: &str) -> (PlatformError, u32) {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let claude = adapter(mode, Duration::from_millis(1500)).with_env("FAKE_CLAUDE_PID_FILE", &pid_file);
    let e = claude.execute(&task()).await.unwrap_err();
    assert!(matches!(e, PlatformError::Timeout { .. }), "{e:?}");
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (e, pid)
}

#[tokio::test]
async fn a_hang_past_the_timeout_is_killed() {
    let (e, pid) = timed_out("sleep").await;
    assert!(
        e.message()
            .ends_with("gave no result within 1.5 s and was killed"),
        "{e}"
    );
    assert!(pid > 0);
    #[cfg(target_os = "linux")]
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "process {pid} is still there"
    );
}

#[tokio::test]
async fn an_mcp_server_is_handed_over_in_a_private_file_that_goes_with_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let (record, mcp_record) = (dir.path().join("record.txt"), dir.path().join("mcp.txt"));
    let server = McpServerConfig {
        name: "talab".into(),
        command: "/usr/local/bin/talab".into(),
        args: vec!["mcp".into()],
        env: [(
            "TALAB_DATABASE_URL".to_string(),
            "sqlite:///lab/talab.db".to_string(),
        )]
        .into(),
        allowed_tools: vec!["search_memories".into(), "list_tasks".into()],
    };
    let cfg = ClaudeCodeConfig {
        binary: Some(script()),
        mcp: Some(server),
    };
    let claude = ClaudeCodeAdapter::new(&cfg, Arc::new(PriceTable::builtin()), Duration::from_secs(20))
        .with_env("FAKE_CLAUDE_MODE", "success")
        .with_env("FAKE_CLAUDE_RECORD", &record)
        .with_env("FAKE_CLAUDE_MCP_RECORD", &mcp_record);
    claude.execute(&task()).await.unwrap();

    let recorded = std::fs::read_to_string(&record).unwrap();
    let args = recorded.lines().next().unwrap();
    let words: Vec<&str> = args.split(' ').collect();
    assert_eq!(words[..4], ["args:", "-p", "--output-format", "json"], "{args}");
    assert_eq!(words[4], "--mcp-config", "{args}");
    assert_eq!(
        words[6..],
        [
            "--allowedTools",
            "mcp__talab__search_memories,mcp__talab__list_tasks"
        ],
        "{args}"
    );
    let given = std::fs::read_to_string(&mcp_record).unwrap();
    let (mode, config) = given.split_once('\n').unwrap();
    assert_eq!(mode, "mode: 600");
    let config: serde_json::Value = serde_json::from_str(config).unwrap();
    assert_eq!(
        config,
        serde_json::json!({"mcpServers": {"talab": {
            "type": "stdio", "command": "/usr/local/bin/talab", "args": ["mcp"],
            "env": {"TALAB_DATABASE_URL": "sqlite:///lab/talab.db"}}}})
    );
    assert!(
        !std::path::Path::new(words[5]).exists(),
        "the configuration outlived the run"
    );
}

#[tokio::test]
async fn a_missing_binary_is_reported_not_configured() {
    let cfg = ClaudeCodeConfig {
        binary: Some("/nonexistent/claude".into()),
        mcp: None,
    };
    let claude = ClaudeCodeAdapter::new(&cfg, Arc::new(PriceTable::builtin()), Duration::from_secs(5));
    assert_eq!(claude.status().message, "/nonexistent/claude does not exist");
    let e = claude.execute(&task()).await.unwrap_err();
    assert!(
        e.message().starts_with("cannot start /nonexistent/claude:"),
        "{e}"
    );
}

/// Whether a process is gone: no /proc entry, or a zombie waiting for a parent to reap it.
#[cfg(target_os = "linux")]
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the parenthesised command name: "pid (comm) S ...".
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_timeout_also_kills_what_claude_started() {
    let (_, helper) = timed_out("helper").await;
    // SIGKILL is delivered at once, but give the kernel a moment to tear the process down.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !gone(helper) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone(helper), "the helper {helper} outlived the timed-out call");
}
