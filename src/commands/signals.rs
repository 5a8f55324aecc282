//! `talab signals refresh|list|summary|definitions`: EMA-crossover trades computed from the stored
//! daily bars, listed, and scored per signal.

use talab_features::signals::{self, SignalRefresh};

use crate::app::App;
use crate::cli::{SignalsAction, SignalsArgs};
use crate::exit::CliError;
use crate::output;

fn num(v: Option<f64>, digits: usize) -> String {
    v.map_or(String::new(), |v| format!("{v:.digits$}"))
}

fn print_refresh(reports: &[SignalRefresh]) {
    let mut table = output::table([
        "symbol",
        "signal",
        "bars",
        "trades",
        "open",
        "inserted",
        "updated",
        "deleted",
        "unchanged",
    ]);
    for r in reports {
        table.add_row([
            r.symbol.clone(),
            r.signal_id.clone(),
            r.bars.to_string(),
            r.trades.to_string(),
            r.open.to_string(),
            r.inserted.to_string(),
            r.updated.to_string(),
            r.deleted.to_string(),
            r.unchanged.to_string(),
        ]);
    }
    println!("{table}");
}

pub async fn run(app: &App, args: SignalsArgs) -> Result<(), CliError> {
    let db = app.db().await?;
    match args.action {
        SignalsAction::Refresh { symbols, signals } => {
            let ids = (!signals.is_empty()).then_some(signals.as_slice());
            let reports = signals::refresh_signals(&db, &symbols, ids).await?;
            if args.json {
                return output::json(&reports);
            }
            print_refresh(&reports);
        }
        SignalsAction::List { symbol, signal, open } => {
            let rows = signals::list_trades(&db, symbol.as_deref(), signal.as_deref(), open).await?;
            if args.json {
                return output::json(&rows);
            }
            if rows.is_empty() {
                println!("no stored trades; compute them with `talab signals refresh --symbols …`");
                return Ok(());
            }
            let mut table = output::table([
                "symbol",
                "signal",
                "side",
                "entry",
                "entry price",
                "exit",
                "exit price",
                "pnl %",
                "status",
                "bars",
            ]);
            for r in &rows {
                let t = &r.trade;
                table.add_row([
                    t.symbol.clone(),
                    r.signal_id.clone(),
                    t.side.as_str().to_string(),
                    t.entry_day.to_string(),
                    format!("{:.2}", t.entry_price),
                    t.exit_day.map_or(String::new(), |d| d.to_string()),
                    num(t.exit_price, 2),
                    num(r.pnl_pct, 2),
                    r.status.clone(),
                    t.bars_held.to_string(),
                ]);
            }
            println!("{table}");
        }
        SignalsAction::Summary { signal, symbol } => {
            let sums = signals::summary(&db, signal.as_deref(), symbol.as_deref()).await?;
            if args.json {
                return output::json(&sums);
            }
            let mut table = output::table([
                "signal",
                "symbols",
                "trades",
                "open",
                "win rate %",
                "mean pnl %",
                "total pnl %",
                "compounded %",
                "max drawdown %",
            ]);
            for s in &sums {
                table.add_row([
                    s.signal_id.clone(),
                    s.symbols.join(","),
                    s.trades.to_string(),
                    s.open.to_string(),
                    num(s.win_rate_pct, 1),
                    num(s.mean_pnl_pct, 2),
                    format!("{:.2}", s.total_pnl_pct),
                    format!("{:.2}", s.compounded_return_pct),
                    format!("{:.2}", s.max_drawdown_pct),
                ]);
            }
            println!("{table}");
        }
        SignalsAction::Definitions => {
            let defs = signals::list_definitions(&db).await?;
            if args.json {
                return output::json(&defs);
            }
            let mut table = output::table([
                "signal",
                "fast",
                "slow",
                "direction",
                "rsi filter",
                "cooldown",
                "active",
                "description",
            ]);
            for d in &defs {
                let p = &d.params;
                table.add_row([
                    d.signal_id.clone(),
                    p.fast.to_string(),
                    p.slow.to_string(),
                    p.direction.as_str().to_string(),
                    if p.rsi_filter {
                        format!("long ≥ {}, short ≤ {}", p.rsi_long_min, p.rsi_short_max)
                    } else {
                        "off".into()
                    },
                    p.cooldown_bars.to_string(),
                    d.is_active.to_string(),
                    d.description.clone(),
                ]);
            }
            println!("{table}");
        }
    }
    Ok(())
}
