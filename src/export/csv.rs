//! CSV output: numbers in plain decimal, timestamps RFC 3339 UTC, and text cells
//! escaped so that a spreadsheet never runs them as formulas.

use crate::forecast::Forecast;
use crate::time::push_rfc3339;
use std::io::{self, Write};

/// The column label of a level: `80` for 80.0, `99.5` for 99.5.
pub fn level_label(level: f64) -> String {
    crate::series::unit::plain_number(level)
}

/// The header of the forecast CSV for these levels:
/// `timestamp,series,forecast,lower_80,upper_80,lower_95,upper_95` for 80 and 95.
pub fn forecast_header(levels: &[f64]) -> String {
    let mut h = String::from("timestamp,series,forecast");
    for l in levels {
        let l = level_label(*l);
        h.push_str(&format!(",lower_{l},upper_{l}"));
    }
    h
}

/// Writes forecasts in the forecast CSV contract: one row per series per step.
///
/// # Errors
/// Only the writer's own I/O errors.
pub fn write_forecasts<W: Write>(mut out: W, forecasts: &[Forecast], levels: &[f64]) -> io::Result<()> {
    writeln!(out, "{}", forecast_header(levels))?;
    let mut line = String::with_capacity(128);
    for f in forecasts {
        let name = text_cell(&f.series);
        for i in 0..f.point.len() {
            line.clear();
            push_rfc3339(&mut line, f.timestamp(i));
            line.push(',');
            line.push_str(&name);
            line.push(',');
            push_number(&mut line, f.point[i]);
            for &l in levels {
                let band = f.band(l);
                line.push(',');
                if let Some(b) = band {
                    push_number(&mut line, b.lower[i]);
                }
                line.push(',');
                if let Some(b) = band {
                    push_number(&mut line, b.upper[i]);
                }
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
    }
    out.flush()
}

/// Writes series in the long form the CSV import reads back:
/// `timestamp,series,value` plus one column per label (the union over all series,
/// sorted; empty where a series lacks the label). Missing slots are left out.
///
/// # Errors
/// Only the writer's own I/O errors.
pub fn write_series_long<W: Write>(mut out: W, series: &[crate::series::Series]) -> io::Result<()> {
    let mut labels: Vec<&str> = series.iter().flat_map(|s| s.labels.keys().map(String::as_str)).collect();
    labels.sort_unstable();
    labels.dedup();
    let mut header = String::from("timestamp,series,value");
    for l in &labels {
        header.push(',');
        header.push_str(&text_cell(l));
    }
    writeln!(out, "{header}")?;
    let mut line = String::with_capacity(128);
    for s in series {
        let name = text_cell(&s.name);
        let tail: String = labels.iter().map(|l| format!(",{}", s.labels.get(*l).map(|v| text_cell(v)).unwrap_or_default())).collect();
        for (i, v) in s.values.iter().enumerate() {
            if v.is_nan() {
                continue;
            }
            line.clear();
            push_rfc3339(&mut line, s.timestamp(i));
            line.push(',');
            line.push_str(&name);
            line.push(',');
            push_number(&mut line, *v);
            line.push_str(&tail);
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
    }
    out.flush()
}

/// The header of `headroom runway`'s CSV, and the first columns of the plan's runway.csv.
pub const RUNWAY_HEADER: &str = "series,threshold,median_crossing,earliest_crossing,latest_crossing,breach_probability";

/// One runway row under [`RUNWAY_HEADER`], without its line end: `headroom runway` and the
/// plan's runway.csv write the same numbers the same way. A threshold history already
/// stands past reads 1, crossed now ([`crate::capacity::Crossing::chance`]), as the
/// warning beside it says.
pub fn runway_row(series: &str, c: &crate::capacity::Crossing) -> String {
    let date = |t: Option<i64>| t.map(crate::time::format_rfc3339).unwrap_or_default();
    format!(
        "{},{},{},{},{},{:.4}",
        text_cell(series),
        level_label(c.threshold.value),
        date(c.median_ms),
        date(c.earliest_ms),
        date(c.latest_ms),
        c.chance()
    )
}

/// Writes the plan's runway: one row per series and threshold, [`RUNWAY_HEADER`] and
/// then the threshold's label and the level of the date range (`…,label,level`).
///
/// # Errors
/// Only the writer's own I/O errors.
pub fn write_runway<W: Write>(mut out: W, plan: &crate::plan::Plan) -> io::Result<()> {
    writeln!(out, "{RUNWAY_HEADER},label,level")?;
    for ps in &plan.series {
        for c in &ps.runway {
            writeln!(out, "{},{},{}", runway_row(&ps.series.display_name(), c), text_cell(&c.threshold.label), level_label(c.level))?;
        }
    }
    out.flush()
}

/// Appends a number in plain decimal (never exponent form), or nothing for `NaN`.
pub fn push_number(out: &mut String, v: f64) {
    use std::fmt::Write as _;
    if v.is_finite() {
        // Six decimals keep files stable and small and are finer than any metric needs;
        // below 1e-3 six significant digits instead (a latency in seconds of 3.2e-7 keeps
        // its value); from 1e15 on a double holds no decimals to round (and v * 1e6
        // would overflow near the top of its range).
        let a = v.abs();
        let decimals = if a < 1e-3 { 10f64.powf(5.0 - a.log10().floor()) } else { 1e6 };
        let r = if a >= 1e15 || !decimals.is_finite() { v } else { (v * decimals).round() / decimals };
        let r = if r == 0.0 { 0.0 } else { r }; // no "-0"
        // Below 1e-12 in scientific notation: a band's edge at 5e-324 (a log scale's
        // floor) was written as a 326-character decimal.
        if r != 0.0 && r.abs() < 1e-12 {
            let _ = write!(out, "{r:e}");
        } else {
            let _ = write!(out, "{r}");
        }
    }
}

/// Appends a total summed from many small parts (instance-hours, cost): as
/// [`push_number`], to twelve significant digits above 1e5 (down to whole units), so
/// that the sum's float noise is not written as a figure (138239999.999999
/// instance-hours for 138240000). Values passed through stay as [`push_number`] has them.
pub fn push_total(out: &mut String, v: f64) {
    let a = v.abs();
    if (1e5..1e15).contains(&a) {
        let scale = 10f64.powf(11.0 - a.log10().floor()).max(1.0);
        push_number(out, (v * scale).round() / scale);
    } else {
        push_number(out, v);
    }
}

/// A text cell made safe for CSV and spreadsheets: quoted when it holds a delimiter,
/// quote or newline; prefixed with `'` when it would start a formula (`=`, `+`, `-`, `@`,
/// tab or carriage return).
pub fn text_cell(s: &str) -> String {
    let guarded = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    if guarded.contains([',', '"', '\n', '\r']) { format!("\"{}\"", guarded.replace('"', "\"\"")) } else { guarded }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_value_at_every_magnitude() {
        let cell = |v: f64| {
            let mut s = String::new();
            push_number(&mut s, v);
            s
        };
        assert_eq!(cell(12.345_678_9), "12.345679");
        assert_eq!(cell(-0.000_000_1), "-0.0000001");
        assert_eq!(cell(3.2e-7), "0.00000032");
        assert_eq!(cell(5e-324), "5e-324", "not 326 characters");
        assert_eq!(cell(-1.234_567_8e-15), "-1.23457e-15");
        assert_eq!(cell(1e-12), "0.000000000001");
        assert_eq!(cell(1234.0), "1234");
        // Passed through: an epoch-seconds metric keeps its milliseconds.
        assert_eq!(cell(1_767_225_600.123), "1767225600.123");
        // A total's float noise is not a figure; whole units are kept at any size.
        let total = |v: f64| {
            let mut s = String::new();
            push_total(&mut s, v);
            s
        };
        assert_eq!(total(138_239_999.999_999_7), "138240000");
        assert_eq!(total(335_999_999.999_997), "336000000");
        assert_eq!(total(123_456.123_456_7), "123456.123457");
        assert_eq!(total(1_099_511_627_776.0), "1099511627776");
        assert_eq!(total(12.345_678_9), "12.345679");
        // Near the top of the range the value is kept, not turned into inf by the rounding.
        assert_eq!(cell(1e307).parse::<f64>().unwrap(), 1e307);
        assert_eq!(cell(f64::NAN), "");
    }

    #[test]
    fn escapes_formulas_and_quotes() {
        assert_eq!(text_cell("=cmd()"), "'=cmd()");
        assert_eq!(text_cell("a,b"), "\"a,b\"");
        assert_eq!(text_cell("plain"), "plain");
        assert_eq!(forecast_header(&[80.0, 95.0]), "timestamp,series,forecast,lower_80,upper_80,lower_95,upper_95");
        let mut s = String::new();
        push_number(&mut s, 1e21);
        assert!(!s.contains('e'), "{s}");
    }
}

/// Writes the per-step replay of every outcome as CSV:
/// `scenario,timestamp,part,demand,instances,ready,served,unserved,utilisation`.
///
/// # Errors
/// Only the writer's own I/O errors.
pub fn write_steps_csv<W: std::io::Write>(mut out: W, outcomes: &[crate::simulate::Outcome]) -> std::io::Result<()> {
    writeln!(out, "scenario,timestamp,part,demand,instances,ready,served,unserved,utilisation")?;
    let mut line = String::new();
    for o in outcomes {
        let name = text_cell(&o.name);
        for (i, s) in o.steps.iter().enumerate() {
            line.clear();
            line.push_str(&name);
            line.push(',');
            crate::time::push_rfc3339(&mut line, s.t_ms);
            line.push_str(if i < o.forecast_start { ",history," } else { ",forecast," });
            for (k, v) in [s.demand, s.instances, s.ready, s.served, s.unserved, s.utilisation].into_iter().enumerate() {
                if k > 0 {
                    line.push(',');
                }
                push_number(&mut line, v);
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
    }
    out.flush()
}

/// Writes one row per scenario: cost per month, instance-hours, minutes over target and
/// over capacity, scaling events, saturation probability, and which is recommended.
///
/// # Errors
/// Only the writer's own I/O errors.
pub fn write_summary_csv<W: std::io::Write>(
    mut out: W,
    outcomes: &[crate::simulate::Outcome],
    recommended: Option<usize>,
    within_budget: bool,
) -> std::io::Result<()> {
    writeln!(
        out,
        "scenario,policy,cost_per_month,instance_hours,minutes_over_target,minutes_over_capacity,scaling_events,saturation_probability,expected_minutes_over_target,recommended"
    )?;
    for (i, o) in outcomes.iter().enumerate() {
        let mut line = format!("{},{},", text_cell(&o.name), o.policy);
        for (k, v) in [o.cost_per_month, o.instance_hours, o.minutes_over_target, o.minutes_over_capacity].into_iter().enumerate() {
            if k > 0 {
                line.push(',');
            }
            push_total(&mut line, v);
        }
        line.push_str(&format!(",{},", o.scaling_events));
        push_number(&mut line, o.saturation_probability);
        line.push(',');
        push_number(&mut line, o.expected_minutes_over_target);
        line.push(',');
        line.push_str(crate::simulate::Standing::of(i, recommended, within_budget).word());
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}
