//! Claude Code as a platform: runs `<binary> -p --output-format json` directly (no shell, so the
//! prompt is never parsed as shell text), writes the prompt on stdin, and reads the one JSON
//! result it prints (`result`, `usage`, `total_cost_usd`, `is_error`). The child runs in its own
//! process group; on a timeout (or if the call is dropped) the whole group is killed and the child
//! reaped, so neither `claude` nor anything it started outlives the call (see [`process_group`]).
//!
//! `claude` may print the credentials it was started with (an API key or OAuth token in its
//! environment) in an error; every error is masked with the shared [`Redactor`] over the
//! credential-named variables the child sees, before any output is quoted or cut.
//!
//! [`process_group`]: super::process_group

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};
use talab_db::redact::{Redactor, is_credential_name};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use super::claude_code_mcp::{McpConfigFile, McpServerConfig};
use super::process_group::{GroupKiller, in_own_group};
use super::render_context;
use crate::{
    AdapterOutput, CLAUDE_CODE_DEFAULT_BINARY, ClaudeCodeConfig, Platform, PlatformAdapter, PlatformError,
    PlatformStatus, PriceTable, Task, Usage, locate_binary,
};

/// The arguments Claude Code runs with: print mode, JSON output.
const ARGS: [&str; 3] = ["-p", "--output-format", "json"];
/// The model recorded when Claude Code's output names none.
const UNNAMED_MODEL: &str = "claude-code";

/// Claude Code (the `claude` program) as a subprocess.
pub struct ClaudeCodeAdapter {
    binary: PathBuf,
    env: Vec<(OsString, OsString)>,
    mcp: Option<McpServerConfig>,
    prices: Arc<PriceTable>,
    timeout: Duration,
}

impl std::fmt::Debug for ClaudeCodeAdapter {
    /// Environment variable names only: their values may be credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let env: Vec<_> = self.env.iter().map(|(k, _)| k).collect();
        f.debug_struct("ClaudeCodeAdapter")
            .field("binary", &self.binary)
            .field("env", &env)
            .field("mcp", &self.mcp)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ClaudeCodeAdapter {
    /// From the `claude_code` settings (default: `claude` on PATH); each run is bounded by `timeout`.
    pub fn new(cfg: &ClaudeCodeConfig, prices: Arc<PriceTable>, timeout: Duration) -> Self {
        ClaudeCodeAdapter {
            binary: cfg
                .binary
                .clone()
                .unwrap_or_else(|| PathBuf::from(CLAUDE_CODE_DEFAULT_BINARY)),
            env: Vec::new(),
            mcp: cfg.mcp.clone(),
            prices,
            timeout,
        }
    }

    /// Sets an environment variable for the child (e.g. `CLAUDE_CONFIG_DIR`), on top of ours.
    pub fn with_env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Masks the credentials the child sees: credential-named variables (`ANTHROPIC_API_KEY`,
    /// `CLAUDE_CODE_OAUTH_TOKEN`…) of our environment and of the ones set with [`Self::with_env`].
    fn redactor(&self) -> Redactor {
        std::env::vars_os()
            .chain(self.env.iter().cloned())
            .filter(|(name, _)| name.to_str().is_some_and(is_credential_name))
            .filter_map(|(_, value)| value.into_string().ok())
            .fold(Redactor::new(), Redactor::with_secret)
    }

    fn stdin_text(task: &Task) -> String {
        match render_context(task) {
            Some(context) => format!("{context}\n\n## Task\n{}", task.prompt),
            None => task.prompt.clone(),
        }
    }

    /// Runs the program once; `Ok` carries its exit status, stdout and stderr.
    async fn run(&self, input: String) -> Result<(ExitStatus, String, String), PlatformError> {
        let shown = self.binary.display();
        // Kept until the run ends: the folder holding the MCP configuration goes with it.
        let mcp = match &self.mcp {
            Some(server) => {
                let file = McpConfigFile::write(server).map_err(|e| PlatformError::BadRequest {
                    message: format!("cannot write Claude Code's MCP configuration: {e}"),
                })?;
                Some((file.args(server), file))
            }
            None => None,
        };
        let mut command = Command::new(&self.binary);
        let mut child = in_own_group(&mut command)
            .args(ARGS)
            .args(mcp.iter().flat_map(|(args, _)| args))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| PlatformError::BadRequest {
                message: format!("cannot start {shown}: {e}"),
            })?;
        let mut group = GroupKiller::new(child.id());
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(PlatformError::Transient {
                message: format!("{shown} started without its stdin/stdout/stderr pipes"),
            });
        };
        let write = async move {
            // A program that exits without reading its input closes the pipe: not our error.
            if let Err(e) = stdin.write_all(input.as_bytes()).await {
                tracing::debug!(error = %e, "claude did not read the whole prompt");
            }
            drop(stdin);
        };
        let finished = tokio::time::timeout(self.timeout, async {
            let (_, out, err, status) = tokio::join!(write, read_all(stdout), read_all(stderr), child.wait());
            (status, out, err)
        })
        .await;
        if finished.is_ok() {
            group.disarm();
        }
        match finished {
            Ok((Ok(status), out, err)) => Ok((status, out, err)),
            Ok((Err(e), _, _)) => Err(PlatformError::Transient {
                message: format!("waiting for {shown} failed: {e}"),
            }),
            Err(_) => {
                // The whole group first (helpers included), then kill() reaps the child; it fails
                // only if the child had already been reaped.
                group.kill();
                if let Err(e) = child.kill().await {
                    tracing::debug!(error = %e, "claude had already exited at the timeout");
                }
                Err(PlatformError::Timeout {
                    message: format!(
                        "{shown} gave no result within {:.1} s and was killed",
                        self.timeout.as_secs_f64()
                    ),
                })
            }
        }
    }

