//! Timeframe codes and EMA periods: parsing, canonical spelling, and the defaults.
//!
//! Codes are what users type (`1d`, `1w_cal_iso`) and what tables key on (`1D`, `1W_CAL_ISO`);
//! everything that accepts a timeframe goes through [`normalise_timeframe`] so the two never differ.

use std::fmt;
use std::str::FromStr;

use crate::FeatureError;

/// The timeframe used when none is given.
pub const DEFAULT_TIMEFRAME: &str = "1D";

/// The EMA periods computed by default.
pub const DEFAULT_PERIODS: [usize; 7] = [9, 10, 20, 21, 50, 100, 200];

/// Every EMA period a user can ask for.
pub const ALLOWED_PERIODS: [usize; 17] = [
    6, 9, 10, 12, 14, 17, 20, 21, 26, 30, 50, 52, 77, 100, 200, 252, 365,
];

/// The timeframes computed by default (`is_canonical` in `dim_timeframe`).
pub const DEFAULT_CANONICAL_TIMEFRAMES: [&str; 13] = [
    "1D",
    "2D",
    "3D",
    "5D",
    "7D",
    "14D",
    "21D",
    "30D",
    "1W_CAL_ISO",
    "1W_CAL_US",
    "1M_CAL",
    "3M_CAL",
    "1Y_CAL",
];

/// The largest quantity a timeframe code may carry (`9999D`).
pub const MAX_TF_QTY: u32 = 9999;

/// The unit a timeframe counts in (`base_unit` in `dim_timeframe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TfUnit {
    /// Rolling days counted from the asset's first day (`ND`).
    Day,
    /// Calendar weeks (`NW_CAL_US`, `NW_CAL_ISO`).
    Week,
    /// Calendar months (`NM_CAL`).
    Month,
    /// Calendar quarters (`NQ_CAL`).
    Quarter,
    /// Calendar years (`NY_CAL`).
    Year,
    /// Hours, for intraday series (`NH`).
    Hour,
}

impl TfUnit {
    /// The letter used in codes and in `base_unit`.
    pub fn letter(self) -> char {
        match self {
            TfUnit::Day => 'D',
            TfUnit::Week => 'W',
            TfUnit::Month => 'M',
            TfUnit::Quarter => 'Q',
            TfUnit::Year => 'Y',
            TfUnit::Hour => 'H',
        }
    }
}

/// Where a calendar week starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CalendarScheme {
    /// Sunday to Saturday.
    Us,
    /// Monday to Sunday.
    Iso,
}

impl CalendarScheme {
    /// `US` or `ISO`, as in codes and in `calendar_scheme`.
    pub fn name(self) -> &'static str {
        match self {
            CalendarScheme::Us => "US",
            CalendarScheme::Iso => "ISO",
        }
    }
}

/// A parsed timeframe code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timeframe {
    /// How many units one bar spans (≥ 1).
    pub qty: u32,
    pub unit: TfUnit,
    /// Set for weeks only (weeks need one; months, quarters and years have none).
    pub scheme: Option<CalendarScheme>,
    /// Anchored calendar bars sit on a global grid instead of starting at the first full period.
    pub anchored: bool,
}

impl Timeframe {
    /// Parses a code, case-insensitively and ignoring surrounding spaces.
    pub fn parse(code: &str) -> Result<Self, FeatureError> {
        let unknown = || FeatureError::UnknownTimeframe {
            code: code.trim().to_string(),
        };
        let upper = code.trim().to_ascii_uppercase();
        let digits = upper.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(unknown());
        }
        let qty: u32 = upper[..digits].parse().map_err(|_| unknown())?;
        if qty == 0 || qty > MAX_TF_QTY {
            return Err(unknown());
        }
        use CalendarScheme::{Iso, Us};
        let (unit, scheme, anchored) = match &upper[digits..] {
            "D" => (TfUnit::Day, None, false),
            "H" => (TfUnit::Hour, None, false),
            "W_CAL_US" => (TfUnit::Week, Some(Us), false),
            "W_CAL_ISO" => (TfUnit::Week, Some(Iso), false),
            "W_CAL_ANCHOR_US" => (TfUnit::Week, Some(Us), true),
            "W_CAL_ANCHOR_ISO" => (TfUnit::Week, Some(Iso), true),
            "M_CAL" => (TfUnit::Month, None, false),
            "M_CAL_ANCHOR" => (TfUnit::Month, None, true),
            "Q_CAL" => (TfUnit::Quarter, None, false),
            "Q_CAL_ANCHOR" => (TfUnit::Quarter, None, true),
            "Y_CAL" => (TfUnit::Year, None, false),
            "Y_CAL_ANCHOR" => (TfUnit::Year, None, true),
            _ => return Err(unknown()),
        };
        Ok(Self {
            qty,
            unit,
            scheme,
            anchored,
        })
    }

    /// The canonical code (`1D`, `2W_CAL_ANCHOR_ISO`).
    pub fn code(&self) -> String {
        self.to_string()
    }

    /// Whether bars follow the calendar (weeks, months, quarters, years) rather than a day count.
    pub fn is_calendar(&self) -> bool {
        matches!(
            self.unit,
            TfUnit::Week | TfUnit::Month | TfUnit::Quarter | TfUnit::Year
        )
    }

    /// Whether this is an intraday (hourly) timeframe.
    pub fn is_intraday(&self) -> bool {
        self.unit == TfUnit::Hour
    }

    /// The nominal length in days used for the daily EMA's α (W = 7q, M = 30q, Q = 91q, Y = 365q);
    /// None for intraday timeframes, which are not on the daily grid.
    pub fn tf_days_nominal(&self) -> Option<u32> {
        let per_unit = match self.unit {
            TfUnit::Day => 1,
            TfUnit::Week => 7,
            TfUnit::Month => 30,
            TfUnit::Quarter => 91,
            TfUnit::Year => 365,
            TfUnit::Hour => return None,
        };
        Some(self.qty * per_unit)
    }
}

