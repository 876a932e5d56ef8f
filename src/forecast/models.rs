//! The forecasting models behind one interface: fit on `&[f64]`, predict `horizon` steps
//! with a point forecast and the model's own one-sigma spread below and above.
//!
//! - MSTL + AutoETS: augurs' MSTL decomposition; the deseasonalised series' recent
//!   window is fitted by AutoETS (the window keeps fits fast on long histories and
//!   follows the current level and trend);
//! - MSTL + linear trend: the same decomposition, the deseasonalised series' growth over
//!   its recent window continued as a least-squares line (steady growth that AutoETS,
//!   fitted step by step on noisy 5-minute data, damps or drops);
//! - AutoETS without seasonality;
//! - seasonal naive (the last season repeated; without a season, the level now: the last
//!   value, or on steps under an hour the level read from the last hour's values);
//! - linear trend (least squares over a recent window, as PromQL's `predict_linear`).
//!
//! Combinations of these are formed from backtest results in [`super::backtest`].

use super::normal_quantile;
use augurs::Predict;
use serde::{Deserialize, Serialize};

/// A model that can be fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// MSTL decomposition with an AutoETS trend model.
    Mstl,
    /// MSTL decomposition with a least-squares line through the deseasonalised series.
    MstlLinear,
    /// Non-seasonal AutoETS.
    Ets,
    /// The last full season repeated.
    SeasonalNaive,
    /// A least-squares line over the recent window.
    Linear,
    /// Prophet through augurs with its bundled WASM Stan model (cargo feature
    /// `prophet`). Forced only: a fit takes ~0.1 s, too slow for every backtest window.
    Prophet,
    /// A leak with restarts ([`super::shapes`]): a candidate when the history is a
    /// sawtooth.
    Sawtooth,
}

impl ModelKind {
    /// Every single model, in the order tables list them.
    pub const ALL: [ModelKind; 5] = [ModelKind::Mstl, ModelKind::MstlLinear, ModelKind::Ets, ModelKind::SeasonalNaive, ModelKind::Linear];

    /// The name used on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Mstl => "mstl",
            ModelKind::MstlLinear => "mstl-linear",
            ModelKind::Ets => "ets",
            ModelKind::SeasonalNaive => "seasonal-naive",
            ModelKind::Linear => "linear",
            ModelKind::Prophet => "prophet",
            ModelKind::Sawtooth => "sawtooth",
        }
    }

    /// Parses a name as printed by [`name`](Self::name).
    pub fn parse(text: &str) -> Option<ModelKind> {
        ModelKind::ALL.into_iter().chain([ModelKind::Prophet, ModelKind::Sawtooth]).find(|k| k.name().eq_ignore_ascii_case(text.trim()))
    }

    /// A description with its periods: `MSTL(288, 2016) + AutoETS`.
    pub fn describe(self, periods: &[usize]) -> String {
        let list = periods.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        match self {
            ModelKind::Mstl if !periods.is_empty() => format!("MSTL({list}) + AutoETS"),
            ModelKind::MstlLinear if !periods.is_empty() => format!("MSTL({list}) + linear trend"),
            ModelKind::Mstl | ModelKind::Ets => "AutoETS".into(),
            ModelKind::SeasonalNaive => match periods.last() {
                Some(p) => format!("seasonal naive ({p})"),
                None => "naive".into(),
            },
            ModelKind::Linear | ModelKind::MstlLinear => "linear trend".into(),
            ModelKind::Prophet => "Prophet".into(),
            ModelKind::Sawtooth => "leak and restart".into(),
        }
    }
}

/// A model with the seasonal periods it uses: one candidate of a backtest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    /// The model.
    pub kind: ModelKind,
    /// Its seasonal periods, in steps.
    pub periods: Vec<usize>,
    /// The series' step in ms (Prophet needs real time; 0 when unknown: hourly assumed).
    #[serde(default)]
    pub step_ms: i64,
    /// Fitted on all history with the part before the last level shift moved to the level
    /// after it ([`super::prepare::Shift`]); each backtest window finds its shift in its own
    /// past.
    #[serde(default)]
    pub level_adjusted: bool,
}

impl Spec {
    /// A description such as `MSTL(24, 168) + AutoETS`.
    pub fn describe(&self) -> String {
        let model = if self.kind == ModelKind::SeasonalNaive && self.periods.is_empty() && level_steps(self.step_ms) > 1 {
            "naive (the last hour's level)".to_string()
        } else {
            self.kind.describe(&self.periods)
        };
        if self.level_adjusted { format!("{model} (levelled)") } else { model }
    }

    /// The same model fitted on history levelled at the last level shift: MSTL, whose
    /// seasons and level a step in the history pulls between old and new. (A seasonal
    /// naive forecast repeats the last season alone, past the step once a season has gone
    /// by; levelled twins of the linear trend and plain AutoETS were tried and cost M4
    /// hourly accuracy without a case they won.)
    pub fn levelled(&self) -> Option<Spec> {
        matches!(self.kind, ModelKind::Mstl | ModelKind::MstlLinear).then(|| Spec { level_adjusted: true, ..self.clone() })
    }

