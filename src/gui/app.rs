//! The eframe application: `logic()` polls the jobs and applies their results,
//! `ui()` draws the panels and applies the actions they return.

use super::action::{Action, ExportKind};
use super::jobs::Job;
use super::model::Model;
use super::panels;
use super::state::AppState;
use crate::forecast::{Forecast, ForecastSettings, ModelChoice};
use crate::import::csv::CsvOptions;
use crate::pipeline::{self, Horizon};
use crate::series::Series;
use crate::warning::Warning;
use eframe::egui;
use std::path::PathBuf;

/// What a scenario replay gives: the outcomes, the recommended one, whether it keeps
/// within the risk budget, and the recommendation in words
/// ([`crate::simulate::recommendation_text`]).
type SimResult = (Vec<crate::simulate::Outcome>, Option<usize>, bool, Option<String>);
/// What a load job returns: the series with their source files, and the warnings.
type Loaded = Result<(Vec<(Series, super::model::Source)>, Vec<Warning>), String>;
/// What a fit job returns: per series display name, the forecast or its error.
type Fitted = Result<Vec<(String, Result<Forecast, String>)>, String>;

const STATE_KEY: &str = "headroom.state";

/// The Headroom window.
pub struct HeadroomApp {
    /// Persisted settings.
    pub state: AppState,
    /// Loaded data and results.
    pub model: Model,
    ctx: egui::Context,
    load_job: Option<Job<Loaded>>,
    fit_job: Option<Job<Fitted>>,
    dialog_job: Option<Job<Option<Vec<PathBuf>>>>,
    names_job: Option<Job<Result<Vec<String>, String>>>,
    labels_job: Option<Job<(panels::prometheus::LabelKey, Result<Vec<String>, String>)>>,
    preview_job: Option<Job<Result<panels::prometheus::Preview, String>>>,
    runway_job: Option<Job<Vec<super::model::RunwayDone>>>,
    sim_job: Option<Job<Result<SimResult, String>>>,
    /// The scenarios panel's results.
    pub scenarios: panels::scenarios::ScenarioView,
    path_job: Option<Job<Option<(Action, PathBuf)>>>,
    /// An export: the status to show and what the exported file cannot carry.
    export_job: Option<Job<Result<(String, Vec<String>), String>>>,
    open_plan_job: Option<Job<Result<crate::plan::Plan, String>>>,
    /// The Prometheus dialog's transient state.
    pub prometheus: panels::prometheus::PrometheusDialog,
    /// The in-window file picker, when no native dialog can appear.
    pub path_prompt: Option<panels::path_prompt::PathPrompt>,
    /// What the window shows: a plan file's or the data's name, for the title.
    pub document: String,
    /// Changed since the plan was last opened or saved.
    pub dirty: bool,
    /// The plan file a running save writes.
    saving_plan: Option<PathBuf>,
    /// The title last sent to the window.
    shown_title: String,
    /// The overview table is shown (else the selected series' chart): the window opens
    /// on it.
    pub overview: bool,
    /// Undo and redo of thresholds, forecast settings and scenarios.
    pub history: super::undo::History,
    /// The system's time zone, looked up once.
    local_clock: crate::time::Clock,
    /// With `HEADROOM_FIRST_FRAME` set (by `headroom bench frames`): frames seen so
    /// far; once the first is painted, one line is printed and the window closes.
    report_first_frame: Option<u32>,
}

impl HeadroomApp {
    /// Creates the app and starts loading `inputs` (or the sample data).
    pub fn new(cc: &eframe::CreationContext<'_>, inputs: Vec<PathBuf>) -> Self {
        let state: super::state::AppState = cc.storage.and_then(|s| eframe::get_value(s, STATE_KEY)).unwrap_or_default();
        Self::with_state(&cc.egui_ctx, state, inputs)
    }

