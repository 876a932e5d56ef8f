//! EC2 Auto Scaling's dynamic and predictive policies, period by period, as the AWS
//! documentation describes them. Each rule names the page and section it follows
//! (EC2 Auto Scaling user guide unless said otherwise); `tests/simulate.rs` pins them with
//! the pages' own worked examples.
//!
//! Pages cited:
//! - TT: "Target tracking scaling policies for Amazon EC2 Auto Scaling"
//!   (as-scaling-target-tracking.html)
//! - SS: "Step and simple scaling policies for Amazon EC2 Auto Scaling"
//!   (as-scaling-simple-step.html)
//! - SA: API reference, `StepAdjustment` (API_StepAdjustment.html)
//! - DYN: "Dynamic scaling for Amazon EC2 Auto Scaling" (as-scale-based-on-demand.html)
//! - CD: "Scaling cooldowns for Amazon EC2 Auto Scaling"
//! - PSO: "How predictive scaling works" (predictive-scaling-policy-overview.html)
//! - PSC: API reference, `PredictiveScalingConfiguration`
//!
//! The model of the group: demand is spread evenly over the instances that serve; an
//! instance serves `startup_s` after launch and counts in the group's metric once it is
//! past its warm-up ("Until its specified warmup time has expired, an instance is not
//! counted toward the aggregated EC2 instance metrics", TT › instance warmup). The
//! metric is utilisation of `per_instance`: on requests (`ALBRequestCountPerTarget`,
//! `RequestCountPerTarget`) the requests that come, over 100 % when the group is short;
//! on CPU what the instances can do, at most 100 % ("The percentage of allocated EC2
//! compute units that are currently in use", EC2 `CPUUtilization`), so a group three
//! times short reads 100 %, not 300 %, and scales out by at most target⁻¹ at a time.
//! Each datapoint is the average over its period of the simulation's 15-second steps.

use super::policy::{AdjustmentType, AwsMetric, Predictive, PredictiveMode, StepAdjustment, StepScaling, TargetTracking};
use crate::time::HOUR_MS;

/// One period's datapoint: the metric, and the load it implies in instances at 100 %
/// (`current × metric`, with `current` the instances past warm-up).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Datapoint {
    /// Average utilisation of the instances past warm-up (infinite with no instance at
    /// all and some demand).
    pub metric: f64,
    /// `current × metric`: the load in instances at 100 %.
    pub load: f64,
    /// `serving × metric`: the load on every instance that served, those still warming
    /// included (each carries the same share) — what the instances kept after a
    /// scale-in will carry.
    pub served: f64,
}

/// What one sub-step contributes to the period's datapoint: `None` while no instance is
/// past its warm-up (no data: the alarm is INSUFFICIENT_DATA and "Amazon EC2 Auto
/// Scaling cannot scale your group until new data points are found", TT › Considerations).
/// An empty group has no CPU to report, so on CPU it never scales out from zero; on
/// requests through a load balancer the requests still come, and the group is plainly
/// short.
pub fn sample(demand: f64, per: f64, total: u32, serving: u32, counted: u32, metric_kind: AwsMetric) -> Option<Datapoint> {
    if total == 0 {
        if metric_kind == AwsMetric::Cpu {
            return None;
        }
        return Some(if demand > 0.0 {
            Datapoint { metric: f64::INFINITY, load: demand / per, served: demand / per }
        } else {
            Datapoint { metric: 0.0, load: 0.0, served: 0.0 }
        });
    }
    if counted == 0 || serving == 0 {
        return None;
    }
    let mut metric = demand / (f64::from(serving) * per);
    if metric_kind == AwsMetric::Cpu {
        // No instance is busier than all of its CPU.
        metric = metric.min(1.0);
    }
    Some(Datapoint { metric, load: f64::from(counted) * metric, served: f64::from(serving) * metric })
}

/// How close to a threshold or bound counts as on it (utilisation as a fraction).
pub const EPS: f64 = 1e-9;

