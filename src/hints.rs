//! What to run next. The libraries say what is wrong in their own terms; for the errors a talab
//! command can fix, the binary adds which one (the libraries know nothing of the CLI).

use talab_features::FeatureError;
use talab_memory::MemoryError;

use crate::flow::error::FlowError;

/// The command that fixes a feature error, as a clause to append.
pub fn feature(e: &FeatureError) -> Option<String> {
    Some(match e {
        FeatureError::UnknownSymbol { .. } => {
            " (load prices with `talab ingest csv FILE` or `talab ingest fetch`)".into()
        }
        FeatureError::NoData { symbol } => {
            format!("; load them with `talab ingest csv FILE` or `talab ingest fetch --symbols {symbol}`")
        }
        FeatureError::NoHourlyBars { symbol } => {
            format!(": load them with `talab ingest fetch --symbols {symbol} --interval 1h`")
        }
        FeatureError::ChangesAnotherFile { .. } => " (pass --replace to let this file's values win)".into(),
        _ => return None,
    })
}

/// The command that fixes a memory error, as a clause to append.
pub fn memory(e: &MemoryError) -> Option<String> {
    Some(match e {
        MemoryError::CorruptEmbedding { .. }
        | MemoryError::EmbedderMismatch { .. }
        | MemoryError::ReindexUnfinished { .. } => " — run `talab memory reindex`".into(),
        MemoryError::NotFound(_) => "; `talab memory list` shows the stored ids".into(),
        _ => return None,
    })
}

/// The command that fixes a flow error (the hints of the library errors inside it).
pub fn flow(e: &FlowError) -> Option<String> {
    match e {
        FlowError::Features(e) => feature(e),
        FlowError::Memory(e) => memory(e),
        _ => None,
    }
}

/// No command fixes these better than their own message says.
pub fn none<E>(_: &E) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hints_name_commands_that_exist() {
        let cli = <crate::cli::Cli as clap::CommandFactory>::command();
        let hints = [
            feature(&FeatureError::UnknownSymbol {
                symbol: "X".into(),
                known: vec![],
            }),
            feature(&FeatureError::NoData { symbol: "X".into() }),
            feature(&FeatureError::NoHourlyBars { symbol: "X".into() }),
            memory(&MemoryError::NotFound("x".into())),
            memory(&MemoryError::EmbedderMismatch {
                stored: "a".into(),
                current: "b".into(),
            }),
        ];
        for hint in hints {
            let hint = hint.expect("a hint");
            for quoted in hint.split('`').skip(1).step_by(2) {
                let words: Vec<&str> = quoted.split_whitespace().collect();
                assert_eq!(words[0], "talab", "{hint}");
                let mut command = &cli;
                for word in words[1..]
                    .iter()
                    .take_while(|w| !w.starts_with('-') && !w.chars().all(char::is_uppercase))
                {
                    command = command
                        .find_subcommand(word)
                        .unwrap_or_else(|| panic!("no `{word}` command, named in: {hint}"));
                }
                for flag in words.iter().filter_map(|w| w.strip_prefix("--")) {
                    assert!(
                        command.get_arguments().any(|a| a.get_long() == Some(flag)),
                        "no --{flag} on `{quoted}`"
                    );
                }
            }
        }
    }
}
