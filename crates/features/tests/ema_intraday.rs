//! Intraday EMAs end to end on SQLite and PostgreSQL: hourly candles fetched from a (wiremock)
//! Binance → `cmc_price_bars_1h` → 1H/4H/6H EMAs, checked against a straightforward implementation
//! written here; a later fetch rolls forward to exactly what a full rebuild gives; a revised hour
//! rebuilds; and the hourly store's own rules (validation, one source per series).

use crate::support;
use talab_db::sqlx;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use talab_db::{Database, on_pool};
use talab_features::sources::Interval;
use talab_features::time::TimeframeRegistry;
use talab_features::{
    BinanceSource, EmaQuery, EmaRefresher, FeatureError, FetchOptions, IngestOptions, PriceSource, RawPrice,
    RefreshOptions, SourceChain, SourceKind, StoredEma, Timeframe, day_start, fetch_symbol, ingest_csv,
    read_emas, store_hourly,
};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::path};

fn start() -> DateTime<Utc> {
    day_start(NaiveDate::from_ymd_opt(2024, 3, 1).unwrap())
}

/// A seeded random walk of hourly closes.
fn walk(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    let mut price = 60_000.0;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            price *= 1.0 + (u - 0.5) * 0.01;
            price
        })
        .collect()
}

/// A fake Binance `/api/v3/klines` serving hourly candles of the closes it holds, paged by
/// startTime/endTime/limit as the real one is.
#[derive(Clone, Default)]
struct FakeBinance(Arc<Mutex<Vec<f64>>>);

impl Respond for FakeBinance {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let q = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.parse::<i64>().unwrap())
        };
        assert_eq!(
            request
                .url
                .query_pairs()
                .find(|(k, _)| k == "interval")
                .unwrap()
                .1,
            "1h"
        );
        let (from, to, limit) = (
            q("startTime").unwrap(),
            q("endTime").unwrap(),
            q("limit").unwrap(),
        );
        let closes = self.0.lock().unwrap().clone();
        let page: Vec<Value> = closes
            .iter()
            .enumerate()
            .map(|(i, &c)| (start() + Duration::hours(i as i64), c))
            .filter(|(open, _)| (from..=to).contains(&open.timestamp_millis()))
            .take(limit as usize)
            .map(|(open, c)| {
                let o = open.timestamp_millis();
                json!([
                    o,
                    format!("{}", c * 0.999),
                    format!("{}", c * 1.002),
                    format!("{}", c * 0.997),
                    format!("{c}"),
                    "12.5",
                    o + 3_599_999,
                    "0",
                    10,
                    "0",
                    "0",
                    "0"
                ])
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(page)
    }
}

async fn exchange(closes: &FakeBinance) -> (MockServer, SourceChain) {
    let server = MockServer::start().await;
    Mock::given(path("/api/v3/klines"))
        .respond_with(closes.clone())
        .mount(&server)
        .await;
    let binance: Arc<dyn PriceSource> = Arc::new(BinanceSource::new(&server.uri()).unwrap());
    (server, SourceChain::new(vec![binance]))
}

fn hourly_fetch(since: Option<NaiveDate>) -> FetchOptions {
    FetchOptions {
        since,
        ..FetchOptions::new(Interval::Hour)
    }
}

fn opts(tfs: &[&str], periods: &[usize], full: bool) -> RefreshOptions {
    RefreshOptions {
        tfs: tfs.iter().map(|t| Timeframe::parse(t).unwrap()).collect(),
        periods: periods.to_vec(),
        full,
        ..Default::default()
    }
}

/// (index of the hour, ema, ema_bar) of an `n`-hour timeframe with period `p`, the plain way:
/// bars of n hours from 00:00 UTC, the core EMA over completed bars' closes (SMA seed), `ema_bar`
/// one step from the last bar value inside a bar, `ema` a continuous hourly EMA with α = 2/(n·p+1)
/// seeded with the first bar value.
fn expected(closes: &[f64], n: usize, p: usize) -> Vec<(usize, f64, f64)> {
    let alpha = 2.0 / (p as f64 + 1.0);
    let alpha_hourly = 2.0 / ((n * p) as f64 + 1.0);
    let mut bar_closes = Vec::new();
    let mut bar_ema: Option<f64> = None;
    let mut continuous: Option<f64> = None;
    let mut out = Vec::new();
    for (i, &c) in closes.iter().enumerate() {
        let closes_bar = (i + 1) % n == 0;
        if closes_bar {
            bar_closes.push(c);
            bar_ema = match bar_ema {
                Some(e) => Some(alpha * c + (1.0 - alpha) * e),
                None if bar_closes.len() == p => Some(bar_closes.iter().sum::<f64>() / p as f64),
                None => None,
            };
        }
        let Some(e) = bar_ema else { continue };
        let ema_bar = if closes_bar {
            e
        } else {
            alpha * c + (1.0 - alpha) * e
        };
        let ema = match continuous {
            None => e,
            Some(prev) => alpha_hourly * c + (1.0 - alpha_hourly) * prev,
        };
        continuous = Some(ema);
        out.push((i, ema, ema_bar));
    }
    out
}

