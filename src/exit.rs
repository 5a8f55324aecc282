//! Errors as the user sees them: one line on stderr and an exit code. Expected failures never
//! show a Rust backtrace or a Debug dump.

use std::process::ExitCode;

use crate::config::ConfigError;

/// A failure of a command, already worded for the user.
#[derive(Debug)]
pub enum CliError {
    /// Bad usage or bad input: exit 2.
    Usage(String),
    /// The work itself failed: exit 1.
    Failure(String),
}

impl CliError {
    pub fn usage(msg: impl Into<String>) -> Self {
        CliError::Usage(msg.into())
    }

    pub fn failure(msg: impl Into<String>) -> Self {
        CliError::Failure(msg.into())
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failure(_) => 1,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            CliError::Usage(m) | CliError::Failure(m) => m,
        }
    }
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> Self {
        CliError::Usage(e.to_string())
    }
}

impl From<talab_db::DbError> for CliError {
    fn from(e: talab_db::DbError) -> Self {
        match e {
            talab_db::DbError::InvalidUrl(_) => CliError::Usage(e.to_string()),
            other => CliError::Failure(other.to_string()),
        }
    }
}

/// Prints the error and returns its exit code.
/// `--from` after `--to` is bad input, the same for every command that takes a range.
pub fn check_range(from: Option<chrono::NaiveDate>, to: Option<chrono::NaiveDate>) -> Result<(), CliError> {
    match (from, to) {
        (Some(from), Some(to)) if from > to => {
            Err(CliError::usage(format!("--from {from} is after --to {to}")))
        }
        _ => Ok(()),
    }
}

pub fn report(e: &CliError) -> ExitCode {
    eprintln!("error: {}", e.message());
    ExitCode::from(e.exit_code())
}
