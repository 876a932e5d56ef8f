//! The HPA replay against the Kubernetes controller, sync by sync. Every expected count
//! is worked by hand from upstream (`pkg/controller/podautoscaler/horizontal.go`,
//! `replica_calculator.go`, `metrics/utilization.go`, `apis/autoscaling/v2/defaults.go`),
//! never read back from Headroom. One demand value per 15-s sync; one pod serves 100.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use headroom::export::code::{HpaTarget, hpa_manifest};
use headroom::simulate::policy::{Hpa, HpaMetric, RatePolicy, Rules, Select};
use headroom::simulate::{CapacityModel, Policy, replay};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use proptest::prelude::*;

const CAP: CapacityModel = CapacityModel { per_instance: 100.0, target_utilisation: 0.8 };

fn counts(h: &Hpa, demand: &[f64]) -> Vec<u32> {
    replay(&Policy::Hpa(h.clone()), &CAP, demand, 0, 15_000, None, true).steps.iter().map(|s| s.instances as u32).collect()
}

fn base(target: f64) -> Hpa {
    Hpa { min: 1, max: 100, target, readiness_s: 0, ..Hpa::default() }
}

/// Repro 1. Pods 4 per 60 s: the limit counts from the replicas at the start of the
/// period (current − added within it). +4 at t = 30; the event is still "after the
/// cutoff" at 45, 60, 75; at 90 it is exactly 60 s old and drops out (`After` is strict).
#[test]
fn rate_limits_hold_over_their_period() {
    let h = Hpa {
        scale_up: Some(Rules {
            stabilization_s: Some(0),
            select: Some(Select::Max),
            policies: Some(vec![RatePolicy::Pods { value: 4, period_s: 60 }]),
        }),
        ..base(0.5)
    };
    let mut demand = vec![50.0, 50.0];
    demand.extend(vec![2000.0; 9]);
    assert_eq!(counts(&h, &demand), vec![1, 1, 5, 5, 5, 5, 9, 9, 9, 9, 13]);
}

/// Repro 2. Utilisation is a whole percent, truncated (`GetResourceUtilizationRatio`):
/// 1631 over 20 pods of 100 is 81.55 % → 81 %; 81 / 65 × 20 = 24.92 → 25 (not 26).
/// Then 1438 over 25 ready pods: 57.52 → 57 %, ratio 0.877, proposal ceil(21.92) = 22,
/// held at 25 by the 300-s window of the no-`behavior` path, whose edge still counts
/// (`!Before(cutoff)`): the 25 proposed at t = 30 counts at t = 330 and is gone at 345.
#[test]
fn utilisation_is_truncated_to_a_whole_percent() {
    let mut demand = vec![1300.0, 1300.0, 1631.0];
    demand.extend(vec![1438.0; 22]);
    let n = counts(&base(0.65), &demand);
    assert_eq!(&n[..3], &[20, 20, 25]);
    assert!(n[3..23].iter().all(|c| *c == 25), "{n:?}");
    assert_eq!(n[23], 22, "t = 345: the proposal of t = 30 has left the window");
    assert_eq!(n[24], 22, "1438 over 22 pods: 65 %, within tolerance");
}

/// Repro 3 and the edge of the behavior path's window: with a `behavior`, only
/// recommendations strictly after `now − 300 s` count (`timestamp.After(cutoff)`), so the
/// same trace drops one sync earlier, at t = 330.
#[test]
fn stabilisation_windows_exclude_their_edge_with_a_behavior() {
    let mut demand = vec![1300.0, 1300.0, 1631.0];
    demand.extend(vec![1438.0; 22]);
    let h = Hpa { scale_down: Some(Rules::default()), ..base(0.65) };
    let n = counts(&h, &demand);
    assert!(n[3..22].iter().all(|c| *c == 25), "{n:?}");
    assert_eq!(n[22], 22, "t = 330: the 25 of t = 30 is exactly 300 s old and no longer counts");
}

