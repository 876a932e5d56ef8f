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
    /// The worker ended without an answer (it panicked, or never started).
    dead: std::cell::Cell<bool>,
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
        Job { name, progress, started: Instant::now(), rx, dead: std::cell::Cell::new(false) }
    }

    /// The result, once the work is done.
    pub fn poll(&self) -> Option<T> {
        match self.rx.try_recv() {
            Ok(v) => Some(v),
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => {
                self.dead.set(true);
                None
            }
        }
    }

    /// True once [`poll`](Self::poll) has found that the worker ended without an answer.
    pub fn is_dead(&self) -> bool {
        self.dead.get()
    }

    /// Asks the worker to stop.
    pub fn cancel(&self) {
        self.progress.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_that_dies_is_seen_as_dead_not_running() {
        let ctx = egui::Context::default();
        let job: Job<u32> = Job::spawn("failing", &ctx, |_| panic!("a bug in the work"));
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while !job.is_dead() && Instant::now() < deadline {
            assert_eq!(job.poll(), None);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(job.is_dead());
        let ok = Job::spawn("working", &ctx, |_| 7u32);
        let mut got = None;
        while got.is_none() && Instant::now() < deadline {
            got = ok.poll();
        }
        assert_eq!(got, Some(7));
        assert!(!ok.is_dead());
    }
}