    /// The candidates for automatic choice over `periods`: every model with all the
    /// periods, and the seasonal ones also with the shortest period alone (a weekly
    /// season is not always worth its noise); plain AutoETS only without seasons; the
    /// leak-and-restart model when the history is a sawtooth.
    pub fn candidates(periods: &[usize], step_ms: i64, sawtooth: bool) -> Vec<Spec> {
        let mut out = Vec::new();
        for kind in ModelKind::ALL {
            let seasonal = matches!(kind, ModelKind::Mstl | ModelKind::SeasonalNaive);
            if matches!(kind, ModelKind::Mstl | ModelKind::MstlLinear) && periods.is_empty() {
                continue;
            }
            // With seasons, MSTL already fits AutoETS to the deseasonalised series; plain
            // AutoETS on the seasonal series adds a third of the fits and is almost never
            // chosen (1 of 414 M4 hourly series).
            if kind == ModelKind::Ets && !periods.is_empty() {
                continue;
            }
            out.push(Spec { kind, periods: periods.to_vec(), step_ms, level_adjusted: false });
            if seasonal && periods.len() > 1 {
                out.push(Spec { kind, periods: periods[..1].to_vec(), step_ms, level_adjusted: false });
            }
        }
        if sawtooth {
            out.push(Spec { kind: ModelKind::Sawtooth, periods: periods[..periods.len().min(1)].to_vec(), step_ms, level_adjusted: false });
        }
        out
    }
}

/// A point forecast with the model's one-sigma spread on each side.
#[derive(Debug, Clone, PartialEq)]
pub struct RawForecast {
    /// Point forecast per step.
    pub point: Vec<f64>,
    /// One-sigma distance below the point, per step (≥ 0).
    pub sigma_lower: Vec<f64>,
    /// One-sigma distance above the point, per step (≥ 0).
    pub sigma_upper: Vec<f64>,
}

impl RawForecast {
    fn symmetric(point: Vec<f64>, sigma: Vec<f64>) -> Self {
        RawForecast { sigma_lower: sigma.clone(), sigma_upper: sigma, point }
    }

    /// The mean of several forecasts of the same length (for combinations).
    pub fn mean(parts: &[&RawForecast]) -> Option<RawForecast> {
        let first = parts.first()?;
        let n = first.point.len();
        let k = parts.len() as f64;
        let avg = |f: fn(&RawForecast) -> &Vec<f64>| (0..n).map(|i| parts.iter().map(|p| f(p)[i]).sum::<f64>() / k).collect();
        Some(RawForecast { point: avg(|p| &p.point), sigma_lower: avg(|p| &p.sigma_lower), sigma_upper: avg(|p| &p.sigma_upper) })
    }
}

/// The level at which augurs is asked for intervals; sigma is derived from it.
const REFERENCE_LEVEL: f64 = 0.95;

/// Shortest window the trend models are fitted on.
const MIN_WINDOW: usize = 336;
/// Longest window the trend models are fitted on (AutoETS time grows with it).
const MAX_WINDOW: usize = 4096;

/// The recent window a trend model sees: long enough to hold the horizon thrice and the
/// longest season once, never the whole of a very long history.
pub fn trend_window(n: usize, horizon: usize, periods: &[usize]) -> usize {
    let longest = periods.iter().copied().max().unwrap_or(0);
    n.min((3 * horizon).max(longest).clamp(MIN_WINDOW, MAX_WINDOW.max(longest)))
}

/// Fits `kind` to `y` (complete, no NaN) and predicts `horizon` steps.
///
/// # Errors
/// The model cannot be fitted (too little data, a numerical failure), as a message.
pub fn fit_predict(kind: ModelKind, y: &[f64], periods: &[usize], horizon: usize, step_ms: i64) -> Result<RawForecast, String> {
    // A season is fitted where the history holds two of it; the seasonal naive forecast,
    // which repeats the last season, needs it once and a point more.
    let holds = |p: usize| if kind == ModelKind::SeasonalNaive { p < y.len() } else { 2 * p <= y.len() };
    let periods: Vec<usize> = periods.iter().copied().filter(|&p| holds(p)).collect();
    let mut f =
        if kind == ModelKind::Prophet { prophet(y, step_ms, horizon)? } else { fit_unchecked(kind, y, &periods, horizon, step_ms)? };
    cap_spread(&mut f, y);
    Ok(f)
}

/// How far a model's one-sigma spread may reach, in ranges of its training history.
pub const SPREAD_CAP_RANGES: f64 = 3.0;

/// Some ETS fits (multiplicative error or trend) give intervals that grow
/// exponentially: cap the spread at a few times the range the series has ever spanned.
fn cap_spread(f: &mut RawForecast, y: &[f64]) {
    let (lo, hi) = y.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
    let cap = SPREAD_CAP_RANGES * (hi - lo).max(1e-9 * (1.0 + hi.abs()));
    for s in f.sigma_lower.iter_mut().chain(f.sigma_upper.iter_mut()) {
        if !s.is_finite() || *s > cap {
            *s = cap;
        }
    }
}

