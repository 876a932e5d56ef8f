//! Stage 1, preparation: seasonal periods (detected or given), incident outliers masked
//! against a robust baseline, and the last level shift, each found in one stretch of
//! history only. The final fit prepares all history; the backtest prepares the history
//! before its first window and again before its first selection window ([`Stretch`]),
//! so no window's preparation has seen the future it is scored on.

use super::models::{ModelKind, Spec};
use super::{ForecastSettings, Periods, backtest, robust, seasonality, tail};
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
    /// The values as given, before masking, `NaN` at the gaps [`Prepared::with_gaps`]
    /// marked (else interpolated): what a step is located on and its swing and level are
    /// read from (masking takes a fresh level for an outlier of the old one; a gap's
    /// interpolated ramp is no evidence of where a step came), and where a levelled
    /// history's gaps are filled again ([`Prepared::levelled`]).
    pub observed: Vec<f64>,
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
    Prepared {
        periods,
        fit_values: masked.values,
        outliers: masked.outliers,
        heavy_tailed: masked.heavy_tailed,
        decomposition,
        step_ms,
        observed: values.to_vec(),
    }
}

impl Prepared {
    /// Fills the last `trailing` slots of the values to fit (a gap that runs to the end,
    /// which interpolation holds at the last value) with the shortest season before
    /// them, moved to the level the series last had: the median difference from a season
    /// earlier over the last hour observed. Held flat, three empty hours at the end of a
    /// daily cycle were repeated flat by the seasonal naive a day on, its band narrow
    /// around them (95 % coverage 0.26 to 0.66 over those hours). Nothing changes without
    /// a season, or when the history before the gap holds less than one. The season used,
    /// when one was.
    pub fn fill_trailing_from_season(&mut self, trailing: usize) -> Option<usize> {
        let n = self.fit_values.len();
        let p = *self.periods.first()?;
        let last = n.checked_sub(trailing + 1)?;
        if trailing == 0 || last < p {
            return None;
        }
        let hour = super::models::level_steps(self.step_ms).min(last - p + 1);
        let v = &self.fit_values;
        let offset = robust::median(&(last + 1 - hour..=last).map(|j| v[j] - v[j - p]).collect::<Vec<f64>>());
        for i in last + 1..n {
            self.fit_values[i] = self.fit_values[i - p] + offset;
        }
        Some(p)
    }
}

/// Fills each run of gaps (`NaN` in `observed`) in `values` again, linearly between the
/// values either side of it (held from the one side where the run reaches an end). After
/// levelling at a step inside a gap, the gap's first interpolation ran from the old level
/// to the new, and the levelled history kept that ramp as a dip (or a bump) at the step.
fn refill_gaps(values: &mut [f64], observed: &[f64]) {
    let n = values.len().min(observed.len());
    let gap = |i: usize| observed[i].is_nan();
    let mut i = 0;
    while i < n {
        if !gap(i) {
            i += 1;
            continue;
        }
        let start = i;
        while i < n && gap(i) {
            i += 1;
        }
        let left = start.checked_sub(1).map(|k| values[k]);
        let right = (i < values.len()).then(|| values[i]);
        for (k, v) in values[start..i].iter_mut().enumerate() {
            *v = match (left, right) {
                (Some(a), Some(b)) => a + (b - a) * (k + 1) as f64 / (i - start + 1) as f64,
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => *v,
            };
        }
    }
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
        recent_shift(&self.observed, &d.deseasonalised, &self.periods, self.step_ms)
    }

    /// A step so recent that only one block follows it, too recent for any backtest
    /// window to judge, yet plain enough to trust ([`fresh_shift`]).
    pub fn fresh_shift(&self) -> Option<Shift> {
        let d = self.decomposition.as_ref()?;
        fresh_shift(&self.observed, &d.deseasonalised, &self.periods, self.step_ms)
    }

    /// A step younger than a day, yet long and plain enough to be more likely the level
    /// from now on than a burst ([`young_shift`]).
    pub fn young_shift(&self) -> Option<Shift> {
        let d = self.decomposition.as_ref()?;
        young_shift(&self.observed, &d.deseasonalised, &self.periods, self.step_ms)
    }

    /// Reads the outliers masked after a young step (`shift`) against its new level:
    /// masking took the old level's baseline for a fresh level's points, and levelled
    /// history then ended in hours at the old level. A point nearer the new level than
    /// the old is no outlier, and is fitted as observed; one beyond (a burst on the new
    /// level) stays masked, at the baseline moved by the step. True when an outlier left
    /// the list.
    pub fn unmask_new_level(&mut self, shift: &Shift) -> bool {
        if self.decomposition.is_none() {
            return false;
        }
        let moved = shift.after - shift.before;
        let masked = std::mem::take(&mut self.outliers);
        let count = masked.len();
        for i in masked {
            if self.on_new_level(shift, i) {
                self.fit_values[i] = self.observed[i];
                continue;
            }
            if i >= shift.at
                && let (Some(o), Some(b)) = (self.observed.get(i), self.decomposition.as_ref().and_then(|d| d.baseline.get(i)))
                && o.is_finite()
            {
                self.fit_values[i] = b + moved;
            }
            self.outliers.push(i);
        }
        self.outliers.len() < count
    }

    /// True when the point at `i`, after a young step (`shift`), lies nearer its new level
    /// than the old ([`Prepared::unmask_new_level`]): no outlier of the level it is on.
    fn on_new_level(&self, shift: &Shift, i: usize) -> bool {
        let (Some(d), Some(o)) = (self.decomposition.as_ref(), self.observed.get(i)) else { return false };
        let Some(x) = d.deseasonalised.get(i) else { return false };
        i >= shift.at && o.is_finite() && (x - shift.after).abs() < (x - shift.before).abs()
    }

    /// The masked outliers' run that reaches the end of history, read on the observed
    /// slots ([`robust::trailing_run`]).
    pub fn tail(&self) -> Option<robust::Tail> {
        let d = self.decomposition.as_ref()?;
        let residual: Vec<f64> = self.observed.iter().zip(&d.baseline).map(|(v, b)| v - b).collect();
        robust::trailing_run(&self.outliers, &residual)
    }

    /// The same, the slots where `missing` is true marked as gaps in [`Prepared::observed`].
    pub fn with_gaps(mut self, missing: impl IntoIterator<Item = bool>) -> Self {
        for (v, gap) in self.observed.iter_mut().zip(missing) {
            if gap {
                *v = f64::NAN;
            }
        }
        self
    }

    /// `values` (this history, as fitted) moved to the level after `shift`
    /// ([`Shift::adjust`]), its gaps filled again between their levelled neighbours.
    pub fn levelled(&self, shift: &Shift, values: &[f64], log: bool) -> Vec<f64> {
        let mut v = shift.adjust(values, log);
        refill_gaps(&mut v, &self.observed);
        v
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
    /// The level before it (before its first stage, for a step in two).
    pub before: f64,
    /// The level after it.
    pub after: f64,
    /// Move history by the ratio of the levels even on the natural scale: the season's
    /// swing changed with the level (a load that doubled doubled its daily peak; a group
    /// drained to nothing lost its daily shape with it).
    pub scales: bool,
    /// The step came in two stages, the first here ([`two_stages`]).
    pub stage: Option<Stage>,
}