/// Repro 4. Unready pods (`groupPods`): at t = 30 the count goes 20 → 28 (70 %). At 45
/// the 8 new pods are unready: the ready 20 carry 1150 (57 %, ratio 1.14 > 1), so the
/// unready ones are counted at 0 %: 1150 / 2800 = 41 %, ratio 0.82, the direction
/// reverses and the controller keeps 28. At t = 90 they are ready and serve, but their
/// CPU samples are not one metric window (15 s) past the turn (`groupPods`, within the
/// CPU initialization period): set apart. The 20 counted carry 1150 × 20 / 28 = 821.4:
/// 41 %, ratio 0.82, a scale-down, which ignores the set-apart pods: ceil(0.82 × 20 =
/// 16.4) = 17 (no window, 100 % per 15 s allows it; upstream's dip after a scale-up).
/// At 105 the 17 left (the newest go first) all count: 1150 / 17 = 67.6 → 67 %, ratio
/// 1.34, ceil(22.78) = 23 (the down event at 90 is not after 105 − 15, so the up limit
/// is max(17 + 4, 2 × 17)). At 120 the 6 new pods are starting: the 17 read 67 %, ratio
/// 1.34 > 1, the 6 counted in at 0: 1150 over 23 = 50 %, ratio 1.0, within: 23 kept.
#[test]
fn unready_pods_are_left_out_as_group_pods_does() {
    let h = Hpa {
        readiness_s: 60,
        scale_down: Some(Rules {
            stabilization_s: Some(0),
            select: Some(Select::Max),
            policies: Some(vec![RatePolicy::Percent { value: 100.0, period_s: 15 }]),
        }),
        ..base(0.5)
    };
    let mut demand = vec![1000.0, 1000.0, 1400.0];
    demand.extend(vec![1150.0; 6]);
    assert_eq!(counts(&h, &demand), vec![20, 20, 28, 28, 28, 28, 17, 23, 23]);
}

/// Scale-down stabilisation 0, the rest of `behavior` at its defaults.
fn no_down_window(h: Hpa) -> Hpa {
    Hpa { scale_down: Some(Rules { stabilization_s: Some(0), ..Rules::default() }), ..h }
}

/// Mean pods per data step, to 4 decimals (syncs that do not fall on the steps).
fn mean_counts(h: &Hpa, demand: &[f64], step_ms: i64) -> Vec<f64> {
    replay(&Policy::Hpa(h.clone()), &CAP, demand, 0, step_ms, None, true).steps.iter().map(|s| (s.instances * 1e4).round() / 1e4).collect()
}

/// `groupPods` sets a ready pod's CPU sample apart until one metric window (15 s) has
/// passed since it turned ready (`metric.Timestamp.Before(LastTransitionTime +
/// Window)`), within the 5-minute CPU initialization period; a scale-down then proposes
/// from the other pods alone. Readiness 30, no scale-down window; 10 pods at 50 %, then
/// 1400 (t = 30: 2.8 → 28, capped at 20; t = 45: 28, the 8 Ready at 75), then 1100 from
/// t = 75. At 75 all 28 are ready but the 8 of t = 45 are set apart: the 20 counted
/// carry 1100 × 20 / 28 = 7.857 cores, 39 %, ratio 0.78, ceil(0.78 × 20 = 15.6) = 16
/// (with every sample counted, ceil(0.78 × 28) = 22). At 90 the 16 left all count:
/// 1100 / 16 = 68 %, ratio 1.36, ceil(21.76) = 22. At 105 the 6 new are starting: 0-fill
/// 1100 over 22 = 50 %, within. Upstream's dip after a scale-up: 28 → 16 → 22.
/// A `pods` metric has no such rule (`calcPlainMetricReplicas` with resource ""): at 75,
/// 1,100,000m / 28 = 39,285m, ratio 0.7857, ceil(22.0) = 22.
#[test]
fn a_newly_ready_pods_cpu_sample_waits_one_metric_window() {
    let h = no_down_window(Hpa { readiness_s: 30, ..base(0.5) });
    let mut demand = vec![500.0, 500.0, 1400.0, 1400.0, 1400.0];
    demand.extend(vec![1100.0; 9]);
    assert_eq!(counts(&h, &demand), vec![10, 10, 20, 28, 28, 16, 22, 22, 22, 22, 22, 22, 22, 22]);
    let pods = Hpa { metric: HpaMetric::Pods, ..h };
    assert_eq!(counts(&pods, &demand), vec![10, 10, 20, 28, 28, 22, 22, 22, 22, 22, 22, 22, 22, 22]);
}