fn fit_unchecked(kind: ModelKind, y: &[f64], periods: &[usize], horizon: usize, step_ms: i64) -> Result<RawForecast, String> {
    let periods = periods.to_vec();
    match kind {
        ModelKind::Mstl if !periods.is_empty() => mstl(y, &periods, horizon),
        ModelKind::MstlLinear if !periods.is_empty() => Seasons::decompose(y, &periods)?.forecast_linear(y, horizon),
        ModelKind::Mstl | ModelKind::Ets => {
            let w = trend_window(y.len(), horizon, &periods);
            ets(&y[y.len() - w..], horizon)
        }
        ModelKind::SeasonalNaive => Ok(match periods.last() {
            Some(&period) => seasonal_naive(y, period, horizon),
            None => naive(y, horizon, level_steps(step_ms)),
        }),
        ModelKind::Linear | ModelKind::MstlLinear => Ok(linear(y, horizon, trend_window(y.len(), horizon, &periods))),
        ModelKind::Prophet => prophet(y, 0, horizon),
        ModelKind::Sawtooth => super::shapes::forecast(y, &periods, horizon),
    }
}

/// Prophet with daily and weekly seasonality as it decides from the data's span and
/// step, on timestamps rebuilt from `step_ms`. One WASM optimiser is compiled per
/// process (about a second) and reused.
#[cfg(feature = "prophet")]
fn prophet(y: &[f64], step_ms: i64, horizon: usize) -> Result<RawForecast, String> {
    use augurs::prophet::wasmstan::WasmstanOptimizer;
    use augurs::prophet::{IncludeHistory, Prophet, ProphetOptions, TrainingData};
    use std::sync::OnceLock;
    static OPTIMIZER: OnceLock<WasmstanOptimizer> = OnceLock::new();
    let step_s = if step_ms >= 1000 { step_ms / 1000 } else { 3600 };
    let ds: Vec<i64> = (0..y.len() as i64).map(|i| 1_700_000_000 + i * step_s).collect();
    let data = TrainingData::new(ds, y.to_vec()).map_err(|e| format!("Prophet data: {e}"))?;
    let mut opts = ProphetOptions::default();
    opts.interval_width = REFERENCE_LEVEL.try_into().map_err(|e| format!("Prophet options: {e}"))?;
    let optimizer = OPTIMIZER.get_or_init(WasmstanOptimizer::new).clone();
    let mut model = Prophet::new(opts, optimizer);
    model.fit(data, Default::default()).map_err(|e| format!("Prophet fit failed: {e}"))?;
    let horizon_nz = std::num::NonZeroU32::new(u32::try_from(horizon).unwrap_or(u32::MAX).max(1)).ok_or("zero horizon")?;
    let future = model.make_future_dataframe(horizon_nz, IncludeHistory::No).map_err(|e| format!("Prophet: {e}"))?;
    let p = model.predict(future).map_err(|e| format!("Prophet prediction failed: {e}"))?;
    let (lower, upper) = (p.yhat.lower.ok_or("Prophet returned no interval")?, p.yhat.upper.ok_or("Prophet returned no interval")?);
    Ok(sigma_from_interval(&p.yhat.point, &lower, &upper))
}

#[cfg(not(feature = "prophet"))]
fn prophet(_y: &[f64], _step_ms: i64, _horizon: usize) -> Result<RawForecast, String> {
    Err("this build has no Prophet: build with the cargo feature \"prophet\"".into())
}

fn sigma_from_interval(point: &[f64], lower: &[f64], upper: &[f64]) -> RawForecast {
    let z = normal_quantile(0.5 + REFERENCE_LEVEL / 2.0);
    let nonneg = |v: f64| if v.is_finite() { v.max(0.0) } else { 0.0 };
    RawForecast {
        point: point.to_vec(),
        sigma_lower: point.iter().zip(lower).map(|(p, l)| nonneg((p - l) / z)).collect(),
        sigma_upper: point.iter().zip(upper).map(|(p, u)| nonneg((u - p) / z)).collect(),
    }
}

/// AutoETS without seasons, as `AutoETS::non_seasonal()` searches it (no trend, additive
/// or damped additive; lowest AICc), with two differences. Errors are additive only: the
/// multiplicative-error fits took half of all fitting time (a logarithm per step of
/// every likelihood evaluation) and, with bands calibrated on backtest errors anyway,
/// improved nothing (M4 hourly OWA 0.450 with them, 0.449 without). And the
/// average-MSE horizon is one step: the likelihood it optimises does not use the
/// multi-step MSE, which `AutoETS` computes at three steps on every evaluation.
fn auto_ets(y: &[f64], trends: &[Trend]) -> Result<(augurs::ets::model::Model, Trend), String> {
    use augurs::ets::model::{ErrorComponent, ModelType, SeasonalComponent, TrendComponent, Unfit};
    let mut best: Option<(augurs::ets::model::Model, Trend)> = None;
    for &form in trends {
        let (trend, damped) = match form {
            Trend::None => (TrendComponent::None, false),
            Trend::Damped => (TrendComponent::Additive, true),
            Trend::Additive => (TrendComponent::Additive, false),
        };
        let kind = ModelType { error: ErrorComponent::Additive, trend, season: SeasonalComponent::None };
        let Ok(model) = Unfit::new(kind).damped(damped).nmse(1).fit(y) else {
            continue;
        };
        if model.aicc().is_nan() {
            continue;
        }
        if best.as_ref().is_none_or(|(b, _)| model.aicc() < b.aicc()) {
            best = Some((model, form));
        }
    }
    best.ok_or_else(|| "AutoETS fit failed: no model could be fitted".to_string())
}

