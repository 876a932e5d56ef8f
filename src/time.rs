//! Timestamps: parsing the forms metric exports use, formatting RFC 3339 UTC, durations.
//!
//! All times inside Headroom are UTC milliseconds since the Unix epoch (`i64`).
//! Parsing is hand-written for speed (an import may hold tens of millions of rows);
//! named time zones go through `jiff`.

use jiff::tz::TimeZone;

/// Milliseconds in a second, minute, hour, day and week.
pub const SECOND_MS: i64 = 1_000;
/// Milliseconds in a minute.
pub const MINUTE_MS: i64 = 60 * SECOND_MS;
/// Milliseconds in an hour.
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
/// Milliseconds in a day.
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// Milliseconds in a week.
pub const WEEK_MS: i64 = 7 * DAY_MS;
/// The earliest instant Headroom accepts: 1000-01-01T00:00:00Z.
pub const EARLIEST_MS: i64 = -30_610_224_000_000;
/// The latest instant Headroom accepts: 9999-12-31T23:59:59.999Z.
pub const LATEST_MS: i64 = 253_402_300_799_999;
/// The longest grid step Headroom accepts: a year.
pub const MAX_STEP_MS: i64 = 366 * DAY_MS;
/// The step of a series read on calendar months: a month's mean length (the Gregorian
/// year's 365.2425 days over twelve). Slots of such a grid lie on the calendar, each a
/// month after the one before ([`slot_time`]); durations and horizons count this length.
/// A 31-day step put monthly values up to 15 days off and the twelfth forecast month on
/// the 23rd of the month before.
pub const MONTH_MS: i64 = 2_629_746_000;

/// A year as a duration is read and written (`1y`): 365 days.
pub const YEAR_DAYS_MS: i64 = 365 * DAY_MS;

/// The time of slot `i` of a grid from `start_ms` at `step_ms`: `i` steps on, or `i`
/// calendar months on for a step of [`MONTH_MS`], at the same time of day and on the
/// same day of the month (the month's last day where it is shorter), or on each month's
/// last day when the grid starts on one: month-end values from the 30th of April fall on
/// the 31st of May, not the 30th.
pub fn slot_time(start_ms: i64, step_ms: i64, i: i64) -> i64 {
    let Some(per_step) = months_per_step(step_ms) else {
        return start_ms.saturating_add(i.saturating_mul(step_ms));
    };
    let i = i.saturating_mul(per_step);
    let (days, time) = (start_ms.div_euclid(DAY_MS), start_ms.rem_euclid(DAY_MS));
    let (y, m, d) = civil_from_days(days);
    let months = y.saturating_mul(12).saturating_add(m - 1).saturating_add(i);
    let month_end = d == days_in_month(y, m);
    let (y, m) = (months.div_euclid(12), months.rem_euclid(12) + 1);
    let day = if month_end { days_in_month(y, m) } else { d.min(days_in_month(y, m)) };
    days_from_civil(y, m, day).saturating_mul(DAY_MS).saturating_add(time)
}

/// The weekday (0 = Monday) of the day that holds `ms` (UTC, or a wall clock read as
/// UTC): 1970-01-01 was a Thursday.
pub fn weekday(ms: i64) -> u8 {
    ((ms.div_euclid(DAY_MS) + 3).rem_euclid(7)) as u8
}

/// True when `zone` changes its offset within the coming year (daylight saving): a
/// month-by-month look from now.
pub fn changes_offset(zone: &jiff::tz::TimeZone) -> bool {
    let year = 365 * DAY_MS;
    let now = jiff::Timestamp::now();
    let offset = |ms: i64| jiff::Timestamp::from_millisecond(now.as_millisecond() + ms).map_or(0, |t| zone.to_offset(t).seconds());
    (0..12).any(|k| offset(k * year / 12) != offset(0))
}

/// The slot of a grid from `start_ms` at `step_ms` nearest to `t_ms` (it may be negative
/// or past the grid's end): whole steps, or calendar months for [`MONTH_MS`].
pub fn nearest_slot(start_ms: i64, step_ms: i64, t_ms: i64) -> i64 {
    let Some(per_step) = months_per_step(step_ms) else {
        return (t_ms - start_ms + step_ms / 2).div_euclid(step_ms);
    };
    let k = (month_index(t_ms) - month_index(start_ms)).div_euclid(per_step);
    [k - 1, k, k + 1, k + 2].into_iter().min_by_key(|&j| (slot_time(start_ms, step_ms, j) - t_ms).abs()).unwrap_or(k)
}

