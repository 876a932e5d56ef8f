//! The replay loop: a policy driven over a demand series in 15-second steps (the HPA's
//! sync period), with launch delays, and what it costs in instances and risk.
//!
//! Demand is piecewise constant per demand step. Instances are billed from launch and
//! serve load once ready. Each step records served and unserved demand and utilisation;
//! the totals are instance-hours, minutes over the target utilisation, minutes over
//! capacity and scaling events.

use super::hpa::{Controller, Pods};
use super::policy::{Policy, Predictive, PredictiveMode, StepScaling, TargetTracking};
use crate::time::{DAY_MS, HOUR_MS};
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

/// Launched and ready instances.
struct Fleet {
    total: u32,
    /// (ready at ms, count), oldest first.
    pending: VecDeque<(i64, u32)>,
    pending_count: u32,
    events: u32,
}

impl Fleet {
    fn new(count: u32) -> Self {
        Fleet { total: count, pending: VecDeque::new(), pending_count: 0, events: 0 }
    }

    fn ready(&self) -> u32 {
        self.total - self.pending_count
    }

    fn advance(&mut self, now: i64) {
        while let Some(&(at, n)) = self.pending.front() {
            if at > now {
                break;
            }
            self.pending.pop_front();
            self.pending_count -= n;
        }
    }

    /// Sets the launched count; new instances are ready after `delay_ms`; removals take
    /// pending instances first (newest first), then ready ones.
    fn set(&mut self, target: u32, now: i64, delay_ms: i64) {
        if target == self.total {
            return;
        }
        self.events += 1;
        if target > self.total {
            let n = target - self.total;
            if delay_ms > 0 {
                self.pending.push_back((now + delay_ms, n));
                self.pending_count += n;
            }
            self.total = target;
            return;
        }
        let mut remove = self.total - target;
        while remove > 0 {
            let Some(back) = self.pending.back_mut() else { break };
            let take = back.1.min(remove);
            back.1 -= take;
            self.pending_count -= take;
            remove -= take;
            if back.1 == 0 {
                self.pending.pop_back();
            }
        }
        self.total = target;
    }
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
    replay_impl(policy, capacity, demand, start_ms, step_ms, signal, record, true)
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
) -> Replay {
    let per = capacity.per_instance.max(1e-12);
    let sub = (step_ms / SIM_STEP_MS).max(1) as usize;
    let dt_ms = step_ms / sub as i64;
    let dt_h = dt_ms as f64 / HOUR_MS as f64;
    let dt_min = dt_ms as f64 / 60_000.0;
    let first = demand.iter().copied().find(|d| d.is_finite()).unwrap_or(0.0);
    let (lo, hi) = bounds(policy);
    let initial = match policy {
        Policy::Static { count } => *count,
        Policy::Schedule { .. } => scheduled(policy, start_ms),
        Policy::Hpa(h) => needed(first, per, h.target),
        Policy::TargetTracking(t) => needed(first, per, t.target),
        Policy::Step(s) => needed(first, per, (s.alarm_high + s.alarm_low) / 2.0),
        Policy::Predictive(p) => needed(first, per, p.target),
    }
    .clamp(lo, hi);
    let mut fleet = Fleet::new(initial);
    let mut hpa = match policy {
        Policy::Hpa(h) => Controller::new(h),
        _ => Controller::default(),
    };
    let mut next_eval = start_ms;
    let mut cooldown_until = i64::MIN;
    let mut warm_until = i64::MIN; // target tracking: the last launch's warm-up end
    let mut totals = Totals::default();
    let mut steps = if record { Vec::with_capacity(demand.len()) } else { Vec::new() };
    let signal = signal.unwrap_or(demand);
    for (i, &d) in demand.iter().enumerate() {
        let d = if d.is_finite() { d.max(0.0) } else { 0.0 };
        let (mut inst_sum, mut ready_sum, mut served_sum, mut unserved_sum, mut util_sum) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let mut k = 0;
        while k < sub {
            let now = start_ms + i as i64 * step_ms + k as i64 * dt_ms;
            fleet.advance(now);
            if now >= next_eval {
                match policy {
                    Policy::Static { .. } => {}
                    Policy::Schedule { .. } => fleet.set(scheduled(policy, now), now, 0),
                    Policy::Hpa(h) => {
                        let pods = Pods { current: fleet.total, ready: fleet.ready() };
                        let target = hpa.sync(h, now, pods, d, per);
                        fleet.set(target, now, i64::from(h.readiness_s) * 1000);
                        next_eval = now + i64::from(h.sync_s.max(1)) * 1000;
                    }
                    Policy::TargetTracking(t) => {
                        target_tracking(t, &mut fleet, &mut cooldown_until, &mut warm_until, now, d, per);
                        next_eval = now + i64::from(t.period_s.max(1)) * 1000;
                    }
                    Policy::Step(s) => {
                        step_scaling(s, &mut fleet, &mut cooldown_until, now, d, per);
                        next_eval = now + i64::from(s.period_s.max(1)) * 1000;
                    }
                    Policy::Predictive(p) => {
                        predictive(p, &mut fleet, &mut cooldown_until, &mut warm_until, now, start_ms, step_ms, signal, d, per);
                        if let Some(t) = &p.dynamic {
                            next_eval = now + i64::from(t.period_s.max(1)) * 1000;
                        }
                    }
                }
            }
            // With demand constant for the rest of this demand step, a policy at a fixed
            // point makes every remaining sub-step the same: count them all at once.
            let last = start_ms + i as i64 * step_ms + (sub as i64 - 1) * dt_ms;
            let repeat = if fast
                && k + 1 < sub
                && fleet.pending.is_empty()
                && steady(policy, &hpa, &fleet, d, per, now, last, start_ms, step_ms, signal)
            {
                if let Policy::Hpa(h) = policy {
                    // The skipped syncs would all recommend the current count.
                    let sync = i64::from(h.sync_s.max(1)) * 1000;
                    let last_sync = if next_eval <= last { next_eval + (last - next_eval) / sync * sync } else { next_eval - sync };
                    let pods = Pods { current: fleet.total, ready: fleet.ready() };
                    if last_sync > now
                        && let Some(p) = hpa.steady_proposal(h, pods, d, per, last)
                    {
                        hpa.note_steady(last_sync, p);
                    }
                    next_eval = next_eval.max(last_sync + sync);
                }
                sub - k
            } else {
                1
            };
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
            totals.instance_hours += f64::from(fleet.total) * dt_h * times;
            if util > capacity.target_utilisation {
                totals.minutes_over_target += dt_min * times;
            }
            if d > cap {
                totals.minutes_over_capacity += dt_min * times;
                totals.unserved += (d - cap) * dt_ms as f64 / 1000.0 * times;
            }
            totals.peak_instances = totals.peak_instances.max(fleet.total);
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
                t_ms: start_ms + i as i64 * step_ms,
                demand: d,
                instances: inst_sum / n,
                ready: ready_sum / n,
                served: served_sum / n,
                unserved: unserved_sum / n,
                utilisation: util_sum / n,
            });
        }
    }
    totals.scaling_events = fleet.events;
    totals.minutes = demand.len() as f64 * step_ms as f64 / 60_000.0;
    Replay { steps, totals }
}

