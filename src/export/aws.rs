//! The AWS policy that was replayed, as a CloudFormation template one `aws cloudformation
//! deploy` puts on an Auto Scaling group: target tracking; step scaling with its two
//! CloudWatch alarms; predictive scaling with the target tracking it was combined with;
//! a schedule as scheduled actions. Resource types, property names and values as the
//! CloudFormation template reference gives them (`AWS::AutoScaling::ScalingPolicy`,
//! `AWS::CloudWatch::Alarm`, `AWS::AutoScaling::ScheduledAction`); the group is the
//! template's one parameter. What the replay assumed that a template cannot set (the
//! group's size, instance start-up, the alarms target tracking manages) is written in the
//! template's `Metadata` and returned as warnings where the user must act on it.

use crate::simulate::Policy;
use crate::simulate::policy::{
    AdjustmentType, AwsMetric, MAX_SCHEDULING_BUFFER_S, Predictive, PredictiveMode, ScheduleRule, StepAdjustment, StepScaling,
    TargetTracking,
};
use serde_json::{Map, Value, json};

/// A CloudFormation template and what it cannot carry of the replay.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsTemplate {
    /// The template, as JSON.
    pub json: String,
    /// What the user must see to before or after deploying it (the group's size limits,
    /// settings AWS decides, how a metric was read).
    pub warnings: Vec<String>,
}

/// Scheduled actions an Auto Scaling group may hold (EC2 Auto Scaling quotas: 125).
pub const MAX_SCHEDULED_ACTIONS: usize = 125;

/// CloudFormation's longest template `Description`, in bytes.
const MAX_DESCRIPTION_BYTES: usize = 1024;

/// The template's parameter: the group every resource acts on.
const GROUP: &str = "AutoScalingGroupName";

/// The policy kinds an AWS template is written for.
pub fn exportable(policy: &Policy) -> bool {
    matches!(policy, Policy::TargetTracking(_) | Policy::Step(_) | Policy::Predictive(_) | Policy::Schedule { .. })
}

/// The replayed scenario the template is written from.
#[derive(Debug, Clone, Copy)]
pub struct Replayed<'a> {
    /// The scenario's name.
    pub name: &'a str,
    /// The demand series' name.
    pub series: &'a str,
    /// Demand one instance serves at 100 % (`capacity.per_instance`).
    pub per_instance: f64,
    /// The series is itself a utilisation (percent or a 0–1 ratio), so CPU is what it
    /// measures; otherwise exporting on CPU assumes CPU rises in proportion to it.
    pub utilisation_series: bool,
}

/// The CloudFormation template of `policy` as it was replayed in `scenario`.
///
/// # Errors
/// A policy kind AWS has no counterpart for (static, HPA), an `alb_request_count` metric
/// without its target group's label, a target that comes to no positive number, or more
/// schedule changes than a group may hold, naming the setting.
pub fn template(scenario: Replayed<'_>, policy: &Policy) -> Result<AwsTemplate, String> {
    policy.validate()?;
    let mut t = Template::default();
    match policy {
        Policy::TargetTracking(tt) => {
            let m = Metric::of(tt.metric, tt.resource_label.as_deref(), scenario)?;
            t.on_metric(m, (tt.min, tt.max, tt.startup_s), true, |t, m| t.tracking("TargetTrackingPolicy", tt, m))?;
        }
        Policy::Step(s) => {
            let m = Metric::of(s.metric, s.resource_label.as_deref(), scenario)?;
            t.on_metric(m, (s.min, s.max, s.startup_s), true, |t, m| t.step(s, m))?;
        }
        Policy::Predictive(p) => {
            let m = Metric::of(p.metric, p.resource_label.as_deref(), scenario)?;
            // ForecastOnly launches nothing: an empty group is left to the dynamic policy.
            let empty = p.mode == PredictiveMode::ForecastOnly;
            t.on_metric(m, (p.min, p.max, p.startup_s), empty, |t, m| t.predictive(p, m))?;
        }
        Policy::Schedule { default, rules, time_zone, startup_s } => {
            t.schedule(*default, rules, time_zone.as_deref())?;
            t.startup(*startup_s);
        }
        Policy::Static { .. } | Policy::Hpa(_) => {
            return Err(format!("a {} policy has no AWS Auto Scaling counterpart to export", policy.kind()));
        }
    }
    // CloudFormation's Description is at most 1,024 bytes: cut at a character's edge.
    let mut description = format!("From a Headroom capacity plan: the {} policy replayed in scenario \"{}\"", policy.kind(), scenario.name);
    let mut end = description.len().min(MAX_DESCRIPTION_BYTES);
    while !description.is_char_boundary(end) {
        end -= 1;
    }
    description.truncate(end);
    let doc = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description,
        "Metadata": { "Headroom": { "Scenario": scenario.name, "Series": scenario.series, "ReplayedWith": t.notes } },
        "Parameters": { GROUP: { "Type": "String", "Description": "The Auto Scaling group to scale" } },
        "Resources": t.resources,
    });
    let mut json = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    json.push('\n');
    Ok(AwsTemplate { json, warnings: t.warnings })
}

