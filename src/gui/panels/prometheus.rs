//! "Connect to Prometheus…": connection and auth, queries with completion of metric
//! names, label names and label values from the server (click a chip, or pick with
//! ↑/↓ and Tab), a time range (presets, or an explicit start and end), a step picker,
//! a preview of what the queries return with the label sets to pick, and the import.
//! The secret itself is never typed here: the dialog names the environment variable
//! or file it comes from.

use crate::gui::action::Action;
use crate::gui::theme;
use crate::import::prometheus::{AuthSettings, ConnectionSettings, SecretSource};
use eframe::egui;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What the dialog remembers between runs (no secret values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrometheusForm {
    /// The connection (auth holds sources, not secrets).
    pub connection: ConnectionSettings,
    /// The PromQL queries, imported together.
    pub queries: Vec<String>,
    /// The range back from the end: `7d`, `30d`, `90d` or any duration (used when no
    /// start is given).
    pub range: String,
    /// The first instant (`-30d`, RFC 3339, Unix seconds), or empty: the end minus the range.
    pub start: String,
    /// The last instant, or empty: now.
    pub end: String,
    /// The step, or empty for automatic.
    pub step: String,
    /// Extra headers as typed, one `Name: value` per line.
    pub headers_text: String,
}

impl Default for PrometheusForm {
    fn default() -> Self {
        PrometheusForm {
            connection: ConnectionSettings::default(),
            queries: vec![String::new()],
            range: "30d".into(),
            start: String::new(),
            end: String::new(),
            step: String::new(),
            headers_text: String::new(),
        }
    }
}

/// The steps offered by the picker (any duration can be typed).
pub const STEPS: [&str; 8] = ["15s", "30s", "1m", "5m", "10m", "15m", "1h", "1d"];

impl PrometheusForm {
    /// What a preview of this form depends on (see [`PreviewKey`]).
    pub fn preview_key(&self, step_ms: Option<i64>) -> PreviewKey {
        let range = if self.start.trim().is_empty() { self.range.trim().to_string() } else { String::new() };
        (self.queries(), [self.start.trim().to_string(), self.end.trim().to_string(), range], step_ms)
    }

    /// The queries that are not empty, trimmed.
    pub fn queries(&self) -> Vec<String> {
        self.queries.iter().map(|q| q.trim().to_string()).filter(|q| !q.is_empty()).collect()
    }

    /// The time range, UTC ms, with `now_ms` for "now".
    ///
    /// # Errors
    /// A field that is not a time or duration (named), or a start not before the end.
    pub fn time_range(&self, now_ms: i64) -> Result<(i64, i64), String> {
        let end = if self.end.trim().is_empty() {
            now_ms
        } else {
            crate::time::parse_instant(&self.end, now_ms).map_err(|e| format!("end: {e}"))?
        };
        let start = if self.start.trim().is_empty() {
            let range = crate::time::parse_duration(&self.range).map_err(|e| format!("range: {e}"))?;
            end.checked_sub(range).ok_or_else(|| format!("range: \"{}\" reaches before any date", self.range.trim()))?
        } else {
            crate::time::parse_instant(&self.start, now_ms).map_err(|e| format!("start: {e}"))?
        };
        for (name, t) in [("start", start), ("end", end)] {
            if !crate::time::in_range(t) {
                return Err(format!("{name}: outside the years 1000–9999"));
            }
        }
        if start >= end {
            return Err(format!(
                "the start ({}) must be before the end ({})",
                crate::time::format_short(start),
                crate::time::format_short(end)
            ));
        }
        Ok((start, end))
    }

    /// The step, or `None` for automatic.
    ///
    /// # Errors
    /// A step that is not a positive duration.
    pub fn step_ms(&self) -> Result<Option<i64>, String> {
        if self.step.trim().is_empty() || self.step.trim() == "auto" {
            return Ok(None);
        }
        match crate::time::parse_duration(&self.step) {
            Ok(s) if s > 0 => Ok(Some(s)),
            Ok(_) => Err("step: must be longer than zero".into()),
            Err(m) => Err(format!("step: {m}")),
        }
    }
}

/// What a preview found: per query, the label sets it returns and about how many
/// points each will bring.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// The queries, range and step it was made for.
    pub key: PreviewKey,
    /// Each series: its display name and the points expected at the import's step.
    pub series: Vec<(String, usize)>,
    /// The step the points are counted at.
    pub step_ms: i64,
}

