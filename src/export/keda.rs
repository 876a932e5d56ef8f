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

use super::code::HpaTarget;
use crate::simulate::policy::{ScheduleRule, schedule_zone};
use std::fmt::Write as _;

/// The HPA's default tolerance (`--horizontal-pod-autoscaler-tolerance`): a proposal
/// within 10 % of the current count keeps the count.
const HPA_TOLERANCE: f64 = 0.1;

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

/// cron's day-of-week list (0 = Sunday) for `days` (0 = Monday), each shifted by `shift`
/// days.
fn cron_days(days: &[usize], shift: usize) -> String {
    let mut cron: Vec<usize> = days.iter().map(|d| (d + shift + 1) % 7).collect();
    cron.sort_unstable();
    cron.dedup();
    cron.iter().map(usize::to_string).collect::<Vec<_>>().join(",")
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
    let counts: Vec<u32> = (0..WEEK_HOURS).map(|h| ScheduleRule::count_at(rules, default, (h / 24) as u8, (h % 24) as u8)).collect();
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
    let mut warnings = Vec::new();
    // A change to a count within the HPA's tolerance of the count before it does not
    // happen: the trigger's proposal is the current count. (To the lowest, every
    // trigger reports 1, far from any count above 1, and the minimum takes it.)
    let mut held: Vec<String> = Vec::new();
    for h in 0..WEEK_HOURS {
        let (before, now) = (at(h + WEEK_HOURS - 1), at(h));
        if now != before && now != lowest && (f64::from(now) / f64::from(before.max(1)) - 1.0).abs() <= HPA_TOLERANCE {
            held.push(format!("{before} → {now} at {:02}:00 on day {} (0 = Monday)", h % 24, h / 24));
        }
    }
    if !held.is_empty() {
        warnings.push(format!(
            "{} within the HPA's 10 % tolerance, so the HPA KEDA drives keeps the count before ({}); on Kubernetes 1.33+ with the HPAConfigurableTolerance feature gate, behavior.scaleUp/scaleDown.tolerance: 0 makes it move",
            if held.len() == 1 { "this change is" } else { "these changes are" },
            held.join("; ")
        ));
    }
    if crate::time::changes_offset(&tz) {
        warnings.push(format!(
            "{zone} changes its offset for daylight saving: a start or end in the hour skipped or repeated runs as KEDA's cron library decides, which the replay (the rules read at each local instant) may not match"
        ));
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
            cron_days(&w.days, 0),
            end % 24,
            cron_days(&w.days, end / 24),
            w.count
        );
    }
    Ok(KedaManifest { yaml: y, warnings })
}
