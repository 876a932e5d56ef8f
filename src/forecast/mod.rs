//! Seasonal forecasts with prediction intervals.
//!
//! v1 model: augurs' MSTL decomposition with an AutoETS trend model, over seasonal
//! periods that are either given or detected ([`seasonality`]). Series too short for two
//! full seasons fall back to non-seasonal AutoETS. Intervals come from the model's
//! error variance at each step and can be had at any set of levels.
//!
//! augurs sees only `&[f64]`: gaps are interpolated before fitting and reported.

pub mod seasonality;
mod stats;

pub use stats::{normal_cdf, normal_quantile};

use crate::error::{Error, Result};
use crate::series::{Series, Unit};
use crate::time::format_duration;
use crate::warning::Warning;
use augurs::ets::AutoETS;
use augurs::mstl::MSTLModel;
use augurs::{Fit, Predict};
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

/// What to forecast and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastSettings {
    /// Steps to forecast past the end of history.
    pub horizon: usize,
    /// Interval levels in percent, in the order they are reported (e.g. 80, 95).
    pub levels: Vec<f64>,
    /// Seasonal periods.
    pub periods: Periods,
}

impl Default for ForecastSettings {
    fn default() -> Self {
        ForecastSettings { horizon: 288, levels: vec![80.0, 95.0], periods: Periods::Auto }
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
    /// What was repaired or assumed while fitting.
    pub warnings: Vec<Warning>,
}

impl Forecast {
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

/// Point forecast plus the spread of the model's error per step, below and above.
struct RawForecast {
    point: Vec<f64>,
    sigma_lower: Vec<f64>,
    sigma_upper: Vec<f64>,
}

/// The level at which we ask augurs for intervals; others are derived from its spread.
const REFERENCE_LEVEL: f64 = 0.95;

/// Fewest present values a series must have to be forecast.
pub const MIN_POINTS: usize = 8;

/// Forecasts `series` over `settings.horizon` steps.
///
/// # Errors
/// Invalid settings, too little data, or a model that fails to fit, naming the series.
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
    let periods = match &settings.periods {
        Periods::Auto => seasonality::detect(&values, series.step_ms),
        Periods::Given(given) => {
            let (ok, dropped): (Vec<usize>, Vec<usize>) = given.iter().partition(|p| 2 * **p <= values.len());
            if !dropped.is_empty() {
                warnings.push(Warning::new(
                    &name,
                    format!("periods {dropped:?} dropped: fewer than two full seasons of history ({} steps)", values.len()),
                ));
            }
            ok
        }
    };
    let (raw, model) = if periods.is_empty() {
        if matches!(settings.periods, Periods::Auto)
            && values.len() < 2 * seasonality::calendar_periods(series.step_ms).first().copied().unwrap_or(usize::MAX)
        {
            warnings.push(Warning::new(
                &name,
                format!("less than two days of history at {} steps: fitted without seasonality", format_duration(series.step_ms)),
            ));
        }
        (fit_ets(&values, settings.horizon).map_err(|m| Error::series(&name, m))?, "AutoETS".to_string())
    } else {
        let raw = fit_mstl(&values, &periods, settings.horizon).map_err(|m| Error::series(&name, m))?;
        let list: Vec<String> = periods.iter().map(|p| p.to_string()).collect();
        (raw, format!("MSTL({}) + AutoETS", list.join(", ")))
    };
    let bounds = Bounds::for_series(series);
    let mut point = raw.point.clone();
    point.iter_mut().for_each(|v| *v = bounds.clamp(*v));
    let bands = settings
        .levels
        .iter()
        .map(|&level| {
            let z = normal_quantile(0.5 + level / 200.0);
            let lower = raw.point.iter().zip(&raw.sigma_lower).zip(&point).map(|((p, s), c)| bounds.clamp(p - z * s).min(*c)).collect();
            let upper = raw.point.iter().zip(&raw.sigma_upper).zip(&point).map(|((p, s), c)| bounds.clamp(p + z * s).max(*c)).collect();
            Band { level, lower, upper }
        })
        .collect();
    Ok(Forecast {
        series: name,
        start_ms: series.end_ms() + series.step_ms,
        step_ms: series.step_ms,
        point,
        bands,
        model,
        periods,
        warnings,
    })
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
        let upper = if series.unit == Unit::Percent && max <= 100.0 { 100.0 } else { f64::INFINITY };
        Bounds { lower, upper }
    }

    fn clamp(self, v: f64) -> f64 {
        v.clamp(self.lower, self.upper)
    }
}

fn spread(point: &[f64], lower: &[f64], upper: &[f64]) -> RawForecast {
    let z = normal_quantile(0.5 + REFERENCE_LEVEL / 2.0);
    let nonneg = |v: f64| if v.is_finite() { v.max(0.0) } else { 0.0 };
    RawForecast {
        point: point.to_vec(),
        sigma_lower: point.iter().zip(lower).map(|(p, l)| nonneg((p - l) / z)).collect(),
        sigma_upper: point.iter().zip(upper).map(|(p, u)| nonneg((u - p) / z)).collect(),
    }
}

fn fit_mstl(values: &[f64], periods: &[usize], horizon: usize) -> Result<RawForecast, String> {
    let trend = AutoETS::non_seasonal().into_trend_model();
    let model = MSTLModel::new(periods.to_vec(), trend);
    let fitted = model.fit(values).map_err(|e| format!("MSTL fit failed: {e}"))?;
    let f = fitted.predict(horizon, REFERENCE_LEVEL).map_err(|e| format!("MSTL prediction failed: {e}"))?;
    let iv = f.intervals.ok_or("MSTL returned no intervals")?;
    Ok(spread(&f.point, &iv.lower, &iv.upper))
}

fn fit_ets(values: &[f64], horizon: usize) -> Result<RawForecast, String> {
    let fitted = AutoETS::non_seasonal().fit(values).map_err(|e| format!("AutoETS fit failed: {e}"))?;
    let f = fitted.predict(horizon, REFERENCE_LEVEL).map_err(|e| format!("AutoETS prediction failed: {e}"))?;
    let iv = f.intervals.ok_or("AutoETS returned no intervals")?;
    Ok(spread(&f.point, &iv.lower, &iv.upper))
}
