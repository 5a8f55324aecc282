//! Effective configuration: `talab.toml`, overridden by environment variables, overridden by flags.
//!
//! Every value remembers where it came from, so `talab config show` can say why it is what it is,
//! and every secret is held as a [`Secret`], so it prints as `********` wherever it goes.
//!
//! The settings are data: [`keys`] is the one table of keys (name, variables, default, kind), and
//! loading ([`load`]), the file's checks ([`file`]) and `config show` ([`show`]) all walk it. This
//! file holds the types the rest of talab reads.

mod file;
pub mod keys;
mod load;
pub mod schema;
mod show;

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono_tz::Tz;
use talab_orchestrator::{Platform, PlatformQuota, PreferenceTable, QuotaConfig, Secret, TaskType};

/// Where an effective value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Default,
    File,
    Env,
    Flag,
}

/// One effective value and its origin.
#[derive(Debug, Clone)]
pub struct Setting<T> {
    pub value: Option<T>,
    pub origin: Origin,
    /// The environment variable or flag that set it, for `config show`.
    pub source: Option<String>,
}

/// Unset: no value, nothing set it.
impl<T> Default for Setting<T> {
    fn default() -> Self {
        Setting {
            value: None,
            origin: Origin::Default,
            source: None,
        }
    }
}

impl<T> Setting<T> {
    /// The value a command's own flag gives, when given: flags beat env and file.
    pub fn with_flag(self, flag: Option<T>, name: &str) -> Self {
        match flag {
            Some(value) => Setting {
                value: Some(value),
                origin: Origin::Flag,
                source: Some(name.to_string()),
            },
            None => self,
        }
    }
}

/// Connection settings of one HTTP AI platform.
#[derive(Debug, Clone, Default)]
pub struct HttpPlatform {
    pub api_key: Setting<Secret>,
    pub base_url: Setting<String>,
    pub model: Setting<String>,
}

/// Daily limits of one platform (`[quota.<platform>]`): a window is one day in `reset_tz`.
#[derive(Debug, Clone, Default)]
pub struct QuotaSettings {
    pub requests_per_day: Setting<u64>,
    pub tokens_per_day: Setting<u64>,
    /// Where the day starts (default: UTC; Gemini: America/Los_Angeles, its free tier's reset).
    pub reset_tz: Setting<Tz>,
    pub daily_budget_usd: Setting<f64>,
}

/// The whole effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub home: Setting<PathBuf>,
    /// The config file that was read, if any.
    pub file: Option<PathBuf>,
    pub database_url: Setting<String>,
    pub claude: HttpPlatform,
    pub chatgpt: HttpPlatform,
    pub gemini: HttpPlatform,
    pub claude_code_binary: Setting<PathBuf>,
    /// `platforms.claude_code.talab_tools`: read, all or none.
    pub claude_code_talab_tools: Setting<String>,
    pub cmc_api_key: Setting<Secret>,
    /// Where the price sources are reached (proxies, tests); default: the providers' own APIs.
    pub cmc_base_url: Setting<String>,
    pub binance_base_url: Setting<String>,
    pub coinbase_base_url: Setting<String>,
    pub embed_model_dir: Setting<PathBuf>,
    /// `memory.backend`: embedded or pgvector.
    pub memory_backend: Setting<String>,
    /// `memory.url`: the pgvector backend's database.
    pub memory_url: Setting<String>,
    /// `memory.table`: the pgvector backend's table.
    pub memory_table: Setting<String>,
    /// The bearer token `talab mcp --http` requires of clients.
    pub mcp_token: Setting<Secret>,
    /// `mcp.max_answer_chars`: the cap on one MCP tool answer.
    pub mcp_max_answer_chars: Setting<u64>,
    /// Where people read times (`ask`'s "today", tables): an IANA zone.
    pub timezone: Setting<Tz>,
    /// Quota limits of each platform (every platform has an entry, mostly unset).
    pub quota: BTreeMap<Platform, QuotaSettings>,
    /// A LiteLLM-format price file merged over the built-in price table.
    pub price_file: Setting<PathBuf>,
    /// `[routing]`: task types whose platform order replaces the spec's default.
    pub routing: BTreeMap<TaskType, Vec<Platform>>,
}

/// A configuration problem; always bad input (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A mistake at a place in the file: bad TOML, an unknown key, a value that does not fit.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error(
        "unknown time zone `{value}` (from {from}); use an IANA name such as Europe/Paris, America/New_York or UTC"
    )]
    TimeZone { value: String, from: String },
    #[error("cannot determine a home folder for talab's data; set TALAB_HOME")]
    NoHome,
    /// A value from an environment variable or a flag that does not fit its key.
    #[error("{key} = `{value}` (from {from}): expected {expected}")]
    Invalid {
        key: String,
        value: String,
        from: String,
        expected: String,
    },
}

