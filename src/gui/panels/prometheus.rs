//! "Connect to Prometheus…": connection, auth, a query box with metric-name completion,
//! range presets and the import. The secret itself is never typed here: the dialog
//! names the environment variable or file it comes from.

use crate::gui::action::Action;
use crate::gui::theme;
use crate::import::prometheus::{AuthSettings, ConnectionSettings, SecretSource};
use eframe::egui;
use serde::{Deserialize, Serialize};

/// What the dialog remembers between runs (no secret values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrometheusForm {
    /// The connection (auth holds sources, not secrets).
    pub connection: ConnectionSettings,
    /// The PromQL query.
    pub query: String,
    /// The range back from now: `7d`, `30d`, `90d` or any duration.
    pub range: String,
    /// The step, or empty for automatic.
    pub step: String,
    /// Extra headers as typed, one `Name: value` per line.
    pub headers_text: String,
}

impl Default for PrometheusForm {
    fn default() -> Self {
        PrometheusForm {
            connection: ConnectionSettings::default(),
            query: String::new(),
            range: "30d".into(),
            step: String::new(),
            headers_text: String::new(),
        }
    }
}

/// The dialog's transient state: open or not, the metric names for completion.
#[derive(Debug, Default)]
pub struct PrometheusDialog {
    /// Shown.
    pub open: bool,
    /// Metric names from the server, for completion.
    pub names: Vec<String>,
    /// A note on the names ("1,234 metrics" or an error).
    pub names_status: String,
}

fn auth_kind(a: &AuthSettings) -> &'static str {
    match a {
        AuthSettings::None => "None",
        AuthSettings::Basic { .. } => "Basic",
        AuthSettings::Bearer { .. } => "Bearer token",
    }
}

