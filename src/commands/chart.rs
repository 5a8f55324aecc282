//! `talab chart SYMBOL -o FILE.png|svg`: candles or a close line, EMA lines and signal markers.
//! The asked signals are refreshed first (idempotent), so the markers match the bars drawn.

use talab_features::chart::{
    ChartFormat, ChartRequest, DEFAULT_CHART_EMAS, RenderOptions, chart_data, render,
};
use talab_features::signals;

use crate::app::App;
use crate::cli::ChartArgs;
use crate::exit::CliError;
use crate::output;

pub async fn run(app: &App, args: ChartArgs) -> Result<(), CliError> {
    ChartFormat::from_path(&args.output)?;
    let opts = RenderOptions {
        width: args.width,
        height: args.height,
        style: args.style.into(),
        scale: args.scale.into(),
    };
    for (name, v) in [("--width", args.width), ("--height", args.height)] {
        if !(200..=8000).contains(&v) {
            return Err(CliError::usage(format!("{name} {v}: use 200 to 8000 pixels")));
        }
    }
    crate::exit::check_range(args.from, args.to)?;
    let db = app.db().await?;
    let mut emas = args.ema.clone();
    if !args.signals.is_empty() {
        signals::refresh_signals(&db, std::slice::from_ref(&args.symbol), Some(&args.signals)).await?;
        if emas.is_empty() {
            for id in &args.signals {
                let p = signals::get_definition(&db, id).await?.params;
                emas.extend([p.fast, p.slow]);
            }
        }
    }
    if emas.is_empty() {
        emas = DEFAULT_CHART_EMAS.to_vec();
    }
    emas.sort_unstable();
    emas.dedup();
    let req = ChartRequest {
        symbol: args.symbol.clone(),
        tf: args.tf.clone(),
        from: args.from,
        to: args.to,
        emas,
        signals: args.signals.clone(),
    };
    let data = chart_data(&db, &req).await?;
    // Where the chart cannot be written is said plainly, before drawing: the drawing library's
    // own error is a debug dump of nested types.
    std::fs::File::create(&args.output)
        .map_err(|e| CliError::failure(format!("cannot write {}: {e}", args.output.display())))?;
    let report = render(&data, &args.output, &opts)?;
    if let Some(note) = &report.note {
        eprintln!("note: the chart has no text: {note}");
    }
    if data.source == "synthetic" && !args.json {
        eprintln!("note: these prices are SYNTHETIC (a seeded random walk), not market data");
    }
    if args.json {
        return output::json(&report);
    }
    let (first, last) = data.days().expect("render succeeded, so there are bars");
    println!(
        "wrote {} ({}x{} {}, {} {} {} to {}, {} bars, EMA {}, {} markers{})",
        report.path.display(),
        report.width,
        report.height,
        match report.format {
            ChartFormat::Png => "PNG",
            ChartFormat::Svg => "SVG",
        },
        data.symbol,
        data.tf,
        first,
        last,
        report.candles,
        req.emas
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("/"),
        report.markers,
        if report.log_scale { ", log scale" } else { "" }
    );
    Ok(())
}
