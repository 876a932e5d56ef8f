//! Forecasts SREs can trust: several models, chosen by rolling-origin backtest, with
//! bands calibrated on the backtest errors so that an 80 % band covers 80 %.
//!
//! The road for one series:
//! 1. gaps are interpolated for fitting (reported);
//! 2. seasonal periods are detected ([`seasonality`]) or given;
//! 3. incident outliers are masked ([`robust`], reported);
//! 4. every candidate model ([`models`]) is backtested on the last `folds` windows of
//!    the horizon's length ([`backtest`]); with `auto`, the lowest MASE wins, among the
//!    single models and the means of the best two and three;
//! 5. the winner is tried on the regime after the last level shift and on a log scale,
//!    each kept only when its backtest is better;
//! 6. the winner is fitted on all history; each level's band is the model's sigma times
//!    a conformal multiplier from the backtest errors;
//! 7. bounds hold: never below zero for non-negative series, within 0–100 for percents.

pub mod backtest;
pub mod choose;
pub mod metrics;
pub mod models;
pub mod paths;
pub mod prepare;
pub mod robust;
pub mod seasonality;
mod stats;

pub use backtest::{LevelValue, Score};
pub use models::ModelKind;
pub use stats::{normal_cdf, normal_quantile};

use crate::error::{Error, Result};
use crate::series::{Series, Unit};
use crate::time::format_short;
use crate::warning::Warning;
use backtest::{Fold, Variant};
use choose::Candidate;
use models::{RawForecast, Spec};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How seasonal periods are chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Periods {
    /// Detect them from the data (day and week, when present and long enough).
    Auto,
    /// Use exactly these periods, in steps. Periods longer than half the history
    /// are dropped with a warning.
    Given(Vec<usize>),
}

/// Which model to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelChoice {
    /// The best by backtest among all models and their combinations.
    Auto,
    /// Always this model.
    Single(ModelKind),
    /// The best combination (mean of the top two or three models).
    Combination,
}

impl ModelChoice {
    /// Parses `auto`, `combination` or a model name (`mstl`, `ets`, `seasonal-naive`, `linear`).
    ///
    /// # Errors
    /// An unknown name, listing the known ones.
    pub fn parse(text: &str) -> Result<ModelChoice> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(ModelChoice::Auto),
            "combination" | "combo" => Ok(ModelChoice::Combination),
            other => ModelKind::parse(other).map(ModelChoice::Single).ok_or_else(|| {
                Error::setting(
                    "model",
                    format!("\"{text}\" is not a model: use auto, combination, mstl, ets, seasonal-naive, linear or prophet"),
                )
            }),
        }
    }

    /// The name as [`parse`](Self::parse) takes it.
    pub fn name(self) -> &'static str {
        match self {
            ModelChoice::Auto => "auto",
            ModelChoice::Combination => "combination",
            ModelChoice::Single(k) => k.name(),
        }
    }
}

/// Backtest windows by default: origins a season apart over the recent past, enough
/// for a nested record of several out-of-sample windows to calibrate on.
pub const DEFAULT_FOLDS: usize = 6;

/// Most steps a forecast may have: a year of 1-minute steps. Every step costs memory in
/// each band and sample path, so a mistyped horizon is an error, not an out-of-memory.
pub const MAX_HORIZON: usize = 525_600;

/// What to forecast and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ForecastSettings {
    /// Steps to forecast past the end of history.
    pub horizon: usize,
    /// Interval levels in percent, in the order they are reported (e.g. 80, 95).
    pub levels: Vec<f64>,
    /// Seasonal periods.
    pub periods: Periods,
    /// Which model.
    pub model: ModelChoice,
    /// Backtest windows (0 turns backtests and calibration off).
    pub folds: usize,
    /// Mask outliers, look for level shifts and a log scale.
    pub robust: bool,
}

impl Default for ForecastSettings {
    fn default() -> Self {
        ForecastSettings {
            horizon: 288,
            levels: vec![80.0, 95.0],
            periods: Periods::Auto,
            model: ModelChoice::Auto,
            folds: DEFAULT_FOLDS,
            robust: true,
        }
    }
}

