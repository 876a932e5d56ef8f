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
    /// Counts by hour of day and day of week (UTC); the first matching rule wins.
    Schedule {
        /// Instances when no rule matches.
        default: u32,
        /// The rules.
        #[serde(default)]
        rules: Vec<ScheduleRule>,
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
        let bounds = |min: u32, max: u32| if min > max { Err(format!("policy.min ({min}) is above policy.max ({max})")) } else { Ok(()) };
        let target = |t: f64, key: &str| if t > 0.0 && t <= 1.0 { Ok(()) } else { Err(format!("{key} must be in (0, 1], got {t}")) };
        match self {
            Policy::Static { .. } => Ok(()),
            Policy::Schedule { rules, .. } => rules.iter().enumerate().try_for_each(|(i, r)| {
                if r.from_hour >= 24 || r.to_hour > 24 || r.from_hour >= r.to_hour {
                    return Err(format!("policy.rules[{i}]: from_hour..to_hour must lie within 0..24"));
                }
                if r.days.iter().any(|d| *d > 6) {
                    return Err(format!("policy.rules[{i}].days: 0 (Monday) to 6 (Sunday)"));
                }
                Ok(())
            }),
            Policy::Hpa(h) => h.validate(),
            Policy::TargetTracking(t) => {
                bounds(t.min, t.max)?;
                target(t.target, "policy.target")
            }
            Policy::Step(s) => {
                bounds(s.min, s.max)?;
                target(s.alarm_high, "policy.alarm_high")?;
                target(s.alarm_low.max(1e-9), "policy.alarm_low")
            }
            Policy::Predictive(p) => {
                bounds(p.min, p.max)?;
                if p.lead_s >= MAX_SCHEDULING_BUFFER_S {
                    return Err(format!(
                        "policy.lead_s (SchedulingBufferTime) must be under {MAX_SCHEDULING_BUFFER_S} s, got {}",
                        p.lead_s
                    ));
                }
                if let Some(d) = &p.dynamic {
                    bounds(d.min, d.max).map_err(|e| e.replace("policy.", "policy.dynamic."))?;
                    target(d.target, "policy.dynamic.target")?;
                }
                target(p.target, "policy.target")
            }
        }
    }
}

/// One schedule rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRule {
    /// Days it applies to, 0 = Monday … 6 = Sunday (empty: every day).
    #[serde(default)]
    pub days: Vec<u8>,
    /// First hour (UTC), inclusive.
    pub from_hour: u8,
    /// Last hour (UTC), exclusive.
    pub to_hour: u8,
    /// Instances.
    pub count: u32,
}

/// One rate-limit policy of an HPA `behavior` direction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RatePolicy {
    /// At most this percent of the current replicas per period.
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
    /// 0.1; another value is exported as `behavior.*.tolerance`, Kubernetes 1.33+).
    pub tolerance: f64,
    /// Seconds between syncs (default 15).
    pub sync_s: u32,
    /// Seconds before a new pod is ready: until then it takes no load and its metric is
    /// left out as `groupPods` leaves out unready pods.
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
            sync_s: 15,
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
        (self.target * 100.0).round() as i64
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
        if !(self.tolerance >= 0.0 && self.tolerance < 1.0) {
            return Err(format!("policy.tolerance must be in [0, 1), got {}", self.tolerance));
        }
        if self.sync_s == 0 || self.sync_s > 3600 {
            return Err(format!("policy.sync_s must be 1 to 3600 seconds, got {}", self.sync_s));
        }
        if let Some(name) = &self.metric_name
            && (name.is_empty() || name.len() > 253 || name.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(format!("policy.metric_name \"{name}\" is not a metric name"));
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

/// AWS target tracking on average utilisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TargetTracking {
    /// Minimum capacity.
    pub min: u32,
    /// Maximum capacity.
    pub max: u32,
    /// Target utilisation, 0 to 1.
    pub target: f64,
    /// Seconds a new instance warms up: it is excluded from the metric, and counted in
    /// the capacity further scale-outs build on.
    pub warmup_s: u32,
    /// Seconds before a new instance serves load.
    pub startup_s: u32,
    /// Seconds between scale-in actions.
    pub scale_in_cooldown_s: u32,
    /// Largest share of instances removed per scale-in action.
    pub scale_in_step: f64,
    /// Seconds between evaluations (one-minute metrics).
    pub period_s: u32,
}

