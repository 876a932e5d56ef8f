//! # Headroom
//!
//! A capacity planner for SREs: metric history goes in, a seasonal forecast with
//! honest confidence bands comes out, and from it the runway to each threshold, the
//! replay of scaling policies, and an exportable plan.
//!
//! The GUI (`gui`, behind the default `gui` feature) and the command line ([`cli`]) are
//! two thin faces over this library, so every number the window shows can be
//! reproduced, tested and benchmarked from the command line.
//!
//! ## The data's one road
//!
//! ```text
//!  CSV file ─┐                        ┌─ thresholds ─► runway
//!  Prometheus┼► import ─► Series ─► forecast ─► Forecast ─┤
//!  JSON file ┘  (warnings)               (intervals)      └─ simulate ─► scenarios
//! ```
//!
//! - [`import`] turns files into [`series::Series`] (polars never leaves `import`);
//! - [`forecast`] fits augurs models over `&[f64]` and returns a [`forecast::Forecast`];
//! - [`export`] writes results to any `impl Write`;
//! - [`pipeline`] strings them together for both faces.
//!
//! Errors carry where they happened ([`error::Error`]); partial problems become
//! [`warning::Warning`]s that travel with the result.
//!
//! ## Example
//!
//! CSV in, forecast and runway out, as the command line and the window do it:
//!
//! ```
//! use headroom::capacity::{runway, thresholds_from_values};
//! use headroom::forecast::{forecast, ForecastSettings, ModelChoice, ModelKind};
//! use headroom::import::csv::{parse_csv, CsvOptions};
//!
//! // Disk use growing by 1 % an hour, hourly.
//! let mut csv = String::from("timestamp,value\n");
//! for h in 0..72 {
//!     csv.push_str(&format!("{},{}\n", 1_767_225_600 + h * 3600, 20.0 + h as f64));
//! }
//! let location = headroom::error::Location::default();
//! let import = parse_csv(csv.as_bytes(), &location, "disk_used_percent", &CsvOptions::default())?;
//! let disk = &import.series[0];
//!
//! let settings = ForecastSettings { horizon: 48, model: ModelChoice::Single(ModelKind::Linear), ..Default::default() };
//! let f = forecast(disk, &settings)?;
//! let crossings = runway(disk, &f, &thresholds_from_values(&[100.0]), 95.0);
//! // 20 + h reaches 100 at hour 80: the eighth forecast step after hour 71.
//! assert_eq!(crossings[0].median_ms, Some(f.timestamp(8)));
//! # Ok::<(), headroom::Error>(())
//! ```

/// `println!` that returns an error instead of panicking when standard output is gone
/// (a closed pipe, as in `headroom bench m4 | head`). For functions returning
/// `anyhow::Result`.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

pub mod bench;
pub mod capacity;
pub mod cli;
pub mod error;
pub mod export;
pub mod files;
pub mod forecast;
#[cfg(feature = "gui")]
pub mod gui;
pub mod import;
pub mod pipeline;
pub mod plan;
pub mod progress;
pub mod sample_data;
pub mod series;
pub mod simulate;
pub mod time;
pub mod warning;

pub use error::{Error, Result};
