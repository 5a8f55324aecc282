//! One module per command; `run` dispatches and loads configuration once.

pub mod ask;
mod batch;
mod chart;
mod config;
mod costs;
pub mod demo;
pub mod ema;
mod ingest;
mod memory;
mod quota;
mod run;
mod signals;
mod status;
mod tasks;
mod timeframes;

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
        Command::RefreshEma(args) => ema::refresh_ema(&config, args, cli.global.quiet).await,
        Command::Ema(args) => ema::show(&config, args).await,
        Command::Ask(args) => ask::run(&config, args).await,
        Command::Demo(args) => demo::run(&overrides, args, cli.global.quiet).await,
        Command::Timeframes(args) => timeframes::run(&config, args).await,
        Command::Run(args) => run::run(&config, args).await,
        Command::Batch(args) => batch::run(&config, args).await,
        Command::Tasks(args) => tasks::run(&config, args).await,
        Command::Quota(args) => quota::run(&config, args).await,
        Command::Costs(args) => costs::run(&config, args).await,
        Command::Signals(args) => signals::run(&config, args).await,
        Command::Chart(args) => chart::run(&config, args).await,
    }
}
