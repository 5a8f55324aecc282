//! The HTTP price sources against wiremock servers answering with the real response shapes:
//! pagination (each page's query checked), 429 + Retry-After, CMC's plan error, Binance 451 with
//! the fall-through to Coinbase, an HTML error page, truncated JSON, empty answers, today's
//! incomplete day; then fetched rows loaded incrementally on SQLite and PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use serde_json::{Value, json};
use talab_features::sources::Interval;
use talab_features::{
    BinanceSource, CmcSource, CoinbaseSource, FeatureError, FetchOptions, HttpOptions, PriceSource,
    SourceChain, SourceKind, coverage, day_end, day_start, fetch_symbol, load_daily_bars,
};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn jan(d: u32) -> NaiveDate {
    day(2024, 1, d)
}

/// Short waits so retries do not slow the tests; 3 calls at most.
fn quick() -> HttpOptions {
    HttpOptions {
        timeout: Duration::from_secs(10),
        max_attempts: 3,
        base_wait: Duration::from_millis(5),
        max_retry_after: Duration::from_secs(5),
    }
}

fn ms(d: NaiveDate) -> i64 {
    day_start(d).timestamp_millis()
}

/// Deterministic prices of a day: open 100+i, close 101+i, high 105+i, low 95+i.
fn price(d: NaiveDate) -> (f64, f64, f64, f64, f64) {
    let i = (d - jan(1)).num_days() as f64;
    (100.0 + i, 105.0 + i, 95.0 + i, 101.0 + i, 1000.0 + i)
}

/// A Binance kline row as the API sends it.
fn kline(d: NaiveDate) -> Value {
    let (o, h, l, c, v) = price(d);
    json!([
        ms(d),
        format!("{o:.8}"),
        format!("{h:.8}"),
        format!("{l:.8}"),
        format!("{c:.8}"),
        format!("{v:.8}"),
        ms(d) + 86_400_000 - 1,
        "123456.78",
        4242,
        "500.0",
        "60000.0",
        "0"
    ])
}

/// A Coinbase candle: [time, low, high, open, close, volume].
fn candle(d: NaiveDate) -> Value {
    let (o, h, l, c, v) = price(d);
    json!([ms(d) / 1000, l, h, o, c, v])
}

/// A CMC quote for one day.
fn cmc_quote(d: NaiveDate) -> Value {
    let (o, h, l, c, v) = price(d);
    let at = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    json!({
        "time_open": at(day_start(d)),
        "time_close": at(day_end(d)),
        "time_high": at(day_start(d) + chrono::Duration::hours(14)),
        "time_low": at(day_start(d) + chrono::Duration::hours(3)),
        "quote": {"USD": {"open": o, "high": h, "low": l, "close": c, "volume": v,
                          "market_cap": c * 19e6, "timestamp": at(day_end(d))}}
    })
}

fn cmc_ok(data: Value) -> Value {
    json!({"data": data, "status": {"timestamp": "2024-02-01T00:00:00.000Z", "error_code": 0,
           "error_message": null, "elapsed": 10, "credit_count": 1, "notice": null}})
}

fn days(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days().take_while(|d| *d <= to).collect()
}

fn assert_days(rows: &[talab_features::RawPrice], from: NaiveDate, to: NaiveDate) {
    let got: Vec<NaiveDate> = rows.iter().map(|r| r.day()).collect();
    assert_eq!(got, days(from, to));
}

fn reason(e: &FeatureError) -> String {
    e.to_string()
}