/// The edges of that rule. Readiness 0: pods of t = 30 are ready at once and count at
/// 45 exactly (`Before` is strict): 800 over 20 is 40 %, ceil(0.8 × 20) = 16 (not
/// ceil(0.8 × 10) = 8). Readiness 290, syncs every 10 s (5-s ticks): the 10 pods of
/// t = 30 are ready at 320, inside their initialization period (start + 300 = 330 is
/// after 320) and inside their window, so at 320 only the 10 first count: 800 × 10 / 20
/// is 40 %, ceil(0.8 × 10) = 8 (the step of t = 315–329 averages (28 + 8 + 8) / 3); at
/// 330 the 8 alone read 100 %: 16. With the fall at 330 instead, the period is over
/// (start + 300 is not after 330), the sample counts at once: ceil(0.8 × 20) = 16.
#[test]
fn a_sample_counts_at_the_end_of_its_window_or_of_the_initialization_period() {
    let h = no_down_window(base(0.5));
    let mut demand = vec![500.0, 500.0, 1400.0];
    demand.extend(vec![800.0; 11]);
    assert_eq!(counts(&h, &demand), [vec![10, 10, 20], vec![16; 11]].concat());
    let slow = no_down_window(Hpa { readiness_s: 290, sync_s: 10, ..base(0.5) });
    let mut early = vec![500.0, 500.0];
    early.extend(vec![1400.0; 19]);
    early.extend(vec![800.0; 7]);
    let expected = [vec![10.0, 10.0, 20.0, 25.3333], vec![28.0; 17], vec![14.6667], vec![16.0; 6]].concat();
    assert_eq!(mean_counts(&slow, &early, 15_000), expected);
    let mut late = vec![500.0, 500.0];
    late.extend(vec![1400.0; 20]);
    late.extend(vec![800.0; 6]);
    let expected = [vec![10.0, 10.0, 20.0, 25.3333], vec![28.0; 18], vec![16.0; 6]].concat();
    assert_eq!(mean_counts(&slow, &late, 15_000), expected);
}

/// The same with a `pods` metric (`calcPlainMetricReplicas`, target 50 per pod): at
/// t = 45 s the 8 pods launched at 30 s are still starting (Pending, or no sample of a
/// rate yet), so `groupPods` sets them apart. The 20 ready pods carry 1150: 57.5 each,
/// ratio 1.15, a scale-up with unready pods; counted in at 0 the ratio is
/// 1150 / 28 / 50 = 0.82, the direction reverses, and 28 is kept. At 90 s all 28 are
/// ready: 41,071 milli per pod (truncated) / 50,000 = 0.82142, ceil(0.82142 × 28 = 22.9998) = 23.
/// (Before, starting pods counted among the pods at 0 and 5 of the 8 went at 45 s.)
#[test]
fn a_pods_metric_sets_starting_pods_apart_as_group_pods_does() {
    let h = Hpa {
        metric: HpaMetric::Pods,
        readiness_s: 60,
        scale_down: Some(Rules { stabilization_s: Some(0), select: None, policies: None }),
        ..base(0.5)
    };
    let mut demand = vec![1000.0, 1000.0, 1400.0];
    demand.extend(vec![1150.0; 8]);
    assert_eq!(counts(&h, &demand), vec![20, 20, 28, 28, 28, 28, 23, 23, 23, 23, 23]);
}

