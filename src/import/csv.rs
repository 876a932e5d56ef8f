//! CSV import with polars.
//!
//! Accepted layouts (the header decides):
//! - long: `timestamp,value` or `timestamp,series,value`; any other column is a label;
//! - wide: `timestamp,<series A>,<series B>,…` (also Grafana's panel CSV, whose time
//!   column is `Time`).
//!
//! Timestamps may be RFC 3339 (`Z` or an offset), `YYYY-MM-DD HH:MM:SS[.fff]` (in the
//! given time zone, UTC by default) or Unix epoch seconds or milliseconds (told apart by
//! magnitude); one column must use one form. Delimiters `,` `;` and tab are detected;
//! a UTF-8 BOM is skipped; empty cells, `NaN` and `null` are missing values.
//!
//! polars does the bulk parsing. When it rejects the file, a second, slower pass over
//! the raw records finds the exact line and column to report.

use super::Import;
use crate::error::{Error, Location, Result};
use crate::series::{Series, Unit};
use crate::time::{TimeFormat, parse_timestamp};
use jiff::tz::TimeZone;
use polars::prelude::{CsvParseOptions, CsvReadOptions, DataFrame, DataType, Field, NullValues, Schema, SerReader};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

/// Options for reading a CSV file.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// Time zone for timestamps written without an offset.
    pub time_zone: TimeZone,
    /// Only keep series whose name equals this.
    pub series: Option<String>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { time_zone: TimeZone::UTC, series: None }
    }
}

/// Reads a CSV file of metric history.
///
/// # Errors
/// An unreadable file, or bad content, with file, line and column.
pub fn read_csv(path: &Path, options: &CsvOptions) -> Result<Import> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "series".into());
    parse_csv(&bytes, &Location::file(path), &stem, options)
}

/// Names that mark the time column (compared case-insensitively).
const TIME_NAMES: [&str; 7] = ["timestamp", "time", "ts", "date", "datetime", "_time", "time_stamp"];
/// Names that mark the value column of the long form.
const VALUE_NAMES: [&str; 3] = ["value", "_value", "val"];
/// Names that mark the series column of the long form.
const SERIES_NAMES: [&str; 5] = ["series", "metric", "name", "__name__", "_field"];
/// Cells read as missing.
const NULLS: [&str; 8] = ["", "NaN", "nan", "NAN", "null", "NULL", "None", "N/A"];

/// Where a quoted field opens that is still open at the end of `bytes` (line and column,
/// 1-based), following RFC 4180: a quote opens a field only at its start, and `""` inside
/// a quoted field is a literal quote.
fn unterminated_quote(bytes: &[u8]) -> Option<(u64, u64)> {
    let (mut line, mut col) = (1u64, 0u64);
    let mut open: Option<(u64, u64)> = None;
    let mut at_field_start = true;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        col += 1;
        match open {
            Some(_) if b == b'"' => {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1;
                    col += 1;
                } else {
                    open = None;
                }
            }
            Some(_) => {}
            None if b == b'"' && at_field_start => open = Some((line, col)),
            None => {}
        }
        if b == b'\n' {
            line += 1;
            col = 0;
        }
        at_field_start = open.is_none() && matches!(b, b'\n' | b',' | b';' | b'\t');
        i += 1;
    }
    open
}

