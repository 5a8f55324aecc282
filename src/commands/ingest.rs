//! `talab ingest csv|synthetic` and `talab assets`: loading price history and showing what is
//! stored. A bad file is refused whole (`file:line: column: reason`, exit 2) unless the user asks to
//! skip bad rows; synthetic prices say so wherever they show.

use talab_db::Database;
use talab_features::{CsvFormat, FeatureError, IngestOptions, IngestReport, SyntheticSource};

use crate::cli::{IngestAction, IngestArgs, JsonArgs};
use crate::config::Config;
use crate::exit::CliError;
use crate::output;

impl From<FeatureError> for CliError {
    fn from(e: FeatureError) -> Self {
        match e {
            FeatureError::BadRow { .. }
            | FeatureError::PriceFile { .. }
            | FeatureError::DuplicateDay { .. }
            | FeatureError::SourceConflict { .. }
            | FeatureError::InvalidSymbol { .. }
            | FeatureError::UnknownSymbol { .. }
            | FeatureError::UnknownTimeframe { .. }
            | FeatureError::UnsupportedTimeframe { .. }
            | FeatureError::InvalidPeriod { .. }
            | FeatureError::DateOutOfRange { .. } => CliError::usage(e.to_string()),
            other => CliError::failure(other.to_string()),
        }
    }
}

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
        "rejected",
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
            day(r.first_day),
            day(r.last_day),
            r.gaps.to_string(),
        ]);
    }
    println!("{table}");
    Ok(())
}

pub async fn run(config: &Config, args: IngestArgs) -> Result<(), CliError> {
    let db = Database::connect(config.database_url()).await?;
    let reports = match args.action {
        IngestAction::Csv {
            file,
            symbol,
            format,
            skip_bad_rows,
            replace,
        } => {
            let format = format
                .map(|f| f.parse::<CsvFormat>())
                .transpose()
                .map_err(CliError::usage)?;
            let options = IngestOptions {
                symbol,
                format,
                skip_bad_rows,
                replace,
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
        IngestAction::Fetch(_) => {
            return Err(CliError::usage(
                "`talab ingest fetch` is not implemented yet; load a CSV with `talab ingest csv FILE`",
            ));
        }
    };
    print_reports(&reports, args.json)
}

pub async fn assets(config: &Config, args: JsonArgs) -> Result<(), CliError> {
    let db = Database::connect(config.database_url()).await?;
    let coverage = talab_features::coverage(&db).await?;
    if args.json {
        return output::json(&coverage);
    }
    if coverage.is_empty() {
        println!("no price history yet; load some with `talab ingest csv FILE`");
        return Ok(());
    }
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
    Ok(())
}
