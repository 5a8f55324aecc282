//! Charts of the real BTC history: the data the renderer receives (EMA lines are the stored EMA
//! rows on the chart's days, markers are the stored trades) and the files it writes (a PNG and an
//! SVG of exactly the asked size).

use crate::support;

use chrono::NaiveDate;
use talab_features::chart::{
    ChartRequest, ChartStyle, MarkerKind, PriceScale, RenderOptions, chart_data, render,
};
use talab_features::signals::{refresh_signals, trades_for};
use talab_features::{EmaQuery, IngestOptions, ema, ingest_csv, load_daily_bars, read_emas};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// (width, height) from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

/// The width and height attributes of an SVG's root element.
fn svg_size(text: &str) -> (u32, u32) {
    let start = text.find("<svg").expect("an <svg> element");
    let tag = &text[start..start + text[start..].find('>').unwrap()];
    let attr = |name: &str| -> u32 {
        let key = format!(" {name}=\"");
        let i = tag.find(&key).unwrap_or_else(|| panic!("no {name} in {tag}")) + key.len();
        tag[i..i + tag[i..].find('"').unwrap()].parse().unwrap()
    };
    (attr("width"), attr("height"))
}

#[tokio::test]
async fn a_btc_chart_draws_the_stored_emas_and_the_stored_trades() {
    let t = talab_db::testing::sqlite().await;
    let db = &t.db;
    let path = std::path::PathBuf::from(support::data_path("coin_Bitcoin.csv"));
    ingest_csv(db, &path, &IngestOptions::default()).await.unwrap();
    refresh_signals(db, &["BTC".into()], Some(&["ema_9_21_long".to_string()]))
        .await
        .unwrap();

    let req = ChartRequest {
        symbol: "btc".into(),
        tf: "1d".into(),
        from: Some(d(2020, 1, 1)),
        to: Some(d(2021, 2, 27)),
        emas: vec![20, 50, 200],
        signals: vec!["ema_9_21_long".into()],
    };
    let data = chart_data(db, &req).await.unwrap();
    assert_eq!(
        (data.symbol.as_str(), data.tf.as_str(), data.source.as_str()),
        ("BTC", "1D", "csv")
    );
    assert_eq!(data.days(), Some((d(2020, 1, 1), d(2021, 2, 27))));
    assert_eq!(data.candles.len(), 424);

    // The EMA lines are the rows the chart stored in cmc_ema_multi_tf (it refreshes them
    // first), cut to the window; and those are the kernel's values over the whole history: a
    // 200-day EMA has a value on the window's first day (it is not restarted at the window).
    let bars = load_daily_bars(db, "BTC").await.unwrap();
    let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
    for line in &data.emas {
        let query = EmaQuery {
            symbol: "BTC".into(),
            tfs: vec!["1D".into()],
            periods: vec![line.period as u32],
            from: req.from,
            to: req.to,
        };
        let stored: Vec<(NaiveDate, f64)> = read_emas(db, &query)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.day, r.ema_bar))
            .collect();
        assert_eq!(line.points.len(), 424, "EMA {}", line.period);
        assert_eq!(
            line.points, stored,
            "EMA {} points are the stored rows",
            line.period
        );
        let expected = ema(&closes, line.period).unwrap();
        let kernel: Vec<(NaiveDate, f64)> = bars
            .iter()
            .zip(&expected)
            .filter(|(b, _)| b.day >= d(2020, 1, 1) && b.day <= d(2021, 2, 27))
            .map(|(b, v)| (b.day, *v))
            .collect();
        assert_eq!(
            line.points, kernel,
            "EMA {} stored = the kernel's bits",
            line.period
        );
    }
    assert_eq!(
        data.emas.iter().map(|e| e.period).collect::<Vec<_>>(),
        vec![20, 50, 200]
    );

    // Markers are the stored trades inside the window.
    let trades = trades_for(db, "BTC", "ema_9_21_long").await.unwrap();
    let entries = trades.iter().filter(|t| t.entry_day >= d(2020, 1, 1)).count();
    let exits = trades
        .iter()
        .filter(|t| t.exit_day.is_some_and(|x| x >= d(2020, 1, 1)))
        .count();
    let count = |k| data.markers.iter().filter(|m| m.kind == k).count();
    assert!(entries > 5, "the 9/21 pair trades several times a year");
    assert_eq!(
        (count(MarkerKind::Entry), count(MarkerKind::Exit)),
        (entries, exits)
    );
    for m in &data.markers {
        let bar = bars.iter().find(|b| b.day == m.day).unwrap();
        assert_eq!(m.price, bar.close, "trades happen at the close of their bar");
    }

    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("btc.png");
    let opts = RenderOptions {
        width: 1000,
        height: 600,
        ..RenderOptions::default()
    };
    let report = render(&data, &png, &opts).unwrap();
    assert_eq!(png_size(&std::fs::read(&png).unwrap()), (1000, 600));
    assert_eq!(
        report.style,
        ChartStyle::Line,
        "424 candles do not fit 1000 px as candles"
    );
    assert!(!report.log_scale, "2020–2021 spans less than 20x");
    assert!(
        std::fs::metadata(&png).unwrap().len() > 10_000,
        "a real picture, not a blank"
    );

    let svg = dir.path().join("btc.svg");
    let report = render(
        &data,
        &svg,
        &RenderOptions {
            width: 800,
            height: 450,
            style: ChartStyle::Candles,
            scale: PriceScale::Log,
        },
    )
    .unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(svg_size(&text), (800, 450));
    assert!((report.style, report.log_scale) == (ChartStyle::Candles, true));
    if report.text {
        assert!(
            text.contains("EMA 200") && text.contains("ema_9_21_long entry") && !text.contains("long long"),
            "a legend that says the side once"
        );
        assert!(text.contains("2020-"), "dates on the x axis");
    }

    // The whole history on a weekly timeframe: candles are bars, the EMA runs over completed bars.
    let weekly = chart_data(
        db,
        &ChartRequest {
            tf: "1W_CAL_ISO".into(),
            from: None,
            to: None,
            emas: vec![10],
            signals: vec![],
            ..req.clone()
        },
    )
    .await
    .unwrap();
    assert!(
        (400..=420).contains(&weekly.candles.len()),
        "{}",
        weekly.candles.len()
    );
    let complete: Vec<f64> = weekly
        .candles
        .iter()
        .filter(|c| c.complete)
        .map(|c| c.close)
        .collect();
    let e10 = ema(&complete, 10).unwrap();
    let want: Vec<f64> = e10.into_iter().filter(|v| v.is_finite()).collect();
    let got: Vec<f64> = weekly.emas[0].points.iter().map(|p| p.1).collect();
    assert_eq!(got, want);
    let wide = RenderOptions {
        width: 1600,
        ..RenderOptions::default()
    };
    let full = render(&weekly, &dir.path().join("w.png"), &wide).unwrap();
    assert!(full.log_scale, "2013–2021 spans far more than 20x");
    assert_eq!(full.style, ChartStyle::Candles);
}

