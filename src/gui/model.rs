//! The window's data: loaded series and their forecasts, with no egui types, so that
//! everything an action does can be tested without a window.

use crate::forecast::Forecast;
use crate::series::Series;
use crate::warning::Warning;
use std::path::PathBuf;

/// One loaded series and what has been computed for it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The series.
    pub series: Series,
    /// The file it came from.
    pub source: Option<PathBuf>,
    /// The latest forecast, or the error that prevented one.
    pub forecast: Option<Result<Forecast, String>>,
    /// The last runway computed (sample paths are too dear to draw every frame), with
    /// the thresholds text and forecast it was computed for.
    pub runway_cache: std::cell::RefCell<Option<(String, RunwayKey, Vec<crate::capacity::Crossing>)>>,
}

/// What a cached runway depends on besides the thresholds text.
pub type RunwayKey = (i64, usize, u64);

fn runway_key(f: &Forecast) -> RunwayKey {
    let sum =
        f.point.iter().chain(f.bands.iter().flat_map(|b| b.upper.iter().chain(&b.lower))).fold(0u64, |h, v| h.rotate_left(5) ^ v.to_bits());
    (f.start_ms, f.point.len(), sum)
}

impl Entry {
    /// The runway to the thresholds typed (`65,80,90`), or to the defaults by kind when
    /// the text is empty or not numbers.
    pub fn crossings(&self, thresholds_text: &str) -> Vec<crate::capacity::Crossing> {
        let Some(Ok(f)) = &self.forecast else { return Vec::new() };
        let key = runway_key(f);
        if let Some((text, k, cached)) = &*self.runway_cache.borrow()
            && text == thresholds_text
            && *k == key
        {
            return cached.clone();
        }
        let values = crate::capacity::parse_values(thresholds_text);
        let thresholds = if values.is_empty() {
            crate::capacity::default_thresholds(&self.series)
        } else {
            crate::capacity::thresholds_for(&self.series, &values)
        };
        let crossings = crate::capacity::runway(&self.series, f, &thresholds, 95.0);
        *self.runway_cache.borrow_mut() = Some((thresholds_text.to_string(), key, crossings.clone()));
        crossings
    }
}

/// Everything loaded in the window.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// The series list, in load order.
    pub entries: Vec<Entry>,
    /// Index of the series shown in the chart.
    pub selected: usize,
    /// Warnings from imports and fits, newest last.
    pub warnings: Vec<Warning>,
    /// The last error, shown in the status line until dismissed.
    pub error: Option<String>,
    /// A short note of what happened last ("Loaded 5 series from …").
    pub status: String,
}

impl Model {
    /// The selected entry, if any.
    pub fn selected(&self) -> Option<&Entry> {
        self.entries.get(self.selected)
    }

    /// Adds imported series. A series whose display name is already loaded is
    /// replaced in place; new ones are appended. Earlier series stay untouched.
    pub fn add_series(&mut self, series: Vec<(Series, Option<PathBuf>)>, warnings: Vec<Warning>) {
        for (s, source) in series {
            let name = s.display_name();
            let entry = Entry { series: s, source, forecast: None, runway_cache: Default::default() };
            match self.entries.iter_mut().find(|e| e.series.display_name() == name) {
                Some(existing) => *existing = entry,
                None => self.entries.push(entry),
            }
        }
        self.warnings.extend(warnings);
        if self.selected >= self.entries.len() {
            self.selected = 0;
        }
    }

    /// Stores forecast results by series display name (results for series that are no
    /// longer loaded are dropped).
    pub fn set_forecasts(&mut self, results: Vec<(String, Result<Forecast, String>)>) {
        for (name, result) in results {
            if let Some(e) = self.entries.iter_mut().find(|e| e.series.display_name() == name) {
                if let Ok(f) = &result {
                    self.warnings.extend(f.warnings.iter().cloned());
                }
                e.forecast = Some(result);
            }
        }
    }
}