/// A quote polars' reader would misread. Its line splitter counts every `"`, wherever it
/// stands, while its field parser opens a quoted field only at the start of a field: when
/// the two disagree on whether a line break is inside quotes, the parser reads past the
/// end of its buffer (polars-io 0.55.2 `csv/read/parser.rs:1154`; found by fuzzing:
/// `a,b"\n"\0\n"` and `a,b\n\t"\0\n"`). Returns where the first quote inside a field
/// stands, or where the last unpaired quote opens.
fn stray_quote(bytes: &[u8], sep: u8) -> Option<(u64, u64)> {
    let (mut line, mut col) = (1u64, 0u64);
    let mut rfc_open = false; // a quoted field as RFC 4180 reads it
    let mut toggled: Option<(u64, u64)> = None; // every quote opens or closes
    let mut first_stray: Option<(u64, u64)> = None;
    let mut at_field_start = true;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        col += 1;
        if b == b'"' {
            toggled = if toggled.is_some() { None } else { Some((line, col)) };
            if rfc_open {
                if bytes.get(i + 1) == Some(&b'"') {
                    // An escaped quote: two toggles, still inside.
                    i += 1;
                    col += 1;
                    toggled = if toggled.is_some() { None } else { Some((line, col)) };
                } else {
                    rfc_open = false;
                }
            } else if at_field_start {
                rfc_open = true;
            } else if first_stray.is_none() {
                first_stray = Some((line, col));
            }
        }
        if b == b'\n' {
            if rfc_open != toggled.is_some() {
                return toggled.or(first_stray);
            }
            line += 1;
            col = 0;
        }
        at_field_start = !rfc_open && (b == b'\n' || b == sep);
        i += 1;
    }
    toggled.map(|t| first_stray.unwrap_or(t))
}

/// The layout of the file, decided from the header.
#[derive(Debug, Clone)]
enum Layout {
    /// One row per (time, series); `series` names the series column if any.
    Long { value: usize, series: Option<usize>, labels: Vec<usize> },
    /// One column per series.
    Wide { columns: Vec<usize> },
}

