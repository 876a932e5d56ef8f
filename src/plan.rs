//! The Plan: everything a capacity review decided, as plain data. Built by the same code
//! from the window and the command line; saved as a `*.headroom.ron` file that reopens
//! the whole review offline (with a snapshot of the data) and gives the same numbers.
//!
//! RON rather than JSON because a plan holds `NaN` (gaps in history) and JSON has none.
//! The file starts with a schema version; a newer version or a damaged file gives a
//! clear error and is never overwritten; saves are atomic.

use crate::capacity::{Crossing, Threshold, default_thresholds, runway};
use crate::error::{Error, Location, Result};
use crate::forecast::{Forecast, ForecastSettings};
use crate::pipeline::Horizon;
use crate::series::Series;
use crate::simulate::{Outcome, ScenarioFile};
use crate::warning::Warning;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The plan file format's version. Files with a higher version are refused.
///
/// 2: forecasts keep their backtest windows' errors (sample paths replay them) and no
/// longer the fast parts split from them; a version-1 reader would have drawn different
/// paths from such a file without a word, so it refuses it instead.
pub const SCHEMA_VERSION: u32 = 2;

/// One series of the plan: its data, forecast and runway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanSeries {
    /// A snapshot of the data used.
    pub series: Series,
    /// The forecast, or why there is none.
    pub forecast: std::result::Result<Forecast, String>,
    /// The thresholds.
    pub thresholds: Vec<Threshold>,
    /// The runway to each.
    pub runway: Vec<Crossing>,
}

/// The scenarios and their results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanScenarios {
    /// The scenario file as given (assumptions: prices, overlays, policies).
    pub file: ScenarioFile,
    /// One result per scenario.
    pub outcomes: Vec<Outcome>,
    /// The recommended one.
    pub recommended: Option<usize>,
}

/// A capacity plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The file format version.
    pub schema: u32,
    /// What the plan was built from: title, author, time, sources, settings.
    pub inputs: PlanInputs,
    /// The series.
    pub series: Vec<PlanSeries>,
    /// Scenarios, when any were given.
    pub scenarios: Option<PlanScenarios>,
    /// Everything repaired or assumed on the way.
    pub warnings: Vec<Warning>,
}

/// The title of a plan not given one.
pub const DEFAULT_TITLE: &str = "Capacity review";

/// What a plan is built from, kept in it as its assumptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanInputs {
    /// The service or review name (title page).
    pub title: String,
    /// Who made it.
    pub author: String,
    /// When it was made (UTC ms); fixed in the plan so that exports are reproducible.
    pub created_ms: i64,
    /// Where the data came from (files, queries).
    pub sources: Vec<String>,
    /// Forecast settings (horizon replaced per series from `horizon`).
    pub settings: ForecastSettings,
    /// The horizon as given.
    pub horizon: Horizon,
    /// Thresholds for all series; `None`: defaults by kind.
    pub thresholds: Option<Vec<f64>>,
    /// Thresholds for single series (by display name), before `thresholds`.
    #[serde(default)]
    pub series_thresholds: std::collections::BTreeMap<String, Vec<f64>>,
    /// The band level runway ranges come from.
    pub runway_level: f64,
}

/// Builds a plan: forecasts, runway, and the scenarios when given.
///
/// # Errors
/// A scenario whose series is missing, or a bad overlay.
pub fn build(
    inputs: &PlanInputs,
    series: Vec<Series>,
    warnings: Vec<Warning>,
    scenarios: Option<ScenarioFile>,
    progress: &crate::progress::Progress,
) -> Result<Plan> {
    let results = crate::pipeline::forecast_all(&series, inputs.horizon, &inputs.settings, progress);
    let forecasts = series.into_iter().zip(results.into_iter().map(|r| r.map_err(|e| e.to_string()))).collect();
    assemble(inputs, forecasts, warnings, scenarios)
}

