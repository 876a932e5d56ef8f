//! Seasonal period detection, snapped to the calendar.
//!
//! augurs' periodogram is imprecise at the lengths capacity data has (30 days at 5
//! minutes gave 2047, 273 and 292 for a true 2016 and 288), so detected peaks are
//! snapped to the calendar periods the step allows: one day and one week (a year on
//! calendar months). A day is kept
//! when the periodogram peaks near it or a daily profile explains enough of the
//! detrended series; a week when a weekly profile explains clearly more than the daily
//! one (adjusted R², so two weeks of history cannot fake it). Each needs two full seasons.
//! Profiles are measured on the series averaged over an hour ([`PHASE_JITTER_MS`]): a
//! daily job or peak whose time wanders by a few 5-minute steps is still a day's season.

use crate::time::{DAY_MS, WEEK_MS};
use augurs::seasons::{Detector, PeriodogramDetector};

/// A year of calendar months: the season of monthly values.
const MONTHS_IN_YEAR: usize = 12;

/// How close (relative) a periodogram peak must be to a calendar period to snap to it.
const SNAP_TOLERANCE: f64 = 0.15;
/// Share of the detrended variance a profile must explain (adjusted R²).
const MIN_STRENGTH: f64 = 0.2;
/// How much more a weekly profile must explain than the daily one (adjusted R²).
const WEEKLY_GAIN: f64 = 0.05;
/// How far a daily feature may wander in time and still count as the same phase: an
/// hour. A cron job or a nightly batch at 5-minute steps lands a few steps early or late
/// each day; phase by phase its spike then misses its own profile and a CPU series that
/// spikes every day at about 02:30 showed no season at all (adjusted R² 0.02, against
/// 0.54 averaged over an hour). Averaging over an hour costs nothing where there is no
/// season: days stay independent, so a profile of noise still explains nothing. At
/// hourly steps and longer it changes nothing.
const PHASE_JITTER_MS: i64 = crate::time::HOUR_MS;

/// The calendar periods (day, week) expressed in steps of `step_ms`, when the step
/// divides them and they are at least two steps long; on calendar months or quarters,
/// the year.
pub fn calendar_periods(step_ms: i64) -> Vec<usize> {
    if let Some(months) = crate::time::months_per_step(step_ms) {
        let per_year = MONTHS_IN_YEAR / usize::try_from(months).unwrap_or(MONTHS_IN_YEAR);
        return if per_year >= 2 { vec![per_year] } else { Vec::new() };
    }
    [DAY_MS, WEEK_MS].into_iter().filter(|p| step_ms > 0 && p % step_ms == 0 && p / step_ms >= 2).map(|p| (p / step_ms) as usize).collect()
}

/// Detects the seasonal periods of `values` (complete, no NaN) sampled every `step_ms`.
pub fn detect(values: &[f64], step_ms: i64) -> Vec<usize> {
    let candidates: Vec<usize> = calendar_periods(step_ms).into_iter().filter(|p| 2 * p <= values.len()).collect();
    let Some(&longest) = candidates.last() else {
        return Vec::new();
    };
    let max_period = ((longest as f64 * (1.0 + SNAP_TOLERANCE)) as usize).min(values.len() / 2).max(4);
    let peaks = PeriodogramDetector::builder().min_period(2).max_period(max_period as u32).build().detect(values);
    let near_peak = |p: usize| peaks.iter().any(|&q| ((q as f64) - p as f64).abs() <= SNAP_TOLERANCE * p as f64);
    let mut out = Vec::new();
    let day = candidates.first().copied();
    for &p in &candidates {
        let residual = phase_residual(values, step_ms, p);
        let strength = profile_strength(&residual, p);
        let keep = match day {
            Some(d) if d != p => strength > MIN_STRENGTH && strength > profile_strength(&residual, d) + WEEKLY_GAIN,
            _ => near_peak(p) || strength > MIN_STRENGTH,
        };
        if keep {
            out.push(p);
        }
    }
    out
}

/// True when a profile of period `p` explains more than [`MIN_STRENGTH`] of `values`
/// (detrended and averaged over [`PHASE_JITTER_MS`], as [`detect`] measures it): a season
/// the data shows, not only a periodogram peak near the calendar's day, which noise and
/// slow wander of a few days' history also give.
pub fn strong(values: &[f64], step_ms: i64, p: usize) -> bool {
    strength(values, step_ms, p) > MIN_STRENGTH
}

/// The share of `values` a profile of period `p` explains (adjusted R², detrended and
/// averaged over [`PHASE_JITTER_MS`], as [`detect`] measures it).
pub fn strength(values: &[f64], step_ms: i64, p: usize) -> f64 {
    profile_strength(&phase_residual(values, step_ms, p), p)
}

/// The [`strength`] a season the history holds only about twice must show before the
/// backtest lays out windows for it alone (`backtest::held_once`). Each phase's mean is
/// then of two values, and wander of a day or two, averaged over an hour, fits them: on
/// 2 to 2.5 days of an AR(1) whose correlation time is two days, 21 of 50 histories
/// passed [`MIN_STRENGTH`] and 3 passed this; of a random walk 12 of 48 and 1; of noise
/// 4 of 50 and none. Daily sines, cron spikes and a daily cycle whose amplitude trebles
/// on the second day measure 0.5 to 0.99.
pub const HELD_ONCE_STRENGTH: f64 = 0.5;

