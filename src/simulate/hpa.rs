//! The Kubernetes HorizontalPodAutoscaler controller, sync by sync, as upstream writes it
//! (`pkg/controller/podautoscaler/`, Kubernetes 1.33+). Each rule names the upstream
//! function it follows; `tests/simulate.rs` pins them with traces worked by hand from
//! that code.
//!
//! The model of the cluster: demand is spread evenly over the *ready* pods; a pod is
//! unready (no load, no usable CPU sample) for `readiness_s` after it is created; one
//! sync reads the demand of its own instant (the metric's timestamp is the sync's);
//! syncs are exactly `sync_s` apart, so "exactly one window old" is exact.
//!
//! - A CPU sample of a newly ready pod is set apart as `groupPods` sets it apart within
//!   `--horizontal-pod-autoscaler-cpu-initialization-period` (5 min from the pod's
//!   start): until one metric window ([`METRIC_WINDOW_S`], metrics-server's 15-s
//!   resolution) has passed since the pod turned ready. The pod serves its share all the
//!   while; the controller reads the others' samples, and on a scale-down proposes from
//!   them alone (upstream's known dip after a scale-up with no scale-down window).
//!
//! What the model leaves to the cluster, and how it reads it instead:
//! - The metric's timestamp lags the sync in a cluster (the last scrape, up to one
//!   resolution earlier), so there a newly ready pod's sample may be set apart one sync
//!   longer than here.
//! - Every ready pod reports a sample: upstream's missing pods (no sample yet, counted
//!   at max(100 %, target) of their request, or at the target value, on a scale-down
//!   and at 0 on a scale-up) do not arise.
//! - A `pods` metric: a pod not yet ready is read as upstream reads a Pending one (set
//!   apart, counted at 0 only when scaling up, with the reversal check), which is what
//!   a pod still being scheduled or pulling its image is. A pod running with no sample
//!   yet is upstream's missing pod: 0 on a scale-up as here, but the target value on a
//!   scale-down, where the replay, leaving it out, removes more pods. A pod running but
//!   not ready whose adapter already reports 0 would count among the ready at 0.
//! - Per-pod values: the demand is taken to milli-units once and the mean truncated
//!   (`GetMetricUsageRatio`); how an adapter rounds each pod's value is not modelled,
//!   so a mean exactly on a replica boundary (200 over 12 pods) may land one pod apart.
//! - The target is read as `MilliValue()` reads it, rounded up to a milli-unit.
//! - A `resource` metric's usage is what the demand asks of the ready pods, over 100 %
//!   of their request when they are short: a pod without a CPU limit bursts so; one with
//!   a limit reads at most limit ÷ request, which the replay does not know, so it may
//!   scale out faster than such a cluster (on EC2, where CPU cannot pass 100 %, the
//!   AWS replay caps it).
//!
//! Independent audits (scenarios worked from upstream by hand, and some 16,000 random
//! configurations against a line-by-line transcription of upstream, 11,000 of them with
//! the CPU initialization rule) found no difference in the per-sync counts outside these
//! choices.

use super::policy::{EffectiveRules, Hpa, HpaMetric, RatePolicy, Select};

/// What the controller remembers between syncs of one HPA.
#[derive(Debug, Clone, Default)]
pub struct Controller {
    /// The HPA's behaviour with its defaults filled in (`None`: no `behavior`), worked
    /// out once rather than at every sync.
    behavior: Option<(EffectiveRules, EffectiveRules)>,
    /// `recommendations[key]`: raw proposals with their time.
    recommendations: Vec<(i64, i64)>,
    /// `scaleUpEvents[key]`: pods added, with their time.
    up_events: Vec<ScaleEvent>,
    /// `scaleDownEvents[key]`: pods removed, with their time.
    down_events: Vec<ScaleEvent>,
    /// `recordInitialRecommendation` has run.
    seen: bool,
    /// Demand one pod serves at 100 % of its request, in the series' unit.
    per_instance: f64,
    /// The `pods` metric's target average value in milli-units.
    target_milli: i64,
}

/// `timestampedScaleEvent` (horizontal.go): a change of the replica count, kept until
/// its slot is reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ScaleEvent {
    /// When (ms).
    at: i64,
    /// Pods added or removed (positive).
    change: i64,
    /// Older than the longest period of its direction's policies when last checked
    /// (`markScaleEventsOutdated`): its slot is the next to be reused.
    outdated: bool,
}

