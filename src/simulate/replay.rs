//! The replay loop: a policy driven over a demand series on a clock that ticks on the
//! policy's own period (the HPA's sync period, an alarm's period; 15 s or finer), with
//! launch delays, and what it costs in instances and risk.
//!
//! Demand is piecewise constant per demand step. Instances are billed from launch and
//! serve load once ready. Each step records served and unserved demand and utilisation;
//! the totals are instance-hours, minutes over the target utilisation, minutes over
//! capacity and scaling events.

use super::aws::{self, Action, Alarms, Datapoint, Floors, Group};
use super::hpa::{self, Controller, Pods};
use super::policy::{AwsMetric, Policy, TargetTracking};
use crate::time::{Clock, DAY_MS, HOUR_MS, MINUTE_MS};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// What one instance serves, and the utilisation the service is run at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityModel {
    /// Demand one instance serves at 100 % (e.g. requests/s per pod).
    pub per_instance: f64,
    /// Utilisation counted as "over target" above this (0 to 1).
    pub target_utilisation: f64,
}

/// The simulation clock.
pub const SIM_STEP_MS: i64 = 15_000;

/// One demand step of a replay.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// UTC ms of the demand step.
    pub t_ms: i64,
    /// Demand.
    pub demand: f64,
    /// Instances launched (time average over the step).
    pub instances: f64,
    /// Instances ready and serving (time average).
    pub ready: f64,
    /// Demand served (time average).
    pub served: f64,
    /// Demand not served (time average).
    pub unserved: f64,
    /// Demand over ready capacity (time average; infinite with no capacity).
    pub utilisation: f64,
}

/// Totals of a replay.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Totals {
    /// Instance-hours billed (from launch).
    pub instance_hours: f64,
    /// Minutes with utilisation above the target.
    pub minutes_over_target: f64,
    /// Minutes with demand above ready capacity.
    pub minutes_over_capacity: f64,
    /// Changes of the instance count.
    pub scaling_events: u32,
    /// Most instances at once.
    pub peak_instances: u32,
    /// Demand-seconds not served (demand units × seconds).
    pub unserved: f64,
    /// Simulated minutes.
    pub minutes: f64,
}

/// A replay's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replay {
    /// Per demand step (empty when not recorded).
    pub steps: Vec<StepRecord>,
    /// Totals.
    pub totals: Totals,
}

/// Instances launched at the same time that are not yet past some delay.
#[derive(Default)]
struct Waiting {
    /// (past the delay at ms, count), oldest first.
    queue: VecDeque<(i64, u32)>,
    count: u32,
}

impl Waiting {
    fn advance(&mut self, now: i64) {
        while let Some(&(at, n)) = self.queue.front() {
            if at > now {
                break;
            }
            self.queue.pop_front();
            self.count -= n;
        }
    }

    fn push(&mut self, at: i64, n: u32) {
        self.queue.push_back((at, n));
        self.count += n;
    }

    /// Removes up to `n`, newest first; returns how many it removed.
    fn remove_newest(&mut self, mut n: u32) -> u32 {
        let mut removed = 0;
        while n > 0 {
            let Some(back) = self.queue.back_mut() else { break };
            let take = back.1.min(n);
            back.1 -= take;
            self.count -= take;
            n -= take;
            removed += take;
            if back.1 == 0 {
                self.queue.pop_back();
            }
        }
        removed
    }
}

/// Launched and ready instances, and those whose metric does not count yet (an AWS
/// instance warming up, a pod whose CPU sample the HPA still sets apart).
struct Fleet {
    total: u32,
    /// Launched, not yet serving.
    pending: Waiting,
    /// Launched, not yet counted in the metric (AWS warm-up; HPA: see `hpa::sample_delay_ms`).
    warming: Waiting,
    events: u32,
}

impl Fleet {
    fn new(count: u32) -> Self {
        Fleet { total: count, pending: Waiting::default(), warming: Waiting::default(), events: 0 }
    }

    fn ready(&self) -> u32 {
        self.total - self.pending.count
    }

    /// Instances past their warm-up.
    fn counted(&self) -> u32 {
        self.total - self.warming.count
    }