/// What a preview depends on: the queries, the range as typed (start, end, range; so
/// that "the last 7 days" stays the same preview as time passes) and the step.
pub type PreviewKey = (Vec<String>, [String; 3], Option<i64>);

/// What the server is asked for completion: label names of a metric, or one label's
/// values (the metric empty: across all series).
pub type LabelKey = (String, Option<String>);

/// The dialog's transient state: open or not, completion, the preview.
#[derive(Debug, Default)]
pub struct PrometheusDialog {
    /// Shown.
    pub open: bool,
    /// Metric names from the server, for completion.
    pub names: Vec<String>,
    /// A note on the names ("1,234 metrics" or an error).
    pub names_status: String,
    /// Label names and values fetched for completion (failures too, so that a failing
    /// server is not asked every frame), from the server [`Self::labels_from`].
    pub labels: HashMap<LabelKey, Result<Vec<String>, String>>,
    /// The server the labels came from: a change of URL or auth forgets them.
    labels_from: Option<ConnectionSettings>,
    /// The completion being shown: which query, the highlighted chip.
    completion: Option<(usize, usize)>,
    /// Completion was dismissed (Escape) until the text changes.
    dismissed: Option<String>,
    /// The last preview, and which of its series are picked for import.
    pub preview: Option<(Preview, Vec<bool>)>,
    /// A note on the preview (running, or its error).
    pub preview_status: String,
}

impl PrometheusDialog {
    /// Offers completion for query `index` (as typing in it does).
    pub fn complete(&mut self, index: usize) {
        self.completion = Some((index, 0));
        self.dismissed = None;
    }