/// The pods at a sync.
#[derive(Debug, Clone, Copy)]
pub struct Pods {
    /// `scale.Spec.Replicas`: every pod launched.
    pub current: u32,
    /// Of those, ready and serving.
    pub ready: u32,
    /// Of the ready, those whose samples the controller uses: for a `resource` metric,
    /// ready at least one metric window or past the CPU initialization period (see
    /// [`sample_delay_ms`]); for a `pods` metric, every ready pod.
    pub counted: u32,
}

/// metrics-server's `--metric-resolution` as its shipped manifest sets it (the binary's own
/// default is 60 s): a CPU sample is the usage between two scrapes this far apart, and
/// `groupPods` wants one whole window after the pod turned ready
/// (`metric.Timestamp.Before(condition.LastTransitionTime.Add(metric.Window))`).
pub const METRIC_WINDOW_S: u32 = 15;

/// `--horizontal-pod-autoscaler-cpu-initialization-period`'s default (5 min): past it
/// from the pod's start, a ready pod's CPU sample counts at once.
pub const CPU_INITIALIZATION_PERIOD_S: u32 = 300;

/// When, after its creation, a new pod's sample first counts for `h`'s metric (ms): for
/// CPU, one metric window after it turns ready but no later than the end of the CPU
/// initialization period, and never before it is ready (`groupPods`); for a `pods`
/// metric, as soon as it is ready.
pub fn sample_delay_ms(h: &Hpa) -> i64 {
    let ready = i64::from(h.readiness_s) * 1000;
    match h.metric {
        HpaMetric::Resource => {
            let windowed = ready + i64::from(METRIC_WINDOW_S) * 1000;
            ready.max(windowed.min(i64::from(CPU_INITIALIZATION_PERIOD_S) * 1000))
        }
        HpaMetric::Pods => ready,
    }
}

/// A quantity in milli-units, as the metrics API reports it (`MilliValue()`).
/// Saturates at 4.6e18 milli-units (far past any real metric), so that it fits an `i64`.
fn milli(v: f64) -> i64 {
    if v.is_finite() { (v * 1000.0).round().clamp(0.0, 4.6e18) as i64 } else { 0 }
}

/// The target's `MilliValue()`: milli-units rounded up, as `Quantity.ScaledValue` rounds
/// (the manifest writes the target exactly: 0.0012 is "1200u", read as 2m). A float's
/// noise ([`QUANTITY_NOISE`](super::policy::QUANTITY_NOISE)) is not a fraction to round
/// up (150.00000000000003).
fn milli_ceil(v: f64) -> i64 {
    // First to a nano-unit, the finest the manifest's quantity holds.
    let v = if v.abs() < 9e6 { (v * 1e9).round() / 1e9 } else { v };
    let x = v * 1000.0;
    let r = x.round();
    let x = if (x - r).abs() <= super::policy::QUANTITY_NOISE * x.abs() { r } else { x.ceil() };
    if x.is_finite() { x.clamp(0.0, 4.6e18) as i64 } else { 0 }
}

/// The CPU request a `resource` replay gives each pod: one core. Usage is the demand in
/// pods at 100 % of it, in milli-cores, so the controller's rounding (whole milli-cores,
/// whole percents) falls where a cluster's does, whatever the series' unit: before, the
/// request was `per_instance` in milli-units of the series, and 0.0012 per pod read as 1m
/// settled 48 pods at 41.7 % for a 50 % target where the same load × 1e6 settled 40.
const REQUEST_MILLI: i64 = 1000;

/// `Tolerances.isWithin` (replica_calculator.go): `(1 − down) ≤ ratio ≤ (1 + up)`.
pub(crate) fn within(ratio: f64, tolerance: f64) -> bool {
    (1.0 - tolerance) <= ratio && ratio <= (1.0 + tolerance)
}

/// `int32(math.Ceil(ratio * float64(count)))`, saturating.
fn ceil_count(ratio: f64, count: i64) -> i64 {
    let v = (ratio * count as f64).ceil();
    if v.is_finite() { v.clamp(0.0, f64::from(i32::MAX)) as i64 } else { i64::from(i32::MAX) }
}

impl Controller {
    /// A controller for `h` that has not yet seen it; one pod at 100 % serves `per_instance`.
    pub fn new(h: &Hpa, per_instance: f64) -> Self {
        Controller {
            behavior: h.behavior(),
            per_instance: if per_instance > 0.0 && per_instance.is_finite() { per_instance } else { 1.0 },
            target_milli: milli_ceil(per_instance * h.target).max(1),
            ..Controller::default()
        }
    }