    fn advance(&mut self, now: i64) {
        self.pending.advance(now);
        self.warming.advance(now);
    }

    /// Sets the launched count; new instances serve after `delay_ms` and count in the
    /// metric after `warm_ms` (never before they serve); removals take the newest first.
    fn set(&mut self, target: u32, now: i64, delay_ms: i64, warm_ms: i64) {
        if target == self.total {
            return;
        }
        self.events += 1;
        if target > self.total {
            let n = target - self.total;
            if delay_ms > 0 {
                self.pending.push(now.saturating_add(delay_ms), n);
            }
            // Counted once past the later of the two: an instance still booting reports
            // no metric even with no warm-up set ("Current capacity – the number of
            // instances … that have passed their warmup … and are running and ready to
            // be used", SS › How step scaling works).
            if warm_ms.max(delay_ms) > 0 {
                self.warming.push(now.saturating_add(warm_ms.max(delay_ms)), n);
            }
            self.total = target;
            return;
        }
        let remove = self.total - target;
        self.pending.remove_newest(remove);
        self.warming.remove_newest(remove);
        self.total = target;
    }

    /// When the next launched instance starts to serve or finishes its warm-up.
    fn next_change(&self) -> i64 {
        let first = |w: &Waiting| w.queue.front().map_or(i64::MAX, |&(at, _)| at);
        first(&self.pending).min(first(&self.warming))
    }

    /// The pods as the HPA controller sees them at a sync.
    fn pods(&self) -> Pods {
        Pods { current: self.total, ready: self.ready(), counted: self.counted() }
    }

    fn group(&self) -> Group {
        Group { desired: self.total, current: self.counted(), warming: self.warming.count > 0 }
    }

    fn sample(&self, demand: f64, per: f64, metric: AwsMetric) -> Option<Datapoint> {
        aws::sample(demand, per, self.total, self.ready(), self.counted(), metric)
    }
}

/// The replay's clock tick for `policy` over demand stepped every `step_ms`: the largest
/// tick that divides the demand step, the policy's own period (the HPA's sync period, an
/// alarm's period) and [`SIM_STEP_MS`], so that every sync and every alarm period falls
/// exactly on a tick whatever the data's step (10-s data with 15-s syncs ticks every 5 s
/// and syncs at 0, 15, 30 s, not every 20 s). A step with no such tick of a second or
/// more (an odd step like 7.3 s) keeps the old grid: the step split into about 15-s ticks.
fn clock_ms(policy: &Policy, step_ms: i64) -> i64 {
    let step_ms = step_ms.max(1);
    let period_s = match policy {
        Policy::Hpa(h) => h.sync_s.max(1),
        Policy::TargetTracking(t) => t.period_s.max(1),
        Policy::Step(s) => s.period_s.max(1),
        Policy::Predictive(p) => p.dynamic.as_ref().map_or(60, |t| t.period_s.max(1)),
        Policy::Static { .. } | Policy::Schedule { .. } => 60,
    };
    // Calendar months have no whole tick in common with a sync period (the mean month
    // is 2,629,746 s): their ticks are the period's, as if the step were whole.
    let whole = if crate::time::months_per_step(step_ms).is_some() { 0 } else { step_ms };
    let tick = crate::time::gcd(crate::time::gcd(whole, i64::from(period_s) * 1000), SIM_STEP_MS);
    if tick >= 1000 {
        return tick;
    }
    let sub = (step_ms / SIM_STEP_MS).max(1);
    step_ms / sub
}

/// Instances needed for `demand` at utilisation `target`.
fn needed(demand: f64, per_instance: f64, target: f64) -> u32 {
    if demand <= 0.0 { 0 } else { (demand / (per_instance * target) - 1e-9).ceil() as u32 }
}

/// Replays `policy` over `demand` (one value per `step_ms` from `start_ms`).
/// `signal` is what a predictive policy plans on (defaults to the demand itself).
/// With `record`, per-step records are kept.
pub fn replay(
    policy: &Policy,
    capacity: &CapacityModel,
    demand: &[f64],
    start_ms: i64,
    step_ms: i64,
    signal: Option<&[f64]>,
    record: bool,
) -> Replay {
    replay_counted_from(policy, capacity, demand, start_ms, step_ms, signal, record, 0)
}

