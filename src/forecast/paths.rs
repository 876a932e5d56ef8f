//! Sample paths: joint draws of the future that carry the calibrated bands at every step
//! and the dependence between steps that the backtest errors showed. The runway's breach
//! probability and crossing dates, and `simulate`'s risk, are read from these paths.
//!
//! Paths come in two kinds, mixed [`WINDOW_SHARE`] to the rest:
//!
//! - **Replays.** The point forecast plus one backtest window's errors, step for step as
//!   that window made them (the record's windows in turn). A replay carries the errors'
//!   real dependence, their level offsets and their bursts exactly as they came, and its
//!   errors are the very ones the bands were calibrated on. Where a window has a gap or
//!   ends before the horizon, the fitted process below carries on from the replayed
//!   value's normal score.
//! - **The fitted error process.** Each step's value is a draw `z` (standard normal)
//!   mapped through that step's quantile function, which passes through the point
//!   forecast (z = 0) and every band edge (z = ±z_level), linear in z between them and
//!   extended beyond the last with the outermost slope. So these paths' spread at every
//!   step, from the first, *is* the band's, whatever shape calibration gave it. The
//!   draws carry the two kinds of error capacity data has: the record's errors are split,
//!   window by window, into a persistent part (their moving median over
//!   [`SMOOTHING_MS`]) and a fast part (the rest: noise and bursts). A path's error is
//!   `x = sd_P · S + R`: `S` is AR(1) in *time* (two draws `dt` apart correlate
//!   `exp(-dt / tau)`, `tau` from the persistent parts' autocorrelation), `R` one
//!   window's fast part from a random point in it. `x` goes through its own distribution
//!   function to a rank and on to `z`, so the marginal at every step stays the band.
//!
//! Replays are only as many as the windows, and the fitted process's one exponential
//! decay is a rough picture of how real errors persist; the mix is truer than either
//! (see [`WINDOW_SHARE`]).
//!
//! Errors are not centred per window: a window whose forecast was off in level has errors
//! of one sign throughout, which is exactly the persistence that makes a breach either
//! last or never come.

use super::Forecast;
use super::stats::{normal_cdf, normal_quantile};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// Correlation of consecutive standardised errors assumed when there is no backtest to
/// estimate it from: 0.95 per step (errors persist for about twenty steps).
pub const FALLBACK_RHO_PER_STEP: f64 = 0.95;

/// Sample paths drawn for a runway: the Monte Carlo error of a probability near 0.5 is
/// 0.5 / sqrt(2000) ≈ 0.011, well inside the calibration the issue asks for (0.05).
pub const RUNWAY_PATHS: usize = 2000;

/// Share of the paths that replay a backtest window's errors whole, the rest drawn from
/// the fitted error process. Replayed windows carry the dependence and the bursts
/// exactly as they came, but there are only as many of them as windows; the fitted
/// process is smooth, but one exponential decay is a rough picture of how real errors
/// persist. Half each: on M4 hourly (4,968 breach cases) the mix came truer (ECE 0.014)
/// than either alone (0.017, 0.021), and on real 5-minute traffic it scored a Brier skill
/// of 0.12 where the fitted process alone had 0.06 (`headroom bench breach`).
pub const WINDOW_SHARE: f64 = 0.5;

/// Windows from which replays take their full [`WINDOW_SHARE`].
pub const FULL_REPLAY_WINDOWS: usize = 10;

/// Fixed seed of the runway's paths: the same forecast gives the same runway.
pub const RUNWAY_SEED: u64 = 0x5EED_0F_4EAD_4007;

/// Largest lag (in steps) used to estimate the dependence; beyond it the pooled
/// autocorrelation is mostly noise.
const MAX_ACF_LAG: usize = 48;
/// Autocorrelations below this are too close to noise to fit a decay through.
const MIN_ACF: f64 = 0.05;
/// Largest correlation per step: keeps the innovation non-zero.
const MAX_RHO: f64 = 0.9999;
/// The span of the moving median that separates an error's persistent part from its
/// fast part: an hour (three steps at least), so 5-minute noise and bursts are fast
/// while an hourly series' level errors are persistent.
pub const SMOOTHING_MS: i64 = crate::time::HOUR_MS;
/// Most fast-part values kept per horizon bucket (mid-ranks of equal shares): enough to
/// carry a burst rate of a few in a thousand.
const MAX_FAST_VALUES: usize = 256;
/// Points of the table that turns an error into its normal score.
const RANK_TABLE: usize = 512;

/// How forecast errors depend on each other across time.
///
/// Serialised without the fast parts when the windows they are split from are kept (a
/// plan file would otherwise hold every error twice); [`Dependence::restored`] splits
/// them again on reading.
#[derive(Debug, Clone, Deserialize)]
pub struct Dependence {
    /// Correlation time in milliseconds of the persistent part: its values `dt` apart
    /// correlate `exp(-dt / tau)`.
    pub tau_ms: f64,
    /// Where it came from: `true` when estimated from backtest errors.
    pub estimated: bool,
    /// Steps per horizon bucket of `persistent_sd`.
    #[serde(default)]
    pub bucket_len: usize,
    /// Root mean square of the errors' persistent part, per horizon bucket (empty: all
    /// persistent, with the spread of the bands, as in plan files written before it was
    /// kept).
    #[serde(default)]
    pub persistent_sd: Vec<f64>,
    /// The fast part of each backtest window's errors, in time order: a path borrows one
    /// window's, so bursts come as clustered as they did.
    #[serde(default)]
    pub fast: Vec<Vec<f64>>,
    /// The backtest record's errors (observed − forecast, `NaN` at gaps), one trajectory
    /// per window in time order: half the paths replay them whole ([`WINDOW_SHARE`]).
    /// Empty in plan files written before they were kept (all paths from the model).
    #[serde(default)]
    pub windows: Vec<Vec<f64>>,
}

impl Serialize for Dependence {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename = "Dependence")]
        struct Kept<'a> {
            tau_ms: f64,
            estimated: bool,
            bucket_len: usize,
            persistent_sd: &'a [f64],
            fast: &'a [Vec<f64>],
            windows: &'a [Vec<f64>],
        }
        Kept {
            tau_ms: self.tau_ms,
            estimated: self.estimated,
            bucket_len: self.bucket_len,
            persistent_sd: &self.persistent_sd,
            fast: if self.windows.is_empty() { &self.fast } else { &[] },
            windows: &self.windows,
        }
        .serialize(serializer)
    }
}

/// Equal field by field, a gap (`NaN`) in a window equal to a gap in the same place: a
/// plan file reopened holds the same dependence it was saved with.
impl PartialEq for Dependence {
    fn eq(&self, other: &Self) -> bool {
        let same = |a: &f64, b: &f64| a == b || (a.is_nan() && b.is_nan());
        self.tau_ms == other.tau_ms
            && self.estimated == other.estimated
            && self.bucket_len == other.bucket_len
            && self.persistent_sd == other.persistent_sd
            && self.fast == other.fast
            && self.windows.len() == other.windows.len()
            && self.windows.iter().zip(&other.windows).all(|(a, b)| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)))
    }
}

impl Default for Dependence {
    /// The fallback at 5-minute steps (plan files written before dependence was kept).
    fn default() -> Self {
        Dependence::fallback(5 * 60_000)
    }
}

impl Dependence {
    /// The fallback for a step of `step_ms`: [`FALLBACK_RHO_PER_STEP`] per step, all
    /// persistent.
    pub fn fallback(step_ms: i64) -> Self {
        Dependence::persistent(-(step_ms.max(1) as f64) / FALLBACK_RHO_PER_STEP.ln(), false)
    }

    /// Errors that are all persistent with correlation time `tau_ms`.
    pub fn persistent(tau_ms: f64, estimated: bool) -> Self {
        Dependence { tau_ms, estimated, bucket_len: 0, persistent_sd: Vec::new(), fast: Vec::new(), windows: Vec::new() }
    }

    /// The correlation of the persistent part between two draws `dt_ms` apart.
    pub fn rho(&self, dt_ms: f64) -> f64 {
        if !(self.tau_ms > 0.0) || !dt_ms.is_finite() {
            return 0.0;
        }
        (-dt_ms.max(0.0) / self.tau_ms).exp().min(MAX_RHO)
    }

