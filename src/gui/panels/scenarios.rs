//! The scenarios panel: the what-ifs as TOML (checked as you type), the comparison
//! table with the recommendation, and instances over demand for the scenarios ticked.

use crate::gui::action::Action;
use crate::gui::theme;
use crate::simulate::{Outcome, ScenarioFile, Standing};
use eframe::egui;
use egui_plot::Plot;

/// Transient state of the panel.
#[derive(Debug, Default)]
pub struct ScenarioView {
    /// The last results and the recommended one.
    pub outcomes: Vec<Outcome>,
    /// Index of the recommended outcome (the least risky when none keeps within the
    /// risk budget).
    pub recommended: Option<usize>,
    /// The recommended outcome keeps within the risk budget.
    pub within_budget: bool,
    /// Which outcomes are drawn.
    pub shown: Vec<bool>,
    /// Show the editor.
    pub editing: bool,
    /// The scenario the form edits.
    pub form_index: usize,
}

impl ScenarioView {
    /// New results, all drawn.
    pub fn set(&mut self, outcomes: Vec<Outcome>, recommended: Option<usize>, within_budget: bool) {
        self.shown = vec![true; outcomes.len()];
        self.outcomes = outcomes;
        self.recommended = recommended;
        self.within_budget = within_budget;
    }
}

/// Draws the panel; returns the actions asked for.
///
/// The chart shares its time axis with the series chart (`time`), opening on `window`
/// (seconds) when one is given.
pub fn ui(
    ui: &mut egui::Ui,
    view: &mut ScenarioView,
    toml_text: &mut String,
    busy: bool,
    time: &crate::gui::plot::TimeAxis,
    window: Option<(f64, f64)>,
) -> Vec<Action> {
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
                .color(theme::muted(ui)),
            ),
            Err(e) => ui.label(egui::RichText::new(e.to_string()).color(theme::error(ui))),
        };
    });
    if view.editing {
        ui.columns(2, |cols| {
            if let Ok(mut file) = parsed.as_ref().map(Clone::clone) {
                if form(&mut cols[0], view, &mut file)
                    && let Ok(text) = toml::to_string(&file)
                {
                    *toml_text = text;
                }
            }
            egui::ScrollArea::vertical().id_salt("toml").max_height(200.0).show(&mut cols[1], |ui| {
                ui.add(egui::TextEdit::multiline(toml_text).code_editor().desired_width(f32::INFINITY).desired_rows(10));
            });
        });
    }
    if view.outcomes.is_empty() {
        ui.label(egui::RichText::new("Run the scenarios to compare cost and risk.").color(theme::muted(ui)));
        return actions;
    }
    view.shown.resize(view.outcomes.len(), true);
    // The table takes the larger share: its seven columns ran past a half-width pane at the
    // default window size and hid P(saturation) and Events behind a scroll bar.
    let (width, height) = (ui.available_width(), ui.available_height());
    let table_width = (TABLE_SHARE * width).min(TABLE_MAX_WIDTH);
    ui.horizontal_top(|ui| {
        ui.allocate_ui(egui::vec2(table_width, height), |ui| comparison_table(ui, view));
        ui.vertical(|ui| instances_chart(ui, view, time, window));
    });
    actions
}

/// The order of the table's rows over `len` outcomes: the recommended one first (with
/// eight scenarios at the default window size it lay below the fold, and the table is
/// read for it), then the rest as the scenario file lists them.
fn table_order(len: usize, recommended: Option<usize>) -> Vec<usize> {
    let first = recommended.filter(|r| *r < len);
    first.into_iter().chain((0..len).filter(|i| Some(*i) != first)).collect()
}

