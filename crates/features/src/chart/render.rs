//! Drawing a [`ChartData`] with plotters, to PNG or SVG: candles (or a close line when candles
//! would be thinner than a few pixels), one line per EMA, entry and exit markers, dated x axis,
//! price y axis (logarithmic when prices span more than 20×, unless asked otherwise), a legend.
//!
//! A log axis is drawn as log10(price) on a linear axis with labels turned back into prices, so one
//! drawing path serves both scales.

use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::font::chart_font;
use super::model::{ChartData, MarkerKind};
use crate::FeatureError;
use crate::signals::Side;

/// The file format, from the output's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartFormat {
    Png,
    Svg,
}

impl ChartFormat {
    /// `.png` or `.svg` (any case); anything else is refused.
    pub fn from_path(path: &Path) -> Result<Self, FeatureError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("png") => Ok(ChartFormat::Png),
            Some("svg") => Ok(ChartFormat::Svg),
            _ => Err(FeatureError::InvalidChart(format!(
                "{}: the output must end in .png or .svg",
                path.display()
            ))),
        }
    }
}

/// Candles, a close line, or whichever fits (candles when each gets at least 3 pixels).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartStyle {
    #[default]
    Auto,
    Candles,
    Line,
}

/// The price axis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceScale {
    /// Logarithmic when the highest price shown is more than 20× the lowest.
    #[default]
    Auto,
    Linear,
    Log,
}

/// How to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderOptions {
    pub width: u32,
    pub height: u32,
    pub style: ChartStyle,
    pub scale: PriceScale,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            width: 1200,
            height: 700,
            style: ChartStyle::Auto,
            scale: PriceScale::Auto,
        }
    }
}

/// What was drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderReport {
    pub path: PathBuf,
    pub format: ChartFormat,
    pub width: u32,
    pub height: u32,
    /// `candles` or `line`.
    pub style: ChartStyle,
    pub log_scale: bool,
    pub candles: usize,
    pub ema_lines: usize,
    pub markers: usize,
    /// Whether text (axes labels, title, legend) was drawn; see [`chart_font`](super::chart_font).
    pub text: bool,
    /// Why there is no text, when there is none.
    pub note: Option<String>,
}

/// The smallest and largest chart sides accepted, in pixels.
pub const MIN_SIDE: u32 = 200;
pub const MAX_SIDE: u32 = 8000;

const EMA_COLOURS: &[RGBColor] = &[
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(23, 190, 207),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
];
const UP: RGBColor = RGBColor(38, 166, 91);
const DOWN: RGBColor = RGBColor(214, 39, 40);
const CLOSE_LINE: RGBColor = RGBColor(60, 60, 60);

/// Draws `data` to `path` (PNG or SVG by extension) at exactly `width`×`height` pixels.
pub fn render(data: &ChartData, path: &Path, opts: &RenderOptions) -> Result<RenderReport, FeatureError> {
    let format = ChartFormat::from_path(path)?;
    for (name, v) in [("width", opts.width), ("height", opts.height)] {
        if !(MIN_SIDE..=MAX_SIDE).contains(&v) {
            return Err(FeatureError::InvalidChart(format!(
                "{name} {v} is outside {MIN_SIDE}..={MAX_SIDE} pixels"
            )));
        }
    }
    let Some((first, last)) = data.days() else {
        return Err(FeatureError::Chart(format!(
            "{} {} has no bars in the asked window; nothing to draw",
            data.symbol, data.tf
        )));
    };
    let font = chart_font()?;
    let plan = Plan::new(data, opts, first, last, font.has_text());
    let size = (opts.width, opts.height);
    let drawn = match format {
        ChartFormat::Png => draw(BitMapBackend::new(path, size).into_drawing_area(), data, &plan),
        ChartFormat::Svg => draw(SVGBackend::new(path, size).into_drawing_area(), data, &plan),
    };
    drawn.map_err(|e| FeatureError::Chart(format!("{}: {e}", path.display())))?;
    Ok(RenderReport {
        path: path.to_path_buf(),
        format,
        width: opts.width,
        height: opts.height,
        style: if plan.candles {
            ChartStyle::Candles
        } else {
            ChartStyle::Line
        },
        log_scale: plan.log,
        candles: data.candles.len(),
        ema_lines: data.emas.len(),
        markers: data.markers.len(),
        text: plan.text,
        note: match font {
            super::FontStatus::NoText(why) => Some(why),
            super::FontStatus::Loaded(_) => None,
        },
    })
}

