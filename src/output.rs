//! Output for people (tables) and for programs (JSON), both on stdout.

use comfy_table::{ContentArrangement, Table, presets};

use crate::exit::CliError;

/// A table with talab's look; plain ASCII when stdout is not a terminal, so pipes stay greppable.
pub fn table<I: IntoIterator<Item = &'static str>>(headers: I) -> Table {
    let mut t = Table::new();
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        t.load_preset(presets::UTF8_FULL_CONDENSED);
    } else {
        t.load_preset(presets::ASCII_MARKDOWN);
    }
    t.set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(headers);
    t
}

/// Prints a value as pretty JSON.
pub fn json<T: serde::Serialize>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::failure(format!("cannot write JSON: {e}")))?;
    println!("{text}");
    Ok(())
}
