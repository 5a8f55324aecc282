//! The EMA refresh on SQLite and PostgreSQL: the fixture, the real BTC/ETH histories against an
//! independent EMA, incremental = full rebuild (a property), revisions, and bad requests.

use crate::support;
use talab_db::sqlx;

use std::collections::HashMap;
use std::path::Path;

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use talab_db::{Database, on_pool};
use talab_features::{
    EmaQuery, EmaRefresher, FeatureError, FeatureStore, IngestOptions, RawPrice, RefreshOptions, SourceKind,
    SqlFeatureStore, StoredEma, Timeframe, day_end, day_start, ingest_csv, ingest_rows, read_emas,
};

fn rows_of(symbol: &str, days: &[(NaiveDate, f64)]) -> Vec<RawPrice> {
    days.iter()
        .map(|&(d, close)| {
            support::flat_candle(symbol, day_start(d), day_end(d), close, SourceKind::Synthetic)
        })
        .collect()
}

pub(crate) async fn load(db: &Database, symbol: &str, days: &[(NaiveDate, f64)]) {
    ingest_rows(db, symbol, SourceKind::Synthetic, rows_of(symbol, days), true)
        .await
        .unwrap();
}

fn opts(tfs: &[&str], periods: &[usize]) -> RefreshOptions {
    RefreshOptions {
        tfs: tfs.iter().map(|t| Timeframe::parse(t).unwrap()).collect(),
        periods: periods.to_vec(),
        ..Default::default()
    }
}

async fn stored(db: &Database, symbol: &str, tf: &str, period: u32) -> Vec<StoredEma> {
    let q = EmaQuery {
        symbol: symbol.into(),
        tfs: vec![tf.into()],
        periods: vec![period],
        ..Default::default()
    };
    read_emas(db, &q).await.unwrap()
}

async fn count(db: &Database, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    on_pool!(db, pool => sqlx::query_scalar(&sql).fetch_one(pool).await).unwrap()
}

/// (date, close, roll_3d, ema_bar_3d_p10, ema_3d_p10, ema_1d_p10) of the real-BTC fixture.
type FixtureRow = (NaiveDate, f64, bool, Option<f64>, Option<f64>, Option<f64>);

fn fixture() -> Vec<FixtureRow> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_path(support::data_path("ema_fixture_btc_2010.csv"))
        .unwrap();
    let h = reader.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let opt = |s: &str| (!s.is_empty()).then(|| s.parse::<f64>().unwrap());
    let c = [
        col("ts"),
        col("close"),
        col("roll_3d"),
        col("ema_bar_3d_p10"),
        col("ema_3d_p10"),
        col("ema_1d_p10"),
    ];
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                NaiveDate::parse_from_str(&r[c[0]][..10], "%Y-%m-%d").unwrap(),
                r[c[1]].parse().unwrap(),
                &r[c[2]] == "true",
                opt(&r[c[3]]),
                opt(&r[c[4]]),
                opt(&r[c[5]]),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_fixture_1d_and_3d_period_10_match_to_1e12() {
    let fx = fixture();
    let closes: Vec<(NaiveDate, f64)> = fx.iter().map(|r| (r.0, r.1)).collect();
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        load(db, "BTC", &closes).await;
        let engine = EmaRefresher::open(db.clone()).await.unwrap();
        engine
            .refresh_symbol("btc", &opts(&["1d", "3D"], &[10]))
            .await
            .unwrap();
        let d1: HashMap<NaiveDate, StoredEma> = stored(db, "BTC", "1D", 10)
            .await
            .into_iter()
            .map(|r| (r.day, r))
            .collect();
        let d3: HashMap<NaiveDate, StoredEma> = stored(db, "BTC", "3D", 10)
            .await
            .into_iter()
            .map(|r| (r.day, r))
            .collect();
        let mut checked = 0;
        for (day, _, roll, bar, ema, e1) in &fx {
            match e1 {
                Some(e) => {
                    let r = &d1[day];
                    assert!(
                        (r.ema - e).abs() < 1e-12 && (r.ema_bar - e).abs() < 1e-12,
                        "{} 1D {day}",
                        t.label()
                    );
                    assert!(!r.roll);
                }
                None => assert!(
                    !d1.contains_key(day),
                    "{} no 1D row before the seed ({day})",
                    t.label()
                ),
            }
            match (bar, ema) {
                (Some(b), Some(e)) => {
                    let r = &d3[day];
                    assert!(
                        (r.ema_bar - b).abs() < 1e-12,
                        "{} 3D ema_bar {day}: {} vs {b}",
                        t.label(),
                        r.ema_bar
                    );
                    assert!(
                        (r.ema - e).abs() < 1e-12,
                        "{} 3D ema {day}: {} vs {e}",
                        t.label(),
                        r.ema
                    );
                    assert_eq!(r.roll, *roll, "{} {day}", t.label());
                    assert_eq!(r.is_partial_end, *roll);
                    assert_eq!(r.tf_days, 3);
                    checked += 1;
                }
                _ => assert!(
                    !d3.contains_key(day),
                    "{} no 3D row before the seed ({day})",
                    t.label()
                ),
            }
        }
        assert!(checked > 10, "the fixture has 3D values to check");
    }
}

