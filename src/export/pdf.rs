//! The PDF report, written with krilla (text shaped and subset-embedded from the DejaVu
//! fonts in `assets/fonts`, so it is selectable and searchable). Pages are laid out as
//! drawing operations first, then rendered, so page numbers know the page count.
//! No clock is read: the same plan gives the same bytes.

use super::minutes;
use crate::forecast::Forecast;
use crate::plan::{Plan, PlanSeries};
use crate::series::{Series, decimate};
use crate::simulate::Standing;
use crate::time::{DAY_MS, HOUR_MS, civil_from_days, format_short};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke, StrokeDash};
use krilla::text::{Font, TextDirection};

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

const W: f32 = 595.0;
const H: f32 = 842.0;
const MARGIN: f32 = 50.0;

type Rgb = (u8, u8, u8);
const INK: Rgb = (30, 30, 30);
const MUTED: Rgb = (110, 110, 110);
const GRID: Rgb = (225, 225, 225);
const HISTORY: Rgb = (40, 110, 190);
const FORECAST: Rgb = (220, 120, 20);
const THRESH: [Rgb; 3] = [(200, 160, 0), (225, 110, 20), (200, 40, 40)];

/// One drawing operation, in page coordinates (points, origin top left).
#[derive(Debug, Clone)]
enum Op {
    Text { x: f32, y: f32, size: f32, bold: bool, colour: Rgb, text: String },
    Line { pts: Vec<(f32, f32)>, width: f32, colour: Rgb, dash: bool },
    Area { pts: Vec<(f32, f32)>, colour: Rgb, opacity: f32 },
}

/// Rough advance width of text in DejaVu Sans (for layout: wrapping, alignment).
fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    text.chars().count() as f32 * size * if bold { 0.62 } else { 0.56 }
}

/// `text` cut with an ellipsis to fit `width` at `size` (a chart key beside another;
/// the full name stands in the table above it).
fn fit_text(text: &str, size: f32, width: f32) -> String {
    if text_width(text, size, false) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if text_width(&format!("{out}{c}…"), size, false) > width {
            break;
        }
        out.push(c);
    }
    format!("{out}…")
}

struct Layout {
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Layout {
    fn new() -> Self {
        Layout { pages: vec![Vec::new()], y: MARGIN }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let n = self.pages.len();
        &mut self.pages[n - 1]
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// Makes room for `h` points, starting a page when needed.
    fn need(&mut self, h: f32) {
        if self.y + h > H - MARGIN - 20.0 {
            self.new_page();
        }
    }

    fn text_at(&mut self, x: f32, y: f32, size: f32, bold: bool, colour: Rgb, text: impl Into<String>) {
        self.ops().push(Op::Text { x, y, size, bold, colour, text: text.into() });
    }

    /// A paragraph, wrapped to the text width.
    fn para(&mut self, text: &str, size: f32, bold: bool, colour: Rgb) {
        let max = W - 2.0 * MARGIN;
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
            if text_width(&candidate, size, bold) > max && !line.is_empty() {
                self.need(size * 1.4);
                let y = self.y + size;
                self.text_at(MARGIN, y, size, bold, colour, std::mem::take(&mut line));
                self.y += size * 1.4;
                line = word.to_string();
            } else {
                line = candidate;
            }
        }
        if !line.is_empty() {
            self.need(size * 1.4);
            let y = self.y + size;
            self.text_at(MARGIN, y, size, bold, colour, line);
            self.y += size * 1.4;
        }
    }

    fn heading(&mut self, text: &str) {
        self.need(40.0);
        self.y += 8.0;
        self.para(text, 15.0, true, INK);
        self.y += 4.0;
    }

    /// A table with a header row, repeated on each page it spans.
    fn table(&mut self, header: &[&str], widths: &[f32], rows: &[Vec<String>]) {
        let size = 8.0;
        let row_h = 13.0;
        let draw_header = |l: &mut Layout| {
            let mut x = MARGIN;
            for (h, w) in header.iter().zip(widths) {
                l.text_at(x, l.y + size, size, true, INK, *h);
                x += w;
            }
            let y = l.y + row_h - 2.0;
            l.ops().push(Op::Line { pts: vec![(MARGIN, y), (W - MARGIN, y)], width: 0.6, colour: MUTED, dash: false });
            l.y += row_h;
        };
        self.need(row_h * 2.0);
        draw_header(self);
        // A cell too wide for its column wraps onto more lines (a number or a name cut
        // short would be a wrong one); the row is as tall as its tallest cell.
        let line_h = size + 2.0;
        for row in rows {
            let cells: Vec<Vec<String>> = row.iter().zip(widths).map(|(cell, w)| wrap_cell(cell, size, w - 4.0)).collect();
            let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let height = row_h + (lines - 1) as f32 * line_h;
            if self.y + height > H - MARGIN - 20.0 {
                self.new_page();
                draw_header(self);
            }
            let mut x = MARGIN;
            for (cell, w) in cells.into_iter().zip(widths) {
                for (k, text) in cell.into_iter().enumerate() {
                    self.text_at(x, self.y + size + k as f32 * line_h, size, false, INK, text);
                }
                x += w;
            }
            self.y += height;
        }
        self.y += 6.0;
    }
}

/// `text` in lines no wider than `width` at `size`: broken at spaces, and a word wider
/// than the column broken where it must.
fn wrap_cell(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if text_width(&candidate, size, false) <= width || line.is_empty() && word.chars().count() <= 1 {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // The word alone, split by characters where even it is too wide.
        for c in word.chars() {
            let mut next = line.clone();
            next.push(c);
            if text_width(&next, size, false) > width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                next = c.to_string();
            }
            line = next;
        }
    }
    lines.push(line);
    lines
}

