//! `talab mcp`: the lab's memory and EMAs as tools for AI assistants, over the Model Context
//! Protocol (the official Rust SDK, `rmcp`), on stdio — what Claude Code, Claude Desktop and
//! Cursor start.
//!
//! The server is one [`App`], like any command: one database handle, the embedding model loaded
//! once, the same stores and defaults as the CLI, so several servers and CLI commands on one
//! database see each other's writes (the stores are safe across processes). Tool errors are MCP
//! tool errors (`isError`) carrying the CLI's one-line messages; nothing but the protocol is
//! written to stdout (logs go to stderr). Answers are bounded ([`bounds`]).

pub mod bounds;
pub mod http;
mod lab_tools;
mod memory_tools;
mod record_tools;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, ServiceExt, tool_handler};

use crate::app::App;
use crate::exit::CliError;

/// What the server tells a client about itself when it connects.
pub const INSTRUCTIONS: &str = "talab's lab memory and EMAs. Memory tools (search_memories, \
add_memory, get_memory, update_memory, deprecate_memory, delete_memory, memory_history, \
memory_context) work in the store's default scope (\"default\"), the one `talab memory` uses, so \
what one client adds every client finds; add_memory and search_memories take `scope` to use \
another one. Lab tools: list_assets, get_ema, refresh_ema (recorded and \
remembered like `talab refresh-ema`), ask (like `talab ask`). Records (read-only): list_tasks, \
costs, signals_summary, memory_health. Lists are paginated: pass `next_cursor` back as `cursor`.";

/// The MCP server over one [`App`].
#[derive(Clone)]
pub struct TalabMcp {
    app: App,
    bounds: bounds::Bounds,
    tool_router: ToolRouter<TalabMcp>,
}

impl TalabMcp {
    pub fn new(app: App) -> Self {
        TalabMcp {
            bounds: bounds::Bounds::from_config(app.config()),
            app,
            tool_router: Self::router(),
        }
    }

    /// Every tool's name, sorted; only those marked read-only (`readOnlyHint`) when `read_only`.
    pub fn tools(read_only: bool) -> Vec<String> {
        Self::router()
            .list_all()
            .into_iter()
            .filter(|t| !read_only || t.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true))
            .map(|t| t.name.to_string())
            .collect()
    }

    fn router() -> ToolRouter<TalabMcp> {
        Self::memory_router() + Self::lab_router() + Self::record_router()
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for TalabMcp {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info = Implementation::new("talab", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(INSTRUCTIONS.into());
        info
    }
}

/// A fixed-choice argument read as the CLI reads the same flag (any case), or the tool error
/// listing the choices.
fn choice<T: clap::ValueEnum>(what: &str, text: &str) -> Result<T, String> {
    T::from_str(text, true).map_err(|_| {
        let known: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        format!("{what} '{text}' is not one of {}", known.join(", "))
    })
}

/// A library or flow error as a tool error's text: the CLI's one-line message.
fn failed(e: impl Into<CliError>) -> String {
    e.into().message().to_string()
}

/// Serves MCP on stdin/stdout until the client closes it.
pub async fn serve_stdio(app: App) -> Result<(), CliError> {
    let server = TalabMcp::new(app)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| CliError::failure(format!("MCP: the client did not initialise: {e}")))?;
    server
        .waiting()
        .await
        .map_err(|e| CliError::failure(format!("MCP: the session ended with an error: {e}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::TalabMcp;

    #[test]
    fn every_tool_says_whether_it_writes_and_the_read_only_ones_are_these() {
        for tool in TalabMcp::router().list_all() {
            let hint = tool.annotations.as_ref().and_then(|a| a.read_only_hint);
            assert!(hint.is_some(), "{} has no readOnlyHint", tool.name);
        }
        assert_eq!(
            TalabMcp::tools(true),
            [
                "ask",
                "costs",
                "get_ema",
                "get_memory",
                "list_assets",
                "list_tasks",
                "memory_context",
                "memory_health",
                "memory_history",
                "search_memories",
                "signals_summary"
            ]
        );
        assert_eq!(TalabMcp::tools(false).len(), 16);
    }
}
