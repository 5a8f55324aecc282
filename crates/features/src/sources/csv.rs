//! CSV price files: CoinMarketCap's website export (`;`-separated, quoted ISO times, newest first)
//! and plain OHLCV files (a date column and open/high/low/close/volume in any order and case).
//!
//! Parsing is separate from loading: it yields good rows with their line numbers and bad rows with
//! `column: reason`, so the loader can reject a whole file or, when asked, load it without the bad
//! rows. A day appearing twice is never guessed about: it is an error naming both lines.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};

use crate::prices::{RawPrice, SourceKind, day_end, day_start};
use crate::sources::{Interval, within};
use crate::{FeatureError, normalise_symbol};

/// The two CSV layouts talab reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvFormat {
    /// CoinMarketCap's website export (timeOpen;timeClose;timeHigh;timeLow;name;open;…).
    Cmc,
    /// A plain OHLCV file (date, open, high, low, close, volume).
    Ohlcv,
}

impl CsvFormat {
    /// The source its rows are stored under.
    pub fn source(self) -> SourceKind {
        match self {
            Self::Cmc => SourceKind::CmcCsv,
            Self::Ohlcv => SourceKind::Csv,
        }
    }
}

impl fmt::Display for CsvFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cmc => "cmc",
            Self::Ohlcv => "ohlcv",
        })
    }
}

impl FromStr for CsvFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cmc" => Ok(Self::Cmc),
            "ohlcv" => Ok(Self::Ohlcv),
            _ => Err(format!("unknown CSV format '{s}'; use cmc or ohlcv")),
        }
    }
}

/// The line an editor shows for a record, counted from the bytes themselves: the csv crate's own
/// line count was one short on files with `\r\n` line ends (as exported on Windows).
/// Offsets only grow while a file is read, so each newline is counted once.
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineCounter {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    /// The 1-based line of the record that starts at `byte` (offsets at or after the last one
    /// asked). The csv reader may report a record's start before the line end that precedes it
    /// (the `\n` of a `\r\n`, or blank lines): those are skipped first.
    fn at(&mut self, byte: u64) -> u64 {
        let mut end = (byte as usize).min(self.bytes.len());
        while end < self.bytes.len() && matches!(self.bytes[end], b'\r' | b'\n') {
            end += 1;
        }
        if end > self.offset {
            self.line += self.bytes[self.offset..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            self.offset = end;
        }
        self.line
    }
}

/// A parsed good row and the line it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    pub line: u64,
    pub price: RawPrice,
}

/// A row that could not be parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct BadCsvRow {
    pub line: u64,
    pub column: String,
    pub reason: String,
    /// The row as it was in the file.
    pub raw: String,
}

/// A parsed file: good rows oldest first, bad rows in file order.
#[derive(Debug, Clone)]
pub struct ParsedCsv {
    /// The file as named in messages.
    pub file: String,
    pub format: CsvFormat,
    /// Good rows, oldest first. Their symbol is empty when neither the caller nor the file gave one.
    pub rows: Vec<CsvRow>,
    pub bad: Vec<BadCsvRow>,
    /// The asset name the file gives (CoinMarketCap's `name` column), to look the symbol up by.
    pub name: Option<String>,
}

impl ParsedCsv {
    /// The first bad row as the error that rejects the whole file, if there is one.
    pub fn first_error(&self) -> Option<FeatureError> {
        self.bad.first().map(|b| FeatureError::BadRow {
            file: self.file.clone(),
            line: b.line,
            column: b.column.clone(),
            reason: b.reason.clone(),
        })
    }
}

/// Reads and parses a file of daily rows; `format` None detects it from the header.
pub fn parse_csv_file(
    path: &Path,
    format: Option<CsvFormat>,
    symbol: Option<&str>,
) -> Result<ParsedCsv, FeatureError> {
    parse_csv_file_of(path, format, symbol, Interval::Day)
}

