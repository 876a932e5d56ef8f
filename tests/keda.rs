//! The KEDA export of a schedule against KEDA's and the HPA's own rules: the manifest is
//! read back and run by a small model of what the cluster would do, written here from
//! their sources (never from Headroom's code), and its counts compared with the replay's
//! at every quarter hour of two weeks.
//!
//! - KEDA `pkg/scalers/cron_scaler.go`: `IsActive` is false when
//!   `nextStart < nextEnd && now < nextStart`, true while `now <= nextEnd`, false after;
//!   `nextStart`/`nextEnd` are robfig/cron's next run strictly after now, in the
//!   trigger's time zone. `GetMetrics` reports `desiredReplicas` while active, else 1,
//!   against an `AverageValue` target of 1.
//! - Kubernetes `replica_calculator.go`, `GetExternalPerPodMetricReplicas`: usage ratio
//!   `value / (1 × current)`; within the tolerance (0.1) the proposal is the current
//!   count, else `ceil(value / 1)`. `horizontal.go`: the largest proposal, within min and
//!   max; the exported behaviour (no window, one sync's rate limit as large as the
//!   largest count) lets it land at the first sync.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use headroom::export::code::HpaTarget;
use headroom::export::keda::scaled_object;
use headroom::simulate::policy::ScheduleRule;
use headroom::simulate::{CapacityModel, Policy, replay};
use yaml_rust2::{Yaml, YamlLoader};

const QUARTER: i64 = 15 * 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// One cron trigger as written: `0 H * * D,D` or `0 H * * *`. Its next run is the first
/// instant whose local time matches; robfig/cron steps through absolute hours instead,
/// which differs only for an hour the clocks skip or repeat (warned about, and tested
/// below on the warning, not on this model).
struct Cron {
    hour: i8,
    days: Vec<i8>,
}

fn cron(spec: &str) -> Cron {
    let f: Vec<&str> = spec.split_whitespace().collect();
    assert_eq!(f.len(), 5, "{spec}");
    assert_eq!((f[0], f[2], f[3]), ("0", "*", "*"), "{spec}");
    let days = if f[4] == "*" { (0..7).collect() } else { f[4].split(',').map(|d| d.parse().unwrap()).collect() };
    Cron { hour: f[1].parse().unwrap(), days }
}

impl Cron {
    /// robfig/cron's `Next`: the first instant strictly after `t_ms` whose local time in
    /// `zone` is minute 0 of `hour` on one of `days` (0 = Sunday).
    fn next(&self, zone: &jiff::tz::TimeZone, t_ms: i64) -> i64 {
        let mut at = (t_ms.div_euclid(QUARTER) + 1) * QUARTER;
        for _ in 0..(9 * 96) {
            let local = zone.to_datetime(jiff::Timestamp::from_millisecond(at).unwrap());
            let dow = local.weekday().to_sunday_zero_offset();
            if local.minute() == 0 && local.hour() == self.hour && self.days.contains(&dow) {
                return at;
            }
            at += QUARTER;
        }
        panic!("no run of {}:00 on {:?} within 9 days", self.hour, self.days);
    }
}

/// A trigger of the manifest.
struct Trigger {
    zone: jiff::tz::TimeZone,
    start: Cron,
    end: Cron,
    desired: i64,
}

impl Trigger {
    fn active(&self, t: i64) -> bool {
        let (next_start, next_end) = (self.start.next(&self.zone, t), self.end.next(&self.zone, t));
        if next_start < next_end && t < next_start { false } else { t <= next_end }
    }
}

/// The manifest as the cluster reads it: min, max and the triggers.
struct Scaled {
    min: i64,
    max: i64,
    triggers: Vec<Trigger>,
}