fn assert_matches(rows: &[StoredEma], closes: &[f64], tf: &str, n: usize, p: usize) {
    let rows: Vec<&StoredEma> = rows.iter().filter(|r| r.period == p as u32).collect();
    let want = expected(closes, n, p);
    assert_eq!(
        rows.len(),
        want.len(),
        "{tf} p{p}: one row per hour from the seed"
    );
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs();
    for (r, &(i, ema, ema_bar)) in rows.iter().zip(&want) {
        assert_eq!(
            r.ts,
            start() + Duration::hours(i as i64 + 1) - Duration::milliseconds(1)
        );
        assert!(
            close(r.ema, ema) && close(r.ema_bar, ema_bar),
            "{tf} p{p} hour {i}: {r:?} vs ({ema}, {ema_bar})"
        );
        assert_eq!(r.roll, (i + 1) % n != 0, "{tf} hour {i}");
        assert_eq!(r.tf_days, 0, "intraday rows have no whole days");
    }
}

/// Every stored row of the intraday timeframes, without computed_at, for equality.
async fn snapshot(db: &Database) -> Vec<StoredEma> {
    let mut out = Vec::new();
    for tf in ["1H", "4H", "6H"] {
        out.extend(all_rows_of(db, "BTC", tf).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn hourly_candles_give_exact_intraday_emas_incrementally_on_both_backends() {
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        let closes = walk(720, 7);
        let fake = FakeBinance::default();
        *fake.0.lock().unwrap() = closes[..400].to_vec();
        let (_server, chain) = exchange(&fake).await;

        let first = fetch_symbol(db, &chain, "BTC", &hourly_fetch(Some(start().date_naive())))
            .await
            .unwrap();
        assert_eq!((first.fetched, first.source), (400, Some(SourceKind::Binance)));
        let report = first.report.unwrap();
        assert_eq!((report.inserted, report.bars, report.gaps), (400, 400, 0));

        let engine = EmaRefresher::open(db.clone()).await.unwrap();
        let asked = opts(&["1H", "4H", "6H"], &[10, 21], false);
        let r = engine.refresh_symbol("btc", &asked).await.unwrap();
        assert_eq!((r.rebuilt, r.extended), (6, 0));

        // 320 more hours: the fetch resumes after the last stored hour, the refresh rolls forward.
        fake.0.lock().unwrap().extend_from_slice(&closes[400..]);
        let more = fetch_symbol(db, &chain, "BTC", &hourly_fetch(None))
            .await
            .unwrap();
        assert_eq!(more.fetched, 320, "only the new hours are asked for");
        let r = engine.refresh_symbol("BTC", &asked).await.unwrap();
        assert_eq!((r.rebuilt, r.extended), (0, 6));
        assert_eq!(r.first_day, start().date_naive());
        assert_eq!(r.last_day, start().date_naive() + Duration::days(29));

        let rolled = snapshot(db).await;
        for (tf, n) in [("1H", 1), ("4H", 4), ("6H", 6)] {
            let rows = all_rows_of(db, "BTC", tf).await;
            for p in [10, 21] {
                assert_matches(&rows, &closes, tf, n, p);
            }
        }
        engine
            .refresh_symbol("BTC", &opts(&["1H", "4H", "6H"], &[10, 21], true))
            .await
            .unwrap();
        assert_eq!(
            snapshot(db).await,
            rolled,
            "roll-forward = full rebuild, bit for bit ({:?})",
            db.backend()
        );

        // A revised hour before the watermark rebuilds the series from the first hour.
        let mut revised = closes.clone();
        revised[100] *= 1.05;
        *fake.0.lock().unwrap() = revised.clone();
        let again = fetch_symbol(db, &chain, "BTC", &hourly_fetch(Some(start().date_naive())))
            .await
            .unwrap();
        assert_eq!(
            again.report.as_ref().map(|r| (r.updated, r.unchanged)),
            Some((1, 719))
        );
        let r = engine.refresh_symbol("BTC", &asked).await.unwrap();
        assert_eq!((r.rebuilt, r.extended, r.up_to_date), (6, 0, 0));
        assert_matches(&all_rows_of(db, "BTC", "4H").await, &revised, "4H", 4, 10);
    }
}

#[tokio::test]
async fn intraday_timeframes_need_hourly_bars_unless_they_come_from_the_default_set() {
    let t = talab_db::testing::sqlite().await;
    let db = &t.db;
    let day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let daily: Vec<RawPrice> = (0..40)
        .map(|i| {
            let d = day + Duration::days(i);
            support::flat_candle(
                "AAA",
                day_start(d),
                talab_features::day_end(d),
                100.0 + i as f64,
                SourceKind::Synthetic,
            )
        })
        .collect();
    talab_features::ingest_rows(db, "AAA", SourceKind::Synthetic, daily, false)
        .await
        .unwrap();
    let engine = EmaRefresher::open(db.clone()).await.unwrap();

    let err = engine
        .refresh_symbol("AAA", &opts(&["4H"], &[10], false))
        .await
        .unwrap_err();
    assert!(matches!(err, FeatureError::NoHourlyBars { .. }), "{err}");
    assert!(
        err.to_string().contains("computed from them"),
        "says why they are needed: {err}"
    );

    // 4H enabled: the default set computes it where hourly bars exist and skips it elsewhere.
    TimeframeRegistry::open(db.clone())
        .await
        .unwrap()
        .enable("4h")
        .await
        .unwrap();
    let r = engine
        .refresh_symbol("AAA", &opts(&[], &[10], false))
        .await
        .unwrap();
    assert!(r.rows_tf_day > 0);
    assert!(all_rows_of(db, "AAA", "4H").await.is_empty());
    let hours: Vec<RawPrice> = (0..48)
        .map(|i| {
            let open = day_start(day) + Duration::hours(i);
            support::flat_candle(
                "AAA",
                open,
                Interval::Hour.close_of(open),
                100.0 + i as f64,
                SourceKind::Binance,
            )
        })
        .collect();
    store_hourly(db, "AAA", SourceKind::Binance, hours, false)
        .await
        .unwrap();
    engine
        .refresh_symbol("AAA", &opts(&[], &[10], false))
        .await
        .unwrap();
    assert_eq!(
        all_rows_of(db, "AAA", "4H").await.len(),
        48 - 39,
        "4H p10 seeds on the 10th bar (hour 40)"
    );

    // The FeatureStore frame tells the hours apart by its `ts` column.
    let store = talab_features::SqlFeatureStore::open(db.clone()).await.unwrap();
    let frame = talab_features::FeatureStore::get_ema(&store, "aaa", day + Duration::days(1), "4h")
        .await
        .unwrap();
    assert_eq!(frame.height(), 9);
    let ts = frame.column("ts").unwrap().datetime().unwrap().physical();
    let want: Vec<Option<i64>> = (39..48)
        .map(|h| Some((day_start(day) + Duration::hours(h + 1)).timestamp_millis() - 1))
        .collect();
    assert_eq!((0..ts.len()).map(|i| ts.get(i)).collect::<Vec<_>>(), want);
}

async fn all_rows_of(db: &Database, symbol: &str, tf: &str) -> Vec<StoredEma> {
    let q = EmaQuery {
        symbol: symbol.into(),
        tfs: vec![tf.into()],
        ..Default::default()
    };
    read_emas(db, &q).await.unwrap()
}

#[tokio::test]
async fn the_hourly_store_validates_and_keeps_one_source() {
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        let hour = |i: i64| day_start(NaiveDate::from_ymd_opt(2024, 5, 1).unwrap()) + Duration::hours(i);
        let candle = |i: i64, close: f64| {
            support::flat_candle(
                "ETH",
                hour(i),
                Interval::Hour.close_of(hour(i)),
                close,
                SourceKind::Binance,
            )
        };
        let mut rows: Vec<RawPrice> = (0..5).map(|i| candle(i, 3000.0 + i as f64)).collect();
        rows[2].close = Some(f64::NAN);
        rows.push(candle(4, 3100.0)); // hour 4 twice
        let report = store_hourly(db, "eth", SourceKind::Binance, rows, false)
            .await
            .unwrap();
        assert_eq!(
            (report.inserted, report.bar_rejects, report.rejected, report.bars),
            (3, 3, 0, 3),
            "NaN close and both hour-4 rows refused (as bars; every row parsed)"
        );
        assert_eq!(report.gaps, 1, "hour 2 is missing between hours 0 and 3");

        let again = store_hourly(
            db,
            "ETH",
            SourceKind::Binance,
            vec![candle(0, 3000.0), candle(2, 3002.0)],
            false,
        )
        .await
        .unwrap();
        assert_eq!((again.inserted, again.unchanged, again.gaps), (1, 1, 0));

        let coinbase = vec![support::flat_candle(
            "ETH",
            hour(9),
            Interval::Hour.close_of(hour(9)),
            1.0,
            SourceKind::Coinbase,
        )];
        let err = store_hourly(db, "ETH", SourceKind::Coinbase, coinbase, false)
            .await
            .unwrap_err();
        assert!(matches!(err, FeatureError::SourceConflict { .. }), "{err}");

        let mut off_grid = candle(7, 1.0);
        off_grid.ts -= Duration::minutes(30);
        let err = store_hourly(db, "ETH", SourceKind::Binance, vec![off_grid], false)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not an hourly candle"), "{err}");
        let stored: i64 = on_pool!(db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM cmc_price_bars_1h").fetch_one(pool).await
        })
        .unwrap();
        assert_eq!(stored, 4, "refused loads wrote nothing");
    }
}