/// What the command line contributed (global flags).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub database_url: Option<String>,
}

/// A setting as `config show` prints it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ShownSetting {
    pub value: Option<String>,
    pub origin: Origin,
    pub source: Option<String>,
}

impl Config {
    /// Every setting unset (no file, no home), every platform with its quota entry: what loading
    /// starts from.
    fn unset() -> Config {
        Config {
            home: Setting::default(),
            file: None,
            database_url: Setting::default(),
            claude: HttpPlatform::default(),
            chatgpt: HttpPlatform::default(),
            gemini: HttpPlatform::default(),
            claude_code_binary: Setting::default(),
            claude_code_talab_tools: Setting::default(),
            cmc_api_key: Setting::default(),
            cmc_base_url: Setting::default(),
            binance_base_url: Setting::default(),
            coinbase_base_url: Setting::default(),
            embed_model_dir: Setting::default(),
            memory_backend: Setting::default(),
            memory_url: Setting::default(),
            memory_table: Setting::default(),
            mcp_token: Setting::default(),
            mcp_max_answer_chars: Setting::default(),
            timezone: Setting::default(),
            quota: Platform::ALL
                .iter()
                .map(|&p| (p, QuotaSettings::default()))
                .collect(),
            price_file: Setting::default(),
            routing: BTreeMap::new(),
        }
    }

    /// Loads the configuration from the process environment.
    pub fn load(overrides: &Overrides) -> Result<Config, ConfigError> {
        let config = Self::load_with(overrides, &|name| std::env::var(name).ok())?;
        if let Some(warning) = config.exposed_secret_warning() {
            tracing::warn!("{warning}");
        }
        Ok(config)
    }

    /// Loads the configuration with an explicit environment (tests pass their own): every key of
    /// [`keys::keys`] from its flag, else its environment variables, else the file, else its default.
    pub fn load_with(
        overrides: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        load::load(overrides, env)
    }