fn read(yaml: &str) -> Scaled {
    let doc = &YamlLoader::load_from_str(yaml).unwrap()[0];
    assert_eq!(doc["apiVersion"].as_str(), Some("keda.sh/v1alpha1"));
    assert_eq!(doc["kind"].as_str(), Some("ScaledObject"));
    let spec = &doc["spec"];
    let behavior = &spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"];
    for dir in ["scaleUp", "scaleDown"] {
        assert_eq!(behavior[dir]["stabilizationWindowSeconds"].as_i64(), Some(0), "{dir} must move at once");
    }
    let triggers = spec["triggers"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|t: &Yaml| {
            assert_eq!(t["type"].as_str(), Some("cron"));
            let m = &t["metadata"];
            let zone = jiff::tz::TimeZone::get(m["timezone"].as_str().unwrap()).unwrap();
            let (start, end) = (m["start"].as_str().unwrap(), m["end"].as_str().unwrap());
            assert_ne!(start, end, "KEDA: start and end should not be the same");
            Trigger { zone, start: cron(start), end: cron(end), desired: m["desiredReplicas"].as_str().unwrap().parse().unwrap() }
        })
        .collect();
    Scaled { min: spec["minReplicaCount"].as_i64().unwrap(), max: spec["maxReplicaCount"].as_i64().unwrap(), triggers }
}

impl Scaled {
    /// One HPA sync at `t` from `current` replicas.
    fn sync(&self, t: i64, current: i64) -> i64 {
        // `Tolerances.isWithin` (Kubernetes 1.33+): 0.9 ≤ ratio ≤ 1.1, both ends in.
        let proposal = |value: i64| {
            let ratio = value as f64 / current as f64;
            if (1.0 - 0.1..=1.0 + 0.1).contains(&ratio) { current } else { value }
        };
        let best = self.triggers.iter().map(|tr| proposal(if tr.active(t) { tr.desired } else { 1 })).max().unwrap();
        best.clamp(self.min, self.max)
    }
}

/// 2026-03-23, a Monday, 00:00 UTC (Berlin's clocks go forward on the 29th).
const MONDAY: i64 = 20_535 * DAY;

/// Replays the schedule (start-up 0) and runs the manifest at every quarter hour of two
/// weeks, one sync a minute after each; returns the instants where they differ.
fn compare(default: u32, rules: &[ScheduleRule], zone: Option<&str>) -> (Vec<String>, Vec<String>) {
    let policy = Policy::Schedule { default, rules: rules.to_vec(), time_zone: zone.map(str::to_string), startup_s: 0 };
    let n = (14 * DAY / QUARTER) as usize;
    let cap = CapacityModel { per_instance: 100.0, target_utilisation: 0.7 };
    let replayed: Vec<i64> =
        replay(&policy, &cap, &vec![100.0; n], MONDAY, QUARTER, None, true).steps.iter().map(|s| s.instances as i64).collect();
    let target = HpaTarget { name: "api".into(), namespace: "default".into(), deployment: "api".into() };
    let manifest = scaled_object(&target, default, rules, zone).unwrap();
    let scaled = read(&manifest.yaml);
    let mut current = replayed[0];
    let mut diffs = Vec::new();
    for (i, want) in replayed.iter().enumerate() {
        let t = MONDAY + i as i64 * QUARTER;
        current = scaled.sync(t + 60_000, current);
        if current != *want {
            diffs.push(format!("{}: KEDA {current}, replay {want}", headroom::time::format_rfc3339(t)));
        }
    }
    (diffs, manifest.warnings)
}

fn rule(days: &[u8], from_hour: u8, to_hour: u8, count: u32) -> ScheduleRule {
    ScheduleRule { days: days.to_vec(), from_hour, to_hour, count }
}

#[test]
fn the_sample_schedule_scales_on_kubernetes_as_it_was_replayed() {
    // Weekdays 09–21 at 20, weekends 10–20 at 12, else 6 (sample-data/scenarios.toml).
    let rules = [rule(&[0, 1, 2, 3, 4], 9, 21, 20), rule(&[5, 6], 10, 20, 12)];
    let (diffs, warnings) = compare(6, &rules, None);
    assert!(diffs.is_empty(), "{diffs:?}");
    assert!(warnings.is_empty(), "{warnings:?}");
    let target = HpaTarget { name: "api".into(), namespace: "default".into(), deployment: "api".into() };
    let yaml = scaled_object(&target, 6, &rules, None).unwrap().yaml;
    // By hand: 6 outside the triggers; weekdays (cron 1–5) 09→21 at 20, Saturday and
    // Sunday (cron 6, 0) 10→20 at 12.
    assert!(yaml.contains("minReplicaCount: 6\n  maxReplicaCount: 20\n"), "{yaml}");
    assert!(yaml.contains("start: 0 9 * * 1,2,3,4,5\n        end: 0 21 * * 1,2,3,4,5\n        desiredReplicas: \"20\""), "{yaml}");
    assert!(yaml.contains("start: 0 10 * * 0,6\n        end: 0 20 * * 0,6\n        desiredReplicas: \"12\""), "{yaml}");
}

