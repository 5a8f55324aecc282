//! EMA-crossover signals: hand-built series with known crosses (asset boundaries, cooldown, RSI
//! filter, the short mirror, P&L), then the real BTC history on SQLite and PostgreSQL (the 50/200
//! crosses against an independent count, idempotent re-runs, incremental == full).

use crate::support;

use chrono::NaiveDate;
use talab_db::Database;
use talab_features::signals::{
    Direction, Side, SignalBar, SignalParams, Trade, list_trades, refresh_signals, simulate, summarise,
    summary,
};
use talab_features::{IngestOptions, ingest_csv, load_daily_bars};

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, 1, 1).unwrap() + chrono::Duration::days(i64::from(n))
}

/// Bars from (close, fast, slow, rsi) tuples, one asset, consecutive days.
fn series(symbol: &str, rows: &[(f64, f64, f64, f64)]) -> Vec<SignalBar> {
    rows.iter()
        .enumerate()
        .map(|(i, &(close, fast, slow, rsi))| SignalBar::new(symbol, day(i as u32), close, fast, slow, rsi))
        .collect()
}

fn long() -> SignalParams {
    SignalParams {
        fast: 9,
        slow: 21,
        ..SignalParams::default()
    }
}

#[test]
fn a_long_opens_on_the_up_cross_and_closes_on_the_down_cross_with_pnl() {
    let rows = series(
        "BTC",
        &[
            (90.0, 1.0, 2.0, 50.0),
            (100.0, 3.0, 2.0, 50.0),
            (103.0, 3.0, 2.0, 50.0),
            (105.0, 1.0, 2.0, 50.0),
        ],
    );
    let trades = simulate(&rows, &long());
    assert_eq!(trades.len(), 1);
    let t = &trades[0];
    assert_eq!((t.side, t.entry_day, t.entry_price), (Side::Long, day(1), 100.0));
    assert_eq!(
        (t.exit_day, t.exit_price, t.bars_held),
        (Some(day(3)), Some(105.0), 2)
    );
    assert_eq!(t.pnl_pct(), Some(5.0), "100 -> 105 is exactly 5.0 %");
    assert_eq!(t.snapshot.close, 100.0);
    assert_eq!(
        (t.snapshot.fast, t.snapshot.slow, t.snapshot.rsi),
        (3.0, 2.0, Some(50.0))
    );
}

#[test]
fn a_cross_on_the_first_day_of_the_second_asset_does_not_trigger() {
    // A ends with fast below slow; B starts with fast above slow. Compared across the boundary,
    // that is an up-cross on B's first day; per asset it is nothing.
    let mut rows = series("AAA", &[(10.0, 1.0, 2.0, 50.0), (11.0, 1.0, 2.0, 50.0)]);
    let b = series(
        "BBB",
        &[
            (200.0, 5.0, 4.0, 50.0), // first day of B: above, but no previous B bar
            (210.0, 5.0, 4.0, 50.0), // still above: no cross
            (190.0, 3.0, 4.0, 50.0), // down (flat, long-only: nothing to do)
            (220.0, 5.0, 4.0, 50.0), // up: the only entry
        ],
    );
    rows.extend(b);
    let trades = simulate(&rows, &long());
    assert_eq!(trades.len(), 1, "{trades:?}");
    assert_eq!((trades[0].symbol.as_str(), trades[0].entry_price), ("BBB", 220.0));
    assert!(trades[0].is_open());
    assert_eq!(talab_features::signals::crosses(&rows).len(), 2);

    // And an open position of A stays A's: it is not closed by B's first bar.
    let mut rows = series("AAA", &[(10.0, 1.0, 2.0, 50.0), (11.0, 3.0, 2.0, 50.0)]);
    rows.extend(series("BBB", &[(500.0, 1.0, 2.0, 50.0), (400.0, 1.0, 2.0, 50.0)]));
    let trades = simulate(&rows, &long());
    assert_eq!(trades.len(), 1);
    assert_eq!((trades[0].symbol.as_str(), trades[0].exit_price), ("AAA", None));
}

/// up, down, up, down, up on days 1, 2, 3, 5, 8.
fn whipsaw() -> Vec<SignalBar> {
    let above = (100.0, 3.0, 2.0, 50.0);
    let below = (100.0, 1.0, 2.0, 50.0);
    series(
        "BTC",
        &[
            below, above, below, above, above, below, below, below, above, above,
        ],
    )
}