/// The alarms' memory and the period being aggregated.
///
/// An alarm changes state only when a period closes, but "an alarm invokes an Auto
/// Scaling action once each minute when the alarm remains in a new state, regardless of
/// the configured time period" (AWS re:Post, autoscaling-policy-cloudwatch-alarm;
/// CloudWatch's "Alarm actions": "Except for Auto Scaling actions, the actions happen
/// only on state transitions"): on entering ALARM the policy runs at once, then every
/// minute while the alarm stays there, on its latest datapoint. A 5-minute alarm thus
/// runs its policy five times a period; a 10-second one at its transition and then once
/// a minute, not every 10 s.
#[derive(Debug, Clone, Default)]
pub struct Alarms {
    metric_sum: f64,
    load_sum: f64,
    served_sum: f64,
    samples: u32,
    missing: u32,
    /// Consecutive datapoints breaching the high alarm (up to its threshold).
    high_run: u32,
    /// Consecutive datapoints breaching the low alarm (up to its threshold).
    low_run: u32,
    /// Datapoints to alarm: (high, low).
    needed: (u32, u32),
    /// The alarm in ALARM, if one is.
    state: Option<Side>,
    /// The datapoint of the last closed period.
    last: Option<Datapoint>,
    /// When the policy last ran while `state`'s alarm has been in ALARM.
    invoked_at: i64,
}

/// Which of the two alarms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    High,
    Low,
}

/// How often an alarm in ALARM runs its policy again.
pub const INVOKE_EVERY_MS: i64 = crate::time::MINUTE_MS;

/// What an evaluation decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Keep the capacity.
    Hold,
    /// Set the desired capacity to this.
    Set(u32),
}

impl Alarms {
    /// The alarms of a policy whose high alarm needs `high` breaching datapoints and
    /// whose low alarm `low`.
    pub fn new(high: u32, low: u32) -> Self {
        Alarms { needed: (high.max(1), low.max(1)), ..Alarms::default() }
    }

    /// Adds `times` sub-steps of `s` to the period.
    pub fn observe(&mut self, s: Option<Datapoint>, times: u32) {
        match s {
            Some(d) => {
                self.metric_sum += d.metric * f64::from(times);
                self.load_sum += d.load * f64::from(times);
                self.served_sum += d.served * f64::from(times);
                self.samples += times;
            }
            None => self.missing += times,
        }
    }

    /// The period's datapoint (`None` when no sub-step had data), without closing it.
    fn datapoint(&self) -> Option<Datapoint> {
        (self.samples > 0).then(|| {
            let n = f64::from(self.samples);
            Datapoint { metric: self.metric_sum / n, load: self.load_sum / n, served: self.served_sum / n }
        })
    }

    /// Closes the period at `now` with datapoint `dp` and the runs it leaves: true when
    /// the policy runs now (its alarm has just gone to ALARM, or has stayed there a
    /// minute since it last ran).
    fn close(&mut self, now: i64, dp: Option<Datapoint>, high_run: u32, low_run: u32) -> bool {
        let state = if high_run >= self.needed.0 {
            Some(Side::High)
        } else if low_run >= self.needed.1 {
            Some(Side::Low)
        } else {
            None
        };
        let runs = state.is_some() && (state != self.state || now - self.invoked_at >= INVOKE_EVERY_MS);
        *self = Alarms {
            high_run,
            low_run,
            needed: self.needed,
            state,
            last: dp,
            invoked_at: if runs { now } else { self.invoked_at },
            ..Alarms::default()
        };
        runs
    }

    /// Runs `decide` on the closed period: applies its alarm counts and returns its
    /// action when the policy runs now (else [`Action::Hold`]).
    pub fn evaluate(&mut self, now: i64, decide: impl Fn(Option<Datapoint>, u32, u32) -> (u32, u32, Action)) -> Action {
        let dp = self.datapoint();
        let (h, l, a) = decide(dp, self.high_run, self.low_run);
        if self.close(now, dp, h, l) { a } else { Action::Hold }
    }

    /// When the policy next runs between closes: a minute after it last ran while its
    /// alarm stays in ALARM (`i64::MAX` while no alarm is).
    pub fn next_invocation(&self) -> i64 {
        if self.state.is_some() { self.invoked_at.saturating_add(INVOKE_EVERY_MS) } else { i64::MAX }
    }

