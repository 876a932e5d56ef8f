//! Stage 1, preparation: seasonal periods (detected or given), incident outliers masked
//! against a robust baseline, and the last level shift, each found in one stretch of
//! history only. The final fit prepares all history; the backtest prepares the history
//! before its first window and again before its first selection window ([`Stretch`]),
//! so no window's preparation has seen the future it is scored on.

use super::models::Spec;
use super::{ForecastSettings, Periods, backtest, robust, seasonality};
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
    /// The series' step, ms.
    pub step_ms: i64,
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
    Prepared { periods, fit_values: masked.values, outliers: masked.outliers, heavy_tailed: masked.heavy_tailed, decomposition, step_ms }
}

impl Prepared {
    /// Where the last level shift of this history starts, if it has one that leaves at
    /// least a training minimum after it.
    pub fn level_shift(&self) -> Option<usize> {
        let d = self.decomposition.as_ref()?;
        last_level_shift(&d.deseasonalised, &self.periods, self.step_ms)
    }

    /// The last level shift of this history with two blocks after it, and how far it moved
    /// the level ([`Shift`]).
    pub fn recent_shift(&self) -> Option<Shift> {
        let d = self.decomposition.as_ref()?;
        recent_shift(&d.deseasonalised, &self.periods, self.step_ms)
    }
}

/// A level shift and the level on either side of it (medians of the deseasonalised
/// series): the history before it can be moved to the level after it, so that a model
/// fits every season of the history at today's level. Fitting only after a shift needs two
/// seasons after it (two weeks for a weekly season) and windows that start after them;
/// levelling needs two blocks (days), so a launch a fortnight ago already counts, and
/// windows starting two days after it show what levelling is worth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shift {
    /// Where the new level starts.
    pub at: usize,
    /// The level before it.
    pub before: f64,
    /// The level after it.
    pub after: f64,
}

impl Shift {
    /// `values` (history from index 0) with the part before the shift moved to the level
    /// after it: by the difference, or for a fit on the log scale by the ratio (a launch
    /// that brings 35 % more traffic brings it at the peaks and the troughs alike).
    pub fn adjust(&self, values: &[f64], log: bool) -> Vec<f64> {
        let ratio = self.after / self.before;
        let by_ratio = log && self.before > 0.0 && self.after > 0.0 && ratio.is_finite();
        if log && !by_ratio {
            // A level at or below zero has no ratio, and moving by the difference would
            // leave values a log scale cannot take: the history stays as it was.
            return values.to_vec();
        }
        let delta = self.after - self.before;
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if i >= self.at {
                    *v
                } else if by_ratio {
                    v * ratio
                } else {
                    v + delta
                }
            })
            .collect()
    }
}

/// The last level shift of `deseasonalised` with [`LEVELLING_BLOCKS`] blocks after it,
/// and the levels either side: after it, the median of all that follows; before it, the
/// median of as long a stretch, at least the longest season (so a week's shape averages
/// out).
fn recent_shift(deseasonalised: &[f64], periods: &[usize], step_ms: i64) -> Option<Shift> {
    let block = shift_block(periods, step_ms, deseasonalised.len());
    step_with_levels(deseasonalised, periods, block, LEVELLING_BLOCKS * block)
        .filter(|s| s.before.is_finite() && s.after.is_finite() && s.before != s.after)
}

/// The last level shift of `deseasonalised` with `min_after` points after it, when it is a
/// step ([`is_step`]), with the levels either side: after it, the median of all that
/// follows; before it, the median of as long a stretch, at least the longest season (so a
/// week's shape averages out).
fn step_with_levels(deseasonalised: &[f64], periods: &[usize], block: usize, min_after: usize) -> Option<Shift> {
    let at = robust::last_level_shift(deseasonalised, block, min_after)?;
    let longest = periods.iter().copied().max().unwrap_or(block).max(block);
    let span = (deseasonalised.len() - at).max(longest);
    let (before, _) = robust::median_mad(&deseasonalised[at.saturating_sub(span)..at]);
    let (after, _) = robust::median_mad(&deseasonalised[at..]);
    is_step(deseasonalised, at, block, after - before).then_some(Shift { at, before, after })
}

/// Share of a level shift that the blocks either side of it must show between them for it
/// to be a step rather than a ramp.
const STEP_SHARE: f64 = 0.5;

/// The last level shift of `deseasonalised` that at least a block and a training minimum
/// follow: a shift with less after it is not yet told from a burst (on a CloudWatch CPU
/// series, a cluster of spikes two hours before the end read as a shift, and the forecast
/// fitted on those two hours stood at twice the level the next two days had).
fn last_level_shift(deseasonalised: &[f64], periods: &[usize], step_ms: i64) -> Option<usize> {
    let block = shift_block(periods, step_ms, deseasonalised.len());
    step_with_levels(deseasonalised, periods, block, backtest::min_train(periods).max(block)).map(|s| s.at)
}

