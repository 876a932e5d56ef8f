//! Robustness before fitting: incident outliers are masked, level shifts found.
//!
//! Both work on a baseline of the series: its robust MSTL trend plus seasons when it
//! has seasons, else a running median. Points far from the baseline (a robust z-score over
//! the median absolute deviation) are outliers; they are replaced by the baseline for
//! fitting and reported. A level shift is a changepoint in the block means of the
//! deseasonalised series, found by augurs' Bayesian online changepoint detector.

use augurs::changepoint::{Detector, NormalGammaDetector};

/// Robust z-score beyond which a point is an outlier.
const OUTLIER_Z: f64 = 6.0;
/// The median absolute deviation of a normal variable times this is its standard
/// deviation (as [`median_mad`] scales it).
const MAD_TO_SD: f64 = 1.4826;
/// When more than this share of points looks extreme, the series is heavy-tailed, not
/// disturbed by incidents: nothing is masked.
const MAX_OUTLIER_SHARE: f64 = 0.02;

/// A series split into a smooth baseline and its deseasonalised form.
#[derive(Debug, Clone)]
pub struct Decomposition {
    /// Trend plus seasons (or a running median).
    pub baseline: Vec<f64>,
    /// The series minus its seasons.
    pub deseasonalised: Vec<f64>,
}

/// Decomposes `values` (complete) over `periods`.
pub fn decompose(values: &[f64], periods: &[usize]) -> Decomposition {
    let usable: Vec<usize> = periods.iter().copied().filter(|p| 2 * p <= values.len()).collect();
    if !usable.is_empty() {
        let y: Vec<f32> = values.iter().map(|v| *v as f32).collect();
        // Robust STL: incidents get low weight, so they do not bend trend and seasons
        // around themselves and stand out whole in the remainder.
        let mut stl = augurs::mstl::stlrs::StlParams::new();
        stl.robust(true).outer_loops(3);
        if let Ok(fit) = augurs::mstl::stlrs::MstlParams::new().stl_params(stl).fit(&y, &usable) {
            let trend = fit.trend();
            let baseline: Vec<f64> =
                (0..values.len()).map(|i| f64::from(trend[i]) + fit.seasonal().iter().map(|s| f64::from(s[i])).sum::<f64>()).collect();
            let deseasonalised = (0..values.len()).map(|i| values[i] - (baseline[i] - f64::from(trend[i]))).collect();
            return Decomposition { baseline, deseasonalised };
        }
    }
    let baseline = running_median(values, 5);
    Decomposition { baseline, deseasonalised: values.to_vec() }
}

/// The median of the `2·half + 1` values around each point, and of the first `2·half + 1`
/// near the start; over the last [`END_RUN`] points, of the last `2·END_RUN + 1`. So a run
/// at the very end of up to [`END_RUN`] points is read against the level before it,
/// masked and handed to the tail (`trailing_run`) as a burst that will probably end, and
/// what came back to normal after a burst is read as normal:
/// - cut short at the end, the window of the last point held six values, so a burst of
///   three at the very end was its own median and never masked (tweet volumes near 5
///   ending 178, 202, 102 were forecast at 92 for two days);
/// - a whole window of eleven ending there read a burst of six to ten points followed by
///   four or five normal ones as the level, and masked the normal ones.
fn running_median(values: &[f64], half: usize) -> Vec<f64> {
    let n = values.len();
    let median_of = |from: usize, to: usize| {
        let mut w: Vec<f64> = values[from..to].to_vec();
        w.sort_by(f64::total_cmp);
        w[w.len() / 2]
    };
    let width = (2 * half + 1).min(n);
    let end_zone = n.saturating_sub(END_RUN);
    let end_median = (n > 0).then(|| median_of(n.saturating_sub(2 * END_RUN + 1), n));
    (0..n)
        .map(|i| match end_median {
            Some(m) if i >= end_zone => m,
            _ => {
                let start = i.saturating_sub(half).min(n - width);
                median_of(start, start + width)
            }
        })
        .collect()
}

/// The longest run at the end of history that the running median reads against the
/// level before it ([`running_median`]): an hour at 5-minute steps. On real 5-minute
/// series a run at the end that lasted up to an hour held as the new level 1-9 % of the
/// time (`super::tail`); longer runs become the level the fit follows.
const END_RUN: usize = 12;

