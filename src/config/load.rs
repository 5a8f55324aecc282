//! Loading: each key of the table from its flag, else the first of its environment variables that
//! is set, else `talab.toml`, else its default; the text is then read as the key's kind says, and a
//! value that does not fit is an error naming the key and where the value came from.

use std::path::PathBuf;

use talab_orchestrator::Secret;

use super::file::{FileValues, literal, scalar_text};
use super::keys::keys;
use super::schema::{
    Fallback, Key, Kind, parse_choice, parse_count, parse_dollars, parse_platform, parse_zone,
};
use super::{Config, ConfigError, Origin, Overrides, Setting};

/// What values come from.
struct Sources<'a> {
    overrides: &'a Overrides,
    env: &'a dyn Fn(&str) -> Option<String>,
    file: &'a FileValues<'a>,
}

/// A key's text before it is read, and where it came from.
struct Raw {
    text: String,
    origin: Origin,
    /// The variable or flag (the file and defaults have none).
    source: Option<String>,
    /// Where in the file, for a value from the file.
    span: Option<std::ops::Range<usize>>,
}

/// The configuration: `home` first (the file is under it), then the file, then every other key.
pub(super) fn load(
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let mut config = Config::unset();
    let no_file = FileValues::none();
    let early = Sources {
        overrides,
        env,
        file: &no_file,
    };
    for key in keys().iter().filter(|k| !k.in_file) {
        apply(key, &mut config, &early)?;
    }
    let home = config.home.value.clone().ok_or(ConfigError::NoHome)?;

    let explicit = overrides
        .config
        .clone()
        .or_else(|| env("TALAB_CONFIG").filter(|v| !v.is_empty()).map(PathBuf::from));
    let path = explicit.or_else(|| Some(home.join("talab.toml")).filter(|p| p.exists()));
    let known: Vec<&str> = keys()
        .iter()
        .filter(|k| k.in_file)
        .map(|k| k.name.as_str())
        .collect();
    let text;
    let file = match &path {
        Some(path) => {
            text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            FileValues::parse(path, &text, &known)?
        }
        None => FileValues::none(),
    };
    config.file = path;
    let sources = Sources {
        overrides,
        env,
        file: &file,
    };
    for key in keys().iter().filter(|k| k.in_file) {
        apply(key, &mut config, &sources)?;
    }
    Ok(config)
}

/// Resolves one key into its place in `config`.
fn apply(key: &Key, config: &mut Config, from: &Sources) -> Result<(), ConfigError> {
    if let Kind::Routing(task_type) = key.kind {
        if let Some(platforms) = routing(key, from.file)? {
            config.routing.insert(task_type, platforms);
        }
        return Ok(());
    }
    let Some(raw) = raw(key, config, from)? else {
        return Ok(());
    };
    let file = from.file;
    match &key.kind {
        Kind::Text(place) | Kind::Url(place) | Kind::DatabaseUrl(place) => {
            *place.get_mut(config) = read(key, raw, file, |s| Some(s.to_string()))?
        }
        Kind::Secret(place) => {
            *place.get_mut(config) = read(key, raw, file, |s| Some(Secret::from(s.to_string())))?
        }
        Kind::Path(place) => *place.get_mut(config) = read(key, raw, file, |s| Some(PathBuf::from(s)))?,
        Kind::Zone(place) => *place.get_mut(config) = read(key, raw, file, parse_zone)?,
        Kind::Count { place, at_least, .. } => {
            *place.get_mut(config) = read(key, raw, file, |s| parse_count(s).filter(|n| n >= at_least))?
        }
        Kind::Dollars(place) => *place.get_mut(config) = read(key, raw, file, parse_dollars)?,
        Kind::Choice { place, choices } => {
            *place.get_mut(config) = read(key, raw, file, |s| parse_choice(s, choices))?
        }
        Kind::Routing(_) => {}
    }
    Ok(())
}

/// The key's text from the first source that sets it: flag, environment, file, default.
fn raw(key: &Key, config: &Config, from: &Sources) -> Result<Option<Raw>, ConfigError> {
    if let Some(flag) = &key.flag
        && let Some(text) = (flag.value)(from.overrides)
    {
        return Ok(Some(Raw {
            text,
            origin: Origin::Flag,
            source: Some(flag.name.to_string()),
            span: None,
        }));
    }
    for name in &key.env {
        if let Some(text) = (from.env)(name).filter(|v| !v.trim().is_empty()) {
            return Ok(Some(Raw {
                text,
                origin: Origin::Env,
                source: Some(name.clone()),
                span: None,
            }));
        }
    }
    if let Some((value, span)) = from.file.get(&key.name) {
        let text = scalar_text(value, key.kind.toml()).ok_or_else(|| {
            from.file
                .error(span.clone(), mismatch(key, &literal(value), &key.kind.expected()))
        })?;
        return Ok(Some(Raw {
            text,
            origin: Origin::File,
            source: None,
            span: Some(span.clone()),
        }));
    }
    let text = match key.fallback {
        Fallback::None => None,
        Fallback::Fixed(text) => Some(text.to_string()),
        Fallback::Derived(derive) => derive(config),
    };
    Ok(text.map(|text| Raw {
        text,
        origin: Origin::Default,
        source: None,
        span: None,
    }))
}

/// Reads `raw` with `parse`; text that does not parse is an error saying where it came from.
fn read<T>(
    key: &Key,
    raw: Raw,
    file: &FileValues,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Setting<T>, ConfigError> {
    let Some(value) = parse(&raw.text) else {
        return Err(match (raw.span, raw.source) {
            (Some(span), _) => file.error(span, mismatch(key, &raw.text, &key.kind.expected())),
            (None, Some(from)) if matches!(key.kind, Kind::Zone(_)) => ConfigError::TimeZone {
                value: raw.text,
                from,
            },
            (None, from) => ConfigError::Invalid {
                key: key.name.clone(),
                value: raw.text,
                from: from.unwrap_or_else(|| "the default".into()),
                expected: key.kind.expected(),
            },
        });
    };
    Ok(Setting {
        value: Some(value),
        origin: raw.origin,
        source: raw.source,
    })
}

/// `key = `value`: expected …`, the message of a value in the file that does not fit.
fn mismatch(key: &Key, value: &str, expected: &str) -> String {
    format!("{} = `{value}`: expected {expected}", key.name)
}

/// `routing.<task_type> = ["gemini", "claude"]`: a non-empty list of platforms, from the file only.
fn routing(key: &Key, file: &FileValues) -> Result<Option<Vec<talab_orchestrator::Platform>>, ConfigError> {
    let Some((value, span)) = file.get(&key.name) else {
        return Ok(None);
    };
    let toml::de::DeValue::Array(items) = value else {
        return Err(file.error(span.clone(), mismatch(key, &literal(value), &key.kind.expected())));
    };
    if items.is_empty() {
        let expected = "at least one platform (leave the key out for the default order)";
        return Err(file.error(span.clone(), mismatch(key, "[]", expected)));
    }
    let mut platforms = Vec::new();
    for item in items.iter() {
        let (platform, shown) = match item.get_ref() {
            toml::de::DeValue::String(name) => (parse_platform(name), name.to_string()),
            other => (None, literal(other)),
        };
        let Some(platform) = platform else {
            return Err(file.error(item.span(), mismatch(key, &shown, &key.kind.expected())));
        };
        platforms.push(platform);
    }
    Ok(Some(platforms))
}