/// Parses CSV bytes. `source` names the file in errors; `default_name` names a series
/// that the file does not name (the `timestamp,value` form).
///
/// # Errors
/// Bad content, with line and column.
pub fn parse_csv(bytes: &[u8], source: &Location, default_name: &str, options: &CsvOptions) -> Result<Import> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes);
    let err = |line: u64, col: Option<u64>, msg: String| Error::parse(source.at(line, col), msg);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(err(1, None, "the file is empty: expected a header such as timestamp,value".into()));
    }
    if std::str::from_utf8(bytes).is_err() {
        let (line, col) = first_invalid_utf8(bytes);
        return Err(err(line, Some(col), "the file is not UTF-8 text".into()));
    }
    // polars-io 0.55.2 reads past the end of its buffer (`csv/read/parser.rs:1154`,
    // an unchecked slice index) on a quoted field that never closes, as a download cut off
    // inside a quote leaves it: such a file never reaches polars.
    if let Some((line, col)) = unterminated_quote(bytes) {
        return Err(err(line, Some(col), "a quoted field starts here and never ends (was the file cut off?)".into()));
    }
    let header_end = bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len());
    let header_line = trim_cr(&bytes[..header_end]);
    let sep = detect_delimiter(header_line);
    if let Some((line, col)) = stray_quote(bytes, sep) {
        return Err(err(
            line,
            Some(col),
            "a quote inside a field, which the CSV reader would take as the start of a quoted field: quote the whole field (doubling the quote) or remove it".into(),
        ));
    }
    let header: Vec<String> = split_record(header_line, sep).into_iter().map(|h| h.trim().to_string()).collect();
    if header.len() < 2 {
        return Err(err(
            1,
            None,
            format!(
                "found one column (\"{}\"): expected a timestamp column and at least one value column, separated by ',', ';' or tab",
                header.first().map_or("", |s| s.as_str())
            ),
        ));
    }
    let mut seen = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        if name.is_empty() {
            return Err(err(1, Some(i as u64 + 1), "a column has no name".into()));
        }
        if let Some(j) = seen.insert(name.to_ascii_lowercase(), i) {
            return Err(err(1, Some(i as u64 + 1), format!("column \"{name}\" appears twice (also column {})", j + 1)));
        }
    }
    // Row-to-line mapping is only needed for errors: built on first use.
    let records = RecordIndex::new(bytes, sep);

    let find = |names: &[&str]| header.iter().position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)));
    let time_col = find(&TIME_NAMES).unwrap_or(0);
    let layout = match find(&VALUE_NAMES) {
        Some(value) if value != time_col => {
            let series = find(&SERIES_NAMES).filter(|s| *s != time_col && *s != value);
            let labels = (0..header.len()).filter(|i| *i != time_col && *i != value && Some(*i) != series).collect();
            Layout::Long { value, series, labels }
        }
        _ => Layout::Wide { columns: (0..header.len()).filter(|i| *i != time_col).collect() },
    };
    let numeric: Vec<usize> = match &layout {
        Layout::Long { value, .. } => vec![*value],
        Layout::Wide { columns } => columns.clone(),
    };
    let schema: Schema = header
        .iter()
        .enumerate()
        .map(|(i, name)| Field::new(name.as_str().into(), if numeric.contains(&i) { DataType::Float64 } else { DataType::String }))
        .collect();
    let df = read_frame(bytes, sep, schema).map_err(|polars_err| {
        records
            .locate_bad_cell(&numeric, header.len())
            .map(|(line, col, msg)| err(line, Some(col), msg))
            .unwrap_or_else(|| err(1, None, format!("could not read the file: {}", polars_summary(&polars_err))))
    })?;
    match df.height() {
        0 => return Err(err(2, None, "the file has a header but no data rows".into())),
        1 => {
            let msg = "the file has only one data row: at least two timestamps are needed to infer the step";
            return Err(err(records.line_of(0), None, msg.into()));
        }
        _ => {}
    }

    // Timestamps, one form per column.
    let times_col =
        df.column(header[time_col].as_str()).and_then(|c| c.str()).map_err(|e| err(1, Some(time_col as u64 + 1), e.to_string()))?;
    let mut parsed: Vec<(&str, i64, TimeFormat)> = Vec::with_capacity(df.height());
    let mut form: Option<(TimeFormat, usize)> = None;
    for (row, cell) in times_col.iter().enumerate() {
        let at = |msg: String| err(records.line_of(row), Some(time_col as u64 + 1), msg);
        let cell = cell.ok_or_else(|| at("the timestamp is empty".into()))?;
        let (t, f) = parse_timestamp(cell, &options.time_zone).map_err(at)?;
        match form {
            None => form = Some((f, row)),
            Some((first, first_row)) if first != f => {
                return Err(at(format!(
                    "mixed timestamp formats: \"{cell}\" is {}, but line {} uses {}",
                    f.describe(),
                    records.line_of(first_row),
                    first.describe()
                )));
            }
            _ => {}
        }
        parsed.push((cell, t, f));
    }
    // A wall-clock time in the hour the clocks go back over comes twice; where the rows go
    // back in time at it, the file means its second coming. A file written newest first
    // meets that hour in reverse, so its rows are read oldest first for this: read in
    // file order, its first run through the hour (the later one) was taken for the
    // earlier and fell on the same instants as the second.
    let steps_back = parsed.windows(2).filter(|w| w[1].1 < w[0].1).count();
    let steps_on = parsed.windows(2).filter(|w| w[1].1 > w[0].1).count();
    let newest_first = steps_back > steps_on;
    let order: Vec<usize> = if newest_first { (0..parsed.len()).rev().collect() } else { (0..parsed.len()).collect() };
    // One row per time (wide, or one series in long form): the same wall time twice in
    // a row can only be the repeated hour; in long form rows share their times.
    let one_row_per_time = match &layout {
        Layout::Wide { .. } => true,
        Layout::Long { series, labels, .. } => series.is_none() && labels.is_empty(),
    };
    let mut times = vec![0i64; parsed.len()];
    let mut latest = i64::MIN;
    for row in order {
        let (cell, mut t, f) = parsed[row];
        // Only a step back of half an hour to an hour, as the clocks' return makes in data
        // of 30-minute steps or finer, or the same wall time again, as it makes in hourly
        // data (02:00 CEST, then 02:00 CET): two rows swapped within the hour are not a
        // fold, and a long-form file grouped by series goes back to its start at each new
        // series, and starts afresh there.
        let back = latest.saturating_sub(t);
        if ((back == 0 && one_row_per_time) || (crate::time::HOUR_MS / 2..=crate::time::HOUR_MS).contains(&back))
            && f == TimeFormat::Naive
            && let Some(later) = crate::time::fold_later(cell, &options.time_zone)
        {
            t = later;
        }
        latest = if t < latest.saturating_sub(crate::time::HOUR_MS) { t } else { latest.max(t) };
        times[row] = t;
    }
    let mut import = Import::default();
    let col_values = |i: usize| -> Result<Vec<f64>> {
        let c = df.column(header[i].as_str()).and_then(|c| c.f64()).map_err(|e| err(1, Some(i as u64 + 1), e.to_string()))?;
        let v: Vec<f64> = c.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
        if v.iter().all(|x| x.is_nan()) {
            return Err(err(1, Some(i as u64 + 1), format!("column \"{}\" has no values: every cell is empty or NaN", header[i])));
        }
        Ok(v)
    };
    let mut push = |name: String, labels: BTreeMap<String, String>, points: Vec<(i64, f64)>| -> Result<()> {
        if options.series.as_ref().is_some_and(|wanted| *wanted != name) {
            return Ok(());
        }
        let unit = Unit::infer(&name);
        let (series, warnings) = Series::from_points(name, labels, unit, points).map_err(|e| match e {
            Error::Series { series, message } => Error::parse(source.clone(), format!("series \"{series}\" {message}")),
            other => other,
        })?;
        import.series.push(series);
        import.warnings.extend(warnings);
        Ok(())
    };
    match &layout {
        Layout::Wide { columns } => {
            for &c in columns {
                let values = col_values(c)?;
                push(header[c].clone(), BTreeMap::new(), times.iter().copied().zip(values).collect())?;
            }
        }
        Layout::Long { value, series, labels } => {
            let values = col_values(*value)?;
            let text_col =
                |i: usize| df.column(header[i].as_str()).and_then(|c| c.str()).map_err(|e| err(1, Some(i as u64 + 1), e.to_string()));
            let series_col = series.map(text_col).transpose()?;
            let label_cols: Vec<_> = labels.iter().map(|&i| text_col(i).map(|c| (header[i].clone(), c))).collect::<Result<_>>()?;
            // Group rows by (name, labels), keeping first-seen order. The key is built in
            // one reused buffer, so a row allocates only when it starts a new group.
            let mut groups: Vec<(String, BTreeMap<String, String>, Vec<(i64, f64)>)> = Vec::new();
            let mut index: HashMap<String, usize> = HashMap::new();
            let mut key = String::new();
            for row in 0..df.height() {
                let name = match &series_col {
                    Some(c) => c
                        .get(row)
                        .ok_or_else(|| err(records.line_of(row), series.map(|s| s as u64 + 1), "the series name is empty".into()))?,
                    None => default_name,
                };
                key.clear();
                key.push_str(name);
                for (_, c) in &label_cols {
                    key.push('\u{1f}');
                    key.push_str(c.get(row).unwrap_or("\u{0}"));
                }
                let g = match index.get(key.as_str()) {
                    Some(&g) => g,
                    None => {
                        let labels = label_cols.iter().filter_map(|(k, c)| c.get(row).map(|v| (k.clone(), v.to_string()))).collect();
                        groups.push((name.to_string(), labels, Vec::new()));
                        index.insert(key.clone(), groups.len() - 1);
                        groups.len() - 1
                    }
                };
                groups[g].2.push((times[row], values[row]));
            }
            for (name, labels, points) in groups {
                push(name, labels, points)?;
            }
        }
    }
    if import.series.is_empty() {
        let wanted = options.series.as_deref().unwrap_or("");
        return Err(Error::parse(source.clone(), format!("no series named \"{wanted}\" in the file")));
    }
    Ok(import)
}