#[tokio::test]
async fn binance_walks_pages_forward_and_maps_klines() {
    let server = MockServer::start().await;
    for (start, page) in [(1, 1..=2), (3, 3..=4), (5, 5..=5)] {
        let rows: Vec<Value> = page.map(|d| kline(jan(d))).collect();
        Mock::given(method("GET"))
            .and(path("/api/v3/klines"))
            .and(query_param("symbol", "BTCUSDT"))
            .and(query_param("interval", "1d"))
            .and(query_param("limit", "2"))
            .and(query_param("startTime", ms(jan(start)).to_string()))
            .and(query_param("endTime", (ms(jan(6)) - 1).to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(rows))
            .expect(1)
            .mount(&server)
            .await;
    }
    let source = BinanceSource::with_options(&server.uri(), quick())
        .unwrap()
        .with_page_size(2);
    let rows = source.daily("btc", Some(jan(1)), jan(5)).await.unwrap();
    assert_days(&rows, jan(1), jan(5));
    let r = &rows[2];
    assert_eq!(
        (r.symbol.as_str(), r.source, r.ts, r.time_open),
        ("BTC", SourceKind::Binance, day_end(jan(3)), day_start(jan(3)))
    );
    assert_eq!(
        (r.open, r.high, r.low, r.close, r.volume),
        (Some(102.0), Some(107.0), Some(97.0), Some(103.0), Some(1002.0))
    );
    assert_eq!((r.time_high, r.market_cap), (None, None));
}

#[tokio::test]
async fn coinbase_walks_300_candle_windows_backwards_and_reads_its_column_order() {
    let server = MockServer::start().await;
    for (start, end) in [(3, 5), (1, 2)] {
        // Newest first, as Coinbase sends them.
        let rows: Vec<Value> = (start..=end).rev().map(|d| candle(jan(d))).collect();
        Mock::given(method("GET"))
            .and(path("/products/ETH-USD/candles"))
            .and(query_param("granularity", "86400"))
            .and(query_param("start", format!("2024-01-{start:02}T00:00:00Z")))
            .and(query_param("end", format!("2024-01-{end:02}T00:00:00Z")))
            .respond_with(ResponseTemplate::new(200).set_body_json(rows))
            .expect(1)
            .mount(&server)
            .await;
    }
    let source = CoinbaseSource::with_options(&server.uri(), quick())
        .unwrap()
        .with_page_size(3);
    let rows = source.daily("ETH", Some(jan(1)), jan(5)).await.unwrap();
    assert_days(&rows, jan(1), jan(5));
    let r = &rows[0];
    assert_eq!(
        (r.open, r.high, r.low, r.close, r.volume),
        (Some(100.0), Some(105.0), Some(95.0), Some(101.0), Some(1000.0)),
        "[time, low, high, open, close, volume]"
    );
    assert_eq!((r.source, r.ts), (SourceKind::Coinbase, day_end(jan(1))));
}

#[tokio::test]
async fn coinbase_without_a_start_walks_back_until_an_empty_window() {
    let server = MockServer::start().await;
    let windows = [
        ((3, 4), vec![4, 3]),
        ((1, 2), vec![2]), // listed on the 2nd
    ];
    for ((start, end), present) in windows {
        let rows: Vec<Value> = present.into_iter().map(|d| candle(jan(d))).collect();
        Mock::given(path("/products/BTC-USD/candles"))
            .and(query_param("start", format!("2024-01-{start:02}T00:00:00Z")))
            .respond_with(ResponseTemplate::new(200).set_body_json(rows))
            .expect(1)
            .named(format!("window {start}-{end}"))
            .mount(&server)
            .await;
    }
    Mock::given(path("/products/BTC-USD/candles"))
        .and(query_param("start", "2023-12-30T00:00:00Z"))
        .and(query_param("end", "2023-12-31T00:00:00Z"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let source = CoinbaseSource::with_options(&server.uri(), quick())
        .unwrap()
        .with_page_size(2);
    let rows = source.daily("BTC", None, jan(4)).await.unwrap();
    assert_days(&rows, jan(2), jan(4));
}

#[tokio::test]
async fn cmc_pages_after_the_last_quote_with_its_key_and_an_exclusive_start() {
    let server = MockServer::start().await;
    // By id (BTC = 1): the `data.{id, symbol, quotes}` shape.
    let pages = [
        ("2023-12-31T23:59:59.999Z", vec![1, 2]),
        ("2024-01-02T23:59:59.999Z", vec![3, 4]),
        ("2024-01-04T23:59:59.999Z", vec![5]),
    ];
    for (start, page) in pages {
        let quotes: Vec<Value> = page.into_iter().map(|d| cmc_quote(jan(d))).collect();
        Mock::given(method("GET"))
            .and(path("/v2/cryptocurrency/ohlcv/historical"))
            .and(header("X-CMC_PRO_API_KEY", "test-key"))
            .and(query_param("id", "1"))
            .and(query_param("time_period", "daily"))
            .and(query_param("time_start", start))
            .and(query_param("time_end", "2024-01-05T23:59:59.999Z"))
            .and(query_param("count", "2"))
            .and(query_param("convert", "USD"))
            .respond_with(ResponseTemplate::new(200).set_body_json(cmc_ok(
                json!({"id": 1, "name": "Bitcoin", "symbol": "BTC", "quotes": quotes}),
            )))
            .expect(1)
            .mount(&server)
            .await;
    }
    let source = CmcSource::with_options(&server.uri(), "test-key", quick())
        .unwrap()
        .with_ids([("btc".to_string(), 1)])
        .with_page_size(2);
    let rows = source.daily("BTC", Some(jan(1)), jan(5)).await.unwrap();
    assert_days(&rows, jan(1), jan(5));
    let r = &rows[4];
    assert_eq!(
        (r.source, r.ts, r.close),
        (SourceKind::Cmc, day_end(jan(5)), Some(105.0))
    );
    assert_eq!(r.time_high, Some(day_start(jan(5)) + chrono::Duration::hours(14)));
    assert_eq!(r.market_cap, Some(105.0 * 19e6));
    assert!(!format!("{source:?}").contains("test-key"), "the key never shows");
}

#[tokio::test]
async fn cmc_by_symbol_reads_the_v2_map_of_lists_and_picks_the_symbol() {
    let server = MockServer::start().await;
    let data = json!({"ETH": [
        {"id": 1027, "name": "Ethereum", "symbol": "ETH", "quotes": [cmc_quote(jan(1)), cmc_quote(jan(2))]},
        {"id": 99999, "name": "Other ETH", "symbol": "ETH", "quotes": []}
    ]});
    Mock::given(path("/v2/cryptocurrency/ohlcv/historical"))
        .and(query_param("symbol", "ETH"))
        .respond_with(ResponseTemplate::new(200).set_body_json(cmc_ok(data)))
        .expect(1)
        .mount(&server)
        .await;
    let source = CmcSource::with_options(&server.uri(), "k", quick()).unwrap();
    let rows = source.daily("eth", Some(jan(1)), jan(2)).await.unwrap();
    assert_days(&rows, jan(1), jan(2));
}

fn plan_error() -> ResponseTemplate {
    ResponseTemplate::new(403).set_body_json(json!({"status": {
        "timestamp": "2024-02-01T00:00:00.000Z", "error_code": 1006,
        "error_message": "Your API Key subscription plan doesn't support this endpoint.",
        "elapsed": 0, "credit_count": 0}}))
}

#[tokio::test]
async fn cmc_plan_error_is_named_as_such_not_as_no_data_and_the_chain_moves_on() {
    let cmc = MockServer::start().await;
    Mock::given(path("/v2/cryptocurrency/ohlcv/historical"))
        .respond_with(plan_error())
        .expect(2)
        .mount(&cmc)
        .await;
    let source = CmcSource::with_options(&cmc.uri(), "free-plan-key", quick()).unwrap();
    let err = source.daily("BTC", Some(jan(1)), jan(2)).await.unwrap_err();
    assert!(matches!(err, FeatureError::SourceUnavailable { .. }), "{err:?}");
    let text = reason(&err);
    assert!(
        text.contains("plan does not include historical OHLCV")
            && text.contains("1006")
            && text.contains("doesn't support this endpoint"),
        "{text}"
    );
    assert!(!text.contains("free-plan-key"), "{text}");

    let binance = MockServer::start().await;
    Mock::given(path("/api/v3/klines"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([kline(jan(1)), kline(jan(2))])))
        .mount(&binance)
        .await;
    let chain = SourceChain::new(vec![
        Arc::new(source),
        Arc::new(BinanceSource::with_options(&binance.uri(), quick()).unwrap()),
    ]);
    let fetched = chain.daily("BTC", Some(jan(1)), jan(2)).await.unwrap();
    assert_eq!((fetched.source, fetched.rows.len()), (SourceKind::Binance, 2));
    assert_eq!(fetched.notes.len(), 1);
    assert!(
        fetched.notes[0].contains("plan") && fetched.notes[0].ends_with("trying binance"),
        "{:?}",
        fetched.notes
    );
}

#[tokio::test]
async fn binance_451_falls_through_to_coinbase_saying_so() {
    let binance = MockServer::start().await;
    Mock::given(path("/api/v3/klines"))
        .respond_with(ResponseTemplate::new(451).set_body_json(json!({"code": 0,
            "msg": "Service unavailable from a restricted location according to 'b. Eligibility' in https://www.binance.com/en/terms."})))
        .expect(1)
        .mount(&binance)
        .await;
    let coinbase = MockServer::start().await;
    Mock::given(path("/products/BTC-USD/candles"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([candle(jan(2)), candle(jan(1))])))
        .expect(1)
        .mount(&coinbase)
        .await;
    let chain = SourceChain::default_order(
        None,
        Arc::new(BinanceSource::with_options(&binance.uri(), quick()).unwrap()),
        Arc::new(CoinbaseSource::with_options(&coinbase.uri(), quick()).unwrap()),
    );
    assert_eq!(chain.kinds(), [SourceKind::Binance, SourceKind::Coinbase]);
    let fetched = chain.daily("BTC", Some(jan(1)), jan(2)).await.unwrap();
    assert_eq!(fetched.source, SourceKind::Coinbase);
    assert_days(&fetched.rows, jan(1), jan(2));
    let note = &fetched.notes[0];
    assert!(
        note.contains("binance is unavailable")
            && note.contains("HTTP 451")
            && note.contains("restricted location")
            && note.ends_with("trying coinbase"),
        "{note}"
    );
}

#[tokio::test]
async fn when_every_source_is_unavailable_the_error_lists_each_reason() {
    let binance = MockServer::start().await;
    Mock::given(path("/api/v3/klines"))
        .respond_with(ResponseTemplate::new(451).set_body_string("blocked"))
        .mount(&binance)
        .await;
    // Nothing listens on port 1: unreachable.
    let chain = SourceChain::new(vec![
        Arc::new(BinanceSource::with_options(&binance.uri(), quick()).unwrap()),
        Arc::new(CoinbaseSource::with_options("http://127.0.0.1:1", quick()).unwrap()),
    ]);
    let err = chain.daily("BTC", Some(jan(1)), jan(2)).await.unwrap_err();
    let text = reason(&err);
    let FeatureError::NoSource { symbol, reasons } = &err else {
        panic!("{text}")
    };
    assert_eq!(symbol, "BTC");
    assert_eq!(reasons.len(), 2, "{text}");
    assert!(
        reasons[0].0 == "binance" && reasons[0].1.contains("HTTP 451"),
        "{text}"
    );
    assert!(
        reasons[1].0 == "coinbase" && reasons[1].1.starts_with("cannot reach 127.0.0.1:1 ("),
        "one short line per source: {text}"
    );
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_the_page_is_read() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v3/klines"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(json!({"code": -1003, "msg": "Too many requests."})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v3/klines"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([kline(jan(1))])))
        .expect(1)
        .mount(&server)
        .await;
    let source = BinanceSource::with_options(&server.uri(), quick()).unwrap();
    let rows = source.daily("BTC", Some(jan(1)), jan(1)).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        source.retry_waits(),
        [Duration::from_secs(1)],
        "waited what Retry-After asked"
    );
}

