//! Stage 3, backtest: rolling-origin windows at the end of history, each a horizon long
//! and one season (or less) after the last, as many as the history allows up to the
//! settings' number. Each window is forecast by a model fitted on everything before its
//! origin, as prepared at a point before it ([`Stretch`]), and scored: MASE, sMAPE,
//! interval coverage per level and MSIS. Nothing after a window's origin is ever seen by
//! its fit or its preparation.
//!
//! The latest [`SELECTION_WINDOWS`] windows choose the model ([`super::choose`]); the older
//! ones are forecast by the chosen model only, so that calibration has many windows of
//! evidence without fitting every candidate on each.

use super::metrics;
use super::models::{RawForecast, Seasons, Spec, fit_predict};
use super::normal_quantile;
use super::prepare::{Stretch, with_periods};
use super::{ForecastSettings, choose::SELECTION_WINDOWS};
use serde::{Deserialize, Serialize};
use std::ops::Range;

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
    /// How many of the latest windows choose the model (0 in plan files written before
    /// windows were split: all of them).
    #[serde(default)]
    pub selection: usize,
}

impl Plan {
    /// Steps between origins.
    pub fn stride(&self) -> usize {
        if self.stride == 0 { self.fold_len } else { self.stride }
    }

    /// The origin (first forecast index) of window `k`.
    pub fn origin(&self, k: usize) -> usize {
        self.first_origin + k * self.stride()
    }

    /// The origin of each window, oldest first.
    pub fn origins(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.folds).map(move |k| self.origin(k))
    }

    /// The windows that choose the model: the latest `selection` of them.
    pub fn selection(&self) -> Range<usize> {
        let n = if self.selection == 0 { self.folds } else { self.selection.min(self.folds) };
        self.folds - n..self.folds
    }

    /// The windows wholly observed before window `k` starts: the only ones a choice made
    /// at window `k`'s origin may look at.
    pub fn before(&self, k: usize) -> Range<usize> {
        let stride = self.stride().max(1);
        // Window j ends at origin_j + fold_len ≤ origin_k  ⇔  (k - j)·stride ≥ fold_len.
        let gap = self.fold_len.div_ceil(stride);
        0..k.saturating_sub(gap - 1).min(k)
    }
}

/// Fewest training points a fold may have: two of the longest season and one more, or
/// [`MIN_TRAIN_POINTS`].
pub fn min_train(periods: &[usize]) -> usize {
    periods.iter().map(|p| 2 * p + 1).max().unwrap_or(0).max(MIN_TRAIN_POINTS)
}

/// Fewest training points of any fold, whatever the seasons: a day of hourly data.
const MIN_TRAIN_POINTS: usize = 24;

/// True when `n` points leave half of themselves after two seasons of `p`: a season the
/// windows' layout always counts ([`plan`]). A shorter history counts its shortest season
/// only when the data shows it strongly (`seasonality::strong`, which the caller checks):
/// a periodogram peak near the day is found in noise and slow wander of three days, and
/// the seasonal layout's shorter windows then chose trends that missed (white noise: a
/// linear trend on all 20 seeds; a slow wander: 95 % coverage 0.999 -> 0.666).
pub fn holds_four(n: usize, p: usize) -> bool {
    2 * p < n / 2
}

/// The shortest selection window, as a share of the shortest season, that keeps that
/// season in the windows' training when the history holds little more than two of it: a
/// twelfth (two hours of a day, whose rise or fall a seasonal model then shows).
const MIN_WINDOW_OF_SEASON: usize = 12;