fn read_frame(bytes: &[u8], sep: u8, schema: Schema) -> polars::prelude::PolarsResult<DataFrame> {
    let nulls = NullValues::AllColumns(NULLS.iter().map(|s| (*s).into()).collect());
    CsvReadOptions::default()
        .with_has_header(true)
        .with_schema(Some(Arc::new(schema)))
        .with_parse_options(CsvParseOptions::default().with_separator(sep).with_null_values(Some(nulls)))
        .into_reader_with_file_handle(std::io::Cursor::new(bytes))
        .finish()
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Picks the delimiter that splits the header into the most fields (outside quotes).
fn detect_delimiter(header: &[u8]) -> u8 {
    [b',', b';', b'\t'].into_iter().max_by_key(|&d| (split_record(header, d).len(), d == b',')).unwrap_or(b',')
}

/// Splits one record into fields, honouring double quotes (`""` is a literal quote).
/// A cell as an error message shows it: quoted, its first line only, at most 40
/// characters (a quoted cell can run for hundreds of lines).
fn shown_cell(cell: &str) -> String {
    let first = cell.lines().next().unwrap_or("");
    let mut shown: String = first.chars().take(40).collect();
    if shown.len() < cell.len() {
        shown.push('…');
    }
    format!("{shown:?}")
}

/// The first line of a polars error, without its advice for the Python API.
fn polars_summary(e: &dyn std::fmt::Display) -> String {
    let text = e.to_string();
    let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("unknown error");
    first.chars().take(200).collect()
}

fn split_record(line: &[u8], sep: u8) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = Vec::new();
    let mut in_quotes = false;
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        if in_quotes {
            if c == b'"' {
                if line.get(i + 1) == Some(&b'"') {
                    cur.push(b'"');
                    i += 1;
                } else {
                    in_quotes = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == b'"' {
            in_quotes = true;
        } else if c == sep {
            fields.push(String::from_utf8_lossy(&cur).into_owned());
            cur.clear();
        } else {
            cur.push(c);
        }
        i += 1;
    }
    fields.push(String::from_utf8_lossy(&cur).into_owned());
    fields
}

fn first_invalid_utf8(bytes: &[u8]) -> (u64, u64) {
    let valid = std::str::from_utf8(bytes).err().map_or(bytes.len(), |e| e.valid_up_to());
    let before = &bytes[..valid];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    (line, (valid - line_start) as u64 + 1)
}

/// The byte ranges and line numbers of the data records (blank lines skipped), for
/// mapping a row back to its line.
struct RecordIndex<'a> {
    bytes: &'a [u8],
    sep: u8,
    /// (start, end, 1-based line) of each data record after the header, built on first use.
    records: std::cell::OnceCell<Vec<(usize, usize, u64)>>,
}

impl<'a> RecordIndex<'a> {
    fn new(bytes: &'a [u8], sep: u8) -> Self {
        RecordIndex { bytes, sep, records: std::cell::OnceCell::new() }
    }

    fn records(&self) -> &[(usize, usize, u64)] {
        self.records.get_or_init(|| Self::scan(self.bytes))
    }

    fn scan(bytes: &[u8]) -> Vec<(usize, usize, u64)> {
        let mut records = Vec::new();
        let mut in_quotes = false;
        let mut start = 0;
        let mut line: u64 = 1;
        let mut start_line = 1;
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'"' {
                in_quotes = !in_quotes;
            } else if b == b'\n' {
                line += 1;
                if !in_quotes {
                    records.push((start, i, start_line));
                    start = i + 1;
                    start_line = line;
                }
            }
        }
        if start < bytes.len() {
            records.push((start, bytes.len(), start_line));
        }
        // Drop the header and blank lines.
        records.into_iter().skip(1).filter(|&(s, e, _)| !trim_cr(&bytes[s..e]).iter().all(|b| *b == b' ' || *b == b'\t')).collect()
    }

    /// The 1-based line of data row `row` (0-based).
    fn line_of(&self, row: usize) -> u64 {
        self.records().get(row).map_or(1, |r| r.2)
    }

    /// Finds the first cell polars would reject: a wrong field count or a non-number
    /// in a numeric column.
    fn locate_bad_cell(&self, numeric: &[usize], width: usize) -> Option<(u64, u64, String)> {
        for &(s, e, line) in self.records() {
            let fields = split_record(trim_cr(&self.bytes[s..e]), self.sep);
            if fields.len() != width {
                let col = fields.len().min(width) as u64 + if fields.len() > width { 1 } else { 0 };
                return Some((line, col.max(1), format!("expected {width} fields, found {}", fields.len())));
            }
            for &c in numeric {
                let raw = fields[c].as_str();
                let cell = raw.trim();
                if NULLS.contains(&cell) {
                    continue;
                }
                if cell.parse::<f64>().is_err() {
                    return Some((line, c as u64 + 1, format!("{} is not a number", shown_cell(cell))));
                }
                // A number followed by spaces (`"17 "`): polars' float parser refuses them.
                if raw.trim_end() != raw {
                    return Some((line, c as u64 + 1, format!("{} is not a number: remove the spaces after it", shown_cell(raw))));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Import> {
        parse_csv(text.as_bytes(), &Location::file(Path::new("web.csv")), "web", &CsvOptions::default())
    }

    #[test]
    fn reads_long_form() {
        let imp = parse("timestamp,value\n2026-01-05T10:00:00Z,1\n2026-01-05T10:05:00Z,2\n2026-01-05T10:10:00Z,3\n").unwrap();
        assert_eq!(imp.series.len(), 1);
        assert_eq!(imp.series[0].name, "web");
        assert_eq!(imp.series[0].values, vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn bad_number_names_line_and_column() {
        let e = parse("timestamp,value\n2026-01-05T10:00:00Z,1\n2026-01-05T10:05:00Z,abc\n").unwrap_err();
        assert_eq!(e.to_string(), "web.csv:3:2: \"abc\" is not a number");
    }
}

#[cfg(test)]
mod quote_tests {
    use super::unterminated_quote;

    #[test]
    fn an_open_quote_at_the_end_is_found_where_it_opens() {
        assert_eq!(unterminated_quote(b"a,b\n\""), Some((2, 1)));
        assert_eq!(unterminated_quote(b"t,v\n1,\"17\n2,18\n"), Some((2, 3)));
        assert_eq!(unterminated_quote(b"t,v\n1,\"a \"\"q\"\" b\"\n"), None, "escaped quotes inside a field");
        assert_eq!(unterminated_quote(b"t,v\n1,5\"x\n"), None, "a quote inside a bare field is data to RFC 4180");
    }

    #[test]
    fn quotes_polars_would_misread_are_found() {
        use super::stray_quote;
        // Found by fuzzing: both send polars' parser past its buffer.
        assert_eq!(stray_quote(b"a,b\"\n\"\0\n\"", b','), Some((1, 4)));
        assert_eq!(stray_quote(b"a,b\n\t\"\0\n\"", b','), Some((2, 2)));
        assert_eq!(stray_quote(b"a,b\n1,5\"x\n", b','), Some((2, 4)), "an unpaired quote inside a field");
        assert_eq!(stray_quote(b"t,v\n1,\"a \"\"q\"\" b\"\n2,\"x\ny\"\n", b','), None, "escaped quotes and a quoted line break");
        assert_eq!(stray_quote(b"t,v\n1,5\"x\"\n", b','), None, "a pair inside one line is harmless");
    }
}
