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
            Policy::Hpa(h) => {
                bounds(h.min, h.max)?;
                target(h.target, "policy.target")
            }
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

/// One direction of an HPA's `behavior`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Stabilisation window in seconds.
    pub stabilization_s: u32,
    /// Rate limits.
    pub policies: Vec<RatePolicy>,
    /// How they combine.
    #[serde(default)]
    pub select: Select,
}

/// Kubernetes HPA, autoscaling/v2, on average utilisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Hpa {
    /// minReplicas.
    pub min: u32,
    /// maxReplicas.
    pub max: u32,
    /// Target average utilisation, 0 to 1 (averageUtilization / 100).
    pub target: f64,
    /// No change while |ratio − 1| ≤ tolerance (the controller's default 0.1).
    pub tolerance: f64,
    /// Seconds between syncs (default 15).
    pub sync_s: u32,
    /// Seconds before a new pod is ready and takes load.
    pub readiness_s: u32,
    /// behavior.scaleUp (default: 0 s window; max(100 %, 4 pods) per 15 s).
    pub scale_up: Rules,
    /// behavior.scaleDown (default: 300 s window; 100 % per 15 s).
    pub scale_down: Rules,
}

impl Default for Hpa {
    fn default() -> Self {
        Hpa {
            min: 1,
            max: 10,
            target: 0.8,
            tolerance: 0.1,
            sync_s: 15,
            readiness_s: 30,
            scale_up: Rules {
                stabilization_s: 0,
                policies: vec![RatePolicy::Percent { value: 100.0, period_s: 15 }, RatePolicy::Pods { value: 4, period_s: 15 }],
                select: Select::Max,
            },
            scale_down: Rules {
                stabilization_s: 300,
                policies: vec![RatePolicy::Percent { value: 100.0, period_s: 15 }],
                select: Select::Max,
            },
        }
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

/// Predictive scaling: capacity for the forecast `lead_s` ahead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Predictive {
    /// Minimum capacity.
    pub min: u32,
    /// Maximum capacity (never exceeded).
    pub max: u32,
    /// Utilisation to plan for, 0 to 1.
    pub target: f64,
    /// Seconds ahead the capacity is put in place (AWS default 300).
    pub lead_s: u32,
    /// The forecast band to plan on (e.g. 80 for its upper edge; 50 or none: the median).
    pub band: Option<f64>,
    /// Allow scaling in (AWS "forecast only, never scale in" when false).
    pub scale_in: bool,
    /// Seconds before a new instance serves load.
    pub startup_s: u32,
}

impl Default for Predictive {
    fn default() -> Self {
        Predictive { min: 1, max: 10, target: 0.7, lead_s: 300, band: None, scale_in: true, startup_s: 60 }
    }
}