/// A number as the template writes it: twelve significant digits, so that 0.7 × 100 is
/// 70, not 70.00000000000001 (equal inputs stay equal, so steps that meet still meet).
fn clean(v: f64) -> f64 {
    format!("{v:.11e}").parse().unwrap_or(v)
}

/// What the replay's utilisation is in the exported metric ([`AwsMetric`]).
struct Metric {
    kind: AwsMetric,
    /// `app/<alb>/<id>/targetgroup/<group>/<id>` for the ALB metrics.
    label: Option<String>,
    per_instance: f64,
    /// Said once per template: how the series was read.
    note: Option<String>,
}

impl Metric {
    fn of(kind: AwsMetric, label: Option<&str>, scenario: Replayed<'_>) -> Result<Metric, String> {
        let note = match kind {
            AwsMetric::Cpu if !scenario.utilisation_series => Some(format!(
                "the replay's utilisation is {} over {} per instance; the template scales on the group's average CPU, which is the same only where CPU rises in proportion to {} (metric = \"alb_request_count\" with the target group's resource_label scales on requests)",
                scenario.series, scenario.per_instance, scenario.series
            )),
            AwsMetric::Cpu => None,
            AwsMetric::AlbRequestCount => {
                if label.is_none() {
                    return Err(
                        "policy.resource_label: alb_request_count needs the target group's resource label (app/<alb-name>/<alb-id>/targetgroup/<group-name>/<group-id>)"
                        .into());
                }
                if !(scenario.per_instance.is_finite() && scenario.per_instance > 0.0) {
                    return Err(format!("capacity.per_instance {} is not a positive number of requests per second", scenario.per_instance));
                }
                Some(format!(
                    "request counts read the series {} as requests per second, {} per instance at 100 %",
                    scenario.series, scenario.per_instance
                ))
            }
        };
        Ok(Metric { kind, label: label.map(str::to_string), per_instance: scenario.per_instance, note })
    }

    /// A utilisation `u` as the metric's count over `seconds` (CPU: percent, whatever the
    /// period); `key` names the setting `u` comes from, should that be no finite number.
    fn value(&self, u: f64, seconds: u32, key: &str) -> Result<f64, String> {
        let v = clean(match self.kind {
            AwsMetric::Cpu => u * 100.0,
            AwsMetric::AlbRequestCount => u * self.per_instance * f64::from(seconds),
        });
        if v.is_finite() {
            Ok(v)
        } else {
            let per = if self.per_instance.abs() >= 1e15 { format!("{:e}", self.per_instance) } else { self.per_instance.to_string() };
            Err(format!("{key} × capacity.per_instance ({per}) is past the largest number a template holds"))
        }
    }

    /// `PredefinedMetricSpecification` of target tracking.
    fn tracked(&self) -> Value {
        match (&self.kind, &self.label) {
            (AwsMetric::AlbRequestCount, Some(l)) => json!({ "PredefinedMetricType": "ALBRequestCountPerTarget", "ResourceLabel": l }),
            _ => json!({ "PredefinedMetricType": "ASGAverageCPUUtilization" }),
        }
    }

