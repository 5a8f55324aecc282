//! The integration tests of talab as one test binary: one link against the dependency tree instead
//! of one per file (linking was most of a cold test build). `util` runs the binary as a user would;
//! the other modules are one area each.

mod cli;
mod cli_ema;
mod cli_fetch;
mod cli_ingest;
mod cli_memory;
mod cli_orchestrator;
mod cli_signals;
mod flow;
mod mcp;
mod mcp_rust;
mod read_only;
mod red_team;
mod stubbed_end_to_end;
mod trust_cli;
mod util;
