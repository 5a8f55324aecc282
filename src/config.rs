//! Effective configuration: `talab.toml`, overridden by environment variables, overridden by flags.
//!
//! Every value remembers where it came from, so `talab config show` can say why it is what it is,
//! and every secret is held as a [`Secret`], so it prints as `********` wherever it goes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use serde::Deserialize;
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

impl<T> Setting<T> {
    fn unset() -> Self {
        Setting {
            value: None,
            origin: Origin::Default,
            source: None,
        }
    }

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
#[derive(Debug, Clone)]
pub struct HttpPlatform {
    pub api_key: Setting<Secret>,
    pub base_url: Setting<String>,
    pub model: Setting<String>,
}

/// Daily limits of one platform (`[quota.<platform>]`): a window is one day in `reset_tz`.
#[derive(Debug, Clone)]
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
    pub cmc_api_key: Setting<Secret>,
    /// Where the price sources are reached (proxies, tests); default: the providers' own APIs.
    pub cmc_base_url: Setting<String>,
    pub binance_base_url: Setting<String>,
    pub coinbase_base_url: Setting<String>,
    pub embed_model_dir: Setting<PathBuf>,
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
    #[error("{key} = `{value}` (from {from}): expected {expected}")]
    Invalid {
        key: String,
        value: String,
        from: String,
        expected: &'static str,
    },
}