/// The trend forms AutoETS chooses among (lowest AICc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    /// Level only (ANN).
    None,
    /// Damped additive trend (AAdN).
    Damped,
    /// Additive trend (AAN).
    Additive,
}

/// Every trend form, in the order AutoETS tries them.
const TRENDS: [Trend; 3] = [Trend::None, Trend::Damped, Trend::Additive];

fn ets(y: &[f64], horizon: usize) -> Result<RawForecast, String> {
    ets_among(y, horizon, &TRENDS).map(|(f, _)| f)
}

/// AutoETS among `trends`; returns the forecast and the form chosen.
fn ets_among(y: &[f64], horizon: usize, trends: &[Trend]) -> Result<(RawForecast, Trend), String> {
    if y.len() <= 8 {
        return Err("AutoETS fit failed: not enough data".into());
    }
    let (fitted, form) = auto_ets(y, trends)?;
    let f = fitted.predict(horizon, REFERENCE_LEVEL).map_err(|e| format!("AutoETS prediction failed: {e}"))?;
    let iv = f.intervals.ok_or("AutoETS returned no intervals")?;
    let out = sigma_from_interval(&f.point, &iv.lower, &iv.upper);
    if out.point.iter().any(|v| !v.is_finite()) {
        return Err("AutoETS produced a non-finite forecast".into());
    }
    Ok((out, form))
}

/// MSTL + AutoETS: the decomposition of all of `y`, then [`Seasons::forecast`].
fn mstl(y: &[f64], periods: &[usize], horizon: usize) -> Result<RawForecast, String> {
    Seasons::decompose(y, periods)?.forecast(y, horizon)
}

/// An MSTL decomposition of a history: each period's seasonal component and the series
/// without them. A forecaster standing at its end, or later, carries each component's
/// last cycle forward: so a backtest may decompose once a season and still fit AutoETS
/// at every origin after it, seeing nothing past that origin.
#[derive(Debug, Clone)]
pub struct Seasons {
    periods: Vec<usize>,
    components: Vec<Vec<f32>>,
    /// Trend plus remainder over the decomposed steps.
    deseasonalised: Vec<f64>,
    /// The AutoETS form chosen at the end of the decomposed steps, when
    /// [`choose_trend`](Self::choose_trend) was asked: later fits use it alone.
    trend: Option<Trend>,
}

impl Seasons {
    /// Decomposes `y` (complete) over `periods`, every one of which must fit twice.
    ///
    /// # Errors
    /// No period fits twice, or the decomposition fails.
    pub fn decompose(y: &[f64], periods: &[usize]) -> Result<Seasons, String> {
        if periods.is_empty() || periods.iter().any(|p| *p == 0 || 2 * p > y.len()) {
            return Err(format!("MSTL needs two full seasons of every period ({periods:?}) in {} steps", y.len()));
        }
        let y32: Vec<f32> = y.iter().map(|v| *v as f32).collect();
        let fit = augurs::mstl::stlrs::MstlParams::new().fit(&y32, periods).map_err(|e| format!("MSTL decomposition failed: {e}"))?;
        let deseasonalised = fit.trend().iter().zip(fit.remainder()).map(|(t, r)| f64::from(*t) + f64::from(*r)).collect();
        Ok(Seasons { periods: periods.to_vec(), components: fit.seasonal().to_vec(), deseasonalised, trend: None })
    }

    /// Lets AutoETS choose its trend form once, at the end of the decomposed steps (as
    /// for a `horizon`-step forecast from there); later [`forecast`](Self::forecast)s fit
    /// that form alone. A backtest's windows within a season of each other share the
    /// choice as they share the seasons: a third of the fits.
    ///
    /// # Errors
    /// AutoETS fails on every form.
    pub fn choose_trend(&mut self, horizon: usize) -> Result<(), String> {
        let n = self.len();
        let start = n - mstl_window(n, horizon);
        let (_, form) = ets_among(&self.deseasonalised[start..], horizon, &TRENDS)?;
        self.trend = Some(form);
        Ok(())
    }

    /// Steps decomposed.
    pub fn len(&self) -> usize {
        self.deseasonalised.len()
    }

    /// True when nothing was decomposed (never, for a value [`decompose`](Self::decompose) made).
    pub fn is_empty(&self) -> bool {
        self.deseasonalised.is_empty()
    }

    /// The seasons' sum at step `i`: past the decomposed steps, each last cycle repeated.
    fn at(&self, i: usize) -> f64 {
        let n = self.len();
        self.periods.iter().zip(&self.components).map(|(&p, c)| f64::from(c[if i < n { i } else { n - p + (i - n) % p }])).sum()
    }

