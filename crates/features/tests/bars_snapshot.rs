//! The snapshot builders on small hand-checked vectors: tf_day aggregation and gaps, running
//! high/low/volume, calendar weeks (US vs ISO) around a year end, leap Februaries, anchored starts.

use crate::bars_common;

use bars_common::{bar, d, ramp, tf};
use talab_features::bars::{MultiTfBar, build_all, build_snapshots};
use talab_features::{DailyBar, FeatureError};

/// (bar_seq, pos_in_bar, open, high, low, close, volume, is_partial_end)
type Summary = (i64, i64, f64, f64, f64, f64, f64, bool);

fn days_of(rows: &[MultiTfBar]) -> Vec<String> {
    rows.iter().map(|r| r.day.format("%m-%d").to_string()).collect()
}

#[test]
fn two_day_bars_aggregate_open_high_low_close_volume() {
    let bars = vec![
        bar(d("2024-01-01"), 100.0, 110.0, 95.0, 105.0, 10.0, 3),
        bar(d("2024-01-02"), 105.0, 108.0, 90.0, 107.0, 20.0, 4),
        bar(d("2024-01-03"), 107.0, 115.0, 106.0, 112.0, 30.0, 5),
        bar(d("2024-01-04"), 112.0, 113.0, 100.0, 101.0, 40.0, 6),
        bar(d("2024-01-05"), 101.0, 102.0, 99.0, 100.0, 50.0, 7),
    ];
    let rows = build_snapshots(tf("2D"), &bars).unwrap();
    let got: Vec<Summary> = rows
        .iter()
        .map(|r| {
            (
                r.bar_seq,
                r.pos_in_bar,
                r.open,
                r.high,
                r.low,
                r.close,
                r.volume,
                r.is_partial_end,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1, 1, 100.0, 110.0, 95.0, 105.0, 10.0, true),
            (1, 2, 100.0, 110.0, 90.0, 107.0, 30.0, false),
            (2, 1, 107.0, 115.0, 106.0, 112.0, 30.0, true),
            (2, 2, 107.0, 115.0, 100.0, 101.0, 70.0, false),
            (3, 1, 101.0, 102.0, 99.0, 100.0, 50.0, true),
        ]
    );
    // time_open is the bar's first day; time_close the row's own day; the low of bar 1 was set on day 2.
    assert_eq!(rows[1].time_open, bars[0].time_open);
    assert_eq!(rows[1].time_close, bars[1].time_close);
    assert_eq!(
        (rows[1].time_high, rows[1].time_low),
        (bars[0].time_high, bars[1].time_low)
    );
    assert!(
        rows.iter()
            .all(|r| r.count_missing_days == 0 && !r.is_partial_start)
    );
    assert_eq!(
        rows.iter().map(|r| r.count_days).collect::<Vec<_>>(),
        [1, 2, 1, 2, 1]
    );
    // 1D bars are the days themselves, each complete.
    let one = build_snapshots(tf("1D"), &bars).unwrap();
    assert!(
        one.iter()
            .zip(&bars)
            .all(|(r, b)| r.open == b.open && r.high == b.high && r.volume == b.volume && !r.is_partial_end)
    );
}

#[test]
fn running_high_keeps_the_earliest_time_on_ties() {
    let bars = vec![
        bar(d("2024-03-01"), 10.0, 12.0, 9.0, 11.0, 1.5, 8),
        bar(d("2024-03-02"), 11.0, 12.0, 9.0, 10.0, 2.5, 20), // ties the high and the low
        bar(d("2024-03-03"), 10.0, 13.0, 8.5, 12.5, 4.0, 2),
    ];
    let rows = build_snapshots(tf("3D"), &bars).unwrap();
    assert_eq!(rows[1].high, 12.0);
    assert_eq!(
        rows[1].time_high, bars[0].time_high,
        "a tie keeps the earlier day's time"
    );
    assert_eq!(rows[1].time_low, bars[0].time_low);
    assert_eq!((rows[2].high, rows[2].time_high), (13.0, bars[2].time_high));
    assert_eq!((rows[2].low, rows[2].time_low), (8.5, bars[2].time_low));
    assert_eq!(rows.iter().map(|r| r.volume).collect::<Vec<_>>(), [1.5, 4.0, 8.0]);
    assert_eq!(
        rows.iter().map(|r| r.close).collect::<Vec<_>>(),
        [11.0, 10.0, 12.5]
    );
}