/// The straightforward EMA, written independently of the crate: SMA of the first p closes, then
/// e = α·x + (1−α)·e.
fn reference_ema(closes: &[f64], p: usize) -> Vec<Option<f64>> {
    let alpha = 2.0 / (p as f64 + 1.0);
    let mut out = vec![None; closes.len()];
    if closes.len() < p {
        return out;
    }
    let mut e = closes[..p].iter().sum::<f64>() / p as f64;
    out[p - 1] = Some(e);
    for i in p..closes.len() {
        e = alpha * closes[i] + (1.0 - alpha) * e;
        out[i] = Some(e);
    }
    out
}

#[tokio::test]
async fn real_btc_and_eth_1d_emas_equal_an_independent_implementation() {
    let files = [("coin_Bitcoin.csv", "BTC"), ("coin_Ethereum.csv", "ETH")];
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        for (file, symbol) in files {
            let options = IngestOptions {
                symbol: Some(symbol.into()),
                ..Default::default()
            };
            ingest_csv(db, Path::new(&support::data_path(file)), &options)
                .await
                .unwrap();
        }
        let engine = EmaRefresher::open(db.clone()).await.unwrap();
        // The default set: 13 timeframes × 7 periods.
        let mut total = 0;
        for (_, symbol) in files {
            let report = engine
                .refresh_symbol(symbol, &RefreshOptions::default())
                .await
                .unwrap();
            assert_eq!(report.rebuilt, 91, "{} {symbol}", t.label());
            total += report.rows();
        }
        let in_tables = count(db, "cmc_ema_multi_tf").await + count(db, "cmc_ema_multi_tf_cal").await;
        assert_eq!(in_tables as u64, total, "{}", t.label());
        // Nothing is written before a seed, so long timeframes × long periods add few or no rows.
        assert!(total > 40_000, "{}: {total} rows", t.label());
        for (file, symbol) in files {
            let closes: Vec<(NaiveDate, f64)> = support::coin_closes(file);
            let values: Vec<f64> = closes.iter().map(|c| c.1).collect();
            for p in [10, 20, 50, 200] {
                let expected = reference_ema(&values, p);
                let rows: HashMap<NaiveDate, f64> = stored(db, symbol, "1D", p as u32)
                    .await
                    .into_iter()
                    .map(|r| (r.day, r.ema))
                    .collect();
                assert_eq!(rows.len(), values.len() - p + 1, "{} {symbol} p{p}", t.label());
                for ((day, _), e) in closes.iter().zip(&expected) {
                    if let Some(e) = e {
                        let got = rows[day];
                        assert!(
                            ((got - e) / e).abs() < 1e-9,
                            "{} {symbol} p{p} {day}: {got} vs {e}",
                            t.label()
                        );
                    }
                }
            }
        }
        // A second refresh finds everything up to date and writes nothing.
        let again = engine
            .refresh_symbol("BTC", &RefreshOptions::default())
            .await
            .unwrap();
        assert_eq!((again.up_to_date, again.rows()), (91, 0), "{}", t.label());
    }
}

