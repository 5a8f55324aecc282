//! The `talab` binary: parses the command line, loads configuration, wires the three crates'
//! real implementations together, and turns every outcome into a message and an exit code
//! (0 success, 1 the work failed, 2 bad usage or bad input).

use std::process::ExitCode;

use clap::Parser;
use talab::{cli, commands, exit, logging};

fn main() -> ExitCode {
    quiet_closed_pipe();
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

/// A closed stdout (`talab ema … | head -1`) ends the process quietly, as it does every Unix tool:
/// Rust ignores SIGPIPE, so a write to a closed pipe would panic in `println!` instead.
fn quiet_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal, before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