    /// Creates the app on `ctx` with `state` (what [`new`](Self::new) reads from the
    /// saved settings) and starts loading `inputs` (or the sample data). Benchmarks
    /// and screenshots drive it this way, without eframe.
    pub fn with_state(ctx: &egui::Context, state: AppState, inputs: Vec<PathBuf>) -> Self {
        let mut app = Self::blank(ctx, state);
        // A plan file among the inputs opens as the whole review.
        let (plans, inputs): (Vec<PathBuf>, Vec<PathBuf>) =
            inputs.into_iter().partition(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("ron")));
        if let Some(plan) = plans.into_iter().next() {
            app.apply(Action::OpenPlanFrom(plan));
            return app;
        }
        let inputs = if inputs.is_empty() { super::sample_data_dir().into_iter().collect() } else { inputs };
        if inputs.is_empty() {
            app.load_generated_samples();
        } else {
            app.apply(Action::Load(inputs));
        }
        app
    }

    /// The app on `ctx` with `state` and nothing loaded.
    pub fn blank(ctx: &egui::Context, state: AppState) -> Self {
        super::theme::apply(ctx, &state.theme);
        let mut app = HeadroomApp {
            state,
            model: Model::default(),
            ctx: ctx.clone(),
            load_job: None,
            fit_job: None,
            dialog_job: None,
            names_job: None,
            labels_job: None,
            preview_job: None,
            runway_job: None,
            sim_job: None,
            scenarios: Default::default(),
            path_job: None,
            export_job: None,
            open_plan_job: None,
            prometheus: Default::default(),
            path_prompt: None,
            document: String::new(),
            dirty: false,
            saving_plan: None,
            shown_title: String::new(),
            overview: true,
            history: super::undo::History::new(&AppState::default()),
            local_clock: crate::time::Clock::local(),
            report_first_frame: std::env::var_os("HEADROOM_FIRST_FRAME").is_some().then_some(0),
        };
        if app.state.scenarios.trim().is_empty() {
            app.state.scenarios = crate::sample_data::SCENARIOS_TOML.to_string();
        }
        app.history.reset(&app.state);
        app
    }

    /// Puts `path` first in the recent files (ten at most, paths only).
    fn note_recent(&mut self, path: &std::path::Path) {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.state.recent.retain(|p| *p != path);
        self.state.recent.insert(0, path);
        self.state.recent.truncate(10);
    }

    /// The window title: the document, a dot while it has unsaved changes.
    pub fn title(&self) -> String {
        match (self.document.is_empty(), self.dirty) {
            (true, _) => "Headroom".into(),
            (false, false) => format!("{} — Headroom", self.document),
            (false, true) => format!("{} • — Headroom", self.document),
        }
    }

    /// With no sample-data directory at hand, the same series come from the generator.
    fn load_generated_samples(&mut self) {
        let mut series = Vec::new();
        let mut warnings = Vec::new();
        for s in crate::sample_data::generate() {
            let points = s
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| (crate::sample_data::START_MS + i as i64 * crate::sample_data::STEP_MS, *v))
                .collect();
            match Series::from_points(s.name, Default::default(), crate::series::Unit::infer(s.name), points) {
                Ok((series_, w)) => {
                    series.push((series_, super::model::Source::Other("sample generator".into())));
                    warnings.extend(w);
                }
                Err(e) => self.model.error = Some(e.to_string()),
            }
        }
        self.model.add_series(series, warnings);
        self.model.status = "Generated the sample data".into();
        self.apply(Action::Refit);
    }

    /// The job shown in the top bar, with its progress.
    pub fn busy(&self) -> Option<(&'static str, f32)> {
        if let Some(j) = &self.load_job {
            return Some((j.name, j.progress.fraction()));
        }
        if let Some(j) = &self.sim_job {
            return Some((j.name, j.progress.fraction()));
        }
        if let Some(j) = &self.fit_job {
            return Some((j.name, j.progress.fraction()));
        }
        self.runway_job.as_ref().map(|j| (j.name, j.progress.fraction()))
    }

    /// True while any background job runs.
    pub fn is_busy(&self) -> bool {
        self.load_job.is_some()
            || self.fit_job.is_some()
            || self.dialog_job.is_some()
            || self.names_job.is_some()
            || self.labels_job.is_some()
            || self.preview_job.is_some()
            || self.runway_job.is_some()
            || self.sim_job.is_some()
            || self.path_job.is_some()
            || self.export_job.is_some()
            || self.open_plan_job.is_some()
    }

    /// Carries out one action. The only place that changes the model in response to
    /// the user.
    pub fn apply(&mut self, action: Action) {
        match action {
            Action::OpenCsvDialog if panels::path_prompt::native_dialogs_unavailable() => {
                self.path_prompt = Some(panels::path_prompt::PathPrompt::new(panels::path_prompt::Purpose::OpenCsv));
            }
            Action::Export(kind) if panels::path_prompt::native_dialogs_unavailable() => {
                self.path_prompt = Some(panels::path_prompt::PathPrompt::new(panels::path_prompt::Purpose::Export(kind)));
            }
            Action::OpenPlan if panels::path_prompt::native_dialogs_unavailable() => {
                self.path_prompt = Some(panels::path_prompt::PathPrompt::new(panels::path_prompt::Purpose::OpenPlan));
            }
            Action::OpenCsvDialog => {
                if self.dialog_job.is_none() {
                    self.dialog_job = Some(Job::spawn("Choosing files", &self.ctx, |_| {
                        rfd::FileDialog::new().set_title("Open metric history").add_filter("CSV", &["csv", "tsv", "txt"]).pick_files()
                    }));
                }
            }
            Action::Load(paths) => {
                if let Some(old) = self.load_job.take() {
                    old.cancel();
                }
                let label = describe_paths(&paths);
                self.document = label.clone();
                self.dirty = false;
                for p in &paths {
                    self.note_recent(p);
                }
                self.model.status = format!("Loading {label}…");
                self.load_job = Some(Job::spawn("Importing", &self.ctx, move |progress| {
                    progress.add_total(1);
                    let loaded = pipeline::load_files(&paths, &CsvOptions::default()).map_err(|e| e.to_string())?;
                    progress.advance(1);
                    let mut series = Vec::new();
                    let mut warnings = Vec::new();
                    for (path, import) in loaded {
                        series.extend(import.series.into_iter().map(|s| (s, super::model::Source::File(path.clone()))));
                        warnings.extend(import.warnings);
                    }
                    Ok((series, warnings))
                }));
            }
            Action::ConnectPrometheus => self.prometheus.open = true,
            Action::PrometheusMetricNames => {
                let settings = self.prometheus_settings();
                self.prometheus.names_status = "Loading metric names…".into();
                self.names_job = Some(Job::spawn("Metric names", &self.ctx, move |_| {
                    let settings = settings.map_err(|e| e.to_string())?;
                    let client = crate::import::prometheus::Client::new(&settings).map_err(|e| e.to_string())?;
                    client.metric_names().map_err(|e| e.to_string())
                }));
            }
            Action::PrometheusLabels(key) => {
                if self.labels_job.is_none() && !self.prometheus.labels.contains_key(&key) {
                    let settings = self.prometheus_settings();
                    self.labels_job = Some(Job::spawn("Labels", &self.ctx, move |_| {
                        let result = settings.and_then(|s| {
                            let client = crate::import::prometheus::Client::new(&s)?;
                            let matcher = (!key.0.is_empty()).then_some(key.0.as_str());
                            match &key.1 {
                                None => client.label_names_for(matcher),
                                Some(label) => client.label_values_for(label, matcher),
                            }
                        });
                        (key, result.map_err(|e| e.to_string()))
                    }));
                }
            }
            Action::PrometheusPreview => self.start_prometheus_preview(),
            Action::PrometheusImport => self.start_prometheus_import(),
            Action::RunScenarios => {
                self.dirty = true;
                self.start_scenarios();
            }
            Action::Export(kind) => {
                if self.path_job.is_none() {
                    self.path_job = Some(Job::spawn("Choosing where", &self.ctx, move |_| {
                        let dialog = rfd::FileDialog::new().set_title(kind.label().trim_end_matches('…'));
                        let path = if kind == ExportKind::Csv {
                            dialog.pick_folder()
                        } else {
                            dialog.set_file_name(kind.default_name()).save_file()
                        };
                        path.map(|p| (Action::ExportTo(kind, p.clone()), p))
                    }));
                }
            }
            Action::OpenPlan => {
                if self.path_job.is_none() {
                    self.path_job = Some(Job::spawn("Choosing a plan", &self.ctx, |_| {
                        rfd::FileDialog::new()
                            .set_title("Open plan")
                            .add_filter("Headroom plan", &["ron"])
                            .pick_file()
                            .map(|p| (Action::OpenPlanFrom(p.clone()), p))
                    }));
                }
            }
            Action::ExportTo(kind, path) => {
                if kind == ExportKind::Plan {
                    self.saving_plan = Some(path.clone());
                }
                self.start_export(kind, path);
            }
            Action::OpenPlanFrom(path) => {
                self.note_recent(&path);
                self.document = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                self.dirty = false;
                self.model.status = format!("Opening {}…", path.display());
                self.open_plan_job =
                    Some(Job::spawn("Opening plan", &self.ctx, move |_| crate::plan::Plan::open(&path).map_err(|e| e.to_string())));
            }
            Action::Select(i) => {
                if i < self.model.entries.len() {
                    self.model.selected = i;
                    self.overview = false;
                }
            }
            Action::ShowOverview => self.overview = true,
            Action::Refit => {
                self.dirty = true;
                self.start_fit();
            }
            Action::Cancel => {
                let jobs = [
                    self.load_job.as_ref().map(|j| &j.progress),
                    self.fit_job.as_ref().map(|j| &j.progress),
                    self.preview_job.as_ref().map(|j| &j.progress),
                ];
                for p in jobs.into_iter().flatten() {
                    p.cancel();
                }
                if self.preview_job.take().is_some() {
                    self.prometheus.preview_status = "Preview cancelled".into();
                }
                self.load_job = None;
                self.fit_job = None;
                self.model.status = "Cancelled; everything loaded before is unchanged".into();
            }
            Action::DismissError => self.model.error = None,
            Action::Undo | Action::Redo => {
                let restored = if action == Action::Undo { self.history.undo(&mut self.state) } else { self.history.redo(&mut self.state) };
                if let Some(r) = restored {
                    self.dirty = true;
                    self.model.status = format!("{} {}", if action == Action::Undo { "Undid" } else { "Redid" }, r.what);
                    if r.refit {
                        self.start_fit();
                    }
                }
            }
            Action::ToggleWarnings => self.state.show_warnings = !self.state.show_warnings,
        }
    }

    /// The dialog's connection with its typed headers applied.
    fn prometheus_settings(&self) -> crate::Result<crate::import::prometheus::ConnectionSettings> {
        let form = &self.state.prometheus;
        let mut settings = form.connection.clone();
        settings.headers = form
            .headers_text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(crate::import::prometheus::parse_header)
            .collect::<crate::Result<Vec<_>>>()?;
        Ok(settings)
    }

    /// The dialog's connection, queries, range and step, or the error to show.
    #[allow(clippy::type_complexity)]
    fn prometheus_request(
        &self,
    ) -> Result<(crate::import::prometheus::ConnectionSettings, panels::prometheus::PreviewKey, i64, i64), String> {
        let form = &self.state.prometheus;
        let settings = self.prometheus_settings().map_err(|e| e.to_string())?;
        let (start, end) = form.time_range(crate::time::now_ms())?;
        let step = form.step_ms()?;
        if form.queries().is_empty() {
            return Err("the query is empty".into());
        }
        Ok((settings, form.preview_key(step), start, end))
    }

    fn start_prometheus_preview(&mut self) {
        let (settings, key, start, end) = match self.prometheus_request() {
            Ok(r) => r,
            Err(e) => {
                self.prometheus.preview_status = e;
                return;
            }
        };
        self.prometheus.preview_status = "Asking the server…".into();
        self.preview_job = Some(Job::spawn("Preview", &self.ctx, move |progress| {
            let client = crate::import::prometheus::Client::new(&settings).map_err(|e| e.to_string())?;
            let (queries, _, step) = key.clone();
            // The points at the import's step, counted from a coarse query (about 120
            // samples a series) so that the preview stays quick on long ranges.
            let full = step.unwrap_or_else(|| crate::import::prometheus::auto_step(start, end)).max(1);
            let coarse = ((end - start) / 120).max(full);
            let slots = ((end - start) / full + 1) as f64;
            let mut series = Vec::new();
            for q in &queries {
                let rq = crate::import::prometheus::RangeQuery { query: q.clone(), start_ms: start, end_ms: end, step_ms: Some(coarse) };
                let import = client.query_range(&rq, progress).map_err(|e| format!("{q}: {e}"))?;
                for s in import.series {
                    // Each coarse sample stands for coarse/full samples at the import's step.
                    let present = s.values.iter().filter(|v| !v.is_nan()).count() as f64;
                    series.push((s.display_name(), (present * coarse as f64 / full as f64).min(slots).round() as usize));
                }
            }
            Ok(panels::prometheus::Preview { key, series, step_ms: full })
        }));
    }

    fn start_prometheus_import(&mut self) {
        let (settings, key, start_ms, end_ms) = match self.prometheus_request() {
            Ok(r) => r,
            Err(e) => {
                self.model.error = Some(format!("Prometheus: {e}"));
                return;
            }
        };
        let picked = self.prometheus.picked(&key);
        if let Some(old) = self.load_job.take() {
            old.cancel();
        }
        self.model.status = format!("Querying {}…", settings.url);
        self.load_job = Some(Job::spawn("Importing from Prometheus", &self.ctx, move |progress| {
            let client = crate::import::prometheus::Client::new(&settings).map_err(|e| e.to_string())?;
            let (queries, _, step_ms) = key;
            let mut series = Vec::new();
            let mut warnings = Vec::new();
            for query in queries {
                let rq = crate::import::prometheus::RangeQuery { query: query.clone(), start_ms, end_ms, step_ms };
                let import = client.query_range(&rq, progress).map_err(|e| e.to_string())?;
                let source = super::model::Source::Prometheus { server: settings.url.clone(), query, start_ms, end_ms, step_ms };
                series.extend(
                    import
                        .series
                        .into_iter()
                        .filter(|s| picked.as_ref().is_none_or(|p| p.contains(&s.display_name())))
                        .map(|s| (s, source.clone())),
                );
                warnings.extend(import.warnings);
            }
            if series.is_empty() {
                return Err("none of the series picked in the preview came back: preview again".into());
            }
            Ok((series, warnings))
        }));
    }

    /// Every series the scenarios name is loaded and forecast.
    fn scenarios_ready(&self) -> bool {
        let Ok(file) = crate::simulate::ScenarioFile::parse(&self.state.scenarios, "scenarios") else { return false };
        file.scenario.iter().all(|s| {
            self.model
                .entries
                .iter()
                .any(|e| (e.series.name == s.series || e.series.display_name() == s.series) && matches!(e.forecast, Some(Ok(_))))
        })
    }

    fn start_scenarios(&mut self) {
        let file = match crate::simulate::ScenarioFile::parse(&self.state.scenarios, "scenarios") {
            Ok(f) => f,
            Err(e) => {
                self.model.error = Some(e.to_string());
                return;
            }
        };
        let mut work = Vec::new();
        for s in &file.scenario {
            let Some(entry) = self.model.entries.iter().find(|e| e.series.name == s.series || e.series.display_name() == s.series) else {
                self.model.error = Some(format!("scenario \"{}\": series \"{}\" is not loaded", s.name, s.series));
                return;
            };
            let Some(Ok(f)) = &entry.forecast else {
                self.model.error = Some(format!("scenario \"{}\": series \"{}\" has no forecast yet", s.name, s.series));
                return;
            };
            work.push((s.clone(), entry.series.clone(), f.clone()));
        }
        self.model.status = format!("Replaying {} scenarios…", work.len());
        self.sim_job = Some(Job::spawn("Replaying scenarios", &self.ctx, move |progress| {
            progress.add_total(work.len() as u64);
            let mut outcomes = Vec::new();
            for (s, series, f) in &work {
                progress.check().map_err(|e| e.to_string())?;
                outcomes.push(crate::simulate::run_scenario(s, series, f, file.paths, file.seed).map_err(|e| format!("{}: {e}", s.name))?);
                progress.advance(1);
            }
            let minutes = work.first().map_or(0.0, |(_, _, f)| f.point.len() as f64 * f.step_ms as f64 / 60_000.0);
            let best = crate::simulate::recommend(&outcomes, minutes, file.risk_budget);
            let text = crate::simulate::recommendation_text(&outcomes, best, minutes, file.risk_budget);
            let within = crate::simulate::recommended_within(&outcomes, best, minutes, file.risk_budget);
            Ok((outcomes, best, within, text))
        }));
    }

    /// The plan as the window has it: its forecasts, thresholds and scenarios. Built by
    /// [`crate::plan::assemble`], the same code the command line uses.
    pub fn plan_inputs(&self) -> crate::plan::PlanInputs {
        let horizon = Horizon::parse(&self.state.horizon).unwrap_or(Horizon::Duration(14 * crate::time::DAY_MS));
        crate::plan::PlanInputs {
            title: if self.state.plan_title.trim().is_empty() { crate::plan::DEFAULT_TITLE.into() } else { self.state.plan_title.clone() },
            author: self.state.plan_author.clone(),
            created_ms: crate::time::now_ms(),
            sources: self.model.sources(),
            settings: ForecastSettings { levels: self.state.levels(), ..ForecastSettings::default() },
            horizon,
            thresholds: None,
            series_thresholds: self.state.thresholds.iter().map(|(k, v)| (k.clone(), crate::capacity::parse_values(v))).collect(),
            runway_level: 95.0,
        }
    }

    fn start_export(&mut self, kind: ExportKind, path: PathBuf) {
        let inputs = self.plan_inputs();
        let forecasts: Vec<(Series, Result<Forecast, String>)> = self
            .model
            .entries
            .iter()
            .map(|e| (e.series.clone(), e.forecast.clone().unwrap_or_else(|| Err("not forecast yet".into()))))
            .collect();
        let scenarios =
            if self.scenarios_ready() { crate::simulate::ScenarioFile::parse(&self.state.scenarios, "scenarios").ok() } else { None };
        let warnings = self.model.warnings.clone();
        self.model.status = format!("Writing {}…", path.display());
        self.export_job = Some(Job::spawn("Exporting", &self.ctx, move |_| {
            let plan = crate::plan::assemble(&inputs, forecasts, warnings, scenarios).map_err(|e| e.to_string())?;
            let write = |p: &std::path::Path, bytes: &[u8]| crate::files::atomic_write(p, bytes).map_err(|e| e.to_string());
            // What an exported policy cannot carry (JSON has no comments), for the warnings.
            let notes: Vec<String> = match kind {
                ExportKind::Plan => plan.save(&path).map(|()| Vec::new()).map_err(|e| e.to_string())?,
                ExportKind::Pdf => write(&path, &crate::export::pdf::write_pdf(&plan).map_err(|e| e.to_string())?).map(|()| Vec::new())?,
                ExportKind::Rules => write(&path, crate::export::code::prometheus_rules(&plan).as_bytes()).map(|()| Vec::new())?,
                ExportKind::Csv => crate::export::write_csv_dir(&plan, &path).map(|()| Vec::new()).map_err(|e| e.to_string())?,
                ExportKind::Hpa => {
                    let manifest = crate::export::hpa_for_plan(&plan, None, None).map_err(|e| e.to_string())?;
                    write(&path, manifest.yaml.as_bytes())?;
                    manifest.warnings
                }
                ExportKind::Aws => {
                    let policy = crate::export::aws_for_plan(&plan).map_err(|e| e.to_string())?;
                    write(&path, policy.json.as_bytes())?;
                    policy.warnings
                }
                ExportKind::Keda => {
                    let keda = crate::export::keda_for_plan(&plan, None, None).map_err(|e| e.to_string())?;
                    write(&path, keda.yaml.as_bytes())?;
                    keda.warnings
                }
            };
            let status = match notes.len() {
                0 => format!("Saved to {}", path.display()),
                n => format!("Saved to {}: {n} notes on what it cannot carry in the warnings panel", path.display()),
            };
            let file = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
            Ok((status, notes.into_iter().map(|n| format!("{file}: {n}")).collect()))
        }));
    }

    fn start_fit(&mut self) {
        self.start_fit_of(false);
    }

    /// Fits every series, or (`only_unfitted`) those without a forecast yet. A fit
    /// already running is for everything, so it is then replaced by a full one.
    fn start_fit_of(&mut self, only_unfitted: bool) {
        let only_unfitted = only_unfitted && self.fit_job.is_none();
        let horizon = match Horizon::parse(&self.state.horizon) {
            Ok(h) => h,
            Err(e) => {
                self.model.error = Some(e.to_string());
                return;
            }
        };
        let periods = match crate::forecast::Periods::parse(&self.state.periods) {
            Ok(p) => p,
            Err(e) => {
                self.model.error = Some(format!("Seasonality: {e}"));
                return;
            }
        };
        let model = match ModelChoice::parse(&self.state.model) {
            Ok(m) => m,
            Err(e) => {
                self.model.error = Some(e.to_string());
                return;
            }
        };
        // Always the plan's 80 and 95 % bands, whichever the chart shows (the paths follow them).
        let settings = ForecastSettings { horizon: 1, periods, model, ..ForecastSettings::default() };
        if let Err(e) = settings.validate() {
            self.model.error = Some(e.to_string());
            return;
        }
        if self.model.entries.is_empty() {
            return;
        }
        if let Some(old) = self.fit_job.take() {
            old.cancel();
        }
        let series: Vec<Series> =
            self.model.entries.iter().filter(|e| !only_unfitted || e.forecast.is_none()).map(|e| e.series.clone()).collect();
        if series.is_empty() {
            return;
        }
        self.model.status = format!("Forecasting {} series…", series.len());
        self.fit_job = Some(Job::spawn("Forecasting", &self.ctx, move |progress| {
            let results = pipeline::forecast_all(&series, horizon, &settings, progress);
            if progress.is_cancelled() {
                return Err("cancelled".into());
            }
            Ok(series.iter().map(|s| s.display_name()).zip(results.into_iter().map(|r| r.map_err(|e| e.to_string()))).collect())
        }));
    }

    /// Drops jobs whose worker died without an answer (a panic), saying so, so that the
    /// window does not wait for them forever.
    fn reap_dead_jobs(&mut self) {
        fn reap<T: Send + 'static>(job: &mut Option<Job<T>>, error: &mut Option<String>) {
            if job.as_ref().is_some_and(Job::is_dead) {
                let name = job.take().map_or("work", |j| j.name);
                *error = Some(format!("{name} stopped unexpectedly; what was loaded is unchanged"));
            }
        }
        let e = &mut self.model.error;
        reap(&mut self.load_job, e);
        reap(&mut self.fit_job, e);
        reap(&mut self.dialog_job, e);
        reap(&mut self.names_job, e);
        reap(&mut self.labels_job, e);
        reap(&mut self.preview_job, e);
        reap(&mut self.runway_job, e);
        reap(&mut self.sim_job, e);
        reap(&mut self.path_job, e);
        reap(&mut self.export_job, e);
        reap(&mut self.open_plan_job, e);
    }

    /// Works out, off the UI thread, the runways the overview and the chart need and
    /// do not have (sample paths take a fraction of a second a series).
    fn start_runways(&mut self) {
        if self.runway_job.is_some() || self.fit_job.is_some() {
            return;
        }
        let requests = self.model.runway_requests(&self.state.thresholds);
        if requests.is_empty() {
            return;
        }
        self.runway_job = Some(Job::spawn("Working out runways", &self.ctx, move |progress| {
            use rayon::prelude::*;
            progress.add_total(requests.len() as u64);
            requests
                .into_par_iter()
                .map(|r| {
                    let done = r.compute();
                    progress.advance(1);
                    done
                })
                .collect()
        }));
    }

    /// Applies finished jobs. Called every frame before drawing, and by tests.
    pub fn poll_jobs(&mut self) {
        if let Some(done) = self.runway_job.as_ref().and_then(Job::poll) {
            self.runway_job = None;
            for d in done {
                self.model.store_runway(d);
            }
        }
        if let Some(result) = self.path_job.as_ref().and_then(Job::poll) {
            self.path_job = None;
            if let Some((action, _)) = result {
                self.apply(action);
            }
        }
        if let Some(result) = self.export_job.as_ref().and_then(Job::poll) {
            self.export_job = None;
            let saved = self.saving_plan.take();
            match result {
                Ok((msg, notes)) => {
                    self.model.status = msg;
                    self.model.warnings.extend(notes.into_iter().map(|n| crate::warning::Warning::new("", n)));
                    if let Some(p) = saved {
                        self.note_recent(&p);
                        self.document = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                        self.dirty = false;
                    }
                }
                Err(e) => self.model.error = Some(format!("export failed, nothing was overwritten: {e}")),
            }
        }
        if let Some(result) = self.open_plan_job.as_ref().and_then(Job::poll) {
            self.open_plan_job = None;
            match result {
                Ok(plan) => self.load_plan(plan),
                Err(e) => self.model.error = Some(format!("could not open the plan, nothing changed: {e}")),
            }
        }
        if let Some(result) = self.sim_job.as_ref().and_then(Job::poll) {
            self.sim_job = None;
            match result {
                Ok((outcomes, best, within, text)) => {
                    self.model.status = text.unwrap_or_else(|| "Scenarios replayed".into());
                    self.scenarios.set(outcomes, best, within);
                }
                Err(e) => self.model.error = Some(format!("scenarios: {e}")),
            }
        }
        if let Some(result) = self.names_job.as_ref().and_then(Job::poll) {
            self.names_job = None;
            match result {
                Ok(names) => {
                    self.prometheus.names_status = format!("{} metrics", names.len());
                    self.prometheus.names = names;
                }
                Err(e) => self.prometheus.names_status = format!("Could not load names: {e}"),
            }
        }
        if let Some((key, result)) = self.labels_job.as_ref().and_then(Job::poll) {
            self.labels_job = None;
            self.prometheus.labels.insert(key, result);
        }
        if let Some(result) = self.preview_job.as_ref().and_then(Job::poll) {
            self.preview_job = None;
            match result {
                Ok(p) => {
                    self.prometheus.preview_status.clear();
                    let picked = vec![true; p.series.len()];
                    self.prometheus.preview = Some((p, picked));
                }
                Err(e) => {
                    self.prometheus.preview_status = format!("Preview failed: {e}");
                    self.prometheus.preview = None;
                }
            }
        }
        if let Some(result) = self.dialog_job.as_ref().and_then(Job::poll) {
            self.dialog_job = None;
            if let Some(paths) = result {
                self.apply(Action::Load(paths));
            }
        }
        if let Some(result) = self.load_job.as_ref().and_then(Job::poll) {
            self.load_job = None;
            match result {
                Ok((series, warnings)) => {
                    let n = series.len();
                    let files: Vec<PathBuf> = series
                        .iter()
                        .filter_map(|s| if let super::model::Source::File(p) = &s.1 { Some(p.clone()) } else { None })
                        .collect();
                    let server = series.iter().find_map(|s| match &s.1 {
                        super::model::Source::Prometheus { server, .. } => Some(server.clone()),
                        _ => None,
                    });
                    self.model.add_series(series, warnings);
                    self.model.status = match server {
                        Some(url) => format!("Imported {n} series from {url}"),
                        None => format!("Loaded {n} series from {}", describe_paths(&dedup(files))),
                    };
                    self.model.error = None;
                    // A horizon preset for minutes on daily or monthly values forecasts
                    // a step or two: the step's own preset instead, said in the status.
                    let finest = self.model.finest_step_ms();
                    if let Some(step) = finest
                        && let Some(h) = crate::pipeline::horizon_for_step(&self.state.horizon, finest)
                    {
                        let loaded = std::mem::take(&mut self.model.status);
                        self.state.horizon = h.to_string();
                        self.start_fit();
                        // A setting that does not parse stops the fit and says so in the
                        // error line: the status then claims no forecasting.
                        let fitting = if self.fit_job.is_some() { "; forecasting…" } else { "" };
                        self.model.status =
                            format!("{loaded}; horizon set to {h} for {} steps{fitting}", crate::time::format_duration(step));
                    } else {
                        // Only what is new (or replaced) is fitted; the rest keeps its forecast.
                        self.start_fit_of(true);
                    }
                }
                Err(e) => {
                    self.model.error = Some(format!("import failed, nothing changed: {e}"));
                    self.model.status.clear();
                }
            }
        }
        if let Some(result) = self.fit_job.as_ref().and_then(Job::poll) {
            let secs = self.fit_job.as_ref().map_or(0.0, |j| j.started.elapsed().as_secs_f64());
            self.fit_job = None;
            match result {
                Ok(results) => {
                    let failed = results.iter().filter(|r| r.1.is_err()).count();
                    let fitted = results.len();
                    self.model.set_forecasts(results);
                    let plan_now = self.scenarios.outcomes.is_empty() && self.state.show_scenarios && self.scenarios_ready();
                    self.model.status = if failed == 0 {
                        format!("Forecast {fitted} series in {secs:.1} s")
                    } else {
                        format!("Forecast done in {secs:.1} s; {failed} series could not be forecast")
                    };
                    if plan_now {
                        // Opened on data the scenarios fit (the sample): plan right away.
                        self.start_scenarios();
                    }
                }
                Err(e) => self.model.status = format!("Forecasting stopped: {e}"),
            }
        }
    }

    /// Replaces what is loaded with a saved plan: its data, forecasts, settings and
    /// scenario results, exactly as saved (nothing is refitted).
    pub fn load_plan(&mut self, plan: crate::plan::Plan) {
        if let Some(j) = self.fit_job.take() {
            j.cancel();
        }
        self.state.horizon = match plan.inputs.horizon {
            Horizon::Steps(n) => n.to_string(),
            Horizon::Duration(d) => crate::time::format_duration(d),
        };
        self.state.periods = plan.inputs.settings.periods.text();
        self.state.show_80 = plan.inputs.settings.levels.contains(&80.0);
        self.state.show_95 = plan.inputs.settings.levels.contains(&95.0);
        self.model = Model::default();
        self.model.entries = plan
            .series
            .iter()
            .map(|p| super::model::Entry::new(p.series.clone(), super::model::Source::Plan, Some(p.forecast.clone())))
            .collect();
        self.model.warnings = plan.warnings.clone();
        self.model.plan_sources = plan.inputs.sources.clone();
        self.scenarios = Default::default();
        if let Some(sc) = &plan.scenarios {
            if let Ok(text) = toml::to_string(&sc.file) {
                self.state.scenarios = text;
            }
            let within = crate::simulate::recommended_within(&sc.outcomes, sc.recommended, plan.horizon_minutes(), sc.file.risk_budget);
            self.scenarios.set(sc.outcomes.clone(), sc.recommended, within);
        }
        self.model.status = format!("Opened the plan \"{}\" of {}", plan.inputs.title, crate::time::format_short(plan.inputs.created_ms));
        self.history.reset(&self.state);
    }

    /// The time the series chart opens on (seconds): the history shown and the whole
    /// forecast, so that the scenario chart opens on the same span.
    fn chart_window(&self) -> Option<(f64, f64)> {
        let e = self.model.selected()?;
        let forecast = e.forecast.as_ref().and_then(|f| f.as_ref().ok());
        Some(super::plot::opening_window(&e.series, forecast, self.state.history_days))
    }

    /// The bands the chart shows.
    pub fn levels(&self) -> Vec<f64> {
        self.state.levels()
    }
}