    /// What the policy decides when it runs again at `now` between closes, on the last
    /// datapoint (its alarm counts, at their thresholds, stay as they are).
    pub fn reinvoke(&mut self, now: i64, decide: impl Fn(Option<Datapoint>, u32, u32) -> (u32, u32, Action)) -> Action {
        if now < self.next_invocation() {
            return Action::Hold;
        }
        // On the minute: a tick that does not divide one lands late, not the next run.
        self.held_runs_until(now);
        decide(self.last, self.high_run, self.low_run).2
    }

    /// What the policy would decide if it ran again now, without running it.
    fn would_reinvoke(&self, decide: impl Fn(Option<Datapoint>, u32, u32) -> (u32, u32, Action)) -> Action {
        if self.state.is_none() {
            return Action::Hold;
        }
        decide(self.last, self.high_run, self.low_run).2
    }

    /// Counts the runs between closes up to `until` that kept the capacity: each minute
    /// after the last while the alarm stays in ALARM.
    fn held_runs_until(&mut self, until: i64) {
        if self.state.is_some() && until - self.invoked_at >= INVOKE_EVERY_MS {
            self.invoked_at += (until - self.invoked_at) / INVOKE_EVERY_MS * INVOKE_EVERY_MS;
        }
    }
}

/// The group as a policy sees it at an evaluation.
#[derive(Debug, Clone, Copy)]
pub struct Group {
    /// Desired capacity: every instance launched (warming ones included).
    pub desired: u32,
    /// Instances past their warm-up ("current capacity", SS › definitions).
    pub current: u32,
    /// Some instance is still warming up.
    pub warming: bool,
}

/// `ceil(load / target)`, the proportional capacity (TT › Considerations: "we round up"
/// when adding; when removing, never so many that the metric goes back above the target).
fn proportional(load: f64, target: f64) -> u32 {
    let v = (load / target - 1e-9).ceil();
    if v.is_finite() { v.clamp(0.0, f64::from(u32::MAX)) as u32 } else { u32::MAX }
}

/// Target tracking's decision on one datapoint, within `[lo, hi]`.
/// Returns the new high and low alarm counts and the action.
pub fn target_tracking(
    t: &TargetTracking,
    g: Group,
    lo: u32,
    hi: u32,
    dp: Option<Datapoint>,
    high_run: u32,
    low_run: u32,
) -> (u32, u32, Action) {
    // Missing data: the alarms are INSUFFICIENT_DATA (TT › Considerations: "Amazon EC2
    // Auto Scaling cannot scale your group until new data points are found"). A period
    // with no request through the load balancer has none: "If there are no requests
    // flowing through the load balancer … the metric is not reported" (ELB user guide,
    // CloudWatch metrics for your Application Load Balancer), so an idle group is not
    // scaled in on requests. Target tracking's alarms treat missing data as missing: "the
    // alarm does not consider missing data points when evaluating whether to change
    // state" (CloudWatch › Configuring how alarms treat missing data), so the runs of
    // datapoints either side of an idle minute go on as if it were not there (traffic
    // at 0 and 50 a minute in turn still scales in after 15 low datapoints). (A step
    // policy's own alarms read such a period as 0, as the export's TreatMissingData says.)
    // The same holds for a period with no instance to report (all still starting or
    // warming up, or none at all).
    let dp = dp.filter(|d| !(t.metric == AwsMetric::AlbRequestCount && d.metric <= 0.0));
    let Some(d) = dp else { return (high_run, low_run, Action::Hold) };
    // Scale out only above the target (TT › Considerations: "it should scale out … when
    // the specified metric is above the target value"); scale in below the low alarm.
    let high = if d.metric > t.target + EPS { high_run.saturating_add(1).min(t.high_datapoints) } else { 0 };
    let low = if d.metric < t.target * t.low_ratio - EPS { low_run.saturating_add(1).min(t.low_datapoints) } else { 0 };
    if high >= t.high_datapoints {
        // Proportional to the metric of the instances past warm-up; "the instances that
        // are still warming up are counted as part of the desired capacity for the next
        // scale-out activity" (TT › instance warmup): the new desired capacity is the
        // larger of the two, so repeated alarms never add twice.
        let want = proportional(d.load, t.target).clamp(lo, hi).max(g.desired.min(hi));
        return (high, low, if want > g.desired { Action::Set(want) } else { Action::Hold });
    }
    // "While the scale-out activity is in progress, all scale in activities initiated by
    // scaling policies are blocked until the instances finish warming up" (TT › instance
    // warmup); DisableScaleIn keeps every instance (API `TargetTrackingConfiguration`).
    if low >= t.low_datapoints && !g.warming && !t.disable_scale_in {
        // On the load of every instance that served: the datapoint may come from a
        // period in which some of these instances were still warming, and its load
        // (counted then × metric) left their share out. 12 instances at 30 % just past a
        // warm-up asked for ceil(10 × 0.3 / 0.5) = 6, putting the metric back above the
        // target; the docs remove "just one instance" rather than go above it.
        // 12 × 0.3 / 0.5 → 8. Nor does a minute's run on the same datapoint after a
        // scale-in remove again (the capacity it would count is already smaller: 20 at
        // 30 % for a 60 % target went 10, 5, 3, 2, 1 on a 5-minute datapoint).
        let want = proportional(d.served, t.target).clamp(lo, hi);
        return (high, low, if want < g.desired { Action::Set(want) } else { Action::Hold });
    }
    (high, low, Action::Hold)
}