/// The first stage of a step in two: history from `from` to the shift's `at` held
/// `level`, between the level before and the level after.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// Where the first stage starts.
    pub from: usize,
    /// The level between the stages.
    pub level: f64,
}

impl Shift {
    /// True when both levels are known and differ: there is a move to make.
    fn moves(&self) -> bool {
        self.before.is_finite() && self.after.is_finite() && self.before != self.after
    }

    /// Where the change begins: its first stage, else the step.
    pub fn begins(&self) -> usize {
        self.stage.map_or(self.at, |s| s.from)
    }

    /// The level history at index `i` (before the step) is moved from.
    fn level_at(&self, i: usize) -> f64 {
        match self.stage {
            Some(s) if i >= s.from => s.level,
            _ => self.before,
        }
    }

    /// True when every level history is moved from is positive and the level after it
    /// divides by it to a finite ratio.
    fn has_ratios(&self) -> bool {
        let ratio = |l: f64| l > 0.0 && (self.after / l).is_finite();
        ratio(self.before) && self.stage.is_none_or(|s| ratio(s.level))
    }

    /// True when [`adjust`](Self::adjust) can move history to it: always on the natural
    /// scale; on the log scale only by a finite ratio of positive levels.
    pub fn applies(&self, log: bool) -> bool {
        !log || (self.after > 0.0 && self.has_ratios())
    }

    /// `values` (history from index 0) with the part before the shift moved to the level
    /// after it, each stretch from its own level (before the first stage and between the
    /// stages, for a step in two): by the difference, or for a fit on the log scale or a
    /// shift that [`scales`](Self::scales) by the ratio (a launch that brings 35 % more
    /// traffic brings it at the peaks and the troughs alike).
    pub fn adjust(&self, values: &[f64], log: bool) -> Vec<f64> {
        if !self.applies(log) {
            // A level at or below zero has no ratio, and moving by the difference would
            // leave values a log scale cannot take: the history stays as it was.
            return values.to_vec();
        }
        let by_ratio = if log {
            // The log scale takes a ratio in its stride, but a swing that stayed as it was
            // moves by the difference while every value stays positive (a fall from 100 to
            // 20 that kept its ±10 swing was forecast swinging ±4).
            self.scales || values[..self.at.min(values.len())].iter().enumerate().any(|(i, v)| v + self.after - self.level_at(i) <= 0.0)
        } else {
            self.scales && self.after >= 0.0 && self.has_ratios()
        };
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if i >= self.at {
                    *v
                } else if by_ratio {
                    v * (self.after / self.level_at(i))
                } else {
                    v + (self.after - self.level_at(i))
                }
            })
            .collect()
    }
}

/// The last level shift of `deseasonalised` with [`LEVELLING_BLOCKS`] blocks after it,
/// and the levels either side ([`levels_at`]).
fn recent_shift(values: &[f64], deseasonalised: &[f64], periods: &[usize], step_ms: i64) -> Option<Shift> {
    let block = shift_block(periods, step_ms, deseasonalised.len());
    let late = if periods.iter().any(|p| *p > block) { Late::Keep } else { Late::Refuse };
    step_with_levels(deseasonalised, values, periods, block, LEVELLING_BLOCKS * block, fresh_after(periods, block, step_ms), late)
        .filter(Shift::moves)
        .map(|s| Shift { scales: swing_scales(&values[..deseasonalised.len().min(values.len())], &s, block, periods), ..s })
}

/// The last level shift of `deseasonalised` (of `values`, as observed) when at least a
/// day and one block but fewer than [`LEVELLING_BLOCKS`] follow it, and it is a plain step
/// ([`is_fresh_step`]), with the levels either side ([`levels_at`]). No backtest window
/// starts after such a shift, so none can say whether levelling at it pays; a whole day
/// at a level the series never held before, flat before it, is a step no burst makes. A
/// CloudWatch CPU series that fell from 33 % to nothing a day before the end was
/// forecast at 6 % by models fitted across the fall (MASE 1.42, where last day repeated
/// scored 0.28).
fn fresh_shift(values: &[f64], deseasonalised: &[f64], periods: &[usize], step_ms: i64) -> Option<Shift> {
    let n = deseasonalised.len();
    let block = shift_block(periods, step_ms, n);
    let least = fresh_after(periods, block, step_ms);
    let Located { at, first } = locate_step(deseasonalised, values, robust::last_level_shift(deseasonalised, block, least)?, block)
        .settle(|at| at + least <= n, |_| false)?;
    if at + least > n || at + LEVELLING_BLOCKS * block <= n {
        return None; // less than a day after it yet; or recent_shift's to judge, with windows after it
    }
    let mut shift = levels_at(deseasonalised, periods, block, at, first);
    shift.after = level_the_values_show(shift.after, &values[at.min(values.len())..]);
    shift.scales = swing_scales(values, &shift, block, periods);
    (shift.moves() && is_fresh_step(deseasonalised, &shift, block)).then_some(shift)
}

/// The last level shift of `deseasonalised` (of `values`, as observed) when it came at
/// least [`YOUNG_MIN_MS`] (and [`YOUNG_MIN_POINTS`] points) but less than a day
/// before the end, too young for [`fresh_shift`], and it is a plain step
/// ([`is_young_step`]). Before, such a step was either masked as a burst (while it was
/// shorter than the masking cap, 2 % of history) or left to the models: a load that rose
/// by half eight to sixteen hours before the end was forecast 6–17 % above the new level
/// by a trend that carried the step on (95 % coverage 0.20–0.25). Its level is the
/// values' median after it, as [`fresh_shift`] reads it.
fn young_shift(values: &[f64], deseasonalised: &[f64], periods: &[usize], step_ms: i64) -> Option<Shift> {
    let n = deseasonalised.len();
    let block = shift_block(periods, step_ms, n);
    // Younger than a fresh shift and than a day (a weekly series' fresh shift waits a week).
    let oldest = fresh_after(periods, block, step_ms).min(day_steps(step_ms)).saturating_sub(1);
    let youngest = young_steps(step_ms);
    if youngest > oldest || n < oldest + 3 * block {
        return None;
    }
    let half = (block / 2).max(1);
    // Looked for from a half block older to the end, so that an older or a younger step is
    // found where it came (and left to the fresh path or the tail) rather than at the
    // oldest or youngest place allowed, whose half blocks reach it.
    let lo = (n - oldest).saturating_sub(half);
    let at = largest_jump(deseasonalised, values, lo.saturating_sub(half)..n, lo, n - 1, half)?;
    if at + youngest > n || at + oldest < n {
        return None;
    }
    // After it, the seasons as they were before it, added or scaled with the level
    // (`swing_scales`, which needs a block after a step to compare): a load that rose by
    // half raised its daily swing by half, and less the old swing added, its halves after
    // the step read 10 apart.
    let cycle = periods.iter().copied().max().unwrap_or(0);
    // A whole cycle of seasons before it to repeat.
    let seasons = cycle > 0 && cycle <= at && values.len() >= n;
    let before = robust::median(&deseasonalised[at.saturating_sub(longest_season(periods, block))..at]);
    let read = |scaled: bool| -> Vec<f64> {
        let mut d = deseasonalised.to_vec();
        if seasons {
            for i in at..n {
                let j = at - cycle + (i - at) % cycle;
                let season = values[j] - deseasonalised[j];
                d[i] = if scaled { values[i] * before / (before + season) } else { values[i] - season };
            }
        }
        d
    };
    let halves_apart = |d: &[f64]| {
        let mid = at + (n - at) / 2;
        (robust::median(&d[mid..n]) - robust::median(&d[at..mid])).abs()
    };
    let added = read(false);
    let scaled = (seasons && before > 0.0 && (at - cycle..at).all(|j| before + values[j] - deseasonalised[j] > 0.0)).then(|| read(true));
    let (deseasonalised, scales) = match scaled {
        Some(m) if halves_apart(&m) < halves_apart(&added) => (m, true),
        _ => (added, false),
    };
    let mut shift = levels_at(&deseasonalised, periods, block, at, None);
    shift.after = level_the_values_show(shift.after, &values[at.min(values.len())..]);
    shift.scales = scales;
    (shift.moves() && is_young_step(&deseasonalised, &shift, block)).then_some(shift)
}

