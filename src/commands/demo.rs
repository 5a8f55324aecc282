//! `talab demo`: the whole flow on synthetic prices in a throw-away database, offline, in seconds.
//!
//! It runs the real code paths — ingest, the orchestrated refresh with memory, a one-day
//! incremental refresh that sees the first run in its context, and `ask` — only the prices are
//! synthetic, and it says so before and after.

use chrono::{Duration, Utc};
use talab_db::Database;
use talab_features::SyntheticSource;

use crate::app::App;
use crate::cli::DemoArgs;
use crate::commands::{ask, ema};
use crate::config::{Config, Overrides};
use crate::exit::CliError;
use crate::{output, wiring};
use talab_features::RefreshRequest;

const SYMBOLS: [&str; 2] = ["BTC", "ETH"];

pub async fn run(overrides: &Overrides, args: DemoArgs, quiet: bool) -> Result<(), CliError> {
    let temp;
    let dir = match &args.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| CliError::failure(format!("{}: {e}", dir.display())))?;
            dir.clone()
        }
        None => {
            temp = tempfile::tempdir()
                .map_err(|e| CliError::failure(format!("cannot make a temp folder: {e}")))?;
            temp.path().to_path_buf()
        }
    };
    let demo_overrides = Overrides {
        config: overrides.config.clone(),
        database_url: Some(format!("sqlite://{}", dir.join("talab-demo.db").display())),
    };
    let app = App::new(Config::load(&demo_overrides)?);
    let outcome = narrate(&app, &dir, &args, quiet).await;
    app.close().await;
    outcome
}

/// The demo's steps on its own database.
async fn narrate(app: &App, dir: &std::path::Path, args: &DemoArgs, quiet: bool) -> Result<(), CliError> {
    let config = app.config();
    // With --json the narrative is left out and one object is printed at the end.
    let say = |text: String| {
        if !args.json {
            println!("{text}");
        }
    };
    say(format!(
        "talab demo — the whole flow, offline, in a throw-away database ({})",
        dir.display()
    ));
    say("NOTE: the prices below are SYNTHETIC (a seeded random walk), not market data.\n".into());

    let db = app.db().await?;
    // Prices end yesterday, so that "today" in the question is the day the refresh ran.
    let last = Utc::now().date_naive() - Duration::days(1);
    let start = last - Duration::days(args.days as i64 - 1);
    let source = SyntheticSource::new(42).with_start(start);
    let symbols: Vec<String> = SYMBOLS.iter().map(|s| s.to_string()).collect();
    say(format!(
        "1. talab ingest synthetic --symbols BTC,ETH --days {}",
        args.days
    ));
    ingest(&db, &source, &symbols, args.days - 1).await?;
    say(format!(
        "   {} days per symbol, {start} .. {}\n",
        args.days - 1,
        last - Duration::days(1)
    ));

    let narrate = !quiet && !args.json;
    let flow = wiring::flow(app, narrate).await?;
    let request = RefreshRequest {
        symbols: symbols.clone(),
        ..RefreshRequest::default()
    };
    say("2. talab refresh-ema --symbols BTC,ETH   (an orchestrated task on the local platform)".into());
    let first = flow.refresh(&request).await?;
    if !args.json {
        ema::print_summary(&first);
    }

    say("\n3. one more day arrives; talab refresh-ema --symbols BTC,ETH   (incremental)".into());
    ingest(&db, &source, &symbols, args.days).await?;
    let second = flow.refresh(&request).await?;
    if !args.json {
        ema::print_summary(&second);
    }
    say(format!(
        "   the task's memory context held the first run:\n{}",
        indent(&second.context)
    ));

    let question = "what EMAs ran today";
    say(format!("\n4. talab ask \"{question}\""));
    let memory = flow.memory.clone();
    let answer = crate::flow::ask::ask(
        memory.as_ref(),
        &flow.runs,
        None,
        question,
        Utc::now(),
        wiring::timezone(config),
    )
    .await?;
    if args.json {
        output::json(&serde_json::json!({
            "synthetic": true,
            "database": dir.join("talab-demo.db"),
            "days": args.days,
            "symbols": symbols,
            "refreshes": [&first, &second],
            "answer": answer,
        }))?;
    } else {
        ask::print_answer(&answer);
        println!("\nThose prices were SYNTHETIC. To do it for real:");
        println!(
            "  talab ingest csv tests/data/coin_Bitcoin.csv    # in the repository: 2,862 real BTC days; \
             or: talab ingest fetch --symbols BTC,ETH"
        );
        println!("  talab refresh-ema --symbols BTC");
        println!("  talab ask \"what EMAs ran today\"");
    }
    if first.run.error.is_some() || second.run.error.is_some() {
        return Err(CliError::failure("a demo refresh failed; see above"));
    }
    Ok(())
}

async fn ingest(
    db: &Database,
    source: &SyntheticSource,
    symbols: &[String],
    days: usize,
) -> Result<(), CliError> {
    talab_features::ingest::ingest_synthetic(db, source, symbols, days, false).await?;
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("   | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
