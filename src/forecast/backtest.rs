//! Rolling-origin backtests, model scores and conformal calibration of the bands.
//!
//! The last `folds × fold_len` steps of history are cut into `folds` windows. For each
//! window a model is fitted on everything before it and scored on it: MASE, sMAPE,
//! interval coverage per level and MSIS. The windows' errors, divided by the model's own
//! sigma at each step, are the conformity scores from which each level's band is
//! rescaled so that it covers what it promises (per horizon bucket when there are
//! enough scores). Nothing after a fold's origin is ever seen by its fit.

use super::metrics;
use super::models::{RawForecast, Spec, fit_predict};
use super::normal_quantile;
use serde::{Deserialize, Serialize};

/// Where the backtest windows lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Number of windows.
    pub folds: usize,
    /// Steps per window (the horizon, or less when history is short).
    pub fold_len: usize,
    /// Index of the first window's first step.
    pub first_origin: usize,
    /// Steps between consecutive origins (windows overlap when it is below `fold_len`;
    /// 0 in plan files written before strides meant `fold_len`).
    #[serde(default)]
    pub stride: usize,
}

impl Plan {
    /// Steps between origins.
    pub fn stride(&self) -> usize {
        if self.stride == 0 { self.fold_len } else { self.stride }
    }

    /// The origin (first forecast index) of each window, oldest first.
    pub fn origins(&self) -> impl Iterator<Item = usize> + '_ {
        let stride = self.stride();
        (0..self.folds).map(move |f| self.first_origin + f * stride)
    }

    /// The plan split into its earlier windows (`None` when there are none) and its
    /// latest `n`.
    pub fn split_latest(&self, n: usize) -> (Option<Plan>, Plan) {
        let n = n.clamp(1, self.folds.max(1));
        let earlier = self.folds.saturating_sub(n);
        let latest =
            Plan { folds: self.folds - earlier, first_origin: self.first_origin + earlier * self.stride(), stride: self.stride(), ..*self };
        let head = (earlier > 0).then_some(Plan { folds: earlier, stride: self.stride(), ..*self });
        (head, latest)
    }

    /// The windows wholly observed before window `k` starts: the only ones a choice made
    /// at window `k`'s origin may look at.
    pub fn before(&self, k: usize) -> std::ops::Range<usize> {
        let stride = self.stride().max(1);
        // Window j ends at origin_j + fold_len ≤ origin_k  ⇔  (k - j)·stride ≥ fold_len.
        let gap = self.fold_len.div_ceil(stride);
        0..k.saturating_sub(gap - 1).min(k)
    }
}

/// Fewest training points a fold may have.
pub fn min_train(periods: &[usize]) -> usize {
    periods.iter().map(|p| 2 * p + 1).max().unwrap_or(0).max(MIN_TRAIN_POINTS)
}

/// Fewest training points of any fold, whatever the seasons: a day of hourly data.
const MIN_TRAIN_POINTS: usize = 24;

/// Lays out `folds` windows at the end of `n` points, each `horizon` long when history
/// allows, else shorter. Consecutive origins are one season apart (the shortest
/// period), or a window apart when that is shorter or there is no season: many origins
/// over the recent past, each scored on a full horizon. `None` when not even one-step
/// windows fit.
pub fn plan(n: usize, horizon: usize, folds: usize, periods: &[usize]) -> Option<Plan> {
    if folds == 0 {
        return None;
    }
    // Seasons longer than the data can hold do not count against the training minimum.
    let usable: Vec<usize> = periods.iter().copied().filter(|p| 2 * p < n / 2).collect();
    let available = n.checked_sub(min_train(&usable))?;
    let season = usable.iter().copied().min().unwrap_or(usize::MAX);
    // The span of W windows of length L, S apart: L + (W - 1)·S. Shrink L until it fits.
    let span = |len: usize| len + (folds - 1) * len.min(season).max(1);
    let mut fold_len = horizon.min(available);
    while fold_len > 0 && span(fold_len) > available {
        fold_len = (fold_len * 9 / 10).min(fold_len - 1);
    }
    if fold_len == 0 {
        return None;
    }
    let stride = fold_len.min(season).max(1);
    Some(Plan { folds, fold_len, first_origin: n - span(fold_len), stride })
}

