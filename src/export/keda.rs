//! A replayed schedule as a KEDA `ScaledObject` (keda.sh/v1alpha1): the same counts at
//! the same local hours, on Kubernetes.
//!
//! How KEDA and the HPA it drives would run it, from their sources:
//! - A `cron` trigger reports `desiredReplicas` while active and 1 otherwise, as an
//!   External metric with an `AverageValue` target of 1 (`cron_scaler.go`,
//!   `GetMetrics`, `GetMetricSpecForScaling`); the HPA proposes `ceil(value / 1)` for
//!   each trigger, unless the value is within its tolerance of the current count, and
//!   takes the largest proposal within `minReplicaCount`/`maxReplicaCount`
//!   (`replica_calculator.go`, `GetExternalPerPodMetricReplicas`;
//!   `horizontal.go`, `computeReplicasForMetrics`).
//! - A trigger is active when its next end comes before its next start, or when it is
//!   past its start and not yet past its end (`IsActive`: inactive if
//!   `nextStart < nextEnd && now < nextStart`, else active while `now <= nextEnd`).
//!
//! So each run of hours at a count above the week's lowest becomes one trigger (runs
//! of the same hours and count on several days share one, the days listed in cron), and
//! the lowest count is `minReplicaCount`: at every hour exactly one trigger is active
//! or none is, and the HPA lands on the replayed count. The scale-down window and rate
//! limits are written out (none and one sync) so that the count moves at the first
//! sync after the hour, as the replay has it move at the hour.
//!
//! Where the cluster would not, the export says so by name: a count within the HPA's
//! tolerance of the replicas it holds (run over the week as the HPA runs it), and a
//! start or end at an hour the zone's clocks skip or repeat, which robfig/cron, stepping
//! through absolute hours (`SpecSchedule.Next`), misses for a week or fires an hour late.

use super::code::HpaTarget;
use crate::simulate::hpa::within;
use crate::simulate::policy::{DEFAULT_TOLERANCE, ScheduleRule, schedule_zone};
use std::fmt::Write as _;

/// Hours in a week.
const WEEK_HOURS: usize = 7 * 24;

/// A `ScaledObject` and what the user should know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct KedaManifest {
    /// The YAML document.
    pub yaml: String,
    /// Notes for the user: what KEDA or the HPA would do otherwise than the replay.
    pub warnings: Vec<String>,
}

/// One trigger: a run of `hours` hours at `count` that starts at `start_hour` (local) on
/// each of `days` (0 = Monday).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Window {
    start_hour: usize,
    hours: usize,
    count: u32,
    days: Vec<usize>,
}

