//! EC2 Auto Scaling policies against the AWS documentation's own rules and worked
//! examples. Expected counts are worked out by hand from the pages named in each test
//! (EC2 Auto Scaling user guide unless said otherwise), never read from a replay.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use headroom::simulate::aws::percent_adjustment;
use headroom::simulate::policy::{AdjustmentType, AwsMetric, Predictive, PredictiveMode, StepAdjustment, StepScaling, TargetTracking};
use headroom::simulate::{CapacityModel, Policy, replay};

/// One instance serves 100 at 100 %.
const CAP: CapacityModel = CapacityModel { per_instance: 100.0, target_utilisation: 0.8 };
/// Demand per minute; the alarms' period is a minute, so minute i's datapoint is
/// evaluated at the start of minute i + 1 and its action is the count of minute i + 1.
const MINUTE: i64 = 60_000;

fn counts(policy: &Policy, demand: &[f64]) -> Vec<u32> {
    replay(policy, &CAP, demand, 0, MINUTE, None, true).steps.iter().map(|s| s.instances.round() as u32).collect()
}

/// `value` for `n` minutes after each other, as one trace.
fn trace(parts: &[(f64, usize)]) -> Vec<f64> {
    parts.iter().flat_map(|&(v, n)| std::iter::repeat_n(v, n)).collect()
}

fn tracking() -> TargetTracking {
    TargetTracking { min: 1, max: 100, target: 0.5, warmup_s: 0, startup_s: 0, ..TargetTracking::default() }
}

#[test]
fn target_tracking_scales_out_in_proportion_rounding_up_after_three_datapoints() {
    // Target tracking › Considerations: "adding 1.5 instances … we round up and add two".
    // 10 instances at 62 % for a 50 % target: 10 × 62 / 50 = 12.4 → 13. The high alarm
    // needs 3 datapoints above the target (minutes 1, 2, 3), so minute 4 has 13.
    let demand = trace(&[(500.0, 1), (620.0, 10)]);
    let n = counts(&Policy::TargetTracking(tracking()), &demand);
    assert_eq!(n[0], 10);
    assert_eq!(&n[1..4], &[10, 10, 10], "two breaching datapoints are not enough");
    assert_eq!(n[4], 13);
    // 620 over 13 is 47.7 %: under the target, above the low alarm (45 %): no change.
    assert!(n[5..].iter().all(|&c| c == 13), "{n:?}");
    // At 80 %: 10 × 80 / 50 = 16 exactly.
    let n = counts(&Policy::TargetTracking(tracking()), &trace(&[(500.0, 1), (800.0, 6)]));
    assert_eq!(n[4], 16);
    // Never above the maximum (Dynamic scaling › How dynamic scaling policies work).
    let capped = TargetTracking { max: 12, ..tracking() };
    assert_eq!(counts(&Policy::TargetTracking(capped), &trace(&[(500.0, 1), (800.0, 6)]))[4], 12);
}

#[test]
fn target_tracking_scales_in_only_after_fifteen_low_datapoints_and_never_past_the_target() {
    // 20 instances, demand drops to 400 (20 %, under the low alarm at 0.9 × 50 % = 45 %):
    // minutes 1..=15 breach, so minute 16 has ceil(20 × 20 / 50) = 8.
    let demand = trace(&[(1000.0, 1), (400.0, 20)]);
    let n = counts(&Policy::TargetTracking(tracking()), &demand);
    assert!(n[..16].iter().all(|&c| c == 20), "{n:?}");
    assert_eq!(n[16], 8);
    assert!(n[16..].iter().all(|&c| c == 8), "400 over 8 is the target itself: {n:?}");
    // "if we determine that removing 0.5 instances increases your CPU utilization to
    // above 50 percent, we will choose not to scale-in" (Considerations): 10 at 47.5 %
    // asks for 9.5 instances, even with the low alarm at the target itself.
    let tight = TargetTracking { low_ratio: 1.0, ..tracking() };
    let n = counts(&Policy::TargetTracking(tight.clone()), &trace(&[(500.0, 1), (475.0, 30)]));
    assert!(n.iter().all(|&c| c == 10), "{n:?}");
    // Removing 1.5 instances' worth removes one (10 at 42.5 %: 8.5 → 9).
    let n = counts(&Policy::TargetTracking(tight), &trace(&[(500.0, 1), (425.0, 30)]));
    assert_eq!(n[16], 9);
    // DisableScaleIn keeps every instance.
    let kept = TargetTracking { disable_scale_in: true, ..tracking() };
    assert!(counts(&Policy::TargetTracking(kept), &demand).iter().all(|&c| c == 20));
}

#[test]
fn target_tracking_counts_warming_instances_toward_the_next_scale_out_and_blocks_scale_in() {
    // Warm-up 300 s; instances serve at once but count in the metric only after it
    // (Target tracking › Define instance warmup time, rules 1 to 4).
    let t = TargetTracking { warmup_s: 300, low_datapoints: 2, ..tracking() };
    // 10 instances; 800 from minute 1 (80 %): minute 4 launches to 16, warming until 9.
    // From minute 5 the demand is 1440: spread over the 16 serving instances that is
    // 90 %, measured on the 10 that count: 10 × 90 / 50 = 18 at minute 8 (datapoints of
    // minutes 5, 6, 7). Adding to the desired 16 instead would give 29.
    // Minute 9: the six are past warm-up: 16 count at 1440 / 1800 = 80 %, so minute 10
    // asks 16 × 80 / 50 = 25.6 → 26.
    let demand = trace(&[(500.0, 1), (800.0, 4), (1440.0, 11), (100.0, 12)]);
    let n = counts(&Policy::TargetTracking(t), &demand);
    assert_eq!(n[4], 16);
    assert_eq!(&n[5..8], &[16, 16, 16]);
    assert_eq!(n[8], 18, "warming instances count toward the desired capacity: +2, not +13");
    assert_eq!(n[9], 18, "the metric of the 10 counted still asks for 16 < 18");
    assert_eq!(n[10], 26);
    // Minute 16 the demand falls to 100. The 8 launched at minute 10 warm until minute
    // 15; minute 11's datapoint (16 counted at 1440 / 2600) asks for 18, minute 13's (the
    // 2 of minute 8 now counted, 18 at 55.4 %) for 20; minute 15's (all 26) for
    // ceil(28.8) = 29 at minute 16.
    assert!(n[11..16].iter().all(|&c| c == 26), "{n:?}");
    assert_eq!(n[16], 29);
    // Minutes 16 and 17 are low (2 datapoints), but the 3 launched at minute 16 warm
    // until minute 21: no scale-in before then. Minute 21 evaluates minute 20 (29 at
    // 100 / 2900): ceil(1.0 / 0.5) = 2.
    assert!(n[17..21].iter().all(|&c| c == 29), "scale-in blocked while warming: {n:?}");
    assert_eq!(n[21], 2);
}

/// An empty group (MinSize 0) has no instance to report CPU, so a CPU policy never sees a
/// datapoint and never scales out from zero (TT › Considerations: "cannot scale your group
/// until new data points are found"); requests through a load balancer still arrive, so a
/// request-count policy does: 500 requests per minute-step at 100 per instance are 5
/// instances' load, ceil(5 / 0.5) = 10 after three datapoints (minutes 1–3).
#[test]
fn an_empty_group_scales_out_on_requests_but_never_on_cpu() {
    let cpu = TargetTracking { min: 0, ..tracking() };
    let demand = trace(&[(0.0, 1), (500.0, 10)]);
    let n = counts(&Policy::TargetTracking(cpu.clone()), &demand);
    assert!(n.iter().all(|&c| c == 0), "no CPU datapoint from no instance: {n:?}");
    let alb = TargetTracking { metric: AwsMetric::AlbRequestCount, resource_label: Some("app/a/1/targetgroup/b/2".into()), ..cpu };
    let n = counts(&Policy::TargetTracking(alb), &demand);
    assert_eq!(&n[..4], &[0, 0, 0, 0]);
    assert_eq!(n[4], 10, "{n:?}");
    let step = StepScaling { min: 0, ..doc_step() };
    assert!(counts(&Policy::Step(step), &demand).iter().all(|&c| c == 0));
}