    /// True when a sync that proposes `count` (the current count) keeps it, now and at
    /// every later sync that proposes it again. With a `behavior` that always holds: the
    /// current count lies between the up window's minimum and the down window's maximum
    /// once the proposal is among them. Without one, `stabilizeRecommendation` takes the
    /// maximum of the window, so every remembered proposal must be at most `count`
    /// (proposals only leave the window, so the maximum never rises).
    pub fn settled_at(&self, count: u32) -> bool {
        self.behavior.is_some() || self.recommendations.iter().all(|(_, r)| *r <= i64::from(count))
    }

    /// Notes the proposal of syncs skipped at a fixed point (each proposed `proposal`
    /// and kept the count): the latest stands for them all, since a window that holds
    /// any of them holds the latest.
    pub fn note_steady(&mut self, last_sync: i64, proposal: i64) {
        self.recommendations.push((last_sync, proposal));
    }

    /// The proposal of every sync from `now` to `last` when all of them keep the
    /// current count (demand and pods fixed), else `None`: either the proposal is the
    /// count and [`settled_at`](Self::settled_at) holds, or, without a `behavior`, a
    /// lower proposal is held by a remembered proposal equal to the count that is still
    /// within the window at `last` (and none above it).
    pub fn steady_proposal(&self, h: &Hpa, pods: Pods, demand: f64, last: i64) -> Option<i64> {
        let current = i64::from(pods.current);
        if pods.current < h.min || pods.current > h.max {
            return None;
        }
        let p = self.proposal(h, pods, demand).unwrap_or(current);
        if p == current && self.settled_at(pods.current) {
            return Some(p);
        }
        if self.behavior.is_none() && p < current {
            let cutoff = last - i64::from(super::policy::DEFAULT_DOWN_STABILIZATION_S) * 1000;
            let none_above = self.recommendations.iter().all(|(_, r)| *r <= current);
            let held = self.recommendations.iter().any(|(t, r)| *t >= cutoff && *r == current);
            if none_above && held {
                return Some(p);
            }
        }
        None
    }

    /// The usage ratio of `demand` spread over `pods` pods (at least one) against the
    /// target, as the controller computes it from their samples.
    fn usage_ratio(&self, h: &Hpa, demand: f64, pods: i64) -> f64 {
        match h.metric {
            HpaMetric::Resource => {
                // Usage in milli-cores of a one-core request: `per_instance` of the
                // series' unit is one pod at 100 %, whatever that unit is.
                let total = milli(demand / self.per_instance);
                // `GetResourceUtilizationRatio`: int percent of Σusage / Σrequest.
                let percent = match (total.checked_mul(100), REQUEST_MILLI.checked_mul(pods)) {
                    (Some(n), Some(d)) => (n / d).min(i64::from(i32::MAX)),
                    _ => ((i128::from(total) * 100) / (i128::from(REQUEST_MILLI) * i128::from(pods))).min(i128::from(i32::MAX)) as i64,
                };
                percent as f64 / h.target_percent().max(1) as f64
            }
            // `GetMetricUsageRatio`: the mean in milli-units, truncated.
            HpaMetric::Pods => (milli(demand) / pods) as f64 / self.target_milli as f64,
        }
    }

    /// The per-metric proposal (`computeReplicasForMetrics` for one metric), or `None`
    /// when no pod has a usable metric (the controller then leaves the count alone).
    ///
    /// Both metrics take the same road (`GetResourceReplicas` and
    /// `calcPlainMetricReplicas` are one algorithm): the pods whose samples count give
    /// the usage ratio, each carrying the share of the demand every ready pod serves;
    /// the others are set apart (`groupPods`: a CPU sample of a pod not ready or not one
    /// window past turning ready, or a Pending pod for any metric), ignored on a
    /// scale-down and, only when scaling up, counted in at 0 with no reversal of direction.
    pub fn proposal(&self, h: &Hpa, pods: Pods, demand: f64) -> Option<i64> {
        let current = i64::from(pods.current);
        let ready = i64::from(pods.ready);
        // Which pods count for the metric is `sample_delay_ms`'s to say (every ready pod
        // for a `pods` metric).
        let counted = i64::from(pods.counted).min(ready);
        let unready = current - counted;
        // "did not receive metrics for targeted pods (pods might be unready)".
        if counted == 0 {
            return None;
        }
        // The demand on the counted pods: all of it unless newly ready pods serve too.
        let sampled = if counted == ready { demand } else { demand * counted as f64 / ready as f64 };
        let ratio = |pods: i64| self.usage_ratio(h, sampled, pods);
        let usage_ratio = ratio(counted);
        // The slow path only when scaling up with unready pods.
        let scale_up_with_unready = unready > 0 && usage_ratio > 1.0;
        if !scale_up_with_unready {
            return Some(if within(usage_ratio, h.tolerance) { current } else { ceil_count(usage_ratio, counted) });
        }
        // Unready pods count at 0, then no reversal of direction.
        Some(reversal_guard(usage_ratio, ratio(current), current, h.tolerance))
    }