/// Minutes to two decimals at most, as the replay clock counts them in parts of a minute
/// (0.5 must not read as 0).
fn date_tick(ms: i64) -> String {
    let (_, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    format!("{} {d}", crate::time::month_name(m))
}

/// Days a chart spans past which its time axis is marked by months, not weeks: four
/// months (about 17 weekly marks, every other one labelled).
const MONTH_TICKS_AFTER_DAYS: i64 = 120;

/// Most month marks on a chart's time axis: marks fall every 1, 2, 3, 6 or 12 months,
/// the first that keeps to this many.
const MAX_MONTH_TICKS: i64 = 12;

/// The first of each month from `t0` to `t1` (UTC), every so many months that no more
/// than [`MAX_MONTH_TICKS`] fall in the span, each labelled `Jan 2026`.
fn month_ticks(t0: i64, t1: i64) -> Vec<(i64, String)> {
    use crate::time::{month_index, month_starts};
    let months = month_index(t1) - month_index(t0) - 1;
    let every = [1, 2, 3, 6, 12].into_iter().find(|e| months / e < MAX_MONTH_TICKS).unwrap_or(12);
    // Not a mark on the chart's left edge (t0 itself on a month start).
    month_starts(t0 + 1, t1, every).into_iter().map(|t| (t, crate::time::month_label(t))).collect()
}

/// "Nice" tick values between lo and hi, about `n` of them.
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return vec![lo];
    }
    let raw = (hi - lo) / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + 1e-9 * step {
        out.push(t);
        t += step;
    }
    out
}