#[test]
fn cooldown_blocks_entries_for_n_bars_after_an_exit() {
    let entries = |cooldown_bars| -> Vec<NaiveDate> {
        let params = SignalParams {
            cooldown_bars,
            ..long()
        };
        simulate(&whipsaw(), &params)
            .iter()
            .map(|t| t.entry_day)
            .collect()
    };
    // Exits on days 2 and 5. No cooldown: every up-cross enters.
    assert_eq!(entries(0), vec![day(1), day(3), day(8)]);
    // Cooldown 1: day 3 is 1 bar after the exit on day 2: blocked; day 8 is 3 bars after day 5.
    assert_eq!(entries(1), vec![day(1), day(8)]);
    // With day 3 blocked there is no exit on day 5: day 8 is 6 bars after the exit on day 2.
    assert_eq!(entries(5), vec![day(1), day(8)]);
    assert_eq!(
        entries(6),
        vec![day(1)],
        "exactly N bars after the exit is still cooling down"
    );
}

#[test]
fn the_rsi_filter_needs_45_for_longs_and_55_for_shorts() {
    let run = |rsi_at_cross: f64, direction| {
        let rows = series(
            "BTC",
            &[
                (100.0, 1.0, 2.0, 50.0),
                (100.0, 3.0, 2.0, rsi_at_cross),
                (100.0, 1.0, 2.0, rsi_at_cross),
            ],
        );
        let params = SignalParams {
            rsi_filter: true,
            direction,
            ..long()
        };
        simulate(&rows, &params)
            .iter()
            .map(|t| (t.side, t.entry_day))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(44.9, Direction::Long), vec![]);
    assert_eq!(run(45.0, Direction::Long), vec![(Side::Long, day(1))]);
    assert_eq!(run(f64::NAN, Direction::Long), vec![], "no RSI yet: no entry");
    // Short entries on the down-cross (day 2) need RSI ≤ 55; at 50 the long passes too.
    assert_eq!(
        run(55.0, Direction::LongShort),
        vec![(Side::Long, day(1)), (Side::Short, day(2))]
    );
    assert_eq!(run(44.9, Direction::LongShort), vec![(Side::Short, day(2))]);
    assert_eq!(run(55.1, Direction::LongShort), vec![(Side::Long, day(1))]);
    // Without the filter an RSI of 10 does not matter.
    let rows = series("BTC", &[(100.0, 1.0, 2.0, 10.0), (100.0, 3.0, 2.0, 10.0)]);
    assert_eq!(simulate(&rows, &long()).len(), 1);
}

#[test]
fn long_short_mirrors_on_the_down_cross_and_reverses_on_one_bar() {
    let rows = series(
        "ETH",
        &[
            (90.0, 1.0, 2.0, 50.0),
            (100.0, 3.0, 2.0, 50.0), // up: long @100
            (110.0, 1.0, 2.0, 50.0), // down: long closes @110 (+10 %), short @110
            (99.0, 3.0, 2.0, 50.0),  // up: short closes @99 (+10 %), long @99
        ],
    );
    let params = SignalParams {
        direction: Direction::LongShort,
        ..long()
    };
    let trades = simulate(&rows, &params);
    let got: Vec<_> = trades
        .iter()
        .map(|t| (t.side, t.entry_price, t.exit_price, t.pnl_pct()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Side::Long, 100.0, Some(110.0), Some(10.0)),
            (Side::Short, 110.0, Some(99.0), Some(10.0)),
            (Side::Long, 99.0, None, None),
        ]
    );
    // A short that loses: 100 -> 105 is −5 %.
    assert_eq!(talab_features::signals::pnl_pct(Side::Short, 100.0, 105.0), -5.0);
    // With a cooldown, the reversal on the exit bar is blocked.
    let params = SignalParams {
        direction: Direction::LongShort,
        cooldown_bars: 1,
        ..long()
    };
    let sides: Vec<_> = simulate(&rows, &params).iter().map(|t| t.side).collect();
    assert_eq!(sides, vec![Side::Long]);
}

#[test]
fn the_summary_scores_closed_trades_and_the_equity_drawdown() {
    // +10 %, −20 %, +5 %: equity 1.1, 0.88, 0.924 → max drawdown (1.1 − 0.88)/1.1 = 20 %.
    let rows = series(
        "BTC",
        &[
            (100.0, 1.0, 2.0, 50.0),
            (100.0, 3.0, 2.0, 50.0),
            (110.0, 1.0, 2.0, 50.0),
            (100.0, 3.0, 2.0, 50.0),
            (80.0, 1.0, 2.0, 50.0),
            (100.0, 3.0, 2.0, 50.0),
            (105.0, 1.0, 2.0, 50.0),
            (90.0, 3.0, 2.0, 50.0),
        ],
    );
    let s = summarise("x", &simulate(&rows, &long()));
    assert_eq!((s.trades, s.open, s.wins), (3, 1, 2));
    assert!((s.win_rate_pct.unwrap() - 200.0 / 3.0).abs() < 1e-12);
    assert!((s.total_pnl_pct - (-5.0)).abs() < 1e-12);
    assert!((s.mean_pnl_pct.unwrap() - (-5.0 / 3.0)).abs() < 1e-12);
    assert!((s.max_drawdown_pct - 20.0).abs() < 1e-9, "{}", s.max_drawdown_pct);
    assert!((s.compounded_return_pct - (-7.6)).abs() < 1e-9);
}

