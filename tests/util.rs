//! Running the `talab` binary as a user would: a clean environment with its own TALAB_HOME, UTC, no
//! `claude` on PATH (PATH is the empty home), no provider keys, nothing on stdin unless given.
//!
//! Every CLI test goes through [`command`], so what "a clean run" means is written once.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The binary with a clean environment, `args` and the extra `env`; not started yet (for tests that
/// spawn, pipe or kill it).
pub fn command<S: AsRef<OsStr>>(home: &Path, args: &[S], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_talab"));
    cmd.env_clear()
        .env("TALAB_HOME", home)
        .env("PATH", home)
        .env("TALAB_TIMEZONE", "UTC")
        .args(args)
        .stdin(Stdio::null());
    cmd.envs(env.iter().copied());
    cmd
}

/// Runs talab to completion (blocking; tests on an async runtime with mock servers use
/// [`talab_async`]).
pub fn talab<S: AsRef<OsStr>>(home: &Path, args: &[S], env: &[(&str, &str)]) -> Output {
    command(home, args, env).output().expect("run the talab binary")
}

/// Runs talab with `input` on its stdin.
pub fn talab_stdin(home: &Path, args: &[&str], env: &[(&str, &str)], input: &str) -> Output {
    let mut child = command(home, args, env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the talab binary");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// The binary, run off the async runtime so the mock servers keep answering.
pub async fn talab_async(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let home = home.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        talab(&home, &args, &env)
    })
    .await
    .unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts exit 0 (stderr shown otherwise).
pub fn ok(out: &Output) -> &Output {
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    out
}

/// stdout as JSON, after asserting exit 0.
pub fn json_ok(out: &Output) -> Value {
    serde_json::from_slice(&ok(out).stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}