#[tokio::test]
async fn retries_are_bounded_and_a_long_retry_after_is_not_waited_for() {
    let server = MockServer::start().await;
    Mock::given(path("/products/BTC-USD/candles"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "0")
                .set_body_json(json!({"message": "Public rate limit exceeded"})),
        )
        .expect(3)
        .mount(&server)
        .await;
    let source = CoinbaseSource::with_options(&server.uri(), quick()).unwrap();
    let err = source.daily("BTC", Some(jan(1)), jan(1)).await.unwrap_err();
    let text = reason(&err);
    assert!(
        text.contains("rate limited: HTTP 429: Public rate limit exceeded")
            && text.contains("gave up after 3 attempts"),
        "{text}"
    );
    server.verify().await;

    let server = MockServer::start().await;
    Mock::given(path("/api/v3/klines"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3600"))
        .expect(1)
        .mount(&server)
        .await;
    let source = BinanceSource::with_options(&server.uri(), quick()).unwrap();
    let text = reason(&source.daily("BTC", Some(jan(1)), jan(1)).await.unwrap_err());
    assert!(text.contains("asks to wait 3600 s"), "{text}");
}

#[tokio::test]
async fn an_html_error_page_is_named_with_its_title() {
    let page = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let server = MockServer::start().await;
    Mock::given(path("/api/v3/klines"))
        .respond_with(ResponseTemplate::new(502).set_body_string(page))
        .expect(3)
        .mount(&server)
        .await;
    let source = BinanceSource::with_options(&server.uri(), quick()).unwrap();
    let err = source.daily("BTC", Some(jan(1)), jan(1)).await.unwrap_err();
    let text = reason(&err);
    assert!(matches!(err, FeatureError::Source { .. }), "{text}");
    assert!(
        text.contains("HTTP 502 with an HTML page (\"502 Bad Gateway\")")
            && text.contains("after 3 attempts"),
        "{text}"
    );

    // A captive portal or proxy answering 200 with a page.
    let server = MockServer::start().await;
    Mock::given(path("/products/BTC-USD/candles"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html><title>Sign in</title></html>"))
        .mount(&server)
        .await;
    let source = CoinbaseSource::with_options(&server.uri(), quick()).unwrap();
    let text = reason(&source.daily("BTC", Some(jan(1)), jan(1)).await.unwrap_err());
    assert!(
        text.contains("HTTP 200 with an HTML page (\"Sign in\") instead of JSON"),
        "{text}"
    );
}

#[tokio::test]
async fn truncated_json_is_reported_as_truncated() {
    let server = MockServer::start().await;
    let full = json!([kline(jan(1))]).to_string();
    Mock::given(path("/api/v3/klines"))
        .respond_with(ResponseTemplate::new(200).set_body_string(&full[..full.len() / 2]))
        .mount(&server)
        .await;
    let source = BinanceSource::with_options(&server.uri(), quick()).unwrap();
    let text = reason(&source.daily("BTC", Some(jan(1)), jan(1)).await.unwrap_err());
    assert!(
        text.starts_with("price source binance: the response JSON is truncated"),
        "{text}"
    );

    let server = MockServer::start().await;
    let full = cmc_ok(json!({"id": 1, "symbol": "BTC", "quotes": [cmc_quote(jan(1))]})).to_string();
    Mock::given(path("/v2/cryptocurrency/ohlcv/historical"))
        .respond_with(ResponseTemplate::new(200).set_body_string(&full[..full.len() - 3]))
        .mount(&server)
        .await;
    let source = CmcSource::with_options(&server.uri(), "k", quick()).unwrap();
    let text = reason(&source.daily("BTC", Some(jan(1)), jan(1)).await.unwrap_err());
    assert!(text.contains("truncated"), "{text}");
}

#[tokio::test]
async fn empty_answers_are_no_rows_not_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v3/klines"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/products/BTC-USD/candles"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/cryptocurrency/ohlcv/historical"))
        .respond_with(ResponseTemplate::new(200).set_body_json(cmc_ok(
            json!({"id": 1, "name": "Bitcoin", "symbol": "BTC", "quotes": []}),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let since = Some(jan(1));
    let binance = BinanceSource::with_options(&server.uri(), quick()).unwrap();
    assert!(binance.daily("BTC", since, jan(3)).await.unwrap().is_empty());
    let coinbase = CoinbaseSource::with_options(&server.uri(), quick()).unwrap();
    assert!(coinbase.daily("BTC", since, jan(3)).await.unwrap().is_empty());
    let cmc = CmcSource::with_options(&server.uri(), "k", quick()).unwrap();
    assert!(cmc.daily("BTC", since, jan(3)).await.unwrap().is_empty());
}

#[tokio::test]
async fn todays_incomplete_day_is_never_delivered() {
    let today = Utc::now().date_naive();
    let first = today - chrono::Duration::days(2);
    let server = MockServer::start().await;
    // A server that (wrongly or racily) includes the running day.
    Mock::given(path("/api/v3/klines"))
        .and(query_param("endTime", (ms(today) - 1).to_string()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(
            days(first, today).into_iter().map(kline).collect::<Vec<_>>()
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/products/BTC-USD/candles"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(
            days(first, today).into_iter().rev().map(candle).collect::<Vec<_>>()
        )))
        .mount(&server)
        .await;
    let binance = BinanceSource::with_options(&server.uri(), quick()).unwrap();
    let rows = binance.daily("BTC", Some(first), today).await.unwrap();
    assert_days(&rows, first, today - chrono::Duration::days(1));
    let coinbase = CoinbaseSource::with_options(&server.uri(), quick()).unwrap();
    let rows = coinbase.daily("BTC", Some(first), today).await.unwrap();
    assert_days(&rows, first, today - chrono::Duration::days(1));
}

#[tokio::test]
async fn hourly_candles_use_the_hour_interval() {
    let server = MockServer::start().await;
    let h = |i: i64| day_start(jan(1)) + chrono::Duration::hours(i);
    Mock::given(path("/api/v3/klines"))
        .and(query_param("interval", "1h"))
        .and(query_param("startTime", h(0).timestamp_millis().to_string()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            [
                h(0).timestamp_millis(),
                "1",
                "2",
                "0.5",
                "1.5",
                "10",
                h(1).timestamp_millis() - 1
            ],
            [
                h(1).timestamp_millis(),
                "1.5",
                "2",
                "1",
                "1.8",
                "11",
                h(2).timestamp_millis() - 1
            ]
        ])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/products/BTC-USD/candles"))
        .and(query_param("granularity", "3600"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            [h(1).timestamp(), 1.0, 2.0, 1.5, 1.8, 11.0],
            [h(0).timestamp(), 0.5, 2.0, 1.0, 1.5, 10.0]
        ])))
        .mount(&server)
        .await;
    let binance = BinanceSource::with_options(&server.uri(), quick()).unwrap();
    let rows = binance.hourly("BTC", Some(h(0)), h(2)).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.ts).collect::<Vec<_>>(),
        [Interval::Hour.close_of(h(0)), Interval::Hour.close_of(h(1))]
    );
    let coinbase = CoinbaseSource::with_options(&server.uri(), quick()).unwrap();
    let rows = coinbase.hourly("BTC", Some(h(0)), h(2)).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].open, rows[1].close), (Some(1.0), Some(1.8)));
}

