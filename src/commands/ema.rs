//! `talab refresh-ema` and `talab ema`: computing EMAs into the database and reading them back.
//!
//! `refresh-ema` runs the joined flow ([`crate::flow::refresh`]): an orchestrated task on the
//! `local` platform, with memory context, stored as a run and a memory. Every symbol and option
//! is checked before anything is written (a typo in the third symbol must not leave the first two
//! refreshed and the user guessing); each symbol then commits on its own, so an interrupted run
//! keeps the symbols it finished.

use chrono::NaiveDate;
use talab_features::sources::Interval;
use talab_features::{
    EmaCoverage, EmaQuery, FeatureError, MissingFetch, RefreshRequest, StoredEma, Timeframe,
};

use super::ingest::BaseUrls;
use crate::app::App;
use crate::cli::{EmaArgs, FetchSource, RefreshEmaArgs, RowFormat};
use crate::exit::CliError;
use crate::flow::refresh::RefreshOutcome;
use crate::{flow, output, wiring};

/// The refresh request of the command line. What only the command line can get wrong is checked
/// here (exit 2); the request itself by the feature store (`FeatureStore::check_refresh`).
pub fn refresh_request(args: &RefreshEmaArgs) -> Result<RefreshRequest, CliError> {
    if let (Some(start), Some(end)) = (args.start, args.end)
        && start > end
    {
        return Err(CliError::usage(format!("--start {start} is after --end {end}")));
    }
    Ok(RefreshRequest {
        symbols: args.symbols.clone(),
        tfs: args.tfs.clone(),
        periods: args.periods.clone(),
        date: args.date.or(args.end),
        full: args.full,
        jobs: args.jobs.map(usize::from),
    })
}

/// Prints a run's summary table.
pub fn print_summary(outcome: &RefreshOutcome) {
    let mut table = output::table([
        "symbol",
        "days",
        "rows nD",
        "rows calendar",
        "rejects",
        "rebuilt",
        "extended",
        "up to date",
        "ms",
    ]);
    for s in outcome.report.iter().flat_map(|r| &r.symbols) {
        match &s.refresh {
            Some(r) => table.add_row([
                r.symbol.clone(),
                format!("{} .. {}", r.first_day, r.last_day),
                r.rows_tf_day.to_string(),
                r.rows_calendar.to_string(),
                r.rejects.to_string(),
                r.rebuilt.to_string(),
                r.extended.to_string(),
                r.up_to_date.to_string(),
                format!("{:.0}", r.compute_ms + r.write_ms),
            ]),
            None => table.add_row([
                s.symbol.clone(),
                format!("FAILED: {}", s.error.as_deref().unwrap_or("")),
            ]),
        };
    }
    println!("{table}");
    let run = &outcome.run;
    println!("{}", flow::refresh::sentence(run));
    println!(
        "run {} (task via {}, correlation {}); remembered as memory {}; {} earlier run(s) in context",
        run.id,
        outcome.platform,
        run.correlation_id,
        run.memory_id.as_deref().unwrap_or("-"),
        outcome.context_ids.len()
    );
}

pub async fn refresh_ema(app: &App, args: RefreshEmaArgs, quiet: bool) -> Result<(), CliError> {
    let request = refresh_request(&args)?;
    if !args.no_fetch {
        fetch_missing(app, &request, args.source, quiet || args.json).await?;
    }
    // The feature store's one check of a request: a typo in the third symbol is exit 2 with
    // nothing written, not a failed run (the tool checks the task the same way).
    app.features().await?.check_refresh(&request).await?;
    let flow = wiring::flow(app, !args.json && !quiet).await?;
    let outcome = flow.refresh(&request).await?;
    if args.json {
        output::json(&outcome)?;
    } else {
        print_summary(&outcome);
    }
    match &outcome.run.error {
        None => Ok(()),
        Some(e) => Err(CliError::failure(format!("EMA refresh failed: {e}"))),
    }
}

/// Fetches what the refresh is missing (talab-features decides what: [`talab_features::fetch_missing`])
/// and says what happened on stderr; a symbol with no prices that could not get any is the
/// command's one-line error (exit 1), before anything is written.
async fn fetch_missing(
    app: &App,
    request: &RefreshRequest,
    source: Option<FetchSource>,
    quiet: bool,
) -> Result<(), CliError> {
    let db = app.db().await?;
    let chain = super::ingest::chain(app.config(), &db, source, &BaseUrls::default()).await?;
    let done = match talab_features::fetch_missing(&db, &chain, request).await {
        Ok(done) => done,
        Err(e @ FeatureError::NothingFetched { interval, .. }) => {
            let hint = match interval {
                Interval::Day => " (load a file with `talab ingest csv`)",
                Interval::Hour => "",
            };
            return Err(CliError::failure(format!("{e}{hint}")));
        }
        Err(e) => return Err(e.into()),
    };
    if quiet {
        return Ok(());
    }
    for fetch in done {
        match fetch {
            MissingFetch::NotFetchable { .. } => {}
            MissingFetch::Fetched { interval, outcome } => {
                for note in &outcome.notes {
                    eprintln!("note: {note}");
                }
                if outcome.fetched > 0 {
                    eprintln!(
                        "fetched {} {}(s) of {}",
                        outcome.fetched,
                        unit(interval),
                        outcome.symbol
                    );
                }
            }
            MissingFetch::Kept {
                symbol,
                interval,
                error,
            } => eprintln!(
                "note: could not fetch new {}s of {symbol} ({error}); refreshing the stored prices",
                unit(interval)
            ),
        }
    }
    Ok(())
}