/// A chart of history (the last four weeks, or as long as the forecast where that is
/// longer: a year of monthly values before a year's forecast), forecast, 80/95 % bands,
/// thresholds and breach markers, with axes, ticks, units and a legend.
/// `shown`: the band levels the plan shows (the window's ticked bands; the forecast
/// carries 80 and 95 % whatever they are).
fn series_chart(l: &mut Layout, ps: &PlanSeries, forecast: &Forecast, shown: &[f64]) {
    let is_shown = |b: &&crate::forecast::Band| shown.is_empty() || shown.iter().any(|l| (l - b.level).abs() < 1e-9);
    let s: &Series = &ps.series;
    let (x0, y0, w, h) = (MARGIN + 45.0, l.y + 10.0, W - 2.0 * MARGIN - 55.0, 210.0);
    let history_steps = usize::try_from(28 * DAY_MS / s.step_ms.max(1)).unwrap_or(usize::MAX).max(forecast.point.len());
    let hist_from = s.len().saturating_sub(history_steps);
    let t0 = s.timestamp(hist_from);
    let t1 = forecast.timestamp(forecast.point.len().saturating_sub(1)).max(s.end_ms() + 1);
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for v in s.values[hist_from..].iter().chain(&forecast.point).filter(|v| v.is_finite()) {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    for b in forecast.bands.iter().filter(is_shown) {
        for v in b.lower.iter().chain(&b.upper).filter(|v| v.is_finite()) {
            lo = lo.min(*v);
            hi = hi.max(*v);
        }
    }
    for t in &ps.thresholds {
        if t.value < hi * 1.5 + 1.0 {
            hi = hi.max(t.value);
        }
    }
    if !lo.is_finite() || !hi.is_finite() {
        return;
    }
    if s.unit.is_non_negative() {
        lo = 0.0; // quantities that cannot go negative are drawn from zero
    }
    let pad = (hi - lo).max(1e-9) * 0.05;
    let (lo, hi) = (lo - if lo == 0.0 { 0.0 } else { pad }, hi + pad);
    let px = |t: i64| x0 + (t - t0) as f32 / (t1 - t0).max(1) as f32 * w;
    let py = |v: f64| y0 + h - ((v - lo) / (hi - lo)) as f32 * h;
    // Frame, grid and ticks.
    for v in ticks(lo, hi, 5) {
        let y = py(v);
        l.ops().push(Op::Line { pts: vec![(x0, y), (x0 + w, y)], width: 0.4, colour: GRID, dash: false });
        let label = s.unit.format(v);
        l.text_at(x0 - 4.0 - text_width(&label, 7.0, false), y + 2.5, 7.0, false, MUTED, label);
    }
    let span_days = (t1 - t0) / DAY_MS;
    // Marked by months over a long span, else by Mondays (every other one past 35 days).
    let marks: Vec<(i64, String)> = if span_days > MONTH_TICKS_AFTER_DAYS {
        month_ticks(t0, t1)
    } else {
        let every = if span_days > 35 { 2 } else { 1 };
        (t0 / DAY_MS + 1..=t1 / DAY_MS)
            .filter(|d| (d + 3).rem_euclid(7) == 0 && (d / 7) % every == 0)
            .map(|d| (d * DAY_MS, date_tick(d * DAY_MS)))
            .collect()
    };
    for (t, label) in marks {
        let x = px(t);
        l.ops().push(Op::Line { pts: vec![(x, y0), (x, y0 + h)], width: 0.4, colour: GRID, dash: false });
        l.text_at(x - text_width(&label, 7.0, false) / 2.0, y0 + h + 10.0, 7.0, false, MUTED, label);
    }
    l.ops().push(Op::Line { pts: vec![(x0, y0), (x0, y0 + h), (x0 + w, y0 + h)], width: 0.8, colour: INK, dash: false });
    // Bands, widest first.
    let mut bands: Vec<_> = forecast.bands.iter().filter(is_shown).collect();
    bands.sort_by(|a, b| b.level.total_cmp(&a.level));
    let step = (forecast.point.len() / 400).max(1);
    for b in bands {
        let idx: Vec<usize> = (0..forecast.point.len()).step_by(step).collect();
        let mut pts: Vec<(f32, f32)> = idx.iter().map(|&i| (px(forecast.timestamp(i)), py(b.upper[i]))).collect();
        pts.extend(idx.iter().rev().map(|&i| (px(forecast.timestamp(i)), py(b.lower[i]))));
        l.ops().push(Op::Area { pts, colour: FORECAST, opacity: if b.level >= 90.0 { 0.15 } else { 0.3 } });
    }
    // History and forecast lines.
    let xs: Vec<f64> = (hist_from..s.len()).map(|i| s.timestamp(i) as f64).collect();
    let hist = decimate(&xs, &s.values[hist_from..], 900);
    let mut run: Vec<(f32, f32)> = Vec::new();
    for p in hist {
        if p[1].is_nan() {
            if run.len() > 1 {
                l.ops().push(Op::Line { pts: std::mem::take(&mut run), width: 0.7, colour: HISTORY, dash: false });
            }
            run.clear();
        } else {
            run.push((px(p[0] as i64), py(p[1])));
        }
    }
    if run.len() > 1 {
        l.ops().push(Op::Line { pts: run, width: 0.7, colour: HISTORY, dash: false });
    }
    let fx: Vec<f64> = (0..forecast.point.len()).map(|i| forecast.timestamp(i) as f64).collect();
    let fpts: Vec<(f32, f32)> = decimate(&fx, &forecast.point, 900).iter().map(|p| (px(p[0] as i64), py(p[1]))).collect();
    l.ops().push(Op::Line { pts: fpts, width: 0.9, colour: FORECAST, dash: false });
    // Now, thresholds, breach markers.
    let now = px(s.end_ms());
    l.ops().push(Op::Line { pts: vec![(now, y0), (now, y0 + h)], width: 0.6, colour: MUTED, dash: true });
    for (i, c) in ps.runway.iter().enumerate() {
        let colour = THRESH[i.min(2)];
        if c.threshold.value > hi || c.threshold.value < lo {
            continue;
        }
        let y = py(c.threshold.value);
        l.ops().push(Op::Line { pts: vec![(x0, y), (x0 + w, y)], width: 0.7, colour, dash: true });
        // Labelled at the left, over history: the breach bar and the median marker are
        // drawn in the forecast, at the right, and ran through a label there.
        l.text_at(x0 + 4.0, y - 3.0, 7.0, false, colour, c.threshold.text(s.unit));
        if let Some(early) = c.earliest_ms {
            let late = c.latest_ms.unwrap_or(t1);
            l.ops().push(Op::Area {
                pts: vec![(px(early), y - 4.0), (px(late), y - 4.0), (px(late), y + 4.0), (px(early), y + 4.0)],
                colour,
                opacity: 0.35,
            });
        }
        if let Some(m) = c.median_ms {
            let x = px(m);
            l.ops().push(Op::Line { pts: vec![(x, y0), (x, y0 + h)], width: 0.8, colour, dash: false });
        }
    }
    // Legend.
    let ly = y0 + h + 24.0;
    let mut lx = x0;
    for (name, colour) in [("history", HISTORY), ("median forecast", FORECAST), ("80 % / 95 % bands", (240, 190, 140))] {
        l.ops().push(Op::Line { pts: vec![(lx, ly - 3.0), (lx + 14.0, ly - 3.0)], width: 2.0, colour, dash: false });
        l.text_at(lx + 18.0, ly, 7.5, false, INK, name);
        lx += 24.0 + text_width(name, 7.5, false);
    }
    l.text_at(lx, ly, 7.5, false, MUTED, "shaded bar: plausible breach dates");
    l.y = ly + 14.0;
}

/// Instances over demand for the scenarios (forecast part).
fn scenario_chart(l: &mut Layout, plan: &Plan) {
    let Some(sc) = &plan.scenarios else { return };
    let Some(first) = sc.outcomes.first() else { return };
    let (x0, y0, w, h) = (MARGIN + 35.0, l.y + 10.0, W - 2.0 * MARGIN - 45.0, 180.0);
    let steps = |o: &crate::simulate::Outcome| o.steps[o.forecast_start.min(o.steps.len())..].to_vec();
    let demand: Vec<(i64, f64)> =
        steps(first).iter().map(|s| (s.t_ms, s.demand / (first.capacity.per_instance * first.capacity.target_utilisation))).collect();
    let Some((t0, t1)) = demand.first().zip(demand.last()).map(|(a, b)| (a.0, b.0.max(a.0 + 1))) else { return };
    let hi =
        sc.outcomes.iter().flat_map(|o| steps(o).into_iter().map(|s| s.instances)).chain(demand.iter().map(|d| d.1)).fold(1.0f64, f64::max)
            * 1.05;
    let px = |t: i64| x0 + (t - t0) as f32 / (t1 - t0) as f32 * w;
    let py = |v: f64| y0 + h - (v / hi) as f32 * h;
    for v in ticks(0.0, hi, 5) {
        let y = py(v);
        l.ops().push(Op::Line { pts: vec![(x0, y), (x0 + w, y)], width: 0.4, colour: GRID, dash: false });
        let label = format!("{v:.0}");
        l.text_at(x0 - 4.0 - text_width(&label, 7.0, false), y + 2.5, 7.0, false, MUTED, label);
    }
    // Dates every day over a week or so, every other day up to three weeks, else on
    // Mondays: a two-week horizon labelled on Mondays alone showed one date.
    let every = match (t1 - t0) / DAY_MS {
        0..=8 => 1,
        9..=21 => 2,
        _ => 7,
    };
    let mut day = (t0 / DAY_MS + 1) * DAY_MS;
    while day <= t1 {
        let labelled = if every == 7 { (day / DAY_MS + 3).rem_euclid(7) == 0 } else { (day / DAY_MS) % every == 0 };
        if labelled {
            let x = px(day);
            let label = date_tick(day);
            l.text_at(x - text_width(&label, 7.0, false) / 2.0, y0 + h + 10.0, 7.0, false, MUTED, label);
        }
        day += DAY_MS;
    }
    l.ops().push(Op::Line { pts: vec![(x0, y0), (x0, y0 + h), (x0 + w, y0 + h)], width: 0.8, colour: INK, dash: false });
    let palette: [Rgb; 8] =
        [(40, 110, 190), (220, 120, 20), (60, 150, 60), (150, 80, 180), (200, 50, 50), (30, 160, 160), (170, 150, 30), (120, 120, 120)];
    let xs: Vec<f64> = demand.iter().map(|d| d.0 as f64).collect();
    let dv: Vec<f64> = demand.iter().map(|d| d.1).collect();
    let pts: Vec<(f32, f32)> = decimate(&xs, &dv, 700).iter().map(|p| (px(p[0] as i64), py(p[1]))).collect();
    l.ops().push(Op::Line { pts, width: 1.6, colour: (60, 60, 60), dash: false });
    for (i, o) in sc.outcomes.iter().enumerate() {
        let st = steps(o);
        let xs: Vec<f64> = st.iter().map(|s| s.t_ms as f64).collect();
        let ys: Vec<f64> = st.iter().map(|s| s.instances).collect();
        let pts: Vec<(f32, f32)> = decimate(&xs, &ys, 700).iter().map(|p| (px(p[0] as i64), py(p[1]))).collect();
        l.ops().push(Op::Line { pts, width: 0.7, colour: palette[i % 8], dash: false });
    }
    let mut ly = y0 + h + 24.0;
    l.ops().push(Op::Line { pts: vec![(x0, ly - 3.0), (x0 + 14.0, ly - 3.0)], width: 2.0, colour: (60, 60, 60), dash: false });
    l.text_at(x0 + 18.0, ly, 7.5, false, INK, "demand, as instances needed at target utilisation");
    ly += 11.0;
    for (i, o) in sc.outcomes.iter().enumerate() {
        let col = i % 2;
        let x = x0 + col as f32 * (w / 2.0);
        l.ops().push(Op::Line { pts: vec![(x, ly - 3.0), (x + 14.0, ly - 3.0)], width: 2.0, colour: palette[i % 8], dash: false });
        l.text_at(x + 18.0, ly, 7.5, false, INK, fit_text(&o.name, 7.5, w / 2.0 - 24.0));
        if col == 1 {
            ly += 11.0;
        }
    }
    l.y = ly + 14.0;
}

/// Writes the report for `plan`.
///
/// # Errors
/// The PDF could not be assembled (a font failed to load).
pub fn write_pdf(plan: &Plan) -> crate::Result<Vec<u8>> {
    let mut l = Layout::new();
    // Title page.
    l.y = 220.0;
    l.para(&plan.inputs.title, 28.0, true, INK);
    l.para("Capacity plan", 16.0, false, MUTED);
    l.y += 30.0;
    let range = plan
        .series
        .iter()
        .map(|p| (p.series.start_ms, p.series.end_ms()))
        .fold(None, |acc: Option<(i64, i64)>, (a, b)| Some(acc.map_or((a, b), |(x, y)| (x.min(a), y.max(b)))));
    l.para(
        &format!(
            "Prepared {} by {}",
            format_short(plan.inputs.created_ms),
            if plan.inputs.author.is_empty() { "—" } else { &plan.inputs.author }
        ),
        11.0,
        false,
        INK,
    );
    if let Some((a, b)) = range {
        l.para(
            &format!("History from {} to {}; forecast horizon {}", format_short(a), format_short(b), horizon_text(plan)),
            11.0,
            false,
            INK,
        );
    }
    l.para(&format!("{} series. Sources: {}", plan.series.len(), plan.inputs.sources.join(", ")), 9.0, false, MUTED);
    l.para(
        &format!(
            "Made with Headroom. Dates are UTC. A threshold's breach probability is the share of {} sample paths of the forecast \
             that reach it within the horizon, weighed against a prior as far as the backtest windows behind the paths are few \
             (one pseudo-window of even odds for a level the series has reached); its median, earliest and latest dates are the 50 %, {} % and {} % quantiles of \
             when those paths first reach it (so a path's rare burst can bring the earliest date before the bands' edge reaches \
             the threshold).",
            crate::forecast::paths::RUNWAY_PATHS,
            crate::export::csv::level_label((100.0 - plan.inputs.runway_level) / 2.0),
            crate::export::csv::level_label((100.0 + plan.inputs.runway_level) / 2.0),
        ),
        8.0,
        false,
        MUTED,
    );

    // Executive summary.
    l.new_page();
    l.heading("Executive summary");
    if let (Some(o), Some(sc)) = (plan.recommended(), &plan.scenarios) {
        if crate::simulate::within_budget(o, plan.horizon_minutes(), sc.file.risk_budget) {
            l.para(&format!("Recommended: {} ({}), {:.2} per month; {:.0} expected minutes over target across the horizon, saturation probability {:.1} %.", o.name, o.policy, o.cost_per_month, o.expected_minutes_over_target, 100.0 * o.saturation_probability), 10.0, true, INK);
        } else if let Some(text) = plan.recommendation_text() {
            l.para(
                &format!("{text} ({}), saturation probability {:.1} %.", o.policy, 100.0 * o.saturation_probability),
                10.0,
                true,
                THRESH[2],
            );
        }
    }
    let mut risks: Vec<(i64, String)> = Vec::new();
    let mut rows = Vec::new();
    for ps in &plan.series {
        for c in &ps.runway {
            let d = |t: Option<i64>| t.map_or("not within horizon".to_string(), |t| format_short(t).trim_end_matches(" UTC").to_string());
            rows.push(vec![
                ps.series.display_name(),
                c.threshold.text(ps.series.unit),
                if c.already { "already reached".into() } else { d(c.median_ms) },
                d(c.earliest_ms),
                d(c.latest_ms),
                crate::capacity::chance_text(c.chance()),
            ]);
            if let Some(e) = c.earliest_ms {
                let (name, level) = (ps.series.display_name(), c.threshold.text(ps.series.unit));
                risks.push((
                    e,
                    if c.already {
                        format!("{name} already stands at or past {level}")
                    } else {
                        format!("{name} may reach {level} as early as {}", format_short(e))
                    },
                ));
            }
        }
    }
    l.para("Runway per threshold", 11.0, true, INK);
    if rows.is_empty() {
        l.para("No thresholds were set for these series.", 9.0, false, MUTED);
    } else {
        l.table(
            &["Series", "Threshold", "Median breach", "Earliest", "Latest", "P(breach)"],
            &[100.0, 80.0, 90.0, 87.0, 87.0, 51.0],
            &rows,
        );
    }
    risks.sort();
    l.para("Top risks", 11.0, true, INK);
    if risks.is_empty() {
        l.para("No threshold is plausibly reached within the horizon.", 9.0, false, INK);
    }
    for (_, r) in risks.iter().take(5) {
        l.para(&format!("• {r}"), 9.0, false, INK);
    }
    if let Some(sc) = &plan.scenarios {
        for o in sc.outcomes.iter().filter(|o| o.saturation_probability > 0.5) {
            l.para(
                &format!(
                    "• Scenario \"{}\" runs short of capacity with a chance of {:.0} % (sample paths, weighed by their evidence)",
                    o.name,
                    100.0 * o.saturation_probability
                ),
                9.0,
                false,
                INK,
            );
        }
    }

    // One chart per series.
    for ps in &plan.series {
        l.need(290.0);
        l.heading(&ps.series.display_name());
        match &ps.forecast {
            Ok(f) => {
                l.para(
                    &format!("Model: {}. Horizon {} at {} steps.", f.model, horizon_of(plan, f), crate::time::format_duration(f.step_ms)),
                    8.5,
                    false,
                    MUTED,
                );
                series_chart(&mut l, ps, f, &plan.inputs.settings.levels);
            }
            Err(e) => l.para(&format!("No forecast: {e}"), 9.0, false, (200, 40, 40)),
        }
    }

    // Scenarios.
    if let Some(sc) = &plan.scenarios {
        l.new_page();
        l.heading("Scenarios");
        let within = crate::simulate::recommended_within(&sc.outcomes, sc.recommended, plan.horizon_minutes(), sc.file.risk_budget);
        let rows: Vec<Vec<String>> = sc
            .outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| {
                vec![
                    match Standing::of(i, sc.recommended, within) {
                        Standing::Recommended => format!("{} (recommended)", o.name),
                        Standing::LeastRisky => format!("{} (least risky, over budget)", o.name),
                        Standing::Other => o.name.clone(),
                    },
                    o.policy.clone(),
                    format!("{:.2}", o.cost_per_month),
                    minutes(o.minutes_over_target),
                    minutes(o.minutes_over_capacity),
                    format!("{:.1} %", 100.0 * o.saturation_probability),
                    o.scaling_events.to_string(),
                ]
            })
            .collect();
        l.table(
            &["Scenario", "Policy", "Cost/month", "Min>target", "Min>cap.", "P(sat.)", "Events"],
            &[175.0, 75.0, 55.0, 55.0, 50.0, 45.0, 40.0],
            &rows,
        );
        let rule = if within {
            format!(
                "Recommendation: the cheapest scenario with expected minutes over target within {:.2} % of the horizon.",
                100.0 * sc.file.risk_budget
            )
        } else {
            format!(
                "No scenario keeps expected minutes over target within {:.2} % of the horizon: the least risky is marked, and none is recommended.",
                100.0 * sc.file.risk_budget
            )
        };
        l.para(
            &format!(
                "Cost per month of 730 hours at the forecast horizon's rate on the median demand; risk over {} seeded sample paths (seed {}). {rule}",
                sc.file.paths, sc.file.seed
            ),
            8.0,
            false,
            MUTED,
        );
        l.need(240.0);
        l.para("Instances over demand (forecast horizon)", 11.0, true, INK);
        scenario_chart(&mut l, plan);
    }

    // Methods.
    l.new_page();
    l.heading("Methods");
    l.para("Each series is forecast by the model with the lowest MASE over rolling-origin backtest windows at the end of its history (each as long as the horizon, or as the history allows: a warning says so). Bands are calibrated on the backtest errors (split conformal), so an 80 % band is meant to cover 80 %. Incident outliers are masked against a robust STL baseline before fitting.", 9.0, false, INK);
    let mut rows = Vec::new();
    for ps in &plan.series {
        let Ok(f) = &ps.forecast else { continue };
        let (mase, cov) = match &f.evidence {
            Some(ev) => (
                format!("{:.3}", ev.chosen.mase),
                ev.calibrated_coverage.as_ref().map_or("—".into(), |c| {
                    c.iter()
                        .map(|c| format!("{} %: {:.0} %", crate::export::csv::level_label(c.level), 100.0 * c.value))
                        .collect::<Vec<_>>()
                        .join(", ")
                }),
            ),
            None => ("—".into(), "no backtest".into()),
        };
        rows.push(vec![
            ps.series.display_name(),
            f.model.clone(),
            mase,
            cov,
            f.outliers.len().to_string(),
            f.level_shift_ms.map_or("—".into(), format_short),
        ]);
    }
    l.table(
        &["Series", "Model", "MASE", "Calibrated coverage", "Outliers", "Level shift"],
        &[120.0, 130.0, 42.0, 113.0, 40.0, 70.0],
        &rows,
    );
    if !plan.warnings.is_empty() {
        l.para("Warnings", 11.0, true, INK);
        for w in &plan.warnings {
            l.para(&format!("• {w}"), 7.5, false, MUTED);
        }
    }
    render(plan, l.pages)
}