impl ForecastSettings {
    /// Checks the settings, naming the bad one.
    ///
    /// # Errors
    /// A zero horizon, no levels, or a level outside (0, 100).
    pub fn validate(&self) -> Result<()> {
        if self.horizon == 0 {
            return Err(Error::setting("horizon", "must be at least one step"));
        }
        if self.horizon > MAX_HORIZON {
            return Err(Error::setting(
                "horizon",
                format!("{} steps is more than the {MAX_HORIZON} a forecast may have (a year of 1-minute steps)", self.horizon),
            ));
        }
        if self.levels.is_empty() {
            return Err(Error::setting("level", "give at least one interval level, e.g. 80,95"));
        }
        for l in &self.levels {
            if !(*l > 0.0 && *l < 100.0) {
                return Err(Error::setting("level", format!("{l} is not a level between 0 and 100 (exclusive)")));
            }
        }
        if let Periods::Given(p) = &self.periods
            && p.iter().any(|p| *p < 2)
        {
            return Err(Error::setting("period", "seasonal periods must be at least 2 steps"));
        }
        if self.folds > 20 {
            return Err(Error::setting("folds", "at most 20 backtest windows"));
        }
        Ok(())
    }
}

/// A prediction interval at one level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// The level in percent (80 means an 80 % interval).
    pub level: f64,
    /// Lower bound per forecast step.
    pub lower: Vec<f64>,
    /// Upper bound per forecast step.
    pub upper: Vec<f64>,
}

/// The evidence behind a forecast: how each model did on the backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Where the windows were.
    pub plan: backtest::Plan,
    /// Every candidate's scores, best (lowest MASE) first.
    pub scores: Vec<Score>,
    /// The chosen model's scores (also in `scores`, unless a variant improved it).
    pub chosen: Score,
    /// Coverage of the calibrated bands, each window judged by a calibration from the
    /// others (leave one window out). `None` with a single window.
    pub calibrated_coverage: Option<Vec<LevelValue>>,
    /// The bands were rescaled from the backtest errors.
    pub calibrated: bool,
    /// Windows in the nested record the bands were calibrated on (each forecast by the
    /// model its own past chose); 0 when the chosen model's windows were used instead.
    #[serde(default)]
    pub nested_windows: usize,
    /// Levels whose band was rescaled because its out-of-sample coverage missed the
    /// level, with the factor.
    #[serde(default)]
    pub rescaled: Vec<LevelValue>,
}

/// A forecast of one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// The forecast series' display name.
    pub series: String,
    /// UTC milliseconds of the first forecast step (one step after history ends).
    pub start_ms: i64,
    /// Step in milliseconds (the history's step).
    pub step_ms: i64,
    /// The median forecast per step.
    pub point: Vec<f64>,
    /// Intervals, one per requested level, in the requested order.
    pub bands: Vec<Band>,
    /// A description of the fitted model, e.g. `MSTL(288, 2016) + AutoETS`.
    pub model: String,
    /// The seasonal periods used, in steps.
    pub periods: Vec<usize>,
    /// Backtest figures, when history allowed a backtest.
    pub evidence: Option<Evidence>,
    /// Timestamps (UTC ms) of the points masked as outliers before fitting.
    pub outliers: Vec<i64>,
    /// Where the fitted regime starts, when a level shift was found and used.
    pub level_shift_ms: Option<i64>,
    /// The model was fitted on the log of the values.
    pub log_scale: bool,
    /// What was repaired or assumed while fitting.
    pub warnings: Vec<Warning>,
    /// How errors depend on each other across time, for sample paths.
    #[serde(default)]
    pub dependence: paths::Dependence,
    /// The series' physical limits (lower, upper), which sample paths respect.
    #[serde(default = "unbounded")]
    pub bounds: (f64, f64),
}

fn unbounded() -> (f64, f64) {
    (f64::NEG_INFINITY, f64::INFINITY)
}

impl Forecast {
    /// A forecast from its parts alone (no evidence, outliers or warnings): for
    /// forecasts made elsewhere, tests and benchmarks.
    pub fn from_parts(
        series: impl Into<String>,
        start_ms: i64,
        step_ms: i64,
        point: Vec<f64>,
        bands: Vec<Band>,
        model: impl Into<String>,
    ) -> Self {
        Forecast {
            series: series.into(),
            start_ms,
            step_ms,
            point,
            bands,
            model: model.into(),
            periods: Vec::new(),
            evidence: None,
            outliers: Vec::new(),
            level_shift_ms: None,
            log_scale: false,
            warnings: Vec::new(),
            dependence: paths::Dependence::fallback(step_ms),
            bounds: unbounded(),
        }
    }

