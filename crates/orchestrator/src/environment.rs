//! What is configured on this machine, and what each platform needs to run: keys for the HTTP
//! APIs, the `claude` program for Claude Code, registered tools for `local`. This is the spec's
//! `validate_environment()` without any network call, so `talab status` works offline.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Platform, Secret};

/// How one platform stands (the seed's `validate_environment` value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformStatus {
    /// Its key, server or binary is set.
    pub configured: bool,
    /// Everything it needs locally is present (binary runnable, tool registered).
    pub requirements_met: bool,
    /// The result of a network probe, when one was made.
    #[serde(default)]
    pub reachable: Option<bool>,
    /// Quota left in this window, as people read it ("812 of 1000 requests"), when tracked.
    #[serde(default)]
    pub quota_left: Option<String>,
    /// What a person should know: why it is not configured, or what it will use. Never a key.
    pub message: String,
}

impl PlatformStatus {
    /// Configured with everything it needs.
    pub fn ready(message: impl Into<String>) -> Self {
        PlatformStatus {
            configured: true,
            requirements_met: true,
            reachable: None,
            quota_left: None,
            message: message.into(),
        }
    }

    /// Not configured, with the reason.
    pub fn not_configured(message: impl Into<String>) -> Self {
        PlatformStatus {
            configured: false,
            requirements_met: false,
            reachable: None,
            quota_left: None,
            message: message.into(),
        }
    }

    /// Whether a task may be sent there: configured, requirements met, and not known unreachable.
    pub fn usable(&self) -> bool {
        self.configured && self.requirements_met && self.reachable != Some(false)
    }
}

/// Settings of one HTTP platform (claude, chatgpt, gemini).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpPlatformConfig {
    /// The API key (masked in every output).
    pub api_key: Option<Secret>,
    /// Another server: a proxy, a local OpenAI-compatible server, a test mock.
    pub base_url: Option<String>,
    /// The model to ask for.
    pub model: Option<String>,
}

impl HttpPlatformConfig {
    fn has_key(&self) -> bool {
        self.api_key.as_ref().is_some_and(|k| !k.is_blank())
    }

    fn base_url(&self) -> Option<&str> {
        self.base_url.as_deref().map(str::trim).filter(|u| !u.is_empty())
    }
}

/// Settings of Claude Code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClaudeCodeConfig {
    /// The `claude` program: a path, or a name looked up on PATH. Default: `claude` on PATH.
    pub binary: Option<PathBuf>,
    /// An MCP server given to Claude Code for every task it runs (talab's own tools).
    pub mcp: Option<crate::adapters::McpServerConfig>,
}

/// The name Claude Code's program has when no binary is configured.
pub const CLAUDE_CODE_DEFAULT_BINARY: &str = "claude";

/// What is configured for each platform.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvironmentConfig {
    pub claude: HttpPlatformConfig,
    pub chatgpt: HttpPlatformConfig,
    pub gemini: HttpPlatformConfig,
    pub claude_code: ClaudeCodeConfig,
    /// Names of the local tools registered at wiring time.
    pub local_tools: Vec<String>,
}

/// The platforms reached over HTTP with a key, a base URL and a model.
pub const HTTP_PLATFORMS: [Platform; 3] = [Platform::Claude, Platform::Chatgpt, Platform::Gemini];

/// The key variable each HTTP platform reads.
pub fn api_key_var(platform: Platform) -> Option<&'static str> {
    match platform {
        Platform::Claude => Some("ANTHROPIC_API_KEY"),
        Platform::Chatgpt => Some("OPENAI_API_KEY"),
        Platform::Gemini => Some("GEMINI_API_KEY"),
        Platform::ClaudeCode | Platform::Local => None,
    }
}

/// The provider's own base-URL variable of each HTTP platform.
fn provider_base_url_var(platform: Platform) -> Option<&'static str> {
    match platform {
        Platform::Claude => Some("ANTHROPIC_BASE_URL"),
        Platform::Chatgpt => Some("OPENAI_BASE_URL"),
        Platform::Gemini => Some("GEMINI_BASE_URL"),
        Platform::ClaudeCode | Platform::Local => None,
    }
}