    /// The share of the error variance in the fast part (0 to 1).
    pub fn fast_share(&self) -> f64 {
        let p = self.persistent_sd.iter().map(|v| v * v).sum::<f64>() / self.persistent_sd.len().max(1) as f64;
        let (sum, n) = self.fast.iter().flatten().fold((0.0, 0usize), |(s, n), v| (s + v * v, n + 1));
        let f = if n == 0 { 0.0 } else { sum / n as f64 };
        if p + f > 0.0 { f / (p + f) } else { 0.0 }
    }

    /// Estimates the dependence from the backtest record's error trajectories (one per
    /// window, observed − forecast, `NaN` where the series had a gap) of a series stepped
    /// every `step_ms`, bucketed by horizon every `bucket_len` steps.
    pub fn from_errors(windows: &[Vec<f64>], bucket_len: usize, step_ms: i64) -> Self {
        let longest = windows.iter().map(Vec::len).max().unwrap_or(0);
        if longest == 0 {
            return Dependence::fallback(step_ms);
        }
        let bucket_len = bucket_len.clamp(1, longest);
        let buckets = longest.div_ceil(bucket_len);
        let smoothed = smoothed(windows, step_ms);
        let fast = fast_parts(windows, &smoothed);
        let mut persistent = vec![(0.0, 0usize); buckets];
        for (w, p) in windows.iter().zip(&smoothed) {
            for (h, (e, s)) in w.iter().zip(p).enumerate() {
                if e.is_finite() && s.is_finite() {
                    let b = &mut persistent[h / bucket_len];
                    *b = (b.0 + s * s, b.1 + 1);
                }
            }
        }
        let persistent_sd: Vec<f64> = persistent.iter().map(|(s, n)| if *n == 0 { 0.0 } else { (s / *n as f64).sqrt() }).collect();
        if fast.is_empty() {
            return Dependence::fallback(step_ms);
        }
        // The persistent part's dependence, each value in units of its bucket's spread.
        let standardised: Vec<Vec<f64>> = smoothed
            .iter()
            .map(|p| p.iter().enumerate().map(|(h, v)| v / persistent_sd.get(h / bucket_len).copied().unwrap_or(f64::NAN)).collect())
            .collect();
        // A flat persistent part (a constant series with bursts) has no dependence to
        // measure: the fallback's, while the fast part still carries the bursts.
        let tau_ms = persistence(&standardised, step_ms).unwrap_or_else(|| Dependence::fallback(step_ms).tau_ms);
        Dependence { tau_ms, estimated: true, bucket_len, persistent_sd, fast, windows: windows.to_vec() }
    }

    /// The dependence read from a plan file, the fast parts split again from the windows
    /// where the file kept only those (see [`Serialize`]): the same split as when it was
    /// saved.
    pub fn restored(mut self, step_ms: i64) -> Dependence {
        if self.fast.is_empty() && !self.windows.is_empty() && self.estimated {
            self.fast = fast_parts(&self.windows, &smoothed(&self.windows, step_ms));
        }
        self
    }

    /// How much breach probabilities read from paths of this dependence lean on the
    /// prior: [`prior_weight`] of the windows replays use.
    pub fn evidence_weight(&self) -> f64 {
        prior_weight(self.replayed().count())
    }

    /// The windows replays use: those with at least one observed error.
    pub fn replayed(&self) -> impl Iterator<Item = &[f64]> {
        self.windows.iter().filter(|w| w.iter().any(|e| e.is_finite())).map(Vec::as_slice)
    }

    /// Estimates an all-persistent dependence from standardised error trajectories (one
    /// per window, `NaN` at gaps): the slowest decay of their autocorrelation.
    pub fn estimate(windows: &[Vec<f64>], step_ms: i64) -> Self {
        match persistence(windows, step_ms) {
            Some(tau) => Dependence::persistent(tau, true),
            None => Dependence::fallback(step_ms),
        }
    }
}

/// The correlation time (ms) of standardised trajectories: the slowest decay
/// `ln acf(k) / k` among the lags still above the noise — errors mix a fast-decaying part
/// with a persistent one (a window forecast off in level), and it is the persistent part
/// that decides whether a breach comes at all. 0 when not even lag 1 is correlated;
/// `None` when the windows are too short or flat to tell.
fn persistence(windows: &[Vec<f64>], step_ms: i64) -> Option<f64> {
    let longest = windows.iter().map(Vec::len).max().unwrap_or(0);
    let max_lag = MAX_ACF_LAG.min(longest / 2);
    if max_lag == 0 {
        return None;
    }
    let variance = pooled_product(windows, 0);
    if !(variance > 0.0) {
        return None;
    }
    let mut slowest = f64::NEG_INFINITY;
    for k in 1..=max_lag {
        let acf = pooled_product(windows, k) / variance;
        if !(acf > MIN_ACF) {
            break;
        }
        slowest = slowest.max(acf.min(MAX_RHO).ln() / k as f64);
    }
    if slowest == f64::NEG_INFINITY {
        // Not even lag 1 is correlated: independent errors from step to step.
        return Some(0.0);
    }
    Some(-(step_ms.max(1) as f64) / slowest.min(MAX_RHO.ln()))
}

/// Each window's persistent part: its centred moving median over [`SMOOTHING_MS`] (three
/// steps at least, a quarter of the longest window at most, an odd span).
fn smoothed(windows: &[Vec<f64>], step_ms: i64) -> Vec<Vec<f64>> {
    let half = smoothing_half(windows.iter().map(Vec::len).max().unwrap_or(0), step_ms);
    windows.iter().map(|w| moving_median(w, half)).collect()
}

/// Half the span of [`smoothed`]'s moving median for windows up to `longest` steps.
fn smoothing_half(longest: usize, step_ms: i64) -> usize {
    let span = usize::try_from(SMOOTHING_MS / step_ms.max(1)).unwrap_or(usize::MAX).clamp(3, (longest / 4).max(3)) | 1;
    span / 2
}

/// Each window's fast part, the error less its persistent part where both are observed;
/// windows with none left out.
fn fast_parts(windows: &[Vec<f64>], smoothed: &[Vec<f64>]) -> Vec<Vec<f64>> {
    windows
        .iter()
        .zip(smoothed)
        .map(|(w, p)| w.iter().zip(p).filter(|(e, s)| e.is_finite() && s.is_finite()).map(|(e, s)| e - s).collect::<Vec<f64>>())
        .filter(|f| !f.is_empty())
        .collect()
}

