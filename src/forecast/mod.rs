//! Forecasts SREs can trust: several models, chosen by rolling-origin backtest, with
//! bands calibrated on the errors the whole procedure made on windows it had not seen, so
//! that an 80 % band covers about 80 %.
//!
//! The road for one series, one stage per file:
//! 1. [`prepare`]: gaps interpolated for fitting (reported), seasonal periods detected
//!    ([`seasonality`]) or given, incident outliers masked ([`robust`], reported), the last
//!    level shift found; for the backtest, only in the history before its windows;
//! 2. [`models`]: the candidates (augurs MSTL + AutoETS, AutoETS, seasonal naive, a
//!    `predict_linear`-style line; Prophet when asked for);
//! 3. [`backtest`]: rolling-origin windows a horizon long and a season apart, as many as
//!    history allows; every candidate on the latest (selection) windows;
//! 4. [`choose`]: the lowest MASE among single models and means of the best two and
//!    three, tried after the last level shift and on a log scale; and the nested record,
//!    each selection window forecast by what its own past chose;
//! 5. [`calibrate`]: each level's band from the record's errors per horizon bucket,
//!    widened where out-of-sample coverage (each window judged without itself and the
//!    neighbour either side that overlaps it) falls short;
//! 6. the final fit on all history (here), bounded: never below zero for non-negative
//!    series, within 0–100 for percents, no further from the point than the evidence; a
//!    run of outliers at the very end given its chance of being the new level ([`tail`]);
//! 7. [`paths`]: sample paths with the band's spread and the errors' dependence, for the
//!    runway and `simulate`.

pub mod backtest;
pub mod calibrate;
pub mod choose;
pub mod metrics;
pub mod models;
pub mod paths;
pub mod prepare;
pub mod robust;
pub mod seasonality;
pub mod shapes;
mod stats;
pub mod tail;

pub use backtest::{LevelValue, Score};
pub use models::ModelKind;
pub use stats::{normal_cdf, normal_quantile};

use crate::error::{Error, Result};
use crate::series::{Series, Unit};
use crate::time::format_short;
use crate::warning::{Warning, plural};
use backtest::{Fold, Plan, Variant};
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
    /// Use exactly these periods, as durations in ms (`1d,7d`): each series counts them
    /// in its own steps, so a period means the same time whatever grid a series is read
    /// on (a scripted 288 is a day at 5 minutes and 4.8 hours at 1 minute).
    Durations(Vec<i64>),
}

