//! The one table of configuration keys. Loading, the file's checks and `config show` walk it, so
//! a new setting is one entry here (and its field in [`Config`]). Provider variable names come
//! from `talab_orchestrator`, which reads the same variables.

use std::sync::LazyLock;

use talab_orchestrator::{Platform, TaskType, api_key_var, base_url_vars, model_var};

use super::schema::{Fallback, Key, Kind, Place};
use super::{Config, HttpPlatform};

/// What `memory.backend` may be (the first is the default).
pub const MEMORY_BACKENDS: [&str; 3] = [
    "embedded",
    talab_memory::backends::pgvector::PGVECTOR,
    talab_memory::backends::chroma::CHROMA,
];

/// What `platforms.claude_code.talab_tools` may be.
pub const TALAB_TOOLS_CHOICES: [&str; 3] = ["read", "all", "none"];

/// `mcp.max_answer_chars` when nothing sets it: [`crate::mcp::bounds::DEFAULT_MAX_ANSWER_CHARS`].
const DEFAULT_MAX_ANSWER_TEXT: &str = "24000";

/// Every key, in the order they are resolved (`home` first: the file and the database are under it).
pub fn keys() -> &'static [Key] {
    static KEYS: LazyLock<Vec<Key>> = LazyLock::new(table);
    &KEYS
}

/// The key of this dotted name.
pub fn key(name: &str) -> Option<&'static Key> {
    keys().iter().find(|k| k.name == name)
}

/// A field of [`Config`] as a [`Place`]: `place!(cmc_api_key)`.
macro_rules! place {
    ($($field:ident).+) => {
        Place::new(|c| &c.$($field).+, |c| &mut c.$($field).+)
    };
}