    /// The series names picked in a preview of exactly `key`, or `None` to import
    /// everything the queries return (no preview, or one of other queries).
    pub fn picked(&self, key: &PreviewKey) -> Option<Vec<String>> {
        let (p, picked) = self.preview.as_ref().filter(|(p, _)| &p.key == key)?;
        if picked.iter().all(|b| *b) {
            return None;
        }
        Some(p.series.iter().zip(picked).filter(|(_, b)| **b).map(|((n, _), _)| n.clone()).collect())
    }
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
    egui::Window::new("Connect to Prometheus").open(&mut open).resizable(true).default_width(600.0).show(ctx, |ui| {
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
            let colour = if form.connection.insecure { theme::error(ui) } else { theme::muted(ui) };
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
            ui.label(egui::RichText::new(&dialog.names_status).color(theme::muted(ui)));
        });
        queries_ui(ui, dialog, form, &mut actions);
        range_ui(ui, form);
        ui.separator();
        preview_ui(ui, dialog, form, busy, &mut actions);
        ui.horizontal(|ui| {
            let n = form.queries().len();
            // A preview of other queries or another range picks nothing.
            let key = form.preview_key(form.step_ms().ok().flatten());
            let picked =
                dialog.preview.as_ref().filter(|(p, _)| p.key == key).map(|(p, picked)| (p, picked.iter().filter(|b| **b).count()));
            let label = match picked {
                Some((p, k)) if k < p.series.len() => format!("Import {k} picked series"),
                _ if n > 1 => format!("Import {n} queries"),
                _ => "Import".to_string(),
            };
            let none_picked = picked.is_some_and(|(_, k)| k == 0);
            if ui
                .add_enabled(!busy && n > 0 && !none_picked, egui::Button::new(label))
                .on_hover_text("Runs the range queries and adds their series; only the new series are fitted")
                .clicked()
            {
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

/// The query boxes, each with completion under it while it is the one being edited.
fn queries_ui(ui: &mut egui::Ui, dialog: &mut PrometheusDialog, form: &mut PrometheusForm, actions: &mut Vec<Action>) {
    if dialog.labels_from.as_ref() != Some(&form.connection) {
        dialog.labels.clear();
        dialog.labels_from = Some(form.connection.clone());
    }
    if form.queries.is_empty() {
        form.queries.push(String::new());
    }
    let l = ui.label("Query (PromQL)");
    let mut remove = None;
    for qi in 0..form.queries.len() {
        let id = egui::Id::unique(("prom_query", qi));
        // Keys for the completion are taken before the text box sees them.
        let offered = dialog.completion.filter(|(q, _)| *q == qi).and_then(|_| completion_of(dialog, &form.queries[qi], id, ui.ctx()));
        let mut accept = None;
        if let Some(list) = offered.as_ref().filter(|_| ui.ctx().memory(|m| m.has_focus(id))) {
            let (_, hi) = dialog.completion.unwrap_or((qi, 0));
            let n = list.items.len();
            let (down, up, tab, esc) = ui.input_mut(|i| {
                (
                    i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowDown),
                    i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowUp),
                    i.consume_key(egui::Modifiers::NONE, egui::Key::Tab) || i.consume_key(egui::Modifiers::NONE, egui::Key::Enter),
                    i.consume_key(egui::Modifiers::NONE, egui::Key::Escape),
                )
            });
            let hi = if down {
                (hi + 1) % n
            } else if up {
                (hi + n - 1) % n
            } else {
                hi.min(n - 1)
            };
            dialog.completion = Some((qi, hi));
            if tab {
                accept = Some(hi);
            }
            if esc {
                dialog.dismissed = Some(form.queries[qi].clone());
            }
        }
        let out = ui
            .horizontal(|ui| {
                let out = egui::TextEdit::multiline(&mut form.queries[qi])
                    .id(id)
                    // Escape stays with the box (it hides the completion, not the focus).
                    .event_filter(egui::EventFilter { escape: true, horizontal_arrows: true, vertical_arrows: true, tab: false })
                    .desired_rows(1)
                    .desired_width(ui.available_width() - 30.0)
                    .code_editor()
                    .hint_text(if qi == 0 { "rate(http_requests_total[5m])" } else { "another query, imported with the first" })
                    .show(ui);
                if form.queries.len() > 1 && ui.small_button("×").on_hover_text("Remove this query").clicked() {
                    remove = Some(qi);
                }
                out
            })
            .inner;
        let r = out.response.response.labelled_by(l.id);
        let cursor = out.cursor_range.map(|c| c.primary.index.0);
        if r.changed() || r.gained_focus() || (r.has_focus() && cursor.is_some()) {
            if let Some(c) = cursor {
                ui.ctx().data_mut(|d| d.insert_temp(id.with("cursor"), c));
            }
            if r.changed() || r.gained_focus() || dialog.completion.is_none_or(|(q, _)| q != qi) {
                dialog.completion = Some((qi, 0));
            }
        }
        let Some(list) = completion_of(dialog, &form.queries[qi], id, ui.ctx()).filter(|_| dialog.completion.is_some_and(|(q, _)| q == qi))
        else {
            if let Some(need) =
                needs_labels(dialog, &form.queries[qi], id, ui.ctx()).filter(|_| dialog.completion.is_some_and(|(q, _)| q == qi))
            {
                actions.push(Action::PrometheusLabels(need));
            }
            continue;
        };
        let (_, hi) = dialog.completion.unwrap_or((qi, 0));
        let mut chosen = accept;
        // Shown until a chip is picked or Escape: not tied to the box's focus, so a
        // click on a chip lands.
        ui.horizontal_wrapped(|ui| {
            ui.label(egui::RichText::new(list.what).small().color(theme::muted(ui)));
            for (k, item) in list.items.iter().enumerate() {
                if ui.selectable_label(k == hi, egui::RichText::new(item).monospace()).clicked() {
                    chosen = Some(k);
                }
            }
        });
        if let Some(k) = chosen.filter(|k| *k < list.items.len()) {
            let (text, at) = insert_completion(&form.queries[qi], list.cursor, &list.items[k], list.context);
            form.queries[qi] = text;
            let mut state = egui::text_edit::TextEditState::load(ui.ctx(), id).unwrap_or_default();
            state.cursor.set_char_range(Some(egui::text::CCursorRange::one(egui::text::CCursor::new(at))));
            state.store(ui.ctx(), id);
            ui.ctx().data_mut(|d| d.insert_temp(id.with("cursor"), at));
            ui.ctx().memory_mut(|m| m.request_focus(id));
            dialog.completion = Some((qi, 0));
        }
    }
    if let Some(qi) = remove {
        form.queries.remove(qi);
        dialog.completion = None;
    }
    if ui.small_button("+ Add query").on_hover_text("Several queries are imported together").clicked() {
        form.queries.push(String::new());
    }
}

/// The chips to offer for query `text` at its remembered cursor.
struct Offer {
    what: &'static str,
    items: Vec<String>,
    cursor: usize,
    context: Context,
}

/// The cursor (a char index) of query box `id`, else the end of `text`.
fn cursor_of(ctx: &egui::Context, id: egui::Id, text: &str) -> usize {
    ctx.data(|d| d.get_temp::<usize>(id.with("cursor"))).unwrap_or(usize::MAX).min(text.chars().count())
}

fn completion_of(dialog: &PrometheusDialog, text: &str, id: egui::Id, ctx: &egui::Context) -> Option<Offer> {
    if dialog.dismissed.as_deref() == Some(text) {
        return None;
    }
    let cursor = cursor_of(ctx, id, text);
    let before: String = text.chars().take(cursor).collect();
    let c = completing(&before)?;
    let (what, pool): (&'static str, Vec<&String>) = match &c {
        Completing::Metric { partial } if partial.len() >= 2 => ("Metrics:", dialog.names.iter().collect()),
        Completing::Metric { .. } => return None,
        Completing::LabelName { metric, .. } => match dialog.labels.get(&(metric.clone(), None)) {
            Some(Ok(names)) => ("Labels:", names.iter().filter(|n| n.as_str() != "__name__").collect()),
            _ => return None,
        },
        Completing::LabelValue { metric, label, .. } => match dialog.labels.get(&(metric.clone(), Some(label.clone()))) {
            Some(Ok(values)) => ("Values:", values.iter().collect()),
            _ => return None,
        },
    };
    let items = rank(pool, c.partial());
    if items.is_empty() || (items.len() == 1 && items[0] == c.partial()) {
        return None;
    }
    Some(Offer { what, items, cursor, context: c.context() })
}

/// Label names or values the completion needs and the dialog has not fetched.
fn needs_labels(dialog: &PrometheusDialog, text: &str, id: egui::Id, ctx: &egui::Context) -> Option<LabelKey> {
    let cursor = cursor_of(ctx, id, text);
    let before: String = text.chars().take(cursor).collect();
    let key = match completing(&before)? {
        Completing::Metric { .. } => return None,
        Completing::LabelName { metric, .. } => (metric, None),
        Completing::LabelValue { metric, label, .. } => (metric, Some(label)),
    };
    (!dialog.labels.contains_key(&key)).then_some(key)
}

/// Up to ten of `pool` that contain `partial`, those starting with it first.
fn rank(pool: Vec<&String>, partial: &str) -> Vec<String> {
    let mut hits: Vec<&String> = pool.into_iter().filter(|n| n.contains(partial)).collect();
    hits.sort_by_key(|n| (!n.starts_with(partial), n.len(), n.as_str()));
    hits.into_iter().take(10).cloned().collect()
}

/// What the text before the cursor is in the middle of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completing {
    /// A metric name (outside any `{…}`).
    Metric {
        /// What is typed of it.
        partial: String,
    },
    /// A label name inside `metric{…}`.
    LabelName {
        /// The metric the braces follow (empty for a bare `{…}`).
        metric: String,
        /// What is typed of the label name.
        partial: String,
    },
    /// A label value inside `metric{label="…`.
    LabelValue {
        /// The metric.
        metric: String,
        /// The label.
        label: String,
        /// What is typed of the value.
        partial: String,
    },
}

/// How a completion is inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Metric,
    LabelName,
    LabelValue,
}