/// The youngest a step may be for [`young_shift`]: six hours, when a run at the end has
/// had its full chance of being the new level as a burst ([`tail::FULL_CHANCE_MS`]) and
/// such runs held over the next day more often than not (12 of 20 runs longer than three
/// hours on the NAB CloudWatch and Twitter sets). Younger, the run is the tail's: fitted
/// as a burst, its level given its chance in the bands.
const YOUNG_MIN_MS: i64 = tail::FULL_CHANCE_MS;

/// The fewest points after a young step: six hours at five minutes, the steps the
/// evidence for [`YOUNG_MIN_MS`] was read at. On coarser steps a young step waits longer
/// (18 hours at 15 minutes) and on hourly data is never young: M4's hourly series, with
/// six to 23 hours after a step taken as young, went from OWA 0.439 to 0.485.
const YOUNG_MIN_POINTS: usize = 72;

/// Steps in [`YOUNG_MIN_MS`], at least [`YOUNG_MIN_POINTS`].
fn young_steps(step_ms: i64) -> usize {
    usize::try_from(YOUNG_MIN_MS / step_ms.max(1)).unwrap_or(0).max(YOUNG_MIN_POINTS)
}

/// The chance a young step (`age_ms` before the end) ends and the level before it returns:
/// [`tail::MAX_CHANCE`] at [`YOUNG_MIN_MS`], where the tail's burst reading gives the new
/// level as much, falling in proportion to none at a day, where a [`fresh_shift`] gives it
/// none.
pub fn young_return_chance(age_ms: i64) -> f64 {
    let span = (crate::time::DAY_MS - YOUNG_MIN_MS) as f64;
    (tail::MAX_CHANCE * (1.0 - (age_ms - YOUNG_MIN_MS) as f64 / span)).clamp(0.0, tail::MAX_CHANCE)
}

/// Robust spreads of the noise (within the block before it) and of the day-to-day wander
/// of the block medians before it that a young step must move the level by: fewer
/// points follow it than any block, so it must stand clear of both.
const YOUNG_STEP_SDS: f64 = 3.0;

/// True when `shift`, younger than a block, is a plain step, as [`is_fresh_step`] asks of
/// an older one, and more:
/// - it moves the level by [`YOUNG_STEP_SDS`] spreads of the block before it and of the
///   blocks' medians' day-to-day change;
/// - the two blocks before it agree, and no earlier block came near the new level
///   ([`FRESH_FLAT_SHARE`]);
/// - each half of what follows lies nearer the new level than the old, and the halves
///   agree within [`FRESH_FLAT_SHARE`] of the move: a burst that decays, or a ramp, moves
///   them apart.
fn is_young_step(deseasonalised: &[f64], shift: &Shift, block: usize) -> bool {
    let (n, at) = (deseasonalised.len(), shift.at);
    if at < 3 * block || n < at + 2 {
        return false;
    }
    let median = |r: std::ops::Range<usize>| robust::median(&deseasonalised[r]);
    let moved = (shift.after - shift.before).abs();
    let (_, noise) = robust::median_mad(&deseasonalised[at - block..at]);
    // The blocks before it, the nearest first, each ending where the next begins.
    let blocks: Vec<f64> = deseasonalised[..at].rchunks_exact(block).map(robust::median).collect();
    let (_, wander) = robust::median_mad(&blocks.windows(2).map(|w| w[0] - w[1]).collect::<Vec<f64>>());
    let clear = moved > YOUNG_STEP_SDS * noise && moved > YOUNG_STEP_SDS * wander;
    let flat = (blocks[0] - blocks[1]).abs() <= FRESH_FLAT_SHARE * moved;
    let new = blocks[2..].iter().all(|m| (m - shift.after).abs() > FRESH_FLAT_SHARE * moved);
    let mid = at + (n - at) / 2;
    let (first, second) = (median(at..mid), median(mid..n));
    let nearer_new = |m: f64| (m - shift.after).abs() < (m - shift.before).abs();
    let held = nearer_new(first) && nearer_new(second) && (second - first).abs() <= FRESH_FLAT_SHARE * moved;
    clear && flat && new && held
}

/// `level` (after a step, read on the deseasonalised series) when `observed` (the values
/// after it) reach it, else their median. A season that went with the step (a drained
/// group loses its daily shape too) leaves the deseasonalised level after it where the
/// values never were (−5 % for a CPU at 0.3 %): the values' own median is the level then.
fn level_the_values_show(level: f64, observed: &[f64]) -> f64 {
    let (low, high) = observed.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
    if (low..=high).contains(&level) { level } else { robust::median(observed) }
}