fn unit(interval: Interval) -> &'static str {
    match interval {
        Interval::Day => "day",
        Interval::Hour => "hour",
    }
}

pub async fn show(app: &App, args: EmaArgs) -> Result<(), CliError> {
    let tf = Timeframe::parse(&args.tf)?;
    let code = tf.code();
    let format = if args.json { RowFormat::Json } else { args.format };
    crate::exit::check_range(args.from, args.to)?;
    if args.periods.contains(&0) {
        return Err(CliError::usage(
            "--periods: 0 is not a period (give 1 or more days)",
        ));
    }
    let features = app.features().await?;
    let (symbol, coverage) = features.ema_coverage(&args.symbol, &tf).await?;
    let stored = coverage.stored();
    if let EmaCoverage::TooShort { .. } = coverage {
        // Refreshed, but no EMA has started: nothing to show, and why (not "run refresh-ema").
        eprintln!("{}", coverage.why_empty(&symbol, &code).unwrap_or_default());
        return if format == RowFormat::Json {
            output::json(&Vec::<StoredEma>::new())
        } else {
            Ok(())
        };
    }
    let (from, to) = match (args.date, args.from, args.to) {
        (Some(d), ..) => (Some(d), Some(d)),
        (None, None, None) => match stored {
            Some((_, last)) => (Some(last), Some(last)),
            None => {
                return Err(CliError::failure(format!(
                    "no {code} EMAs stored for {symbol}; run `talab refresh-ema --symbols {symbol}`"
                )));
            }
        },
        (None, from, to) => (from, to),
    };
    let query = EmaQuery {
        symbol: symbol.clone(),
        tfs: vec![code.clone()],
        periods: args.periods.clone(),
        from,
        to,
    };
    let rows = features.read_emas(&query).await?;
    if rows.is_empty() {
        // Nothing to show is not a failure; say why, on stderr (stdout stays valid JSON/CSV).
        eprintln!("{}", why_empty(&symbol, &code, stored, from, to));
    }
    match format {
        RowFormat::Json => output::json(&rows),
        RowFormat::Csv => print_csv(&rows),
        RowFormat::Table => {
            if !rows.is_empty() {
                print_table(&rows);
            }
            Ok(())
        }
    }
}

/// Why a query found no rows: nothing stored, a range outside the stored days, or a filter.
fn why_empty(
    symbol: &str,
    tf: &str,
    stored: Option<(NaiveDate, NaiveDate)>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> String {
    let Some((first, last)) = stored else {
        return format!("no {tf} EMAs stored for {symbol}; run `talab refresh-ema --symbols {symbol}`");
    };
    let asked = match (from, to) {
        (Some(f), Some(t)) if f == t => f.to_string(),
        (f, t) => format!(
            "{} .. {}",
            f.map_or("…".into(), |d| d.to_string()),
            t.map_or("…".into(), |d| d.to_string())
        ),
    };
    if from.is_some_and(|f| f > last) {
        format!("{asked} is after the last stored {tf} day of {symbol}, {last}")
    } else if to.is_some_and(|t| t < first) {
        format!("{asked} is before the first stored {tf} day of {symbol}, {first}")
    } else {
        format!("no {tf} EMAs of {symbol} match (stored days: {first} .. {last}; check --periods)")
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| format!("{x:.6}"))
}

fn print_table(rows: &[StoredEma]) {
    let mut table = output::table(["date", "tf", "period", "ema", "ema_bar", "roll", "d1", "d2"]);
    for r in rows {
        // Intraday rows are one per hour: show the minute their hour closes.
        let intraday = Timeframe::parse(&r.tf).is_ok_and(|t| t.is_intraday());
        table.add_row([
            if intraday {
                r.ts.format("%Y-%m-%d %H:%M").to_string()
            } else {
                r.day.to_string()
            },
            r.tf.clone(),
            r.period.to_string(),
            format!("{:.6}", r.ema),
            format!("{:.6}", r.ema_bar),
            r.roll.to_string(),
            opt(r.d1),
            opt(r.d2),
        ]);
    }
    println!("{table}");
}

fn print_csv(rows: &[StoredEma]) -> Result<(), CliError> {
    let mut w = csv::Writer::from_writer(std::io::stdout());
    let fail = |e: csv::Error| CliError::failure(format!("cannot write CSV: {e}"));
    for r in rows {
        w.serialize(r).map_err(fail)?;
    }
    w.flush()
        .map_err(|e| CliError::failure(format!("cannot write CSV: {e}")))
}