/// `values` detrended over `p` and averaged over [`PHASE_JITTER_MS`]: what a profile of
/// period `p` is measured on.
fn phase_residual(values: &[f64], step_ms: i64, p: usize) -> Vec<f64> {
    let jitter = usize::try_from(PHASE_JITTER_MS / step_ms.max(1)).unwrap_or(1).max(1);
    moving_average(&detrend(values, p), jitter)
}

/// Adjusted R² of a profile model: each phase `i % period` predicted by its mean.
pub fn profile_strength(values: &[f64], period: usize) -> f64 {
    let n = values.len();
    if period == 0 || n <= period + 1 {
        return 0.0;
    }
    let mut sum = vec![0.0; period];
    let mut count = vec![0usize; period];
    for (i, v) in values.iter().enumerate() {
        sum[i % period] += v;
        count[i % period] += 1;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let sst: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    if sst <= 0.0 {
        return 0.0;
    }
    let sse: f64 = values.iter().enumerate().map(|(i, v)| (v - sum[i % period] / count[i % period] as f64).powi(2)).sum();
    1.0 - (sse / (n - period) as f64) / (sst / (n - 1) as f64)
}

/// The series minus its centred moving average over `window` (removes trend, keeps
/// seasons of that length and shorter).
fn detrend(values: &[f64], window: usize) -> Vec<f64> {
    values.iter().zip(moving_average(values, window)).map(|(v, m)| v - m).collect()
}

/// The centred moving average over `window` steps (shorter at the ends); the values
/// themselves for a window of one.
fn moving_average(values: &[f64], window: usize) -> Vec<f64> {
    let n = values.len();
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0);
    let mut acc = 0.0;
    for v in values {
        acc += v;
        prefix.push(acc);
    }
    let half = window / 2;
    (0..n)
        .map(|i| {
            let lo = i.saturating_sub(half);
            let hi = (i + half + 1).min(n);
            (prefix[hi] - prefix[lo]) / (hi - lo) as f64
        })
        .collect()
}

/// Sample autocorrelation at `lag` (the biased estimator, as the ACF test uses it).
pub fn autocorrelation(values: &[f64], lag: usize) -> f64 {
    let n = values.len();
    if lag >= n {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let var: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    if var <= 0.0 {
        return 0.0;
    }
    let cov: f64 = (lag..n).map(|i| (values[i] - mean) * (values[i - lag] - mean)).sum();
    cov / var
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MINUTE_MS;

    fn synth(days: usize, weekly: bool) -> Vec<f64> {
        let n = days * 288;
        (0..n)
            .map(|i| {
                let d = (i as f64 / 288.0) * std::f64::consts::TAU;
                let w = if weekly && (i / 288) % 7 >= 5 { -20.0 } else { 0.0 };
                50.0 + 10.0 * d.sin() + w + 0.01 * i as f64 + ((i * 7919) % 13) as f64 * 0.3
            })
            .collect()
    }

    #[test]
    fn finds_day_and_week() {
        assert_eq!(detect(&synth(30, true), 5 * MINUTE_MS), vec![288, 2016]);
    }

    #[test]
    fn daily_only_series_has_no_week() {
        assert_eq!(detect(&synth(30, false), 5 * MINUTE_MS), vec![288]);
    }

    /// A flat 5-minute series with one five-minute spike a day whose time wanders by up
    /// to 40 minutes (a nightly job, the shape of a real near-idle EC2 CPU): a day's
    /// season, though phase by phase the spikes rarely meet.
    #[test]
    fn a_daily_spike_that_wanders_is_a_season() {
        let wander = |day: usize| ((day * 7919) % 17) as isize - 8;
        let values: Vec<f64> = (0..12 * 288)
            .map(|i| {
                let at = 150 + wander(i / 288);
                let phase = (i % 288) as isize;
                // The baseline ticks between two levels, as a near-idle CPU's does.
                let tick = if (i * 104_729) % 5 == 0 { 0.06 } else { 0.0 };
                if phase == at { 1.4 } else { 0.07 + tick }
            })
            .collect();
        assert_eq!(detect(&values, 5 * MINUTE_MS), vec![288]);
    }

    /// Noise with no season stays without one after the hour's averaging.
    #[test]
    fn noise_has_no_season() {
        let values: Vec<f64> = (0..12 * 288)
            .map(|i| {
                let x = (i as u64).wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) >> 11;
                10.0 + (x as f64 / (1u64 << 53) as f64 - 0.5)
            })
            .collect();
        assert_eq!(detect(&values, 5 * MINUTE_MS), Vec::<usize>::new());
    }

    #[test]
    fn short_history_has_no_week() {
        assert_eq!(detect(&synth(5, true), 5 * MINUTE_MS), vec![288]);
    }
}
