//! The time model on both backends: the seeded `dim_timeframe` agrees with the code parser, the
//! enable/disable repository, and `dim_sessions` day bounds across DST changes.

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use talab_features::time::{Session, SessionKey, SessionRegistry, TimeframeInfo, TimeframeRegistry};
use talab_features::{DEFAULT_CANONICAL_TIMEFRAMES, FeatureError, Timeframe};

#[tokio::test]
async fn seeded_timeframes_match_the_parser_and_the_default_set() {
    for t in talab_db::testing::backends().await {
        let reg = TimeframeRegistry::open(t.db.clone()).await.unwrap();
        let all = reg.all().await.unwrap();
        assert_eq!(all.len(), 56, "{}", t.label());
        for row in &all {
            let tf = Timeframe::parse(&row.tf).unwrap();
            let expected = TimeframeInfo::from_timeframe(&tf, tf.is_default_canonical());
            assert_eq!(row, &expected, "{}", t.label());
        }
        assert!(all.windows(2).all(|w| w[0].sort_order < w[1].sort_order));
        let enabled: Vec<String> = reg.enabled().await.unwrap().into_iter().map(|r| r.tf).collect();
        let mut expected: Vec<&str> = DEFAULT_CANONICAL_TIMEFRAMES.to_vec();
        expected.sort_by_key(|c| Timeframe::parse(c).unwrap().sort_order());
        assert_eq!(enabled, expected, "{}", t.label());
        for code in ["4H", "2W_CAL_ANCHOR_US", "6M_CAL_ANCHOR", "2Q_CAL", "365D"] {
            assert!(
                reg.get(code).await.unwrap().is_some(),
                "{code} is seeded ({})",
                t.label()
            );
        }
        let h = reg.get("4h").await.unwrap().unwrap();
        assert_eq!(
            (h.tf_days_nominal, h.is_intraday, h.base_unit.as_str()),
            (None, true, "H")
        );
        let m = reg.get("3m_cal").await.unwrap().unwrap();
        assert_eq!(
            (m.tf_days_nominal, m.alignment_type.as_str(), m.label.as_str()),
            (Some(90), "calendar", "3 months")
        );
    }
}

#[tokio::test]
async fn enable_and_disable_timeframes() {
    for t in talab_db::testing::backends().await {
        let reg = TimeframeRegistry::open(t.db.clone()).await.unwrap();
        let row = reg.enable("2w_cal_iso").await.unwrap();
        assert!(row.is_canonical && row.tf == "2W_CAL_ISO", "{}", t.label());
        // A valid code that is not seeded is added.
        assert!(reg.get("17D").await.unwrap().is_none());
        let added = reg.enable("17d").await.unwrap();
        assert_eq!(
            (added.tf_days_nominal, added.sort_order),
            (Some(17), Timeframe::parse("17D").unwrap().sort_order())
        );
        let off = reg.disable("1y_cal").await.unwrap();
        assert!(!off.is_canonical);
        let enabled: Vec<String> = reg.enabled().await.unwrap().into_iter().map(|r| r.tf).collect();
        assert_eq!(enabled.len(), 14, "{}: {enabled:?}", t.label());
        assert!(enabled.contains(&"17D".to_string()) && !enabled.contains(&"1Y_CAL".to_string()));
        assert_eq!(reg.all().await.unwrap().len(), 57);
        for bad in ["1W", "week", "0D"] {
            assert!(
                matches!(reg.enable(bad).await, Err(FeatureError::UnknownTimeframe { .. })),
                "{bad}"
            );
            assert!(
                matches!(reg.get(bad).await, Err(FeatureError::UnknownTimeframe { .. })),
                "{bad}"
            );
        }
        match reg.disable("18D").await {
            Err(FeatureError::UnknownTimeframe { code }) => assert_eq!(code, "18D"),
            other => panic!("{other:?}"),
        }
    }
}

