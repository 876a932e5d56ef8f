//! The fuzz targets of `headroom bench fuzz`, run for a bounded count: every loader
//! answers damaged input with an error, never a panic. (`headroom bench fuzz --minutes
//! 10` runs them for longer.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use headroom::bench::fuzz::{TARGETS, fuzz};
use std::time::Duration;

#[test]
fn every_loader_survives_damaged_input() {
    for (target, execs) in [("csv", 300), ("json", 5_000), ("plan", 150), ("scenario", 400), ("time", 50_000)] {
        assert!(TARGETS.contains(&target));
        let r = fuzz(target, Duration::from_secs(120), execs, 42).unwrap();
        assert_eq!(r.executions, execs, "{target}: ran out of time");
        let places: Vec<&str> = r.findings.iter().map(|(p, _)| p.as_str()).collect();
        assert!(places.is_empty(), "{target}: panics at {places:?}");
        if target != "time" {
            assert!(r.errors > 0 && r.errors < execs, "{target}: the mutations must both break and keep inputs ({} errors)", r.errors);
        }
    }
}
