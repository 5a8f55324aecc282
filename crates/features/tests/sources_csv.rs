//! Parsing CSV price files: format detection, CoinMarketCap's export (BOM, quotes, newest first,
//! the newer circulatingSupply column), plain OHLCV headers in any order and case, and bad rows.

use chrono::NaiveDate;
use talab_features::SourceKind;
use talab_features::sources::{CsvFormat, parse_csv};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn a_newer_coinmarketcap_export_is_detected_and_sorted_oldest_first() {
    let text = "\u{feff}timeOpen;timeClose;timeHigh;timeLow;name;open;high;low;close;volume;marketCap;circulatingSupply;timestamp\n\
        \"2024-01-02T00:00:00.000Z\";\"2024-01-02T23:59:59.999Z\";\"2024-01-02T12:00:00.000Z\";\"2024-01-02T01:00:00.000Z\";\"Ethereum\";2352.1;2431.5;2341.2;2355.8;12500000000;2.83E+11;120180000;\"2024-01-02T23:59:59.999Z\"\n\
        \"2024-01-01T00:00:00.000Z\";\"2024-01-01T23:59:59.999Z\";\"2024-01-01T20:00:00.000Z\";\"2024-01-01T02:00:00.000Z\";\"Ethereum\";2281.5;2352.4;2265.2;2352.0;7200000000;2.82E+11;120180000;\"2024-01-01T23:59:59.999Z\"\n";
    let p = parse_csv("eth.csv", text.as_bytes(), None, Some("eth")).unwrap();
    assert_eq!(
        (p.format, p.name.as_deref(), p.bad.len()),
        (CsvFormat::Cmc, Some("Ethereum"), 0)
    );
    let days: Vec<_> = p.rows.iter().map(|r| (r.line, r.price.day())).collect();
    assert_eq!(days, vec![(3, day(2024, 1, 1)), (2, day(2024, 1, 2))]);
    let r = &p.rows[1].price;
    assert_eq!((r.symbol.as_str(), r.source), ("ETH", SourceKind::CmcCsv));
    assert_eq!(
        (r.open, r.high, r.low, r.close),
        (Some(2352.1), Some(2431.5), Some(2341.2), Some(2355.8))
    );
    assert_eq!((r.volume, r.market_cap), (Some(1.25e10), Some(2.83e11)));
    assert_eq!(r.ts.to_rfc3339(), "2024-01-02T23:59:59.999+00:00");
    assert_eq!(r.time_low.unwrap().to_rfc3339(), "2024-01-02T01:00:00+00:00");
}

#[test]
fn plain_ohlcv_headers_may_come_in_any_order_and_case() {
    let text = "CLOSE,extra,Volume,low,Timestamp,HIGH,open,Symbol\n\
        11,x,8.61E+11,9,2021-01-01 23:59:59,12,10,btc\n\
        12,y,5,10,2021-01-02T00:00:00Z,13,11,BTC\n\
        13,z,5,11,1609632000,14,12,BTC\n";
    let p = parse_csv("p.csv", text.as_bytes(), None, None).unwrap();
    assert_eq!((p.format, p.bad.len()), (CsvFormat::Ohlcv, 0));
    let got: Vec<_> = p
        .rows
        .iter()
        .map(|r| (r.price.day(), r.price.close, r.price.symbol.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (day(2021, 1, 1), Some(11.0), "BTC"),
            (day(2021, 1, 2), Some(12.0), "BTC"),
            (day(2021, 1, 3), Some(13.0), "BTC")
        ]
    );
    let r = &p.rows[0].price;
    assert_eq!(
        (r.volume, r.time_high, r.source),
        (Some(8.61e11), None, SourceKind::Csv)
    );
    assert_eq!(r.time_open.to_rfc3339(), "2021-01-01T00:00:00+00:00");
}

#[test]
fn bad_rows_and_headers_say_where_and_why() {
    let text = "date,open,high,low,close,volume\n2021-01-01,1,2,0.5,1.5,10\n2021-13-01,1,2,0.5,1.5,10\n2021-01-03,1,2\n2021-01-04,1,inf,0.5,1.5,10\n2021-01-05,1,2,0.5,,10\n";
    let p = parse_csv("b.csv", text.as_bytes(), None, Some("X")).unwrap();
    let got: Vec<_> = p
        .bad
        .iter()
        .map(|b| (b.line, b.column.as_str(), b.reason.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (3, "date", "'2021-13-01' is not a date (expected YYYY-MM-DD)"),
            (4, "(row)", "expected 6 fields, found 3"),
            (5, "high", "'inf' is not a finite number"),
            (6, "close", "empty; a number is required"),
        ]
    );
    assert_eq!(
        p.first_error().unwrap().to_string(),
        "b.csv:3: date: '2021-13-01' is not a date (expected YYYY-MM-DD)"
    );
    assert_eq!(p.rows.len(), 1);

    let e = parse_csv("h.csv", b"date,open,high,close,volume\n", None, Some("X")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "h.csv: no 'low' column (format ohlcv); the header has: date, open, high, close, volume"
    );
    let e = parse_csv(
        "m.csv",
        b"date,open,high,low,close,volume\n2021-01-01,1,2,0.5,1.5,1\n",
        Some(CsvFormat::Cmc),
        None,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("m.csv: no 'timeopen' column (format cmc)"),
        "{e}"
    );
    let e = parse_csv(
        "s.csv",
        b"date,open,high,low,close,volume,symbol\n2021-01-01,1,2,0.5,1.5,1,BTC\n2021-01-02,1,2,0.5,1.5,1,ETH\n",
        None,
        None,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("more than one symbol (BTC and ETH)"),
        "{e}"
    );
}