/// One window's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Fold {
    /// Index of the first forecast step.
    pub origin: usize,
    /// What the model said.
    pub forecast: RawForecast,
    /// What happened (`NaN` where the series had a gap).
    pub actual: Vec<f64>,
    /// The MASE scale of the training part.
    pub scale: f64,
}

/// How a fit is transformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Variant {
    /// Fit on the natural log and transform back.
    pub log: bool,
    /// Ignore history before this index (a level shift).
    pub start: usize,
}

/// Fits `spec` on `fit_values[variant.start..origin]` for every window and keeps the
/// results. `actual` holds the observed values (with `NaN` gaps) for scoring.
///
/// # Errors
/// The model fails on a window.
pub fn run(spec: &Spec, fit_values: &[f64], actual: &[f64], plan: &Plan, variant: Variant, season: usize) -> Result<Vec<Fold>, String> {
    plan.origins()
        .map(|origin| {
            let train = &fit_values[variant.start.min(origin)..origin];
            // A gap that runs into the origin was interpolated towards a value after it:
            // carry the last observed value forward instead, so the fit sees no future.
            let last_seen = actual[..origin].iter().rposition(|v| !v.is_nan());
            let repaired: Vec<f64>;
            let train = match last_seen {
                Some(i) if i + 1 < origin && i >= variant.start.min(origin) => {
                    let keep = i + 1 - variant.start.min(origin);
                    repaired = train[..keep].iter().copied().chain(std::iter::repeat_n(train[keep - 1], train.len() - keep)).collect();
                    &repaired[..]
                }
                _ => train,
            };
            let forecast = fit_variant(spec, train, plan.fold_len, variant.log)?;
            Ok(Fold {
                origin,
                forecast,
                actual: actual[origin..origin + plan.fold_len].to_vec(),
                scale: metrics::mase_scale(train, season),
            })
        })
        .collect()
}

/// Fits `spec` directly or on the log scale.
///
/// # Errors
/// The model fails.
pub fn fit_variant(spec: &Spec, train: &[f64], horizon: usize, log: bool) -> Result<RawForecast, String> {
    if !log {
        return fit_predict(spec.kind, train, &spec.periods, horizon, spec.step_ms);
    }
    let logged: Vec<f64> = train.iter().map(|v| v.ln()).collect();
    let f = fit_predict(spec.kind, &logged, &spec.periods, horizon, spec.step_ms)?;
    let point: Vec<f64> = f.point.iter().map(|p| p.exp()).collect();
    // The same cap as on the natural scale: a few times the range history spanned.
    let (lo, hi) = train.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
    let cap = 3.0 * (hi - lo).max(1e-9 * (1.0 + hi.abs()));
    let capped = |v: f64| if v.is_finite() { v.min(cap) } else { cap };
    Ok(RawForecast {
        sigma_lower: f.point.iter().zip(&f.sigma_lower).zip(&point).map(|((p, s), e)| capped(e - (p - s).exp())).collect(),
        sigma_upper: f.point.iter().zip(&f.sigma_upper).zip(&point).map(|((p, s), e)| capped((p + s).exp() - e)).collect(),
        point,
    })
}

/// Each window's errors divided by the model's own sigma on the error's side (`NaN`
/// at gaps): the standardised error trajectories whose dependence sample paths copy.
pub fn standardised_errors(folds: &[Fold]) -> Vec<Vec<f64>> {
    folds
        .iter()
        .map(|f| {
            let floor = 1e-9 * (1.0 + f.scale.abs());
            (0..f.actual.len())
                .map(|h| {
                    let e = f.actual[h] - f.forecast.point.get(h).copied().unwrap_or(f64::NAN);
                    let sigma = if e >= 0.0 { f.forecast.sigma_upper.get(h) } else { f.forecast.sigma_lower.get(h) };
                    e / sigma.copied().unwrap_or(f64::NAN).max(floor)
                })
                .collect()
        })
        .collect()
}

/// The largest error below and above the forecast over all windows (as positive
/// distances), or `None` when the windows hold no observed value.
pub fn largest_errors(folds: &[Fold]) -> Option<(f64, f64)> {
    let errors = folds.iter().flat_map(|f| f.actual.iter().zip(&f.forecast.point).map(|(y, p)| y - p)).filter(|e| e.is_finite());
    let (down, up, n) = errors.fold((0.0f64, 0.0f64, 0usize), |(d, u, n), e| (d.max(-e), u.max(e), n + 1));
    (n > 0).then_some((down, up))
}