/// The variables that set an HTTP platform's base URL, first set wins: talab's own
/// `TALAB_<PLATFORM>_BASE_URL`, then the provider's (`ANTHROPIC_BASE_URL`…). Empty for the others.
pub fn base_url_vars(platform: Platform) -> Vec<String> {
    match provider_base_url_var(platform) {
        Some(provider) => vec![talab_var(platform, "BASE_URL"), provider.to_string()],
        None => Vec::new(),
    }
}

/// The variable that sets an HTTP platform's model, `TALAB_<PLATFORM>_MODEL`.
pub fn model_var(platform: Platform) -> Option<String> {
    HTTP_PLATFORMS
        .contains(&platform)
        .then(|| talab_var(platform, "MODEL"))
}

fn talab_var(platform: Platform, what: &str) -> String {
    format!("TALAB_{}_{what}", platform.as_str().to_ascii_uppercase())
}

impl EnvironmentConfig {
    /// The settings of one HTTP platform (None for claude_code and local).
    pub fn http(&self, platform: Platform) -> Option<&HttpPlatformConfig> {
        match platform {
            Platform::Claude => Some(&self.claude),
            Platform::Chatgpt => Some(&self.chatgpt),
            Platform::Gemini => Some(&self.gemini),
            Platform::ClaudeCode | Platform::Local => None,
        }
    }

    fn http_mut(&mut self, platform: Platform) -> Option<&mut HttpPlatformConfig> {
        match platform {
            Platform::Claude => Some(&mut self.claude),
            Platform::Chatgpt => Some(&mut self.chatgpt),
            Platform::Gemini => Some(&mut self.gemini),
            Platform::ClaudeCode | Platform::Local => None,
        }
    }

    /// Nothing from files, everything from the process environment (see [`Self::apply_env`]).
    pub fn from_env() -> Self {
        let mut cfg = EnvironmentConfig::default();
        cfg.apply_env(|name| std::env::var(name).ok());
        cfg
    }

    /// Overrides settings with environment variables, as `lookup` gives them (empty = unset):
    /// `ANTHROPIC_API_KEY`, `OPENAI_API_KEY`, `GEMINI_API_KEY`; base URLs from
    /// `TALAB_<PLATFORM>_BASE_URL`, else the provider's `ANTHROPIC_BASE_URL` / `OPENAI_BASE_URL` /
    /// `GEMINI_BASE_URL`; models from `TALAB_<PLATFORM>_MODEL`; Claude Code's program from
    /// [`CLAUDE_CODE_BINARY_VARS`]. (`<PLATFORM>` is CLAUDE, CHATGPT or GEMINI.)
    pub fn apply_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        for platform in HTTP_PLATFORMS {
            let key = api_key_var(platform).and_then(get);
            let base = base_url_vars(platform).iter().find_map(|name| get(name));
            let model = model_var(platform).and_then(|name| get(&name));
            let Some(http) = self.http_mut(platform) else {
                continue;
            };
            if let Some(key) = key {
                http.api_key = Some(Secret::new(key));
            }
            if base.is_some() {
                http.base_url = base;
            }
            if model.is_some() {
                http.model = model;
            }
        }
        if let Some(binary) = CLAUDE_CODE_BINARY_VARS.iter().find_map(|name| get(name)) {
            self.claude_code.binary = Some(PathBuf::from(binary));
        }
    }
}

/// The environment variables naming Claude Code's program, the first set winning: the name the CLI
/// documents, then the longer one this crate read before (kept so existing setups still work).
pub const CLAUDE_CODE_BINARY_VARS: [&str; 2] = ["TALAB_CLAUDE_CODE_BIN", "TALAB_CLAUDE_CODE_BINARY"];

/// Checks every platform's configuration (no network): see [`PlatformStatus`].
///
/// ```
/// use talab_orchestrator::{validate_environment, EnvironmentConfig, Platform};
///
/// let status = validate_environment(&EnvironmentConfig::default());
/// assert!(!status[&Platform::Claude].configured);
/// assert_eq!(status[&Platform::Claude].message, "ANTHROPIC_API_KEY is not set");
/// assert!(status[&Platform::Local].configured);
/// ```
pub fn validate_environment(cfg: &EnvironmentConfig) -> BTreeMap<Platform, PlatformStatus> {
    validate_with_path(cfg, std::env::var_os("PATH"))
}