/// True when the swing of `values` (10th to 90th percentile), from the block before
/// `shift` to the last block after it at the same phase of the longest season, changed
/// nearer the ratio of the levels than not at all (past the geometric mean of the two for
/// a rise, the plain mean for a fall): the season and the noise grew or shrank with the
/// level, and history is moved by the ratio. A load that doubled with a daily swing of
/// ±30 % was levelled by the difference, its peaks forecast at 174 where yesterday's
/// reached 202; a group drained to nothing kept its old daily shape.
fn swing_scales(values: &[f64], shift: &Shift, block: usize, periods: &[usize]) -> bool {
    let n = values.len();
    let begins = shift.begins();
    if shift.before <= 0.0 || shift.after < 0.0 || begins < block || n < shift.at + block {
        return false;
    }
    let swing = |r: std::ops::Range<usize>| {
        let mut v: Vec<f64> = values[r].iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        if v.is_empty() { f64::NAN } else { v[(0.9 * (v.len() - 1) as f64) as usize] - v[(0.1 * (v.len() - 1) as f64) as usize] }
    };
    // The same phase of the longest season on both sides: a Sunday after a launch swings
    // less than the Tuesday before it whatever the launch did.
    let cycle = longest_season(periods, block);
    let start = begins - block;
    // After the step's last stage: one across a stage swings by the stage's move. With no
    // season longer than a block, any whole block is a whole cycle: the last one, when the
    // same phase leaves none after a second stage (a load that doubled in two stages kept
    // the old swing and its forecast lost its daily shape).
    let aligned = (1..).map(|k| start + k * cycle).take_while(|s| s + block <= n).filter(|s| *s >= shift.at).last();
    let Some(later) = aligned.or_else(|| (cycle <= block && n >= shift.at + block).then(|| n - block)) else {
        return false;
    };
    let (before, after) = (swing(start..begins), swing(later..later + block));
    if !(before > 0.0) || !after.is_finite() {
        return false;
    }
    let (levels, swings) = (shift.after / shift.before, after / before);
    if levels > 1.0 {
        swings > levels.sqrt()
    } else {
        // Towards nothing the geometric midpoint is nothing too, and a drained group's
        // few ticks of 0 to 1 read as a swing kept: halfway between, plainly.
        swings < 0.5 * (1.0 + levels)
    }
}

/// Most the two blocks before a fresh shift may differ by, as a share of the shift: a
/// level that was already moving by as much is growth, not a step. Also how near the new
/// level an earlier block may come before the new level counts as one the series has held.
const FRESH_FLAT_SHARE: f64 = 0.25;

/// True when `shift`, with less than two blocks after it, is a plain step:
/// - the two blocks before it agree (within [`FRESH_FLAT_SHARE`] of the shift: a ramp
///   moves them apart as far as the shift itself);
/// - each half of what follows lies nearer the new level than the old (a burst that came
///   and went, or a step later than the block boundary the detector names, leaves one
///   half at the old level);
/// - no block before came within [`FRESH_FLAT_SHARE`] of the new level (a quiet weekend
///   day on a history too short to show its week, or a recurring outage, has been there
///   before and will leave again).
fn is_fresh_step(deseasonalised: &[f64], shift: &Shift, block: usize) -> bool {
    let (n, at, begins) = (deseasonalised.len(), shift.at, shift.begins());
    if begins < 2 * block || n < at + block {
        return false;
    }
    let median = |r: std::ops::Range<usize>| robust::median(&deseasonalised[r]);
    let moved = (shift.after - shift.before).abs();
    let flat = (median(begins - block..begins) - median(begins - 2 * block..begins - block)).abs() <= FRESH_FLAT_SHARE * moved;
    let mid = at + (n - at) / 2;
    let nearer_new = |m: f64| (m - shift.after).abs() < (m - shift.before).abs();
    let held = nearer_new(median(at..mid)) && nearer_new(median(mid..n));
    let new = deseasonalised[..begins - 2 * block]
        .chunks_exact(block)
        .all(|c| (robust::median(c) - shift.after).abs() > FRESH_FLAT_SHARE * moved);
    flat && held && new
}

/// The last level shift of `deseasonalised` with `min_after` points after it, when it is a
/// step ([`is_step`]), with the levels either side ([`levels_at`]).
fn step_with_levels(
    deseasonalised: &[f64],
    observed: &[f64],
    periods: &[usize],
    block: usize,
    min_after: usize,
    fresh_after: usize,
    late: Late,
) -> Option<Shift> {
    let n = deseasonalised.len();
    // Kept late, a step still needs a whole block after it to be judged a step
    // ([`is_step`]): a second stage closer to the end leaves the first alone.
    let fits = |at: usize| match late {
        Late::Keep => at + block < n,
        Late::Refuse => at + min_after <= n,
    };
    let Located { at, first } = locate_step(deseasonalised, observed, robust::last_level_shift(deseasonalised, block, min_after)?, block)
        .settle(fits, |at| at + fresh_after <= n && at + LEVELLING_BLOCKS * block > n)?;
    if !fits(at) {
        return None; // the step came later than its block's start: too little after it yet
    }
    let shift = levels_at(deseasonalised, periods, block, at, first);
    is_step(deseasonalised, &shift, block).then_some(shift)
}

/// The fewest steps after a fresh shift ([`fresh_shift`]): a whole cycle of every season,
/// and a day. One day of a weekly series can be its weekend (M4 hourly series whose last
/// day was a Sunday read as fresh steps down).
fn fresh_after(periods: &[usize], block: usize, step_ms: i64) -> usize {
    longest_season(periods, block).max(day_steps(step_ms))
}

/// True when slot `t` of `observed` is a gap (`NaN`; [`Prepared::with_gaps`]); a slot past
/// its end is not.
fn is_gap(observed: &[f64], t: usize) -> bool {
    observed.get(t).is_some_and(|v| v.is_nan())
}

/// Spreads (robust standard deviations) from the median past which values are clipped
/// before [`locate_step`] averages them; and by which each stage of a step in two must
/// move the level, beyond the spread about either level ([`two_stages`]).
const LOCATE_CLIP_SDS: f64 = 3.0;

/// What [`step_with_levels`] does with a step that [`locate_step`] places later than its
/// block's start, leaving less than asked after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Late {
    /// Refused: too little after it yet (a fresh step is [`fresh_shift`]'s; a step whose
    /// second stage is too recent is taken at its first, [`Located::settle`]).
    Refuse,
    /// Kept: the detector's block had enough after it, and no other rule takes it (a
    /// series with a season longer than the block, which [`fresh_shift`] leaves alone).
    Keep,
}

/// Where a step is: at `at`, and for a step in two stages where its first began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Located {
    at: usize,
    first: Option<usize>,
}

impl Located {
    /// The step as a caller can take it when its second stage leaves too little after it
    /// for that caller (`fits` is false): `None` when the second stage lies where
    /// [`fresh_shift`] judges steps (`fresh` is true; levelled at the first here as well,
    /// history was moved twice), else placed at its first stage alone, as before stages
    /// were told apart, rather than not levelled at all (a second stage half a day before
    /// the end left a day-old first stage unlevelled, and the forecast ran to three times
    /// the load). The fresh path may still find no plain step there; the backtest's
    /// windows, which have no fresh path, then level nothing at that step.
    fn settle(self, fits: impl Fn(usize) -> bool, fresh: impl Fn(usize) -> bool) -> Option<Self> {
        match self.first {
            Some(_) if !fits(self.at) && fresh(self.at) => None,
            Some(first) if !fits(self.at) => Some(Located { at: first, first: None }),
            _ => Some(self),
        }
    }
}

