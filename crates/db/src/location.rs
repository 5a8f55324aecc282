//! Where a database lives, parsed from what a user typed: a `sqlite://` or `postgres://` URL, or a
//! plain file path. Displayed without any password, so it is safe in logs and errors.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

use crate::DbError;

/// A parsed database location.
#[derive(Clone)]
pub enum DatabaseLocation {
    /// A SQLite file (created if missing).
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database (`sqlite::memory:`), gone when the last connection closes.
    SqliteMemory,
    /// A PostgreSQL server; the options keep the password out of `Display` and `Debug`.
    Postgres(Box<PgConnectOptions>),
}

impl DatabaseLocation {
    /// The default embedded store: `talab.db` inside `home`.
    pub fn default_in(home: &Path) -> Self {
        DatabaseLocation::SqliteFile(home.join("talab.db"))
    }

    /// Parses `postgres://…`, `postgresql://…`, `sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:`
    /// or a bare file path.
    pub fn parse(url: &str) -> Result<Self, DbError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(DbError::InvalidUrl("the database URL is empty".into()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| DbError::InvalidUrl(format!("{}: {e}", redact_url(url))))?;
            return Ok(DatabaseLocation::Postgres(Box::new(options)));
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let path = rest.split('?').next().unwrap_or_default();
            return match path {
                ":memory:" => Ok(DatabaseLocation::SqliteMemory),
                "" => Err(DbError::InvalidUrl(format!(
                    "{url}: no file path after sqlite://"
                ))),
                p => Ok(DatabaseLocation::SqliteFile(PathBuf::from(p))),
            };
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(DbError::InvalidUrl(format!(
                "{scheme}:// is not supported; use sqlite://PATH or postgres://USER@HOST:PORT/DB"
            )));
        }
        Ok(DatabaseLocation::SqliteFile(PathBuf::from(url)))
    }
}

impl fmt::Display for DatabaseLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseLocation::SqliteFile(p) => write!(f, "sqlite://{}", p.display()),
            DatabaseLocation::SqliteMemory => f.write_str("sqlite::memory:"),
            DatabaseLocation::Postgres(o) => write!(
                f,
                "postgres://{}@{}:{}/{}",
                o.get_username(),
                postgres_host(o),
                o.get_port(),
                o.get_database().unwrap_or(o.get_username())
            ),
        }
    }
}

impl fmt::Debug for DatabaseLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseLocation({self})")
    }
}

/// The server a connection goes to, for messages: its host name, or the folder of its Unix socket
/// (`?host=/run/postgresql`) when it connects through one (sqlx then ignores the host name).
pub fn postgres_host(options: &PgConnectOptions) -> String {
    match options.get_socket() {
        Some(dir) => dir.display().to_string(),
        None => options.get_host().to_string(),
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for messages about a URL that
/// did not even parse.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_form() {
        assert!(matches!(
            DatabaseLocation::parse("sqlite::memory:").unwrap(),
            DatabaseLocation::SqliteMemory
        ));
        match DatabaseLocation::parse("sqlite:///tmp/x.db?mode=rwc").unwrap() {
            DatabaseLocation::SqliteFile(p) => assert_eq!(p, PathBuf::from("/tmp/x.db")),
            other => panic!("{other:?}"),
        }
        match DatabaseLocation::parse("data/t.db").unwrap() {
            DatabaseLocation::SqliteFile(p) => assert_eq!(p, PathBuf::from("data/t.db")),
            other => panic!("{other:?}"),
        }
        let pg = DatabaseLocation::parse("postgresql://bob:hunter2@db.example:6543/lab").unwrap();
        assert_eq!(pg.to_string(), "postgres://bob@db.example:6543/lab");
        assert!(!format!("{pg:?}").contains("hunter2"));
        let socket = DatabaseLocation::parse("postgresql:///lab?host=/run/pg&user=postgres").unwrap();
        assert_eq!(socket.to_string(), "postgres://postgres@/run/pg:5432/lab");
    }

    #[test]
    fn refuses_other_schemes_and_empty() {
        let e = DatabaseLocation::parse("mysql://root@localhost/x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("mysql:// is not supported"), "{e}");
        assert!(DatabaseLocation::parse("  ").is_err());
        assert!(DatabaseLocation::parse("sqlite://").is_err());
    }

    #[test]
    fn redacts_passwords_in_unparsable_urls() {
        assert_eq!(redact_url("postgres://u:pw@h:5/db"), "postgres://u:***@h:5/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }
}