    /// UTC milliseconds of forecast step `i`.
    pub fn timestamp(&self, i: usize) -> i64 {
        self.start_ms + i as i64 * self.step_ms
    }

    /// The band at `level`, if it was requested.
    pub fn band(&self, level: f64) -> Option<&Band> {
        self.bands.iter().find(|b| (b.level - level).abs() < 1e-9)
    }

    /// The widest band (highest level), if any.
    pub fn widest(&self) -> Option<&Band> {
        self.bands.iter().max_by(|a, b| a.level.total_cmp(&b.level))
    }
}

/// Fewest present values a series must have to be forecast.
pub const MIN_POINTS: usize = 8;

/// Forecasts `series` over `settings.horizon` steps.
///
/// # Errors
/// Invalid settings, too little data, or no model that fits, naming the series.
pub fn forecast(series: &Series, settings: &ForecastSettings) -> Result<Forecast> {
    settings.validate()?;
    let name = series.display_name();
    let present = series.len() - series.missing();
    if present < MIN_POINTS {
        return Err(Error::series(&name, format!("has {present} values: at least {MIN_POINTS} are needed to forecast")));
    }
    let mut warnings = Vec::new();
    let (values, filled) = series.interpolated();
    if filled > 0 {
        warnings.push(Warning::new(&name, format!("{filled} missing slots were interpolated for fitting")));
    }
    let horizon = settings.horizon;
    // Windows are scored against what was observed, incidents included: the future will
    // have incidents too, and bands calibrated on cleaned values would be too narrow.
    let actual: Vec<f64> = series.values.clone();

    // 1. Prepare all history (for the final fit) and, for the backtest, only the
    //    history before its first origin: no window's preparation sees its future.
    let full = prepare::prepare(&values, series.step_ms, settings, &name, &mut warnings);
    report_outliers(series, &full, &name, &mut warnings);
    let plan = backtest::plan(values.len(), horizon, settings.folds, &full.periods);
    let Some(plan) = plan else {
        // Too short to backtest: the chosen (or default) model with its own intervals.
        let kind = match settings.model {
            ModelChoice::Single(k) => k,
            _ if full.periods.is_empty() => ModelKind::Ets,
            _ => ModelKind::Mstl,
        };
        if settings.folds > 0 {
            warnings.push(Warning::new(&name, "too little history for a backtest: the bands are the model's own, not calibrated"));
        }
        let raw =
            models::fit_predict(kind, &full.fit_values, &full.periods, horizon, series.step_ms).map_err(|m| Error::series(&name, m))?;
        let bands = settings.levels.iter().map(|&level| gaussian_band(&raw, level)).collect();
        let parts = Parts { model: kind.describe(&full.periods), periods: full.periods.clone(), ..Parts::default() };
        return Ok(finish(series, raw, bands, parts, &full, warnings));
    };
    let before = prepare::prepare(&values[..plan.first_origin], series.step_ms, settings, &name, &mut Vec::new());
    let mut bt_values = before.fit_values.clone();
    bt_values.extend_from_slice(&values[plan.first_origin..]);
    let season = before.periods.first().copied().unwrap_or(1);

    // 2. Candidates, each backtested on every window.
    let specs: Vec<Spec> = match settings.model {
        ModelChoice::Single(kind) => vec![Spec { kind, periods: before.periods.clone(), step_ms: series.step_ms }],
        _ => Spec::candidates(&before.periods, series.step_ms),
    };
    let runs: Vec<(Spec, std::result::Result<Vec<Fold>, String>)> = specs
        .into_par_iter()
        .map(|spec| {
            let run = backtest::run(&spec, &bt_values, &actual, &plan, Variant::default(), season);
            (spec, run)
        })
        .collect();
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut first_error = None;
    for (spec, run) in runs {
        match run {
            Ok(folds) => {
                let score = backtest::score(spec.describe(), &folds, &settings.levels);
                candidates.push(Candidate { members: vec![spec], folds, score });
            }
            Err(e) => {
                warnings.push(Warning::new(&name, format!("{} could not be fitted: {e}", spec.describe())));
                first_error.get_or_insert(e);
            }
        }
    }
    if candidates.is_empty() {
        return Err(Error::series(&name, first_error.unwrap_or_else(|| "no model could be fitted".into())));
    }

    // 3. The nested record (each window forecast by what its past chose), then the
    //    choice on the latest windows.
    let nested = match settings.model {
        ModelChoice::Single(_) => candidates[0].folds.clone(),
        _ => choose::nested_record(&candidates, &plan, settings.model == ModelChoice::Combination),
    };
    if !matches!(settings.model, ModelChoice::Single(_)) {
        choose::add_combinations(&mut candidates, &settings.levels);
    }
    let scores: Vec<Score> = candidates.iter().map(|c| c.score.clone()).collect();
    let chosen_index = match settings.model {
        ModelChoice::Combination => candidates.iter().position(|c| c.members.len() > 1).unwrap_or(0),
        _ => 0,
    };
    let mut chosen = candidates.swap_remove(chosen_index);
    let mut variant = Variant::default();

    // A level shift: fit only the regime after it, when that backtests better. It is
    // looked for in the history before the first window only.
    let mut level_shift_ms = None;
    if let Some(d) = &before.decomposition {
        let block = before.periods.first().copied().unwrap_or(choose::SHIFT_BLOCK).max(1);
        let min_after = backtest::min_train(&before.periods);
        if let Some(shift) = robust::last_level_shift(&d.deseasonalised, block, min_after) {
            let v = Variant { start: shift, ..variant };
            if let Some(better) = try_variant(&chosen, v, &bt_values, &actual, &plan, season, &settings.levels) {
                chosen = better;
                variant = v;
                level_shift_ms = Some(series.timestamp(shift));
                warnings.push(Warning::new(
                    &name,
                    format!("level shift at {}: fitted on the history after it", format_short(series.timestamp(shift))),
                ));
            }
        }
    }
    // Multiplicative growth: a log scale, when that backtests better.
    if settings.robust && bt_values.iter().all(|v| *v > 0.0) && full.fit_values.iter().all(|v| *v > 0.0) {
        let v = Variant { log: true, ..variant };
        if let Some(better) = try_variant(&chosen, v, &bt_values, &actual, &plan, season, &settings.levels) {
            chosen = better;
            variant = v;
        }
    }

    // 4. Calibration on the nested record (the chosen model's own windows when there
    //    is too little of it), rescaled where its out-of-sample coverage says so.
    let record: &[Fold] = if nested.len() >= 2 { &nested } else { &chosen.folds };
    let mut calibration = if settings.folds > 0 { backtest::calibrate(record, &settings.levels) } else { None };
    let calibrated_coverage = backtest::cross_validated_coverage(record, &settings.levels);
    let mut rescaled = Vec::new();
    if let Some(cal) = calibration.as_mut() {
        for r in backtest::rescale_to_evidence(cal, record) {
            warnings.push(Warning::new(
                &name,
                format!(
                    "{} % band widened ×{:.2}: its out-of-sample coverage was {:.3} (now {:.3} on the same windows)",
                    r.level, r.factor, r.before, r.after
                ),
            ));
            rescaled.push(LevelValue { level: r.level, value: r.factor });
        }
    }
    let dependence = paths::Dependence::estimate(&backtest::standardised_errors(record), series.step_ms);
    let evidence_reach = backtest::largest_errors(record).map(|(down, up)| (EVIDENCE_MARGIN * down, EVIDENCE_MARGIN * up));

    // 5. Final fit on all (regime) history, with the full history's periods.
    let train = &full.fit_values[variant.start.min(full.fit_values.len())..];
    let members: Vec<Spec> = chosen.members.iter().map(|m| prepare::with_periods(m, &full.periods)).collect();
    let fitted: Vec<RawForecast> = members
        .par_iter()
        .map(|spec| backtest::fit_variant(spec, train, horizon, variant.log))
        .collect::<std::result::Result<_, _>>()
        .map_err(|m| Error::series(&name, m))?;
    let raw = RawForecast::mean(&fitted.iter().collect::<Vec<_>>()).ok_or_else(|| Error::series(&name, "no model could be fitted"))?;
    let bands: Vec<Band> = settings
        .levels
        .iter()
        .map(|&level| match calibration.as_ref().and_then(|c| c.band(&raw, level)) {
            Some((lower, upper)) => Band { level, lower, upper },
            None => gaussian_band(&raw, level),
        })
        .collect();
    let mut model = choose::describe(&members);
    if variant.log {
        model.push_str(", log scale");
    }
    chosen.score.model = model.clone();
    let evidence = Evidence {
        plan,
        scores,
        calibrated_coverage,
        chosen: chosen.score,
        calibrated: calibration.is_some(),
        nested_windows: if nested.len() >= 2 { nested.len() } else { 0 },
        rescaled,
    };
    let parts = Parts {
        model,
        periods: full.periods.clone(),
        evidence: Some(evidence),
        level_shift_ms,
        log_scale: variant.log,
        dependence: Some(dependence),
        evidence_reach,
    };
    Ok(finish(series, raw, bands, parts, &full, warnings))
}