/// A `pods` metric: average value per pod in milli-units against `per_instance × target`.
/// 2400/s over 10 pods is 240 per pod against 150: ceil(1.6 × 10) = 16 (the README's case).
#[test]
fn pods_metrics_compare_average_values() {
    let cap = CapacityModel { per_instance: 250.0, target_utilisation: 0.7 };
    let h = Hpa { metric: HpaMetric::Pods, min: 1, max: 40, target: 0.6, readiness_s: 0, ..Hpa::default() };
    // Start at 1500/s: ceil(1500 / 150) = 10 pods.
    let demand = [1500.0, 2400.0, 2400.0];
    let n: Vec<f64> = replay(&Policy::Hpa(h), &cap, &demand, 0, 15_000, None, true).steps.iter().map(|s| s.instances).collect();
    assert_eq!(n, vec![10.0, 16.0, 16.0]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]
    /// With no stabilisation, no readiness delay and rate limits wider than any change,
    /// each sync is `ceil(current × ratio)` (no change within the tolerance), clamped.
    #[test]
    fn without_limits_each_sync_is_ceil_current_times_ratio(
        demand in prop::collection::vec(10.0f64..20_000.0, 2..40),
        target_pct in 20i64..95,
        min in 1u32..5,
        span in 5u32..200,
    ) {
        let wide = |stab| Some(Rules {
            stabilization_s: Some(stab),
            select: Some(Select::Max),
            policies: Some(vec![RatePolicy::Percent { value: 100_000.0, period_s: 15 }]),
        });
        let h = Hpa { min, max: min + span, target: target_pct as f64 / 100.0, readiness_s: 0, scale_up: wide(0), scale_down: wide(0), ..Hpa::default() };
        let n = counts(&h, &demand);
        let mut current = i64::from(n[0]);
        for (i, d) in demand.iter().enumerate().skip(1) {
            // Whole-percent utilisation (truncated) of `current` pods, each requesting one
            // core and serving 100 at 100 %: the demand in milli-cores (the metrics API's
            // unit), times 100, over 1000 milli-cores a pod. 259.98 over 26 pods is
            // 2600m: 10 %, not the 9.999 % of the demand itself.
            let utilisation = (((d / 100.0) * 1000.0).round() as i128 * 100 / (1000 * i128::from(current))) as i64;
            let ratio = utilisation as f64 / target_pct as f64;
            let expected = if (0.9..=1.1).contains(&ratio) { current } else { (ratio * current as f64).ceil() as i64 };
            let expected = expected.clamp(i64::from(h.min), i64::from(h.max));
            prop_assert_eq!(i64::from(n[i]), expected, "sync {} demand {} from {}", i, d, current);
            current = expected;
        }
    }
}