    /// AutoETS on the recent window of `y` without its seasons, the seasons added back
    /// over `horizon` steps. `y` starts where the decomposed history did and may run past
    /// it (its values there are deseasonalised with the carried-forward cycles).
    ///
    /// # Errors
    /// AutoETS fails.
    pub fn forecast(&self, y: &[f64], horizon: usize) -> Result<RawForecast, String> {
        let n = y.len();
        let decomposed = self.len();
        let start = n - mstl_window(n, horizon);
        let deseasonalised: Vec<f64> =
            (start..n).map(|i| if i < decomposed { self.deseasonalised[i] } else { y[i] - self.at(i) }).collect();
        let forms = self.trend.as_ref().map_or(&TRENDS[..], std::slice::from_ref);
        let (mut out, _) = ets_among(&deseasonalised, horizon, forms)?;
        for (h, p) in out.point.iter_mut().enumerate() {
            *p += self.at(n + h);
        }
        cap_spread(&mut out, y);
        Ok(out)
    }
}

impl Seasons {
    /// A least-squares line through the deseasonalised values of `y`'s recent window
    /// ([`growth_window`]), the seasons added back over `horizon` steps. `y` starts where
    /// the decomposed history did and may run past it, as in [`forecast`](Self::forecast).
    ///
    /// # Errors
    /// Too few values for a line.
    pub fn forecast_linear(&self, y: &[f64], horizon: usize) -> Result<RawForecast, String> {
        let n = y.len();
        let decomposed = self.len();
        let start = n - growth_window(n, horizon, &self.periods);
        let deseasonalised: Vec<f64> =
            (start..n).map(|i| if i < decomposed { self.deseasonalised[i] } else { y[i] - self.at(i) }).collect();
        if deseasonalised.len() < 3 {
            return Err("a linear trend needs three values".into());
        }
        let mut out = linear(&deseasonalised, horizon, deseasonalised.len());
        for (h, p) in out.point.iter_mut().enumerate() {
            *p += self.at(n + h);
        }
        cap_spread(&mut out, y);
        Ok(out)
    }
}

/// The window the line of MSTL + linear trend is fitted on: three horizons, as AutoETS
/// sees, and at least two of the longest seasons (a slope read over less than a week
/// takes what is left of the week's shape for growth). A window fixed whatever the
/// horizon was tried, four weeks: M4 hourly's OWA went from 0.441 to 0.447 and
/// nab-tweets' breach skill from 0.12 to 0.09, and the answer still depended on the
/// horizon, through the backtest that chooses the model at it.
fn growth_window(n: usize, horizon: usize, periods: &[usize]) -> usize {
    let longest = periods.iter().copied().max().unwrap_or(1);
    n.min((3 * horizon).max(2 * longest).max(MIN_WINDOW))
}

/// The window AutoETS sees after MSTL took the seasons out: three horizons, within
/// [`MIN_WINDOW`] and [`MAX_WINDOW`]. No season need fit in it (they are gone), so a
/// short horizon fits a short window: AutoETS' time grows with it.
fn mstl_window(n: usize, horizon: usize) -> usize {
    n.min((3 * horizon).clamp(MIN_WINDOW, MAX_WINDOW))
}

/// The last season repeated; the spread grows with the number of seasons ahead, from
/// the in-sample seasonal differences.
fn seasonal_naive(y: &[f64], period: usize, horizon: usize) -> RawForecast {
    let n = y.len();
    let period = period.clamp(1, n.max(1));
    let diffs: Vec<f64> = (period..n).map(|i| y[i] - y[i - period]).collect();
    let sd = if diffs.is_empty() { 0.0 } else { (diffs.iter().map(|d| d * d).sum::<f64>() / diffs.len() as f64).sqrt() };
    let point = (0..horizon).map(|h| y[n - period + h % period]).collect();
    let sigma = (0..horizon).map(|h| sd * ((h / period + 1) as f64).sqrt()).collect();
    RawForecast::symmetric(point, sigma)
}

/// The steps the naive forecast reads the level now from ([`level_now`]): an hour's (one
/// step at least). A 5-minute CPU series that alternates 0.07 and 0.13 % by the sample,
/// or idles with the odd burst, ends on whichever value its last sample happened to
/// catch; repeated for two days, that one value missed the bulk of what came (95 % bands
/// covering 17–22 % of the next two days on four real CloudWatch series with three days
/// of history). An hour says where the series is; on hourly data it is the last value, as
/// the naive forecast has always been.
pub(crate) fn level_steps(step_ms: i64) -> usize {
    usize::try_from(crate::time::HOUR_MS / step_ms.max(1)).unwrap_or(1).max(1)
}

/// Fewest last values that, all beyond every value before them in the hour, are a step
/// within it: three of twelve exchangeable values are the three highest (or lowest) one
/// time in 110, so noise rarely reads as one.
const LEVEL_STEP_POINTS: usize = 3;

/// Most points at which the naive forecast's in-sample errors are taken for its spread
/// on steps under an hour (evenly spread over the history; a root mean square of 512
/// errors is good to about 3 %): each takes a median of an hour's values, and at every
/// point a day of 1-second data took 61 s to forecast where the last-value forecast took
/// 1.2 s (2.2 s now).
const MAX_LEVEL_CHECKS: usize = 512;

