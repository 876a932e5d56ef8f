//! `headroom bench frames`: what drawing the window costs, measured on the window's own
//! code without a GPU. A frame here is egui's whole pass over the app
//! ([`HeadroomApp::tick`] and [`HeadroomApp::draw`]) and the tessellation of what it
//! drew into triangles; only the upload to the GPU and the painting are left out.
//!
//! Three figures, from the defaults a user gets (the window's default 1280×800, its
//! default settings):
//! - CPU time per frame with a 1,000,000-point series on screen, while the pointer
//!   moves over the chart (hover readout) and the view zooms and pans (goal < 8 ms);
//! - time from creating the window's app to its first frame, on the bundled sample
//!   data (goal < 1 s); with a display, also from starting the binary to its first
//!   painted frame (`headroom gui`, a child process);
//! - the longest frame while the sample's forecasts run in the background (goal:
//!   none over 50 ms).
//!
//! CPU time is the UI thread's own, from /proc/thread-self/schedstat (nanoseconds);
//! wall time is printed beside it.

use crate::gui::HeadroomApp;
use crate::gui::state::AppState;
use crate::series::{Series, Unit};
use crate::time::MINUTE_MS;
use eframe::egui;
use std::time::{Duration, Instant};

/// The window size the frames are drawn at.
const SIZE: egui::Vec2 = egui::vec2(1280.0, 800.0);

/// What the bench runs with.
#[derive(Debug, Clone)]
pub struct FrameSettings {
    /// Points of the long series.
    pub points: usize,
    /// Frames timed with it on screen.
    pub frames: usize,
}

/// The UI thread's CPU time so far, in nanoseconds, when the kernel tells it.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()?.split_whitespace().next()?.parse().ok()
}

/// One frame's cost.
#[derive(Debug, Clone, Copy)]
struct Cost {
    wall_ms: f64,
    cpu_ms: Option<f64>,
}

impl Cost {
    /// CPU time where the kernel gives it, else wall time.
    fn ms(&self) -> f64 {
        self.cpu_ms.unwrap_or(self.wall_ms)
    }
}

/// Drives frames of the app on a context without a window.
struct Driver {
    ctx: egui::Context,
    time: f64,
}

impl Driver {
    fn new() -> Self {
        Driver { ctx: egui::Context::default(), time: 0.0 }
    }

    fn frame(&mut self, app: &mut HeadroomApp, events: Vec<egui::Event>) -> Cost {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, SIZE)),
            time: Some(self.time),
            events,
            ..Default::default()
        };
        self.time += 1.0 / 60.0;
        let cpu0 = thread_cpu_ns();
        let wall0 = Instant::now();
        let mut out = self.ctx.run_ui(input, |ui| {
            app.tick(ui.ctx());
            app.draw(ui);
        });
        // No GPU to upload the font atlas to: the texture changes are dropped.
        out.textures_delta.clear();
        let triangles = self.ctx.tessellate(out.shapes, out.pixels_per_point);
        std::hint::black_box(triangles.len());
        let wall_ms = wall0.elapsed().as_secs_f64() * 1e3;
        let cpu_ms = cpu0.zip(thread_cpu_ns()).map(|(a, b)| b.saturating_sub(a) as f64 / 1e6);
        Cost { wall_ms, cpu_ms }
    }
}

