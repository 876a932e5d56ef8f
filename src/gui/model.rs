//! The window's data: loaded series and their forecasts, with no egui types, so that
//! everything an action does can be tested without a window.

use crate::forecast::Forecast;
use crate::series::Series;
use crate::warning::Warning;
use std::path::PathBuf;

/// Where a loaded series came from, as the plan records it.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A CSV file.
    File(PathBuf),
    /// A range query against a Prometheus-compatible server.
    Prometheus {
        /// The server's base URL.
        server: String,
        /// The PromQL query.
        query: String,
        /// First instant, UTC ms.
        start_ms: i64,
        /// Last instant, UTC ms.
        end_ms: i64,
        /// The step asked for (`None`: chosen from the range and the data).
        step_ms: Option<i64>,
    },
    /// A plan file: its own sources are in [`Model::plan_sources`].
    Plan,
    /// Something else, such as the built-in sample generator.
    Other(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(p) => write!(f, "{}", p.display()),
            Source::Prometheus { server, query, start_ms, end_ms, step_ms } => {
                let step = step_ms.map_or_else(|| "auto".to_string(), crate::time::format_duration);
                write!(
                    f,
                    "Prometheus {server}: {query} from {} to {} (step {step})",
                    crate::time::format_rfc3339(*start_ms),
                    crate::time::format_rfc3339(*end_ms)
                )
            }
            Source::Plan => f.write_str("a plan file"),
            Source::Other(what) => f.write_str(what),
        }
    }
}

/// One loaded series and what has been computed for it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The series.
    pub series: Series,
    /// Its observed values (slots less gaps), counted once: the series list shows them.
    pub samples: usize,
    /// Where it came from.
    pub source: Source,
    /// The latest forecast, or the error that prevented one.
    pub forecast: Option<Result<Forecast, String>>,
    /// The runways computed lately (sample paths are too dear to work out while a frame
    /// is drawn), each with the thresholds text and forecast it was computed for.
    pub runway_cache: std::cell::RefCell<Vec<(String, RunwayKey, Vec<crate::capacity::Crossing>)>>,
}

/// What a cached runway depends on besides the thresholds text.
pub type RunwayKey = (i64, usize, u64);

/// Runways kept per series (so that undoing a threshold finds its runway at once).
const RUNWAYS_KEPT: usize = 4;

fn runway_key(f: &Forecast) -> RunwayKey {
    let sum =
        f.point.iter().chain(f.bands.iter().flat_map(|b| b.upper.iter().chain(&b.lower))).fold(0u64, |h, v| h.rotate_left(5) ^ v.to_bits());
    (f.start_ms, f.point.len(), sum)
}

/// A runway to work out off the UI thread: [`compute`](Self::compute) it anywhere, then
/// give the result to [`Model::store_runway`].
#[derive(Debug, Clone)]
pub struct RunwayRequest {
    name: String,
    text: String,
    key: RunwayKey,
    series: Series,
    forecast: Forecast,
}

/// A runway worked out, for [`Model::store_runway`].
#[derive(Debug, Clone)]
pub struct RunwayDone {
    name: String,
    text: String,
    key: RunwayKey,
    crossings: Vec<crate::capacity::Crossing>,
}

impl RunwayRequest {
    /// Works the runway out (sample paths: a fraction of a second for a long horizon).
    pub fn compute(self) -> RunwayDone {
        let crossings = runway_for(&self.series, &self.forecast, &self.text);
        RunwayDone { name: self.name, text: self.text, key: self.key, crossings }
    }
}

/// The runway of `series` to the thresholds typed (`65,80,90`), or to the defaults by
/// kind when the text is empty or not numbers.
fn runway_for(series: &Series, f: &Forecast, thresholds_text: &str) -> Vec<crate::capacity::Crossing> {
    let values = crate::capacity::parse_values(thresholds_text);
    let thresholds =
        if values.is_empty() { crate::capacity::default_thresholds(series) } else { crate::capacity::thresholds_for(series, &values) };
    crate::capacity::runway(series, f, &thresholds, 95.0)
}

impl Entry {
    /// An entry for `series` from `source`, with its forecast if there is one.
    pub fn new(series: Series, source: Source, forecast: Option<Result<Forecast, String>>) -> Self {
        let samples = series.values.iter().filter(|v| !v.is_nan()).count();
        Entry { series, samples, source, forecast, runway_cache: Default::default() }
    }

    /// The runway to the thresholds typed, computed here when it is not cached.
    pub fn crossings(&self, thresholds_text: &str) -> Vec<crate::capacity::Crossing> {
        if let Some(c) = self.cached_crossings(thresholds_text) {
            return c;
        }
        let Some(Ok(f)) = &self.forecast else { return Vec::new() };
        let crossings = runway_for(&self.series, f, thresholds_text);
        self.keep_runway(thresholds_text.to_string(), runway_key(f), crossings.clone());
        crossings
    }

