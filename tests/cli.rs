//! The `talab` binary as a user runs it: help, status, config, exit codes and error lines.

use crate::util::{talab, text};

#[test]
fn help_lists_every_command_the_specs_name() {
    let home = tempfile::tempdir().unwrap();
    let out = talab(home.path(), &["--help"], &[]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for cmd in [
        "refresh-ema",
        "ema",
        "ingest",
        "ask",
        "demo",
        "memory",
        "run",
        "batch",
        "status",
        "quota",
        "costs",
        "config",
    ] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{cmd} "))),
            "{cmd} missing:\n{help}"
        );
    }
}

#[test]
fn refresh_ema_without_data_is_one_clear_line_and_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let out = talab(
        home.path(),
        &["refresh-ema", "--symbols", "BTC,ETH", "--no-fetch"],
        &[("RUST_LOG", "error")],
    );
    // BTC is a known asset (dim_assets) without prices: the work cannot be done, exit 1.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("BTC") && err.contains("ingest"), "{err}");
    assert!(out.stdout.is_empty());
    // Without --no-fetch and with no exchange reachable: one line, exit 1, nothing stored.
    let offline = [
        ("TALAB_BINANCE_BASE_URL", "http://127.0.0.1:9"),
        ("TALAB_COINBASE_BASE_URL", "http://127.0.0.1:9"),
        ("RUST_LOG", "error"),
    ];
    let out = talab(home.path(), &["refresh-ema", "--symbols", "BTC"], &offline);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("no prices for BTC"), "{err}");
    let ask = talab(
        home.path(),
        &["ask", "what EMAs ran today", "--json"],
        &[("RUST_LOG", "error")],
    );
    assert_eq!(ask.status.code(), Some(0), "{}", text(&ask.stderr));
    let v: serde_json::Value = serde_json::from_slice(&ask.stdout).unwrap();
    assert_eq!(
        v["runs"].as_array().map(Vec::len),
        Some(0),
        "no run was stored: {v}"
    );
    assert!(v["answer"].as_str().unwrap().starts_with("Nothing found"), "{v}");
}