impl Completing {
    fn partial(&self) -> &str {
        match self {
            Completing::Metric { partial } | Completing::LabelName { partial, .. } | Completing::LabelValue { partial, .. } => partial,
        }
    }

    fn context(&self) -> Context {
        match self {
            Completing::Metric { .. } => Context::Metric,
            Completing::LabelName { .. } => Context::LabelName,
            Completing::LabelValue { .. } => Context::LabelValue,
        }
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Where the identifier that `text` ends with starts (a byte index on a char boundary).
fn ident_start(text: &str) -> usize {
    text.char_indices().rev().find(|(_, c)| !is_ident(*c)).map_or(0, |(i, c)| i + c.len_utf8())
}

/// Follows PromQL's double-quoted strings (with backslash escapes) a char at a time.
#[derive(Default)]
struct Quotes {
    /// Inside a string.
    open: bool,
    /// The char before was a backslash inside a string.
    escaped: bool,
}

impl Quotes {
    /// Takes `c`; true when it stands outside any string (a quote that opens or closes
    /// one counts as inside).
    fn outside(&mut self, c: char) -> bool {
        if self.open {
            if self.escaped {
                self.escaped = false;
            } else if c == '\\' {
                self.escaped = true;
            } else if c == '"' {
                self.open = false;
            }
            false
        } else if c == '"' {
            self.open = true;
            false
        } else {
            true
        }
    }
}

/// Works out what `before` (the query up to the cursor) is in the middle of, or `None`
/// (inside a string outside braces, after an operator, …).
pub fn completing(before: &str) -> Option<Completing> {
    // The innermost `{` not yet closed, outside quotes.
    let mut quotes = Quotes::default();
    let mut open = None;
    for (i, c) in before.char_indices() {
        if quotes.outside(c) {
            match c {
                '{' => open = Some(i),
                '}' => open = None,
                _ => {}
            }
        }
    }
    let Some(b) = open else {
        if quotes.open {
            return None;
        }
        let partial = &before[ident_start(before)..];
        if partial.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            return None;
        }
        return Some(Completing::Metric { partial: partial.to_string() });
    };
    let head = before[..b].trim_end();
    let metric = head[ident_start(head)..].to_string();
    // The matcher being typed: after the last `,` or the `{`, outside quotes.
    let inside = &before[b + 1..];
    let mut seg_start = 0;
    let mut quotes = Quotes::default();
    for (i, c) in inside.char_indices() {
        if quotes.outside(c) && c == ',' {
            seg_start = i + 1;
        }
    }
    let seg = inside[seg_start..].trim_start();
    if quotes.open {
        let q = seg.find('"')?;
        let label = seg[..q].trim_end().trim_end_matches(['=', '!', '~']).trim_end().to_string();
        if label.is_empty() || !label.chars().all(is_ident) {
            return None;
        }
        return Some(Completing::LabelValue { metric, label, partial: seg[q + 1..].to_string() });
    }
    seg.chars().all(is_ident).then(|| Completing::LabelName { metric, partial: seg.to_string() })
}

/// `text` with the word being typed before char index `cursor` replaced by `item`
/// (a label name gets `="`, a value its closing `"`), and the new cursor.
fn insert_completion(text: &str, cursor: usize, item: &str, context: Context) -> (String, usize) {
    let chars: Vec<char> = text.chars().collect();
    let cursor = cursor.min(chars.len());
    let stop = |c: char| match context {
        Context::LabelValue => c == '"',
        _ => !is_ident(c),
    };
    let mut start = cursor;
    while start > 0 && !stop(chars[start - 1]) {
        start -= 1;
    }
    // Forward, a value without its closing quote ends at the matcher's end, not at the
    // next quote somewhere further on.
    let stop_ahead = |c: char| stop(c) || (context == Context::LabelValue && matches!(c, ',' | '}'));
    let mut end = cursor;
    while end < chars.len() && !stop_ahead(chars[end]) {
        end += 1;
    }
    let suffix = match context {
        Context::Metric => "",
        Context::LabelName => "=\"",
        Context::LabelValue if chars.get(end) == Some(&'"') => "",
        Context::LabelValue => "\"",
    };
    let mut out: String = chars[..start].iter().collect();
    out.push_str(item);
    out.push_str(suffix);
    let mut at = out.chars().count();
    if context == Context::LabelValue && chars.get(end) == Some(&'"') {
        at += 1; // past the closing quote already there
    }
    out.extend(&chars[end..]);
    (out, at)
}

/// Range presets, an explicit start and end, the step.
fn range_ui(ui: &mut egui::Ui, form: &mut PrometheusForm) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Range");
        for preset in ["1d", "7d", "30d", "90d"] {
            let on = form.range == preset && form.start.trim().is_empty() && form.end.trim().is_empty();
            if ui.selectable_label(on, format!("last {preset}")).clicked() {
                form.range = preset.into();
                form.start.clear();
                form.end.clear();
            }
        }
        let l = ui.label("or from");
        ui.add(egui::TextEdit::singleline(&mut form.start).desired_width(110.0).hint_text(format!("-{}", form.range)))
            .labelled_by(l.id)
            .on_hover_text(
                "The first instant: -30d, 2026-11-01T00:00:00Z, 2026-11-01 00:00:00 (UTC) or Unix seconds; empty: the end minus the range",
            );
        let l = ui.label("to");
        ui.add(egui::TextEdit::singleline(&mut form.end).desired_width(110.0).hint_text("now"))
            .labelled_by(l.id)
            .on_hover_text("The last instant, in the same forms; empty: now");
    });
    ui.horizontal(|ui| {
        let l = ui.label("Step");
        let shown = if form.step.trim().is_empty() { "auto".to_string() } else { form.step.clone() };
        egui::ComboBox::from_id_salt("prom_step")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                if ui
                    .selectable_label(form.step.trim().is_empty(), "auto")
                    .on_hover_text("Chosen from the range, never finer than the data")
                    .clicked()
                {
                    form.step.clear();
                }
                for s in STEPS {
                    if ui.selectable_label(form.step == s, s).clicked() {
                        form.step = s.to_string();
                    }
                }
            })
            .response
            .labelled_by(l.id);
        ui.add(egui::TextEdit::singleline(&mut form.step).desired_width(48.0).hint_text("auto"))
            .on_hover_text("Or type any step: 2m, 90s, 6h");
        let now = crate::time::now_ms();
        let note = match (form.time_range(now), form.step_ms()) {
            (Ok((a, b)), Ok(step)) => {
                let step = step.unwrap_or_else(|| crate::import::prometheus::auto_step(a, b));
                egui::RichText::new(format!(
                    "{} to {} · {} points a series at {}",
                    crate::time::format_short(a),
                    crate::time::format_short(b),
                    thousands(((b - a) / step.max(1) + 1) as usize),
                    crate::time::format_duration(step)
                ))
                .color(theme::muted(ui))
            }
            (Err(e), _) | (_, Err(e)) => egui::RichText::new(e).color(theme::error(ui)),
        };
        ui.label(note.small());
    });
}

