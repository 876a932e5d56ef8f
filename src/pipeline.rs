//! The data's one road, as functions both faces call: load files → series → forecasts.
//! The CLI and the GUI build the same settings and call the same functions here.

use crate::error::{Error, Result};
use crate::forecast::{self, Forecast, ForecastSettings};
use crate::import::Import;
use crate::import::csv::{CsvOptions, read_csv};
use crate::progress::Progress;
use crate::series::Series;
use crate::time::parse_duration;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A forecast horizon as the user gives it: a number of steps or a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Horizon {
    /// A number of steps of the series' own step.
    Steps(usize),
    /// A duration in milliseconds, rounded up to whole steps.
    Duration(i64),
}

impl Horizon {
    /// Parses `48` (steps) or `2d`, `36h`, `2w` (durations).
    ///
    /// # Errors
    /// Neither a whole number nor a duration, or zero.
    pub fn parse(text: &str) -> Result<Horizon> {
        let t = text.trim();
        let h = if let Ok(n) = t.parse::<usize>() {
            Horizon::Steps(n)
        } else {
            Horizon::Duration(parse_duration(t).map_err(|m| Error::setting("horizon", m))?)
        };
        match h {
            Horizon::Steps(0) | Horizon::Duration(0) => Err(Error::setting("horizon", "must be more than zero")),
            Horizon::Duration(d) if d < 0 => Err(Error::setting("horizon", "must be more than zero")),
            h => Ok(h),
        }
    }

    /// The horizon in steps of `step_ms` (at least one).
    pub fn steps(self, step_ms: i64) -> usize {
        match self {
            Horizon::Steps(n) => n.max(1),
            Horizon::Duration(d) => usize::try_from((d + step_ms - 1) / step_ms.max(1)).unwrap_or(1).max(1),
        }
    }
}

/// Reads every input: a CSV file, or every `*.csv` directly in a directory.
///
/// # Errors
/// The first file that fails, with its location; nothing partial is returned.
pub fn load(inputs: &[PathBuf], options: &CsvOptions) -> Result<Import> {
    let mut all = Import::default();
    for (_, part) in load_files(inputs, options)? {
        all.series.extend(part.series);
        all.warnings.extend(part.warnings);
    }
    Ok(all)
}

/// Like [`load`], but keeps each file's import apart, in file order.
///
/// # Errors
/// The first file that fails, with its location; nothing partial is returned.
pub fn load_files(inputs: &[PathBuf], options: &CsvOptions) -> Result<Vec<(PathBuf, Import)>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let found = crate::files::csv_files_in(input)?;
            if found.is_empty() {
                return Err(Error::parse(crate::error::Location::file(input), "no *.csv files in this directory"));
            }
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    // Plain threads, not rayon's: polars waits for its own pool by running other rayon
    // work meanwhile, so from rayon workers each waiting read would start the next file
    // on the same stack (a thousand files overflowed it).
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<Import>>>> = files.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let workers = rayon::current_num_threads().clamp(1, files.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(f) = files.get(i) else { break };
                    let is_json = f.extension().is_some_and(|x| x.eq_ignore_ascii_case("json"));
                    let import = if is_json { crate::import::prometheus::read_json(f) } else { read_csv(f, options) };
                    if let Ok(mut slot) = results[i].lock() {
                        *slot = Some(import);
                    }
                }
            });
        }
    });
    files
        .into_iter()
        .zip(results)
        .map(|(f, slot)| {
            let import = slot
                .into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| Err(Error::parse(crate::error::Location::file(&f), "the file was not read")));
            import.map(|i| (f, i))
        })
        .collect()
}

/// The scale of a series' step, for the choices offered with it (horizons, history
/// shown): under a day, days and weeks, or months and longer (28 days and up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepScale {
    UnderADay,
    Days,
    Months,
}

impl StepScale {
    /// The scale of `step_ms`; no step (nothing loaded) is under a day.
    pub fn of(step_ms: Option<i64>) -> StepScale {
        match step_ms {
            // The shortest calendar month.
            Some(step) if step >= crate::time::CALENDAR_MONTHS[0].shortest_days * crate::time::DAY_MS => StepScale::Months,
            Some(step) if step >= crate::time::DAY_MS => StepScale::Days,
            _ => StepScale::UnderADay,
        }
    }
}

/// The horizons to offer for series whose shortest step is `step_ms`: two days
/// to a month for steps under a day; a month to a year for daily and weekly steps; half
/// a year to three years for calendar months and longer (a 14-day horizon on monthly
/// values was one step).
pub fn horizon_presets(step_ms: Option<i64>) -> &'static [&'static str] {
    match StepScale::of(step_ms) {
        StepScale::Months => &["6mo", "1y", "2y", "3y"],
        StepScale::Days => &["30d", "90d", "180d", "1y"],
        StepScale::UnderADay => &["2d", "7d", "14d", "30d"],
    }
}

/// The horizon to use instead of `horizon` (as typed) for series whose shortest step is
/// `step_ms` (not the longest: a year of 5-minute values loaded beside monthly ones
/// would be 105,120 steps), when `horizon` is one of the presets for shorter steps and holds
/// fewer than two of these: the second preset for the step (90 days of daily values, a
/// year of monthly ones). `None` to keep it: the user typed it, or it fits.
pub fn horizon_for_step(horizon: &str, step_ms: Option<i64>) -> Option<&'static str> {
    let step = step_ms?;
    let presets = horizon_presets(Some(step));
    let fine = horizon_presets(None);
    let ms = crate::time::parse_duration(horizon).ok()?;
    (fine.contains(&horizon) && !presets.contains(&horizon) && ms < 2 * step).then(|| presets[1])
}

