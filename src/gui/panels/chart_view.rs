//! The central view: a header with the key figures of the selected series, then the chart.

use crate::gui::model::Entry;
use crate::gui::{plot, theme};
use eframe::egui;

/// Draws the header, the backtest table (when `show_backtest`) and the chart of `entry`.
pub fn ui(
    ui: &mut egui::Ui,
    entry: Option<&Entry>,
    levels: &[f64],
    show_backtest: bool,
    thresholds_text: &mut String,
    history_days: &mut u32,
    log_scale: &mut bool,
    time: &plot::TimeAxis,
) -> bool {
    let mut changed = false;
    let Some(entry) = entry else {
        ui.centered_and_justified(|ui| ui.label("Open a CSV file (File > Open CSV…) or drop one on the window."));
        return changed;
    };
    let s = &entry.series;
    ui.horizontal_wrapped(|ui| {
        ui.heading(s.display_name());
        let last = s.values.iter().rev().find(|v| !v.is_nan()).copied().unwrap_or(f64::NAN);
        ui.label(format!("last {} at {}", s.unit.format(last), time.clock.short(s.end_ms())));
    });
    match &entry.forecast {
        Some(Ok(f)) => {
            ui.horizontal_wrapped(|ui| {
                ui.label(egui::RichText::new(format!("Model: {}", f.model)).strong());
                if let (Some(p), Some(b)) = (f.point.last(), f.widest()) {
                    let end = f.timestamp(f.point.len() - 1);
                    ui.label(format!(
                        "· at {}: {} ({} % band {} to {})",
                        time.clock.short(end),
                        s.unit.format(*p),
                        crate::export::csv::level_label(b.level),
                        s.unit.format(b.lower.last().copied().unwrap_or(f64::NAN)),
                        s.unit.format(b.upper.last().copied().unwrap_or(f64::NAN))
                    ));
                }
            });
        }
        Some(Err(msg)) => {
            ui.label(egui::RichText::new(format!("No forecast: {msg}")).color(theme::error(ui)));
        }
        None => {
            ui.label(egui::RichText::new("Forecasting…").color(theme::muted(ui)));
        }
    }
    let forecast = entry.forecast.as_ref().and_then(|r| r.as_ref().ok());
    ui.horizontal(|ui| {
        let l = ui.label("Thresholds");
        let r = ui
            .add(egui::TextEdit::singleline(thresholds_text).desired_width(140.0).hint_text(if s.unit.is_percent_like() {
                "65,80,90"
            } else {
                "e.g. 800,950"
            }))
            .labelled_by(l.id)
            .on_hover_text("Levels in the series' unit, comma-separated (empty: defaults by kind)");
        changed = r.lost_focus();
        ui.separator();
        ui.label("History shown").on_hover_text(
            "How much history the chart opens on before the forecast; drag or zoom out for the rest, double-click to come back",
        );
        let presets = history_presets(s.step_ms);
        let shown = shown_preset(*history_days, s.step_ms, presets);
        for &(days, label) in presets {
            if ui.selectable_label(shown == days, label).clicked() {
                *history_days = days;
            }
        }
        ui.separator();
        ui.checkbox(log_scale, "Log scale").on_hover_text("A logarithmic value axis (values at or below zero sit at its floor)");
    });
    // Worked out off the UI thread; until then the runway says so.
    let crossings = entry.cached_crossings(thresholds_text);
    let pending = crossings.is_none();
    let crossings = crossings.unwrap_or_default();
    // The figures above the chart scroll within what the chart leaves them: the chart
    // keeps at least MIN_CHART_HEIGHT (or 70 % of a small panel), never a strip.
    let room = ui.available_height();
    let details = (room - MIN_CHART_HEIGHT).max(0.3 * room);
    // A solid scroll bar, and a line under the figures: cut off by the chart, the last
    // row (the backtest's header) looked hidden under the legend rather than scrollable.
    ui.scope(|ui| {
        ui.spacing_mut().scroll = egui::style::ScrollStyle::solid();
        egui::ScrollArea::vertical().id_salt("chart_details").max_height(details).auto_shrink([false, true]).show(ui, |ui| {
            if pending && forecast.is_some() {
                ui.label(egui::RichText::new("Working out the runway from the sample paths…").color(theme::muted(ui)));
            }
            details_ui(ui, entry, forecast, &crossings, show_backtest, &time.clock);
        });
    });
    ui.separator();
    plot::chart(ui, s, forecast, levels, &crossings, *history_days, *log_scale, time);
    changed
}

