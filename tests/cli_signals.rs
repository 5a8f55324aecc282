//! `talab signals` and `talab chart` as a user runs them, on the real BTC CSV.

use crate::util::{json_ok, ok, talab};

const BTC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/coin_Bitcoin.csv");

#[test]
fn refresh_list_summary_and_chart_on_real_btc() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    ok(&talab(h, &["ingest", "csv", BTC], &[]));

    let v = json_ok(&talab(
        h,
        &[
            "signals",
            "refresh",
            "--symbols",
            "btc",
            "--signal",
            "ema_50_200_long",
            "--json",
        ],
        &[],
    ));
    let r = &v[0];
    assert_eq!(
        (r["symbol"].as_str(), r["signal_id"].as_str(), r["bars"].as_u64()),
        (Some("BTC"), Some("ema_50_200_long"), Some(2862))
    );
    let trades = r["trades"].as_u64().unwrap();
    assert!(trades >= 4 && r["inserted"].as_u64() == Some(trades), "{r}");

    let again = json_ok(&talab(
        h,
        &[
            "signals",
            "refresh",
            "--symbols",
            "BTC",
            "--signal",
            "ema_50_200_long",
            "--json",
        ],
        &[],
    ));
    assert_eq!(
        (again[0]["inserted"].as_u64(), again[0]["unchanged"].as_u64()),
        (Some(0), Some(trades))
    );

    let list = json_ok(&talab(h, &["signals", "list", "--symbol", "BTC", "--json"], &[]));
    assert_eq!(list.as_array().unwrap().len() as u64, trades);
    let closed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["status"] == "closed")
        .unwrap();
    let (entry, exit) = (
        closed["entry_price"].as_f64().unwrap(),
        closed["exit_price"].as_f64().unwrap(),
    );
    assert!((closed["pnl_pct"].as_f64().unwrap() - (exit - entry) * 100.0 / entry).abs() < 1e-9);
    let open = json_ok(&talab(
        h,
        &["signals", "list", "--symbol", "BTC", "--open", "--json"],
        &[],
    ));
    assert!(open.as_array().unwrap().iter().all(|t| t["status"] == "open"));

    let sums = json_ok(&talab(
        h,
        &["signals", "summary", "--signal", "ema_50_200_long", "--json"],
        &[],
    ));
    assert_eq!(
        sums[0]["trades"].as_u64().unwrap() + sums[0]["open"].as_u64().unwrap(),
        trades
    );
    let table = talab(h, &["signals", "summary"], &[]);
    assert!(String::from_utf8_lossy(&ok(&table).stdout).contains("max drawdown"));

    let bad = talab(
        h,
        &["signals", "refresh", "--symbols", "BTC", "--signal", "nope"],
        &[],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown signal 'nope'"));

    // A PNG with the 9/21 signal (refreshed by the chart command), of the asked size.
    let png = h.join("btc.png");
    let out = talab(
        h,
        &[
            "chart",
            "BTC",
            "--from",
            "2020-01-01",
            "--to",
            "2021-02-27",
            "--signals",
            "ema_9_21_long",
            "--width",
            "900",
            "--height",
            "500",
            "-o",
            png.to_str().unwrap(),
        ],
        &[],
    );
    let text = String::from_utf8_lossy(&ok(&out).stdout).to_string();
    assert!(text.contains("EMA 9/21") && text.contains("markers"), "{text}");
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    assert_eq!((be(&bytes[16..20]), be(&bytes[20..24])), (900, 500));
    let nine = json_ok(&talab(
        h,
        &[
            "signals",
            "list",
            "--symbol",
            "BTC",
            "--signal",
            "ema_9_21_long",
            "--json",
        ],
        &[],
    ));
    assert!(
        nine.as_array().unwrap().len() > 20,
        "the chart refreshed the 9/21 signal"
    );

    // An SVG with no font at all still draws (without text) and says so.
    let svg = h.join("btc.svg");
    let out = talab(
        h,
        &["chart", "BTC", "--json", "-o", svg.to_str().unwrap()],
        &[("TALAB_CHART_FONT", "none")],
    );
    let report = json_ok(&out);
    assert_eq!(
        (report["text"].as_bool(), report["width"].as_u64()),
        (Some(false), Some(1200))
    );
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(svg_text.contains("width=\"1200\"") && svg_text.contains("height=\"700\""));
    assert!(
        svg_text.contains("<polyline") || svg_text.contains("<path"),
        "lines were drawn"
    );

    let bad = talab(h, &["chart", "BTC", "-o", h.join("x.jpg").to_str().unwrap()], &[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains(".png or .svg"));

    // A place that cannot be written is one plain line, not the drawing library's debug dump.
    let nowhere = h.join("no-such-folder").join("x.png");
    let out = talab(h, &["chart", "BTC", "-o", nowhere.to_str().unwrap()], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with(&format!("error: cannot write {}: ", nowhere.display())),
        "{err}"
    );
    assert!(!err.contains("Os {") && !err.contains("IoError"), "{err}");
}
