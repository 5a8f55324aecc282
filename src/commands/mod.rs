//! One module per command; `run` loads the configuration once into the process's [`App`],
//! dispatches, and closes the app whatever the outcome.

pub mod ask;
mod batch;
mod chart;
mod config;
pub(crate) mod costs;
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

use crate::app::App;
use crate::cli::{Cli, Command};
use crate::config::{Config, Overrides};
use crate::exit::CliError;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let overrides = Overrides {
        config: cli.global.config.clone(),
        database_url: cli.global.database_url.clone(),
    };
    let app = App::new(Config::load(&overrides)?);
    let quiet = cli.global.quiet;
    let outcome = dispatch(&app, &overrides, cli.command, quiet).await;
    app.close().await;
    outcome
}

async fn dispatch(app: &App, overrides: &Overrides, command: Command, quiet: bool) -> Result<(), CliError> {
    match command {
        Command::Status(args) => status::run(app, args).await,
        Command::Config(args) => config::run(app, args),
        Command::Memory(args) => memory::run(app, args).await,
        Command::Ingest(args) => ingest::run(app, args).await,
        Command::Assets(args) => ingest::assets(app, args).await,
        Command::RefreshEma(args) => ema::refresh_ema(app, args, quiet).await,
        Command::Ema(args) => ema::show(app, args).await,
        Command::Ask(args) => ask::run(app, args).await,
        Command::Demo(args) => demo::run(overrides, args, quiet).await,
        Command::Timeframes(args) => timeframes::run(app, args).await,
        Command::Run(args) => run::run(app, args).await,
        Command::Batch(args) => batch::run(app, args).await,
        Command::Tasks(args) => tasks::run(app, args).await,
        Command::Quota(args) => quota::run(app, args).await,
        Command::Costs(args) => costs::run(app, args).await,
        Command::Signals(args) => signals::run(app, args).await,
        Command::Chart(args) => chart::run(app, args).await,
        Command::Mcp(args) => match args.http {
            None => crate::mcp::serve_stdio(app.clone()).await,
            Some(addr) => crate::mcp::http::serve(app.clone(), addr).await,
        },
    }
}