    /// One sync (`reconcileAutoscaler`): the new replica count for `pods` and `demand`
    /// at `now` (ms). Records the scale event when the count changes.
    pub fn sync(&mut self, h: &Hpa, now: i64, pods: Pods, demand: f64) -> u32 {
        let current = i64::from(pods.current);
        let (min, max) = (i64::from(h.min), i64::from(h.max));
        // `recordInitialRecommendation`: the count the controller found, at first sight.
        if !self.seen {
            self.seen = true;
            self.recommendations.push((now, current));
        }
        let desired = if current == 0 {
            // "scaling is disabled since the replica count of the target is zero"
            current
        } else if current > max {
            max
        } else if current < min {
            min
        } else {
            let Some(proposal) = self.proposal(h, pods, demand) else { return pods.current };
            match self.behavior.take() {
                Some((up, down)) => {
                    let d = self.normalize_with_behaviors(now, current, proposal, min, max, &up, &down);
                    self.behavior = Some((up, down));
                    d
                }
                None => self.normalize(now, current, proposal, min, max),
            }
        };
        let desired = desired.clamp(0, i64::from(u32::MAX));
        if desired != current {
            self.store_scale_event(now, current, desired);
        }
        desired as u32
    }

    /// `normalizeDesiredReplicas` (no `behavior`): `stabilizeRecommendation` over the
    /// default 300 s window, whose edge still counts (`!timestamp.Before(cutoff)`), then
    /// `convertDesiredReplicasWithRules`: min, and max(2 × current, 4) but not past max.
    fn normalize(&mut self, now: i64, current: i64, proposal: i64, min: i64, max: i64) -> i64 {
        let cutoff = now - i64::from(super::policy::DEFAULT_DOWN_STABILIZATION_S) * 1000;
        let stabilised = self.recommendations.iter().filter(|(t, _)| *t >= cutoff).map(|(_, r)| *r).fold(proposal, i64::max);
        self.recommendations.retain(|(t, _)| *t >= cutoff);
        self.recommendations.push((now, proposal));
        // `calculateScaleUpLimit`: max(2 × current, 4).
        let up_limit = (2 * current).max(4);
        let max_allowed = max.min(up_limit);
        stabilised.clamp(min, max_allowed.max(min))
    }

    /// `normalizeDesiredReplicasWithBehaviors`: `stabilizeRecommendationWithBehaviors`
    /// then `convertDesiredReplicasWithBehaviorRate`.
    #[allow(clippy::too_many_arguments)]
    fn normalize_with_behaviors(
        &mut self,
        now: i64,
        current: i64,
        proposal: i64,
        min: i64,
        max: i64,
        up: &EffectiveRules,
        down: &EffectiveRules,
    ) -> i64 {
        // Stabilisation: only recommendations strictly after the cutoff count
        // (`rec.timestamp.After(upCutoff)`); the raw proposal is what gets stored.
        let up_cutoff = now - i64::from(up.stabilization_s) * 1000;
        let down_cutoff = now - i64::from(down.stabilization_s) * 1000;
        let mut up_rec = proposal;
        let mut down_rec = proposal;
        for &(t, r) in &self.recommendations {
            if t > up_cutoff {
                up_rec = up_rec.min(r);
            }
            if t > down_cutoff {
                down_rec = down_rec.max(r);
            }
        }
        let mut stabilised = current;
        if stabilised < up_rec {
            stabilised = up_rec;
        }
        if stabilised > down_rec {
            stabilised = down_rec;
        }
        // A sample older than both windows is replaced; it can never count again.
        self.recommendations.retain(|(t, _)| *t >= up_cutoff || *t >= down_cutoff);
        self.recommendations.push((now, proposal));

        // Rate limits over their periods, from the scale events of the period.
        if stabilised > current {
            let mut limit = self.rate_limit(now, current, up, true);
            if limit < current {
                limit = current;
            }
            let max_allowed = max.min(limit);
            if stabilised > max_allowed {
                return max_allowed;
            }
        } else if stabilised < current {
            let mut limit = self.rate_limit(now, current, down, false);
            if limit > current {
                limit = current;
            }
            let min_allowed = min.max(limit);
            if stabilised < min_allowed {
                return min_allowed;
            }
        }
        stabilised
    }