/// True when, with demand `d` held until `last`, the policy would change nothing: its
/// decisions from now to `last` all keep the current count (and time-based rules such
/// as cooldowns cannot change that, since they only ever block a change).
#[allow(clippy::too_many_arguments)]
fn steady(
    policy: &Policy,
    hpa: &Controller,
    fleet: &Fleet,
    d: f64,
    per: f64,
    now: i64,
    last: i64,
    start_ms: i64,
    step_ms: i64,
    signal: &[f64],
) -> bool {
    let total = fleet.total;
    match policy {
        Policy::Static { .. } => true,
        Policy::Schedule { .. } => scheduled(policy, now) == total && scheduled(policy, last) == total,
        Policy::Hpa(h) => {
            // With every pod ready, a fixed demand proposes the same at each sync; the
            // controller says when such syncs keep the count.
            let pods = Pods { current: total, ready: fleet.ready() };
            hpa.steady_proposal(h, pods, d, per, last).is_some()
        }
        Policy::TargetTracking(t) => needed(d, per, t.target).clamp(t.min, t.max) == total,
        Policy::Step(s) => {
            let cap = f64::from(fleet.ready()) * per;
            let util = if cap > 0.0 { d / cap } else { f64::INFINITY };
            (util >= s.alarm_low && util <= s.alarm_high)
                || (util > s.alarm_high && total >= s.max)
                || (util < s.alarm_low && total <= s.min)
        }
        Policy::Predictive(p) => {
            let floor_now = predictive_floor(p, now, start_ms, step_ms, signal, per);
            let floor_last = predictive_floor(p, last, start_ms, step_ms, signal, per);
            let floor = floor_now.max(floor_last);
            match &p.dynamic {
                Some(t) => {
                    floor_now == floor_last
                        && needed(d, per, t.target).clamp(t.min.max(floor).min(t.max.max(floor)), t.max.max(floor)) == total
                }
                None => floor <= total,
            }
        }
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

fn scheduled(policy: &Policy, now: i64) -> u32 {
    let Policy::Schedule { default, rules } = policy else { return 0 };
    let hour = (now.rem_euclid(DAY_MS) / HOUR_MS) as u8;
    let dow = ((now.div_euclid(DAY_MS) + 3).rem_euclid(7)) as u8; // 1970-01-01 was a Thursday
    rules
        .iter()
        .find(|r| (r.days.is_empty() || r.days.contains(&dow)) && hour >= r.from_hour && hour < r.to_hour)
        .map_or(*default, |r| r.count)
}

fn target_tracking(t: &TargetTracking, fleet: &mut Fleet, cooldown_until: &mut i64, warm_until: &mut i64, now: i64, demand: f64, per: f64) {
    let desired = needed(demand, per, t.target).clamp(t.min, t.max);
    if desired > fleet.total {
        // Scale out at once. Warming instances already count as capacity, so a second
        // evaluation during warm-up adds only what is still missing.
        fleet.set(desired, now, i64::from(t.startup_s) * 1000);
        *warm_until = now + i64::from(t.warmup_s) * 1000;
    } else if desired < fleet.total && now >= *warm_until && now >= *cooldown_until {
        // Scale in gradually, never while instances warm up, then wait the cooldown.
        let step = ((f64::from(fleet.total) * t.scale_in_step).floor() as u32).max(1);
        fleet.set(fleet.total.saturating_sub(step).max(desired), now, 0);
        *cooldown_until = now + i64::from(t.scale_in_cooldown_s) * 1000;
    }
}

fn step_scaling(s: &StepScaling, fleet: &mut Fleet, cooldown_until: &mut i64, now: i64, demand: f64, per: f64) {
    if now < *cooldown_until {
        return;
    }
    let cap = f64::from(fleet.ready()) * per;
    let util = if cap > 0.0 { demand / cap } else { f64::INFINITY };
    let current = fleet.total;
    let target = if util > s.alarm_high {
        let breach = util - s.alarm_high;
        let adj = s.out.iter().find(|a| breach >= a.lower && a.upper.is_none_or(|u| breach < u)).or(s.out.last());
        match adj {
            Some(a) if a.percent => current + ((f64::from(current) * a.change / 100.0).ceil() as u32).max(1),
            Some(a) => current + a.change.max(0.0) as u32,
            None => current,
        }
    } else if util < s.alarm_low {
        let n = if s.in_percent { ((f64::from(current) * s.in_change / 100.0).floor() as u32).max(1) } else { s.in_change.max(0.0) as u32 };
        current.saturating_sub(n)
    } else {
        current
    }
    .clamp(s.min, s.max);
    if target != current {
        fleet.set(target, now, i64::from(s.startup_s) * 1000);
        *cooldown_until = now + i64::from(s.cooldown_s) * 1000;
    }
}

/// The capacity floor predictive scaling sets at `now`: the forecast's capacity
/// `lead_s` ahead in `ForecastAndScale`, the minimum in `ForecastOnly`.
fn predictive_floor(p: &Predictive, now: i64, start_ms: i64, step_ms: i64, signal: &[f64], per: f64) -> u32 {
    if p.mode == PredictiveMode::ForecastOnly {
        return p.min;
    }
    let ahead = now.saturating_add(i64::from(p.lead_s) * 1000);
    let idx = usize::try_from(ahead.saturating_sub(start_ms) / step_ms.max(1)).unwrap_or(0).min(signal.len().saturating_sub(1));
    let planned = signal.get(idx).copied().filter(|v| v.is_finite()).unwrap_or(0.0);
    needed(planned, per, p.target).clamp(p.min, p.max)
}

#[allow(clippy::too_many_arguments)]
fn predictive(
    p: &Predictive,
    fleet: &mut Fleet,
    cooldown_until: &mut i64,
    warm_until: &mut i64,
    now: i64,
    start_ms: i64,
    step_ms: i64,
    signal: &[f64],
    demand: f64,
    per: f64,
) {
    let floor = predictive_floor(p, now, start_ms, step_ms, signal, per);
    match &p.dynamic {
        // The larger of the two wins: the dynamic policy runs with the floor as its minimum.
        Some(t) => {
            let combined = TargetTracking { min: t.min.max(floor).min(t.max.max(floor)), max: t.max.max(floor), ..t.clone() };
            target_tracking(&combined, fleet, cooldown_until, warm_until, now, demand, per);
        }
        // Alone, predictive scaling only ever raises capacity.
        None => {
            if floor > fleet.total {
                fleet.set(floor, now, i64::from(p.startup_s) * 1000);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::policy::{Hpa, Predictive, StepScaling, TargetTracking};

    #[test]
    fn counting_steady_sub_steps_at_once_changes_nothing() {
        let demand: Vec<f64> = (0..2000).map(|i| 1500.0 + 1200.0 * ((i as f64) / 60.0).sin() + ((i * 7919) % 400) as f64).collect();
        let cap = CapacityModel { per_instance: 100.0, target_utilisation: 0.7 };
        let policies = [
            Policy::Static { count: 20 },
            Policy::Schedule {
                default: 5,
                rules: vec![crate::simulate::policy::ScheduleRule { days: vec![], from_hour: 8, to_hour: 18, count: 30 }],
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
        ];
        for p in &policies {
            let slow = replay_impl(p, &cap, &demand, 0, 300_000, None, true, false);
            let fast = replay_impl(p, &cap, &demand, 0, 300_000, None, true, true);
            assert_eq!(slow.totals.scaling_events, fast.totals.scaling_events, "{}", p.kind());
            assert!((slow.totals.instance_hours - fast.totals.instance_hours).abs() < 1e-6, "{}", p.kind());
            assert!((slow.totals.minutes_over_target - fast.totals.minutes_over_target).abs() < 1e-6, "{}", p.kind());
            for (a, b) in slow.steps.iter().zip(&fast.steps) {
                assert!((a.instances - b.instances).abs() < 1e-9 && (a.served - b.served).abs() < 1e-6, "{} at {}", p.kind(), a.t_ms);
            }
        }
    }
}
