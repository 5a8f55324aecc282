//! Errors a user can act on: which database, which migration, what to do; and [`ErrorKind`], the
//! one question every talab library error answers the same way.

/// Whose move it is after an error: change the input, or look at the environment. Every library
/// error of talab says which (`kind()`), so a program maps all of them to its exit codes in one
/// place (the `talab` binary: 2 for input, 1 for a failure) and the same error is never the
/// user's fault through one command and not through another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// What the caller gave is wrong or names something that is not there; the same call cannot
    /// succeed, another input may.
    Input,
    /// The work failed (the database, the network, a file the system refused, stored data): the
    /// input may be fine, and the same call may succeed later.
    Failure,
}

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
    /// Whose move it is (see [`ErrorKind`]): a URL talab cannot parse is the caller's.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DbError::InvalidUrl(_) => ErrorKind::Input,
            _ => ErrorKind::Failure,
        }
    }

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
