//! `talab ingest csv|fetch|synthetic` and `talab assets`: loading price history and showing what
//! is stored. A bad file is refused whole (`file:line: column: reason`, exit 2) unless the user asks
//! to skip bad rows; synthetic prices say so wherever they show; a fetch says which source served
//! each symbol and why others were skipped.

use std::io::IsTerminal;
use std::sync::Arc;

use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use talab_db::Database;
use talab_features::sources::Interval;
use talab_features::{
    AssetRegistry, BinanceSource, CmcSource, CoinbaseSource, CsvFormat, FeatureError, FetchOptions,
    FetchOutcome, IngestOptions, IngestReport, PriceSource, SourceChain, SourceKind, SyntheticSource,
};

use crate::app::App;
use crate::cli::{AssetsArgs, FetchArgs, FetchSource, IngestAction, IngestArgs};
use crate::config::Config;
use crate::exit::CliError;
use crate::output;

fn print_reports(reports: &[IngestReport], json: bool) -> Result<(), CliError> {
    if json {
        return output::json(&reports);
    }
    let mut table = output::table([
        "symbol",
        "source",
        "read",
        "inserted",
        "updated",
        "unchanged",
        "bad rows",
        "bar rejects",
        "first",
        "last",
        "gaps",
    ]);
    for r in reports {
        let day = |d: Option<chrono::NaiveDate>| d.map_or(String::new(), |d| d.to_string());
        table.add_row([
            r.symbol.clone(),
            r.source.to_string(),
            r.rows_read.to_string(),
            r.inserted.to_string(),
            r.updated.to_string(),
            r.unchanged.to_string(),
            r.rejected.to_string(),
            r.bar_rejects.to_string(),
            day(r.first_day),
            day(r.last_day),
            r.gaps.to_string(),
        ]);
    }
    println!("{table}");
    // A stored day that fails validation has no bar (and no EMA): said, not only counted.
    for r in reports.iter().filter(|r| r.bar_rejects > 0) {
        eprintln!(
            "note: {} day(s) of {} failed validation and have no bar (`talab assets` counts the \
             days; the reasons are in cmc_price_bars_1d_rejects)",
            r.bar_rejects, r.symbol
        );
    }
    Ok(())
}

pub async fn run(app: &App, args: IngestArgs) -> Result<(), CliError> {
    let config = app.config();
    let db = app.db().await?;
    let reports = match args.action {
        IngestAction::Csv {
            file,
            symbol,
            format,
            skip_bad_rows,
            replace,
            interval,
        } => {
            let format = format.map(CsvFormat::from);
            let options = IngestOptions {
                symbol,
                format,
                skip_bad_rows,
                replace,
                interval: interval.into(),
            };
            vec![talab_features::ingest_csv(&db, &file, &options).await?]
        }
        IngestAction::Synthetic {
            symbols,
            days,
            seed,
            start,
            replace,
        } => {
            if !args.json {
                eprintln!("note: these prices are SYNTHETIC (a seeded random walk), not market data");
            }
            let source = SyntheticSource::new(seed).with_start(start);
            talab_features::ingest::ingest_synthetic(&db, &source, &symbols, days, replace).await?
        }
        IngestAction::Fetch(fetch_args) => return fetch(config, &db, fetch_args, args.json).await,
    };
    print_reports(&reports, args.json)
}

/// One line of the fetch summary.
#[derive(Debug, Serialize)]
struct FetchRow {
    symbol: String,
    /// The source that served the rows (None when nothing was asked or all failed).
    source: Option<SourceKind>,
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
    fetched: usize,
    report: Option<IngestReport>,
    notes: Vec<String>,
    error: Option<String>,
}

impl From<FetchOutcome> for FetchRow {
    fn from(o: FetchOutcome) -> Self {
        Self {
            symbol: o.symbol,
            source: o.source,
            from: o.from,
            until: Some(o.until),
            fetched: o.fetched,
            report: o.report,
            notes: o.notes,
            error: None,
        }
    }
}

/// The `--*-base-url` flags of a fetch (None: the configured URL).
#[derive(Debug, Default)]
pub(crate) struct BaseUrls {
    pub cmc: Option<String>,
    pub binance: Option<String>,
    pub coinbase: Option<String>,
}

impl From<&FetchArgs> for BaseUrls {
    fn from(args: &FetchArgs) -> Self {
        Self {
            cmc: args.cmc_base_url.clone(),
            binance: args.binance_base_url.clone(),
            coinbase: args.coinbase_base_url.clone(),
        }
    }
}