/// Where, from a block before `at` (a block's start, where the detector names a step) to
/// two after it, the step is: the point where the means of half a block before and after it
/// differ most, bursts clipped ([`LOCATE_CLIP_SDS`]). The detector averages whole blocks
/// from the first sample, so a step 30 hours before the end was named at the day boundary
/// 48 hours before it, and the level after it taken over 18 hours of the old level too
/// (100 to 21 for a fall to 0). A step in two stages is placed at its second, with where
/// its first began ([`two_stages`]).
fn locate_step(deseasonalised: &[f64], observed: &[f64], at: usize, block: usize) -> Located {
    let n = deseasonalised.len();
    let half = (block / 2).max(1);
    // A block before it to two after: an hour's burst can raise the block before the
    // step's own enough for the detector to name that one.
    let (lo, hi) = (at.saturating_sub(block).max(half), (at + 2 * block).min(n.saturating_sub(half)));
    if lo > hi {
        return Located { at, first: None };
    }
    let step = largest_jump(deseasonalised, observed, lo - half..hi + half, lo, hi, half).unwrap_or(at);
    // The shortest first stage looked for: a third of half a block (four hours at five
    // minutes); a shorter one is not told from a burst, which the clipped means pass over.
    let shortest = (half / 3).max(1);
    // The stage found may be either: a later one is searched among the values after it,
    // then an earlier one among those before.
    let later = largest_jump(deseasonalised, observed, step..hi + half, step + shortest, hi, half)
        .filter(|&second| two_stages(deseasonalised, observed, step, second, half));
    if let Some(second) = later {
        return Located { at: second, first: Some(step) };
    }
    let first = largest_jump(deseasonalised, observed, lo - half..step, lo, step.saturating_sub(shortest), half)
        .filter(|&first| two_stages(deseasonalised, observed, first, step, half));
    Located { at: step, first }
}

/// The point in `lo..=hi` where the means of up to `half` values of `range` before it and
/// after it differ most, the values clipped to the median of `range` ±
/// [`LOCATE_CLIP_SDS`] spreads: medians tie over every point within half a block of a
/// clean step, and unclipped means let an hour's burst a few hours off a step pull it
/// there. `None` when no point has values on both sides.
fn largest_jump(
    deseasonalised: &[f64],
    observed: &[f64],
    range: std::ops::Range<usize>,
    lo: usize,
    hi: usize,
    half: usize,
) -> Option<usize> {
    let gap = |t: usize| is_gap(observed, t);
    let (from, to) = (range.start, range.end.min(deseasonalised.len()));
    if from >= to || lo > hi {
        return None;
    }
    let (centre, spread) = robust::median_mad(&deseasonalised[from..to]);
    // A noiseless stretch has no spread to clip by (and a clean step to find).
    let clip = |v: f64| if spread > 0.0 { v.clamp(centre - LOCATE_CLIP_SDS * spread, centre + LOCATE_CLIP_SDS * spread) } else { v };
    let mut sum = vec![0.0; to - from + 1];
    let mut count = vec![0usize; to - from + 1];
    for (k, v) in deseasonalised[from..to].iter().enumerate() {
        // Gaps' interpolated values are no evidence of where the step came.
        let finite = v.is_finite() && !gap(from + k);
        sum[k + 1] = sum[k] + if finite { clip(*v) } else { 0.0 };
        count[k + 1] = count[k] + usize::from(finite);
    }
    let mean = |a: usize, b: usize| {
        let (a, b) = (a.clamp(from, to) - from, b.clamp(from, to) - from);
        let c = count[b].saturating_sub(count[a]);
        if c == 0 { f64::NAN } else { (sum[b] - sum[a]) / c as f64 }
    };
    let mut best: Option<(usize, f64)> = None;
    // Within a gap only its first slot is a candidate: the rest read the same evidence,
    // give or take which observed values their half blocks reach.
    for t in (lo.max(from + 1)..=hi.min(to - 1)).filter(|&t| !(t > 0 && gap(t) && gap(t - 1))) {
        let jump = (mean(t, t + half) - mean(t.saturating_sub(half), t)).abs();
        if jump.is_finite() && best.is_none_or(|(_, b)| jump > b) {
            best = Some((t, jump));
        }
    }
    best.map(|(t, _)| t)
}

/// Share of one stage's move that the other must make, the same way, for a step to count
/// as two stages rather than one with a wobble in the level beside it; also how near the
/// first stage's level an earlier block may come before that level counts as one the
/// series has held.
const STAGE_SHARE: f64 = 0.25;

/// Share of the second stage's move by which the halves of the first may differ for it to
/// count as a level held, not a ramp towards the second.
const STAGE_DRIFT: f64 = 0.25;

/// True when a step came in two stages, at `first` and at `second`: a rollout to part of
/// the fleet, then to the rest (100 → 150 → 250 eight hours apart). Placed at one of them,
/// the history was levelled from one level while the hours at 150 were left as they were,
/// and the forecast's daily shape ran 190 to 300 for a load that kept within 225 to 275;
/// placed at the second with the first beside it, history is levelled from each stage's
/// level ([`Shift::stage`]). Two stages when each moves the median the same way, by
/// [`STAGE_SHARE`] of the other or more, and by more than [`LOCATE_CLIP_SDS`] times the
/// spread about either level (a season left in the deseasonalised values after a step
/// that scaled the swing is no stage) and than the level wandered from block to block
/// before; and the first stage held a level, one the series never held before.
fn two_stages(deseasonalised: &[f64], observed: &[f64], first: usize, second: usize, half: usize) -> bool {
    let n = deseasonalised.len();
    let kept = |r: std::ops::Range<usize>| -> Vec<f64> { r.filter(|&t| !is_gap(observed, t)).map(|t| deseasonalised[t]).collect() };
    let before = robust::median(&kept(first.saturating_sub(half)..first));
    let (middle, middle_spread) = robust::median_mad(&kept(first..second));
    // The level after it is that of all that follows (the detector named no later
    // shift): a season left in the deseasonalised values after a step that scaled the
    // swing raises the half block after a trough, not the whole.
    let (after, after_spread) = robust::median_mad(&kept(second..n));
    let noise = middle_spread.max(after_spread);
    let (one, two) = (middle - before, after - middle);
    let (small, large) = (one.abs().min(two.abs()), one.abs().max(two.abs()));
    // A stage is a level held: its halves' medians agree (a ramp's do not).
    let mid = first + (second - first) / 2;
    let drift = robust::median(&kept(mid..second)) - robust::median(&kept(first..mid));
    let held = drift.abs() <= STAGE_DRIFT * two.abs();
    if !(held && one * two > 0.0 && small >= STAGE_SHARE * large && small > LOCATE_CLIP_SDS * noise) {
        return false; // before the medians of every block of history (a hot path: each backtest window)
    }
    // The first stage held a level the series never held before: one it had (the
    // weekdays after a weekend dip, with too few weeks to see the week as a season) is a
    // return, not a stage. And each moved it by more than the level wandered from block
    // to block before: a step on a Saturday is followed by Monday's rise, as every Monday
    // rose.
    let blocks: Vec<f64> = deseasonalised[..first.saturating_sub(half)].chunks_exact(2 * half).map(robust::median).collect();
    let new = blocks.iter().all(|m| (m - middle).abs() > STAGE_SHARE * one.abs());
    let wander = blocks.windows(2).map(|w| (w[1] - w[0]).abs()).fold(0.0, f64::max);
    new && small > wander
}