/// Assembles a plan from series already forecast (the window's path; the command line
/// reaches it through [`build`]): runway per threshold, then the scenarios.
///
/// # Errors
/// A scenario whose series is missing, or a bad overlay.
pub fn assemble(
    inputs: &PlanInputs,
    forecasts: Vec<(Series, std::result::Result<Forecast, String>)>,
    mut warnings: Vec<Warning>,
    scenarios: Option<ScenarioFile>,
) -> Result<Plan> {
    let mut out = Vec::new();
    for (s, r) in forecasts {
        let own = inputs.series_thresholds.get(&s.display_name()).filter(|v| !v.is_empty());
        let thresholds = match own.or(inputs.thresholds.as_ref()) {
            Some(v) => {
                let (t, doubts) = crate::capacity::typed_thresholds(&s, v);
                warnings.extend(doubts);
                t
            }
            None => default_thresholds(&s),
        };
        let (forecast, runway) = match r {
            Ok(f) => {
                warnings.extend(f.warnings.iter().cloned());
                let rw = runway(&s, &f, &thresholds, inputs.runway_level);
                (Ok(f), rw)
            }
            Err(e) => {
                // Said where every export's reader looks, not only in the plan file: a
                // series left out of forecast.csv without a word reads as one never given.
                let name = s.display_name();
                let reason = e.strip_prefix(&format!("series \"{name}\": ")).unwrap_or(&e);
                warnings.push(Warning::new(&name, format!("not forecast: {reason}; left out of the runway and the scenarios")));
                (Err(e), Vec::new())
            }
        };
        out.push(PlanSeries { series: s, forecast, thresholds, runway });
    }
    let scenarios = match scenarios {
        None => None,
        Some(file) => {
            let mut outcomes = Vec::new();
            let mut minutes = 0.0;
            for sc in &file.scenario {
                let Some(ps) = out.iter().find(|p| p.series.name == sc.series || p.series.display_name() == sc.series) else {
                    return Err(Error::setting("scenario", format!("\"{}\": series \"{}\" is not in the data", sc.name, sc.series)));
                };
                let f = ps.forecast.as_ref().map_err(|e| Error::series(&sc.series, e.clone()))?;
                minutes = f.point.len() as f64 * f.step_ms as f64 / 60_000.0;
                outcomes.push(crate::simulate::run_scenario(sc, &ps.series, f, file.paths, file.seed)?);
            }
            let recommended = crate::simulate::recommend(&outcomes, minutes, file.risk_budget);
            Some(PlanScenarios { file, outcomes, recommended })
        }
    };
    Ok(Plan { schema: SCHEMA_VERSION, inputs: inputs.clone(), series: out, scenarios, warnings })
}

impl Plan {
    /// The plan file's text.
    ///
    /// # Errors
    /// Serialisation failed (not expected for plain data).
    pub fn to_text(&self) -> Result<String> {
        let config = ron::ser::PrettyConfig::new().depth_limit(6).indentor("  ".to_string()).compact_arrays(true);
        ron::ser::to_string_pretty(self, config).map_err(|e| Error::setting("plan", format!("could not write the plan: {e}")))
    }

