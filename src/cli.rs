//! The command line: global flags and the commands the specs name.
//!
//! Commands whose work is not built yet still parse their arguments (so scripts can be written
//! against them) but exit 2 with "not implemented yet"; nothing claims to work before it does.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// talab: crypto price history and exact EMAs, AI task routing, and a memory of what was done.
#[derive(Debug, Parser)]
#[command(name = "talab", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file (default: $TALAB_HOME/talab.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST:PORT/DB (overrides TALAB_DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Refresh EMAs for symbols as an orchestrated, remembered task.
    RefreshEma(Pending),
    /// Show stored EMA values for a symbol.
    Ema(Pending),
    /// Load price history: `ingest csv FILE`, `ingest fetch --symbols BTC,ETH`, `ingest synthetic`.
    Ingest(Pending),
    /// List assets with their price coverage.
    Assets(Pending),
    /// List, enable or disable timeframes.
    Timeframes(Pending),
    /// Ask a question about what was done; answered from memory.
    Ask(Pending),
    /// Run the whole flow on synthetic prices in a throw-away database.
    Demo(Pending),
    /// Add, search and manage memories.
    Memory(Pending),
    /// Run one AI task: `run "prompt" [--type] [--platform]`.
    Run(Pending),
    /// Run tasks from a JSON Lines file in parallel.
    Batch(Pending),
    /// List and show stored tasks.
    Tasks(Pending),
    /// Which AI platforms are configured and usable, and whether the database opens.
    Status(StatusArgs),
    /// Quota use per platform.
    Quota(Pending),
    /// Spending per platform, model or day.
    Costs(Pending),
    /// Show the effective configuration (secrets masked).
    Config(ConfigArgs),
}

/// Arguments of a command that is not built yet: accepted, so the error is "not implemented yet"
/// rather than an argument error.
#[derive(Debug, Args)]
pub struct Pending {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: ConfigAction,
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print every setting, its value (secrets masked) and where it came from.
    Show {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Print the path of the configuration file talab reads.
    Path,
}

impl Command {
    /// The command's name as typed, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Command::RefreshEma(_) => "refresh-ema",
            Command::Ema(_) => "ema",
            Command::Ingest(_) => "ingest",
            Command::Assets(_) => "assets",
            Command::Timeframes(_) => "timeframes",
            Command::Ask(_) => "ask",
            Command::Demo(_) => "demo",
            Command::Memory(_) => "memory",
            Command::Run(_) => "run",
            Command::Batch(_) => "batch",
            Command::Tasks(_) => "tasks",
            Command::Status(_) => "status",
            Command::Quota(_) => "quota",
            Command::Costs(_) => "costs",
            Command::Config(_) => "config",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn pending_commands_accept_their_future_arguments() {
        let cli = Cli::try_parse_from(["talab", "refresh-ema", "--symbols", "BTC,ETH", "--full"]).unwrap();
        assert_eq!(cli.command.name(), "refresh-ema");
    }
}
