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

impl CliError {
    /// The one mapping of an error's kind to an exit code: the caller's input is exit 2, a failed
    /// piece of work exit 1, whatever the command.
    pub fn of_kind(kind: talab_db::ErrorKind, message: impl Into<String>) -> Self {
        match kind {
            talab_db::ErrorKind::Input => CliError::Usage(message.into()),
            talab_db::ErrorKind::Failure => CliError::Failure(message.into()),
        }
    }
}

/// Every library error reaches the exit code through its own `kind()`, with the command that
/// fixes it when there is one ([`crate::hints`]).
macro_rules! from_library_error {
    ($($error:ty => $hint:path),+ $(,)?) => {
        $(impl From<$error> for CliError {
            fn from(e: $error) -> Self {
                let hint = $hint(&e).unwrap_or_default();
                CliError::of_kind(e.kind(), format!("{e}{hint}"))
            }
        })+
    };
}

from_library_error!(
    crate::flow::error::FlowError => crate::hints::flow,
    talab_db::DbError => crate::hints::none,
    talab_features::FeatureError => crate::hints::feature,
    talab_memory::MemoryError => crate::hints::memory,
    talab_orchestrator::OrchestratorError => crate::hints::none,
    talab_orchestrator::QuotaError => crate::hints::none,
);

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_library_error_maps_through_its_kind() {
        let code = |e: CliError| e.exit_code();
        let unknown = talab_features::FeatureError::UnknownSymbol {
            symbol: "BTX".into(),
            known: vec!["BTC".into()],
        };
        assert_eq!(code(unknown.into()), 2);
        let no_data = talab_features::FeatureError::NoData { symbol: "BTC".into() };
        assert_eq!(code(no_data.into()), 1);
        assert_eq!(code(talab_memory::MemoryError::EmptyQuery.into()), 2);
        assert_eq!(code(talab_memory::MemoryError::AddRace.into()), 1);
        assert_eq!(code(talab_db::DbError::InvalidUrl("x".into()).into()), 2);
        let line = talab_orchestrator::OrchestratorError::BatchLine {
            file: "b.jsonl".into(),
            line: 3,
            reason: "not JSON".into(),
        };
        assert_eq!(code(line.into()), 2);
        // A library error wrapped in another keeps its kind.
        let wrapped = talab_memory::MemoryError::Db(talab_db::DbError::InvalidUrl("x".into()));
        assert_eq!(code(wrapped.into()), 2);
        // The flow's errors: the library errors inside keep their kind and wording.
        use crate::flow::error::FlowError;
        let memory = FlowError::from(talab_memory::MemoryError::EmptyQuery);
        assert!(memory.to_string().starts_with("memory: "), "{memory}");
        assert_eq!(code(memory.into()), 2);
        let missing = FlowError::from(talab_features::FeatureError::NoData { symbol: "BTC".into() });
        assert_eq!(code(missing.into()), 1);
        assert_eq!(code(FlowError::Runs("unknown run state 'x'".into()).into()), 1);
    }
}