/// The "History shown" choices (days, 0 for all) for a series at `step_ms`: a week to
/// four weeks under a day's step; 90 days to two years for daily and weekly values; two to
/// ten years for months and longer (the chart shows 24 steps at least, so on monthly
/// values 7, 14 and 28 days were all the same two years).
fn history_presets(step_ms: i64) -> &'static [(u32, &'static str)] {
    use crate::pipeline::StepScale;
    match StepScale::of(Some(step_ms)) {
        StepScale::Months => &[(730, "2y"), (1826, "5y"), (3652, "10y"), (0, "all")],
        StepScale::Days => &[(90, "90d"), (365, "1y"), (730, "2y"), (0, "all")],
        StepScale::UnderADay => &[(7, "7d"), (14, "14d"), (28, "28d"), (0, "all")],
    }
}

/// The choice of `presets` to show selected: `history_days` itself, or else the one
/// nearest what the chart shows ([`plot::shown_history_ms`]): 28 days of monthly values
/// open on two years.
fn shown_preset(history_days: u32, step_ms: i64, presets: &[(u32, &str)]) -> u32 {
    if history_days == 0 || presets.iter().any(|(d, _)| *d == history_days) {
        return history_days;
    }
    let shown = plot::shown_history_ms(history_days, step_ms) / crate::time::DAY_MS as f64;
    presets
        .iter()
        .filter(|(d, _)| *d > 0)
        .min_by(|a, b| (f64::from(a.0) - shown).abs().total_cmp(&(f64::from(b.0) - shown).abs()))
        .map_or(history_days, |(d, _)| *d)
}

/// The chart keeps at least this height (points) when the figures above it are long.
const MIN_CHART_HEIGHT: f32 = 280.0;

/// Headroom, runway and backtest figures of `entry`.
fn details_ui(
    ui: &mut egui::Ui,
    entry: &Entry,
    forecast: Option<&crate::forecast::Forecast>,
    crossings: &[crate::capacity::Crossing],
    show_backtest: bool,
    clock: &crate::time::Clock,
) {
    let s = &entry.series;
    if let Some(f) = forecast
        && s.unit.is_percent_like()
        && let Some(h) = crate::capacity::headroom(f, 100.0 * s.unit.per_percent(), 95.0, 0.8)
    {
        ui.label(
            egui::RichText::new(format!(
                "Headroom at the plausible peak ({} on {}): {:.0} % of capacity left; {:.0} % of today's capacity keeps that peak at 80 %",
                s.unit.format(h.peak_upper),
                clock.short(h.peak_median_ms),
                100.0 * h.headroom,
                h.required_capacity / s.unit.per_percent()
            ))
            .small(),
        );
    }
    if let Some(f) = forecast
        && !crossings.is_empty()
    {
        runway_table(ui, s, f, crossings, clock);
    }
    if let Some(f) = forecast
        && show_backtest
    {
        backtest_table(ui, f);
    }
}

/// The evidence: each candidate's backtest figures, the chosen one first in bold.
fn backtest_table(ui: &mut egui::Ui, f: &crate::forecast::Forecast) {
    let Some(ev) = &f.evidence else {
        ui.label(
            egui::RichText::new("No backtest: too little history. The bands are the model's own, not calibrated.")
                .color(theme::warning(ui)),
        );
        return;
    };
    egui::CollapsingHeader::new(format!(
        "Backtest: {} windows of {} {} (the latest {} choose the model)",
        ev.plan.folds,
        ev.plan.fold_len,
        crate::warning::plural(ev.plan.fold_len, "step", "steps"),
        ev.plan.selection().len()
    ))
    .id_salt("backtest")
    .default_open(true)
    .show(ui, |ui| {
        // In the figures' own scroll area: a second one inside it, 110 points high,
        // showed two rows of the table between two scroll bars.
        egui::Grid::new("backtest_grid").striped(true).num_columns(4 + ev.chosen.coverage.len()).show(ui, |ui| {
            ui.strong("Candidate");
            ui.strong("MASE");
            ui.strong("sMAPE");
            for c in &ev.chosen.coverage {
                ui.strong(format!("Coverage {} %", crate::export::csv::level_label(c.level)));
            }
            ui.strong("MSIS");
            ui.end_row();
            let chosen = std::iter::once((&ev.chosen, true));
            // The chosen candidate's own row says what the chosen row already says.
            let others = ev.scores.iter().filter(|s| **s != ev.chosen).map(|s| (s, false));
            for (s, is_chosen) in chosen.chain(others) {
                let text = |t: String| if is_chosen { egui::RichText::new(t).strong() } else { egui::RichText::new(t) };
                ui.label(text(if is_chosen { format!("{} (chosen)", s.model) } else { s.model.clone() }));
                ui.label(text(format!("{:.3}", s.mase)));
                ui.label(text(format!("{:.2} %", s.smape)));
                for c in &s.coverage {
                    ui.label(text(format!("{:.1} %", 100.0 * c.value)));
                }
                ui.label(text(format!("{:.2}", s.msis)));
                ui.end_row();
            }
        });
        let cov = match &ev.calibrated_coverage {
            Some(cov) => cov
                .iter()
                .map(|c| format!("{} % band covered {:.1} %", crate::export::csv::level_label(c.level), 100.0 * c.value))
                .collect::<Vec<_>>()
                .join(", "),
            None => "one window only: no independent check".into(),
        };
        let what = if ev.calibrated { "Bands calibrated on the backtest errors" } else { "Bands are the model's own" };
        let widened: String = ev
            .rescaled
            .iter()
            .map(|r| {
                format!(" The {} % band was then widened ×{:.2} to meet its level.", crate::export::csv::level_label(r.level), r.value)
            })
            .collect();
        let left_out = match ev.left_out {
            0 => String::new(),
            n => format!(
                " {n} {} scored after the level shift the final fit levelled at left out of the calibration.",
                crate::warning::plural(n, "window", "windows")
            ),
        };
        let unfitted = match ev.unfitted {
            0 => String::new(),
            n => format!(
                " {n} older {} the chosen model could not be fitted on left out of the calibration.",
                crate::warning::plural(n, "window", "windows")
            ),
        };
        ui.label(
            egui::RichText::new(format!(
                "{what}; checked window by window: {cov}.{widened}{left_out}{unfitted} Coverage columns are the models' own bands before calibration."
            ))
            .small()
            .color(theme::muted(ui)),
        );
    });
}