/// As [`replay`], its totals counted from demand step `counted_from` on: the steps
/// before it only bring the policy to where they leave it (its fleet, the HPA's
/// remembered recommendations and scale events, the alarms' datapoints and cooldowns),
/// as a running system meets the future. Per-step records, when kept, cover every step.
#[allow(clippy::too_many_arguments)]
pub fn replay_counted_from(
    policy: &Policy,
    capacity: &CapacityModel,
    demand: &[f64],
    start_ms: i64,
    step_ms: i64,
    signal: Option<&[f64]>,
    record: bool,
    counted_from: usize,
) -> Replay {
    replay_impl(policy, capacity, demand, start_ms, step_ms, signal, record, true, counted_from)
}

/// The loop; `fast` counts the sub-steps of a policy at a fixed point at once.
#[allow(clippy::too_many_arguments)]
fn replay_impl(
    policy: &Policy,
    capacity: &CapacityModel,
    demand: &[f64],
    start_ms: i64,
    step_ms: i64,
    signal: Option<&[f64]>,
    record: bool,
    fast: bool,
    counted_from: usize,
) -> Replay {
    let per = capacity.per_instance.max(1e-12);
    let dt_ms = clock_ms(policy, step_ms);
    let sub = (step_ms / dt_ms).max(1) as usize;
    let dt_h = dt_ms as f64 / HOUR_MS as f64;
    let dt_min = dt_ms as f64 / 60_000.0;
    let first = demand.iter().copied().find(|d| d.is_finite()).unwrap_or(0.0);
    let (lo, hi) = bounds(policy);
    let clock = schedule_clock(policy);
    let initial = match policy {
        Policy::Static { count } => *count,
        Policy::Schedule { .. } => scheduled(policy, start_ms, &clock),
        Policy::Hpa(h) => needed(first, per, h.target),
        Policy::TargetTracking(t) => needed(first, per, t.target),
        Policy::Step(s) => needed(first, per, (s.alarm_high + s.alarm_low) / 2.0),
        Policy::Predictive(p) => needed(first, per, p.target),
    }
    .clamp(lo, hi);
    let mut fleet = Fleet::new(initial);
    let mut hpa = match policy {
        Policy::Hpa(h) => Controller::new(h, per),
        _ => Controller::default(),
    };
    let mut next_eval = start_ms;
    let signal = signal.unwrap_or(demand);
    let floors = match policy {
        Policy::Predictive(p) => Floors::new(p, signal, start_ms, step_ms, per),
        _ => Floors::default(),
    };
    // The alarm policy is fixed for a replay but for predictive scaling's floor, which
    // moves hour by hour: only then is it worked out again at each sub-step.
    let fixed_alarm = alarm_policy(policy, &floors, start_ms);
    let floor_moves = matches!(policy, Policy::Predictive(p) if p.dynamic.is_some());
    let mut alarms = fixed_alarm.map_or_else(Alarms::default, |a| {
        let (high, low) = a.datapoints();
        Alarms::new(high, low)
    });
    // Sub-steps per alarm period.
    let alarm_q = fixed_alarm.map_or(1, |a| (a.period_ms + dt_ms - 1) / dt_ms.max(1));
    let mut totals = Totals::default();
    let mut steps = if record { Vec::with_capacity(demand.len()) } else { Vec::new() };
    // Scaling events before the counted steps.
    let mut events_before = 0;
    for (i, &d) in demand.iter().enumerate() {
        let d = if d.is_finite() { d.max(0.0) } else { 0.0 };
        if i == counted_from {
            events_before = fleet.events;
        }
        let counted = i >= counted_from;
        let (mut inst_sum, mut ready_sum, mut served_sum, mut unserved_sum, mut util_sum) = (0.0, 0.0, 0.0, 0.0, 0.0);
        // The slot's time once, not at each of its sub-steps (a calendar month's is a
        // civil-date sum, and a month holds 43,830 one-minute ticks).
        let slot = crate::time::slot_time(start_ms, step_ms, i as i64);
        let last = slot + (sub as i64 - 1) * dt_ms;
        let mut k = 0;
        while k < sub {
            let now = slot + k as i64 * dt_ms;
            fleet.advance(now);
            // The AWS policies: predictive's hourly floor first, then the alarm policy.
            if let Policy::Predictive(p) = policy {
                let floor = floors.at(now);
                if floor > fleet.total {
                    // No warm-up beyond start-up: a policy's EstimatedInstanceWarmup
                    // "applies to instances launched due to a specific target tracking or
                    // step scaling policy" (API reference), and a predictive policy has no
                    // default warm-up of its own (Default instance warmup).
                    fleet.set(floor, now, i64::from(p.startup_s) * 1000, 0);
                }
            }
            let alarm = if floor_moves { alarm_policy(policy, &floors, now) } else { fixed_alarm };
            if now >= next_eval {
                match policy {
                    Policy::Static { .. } => {}
                    Policy::Schedule { startup_s, .. } => fleet.set(scheduled(policy, now, &clock), now, i64::from(*startup_s) * 1000, 0),
                    Policy::Hpa(h) => {
                        let target = hpa.sync(h, now, fleet.pods(), d);
                        // `warming` holds the pods whose samples do not count yet.
                        fleet.set(target, now, i64::from(h.readiness_s) * 1000, hpa::sample_delay_ms(h));
                        next_eval = now + i64::from(h.sync_s.max(1)) * 1000;
                    }
                    Policy::TargetTracking(_) | Policy::Step(_) | Policy::Predictive(_) => {
                        if let Some(a) = &alarm {
                            let g = fleet.group();
                            if let Action::Set(n) = alarms.evaluate(now, |dp, h, l| a.decide(g, dp, h, l)) {
                                fleet.set(n, now, a.startup_ms, a.warm_ms);
                            }
                            next_eval = now + a.period_ms;
                        } else {
                            next_eval = i64::MAX;
                        }
                    }
                }
            } else if let Some(a) = &alarm
                && now >= alarms.next_invocation()
            {
                // An alarm in ALARM runs its policy again each minute between closes.
                let g = fleet.group();
                if let Action::Set(n) = alarms.reinvoke(now, |dp, h, l| a.decide(g, dp, h, l)) {
                    fleet.set(n, now, a.startup_ms, a.warm_ms);
                }
            }
            // With demand constant for the rest of this demand step, a policy at a fixed
            // point makes every remaining sub-step the same: count them all at once.
            let mut observed = false;
            let repeat = if !fast || k + 1 >= sub {
                1
            } else if let Some(a) = &alarm {
                // An alarm policy: close every period ahead whose evaluation holds, while
                // the fleet stays as it is (up to the next launch to serve or finish its
                // warm-up) and so does predictive's floor.
                // Sub-steps strictly before `change`.
                let before = |change: i64| if change == i64::MAX { i64::MAX } else { (change - now + dt_ms - 1) / dt_ms };
                let mut remaining = ((sub - k) as i64).min(before(fleet.next_change()));
                if matches!(policy, Policy::Predictive(_)) {
                    remaining = remaining.min(before(floors.next_change(now)));
                }
                let g = fleet.group();
                let n = aws::run_ahead(
                    &mut alarms,
                    &mut next_eval,
                    a.period_ms,
                    alarm_q,
                    fleet.sample(d, per, a.metric),
                    now,
                    remaining,
                    dt_ms,
                    |dp, h, l| a.decide(g, dp, h, l),
                );
                observed = n > 0;
                n.max(1)
            } else if fleet.warming.count > 0 {
                // A launch not yet serving, or (HPA) a pod whose sample does not count yet.
                1
            } else if let Policy::Hpa(h) = policy {
                // With every pod ready and counted, a fixed demand proposes the same at
                // each sync; the controller says when such syncs keep the count.
                match hpa.steady_proposal(h, fleet.pods(), d, last) {
                    Some(p) => {
                        // The skipped syncs would all recommend `p` and keep the count.
                        let sync = i64::from(h.sync_s.max(1)) * 1000;
                        let last_sync = if next_eval <= last { next_eval + (last - next_eval) / sync * sync } else { next_eval - sync };
                        if last_sync > now {
                            hpa.note_steady(last_sync, p);
                        }
                        next_eval = next_eval.max(last_sync + sync);
                        sub - k
                    }
                    None => 1,
                }
            } else if steady(policy, &fleet, now, last, &floors, &clock) {
                sub - k
            } else {
                1
            };
            if alarm.is_some() && !observed {
                alarms.observe(alarm.as_ref().and_then(|a| fleet.sample(d, per, a.metric)), repeat as u32);
            }
            let times = repeat as f64;
            let ready = fleet.ready();
            let cap = f64::from(ready) * per;
            let served = d.min(cap);
            let util = if cap > 0.0 {
                d / cap
            } else if d > 0.0 {
                f64::INFINITY
            } else {
                0.0
            };
            if counted {
                totals.instance_hours += f64::from(fleet.total) * dt_h * times;
                if util > capacity.target_utilisation {
                    totals.minutes_over_target += dt_min * times;
                }
                if d > cap {
                    totals.minutes_over_capacity += dt_min * times;
                    totals.unserved += (d - cap) * dt_ms as f64 / 1000.0 * times;
                }
                totals.peak_instances = totals.peak_instances.max(fleet.total);
            }
            if record {
                inst_sum += f64::from(fleet.total) * times;
                ready_sum += f64::from(ready) * times;
                served_sum += served * times;
                unserved_sum += (d - served) * times;
                util_sum += util * times;
            }
            k += repeat;
        }
        if record {
            let n = sub as f64;
            steps.push(StepRecord {
                t_ms: slot,
                demand: d,
                instances: inst_sum / n,
                ready: ready_sum / n,
                served: served_sum / n,
                unserved: unserved_sum / n,
                utilisation: util_sum / n,
            });
        }
    }
    totals.scaling_events = if counted_from < demand.len() { fleet.events - events_before } else { 0 };
    totals.minutes = demand.len().saturating_sub(counted_from) as f64 * step_ms as f64 / 60_000.0;
    Replay { steps, totals }
}

