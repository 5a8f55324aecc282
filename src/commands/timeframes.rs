//! `talab timeframes [--all] [enable|disable TF]`: which timeframes bars and EMAs are computed for
//! (`dim_timeframe.is_canonical`), and switching one on or off. Codes are case-insensitive; an
//! unknown code exits 2 with the valid forms and where to see the list.

use talab_features::FeatureError;
use talab_features::time::{TimeframeInfo, TimeframeRegistry};

use crate::app::App;
use crate::cli::{TimeframesAction, TimeframesArgs};
use crate::exit::CliError;
use crate::output;

#[derive(serde::Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    row: &'a TimeframeInfo,
    family: String,
    enabled: bool,
}

fn shown(row: &TimeframeInfo) -> Shown<'_> {
    Shown {
        row,
        family: row.family(),
        enabled: row.is_canonical,
    }
}

/// An unknown code says where the list is.
fn with_hint(e: FeatureError) -> CliError {
    match e {
        FeatureError::UnknownTimeframe { .. } => {
            CliError::usage(format!("{e}; `talab timeframes --all` lists the known ones"))
        }
        other => other.into(),
    }
}

pub async fn run(app: &App, args: TimeframesArgs) -> Result<(), CliError> {
    let registry = TimeframeRegistry::open(app.db().await?).await?;
    let (verb, row) = match &args.action {
        None => return list(&registry, args.all, args.json).await,
        Some(TimeframesAction::Enable { tf }) => ("enabled", registry.enable(tf).await.map_err(with_hint)?),
        Some(TimeframesAction::Disable { tf }) => {
            ("disabled", registry.disable(tf).await.map_err(with_hint)?)
        }
    };
    if args.json {
        return output::json(&shown(&row));
    }
    println!(
        "{verb} {} ({}, {}); {} timeframes are enabled",
        row.tf,
        row.label,
        row.family(),
        registry.enabled().await?.len()
    );
    Ok(())
}

async fn list(registry: &TimeframeRegistry, all: bool, json: bool) -> Result<(), CliError> {
    let rows = if all {
        registry.all().await?
    } else {
        registry.enabled().await?
    };
    if json {
        return output::json(&rows.iter().map(shown).collect::<Vec<_>>());
    }
    let mut table = output::table(["code", "label", "family", "days", "enabled"]);
    for r in &rows {
        table.add_row([
            r.tf.clone(),
            r.label.clone(),
            r.family(),
            r.tf_days_nominal.map_or("-".to_string(), |d| d.to_string()),
            if r.is_canonical { "yes" } else { "no" }.to_string(),
        ]);
    }
    println!("{table}");
    if !all {
        println!(
            "{} enabled; `talab timeframes --all` lists every known timeframe",
            rows.len()
        );
    }
    Ok(())
}