impl Periods {
    /// Parses `auto`, periods in steps such as `288,2016`, or durations such as `1d,7d`.
    ///
    /// # Errors
    /// A part that is neither, or steps and durations mixed, named in the message.
    pub fn parse(text: &str) -> Result<Periods, String> {
        if text.trim().eq_ignore_ascii_case("auto") {
            return Ok(Periods::Auto);
        }
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        if let Ok(steps) = parts.iter().map(|p| p.parse::<usize>()).collect::<Result<Vec<_>, _>>() {
            return Ok(Periods::Given(steps));
        }
        let durations = parts
            .iter()
            .map(|p| match p.parse::<usize>() {
                Ok(_) => Err(format!(
                    "\"{p}\" is a number of steps among durations: give all periods in steps (288,2016) or all as durations (1d,7d)"
                )),
                Err(_) => crate::time::parse_duration(p)
                    .map_err(|_| format!("\"{p}\" is neither a whole number of steps nor a duration such as 1d (or use auto)")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Periods::Durations(durations))
    }

    /// The text [`Periods::parse`] reads back: `auto`, `288,2016` or `1d,7d`.
    pub fn text(&self) -> String {
        match self {
            Periods::Auto => "auto".into(),
            Periods::Given(p) => p.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
            Periods::Durations(d) => d.iter().map(|d| crate::time::format_duration(*d)).collect::<Vec<_>>().join(","),
        }
    }

    /// The periods in steps of `step_ms`: durations rounded to whole steps, with a note
    /// for each that is not a whole number of them.
    pub(crate) fn in_steps(&self, step_ms: i64) -> (Periods, Vec<String>) {
        match self {
            Periods::Durations(d) => {
                let step = step_ms.max(1);
                let mut notes = Vec::new();
                let steps = d
                    .iter()
                    .map(|&ms| {
                        let n = usize::try_from((ms + step / 2) / step).unwrap_or(usize::MAX);
                        if ms % step != 0 {
                            notes.push(format!(
                                "period {} is not a whole number of {} steps: read as {n} steps",
                                crate::time::format_duration(ms),
                                crate::time::format_duration(step)
                            ));
                        }
                        n
                    })
                    .collect();
                (Periods::Given(steps), notes)
            }
            other => (other.clone(), Vec::new()),
        }
    }
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
    /// Parses `auto`, `combination` or a model name (`mstl`, `ets`, `seasonal-naive`,
    /// `linear`, `sawtooth`, `prophet`).
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
                    format!("\"{text}\" is not a model: use auto, combination, mstl, mstl-linear, ets, seasonal-naive, linear, sawtooth or prophet"),
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

/// Most backtest windows by default: origins a season apart, as many as history allows up
/// to this, so calibration sees about two weeks of 5-minute or hourly history at every
/// horizon. The latest [`choose::SELECTION_WINDOWS`] of them choose the model.
pub const DEFAULT_FOLDS: usize = 20;

/// Most backtest windows a user may ask for.
pub const MAX_FOLDS: usize = 40;

/// Most steps a forecast may have: a year of 1-minute steps. Every step costs memory in
/// each band and sample path, so a mistyped horizon is an error, not an out-of-memory.
pub const MAX_HORIZON: usize = 525_600;
/// The longest seasonal period, in steps (two seasons of it fill the most slots a series
/// may have).
pub const MAX_PERIOD: usize = 100_000_000;

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
    /// Most backtest windows (0 turns backtests and calibration off).
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
            && p.iter().any(|p| *p < 2 || *p > MAX_PERIOD)
        {
            return Err(Error::setting("period", format!("seasonal periods must be 2 to {MAX_PERIOD} steps")));
        }
        if let Periods::Durations(d) = &self.periods
            && d.iter().any(|d| *d <= 0)
        {
            return Err(Error::setting("period", "seasonal periods must be longer than zero"));
        }
        if self.folds > MAX_FOLDS {
            return Err(Error::setting("folds", format!("at most {MAX_FOLDS} backtest windows")));
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
    /// others, less the neighbour either side that overlaps it (`calibrate::judges`).
    /// `None` with a single window, or too few values to calibrate on.
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
    /// Windows left out of the calibration: scored after a level shift too recent for the
    /// backtest, which the final fit levelled at.
    #[serde(default)]
    pub left_out: usize,
    /// Older windows left out of the calibration because the chosen model could not be
    /// fitted on their shorter history (the choice saw only the latest windows).
    #[serde(default)]
    pub unfitted: usize,
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
    /// Where the last level shift the fit used starts: the fitted regime begins there, or
    /// the history before it was levelled to it.
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
    /// The calibrated bands before any was widened for its out-of-sample coverage, which
    /// sample paths follow step by step ([`paths`]); empty when none was widened (the
    /// paths follow `bands`). A widened band says how far a rough window can reach; the
    /// rough windows themselves come whole through the replays, so the paths keep the
    /// calibrated spread rather than putting the widened tail on every step of every path
    /// (which made every path cross thresholds far past anything history reached).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path_bands: Vec<Band>,
    /// A run of outliers at the end of history that may be the level from now on, with
    /// its chance: the bands are the mixture's and that share of the paths carries it
    /// ([`tail`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_level: Option<tail::NewLevel>,
}

fn unbounded() -> (f64, f64) {
    (f64::NEG_INFINITY, f64::INFINITY)
}

impl Forecast {
    /// Multiplies everything measured in the series' unit by `factor`.
    fn scale(&mut self, factor: f64) {
        let times = |v: &mut f64| *v *= factor;
        self.point.iter_mut().for_each(times);
        for b in self.bands.iter_mut().chain(self.path_bands.iter_mut()) {
            b.lower.iter_mut().chain(b.upper.iter_mut()).for_each(times);
        }
        let d = &mut self.dependence;
        d.persistent_sd.iter_mut().chain(d.fast.iter_mut().flatten()).chain(d.windows.iter_mut().flatten()).for_each(times);
        self.bounds = (self.bounds.0 * factor, self.bounds.1 * factor);
        if let Some(l) = &mut self.new_level {
            l.shift *= factor;
        }
    }

    /// Checks a forecast read from a file Headroom did not write itself (a plan file):
    /// the grid in range, every band as long as the point forecast with a level in
    /// (0, 100), the error process's numbers finite.
    ///
    /// # Errors
    /// What is wrong, naming the field.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.point.is_empty() {
            return Err("point is empty".into());
        }
        crate::time::check_grid(self.start_ms, self.step_ms, self.point.len())?;
        for (field, bands) in [("bands", &self.bands), ("path_bands", &self.path_bands)] {
            for (i, b) in bands.iter().enumerate() {
                if !(b.level > 0.0 && b.level < 100.0) {
                    return Err(format!("{field}[{i}].level must be in (0, 100), got {}", b.level));
                }
                for (key, v) in [("lower", &b.lower), ("upper", &b.upper)] {
                    if v.len() != self.point.len() {
                        return Err(format!("{field}[{i}].{key} has {} values for {} forecast steps", v.len(), self.point.len()));
                    }
                }
            }
        }
        let d = &self.dependence;
        if !(d.tau_ms.is_finite() && d.tau_ms >= 0.0) {
            return Err(format!("dependence.tau_ms must be a finite number of at least 0, got {}", d.tau_ms));
        }
        if d.persistent_sd.iter().chain(d.fast.iter().flatten()).any(|v| !v.is_finite()) || d.persistent_sd.iter().any(|v| *v < 0.0) {
            return Err("dependence: spreads must be finite and not negative".into());
        }
        if d.fast.len() > 100_000 || d.fast.iter().map(Vec::len).sum::<usize>() > 10_000_000 {
            return Err("dependence.fast is larger than any forecast makes".into());
        }
        if let Some(i) = d.fast.iter().position(Vec::is_empty) {
            return Err(format!("dependence.fast[{i}] is empty: each window's fast part has at least one value"));
        }
        if d.windows.len() > 100_000 || d.windows.iter().map(Vec::len).sum::<usize>() > 10_000_000 {
            return Err("dependence.windows is larger than any forecast makes".into());
        }
        if d.windows.iter().flatten().any(|v| v.is_infinite()) {
            return Err("dependence.windows: errors must be numbers (NaN at gaps), not infinite".into());
        }
        if self.bounds.0.is_nan() || self.bounds.1.is_nan() || self.bounds.0 > self.bounds.1 {
            return Err(format!("bounds ({}, {}) must be ordered numbers", self.bounds.0, self.bounds.1));
        }
        if let Some(l) = self.new_level {
            if !(l.shift.is_finite() && l.chance >= 0.0 && l.chance <= 1.0) {
                return Err(format!("new_level: shift must be a number and chance within 0 to 1, got {} and {}", l.shift, l.chance));
            }
            // A run is part of the history, which no forecast reads further back than years.
            if l.from_ms >= self.start_ms || self.start_ms.saturating_sub(l.from_ms) > 10 * 366 * crate::time::DAY_MS {
                return Err(format!("new_level.from_ms {} is not a time in the history before the forecast", l.from_ms));
            }
            // The bands hold the new level already; the paths follow the bands without it.
            if self.path_bands.is_empty() {
                return Err("new_level needs path_bands: the bands the sample paths follow, before the new level was mixed in".into());
            }
        }
        if self.periods.iter().any(|p| *p == 0 || *p > self.point.len().max(1).saturating_mul(1000)) {
            return Err(format!("periods {:?} are not seasonal periods of this forecast", self.periods));
        }
        Ok(())
    }

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
            path_bands: Vec::new(),
            new_level: None,
        }
    }

    /// The bands sample paths follow: the calibrated ones before widening when a band
    /// was widened, else the bands themselves.
    pub fn path_bands(&self) -> &[Band] {
        if self.path_bands.is_empty() { &self.bands } else { &self.path_bands }
    }

    /// Fixes the bands the sample paths follow ([`Forecast::path_bands`]) before the
    /// shown bands change (a run's new level mixed in, a count's edges read as counts):
    /// the paths keep the bands as calibrated.
    pub fn keep_path_bands(&mut self) {
        if self.path_bands.is_empty() {
            self.path_bands = self.bands.clone();
        }
    }

    /// UTC milliseconds of forecast step `i`.
    pub fn timestamp(&self, i: usize) -> i64 {
        crate::time::slot_time(self.start_ms, self.step_ms, i as i64)
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

/// Forecasts `series` over `settings.horizon` steps, stage by stage: prepare → candidates
/// → backtest → choice → calibration → final fit (the sample paths are drawn from the
/// result by [`paths`]).
///
/// # Errors
/// Invalid settings, too little data, or no model that fits, naming the series.
pub fn forecast(series: &Series, settings: &ForecastSettings) -> Result<Forecast> {
    settings.validate()?;
    if let Periods::Durations(_) = settings.periods {
        let (periods, notes) = settings.periods.in_steps(series.step_ms);
        let mut f = forecast(series, &ForecastSettings { periods, ..settings.clone() })?;
        let name = series.display_name();
        for (i, note) in notes.into_iter().enumerate() {
            f.warnings.insert(i, Warning::new(&name, note));
        }
        return Ok(f);
    }
    if let Some((cleaned, warning)) = without_sentinels(series) {
        let mut f = forecast(&cleaned, settings)?;
        f.warnings.insert(0, warning);
        return Ok(f);
    }
    let magnitude = series.values.iter().filter(|v| v.is_finite()).fold(0.0_f64, |m, v| m.max(v.abs()));
    if magnitude > MAX_FORECAST_MAGNITUDE {
        return Err(Error::series(
            &series.display_name(),
            format!(
                "has a value of {magnitude:e}, too large to forecast (a forecast, its bands and paths would overflow); \
                 is it an exporter's sentinel? Remove it or treat it as missing"
            ),
        ));
    }
    if magnitude > MAX_FITTED_MAGNITUDE {
        // A power of two scales exactly, so the forecast scaled back is the forecast of
        // the values as given.
        let exponent = magnitude.log2().round();
        let mut scaled = series.clone();
        let down = (-exponent).exp2();
        scaled.values.iter_mut().for_each(|v| *v *= down);
        let mut f = forecast_capped(&scaled, settings)?;
        f.scale(exponent.exp2());
        // The forecast is scaled back; the warnings' words are not.
        if f.level_shift_ms.is_some() || f.new_level.is_some() {
            f.warnings.push(Warning::new(
                &series.display_name(),
                format!(
                    "values near {magnitude:.0e} were fitted divided by 2^{exponent}: the levels the warnings above quote are in that scale"
                ),
            ));
        }
        return Ok(f);
    }
    forecast_capped(series, settings)
}

/// How many times the series' 95th percentile (of magnitudes) a value must be to be taken
/// for an exporter's sentinel or an overflow (2^64 − 1, 1e308) rather than a measurement:
/// a billion. One such value among a CPU series' percentages made every model's MASE 0
/// and the runway's odds of 80 % go from 0 to 0.08. Real bursts reach far past a quiet
/// series' usual level (an error rate of 0.003/s that bursts to 5000/s is a factor of
/// 1.5 million), so the factor is a thousand times that; the 95th percentile, so that
/// sentinels up to one value in twenty do not make the reference themselves.
const SENTINEL_FACTOR: f64 = 1e9;

/// The percentile of magnitudes [`SENTINEL_FACTOR`] multiplies.
const SENTINEL_REFERENCE: f64 = 0.95;

/// The magnitude past which a value of `series` is a sentinel ([`SENTINEL_FACTOR`] times
/// its 95th percentile); `None` when the series is too short or mostly zero to tell.
pub fn sentinel_limit(series: &Series) -> Option<f64> {
    let mut magnitudes: Vec<f64> = series.values.iter().filter(|v| v.is_finite()).map(|v| v.abs()).collect();
    if magnitudes.len() < MIN_POINTS {
        return None;
    }
    let k = ((magnitudes.len() - 1) as f64 * SENTINEL_REFERENCE) as usize;
    let reference = *magnitudes.select_nth_unstable_by(k, f64::total_cmp).1;
    (reference > 0.0).then_some(SENTINEL_FACTOR * reference)
}

/// `series` with values past [`SENTINEL_FACTOR`] times its 95th percentile taken as
/// missing, and the warning that names them; `None` when there are none.
fn without_sentinels(series: &Series) -> Option<(Series, Warning)> {
    let limit = sentinel_limit(series)?;
    let reference = limit / SENTINEL_FACTOR;
    let at: Vec<usize> = series.values.iter().enumerate().filter(|(_, v)| v.abs() > limit && v.is_finite()).map(|(i, _)| i).collect();
    if at.is_empty() {
        return None;
    }
    let mut cleaned = series.clone();
    for &i in &at {
        cleaned.values[i] = f64::NAN;
    }
    let shown: Vec<String> =
        at.iter().take(3).map(|&i| format!("{:e} at {}", series.values[i], format_short(series.timestamp(i)))).collect();
    let more = if at.len() > 3 { format!(" and {} more", at.len() - 3) } else { String::new() };
    let warning = Warning::new(
        series.display_name(),
        format!(
            "{} over a billion times the series' 95th percentile ({}): treated as missing, an exporter's sentinel or an overflow?",
            shown.join(", ") + &more,
            series.unit.format(reference)
        ),
    );
    Some((cleaned, warning))
}

/// Largest magnitude fitted as given. The models square and sum values, which overflows
/// near 1e154 (inside stlrs and the changepoint prior that panics), so larger series are
/// fitted scaled to about 1 by a power of two. Real metrics stay far below it (a byte
/// counter at an exabyte is 1e18), so their forecasts are untouched.
const MAX_FITTED_MAGNITUDE: f64 = 1e30;

/// Largest magnitude forecast at all: bands and paths reach a few times past the
/// history (at most three times its range), and near `f64::MAX` (1.8e308) they overflow
/// to infinity; this leaves a factor of a thousand. No metric comes within two hundred
/// orders of magnitude of it.
const MAX_FORECAST_MAGNITUDE: f64 = 1e305;

/// [`forecast`] on the history a forecast this far ahead needs ([`history_cap`]).
fn forecast_capped(series: &Series, settings: &ForecastSettings) -> Result<Forecast> {
    let cap = history_cap(series.step_ms, settings.horizon);
    if series.len() <= cap {
        return forecast_history(series, settings);
    }
    let recent = series.tail(cap);
    let mut f = forecast_history(&recent, settings)?;
    f.warnings.insert(
        0,
        Warning::new(
            &series.display_name(),
            format!(
                "fitted on the last {} of history ({cap} of {} points): older history adds little to a forecast this far ahead and would cost time in every backtest window",
                crate::time::format_duration(recent.end_ms() - recent.start_ms + recent.step_ms),
                series.len()
            ),
        ),
    );
    Ok(f)
}

/// The most history a forecast fits on, in steps: the longer of eight weeks (the weekly
/// season eight times over, plenty for MSTL and for twenty backtest windows a season
/// apart), [`MIN_HISTORY_CAP`] points and ten horizons. Only very long or finely stepped
/// histories reach it (a year at 1 minute, months at 15 seconds).
pub fn history_cap(step_ms: i64, horizon: usize) -> usize {
    let weeks = usize::try_from(8 * crate::time::WEEK_MS / step_ms.max(1)).unwrap_or(usize::MAX);
    weeks.max(MIN_HISTORY_CAP).max(horizon.saturating_mul(10))
}

/// Fewest points [`history_cap`] keeps, whatever the step: over two years of hourly data.
pub const MIN_HISTORY_CAP: usize = 20_000;

/// [`forecast`] on all of `series`.
fn forecast_history(series: &Series, settings: &ForecastSettings) -> Result<Forecast> {
    forecast_laid_out(series, settings, true)
}

/// [`forecast_history`], with windows laid out for a season their past holds once when
/// `allow_once` and the history has one (`backtest::held_once`).
fn forecast_laid_out(series: &Series, settings: &ForecastSettings, allow_once: bool) -> Result<Forecast> {
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
    // Empty slots at the end: the forecast starts after them, from a level the series may
    // have left hours ago. One empty slot is the scrape still under way; more is data
    // missing.
    let trailing = series.values.iter().rev().take_while(|v| v.is_nan()).count();
    let horizon = settings.horizon;

    // 1. Prepare all history for the final fit.
    let mut full =
        prepare::prepare(&values, series.step_ms, settings, &name, &mut warnings).with_gaps(series.values.iter().map(|v| v.is_nan()));
    if trailing > 1 && trailing < series.len() {
        let last = series.len() - trailing - 1;
        let level = format!("{}, {}", series.unit.format(values[last]), format_short(series.timestamp(last)));
        let how = match full.fill_trailing_from_season(trailing) {
            Some(p) => format!(
                "filled for fitting with the {} before them, moved to the last level ({level})",
                crate::time::format_duration(p as i64 * series.step_ms)
            ),
            None => format!("held at the last value ({level}) for fitting"),
        };
        warnings.push(Warning::new(
            &name,
            format!(
                "the last {trailing} slots ({}) are empty: {how}, and the forecast starts after them; \
                 cut them from the export or give the data that is missing",
                crate::time::format_duration(trailing as i64 * series.step_ms),
            ),
        ));
    }
    report_outliers(series, &full, &name, &mut warnings);
    if let ModelChoice::Single(kind @ (ModelKind::Mstl | ModelKind::MstlLinear)) = settings.model
        && full.periods.is_empty()
    {
        warnings.push(Warning::new(
            &name,
            format!(
                "{} needs a season with two whole cycles in the history, and there is none: fitted as {} without seasons",
                kind.describe(&[1]),
                kind.describe(&[])
            ),
        ));
    }
    if let Some(resets) = shapes::counter_resets(&values, &series.name) {
        warnings.push(Warning::new(
            &name,
            format!(
                "looks like a counter (it only ever rises{}): its rate is probably what should be forecast, e.g. rate({}[5m]) in Prometheus",
                match resets {
                    0 => String::new(),
                    1 => ", with one reset".into(),
                    n => format!(", with {n} resets"),
                },
                series.name
            ),
        ));
    }
    // A season that history holds fewer than four times lays out the windows only when
    // the data shows it strongly (`backtest::holds_four`).
    let given = matches!(settings.periods, Periods::Given(_));
    let laid_out: Vec<usize> = full
        .periods
        .iter()
        .copied()
        .filter(|&p| backtest::holds_four(values.len(), p) || given || seasonality::strong(&values, series.step_ms, p))
        .collect();
    // A season the layout cannot count but each window's past holds once: the seasonal
    // naive forecast alone can check it (`backtest::held_once`).
    let once = match settings.model {
        ModelChoice::Single(kind) if kind != ModelKind::SeasonalNaive => None,
        _ if !allow_once => None,
        _ => backtest::held_once(values.len(), settings.folds, &laid_out)
            .filter(|&p| given || seasonality::strength(&values, series.step_ms, p) > seasonality::HELD_ONCE_STRENGTH)
            // A longer season (the week), found in all of history, that no window which
            // chooses has twice in its past: the seasonal naive checks it on windows
            // after one of it. Its strength is not asked again: the detector found it
            // against the day, and a weekly profile of two weeks and a half fits so many
            // means that its strength tells little (0.05 for a weekend at 45 % of the
            // weekdays, 0.16 for a disk's writes the week forecast worse).
            .or_else(|| backtest::longer_held_once(values.len(), horizon, settings.folds, &laid_out)),
    };
    let planned = match once {
        // Origins a shortest season apart: `p` itself, or the day below a week.
        Some(p) => backtest::plan_once(values.len(), horizon, settings.folds, p, laid_out.iter().copied().min().unwrap_or(p)),
        None => backtest::plan(values.len(), horizon, settings.folds, &laid_out),
    };
    let Some(plan) = planned else {
        return unchecked(series, settings, &full, warnings);
    };
    if plan.fold_len < horizon {
        warnings.push(Warning::new(
            &name,
            format!(
                "the backtest windows cover the first {} of the {} horizon (the history holds no longer ones): past that the bands \
                 grow with the fourth root of the steps, unchecked; more history or a shorter horizon checks them",
                crate::time::format_duration(plan.fold_len as i64 * series.step_ms),
                crate::time::format_duration(horizon as i64 * series.step_ms)
            ),
        ));
    }
    // Windows are scored against what was observed, incidents included: the future will
    // have incidents too, and bands calibrated on cleaned values would be too narrow.
    let windows = backtest::Windows::new(&values, &series.values, plan, series.step_ms, settings);

    // 2. Candidates, each backtested on the selection windows.
    let selection = plan.selection();
    let once_spec = once.map(|p| Spec { kind: ModelKind::SeasonalNaive, periods: vec![p], step_ms: series.step_ms, level_adjusted: false });
    let mut specs: Vec<Spec> = match settings.model {
        // A seasonal naive asked for is the one at the longest period (as `fit_predict`
        // takes it): the season held once when there is one.
        ModelChoice::Single(kind) => match &once_spec {
            Some(spec) if windows.periods().is_empty() || kind == ModelKind::SeasonalNaive => vec![spec.clone()],
            _ => vec![Spec { kind, periods: windows.periods().to_vec(), step_ms: series.step_ms, level_adjusted: false }],
        },
        _ => Spec::candidates(windows.periods(), series.step_ms, shapes::sawtooth(&full.fit_values, &full.periods).is_some()),
    };
    if let Some(spec) = once_spec.filter(|s| !specs.contains(s)) {
        // Plain AutoETS is no candidate beside a season, as in `Spec::candidates`, and
        // here for a reason of its own: on a strong season it cannot model it reads the
        // season's slope as a trend, and windows this much shorter than the horizon
        // cannot show where that trend leads (two days of a daily sine: chosen, alone or
        // in the mean, in 3 of 6 cases, its MAE 12-19 times the seasonal naive's).
        specs.retain(|s| s.kind != ModelKind::Ets);
        specs.push(spec);
    }
    // Periods the user gave that no window's past holds twice: no model with them could be
    // checked, and the choice is made without them. Say so (they were dropped silently).
    let unchecked: Vec<usize> = full.periods.iter().copied().filter(|p| !windows.periods().contains(p) && once != Some(*p)).collect();
    if given && !matches!(settings.model, ModelChoice::Single(_)) && !unchecked.is_empty() {
        let n = unchecked.len();
        let (periods, each, them) = (plural(n, "period", "periods"), plural(n, "it", "each"), plural(n, "it", "them"));
        let list = unchecked.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        warnings.push(Warning::new(
            &name,
            format!(
                "{periods} {list} given: no backtest window has two of {each} in its own past, so no model with {them} could be checked, and the forecast is made without {them}; more history lets {them} in (or name a model, e.g. --model mstl, to fit {them} unchecked)"
            ),
        ));
    }
    // A recent level shift (a launch, a deploy) with a block after it: each model that a
    // step distorts also fitted on history levelled at it, the backtest to tell which is
    // truer (fitting only after a shift needs two seasons after it; levelling, one block).
    let recent_shift = full.recent_shift().filter(|_| settings.robust);
    // The levelled come first: where no window can tell them apart (a shift too recent for
    // any window to start after it), the choice, stable on ties, takes the level the
    // history has now. A step from 800/s to 400/s three days before the end was forecast
    // at 662/s under a two-week horizon, the levelled twin tied and second.
    let specs: Vec<Spec> = match recent_shift {
        Some(_) if !matches!(settings.model, ModelChoice::Single(_)) => {
            specs.iter().filter_map(Spec::levelled).chain(specs.iter().cloned()).collect()
        }
        _ => specs,
    };
    let runs: Vec<(Spec, std::result::Result<Vec<Fold>, String>)> =
        specs.into_par_iter().map(|spec| (spec.clone(), windows.run(&spec, selection.clone(), Variant::default()))).collect();
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

    // 3. The nested record over the selection windows, then the choice.
    let selection_plan = Plan { folds: selection.len(), first_origin: plan.origin(selection.start), selection: 0, ..plan };
    let nested = match settings.model {
        ModelChoice::Single(_) => vec![None; selection.len()],
        _ => choose::nested_record(&candidates, &selection_plan, settings.model == ModelChoice::Combination),
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
    // Windows after a season held once are fewer and shorter than those without it: kept
    // only for the seasonal naive they were laid out for. Without it in the choice, the
    // forecast is made on the windows the history gives without that season (a CPU series
    // with two days and a quarter of history, forecast naive for two days, had its band's
    // top 11 times as high on them as on the usual windows).
    if let Some(p) = once
        && !chosen.members.iter().any(|m| m.kind == ModelKind::SeasonalNaive && m.periods.contains(&p))
    {
        return forecast_laid_out(series, settings, false);
    }
    let mut variant = Variant::default();
    // The regime after the last level shift, when that backtests better (each window
    // looks for its shift in its own past) and all history has one for the final fit.
    let shift = full.level_shift().filter(|_| settings.robust);
    if shift.is_some()
        && let Some(better) = try_variant(&chosen, Variant { after_shift: true, ..variant }, &windows, &settings.levels)
    {
        chosen = better;
        variant.after_shift = true;
    }

    // Multiplicative growth: a log scale, when that backtests better.
    if settings.robust && values.iter().all(|v| *v > 0.0) && full.fit_values.iter().all(|v| *v > 0.0) {
        let v = Variant { log: true, ..variant };
        if let Some(better) = try_variant(&chosen, v, &windows, &settings.levels) {
            chosen = better;
            variant = v;
        }
    }

    // 4. The record calibration trusts: the windows before the selection forecast by the
    //    chosen model (the choice never saw them), then each selection window as its own
    //    past chose it where it has such a past, else by the chosen model.
    // A window the chosen model cannot be fitted on leaves the record, rather than the
    // forecast failing: the choice saw only the selection windows, and on an older one,
    // with less history, a log-scale MSTL on three days of hourly data gave NaN.
    let older: Vec<Fold> =
        (0..selection.start).filter_map(|k| run_members(&chosen.members, &windows, k..k + 1, variant).ok()).flatten().collect();
    let unfitted = selection.start - older.len();
    // Which windows of the record were forecast by the model their own past chose.
    let mut nested_flags = vec![false; older.len()];
    nested_flags.extend(nested.iter().map(Option::is_some));
    let mut record = older;
    record.extend(nested.into_iter().zip(&chosen.folds).map(|(n, c)| n.unwrap_or_else(|| c.clone())));
    // A step too recent for any window to start after it: every model fits the history
    // levelled at it (6.), as the backtest cannot say otherwise and the level the series
    // has now is the one it goes on from. The windows scored after it then erred by the
    // step, which the levelled fit no longer makes: calibrated on them, a band around a
    // step from 10 to 40 reached 88 and the paths replayed the step on top of the new
    // level. They leave the record while enough windows remain.
    // A recent shift at the same step (a series with a season longer than a block keeps
    // late steps there) is the levelled twins' already: moved twice, history went to 300
    // for a step from 100 to 200.
    let same_step = |f: &prepare::Shift| recent_shift.is_some_and(|r| r.at + (values.len() - f.at.min(values.len())) >= f.at);
    let fits_fresh = |s: &prepare::Shift| {
        settings.robust && !matches!(settings.model, ModelChoice::Single(_)) && s.applies(variant.log) && !same_step(s)
    };
    let fresh = full.fresh_shift().filter(fits_fresh);
    // Younger than a day (`prepare::young_shift`): levelled as a fresh one, and the return
    // to the level before it given its chance in the bands and the paths.
    let young = if fresh.is_none() { full.young_shift().filter(fits_fresh) } else { None };
    let fresh = fresh.or(young);
    // The outlier warning names the outliers that remain (once: a heavy tail's warning
    // is not repeated, as none were masked to leave).
    if let Some(s) = young
        && full.unmask_new_level(&s)
    {
        warnings.retain(|w| !w.message.contains(OUTLIERS_MASKED));
        report_outliers(series, &full, &name, &mut warnings);
    }
    // How long before the end a shift came.
    let age_ms = |s: &prepare::Shift| (full.fit_values.len() - s.at.min(full.fit_values.len())) as i64 * series.step_ms;
    let returns = young.map(|s| tail::NewLevel {
        from_ms: series.timestamp(s.at),
        shift: s.before - s.after,
        chance: prepare::young_return_chance(age_ms(&s)),
        returns: true,
    });
    let mut left_out = 0;
    if let Some(shift) = fresh {
        // Where the change began: windows scored after its first stage leave the record.
        let at = format_short(series.timestamp(shift.begins()));
        let total = record.len();
        match leave_out_after(&mut record, &mut nested_flags, &shift) {
            AfterFresh::LeftOut(n) => {
                left_out = n;
                warnings.push(Warning::new(
                    &name,
                    format!("{n} backtest {} scored after the level shift at {at} left out of the band's calibration", plural(n, "window", "windows")),
                ));
            }
            AfterFresh::Kept(n) => warnings.push(Warning::new(
                &name,
                format!(
                    "{n} of the {total} backtest windows {} scored after the level shift at {at}, and erred by it; they stay in the band's calibration, as fewer than {MIN_RECORD_AFTER_FRESH} would remain without them: the bands are the wider for it",
                    plural(n, "was", "were")
                ),
            )),
            AfterFresh::Clean => {}
        }
    }
    let nested_windows = nested_flags.iter().filter(|n| **n).count();

    // 5. Calibration, widened where its out-of-sample coverage says so.
    let calibration = calibrate::calibrate(&record, &settings.levels);
    let calibrated_coverage = calibrate::cross_validated_coverage(&record, &settings.levels);
    let (factors, widened) = calibrate::rescale_to_evidence(&record, &settings.levels);
    let mut rescaled = Vec::new();
    for r in widened {
        if r.factor == 1.0 {
            warnings.push(Warning::new(
                &name,
                format!(
                    "{} % band covered {:.3} out of sample and no widening up to ×{} held more: the misses lie far past it (a step or burst the windows' history could not show); it stays as calibrated",
                    r.level,
                    r.before,
                    factor_text(calibrate::MAX_RESCALE)
                ),
            ));
            continue;
        }
        warnings.push(Warning::new(
            &name,
            format!(
                "{} % band widened ×{}: its out-of-sample coverage was {:.3} (now {:.3} on the same windows)",
                r.level,
                factor_text(r.factor),
                r.before,
                r.after
            ),
        ));
        rescaled.push(LevelValue { level: r.level, value: r.factor });
    }
    let bucket_len = calibration.as_ref().map_or(plan.fold_len, |c| c.bucket_len);
    // The errors as they came, not stretched with a widened band: the fitted process
    // takes its spread from the band anyway, and replays are what happened (stretched, a
    // real 1.4-point spike on a 0.07 % CPU series grew past thresholds the series never
    // reached: bench breach on CloudWatch series, ECE 0.12 raw against 0.15 stretched).
    let dependence = paths::Dependence::from_errors(&calibrate::errors(&record), bucket_len, series.step_ms);
    let evidence_reach = backtest::largest_errors(&record).map(|(down, up)| (EVIDENCE_MARGIN * down, EVIDENCE_MARGIN * up));

    // 6. Final fit on all (regime) history, with the full history's periods.
    let start = if variant.after_shift { shift.unwrap_or(0) } else { 0 };
    if let (true, Some(at)) = (variant.after_shift, shift) {
        warnings
            .push(Warning::new(&name, format!("level shift at {}: fitted on the history after it", format_short(series.timestamp(at)))));
    }
    // The levelled twins' shift, when the chosen model has one and the scale can take it.
    let levelled = chosen.members.iter().any(|m| m.level_adjusted);
    let twin_shift = recent_shift.filter(|s| levelled && s.applies(variant.log));
    if let Some(shift) = twin_shift {
        warnings.push(levelled_warning(series, &shift, ""));
    }
    if let Some(shift) = fresh {
        let age = crate::time::format_duration(age_ms(&shift));
        let returning = match returns {
            Some(r) => format!(
                ", and that the level before it returns (a burst that ends) has a {:.0} % chance in the bands and sample paths",
                100.0 * r.chance
            ),
            None => String::new(),
        };
        warnings.push(levelled_warning(
            series,
            &shift,
            &format!(", {age} before the end: too recent for the backtest to check{returning};"),
        ));
    }
    // Every model fits history levelled at a fresh shift; the twins fit it levelled at
    // their own shift first, as the windows did. After a young one, the points masked
    // against the old level are read against the new one.
    let at_fresh = |values: Vec<f64>| match fresh {
        Some(s) => full.levelled(&s, &values, variant.log),
        None => values,
    };
    let history = at_fresh(full.fit_values.clone());
    let twin_history = twin_shift.map(|s| at_fresh(full.levelled(&s, &full.fit_values, variant.log)));
    let train = &history[start.min(history.len())..];
    // A model asked for by name keeps its seasons where all history holds them, even when
    // the backtest windows' shorter history did not (MSTL + linear trend on three days
    // became a bare line whose slope the daily cycle bent).
    let members: Vec<Spec> = chosen
        .members
        .iter()
        .map(|m| match settings.model {
            ModelChoice::Single(_) if m.periods.is_empty() => Spec { periods: full.periods.clone(), ..m.clone() },
            _ => prepare::with_periods(m, &full.periods),
        })
        .collect();
    let fitted: Vec<RawForecast> = members
        .par_iter()
        .map(|spec| match &twin_history {
            // As the windows fitted it: levelled, then cut at the older shift if any.
            Some(m) if spec.level_adjusted => backtest::fit_variant(spec, &m[start.min(m.len())..], horizon, variant.log),
            _ => backtest::fit_variant(spec, train, horizon, variant.log),
        })
        .collect::<std::result::Result<_, _>>()
        .map_err(|m| Error::series(&name, m))?;
    let raw = RawForecast::mean(&fitted.iter().collect::<Vec<_>>()).ok_or_else(|| Error::series(&name, "no model could be fitted"))?;
    let band_of = |level: f64, factor: f64| match calibration.as_ref().and_then(|c| c.band(&raw, level, factor)) {
        Some((lower, upper)) => Band { level, lower, upper },
        None => gaussian_band(&raw, level),
    };
    let bands: Vec<Band> = settings.levels.iter().zip(&factors).map(|(&level, &factor)| band_of(level, factor)).collect();
    let path_bands: Vec<Band> =
        if factors.iter().any(|f| *f != 1.0) { settings.levels.iter().map(|&level| band_of(level, 1.0)).collect() } else { Vec::new() };
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
        nested_windows,
        rescaled,
        left_out,
        unfitted,
    };
    let parts = Parts {
        model,
        periods: full.periods.clone(),
        evidence: Some(evidence),
        level_shift_ms: match fresh.or(twin_shift) {
            Some(s) => Some(series.timestamp(s.begins())),
            None => variant.after_shift.then(|| shift.map(|at| series.timestamp(at))).flatten(),
        },
        log_scale: variant.log,
        dependence: Some(dependence),
        evidence_reach,
        path_bands,
        returns,
    };
    let f = finish(series, raw, bands, parts, &full, warnings);
    Ok(f)
}

/// The warning for history moved to the level after `shift`; `note` goes after the levels
/// (why the backtest could not judge it, for a fresh shift).
fn levelled_warning(series: &Series, shift: &prepare::Shift, note: &str) -> Warning {
    Warning::new(
        series.display_name(),
        format!(
            "level shift {}{note}{} the history before it moved to the level after it for fitting",
            match shift.stage {
                Some(stage) => format!(
                    "in two stages, at {} and {} (from {} through {} to {})",
                    format_short(series.timestamp(stage.from)),
                    format_short(series.timestamp(shift.at)),
                    series.unit.format(shift.before),
                    series.unit.format(stage.level),
                    series.unit.format(shift.after)
                ),
                None => format!(
                    "at {} (from {} to {})",
                    format_short(series.timestamp(shift.at)),
                    series.unit.format(shift.before),
                    series.unit.format(shift.after)
                ),
            },
            if note.is_empty() { ":" } else { "" }
        ),
    )
}

/// What became of the backtest windows scored after a fresh level shift began.
enum AfterFresh {
    /// None was.
    Clean,
    /// So many left the record.
    LeftOut(usize),
    /// So many stayed in it: fewer than [`MIN_RECORD_AFTER_FRESH`] would remain without.
    Kept(usize),
}

/// Leaves the windows scored after `shift` began out of `record` (and their flags out of
/// `nested`) while [`MIN_RECORD_AFTER_FRESH`] remain: each was fitted on history not
/// levelled at the step and erred by it, which the levelled final fit no longer makes. A
/// history moved up by the ratio of the levels takes the kept windows' errors up with it
/// (a count that rose from 1 to 50 a second kept a band 4 wide, covering 9 % of the next
/// day); moved down, the old errors stay (a band no narrower than its evidence: a drained
/// group's ticks still come).
fn leave_out_after(record: &mut Vec<Fold>, nested: &mut Vec<bool>, shift: &prepare::Shift) -> AfterFresh {
    let after = |f: &Fold| shift.begins() < f.origin + f.actual.len();
    let erred = record.iter().filter(|f| after(f)).count();
    if erred == 0 {
        return AfterFresh::Clean;
    }
    if record.len() - erred < MIN_RECORD_AFTER_FRESH {
        return AfterFresh::Kept(erred);
    }
    let ratio = shift.after / shift.before;
    let factor = if shift.scales && ratio.is_finite() && ratio > 1.0 { ratio } else { 1.0 };
    let (kept, flags): (Vec<Fold>, Vec<bool>) = record
        .drain(..)
        .zip(nested.drain(..))
        .filter(|(f, _)| !after(f))
        .map(|(f, n)| (if factor > 1.0 { f.scaled(factor) } else { f }, n))
        .unzip();
    *record = kept;
    *nested = flags;
    AfterFresh::LeftOut(erred)
}

/// Fewest backtest windows the calibration keeps when windows scored across a fresh level
/// shift leave it (the choice's six): with fewer, they stay, and the band is the wider for
/// it.
const MIN_RECORD_AFTER_FRESH: usize = 6;

/// Too short to backtest: the chosen (or default) model with its own intervals.
fn unchecked(series: &Series, settings: &ForecastSettings, full: &prepare::Prepared, mut warnings: Vec<Warning>) -> Result<Forecast> {
    let name = series.display_name();
    let kind = match settings.model {
        ModelChoice::Single(k) => k,
        _ if shapes::sawtooth(&full.fit_values, &full.periods).is_some() => ModelKind::Sawtooth,
        _ if full.periods.is_empty() => ModelKind::Ets,
        _ => ModelKind::Mstl,
    };
    if settings.folds > 0 {
        warnings.push(Warning::new(&name, "too little history for a backtest: the bands are the model's own, not calibrated"));
    }
    let fit = |kind: ModelKind| models::fit_predict(kind, &full.fit_values, &full.periods, settings.horizon, series.step_ms);
    let (kind, raw) = match (fit(kind), settings.model) {
        (Ok(raw), _) => (kind, raw),
        // Automatic choice on a history too short for AutoETS (it needs about ten points):
        // the linear trend, which two points already define.
        (Err(e), ModelChoice::Single(_)) => return Err(Error::series(&name, e)),
        (Err(e), _) => {
            let raw = fit(ModelKind::Linear).map_err(|_| Error::series(&name, e.clone()))?;
            warnings
                .push(Warning::new(&name, format!("{} could not be fitted ({e}): a linear trend instead", kind.describe(&full.periods))));
            (ModelKind::Linear, raw)
        }
    };
    let bands = settings.levels.iter().map(|&level| gaussian_band(&raw, level)).collect();
    let spec = models::Spec { kind, periods: full.periods.clone(), step_ms: series.step_ms, level_adjusted: false };
    let parts = Parts { model: spec.describe(), periods: full.periods.clone(), ..Parts::default() };
    Ok(finish(series, raw, bands, parts, full, warnings))
}

/// A widening factor as the warning shows it: two decimals, or three when two would read
/// ×1.00.
fn factor_text(f: f64) -> String {
    if f < 1.005 { format!("{f:.3}") } else { format!("{f:.2}") }
}

/// Backtests every member of a candidate on `windows` and averages them.
fn run_members(
    members: &[Spec],
    windows: &backtest::Windows<'_>,
    range: std::ops::Range<usize>,
    variant: Variant,
) -> std::result::Result<Vec<Fold>, String> {
    let runs: Vec<Vec<Fold>> =
        members.par_iter().map(|spec| windows.run(spec, range.clone(), variant)).collect::<std::result::Result<_, _>>()?;
    Ok(if runs.len() == 1 {
        runs.into_iter().next().unwrap_or_default()
    } else {
        backtest::combine(&runs.iter().map(Vec::as_slice).collect::<Vec<_>>())
    })
}

/// The words of [`report_outliers`]' warning after its count.
const OUTLIERS_MASKED: &str = "masked before fitting";

/// Reports the outliers masked in all history.
fn report_outliers(series: &Series, prepared: &prepare::Prepared, name: &str, warnings: &mut Vec<Warning>) {
    if prepared.heavy_tailed {
        warnings.push(Warning::new(name, "many points lie far from the seasonal pattern: treated as normal behaviour, none masked"));
    }
    let outliers: Vec<i64> = prepared.outliers.iter().map(|&i| series.timestamp(i)).collect();
    if !outliers.is_empty() {
        let shown: Vec<String> = outliers.iter().take(3).map(|t| format_short(*t)).collect();
        let more = if outliers.len() > 3 { format!(" and {} more", outliers.len() - 3) } else { String::new() };
        warnings.push(Warning::new(
            name,
            format!("{} {} {OUTLIERS_MASKED}: {}{more}", outliers.len(), plural(outliers.len(), "outlier", "outliers"), shown.join(", ")),
        ));
    }
}

/// Backtests `base`'s members under `variant` on the selection windows; returns the
/// result if its MASE is lower. The variant is first run on the latest
/// [`EARLY_REJECT_WINDOWS`]; only one that wins there is run on the earlier ones, so a
/// variant that loses at once costs half the fits.
fn try_variant(base: &Candidate, variant: Variant, windows: &backtest::Windows<'_>, levels: &[f64]) -> Option<Candidate> {
    let selection = windows.plan.selection();
    let split = selection.end.saturating_sub(EARLY_REJECT_WINDOWS).max(selection.start);
    let tail = run_members(&base.members, windows, split..selection.end, variant).ok()?;
    let n = base.folds.len();
    if Candidate::error_of(&tail) >= base.error_over(n.saturating_sub(tail.len())..n) {
        return None;
    }
    let mut folds = run_members(&base.members, windows, selection.start..split, variant).ok()?;
    folds.extend(tail);
    let score = backtest::score(base.score.model.clone(), &folds, levels);
    let candidate = Candidate { members: base.members.clone(), folds, score };
    (candidate.selection_error() < base.selection_error()).then_some(candidate)
}

/// A variant that loses on this many of the latest windows is not run on the rest.
const EARLY_REJECT_WINDOWS: usize = 3;

/// The model's own Gaussian band (no backtest to calibrate on).
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
    /// The calibrated bands before widening, for the sample paths (empty: none widened).
    path_bands: Vec<Band>,
    /// A young level shift's return to the level before it, with its chance: given in
    /// the bands and paths in place of a run at the end ([`tail`]).
    returns: Option<tail::NewLevel>,
}