/// True when the change of `shift` at `at` is a step, not a ramp: the blocks either side
/// of it (one block apart from it on each side, as the detector places a step within a
/// block of where it came) differ by [`STEP_SHARE`] of it or more. Steady growth also
/// moves the median of what follows from that of what went before; levelling it, or
/// fitting only after it, took the growth away and the forecast fell flat.
fn is_step(deseasonalised: &[f64], at: usize, block: usize, shift: f64) -> bool {
    let n = deseasonalised.len();
    if (at + block).min(n) >= (at + 2 * block).min(n) || at < 2 * block {
        return false; // no whole block on a side to judge by
    }
    let median = |r: std::ops::Range<usize>| robust::median_mad(&deseasonalised[r]).0;
    let jump = median((at + block).min(n)..(at + 2 * block).min(n)) - median(at.saturating_sub(2 * block)..at.saturating_sub(block));
    jump.abs() >= STEP_SHARE * shift.abs()
}

/// Block length of the level-shift search: one season (block means hide the seasons), or
/// without seasons a day of steps, at least [`SHIFT_BLOCK`] and at most a twelfth of the
/// history (so that a short history still has blocks to compare).
fn shift_block(periods: &[usize], step_ms: i64, len: usize) -> usize {
    if let Some(p) = periods.first() {
        return (*p).max(1);
    }
    let day = usize::try_from(crate::time::DAY_MS / step_ms.max(1)).unwrap_or(usize::MAX);
    day.min(len / 12).max(SHIFT_BLOCK)
}

/// Fewest steps in a block of the level-shift search on a series without seasons: a day
/// of hourly data.
const SHIFT_BLOCK: usize = 24;

/// Blocks (days, at 5-minute or hourly steps) a level shift needs after it before the
/// history is levelled to it: one block's median can still be a burst's.
const LEVELLING_BLOCKS: usize = 2;

/// History prepared at one point in time, for the backtest windows whose origins follow
/// it: before `prepared_to` the values are prepared (outliers masked), after it they are
/// as observed (gaps interpolated). Each window fits on `values[..origin]` and finds its
/// level shift in the history before its own origin, so nothing a window is scored on
/// ever shaped its preparation.
#[derive(Debug, Clone)]
pub struct Stretch {
    /// Index up to which the history was prepared.
    pub prepared_to: usize,
    /// The periods found in the prepared history.
    pub periods: Vec<usize>,
    /// The whole series: prepared before `prepared_to`, as observed after it.
    pub values: Vec<f64>,
    /// The series without its seasons: the decomposition's before `prepared_to`, then
    /// the observed values less the last prepared cycle of seasons repeated (what a
    /// forecaster standing at `prepared_to` would subtract). `None` without `robust`.
    deseasonalised: Option<Vec<f64>>,
    /// The series' step, ms.
    step_ms: i64,
}

impl Stretch {
    /// Prepares `values[..at]` and carries the rest as observed.
    pub fn new(values: &[f64], at: usize, step_ms: i64, settings: &ForecastSettings) -> Stretch {
        let at = at.min(values.len());
        let prepared = prepare(&values[..at], step_ms, settings, "", &mut Vec::new());
        let mut all = prepared.fit_values.clone();
        all.extend_from_slice(&values[at..]);
        let deseasonalised = prepared.decomposition.as_ref().map(|d| {
            let mut out = d.deseasonalised.clone();
            // The seasonal part is value − deseasonalised; repeat its last full cycle.
            let cycle = prepared.periods.iter().copied().max().unwrap_or(0);
            let seasonal = |i: usize| -> f64 {
                if cycle == 0 || cycle > at {
                    return 0.0;
                }
                let back = i - at;
                let j = at - cycle + back % cycle;
                values.get(j).copied().unwrap_or(0.0) - d.deseasonalised.get(j).copied().unwrap_or(0.0)
            };
            out.extend((at..values.len()).map(|i| values[i] - seasonal(i)));
            out
        });
        Stretch { prepared_to: at, periods: prepared.periods, values: all, deseasonalised, step_ms }
    }

    /// Where the last level shift in the history before `origin` starts, found in that
    /// history alone.
    pub fn level_shift_before(&self, origin: usize) -> Option<usize> {
        let d = self.deseasonalised.as_ref()?;
        last_level_shift(&d[..origin.min(d.len())], &self.periods, self.step_ms)
    }

    /// The last level shift before `origin` with two blocks after it ([`Shift`]), found in
    /// that history alone.
    pub fn recent_shift_before(&self, origin: usize) -> Option<Shift> {
        let d = self.deseasonalised.as_ref()?;
        recent_shift(&d[..origin.min(d.len())], &self.periods, self.step_ms)
    }
}

