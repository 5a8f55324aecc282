//! Time phrases in a question (`talab ask`) ("what EMAs ran today", "… in the last 3 days", "… since 2026-11-01")
//! become a `since`/`until` window in the user's time zone, and are cut from the text that goes to
//! semantic search (a date in the query would only add noise to the vectors).
//!
//! Days are calendar days in the user's zone: "today" is [local midnight, next local midnight), so a
//! DST day is 23 or 25 hours long; "last N days" is today and the N−1 days before it; weeks start
//! on Monday (ISO). Dates are ISO `YYYY-MM-DD`.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use regex::{Captures, Regex};

/// A time window taken from a question.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TimeWindow {
    /// Inclusive start.
    pub since: Option<DateTime<Utc>>,
    /// Exclusive end.
    pub until: Option<DateTime<Utc>>,
    /// What was understood, for "searched …" lines: e.g. `today (2026-11-27, Europe/Paris)`.
    pub description: String,
}

/// The question without its time phrase, and the window it named (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedQuestion {
    pub query: String,
    pub window: Option<TimeWindow>,
}

const DATE: &str = r"(\d{4}-\d{2}-\d{2})";

/// The phrases understood, most specific first; each regex matches a whole phrase.
static PHRASES: LazyLock<Vec<(Kind, Regex)>> = LazyLock::new(|| {
    let re = |p: &str| Regex::new(&format!(r"(?i)\b(?:{p})\b")).expect("a valid time-phrase pattern");
    vec![
        (Kind::Between, re(&format!(r"between {DATE} and {DATE}"))),
        (
            Kind::LastHours,
            re(r"(?:in the |during the |over the )?(?:last|past) (\d{1,4}) hours?"),
        ),
        (
            Kind::LastDays,
            re(r"(?:in the |during the |over the )?(?:last|past) (\d{1,4}) days?"),
        ),
        (Kind::SinceDate, re(&format!(r"since {DATE}"))),
        (Kind::SinceYesterday, re(r"since yesterday")),
        (Kind::OnDate, re(&format!(r"(?:on|for) {DATE}"))),
        (Kind::Before, re(&format!(r"(?:before|until) {DATE}"))),
        (Kind::Yesterday, re(r"yesterday")),
        (Kind::Today, re(r"today|tonight|this morning|this afternoon")),
        (Kind::ThisWeek, re(r"this week")),
        (Kind::LastWeek, re(r"last week")),
        (Kind::ThisMonth, re(r"this month")),
    ]
});

#[derive(Debug, Clone, Copy)]
enum Kind {
    Between,
    LastHours,
    LastDays,
    SinceDate,
    SinceYesterday,
    OnDate,
    Before,
    Yesterday,
    Today,
    ThisWeek,
    LastWeek,
    ThisMonth,
}