/// Mann-Kendall score past which the hour's values rise or fall steadily: 3.29, a chance
/// of 1 in 1,000 for values in no order (without the ties' correction, which only makes
/// it stricter).
const TREND_Z: f64 = 3.29;

/// Most of the hour's values the trend test and line take (evenly spaced back from the
/// last): both compare every pair.
const MAX_TREND_POINTS: usize = 60;

/// The level at the end of `recent` (an hour's values, the last last):
/// - when its last values are a step within the hour ([`step_within`]: at least
///   [`LEVEL_STEP_POINTS`], all beyond every value before them, two flat levels), their
///   median (without it a step twenty minutes before the end was forecast at the old
///   level, and a threshold the series already stood past got a chance of 0.6);
/// - else, when the hour rises or falls steadily ([`TREND_Z`]), where its Theil-Sen line
///   stands at the last value: the median lags a ramp by half an hour (a rise of 20 over
///   the hour with noise of 1 was forecast 10 low);
/// - else their median (of an even count, the middle value nearer the last value: a value
///   the series took, where six values each of two gave their midpoint, which it never
///   took).
fn level_now(recent: &[f64]) -> f64 {
    let m = recent.len();
    let step = step_within(recent);
    if step.is_none()
        && let Some(end) = trend_end(recent)
    {
        return end;
    }
    let mut level: Vec<f64> = recent[m - step.unwrap_or(m)..].to_vec();
    level.sort_by(f64::total_cmp);
    let mid = level.len() / 2;
    if level.len() % 2 == 1 {
        level[mid]
    } else {
        // Of the middle two, the one nearer the last value: the series took it, and on a
        // tie the series is more likely where it is now.
        let last = recent[m - 1];
        let (a, b) = (level[mid - 1], level[mid]);
        if (b - last).abs() <= (a - last).abs() { b } else { a }
    }
}

/// How many of the last values of `recent` are a step within it: the suffix (at least
/// [`LEVEL_STEP_POINTS`], not all) wholly above or below every value before it with the
/// widest gap between them, when that gap is wider than the suffix's own range and the
/// range of as many values before it (two flat levels; on a ramp every suffix stands
/// above what precedes it, by one step's rise, far less than its own range).
fn step_within(recent: &[f64]) -> Option<usize> {
    let m = recent.len();
    let widen = |(lo, hi): (f64, f64), v: &f64| (lo.min(*v), hi.max(*v));
    let range = |r: &[f64]| {
        let (lo, hi) = r.iter().fold((f64::INFINITY, f64::NEG_INFINITY), widen);
        hi - lo
    };
    // The lowest and highest of recent[..=i].
    let before: Vec<(f64, f64)> = recent
        .iter()
        .scan((f64::INFINITY, f64::NEG_INFINITY), |span, v| {
            *span = widen(*span, v);
            Some(*span)
        })
        .collect();
    let mut best: Option<(usize, f64)> = None;
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for j in 1..m {
        let v = recent[m - j];
        low = low.min(v);
        high = high.max(v);
        if j < LEVEL_STEP_POINTS {
            continue;
        }
        let (lo, hi) = before[m - j - 1];
        let gap = (low - hi).max(lo - high);
        if gap > 0.0 && best.is_none_or(|(_, g)| gap > g) {
            best = Some((j, gap));
        }
    }
    let (j, gap) = best?;
    let level_before = &recent[(m - j).saturating_sub(j)..m - j];
    (gap > range(&recent[m - j..]) && gap > range(level_before)).then_some(j)
}

/// Where the Theil-Sen line through `recent` stands at its last value, when the values
/// rise or fall steadily (a Mann-Kendall score past [`TREND_Z`]); `None` otherwise. Up to
/// [`MAX_TREND_POINTS`] values, evenly spaced back from the last.
fn trend_end(recent: &[f64]) -> Option<f64> {
    let m = recent.len();
    let every = m.div_ceil(MAX_TREND_POINTS).max(1);
    // (position, value), the last value at position 0 and the others behind it.
    let points: Vec<(f64, f64)> = (0..m).rev().step_by(every).map(|i| ((i as f64) - (m - 1) as f64, recent[i])).collect();
    let n = points.len();
    if n < 4 {
        return None;
    }
    // Every pair, the later value first (`points` runs back in time).
    let pairs = || points.iter().enumerate().flat_map(|(a, later)| points[a + 1..].iter().map(move |earlier| (later, earlier)));
    // Mann-Kendall's S: pairs that rose less pairs that fell (ties count for neither).
    let score: i64 = pairs().map(|((_, later), (_, earlier))| i64::from(later > earlier) - i64::from(later < earlier)).sum();
    let k = n as f64;
    let sd = (k * (k - 1.0) * (2.0 * k + 5.0) / 18.0).sqrt();
    if (score.abs() as f64 - 1.0).max(0.0) / sd <= TREND_Z {
        return None;
    }
    // The pairs' slopes only for a trend (most hours have none, and this is in every
    // backtest window's fit).
    let mut slopes: Vec<f64> = pairs().map(|((tl, vl), (te, ve))| (vl - ve) / (tl - te)).collect();
    let slope = middle(&mut slopes);
    let mut ends: Vec<f64> = points.iter().map(|(t, v)| v - slope * t).collect();
    Some(middle(&mut ends))
}