/// A minute with no request through the load balancer has no `RequestCountPerTarget`
/// datapoint ("If there are no requests flowing through the load balancer … the metric is
/// not reported", ELB user guide › CloudWatch metrics), so target tracking's alarms are
/// INSUFFICIENT_DATA and it "cannot scale your group until new data points are found"
/// (TT › Considerations). 20 instances at the target (1000 at 100 each, 50 %), then 30
/// idle minutes: CPU reads 0 % for 15 minutes and minute 16 goes to the minimum (1);
/// on requests the group stays at 20. When 200 requests a minute come back (minute 31),
/// the low alarm needs 15 datapoints afresh (minutes 31–45): minute 46 has
/// ceil(200 / 100 / 0.5) = 4.
#[test]
fn target_tracking_on_requests_does_not_scale_an_idle_group_in() {
    let demand = trace(&[(1000.0, 1), (0.0, 30), (200.0, 20)]);
    let cpu = TargetTracking { min: 1, ..tracking() };
    let n = counts(&Policy::TargetTracking(cpu.clone()), &demand);
    assert!(n[..16].iter().all(|&c| c == 20), "{n:?}");
    assert_eq!(n[16], 1, "CPU reads 0 %: {n:?}");
    let alb = TargetTracking { metric: AwsMetric::AlbRequestCount, resource_label: Some("app/a/1/targetgroup/b/2".into()), ..cpu };
    let n = counts(&Policy::TargetTracking(alb.clone()), &demand);
    assert!(n[..46].iter().all(|&c| c == 20), "no datapoint, no scale-in: {n:?}");
    assert_eq!(n[46], 4, "{n:?}");
    // The alarms do not consider a missing datapoint ("missing": TreatMissingData's
    // default): with 0 and 50 requests a minute in turn from minute 1, the 50s (2.5 % of
    // 20 instances, under the low alarm) at minutes 2, 4, …, 30 are 15 low datapoints in a
    // row, so minute 31 has ceil(20 × 0.025 / 0.5) = 1.
    let mut sparse = trace(&[(1000.0, 1)]);
    sparse.extend([0.0, 50.0].repeat(20));
    let n = counts(&Policy::TargetTracking(alb), &sparse);
    assert!(n[..31].iter().all(|&c| c == 20), "{n:?}");
    assert_eq!(n[31], 1, "{n:?}");
}

#[test]
fn instances_still_booting_do_not_count_in_the_metric_even_without_a_warm_up() {
    // Step and simple scaling › "Current capacity – The number of instances … that have
    // passed their warmup and cooldown periods and are running and ready to be used";
    // Default instance warmup: without one, an instance contributes usage data "as soon
    // as the instance reaches the InService state", not before. Warm-up 0, startup 120 s:
    // 10 instances at 80 % for a 50 % target go to 16 at minute 4; the 6 new ones boot
    // until minute 6 and report nothing meanwhile, so the 10 serving still measure 80 %,
    // asking for 10 × 80 / 50 = 16 again (already desired): hold. From minute 6, 800 over
    // 16 is the target itself. Counting the booting six at the serving ones' load would
    // have asked for 26 and then 42.
    let t = TargetTracking { startup_s: 120, ..tracking() };
    let n = counts(&Policy::TargetTracking(t), &trace(&[(500.0, 1), (800.0, 30)]));
    assert_eq!(&n[..4], &[10, 10, 10, 10]);
    assert!(n[4..].iter().all(|&c| c == 16), "{n:?}");
}

fn doc_step() -> StepScaling {
    // The step example of "Step and simple scaling policies" › Step adjustments: alarms
    // at 50 %, PercentChangeInCapacity; out 0–10 points: 0, 10–20: +10 %, 20 and up:
    // +30 %; in 0 to −10: 0, −10 to −20: −10 %, −20 and below: −30 %.
    let a = |lower: Option<f64>, upper: Option<f64>, change: f64| StepAdjustment { lower, upper, change };
    StepScaling {
        min: 1,
        max: 100,
        alarm_high: 0.5,
        alarm_low: 0.5,
        out: vec![a(Some(0.0), Some(0.1), 0.0), a(Some(0.1), Some(0.2), 10.0), a(Some(0.2), None, 30.0)],
        scale_in: vec![a(Some(-0.1), Some(0.0), 0.0), a(Some(-0.2), Some(-0.1), -10.0), a(None, Some(-0.2), -30.0)],
        out_type: AdjustmentType::PercentChangeInCapacity,
        in_type: AdjustmentType::PercentChangeInCapacity,
        min_adjustment_magnitude: None,
        warmup_s: 0,
        startup_s: 0,
        period_s: 60,
        datapoints: 1,
        metric: AwsMetric::Cpu,
        resource_label: None,
    }
}

#[test]
fn step_scaling_follows_the_documented_steps_bounds_and_rounding() {
    let s = doc_step();
    s.validate().unwrap();
    // 10 instances (the start is what 500 needs at the alarms' 50 %).
    // minute 1: 55 % → the 0 step; minute 2: 60 % (the lower bound is inclusive above
    // the threshold) → +10 % of 10 = 1 → 11; minute 3 at 11: 70 % → +30 % of 11 = 3.3 →
    // 3 → 14; minute 4 at 14: 40 % (the upper bound is inclusive below the threshold:
    // the −10 % step) → −1.4 → −1 → 13; minute 5 at 13: 30 % → −30 % = −3.9 → −3 → 10.
    let demand = trace(&[(500.0, 1), (550.0, 1), (600.0, 1), (770.0, 1), (560.0, 1), (390.0, 1), (500.0, 3)]);
    let n = counts(&Policy::Step(s), &demand);
    assert_eq!(n, vec![10, 10, 10, 11, 14, 13, 10, 10, 10]);
}

#[test]
fn step_scaling_warm_up_gives_one_activity_per_step_as_the_guide_works_it() {
    // "Step and simple scaling policies" › Instance warmup: "the metric gets to 60, so 1
    // instance is added … Then, the metric gets to 62 while the new instance is still
    // warming up … the scaling policy does not increase the desired capacity further. If
    // the metric gets to 70 … we add only 2 instances, for a new desired capacity of 13."
    // The new instance neither serves nor counts until its warm-up ends, so the metric
    // stays that of the 10.
    let s = StepScaling { warmup_s: 300, startup_s: 300, ..doc_step() };
    let demand = trace(&[(500.0, 1), (600.0, 1), (620.0, 1), (700.0, 1), (700.0, 1)]);
    let n = counts(&Policy::Step(s), &demand);
    assert_eq!(n, vec![10, 10, 11, 11, 13]);
}

/// EC2 `CPUUtilization` is "the percentage of allocated EC2 compute units that are
/// currently in use": no instance reads over 100 %. Steps above a 50 % alarm: +1 from 0
/// to 30 points over, +3 from 30 to 60, +10 from 60 on (ChangeInCapacity). 10 instances
/// at a demand of 1,300 (130 % of what they can do) read 100 %, 50 points over: +3 → 13
/// after the first minute's datapoint. Requests through a load balancer are not capped:
/// the same demand as RequestCountPerTarget reads 130 %, 80 points over: +10 → 20.
#[test]
fn cpu_reads_at_most_all_of_it_where_requests_read_what_comes() {
    let a = |lower: Option<f64>, upper: Option<f64>, change: f64| StepAdjustment { lower, upper, change };
    let cpu = StepScaling {
        out: vec![a(Some(0.0), Some(0.3), 1.0), a(Some(0.3), Some(0.6), 3.0), a(Some(0.6), None, 10.0)],
        scale_in: vec![],
        out_type: AdjustmentType::ChangeInCapacity,
        ..doc_step()
    };
    let demand = trace(&[(500.0, 1), (1300.0, 2)]);
    assert_eq!(counts(&Policy::Step(cpu.clone()), &demand), vec![10, 10, 13]);
    let alb = StepScaling { metric: AwsMetric::AlbRequestCount, resource_label: Some("app/a/1/targetgroup/b/2".into()), ..cpu };
    assert_eq!(counts(&Policy::Step(alb), &demand), vec![10, 10, 20]);
}