/// Reads and parses a file of daily or hourly rows (hourly files are plain OHLCV, one row per
/// hour, the time column holding the hour's start); `format` None detects it from the header.
pub fn parse_csv_file_of(
    path: &Path,
    format: Option<CsvFormat>,
    symbol: Option<&str>,
    interval: Interval,
) -> Result<ParsedCsv, FeatureError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| FeatureError::PriceFile {
        file: file.clone(),
        reason: format!("cannot read it: {e}"),
    })?;
    parse_csv_of(&file, &bytes, format, symbol, interval)
}

/// Parses CSV text of daily rows; `file` names it in messages; `format` None detects it from the
/// header.
pub fn parse_csv(
    file: &str,
    bytes: &[u8],
    format: Option<CsvFormat>,
    symbol: Option<&str>,
) -> Result<ParsedCsv, FeatureError> {
    parse_csv_of(file, bytes, format, symbol, Interval::Day)
}

/// [`parse_csv`] of daily or hourly rows.
pub fn parse_csv_of(
    file: &str,
    bytes: &[u8],
    format: Option<CsvFormat>,
    symbol: Option<&str>,
    interval: Interval,
) -> Result<ParsedCsv, FeatureError> {
    let file_err = |reason: String| FeatureError::PriceFile {
        file: file.to_string(),
        reason,
    };
    let symbol = symbol.map(normalise_symbol).transpose()?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let delimiter = [b';', b',', b'\t']
        .into_iter()
        .max_by_key(|d| first_line.iter().filter(|b| *b == d).count())
        .unwrap_or(b',');
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| file_err(format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if header.iter().all(|h| h.is_empty()) {
        return Err(file_err("the file is empty; expected a header line".into()));
    }
    let format = format.unwrap_or(if header.iter().any(|h| h == "timeopen") {
        CsvFormat::Cmc
    } else {
        CsvFormat::Ohlcv
    });
    if format == CsvFormat::Cmc && interval == Interval::Hour {
        return Err(file_err(
            "CoinMarketCap exports are daily; hourly rows load from a plain OHLCV file".into(),
        ));
    }
    let cols = Columns::find(&header, format).map_err(file_err)?;

    let mut parsed = ParsedCsv {
        file: file.to_string(),
        format,
        rows: Vec::new(),
        bad: Vec::new(),
        name: None,
    };
    let mut seen: HashMap<DateTime<Utc>, u64> = HashMap::new();
    let mut lines = LineCounter::new(bytes);
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.at(p.byte()));
                parsed.bad.push(BadCsvRow {
                    line,
                    column: "(row)".into(),
                    reason: e.to_string(),
                    raw: String::new(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| lines.at(p.byte()));
        if record.iter().all(str::is_empty) {
            continue;
        }
        let raw = record
            .iter()
            .collect::<Vec<_>>()
            .join(&(delimiter as char).to_string());
        if record.len() != header.len() {
            let reason = format!("expected {} fields, found {}", header.len(), record.len());
            parsed.bad.push(BadCsvRow {
                line,
                column: "(row)".into(),
                reason,
                raw,
            });
            continue;
        }
        match cols.row(&record, format, interval, symbol.as_deref(), file) {
            Ok((price, name)) => {
                if let Some(first_line) = seen.insert(price.ts, line) {
                    return Err(match interval {
                        Interval::Day => FeatureError::DuplicateDay {
                            file: file.to_string(),
                            day: price.day(),
                            first_line,
                            second_line: line,
                        },
                        Interval::Hour => file_err(format!(
                            "line {line}: the hour starting {} already appears on line {first_line}; \
                             a file may hold each hour once",
                            price.time_open.format("%Y-%m-%d %H:%M")
                        )),
                    });
                }
                if parsed.name.is_none() {
                    parsed.name = name;
                }
                parsed.rows.push(CsvRow { line, price });
            }
            Err((column, reason)) => parsed.bad.push(BadCsvRow {
                line,
                column,
                reason,
                raw,
            }),
        }
    }
    parsed.rows.sort_by_key(|r| r.price.ts);
    let symbols: Vec<&str> = parsed.rows.iter().map(|r| r.price.symbol.as_str()).collect();
    if let Some(other) = symbols.iter().find(|s| **s != symbols[0]) {
        return Err(file_err(format!(
            "the symbol column holds more than one symbol ({} and {other}); load one asset per file",
            symbols[0]
        )));
    }
    Ok(parsed)
}

type FieldError = (String, String);

/// Where each needed column sits in the header.
struct Columns {
    date: usize,
    time_close: Option<usize>,
    time_high: Option<usize>,
    time_low: Option<usize>,
    open: usize,
    high: usize,
    low: usize,
    close: usize,
    volume: Option<usize>,
    market_cap: Option<usize>,
    symbol: Option<usize>,
    name: Option<usize>,
    names: Vec<String>,
}

impl Columns {
    fn find(header: &[String], format: CsvFormat) -> Result<Self, String> {
        let pos = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
        let need = |names: &[&str]| {
            pos(names).ok_or_else(|| {
                format!(
                    "no '{}' column (format {format}); the header has: {}",
                    names[0],
                    header.join(", ")
                )
            })
        };
        let cmc = format == CsvFormat::Cmc;
        Ok(Self {
            date: if cmc {
                need(&["timeopen"])?
            } else {
                need(&["date", "timestamp", "time", "datetime", "day"])?
            },
            time_close: if cmc { Some(need(&["timeclose"])?) } else { None },
            time_high: pos(&["timehigh"]).filter(|_| cmc),
            time_low: pos(&["timelow"]).filter(|_| cmc),
            open: need(&["open"])?,
            high: need(&["high"])?,
            low: need(&["low"])?,
            close: need(&["close"])?,
            volume: if cmc {
                pos(&["volume"])
            } else {
                Some(need(&["volume"])?)
            },
            market_cap: pos(&["marketcap", "market_cap", "market cap"]),
            symbol: pos(&["symbol"]),
            name: pos(&["name"]),
            names: header.to_vec(),
        })
    }

    fn row(
        &self,
        rec: &::csv::StringRecord,
        format: CsvFormat,
        interval: Interval,
        symbol: Option<&str>,
        file: &str,
    ) -> Result<(RawPrice, Option<String>), FieldError> {
        let field = |i: usize| (self.names[i].clone(), &rec[i]);
        let num = |i: usize| number(field(i));
        let opt_num = |i: Option<usize>| match i {
            Some(i) if !rec[i].is_empty() => num(i).map(Some),
            _ => Ok(None),
        };
        let symbol = match (symbol, self.symbol) {
            (Some(s), _) => s.to_string(),
            (None, Some(i)) => {
                normalise_symbol(&rec[i]).map_err(|e| (self.names[i].clone(), e.to_string()))?
            }
            (None, None) => String::new(),
        };
        let (day, time_open, time_close, time_high, time_low) = match format {
            CsvFormat::Cmc => {
                let open_t = instant(field(self.date))?;
                let close_t = instant(field(self.time_close.unwrap_or(self.date)))?;
                let opt_t = |i: Option<usize>| match i {
                    Some(i) if !rec[i].is_empty() => instant(field(i)).map(Some),
                    _ => Ok(None),
                };
                let day = open_t.date_naive();
                (
                    day,
                    open_t,
                    close_t,
                    opt_t(self.time_high)?,
                    opt_t(self.time_low)?,
                )
            }
            CsvFormat::Ohlcv if interval == Interval::Hour => {
                let open = hour_start(field(self.date))?;
                (open.date_naive(), open, Interval::Hour.close_of(open), None, None)
            }
            CsvFormat::Ohlcv => {
                let day = date(field(self.date))?;
                (day, day_start(day), day_end(day), None, None)
            }
        };
        let price = RawPrice {
            symbol,
            ts: match interval {
                Interval::Day => day_end(day),
                Interval::Hour => time_close,
            },
            time_open,
            time_close,
            time_high,
            time_low,
            open: Some(num(self.open)?),
            high: Some(num(self.high)?),
            low: Some(num(self.low)?),
            close: Some(num(self.close)?),
            volume: opt_num(self.volume)?,
            market_cap: opt_num(self.market_cap)?,
            source: format.source(),
            source_file: Some(file.to_string()),
        };
        let name = self.name.map(|i| rec[i].to_string()).filter(|n| !n.is_empty());
        Ok((price, name))
    }
}

fn number((column, text): (String, &str)) -> Result<f64, FieldError> {
    if text.is_empty() {
        return Err((column, "empty; a number is required".into()));
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err((column, format!("'{text}' is not a finite number"))),
        Err(_) => Err((column, format!("'{text}' is not a number"))),
    }
}

fn instant((column, text): (String, &str)) -> Result<DateTime<Utc>, FieldError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| (column, format!("'{text}' is not an ISO 8601 time ({e})")))
}

