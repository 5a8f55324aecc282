//! The pgvector backend's tables, created on first open, and the checks every open makes before
//! anything is written: the server has the `vector` extension, and a table that exists holds
//! vectors of this embedder (name, revision and dimension).
//!
//! Why not the crate's migrations ([`talab_db::MigrationSet`]): the embedding column's type,
//! `vector(D)`, depends on the embedder, and the tables are named by the user (one table per
//! embedder is how a second model is tried), so the DDL is not one fixed text per version. It runs
//! in one transaction under an advisory lock keyed by the table's name, `CREATE … IF NOT EXISTS`,
//! so concurrent first opens neither fail nor race, and a refused open leaves the database as it
//! was (PostgreSQL's DDL, `CREATE EXTENSION` included, is transactional).

use talab_db::sqlx::{self, Executor, PgPool};

use crate::{EmbedderIdentity, MemoryError};

use super::PGVECTOR;

/// The names of one store's tables: `<table>`, `<table>_events`, `<table>_info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    /// The memories.
    pub memories: String,
    /// Their append-only history.
    pub events: String,
    /// The embedder the vectors come from (one row).
    pub info: String,
}

/// The longest table name accepted: PostgreSQL cuts identifiers at 63 bytes, and the index and
/// companion tables add up to 10.
const MAX_TABLE: usize = 48;

impl Tables {
    /// The tables of store `name`: lowercase ASCII letters, digits and `_`, starting with a letter
    /// or `_`, at most 48 characters (so no name needs quoting, and none is cut by the server).
    pub fn new(name: &str) -> Result<Self, String> {
        let ok = !name.is_empty()
            && name.len() <= MAX_TABLE
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !ok {
            return Err(format!(
                "invalid table name {name:?}: use lowercase letters, digits and _, starting with a \
                 letter or _, at most {MAX_TABLE} characters"
            ));
        }
        Ok(Tables {
            memories: name.to_string(),
            events: format!("{name}_events"),
            info: format!("{name}_info"),
        })
    }

    /// The DDL of a new store of `dim`-long vectors.
    fn create(&self, dim: usize) -> String {
        let Tables {
            memories: t,
            events,
            info,
        } = self;
        format!(
            "CREATE TABLE IF NOT EXISTS {t} (
                id                 TEXT PRIMARY KEY,
                content            TEXT NOT NULL,
                content_hash       TEXT NOT NULL,
                scope              TEXT NOT NULL,
                metadata           JSONB NOT NULL DEFAULT '{{}}'::jsonb,
                embedding          vector({dim}) NOT NULL,
                lexical            tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
                created_at         TIMESTAMPTZ NOT NULL,
                updated_at         TIMESTAMPTZ NOT NULL,
                verified_at        TIMESTAMPTZ,
                deprecated_at      TIMESTAMPTZ,
                deprecation_reason TEXT,
                UNIQUE (scope, content_hash)
            );
            CREATE INDEX IF NOT EXISTS {t}_embedding ON {t} USING hnsw (embedding vector_cosine_ops);
            CREATE INDEX IF NOT EXISTS {t}_lexical ON {t} USING gin (lexical);
            CREATE INDEX IF NOT EXISTS {t}_metadata ON {t} USING gin (metadata jsonb_path_ops);
            CREATE INDEX IF NOT EXISTS {t}_created_at ON {t} (created_at, id);
            CREATE TABLE IF NOT EXISTS {events} (
                id        BIGSERIAL PRIMARY KEY,
                memory_id TEXT NOT NULL,
                event     TEXT NOT NULL CHECK (event IN ('add', 'update', 'deprecate', 'delete')),
                at        TIMESTAMPTZ NOT NULL,
                detail    JSONB NOT NULL DEFAULT '{{}}'::jsonb
            );
            CREATE INDEX IF NOT EXISTS {events}_memory ON {events} (memory_id, id);
            CREATE TABLE IF NOT EXISTS {info} (
                id                INTEGER PRIMARY KEY CHECK (id = 1),
                embedder_name     TEXT NOT NULL,
                embedder_revision TEXT NOT NULL,
                dim               INTEGER NOT NULL CHECK (dim > 0),
                created_at        TIMESTAMPTZ NOT NULL DEFAULT now()
            );"
        )
    }
}

