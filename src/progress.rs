//! A small handle through which long work reports progress and learns it was cancelled.
//! The GUI holds one per job; the core only ever sees this type, never a GUI type.

use crate::error::{Error, Result};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Shared progress and cancellation of one piece of work. Cloning shares the state.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    cancelled: AtomicBool,
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    /// A fresh handle: nothing done, not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the work to stop at its next check.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::Relaxed);
    }

    /// True once [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Relaxed)
    }

    /// Returns `Err(Cancelled)` when cancelled, for `?` at checkpoints.
    ///
    /// # Errors
    /// The work was cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() { Err(Error::Cancelled) } else { Ok(()) }
    }

    /// Adds `n` units to the total amount of work.
    pub fn add_total(&self, n: u64) {
        self.inner.total.fetch_add(n, Ordering::Relaxed);
    }

    /// Marks `n` more units as done.
    pub fn advance(&self, n: u64) {
        self.inner.done.fetch_add(n, Ordering::Relaxed);
    }

    /// The fraction done, 0 to 1 (0 while the total is unknown).
    pub fn fraction(&self) -> f32 {
        let total = self.inner.total.load(Ordering::Relaxed);
        if total == 0 { 0.0 } else { (self.inner.done.load(Ordering::Relaxed) as f32 / total as f32).min(1.0) }
    }
}
