//! The red-team scenarios of issue 15 that held, kept as tests so they keep holding, on both
//! backends and with separate processes (the way users and cron jobs run talab): many processes
//! adding memories at once, SQL wildcards and quotes in filters, and a call quota shared by
//! processes that start together, an ingest and memory adds killed with SIGKILL at any moment
//! (migrations included). (Kill -9 of refreshes and concurrent refreshes are in `cli_ema`;
//! concurrent openers migrating once in talab-db's `database` tests.)

use std::collections::BTreeSet;
use std::process::Output;

use crate::cli_orchestrator::{ANSWER, anthropic, calls, claude_env, pairs};
use crate::util::{json_ok, ok, talab, talab_async, text};

/// A database-level failure a user must never see from a contended write.
fn no_lock_error(out: &Output, what: &str) {
    let err = text(&out.stderr);
    assert!(
        !err.contains("locked") && !err.contains("deadlock") && !err.contains("panicked"),
        "{what}: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_adding_memories_at_once_lose_and_duplicate_nothing() {
    const WORKERS: usize = 8;
    const EACH: usize = 25;
    for t in talab_db::testing::backends().await {
        let label = t.label();
        let home = tempfile::tempdir().unwrap();
        let url = t.url();
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (home, url) = (home.path().to_path_buf(), url.clone());
                std::thread::spawn(move || {
                    for i in 0..EACH {
                        let content = format!("worker {w} note {i}: refreshed the EMAs");
                        let meta = format!("worker={w}");
                        let args = ["memory", "add", &content, "--meta", &meta];
                        let out = talab(&home, &args, &[("TALAB_DATABASE_URL", &url)]);
                        no_lock_error(&out, &content);
                        ok(&out);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let listed = json_ok(&talab(
            home.path(),
            &["memory", "list", "--limit", "1000", "--json"],
            &[("TALAB_DATABASE_URL", &url)],
        ));
        assert_eq!(listed["total"], WORKERS * EACH, "{label}");
        let contents: BTreeSet<&str> = listed["memories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap())
            .collect();
        assert_eq!(contents.len(), WORKERS * EACH, "{label}: duplicates or losses");
    }
}

#[tokio::test]
async fn wildcards_and_quotes_in_filters_match_literally() {
    // Each value next to a decoy that a LIKE pattern or an injected quote would also match.
    let values = [
        ("50%", "5000"),
        ("a_b", "axb"),
        (r"c\d", r"c\\d"),
        ("x' OR '1'='1", "y"),
        ("%", "anything"),
    ];
    for t in talab_db::testing::backends().await {
        let label = t.label();
        let home = tempfile::tempdir().unwrap();
        let url = t.url();
        let env = [("TALAB_DATABASE_URL", url.as_str())];
        for (i, (value, decoy)) in values.iter().enumerate() {
            for (what, v) in [("value", value), ("decoy", decoy)] {
                let content = format!("filter probe {i} {what}");
                let meta = format!("k={v}");
                ok(&talab(
                    home.path(),
                    &["memory", "add", &content, "--meta", &meta, "--tag", v],
                    &env,
                ));
            }
        }
        for (i, (value, _)) in values.iter().enumerate() {
            let want = format!("filter probe {i} value");
            for flag in ["--meta", "--tag"] {
                let arg = if flag == "--meta" {
                    format!("k={value}")
                } else {
                    value.to_string()
                };
                let found = json_ok(&talab(
                    home.path(),
                    &[
                        "memory",
                        "search",
                        "filter probe",
                        "--mode",
                        "lexical",
                        flag,
                        &arg,
                        "--json",
                    ],
                    &env,
                ));
                let hits: Vec<&str> = found["hits"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["content"].as_str().unwrap())
                    .collect();
                assert_eq!(hits, [want.as_str()], "{label}: {flag} {arg}: {found}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_starting_together_share_one_call_quota() {
    const PROCESSES: usize = 6;
    const LIMIT: usize = 3;
    for t in talab_db::testing::backends().await {
        let label = t.label();
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join("talab.toml"),
            format!("[quota.claude]\nrequests_per_day = {LIMIT}\n"),
        )
        .unwrap();
        let server = anthropic(ANSWER).await;
        let mut env = claude_env(&server);
        env.push(("TALAB_DATABASE_URL", t.url()));
        let env = pairs(&env);
        let runs = (0..PROCESSES).map(|i| {
            let prompt = format!("Summarise EMA note {i}");
            let h = home.path().to_path_buf();
            let env = env.clone();
            async move {
                let args = ["run", &prompt, "--platform", "claude", "--strict", "--json"];
                talab_async(&h, &args, &env).await
            }
        });
        let outs = futures_util::future::join_all(runs).await;
        let answered = outs.iter().filter(|o| o.status.code() == Some(0)).count();
        for out in outs.iter().filter(|o| o.status.code() != Some(0)) {
            no_lock_error(out, label);
            assert_eq!(out.status.code(), Some(1), "{label}: {}", text(&out.stderr));
            assert!(
                text(&out.stderr).contains("quota"),
                "{label}: {}",
                text(&out.stderr)
            );
        }
        assert_eq!(answered, LIMIT, "{label}");
        assert_eq!(
            calls(&server).await,
            LIMIT,
            "{label}: requests that reached the provider"
        );
        let quota = json_ok(&talab_async(home.path(), &["quota", "--json"], &env).await);
        assert_eq!(quota["quotas"][0]["used"], LIMIT, "{label}: {quota}");
    }
}

/// Every stored raw row of `symbols` (none for a symbol not stored).
async fn stored(db: &talab_db::Database, symbols: &[String]) -> Vec<Vec<talab_features::RawPrice>> {
    let mut out = Vec::new();
    for s in symbols {
        out.push(talab_features::prices::load_raw(db, s).await.unwrap_or_default());
    }
    out
}

#[tokio::test]
async fn an_ingest_killed_midway_leaves_the_file_whole_or_absent_and_a_rerun_completes_it() {
    // One file is one symbol, loaded in one transaction: the kill lands half-way through a load
    // as long as an uninterrupted one.
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/coin_Bitcoin.csv");
    let symbols = vec!["BTC".to_string()];
    for t in talab_db::testing::backends().await {
        let label = t.label();
        let url = t.url();
        let env = [("TALAB_DATABASE_URL", url.as_str())];
        // The reference: an uninterrupted load into a database of its own.
        let clean = talab_db::testing::sqlite().await;
        let home = tempfile::tempdir().unwrap();
        let started = std::time::Instant::now();
        ok(&talab(
            home.path(),
            &["ingest", "csv", file],
            &[("TALAB_DATABASE_URL", &clean.url())],
        ));
        let took = started.elapsed();
        let reference = stored(&clean.db, &symbols).await;
        assert!(
            reference
                .iter()
                .all(|rows| rows.len() == reference[0].len() && !rows.is_empty())
        );

        let mut child = crate::util::command(home.path(), &["ingest", "csv", file], &env)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(took / 2).await;
        let _ = child.kill();
        child.wait().unwrap();
        for (s, rows) in symbols.iter().zip(stored(&t.db, &symbols).await) {
            let want = reference[0].len();
            assert!(
                rows.is_empty() || rows.len() == want,
                "{label}: {s} has {} of {want} rows",
                rows.len()
            );
        }
        ok(&talab(home.path(), &["ingest", "csv", file], &env));
        let after = stored(&t.db, &symbols).await;
        for (got, want) in after.iter().zip(&reference) {
            assert_eq!(got.len(), want.len(), "{label}");
            assert!(got.iter().zip(want).all(|(a, b)| a.same_data(b)), "{label}");
        }
    }
}

#[tokio::test]
async fn memory_adds_killed_at_any_moment_from_migration_on_leave_a_store_that_reruns_whole() {
    // Each kill lands at another moment of a `memory add` on a new database: while the process
    // starts, while it migrates every crate's tables, while it embeds, while it writes. Whatever
    // the moment, the next command opens the store, and rerunning every add gives each memory
    // exactly once, with one `add` event in its history.
    let delays_ms = [0u64, 5, 15, 30, 60, 120, 250];
    for postgres in [false, true] {
        for delay in delays_ms {
            // A database of its own for each kill, so the early ones land in the migrations.
            let fresh = match postgres {
                false => Some(talab_db::testing::sqlite().await),
                true => talab_db::testing::postgres().await,
            };
            let Some(fresh) = fresh else { continue };
            let label = fresh.label();
            let home = tempfile::tempdir().unwrap();
            let content = format!("killed after {delay} ms: the BTC refresh stored 91 rows");
            let content = &content;
            let url = fresh.url();
            let env = [("TALAB_DATABASE_URL", url.as_str())];
            let mut child = crate::util::command(home.path(), &["memory", "add", content], &env)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            let _ = child.kill();
            child.wait().unwrap();
            // The store opens and reads, and a rerun completes what the kill cut short.
            let listed = json_ok(&talab(home.path(), &["memory", "list", "--json"], &env));
            let before = listed["total"].as_u64().unwrap();
            assert!(before <= 1, "{label} after {delay} ms: {listed}");
            let again = json_ok(&talab(home.path(), &["memory", "add", content, "--json"], &env));
            assert_eq!(again["created"], before == 0, "{label} after {delay} ms: {again}");
            let id = again["id"].as_str().unwrap();
            let history = json_ok(&talab(home.path(), &["memory", "history", id, "--json"], &env));
            let events: Vec<&str> = history
                .as_array()
                .or_else(|| history["events"].as_array())
                .unwrap()
                .iter()
                .map(|e| e["event"].as_str().unwrap())
                .collect();
            assert_eq!(events, ["add"], "{label} after {delay} ms: {history}");
            let found = json_ok(&talab(
                home.path(),
                &["memory", "search", content, "--mode", "lexical", "--json"],
                &env,
            ));
            assert_eq!(found["hits"][0]["id"], id, "{label} after {delay} ms: {found}");
            let listed = json_ok(&talab(home.path(), &["memory", "list", "--json"], &env));
            assert_eq!(listed["total"], 1, "{label} after {delay} ms: {listed}");
        }
    }
}