/// Fewest steps after a level shift from which its noise is read (an hour at 5 minutes).
const MIN_POINTS_FOR_NOISE: usize = 12;

/// A band may reach this much further than the largest error the backtest saw (on each
/// side): room for a future somewhat rougher than the past, never an unbounded multiplier.
const EVIDENCE_MARGIN: f64 = 1.5;

/// How far a band may reach from the point forecast, in ranges of history: the same
/// cap the models' own sigma has, so that no back-transform or multiplier makes a band
/// explode past what history and trend support.
const MAX_BAND_RANGES: f64 = models::SPREAD_CAP_RANGES;

/// Applies the physical bounds, caps and nests the bands around the point, and packs
/// the result.
fn finish(
    series: &Series,
    raw: RawForecast,
    mut bands: Vec<Band>,
    parts: Parts,
    prepared: &prepare::Prepared,
    mut warnings: Vec<Warning>,
) -> Forecast {
    let mut bounds = Bounds::for_series(series);
    // A leak that restarts falls back to its floor, never below: the lowest value history
    // reached bounds the bands and the paths. Without it a sawtooth's restarts, come
    // earlier or later than forecast, widened the band's lower edge to zero bytes for a
    // service that never ran under 1.9 GiB.
    if shapes::sawtooth(&prepared.fit_values, &prepared.periods).is_some() {
        let floor = prepared.fit_values.iter().copied().filter(|v| v.is_finite()).fold(f64::INFINITY, f64::min);
        if floor.is_finite() && floor < bounds.upper {
            bounds.lower = bounds.lower.max(floor);
        }
    }
    let point: Vec<f64> = raw.point.iter().map(|v| bounds.clamp(*v)).collect();
    let (lo, hi) = prepared.fit_values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
    let range_reach = if hi >= lo { MAX_BAND_RANGES * (hi - lo).max(1e-9 * (1.0 + hi.abs())) } else { f64::INFINITY };
    let (reach_down, reach_up) = match parts.evidence_reach {
        Some((down, up)) if down > 0.0 && up > 0.0 => (range_reach.min(down), range_reach.min(up)),
        _ => (range_reach, range_reach),
    };
    // Past the steps the windows covered, the evidence's reach grows as a random walk's
    // would (the square root, `EVIDENCE_GROWTH_EXPONENT`), faster than the bands do there
    // (`calibrate::GROWTH_EXPONENT`): held flat, it cut off the growth the bands were
    // given. The history's range still caps it.
    let covered = parts.evidence.as_ref().map_or(usize::MAX, |e| e.plan.fold_len.max(1));
    let grown = |reach: f64, h: usize| {
        if h < covered || reach >= range_reach {
            reach
        } else {
            (reach * ((h + 1) as f64 / covered as f64).powf(EVIDENCE_GROWTH_EXPONENT)).min(range_reach)
        }
    };
    // No band narrower than the noise the series showed since a level shift it was
    // levelled at: the backtest windows before the shift measured the old regime's
    // errors, and a service that came up from 0 two days before the end had an 80 %
    // band 0.4 wide for noise of ±9 (its windows over the zeros erred by nothing). The
    // noise is the robust spread of the second differences after the shift over √6
    // (each holds three draws of it, weighted 1, −2, 1; a daily cycle's curve adds
    // little to them even at hourly steps, where first differences would read the cycle
    // as noise).
    let shift_noise = parts
        .level_shift_ms
        .and_then(|ms| series.slot_at(ms))
        .and_then(|at| prepared.fit_values.get(at..))
        .filter(|after| after.len() >= MIN_POINTS_FOR_NOISE)
        .map(|after| robust::median_mad(&after.windows(3).map(|w| w[2] - 2.0 * w[1] + w[0]).collect::<Vec<f64>>()).1 / 6f64.sqrt())
        .filter(|n| n.is_finite() && *n > 0.0);
    let shape = |bands: &mut Vec<Band>| {
        // Narrow to wide, so each wider band contains the narrower one.
        let mut order: Vec<usize> = (0..bands.len()).collect();
        order.sort_by(|&a, &b| bands[a].level.total_cmp(&bands[b].level));
        let mut inner_lo = point.clone();
        let mut inner_hi = point.clone();
        for i in order {
            let b = &mut bands[i];
            b.lower.resize(point.len(), f64::NAN);
            b.upper.resize(point.len(), f64::NAN);
            let floor = shift_noise.map_or(0.0, |n| n * stats::normal_quantile(0.5 + b.level / 200.0));
            for h in 0..point.len() {
                let (reach_down, reach_up) = (grown(reach_down, h), grown(reach_up, h));
                let l = b.lower[h].max(point[h] - reach_down).min(point[h] - floor);
                let u = b.upper[h].min(point[h] + reach_up).max(point[h] + floor);
                b.lower[h] = bounds.clamp(if l.is_nan() { point[h] - reach_down } else { l }).min(inner_lo[h]);
                b.upper[h] = bounds.clamp(if u.is_nan() { point[h] + reach_up } else { u }).max(inner_hi[h]);
            }
            inner_lo.clone_from(&b.lower);
            inner_hi.clone_from(&b.upper);
        }
    };
    shape(&mut bands);
    let mut path_bands = parts.path_bands;
    shape(&mut path_bands);
    // A young step's return, else a run at the end read as a burst (with a young step,
    // that run is the step the fit follows: no burst to give a chance).
    let new_level = parts.returns.or_else(|| {
        let t = prepared.tail()?;
        let level = tail::NewLevel {
            from_ms: series.timestamp(t.from),
            shift: t.shift,
            chance: tail::chance(t.observed as i64 * series.step_ms, t.observed),
            returns: false,
        };
        warnings.push(new_level_warning(series, t.observed, &level));
        Some(level)
    });
    let mut forecast = Forecast {
        series: series.display_name(),
        start_ms: series.timestamp(series.len()),
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
        path_bands,
        new_level: None,
    };
    if let Some(l) = new_level {
        tail::apply(&mut forecast, l);
    }
    bounds.read_as_counts(&mut forecast);
    forecast
}

