//! `talab refresh-ema` and `talab ema`: computing EMAs into the database and reading them back.
//!
//! `refresh-ema` runs the joined flow ([`crate::flow::refresh`]): an orchestrated task on the
//! `local` platform, with memory context, stored as a run and a memory. Every symbol and option
//! is checked before anything is written (a typo in the third symbol must not leave the first two
//! refreshed and the user guessing); each symbol then commits on its own, so an interrupted run
//! keeps the symbols it finished.

use chrono::NaiveDate;
use talab_db::Database;
use talab_features::{EmaQuery, EmaRefresher, StoredEma, Timeframe, read_emas};

use crate::app::App;
use crate::cli::{EmaArgs, FetchArgs, FetchSource, IntervalArg, RefreshEmaArgs, RowFormat};
use crate::config::Config;
use crate::exit::CliError;
use crate::flow::ema_tool::RefreshRequest;
use crate::flow::refresh::RefreshOutcome;
use crate::{flow, output, wiring};
use talab_features::FetchOptions;

/// The refresh request of the command line, checked (bad options are exit 2 before anything runs).
pub fn refresh_request(args: &RefreshEmaArgs) -> Result<RefreshRequest, CliError> {
    if let (Some(start), Some(end)) = (args.start, args.end)
        && start > end
    {
        return Err(CliError::usage(format!("--start {start} is after --end {end}")));
    }
    let request = RefreshRequest {
        symbols: args.symbols.clone(),
        tfs: args
            .tfs
            .iter()
            .map(|t| talab_features::normalise_timeframe(t))
            .collect::<Result<_, _>>()?,
        periods: args.periods.clone(),
        date: args.date.or(args.end),
        full: args.full,
        jobs: args.jobs.map(usize::from),
    };
    request.options()?;
    Ok(request)
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
    let config = app.config();
    let request = refresh_request(&args)?;
    let db = app.db().await?;
    let engine = EmaRefresher::open(db.clone()).await?;
    let options = request.options()?;
    let (tfs, _) = engine.resolve(&options).await?;
    if !args.no_fetch {
        let quiet = quiet || args.json;
        if tfs.iter().any(|t| !t.is_intraday()) {
            let source = args.source;
            fetch_missing(config, &db, &request.symbols, source, quiet, IntervalArg::Day).await?;
        }
        // Hours: for every symbol when an intraday timeframe is named; when one is only enabled
        // (part of the default set), for the symbols that already keep hourly bars.
        let hourly: Vec<String> = if options.tfs.iter().any(|t| t.is_intraday()) {
            request.symbols.clone()
        } else if tfs.iter().any(|t| t.is_intraday()) {
            let kept = talab_features::hourly_coverage(&db, None).await?;
            request
                .symbols
                .iter()
                .filter(|s| kept.iter().any(|c| c.symbol.eq_ignore_ascii_case(s.trim())))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        if !hourly.is_empty() {
            let source = args.source;
            fetch_missing(config, &db, &hourly, source, quiet, IntervalArg::Hour).await?;
        }
    }
    // Every symbol is checked before anything runs: a typo is exit 2 with nothing written.
    for s in &request.symbols {
        engine.check_symbol(s, request.date, &options.tfs).await?;
    }
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

/// Fetches the days (or, for intraday timeframes, hours) missing since each symbol's last stored
/// one, from the series' own source (or the default chain for a new symbol). Series loaded from
/// files or generated are not fetched. A failed fetch of a symbol that has prices is a note (the
/// stored prices are refreshed); of a symbol without any, it is the one-line error of the command
/// (exit 1), before anything is written.
async fn fetch_missing(
    config: &Config,
    db: &Database,
    symbols: &[String],
    source: Option<FetchSource>,
    quiet: bool,
    interval: IntervalArg,
) -> Result<(), CliError> {
    let fetch_args = FetchArgs {
        symbols: symbols.to_vec(),
        source,
        since: None,
        until: None,
        replace: false,
        interval,
        cmc_base_url: None,
        binance_base_url: None,
        coinbase_base_url: None,
    };
    let chain = super::ingest::chain(config, db, &fetch_args).await?;
    // (symbol, source) of the stored series.
    let (stored, unit, what, hint): (Vec<(String, String)>, _, _, _) = match interval {
        IntervalArg::Day => (
            talab_features::coverage(db)
                .await?
                .into_iter()
                .map(|c| (c.symbol, c.source))
                .collect(),
            "day",
            "prices",
            " (load a file with `talab ingest csv`)",
        ),
        IntervalArg::Hour => (
            talab_features::hourly_coverage(db, None)
                .await?
                .into_iter()
                .map(|c| (c.symbol, c.source))
                .collect(),
            "hour",
            "hourly bars",
            "",
        ),
    };
    let options = FetchOptions::new(interval.into());
    let fetchable = ["cmc", "binance", "coinbase"];
    for s in symbols {
        let symbol = talab_features::normalise_symbol(s)?;
        let have = stored.iter().find(|(s, _)| *s == symbol);
        if let Some((_, source)) = have
            && !fetchable.contains(&source.as_str())
        {
            tracing::info!(symbol = %symbol, source = %source, "prices from a file or generator; not fetching");
            continue;
        }
        match talab_features::fetch_symbol(db, &chain, &symbol, &options).await {
            Ok(outcome) if !quiet => {
                for note in &outcome.notes {
                    eprintln!("note: {note}");
                }
                if outcome.fetched > 0 {
                    eprintln!("fetched {} {unit}(s) of {symbol}", outcome.fetched);
                }
            }
            Ok(_) => {}
            Err(e) if have.is_some() => {
                if !quiet {
                    eprintln!(
                        "note: could not fetch new {unit}s of {symbol} ({e}); refreshing the stored prices"
                    );
                }
            }
            Err(e) => {
                return Err(CliError::failure(format!(
                    "no {what} for {symbol}, and fetching them failed: {e}{hint}"
                )));
            }
        }
    }
    Ok(())
}

pub async fn show(app: &App, args: EmaArgs) -> Result<(), CliError> {
    let tf = Timeframe::parse(&args.tf)?.code();
    let format = if args.json { RowFormat::Json } else { args.format };
    crate::exit::check_range(args.from, args.to)?;
    if args.periods.contains(&0) {
        return Err(CliError::usage(
            "--periods: 0 is not a period (give 1 or more days)",
        ));
    }
    let db = app.db().await?;
    let engine = EmaRefresher::open(db.clone()).await?;
    let named = [Timeframe::parse(&tf)?];
    let (symbol, ..) = engine.check_symbol(&args.symbol, None, &named).await?;
    let stored = stored_days(&db, &symbol, &tf).await?;
    if stored.is_none()
        && let Some(why) = too_short(&db, &symbol, &tf).await?
    {
        // Refreshed, but no EMA has started: nothing to show, and why (not "run refresh-ema").
        eprintln!("{why}");
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
                    "no {tf} EMAs stored for {symbol}; run `talab refresh-ema --symbols {symbol}`"
                )));
            }
        },
        (None, from, to) => (from, to),
    };
    let query = EmaQuery {
        symbol: symbol.clone(),
        tfs: vec![tf.clone()],
        periods: args.periods.clone(),
        from,
        to,
    };
    let rows = read_emas(&db, &query).await?;
    if rows.is_empty() {
        // Nothing to show is not a failure; say why, on stderr (stdout stays valid JSON/CSV).
        eprintln!("{}", why_empty(&symbol, &tf, stored, from, to));
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

/// When `tf` was refreshed for `symbol` (its EMA state is saved) but no EMA has a value yet, why:
/// the history holds fewer `tf` bars than the shortest period.
async fn too_short(db: &Database, symbol: &str, tf: &str) -> Result<Option<String>, CliError> {
    let sql = "SELECT CAST(MIN(period) AS BIGINT), MIN(first_day), MAX(last_day) \
               FROM cmc_ema_multi_tf_state WHERE symbol = $1 AND tf = $2";
    type Row = (Option<i64>, Option<NaiveDate>, Option<NaiveDate>);
    let row: Row = talab_db::on_pool!(db, pool => {
        talab_db::sqlx::query_as(sql).bind(symbol).bind(tf).fetch_one(pool).await
    })
    .map_err(|e| CliError::failure(format!("database error: {e}")))?;
    Ok(match row {
        (Some(period), Some(first), Some(last)) => Some(format!(
            "no {tf} EMA of {symbol} yet: its prices ({first} .. {last}) hold fewer {tf} bars than the \
             shortest period, {period}, and an EMA starts after that many bars"
        )),
        _ => None,
    })
}

/// The first and last day with stored `tf` EMAs of `symbol`.
async fn stored_days(
    db: &Database,
    symbol: &str,
    tf: &str,
) -> Result<Option<(NaiveDate, NaiveDate)>, CliError> {
    let table = if Timeframe::parse(tf)?.is_calendar() {
        "cmc_ema_multi_tf_cal"
    } else {
        "cmc_ema_multi_tf"
    };
    let sql = format!("SELECT MIN(ts), MAX(ts) FROM {table} WHERE symbol = $1 AND tf = $2");
    type Range = (
        Option<chrono::DateTime<chrono::Utc>>,
        Option<chrono::DateTime<chrono::Utc>>,
    );
    let range: Range = talab_db::on_pool!(db, pool => {
        talab_db::sqlx::query_as(&sql).bind(symbol).bind(tf).fetch_one(pool).await
    })
    .map_err(|e| CliError::failure(format!("database error: {e}")))?;
    Ok(match range {
        (Some(first), Some(last)) => Some((first.date_naive(), last.date_naive())),
        _ => None,
    })
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