/// The KEDA `ScaledObject` of a schedule (`default` and `rules`, read in `time_zone`,
/// UTC when none) for `target` (its name, namespace and the Deployment it scales).
///
/// # Errors
/// A name Kubernetes would refuse, or a time zone that names no place, naming it.
pub fn scaled_object(target: &HpaTarget, default: u32, rules: &[ScheduleRule], time_zone: Option<&str>) -> Result<KedaManifest, String> {
    super::code::check_names(target)?;
    let (tz, zone) = match time_zone {
        None => (jiff::tz::TimeZone::UTC, "Etc/UTC".to_string()),
        Some(z) => schedule_zone(z)?,
    };
    // The count at each hour of the week, Monday 00:00 first, as the replay reads it.
    let counts = ScheduleRule::week(rules, default);
    let lowest = counts.iter().copied().min().unwrap_or(default);
    let highest = counts.iter().copied().max().unwrap_or(default);
    let at = |h: usize| counts[h % WEEK_HOURS];
    // Runs of one count above the lowest, each from the hour its count starts.
    let mut windows: Vec<Window> = Vec::new();
    for start in 0..WEEK_HOURS {
        let count = at(start);
        if count == lowest || at(start + WEEK_HOURS - 1) == count {
            continue;
        }
        let hours = (1..WEEK_HOURS).find(|k| at(start + k) != count).unwrap_or(WEEK_HOURS);
        let (day, start_hour) = (start / 24, start % 24);
        match windows.iter_mut().find(|w| (w.start_hour, w.hours, w.count) == (start_hour, hours, count)) {
            Some(w) => w.days.push(day),
            None => windows.push(Window { start_hour, hours, count, days: vec![day] }),
        }
    }
    if highest == 0 {
        return Err("policy: the schedule is at 0 all week: KEDA's cron trigger needs a desiredReplicas above 0 and the HPA a maxReplicas of at least 1".into());
    }
    let mut warnings = Vec::new();
    // The HPA KEDA drives compares each trigger's count with the replicas it has, not
    // with the schedule's last count, and keeps them when the ratio lies within its
    // tolerance (`Tolerances.isWithin`, 0.9 ≤ r ≤ 1.1 from Kubernetes 1.33; before, an
    // exact 10 % moved): run the week twice from the lowest and note every hour where the
    // replicas it holds are not the schedule's. (To the lowest, every trigger reports 1,
    // far from any count above 1, and the minimum takes it.)
    let mut held: Vec<String> = Vec::new();
    let mut replicas = lowest;
    for pass in 0..2 {
        for h in 0..WEEK_HOURS {
            let want = at(h);
            if want == lowest {
                replicas = lowest;
            } else {
                if !within(f64::from(want) / f64::from(replicas.max(1)), DEFAULT_TOLERANCE) {
                    replicas = want;
                }
            }
            if pass == 1 && replicas != want {
                held.push(format!("{replicas} kept for {want} at {:02}:00 on day {} (0 = Monday)", h % 24, h / 24));
            }
        }
    }
    if !held.is_empty() {
        let shown = held.len().min(6);
        warnings.push(format!(
            "the HPA KEDA drives keeps its replicas where the scheduled count is within its 10 % tolerance of them: {}{}; on Kubernetes 1.33+ with the HPAConfigurableTolerance feature gate, behavior.scaleUp/scaleDown.tolerance: 0 makes it move",
            held[..shown].join("; "),
            if held.len() > shown { format!(" and {} more hours", held.len() - shown) } else { String::new() }
        ));
    }
    // KEDA's cron library (robfig/cron) finds the next start or end by stepping through
    // absolute hours: a local hour the clocks skip is never found, so that week's start
    // or end is missed until the next week's; one they repeat may fire an hour late.
    let (skipped, repeated) = daylight_saving_hours(&tz);
    for w in &windows {
        let end = w.start_hour + w.hours;
        let bounds = [("start", w.start_hour, 0), ("end", end % 24, end / 24)];
        for (what, hour, shift) in bounds {
            let days: Vec<usize> = w.days.iter().map(|d| (d + shift) % 7).collect();
            let hits = |set: &[WeekHour]| days.iter().any(|d| set.contains(&(*d, hour)));
            if hits(&skipped) {
                warnings.push(format!(
                    "the trigger at {} has its {what} at {hour:02}:00, an hour {zone} skips once a year: KEDA's cron library steps over it, so {}",
                    w.count,
                    if what == "start" {
                        "in the week before that day its next end comes before its next start and it counts as active from its previous end: up to a week at this count where the schedule has fewer"
                    } else {
                        "the run that ends in it does not happen that week: from its start, its next end lies a week past its next start and it counts as inactive"
                    }
                ));
            }
            if hits(&repeated) {
                warnings.push(format!(
                    "the trigger at {} has its {what} at {hour:02}:00, an hour {zone} repeats once a year: on that day it may come an hour late",
                    w.count
                ));
            }
        }
    }
    if lowest == 0 {
        warnings.push(
            "the lowest count is 0: KEDA scales the workload to zero only cooldownPeriod (300 s by default) after the last trigger was active, and back to one at its pollingInterval (30 s)".into(),
        );
    }
    let mut y = String::from("# From a Headroom capacity plan: the schedule that was simulated, as KEDA cron triggers.\n");
    let _ = writeln!(
        y,
        "# Hours are read in {zone}; each count holds from its hour (the HPA moves at its first sync after it, within 15 s; new pods then start as the replay's startup_s says)."
    );
    let _ = writeln!(y, "# The replicas outside every trigger: {lowest}, minReplicaCount.");
    for w in &warnings {
        let _ = writeln!(y, "# Note: {w}");
    }
    let _ = writeln!(y, "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:");
    let _ = writeln!(y, "  name: {}\n  namespace: {}", target.name, target.namespace);
    let _ = writeln!(y, "spec:\n  scaleTargetRef:\n    name: {}", target.deployment);
    let _ = writeln!(y, "  minReplicaCount: {lowest}\n  maxReplicaCount: {highest}");
    // No scale-down window and no rate limit: the count moves at one sync, as the
    // replay has it move at the hour (the defaults would hold a scale-down 300 s and
    // climb 6 → 12 → 20 over two syncs).
    let _ = writeln!(y, "  advanced:\n    horizontalPodAutoscalerConfig:\n      behavior:");
    for (key, policy) in [
        ("scaleUp", format!("type: Pods\n              value: {}", highest.max(1))),
        ("scaleDown", "type: Percent\n              value: 100".into()),
    ] {
        let _ = writeln!(
            y,
            "        {key}:\n          stabilizationWindowSeconds: 0\n          policies:\n            - {policy}\n              periodSeconds: 15"
        );
    }
    let _ = writeln!(y, "  triggers:");
    if windows.is_empty() {
        // The same count all week: min and max hold it; KEDA needs one trigger.
        let _ = writeln!(
            y,
            "    - type: cron\n      metadata:\n        timezone: {zone}\n        start: 0 0 * * *\n        end: 0 12 * * *\n        desiredReplicas: \"{lowest}\""
        );
    }
    for w in &windows {
        let end = w.start_hour + w.hours;
        let _ = writeln!(
            y,
            "    - type: cron\n      metadata:\n        timezone: {zone}\n        start: 0 {} * * {}\n        end: 0 {} * * {}\n        desiredReplicas: \"{}\"",
            w.start_hour,
            super::cron_days(w.days.iter().copied()),
            end % 24,
            super::cron_days(w.days.iter().map(|d| d + end / 24)),
            w.count
        );
    }
    Ok(KedaManifest { yaml: y, warnings })
}