/// A `PercentChangeInCapacity` adjustment of `current` (SS › Scaling adjustment types):
/// a non-integer result "greater than 1 [is] rounded down … between 0 and 1 [is] rounded
/// to 1 … between 0 and -1 [is] rounded to -1 … less than -1 [is] rounded up"; then at
/// least `MinAdjustmentMagnitude` instances either way.
pub fn percent_adjustment(current: u32, percent: f64, min_magnitude: Option<u32>) -> i64 {
    let raw = f64::from(current) * percent / 100.0;
    let rounded = if raw.fract() == 0.0 {
        raw
    } else if raw > 1.0 {
        raw.floor()
    } else if raw > 0.0 {
        1.0
    } else if raw > -1.0 {
        -1.0
    } else {
        raw.ceil()
    };
    let mut adj = rounded.clamp(-f64::from(u32::MAX), f64::from(u32::MAX)) as i64;
    if let Some(m) = min_magnitude
        && percent != 0.0
        && adj.abs() < i64::from(m)
    {
        adj = i64::from(m) * if percent > 0.0 { 1 } else { -1 };
    }
    adj
}

/// The step whose interval holds `diff` (metric minus threshold; SA › MetricIntervalLowerBound
/// and UpperBound): above the threshold the lower bound is inclusive and the upper
/// exclusive, below it the lower bound is exclusive and the upper inclusive.
/// Values within [`EPS`] of a bound are on it (70 % − 50 % is 0.19999999999999996 in
/// floating point, and AWS compares in the metric's own decimal units).
pub fn find_step(steps: &[StepAdjustment], diff: f64, above: bool) -> Option<&StepAdjustment> {
    steps.iter().find(|a| {
        let lower_ok = a.lower.is_none_or(|l| if above { diff >= l - EPS } else { diff > l + EPS });
        let upper_ok = a.upper.is_none_or(|u| if above { diff < u - EPS } else { diff <= u + EPS });
        lower_ok && upper_ok
    })
}

/// The capacity one step adjustment asks for, from `current`.
fn adjusted(current: u32, a: &StepAdjustment, kind: AdjustmentType, min_magnitude: Option<u32>) -> u32 {
    let new = match kind {
        AdjustmentType::ExactCapacity => a.change as i64,
        AdjustmentType::ChangeInCapacity => i64::from(current) + a.change as i64,
        AdjustmentType::PercentChangeInCapacity => i64::from(current) + percent_adjustment(current, a.change, min_magnitude),
    };
    new.clamp(0, i64::from(u32::MAX)) as u32
}

