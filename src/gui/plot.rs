//! The forecast chart: history, median forecast, 80/95 % bands, "now" marker, time axis
//! (UTC or local), hover with time and value in the series' unit. The history is
//! decimated to each pixel column's min and max of what is in view, so peaks survive
//! at any zoom. Wheel with Ctrl zooms, drag pans, right-drag zooms to a box,
//! double-click resets; the time axis is shared with the scenario chart.

use super::theme;
use crate::capacity::Crossing;
use crate::forecast::Forecast;
use crate::series::Series;
use crate::time::{Clock, DAY_MS, HOUR_MS, MINUTE_MS, WEEK_MS, civil_from_days};
use eframe::egui;
use egui_plot::{
    FilledArea, GridInput, GridMark, HLine, Line, LineStyle, MarkerShape, Plot, PlotPoint, PlotPoints, Points, Span, Text, VLine,
};

/// How the charts show and share time.
#[derive(Debug, Clone, Default)]
pub struct TimeAxis {
    /// UTC or the local zone, for ticks and the hover readout.
    pub clock: Clock,
    /// Pan and zoom the series chart and the scenario chart together.
    pub linked: bool,
    /// The link group: one per series and history shown, so that another series (or
    /// another span of history) opens on its own window, not the last one's.
    pub group: String,
}

impl TimeAxis {
    /// Puts `plot` in the link group when the axes are linked.
    pub fn link<'a>(&self, plot: Plot<'a>) -> Plot<'a> {
        if self.linked { plot.link_axis(egui::Id::unique(("headroom.time_axis", &self.group)), [true, false]) } else { plot }
    }

    /// The ticks and grid of a time axis in this clock's zone (its offset at `at_ms`).
    pub fn apply<'a>(&self, plot: Plot<'a>, at_ms: i64, span_days: f64) -> Plot<'a> {
        let offset = self.clock.offset_ms(at_ms) as f64 / 1000.0;
        plot.x_grid_spacer(move |input: GridInput| {
            let shifted = GridInput { bounds: (input.bounds.0 + offset, input.bounds.1 + offset), ..input };
            time_grid(shifted).into_iter().map(|m| GridMark { value: m.value - offset, ..m }).collect()
        })
        .x_axis_formatter(move |mark, _| {
            coarse_tick(mark.value + offset, mark.step_size).unwrap_or_else(|| format_tick(mark.value + offset, span_days))
        })
    }
}

/// Time-axis grid: calendar steps (minutes to weeks) at three levels, like egui_plot's
/// own spacer, so fine lines fade and labels appear only where they fit. Weeks start on
/// Monday (UTC).
pub fn time_grid(input: GridInput) -> Vec<GridMark> {
    const STEPS: [i64; 14] = [
        MINUTE_MS,
        5 * MINUTE_MS,
        15 * MINUTE_MS,
        HOUR_MS,
        3 * HOUR_MS,
        6 * HOUR_MS,
        12 * HOUR_MS,
        DAY_MS,
        2 * DAY_MS,
        WEEK_MS,
        2 * WEEK_MS,
        4 * WEEK_MS,
        12 * WEEK_MS,
        52 * WEEK_MS,
    ];
    let (lo, hi) = input.bounds;
    let next = |min_ms: f64| STEPS.iter().copied().find(|s| *s as f64 >= min_ms).unwrap_or(52 * WEEK_MS);
    let s1 = next(input.base_step_size * 1000.0);
    let s2 = next(s1 as f64 * 4.0);
    let s3 = next(s2 as f64 * 4.0);
    let mut marks: Vec<GridMark> = Vec::new();
    for step in [s3, s2, s1] {
        // When even the finest marks are a week or more apart: the first of every
        // month (or quarter, or year), as the calendar has them, at every level;
        // twelve-week marks labelled "Mar 4" over years of monthly values told no year,
        // and 52-week Mondays ("Oct 31 2022") stood for the years of a two-year view.
        // (Beside weekly marks, month starts off the Mondays crowded their labels, so it
        // is months at every level or at none.)
        if s1 >= WEEK_MS {
            let every = if step <= 4 * WEEK_MS {
                1
            } else if step <= 12 * WEEK_MS {
                3
            } else {
                12
            };
            for t in month_starts(lo, hi, every) {
                if !marks.iter().any(|m| (m.value - t).abs() < 1e-6) {
                    marks.push(GridMark { value: t, step_size: (every * crate::time::MONTH_MS) as f64 / 1000.0 });
                }
            }
            continue;
        }
        let step_s = step as f64 / 1000.0;
        // 1970-01-05 was a Monday: weekly marks are offset by four days from the epoch.
        let offset = if step >= WEEK_MS { 4.0 * 86_400.0 } else { 0.0 };
        let mut x = ((lo - offset) / step_s).ceil() * step_s + offset;
        let mut n = 0;
        while x <= hi && n < 2000 {
            if !marks.iter().any(|m| (m.value - x).abs() < 1e-6) {
                marks.push(GridMark { value: x, step_size: step_s });
            }
            x += step_s;
            n += 1;
        }
    }
    marks
}