    /// A warning when the configuration file holds a secret (an API key) and other users may read
    /// it; `None` otherwise (and off Unix, where modes do not say this).
    pub fn exposed_secret_warning(&self) -> Option<String> {
        let file = self.file.as_ref()?;
        let holds_secret = keys::keys().iter().filter(|k| k.secret()).any(|k| {
            let shown = show::shown(k, self);
            shown.value.is_some() && shown.origin == Origin::File
        });
        if !holds_secret {
            return None;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file).ok()?.permissions().mode() & 0o777;
            (mode & 0o077 != 0).then(|| {
                format!(
                    "{} holds an API key and others may read it (mode {mode:o}); `chmod 600 {}`",
                    file.display(),
                    file.display()
                )
            })
        }
        #[cfg(not(unix))]
        None
    }

    /// The spec's preference table with the `[routing]` overrides applied.
    pub fn preference_table(&self) -> PreferenceTable {
        let mut table = PreferenceTable::default();
        for (&task_type, platforms) in &self.routing {
            table.set(task_type, platforms.clone());
        }
        table
    }

    /// The quota limits as the orchestrator takes them (platforms without any setting left out).
    pub fn quota_config(&self) -> QuotaConfig {
        let mut out = QuotaConfig::default();
        for (&platform, q) in &self.quota {
            let limits = PlatformQuota {
                requests_per_day: q.requests_per_day.value,
                tokens_per_day: q.tokens_per_day.value,
                reset_tz: q.reset_tz.value,
                daily_budget_usd: q.daily_budget_usd.value,
            };
            if limits != PlatformQuota::default() {
                out = out.with(platform, limits);
            }
        }
        out
    }

    /// The database URL to open (always set: it defaults to the SQLite file under the home).
    pub fn database_url(&self) -> &str {
        self.database_url.value.as_deref().unwrap_or_default()
    }

    /// Every setting as `key → (printable value, origin, source)`, secrets masked: each key of the
    /// table (quota and routing keys only when set).
    pub fn entries(&self) -> BTreeMap<String, ShownSetting> {
        show::entries(self)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn home_with(toml_text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("talab.toml"), toml_text).unwrap();
        dir
    }

    #[test]
    fn defaults_put_the_database_under_home() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_str().unwrap();
        let cfg = Config::load_with(&Overrides::default(), &env_of(&[("TALAB_HOME", home)])).unwrap();
        assert_eq!(cfg.database_url(), format!("sqlite://{home}/talab.db"));
        assert_eq!(cfg.database_url.origin, Origin::Default);
        assert!(cfg.file.is_none());
        assert!(cfg.claude.api_key.value.is_none());
    }

    #[test]
    fn flag_beats_env_beats_file() {
        let dir = home_with(
            "database_url = \"sqlite:///from/file.db\"\n[platforms.claude]\nmodel = \"file-model\"\n",
        );
        let home = dir.path().to_str().unwrap();
        let env = env_of(&[
            ("TALAB_HOME", home),
            ("TALAB_DATABASE_URL", "sqlite:///from/env.db"),
            ("TALAB_CLAUDE_MODEL", "env-model"),
        ]);
        let cfg = Config::load_with(&Overrides::default(), &env).unwrap();
        assert_eq!(cfg.database_url(), "sqlite:///from/env.db");
        assert_eq!(cfg.database_url.source.as_deref(), Some("TALAB_DATABASE_URL"));
        assert_eq!(cfg.claude.model.value.as_deref(), Some("env-model"));

        let flags = Overrides {
            database_url: Some("sqlite:///from/flag.db".into()),
            ..Default::default()
        };
        let cfg = Config::load_with(&flags, &env).unwrap();
        assert_eq!(cfg.database_url(), "sqlite:///from/flag.db");
        assert_eq!(cfg.database_url.origin, Origin::Flag);

        let cfg = Config::load_with(&Overrides::default(), &env_of(&[("TALAB_HOME", home)])).unwrap();
        assert_eq!(cfg.database_url(), "sqlite:///from/file.db");
        assert_eq!(cfg.database_url.origin, Origin::File);
        assert_eq!(cfg.claude.model.value.as_deref(), Some("file-model"));
    }

    #[test]
    fn provider_conventions_are_honoured_after_talab_names() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_of(&[
            ("TALAB_HOME", dir.path().to_str().unwrap()),
            ("OPENAI_BASE_URL", "http://127.0.0.1:11434"),
            ("ANTHROPIC_BASE_URL", "http://provider"),
            ("TALAB_CLAUDE_BASE_URL", "http://talab"),
            ("GEMINI_API_KEY", ""),
        ]);
        let cfg = Config::load_with(&Overrides::default(), &env).unwrap();
        assert_eq!(
            cfg.chatgpt.base_url.value.as_deref(),
            Some("http://127.0.0.1:11434")
        );
        assert_eq!(cfg.claude.base_url.value.as_deref(), Some("http://talab"));
        assert!(
            cfg.gemini.api_key.value.is_none(),
            "an empty variable counts as unset"
        );
    }

    #[test]
    fn secrets_are_masked_everywhere_they_are_shown() {
        let dir = home_with("[market_data]\ncmc_api_key = \"cmc-file-secret\"\n");
        let env = env_of(&[
            ("TALAB_HOME", dir.path().to_str().unwrap()),
            ("ANTHROPIC_API_KEY", "sk-ant-very-secret"),
        ]);
        let cfg = Config::load_with(&Overrides::default(), &env).unwrap();
        let shown = format!("{:?} {:?}", cfg.entries(), cfg);
        assert!(
            !shown.contains("sk-ant-very-secret") && !shown.contains("cmc-file-secret"),
            "{shown}"
        );
        assert_eq!(
            cfg.entries()["platforms.claude.api_key"].value.as_deref(),
            Some("***")
        );
        assert_eq!(
            cfg.claude.api_key.value.as_ref().unwrap().expose(),
            "sk-ant-very-secret"
        );
    }

    /// `config show` masks URL credentials as `status` does (it printed user:password and ?token=).
    #[test]
    fn base_urls_are_shown_without_credentials() {
        let dir =
            home_with("[market_data]\nbinance_base_url = \"https://u:binpass@b.example/api?token=bintok\"\n");
        let env = env_of(&[
            ("TALAB_HOME", dir.path().to_str().unwrap()),
            (
                "OPENAI_BASE_URL",
                "http://me:s3cret@127.0.0.1:11434/v1?token=tok123",
            ),
        ]);
        let cfg = Config::load_with(&Overrides::default(), &env).unwrap();
        let entries = cfg.entries();
        assert_eq!(
            entries["platforms.chatgpt.base_url"].value.as_deref(),
            Some("http://127.0.0.1:11434/v1")
        );
        assert_eq!(
            entries["market_data.binance_base_url"].value.as_deref(),
            Some("https://b.example/api")
        );
        let shown = format!("{entries:?}");
        for secret in ["s3cret", "tok123", "binpass", "bintok"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_readable_file_holding_a_key_is_warned_about() {
        use std::os::unix::fs::PermissionsExt;
        let dir = home_with("[platforms.claude]\napi_key = \"sk-ant-in-file\"\n");
        let file = dir.path().join("talab.toml");
        let env = env_of(&[("TALAB_HOME", dir.path().to_str().unwrap())]);
        for (mode, warned) in [
            (0o644, true),
            (0o666, true),
            (0o640, true),
            (0o600, false),
            (0o400, false),
        ] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            let cfg = Config::load_with(&Overrides::default(), &env).unwrap();
            let warning = cfg.exposed_secret_warning();
            assert_eq!(warning.is_some(), warned, "{mode:o}: {warning:?}");
            if let Some(w) = warning {
                assert!(w.contains("chmod 600") && !w.contains("sk-ant-in-file"), "{w}");
            }
        }
        // No secret in the file: nothing to warn about.
        std::fs::write(&file, "[platforms.claude]\nmodel = \"m\"\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let cfg = Config::load_with(&Overrides::default(), &env).unwrap();
        assert!(cfg.exposed_secret_warning().is_none());
    }

    #[test]
    fn a_broken_file_names_file_line_and_column() {
        let dir = home_with("database_url = \"sqlite:///x.db\"\n\n[platforms.claude\nmodel = 1\n");
        let err = Config::load_with(
            &Overrides::default(),
            &env_of(&[("TALAB_HOME", dir.path().to_str().unwrap())]),
        )
        .unwrap_err()
        .to_string();
        let expected_prefix = format!("{}:3:", dir.path().join("talab.toml").display());
        assert!(err.starts_with(&expected_prefix), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn an_unknown_key_is_an_error_not_ignored() {
        let dir = home_with("databse_url = \"sqlite:///x.db\"\n");
        let err = Config::load_with(
            &Overrides::default(),
            &env_of(&[("TALAB_HOME", dir.path().to_str().unwrap())]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains(":1:1: unknown field `databse_url`"), "{err}");
    }

    #[test]
    fn a_named_config_file_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let flags = Overrides {
            config: Some(dir.path().join("nope.toml")),
            ..Default::default()
        };
        let err =
            Config::load_with(&flags, &env_of(&[("TALAB_HOME", dir.path().to_str().unwrap())])).unwrap_err();
        assert!(matches!(err, ConfigError::File { .. }), "{err}");
    }

    #[test]
    fn the_time_zone_is_validated_and_env_beats_file() {
        let dir = home_with("timezone = \"Europe/Paris\"\n");
        let home = dir.path().to_str().unwrap();
        let cfg = Config::load_with(&Overrides::default(), &env_of(&[("TALAB_HOME", home)])).unwrap();
        assert_eq!(cfg.timezone.value, Some(chrono_tz::Europe::Paris));
        let env = env_of(&[("TALAB_HOME", home), ("TALAB_TIMEZONE", "America/New_York")]);
        let cfg = Config::load_with(&Overrides::default(), &env).unwrap();
        assert_eq!(cfg.timezone.value, Some(chrono_tz::America::New_York));
        let env = env_of(&[("TALAB_HOME", home), ("TALAB_TIMEZONE", "Mars/Olympus")]);
        let err = Config::load_with(&Overrides::default(), &env)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("unknown time zone `Mars/Olympus` (from TALAB_TIMEZONE)"),
            "{err}"
        );
    }

    #[test]
    fn price_source_urls_default_to_the_providers_and_follow_file_env_flag() {
        let dir = home_with(
            "[market_data]\nbinance_base_url = \"http://file\"\ncoinbase_base_url = \"http://cb-file\"\n",
        );
        let home = dir.path().to_str().unwrap();
        let env = env_of(&[("TALAB_HOME", home), ("TALAB_BINANCE_BASE_URL", "http://env")]);
        let cfg = Config::load_with(&Overrides::default(), &env).unwrap();
        assert_eq!(
            cfg.cmc_base_url.value.as_deref(),
            Some("https://pro-api.coinmarketcap.com")
        );
        assert_eq!(cfg.cmc_base_url.origin, Origin::Default);
        assert_eq!(cfg.binance_base_url.value.as_deref(), Some("http://env"));
        assert_eq!(cfg.binance_base_url.origin, Origin::Env);
        assert_eq!(cfg.coinbase_base_url.origin, Origin::File);
        let flagged = cfg
            .binance_base_url
            .clone()
            .with_flag(Some("http://flag".into()), "--binance-base-url");
        assert_eq!(
            (flagged.value.as_deref(), flagged.origin),
            (Some("http://flag"), Origin::Flag)
        );
        let shown = cfg.entries();
        assert_eq!(
            shown["market_data.coinbase_base_url"].value.as_deref(),
            Some("http://cb-file")
        );
    }

    #[test]
    fn quota_limits_come_from_the_file_and_env_overrides_them() {
        let dir = home_with(
            "[quota.gemini]\nrequests_per_day = 250\ntokens_per_day = 1000000\n\n[quota.claude]\n\
             daily_budget_usd = 2.5\nreset_tz = \"Europe/Paris\"\n\n[pricing]\nprice_file = \"/p.json\"\n",
        );
        let home = dir.path().to_str().unwrap();
        let env = env_of(&[
            ("TALAB_HOME", home),
            ("TALAB_QUOTA_GEMINI_REQUESTS_PER_DAY", "20"),
        ]);
        let cfg = Config::load_with(&Overrides::default(), &env).unwrap();
        let gemini = &cfg.quota[&Platform::Gemini];
        assert_eq!(gemini.requests_per_day.value, Some(20));
        assert_eq!(
            gemini.requests_per_day.source.as_deref(),
            Some("TALAB_QUOTA_GEMINI_REQUESTS_PER_DAY")
        );
        assert_eq!(gemini.tokens_per_day.origin, Origin::File);
        let q = cfg.quota_config();
        assert_eq!(q.platforms.len(), 2, "{q:?}");
        assert_eq!(q.platforms[&Platform::Claude].daily_budget_usd, Some(2.5));
        assert_eq!(q.reset_tz(Platform::Claude), chrono_tz::Europe::Paris);
        assert_eq!(cfg.price_file.value.as_deref(), Some(Path::new("/p.json")));
        let shown = cfg.entries();
        assert_eq!(shown["quota.gemini.requests_per_day"].origin, Origin::Env);
        assert_eq!(
            shown["quota.claude.reset_tz"].value.as_deref(),
            Some("Europe/Paris")
        );
        assert!(!shown.contains_key("quota.chatgpt.requests_per_day"));
    }

    #[test]
    fn routing_overrides_replace_one_task_types_order() {
        let dir = home_with("[routing]\nresearch = [\"gemini\", \"claude\"]\n");
        let home = dir.path().to_str().unwrap();
        let cfg = Config::load_with(&Overrides::default(), &env_of(&[("TALAB_HOME", home)])).unwrap();
        let table = cfg.preference_table();
        assert_eq!(
            table.get(TaskType::Research),
            [Platform::Gemini, Platform::Claude]
        );
        // Types not named keep the spec's order.
        let default = PreferenceTable::default();
        assert_eq!(table.get(TaskType::CodeReview), default.get(TaskType::CodeReview));
        assert_eq!(
            cfg.entries()["routing.research"].value.as_deref(),
            Some("gemini, claude")
        );

        for (text, needle) in [
            ("[routing]\nresearch = [\"bard\"]\n", ":2:"),
            ("[routing]\npoetry = [\"claude\"]\n", "poetry"),
            ("[routing]\nresearch = []\n", "routing.research"),
        ] {
            let dir = home_with(text);
            let home = dir.path().to_str().unwrap();
            let err = Config::load_with(&Overrides::default(), &env_of(&[("TALAB_HOME", home)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn bad_quota_settings_are_errors_that_say_where() {
        let dir = home_with("[quota.claude]\nrequests_per_day = 5\nrequest_per_day = 5\n");
        let home = dir.path().to_str().unwrap();
        let err = Config::load_with(&Overrides::default(), &env_of(&[("TALAB_HOME", home)]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(":3:1: unknown field `request_per_day`"), "{err}");

        let dir = home_with("[quota.gemini]\nreset_tz = \"Pacific/Nowhere\"\n");
        let home = dir.path().to_str().unwrap();
        let err = Config::load_with(&Overrides::default(), &env_of(&[("TALAB_HOME", home)]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("talab.toml:2:"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_str().unwrap();
        let env = env_of(&[
            ("TALAB_HOME", home),
            ("TALAB_QUOTA_CLAUDE_TOKENS_PER_DAY", "lots"),
        ]);
        let err = Config::load_with(&Overrides::default(), &env)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "quota.claude.tokens_per_day = `lots` (from TALAB_QUOTA_CLAUDE_TOKENS_PER_DAY): expected a whole number of tokens"
        );
    }
}