/// The horizon as given, or on calendar months the months it came to (a year given as
/// `1y` is 365 days, and twelve months).
fn horizon_of(plan: &Plan, f: &Forecast) -> String {
    if crate::time::months_per_step(f.step_ms).is_some() {
        return crate::time::format_duration(f.point.len() as i64 * f.step_ms);
    }
    horizon_text(plan)
}

fn horizon_text(plan: &Plan) -> String {
    match plan.inputs.horizon {
        crate::pipeline::Horizon::Steps(n) => format!("{n} steps"),
        crate::pipeline::Horizon::Duration(d) => crate::time::format_duration(d),
    }
}

fn render(plan: &Plan, pages: Vec<Vec<Op>>) -> crate::Result<Vec<u8>> {
    let err = |m: String| crate::Error::setting("pdf", m);
    let regular = Font::new(REGULAR.to_vec().into(), 0).ok_or_else(|| err("the bundled regular font did not load".into()))?;
    let bold = Font::new(BOLD.to_vec().into(), 0).ok_or_else(|| err("the bundled bold font did not load".into()))?;
    let mut doc = Document::new();
    let (y, m, d) = civil_from_days(plan.inputs.created_ms.div_euclid(DAY_MS));
    let hour = (plan.inputs.created_ms.rem_euclid(DAY_MS) / HOUR_MS) as u8;
    doc.set_metadata(
        krilla::metadata::Metadata::new()
            .title(plan.inputs.title.clone())
            .authors(vec![plan.inputs.author.clone()])
            .creator("Headroom".into())
            .creation_date(krilla::metadata::DateTime::new(y as u16).month(m as u8).day(d as u8).hour(hour)),
    );
    let total = pages.len();
    for (i, ops) in pages.into_iter().enumerate() {
        let settings = PageSettings::from_wh(W, H).ok_or_else(|| err("bad page size".into()))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        let fill = |c: Rgb, opacity: f32| Fill {
            paint: rgb::Color::new(c.0, c.1, c.2).into(),
            opacity: NormalizedF32::new(opacity).unwrap_or(NormalizedF32::ONE),
            rule: Default::default(),
        };
        let mut all = ops;
        if i > 0 {
            let label = format!("{} · page {} of {total}", plan.inputs.title, i + 1);
            all.push(Op::Text {
                x: W - MARGIN - text_width(&label, 7.5, false),
                y: H - 25.0,
                size: 7.5,
                bold: false,
                colour: MUTED,
                text: label,
            });
        }
        for op in all {
            match op {
                Op::Text { x, y, size, bold: b, colour, text } => {
                    surface.set_fill(Some(fill(colour, 1.0)));
                    surface.set_stroke(None);
                    surface.draw_text(
                        Point::from_xy(x, y),
                        if b { bold.clone() } else { regular.clone() },
                        size,
                        &text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Op::Line { pts, width, colour, dash } => {
                    let mut pb = PathBuilder::new();
                    for (k, (x, y)) in pts.iter().enumerate() {
                        if k == 0 { pb.move_to(*x, *y) } else { pb.line_to(*x, *y) }
                    }
                    let Some(path) = pb.finish() else { continue };
                    surface.set_fill(None);
                    surface.set_stroke(Some(Stroke {
                        paint: rgb::Color::new(colour.0, colour.1, colour.2).into(),
                        width,
                        dash: dash.then(|| StrokeDash { array: vec![3.0, 2.0], offset: 0.0 }),
                        ..Default::default()
                    }));
                    surface.draw_path(&path);
                }
                Op::Area { pts, colour, opacity } => {
                    let mut pb = PathBuilder::new();
                    for (k, (x, y)) in pts.iter().enumerate() {
                        if k == 0 { pb.move_to(*x, *y) } else { pb.line_to(*x, *y) }
                    }
                    pb.close();
                    let Some(path) = pb.finish() else { continue };
                    surface.set_stroke(None);
                    surface.set_fill(Some(fill(colour, opacity)));
                    surface.draw_path(&path);
                }
            }
        }
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| err(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_too_long_for_its_column_is_cut_with_an_ellipsis() {
        assert_eq!(fit_text("HPA at 60 %", 7.5, 200.0), "HPA at 60 %");
        let long = "HPA mit sehr langem Namen für die Region EU-West-1 und noch mehr";
        let cut = fit_text(long, 7.5, 200.0);
        assert!(cut.ends_with('…') && text_width(&cut, 7.5, false) <= 200.0, "{cut}");
        assert!(long.starts_with(cut.trim_end_matches('…')));
    }

    #[test]
    fn a_chance_is_never_rounded_to_a_certainty_it_is_not() {
        use crate::capacity::chance_text;
        // 0.005 is one in two hundred, "1 %"; 0.995 is short of certain, ">99 %" (printed
        // plainly, half to even, they read "0 %" and "100 %").
        assert_eq!(
            [
                chance_text(0.0),
                chance_text(0.003),
                chance_text(0.005),
                chance_text(0.93),
                chance_text(0.995),
                chance_text(0.996),
                chance_text(1.0)
            ],
            ["0 %", "<1 %", "1 %", "93 %", ">99 %", ">99 %", "100 %"]
        );
    }
}