    /// An alarm's metric: namespace, name, dimensions and the one statistic it takes.
    fn alarmed(&self, alarm: &mut Map<String, Value>) {
        let (namespace, name, dimension, statistic) = match (&self.kind, &self.label) {
            (AwsMetric::AlbRequestCount, Some(l)) => {
                // RequestCountPerTarget's dimension is the target group: the label's last
                // three parts, `targetgroup/<name>/<id>` (a load balancer may itself be
                // named "…targetgroup…"); "The only valid statistic is Sum".
                let parts: Vec<&str> = l.split('/').collect();
                let group = parts.get(3..).map_or_else(|| l.clone(), |p| p.join("/"));
                ("AWS/ApplicationELB", "RequestCountPerTarget", json!({ "Name": "TargetGroup", "Value": group }), "Sum")
            }
            _ => ("AWS/EC2", "CPUUtilization", json!({ "Name": GROUP, "Value": { "Ref": GROUP } }), "Average"),
        };
        alarm.insert("Namespace".into(), namespace.into());
        alarm.insert("MetricName".into(), name.into());
        alarm.insert("Dimensions".into(), json!([dimension]));
        alarm.insert("Statistic".into(), statistic.into());
    }
}

/// The template as it is built.
#[derive(Default)]
struct Template {
    resources: Map<String, Value>,
    /// What the replay assumed, for `Metadata`.
    notes: Vec<String>,
    warnings: Vec<String>,
}

impl Template {
    fn warn(&mut self, w: String) {
        self.notes.push(w.clone());
        self.warnings.push(w);
    }

    fn group_size(&mut self, min: u32, max: u32) {
        self.warn(format!(
            "the replay held the group between MinSize {min} and MaxSize {max}: set those on the Auto Scaling group, not in this template"
        ));
    }

    fn startup(&mut self, startup_s: u32) {
        self.notes.push(format!("instances serve load {startup_s} s after launch (the launch template's start-up, not this template)"));
    }

    /// A policy on metric `m` over a group of `min` to `max` instances that serve
    /// `startup_s` after launch: the group's size, what `write` adds, what an empty group
    /// does (when `empty` applies), the start-up, and how the series was read.
    fn on_metric(
        &mut self,
        m: Metric,
        (min, max, startup_s): (u32, u32, u32),
        empty: bool,
        write: impl FnOnce(&mut Self, &Metric) -> Result<(), String>,
    ) -> Result<(), String> {
        self.group_size(min, max);
        write(self, &m)?;
        if empty {
            self.empty_group(min, &m);
        }
        self.startup(startup_s);
        if let Some(note) = m.note {
            self.warn(note);
        }
        Ok(())
    }

    fn resource(&mut self, id: &str, kind: &str, properties: Value) {
        self.resources.insert(id.into(), json!({ "Type": kind, "Properties": properties }));
    }

    /// `TargetTrackingScaling` (target tracking scaling policies): the tracked metric and
    /// its target, `DisableScaleIn`, `EstimatedInstanceWarmup`.
    fn tracking(&mut self, id: &str, tt: &TargetTracking, m: &Metric) -> Result<(), String> {
        // Target tracking's predefined metrics are one-minute figures (ALBRequestCountPerTarget
        // a one-minute sum): the target is per minute whatever the replay's period.
        let value = m.value(tt.target, 60, "policy.target")?;
        if value <= 0.0 {
            return Err(format!("policy.target {} gives TargetValue {value}, not a positive number", tt.target));
        }
        self.resource(
            id,
            "AWS::AutoScaling::ScalingPolicy",
            json!({
                "AutoScalingGroupName": { "Ref": GROUP },
                "PolicyType": "TargetTrackingScaling",
                "EstimatedInstanceWarmup": tt.warmup_s,
                "TargetTrackingConfiguration": {
                    "PredefinedMetricSpecification": m.tracked(),
                    "TargetValue": value,
                    "DisableScaleIn": tt.disable_scale_in,
                },
            }),
        );
        let d = TargetTracking::default();
        self.notes.push(format!(
            "target tracking's alarms, which AWS creates and manages: a datapoint every {} s, out after {} above the target, in after {} below {} × the target",
            tt.period_s, tt.high_datapoints, tt.low_datapoints, tt.low_ratio
        ));
        if tt.period_s != 60 {
            self.warn(format!(
                "the replay read a datapoint every {} s; target tracking's metrics come every 60 s with the group's detailed monitoring (300 s with basic), which decides it",
                tt.period_s
            ));
        }
        if (tt.high_datapoints, tt.low_datapoints) != (d.high_datapoints, d.low_datapoints) || tt.low_ratio != d.low_ratio {
            self.warn(format!(
                "the replay's target tracking alarms ({} datapoints out, {} in, low alarm at {} × the target) are not AWS's observed {}, {} and {}: a policy cannot set them",
                tt.high_datapoints, tt.low_datapoints, tt.low_ratio, d.high_datapoints, d.low_datapoints, d.low_ratio
            ));
        }
        Ok(())
    }

