//! Stage 4, choice: the model (or mean of models) with the lowest MASE over the
//! selection windows, and the nested record that calibration trusts.
//!
//! Calibrating the chosen model's band on the windows it was chosen on would be
//! optimistic: it won them partly by luck. So each selection window is also scored with
//! the model that the windows wholly observed *before* its origin would have chosen (the
//! same rule, singles and means of the top two or three alike): that nested record is an
//! honest sample of how the whole procedure, choice included, does on a future it has
//! not seen. Windows older than the selection windows were never looked at by the choice,
//! so the chosen model's own forecasts of them are honest too.

use super::backtest::{self, Fold, Plan, Score};
use super::metrics;
use super::models::Spec;

/// Models are chosen on the most recent windows only (the past that most resembles the
/// future): six, about three horizons when origins are a season apart.
pub const SELECTION_WINDOWS: usize = 6;

/// Largest combination: the mean of the best two or three single models.
const MAX_COMBINED: usize = 3;

/// A model (or a mean of models) with its backtest over the selection windows.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The member models (one for a single model).
    pub members: Vec<Spec>,
    /// One result per selection window, oldest first.
    pub folds: Vec<Fold>,
    /// Its backtest figures.
    pub score: Score,
}

impl Candidate {
    /// MASE over the windows in `range` (indices into `folds`): lower is better;
    /// infinite when unscored.
    pub fn error_over(&self, range: std::ops::Range<usize>) -> f64 {
        Candidate::error_of(self.folds.get(range).unwrap_or(&[]))
    }

    /// Mean MASE of `folds`; infinite when none is scored.
    pub fn error_of(folds: &[Fold]) -> f64 {
        let e = metrics::mean(folds.iter().map(|f| metrics::mase(&f.actual, &f.forecast.point, f.scale)).filter(|v| v.is_finite()));
        if e.is_finite() { e } else { f64::INFINITY }
    }

    /// MASE over all its (selection) windows.
    pub fn selection_error(&self) -> f64 {
        Candidate::error_of(&self.folds)
    }
}

/// `MSTL(24) + AutoETS`, or `mean of A, B` for a combination.
pub fn describe(members: &[Spec]) -> String {
    match members {
        [one] => one.describe(),
        many => format!("mean of {}", many.iter().map(Spec::describe).collect::<Vec<_>>().join(", ")),
    }
}

/// Adds the means of the best two and three single models and sorts everything best
/// first.
pub fn add_combinations(candidates: &mut Vec<Candidate>, levels: &[f64]) {
    let by_error = |a: &Candidate, b: &Candidate| a.selection_error().total_cmp(&b.selection_error());
    candidates.sort_by(by_error);
    let singles: Vec<Candidate> = candidates.iter().filter(|c| c.members.len() == 1).cloned().collect();
    for k in 2..=MAX_COMBINED.min(singles.len()) {
        let top = &singles[..k];
        let members: Vec<Spec> = top.iter().flat_map(|c| c.members.clone()).collect();
        let folds = backtest::combine(&top.iter().map(|c| c.folds.as_slice()).collect::<Vec<_>>());
        let score = backtest::score(describe(&members), &folds, levels);
        candidates.push(Candidate { members, folds, score });
    }
    candidates.sort_by(by_error);
}

/// The nested record over the selection windows (`plan` describes them alone): for each
/// window whose past holds at least one wholly observed window, that window as forecast
/// by the candidate the past windows chose (among the single models and the means of the
/// best two and three of them). `None` where a window has no such past.
/// `only_combinations` restricts the choice as `--model combination` does.
pub fn nested_record(singles: &[Candidate], plan: &Plan, only_combinations: bool) -> Vec<Option<Fold>> {
    (0..plan.folds)
        .map(|k| {
            let past = plan.before(k);
            if past.is_empty() {
                return None;
            }
            let mut ranked: Vec<&Candidate> = singles.iter().filter(|c| c.folds.len() == plan.folds).collect();
            ranked.sort_by(|a, b| a.error_over(past.clone()).total_cmp(&b.error_over(past.clone())));
            // Each option: its error on the past, and its window k.
            let mut options: Vec<(f64, Option<Fold>)> = Vec::new();
            if !only_combinations || ranked.len() < 2 {
                options.extend(ranked.iter().map(|c| (c.error_over(past.clone()), c.folds.get(k).cloned())));
            }
            for size in 2..=MAX_COMBINED.min(ranked.len()) {
                let top = &ranked[..size];
                let combined = |i: usize| -> Option<Fold> {
                    let parts: Vec<&[Fold]> = top.iter().map(|c| c.folds.get(i..=i).unwrap_or(&[])).collect();
                    backtest::combine(&parts).into_iter().next()
                };
                let past_folds: Vec<Fold> = past.clone().filter_map(combined).collect();
                options.push((Candidate::error_of(&past_folds), combined(k)));
            }
            options.into_iter().min_by(|a, b| a.0.total_cmp(&b.0)).and_then(|(_, f)| f)
        })
        .collect()
}