/// The median of `values` (the mean of the middle two for an even count), reordering them.
fn middle(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let m = values.len();
    if m % 2 == 1 { values[m / 2] } else { 0.5 * (values[m / 2 - 1] + values[m / 2]) }
}

/// The level now, held ([`level_now`] of the last `k` values; the last value when `k` is
/// 1); the spread grows as a random walk's from the in-sample errors of that same
/// forecast one step ahead, at up to [`MAX_LEVEL_CHECKS`] points (over fewer values at
/// the start of history, so a history of an hour or less still has a spread).
fn naive(y: &[f64], horizon: usize, k: usize) -> RawForecast {
    let level_at = |end: usize| level_now(&y[end.saturating_sub(k)..end]);
    let n = y.len();
    if n == 0 {
        return RawForecast::symmetric(vec![f64::NAN; horizon], vec![0.0; horizon]);
    }
    // Every point when the level is the last value alone (no median to take).
    let stride = if k == 1 { 1 } else { (n - 1).div_ceil(MAX_LEVEL_CHECKS).max(1) };
    let errors: Vec<f64> = (1..n).rev().step_by(stride).map(|i| y[i] - level_at(i)).collect();
    let sd = if errors.is_empty() { 0.0 } else { (errors.iter().map(|e| e * e).sum::<f64>() / errors.len() as f64).sqrt() };
    RawForecast::symmetric(vec![level_at(n); horizon], (0..horizon).map(|h| sd * ((h + 1) as f64).sqrt()).collect())
}