/// Grid steps (seconds) from which the time axis is marked and labelled by months.
const MONTH_MARKS_FROM_S: f64 = (4 * WEEK_MS / 1000) as f64;

/// The first of each month (UTC seconds) from `lo` to `hi` seconds whose month index is a
/// multiple of `every` (1, 3 for quarters, 12 for years), at most 2,000.
fn month_starts(lo: f64, hi: f64, every: i64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi < lo {
        return Vec::new();
    }
    crate::time::month_starts((lo * 1000.0).ceil() as i64, (hi * 1000.0).floor() as i64, every)
        .into_iter()
        .map(|t| t as f64 / 1000.0)
        .collect()
}

/// The label of a coarse mark, with its year: `Jan 2026` on a month start four weeks or
/// more from the next ([`month_starts`]), `Oct 7 2024` on the Monday of a week-based mark
/// twelve weeks or more from the next (a span of years). `None` for finer marks.
fn coarse_tick(x: f64, step_s: f64) -> Option<String> {
    let ms = (x * 1000.0) as i64;
    let (y, _, d) = civil_from_days(ms.div_euclid(DAY_MS));
    if step_s >= MONTH_MARKS_FROM_S && d == 1 && ms.rem_euclid(DAY_MS) == 0 {
        Some(month_tick(x))
    } else if step_s >= 3.0 * MONTH_MARKS_FROM_S {
        Some(format!("{} {y}", format_tick(x, f64::INFINITY)))
    } else {
        None
    }
}

/// A month's tick label: `Jan 2026`.
pub fn month_tick(x: f64) -> String {
    crate::time::month_label((x * 1000.0) as i64)
}

/// A tick label: `Nov 23` when days are shown, else with the time.
pub fn format_tick(x: f64, range_days: f64) -> String {
    let ms = (x * 1000.0) as i64;
    let (_, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    let rem = ms.rem_euclid(DAY_MS);
    let mon = crate::time::month_name(m);
    if range_days > 3.0 && rem == 0 {
        format!("{mon} {d}")
    } else {
        format!("{mon} {d} {:02}:{:02}", rem / HOUR_MS, rem % HOUR_MS / MINUTE_MS)
    }
}

/// The chart's key, in one row above the plot so that it never covers the data.
fn legend_row(ui: &mut egui::Ui, series: &Series, forecast: Option<&Forecast>, levels: &[f64], crossings: &[Crossing]) {
    let swatch = |ui: &mut egui::Ui, colour: egui::Color32, label: &str| {
        let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 4.0), egui::Sense::hover());
        ui.painter().rect_filled(rect, 1.0, colour);
        ui.label(egui::RichText::new(label).small());
    };
    ui.horizontal_wrapped(|ui| {
        swatch(ui, theme::HISTORY, "History");
        if let Some(f) = forecast {
            swatch(ui, theme::FORECAST, "Forecast");
            let mut shown: Vec<f64> = f.bands.iter().map(|b| b.level).filter(|l| levels.iter().any(|x| (x - l).abs() < 1e-9)).collect();
            shown.sort_by(f64::total_cmp);
            for l in shown {
                swatch(ui, theme::band_fill(l), &format!("{} % band", crate::export::csv::level_label(l)));
            }
            if !f.outliers.is_empty() {
                swatch(ui, theme::OUTLIER, "Masked outliers");
            }
            // A young shift's return has no line of its own: it is said on the shift's.
            if f.level_shift_ms.is_some() {
                let label = match f.new_level.filter(|l| l.returns) {
                    Some(l) => format!("Level shift ({:.0} % it returns)", 100.0 * l.chance),
                    None => "Level shift".to_string(),
                };
                swatch(ui, theme::SHIFT, &label);
            }
            if let Some(l) = f.new_level.filter(|l| !l.returns) {
                swatch(ui, theme::SHIFT, &format!("Possible new level ({:.0} %)", 100.0 * l.chance));
            }
        }
        swatch(ui, theme::NOW, "Now");
        for (i, c) in crossings.iter().enumerate() {
            swatch(ui, theme::threshold(i), &c.threshold.text(series.unit));
        }
    });
}