/// The start of an hour from a date-time (2024-03-01 13:00, 2024-03-01T13:00:00, RFC 3339) or a
/// Unix time in seconds or milliseconds; a time inside an hour is refused (is it its start or
/// its end?).
fn hour_start((column, text): (String, &str)) -> Result<DateTime<Utc>, FieldError> {
    let naive = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
    .map(|t| t.and_utc());
    let unix = || {
        let n = text.parse::<i64>().ok()?;
        if n.abs() >= 100_000_000_000 {
            DateTime::from_timestamp_millis(n)
        } else {
            DateTime::from_timestamp(n, 0)
        }
    };
    let t = naive
        .or_else(|| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })
        .or_else(unix)
        .ok_or_else(|| {
            (
                column.clone(),
                format!("'{text}' is not a date and time (expected YYYY-MM-DD HH:MM)"),
            )
        })?;
    if t.timestamp_millis().rem_euclid(3_600_000) != 0 {
        return Err((column, format!("'{text}' is not the start of an hour")));
    }
    Ok(t)
}

/// A day from a date (2021-02-27), a date-time (2021-02-27 23:59:59, RFC 3339) or a Unix time in
/// seconds or milliseconds.
fn date((column, text): (String, &str)) -> Result<NaiveDate, FieldError> {
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc).date_naive());
    }
    if text.len() > 10
        && matches!(text.as_bytes()[10], b' ' | b'T')
        && let Ok(d) = NaiveDate::parse_from_str(&text[..10], "%Y-%m-%d")
    {
        return Ok(d);
    }
    if let Ok(n) = text.parse::<i64>() {
        let t = if n.abs() >= 100_000_000_000 {
            DateTime::from_timestamp_millis(n)
        } else {
            DateTime::from_timestamp(n, 0)
        };
        if let Some(t) = t {
            return Ok(t.date_naive());
        }
    }
    Err((column, format!("'{text}' is not a date (expected YYYY-MM-DD)")))
}

/// A CSV file as a [`PriceSource`](crate::sources::PriceSource): strict (any bad row is an error).
#[derive(Debug, Clone)]
pub struct CsvSource {
    pub path: std::path::PathBuf,
    pub format: Option<CsvFormat>,
}

#[async_trait::async_trait]
impl crate::sources::PriceSource for CsvSource {
    fn kind(&self) -> SourceKind {
        self.format.unwrap_or(CsvFormat::Ohlcv).source()
    }

    async fn daily(
        &self,
        symbol: &str,
        since: Option<NaiveDate>,
        until: NaiveDate,
    ) -> Result<Vec<RawPrice>, FeatureError> {
        let parsed = parse_csv_file(&self.path, self.format, Some(symbol))?;
        if let Some(e) = parsed.first_error() {
            return Err(e);
        }
        Ok(within(
            parsed.rows.into_iter().map(|r| r.price).collect(),
            since,
            until,
        ))
    }
}