    fn interpret(
        &self,
        status: ExitStatus,
        stdout: &str,
        stderr: &str,
        redactor: &Redactor,
    ) -> Result<AdapterOutput, PlatformError> {
        let parsed = parse_result(stdout);
        if let Some(result) = parsed.as_ref().filter(|r| r.is_error) {
            return Err(classify_text(result.error_text()));
        }
        if !status.success() {
            let code = status
                .code()
                .map_or_else(|| "a signal".to_string(), |c| format!("status {c}"));
            let last = last_line(stderr)
                .or_else(|| last_line(stdout))
                .unwrap_or("no output");
            return Err(PlatformError::Transient {
                message: format!("{} exited with {code}: {last}", self.binary.display()),
            });
        }
        let Some(result) = parsed else {
            return Err(PlatformError::Transient {
                message: match last_line(stdout) {
                    Some(_) => format!(
                        "{} printed output that is not its JSON result; it starts with {:?}",
                        self.binary.display(),
                        redactor
                            .redact(stdout.trim())
                            .chars()
                            .take(60)
                            .collect::<String>()
                    ),
                    None => format!("{} printed nothing", self.binary.display()),
                },
            });
        };
        let usage = result.usage.as_ref().map(CliUsage::normalise).unwrap_or_default();
        let model = result.model().unwrap_or_else(|| UNNAMED_MODEL.to_string());
        let cost_usd = result
            .total_cost_usd
            .unwrap_or_else(|| self.prices.cost(&model, &usage).cost_usd);
        Ok(AdapterOutput {
            output: result.result.unwrap_or_default(),
            model,
            usage,
            cost_usd: Some(cost_usd),
        })
    }
}

#[async_trait::async_trait]
impl PlatformAdapter for ClaudeCodeAdapter {
    fn platform(&self) -> Platform {
        Platform::ClaudeCode
    }

    fn status(&self) -> PlatformStatus {
        match locate_binary(&self.binary, std::env::var_os("PATH").as_ref()) {
            Ok(found) => PlatformStatus::ready(format!("claude found at {}", found.display())),
            Err(looked) => PlatformStatus::not_configured(looked),
        }
    }

    async fn execute(&self, task: &Task) -> Result<AdapterOutput, PlatformError> {
        let redactor = self.redactor();
        self.run(Self::stdin_text(task))
            .await
            .and_then(|(status, stdout, stderr)| self.interpret(status, &stdout, &stderr, &redactor))
            .map_err(|e| super::http::scrub_with(&redactor, e))
    }
}

async fn read_all(mut pipe: impl AsyncRead + Unpin) -> String {
    let mut buf = Vec::new();
    if let Err(e) = pipe.read_to_end(&mut buf).await {
        tracing::debug!(error = %e, "reading claude's output failed");
    }
    String::from_utf8_lossy(&buf).into_owned()
}

