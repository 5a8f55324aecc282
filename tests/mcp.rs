//! `talab mcp` driven by an independent client, the official MCP Python SDK (PyPI `mcp`), over
//! stdio, on SQLite and PostgreSQL: every tool with good and bad arguments, pagination, bounded
//! answers, and the answers checked against the CLI's on the same database.

use std::process::Command;

use serde_json::Value;

use crate::util::{json_ok, ok, talab};

/// The SDK the tests install (a pin: the protocol moves fast).
const MCP_SDK: (&str, &str) = ("mcp-2.3.0", "mcp==2.3.0");

/// The Python client (tests/mcp_client.py) with `args`, against `talab mcp` on `url`; not started.
fn client(home: &std::path::Path, url: &str, args: &[&str]) -> Command {
    let sdk = talab_db::testing::python::python_path(MCP_SDK.0, &[MCP_SDK.1]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp_client.py");
    let mut command = Command::new("python3");
    command
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_talab"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PYTHONPATH", &sdk)
        .env("SERVER_PATH", home)
        .env("TALAB_HOME", home)
        .env("TALAB_TIMEZONE", "UTC")
        .env("TALAB_DATABASE_URL", url)
        .env("RUST_LOG", "error");
    command
}

/// Runs the client to its report.
fn report(mut client: Command) -> Value {
    let out = client.output().expect("run python3");
    assert!(
        out.status.success(),
        "the MCP client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "the client's report is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn structured<'a>(report: &'a Value, key: &str) -> &'a Value {
    let call = &report[key];
    assert_eq!(call["is_error"], false, "{key}: {call}");
    &call["structured"]
}

fn tool_error<'a>(report: &'a Value, key: &str) -> &'a str {
    let call = &report[key];
    assert_eq!(call["is_error"], true, "{key} should be a tool error: {call}");
    call["text"].as_str().unwrap()
}

#[tokio::test]
async fn an_mcp_client_uses_every_tool_and_gets_the_cli_answers() {
    for t in talab_db::testing::backends().await {
        let label = t.label();
        let home = tempfile::tempdir().unwrap();
        let url = t.url();
        let env = [("TALAB_DATABASE_URL", url.as_str()), ("RUST_LOG", "error")];
        ok(&talab(
            home.path(),
            &["ingest", "synthetic", "--symbols", "BTC", "--days", "2500"],
            &env,
        ));
        let r = report(client(home.path(), &url, &[]));

        assert_eq!(r["server"], "talab", "{label}");
        assert!(r["instructions"].as_str().unwrap().contains("default scope"));
        let tools: Vec<&str> = r["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        for name in [
            "add_memory",
            "ask",
            "delete_memory",
            "deprecate_memory",
            "get_ema",
            "get_memory",
            "list_assets",
            "memory_context",
            "memory_history",
            "refresh_ema",
            "search_memories",
            "update_memory",
            "list_tasks",
            "costs",
            "signals_summary",
            "memory_health",
        ] {
            assert!(tools.contains(&name), "{label}: no {name} in {tools:?}");
        }
        assert_eq!(r["schemas_have_descriptions"], true, "{label}");

        // Added once; the same text again is a duplicate with the same id.
        let first = &r["add"][0]["structured"];
        let again = &r["add"][1]["structured"];
        assert_eq!(
            (first["duplicate"].clone(), again["duplicate"].clone()),
            (false.into(), true.into())
        );
        assert_eq!(first["id"], again["id"], "{label}");
        let id = first["id"].as_str().unwrap();
        // Found again by meaning and tag, first.
        let hits = structured(&r, "search")["memories"].as_array().unwrap().clone();
        assert_eq!(hits[0]["id"], id, "{label}: {hits:?}");
        // Pages of 2: the cursor continues where the first page ended, nothing repeated.
        let p1 = r["pages"][0]["structured"].clone();
        let p2 = r["pages"][1]["structured"].clone();
        assert_eq!(p1["memories"].as_array().unwrap().len(), 2, "{label}: {p1}");
        assert_eq!(p1["next_cursor"], "2", "{label}");
        let ids = |p: &Value| -> Vec<String> {
            p["memories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_string())
                .collect()
        };
        assert!(!p2["memories"].as_array().unwrap().is_empty(), "{label}: {p2}");
        assert!(ids(&p2).iter().all(|i| !ids(&p1).contains(i)), "{label}");
        // Bad input is a tool error with the CLI's words; a schema violation never crashes the server.
        assert!(tool_error(&r, "bad_mode").contains("fuzzy"), "{label}");
        let missing = tool_error(&r, "missing_id");
        assert!(missing.contains("no memory has the id no-such-id") && missing.contains("talab memory list"));
        let no_query = &r["missing_argument"];
        assert!(
            no_query["is_error"] == true || no_query["protocol_error"].is_string(),
            "{label}: {no_query}"
        );
        // Bounded: a 100,000-character memory is cut in searches (with how to read it) and every
        // answer stays under the cap.
        let big = structured(&r, "big_search")["memories"][0].clone();
        assert_eq!(big["content_cut"], true, "{label}");
        assert!(big["content"].as_str().unwrap().contains("call get_memory"));
        for key in ["big_search", "big_get"] {
            let chars = r[key]["chars"].as_u64().unwrap() as usize;
            assert!(
                chars <= talab::mcp::bounds::DEFAULT_MAX_ANSWER_CHARS + 64,
                "{label}: {key} {chars}"
            );
        }
        assert_eq!(structured(&r, "update")["metadata"]["checked"], true);
        let events: Vec<&str> = structured(&r, "history")["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"].as_str().unwrap())
            .collect();
        assert_eq!(events, ["add", "update"], "{label}");
        assert!(
            structured(&r, "context")["context"]
                .as_str()
                .unwrap()
                .contains("exchange outage")
        );
        assert_eq!(structured(&r, "deprecate")["done"], "deprecated");
        assert_eq!(structured(&r, "delete")["done"], "deleted");

        // The lab: the same assets, EMAs and answers as the CLI.
        let assets = structured(&r, "assets");
        assert_eq!(assets["total"], 1, "{label}: {assets}");
        assert_eq!(assets["assets"][0]["symbol"], "BTC");
        assert_eq!(assets["assets"][0]["rows"], 2500);
        let refresh = structured(&r, "refresh");
        assert_eq!(refresh["success"], true, "{label}: {refresh}");
        assert!(refresh["rows"].as_i64().unwrap() > 4000, "{label}: {refresh}");
        assert!(tool_error(&r, "refresh_unknown").contains("unknown symbol 'NOPE'"));
        let ema = structured(&r, "ema");
        let cli = json_ok(&talab(
            home.path(),
            &["ema", "BTC", "--tf", "1D", "--periods", "10", "--json"],
            &env,
        ));
        let cli_row = &cli.as_array().unwrap()[0];
        let mcp_row = &ema["rows"][0];
        assert_eq!(mcp_row["day"], cli_row["day"], "{label}");
        assert_eq!(
            mcp_row["ema"].as_f64().unwrap().to_bits(),
            cli_row["ema"].as_f64().unwrap().to_bits(),
            "{label}: the same stored value"
        );
        let range = structured(&r, "ema_range");
        assert_eq!(range["rows"].as_array().unwrap().len(), 5, "{label}");
        assert_eq!(range["next_cursor"], "5", "{label}");
        let answer = structured(&r, "ask")["answer"].as_str().unwrap().to_string();
        assert!(answer.contains("BTC"), "{label}: {answer}");
        let cli_runs = json_ok(&talab(
            home.path(),
            &["ask", "what EMAs ran today", "--json"],
            &env,
        ));
        assert_eq!(
            cli_runs["runs"].as_array().unwrap().len(),
            1,
            "{label}: the MCP refresh is a run"
        );
        // The records: the refresh's task, its cost ($0, local), the signals, the store's health.
        let tasks = structured(&r, "tasks");
        assert_eq!(tasks["total"], 1, "{label}: {tasks}");
        assert_eq!(tasks["rows"][0]["platform"], "local", "{label}: {tasks}");
        assert_eq!(tasks["rows"][0]["success"], true, "{label}");
        let costs = &structured(&r, "costs")["report"];
        assert_eq!(costs["total"]["calls"], 1, "{label}: {costs}");
        assert_eq!(costs["total"]["cost_usd"], 0.0, "{label}: {costs}");
        assert!(tool_error(&r, "bad_costs").contains("weekday"));
        assert!(structured(&r, "signals")["report"].is_array(), "{label}");
        let health = &structured(&r, "health")["report"];
        assert!(health["checked"].as_u64().unwrap() >= 5, "{label}: {health}");
        assert_eq!(
            health["found"]["stale"].as_u64(),
            Some(health["stale"].as_array().unwrap().len() as u64),
            "{label}: nothing cut from a small store"
        );
        // What the client added is in the CLI's store (same scope, same database).
        let listed = json_ok(&talab(home.path(), &["memory", "list", "--json"], &env));
        let stored = listed["memories"].as_array().unwrap();
        assert!(stored.iter().any(|m| m["id"] == id), "{label}");
    }
}

/// Four clients (four `talab mcp` processes, as four editor windows start them) each add 250
/// memories at once: exactly 1,000 are stored, and each client finds each of its own by its text.
#[tokio::test]
async fn four_servers_adding_at_once_lose_and_duplicate_nothing() {
    for t in talab_db::testing::backends().await {
        let label = t.label();
        let home = tempfile::tempdir().unwrap();
        let url = t.url();
        let children: Vec<_> = ["a", "b", "c", "d"]
            .iter()
            .map(|tag| {
                client(home.path(), &url, &["add", tag, "250"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("start a client")
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{label}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let r: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(r["created"], 250, "{label}: {r}");
            assert_eq!(r["duplicates"], 0, "{label}: {r}");
            assert_eq!(r["errors"].as_array().unwrap().len(), 0, "{label}: {r}");
            assert_eq!(r["missed"].as_array().unwrap().len(), 0, "{label}: {r}");
        }
        let env = [("TALAB_DATABASE_URL", url.as_str()), ("RUST_LOG", "error")];
        let listed = json_ok(&talab(
            home.path(),
            &["memory", "list", "--json", "--limit", "1"],
            &env,
        ));
        assert_eq!(listed["total"], 1000, "{label}: {listed}");
    }
}

/// A `claude` for talab to run: tests/fake_claude_mcp.py, which starts the MCP server it is
/// given as Claude Code does and searches it for the prompt.
fn fake_claude(dir: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let python = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3");
    let python = String::from_utf8(python.stdout).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fake_claude_mcp.py");
    let path = dir.join("claude");
    std::fs::write(
        &path,
        format!("#!/bin/sh\nexec '{}' '{script}' \"$@\"\n", python.trim()),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test]
async fn a_task_routed_to_claude_code_can_call_talabs_read_only_tools() {
    let sdk = talab_db::testing::python::python_path(MCP_SDK.0, &[MCP_SDK.1]);
    for (i, t) in talab_db::testing::backends().await.into_iter().enumerate() {
        let label = t.label();
        let home = tempfile::tempdir().unwrap();
        let url = t.url();
        let claude = fake_claude(home.path());
        let record = home.path().join("record.json");
        let env = [
            ("TALAB_DATABASE_URL", url.as_str()),
            ("RUST_LOG", "error"),
            ("TALAB_CLAUDE_CODE_BIN", claude.to_str().unwrap()),
            ("PYTHONPATH", sdk.to_str().unwrap()),
            ("FAKE_CLAUDE_RECORD", record.to_str().unwrap()),
        ];
        let rejects = "Last week's refreshes rejected 3 BTC bars with a close of 0 (2026-11-24)";
        for text in [rejects, "The Gemini quota was raised to 500 requests a day"] {
            ok(&talab(home.path(), &["memory", "add", text], &env));
        }
        let prompt = "Look at last week's refreshes and explain the rejected bars";
        let run = |extra: &[(&'static str, &'static str)]| {
            let env: Vec<(&str, &str)> = env.iter().chain(extra).copied().collect();
            let args = ["run", prompt, "--platform", "claude_code", "--strict", "--json"];
            let out = json_ok(&talab(home.path(), &args, &env));
            let seen: Value = serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
            (out, seen)
        };

        let (out, seen) = run(&[]);
        assert_eq!(out["output"], rejects, "{label}: {out}");
        assert_eq!(out["platform"], "claude_code", "{label}: {out}");
        assert_eq!(seen["config_mode"], "0o600", "{label}");
        let server = &seen["config"]["mcpServers"]["talab"];
        // The running program's own path (`current_exe`: resolved, whatever `..` the build gave).
        let binary = std::fs::canonicalize(env!("CARGO_BIN_EXE_talab")).unwrap();
        assert_eq!(server["command"], binary.to_str().unwrap(), "{label}");
        assert_eq!(server["args"], serde_json::json!(["mcp"]), "{label}");
        assert_eq!(server["env"]["TALAB_DATABASE_URL"], url, "{label}");
        let allowed: Vec<&str> = seen["allowed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        for read in [
            "search_memories",
            "get_memory",
            "list_tasks",
            "costs",
            "get_ema",
            "ask",
        ] {
            assert!(
                allowed.contains(&format!("mcp__talab__{read}").as_str()),
                "{label}: {allowed:?}"
            );
        }
        for write in [
            "add_memory",
            "update_memory",
            "delete_memory",
            "deprecate_memory",
            "refresh_ema",
        ] {
            assert!(
                !allowed.iter().any(|a| a.ends_with(write)),
                "{label}: {allowed:?}"
            );
        }
        assert_eq!(allowed.len(), 11, "{label}: {allowed:?}");
        assert_eq!(seen["server_tools"].as_array().unwrap().len(), 16, "{label}");

        // The paid call is recorded like any other, and its answer is in the task store.
        let tasks = json_ok(&talab(home.path(), &["tasks", "list", "--json"], &env));
        assert_eq!(tasks["total"], 1, "{label}: {tasks}");

        if i == 0 {
            let (_, seen) = run(&[("TALAB_CLAUDE_CODE_TOOLS", "all")]);
            assert_eq!(seen["allowed"].as_array().unwrap().len(), 16, "{seen}");
            let (out, seen) = run(&[("TALAB_CLAUDE_CODE_TOOLS", "none")]);
            assert!(seen.get("config").is_none(), "{seen}");
            assert!(!seen["args"].to_string().contains("--mcp-config"), "{seen}");
            assert_eq!(out["output"], "no talab tools were given");
            let bad = talab(
                home.path(),
                &["run", prompt, "--platform", "claude_code"],
                &[("TALAB_CLAUDE_CODE_TOOLS", "some")],
            );
            assert_eq!(bad.status.code(), Some(2));
            let stderr = String::from_utf8_lossy(&bad.stderr);
            assert!(stderr.contains("one of read, all, none"), "{stderr}");
        }
    }
}

/// A free loopback port (bound, then released for the server).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `talab mcp --http` with a token: a client sending it works; one without it is refused (401);
/// beyond loopback, no token means no server.
#[tokio::test]
async fn over_http_the_token_is_required_and_checked() {
    let t = talab_db::testing::sqlite().await;
    let home = tempfile::tempdir().unwrap();
    let url = t.url();
    let token = "test-token-8f2c1d";
    let env = [
        ("TALAB_DATABASE_URL", url.as_str()),
        ("RUST_LOG", "error"),
        ("TALAB_MCP_TOKEN", token),
    ];
    let refused = talab(home.path(), &["mcp", "--http", "0.0.0.0:0"], &env[..2]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "{}",
        crate::util::text(&refused.stderr)
    );
    assert!(crate::util::text(&refused.stderr).contains("TALAB_MCP_TOKEN"));

    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let log = home.path().join("server.log");
    let mut server = crate::util::command(home.path(), &["mcp", "--http", addr.as_str()], &env)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(std::time::Instant::now() < deadline, "the server did not listen");
        assert!(server.try_wait().unwrap().is_none(), "the server exited");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let endpoint = format!("http://{addr}/mcp");
    let with = report(client(home.path(), &url, &["http", endpoint.as_str(), token]));
    let without = report(client(home.path(), &url, &["http", endpoint.as_str()]));
    let wrong = report(client(
        home.path(),
        &url,
        &["http", endpoint.as_str(), "test-token-8f2c1e"],
    ));
    let statuses: Vec<String> = [None, Some("test-token-8f2c1e"), Some(token)]
        .into_iter()
        .map(|bearer| status_of_post(&addr, bearer))
        .collect();
    server.kill().unwrap();
    server.wait().unwrap();
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    let tail: String = log
        .lines()
        .filter(|l| l.contains("ERROR") || l.contains("WARN"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(with["server"], "talab", "{with}\nserver warnings:\n{tail}");
    assert_eq!(with["add"]["is_error"], false, "{with}");
    assert_eq!(
        with["search"]["structured"]["memories"][0]["content"],
        "added over HTTP for the lab"
    );
    for refused in [&without, &wrong] {
        assert!(refused["refused"].is_string(), "{refused}");
        assert!(refused.get("add").is_none(), "{refused}");
    }
    // What the SDK saw as an error is the server's 401; with the token a request gets past it.
    assert_eq!(statuses[0], "401", "no token");
    assert_eq!(statuses[1], "401", "a wrong token");
    assert_ne!(statuses[2], "401", "the token");
}

/// The HTTP status of an MCP initialize request posted to `addr`, with `bearer` if given.
fn status_of_post(addr: &str, bearer: Option<&str>) -> String {
    use std::io::{Read, Write};
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#;
    let auth = bearer.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\n{auth}Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    String::from_utf8_lossy(&head[9..12]).into_owned()
}
