//! Scaling policies, each with the semantics of the real system it names.

use serde::{Deserialize, Serialize};

/// A scaling policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Policy {
    /// A fixed number of instances.
    Static {
        /// Instances.
        count: u32,
    },
    /// Counts by hour of day and day of week, in `time_zone`; the first matching rule wins.
    Schedule {
        /// Instances when no rule matches.
        default: u32,
        /// The rules.
        #[serde(default)]
        rules: Vec<ScheduleRule>,
        /// The IANA time zone the rules' hours and days are read in, with its
        /// daylight-saving changes (`Europe/Berlin`: 09:00 is 08:00 UTC in winter and
        /// 07:00 in summer), as an AWS scheduled action's `TimeZone` reads its cron hours
        /// (in the hour a change skips or repeats, AWS's own handling is undocumented).
        /// None: UTC.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        time_zone: Option<String>,
        /// Seconds from a scheduled scale-out until the new instances serve load (boot
        /// and health checks; 60 by default, as for the other AWS policies).
        #[serde(default = "default_startup")]
        startup_s: u32,
    },
    /// Kubernetes HorizontalPodAutoscaler (autoscaling/v2) on utilisation.
    Hpa(Hpa),
    /// AWS target tracking.
    TargetTracking(TargetTracking),
    /// AWS step scaling on a utilisation alarm.
    Step(StepScaling),
    /// Pre-scale to the forecast with a lead time.
    Predictive(Predictive),
}

impl Policy {
    /// A short name for tables: `static`, `schedule`, `hpa`, …
    pub fn kind(&self) -> &'static str {
        match self {
            Policy::Static { .. } => "static",
            Policy::Schedule { .. } => "schedule",
            Policy::Hpa(_) => "hpa",
            Policy::TargetTracking(_) => "target_tracking",
            Policy::Step(_) => "step",
            Policy::Predictive(_) => "predictive",
        }
    }

    /// Checks the settings, naming the key.
    ///
    /// # Errors
    /// A message naming the bad key.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Policy::Static { .. } => Ok(()),
            Policy::Schedule { rules, time_zone, startup_s, .. } => {
                check_warmup(*startup_s, "policy.startup_s")?;
                if let Some(name) = time_zone {
                    schedule_zone(name)?;
                }
                rules.iter().enumerate().try_for_each(|(i, r)| {
                    if r.from_hour >= 24 || r.to_hour > 24 {
                        return Err(format!("policy.rules[{i}]: from_hour must lie within 0..23 and to_hour within 0..24"));
                    }
                    if r.from_hour == r.to_hour {
                        return Err(format!(
                            "policy.rules[{i}]: from_hour and to_hour are both {}: the rule covers no hour (0..24 covers the whole day)",
                            r.from_hour
                        ));
                    }
                    if r.days.iter().any(|d| *d > 6) {
                        return Err(format!("policy.rules[{i}].days: 0 (Monday) to 6 (Sunday)"));
                    }
                    Ok(())
                })
            }
            Policy::Hpa(h) => h.validate(),
            Policy::TargetTracking(t) => t.validate("policy."),
            Policy::Step(s) => s.validate(),
            Policy::Predictive(p) => {
                check_bounds(p.min, p.max, "policy.")?;
                if p.lead_s >= MAX_SCHEDULING_BUFFER_S {
                    return Err(format!(
                        "policy.lead_s (SchedulingBufferTime) must be under {MAX_SCHEDULING_BUFFER_S} s, got {}",
                        p.lead_s
                    ));
                }
                if let Some(d) = &p.dynamic {
                    d.validate("policy.dynamic.")?;
                }
                check_resource_label(p.metric, p.resource_label.as_deref(), "policy.")?;
                check_target(p.target, "policy.target")
            }
        }
    }
}

/// A schedule's time zone by its IANA name, and that name as the time zone database
/// spells it (`europe/berlin` is `Europe/Berlin`; an alias such as `US/Eastern` stays
/// one, not resolved to America/New_York). Names that stand for no fixed place are refused: `localtime` is whatever zone
/// the machine has, `Factory` and `Etc/Unknown` are placeholders, `posixrules`, `posix/…`
/// and `right/…` are the database's own files.
///
/// # Errors
/// An unknown or refused name, naming `policy.time_zone`.
pub fn schedule_zone(name: &str) -> Result<(jiff::tz::TimeZone, String), String> {
    let zone = crate::time::zone(name).map_err(|m| format!("policy.time_zone: {m} (an IANA name such as Europe/Berlin)"))?;
    if name.eq_ignore_ascii_case("utc") || name == "Z" {
        return Ok((zone, "Etc/UTC".into()));
    }
    let canonical = zone.iana_name().unwrap_or(name).to_string();
    let lower = canonical.to_ascii_lowercase();
    let placeholder = ["localtime", "factory", "etc/unknown", "posixrules"].contains(&lower.as_str())
        || lower.starts_with("posix/")
        || lower.starts_with("right/");
    if placeholder {
        return Err(format!("policy.time_zone \"{name}\" names no fixed place: give the IANA name of one, such as Europe/Berlin"));
    }
    Ok((zone, canonical))
}