/// An hourly OHLCV file: `time` the hour's start, in the style given, one row per close.
fn hourly_csv(
    dir: &std::path::Path,
    closes: &[f64],
    time: impl Fn(DateTime<Utc>) -> String,
) -> std::path::PathBuf {
    let mut text = String::from("time,open,high,low,close,volume\n");
    for (i, c) in closes.iter().enumerate() {
        let open = start() + Duration::hours(i as i64);
        text += &format!("{},{c},{c},{c},{c},1.5\n", time(open));
    }
    let path = dir.join("ada_1h.csv");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn an_hourly_csv_file_feeds_intraday_emas_and_bad_files_are_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        let closes = walk(200, 3);
        let hourly = IngestOptions {
            symbol: Some("ADA".into()),
            interval: Interval::Hour,
            ..Default::default()
        };
        let path = hourly_csv(dir.path(), &closes, |t| t.format("%Y-%m-%d %H:%M").to_string());
        let report = ingest_csv(db, &path, &hourly).await.unwrap();
        assert_eq!(
            (report.inserted, report.bars, report.gaps, report.source),
            (200, 200, 0, SourceKind::Csv)
        );
        let engine = EmaRefresher::open(db.clone()).await.unwrap();
        engine
            .refresh_symbol("ADA", &opts(&["4H"], &[10], false))
            .await
            .unwrap();
        assert_matches(&all_rows_of(db, "ADA", "4H").await, &closes, "4H", 4, 10);

        // The same hours as Unix milliseconds: nothing changes.
        let again = hourly_csv(dir.path(), &closes, |t| t.timestamp_millis().to_string());
        assert_eq!(ingest_csv(db, &again, &hourly).await.unwrap().unchanged, 200);

        let mid_hour = hourly_csv(dir.path(), &closes[..3], |t| {
            (t + Duration::minutes(30)).to_rfc3339()
        });
        let err = ingest_csv(db, &mid_hour, &hourly).await.unwrap_err().to_string();
        assert!(
            err.contains(":2: time:") && err.contains("not the start of an hour"),
            "{err}"
        );
        let twice = hourly_csv(dir.path(), &[1.0, 2.0], |_| {
            start().format("%Y-%m-%dT%H:%M:%S").to_string()
        });
        let err = ingest_csv(db, &twice, &hourly).await.unwrap_err().to_string();
        assert!(err.contains("already appears on line 2"), "{err}");
        let stored: i64 = on_pool!(db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM cmc_price_bars_1h WHERE symbol = 'ADA'").fetch_one(pool).await
        })
        .unwrap();
        assert_eq!(stored, 200, "refused files wrote nothing");
    }
}