/// Reports the outliers masked in all history.
fn report_outliers(series: &Series, prepared: &prepare::Prepared, name: &str, warnings: &mut Vec<Warning>) {
    if prepared.heavy_tailed {
        warnings.push(Warning::new(name, "many points lie far from the seasonal pattern: treated as normal behaviour, none masked"));
    }
    let outliers: Vec<i64> = prepared.outliers.iter().map(|&i| series.timestamp(i)).collect();
    if !outliers.is_empty() {
        let shown: Vec<String> = outliers.iter().take(3).map(|t| format_short(*t)).collect();
        let more = if outliers.len() > 3 { format!(" and {} more", outliers.len() - 3) } else { String::new() };
        warnings.push(Warning::new(name, format!("{} outliers masked before fitting: {}{more}", outliers.len(), shown.join(", "))));
    }
}

/// Backtests `base`'s members under `variant`; returns the result if its MASE is lower.
/// The variant is first run on the latest [`EARLY_REJECT_WINDOWS`]; only one that wins
/// there is run on the earlier ones and judged as the choice is, so a variant that
/// loses at once costs half the fits.
#[allow(clippy::too_many_arguments)]
fn try_variant(
    base: &Candidate,
    variant: Variant,
    fit_values: &[f64],
    actual: &[f64],
    plan: &backtest::Plan,
    season: usize,
    levels: &[f64],
) -> Option<Candidate> {
    let run = |plan: &backtest::Plan| -> Option<Vec<Fold>> {
        let runs: Vec<Vec<Fold>> = base
            .members
            .par_iter()
            .map(|spec| backtest::run(spec, fit_values, actual, plan, variant, season))
            .collect::<std::result::Result<_, _>>()
            .ok()?;
        if runs.len() == 1 { runs.into_iter().next() } else { Some(backtest::combine(&runs.iter().map(Vec::as_slice).collect::<Vec<_>>())) }
    };
    let (earlier, latest) = plan.split_latest(EARLY_REJECT_WINDOWS);
    let tail = run(&latest)?;
    let n = base.folds.len();
    if Candidate::error_of(&tail) >= base.error_over(n.saturating_sub(tail.len())..n) {
        return None;
    }
    let mut folds = match earlier {
        Some(p) => run(&p)?,
        None => Vec::new(),
    };
    folds.extend(tail);
    let score = backtest::score(base.score.model.clone(), &folds, levels);
    let candidate = Candidate { members: base.members.clone(), folds, score };
    (candidate.selection_error() < base.selection_error()).then_some(candidate)
}