/// One schedule rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRule {
    /// Days it applies to, 0 = Monday … 6 = Sunday (empty: every day).
    #[serde(default)]
    pub days: Vec<u8>,
    /// First hour (in the schedule's time zone), inclusive.
    pub from_hour: u8,
    /// Last hour, exclusive. Before `from_hour`, the rule runs overnight: from
    /// `from_hour` on each of its days to `to_hour` the morning after.
    pub to_hour: u8,
    /// Instances.
    pub count: u32,
}

impl ScheduleRule {
    /// The count `rules` give at `hour` of weekday `dow` (the schedule's clock): the first
    /// rule covering it, else `default`. The replay and the exported actions both read it.
    pub fn count_at(rules: &[ScheduleRule], default: u32, dow: u8, hour: u8) -> u32 {
        rules.iter().find(|r| r.covers(dow, hour)).map_or(default, |r| r.count)
    }

    /// The count at every hour of the week ([`count_at`](Self::count_at)), Monday 00:00
    /// first, the schedule's clock: what the AWS and KEDA exports write out.
    pub fn week(rules: &[ScheduleRule], default: u32) -> Vec<u32> {
        (0..7u8).flat_map(|dow| (0..24u8).map(move |hour| ScheduleRule::count_at(rules, default, dow, hour))).collect()
    }

    /// True when the rule covers `hour` of weekday `dow` (0 = Monday), both in the
    /// schedule's time zone. An overnight rule's morning hours belong to the day before:
    /// `days = [4]` (Friday) with 21..9 covers Friday 21:00 to Saturday 09:00.
    pub fn covers(&self, dow: u8, hour: u8) -> bool {
        let on = |d: u8| self.days.is_empty() || self.days.contains(&d);
        if self.from_hour < self.to_hour {
            on(dow) && hour >= self.from_hour && hour < self.to_hour
        } else {
            (on(dow) && hour >= self.from_hour) || (on((dow + 6) % 7) && hour < self.to_hour)
        }
    }
}

/// One rate-limit policy of an HPA `behavior` direction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RatePolicy {
    /// At most this percent of the replicas at the period's start per period
    /// (`periodStartReplicas`: the current count with the period's scale events undone).
    Percent {
        /// Percent.
        value: f64,
        /// Period in seconds.
        period_s: u32,
    },
    /// At most this many pods per period.
    Pods {
        /// Pods.
        value: u32,
        /// Period in seconds.
        period_s: u32,
    },
}

impl RatePolicy {
    /// Its period in seconds.
    pub fn period_s(&self) -> u32 {
        match *self {
            RatePolicy::Percent { period_s, .. } | RatePolicy::Pods { period_s, .. } => period_s,
        }
    }
}

/// How several rate policies combine (`selectPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Select {
    /// The policy allowing the most change.
    #[default]
    Max,
    /// The policy allowing the least change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// One direction of an HPA's `behavior` (`HPAScalingRules`). A field left out takes the
/// default of `apis/autoscaling/v2/defaults.go` (`GenerateHPAScaleUpRules`,
/// `GenerateHPAScaleDownRules`): a given list of policies replaces the default list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// stabilizationWindowSeconds (defaults: 0 up; the controller's 300 s down).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stabilization_s: Option<u32>,
    /// Rate limits (defaults: up, max(4 pods, 100 %) per 15 s; down, 100 % per 15 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<RatePolicy>>,
    /// How they combine (default `max`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select: Option<Select>,
}

/// What an HPA scales on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HpaMetric {
    /// A `Resource` metric with a `Utilization` target: CPU used over CPU requested,
    /// truncated to a whole percent as the controller does. One instance at 100 % of its
    /// request serves `per_instance` demand.
    #[default]
    Resource,
    /// A `Pods` metric with an `AverageValue` target: the series itself per pod (e.g.
    /// requests per second), compared at milli-unit precision. The target value is
    /// `per_instance × target`.
    Pods,
}

/// The cluster's default tolerance (`--horizontal-pod-autoscaler-tolerance`).
pub const DEFAULT_TOLERANCE: f64 = 0.1;
/// A float's noise relative to its value (250 × 0.6 is 150.00000000000003), which
/// the manifest's quantities and the replay's reading of a target both take for none;
/// anything larger is part of the value (10000000.004 stays 10000000004m).
pub const QUANTITY_NOISE: f64 = 1e-12;

/// The controller's default sync period (`--horizontal-pod-autoscaler-sync-period`).
pub const DEFAULT_SYNC_S: u32 = 15;

