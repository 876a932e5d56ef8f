//! The status line (last event, error, warnings count) and the warnings panel.

use crate::gui::action::Action;
use crate::gui::model::Model;
use crate::gui::theme;
use eframe::egui;

/// Draws the status line; returns the actions asked for.
pub fn ui(ui: &mut egui::Ui, model: &Model) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.horizontal(|ui| {
        if let Some(err) = &model.error {
            ui.label(egui::RichText::new(format!("Error: {err}")).color(theme::error(ui)));
            if ui.small_button(Action::DismissError.label()).on_hover_text(Action::DismissError.tooltip()).clicked() {
                actions.push(Action::DismissError);
            }
            ui.separator();
        }
        ui.label(&model.status);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let n = model.warnings.len();
            let text = egui::RichText::new(format!("{n} {}", crate::warning::plural(n, "warning", "warnings"))).color(if n > 0 {
                theme::warning(ui)
            } else {
                theme::muted(ui)
            });
            if ui.button(text).on_hover_text(Action::ToggleWarnings.tooltip()).clicked() {
                actions.push(Action::ToggleWarnings);
            }
        });
    });
    actions
}

/// The list of warnings, newest last.
pub fn warnings(ui: &mut egui::Ui, model: &Model) {
    ui.heading("Warnings");
    egui::ScrollArea::vertical().auto_shrink([false, false]).stick_to_bottom(true).show(ui, |ui| {
        if model.warnings.is_empty() {
            ui.label(egui::RichText::new("No warnings: nothing had to be repaired.").color(theme::muted(ui)));
        }
        for w in &model.warnings {
            ui.label(w.to_string());
        }
    });
}
