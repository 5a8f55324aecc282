//! `talab refresh-ema` and `talab ema` as a user runs them: a kill -9 in the middle of a refresh,
//! two refreshes at once, and bad requests, on SQLite and PostgreSQL.

use std::process::{Output, Stdio};
use std::time::Duration;

use chrono::NaiveDate;
use talab_db::Database;
use talab_features::{EmaQuery, SyntheticSource, read_emas};

use crate::util::{command, talab};

const SYMBOLS: [&str; 5] = ["AAA", "BBB", "CCC", "DDD", "EEE"];

/// The refresh these tests run: every symbol, the default 13 timeframes × 7 periods.
fn refresh_all(json: bool) -> Vec<String> {
    let mut args: Vec<String> = ["refresh-ema", "--symbols", &SYMBOLS.join(","), "--no-fetch"]
        .map(String::from)
        .to_vec();
    if json {
        args.push("--json".into());
    }
    args
}

async fn load_synthetic(db: &Database, days: usize) {
    let source = SyntheticSource::new(7).with_start(NaiveDate::from_ymd_opt(2016, 1, 1).unwrap());
    let symbols: Vec<String> = SYMBOLS.iter().map(|s| s.to_string()).collect();
    talab_features::ingest::ingest_synthetic(db, &source, &symbols, days, false)
        .await
        .unwrap();
}

/// One stored EMA value, as comparable bits.
type Row = (String, String, u32, NaiveDate, u64, u64, bool);

/// Every stored EMA value.
async fn snapshot(db: &Database) -> Vec<Row> {
    let mut out = Vec::new();
    for s in SYMBOLS {
        let q = EmaQuery {
            symbol: s.into(),
            ..Default::default()
        };
        for r in read_emas(db, &q).await.unwrap() {
            out.push((
                r.symbol,
                r.tf,
                r.period,
                r.day,
                r.ema.to_bits(),
                r.ema_bar.to_bits(),
                r.roll,
            ));
        }
    }
    out
}