/// Lays out up to `max_windows` windows at the end of `n` points. Windows are a horizon
/// long and consecutive origins one season apart (the shortest period; a window apart
/// when that is shorter or there is no season): as many as fit after the training
/// minimum, so calibration sees the recent past at every horizon. When not even the
/// selection windows fit at full length, they are shortened. `None` when not even
/// one-step windows fit (or `max_windows` is 0).
pub fn plan(n: usize, horizon: usize, max_windows: usize, periods: &[usize]) -> Option<Plan> {
    let selection = SELECTION_WINDOWS.min(max_windows);
    // Seasons longer than the data can hold do not count against the training minimum:
    // those that leave less than half the history to the windows, except the shortest
    // while it leaves room for the selection windows at [`MIN_WINDOW_OF_SEASON`]. A window
    // whose own past holds no two seasons fits no seasonal model, so with three days of
    // a daily cycle no candidate had the day and AutoETS was forecast (MASE 7.1 at
    // 15-second steps). The caller passes such a short season only when the data shows
    // it strongly ([`holds_four`]).
    let shortest = periods.iter().copied().min();
    let usable: Vec<usize> =
        periods.iter().copied().filter(|&p| holds_four(n, p) || (Some(p) == shortest && twice_fits(n, p, selection))).collect();
    lay_out(n, horizon, max_windows, min_train(&usable), usable.iter().copied().min())
}

/// The shortest season when only a seasonal naive forecast can check it: the caller found
/// it strongly in the history (which then holds two of it), the windows' layout cannot
/// count it ([`plan`]: two of it and the selection windows do not fit), but one of it, a
/// twelfth of it more and the selection windows at a twelfth of it each do. A seasonal
/// naive forecast needs one season of past, where MSTL needs two: with two days of a
/// daily cycle (a "last 2 days" export) no seasonal model was a candidate, and AutoETS on
/// the log scale ran to 3.6 times the history's maximum (MAE 322 against the seasonal
/// naive's 7.7). `None` when the layout counts the season, or with no season.
pub fn held_once(n: usize, max_windows: usize, periods: &[usize]) -> Option<usize> {
    let p = periods.iter().copied().min()?;
    let selection = SELECTION_WINDOWS.min(max_windows);
    let once_fits = once_train(p).saturating_add(selection * p.div_ceil(MIN_WINDOW_OF_SEASON)) <= n;
    (max_windows > 0 && !holds_four(n, p) && !twice_fits(n, p, selection) && once_fits).then_some(p)
}

/// True when two of season `p`, one point more and `selection` windows at a twelfth of it
/// each ([`MIN_WINDOW_OF_SEASON`]) fit in `n` points.
fn twice_fits(n: usize, p: usize, selection: usize) -> bool {
    (2 * p + 1).saturating_add(selection * p.div_ceil(MIN_WINDOW_OF_SEASON)) <= n
}

/// Fewest training points of a window whose forecast is a seasonal naive of period `p`
/// alone ([`held_once`]): the season once and a twelfth of it, whose differences from the
/// season before give the model its spread.
fn once_train(p: usize) -> usize {
    (p + p.div_ceil(MIN_WINDOW_OF_SEASON)).max(MIN_TRAIN_POINTS)
}

/// A season longer than the shortest that the usual layout's windows cannot check
/// (their past holds it less than twice: `plan` gives no selection window two of it
/// before its origin) but windows after one of it and a twelfth more can, as long as the
/// usual ones and a shortest season apart: a weekly season in two to three weeks of
/// history, whose weekend the daily models forecast as a weekday. `None` when there is
/// no such season, or the usual windows check it. The longest such season when there are
/// several.
pub fn longer_held_once(n: usize, horizon: usize, max_windows: usize, periods: &[usize]) -> Option<usize> {
    let shortest = periods.iter().copied().min()?;
    let usual = plan(n, horizon, max_windows, periods)?;
    let first_selection = usual.origin(usual.selection().start);
    periods
        .iter()
        .copied()
        .filter(|&p| p > shortest && first_selection < 2 * p)
        .filter(|&p| plan_once(n, horizon, max_windows, p, shortest).is_some_and(|once| once.fold_len == usual.fold_len))
        .max()
}