/// Step scaling's decision on one datapoint. Returns the new alarm counts and the action.
pub fn step_scaling(s: &StepScaling, g: Group, dp: Option<Datapoint>, high_run: u32, low_run: u32) -> (u32, u32, Action) {
    // No datapoint (no instance to report CPU): the alarms' default treatment of missing
    // data does not consider it, so their runs go on (an ALB alarm's period with no
    // request is read as 0 instead, as its exported TreatMissingData says).
    let Some(d) = dp else { return (high_run, low_run, Action::Hold) };
    let high = if d.metric > s.alarm_high + EPS { high_run.saturating_add(1).min(s.datapoints) } else { 0 };
    let low = if d.metric < s.alarm_low - EPS { low_run.saturating_add(1).min(s.datapoints) } else { 0 };
    // "The adjustments can continue for additional alarm breaches until the alarm state
    // returns to OK" (SS › How step scaling policies work): it runs on entering ALARM and
    // each minute while there ([`Alarms`]).
    if high >= s.datapoints {
        let Some(a) = find_step(&s.out, d.metric - s.alarm_high, true) else { return (high, low, Action::Hold) };
        // "The scaling policy calculates the new desired capacity based on the current
        // capacity" (instances past warm-up) and "the desired capacity of the group has
        // already increased to 11 instances, so the scaling policy does not increase the
        // desired capacity further" (SS › Instance warmup).
        // ExactCapacity sets the count it names, whichever way that goes ("Change the
        // current capacity of the group to the specified value", SS › Scaling adjustment
        // types), below the desired count too.
        if s.out_type == AdjustmentType::ExactCapacity {
            let want = adjusted(g.current, a, s.out_type, None).clamp(s.min, s.max);
            return (high, low, if want != g.desired { Action::Set(want) } else { Action::Hold });
        }
        let want = adjusted(g.current, a, s.out_type, s.min_adjustment_magnitude).clamp(s.min, s.max).max(g.desired.min(s.max));
        return (high, low, if want > g.desired { Action::Set(want) } else { Action::Hold });
    }
    // Scale-in is blocked while instances warm up (SS › Instance warmup).
    if low >= s.datapoints && !g.warming {
        let Some(a) = find_step(&s.scale_in, d.metric - s.alarm_low, false) else { return (high, low, Action::Hold) };
        let want = adjusted(g.desired, a, s.in_type, s.min_adjustment_magnitude).clamp(s.min, s.max);
        return (high, low, if want != g.desired { Action::Set(want) } else { Action::Hold });
    }
    (high, low, Action::Hold)
}

/// Predictive scaling's capacity floor by clock hour. "By default, Amazon EC2 Auto
/// Scaling scales your Auto Scaling group at the start of each hour based on the forecast
/// for that hour" (PSO), launching `SchedulingBufferTime` earlier ("the forecast says to
/// add capacity at 10:00 AM, and you choose to pre-launch instances by 5 minutes. In that
/// case, the instances will be launched at 9:55 AM", PSC). The forecast is hourly: the
/// hour's capacity is what its average load needs at the target. It never exceeds the
/// maximum (`HonorMaxCapacity`, PSC's default). In `ForecastOnly` mode it "does not
/// actually scale" (PSO): the floor is the minimum.
#[derive(Debug, Clone, Default)]
pub struct Floors {
    first_hour_ms: i64,
    lead_ms: i64,
    by_hour: Vec<u32>,
    min: u32,
}

impl Floors {
    /// The hourly floors of `p` over `signal` (one value per `step_ms` from `start_ms`).
    pub fn new(p: &Predictive, signal: &[f64], start_ms: i64, step_ms: i64, per: f64) -> Floors {
        let mut f = Floors {
            first_hour_ms: start_ms.div_euclid(HOUR_MS).saturating_mul(HOUR_MS),
            lead_ms: i64::from(p.lead_s) * 1000,
            by_hour: Vec::new(),
            min: p.min,
        };
        if p.mode == PredictiveMode::ForecastOnly || signal.is_empty() {
            return f;
        }
        let mut sums: Vec<(f64, u32)> = Vec::new();
        for (i, v) in signal.iter().enumerate() {
            let t = start_ms.saturating_add((i as i64).saturating_mul(step_ms));
            let h = usize::try_from(t.saturating_sub(f.first_hour_ms) / HOUR_MS).unwrap_or(0);
            if h >= sums.len() {
                sums.resize(h + 1, (0.0, 0));
            }
            if v.is_finite() {
                sums[h].0 += v.max(0.0);
                sums[h].1 += 1;
            }
        }
        let mut last = 0.0;
        f.by_hour = sums
            .iter()
            .map(|&(s, n)| {
                if n > 0 {
                    last = s / f64::from(n);
                }
                (proportional(last / per, p.target)).clamp(p.min, p.max)
            })
            .collect();
        f
    }

