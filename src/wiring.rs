//! Wiring: the one place where configuration meets the three crates. The database is opened once,
//! from one URL, and each crate gets it to create and use its own tables.

use talab_db::Database;
use talab_features::AssetRegistry;
use talab_memory::MemoryRecords;
use talab_orchestrator::{ClaudeCodeConfig, EnvironmentConfig, HttpPlatformConfig, TaskStore};

use crate::config::{Config, HttpPlatform};
use crate::exit::CliError;

/// The opened database and each crate's store on it.
pub struct Stores {
    pub db: Database,
    #[allow(dead_code)]
    pub memory: MemoryRecords,
    #[allow(dead_code)]
    pub tasks: TaskStore,
    #[allow(dead_code)]
    pub assets: AssetRegistry,
}

/// Opens the configured database and applies every crate's migrations.
pub async fn open(config: &Config) -> Result<Stores, CliError> {
    let db = Database::connect(config.database_url()).await?;
    let memory = MemoryRecords::open(db.clone())
        .await
        .map_err(|e| CliError::failure(e.to_string()))?;
    let tasks = TaskStore::open(db.clone())
        .await
        .map_err(|e| CliError::failure(e.to_string()))?;
    let assets = AssetRegistry::open(db.clone())
        .await
        .map_err(|e| CliError::failure(e.to_string()))?;
    Ok(Stores {
        db,
        memory,
        tasks,
        assets,
    })
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
        local_tools: Vec::new(),
    }
}
