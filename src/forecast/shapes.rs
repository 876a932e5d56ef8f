//! Shapes of capacity data that ordinary models misread: a counter given where its rate
//! was meant (it only ever rises, with resets), and the sawtooth of a memory leak with
//! restarts (a steady rise, a drop back to a baseline, again).
//!
//! A counter is reported, not fixed: its forecast is of the counter itself, and the
//! warning says to forecast `rate()` instead. A sawtooth gets a model of its own: the
//! current cycle's leak continued, and a restart back to the baseline after the typical
//! cycle length, so that the forecast shows the peaks the service will reach (the
//! capacity question) instead of a decline fitted across a restart.

use super::models::RawForecast;

/// A drop counts as a reset when it falls this share of the series' range (5th to 95th
/// percentile) or more within [`RESET_STEPS`] steps.
const RESET_DROP: f64 = 0.3;
/// Steps a reset may take.
const RESET_STEPS: usize = 3;
/// Fewest steps between two resets: nearer drops are one reset.
const MIN_CYCLE: usize = 12;
/// A sawtooth's cycle must be this many times its longest season.
const SEASON_MARGIN: f64 = 1.5;
/// Most falls (of any size) a counter may have outside its resets, as a share of steps:
/// a counter never goes down except when it resets.
const COUNTER_FALLS: f64 = 0.01;
/// A counter's reset falls below this share of the value before it: it starts again from
/// zero, and has counted only one scrape's worth when next read.
const COUNTER_RESET_SHARE: f64 = 0.5;
/// Name endings of Prometheus counters (the naming rules: `_total`; a histogram's or
/// summary's `_count`, `_sum` and `_bucket`).
const COUNTER_SUFFIXES: [&str; 4] = ["_total", "_count", "_sum", "_bucket"];

/// Where the series drops back: the index of the first value after each reset.
pub fn resets(values: &[f64]) -> Vec<usize> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.len() < 2 * MIN_CYCLE {
        return Vec::new();
    }
    sorted.sort_by(f64::total_cmp);
    let pick = |p: f64| sorted[((p * (sorted.len() - 1) as f64).round() as usize).min(sorted.len() - 1)];
    let range = pick(0.95) - pick(0.05);
    if range.is_nan() || range <= 0.0 {
        return Vec::new();
    }
    let mut out: Vec<usize> = Vec::new();
    for i in 1..values.len() {
        let before = values[i.saturating_sub(RESET_STEPS)..i].iter().copied().filter(|v| v.is_finite()).fold(f64::NEG_INFINITY, f64::max);
        if values[i].is_finite() && before - values[i] >= RESET_DROP * range && out.last().is_none_or(|&last| i >= last + MIN_CYCLE) {
            out.push(i);
        }
    }
    out
}

/// The resets of a counter given by mistake: `Some(n)` when the series only rises except
/// at `n` resets (and rises overall), so its rate was probably meant. A reset is a fall to
/// less than [`COUNTER_RESET_SHARE`] of the value before it, as a counter falls when its
/// process restarts and counts again from zero.
///
/// A rise with no reset at all is a counter only when `name` says so (the Prometheus
/// naming rules: [`COUNTER_SUFFIXES`]): months of a volume filling, a database growing or
/// a queue's backlog piling up also only rise, and for those the runway to a limit is the
/// very question, not a rate. So is a fill with cleanups that free part of it (a fall to
/// 540 GiB from 600 GiB is not a reset).
pub fn counter_resets(values: &[f64], name: &str) -> Option<usize> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.len() < 2 * MIN_CYCLE || finite.iter().any(|v| *v < 0.0) {
        return None;
    }
    let reset_at: Vec<usize> = resets(&finite)
        .into_iter()
        .filter(|&r| {
            let before = finite[r.saturating_sub(RESET_STEPS)..r].iter().copied().fold(f64::NEG_INFINITY, f64::max);
            finite[r] < COUNTER_RESET_SHARE * before
        })
        .collect();
    let rises = finite.windows(2).filter(|w| w[1] > w[0]).count();
    let falls = finite
        .windows(2)
        .enumerate()
        .filter(|(i, w)| w[1] < w[0] && !reset_at.iter().any(|r| (*r..*r + RESET_STEPS).contains(&(i + 1))))
        .count();
    let steps = finite.len() - 1;
    let rising = rises * 2 > steps && (falls as f64) <= COUNTER_FALLS * steps as f64;
    (rising && (!reset_at.is_empty() || named_like_counter(name))).then_some(reset_at.len())
}

/// True when `name` (a metric name, labels and all) ends as Prometheus names counters:
/// `http_requests_total`, `…_count`, `…_sum`, `…_bucket`.
fn named_like_counter(name: &str) -> bool {
    let metric = name.split('{').next().unwrap_or(name).trim();
    COUNTER_SUFFIXES.iter().any(|s| metric.ends_with(s))
}