impl Timeframe {
    /// `tf_day` (counted from the asset's first day, also hours) or `calendar`, as in
    /// `dim_timeframe.alignment_type`.
    pub fn alignment_type(&self) -> &'static str {
        if self.is_calendar() { "calendar" } else { "tf_day" }
    }

    /// Whether this code is one of [`DEFAULT_CANONICAL_TIMEFRAMES`].
    pub fn is_default_canonical(&self) -> bool {
        let code = self.code();
        DEFAULT_CANONICAL_TIMEFRAMES.contains(&code.as_str())
    }

    /// A label for people: `1 day`, `2 weeks (Mon–Sun, anchored)`, `3 months`, `4 hours`.
    pub fn label(&self) -> String {
        let unit = match self.unit {
            TfUnit::Day => "day",
            TfUnit::Week => "week",
            TfUnit::Month => "month",
            TfUnit::Quarter => "quarter",
            TfUnit::Year => "year",
            TfUnit::Hour => "hour",
        };
        let plural = if self.qty == 1 { "" } else { "s" };
        let mut notes = Vec::new();
        match self.scheme {
            Some(CalendarScheme::Us) => notes.push("Sun–Sat"),
            Some(CalendarScheme::Iso) => notes.push("Mon–Sun"),
            None => {}
        }
        if self.anchored {
            notes.push("anchored");
        }
        if notes.is_empty() {
            format!("{} {unit}{plural}", self.qty)
        } else {
            format!("{} {unit}{plural} ({})", self.qty, notes.join(", "))
        }
    }

    /// The order timeframes are listed in (`dim_timeframe.sort_order`): by nominal length (hours),
    /// then family (day count, US week, ISO week, month, quarter, year), non-anchored first. Unique
    /// for every valid code.
    pub fn sort_order(&self) -> i64 {
        let hours_per_unit: i64 = match self.unit {
            TfUnit::Hour => 1,
            TfUnit::Day => 24,
            TfUnit::Week => 7 * 24,
            TfUnit::Month => 30 * 24,
            TfUnit::Quarter => 91 * 24,
            TfUnit::Year => 365 * 24,
        };
        let family: i64 = match (self.unit, self.scheme) {
            (TfUnit::Hour | TfUnit::Day, _) => 0,
            (TfUnit::Week, Some(CalendarScheme::Us)) => 1,
            (TfUnit::Week, _) => 2,
            (TfUnit::Month, _) => 3,
            (TfUnit::Quarter, _) => 4,
            (TfUnit::Year, _) => 5,
        };
        (i64::from(self.qty) * hours_per_unit) * 20 + family * 2 + i64::from(self.anchored)
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.qty, self.unit.letter())?;
        if self.is_calendar() {
            f.write_str("_CAL")?;
            if self.anchored {
                f.write_str("_ANCHOR")?;
            }
            if let Some(scheme) = self.scheme {
                write!(f, "_{}", scheme.name())?;
            }
        }
        Ok(())
    }
}

impl FromStr for Timeframe {
    type Err = FeatureError;

    fn from_str(s: &str) -> Result<Self, FeatureError> {
        Self::parse(s)
    }
}

/// The canonical upper-case spelling of a timeframe code (`1d` → `1D`), or
/// [`FeatureError::UnknownTimeframe`] naming the code and the valid forms.
///
/// ```
/// use talab_features::normalise_timeframe;
/// assert_eq!(normalise_timeframe("1w_cal_iso").unwrap(), "1W_CAL_ISO");
/// assert!(normalise_timeframe("1W").is_err()); // weeks need US or ISO
/// ```
pub fn normalise_timeframe(code: &str) -> Result<String, FeatureError> {
    Timeframe::parse(code).map(|tf| tf.code())
}

