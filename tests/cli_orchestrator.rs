//! `talab run|batch|tasks|quota|costs` as a user runs them, against wiremock servers that answer
//! with the providers' real response shapes: answers, prices, stored tasks, quota from the config
//! file, errors and exit codes, and API keys that never show anywhere.

use crate::util;

use serde_json::Value;
use util::{json_ok, talab, talab_async, text};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-ant-api03-SECRETSECRETSECRET-4f9a";
pub(crate) const ANSWER: &str = "EMA-20 moved above EMA-50: short-term momentum turned up.";

/// The Messages API's answer: 1000 input and 200 output tokens of claude-sonnet-4-5
/// ($3 and $15 per million: $0.006).
pub(crate) fn anthropic_body(text: &str) -> String {
    serde_json::json!({
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 1000, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                  "output_tokens": 200, "service_tier": "standard"}
    })
    .to_string()
}

pub(crate) fn json_reply(status: u16, body: String) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.into_bytes(), "application/json")
}

pub(crate) async fn anthropic(answer: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .respond_with(json_reply(200, anthropic_body(answer)))
        .mount(&server)
        .await;
    server
}

pub(crate) fn claude_env(server: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("ANTHROPIC_API_KEY", KEY.to_string()),
        ("ANTHROPIC_BASE_URL", server.uri()),
    ]
}

pub(crate) fn pairs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