// ---- the real BTC history, on every backend ----

const BTC: &str = "coin_Bitcoin.csv";

async fn load_btc(db: &Database, path: &std::path::Path) {
    ingest_csv(db, path, &IngestOptions::default()).await.unwrap();
}

/// Loads revised prices from another file over the stored ones (which needs `replace`).
async fn load_revised(db: &Database, path: &std::path::Path) {
    let options = IngestOptions {
        replace: true,
        ..IngestOptions::default()
    };
    ingest_csv(db, path, &options).await.unwrap();
}

/// An EMA written independently of the crate's kernel: SMA seed, then the textbook blend.
fn textbook_ema(x: &[f64], p: usize) -> Vec<Option<f64>> {
    let a = 2.0 / (p as f64 + 1.0);
    let mut out = vec![None; x.len()];
    if x.len() < p {
        return out;
    }
    let mut e = x[..p].iter().sum::<f64>() / p as f64;
    out[p - 1] = Some(e);
    for i in p..x.len() {
        e = a * x[i] + (1.0 - a) * e;
        out[i] = Some(e);
    }
    out
}

#[tokio::test]
async fn btc_50_200_crosses_match_an_independent_count_and_rerunning_changes_nothing() {
    let path = std::path::PathBuf::from(support::data_path(BTC));
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        load_btc(db, &path).await;
        let ids = vec!["ema_50_200_long".to_string()];
        let first = refresh_signals(db, &["btc".into()], Some(&ids)).await.unwrap();
        assert_eq!(first.len(), 1);
        let r = &first[0];
        assert_eq!((r.bars, r.inserted, r.updated, r.deleted), (2862, r.trades, 0, 0));

        // Independent count: sign changes of EMA50 − EMA200 over the real closes.
        let closes: Vec<f64> = load_daily_bars(db, "BTC")
            .await
            .unwrap()
            .iter()
            .map(|b| b.close)
            .collect();
        let (f, s) = (textbook_ema(&closes, 50), textbook_ema(&closes, 200));
        let (mut ups, mut downs_after_first_up, mut prev) = (Vec::new(), 0, None);
        for i in 0..closes.len() {
            let (Some(f), Some(s)) = (f[i], s[i]) else {
                continue;
            };
            let d = f - s;
            if let Some(p) = prev {
                if d > 0.0 && p <= 0.0 {
                    ups.push(i);
                }
                if d < 0.0 && p >= 0.0 && !ups.is_empty() {
                    downs_after_first_up += 1;
                }
            }
            prev = Some(d);
        }
        let rows = list_trades(db, Some("BTC"), Some("ema_50_200_long"), false)
            .await
            .unwrap();
        assert_eq!(rows.len(), ups.len(), "{}: one long per golden cross", t.label());
        let closed = rows.iter().filter(|r| r.status == "closed").count();
        assert_eq!(
            closed,
            downs_after_first_up,
            "{}: one exit per death cross",
            t.label()
        );
        assert!(
            ups.len() >= 4,
            "BTC 2013–2021 has several golden crosses, got {}",
            ups.len()
        );
        // The golden cross of April 2019 is one of them.
        assert!(
            rows.iter()
                .any(|r| r.trade.entry_day.to_string().starts_with("2019-04")),
            "{:?}",
            rows.iter().map(|r| r.trade.entry_day).collect::<Vec<_>>()
        );
        for r in &rows {
            assert_eq!(r.trade.snapshot.close, r.trade.entry_price);
            assert!(r.trade.snapshot.fast > r.trade.snapshot.slow);
        }

        // Again: nothing changes, not even computed_at.
        let again = refresh_signals(db, &["BTC".into()], Some(&ids)).await.unwrap();
        assert_eq!(
            (
                again[0].inserted,
                again[0].updated,
                again[0].deleted,
                again[0].unchanged
            ),
            (0, 0, 0, rows.len()),
            "{}",
            t.label()
        );
        let rows_again = list_trades(db, Some("BTC"), Some("ema_50_200_long"), false)
            .await
            .unwrap();
        assert_eq!(rows_again, rows, "{}", t.label());

        // Every seeded signal, and the summary reads them back.
        let all = refresh_signals(db, &["BTC".into()], None).await.unwrap();
        assert_eq!(all.len(), 3);
        let sums = summary(db, None, Some("BTC")).await.unwrap();
        assert_eq!(sums.len(), 3);
        let s5 = sums.iter().find(|s| s.signal_id == "ema_50_200_long").unwrap();
        assert_eq!(s5.trades + s5.open, rows.len());
        let s9 = sums.iter().find(|s| s.signal_id == "ema_9_21_long").unwrap();
        assert!(s9.trades > s5.trades, "the fast pair trades more often");
        assert!(s9.max_drawdown_pct > 0.0 && s9.max_drawdown_pct < 100.0);
    }
}