impl Default for TargetTracking {
    fn default() -> Self {
        TargetTracking {
            min: 1,
            max: 10,
            target: 0.7,
            warmup_s: 300,
            startup_s: 60,
            scale_in_cooldown_s: 300,
            scale_in_step: 0.1,
            period_s: 60,
        }
    }
}

/// One adjustment of a step-scaling policy: for a breach (utilisation above the alarm,
/// in utilisation points) within `[lower, upper)`, change capacity by `change`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepAdjustment {
    /// Lower bound of the breach, utilisation points (0.0 = at the alarm).
    pub lower: f64,
    /// Upper bound, or none for unbounded.
    #[serde(default)]
    pub upper: Option<f64>,
    /// Change: instances (`count`) or percent of current (`percent`).
    pub change: f64,
    /// Whether `change` is a percent of the current capacity.
    #[serde(default)]
    pub percent: bool,
}

/// AWS step scaling: alarms on utilisation, adjustments by breach size, a cooldown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepScaling {
    /// Minimum capacity.
    pub min: u32,
    /// Maximum capacity.
    pub max: u32,
    /// Scale-out alarm: utilisation above this (0 to 1).
    pub alarm_high: f64,
    /// Scale-in alarm: utilisation below this.
    pub alarm_low: f64,
    /// Adjustments when above `alarm_high`.
    pub out: Vec<StepAdjustment>,
    /// Instances (or percent, with `in_percent`) removed when below `alarm_low`.
    pub in_change: f64,
    /// Whether `in_change` is a percent.
    #[serde(default)]
    pub in_percent: bool,
    /// Seconds after an action before the next.
    pub cooldown_s: u32,
    /// Seconds before a new instance serves load.
    #[serde(default = "default_startup")]
    pub startup_s: u32,
    /// Seconds between alarm evaluations.
    #[serde(default = "default_period")]
    pub period_s: u32,
}

fn default_startup() -> u32 {
    60
}

fn default_period() -> u32 {
    60
}

impl StepScaling {
    /// A named velocity: `gradual`, `aggressive` or `conservative`.
    pub fn preset(name: &str, min: u32, max: u32) -> Option<StepScaling> {
        let adj = |lower: f64, upper: Option<f64>, change: f64, percent: bool| StepAdjustment { lower, upper, change, percent };
        let base = |alarm_high, alarm_low, out, in_change, in_percent, cooldown_s| StepScaling {
            min,
            max,
            alarm_high,
            alarm_low,
            out,
            in_change,
            in_percent,
            cooldown_s,
            startup_s: 60,
            period_s: 60,
        };
        match name {
            "gradual" => Some(base(0.7, 0.4, vec![adj(0.0, Some(0.1), 1.0, false), adj(0.1, None, 2.0, false)], 1.0, false, 300)),
            "aggressive" => Some(base(
                0.6,
                0.3,
                vec![adj(0.0, Some(0.1), 25.0, true), adj(0.1, Some(0.25), 50.0, true), adj(0.25, None, 100.0, true)],
                10.0,
                true,
                60,
            )),
            "conservative" => Some(base(0.8, 0.25, vec![adj(0.0, None, 1.0, false)], 1.0, false, 600)),
            _ => None,
        }
    }
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
    /// The dynamic (target tracking) policy it is combined with, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynamic: Option<TargetTracking>,
    /// Seconds before a new instance serves load.
    pub startup_s: u32,
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
        }
    }
}
