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

#[derive(Serialize)]
struct Report {
    by: CostGrouping,
    since: Option<DateTime<Utc>>,
    rows: Vec<CostRow>,
    total: CostRow,
}

/// Midnight of `day` in the user's zone.
pub(crate) fn start_of(config: &Config, day: NaiveDate) -> Result<DateTime<Utc>, CliError> {
    let tz = wiring::timezone(config);
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    tz.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| CliError::usage(format!("{day} has no midnight in {tz}")))
}

pub async fn run(app: &App, args: CostsArgs) -> Result<(), CliError> {
    let config = app.config();
    let since = args.since.map(|d| start_of(config, d)).transpose()?;
    let by = match args.by {
        CostsBy::Platform => CostGrouping::Platform,
        CostsBy::Model => CostGrouping::Model,
        CostsBy::Day => CostGrouping::Day,
    };
    let db = app.db().await?;
    let store = TaskStore::open(db.clone()).await?;
    let ledger = CostLedger::for_store(&store).await?;
    let rows = ledger.summary(since, by).await;
    let total = ledger.total(since).await;
    db.close().await;
    let report = Report {
        by,
        since,
        rows: rows?,
        total: total?,
    };
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
    match since {
        Some(t) => println!("since {}", wiring::local_time(config, t)),
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
