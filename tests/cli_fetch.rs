//! `talab ingest fetch` against wiremock exchanges (base URLs from the environment and flags), and
//! `talab timeframes`, as a user runs them.

use crate::util;

use util::{json_ok, talab, talab_async, text};

use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, d).unwrap()
}

fn ms(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis()
}

fn klines(from: u32, to: u32) -> Value {
    (from..=to)
        .map(|d| {
            let p = 40_000.0 + f64::from(d) * 100.0;
            json!([
                ms(day(d)),
                format!("{p}"),
                format!("{}", p + 500.0),
                format!("{}", p - 500.0),
                format!("{}", p + 50.0),
                "1234.5",
                ms(day(d)) + 86_400_000 - 1,
                "0",
                1,
                "0",
                "0",
                "0"
            ])
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_from_binance_then_incrementally_then_assets_shows_the_series() {
    let binance = MockServer::start().await;
    Mock::given(path("/api/v3/klines"))
        .and(query_param("symbol", "BTCUSDT"))
        .and(query_param("startTime", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(klines(1, 5)))
        .expect(1)
        .mount(&binance)
        .await;
    Mock::given(path("/api/v3/klines"))
        .and(query_param("symbol", "BTCUSDT"))
        .and(query_param("startTime", ms(day(6)).to_string()))
        .respond_with(ResponseTemplate::new(200).set_body_json(klines(6, 8)))
        .expect(1)
        .mount(&binance)
        .await;
    let home = tempfile::tempdir().unwrap();
    let env = [("TALAB_BINANCE_BASE_URL", binance.uri())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let v = json_ok(
        &talab_async(
            home.path(),
            &[
                "ingest",
                "fetch",
                "--symbols",
                "btc",
                "--until",
                "2024-01-05",
                "--json",
            ],
            &env,
        )
        .await,
    );
    let r = &v[0];
    assert_eq!(
        (r["symbol"].as_str(), r["source"].as_str(), r["fetched"].as_u64()),
        (Some("BTC"), Some("binance"), Some(5)),
        "{v}"
    );
    assert_eq!(r["report"]["inserted"], 5);

    // Up to date: nothing asked, said so.
    let out = talab_async(
        home.path(),
        &["ingest", "fetch", "--symbols", "BTC", "--until", "2024-01-05"],
        &env,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("BTC: up to date through 2024-01-05"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("up to date"), "{}", text(&out.stdout));

    // Only the new days; the summary table names them.
    let out = talab_async(
        home.path(),
        &["ingest", "fetch", "--symbols", "BTC", "--until", "2024-01-08"],
        &env,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.contains("| BTC ") && table.contains("2024-01-06") && table.contains("2024-01-08"),
        "{table}"
    );

    let assets = json_ok(&talab(home.path(), &["assets", "--json"], &[]));
    assert_eq!(
        (
            assets[0]["symbol"].as_str(),
            assets[0]["rows"].as_i64(),
            assets[0]["source"].as_str(),
            assets[0]["first_day"].as_str(),
            assets[0]["last_day"].as_str(),
        ),
        (
            Some("BTC"),
            Some(8),
            Some("binance"),
            Some("2024-01-01"),
            Some("2024-01-08")
        )
    );
    binance.verify().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn binance_451_falls_through_to_coinbase_and_flags_beat_the_environment() {
    let blocked = MockServer::start().await;
    Mock::given(path("/api/v3/klines"))
        .respond_with(
            ResponseTemplate::new(451)
                .set_body_json(json!({"code": 0, "msg": "Service unavailable from a restricted location"})),
        )
        .mount(&blocked)
        .await;
    let coinbase = MockServer::start().await;
    let candles: Vec<Value> = (1..=3)
        .rev()
        .map(|d| json!([ms(day(d)) / 1000, 1.0, 3.0, 2.0, 2.5, 10.0]))
        .collect();
    Mock::given(path("/products/ETH-USD/candles"))
        .respond_with(ResponseTemplate::new(200).set_body_json(candles))
        .mount(&coinbase)
        .await;
    let home = tempfile::tempdir().unwrap();
    // The environment points at a host where nothing listens; the flag wins.
    let env = [
        ("TALAB_BINANCE_BASE_URL", "http://127.0.0.1:1"),
        ("TALAB_COINBASE_BASE_URL", coinbase.uri().leak()),
    ];
    let out = talab_async(
        home.path(),
        &[
            "ingest",
            "fetch",
            "--symbols",
            "ETH",
            "--since",
            "2024-01-01",
            "--until",
            "2024-01-03",
            "--binance-base-url",
            &blocked.uri(),
        ],
        &env,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("binance is unavailable") && err.contains("HTTP 451") && err.contains("trying coinbase"),
        "{err}"
    );
    assert!(text(&out.stdout).contains("coinbase"), "{}", text(&out.stdout));

    let shown = json_ok(&talab(home.path(), &["config", "show", "--json"], &env));
    let text_of = |v: &Value| v.to_string();
    assert!(
        text_of(&shown).contains("TALAB_COINBASE_BASE_URL"),
        "config show names where the URL came from: {shown}"
    );
}

#[test]
fn cmc_without_a_key_and_unknown_sources_are_usage_errors() {
    let home = tempfile::tempdir().unwrap();
    let out = talab(
        home.path(),
        &["ingest", "fetch", "--symbols", "BTC", "--source", "cmc"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("needs a CoinMarketCap API key"),
        "{}",
        text(&out.stderr)
    );
    // Only fetchable sources are offered: csv and synthetic are sources of stored rows, and the
    // list once named them as known before refusing them.
    for command in [&["ingest", "fetch"][..], &["refresh-ema"]] {
        for source in ["csv", "synthetic", "yahoo"] {
            let mut args = command.to_vec();
            args.extend(["--symbols", "BTC", "--source", source]);
            let out = talab(home.path(), &args, &[]);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains("[possible values: cmc, binance, coinbase]"),
                "{args:?}: {err}"
            );
        }
    }
}

#[test]
fn a_synthetic_series_is_not_extended_by_a_fetch() {
    let home = tempfile::tempdir().unwrap();
    let out = talab(
        home.path(),
        &["ingest", "synthetic", "--symbols", "BTC", "--days", "10"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // No server anywhere: the refusal comes before any request.
    let env = [
        ("TALAB_BINANCE_BASE_URL", "http://127.0.0.1:1"),
        ("TALAB_COINBASE_BASE_URL", "http://127.0.0.1:1"),
    ];
    let out = talab(home.path(), &["ingest", "fetch", "--symbols", "BTC"], &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("already has 10 rows from source 'synthetic'"),
        "{err}"
    );
}

#[test]
fn timeframes_list_enable_and_disable() {
    let home = tempfile::tempdir().unwrap();
    let listed = json_ok(&talab(home.path(), &["timeframes", "--json"], &[]));
    let codes = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["tf"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(codes(&listed).len(), 13);
    assert_eq!(listed[0]["tf"], "1D");
    assert_eq!(listed[0]["family"], "tf_day");
    assert_eq!(listed[0]["tf_days_nominal"], 1);
    assert!(listed.as_array().unwrap().iter().all(|r| r["enabled"] == true));

    let out = talab(home.path(), &["timeframes", "enable", "2w_cal_iso"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("enabled 2W_CAL_ISO"),
        "{}",
        text(&out.stdout)
    );
    let listed = json_ok(&talab(home.path(), &["timeframes", "--json"], &[]));
    assert!(codes(&listed).contains(&"2W_CAL_ISO".to_string()));

    let out = talab(home.path(), &["timeframes", "disable", "1y_cal", "--json"], &[]);
    let row = json_ok(&out);
    assert_eq!(
        (row["tf"].as_str(), row["enabled"].as_bool()),
        (Some("1Y_CAL"), Some(false))
    );
    let listed = json_ok(&talab(home.path(), &["timeframes", "--json"], &[]));
    assert!(!codes(&listed).contains(&"1Y_CAL".to_string()));
    let all = json_ok(&talab(home.path(), &["timeframes", "--all", "--json"], &[]));
    let all_codes = codes(&all);
    assert!(
        all_codes.contains(&"1Y_CAL".to_string()) && all_codes.len() > 13,
        "{all_codes:?}"
    );
    let table = text(&talab(home.path(), &["timeframes", "--all"], &[]).stdout);
    assert!(
        table.contains("calendar ISO") && table.contains("1W_CAL_US"),
        "{table}"
    );

    for args in [
        &["timeframes", "enable", "2X"][..],
        &["timeframes", "disable", "7H"],
    ] {
        let out = talab(home.path(), args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("unknown timeframe")
                && err.contains("`talab timeframes --all` lists the known ones"),
            "{err}"
        );
    }
}

#[test]
fn an_empty_until_window_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let tomorrow = (chrono::Utc::now().date_naive() + Duration::days(1)).to_string();
    let out = talab(
        home.path(),
        &["ingest", "fetch", "--symbols", "BTC", "--since", &tomorrow],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("today's day is not complete"),
        "{}",
        text(&out.stderr)
    );
}

/// A Binance that has hourly and daily candles for every hour and day (closes follow their
/// number), paged by startTime/endTime/limit as the real one is.
struct EveryCandleBinance;

impl Respond for EveryCandleBinance {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let q = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap()
        };
        let step = match q("interval").as_str() {
            "1h" => 3_600_000_i64,
            "1d" => 86_400_000,
            _ => {
                return ResponseTemplate::new(400)
                    .set_body_json(json!({"code": -1120, "msg": "Invalid interval."}));
            }
        };
        let (from, to): (i64, i64) = (q("startTime").parse().unwrap(), q("endTime").parse().unwrap());
        let limit: usize = q("limit").parse().unwrap();
        let first = (from + step - 1).div_euclid(step);
        let page: Vec<Value> = (first..)
            .take_while(|h| h * step <= to)
            .take(limit)
            .map(|h| {
                let c = 1000.0 + (h % 97) as f64;
                json!([
                    h * step,
                    format!("{c}"),
                    format!("{}", c + 1.0),
                    format!("{}", c - 1.0),
                    format!("{c}"),
                    "3.5",
                    h * step + step - 1,
                    "0",
                    1,
                    "0",
                    "0",
                    "0"
                ])
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(page)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hourly_candles_feed_intraday_emas_from_the_command_line() {
    let binance = MockServer::start().await;
    Mock::given(path("/api/v3/klines"))
        .respond_with(EveryCandleBinance)
        .mount(&binance)
        .await;
    let home = tempfile::tempdir().unwrap();
    let env = [("TALAB_BINANCE_BASE_URL", binance.uri())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let args = [
        "ingest",
        "fetch",
        "--symbols",
        "ETH",
        "--interval",
        "1h",
        "--since",
        "2024-01-01",
        "--until",
        "2024-01-02",
        "--json",
    ];
    let v = json_ok(&talab_async(home.path(), &args, &env).await);
    assert_eq!(
        (v[0]["fetched"].as_u64(), v[0]["source"].as_str()),
        (Some(48), Some("binance")),
        "{v}"
    );
    assert_eq!(
        (v[0]["report"]["bars"].as_u64(), v[0]["report"]["gaps"].as_u64()),
        (Some(48), Some(0))
    );

    // refresh-ema fetches the hours an intraday timeframe needs (the last 90 days for a new
    // series), then computes it; `talab ema` shows the last day's hours.
    let out = talab_async(
        home.path(),
        &[
            "refresh-ema",
            "--symbols",
            "BTC",
            "--tfs",
            "4h",
            "--periods",
            "10,20",
            "--json",
        ],
        &env,
    )
    .await;
    let refreshed = json_ok(&out);
    let hourly = json_ok(&talab(home.path(), &["assets", "--hourly", "--json"], &[]));
    let btc = hourly
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["symbol"] == "BTC")
        .expect("BTC's hourly bars");
    assert!(btc["rows"].as_i64().unwrap() >= 89 * 24, "{btc}");
    assert_eq!(
        (btc["gaps"].as_i64(), btc["source"].as_str()),
        (Some(0), Some("binance"))
    );
    let summary = refreshed.to_string();
    assert!(summary.contains("\"rebuilt\":2"), "{summary}");
    let rows = json_ok(&talab(
        home.path(),
        &["ema", "BTC", "--tf", "4H", "--format", "json"],
        &[],
    ));
    let rows = rows.as_array().unwrap();
    assert!(rows.len() >= 2, "{rows:?}");
    let last_day = rows[0]["day"].as_str().unwrap();
    for r in rows {
        assert_eq!(
            (r["tf"].as_str(), r["day"].as_str(), r["tf_days"].as_u64()),
            (Some("4H"), Some(last_day), Some(0))
        );
        assert!(r["ts"].as_str().unwrap().contains(":59:59.999"), "{r}");
    }
    let table = text(&talab(home.path(), &["ema", "BTC", "--tf", "4H"], &[]).stdout);
    assert!(
        table.contains(&format!("{last_day} ")) && table.contains(":59 "),
        "{table}"
    );

    // 4H enabled: a default refresh of ETH (daily and hourly bars kept) brings both up to date.
    let daily = [
        "ingest",
        "fetch",
        "--symbols",
        "ETH",
        "--since",
        "2024-01-01",
        "--until",
        "2024-01-10",
    ];
    assert_eq!(
        talab_async(home.path(), &daily, &env).await.status.code(),
        Some(0)
    );
    assert_eq!(
        talab(home.path(), &["timeframes", "enable", "4H"], &[])
            .status
            .code(),
        Some(0)
    );
    let out = talab_async(
        home.path(),
        &["refresh-ema", "--symbols", "ETH", "--periods", "10"],
        &env,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("hour(s) of ETH"),
        "the hours were fetched: {}",
        text(&out.stderr)
    );
    let rows = json_ok(&talab(
        home.path(),
        &["ema", "ETH", "--tf", "4H", "--format", "json"],
        &[],
    ));
    let last = rows[0]["day"].as_str().unwrap().parse::<NaiveDate>().unwrap();
    assert!(
        chrono::Utc::now().date_naive() - last <= Duration::days(1),
        "4H EMAs reach today: {last}"
    );

    // Hourly rows from a file: `ingest csv --interval 1h`, then the same intraday refresh.
    let file = home.path().join("ada_1h.csv");
    let rows: String = (0..48)
        .map(|h| format!("{},1.{h},1.{h},1.{h},1.{h},10\n", 1_709_251_200 + h * 3600))
        .collect();
    std::fs::write(&file, format!("timestamp,open,high,low,close,volume\n{rows}")).unwrap();
    let args = [
        "ingest",
        "csv",
        file.to_str().unwrap(),
        "--symbol",
        "ADA",
        "--interval",
        "1h",
        "--json",
    ];
    let v = json_ok(&talab(home.path(), &args, &[]));
    assert_eq!(
        (v[0]["bars"].as_u64(), v[0]["source"].as_str()),
        (Some(48), Some("csv")),
        "{v}"
    );
    let args = [
        "refresh-ema",
        "--symbols",
        "ADA",
        "--tfs",
        "4H",
        "--periods",
        "10",
        "--json",
    ];
    let out = talab(home.path(), &args, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a file series is not fetched: {}",
        text(&out.stderr)
    );

    // An intraday timeframe for a symbol without hourly bars and without fetching: exit 2, the way out.
    let ingest = ["ingest", "synthetic", "--symbols", "SOL", "--days", "30"];
    assert_eq!(talab(home.path(), &ingest, &[]).status.code(), Some(0));
    let out = talab(
        home.path(),
        &["refresh-ema", "--symbols", "SOL", "--tfs", "1H", "--no-fetch"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--interval 1h"),
        "{}",
        text(&out.stderr)
    );
}

/// Offline: one line per source with its reason (said once for all symbols), one line saying what
/// to do, and no warning repeating each reason per symbol.
#[test]
fn with_no_source_reachable_each_is_named_once_with_what_to_do() {
    let home = tempfile::tempdir().unwrap();
    let env = [
        ("TALAB_BINANCE_BASE_URL", "http://127.0.0.1:1"),
        ("TALAB_COINBASE_BASE_URL", "http://127.0.0.1:9"),
    ];
    let out = talab(home.path(), &["ingest", "fetch", "--symbols", "BTC,ETH"], &env);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    assert_eq!(lines[0], "error: no price source could serve BTC, ETH:");
    assert!(
        lines[1]
            .trim_start()
            .starts_with("binance: cannot reach 127.0.0.1:1 ("),
        "{err}"
    );
    assert!(
        lines[2]
            .trim_start()
            .starts_with("coinbase: cannot reach 127.0.0.1:9 ("),
        "{err}"
    );
    assert!(
        lines[3].contains("what to do:") && lines[3].contains("talab ingest csv FILE --symbol BTC"),
        "{err}"
    );
}