/// The centred moving median of `w` over `half` steps each side, skipping gaps (`NaN`
/// where a step has no observed neighbour): a median, so that a burst shorter than half
/// the span stays whole in the fast part instead of being smeared into the persistent one.
fn moving_median(w: &[f64], half: usize) -> Vec<f64> {
    let mut buf = Vec::with_capacity(2 * half + 1);
    (0..w.len())
        .map(|h| {
            buf.clear();
            buf.extend(w[h.saturating_sub(half)..(h + half + 1).min(w.len())].iter().copied().filter(|v| v.is_finite()));
            if buf.is_empty() {
                return f64::NAN;
            }
            // An even count (at a window's ends and beside gaps) takes the mean of the
            // middle two: the upper one alone would lean every end upward.
            let mid = buf.len() / 2;
            let upper = *buf.select_nth_unstable_by(mid, f64::total_cmp).1;
            if buf.len() % 2 == 0 {
                let lower = buf[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (lower + upper) / 2.0
            } else {
                upper
            }
        })
        .collect()
}

/// At most [`MAX_FAST_VALUES`] values standing for `v`, sorted: the mid-rank of each of
/// that many equal shares.
fn thin(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    if v.len() <= MAX_FAST_VALUES {
        return v;
    }
    let n = v.len();
    (0..MAX_FAST_VALUES).map(|i| v[((2 * i + 1) * n / (2 * MAX_FAST_VALUES)).min(n - 1)]).collect()
}

/// Mean of `e[h] · e[h + lag]` over every window and every pair where both are present.
fn pooled_product(windows: &[Vec<f64>], lag: usize) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for w in windows {
        for (a, b) in w.iter().zip(w.iter().skip(lag)) {
            if a.is_finite() && b.is_finite() {
                sum += a * b;
                n += 1;
            }
        }
    }
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

/// The quantile function of one step: `(z, value)` knots, increasing in z.
pub(super) struct Marginal {
    knots: Vec<(f64, f64)>,
}

impl Marginal {
    /// Step `h` of the bands the paths follow.
    fn at(forecast: &Forecast, h: usize) -> Self {
        Marginal::of(forecast.point.get(h).copied().unwrap_or(f64::NAN), forecast.path_bands(), h)
    }

    /// Step `h` of `bands` around `point`.
    pub(super) fn of(point: f64, bands: &[super::Band], h: usize) -> Self {
        let mut knots = vec![(0.0, point)];
        for b in bands {
            let z = normal_quantile(0.5 + b.level / 200.0);
            if let (Some(lo), Some(hi)) = (b.lower.get(h), b.upper.get(h))
                && z > 0.0
                && lo.is_finite()
                && hi.is_finite()
            {
                knots.push((-z, lo.min(point)));
                knots.push((z, hi.max(point)));
            }
        }
        knots.sort_by(|a, b| a.0.total_cmp(&b.0));
        knots.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-12);
        // Monotone: a value never falls as z rises (bands are nested after `finish`).
        for i in 1..knots.len() {
            knots[i].1 = knots[i].1.max(knots[i - 1].1);
        }
        Marginal { knots }
    }

    /// The lowest and highest value of its knots (equal for a band of no width).
    pub(super) fn range(&self) -> (f64, f64) {
        let (first, last) = self.edges();
        (first.1, last.1)
    }

    /// The outermost knots: the widest band's edges and their z.
    fn edges(&self) -> ((f64, f64), (f64, f64)) {
        let first = self.knots.first().copied().unwrap_or((0.0, f64::NAN));
        (first, self.knots.last().copied().unwrap_or(first))
    }

    /// The two knots around the first knot `reached` (the segment holding a point, or the
    /// outermost one beyond the knots). Needs two knots or more.
    fn segment(&self, reached: impl Fn(&(f64, f64)) -> bool) -> ((f64, f64), (f64, f64)) {
        let k = &self.knots;
        let i = match k.iter().position(reached) {
            Some(0) => 0,
            Some(i) => i - 1,
            None => k.len() - 2,
        };
        (k[i], k[i + 1])
    }

    /// The normal score whose value is `v` (the quantile function read backwards, extended
    /// beyond the knots with the outermost slopes); 0 for a single knot.
    pub(super) fn score_of(&self, v: f64) -> f64 {
        if self.knots.len() == 1 || !v.is_finite() {
            return 0.0;
        }
        let ((z0, v0), (z1, v1)) = self.segment(|(_, kv)| *kv >= v);
        if v1 > v0 { z0 + (v - v0) * (z1 - z0) / (v1 - v0) } else { z0 }
    }

    /// The value at standard-normal draw `z`.
    pub(super) fn value(&self, z: f64) -> f64 {
        if let [(_, only)] = self.knots[..] {
            return only;
        }
        let ((z0, v0), (z1, v1)) = self.segment(|(kz, _)| *kz >= z);
        let slope = if z1 > z0 { (v1 - v0) / (z1 - z0) } else { 0.0 };
        v0 + slope * (z - z0)
    }
}

/// One bucket's table from an error `x = sd_P · S + R` to its normal score: `x`'s own
/// distribution function (the normal persistent part convolved with the fast values of
/// every window) through the standard normal quantile.
struct RankTable {
    persistent_sd: f64,
    lo: f64,
    dx: f64,
    z: Vec<f64>,
}

impl RankTable {
    /// The error whose score is `z` (the table read backwards).
    fn error_at(&self, z: f64) -> f64 {
        let j = self.z.partition_point(|v| *v < z).clamp(1, RANK_TABLE - 1);
        let (z0, z1) = (self.z[j - 1], self.z[j]);
        let t = if z1 > z0 { ((z - z0) / (z1 - z0)).clamp(0.0, 1.0) } else { 0.0 };
        self.lo + (j as f64 - 1.0 + t) * self.dx
    }

    /// `fast`: a thinned sample of all fast values, sorted.
    fn new(persistent_sd: f64, fast: &[f64]) -> Option<Self> {
        let (&first, &last) = (fast.first()?, fast.last()?);
        // A floor on the persistent spread keeps the distribution function continuous
        // (an all-fast bucket would otherwise rank by steps).
        let spread = (last - first).abs().max(first.abs().max(last.abs()) * 1e-9).max(1e-12);
        let sd = persistent_sd.max(1e-3 * spread);
        let lo = first - 6.0 * sd;
        let hi = last + 6.0 * sd;
        let dx = (hi - lo) / (RANK_TABLE - 1) as f64;
        let k = fast.len() as f64;
        let z = (0..RANK_TABLE)
            .map(|j| {
                let x = lo + j as f64 * dx;
                let u = fast.iter().map(|r| normal_cdf((x - r) / sd)).sum::<f64>() / k;
                normal_quantile(u.clamp(1e-9, 1.0 - 1e-9))
            })
            .collect();
        Some(RankTable { persistent_sd: sd, lo, dx, z })
    }

    /// The normal score of `x`, interpolated in the table (clamped at its ends).
    fn score(&self, x: f64) -> f64 {
        let t = ((x - self.lo) / self.dx).clamp(0.0, (RANK_TABLE - 1) as f64);
        let i = (t.floor() as usize).min(RANK_TABLE - 2);
        let f = t - i as f64;
        self.z[i] + f * (self.z[i + 1] - self.z[i])
    }
}

/// Draws `paths` sample paths of `forecast`, one value per forecast step, seeded.
/// Values stay within the series' physical limits.
pub fn sample(forecast: &Forecast, paths: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut out = Vec::with_capacity(paths);
    for_each_path(forecast, paths, seed, |p| out.push(p.to_vec()));
    out
}

/// Draws the same paths as [`sample`] one at a time into one buffer and hands each to
/// `visit`: first passages over long horizons without holding every path in memory.
pub fn for_each_path(forecast: &Forecast, paths: usize, seed: u64, mut visit: impl FnMut(&[f64])) {
    let marginals: Vec<Marginal> = (0..forecast.point.len()).map(|h| Marginal::at(forecast, h)).collect();
    let model = ErrorProcess::new(&forecast.dependence, forecast.step_ms, &marginals);
    let season = forecast.periods.first().copied().unwrap_or(1).max(1);
    let replayed: Vec<Replayed> = forecast.dependence.replayed().map(|w| Replayed::split(w, forecast.step_ms, season)).collect();
    let share = replay_share(replayed.len());
    // Bounds as a plan file or an overflow might leave them: unordered or NaN clamp nothing.
    let (lo, hi) = match forecast.bounds {
        (lo, hi) if lo <= hi => (lo, hi),
        _ => (f64::NEG_INFINITY, f64::INFINITY),
    };
    let mut buf = vec![0.0; marginals.len()];
    let mut replays = 0usize;
    for p in 0..paths {
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(p as u64));
        // Replays spread evenly among the paths, the windows in turn.
        if (((p + 1) as f64) * share).floor() > ((p as f64) * share).floor() {
            let window = &replayed[replays % replayed.len()];
            let shift = window.shift(&mut rng);
            model.replay(window, shift, &marginals, &mut rng, &mut buf);
            replays += 1;
        } else {
            model.draw(&marginals, &mut rng, &mut buf);
        }
        // The paths that take a run at the end of history for the new level carry it
        // from the first step ([`super::tail`]): a share as large as its chance, spread
        // among the paths independently of which replay a window.
        let shift = forecast.new_level.filter(|l| ((p as f64 + 0.5) * GOLDEN_FRACTION).fract() < l.chance).map_or(0.0, |l| l.shift);
        for v in &mut buf {
            if !v.is_nan() {
                *v = (*v + shift).clamp(lo, hi);
            }
        }
        visit(&buf);
    }
}

/// The golden ratio's fractional part: `p × it` modulo 1 spreads any share of the paths
/// evenly over their indices, unlike the replays' every-other-path.
const GOLDEN_FRACTION: f64 = 0.618_033_988_749_895;

/// The share of paths that replay a backtest window: [`WINDOW_SHARE`] with
/// [`FULL_REPLAY_WINDOWS`] windows or more, less in proportion with fewer (a handful of
/// windows is too coarse a picture of the future to carry half the paths), none without.
pub fn replay_share(windows: usize) -> f64 {
    WINDOW_SHARE * windows.min(FULL_REPLAY_WINDOWS) as f64 / FULL_REPLAY_WINDOWS as f64
}

