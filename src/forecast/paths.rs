//! Sample paths: joint draws of the future that carry the calibrated bands at every step
//! and the dependence between steps that the backtest errors showed. The runway's breach
//! probability and crossing dates, and `simulate`'s risk, are read from these paths.
//!
//! The model is a Gaussian copula. A standardised error process `Z` is AR(1) in *time*:
//! two steps `dt` apart correlate `exp(-dt / tau)`, so the same process can be drawn at
//! the forecast's step or at a replay's 15-second step. `Z` starts with its full spread
//! at step 0 (`Z₀ ~ N(0, 1)`): the first forecast step is as uncertain as its band says.
//! Each draw of `Z` at step `h` is mapped through that step's quantile function, which
//! passes through the point forecast (z = 0) and every band edge (z = ±z_level), linear
//! in z between them and extended beyond the widest band with its outermost slope. So
//! the paths' spread at every step *is* the band's, whatever shape calibration gave it.
//!
//! `tau` is estimated from the backtest: the within-window autocorrelation of the
//! errors (each divided by the model's own sigma at that step) at lags 1…L, taking the
//! slowest decay `ln acf(k) / k` among the lags still above the noise. Errors are not centred per window: a
//! window whose forecast was off in level has errors of one sign throughout, which is
//! exactly the persistence that makes a breach either last or never come.

use super::Forecast;
use super::stats::normal_quantile;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// Correlation of consecutive standardised errors assumed when there is no backtest to
/// estimate it from: 0.95 per step (errors persist for about twenty steps).
pub const FALLBACK_RHO_PER_STEP: f64 = 0.95;

/// Sample paths drawn for a runway: the Monte Carlo error of a probability near 0.5 is
/// 0.5 / sqrt(2000) ≈ 0.011, well inside the calibration the issue asks for (0.05).
pub const RUNWAY_PATHS: usize = 2000;

/// Fixed seed of the runway's paths: the same forecast gives the same runway.
pub const RUNWAY_SEED: u64 = 0x5EED_0F_4EAD_4007;

/// Largest lag (in steps) used to estimate the dependence; beyond it the pooled
/// autocorrelation is mostly noise.
const MAX_ACF_LAG: usize = 48;
/// Autocorrelations below this are too close to noise to fit a decay through.
const MIN_ACF: f64 = 0.05;
/// Largest correlation per step: keeps the innovation non-zero.
const MAX_RHO: f64 = 0.9999;

/// How forecast errors depend on each other across time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Dependence {
    /// Correlation time in milliseconds: errors `dt` apart correlate `exp(-dt / tau)`.
    pub tau_ms: f64,
    /// Where it came from: `true` when estimated from backtest errors.
    pub estimated: bool,
}

impl Default for Dependence {
    /// The fallback at 5-minute steps (plan files written before dependence was kept).
    fn default() -> Self {
        Dependence::fallback(5 * 60_000)
    }
}

impl Dependence {
    /// The fallback for a step of `step_ms`: [`FALLBACK_RHO_PER_STEP`] per step.
    pub fn fallback(step_ms: i64) -> Self {
        Dependence { tau_ms: -(step_ms.max(1) as f64) / FALLBACK_RHO_PER_STEP.ln(), estimated: false }
    }

    /// The correlation between two draws `dt_ms` apart.
    pub fn rho(&self, dt_ms: f64) -> f64 {
        if !(self.tau_ms > 0.0) || !dt_ms.is_finite() {
            return 0.0;
        }
        (-dt_ms.max(0.0) / self.tau_ms).exp().min(MAX_RHO)
    }

