//! EC2 Auto Scaling policies against the AWS documentation's own rules and worked
//! examples. Expected counts are worked out by hand from the pages named in each test
//! (EC2 Auto Scaling user guide unless said otherwise), never read from a replay.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use headroom::simulate::aws::percent_adjustment;
use headroom::simulate::policy::{AdjustmentType, Predictive, PredictiveMode, StepAdjustment, StepScaling, TargetTracking};
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
