//! FeatureStoreStub against the real BTC 2010 fixture: real 1D EMAs, the contract's columns, and
//! clear errors for unknown symbols, bad dates and timeframes it cannot serve.

use crate::support;

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use polars_core::prelude::*;
use talab_features::stubs::FeatureStoreStub;
use talab_features::{DEFAULT_PERIODS, EMA_COLUMNS, FeatureError, FeatureStore};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn btc_store() -> (FeatureStoreStub, Vec<support::FixtureDay>) {
    let fx = support::fixture();
    let closes = fx.iter().map(|d| d.close).collect();
    (FeatureStoreStub::new().with_closes("BTC", fx[0].date, closes), fx)
}

fn periods(df: &DataFrame) -> Vec<u32> {
    df.column("period")
        .unwrap()
        .u32()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

fn ema_of(df: &DataFrame, period: u32) -> Option<f64> {
    let i = periods(df).iter().position(|&p| p == period)?;
    df.column("ema").unwrap().f64().unwrap().get(i)
}

#[tokio::test]
async fn p10_on_2010_07_22_matches_the_fixture() {
    let (store, fx) = btc_store();
    let date = day(2010, 7, 22);
    let expected = fx.iter().find(|d| d.date == date).unwrap().ema_1d_p10.unwrap();
    let df = store.refresh_ema(&["BTC".to_string()], date).await.unwrap();

    let got = ema_of(&df, 10).unwrap();
    assert!((got - expected).abs() <= 1e-12, "{got} vs {expected}");
    // Day 10: periods 9 and 10 are seeded; 20, 21, 50, 100, 200 are not, and have no row.
    assert_eq!(periods(&df), vec![9, 10]);
    // p9 independently: the mean of the first 9 closes, then one step with day 10's close.
    let seed: f64 = fx[..9].iter().map(|d| d.close).sum::<f64>() / 9.0;
    let p9 = 0.2 * fx[9].close + 0.8 * seed;
    assert!((ema_of(&df, 9).unwrap() - p9).abs() <= 1e-12);

    let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    assert_eq!(names, EMA_COLUMNS);
    for i in 0..df.height() {
        assert_eq!(df.column("symbol").unwrap().str().unwrap().get(i), Some("BTC"));
        assert_eq!(df.column("tf").unwrap().str().unwrap().get(i), Some("1D"));
        assert_eq!(df.column("roll").unwrap().bool().unwrap().get(i), Some(false));
        let ema = df.column("ema").unwrap().f64().unwrap().get(i);
        assert_eq!(df.column("ema_bar").unwrap().f64().unwrap().get(i), ema);
        // 2010-07-22 is day 14,812 after 1970-01-01.
        assert_eq!(
            df.column("date").unwrap().date().unwrap().physical().get(i),
            Some(14_812)
        );
    }
}

#[tokio::test]
async fn every_day_of_the_fixture_after_one_refresh() {
    let (store, fx) = btc_store();
    let last = fx.last().unwrap().date;
    store.refresh_ema(&["btc".to_string()], last).await.unwrap();
    for d in &fx {
        let df = store.get_ema("BTC", d.date, "1D").await.unwrap();
        match d.ema_1d_p10 {
            Some(expected) => {
                let got = ema_of(&df, 10).unwrap();
                assert!(
                    (got - expected).abs() <= 1e-12,
                    "day {}: {got} vs {expected}",
                    d.day_idx
                );
            }
            None => assert_eq!(ema_of(&df, 10), None, "day {}", d.day_idx),
        }
        let seeded: Vec<u32> = DEFAULT_PERIODS
            .iter()
            .filter(|&&p| p <= d.day_idx)
            .map(|&p| p as u32)
            .collect();
        assert_eq!(periods(&df), seeded, "day {}", d.day_idx);
    }
    // 50 closes: p50 is seeded on the last day only, with the plain mean of all of them.
    let df = store.get_ema("BTC", last, "1D").await.unwrap();
    let mean: f64 = fx.iter().map(|d| d.close).sum::<f64>() / 50.0;
    assert!((ema_of(&df, 50).unwrap() - mean).abs() <= 1e-15);
}

#[tokio::test]
async fn timeframe_codes_are_case_insensitive_and_other_timeframes_are_refused() {
    let (store, _) = btc_store();
    let date = day(2010, 8, 10);
    store.refresh_ema(&["BTC".to_string()], date).await.unwrap();
    let lower = store.get_ema("btc", date, "1d").await.unwrap();
    let upper = store.get_ema("BTC", date, "1D").await.unwrap();
    assert_eq!(lower.height(), 4); // day 29: periods 9, 10, 20, 21
    assert!(lower.equals(&upper));

    match store.get_ema("BTC", date, "3D").await {
        Err(FeatureError::UnsupportedTimeframe { tf, reason }) => {
            assert_eq!(tf, "3D");
            assert!(reason.contains("1D only"), "{reason}");
        }
        other => panic!("3D gave {other:?}"),
    }
    assert!(matches!(
        store.get_ema("BTC", date, "1w").await,
        Err(FeatureError::UnknownTimeframe { code }) if code == "1w"
    ));
}

#[tokio::test]
async fn get_before_refresh_is_empty_and_refresh_through_a_date_keeps_earlier_days() {
    let (store, fx) = btc_store();
    let date = day(2010, 7, 25);
    assert_eq!(store.get_ema("BTC", date, "1D").await.unwrap().height(), 0);
    store.refresh_ema(&["BTC".to_string()], date).await.unwrap();
    let earlier = store.get_ema("BTC", day(2010, 7, 23), "1D").await.unwrap();
    let expected = fx[10].ema_1d_p10.unwrap();
    assert!((ema_of(&earlier, 10).unwrap() - expected).abs() <= 1e-12);
    // Not refreshed beyond 07-25 yet.
    assert_eq!(
        store
            .get_ema("BTC", day(2010, 7, 26), "1D")
            .await
            .unwrap()
            .height(),
        0
    );
}

#[tokio::test]
async fn unknown_symbols_and_dates_outside_the_data_are_errors() {
    let (store, _) = btc_store();
    let inside = day(2010, 8, 1);
    match store
        .refresh_ema(&["BTC".to_string(), "eth".to_string()], inside)
        .await
    {
        Err(FeatureError::UnknownSymbol { symbol, known }) => {
            assert_eq!(symbol, "ETH");
            assert_eq!(known, vec!["BTC".to_string()]);
        }
        other => panic!("ETH gave {other:?}"),
    }
    // The failed refresh stored nothing, not even for BTC.
    assert_eq!(store.get_ema("BTC", inside, "1D").await.unwrap().height(), 0);
    assert!(matches!(
        store.get_ema("DOGE", inside, "1D").await,
        Err(FeatureError::UnknownSymbol { .. })
    ));
    assert!(matches!(
        store.get_ema("BT C", inside, "1D").await,
        Err(FeatureError::InvalidSymbol { .. })
    ));

    for bad in [day(2010, 7, 12), day(2010, 9, 1), day(2000, 1, 1)] {
        match store.refresh_ema(&["BTC".to_string()], bad).await {
            Err(FeatureError::DateOutOfRange {
                symbol,
                date,
                first,
                last,
            }) => {
                assert_eq!((symbol.as_str(), date), ("BTC", bad));
                assert_eq!((first, last), (day(2010, 7, 13), day(2010, 8, 31)));
            }
            other => panic!("{bad} gave {other:?}"),
        }
        assert!(matches!(
            store.get_ema("BTC", bad, "1D").await,
            Err(FeatureError::DateOutOfRange { .. })
        ));
    }
}

#[tokio::test]
async fn a_missing_close_carries_the_ema_forward_and_delays_the_seed() {
    let first = day(2024, 1, 1);
    // Day 3 is missing: the p9 seed needs 9 present closes, so it lands on day 10, not day 9.
    let mut closes: Vec<f64> = (1..=14).map(|i| 100.0 + 3.0 * i as f64).collect();
    closes[2] = f64::NAN;
    closes[11] = f64::NAN;
    let store = FeatureStoreStub::new().with_closes("SOL", first, closes.clone());
    let last = first + Days::new(13);
    store.refresh_ema(&["SOL".to_string()], last).await.unwrap();

    let on = |i: u64| first + Days::new(i);
    assert_eq!(store.get_ema("SOL", on(8), "1D").await.unwrap().height(), 0);
    let present: Vec<f64> = closes[..10].iter().copied().filter(|c| !c.is_nan()).collect();
    let seed = present.iter().sum::<f64>() / 9.0;
    let day10 = store.get_ema("SOL", on(9), "1D").await.unwrap();
    assert_eq!(periods(&day10), vec![9]);
    assert!((ema_of(&day10, 9).unwrap() - seed).abs() <= 1e-12);
    let day11 = ema_of(&store.get_ema("SOL", on(10), "1D").await.unwrap(), 9).unwrap();
    assert!((day11 - (0.2 * closes[10] + 0.8 * seed)).abs() <= 1e-12);
    // Day 12 is missing: the same value as day 11.
    let day12 = ema_of(&store.get_ema("SOL", on(11), "1D").await.unwrap(), 9).unwrap();
    assert_eq!(day12, day11);
}

#[tokio::test]
async fn works_behind_a_shared_trait_object_with_several_symbols() {
    let (btc, fx) = btc_store();
    let closes: Vec<f64> = fx.iter().map(|d| d.close * 2.0).collect();
    let store: Arc<dyn FeatureStore> = Arc::new(btc.with_closes("eth", fx[0].date, closes));
    let date = day(2010, 7, 22);
    let df = store
        .refresh_ema(&["ETH".into(), "BTC".into(), "eth".into()], date)
        .await
        .unwrap();
    // ETH first (as asked), duplicates ignored, periods 9 and 10 each.
    let symbols: Vec<&str> = df
        .column("symbol")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(symbols, vec!["ETH", "ETH", "BTC", "BTC"]);
    let emas: Vec<f64> = df
        .column("ema")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    // Doubling every close doubles the EMA exactly (a power-of-two scale changes no rounding).
    assert_eq!(emas[1], 2.0 * emas[3]);
    assert!((emas[3] - fx[9].ema_1d_p10.unwrap()).abs() <= 1e-12);
}