/// The median of the finite `values` (the upper of the middle two for an even count; 0
/// when there are none): [`median_mad`]'s median without the spread.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    let mid = v.len() / 2;
    *v.select_nth_unstable_by(mid, f64::total_cmp).1
}

/// The median and the scaled MAD (a robust standard deviation) of `values`.
pub fn median_mad(values: &[f64]) -> (f64, f64) {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return (0.0, 0.0);
    }
    v.sort_by(f64::total_cmp);
    let med = v[v.len() / 2];
    let mut dev: Vec<f64> = v.iter().map(|x| (x - med).abs()).collect();
    dev.sort_by(f64::total_cmp);
    (med, MAD_TO_SD * dev[dev.len() / 2])
}

/// What masking found.
#[derive(Debug, Clone, Default)]
pub struct Masked {
    /// The values with outliers replaced by the baseline.
    pub values: Vec<f64>,
    /// Indices of the masked points.
    pub outliers: Vec<usize>,
    /// True when too many points were extreme and nothing was masked.
    pub heavy_tailed: bool,
}

/// Masks incident outliers of `values` against `decomposition`'s baseline.
pub fn mask_outliers(values: &[f64], decomposition: &Decomposition) -> Masked {
    let residual: Vec<f64> = values.iter().zip(&decomposition.baseline).map(|(v, b)| v - b).collect();
    let (med, mad) = median_mad(&residual);
    // Where most residuals are exactly zero (counts that are mostly 0, a gauge that rarely
    // moves) the MAD is zero: the MAD of the residuals that are not zero instead, the
    // size of the series' usual moves. Without a spread nothing was masked, and error
    // counts of about 0.05 per step ending 178, 202, 102 were forecast at 178 for two
    // days. (The mean absolute deviation, tried first, masked every event of counts
    // rarer than one in fifty steps, and a gauge's new level one step from its blips.)
    let sd = if mad > 0.0 {
        mad
    } else {
        let moves: Vec<f64> = residual.iter().map(|r| (r - med).abs()).filter(|r| r.is_finite() && *r != 0.0).collect();
        MAD_TO_SD * median(&moves)
    };
    if sd <= 0.0 {
        return Masked { values: values.to_vec(), ..Masked::default() };
    }
    let outliers: Vec<usize> = (0..values.len()).filter(|&i| ((residual[i] - med) / sd).abs() > OUTLIER_Z).collect();
    if outliers.len() as f64 > MAX_OUTLIER_SHARE * values.len() as f64 {
        return Masked { values: values.to_vec(), outliers: Vec::new(), heavy_tailed: true };
    }
    // Within the range of the values kept: a baseline that dips below what the series
    // ever took (−19 on an hourly count that never fell below 16, three days of history)
    // is no value to fit, and a log scale cannot take it.
    let mut kept = values.iter().enumerate().filter(|(i, _)| outliers.binary_search(i).is_err()).map(|(_, v)| *v);
    let first = kept.next().unwrap_or(0.0);
    let (low, high) = kept.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let mut cleaned = values.to_vec();
    for &i in &outliers {
        cleaned[i] = decomposition.baseline[i].clamp(low, high);
    }
    Masked { values: cleaned, outliers, heavy_tailed: false }
}

/// A run of masked outliers that reaches the end of history: an incident not yet known
/// to be over. It may end (a burst) or be the level from now on (a deploy): the fit takes
/// it for the first, and the bands and paths give the second its chance
/// ([`super::tail`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tail {
    /// Index of its first outlier.
    pub from: usize,
    /// Its outliers' median distance from the baseline (the series' unit; negative below).
    pub shift: f64,
    /// Observed slots from `from` to the end (gaps left out: they are no evidence).
    pub observed: usize,
}