/// [`validate_environment`] with an explicit PATH (tests, or a caller that knows better).
pub fn validate_with_path(
    cfg: &EnvironmentConfig,
    path_var: Option<OsString>,
) -> BTreeMap<Platform, PlatformStatus> {
    Platform::ALL
        .iter()
        .map(|&platform| {
            let status = match platform {
                Platform::Claude | Platform::Gemini => http_status(platform, cfg, false),
                Platform::Chatgpt => http_status(platform, cfg, true),
                Platform::ClaudeCode => claude_code_status(&cfg.claude_code, path_var.as_ref()),
                Platform::Local => local_status(&cfg.local_tools),
            };
            (platform, status)
        })
        .collect()
}

fn http_status(platform: Platform, cfg: &EnvironmentConfig, keyless_server_ok: bool) -> PlatformStatus {
    let Some(http) = cfg.http(platform) else {
        return PlatformStatus::not_configured(format!("{platform} is not an HTTP platform"));
    };
    let key_var = api_key_var(platform).unwrap_or("the API key");
    let model = http
        .model
        .as_deref()
        .map(|m| format!("; model {m}"))
        .unwrap_or_default();
    let server = http
        .base_url()
        .map(|u| format!("; server {}", display_url(u)))
        .unwrap_or_default();
    if http.has_key() {
        PlatformStatus::ready(format!("API key set{server}{model}"))
    } else if keyless_server_ok && http.base_url().is_some() {
        PlatformStatus::ready(format!("no API key, OpenAI-compatible server{server}{model}"))
    } else {
        PlatformStatus::not_configured(format!("{key_var} is not set"))
    }
}

fn claude_code_status(cfg: &ClaudeCodeConfig, path_var: Option<&OsString>) -> PlatformStatus {
    let wanted = cfg
        .binary
        .clone()
        .unwrap_or_else(|| PathBuf::from(CLAUDE_CODE_DEFAULT_BINARY));
    match locate_binary(&wanted, path_var) {
        Ok(found) => PlatformStatus::ready(format!("claude found at {}", found.display())),
        Err(looked) => PlatformStatus::not_configured(looked),
    }
}

fn local_status(tools: &[String]) -> PlatformStatus {
    if tools.is_empty() {
        PlatformStatus::ready("no local tools registered yet")
    } else {
        PlatformStatus::ready(format!("local tools registered: {}", tools.join(", ")))
    }
}

