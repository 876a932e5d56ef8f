//! The plan as code: Prometheus alerting rules, a Kubernetes HPA, an AWS predictive
//! scaling policy. YAML and JSON are written by hand (the shapes are small and fixed)
//! with every string quoted, so that names with odd characters stay valid.

use crate::plan::Plan;
use crate::series::Series;
use crate::simulate::policy::{Hpa, Predictive, RatePolicy, Select};
use crate::time::format_short;
use std::fmt::Write as _;

/// A YAML double-quoted scalar.
fn q(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The PromQL selector of a series: `name{label="value", …}`.
pub fn selector(s: &Series) -> String {
    let name: String = s.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == ':' { c } else { '_' }).collect();
    let name = if name.starts_with(|c: char| c.is_ascii_digit()) { format!("_{name}") } else { name };
    if s.labels.is_empty() {
        return name;
    }
    let labels: Vec<String> = s
        .labels
        .iter()
        .filter(|(k, _)| k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !k.is_empty())
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{name}{{{}}}", labels.join(", "))
}

fn alert_name(s: &Series, suffix: &str) -> String {
    let camel: String = s
        .name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect();
    format!("{camel}{suffix}")
}

/// Prometheus alerting rules: one alert per threshold of each series, and a runway
/// alert in the `predict_linear` style ("will reach the top threshold within 4 h").
pub fn prometheus_rules(plan: &Plan) -> String {
    let mut y = String::from("# Alerting rules from a Headroom capacity plan.\n# Check with: promtool check rules FILE\ngroups:\n");
    let _ = writeln!(y, "  - name: {}", q(&format!("headroom: {}", plan.inputs.title)));
    y.push_str("    rules:\n");
    for ps in &plan.series {
        let sel = selector(&ps.series);
        let unit = ps.series.unit;
        for (i, t) in ps.thresholds.iter().enumerate() {
            let severity = match (ps.thresholds.len(), i) {
                (3, 0) => "warning",
                (3, 1) => "critical",
                (3, _) => "emergency",
                (_, 0) if ps.thresholds.len() > 1 => "warning",
                _ => "critical",
            };
            let runway = ps.runway.iter().find(|c| c.threshold.value == t.value);
            let forecast_note = match runway.and_then(|c| c.median_ms) {
                Some(m) => format!("The plan forecast this crossing on {} (median).", format_short(m)),
                None => "The plan did not forecast this crossing within its horizon.".to_string(),
            };
            let _ = writeln!(
                y,
                "      - alert: {}",
                q(&alert_name(&ps.series, &format!("Above{}", crate::export::csv::level_label(t.value).replace('.', "_"))))
            );
            let _ = writeln!(y, "        expr: {}", q(&format!("{sel} > {}", t.value)));
            y.push_str("        for: 10m\n        labels:\n");
            let _ = writeln!(y, "          severity: {}", q(severity));
            y.push_str("        annotations:\n");
            let _ = writeln!(
                y,
                "          summary: {}",
                q(&format!("{} above {} ({})", ps.series.display_name(), unit.format(t.value), t.label))
            );
            let _ =
                writeln!(y, "          description: {}", q(&format!("{{{{ $labels.instance }}}} is at {{{{ $value }}}}. {forecast_note}")));
        }
        if let Some(top) = ps.thresholds.last() {
            let _ = writeln!(y, "      - alert: {}", q(&alert_name(&ps.series, "RunwayUnder4h")));
            let _ = writeln!(
                y,
                "        expr: {}",
                q(&format!("predict_linear({sel}[6h], 4 * 3600) > {} and {sel} <= {}", top.value, top.value))
            );
            y.push_str("        for: 30m\n        labels:\n          severity: \"warning\"\n        annotations:\n");
            let _ = writeln!(
                y,
                "          summary: {}",
                q(&format!("{} will reach {} within 4 h at its current trend", ps.series.display_name(), unit.format(top.value)))
            );
        }
    }
    y
}

fn rules_yaml(y: &mut String, key: &str, r: &crate::simulate::policy::Rules) {
    let _ = writeln!(y, "    {key}:");
    let _ = writeln!(y, "      stabilizationWindowSeconds: {}", r.stabilization_s);
    let select = match r.select {
        Select::Max => "Max",
        Select::Min => "Min",
        Select::Disabled => "Disabled",
    };
    let _ = writeln!(y, "      selectPolicy: {select}");
    y.push_str("      policies:\n");
    for p in &r.policies {
        match p {
            RatePolicy::Percent { value, period_s } => {
                let _ =
                    writeln!(y, "        - type: Percent\n          value: {}\n          periodSeconds: {period_s}", value.round() as i64);
            }
            RatePolicy::Pods { value, period_s } => {
                let _ = writeln!(y, "        - type: Pods\n          value: {value}\n          periodSeconds: {period_s}");
            }
        }
    }
}

/// A Kubernetes HorizontalPodAutoscaler (autoscaling/v2) for an HPA scenario, on CPU
/// utilisation, with its `behavior`.
pub fn hpa_manifest(name: &str, deployment: &str, namespace: &str, hpa: &Hpa) -> String {
    let mut y = String::from("# From a Headroom capacity plan.\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n");
    let _ = writeln!(y, "  name: {}", q(&k8s_name(name)));
    let _ = writeln!(y, "  namespace: {}", q(namespace));
    y.push_str("spec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n");
    let _ = writeln!(y, "    name: {}", q(&k8s_name(deployment)));
    let _ = writeln!(y, "  minReplicas: {}\n  maxReplicas: {}", hpa.min.max(1), hpa.max.max(hpa.min.max(1)));
    y.push_str("  metrics:\n    - type: Resource\n      resource:\n        name: cpu\n        target:\n          type: Utilization\n");
    let _ = writeln!(y, "          averageUtilization: {}", (hpa.target * 100.0).round() as i64);
    y.push_str("  behavior:\n");
    rules_yaml(&mut y, "scaleUp", &hpa.scale_up);
    rules_yaml(&mut y, "scaleDown", &hpa.scale_down);
    y
}

/// A Kubernetes object name: lower case, digits and '-', at most 63 characters.
pub fn k8s_name(s: &str) -> String {
    let mut out: String = s.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let out = out.trim_matches('-').chars().take(63).collect::<String>();
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() { "headroom".into() } else { out }
}

/// An AWS Auto Scaling predictive scaling policy (`aws autoscaling put-scaling-policy
/// --policy-type PredictiveScaling --predictive-scaling-configuration file://…`).
pub fn aws_predictive_policy(p: &Predictive) -> String {
    let mode = if p.scale_in { "ForecastAndScale" } else { "ForecastOnly" };
    format!(
        "{{\n  \"MetricSpecifications\": [\n    {{\n      \"TargetValue\": {},\n      \"PredefinedMetricPairSpecification\": {{\n        \"PredefinedMetricType\": \"ASGCPUUtilization\"\n      }}\n    }}\n  ],\n  \"Mode\": \"{mode}\",\n  \"SchedulingBufferTime\": {},\n  \"MaxCapacityBreachBehavior\": \"HonorMaxCapacity\"\n}}\n",
        (p.target * 100.0).round() as i64,
        p.lead_s.min(3600)
    )
}