/// What a clean refresh by the binary gives for the same prices, and how long it took.
async fn clean_reference(days: usize) -> (Vec<Row>, Duration) {
    let t = talab_db::testing::sqlite().await;
    load_synthetic(&t.db, days).await;
    let home = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = talab(
        home.path(),
        &refresh_all(false),
        &[("TALAB_DATABASE_URL", &t.url())],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (snapshot(&t.db).await, started.elapsed())
}

const DAYS: usize = 500;

#[tokio::test]
async fn a_killed_refresh_leaves_whole_symbols_and_the_next_run_completes_them() {
    let (reference, took) = clean_reference(DAYS).await;
    for t in talab_db::testing::backends().await {
        let home = tempfile::tempdir().unwrap();
        load_synthetic(&t.db, DAYS).await;
        let url = t.url();
        let mut child = command(home.path(), &refresh_all(false), &[("TALAB_DATABASE_URL", &url)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill -9 half-way through a run as long as the clean one.
        tokio::time::sleep(took / 2).await;
        let killed = child.kill().is_ok();
        let status = child.wait().unwrap();
        eprintln!(
            "{}: killed after {:?} = {killed}, status = {status:?}",
            t.label(),
            took / 2
        );

        // Whatever was committed is whole: every symbol has all of its rows or none.
        let partial = snapshot(&t.db).await;
        for s in SYMBOLS {
            let got = partial.iter().filter(|r| r.0 == s).count();
            let want = reference.iter().filter(|r| r.0 == s).count();
            assert!(
                got == 0 || got == want,
                "{}: {s} has {got} of {want} rows",
                t.label()
            );
        }

        let out = talab(home.path(), &refresh_all(true), &[("TALAB_DATABASE_URL", &url)]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(snapshot(&t.db).await, reference, "{}", t.label());
    }
}

/// The symbols the running refresh has logged as committed (none before its tables exist).
async fn symbols_logged(db: &Database) -> Vec<String> {
    talab_db::on_pool!(db, pool => {
        talab_db::sqlx::query_scalar("SELECT symbol FROM talab_run_symbols ORDER BY symbol")
            .fetch_all(pool)
            .await
    })
    .unwrap_or_default()
}

/// The symbols that have EMA rows.
async fn symbols_stored(db: &Database) -> Vec<String> {
    let mut stored: Vec<String> = snapshot(db).await.into_iter().map(|r| r.0).collect();
    stored.dedup();
    stored
}

/// The refresh runs as `ask` and `--json` show them: (state, success, error, memory id).
async fn runs(db: &Database) -> Vec<(String, bool, Option<String>, Option<String>)> {
    talab_db::on_pool!(db, pool => {
        talab_db::sqlx::query_as("SELECT state, success, error, memory_id FROM talab_runs ORDER BY started_at")
            .fetch_all(pool)
            .await
    })
    .unwrap()
}

#[tokio::test]
async fn a_refresh_killed_after_a_symbol_committed_is_recorded_as_interrupted() {
    for t in talab_db::testing::backends().await {
        let label = t.label();
        let home = tempfile::tempdir().unwrap();
        load_synthetic(&t.db, DAYS).await;
        let url = t.url();
        let env = [("TALAB_DATABASE_URL", url.as_str())];
        let one_at_a_time: Vec<String> = refresh_all(false)
            .into_iter()
            .chain(["--jobs".into(), "1".into()])
            .collect();
        let mut child = command(home.path(), &one_at_a_time, &env)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill -9 as soon as the first symbol is committed (and logged).
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while symbols_logged(&t.db).await.is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "{label}: no symbol committed in 120 s"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "{label}: the refresh ended first"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // The log names exactly the symbols whose rows were committed (it is written in their
        // transactions), in the order given with one job.
        let committed = symbols_logged(&t.db).await;
        assert_eq!(committed, symbols_stored(&t.db).await, "{label}");
        assert!(
            committed.len() < SYMBOLS.len(),
            "{label}: all {committed:?} committed before the kill"
        );
        assert_eq!(committed, SYMBOLS[..committed.len()], "{label}");
        let left = runs(&t.db).await;
        assert_eq!(left.len(), 1, "{label}: {left:?}");
        assert_eq!((left[0].0.as_str(), left[0].1), ("running", false), "{label}");

        // The next command that reads runs finds the owner gone and records the run, once.
        let answer = crate::util::text(
            &crate::util::ok(&talab(home.path(), &["ask", "what EMAs ran today"], &env)).stdout,
        );
        assert!(answer.contains("(1 interrupted)"), "{label}: {answer}");
        assert!(
            answer.contains("INTERRUPTED AAA, BBB, CCC, DDD, EEE"),
            "{label}: {answer}"
        );
        assert!(answer.contains("committed AAA ("), "{label}: {answer}");
        assert!(answer.contains("not finished"), "{label}: {answer}");
        let recorded = runs(&t.db).await;
        assert_eq!(recorded.len(), 1, "{label}: {recorded:?}");
        let (state, success, error, memory) = &recorded[0];
        assert_eq!((state.as_str(), *success), ("interrupted", false), "{label}");
        assert!(
            error.as_deref().unwrap().starts_with("its process ended"),
            "{label}: {error:?}"
        );
        let memory = memory.clone().expect("the interrupted run has a memory");
        let again = crate::util::text(
            &crate::util::ok(&talab(home.path(), &["ask", "what EMAs ran today"], &env)).stdout,
        );
        assert!(again.contains("(1 interrupted)"), "{label}: {again}");
        assert_eq!(
            runs(&t.db).await[0].3.as_deref(),
            Some(memory.as_str()),
            "{label}"
        );
        let memories = crate::util::json_ok(&talab(home.path(), &["memory", "list", "--json"], &env));
        let interrupted = memories["memories"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["content"].as_str().unwrap_or_default().contains("INTERRUPTED"))
            .count();
        assert_eq!(interrupted, 1, "{label}: {memories}");

        // A rerun completes the rest, and the interrupted run stays as it was.
        crate::util::ok(&talab(home.path(), &refresh_all(false), &env));
        let after = runs(&t.db).await;
        assert_eq!(after.len(), 2, "{label}: {after:?}");
        assert_eq!((after[1].0.as_str(), after[1].1), ("done", true), "{label}");
        assert_eq!(after[0].0, "interrupted", "{label}");
    }
}

#[tokio::test]
async fn two_refreshes_at_once_neither_fail_nor_duplicate() {
    let (reference, _) = clean_reference(DAYS).await;
    for t in talab_db::testing::backends().await {
        let home = tempfile::tempdir().unwrap();
        load_synthetic(&t.db, DAYS).await;
        let url = t.url();
        let args = refresh_all(true);
        let a = command(home.path(), &args, &[("TALAB_DATABASE_URL", &url)])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The second one also refreshes three symbols at a time (on SQLite they queue for the lock).
        let jobs: Vec<String> = args
            .iter()
            .cloned()
            .chain(["--jobs".into(), "3".into()])
            .collect();
        let b = command(home.path(), &jobs, &[("TALAB_DATABASE_URL", &url)])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        for out in [&a, &b] {
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}: {}",
                t.label(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // Between them every series was computed exactly once; the other found it up to date.
        let rows = |o: &Output| -> u64 {
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            v["run"]["rows_tf_day"].as_u64().unwrap() + v["run"]["rows_calendar"].as_u64().unwrap()
        };
        let errors = |o: &Output| -> String {
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            format!("{} {}", v["run"]["error"], String::from_utf8_lossy(&o.stderr))
        };
        assert_eq!(
            (rows(&a) + rows(&b)) as usize,
            reference.len(),
            "{}: a: {}; b: {}",
            t.label(),
            errors(&a),
            errors(&b)
        );
        assert_eq!(snapshot(&t.db).await, reference, "{}", t.label());
    }
}

#[tokio::test]
async fn bad_requests_exit_2_with_one_clear_line() {
    let t = talab_db::testing::sqlite().await;
    load_synthetic(&t.db, 100).await;
    let home = tempfile::tempdir().unwrap();
    let url = t.url();
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "refresh-ema",
                "--symbols",
                "AAA",
                "--date",
                "2010-01-01",
                "--no-fetch",
            ],
            "2016-01-01",
        ),
        (&["refresh-ema", "--symbols", "AAA,NOPE", "--no-fetch"], "NOPE"),
        (
            &["refresh-ema", "--symbols", "AAA", "--tfs", "7X", "--no-fetch"],
            "7X",
        ),
        (
            &["refresh-ema", "--symbols", "AAA", "--periods", "0", "--no-fetch"],
            "period 0",
        ),
        (&["ema", "AAA", "--tf", "bogus"], "bogus"),
        (
            &["refresh-ema", "--symbols", "AAA", "--jobs", "0", "--no-fetch"],
            "--jobs",
        ),
    ];
    for (args, needle) in cases {
        let out = talab(home.path(), args, &[("TALAB_DATABASE_URL", &url)]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let n = snapshot(&t.db).await.len();
    assert_eq!(n, 0, "nothing written by refused requests");
}

#[tokio::test]
async fn refresh_then_show_as_table_csv_and_json() {
    let t = talab_db::testing::sqlite().await;
    load_synthetic(&t.db, 300).await;
    let home = tempfile::tempdir().unwrap();
    let url = t.url();
    let out = talab(
        home.path(),
        &[
            "refresh-ema",
            "--symbols",
            "aaa",
            "--tfs",
            "1d,1W_CAL_ISO",
            "--no-fetch",
        ],
        &[("TALAB_DATABASE_URL", &url)],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("EMA refresh completed for AAA"), "{text}");

    let json = talab(
        home.path(),
        &["ema", "AAA", "--format", "json"],
        &[("TALAB_DATABASE_URL", &url)],
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 7, "the last day, one row per default period");
    assert!(
        rows.iter().all(|r| r["tf"] == "1D" && r["day"] == "2016-10-26"),
        "{v}"
    );

    let csv = talab(
        home.path(),
        &[
            "ema",
            "AAA",
            "--tf",
            "1w_cal_iso",
            "--from",
            "2016-10-01",
            "--format",
            "csv",
        ],
        &[("TALAB_DATABASE_URL", &url)],
    );
    let text = String::from_utf8_lossy(&csv.stdout);
    assert!(text.starts_with("symbol,tf,day,ts,period"), "{text}");
    assert!(text.lines().count() > 20, "{text}");
}

/// `--json` is `--format json`; a day after the last stored one is named, exit 0, nothing shown.
#[tokio::test]
async fn json_flag_and_a_date_past_the_stored_days() {
    let t = talab_db::testing::sqlite().await;
    load_synthetic(&t.db, 100).await;
    let home = tempfile::tempdir().unwrap();
    let url = t.url();
    let env = [("TALAB_DATABASE_URL", url.as_str())];
    let refresh = ["refresh-ema", "--symbols", "AAA", "--tfs", "1D", "--no-fetch"];
    assert_eq!(talab(home.path(), &refresh, &env).status.code(), Some(0));

    let flag = talab(home.path(), &["ema", "AAA", "--json"], &env);
    let format = talab(home.path(), &["ema", "AAA", "--format", "json"], &env);
    assert_eq!(
        flag.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&flag.stderr)
    );
    assert_eq!(flag.stdout, format.stdout);
    let rows: serde_json::Value = serde_json::from_slice(&flag.stdout).unwrap();
    let last = rows[0]["day"].as_str().unwrap().to_string();

    for format in ["table", "json", "csv"] {
        let out = talab(
            home.path(),
            &["ema", "AAA", "--date", "2030-01-01", "--format", format],
            &env,
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{format}: {err}");
        assert!(
            err.contains(&format!(
                "2030-01-01 is after the last stored 1D day of AAA, {last}"
            )),
            "{format}: {err}"
        );
        assert!(!err.contains("refresh-ema"), "no advice to refresh again: {err}");
    }
    let before = talab(home.path(), &["ema", "AAA", "--to", "2001-01-01"], &env);
    assert!(
        String::from_utf8_lossy(&before.stderr)
            .contains("is before the first stored 1D day of AAA, 2016-01-"),
        "{}",
        String::from_utf8_lossy(&before.stderr)
    );
}

/// A timeframe refreshed over a history shorter than its shortest period has no EMA yet: exit 0
/// and why, in every format, instead of exit 1 and advice to run the refresh that just ran.
#[tokio::test]
async fn a_history_shorter_than_every_period_says_so() {
    for t in talab_db::testing::backends().await {
        load_synthetic(&t.db, 100).await;
        let home = tempfile::tempdir().unwrap();
        let url = t.url();
        let env = [("TALAB_DATABASE_URL", url.as_str())];
        let refresh = ["refresh-ema", "--symbols", "AAA", "--tfs", "1M_CAL", "--no-fetch"];
        assert_eq!(
            talab(home.path(), &refresh, &env).status.code(),
            Some(0),
            "{}",
            t.label()
        );
        for args in [
            &["ema", "AAA", "--tf", "1M_CAL"][..],
            &["ema", "AAA", "--tf", "1M_CAL", "--json"],
            &[
                "ema",
                "AAA",
                "--tf",
                "1M_CAL",
                "--from",
                "2016-01-01",
                "--to",
                "2016-12-31",
                "--format",
                "csv",
            ],
        ] {
            let out = talab(home.path(), args, &env);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
            assert!(
                err.contains("no 1M_CAL EMA of AAA yet") && err.contains("shortest period, 9"),
                "{err}"
            );
            assert!(!err.contains("run `talab refresh-ema"), "{err}");
        }
        let json = talab(home.path(), &["ema", "AAA", "--tf", "1M_CAL", "--json"], &env);
        assert_eq!(
            String::from_utf8_lossy(&json.stdout).trim(),
            "[]",
            "{}",
            t.label()
        );
    }
}
