//! `talab ingest` and `talab assets` as a user runs them, on the real BTC CSV.

use std::path::Path;
use std::process::{Command, Output};

fn talab(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_talab"))
        .env_clear()
        .env("TALAB_HOME", home)
        .env("PATH", home)
        .args(args)
        .output()
        .expect("run talab")
}

fn json(out: &Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const BTC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/coin_Bitcoin.csv");

#[test]
fn ingest_the_real_btc_csv_then_again_then_list_assets() {
    let home = tempfile::tempdir().unwrap();
    let v = json(&talab(home.path(), &["ingest", "csv", BTC, "--json"]));
    let r = &v[0];
    assert_eq!(
        (
            r["symbol"].as_str(),
            r["rows_read"].as_u64(),
            r["inserted"].as_u64()
        ),
        (Some("BTC"), Some(2862), Some(2862))
    );
    assert_eq!(
        (r["first_day"].as_str(), r["last_day"].as_str()),
        (Some("2013-04-29"), Some("2021-02-27"))
    );
    assert_eq!(r["gaps"], 0);

    let again = json(&talab(home.path(), &["ingest", "csv", BTC, "--json"]));
    assert_eq!(
        (again[0]["inserted"].as_u64(), again[0]["unchanged"].as_u64()),
        (Some(0), Some(2862))
    );

    let assets = json(&talab(home.path(), &["assets", "--json"]));
    assert_eq!(assets.as_array().unwrap().len(), 1);
    assert_eq!(
        (assets[0]["symbol"].as_str(), assets[0]["rows"].as_i64()),
        (Some("BTC"), Some(2862))
    );
    let table = talab(home.path(), &["assets"]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("2013-04-29"));
}

#[test]
fn a_bad_row_refuses_the_file_with_its_line_and_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("bad.csv");
    std::fs::write(
        &file,
        "Date,Open,High,Low,Close,Volume\n2021-01-01,1,2,0.5,1.5,10\n2021-01-02,1,2,abc,1.5,10\n",
    )
    .unwrap();
    let out = talab(
        home.path(),
        &["ingest", "csv", file.to_str().unwrap(), "--symbol", "TEST"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv:3: low:"), "{err}");
    let assets = json(&talab(home.path(), &["assets", "--json"]));
    assert_eq!(assets.as_array().unwrap().len(), 0, "nothing was written");

    let out = talab(
        home.path(),
        &[
            "ingest",
            "csv",
            file.to_str().unwrap(),
            "--symbol",
            "TEST",
            "--skip-bad-rows",
            "--json",
        ],
    );
    let v = json(&out);
    assert_eq!(
        (v[0]["inserted"].as_u64(), v[0]["rejected"].as_u64()),
        (Some(1), Some(1))
    );
}

#[test]
fn synthetic_prices_say_so() {
    let home = tempfile::tempdir().unwrap();
    let out = talab(
        home.path(),
        &["ingest", "synthetic", "--symbols", "AAA,BBB", "--days", "30"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("SYNTHETIC"));
    let assets = json(&talab(home.path(), &["assets", "--json"]));
    assert!(
        assets
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["source"] == "synthetic" && a["rows"] == 30),
        "{assets}"
    );
}