/// True when, from `now` to `last`, a static, schedule or lone predictive policy would
/// change nothing: its decisions from now to `last` all keep the current count (and time-based
/// rules cannot change that, since they only ever block a change). Alarm policies are
/// run ahead period by period instead ([`aws::run_ahead`]).
#[allow(clippy::too_many_arguments)]
fn steady(policy: &Policy, fleet: &Fleet, now: i64, last: i64, floors: &Floors, clock: &Clock) -> bool {
    let total = fleet.total;
    match policy {
        Policy::Static { .. } => true,
        // The count changes only where a local hour starts, and every zone's offset and
        // change of offset falls on a quarter hour: each quarter hour of the span is
        // checked (its ends alone missed an 09–17 rule inside a day-long step).
        Policy::Schedule { .. } => {
            let quarter = 15 * MINUTE_MS;
            let mut t = (now.div_euclid(quarter) + 1) * quarter;
            let mut same = scheduled(policy, now, clock) == total;
            while same && t <= last {
                same = scheduled(policy, t, clock) == total;
                t += quarter;
            }
            same
        }
        // Predictive alone: no floor from now to `last` above the count.
        Policy::Predictive(_) => {
            let mut t = now;
            while t <= last {
                if floors.at(t) > total {
                    return false;
                }
                t = floors.next_change(t);
            }
            true
        }
        Policy::Hpa(_) | Policy::TargetTracking(_) | Policy::Step(_) => false,
    }
}

