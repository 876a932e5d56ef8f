//! `headroom screenshots DIR`: opens the real window (eframe, OpenGL) on the bundled
//! sample data with default settings and saves what a reviewer sees, as PNG at the
//! default 1280×800: the overview, a series with its thresholds, the scenario view,
//! the Prometheus dialog with completion, and the overview in the light theme.
//! `docs/screenshots/` is made this way (see the README); under a headless X server
//! it runs as `xvfb-run -a -s "-screen 0 1280x800x24" headroom screenshots DIR`.

use super::HeadroomApp;
use super::state::AppState;
use eframe::egui;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One picture: its file name and how the window is set up for it.
struct Shot {
    name: &'static str,
    setup: fn(&mut HeadroomApp, &egui::Context),
}

fn select(app: &mut HeadroomApp, name: &str) {
    if let Some(i) = app.model.entries.iter().position(|e| e.series.display_name() == name) {
        app.apply(super::action::Action::Select(i));
    }
}

const SHOTS: [Shot; 5] = [
    Shot { name: "overview", setup: |_, _| {} },
    Shot { name: "series-with-thresholds", setup: |app, _| select(app, "web_cpu_percent") },
    Shot {
        name: "scenarios",
        setup: |app, _| {
            select(app, "api_requests_per_second");
            app.state.show_backtest = false;
        },
    },
    Shot {
        name: "prometheus-dialog",
        setup: |app, _| {
            app.apply(super::action::Action::ShowOverview);
            app.prometheus.open = true;
            app.state.prometheus.connection.url = "http://prometheus:9090".into();
            app.state.prometheus.queries = vec!["rate(node_cpu".into()];
            app.prometheus.names = ["node_cpu_seconds_total", "node_cpu_guest_seconds_total", "node_cpu_scaling_frequency_hertz"]
                .into_iter()
                .map(String::from)
                .collect();
            app.prometheus.names_status = "3 metrics".into();
            app.prometheus.complete(0);
        },
    },
    Shot {
        name: "overview-light",
        setup: |app, ctx| {
            app.prometheus.open = false;
            app.state.theme = "light".into();
            super::theme::set_preference(ctx, "light");
        },
    },
];

/// Drives the window through [`SHOTS`].
struct Shooter {
    app: HeadroomApp,
    dir: PathBuf,
    next: usize,
    /// Frames drawn since the current shot was set up.
    frames: u32,
    /// The image of the shot asked for, once the window has it.
    pending: Option<Arc<Mutex<Option<Arc<egui::ColorImage>>>>>,
    started: Instant,
    result: Arc<Mutex<Result<Vec<PathBuf>, String>>>,
}

impl eframe::App for Shooter {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.app.tick(ctx);
        ctx.request_repaint();
        if self.started.elapsed() > Duration::from_secs(600) {
            *self.result.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Err("the sample took over ten minutes".into());
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        // Every shot taken: the window is closing.
        if self.next >= SHOTS.len() {
            return;
        }
        // Wait for the sample to be loaded, forecast and planned.
        if self.app.is_busy() || self.app.model.entries.is_empty() {
            return;
        }
        if let Some(slot) = &self.pending {
            let image = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
            if let Some(image) = image {
                let path = self.dir.join(format!("{}.png", SHOTS[self.next].name));
                let saved = write_png(&path, &image).map(|()| path);
                let mut result = self.result.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                match (saved, &mut *result) {
                    (Ok(p), Ok(paths)) => paths.push(p),
                    (Err(e), r) => *r = Err(e),
                    _ => {}
                }
                self.pending = None;
                self.next += 1;
                self.frames = 0;
                if self.next == SHOTS.len() || result.is_err() {
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            }
            return;
        }
        if self.frames == 0 {
            (SHOTS[self.next].setup)(&mut self.app, ctx);
        }
        self.frames += 1;
        // A few frames for layout, the chart's view and the runway to settle.
        if self.frames == 12 {
            let slot = Arc::new(Mutex::new(None));
            let sink = slot.clone();
            ctx.request_screenshot(move |image| *sink.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(image));
            self.pending = Some(slot);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.app.draw(ui);
    }
}

fn write_png(path: &Path, image: &egui::ColorImage) -> Result<(), String> {
    let [w, h] = image.size;
    let rgba: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_srgba_unmultiplied()).collect();
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, w as u32, h as u32);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| format!("{}: {e}", path.display()))?;
        writer.write_image_data(&rgba).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    crate::files::atomic_write(path, &bytes).map_err(|e| e.to_string())
}

/// Opens the window, takes every shot into `dir` and closes it.
///
/// # Errors
/// No display, the directory cannot be made, or a shot cannot be written.
pub fn run(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let result = Arc::new(Mutex::new(Ok(Vec::new())));
    let out = result.clone();
    let dir = dir.to_path_buf();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_title("Headroom").with_inner_size([1280.0, 800.0]).with_resizable(false),
        persist_window: false,
        ..Default::default()
    };
    eframe::run_native(
        "Headroom screenshots",
        options,
        Box::new(move |cc| {
            let app = HeadroomApp::with_state(&cc.egui_ctx, AppState::default(), Vec::new());
            Ok(Box::new(Shooter { app, dir, next: 0, frames: 0, pending: None, started: Instant::now(), result: out }))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))?;
    let r = result.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    match r {
        Ok(paths) if paths.len() == SHOTS.len() => Ok(paths),
        Ok(paths) => anyhow::bail!("the window closed after {} of {} screenshots", paths.len(), SHOTS.len()),
        Err(e) => anyhow::bail!("{e}"),
    }
}
