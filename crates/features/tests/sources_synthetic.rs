//! The synthetic source: deterministic per (seed, symbol), consistent OHLC, crypto-like volatility,
//! and rows marked `synthetic` when loaded.

use chrono::NaiveDate;
use talab_features::ingest::ingest_synthetic;
use talab_features::{PriceSource, SourceKind, SyntheticSource, coverage, load_daily_bars};

#[test]
fn a_series_depends_only_on_seed_and_symbol() {
    let a = SyntheticSource::new(7).series("btc", 300).unwrap();
    let b = SyntheticSource::new(7).series("BTC", 300).unwrap();
    assert_eq!(a, b);
    let other_seed = SyntheticSource::new(8).series("BTC", 300).unwrap();
    let other_symbol = SyntheticSource::new(7).series("ETH", 300).unwrap();
    assert_ne!(a[10].close, other_seed[10].close);
    assert_ne!(a[10].close, other_symbol[10].close);
    // A longer series starts with the shorter one.
    assert_eq!(
        &SyntheticSource::new(7).series("BTC", 400).unwrap()[..300],
        &a[..]
    );
}

#[test]
fn rows_are_consistent_and_volatile_like_crypto() {
    let rows = SyntheticSource::new(42).series("SYN", 2000).unwrap();
    let start = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
    assert_eq!(
        (rows[0].day(), rows[1999].day()),
        (start, NaiveDate::from_ymd_opt(2020, 6, 22).unwrap())
    );
    let mut log_returns = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let (o, h, l, c, v) = (
            r.open.unwrap(),
            r.high.unwrap(),
            r.low.unwrap(),
            r.close.unwrap(),
            r.volume.unwrap(),
        );
        assert!(
            h >= o.max(c) && l <= o.min(c) && l > 0.0 && v > 0.0,
            "day {i}: {r:?}"
        );
        let (th, tl) = (r.time_high.unwrap(), r.time_low.unwrap());
        assert!(th >= r.time_open && th <= r.time_close && tl >= r.time_open && tl <= r.time_close);
        assert_eq!(r.source, SourceKind::Synthetic);
        if i > 0 {
            assert_eq!(r.open, rows[i - 1].close);
        }
        log_returns.push((c / o).ln());
    }
    let mean = log_returns.iter().sum::<f64>() / log_returns.len() as f64;
    let var = log_returns.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (log_returns.len() - 1) as f64;
    let sigma = var.sqrt();
    assert!((0.03..0.04).contains(&sigma), "daily volatility {sigma}");
}

#[tokio::test]
async fn the_trait_filters_days_and_loads_are_marked_synthetic() {
    let src = SyntheticSource::new(1);
    let since = NaiveDate::from_ymd_opt(2015, 1, 10).unwrap();
    let until = NaiveDate::from_ymd_opt(2015, 1, 20).unwrap();
    let rows = src.daily("BTC", Some(since), until).await.unwrap();
    assert_eq!((rows.len(), rows[0].day(), rows[10].day()), (11, since, until));
    assert_eq!(rows[0], src.series("BTC", 10).unwrap()[9]);

    for t in talab_db::testing::backends().await {
        let symbols = vec!["SYNA".to_string(), "SYNB".to_string()];
        let reports = ingest_synthetic(&t.db, &src, &symbols, 365, false).await.unwrap();
        let got: Vec<_> = reports
            .iter()
            .map(|r| (r.symbol.as_str(), r.inserted, r.bars, r.gaps))
            .collect();
        assert_eq!(
            got,
            vec![("SYNA", 365, 365, 0), ("SYNB", 365, 365, 0)],
            "{}",
            t.label()
        );
        let cov = coverage(&t.db).await.unwrap();
        assert!(
            cov.iter().all(|c| c.source == "synthetic" && c.rows == 365),
            "{cov:?}"
        );
        let bars = load_daily_bars(&t.db, "SYNA").await.unwrap();
        assert_eq!(
            bars[364].close,
            src.series("SYNA", 365).unwrap()[364].close.unwrap()
        );
    }
}