/// A local hour of the week: (weekday, 0 = Monday; hour).
type WeekHour = (usize, usize);

/// The local (weekday, hour) pairs, 0 = Monday, whose whole hour `zone` skips or repeats
/// at a daylight-saving change in the two years from 2026: (skipped, repeated).
fn daylight_saving_hours(zone: &jiff::tz::TimeZone) -> (Vec<WeekHour>, Vec<WeekHour>) {
    let (mut skipped, mut repeated) = (Vec::new(), Vec::new());
    // 2026-01-01 00:00 UTC, fixed so that the same schedule writes the same bytes.
    let from = crate::time::days_from_civil(2026, 1, 1) * crate::time::DAY_MS;
    let offset = |ms: i64| jiff::Timestamp::from_millisecond(ms).map_or(0, |t| i64::from(zone.to_offset(t).seconds()) * 1000);
    let step = 15 * crate::time::MINUTE_MS;
    for k in 0..(2 * 365 * 96) {
        let t = from + k * step;
        let (before, after) = (offset(t), offset(t + step));
        if before == after {
            continue;
        }
        // The change falls within (t, t + step]: find its minute.
        let change = (1..=15).map(|m| t + m * crate::time::MINUTE_MS).find(|&c| offset(c) == after).unwrap_or(t + step);
        // Wall clock just before and at the change; the hours between are skipped
        // (forward) or repeated (back).
        let (wall_before, wall_after) = (change + before, change + after);
        let (lo, hi, set) = if after > before { (wall_before, wall_after, &mut skipped) } else { (wall_after, wall_before, &mut repeated) };
        let mut hour = lo.div_euclid(crate::time::HOUR_MS) * crate::time::HOUR_MS;
        if hour < lo {
            hour += crate::time::HOUR_MS;
        }
        while hour < hi {
            let weekday = usize::from(crate::time::weekday(hour));
            let h = usize::try_from(hour.rem_euclid(crate::time::DAY_MS) / crate::time::HOUR_MS).unwrap_or(0);
            if !set.contains(&(weekday, h)) {
                set.push((weekday, h));
            }
            hour += crate::time::HOUR_MS;
        }
    }
    (skipped, repeated)
}
