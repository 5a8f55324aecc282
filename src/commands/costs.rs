//! `talab costs`: spending from the cost ledger (one row per successful call), summed per
//! platform, model or day, with tokens by kind. Calls whose model had no known price count $0
//! and are counted apart, so unpriced spending shows instead of hiding.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use talab_orchestrator::{CostGrouping, CostLedger, CostRow, TaskStore};

use super::tasks::usd;
use crate::app::App;
use crate::cli::{CostsArgs, CostsBy};
use crate::config::Config;
use crate::exit::CliError;
use crate::{output, wiring};

/// What `talab costs --json` prints (and the MCP `costs` tool answers).
#[derive(Serialize)]
pub(crate) struct Report {
    by: CostGrouping,
    since: Option<DateTime<Utc>>,
    rows: Vec<CostRow>,
    total: CostRow,
}

/// Midnight of `day` in the user's zone.
fn start_of(config: &Config, day: NaiveDate) -> Result<DateTime<Utc>, CliError> {
    let tz = wiring::timezone(config);
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    tz.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| CliError::usage(format!("{day} has no midnight in {tz}")))
}

/// The spending since `since` (a day in the user's zone), summed by `by`, with the total.
pub(crate) async fn report(app: &App, since: Option<NaiveDate>, by: CostsBy) -> Result<Report, CliError> {
    let since = since.map(|d| start_of(app.config(), d)).transpose()?;
    let by = match by {
        CostsBy::Platform => CostGrouping::Platform,
        CostsBy::Model => CostGrouping::Model,
        CostsBy::Day => CostGrouping::Day,
    };
    let store = TaskStore::open(app.db().await?).await?;
    let ledger = CostLedger::for_store(&store).await?;
    Ok(Report {
        by,
        since,
        rows: ledger.summary(since, by).await?,
        total: ledger.total(since).await?,
    })
}

pub async fn run(app: &App, args: CostsArgs) -> Result<(), CliError> {
    let report = report(app, args.since, args.by).await?;
    let by = report.by;
    if args.json {
        return output::json(&report);
    }
    let first = match by {
        CostGrouping::Platform => "platform",
        CostGrouping::Model => "model",
        CostGrouping::Day => "day (UTC)",
    };
    let mut table = output::table([
        first,
        "calls",
        "input",
        "cache read",
        "cache write",
        "output",
        "reasoning",
        "cost",
        "unpriced calls",
    ]);
    for r in report.rows.iter().chain(std::iter::once(&report.total)) {
        table.add_row([
            r.key.clone(),
            r.calls.to_string(),
            r.usage.input_uncached.to_string(),
            r.usage.cache_read.to_string(),
            r.usage.cache_write.to_string(),
            r.usage.output.to_string(),
            r.usage.reasoning.to_string(),
            usd(r.cost_usd),
            r.unpriced_calls.to_string(),
        ]);
    }
    match report.since {
        Some(t) => println!("since {}", wiring::local_time(app.config(), t)),
        None => println!("all recorded calls"),
    }
    println!("{table}");
    if report.total.unpriced_calls > 0 {
        println!(
            "{} call(s) used a model missing from the price table and count as $0; add it with \
             [pricing] price_file (LiteLLM format)",
            report.total.unpriced_calls
        );
    }
    Ok(())
}
