//! `Series`: the shared currency of Headroom. A named metric on a regular UTC grid.
//!
//! Raw points (from CSV or Prometheus) become a `Series` through [`Series::from_points`],
//! which sorts, drops duplicate timestamps (the last wins), infers the step, aligns
//! jittered timestamps and turns gaps into missing slots, reporting each as a
//! [`Warning`]. Missing slots hold `NaN`; nothing is ever silently turned into `0.0`.

pub mod unit;

pub use unit::Unit;

use crate::error::{Error, Result};
use crate::time::{format_duration, format_short};
use crate::warning::Warning;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A metric series on a regular grid: `values[i]` is the value at `start_ms + i * step_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// The series' name (a CSV column, a metric name or a `series` cell).
    pub name: String,
    /// Extra labels (Prometheus labels, extra CSV columns). Sorted by key.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// What the values measure.
    #[serde(default)]
    pub unit: Unit,
    /// UTC milliseconds of the first slot.
    pub start_ms: i64,
    /// The grid's step in milliseconds (always > 0).
    pub step_ms: i64,
    /// One value per slot; `NaN` marks a missing slot.
    pub values: Vec<f64>,
}

/// Most slots a series may have after gridding (protects against a stray timestamp
/// decades away turning into billions of empty slots).
const MAX_SLOTS: usize = 200_000_000;

impl Series {
    /// Checks a series read from a file Headroom did not write itself (a plan file):
    /// the grid in range, at least one slot.
    ///
    /// # Errors
    /// What is wrong, naming the field.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.values.is_empty() {
            return Err("values is empty".into());
        }
        crate::time::check_grid(self.start_ms, self.step_ms, self.values.len())
    }

    /// Builds a series from raw `(utc_ms, value)` points in any order. `NaN` values are
    /// missing cells. Returns the series and the warnings about what was repaired.
    ///
    /// # Errors
    /// Fewer than two distinct timestamps, no value at all, or timestamps so scattered
    /// that no regular grid fits them.
    pub fn from_points(
        name: impl Into<String>,
        labels: BTreeMap<String, String>,
        unit: Unit,
        mut points: Vec<(i64, f64)>,
    ) -> Result<(Series, Vec<Warning>)> {
        let name = name.into();
        // Warnings and errors name the series as everything else does, with its labels:
        // two instances of one metric are otherwise told apart by nothing.
        let shown = Series::display_of(&name, &labels);
        let mut warnings = Vec::new();
        if let Some(p) = points.iter().find(|p| !crate::time::in_range(p.0)) {
            return Err(Error::series(&shown, format!("timestamp {} ms lies outside the years 1000 to 9999", p.0)));
        }
        let infinite = points.iter().filter(|p| p.1.is_infinite()).count();
        if infinite > 0 {
            for p in &mut points {
                if p.1.is_infinite() {
                    p.1 = f64::NAN;
                }
            }
            warnings.push(Warning::new(&shown, format!("{infinite} infinite values treated as missing")));
        }
        if !points.windows(2).all(|w| w[0].0 <= w[1].0) {
            let out_of_order = points.windows(2).filter(|w| w[0].0 > w[1].0).count();
            points.sort_by_key(|p| p.0); // stable: among equal times, file order is kept
            warnings.push(Warning::new(&shown, format!("{out_of_order} rows were out of time order and have been sorted")));
        }
        // Duplicates: keep the last value of each timestamp.
        let mut dups: Vec<i64> = Vec::new();
        let mut deduped: Vec<(i64, f64)> = Vec::with_capacity(points.len());
        for p in points {
            match deduped.last_mut() {
                Some(last) if last.0 == p.0 => {
                    dups.push(p.0);
                    *last = p;
                }
                _ => deduped.push(p),
            }
        }
        if !dups.is_empty() {
            dups.dedup();
            warnings.push(Warning::new(
                &shown,
                format!("{} duplicate timestamps, the last value of each kept: {}", dups.len(), list_times(&dups)),
            ));
        }
        let points = deduped;
        let Some(&last) = points.last() else {
            return Err(Error::series(&shown, "has no rows"));
        };
        if points.len() < 2 {
            return Err(Error::series(&shown, "has only one timestamp: at least two are needed to infer the step"));
        }
        if points.iter().all(|p| p.1.is_nan()) {
            return Err(Error::series(&shown, "has no values: every cell is empty or NaN"));
        }
        let unit = unit.refine(&name, &points.iter().map(|p| p.1).collect::<Vec<_>>());
        if unit.may_be_ratio(&name) {
            // Named as a utilisation (not "percent") and kept in percent: say so when the
            // values would all but pass for a 0–1 ratio, a hundredfold either way.
            let (min, max) = points
                .iter()
                .map(|p| p.1)
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
            if min >= 0.0 && max <= 1.5 {
                warnings.push(Warning::new(
                    &shown,
                    format!(
                        "values lie within 0–{max}: read as percent (0.6 is 0.6 %), not as a 0–1 ratio, because more than 1 % of them \
                         lie above 1 or one above {}; if it is a ratio, thresholds in percent will never be reached",
                        crate::series::unit::RATIO_OVERSHOOT
                    ),
                ));
            }
        }
        if unit == Unit::Ratio {
            let over: Vec<f64> = points.iter().map(|p| p.1).filter(|v| *v > 1.0).collect();
            let overshoot = match over.iter().copied().reduce(f64::max) {
                Some(max) => format!("; {} above 1 (up to {max}) read as over 100 %", over.len()),
                None => String::new(),
            };
            warnings.push(Warning::new(
                &shown,
                format!(
                    "values lie within 0–1: read as a utilisation ratio, shown in percent (0.32 is 32 %); thresholds are typed in percent{overshoot}"
                ),
            ));
        }
        let Grid { step_ms, start_ms, median_ms, refined_from } = Grid::of(&points);
        let span = last.0 - start_ms;
        let n = slots_needed(span, step_ms);
        if !slots_within_limits(span, step_ms, points.len()) {
            return Err(Error::series(
                &shown,
                format!(
                    "timestamps from {} to {} at a step of {} would need {n} slots for {} rows: look for a stray timestamp",
                    format_short(start_ms),
                    format_short(last.0),
                    format_duration(step_ms),
                    points.len()
                ),
            ));
        }
        let mut values = vec![f64::NAN; n];
        let mut filled = vec![false; n];
        let mut off_grid = 0usize;
        let mut max_jitter = 0i64;
        let mut collided: Vec<i64> = Vec::new();
        let mut empty_cells = 0usize;
        let mut used = 0usize;
        for &(t, v) in &points {
            let Ok(slot) = usize::try_from(crate::time::nearest_slot(start_ms, step_ms, t)) else {
                continue;
            };
            let Some(cell) = values.get_mut(slot) else {
                continue;
            };
            let jitter = (t - crate::time::slot_time(start_ms, step_ms, slot as i64)).abs();
            if jitter != 0 {
                off_grid += 1;
                max_jitter = max_jitter.max(jitter);
            }
            if filled[slot] {
                collided.push(t);
            }
            filled[slot] = true;
            used = used.max(slot + 1);
            if v.is_nan() {
                empty_cells += 1;
            }
            *cell = v;
        }
        values.truncate(used);
        filled.truncate(used);
        if let Some((coarse, lost)) = refined_from {
            let (step, median, coarse, rows) =
                (format_duration(step_ms), format_duration(median_ms), format_duration(coarse), points.len());
            warnings.push(Warning::new(
                &shown,
                format!(
                    "read on a {step} grid, finer than the timestamps' median step ({median}): on a {coarse} grid {lost} of {rows} points would \
                     have fallen on an already filled slot and been lost; the {step} slots between samples are missing, not lost data, and a \
                     period given in steps counts {step} steps (give it as a duration, e.g. 1d, to mean the same time on any grid)"
                ),
            ));
        }
        if off_grid > 0 {
            let read_as = if median_ms == step_ms || refined_from.is_some() {
                String::new()
            } else {
                format!(" (their median step, {}, read as the calendar's {})", format_duration(median_ms), format_duration(step_ms))
            };
            warnings.push(Warning::new(
                &shown,
                format!(
                    "{off_grid} timestamps were off the {} grid{read_as} by up to {} and were aligned to it",
                    format_duration(step_ms),
                    format_duration(max_jitter)
                ),
            ));
        }
        if !collided.is_empty() {
            warnings.push(Warning::new(
                &shown,
                format!(
                    "{} points fell on an already filled slot after alignment; the later value was kept: {}",
                    collided.len(),
                    list_times(&collided)
                ),
            ));
        }
        let empty_cells = empty_cells.saturating_sub(infinite);
        if empty_cells > 0 {
            warnings.push(Warning::new(&shown, format!("{empty_cells} empty or NaN cells are treated as missing")));
        }
        let series = Series { name, labels, unit, start_ms, step_ms, values };
        let gaps = series.gaps_where(|i| !filled[i]);
        if !gaps.is_empty() {
            let missing: usize = gaps.iter().map(|g| g.1 - g.0).sum();
            let listed: Vec<String> = gaps
                .iter()
                .take(5)
                .map(|&(a, b)| format!("{} to {}", format_short(series.timestamp(a)), format_short(series.timestamp(b - 1))))
                .collect();
            let more = if gaps.len() > 5 { format!(" and {} more", gaps.len() - 5) } else { String::new() };
            warnings.push(Warning::new(
                &shown,
                format!(
                    "{} ({missing} missing {} of {}) left as missing: {}{more}",
                    if gaps.len() == 1 { "1 gap".to_string() } else { format!("{} gaps", gaps.len()) },
                    if missing == 1 { "slot" } else { "slots" },
                    format_duration(step_ms),
                    listed.join(", ")
                ),
            ));
        }
        Ok((series, warnings))
    }

    /// The number of slots.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the series has no slots.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// UTC milliseconds of slot `i` (calendar months for a step of
    /// [`crate::time::MONTH_MS`]).
    pub fn timestamp(&self, i: usize) -> i64 {
        crate::time::slot_time(self.start_ms, self.step_ms, i as i64)
    }

    /// The slot nearest to `t_ms`, when it lies within the series.
    pub fn slot_at(&self, t_ms: i64) -> Option<usize> {
        usize::try_from(crate::time::nearest_slot(self.start_ms, self.step_ms.max(1), t_ms)).ok().filter(|i| *i < self.len())
    }

    /// UTC milliseconds of the last slot.
    pub fn end_ms(&self) -> i64 {
        self.timestamp(self.len().saturating_sub(1))
    }

    /// A name with labels, `name{a="b"}`, as Prometheus prints it.
    pub fn display_name(&self) -> String {
        Series::display_of(&self.name, &self.labels)
    }

    /// [`display_name`](Self::display_name) of a name and labels.
    pub fn display_of(name: &str, labels: &BTreeMap<String, String>) -> String {
        if labels.is_empty() {
            return name.to_string();
        }
        let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        format!("{name}{{{}}}", labels.join(", "))
    }

    /// Number of missing slots.
    pub fn missing(&self) -> usize {
        self.values.iter().filter(|v| v.is_nan()).count()
    }

    /// Runs of missing slots as half-open index ranges.
    pub fn gaps(&self) -> Vec<(usize, usize)> {
        self.gaps_where(|i| self.values[i].is_nan())
    }

    fn gaps_where(&self, missing: impl Fn(usize) -> bool) -> Vec<(usize, usize)> {
        let mut gaps = Vec::new();
        let mut start = None;
        for i in 0..self.len() {
            match (missing(i), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    gaps.push((s, i));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            gaps.push((s, self.len()));
        }
        gaps
    }

    /// The values with interior gaps linearly interpolated and leading/trailing gaps
    /// filled with the nearest value, for models that need a complete series. Returns
    /// the filled values and how many slots were filled.
    pub fn interpolated(&self) -> (Vec<f64>, usize) {
        let mut out = self.values.clone();
        let mut filled = 0;
        let Some(first) = out.iter().position(|v| !v.is_nan()) else {
            return (out, 0);
        };
        let mut prev = first;
        for i in 0..first {
            out[i] = out[first];
            filled += 1;
        }
        for i in first + 1..out.len() {
            if !out[i].is_nan() {
                if i > prev + 1 {
                    let (a, b) = (out[prev], out[i]);
                    let span = (i - prev) as f64;
                    for (k, slot) in out[prev + 1..i].iter_mut().enumerate() {
                        *slot = a + (b - a) * (k + 1) as f64 / span;
                        filled += 1;
                    }
                }
                prev = i;
            }
        }
        for i in prev + 1..out.len() {
            out[i] = out[prev];
            filled += 1;
        }
        (out, filled)
    }

    /// The smallest and largest present value.
    pub fn min_max(&self) -> Option<(f64, f64)> {
        self.values.iter().filter(|v| !v.is_nan()).fold(None, |acc, &v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
    }

    /// The last `n` slots as a new series (used for backtests and regime cuts).
    pub fn tail(&self, n: usize) -> Series {
        let skip = self.len().saturating_sub(n);
        Series { values: self.values[skip..].to_vec(), start_ms: self.timestamp(skip), ..self.clone() }
    }

    /// The first `n` slots as a new series.
    pub fn head(&self, n: usize) -> Series {
        let n = n.min(self.len());
        Series { values: self.values[..n].to_vec(), ..self.clone() }
    }
}

/// Reduces `(x, y)` points to at most about `max` by keeping each bucket's min and max
/// (in time order), so spikes survive. `NaN` values break the line and are kept as gaps.
pub fn decimate(xs: &[f64], ys: &[f64], max: usize) -> Vec<[f64; 2]> {
    let n = xs.len().min(ys.len());
    decimate_by(&ys[..n], |i| xs[i], max)
}

/// [`decimate`] with `x` worked out from the index.
fn decimate_by(ys: &[f64], x: impl Fn(usize) -> f64, max: usize) -> Vec<[f64; 2]> {
    let n = ys.len();
    if n <= max || max < 4 {
        return (0..n).map(|i| [x(i), ys[i]]).collect();
    }
    let buckets = max / 2;
    let size = n.div_ceil(buckets);
    let mut out = Vec::with_capacity(max + 2);
    for start in (0..n).step_by(size) {
        let end = (start + size).min(n);
        let (mut lo, mut hi): (Option<usize>, Option<usize>) = (None, None);
        for (i, &y) in ys.iter().enumerate().take(end).skip(start) {
            if y.is_nan() {
                continue;
            }
            if lo.is_none_or(|l| y < ys[l]) {
                lo = Some(i);
            }
            if hi.is_none_or(|h| y > ys[h]) {
                hi = Some(i);
            }
        }
        match (lo, hi) {
            (Some(a), Some(b)) => {
                let (a, b) = if a <= b { (a, b) } else { (b, a) };
                out.push([x(a), ys[a]]);
                if b != a {
                    out.push([x(b), ys[b]]);
                }
            }
            _ => out.push([x(start), f64::NAN]),
        }
    }
    out
}

impl Series {
    /// The points of `[from_ms, to_ms]` (and one either side, so the line runs to the
    /// edges) as `(seconds, value)`, reduced to each of `columns` buckets' min and max:
    /// what a chart `columns` pixels wide can show, with every peak kept at any zoom.
    pub fn decimate_window(&self, from_ms: f64, to_ms: f64, columns: usize) -> Vec<[f64; 2]> {
        let n = self.len();
        if n == 0 || !(from_ms <= to_ms) || self.step_ms <= 0 {
            return Vec::new();
        }
        let index = |t: f64| (t - self.start_ms as f64) / self.step_ms as f64;
        let first = (index(from_ms).floor() - 1.0).clamp(0.0, (n - 1) as f64) as usize;
        let last = (index(to_ms).ceil() + 1.0).clamp(0.0, (n - 1) as f64) as usize;
        decimate_by(&self.values[first..=last], |i| self.timestamp(first + i) as f64 / 1000.0, 2 * columns.max(2))
    }
}

/// Steps collectors use (ms), each dividing a day: a jittered series' median step is read
/// as the nearest of them ([`Grid::of`]).
const CALENDAR_STEPS_MS: [i64; 30] = {
    use crate::time::{HOUR_MS as H, MINUTE_MS as M, SECOND_MS as S};
    [
        100,
        200,
        250,
        500,
        S,
        2 * S,
        5 * S,
        10 * S,
        15 * S,
        20 * S,
        30 * S,
        M,
        2 * M,
        3 * M,
        4 * M,
        5 * M,
        6 * M,
        10 * M,
        12 * M,
        15 * M,
        20 * M,
        30 * M,
        H,
        2 * H,
        3 * H,
        4 * H,
        6 * H,
        8 * H,
        12 * H,
        crate::time::DAY_MS,
    ]
};

/// How far a value may lie from its calendar month's slot ([`Grid::months`]): four days
/// (values written on the 1st to the 3rd, month ends of 28 to 31 days) ...
const MAX_MONTH_OFFSET_MS: i64 = 4 * crate::time::DAY_MS;

/// ... for all but this share of the values (a stray value mid-month).
const MAX_MONTH_FAR: f64 = 0.1;

/// The calendar months a median step stands for ([`Grid::nearest`]): the step of
/// [`crate::time::CALENDAR_MONTHS`] whose span of days holds it.
fn calendar_months(median_ms: i64) -> Option<i64> {
    use crate::time::DAY_MS;
    crate::time::CALENDAR_MONTHS
        .into_iter()
        .find(|c| (c.shortest_days * DAY_MS..=c.longest_days * DAY_MS).contains(&median_ms))
        .map(|c| c.months)
}

/// How far (relative) a jittered series' median step may lie from a calendar step (or a
/// whole number of days) and be read as it: 5m2s is 5 minutes, 7 minutes is no step of
/// the list (14 % from 6 and 8) and stays 7 minutes.
const STEP_SNAP: f64 = 0.1;

/// The grid raw points are laid on.
struct Grid {
    /// The step (ms).
    step_ms: i64,
    /// The first slot (UTC ms).
    start_ms: i64,
    /// The timestamps' median step (ms), which `step_ms` may have been snapped from.
    median_ms: i64,
    /// Read on a finer step than the median's ([`Grid::of`]): the median's (or its
    /// calendar step's) own step and the points it would have put on filled slots.
    refined_from: Option<(i64, usize)>,
}

impl Grid {
    /// The grid of `points` (sorted, distinct times, at least two): the median step or the
    /// calendar step it stands for ([`Grid::nearest`]), or a finer one where that would
    /// lose many of the points.
    fn of(points: &[(i64, f64)]) -> Grid {
        let (grid, lost) = Grid::nearest(points);
        // Timestamps on a finer step than their median one (a minute's samples with most
        // of them missing, events on minute boundaries, Thanos' 1-minute and 5-minute
        // resolutions together): when the median's grid puts more than [`MIN_REFINE`] of
        // them on filled slots, their common step, or else the coarsest calendar step
        // finer than the median's that puts no more than [`MAX_SNAP_COLLISIONS`] there,
        // down to a [`MAX_REFINE`]th of it. Read every two minutes, a minute's samples
        // with 60 % missing lost 872 of 4,125 points.
        let n = points.len() as f64;
        if lost as f64 <= MIN_REFINE * n {
            return grid;
        }
        // Within the slots a series may have: a finer grid over a retention gap would
        // otherwise turn a series the coarser one reads into an error.
        let span = points[points.len() - 1].0 - points[0].0;
        let coarse = grid.step_ms;
        let fine_enough = |step: i64| {
            step > 0 && step < coarse && step.saturating_mul(MAX_REFINE) >= coarse && slots_within_limits(span, step, points.len())
        };
        let refined = |(g, _): (Grid, usize)| Grid { refined_from: Some((coarse, lost)), ..g };
        // Monthly values with many months missing (a median of two months or more): on
        // calendar months. Half the months of ten years, on the 1st, lost 11 of 51 to a
        // 60-day grid, and the forecast fell on the 14th.
        let month = crate::time::CALENDAR_MONTHS[0];
        if (2 * month.shortest_days * crate::time::DAY_MS..=MAX_REFINE * month.longest_days * crate::time::DAY_MS).contains(&grid.median_ms)
            && let Some(months) = Grid::months(points, 1, grid.median_ms, lost)
        {
            return refined(months);
        }
        let common = points.windows(2).map(|w| w[1].0 - w[0].0).fold(0, crate::time::gcd);
        if fine_enough(common) {
            return refined((Grid { step_ms: common, start_ms: points[0].0, median_ms: grid.median_ms, refined_from: None }, 0));
        }
        CALENDAR_STEPS_MS
            .into_iter()
            .rev()
            .filter(|&s| fine_enough(s))
            .map(|s| Grid::phased(points, s, grid.median_ms))
            .find(|(_, lost)| *lost as f64 <= MAX_SNAP_COLLISIONS * n)
            .map_or(grid, refined)
    }

    /// The grid of the median step, or of the calendar step it stands for, with the points
    /// it puts on filled slots. Timestamps that
    /// all lie on their median step from the first keep that step and start. Jittered ones
    /// (a collector's latency, a loop that drifts) are read on the calendar step nearest
    /// their median step, within [`STEP_SNAP`]: a day's season needs a step that divides
    /// the day, and a 5-minute series jittered by a minute, whose median step came out at
    /// 5m2s, lost its daily season (MASE 2.1 against seasonal naive's 1.2 on eight such
    /// series). Not when the calendar step would put more points on an already filled
    /// slot than the median step does ([`MAX_SNAP_COLLISIONS`]): a collector every 55 s
    /// is no jittered minute. The slots' phase is [`Grid::phased`]'s.
    fn nearest(points: &[(i64, f64)]) -> (Grid, usize) {
        let first = points[0].0;
        let median_ms = median_step(points);
        let exact = Grid { step_ms: median_ms, start_ms: first, median_ms, refined_from: None };
        if points.iter().all(|p| (p.0 - first) % median_ms == 0) {
            return (exact, 0);
        }
        let exact_lost = collisions(points, &exact);
        let allowed = exact_lost + (MAX_SNAP_COLLISIONS * points.len() as f64) as usize;
        // Monthly, quarterly or yearly values (the first of each month, or its last day):
        // calendar months, so many a step ([`Grid::months`]).
        if let Some(months) = calendar_months(median_ms).and_then(|m| Grid::months(points, m, median_ms, exact_lost)) {
            return months;
        }
        let Some(step_ms) = calendar_step(median_ms) else {
            return (exact, exact_lost);
        };
        let (snapped, lost) = Grid::phased(points, step_ms, median_ms);
        if lost > allowed { (exact, exact_lost) } else { (snapped, lost) }
    }

    /// The grid of `per_step` calendar months for `points`, when it puts no more of them
    /// on filled slots than their median step (`exact_lost`) and nearly all within
    /// [`MAX_MONTH_OFFSET_MS`] of their slots: values every 30 days drift through the
    /// months (by 9 days in two years) and are no monthly values. Anchored on the first
    /// point or on the median point (the slot of the first point on the median point's
    /// calendar), whichever loses fewer, leaves fewer far off, then fewer off their slots
    /// at all: a first value on the 15th, or at 22:00 the day before the 1st, put every
    /// slot on the 15th or at month ends at 22:00.
    fn months(points: &[(i64, f64)], per_step: i64, median_ms: i64, exact_lost: usize) -> Option<(Grid, usize)> {
        let step_ms = per_step * crate::time::MONTH_MS;
        let first = points[0].0;
        let median = points[points.len() / 2].0;
        let on_median = crate::time::slot_time(median, step_ms, crate::time::nearest_slot(median, step_ms, first));
        let fit = |start: i64| {
            let grid = Grid { step_ms, start_ms: start, median_ms, refined_from: None };
            let offsets: Vec<i64> = points
                .iter()
                .map(|p| (p.0 - crate::time::slot_time(start, step_ms, crate::time::nearest_slot(start, step_ms, p.0))).abs())
                .collect();
            let far = offsets.iter().filter(|o| **o > MAX_MONTH_OFFSET_MS).count();
            let off = offsets.iter().filter(|o| **o != 0).count();
            let lost = collisions(points, &grid);
            (grid, lost, far, off)
        };
        [fit(first), fit(on_median)]
            .into_iter()
            .filter(|(_, lost, far, _)| *lost <= exact_lost && (*far as f64) <= MAX_MONTH_FAR * points.len() as f64)
            .min_by_key(|(_, lost, far, off)| (*lost, *far, *off))
            .map(|(grid, lost, _, _)| (grid, lost))
    }

    /// The grid of `step_ms` for `points`: on round times (steps of an hour or less), at
    /// the points' median phase or at the first point, whichever puts the fewest points
    /// on filled slots (the earlier on a tie), its slot 0 holding the first point. (The
    /// median of offsets that wrap around is no phase: symmetric jitter of ±2 minutes on
    /// 5 minutes put 359 points on filled slots at it and none on round times.) Longer
    /// steps than an hour take no round times: a day read from local midnights is no UTC
    /// day. With the points it puts on filled slots.
    fn phased(points: &[(i64, f64)], step_ms: i64, median_ms: i64) -> (Grid, usize) {
        let first = points[0].0;
        // Each point's offset from the first point's grid, within half a step either way.
        let mut offsets: Vec<i64> = points
            .iter()
            .map(|p| {
                let r = (p.0 - first).rem_euclid(step_ms);
                if 2 * r > step_ms { r - step_ms } else { r }
            })
            .collect();
        let mid = offsets.len() / 2;
        let median_phase = first + *offsets.select_nth_unstable(mid).1;
        let from_first = |start: i64| {
            let slot = (first - start + step_ms / 2).div_euclid(step_ms);
            Grid { step_ms, start_ms: start + slot * step_ms, median_ms, refined_from: None }
        };
        let round = first - first.rem_euclid(step_ms);
        let candidates =
            [(step_ms <= crate::time::HOUR_MS && crate::time::in_range(round)).then_some(round), Some(median_phase), Some(first)];
        candidates
            .into_iter()
            .flatten()
            .map(|start| {
                let g = from_first(start);
                let lost = collisions(points, &g);
                (g, lost)
            })
            .min_by_key(|(_, lost)| *lost)
            .unwrap_or_else(|| (from_first(first), 0))
    }
}

/// Share of the points on filled slots past which a finer step is looked for
/// ([`Grid::of`]): a 5-minute collector whose samples are now and then late by more than
/// half a step loses a few percent, and is no 1-minute series.
const MIN_REFINE: f64 = 0.1;

/// Share of the points a calendar step may put on an already filled slot beyond those the
/// median step does: a collector a few percent slower than the calendar step (298 s for 5
/// minutes) loses one sample in 150; one 8 % faster (55 s for a minute) lost one in 12.
const MAX_SNAP_COLLISIONS: f64 = 0.02;

/// True when `span_ms` of history at `step_ms` for `rows` rows needs a sane number of
/// slots: at most [`MAX_SLOTS`], and at most 50 a row (and 10,000 more): more is a stray
/// timestamp decades away, not a grid.
fn slots_within_limits(span_ms: i64, step_ms: i64, rows: usize) -> bool {
    let n = slots_needed(span_ms, step_ms);
    n <= MAX_SLOTS && n <= rows.saturating_mul(50).saturating_add(10_000)
}

/// Slots `span_ms` of history takes at `step_ms` (one either end to spare).
fn slots_needed(span_ms: i64, step_ms: i64) -> usize {
    usize::try_from(span_ms / step_ms.max(1)).unwrap_or(usize::MAX).saturating_add(2)
}

/// Most slots a step finer than the median one may make of each: eight (a series with
/// seven in eight slots missing is still one to fit).
const MAX_REFINE: i64 = 8;

/// How many of `points` (sorted) fall on a slot of `grid` an earlier point already took.
fn collisions(points: &[(i64, f64)], grid: &Grid) -> usize {
    let slot = |t: i64| crate::time::nearest_slot(grid.start_ms, grid.step_ms, t);
    points.windows(2).filter(|w| slot(w[0].0) == slot(w[1].0)).count()
}

/// The calendar step `median_ms` is read as: the nearest of [`CALENDAR_STEPS_MS`] or,
/// past a day, the nearest whole number of days, when within [`STEP_SNAP`]; `None` when
/// none is.
fn calendar_step(median_ms: i64) -> Option<i64> {
    let day = crate::time::DAY_MS;
    let days = (median_ms + day / 2) / day * day;
    let nearest = CALENDAR_STEPS_MS.into_iter().chain((days > 0).then_some(days)).min_by_key(|s| (s - median_ms).abs())?;
    ((nearest - median_ms).abs() as f64 <= STEP_SNAP * median_ms as f64).then_some(nearest)
}

/// The median of the positive differences between consecutive timestamps.
fn median_step(points: &[(i64, f64)]) -> i64 {
    let mut diffs: Vec<i64> = points.windows(2).map(|w| w[1].0.saturating_sub(w[0].0)).filter(|d| *d > 0).collect();
    if diffs.is_empty() {
        return 1;
    }
    let mid = diffs.len() / 2;
    let (_, m, _) = diffs.select_nth_unstable(mid);
    (*m).max(1)
}

fn list_times(times: &[i64]) -> String {
    let mut s: Vec<String> = times.iter().take(3).map(|t| format_short(*t)).collect();
    if times.len() > 3 {
        s.push(format!("and {} more", times.len() - 3));
    }
    s.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MINUTE_MS;

    fn pts(ts: &[i64]) -> Vec<(i64, f64)> {
        ts.iter().map(|t| (t * MINUTE_MS, *t as f64)).collect()
    }

    #[test]
    fn sorts_dedups_and_fills_gaps_with_warnings() {
        let mut p = pts(&[0, 5, 10, 30, 35, 20]);
        p.push((10 * MINUTE_MS, 99.0));
        let (s, w) = Series::from_points("cpu", BTreeMap::new(), Unit::Percent, p).unwrap();
        assert_eq!(s.step_ms, 5 * MINUTE_MS);
        assert_eq!(s.len(), 8);
        assert_eq!(s.values[2], 99.0, "last duplicate wins");
        assert!(s.values[3].is_nan() && s.values[5].is_nan());
        assert_eq!(s.values[4], 20.0);
        let text: Vec<String> = w.iter().map(|w| w.to_string()).collect();
        assert!(text.iter().any(|t| t.contains("sorted")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("duplicate")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("2 gaps")), "{text:?}");
        // A labelled series is named with its labels: two instances of one metric are
        // told apart (the gap warning named only the metric).
        let labels = BTreeMap::from([("instance".to_string(), "b".to_string())]);
        let (_, w) = Series::from_points("cpu", labels, Unit::Percent, pts(&[0, 5, 10, 30, 35, 20])).unwrap();
        assert!(!w.is_empty() && w.iter().all(|w| w.series == "cpu{instance=\"b\"}"), "{w:?}");
    }

    /// Monthly values are read on calendar months: every first of the month in its own
    /// slot, exactly (a 31-day grid put them up to 15 days off); month ends on month
    /// ends; values written a day or two late in their own month's slot.
    #[test]
    fn monthly_values_are_read_on_calendar_months() {
        use crate::time::{DAY_MS, HOUR_MS, MONTH_MS, days_from_civil};
        let at = |y: i64, m: i64, d: i64| days_from_civil(y, m, d) * DAY_MS;
        let month = |k: i64| (2023 + k / 12, k % 12 + 1);
        let firsts: Vec<(i64, f64)> = (0..36).map(|k| (at(month(k).0, month(k).1, 1), k as f64)).collect();
        let (s, w) = Series::from_points("disk", BTreeMap::new(), Unit::None, firsts.clone()).unwrap();
        assert_eq!((s.step_ms, s.len()), (MONTH_MS, 36));
        assert!(w.is_empty(), "{w:?}");
        assert!((0..36).all(|k| s.timestamp(k) == firsts[k].0 && s.values[k] == k as f64));
        assert_eq!(s.timestamp(36), at(2026, 1, 1), "the slot after the last: where a forecast starts");

        // Month ends from the 30th of April: the 31st of May, the 29th of February 2024.
        let ends: Vec<(i64, f64)> = (3..27)
            .map(|k| {
                let (ny, nm) = month(k + 1);
                (at(ny, nm, 1) - DAY_MS, k as f64)
            })
            .collect();
        let (s, w) = Series::from_points("disk", BTreeMap::new(), Unit::None, ends.clone()).unwrap();
        assert_eq!((s.step_ms, s.start_ms, s.len()), (MONTH_MS, at(2023, 4, 30), 24));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(s.timestamp(10), at(2024, 2, 29));

        // Written on the 1st to the 3rd, at 06:00: each in its own month, said so.
        let late: Vec<(i64, f64)> = (0..24).map(|k| (at(month(k).0, month(k).1, 1 + k % 3) + 6 * HOUR_MS, k as f64)).collect();
        let (s, w) = Series::from_points("disk", BTreeMap::new(), Unit::None, late).unwrap();
        assert_eq!((s.step_ms, s.len()), (MONTH_MS, 24));
        assert!(s.values.iter().enumerate().all(|(k, v)| *v == k as f64));
        let said = |text: &str| w.iter().any(|w| w.to_string().contains(text));
        assert!(said("16 timestamps were off the 1mo grid (their median step, 4w3d, read as the calendar's 1mo) by up to 2d"), "{w:?}");

        // Quarters from the 1st of January: three months a step, on the calendar.
        let quarters: Vec<(i64, f64)> = (0..12).map(|k| (at(2020 + k / 4, 3 * (k % 4) + 1, 1), k as f64)).collect();
        let (s, w) = Series::from_points("disk", BTreeMap::new(), Unit::None, quarters.clone()).unwrap();
        assert_eq!((s.step_ms, s.len()), (3 * MONTH_MS, 12));
        assert!(w.is_empty(), "{w:?}");
        assert!((0..12).all(|k| s.timestamp(k) == quarters[k].0));
        assert_eq!(s.timestamp(12), at(2023, 1, 1));

        // A first value on the 15th, the rest on the 1st: the grid is on the 1st.
        let mut stray: Vec<(i64, f64)> = firsts.clone();
        stray[0].0 = at(2023, 1, 15);
        let (s, _) = Series::from_points("disk", BTreeMap::new(), Unit::None, stray).unwrap();
        assert_eq!((s.step_ms, s.timestamp(1), s.timestamp(36)), (MONTH_MS, at(2023, 2, 1), at(2026, 1, 1)));
        // Half the months missing (every other month and then some, on the 1st): the
        // median step is two months, and a grid of it would drop values; calendar months
        // keep every one in its own month, with a warning that the grid is finer.
        let sparse: Vec<(i64, f64)> = firsts.iter().enumerate().filter(|(k, _)| k % 2 == 0 || k % 7 == 0).map(|(_, p)| *p).collect();
        let (s, w) = Series::from_points("disk", BTreeMap::new(), Unit::None, sparse.clone()).unwrap();
        assert_eq!(s.step_ms, MONTH_MS, "{w:?}");
        assert!(sparse.iter().all(|p| s.slot_at(p.0).is_some_and(|i| s.timestamp(i) == p.0 && s.values[i] == p.1)));
        assert!(!w.iter().any(|w| w.to_string().contains("fell on an already filled slot")), "{w:?}");
        assert!(w.iter().any(|w| w.to_string().contains("read on a 1mo grid, finer than the timestamps' median step")), "{w:?}");

        // A first value at 22:00 the day before the 1st: the grid is on the 1st at 00:00.
        let mut early: Vec<(i64, f64)> = firsts.clone();
        early[0].0 = at(2022, 12, 31) + 22 * HOUR_MS;
        let (s, _) = Series::from_points("disk", BTreeMap::new(), Unit::None, early).unwrap();
        assert_eq!((s.timestamp(1), s.timestamp(36)), (at(2023, 2, 1), at(2026, 1, 1)));
        // Every 30 days, jittered by up to two hours: no monthly values (they drift through
        // the months), 30 days they stay.
        let drift: Vec<(i64, f64)> = (0..60).map(|k| (at(2020, 1, 1) + k * 30 * DAY_MS + (k * 37 % 5) * 1_800_000, 1.0)).collect();
        let (s, _) = Series::from_points("disk", BTreeMap::new(), Unit::None, drift).unwrap();
        assert_ne!(s.step_ms, MONTH_MS);

        // Every 30 days is no month: 30 days it stays (the 13th value would share a month).
        let thirty: Vec<(i64, f64)> = (0..24).map(|k| (at(2023, 1, 1) + k * 30 * DAY_MS, 1.0)).collect();
        let (s, _) = Series::from_points("disk", BTreeMap::new(), Unit::None, thirty).unwrap();
        assert_eq!(s.step_ms, 30 * DAY_MS);
    }

    #[test]
    fn jittered_timestamps_are_read_on_the_calendar_step_they_stand_for() {
        use crate::time::{HOUR_MS, SECOND_MS};
        // A collector every 5 minutes from 01:00 with 0–10 s of latency, every ninth
        // sample lost: each point belongs to its own 5-minute slot, on round times.
        let latency = |k: i64| (k * 7 % 11) * SECOND_MS;
        let kept: Vec<i64> = (0..1000).filter(|k| k % 9 != 8).collect();
        let p: Vec<(i64, f64)> = kept.iter().map(|&k| (HOUR_MS + k * 5 * MINUTE_MS + latency(k), k as f64)).collect();
        let (s, _) = Series::from_points("rps", BTreeMap::new(), Unit::None, p).unwrap();
        assert_eq!((s.step_ms, s.start_ms, s.len()), (5 * MINUTE_MS, HOUR_MS, 1000));
        assert!((0..1000).all(|k| if k % 9 == 8 { s.values[k].is_nan() } else { s.values[k] == k as f64 }));

        // A loop that sleeps 5 minutes and works 2–3 s: the timestamps' median step is
        // 5m3s (302 s plus latency 1, 1, −2 in turn), which divides no day; read as 5
        // minutes, a day is 288 slots. The points drift through the slots; their median
        // phase is within a quarter step of 00:00, where the grid starts. The last point, at
        // 301,705 s, is in slot 1,006.
        let p: Vec<(i64, f64)> = (0..1000).map(|k| ((7 + 302 * k + k % 3) * SECOND_MS, k as f64)).collect();
        let (s, w) = Series::from_points("rps", BTreeMap::new(), Unit::None, p).unwrap();
        assert_eq!((s.step_ms, s.start_ms, s.len()), (5 * MINUTE_MS, 0, 1007));
        assert!(w.iter().any(|w| w.to_string().contains("their median step, 5m3s, read as the calendar's 5m")), "{w:?}");

        // A collector every 55 s, a second late now and then: a minute's grid would put one
        // point in twelve on a filled slot, so the median step stays.
        let p: Vec<(i64, f64)> = (0..1000).map(|k| ((55 * k + (k % 7 == 0) as i64) * SECOND_MS, 1.0)).collect();
        let (s, _) = Series::from_points("rps", BTreeMap::new(), Unit::None, p).unwrap();
        assert_eq!(s.step_ms, 55 * SECOND_MS);

        // Daily values at New York's midnight (05:00 UTC in winter, 04:00 in summer): a day
        // at their median phase, not at UTC midnight, the evening before.
        let p: Vec<(i64, f64)> =
            (0..200).map(|d: i64| (d * crate::time::DAY_MS + if (60..150).contains(&d) { 4 } else { 5 } * HOUR_MS, 1.0)).collect();
        let (s, _) = Series::from_points("orders", BTreeMap::new(), Unit::None, p).unwrap();
        assert_eq!((s.step_ms, s.start_ms, s.len()), (crate::time::DAY_MS, 5 * HOUR_MS, 200));

        // A minute's samples with most missing (the median step is 2 minutes), and events
        // on minute boundaries 1 to 7 minutes apart: each on its own minute.
        let minutes: Vec<i64> = (0..600).filter(|k| (k * 7919) % 10 < 4).collect();
        let p: Vec<(i64, f64)> = minutes.iter().map(|&k| (k * MINUTE_MS, k as f64)).collect();
        let (s, w) = Series::from_points("rps", BTreeMap::new(), Unit::None, p).unwrap();
        assert_eq!(s.step_ms, MINUTE_MS);
        assert!(minutes.iter().all(|&k| s.values[k as usize - minutes[0] as usize] == k as f64));
        assert!(!w.iter().any(|w| w.to_string().contains("fell on an already filled slot")), "{w:?}");
        let mut at = 0;
        let p: Vec<(i64, f64)> = (0..500i64)
            .map(|k| {
                at += 1 + (k * 37) % 7;
                (at * MINUTE_MS, 1.0)
            })
            .collect();
        let (s, w) = Series::from_points("events", BTreeMap::new(), Unit::None, p).unwrap();
        assert_eq!(s.step_ms, MINUTE_MS);
        assert_eq!(s.values.iter().filter(|v| !v.is_nan()).count(), 500);
        assert!(w.iter().any(|w| w.to_string().contains("read on a 1m grid, finer than the timestamps' median step")), "{w:?}");
        // The same 5-minute series with minute bursts, after a retention gap of two months:
        // a minute's grid would need more slots than the rows allow, so the coarser grid
        // reads it (and the bursts' extra samples are warned about), not an error.
        let mut p: Vec<(i64, f64)> = (0..60).map(|k| (k * 5 * MINUTE_MS, 1.0)).collect();
        let late = 60 * crate::time::DAY_MS;
        p.extend((0..300).map(|k| (late + k * 5 * MINUTE_MS, 1.0)));
        p.extend((0..100).map(|k| (late + 1000 * 5 * MINUTE_MS + k * MINUTE_MS, 1.0)));
        let (s, _) = Series::from_points("bursty", BTreeMap::new(), Unit::None, p).unwrap();
        assert_eq!(s.step_ms, 5 * MINUTE_MS);

        // Exactly every 7 minutes: kept as it is. Jittered about 7 minutes: no calendar
        // step lies within 10 % (6 and 8 minutes are 14 % away), so the median stays.
        let (s, _) = Series::from_points("rps", BTreeMap::new(), Unit::None, pts(&[0, 7, 14, 21, 28])).unwrap();
        assert_eq!((s.step_ms, s.len()), (7 * MINUTE_MS, 5));
        let p: Vec<(i64, f64)> = (0..100).map(|k| (k * 7 * MINUTE_MS + (k % 2) * SECOND_MS, 1.0)).collect();
        let (s, _) = Series::from_points("rps", BTreeMap::new(), Unit::None, p).unwrap();
        assert_eq!(s.step_ms, 7 * MINUTE_MS + SECOND_MS, "the median of 50 steps of 421 s and 49 of 419 s");
    }

    #[test]
    fn decimation_keeps_extremes_and_bounds_size() {
        let xs: Vec<f64> = (0..100_000).map(f64::from).collect();
        let mut ys: Vec<f64> = xs.iter().map(|x| (x / 100.0).sin()).collect();
        ys[54_321] = 50.0;
        let d = decimate(&xs, &ys, 1000);
        assert!(d.len() <= 1002, "{}", d.len());
        assert!(d.iter().any(|p| p[1] == 50.0), "the spike survives");
        assert!(d.windows(2).all(|w| w[0][0] <= w[1][0]), "time order");
    }

    #[test]
    fn a_window_is_decimated_per_column_and_keeps_its_peaks_at_any_zoom() {
        // A million minutes with one spike; a chart 800 columns wide.
        let mut values: Vec<f64> = (0..1_000_000).map(|i| f64::from(i % 60)).collect();
        values[765_432] = 1e6;
        let s = Series { name: "x".into(), labels: BTreeMap::new(), unit: Unit::None, start_ms: 0, step_ms: MINUTE_MS, values };
        let whole = s.decimate_window(0.0, 1e6 * MINUTE_MS as f64, 800);
        assert!(whole.len() <= 1602, "two points a column at most: {}", whole.len());
        assert!(whole.iter().any(|p| p[1] == 1e6), "the spike survives zoomed out");
        // Zoomed in on a day around the spike: every point, the spike at its own minute.
        let at = 765_432.0 * MINUTE_MS as f64;
        let day = s.decimate_window(at - 720.0 * MINUTE_MS as f64, at + 720.0 * MINUTE_MS as f64, 2000);
        assert_eq!(day.len(), 1443, "1,441 minutes and one either side");
        assert!(day.iter().any(|p| p[1] == 1e6 && p[0] == at / 1000.0));
        // Outside the data, or backwards: nothing, no panic.
        assert_eq!(s.decimate_window(-5.0 * MINUTE_MS as f64, -1.0, 100).len(), 2, "the first point and the next");
        assert!(s.decimate_window(10.0, 5.0, 100).is_empty());
        assert!(s.decimate_window(f64::NAN, 5.0, 100).is_empty());
    }

    #[test]
    fn one_point_is_an_error() {
        let e = Series::from_points("x", BTreeMap::new(), Unit::None, pts(&[0])).unwrap_err();
        assert!(e.to_string().contains("only one timestamp"), "{e}");
    }

    #[test]
    fn interpolation_fills_interior_and_edges() {
        let s = Series {
            name: "x".into(),
            labels: BTreeMap::new(),
            unit: Unit::None,
            start_ms: 0,
            step_ms: 1,
            values: vec![f64::NAN, 1.0, f64::NAN, 3.0, f64::NAN],
        };
        let (v, n) = s.interpolated();
        assert_eq!(v, vec![1.0, 1.0, 2.0, 3.0, 3.0]);
        assert_eq!(n, 3);
    }
}
