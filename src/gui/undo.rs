//! Undo and redo of what the user edits in the window: thresholds, forecast settings
//! (horizon, bands, seasonality, model), the scenarios and the plan's title and author.
//!
//! The history keeps whole snapshots of those settings (they are small). A change
//! becomes one step when it settles: at once for a click, and when the field loses
//! focus for typing, so that a word typed is one step, not one per letter. Nothing
//! here knows egui: the window says whether a text field is being edited.

use super::state::AppState;
use std::collections::BTreeMap;

/// The most steps kept; older ones are forgotten.
const DEPTH: usize = 200;

/// The settings that undo restores.
#[derive(Debug, Clone, PartialEq)]
pub struct Edits {
    horizon: String,
    show_80: bool,
    show_95: bool,
    periods: String,
    model: String,
    thresholds: BTreeMap<String, String>,
    scenarios: String,
    plan_title: String,
    plan_author: String,
}

impl Edits {
    /// The undoable part of `state`.
    pub fn of(state: &AppState) -> Self {
        Edits {
            horizon: state.horizon.clone(),
            show_80: state.show_80,
            show_95: state.show_95,
            periods: state.periods.clone(),
            model: state.model.clone(),
            thresholds: state.thresholds.clone(),
            scenarios: state.scenarios.clone(),
            plan_title: state.plan_title.clone(),
            plan_author: state.plan_author.clone(),
        }
    }

    fn restore(&self, state: &mut AppState) {
        state.horizon.clone_from(&self.horizon);
        state.show_80 = self.show_80;
        state.show_95 = self.show_95;
        state.periods.clone_from(&self.periods);
        state.model.clone_from(&self.model);
        state.thresholds.clone_from(&self.thresholds);
        state.scenarios.clone_from(&self.scenarios);
        state.plan_title.clone_from(&self.plan_title);
        state.plan_author.clone_from(&self.plan_author);
    }

    /// Whether going from `self` to `other` changes how the forecasts are fitted.
    fn refits(&self, other: &Edits) -> bool {
        // The bands shown are a display choice: the fit carries both.
        self.horizon != other.horizon || self.periods != other.periods || self.model != other.model
    }

    /// What differs between the two, for the menu ("threshold", "horizon", …).
    fn what(&self, other: &Edits) -> &'static str {
        if self.thresholds != other.thresholds {
            "thresholds"
        } else if self.horizon != other.horizon {
            "horizon"
        } else if self.show_80 != other.show_80 || self.show_95 != other.show_95 {
            "bands"
        } else if self.periods != other.periods {
            "seasonality"
        } else if self.model != other.model {
            "model"
        } else if self.scenarios != other.scenarios {
            "scenarios"
        } else {
            "plan details"
        }
    }
}

/// What an undo or redo changed, for the window to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
    /// The forecast settings changed: fit again.
    pub refit: bool,
    /// What was restored, for the status line.
    pub what: &'static str,
}

/// The undo and redo stacks.
#[derive(Debug, Clone)]
pub struct History {
    undo: Vec<Edits>,
    redo: Vec<Edits>,
    /// The settings as of the last settled change.
    settled: Edits,
}

impl History {
    /// A history with nothing to undo, starting from `state`.
    pub fn new(state: &AppState) -> Self {
        History { undo: Vec::new(), redo: Vec::new(), settled: Edits::of(state) }
    }

    /// Forgets every step (a plan was opened: its settings are the new start).
    pub fn reset(&mut self, state: &AppState) {
        *self = History::new(state);
    }

    /// Records a change made since the last call, unless a text field is still being
    /// edited (`editing`). Returns true when a step was recorded.
    pub fn observe(&mut self, state: &AppState, editing: bool) -> bool {
        if editing {
            return false;
        }
        let now = Edits::of(state);
        if now == self.settled {
            return false;
        }
        self.undo.push(std::mem::replace(&mut self.settled, now));
        if self.undo.len() > DEPTH {
            self.undo.remove(0);
        }
        self.redo.clear();
        true
    }

    /// Puts back the settings before the last change (first recording an unsettled
    /// one, so typing then undoing takes the typing back).
    pub fn undo(&mut self, state: &mut AppState) -> Option<Restored> {
        self.observe(state, false);
        travel(&mut self.undo, &mut self.redo, &mut self.settled, state)
    }

    /// Puts back what the last undo took away.
    pub fn redo(&mut self, state: &mut AppState) -> Option<Restored> {
        self.observe(state, false);
        travel(&mut self.redo, &mut self.undo, &mut self.settled, state)
    }

    /// The menu label of the next undo ("Undo thresholds"), if there is one.
    pub fn undo_label(&self) -> Option<String> {
        self.undo.last().map(|e| format!("Undo {}", e.what(&self.settled)))
    }

    /// The menu label of the next redo, if there is one.
    pub fn redo_label(&self) -> Option<String> {
        self.redo.last().map(|e| format!("Redo {}", e.what(&self.settled)))
    }
}

/// Puts back the top of `from` into `state` and keeps the settings it replaces on `to`
/// (undo: from the undo stack to the redo stack; redo: the other way).
fn travel(from: &mut Vec<Edits>, to: &mut Vec<Edits>, settled: &mut Edits, state: &mut AppState) -> Option<Restored> {
    let target = from.pop()?;
    let restored = Restored { refit: target.refits(settled), what: target.what(settled) };
    target.restore(state);
    to.push(std::mem::replace(settled, target));
    Some(restored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settled_change_undoes_and_redoes() {
        let mut state = AppState::default();
        let mut h = History::new(&state);
        state.thresholds.insert("web_cpu".into(), "70".into());
        assert!(!h.observe(&state, true), "still typing: not a step yet");
        state.thresholds.insert("web_cpu".into(), "70,85".into());
        assert!(h.observe(&state, false), "focus left: one step for the whole word");
        state.horizon = "7d".into();
        assert!(h.observe(&state, false));
        assert_eq!(h.undo_label().as_deref(), Some("Undo horizon"));

        let r = h.undo(&mut state).unwrap();
        assert_eq!((r.refit, r.what), (true, "horizon"));
        assert_eq!(state.horizon, "14d");
        assert_eq!(state.thresholds["web_cpu"], "70,85");
        let r = h.undo(&mut state).unwrap();
        assert_eq!((r.refit, r.what), (false, "thresholds"));
        assert!(state.thresholds.is_empty(), "back to the defaults by kind");
        assert!(h.undo(&mut state).is_none(), "nothing older");

        h.redo(&mut state).unwrap();
        assert_eq!(state.thresholds["web_cpu"], "70,85");
        assert_eq!(h.redo_label().as_deref(), Some("Redo horizon"));
        // A new change drops what could be redone.
        state.model = "ets".into();
        h.observe(&state, false);
        assert!(h.redo(&mut state).is_none());
        assert_eq!(state.model, "ets");
    }

    #[test]
    fn undo_while_typing_takes_the_typing_back() {
        let mut state = AppState::default();
        let mut h = History::new(&state);
        state.periods = "288".into();
        assert!(!h.observe(&state, true));
        h.undo(&mut state).unwrap();
        assert_eq!(state.periods, "auto");
        h.redo(&mut state).unwrap();
        assert_eq!(state.periods, "288");
    }
}