    /// Two `StepScaling` policies, each run by its CloudWatch alarm: the high alarm above
    /// `alarm_high`, the low one below `alarm_low`, each `datapoints` of `datapoints`
    /// periods (the step adjustments' bounds are relative to the alarm's threshold, as
    /// the replay's are).
    fn step(&mut self, s: &StepScaling, m: &Metric) -> Result<(), String> {
        let p = s.period_s;
        if p == 20 {
            // PutMetricAlarm takes 20 s, CloudFormation's schema does not (cfn-lint E3615).
            return Err(
                "policy.period_s 20: CloudFormation's AWS::CloudWatch::Alarm takes a Period of 10, 30 or a multiple of 60 s; replay with one of those to export".into(),
            );
        }
        // Bounds in the metric's unit, each step's checked to stay above its lower one
        // once written (bounds 1e-13 apart would meet at twelve digits).
        let steps = |list: &[StepAdjustment], key: &str| -> Result<Value, String> {
            let mut out = Vec::with_capacity(list.len());
            for (i, a) in list.iter().enumerate() {
                let k = format!("{key}[{i}]");
                let lower = a.lower.map(|l| m.value(l, p, &format!("{k}.lower"))).transpose()?;
                let upper = a.upper.map(|u| m.value(u, p, &format!("{k}.upper"))).transpose()?;
                if let (Some(l), Some(u)) = (lower, upper)
                    && u <= l
                {
                    return Err(format!("{k}: its bounds are both {l} in the template's twelve digits: widen the step"));
                }
                let mut o = Map::new();
                if let Some(l) = lower {
                    o.insert("MetricIntervalLowerBound".into(), l.into());
                }
                if let Some(u) = upper {
                    o.insert("MetricIntervalUpperBound".into(), u.into());
                }
                // A whole number within i32 (`validate_steps`).
                o.insert("ScalingAdjustment".into(), (a.change as i64).into());
                out.push(Value::Object(o));
            }
            Ok(Value::Array(out))
        };
        let alb = m.kind == AwsMetric::AlbRequestCount;
        for (id, alarm_id, key, list, kind, threshold, operator, which, missing) in [
            (
                "ScaleOutPolicy",
                "HighAlarm",
                "policy.out",
                &s.out,
                s.out_type,
                s.alarm_high,
                "GreaterThanThreshold",
                "above",
                "notBreaching",
            ),
            ("ScaleInPolicy", "LowAlarm", "policy.in", &s.scale_in, s.in_type, s.alarm_low, "LessThanThreshold", "below", "breaching"),
        ] {
            let mut policy = json!({
                "AutoScalingGroupName": { "Ref": GROUP },
                "PolicyType": "StepScaling",
                "AdjustmentType": adjustment_type(kind),
                "MetricAggregationType": "Average",
                "EstimatedInstanceWarmup": s.warmup_s,
                "StepAdjustments": steps(list, key)?,
            });
            // MinAdjustmentMagnitude is only valid with PercentChangeInCapacity.
            if let (Some(n), AdjustmentType::PercentChangeInCapacity) = (s.min_adjustment_magnitude, kind) {
                policy["MinAdjustmentMagnitude"] = n.into();
            }
            self.resource(id, "AWS::AutoScaling::ScalingPolicy", policy);
            let level = m.value(threshold, p, if which == "above" { "policy.alarm_high" } else { "policy.alarm_low" })?;
            let mut alarm = Map::new();
            alarm.insert(
                "AlarmDescription".into(),
                format!("Runs {id} while the metric is {which} {level} for {} of {} periods", s.datapoints, s.datapoints).into(),
            );
            m.alarmed(&mut alarm);
            alarm.insert("Period".into(), p.into());
            alarm.insert("EvaluationPeriods".into(), s.datapoints.into());
            alarm.insert("DatapointsToAlarm".into(), s.datapoints.into());
            alarm.insert("Threshold".into(), level.into());
            alarm.insert("ComparisonOperator".into(), operator.into());
            alarm.insert("AlarmActions".into(), json!([{ "Ref": id }]));
            // No requests, no RequestCountPerTarget datapoint ("If there are no requests
            // … the metric is not reported"): a period without one is one of none, below
            // the low alarm and not above the high one, as the replay reads a load of 0.
            if alb {
                alarm.insert("TreatMissingData".into(), missing.into());
            }
            self.resource(alarm_id, "AWS::CloudWatch::Alarm", Value::Object(alarm));
        }
        if !s.out.iter().any(|a| a.upper.is_none_or(|u| u > 0.0)) {
            self.warn("policy.out has no step above the high alarm's threshold, where the alarm runs it: it never adds an instance".into());
        }
        if !s.scale_in.iter().any(|a| a.lower.is_none_or(|l| l < 0.0)) {
            self.warn(
                "policy.in has no step below the low alarm's threshold, where the alarm runs it: it never removes an instance".into(),
            );
        }
        if p < 60 {
            self.warn(format!(
                "the alarms' period is {p} s; CPUUtilization and RequestCountPerTarget come every 60 s at best, so a {p}-s alarm finds no datapoint in most periods (INSUFFICIENT_DATA) unless the metric is published at high resolution"
            ));
        } else if p < 300 && !alb {
            self.warn(format!(
                "the alarms read CPUUtilization every {p} s: that needs the group's detailed monitoring (basic monitoring reports every 300 s)"
            ));
        }
        Ok(())
    }