/// How far below a whole number a count band's upper edge may lie and still be that
/// number ([`Bounds::read_as_counts`]): a twentieth of a count, the drift of a point forecast
/// between the backtest windows and the final fit (Poisson(1) counts had their 80 %
/// edge at 2.988 and left out every three). Widening every edge to whole numbers was
/// tried: M4's 95 % coverage went to 0.9604 and nab-tweets' to 0.972.
const COUNT_EDGE_SLACK: f64 = 0.05;

/// The warning for a run of outliers at the end of history ([`tail`]) of `observed`
/// slots with data.
fn new_level_warning(series: &Series, observed: usize, level: &tail::NewLevel) -> Warning {
    let lasted = crate::time::format_duration(observed as i64 * series.step_ms);
    let size = series.unit.format(level.shift.abs());
    let chance = 100.0 * level.chance;
    Warning::new(
        series.display_name(),
        format!(
            "the values from {} on ({lasted} of data) lie far {} the seasonal pattern, by a median of {size}{}: fitted as a burst that \
             ends; that it is the level from now on (a deploy?) has {} chance in the bands and sample paths{}",
            format_short(level.from_ms),
            if level.shift > 0.0 { "above" } else { "below" },
            if series.unit.is_percent_like() { " (percentage points)" } else { "" },
            if chance < 0.5 { "under a 1 %".to_string() } else { format!("a {chance:.0} %") },
            if level.chance < tail::MAX_CHANCE { ", more the longer it lasts" } else { "" }
        ),
    )
}