/// An alarm policy as it stands at one moment: target tracking (alone or under a
/// predictive floor) or step scaling.
#[derive(Clone, Copy)]
struct AlarmPolicy<'a> {
    kind: AlarmKind<'a>,
    /// What the alarms watch: CPU reports nothing from an empty group.
    metric: AwsMetric,
    period_ms: i64,
    startup_ms: i64,
    warm_ms: i64,
}

#[derive(Clone, Copy)]
enum AlarmKind<'a> {
    Tracking { t: &'a TargetTracking, lo: u32, hi: u32 },
    Step(&'a super::policy::StepScaling),
}

impl AlarmPolicy<'_> {
    /// Datapoints to alarm: (high, low).
    fn datapoints(&self) -> (u32, u32) {
        match self.kind {
            AlarmKind::Tracking { t, .. } => (t.high_datapoints, t.low_datapoints),
            AlarmKind::Step(s) => (s.datapoints, s.datapoints),
        }
    }

    fn decide(&self, g: Group, dp: Option<Datapoint>, high_run: u32, low_run: u32) -> (u32, u32, Action) {
        match self.kind {
            AlarmKind::Tracking { t, lo, hi } => aws::target_tracking(t, g, lo, hi, dp, high_run, low_run),
            AlarmKind::Step(s) => aws::step_scaling(s, g, dp, high_run, low_run),
        }
    }
}

