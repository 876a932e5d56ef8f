//! The top bar: the File menu and the forecast controls (horizon, bands, seasonality).

use super::action_button;
use crate::gui::action::{Action, ExportKind};
use crate::gui::state::AppState;
use eframe::egui;

/// Draws the menu and controls; returns the actions asked for.
///
/// `edit` holds the labels of the next undo and redo ("Undo thresholds"), when there
/// is something to undo or redo; `local` is the system's zone, looked up once by the app.
/// `finest_step_ms` is the shortest step of the series loaded (the horizon presets
/// follow it: days for minutes and hours, months for days, years for months; with
/// minutes and months loaded together, days, which a 5-minute series can take).
pub fn ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    busy: Option<(&str, f32)>,
    edit: (Option<String>, Option<String>),
    local: &crate::time::Clock,
    finest_step_ms: Option<i64>,
) -> Vec<Action> {
    let mut actions = Vec::new();
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            let open = Action::OpenCsvDialog;
            let shortcut = open.shortcut().map(|s| ui.ctx().format_shortcut(&s)).unwrap_or_default();
            if ui.add(egui::Button::new(open.label()).shortcut_text(shortcut)).on_hover_text(open.tooltip()).clicked() {
                actions.push(open);
            }
            let open_plan = Action::OpenPlan;
            let shortcut = open_plan.shortcut().map(|s| ui.ctx().format_shortcut(&s)).unwrap_or_default();
            if ui.add(egui::Button::new(open_plan.label()).shortcut_text(shortcut)).on_hover_text(open_plan.tooltip()).clicked() {
                actions.push(open_plan);
                ui.close();
            }
            ui.menu_button("Open Recent", |ui| {
                if state.recent.is_empty() {
                    ui.label("Nothing yet");
                }
                for p in state.recent.clone() {
                    if ui.button(p.display().to_string()).clicked() {
                        let plan = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("ron"));
                        actions.push(if plan { Action::OpenPlanFrom(p) } else { Action::Load(vec![p]) });
                        ui.close();
                    }
                }
            });
            ui.separator();
            for kind in [ExportKind::Plan, ExportKind::Pdf, ExportKind::Csv, ExportKind::Rules, ExportKind::Hpa, ExportKind::Aws, ExportKind::Keda] {
                let a = Action::Export(kind);
                let shortcut = a.shortcut().map(|s| ui.ctx().format_shortcut(&s)).unwrap_or_default();
                if ui.add(egui::Button::new(a.label()).shortcut_text(shortcut)).on_hover_text(a.tooltip()).clicked() {
                    actions.push(a);
                    ui.close();
                }
            }
            ui.separator();
            egui::Grid::new("plan_meta").num_columns(2).show(ui, |ui| {
                let l = ui.label("Plan title");
                ui.add(egui::TextEdit::singleline(&mut state.plan_title).desired_width(180.0)).labelled_by(l.id);
                ui.end_row();
                let l = ui.label("Author");
                ui.add(egui::TextEdit::singleline(&mut state.plan_author).desired_width(180.0)).labelled_by(l.id);
                ui.end_row();
            });
            ui.separator();
            let connect = Action::ConnectPrometheus;
            if ui.button(connect.label()).on_hover_text(connect.tooltip()).clicked() {
                actions.push(connect);
                ui.close();
            }
            ui.separator();
            if ui.button("Quit").clicked() {
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
        });
        ui.menu_button("Edit", |ui| {
            for (action, label) in [(Action::Undo, edit.0.clone()), (Action::Redo, edit.1.clone())] {
                let shortcut = action.shortcut().map(|s| ui.ctx().format_shortcut(&s)).unwrap_or_default();
                let text = label.unwrap_or_else(|| action.label().to_string());
                let enabled = text != action.label();
                if ui.add_enabled(enabled, egui::Button::new(text).shortcut_text(shortcut)).on_hover_text(action.tooltip()).clicked() {
                    actions.push(action);
                    ui.close();
                }
            }
        });
        ui.menu_button("View", |ui| {
            if ui.checkbox(&mut state.show_warnings, "Warnings panel").changed() {
                ui.close();
            }
            if ui.checkbox(&mut state.show_backtest, "Backtest table").changed() {
                ui.close();
            }
            if ui.checkbox(&mut state.show_scenarios, "Scenarios panel").changed() {
                ui.close();
            }
            ui.separator();
            ui.label("Times");
            let local = format!("Local ({})", local.short(crate::time::now_ms()).rsplit(' ').next().unwrap_or("system"));
            for (value, label) in [(false, "UTC".to_string()), (true, local)] {
                if ui.radio_value(&mut state.local_time, value, label).changed() {
                    ui.close();
                }
            }
            ui.checkbox(&mut state.link_time_axes, "Link the charts' time axes")
                .on_hover_text("Pan and zoom the series chart and the scenario chart together");
            ui.separator();
            ui.label("Theme");
            for (value, label) in [("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")] {
                if ui.radio_value(&mut state.theme, value.to_string(), label).changed() {
                    crate::gui::theme::set_preference(ui.ctx(), &state.theme);
                    ui.close();
                }
            }
        });
        ui.menu_button("Help", |ui| {
            ui.label(egui::RichText::new(format!("Headroom {}", env!("CARGO_PKG_VERSION"))).strong());
            ui.label("A capacity planner for SREs: forecasts with calibrated bands, runway, scaling what-ifs, exports.");
            ui.separator();
            ui.label("Built with:");
            for (name, version) in crate::gui::theme::dependency_versions() {
                ui.label(format!("  {name} {version}"));
            }
            ui.separator();
            ui.label("Shortcuts: Ctrl+O open CSV, Ctrl+Shift+O open plan, Ctrl+S save plan, Ctrl+E export PDF, Ctrl+R refit, Ctrl+Z undo, Ctrl+Shift+Z redo, Esc cancel");
        });
    });
    // Wraps onto a second row in a narrow window instead of running past its edge.
    ui.horizontal_wrapped(|ui| {
        if action_button(ui, &Action::OpenCsvDialog, true) {
            actions.push(Action::OpenCsvDialog);
        }
        if action_button(ui, &Action::ConnectPrometheus, true) {
            actions.push(Action::ConnectPrometheus);
        }
        ui.separator();
        let label = ui.label("Horizon");
        let h = ui
            .add(egui::TextEdit::singleline(&mut state.horizon).desired_width(56.0))
            .labelled_by(label.id)
            .on_hover_text("Steps (576) or a duration: 2d, 36h, 2w");
        if h.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            actions.push(Action::Refit);
        }
        for &preset in crate::pipeline::horizon_presets(finest_step_ms) {
            if ui.selectable_label(state.horizon == preset, preset).clicked() {
                state.horizon = preset.to_string();
                actions.push(Action::Refit);
            }
        }
        ui.separator();
        // Which bands the chart shows: the forecasts carry both whatever is ticked, so the
        // sample paths, the runway and the scenarios' risk never move with a display
        // choice (fitted with the 95 % band alone, the paths had other knots).
        ui.checkbox(&mut state.show_80, "80 % band");
        ui.checkbox(&mut state.show_95, "95 % band");
        ui.separator();
        let label = ui.label("Seasonality");
        let p = ui
            .add(egui::TextEdit::singleline(&mut state.periods).desired_width(80.0))
            .labelled_by(label.id)
            .on_hover_text("auto (detect day and week), periods in steps, e.g. 288,2016, or as durations, e.g. 1d,7d");
        if p.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            actions.push(Action::Refit);
        }
        ui.separator();
        let label = ui.label("Model");
        let before = state.model.clone();
        egui::ComboBox::from_id_salt("model")
            .selected_text(state.model.as_str())
            .show_ui(ui, |ui| {
                let models: &[&str] = if cfg!(feature = "prophet") {
                    &["auto", "combination", "mstl", "mstl-linear", "ets", "seasonal-naive", "linear", "prophet"]
                } else {
                    &["auto", "combination", "mstl", "mstl-linear", "ets", "seasonal-naive", "linear"]
                };
                for &m in models {
                    ui.selectable_value(&mut state.model, m.to_string(), m);
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text("auto: the best by backtest; or force one model");
        if state.model != before {
            actions.push(Action::Refit);
        }
        if action_button(ui, &Action::Refit, busy.is_none()) {
            actions.push(Action::Refit);
        }
        if let Some((name, fraction)) = busy {
            ui.separator();
            ui.spinner();
            ui.add(egui::ProgressBar::new(fraction).desired_width(120.0).text(name));
            if action_button(ui, &Action::Cancel, true) {
                actions.push(Action::Cancel);
            }
        }
    });
    actions
}
