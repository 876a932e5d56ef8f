//! Background work: each job is a named thread with a typed promise (a channel of one
//! value), a [`Progress`] handle for progress and cancel, and a repaint when it ends.

use crate::progress::Progress;
use eframe::egui;
use std::sync::mpsc;
use std::time::Instant;

/// One running piece of work that will produce a `T`.
pub struct Job<T> {
    /// Shown in the status line ("Fitting forecasts").
    pub name: &'static str,
    /// Progress and cancellation, shared with the worker.
    pub progress: Progress,
    /// When the job started.
    pub started: Instant,
    rx: mpsc::Receiver<T>,
}

impl<T: Send + 'static> Job<T> {
    /// Starts `work` on a named thread. When it finishes the UI is woken.
    pub fn spawn(name: &'static str, ctx: &egui::Context, work: impl FnOnce(&Progress) -> T + Send + 'static) -> Self {
        let (tx, rx) = mpsc::channel();
        let progress = Progress::new();
        let worker_progress = progress.clone();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new().name(format!("headroom: {name}")).spawn(move || {
            let result = work(&worker_progress);
            let _ = tx.send(result); // the app may have dropped the job: nothing to do then
            ctx.request_repaint();
        });
        if let Err(e) = spawned {
            // Without a thread the channel closes at once; poll() then reports nothing
            // and the job stays "running": make that visible instead.
            eprintln!("headroom: could not start {name}: {e}");
        }
        Job { name, progress, started: Instant::now(), rx }
    }

    /// The result, once the work is done.
    pub fn poll(&self) -> Option<T> {
        self.rx.try_recv().ok()
    }

    /// Asks the worker to stop.
    pub fn cancel(&self) {
        self.progress.cancel();
    }
}