/// What the command line contributed (global flags).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub database_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    timezone: Option<String>,
    #[serde(default)]
    platforms: FilePlatforms,
    #[serde(default)]
    market_data: FileMarketData,
    #[serde(default)]
    memory: FileMemory,
    #[serde(default)]
    quota: FileQuota,
    #[serde(default)]
    pricing: FilePricing,
    /// `research = ["gemini", "claude"]`: serde rejects an unknown task type or platform with
    /// its line and column.
    #[serde(default)]
    routing: BTreeMap<TaskType, Vec<Platform>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePlatforms {
    #[serde(default)]
    claude: FileHttp,
    #[serde(default)]
    chatgpt: FileHttp,
    #[serde(default)]
    gemini: FileHttp,
    #[serde(default)]
    claude_code: FileClaudeCode,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileHttp {
    api_key: Option<String>,
    base_url: Option<String>,
    model: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileClaudeCode {
    binary: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMarketData {
    cmc_api_key: Option<String>,
    cmc_base_url: Option<String>,
    binance_base_url: Option<String>,
    coinbase_base_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMemory {
    embed_model_dir: Option<PathBuf>,
}

/// `[quota.<platform>]` tables; a platform not named has no limits.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileQuota {
    claude: Option<FileQuotaLimits>,
    claude_code: Option<FileQuotaLimits>,
    chatgpt: Option<FileQuotaLimits>,
    gemini: Option<FileQuotaLimits>,
    local: Option<FileQuotaLimits>,
}

impl FileQuota {
    fn take(&mut self, platform: Platform) -> FileQuotaLimits {
        match platform {
            Platform::Claude => self.claude.take(),
            Platform::ClaudeCode => self.claude_code.take(),
            Platform::Chatgpt => self.chatgpt.take(),
            Platform::Gemini => self.gemini.take(),
            Platform::Local => self.local.take(),
        }
        .unwrap_or_default()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileQuotaLimits {
    requests_per_day: Option<u64>,
    tokens_per_day: Option<u64>,
    /// Parsed by serde, so a bad zone is reported with its line and column.
    reset_tz: Option<Tz>,
    daily_budget_usd: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePricing {
    price_file: Option<PathBuf>,
}

/// Resolves one value: the flag wins, then the first environment variable that is set and
/// non-empty, then the file, then the default.
fn resolve<T>(
    flag: Option<(T, &str)>,
    env: &dyn Fn(&str) -> Option<String>,
    env_names: &[&str],
    parse_env: impl Fn(String) -> T,
    file: Option<T>,
    default: Option<T>,
) -> Setting<T> {
    if let Some((value, name)) = flag {
        return Setting {
            value: Some(value),
            origin: Origin::Flag,
            source: Some(name.to_string()),
        };
    }
    for name in env_names {
        if let Some(v) = env(name).filter(|v| !v.trim().is_empty()) {
            return Setting {
                value: Some(parse_env(v)),
                origin: Origin::Env,
                source: Some(name.to_string()),
            };
        }
    }
    if let Some(value) = file {
        return Setting {
            value: Some(value),
            origin: Origin::File,
            source: None,
        };
    }
    match default {
        Some(value) => Setting {
            value: Some(value),
            origin: Origin::Default,
            source: None,
        },
        None => Setting::unset(),
    }
}

fn http_platform(
    env: &dyn Fn(&str) -> Option<String>,
    file: FileHttp,
    key_envs: &[&str],
    base_envs: &[&str],
    model_envs: &[&str],
) -> HttpPlatform {
    HttpPlatform {
        api_key: resolve(
            None,
            env,
            key_envs,
            Secret::from,
            file.api_key.map(Secret::from),
            None,
        ),
        base_url: resolve(None, env, base_envs, |v| v, file.base_url, None),
        model: resolve(None, env, model_envs, |v| v, file.model, None),
    }
}

/// Resolves a value whose environment form must be parsed: a variable that does not parse is an
/// error naming it (never silently ignored), then the file, then unset.
fn resolve_parsed<T>(
    env: &dyn Fn(&str) -> Option<String>,
    env_name: &str,
    key: &str,
    expected: &'static str,
    parse: impl Fn(&str) -> Option<T>,
    file: Option<T>,
) -> Result<Setting<T>, ConfigError> {
    let named = resolve(None, env, &[env_name], |v| v, None, None);
    if let Some(text) = named.value {
        let value = parse(text.trim()).ok_or_else(|| ConfigError::Invalid {
            key: key.to_string(),
            value: text.clone(),
            from: env_name.to_string(),
            expected,
        })?;
        return Ok(Setting {
            value: Some(value),
            origin: Origin::Env,
            source: named.source,
        });
    }
    Ok(match file {
        Some(value) => Setting {
            value: Some(value),
            origin: Origin::File,
            source: None,
        },
        None => Setting::unset(),
    })
}

/// Every platform's quota: `[quota.<platform>]` overridden by `TALAB_QUOTA_<PLATFORM>_<FIELD>`
/// (e.g. `TALAB_QUOTA_GEMINI_REQUESTS_PER_DAY=250`).
fn resolve_quota(
    env: &dyn Fn(&str) -> Option<String>,
    mut file: FileQuota,
) -> Result<BTreeMap<Platform, QuotaSettings>, ConfigError> {
    let mut out = BTreeMap::new();
    for &platform in Platform::ALL {
        let limits = file.take(platform);
        let upper = platform.as_str().to_ascii_uppercase();
        let var = |field: &str| format!("TALAB_QUOTA_{upper}_{}", field.to_ascii_uppercase());
        let key = |field: &str| format!("quota.{platform}.{field}");
        let count = |s: &str| s.parse::<u64>().ok();
        let dollars = |s: &str| s.parse::<f64>().ok().filter(|d| d.is_finite() && *d >= 0.0);
        if let Some(usd) = limits.daily_budget_usd.filter(|d| !(d.is_finite() && *d >= 0.0)) {
            return Err(ConfigError::Invalid {
                key: key("daily_budget_usd"),
                value: usd.to_string(),
                from: "talab.toml".into(),
                expected: "a non-negative number of US dollars",
            });
        }
        let settings = QuotaSettings {
            requests_per_day: resolve_parsed(
                env,
                &var("requests_per_day"),
                &key("requests_per_day"),
                "a whole number of requests",
                count,
                limits.requests_per_day,
            )?,
            tokens_per_day: resolve_parsed(
                env,
                &var("tokens_per_day"),
                &key("tokens_per_day"),
                "a whole number of tokens",
                count,
                limits.tokens_per_day,
            )?,
            reset_tz: resolve_parsed(
                env,
                &var("reset_tz"),
                &key("reset_tz"),
                "an IANA time zone such as America/Los_Angeles or UTC",
                |s| s.parse::<Tz>().ok(),
                limits.reset_tz,
            )?,
            daily_budget_usd: resolve_parsed(
                env,
                &var("daily_budget_usd"),
                &key("daily_budget_usd"),
                "a non-negative number of US dollars",
                dollars,
                limits.daily_budget_usd,
            )?,
        };
        out.insert(platform, settings);
    }
    Ok(out)
}

impl Config {
    /// Loads the configuration from the process environment.
    pub fn load(overrides: &Overrides) -> Result<Config, ConfigError> {
        let config = Self::load_with(overrides, &|name| std::env::var(name).ok())?;
        if let Some(warning) = config.exposed_secret_warning() {
            tracing::warn!("{warning}");
        }
        Ok(config)
    }

    /// A warning when the configuration file holds a secret (an API key) and other users may read
    /// it; `None` otherwise (and off Unix, where modes do not say this).
    pub fn exposed_secret_warning(&self) -> Option<String> {
        let file = self.file.as_ref()?;
        let from_file = |s: &Setting<Secret>| s.value.is_some() && s.origin == Origin::File;
        let holds_secret = [
            &self.claude.api_key,
            &self.chatgpt.api_key,
            &self.gemini.api_key,
            &self.cmc_api_key,
        ]
        .into_iter()
        .any(from_file);
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

    /// Loads the configuration with an explicit environment (tests pass their own).
    pub fn load_with(
        overrides: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let default_home =
            directories::ProjectDirs::from("", "", "talab").map(|d| d.data_dir().to_path_buf());
        let home = resolve(None, env, &["TALAB_HOME"], PathBuf::from, None, default_home);
        let home_dir = home.value.clone().ok_or(ConfigError::NoHome)?;

        let explicit = overrides
            .config
            .clone()
            .or_else(|| env("TALAB_CONFIG").filter(|v| !v.is_empty()).map(PathBuf::from));
        let (file_path, file) = match explicit {
            Some(path) => {
                let parsed = read_file(&path)?;
                (Some(path), parsed)
            }
            None => {
                let path = home_dir.join("talab.toml");
                if path.exists() {
                    (Some(path.clone()), read_file(&path)?)
                } else {
                    (None, FileConfig::default())
                }
            }
        };

        let default_db = talab_db::DatabaseLocation::default_in(&home_dir).to_string();
        let flag_db = overrides.database_url.clone().map(|v| (v, "--database-url"));
        let FileConfig {
            database_url,
            timezone,
            platforms,
            market_data,
            memory,
            quota,
            pricing,
            routing,
        } = file;
        if let Some((task_type, _)) = routing.iter().find(|(_, p)| p.is_empty()) {
            return Err(ConfigError::Invalid {
                key: format!("routing.{task_type}"),
                value: "[]".into(),
                from: file_path
                    .as_ref()
                    .map_or_else(|| "the config file".into(), |p| p.display().to_string()),
                expected: "at least one platform (leave the key out for the default order)",
            });
        }
        let timezone = resolve_timezone(env, timezone)?;
        let quota = resolve_quota(env, quota)?;
        Ok(Config {
            database_url: resolve(
                flag_db,
                env,
                &["TALAB_DATABASE_URL"],
                |v| v,
                database_url,
                Some(default_db),
            ),
            claude: http_platform(
                env,
                platforms.claude,
                &["ANTHROPIC_API_KEY"],
                &["TALAB_CLAUDE_BASE_URL", "ANTHROPIC_BASE_URL"],
                &["TALAB_CLAUDE_MODEL"],
            ),
            chatgpt: http_platform(
                env,
                platforms.chatgpt,
                &["OPENAI_API_KEY"],
                &["TALAB_CHATGPT_BASE_URL", "OPENAI_BASE_URL"],
                &["TALAB_CHATGPT_MODEL"],
            ),
            gemini: http_platform(
                env,
                platforms.gemini,
                &["GEMINI_API_KEY"],
                &["TALAB_GEMINI_BASE_URL", "GEMINI_BASE_URL"],
                &["TALAB_GEMINI_MODEL"],
            ),
            claude_code_binary: resolve(
                None,
                env,
                &["TALAB_CLAUDE_CODE_BIN"],
                PathBuf::from,
                platforms.claude_code.binary,
                None,
            ),
            cmc_api_key: resolve(
                None,
                env,
                &["CMC_API_KEY"],
                Secret::from,
                market_data.cmc_api_key.map(Secret::from),
                None,
            ),
            cmc_base_url: resolve(
                None,
                env,
                &["TALAB_CMC_BASE_URL"],
                |v| v,
                market_data.cmc_base_url,
                Some(talab_features::sources::CMC_BASE_URL.to_string()),
            ),
            binance_base_url: resolve(
                None,
                env,
                &["TALAB_BINANCE_BASE_URL"],
                |v| v,
                market_data.binance_base_url,
                Some(talab_features::sources::BINANCE_BASE_URL.to_string()),
            ),
            coinbase_base_url: resolve(
                None,
                env,
                &["TALAB_COINBASE_BASE_URL"],
                |v| v,
                market_data.coinbase_base_url,
                Some(talab_features::sources::COINBASE_BASE_URL.to_string()),
            ),
            embed_model_dir: resolve(
                None,
                env,
                &["TALAB_EMBED_MODEL_DIR"],
                PathBuf::from,
                memory.embed_model_dir,
                None,
            ),
            timezone,
            quota,
            price_file: resolve(
                None,
                env,
                &["TALAB_PRICE_FILE"],
                PathBuf::from,
                pricing.price_file,
                None,
            ),
            routing,
            home,
            file: file_path,
        })
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

    /// Every setting as `key → (printable value, origin, source)`, secrets masked.
    pub fn entries(&self) -> BTreeMap<String, ShownSetting> {
        fn show<T>(s: &Setting<T>, f: impl Fn(&T) -> String) -> ShownSetting {
            ShownSetting {
                value: s.value.as_ref().map(f),
                origin: s.origin,
                source: s.source.clone(),
            }
        }
        let path = |p: &PathBuf| p.display().to_string();
        let text = |s: &String| s.clone();
        // Base URLs as `status` shows them: no user, password or query (`?token=`).
        let base_url = |u: &String| talab_orchestrator::display_url(u);
        let secret = |s: &Secret| s.to_string();
        let redacted_url = |u: &String| match talab_db::DatabaseLocation::parse(u) {
            Ok(loc) => loc.to_string(),
            Err(_) => "(invalid URL)".to_string(),
        };
        let mut out = BTreeMap::new();
        out.insert("home".to_string(), show(&self.home, path));
        out.insert("database_url".to_string(), show(&self.database_url, redacted_url));
        for (name, p) in [
            ("claude", &self.claude),
            ("chatgpt", &self.chatgpt),
            ("gemini", &self.gemini),
        ] {
            out.insert(format!("platforms.{name}.api_key"), show(&p.api_key, secret));
            out.insert(format!("platforms.{name}.base_url"), show(&p.base_url, base_url));
            out.insert(format!("platforms.{name}.model"), show(&p.model, text));
        }
        out.insert(
            "platforms.claude_code.binary".to_string(),
            show(&self.claude_code_binary, path),
        );
        out.insert(
            "market_data.cmc_api_key".to_string(),
            show(&self.cmc_api_key, secret),
        );
        for (name, url) in [
            ("cmc", &self.cmc_base_url),
            ("binance", &self.binance_base_url),
            ("coinbase", &self.coinbase_base_url),
        ] {
            out.insert(format!("market_data.{name}_base_url"), show(url, base_url));
        }
        out.insert(
            "memory.embed_model_dir".to_string(),
            show(&self.embed_model_dir, path),
        );
        out.insert(
            "timezone".to_string(),
            show(&self.timezone, |tz: &Tz| tz.name().to_string()),
        );
        out.insert("pricing.price_file".to_string(), show(&self.price_file, path));
        // Quota keys only when set: twenty "(not set)" lines would hide the settings that matter.
        for (platform, q) in &self.quota {
            let mut add = |field: &str, shown: ShownSetting| {
                if shown.value.is_some() {
                    out.insert(format!("quota.{platform}.{field}"), shown);
                }
            };
            add("requests_per_day", show(&q.requests_per_day, u64::to_string));
            add("tokens_per_day", show(&q.tokens_per_day, u64::to_string));
            add("reset_tz", show(&q.reset_tz, |tz: &Tz| tz.name().to_string()));
            add("daily_budget_usd", show(&q.daily_budget_usd, f64::to_string));
        }
        for (task_type, platforms) in &self.routing {
            let order: Vec<String> = platforms.iter().map(Platform::to_string).collect();
            out.insert(
                format!("routing.{task_type}"),
                ShownSetting {
                    value: Some(order.join(", ")),
                    origin: Origin::File,
                    source: self.file.as_ref().map(|p| p.display().to_string()),
                },
            );
        }
        out
    }
}

/// A setting as `config show` prints it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ShownSetting {
    pub value: Option<String>,
    pub origin: Origin,
    pub source: Option<String>,
}

/// The user's time zone: TALAB_TIMEZONE, else the file's `timezone`, else the system's zone, else UTC.
fn resolve_timezone(
    env: &dyn Fn(&str) -> Option<String>,
    file: Option<String>,
) -> Result<Setting<Tz>, ConfigError> {
    let system = iana_time_zone::get_timezone()
        .ok()
        .and_then(|name| name.parse::<Tz>().ok())
        .unwrap_or(Tz::UTC);
    let named = resolve(None, env, &["TALAB_TIMEZONE"], |v| v, file, None);
    match named.value {
        None => Ok(Setting {
            value: Some(system),
            origin: Origin::Default,
            source: None,
        }),
        Some(name) => match name.trim().parse::<Tz>() {
            Ok(tz) => Ok(Setting {
                value: Some(tz),
                origin: named.origin,
                source: named.source,
            }),
            Err(_) => Err(ConfigError::TimeZone {
                value: name,
                from: named.source.unwrap_or_else(|| "talab.toml".to_string()),
            }),
        },
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    parse_file(path, &text)
}

fn parse_file(path: &Path, text: &str) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = match e.span() {
            Some(span) => line_col(text, span.start),
            None => (1, 1),
        };
        ConfigError::Syntax {
            path: path.display().to_string(),
            line,
            column,
            message: e.message().trim().replace('\n', " "),
        }
    })
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

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