    /// Saves atomically (temporary file, then rename): a crash mid-save leaves the
    /// previous file intact.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::files::atomic_write(path, self.to_text()?.as_bytes())
    }

    /// Opens a plan file. Never writes to it.
    ///
    /// # Errors
    /// Unreadable, damaged (with line and column), or of a newer schema.
    pub fn open(path: &Path) -> Result<Plan> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Parses a plan file's text; `path` names it in errors.
    ///
    /// # Errors
    /// Damaged (with line and column), or of a newer schema.
    pub fn parse(text: &str, path: &Path) -> Result<Plan> {
        #[derive(Deserialize)]
        struct Head {
            schema: u32,
        }
        let loc = Location::file(path);
        // The version first, so that a newer file is refused by name, not by a field error.
        match ron::de::from_str::<ron::Value>(text) {
            Ok(_) => {}
            Err(e) => return Err(ron_error(&loc, &e, "the plan file is damaged or cut off")),
        }
        let head: Head = ron::Options::default()
            .without_recursion_limit()
            .from_str::<ron::Value>(text)
            .ok()
            .and_then(|v| v.into_rust().ok())
            .ok_or_else(|| Error::parse(loc.clone(), "not a Headroom plan: no schema version"))?;
        if head.schema > SCHEMA_VERSION {
            return Err(Error::parse(
                loc,
                format!(
                    "written by a newer Headroom (plan schema {}; this version reads up to {SCHEMA_VERSION}): update Headroom to open it",
                    head.schema
                ),
            ));
        }
        let mut plan = ron::de::from_str::<Plan>(text).map_err(|e| ron_error(&loc, &e, "not a valid Headroom plan"))?;
        plan.check().map_err(|m| Error::parse(loc.clone(), format!("not a valid Headroom plan: {m}")))?;
        for f in plan.series.iter_mut().filter_map(|s| s.forecast.as_mut().ok()) {
            f.dependence = std::mem::take(&mut f.dependence).restored(f.step_ms);
        }
        plan.replay_steps()?;
        Ok(plan)
    }

    /// Checks what serde cannot: lengths that must agree, numbers that must be finite or
    /// within range, settings a scenario file would have refused. A plan file is
    /// untrusted input (it may be hand-edited, cut off, or damaged on disk).
    ///
    /// # Errors
    /// The first bad field, by its path in the plan (`series[2].forecast.bands[0].lower …`).
    pub fn check(&self) -> std::result::Result<(), String> {
        let finite = |v: f64| v.is_finite();
        let inp = &self.inputs;
        if !(inp.runway_level > 0.0 && inp.runway_level < 100.0) {
            return Err(format!("inputs.runway_level must be in (0, 100), got {}", inp.runway_level));
        }
        if inp.thresholds.iter().flatten().chain(inp.series_thresholds.values().flatten()).any(|v| !finite(*v)) {
            return Err("inputs: thresholds must be finite numbers".into());
        }
        if let Horizon::Duration(ms) = inp.horizon
            && !(1..=crate::time::LATEST_MS).contains(&ms)
        {
            return Err(format!("inputs.horizon: {ms} ms is not a horizon"));
        }
        inp.settings.validate().map_err(|e| format!("inputs.settings: {e}"))?;
        for (i, ps) in self.series.iter().enumerate() {
            let at = |m: String| format!("series[{i}] ({}).{m}", ps.series.name);
            ps.series.check().map_err(|m| at(format!("series.{m}")))?;
            if let Ok(f) = &ps.forecast {
                f.check().map_err(|m| at(format!("forecast.{m}")))?;
                if f.step_ms != ps.series.step_ms {
                    return Err(at(format!("forecast.step_ms {} differs from the series' {}", f.step_ms, ps.series.step_ms)));
                }
            }
            if ps.thresholds.iter().any(|t| !finite(t.value)) {
                return Err(at("thresholds: values must be finite numbers".into()));
            }
            for (j, c) in ps.runway.iter().enumerate() {
                let times = [c.median_ms, c.earliest_ms, c.latest_ms];
                if times.iter().flatten().any(|t| !crate::time::in_range(*t))
                    || !(0.0..=1.0).contains(&c.probability)
                    || !finite(c.threshold.value)
                {
                    return Err(at(format!("runway[{j}]: dates within the years 1000 to 9999 and a probability in [0, 1]")));
                }
            }
        }
        if let Some(sc) = &self.scenarios {
            sc.file.validate().map_err(|e| format!("scenarios.file.{e}"))?;
            if sc.outcomes.len() != sc.file.scenario.len() {
                return Err(format!("scenarios: {} outcomes for {} scenarios", sc.outcomes.len(), sc.file.scenario.len()));
            }
            if let Some(r) = sc.recommended
                && r >= sc.outcomes.len()
            {
                return Err(format!("scenarios.recommended: {r} is not one of the {} scenarios", sc.outcomes.len()));
            }
        }
        Ok(())
    }

    /// Replays the scenarios to restore their per-step records (deterministic: the same
    /// forecasts and seed give the same steps).
    fn replay_steps(&mut self) -> Result<()> {
        let Some(sc) = &mut self.scenarios else { return Ok(()) };
        for (scenario, outcome) in sc.file.scenario.iter().zip(sc.outcomes.iter_mut()) {
            let Some(ps) = self.series.iter().find(|p| p.series.name == scenario.series || p.series.display_name() == scenario.series)
            else {
                continue;
            };
            let Ok(f) = &ps.forecast else { continue };
            outcome.steps = crate::simulate::run_scenario(scenario, &ps.series, f, sc.file.paths, sc.file.seed)?.steps;
        }
        Ok(())
    }

    /// The recommended scenario's outcome, if any.
    pub fn recommended(&self) -> Option<&Outcome> {
        let s = self.scenarios.as_ref()?;
        s.outcomes.get(s.recommended?)
    }

    /// The recommendation in words ([`crate::simulate::recommendation_text`]), saying so
    /// when no scenario keeps within the risk budget.
    pub fn recommendation_text(&self) -> Option<String> {
        let s = self.scenarios.as_ref()?;
        crate::simulate::recommendation_text(&s.outcomes, s.recommended, self.horizon_minutes(), s.file.risk_budget)
    }

    /// The scenarios' horizon in minutes: the forecast of the first scenario's series.
    pub fn horizon_minutes(&self) -> f64 {
        let Some(sc) = self.scenarios.as_ref().and_then(|s| s.file.scenario.first()) else { return 0.0 };
        self.series
            .iter()
            .find(|p| p.series.name == sc.series || p.series.display_name() == sc.series)
            .and_then(|p| p.forecast.as_ref().ok())
            .map_or(0.0, |f| f.point.len() as f64 * f.step_ms as f64 / 60_000.0)
    }
}

fn ron_error(loc: &Location, e: &ron::error::SpannedError, what: &str) -> Error {
    Error::parse(loc.at(e.span.start.line as u64, Some(e.span.start.col as u64)), format!("{what}: {}", e.code))
}