/// Calendar months a step of `step_ms` stands for: 1 for [`MONTH_MS`], 3 for quarters,
/// 6 and 12 for half and whole years (their mean lengths); `None` for any other step.
pub fn months_per_step(step_ms: i64) -> Option<i64> {
    CALENDAR_MONTHS.into_iter().map(|c| c.months).find(|m| step_ms == m * MONTH_MS)
}

/// A step of whole calendar months and the days such a span can last.
#[derive(Debug, Clone, Copy)]
pub struct CalendarMonths {
    /// Months a step.
    pub months: i64,
    /// The fewest days so many consecutive months last.
    pub shortest_days: i64,
    /// The most.
    pub longest_days: i64,
}

/// The steps of whole months a grid may take ([`months_per_step`]): a month (28 to 31
/// days), a quarter (89 to 92), half a year (181 to 184), a year (365 or 366).
pub const CALENDAR_MONTHS: [CalendarMonths; 4] = [
    CalendarMonths { months: 1, shortest_days: 28, longest_days: 31 },
    CalendarMonths { months: 3, shortest_days: 89, longest_days: 92 },
    CalendarMonths { months: 6, shortest_days: 181, longest_days: 184 },
    CalendarMonths { months: 12, shortest_days: 365, longest_days: 366 },
];

/// Months since year 0 of the UTC month holding `ms` (January 1970 is 23,640).
pub fn month_index(ms: i64) -> i64 {
    let (y, m, _) = civil_from_days(ms.div_euclid(DAY_MS));
    y * 12 + m - 1
}

/// UTC milliseconds of the 1st of month `index` ([`month_index`]) at 00:00.
pub fn month_start(index: i64) -> i64 {
    days_from_civil(index.div_euclid(12), index.rem_euclid(12) + 1, 1) * DAY_MS
}

/// The 1st of each month at 00:00 UTC from `from_ms` to `to_ms` (both included) whose
/// month index is a multiple of `every` (1; 3 for quarters; 12 for years), at most 2,000:
/// where a long time axis is marked.
pub fn month_starts(from_ms: i64, to_ms: i64, every: i64) -> Vec<i64> {
    let every = every.max(1);
    (month_index(from_ms)..=month_index(to_ms))
        .filter(|k| k.rem_euclid(every) == 0)
        .map(month_start)
        .filter(|t| (from_ms..=to_ms).contains(t))
        .take(2000)
        .collect()
}

/// Short English month names, January first: tick labels.
const MONTH_NAMES: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// The short name of month `m` (1 to 12, clamped).
pub fn month_name(m: i64) -> &'static str {
    MONTH_NAMES[(m - 1).clamp(0, 11) as usize]
}

/// The month of UTC time `ms` with its year, as a month mark reads it: `Mar 2026`.
pub fn month_label(ms: i64) -> String {
    let (y, m, _) = civil_from_days(ms.div_euclid(DAY_MS));
    format!("{} {y}", month_name(m))
}

/// The greatest common divisor (of steps and ticks; 0 with 0 is 0).
pub fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a.abs() } else { gcd(b, a % b) }
}

/// True when `ms` lies between [`EARLIEST_MS`] and [`LATEST_MS`].
pub fn in_range(ms: i64) -> bool {
    (EARLIEST_MS..=LATEST_MS).contains(&ms)
}

/// Checks a regular grid of `len` slots from `start_ms` at `step_ms`: the step within
/// 1 ms to a year and every slot between the years 1000 and 9999.
///
/// # Errors
/// What is wrong, for a message that names the field.
pub fn check_grid(start_ms: i64, step_ms: i64, len: usize) -> Result<(), String> {
    if !(1..=MAX_STEP_MS).contains(&step_ms) {
        return Err(format!("step_ms must be 1 ms to a year ({MAX_STEP_MS}), got {step_ms}"));
    }
    let end = i64::try_from(len).ok().and_then(|n| n.checked_mul(step_ms)).and_then(|d| start_ms.checked_add(d));
    // Calendar months: the last slot's own time (months of 28 to 31 days).
    let end = if months_per_step(step_ms).is_some() { end.map(|_| slot_time(start_ms, step_ms, len as i64)) } else { end };
    if !in_range(start_ms) || !end.is_some_and(in_range) {
        return Err(format!("start_ms {start_ms} with {len} slots of {step_ms} ms lies outside the years 1000 to 9999"));
    }
    Ok(())
}