/// Grid marks for a log10 value axis: each decade, and 2 and 5 times it (shown once
/// decades are far enough apart).
fn log_grid(input: GridInput) -> Vec<GridMark> {
    let (lo, hi) = input.bounds;
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo || hi - lo > 60.0 {
        return Vec::new();
    }
    let mut marks = Vec::new();
    for decade in (lo.floor() as i64)..=(hi.ceil() as i64) {
        for (m, weight) in [(1.0f64, 1.0), (2.0, 0.3), (5.0, 0.3)] {
            let v = decade as f64 + m.log10();
            if v >= lo && v <= hi && weight >= input.base_step_size {
                marks.push(GridMark { value: v, step_size: weight });
            }
        }
    }
    marks
}

/// `points` cut at every point that is not finite (a gap in history, `NaN`), into the runs
/// a line can be drawn through: egui compares a line's screen positions, and a `NaN` among
/// them panics in a debug build (a CSV with gaps crashed the window as its chart opened).
/// A lone point between gaps is a run of one.
pub fn finite_runs(points: &[[f64; 2]]) -> Vec<Vec<[f64; 2]>> {
    points.split(|p| !(p[0].is_finite() && p[1].is_finite())).filter(|run| !run.is_empty()).map(<[[f64; 2]]>::to_vec).collect()
}

/// Draws `points` as one line named `name`, broken at its gaps ([`finite_runs`]): one item
/// per run under the one legend entry, a lone point as a dot.
pub fn broken_line(plot: &mut egui_plot::PlotUi<'_>, name: &str, points: &[[f64; 2]], colour: egui::Color32, width: f32) {
    for run in finite_runs(points) {
        if run.len() == 1 {
            plot.add(Points::new(name, PlotPoints::new(run)).color(colour).radius(width.max(1.5)));
        } else {
            plot.line(Line::new(name, PlotPoints::new(run)).color(colour).width(width));
        }
    }
}

/// What the chart opens on, in seconds: the last `history_days` of history (all of it
/// for 0) and the whole forecast. The scenario chart opens on the same.
pub fn opening_window(series: &Series, forecast: Option<&Forecast>, history_days: u32) -> (f64, f64) {
    let end_x = series.end_ms() as f64 / 1000.0;
    let last_x = forecast.map_or(end_x, |f| f.timestamp(f.point.len().saturating_sub(1)) as f64 / 1000.0);
    let first_x = series.start_ms as f64 / 1000.0;
    let shown_s = shown_history_ms(history_days, series.step_ms) / 1000.0;
    let from = if history_days == 0 { first_x } else { (end_x - shown_s).max(first_x) };
    (from, last_x)
}

/// The span of history (ms) the chart opens on for `history_days` of a series stepped
/// every `step_ms`: at least [`MIN_SHOWN_STEPS`] steps, as 28 days of monthly values are
/// one value.
pub fn shown_history_ms(history_days: u32, step_ms: i64) -> f64 {
    (f64::from(history_days) * DAY_MS as f64).max(MIN_SHOWN_STEPS * step_ms as f64)
}

/// Fewest steps of history the chart opens on, whatever span of days is chosen: two
/// years of monthly values (a day of hourly ones, where the days chosen show more).
const MIN_SHOWN_STEPS: f64 = 24.0;

/// A series' value range, for fitting the view and placing the log scale's floor.
#[derive(Debug, Clone, Copy)]
struct Extent {
    /// The smallest and largest present value.
    min_max: Option<(f64, f64)>,
    /// The smallest value above zero (infinite when there is none).
    min_positive: f64,
}

/// The series' [`Extent`], remembered between frames (a scan of a million points each
/// frame would be most of the frame).
fn cached_extent(ctx: &egui::Context, series: &Series) -> Extent {
    let id = egui::Id::unique(("headroom.extent", series.display_name()));
    // Cheap to compute and changes whenever the data does in practice: the grid and
    // three values.
    let n = series.values.len();
    let probe = |i: usize| series.values.get(i).map_or(0, |v| v.to_bits());
    let fingerprint = [series.start_ms as u64, series.step_ms as u64, n as u64, probe(0), probe(n / 2), probe(n.saturating_sub(1))];
    if let Some((f, e)) = ctx.data(|d| d.get_temp::<([u64; 6], Extent)>(id))
        && f == fingerprint
    {
        return e;
    }
    let extent = Extent {
        min_max: series.min_max(),
        min_positive: series.values.iter().copied().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min),
    };
    ctx.data_mut(|d| d.insert_temp(id, (fingerprint, extent)));
    extent
}