/// Every stored trade without its write time: what two runs that should agree must agree on.
async fn stored_trades(db: &Database) -> Vec<(String, Trade, Option<f64>, String)> {
    list_trades(db, None, None, false)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.signal_id, r.trade, r.pnl_pct, r.status))
        .collect()
}

#[tokio::test]
async fn an_incremental_run_gives_the_rows_of_a_full_run() {
    let full_path = std::path::PathBuf::from(support::data_path(BTC));
    let text = std::fs::read_to_string(&full_path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // History up to 2019-06-30: the April 2019 golden-cross long is still open there.
    let cut: String = text
        .lines()
        .take_while(|l| !l.contains(",2019-07-01,"))
        .map(|l| format!("{l}\n"))
        .collect();
    let part_path = dir.path().join("coin_Bitcoin.csv");
    std::fs::write(&part_path, cut).unwrap();

    for (inc, full) in talab_db::testing::backends()
        .await
        .into_iter()
        .zip(talab_db::testing::backends().await)
    {
        load_btc(&inc.db, &part_path).await;
        let first = refresh_signals(&inc.db, &["BTC".into()], None).await.unwrap();
        let open_then: usize = first.iter().map(|r| r.open).sum();
        assert!(open_then >= 1, "a position is open at the cut");
        load_btc(&inc.db, &full_path).await;
        let second = refresh_signals(&inc.db, &["BTC".into()], None).await.unwrap();
        assert!(second.iter().map(|r| r.updated).sum::<usize>() >= 1, "{second:?}");
        assert!(second.iter().all(|r| r.deleted == 0), "{second:?}");

        load_btc(&full.db, &full_path).await;
        refresh_signals(&full.db, &["BTC".into()], None).await.unwrap();
        let (a, b) = (stored_trades(&inc.db).await, stored_trades(&full.db).await);
        assert!(!a.is_empty());
        assert_eq!(a, b, "{}", inc.label());
    }
}

#[tokio::test]
async fn unknown_signals_and_symbols_are_refused_with_what_exists() {
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        let e = refresh_signals(db, &["BTC".into()], Some(&["ema_1_2".to_string()]))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown signal 'ema_1_2'") && e.contains("ema_50_200_long"),
            "{e}"
        );
        let e = refresh_signals(db, &["DOGE".into()], None)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("no prices for DOGE"), "{e}");
        assert!(list_trades(db, Some("BTC"), None, true).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn revised_prices_delete_the_trades_they_undo() {
    let text = std::fs::read_to_string(support::data_path(BTC)).unwrap();
    // 2019 flattened to one price: the crosses of that year (the April golden cross among them)
    // no longer happen, so their stored trades must go.
    let revised: String = text
        .lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split(',').collect();
            if f.len() > 7 && f[3].starts_with("2019-") {
                f[4..=7].fill("5000");
            }
            format!("{}\n", f.join(","))
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let revised_path = dir.path().join("coin_Bitcoin.csv");
    std::fs::write(&revised_path, revised).unwrap();
    let original_path = std::path::PathBuf::from(support::data_path(BTC));

    for (inc, full) in talab_db::testing::backends()
        .await
        .into_iter()
        .zip(talab_db::testing::backends().await)
    {
        load_btc(&inc.db, &original_path).await;
        refresh_signals(&inc.db, &["BTC".into()], None).await.unwrap();
        let before = list_trades(&inc.db, None, None, false).await.unwrap();
        assert!(
            before
                .iter()
                .any(|r| r.trade.entry_ts.date_naive().to_string().starts_with("2019-")),
            "a trade enters in 2019 before the revision"
        );
        load_revised(&inc.db, &revised_path).await;
        let reports = refresh_signals(&inc.db, &["BTC".into()], None).await.unwrap();
        assert!(
            reports.iter().map(|r| r.deleted).sum::<usize>() >= 1,
            "{reports:?}"
        );

        load_btc(&full.db, &revised_path).await;
        refresh_signals(&full.db, &["BTC".into()], None).await.unwrap();
        let (a, b) = (stored_trades(&inc.db).await, stored_trades(&full.db).await);
        assert_eq!(
            a,
            b,
            "{}: revised then refreshed == refreshed from the revised prices",
            inc.label()
        );
    }
}
