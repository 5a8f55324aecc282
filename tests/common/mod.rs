//! Running the `talab` binary as a user would, for the CLI tests that talk to mock servers: a clean
//! environment with its own TALAB_HOME, UTC, no `claude` on PATH, nothing on stdin.

#![allow(dead_code)] // each test file uses its own subset

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// Runs talab to completion (blocking; callers on the test runtime use [`talab`]).
pub fn talab_blocking(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_talab"));
    cmd.env_clear()
        .env("TALAB_HOME", home)
        .env("PATH", home)
        .env("TALAB_TIMEZONE", "UTC")
        .args(args)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run the talab binary")
}

/// The binary, run off the async runtime so the mock servers keep answering.
pub async fn talab(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let home = home.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        talab_blocking(&home, &args, &env)
    })
    .await
    .unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// stdout as JSON, after asserting exit 0 (stderr shown otherwise).
pub fn json_ok(out: &Output) -> Value {
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}