/// `storeScaleEvent` reuses only the slot of the *last* outdated event
/// (`markScaleEventsOutdated`, then one overwrite); other outdated events stay and still
/// count in `periodStartReplicas` of the other direction's longer period. One pod serves
/// 500 (`CAP` scaled), target 60 %; down: Pods 1 per 10 s and per 20 s (Max), no window;
/// up: Pods 2 per 120 s. Worked from upstream:
/// - t=0: 3000 over 10 pods = 60 %: within, 10.
/// - t=15: 15 % → 3, limited to 9 (10 − 1); down events [15].
/// - t=30: 9 pods, 16 % → 3; per 10 s: 9 − 1 = 8, per 20 s: (9 + 1) − 1 = 9; Max is the
///   smaller: 8. Cutoff 10: nothing outdated, appended: [15, 30].
/// - t=45: 8 pods, 18 % → 3; per 10 s: 7, per 20 s: (8 + 1) − 1 = 8: 7. Cutoff 25: the
///   event at 15 is outdated and its slot reused: [45, 30].
/// - t=60, 75, 90: 2100 over 7 = 60 %: within, 7.
/// - t=105: 600 over 7 = 17 % → 2, limited to 6. Cutoff 85: both outdated, the last (30)
///   reused: [45, 105].
/// - t=120: 12000 over 6 = 400 % → 40; up limit: start = 6 − 0 + 2 (the events at 45 and
///   105 are after 120 − 120 = 0) = 8, plus 2 = 10. Dropping every outdated event (45
///   too) would give 7 + 2 = 9.
#[test]
fn scale_events_reuse_one_outdated_slot_as_store_scale_event_does() {
    let h = Hpa {
        min: 1,
        max: 30,
        target: 0.6,
        readiness_s: 0,
        scale_up: Some(Rules {
            stabilization_s: Some(0),
            select: None,
            policies: Some(vec![RatePolicy::Pods { value: 2, period_s: 120 }]),
        }),
        scale_down: Some(Rules {
            stabilization_s: Some(0),
            select: Some(Select::Max),
            policies: Some(vec![RatePolicy::Pods { value: 1, period_s: 10 }, RatePolicy::Pods { value: 1, period_s: 20 }]),
        }),
        ..Hpa::default()
    };
    let demand = [3000.0, 750.0, 750.0, 750.0, 2100.0, 2100.0, 2100.0, 600.0, 12000.0];
    let cap = CapacityModel { per_instance: 500.0, target_utilisation: 0.8 };
    let n: Vec<u32> = replay(&Policy::Hpa(h), &cap, &demand, 0, 15_000, None, true).steps.iter().map(|s| s.instances as u32).collect();
    assert_eq!(n, vec![10, 9, 8, 7, 7, 7, 7, 6, 10]);
}

/// Syncs every `sync_s` from the start whatever the data's step
/// (`--horizontal-pod-autoscaler-sync-period`): 10-s data, 15-s syncs at 0, 15, 30, 45,
/// each reading the demand of the 10-s step it falls in. No behavior: the up limit is
/// max(2 × current, 4) (`calculateScaleUpLimit`). One pod serves 100, target 50 %.
/// - t=0 and 15: 100 over 2 pods = 50 %: 2.
/// - t=30: 400 over 2 = 200 %, ratio 4 → 8, limited to 4.
/// - t=45: 400 over 4 = 100 %, ratio 2 → 8 (limit 8).
/// Per 10-s step (time averages): 2, 2, 2, 4 (from 30), 6 (4 then 8 from 45), 8. Syncs on
/// a 10-s grid (0, 20, 40) would give 2, 2, 4, 4, 8.
#[test]
fn syncs_keep_their_period_on_data_of_another_step() {
    let demand = [100.0, 100.0, 400.0, 400.0, 400.0, 400.0, 400.0];
    let h = Hpa { min: 1, max: 100, target: 0.5, readiness_s: 0, ..Hpa::default() };
    let steps = replay(&Policy::Hpa(h.clone()), &CAP, &demand, 0, 10_000, None, true).steps;
    let n: Vec<f64> = steps.iter().map(|s| s.instances).collect();
    assert_eq!(n, vec![2.0, 2.0, 2.0, 4.0, 6.0, 8.0, 8.0]);
    // A 20-s sync period on 15-s data: syncs at 0, 20, 40, 60 (not every 30 s). Demand
    // 400 from t=15: t=20 → 4, t=40 → 8 (400 over 4 = 100 %).
    let slow = Hpa { sync_s: 20, ..h };
    let demand = [100.0, 400.0, 400.0, 400.0, 400.0];
    let steps = replay(&Policy::Hpa(slow), &CAP, &demand, 0, 15_000, None, true).steps;
    // Ticks of 5 s: [0,15): 2; [15,30): 2 until 20, then 4: (2 + 4 + 4) / 3; [30,45): 4
    // until 40, then 8: (4 + 4 + 8) / 3; then 8.
    let expected = [2.0, 10.0 / 3.0, 16.0 / 3.0, 8.0, 8.0];
    assert!(steps.iter().zip(expected).all(|(s, e)| (s.instances - e).abs() < 1e-9), "{steps:?}");
}