    /// `getReplicasChangePerPeriod`: the change of the events strictly after `now − period`
    /// (outdated or not: the mark only says which slot to reuse).
    fn change_in_period(events: &[ScaleEvent], now: i64, period_s: u32) -> i64 {
        let cutoff = now - i64::from(period_s) * 1000;
        events.iter().filter(|e| e.at > cutoff).map(|e| e.change).sum()
    }

    /// `periodStartReplicas`: the count at the start of the period, current − added +
    /// removed within it.
    fn period_start(&self, now: i64, current: i64, period_s: u32) -> i64 {
        current - Controller::change_in_period(&self.up_events, now, period_s)
            + Controller::change_in_period(&self.down_events, now, period_s)
    }

    /// `calculateScaleUpLimitWithScalingRules` (`up`) and
    /// `calculateScaleDownLimitWithBehaviors`: the furthest count the rate policies allow.
    fn rate_limit(&self, now: i64, current: i64, rules: &EffectiveRules, up: bool) -> i64 {
        // `Max` allows the most change: the largest count up, the smallest down.
        let most_change = match rules.select {
            Select::Disabled => return current,
            Select::Max => true,
            Select::Min => false,
        };
        let larger = most_change == up;
        let proposals = rules.policies.iter().map(|p| {
            let start = self.period_start(now, current, p.period_s());
            match (*p, up) {
                (RatePolicy::Pods { value, .. }, true) => start + i64::from(value),
                (RatePolicy::Pods { value, .. }, false) => start - i64::from(value),
                // "rounded up because the proposed change might not increase the replica count"
                (RatePolicy::Percent { value, .. }, true) => (start as f64 * (1.0 + value / 100.0)).ceil() as i64,
                // `int32(float64(periodStartReplicas) * (1 - value/100))`: truncated.
                (RatePolicy::Percent { value, .. }, false) => (start as f64 * (1.0 - value / 100.0)) as i64,
            }
        });
        // With no policy, upstream's starting value (MinInt32 / MaxInt32) is the answer.
        if larger { proposals.max().unwrap_or(i64::from(i32::MIN)) } else { proposals.min().unwrap_or(i64::from(i32::MAX)) }
    }

    /// `storeScaleEvent` (only with a `behavior`): the direction's events older than its
    /// policies' longest period are marked outdated (`markScaleEventsOutdated`, strictly
    /// `Before(cutoff)`), and the new event takes the slot of the last outdated one, else
    /// is appended. Only that one slot is reused: other outdated events stay, and still
    /// count in the other direction's longer periods (`periodStartReplicas` reads both
    /// lists).
    fn store_scale_event(&mut self, now: i64, previous: i64, new: i64) {
        let Some((up, down)) = &self.behavior else { return };
        let longest = |r: &EffectiveRules| r.policies.iter().map(RatePolicy::period_s).max().unwrap_or(0);
        let (events, period, change) = if new > previous {
            (&mut self.up_events, longest(up), new - previous)
        } else {
            (&mut self.down_events, longest(down), previous - new)
        };
        let cutoff = now - i64::from(period) * 1000;
        for e in events.iter_mut() {
            if e.at < cutoff {
                e.outdated = true;
            }
        }
        let event = ScaleEvent { at: now, change, outdated: false };
        match events.iter().rposition(|e| e.outdated) {
            Some(i) => events[i] = event,
            None => events.push(event),
        }
    }
}

/// The slow path's end (`GetResourceReplicas`): no change within tolerance or when the
/// direction reverses, else `ceil(newRatio × pods with metrics)` unless that moves the
/// wrong way.
fn reversal_guard(ratio: f64, new_ratio: f64, current: i64, tolerance: f64) -> i64 {
    if within(new_ratio, tolerance) || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0) {
        return current;
    }
    let new = ceil_count(new_ratio, current);
    if (new_ratio < 1.0 && new > current) || (new_ratio > 1.0 && new < current) { current } else { new }
}