/// [`plan`] for a season `p` held once ([`held_once`], [`longer_held_once`]): windows
/// whose own past holds `p` once, origins at most `season` apart (the shortest season).
pub fn plan_once(n: usize, horizon: usize, max_windows: usize, p: usize, season: usize) -> Option<Plan> {
    lay_out(n, horizon, max_windows, once_train(p), Some(season))
}

/// The layout of [`plan`]: windows after `train` points, origins a `season` apart at most.
fn lay_out(n: usize, horizon: usize, max_windows: usize, train: usize, season: Option<usize>) -> Option<Plan> {
    if max_windows == 0 || horizon == 0 {
        return None;
    }
    let selection = SELECTION_WINDOWS.min(max_windows);
    let available = n.checked_sub(train)?;
    let season = season.unwrap_or(usize::MAX);
    let stride_of = |len: usize| len.min(season).max(1);
    // The span of W windows of length L, S apart: L + (W - 1)·S.
    let span = |len: usize, windows: usize| len + (windows - 1) * stride_of(len);
    let mut fold_len = horizon.min(available);
    while fold_len > 0 && span(fold_len, selection) > available {
        fold_len = (fold_len * 9 / 10).min(fold_len - 1);
    }
    if fold_len == 0 {
        return None;
    }
    let stride = stride_of(fold_len);
    let folds = (1 + (available - fold_len) / stride).clamp(selection, max_windows);
    Some(Plan { folds, fold_len, first_origin: n - span(fold_len, folds), stride, selection })
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

impl Fold {
    /// The window in units `factor` times larger: forecast, spread, what happened and the
    /// MASE scale alike, so its errors are `factor` times theirs.
    pub fn scaled(&self, factor: f64) -> Fold {
        let times = |v: &[f64]| v.iter().map(|x| x * factor).collect::<Vec<f64>>();
        Fold {
            origin: self.origin,
            forecast: RawForecast {
                point: times(&self.forecast.point),
                sigma_lower: times(&self.forecast.sigma_lower),
                sigma_upper: times(&self.forecast.sigma_upper),
            },
            actual: times(&self.actual),
            scale: self.scale * factor,
        }
    }
}

/// How a fit is transformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Variant {
    /// Fit on the natural log and transform back.
    pub log: bool,
    /// Fit only the history after the last level shift found before the origin.
    pub after_shift: bool,
}

/// The backtest's windows with the history each is fitted on: every window before the
/// selection windows on history prepared at the first window, the selection windows on
/// history prepared at the first of them.
#[derive(Debug)]
pub struct Windows<'a> {
    /// Where the windows lie.
    pub plan: Plan,
    /// What was observed (`NaN` at gaps), for scoring.
    pub actual: &'a [f64],
    /// The MASE seasonality.
    pub season: usize,
    older: Stretch,
    recent: Stretch,
    /// MSTL decompositions made so far, shared by the windows that anchor on them.
    seasons: std::sync::Mutex<std::collections::HashMap<SeasonsKey, std::sync::Arc<Seasons>>>,
}

/// Which history a decomposition is of: its stretch (older or recent), where it starts
/// and ends, the periods, and whether it is of the logs.
type SeasonsKey = (bool, usize, usize, Vec<usize>, bool);

impl<'a> Windows<'a> {
    /// Prepares the two stretches of `values` (complete) for `plan`.
    pub fn new(values: &[f64], actual: &'a [f64], plan: Plan, step_ms: i64, settings: &ForecastSettings) -> Self {
        let first_selection = plan.origin(plan.selection().start);
        let recent = Stretch::new(values, first_selection, step_ms, settings);
        let older = if plan.selection().start == 0 { recent.clone() } else { Stretch::new(values, plan.first_origin, step_ms, settings) };
        let season = recent.periods.first().copied().unwrap_or(1);
        Windows { plan, actual, season, older, recent, seasons: Default::default() }
    }