/// An exported HPA deserialises into k8s-openapi's autoscaling/v2 type (1.33 schema)
/// and serialises back to the same document: no field unknown or misplaced.
fn round_trips(yaml: &str) -> HorizontalPodAutoscaler {
    let docs = yaml_rust2::YamlLoader::load_from_str(yaml).expect("valid YAML");
    let value = to_json(&docs[0]);
    let hpa: HorizontalPodAutoscaler = serde_json::from_value(value.clone()).expect("an autoscaling/v2 HPA");
    let back = serde_json::to_value(&hpa).unwrap();
    assert_eq!(back, value, "serialised back to the same document");
    hpa
}

fn to_json(y: &yaml_rust2::Yaml) -> serde_json::Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::String(s) => serde_json::Value::String(s.clone()),
        Yaml::Integer(i) => serde_json::Value::from(*i),
        Yaml::Real(r) => serde_json::Value::from(r.parse::<f64>().unwrap()),
        Yaml::Boolean(b) => serde_json::Value::Bool(*b),
        Yaml::Array(a) => serde_json::Value::Array(a.iter().map(to_json).collect()),
        Yaml::Hash(h) => serde_json::Value::Object(h.iter().map(|(k, v)| (k.as_str().unwrap().to_string(), to_json(v))).collect()),
        _ => serde_json::Value::Null,
    }
}

fn target() -> HpaTarget {
    HpaTarget { name: "checkout-hpa".into(), namespace: "shop".into(), deployment: "checkout".into() }
}

#[test]
fn exported_manifests_scale_on_what_was_simulated() {
    // A pods metric: requests per second, 250 per pod at 60 % → averageValue 150.
    let h = Hpa { metric: HpaMetric::Pods, min: 3, max: 40, target: 0.6, ..Hpa::default() };
    let m = hpa_manifest(&target(), &h, 250.0, "api_requests_per_second").unwrap();
    let hpa = round_trips(&m.yaml);
    let spec = hpa.spec.unwrap();
    let metric = &spec.metrics.unwrap()[0];
    assert_eq!(metric.type_, "Pods");
    let pods = metric.pods.as_ref().unwrap();
    assert_eq!(pods.metric.name, "api_requests_per_second");
    assert_eq!(pods.target.average_value.as_ref().unwrap().0, "150");
    assert!(spec.behavior.is_none(), "no behavior was simulated, none is exported");
    assert_eq!(hpa.metadata.namespace.as_deref(), Some("shop"));
    assert_eq!(spec.scale_target_ref.name, "checkout");

    // A resource metric with behaviour and a tolerance other than the cluster's.
    let h = Hpa {
        tolerance: 0.05,
        scale_up: Some(Rules { policies: Some(vec![RatePolicy::Pods { value: 4, period_s: 60 }]), ..Rules::default() }),
        ..Hpa { min: 2, max: 30, target: 0.65, ..Hpa::default() }
    };
    let m = hpa_manifest(&target(), &h, 100.0, "web_cpu_percent").unwrap();
    assert!(m.warnings.iter().any(|w| w.contains("1.33")), "{:?}", m.warnings);
    assert!(m.yaml.contains("# behavior.*.tolerance"));
    let spec = round_trips(&m.yaml).spec.unwrap();
    assert_eq!(spec.metrics.unwrap()[0].resource.as_ref().unwrap().target.average_utilization, Some(65));
    let b = spec.behavior.unwrap();
    let up = b.scale_up.unwrap();
    assert_eq!(up.tolerance.unwrap().0, "50m");
    assert_eq!(up.policies.unwrap()[0].period_seconds, 60);
    let down = b.scale_down.unwrap();
    assert_eq!(down.stabilization_window_seconds, Some(300), "the controller's default, written out");

    // What an HPA object cannot carry is said: the sync period (a controller flag), the
    // pods' readiness (the Deployment's), the no-behavior scale-down window (a flag).
    let h = Hpa { sync_s: 30, readiness_s: 45, ..Hpa::default() };
    let m = hpa_manifest(&target(), &h, 100.0, "web_cpu_percent").unwrap();
    assert!(m.yaml.contains("syncs every 30 s") && m.yaml.contains("ready 45 s after creation"), "{}", m.yaml);
    assert!(m.yaml.contains("--horizontal-pod-autoscaler-downscale-stabilization"), "{}", m.yaml);
    assert!(m.warnings.iter().any(|w| w.contains("synced every 30 s")), "{:?}", m.warnings);
    round_trips(&m.yaml);
    let default = hpa_manifest(&target(), &Hpa::default(), 100.0, "web_cpu_percent").unwrap();
    assert!(default.warnings.is_empty(), "a default cluster runs what was replayed: {:?}", default.warnings);
}