/// The runway as a table: one row per threshold, coloured as its line, with the chance
/// of reaching it within the horizon and the first-crossing dates.
fn runway_table(
    ui: &mut egui::Ui,
    s: &crate::series::Series,
    f: &crate::forecast::Forecast,
    crossings: &[crate::capacity::Crossing],
    clock: &crate::time::Clock,
) {
    let horizon = crate::time::format_duration(f.step_ms * f.point.len() as i64);
    let d = |t: Option<i64>| t.map_or("—".to_string(), |t| clock.short(t));
    egui::Grid::new(("runway", s.display_name())).striped(true).num_columns(5).spacing([16.0, 2.0]).show(ui, |ui| {
        for h in ["Threshold", &format!("P(reached within {horizon})"), "Earliest", "Median", "Latest"] {
            ui.label(egui::RichText::new(h).small().strong());
        }
        ui.end_row();
        for (i, c) in crossings.iter().enumerate() {
            let colour = crate::gui::theme::threshold(i);
            ui.horizontal(|ui| {
                let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
                ui.painter().rect_filled(rect, 2.0, colour);
                ui.label(egui::RichText::new(c.threshold.text(s.unit)).color(colour));
            });
            if c.already {
                ui.label(egui::RichText::new("already reached").color(colour).strong());
                ui.label("");
                ui.label("");
                ui.label("");
            } else {
                let p = egui::RichText::new(crate::capacity::chance_text(c.probability));
                ui.label(if c.probability >= 0.5 { p.color(colour).strong() } else { p });
                ui.label(d(c.earliest_ms));
                ui.label(d(c.median_ms));
                ui.label(d(c.latest_ms));
            }
            ui.end_row();
        }
    })
    .response
    .on_hover_text(format!(
        "Quantiles of the first-crossing time over the forecast's sample paths ({} % of them between earliest and latest); — is beyond the horizon. The chance is the paths' share weighed by the backtest windows behind them",
        crossings.first().map_or("95".to_string(), |c| crate::export::csv::level_label(c.level))
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{DAY_MS, MINUTE_MS, MONTH_MS};

    #[test]
    fn history_choices_follow_the_step() {
        assert_eq!(history_presets(5 * MINUTE_MS)[2], (28, "28d"));
        assert_eq!(history_presets(DAY_MS)[1], (365, "1y"));
        assert_eq!(history_presets(MONTH_MS)[0], (730, "2y"));
        // 28 days of monthly values open on 24 months (730.5 days): "2y" shows selected.
        assert_eq!(shown_preset(28, MONTH_MS, history_presets(MONTH_MS)), 730);
        assert_eq!(shown_preset(28, 5 * MINUTE_MS, history_presets(5 * MINUTE_MS)), 28);
        assert_eq!(shown_preset(0, MONTH_MS, history_presets(MONTH_MS)), 0);
        // 28 days of daily values: nearest is 90 days.
        assert_eq!(shown_preset(28, DAY_MS, history_presets(DAY_MS)), 90);
    }
}
