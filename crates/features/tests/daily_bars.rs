//! The 1D repair and reject rules of the spec (§4) on small vectors.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use talab_features::{RawPrice, RejectReason, Repairs, SourceKind, day_end, day_start, validate_daily};

fn d(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, 3, day).unwrap()
}

fn hour(day: u32, h: i64) -> DateTime<Utc> {
    day_start(d(day)) + Duration::hours(h)
}

/// A CoinMarketCap-style row (the source reports extreme times) for 2021-03-`day`.
fn row(day: u32, o: f64, h: f64, l: f64, c: f64) -> RawPrice {
    RawPrice {
        symbol: "BTC".into(),
        ts: day_end(d(day)),
        time_open: day_start(d(day)),
        time_close: day_end(d(day)),
        time_high: Some(hour(day, 12)),
        time_low: Some(hour(day, 6)),
        open: Some(o),
        high: Some(h),
        low: Some(l),
        close: Some(c),
        volume: Some(1000.0),
        market_cap: None,
        source: SourceKind::Cmc,
        source_file: None,
    }
}

#[test]
fn inverted_high_and_low_are_widened_to_cover_open_and_close() {
    // The spec's vector: o100 c110 h105 l120, extreme times in range.
    let (bars, rejects) = validate_daily(&[row(1, 100.0, 105.0, 120.0, 110.0)]);
    assert!(rejects.is_empty());
    let b = &bars[0];
    assert_eq!(
        (b.bar.open, b.bar.high, b.bar.low, b.bar.close),
        (100.0, 120.0, 100.0, 110.0)
    );
    assert_eq!((b.bar.time_high, b.bar.time_low), (hour(1, 12), hour(1, 6)));
    let want = Repairs {
        time_high: false,
        time_low: false,
        high: true,
        low: true,
    };
    assert_eq!(b.repairs, want);
}

#[test]
fn a_clean_row_is_kept_as_is() {
    let (bars, _) = validate_daily(&[row(2, 100.0, 130.0, 90.0, 110.0)]);
    let b = &bars[0];
    assert_eq!((b.bar.high, b.bar.low, b.bar.volume), (130.0, 90.0, 1000.0));
    assert_eq!(b.repairs, Repairs::default());
    assert_eq!((b.bar.day, b.bar.time_close), (d(2), day_end(d(2))));
}

#[test]
fn extreme_times_out_of_range_or_missing_reset_the_extremes() {
    // Up day, time_high after the close: time_high := time_close, high := max(o, c).
    let mut r = row(3, 100.0, 150.0, 90.0, 110.0);
    r.time_high = Some(hour(4, 1));
    r.time_low = None; // missing: up day, so the low happened at the open; low := min(o, c)
    let (bars, _) = validate_daily(&[r]);
    let b = &bars[0];
    assert_eq!((b.bar.high, b.bar.low), (110.0, 100.0));
    assert_eq!(
        (b.bar.time_high, b.bar.time_low),
        (day_end(d(3)), day_start(d(3)))
    );
    assert_eq!(
        b.repairs,
        Repairs {
            time_high: true,
            time_low: true,
            high: true,
            low: true
        }
    );

    // Down day, time_low before the open: time_low := time_close, low := min(o, c).
    let mut r = row(4, 110.0, 120.0, 50.0, 100.0);
    r.time_low = Some(hour(3, 23));
    let (bars, _) = validate_daily(&[r]);
    let b = &bars[0];
    assert_eq!(
        (b.bar.high, b.bar.low, b.bar.time_low),
        (120.0, 100.0, day_end(d(4)))
    );
    assert_eq!(
        b.repairs,
        Repairs {
            time_high: false,
            time_low: true,
            high: false,
            low: true
        }
    );
}