#[test]
fn values_the_api_rejects_are_refused_by_name() {
    let bad = |h: Hpa| hpa_manifest(&target(), &h, 100.0, "x").unwrap_err();
    let rules = |stab, period| {
        Some(Rules { stabilization_s: Some(stab), policies: Some(vec![RatePolicy::Pods { value: 1, period_s: period }]), select: None })
    };
    assert!(bad(Hpa { scale_down: rules(3601, 15), ..Hpa::default() }).contains("stabilization_s must be 0 to 3600"));
    assert!(bad(Hpa { scale_up: rules(0, 1801), ..Hpa::default() }).contains("period_s must be 1 to 1800"));
    assert!(bad(Hpa { scale_up: rules(0, 0), ..Hpa::default() }).contains("period_s"));
    let zero = Some(Rules { policies: Some(vec![RatePolicy::Pods { value: 0, period_s: 15 }]), ..Rules::default() });
    assert!(bad(Hpa { scale_up: zero, ..Hpa::default() }).contains("above 0"));
    assert!(bad(Hpa { min: 5, max: 4, ..Hpa::default() }).contains("above policy.max"));
    // A tolerance is a non-negative quantity (`validateScalingRules`): 1.5 is allowed
    // (it never scales down: a ratio of 0.1 lies within 1 ± 1.5), −0.1 is not.
    assert!(bad(Hpa { tolerance: -0.1, ..Hpa::default() }).contains("policy.tolerance"));
    let wide = Hpa { tolerance: 1.5, ..base(0.5) };
    assert!(hpa_manifest(&target(), &wide, 100.0, "x").is_ok());
    assert!(counts(&wide, &[2000.0, 200.0, 200.0, 200.0]).iter().all(|&n| n == 40));
    let e = hpa_manifest(&HpaTarget { namespace: "Not_A_Label".into(), ..target() }, &Hpa::default(), 100.0, "x").unwrap_err();
    assert!(e.contains("namespace"), "{e}");
}

/// Quantities as the API reads them (`resource.Quantity`): exact where a float allows,
/// so that the controller reads the number the replay used. Tolerance 0.0505 was written
/// "51m" (read 0.051) and 0.0004 as "0" (from the export review).
#[test]
fn quantities_keep_the_value_the_replay_used() {
    use headroom::export::code::quantity;
    assert_eq!(quantity(150.0), "150");
    assert_eq!(quantity(250.0 * 0.6), "150", "a float's noise is no fraction");
    assert_eq!(quantity(1.5), "1500m");
    assert_eq!(quantity(0.0505), "50500u");
    assert_eq!(quantity(0.0004), "400u");
    assert_eq!(quantity(0.0012), "1200u");
    assert_eq!(quantity(2.5e-9), "3n", "a Quantity keeps nano-units at the finest");
    assert_eq!(quantity(1e7 + 0.004), "10000000004m", "a fraction is no float noise");
}