/// Local midnight at the start of `day` in `tz` (the first instant of the day where midnight
/// does not exist because of a DST jump).
pub fn start_of_day(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    (0..24)
        .find_map(|h| tz.from_local_datetime(&day.and_hms_opt(h, 0, 0)?).earliest())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight")))
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Finds the first time phrase in `question`; `now` and `tz` anchor relative phrases.
pub fn parse(question: &str, now: DateTime<Utc>, tz: Tz) -> ParsedQuestion {
    let today = now.with_timezone(&tz).date_naive();
    for (kind, re) in PHRASES.iter() {
        let Some(caps) = re.captures(question) else {
            continue;
        };
        let Some(window) = window_for(*kind, &caps, now, today, tz) else {
            continue;
        };
        let whole = caps.get(0).expect("group 0 always matches");
        let rest = format!("{} {}", &question[..whole.start()], &question[whole.end()..]);
        let query = rest.split_whitespace().collect::<Vec<_>>().join(" ");
        return ParsedQuestion {
            query,
            window: Some(window),
        };
    }
    ParsedQuestion {
        query: question.split_whitespace().collect::<Vec<_>>().join(" "),
        window: None,
    }
}

fn window_for(
    kind: Kind,
    caps: &Captures<'_>,
    now: DateTime<Utc>,
    today: NaiveDate,
    tz: Tz,
) -> Option<TimeWindow> {
    let day = |d: NaiveDate| start_of_day(d, tz);
    let next = |d: NaiveDate| start_of_day(d + Duration::days(1), tz);
    let n = |i: usize| caps.get(i).and_then(|m| m.as_str().parse::<i64>().ok());
    let d = |i: usize| caps.get(i).and_then(|m| date(m.as_str()));
    let w = |since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>, what: String| {
        Some(TimeWindow {
            since,
            until,
            description: format!("{what} ({tz})"),
        })
    };
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    match kind {
        Kind::Today => w(Some(day(today)), Some(next(today)), format!("today, {today}")),
        Kind::Yesterday => {
            let y = today - Duration::days(1);
            w(Some(day(y)), Some(day(today)), format!("yesterday, {y}"))
        }
        Kind::SinceYesterday => {
            let y = today - Duration::days(1);
            w(Some(day(y)), None, format!("since yesterday, {y}"))
        }
        Kind::ThisWeek => w(
            Some(day(monday)),
            Some(day(monday + Duration::days(7))),
            format!("this week, from {monday}"),
        ),
        Kind::LastWeek => {
            let start = monday - Duration::days(7);
            w(
                Some(day(start)),
                Some(day(monday)),
                format!("last week, {start} to {}", monday - Duration::days(1)),
            )
        }
        Kind::ThisMonth => {
            let first = today.with_day(1)?;
            let next_month = if first.month() == 12 {
                NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)?
            } else {
                NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)?
            };
            w(
                Some(day(first)),
                Some(day(next_month)),
                format!("this month, from {first}"),
            )
        }
        Kind::LastDays => {
            let count = n(1).filter(|&c| c >= 1)?;
            let start = today - Duration::days(count - 1);
            w(
                Some(day(start)),
                Some(next(today)),
                format!("the last {count} days, from {start}"),
            )
        }
        Kind::LastHours => {
            let count = n(1).filter(|&c| c >= 1)?;
            w(
                Some(now - Duration::hours(count)),
                None,
                format!("the last {count} hours"),
            )
        }
        Kind::SinceDate => {
            let from = d(1)?;
            w(Some(day(from)), None, format!("since {from}"))
        }
        Kind::OnDate => {
            let on = d(1)?;
            w(Some(day(on)), Some(next(on)), format!("on {on}"))
        }
        Kind::Before => {
            let before = d(1)?;
            w(None, Some(day(before)), format!("before {before}"))
        }
        Kind::Between => {
            let (a, b) = (d(1)?, d(2)?);
            let (a, b) = if a <= b { (a, b) } else { (b, a) };
            w(Some(day(a)), Some(next(b)), format!("{a} to {b}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Europe::Paris, UTC};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn window(q: &str, now: &str, tz: Tz) -> (String, DateTime<Utc>, Option<DateTime<Utc>>) {
        let p = parse(q, at(now), tz);
        let w = p.window.unwrap_or_else(|| panic!("no window in {q:?}"));
        (p.query, w.since.unwrap(), w.until)
    }

    #[test]
    fn today_and_yesterday_are_local_calendar_days() {
        let (q, since, until) = window("what EMAs ran today", "2026-11-27T10:42:00Z", UTC);
        assert_eq!(q, "what EMAs ran");
        assert_eq!(
            (since, until),
            (at("2026-11-27T00:00:00Z"), Some(at("2026-11-28T00:00:00Z")))
        );

        // 00:30 in Paris on the 27th is still the 26th in UTC: "today" follows the user.
        let (_, since, until) = window("What EMAs ran today?", "2026-11-26T23:30:00Z", Paris);
        assert_eq!(
            (since, until),
            (at("2026-11-26T23:00:00Z"), Some(at("2026-11-27T23:00:00Z")))
        );

        let (q, since, until) = window("what EMAs ran yesterday", "2026-11-27T10:42:00Z", UTC);
        assert_eq!(q, "what EMAs ran");
        assert_eq!(
            (since, until),
            (at("2026-11-26T00:00:00Z"), Some(at("2026-11-27T00:00:00Z")))
        );
    }

    #[test]
    fn dst_days_are_23_and_25_hours_long() {
        let (_, since, until) = window("runs today", "2026-03-08T15:00:00Z", New_York);
        assert_eq!(until.unwrap() - since, Duration::hours(23));
        let (_, since, until) = window("runs today", "2026-11-01T15:00:00Z", New_York);
        assert_eq!(until.unwrap() - since, Duration::hours(25));
        assert_eq!(since, at("2026-11-01T04:00:00Z"));
    }

    #[test]
    fn weeks_months_and_day_counts() {
        // 2026-11-27 is a Friday; the ISO week began on Monday the 23rd.
        let (_, since, until) = window("refreshes this week", "2026-11-27T10:00:00Z", UTC);
        assert_eq!(
            (since, until),
            (at("2026-11-23T00:00:00Z"), Some(at("2026-11-30T00:00:00Z")))
        );
        let (_, since, until) = window("refreshes last week", "2026-11-27T10:00:00Z", UTC);
        assert_eq!(
            (since, until),
            (at("2026-11-16T00:00:00Z"), Some(at("2026-11-23T00:00:00Z")))
        );
        let (_, since, until) = window("costs this month", "2026-12-15T10:00:00Z", UTC);
        assert_eq!(
            (since, until),
            (at("2026-12-01T00:00:00Z"), Some(at("2027-01-01T00:00:00Z")))
        );
        let (q, since, until) = window("failures in the last 3 days for ETH", "2026-11-27T10:00:00Z", UTC);
        assert_eq!(q, "failures for ETH");
        assert_eq!(
            (since, until),
            (at("2026-11-25T00:00:00Z"), Some(at("2026-11-28T00:00:00Z")))
        );
        let (_, since, until) = window("errors in the past 6 hours", "2026-11-27T10:00:00Z", UTC);
        assert_eq!((since, until), (at("2026-11-27T04:00:00Z"), None));
    }

    #[test]
    fn explicit_dates() {
        let (q, since, until) = window("EMA runs since 2026-11-01 for BTC", "2026-11-27T10:00:00Z", UTC);
        assert_eq!(q, "EMA runs for BTC");
        assert_eq!((since, until), (at("2026-11-01T00:00:00Z"), None));
        let (_, since, until) = window("what ran on 2026-11-20", "2026-11-27T10:00:00Z", Paris);
        assert_eq!(
            (since, until),
            (at("2026-11-19T23:00:00Z"), Some(at("2026-11-20T23:00:00Z")))
        );
        let (_, since, until) = window(
            "runs between 2026-11-20 and 2026-11-18",
            "2026-11-27T10:00:00Z",
            UTC,
        );
        assert_eq!(
            (since, until),
            (at("2026-11-18T00:00:00Z"), Some(at("2026-11-21T00:00:00Z")))
        );
        let p = parse("runs before 2026-11-20", at("2026-11-27T10:00:00Z"), UTC);
        assert_eq!(p.window.unwrap().until, Some(at("2026-11-20T00:00:00Z")));
    }

    #[test]
    fn no_phrase_or_an_impossible_date_leaves_the_question_alone() {
        let p = parse("how is the EMA  seeded?", at("2026-11-27T10:00:00Z"), UTC);
        assert_eq!(
            p,
            ParsedQuestion {
                query: "how is the EMA seeded?".into(),
                window: None
            }
        );
        let p = parse("what ran on 2026-02-30", at("2026-11-27T10:00:00Z"), UTC);
        assert!(p.window.is_none(), "{p:?}");
        // Words that merely contain a phrase are not phrases.
        assert!(
            parse("todays_table stats", at("2026-11-27T10:00:00Z"), UTC)
                .window
                .is_none()
        );
    }

    #[test]
    fn the_description_says_what_was_understood() {
        let p = parse("what ran yesterday", at("2026-11-27T10:00:00Z"), Paris);
        assert_eq!(
            p.window.unwrap().description,
            "yesterday, 2026-11-26 (Europe/Paris)"
        );
    }
}