/// The textual form a timestamp was written in. A column must use one form throughout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// `2026-01-05T10:15:00Z` or with an offset such as `+02:00`.
    Rfc3339,
    /// `2026-01-05 10:15:00[.fff]` or `2026-01-05T10:15:00` with no offset: a wall-clock
    /// time in the import's time zone (UTC unless one is given).
    Naive,
    /// Unix epoch seconds (integer or fractional).
    EpochSeconds,
    /// Unix epoch milliseconds.
    EpochMillis,
}

impl TimeFormat {
    /// A human name for messages.
    pub fn describe(self) -> &'static str {
        match self {
            TimeFormat::Rfc3339 => "RFC 3339 with an offset",
            TimeFormat::Naive => "a date-time without offset",
            TimeFormat::EpochSeconds => "Unix epoch seconds",
            TimeFormat::EpochMillis => "Unix epoch milliseconds",
        }
    }
}

/// Epoch values at or above this magnitude are milliseconds (1e11 s is the year 5138,
/// 1e11 ms is March 1973).
const EPOCH_MS_THRESHOLD: f64 = 1e11;

/// The later of the two instants a wall-clock time without offset names when `zone`'s
/// clocks go back over it (the repeated hour of an autumn change), as UTC milliseconds;
/// `None` for any other time or form. [`parse_timestamp`] gives the earlier one; a file
/// whose rows go back in time at such a cell meant the later ([`crate::import`]).
pub fn fold_later(text: &str, zone: &TimeZone) -> Option<i64> {
    let dt: jiff::civil::DateTime = text.trim().replacen(' ', "T", 1).parse().ok()?;
    let amb = zone.to_ambiguous_timestamp(dt);
    match amb.offset() {
        jiff::tz::AmbiguousOffset::Fold { .. } => amb.later().ok().map(|t| t.as_millisecond()),
        _ => None,
    }
}

/// Parses one timestamp cell. Returns the UTC milliseconds and the form it was in.
///
/// `zone` applies to forms without an offset. The error is a short reason fit to
/// follow the cell's location.
pub fn parse_timestamp(text: &str, zone: &TimeZone) -> Result<(i64, TimeFormat), String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("timestamp is empty".into());
    }
    let b = s.as_bytes();
    if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        return parse_iso(s, zone);
    }
    if b.iter().all(|c| c.is_ascii_digit() || *c == b'.' || *c == b'-' || *c == b'e' || *c == b'E' || *c == b'+') {
        let v: f64 = s.parse().map_err(|_| format!("\"{s}\" is not a timestamp"))?;
        if !v.is_finite() {
            return Err(format!("\"{s}\" is not a timestamp"));
        }
        return if v.abs() >= EPOCH_MS_THRESHOLD {
            Ok((v.round() as i64, TimeFormat::EpochMillis))
        } else {
            Ok(((v * 1000.0).round() as i64, TimeFormat::EpochSeconds))
        };
    }
    Err(format!("\"{s}\" is not a timestamp (expected RFC 3339, YYYY-MM-DD HH:MM:SS or Unix epoch)"))
}