pub(crate) fn series(n: usize, seed: u64) -> Vec<(NaiveDate, f64)> {
    let d0 = NaiveDate::from_ymd_opt(2020, 12, 20).unwrap();
    let mut x = 100.0;
    let mut s = seed;
    (0..n)
        .map(|i| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x *= 1.0 + ((s >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 0.08;
            (d0 + Duration::days(i as i64), x)
        })
        .collect()
}

async fn all_rows(db: &Database) -> Vec<StoredEma> {
    symbol_rows(db, "AAA").await
}

async fn symbol_rows(db: &Database, symbol: &str) -> Vec<StoredEma> {
    let q = EmaQuery {
        symbol: symbol.into(),
        ..Default::default()
    };
    read_emas(db, &q).await.unwrap()
}

/// (tf, period, day, ema bits, ema_bar bits, roll, d1 bits, d2_roll bits).
type Bits = (String, u32, NaiveDate, u64, u64, bool, Option<u64>, Option<u64>);

fn bits(rows: &[StoredEma]) -> Vec<Bits> {
    rows.iter()
        .map(|r| {
            (
                r.tf.clone(),
                r.period,
                r.day,
                r.ema.to_bits(),
                r.ema_bar.to_bits(),
                r.roll,
                r.d1.map(f64::to_bits),
                r.d2_roll.map(f64::to_bits),
            )
        })
        .collect()
}

const PROP_TFS: [&str; 5] = ["1D", "3D", "1W_CAL_ISO", "1W_CAL_US", "1M_CAL"];

/// Incremental (split, maybe a revision before the split, more days) vs one full refresh.
async fn incremental_equals_full(n: usize, seed: u64, split: usize, revise: Option<usize>, through: bool) {
    let mut data = series(n, seed);
    let o = opts(&PROP_TFS, &[6, 9]);
    let inc = talab_db::testing::sqlite().await;
    let engine = EmaRefresher::open(inc.db.clone()).await.unwrap();
    if through {
        // Everything loaded, refreshed through the split day, then through the end.
        load(&inc.db, "AAA", &data).await;
        let first = RefreshOptions {
            through: Some(data[split - 1].0),
            ..o.clone()
        };
        engine.refresh_symbol("AAA", &first).await.unwrap();
    } else {
        load(&inc.db, "AAA", &data[..split]).await;
        engine.refresh_symbol("AAA", &o).await.unwrap();
    }
    if let Some(i) = revise {
        data[i].1 *= 1.01;
    }
    load(&inc.db, "AAA", &data).await;
    let report = engine.refresh_symbol("AAA", &o).await.unwrap();
    if revise.is_some() {
        assert_eq!(
            report.rebuilt,
            PROP_TFS.len() * 2,
            "a revised day rebuilds every series"
        );
    }
    let full = talab_db::testing::sqlite().await;
    load(&full.db, "AAA", &data).await;
    EmaRefresher::open(full.db.clone())
        .await
        .unwrap()
        .refresh_symbol("AAA", &o)
        .await
        .unwrap();
    assert_eq!(bits(&all_rows(&inc.db).await), bits(&all_rows(&full.db).await));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn incremental_refresh_equals_a_full_refresh(
        n in 20usize..160,
        seed in any::<u64>(),
        split_frac in 0.05f64..0.95,
        revise_frac in proptest::option::of(0.0f64..1.0),
        through in any::<bool>(),
    ) {
        let split = ((n as f64 * split_frac) as usize).max(1);
        let revise = revise_frac.map(|f| ((split as f64 * f) as usize).min(split - 1));
        tokio::runtime::Runtime::new().unwrap().block_on(incremental_equals_full(n, seed, split, revise, through));
    }
}

#[tokio::test]
async fn incremental_equals_full_on_postgres_too() {
    let Some(pg) = talab_db::testing::postgres().await else {
        return;
    };
    let data = series(120, 7);
    let o = opts(&PROP_TFS, &[6, 9]);
    let engine = EmaRefresher::open(pg.db.clone()).await.unwrap();
    load(&pg.db, "AAA", &data[..70]).await;
    engine.refresh_symbol("AAA", &o).await.unwrap();
    load(&pg.db, "AAA", &data).await;
    let r = engine.refresh_symbol("AAA", &o).await.unwrap();
    assert_eq!(r.extended, PROP_TFS.len() * 2);
    let inc = bits(&all_rows(&pg.db).await);
    let full = RefreshOptions { full: true, ..o };
    engine.refresh_symbol("AAA", &full).await.unwrap();
    assert_eq!(inc, bits(&all_rows(&pg.db).await));
}

#[tokio::test]
async fn a_backfilled_day_before_the_first_rebuilds_and_leaves_no_stale_rows() {
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        let data = series(60, 3);
        load(db, "AAA", &data[5..]).await;
        let engine = EmaRefresher::open(db.clone()).await.unwrap();
        let o = opts(&["1D", "2D"], &[6]);
        engine.refresh_symbol("AAA", &o).await.unwrap();
        load(db, "AAA", &data).await;
        let r = engine.refresh_symbol("AAA", &o).await.unwrap();
        assert_eq!(r.rebuilt, 2, "{}", t.label());
        assert_eq!(stored(db, "AAA", "1D", 6).await.len(), 55, "{}", t.label());
        assert_eq!(
            stored(db, "AAA", "1D", 6).await[0].day,
            data[5].0,
            "{}",
            t.label()
        );
    }
}

