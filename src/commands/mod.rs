//! One module per command; `run` dispatches and loads configuration once.

mod chart;
mod config;
mod ingest;
mod memory;
mod signals;
mod status;

use crate::cli::{Cli, Command};
use crate::config::{Config, Overrides};
use crate::exit::CliError;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let overrides = Overrides {
        config: cli.global.config.clone(),
        database_url: cli.global.database_url.clone(),
    };
    let config = Config::load(&overrides)?;
    match cli.command {
        Command::Status(args) => status::run(&config, args).await,
        Command::Config(args) => config::run(&config, args),
        Command::Memory(args) => memory::run(&config, args).await,
        Command::Ingest(args) => ingest::run(&config, args).await,
        Command::Assets(args) => ingest::assets(&config, args).await,
        Command::Signals(args) => signals::run(&config, args).await,
        Command::Chart(args) => chart::run(&config, args).await,
        other => Err(CliError::usage(format!(
            "`talab {}` is not implemented yet; see `talab --help` for the commands that work today",
            other.name()
        ))),
    }
}