/// The comparison table: cost and risk per scenario, the recommended one marked, each row
/// the chart's key (its tick draws it, its colour is its line's).
fn comparison_table(ui: &mut egui::Ui, view: &mut ScenarioView) {
    egui::ScrollArea::both().id_salt("cmp").auto_shrink([false, false]).show(ui, |ui| {
        // Cells keep their lines; the table scrolls sideways instead.
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
        egui::Grid::new("comparison").striped(true).show(ui, |ui| {
            for h in ["", "Scenario", "Cost / month", "Min > target", "Min > capacity", "P(saturation)", "Events"] {
                ui.strong(h);
            }
            ui.end_row();
            for i in table_order(view.outcomes.len(), view.recommended) {
                let o = &view.outcomes[i];
                ui.horizontal(|ui| {
                    ui.checkbox(&mut view.shown[i], "").on_hover_text("Draw its instances");
                    // The table is the chart's key: each scenario's line colour.
                    let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 4.0), egui::Sense::hover());
                    ui.painter().rect_filled(rect, 1.0, theme::series(i));
                });
                let standing = Standing::of(i, view.recommended, view.within_budget);
                let recommended = standing != Standing::Other;
                let text = |t: String| if recommended { egui::RichText::new(t).strong() } else { egui::RichText::new(t) };
                // "recommended" on a line of its own under the name: after it, the name
                // column grew so wide that the table ran past its pane.
                let name = |ui: &mut egui::Ui| {
                    ui.label(text(o.name.clone())).on_hover_text(format!("policy: {}", o.policy));
                };
                let mark = match standing {
                    Standing::Recommended => Some(("recommended", theme::HISTORY, "the cheapest scenario within the risk budget")),
                    Standing::LeastRisky => Some((
                        "least risky, over budget",
                        theme::warning(ui),
                        "no scenario keeps within the risk budget: this one comes nearest",
                    )),
                    Standing::Other => None,
                };
                match mark {
                    Some((word, colour, hover)) => {
                        ui.vertical(|ui| {
                            name(ui);
                            ui.label(egui::RichText::new(word).small().color(colour)).on_hover_text(hover);
                        });
                    }
                    None => name(ui),
                }
                ui.label(text(format!("{:.2}", o.cost_per_month)));
                ui.label(text(crate::export::minutes(o.minutes_over_target)));
                ui.label(text(crate::export::minutes(o.minutes_over_capacity)));
                ui.label(text(format!("{:.1} %", 100.0 * o.saturation_probability)));
                ui.label(text(o.scaling_events.to_string()));
                ui.end_row();
            }
        });
    });
}

/// Instances over demand for the scenarios ticked, on the time axis the series chart
/// shares, from the start of `window` (seconds; else the last week).
fn instances_chart(ui: &mut egui::Ui, view: &ScenarioView, time: &crate::gui::plot::TimeAxis, window: Option<(f64, f64)>) {
    // The key above the plot, never over it: the scenarios' colours are in the table.
    ui.horizontal(|ui| {
        let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 4.0), egui::Sense::hover());
        ui.painter().rect_filled(rect, 1.0, theme::NOW);
        ui.label(egui::RichText::new("demand (instances needed at target)").small());
        ui.label(egui::RichText::new("· each scenario in its colour in the table").small().color(theme::muted(ui)));
    });
    // From the start of the shared window (else the last week) to the end.
    let from_ms = window.map(|(a, _)| (a * 1000.0) as i64);
    let shown = move |o: &crate::simulate::Outcome| {
        let skip = match from_ms {
            Some(t) => o.steps.partition_point(|s| s.t_ms < t),
            None => o.forecast_start.saturating_sub(2016),
        };
        skip.min(o.forecast_start)
    };
    let mut plot = Plot::new("instances_over_demand").y_axis_label("instances").allow_scroll(false);
    if let Some((from, to)) = window.filter(|(a, b)| b > a) {
        plot = plot.default_x_bounds(from, to);
    }
    let clock = time.clock.clone();
    let end_ms = view.outcomes.first().and_then(|o| o.steps.last()).map_or(0, |s| s.t_ms);
    time.apply(time.link(plot), end_ms, 14.0)
        .label_formatter(move |pos| {
            let p = match pos {
                egui_plot::HoverPosition::NearDataPoint { position, .. } | egui_plot::HoverPosition::Elsewhere { position } => position,
            };
            Some(format!("{}\n{:.1} instances", clock.short((p.x * 1000.0) as i64), p.y))
        })
        .show(ui, |plot| {
            // Demand, as the instances it needs at the first scenario's target utilisation.
            if let Some(first) = view.outcomes.first() {
                let per = first.capacity.per_instance * first.capacity.target_utilisation;
                let pts: Vec<[f64; 2]> = first.steps.iter().skip(shown(first)).map(|s| [s.t_ms as f64 / 1000.0, s.demand / per]).collect();
                crate::gui::plot::broken_line(plot, "demand (instances needed at target)", &pts, theme::NOW, 2.0);
            }
            for (i, o) in view.outcomes.iter().enumerate() {
                if !view.shown.get(i).copied().unwrap_or(false) {
                    continue;
                }
                let pts: Vec<[f64; 2]> = o.steps.iter().skip(shown(o)).map(|s| [s.t_ms as f64 / 1000.0, s.instances]).collect();
                crate::gui::plot::broken_line(plot, &o.name, &pts, theme::series(i), 1.5);
            }
        });
}

