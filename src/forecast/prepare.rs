//! Preparation of one stretch of history before fitting: seasonal periods (detected or
//! given) and incident outliers masked against a robust baseline. The backtest prepares
//! only the history before its first origin, the final fit all of it, so no window's
//! preparation has seen the future it is scored on.

use super::models::Spec;
use super::{ForecastSettings, Periods, robust, seasonality};
use crate::time::format_duration;
use crate::warning::Warning;

/// History made ready for fitting.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Seasonal periods, in steps.
    pub periods: Vec<usize>,
    /// Values to fit: complete, outliers replaced by the baseline.
    pub fit_values: Vec<f64>,
    /// Indices of the masked outliers.
    pub outliers: Vec<usize>,
    /// So many points looked extreme that none was masked.
    pub heavy_tailed: bool,
    /// The robust baseline (when `robust` is on).
    pub decomposition: Option<robust::Decomposition>,
}

/// Prepares `values` (complete: gaps interpolated) of a series stepped every `step_ms`.
/// Notes about periods go to `warnings`.
pub fn prepare(values: &[f64], step_ms: i64, settings: &ForecastSettings, name: &str, warnings: &mut Vec<Warning>) -> Prepared {
    let periods = choose_periods(values, step_ms, &settings.periods, name, warnings);
    let decomposition = settings.robust.then(|| robust::decompose(values, &periods));
    let masked = match &decomposition {
        Some(d) => robust::mask_outliers(values, d),
        None => robust::Masked { values: values.to_vec(), ..Default::default() },
    };
    Prepared { periods, fit_values: masked.values, outliers: masked.outliers, heavy_tailed: masked.heavy_tailed, decomposition }
}

/// `spec` with the periods of a longer history: all of them, or the shortest alone when
/// the spec used one period of several.
pub fn with_periods(spec: &Spec, periods: &[usize]) -> Spec {
    let periods = match (spec.periods.len(), periods.first()) {
        (0, _) => Vec::new(),
        (1, Some(first)) if periods.len() > 1 => vec![*first],
        _ => periods.to_vec(),
    };
    Spec { periods, ..spec.clone() }
}

fn choose_periods(values: &[f64], step_ms: i64, setting: &Periods, name: &str, warnings: &mut Vec<Warning>) -> Vec<usize> {
    match setting {
        Periods::Auto => {
            let found = seasonality::detect(values, step_ms);
            let day = seasonality::calendar_periods(step_ms).first().copied();
            if found.is_empty() && day.is_some_and(|d| values.len() < 2 * d) {
                warnings.push(Warning::new(
                    name,
                    format!("less than two days of history at {} steps: fitted without seasonality", format_duration(step_ms)),
                ));
            }
            found
        }
        Periods::Given(given) => {
            let (ok, dropped): (Vec<usize>, Vec<usize>) = given.iter().partition(|p| 2 * **p <= values.len());
            if !dropped.is_empty() {
                warnings.push(Warning::new(
                    name,
                    format!("periods {dropped:?} dropped: fewer than two full seasons of history ({} steps)", values.len()),
                ));
            }
            ok
        }
    }
}
