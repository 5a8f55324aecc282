//! Daily bars for the bar tests: explicit days, and seeded random series with gaps.

#![allow(dead_code)] // each test binary uses part of it

use chrono::{Duration, NaiveDate};
use talab_features::{DailyBar, Timeframe};

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub fn tf(code: &str) -> Timeframe {
    Timeframe::parse(code).unwrap()
}

/// A UTC day's bar: opens at midnight, closes 23:59:59.999, high at `high_h` o'clock, low at 12:00.
pub fn bar(day: NaiveDate, o: f64, h: f64, l: f64, c: f64, v: f64, high_h: i64) -> DailyBar {
    let t0 = day.and_hms_opt(0, 0, 0).unwrap().and_utc();
    DailyBar {
        day,
        time_open: t0,
        time_close: t0 + Duration::milliseconds(86_399_999),
        time_high: t0 + Duration::hours(high_h),
        time_low: t0 + Duration::hours(12),
        open: o,
        high: h,
        low: l,
        close: c,
        volume: v,
        market_cap: None,
    }
}

/// Consecutive days from `start` with close = open + 1 on day i (open = 100 + i).
pub fn ramp(start: &str, days: usize) -> Vec<DailyBar> {
    (0..days)
        .map(|i| {
            let o = 100.0 + i as f64;
            bar(
                d(start) + Duration::days(i as i64),
                o,
                o + 2.0,
                o - 1.0,
                o + 1.0,
                10.0,
                6,
            )
        })
        .collect()
}

/// A seeded random series over `span` days from `start`, keeping each day with probability
/// `keep` (the first day always kept).
pub fn random_series(seed: u64, start: NaiveDate, span: usize, keep: f64) -> Vec<DailyBar> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut rnd = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut close: f64 = 50.0;
    let mut out = Vec::new();
    for i in 0..span {
        let o = close;
        close = (o * (1.0 + (rnd() - 0.5) * 0.1)).max(0.01);
        // Round to cents so that ties in highs and lows happen.
        let h = ((o.max(close) * (1.0 + rnd() * 0.01)) * 100.0).round() / 100.0;
        let l = ((o.min(close) * (1.0 - rnd() * 0.01)) * 100.0).round() / 100.0;
        let v = (rnd() * 1000.0).round();
        let hour = (rnd() * 23.0) as i64;
        if i == 0 || rnd() < keep {
            out.push(bar(
                start + Duration::days(i as i64),
                o,
                h.max(o).max(close),
                l.min(o).min(close),
                close,
                v,
                hour,
            ));
        }
    }
    out
}