/// The run of `outliers` (sorted) that reaches the end of history, if any, read on the
/// observed slots alone (`residual`, the values less the baseline, is `NaN` at gaps: an
/// interpolated ramp or an empty end held at the last value is no evidence of a level):
/// on one side of the baseline, no more than [`TAIL_GAP`] observed points between two of
/// its outliers and no more than [`TAIL_END_GAP`] after the last.
pub fn trailing_run(outliers: &[usize], residual: &[f64]) -> Option<Tail> {
    let observed = |i: usize| residual.get(i).is_some_and(|r| r.is_finite());
    let mut flagged = outliers.iter().rev().copied().filter(|&i| observed(i)).peekable();
    let mut from = *flagged.peek()?;
    let after = (from + 1..residual.len()).filter(|&i| observed(i)).count();
    if after > TAIL_END_GAP {
        return None;
    }
    let side = residual[from].signum();
    for i in flagged {
        let between = (i + 1..from).filter(|&k| observed(k)).count();
        if between > TAIL_GAP || residual[i].signum() != side {
            break;
        }
        from = i;
    }
    let run: Vec<f64> = outliers.iter().filter(|&&i| i >= from && observed(i)).map(|&i| residual[i]).collect();
    let shift = median(&run);
    let slots = (from..residual.len()).filter(|&i| observed(i)).count();
    (shift.is_finite() && shift != 0.0).then_some(Tail { from, shift, observed: slots })
}

/// Observed points between two outliers that still leave them one run: a step a few
/// robust spreads past the outlier bar has points of its noise below it.
const TAIL_GAP: usize = 3;

/// Observed points after a run's last outlier that still leave it at the end: one (a step
/// 6.5 spreads past the baseline has a third of its points under the bar of 6, and two in
/// a row at the end one time in ten); more and the run is more likely over.
const TAIL_END_GAP: usize = 1;

/// The index where the latest level shift the values bear out starts, if the
/// deseasonalised series has one that leaves at least `min_after` points after it.
/// Blocks of `block` points are averaged first so that noise and seasons do not read as
/// shifts.
pub fn last_level_shift(deseasonalised: &[f64], block: usize, min_after: usize) -> Option<usize> {
    let block = block.max(1);
    let means: Vec<f64> = deseasonalised.chunks_exact(block).map(|c| c.iter().sum::<f64>() / block as f64).collect();
    if means.len() < 6 {
        return None;
    }
    // Standardise by the robust spread of block-to-block changes.
    let diffs: Vec<f64> = means.windows(2).map(|w| w[1] - w[0]).collect();
    let (_, diff_sd) = median_mad(&diffs);
    let (center, _) = median_mad(&means);
    // Floor the noise scale: near-constant blocks would otherwise make every wiggle a shift.
    let spread = (means.iter().map(|m| (m - center).powi(2)).sum::<f64>() / means.len() as f64).sqrt();
    let sd = (diff_sd / std::f64::consts::SQRT_2).max(0.05 * spread).max(1e-9 * center.abs());
    if sd <= 0.0 {
        return None;
    }
    let z: Vec<f64> = means.iter().map(|m| (m - center) / sd).collect();
    let mut detector = NormalGammaDetector::default();
    let mut points = detector.detect_changepoints(&z);
    points.sort_unstable();
    points.dedup();
    // The detector names the last block of the old run (its run length counts back from
    // there), so each new level starts a block later.
    let starts: Vec<usize> = points.iter().map(|&c| (c + 1) * block).collect();
    // The latest changepoint that the values bear out: the median of its segment (to the
    // next changepoint or the end) differs from the median of the segment before it (from
    // the previous changepoint) by at least SHIFT_CONFIRM_SDS block-mean spreads. A rise in
    // the last few points of a flat series moves one block's mean (and the detector with
    // it), not the median of what follows; a return to a baseline after a plateau is
    // judged against the plateau, not against all history.
    (0..starts.len())
        .rev()
        .filter(|&i| points[i] >= 1 && starts[i] < deseasonalised.len() && starts[i] + min_after <= deseasonalised.len())
        .map(|i| (i, starts[i]))
        .find_map(|(i, at)| {
            let from = if i == 0 { 0 } else { starts[i - 1].min(at) };
            let to = starts.get(i + 1).copied().unwrap_or(deseasonalised.len()).clamp(at + 1, deseasonalised.len());
            let (before, _) = median_mad(&deseasonalised[from..at]);
            let (after, _) = median_mad(&deseasonalised[at..to]);
            ((after - before).abs() >= SHIFT_CONFIRM_SDS * sd).then_some(at)
        })
}

