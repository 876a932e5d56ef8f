//! The central view: a header with the key figures of the selected series, then the chart.

use crate::gui::model::Entry;
use crate::gui::{plot, theme};
use crate::time::format_short;
use eframe::egui;

/// Draws the header, the backtest table (when `show_backtest`) and the chart of `entry`.
pub fn ui(ui: &mut egui::Ui, entry: Option<&Entry>, levels: &[f64], show_backtest: bool, thresholds_text: &mut String) -> bool {
    let mut changed = false;
    let Some(entry) = entry else {
        ui.centered_and_justified(|ui| ui.label("Open a CSV file (File > Open CSV…) or drop one on the window."));
        return changed;
    };
    let s = &entry.series;
    ui.horizontal_wrapped(|ui| {
        ui.heading(s.display_name());
        let last = s.values.iter().rev().find(|v| !v.is_nan()).copied().unwrap_or(f64::NAN);
        ui.label(format!("last {} at {}", s.unit.format(last), format_short(s.end_ms())));
    });
    match &entry.forecast {
        Some(Ok(f)) => {
            ui.horizontal_wrapped(|ui| {
                ui.label(egui::RichText::new(format!("Model: {}", f.model)).strong());
                if let (Some(p), Some(b)) = (f.point.last(), f.widest()) {
                    let end = f.timestamp(f.point.len() - 1);
                    ui.label(format!(
                        "· at {}: {} ({} % band {} to {})",
                        format_short(end),
                        s.unit.format(*p),
                        crate::export::csv::level_label(b.level),
                        s.unit.format(b.lower.last().copied().unwrap_or(f64::NAN)),
                        s.unit.format(b.upper.last().copied().unwrap_or(f64::NAN))
                    ));
                }
            });
        }
        Some(Err(msg)) => {
            ui.label(egui::RichText::new(format!("No forecast: {msg}")).color(theme::ERROR));
        }
        None => {
            ui.label(egui::RichText::new("Forecasting…").color(theme::MUTED));
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
    });
    let crossings = entry.crossings(thresholds_text);
    if let Some(f) = forecast
        && s.unit.is_percent_like()
        && let Some(h) = crate::capacity::headroom(f, 100.0 * s.unit.per_percent(), 95.0, 0.8)
    {
        ui.label(
            egui::RichText::new(format!(
                "Headroom at the plausible peak ({} on {}): {:.0} % of capacity left; {:.0} % of today's capacity keeps that peak at 80 %",
                s.unit.format(h.peak_upper),
                format_short(h.peak_median_ms),
                100.0 * h.headroom,
                h.required_capacity / s.unit.per_percent()
            ))
            .small(),
        );
    }
    if let Some(f) = forecast {
        for c in &crossings {
            let d = |t: Option<i64>| t.map_or("not within the horizon".to_string(), crate::time::format_short);
            let text = if c.already {
                format!("{} {}: already reached", c.threshold.label, s.unit.format(c.threshold.value))
            } else {
                format!(
                    "{} {}: median {} · earliest {} · latest {} (first crossing, {} % of paths) · P(breach within {}) {:.0} %",
                    c.threshold.label,
                    s.unit.format(c.threshold.value),
                    d(c.median_ms),
                    d(c.earliest_ms),
                    d(c.latest_ms),
                    crate::export::csv::level_label(c.level),
                    crate::time::format_duration(f.step_ms * f.point.len() as i64),
                    100.0 * c.probability
                )
            };
            ui.label(egui::RichText::new(text).small());
        }
        if show_backtest {
            backtest_table(ui, f);
        }
    }
    plot::chart(ui, s, forecast, levels, &crossings);
    changed
}

/// The evidence: each candidate's backtest figures, the chosen one first in bold.
fn backtest_table(ui: &mut egui::Ui, f: &crate::forecast::Forecast) {
    let Some(ev) = &f.evidence else {
        ui.label(
            egui::RichText::new("No backtest: too little history. The bands are the model's own, not calibrated.").color(theme::WARNING),
        );
        return;
    };
    egui::CollapsingHeader::new(format!(
        "Backtest: {} windows of {} steps (the latest {} choose the model)",
        ev.plan.folds,
        ev.plan.fold_len,
        ev.plan.selection().len()
    ))
    .id_salt("backtest")
    .default_open(true)
    .show(ui, |ui| {
        egui::ScrollArea::vertical().max_height(110.0).show(ui, |ui| {
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
                for (s, is_chosen) in chosen.chain(ev.scores.iter().map(|s| (s, false))) {
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
        ui.label(
            egui::RichText::new(format!(
                "{what}; checked window by window: {cov}.{widened} Coverage columns are the models' own bands before calibration."
            ))
            .small()
            .color(theme::MUTED),
        );
    });
}