/// The keys, in the order the file's sections were always listed (and error messages list them).
fn table() -> Vec<Key> {
    let mut keys = vec![
        Key::new(
            "home",
            Kind::Path(place!(home)),
            "where talab keeps its data (and talab.toml)",
        )
        .env("TALAB_HOME")
        .fallback(Fallback::Derived(|_| {
            let dirs = directories::ProjectDirs::from("", "", "talab")?;
            dirs.data_dir().to_str().map(str::to_string)
        }))
        .not_in_file(),
        Key::new(
            "database_url",
            Kind::DatabaseUrl(place!(database_url)),
            "the database: sqlite://… or postgres://…",
        )
        .env("TALAB_DATABASE_URL")
        .flag("--database-url", |o| o.database_url.clone())
        .fallback(Fallback::Derived(|c| {
            let home = c.home.value.as_deref()?;
            Some(talab_db::DatabaseLocation::default_in(home).to_string())
        })),
        Key::new(
            "timezone",
            Kind::Zone(place!(timezone)),
            "where people read times: an IANA zone",
        )
        .env("TALAB_TIMEZONE")
        .fallback(Fallback::Derived(|_| {
            let system = iana_time_zone::get_timezone().ok();
            Some(
                system
                    .filter(|name| name.parse::<chrono_tz::Tz>().is_ok())
                    .unwrap_or("UTC".into()),
            )
        })),
    ];
    keys.extend(http_platform(Platform::Claude, |c| &c.claude, |c| &mut c.claude));
    keys.extend(http_platform(
        Platform::Chatgpt,
        |c| &c.chatgpt,
        |c| &mut c.chatgpt,
    ));
    keys.extend(http_platform(Platform::Gemini, |c| &c.gemini, |c| &mut c.gemini));
    keys.extend([
        Key::new(
            "platforms.claude_code.binary",
            Kind::Path(place!(claude_code_binary)),
            "the `claude` program (default: `claude` on PATH)",
        )
        .env(talab_orchestrator::CLAUDE_CODE_BINARY_VARS[0])
        .env(talab_orchestrator::CLAUDE_CODE_BINARY_VARS[1]),
        Key::new(
            "platforms.claude_code.talab_tools",
            Kind::Choice {
                place: place!(claude_code_talab_tools),
                choices: &TALAB_TOOLS_CHOICES,
            },
            "which `talab mcp` tools a task routed to Claude Code may call: read (the read-only \
             ones), all, or none",
        )
        .env("TALAB_CLAUDE_CODE_TOOLS")
        .fallback(Fallback::Fixed("read")),
        Key::new(
            "mcp.token",
            Kind::Secret(place!(mcp_token)),
            "the bearer token `talab mcp --http` asks of clients (required beyond loopback)",
        )
        .env("TALAB_MCP_TOKEN"),
        Key::new(
            "mcp.max_answer_chars",
            Kind::Count {
                place: place!(mcp_max_answer_chars),
                at_least: crate::mcp::bounds::MIN_ANSWER_CHARS as u64,
                expected: "a whole number of characters, at least 4000",
            },
            "the most characters of JSON one `talab mcp` tool answer holds (lists are shortened to fit)",
        )
        .env("TALAB_MCP_MAX_ANSWER_CHARS")
        .fallback(Fallback::Fixed(DEFAULT_MAX_ANSWER_TEXT)),
        Key::new(
            "market_data.cmc_api_key",
            Kind::Secret(place!(cmc_api_key)),
            "CoinMarketCap's API key",
        )
        .env("CMC_API_KEY"),
        Key::new(
            "market_data.cmc_base_url",
            Kind::Url(place!(cmc_base_url)),
            "where CoinMarketCap is reached",
        )
        .env("TALAB_CMC_BASE_URL")
        .fallback(Fallback::Fixed(talab_features::sources::CMC_BASE_URL)),
        Key::new(
            "market_data.binance_base_url",
            Kind::Url(place!(binance_base_url)),
            "where Binance is reached",
        )
        .env("TALAB_BINANCE_BASE_URL")
        .fallback(Fallback::Fixed(talab_features::sources::BINANCE_BASE_URL)),
        Key::new(
            "market_data.coinbase_base_url",
            Kind::Url(place!(coinbase_base_url)),
            "where Coinbase is reached",
        )
        .env("TALAB_COINBASE_BASE_URL")
        .fallback(Fallback::Fixed(talab_features::sources::COINBASE_BASE_URL)),
        Key::new(
            "memory.backend",
            Kind::Choice {
                place: place!(memory_backend),
                choices: &MEMORY_BACKENDS,
            },
            "where memories live: embedded (the database, searched in this process), pgvector \
             (PostgreSQL with the vector extension, searched in the server) or chroma (a ChromaDB \
             server)",
        )
        .env("TALAB_MEMORY_BACKEND")
        .fallback(Fallback::Fixed(MEMORY_BACKENDS[0])),
        Key::new(
            "memory.url",
            Kind::Url(place!(memory_url)),
            "the pgvector backend's PostgreSQL (default: database_url when that is PostgreSQL) or the \
             chroma backend's server (http://HOST:PORT)",
        )
        .env("TALAB_MEMORY_URL")
        .fallback(Fallback::Derived(|c| {
            if c.memory_backend.value.as_deref() != Some(MEMORY_BACKENDS[1]) {
                return None;
            }
            let url = c.database_url.value.as_deref()?;
            let location = talab_db::DatabaseLocation::parse(url).ok()?;
            matches!(location, talab_db::DatabaseLocation::Postgres(_)).then(|| url.to_string())
        })),
        Key::new(
            "memory.table",
            Kind::Text(place!(memory_table)),
            "the pgvector backend's table (with its _events and _info tables beside it), or the \
             chroma backend's collection",
        )
        .env("TALAB_MEMORY_TABLE")
        .fallback(Fallback::Fixed(talab_memory::backends::pgvector::DEFAULT_TABLE)),
        Key::new(
            "memory.embed_model_dir",
            Kind::Path(place!(embed_model_dir)),
            "a folder holding the embedding model",
        )
        .env("TALAB_EMBED_MODEL_DIR"),
    ]);
    for &platform in Platform::ALL {
        keys.extend(quota(platform));
    }
    keys.push(
        Key::new(
            "pricing.price_file",
            Kind::Path(place!(price_file)),
            "a LiteLLM-format price file over the built-in prices",
        )
        .env("TALAB_PRICE_FILE"),
    );
    for &task_type in TaskType::ALL {
        keys.push(
            Key::new(
                format!("routing.{task_type}"),
                Kind::Routing(task_type),
                "platforms tried for this task type, in order",
            )
            .shown_when_set(),
        );
    }
    keys
}

