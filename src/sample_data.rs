//! The deterministic generator of `sample-data/`: eight weeks at 5-minute steps of the
//! series capacity reviews really see. `headroom sample-data --out sample-data/`.
//!
//! Every series comes from a ChaCha8 stream with a fixed seed, so the files are the same
//! bytes on every machine and every run.

use crate::error::{Error, Result};
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS, WEEK_MS, push_rfc3339};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::f64::consts::TAU;
use std::io::Write;
use std::path::Path;

/// Monday 2026-09-28T00:00:00Z: the first sample.
pub const START_MS: i64 = 1_790_553_600_000;
/// Step of the sample data.
pub const STEP_MS: i64 = 5 * MINUTE_MS;
/// Eight weeks of 5-minute steps.
pub const POINTS: usize = (8 * WEEK_MS / STEP_MS) as usize;
/// The seed all sample series derive from.
pub const SEED: u64 = 20_261_127;

/// One generated series: its file stem and values (`NaN` rows are left out of the file).
pub struct SampleSeries {
    /// File stem and series name, e.g. `web_cpu_percent`.
    pub name: &'static str,
    /// What it is, for the sample-data README.
    pub description: &'static str,
    /// One value per 5-minute step from [`START_MS`].
    pub values: Vec<f64>,
}

/// Generates all sample series.
pub fn generate() -> Vec<SampleSeries> {
    vec![web_cpu(), api_requests(), orders_memory(), db_disk(), jobs_queue()]
}

/// Writes every sample series as `<name>.csv` (`timestamp,value`) into `dir`.
///
/// # Errors
/// The directory or a file cannot be written.
pub fn write_all(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut written = Vec::new();
    for s in generate() {
        let path = dir.join(format!("{}.csv", s.name));
        let mut text = String::with_capacity(s.values.len() * 32);
        text.push_str("timestamp,value\n");
        for (i, v) in s.values.iter().enumerate() {
            if v.is_nan() {
                continue;
            }
            push_rfc3339(&mut text, START_MS + i as i64 * STEP_MS);
            text.push(',');
            crate::export::csv::push_number(&mut text, (v * 1000.0).round() / 1000.0);
            text.push('\n');
        }
        crate::files::atomic_write(&path, text.as_bytes())?;
        written.push(path);
    }
    let mut readme = String::from(
        "# Sample data\n\nMade by Headroom's own deterministic generator (`src/sample_data.rs`, seed \
         20261127): `headroom sample-data --out sample-data/`. Eight weeks at 5-minute steps from \
         2026-09-28T00:00:00Z, long form `timestamp,value`, one file per series.\n\n",
    );
    for s in generate() {
        readme.push_str(&format!("- `{}.csv`: {}\n", s.name, s.description));
    }
    let scenarios = dir.join("scenarios.toml");
    crate::files::atomic_write(&scenarios, SCENARIOS_TOML.as_bytes())?;
    written.push(scenarios);
    readme.push_str("- `scenarios.toml`: one what-if per scaling policy kind over the API's requests/s, for `headroom simulate`\n");
    let path = dir.join("README.md");
    let mut f = Vec::new();
    let _ = f.write_all(readme.as_bytes());
    crate::files::atomic_write(&path, &f)?;
    Ok(written)
}

/// What-ifs over the sample API demand, one per policy kind (`headroom simulate`).
pub const SCENARIOS_TOML: &str = r#"# Scaling what-ifs for the sample API (requests/s). One instance serves 250 req/s;
# above 70 % utilisation a minute counts as "over target".
# headroom simulate --scenario sample-data/scenarios.toml --out sim/
data = "api_requests_per_second.csv"
horizon = "14d"
paths = 200
seed = 7
risk_budget = 0.001

[[scenario]]
name = "static 20"
series = "api_requests_per_second"
capacity = { per_instance = 250.0, target_utilisation = 0.7 }
policy = { kind = "static", count = 20 }
price = { instance_hour = 0.192 }

[[scenario]]
name = "schedule: business hours"
series = "api_requests_per_second"
capacity = { per_instance = 250.0, target_utilisation = 0.7 }
price = { instance_hour = 0.192 }
# Hours in UTC, as the sample's traffic is; time_zone = "Europe/Berlin" would read them
# on Berlin's clock, daylight saving included. New instances serve startup_s (60) later.
[scenario.policy]
kind = "schedule"
default = 6
rules = [
  { days = [0, 1, 2, 3, 4], from_hour = 9, to_hour = 21, count = 20 },
  { days = [5, 6], from_hour = 10, to_hour = 20, count = 12 },
]