#[tokio::test]
async fn bad_chart_requests_say_what_is_wrong() {
    let t = talab_db::testing::sqlite().await;
    let db = &t.db;
    let path = std::path::PathBuf::from(support::data_path("coin_Bitcoin.csv"));
    ingest_csv(db, &path, &IngestOptions::default()).await.unwrap();
    let req = ChartRequest {
        symbol: "BTC".into(),
        tf: "1D".into(),
        from: Some(d(2010, 1, 1)),
        to: None,
        emas: vec![20],
        signals: vec![],
    };
    let e = chart_data(db, &req).await.unwrap_err().to_string();
    assert!(e.contains("2013-04-29 to 2021-02-27"), "{e}");
    let e = chart_data(
        db,
        &ChartRequest {
            emas: vec![7],
            from: None,
            ..req.clone()
        },
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("invalid EMA period 7"), "{e}");
    let data = chart_data(
        db,
        &ChartRequest {
            from: None,
            ..req.clone()
        },
    )
    .await
    .unwrap();
    let e = render(
        &data,
        std::path::Path::new("/tmp/x.jpg"),
        &RenderOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains(".png or .svg"), "{e}");
    let e = render(
        &data,
        std::path::Path::new("/tmp/x.png"),
        &RenderOptions {
            width: 50,
            ..RenderOptions::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("width 50"), "{e}");
}
