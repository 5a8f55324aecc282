//! Logs go to stderr through `tracing`, so stdout carries only results. `RUST_LOG` wins over the
//! `-v`/`-q` flags when set.

use tracing_subscriber::EnvFilter;

/// Installs the stderr subscriber: warnings by default, `-v` info, `-vv` debug, `-vvv` trace.
pub fn init(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