/// `platforms.<platform>.*` of an HTTP platform (kept in `get` / `get_mut`), read from the
/// variables its client reads.
fn http_platform(
    platform: Platform,
    get: fn(&Config) -> &HttpPlatform,
    get_mut: fn(&mut Config) -> &mut HttpPlatform,
) -> Vec<Key> {
    let mut api_key = Key::new(
        format!("platforms.{platform}.api_key"),
        Kind::Secret(Place::new(
            move |c| &get(c).api_key,
            move |c| &mut get_mut(c).api_key,
        )),
        "the platform's API key",
    );
    api_key.env.extend(api_key_var(platform).map(str::to_string));
    let mut base_url = Key::new(
        format!("platforms.{platform}.base_url"),
        Kind::Url(Place::new(
            move |c| &get(c).base_url,
            move |c| &mut get_mut(c).base_url,
        )),
        "another server: a proxy, an OpenAI-compatible server, a mock",
    );
    base_url.env = base_url_vars(platform);
    let mut model = Key::new(
        format!("platforms.{platform}.model"),
        Kind::Text(Place::new(move |c| &get(c).model, move |c| &mut get_mut(c).model)),
        "the model to ask for",
    );
    model.env.extend(model_var(platform));
    vec![api_key, base_url, model]
}

/// `quota.<platform>.<field>`, also set by `TALAB_QUOTA_<PLATFORM>_<FIELD>`; `kind` makes the
/// key's [`Kind`] from its place: `quota_key!(platform, reset_tz, Kind::Zone, "…")`.
macro_rules! quota_key {
    ($platform:expr, $field:ident, $kind:expr, $about:literal) => {{
        let platform: Platform = $platform;
        let place = Place::new(
            move |c| &c.quota[&platform].$field,
            move |c| &mut c.quota.entry(platform).or_default().$field,
        );
        let (field, upper) = (stringify!($field), platform.as_str().to_ascii_uppercase());
        Key::new(format!("quota.{platform}.{field}"), $kind(place), $about)
            .env(format!("TALAB_QUOTA_{upper}_{}", field.to_ascii_uppercase()))
            .shown_when_set()
    }};
}

