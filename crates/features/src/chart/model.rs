//! The data model of a chart and how it is gathered: candles of the asked timeframe, EMA lines
//! read from the EMA tables (refreshed first, so a chart shows exactly what `talab ema` and the
//! signals see), and the entry and exit markers of stored signal trades, all cut to the asked
//! window.
//!
//! For longer timeframes, candles are the last snapshot of each bar and the EMA points are the
//! tables' `ema_bar` on bar-close days (the EMA over completed bars' closes).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use talab_db::Database;
use talab_db::sqlx;

use crate::bars::build_snapshots;
use crate::signals::{Side, get_definition, trades_for};
use crate::{
    EmaQuery, EmaRefresher, FeatureError, RefreshOptions, Timeframe, load_daily_bars, normalise_symbol,
    read_emas, validate_period,
};

/// EMA periods drawn when neither periods nor signals are asked for.
pub const DEFAULT_CHART_EMAS: &[usize] = &[20, 50, 200];

/// What to chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRequest {
    pub symbol: String,
    /// A timeframe code (1D, 7D, 1W_CAL_ISO, 1M_CAL …; not intraday).
    pub tf: String,
    /// First and last day shown (default: the whole history).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// EMA periods to draw.
    pub emas: Vec<usize>,
    /// Signal ids whose stored entries and exits are marked.
    pub signals: Vec<String>,
}

/// One candle: a daily bar, or the last snapshot of a longer bar.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Candle {
    /// The bar's last day with data (its close day).
    pub day: NaiveDate,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    /// False for the last bar of a longer timeframe that is not complete yet.
    pub complete: bool,
}

/// One EMA line: (day, value) where the EMA exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmaLine {
    pub period: usize,
    pub points: Vec<(NaiveDate, f64)>,
}

/// Entry or exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkerKind {
    Entry,
    Exit,
}

/// A signal's entry or exit at a day and price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    pub signal_id: String,
    pub day: NaiveDate,
    pub price: f64,
    pub side: Side,
    pub kind: MarkerKind,
}

/// Everything a chart shows, already cut to its window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartData {
    pub symbol: String,
    pub tf: String,
    /// Where the prices came from (`synthetic` is shown on the chart).
    pub source: String,
    pub candles: Vec<Candle>,
    pub emas: Vec<EmaLine>,
    pub markers: Vec<Marker>,
}

impl ChartData {
    /// The first and last day shown.
    pub fn days(&self) -> Option<(NaiveDate, NaiveDate)> {
        Some((self.candles.first()?.day, self.candles.last()?.day))
    }
}

/// Gathers a chart's data from the database (daily bars, signal trades).
pub async fn chart_data(db: &Database, req: &ChartRequest) -> Result<ChartData, FeatureError> {
    let symbol = normalise_symbol(&req.symbol)?;
    let tf = Timeframe::parse(&req.tf)?;
    if tf.is_intraday() {
        return Err(FeatureError::UnsupportedTimeframe {
            tf: tf.code(),
            reason: "charts are drawn from daily bars; intraday EMAs are shown by `talab ema SYMBOL --tf 4H`"
                .into(),
        });
    }
    for p in &req.emas {
        validate_period(*p)?;
    }
    let bars = load_daily_bars(db, &symbol).await?;
    let (Some(first), Some(last)) = (bars.first(), bars.last()) else {
        return Err(FeatureError::NoData { symbol });
    };
    let (first, last) = (first.day, last.day);
    for date in [req.from, req.to].into_iter().flatten() {
        if date < first || date > last {
            return Err(FeatureError::DateOutOfRange {
                symbol,
                date,
                first,
                last,
            });
        }
    }
    let source: Option<String> = talab_db::on_pool!(db, pool => {
        sqlx::query_scalar("SELECT source FROM cmc_price_bars_1d WHERE symbol = $1 LIMIT 1")
            .bind(&symbol)
            .fetch_optional(pool)
            .await
    })?;

    let candles: Vec<Candle> = if tf.code() == "1D" {
        bars.iter()
            .map(|b| Candle {
                day: b.day,
                open: b.open,
                high: b.high,
                low: b.low,
                close: b.close,
                complete: true,
            })
            .collect()
    } else {
        let snaps = build_snapshots(tf, &bars)?;
        let mut out: Vec<Candle> = Vec::new();
        for (i, s) in snaps.iter().enumerate() {
            let last_of_bar = snaps.get(i + 1).is_none_or(|n| n.bar_seq != s.bar_seq);
            if last_of_bar {
                out.push(Candle {
                    day: s.day,
                    open: s.open,
                    high: s.high,
                    low: s.low,
                    close: s.close,
                    complete: !s.is_partial_end,
                });
            }
        }
        out
    };
    let in_window = |d: NaiveDate| req.from.is_none_or(|f| d >= f) && req.to.is_none_or(|t| d <= t);
    let emas = stored_lines(db, &symbol, &tf, req).await?;
    let mut markers = Vec::new();
    for id in &req.signals {
        let def = get_definition(db, id).await?;
        for t in trades_for(db, &symbol, &def.signal_id).await? {
            let mut push = |day, price, kind| {
                if in_window(day) {
                    markers.push(Marker {
                        signal_id: def.signal_id.clone(),
                        day,
                        price,
                        side: t.side,
                        kind,
                    });
                }
            };
            push(t.entry_day, t.entry_price, MarkerKind::Entry);
            if let (Some(day), Some(price)) = (t.exit_day, t.exit_price) {
                push(day, price, MarkerKind::Exit);
            }
        }
    }
    let candles = candles.into_iter().filter(|c| in_window(c.day)).collect();
    Ok(ChartData {
        symbol,
        tf: tf.code(),
        source: source.unwrap_or_default(),
        candles,
        emas,
        markers,
    })
}

/// The EMA lines as stored in the EMA tables, refreshed first (incrementally: a no-op when they
/// are up to date): on each completed bar's close day, `ema_bar` — the EMA over completed bars'
/// closes of the whole history, so a window never starts with a cold EMA. For 1D that is every day.
async fn stored_lines(
    db: &Database,
    symbol: &str,
    tf: &Timeframe,
    req: &ChartRequest,
) -> Result<Vec<EmaLine>, FeatureError> {
    if req.emas.is_empty() {
        return Ok(Vec::new());
    }
    let options = RefreshOptions {
        tfs: vec![*tf],
        periods: req.emas.clone(),
        ..Default::default()
    };
    EmaRefresher::open(db.clone())
        .await?
        .refresh_symbol(symbol, &options)
        .await?;
    let query = EmaQuery {
        symbol: symbol.to_string(),
        tfs: vec![tf.code()],
        periods: req.emas.iter().map(|&p| p as u32).collect(),
        from: req.from,
        to: req.to,
    };
    let rows = read_emas(db, &query).await?;
    Ok(req
        .emas
        .iter()
        .map(|&period| EmaLine {
            period,
            points: rows
                .iter()
                .filter(|r| r.period as usize == period && !r.roll)
                .map(|r| (r.day, r.ema_bar))
                .collect(),
        })
        .collect())
}
