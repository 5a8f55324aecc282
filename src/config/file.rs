//! Reading `talab.toml`: TOML syntax, and every key checked against the table's names, so a typo is
//! an error at its line and column instead of a setting silently ignored. Values come out by their
//! dotted name, each with its place in the file; what they must be is the key's kind (`load.rs`).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::ConfigError;
use super::schema::Toml;

/// The values of one file, by dotted name, with what is needed to say where each one is.
#[derive(Debug)]
pub struct FileValues<'t> {
    path: String,
    text: &'t str,
    values: BTreeMap<String, (DeValue<'t>, Range<usize>)>,
}

impl<'t> FileValues<'t> {
    /// No file: every key unset.
    pub fn none() -> FileValues<'static> {
        FileValues {
            path: String::new(),
            text: "",
            values: BTreeMap::new(),
        }
    }

    /// Parses `text` (read from `path`); every key must be one of `known` (dotted names) or a table
    /// on the way to one.
    pub fn parse(path: &Path, text: &'t str, known: &[&str]) -> Result<FileValues<'t>, ConfigError> {
        let mut values = FileValues {
            path: path.display().to_string(),
            text,
            values: BTreeMap::new(),
        };
        let document = DeTable::parse(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            values.error(span, e.message().trim().replace('\n', " "))
        })?;
        values.flatten("", document.into_inner(), known)?;
        Ok(values)
    }

    fn flatten(&mut self, prefix: &str, table: DeTable<'t>, known: &[&str]) -> Result<(), ConfigError> {
        for (name, value) in table {
            let dotted = match prefix {
                "" => name.get_ref().to_string(),
                _ => format!("{prefix}.{}", name.get_ref()),
            };
            let span = value.span();
            let below = format!("{dotted}.");
            if known.contains(&dotted.as_str()) {
                self.values.insert(dotted, (value.into_inner(), span));
            } else if known.iter().any(|k| k.starts_with(&below)) {
                match value.into_inner() {
                    DeValue::Table(inner) => self.flatten(&dotted, inner, known)?,
                    other => {
                        let message = format!("{dotted} = `{}`: expected a table", literal(&other));
                        return Err(self.error(span, message));
                    }
                }
            } else {
                let message = unknown_field(name.get_ref(), prefix, known);
                return Err(self.error(name.span(), message));
            }
        }
        Ok(())
    }

    /// The value of a key and where it is, if the file sets it.
    pub fn get(&self, name: &str) -> Option<(&DeValue<'t>, &Range<usize>)> {
        self.values.get(name).map(|(value, span)| (value, span))
    }

    /// `path:line:column: message` for a place in the file.
    pub fn error(&self, span: Range<usize>, message: String) -> ConfigError {
        let (line, column) = line_col(self.text, span.start);
        ConfigError::Syntax {
            path: self.path.clone(),
            line,
            column,
            message,
        }
    }
}

/// serde's wording, with the names valid at that level: "unknown field `x`, expected one of …".
fn unknown_field(name: &str, prefix: &str, known: &[&str]) -> String {
    let mut valid: Vec<&str> = Vec::new();
    for k in known {
        let rest = match prefix {
            "" => Some(*k),
            _ => k.strip_prefix(prefix).and_then(|r| r.strip_prefix('.')),
        };
        if let Some(next) = rest.and_then(|r| r.split('.').next())
            && !valid.contains(&next)
        {
            valid.push(next);
        }
    }
    let listed: Vec<String> = valid.iter().map(|v| format!("`{v}`")).collect();
    match listed.as_slice() {
        [one] => format!("unknown field `{name}`, expected {one}"),
        _ => format!("unknown field `{name}`, expected one of {}", listed.join(", ")),
    }
}

/// The value as text when it is of the TOML type the key takes (integers in decimal): `None`
/// when it is not.
pub fn scalar_text(value: &DeValue<'_>, wanted: Toml) -> Option<String> {
    match (value, wanted) {
        (DeValue::String(s), Toml::String) => Some(s.to_string()),
        (DeValue::Integer(i), Toml::Integer | Toml::Number) => i128::from_str_radix(i.as_str(), i.radix())
            .ok()
            .map(|n| n.to_string()),
        (DeValue::Float(f), Toml::Number) => Some(f.as_str().to_string()),
        _ => None,
    }
}

/// The value as TOML writes it, for error messages.
pub fn literal(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(s) => format!("{s:?}"),
        DeValue::Integer(i) => i.to_string(),
        DeValue::Float(f) => f.to_string(),
        DeValue::Boolean(b) => b.to_string(),
        DeValue::Datetime(d) => d.to_string(),
        DeValue::Array(items) => {
            let items: Vec<String> = items.iter().map(|item| literal(item.get_ref())).collect();
            format!("[{}]", items.join(", "))
        }
        DeValue::Table(_) => "{…}".to_string(),
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }

    #[test]
    fn tables_on_the_way_to_a_key_are_walked_and_others_refused() {
        let known = ["a", "t.x", "t.u.y"];
        let path = Path::new("f.toml");
        let text = "a = \"1\"\n[t]\nx = 2\n[t.u]\ny = [\"p\"]\n";
        let values = FileValues::parse(path, text, &known).unwrap();
        assert_eq!(values.get("a").map(|(v, _)| literal(v)).as_deref(), Some("\"1\""));
        assert_eq!(
            values.get("t.u.y").map(|(v, _)| literal(v)).as_deref(),
            Some("[\"p\"]")
        );
        let err = FileValues::parse(path, "[t]\nz = 1\n", &known)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "f.toml:2:1: unknown field `z`, expected one of `x`, `u`");
        let err = FileValues::parse(path, "t = 1\n", &known)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "f.toml:1:5: t = `1`: expected a table");
        let err = FileValues::parse(path, "a = 1\na = 2\n", &known)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("f.toml:2:"), "duplicate keys are refused: {err}");
    }

    #[test]
    fn numbers_are_read_only_where_numbers_go() {
        let text = "i = 0x10\nf = 2.5\ns = \"7\"\n";
        let values = FileValues::parse(Path::new("f"), text, &["i", "f", "s"]).unwrap();
        let of = |name, wanted| scalar_text(values.get(name).unwrap().0, wanted);
        assert_eq!(of("i", Toml::Integer).as_deref(), Some("16"));
        assert_eq!(of("i", Toml::Number).as_deref(), Some("16"));
        assert_eq!(of("f", Toml::Number).as_deref(), Some("2.5"));
        assert_eq!(of("f", Toml::Integer), None);
        assert_eq!(of("s", Toml::Integer), None);
        assert_eq!(of("i", Toml::String), None);
    }
}