/// Averages the windows of several models (all run on the same plan) into a combination.
pub fn combine(members: &[&[Fold]]) -> Vec<Fold> {
    let Some(first) = members.first() else { return Vec::new() };
    (0..first.len())
        .filter_map(|i| {
            let parts: Vec<&RawForecast> = members.iter().filter_map(|m| m.get(i).map(|f| &f.forecast)).collect();
            Some(Fold { forecast: RawForecast::mean(&parts)?, ..first[i].clone() })
        })
        .collect()
}

/// A model's backtest figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The model, e.g. `MSTL(288, 2016) + AutoETS` or `mean of …`.
    pub model: String,
    /// Mean absolute scaled error over all windows.
    pub mase: f64,
    /// Symmetric MAPE in percent.
    pub smape: f64,
    /// Coverage of the model's own (uncalibrated) intervals, per requested level.
    pub coverage: Vec<LevelValue>,
    /// Mean scaled interval score of the model's own 95 % interval.
    pub msis: f64,
}

/// A figure at one interval level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LevelValue {
    /// Level in percent.
    pub level: f64,
    /// The figure (a coverage share, 0 to 1).
    pub value: f64,
}

/// Scores windows with the model's own Gaussian intervals.
pub fn score(model: String, folds: &[Fold], levels: &[f64]) -> Score {
    let per_fold = |f: &dyn Fn(&Fold) -> f64| metrics::mean(folds.iter().map(f).filter(|v| v.is_finite()));
    let band = |fold: &Fold, level: f64| {
        let z = normal_quantile(0.5 + level / 200.0);
        let lo: Vec<f64> = fold.forecast.point.iter().zip(&fold.forecast.sigma_lower).map(|(p, s)| p - z * s).collect();
        let hi: Vec<f64> = fold.forecast.point.iter().zip(&fold.forecast.sigma_upper).map(|(p, s)| p + z * s).collect();
        (lo, hi)
    };
    Score {
        model,
        mase: per_fold(&|f| metrics::mase(&f.actual, &f.forecast.point, f.scale)),
        smape: per_fold(&|f| metrics::smape(&f.actual, &f.forecast.point)),
        coverage: levels
            .iter()
            .map(|&level| LevelValue {
                level,
                value: per_fold(&|f| {
                    let (lo, hi) = band(f, level);
                    metrics::coverage(&f.actual, &lo, &hi)
                }),
            })
            .collect(),
        msis: per_fold(&|f| {
            let (lo, hi) = band(f, 95.0);
            metrics::msis(&f.actual, &lo, &hi, f.scale, 0.05)
        }),
    }
}

/// Per-level multipliers of the model's sigma, per horizon bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Steps per bucket.
    pub bucket_len: usize,
    /// One entry per level.
    pub levels: Vec<LevelScale>,
}

/// The multipliers of one level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelScale {
    /// Level in percent.
    pub level: f64,
    /// Multiplier of the lower sigma, per bucket.
    pub lower: Vec<f64>,
    /// Multiplier of the upper sigma, per bucket.
    pub upper: Vec<f64>,
}

/// Fewest conformity scores per horizon bucket.
const MIN_SCORES_PER_BUCKET: usize = 40;
/// Most horizon buckets.
const MAX_BUCKETS: usize = 4;