/// Decisions made before drawing.
struct Plan {
    candles: bool,
    log: bool,
    text: bool,
    x: (NaiveDate, NaiveDate),
    y: (f64, f64),
    candle_px: u32,
}

impl Plan {
    fn new(data: &ChartData, opts: &RenderOptions, first: NaiveDate, last: NaiveDate, text: bool) -> Self {
        let plot_px = opts.width.saturating_sub(if text { 110 } else { 20 }).max(1);
        let n = data.candles.len() as u32;
        let candles = match opts.style {
            ChartStyle::Candles => true,
            ChartStyle::Line => false,
            ChartStyle::Auto => n * 3 <= plot_px,
        };
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for c in &data.candles {
            let (l, h) = if candles {
                (c.low, c.high)
            } else {
                (c.close, c.close)
            };
            lo = lo.min(l);
            hi = hi.max(h);
        }
        for e in &data.emas {
            for (_, v) in &e.points {
                lo = lo.min(*v);
                hi = hi.max(*v);
            }
        }
        for m in &data.markers {
            lo = lo.min(m.price);
            hi = hi.max(m.price);
        }
        let log = match opts.scale {
            PriceScale::Log => lo > 0.0,
            PriceScale::Linear => false,
            PriceScale::Auto => lo > 0.0 && hi / lo > 20.0,
        };
        let (lo, hi) = if log { (lo.log10(), hi.log10()) } else { (lo, hi) };
        let pad = ((hi - lo) * 0.04).max(if log { 0.01 } else { hi.abs() * 0.01 + 1e-9 });
        // Candles get one day of room on each side so the first and last are whole (the axis
        // labels stay inside the asked days, see `draw`); a close line starts and ends on them.
        let x = if candles {
            (first - Duration::days(1), last + Duration::days(1))
        } else {
            (first, last)
        };
        let days = (x.1 - x.0).num_days().max(1) as f64;
        let candle_px = ((plot_px as f64 / days) * 0.7).clamp(1.0, 15.0) as u32;
        Self {
            candles,
            log,
            text,
            x,
            y: (lo - pad, hi + pad),
            candle_px,
        }
    }

    fn y(&self, price: f64) -> f64 {
        if self.log { price.log10() } else { price }
    }
}