    /// What an empty group does (MinSize 0): on CPU it reports nothing and never scales
    /// out again, as replayed; on requests the replay scaled out from zero on them.
    fn empty_group(&mut self, min: u32, m: &Metric) {
        if min > 0 {
            return;
        }
        self.warn(match m.kind {
            AwsMetric::Cpu => "MinSize 0: an empty group reports no CPU, so the policy never scales it out again (the replay too); keep MinSize at 1 or more".into(),
            AwsMetric::AlbRequestCount => "MinSize 0: the replay scaled out from zero on the requests; AWS does not document RequestCountPerTarget for a target group with no targets, so check that the group does".into(),
        });
    }

    /// `PredictiveScaling` on the metric pair, and the target tracking policy it was
    /// replayed with, on the same group and metric.
    fn predictive(&mut self, p: &Predictive, m: &Metric) -> Result<(), String> {
        let (metric_type, value) = match m.kind {
            AwsMetric::Cpu => ("ASGCPUUtilization", m.value(p.target, 60, "policy.target")?),
            // ALBRequestCount's TargetValue is requests per instance per minute ("as close to
            // 1000 requests per minute as possible", PredictiveScalingMetricSpecification).
            AwsMetric::AlbRequestCount => ("ALBRequestCount", m.value(p.target, 60, "policy.target")?),
        };
        if value <= 0.0 {
            return Err(format!("policy.target {} gives TargetValue {value}, not a positive number", p.target));
        }
        let mut pair = json!({ "PredefinedMetricType": metric_type });
        if let (AwsMetric::AlbRequestCount, Some(l)) = (m.kind, &m.label) {
            pair["ResourceLabel"] = l.clone().into();
        }
        self.resource(
            "PredictivePolicy",
            "AWS::AutoScaling::ScalingPolicy",
            json!({
                "AutoScalingGroupName": { "Ref": GROUP },
                "PolicyType": "PredictiveScaling",
                "PredictiveScalingConfiguration": {
                    "MetricSpecifications": [{ "TargetValue": value, "PredefinedMetricPairSpecification": pair }],
                    "Mode": match p.mode {
                        PredictiveMode::ForecastAndScale => "ForecastAndScale",
                        PredictiveMode::ForecastOnly => "ForecastOnly",
                    },
                    "SchedulingBufferTime": p.lead_s.min(MAX_SCHEDULING_BUFFER_S - 1),
                    "MaxCapacityBreachBehavior": "HonorMaxCapacity",
                },
            }),
        );
        if let Some(level) = p.band.filter(|b| *b > 50.0) {
            self.warn(format!(
                "the replay planned on the upper edge of the forecast's {level} % band; AWS plans on its own forecast of the load, so it provisions less unless TargetValue is lowered"
            ));
        }
        if let Some(d) = &p.dynamic {
            // Said only where the dynamic policy names a metric or label of its own.
            let own_metric = d.metric != AwsMetric::Cpu && d.metric != p.metric;
            if own_metric || d.resource_label.as_ref().is_some_and(|l| Some(l) != p.resource_label.as_ref()) {
                self.warn(
                    "policy.dynamic's metric and resource_label are not used: one group has one metric, the predictive policy's".into(),
                );
            }
            // One group, one metric: the dynamic policy tracks what the predictive one plans on.
            let tt = TargetTracking { metric: p.metric, resource_label: p.resource_label.clone(), ..d.clone() };
            self.tracking("TargetTrackingPolicy", &tt, m)?;
        }
        Ok(())
    }

