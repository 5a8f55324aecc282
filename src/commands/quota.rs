//! `talab quota`: each configured limit in its current window (used, held by running calls, left),
//! when the window resets (in your time zone), and the 50/80/90 % alerts recorded. The numbers
//! are the database's, so they include every talab process sharing it.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use talab_orchestrator::{QuotaAlert, QuotaLine, QuotaTracker, TaskStore};

use crate::app::App;
use crate::cli::JsonArgs;
use crate::exit::CliError;
use crate::{output, wiring};

#[derive(Serialize)]
struct Shown {
    #[serde(flatten)]
    line: QuotaLine,
    left: i64,
    percent_used: f64,
    /// When the next window starts (UTC).
    resets_at: Option<DateTime<Utc>>,
}

#[derive(Serialize)]
struct Report {
    quotas: Vec<Shown>,
    /// Every alert recorded, newest first.
    alerts: Vec<QuotaAlert>,
}

/// The start of the day after `window` in the line's zone.
fn resets_at(line: &QuotaLine) -> Option<DateTime<Utc>> {
    let tz: Tz = line.tz.parse().ok()?;
    let next = NaiveDate::parse_from_str(&line.window, "%Y-%m-%d")
        .ok()?
        .succ_opt()?
        .and_hms_opt(0, 0, 0)?;
    Some(tz.from_local_datetime(&next).earliest()?.with_timezone(&Utc))
}

pub async fn run(app: &App, args: JsonArgs) -> Result<(), CliError> {
    let config = app.config();
    let db = app.db().await?;
    let store = TaskStore::open(db.clone()).await?;
    let tracker = QuotaTracker::for_store(&store, config.quota_config()).await?;
    let lines = tracker.report().await;
    let alerts = tracker.alerts(None).await;
    db.close().await;
    let report = Report {
        quotas: lines?
            .into_iter()
            .map(|line| Shown {
                left: line.left(),
                percent_used: if line.limit > 0 {
                    100.0 * line.used as f64 / line.limit as f64
                } else {
                    100.0
                },
                resets_at: resets_at(&line),
                line,
            })
            .collect(),
        alerts: alerts?,
    };
    if args.json {
        return output::json(&report);
    }
    if report.quotas.is_empty() {
        println!(
            "no quotas configured: add [quota.<platform>] with requests_per_day, tokens_per_day or \
             daily_budget_usd to talab.toml (or set TALAB_QUOTA_<PLATFORM>_REQUESTS_PER_DAY…)"
        );
    } else {
        let mut table = output::table([
            "platform", "unit", "used", "held", "limit", "left", "window", "resets",
        ]);
        for s in &report.quotas {
            let l = &s.line;
            table.add_row([
                l.platform.to_string(),
                l.unit.as_str().to_string(),
                format!("{} ({:.0} %)", l.unit.describe(l.used), s.percent_used),
                l.unit.describe(l.reserved),
                l.unit.describe(l.limit),
                l.unit.describe(s.left),
                format!("{} {}", l.window, l.tz),
                s.resets_at
                    .map(|t| wiring::local_time(config, t))
                    .unwrap_or_default(),
            ]);
        }
        println!("{table}");
    }
    if report.alerts.is_empty() {
        println!("no quota alerts recorded");
    } else {
        println!("alerts (newest first):");
        for a in report.alerts.iter().take(20) {
            println!(
                "  {}  {} {} passed {} % on {}: {} of {}",
                wiring::local_time(config, a.created_at),
                a.platform,
                a.unit.as_str(),
                a.threshold,
                a.window,
                a.unit.describe(a.used),
                a.unit.describe(a.limit)
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use talab_orchestrator::{Platform, QuotaUnit};

    #[test]
    fn a_window_resets_at_the_next_local_midnight() {
        let line = QuotaLine {
            platform: Platform::Gemini,
            unit: QuotaUnit::Requests,
            window: "2026-11-27".into(),
            tz: "America/Los_Angeles".into(),
            used: 1,
            reserved: 0,
            limit: 2,
        };
        assert_eq!(
            resets_at(&line).unwrap().to_rfc3339(),
            "2026-11-28T08:00:00+00:00"
        );
    }
}
