//! `talab status`: which platforms can run tasks (the orchestrator's `validate_environment`),
//! whether the database opens with every crate's schema up to date, and which memory backend is
//! in use, where, and whether it answers.

use serde::Serialize;
use talab_orchestrator::{Platform, PlatformStatus};

use crate::app::App;
use crate::cli::StatusArgs;
use crate::exit::CliError;
use crate::{output, wiring};

#[derive(Serialize)]
struct DatabaseStatus {
    url: String,
    backend: Option<String>,
    ok: bool,
    error: Option<String>,
}

/// The price table every paid call is costed with: a configured file that cannot be read makes
/// every `run` fail, so `status` says so too.
#[derive(Serialize)]
struct PricingStatus {
    file: Option<String>,
    ok: bool,
    error: Option<String>,
}

/// The memory backend (`memory.backend`), where it is and what it holds.
#[derive(Serialize)]
struct MemoryStatus {
    backend: String,
    location: Option<String>,
    memories: Option<u64>,
    embedder: Option<String>,
    ok: bool,
    error: Option<String>,
}

#[derive(Serialize)]
struct Status {
    platforms: std::collections::BTreeMap<Platform, PlatformStatus>,
    database: DatabaseStatus,
    memory: MemoryStatus,
    pricing: PricingStatus,
}

/// Opens the configured memory and asks it to describe itself.
async fn memory_status(app: &App) -> (MemoryStatus, Option<CliError>) {
    let described = match app.memory().await {
        Ok(memory) => memory.describe().await.map_err(CliError::from),
        Err(e) => Err(e),
    };
    let backend = app.backend().to_string();
    match described {
        Ok(info) => (
            MemoryStatus {
                backend,
                location: Some(info.location),
                memories: Some(info.count),
                embedder: info.embedder.map(|e| e.to_string()),
                ok: true,
                error: None,
            },
            None,
        ),
        Err(e) => (MemoryStatus::failed(backend, e.message()), Some(e)),
    }
}

impl MemoryStatus {
    fn failed(backend: String, why: &str) -> Self {
        MemoryStatus {
            backend,
            location: None,
            memories: None,
            embedder: None,
            ok: false,
            error: Some(why.to_string()),
        }
    }
}

pub async fn run(app: &App, args: StatusArgs) -> Result<(), CliError> {
    let config = app.config();
    let platforms = talab_orchestrator::validate_environment(&wiring::environment(config));
    let shown_url = config.entries()["database_url"].value.clone().unwrap_or_default();
    let (database, failed) = match app.db().await {
        Ok(db) => {
            let backend = db.backend().name().to_string();
            (
                DatabaseStatus {
                    url: shown_url,
                    backend: Some(backend),
                    ok: true,
                    error: None,
                },
                None,
            )
        }
        Err(e) => {
            let shown = DatabaseStatus {
                url: shown_url,
                backend: None,
                ok: false,
                error: Some(e.message().to_string()),
            };
            (shown, Some(e))
        }
    };
    let (memory, memory_failed) = match failed {
        // Without the database the embedded memory cannot open either: one error is enough.
        Some(_) if app.backend() == talab_memory::manager_sql::EMBEDDED => (
            MemoryStatus::failed(app.backend().to_string(), "the database is not usable"),
            None,
        ),
        _ => memory_status(app).await,
    };
    let failed = failed.or(memory_failed);
    let prices = wiring::prices(config);
    let pricing = PricingStatus {
        file: config.price_file.value.as_ref().map(|p| p.display().to_string()),
        ok: prices.is_ok(),
        error: prices.as_ref().err().map(|e| e.message().to_string()),
    };
    let failed = failed.or(prices.err());
    let status = Status {
        platforms,
        database,
        memory,
        pricing,
    };
    if args.json {
        output::json(&status)?;
    } else {
        let mut table = output::table(["platform", "configured", "ready", "details"]);
        for (platform, s) in &status.platforms {
            let yes_no = |b: bool| if b { "yes" } else { "no" };
            table.add_row([
                platform.to_string(),
                yes_no(s.configured).to_string(),
                yes_no(s.configured && s.requirements_met).to_string(),
                s.message.clone(),
            ]);
        }
        println!("{table}");
        match &status.database.error {
            None => println!(
                "database: {} ({}, schema up to date)",
                status.database.url,
                status.database.backend.as_deref().unwrap_or_default()
            ),
            Some(e) => println!("database: {} — NOT usable: {e}", status.database.url),
        }
        let memory = &status.memory;
        match (&memory.error, &memory.location) {
            (Some(e), _) => println!("memory: {} — NOT usable: {e}", memory.backend),
            (None, location) => println!(
                "memory: {} at {} ({} memories, embedder {})",
                memory.backend,
                location.as_deref().unwrap_or_default(),
                memory.memories.unwrap_or_default(),
                memory.embedder.as_deref().unwrap_or("its own")
            ),
        }
        match (&status.pricing.file, &status.pricing.error) {
            (_, Some(e)) => println!("pricing: NOT usable: {e}"),
            (Some(file), None) => println!("pricing: {file} (over the built-in prices)"),
            (None, None) => println!("pricing: the built-in prices"),
        }
    }
    match failed {
        None => Ok(()),
        Some(e) => Err(e),
    }
}