/// A step policy of +1 above 60 % and −1 below 40 % (ChangeInCapacity, one datapoint,
/// no warm-up or start-up); 10 instances, one serving 100.
fn one_at_a_time(period_s: u32) -> StepScaling {
    let a = |lower: Option<f64>, upper: Option<f64>, change: f64| StepAdjustment { lower, upper, change };
    StepScaling {
        alarm_high: 0.6,
        alarm_low: 0.4,
        out: vec![a(Some(0.0), None, 1.0)],
        scale_in: vec![a(None, Some(0.0), -1.0)],
        out_type: AdjustmentType::ChangeInCapacity,
        in_type: AdjustmentType::ChangeInCapacity,
        period_s,
        ..doc_step()
    }
}

/// CloudWatch runs an Auto Scaling action "once each minute when the alarm remains in
/// a new state, regardless of the configured time period" (AWS re:Post,
/// autoscaling-policy-cloudwatch-alarm; "Alarm actions": "Except for Auto Scaling
/// actions, the actions happen only on state transitions"). A 5-minute alarm: demand
/// 1,000 from 00:10 reads 100 % on 10; the period closing at 00:15 sends the alarm to
/// ALARM: 11. Each minute after, the policy runs again on that datapoint: 12 at 00:16 …
/// 15 at 00:19. The period closing at 00:20 held 11, 12, 13, 14, 15 a minute each:
/// (90.9 + 83.3 + 76.9 + 71.4 + 66.7) / 5 = 77.9 % > 60 %, still ALARM: 16 at 00:20 …
/// 20 at 00:24. The period closing at 00:25 held 16 … 20: (62.5 + 58.8 + 55.6 + 52.6 +
/// 50) / 5 = 55.9 %: OK, and 20 stays (50 % is not under 40 %).
#[test]
fn an_alarm_in_alarm_runs_its_policy_each_minute_whatever_its_period() {
    let n = counts(&Policy::Step(one_at_a_time(300)), &trace(&[(500.0, 10), (1000.0, 25)]));
    let mut want = vec![10; 15];
    want.extend(11..=20);
    want.extend(vec![20; 10]);
    assert_eq!(n, want);
}

/// Target tracking's minute runs on a 5-minute datapoint do not compound a scale-in:
/// 20 instances at 1,200 (60 %, the target) see 600 from 00:10 (30 %, under the low
/// alarm's 0.9 × 60 % = 54 %; one datapoint here). The period closing at 00:15 asks for
/// what the load needs at the target, ceil(6 / 0.6) = 10; the minute runs after it, on
/// the same datapoint, ask for 10 again, and the period closing at 00:20 reads 60 %.
/// (Reading the old datapoint's 30 % against the halved group went 10, 5, 3, 2, 1.)
#[test]
fn minute_runs_on_an_old_datapoint_do_not_scale_in_again() {
    let t = TargetTracking { min: 1, max: 40, target: 0.6, period_s: 300, low_datapoints: 1, ..tracking() };
    let n = counts(&Policy::TargetTracking(t), &trace(&[(1200.0, 10), (600.0, 20)]));
    let mut want = vec![20; 15];
    want.extend(vec![10; 15]);
    assert_eq!(n, want);
}

/// The same rule on a 10-second alarm: it goes to ALARM at the first close after the
/// demand doubles (00:10:10) and its policy runs then and once a minute after, not at
/// every 10-s close: 11 from 00:10:10, 12 from 00:11:10, … 15 from 00:14:10. Minute
/// 10's mean count is (10 × 10 s + 11 × 50 s) / 60 s. At 500 from 00:15, 15 read 33 %:
/// the low alarm goes to ALARM at 00:15:10 (14), then 13 at 00:16:10 and 12 at 00:17:10;
/// 12 read 41.7 %, not under 40 %, and stay.
#[test]
fn a_high_resolution_alarm_still_runs_its_policy_once_a_minute() {
    let r = replay(&Policy::Step(one_at_a_time(10)), &CAP, &trace(&[(500.0, 10), (1000.0, 5), (500.0, 5)]), 0, MINUTE, None, true);
    let n: Vec<f64> = r.steps.iter().map(|s| (s.instances * 6.0).round() / 6.0).collect();
    let mean = |before: f64, after: f64| ((before * 10.0 + after * 50.0) / 60.0 * 6.0).round() / 6.0;
    let mut want = vec![10.0; 10];
    want.extend([mean(10.0, 11.0), mean(11.0, 12.0), mean(12.0, 13.0), mean(13.0, 14.0), mean(14.0, 15.0)]);
    want.extend([mean(15.0, 14.0), mean(14.0, 13.0), mean(13.0, 12.0), 12.0, 12.0]);
    assert_eq!(n, want);
}

#[test]
fn percent_changes_round_as_documented() {
    // "Step and simple scaling policies" › Scaling adjustment types: 12.7 → 12, .67 → 1,
    // −.58 → −1, −6.67 → −6 (here as percents of 100 instances).
    assert_eq!(percent_adjustment(100, 12.7, None), 12);
    assert_eq!(percent_adjustment(100, 0.67, None), 1);
    assert_eq!(percent_adjustment(100, -0.58, None), -1);
    assert_eq!(percent_adjustment(100, -6.67, None), -6);
    assert_eq!(percent_adjustment(10, 10.0, None), 1, "10 percent of 10 is 11 in all");
    // MinAdjustmentMagnitude: "adds 25 percent and you specify a minimum increment of 2
    // instances … 25 percent of 4 is 1 instance. However … there are 2 instances added."
    assert_eq!(percent_adjustment(4, 25.0, Some(2)), 2);
}

#[test]
fn exact_and_change_in_capacity_adjust_as_named() {
    // ChangeInCapacity: "current capacity … is 3 and the adjustment is 5 … 8"; ExactCapacity:
    // "current capacity … 3 and the adjustment is 5 … we change the capacity to 5".
    let one =
        |kind, change| StepScaling { out: vec![StepAdjustment { lower: Some(0.0), upper: None, change }], out_type: kind, ..doc_step() };
    // 3 instances at 100 % (300 for 3 at 50 %, then 300 → 600).
    let demand = trace(&[(150.0, 1), (300.0, 1), (150.0, 1)]);
    assert_eq!(counts(&Policy::Step(one(AdjustmentType::ChangeInCapacity, 5.0)), &demand)[2], 8);
    assert_eq!(counts(&Policy::Step(one(AdjustmentType::ExactCapacity, 5.0)), &demand)[2], 5);
}

#[test]
fn step_policies_are_checked_as_the_api_checks_them() {
    let a = |lower: Option<f64>, upper: Option<f64>, change: f64| StepAdjustment { lower, upper, change };
    let bad = |out: Vec<StepAdjustment>| StepScaling { out, ..doc_step() }.validate().unwrap_err();
    assert!(bad(vec![a(None, None, 1.0)]).contains("both"), "both bounds open");
    assert!(bad(vec![a(Some(0.0), Some(0.1), 1.0), a(Some(0.2), None, 2.0)]).contains("gap"));
    assert!(bad(vec![a(Some(0.0), Some(0.2), 1.0), a(Some(0.1), None, 2.0)]).contains("overlap"));
    assert!(bad(vec![a(Some(0.0), None, f64::INFINITY)]).contains("whole number"));
    assert!(bad(vec![a(Some(0.0), None, 5e9)]).contains("whole number"));
    assert!(bad(vec![a(Some(0.1), Some(0.0), 1.0)]).contains("above lower"));
    assert!(bad(vec![]).contains("at least one"));
    // StepAdjustment: a positive upper bound needs a step with no upper bound, a negative
    // lower bound one with no lower bound.
    assert!(bad(vec![a(Some(0.0), Some(0.1), 1.0)]).contains("no upper bound"));
    let in_bad = StepScaling { scale_in: vec![a(Some(-0.1), Some(0.0), -1.0)], ..doc_step() };
    assert!(in_bad.validate().unwrap_err().contains("no lower bound"));
}