/// The shift at `at` with the levels either side: after it, the median of all that
/// follows; before it (before its `first` stage, for a step in two), the median of as
/// long a stretch, at least the longest season (so a week's shape averages out); between
/// the stages, the median of what lies between.
fn levels_at(deseasonalised: &[f64], periods: &[usize], block: usize, at: usize, first: Option<usize>) -> Shift {
    let longest = longest_season(periods, block);
    let span = (deseasonalised.len() - at).max(longest);
    let begins = first.unwrap_or(at);
    let before = robust::median(&deseasonalised[begins.saturating_sub(span)..begins]);
    let after = robust::median(&deseasonalised[at..]);
    let stage = first.map(|from| Stage { from, level: robust::median(&deseasonalised[from..at]) });
    Shift { at, before, after, scales: false, stage }
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
    let (min_after, fresh) = (backtest::min_train(periods).max(block), fresh_after(periods, block, step_ms));
    step_with_levels(deseasonalised, &[], periods, block, min_after, fresh, Late::Refuse).map(|s| s.at)
}

/// True when `shift` is a step, not a ramp: the blocks either side of it (one block apart
/// from where it begins and from where it ends, as the detector places a step within a
/// block of where it came) differ by [`STEP_SHARE`] of it or more. Steady growth also
/// moves the median of what follows from that of what went before; levelling it, or
/// fitting only after it, took the growth away and the forecast fell flat.
fn is_step(deseasonalised: &[f64], shift: &Shift, block: usize) -> bool {
    let (n, at, begins) = (deseasonalised.len(), shift.at, shift.begins());
    if (at + block).min(n) >= (at + 2 * block).min(n) || begins < 2 * block {
        return false; // no whole block on a side to judge by
    }
    let median = |r: std::ops::Range<usize>| robust::median(&deseasonalised[r]);
    let jump = median((at + block).min(n)..(at + 2 * block).min(n)) - median(begins - 2 * block..begins - block);
    jump.abs() >= STEP_SHARE * (shift.after - shift.before).abs()
}

/// Block length of the level-shift search: one season (block means hide the seasons), or
/// without seasons a day of steps, at least [`SHIFT_BLOCK`] and at most a twelfth of the
/// history (so that a short history still has blocks to compare).
fn shift_block(periods: &[usize], step_ms: i64, len: usize) -> usize {
    if let Some(p) = periods.first() {
        return (*p).max(1);
    }
    day_steps(step_ms).min(len / 12).max(SHIFT_BLOCK)
}

/// Steps in a day at `step_ms` (`usize::MAX` when a step is longer than a day).
fn day_steps(step_ms: i64) -> usize {
    usize::try_from(crate::time::DAY_MS / step_ms.max(1)).unwrap_or(usize::MAX)
}

/// The longest season, at least a block: the span a level before a shift is read over,
/// and the cycle a step's swing is compared at.
fn longest_season(periods: &[usize], block: usize) -> usize {
    periods.iter().copied().max().unwrap_or(block).max(block)
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
        let origin = origin.min(d.len()).min(self.values.len());
        recent_shift(&self.values[..origin], &d[..origin], &self.periods, self.step_ms)
    }
}

