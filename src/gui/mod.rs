//! The desktop window (egui + eframe + egui_plot). egui types never leave this module.
//!
//! - [`app`]: the eframe `App`: `logic()` polls jobs, `ui()` draws panels;
//! - [`state`]: what is persisted between runs (intent only);
//! - [`model`]: the loaded data and results, with no egui types;
//! - [`action`]: everything the user can do, applied in one place;
//! - [`jobs`]: background work as typed promises;
//! - [`undo`]: undo and redo of the user's edits;
//! - [`panels`], [`plot`], [`theme`]: drawing;
//! - [`screenshots`]: the window's pictures for the README, taken by the window itself.

pub mod action;
pub mod app;
pub mod jobs;
pub mod model;
pub mod panels;
pub mod plot;
pub mod screenshots;
pub mod state;
pub mod theme;
pub mod undo;

pub use app::HeadroomApp;

use std::path::PathBuf;
use std::process::ExitCode;

/// Opens the window on `inputs` (CSV files or directories), or on the sample data when
/// none are given. Returns when the window closes.
///
/// # Errors
/// The window could not be created (no display, no OpenGL).
pub fn run(inputs: Vec<PathBuf>) -> anyhow::Result<ExitCode> {
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("Headroom")
            .with_app_id("headroom")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([720.0, 480.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native("Headroom", options, Box::new(move |cc| Ok(Box::new(HeadroomApp::new(cc, inputs)))))
        .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// Where the bundled sample data lives: `./sample-data`, else the source tree's.
pub fn sample_data_dir() -> Option<PathBuf> {
    [PathBuf::from("sample-data"), PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-data")].into_iter().find(|p| p.is_dir())
}