/// The alarm policy of `policy` at `now`, if it has one. Under predictive scaling the
/// dynamic policy's minimum is the hour's floor: "each policy determines the desired
/// capacity independently, and the desired capacity is set to the maximum of those"
/// (predictive-scaling-policy-overview.html, Considerations).
fn alarm_policy<'a>(policy: &'a Policy, floors: &Floors, now: i64) -> Option<AlarmPolicy<'a>> {
    let ms = |s: u32| i64::from(s) * 1000;
    match policy {
        Policy::TargetTracking(t) => Some(AlarmPolicy {
            kind: AlarmKind::Tracking { t, lo: t.min, hi: t.max },
            metric: t.metric,
            period_ms: ms(t.period_s.max(1)),
            startup_ms: ms(t.startup_s),
            warm_ms: ms(t.warmup_s),
        }),
        Policy::Step(s) => Some(AlarmPolicy {
            kind: AlarmKind::Step(s),
            metric: s.metric,
            period_ms: ms(s.period_s.max(1)),
            startup_ms: ms(s.startup_s),
            warm_ms: ms(s.warmup_s),
        }),
        Policy::Predictive(p) => p.dynamic.as_ref().map(|t| {
            let floor = floors.at(now);
            AlarmPolicy {
                // One Auto Scaling group: the dynamic policy scales within the group's
                // (the predictive policy's) min and max, never below the hour's floor.
                kind: AlarmKind::Tracking { t, lo: p.min.max(floor).min(p.max.max(floor)), hi: p.max.max(floor) },
                // The group's one metric, the predictive policy's (as exported).
                metric: p.metric,
                period_ms: ms(t.period_s.max(1)),
                startup_ms: ms(p.startup_s),
                warm_ms: ms(t.warmup_s),
            }
        }),
        _ => None,
    }
}

fn bounds(policy: &Policy) -> (u32, u32) {
    match policy {
        Policy::Static { count } => (*count, *count),
        Policy::Schedule { .. } => (0, u32::MAX),
        Policy::Hpa(h) => (h.min, h.max),
        Policy::TargetTracking(t) => (t.min, t.max),
        Policy::Step(s) => (s.min, s.max),
        Policy::Predictive(p) => (p.min, p.max),
    }
}

/// The clock a schedule's rules are read on: its time zone, UTC when it names none (or,
/// not validated, a name that is no zone).
fn schedule_clock(policy: &Policy) -> Clock {
    match policy {
        Policy::Schedule { time_zone: Some(name), .. } => {
            super::policy::schedule_zone(name).map(|(z, _)| Clock::Zone(z)).unwrap_or_default()
        }
        _ => Clock::Utc,
    }
}