[[scenario]]
name = "HPA at 60 %"
series = "api_requests_per_second"
capacity = { per_instance = 250.0, target_utilisation = 0.7 }
policy = { kind = "hpa", metric = "pods", min = 3, max = 40, target = 0.6 }
price = { instance_hour = 0.192 }

[[scenario]]
name = "target tracking at 60 %"
series = "api_requests_per_second"
capacity = { per_instance = 250.0, target_utilisation = 0.7 }
price = { instance_hour = 0.192 }
# AWS tracks ALBRequestCountPerTarget on the target group (an example label, as below).
[scenario.policy]
kind = "target_tracking"
min = 3
max = 40
target = 0.6
metric = "alb_request_count"
resource_label = "app/checkout-alb/50dc6c495c0c9188/targetgroup/checkout-api/73e2d6bc24d8a067"

[[scenario]]
name = "step scaling, gradual"
series = "api_requests_per_second"
capacity = { per_instance = 250.0, target_utilisation = 0.7 }
price = { instance_hour = 0.192 }
[scenario.policy]
kind = "step"
min = 3
max = 40
alarm_high = 0.7
alarm_low = 0.4
out = [{ lower = 0.0, upper = 0.1, change = 1.0 }, { lower = 0.1, change = 2.0 }]
in = [{ upper = 0.0, change = -1.0 }]
datapoints = 3
# The alarms watch RequestCountPerTarget on the target group (an example label).
metric = "alb_request_count"
resource_label = "app/checkout-alb/50dc6c495c0c9188/targetgroup/checkout-api/73e2d6bc24d8a067"

[[scenario]]
name = "predictive on the 80 % band"
series = "api_requests_per_second"
capacity = { per_instance = 250.0, target_utilisation = 0.7 }
price = { instance_hour = 0.192 }
# Requests through an ALB: AWS forecasts and scales on ALBRequestCount. The label is an
# example: put your target group's (app/<alb>/<id>/targetgroup/<group>/<id>).
[scenario.policy]
kind = "predictive"
min = 3
max = 40
target = 0.6
lead_s = 300
band = 80.0
metric = "alb_request_count"
resource_label = "app/checkout-alb/50dc6c495c0c9188/targetgroup/checkout-api/73e2d6bc24d8a067"
dynamic = { min = 3, max = 40, target = 0.6 }

[[scenario]]
name = "HPA, reserved 8, +30 % from Dec 1"
series = "api_requests_per_second"
capacity = { per_instance = 250.0, target_utilisation = 0.7 }
policy = { kind = "hpa", metric = "pods", min = 3, max = 40, target = 0.6 }
price = { instance_hour = 0.192, model = "reserved", discount = 0.4, commitment = 8, cores = 4.0, memory_gib = 16.0 }
overlay = [{ kind = "growth", percent = 30.0, from = "2026-12-01" }]

[[scenario]]
name = "HPA, lose 1 of 3 zones for a day"
series = "api_requests_per_second"
capacity = { per_instance = 250.0, target_utilisation = 0.7 }
policy = { kind = "hpa", metric = "pods", min = 3, max = 40, target = 0.6 }
price = { instance_hour = 0.192 }
overlay = [{ kind = "zone_loss", zones = 3, lost = 1, from = "2026-11-30", to = "2026-12-01" }]
"#;