/// Forecasts each series in parallel over `horizon`, reporting one unit of progress per
/// series. Failures stay per series so one bad series does not sink the others.
pub fn forecast_all(series: &[Series], horizon: Horizon, settings: &ForecastSettings, progress: &Progress) -> Vec<Result<Forecast>> {
    progress.add_total(series.len() as u64);
    series
        .par_iter()
        .map(|s| {
            progress.check()?;
            let settings = ForecastSettings { horizon: horizon.steps(s.step_ms), ..settings.clone() };
            let mut f = forecast_series(s, &settings);
            // A horizon given as a time that the series' grid holds once: a 14-day horizon
            // on monthly values forecast one month, and said nothing.
            if let (Ok(f), Horizon::Duration(d)) = (&mut f, horizon)
                && settings.horizon == 1
            {
                let (given, step) = (crate::time::format_duration(d), crate::time::format_duration(s.step_ms));
                let longer = horizon_presets(Some(s.step_ms))[1];
                f.warnings.push(crate::warning::Warning::new(
                    s.display_name(),
                    format!(
                        "the {given} horizon is one step of this series' {step} grid: a longer horizon (e.g. {longer}) forecasts more than one value"
                    ),
                ));
            }
            progress.advance(1);
            f
        })
        .collect()
}

/// [`forecast::forecast`], with a panic inside a model library (fed values its authors
/// never tried) turned into an error naming the series, so one series cannot take the
/// others, or the window, down with it.
pub fn forecast_series(series: &Series, settings: &ForecastSettings) -> Result<Forecast> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| forecast::forecast(series, settings))).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Err(Error::series(
            &series.display_name(),
            format!("could not be forecast: a model failed inside ({what}); please report it with this series"),
        ))
    })
}

/// The output path for `input` under `out_dir`, keeping the file name.
pub fn output_path(out_dir: &Path, input: &Path) -> PathBuf {
    out_dir.join(input.file_name().unwrap_or_else(|| std::ffi::OsStr::new("forecast.csv")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::Unit;
    use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS, MONTH_MS, WEEK_MS};

    /// A horizon of days on monthly values is one month: said so, where a horizon of
    /// months is not.
    #[test]
    fn horizon_presets_follow_the_step() {
        assert_eq!(horizon_presets(None), ["2d", "7d", "14d", "30d"]);
        assert_eq!(horizon_presets(Some(5 * MINUTE_MS)), ["2d", "7d", "14d", "30d"]);
        assert_eq!(horizon_presets(Some(HOUR_MS)), ["2d", "7d", "14d", "30d"]);
        assert_eq!(horizon_presets(Some(DAY_MS)), ["30d", "90d", "180d", "1y"]);
        assert_eq!(horizon_presets(Some(MONTH_MS)), ["6mo", "1y", "2y", "3y"]);
        assert_eq!(horizon_presets(Some(3 * MONTH_MS)), ["6mo", "1y", "2y", "3y"]);
        // The default 14 days on monthly values is under one step: a year instead; on
        // daily values it is 14 steps and stays; on weekly ones two, and stays.
        assert_eq!(horizon_for_step("14d", Some(MONTH_MS)), Some("1y"));
        assert_eq!(horizon_for_step("30d", Some(MONTH_MS)), Some("1y"), "30 days is under two months");
        assert_eq!(horizon_for_step("14d", Some(DAY_MS)), None);
        assert_eq!(horizon_for_step("14d", Some(WEEK_MS)), None);
        assert_eq!(horizon_for_step("2d", Some(DAY_MS)), None, "two steps");
        assert_eq!(horizon_for_step("7d", Some(WEEK_MS)), Some("90d"), "one step");
        // What the user typed is kept, and so is a preset of the step.
        assert_eq!(horizon_for_step("10d", Some(MONTH_MS)), None);
        assert_eq!(horizon_for_step("1y", Some(MONTH_MS)), None);
        assert_eq!(horizon_for_step("14d", None), None);
    }

    #[test]
    fn a_horizon_the_grid_holds_once_is_named() {
        let values: Vec<f64> = (0..36).map(|k| 100.0 + f64::from(k)).collect();
        let s = Series { name: "disk".into(), labels: Default::default(), unit: Unit::None, start_ms: 0, step_ms: MONTH_MS, values };
        let run = |h: Horizon| {
            let f = forecast_all(std::slice::from_ref(&s), h, &ForecastSettings::default(), &Progress::new()).remove(0).unwrap();
            (
                f.point.len(),
                f.warnings.iter().any(|w| w.message.contains("horizon is one step of this series' 1mo grid: a longer horizon (e.g. 1y)")),
            )
        };
        assert_eq!(run(Horizon::Duration(14 * DAY_MS)), (1, true));
        assert_eq!(run(Horizon::Duration(365 * DAY_MS)), (12, false));
        assert_eq!(run(Horizon::Steps(1)), (1, false), "one step asked for as a step");
    }
}