/// The count a schedule gives at `now`: the first rule covering its local hour and day.
fn scheduled(policy: &Policy, now: i64, clock: &Clock) -> u32 {
    let Policy::Schedule { default, rules, .. } = policy else { return 0 };
    let local = now + clock.offset_ms(now);
    let hour = (local.rem_euclid(DAY_MS) / HOUR_MS) as u8;
    let dow = crate::time::weekday(local);
    super::policy::ScheduleRule::count_at(rules, *default, dow, hour)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::policy::{Hpa, Predictive, StepScaling, TargetTracking};

    #[test]
    fn an_overnight_rule_runs_from_its_day_into_the_next_morning() {
        // Friday (4) 21:00 to Saturday 09:00 at 3; otherwise 10. 1970-01-02 was a Friday.
        let rule = crate::simulate::policy::ScheduleRule { days: vec![4], from_hour: 21, to_hour: 9, count: 3 };
        let policy = Policy::Schedule { default: 10, rules: vec![rule], time_zone: None, startup_s: 60 };
        let at = |day: i64, hour: i64| scheduled(&policy, day * DAY_MS + hour * HOUR_MS, &Clock::Utc);
        assert_eq!([at(1, 20), at(1, 21), at(1, 23), at(2, 0), at(2, 8), at(2, 9)], [10, 3, 3, 3, 3, 10]);
        // Thursday night is not Friday's, nor is Saturday night.
        assert_eq!([at(0, 22), at(1, 3), at(2, 22), at(3, 3)], [10, 10, 10, 10]);
        assert!(policy.validate().is_ok());
        let empty = Policy::Schedule {
            default: 1,
            rules: vec![crate::simulate::policy::ScheduleRule { days: vec![], from_hour: 5, to_hour: 5, count: 3 }],
            time_zone: None,
            startup_s: 60,
        };
        assert!(empty.validate().unwrap_err().contains("covers no hour"));
    }

    #[test]
    fn a_schedule_in_a_time_zone_follows_its_daylight_saving_changes() {
        // Weekdays 09:00–17:00 in Berlin: 10, else 2. Central European Time is UTC+1 until
        // the last Sunday of March (2026-03-29) at 01:00 UTC, then UTC+2 (EU summer time).
        let rule = crate::simulate::policy::ScheduleRule { days: vec![0, 1, 2, 3, 4], from_hour: 9, to_hour: 17, count: 10 };
        let zoned = |name: &str| Policy::Schedule { default: 2, rules: vec![rule.clone()], time_zone: Some(name.into()), startup_s: 60 };
        let policy = zoned("Europe/Berlin");
        assert!(policy.validate().is_ok());
        let clock = schedule_clock(&policy);
        // 2026-03-27 (a Friday) 00:00 UTC is day 20,539 since 1970-01-01.
        let friday = 20_539 * DAY_MS;
        let at = |ms: i64| scheduled(&policy, ms, &clock);
        // Friday: 09:00 CET is 08:00 UTC; 17:00 CET is 16:00 UTC.
        assert_eq!(
            [at(friday + 8 * HOUR_MS - 60_000), at(friday + 8 * HOUR_MS), at(friday + 16 * HOUR_MS - 60_000), at(friday + 16 * HOUR_MS)],
            [2, 10, 10, 2]
        );
        // Monday 2026-03-30: 09:00 CEST is 07:00 UTC.
        let monday = friday + 3 * DAY_MS;
        assert_eq!(
            [at(monday + 7 * HOUR_MS - 60_000), at(monday + 7 * HOUR_MS), at(monday + 15 * HOUR_MS - 60_000), at(monday + 15 * HOUR_MS)],
            [2, 10, 10, 2]
        );
        // Half-hour offsets: India is UTC+5:30 all year, so 09:00 there is 03:30 UTC.
        let kolkata = zoned("Asia/Kolkata");
        let k = schedule_clock(&kolkata);
        assert_eq!(
            [scheduled(&kolkata, friday + 3 * HOUR_MS + 29 * 60_000, &k), scheduled(&kolkata, friday + 3 * HOUR_MS + 30 * 60_000, &k)],
            [2, 10]
        );
        assert!(zoned("Mars/Olympus").validate().unwrap_err().contains("policy.time_zone"));
    }

    #[test]
    fn counting_steady_sub_steps_at_once_changes_nothing() {
        let demand: Vec<f64> = (0..2000).map(|i| 1500.0 + 1200.0 * ((i as f64) / 60.0).sin() + ((i * 7919) % 400) as f64).collect();
        let cap = CapacityModel { per_instance: 100.0, target_utilisation: 0.7 };
        let policies = [
            Policy::Static { count: 20 },
            Policy::Schedule {
                default: 5,
                rules: vec![crate::simulate::policy::ScheduleRule { days: vec![], from_hour: 8, to_hour: 18, count: 30 }],
                time_zone: None,
                startup_s: 60,
            },
            Policy::Schedule {
                default: 5,
                rules: vec![crate::simulate::policy::ScheduleRule { days: vec![], from_hour: 8, to_hour: 18, count: 30 }],
                time_zone: Some("Asia/Kolkata".into()),
                startup_s: 300,
            },
            Policy::Hpa(Hpa { min: 2, max: 80, target: 0.6, ..Hpa::default() }),
            Policy::Hpa(Hpa { min: 2, max: 80, target: 0.6, sync_s: 30, ..Hpa::default() }),
            Policy::Hpa(Hpa {
                min: 2,
                max: 80,
                target: 0.6,
                metric: crate::simulate::policy::HpaMetric::Pods,
                scale_down: Some(crate::simulate::policy::Rules { stabilization_s: Some(120), ..Default::default() }),
                ..Hpa::default()
            }),
            Policy::TargetTracking(TargetTracking { min: 2, max: 80, target: 0.6, ..TargetTracking::default() }),
            Policy::Step(StepScaling::preset("aggressive", 2, 80).unwrap()),
            Policy::Predictive(Predictive { min: 2, max: 80, target: 0.6, ..Predictive::default() }),
            Policy::Step(StepScaling::preset("gradual", 2, 80).unwrap()),
            Policy::Step(StepScaling::preset("conservative", 2, 80).unwrap()),
            // Alarms whose policy runs each minute in ALARM: between 5-minute closes, and
            // once a minute among 10-s closes.
            Policy::Step(StepScaling { period_s: 300, warmup_s: 0, startup_s: 0, ..StepScaling::preset("gradual", 2, 80).unwrap() }),
            Policy::Step(StepScaling { period_s: 300, warmup_s: 120, ..StepScaling::preset("aggressive", 2, 80).unwrap() }),
            Policy::Step(StepScaling { period_s: 10, warmup_s: 0, startup_s: 30, ..StepScaling::preset("gradual", 2, 80).unwrap() }),
            Policy::TargetTracking(TargetTracking {
                min: 2,
                max: 80,
                target: 0.6,
                period_s: 10,
                warmup_s: 30,
                startup_s: 30,
                ..TargetTracking::default()
            }),
            Policy::TargetTracking(TargetTracking { min: 2, max: 80, target: 0.6, warmup_s: 0, startup_s: 0, ..TargetTracking::default() }),
            Policy::Predictive(Predictive {
                min: 2,
                max: 80,
                target: 0.6,
                dynamic: Some(TargetTracking { min: 2, max: 80, target: 0.6, ..TargetTracking::default() }),
                ..Predictive::default()
            }),
        ];
        // 300-s data, and alarms over 37.3-s data whose ticks (18.65 s) do not divide a
        // minute: their minute runs land on the first tick after each minute.
        let odd = [
            Policy::Step(StepScaling {
                period_s: 120,
                datapoints: 2,
                warmup_s: 0,
                startup_s: 300,
                ..StepScaling::preset("gradual", 2, 80).unwrap()
            }),
            Policy::Step(StepScaling { period_s: 300, warmup_s: 0, startup_s: 0, ..StepScaling::preset("aggressive", 2, 80).unwrap() }),
            Policy::TargetTracking(TargetTracking {
                min: 2,
                max: 80,
                target: 0.6,
                period_s: 300,
                low_datapoints: 1,
                ..TargetTracking::default()
            }),
        ];
        let runs = policies.iter().map(|p| (p, 300_000)).chain(odd.iter().map(|p| (p, 37_300)));
        for (p, step) in runs {
            let slow = replay_impl(p, &cap, &demand, 0, step, None, true, false, 0);
            let fast = replay_impl(p, &cap, &demand, 0, step, None, true, true, 0);
            assert_eq!(slow.totals.scaling_events, fast.totals.scaling_events, "{}", p.kind());
            assert!(p.kind() == "static" || slow.totals.scaling_events > 2, "{} must scale on this trace", p.kind());
            assert!((slow.totals.instance_hours - fast.totals.instance_hours).abs() < 1e-6, "{}", p.kind());
            assert!((slow.totals.minutes_over_target - fast.totals.minutes_over_target).abs() < 1e-6, "{}", p.kind());
            for (a, b) in slow.steps.iter().zip(&fast.steps) {
                assert!((a.instances - b.instances).abs() < 1e-9 && (a.served - b.served).abs() < 1e-6, "{} at {}", p.kind(), a.t_ms);
            }
        }
    }
}
