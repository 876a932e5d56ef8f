//! Everything the user can do in the window. Buttons, menus and shortcuts emit an
//! [`Action`]; [`HeadroomApp::apply`](super::HeadroomApp::apply) is the one place that
//! carries them out, so a menu item and its shortcut can never disagree.

use eframe::egui::{Key, KeyboardShortcut, Modifiers};
use std::path::PathBuf;

/// What File → Export and Save write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// The plan file (`*.headroom.ron`).
    Plan,
    /// The PDF report.
    Pdf,
    /// The CSV files, into a directory.
    Csv,
    /// Prometheus alerting rules.
    Rules,
    /// A Kubernetes HPA manifest.
    Hpa,
    /// The AWS Auto Scaling policy as a CloudFormation template (JSON).
    Aws,
    /// A schedule as a KEDA ScaledObject.
    Keda,
}

impl ExportKind {
    /// Menu label.
    pub fn label(self) -> &'static str {
        match self {
            ExportKind::Plan => "Save Plan…",
            ExportKind::Pdf => "Export PDF…",
            ExportKind::Csv => "Export CSV…",
            ExportKind::Rules => "Export Rules…",
            ExportKind::Hpa => "Export HPA…",
            ExportKind::Aws => "Export AWS Template…",
            ExportKind::Keda => "Export KEDA Schedule…",
        }
    }

    /// The file name offered.
    pub fn default_name(self) -> &'static str {
        match self {
            ExportKind::Plan => "capacity.headroom.ron",
            ExportKind::Pdf => "capacity-plan.pdf",
            ExportKind::Csv => "capacity-csv",
            ExportKind::Rules => "capacity-rules.yml",
            ExportKind::Hpa => "hpa.yml",
            ExportKind::Aws => "aws-scaling.template.json",
            ExportKind::Keda => "keda-scaledobject.yml",
        }
    }
}

/// A user intent.
#[must_use]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Show the file dialog to open CSV files.
    OpenCsvDialog,
    /// Import these files or directories (added to what is loaded).
    Load(Vec<PathBuf>),
    /// Show the "Connect to Prometheus" dialog.
    ConnectPrometheus,
    /// Fetch metric names from the server, for completion.
    PrometheusMetricNames,
    /// Fetch label names (or one label's values) for completion.
    PrometheusLabels(super::panels::prometheus::LabelKey),
    /// Ask the server what the dialog's queries return, without importing.
    PrometheusPreview,
    /// Run the dialog's range queries and add their series (those picked in the preview).
    PrometheusImport,
    /// Replay the scenarios over the loaded forecasts.
    RunScenarios,
    /// Ask where, then export or save.
    Export(ExportKind),
    /// Export or save to this path (a directory for CSV).
    ExportTo(ExportKind, PathBuf),
    /// Ask which plan file to open.
    OpenPlan,
    /// Open this plan file: it replaces what is loaded.
    OpenPlanFrom(PathBuf),
    /// Show series `i` in the chart.
    Select(usize),
    /// Show the overview of every series.
    ShowOverview,
    /// Fit the forecasts again with the current settings.
    Refit,
    /// Stop the running job.
    Cancel,
    /// Hide the last error.
    DismissError,
    /// Show or hide the warnings panel.
    ToggleWarnings,
    /// Take back the last change to thresholds, forecast settings or scenarios.
    Undo,
    /// Put back what the last undo took.
    Redo,
}

impl Action {
    /// The label on menus and buttons.
    pub fn label(&self) -> &'static str {
        match self {
            Action::OpenCsvDialog => "Open CSV…",
            Action::Load(_) => "Load",
            Action::ConnectPrometheus => "Connect to Prometheus…",
            Action::PrometheusMetricNames => "Load metric names",
            Action::PrometheusLabels(_) => "Load labels",
            Action::PrometheusPreview => "Preview",
            Action::PrometheusImport => "Import",
            Action::RunScenarios => "Run scenarios",
            Action::Export(k) | Action::ExportTo(k, _) => k.label(),
            Action::OpenPlan | Action::OpenPlanFrom(_) => "Open Plan…",
            Action::Select(_) => "Select",
            Action::ShowOverview => "Overview",
            Action::Refit => "Refit",
            Action::Cancel => "Cancel",
            Action::DismissError => "Dismiss",
            Action::ToggleWarnings => "Warnings",
            Action::Undo => "Undo",
            Action::Redo => "Redo",
        }
    }

    /// The tooltip.
    pub fn tooltip(&self) -> &'static str {
        match self {
            Action::OpenCsvDialog => "Import metric history from CSV files (long, wide or Grafana form)",
            Action::Load(_) => "Import these files",
            Action::ConnectPrometheus => "Import from Prometheus, Thanos, Mimir or VictoriaMetrics",
            Action::PrometheusMetricNames => "Fetch metric names for completion",
            Action::PrometheusLabels(_) => "Fetch label names or values for completion",
            Action::PrometheusPreview => "Count the series and points the queries return, and pick which to import",
            Action::PrometheusImport => "Run the range queries and add their series",
            Action::RunScenarios => "Replay every scenario's policy over its series' history and forecast, with sample paths for risk",
            Action::Export(_) | Action::ExportTo(..) => "Write the plan as built from what is loaded: forecasts, runway, scenarios",
            Action::OpenPlan | Action::OpenPlanFrom(_) => "Reopen a saved review, with its data, offline",
            Action::Select(_) => "Show this series in the chart",
            Action::ShowOverview => "Every series in one table, most urgent first",
            Action::Refit => "Fit the forecasts again with the current horizon, bands and seasonality",
            Action::Cancel => "Stop the running job; what is loaded stays as it is",
            Action::DismissError => "Hide this message",
            Action::ToggleWarnings => "Show what the import and the fits repaired or assumed",
            Action::Undo => "Take back the last change to thresholds, forecast settings, scenarios or plan details",
            Action::Redo => "Put back what the last undo took",
        }
    }

    /// The keyboard shortcut, if any.
    pub fn shortcut(&self) -> Option<KeyboardShortcut> {
        match self {
            Action::OpenCsvDialog => Some(KeyboardShortcut::new(Modifiers::COMMAND, Key::O)),
            Action::Refit => Some(KeyboardShortcut::new(Modifiers::COMMAND, Key::R)),
            Action::Export(ExportKind::Plan) => Some(KeyboardShortcut::new(Modifiers::COMMAND, Key::S)),
            Action::Export(ExportKind::Pdf) => Some(KeyboardShortcut::new(Modifiers::COMMAND, Key::E)),
            Action::OpenPlan => Some(KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::O)),
            Action::Cancel => Some(KeyboardShortcut::new(Modifiers::NONE, Key::Escape)),
            Action::Undo => Some(KeyboardShortcut::new(Modifiers::COMMAND, Key::Z)),
            Action::Redo => Some(KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Z)),
            _ => None,
        }
    }

    /// Actions that have a shortcut, for the key handler.
    pub fn with_shortcuts() -> [Action; 8] {
        // Ctrl+Shift+O before Ctrl+O (and Ctrl+Shift+Z before Ctrl+Z), so the longer
        // shortcut wins.
        [
            Action::OpenPlan,
            Action::OpenCsvDialog,
            Action::Redo,
            Action::Undo,
            Action::Refit,
            Action::Cancel,
            Action::Export(ExportKind::Plan),
            Action::Export(ExportKind::Pdf),
        ]
    }
}