/// A variant that loses on this many of the latest windows is not run on the rest.
const EARLY_REJECT_WINDOWS: usize = 3;

fn gaussian_band(raw: &RawForecast, level: f64) -> Band {
    let z = normal_quantile(0.5 + level / 200.0);
    Band {
        level,
        lower: raw.point.iter().zip(&raw.sigma_lower).map(|(p, s)| p - z * s).collect(),
        upper: raw.point.iter().zip(&raw.sigma_upper).map(|(p, s)| p + z * s).collect(),
    }
}

/// What a forecast says about itself besides its numbers.
#[derive(Default)]
struct Parts {
    model: String,
    periods: Vec<usize>,
    evidence: Option<Evidence>,
    level_shift_ms: Option<i64>,
    log_scale: bool,
    dependence: Option<paths::Dependence>,
    /// How far below and above the point the backtest's errors ever reached, with a
    /// margin: no band reaches further than its evidence.
    evidence_reach: Option<(f64, f64)>,
}

/// A band may reach this much further than the largest error the backtest saw (on each
/// side): room for a future somewhat rougher than the past, never an unbounded multiplier.
const EVIDENCE_MARGIN: f64 = 1.5;

/// How far a band may reach from the point forecast, in ranges of history: the same
/// cap the models' own sigma has, so that no back-transform or multiplier makes a band
/// explode past what history and trend support.
const MAX_BAND_RANGES: f64 = 3.0;