/// Finds a program: a path with a folder in it is checked as it is, a bare name is looked up on
/// `path_var`. The error says where it looked.
pub fn locate_binary(wanted: &Path, path_var: Option<&OsString>) -> Result<PathBuf, String> {
    if wanted.components().count() > 1 {
        return if is_executable(wanted) {
            Ok(wanted.to_path_buf())
        } else if wanted.exists() {
            Err(format!(
                "{} exists but is not an executable file",
                wanted.display()
            ))
        } else {
            Err(format!("{} does not exist", wanted.display()))
        };
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    for dir in path_var.map(std::env::split_paths).into_iter().flatten() {
        if !dir.as_os_str().is_empty() && !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    for dir in &dirs {
        for name in candidate_names(wanted) {
            let path = dir.join(name);
            if is_executable(&path) {
                return Ok(path);
            }
        }
    }
    if dirs.is_empty() {
        Err(format!("`{}` not found: PATH is empty", wanted.display()))
    } else {
        let shown: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        Err(format!(
            "`{}` not found on PATH ({})",
            wanted.display(),
            shown.join(", ")
        ))
    }
}

#[cfg(windows)]
fn candidate_names(wanted: &Path) -> Vec<PathBuf> {
    ["", ".exe", ".cmd", ".bat"]
        .iter()
        .map(|ext| PathBuf::from(format!("{}{ext}", wanted.display())))
        .collect()
}

#[cfg(not(windows))]
fn candidate_names(wanted: &Path) -> Vec<PathBuf> {
    vec![wanted.to_path_buf()]
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// A URL as it may be shown: no user, password, query or fragment (which may hold keys). One rule
/// for every crate, so it lives with the masking in `talab-db`.
pub use talab_db::redact::display_url;

#[cfg(test)]
mod tests {
    use super::*;

    const ANTHROPIC: &str = "sk-ant-TESTKEY-1";
    const OPENAI: &str = "sk-proj-TESTKEY-2";
    const GEMINI: &str = "AIzaTESTKEY-3";

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn nothing_configured_gives_a_reason_for_every_platform() {
        let status = validate_with_path(&EnvironmentConfig::default(), None);
        assert_eq!(status.len(), 5);
        assert_eq!(status[&Platform::Claude].message, "ANTHROPIC_API_KEY is not set");
        assert_eq!(status[&Platform::Chatgpt].message, "OPENAI_API_KEY is not set");
        assert_eq!(status[&Platform::Gemini].message, "GEMINI_API_KEY is not set");
        assert_eq!(
            status[&Platform::ClaudeCode].message,
            "`claude` not found: PATH is empty"
        );
        assert_eq!(status[&Platform::Local].message, "no local tools registered yet");
        for p in [
            Platform::Claude,
            Platform::Chatgpt,
            Platform::Gemini,
            Platform::ClaudeCode,
        ] {
            assert!(!status[&p].configured && !status[&p].usable(), "{p}");
        }
        assert!(status[&Platform::Local].usable());
    }

    #[test]
    fn keys_from_env_configure_and_never_appear_in_messages() {
        let mut cfg = EnvironmentConfig::default();
        cfg.apply_env(env(&[
            ("ANTHROPIC_API_KEY", ANTHROPIC),
            ("OPENAI_API_KEY", OPENAI),
            ("GEMINI_API_KEY", GEMINI),
            ("TALAB_GEMINI_MODEL", "gemini-2.5-flash"),
        ]));
        assert_eq!(cfg.claude.api_key.as_ref().unwrap().expose(), ANTHROPIC);
        let status = validate_with_path(&cfg, None);
        for p in [Platform::Claude, Platform::Chatgpt, Platform::Gemini] {
            assert!(status[&p].configured && status[&p].requirements_met, "{p}");
        }
        assert_eq!(
            status[&Platform::Gemini].message,
            "API key set; model gemini-2.5-flash"
        );
        let everything = format!(
            "{status:?} {} {cfg:?}",
            serde_json::to_string(&status).unwrap() + &serde_json::to_string(&cfg).unwrap()
        );
        for key in [ANTHROPIC, OPENAI, GEMINI] {
            assert!(!everything.contains(key), "a key leaked: {everything}");
        }
    }

    #[test]
    fn chatgpt_needs_no_key_with_a_base_url_and_hides_url_credentials() {
        let mut cfg = EnvironmentConfig::default();
        cfg.apply_env(env(&[(
            "OPENAI_BASE_URL",
            "http://user:pw@127.0.0.1:11434/v1?key=abc",
        )]));
        let status = validate_with_path(&cfg, None);
        let chatgpt = &status[&Platform::Chatgpt];
        assert!(chatgpt.configured);
        assert_eq!(
            chatgpt.message,
            "no API key, OpenAI-compatible server; server http://127.0.0.1:11434/v1"
        );
        // A base URL alone does not configure the others: they need their key.
        cfg.claude.base_url = Some("http://127.0.0.1:9/".into());
        assert!(!validate_with_path(&cfg, None)[&Platform::Claude].configured);
    }

    #[test]
    fn talab_variables_win_over_provider_variables_and_blank_is_unset() {
        let mut cfg = EnvironmentConfig::default();
        cfg.chatgpt.model = Some("from-file".into());
        cfg.apply_env(env(&[
            ("OPENAI_BASE_URL", "http://provider/v1"),
            ("TALAB_CHATGPT_BASE_URL", "http://talab/v1"),
            ("TALAB_CHATGPT_MODEL", "  "),
            ("ANTHROPIC_API_KEY", ""),
            ("TALAB_CLAUDE_CODE_BINARY", "/opt/claude/bin/claude"),
        ]));
        assert_eq!(cfg.chatgpt.base_url.as_deref(), Some("http://talab/v1"));
        assert_eq!(cfg.chatgpt.model.as_deref(), Some("from-file"));
        assert!(cfg.claude.api_key.is_none());
        assert_eq!(
            cfg.claude_code.binary,
            Some(PathBuf::from("/opt/claude/bin/claude"))
        );
        // The CLI's documented name wins over the older one.
        cfg.apply_env(env(&[
            ("TALAB_CLAUDE_CODE_BINARY", "/old/claude"),
            ("TALAB_CLAUDE_CODE_BIN", "/usr/local/bin/claude"),
        ]));
        assert_eq!(
            cfg.claude_code.binary,
            Some(PathBuf::from("/usr/local/bin/claude"))
        );
        cfg.claude.api_key = Some(Secret::new(" "));
        assert!(!validate_with_path(&cfg, None)[&Platform::Claude].configured);
    }

    #[cfg(unix)]
    #[test]
    fn claude_code_is_found_on_path_or_by_explicit_path() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let empty = tempfile::tempdir().unwrap();
        let bin = dir.path().join("claude");
        std::fs::write(&bin, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = std::env::join_paths([empty.path(), dir.path(), empty.path()]).unwrap();

        let status = validate_with_path(&EnvironmentConfig::default(), Some(path.clone()));
        assert!(status[&Platform::ClaudeCode].usable());
        assert_eq!(
            status[&Platform::ClaudeCode].message,
            format!("claude found at {}", bin.display())
        );

        let only_empty = std::env::join_paths([empty.path(), empty.path()]).unwrap();
        let status = validate_with_path(&EnvironmentConfig::default(), Some(only_empty));
        let msg = &status[&Platform::ClaudeCode].message;
        assert!(!status[&Platform::ClaudeCode].configured);
        // Where it looked, each folder once.
        assert_eq!(
            msg,
            &format!("`claude` not found on PATH ({})", empty.path().display())
        );

        let mut cfg = EnvironmentConfig::default();
        cfg.claude_code.binary = Some(bin.clone());
        assert!(validate_with_path(&cfg, None)[&Platform::ClaudeCode].configured);
        let not_exec = dir.path().join("notes.txt");
        std::fs::write(&not_exec, "x").unwrap();
        cfg.claude_code.binary = Some(not_exec);
        let msg = validate_with_path(&cfg, Some(path))[&Platform::ClaudeCode]
            .message
            .clone();
        assert!(msg.ends_with("exists but is not an executable file"), "{msg}");
    }

    #[test]
    fn local_lists_registered_tools() {
        let cfg = EnvironmentConfig {
            local_tools: vec!["ema_refresh".into(), "memory_search".into()],
            ..EnvironmentConfig::default()
        };
        assert_eq!(
            validate_with_path(&cfg, None)[&Platform::Local].message,
            "local tools registered: ema_refresh, memory_search"
        );
    }

    #[test]
    fn config_deserializes_with_defaults_and_rejects_unknown_fields() {
        let cfg: EnvironmentConfig =
            serde_json::from_str(r#"{"gemini":{"api_key":"k","model":"m"},"local_tools":["t"]}"#).unwrap();
        assert_eq!(cfg.gemini.api_key.as_ref().unwrap().expose(), "k");
        assert_eq!(cfg.claude, HttpPlatformConfig::default());
        assert!(serde_json::from_str::<EnvironmentConfig>(r#"{"gemini":{"apikey":"k"}}"#).is_err());
    }

    #[test]
    fn variable_names_of_each_platform() {
        assert_eq!(
            base_url_vars(Platform::Claude),
            ["TALAB_CLAUDE_BASE_URL", "ANTHROPIC_BASE_URL"]
        );
        assert_eq!(
            base_url_vars(Platform::Chatgpt),
            ["TALAB_CHATGPT_BASE_URL", "OPENAI_BASE_URL"]
        );
        assert_eq!(model_var(Platform::Gemini).as_deref(), Some("TALAB_GEMINI_MODEL"));
        for other in [Platform::ClaudeCode, Platform::Local] {
            assert!(
                base_url_vars(other).is_empty() && model_var(other).is_none() && api_key_var(other).is_none()
            );
        }
    }

    #[test]
    fn display_url_strips_credentials_query_and_fragment() {
        assert_eq!(display_url("https://a:b@host:1/v1?key=s#f"), "https://host:1/v1");
        assert_eq!(display_url("http://host"), "http://host");
        assert_eq!(display_url("localhost:8080/x?k=1"), "localhost:8080/x");
    }
}