/// Kubernetes HPA, autoscaling/v2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Hpa {
    /// What it scales on (`resource`: CPU utilisation; `pods`: the series per pod).
    pub metric: HpaMetric,
    /// The metric's name in the manifest: a resource name (default `cpu`) or, for a
    /// `pods` metric, the custom metric's name (default: the series' name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    /// minReplicas.
    pub min: u32,
    /// maxReplicas.
    pub max: u32,
    /// Target, 0 to 1: averageUtilization / 100 for `resource`; the share of
    /// `per_instance` each pod should carry for `pods`.
    pub target: f64,
    /// No change while the usage ratio is within 1 ± tolerance (the cluster's default
    /// 0.1; another value is exported as `behavior.*.tolerance`, which Kubernetes
    /// 1.33+ reads with the HPAConfigurableTolerance feature gate, on by default from 1.35).
    pub tolerance: f64,
    /// Seconds between syncs (default 15).
    pub sync_s: u32,
    /// Seconds before a new pod is ready: until then it takes no load and its metric is
    /// set apart as `groupPods` sets apart unready (CPU) and Pending (any metric) pods.
    pub readiness_s: u32,
    /// behavior.scaleUp. With neither direction given (and the default tolerance) the
    /// HPA has no `behavior` and the controller's older path runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_up: Option<Rules>,
    /// behavior.scaleDown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_down: Option<Rules>,
}

impl Default for Hpa {
    fn default() -> Self {
        Hpa {
            metric: HpaMetric::Resource,
            metric_name: None,
            min: 1,
            max: 10,
            target: 0.8,
            tolerance: DEFAULT_TOLERANCE,
            sync_s: DEFAULT_SYNC_S,
            readiness_s: 30,
            scale_up: None,
            scale_down: None,
        }
    }
}

/// One direction of a behaviour with every default filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveRules {
    /// Stabilisation window, seconds.
    pub stabilization_s: u32,
    /// Rate limits.
    pub policies: Vec<RatePolicy>,
    /// How they combine.
    pub select: Select,
}

/// Longest stabilisation window the API accepts (`validateScalingRules`).
pub const MAX_STABILIZATION_S: u32 = 3600;
/// Longest rate-limit period the API accepts (`validateScalingPolicy`).
pub const MAX_PERIOD_S: u32 = 1800;
/// The controller's default scale-down window (`--horizontal-pod-autoscaler-downscale-stabilization`).
pub const DEFAULT_DOWN_STABILIZATION_S: u32 = 300;

impl Hpa {
    /// The behaviour as the API server defaults it (`SetDefaults_HorizontalPodAutoscalerBehavior`):
    /// `None` when the HPA has none (neither direction given and the default tolerance).
    pub fn behavior(&self) -> Option<(EffectiveRules, EffectiveRules)> {
        if self.scale_up.is_none() && self.scale_down.is_none() && self.tolerance == DEFAULT_TOLERANCE {
            return None;
        }
        let fill = |r: Option<&Rules>, window: u32, policies: Vec<RatePolicy>| {
            let r = r.cloned().unwrap_or_default();
            EffectiveRules {
                stabilization_s: r.stabilization_s.unwrap_or(window),
                policies: r.policies.unwrap_or(policies),
                select: r.select.unwrap_or(Select::Max),
            }
        };
        Some((
            fill(
                self.scale_up.as_ref(),
                0,
                vec![RatePolicy::Pods { value: 4, period_s: 15 }, RatePolicy::Percent { value: 100.0, period_s: 15 }],
            ),
            fill(self.scale_down.as_ref(), DEFAULT_DOWN_STABILIZATION_S, vec![RatePolicy::Percent { value: 100.0, period_s: 15 }]),
        ))
    }

    /// The target as a whole percent (`averageUtilization`).
    pub fn target_percent(&self) -> i64 {
        // Rounded half away from zero on the percent as written: 0.575 × 100 is
        // 57.49999999999999 in floating point, and must read 58 as 0.655 reads 66.
        let percent = self.target * 100.0;
        let written = (percent * 1e9).round() / 1e9;
        written.round() as i64
    }