#[tokio::test]
async fn bad_requests_are_clear_errors() {
    let t = talab_db::testing::sqlite().await;
    let data = series(30, 1);
    load(&t.db, "AAA", &data).await;
    let engine = EmaRefresher::open(t.db.clone()).await.unwrap();
    let before = RefreshOptions {
        through: Some(data[0].0 - Duration::days(1)),
        ..Default::default()
    };
    let err = engine.refresh_symbol("AAA", &before).await.unwrap_err();
    assert!(matches!(err, FeatureError::DateOutOfRange { .. }), "{err}");
    let err = engine
        .refresh_symbol("ZZZ", &RefreshOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, FeatureError::UnknownSymbol { .. }) && err.to_string().contains("AAA"),
        "{err}"
    );
    let err = engine.refresh_symbol("AAA", &opts(&[], &[0])).await.unwrap_err();
    assert!(matches!(err, FeatureError::InvalidPeriod { .. }), "{err}");
    let err = engine
        .refresh_symbol("AAA", &opts(&["4H"], &[10]))
        .await
        .unwrap_err();
    assert!(matches!(err, FeatureError::NoHourlyBars { .. }), "{err}");
    assert_eq!(
        count(&t.db, "cmc_ema_multi_tf").await,
        0,
        "nothing written by a refused refresh"
    );
}

#[tokio::test]
async fn the_feature_store_serves_the_date_rows() {
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        let data = series(40, 9);
        load(db, "AAA", &data).await;
        let store = SqlFeatureStore::open(db.clone()).await.unwrap();
        let date = data[35].0;
        let df = store.refresh_ema(&["aaa".to_string()], date).await.unwrap();
        // 1D: periods 9, 10, 20, 21 are seeded after 36 days; 50, 100, 200 are not. Other
        // timeframes add their rows.
        let one_d = store.get_ema("AAA", date, "1d").await.unwrap();
        assert_eq!(one_d.height(), 4, "{}", t.label());
        assert!(df.height() >= 4, "{}", t.label());
        let e = one_d.column("ema").unwrap().f64().unwrap().get(0).unwrap();
        let closes: Vec<f64> = data[..36].iter().map(|d| d.1).collect();
        let expected = reference_ema(&closes, 9)[35].unwrap();
        assert!((e - expected).abs() / expected < 1e-12, "{}", t.label());
        let err = store.get_ema("AAA", date, "bogus").await.unwrap_err();
        assert!(matches!(err, FeatureError::UnknownTimeframe { .. }));
    }
}

#[tokio::test]
async fn several_symbols_at_once_equal_one_at_a_time_in_the_order_asked() {
    use futures_util::StreamExt;
    let symbols: Vec<String> = ["AAA", "BBB", "CCC", "DDD", "EEE"].map(String::from).to_vec();
    let o = opts(&["1D", "3D", "1W_CAL_ISO"], &[6, 9]);
    for t in talab_db::testing::backends().await {
        let serial = talab_db::testing::sqlite().await;
        for (i, s) in symbols.iter().enumerate() {
            let data = series(90 + 10 * i, i as u64);
            load(&t.db, s, &data).await;
            load(&serial.db, s, &data).await;
        }
        // CCC's rows vanish after the check: its refresh fails, the others go on.
        let engine = EmaRefresher::open(t.db.clone())
            .await
            .unwrap()
            .with_concurrency(3);
        let (tfs, periods) = engine.resolve(&o).await.unwrap();
        on_pool!(&t.db, pool => sqlx::query("DELETE FROM cmc_price_bars_1d WHERE symbol = 'CCC'").execute(pool).await.map(|_| ()))
            .unwrap();
        let outcomes: Vec<(String, bool)> = engine
            .refresh_each(&symbols, &tfs, &periods, &o)
            .map(|(s, r)| (s.to_string(), r.is_ok()))
            .collect()
            .await;
        let expected: Vec<(String, bool)> = symbols.iter().map(|s| (s.clone(), s != "CCC")).collect();
        assert_eq!(outcomes, expected, "{}", t.label());

        let one = EmaRefresher::open(serial.db.clone())
            .await
            .unwrap()
            .with_concurrency(1);
        for s in symbols.iter().filter(|s| *s != "CCC") {
            one.refresh_symbol(s, &o).await.unwrap();
            assert_eq!(
                bits(&symbol_rows(&t.db, s).await),
                bits(&symbol_rows(&serial.db, s).await),
                "{} {s}",
                t.label()
            );
        }
    }
}