#[test]
fn status_with_nothing_configured_lists_every_platform_with_its_reason() {
    let home = tempfile::tempdir().unwrap();
    let out = talab(home.path(), &["status", "--json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let platforms = v["platforms"].as_object().unwrap();
    assert_eq!(platforms.len(), 5, "{v}");
    for (name, needle) in [
        ("claude", "ANTHROPIC_API_KEY"),
        ("chatgpt", "OPENAI_API_KEY"),
        ("gemini", "GEMINI_API_KEY"),
        ("claude_code", "claude"),
    ] {
        assert_eq!(platforms[name]["configured"], false, "{name}: {v}");
        let msg = platforms[name]["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{name}: {msg}");
    }
    assert_eq!(v["database"]["ok"], true, "{v}");
    assert!(
        home.path().join("talab.db").exists(),
        "the default SQLite file is created under TALAB_HOME"
    );

    let out = talab(home.path(), &["status"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let table = text(&out.stdout);
    for name in ["claude", "claude_code", "chatgpt", "gemini", "local"] {
        assert!(table.contains(name), "{table}");
    }
    assert!(table.contains("schema up to date"), "{table}");
}

#[test]
fn keys_configure_platforms_and_never_show() {
    let home = tempfile::tempdir().unwrap();
    let key = "sk-ant-api03-SECRETSECRETSECRET";
    let env = [
        ("ANTHROPIC_API_KEY", key),
        ("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"),
        // Every log line, so a key in any of them would show.
        ("RUST_LOG", "trace"),
    ];
    let out = talab(home.path(), &["status", "--json"], &env);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["platforms"]["claude"]["configured"], true, "{v}");
    assert_eq!(
        v["platforms"]["chatgpt"]["configured"], true,
        "a local OpenAI-compatible server needs no key: {v}"
    );
    for args in [
        &["status"][..],
        &["config", "show"],
        &["config", "show", "--json"],
        &["status", "-vvv"],
    ] {
        let out = talab(home.path(), args, &env);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains("SECRETSECRET"), "{args:?} leaked the key:\n{all}");
    }
}

#[test]
fn config_show_says_where_each_value_came_from() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("talab.toml"),
        "[platforms.gemini]\nmodel = \"gemini-2.5-flash\"\n",
    )
    .unwrap();
    let out = talab(
        home.path(),
        &["config", "show", "--json"],
        &[("CMC_API_KEY", "cmc-123456")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["settings"];
    assert_eq!(s["platforms.gemini.model"]["value"], "gemini-2.5-flash");
    assert_eq!(s["platforms.gemini.model"]["origin"], "file");
    assert_eq!(s["market_data.cmc_api_key"]["origin"], "env");
    assert_eq!(s["market_data.cmc_api_key"]["source"], "CMC_API_KEY");
    assert_ne!(s["market_data.cmc_api_key"]["value"], "cmc-123456");
    assert_eq!(s["database_url"]["origin"], "default");
}

#[test]
fn a_broken_config_file_is_one_line_with_file_and_line_and_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("talab.toml");
    std::fs::write(&file, "# talab settings\ndatabase_url = \"sqlite:///tmp/x.db\n").unwrap();
    let out = talab(home.path(), &["status"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.starts_with(&format!("error: {}:2:", file.display())), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn an_unreachable_postgres_is_one_clear_line_and_exit_1() {
    let home = tempfile::tempdir().unwrap();
    let out = talab(
        home.path(),
        &[
            "status",
            "--database-url",
            "postgres://lab:pw-secret@127.0.0.1:1/talab",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let last = err.trim_end().lines().last().unwrap_or_default();
    assert_eq!(
        last,
        "error: cannot reach PostgreSQL at 127.0.0.1:1: connection refused (is the server running?)"
    );
    assert!(!err.contains("pw-secret"), "{err}");
    assert!(text(&out.stdout).contains("NOT usable"));
}

#[test]
fn an_unsupported_database_url_is_bad_input() {
    let home = tempfile::tempdir().unwrap();
    let out = talab(
        home.path(),
        &["status", "--database-url", "mysql://root@localhost/x"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("mysql:// is not supported"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn status_works_on_postgres_too() {
    let Some(t) = talab_db::testing::postgres().await else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let url = t.url();
    let out = talab(home.path(), &["status"], &[("TALAB_DATABASE_URL", url.as_str())]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("PostgreSQL, schema up to date"),
        "{}",
        text(&out.stdout)
    );
    // Every crate created its tables in this schema.
    let tables: Vec<String> = talab_db::on_pool!(&t.db, pool => talab_db::sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1"
    ).fetch_all(pool).await)
    .unwrap();
    for table in [
        "dim_assets",
        "memories",
        "memory_events",
        "talab_migrations",
        "tasks",
    ] {
        assert!(
            tables.iter().any(|t| t == table),
            "{table} missing from {tables:?}"
        );
    }
}

/// With no platform configured, each one's own reason is named: built from data, not edited text
/// (it once read "claude_code: ANTHROPIC_API_KEY is not set_code").
#[test]
fn no_platform_names_each_ones_reason() {
    let home = tempfile::tempdir().unwrap();
    let out = talab(
        home.path(),
        &["run", "Explain EMAs", "--type", "code_generation"],
        &[],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("claude: ANTHROPIC_API_KEY is not set"), "{err}");
    assert!(err.contains("claude_code: "), "{err}");
    assert!(!err.contains("set_code") && !err.contains("no adapter"), "{err}");
    assert!(err.contains("talab status"), "{err}");
}

/// Logs into a pipe carry no colour codes (and NO_COLOR is honoured on a terminal: unit test).
#[test]
fn logs_into_a_pipe_are_plain_text() {
    let home = tempfile::tempdir().unwrap();
    let out = talab(home.path(), &["status"], &[("RUST_LOG", "trace")]);
    let err = text(&out.stderr);
    assert!(err.lines().count() > 3, "trace logs were written: {err}");
    assert!(!err.contains('\u{1b}'), "an escape code in a pipe: {err:?}");
}

/// `demo --json` prints one object (no narrative) with both refreshes and the answer.
#[test]
fn demo_as_json() {
    let home = tempfile::tempdir().unwrap();
    let out = talab(home.path(), &["demo", "--days", "60", "--json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
    assert_eq!(v["synthetic"], true);
    assert_eq!(v["symbols"], serde_json::json!(["BTC", "ETH"]));
    assert_eq!(v["refreshes"].as_array().unwrap().len(), 2);
    assert!(
        v["refreshes"][1]["context_ids"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "{v}"
    );
    assert_eq!(v["answer"]["question"], "what EMAs ran today");
}

/// The commands a `--help` lists (the lines under "Commands:", `help` left out).
fn commands_in(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   ")) // a wrapped description, not a command
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(String::from)
        .collect()
}

/// README: "each [command] has `--json`" — every leaf command, read from the help itself (but
/// `mcp`, which speaks JSON-RPC on stdout whatever it is asked).
#[test]
fn every_command_takes_json() {
    let home = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| text(&talab(home.path(), args, &[]).stdout);
    let top = commands_in(&help(&["--help"]));
    assert!(top.len() >= 15, "{top:?}");
    let mut leaves = Vec::new();
    for c in top.iter().filter(|c| *c != "mcp") {
        let subs = commands_in(&help(&[c, "--help"]));
        if subs.is_empty() {
            leaves.push(vec![c.clone()]);
        }
        leaves.extend(subs.into_iter().map(|s| vec![c.clone(), s]));
    }
    for leaf in &leaves {
        let mut args: Vec<&str> = leaf.iter().map(String::as_str).collect();
        args.push("--help");
        assert!(help(&args).contains("--json"), "{leaf:?} has no --json");
    }
    let v: serde_json::Value =
        serde_json::from_slice(&talab(home.path(), &["config", "path", "--json"], &[]).stdout).unwrap();
    assert_eq!(v["exists"], false);
    assert!(v["path"].as_str().unwrap().ends_with("talab.toml"), "{v}");
}

/// Bad input is exit 2 with what is wrong, the same rule everywhere (issue 15, item 11).
#[test]
fn bad_input_is_exit_2_everywhere() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let batch = h.join("tasks.jsonl");
    std::fs::write(
        &batch,
        "{\"type\":\"research\",\"prompt\":\"fine\"}\n{\"type\":\"research\",\"prompt\":\" \"}\n",
    )
    .unwrap();
    let batch = batch.to_str().unwrap();
    let nul_batch = h.join("nul.jsonl");
    std::fs::write(&nul_batch, "{\"type\":\"research\",\"prompt\":\"a\\u0000b\"}\n").unwrap();
    let nul_batch = nul_batch.to_str().unwrap();
    let cases: [(&[&str], &str); 7] = [
        (
            &["batch", nul_batch],
            "nul.jsonl:1: not a task: the prompt holds a NUL character",
        ),
        (&["run", ""], "the prompt is empty"),
        (
            &["batch", batch],
            "tasks.jsonl:2: not a task: the prompt is empty",
        ),
        (&["memory", "list", "--limit", "0"], "--limit"),
        (&["ema", "BTC", "--periods", "0"], "--periods: 0 is not a period"),
        (
            &["ema", "BTC", "--from", "2021-01-01", "--to", "2020-01-01"],
            "--from 2021-01-01 is after --to 2020-01-01",
        ),
        (
            &["memory", "search", "x", "--threshold", "2"],
            "each embedder's own default",
        ),
    ];
    for (args, needle) in cases {
        let out = talab(h, args, &[]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("0.7"), "{args:?}: {err}");
    }
}

/// A price file that cannot be read fails every `run`; `status` says so rather than all is well.
#[test]
fn status_names_an_unreadable_price_file() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("talab.toml"),
        "[pricing]\nprice_file = \"/nonexistent/talab/prices.json\"\n",
    )
    .unwrap();
    let out = talab(home.path(), &["status"], &[]);
    assert_ne!(out.status.code(), Some(0));
    let shown = text(&out.stdout);
    assert!(shown.contains("pricing: NOT usable"), "{shown}");
    assert!(
        text(&out.stderr).contains("/nonexistent/talab/prices.json"),
        "{}",
        text(&out.stderr)
    );
}

/// Flags with a fixed set of values are checked by the parser: a wrong value is exit 2 with the
/// values it takes, before anything is opened; any case is accepted.
#[test]
fn fixed_choice_flags_list_their_values_and_ignore_case() {
    let home = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["ema", "BTC", "--format", "xml"], "table, csv, json"),
        (
            &["chart", "BTC", "-o", "x.png", "--style", "bars"],
            "auto, candles, line",
        ),
        (
            &["chart", "BTC", "-o", "x.png", "--scale", "ln"],
            "auto, linear, log",
        ),
        (
            &["memory", "search", "x", "--mode", "fuzzy"],
            "hybrid, vector, lexical",
        ),
        (&["ingest", "csv", "x.csv", "--format", "excel"], "cmc, ohlcv"),
    ];
    for (args, values) in cases {
        let out = talab(home.path(), args, &[]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("[possible values: {values}]")),
            "{args:?}: {err}"
        );
    }
    assert!(!home.path().join("talab.db").exists(), "nothing was opened");
    let out = talab(
        home.path(),
        &["memory", "search", "x", "--mode", "LEXICAL", "--json"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}