fn utc(s: &str) -> chrono::DateTime<Utc> {
    Utc.from_utc_datetime(&chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[tokio::test]
async fn seeded_sessions_and_their_day_bounds() {
    for t in talab_db::testing::backends().await {
        let reg = SessionRegistry::open(t.db.clone()).await.unwrap();
        assert_eq!(reg.list().await.unwrap().len(), 2, "{}", t.label());
        let crypto = reg
            .get(&SessionKey::new("crypto", "global", "default", "regular"))
            .await
            .unwrap();
        assert!(crypto.is_24h && crypto.is_primary_for_daily);
        assert_eq!(
            crypto.day_bounds(day("2024-03-10")),
            (utc("2024-03-10 00:00"), utc("2024-03-11 00:00"))
        );
        let nyse = reg
            .get(&SessionKey::new("EQUITY", "US", "NYSE", "REGULAR"))
            .await
            .unwrap();
        assert_eq!(
            (nyse.open, nyse.close),
            (
                NaiveTime::from_hms_opt(9, 30, 0).unwrap(),
                NaiveTime::from_hms_opt(16, 0, 0).unwrap()
            )
        );
        // EST (UTC−5) before 2024-03-10, EDT (UTC−4) from it: the open moves in UTC, never the day.
        assert_eq!(
            nyse.day_bounds(day("2024-03-08")),
            (utc("2024-03-08 14:30"), utc("2024-03-08 21:00"))
        );
        assert_eq!(
            nyse.day_bounds(day("2024-03-11")),
            (utc("2024-03-11 13:30"), utc("2024-03-11 20:00"))
        );
        assert_eq!(
            nyse.day_bounds(day("2024-11-04")),
            (utc("2024-11-04 14:30"), utc("2024-11-04 21:00"))
        );
        let e = reg
            .get(&SessionKey::new("EQUITY", "EU", "XETRA", "REGULAR"))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("EQUITY/EU/XETRA/REGULAR") && e.contains("CRYPTO/GLOBAL/DEFAULT/REGULAR"),
            "{e}"
        );
    }
}

#[test]
fn dst_days_are_23_and_25_hours_and_consecutive() {
    let ny = Session {
        key: SessionKey::new("EQUITY", "US", "NYSE", "ALL_DAY"),
        timezone: chrono_tz::America::New_York,
        open: NaiveTime::MIN,
        close: NaiveTime::MIN,
        is_24h: true,
        is_primary_for_daily: false,
    };
    let hours = |d: &str| {
        let (a, b) = ny.day_bounds(day(d));
        (b - a).num_hours()
    };
    assert_eq!(hours("2024-03-09"), 24);
    assert_eq!(hours("2024-03-10"), 23, "spring forward");
    assert_eq!(hours("2024-11-03"), 25, "fall back");
    assert_eq!(
        ny.day_bounds(day("2024-11-03")),
        (utc("2024-11-03 04:00"), utc("2024-11-04 05:00"))
    );
    // No day is dropped or overlapped across a whole year.
    let mut d = day("2024-01-01");
    while d < day("2025-01-01") {
        assert_eq!(ny.day_bounds(d).1, ny.day_bounds(d.succ_opt().unwrap()).0, "{d}");
        d = d.succ_opt().unwrap();
    }
    // A session that closes at or before it opens ends the next day; a start inside the spring
    // gap (02:30 does not exist on 2024-03-10) moves to the first instant after it.
    let overnight = Session {
        is_24h: false,
        open: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
        close: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        ..ny.clone()
    };
    assert_eq!(
        overnight.day_bounds(day("2024-03-09")),
        (utc("2024-03-09 23:00"), utc("2024-03-10 21:00"))
    );
    let gap = Session {
        is_24h: false,
        open: NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
        close: NaiveTime::from_hms_opt(4, 0, 0).unwrap(),
        ..ny
    };
    assert_eq!(
        gap.day_bounds(day("2024-03-10")),
        (utc("2024-03-10 07:00"), utc("2024-03-10 08:00"))
    );
}