pub(crate) async fn calls(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

/// Runs, lists, shows and costs one task; `url` picks the database (None: SQLite under home).
async fn run_list_show_and_cost(url: Option<&str>) {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let server = anthropic(ANSWER).await;
    let mut env = claude_env(&server);
    if let Some(url) = url {
        env.push(("TALAB_DATABASE_URL", url.to_string()));
    }
    let env = pairs(&env);

    let out = talab_async(
        h,
        &[
            "run",
            "Summarise the BTC EMA crossover",
            "--type",
            "code_generation",
        ],
        &env,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.starts_with(ANSWER), "{shown}");
    assert!(
        shown.contains("claude (claude-sonnet-4-5-20250929) · 1200 tokens · $0.006000"),
        "{shown}"
    );
    assert!(shown.contains("· task "), "{shown}");

    let v = json_ok(
        &talab_async(
            h,
            &["run", "Explain the EMA-50", "--type", "code_generation", "--json"],
            &env,
        )
        .await,
    );
    assert_eq!(
        (v["success"].as_bool(), v["platform"].as_str()),
        (Some(true), Some("claude"))
    );
    assert_eq!(v["output"], ANSWER);
    assert!((v["cost"].as_f64().unwrap() - 0.006).abs() < 1e-12, "{v}");
    let id = v["metadata"]["task_id"].as_str().unwrap().to_string();
    assert_eq!(calls(&server).await, 2);

    let list = json_ok(&talab_async(h, &["tasks", "list", "--json"], &env).await);
    assert_eq!(list["total"], 2, "{list}");
    assert_eq!(list["tasks"][0]["id"], id.as_str(), "newest first: {list}");
    assert_eq!(
        list["tasks"][1]["result"]["task"]["prompt"],
        "Summarise the BTC EMA crossover"
    );

    let t = json_ok(&talab_async(h, &["tasks", "show", &id, "--json"], &env).await);
    assert_eq!(t["result"]["output"], ANSWER);
    assert_eq!(t["correlation_id"], v["metadata"]["correlation_id"]);
    assert_eq!(t["chain_id"], v["metadata"]["chain_id"]);
    assert_eq!(
        t["result"]["metadata"]["routing"]["candidates"][0], "claude",
        "{t}"
    );
    assert_eq!(
        t["result"]["metadata"]["attempts"].as_array().unwrap().len(),
        1,
        "{t}"
    );
    let people = text(&talab_async(h, &["tasks", "show", &id], &env).await.stdout);
    for needle in [
        "correlation id:",
        "chain id:",
        "routing:        claude",
        "cost:           $0.006000",
        ANSWER,
    ] {
        assert!(people.contains(needle), "{needle} missing:\n{people}");
    }

    let costs = json_ok(&talab_async(h, &["costs", "--json"], &env).await);
    assert_eq!(costs["rows"][0]["key"], "claude", "{costs}");
    assert_eq!(costs["total"]["calls"], 2, "{costs}");
    assert_eq!(costs["total"]["usage"]["output"], 400, "{costs}");
    assert!(
        (costs["total"]["cost_usd"].as_f64().unwrap() - 0.012).abs() < 1e-9,
        "{costs}"
    );
    let by_model = json_ok(&talab_async(h, &["costs", "--by", "model", "--json"], &env).await);
    assert_eq!(by_model["rows"][0]["key"], "claude-sonnet-4-5-20250929");
    let future = json_ok(&talab_async(h, &["costs", "--since", "2999-01-01", "--json"], &env).await);
    assert_eq!(future["total"]["calls"], 0, "{future}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_prints_the_answer_and_cost_and_stores_the_task() {
    run_list_show_and_cost(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_list_show_and_cost_on_postgres_too() {
    let Some(t) = talab_db::testing::postgres().await else {
        return;
    };
    run_list_show_and_cost(Some(&t.url())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_key_is_one_clear_line_and_exit_1_and_the_failure_is_stored() {
    let home = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    let body = serde_json::json!({"type": "error", "error": {"type": "authentication_error",
                                  "message": "invalid x-api-key"}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"});
    Mock::given(method("POST"))
        .respond_with(json_reply(401, body.to_string()))
        .mount(&server)
        .await;
    let env = claude_env(&server);
    let out = talab_async(
        home.path(),
        &["run", "Plan the refactor", "--type", "planning"],
        &pairs(&env),
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    let last = err.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: claude: authentication failed") && last.contains("invalid x-api-key"),
        "{err}"
    );
    assert!(last.contains("[stored as task "), "{last}");
    assert_eq!(calls(&server).await, 1, "a 401 is never retried");

    let failed = json_ok(
        &talab_async(
            home.path(),
            &["tasks", "list", "--status", "failed", "--json"],
            &pairs(&env),
        )
        .await,
    );
    assert_eq!(failed["tasks"].as_array().unwrap().len(), 1, "{failed}");
    let ok = json_ok(
        &talab_async(
            home.path(),
            &["tasks", "list", "--status", "ok", "--json"],
            &pairs(&env),
        )
        .await,
    );
    assert!(ok["tasks"].as_array().unwrap().is_empty(), "{ok}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_configured_is_exit_1_and_bad_names_are_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let out = talab_async(home.path(), &["run", "Compare EMA spans"], &[]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("no platform can run this research task")
            && err.contains("OPENAI_API_KEY is not set")
            && err.contains("talab status"),
        "{err}"
    );
    for args in [
        &["run", "x", "--type", "poetry"][..],
        &["run", "x", "--platform", "gpt"],
        &["run", "x", "--strict"],
        &["tasks", "show", "no-such-task"],
        &["costs", "--by", "week"],
    ] {
        let out = talab_async(home.path(), args, &[]).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
    }
    let out = talab_async(home.path(), &["run", "x", "--type", "poetry"], &[]).await;
    assert!(
        text(&out.stderr).contains("code_generation"),
        "the valid types are listed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_returns_results_in_input_order_with_a_summary() {
    let home = tempfile::tempdir().unwrap();
    let server = MockServer::start().await;
    for n in ["one", "two", "three"] {
        Mock::given(method("POST"))
            .and(path("/v1/messages"))
            .and(body_string_contains(format!("task {n}")))
            .respond_with(json_reply(200, anthropic_body(&format!("answer {n}"))))
            .mount(&server)
            .await;
    }
    // Priorities reverse the start order; the results must still come back in file order.
    let file = home.path().join("batch.jsonl");
    std::fs::write(
        &file,
        "# three tasks\n\
         {\"type\":\"code_generation\",\"prompt\":\"task one\",\"priority\":9}\n\
         {\"type\":\"planning\",\"prompt\":\"task two\",\"priority\":5}\n\n\
         {\"type\":\"testing\",\"prompt\":\"task three\",\"priority\":0}\n",
    )
    .unwrap();
    let env = claude_env(&server);
    let file_arg = file.to_str().unwrap();
    let v = json_ok(
        &talab_async(
            home.path(),
            &["batch", file_arg, "--parallel", "2", "--json"],
            &pairs(&env),
        )
        .await,
    );
    let outputs: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["output"].as_str().unwrap())
        .collect();
    assert_eq!(outputs, ["answer one", "answer two", "answer three"]);
    assert_eq!(v["summary"]["claude"]["ok"], 3, "{v}");
    assert_eq!(v["summary"]["claude"]["tokens"], 3600, "{v}");
    assert_eq!((v["ok"].as_u64(), v["failed"].as_u64()), (Some(3), Some(0)));
    assert_eq!(calls(&server).await, 3);

    let out = talab_async(home.path(), &["batch", file_arg], &pairs(&env)).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let tables = text(&out.stdout);
    assert!(
        tables.contains("answer two") && tables.contains("total"),
        "{tables}"
    );

    std::fs::write(
        &file,
        "{\"type\":\"research\",\"prompt\":\"a\"}\n{\"type\":\"poetry\",\"prompt\":\"b\"}\n",
    )
    .unwrap();
    let out = talab_async(home.path(), &["batch", file_arg], &pairs(&env)).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(&format!("{file_arg}:2: ")),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_quota_from_the_config_file_sends_the_third_task_elsewhere() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("talab.toml"),
        "[quota.claude]\nrequests_per_day = 2\nreset_tz = \"Europe/Paris\"\n",
    )
    .unwrap();
    let claude = anthropic(ANSWER).await;
    let openai = MockServer::start().await;
    let gpt_body = serde_json::json!({
        "id": "chatcmpl-123", "object": "chat.completion", "created": 1728000000, "model": "llama3.1:8b",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "from the local server"},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}
    });
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(json_reply(200, gpt_body.to_string()))
        .mount(&openai)
        .await;
    let mut env = claude_env(&claude);
    env.push(("OPENAI_BASE_URL", format!("{}/v1", openai.uri())));
    let env = pairs(&env);
    let h = home.path();

    let mut platforms = Vec::new();
    for i in 0..3 {
        let prompt = format!("Write EMA code {i}");
        let v =
            json_ok(&talab_async(h, &["run", &prompt, "--type", "code_generation", "--json"], &env).await);
        platforms.push(v["platform"].as_str().unwrap().to_string());
    }
    assert_eq!(platforms, ["claude", "claude", "chatgpt"]);
    assert_eq!((calls(&claude).await, calls(&openai).await), (2, 1));

    let q = json_ok(&talab_async(h, &["quota", "--json"], &env).await);
    let line = &q["quotas"][0];
    assert_eq!(
        (
            &line["platform"],
            &line["unit"],
            &line["used"],
            &line["limit"],
            &line["left"]
        ),
        (
            &Value::from("claude"),
            &Value::from("requests"),
            &Value::from(2),
            &Value::from(2),
            &Value::from(0)
        ),
        "{q}"
    );
    assert_eq!(line["tz"], "Europe/Paris");
    let thresholds: Vec<i64> = q["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["threshold"].as_i64().unwrap())
        .collect();
    assert!(thresholds.contains(&50) && thresholds.contains(&90), "{q}");
    let people = text(&talab_async(h, &["quota"], &env).await.stdout);
    assert!(
        people.contains("2 requests (100 %)") && people.contains("passed 90 %"),
        "{people}"
    );

    // The third task says why claude was skipped.
    let list = json_ok(&talab_async(h, &["tasks", "list", "--limit", "1", "--json"], &env).await);
    let skipped = list["tasks"][0]["result"]["metadata"]["routing"]["skipped"].to_string();
    assert!(
        skipped.contains("claude") && skipped.contains("quota"),
        "{skipped}"
    );

    // A platform forced past its quota fails with the reason, exit 1.
    let out = talab_async(
        h,
        &[
            "run",
            "one more",
            "--type",
            "code_generation",
            "--platform",
            "claude",
            "--strict",
        ],
        &env,
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("quota"), "{}", text(&out.stderr));
    assert_eq!(calls(&claude).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_key_shows_in_no_output_log_or_stored_row() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let good = anthropic(ANSWER).await;
    let env = claude_env(&good);
    let mut seen = String::new();
    for args in [
        &[
            "-vvv",
            "run",
            "Summarise the BTC EMA crossover",
            "--type",
            "planning",
        ][..],
        &[
            "-vvv",
            "run",
            "Summarise it as JSON",
            "--type",
            "planning",
            "--json",
        ],
        &["-vvv", "tasks", "list", "--json"],
        &["-vvv", "costs"],
        &["-vvv", "quota", "--json"],
        &["config", "show", "--json"],
    ] {
        let out = talab_async(h, args, &pairs(&env)).await;
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        seen.push_str(&text(&out.stdout));
        seen.push_str(&text(&out.stderr));
    }
    assert!(seen.contains("TRACE") || seen.contains("DEBUG"), "-vvv logs");

    // A key the provider refuses: its error is shown and stored, the key is not.
    let refusing = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_reply(
            401,
            serde_json::json!({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})
                .to_string(),
        ))
        .mount(&refusing)
        .await;
    let out = talab_async(
        h,
        &["-vvv", "run", "Plan it", "--type", "planning"],
        &pairs(&claude_env(&refusing)),
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    seen.push_str(&text(&out.stdout));
    seen.push_str(&text(&out.stderr));
    assert!(!seen.contains("SECRETSECRET"), "the key leaked:\n{seen}");

    // Every byte of the database (and its write-ahead log): no task row, ledger row or quota row holds it.
    let mut stored = Vec::new();
    for name in ["talab.db", "talab.db-wal"] {
        if let Ok(bytes) = std::fs::read(h.join(name)) {
            stored.extend(bytes);
        }
    }
    assert!(stored.len() > 4096, "the database was written");
    assert!(
        !stored.windows(12).any(|w| w == b"SECRETSECRET"),
        "the key is stored in the database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_platform_runs_memory_search_offline_and_status_lists_it() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let out = talab_async(
        h,
        &[
            "memory",
            "add",
            "Coinbase candles come back as time, low, high, open, close, volume",
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = json_ok(
        &talab_async(
            h,
            &[
                "run",
                "Coinbase candle column order",
                "--platform",
                "local",
                "--tool",
                "memory_search",
                "--json",
            ],
            &[],
        )
        .await,
    );
    assert_eq!(v["platform"], "local", "{v}");
    assert!(v["output"].as_str().unwrap().contains("low, high, open"), "{v}");
    assert_eq!(v["cost"], 0.0);

    let out = talab_async(
        h,
        &["run", "x", "--platform", "local", "--tool", "no_such_tool"],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("registered tools: ema_refresh, memory_search"),
        "{}",
        text(&out.stderr)
    );

    let status = text(&talab_async(h, &["status"], &[]).await.stdout);
    assert!(
        status.contains("local tools registered: ema_refresh, memory_search"),
        "{status}"
    );
}

#[tokio::test]
async fn ask_sends_the_remembered_refresh_to_claude_and_shows_the_cost() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let remembered = "EMA refresh completed for BTC on 2026-11-27: 13 timeframes (1D…12M_CAL) × 7 periods (9…200), 12,345 rows";
    let out = talab_async(
        h,
        &["memory", "add", remembered, "--meta", "task_type=ema_refresh"],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let server = anthropic(ANSWER).await;
    let env = claude_env(&server);
    let out = talab_async(h, &["ask", "what EMAs ran today"], &pairs(&env)).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.starts_with(ANSWER), "{shown}");
    assert!(
        shown.contains("answered by claude") && shown.contains("1200 tokens, $0.006000"),
        "{shown}"
    );
    // The memory went to the model as context, in the request body.
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let body = String::from_utf8_lossy(&requests[0].body);
    assert!(
        body.contains("EMA refresh completed for BTC") && body.contains("what EMAs ran today"),
        "{body}"
    );
}

#[test]
fn quota_with_nothing_configured_says_how_to_configure_it() {
    let home = tempfile::tempdir().unwrap();
    let out = talab(home.path(), &["quota"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("no quotas configured") && shown.contains("[quota.<platform>]"),
        "{shown}"
    );
}