fn last_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).rfind(|l| !l.is_empty())
}

/// Claude Code's `--output-format json` result.
#[derive(Deserialize)]
struct CliResult {
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    subtype: Option<String>,
    #[serde(default)]
    is_error: bool,
    #[serde(default)]
    total_cost_usd: Option<f64>,
    #[serde(default)]
    usage: Option<CliUsage>,
    #[serde(default, rename = "modelUsage")]
    model_usage: Option<Map<String, Value>>,
}

impl CliResult {
    fn error_text(&self) -> String {
        match (&self.result, &self.subtype) {
            (Some(r), _) if !r.trim().is_empty() => r.trim().to_string(),
            (_, Some(s)) => format!("claude stopped with {s}"),
            _ => "claude reported an error without a message".into(),
        }
    }

    /// The model that did most of the work (most output tokens), as `modelUsage` names it.
    fn model(&self) -> Option<String> {
        let usage = self.model_usage.as_ref()?;
        let output = |v: &Value| v["outputTokens"].as_u64().unwrap_or(0);
        usage
            .iter()
            .max_by(|a, b| output(a.1).cmp(&output(b.1)).then(b.0.cmp(a.0)))
            .map(|(name, _)| name.clone())
    }
}

#[derive(Deserialize)]
struct CliUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: u64,
    #[serde(default)]
    cache_creation_input_tokens: u64,
}

impl CliUsage {
    fn normalise(&self) -> Usage {
        Usage {
            input_uncached: self.input_tokens,
            cache_read: self.cache_read_input_tokens,
            cache_write: self.cache_creation_input_tokens,
            output: self.output_tokens,
            reasoning: 0,
        }
    }
}

/// The JSON result: the whole output, or else its last line (in case of a banner before it).
fn parse_result(stdout: &str) -> Option<CliResult> {
    serde_json::from_str(stdout.trim())
        .ok()
        .or_else(|| last_line(stdout).and_then(|l| serde_json::from_str(l).ok()))
}

/// The class of an error Claude Code reports in its result text.
fn classify_text(text: String) -> PlatformError {
    let lower = text.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if has(&[
        "usage limit",
        "credit balance",
        "spend limit",
        "hour limit reached",
        "weekly limit reached",
    ]) {
        PlatformError::QuotaExhausted { message: text }
    } else if has(&[
        "invalid api key",
        "/login",
        "not logged in",
        "authentication",
        "oauth token",
    ]) {
        PlatformError::Auth { message: text }
    } else if has(&["overloaded", "api error: 529"]) {
        PlatformError::Overloaded { message: text }
    } else if has(&["rate limit", "api error: 429"]) {
        PlatformError::RateLimited {
            retry_after: None,
            message: text,
        }
    } else if has(&["api error: 5", "timed out", "connection error"]) {
        PlatformError::Transient { message: text }
    } else {
        PlatformError::BadRequest { message: text }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_are_classified() {
        let class = |t: &str| classify_text(t.to_string()).class();
        assert_eq!(
            class("Claude AI usage limit reached|1760000000"),
            "quota_exhausted"
        );
        assert_eq!(class("Credit balance is too low"), "quota_exhausted");
        assert_eq!(class("5-hour limit reached ∙ resets 3pm"), "quota_exhausted");
        assert_eq!(class("Invalid API key · Please run /login"), "auth");
        assert_eq!(
            class(
                r#"API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
            ),
            "overloaded"
        );
        assert_eq!(class("API Error: 429 rate limit"), "rate_limited");
        assert_eq!(class("API Error: 500 Internal server error"), "transient");
        assert_eq!(class("claude stopped with error_max_turns"), "bad_request");
    }

    #[test]
    fn the_busiest_model_is_named() {
        let r: CliResult = serde_json::from_str(
            r#"{"type":"result","is_error":false,"result":"ok","modelUsage":{
                "claude-haiku-4-5-20251001":{"inputTokens":300,"outputTokens":20,"costUSD":0.0004},
                "claude-sonnet-4-5-20250929":{"inputTokens":9,"outputTokens":412,"costUSD":0.0123}}}"#,
        )
        .unwrap();
        assert_eq!(r.model().as_deref(), Some("claude-sonnet-4-5-20250929"));
        let none: CliResult = serde_json::from_str(r#"{"result":"ok"}"#).unwrap();
        assert_eq!(none.model(), None);
    }
}