#[tokio::test]
async fn fetched_rows_load_incrementally_on_both_backends() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v3/klines"))
        .and(query_param("startTime", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(
            days(jan(1), jan(5)).into_iter().map(kline).collect::<Vec<_>>()
        )))
        .mount(&server)
        .await;
    Mock::given(path("/api/v3/klines"))
        .and(query_param("startTime", ms(jan(6)).to_string()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(
            days(jan(6), jan(7)).into_iter().map(kline).collect::<Vec<_>>()
        )))
        .mount(&server)
        .await;
    let chain = SourceChain::new(vec![Arc::new(
        BinanceSource::with_options(&server.uri(), quick()).unwrap(),
    )]);
    let until = |d| FetchOptions {
        until: jan(d),
        ..FetchOptions::default()
    };
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        let first = fetch_symbol(db, &chain, "btc", &until(5)).await.unwrap();
        assert_eq!(
            (first.source, first.fetched, first.from),
            (Some(SourceKind::Binance), 5, None),
            "{}",
            t.label()
        );
        let report = first.report.unwrap();
        assert_eq!((report.inserted, report.bars, report.gaps), (5, 5, 0));
        let bars = load_daily_bars(db, "BTC").await.unwrap();
        assert_eq!(bars.len(), 5);

        // Up to date: nothing is asked.
        let requests = server.received_requests().await.unwrap().len();
        let same = fetch_symbol(db, &chain, "BTC", &until(5)).await.unwrap();
        assert_eq!((same.source, same.fetched), (None, 0));
        assert!(
            same.notes[0].contains("up to date through 2024-01-05"),
            "{:?}",
            same.notes
        );
        assert_eq!(server.received_requests().await.unwrap().len(), requests);

        // Only the new days are asked for.
        let next = fetch_symbol(db, &chain, "BTC", &until(7)).await.unwrap();
        assert_eq!((next.from, next.fetched), (Some(jan(6)), 2));
        assert_eq!(next.report.as_ref().map(|r| r.inserted), Some(2));
        let cov = coverage(db).await.unwrap();
        assert_eq!(
            (
                cov[0].first_day,
                cov[0].last_day,
                cov[0].rows,
                cov[0].source.as_str()
            ),
            (jan(1), jan(7), 7, "binance")
        );

        // A series from another source is refused before any request.
        let synthetic = talab_features::SyntheticSource::new(1).with_start(jan(1));
        talab_features::ingest::ingest_synthetic(db, &synthetic, &["ETH".into()], 3, false)
            .await
            .unwrap();
        let requests = server.received_requests().await.unwrap().len();
        let err = fetch_symbol(db, &chain, "ETH", &until(7)).await.unwrap_err();
        assert!(matches!(err, FeatureError::SourceConflict { .. }), "{err}");
        assert_eq!(server.received_requests().await.unwrap().len(), requests);
    }
}
