//! Stage 6½, the last hours: a run of outliers that reaches the end of history is a
//! burst that will end or the level from now on (a deploy this morning), and nothing in
//! the history can yet tell which. The fit takes it for a burst (masked, as every
//! incident, [`super::robust::Tail`]); the bands and the sample paths give the new level
//! the chance [`chance`] says, so that neither reading is ruled out.
//!
//! Before, the run was masked and forgotten: a load that doubled two to six hours before
//! the end was forecast at the old level with a 95 % band that covered 4–17 % of the next
//! day, and the runway gave a threshold between the two levels no chance at all while the
//! series stood past it.

use super::Forecast;
use super::paths::Marginal;
use super::stats::normal_cdf;
use crate::time::HOUR_MS;
use serde::{Deserialize, Serialize};

/// The new level a run at the end of history may be, and its chance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NewLevel {
    /// When the run began (UTC ms).
    pub from_ms: i64,
    /// How far the run lies from the fitted level (the series' unit; negative below).
    pub shift: f64,
    /// The chance it is the level from now on ([`chance`]): that share of the sample
    /// paths carries the shift from the first step, and the bands are the mixture's.
    pub chance: f64,
    /// Read the other way: the run is a young level shift the fit follows, and `shift`
    /// with its `chance` is the return to the level before it
    /// (`prepare::young_return_chance`).
    #[serde(default)]
    pub returns: bool,
}

/// The chance a run at the end is the new level, once it has lasted [`FULL_CHANCE_MS`]:
/// even odds, as nothing yet tells a lasting step from a long burst. On real 5-minute
/// series (the NAB CloudWatch and Twitter sets, an outlier run's level held or not over
/// the next day), runs of up to an hour held 1–9 % of the time, runs of one to three
/// hours 12 %, longer ones 12 of 20.
pub const MAX_CHANCE: f64 = 0.5;

/// How long a run lasts before it gets [`MAX_CHANCE`]; shorter runs get a share of it in
/// proportion (half an hour: 4 %, two hours: 17 %).
pub const FULL_CHANCE_MS: i64 = 6 * HOUR_MS;

/// Observed points a run needs for [`MAX_CHANCE`], however long each step: on coarse
/// steps one point is no run (a single day twice the usual on daily data had even odds of
/// being the new level by its 24 hours alone). Fewer get a share in proportion; on
/// 5-minute data the hours always ask more.
pub const FULL_CHANCE_POINTS: usize = 6;

/// The chance a run at the end of `points` observed slots, `duration_ms` long, is the new
/// level.
pub fn chance(duration_ms: i64, points: usize) -> f64 {
    let by_time = (duration_ms.max(0) as f64 / FULL_CHANCE_MS as f64).min(1.0);
    let by_points = (points as f64 / FULL_CHANCE_POINTS as f64).min(1.0);
    MAX_CHANCE * by_time * by_points
}

/// Gives `level` its chance in `forecast`: the bands become the mixture's (with the
/// chance, everything shifted by `level.shift`; else as they were), and the sample paths
/// follow the bands as they were, that share of them shifted ([`super::paths`]).
pub fn apply(forecast: &mut Forecast, level: NewLevel) {
    if !(level.shift.is_finite() && level.chance > 0.0 && level.chance <= 1.0) {
        return;
    }
    forecast.keep_path_bands();
    let (lo, hi) = forecast.bounds;
    let clamp = |v: f64| if lo <= hi { v.clamp(lo, hi) } else { v };
    // Each step's distribution as the bands give it, once for every band.
    let marginals: Vec<Marginal> = forecast.point.iter().enumerate().map(|(h, p)| Marginal::of(*p, &forecast.bands, h)).collect();
    let mixed: Vec<(Vec<f64>, Vec<f64>)> = forecast
        .bands
        .iter()
        .map(|b| {
            let (q_lo, q_hi) = (0.5 - b.level / 200.0, 0.5 + b.level / 200.0);
            // The band keeps the point inside it, as every band does: below 50 % the
            // mixture's central interval may lie wholly on the new level's side.
            marginals
                .iter()
                .zip(&forecast.point)
                .map(|(m, &point)| (clamp(mixture_quantile(m, q_lo, level).min(point)), clamp(mixture_quantile(m, q_hi, level).max(point))))
                .unzip()
        })
        .collect();
    for (b, (lower, upper)) in forecast.bands.iter_mut().zip(mixed) {
        b.lower = lower;
        b.upper = upper;
    }
    forecast.new_level = Some(level);
}