    /// The periods found before the first selection window: the candidates' periods.
    pub fn periods(&self) -> &[usize] {
        &self.recent.periods
    }

    fn stretch(&self, k: usize) -> &Stretch {
        if k < self.plan.selection().start { &self.older } else { &self.recent }
    }

    /// Fits `spec` for every window in `windows` and scores it.
    ///
    /// # Errors
    /// The model fails on a window.
    pub fn run(&self, spec: &Spec, windows: Range<usize>, variant: Variant) -> Result<Vec<Fold>, String> {
        windows.map(|k| self.run_one(spec, k, variant)).collect()
    }

    fn run_one(&self, spec: &Spec, k: usize, variant: Variant) -> Result<Fold, String> {
        let origin = self.plan.origin(k);
        let stretch = self.stretch(k);
        let start = if variant.after_shift { stretch.level_shift_before(origin).unwrap_or(0) } else { 0 };
        let adjusted = spec.level_adjusted.then(|| stretch.recent_shift_before(origin)).flatten();
        let moved;
        let train = match adjusted {
            Some(shift) => {
                moved = shift.adjust(&stretch.values[..origin], variant.log);
                &moved[start..]
            }
            None => &stretch.values[start..origin],
        };
        // A gap that runs into the origin was interpolated towards a value after it:
        // carry the last observed value forward instead, so the fit sees no future.
        let mut repaired = Vec::new();
        let train = match self.actual[start..origin].iter().rposition(|v| !v.is_nan()) {
            Some(i) if i + 1 < train.len() => {
                repaired = train[..=i].iter().copied().chain(std::iter::repeat_n(train[i], train.len() - i - 1)).collect();
                &repaired[..]
            }
            _ => train,
        };
        let spec = with_periods(spec, &stretch.periods);
        let horizon = self.plan.fold_len;
        let forecast = match self.anchor(&spec, stretch, start, origin) {
            // MSTL decomposed at the latest anchor before the origin (one a season),
            // AutoETS fitted at the origin itself.
            // (Not for moved history: the shared decompositions are of history as it was.)
            Some(anchor) if repaired.is_empty() && adjusted.is_none() => fit_variant_by(train, variant.log, |y| {
                let seasons =
                    self.seasons(k < self.plan.selection().start, start, anchor, &spec.periods, variant.log, &y[..anchor - start])?;
                if spec.kind == super::models::ModelKind::MstlLinear {
                    seasons.forecast_linear(y, horizon)
                } else {
                    seasons.forecast(y, horizon)
                }
            })?,
            _ => fit_variant(&spec, train, horizon, variant.log)?,
        };
        Ok(Fold {
            origin,
            forecast,
            actual: self.actual[origin..origin + self.plan.fold_len].to_vec(),
            // The scale of the history as it was, whatever this spec fitted on: a levelled
            // twin's MASE on the same footing as its plain twin's.
            scale: error_scale(&stretch.values[start..origin], self.season),
        })
    }
}

impl Windows<'_> {
    /// Where an MSTL window's decomposition is made: the latest point a whole number of
    /// its longest season after the stretch's preparation point and not after `origin`,
    /// so that the windows of one season share one decomposition. `None` for other models,
    /// or when the history before that point holds fewer than two seasons of a period.
    fn anchor(&self, spec: &Spec, stretch: &Stretch, start: usize, origin: usize) -> Option<usize> {
        if !matches!(spec.kind, super::models::ModelKind::Mstl | super::models::ModelKind::MstlLinear) || spec.periods.is_empty() {
            return None;
        }
        let longest = spec.periods.iter().copied().max()?;
        let anchor = origin - origin.saturating_sub(stretch.prepared_to) % longest;
        (anchor > start && anchor - start >= 2 * longest).then_some(anchor)
    }

    /// The decomposition of `history` (the training values from `start` to `anchor`),
    /// made once and shared.
    fn seasons(
        &self,
        older: bool,
        start: usize,
        anchor: usize,
        periods: &[usize],
        log: bool,
        history: &[f64],
    ) -> Result<std::sync::Arc<Seasons>, String> {
        let key = (older, start, anchor, periods.to_vec(), log);
        if let Some(found) = self.seasons.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(found);
        }
        let mut seasons = Seasons::decompose(history, periods)?;
        // AutoETS' trend form, chosen once for the MSTL + AutoETS windows; where it fails,
        // each of those fits tries every form (and fails on its own), while MSTL + linear
        // trend, which shares the decomposition, never needs it.
        let _ = seasons.choose_trend(self.plan.fold_len);
        let made = std::sync::Arc::new(seasons);
        if let Ok(mut m) = self.seasons.lock() {
            m.insert(key, made.clone());
        }
        Ok(made)
    }
}