fn digits(b: &[u8], from: usize, n: usize) -> Option<i64> {
    let mut v: i64 = 0;
    for i in from..from + n {
        let c = *b.get(i)?;
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

fn parse_iso(s: &str, zone: &TimeZone) -> Result<(i64, TimeFormat), String> {
    let bad = || format!("\"{s}\" is not a timestamp (expected RFC 3339, YYYY-MM-DD HH:MM:SS or Unix epoch)");
    let b = s.as_bytes();
    let year = digits(b, 0, 4).ok_or_else(bad)?;
    let month = digits(b, 5, 2).ok_or_else(bad)?;
    let day = digits(b, 8, 2).ok_or_else(bad)?;
    let (mut hour, mut minute, mut second, mut millis) = (0, 0, 0, 0);
    let mut i = 10;
    if i < b.len() {
        if b[i] != b'T' && b[i] != b' ' && b[i] != b't' {
            return Err(bad());
        }
        hour = digits(b, i + 1, 2).ok_or_else(bad)?;
        if b.get(i + 3) != Some(&b':') {
            return Err(bad());
        }
        minute = digits(b, i + 4, 2).ok_or_else(bad)?;
        i += 6;
        if b.get(i) == Some(&b':') {
            second = digits(b, i + 1, 2).ok_or_else(bad)?;
            i += 3;
            if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
                i += 1;
                let start = i;
                let mut frac: i64 = 0;
                let mut scale = 0;
                while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
                    if scale < 3 {
                        frac = frac * 10 + i64::from(c - b'0');
                        scale += 1;
                    }
                    i += 1;
                }
                if i == start {
                    return Err(bad());
                }
                while scale < 3 {
                    frac *= 10;
                    scale += 1;
                }
                millis = frac;
            }
        }
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
        return Err(format!("\"{s}\" is not a valid date-time"));
    }
    let second = second.min(59); // a leap second folds onto :59
    let local = days_from_civil(year, month, day) * DAY_MS + hour * HOUR_MS + minute * MINUTE_MS + second * SECOND_MS + millis;
    // Offset: Z, ±HH:MM, ±HHMM, ±HH, or " UTC".
    let rest = s.get(i..).unwrap_or("").trim();
    if rest.is_empty() {
        if zone == &TimeZone::UTC {
            return Ok((local, TimeFormat::Naive));
        }
        return local_to_utc(year, month, day, hour, minute, second, millis, zone).map(|t| (t, TimeFormat::Naive)).ok_or_else(bad);
    }
    if rest.eq_ignore_ascii_case("z") || rest.eq_ignore_ascii_case("utc") {
        return Ok((local, TimeFormat::Rfc3339));
    }
    let rb = rest.as_bytes();
    let sign = match rb.first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err(bad()),
    };
    let oh = digits(rb, 1, 2).ok_or_else(bad)?;
    let om = match rb.len() {
        3 => 0,
        5 => digits(rb, 3, 2).ok_or_else(bad)?,
        6 if rb[3] == b':' => digits(rb, 4, 2).ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    if oh > 23 || om > 59 {
        return Err(bad());
    }
    Ok((local - sign * (oh * HOUR_MS + om * MINUTE_MS), TimeFormat::Rfc3339))
}

#[allow(clippy::too_many_arguments)]
fn local_to_utc(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, ms: i64, zone: &TimeZone) -> Option<i64> {
    let dt = jiff::civil::DateTime::new(
        i16::try_from(y).ok()?,
        i8::try_from(mo).ok()?,
        i8::try_from(d).ok()?,
        i8::try_from(h).ok()?,
        i8::try_from(mi).ok()?,
        i8::try_from(s).ok()?,
        i32::try_from(ms * 1_000_000).ok()?,
    )
    .ok()?;
    let ts = zone.to_ambiguous_timestamp(dt).compatible().ok()?;
    Some(ts.as_millisecond())
}

/// Looks up a time zone by IANA name (`Europe/Berlin`) or `UTC`.
pub fn zone(name: &str) -> Result<TimeZone, String> {
    if name.eq_ignore_ascii_case("utc") || name == "Z" {
        return Ok(TimeZone::UTC);
    }
    TimeZone::get(name).map_err(|e| format!("unknown time zone \"{name}\": {e}"))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month, day) of a count of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Formats UTC milliseconds as RFC 3339 (`2026-01-05T10:15:00Z`; milliseconds only when
/// not zero).
pub fn format_rfc3339(ms: i64) -> String {
    let mut s = String::with_capacity(24);
    push_rfc3339(&mut s, ms);
    s
}

/// Appends the RFC 3339 form of `ms` to `out` (no allocation beyond `out`'s growth).
pub fn push_rfc3339(out: &mut String, ms: i64) {
    use std::fmt::Write;
    let days = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, milli) = (rem / HOUR_MS, rem % HOUR_MS / MINUTE_MS, rem % MINUTE_MS / SECOND_MS, rem % SECOND_MS);
    let _ = write!(out, "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    if milli != 0 {
        let _ = write!(out, ".{milli:03}");
    }
    out.push('Z');
}

/// A short human form: `2026-01-05 10:15 UTC`.
pub fn format_short(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / HOUR_MS, rem % HOUR_MS / MINUTE_MS)
}

/// Where times are shown: in UTC (the default, as every export writes them) or in a
/// time zone such as the system's.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Clock {
    /// Coordinated Universal Time.
    #[default]
    Utc,
    /// A time zone, with the name shown for it.
    Zone(TimeZone),
}