    /// Checks the ranges the Kubernetes API accepts (`ValidateHorizontalPodAutoscaler`),
    /// naming the key.
    ///
    /// # Errors
    /// A message naming the bad key and the accepted range.
    pub fn validate(&self) -> Result<(), String> {
        if self.min < 1 {
            return Err("policy.min: minReplicas must be at least 1".into());
        }
        if self.min > self.max {
            return Err(format!("policy.min ({}) is above policy.max ({})", self.min, self.max));
        }
        if !(self.target > 0.0 && self.target <= 1.0) {
            return Err(format!("policy.target must be in (0, 1], got {}", self.target));
        }
        if self.metric == HpaMetric::Resource && self.target_percent() < 1 {
            return Err(format!("policy.target {} is under 1 %: averageUtilization is a whole percent of at least 1", self.target));
        }
        // `validateScalingRules`: a tolerance is a quantity of at least 0 (1 or more
        // never scales down, which the API allows).
        if !(self.tolerance >= 0.0 && self.tolerance.is_finite()) {
            return Err(format!("policy.tolerance must be 0 or more, got {}", self.tolerance));
        }
        if self.sync_s == 0 || self.sync_s > 3600 {
            return Err(format!("policy.sync_s must be 1 to 3600 seconds, got {}", self.sync_s));
        }
        // A pods metric's name (`validateMetricIdentifier`) is a path segment name
        // (`IsValidPathSegmentName`: not "." or "..", no '/' or '%'), as the metrics API
        // puts it in a URL; a resource's is a resource name, and `nvidia.com/gpu` is one.
        let path_segment = self.metric == HpaMetric::Pods;
        if let Some(name) = &self.metric_name
            && (name.is_empty()
                || name.len() > 253
                || name.chars().any(|c| c.is_whitespace() || c.is_control())
                || path_segment && (name == "." || name == ".." || name.contains(['/', '%'])))
        {
            return Err(format!("policy.metric_name \"{name}\" is not a metric name (the API refuses '/', '%', \".\" and \"..\")"));
        }
        for (key, rules) in [("scale_up", &self.scale_up), ("scale_down", &self.scale_down)] {
            let Some(r) = rules else { continue };
            if let Some(w) = r.stabilization_s
                && w > MAX_STABILIZATION_S
            {
                return Err(format!("policy.{key}.stabilization_s must be 0 to {MAX_STABILIZATION_S}, got {w}"));
            }
            if let Some(policies) = &r.policies {
                if policies.is_empty() && r.select != Some(Select::Disabled) {
                    return Err(format!("policy.{key}.policies: give at least one policy (or select = \"disabled\")"));
                }
                for (i, p) in policies.iter().enumerate() {
                    let ok = match *p {
                        RatePolicy::Percent { value, .. } => value > 0.0 && value.fract() == 0.0 && value <= f64::from(i32::MAX),
                        RatePolicy::Pods { value, .. } => value > 0 && i32::try_from(value).is_ok(),
                    };
                    let period = p.period_s();
                    if !ok {
                        return Err(format!("policy.{key}.policies[{i}].value must be a whole number above 0"));
                    }
                    if period == 0 || period > MAX_PERIOD_S {
                        return Err(format!("policy.{key}.policies[{i}].period_s must be 1 to {MAX_PERIOD_S}, got {period}"));
                    }
                }
            }
        }
        Ok(())
    }
}

/// AWS target tracking (EC2 Auto Scaling user guide, "Target tracking scaling policies",
/// as-scaling-target-tracking.html) on the average utilisation of the instances that are
/// past their warm-up. Each `period_s` a datapoint (the period's average) goes to two
/// alarms that Auto Scaling manages: a high alarm at the target and a low alarm somewhat
/// below it. On the high alarm the group scales out in proportion to the metric, rounding
/// up ("we round up and add two instances"); on the low alarm it scales in, never so far
/// that the metric would go back above the target ("we will choose not to scale-in until
/// the metric lowers enough"), so the new capacity is `ceil(current × metric / target)`
/// both ways (AWS does not publish the formula; this one gives every example the page
/// has). EC2 target tracking has no cooldown (user guide, "Scaling cooldowns": "target
/// tracking and step scaling policies can initiate a scale-out activity immediately
/// without waiting for the cooldown period to end").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TargetTracking {
    /// Minimum capacity.
    pub min: u32,
    /// Maximum capacity.
    pub max: u32,
    /// Target utilisation, 0 to 1 (TargetValue / 100).
    pub target: f64,
    /// Seconds from launch until an instance counts in the group's metric
    /// (EstimatedInstanceWarmup; the group's default is its DefaultCooldown, 300 s). While
    /// any instance warms up, scale-in is blocked and warming instances count toward the
    /// desired capacity of a further scale-out.
    pub warmup_s: u32,
    /// Seconds from launch until an instance serves load.
    pub startup_s: u32,
    /// Seconds per metric datapoint: 60 for detailed monitoring (the default), 10, 20 or
    /// 30 for a high-resolution metric, 300 for basic monitoring.
    pub period_s: u32,
    /// Consecutive datapoints above the target before a scale-out (3: what the alarms
    /// Auto Scaling creates have been observed to use; not documented by AWS).
    pub high_datapoints: u32,
    /// Consecutive datapoints below the low threshold before a scale-in (15, observed
    /// like `high_datapoints`, not documented).
    pub low_datapoints: u32,
    /// The low alarm's threshold as a share of the target (0.9: "usually more than 10%
    /// lower", Application Auto Scaling user guide, "How target tracking scaling works";
    /// the EC2 guide does not give it).
    pub low_ratio: f64,
    /// DisableScaleIn: the policy never removes instances.
    pub disable_scale_in: bool,
    /// What the policy tracks (CPU unless said): the exported metric, and in the replay
    /// whether an empty group reports anything. Inside a predictive policy the
    /// predictive policy's own metric is used.
    #[serde(skip_serializing_if = "AwsMetric::is_cpu")]
    pub metric: AwsMetric,
    /// With `alb_request_count`: the target group's resource label
    /// (`app/<alb-name>/<alb-id>/targetgroup/<group-name>/<group-id>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_label: Option<String>,
}