    /// Estimates the dependence from standardised error trajectories (one per backtest
    /// window, `NaN` where the series had a gap) of a series stepped every `step_ms`.
    /// Falls back to [`Dependence::fallback`] when the windows are too short or noisy.
    pub fn estimate(windows: &[Vec<f64>], step_ms: i64) -> Self {
        let longest = windows.iter().map(Vec::len).max().unwrap_or(0);
        let max_lag = MAX_ACF_LAG.min(longest / 2);
        if max_lag == 0 {
            return Dependence::fallback(step_ms);
        }
        let variance = pooled_product(windows, 0);
        if !(variance > 0.0) {
            return Dependence::fallback(step_ms);
        }
        // The slowest decay among the lags still above the noise: forecast errors mix a
        // fast-decaying part with a persistent one (a window forecast off in level), and
        // it is the persistent part that decides whether a breach comes at all.
        let (mut sxy, mut sxx) = (f64::NEG_INFINITY, 0.0);
        for k in 1..=max_lag {
            let acf = pooled_product(windows, k) / variance;
            if !(acf > MIN_ACF) {
                break;
            }
            sxy = sxy.max(acf.min(MAX_RHO).ln() / k as f64);
            sxx = 1.0;
        }
        if sxx == 0.0 {
            // Not even lag 1 is correlated: independent errors from step to step.
            return Dependence { tau_ms: 0.0, estimated: true };
        }
        let log_rho = (sxy / sxx).min(MAX_RHO.ln());
        Dependence { tau_ms: -(step_ms.max(1) as f64) / log_rho, estimated: true }
    }
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
struct Marginal {
    knots: Vec<(f64, f64)>,
}

impl Marginal {
    fn at(forecast: &Forecast, h: usize) -> Self {
        let point = forecast.point.get(h).copied().unwrap_or(f64::NAN);
        let mut knots = vec![(0.0, point)];
        for b in &forecast.bands {
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

    /// The value at standard-normal draw `z`.
    fn value(&self, z: f64) -> f64 {
        let k = &self.knots;
        let n = k.len();
        if n == 1 {
            return k[0].1;
        }
        // The segment holding z, or the outermost one beyond the knots.
        let i = match k.iter().position(|(kz, _)| *kz >= z) {
            Some(0) => 0,
            Some(i) => i - 1,
            None => n - 2,
        };
        let ((z0, v0), (z1, v1)) = (k[i], k[i + 1]);
        let slope = if z1 > z0 { (v1 - v0) / (z1 - z0) } else { 0.0 };
        v0 + slope * (z - z0)
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
    let rho = forecast.dependence.rho(forecast.step_ms as f64);
    let innovation = (1.0 - rho * rho).max(0.0).sqrt();
    let (lo, hi) = forecast.bounds;
    let mut buf = vec![0.0; marginals.len()];
    for p in 0..paths {
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(p as u64));
        let mut z = 0.0f64;
        for (h, (m, slot)) in marginals.iter().zip(buf.iter_mut()).enumerate() {
            let n: f64 = StandardNormal.sample(&mut rng);
            // Full spread from step 0; AR(1) in time after it.
            z = if h == 0 { n } else { rho * z + innovation * n };
            let v = m.value(z);
            *slot = if v.is_nan() { v } else { v.clamp(lo, hi) };
        }
        visit(&buf);
    }
}

/// When paths first reach a threshold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FirstPassage {
    /// First step at or above the threshold, per path that reached it, sorted.
    crossed: Vec<usize>,
    /// Paths in all.
    paths: usize,
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

    /// P(the path reaches the threshold at some step): the share of paths that did.
    pub fn probability(&self) -> f64 {
        if self.paths == 0 { f64::NAN } else { self.crossed.len() as f64 / self.paths as f64 }
    }

    /// The `q` quantile (0 to 1) of the first-crossing step, counting paths that never
    /// cross as crossing after the horizon: `None` when that quantile lies beyond it.
    pub fn quantile(&self, q: f64) -> Option<usize> {
        if self.paths == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        // The smallest step s with P(T ≤ s) ≥ q.
        let k = ((q * self.paths as f64).ceil() as usize).max(1);
        self.crossed.get(k - 1).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::{Band, normal_cdf};

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
    fn paths_spread_at_step_zero_is_the_bands() {
        let f = flat(50.0, 10.0, 5, Dependence { tau_ms: 1e12, estimated: true });
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
        let persistent = flat(50.0, 10.0, 100, Dependence { tau_ms: 1e15, estimated: true });
        let fp = FirstPassage::of(sample(&persistent, 8000, 1).iter().map(Vec::as_slice), 70.0);
        assert!((fp.probability() - 0.025).abs() < 0.008, "{}", fp.probability());
        let independent = flat(50.0, 10.0, 100, Dependence { tau_ms: 0.0, estimated: true });
        let fp = FirstPassage::of(sample(&independent, 8000, 1).iter().map(Vec::as_slice), 70.0);
        let expected = 1.0 - 0.975f64.powi(100);
        assert!((fp.probability() - expected).abs() < 0.02, "{} vs {expected}", fp.probability());
    }

    #[test]
    fn dependence_is_estimated_in_time() {
        // AR(1) errors with rho 0.9 per 5-minute step: tau = 300 s / -ln 0.9.
        let windows: Vec<Vec<f64>> = (0..40)
            .map(|w| {
                let mut rng = ChaCha8Rng::seed_from_u64(w);
                let mut e: f64 = StandardNormal.sample(&mut rng);
                (0..200)
                    .map(|_| {
                        let n: f64 = StandardNormal.sample(&mut rng);
                        e = 0.9 * e + (1.0 - 0.81f64).sqrt() * n;
                        e
                    })
                    .collect()
            })
            .collect();
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
        let windows: Vec<Vec<f64>> = (0..400)
            .map(|w| {
                let mut rng = ChaCha8Rng::seed_from_u64(1000 + w);
                let b: f64 = StandardNormal.sample(&mut rng);
                let mut e: f64 = StandardNormal.sample(&mut rng);
                (0..48)
                    .map(|_| {
                        let n: f64 = StandardNormal.sample(&mut rng);
                        e = 0.3 * e + (1.0 - 0.09f64).sqrt() * n;
                        b + e
                    })
                    .collect()
            })
            .collect();
        let rho = Dependence::estimate(&windows, 60_000).rho(60_000.0);
        let expected = 0.5f64.powf(1.0 / 24.0);
        assert!((rho - expected).abs() < 0.01, "{rho} vs {expected}");
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