fn price_label(v: f64) -> String {
    let a = v.abs();
    if a >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, data: &ChartData, plan: &Plan) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let mut builder = ChartBuilder::on(&root);
    builder.margin(12);
    if plan.text {
        let (first, last) = data.days().expect("checked by render");
        let mut title = format!(
            "{} {} {} to {} ({}{})",
            data.symbol,
            data.tf,
            first,
            last,
            if plan.candles { "candles" } else { "close" },
            if plan.log { ", log scale" } else { "" }
        );
        if data.source == "synthetic" {
            title.push_str(" SYNTHETIC PRICES");
        }
        builder
            .caption(title, ("sans-serif", 20))
            .x_label_area_size(36)
            .y_label_area_size(64);
    }
    let mut chart = builder
        .build_cartesian_2d(plan.x.0..plan.x.1, plan.y.0..plan.y.1)
        .map_err(err)?;
    let log = plan.log;
    let y_fmt = move |v: &f64| price_label(if log { 10f64.powf(*v) } else { *v });
    let span_days = (plan.x.1 - plan.x.0).num_days();
    let days = data.days().expect("checked by render");
    let x_fmt = move |d: &NaiveDate| x_label(*d, days, span_days);
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215));
    if plan.text {
        mesh.x_labels(8)
            .y_labels(10)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .x_desc("date (UTC)")
            .y_desc("price (USD)")
            .label_style(("sans-serif", 13));
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw().map_err(err)?;

    if plan.candles {
        let w = plan.candle_px;
        chart
            .draw_series(data.candles.iter().map(|c| {
                CandleStick::new(
                    c.day,
                    plan.y(c.open),
                    plan.y(c.high),
                    plan.y(c.low),
                    plan.y(c.close),
                    UP.filled(),
                    DOWN.filled(),
                    w,
                )
            }))
            .map_err(err)?
            .label(format!("{} {}", data.symbol, data.tf))
            .legend(|(x, y)| Rectangle::new([(x + 4, y - 5), (x + 14, y + 5)], UP.filled()));
    } else {
        chart
            .draw_series(LineSeries::new(
                data.candles.iter().map(|c| (c.day, plan.y(c.close))),
                CLOSE_LINE.stroke_width(1),
            ))
            .map_err(err)?
            .label(format!("{} close", data.symbol))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], CLOSE_LINE.stroke_width(2)));
    }
    for (i, line) in data.emas.iter().enumerate() {
        let colour = EMA_COLOURS[i % EMA_COLOURS.len()];
        chart
            .draw_series(LineSeries::new(
                line.points.iter().map(|(d, v)| (*d, plan.y(*v))),
                colour.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("EMA {}", line.period))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2)));
    }
    let mut ids: Vec<&str> = data.markers.iter().map(|m| m.signal_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    for kind in [
        (MarkerKind::Entry, Side::Long),
        (MarkerKind::Entry, Side::Short),
        (MarkerKind::Exit, Side::Long),
    ] {
        let picked: Vec<_> = data
            .markers
            .iter()
            .filter(|m| m.kind == kind.0 && (kind.0 == MarkerKind::Exit || m.side == kind.1))
            .collect();
        if picked.is_empty() {
            continue;
        }
        let label = marker_label(&ids, kind.0, kind.1);
        let shape = move |(x, y): (i32, i32)| -> Vec<(i32, i32)> {
            match kind {
                (MarkerKind::Entry, Side::Long) => vec![(x, y - 7), (x - 6, y + 5), (x + 6, y + 5)],
                (MarkerKind::Entry, Side::Short) => vec![(x, y + 7), (x - 6, y - 5), (x + 6, y - 5)],
                _ => vec![(x - 5, y - 5), (x + 5, y - 5), (x + 5, y + 5), (x - 5, y + 5)],
            }
        };
        let colour = match kind {
            (MarkerKind::Entry, Side::Long) => UP,
            (MarkerKind::Entry, Side::Short) => DOWN,
            _ => BLACK,
        };
        chart
            .draw_series(picked.iter().map(|m| {
                EmptyElement::at((m.day, plan.y(m.price)))
                    + Polygon::new(shape((0, 0)), colour.filled())
                    + PathElement::new(
                        {
                            let mut p = shape((0, 0));
                            p.push(p[0]);
                            p
                        },
                        WHITE.stroke_width(1),
                    )
            }))
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| Polygon::new(shape((x + 9, y)), colour.filled()));
    }
    if plan.text {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

/// A date on the x axis; blank outside the chart's days (the candles' margin is not a day of it).
fn x_label(d: NaiveDate, (first, last): (NaiveDate, NaiveDate), span_days: i64) -> String {
    if d < first || d > last {
        String::new()
    } else if span_days > 3 * 365 {
        d.format("%Y-%m").to_string()
    } else {
        d.format("%Y-%m-%d").to_string()
    }
}

/// The legend text of one marker kind: "long entry", "exit"; with one signal, its id first, and
/// the side only when the id does not already say it ("ema_9_21_long entry", not "… long entry").
fn marker_label(ids: &[&str], kind: MarkerKind, side: Side) -> String {
    let side_word = match side {
        Side::Long => "long",
        Side::Short => "short",
    };
    let what = match kind {
        MarkerKind::Entry => format!("{side_word} entry"),
        MarkerKind::Exit => "exit".to_string(),
    };
    match ids {
        [id] if kind == MarkerKind::Entry && id.ends_with(&format!("_{side_word}")) => format!("{id} entry"),
        [id] => format!("{id} {what}"),
        _ => what,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_names_no_day_outside_the_chart() {
        let day = |d| NaiveDate::from_ymd_opt(2020, 1, d).unwrap();
        let days = (day(2), day(30));
        assert_eq!(x_label(day(1), days, 30), "");
        assert_eq!(x_label(day(2), days, 30), "2020-01-02");
        assert_eq!(x_label(day(30), days, 30), "2020-01-30");
        assert_eq!(x_label(day(31), days, 30), "");
        assert_eq!(x_label(day(15), days, 4 * 365), "2020-01");
    }

    #[test]
    fn the_side_is_said_once() {
        assert_eq!(
            marker_label(&["ema_9_21_long"], MarkerKind::Entry, Side::Long),
            "ema_9_21_long entry"
        );
        assert_eq!(
            marker_label(&["ema_9_21_long"], MarkerKind::Exit, Side::Long),
            "ema_9_21_long exit"
        );
        assert_eq!(
            marker_label(&["rsi_mr"], MarkerKind::Entry, Side::Short),
            "rsi_mr short entry"
        );
        assert_eq!(
            marker_label(&["a", "b"], MarkerKind::Entry, Side::Long),
            "long entry"
        );
    }
}