impl Clock {
    /// The system's local time zone (UTC when it cannot be found).
    pub fn local() -> Clock {
        Clock::Zone(TimeZone::system())
    }

    /// The offset from UTC at `ms`, in milliseconds (0 for UTC).
    pub fn offset_ms(&self, ms: i64) -> i64 {
        match self {
            Clock::Utc => 0,
            Clock::Zone(z) => jiff::Timestamp::from_millisecond(ms).map_or(0, |t| i64::from(z.to_offset(t).seconds()) * SECOND_MS),
        }
    }

    /// `2026-01-05 11:15 CET`: as [`format_short`], in this clock's zone.
    pub fn short(&self, ms: i64) -> String {
        match self {
            Clock::Utc => format_short(ms),
            Clock::Zone(z) => match jiff::Timestamp::from_millisecond(ms) {
                Ok(t) => t.to_zoned_datetime(z.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string(),
                Err(_) => format_short(ms),
            },
        }
    }
}

/// Parses a duration such as `5m`, `2d`, `1h30m`, `90s`, `2w`, `500ms`.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let mut total: i64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let n_end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if n_end == 0 {
            return Err(format!("\"{s}\" is not a duration (try 5m, 2h, 7d, 2w)"));
        }
        let n: i64 = rest[..n_end].parse().map_err(|_| format!("\"{s}\" is too large"))?;
        rest = &rest[n_end..];
        let u_end = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = match &rest[..u_end] {
            "ms" => 1,
            "s" => SECOND_MS,
            "m" => MINUTE_MS,
            "h" => HOUR_MS,
            "d" => DAY_MS,
            "w" => WEEK_MS,
            // A month: the calendar's mean month ([`MONTH_MS`]), so that `18mo` is
            // eighteen months of a monthly series ("m" is a minute, as in Prometheus).
            // Thirty days made `70mo` 69 months.
            "mo" => MONTH_MS,
            "y" => YEAR_DAYS_MS,
            "" => return Err(format!("\"{s}\" needs a unit (ms, s, m, h, d, w, mo, y)")),
            other => {
                return Err(format!("\"{other}\" in \"{s}\" is not a duration unit (ms, s, m for minutes, h, d, w, mo for months, y)"));
            }
        };
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(|| format!("\"{s}\" is too large"))?;
        rest = &rest[u_end..];
    }
    Ok(total)
}

/// Parses an instant as the command line takes it: `now`, a relative `-30d` (before
/// `now_ms`), RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC) or Unix seconds.
///
/// # Errors
/// None of those forms.
pub fn parse_instant(text: &str, now_ms: i64) -> Result<i64, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("now") {
        return Ok(now_ms);
    }
    if let Some(rel) = t.strip_prefix('-').filter(|r| r.chars().last().is_some_and(|c| c.is_ascii_alphabetic())) {
        return parse_duration(rel).map(|d| now_ms - d).map_err(|e| format!("\"{t}\": {e}"));
    }
    match parse_timestamp(t, &TimeZone::UTC) {
        Ok((ms, TimeFormat::EpochMillis)) => Ok(ms),
        Ok((ms, _)) => Ok(ms),
        Err(_) => Err(format!("\"{t}\" is not a time: use now, -30d, RFC 3339 or Unix seconds")),
    }
}

#[cfg(test)]
mod clock_tests {
    use super::*;

    #[test]
    fn a_zone_clock_shows_wall_time_with_its_abbreviation() {
        // 2026-01-05 10:15 UTC is 11:15 in Berlin (CET, +1 h) and, in July, 12:15 (CEST, +2 h).
        let berlin = Clock::Zone(zone("Europe/Berlin").unwrap());
        let jan = days_from_civil(2026, 1, 5) * DAY_MS + 10 * HOUR_MS + 15 * MINUTE_MS;
        assert_eq!(Clock::Utc.short(jan), "2026-01-05 10:15 UTC");
        assert_eq!(berlin.short(jan), "2026-01-05 11:15 CET");
        assert_eq!(berlin.offset_ms(jan), HOUR_MS);
        let jul = days_from_civil(2026, 7, 5) * DAY_MS + 10 * HOUR_MS;
        assert_eq!(berlin.short(jul), "2026-07-05 12:00 CEST");
        assert_eq!(berlin.offset_ms(jul), 2 * HOUR_MS);
        assert_eq!(Clock::Utc.offset_ms(jul), 0);
    }
}