/// Share of the scenario pane's width the comparison table takes; the chart the rest.
const TABLE_SHARE: f32 = 0.53;

/// Widest the comparison table grows (points): its seven columns at their longest names.
const TABLE_MAX_WIDTH: f32 = 760.0;

/// A form for one scenario's policy, capacity and prices. Returns true when it changed
/// the file (the TOML is then rewritten from it).
fn form(ui: &mut egui::Ui, view: &mut ScenarioView, file: &mut ScenarioFile) -> bool {
    use crate::simulate::policy::{Hpa, Predictive, StepScaling, TargetTracking};
    use crate::simulate::{Policy, PricingModel};
    let mut changed = false;
    if file.scenario.is_empty() {
        return false;
    }
    view.form_index = view.form_index.min(file.scenario.len() - 1);
    let names: Vec<String> = file.scenario.iter().map(|s| s.name.clone()).collect();
    egui::ComboBox::from_label("Scenario").selected_text(names[view.form_index].as_str()).show_ui(ui, |ui| {
        for (i, n) in names.iter().enumerate() {
            ui.selectable_value(&mut view.form_index, i, n);
        }
    });
    let sc = &mut file.scenario[view.form_index];
    egui::Grid::new("scenario_form").num_columns(2).show(ui, |ui| {
        let l = ui.label("Name");
        changed |= ui.text_edit_singleline(&mut sc.name).labelled_by(l.id).changed();
        ui.end_row();
        let l = ui.label("Demand series");
        changed |= ui.text_edit_singleline(&mut sc.series).labelled_by(l.id).changed();
        ui.end_row();
        let l = ui.label("Policy");
        let mut kind = sc.policy.kind();
        egui::ComboBox::from_id_salt("policy_kind")
            .selected_text(kind)
            .show_ui(ui, |ui| {
                for k in ["static", "hpa", "target_tracking", "step", "predictive"] {
                    ui.selectable_value(&mut kind, k, k);
                }
            })
            .response
            .labelled_by(l.id);
        if kind != sc.policy.kind() {
            sc.policy = match kind {
                "static" => Policy::Static { count: 10 },
                "hpa" => Policy::Hpa(Hpa::default()),
                "target_tracking" => Policy::TargetTracking(TargetTracking::default()),
                "step" => StepScaling::preset("gradual", 1, 10).map_or(Policy::Static { count: 10 }, Policy::Step),
                _ => Policy::Predictive(Predictive::default()),
            };
            changed = true;
        }
        ui.end_row();
        let mut bounds = |ui: &mut egui::Ui, min: &mut u32, max: &mut u32| {
            let l = ui.label("Min / max instances");
            ui.horizontal(|ui| {
                changed |= ui.add(egui::DragValue::new(min).range(0..=10_000)).labelled_by(l.id).changed();
                changed |= ui.add(egui::DragValue::new(max).range(0..=10_000)).changed();
            });
            ui.end_row();
        };
        match &mut sc.policy {
            Policy::Static { count } => {
                let l = ui.label("Instances");
                changed |= ui.add(egui::DragValue::new(count).range(0..=10_000)).labelled_by(l.id).changed();
                ui.end_row();
            }
            Policy::Hpa(h) => {
                bounds(ui, &mut h.min, &mut h.max);
                let l = ui.label("Target utilisation");
                changed |= ui.add(egui::Slider::new(&mut h.target, 0.1..=1.0)).labelled_by(l.id).changed();
                ui.end_row();
            }
            Policy::TargetTracking(t) => {
                bounds(ui, &mut t.min, &mut t.max);
                let l = ui.label("Target utilisation");
                changed |= ui.add(egui::Slider::new(&mut t.target, 0.1..=1.0)).labelled_by(l.id).changed();
                ui.end_row();
            }
            Policy::Step(st) => bounds(ui, &mut st.min, &mut st.max),
            Policy::Predictive(p) => {
                bounds(ui, &mut p.min, &mut p.max);
                let l = ui.label("Target utilisation");
                changed |= ui.add(egui::Slider::new(&mut p.target, 0.1..=1.0)).labelled_by(l.id).changed();
                ui.end_row();
            }
            Policy::Schedule { time_zone, .. } => {
                ui.label("Schedule rules");
                // Which clock the rules' hours are on, so that 9–17 is not read in the wrong one.
                let clock = time_zone.as_deref().unwrap_or("UTC");
                ui.label(egui::RichText::new(format!("edit them in the TOML (hours in {clock})")).color(theme::muted(ui)));
                ui.end_row();
            }
        }
        let l = ui.label("Per instance (demand units)");
        changed |=
            ui.add(egui::DragValue::new(&mut sc.capacity.per_instance).range(0.001..=f64::MAX).speed(1.0)).labelled_by(l.id).changed();
        ui.end_row();
        let l = ui.label("Over target above");
        changed |= ui.add(egui::Slider::new(&mut sc.capacity.target_utilisation, 0.1..=1.0)).labelled_by(l.id).changed();
        ui.end_row();
        let l = ui.label("Price per instance-hour");
        changed |= ui
            .add(egui::DragValue::new(&mut sc.price.instance_hour).range(0.0..=1000.0).speed(0.001).max_decimals(4))
            .labelled_by(l.id)
            .changed();
        ui.end_row();
        let l = ui.label("Pricing");
        let before = sc.price.model;
        egui::ComboBox::from_id_salt("pricing")
            .selected_text(format!("{:?}", sc.price.model))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut sc.price.model, PricingModel::OnDemand, "OnDemand");
                ui.selectable_value(&mut sc.price.model, PricingModel::Reserved, "Reserved");
                ui.selectable_value(&mut sc.price.model, PricingModel::Spot, "Spot");
            })
            .response
            .labelled_by(l.id);
        changed |= before != sc.price.model;
        ui.end_row();
        if sc.price.model != PricingModel::OnDemand {
            let l = ui.label("Discount");
            changed |= ui.add(egui::Slider::new(&mut sc.price.discount, 0.0..=0.95)).labelled_by(l.id).changed();
            ui.end_row();
        }
        if sc.price.model == PricingModel::Reserved {
            let l = ui.label("Committed instances");
            changed |= ui.add(egui::DragValue::new(&mut sc.price.commitment).range(0..=10_000)).labelled_by(l.id).changed();
            ui.end_row();
        }
    });
    changed
}

#[cfg(test)]
mod tests {
    use super::table_order;

    #[test]
    fn the_recommended_scenario_heads_the_table() {
        assert_eq!(table_order(4, Some(2)), [2, 0, 1, 3]);
        assert_eq!(table_order(3, None), [0, 1, 2]);
        assert_eq!(table_order(3, Some(0)), [0, 1, 2]);
        // An index past the outcomes (a plan file edited by hand) changes nothing.
        assert_eq!(table_order(2, Some(5)), [0, 1]);
    }
}