impl Default for TargetTracking {
    fn default() -> Self {
        TargetTracking {
            min: 1,
            max: 10,
            target: 0.7,
            warmup_s: 300,
            startup_s: 60,
            period_s: 60,
            high_datapoints: 3,
            low_datapoints: 15,
            low_ratio: 0.9,
            disable_scale_in: false,
            metric: AwsMetric::Cpu,
            resource_label: None,
        }
    }
}

impl TargetTracking {
    /// Checks the settings, naming the key (`prefix` is `policy.` or `policy.dynamic.`).
    ///
    /// # Errors
    /// A message naming the bad key.
    pub fn validate(&self, prefix: &str) -> Result<(), String> {
        check_bounds(self.min, self.max, prefix)?;
        check_target(self.target, &format!("{prefix}target"))?;
        check_period(self.period_s, &format!("{prefix}period_s"), &[10, 20, 30, 60, 300])?;
        check_warmup(self.warmup_s, &format!("{prefix}warmup_s"))?;
        check_warmup(self.startup_s, &format!("{prefix}startup_s"))?;
        check_datapoints(self.high_datapoints, self.period_s, &format!("{prefix}high_datapoints"))?;
        check_datapoints(self.low_datapoints, self.period_s, &format!("{prefix}low_datapoints"))?;
        if !(self.low_ratio > 0.0 && self.low_ratio <= 1.0) {
            return Err(format!("{prefix}low_ratio must be in (0, 1], got {}", self.low_ratio));
        }
        check_resource_label(self.metric, self.resource_label.as_deref(), prefix)
    }
}

fn check_bounds(min: u32, max: u32, prefix: &str) -> Result<(), String> {
    if min > max { Err(format!("{prefix}min ({min}) is above {prefix}max ({max})")) } else { Ok(()) }
}

fn check_target(t: f64, key: &str) -> Result<(), String> {
    if t > 0.0 && t <= 1.0 { Ok(()) } else { Err(format!("{key} must be in (0, 1], got {t}")) }
}

fn check_period(p: u32, key: &str, allowed: &[u32]) -> Result<(), String> {
    if allowed.contains(&p) {
        Ok(())
    } else {
        let list: Vec<String> = allowed.iter().map(u32::to_string).collect();
        Err(format!("{key} must be one of {} seconds, got {p}", list.join(", ")))
    }
}

/// Warm-up and start-up times: 0 to 3600 s (DefaultInstanceWarmup's range).
fn check_warmup(s: u32, key: &str) -> Result<(), String> {
    if s <= 3600 { Ok(()) } else { Err(format!("{key} must be 0 to 3600 seconds, got {s}")) }
}

/// At least one datapoint, and (CloudWatch) at most a day of them.
fn check_datapoints(n: u32, period_s: u32, key: &str) -> Result<(), String> {
    if n >= 1 && u64::from(n) * u64::from(period_s) <= 86_400 {
        Ok(())
    } else {
        Err(format!("{key} must be at least 1 and span at most a day of {period_s}-s periods, got {n}"))
    }
}

/// How a step-scaling policy's adjustments change capacity (`AdjustmentType`, user guide
/// "Step and simple scaling policies", section "Scaling adjustment types").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentType {
    /// `ChangeInCapacity`: add (or, negative, remove) this many instances.
    #[default]
    ChangeInCapacity,
    /// `ExactCapacity`: set the capacity to this many instances.
    ExactCapacity,
    /// `PercentChangeInCapacity`: change by this percent of the current capacity, rounded
    /// as AWS documents (above 1 down, 0 to 1 to 1, −1 to 0 to −1, below −1 up).
    PercentChangeInCapacity,
}

/// One step adjustment (API reference, `StepAdjustment`): for a metric whose difference
/// from the alarm threshold lies between `lower` and `upper` (utilisation points as a
/// fraction, e.g. 0.1 for ten points; none = unbounded), change capacity by `change`.
/// Above the threshold the lower bound is inclusive and the upper exclusive; below it
/// the lower bound is exclusive and the upper inclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepAdjustment {
    /// MetricIntervalLowerBound (none: minus infinity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower: Option<f64>,
    /// MetricIntervalUpperBound (none: plus infinity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper: Option<f64>,
    /// ScalingAdjustment: positive adds, negative removes (instances, percent, or the
    /// exact capacity, after the policy's adjustment type).
    pub change: f64,
}