/// Height the series chart and its figures keep before any bottom panel gets room.
const CHART_ROOM: f32 = 360.0;
/// The scenarios panel's smallest useful height.
const SCENARIOS_MIN: f32 = 200.0;
/// The warnings panel's smallest useful height.
const WARNINGS_MIN: f32 = 80.0;

/// A bottom panel without room: one line naming it, with a button to hide it.
fn collapsed_bar(ui: &mut egui::Ui, id: &'static str, name: &str, shown: &mut bool) {
    egui::Panel::bottom(id).exact_size(26.0).show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new(format!("▸ {name}")).strong());
            ui.label(
                egui::RichText::new("collapsed: the window is too small for it beside the chart; enlarge it, or hide another panel")
                    .color(super::theme::muted(ui)),
            );
            if ui.small_button("Hide").clicked() {
                *shown = false;
            }
        });
    });
}

fn dedup(mut files: Vec<PathBuf>) -> Vec<PathBuf> {
    files.dedup();
    files
}

fn describe_paths(paths: &[PathBuf]) -> String {
    match paths {
        [] => "nothing".into(),
        [one] => one.display().to_string(),
        [first, rest @ ..] => format!("{} and {} more", first.display(), rest.len()),
    }
}

impl eframe::App for HeadroomApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.tick(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.draw(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STATE_KEY, &self.state);
    }
}