/// A leak-and-restart cycle read from history.
#[derive(Debug, Clone, PartialEq)]
pub struct Sawtooth {
    /// Where a cycle starts (the median of the values just after each reset).
    pub baseline: f64,
    /// Rise per step during a cycle (the median of the cycles' least-squares slopes).
    pub slope: f64,
    /// Typical cycle length in steps (the median of the completed cycles), if one completed.
    pub cycle: Option<usize>,
    /// The last reset's index.
    pub last_reset: usize,
}

/// The sawtooth of `values`, when it has at least two resets with a rise between them
/// that explains the drops (the leak over a cycle is at least half the typical drop), and
/// its cycles are longer than its seasons (`periods`): a daily rise and fall is a
/// season, which the seasonal models already repeat.
pub fn sawtooth(values: &[f64], periods: &[usize]) -> Option<Sawtooth> {
    let at = resets(values);
    if at.len() < 2 || counter_resets(values, "").is_some() {
        return None;
    }
    let fit = read_cycles(values, &at)?;
    let drops: Vec<f64> = at
        .iter()
        .map(|&i| values[i.saturating_sub(RESET_STEPS)..i].iter().copied().fold(f64::NEG_INFINITY, f64::max) - values[i])
        .collect();
    let drop = median(drops)?;
    let cycle = fit.cycle? as f64;
    let longest_season = periods.iter().copied().max().unwrap_or(0) as f64;
    (fit.slope > 0.0 && fit.slope * cycle >= 0.5 * drop && cycle > SEASON_MARGIN * longest_season).then_some(fit)
}

