//! Standalone use of the EMA kernel, no database: `cargo run -p talab-features --example ema`
//! prints EMAs of a few BTC closes; `... --example ema -- 3 44 44.5 43.8 nan 45.1` uses your own
//! period and closes (`nan` marks a missing day).

use talab_features::{EmaState, ema};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (periods, closes) = if args.is_empty() {
        // BTC daily closes, 2010-07-13 .. 2010-07-26.
        let closes = vec![
            0.05816341, 0.05640216, 0.05756808, 0.0664917, 0.06599255, 0.0788138, 0.07416855, 0.07195755,
            0.07439057, 0.05887483, 0.06263688, 0.06975554, 0.06895142, 0.06270989,
        ];
        (vec![3, 10], closes)
    } else {
        let parsed: Result<Vec<f64>, _> = args[1..].iter().map(|a| a.parse::<f64>()).collect();
        match (args[0].parse::<usize>(), parsed) {
            (Ok(p), Ok(closes)) => (vec![p], closes),
            _ => {
                eprintln!("usage: ema [PERIOD CLOSE...]   (closes are numbers; `nan` marks a missing day)");
                std::process::exit(2);
            }
        }
    };

    let mut columns = Vec::new();
    for &p in &periods {
        match ema(&closes, p) {
            Ok(values) => columns.push(values),
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(2);
            }
        }
    }

    print!("{:>4} {:>14}", "day", "close");
    for p in &periods {
        print!(" {:>16}", format!("ema{p}"));
    }
    println!();
    for (i, close) in closes.iter().enumerate() {
        print!("{:>4} {close:>14.8}", i + 1);
        for column in &columns {
            let v = column[i];
            if v.is_nan() {
                print!(" {:>16}", "-");
            } else {
                print!(" {v:>16.10}");
            }
        }
        println!();
    }

    // The same numbers one close at a time, as a live feed would produce them.
    if let Ok(mut state) = EmaState::new(periods[0]) {
        let last = closes.iter().map(|&x| state.push(x)).last().flatten();
        let batch_last = columns[0].last().copied().filter(|v| !v.is_nan());
        println!(
            "incremental ema{} after the last close: {} (batch: {})",
            periods[0],
            last.map_or("-".to_string(), |v| format!("{v:.10}")),
            batch_last.map_or("-".to_string(), |v| format!("{v:.10}")),
        );
    }
}
