//! Errors a user can act on: which database, which migration, what to do.

/// What can go wrong opening or migrating a database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL is not one talab understands.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The server could not be reached (refused, timed out, unknown host).
    #[error("cannot reach {backend} at {host}:{port}: {reason}")]
    Unreachable {
        backend: &'static str,
        host: String,
        port: u16,
        reason: String,
    },
    /// The server answered but refused us (authentication, missing database, permissions).
    #[error("{backend} at {host}:{port} refused the connection: {reason}")]
    Refused {
        backend: &'static str,
        host: String,
        port: u16,
        reason: String,
    },
    /// The SQLite file could not be opened or created.
    #[error("cannot open SQLite database {path}: {reason}")]
    SqliteOpen { path: String, reason: String },
    /// A migration that was applied earlier has been edited since.
    #[error(
        "migration {component}/{version:04} ({name}) differs from the one applied to this database; \
         migrations must never be edited once released"
    )]
    MigrationChanged {
        component: String,
        version: i64,
        name: String,
    },
    /// The database holds migrations newer than this build knows (a newer talab wrote it).
    #[error(
        "this database has {component} migration {version:04} which this build of talab does not know; \
         upgrade talab or use another database"
    )]
    MigrationUnknown { component: String, version: i64 },
    /// A migration's SQL failed.
    #[error("migration {component}/{version:04} ({name}) failed: {source}")]
    MigrationFailed {
        component: String,
        version: i64,
        name: String,
        #[source]
        source: sqlx::Error,
    },
    /// Another writer held the lock on the same data for longer than talab waits.
    #[error(
        "gave up after {waited_secs} s waiting for the write lock on {key}: another talab process is \
         writing the same data; run again when it has finished"
    )]
    LockTimeout { key: String, waited_secs: u64 },
    /// Any other database error.
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}