#[test]
fn sources_without_extreme_times_keep_their_extremes() {
    let mut r = row(5, 100.0, 130.0, 90.0, 95.0);
    (r.time_high, r.time_low, r.source) = (None, None, SourceKind::Csv);
    let (bars, _) = validate_daily(&[r]);
    let b = &bars[0];
    assert_eq!((b.bar.high, b.bar.low), (130.0, 90.0));
    // Down day: the high is placed at the open, the low at the close.
    assert_eq!(
        (b.bar.time_high, b.bar.time_low),
        (day_start(d(5)), day_end(d(5)))
    );
    assert_eq!(
        b.repairs,
        Repairs {
            time_high: true,
            time_low: true,
            high: false,
            low: false
        }
    );
}

#[test]
fn bad_rows_are_rejected_with_a_code() {
    let mut null_open = row(6, 1.0, 2.0, 0.5, 1.5);
    null_open.open = None;
    let mut null_close = row(7, 1.0, 2.0, 0.5, 1.5);
    null_close.close = None;
    let mut backwards = row(8, 1.0, 2.0, 0.5, 1.5);
    backwards.time_open = day_end(d(8)) + Duration::hours(1);
    let negative = row(9, 1.0, 2.0, -0.5, 1.5);
    let infinite = row(10, 1.0, f64::INFINITY, 0.5, 1.5);
    let mut bad_volume = row(11, 1.0, 2.0, 0.5, 1.5);
    bad_volume.volume = Some(f64::NAN);
    let twin_a = row(12, 1.0, 2.0, 0.5, 1.5);
    let mut twin_b = row(12, 1.0, 2.0, 0.5, 1.6);
    twin_b.ts = day_start(d(12)) + Duration::hours(23);
    let good = row(13, 1.0, 2.0, 0.5, 1.5);
    let zero_close = row(14, 1.0, 2.0, 0.5, 0.0);
    let mut zero_volume = row(15, 1.0, 2.0, 0.5, 1.5);
    zero_volume.volume = Some(0.0);
    let rows = [
        null_open,
        null_close,
        backwards,
        negative,
        infinite,
        bad_volume,
        twin_a,
        twin_b,
        good,
        zero_close,
        zero_volume,
    ];
    let (bars, rejects) = validate_daily(&rows);
    assert_eq!(
        bars.iter().map(|b| b.bar.day).collect::<Vec<_>>(),
        vec![d(13), d(15)]
    );
    let got: Vec<(NaiveDate, RejectReason, String)> = rejects
        .iter()
        .map(|r| (r.day, r.reason, r.detail.clone()))
        .collect();
    let want = [
        (d(6), RejectReason::NullOpen, "open is missing"),
        (d(7), RejectReason::NullClose, "close is missing"),
        (d(8), RejectReason::OpenAfterClose, ""),
        (d(9), RejectReason::BadPrice, "low is -0.5"),
        (d(10), RejectReason::BadPrice, "high is inf"),
        (d(11), RejectReason::BadVolume, "volume is NaN"),
        (d(12), RejectReason::DuplicateDay, "2 rows for BTC 2021-03-12"),
        (d(12), RejectReason::DuplicateDay, "2 rows for BTC 2021-03-12"),
        (d(14), RejectReason::BadPrice, "close is 0"),
    ];
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.0, g.1), (w.0, w.1));
        assert!(g.2.starts_with(w.2), "{} vs {}", g.2, w.2);
    }
    assert!(got[2].2.contains("is after time_close"), "{}", got[2].2);
    assert_eq!(RejectReason::OpenAfterClose.code(), "time_open_after_time_close");
}

#[test]
fn bars_come_out_sorted_by_day() {
    let rows = [
        row(20, 1.0, 2.0, 0.5, 1.5),
        row(3, 1.0, 2.0, 0.5, 1.5),
        row(11, 1.0, 2.0, 0.5, 1.5),
    ];
    let (bars, _) = validate_daily(&rows);
    assert_eq!(
        bars.iter().map(|b| b.bar.day).collect::<Vec<_>>(),
        vec![d(3), d(11), d(20)]
    );
}