/// Baseline, slope and cycle length from the cycles between the resets `at`.
fn read_cycles(values: &[f64], at: &[usize]) -> Option<Sawtooth> {
    let &last_reset = at.last()?;
    let starts: Vec<f64> = at
        .iter()
        .filter_map(|&i| values.get(i..(i + RESET_STEPS).min(values.len())))
        .filter_map(|w| w.iter().copied().filter(|v| v.is_finite()).reduce(f64::min))
        .collect();
    let bounds: Vec<(usize, usize)> = at.windows(2).map(|w| (w[0], w[1])).chain(std::iter::once((last_reset, values.len()))).collect();
    let slopes: Vec<f64> = bounds.iter().filter(|(a, b)| b - a >= MIN_CYCLE).filter_map(|&(a, b)| slope(&values[a..b])).collect();
    let cycles: Vec<f64> = at.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
    Some(Sawtooth { baseline: median(starts)?, slope: median(slopes)?, cycle: median(cycles).map(|c| c.round() as usize), last_reset })
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// Least-squares slope per step of `y` (gaps skipped).
fn slope(y: &[f64]) -> Option<f64> {
    let pts: Vec<(f64, f64)> = y.iter().enumerate().filter(|(_, v)| v.is_finite()).map(|(i, v)| (i as f64, *v)).collect();
    if pts.len() < 3 {
        return None;
    }
    let n = pts.len() as f64;
    let (mx, my) = (pts.iter().map(|p| p.0).sum::<f64>() / n, pts.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// The sawtooth model: the current cycle's leak continued from the last value, a restart
/// to the baseline when the cycle reaches its typical length (counted from the last
/// reset; a restart already overdue is not assumed: the leak goes on), the daily (or
/// given) season of the cycles' residuals on top. Its own spread is the residuals'. With
/// no completed cycle in `y` (a window early in history), the leak since the last reset,
/// or over all of `y`, goes on without a restart.
///
/// # Errors
/// Fewer than three values.
pub fn forecast(y: &[f64], periods: &[usize], horizon: usize) -> Result<RawForecast, String> {
    let at = resets(y);
    let fit = match read_cycles(y, &at) {
        Some(fit) if fit.slope.is_finite() => fit,
        _ => {
            let from = at.last().copied().filter(|r| y.len() - r >= MIN_CYCLE).unwrap_or(0);
            let slope = slope(&y[from..]).ok_or("too little history for a leak")?;
            Sawtooth { baseline: y[from], slope, cycle: None, last_reset: from }
        }
    };
    let n = y.len();
    // The cycle's line through the current cycle's history, and the season around it.
    let current = &y[fit.last_reset..];
    let age_now = n - fit.last_reset;
    // The current cycle's intercept, from its latest values.
    let level_now = {
        let tail = &current[current.len().saturating_sub(MIN_CYCLE)..];
        let ages = (age_now - tail.len())..age_now;
        tail.iter().zip(ages).map(|(v, a)| v - fit.slope * a as f64).sum::<f64>() / tail.len().max(1) as f64
    };
    let residual: Vec<f64> = current.iter().enumerate().map(|(a, v)| v - level_now - fit.slope * a as f64).collect();
    let period = periods.first().copied().filter(|p| *p > 1 && 2 * p <= residual.len());
    let profile: Vec<f64> = match period {
        Some(p) => {
            let mut sum = vec![0.0; p];
            let mut count = vec![0usize; p];
            for (a, r) in residual.iter().enumerate() {
                let phase = (fit.last_reset + a) % p;
                sum[phase] += r;
                count[phase] += 1;
            }
            sum.iter().zip(&count).map(|(s, c)| if *c == 0 { 0.0 } else { s / *c as f64 }).collect()
        }
        None => Vec::new(),
    };
    let season = |i: usize| profile.get(i % profile.len().max(1)).copied().unwrap_or(0.0);
    let sd = {
        let r: Vec<f64> = residual.iter().enumerate().map(|(a, r)| r - season(fit.last_reset + a)).collect();
        (r.iter().map(|x| x * x).sum::<f64>() / r.len().max(1) as f64).sqrt()
    };
    let next_reset = fit.cycle.map(|c| fit.last_reset + c).filter(|r| *r >= n);
    let mut point = Vec::with_capacity(horizon);
    for h in 0..horizon {
        let i = n + h;
        let v = match next_reset {
            Some(r) if i >= r => {
                let cycle = fit.cycle.unwrap_or(usize::MAX).max(1);
                fit.baseline + fit.slope * ((i - r) % cycle) as f64
            }
            _ => level_now + fit.slope * (i - fit.last_reset) as f64,
        };
        point.push(v + season(i));
    }
    let sigma = (0..horizon).map(|h| sd * (1.0 + h as f64 / horizon.max(1) as f64)).collect::<Vec<_>>();
    Ok(RawForecast { sigma_lower: sigma.clone(), sigma_upper: sigma, point })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A leak of 1 per step from 100, restarted every 200 steps, with noise of 0 to 3 (mean
    /// 1.5) that often outweighs a step's rise.
    fn leak(n: usize) -> Vec<f64> {
        (0..n).map(|i| 100.0 + (i % 200) as f64 + ((i * 7919) % 7) as f64 * 0.5).collect()
    }

    #[test]
    fn a_sawtooth_is_read_and_continued_through_its_restart() {
        let y = leak(1050); // restarts at 200, 400, …, 1000: 50 steps into a cycle
        let s = sawtooth(&y, &[]).expect("a sawtooth");
        assert!(sawtooth(&y, &[200]).is_none(), "a cycle as long as a season is the season");
        assert_eq!(s.cycle, Some(200));
        assert_eq!(s.last_reset, 1000);
        assert!((s.slope - 1.0).abs() < 0.02 && (s.baseline - 100.0).abs() < 2.0, "{s:?}");
        let f = forecast(&y, &[], 300).unwrap();
        // The leak goes on (100 + 50 + the noise's mean 1.5 at the first step) to the cycle's
        // end at step 149 of the forecast, then restarts at the baseline and rises again.
        for (h, expect) in [(0, 151.5), (148, 299.5), (150, 101.5), (299, 250.5)] {
            assert!((f.point[h] - expect).abs() < 2.5, "step {h}: {} vs {expect}", f.point[h]);
        }
    }

    #[test]
    fn a_counter_is_told_from_a_sawtooth() {
        let counter: Vec<f64> = (0..1000).map(|i| (if i < 600 { i * 3 } else { (i - 600) * 3 }) as f64).collect();
        assert_eq!(counter_resets(&counter, "requests"), Some(1));
        assert!(sawtooth(&counter, &[]).is_none(), "a counter is not a leak");
        assert_eq!(counter_resets(&leak(1000), ""), None, "a noisy leak falls as often as it rises");
        let flat: Vec<f64> = (0..500).map(|i| 10.0 + (i % 3) as f64).collect();
        assert_eq!(counter_resets(&flat, ""), None);
        assert!(sawtooth(&flat, &[]).is_none());
    }

    /// Only-rising history is a counter when it resets to zero or is named as Prometheus
    /// names counters; a volume that fills, cleaned up now and then, is not.
    #[test]
    fn a_filling_volume_is_not_a_counter() {
        // 600 steps of fill at 3 a step from 300, a cleanup of a fifth every 200 steps.
        let mut level = 300.0;
        let disk: Vec<f64> = (0..600)
            .map(|i| {
                level = if i > 0 && i % 200 == 0 { level * 0.8 } else { level + 3.0 };
                level
            })
            .collect();
        assert_eq!(counter_resets(&disk, "db_disk_used_bytes"), None, "cleanups are not resets");
        let rising: Vec<f64> = (0..600).map(|i| 300.0 + 3.0 * i as f64).collect();
        assert_eq!(counter_resets(&rising, "db_disk_used_bytes"), None, "a fill with no reset");
        assert_eq!(counter_resets(&rising, "node_network_receive_bytes_total"), Some(0));
        assert_eq!(counter_resets(&rising, "http_request_duration_seconds_count{job=\"api\"}"), Some(0));
    }
}