/// Least squares over the last `window` points, with the usual prediction spread.
fn linear(y: &[f64], horizon: usize, window: usize) -> RawForecast {
    let w = window.clamp(2, y.len().max(2)).min(y.len());
    let ys = &y[y.len() - w..];
    let n = ys.len() as f64;
    let xbar = (n - 1.0) / 2.0;
    let ybar = ys.iter().sum::<f64>() / n;
    let sxx: f64 = (0..ys.len()).map(|i| (i as f64 - xbar).powi(2)).sum();
    let sxy: f64 = ys.iter().enumerate().map(|(i, v)| (i as f64 - xbar) * (v - ybar)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let intercept = ybar - slope * xbar;
    let rss: f64 = ys.iter().enumerate().map(|(i, v)| (v - intercept - slope * i as f64).powi(2)).sum();
    let s = (rss / (n - 2.0).max(1.0)).sqrt();
    let point = (0..horizon).map(|h| intercept + slope * (n + h as f64)).collect();
    let sigma = (0..horizon).map(|h| s * (1.0 + 1.0 / n + ((n + h as f64) - xbar).powi(2) / sxx.max(1e-12)).sqrt()).collect();
    RawForecast::symmetric(point, sigma)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seasonal_naive_repeats_the_last_season() {
        let y = [1.0, 2.0, 3.0, 1.0, 2.0, 3.0];
        let f = seasonal_naive(&y, 3, 5);
        assert_eq!(f.point, vec![1.0, 2.0, 3.0, 1.0, 2.0]);
        assert_eq!(f.sigma_upper[0], 0.0);
    }

    /// The seasonal naive keeps a season the history holds once and a point more; MSTL
    /// needs two of it and is fitted without.
    #[test]
    fn a_season_held_once_is_enough_for_the_seasonal_naive() {
        let y = [1.0, 2.0, 4.0, 1.0, 2.0];
        let f = fit_predict(ModelKind::SeasonalNaive, &y, &[3], 4, crate::time::HOUR_MS).unwrap();
        assert_eq!(f.point, vec![4.0, 1.0, 2.0, 4.0], "y[2..5] repeated");
        let f = fit_predict(ModelKind::SeasonalNaive, &y[..3], &[3], 2, crate::time::HOUR_MS).unwrap();
        assert_eq!(f.point, vec![4.0, 4.0], "the season not even once and a point: the naive");
    }

    #[test]
    fn the_naive_level_is_the_last_hours_median_on_steps_under_an_hour() {
        // 0.07, 0.07, 0.13 over and over, ending on a 0.13: the last twelve 5-minute
        // values hold eight 0.07s and four 0.13s, so the level now is 0.07; on hourly
        // steps the hour is the last value alone.
        let y: Vec<f64> = (0..48).map(|i| if i % 3 == 2 { 0.13 } else { 0.07 }).collect();
        let five_minutes = fit_predict(ModelKind::SeasonalNaive, &y, &[], 4, 5 * crate::time::MINUTE_MS).unwrap();
        assert_eq!(five_minutes.point, vec![0.07; 4]);
        let hourly = fit_predict(ModelKind::SeasonalNaive, &y, &[], 4, crate::time::HOUR_MS).unwrap();
        assert_eq!(hourly.point, vec![0.13; 4]);
        // The spread: one step ahead, from the second value on, each value against the
        // level of up to twelve before it (0.07 throughout: two in three are 0.07 and no
        // three last ones stand apart), so the errors are +0.06 at the 16 values 0.13
        // among the 47 and 0 elsewhere: sigma is 0.06 · sqrt(16 / 47) at step 1 and grows
        // as the square root of the steps.
        let sd = 0.06 * (16.0f64 / 47.0).sqrt();
        assert!((five_minutes.sigma_upper[0] - sd).abs() < 1e-9, "{} vs {sd}", five_minutes.sigma_upper[0]);
        assert!((five_minutes.sigma_upper[3] - 2.0 * sd).abs() < 1e-9);
        let described =
            Spec { kind: ModelKind::SeasonalNaive, periods: vec![], step_ms: 5 * crate::time::MINUTE_MS, level_adjusted: false };
        assert_eq!(described.describe(), "naive (the last hour's level)");
    }

    #[test]
    fn a_step_within_the_hour_is_the_level_now() {
        // 100/101 alternating, then 160/161 for the last four 5-minute values (a step
        // twenty minutes before the end): all four lie above every value before them in
        // the hour, so the level is their median; of 160, 161, 160, 161 the middle two
        // are 160 and 161, and the last value (161) picks 161.
        let y: Vec<f64> = (0..48).map(|i| if i < 44 { 100.0 } else { 160.0 } + (i % 2) as f64).collect();
        assert_eq!(level_now(&y[36..]), 161.0);
        // Two values beyond the rest are no step (three are needed): the hour's median,
        // of ten 100/101s and two 160/161s, is 101 (the middle two are 100 and 101, and
        // the last value, 161, lies nearer 101).
        let y: Vec<f64> = (0..48).map(|i| if i < 46 { 100.0 } else { 160.0 } + (i % 2) as f64).collect();
        assert_eq!(level_now(&y[36..]), 101.0);
        // A ramp, 50 + 2i over twelve values: every suffix stands above what precedes it,
        // but by one step's rise (2), less than its own range, so no step; the values
        // rise in every pair (Mann-Kendall S = 66, z = 65 / sqrt(12·11·29/18) = 4.46), and
        // the Theil-Sen line (slope 2) stands at 72 at the last value, not the median 61.
        let ramp: Vec<f64> = (0..12).map(|i| 50.0 + 2.0 * i as f64).collect();
        assert_eq!(step_within(&ramp), None);
        assert_eq!(level_now(&ramp), 72.0);
        // Six 0.13s then six 0.07s: the last six lie below all before them, a step down.
        let mut y = vec![0.13; 6];
        y.extend([0.07; 6]);
        assert_eq!(level_now(&y), 0.07);
        // Alternating evenly, ending on 0.07: the middle two are 0.07 and 0.13, and the
        // one nearer the last value is 0.07 (never the midpoint 0.10).
        let y: Vec<f64> = (0..12).map(|i| if i % 2 == 0 { 0.13 } else { 0.07 }).collect();
        assert_eq!(level_now(&y), 0.07);
        // A history of an hour or less still has a spread: 50, 53, 50, 53, 50 at 5-minute
        // steps; one step ahead, each against the level of those before it (50; of 50
        // and 53 the one nearer the last, 53; 50; of 50, 50, 53, 53 again 53), errors
        // +3, -3, +3, -3: sigma 3. The level now is the median of all five, 50.
        let f = fit_predict(ModelKind::SeasonalNaive, &[50.0, 53.0, 50.0, 53.0, 50.0], &[], 2, 5 * crate::time::MINUTE_MS).unwrap();
        assert!((f.sigma_upper[0] - 3.0).abs() < 1e-9, "{}", f.sigma_upper[0]);
        assert_eq!(f.point, vec![50.0; 2]);
    }
    #[test]
    fn seasons_carry_the_last_cycle_past_the_decomposed_steps() {
        // A clean daily shape of period 24 on a level: past the decomposition, each
        // season's last cycle repeats, so the deseasonalised values stay flat.
        let shape = |i: usize| 5.0 * ((i % 24) as f64 / 24.0 * std::f64::consts::TAU).sin();
        let y: Vec<f64> = (0..24 * 30).map(|i| 50.0 + shape(i)).collect();
        let s = Seasons::decompose(&y[..24 * 20], &[24]).unwrap();
        assert_eq!(s.len(), 480);
        for i in [480, 481, 500, 719, 800] {
            let expected = s.at(480 - 24 + (i - 480) % 24);
            assert!((s.at(i) - expected).abs() < 1e-12, "step {i}");
            assert!((s.at(i) - shape(i)).abs() < 0.2, "step {i}: {} against {}", s.at(i), shape(i));
        }
        // Forecast from the longer history: the carried cycle plus a flat level.
        let f = s.forecast(&y, 24).unwrap();
        for (h, p) in f.point.iter().enumerate() {
            assert!((p - (50.0 + shape(720 + h))).abs() < 0.5, "step {h}: {p}");
        }
        assert!(Seasons::decompose(&y[..40], &[24]).is_err(), "two seasons are needed");
    }

    #[test]
    fn linear_extends_an_exact_line() {
        let y: Vec<f64> = (0..50).map(|i| 2.0 * i as f64 + 1.0).collect();
        let f = linear(&y, 3, 50);
        assert!((f.point[0] - 101.0).abs() < 1e-9 && (f.point[2] - 105.0).abs() < 1e-9);
    }
}