#[test]
fn gaps_are_flagged_and_never_stretch_a_bar() {
    // Days 1, 2, 4, 5, 9 of a 3D grid from day 1: bars [1-3] [4-6] [7-9].
    let bars: Vec<DailyBar> = ramp("2024-05-01", 9)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| [0, 1, 3, 4, 8].contains(i))
        .map(|(_, b)| b)
        .collect();
    let rows = build_snapshots(tf("3D"), &bars).unwrap();
    let got: Vec<(String, i64, i64, i64, i64, bool)> = rows
        .iter()
        .map(|r| {
            (
                r.day.format("%d").to_string(),
                r.bar_seq,
                r.pos_in_bar,
                r.count_days,
                r.count_missing_days,
                r.is_partial_end,
            )
        })
        .collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        got,
        vec![
            (s("01"), 1, 1, 1, 0, true),
            (s("02"), 1, 2, 2, 0, true), // day 3 missing: bar 1 never completes
            (s("04"), 2, 1, 1, 0, true),
            (s("05"), 2, 2, 2, 0, true),
            (s("09"), 3, 3, 1, 2, false), // days 7 and 8 missing; complete on its last day
        ]
    );
    // Bar 3 opens with day 9's open, not day 5's.
    assert_eq!(rows[4].open, 108.0);
}

#[test]
fn us_and_iso_weeks_around_the_year_end() {
    // 2020-12-27 is a Sunday, 2021-01-10 a Sunday.
    let bars = ramp("2020-12-27", 15);
    let us = build_snapshots(tf("1W_CAL_US"), &bars).unwrap();
    let iso = build_snapshots(tf("1W_CAL_ISO"), &bars).unwrap();
    // US: Sun 12-27 … Sat 01-02, Sun 01-03 … Sat 01-09, Sun 01-10 …
    assert_eq!(us.len(), 15);
    let closes_us: Vec<String> = us
        .iter()
        .filter(|r| !r.is_partial_end)
        .map(|r| r.day.to_string())
        .collect();
    assert_eq!(closes_us, ["2021-01-02", "2021-01-09"]);
    assert_eq!(
        us.iter().map(|r| r.bar_seq).collect::<Vec<_>>(),
        [1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3]
    );
    assert_eq!((us[6].open, us[6].close, us[6].volume), (100.0, 107.0, 70.0));
    // ISO: the first full week starts Mon 12-28 (Sun 12-27 emits nothing), weeks end on Sundays.
    assert_eq!(iso.len(), 14);
    assert_eq!(iso[0].day, d("2020-12-28"));
    let closes_iso: Vec<String> = iso
        .iter()
        .filter(|r| !r.is_partial_end)
        .map(|r| r.day.to_string())
        .collect();
    assert_eq!(closes_iso, ["2021-01-03", "2021-01-10"]);
    assert_eq!((iso[6].open, iso[6].high, iso[6].close), (101.0, 109.0, 108.0));
    // Anchored weeks take the Sunday too, as a partial start of the ISO week 12-21 … 12-27.
    let anchored = build_snapshots(tf("1W_CAL_ANCHOR_ISO"), &bars).unwrap();
    assert_eq!(anchored.len(), 15);
    assert!(anchored[0].is_partial_start && !anchored[0].is_partial_end && anchored[0].pos_in_bar == 7);
    assert!(!anchored[1].is_partial_start && anchored[1].bar_seq == 2);
}

