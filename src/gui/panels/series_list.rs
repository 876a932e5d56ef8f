//! The series list: name, unit, length and forecast state of every loaded series.

use crate::gui::action::Action;
use crate::gui::model::Model;
use crate::gui::theme;
use crate::time::format_duration;
use eframe::egui;

/// Draws the list; returns a selection action when the user picks a series.
pub fn ui(ui: &mut egui::Ui, model: &Model) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.heading("Series");
    if model.entries.is_empty() {
        ui.label(egui::RichText::new("Nothing loaded. Open a CSV file or drop one here.").color(theme::muted(ui)));
        return actions;
    }
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        for (i, e) in model.entries.iter().enumerate() {
            let s = &e.series;
            let selected = i == model.selected;
            let r = ui.selectable_label(selected, egui::RichText::new(s.display_name()).strong());
            if r.clicked() {
                actions.push(Action::Select(i));
            }
            // Samples, and the slots when gaps or a finer grid than the samples' make more.
            let points =
                if e.samples == s.len() { format!("{} points", s.len()) } else { format!("{} points on {} slots", e.samples, s.len()) };
            let detail = format!(
                "{points} · {} steps · {}",
                format_duration(s.step_ms),
                if s.unit.symbol().is_empty() { "no unit" } else { s.unit.symbol() }
            );
            ui.label(egui::RichText::new(detail).small().color(theme::muted(ui)));
            match &e.forecast {
                Some(Ok(f)) => {
                    ui.label(egui::RichText::new(&f.model).small());
                }
                Some(Err(msg)) => {
                    ui.label(egui::RichText::new(msg).small().color(theme::error(ui)));
                }
                None => {
                    ui.label(egui::RichText::new("not forecast yet").small().color(theme::muted(ui)));
                }
            }
            ui.add_space(4.0);
        }
    });
    actions
}