/// The scale errors of a window are measured in: the MASE scale of its training history,
/// or, on a history that never changes from season to season (a flat line with rare
/// bursts), the step-to-step one, or a millionth of its level, so that models can still
/// be told apart.
fn error_scale(train: &[f64], season: usize) -> f64 {
    let seasonal = metrics::mase_scale(train, season);
    if seasonal > 0.0 {
        return seasonal;
    }
    let naive = metrics::mase_scale(train, 1);
    if naive > 0.0 {
        return naive;
    }
    let level = metrics::mean(train.iter().map(|v| v.abs()));
    if level > 0.0 { 1e-6 * level } else { 1.0 }
}

/// Fits `spec` directly or on the log scale.
///
/// # Errors
/// The model fails.
pub fn fit_variant(spec: &Spec, train: &[f64], horizon: usize, log: bool) -> Result<RawForecast, String> {
    fit_variant_by(train, log, |y| fit_predict(spec.kind, y, &spec.periods, horizon, spec.step_ms))
}

/// [`fit_variant`] with the fit given: `fit` sees `train`, or its logs.
fn fit_variant_by(train: &[f64], log: bool, fit: impl Fn(&[f64]) -> Result<RawForecast, String>) -> Result<RawForecast, String> {
    if !log {
        return fit(train);
    }
    let logged: Vec<f64> = train.iter().map(|v| v.ln()).collect();
    let f = fit(&logged)?;
    let point: Vec<f64> = f.point.iter().map(|p| p.exp()).collect();
    // The same cap as on the natural scale: a few times the range history spanned.
    let (lo, hi) = train.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
    let cap = super::models::SPREAD_CAP_RANGES * (hi - lo).max(1e-9 * (1.0 + hi.abs()));
    let capped = |v: f64| if v.is_finite() { v.min(cap) } else { cap };
    if point.iter().any(|p| !p.is_finite()) {
        return Err("the log-scale forecast overflowed".into());
    }
    Ok(RawForecast {
        sigma_lower: f.point.iter().zip(&f.sigma_lower).zip(&point).map(|((p, s), e)| capped(e - (p - s).exp())).collect(),
        sigma_upper: f.point.iter().zip(&f.sigma_upper).zip(&point).map(|((p, s), e)| capped((p + s).exp() - e)).collect(),
        point,
    })
}

/// The largest error below and above the forecast over all windows (as positive
/// distances), or `None` when the windows hold no observed value.
pub fn largest_errors(folds: &[Fold]) -> Option<(f64, f64)> {
    let errors = folds.iter().flat_map(|f| f.actual.iter().zip(&f.forecast.point).map(|(y, p)| y - p)).filter(|e| e.is_finite());
    let (down, up, n) = errors.fold((0.0f64, 0.0f64, 0usize), |(d, u, n), e| (d.max(-e), u.max(e), n + 1));
    (n > 0).then_some((down, up))
}