    /// The runway to the thresholds typed if it has been worked out for the current
    /// forecast; an entry without a forecast has none (`Some` of nothing).
    pub fn cached_crossings(&self, thresholds_text: &str) -> Option<Vec<crate::capacity::Crossing>> {
        let Some(Ok(f)) = &self.forecast else { return Some(Vec::new()) };
        self.cached(thresholds_text, runway_key(f))
    }

    fn cached(&self, thresholds_text: &str, key: RunwayKey) -> Option<Vec<crate::capacity::Crossing>> {
        self.runway_cache.borrow().iter().find(|(t, k, _)| t == thresholds_text && *k == key).map(|(_, _, c)| c.clone())
    }

    /// What to work out for this runway, when it is not cached yet.
    pub fn runway_request(&self, thresholds_text: &str) -> Option<RunwayRequest> {
        let Some(Ok(f)) = &self.forecast else { return None };
        let key = runway_key(f);
        if self.cached(thresholds_text, key).is_some() {
            return None;
        }
        Some(RunwayRequest {
            name: self.series.display_name(),
            text: thresholds_text.to_string(),
            key,
            series: self.series.clone(),
            forecast: f.clone(),
        })
    }

    fn keep_runway(&self, text: String, key: RunwayKey, crossings: Vec<crate::capacity::Crossing>) {
        let mut cache = self.runway_cache.borrow_mut();
        cache.retain(|(t, k, _)| !(t == &text && *k == key));
        cache.insert(0, (text, key, crossings));
        cache.truncate(RUNWAYS_KEPT);
    }
}

/// Everything loaded in the window.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// The series list, in load order.
    pub entries: Vec<Entry>,
    /// Index of the series shown in the chart.
    pub selected: usize,
    /// Warnings from imports and fits, newest last.
    pub warnings: Vec<Warning>,
    /// The last error, shown in the status line until dismissed.
    pub error: Option<String>,
    /// A short note of what happened last ("Loaded 5 series from …").
    pub status: String,
    /// The sources a reopened plan recorded (files, servers and queries), kept for
    /// when it is saved again.
    pub plan_sources: Vec<String>,
}

impl Model {
    /// The shortest step of the series loaded (`None` when none is): the horizon and
    /// history presets follow it (`pipeline::horizon_presets`).
    pub fn finest_step_ms(&self) -> Option<i64> {
        self.entries.iter().map(|e| e.series.step_ms).min()
    }

    /// The runways the window needs and has not worked out: each series' at the
    /// thresholds typed for it (`thresholds`, by display name).
    pub fn runway_requests(&self, thresholds: &std::collections::BTreeMap<String, String>) -> Vec<RunwayRequest> {
        self.entries.iter().filter_map(|e| e.runway_request(thresholds.get(&e.series.display_name()).map_or("", String::as_str))).collect()
    }

    /// Keeps a runway worked out off the UI thread (dropped when its series is gone).
    pub fn store_runway(&mut self, done: RunwayDone) {
        if let Some(e) = self.entries.iter().find(|e| e.series.display_name() == done.name) {
            e.keep_runway(done.text, done.key, done.crossings);
        }
    }

    /// Every source of what is loaded, each once, sorted: what the plan records.
    pub fn sources(&self) -> Vec<String> {
        let mut all: std::collections::BTreeSet<String> = self.plan_sources.iter().cloned().collect();
        all.extend(self.entries.iter().filter(|e| e.source != Source::Plan).map(|e| e.source.to_string()));
        all.into_iter().collect()
    }

    /// The selected entry, if any.
    pub fn selected(&self) -> Option<&Entry> {
        self.entries.get(self.selected)
    }

    /// Adds imported series. A series whose display name is already loaded is
    /// replaced in place; new ones are appended. Earlier series stay untouched.
    pub fn add_series(&mut self, series: Vec<(Series, Source)>, warnings: Vec<Warning>) {
        for (s, source) in series {
            let name = s.display_name();
            let entry = Entry::new(s, source, None);
            match self.entries.iter_mut().find(|e| e.series.display_name() == name) {
                Some(existing) => *existing = entry,
                None => self.entries.push(entry),
            }
        }
        self.warnings.extend(warnings);
        if self.selected >= self.entries.len() {
            self.selected = 0;
        }
    }

    /// Stores forecast results by series display name (results for series that are no
    /// longer loaded are dropped).
    pub fn set_forecasts(&mut self, results: Vec<(String, Result<Forecast, String>)>) {
        for (name, result) in results {
            if let Some(e) = self.entries.iter_mut().find(|e| e.series.display_name() == name) {
                if let Ok(f) = &result {
                    self.warnings.extend(f.warnings.iter().cloned());
                }
                e.forecast = Some(result);
            }
        }
    }
}

