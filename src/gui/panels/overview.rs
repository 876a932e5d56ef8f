//! The overview: every loaded series in one table, most urgent first (the capacity
//! review's agenda). Click a series' name to open its chart.

use crate::gui::action::Action;
use crate::gui::model::{Model, OverviewRow, OverviewSort};
use crate::gui::state::AppState;
use crate::gui::theme;
use eframe::egui;

/// The columns a user can sort by, with their headers.
const SORTS: [(OverviewSort, &str); 5] = [
    (OverviewSort::Urgency, "Urgency"),
    (OverviewSort::Name, "Series"),
    (OverviewSort::Peak, "Peak"),
    (OverviewSort::Headroom, "Headroom"),
    (OverviewSort::Coverage, "95 % coverage"),
];

/// Draws the table; returns [`Action::Select`] when a row's name is clicked (or its model
/// double-clicked).
pub fn ui(ui: &mut egui::Ui, model: &Model, state: &mut AppState, clock: &crate::time::Clock) -> Vec<Action> {
    let mut actions = Vec::new();
    if model.entries.is_empty() {
        ui.centered_and_justified(|ui| ui.label("Open a CSV file (File > Open CSV…) or drop one on the window."));
        return actions;
    }
    ui.horizontal_wrapped(|ui| {
        ui.label("Filter");
        ui.add(egui::TextEdit::singleline(&mut state.overview_filter).hint_text("name or label=value").desired_width(180.0));
        ui.separator();
        ui.label("Sort by");
        for (sort, label) in SORTS {
            if ui.selectable_label(state.overview_sort == sort, label).clicked() {
                state.overview_sort = sort;
            }
        }
        let labels = model.label_names();
        if !labels.is_empty() {
            ui.separator();
            egui::ComboBox::from_label("Group by")
                .selected_text(if state.overview_group.is_empty() { "none" } else { state.overview_group.as_str() })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut state.overview_group, String::new(), "none");
                    for l in labels {
                        ui.selectable_value(&mut state.overview_group, l.clone(), l);
                    }
                });
        }
    });
    let rows = model.overview(&state.thresholds, &state.overview_filter, state.overview_sort);
    ui.label(
        egui::RichText::new(format!(
            "{} of {} series · chance of reaching each threshold within the horizon, earliest to latest date (95 %) · click a name for its chart",
            rows.len(),
            model.entries.len()
        ))
        .small()
        .color(theme::muted(ui)),
    );
    ui.separator();
    // Groups in order of their most urgent row (rows are sorted already).
    let mut groups: Vec<(String, Vec<&OverviewRow>)> = Vec::new();
    for row in &rows {
        let key = if state.overview_group.is_empty() {
            String::new()
        } else {
            format!("{}={}", state.overview_group, row.labels.get(&state.overview_group).map_or("(none)", String::as_str))
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(row),
            None => groups.push((key, vec![row])),
        }
    }
    let thresholds = rows.iter().map(|r| r.crossings.len()).max().unwrap_or(0);
    egui::ScrollArea::both().auto_shrink([false, false]).show(ui, |ui| {
        // Cells keep their lines; the table scrolls sideways instead.
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
        for (key, members) in &groups {
            if !key.is_empty() {
                ui.add_space(4.0);
                ui.label(egui::RichText::new(key).strong());
            }
            egui::Grid::new(("overview", key.as_str())).striped(true).spacing([14.0, 4.0]).show(ui, |ui| {
                for header in ["Series", "Now", "Peak", "Headroom", "95 % coverage"] {
                    ui.label(egui::RichText::new(header).strong());
                }
                for k in 0..thresholds {
                    ui.label(egui::RichText::new(format!("Threshold {}", k + 1)).strong());
                }
                ui.end_row();
                for row in members {
                    if row_ui(ui, row, thresholds, clock) {
                        actions.push(Action::Select(row.index));
                    }
                    ui.end_row();
                }
            });
        }
    });
    actions
}

/// One row; true when it was opened.
fn row_ui(ui: &mut egui::Ui, row: &OverviewRow, thresholds: usize, clock: &crate::time::Clock) -> bool {
    let colour = urgency_colour(ui, row.worst()).unwrap_or_else(|| ui.visuals().text_color());
    // The model goes under the name, small, as in the series list: a column of its own ran
    // off the right edge at the default window size once thresholds had their columns.
    let mut opened = false;
    ui.vertical(|ui| {
        let name = ui
            .add(egui::Label::new(egui::RichText::new(&row.name).strong().color(colour)).sense(egui::Sense::click()))
            .on_hover_text("Click to open its chart");
        opened = name.clicked();
        let model = match &row.model {
            Ok(m) => egui::RichText::new(m).small().color(theme::muted(ui)),
            Err(e) => egui::RichText::new(e).small().color(theme::error(ui)),
        };
        opened |= ui.add(egui::Label::new(model).sense(egui::Sense::click())).double_clicked();
    });
    let value = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| row.unit.format(v));
    // Every figure cell opens the series on a double-click.
    let mut cell = |ui: &mut egui::Ui, text: egui::RichText| {
        opened |= ui.add(egui::Label::new(text).sense(egui::Sense::click())).double_clicked();
    };
    cell(ui, value(row.current).into());
    cell(ui, value(row.peak).into());
    cell(
        ui,
        match row.headroom {
            Some(h) if h < 0.0 => egui::RichText::new(format!("{} past", row.unit.format(-h))).color(theme::error(ui)),
            Some(h) => row.unit.format(h).into(),
            None if row.runway_pending => egui::RichText::new("working out…").color(theme::muted(ui)),
            None => egui::RichText::new("no thresholds").color(theme::muted(ui)),
        },
    );
    cell(ui, row.coverage_95.map_or_else(|| "–".to_string(), |c| format!("{c:.2}")).into());
    for k in 0..thresholds {
        match row.crossings.get(k) {
            Some(c) => {
                let head = c.threshold.text(row.unit);
                let (chance, dates) = if c.already {
                    ("already past".to_string(), String::new())
                } else {
                    let dates = match (c.earliest_ms, c.latest_ms) {
                        (Some(e), Some(l)) => format!("{} – {}", clock.short(e), clock.short(l)),
                        (Some(e), None) => format!("from {}", clock.short(e)),
                        _ => String::new(),
                    };
                    (crate::capacity::chance_text(c.probability), dates)
                };
                let colour = urgency_colour(ui, c.chance()).unwrap_or_else(|| ui.visuals().weak_text_color());
                ui.vertical(|ui| {
                    ui.label(egui::RichText::new(format!("{chance} · {head}")).color(colour));
                    if !dates.is_empty() {
                        ui.label(egui::RichText::new(dates).small().color(colour));
                    }
                });
            }
            None => {
                ui.label("");
            }
        }
    }
    opened
}

/// The colour of a chance of reaching a threshold: red from even odds, amber from one in
/// ten, else none (the caller's text colour).
fn urgency_colour(ui: &egui::Ui, chance: f64) -> Option<egui::Color32> {
    if chance >= 0.5 {
        Some(theme::error(ui))
    } else if chance >= 0.1 {
        Some(theme::warning(ui))
    } else {
        None
    }
}