/// Averages the windows of several models (all run on the same windows) into a
/// combination.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_sharing_a_decomposition_see_nothing_after_their_origin() {
        // 5-minute data with a daily season and a horizon of 12: the windows are 12 steps
        // apart and share decompositions; changing everything after a window's origin
        // must not change its forecast.
        let values: Vec<f64> = (0..288 * 8)
            .map(|i| 40.0 + 10.0 * ((i % 288) as f64 / 288.0 * std::f64::consts::TAU).sin() + ((i * 7919) % 17) as f64 * 0.1)
            .collect();
        let settings = ForecastSettings { horizon: 12, ..ForecastSettings::default() };
        let p = plan(values.len(), 12, 20, &[288]).unwrap();
        let spec = Spec { kind: crate::forecast::ModelKind::Mstl, periods: vec![288], step_ms: 300_000, level_adjusted: false };
        let run = |v: &[f64]| Windows::new(v, v, p, 300_000, &settings).run(&spec, 0..p.folds, Variant::default()).unwrap();
        let all = run(&values);
        let windows = Windows::new(&values, &values, p, 300_000, &settings);
        let anchors: std::collections::BTreeSet<usize> =
            (0..p.folds).filter_map(|k| windows.anchor(&spec, windows.stretch(k), 0, p.origin(k))).collect();
        assert!(anchors.len() < p.folds / 3, "windows share decompositions: {anchors:?}");
        for k in [3, 10, p.folds - 1] {
            let origin = p.origin(k);
            let mut changed = values.clone();
            for v in &mut changed[origin..] {
                *v += 25.0;
            }
            let again = run(&changed);
            assert_eq!(all[k].forecast, again[k].forecast, "window {k} saw past its origin {origin}");
        }
    }

    #[test]
    fn plan_fits_as_many_windows_as_history_allows() {
        // Horizon 48, a daily season of 24: origins a day apart, windows two days long,
        // from the training minimum (49 points) to the end.
        let p = plan(1000, 48, 100, &[24]).unwrap();
        assert_eq!((p.fold_len, p.stride), (48, 24));
        assert_eq!(p.folds, 1 + (1000 - 49 - 48) / 24);
        assert_eq!(p.origin(p.folds - 1) + 48, 1000, "the last window ends with history");
        assert_eq!(p.selection(), p.folds - SELECTION_WINDOWS..p.folds);
        // At most the number asked for.
        let p = plan(1000, 48, 12, &[24]).unwrap();
        assert_eq!(p.folds, 12);
        assert_eq!(p.origins().collect::<Vec<_>>()[9..], [904, 928, 952]);
        assert_eq!(p.before(11), 0..10, "window 10 ends after window 11 starts");
        assert_eq!(p.before(1), 0..0);
        // No season: windows side by side.
        let flat = plan(1000, 48, 3, &[]).unwrap();
        assert_eq!((flat.stride, flat.first_origin, flat.folds), (48, 1000 - 144, 3));
        assert_eq!(flat.before(2), 0..2);
        // Short history: the selection windows are shortened to fit.
        let short = plan(100, 48, 12, &[24]).unwrap();
        assert!(short.fold_len < 48 && short.folds >= SELECTION_WINDOWS.min(12), "{short:?}");
        assert!(short.first_origin >= 49, "{short:?}");
        assert!(plan(20, 48, 3, &[]).is_none());
    }

    #[test]
    fn a_short_history_keeps_its_daily_season_in_the_windows() {
        // Three days at 5 minutes (864 points), a day of 288, horizon two days. Two days
        // and one step of training (577) leave 287 for six windows of at least 24 (a
        // twelfth of the day, 721 in all): every window's past holds two days.
        let p = plan(864, 576, 20, &[288]).unwrap();
        assert!(p.first_origin >= 577, "{p:?}");
        assert!(p.fold_len >= 24 && p.origin(p.folds - 1) + p.fold_len == 864, "{p:?}");
        // 720 points leave no room for that: the day does not count, and the windows
        // spread over the history as before.
        let p = plan(720, 576, 20, &[288]).unwrap();
        assert!(p.first_origin < 577, "{p:?}");
        // A longer season than the shortest counts only with half the history after it.
        let p = plan(864, 576, 20, &[144, 288]).unwrap();
        assert!(p.first_origin < 577, "{p:?}");
    }

    #[test]
    fn a_season_held_once_lays_out_windows_for_the_seasonal_naive() {
        // Two days at 5 minutes (576 points), a day of 288: two days, a step and six
        // windows of 24 (721) do not fit, so the layout cannot count the day; one day, a
        // twelfth of it (24) and the six windows (288 + 24 + 144 = 456) do.
        assert_eq!(held_once(576, 20, &[288]), Some(288));
        assert_eq!(held_once(721, 20, &[288]), None, "two days and the windows fit: the day counts");
        assert_eq!(held_once(455, 20, &[288]), None, "not even once");
        assert_eq!(held_once(576, 20, &[]), None);
        assert_eq!(held_once(576, 0, &[288]), None);
        // Its windows: 576 − 312 = 264 points after the training minimum; six windows a
        // window apart (shorter than the day) need 6·L ≤ 264, and the layout shrinks L by
        // tenths from 264 (… 51, 45, 40): 40 steps, the first origin 576 − 240 = 336.
        let p = plan_once(576, 288, 20, 288, 288).unwrap();
        assert_eq!((p.folds, p.fold_len, p.stride(), p.first_origin), (6, 40, 40, 336), "{p:?}");
        assert!(p.first_origin >= 312);
    }

    #[test]
    fn a_week_held_once_lays_out_windows_a_day_apart() {
        // 17 days at 5 minutes (4,896 points), a day of 288 and a week of 2,016, a
        // two-day horizon (576). The usual layout trains after two days and a step (577):
        // 4,319 points, 13 windows a day apart, the first at 4,896 − (576 + 12·288) = 864;
        // the six that choose start at 864 + 7·288 = 2,880, before two weeks (4,032), so
        // no window that chooses can detect the week.
        let usual = plan(4896, 576, 20, &[288, 2016]).unwrap();
        assert_eq!((usual.folds, usual.first_origin, usual.origin(usual.selection().start)), (13, 864, 2880));
        assert_eq!(longer_held_once(4896, 576, 20, &[288, 2016]), Some(2016));
        // Held once: a week and a twelfth of it (2,016 + 168 = 2,184) before each window,
        // 2,712 points after it: 1 + (2,712 − 576) / 288 = 8 windows, the first at
        // 4,896 − (576 + 7·288) = 2,304.
        let once = plan_once(4896, 576, 20, 2016, 288).unwrap();
        assert_eq!((once.folds, once.fold_len, once.stride(), once.first_origin), (8, 576, 288, 2304), "{once:?}");
        // Three weeks: the six that choose start at two weeks (864 + 11·288 = 4,032), which
        // hold the week twice: the usual windows check it.
        assert_eq!(longer_held_once(6048, 576, 20, &[288, 2016]), None);
        // Fifteen days: 4,320 − 2,184 = 2,136 points hold six whole windows a day apart
        // (576 + 5·288 = 2,016). Two weeks: only 1,848, and the six windows shrink by
        // tenths until L + 5·288 fits (576, 518, 466, 419, 377): shorter than the usual
        // windows, too little to choose a season on (a disk's writes over 14.4 days took
        // the week on windows of 518 steps and doubled its error): none.
        assert_eq!(longer_held_once(4320, 576, 20, &[288, 2016]), Some(2016));
        assert_eq!(plan_once(4032, 576, 20, 2016, 288).map(|p| p.fold_len), Some(377));
        assert_eq!(longer_held_once(4032, 576, 20, &[288, 2016]), None);
        // No longer season, or none at all.
        assert_eq!(longer_held_once(4896, 576, 20, &[288]), None);
        assert_eq!(longer_held_once(4896, 576, 20, &[]), None);
    }
}
