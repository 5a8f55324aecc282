//! `talab memory` as a user runs it: add, search (with the lexical fallback and with MiniLM),
//! list, deprecate, history, and errors.

use crate::util::{json_ok, talab, talab_stdin};

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
        );
        let v = json_ok(&out);
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
    let again = json_ok(&talab_stdin(h, &["memory", "add", "-", "--json"], &[], RUNS[0]));
    assert_eq!(
        (again["id"].as_str().unwrap(), &again["created"]),
        (ids[0].as_str(), &serde_json::json!(false))
    );

    let v = json_ok(&talab(
        h,
        &["memory", "search", "Coinbase candle column order", "--json"],
        &[],
    ));
    assert_eq!(v["hits"][0]["id"], ids[2].as_str(), "{v}");
    assert_eq!(v["embedder"]["name"], "lexical-hash");
    assert!(v["threshold_used"].as_f64().unwrap() > 0.0);

    let v = json_ok(&talab(h, &["memory", "list", "--json"], &[]));
    assert_eq!(v["total"], 3);

    let out = talab(
        h,
        &["memory", "deprecate", &ids[2], "--reason", "superseded"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    let v = json_ok(&talab(
        h,
        &["memory", "search", "Coinbase candle column order", "--json"],
        &[],
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

    let v = json_ok(&talab(h, &["memory", "history", &ids[2], "--json"], &[]));
    let events: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["add", "deprecate"]);

    let text = talab(h, &["memory", "search", "quota fell back"], &[]);
    let shown = String::from_utf8_lossy(&text.stdout);
    assert!(shown.contains("with lexical-hash"), "{shown}");
    assert!(shown.contains("below the threshold"), "{shown}");
}

/// A threshold may be negative (cosine runs from -1), written as `--threshold -1` like any value.
#[test]
fn a_negative_threshold_is_a_value_not_a_flag() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    for text in RUNS {
        json_ok(&talab(h, &["memory", "add", text, "--json"], &[]));
    }
    let spaced = json_ok(&talab(
        h,
        &["memory", "search", "anything", "--threshold", "-1", "--json"],
        &[],
    ));
    let joined = json_ok(&talab(
        h,
        &["memory", "search", "anything", "--threshold=-1", "--json"],
        &[],
    ));
    assert_eq!(spaced["threshold_used"].as_f64(), Some(-1.0), "{spaced}");
    assert_eq!(spaced["hits"], joined["hits"]);
}

#[test]
fn bad_input_is_exit_2_with_a_clear_line() {
    let home = tempfile::tempdir().unwrap();
    let out = talab(home.path(), &["memory", "get", "no-such-id"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no memory has the id no-such-id"));
    let out = talab(home.path(), &["memory", "add", "x", "--meta", "novalue"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let out = talab(home.path(), &["memory", "add", "   "], &[]);
    assert_eq!(out.status.code(), Some(2));
    let out = talab(home.path(), &["memory", "search", "x", "--mode", "fuzzy"], &[]);
    assert_eq!(out.status.code(), Some(2));
}

/// With the local model (the harness fetches it), a paraphrase with no shared words still finds the
/// memory, and a store made with one embedder refuses another until reindexed.
#[test]
fn minilm_finds_paraphrases_and_reindex_switches_embedders() {
    let Some(model) = talab_db::testing::minilm_model_dir() else {
        return; // TALAB_TEST_SKIP=minilm: counted by the harness
    };
    let model = model.to_str().expect("a UTF-8 model path").to_string();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    // Made with the lexical fallback first…
    for text in RUNS {
        json_ok(&talab(h, &["memory", "add", text, "--json"], &[]));
    }
    // …so the model refuses it until reindexed.
    let env = [("TALAB_EMBED_MODEL_DIR", model.as_str())];
    let out = talab(h, &["memory", "search", "anything"], &env);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("talab memory reindex"));
    let v = json_ok(&talab(h, &["memory", "reindex", "--json"], &env));
    assert_eq!(v["re_embedded"], 3);

    let v = json_ok(&talab(
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

#[tokio::test]
async fn the_pgvector_backend_serves_memory_the_flow_ask_and_status() {
    let Some(pg) = talab_db::testing::pgvector::pgvector().await else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let env = [
        ("TALAB_MEMORY_BACKEND", "pgvector"),
        ("TALAB_MEMORY_URL", pg.url()),
    ];
    let ok = crate::util::ok;
    for text in RUNS {
        let v = json_ok(&talab(
            h,
            &["memory", "add", text, "--tag", "ops", "--json"],
            &env,
        ));
        assert_eq!(v["created"], true, "{v}");
    }
    let again = json_ok(&talab(h, &["memory", "add", RUNS[1], "--json"], &env));
    assert_eq!(again["created"], false, "{again}");
    let hits = json_ok(&talab(
        h,
        &["memory", "search", "Coinbase candle column order", "--json"],
        &env,
    ));
    assert_eq!(hits["hits"][0]["content"], RUNS[2], "{hits}");
    let stats = json_ok(&talab(h, &["memory", "stats", "--json"], &env));
    assert_eq!(
        (stats["backend"].as_str(), stats["count"].as_u64()),
        (Some("pgvector"), Some(3))
    );

    // The joined flow remembers on pgvector, and `ask` answers from there.
    ok(&talab(
        h,
        &["ingest", "synthetic", "--symbols", "BTC", "--days", "400"],
        &env,
    ));
    ok(&talab(
        h,
        &["refresh-ema", "--symbols", "BTC", "--no-fetch"],
        &env,
    ));
    let answer = json_ok(&talab(h, &["ask", "what EMAs ran today", "--json"], &env));
    assert!(answer["answer"].as_str().unwrap().contains("BTC"), "{answer}");
    let status = json_ok(&talab(h, &["status", "--json"], &env));
    assert_eq!(status["memory"]["backend"], "pgvector", "{status}");
    assert_eq!(status["memory"]["memories"], 4, "{status}");
    assert!(
        status["memory"]["location"]
            .as_str()
            .unwrap()
            .contains("postgres"),
        "{status}"
    );

    // The memories are in pgvector's table, and none in the embedded store.
    let db = pg.connect().await;
    let talab_db::Pool::Postgres(pool) = db.pool() else {
        panic!("pgvector is PostgreSQL")
    };
    let rows: i64 = talab_db::sqlx::query_scalar("SELECT COUNT(*) FROM talab_memories")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(rows, 4);
    let embedded = json_ok(&talab(h, &["memory", "list", "--json"], &[]));
    assert_eq!(embedded["total"], 0, "{embedded}");

    // What only the embedded store has says so; a bad setup is one line naming what to fix.
    let health = talab(h, &["memory", "health"], &env);
    assert_eq!(health.status.code(), Some(2));
    let err = String::from_utf8_lossy(&health.stderr);
    assert!(
        err.contains("works on the embedded memory store; memory.backend is pgvector"),
        "{err}"
    );
    let nowhere = [
        ("TALAB_MEMORY_BACKEND", "pgvector"),
        ("TALAB_MEMORY_URL", "postgres://postgres@127.0.0.1:9/lab"),
    ];
    let out = talab(h, &["memory", "list"], &nowhere);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pgvector") && err.contains("127.0.0.1:9"), "{err}");
    let out = talab(h, &["memory", "list"], &[("TALAB_MEMORY_BACKEND", "pgvector")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("memory.url"));
    let out = talab(h, &["memory", "list"], &[("TALAB_MEMORY_BACKEND", "chromadb")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("one of embedded, pgvector, chroma"));
}

#[tokio::test]
async fn the_chroma_backend_serves_memory_the_flow_ask_and_status() {
    let Some(chroma) = talab_db::testing::chroma::chroma() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let env = [
        ("TALAB_MEMORY_BACKEND", "chroma"),
        ("TALAB_MEMORY_URL", chroma.url()),
        ("TALAB_MEMORY_TABLE", chroma.collection()),
    ];
    for text in RUNS {
        let v = json_ok(&talab(h, &["memory", "add", text, "--json"], &env));
        assert_eq!(v["created"], true, "{v}");
    }
    let hits = json_ok(&talab(
        h,
        &["memory", "search", "Coinbase candle column order", "--json"],
        &env,
    ));
    assert_eq!(hits["hits"][0]["content"], RUNS[2], "{hits}");
    crate::util::ok(&talab(
        h,
        &["ingest", "synthetic", "--symbols", "BTC", "--days", "400"],
        &env,
    ));
    crate::util::ok(&talab(
        h,
        &["refresh-ema", "--symbols", "BTC", "--no-fetch"],
        &env,
    ));
    let answer = json_ok(&talab(h, &["ask", "what EMAs ran today", "--json"], &env));
    assert!(answer["answer"].as_str().unwrap().contains("BTC"), "{answer}");
    let status = json_ok(&talab(h, &["status", "--json"], &env));
    assert_eq!(status["memory"]["backend"], "chroma", "{status}");
    assert_eq!(status["memory"]["memories"], 4, "{status}");
    let embedded = json_ok(&talab(h, &["memory", "list", "--json"], &[]));
    assert_eq!(embedded["total"], 0, "{embedded}");
    // A backend without word ranking says so rather than ranking some other way.
    let lexical = talab(h, &["memory", "search", "Coinbase", "--mode", "lexical"], &env);
    assert_ne!(lexical.status.code(), Some(0));
    let err = String::from_utf8_lossy(&lexical.stderr);
    assert!(err.contains("chroma"), "{err}");
    let out = talab(h, &["memory", "list"], &[("TALAB_MEMORY_BACKEND", "chroma")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("http://HOST:PORT"));
}
