//! The `talab` binary: parses the command line, loads configuration, wires the three crates'
//! real implementations together, and turns every outcome into a message and an exit code
//! (0 success, 1 the work failed, 2 bad usage or bad input).

mod cli;
mod commands;
mod config;
mod exit;
mod local_tools;
mod logging;
mod output;
mod wiring;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    logging::init(cli.global.verbose, cli.global.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            return exit::report(&exit::CliError::failure(format!(
                "cannot start the async runtime: {e}"
            )));
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report(&e),
    }
}
