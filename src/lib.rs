//! talab, the program: the command line over the three crates, and the joined flow that makes
//! them one product ([`flow`]). The binary (`src/main.rs`) only parses arguments and reports the
//! outcome; everything else is here so that integration tests can drive the flow directly.

pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod exit;
pub mod flow;
pub mod hints;
pub mod local_tools;
pub mod logging;
pub mod mcp;
pub mod output;
pub mod wiring;