#[test]
fn predictive_scales_at_each_hour_less_the_buffer_on_the_hours_average() {
    // "How predictive scaling works": capacity at the start of each hour from that
    // hour's forecast; SchedulingBufferTime 300 launches it at 9:55 for 10:00 (API
    // PredictiveScalingConfiguration).
    let p = Predictive { min: 1, max: 100, target: 0.5, lead_s: 300, startup_s: 0, ..Predictive::default() };
    // Hour 0: 100 for 30 minutes then 400 (average 250: 5 instances at 50 %, in place
    // from the start); hour 1: 1000 (20), launched at minute 55; hour 2: 10.
    let demand = trace(&[(100.0, 30), (400.0, 30), (1000.0, 60), (10.0, 60)]);
    let n = counts(&Policy::Predictive(p.clone()), &demand);
    assert_eq!(n[0], 5, "the hour's average load, not its first value or its peak");
    assert_eq!(n[54], 5);
    assert_eq!(n[55], 20, "five minutes before the hour");
    // "If the forecast expects a decrease in load, it will not scale in" (PSO).
    assert_eq!(*n.last().unwrap(), 20);
    // HonorMaxCapacity (the default): never above the maximum.
    let capped = Predictive { max: 8, ..p.clone() };
    assert!(counts(&Policy::Predictive(capped), &demand).iter().all(|&c| c <= 8));
    // ForecastOnly "does not actually scale".
    let only = Predictive { mode: PredictiveMode::ForecastOnly, ..p };
    let n = counts(&Policy::Predictive(only), &demand);
    assert!(n.iter().all(|&c| c == n[0]), "{n:?}");
}

#[test]
fn predictive_launches_count_in_the_dynamic_policys_metric_once_they_serve() {
    // A policy's EstimatedInstanceWarmup "applies to instances launched due to a specific
    // target tracking or step scaling policy" (API reference); predictive scaling has no
    // default warm-up. Forecast 300 for hour 0 (6 instances), 1000 for hour 1 (20,
    // launched at minute 55); actual demand 1400 from minute 55. The 20 measure 70 % at
    // minutes 55, 56, 57 (3 datapoints above 50 %): minute 58 has ceil(20 × 70 / 50) = 28.
    // Had the 14 predictive launches warmed up for the dynamic policy's 300 s, only 6
    // would count (6 × 0.7 / 0.5 = 8.4 → 9 < 20: hold until minute 60 and beyond).
    let dynamic = TargetTracking { min: 1, max: 40, target: 0.5, warmup_s: 300, startup_s: 0, ..TargetTracking::default() };
    let p = Predictive { min: 1, max: 40, target: 0.5, lead_s: 300, startup_s: 0, dynamic: Some(dynamic), ..Predictive::default() };
    let signal = trace(&[(300.0, 60), (1000.0, 60)]);
    let demand = trace(&[(300.0, 55), (1400.0, 65)]);
    let n: Vec<u32> = replay(&Policy::Predictive(p.clone()), &CAP, &demand, 0, MINUTE, Some(&signal), true)
        .steps
        .iter()
        .map(|s| s.instances.round() as u32)
        .collect();
    assert_eq!(n[54], 6);
    assert_eq!(&n[55..58], &[20, 20, 20]);
    assert_eq!(n[58], 28, "{n:?}");
    // One group, one minimum and maximum: the predictive policy's. A dynamic policy left
    // at its own defaults (max 10) still scales to the group's 40.
    let defaults = Predictive {
        dynamic: Some(TargetTracking { min: 1, max: 10, target: 0.5, warmup_s: 300, startup_s: 0, ..TargetTracking::default() }),
        ..p
    };
    assert!(Policy::Predictive(defaults.clone()).validate().is_ok());
    let n: Vec<u32> = replay(&Policy::Predictive(defaults), &CAP, &demand, 0, MINUTE, Some(&signal), true)
        .steps
        .iter()
        .map(|s| s.instances.round() as u32)
        .collect();
    assert_eq!(n[58], 28, "{n:?}");
}

#[test]
fn target_tracking_settings_are_checked() {
    let bad = |t: TargetTracking| t.validate("policy.").unwrap_err();
    assert!(bad(TargetTracking { period_s: 45, ..tracking() }).contains("period_s"));
    assert!(bad(TargetTracking { high_datapoints: 0, ..tracking() }).contains("high_datapoints"));
    assert!(bad(TargetTracking { low_ratio: 1.5, ..tracking() }).contains("low_ratio"));
    assert!(bad(TargetTracking { min: 5, max: 2, ..tracking() }).contains("min"));
    assert!(bad(TargetTracking { warmup_s: 7200, ..tracking() }).contains("warmup_s"));
}

/// The first scale-in after a warm-up works on the capacity counted then, though its
/// datapoints came while some instances were warming (from the AWS audit): 10 instances
/// at 50 %, then 600 for three minutes (60 %) adds two (10 × 60 / 50 = 12), warming for
/// 30 minutes. Demand falls to 360: 30 % on the 12, measured on the 10 that count. Scale-in
/// waits out the warm-up, then asks 12 × 30 / 50 = 7.2 → 8 ("we remove just one
/// instance" rather than push the metric above the target); the datapoint's own load,
/// 10 × 0.3, asked for 6, which put 360 at 60 % and launched two again.
#[test]
fn the_first_scale_in_after_a_warm_up_counts_every_instance_past_it() {
    let t = TargetTracking { warmup_s: 1800, ..tracking() };
    let n = counts(&Policy::TargetTracking(t), &trace(&[(500.0, 2), (600.0, 3), (360.0, 60)]));
    assert_eq!(n[5], 12, "{n:?}");
    let after = n.iter().skip(6).copied().find(|&c| c != 12);
    assert_eq!(after, Some(8), "{n:?}");
    assert!(n.iter().skip(6).all(|&c| c >= 8), "never below what 360 needs at 50 %: {n:?}");
}

/// ExactCapacity on the high alarm sets the count it names, below the current one too
/// ("ExactCapacity — Change the current capacity of the group to the specified value",
/// Step and simple scaling policies › Scaling adjustment types; from the AWS audit):
/// 10 instances at 60 % breach a 50 % alarm by 0.1, whose step names 8.
#[test]
fn exact_capacity_sets_the_count_it_names_whichever_way() {
    let a = |lower: Option<f64>, upper: Option<f64>, change: f64| StepAdjustment { lower, upper, change };
    let s = StepScaling {
        alarm_high: 0.5,
        alarm_low: 0.3,
        out: vec![a(Some(0.0), Some(0.2), 8.0), a(Some(0.2), None, 15.0)],
        out_type: AdjustmentType::ExactCapacity,
        datapoints: 1,
        ..doc_step()
    };
    let n = counts(&Policy::Step(s), &trace(&[(400.0, 2), (600.0, 1), (320.0, 5)]));
    assert_eq!(n, vec![10, 10, 10, 8, 8, 8, 8, 8]);
}

// ---------------------------------------------------------------------------------------
// The exported CloudFormation template scales on what was replayed. Each template is read
// back by the reader below, written from the CloudFormation template reference
// (AWS::AutoScaling::ScalingPolicy, AWS::CloudWatch::Alarm, AWS::AutoScaling::ScheduledAction)
// and the metrics' units (ASGAverageCPUUtilization and CPUUtilization in percent;
// ALBRequestCountPerTarget a one-minute count per target; RequestCountPerTarget a count
// per target over the alarm's Period), never from Headroom's writer.
// ---------------------------------------------------------------------------------------

mod template {
    use super::*;
    use headroom::export::aws::{Replayed, template};
    use headroom::simulate::policy::ScheduleRule;
    use serde_json::Value;

    const LABEL: &str = "app/checkout-alb/50dc6c495c0c9188/targetgroup/checkout-api/73e2d6bc24d8a067";
    const PER: f64 = 250.0;

    fn export(policy: &Policy) -> (Value, Vec<String>) {
        let t = template(Replayed { name: "s", series: "api_requests_per_second", per_instance: PER, utilisation_series: false }, policy)
            .unwrap();
        (serde_json::from_str(&t.json).expect("valid JSON"), t.warnings)
    }

