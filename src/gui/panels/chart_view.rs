//! The central view: a header with the key figures of the selected series, then the chart.

use crate::gui::model::Entry;
use crate::gui::{plot, theme};
use crate::time::format_short;
use eframe::egui;

/// Draws the header and chart of `entry`.
pub fn ui(ui: &mut egui::Ui, entry: Option<&Entry>, levels: &[f64]) {
    let Some(entry) = entry else {
        ui.centered_and_justified(|ui| ui.label("Open a CSV file (File > Open CSV…) or drop one on the window."));
        return;
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
    plot::chart(ui, s, forecast, levels);
}