/// Accepts a period a user asked for if it is one of [`ALLOWED_PERIODS`].
pub fn validate_period(period: usize) -> Result<usize, FeatureError> {
    if ALLOWED_PERIODS.contains(&period) {
        return Ok(period);
    }
    let allowed: Vec<String> = ALLOWED_PERIODS.iter().map(|p| p.to_string()).collect();
    Err(FeatureError::InvalidPeriod {
        period,
        reason: format!("allowed periods are {}", allowed.join(", ")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_case_insensitive_and_canonical_is_upper_case() {
        assert_eq!(normalise_timeframe("1d").unwrap(), "1D");
        assert_eq!(normalise_timeframe(" 3D ").unwrap(), "3D");
        assert_eq!(normalise_timeframe("1w_cal_us").unwrap(), "1W_CAL_US");
        assert_eq!(
            normalise_timeframe("2W_Cal_Anchor_Iso").unwrap(),
            "2W_CAL_ANCHOR_ISO"
        );
        assert_eq!(normalise_timeframe("3m_cal").unwrap(), "3M_CAL");
        assert_eq!(normalise_timeframe("6m_cal_anchor").unwrap(), "6M_CAL_ANCHOR");
        assert_eq!(normalise_timeframe("1q_cal").unwrap(), "1Q_CAL");
        assert_eq!(normalise_timeframe("2y_cal_anchor").unwrap(), "2Y_CAL_ANCHOR");
        assert_eq!(normalise_timeframe("4h").unwrap(), "4H");
        assert_eq!(normalise_timeframe("007D").unwrap(), "7D");
    }

    #[test]
    fn every_default_code_is_already_canonical() {
        for code in DEFAULT_CANONICAL_TIMEFRAMES {
            assert_eq!(normalise_timeframe(code).unwrap(), code);
            assert_eq!(normalise_timeframe(&code.to_lowercase()).unwrap(), code);
        }
        assert_eq!(normalise_timeframe(DEFAULT_TIMEFRAME).unwrap(), DEFAULT_TIMEFRAME);
    }

    #[test]
    fn bad_codes_are_refused_with_the_code_named() {
        for bad in [
            "",
            "D",
            "0D",
            "1",
            "1X",
            "1W",
            "1W_CAL",
            "1M",
            "1M_CAL_US",
            "1D_CAL",
            "1W_CAL_ANCHOR",
            "-1D",
            "1.5D",
            "10000D",
            "99999999999D",
            "1 D",
            "1Ｄ",
        ] {
            match normalise_timeframe(bad) {
                Err(FeatureError::UnknownTimeframe { code }) => assert_eq!(code, bad.trim()),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        assert_eq!(normalise_timeframe("9999D").unwrap(), "9999D");
    }

    #[test]
    fn parsed_parts_and_nominal_days() {
        let tf: Timeframe = "2w_cal_anchor_us".parse().unwrap();
        assert_eq!(
            tf,
            Timeframe {
                qty: 2,
                unit: TfUnit::Week,
                scheme: Some(CalendarScheme::Us),
                anchored: true
            }
        );
        assert!(tf.is_calendar() && !tf.is_intraday());
        let days = |c: &str| Timeframe::parse(c).unwrap().tf_days_nominal();
        assert_eq!(days("3D"), Some(3));
        assert_eq!(days("1W_CAL_ISO"), Some(7));
        assert_eq!(days("3M_CAL"), Some(90));
        assert_eq!(days("1Q_CAL"), Some(91));
        assert_eq!(days("2Y_CAL"), Some(730));
        assert_eq!(days("4H"), None);
        assert!(!Timeframe::parse("5D").unwrap().is_calendar());
    }

    #[test]
    fn labels_alignment_and_order() {
        let tf = |c: &str| Timeframe::parse(c).unwrap();
        assert_eq!(tf("1D").label(), "1 day");
        assert_eq!(tf("2W_CAL_ANCHOR_ISO").label(), "2 weeks (Mon–Sun, anchored)");
        assert_eq!(tf("1W_CAL_US").label(), "1 week (Sun–Sat)");
        assert_eq!(tf("3M_CAL").label(), "3 months");
        assert_eq!(tf("4H").label(), "4 hours");
        assert_eq!(tf("7D").alignment_type(), "tf_day");
        assert_eq!(tf("4H").alignment_type(), "tf_day");
        assert_eq!(tf("1Y_CAL_ANCHOR").alignment_type(), "calendar");
        assert!(tf("1w_cal_iso").is_default_canonical() && !tf("2W_CAL_ISO").is_default_canonical());
        let ordered = [
            "1H",
            "4H",
            "1D",
            "7D",
            "1W_CAL_US",
            "1W_CAL_ISO",
            "1W_CAL_ANCHOR_ISO",
            "30D",
            "1M_CAL",
            "3M_CAL",
            "1Q_CAL",
            "1Y_CAL",
        ];
        let keys: Vec<i64> = ordered.iter().map(|c| tf(c).sort_order()).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    }

    #[test]
    fn periods() {
        assert!(DEFAULT_PERIODS.iter().all(|p| ALLOWED_PERIODS.contains(p)));
        assert_eq!(validate_period(200).unwrap(), 200);
        let e = validate_period(11).unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid EMA period 11: allowed periods are 6, 9, 10, 12, 14, 17, 20, 21, 26, 30, 50, 52, 77, 100, 200, 252, 365"
        );
        assert!(validate_period(0).is_err());
    }
}
