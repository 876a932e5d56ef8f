//! The window's panels. Each draws from the model and the state and returns the
//! actions the user asked for; none changes the model itself.

pub mod chart_view;
pub mod controls;
pub mod overview;
pub mod path_prompt;
pub mod prometheus;
pub mod scenarios;
pub mod series_list;
pub mod status;

use super::action::Action;
use eframe::egui;

/// A button for `action`, with its label, tooltip and shortcut text.
pub fn action_button(ui: &mut egui::Ui, action: &Action, enabled: bool) -> bool {
    let mut tip = action.tooltip().to_string();
    if let Some(sc) = action.shortcut() {
        tip.push_str(&format!(" ({})", ui.ctx().format_shortcut(&sc)));
    }
    ui.add_enabled(enabled, egui::Button::new(action.label())).on_hover_text(tip).clicked()
}