/// Derives the multipliers from the windows (split conformal, normalised by sigma).
pub fn calibrate(folds: &[Fold], levels: &[f64]) -> Option<Calibration> {
    let fold_len = folds.first()?.actual.len();
    let total = folds.iter().map(|f| f.actual.iter().filter(|v| !v.is_nan()).count()).sum::<usize>();
    if total < 10 {
        return None;
    }
    let buckets = (total / MIN_SCORES_PER_BUCKET).clamp(1, MAX_BUCKETS).min(fold_len);
    let bucket_len = fold_len.div_ceil(buckets);
    let mut up: Vec<Vec<f64>> = vec![Vec::new(); buckets];
    let mut down: Vec<Vec<f64>> = vec![Vec::new(); buckets];
    for f in folds {
        for (h, y) in f.actual.iter().enumerate() {
            if y.is_nan() {
                continue;
            }
            let b = (h / bucket_len).min(buckets - 1);
            let e = y - f.forecast.point[h];
            let floor = 1e-9 * (1.0 + f.scale.abs());
            up[b].push(e / f.forecast.sigma_upper[h].max(floor));
            down[b].push(-e / f.forecast.sigma_lower[h].max(floor));
        }
    }
    let scale_for = |scores: &mut Vec<Vec<f64>>, q: f64| -> Vec<f64> {
        let mut out: Vec<f64> = scores.iter_mut().map(|s| conformal_quantile(s, q).max(0.0)).collect();
        // Uncertainty never shrinks with the horizon: each bucket takes at least the
        // multiplier of the buckets before it. This errs on the wide side (on M4 it
        // is what keeps the 95 % band at 95 % when the future is rougher than the past).
        for i in 1..out.len() {
            out[i] = out[i].max(out[i - 1]);
        }
        out
    };
    let levels = levels
        .iter()
        .map(|&level| {
            let q = 0.5 + level / 200.0;
            LevelScale { level, lower: scale_for(&mut down, q), upper: scale_for(&mut up, q) }
        })
        .collect();
    Some(Calibration { bucket_len, levels })
}

/// The split-conformal quantile: the ⌈(n+1)q⌉-th smallest score. When that exceeds n
/// (too few scores to support level q), the largest score is stretched along a normal
/// tail, so that higher levels still give wider bands.
fn conformal_quantile(scores: &mut [f64], q: f64) -> f64 {
    if scores.is_empty() {
        return normal_quantile(q);
    }
    scores.sort_by(f64::total_cmp);
    let n = scores.len();
    let k = (((n + 1) as f64) * q).ceil() as usize;
    if k <= n {
        return scores[k.max(1) - 1];
    }
    let largest = scores[n - 1];
    let supported = normal_quantile(n as f64 / (n + 1) as f64);
    if largest > 0.0 && supported > 0.0 { largest * normal_quantile(q) / supported } else { largest }
}

impl Calibration {
    /// The lower and upper band of `level` around `raw`.
    pub fn band(&self, raw: &RawForecast, level: f64) -> Option<(Vec<f64>, Vec<f64>)> {
        let scale = self.levels.iter().find(|l| (l.level - level).abs() < 1e-9)?;
        let pick = |v: &[f64], h: usize| v.get(h / self.bucket_len.max(1)).or(v.last()).copied().unwrap_or(0.0);
        let lower = (0..raw.point.len()).map(|h| raw.point[h] - pick(&scale.lower, h) * raw.sigma_lower[h]).collect();
        let upper = (0..raw.point.len()).map(|h| raw.point[h] + pick(&scale.upper, h) * raw.sigma_upper[h]).collect();
        Some((lower, upper))
    }
}

/// How far out-of-sample coverage may stray from the level before the band is rescaled.
pub const COVERAGE_TOLERANCE: f64 = 0.02;
/// The most a band is widened to meet its evidence.
const MAX_RESCALE: f64 = 4.0;
/// Bisection steps for the rescaling factor (2⁻¹⁴ of the range: far below noise).
const RESCALE_STEPS: usize = 14;

/// A band rescaled because its out-of-sample coverage missed its level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rescale {
    /// The level.
    pub level: f64,
    /// Leave-one-window-out coverage before rescaling.
    pub before: f64,
    /// The same after.
    pub after: f64,
    /// The factor the multipliers were scaled by.
    pub factor: f64,
}

impl Calibration {
    fn scaled(&self, level: f64, factor: f64) -> Calibration {
        let mut c = self.clone();
        for l in &mut c.levels {
            if (l.level - level).abs() < 1e-9 {
                l.lower.iter_mut().chain(l.upper.iter_mut()).for_each(|m| *m *= factor);
            }
        }
        c
    }
}

/// Leave-one-window-out coverage of `level` with every multiplier scaled by `factor`.
fn loo_coverage(folds: &[Fold], level: f64, factor: f64) -> Option<f64> {
    let (mut hits, mut n) = (0usize, 0usize);
    for i in 0..folds.len() {
        let others: Vec<Fold> = folds.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, f)| f.clone()).collect();
        let cal = calibrate(&others, &[level])?.scaled(level, factor);
        let (lo, hi) = cal.band(&folds[i].forecast, level)?;
        for (h, y) in folds[i].actual.iter().enumerate() {
            if !y.is_nan() {
                n += 1;
                hits += usize::from(*y >= lo[h] && *y <= hi[h]);
            }
        }
    }
    (n > 0).then(|| hits as f64 / n as f64)
}