#[test]
fn overnight_rules_lower_nights_and_daylight_saving_follow_the_replay() {
    // Berlin: Friday night 21:00 to Saturday 09:00 at 3, weekday nights 00–06 at 4,
    // else 10 — the lowest count (3) is the minimum, and 10 becomes triggers of its own.
    // Over the 2026-03-29 change to summer time.
    let rules = [rule(&[4], 21, 9, 3), rule(&[0, 1, 2, 3, 4], 0, 6, 4)];
    let (diffs, warnings) = compare(10, &rules, Some("Europe/Berlin"));
    assert!(diffs.is_empty(), "{diffs:?}");
    // No start or end at 02:00 on a Sunday, the hour Berlin skips or repeats: nothing
    // to warn about.
    assert!(warnings.is_empty(), "{warnings:?}");
    // Half-hour offsets: Kolkata (UTC+5:30) 09–17 on weekdays at 8, else 2.
    let (diffs, _) = compare(2, &[rule(&[0, 1, 2, 3, 4], 9, 17, 8)], Some("Asia/Kolkata"));
    assert!(diffs.is_empty(), "{diffs:?}");
}

#[test]
fn a_change_within_the_hpa_tolerance_is_said_and_is_what_differs() {
    // 20 → 19 at 17:00 on weekdays: ratio 0.95, within 10 %, so the HPA keeps 20 until
    // 19:00 brings the lowest (2). The export says so, and only those hours differ.
    let rules = [rule(&[0, 1, 2, 3, 4], 9, 17, 20), rule(&[0, 1, 2, 3, 4], 17, 19, 19)];
    let (diffs, warnings) = compare(2, &rules, None);
    assert!(warnings.iter().any(|w| w.contains("20 kept for 19 at 17:00 on day 0")), "{warnings:?}");
    // 10 weekdays × 2 hours × 4 quarters.
    assert_eq!(diffs.len(), 80, "{diffs:?}");
    assert!(diffs.iter().all(|d| d.contains("KEDA 20, replay 19")), "{diffs:?}");
}

#[test]
fn the_same_count_all_week_keeps_one_trigger_for_keda() {
    let (diffs, _) = compare(7, &[], None);
    assert!(diffs.is_empty(), "{diffs:?}");
    let target = HpaTarget { name: "api".into(), namespace: "default".into(), deployment: "api".into() };
    assert!(scaled_object(&HpaTarget { namespace: "Bad NS".into(), ..target }, 7, &[], None).unwrap_err().contains("namespace"));
}

#[test]
fn a_start_or_end_in_an_hour_the_clocks_skip_is_warned_about() {
    // Berlin skips 02:00–03:00 on the last Sunday of March: a Sunday rule from 02:00
    // starts in it, and robfig/cron would miss that start for a week.
    let target = HpaTarget { name: "api".into(), namespace: "default".into(), deployment: "api".into() };
    let m = scaled_object(&target, 2, &[rule(&[6], 2, 6, 8)], Some("Europe/Berlin")).unwrap();
    assert!(m.warnings.iter().any(|w| w.contains("start at 02:00") && w.contains("skips once a year")), "{:?}", m.warnings);
    // Its 02:00 on the last Sunday of October comes twice.
    let m = scaled_object(&target, 2, &[rule(&[6], 0, 2, 8)], Some("Europe/Berlin")).unwrap();
    assert!(m.warnings.iter().any(|w| w.contains("end at 02:00") && w.contains("repeats once a year")), "{:?}", m.warnings);
    // Business hours in Berlin touch neither: no such warning.
    let m = scaled_object(&target, 6, &[rule(&[0, 1, 2, 3, 4], 9, 21, 20)], Some("Europe/Berlin")).unwrap();
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    // A schedule at 0 all week has nothing for KEDA to run.
    assert!(scaled_object(&target, 0, &[], None).unwrap_err().contains("0 all week"));
}
