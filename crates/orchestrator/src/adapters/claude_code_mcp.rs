//! Tools for a task routed to Claude Code: an MCP server (a program Claude Code starts on stdio,
//! such as `talab mcp`) handed over with `--mcp-config`, and the tools of it the task may call
//! with `--allowedTools`. In print mode Claude Code cannot ask for permission, so a tool that is
//! not allowed is refused; the allowed list is the whole of what the task can do with the server.
//!
//! The configuration is written to a private file for each run (mode 0600, in a folder removed
//! when the run ends), never onto the command line: the server's environment may name a database
//! with its password, and a command line is readable by every user of the machine.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A stdio MCP server Claude Code starts for each task, and the tools of it the task may call.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct McpServerConfig {
    /// The name Claude Code knows the server by; its tools are `mcp__NAME__TOOL`.
    pub name: String,
    /// The program.
    pub command: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Variables set for it on top of the environment Claude Code passes on (which store it
    /// opens, for instance).
    pub env: BTreeMap<String, String>,
    /// The tools the task may call (bare names, without the `mcp__NAME__` prefix).
    pub allowed_tools: Vec<String>,
}

impl std::fmt::Debug for McpServerConfig {
    /// Variable names only: their values may hold credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServerConfig")
            .field("name", &self.name)
            .field("command", &self.command)
            .field("args", &self.args)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("allowed_tools", &self.allowed_tools)
            .finish()
    }
}

impl McpServerConfig {
    /// Claude Code's MCP configuration holding this one server.
    pub fn claude_config(&self) -> Value {
        json!({
            "mcpServers": {
                self.name.clone(): {
                    "type": "stdio",
                    "command": self.command,
                    "args": self.args,
                    "env": self.env,
                }
            }
        })
    }

    /// The allowed tools as Claude Code names them: `mcp__NAME__TOOL`.
    pub fn qualified_tools(&self) -> Vec<String> {
        self.allowed_tools
            .iter()
            .map(|tool| format!("mcp__{}__{tool}", self.name))
            .collect()
    }
}

/// One run's configuration file; the folder holding it is removed when this is dropped.
pub(super) struct McpConfigFile {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl McpConfigFile {
    /// Writes `server`'s configuration into a new private folder.
    pub(super) fn write(server: &McpServerConfig) -> std::io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("talab-claude-mcp-").tempdir()?;
        let path = dir.path().join("mcp.json");
        let text = serde_json::to_vec_pretty(&server.claude_config()).map_err(std::io::Error::other)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        std::io::Write::write_all(&mut options.open(&path)?, &text)?;
        Ok(McpConfigFile { _dir: dir, path })
    }

    /// The arguments that hand it to Claude Code, with the allowed tools.
    pub(super) fn args(&self, server: &McpServerConfig) -> Vec<OsString> {
        let mut args = vec![OsString::from("--mcp-config"), self.path.clone().into_os_string()];
        let tools = server.qualified_tools();
        if !tools.is_empty() {
            args.push("--allowedTools".into());
            args.push(tools.join(",").into());
        }
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> McpServerConfig {
        McpServerConfig {
            name: "talab".into(),
            command: "/opt/talab/bin/talab".into(),
            args: vec!["mcp".into()],
            env: BTreeMap::from([(
                "TALAB_DATABASE_URL".to_string(),
                "postgres://lab:s3cret@db/lab".to_string(),
            )]),
            allowed_tools: vec!["search_memories".into(), "get_ema".into()],
        }
    }

    #[test]
    fn the_file_is_claude_codes_format_private_and_gone_after_the_run() {
        let server = server();
        let file = McpConfigFile::write(&server).unwrap();
        let written: Value = serde_json::from_slice(&std::fs::read(&file.path).unwrap()).unwrap();
        assert_eq!(written["mcpServers"]["talab"]["command"], "/opt/talab/bin/talab");
        assert_eq!(written["mcpServers"]["talab"]["args"], json!(["mcp"]));
        assert_eq!(written["mcpServers"]["talab"]["type"], "stdio");
        assert_eq!(
            written["mcpServers"]["talab"]["env"]["TALAB_DATABASE_URL"],
            "postgres://lab:s3cret@db/lab"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let args: Vec<String> = file
            .args(&server)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        assert_eq!(args[0], "--mcp-config");
        assert_eq!(
            args[2..],
            [
                "--allowedTools",
                "mcp__talab__search_memories,mcp__talab__get_ema"
            ]
        );
        let path = file.path.clone();
        drop(file);
        assert!(!path.exists() && !path.parent().unwrap().exists());
    }

    #[test]
    fn debug_shows_no_variable_values() {
        let shown = format!("{:?}", server());
        assert!(
            shown.contains("TALAB_DATABASE_URL") && !shown.contains("s3cret"),
            "{shown}"
        );
    }
}
