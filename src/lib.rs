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