/// How far (in spreads of the block means' noise) the median after a changepoint must
/// lie from the median before it for the changepoint to count as a level shift.
const SHIFT_CONFIRM_SDS: f64 = 3.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_a_spike_and_keeps_the_rest() {
        let mut v: Vec<f64> = (0..500).map(|i| 10.0 + ((i * 7) % 5) as f64 * 0.1).collect();
        v[250] = 90.0;
        let d = decompose(&v, &[]);
        let m = mask_outliers(&v, &d);
        assert_eq!(m.outliers, vec![250]);
        assert!(m.values[250] < 11.0);
        let residual: Vec<f64> = v.iter().zip(&d.baseline).map(|(v, b)| v - b).collect();
        assert_eq!(trailing_run(&m.outliers, &residual), None, "a spike inside history is no run at the end");
    }

    /// Runs at the very end of a flat series without seasons (2 to 6, 1,000 points): read
    /// against the level before them, bursts of 3 and of 12 points are masked to that
    /// level and make a run at the end; after a burst of 8, five normal points are
    /// normal, and the burst is masked. A run of 13 is the level. Before: a burst of
    /// three was its own median (the last point's window was cut to six values), and a
    /// whole window of eleven at the end read the burst of eight as the level and masked
    /// the five normal points after it.
    #[test]
    fn runs_at_the_very_end_are_read_against_the_level_before_them() {
        let flat: Vec<f64> = (0..1000).map(|i| 2.0 + ((i * 7) % 5) as f64).collect();
        let run = |tail: &[f64]| {
            let v: Vec<f64> = flat.iter().chain(tail).copied().collect();
            let d = decompose(&v, &[]);
            let m = mask_outliers(&v, &d);
            let residual: Vec<f64> = v.iter().zip(&d.baseline).map(|(v, b)| v - b).collect();
            let tail = trailing_run(&m.outliers, &residual);
            (d.baseline[v.len() - 1], m, tail)
        };
        let (base, m, tail) = run(&[178.0, 202.0, 102.0]);
        assert!(base <= 6.0, "{base}");
        assert_eq!(m.outliers[m.outliers.len() - 3..], [1000, 1001, 1002]);
        assert!(m.values[1000..].iter().all(|x| *x <= 6.0), "{:?}", &m.values[1000..]);
        assert_eq!(tail.map(|t| (t.from, t.observed)), Some((1000, 3)));
        let (base, m, tail) = run(&[150.0; 12]);
        assert!(base <= 6.0, "{base}");
        assert_eq!(m.outliers.len(), 12);
        assert_eq!(tail.map(|t| (t.from, t.observed)), Some((1000, 12)));
        // A burst of eight, then five normal points: normal at the end, no run there.
        let mut back = vec![150.0; 8];
        back.extend([3.0, 4.0, 2.0, 5.0, 3.0]);
        let (base, m, tail) = run(&back);
        assert!(base <= 6.0, "{base}");
        assert!(m.outliers.iter().all(|i| *i < 1008), "{:?}", m.outliers);
        assert!(m.values[1008..].iter().zip(&back[8..]).all(|(a, b)| a == b));
        assert_eq!(tail, None);
        // Thirteen: the level now.
        let (base, m, _) = run(&[150.0; 13]);
        assert_eq!(base, 150.0);
        assert!(m.outliers.iter().all(|i| *i < 1000), "{:?}", m.outliers);
        // Eleven values or fewer: one window, one median.
        let short = decompose(&[1.0, 9.0, 2.0], &[]);
        assert_eq!(short.baseline, [2.0, 2.0, 2.0]);
    }

    /// Error counts that are mostly zero (a 1 every 20 steps) ending 178, 202, 102: the
    /// MAD of the residuals is zero, and the spread is read from the residuals that are
    /// not (fifty ones and the burst: median 1, times 1.4826), so the burst stands out
    /// and is masked while the ones are not (1 / 1.48 is no 6). Before, a zero MAD masked
    /// nothing and the counts were forecast at 178. Counts rarer still keep every event:
    /// a 1 every 60 steps is the usual move.
    #[test]
    fn a_burst_on_counts_that_are_mostly_zero_is_masked() {
        let mut v: Vec<f64> = (0..1000).map(|i| if i % 20 == 7 { 1.0 } else { 0.0 }).collect();
        v.extend([178.0, 202.0, 102.0]);
        let d = decompose(&v, &[]);
        assert_eq!(median_mad(&v.iter().zip(&d.baseline).map(|(v, b)| v - b).collect::<Vec<f64>>()).1, 0.0);
        let m = mask_outliers(&v, &d);
        assert_eq!(m.outliers, [1000, 1001, 1002]);
        assert_eq!(m.values[1000..], [0.0, 0.0, 0.0]);
        let rare: Vec<f64> = (0..1000).map(|i| if i % 60 == 7 { 1.0 } else { 0.0 }).collect();
        assert!(mask_outliers(&rare, &decompose(&rare, &[])).outliers.is_empty());
        // A gauge at 3 with blips to 4, at 5 for its last three points: a move of two
        // against the usual one, no outlier.
        let mut replicas: Vec<f64> = (0..1000).map(|i| if i % 100 == 50 { 4.0 } else { 3.0 }).collect();
        replicas.extend([5.0; 3]);
        assert!(mask_outliers(&replicas, &decompose(&replicas, &[])).outliers.is_empty());
        // No spread at all: nothing masked.
        let flat = vec![3.0; 100];
        assert!(mask_outliers(&flat, &decompose(&flat, &[])).outliers.is_empty());
    }

    /// Outliers at 90, 92, 96 and 99 of 100 points, all above the baseline by 10, 20, 30
    /// and 40: one run from 90 (one and three points between), median 30 (the upper of the
    /// middle two), 10 observed slots. Four points between end a run, as does one below
    /// the baseline; two points after the last outlier leave none. Gaps count for nothing:
    /// a spike followed by empty slots is a run of one observed point, and a gap inside a
    /// run does not part it.
    #[test]
    fn a_run_at_the_end_is_told_on_the_observed_slots() {
        let mut residual = vec![0.0; 100];
        for (i, r) in [(90, 10.0), (92, 20.0), (96, 30.0), (99, 40.0)] {
            residual[i] = r;
        }
        assert_eq!(trailing_run(&[90, 92, 96, 99], &residual), Some(Tail { from: 90, shift: 30.0, observed: 10 }));
        assert_eq!(trailing_run(&[90, 95, 99], &residual).map(|t| t.from), Some(95));
        assert_eq!(trailing_run(&[90, 96, 98], &residual).map(|t| t.from), Some(96));
        assert_eq!(trailing_run(&[90, 97], &residual), None);
        let mut below = residual.clone();
        below[92] = -20.0;
        assert_eq!(trailing_run(&[90, 92, 96, 99], &below).map(|t| t.from), Some(96));
        // A spike at 80, then nothing observed: one point.
        let mut empty = residual.clone();
        empty[80] = 50.0;
        empty[81..].iter_mut().for_each(|r| *r = f64::NAN);
        assert_eq!(trailing_run(&[80], &empty), Some(Tail { from: 80, shift: 50.0, observed: 1 }));
        // Five empty slots between outliers at 92 and 98: still one run, of 5 observed slots.
        let mut gap = residual.clone();
        gap[98] = 35.0;
        gap[93..98].iter_mut().for_each(|r| *r = f64::NAN);
        assert_eq!(trailing_run(&[90, 92, 98, 99], &gap).map(|t| (t.from, t.observed)), Some((90, 5)));
        assert_eq!(trailing_run(&[90, 92, 98, 99], &residual).map(|t| t.from), Some(98));
    }

    #[test]
    fn a_masked_value_stays_within_the_range_of_those_kept() {
        // Values 16..=25 with a spike of 900 at 10, against a baseline that dips to −19
        // there: the spike is masked and replaced by the lowest value kept, 16.
        let values: Vec<f64> = (0..100).map(|i| if i == 10 { 900.0 } else { 16.0 + (i % 10) as f64 }).collect();
        let mut baseline = vec![20.5; 100];
        baseline[10] = -19.0;
        let d = Decomposition { baseline, deseasonalised: values.clone() };
        let m = mask_outliers(&values, &d);
        assert_eq!(m.outliers, vec![10]);
        assert_eq!(m.values[10], 16.0);
        // Above the range: the highest kept, 25.
        let mut d = d;
        d.baseline[10] = 400.0;
        assert_eq!(mask_outliers(&values, &d).values[10], 25.0);
    }

    #[test]
    fn finds_a_step() {
        let v: Vec<f64> = (0..2000).map(|i| if i < 1400 { 10.0 } else { 25.0 } + ((i * 13) % 7) as f64 * 0.3).collect();
        let shift = last_level_shift(&v, 50, 100).unwrap();
        assert!((1350..=1450).contains(&shift), "{shift}");
    }
}
