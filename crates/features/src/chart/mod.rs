//! Price charts: what a chart shows ([`ChartData`]: candles, EMA lines, signal markers) is built
//! from the database by [`chart_data`], and drawn to PNG or SVG by [`render`] (feature `chart`).
//!
//! Keeping the two apart means what is drawn can be tested as data (the EMA line's points are the
//! kernel's values on the chart's days) while pixels are left to plotters.

#[cfg(feature = "chart")]
mod font;
mod model;
#[cfg(feature = "chart")]
mod render;

#[cfg(feature = "chart")]
pub use font::{FONT_ENV, FontStatus, chart_font};
pub use model::{
    Candle, ChartData, ChartRequest, DEFAULT_CHART_EMAS, EmaLine, Marker, MarkerKind, chart_data,
};
#[cfg(feature = "chart")]
pub use render::{ChartFormat, ChartStyle, PriceScale, RenderOptions, RenderReport, render};