/// The fitted error process of the model paths: the persistent AR(1) part, the fast parts
/// and the tables that turn their sum into a step's normal score.
struct ErrorProcess<'a> {
    dep: &'a Dependence,
    rho: f64,
    innovation: f64,
    tables: Vec<RankTable>,
    /// Per table, where its sums cross the widest band's edges ([`Self::value`]).
    edges: Vec<(f64, f64)>,
    /// Per table, how far from 0 a fast part is a burst ([`burst_limit`] of the bucket's
    /// errors; infinite without the record's errors).
    burst: Vec<f64>,
}

impl<'a> ErrorProcess<'a> {
    fn new(dep: &'a Dependence, step_ms: i64, marginals: &[Marginal]) -> Self {
        let rho = dep.rho(step_ms as f64);
        let innovation = (1.0 - rho * rho).max(0.0).sqrt();
        let pool = thin(dep.fast.iter().flatten().copied().collect());
        let tables: Vec<RankTable> = dep.persistent_sd.iter().filter_map(|sd| RankTable::new(*sd, &pool)).collect();
        let tables = if tables.len() == dep.persistent_sd.len() { tables } else { Vec::new() };
        let edges: Vec<(f64, f64)> = match marginals.first().map(Marginal::edges) {
            Some(((z_lo, _), (z_hi, _))) if z_hi > 0.0 && z_lo < 0.0 => {
                tables.iter().map(|t| (t.error_at(z_lo), t.error_at(z_hi))).collect()
            }
            _ => Vec::new(),
        };
        let mut errors = vec![Vec::new(); tables.len()];
        if !errors.is_empty() {
            for w in &dep.windows {
                for (h, e) in w.iter().enumerate().filter(|(_, e)| e.is_finite()) {
                    errors[bucket_of(h, dep.bucket_len, tables.len())].push(*e);
                }
            }
        }
        let burst = errors.iter().map(|e| if e.len() < 2 { f64::INFINITY } else { burst_limit(e) }).collect();
        ErrorProcess { dep, rho, innovation, tables, edges, burst }
    }

    /// The value of step marginal `m` for the sum `x` of bucket `b`'s persistent draw and
    /// borrowed fast part `fast`: `x` through its rank to the band's quantile function,
    /// except that a burst past the widest band's edge goes as far beyond it as `x` does,
    /// so it comes as large as the record had it, and as clustered as its window. Other
    /// sums keep the band's distribution beyond the edge too: their raw excess is not an
    /// error's (the two parts are drawn apart, so on white noise `x` went past its 97.5 %
    /// point by over 1 sd four times as often as the errors did).
    fn value(&self, m: &Marginal, b: usize, t: &RankTable, x: f64, fast: f64) -> f64 {
        let (Some(&(x_lo, x_hi)), Some(&limit)) = (self.edges.get(b), self.burst.get(b)) else { return m.value(t.score(x)) };
        let ((_, v_lo), (_, v_hi)) = m.edges();
        if fast.abs() > limit && x > x_hi {
            v_hi + (x - x_hi)
        } else if fast.abs() > limit && x < x_lo {
            v_lo - (x_lo - x)
        } else {
            m.value(t.score(x))
        }
    }

    /// The next persistent draw: full spread at the first step, AR(1) in time after it.
    fn next(&self, previous: Option<f64>, rng: &mut ChaCha8Rng) -> f64 {
        let n: f64 = StandardNormal.sample(rng);
        match previous {
            Some(p) => self.rho * p + self.innovation * n,
            None => n,
        }
    }

    /// One path of the fitted process into `out`.
    fn draw(&self, marginals: &[Marginal], rng: &mut ChaCha8Rng, out: &mut [f64]) {
        let dep = self.dep;
        // The window whose fast errors this path borrows, from a random point in it.
        let fast: &[f64] = if self.tables.is_empty() { &[] } else { &dep.fast[rng.random_range(0..dep.fast.len())] };
        let offset = if fast.is_empty() { 0 } else { rng.random_range(0..fast.len()) };
        let mut persistent = None;
        for (h, (m, slot)) in marginals.iter().zip(out.iter_mut()).enumerate() {
            let s = self.next(persistent, rng);
            persistent = Some(s);
            let b = bucket_of(h, dep.bucket_len, self.tables.len());
            *slot = match self.tables.get(b) {
                // The persistent draw plus the borrowed fast error.
                Some(t) => {
                    let f = fast[(offset + h) % fast.len()];
                    self.value(m, b, t, t.persistent_sd * s + f, f)
                }
                None => m.value(s),
            };
        }
    }

    /// One backtest window's errors replayed on the forecast: its point plus the error
    /// the window made that many steps after its origin, its fast part (bursts, noise)
    /// taken `shift` steps later, round the window ([`Replayed`]). Where the window has a
    /// gap or ends before the horizon, the fitted process carries on from the replayed
    /// value's normal score.
    fn replay(&self, window: &Replayed, shift: usize, marginals: &[Marginal], rng: &mut ChaCha8Rng, out: &mut [f64]) {
        let mut score = None;
        for (h, (m, slot)) in marginals.iter().zip(out.iter_mut()).enumerate() {
            let point = m.value(0.0);
            match window.error(h, shift) {
                Some(e) => {
                    *slot = point + e;
                    score = Some(m.score_of(*slot));
                }
                _ => {
                    let s = self.next(score, rng);
                    score = Some(s);
                    *slot = m.value(s);
                }
            }
        }
    }
}

/// A backtest window's errors for replay, split as [`Dependence`] splits them: the
/// persistent part (the moving median: how far off in level the window's forecast was,
/// growing with the horizon) and the fast part (the rest: noise and bursts).
///
/// A replay keeps the error as it came but moves its bursts (fast parts past
/// [`BURST_MADS`] robust deviations) a whole number of seasons later, round the window: a
/// burst comes at the same hour of the day but on no fixed day. Replayed as it came, an
/// incident the window happened to hold four hours after its origin put 2.5 % of the paths
/// (one window's share) over the threshold at exactly that hour of the forecast, and the
/// runway's earliest date was tomorrow 04:15 on a CPU forecast at 22 % then. Ordinary
/// noise stays where it was: the split `e = persistent + fast` holds only at the same
/// step, and a persistent part from one step with a fast part from another is a sum of
/// two pieces that were never drawn together (on white noise, where a three-step median
/// is the persistent part, such sums crossed mean + 3σ within 48 hours in 21–24 % of
/// replays where the errors themselves did in 7 %; the closed form says 6.3 %).
struct Replayed {
    /// The errors as they came (`NaN` at gaps).
    errors: Vec<f64>,
    /// Half the moving median's span: within it of either end the persistent part is a
    /// one-sided median, and the errors there are replayed as they came (so the paths'
    /// spread at the first step stays the band's).
    half: usize,
    /// The steps the fast part turns by: the most whole seasons the interior holds (the
    /// whole interior when it holds none), so a burst keeps its hour of the day.
    cycle: usize,
    /// The season the turns are whole numbers of (1 when the interior holds none).
    season: usize,
    /// The persistent part, aligned with `errors`.
    persistent: Vec<f64>,
    /// The fast part, aligned with `errors` (`NaN` where either is missing).
    fast: Vec<f64>,
    /// Where the fast part is a burst ([`BURST_MADS`]): the only values a replay moves.
    burst: Vec<bool>,
}

/// The horizon bucket of step `h`, `bucket_len` steps each, of `buckets` (the last
/// holds every step past them; 0 when there are none).
fn bucket_of(h: usize, bucket_len: usize, buckets: usize) -> usize {
    (h / bucket_len.max(1)).min(buckets.saturating_sub(1))
}

/// A fast part further from 0 than this many robust deviations of the window's errors
/// (1.4826 × their MAD, a normal's sd) is a burst, which a replay moves to another day; a
/// normal error gets there once in 16,000.
const BURST_MADS: f64 = 4.0;

/// Share of the errors a burst lies beyond, however small their MAD ([`burst_limit`]).
const BURST_SHARE: f64 = 0.025;