/// The sources a fetch may use: the one named, or CMC (with a key), then Binance, then Coinbase.
pub(crate) async fn chain(
    config: &Config,
    db: &Database,
    source: Option<FetchSource>,
    urls: &BaseUrls,
) -> Result<SourceChain, CliError> {
    let url = |setting: &crate::config::Setting<String>, flag: &Option<String>, name: &str| {
        setting
            .clone()
            .with_flag(flag.clone(), name)
            .value
            .unwrap_or_default()
    };
    let source_error = |e: FeatureError| CliError::usage(e.to_string());
    let binance: Arc<dyn PriceSource> = Arc::new(
        BinanceSource::new(&url(
            &config.binance_base_url,
            &urls.binance,
            "--binance-base-url",
        ))
        .map_err(source_error)?,
    );
    let coinbase: Arc<dyn PriceSource> = Arc::new(
        CoinbaseSource::new(&url(
            &config.coinbase_base_url,
            &urls.coinbase,
            "--coinbase-base-url",
        ))
        .map_err(source_error)?,
    );
    let key = config.cmc_api_key.value.as_ref().filter(|k| !k.is_blank());
    let cmc: Option<Arc<dyn PriceSource>> = match key {
        Some(key) => {
            let ids = AssetRegistry::open(db.clone())
                .await?
                .list()
                .await?
                .into_iter()
                .filter_map(|a| a.cmc_id.map(|id| (a.symbol, id)));
            let cmc = CmcSource::new(
                &url(&config.cmc_base_url, &urls.cmc, "--cmc-base-url"),
                key.expose(),
            )
            .map_err(source_error)?
            .with_ids(ids);
            Some(Arc::new(cmc))
        }
        None => None,
    };
    let Some(named) = source else {
        return Ok(SourceChain::default_order(cmc, binance, coinbase));
    };
    match named {
        FetchSource::Cmc => cmc.map(|c| SourceChain::new(vec![c])).ok_or_else(|| {
            CliError::usage(
                "--source cmc needs a CoinMarketCap API key: set CMC_API_KEY or market_data.cmc_api_key \
                 (or use a keyless source: --source binance or --source coinbase)",
            )
        }),
        FetchSource::Binance => Ok(SourceChain::new(vec![binance])),
        FetchSource::Coinbase => Ok(SourceChain::new(vec![coinbase])),
    }
}