    fn resource<'a>(doc: &'a Value, id: &str, kind: &str) -> &'a Value {
        let r = &doc["Resources"][id];
        assert_eq!(r["Type"], kind, "{id}");
        assert_eq!(r["Properties"]["AutoScalingGroupName"]["Ref"], "AutoScalingGroupName", "every resource acts on the parameter's group");
        &r["Properties"]
    }

    /// A utilisation from a target tracking TargetValue.
    fn tracked(spec: &Value) -> (f64, AwsMetric, Option<String>) {
        let value = spec["TargetValue"].as_f64().unwrap();
        let m = &spec["PredefinedMetricSpecification"];
        match m["PredefinedMetricType"].as_str().unwrap() {
            "ASGAverageCPUUtilization" => (value / 100.0, AwsMetric::Cpu, None),
            "ALBRequestCountPerTarget" => (value / 60.0 / PER, AwsMetric::AlbRequestCount, m["ResourceLabel"].as_str().map(String::from)),
            other => panic!("unexpected metric {other}"),
        }
    }

    fn read_tracking(p: &Value, like: &TargetTracking) -> TargetTracking {
        assert_eq!(p["PolicyType"], "TargetTrackingScaling");
        let c = &p["TargetTrackingConfiguration"];
        let (target, metric, resource_label) = tracked(c);
        TargetTracking {
            target,
            warmup_s: p["EstimatedInstanceWarmup"].as_u64().unwrap() as u32,
            disable_scale_in: c["DisableScaleIn"].as_bool().unwrap(),
            metric,
            resource_label,
            // What the template cannot carry: the group's size, start-up and AWS's own alarms.
            ..like.clone()
        }
    }

    /// The step policy a template's two alarms and their policies describe.
    fn read_step(doc: &Value, like: &StepScaling) -> StepScaling {
        // What the template carries is read from it; the rest (the group's size, start-up)
        // is the original's.
        let mut read = StepScaling { min_adjustment_magnitude: None, out: Vec::new(), scale_in: Vec::new(), ..like.clone() };
        for (alarm_id, policy_id) in [("HighAlarm", "ScaleOutPolicy"), ("LowAlarm", "ScaleInPolicy")] {
            let alarm = &doc["Resources"][alarm_id]["Properties"];
            assert_eq!(doc["Resources"][alarm_id]["Type"], "AWS::CloudWatch::Alarm");
            assert_eq!(alarm["AlarmActions"][0]["Ref"], policy_id);
            let period = alarm["Period"].as_u64().unwrap() as u32;
            let scale = match (alarm["Namespace"].as_str().unwrap(), alarm["MetricName"].as_str().unwrap()) {
                ("AWS/EC2", "CPUUtilization") => {
                    assert_eq!(alarm["Statistic"], "Average");
                    assert_eq!(alarm["Dimensions"][0]["Name"], "AutoScalingGroupName");
                    read.metric = AwsMetric::Cpu;
                    100.0
                }
                ("AWS/ApplicationELB", "RequestCountPerTarget") => {
                    assert_eq!(alarm["Statistic"], "Sum", "RequestCountPerTarget's one valid statistic");
                    assert_eq!(alarm["Dimensions"][0]["Name"], "TargetGroup");
                    assert_eq!(
                        alarm["Dimensions"][0]["Value"], "targetgroup/checkout-api/73e2d6bc24d8a067",
                        "the label's last three parts"
                    );
                    read.metric = AwsMetric::AlbRequestCount;
                    PER * f64::from(period)
                }
                other => panic!("unexpected alarm metric {other:?}"),
            };
            read.period_s = period;
            let n = alarm["EvaluationPeriods"].as_u64().unwrap() as u32;
            assert_eq!(alarm["DatapointsToAlarm"].as_u64().unwrap() as u32, n, "N of N datapoints");
            read.datapoints = n;
            let threshold = alarm["Threshold"].as_f64().unwrap() / scale;
            let p = resource(doc, policy_id, "AWS::AutoScaling::ScalingPolicy");
            assert_eq!(p["PolicyType"], "StepScaling");
            let kind = match p["AdjustmentType"].as_str().unwrap() {
                "ChangeInCapacity" => AdjustmentType::ChangeInCapacity,
                "ExactCapacity" => AdjustmentType::ExactCapacity,
                "PercentChangeInCapacity" => AdjustmentType::PercentChangeInCapacity,
                other => panic!("{other}"),
            };
            let steps: Vec<StepAdjustment> = p["StepAdjustments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| StepAdjustment {
                    lower: a["MetricIntervalLowerBound"].as_f64().map(|v| v / scale),
                    upper: a["MetricIntervalUpperBound"].as_f64().map(|v| v / scale),
                    change: a["ScalingAdjustment"].as_i64().unwrap() as f64,
                })
                .collect();
            read.warmup_s = p["EstimatedInstanceWarmup"].as_u64().unwrap() as u32;
            if let Some(m) = p["MinAdjustmentMagnitude"].as_u64() {
                read.min_adjustment_magnitude = Some(m as u32);
            }
            match alarm["ComparisonOperator"].as_str().unwrap() {
                "GreaterThanThreshold" => (read.alarm_high, read.out, read.out_type) = (threshold, steps, kind),
                "LessThanThreshold" => (read.alarm_low, read.scale_in, read.in_type) = (threshold, steps, kind),
                other => panic!("{other}"),
            }
        }
        // The alarms name the target group only (checked above), not the load balancer.
        read.resource_label = (read.metric == AwsMetric::AlbRequestCount).then(|| LABEL.to_string());
        read
    }

    /// The same counts minute by minute on demand that crosses every step both ways.
    fn same_replay(a: &Policy, b: &Policy) {
        let cap = CapacityModel { per_instance: PER, target_utilisation: 0.7 };
        let demand: Vec<f64> =
            (0..600).map(|i| 1500.0 + 1400.0 * ((i as f64) / 40.0).sin() + if i % 97 < 10 { 1200.0 } else { 0.0 }).collect();
        let run = |p: &Policy| -> Vec<f64> { replay(p, &cap, &demand, 0, MINUTE, None, true).steps.iter().map(|s| s.instances).collect() };
        let (ra, rb) = (run(a), run(b));
        assert!(ra.iter().zip(&ra[1..]).any(|(x, y)| x != y), "the trace makes the policy scale");
        assert_eq!(ra, rb);
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(1.0)
    }

    #[test]
    fn target_tracking_is_written_on_the_metric_and_target_replayed() {
        // CPU: TargetValue is the utilisation in percent (60 % → 60).
        let cpu = TargetTracking { min: 2, max: 30, target: 0.6, warmup_s: 120, startup_s: 30, ..TargetTracking::default() };
        let (doc, warnings) = export(&Policy::TargetTracking(cpu.clone()));
        let p = resource(&doc, "TargetTrackingPolicy", "AWS::AutoScaling::ScalingPolicy");
        assert_eq!(p["TargetTrackingConfiguration"]["TargetValue"].as_f64(), Some(60.0));
        let read = read_tracking(p, &cpu);
        assert_eq!(read, cpu);
        same_replay(&Policy::TargetTracking(cpu.clone()), &Policy::TargetTracking(read));
        assert!(warnings.iter().any(|w| w.contains("MinSize 2 and MaxSize 30")), "{warnings:?}");
        assert!(warnings.iter().any(|w| w.contains("average CPU")), "requests exported as CPU are said: {warnings:?}");
        // Requests: 250 req/s per instance at 60 % is 150 req/s, 9,000 requests per
        // target per minute, the unit of ALBRequestCountPerTarget.
        let alb = TargetTracking {
            disable_scale_in: true,
            metric: AwsMetric::AlbRequestCount,
            resource_label: Some(LABEL.into()),
            ..cpu.clone()
        };
        let (doc, _) = export(&Policy::TargetTracking(alb.clone()));
        let p = resource(&doc, "TargetTrackingPolicy", "AWS::AutoScaling::ScalingPolicy");
        assert_eq!(p["TargetTrackingConfiguration"]["TargetValue"].as_f64(), Some(9000.0));
        assert_eq!(p["TargetTrackingConfiguration"]["DisableScaleIn"], true);
        let read = read_tracking(p, &alb);
        assert!(close(read.target, 0.6));
        same_replay(&Policy::TargetTracking(alb), &Policy::TargetTracking(read));
        // What a policy cannot set is warned about where it differs from AWS.
        let odd = TargetTracking { period_s: 300, low_datapoints: 10, ..cpu };
        let (_, w) = export(&Policy::TargetTracking(odd));
        assert!(w.iter().any(|w| w.contains("every 300 s")) && w.iter().any(|w| w.contains("a policy cannot set them")), "{w:?}");
    }

    #[test]
    fn step_scaling_is_written_as_two_alarms_and_their_policies() {
        // The user guide's step example (alarms at 50 %, percent changes) with a magnitude,
        // 3 of 3 datapoints, and the high alarm moved to 70 %.
        let s = StepScaling {
            alarm_high: 0.7,
            alarm_low: 0.3,
            min: 2,
            max: 60,
            datapoints: 3,
            min_adjustment_magnitude: Some(2),
            ..doc_step()
        };
        let (doc, _) = export(&Policy::Step(s.clone()));
        // By hand: thresholds 70 and 30 percent, bounds in points: 0–10, 10–20, 20–.
        assert_eq!(doc["Resources"]["HighAlarm"]["Properties"]["Threshold"].as_f64(), Some(70.0));
        assert_eq!(doc["Resources"]["LowAlarm"]["Properties"]["Threshold"].as_f64(), Some(30.0));
        let out = &doc["Resources"]["ScaleOutPolicy"]["Properties"]["StepAdjustments"];
        assert_eq!(out[1]["MetricIntervalLowerBound"].as_f64(), Some(10.0));
        assert_eq!(out[1]["MetricIntervalUpperBound"].as_f64(), Some(20.0));
        assert_eq!(out[2]["ScalingAdjustment"], 30);
        assert!(out[2]["MetricIntervalUpperBound"].is_null(), "open above");
        let read = read_step(&doc, &s);
        assert_eq!(read, s);
        same_replay(&Policy::Step(s), &Policy::Step(read));
        // On requests per target: the alarm counts requests per target per 300-s period,
        // 0.7 × 250 × 300 = 52,500; a step bound of 0.1 is 7,500 requests.
        let a = |lower: Option<f64>, upper: Option<f64>, change: f64| StepAdjustment { lower, upper, change };
        let alb = StepScaling {
            alarm_high: 0.7,
            alarm_low: 0.4,
            min: 2,
            max: 60,
            out: vec![a(Some(0.0), Some(0.1), 1.0), a(Some(0.1), None, 3.0)],
            scale_in: vec![a(None, Some(0.0), 4.0)],
            out_type: AdjustmentType::ChangeInCapacity,
            in_type: AdjustmentType::ExactCapacity,
            metric: AwsMetric::AlbRequestCount,
            resource_label: Some(LABEL.into()),
            period_s: 300,
            ..doc_step()
        };
        let (doc, _) = export(&Policy::Step(alb.clone()));
        assert_eq!(doc["Resources"]["HighAlarm"]["Properties"]["Threshold"].as_f64(), Some(52500.0));
        assert_eq!(doc["Resources"]["HighAlarm"]["Properties"]["Period"], 300);
        assert_eq!(
            doc["Resources"]["ScaleOutPolicy"]["Properties"]["StepAdjustments"][0]["MetricIntervalUpperBound"].as_f64(),
            Some(7500.0)
        );
        assert!(doc["Resources"]["ScaleOutPolicy"]["Properties"]["MinAdjustmentMagnitude"].is_null(), "only with percent changes");
        let read = read_step(&doc, &alb);
        assert!(close(read.alarm_high, 0.7) && close(read.alarm_low, 0.4));
        same_replay(&Policy::Step(alb), &Policy::Step(read));
    }

    #[test]
    fn predictive_is_written_with_the_target_tracking_it_was_replayed_with() {
        let p = Predictive {
            min: 3,
            max: 40,
            target: 0.6,
            lead_s: 600,
            band: Some(80.0),
            metric: AwsMetric::AlbRequestCount,
            resource_label: Some(LABEL.into()),
            dynamic: Some(TargetTracking { target: 0.5, warmup_s: 120, ..TargetTracking::default() }),
            ..Predictive::default()
        };
        let (doc, warnings) = export(&Policy::Predictive(p.clone()));
        let c = &resource(&doc, "PredictivePolicy", "AWS::AutoScaling::ScalingPolicy")["PredictiveScalingConfiguration"];
        assert_eq!(c["Mode"], "ForecastAndScale");
        assert_eq!(c["SchedulingBufferTime"], 600);
        assert_eq!(c["MaxCapacityBreachBehavior"], "HonorMaxCapacity");
        // ALBRequestCount's TargetValue: requests per instance per minute, 0.6 × 250 × 60.
        let pair = &c["MetricSpecifications"][0]["PredefinedMetricPairSpecification"];
        assert_eq!(pair["PredefinedMetricType"], "ALBRequestCount");
        assert_eq!(pair["ResourceLabel"], LABEL);
        assert_eq!(c["MetricSpecifications"][0]["TargetValue"].as_f64(), Some(9000.0));
        // The dynamic policy tracks requests per target too: 0.5 × 250 × 60 = 7,500.
        let tt = resource(&doc, "TargetTrackingPolicy", "AWS::AutoScaling::ScalingPolicy");
        let dynamic = p.dynamic.clone().unwrap();
        let read_dynamic = read_tracking(tt, &dynamic);
        assert_eq!(tt["TargetTrackingConfiguration"]["TargetValue"].as_f64(), Some(7500.0));
        assert!(close(read_dynamic.target, 0.5) && read_dynamic.warmup_s == 120);
        let read = Predictive {
            target: c["MetricSpecifications"][0]["TargetValue"].as_f64().unwrap() / 60.0 / PER,
            lead_s: c["SchedulingBufferTime"].as_u64().unwrap() as u32,
            dynamic: Some(TargetTracking { metric: dynamic.metric, resource_label: None, ..read_dynamic }),
            ..p.clone()
        };
        // Replayed over the same forecast signal, the read-back policy gives the same counts.
        let cap = CapacityModel { per_instance: PER, target_utilisation: 0.7 };
        let demand: Vec<f64> = (0..900).map(|i| 2000.0 + 1500.0 * ((i as f64) / 90.0).sin()).collect();
        let run = |q: &Predictive| replay(&Policy::Predictive(q.clone()), &cap, &demand, 0, MINUTE, Some(&demand), true).steps;
        let counts = |q: &Predictive| run(q).iter().map(|s| s.instances).collect::<Vec<f64>>();
        assert_eq!(counts(&p), counts(&read));
        assert!(warnings.iter().any(|w| w.contains("80 % band")), "{warnings:?}");
        assert!(!warnings.iter().any(|w| w.contains("not used")), "the dynamic policy names no metric of its own: {warnings:?}");
        // ForecastOnly, on CPU: percent, no resource label.
        let only = Predictive { mode: PredictiveMode::ForecastOnly, ..Predictive::default() };
        let (doc, _) = export(&Policy::Predictive(only));
        let c = &doc["Resources"]["PredictivePolicy"]["Properties"]["PredictiveScalingConfiguration"];
        assert_eq!(c["Mode"], "ForecastOnly");
        assert_eq!(c["MetricSpecifications"][0]["PredefinedMetricPairSpecification"]["PredefinedMetricType"], "ASGCPUUtilization");
        assert_eq!(c["MetricSpecifications"][0]["TargetValue"].as_f64(), Some(70.0));
        assert!(c["MetricSpecifications"][0]["PredefinedMetricPairSpecification"]["ResourceLabel"].is_null());
        assert!(doc["Resources"]["TargetTrackingPolicy"].is_null());
    }

    /// The hour of the week a cron `Recurrence` ("0 H * * D,D…", days from Sunday = 0)
    /// fires at, as (Monday-based day, hour) pairs.
    fn fires(recurrence: &str) -> Vec<(u8, u8)> {
        let f: Vec<&str> = recurrence.split(' ').collect();
        assert_eq!((f.len(), f[0], f[2], f[3]), (5, "0", "*", "*"), "{recurrence}");
        let hour: u8 = f[1].parse().unwrap();
        f[4].split(',').map(|d| ((d.parse::<u8>().unwrap() + 6) % 7, hour)).collect()
    }

    #[test]
    fn a_schedule_becomes_actions_that_give_the_replayed_count_every_hour() {
        // Friday 21:00 to Saturday 09:00: 3; every day 08–18: 10; otherwise 4. The first
        // matching rule wins, so Saturday 08:00 is still 3 and 09:00 is 10.
        let rules = vec![
            ScheduleRule { days: vec![4], from_hour: 21, to_hour: 9, count: 3 },
            ScheduleRule { days: vec![], from_hour: 8, to_hour: 18, count: 10 },
        ];
        let policy = Policy::Schedule { default: 4, rules, time_zone: None, startup_s: 60 };
        let (doc, warnings) = export(&policy);
        let mut actions: Vec<((u8, u8), u64)> = Vec::new();
        for (_, r) in doc["Resources"].as_object().unwrap() {
            assert_eq!(r["Type"], "AWS::AutoScaling::ScheduledAction");
            let p = &r["Properties"];
            assert_eq!(p["TimeZone"], "Etc/UTC", "the rules are read in UTC");
            for at in fires(p["Recurrence"].as_str().unwrap()) {
                actions.push((at, p["DesiredCapacity"].as_u64().unwrap()));
            }
        }
        // By hand: 8:00 → 10 on six days (Saturday's 8:00 is in the overnight rule),
        // 18:00 → 4 on all seven, Friday 21:00 → 3, Saturday 9:00 → 10: 15 firings.
        assert_eq!(actions.len(), 15, "{actions:?}");
        // Two weeks hour by hour from Monday 2026-01-05 00:00 UTC: the count the actions
        // leave (the last one fired, looking back round the week) is the replay's.
        let monday = 1_767_571_200_000_i64;
        let hour = 3_600_000_i64;
        let cap = CapacityModel { per_instance: PER, target_utilisation: 0.7 };
        let steps = replay(&policy, &cap, &vec![100.0; 2 * 168], monday, hour, None, true).steps;
        for (i, s) in steps.iter().enumerate() {
            let at = |k: usize| ((((i + 336 - k) % 168) / 24) as u8, ((i + 336 - k) % 24) as u8);
            let left = (0..168).find_map(|k| actions.iter().find(|(a, _)| *a == at(k)).map(|(_, n)| *n)).unwrap();
            assert_eq!(s.instances, left as f64, "hour {i} of the fortnight");
        }
        assert!(warnings.iter().any(|w| w.contains("MinSize at or below 3") && w.contains("MaxSize at or above 10")), "{warnings:?}");
    }

    /// A scheduled scale-out launches at the hour and serves `startup_s` later (AWS sets
    /// DesiredCapacity; the instances boot): weekdays from 09:00, 10 instances, 2 else,
    /// start-up 120 s, minute by minute from Monday 2026-01-05 08:58 UTC.
    #[test]
    fn scheduled_instances_serve_after_their_start_up() {
        let rule = ScheduleRule { days: vec![0, 1, 2, 3, 4], from_hour: 9, to_hour: 17, count: 10 };
        let policy = Policy::Schedule { default: 2, rules: vec![rule], time_zone: None, startup_s: 120 };
        let start = 1_767_571_200_000_i64 + (8 * 60 + 58) * MINUTE;
        let cap = CapacityModel { per_instance: PER, target_utilisation: 0.7 };
        let steps = replay(&policy, &cap, &[100.0; 6], start, MINUTE, None, true).steps;
        let launched: Vec<f64> = steps.iter().map(|s| s.instances).collect();
        let ready: Vec<f64> = steps.iter().map(|s| s.ready).collect();
        assert_eq!(launched, [2.0, 2.0, 10.0, 10.0, 10.0, 10.0]);
        assert_eq!(ready, [2.0, 2.0, 2.0, 2.0, 10.0, 10.0], "09:00 and 09:01 still boot");
        let (doc, _) = export(&policy);
        let notes = doc["Metadata"]["Headroom"]["ReplayedWith"].as_array().unwrap();
        assert!(notes.iter().any(|n| n.as_str().unwrap().contains("120 s after launch")), "{notes:?}");
    }

    /// A rule that starts and ends inside one data step still runs: 09–17 at 10, else 2,
    /// over three days of daily values is 8 h × 10 + 16 h × 2 = 112 instance-hours a day;
    /// in Kolkata (UTC+5:30) a 14–15 rule over 2-hour values runs 08:30–09:30 UTC, inside
    /// the 08:00–10:00 step: 1 h × 10 + 23 h × 2 = 56 a day.
    #[test]
    fn a_rule_inside_one_data_step_still_runs() {
        let cap = CapacityModel { per_instance: PER, target_utilisation: 0.7 };
        let day = 24 * 60 * MINUTE;
        let rule = ScheduleRule { days: vec![], from_hour: 9, to_hour: 17, count: 10 };
        let daily = Policy::Schedule { default: 2, rules: vec![rule], time_zone: None, startup_s: 0 };
        let hours = replay(&daily, &cap, &[100.0; 3], 1_767_571_200_000, day, None, false).totals.instance_hours;
        assert!((hours - 3.0 * 112.0).abs() < 1e-6, "{hours}");
        let rule = ScheduleRule { days: vec![], from_hour: 14, to_hour: 15, count: 10 };
        let kolkata = Policy::Schedule { default: 2, rules: vec![rule], time_zone: Some("Asia/Kolkata".into()), startup_s: 0 };
        let hours = replay(&kolkata, &cap, &[100.0; 12], 1_767_571_200_000, 120 * MINUTE, None, false).totals.instance_hours;
        assert!((hours - 56.0).abs() < 1e-6, "{hours}");
    }

    /// The exported TimeZone is the canonical IANA name AWS asks for; names of no place
    /// are refused; an old-style name is said.
    #[test]
    fn a_schedule_zone_is_written_by_its_canonical_name() {
        let rule = ScheduleRule { days: vec![], from_hour: 9, to_hour: 17, count: 10 };
        let zoned = |z: &str| Policy::Schedule { default: 2, rules: vec![rule.clone()], time_zone: Some(z.into()), startup_s: 60 };
        let (doc, _) = export(&zoned("europe/berlin"));
        assert!(doc["Resources"].as_object().unwrap().values().all(|r| r["Properties"]["TimeZone"] == "Europe/Berlin"));
        let notes = doc["Metadata"]["Headroom"]["ReplayedWith"].as_array().unwrap();
        assert!(notes.iter().any(|n| n.as_str().unwrap().contains("daylight saving")), "{notes:?}");
        let (doc, _) = export(&zoned("UTC"));
        assert!(doc["Resources"].as_object().unwrap().values().all(|r| r["Properties"]["TimeZone"] == "Etc/UTC"));
        for bad in ["localtime", "Factory", "posixrules"] {
            let e = zoned(bad).validate().unwrap_err();
            assert!(e.contains("policy.time_zone"), "{bad}: {e}");
        }
        let (_, w) = export(&zoned("EST5EDT"));
        assert!(w.iter().any(|w| w.contains("old-style")), "{w:?}");
    }

    #[test]
    fn a_schedule_in_a_time_zone_is_written_in_it_and_holds_across_daylight_saving() {
        // Weekdays 09–17 and Saturdays 10–14 in Berlin; the fortnight from Monday
        // 2026-03-23 spans the change to summer time (Sunday 2026-03-29, 01:00 UTC), so
        // 09:00 is 08:00 UTC in the first week and 07:00 UTC in the second.
        let rules = vec![
            ScheduleRule { days: vec![0, 1, 2, 3, 4], from_hour: 9, to_hour: 17, count: 10 },
            ScheduleRule { days: vec![5], from_hour: 10, to_hour: 14, count: 5 },
        ];
        let policy = Policy::Schedule { default: 2, rules, time_zone: Some("Europe/Berlin".into()), startup_s: 60 };
        let (doc, _) = export(&policy);
        let mut actions: Vec<((u8, u8), u64)> = Vec::new();
        for (_, r) in doc["Resources"].as_object().unwrap() {
            let p = &r["Properties"];
            assert_eq!(p["TimeZone"], "Europe/Berlin");
            for at in fires(p["Recurrence"].as_str().unwrap()) {
                actions.push((at, p["DesiredCapacity"].as_u64().unwrap()));
            }
        }
        // By hand: 09:00 → 10 and 17:00 → 2 on five days, Saturday 10:00 → 5 and 14:00 → 2.
        assert_eq!(actions.len(), 12, "{actions:?}");
        let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        let local = |ms: i64| {
            let z = jiff::Timestamp::from_millisecond(ms).unwrap().to_zoned_datetime(zone.clone());
            (z.weekday().to_monday_zero_offset() as u8, z.hour() as u8)
        };
        let monday = 1_774_224_000_000_i64; // 2026-03-23 00:00 UTC
        let hour = 3_600_000_i64;
        assert_eq!(local(monday + 8 * hour), (0, 9), "09:00 in Berlin is 08:00 UTC in winter");
        let cap = CapacityModel { per_instance: PER, target_utilisation: 0.7 };
        let steps = replay(&policy, &cap, &vec![100.0; 2 * 168], monday, hour, None, true).steps;
        for (i, s) in steps.iter().enumerate() {
            let t = monday + i as i64 * hour;
            // The last action fired at or before t, by the zone's own clock.
            let left = (0..168).find_map(|k| actions.iter().find(|(a, _)| *a == local(t - k * hour)).map(|(_, n)| *n)).unwrap();
            assert_eq!(s.instances, left as f64, "hour {i}: {:?} in Berlin", local(t));
        }
        // The second Monday opens at 07:00 UTC, an hour earlier than the first.
        assert_eq!(steps[168 + 7].instances, 10.0);
        assert_eq!(steps[7].instances, 2.0);
    }

    /// Edges found by a hostile run against the CloudFormation reference: each is written
    /// so that AWS does what was replayed, or is said.
    #[test]
    fn edges_aws_would_trip_on_are_written_or_said() {
        // A load balancer named like a target group: RequestCountPerTarget's TargetGroup
        // dimension is the label's last three parts.
        let label = "app/orders-targetgroup/50dc6c495c0c9188/targetgroup/orders/73e2d6bc24d8a067";
        let s = StepScaling { metric: AwsMetric::AlbRequestCount, resource_label: Some(label.into()), ..doc_step() };
        let (doc, _) = export(&Policy::Step(s));
        let high = &doc["Resources"]["HighAlarm"]["Properties"];
        assert_eq!(high["Dimensions"][0]["Value"], "targetgroup/orders/73e2d6bc24d8a067");
        // No requests, no datapoint ("If there are no requests … not reported"): a period
        // of none is below the low alarm and not above the high one, as the replay reads 0.
        assert_eq!(high["TreatMissingData"], "notBreaching");
        assert_eq!(doc["Resources"]["LowAlarm"]["Properties"]["TreatMissingData"], "breaching");
        // One count all week from a rule over every hour (not the default): one daily
        // action of it, so the template holds a resource as CloudFormation requires.
        let rule = ScheduleRule { days: vec![], from_hour: 0, to_hour: 24, count: 8 };
        let (doc, w) = export(&Policy::Schedule { default: 2, rules: vec![rule], time_zone: None, startup_s: 60 });
        let resources = doc["Resources"].as_object().unwrap();
        assert_eq!(resources.len(), 1);
        let only = &resources.values().next().unwrap()["Properties"];
        assert_eq!((only["DesiredCapacity"].as_u64(), only["Recurrence"].as_str()), (Some(8), Some("0 0 * * 0,1,2,3,4,5,6")));
        assert!(w.iter().any(|w| w.contains("at or below 8")), "{w:?}");
        // The Description is at most 1,024 bytes, cut at a character's edge.
        let long = "容".repeat(1000);
        let t = template(
            Replayed { name: &long, series: "x", per_instance: PER, utilisation_series: true },
            &Policy::TargetTracking(tracking()),
        )
        .unwrap();
        let d: Value = serde_json::from_str(&t.json).unwrap();
        let text = d["Description"].as_str().unwrap();
        assert!(text.len() <= 1024 && text.len() > 1000 && text.ends_with('容'), "{}", text.len());
        // MinSize 0 on CPU: an empty group never scales out again, as replayed; said.
        let (_, w) = export(&Policy::TargetTracking(TargetTracking { min: 0, ..tracking() }));
        assert!(w.iter().any(|w| w.contains("MinSize 0") && w.contains("no CPU")), "{w:?}");
        // Numbers a template cannot hold, or bounds its digits cannot tell apart, are refused by name.
        let r = |p: &Policy, per: f64| {
            template(Replayed { name: "s", series: "x", per_instance: per, utilisation_series: false }, p).unwrap_err()
        };
        let alb = StepScaling { metric: AwsMetric::AlbRequestCount, resource_label: Some(LABEL.into()), ..doc_step() };
        assert!(r(&Policy::Step(alb), 1e307).contains("capacity.per_instance (1e307)"));
        let a = |lower: Option<f64>, upper: Option<f64>, change: f64| StepAdjustment { lower, upper, change };
        let close = StepScaling {
            out: vec![a(Some(0.0), Some(0.1), 1.0), a(Some(0.1), Some(0.1000000000001), 2.0), a(Some(0.1000000000001), None, 3.0)],
            ..doc_step()
        };
        assert!(r(&Policy::Step(close), PER).contains("policy.out[1]"));
        // CloudFormation's alarm schema takes no 20-s period (PutMetricAlarm does).
        assert!(r(&Policy::Step(StepScaling { period_s: 20, ..doc_step() }), PER).contains("policy.period_s 20"));
    }

    /// The README's figures for the sample's step policy: a high alarm at 0.7 × 250 req/s ×
    /// 60 s = 10,500 requests per target per period, its first step's upper bound 0.1 ×
    /// 250 × 60 = 1,500 over it.
    #[test]
    fn the_sample_step_policy_is_written_as_the_readme_says() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/sample-data/scenarios.toml")).unwrap();
        let file = headroom::simulate::ScenarioFile::parse(&text, "scenarios.toml").unwrap();
        let s = file.scenario.iter().find(|s| s.name == "step scaling, gradual").expect("the sample's step scenario");
        let replayed = Replayed { name: &s.name, series: &s.series, per_instance: s.capacity.per_instance, utilisation_series: false };
        let doc: Value = serde_json::from_str(&template(replayed, &s.policy).unwrap().json).unwrap();
        assert_eq!(doc["Resources"]["HighAlarm"]["Properties"]["Threshold"].as_f64(), Some(10_500.0));
        assert_eq!(doc["Resources"]["HighAlarm"]["Properties"]["MetricName"], "RequestCountPerTarget");
        assert_eq!(
            doc["Resources"]["ScaleOutPolicy"]["Properties"]["StepAdjustments"][0]["MetricIntervalUpperBound"].as_f64(),
            Some(1_500.0)
        );
    }

    #[test]
    fn what_aws_cannot_hold_is_refused_by_name() {
        let r = |p: &Policy| template(Replayed { name: "s", series: "x", per_instance: PER, utilisation_series: true }, p).unwrap_err();
        assert!(r(&Policy::Static { count: 3 }).contains("no AWS Auto Scaling counterpart"));
        let unlabelled = TargetTracking { metric: AwsMetric::AlbRequestCount, ..TargetTracking::default() };
        assert!(r(&Policy::TargetTracking(unlabelled)).contains("resource_label"));
        let on_cpu = Predictive { resource_label: Some(LABEL.into()), ..Predictive::default() };
        assert!(r(&Policy::Predictive(on_cpu)).contains("alb_request_count"));
        let bad_label = StepScaling { metric: AwsMetric::AlbRequestCount, resource_label: Some("my-group".into()), ..doc_step() };
        assert!(r(&Policy::Step(bad_label)).contains("targetgroup"));
        // A different count at every hour of the week: 168 changes, past the 125 actions
        // a group may hold.
        let rules: Vec<ScheduleRule> = (0..7u8)
            .flat_map(|d| {
                (0..24u8).map(move |h| ScheduleRule {
                    days: vec![d],
                    from_hour: h,
                    to_hour: h + 1,
                    count: u32::from(d) * 24 + u32::from(h) + 1,
                })
            })
            .collect();
        assert!(r(&Policy::Schedule { default: 0, rules, time_zone: None, startup_s: 60 }).contains("at most 125 scheduled actions"));
        // A CPU series exported on CPU needs no word on how it was read.
        let t = template(
            Replayed { name: "s", series: "cpu", per_instance: 100.0, utilisation_series: true },
            &Policy::TargetTracking(TargetTracking::default()),
        )
        .unwrap();
        assert!(!t.warnings.iter().any(|w| w.contains("average CPU")), "{:?}", t.warnings);
    }
}