/// "Preview": how many series and points the queries return, each label set with a
/// box to pick it.
fn preview_ui(ui: &mut egui::Ui, dialog: &mut PrometheusDialog, form: &PrometheusForm, busy: bool, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        if ui
            .add_enabled(!busy && !form.queries().is_empty(), egui::Button::new("Preview"))
            .on_hover_text("Asks the server what the queries return (a coarse query), without importing")
            .clicked()
        {
            actions.push(Action::PrometheusPreview);
        }
        ui.label(egui::RichText::new(&dialog.preview_status).color(theme::muted(ui)));
    });
    let Some((preview, picked)) = dialog.preview.as_mut() else { return };
    if preview.key != form.preview_key(form.step_ms().ok().flatten()) {
        ui.label(
            egui::RichText::new(
                "The queries or the range changed since this preview: preview again to pick series; Import takes every series.",
            )
            .color(theme::warning(ui)),
        );
        return;
    }
    let points: usize = preview.series.iter().zip(picked.iter()).filter(|(_, b)| **b).map(|((_, p), _)| *p).sum();
    ui.horizontal(|ui| {
        ui.label(
            egui::RichText::new(format!(
                "{} series · about {} points at {}",
                preview.series.len(),
                thousands(preview.series.iter().map(|s| s.1).sum()),
                crate::time::format_duration(preview.step_ms)
            ))
            .strong(),
        );
        if ui.small_button("all").clicked() {
            picked.iter_mut().for_each(|b| *b = true);
        }
        if ui.small_button("none").clicked() {
            picked.iter_mut().for_each(|b| *b = false);
        }
        ui.label(egui::RichText::new(format!("picked: {} points", thousands(points))).small().color(theme::muted(ui)));
    });
    egui::ScrollArea::vertical().id_salt("prom_preview").max_height(140.0).show(ui, |ui| {
        for ((name, n), on) in preview.series.iter().zip(picked.iter_mut()) {
            ui.checkbox(on, egui::RichText::new(format!("{name}  ({} points)", thousands(*n))).monospace().small());
        }
    });
}