/// Mean, median, 95th percentile and largest of `xs`.
fn summary(xs: &[f64]) -> (f64, f64, f64, f64) {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v.get(((v.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN);
    (v.iter().sum::<f64>() / v.len().max(1) as f64, q(0.5), q(0.95), q(1.0))
}

/// A long series with a daily cycle, noise and a few spikes (deterministic).
fn long_series(points: usize) -> Series {
    use rand::{RngExt as _, SeedableRng as _};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let values = (0..points)
        .map(|i| {
            let noise = rng.random::<f64>() - 0.5;
            let day = (i as f64 / 1440.0 * std::f64::consts::TAU).sin();
            let spike = if i % 100_003 == 0 { 30.0 } else { 0.0 };
            45.0 + 15.0 * day + 4.0 * noise + spike + 10.0 * i as f64 / points as f64
        })
        .collect();
    Series {
        name: "long_cpu_percent".into(),
        labels: Default::default(),
        unit: Unit::Percent,
        start_ms: crate::time::days_from_civil(2025, 1, 1) * crate::time::DAY_MS,
        step_ms: MINUTE_MS,
        values,
    }
}

/// Runs the three measurements and prints them.
///
/// # Errors
/// The sample data or the long series cannot be forecast.
pub fn run(settings: &FrameSettings) -> anyhow::Result<()> {
    if settings.points < 8 * 1440 {
        anyhow::bail!("--points: at least {} (eight days at 1 m) for a forecast with a daily season", 8 * 1440);
    }
    if settings.frames == 0 {
        anyhow::bail!("--frames: at least one frame to time");
    }
    crate::outln!(
        "bench frames: {}×{} window, default settings; long series {} points at 1 m; {} timed frames",
        SIZE.x,
        SIZE.y,
        settings.points,
        settings.frames
    );
    if thread_cpu_ns().is_none() {
        crate::outln!("  (no /proc/thread-self/schedstat: wall time stands in for CPU time)");
    }
    let sample = crate::gui::sample_data_dir().into_iter().collect::<Vec<_>>();

    // 1. To the first frame, and every frame while the forecasts run.
    let started = Instant::now();
    let mut driver = Driver::new();
    let mut app = HeadroomApp::with_state(&driver.ctx, AppState::default(), sample.clone());
    let first = driver.frame(&mut app, Vec::new());
    let to_first = started.elapsed().as_secs_f64() * 1e3;
    crate::outln!("first frame: {to_first:.0} ms from creating the app (goal < 1000 ms); the frame itself {:.1} ms CPU", first.ms());
    let mut during = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    let pointer = |i: usize| egui::Event::PointerMoved(egui::pos2(300.0 + (i % 600) as f32, 200.0 + (i % 40) as f32 * 5.0));
    let mut i = 0;
    while app.is_busy() && Instant::now() < deadline {
        during.push(driver.frame(&mut app, vec![pointer(i)]));
        i += 1;
        std::thread::sleep(Duration::from_millis(16));
    }
    let wall: Vec<f64> = during.iter().map(|c| c.wall_ms).collect();
    let cpu: Vec<f64> = during.iter().map(Cost::ms).collect();
    let (_, _, p95w, maxw) = summary(&wall);
    let (meanc, _, _, maxc) = summary(&cpu);
    crate::outln!(
        "while loading and forecasting the sample ({} frames at 60 Hz, {:.1} s): longest frame {maxw:.1} ms wall (goal ≤ 50 ms), \
         p95 {p95w:.1} ms; CPU mean {meanc:.2} ms, max {maxc:.1} ms",
        during.len(),
        during.len() as f64 / 60.0
    );
    if let Some(e) = &app.model.error {
        crate::outln!("  note: the window reported: {e}");
    }

    // 2. A long series on screen.
    let series = long_series(settings.points);
    let fit_started = Instant::now();
    let forecast = crate::pipeline::forecast_all(
        std::slice::from_ref(&series),
        crate::pipeline::Horizon::Duration(2 * crate::time::DAY_MS),
        &crate::forecast::ForecastSettings::default(),
        &crate::progress::Progress::new(),
    )
    .into_iter()
    .next()
    .ok_or_else(|| anyhow::anyhow!("no forecast"))?
    .map_err(|e| anyhow::anyhow!("the long series: {e}"))?;
    crate::outln!("  (the long series was forecast in {:.1} s, 2 days ahead, before timing)", fit_started.elapsed().as_secs_f64());
    let mut driver = Driver::new();
    let mut app = HeadroomApp::blank(&driver.ctx, AppState::default());
    app.model.add_series(vec![(series, crate::gui::model::Source::Other("bench".into()))], Vec::new());
    app.model.set_forecasts(vec![("long_cpu_percent".into(), Ok(forecast))]);
    app.apply(crate::gui::action::Action::Select(0));
    app.state.show_scenarios = false;
    // Until its runway is worked out (in the background), then ten frames to settle.
    let deadline = Instant::now() + Duration::from_secs(120);
    while app.is_busy() && Instant::now() < deadline {
        driver.frame(&mut app, Vec::new());
        std::thread::sleep(Duration::from_millis(16));
    }
    for _ in 0..10 {
        driver.frame(&mut app, Vec::new());
    }
    let mut costs = Vec::new();
    for i in 0..settings.frames {
        let mut events = vec![pointer(i)];
        // Every 25 frames the view zooms out (then in), so what is in view changes and
        // the decimation runs over more of the series.
        match i % 50 {
            0 => events.push(egui::Event::Zoom(0.5)),
            25 => events.push(egui::Event::Zoom(2.0)),
            _ => {}
        }
        costs.push(driver.frame(&mut app, events));
    }
    let cpu: Vec<f64> = costs.iter().map(Cost::ms).collect();
    let wall: Vec<f64> = costs.iter().map(|c| c.wall_ms).collect();
    let (mean, _, _, _) = summary(&cpu);
    let (meanw, p50w, p95w, maxw) = summary(&wall);
    crate::outln!(
        "{} points on screen: CPU per frame mean {mean:.2} ms (goal < 8 ms); wall (nothing else running) mean {meanw:.2} ms, \
         median {p50w:.2} ms, p95 {p95w:.2} ms, max {maxw:.2} ms",
        settings.points
    );
    crate::outln!("  (the kernel may account thread CPU time in scheduler ticks: the mean over many frames holds, single frames do not)");

    // 3. With a display: the binary itself, from exec to its first painted frame.
    match std::env::var_os("DISPLAY") {
        Some(_) => match windowed_first_frame() {
            Ok(ms) => crate::outln!("windowed: {ms:.0} ms from starting `headroom gui` to its first painted frame (goal < 1000 ms)"),
            Err(e) => crate::outln!("windowed: not measured ({e})"),
        },
        None => crate::outln!("windowed: not measured (no DISPLAY; run under xvfb-run for it)"),
    }
    Ok(())
}

/// Starts this binary's window with `HEADROOM_FIRST_FRAME=1`, which prints one line and
/// closes after the first frame is painted; returns the time from spawn to that line.
fn windowed_first_frame() -> anyhow::Result<f64> {
    use std::io::BufRead;
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let mut child = std::process::Command::new(exe)
        .arg("gui")
        .env("HEADROOM_FIRST_FRAME", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let _ = child.kill();
    let _ = child.wait();
    if !line.starts_with("first frame") {
        anyhow::bail!("the window did not report a frame: {:?}", line.trim());
    }
    Ok(ms)
}