    /// The floor in force at `now`: the capacity of the hour that starts within the lead.
    pub fn at(&self, now: i64) -> u32 {
        if self.by_hour.is_empty() {
            return self.min;
        }
        let h = usize::try_from(now.saturating_add(self.lead_ms).saturating_sub(self.first_hour_ms) / HOUR_MS).unwrap_or(0);
        self.by_hour[h.min(self.by_hour.len() - 1)]
    }

    /// The first time after `now` at which the floor may change (an hour start less the lead).
    pub fn next_change(&self, now: i64) -> i64 {
        if self.by_hour.is_empty() {
            return i64::MAX;
        }
        let shifted = now.saturating_add(self.lead_ms).saturating_sub(self.first_hour_ms);
        let next_hour = (shifted.div_euclid(HOUR_MS) + 1).saturating_mul(HOUR_MS);
        next_hour.saturating_add(self.first_hour_ms).saturating_sub(self.lead_ms)
    }
}

/// Runs an alarm policy ahead over sub-steps whose datapoint sample is fixed (`s`, for
/// the `remaining` sub-steps from `now`, `dt` apart; a period is `q` sub-steps): adds
/// them to the period and closes every period that ends within them, as long as its
/// evaluation holds the capacity, and so do the minute runs between closes. Returns how
/// many sub-steps were counted (the one at `now` first); it stops before the first
/// sub-step whose evaluation or run would act, so the loop runs that one itself. Alarm
/// counts stop at their thresholds, so once a whole period of `s` leaves them as they
/// were, every further period does too and they are counted at once.
#[allow(clippy::too_many_arguments)]
pub fn run_ahead(
    alarms: &mut Alarms,
    next_eval: &mut i64,
    period_ms: i64,
    q: i64,
    s: Option<Datapoint>,
    now: i64,
    remaining: i64,
    dt: i64,
    decide: impl Fn(Option<Datapoint>, u32, u32) -> (u32, u32, Action),
) -> usize {
    let (dt, q) = (dt.max(1), q.max(1));
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    // The time of sub-step `n` (0 is `now`).
    let time = |n: i64| now + n * dt;
    let mut remaining = remaining;
    // A minute's run on the last closed datapoint that would act (the group changed
    // since it closed): stop before it. Runs on a datapoint closed within the span
    // decide as its close did, which held.
    if alarms.would_reinvoke(&decide) != Action::Hold {
        remaining = remaining.min((alarms.next_invocation() - now + dt - 1).div_euclid(dt));
    }
    if remaining <= 0 {
        return 0;
    }
    // The period in progress: it is evaluated at the first sub-step at or after
    // `next_eval`, which is after `now`.
    let first = ((*next_eval - now).max(1) + dt - 1) / dt;
    if first >= remaining {
        alarms.observe(s, count(remaining));
        alarms.held_runs_until(time(remaining - 1));
        return remaining as usize;
    }
    alarms.observe(s, count(first));
    alarms.held_runs_until(time(first - 1));
    let dp = alarms.datapoint();
    let (h, l, a) = decide(dp, alarms.high_run, alarms.low_run);
    if a != Action::Hold {
        return first as usize;
    }
    alarms.close(time(first), dp, h, l);
    let mut at = first;
    *next_eval = time(at) + period_ms;
    // Whole periods of `s` alone.
    loop {
        if at + q >= remaining {
            alarms.observe(s, count(remaining - at));
            alarms.held_runs_until(time(remaining - 1));
            return remaining as usize;
        }
        let (h, l, a) = decide(s, alarms.high_run, alarms.low_run);
        if a != Action::Hold {
            alarms.observe(s, count(q));
            alarms.held_runs_until(time(at + q - 1));
            return (at + q) as usize;
        }
        let whole = if (h, l) == (alarms.high_run, alarms.low_run) { (remaining - 1 - at) / q } else { 1 };
        at += whole * q;
        // The runs of the skipped periods, closes and minutes between, all held.
        alarms.held_runs_until(time(at - 1));
        alarms.close(time(at), s, h, l);
        *next_eval = time(at) + period_ms;
    }
}
