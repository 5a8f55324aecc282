//! The font chart text is drawn with: a TrueType file read at run time (no fontconfig, no
//! freetype, nothing bundled in the repository).
//!
//! `TALAB_CHART_FONT=/path/font.ttf` chooses one (`none` draws no text at all); otherwise the first
//! of the usual system fonts that exists is used (DejaVu Sans, Liberation Sans, Noto Sans, Arial).
//! With none found, charts are still drawn, without text, and the caller is told so.

use std::sync::OnceLock;

use plotters::style::FontStyle;

use crate::FeatureError;

/// The environment variable that picks the chart font (a TTF/OTF path, or `none`).
pub const FONT_ENV: &str = "TALAB_CHART_FONT";

const CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/noto/NotoSans-Regular.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
];

/// Which font charts use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FontStatus {
    /// Text is drawn with the font from this file.
    Loaded(String),
    /// No text: `TALAB_CHART_FONT=none`, or no font was found (the reason says which).
    NoText(String),
}

impl FontStatus {
    pub fn has_text(&self) -> bool {
        matches!(self, FontStatus::Loaded(_))
    }
}

static FONT: OnceLock<Result<FontStatus, String>> = OnceLock::new();

/// Finds and registers the chart font once per process (as plotters' `sans-serif`). An explicit
/// `TALAB_CHART_FONT` that cannot be read is an error; a missing system font is not.
pub fn chart_font() -> Result<FontStatus, FeatureError> {
    FONT.get_or_init(load).clone().map_err(FeatureError::Chart)
}

fn load() -> Result<FontStatus, String> {
    let chosen = std::env::var(FONT_ENV).ok().filter(|v| !v.trim().is_empty());
    let path = match chosen.as_deref().map(str::trim) {
        Some(v) if v.eq_ignore_ascii_case("none") => {
            return Ok(FontStatus::NoText(format!("{FONT_ENV}=none")));
        }
        Some(p) => p.to_string(),
        None => match CANDIDATES.iter().find(|p| std::path::Path::new(p).is_file()) {
            Some(p) => p.to_string(),
            None => {
                return Ok(FontStatus::NoText(format!(
                    "no system font found; set {FONT_ENV} to a .ttf file to get axis labels and a legend"
                )));
            }
        },
    };
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read the font {path}: {e}"))?;
    // plotters keeps fonts for the life of the process; this happens once.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| format!("{path} is not a TrueType/OpenType font plotters can use"))?;
    Ok(FontStatus::Loaded(path))
}