/// Makes sure the store exists for `identity`: creates the extension and the tables when
/// missing, and refuses (writing nothing) a store holding another embedder's vectors. `location`
/// is where, for messages.
pub async fn prepare(
    pool: &PgPool,
    tables: &Tables,
    identity: &EmbedderIdentity,
    location: &str,
) -> Result<(), MemoryError> {
    let fail = |message: String| MemoryError::Backend {
        backend: PGVECTOR,
        location: location.to_string(),
        message,
    };
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(format!("talab-pgvector:{}", tables.memories))
        .execute(&mut *tx)
        .await?;
    // Only when missing: CREATE EXTENSION IF NOT EXISTS still needs the privilege to create it.
    let has_vector: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')")
            .fetch_one(&mut *tx)
            .await?;
    if !has_vector {
        sqlx::query("CREATE EXTENSION IF NOT EXISTS vector")
            .execute(&mut *tx)
            .await
            .map_err(|e| fail(extension_problem(&e)))?;
    }
    let existing = stored(&mut tx, tables).await?.map_err(fail)?;
    match existing {
        Some(stored) if &stored == identity => {}
        Some(stored) => {
            return Err(fail(crate::backends::another_embedder(
                "table",
                &tables.memories,
                &stored,
                identity,
            )));
        }
        None => {
            let dim = super::dim_i32(identity)?;
            // Several statements: the simple-query protocol (as the crates' migrations run).
            (&mut *tx).execute(tables.create(identity.dim).as_str()).await?;
            sqlx::query(&format!(
                "INSERT INTO {} (id, embedder_name, embedder_revision, dim) VALUES (1, $1, $2, $3)",
                tables.info
            ))
            .bind(&identity.name)
            .bind(&identity.revision)
            .bind(dim)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The identity of the vectors an existing store holds (None: no store by that name yet). A
/// memories table without its info row, or whose column is not the recorded `vector(D)`, is not
/// a store of talab's: the inner error says so.
async fn stored(
    tx: &mut sqlx::PgConnection,
    tables: &Tables,
) -> Result<Result<Option<EmbedderIdentity>, String>, MemoryError> {
    let column: Option<Option<String>> = sqlx::query_scalar(
        "SELECT (SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
         WHERE attrelid = c.oid AND attname = 'embedding' AND NOT attisdropped) \
         FROM pg_class c WHERE c.oid = to_regclass($1)",
    )
    .bind(&tables.memories)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(column) = column else {
        return Ok(Ok(None));
    };
    let foreign = |why: &str| {
        Ok(Err(format!(
            "table {} exists but is not a talab memory store ({why}); choose another table name \
             (nothing was changed)",
            tables.memories
        )))
    };
    let has_info: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(&tables.info)
        .fetch_one(&mut *tx)
        .await?;
    if !has_info {
        return foreign(&format!("it has no {} table", tables.info));
    }
    let row: Option<(String, String, i32)> = sqlx::query_as(&format!(
        "SELECT embedder_name, embedder_revision, dim FROM {} WHERE id = 1",
        tables.info
    ))
    .fetch_optional(&mut *tx)
    .await?;
    let Some((name, revision, dim)) = row else {
        return foreign(&format!("{} has no row", tables.info));
    };
    if column.as_deref() != Some(format!("vector({dim})").as_str()) {
        return foreign(&format!(
            "its embedding column is {}, not the recorded vector({dim})",
            column.as_deref().unwrap_or("missing")
        ));
    }
    Ok(Ok(Some(EmbedderIdentity {
        name,
        revision,
        dim: dim as usize,
    })))
}

/// What to say when `CREATE EXTENSION vector` fails.
fn extension_problem(e: &sqlx::Error) -> String {
    let said = e
        .as_database_error()
        .map_or_else(|| e.to_string(), |d| d.message().to_string());
    match e.as_database_error().and_then(|d| d.code()).as_deref() {
        Some("42501") => format!(
            "the server has no pgvector extension in this database and this user may not create it \
             ({said}); ask the database's owner to run CREATE EXTENSION vector in it"
        ),
        _ => format!(
            "the server has no pgvector extension ({said}); install pgvector on the server (Debian: \
             apt install postgresql-<version>-pgvector) or point the URL at one that has it"
        ),
    }
}