/// `[quota.<platform>]`: the platform's daily limits.
fn quota(platform: Platform) -> Vec<Key> {
    let requests = |place| Kind::Count {
        place,
        at_least: 0,
        expected: "a whole number of requests",
    };
    let tokens = |place| Kind::Count {
        place,
        at_least: 0,
        expected: "a whole number of tokens",
    };
    vec![
        quota_key!(platform, requests_per_day, requests, "requests a day"),
        quota_key!(platform, tokens_per_day, tokens, "tokens a day"),
        quota_key!(
            platform,
            reset_tz,
            Kind::Zone,
            "where the quota's day starts (default UTC; Gemini: America/Los_Angeles)"
        ),
        quota_key!(platform, daily_budget_usd, Kind::Dollars, "US dollars a day"),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use talab_orchestrator::HTTP_PLATFORMS;

    use super::*;
    use crate::config::{ConfigError, Origin, Overrides};

    const SECRET: &str = "sk-sample-SECRET-value";

    /// A valid value of the key's kind: as written in the file, as an environment variable, and
    /// as `config show` prints it.
    fn sample(kind: &Kind) -> (String, String, String) {
        if let Kind::Choice { choices, .. } = kind {
            // Any case is read; the table's word is kept.
            let word = choices[choices.len() - 1];
            return (
                format!("\"{}\"", word.to_uppercase()),
                word.to_uppercase(),
                word.to_string(),
            );
        }
        let (file, env, shown) = fixed_sample(kind);
        (file.to_string(), env.to_string(), shown.to_string())
    }

    fn fixed_sample(kind: &Kind) -> (&'static str, &'static str, &'static str) {
        match kind {
            Kind::Text(_) => ("\"sample-model\"", "sample-model", "sample-model"),
            Kind::Url(_) => (
                "\"http://u:pw@sample.example/v1?token=t\"",
                "http://u:pw@sample.example/v1?token=t",
                "http://sample.example/v1",
            ),
            Kind::DatabaseUrl(_) => (
                "\"sqlite:///sample.db\"",
                "sqlite:///sample.db",
                "sqlite:///sample.db",
            ),
            Kind::Secret(_) => ("\"sk-sample-SECRET-value\"", SECRET, "***"),
            Kind::Path(_) => ("\"/sample/path\"", "/sample/path", "/sample/path"),
            Kind::Zone(_) => ("\"Asia/Tokyo\"", "Asia/Tokyo", "Asia/Tokyo"),
            Kind::Count { .. } => ("7000", "7000", "7000"),
            Kind::Dollars(_) => ("2.5", "2.5", "2.5"),
            Kind::Choice { .. } => unreachable!("sample() words choices"),
            Kind::Routing(_) => ("[\"gemini\", \"claude\"]", "", "gemini, claude"),
        }
    }

    #[test]
    fn the_answer_cap_defaults_to_the_servers_constant() {
        assert_eq!(
            DEFAULT_MAX_ANSWER_TEXT.parse::<usize>().unwrap(),
            crate::mcp::bounds::DEFAULT_MAX_ANSWER_CHARS
        );
    }

    fn env_of(pairs: Vec<(String, String)>) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn home_env(home: &tempfile::TempDir) -> Vec<(String, String)> {
        vec![("TALAB_HOME".into(), home.path().display().to_string())]
    }

    /// Every key the file may hold, each with a sample value, as dotted keys.
    fn file_with_every_key() -> String {
        let mut text = String::new();
        for key in keys().iter().filter(|k| k.in_file) {
            text.push_str(&format!("{} = {}\n", key.name, sample(&key.kind).0));
        }
        text
    }

    #[test]
    fn names_and_variables_are_each_used_once() {
        let mut names = BTreeSet::new();
        let mut vars = BTreeSet::new();
        for key in keys() {
            assert!(names.insert(&key.name), "{} twice", key.name);
            assert!(!key.about.is_empty(), "{} says what it is for", key.name);
            for var in &key.env {
                assert!(vars.insert(var), "{var} sets two keys");
            }
        }
        assert_eq!(
            key("timezone").map(|k| k.env.clone()),
            Some(vec!["TALAB_TIMEZONE".into()])
        );
    }

    #[test]
    fn http_platforms_read_the_variables_the_orchestrator_names() {
        for platform in HTTP_PLATFORMS {
            let env = |field: &str| key(&format!("platforms.{platform}.{field}")).map(|k| k.env.clone());
            let api_key = api_key_var(platform).map(|v| vec![v.to_string()]);
            assert_eq!(env("api_key"), api_key, "{platform}");
            assert_eq!(env("base_url"), Some(base_url_vars(platform)), "{platform}");
            assert_eq!(
                env("model"),
                Some(model_var(platform).into_iter().collect()),
                "{platform}"
            );
            assert!(key(&format!("platforms.{platform}.api_key")).unwrap().secret());
        }
    }

    #[test]
    fn every_key_is_read_from_the_file_and_shown() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("talab.toml"), file_with_every_key()).unwrap();
        let config = Config::load_with(&Overrides::default(), &env_of(home_env(&home))).unwrap();
        let shown = config.entries();
        let names: BTreeSet<&str> = keys().iter().map(|k| k.name.as_str()).collect();
        assert_eq!(shown.keys().map(String::as_str).collect::<BTreeSet<_>>(), names);
        for key in keys().iter().filter(|k| k.in_file) {
            let entry = &shown[&key.name];
            assert_eq!(entry.origin, Origin::File, "{}", key.name);
            assert_eq!(
                entry.value.as_deref(),
                Some(sample(&key.kind).2.as_str()),
                "{}",
                key.name
            );
        }
    }

    #[test]
    fn every_key_is_read_from_each_of_its_variables() {
        let mut checked = 0;
        for key in keys() {
            for var in &key.env {
                let home = tempfile::tempdir().unwrap();
                let mut env = home_env(&home);
                let value = match key.name.as_str() {
                    "home" => home.path().display().to_string(),
                    _ => sample(&key.kind).1,
                };
                env.push((var.clone(), value));
                let config = Config::load_with(&Overrides::default(), &env_of(env)).unwrap();
                let entry = &config.entries()[&key.name];
                assert_eq!(entry.origin, Origin::Env, "{var}");
                assert_eq!(entry.source.as_deref(), Some(var.as_str()), "{var}");
                checked += 1;
            }
        }
        assert!(checked >= 35, "{checked} variables");
    }

    #[test]
    fn secret_keys_are_masked_and_others_are_not() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("talab.toml"), file_with_every_key()).unwrap();
        let config = Config::load_with(&Overrides::default(), &env_of(home_env(&home))).unwrap();
        let shown = config.entries();
        let printed = format!("{shown:?} {config:?} {}", serde_json::to_string(&shown).unwrap());
        assert!(!printed.contains(SECRET), "{printed}");
        let secrets: Vec<&str> = keys()
            .iter()
            .filter(|k| k.secret())
            .map(|k| k.name.as_str())
            .collect();
        assert_eq!(secrets.len(), 5, "{secrets:?}");
        for name in secrets {
            assert_eq!(shown[name].value.as_deref(), Some("***"), "{name}");
        }
        assert_eq!(
            shown["platforms.claude.model"].value.as_deref(),
            Some("sample-model")
        );
    }

    #[test]
    fn an_unknown_key_is_refused_where_it_is_at_every_level() {
        for key in keys().iter().filter(|k| k.in_file) {
            let home = tempfile::tempdir().unwrap();
            let file = home.path().join("talab.toml");
            let typo = format!("{}x", key.name);
            std::fs::write(&file, format!("{typo} = {}\n", sample(&key.kind).0)).unwrap();
            let err = Config::load_with(&Overrides::default(), &env_of(home_env(&home)))
                .unwrap_err()
                .to_string();
            let last = typo.rsplit('.').next().unwrap();
            let column = typo.len() - last.len() + 1;
            let expected = format!("{}:1:{column}: unknown field `{last}`, expected ", file.display());
            assert!(err.starts_with(&expected), "{err}");
        }
    }

    #[test]
    fn a_bad_value_names_the_key_and_where_it_came_from() {
        for key in keys() {
            let bad = match key.kind {
                Kind::Zone(_) => "Mars/Olympus",
                Kind::Count { .. } | Kind::Dollars(_) | Kind::Choice { .. } => "-lots",
                _ => continue,
            };
            for var in &key.env {
                let home = tempfile::tempdir().unwrap();
                let mut env = home_env(&home);
                env.push((var.clone(), bad.into()));
                let err = Config::load_with(&Overrides::default(), &env_of(env)).unwrap_err();
                let text = err.to_string();
                assert!(text.contains(&format!("`{bad}` (from {var})")), "{text}");
                match err {
                    ConfigError::TimeZone { .. } => assert!(matches!(key.kind, Kind::Zone(_))),
                    _ => assert!(text.starts_with(&format!("{} = ", key.name)), "{text}"),
                }
            }
        }
        for key in keys().iter().filter(|k| k.in_file) {
            let home = tempfile::tempdir().unwrap();
            let file = home.path().join("talab.toml");
            let bad = match key.kind {
                Kind::Count { .. } | Kind::Dollars(_) | Kind::Routing(_) => "\"-lots\"",
                _ => "-1",
            };
            std::fs::write(&file, format!("\n{} = {bad}\n", key.name)).unwrap();
            let err = Config::load_with(&Overrides::default(), &env_of(home_env(&home)))
                .unwrap_err()
                .to_string();
            let at = format!("{}:2:{}: {} = ", file.display(), key.name.len() + 4, key.name);
            assert!(err.starts_with(&at), "{err}");
            assert!(
                err.ends_with(&format!(": expected {}", key.kind.expected())),
                "{err}"
            );
        }
    }
}