/// Widens each level whose leave-one-window-out coverage on `folds` falls short of it by
/// more than [`COVERAGE_TOLERANCE`], by the factor that brings it to the level
/// (bisection, at most ×[`MAX_RESCALE`]). Returns what was rescaled.
pub fn rescale_to_evidence(cal: &mut Calibration, folds: &[Fold]) -> Vec<Rescale> {
    if folds.len() < 2 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let levels: Vec<f64> = cal.levels.iter().map(|l| l.level).collect();
    for level in levels {
        let target = level / 100.0;
        let Some(before) = loo_coverage(folds, level, 1.0) else { continue };
        // Only ever widened: a band that covered more than its level on a few past
        // windows is kept as calibrated (narrowing on such thin evidence failed on real
        // traffic, where the future was rougher than the windows).
        if before >= target - COVERAGE_TOLERANCE {
            continue;
        }
        // Coverage rises with the factor: bisect on its logarithm.
        let (mut lo, mut hi) = (0.0, MAX_RESCALE.ln());
        for _ in 0..RESCALE_STEPS {
            let mid = 0.5 * (lo + hi);
            match loo_coverage(folds, level, mid.exp()) {
                Some(c) if c >= target => hi = mid,
                _ => lo = mid,
            }
        }
        let factor = hi.exp();
        let after = loo_coverage(folds, level, factor).unwrap_or(before);
        *cal = cal.scaled(level, factor);
        out.push(Rescale { level, before, after, factor });
    }
    out
}

/// Coverage of calibrated bands, each window judged by a calibration from the other
/// windows (leave one window out), per level. An honest estimate of what the bands
/// will cover; `None` with fewer than two windows.
pub fn cross_validated_coverage(folds: &[Fold], levels: &[f64]) -> Option<Vec<LevelValue>> {
    if folds.len() < 2 {
        return None;
    }
    let mut hits = vec![(0usize, 0usize); levels.len()];
    for i in 0..folds.len() {
        let others: Vec<Fold> = folds.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, f)| f.clone()).collect();
        let cal = calibrate(&others, levels)?;
        for (li, &level) in levels.iter().enumerate() {
            let (lo, hi) = cal.band(&folds[i].forecast, level)?;
            for (h, y) in folds[i].actual.iter().enumerate() {
                if !y.is_nan() {
                    hits[li].1 += 1;
                    if *y >= lo[h] && *y <= hi[h] {
                        hits[li].0 += 1;
                    }
                }
            }
        }
    }
    Some(
        levels
            .iter()
            .zip(hits)
            .map(|(&level, (h, n))| LevelValue { level, value: if n == 0 { f64::NAN } else { h as f64 / n as f64 } })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_fits_windows_at_the_end() {
        // Horizon 48, a daily season of 24: origins a day apart, windows two days long.
        let p = plan(1000, 48, 3, &[24]).unwrap();
        assert_eq!(p, Plan { folds: 3, fold_len: 48, first_origin: 1000 - 48 - 2 * 24, stride: 24 });
        assert_eq!(p.origins().collect::<Vec<_>>(), vec![904, 928, 952]);
        assert_eq!(p.before(2), 0..1, "window 1 ends after window 2 starts");
        assert_eq!(p.before(1), 0..0);
        // No season: windows side by side.
        let flat = plan(1000, 48, 3, &[]).unwrap();
        assert_eq!((flat.stride, flat.first_origin), (48, 1000 - 144));
        assert_eq!(flat.before(2), 0..2);
        let short = plan(100, 48, 3, &[24]).unwrap();
        assert!(short.fold_len + 2 * short.stride <= 100 - 49, "{short:?}");
        assert!(plan(20, 48, 3, &[]).is_none());
    }

    #[test]
    fn conformal_quantile_is_conservative() {
        let mut s: Vec<f64> = (1..=19).map(f64::from).collect();
        assert_eq!(conformal_quantile(&mut s, 0.9), 18.0); // ceil(20 * 0.9) = 18
        let top = conformal_quantile(&mut s, 0.99);
        assert!(top > 19.0, "beyond the scores, a normal tail: {top}");
    }
}