impl HeadroomApp {
    /// The work of a frame before drawing: finished jobs, dropped files, shortcuts,
    /// the window title.
    pub fn tick(&mut self, ctx: &egui::Context) {
        if let Some(frames) = self.report_first_frame.as_mut() {
            *frames += 1;
            if *frames == 2 {
                // The first frame has been painted: this is the second one's start.
                println!("first frame");
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            } else {
                ctx.request_repaint();
            }
        }
        self.poll_jobs();
        self.reap_dead_jobs();
        self.start_runways();
        let dropped: Vec<PathBuf> =
            ctx.input(|i| i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).filter(|p| !p.as_os_str().is_empty()).collect());
        if !dropped.is_empty() {
            self.apply(Action::Load(dropped));
        }
        // While a text field is being typed in, Ctrl+Z is its own undo.
        let typing = ctx.text_edit_focused();
        for action in Action::with_shortcuts() {
            // Escape in a text box hides its completion; it does not cancel the work.
            if typing && matches!(action, Action::Undo | Action::Redo | Action::Cancel) {
                continue;
            }
            if let Some(sc) = action.shortcut()
                && ctx.input_mut(|i| i.consume_shortcut(&sc))
            {
                self.apply(action);
            }
        }
        if self.is_busy() {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
        let title = self.title();
        if title != self.shown_title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.shown_title = title;
        }
    }

    /// Draws the window and applies what the user asked for.
    pub fn draw(&mut self, ui: &mut egui::Ui) {
        let mut actions = Vec::new();
        let busy = self.busy();
        egui::Panel::top("controls").show(ui, |ui| {
            let edit = (self.history.undo_label(), self.history.redo_label());
            actions.extend(panels::controls::ui(ui, &mut self.state, busy, edit, &self.local_clock, self.model.finest_step_ms()));
        });
        egui::Panel::bottom("status").show(ui, |ui| {
            actions.extend(panels::status::ui(ui, &self.model));
        });
        let time = super::plot::TimeAxis {
            clock: if self.state.local_time { self.local_clock.clone() } else { crate::time::Clock::Utc },
            linked: self.state.link_time_axes,
            group: format!("{}/{}", self.model.selected().map(|e| e.series.display_name()).unwrap_or_default(), self.state.history_days),
        };
        // The bottom panels share what the chart leaves (CHART_ROOM); one that would get
        // less than its minimum collapses to a bar instead of squeezing the chart.
        let mut spare = ui.available_height() - CHART_ROOM;
        if self.state.show_scenarios {
            if spare >= SCENARIOS_MIN {
                let busy = self.sim_job.is_some() || self.fit_job.is_some();
                let window = self.chart_window();
                let r = egui::Panel::bottom("scenarios")
                    .resizable(true)
                    .default_size(280.0_f32.min(spare))
                    .min_size(SCENARIOS_MIN)
                    .max_size(spare)
                    .show(ui, |ui| {
                        actions.extend(panels::scenarios::ui(ui, &mut self.scenarios, &mut self.state.scenarios, busy, &time, window));
                    });
                spare -= r.response.rect.height();
            } else {
                collapsed_bar(ui, "scenarios_bar", "Scenarios", &mut self.state.show_scenarios);
            }
        }
        if self.state.show_warnings {
            if spare >= WARNINGS_MIN {
                egui::Panel::bottom("warnings")
                    .resizable(true)
                    .default_size(140.0_f32.min(spare))
                    .min_size(WARNINGS_MIN)
                    .max_size(spare)
                    .show(ui, |ui| panels::status::warnings(ui, &self.model));
            } else {
                collapsed_bar(ui, "warnings_bar", "Warnings", &mut self.state.show_warnings);
            }
        }
        egui::Panel::left("series").resizable(true).default_size(260.0).show(ui, |ui| {
            actions.extend(panels::series_list::ui(ui, &self.model));
        });
        let levels = self.levels();
        let key = self.model.selected().map(|e| e.series.display_name()).unwrap_or_default();
        let mut thresholds = self.state.thresholds.get(&key).cloned().unwrap_or_default();
        egui::CentralPanel::default().show(ui, |ui| {
            ui.horizontal(|ui| {
                if ui.selectable_label(self.overview, "Overview").on_hover_text(Action::ShowOverview.tooltip()).clicked() {
                    actions.push(Action::ShowOverview);
                }
                let chart = self.model.selected().map_or_else(|| "Chart".to_string(), |e| format!("Chart: {}", e.series.display_name()));
                if ui.selectable_label(!self.overview, chart).on_hover_text("The selected series' history, forecast and runway").clicked()
                    && !self.model.entries.is_empty()
                {
                    actions.push(Action::Select(self.model.selected));
                }
            });
            ui.separator();
            if self.overview {
                actions.extend(panels::overview::ui(ui, &self.model, &mut self.state, &time.clock));
            } else {
                panels::chart_view::ui(
                    ui,
                    self.model.selected(),
                    &levels,
                    self.state.show_backtest,
                    &mut thresholds,
                    &mut self.state.history_days,
                    &mut self.state.log_scale,
                    &time,
                );
            }
        });
        if !key.is_empty() {
            if thresholds.trim().is_empty() {
                self.state.thresholds.remove(&key);
            } else {
                self.state.thresholds.insert(key, thresholds);
            }
        }
        let busy = self.load_job.is_some() || self.names_job.is_some() || self.preview_job.is_some();
        actions.extend(panels::prometheus::ui(ui.ctx(), &mut self.prometheus, &mut self.state.prometheus, busy));
        actions.extend(panels::path_prompt::ui(ui.ctx(), &mut self.path_prompt));
        for a in actions {
            self.apply(a);
        }
        if self.history.observe(&self.state, ui.ctx().text_edit_focused()) {
            self.dirty = true;
        }
    }
}
