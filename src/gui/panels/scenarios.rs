//! The scenarios panel: the what-ifs as TOML (checked as you type), the comparison
//! table with the recommendation, and instances over demand for the scenarios ticked.

use crate::gui::action::Action;
use crate::gui::theme;
use crate::simulate::{Outcome, ScenarioFile};
use eframe::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints};

/// Transient state of the panel.
#[derive(Debug, Default)]
pub struct ScenarioView {
    /// The last results and the recommended one.
    pub outcomes: Vec<Outcome>,
    /// Index of the recommended outcome.
    pub recommended: Option<usize>,
    /// Which outcomes are drawn.
    pub shown: Vec<bool>,
    /// Show the editor.
    pub editing: bool,
}

/// Draws the panel; returns the actions asked for.
pub fn ui(ui: &mut egui::Ui, view: &mut ScenarioView, toml_text: &mut String, busy: bool) -> Vec<Action> {
    let mut actions = Vec::new();
    let parsed = ScenarioFile::parse(toml_text, "scenarios");
    ui.horizontal(|ui| {
        ui.heading("Scenarios");
        let run = Action::RunScenarios;
        if ui.add_enabled(!busy && parsed.is_ok(), egui::Button::new(run.label())).on_hover_text(run.tooltip()).clicked() {
            actions.push(run);
        }
        ui.toggle_value(&mut view.editing, "Edit (TOML)");
        match &parsed {
            Ok(f) => ui.label(
                egui::RichText::new(format!(
                    "{} scenarios, {} sample paths, risk budget {:.2} % of minutes over target",
                    f.scenario.len(),
                    f.paths,
                    100.0 * f.risk_budget
                ))
                .color(theme::MUTED),
            ),
            Err(e) => ui.label(egui::RichText::new(e.to_string()).color(theme::ERROR)),
        };
    });
    if view.editing {
        egui::ScrollArea::vertical().id_salt("toml").max_height(180.0).show(ui, |ui| {
            ui.add(egui::TextEdit::multiline(toml_text).code_editor().desired_width(f32::INFINITY).desired_rows(10));
        });
    }
    if view.outcomes.is_empty() {
        ui.label(egui::RichText::new("Run the scenarios to compare cost and risk.").color(theme::MUTED));
        return actions;
    }
    view.shown.resize(view.outcomes.len(), true);
    ui.columns(2, |cols| {
        egui::ScrollArea::vertical().id_salt("cmp").show(&mut cols[0], |ui| {
            egui::Grid::new("comparison").striped(true).show(ui, |ui| {
                for h in ["", "Scenario", "Cost / month", "Min > target", "Min > capacity", "P(saturation)", "Events"] {
                    ui.strong(h);
                }
                ui.end_row();
                for (i, o) in view.outcomes.iter().enumerate() {
                    ui.checkbox(&mut view.shown[i], "").on_hover_text("Draw its instances");
                    let name = if view.recommended == Some(i) { format!("{} (recommended)", o.name) } else { o.name.clone() };
                    let text =
                        |t: String| if view.recommended == Some(i) { egui::RichText::new(t).strong() } else { egui::RichText::new(t) };
                    ui.label(text(name)).on_hover_text(format!("policy: {}", o.policy));
                    ui.label(text(format!("{:.2}", o.cost_per_month)));
                    ui.label(text(format!("{:.0}", o.minutes_over_target)));
                    ui.label(text(format!("{:.0}", o.minutes_over_capacity)));
                    ui.label(text(format!("{:.1} %", 100.0 * o.saturation_probability)));
                    ui.label(text(o.scaling_events.to_string()));
                    ui.end_row();
                }
            });
        });
        let ui = &mut cols[1];
        Plot::new("instances_over_demand")
            .legend(Legend::default().position(egui_plot::Corner::LeftTop))
            .y_axis_label("instances")
            .x_grid_spacer(crate::gui::plot::time_grid)
            .x_axis_formatter(|mark, _| crate::gui::plot::format_tick(mark.value, 14.0))
            .show(ui, |plot| {
                // Demand, as the instances it needs at the first scenario's target utilisation.
                if let Some(first) = view.outcomes.first() {
                    let per = first.capacity.per_instance * first.capacity.target_utilisation;
                    let pts: Vec<[f64; 2]> = first
                        .steps
                        .iter()
                        .skip(first.forecast_start.saturating_sub(2016))
                        .map(|s| [s.t_ms as f64 / 1000.0, s.demand / per])
                        .collect();
                    plot.line(Line::new("demand (instances needed at target)", PlotPoints::new(pts)).color(theme::NOW).width(2.0));
                }
                for (i, o) in view.outcomes.iter().enumerate() {
                    if !view.shown.get(i).copied().unwrap_or(false) {
                        continue;
                    }
                    let pts: Vec<[f64; 2]> =
                        o.steps.iter().skip(o.forecast_start.saturating_sub(2016)).map(|s| [s.t_ms as f64 / 1000.0, s.instances]).collect();
                    plot.line(Line::new(o.name.clone(), PlotPoints::new(pts)).color(theme::series(i)));
                }
            });
    });
    actions
}