/// How the evidence's reach (the farthest a band may go from the point) grows past the
/// steps the backtest windows covered: as a random walk's, the square root of the steps,
/// a bound above the bands' own growth there (`calibrate::GROWTH_EXPONENT`), so that it
/// only stops a band that was already held at it within the windows.
const EVIDENCE_GROWTH_EXPONENT: f64 = 0.5;

/// Physical limits a forecast must respect.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    lower: f64,
    upper: f64,
    /// Every value of history a whole number, zero among them and something above it:
    /// counts, whose band edges are read as counts ([`Bounds::read_as_counts`]).
    counts: bool,
}

/// How far below zero, as a share of its largest value, a series of a non-negative unit
/// may dip (a rate's extrapolation) and still be held at zero.
const NEGATIVE_JITTER: f64 = 0.01;

impl Bounds {
    fn for_series(series: &Series) -> Self {
        let (min, max) = series.min_max().unwrap_or((0.0, 0.0));
        // A unit that cannot be negative is held at zero, unless history went well below
        // it (then the values are not what the name says, and zero would clip the point
        // forecast while the paths, built on the errors, still reach past it).
        let lower =
            if min >= 0.0 || series.unit.is_non_negative() && min >= -NEGATIVE_JITTER * max.abs() { 0.0 } else { f64::NEG_INFINITY };
        let upper = match series.unit {
            Unit::Percent if max <= 100.0 => 100.0,
            // A ratio is at most its whole, or the little it overshot to in history.
            Unit::Ratio => max.max(1.0),
            _ => f64::INFINITY,
        };
        let finite = || series.values.iter().copied().filter(|v| v.is_finite());
        let counts = finite().all(|v| v >= 0.0 && v.fract() == 0.0) && finite().any(|v| v == 0.0) && finite().any(|v| v > 0.0);
        Bounds { lower, upper, counts }
    }

