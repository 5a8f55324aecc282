//! A ChromaDB server, started by the tests themselves.
//!
//! The memory crate's Chroma backend is tested against the real server, not a mock: its behaviour
//! (what `add` does with an id it already has, what `where` accepts, how it reports a missing
//! tenant) is what the backend has to get right. PyPI's `chromadb` ships the server (Rust, inside
//! the wheel) and its `chroma run` command, so a test gets it like the pgvector server:
//! [`python_path`](super::python::python_path) installs the pinned package under the target
//! folder once, and the first such test of a process starts a server from it.
//!
//! How the server lives: a small Python process runs `chroma run --path DIR --host 127.0.0.1
//! --port P` on a thread (P a free loopback port it picks), waits until `/api/v2/heartbeat`
//! answers, prints the server's URL and then waits for its standard input to close; then it exits,
//! and the server with it (one process: nothing is left behind). The test process keeps that pipe
//! open until it exits (however it exits: the kernel closes the pipe of a killed process too).
//! Chroma's banner and logs go to `chroma.log` beside the data folder, never to that pipe.
//!
//! The shared server of a test process keeps its data in a folder of its own under
//! `<temp>/talab-test-chroma-<uid>/`, removed when the server stops; folders a killed run left
//! behind are removed after a day. Each test gets its own collection ([`ChromaTest::collection`]).
//! A test that restarts a server on the same data starts one of its own with
//! [`ChromaServer::start`].
//!
//! A test that cannot have the server fails, saying why; `TALAB_TEST_SKIP=chroma` goes without it
//! (counted, and refused under `CI`), as with PostgreSQL, pgvector and MiniLM.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use super::skip::{self, Resource};

/// The pinned PyPI package (its server answers API v2).
pub const CHROMADB_VERSION: &str = "1.5.9";
/// The prefix of every test collection's name; the rest is random.
const COLLECTION_PREFIX: &str = "talab_test_";
/// How old a shared server's leftover data folder must be to be removed.
const STALE_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Runs `chroma run` on a thread and prints its URL once it answers; exits (stopping it) when
/// standard input closes, removing the data folder if asked to.
const KEEPER: &str = r#"import os, shutil, socket, sys, threading, time, urllib.request
path, cleanup = sys.argv[1], sys.argv[2] == "cleanup"
out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
import chromadb_rust_bindings
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
args = ["chroma", "run", "--path", path, "--host", "127.0.0.1", "--port", str(port)]
server = threading.Thread(target=chromadb_rust_bindings.cli, args=(args,), daemon=True)
server.start()
url = "http://127.0.0.1:%d" % port
deadline = time.monotonic() + 60
while True:
    try:
        urllib.request.urlopen(url + "/api/v2/heartbeat", timeout=2).read()
        break
    except Exception as e:
        if not server.is_alive() or time.monotonic() > deadline:
            sys.exit("chroma did not answer on %s: %s" % (url, e))
        time.sleep(0.1)
print(url, file=out, flush=True)
sys.stdin.read()
if cleanup:
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)
os._exit(0)
"#;

/// A running `chroma run`, stopped when dropped.
pub struct ChromaServer {
    url: String,
    /// The Python process keeping it up; closing its standard input stops it.
    keeper: Mutex<Child>,
}

impl ChromaServer {
    /// Starts a server keeping its data in `data` (created if missing; reused as it is), its log
    /// in `data`'s parent folder (`chroma.log`). Blocks until the server answers.
    pub fn start(data: &Path) -> Result<ChromaServer, String> {
        Self::spawn(data, false)
    }

    fn spawn(data: &Path, cleanup: bool) -> Result<ChromaServer, String> {
        let packages = super::python::python_path(
            &format!("chromadb-{CHROMADB_VERSION}"),
            &[&format!("chromadb=={CHROMADB_VERSION}")],
        );
        let folder = data.parent().unwrap_or(data);
        std::fs::create_dir_all(data).map_err(|e| format!("create {}: {e}", data.display()))?;
        let log_path = folder.join("chroma.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("open {}: {e}", log_path.display()))?;
        let mut child = Command::new("python3")
            .args(["-c", KEEPER])
            .arg(data)
            .arg(if cleanup { "cleanup" } else { "keep" })
            .env("PYTHONPATH", &packages)
            .env("ANONYMIZED_TELEMETRY", "False")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("python3 could not be started: {e}"))?;
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout was piped"));
        let read = stdout.read_line(&mut line);
        let url = line.trim();
        if read.is_err() || !url.starts_with("http://") {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "chroma run printed no URL; the end of {} says: {}",
                log_path.display(),
                super::log_tail(&log_path)
            ));
        }
        Ok(ChromaServer {
            url: url.to_string(),
            keeper: Mutex::new(child),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ChromaServer {
    fn drop(&mut self) {
        let child = self.keeper.get_mut().unwrap_or_else(|e| e.into_inner());
        drop(child.stdin.take());
        let _ = child.wait();
    }
}

/// One test's place on the shared server: the server's URL and a collection name no other test
/// uses (the collection is created by the code under test).
pub struct ChromaTest {
    url: String,
    collection: String,
}

impl ChromaTest {
    /// The server's URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// This test's collection name.
    pub fn collection(&self) -> &str {
        &self.collection
    }

    /// "chroma", for assertion messages.
    pub fn label(&self) -> &'static str {
        "chroma"
    }
}

/// A fresh collection name on the Chroma server of this process (starting it on first use);
/// `None` only when the run opted out with `TALAB_TEST_SKIP=chroma` (counted). Panics, saying
/// what to do, when the server cannot be had.
pub fn chroma() -> Option<ChromaTest> {
    if skip::opted_out(Resource::Chroma) {
        skip::record(Resource::Chroma);
        return None;
    }
    Some(ChromaTest {
        url: server().url().to_string(),
        collection: format!("{COLLECTION_PREFIX}{}", uuid::Uuid::new_v4().simple()),
    })
}

/// `<temp>/talab-test-chroma-<uid>`: every shared server's folder is in it.
fn home() -> PathBuf {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    std::env::temp_dir().join(format!("talab-test-chroma-{uid}"))
}

/// The server of this process, started once; panics with the reason and the way out.
fn server() -> &'static ChromaServer {
    static SERVER: OnceLock<ChromaServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let home = home();
        sweep(&home);
        let run = home.join(format!(
            "run-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        ChromaServer::spawn(&run.join("data"), true).unwrap_or_else(|why| {
            panic!(
                "the chroma tests need a ChromaDB server, started from the PyPI package \
                 chromadb=={CHROMADB_VERSION}, and it could not start: {why}. Run without them: {}=chroma",
                skip::SKIP_ENV
            )
        })
    })
}

/// Removes the folders of shared servers that stopped without removing theirs (a killed keeper),
/// once they are a day old.
fn sweep(home: &Path) {
    let Ok(entries) = std::fs::read_dir(home) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > STALE_AFTER);
        if old && entry.file_name().to_string_lossy().starts_with("run-") {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
