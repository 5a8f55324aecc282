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
    /// The database accepts reads only: a file its reader may not write, a read-only role or a
    /// standby. Reading works on it (opening writes nothing when the schema is current).
    #[error(
        "the database is read-only, so {action} is not possible ({reason}); reading works; to write, \
         use a copy you own or ask the database's owner for write access"
    )]
    ReadOnly { action: String, reason: String },
    /// Any other database error.
    #[error(transparent)]
    Sql(sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        DbError::sort(e).map_or_else(|read_only| read_only, DbError::Sql)
    }
}

impl DbError {
    /// Sorts out a query error a user can act on (a write refused by a read-only database) as
    /// `Err`, and gives any other back as `Ok`, so each crate's error type keeps its own wording for
    /// plain SQL errors: `DbError::sort(e).map_or_else(MyError::Db, MyError::Sql)`.
    pub fn sort(e: sqlx::Error) -> Result<sqlx::Error, DbError> {
        match read_only_reason(&e) {
            Some(reason) => Err(DbError::ReadOnly {
                action: "writing".into(),
                reason,
            }),
            None => Ok(e),
        }
    }

    /// Whether this is a refused write to a read-only database.
    pub fn is_read_only(&self) -> bool {
        matches!(self, DbError::ReadOnly { .. })
    }
}

/// SQLite's `SQLITE_READONLY` family (primary code 8: a read-only file, folder, or `mode=ro`) and
/// PostgreSQL's `read_only_sql_transaction` (25006: a read-only role or transaction, a standby).
fn read_only_reason(e: &sqlx::Error) -> Option<String> {
    let db = e.as_database_error()?;
    let code = db.code()?;
    let read_only = if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        code.parse::<i64>().is_ok_and(|c| c & 0xff == 8)
    } else {
        db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some() && code == "25006"
    };
    read_only.then(|| db.message().to_string())
}