    fn clamp(self, v: f64) -> f64 {
        if v.is_nan() { v } else { v.clamp(self.lower, self.upper) }
    }

    /// For counts ([`Bounds::counts`]) held at zero: a band's lower edge between 0 and 1 is 0, as no
    /// count lies between, and an upper edge a hair below a count ([`COUNT_EDGE_SLACK`]) is
    /// that count. Error counts of about one per step had a 95 % band from 5e-324 (a
    /// log scale's floor) and an 80 % band from 0.0004, and the zeros, a third of what came,
    /// fell outside both (95 % coverage 0.63). The sample paths keep the band as calibrated
    /// (`path_bands`). (Any edge below the least value above zero was tried first: on a
    /// gauge at 0 for a day and then about 100 it dropped edges of 58 to 0.)
    fn read_as_counts(self, forecast: &mut Forecast) {
        if !self.counts || self.lower != 0.0 {
            return;
        }
        forecast.keep_path_bands();
        for b in &mut forecast.bands {
            for v in &mut b.lower {
                if *v > 0.0 && *v < 1.0 {
                    *v = 0.0;
                }
            }
            for v in &mut b.upper {
                let whole = v.ceil();
                if whole - *v < COUNT_EDGE_SLACK {
                    *v = whole.min(self.upper);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The band of a count of about one as it came out of calibration (edges at 0.0004,
    /// 2.988 and 3.6), read as counts: 0, 3 and 3.6 (no count lies between 0 and 1, or
    /// between 2.988 and 3; 3.6 is no hair below 4). A series of values that are not all
    /// whole, or that never took zero, keeps its edges.
    #[test]
    fn a_count_band_is_read_as_counts_at_its_edges() {
        let band = |lower: f64, upper: f64| Band { level: 80.0, lower: vec![lower], upper: vec![upper] };
        let run = |values: Vec<f64>, lower: f64, upper: f64| {
            let s = Series { name: "c".into(), labels: Default::default(), unit: Unit::None, start_ms: 0, step_ms: 300_000, values };
            let mut f = Forecast::from_parts("c", 0, 300_000, vec![1.0], vec![band(lower, upper)], "m");
            Bounds::for_series(&s).read_as_counts(&mut f);
            assert_eq!(f.path_bands()[0].upper, [upper], "the paths keep the band as calibrated");
            (f.bands[0].lower[0], f.bands[0].upper[0])
        };
        let counts = vec![0.0, 1.0, 2.0, 1.0, 0.0, 3.0];
        assert_eq!(run(counts.clone(), 0.0004, 2.988), (0.0, 3.0));
        assert_eq!(run(counts.clone(), 0.0004, 3.6), (0.0, 3.6));
        assert_eq!(run(counts, 1.2, 2.94), (1.2, 2.94));
        assert_eq!(run(vec![0.0, 1.5, 2.0], 0.0004, 2.988), (0.0004, 2.988), "not all whole");
        assert_eq!(run(vec![1.0, 2.0, 3.0], 0.0004, 2.988), (0.0004, 2.988), "never zero");
    }

    #[test]
    fn only_very_long_histories_are_cut() {
        // Eight weeks of 1-minute steps; hourly data keeps 20,000 points (over two years);
        // a long horizon keeps ten of itself.
        assert_eq!(history_cap(60_000, 12), 8 * 7 * 24 * 60);
        assert_eq!(history_cap(3_600_000, 48), MIN_HISTORY_CAP);
        assert_eq!(history_cap(60_000, 20_000), 200_000);
        // A year of 1-minute data is fitted on its last eight weeks, and says so.
        let n = 100_000;
        let values = (0..n).map(|i| 50.0 + 10.0 * ((i % 1440) as f64 / 1440.0 * std::f64::consts::TAU).sin()).collect();
        let s = Series { name: "long".into(), labels: Default::default(), unit: Unit::Percent, start_ms: 0, step_ms: 60_000, values };
        let f = forecast(&s, &ForecastSettings { horizon: 12, folds: 0, ..ForecastSettings::default() }).unwrap();
        assert_eq!(f.start_ms, n as i64 * 60_000, "the forecast still starts after all history");
        assert!(f.warnings[0].to_string().contains("fitted on the last 8w of history (80640 of 100000 points)"), "{}", f.warnings[0]);
    }

    /// Empty slots at the end of an export are named with what filled them (on this daily
    /// cycle, the day before them); a single one (the scrape under way) is not.
    #[test]
    fn an_empty_tail_is_named() {
        let values = |tail: usize| -> Vec<f64> {
            (0..600)
                .map(|i| if i >= 600 - tail { f64::NAN } else { 10.0 + ((i % 288) as f64 / 288.0 * std::f64::consts::TAU).sin() })
                .collect()
        };
        let settings = ForecastSettings { horizon: 24, ..ForecastSettings::default() };
        let said = |tail: usize| {
            let s = Series {
                name: "x".into(),
                labels: Default::default(),
                unit: Unit::None,
                start_ms: 0,
                step_ms: 300_000,
                values: values(tail),
            };
            forecast(&s, &settings)
                .unwrap()
                .warnings
                .iter()
                .any(|w| w.message.contains("are empty: filled for fitting with the 1d before them, moved to the last level"))
        };
        assert!(said(12), "an hour empty at the end");
        assert!(!said(1), "one slot still being scraped");
    }

    #[test]
    fn huge_values_forecast_as_their_scaled_copy_does() {
        // Values near 1e301 overflowed the models' sums of squares (a panic inside stlrs);
        // they are fitted scaled by a power of two, which is exact, so the forecast of
        // x * 2^1000 is the forecast of x times 2^1000, bit for bit.
        let mut state = 7_u64;
        let values: Vec<f64> = (0..2000)
            .map(|i| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                0.7 + 0.1 * ((i % 288) as f64 / 288.0 * std::f64::consts::TAU).sin() + 0.1 * noise
            })
            .collect();
        let small = Series { name: "x".into(), labels: Default::default(), unit: Unit::None, start_ms: 0, step_ms: 300_000, values };
        let factor = 1000f64.exp2();
        let mut huge = small.clone();
        huge.values.iter_mut().for_each(|v| *v *= factor);
        let settings = ForecastSettings { horizon: 48, ..ForecastSettings::default() };
        let a = forecast(&small, &settings).unwrap();
        let b = forecast(&huge, &settings).unwrap();
        assert!(b.point.iter().all(|v| v.is_finite()));
        for (x, y) in a.point.iter().zip(&b.point) {
            assert_eq!(x * factor, *y);
        }
        for (p, q) in a.bands.iter().zip(&b.bands) {
            assert_eq!(p.upper.iter().map(|v| v * factor).collect::<Vec<_>>(), q.upper);
            assert_eq!(p.lower.iter().map(|v| v * factor).collect::<Vec<_>>(), q.lower);
        }
        assert_eq!(a.dependence.windows.len(), b.dependence.windows.len());
        assert_eq!(a.dependence.windows[0][0] * factor, b.dependence.windows[0][0]);
        assert_eq!(a.model, b.model);
    }
}
