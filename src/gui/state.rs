//! What the window remembers between runs: the user's intent, never loaded data,
//! caches or jobs. Every field has a default so an older saved state still loads.

use serde::{Deserialize, Serialize};

/// Persisted settings of the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppState {
    /// The horizon as typed: steps (`576`) or a duration (`7d`).
    pub horizon: String,
    /// Whether the 80 % band is shown and exported.
    pub show_80: bool,
    /// Whether the 95 % band is shown and exported.
    pub show_95: bool,
    /// Seasonal periods: `auto`, steps such as `288,2016` or durations such as `1d,7d`.
    pub periods: String,
    /// Show the warnings panel.
    pub show_warnings: bool,
    /// The model: `auto`, `combination` or a model name.
    pub model: String,
    /// Show the backtest table.
    pub show_backtest: bool,
    /// Thresholds typed per series (display name → `65,80,90`).
    pub thresholds: std::collections::BTreeMap<String, String>,
    /// Show the scenarios panel.
    pub show_scenarios: bool,
    /// The scenarios, as TOML (the format `headroom simulate` reads).
    pub scenarios: String,
    /// The Prometheus dialog's connection and query (never a secret value).
    pub prometheus: super::panels::prometheus::PrometheusForm,
    /// The plan's title (PDF cover and plan file).
    pub plan_title: String,
    /// The plan's author.
    pub plan_author: String,
    /// `system`, `light` or `dark`.
    pub theme: String,
    /// Files and plans opened lately, newest first (paths only).
    pub recent: Vec<std::path::PathBuf>,
    /// The overview's filter (name or `label=value`).
    pub overview_filter: String,
    /// How the overview is sorted.
    pub overview_sort: super::model::OverviewSort,
    /// The label the overview groups by (empty: none).
    pub overview_group: String,
    /// Days of history the chart opens on before the forecast (0: all of it); pan or
    /// zoom out for the rest, double-click to come back.
    pub history_days: u32,
    /// The chart's value axis is logarithmic.
    pub log_scale: bool,
    /// Times are shown in the system's zone (else UTC, as the exports write them).
    pub local_time: bool,
    /// The series chart and the scenario chart pan and zoom together.
    pub link_time_axes: bool,
}

impl Default for AppState {
    fn default() -> Self {
        AppState {
            horizon: "14d".into(),
            show_80: true,
            show_95: true,
            periods: "auto".into(),
            show_warnings: false,
            model: "auto".into(),
            show_backtest: true,
            prometheus: Default::default(),
            thresholds: Default::default(),
            show_scenarios: true,
            scenarios: String::new(),
            plan_title: crate::plan::DEFAULT_TITLE.into(),
            plan_author: String::new(),
            theme: "system".into(),
            recent: Vec::new(),
            overview_filter: String::new(),
            overview_sort: Default::default(),
            overview_group: String::new(),
            history_days: 28,
            log_scale: false,
            local_time: false,
            link_time_axes: true,
        }
    }
}

impl AppState {
    /// The interval levels selected, highest last (at least one: 95 when both are off).
    pub fn levels(&self) -> Vec<f64> {
        let mut l = Vec::new();
        if self.show_80 {
            l.push(80.0);
        }
        if self.show_95 || l.is_empty() {
            l.push(95.0);
        }
        l
    }
}