/// `12,345`.
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(p: &str) -> Option<Completing> {
        Some(Completing::Metric { partial: p.into() })
    }

    #[test]
    fn completion_knows_metrics_label_names_and_values() {
        assert_eq!(completing("node_cp"), metric("node_cp"));
        assert_eq!(completing("rate(http_req"), metric("http_req"));
        assert_eq!(completing("sum by (job) (rate(x[5m])) / up"), metric("up"));
        assert_eq!(completing("up{"), Some(Completing::LabelName { metric: "up".into(), partial: String::new() }));
        assert_eq!(
            completing("rate(http_requests_total{job=\"api\", inst"),
            Some(Completing::LabelName { metric: "http_requests_total".into(), partial: "inst".into() })
        );
        assert_eq!(
            completing("up{job=~\"no"),
            Some(Completing::LabelValue { metric: "up".into(), label: "job".into(), partial: "no".into() })
        );
        assert_eq!(
            completing("{job!=\""),
            Some(Completing::LabelValue { metric: String::new(), label: "job".into(), partial: String::new() })
        );
        // A closed selector, a number, a string outside braces: nothing to complete.
        assert_eq!(completing("up{job=\"a\"} > 5"), None);
        assert_eq!(completing("label_replace(up, \"dst"), None);
        assert_eq!(completing("up{job=\"a\"}"), metric(""));
        // An escaped quote stays inside the value.
        assert_eq!(
            completing("up{path=\"a\\\"b"),
            Some(Completing::LabelValue { metric: "up".into(), label: "path".into(), partial: "a\\\"b".into() })
        );
    }

    #[test]
    fn completion_takes_any_text_without_panicking() {
        for text in ["é", "up é", "rate(é", "cpu🙂", "é{", "x{a=\"b\"} / é", "up{job=\"é", "🙂{é=\"", "{,,,\"", "\\\""] {
            let _ = completing(text);
            for n in 0..=text.chars().count() {
                let _ = insert_completion(text, n, "node", Context::Metric);
                let _ = insert_completion(text, n, "node", Context::LabelValue);
            }
        }
        assert_eq!(completing("durée_cp"), metric("e_cp"), "an identifier is ASCII in PromQL: it starts after é");
    }

    #[test]
    fn a_completion_replaces_the_word_at_the_cursor() {
        assert_eq!(
            insert_completion("rate(node_cp[5m])", 12, "node_cpu_seconds_total", Context::Metric),
            ("rate(node_cpu_seconds_total[5m])".to_string(), 27)
        );
        assert_eq!(insert_completion("up{jo", 5, "job", Context::LabelName), ("up{job=\"".to_string(), 8));
        assert_eq!(insert_completion("up{job=\"no", 10, "node", Context::LabelValue), ("up{job=\"node\"".to_string(), 13));
        // No closing quote: the value ends at the matcher's end, the rest is kept.
        assert_eq!(insert_completion("up{job=\"ap}", 10, "api", Context::LabelValue).0, "up{job=\"api\"}");
        assert_eq!(insert_completion("up{job=\"ap, instance=\"x\"}", 10, "api", Context::LabelValue).0, "up{job=\"api\", instance=\"x\"}");
        // The value's closing quote already there: kept, the cursor goes past it.
        assert_eq!(insert_completion("up{job=\"no\"}", 10, "node", Context::LabelValue), ("up{job=\"node\"}".to_string(), 13));
    }

    #[test]
    fn the_time_range_takes_presets_or_an_explicit_start_and_end() {
        let now = 1_800_000_000_000;
        let mut f = PrometheusForm { range: "7d".into(), ..Default::default() };
        assert_eq!(f.time_range(now), Ok((now - 7 * crate::time::DAY_MS, now)));
        f.start = "2027-01-01T00:00:00Z".into();
        f.end = "2027-01-02T00:00:00Z".into();
        let (a, b) = f.time_range(now).unwrap();
        assert_eq!(b - a, crate::time::DAY_MS);
        f.end = "2026-12-31T00:00:00Z".into();
        assert!(f.time_range(now).unwrap_err().contains("must be before the end"));
        f.end = "-200000000y".into();
        f.start.clear();
        f.range = "200000000y".into();
        assert!(f.time_range(now).is_err(), "an overflow is an error, not a panic");
        f.range = "7d".into();
        f.end = "tomorrow".into();
        assert!(f.time_range(now).unwrap_err().starts_with("end:"));
        assert_eq!(PrometheusForm { step: "5m".into(), ..Default::default() }.step_ms(), Ok(Some(300_000)));
        assert_eq!(PrometheusForm { step: "auto".into(), ..Default::default() }.step_ms(), Ok(None));
        assert!(PrometheusForm { step: "0s".into(), ..Default::default() }.step_ms().is_err());
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