/// Draws the dialog; returns the actions asked for.
pub fn ui(ctx: &egui::Context, dialog: &mut PrometheusDialog, form: &mut PrometheusForm, busy: bool) -> Vec<Action> {
    let mut actions = Vec::new();
    let mut open = dialog.open;
    egui::Window::new("Connect to Prometheus").open(&mut open).resizable(true).default_width(560.0).show(ctx, |ui| {
        egui::Grid::new("prom_grid").num_columns(2).spacing([10.0, 6.0]).show(ui, |ui| {
            let l = ui.label("URL");
            ui.add(egui::TextEdit::singleline(&mut form.connection.url).desired_width(380.0).hint_text("http://prometheus:9090"))
                .labelled_by(l.id)
                .on_hover_text("The API's base URL; Mimir: http://host/prometheus");
            ui.end_row();

            let l = ui.label("Authentication");
            let mut kind = auth_kind(&form.connection.auth);
            egui::ComboBox::from_id_salt("prom_auth")
                .selected_text(kind)
                .show_ui(ui, |ui| {
                    for k in ["None", "Basic", "Bearer token"] {
                        ui.selectable_value(&mut kind, k, k);
                    }
                })
                .response
                .labelled_by(l.id);
            if kind != auth_kind(&form.connection.auth) {
                form.connection.auth = match kind {
                    "Basic" => AuthSettings::Basic { user: String::new(), password: SecretSource::Env("PROMETHEUS_PASSWORD".into()) },
                    "Bearer token" => AuthSettings::Bearer { token: SecretSource::Env("PROMETHEUS_TOKEN".into()) },
                    _ => AuthSettings::None,
                };
            }
            ui.end_row();
            match &mut form.connection.auth {
                AuthSettings::None => {}
                AuthSettings::Basic { user, password } => {
                    let l = ui.label("User");
                    ui.text_edit_singleline(user).labelled_by(l.id);
                    ui.end_row();
                    secret_source_ui(ui, "Password from", password);
                }
                AuthSettings::Bearer { token } => secret_source_ui(ui, "Token from", token),
            }

            let l = ui.label("Headers");
            ui.add(
                egui::TextEdit::multiline(&mut form.headers_text).desired_rows(1).desired_width(380.0).hint_text("X-Scope-OrgID: tenant-1"),
            )
            .labelled_by(l.id);
            ui.end_row();

            let l = ui.label("CA file");
            ui.horizontal(|ui| {
                let mut text = form.connection.ca_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
                if ui
                    .add(egui::TextEdit::singleline(&mut text).desired_width(300.0).hint_text("PEM file, for https with a private CA"))
                    .labelled_by(l.id)
                    .changed()
                {
                    form.connection.ca_file = (!text.trim().is_empty()).then(|| text.trim().into());
                }
            });
            ui.end_row();

            ui.label("");
            let colour = if form.connection.insecure { theme::ERROR } else { theme::MUTED };
            ui.checkbox(&mut form.connection.insecure, egui::RichText::new("Skip TLS verification (unsafe)").color(colour))
                .on_hover_text("Accepts any certificate, so anyone in between can read and change the data. Only for a test server.");
            ui.end_row();

            let l = ui.label("Timeout (s)");
            ui.add(egui::DragValue::new(&mut form.connection.timeout_secs).range(1..=600)).labelled_by(l.id);
            ui.end_row();
        });
        ui.separator();
        ui.horizontal(|ui| {
            if ui.add_enabled(!busy, egui::Button::new("Load metric names")).on_hover_text("For completion in the query box").clicked() {
                actions.push(Action::PrometheusMetricNames);
            }
            ui.label(egui::RichText::new(&dialog.names_status).color(theme::MUTED));
        });
        let l = ui.label("Query (PromQL)");
        let r = ui
            .add(
                egui::TextEdit::multiline(&mut form.query)
                    .desired_rows(2)
                    .desired_width(f32::INFINITY)
                    .code_editor()
                    .hint_text("rate(http_requests_total[5m])"),
            )
            .labelled_by(l.id);
        let word = current_word(&form.query).to_string();
        let word = word.as_str();
        if r.has_focus() && word.len() >= 2 {
            let matches: Vec<&String> = dialog.names.iter().filter(|n| n.contains(word)).take(8).collect();
            if !matches.is_empty() {
                ui.horizontal_wrapped(|ui| {
                    ui.label(egui::RichText::new("Complete:").small().color(theme::MUTED));
                    for m in matches {
                        if ui.small_button(m).clicked() {
                            let cut = form.query.len() - word.len();
                            form.query.truncate(cut);
                            form.query.push_str(m);
                        }
                    }
                });
            }
        }
        ui.horizontal(|ui| {
            let l = ui.label("Range");
            for preset in ["7d", "30d", "90d"] {
                if ui.selectable_label(form.range == preset, format!("last {preset}")).clicked() {
                    form.range = preset.into();
                }
            }
            ui.add(egui::TextEdit::singleline(&mut form.range).desired_width(48.0)).labelled_by(l.id);
            let l = ui.label("Step");
            ui.add(egui::TextEdit::singleline(&mut form.step).desired_width(48.0).hint_text("auto"))
                .labelled_by(l.id)
                .on_hover_text("Empty: chosen from the range, never finer than the data");
        });
        ui.horizontal(|ui| {
            if ui.add_enabled(!busy && !form.query.trim().is_empty(), egui::Button::new("Import")).clicked() {
                actions.push(Action::PrometheusImport);
            }
            if busy && ui.button("Cancel").clicked() {
                actions.push(Action::Cancel);
            }
        });
    });
    dialog.open = open;
    actions
}

fn secret_source_ui(ui: &mut egui::Ui, label: &str, source: &mut SecretSource) {
    let l = ui.label(label);
    ui.horizontal(|ui| {
        let is_env = matches!(source, SecretSource::Env(_));
        if ui.selectable_label(is_env, "environment variable").clicked() && !is_env {
            *source = SecretSource::Env(String::new());
        }
        if ui.selectable_label(!is_env, "file").clicked() && is_env {
            *source = SecretSource::File(Default::default());
        }
        match source {
            SecretSource::Env(var) => {
                ui.add(egui::TextEdit::singleline(var).desired_width(180.0).hint_text("PROMETHEUS_PASSWORD")).labelled_by(l.id);
            }
            SecretSource::File(path) => {
                let mut text = path.display().to_string();
                if ui.add(egui::TextEdit::singleline(&mut text).desired_width(180.0)).labelled_by(l.id).changed() {
                    *path = text.into();
                }
            }
        }
    });
    ui.end_row();
}

/// The identifier being typed at the end of the query.
fn current_word(q: &str) -> &str {
    let start = q.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).map_or(0, |i| i + 1);
    &q[start..]
}