/// AWS step scaling (user guide, "Step and simple scaling policies",
/// as-scaling-simple-step.html): two CloudWatch alarms on average utilisation, each with
/// a step policy whose adjustments are chosen by how far the metric is from the alarm's
/// threshold. While an alarm stays in ALARM its policy runs again each minute, whatever the
/// alarm's period (CloudWatch runs Auto Scaling actions so); instances
/// still warming up count toward the desired capacity, so repeated breaches in the same
/// step give a single scaling activity; scale-in waits until no instance warms up. Step
/// policies have no cooldown in EC2 Auto Scaling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepScaling {
    /// Minimum capacity.
    pub min: u32,
    /// Maximum capacity.
    pub max: u32,
    /// The scale-out alarm's threshold (utilisation 0 to 1; ALARM when above it).
    pub alarm_high: f64,
    /// The scale-in alarm's threshold (ALARM when below it).
    pub alarm_low: f64,
    /// Adjustments while the high alarm is in ALARM, bounds relative to `alarm_high`.
    pub out: Vec<StepAdjustment>,
    /// Adjustments while the low alarm is in ALARM, bounds relative to `alarm_low`
    /// (negative changes remove instances).
    #[serde(rename = "in")]
    pub scale_in: Vec<StepAdjustment>,
    /// How `out` changes capacity.
    #[serde(default)]
    pub out_type: AdjustmentType,
    /// How `in` changes capacity.
    #[serde(default)]
    pub in_type: AdjustmentType,
    /// MinAdjustmentMagnitude: with a percent change, change by at least this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_adjustment_magnitude: Option<u32>,
    /// EstimatedInstanceWarmup, seconds from launch (default 300).
    #[serde(default = "default_warmup")]
    pub warmup_s: u32,
    /// Seconds from launch until an instance serves load.
    #[serde(default = "default_startup")]
    pub startup_s: u32,
    /// The alarms' period in seconds (10, 20, 30 or a multiple of 60; default 60).
    #[serde(default = "default_period")]
    pub period_s: u32,
    /// Consecutive breaching datapoints before an alarm goes to ALARM (EvaluationPeriods
    /// and DatapointsToAlarm both; default 1).
    #[serde(default = "default_datapoints")]
    pub datapoints: u32,
    /// What the alarms watch (CPU unless said): the exported metric, and in the replay
    /// whether an empty group reports anything.
    #[serde(default, skip_serializing_if = "AwsMetric::is_cpu")]
    pub metric: AwsMetric,
    /// With `alb_request_count`: the target group's resource label
    /// (`app/<alb-name>/<alb-id>/targetgroup/<group-name>/<group-id>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_label: Option<String>,
}

fn default_warmup() -> u32 {
    300
}

fn default_startup() -> u32 {
    60
}

fn default_period() -> u32 {
    60
}

fn default_datapoints() -> u32 {
    1
}

impl StepScaling {
    /// A named velocity: `gradual`, `aggressive` or `conservative`.
    pub fn preset(name: &str, min: u32, max: u32) -> Option<StepScaling> {
        let adj = |lower: Option<f64>, upper: Option<f64>, change: f64| StepAdjustment { lower, upper, change };
        let base = |alarm_high, alarm_low, out, scale_in, kind| StepScaling {
            min,
            max,
            alarm_high,
            alarm_low,
            out,
            scale_in,
            out_type: kind,
            in_type: kind,
            min_adjustment_magnitude: None,
            warmup_s: 300,
            startup_s: 60,
            period_s: 60,
            datapoints: 3,
            metric: AwsMetric::Cpu,
            resource_label: None,
        };
        match name {
            "gradual" => Some(base(
                0.7,
                0.4,
                vec![adj(Some(0.0), Some(0.1), 1.0), adj(Some(0.1), None, 2.0)],
                vec![adj(None, Some(0.0), -1.0)],
                AdjustmentType::ChangeInCapacity,
            )),
            "aggressive" => Some(StepScaling {
                datapoints: 1,
                min_adjustment_magnitude: Some(2),
                ..base(
                    0.6,
                    0.3,
                    vec![adj(Some(0.0), Some(0.1), 25.0), adj(Some(0.1), Some(0.25), 50.0), adj(Some(0.25), None, 100.0)],
                    vec![adj(None, Some(0.0), -10.0)],
                    AdjustmentType::PercentChangeInCapacity,
                )
            }),
            "conservative" => Some(StepScaling {
                datapoints: 5,
                ..base(0.8, 0.25, vec![adj(Some(0.0), None, 1.0)], vec![adj(None, Some(0.0), -1.0)], AdjustmentType::ChangeInCapacity)
            }),
            _ => None,
        }
    }