/// One row of the overview: what a reviewer needs of a series at a glance.
#[derive(Debug, Clone)]
pub struct OverviewRow {
    /// Index in [`Model::entries`].
    pub index: usize,
    /// Display name.
    pub name: String,
    /// Labels (for filtering and grouping).
    pub labels: std::collections::BTreeMap<String, String>,
    /// The series' unit, for formatting.
    pub unit: crate::series::Unit,
    /// The last present value of history.
    pub current: Option<f64>,
    /// The forecast's highest point within the horizon.
    pub peak: Option<f64>,
    /// The most severe threshold less the peak (negative: the peak passes it).
    pub headroom: Option<f64>,
    /// The runway to each threshold, least severe first.
    pub crossings: Vec<crate::capacity::Crossing>,
    /// The model, or why there is no forecast.
    pub model: Result<String, String>,
    /// The 95 % band's out-of-sample coverage (each window judged without itself and the
    /// neighbour either side that overlaps it).
    pub coverage_95: Option<f64>,
    /// The runway is still being worked out (off the UI thread).
    pub runway_pending: bool,
    /// [`urgency`](Self::urgency), worked out once (the table sorts on it every frame).
    urgency: Vec<f64>,
}

impl OverviewRow {
    /// Chances of reaching each threshold, most severe first: the order of urgency (a
    /// series likely to pass its emergency line before one likely to pass a warning).
    pub fn urgency(&self) -> &[f64] {
        &self.urgency
    }

    /// The largest chance of reaching any threshold within the horizon.
    pub fn worst(&self) -> f64 {
        self.urgency.iter().copied().fold(0.0, f64::max)
    }
}

/// How the overview is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum OverviewSort {
    /// Most urgent first.
    #[default]
    Urgency,
    /// By name.
    Name,
    /// Least headroom first.
    Headroom,
    /// Highest peak first.
    Peak,
    /// Lowest band coverage first.
    Coverage,
}

impl Model {
    /// The overview's rows: every series whose name or labels contain `filter` (case
    /// aside), sorted by `sort`; `thresholds` are the texts typed per series.
    /// Runways not worked out yet are empty, with [`OverviewRow::runway_pending`] set.
    pub fn overview(&self, thresholds: &std::collections::BTreeMap<String, String>, filter: &str, sort: OverviewSort) -> Vec<OverviewRow> {
        let needle = filter.trim().to_lowercase();
        let mut rows: Vec<OverviewRow> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                needle.is_empty()
                    || e.series.display_name().to_lowercase().contains(&needle)
                    || e.series.labels.iter().any(|(k, v)| format!("{k}={v}").to_lowercase().contains(&needle))
            })
            .map(|(index, e)| {
                let name = e.series.display_name();
                let cached = e.cached_crossings(thresholds.get(&name).map_or("", String::as_str));
                let runway_pending = cached.is_none();
                let crossings = cached.unwrap_or_default();
                let forecast = e.forecast.as_ref().and_then(|f| f.as_ref().ok());
                let peak = forecast.and_then(|f| f.point.iter().copied().filter(|v| v.is_finite()).reduce(f64::max));
                let top = crossings.iter().map(|c| c.threshold.value).reduce(f64::max);
                OverviewRow {
                    index,
                    runway_pending,
                    labels: e.series.labels.clone(),
                    unit: e.series.unit,
                    current: e.series.values.iter().rev().find(|v| !v.is_nan()).copied(),
                    peak,
                    headroom: top.zip(peak).map(|(t, p)| t - p),
                    model: match &e.forecast {
                        Some(Ok(f)) => Ok(f.model.clone()),
                        Some(Err(m)) => Err(m.clone()),
                        None => Err("not forecast yet".into()),
                    },
                    coverage_95: forecast
                        .and_then(|f| f.evidence.as_ref())
                        .and_then(|ev| ev.calibrated_coverage.as_ref())
                        .and_then(|c| c.iter().find(|l| (l.level - 95.0).abs() < 1e-9).map(|l| l.value)),
                    urgency: crossings.iter().rev().map(crate::capacity::Crossing::chance).collect(),
                    crossings,
                    name,
                }
            })
            .collect();
        let last = |v: Option<f64>, high_first: bool| match v {
            Some(x) if high_first => -x,
            Some(x) => x,
            None => f64::INFINITY,
        };
        match sort {
            OverviewSort::Urgency => rows.sort_by(|a, b| {
                b.urgency
                    .as_slice()
                    .partial_cmp(a.urgency.as_slice())
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| last(a.headroom, false).total_cmp(&last(b.headroom, false)))
            }),
            OverviewSort::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
            OverviewSort::Headroom => rows.sort_by(|a, b| last(a.headroom, false).total_cmp(&last(b.headroom, false))),
            OverviewSort::Peak => rows.sort_by(|a, b| last(a.peak, true).total_cmp(&last(b.peak, true))),
            OverviewSort::Coverage => rows.sort_by(|a, b| last(a.coverage_95, false).total_cmp(&last(b.coverage_95, false))),
        }
        rows
    }

    /// Label names present on any series, for grouping.
    pub fn label_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.entries.iter().flat_map(|e| e.series.labels.keys().cloned()).collect();
        names.sort();
        names.dedup();
        names
    }
}