/// How far right (a share of the history shown) each threshold's label sits of the one
/// before it.
const LABEL_STAGGER: f64 = 0.16;

/// Draws the chart of `series` with its forecast (if any) and the given bands.
pub fn chart(
    ui: &mut egui::Ui,
    series: &Series,
    forecast: Option<&Forecast>,
    levels: &[f64],
    crossings: &[Crossing],
    history_days: u32,
    log_scale: bool,
    time: &TimeAxis,
) -> egui::Response {
    let unit = series.unit;
    // On a log scale every value is drawn as its log10; values at or below zero sit at
    // a floor a decade under the smallest positive value.
    let Extent { min_max: extent, min_positive } = cached_extent(ui.ctx(), series);
    let floor = min_positive / 10.0;
    let log_scale = log_scale && floor.is_finite();
    let ty = move |v: f64| if log_scale && !v.is_nan() { v.max(floor).log10() } else { v };
    let uy = move |v: f64| if log_scale { 10f64.powf(v) } else { v };
    let end_x = series.end_ms() as f64 / 1000.0;
    legend_row(ui, series, forecast, levels, crossings);
    // Opens on the last `history_days` of history and all of the forecast (double-click
    // comes back to it); the id carries the choice, so changing it starts afresh.
    let (shown_from, last_x) = opening_window(series, forecast, history_days);
    let first_x = series.start_ms as f64 / 1000.0;
    let mut plot = Plot::new(("forecast_chart", series.display_name(), history_days, log_scale));
    if shown_from > first_x && last_x > shown_from {
        plot = plot.default_x_bounds(shown_from, last_x);
    }
    if log_scale {
        plot = plot.y_grid_spacer(log_grid);
    }
    let span_days = (last_x - shown_from) / (DAY_MS as f64 / 1000.0);
    let clock = time.clock.clone();
    plot = time.apply(time.link(plot), series.end_ms(), span_days);
    plot.y_axis_formatter(move |mark, _| unit.format(uy(mark.value)))
        .y_axis_min_width(64.0)
        .label_formatter(move |pos| {
            let p = match pos {
                egui_plot::HoverPosition::NearDataPoint { position, .. } | egui_plot::HoverPosition::Elsewhere { position } => position,
            };
            Some(format!("{}\n{}", clock.short((p.x * 1000.0) as i64), unit.format(uy(p.y))))
        })
        .allow_scroll(false)
        .show(ui, |plot| {
            // What is in view (as of the last frame) at two points per pixel column; the
            // whole history when the view does not overlap it yet (the first frame).
            let view = plot.plot_bounds();
            let columns = plot.transform().frame().width().max(64.0) as usize;
            let (lo, hi) = if view.max()[0] > first_x && view.min()[0] < end_x && view.width() > 0.0 {
                (view.min()[0], view.max()[0])
            } else {
                (first_x, end_x)
            };
            let history: Vec<[f64; 2]> =
                series.decimate_window(lo * 1000.0, hi * 1000.0, columns).into_iter().map(|[x, y]| [x, ty(y)]).collect();
            if let Some(f) = forecast {
                let fx: Vec<f64> = (0..f.point.len()).map(|i| f.timestamp(i) as f64 / 1000.0).collect();
                let mut bands: Vec<_> = f.bands.iter().filter(|b| levels.iter().any(|l| (l - b.level).abs() < 1e-9)).collect();
                bands.sort_by(|a, b| b.level.total_cmp(&a.level)); // widest first, underneath
                for b in bands {
                    let n = fx.len().min(b.lower.len()).min(b.upper.len());
                    let lower: Vec<f64> = b.lower[..n].iter().map(|v| ty(*v)).collect();
                    let upper: Vec<f64> = b.upper[..n].iter().map(|v| ty(*v)).collect();
                    plot.add(
                        FilledArea::new(format!("{} % band", crate::export::csv::level_label(b.level)), &fx[..n], &lower, &upper)
                            .fill_color(theme::band_fill(b.level)),
                    );
                }
                let mut points = vec![[end_x, ty(series.values.last().copied().unwrap_or(f64::NAN))]];
                points.extend(fx.iter().zip(&f.point).map(|(x, y)| [*x, ty(*y)]));
                // Solid: over a fortnight of daily cycles a dashed line broke into noise. Its
                // colour and the "now" line already tell it from history.
                broken_line(plot, "Forecast", &points, theme::FORECAST, 1.5);
            }
            broken_line(plot, "History", &history, theme::HISTORY, 1.5);
            // The whole history's extent, unseen, so that fitting the view (double-click)
            // takes in all of it, not only the part drawn.
            if let Some((min, max)) = extent {
                plot.add(
                    Points::new("extent", PlotPoints::new(vec![[first_x, ty(min)], [end_x, ty(max)]]))
                        .color(egui::Color32::TRANSPARENT)
                        .radius(0.0)
                        .allow_hover(false),
                );
            }
            if let Some(f) = forecast {
                let marks: Vec<[f64; 2]> = f
                    .outliers
                    .iter()
                    .filter_map(|t| {
                        let i = series.slot_at(*t)?;
                        Some([*t as f64 / 1000.0, ty(*series.values.get(i)?)])
                    })
                    .collect();
                if !marks.is_empty() {
                    plot.add(
                        Points::new("Masked outliers", PlotPoints::new(marks)).color(theme::OUTLIER).radius(3.0).shape(MarkerShape::Cross),
                    );
                }
                if let Some(t) = f.level_shift_ms {
                    let name = match f.new_level.filter(|l| l.returns) {
                        Some(l) => format!(
                            "Level shift (the fit follows the level after it; a return to the level before given {:.0} % in the bands)",
                            100.0 * l.chance
                        ),
                        None => "Level shift (the fit follows the level after it)".to_string(),
                    };
                    plot.add(VLine::new(name, t as f64 / 1000.0).color(theme::SHIFT).style(LineStyle::dashed_dense()));
                }
                if let Some(l) = f.new_level.filter(|l| !l.returns) {
                    plot.add(
                        VLine::new(
                            format!(
                                "Possible new level: the run from here fitted as a burst, its level given {:.0} % in the bands",
                                100.0 * l.chance
                            ),
                            l.from_ms as f64 / 1000.0,
                        )
                        .color(theme::SHIFT)
                        .style(LineStyle::dotted_dense()),
                    );
                }
            }
            plot.add(VLine::new("Now (end of history)", end_x).color(theme::NOW).style(LineStyle::dotted_dense()));
            for (i, c) in crossings.iter().enumerate() {
                let colour = theme::threshold(i);
                let name = c.threshold.text(unit);
                plot.add(HLine::new(name.clone(), ty(c.threshold.value)).color(colour).style(LineStyle::dashed_loose()).width(1.0));
                // Labelled on its line rather than in a legend, each a step further right
                // than the one before, so labels of close thresholds never overlap.
                let label_x = shown_from + (end_x - shown_from) * LABEL_STAGGER * i as f64;
                plot.add(
                    Text::new(format!("{name} label"), PlotPoint::new(label_x, ty(c.threshold.value)), name.clone())
                        .color(colour)
                        .anchor(egui::Align2::LEFT_BOTTOM),
                );
                if let Some(early) = c.earliest_ms {
                    let late = c.latest_ms.map_or(last_x, |t| t as f64 / 1000.0);
                    plot.add(
                        Span::new(format!("{name}: plausible breach"), early as f64 / 1000.0..=late)
                            .fill(colour.gamma_multiply(0.12))
                            .border_width(0.0),
                    );
                }
                if let Some(t) = c.median_ms {
                    plot.add(VLine::new(format!("{name}: median breach"), t as f64 / 1000.0).color(colour).width(1.5));
                }
            }
        })
        .response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_cut_at_its_gaps() {
        let nan = f64::NAN;
        let runs = finite_runs(&[[0.0, 1.0], [1.0, 2.0], [2.0, nan], [3.0, 4.0], [4.0, nan], [5.0, nan], [6.0, 7.0], [7.0, 8.0]]);
        assert_eq!(runs, vec![vec![[0.0, 1.0], [1.0, 2.0]], vec![[3.0, 4.0]], vec![[6.0, 7.0], [7.0, 8.0]]]);
        assert!(finite_runs(&[[0.0, nan], [f64::INFINITY, 1.0]]).is_empty());
    }

    /// Years of monthly values: the axis is marked on the first of months, quarters and
    /// years (the calendar's, worked by hand), labelled with the year.
    #[test]
    fn a_long_time_axis_is_marked_by_months() {
        use crate::time::days_from_civil;
        let at = |y, m, d| (days_from_civil(y, m, d) * DAY_MS / 1000) as f64;
        assert_eq!(
            month_starts(at(2025, 1, 15), at(2026, 1, 15), 3),
            vec![at(2025, 4, 1), at(2025, 7, 1), at(2025, 10, 1), at(2026, 1, 1)]
        );
        assert_eq!(month_starts(at(2025, 1, 1), at(2025, 3, 1), 1), vec![at(2025, 1, 1), at(2025, 2, 1), at(2025, 3, 1)]);
        assert_eq!(month_tick(at(2026, 1, 1)), "Jan 2026");
        let (month, quarter) = (crate::time::MONTH_MS as f64 / 1000.0, 12.0 * 7.0 * 86_400.0);
        assert_eq!(coarse_tick(at(2026, 1, 1), month).as_deref(), Some("Jan 2026"));
        assert_eq!(coarse_tick(at(2024, 10, 7), quarter).as_deref(), Some("Oct 7 2024"), "a Monday's twelve-week mark");
        assert_eq!(coarse_tick(at(2024, 10, 7), 7.0 * 86_400.0), None);
        assert_eq!(coarse_tick(at(2024, 10, 7), 4.0 * 7.0 * 86_400.0), None, "four weeks of Mondays: no year");
        // Four years on a chart whose finest grid step is 20 days, and two years on one
        // whose finest is 5 days (a year of history and one of forecast, 1,100 pixels
        // wide, at egui_plot's 8 pixels): every mark is a month start (months, quarters,
        // years), the coarsest are years.
        for (from, to, base_days) in [(at(2022, 1, 10), at(2026, 1, 10), 20.0), (at(2024, 12, 5), at(2026, 12, 5), 5.0)] {
            let marks = time_grid(GridInput { bounds: (from, to), base_step_size: base_days * 86_400.0 });
            let starts: Vec<f64> = marks.iter().map(|m| m.value).collect();
            assert!(starts.iter().all(|t| civil_from_days((*t as i64 * 1000).div_euclid(DAY_MS)).2 == 1), "{starts:?}");
            assert!(starts.contains(&at(2025, 1, 1)) && starts.contains(&at(2025, 5, 1)) && starts.contains(&at(2026, 1, 1)));
            let coarsest = marks.iter().map(|m| m.step_size).fold(0.0, f64::max);
            assert_eq!(coarsest, 12.0 * crate::time::MONTH_MS as f64 / 1000.0);
            let years: Vec<f64> = marks.iter().filter(|m| m.step_size == coarsest).map(|m| m.value).collect();
            assert!(years.iter().all(|t| civil_from_days((*t as i64 * 1000).div_euclid(DAY_MS)).1 == 1), "year starts: {years:?}");
        }
        // Finer marks of a day and a half: weeks, on Mondays, as before (month starts
        // beside them crowded the labels).
        let marks = time_grid(GridInput { bounds: (at(2025, 1, 1), at(2025, 6, 1)), base_step_size: 1.5 * 86_400.0 });
        assert!(marks.iter().any(|m| m.step_size >= 7.0 * 86_400.0));
        assert!(
            marks.iter().filter(|m| m.step_size >= 7.0 * 86_400.0).all(|m| ((m.value as i64) / 86_400 + 3).rem_euclid(7) == 0),
            "Mondays only"
        );
    }

    #[test]
    fn a_log_axis_is_marked_at_one_two_and_five_per_decade() {
        let marks = log_grid(GridInput { bounds: (2.0, 3.5), base_step_size: 0.01 });
        let shown: Vec<f64> = marks.iter().map(|m| (10f64.powf(m.value) * 1e6).round() / 1e6).collect();
        assert_eq!(shown, [100.0, 200.0, 500.0, 1000.0, 2000.0]);
        assert_eq!(marks.iter().filter(|m| m.step_size == 1.0).count(), 2, "100 and 1000 are the decades");
        // Decades crowded together keep only the decades.
        let crowded = log_grid(GridInput { bounds: (0.0, 20.0), base_step_size: 0.5 });
        assert!(crowded.iter().all(|m| m.step_size == 1.0) && crowded.len() == 21);
        assert!(log_grid(GridInput { bounds: (f64::NAN, 1.0), base_step_size: 0.1 }).is_empty());
    }
}