    /// Checks the settings as the API does (`PutScalingPolicy`, `StepAdjustment`), naming
    /// the key.
    ///
    /// # Errors
    /// A message naming the bad key.
    pub fn validate(&self) -> Result<(), String> {
        check_bounds(self.min, self.max, "policy.")?;
        check_target(self.alarm_high, "policy.alarm_high")?;
        if !(self.alarm_low >= 0.0 && self.alarm_low <= self.alarm_high) {
            return Err(format!(
                "policy.alarm_low must be at least 0 and at most alarm_high ({}), got {}",
                self.alarm_high, self.alarm_low
            ));
        }
        if !(self.period_s == 10
            || self.period_s == 20
            || self.period_s == 30
            || (self.period_s > 0 && self.period_s.is_multiple_of(60) && self.period_s <= 3600))
        {
            return Err(format!("policy.period_s must be 10, 20, 30 or a multiple of 60 up to 3600 seconds, got {}", self.period_s));
        }
        check_datapoints(self.datapoints, self.period_s, "policy.datapoints")?;
        check_warmup(self.warmup_s, "policy.warmup_s")?;
        check_warmup(self.startup_s, "policy.startup_s")?;
        if self.min_adjustment_magnitude == Some(0) {
            return Err("policy.min_adjustment_magnitude must be at least 1".into());
        }
        for (key, steps, kind) in [("out", &self.out, self.out_type), ("in", &self.scale_in, self.in_type)] {
            validate_steps(steps, kind, &format!("policy.{key}"))?;
        }
        check_resource_label(self.metric, self.resource_label.as_deref(), "policy.")
    }
}

/// The API's rules for one policy's steps: at least one; every bound finite; upper above
/// lower; not both bounds open; no overlaps or gaps; changes finite whole
/// numbers (percent changes too), an exact capacity not negative.
fn validate_steps(steps: &[StepAdjustment], kind: AdjustmentType, key: &str) -> Result<(), String> {
    if steps.is_empty() {
        return Err(format!("{key}: give at least one step adjustment"));
    }
    for (i, a) in steps.iter().enumerate() {
        let k = format!("{key}[{i}]");
        if a.lower.is_some_and(|v| !v.is_finite()) || a.upper.is_some_and(|v| !v.is_finite()) {
            return Err(format!("{k}: bounds must be finite numbers (leave one out for unbounded)"));
        }
        if a.lower.is_none() && a.upper.is_none() {
            return Err(format!("{k}: lower and upper cannot both be left out"));
        }
        if let (Some(l), Some(u)) = (a.lower, a.upper)
            && u <= l
        {
            return Err(format!("{k}: upper ({u}) must be above lower ({l})"));
        }
        if !a.change.is_finite() || a.change.fract() != 0.0 || a.change.abs() > f64::from(i32::MAX) {
            return Err(format!("{k}.change must be a whole number, got {}", a.change));
        }
        if kind == AdjustmentType::ExactCapacity && a.change < 0.0 {
            return Err(format!("{k}.change: an exact capacity cannot be negative"));
        }
    }
    // "If one step adjustment has a positive upper bound, then there must be a step
    // adjustment with a null upper bound", and the mirror rule for a negative lower bound
    // (SA): a metric beyond every step would find none.
    if steps.iter().any(|a| a.upper.is_some_and(|u| u > 0.0)) && steps.iter().all(|a| a.upper.is_some()) {
        return Err(format!(
            "{key}: a step has a positive upper bound, so one step must have no upper bound (it takes every larger value)"
        ));
    }
    if steps.iter().any(|a| a.lower.is_some_and(|l| l < 0.0)) && steps.iter().all(|a| a.lower.is_some()) {
        return Err(format!(
            "{key}: a step has a negative lower bound, so one step must have no lower bound (it takes every smaller value)"
        ));
    }
    // In any order, but contiguous once sorted: at most one open lower bound (first) and
    // one open upper bound (last), each upper the next one's lower.
    let mut sorted: Vec<&StepAdjustment> = steps.iter().collect();
    sorted.sort_by(|a, b| a.lower.unwrap_or(f64::NEG_INFINITY).total_cmp(&b.lower.unwrap_or(f64::NEG_INFINITY)));
    for pair in sorted.windows(2) {
        match (pair[0].upper, pair[1].lower) {
            (Some(u), Some(l)) if u == l => {}
            (Some(u), Some(l)) if l > u => return Err(format!("{key}: a gap between {u} and {l} (steps must not leave gaps)")),
            _ => return Err(format!("{key}: steps overlap (each step's lower bound must be another's upper bound)")),
        }
    }
    Ok(())
}