    /// Scheduled actions at every hour of the week where the replayed count changes, one
    /// action per hour and count with the days it falls on (`Recurrence` in cron, read in
    /// the schedule's `TimeZone` as the replay reads the rules, daylight saving included).
    /// Each sets `DesiredCapacity`, which holds as replayed while the group's size limits
    /// take it in and no other policy scales the group.
    fn schedule(&mut self, default: u32, rules: &[ScheduleRule], time_zone: Option<&str>) -> Result<(), String> {
        // The name as the time zone database spells it (AWS's TimeZone takes "the
        // canonical names of the IANA time zones"): `europe/berlin` is written
        // Europe/Berlin, UTC as Etc/UTC; an alias (US/Eastern) is written as given.
        let (zone, name) = match time_zone {
            None => (jiff::tz::TimeZone::UTC, "Etc/UTC".to_string()),
            Some(z) => crate::simulate::policy::schedule_zone(z)?,
        };
        if !name.contains('/') {
            self.warn(format!(
                "TimeZone {name} is an old-style name; AWS takes the canonical Area/Location names of the IANA database: give the place's (America/New_York, say, rather than EST5EDT)"
            ));
        }
        // At a daylight-saving change an hour is skipped or repeated: AWS says only that
        // an action "automatically adjusts for DST"; the replay reads the rules at each
        // local instant, so an action in such an hour may run otherwise in AWS.
        if crate::time::changes_offset(&zone) {
            self.notes.push(format!(
                "{name} changes its offset for daylight saving: an action in the hour skipped or repeated runs as AWS's scheduler decides, which the replay (the rules read at each local instant) may not match"
            ));
        }
        let week = ScheduleRule::week(rules, default);
        let (lowest, highest) = (week.iter().copied().min().unwrap_or(default), week.iter().copied().max().unwrap_or(default));
        // (hour, count) → the days (0 = Monday) the count changes to it at that hour.
        let mut changes: Vec<((usize, u32), Vec<usize>)> = Vec::new();
        for (h, &now) in week.iter().enumerate() {
            let before = week[(h + week.len() - 1) % week.len()];
            if now != before {
                let (dow, hour) = (h / 24, h % 24);
                match changes.iter_mut().find(|(k, _)| *k == (hour, now)) {
                    Some((_, days)) => days.push(dow),
                    None => changes.push(((hour, now), vec![dow])),
                }
            }
        }
        if changes.len() > MAX_SCHEDULED_ACTIONS {
            return Err(format!(
                "policy.rules: the schedule changes the count {} different ways a week; an Auto Scaling group holds at most {MAX_SCHEDULED_ACTIONS} scheduled actions",
                changes.len()
            ));
        }
        if changes.is_empty() {
            // The same count all week (whatever `default` says, a rule may cover every
            // hour): one daily action sets it, so that the template holds a resource
            // (CloudFormation needs one) and the group keeps the count.
            changes.push(((0, lowest), (0..7).collect()));
        }
        changes.sort_by_key(|((hour, count), days)| (days[0], *hour, *count));
        for (i, ((hour, n), days)) in changes.iter().enumerate() {
            self.resource(
                &format!("ScheduledAction{:03}", i + 1),
                "AWS::AutoScaling::ScheduledAction",
                json!({
                    "AutoScalingGroupName": { "Ref": GROUP },
                    "DesiredCapacity": n,
                    "Recurrence": format!("0 {hour} * * {}", super::cron_days(days.iter().copied())),
                    "TimeZone": name,
                }),
            );
        }
        self.warn(format!(
            "the scheduled actions set DesiredCapacity only: keep the group's MinSize at or below {lowest} and MaxSize at or above {highest}, with no other scaling policy on it, and set today's count by hand until the first action runs"
        ));
        Ok(())
    }
}

/// `AdjustmentType`'s value.
fn adjustment_type(kind: AdjustmentType) -> &'static str {
    match kind {
        AdjustmentType::ChangeInCapacity => "ChangeInCapacity",
        AdjustmentType::ExactCapacity => "ExactCapacity",
        AdjustmentType::PercentChangeInCapacity => "PercentChangeInCapacity",
    }
}