/// `talab ingest fetch`: each symbol in turn (one transaction each), a progress bar on a terminal,
/// then a summary; a symbol that fails does not stop the others, but makes the exit code non-zero.
async fn fetch(config: &Config, db: &Database, args: FetchArgs, json: bool) -> Result<(), CliError> {
    let symbols = args
        .symbols
        .iter()
        .map(|s| talab_features::normalise_symbol(s))
        .collect::<Result<Vec<_>, _>>()?;
    let chain = chain(config, db, args.source, &BaseUrls::from(&args)).await?;
    let mut options = FetchOptions {
        since: args.since,
        replace: args.replace,
        ..FetchOptions::new(args.interval.into())
    };
    if let Some(until) = args.until {
        options.until = options.until.min(until);
    }
    if let (Some(since), until) = (options.since, options.until)
        && since > until
    {
        return Err(CliError::usage(format!(
            "--since {since} is after the last day that can be fetched ({until}{})",
            match options.interval {
                Interval::Day => "; today's day is not complete",
                Interval::Hour => ", today: hourly candles run to the last complete hour",
            }
        )));
    }
    let bar = ProgressBar::new(symbols.len() as u64).with_style(
        ProgressStyle::with_template("{spinner} fetching {msg} [{bar:30}] {pos}/{len} ({elapsed})")
            .expect("a valid progress template"),
    );
    if json || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let mut rows = Vec::with_capacity(symbols.len());
    let mut failures: Vec<(String, FeatureError)> = Vec::new();
    for symbol in &symbols {
        bar.set_message(format!("{symbol} from {}", names(&chain)));
        match talab_features::fetch_symbol(db, &chain, symbol, &options).await {
            Ok(outcome) => {
                if !json {
                    for note in &outcome.notes {
                        bar.suspend(|| eprintln!("note: {note}"));
                    }
                }
                rows.push(FetchRow::from(outcome));
            }
            Err(e) => {
                rows.push(FetchRow {
                    symbol: symbol.clone(),
                    source: None,
                    from: options.since,
                    until: None,
                    fetched: 0,
                    report: None,
                    notes: Vec::new(),
                    error: Some(e.to_string()),
                });
                failures.push((symbol.clone(), e));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if json {
        output::json(&rows)?;
    } else {
        print_fetch_summary(&rows);
    }
    if failures.is_empty() {
        return Ok(());
    }
    let usage = failures.iter().all(|(_, e)| {
        matches!(
            e,
            FeatureError::SourceConflict { .. } | FeatureError::InvalidSymbol { .. }
        )
    });
    let message = match unreachable_sources(&failures) {
        Some(lines) => lines,
        None => {
            let lines = failures
                .iter()
                .map(|(s, e)| format!("{s}: {e}"))
                .collect::<Vec<_>>()
                .join("\n       ");
            format!(
                "{} of {} symbols failed:\n       {lines}",
                failures.len(),
                symbols.len()
            )
        }
    };
    Err(if usage {
        CliError::usage(message)
    } else {
        CliError::failure(message)
    })
}

/// When every failure is "no source could serve it" (offline, say): one line per source with its
/// reason (the same for every symbol, so said once), and one line saying what to do.
fn unreachable_sources(failures: &[(String, FeatureError)]) -> Option<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut symbols = Vec::new();
    for (symbol, e) in failures {
        let FeatureError::NoSource { reasons, .. } = e else {
            return None;
        };
        symbols.push(symbol.as_str());
        for (source, reason) in reasons {
            let line = format!("{source}: {reason}");
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    let example = symbols.first().copied().unwrap_or("SYMBOL");
    Some(format!(
        "no price source could serve {}:\n       {}\n       what to do: check this machine's network \
         access to those hosts, or load prices from a file: talab ingest csv FILE --symbol {example}",
        symbols.join(", "),
        lines.join("\n       ")
    ))
}

fn names(chain: &SourceChain) -> String {
    chain
        .kinds()
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(" → ")
}

fn print_fetch_summary(rows: &[FetchRow]) {
    let mut table = output::table([
        "symbol",
        "source",
        "from",
        "fetched",
        "inserted",
        "updated",
        "unchanged",
        "first",
        "last",
        "gaps",
        "status",
    ]);
    let day = |d: Option<NaiveDate>| d.map_or(String::new(), |d| d.to_string());
    for r in rows {
        let rep = r.report.as_ref();
        let n = |f: fn(&IngestReport) -> usize| rep.map_or("0".to_string(), |x| f(x).to_string());
        let status = match (&r.error, r.source, rep) {
            (Some(_), _, _) => "failed".to_string(),
            (None, None, _) => "up to date".to_string(),
            (None, Some(_), None) => "no new rows".to_string(),
            (None, Some(_), Some(_)) => "loaded".to_string(),
        };
        table.add_row([
            r.symbol.clone(),
            r.source.map_or(String::new(), |s| s.to_string()),
            r.from.map_or("start".to_string(), |d| d.to_string()),
            r.fetched.to_string(),
            n(|x| x.inserted),
            n(|x| x.updated),
            n(|x| x.unchanged),
            day(rep.and_then(|x| x.first_day)),
            day(rep.and_then(|x| x.last_day)),
            rep.map_or(String::new(), |x| x.gaps.to_string()),
            status,
        ]);
    }
    println!("{table}");
}

pub async fn assets(app: &App, args: AssetsArgs) -> Result<(), CliError> {
    let db = app.db().await?;
    if args.hourly {
        return hourly_assets(&db, args.json).await;
    }
    let coverage = talab_features::coverage(&db).await?;
    if args.json {
        return output::json(&coverage);
    }
    if coverage.is_empty() {
        println!("no price history yet; load some with `talab ingest csv FILE`");
    } else {
        let mut table = output::table(["symbol", "source", "first day", "last day", "rows", "gaps"]);
        for c in &coverage {
            table.add_row([
                c.symbol.clone(),
                c.source.clone(),
                c.first_day.to_string(),
                c.last_day.to_string(),
                c.rows.to_string(),
                c.gaps.to_string(),
            ]);
        }
        println!("{table}");
    }
    let hourly = talab_features::hourly_coverage(&db, None).await?;
    if !hourly.is_empty() {
        println!(
            "hourly bars (for intraday EMAs) of {} symbol(s): `talab assets --hourly`",
            hourly.len()
        );
    }
    Ok(())
}

async fn hourly_assets(db: &Database, json: bool) -> Result<(), CliError> {
    let coverage = talab_features::hourly_coverage(db, None).await?;
    if json {
        return output::json(&coverage);
    }
    if coverage.is_empty() {
        println!("no hourly bars yet; fetch some with `talab ingest fetch --symbols BTC --interval 1h`");
        return Ok(());
    }
    let hour = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M").to_string();
    let mut table = output::table([
        "symbol",
        "source",
        "first hour closes",
        "last hour closes",
        "rows",
        "gaps (hours)",
    ]);
    for c in &coverage {
        table.add_row([
            c.symbol.clone(),
            c.source.clone(),
            hour(c.first),
            hour(c.last),
            c.rows.to_string(),
            c.gaps.to_string(),
        ]);
    }
    println!("{table}");
    Ok(())
}