/// AWS predictive scaling's mode (`PredictiveScalingConfiguration.Mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PredictiveMode {
    /// `ForecastAndScale`: capacity is launched ahead of the forecast.
    #[default]
    ForecastAndScale,
    /// `ForecastOnly`: forecasts are made but nothing is scaled (AWS: "does not scale").
    ForecastOnly,
}

/// The metric an AWS policy scales on: what the replay's utilisation (the series over
/// `per_instance` per instance) stands for in CloudWatch. The replay differs in one
/// place, an empty group (no CPU to report, but requests still come:
/// [`crate::simulate::aws::sample`]); the exported template in its metric
/// ([`crate::export::aws`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AwsMetric {
    /// The group's average CPU utilisation (`ASGAverageCPUUtilization` for target
    /// tracking, `ASGCPUUtilization` for predictive, `AWS/EC2 CPUUtilization` for step
    /// alarms): a utilisation `u` is `u × 100` percent.
    #[default]
    Cpu,
    /// Requests through an Application Load Balancer's target group: the series is
    /// requests per second, and a utilisation `u` is `u × per_instance` of them per
    /// instance (`ALBRequestCountPerTarget`, `ALBRequestCount`, `RequestCountPerTarget`:
    /// counts per target per period, so × 60 a minute). Needs `resource_label`.
    AlbRequestCount,
}

impl AwsMetric {
    /// The default, left out when a policy is written back.
    pub fn is_cpu(&self) -> bool {
        *self == AwsMetric::Cpu
    }
}

/// A resource label goes with `alb_request_count` only, and has the target group's shape
/// (`PredictiveScalingPredefinedMetricPair.ResourceLabel`: the final parts of the load
/// balancer's and the target group's ARNs, 1 to 1023 characters).
fn check_resource_label(metric: AwsMetric, label: Option<&str>, prefix: &str) -> Result<(), String> {
    let Some(label) = label else { return Ok(()) };
    if metric != AwsMetric::AlbRequestCount {
        return Err(format!("{prefix}resource_label names an ALB target group: it goes with metric = \"alb_request_count\""));
    }
    let parts: Vec<&str> = label.split('/').collect();
    let shaped = parts.len() == 6 && parts[0] == "app" && parts[3] == "targetgroup" && parts.iter().all(|p| !p.is_empty());
    if !shaped || label.len() > 1023 || label.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "{prefix}resource_label \"{}\" is not a target group label: app/<alb-name>/<alb-id>/targetgroup/<group-name>/<group-id>",
            label.chars().take(80).collect::<String>()
        ));
    }
    Ok(())
}

/// AWS predictive scaling (EC2 Auto Scaling user guide, "Predictive scaling for Amazon
/// EC2 Auto Scaling"): in `ForecastAndScale` the forecast's capacity is a floor put in
/// place `lead_s` (SchedulingBufferTime) ahead; predictive scaling never scales in ("If
/// the forecast expects a decrease in load, it will not scale in to remove capacity").
/// With a `dynamic` policy both run and the group takes the larger capacity ("the
/// highest capacity of all active policies"); scale-in comes from the dynamic policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Predictive {
    /// Minimum capacity.
    pub min: u32,
    /// Maximum capacity (never exceeded: MaxCapacityBreachBehavior HonorMaxCapacity).
    pub max: u32,
    /// Utilisation to plan for, 0 to 1 (TargetValue / 100 of ASGCPUUtilization).
    pub target: f64,
    /// SchedulingBufferTime: seconds ahead the capacity is put in place (AWS default 300,
    /// less than 3600).
    pub lead_s: u32,
    /// The forecast band to plan on (e.g. 80 for its upper edge; 50 or none: the median).
    pub band: Option<f64>,
    /// Mode.
    pub mode: PredictiveMode,
    /// The dynamic (target tracking) policy it is combined with, if any. Both scale one
    /// Auto Scaling group, which has one minimum and maximum: this policy's `min` and
    /// `max` (the dynamic policy's own are not used).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynamic: Option<TargetTracking>,
    /// Seconds before a new instance serves load.
    pub startup_s: u32,
    /// What AWS forecasts and scales on, for the exported policy.
    pub metric: AwsMetric,
    /// With `alb_request_count`: the target group's resource label
    /// (`app/<alb-name>/<alb-id>/targetgroup/<group-name>/<group-id>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_label: Option<String>,
}

/// SchedulingBufferTime must be less than this (seconds).
pub const MAX_SCHEDULING_BUFFER_S: u32 = 3600;

impl Default for Predictive {
    fn default() -> Self {
        Predictive {
            min: 1,
            max: 10,
            target: 0.7,
            lead_s: 300,
            band: None,
            mode: PredictiveMode::ForecastAndScale,
            dynamic: None,
            startup_s: 60,
            metric: AwsMetric::Cpu,
            resource_label: None,
        }
    }
}