/// The `q` quantile of the mixture: `m` with weight `1 − chance`, `m` shifted by
/// `shift` with weight `chance`. Bisection between the two components' own quantiles,
/// where the mixture's must lie, to the smallest value whose distribution reaches `q`
/// (an end of the range when it does there already). A band of no width is a point mass.
fn mixture_quantile(m: &Marginal, q: f64, level: NewLevel) -> f64 {
    let own = m.value(super::stats::normal_quantile(q));
    let (lo, hi) = m.range();
    let component = |x: f64| {
        if hi > lo {
            normal_cdf(m.score_of(x))
        } else if x >= lo {
            1.0
        } else {
            0.0
        }
    };
    let cdf = |x: f64| (1.0 - level.chance) * component(x) + level.chance * component(x - level.shift);
    let (mut a, mut b) = if level.shift > 0.0 { (own, own + level.shift) } else { (own + level.shift, own) };
    if !(a.is_finite() && b.is_finite()) {
        return own;
    }
    if cdf(a) >= q {
        return a;
    }
    if cdf(b) < q {
        return b;
    }
    // cdf(a) < q <= cdf(b) throughout; stops when the midpoint is an end (no float left
    // between them).
    for _ in 0..2100 {
        let mid = 0.5 * (a + b);
        if mid <= a || mid >= b {
            break;
        }
        if cdf(mid) < q {
            a = mid;
        } else {
            b = mid;
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::Band;

    /// A flat forecast at 100 with Gaussian bands of sd 10 (80 %: ±12.82, 95 %: ±19.60).
    fn flat(steps: usize) -> Forecast {
        let band = |level: f64, z: f64| Band { level, lower: vec![100.0 - 10.0 * z; steps], upper: vec![100.0 + 10.0 * z; steps] };
        Forecast::from_parts("s", 0, 300_000, vec![100.0; steps], vec![band(80.0, 1.2815516), band(95.0, 1.9599640)], "test")
    }

    #[test]
    fn the_chance_grows_with_the_run_to_even_odds() {
        // Five-minute steps: by the hours.
        assert_eq!(chance(0, 0), 0.0);
        assert!((chance(HOUR_MS / 2, 6) - 0.5 / 12.0).abs() < 1e-12);
        assert!((chance(3 * HOUR_MS, 36) - 0.25).abs() < 1e-12);
        assert_eq!(chance(6 * HOUR_MS, 72), 0.5);
        assert_eq!(chance(40 * HOUR_MS, 480), 0.5);
        // Hourly: six points are six hours; daily: one day is one point of six.
        assert_eq!(chance(6 * HOUR_MS, 6), 0.5);
        assert!((chance(24 * HOUR_MS, 1) - 0.5 / 6.0).abs() < 1e-12);
    }

    /// The mixture of N(100, 10²) and N(200, 10²) at even odds, worked in closed form: its
    /// 97.5 % quantile x solves ½Φ((x − 100)/10) + ½Φ((x − 200)/10) = 0.975, and with
    /// Φ((x − 100)/10) = 1 to 1e-20 there, Φ((x − 200)/10) = 0.95: x = 200 + 16.449. By
    /// symmetry the 2.5 % quantile is 100 − 16.449, and the 90 % quantile 200 + 10 ×
    /// Φ⁻¹(0.8) = 208.416.
    #[test]
    fn the_bands_are_the_mixtures_quantiles() {
        let mut f = flat(3);
        apply(&mut f, NewLevel { from_ms: 0, shift: 100.0, chance: 0.5, returns: false });
        let (b80, b95) = (&f.bands[0], &f.bands[1]);
        for h in 0..3 {
            assert!((b95.upper[h] - 216.449).abs() < 0.01, "{}", b95.upper[h]);
            assert!((b95.lower[h] - 83.551).abs() < 0.01, "{}", b95.lower[h]);
            assert!((b80.upper[h] - 208.416).abs() < 0.01, "{}", b80.upper[h]);
        }
        // A band under 50 % still holds the point: at even odds a 20 % band's quantiles
        // (σ = 10) are 100 + 10Φ⁻¹(0.8) = 108.4 and 200 + 10Φ⁻¹(0.2) = 191.6, the point
        // below both, so the lower edge comes down to it.
        let mut narrow =
            Forecast::from_parts("s", 0, 300_000, vec![100.0], vec![Band { level: 20.0, lower: vec![97.47], upper: vec![102.53] }], "t");
        apply(&mut narrow, NewLevel { from_ms: 0, shift: 100.0, chance: 0.5, returns: false });
        assert!(narrow.bands[0].lower[0] <= 100.0 && narrow.bands[0].upper[0] > 190.0, "{:?}", narrow.bands[0]);
        // The paths follow the bands as they were, with the shift on half of them.
        assert_eq!(f.path_bands[1].upper[0], 100.0 + 19.599640);
        assert_eq!(f.point, vec![100.0; 3]);
    }

    /// A small chance moves the far edge only as far as that chance reaches: at 1 % the
    /// 97.5 % quantile solves 0.99 Φ(z) + 0.01 Φ(z − 10) = 0.975, z = Φ⁻¹(0.975/0.99) =
    /// Φ⁻¹(0.98485) = 2.166 (the shifted part adds under 1e-15 there): 121.66.
    #[test]
    fn a_small_chance_widens_a_little() {
        let mut f = flat(1);
        apply(&mut f, NewLevel { from_ms: 0, shift: 100.0, chance: 0.01, returns: false });
        assert!((f.bands[1].upper[0] - 121.66).abs() < 0.02, "{}", f.bands[1].upper[0]);
        assert!((f.bands[1].lower[0] - (100.0 - 10.0 * 1.9599640 * 1.0)).abs() < 0.2, "{}", f.bands[1].lower[0]);
        // A band of no width is a point mass: at 5 % the new level lies past the 80 %
        // band's top quantile (0.95 of the mass is at the point) but not past the 95 %'s.
        let mut f = flat(1);
        for b in &mut f.bands {
            b.lower = vec![100.0];
            b.upper = vec![100.0];
        }
        apply(&mut f, NewLevel { from_ms: 0, shift: 50.0, chance: 0.05, returns: false });
        assert_eq!((f.bands[0].lower[0], f.bands[0].upper[0]), (100.0, 100.0));
        assert_eq!((f.bands[1].lower[0], f.bands[1].upper[0]), (100.0, 150.0));
        // A dip widens the lower edge instead.
        let mut f = flat(1);
        apply(&mut f, NewLevel { from_ms: 0, shift: -100.0, chance: 0.5, returns: false });
        assert!((f.bands[1].lower[0] - (-16.449)).abs() < 0.01 && (f.bands[1].upper[0] - 116.449).abs() < 0.01, "{:?}", f.bands[1]);
    }
}