/// `averageUtilization` is a whole percent: a target is rounded half away from zero as
/// written (0.575 → 58, as 0.655 → 66; in floating point 0.575 × 100 is 57.4999…), the
/// replay and the manifest use the same, and the manifest's warnings say so.
#[test]
fn a_target_between_whole_percents_is_rounded_as_written_and_said() {
    let target = HpaTarget { name: "web".into(), namespace: "default".into(), deployment: "web".into() };
    for (t, want) in [(0.575, 58), (0.655, 66), (0.145, 15), (0.6, 60)] {
        let h = Hpa { metric: HpaMetric::Resource, ..base(t) };
        assert_eq!(h.target_percent(), want, "{t}");
        let m = hpa_manifest(&target, &h, 100.0, "web_cpu").unwrap();
        assert!(m.yaml.contains(&format!("averageUtilization: {want}\n")), "{}", m.yaml);
        assert_eq!(m.warnings.iter().any(|w| w.contains("whole percent")), t != 0.6, "{:?}", m.warnings);
    }
}

/// A per-pod target under one milli-unit: written exactly ("1200u") and read as the
/// controller's `MilliValue()` rounds it, up (2m). Two pods (the minimum; 0.002 at the
/// first sync reads 1m each, ratio 0.5) then 0.006: 3m per pod against 2m, ratio 1.5, so
/// 3 pods. Read as 1m (the old rounding) the ratio would be 3 and the count 4 (the
/// scale-up limit). Targets past what 64-bit milli-units hold are refused.
#[test]
fn a_per_pod_target_under_a_milli_unit_is_read_as_the_controller_reads_it() {
    let target = HpaTarget { name: "web".into(), namespace: "default".into(), deployment: "web".into() };
    let h = Hpa { min: 2, max: 100, target: 0.6, readiness_s: 0, metric: HpaMetric::Pods, ..Hpa::default() };
    let cap = CapacityModel { per_instance: 0.002, target_utilisation: 0.8 };
    let m = hpa_manifest(&target, &h, 0.002, "queue_rate").unwrap();
    assert!(m.yaml.contains("averageValue: \"1200u\""), "{}", m.yaml);
    let steps = replay(&Policy::Hpa(h.clone()), &cap, &[0.002, 0.006], 0, 15_000, None, true).steps;
    assert_eq!(steps.iter().map(|s| s.instances as u32).collect::<Vec<_>>(), vec![2, 3]);
    let err = hpa_manifest(&target, &h, 5e-10, "tiny").unwrap_err();
    assert!(err.contains("smaller unit"), "a target under a nano-unit would be written 0, which the API refuses: {err}");
    let err = hpa_manifest(&target, &h, 1e20, "huge").unwrap_err();
    assert!(err.contains("larger unit"), "{err}");
    let bad = Hpa { metric_name: Some("req/s".into()), ..h.clone() };
    assert!(hpa_manifest(&target, &bad, 100.0, "x").unwrap_err().contains("metric_name"));
    // A resource's name may hold a '/': nvidia.com/gpu is a resource.
    let gpu = Hpa { metric: HpaMetric::Resource, metric_name: Some("nvidia.com/gpu".into()), ..h };
    assert!(hpa_manifest(&target, &gpu, 100.0, "x").is_ok());
}

/// A CPU (resource) HPA settles where the load puts it, whatever the series' unit: 20
/// pods' worth of load at a 50 % target is 40 pods, whether one pod serves 0.0012 or
/// 1200 (from the hostile re-check: the request was taken in milli-units of the series,
/// 0.0012 read as 1m, and the replay settled 48 pods at 41.7 %).
#[test]
fn a_resource_hpa_does_not_depend_on_the_series_unit() {
    for per in [0.0012, 1200.0] {
        let h = Hpa { min: 1, max: 100, target: 0.5, readiness_s: 0, metric: HpaMetric::Resource, ..Hpa::default() };
        let cap = CapacityModel { per_instance: per, target_utilisation: 0.8 };
        let demand = vec![20.0 * per; 200];
        let steps = replay(&Policy::Hpa(h), &cap, &demand, 0, 15_000, None, true).steps;
        assert_eq!(steps.last().unwrap().instances, 40.0, "per_instance {per}");
    }
}
