//! Wiring: where the configuration and the [`App`]'s handles meet the three crates' real
//! implementations — the orchestrator with its adapters and local tools, the joined flow, the
//! memory reindex — and the small conversions between the binary's and the crates' vocabulary.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use indicatif::{ProgressBar, ProgressStyle};
use talab_memory::MemoryRecords;
use talab_memory::manager_sql::reindex::{DEFAULT_REINDEX_BATCH, reindex};
use talab_orchestrator::adapters::{LocalToolRegistry, McpServerConfig};
use talab_orchestrator::{
    ClaudeCodeConfig, EnvironmentConfig, HttpPlatformConfig, PriceTable, TalabOrchestrator,
};

use crate::app::App;
use crate::config::{Config, HttpPlatform};
use crate::exit::CliError;
use crate::flow::ema_tool::EmaRefreshTool;
use crate::flow::refresh::Flow;
use crate::flow::runs::RunStore;

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
            mcp: talab_tools_for_claude_code(config),
        },
        local_tools: crate::local_tools::names(),
    }
}

/// `talab mcp` as the MCP server a task routed to Claude Code may use, on this process's store
/// (its database, home and config file are passed on, so the server opens what this command
/// opened), with the tools `platforms.claude_code.talab_tools` allows: the read-only ones (the
/// default), all, or none (no server).
pub fn talab_tools_for_claude_code(config: &Config) -> Option<McpServerConfig> {
    let allowed = match config.claude_code_talab_tools.value.as_deref() {
        Some("none") => return None,
        Some("all") => crate::mcp::TalabMcp::tools(false),
        _ => crate::mcp::TalabMcp::tools(true),
    };
    let command = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            tracing::warn!(error = %e, "cannot tell where this talab program is; Claude Code gets no talab tools");
            return None;
        }
    };
    let mut env = std::collections::BTreeMap::new();
    env.insert(
        "TALAB_DATABASE_URL".to_string(),
        config.database_url().to_string(),
    );
    if let Some(home) = &config.home.value {
        env.insert("TALAB_HOME".to_string(), home.display().to_string());
    }
    if let Some(file) = &config.file {
        env.insert("TALAB_CONFIG".to_string(), file.display().to_string());
    }
    Some(McpServerConfig {
        name: "talab".into(),
        command,
        args: vec!["mcp".into()],
        env,
        allowed_tools: allowed,
    })
}

/// How long one platform call may take when the command does not say (`--timeout`).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// The price table: the built-in snapshot with the configured LiteLLM-format file over it.
pub fn prices(config: &Config) -> Result<Arc<PriceTable>, CliError> {
    Ok(Arc::new(PriceTable::load(config.price_file.value.as_deref())?))
}

/// The real orchestrator on the app's database: an adapter for every configured platform (and
/// `local` with talab's tools), the configured quotas, the price table, and `timeout` per call.
pub async fn orchestrator(app: &App, timeout: Duration) -> Result<TalabOrchestrator, CliError> {
    orchestrator_with(app, timeout, LocalToolRegistry::new()).await
}

/// [`orchestrator`] with `extra` local tools registered over talab's own (a tool of the same name
/// replaces the default one, e.g. an `ema_refresh` that draws a progress bar).
pub async fn orchestrator_with(
    app: &App,
    timeout: Duration,
    extra: LocalToolRegistry,
) -> Result<TalabOrchestrator, CliError> {
    let config = app.config();
    let prices = prices(config)?;
    let mut registry = crate::local_tools::registry(app);
    for name in extra.names() {
        if let Some(tool) = extra.get(&name) {
            registry.register(tool.clone());
        }
    }
    let mut env = environment(config);
    env.local_tools = registry.names();
    let adapters = talab_orchestrator::adapters::build(&env, prices.clone(), registry, timeout)?;
    Ok(
        TalabOrchestrator::open(app.db().await?, adapters, config.quota_config())
            .await?
            .with_table(config.preference_table())
            .with_pricer(prices)
            .with_call_timeout(timeout),
    )
}

/// The joined refresh flow (what `refresh-ema` and `demo` run): the real orchestrator with the
/// app's feature store as its `ema_refresh` tool, the app's memory, and the runs table. The tool draws
/// a progress bar when `progress` is asked for and stderr is a terminal.
pub async fn flow(app: &App, progress: bool) -> Result<Flow, CliError> {
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let runs = RunStore::open(app.db().await?).await?;
    let features = app.features().await?;
    let tool = EmaRefreshTool::new(features.clone(), tty && progress).with_log(Arc::new(runs.clone()));
    let registry = LocalToolRegistry::new().with(Arc::new(tool));
    let orchestrator = orchestrator_with(app, DEFAULT_CALL_TIMEOUT, registry).await?;
    Ok(Flow {
        orchestrator: Arc::new(orchestrator),
        memory: app.memory().await?,
        features,
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

/// `talab memory reindex`: re-embeds the store with the current embedder, with a progress bar.
pub async fn reindex_memory(app: &App, json: bool) -> Result<(), CliError> {
    if app.backend() != talab_memory::manager_sql::EMBEDDED {
        return Err(CliError::usage(format!(
            "talab memory reindex works on the embedded memory store; memory.backend is {}",
            app.backend()
        )));
    }
    let embedder = app.embedder().await?;
    let records = MemoryRecords::open(app.db().await?).await?;
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