/// How far from 0 a fast part must lie to be a burst among `errors`: [`BURST_MADS`]
/// robust deviations of them, and never within the [`BURST_SHARE`] of them furthest from
/// their median. Where more than half the errors share one value (counts on a flat
/// forecast) the MAD is about 0, and every ordinary ±1 would have been a burst taken
/// past the band by its raw size (an i.i.d. series on 9, 10, 11 with 55 % at 10: 0.48
/// for 11.5 within two days, now 0.42; the rest is the band's straight extension past
/// its edge, which a three-valued series does not have).
fn burst_limit(errors: &[f64]) -> f64 {
    let (median, mad) = super::robust::median_mad(errors);
    let mut far: Vec<f64> = errors.iter().filter(|e| e.is_finite()).map(|e| (e - median).abs()).collect();
    if far.is_empty() {
        return f64::INFINITY;
    }
    far.sort_by(f64::total_cmp);
    let k = (((1.0 - BURST_SHARE) * far.len() as f64).ceil() as usize).clamp(1, far.len());
    (BURST_MADS * mad).max(far[k - 1])
}

impl Replayed {
    fn split(errors: &[f64], step_ms: i64, season: usize) -> Self {
        let half = smoothing_half(errors.len(), step_ms);
        let persistent = moving_median(errors, half);
        let fast: Vec<f64> =
            errors.iter().zip(&persistent).map(|(e, p)| if e.is_finite() && p.is_finite() { e - p } else { f64::NAN }).collect();
        let inner = errors.len().saturating_sub(2 * half);
        let season = if season >= 1 && season <= inner { season } else { 1 };
        let cycle = inner / season * season;
        let limit = burst_limit(errors);
        let burst = fast.iter().map(|f| f.is_finite() && f.abs() > limit).collect();
        Replayed { errors: errors.to_vec(), half, cycle, season, persistent, fast, burst }
    }

    /// A turn of the fast part: a whole number of seasons within the cycle, drawn evenly
    /// (none among them).
    fn shift(&self, rng: &mut ChaCha8Rng) -> usize {
        self.season * rng.random_range(0..(self.cycle / self.season).max(1))
    }

    /// The replayed error `h` steps ahead: as it came, except that the bursts turn
    /// `shift` steps round the interior's whole seasons: where one lands, the persistent
    /// part there plus the burst; where one left, the persistent part alone. `None` at a
    /// gap or past the window.
    fn error(&self, h: usize, shift: usize) -> Option<f64> {
        let e = *self.errors.get(h).filter(|e| e.is_finite())?;
        // Within the interior's whole seasons every burst lands somewhere in it, at its
        // own hour of the day, so a replay holds as many bursts as its window. Elsewhere
        // the error stays as it came.
        if self.cycle == 0 || h < self.half || h >= self.half + self.cycle {
            return Some(e);
        }
        let j = self.half + (h - self.half + shift) % self.cycle;
        let persistent = self.persistent[h];
        if !persistent.is_finite() {
            return Some(e);
        }
        Some(if self.burst[j] {
            persistent + self.fast[j]
        } else if self.burst[h] {
            persistent
        } else {
            e
        })
    }
}

/// When paths first reach a threshold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FirstPassage {
    /// First step at or above the threshold, per path that reached it, sorted.
    crossed: Vec<usize>,
    /// Paths in all.
    paths: usize,
    /// The evidence prior weighed into the probability ([`FirstPassage::with_prior`]):
    /// its weight and its chance of a crossing.
    prior: Option<(f64, f64)>,
}

/// How much a breach probability read from sample paths leans on a prior, given the
/// backtest windows the paths' errors came from: `1 / (windows + 1)`, the weight of one
/// pseudo-window among them, as Jeffreys' rule smooths a share of n trials toward even
/// odds ((n·p + ½)/(n + 1)). The paths can only be as varied as the windows they learnt
/// from: with six windows of real server metrics, 2,000 paths said 0.00 for breaches that
/// came 8 % of the time and 0.99 for ones that came 85 % (`bench breach` on CloudWatch
/// series); smoothed, the calibration error fell from 0.135 to about 0.09 while M4's
/// twenty windows kept theirs (0.013). 0 without windows (no backtest: nothing to weigh).
pub fn prior_weight(windows: usize) -> f64 {
    if windows == 0 { 0.0 } else { 1.0 / (windows as f64 + 1.0) }
}

/// The prior's chance of a crossing: certain for a level the series is already at or
/// above; even odds for one it has been at before or that its point forecast reaches;
/// none for one it never came near (so that weighing never lends a threshold far past
/// everything a chance of its own).
pub fn prior_chance(already: bool, reached: bool) -> f64 {
    if already {
        1.0
    } else if reached {
        0.5
    } else {
        0.0
    }
}

/// A share of sample paths weighed against the prior: `weight` ([`prior_weight`]) on
/// `chance` ([`prior_chance`]), the rest on the share. The one rule the runway's breach
/// probabilities and `simulate`'s saturation chance both follow.
pub fn weigh(share: f64, weight: f64, chance: f64) -> f64 {
    (1.0 - weight) * share + weight * chance
}