/// `spec` with the periods of another stretch of history: all of them, or the shortest
/// alone when the spec used one period of several. A spec keeps its own periods when the
/// other stretch found none (its backtest showed them). A seasonal naive keeps its
/// period when the other stretch has it too, or only shorter ones: a season held once
/// (`backtest::longer_held_once`), which a window's past is too short to detect but
/// holds once, all a seasonal naive needs (the weekly one became the daily one).
pub fn with_periods(spec: &Spec, periods: &[usize]) -> Spec {
    let periods = match (spec.periods.len(), periods.first()) {
        (0, _) => Vec::new(),
        (_, None) => spec.periods.clone(),
        (1, Some(_))
            if spec.kind == ModelKind::SeasonalNaive
                && (periods.contains(&spec.periods[0]) || periods.iter().all(|p| *p < spec.periods[0])) =>
        {
            spec.periods.clone()
        }
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
                    format!(
                        "less than two {} of history at {} steps: fitted without seasonality",
                        if crate::time::months_per_step(step_ms).is_some() { "years" } else { "days" },
                        format_duration(step_ms)
                    ),
                ));
            }
            found
        }
        Periods::Given(given) => {
            // Shortest first, as detection gives them: a model of one period keeps the
            // first (`with_periods`), and `1d,12h` had its windows check MSTL(144) while
            // the final fit was MSTL(288).
            let mut given = given.clone();
            given.sort_unstable();
            given.dedup();
            let (ok, dropped): (Vec<usize>, Vec<usize>) = given.iter().partition(|p| p.saturating_mul(2) <= values.len());
            if !dropped.is_empty() {
                warnings.push(Warning::new(
                    name,
                    format!("periods {dropped:?} dropped: fewer than two full seasons of history ({} steps)", values.len()),
                ));
            }
            ok
        }
        // Resolved per series before the forecast starts (`forecast::forecast`); here for
        // a caller that prepares directly.
        Periods::Durations(_) => choose_periods(values, step_ms, &setting.in_steps(step_ms).0, name, warnings),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worked by hand: a season of 4 at hourly steps (an hour is one step), the last two
    /// slots empty and held at 20. The level moved by 20 − 10 = 10 from the season
    /// before, so they are the season before plus 10: 11 + 10 and 12 + 10. Without a
    /// season, or with less than one before the gap, they stay held.
    #[test]
    fn an_empty_tail_is_filled_from_the_season_before() {
        let prepared = |periods: Vec<usize>| Prepared {
            periods,
            fit_values: vec![0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 13.0, 20.0, 20.0, 20.0],
            outliers: Vec::new(),
            heavy_tailed: false,
            decomposition: None,
            step_ms: crate::time::HOUR_MS,
            observed: Vec::new(),
        };
        let mut p = prepared(vec![4]);
        assert_eq!(p.fill_trailing_from_season(2), Some(4));
        assert_eq!(p.fit_values[8..], [20.0, 21.0, 22.0]);
        let mut none = prepared(Vec::new());
        assert_eq!(none.fill_trailing_from_season(2), None);
        assert_eq!(none.fit_values[9..], [20.0, 20.0]);
        let mut short = prepared(vec![9]);
        assert_eq!(short.fill_trailing_from_season(2), None, "8 slots before the gap hold no season of 9");
    }

    #[test]
    fn gaps_are_filled_again_between_their_levelled_neighbours() {
        // Levelled at 2 (100 → 200 before it), the gap's old ramp 120, 140, 160, 180 runs
        // from 200 to 200 again; a gap at an end is held from its one side.
        let mut v = vec![200.0, 200.0, 120.0, 140.0, 160.0, 180.0, 200.0, 7.0];
        let observed = [1.0, 1.0, f64::NAN, f64::NAN, f64::NAN, f64::NAN, 1.0, f64::NAN];
        refill_gaps(&mut v, &observed);
        assert_eq!(v, vec![200.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0]);
        let mut ramp = vec![0.0, 9.0, 9.0, 3.0];
        refill_gaps(&mut ramp, &[0.0, f64::NAN, f64::NAN, 3.0]);
        assert_eq!(ramp, vec![0.0, 1.0, 2.0, 3.0]);
    }

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

    /// 5-minute noise around 10 with a daily shape, thirteen days, then `tail` steps of
    /// `after(i)`.
    fn daily_then(tail: usize, after: impl Fn(usize) -> f64) -> Vec<f64> {
        daily_from(13 * 288, tail, after)
    }

    /// [`daily_then`] with `before` steps ahead of the tail: where the series starts moves
    /// the blocks the detector averages.
    fn daily_from(before: usize, tail: usize, after: impl Fn(usize) -> f64) -> Vec<f64> {
        let n = before + tail;
        (0..n)
            .map(|i| {
                let x = (i as u64).wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) >> 11;
                let base = 10.0 + 2.0 * ((i % 288) as f64 / 288.0 * std::f64::consts::TAU).sin() + (x as f64 / (1u64 << 53) as f64 - 0.5);
                if i >= before { after(i - before) + base - 10.0 } else { base }
            })
            .collect()
    }

    fn fresh(values: &[f64]) -> Option<Shift> {
        prepare(values, 300_000, &ForecastSettings::default(), "fresh", &mut Vec::new()).fresh_shift()
    }

    #[test]
    fn a_step_a_day_before_the_end_is_fresh_and_a_burst_or_an_older_step_is_not() {
        // Up from 10 to 40 for the last 300 steps (a day and an hour): a fresh step, found
        // within a block of where it began, the level after it the new one.
        let v = daily_then(300, |_| 40.0);
        let s = fresh(&v).expect("a day at 40 after thirteen at 10");
        assert!(s.at <= v.len() - 300 + 288 && s.at + 288 > v.len() - 300, "{s:?}");
        assert!((s.after - 40.0).abs() < 3.0 && (s.before - 10.0).abs() < 1.0, "{s:?}");
        // The same rise gone again after half a day: a burst, not a level.
        let burst = daily_then(300, |i| if i < 150 { 40.0 } else { 10.0 });
        assert_eq!(fresh(&burst), None);
        // A fall for the last half day only, after half a day as before: an outage so far.
        let outage = daily_then(300, |i| if i < 150 { 10.0 } else { 0.0 });
        assert_eq!(fresh(&outage), None);
        // A rise three days before the end has windows after it: recent_shift's to judge.
        assert_eq!(fresh(&daily_then(3 * 288, |_| 40.0)), None);
        // Less than a day after it is not yet told from a burst, wherever the blocks fall
        // (the detector names the start of a block, which can lie a day before the end
        // while the rise came 17 hours before it).
        for before in [13 * 288, 13 * 288 + 60, 13 * 288 + 100, 13 * 288 + 200, 13 * 288 + 250] {
            assert_eq!(fresh(&daily_from(before, 200, |_| 40.0)), None, "history {before} steps before the rise");
        }
    }

    fn young(values: &[f64]) -> Option<Shift> {
        prepare(values, 300_000, &ForecastSettings::default(), "young", &mut Vec::new()).young_shift()
    }

    /// Worked by hand from the rules of `young_shift`: at five minutes a young step has
    /// 72 (six hours) to 287 steps after it; the noise is uniform ±0.5 (a robust spread of
    /// 0.37), so a move of 30 is clear of it, and of the blocks' day-to-day wander.
    #[test]
    fn a_step_six_hours_to_a_day_old_is_young_and_a_burst_or_a_ramp_is_not() {
        for tail in [72, 96, 150, 200, 287] {
            let v = daily_then(tail, |_| 40.0);
            let s = young(&v).unwrap_or_else(|| panic!("{tail} steps at 40 after thirteen days at 10"));
            assert!(s.at.abs_diff(v.len() - tail) <= 2, "named at {} for a rise at {}", s.at, v.len() - tail);
            assert!((s.after - 40.0).abs() < 1.0 && (s.before - 10.0).abs() < 1.0, "{s:?}");
            // A fall as plain is as young.
            assert!(young(&daily_then(tail, |_| 5.0)).is_some(), "a fall {tail} steps before the end");
        }
        // Younger than six hours: the tail's, fitted as a burst.
        assert_eq!(young(&daily_then(60, |_| 40.0)), None);
        // A day or more: fresh_shift's (or recent_shift's).
        assert_eq!(young(&daily_then(300, |_| 40.0)), None);
        // A burst that decays: the halves after it disagree by more than a quarter of it.
        assert_eq!(young(&daily_then(150, |i| 40.0 - 25.0 * i as f64 / 150.0)), None);
        // A ramp over the last twelve hours.
        assert_eq!(young(&daily_then(144, |i| 10.0 + 30.0 * i as f64 / 144.0)), None);
        // A move within the noise (0.4 against a spread of 0.37) is no step.
        assert_eq!(young(&daily_then(144, |_| 10.4)), None);
        // A level held before (an outage on day 5 at the same 0): a return, not a step.
        let mut held = daily_then(144, |_| 0.0);
        held[5 * 288..6 * 288].iter_mut().for_each(|x| *x -= 10.0);
        assert_eq!(young(&held), None);
        // The chance of a return: even at six hours, none at a day, a third at 12 hours.
        assert_eq!(young_return_chance(6 * crate::time::HOUR_MS), 0.5);
        assert_eq!(young_return_chance(crate::time::DAY_MS), 0.0);
        assert!((young_return_chance(12 * crate::time::HOUR_MS) - 1.0 / 3.0).abs() < 1e-12);
    }

    /// A fall to nothing 30 hours before the end (at 18:00 of a day whose midnight the
    /// detector's blocks start at): named at the hour it came, the level after it nothing,
    /// and history moved by the ratio, as the daily swing went with the load.
    #[test]
    fn a_step_between_block_starts_is_named_where_it_came() {
        let fall = 13 * 288 + 72;
        let v = daily_from(fall, 360, |_| 0.0);
        let v: Vec<f64> = v.iter().enumerate().map(|(i, x)| if i >= fall { 0.0 } else { *x }).collect();
        let s = fresh(&v).expect("a day and a quarter at nothing after thirteen days at 10");
        assert!(s.at.abs_diff(fall) <= 3, "named at {} for a fall at {fall}", s.at);
        assert_eq!(s.after, 0.0, "{s:?}");
        assert!(s.scales, "{s:?}");
        let levelled = s.adjust(&v, false);
        assert!(levelled.iter().all(|x| x.abs() < 1e-9), "history before the fall moved to nothing");
    }

    /// A rollout in two stages, 10 → 15 and, eight hours and twenty minutes later, → 25:
    /// placed at the second with the first beside it, and each stretch of history moved
    /// from its own level (worked by hand: before the first stage by +15, between the
    /// stages by +10), so all of it lies at 25 give or take the daily swing.
    #[test]
    fn a_step_in_two_stages_is_levelled_from_each() {
        let first = 13 * 288;
        let v = daily_from(first, 460, |i| if i < 100 { 15.0 } else { 25.0 });
        let s = fresh(&v).expect("thirty hours at 25 after eight at 15 and thirteen days at 10");
        let stage = s.stage.expect("two stages");
        assert!(s.at.abs_diff(first + 100) <= 3 && stage.from.abs_diff(first) <= 3, "{s:?}");
        assert!((s.before - 10.0).abs() < 0.5 && (stage.level - 15.0).abs() < 1.0 && (s.after - 25.0).abs() < 1.0, "{s:?}");
        assert!(!s.scales, "the swing stayed ±2: {s:?}");
        let moved = s.adjust(&v, false);
        for (what, range) in [("before the stages", 0..first - 3), ("between them", first + 3..first + 97)] {
            let mean = moved[range.clone()].iter().sum::<f64>() / range.len() as f64;
            let expected = v[range.clone()].iter().sum::<f64>() / range.len() as f64 + if range.start == 0 { 15.0 } else { 10.0 };
            assert!((mean - expected).abs() < 1.0, "{what}: {mean:.2} against {expected:.2}");
        }
        // One step of the same size is one step.
        let one = fresh(&daily_then(360, |_| 25.0)).expect("a step");
        assert_eq!(one.stage, None, "{one:?}");
        // A second stage twelve hours before the end, too recent to level at: levelled at
        // the first (thirty-six hours before the end) alone, not left as it was.
        let late = daily_from(first, 432, |i| if i < 288 { 15.0 } else { 25.0 });
        let s = fresh(&late).expect("the first stage");
        assert!(s.stage.is_none() && s.at.abs_diff(first) <= 3, "{s:?}");
    }

    /// An hour's burst at five times the step, eight hours before it, does not pull the
    /// step to itself; nor does a drained group's few ticks of 0 to 1 read as a swing kept.
    #[test]
    fn a_burst_beside_a_step_and_ticks_after_a_drain_mislead_nothing() {
        let fall = 13 * 288 + 72;
        let mut v = daily_from(fall, 360, |_| 40.0);
        for x in &mut v[fall - 96..fall - 84] {
            *x += 150.0;
        }
        let s = fresh(&v).expect("the rise");
        assert!(s.at.abs_diff(fall) <= 3, "named at {} for a rise at {fall}", s.at);
        let drained: Vec<f64> = daily_from(fall, 360, |_| 0.0)
            .iter()
            .enumerate()
            .map(|(i, x)| {
                if i < fall {
                    30.0 + 10.0 * (x - 10.0)
                } else if i % 5 == 0 {
                    (i % 7) as f64 / 7.0
                } else {
                    0.0
                }
            })
            .collect();
        let s = fresh(&drained).expect("the drain");
        assert!(s.scales, "{s:?}");
    }

    /// A load that doubled with its daily swing is moved by the ratio; one whose swing
    /// stayed as it was, by the difference.
    #[test]
    fn the_swing_says_whether_a_step_scales() {
        let shape = |i: usize| ((i % 288) as f64 / 288.0 * std::f64::consts::TAU).sin();
        let n = 13 * 288 + 300;
        let doubled: Vec<f64> = (0..n).map(|i| if i < n - 300 { 100.0 } else { 200.0 } * (1.0 + 0.3 * shape(i))).collect();
        let s = fresh(&doubled).expect("a doubling a day before the end");
        assert!(s.scales, "{s:?}");
        let moved = s.adjust(&doubled, false);
        let peak = moved[..n - 300].iter().copied().fold(f64::MIN, f64::max);
        assert!((peak - 260.0).abs() < 3.0, "yesterday's peaks at 200 × 1.3: {peak:.1}");
        let added: Vec<f64> = (0..n).map(|i| if i < n - 300 { 100.0 } else { 200.0 } + 30.0 * shape(i)).collect();
        assert!(!fresh(&added).expect("a step of 100 a day before the end").scales);
    }

    /// A level the series held for a whole day before is no new one: it came back from it
    /// once and may again.
    #[test]
    fn a_level_held_before_is_no_fresh_step() {
        let v = daily_then(300, |_| 40.0);
        let mut again = v.clone();
        for x in &mut again[4 * 288..5 * 288] {
            *x += 30.0;
        }
        assert!(fresh(&v).is_some());
        assert_eq!(fresh(&again), None, "40 held for a day a week before");
    }

    /// A drained group loses its daily shape with its load: the deseasonalised level after
    /// the fall sits below anything the values showed, and the level is the values' own.
    #[test]
    fn a_fall_that_takes_the_season_with_it_is_levelled_to_what_the_values_show() {
        let n = 13 * 288 + 300;
        let v: Vec<f64> = (0..n)
            .map(|i| if i < 13 * 288 { 30.0 + 12.0 * ((i % 288) as f64 / 288.0 * std::f64::consts::TAU).sin() } else { 0.3 })
            .collect();
        let s = fresh(&v).expect("the fall");
        assert!((s.after - 0.3).abs() < 0.05, "{s:?}");
    }

    /// A last day that carries on a rise is growth, not a step: the two blocks before it
    /// moved apart as far as the last one moved; the same last day after a flat stretch is
    /// a step.
    #[test]
    fn a_ramp_is_no_fresh_step() {
        let block = 288;
        let n = 8 * block + 300;
        let at = n - 300;
        let ramp: Vec<f64> = (0..n).map(|i| 10.0 + 0.01 * i as f64).collect();
        let shift = levels_at(&ramp, &[block], block, at, None);
        assert!(shift.after - shift.before > 2.0, "{shift:?}");
        assert!(!is_fresh_step(&ramp, &shift, block));
        let step: Vec<f64> = (0..n).map(|i| if i < at { 10.0 } else { 10.0 + 0.01 * i as f64 }).collect();
        assert!(is_fresh_step(&step, &levels_at(&step, &[block], block, at, None), block));
    }

    /// Hourly traffic with a weekly shape whose last day is a Sunday quieter than any
    /// before it: one day of a weekly series is no level, however far it sits below the
    /// weekdays and the Sundays before (M4 hourly series ending on such a day read as fresh
    /// steps down, and their forecasts fell with them).
    #[test]
    fn a_weekend_is_no_fresh_step() {
        let week = 168;
        let v: Vec<f64> = (0..6 * week)
            .map(|i| {
                let x = (i as u64).wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) >> 11;
                let day = ((i % week) / 24) as f64;
                let weekend = if i >= 6 * week - 24 {
                    0.1
                } else if day >= 6.0 {
                    0.3
                } else {
                    1.0
                };
                100.0 * weekend * (1.0 + 0.3 * ((i % 24) as f64 / 24.0 * std::f64::consts::TAU).sin())
                    + (x as f64 / (1u64 << 53) as f64 - 0.5)
            })
            .collect();
        let p = prepare(&v, 3_600_000, &ForecastSettings::default(), "weekly", &mut Vec::new());
        assert!(p.periods.contains(&week), "the week is found: {:?}", p.periods);
        assert_eq!(p.fresh_shift(), None);
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
