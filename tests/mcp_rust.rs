//! `talab mcp` driven by a client written with the official Rust SDK (`rmcp`, the one the server
//! uses), as a child process over stdio: the tool list and its annotations, scopes kept apart and
//! shared with the CLI, the configured answer cap held on every page, and bad arguments answered
//! without ending the session.

use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService};
use serde_json::{Value, json};

use crate::util::{json_ok, ok, talab};

type Client = RunningService<RoleClient, ()>;

/// Starts `talab mcp` on `home`'s store with `env`, and connects to it.
async fn connect(home: &std::path::Path, env: &[(&str, &str)]) -> (Client, tokio::process::Child) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_talab"))
        .arg("mcp")
        .env_clear()
        .env("TALAB_HOME", home)
        .env("TALAB_TIMEZONE", "UTC")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start talab mcp");
    let io = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let client = ().serve(io).await.expect("initialise");
    (client, child)
}

/// A call's structured answer, the length of its JSON text, and whether it is a tool error.
async fn call(client: &Client, tool: &'static str, arguments: Value) -> (Value, usize, bool) {
    let Value::Object(arguments) = arguments else {
        panic!("arguments are an object")
    };
    let result: CallToolResult = client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(arguments))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    let text: String = result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect();
    let value = result
        .structured_content
        .unwrap_or_else(|| Value::String(text.clone()));
    (value, text.len(), result.is_error == Some(true))
}

#[tokio::test]
async fn a_rust_sdk_client_sees_scopes_the_answer_cap_and_tool_errors() {
    for t in talab_db::testing::backends().await {
        let label = t.label();
        let home = tempfile::tempdir().unwrap();
        let url = t.url();
        let cap = "4000";
        let env = [
            ("TALAB_DATABASE_URL", url.as_str()),
            ("RUST_LOG", "error"),
            ("TALAB_MCP_MAX_ANSWER_CHARS", cap),
        ];
        let (client, _child) = connect(home.path(), &env).await;

        let tools = client.list_all_tools().await.unwrap();
        assert_eq!(tools.len(), 16, "{label}");
        let read_only = |name: &str| {
            let tool = tools.iter().find(|t| t.name == name).unwrap();
            tool.annotations.as_ref().and_then(|a| a.read_only_hint)
        };
        assert_eq!(read_only("search_memories"), Some(true), "{label}");
        assert_eq!(read_only("delete_memory"), Some(false), "{label}");
        assert!(
            tools
                .iter()
                .find(|t| t.name == "add_memory")
                .unwrap()
                .input_schema
                .contains_key("properties"),
            "{label}"
        );

        // Scopes: the same text in two scopes is two memories; each search sees its own.
        let text = "Desk A rebalanced the ETH basket after the EMA-50 crossover";
        let (a, _, _) = call(&client, "add_memory", json!({"content": text, "scope": "desk-a"})).await;
        let (d, _, _) = call(&client, "add_memory", json!({"content": text})).await;
        assert_eq!(
            (a["duplicate"].clone(), d["duplicate"].clone()),
            (json!(false), json!(false))
        );
        assert_ne!(a["id"], d["id"], "{label}: one memory per scope");
        let (again, _, _) = call(&client, "add_memory", json!({"content": text, "scope": "desk-a"})).await;
        assert_eq!(
            (again["id"].clone(), again["duplicate"].clone()),
            (a["id"].clone(), json!(true))
        );
        let search = |scope: Option<&str>| {
            let mut args = json!({"query": "ETH basket rebalanced", "mode": "lexical"});
            if let Some(scope) = scope {
                args["scope"] = json!(scope);
            }
            args
        };
        let (in_a, _, _) = call(&client, "search_memories", search(Some("desk-a"))).await;
        let (in_default, _, _) = call(&client, "search_memories", search(None)).await;
        let ids = |v: &Value| -> Vec<Value> {
            v["memories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].clone())
                .collect()
        };
        assert_eq!(ids(&in_a), [a["id"].clone()], "{label}: {in_a}");
        assert_eq!(ids(&in_default), [d["id"].clone()], "{label}: {in_default}");
        // The CLI reads the same scopes.
        let cli = json_ok(&talab(
            home.path(),
            &[
                "memory",
                "search",
                "ETH basket rebalanced",
                "--mode",
                "lexical",
                "--scope",
                "desk-a",
                "--json",
            ],
            &env,
        ));
        assert_eq!(cli["hits"][0]["id"], a["id"], "{label}: {cli}");
        ok(&talab(
            home.path(),
            &["memory", "add", "from the CLI", "--scope", "desk-b"],
            &env,
        ));
        let (in_b, _, _) = call(
            &client,
            "search_memories",
            json!({"query": "CLI", "mode": "lexical", "scope": "desk-b"}),
        )
        .await;
        assert_eq!(in_b["memories"][0]["content"], "from the CLI", "{label}: {in_b}");
        let (blank, _, error) = call(&client, "add_memory", json!({"content": "x", "scope": "  "})).await;
        assert!(error, "{label}: {blank}");
        assert!(
            blank.as_str().unwrap().contains("invalid scope"),
            "{label}: {blank}"
        );

        // The configured cap holds on every page, and the pages together hold every hit once.
        for i in 0..12 {
            let long = format!("cap check {i}: {}", "the quick brown fox ".repeat(45));
            call(&client, "add_memory", json!({"content": long, "tags": ["cap"]})).await;
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut args =
                json!({"query": "quick brown fox", "mode": "lexical", "tags": ["cap"], "limit": 100});
            if let Some(c) = &cursor {
                args["cursor"] = json!(c);
            }
            let (page, chars, error) = call(&client, "search_memories", args).await;
            assert!(!error, "{label}: {page}");
            assert!(chars <= 4000, "{label}: a page of {chars} characters");
            let found = ids(&page);
            assert!(!found.is_empty(), "{label}: an empty page: {page}");
            seen.extend(found);
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        let distinct: std::collections::BTreeSet<String> = seen.iter().map(|v| v.to_string()).collect();
        assert_eq!((seen.len(), distinct.len()), (12, 12), "{label}");

        // Bad arguments are answered, and the session goes on.
        let (unknown, _, error) = call(&client, "get_memory", json!({"id": "no-such-id"})).await;
        assert!(error, "{label}: {unknown}");
        let wrong_type = client
            .call_tool(
                CallToolRequestParams::new("search_memories")
                    .with_arguments(json!({"query": 5}).as_object().unwrap().clone()),
            )
            .await;
        assert!(
            wrong_type.as_ref().map_or(true, |r| r.is_error == Some(true)),
            "{label}: {wrong_type:?}"
        );
        let (still, _, error) = call(&client, "get_memory", json!({"id": a["id"]})).await;
        assert!(!error && still["content"] == text, "{label}: {still}");
        client.cancel().await.unwrap();
    }
}