/// Applies the physical bounds, caps and nests the bands around the point, and packs
/// the result.
fn finish(
    series: &Series,
    raw: RawForecast,
    mut bands: Vec<Band>,
    parts: Parts,
    prepared: &prepare::Prepared,
    warnings: Vec<Warning>,
) -> Forecast {
    let bounds = Bounds::for_series(series);
    let point: Vec<f64> = raw.point.iter().map(|v| bounds.clamp(*v)).collect();
    let (lo, hi) = prepared.fit_values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
    let range_reach = if hi >= lo { MAX_BAND_RANGES * (hi - lo).max(1e-9 * (1.0 + hi.abs())) } else { f64::INFINITY };
    let (reach_down, reach_up) = match parts.evidence_reach {
        Some((down, up)) if down > 0.0 && up > 0.0 => (range_reach.min(down), range_reach.min(up)),
        _ => (range_reach, range_reach),
    };
    // Narrow to wide, so each wider band contains the narrower one.
    let mut order: Vec<usize> = (0..bands.len()).collect();
    order.sort_by(|&a, &b| bands[a].level.total_cmp(&bands[b].level));
    let mut inner_lo = point.clone();
    let mut inner_hi = point.clone();
    for i in order {
        let b = &mut bands[i];
        for h in 0..point.len() {
            let l = b.lower.get(h).copied().unwrap_or(f64::NAN).max(point[h] - reach_down);
            let u = b.upper.get(h).copied().unwrap_or(f64::NAN).min(point[h] + reach_up);
            b.lower[h] = bounds.clamp(if l.is_nan() { point[h] - reach_down } else { l }).min(inner_lo[h]);
            b.upper[h] = bounds.clamp(if u.is_nan() { point[h] + reach_up } else { u }).max(inner_hi[h]);
        }
        inner_lo.clone_from(&b.lower);
        inner_hi.clone_from(&b.upper);
    }
    Forecast {
        series: series.display_name(),
        start_ms: series.end_ms() + series.step_ms,
        step_ms: series.step_ms,
        point,
        bands,
        model: parts.model,
        periods: parts.periods,
        evidence: parts.evidence,
        outliers: prepared.outliers.iter().map(|&i| series.timestamp(i)).collect(),
        level_shift_ms: parts.level_shift_ms,
        log_scale: parts.log_scale,
        warnings,
        dependence: parts.dependence.unwrap_or_else(|| paths::Dependence::fallback(series.step_ms)),
        bounds: (bounds.lower, bounds.upper),
    }
}

/// Physical limits a forecast must respect.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    lower: f64,
    upper: f64,
}

impl Bounds {
    fn for_series(series: &Series) -> Self {
        let (min, max) = series.min_max().unwrap_or((0.0, 0.0));
        let lower = if min >= 0.0 || series.unit.is_non_negative() { 0.0 } else { f64::NEG_INFINITY };
        let upper = match series.unit {
            Unit::Percent if max <= 100.0 => 100.0,
            Unit::Ratio if max <= 1.0 => 1.0,
            _ => f64::INFINITY,
        };
        Bounds { lower, upper }
    }

    fn clamp(self, v: f64) -> f64 {
        if v.is_nan() { v } else { v.clamp(self.lower, self.upper) }
    }
}