fn rng(stream: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(SEED ^ (stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
}

fn noise(r: &mut ChaCha8Rng, sd: f64) -> f64 {
    Normal::new(0.0, sd).map_or(0.0, |n| n.sample(r))
}

/// Hour of day (fractional) and day of week (0 = Monday) of step `i`.
fn clock(i: usize) -> (f64, i64) {
    let t = START_MS + i as i64 * STEP_MS - START_MS;
    let hour = (t % DAY_MS) as f64 / HOUR_MS as f64;
    (hour, (t / DAY_MS) % 7)
}

/// A smooth business-day shape: low at night, a broad peak mid-afternoon (UTC).
fn daily_shape(hour: f64) -> f64 {
    let x = (hour - 15.0) / 24.0 * TAU;
    0.5 + 0.5 * x.cos() + 0.15 * (2.0 * x).cos()
}

fn web_cpu() -> SampleSeries {
    let mut r = rng(1);
    let monthly_growth: f64 = 1.15;
    let per_step = monthly_growth.ln() / (30.0 * DAY_MS as f64 / STEP_MS as f64);
    let incidents = [(POINTS / 3 + 150, 9), (POINTS * 3 / 4 + 40, 12)];
    let gap = (POINTS / 2 + 100, 36); // three hours
    let values = (0..POINTS)
        .map(|i| {
            if i >= gap.0 && i < gap.0 + gap.1 {
                return f64::NAN;
            }
            let (hour, dow) = clock(i);
            let weekend = if dow >= 5 { 0.65 } else { 1.0 };
            let base = (14.0 + 26.0 * daily_shape(hour) * weekend) * (per_step * i as f64).exp();
            let spike = incidents.iter().map(|&(at, len)| if i >= at && i < at + len { 38.0 } else { 0.0 }).sum::<f64>();
            (base + spike + noise(&mut r, 1.6)).clamp(0.5, 100.0)
        })
        .collect();
    SampleSeries {
        name: "web_cpu_percent",
        description: "web tier CPU utilisation (%): daily and weekly seasonality, ~15 %/month growth, noise, two incident spikes and a 3-hour gap in collection",
        values,
    }
}

fn api_requests() -> SampleSeries {
    let mut r = rng(2);
    let launch = 5 * (WEEK_MS / STEP_MS) as usize + 2 * (DAY_MS / STEP_MS) as usize + 9 * 12; // Wednesday of week 6, 09:00
    let values = (0..POINTS)
        .map(|i| {
            let (hour, dow) = clock(i);
            let weekend = if dow >= 5 { 0.55 } else { 1.0 };
            let step_up = if i >= launch { 1.35 } else { 1.0 };
            let v = (250.0 + 1900.0 * daily_shape(hour) * weekend) * step_up;
            (v * (1.0 + noise(&mut r, 0.04))).max(0.0)
        })
        .collect();
    SampleSeries {
        name: "api_requests_per_second",
        description: "API requests per second: strong daily and weekly shape, a launch-day step up of 35 % in week 6",
        values,
    }
}

fn orders_memory() -> SampleSeries {
    let mut r = rng(3);
    let gib = 1024.0 * 1024.0 * 1024.0;
    let leak_per_step = 0.18 * gib / (DAY_MS / STEP_MS) as f64;
    let mut since_restart = 0usize;
    let mut next_restart = 9 * (DAY_MS / STEP_MS) as usize;
    let values = (0..POINTS)
        .map(|i| {
            if i == next_restart {
                since_restart = 0;
                next_restart = i + (r.random_range(7.0..12.0) * (DAY_MS / STEP_MS) as f64) as usize;
            }
            since_restart += 1;
            let (hour, _) = clock(i);
            2.1 * gib + leak_per_step * since_restart as f64 + 0.15 * gib * daily_shape(hour) + noise(&mut r, 0.02 * gib)
        })
        .collect();
    SampleSeries {
        name: "orders_memory_bytes",
        description: "a service's resident memory (bytes): a slow leak of ~0.18 GiB/day, reset by restarts every 7 to 12 days",
        values,
    }
}

fn db_disk() -> SampleSeries {
    let mut r = rng(4);
    let gib = 1024.0 * 1024.0 * 1024.0;
    let fill_per_step = 9.0 * gib / (DAY_MS / STEP_MS) as f64;
    let mut used = 310.0 * gib;
    let cleanup_every = 2 * (WEEK_MS / STEP_MS) as usize;
    let values = (0..POINTS)
        .map(|i| {
            used += fill_per_step * (1.0 + noise(&mut r, 0.3));
            if i > 0 && i % cleanup_every == 0 {
                used -= 60.0 * gib;
            }
            used
        })
        .collect();
    SampleSeries {
        name: "db_disk_used_bytes",
        description: "a database volume's used bytes: fills ~9 GiB/day linearly, with a 60 GiB cleanup every two weeks",
        values,
    }
}

fn jobs_queue() -> SampleSeries {
    let mut r = rng(5);
    let mut burst = 0.0;
    let values = (0..POINTS)
        .map(|_| {
            if r.random::<f64>() < 0.004 {
                burst += r.random_range(150.0..600.0);
            }
            burst *= 0.85;
            (18.0 + noise(&mut r, 3.0) + burst).max(0.0).round()
        })
        .collect();
    SampleSeries {
        name: "jobs_queue_depth",
        description: "a work queue's depth: flat around 18 with random bursts that drain in under an hour",
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_complete() {
        let a = generate();
        let b = generate();
        assert_eq!(a.len(), 5);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.values.len(), POINTS);
            assert!(x.values.iter().zip(&y.values).all(|(p, q)| p.to_bits() == q.to_bits()), "{}", x.name);
        }
        assert_eq!(a[0].values.iter().filter(|v| v.is_nan()).count(), 36, "a 3-hour gap");
        assert_eq!(crate::time::format_rfc3339(START_MS), "2026-09-28T00:00:00Z");
    }
}
