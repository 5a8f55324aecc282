//! `talab memory` as a user runs it: add, search (with the lexical fallback and with MiniLM),
//! list, deprecate, history, and errors.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn talab(home: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_talab"));
    cmd.env_clear()
        .env("TALAB_HOME", home)
        .env("PATH", home)
        .env("TALAB_TIMEZONE", "UTC")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run talab");
    if let Some(text) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

const RUNS: [&str; 3] = [
    "EMA refresh completed for BTC, ETH on 2026-11-20: 13 timeframes x 7 periods, 18204 rows, 1.8 s",
    "Gemini free tier quota hit 90 percent at 17:00 Pacific; research tasks fell back to ChatGPT",
    "Coinbase candles come back as time, low, high, open, close, volume: note the order",
];

#[test]
fn add_search_list_deprecate_with_the_lexical_fallback() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let mut ids = Vec::new();
    for (i, text) in RUNS.iter().enumerate() {
        let out = talab(
            h,
            &[
                "memory", "add", text, "--meta", "type=run", "--tag", "ops", "--json",
            ],
            &[],
            None,
        );
        let v = json(&out);
        assert_eq!(v["created"], true);
        if i == 0 {
            let note = String::from_utf8_lossy(&out.stderr);
            assert!(
                note.contains("lexical fallback"),
                "the fallback is announced: {note}"
            );
        }
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    // Same content again: the same id, nothing new.
    let again = json(&talab(h, &["memory", "add", "-", "--json"], &[], Some(RUNS[0])));
    assert_eq!(
        (again["id"].as_str().unwrap(), &again["created"]),
        (ids[0].as_str(), &serde_json::json!(false))
    );

    let v = json(&talab(
        h,
        &["memory", "search", "Coinbase candle column order", "--json"],
        &[],
        None,
    ));
    assert_eq!(v["hits"][0]["id"], ids[2].as_str(), "{v}");
    assert_eq!(v["embedder"]["name"], "lexical-hash");
    assert!(v["threshold_used"].as_f64().unwrap() > 0.0);

    let v = json(&talab(h, &["memory", "list", "--json"], &[], None));
    assert_eq!(v["total"], 3);

    let out = talab(
        h,
        &["memory", "deprecate", &ids[2], "--reason", "superseded"],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let v = json(&talab(
        h,
        &["memory", "search", "Coinbase candle column order", "--json"],
        &[],
        None,
    ));
    assert!(
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|hit| hit["id"] != ids[2].as_str()),
        "{v}"
    );
    assert!(v["filtered_out"].as_u64().unwrap() >= 1, "{v}");

    let v = json(&talab(h, &["memory", "history", &ids[2], "--json"], &[], None));
    let events: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["add", "deprecate"]);

    let text = talab(h, &["memory", "search", "quota fell back"], &[], None);
    let shown = String::from_utf8_lossy(&text.stdout);
    assert!(shown.contains("with lexical-hash"), "{shown}");
    assert!(shown.contains("below the threshold"), "{shown}");
}

#[test]
fn bad_input_is_exit_2_with_a_clear_line() {
    let home = tempfile::tempdir().unwrap();
    let out = talab(home.path(), &["memory", "get", "no-such-id"], &[], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no memory has the id no-such-id"));
    let out = talab(
        home.path(),
        &["memory", "add", "x", "--meta", "novalue"],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let out = talab(home.path(), &["memory", "add", "   "], &[], None);
    assert_eq!(out.status.code(), Some(2));
    let out = talab(
        home.path(),
        &["memory", "search", "x", "--mode", "fuzzy"],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
}

/// With the local model (CI installs it), a paraphrase with no shared words still finds the memory,
/// and a store made with one embedder refuses another until reindexed.
#[test]
fn minilm_finds_paraphrases_and_reindex_switches_embedders() {
    let Some(model) = std::env::var("TALAB_EMBED_MODEL_DIR")
        .ok()
        .filter(|d| Path::new(d).exists())
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide TALAB_EMBED_MODEL_DIR"
        );
        eprintln!("note: skipping the MiniLM CLI test (TALAB_EMBED_MODEL_DIR not set)");
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    // Made with the lexical fallback first…
    for text in RUNS {
        json(&talab(h, &["memory", "add", text, "--json"], &[], None));
    }
    // …so the model refuses it until reindexed.
    let env = [("TALAB_EMBED_MODEL_DIR", model.as_str())];
    let out = talab(h, &["memory", "search", "anything"], &env, None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("talab memory reindex"));
    let v = json(&talab(h, &["memory", "reindex", "--json"], &env, None));
    assert_eq!(v["re_embedded"], 3);

    let v = json(&talab(
        h,
        &[
            "memory",
            "search",
            "which exchange returns price bars in an unusual field order",
            "--mode",
            "vector",
            "--json",
        ],
        &env,
        None,
    ));
    assert!(
        v["hits"][0]["content"]
            .as_str()
            .unwrap()
            .starts_with("Coinbase candles"),
        "{v}"
    );
    assert_eq!(v["embedder"]["name"], "sentence-transformers/all-MiniLM-L6-v2");
}