/// `spec` with the periods of another stretch of history: all of them, or the shortest
/// alone when the spec used one period of several. A spec keeps its own periods when the
/// other stretch found none (its backtest showed them).
pub fn with_periods(spec: &Spec, periods: &[usize]) -> Spec {
    let periods = match (spec.periods.len(), periods.first()) {
        (0, _) => Vec::new(),
        (_, None) => spec.periods.clone(),
        (1, Some(first)) => vec![*first],
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
            let (ok, dropped): (Vec<usize>, Vec<usize>) = given.iter().partition(|p| p.saturating_mul(2) <= values.len());
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A straight rise is no step: levelling it would take the growth away.
    #[test]
    fn a_ramp_is_not_levelled() {
        let values: Vec<f64> = (0..2000).map(|i| 10.0 + 0.02 * i as f64 + ((i * 7919) % 13) as f64 * 0.05).collect();
        let a = Stretch::new(&values, 2000, 3_600_000, &ForecastSettings::default());
        assert_eq!(a.recent_shift_before(2000), None);
    }

    #[test]
    fn a_stretch_never_looks_past_its_preparation_point() {
        let values: Vec<f64> = (0..2000)
            .map(|i| 10.0 + ((i % 24) as f64).sin() + ((i * 7919) % 13) as f64 * 0.05 + if i > 1500 { 30.0 } else { 0.0 })
            .collect();
        let settings = ForecastSettings::default();
        let a = Stretch::new(&values, 1000, 3_600_000, &settings);
        let mut changed = values.clone();
        for v in &mut changed[1000..] {
            *v += 500.0;
        }
        let b = Stretch::new(&changed, 1000, 3_600_000, &settings);
        assert_eq!(a.values[..1000], b.values[..1000], "preparation saw only the first 1000 points");
        assert_eq!(a.periods, b.periods);
        // The shift at 1500 is found from origins after it, never before.
        assert_eq!(a.level_shift_before(1400), None);
        assert_eq!(a.recent_shift_before(1000), b.recent_shift_before(1000), "levelling sees no future either");
        assert_eq!(a.recent_shift_before(1400), None);
        let levelled = a.recent_shift_before(2000).expect("the shift at 1500, levelled");
        assert!((levelled.after - levelled.before - 30.0).abs() < 3.0, "{levelled:?}");
        let found = a.level_shift_before(2000).expect("the shift at 1500");
        assert!((1440..=1560).contains(&found), "{found}");
    }

    #[test]
    fn a_shift_needs_a_day_after_it_on_five_minute_data() {
        // Twelve days of flat 5-minute noise around 10. A rise to 30 in the last two hours
        // is not yet a level shift (it could be a burst); the same rise a day and a half
        // before the end is one, found within a block (a day) of where it began.
        let noise = |i: usize| {
            let x = (i as u64).wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) >> 11;
            10.0 + (x as f64 / (1u64 << 53) as f64 - 0.5)
        };
        let n = 12 * 288;
        let settings = ForecastSettings { periods: Periods::Given(Vec::new()), ..ForecastSettings::default() };
        let late: Vec<f64> = (0..n).map(|i| noise(i) + if i >= n - 24 { 20.0 } else { 0.0 }).collect();
        let p = prepare(&late, 300_000, &settings, "late", &mut Vec::new());
        assert_eq!(p.level_shift(), None, "two hours after a rise is not a shift yet");
        let at = n - 432;
        let earlier: Vec<f64> = (0..n).map(|i| noise(i) + if i >= at { 20.0 } else { 0.0 }).collect();
        let p = prepare(&earlier, 300_000, &settings, "earlier", &mut Vec::new());
        let found = p.level_shift().expect("a day and a half after it");
        assert!(found <= at && found > at - 288, "the block the rise began in: {found} vs {at}");
    }

    #[test]
    fn a_return_to_the_baseline_after_a_plateau_is_the_last_shift() {
        // Hourly: 10 for 40 days, 30 for 14 days, back to 10 for 6 days. The last shift is
        // the return (at 54 × 24 = 1296), judged against the plateau before it, not
        // against all history (whose median is the old baseline too).
        let noise = |i: usize| {
            let x = (i as u64).wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) >> 11;
            x as f64 / (1u64 << 53) as f64 - 0.5
        };
        let values: Vec<f64> = (0..60 * 24).map(|i| noise(i) + if (960..1296).contains(&i) { 30.0 } else { 10.0 }).collect();
        let settings = ForecastSettings { periods: Periods::Given(Vec::new()), ..ForecastSettings::default() };
        let p = prepare(&values, 3_600_000, &settings, "plateau", &mut Vec::new());
        let found = p.level_shift().expect("the return");
        assert!(found <= 1296 && found > 1296 - 24, "{found}");
    }
}