#[test]
fn leap_and_common_februaries() {
    let leap = build_snapshots(tf("1M_CAL"), &ramp("2020-02-01", 31)).unwrap();
    let common = build_snapshots(tf("1M_CAL"), &ramp("2021-02-01", 31)).unwrap();
    let close_day = |rows: &[MultiTfBar]| rows.iter().find(|r| !r.is_partial_end).map(|r| r.day);
    assert_eq!(close_day(&leap), Some(d("2020-02-29")));
    assert_eq!(close_day(&common), Some(d("2021-02-28")));
    assert_eq!(leap.iter().filter(|r| r.bar_seq == 1).count(), 29);
    assert_eq!(common.iter().filter(|r| r.bar_seq == 1).count(), 28);
    assert_eq!(
        (leap[28].volume, leap[29].bar_seq, leap[29].pos_in_bar),
        (290.0, 2, 1)
    );
}

#[test]
fn anchored_and_non_anchored_starts() {
    // Data from Wed 2021-02-17 for 120 days.
    let bars = ramp("2021-02-17", 120);
    let plain = build_snapshots(tf("3M_CAL"), &bars).unwrap();
    let anchored = build_snapshots(tf("3M_CAL_ANCHOR"), &bars).unwrap();
    // Non-anchored: nothing before the first full month (March), bars Mar–May, Jun–Aug.
    assert_eq!(plain[0].day, d("2021-03-01"));
    assert_eq!(
        plain.iter().find(|r| !r.is_partial_end).map(|r| r.day),
        Some(d("2021-05-31"))
    );
    assert!(plain.iter().all(|r| !r.is_partial_start));
    // Anchored: Jan–Mar (partial start, complete on 03-31), then Apr–Jun.
    assert_eq!(anchored.len(), 120);
    assert!(
        anchored[0].is_partial_start && anchored[0].pos_in_bar == 48 && anchored[0].count_missing_days == 0
    );
    let done = anchored.iter().find(|r| !r.is_partial_end).unwrap();
    assert_eq!(
        (done.day, done.is_partial_start, done.count_days, done.open),
        (d("2021-03-31"), true, 43, 100.0)
    );
    assert_eq!(anchored.iter().filter(|r| r.bar_seq == 2).count(), 77); // 120 − 43 days, bar still open
    // Years: non-anchored emits nothing before 2022, anchored starts in 2021 at once.
    assert!(build_snapshots(tf("1Y_CAL"), &bars).unwrap().is_empty());
    assert_eq!(build_snapshots(tf("1Y_CAL_ANCHOR"), &bars).unwrap().len(), 120);
    assert_eq!(
        days_of(&build_snapshots(tf("1Q_CAL"), &bars).unwrap()[..1]),
        ["04-01"]
    );
}

#[test]
fn unsorted_or_hourly_input_is_refused() {
    let mut bars = ramp("2024-01-01", 3);
    bars.swap(1, 2);
    match build_snapshots(tf("2D"), &bars) {
        Err(FeatureError::UnsortedBars { previous, day }) => {
            assert_eq!((previous, day), (d("2024-01-03"), d("2024-01-02")))
        }
        other => panic!("{other:?}"),
    }
    let dup = vec![ramp("2024-01-01", 1)[0].clone(), ramp("2024-01-01", 1)[0].clone()];
    assert!(matches!(
        build_snapshots(tf("1D"), &dup),
        Err(FeatureError::UnsortedBars { .. })
    ));
    let e = build_snapshots(tf("4H"), &ramp("2024-01-01", 3))
        .unwrap_err()
        .to_string();
    assert!(e.contains("4H") && e.contains("hourly"), "{e}");
    assert!(build_snapshots(tf("2D"), &[]).unwrap().is_empty());
}

#[test]
fn build_all_concatenates_timeframes_in_order() {
    let bars = ramp("2024-01-01", 40);
    let tfs = [tf("1D"), tf("7D"), tf("1M_CAL")];
    let all = build_all(&tfs, &bars).unwrap();
    assert_eq!(all.len(), 40 + 40 + 40);
    assert_eq!((all[0].tf, all[40].tf, all[80].tf), (tfs[0], tfs[1], tfs[2]));
}
