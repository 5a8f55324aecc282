//! `talab ingest` and `talab assets` as a user runs them, on the real BTC CSV.

use crate::util::{json_ok, talab};

const BTC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/coin_Bitcoin.csv");

#[test]
fn ingest_the_real_btc_csv_then_again_then_list_assets() {
    let home = tempfile::tempdir().unwrap();
    let v = json_ok(&talab(home.path(), &["ingest", "csv", BTC, "--json"], &[]));
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

    let again = json_ok(&talab(home.path(), &["ingest", "csv", BTC, "--json"], &[]));
    assert_eq!(
        (again[0]["inserted"].as_u64(), again[0]["unchanged"].as_u64()),
        (Some(0), Some(2862))
    );

    let assets = json_ok(&talab(home.path(), &["assets", "--json"], &[]));
    assert_eq!(assets.as_array().unwrap().len(), 1);
    assert_eq!(
        (assets[0]["symbol"].as_str(), assets[0]["rows"].as_i64()),
        (Some("BTC"), Some(2862))
    );
    let table = talab(home.path(), &["assets"], &[]);
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
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv:3: low:"), "{err}");
    let assets = json_ok(&talab(home.path(), &["assets", "--json"], &[]));
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
        &[],
    );
    let v = json_ok(&out);
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
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("SYNTHETIC"));
    let assets = json_ok(&talab(home.path(), &["assets", "--json"], &[]));
    assert!(
        assets
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["source"] == "synthetic" && a["rows"] == 30),
        "{assets}"
    );
}

/// `file:line` is the line an editor shows (line 1 is the header), deep in a real file, with Unix
/// and Windows line ends (it was one short with `\r\n`).
#[test]
fn a_bad_value_is_reported_on_the_line_an_editor_shows() {
    let home = tempfile::tempdir().unwrap();
    let real = std::fs::read_to_string(BTC).unwrap();
    let mut lines: Vec<String> = real.lines().take(60).map(String::from).collect();
    // Line 50 (index 49): its Close (the 8th field) is not a number.
    let mut fields: Vec<&str> = lines[49].split(',').collect();
    fields[7] = "abc";
    lines[49] = fields.join(",");
    for end in ["\n", "\r\n"] {
        let file = home.path().join("btc60.csv");
        std::fs::write(&file, lines.join(end) + end).unwrap();
        let out = talab(home.path(), &["ingest", "csv", file.to_str().unwrap()], &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{end:?}: {err}");
        assert!(
            err.contains("btc60.csv:50: close: 'abc' is not a number"),
            "{end:?}: {err}"
        );
    }
}

/// `--days` is bounded: a typo is exit 2 with the range, not a capacity-overflow panic or gigabytes.
#[test]
fn synthetic_days_are_bounded() {
    let home = tempfile::tempdir().unwrap();
    for days in ["18446744073709551615", "1000000000000", "36501", "0"] {
        let out = talab(
            home.path(),
            &["ingest", "synthetic", "--symbols", "AAA", "--days", days],
            &[],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{days}: {err}");
        assert!(
            err.contains("1..=36500") && !err.contains("panicked"),
            "{days}: {err}"
        );
    }
    let out = talab(home.path(), &["demo", "--days", "1"], &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A closed stdout ends the command quietly (as `| head -1` does), in every format.
#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let ingest = [
        "ingest",
        "synthetic",
        "--symbols",
        "AAA",
        "--days",
        "2000",
        "--start",
        "2015-01-01",
    ];
    assert_eq!(talab(h, &ingest, &[]).status.code(), Some(0));
    let refresh = ["refresh-ema", "--symbols", "AAA", "--tfs", "1D", "--no-fetch"];
    assert_eq!(talab(h, &refresh, &[]).status.code(), Some(0));
    for format in ["table", "csv", "json"] {
        // ~14,000 rows: far more than a pipe's buffer, so talab is still writing when it closes.
        let args = ["ema", "AAA", "--from", "2015-01-01", "--format", format];
        let mut child = crate::util::command(h, &args, &[])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty(), "{format}");
        let out = child.wait_with_output().unwrap(); // stdout was dropped: the pipe is closed
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.is_empty(), "{format}: nothing on stderr, got {err}");
        assert_ne!(out.status.code(), Some(101), "{format}: no panic");
    }
}

/// A file without a symbol column may not silently change days another file delivered (both are
/// source `csv`): refused with how many days it would change, unless --replace; new days are fine.
#[test]
fn another_file_changes_stored_days_only_with_replace() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    json_ok(&talab(h, &["ingest", "csv", BTC, "--json"], &[]));
    // 400 of the real days (2020-01-01 on) with other closes, in a plain file with no symbol.
    let real = std::fs::read_to_string(BTC).unwrap();
    let mut other = String::from("Date,Open,High,Low,Close,Volume\n");
    for line in real
        .lines()
        .filter(|l| l.contains(",2020-") || l.contains(",2021-"))
        .take(400)
    {
        let f: Vec<&str> = line.split(',').collect();
        other.push_str(&format!("{},1,3,0.5,2,10\n", f[3]));
    }
    let file = h.join("other.csv");
    std::fs::write(&file, &other).unwrap();
    let path = file.to_str().unwrap();

    let out = talab(h, &["ingest", "csv", path, "--symbol", "btc"], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("would change 400 stored day(s) of BTC"), "{err}");
    assert!(err.contains("--replace"), "{err}");
    let again = json_ok(&talab(h, &["ingest", "csv", BTC, "--json"], &[]));
    assert_eq!(again[0]["unchanged"], 2862, "nothing was written: {again}");

    let replaced = json_ok(&talab(
        h,
        &["ingest", "csv", path, "--symbol", "btc", "--replace", "--json"],
        &[],
    ));
    assert_eq!(replaced[0]["updated"], 400, "{replaced}");

    // A file that only adds days after the stored ones changes nothing stored: no --replace needed.
    let newer = h.join("newer.csv");
    std::fs::write(
        &newer,
        "Date,Open,High,Low,Close,Volume\n2021-03-01,1,3,0.5,2,10\n",
    )
    .unwrap();
    let added = json_ok(&talab(
        h,
        &[
            "ingest",
            "csv",
            newer.to_str().unwrap(),
            "--symbol",
            "btc",
            "--json",
        ],
        &[],
    ));
    assert_eq!(added[0]["inserted"], 1, "{added}");
}

/// A stored day that fails bar validation is shown in the table and said on stderr (the table's
/// only count was of unparseable rows, so it read 0 while a day had no bar).
#[test]
fn a_rejected_bar_is_shown_in_the_table() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("zero.csv");
    std::fs::write(
        &file,
        "Date,Open,High,Low,Close,Volume\n2021-01-01,1,2,0.5,1.5,10\n2021-01-02,1,2,0.5,0,10\n",
    )
    .unwrap();
    let out = talab(
        home.path(),
        &["ingest", "csv", file.to_str().unwrap(), "--symbol", "ZZ"],
        &[],
    );
    let (shown, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{err}");
    let header: Vec<&str> = shown.lines().next().unwrap().split('|').map(str::trim).collect();
    let row: Vec<&str> = shown.lines().nth(2).unwrap().split('|').map(str::trim).collect();
    let column = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!((column("bad rows"), column("bar rejects")), ("0", "1"), "{shown}");
    assert!(
        err.contains("1 day(s) of ZZ failed validation and have no bar"),
        "{err}"
    );
}