impl FirstPassage {
    /// The first step at or above `threshold` on each path.
    pub fn of<'a>(paths: impl IntoIterator<Item = &'a [f64]>, threshold: f64) -> Self {
        let mut fp = FirstPassage::default();
        paths.into_iter().for_each(|p| fp.add(p, threshold));
        fp
    }

    /// Adds one path.
    pub fn add(&mut self, path: &[f64], threshold: f64) {
        self.paths += 1;
        if let Some(i) = path.iter().position(|v| *v >= threshold) {
            let at = self.crossed.partition_point(|c| *c <= i);
            self.crossed.insert(at, i);
        }
    }

    /// The same, its probability weighed against a prior as the evidence behind the paths
    /// allows ([`weigh`]): `weight` ([`Dependence::evidence_weight`]) on a crossing with
    /// chance `chance` ([`prior_chance`]). The prior says how likely, not when: its
    /// crossings fall when the paths' do, so the dates are quantiles of that mixture
    /// ([`quantile`](Self::quantile)) and no date is ever made up where no path crossed.
    pub fn with_prior(mut self, weight: f64, chance: f64) -> Self {
        self.prior = (weight > 0.0).then_some((weight, chance.clamp(0.0, 1.0)));
        self
    }

    /// P(the path reaches the threshold at some step): the share of paths that did
    /// (weighed with the prior when there is one).
    pub fn probability(&self) -> f64 {
        if self.paths == 0 {
            return f64::NAN;
        }
        let share = self.crossed.len() as f64 / self.paths as f64;
        self.prior.map_or(share, |(weight, chance)| weigh(share, weight, chance))
    }

    /// The `q` quantile (0 to 1) of the first-crossing step, counting paths that never
    /// cross as crossing after the horizon: `None` when that quantile lies beyond it.
    /// With a prior, of the mixture [`probability`](Self::probability) is read from, its
    /// crossings timed as the paths' are: P(T ≤ s) is the paths' share crossed by `s`
    /// scaled to the weighed probability, so a date inside the horizon never comes with a
    /// probability under its quantile (a noiseless line with six windows of evidence,
    /// 0.93, has no latest date at 97.5 %; before, the paths' own 1.00 gave it one).
    pub fn quantile(&self, q: f64) -> Option<usize> {
        if self.paths == 0 || !(0.0..=1.0).contains(&q) || self.crossed.is_empty() {
            return None;
        }
        let probability = self.probability();
        if probability.is_nan() || probability < q {
            return None;
        }
        // The smallest step s with P(T ≤ s) = probability × (paths crossed by s) / crossed ≥ q.
        let k = ((q / probability * self.crossed.len() as f64 - 1e-9).ceil() as usize).clamp(1, self.crossed.len());
        self.crossed.get(k - 1).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::{Band, normal_cdf};

    #[test]
    fn crossing_dates_are_quantiles_of_the_weighed_mixture() {
        // Ten paths all crossing at step 5, weighed 1/7 against even odds: 6/7 + 0.5/7 =
        // 0.9286. The median and the 90 % quantile are step 5; the 97.5 % quantile needs
        // a probability of 0.975 and lies beyond the horizon.
        let line: Vec<Vec<f64>> = (0..10).map(|_| (0..10).map(|i| i as f64).collect()).collect();
        let fp = FirstPassage::of(line.iter().map(Vec::as_slice), 5.0).with_prior(prior_weight(6), 0.5);
        assert!((fp.probability() - 13.0 / 14.0).abs() < 1e-12);
        assert_eq!([fp.quantile(0.5), fp.quantile(0.9), fp.quantile(0.975)], [Some(5), Some(5), None]);
        // Six of ten paths cross at steps 1 to 6, weighed half against no chance: 0.3.
        // No median; the 20 % quantile is the paths' 0.2 / 0.3 × 6 = 4th crossing, step 4.
        let some: Vec<Vec<f64>> = (0..10).map(|k| (0..10).map(|i| if k < 6 && i == k + 1 { 9.0 } else { 0.0 }).collect()).collect();
        let fp = FirstPassage::of(some.iter().map(Vec::as_slice), 9.0).with_prior(0.5, 0.0);
        assert!((fp.probability() - 0.3).abs() < 1e-12);
        assert_eq!([fp.quantile(0.5), fp.quantile(0.2)], [None, Some(4)]);
        // Without a prior the quantiles are the paths' own: the 60 % quantile is step 6.
        assert_eq!(FirstPassage::of(some.iter().map(Vec::as_slice), 9.0).quantile(0.6), Some(6));
    }

    /// Reflection principle for W_t = μt + σB_t: P(max_{s≤T} W_s ≥ a), a > 0.
    fn reflection(a: f64, mu: f64, sigma: f64, t: f64) -> f64 {
        let s = sigma * t.sqrt();
        1.0 - normal_cdf((a - mu * t) / s) + (2.0 * mu * a / (sigma * sigma)).exp() * normal_cdf((-a - mu * t) / s)
    }

    #[test]
    fn first_passage_of_a_random_walk_matches_the_reflection_principle() {
        let steps = 2000;
        let dt = 1.0 / steps as f64;
        for &(a, mu, sigma) in &[(1.0, 0.0, 1.0), (1.0, 0.5, 1.0), (1.5, -0.3, 1.2), (0.8, 1.0, 0.6)] {
            let paths: Vec<Vec<f64>> = (0..4000)
                .map(|p| {
                    let mut rng = ChaCha8Rng::seed_from_u64(p);
                    let mut w = 0.0;
                    (0..steps)
                        .map(|_| {
                            let n: f64 = StandardNormal.sample(&mut rng);
                            w += mu * dt + sigma * dt.sqrt() * n;
                            w
                        })
                        .collect()
                })
                .collect();
            let fp = FirstPassage::of(paths.iter().map(Vec::as_slice), a);
            let expected = reflection(a, mu, sigma, 1.0);
            assert!((fp.probability() - expected).abs() < 0.03, "a {a} mu {mu} sigma {sigma}: {} vs {expected}", fp.probability());
            // The median crossing time agrees with the closed form's median, when it has one.
            if expected > 0.6 {
                let s = fp.quantile(0.5).unwrap() as f64 * dt;
                let at = reflection(a, mu, sigma, s);
                assert!((at - 0.5).abs() < 0.04, "P(T ≤ median) = {at}");
            }
        }
    }

    fn flat(level: f64, half: f64, n: usize, dep: Dependence) -> Forecast {
        let point = vec![level; n];
        let mut f = Forecast::from_parts(
            "x",
            0,
            60_000,
            point.clone(),
            vec![
                Band { level: 80.0, lower: vec![level - 0.6 * half; n], upper: vec![level + 0.6 * half; n] },
                Band { level: 95.0, lower: vec![level - half; n], upper: vec![level + 2.0 * half; n] },
            ],
            "flat",
        );
        f.dependence = dep;
        f
    }

    #[test]
    fn the_evidence_prior_weighs_the_probability_and_leaves_the_dates_to_the_paths() {
        // 100 paths, 40 crossing at step 10; 4 windows: weight 1/5 on even odds.
        let mut fp = FirstPassage::default();
        for i in 0..100 {
            let mut p = vec![0.0; 50];
            if i < 40 {
                p[10] = 1.0;
            }
            fp.add(&p, 1.0);
        }
        let fp = fp.with_prior(prior_weight(4), 0.5);
        assert!((fp.probability() - (0.8 * 0.4 + 0.2 * 0.5)).abs() < 1e-12);
        assert_eq!(fp.quantile(0.025), Some(10), "the dates are the paths' own");
        assert_eq!(fp.quantile(0.4), Some(10));
        assert_eq!(fp.quantile(0.5), None);
        // No path crosses: 9 windows, weight 0.1, even odds: 5 %, and no date made up.
        let mut none = FirstPassage::default();
        (0..10).for_each(|_| none.add(&[0.0; 100], 1.0));
        let none = none.with_prior(prior_weight(9), 0.5);
        assert!((none.probability() - 0.05).abs() < 1e-12);
        assert_eq!(none.quantile(0.025), None);
        // Already past it: certain, whatever the windows. Never near: no chance lent.
        let mut all = FirstPassage::default();
        (0..10).for_each(|_| all.add(&[2.0; 5], 1.0));
        assert_eq!(all.with_prior(prior_weight(3), prior_chance(true, true)).probability(), 1.0);
        assert_eq!(prior_chance(false, false), 0.0);
        assert_eq!(prior_chance(false, true), 0.5);
        assert_eq!(prior_weight(0), 0.0);
    }

    #[test]
    fn paths_follow_the_calibrated_band_where_a_band_was_widened() {
        // Shown: the 95 % band widened to ±20; calibrated (what the paths follow): ±10.
        let mut f = flat(50.0, 10.0, 5, Dependence::persistent(1e12, true));
        f.path_bands = f.bands.clone();
        for b in &mut f.bands {
            b.lower.iter_mut().for_each(|v| *v = 50.0 - 2.0 * (50.0 - *v));
            b.upper.iter_mut().for_each(|v| *v = 50.0 + 2.0 * (*v - 50.0));
        }
        let paths = sample(&f, 20_000, 7);
        let mut first: Vec<f64> = paths.iter().map(|p| p[0]).collect();
        first.sort_by(f64::total_cmp);
        let q = |p: f64| first[(p * first.len() as f64) as usize];
        assert!((q(0.025) - 40.0).abs() < 0.4 && (q(0.975) - 70.0).abs() < 0.8, "{} {}", q(0.025), q(0.975));
    }

    #[test]
    fn paths_spread_at_step_zero_is_the_bands() {
        let f = flat(50.0, 10.0, 5, Dependence::persistent(1e12, true));
        let paths = sample(&f, 20_000, 7);
        let mut first: Vec<f64> = paths.iter().map(|p| p[0]).collect();
        first.sort_by(f64::total_cmp);
        let q = |p: f64| first[(p * first.len() as f64) as usize];
        assert!((q(0.025) - 40.0).abs() < 0.4, "{}", q(0.025));
        assert!((q(0.975) - 70.0).abs() < 0.8, "{}", q(0.975));
        assert!((q(0.10) - 44.0).abs() < 0.4, "{}", q(0.10));
        assert!((q(0.90) - 56.0).abs() < 0.4, "{}", q(0.90));
        assert!((q(0.5) - 50.0).abs() < 0.2);
    }

    #[test]
    fn perfect_dependence_gives_the_single_step_probability_and_independence_more() {
        // Threshold at the 95 % band's upper edge: one step alone crosses with 2.5 %.
        let persistent = flat(50.0, 10.0, 100, Dependence::persistent(1e15, true));
        let fp = FirstPassage::of(sample(&persistent, 8000, 1).iter().map(Vec::as_slice), 70.0);
        assert!((fp.probability() - 0.025).abs() < 0.008, "{}", fp.probability());
        let independent = flat(50.0, 10.0, 100, Dependence::persistent(0.0, true));
        let fp = FirstPassage::of(sample(&independent, 8000, 1).iter().map(Vec::as_slice), 70.0);
        let expected = 1.0 - 0.975f64.powi(100);
        assert!((fp.probability() - expected).abs() < 0.02, "{} vs {expected}", fp.probability());
    }

    /// `count` backtest windows of errors, window `w` drawn by `one(w, rng)` from its own
    /// generator seeded `seed + w`.
    fn synthetic_windows(count: u64, seed: u64, one: impl Fn(u64, &mut ChaCha8Rng) -> Vec<f64>) -> Vec<Vec<f64>> {
        (0..count).map(|w| one(w, &mut ChaCha8Rng::seed_from_u64(seed + w))).collect()
    }

    #[test]
    fn dependence_is_estimated_in_time() {
        // AR(1) errors with rho 0.9 per 5-minute step: tau = 300 s / -ln 0.9.
        let windows = synthetic_windows(40, 0, |_, rng| {
            let mut e: f64 = StandardNormal.sample(rng);
            (0..200)
                .map(|_| {
                    let n: f64 = StandardNormal.sample(rng);
                    e = 0.9 * e + (1.0 - 0.81f64).sqrt() * n;
                    e
                })
                .collect()
        });
        let d = Dependence::estimate(&windows, 300_000);
        let rho = d.rho(300_000.0);
        assert!((rho - 0.9).abs() < 0.03, "{rho}");
        // At 15-second steps the same process is far more persistent per step.
        assert!((d.rho(15_000.0) - 0.9f64.powf(0.05)).abs() < 0.01);
    }

    #[test]
    fn a_persistent_error_part_sets_the_dependence() {
        // Each window is off by a level b ~ N(0, 1) throughout, plus AR(1) noise with
        // rho 0.3 and unit variance: acf(k) = (1 + 0.3^k) / 2, which tends to 0.5. The
        // slowest decay over lags 1..24 is at lag 24: rho = ((1 + 0.3^24) / 2)^(1/24).
        let windows = synthetic_windows(400, 1000, |_, rng| {
            let b: f64 = StandardNormal.sample(rng);
            let mut e: f64 = StandardNormal.sample(rng);
            (0..48)
                .map(|_| {
                    let n: f64 = StandardNormal.sample(rng);
                    e = 0.3 * e + (1.0 - 0.09f64).sqrt() * n;
                    b + e
                })
                .collect()
        });
        let rho = Dependence::estimate(&windows, 60_000).rho(60_000.0);
        let expected = 0.5f64.powf(1.0 / 24.0);
        assert!((rho - expected).abs() < 0.01, "{rho} vs {expected}");
    }

    /// A flat forecast at 50 over `n` 5-minute steps whose 80 % and 95 % bands are those
    /// of N(0, sd²) at every step.
    fn flat_normal(sd: f64, n: usize, dep: Dependence) -> Forecast {
        let band = |level: f64| {
            let z = normal_quantile(0.5 + level / 200.0);
            Band { level, lower: vec![50.0 - z * sd; n], upper: vec![50.0 + z * sd; n] }
        };
        let mut f = Forecast::from_parts("x", 0, 300_000, vec![50.0; n], vec![band(80.0), band(95.0)], "flat");
        f.dependence = dep;
        f
    }

    /// A flat forecast whose bands are those of `x = S + R`, S ~ N(0, 1), R ~ N(0, 0.5²):
    /// total sd sqrt(1.25).
    fn mixed(dep: Dependence) -> Forecast {
        flat_normal(1.25f64.sqrt(), 100, dep)
    }

    /// Ten windows of fast errors N(0, 0.5²); two of them hold a burst of +10.
    fn fast_windows() -> Vec<Vec<f64>> {
        synthetic_windows(10, 77, |w, rng| {
            (0..100)
                .map(|h| {
                    let n: f64 = StandardNormal.sample(rng);
                    0.5 * n + if w < 2 && h == 40 { 10.0 } else { 0.0 }
                })
                .collect()
        })
    }

    #[test]
    fn a_fast_part_keeps_the_bands_and_brings_bursts_as_often_as_the_windows_had_them() {
        let dep = Dependence {
            tau_ms: 1e15,
            estimated: true,
            bucket_len: 100,
            persistent_sd: vec![1.0],
            fast: fast_windows(),
            windows: Vec::new(),
        };
        let f = mixed(dep);
        let paths = sample(&f, 4000, 3);
        // The spread at step 0 is the bands' (2.5/10/90/97.5 % at their edges).
        let mut first: Vec<f64> = paths.iter().map(|p| p[0]).collect();
        first.sort_by(f64::total_cmp);
        let q = |p: f64| first[(p * first.len() as f64) as usize];
        for (p, level) in [(0.025, 95.0), (0.10, 80.0), (0.90, 80.0), (0.975, 95.0)] {
            let b = f.band(level).unwrap();
            let edge = if p < 0.5 { b.lower[0] } else { b.upper[0] };
            assert!((q(p) - edge).abs() < 0.08, "{p}: {} vs {edge}", q(p));
        }
        // Without the record's errors (a plan file from before they were kept) every
        // step keeps the band's distribution beyond its edges too: 56 lies 5.4 sd past
        // the point, where the band's normal tail holds nothing. A borrowed burst only
        // ranks high (with them, a burst goes past the edge by its own size: the test below).
        let fp = FirstPassage::of(paths.iter().map(Vec::as_slice), 56.0);
        assert!(fp.probability() < 0.01, "{}", fp.probability());
        for (p, z) in [(0.001, -3.09), (0.999, 3.09)] {
            let q = step_quantile(&paths, 50, p);
            assert!((q - (50.0 + z * 1.25f64.sqrt())).abs() < 0.35, "{p}: {q}");
        }
        // The fast part's bursts still rank at the top: with them, the band's 99.9 %
        // point (53.5) is reached more often than by the same bands all persistent, whose
        // paths move slowly.
        let bursty = FirstPassage::of(paths.iter().map(Vec::as_slice), 53.5).probability();
        let smooth =
            FirstPassage::of(sample(&mixed(Dependence::persistent(1e15, true)), 4000, 3).iter().map(Vec::as_slice), 53.5).probability();
        assert!(bursty > smooth + 0.02, "{bursty} vs {smooth}");
    }

    #[test]
    fn errors_split_into_a_persistent_and_a_fast_part() {
        // Each window: a level b ~ N(0, 2²) held throughout, plus white noise N(0, 1): the
        // hour-long moving median (12 steps at 5 min, so a span of 13) keeps the level and
        // the median's noise, variance ≈ π/(2·13). The fast part e − median has variance
        // 1 + π/26 − 2/13: the median of normals covaries with each of them as their mean
        // does, 1/13.
        let windows = synthetic_windows(200, 500, |_, rng| {
            let b: f64 = StandardNormal.sample(rng);
            (0..96)
                .map(|_| {
                    let n: f64 = StandardNormal.sample(rng);
                    2.0 * b + n
                })
                .collect()
        });
        let d = Dependence::from_errors(&windows, 96, 300_000);
        let sd = d.persistent_sd[0];
        assert!((sd - (4.0 + std::f64::consts::PI / 26.0).sqrt()).abs() < 0.2, "{sd}");
        let fast: Vec<f64> = d.fast.iter().flatten().copied().collect();
        let var = fast.iter().map(|v| v * v).sum::<f64>() / fast.len() as f64;
        assert!((var - (1.0 + std::f64::consts::PI / 26.0 - 2.0 / 13.0)).abs() < 0.08, "{var}");
        assert!(d.rho(300_000.0) > 0.98, "the level persists: {}", d.rho(300_000.0));
    }

    /// The `p` quantile of step `h` over `paths`.
    fn step_quantile(paths: &[Vec<f64>], h: usize, p: f64) -> f64 {
        let mut v: Vec<f64> = paths.iter().map(|x| x[h]).collect();
        v.sort_by(f64::total_cmp);
        v[((p * v.len() as f64) as usize).min(v.len() - 1)]
    }

    #[test]
    fn replayed_windows_keep_the_bands_and_their_own_bursts() {
        // 400 windows of N(0, 1) errors, the band's own distribution; one in ten holds a
        // burst of +10 at step 20, far beyond the 95 % edge (51.96).
        let windows = synthetic_windows(400, 9, |w, rng| {
            (0..50)
                .map(|h| {
                    let n: f64 = StandardNormal.sample(rng);
                    n + if w % 10 == 0 && h == 20 { 10.0 } else { 0.0 }
                })
                .collect()
        });
        let f = flat_normal(1.0, 50, Dependence::from_errors(&windows, 50, 300_000));
        assert_eq!(f.dependence.windows.len(), 400);
        let paths = sample(&f, 8000, 5);
        // Half the paths replay a window, half come from the fitted process: both carry
        // the band's spread from step 0.
        for (p, edge) in [(0.025, 50.0 - 1.96), (0.10, 50.0 - 1.2816), (0.5, 50.0), (0.90, 50.0 + 1.2816), (0.975, 50.0 + 1.96)] {
            let q = step_quantile(&paths, 0, p);
            assert!((q - edge).abs() < 0.12, "step 0, {p}: {q} vs {edge}");
        }
        // 57 is reached only by a burst: a replay meets one with the windows' 1 in 10, and
        // the fitted process borrows the bursts as often and takes them past the band's
        // edge by their own size.
        let fp = FirstPassage::of(paths.iter().map(Vec::as_slice), 57.0);
        assert!((fp.probability() - 0.1).abs() < 0.02, "{}", fp.probability());
        // The replays meet the windows' bursts as often as the windows did, on no fixed
        // step: without seasons, anywhere round the window's interior (steps 6 to 43).
        let replay_only = FirstPassage::of(paths.iter().skip(1).step_by(2).map(Vec::as_slice), 57.0);
        assert!((replay_only.probability() - 0.1).abs() < 0.01, "{}", replay_only.probability());
        let (early, late) = (replay_only.quantile(0.02).unwrap(), replay_only.quantile(0.08).unwrap());
        assert!(early < 15 && late > 30, "bursts spread over the window: {early}..{late}");
    }

    /// White noise has no burst to move: a replay gives the window's errors as they came,
    /// so replays cross mean + 3σ within 48 hourly steps as often as the windows did, and
    /// as the closed form says (1 − Φ(3)^48 = 0.0628). Before, a three-step median's
    /// persistent part from one step plus the fast part of another gave sums that crossed
    /// 21–24 % of the time.
    #[test]
    fn replays_of_white_noise_cross_as_often_as_its_windows() {
        let windows = synthetic_windows(400, 77, |_, rng| (0..48).map(|_| StandardNormal.sample(rng)).collect());
        let own = windows.iter().filter(|w| w.iter().any(|e| *e >= 3.0)).count() as f64 / windows.len() as f64;
        let band = |level: f64| {
            let z = normal_quantile(0.5 + level / 200.0);
            Band { level, lower: vec![50.0 - z; 48], upper: vec![50.0 + z; 48] }
        };
        let mut f = Forecast::from_parts("x", 0, crate::time::HOUR_MS, vec![50.0; 48], vec![band(80.0), band(95.0)], "flat");
        f.dependence = Dependence::from_errors(&windows, 48, crate::time::HOUR_MS);
        let paths = sample(&f, 8000, 11);
        let replays = FirstPassage::of(paths.iter().skip(1).step_by(2).map(Vec::as_slice), 53.0).probability();
        let closed = 1.0 - normal_cdf(3.0).powi(48);
        assert!((replays - own).abs() < 0.015, "replays {replays}, windows {own}");
        assert!((replays - closed).abs() < 0.03, "replays {replays}, closed form {closed}");
        // The fitted paths keep the band's distribution past its edge (white noise has no
        // burst): about the closed form too (they read the errors' three-step median as
        // persistence, which only lowers it). With the raw excess of their two-part sum
        // they crossed 0.16 of the time.
        let fitted = FirstPassage::of(paths.iter().step_by(2).map(Vec::as_slice), 53.0).probability();
        assert!((fitted - closed).abs() < 0.03, "fitted {fitted}, closed form {closed}");
    }

    /// A replayed burst keeps its hour: turned by whole seasons round the interior's whole
    /// seasons, a burst at step 23 of a season of 10 lands only on steps ending in 3.
    #[test]
    fn a_replayed_burst_keeps_its_hour_of_the_day() {
        let mut errors = vec![0.0; 60];
        errors[23] = 10.0;
        let w = Replayed::split(&errors, 3_600_000, 10); // hourly: the median spans 3 steps
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut landed = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let shift = w.shift(&mut rng);
            assert_eq!(shift % 10, 0);
            let at: Vec<usize> = (0..60).filter(|&h| w.error(h, shift).is_some_and(|e| e > 5.0)).collect();
            assert_eq!(at.len(), 1, "one burst a replay: {at:?}");
            landed.insert(at[0]);
        }
        assert!(landed.iter().all(|h| h % 10 == 3) && landed.len() > 3, "{landed:?}");
    }

    #[test]
    fn a_replay_carries_on_past_its_window_and_over_its_gaps_with_the_bands_spread() {
        // Windows ten steps long with a gap at step 4, for a forecast 60 steps long.
        let windows = synthetic_windows(400, 21, |_, rng| {
            (0..10)
                .map(|h| {
                    let n: f64 = StandardNormal.sample(rng);
                    if h == 4 { f64::NAN } else { n }
                })
                .collect()
        });
        let f = flat_normal(1.0, 60, Dependence::from_errors(&windows, 10, 300_000));
        let paths = sample(&f, 8000, 6);
        assert!(paths.iter().all(|p| p.iter().all(|v| v.is_finite())));
        for h in [4, 30, 59] {
            for (p, edge) in [(0.025, 50.0 - 1.96), (0.5, 50.0), (0.975, 50.0 + 1.96)] {
                let q = step_quantile(&paths, h, p);
                assert!((q - edge).abs() < 0.12, "step {h}, {p}: {q} vs {edge}");
            }
        }
    }

    #[test]
    fn replayed_random_walk_windows_first_pass_as_the_reflection_principle_says() {
        // Each window a Gaussian random walk with drift mu and volatility sigma over unit
        // time: the replayed paths' first passage must be the closed form's.
        let steps = 1000;
        let dt = 1.0 / steps as f64;
        for &(a, mu, sigma) in &[(1.0, 0.0, 1.0), (1.0, 0.5, 1.0), (1.5, -0.3, 1.2)] {
            let windows = synthetic_windows(3000, 40, |_, rng| {
                let mut w = 0.0;
                (0..steps)
                    .map(|_| {
                        let n: f64 = StandardNormal.sample(rng);
                        w += mu * dt + sigma * dt.sqrt() * n;
                        w
                    })
                    .collect()
            });
            // A forecast of 0 whose bands are the walk's own marginals.
            let band = |level: f64| {
                let z = normal_quantile(0.5 + level / 200.0);
                let at = |h: usize, sign: f64| {
                    let t = (h + 1) as f64 * dt;
                    mu * t + sign * z * sigma * t.sqrt()
                };
                Band { level, lower: (0..steps).map(|h| at(h, -1.0)).collect(), upper: (0..steps).map(|h| at(h, 1.0)).collect() }
            };
            let mut f = Forecast::from_parts("rw", 0, 60_000, vec![0.0; steps], vec![band(80.0), band(95.0)], "rw");
            f.dependence = Dependence { windows, ..Dependence::persistent(1e15, true) };
            let marginals: Vec<Marginal> = (0..steps).map(|h| Marginal::at(&f, h)).collect();
            let process = ErrorProcess::new(&f.dependence, f.step_ms, &marginals);
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let mut buf = vec![0.0; steps];
            let mut fp = FirstPassage::default();
            for w in &f.dependence.windows {
                let w = Replayed::split(w, f.step_ms, 1);
                let shift = w.shift(&mut rng);
                process.replay(&w, shift, &marginals, &mut rng, &mut buf);
                fp.add(&buf, a);
            }
            let expected = reflection(a, mu, sigma, 1.0);
            assert!((fp.probability() - expected).abs() < 0.03, "a {a} mu {mu} sigma {sigma}: {} vs {expected}", fp.probability());
        }
    }

    #[test]
    fn a_plan_file_keeps_the_windows_once_and_gets_the_same_dependence_back() {
        let mut windows = fast_windows();
        windows[3][7] = f64::NAN;
        let d = Dependence::from_errors(&windows, 25, 300_000);
        assert!(!d.fast.is_empty());
        let back: Dependence = ron::from_str(&ron::to_string(&d).unwrap()).unwrap();
        assert!(back.fast.is_empty() && back.windows.len() == windows.len());
        assert_eq!(back.restored(300_000), d);
        // A file written before windows were kept still has its fast parts.
        let old = Dependence { windows: Vec::new(), ..d.clone() };
        let back: Dependence = ron::from_str(&ron::to_string(&old).unwrap()).unwrap();
        assert_eq!(back.restored(300_000), old);
    }

    #[test]
    fn quantiles_count_paths_that_never_cross() {
        let paths = [vec![0.0, 1.0, 0.0], vec![0.0, 0.0, 1.0], vec![0.0; 3], vec![0.0; 3]];
        let fp = FirstPassage::of(paths.iter().map(Vec::as_slice), 1.0);
        assert_eq!(fp.probability(), 0.5);
        assert_eq!(fp.quantile(0.25), Some(1));
        assert_eq!(fp.quantile(0.5), Some(2));
        assert_eq!(fp.quantile(0.75), None, "beyond the horizon");
    }
}