/// The current time in UTC milliseconds.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Formats a duration in ms compactly: `5m`, `1d`, `2h30m`.
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = ms.abs();
    if ms < 0 {
        out.push('-');
    }
    // Whole months (a monthly grid's steps, horizons and spans): months and years.
    if rest % MONTH_MS == 0 {
        let (years, months) = (rest / MONTH_MS / 12, rest / MONTH_MS % 12);
        if years > 0 {
            out.push_str(&format!("{years}y"));
        }
        if months > 0 {
            out.push_str(&format!("{months}mo"));
        }
        return out;
    }
    // Whole years of 365 days, as `parse_duration` reads "1y": "1y", not "52w1d".
    if rest % YEAR_DAYS_MS == 0 {
        return format!("{out}{}y", rest / YEAR_DAYS_MS);
    }
    for (unit, name) in [(WEEK_MS, "w"), (DAY_MS, "d"), (HOUR_MS, "h"), (MINUTE_MS, "m"), (SECOND_MS, "s"), (1, "ms")] {
        if rest >= unit {
            out.push_str(&format!("{}{name}", rest / unit));
            rest %= unit;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_supported_forms() {
        let utc = TimeZone::UTC;
        let t = 1_767_608_100_000; // 2026-01-05T10:15:00Z
        assert_eq!(parse_timestamp("2026-01-05T10:15:00Z", &utc), Ok((t, TimeFormat::Rfc3339)));
        assert_eq!(parse_timestamp("2026-01-05T12:15:00+02:00", &utc), Ok((t, TimeFormat::Rfc3339)));
        assert_eq!(parse_timestamp("2026-01-05 10:15:00", &utc), Ok((t, TimeFormat::Naive)));
        assert_eq!(parse_timestamp("2026-01-05 10:15:00.250", &utc), Ok((t + 250, TimeFormat::Naive)));
        assert_eq!(parse_timestamp("1767608100", &utc), Ok((t, TimeFormat::EpochSeconds)));
        assert_eq!(parse_timestamp("1767608100000", &utc), Ok((t, TimeFormat::EpochMillis)));
        assert!(parse_timestamp("2026-13-05 10:15:00", &utc).is_err());
        assert!(parse_timestamp("yesterday", &utc).is_err());
    }

    #[test]
    fn naive_times_use_the_given_zone() {
        let berlin = zone("Europe/Berlin").unwrap();
        let (t, _) = parse_timestamp("2026-01-05 11:15:00", &berlin).unwrap();
        assert_eq!(format_rfc3339(t), "2026-01-05T10:15:00Z");
    }

    #[test]
    fn formats_and_round_trips() {
        for ms in [0, 1_767_608_100_000, 951_782_400_000, -86_400_000] {
            let s = format_rfc3339(ms);
            assert_eq!(parse_timestamp(&s, &TimeZone::UTC).unwrap().0, ms, "{s}");
        }
        assert_eq!(format_rfc3339(1_767_608_100_000), "2026-01-05T10:15:00Z");
    }

    #[test]
    fn instants() {
        let now = 1_767_608_100_000;
        assert_eq!(parse_instant("now", now), Ok(now));
        assert_eq!(parse_instant("-30d", now), Ok(now - 30 * DAY_MS));
        assert_eq!(parse_instant("1767608100", now), Ok(now));
        assert_eq!(parse_instant("2026-01-05T10:15:00Z", now), Ok(now));
        assert!(parse_instant("yesterday", now).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2d"), Ok(2 * DAY_MS));
        assert_eq!(parse_duration("1h30m"), Ok(90 * MINUTE_MS));
        assert_eq!(parse_duration("1mo"), Ok(MONTH_MS), "the mean month; 1m is a minute");
        assert_eq!(parse_duration("120mo"), Ok(10 * 12 * MONTH_MS));
        assert!(parse_duration("2x").is_err());
        assert!(parse_duration("5").is_err());
        assert_eq!(format_duration(90 * MINUTE_MS), "1h30m");
        assert_eq!(format_duration(MONTH_MS), "1mo");
        assert_eq!(format_duration(12 * MONTH_MS), "1y", "twelve mean months are the Gregorian year, 365.2425 days");
        assert_eq!(12 * MONTH_MS, 31_556_952_000);
        assert_eq!(format_duration(18 * MONTH_MS), "1y6mo");
        // "1y" reads as 365 days and writes back the same way (a monthly plan's title page
        // said "forecast horizon 52w1d").
        assert_eq!(parse_duration("1y"), Ok(365 * DAY_MS));
        assert_eq!(format_duration(365 * DAY_MS), "1y");
        assert_eq!(format_duration(730 * DAY_MS), "2y");
        assert_eq!(format_duration(366 * DAY_MS), "52w2d");
    }

    /// Calendar months, worked from the calendar: 2026 is no leap year, 2028 is.
    #[test]
    fn monthly_slots_lie_on_the_calendar() {
        let at = |y, m, d, h| days_from_civil(y, m, d) * DAY_MS + h * HOUR_MS;
        let jan1 = at(2026, 1, 1, 0);
        assert_eq!(slot_time(jan1, MONTH_MS, 1), at(2026, 2, 1, 0));
        assert_eq!(slot_time(jan1, MONTH_MS, 12), at(2027, 1, 1, 0));
        assert_eq!(slot_time(jan1, MONTH_MS, -1), at(2025, 12, 1, 0));
        let jan15 = at(2026, 1, 15, 10);
        assert_eq!(slot_time(jan15, MONTH_MS, 13), at(2027, 2, 15, 10), "time of day and day of month kept");
        // The 31st: the last day of each month; month ends stay month ends.
        let jan31 = at(2026, 1, 31, 0);
        assert_eq!(slot_time(jan31, MONTH_MS, 1), at(2026, 2, 28, 0));
        assert_eq!(slot_time(jan31, MONTH_MS, 2), at(2026, 3, 31, 0));
        assert_eq!(slot_time(jan31, MONTH_MS, 25), at(2028, 2, 29, 0));
        let apr30 = at(2026, 4, 30, 0);
        assert_eq!(slot_time(apr30, MONTH_MS, 1), at(2026, 5, 31, 0));
        assert_eq!(slot_time(apr30, MONTH_MS, 2), at(2026, 6, 30, 0));
        // The 29th of a month that is not its last day: kept on the 29th where it can be.
        let jun29 = at(2026, 6, 29, 0);
        assert_eq!(slot_time(jun29, MONTH_MS, 8), at(2027, 2, 28, 0), "clamped to February's length");
        assert_eq!(slot_time(jun29, MONTH_MS, 9), at(2027, 3, 29, 0), "and back on the 29th");
        // Nearest slots: the 14th of February is 13 days after the 1st, 15 before March's.
        assert_eq!(nearest_slot(jan1, MONTH_MS, at(2026, 2, 14, 0)), 1);
        assert_eq!(nearest_slot(jan1, MONTH_MS, at(2026, 2, 16, 0)), 2);
        assert_eq!(nearest_slot(jan1, MONTH_MS, at(2026, 3, 2, 0)), 2);
        assert_eq!(nearest_slot(jan1, MONTH_MS, at(2025, 12, 10, 0)), -1);
        assert_eq!(nearest_slot(jan1, MONTH_MS, at(2025, 12, 30, 0)), 0, "two days before, not 29 after");
        // Any other step: whole steps.
        assert_eq!(slot_time(jan1, HOUR_MS, 5), jan1 + 5 * HOUR_MS);
        assert_eq!(nearest_slot(jan1, HOUR_MS, jan1 + 5 * HOUR_MS + 29 * MINUTE_MS), 5);
        assert!(check_grid(jan1, MONTH_MS, 36).is_ok());
        // Quarters and years: three and twelve calendar months a step.
        assert_eq!(slot_time(jan1, 3 * MONTH_MS, 3), at(2026, 10, 1, 0));
        assert_eq!(slot_time(jan31, 3 * MONTH_MS, 1), at(2026, 4, 30, 0), "a month end stays one");
        assert_eq!(slot_time(jan1, 12 * MONTH_MS, 2), at(2028, 1, 1, 0));
        assert_eq!(nearest_slot(jan1, 3 * MONTH_MS, at(2026, 9, 28, 0)), 3, "three days before October");
        assert_eq!(nearest_slot(jan1, 3 * MONTH_MS, at(2026, 5, 1, 0)), 1, "a month after April, two before July");
        assert_eq!(months_per_step(3 * MONTH_MS), Some(3));
        assert_eq!(months_per_step(91 * DAY_MS), None);
    }
}
