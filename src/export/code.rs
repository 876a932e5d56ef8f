//! The plan as code: Prometheus alerting rules and a Kubernetes HPA (the AWS template is
//! [`super::aws`]). YAML is written by hand (the shapes are small and fixed) with every
//! string quoted, so that names with odd characters stay valid.

use crate::plan::Plan;
use crate::series::Series;
use crate::series::unit::plain_number;
use crate::simulate::policy::{DEFAULT_SYNC_S, DEFAULT_TOLERANCE, EffectiveRules, Hpa, HpaMetric, QUANTITY_NOISE, RatePolicy, Select};
use crate::time::format_short;
use std::fmt::Write as _;

/// A double-quoted string as both YAML and PromQL (Go's escapes) read it: `"`, `\`,
/// newline, tab and carriage return escaped by letter, other control characters as
/// `\uXXXX`. A label value with a newline written raw left a PromQL expression
/// unterminated and promtool refused the whole file.
fn q(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A label name as Prometheus can hold it (`[a-zA-Z_][a-zA-Z0-9_]*`): other characters
/// become `_` and a leading digit gets a `_` before it, as Prometheus' service discovery
/// writes a Kubernetes label `k8s-pod` as `k8s_pod`; `None` for an empty name or one
/// Prometheus reserves (`__…`). Renamed rather than dropped: two series told apart only
/// by such a label kept identical rules, each matching both.
fn label_name(k: &str) -> Option<String> {
    let name: String = k.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    let name = if name.starts_with(|c: char| c.is_ascii_digit()) { format!("_{name}") } else { name };
    (!name.is_empty() && !name.starts_with("__")).then_some(name)
}

/// Text for a rule's labels and annotations, which Prometheus expands as Go templates:
/// a `{{` of the series' own is written as a template that prints it.
fn template_text(s: &str) -> String {
    s.replace("{{", "{{ \"{{\" }}")
}

/// The series' labels as Prometheus can hold them ([`label_name`]), with a note for each
/// it renamed or left out. Names valid as they are keep them; a renamed one whose new
/// name another label already holds is left out (`k8s-pod` beside `k8s_pod`: one
/// mapping key twice made promtool refuse the file, one selector label twice matched
/// nothing).
fn prometheus_labels(s: &Series) -> (Vec<(String, &str)>, Vec<String>) {
    let mut taken: std::collections::BTreeSet<String> =
        s.labels.keys().filter(|k| label_name(k).as_deref() == Some(k.as_str())).cloned().collect();
    let mut labels = Vec::new();
    let mut notes = Vec::new();
    for (k, v) in &s.labels {
        match label_name(k) {
            Some(n) if n == *k => labels.push((n, v.as_str())),
            Some(n) if taken.insert(n.clone()) => {
                notes.push(format!("{k} as {n}"));
                labels.push((n, v.as_str()));
            }
            Some(n) => notes.push(format!("{k} left out (its name {n} is another label's)")),
            None => notes.push(format!("{k} left out (reserved)")),
        }
    }
    labels.sort();
    (labels, notes)
}

/// The PromQL selector of a series: `name{label="value", …}`.
pub fn selector(s: &Series) -> String {
    selector_with(s, &prometheus_labels(s).0)
}

/// The PromQL selector of `s` with its labels as [`prometheus_labels`] gave them.
fn selector_with(s: &Series, labels: &[(String, &str)]) -> String {
    let name = metric_name(&s.name);
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={}", q(v))).collect();
    if labels.is_empty() {
        return name;
    }
    format!("{name}{{{}}}", labels.join(", "))
}

/// The series' labels that a rule can carry ([`prometheus_labels`]; the series' own
/// `severity` as `series_severity`, the rule's being the alert's): one alert name serves
/// every labelled series of a metric, and the labels keep each series' rule distinct
/// (`promtool check rules` counts rules of the same name and labels as duplicates; two
/// series told apart by severity alone shared them). Alerts carry the series' labels
/// anyway; these repeat them.
fn rule_labels(labels: &[(String, &str)]) -> Vec<(String, String)> {
    let taken = labels.iter().any(|(k, _)| k == "series_severity");
    labels
        .iter()
        .filter_map(|(k, v)| match k.as_str() {
            "severity" if taken => None,
            "severity" => Some(("series_severity".to_string(), template_text(v))),
            _ => Some((k.clone(), template_text(v))),
        })
        .collect()
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
        // The series' labels worked out once: the selector, every rule and the comment.
        let (labels, renamed) = prometheus_labels(&ps.series);
        let sel = selector_with(&ps.series, &labels);
        let rule_labels = rule_labels(&labels);
        let unit = ps.series.unit;
        if !renamed.is_empty() {
            let _ = writeln!(
                y,
                "      # {}: label {} (Prometheus label names are [a-zA-Z_][a-zA-Z0-9_]*)",
                ps.series
                    .display_name()
                    .chars()
                    .map(|c| if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') { ' ' } else { c })
                    .collect::<String>(),
                renamed.join(", ")
            );
        }
        let name = template_text(&ps.series.display_name());
        // Alert names read the threshold as the plan shows it: a 0–1 ratio in percent.
        // (`level_label` writes past a float's noise: 0.57 × 100 is 56.99999999999999.)
        let shown = |v: f64| if unit == crate::series::Unit::Ratio { v * 100.0 } else { v };
        // Severities rise with the level, and the runway alert watches the highest,
        // whatever order the thresholds were typed in.
        let mut thresholds: Vec<&crate::capacity::Threshold> = ps.thresholds.iter().collect();
        thresholds.sort_by(|a, b| a.value.total_cmp(&b.value));
        for (i, t) in thresholds.iter().enumerate() {
            let n = thresholds.len();
            // Rising with the level: warning for the lowest, emergency for the highest of
            // three or more, critical between (and for a lone threshold).
            let severity = match i {
                _ if n == 1 => "critical",
                0 => "warning",
                _ if i + 1 == n && n >= 3 => "emergency",
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
                q(&alert_name(&ps.series, &format!("Above{}", crate::export::csv::level_label(shown(t.value)).replace('.', "_"))))
            );
            let _ = writeln!(y, "        expr: {}", q(&format!("{sel} > {}", plain_number(t.value))));
            y.push_str("        for: 10m\n        labels:\n");
            let _ = writeln!(y, "          severity: {}", q(severity));
            for (k, v) in &rule_labels {
                let _ = writeln!(y, "          {}: {}", q(k), q(v));
            }
            y.push_str("        annotations:\n");
            let _ = writeln!(y, "          summary: {}", q(&format!("{name} above {}", template_text(&t.text(unit)))));
            let _ = writeln!(y, "          description: {}", q(&format!("{name} is at {{{{ $value }}}}. {forecast_note}")));
        }
        if let Some(top) = thresholds.last() {
            let _ = writeln!(y, "      - alert: {}", q(&alert_name(&ps.series, "RunwayUnder4h")));
            let _ = writeln!(
                y,
                "        expr: {}",
                q(&format!("predict_linear({sel}[6h], 4 * 3600) > {} and {sel} <= {}", plain_number(top.value), plain_number(top.value)))
            );
            y.push_str("        for: 30m\n        labels:\n          severity: \"warning\"\n");
            for (k, v) in &rule_labels {
                let _ = writeln!(y, "          {}: {}", q(k), q(v));
            }
            y.push_str("        annotations:\n");
            let _ = writeln!(
                y,
                "          summary: {}",
                q(&format!("{name} will reach {} within 4 h at its current trend", unit.format(top.value)))
            );
        }
    }
    y
}

fn rules_yaml(y: &mut String, key: &str, r: &EffectiveRules, tolerance: Option<f64>) {
    let _ = writeln!(y, "    {key}:");
    let _ = writeln!(y, "      stabilizationWindowSeconds: {}", r.stabilization_s);
    let select = match r.select {
        Select::Max => "Max",
        Select::Min => "Min",
        Select::Disabled => "Disabled",
    };
    let _ = writeln!(y, "      selectPolicy: {select}");
    if let Some(t) = tolerance {
        let _ = writeln!(y, "      tolerance: {}", q(&quantity(t)));
    }
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

/// A Kubernetes quantity: `150`, or in milli-, micro- or nano-units (`150500m`, `50500u`).
pub fn quantity(v: f64) -> String {
    // The coarsest of units, milli, micro and nano that holds `v` exactly (a float's
    // noise aside, [`QUANTITY_NOISE`]): 0.0505 is "50500u", not "51m", which the
    // controller would read as 0.051 where the replay used 0.0505 (`AsApproximateFloat64`).
    const SCALES: [(f64, &str); 4] = [(1.0, ""), (1e3, "m"), (1e6, "u"), (1e9, "n")];
    for (scale, suffix) in SCALES {
        let x = v * scale;
        let r = x.round();
        if r != 0.0 && r.abs() < MAX_QUANTITY_MANTISSA && (x - r).abs() <= QUANTITY_NOISE * x.abs() {
            return format!("{}{suffix}", r as i64);
        }
    }
    // Finer than a nano-unit (or past the mantissa): the nearest nano-unit, the finest
    // a Quantity keeps.
    format!("{}n", (v * 1e9).round().clamp(-MAX_QUANTITY_MANTISSA, MAX_QUANTITY_MANTISSA) as i64)
}

/// Largest mantissa [`quantity`] writes: well inside an `i64`.
const MAX_QUANTITY_MANTISSA: f64 = 9e15;

/// Smallest non-zero quantity: a nano-unit, the finest a Quantity holds.
const MIN_QUANTITY: f64 = 1e-9;

/// Largest per-pod target an HPA can hold: the controller reads `averageValue` in
/// milli-units into an `int64` (`MilliValue`), and the replay holds them the same way
/// (saturating at 4.6e18 milli-units).
const MAX_AVERAGE_VALUE: f64 = 4.6e15;

/// Where an HPA manifest points and what it is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpaTarget {
    /// `metadata.name` of the HPA.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// The Deployment it scales (`scaleTargetRef.name`).
    pub deployment: String,
}

/// An HPA manifest and what the user should know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaManifest {
    /// The YAML document.
    pub yaml: String,
    /// Notes for the user (e.g. a tolerance that needs a newer cluster).
    pub warnings: Vec<String>,
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// Checks the names an exported object carries as the Kubernetes API would.
///
/// # Errors
/// The namespace, target or name it would refuse, named.
pub(super) fn check_names(target: &HpaTarget) -> Result<(), String> {
    if !is_dns_label(&target.namespace) {
        return Err(format!("namespace \"{}\" is not a DNS label (lower-case letters, digits and '-', at most 63)", target.namespace));
    }
    for (what, v) in [("target", &target.deployment), ("name", &target.name)] {
        if !is_dns_subdomain(v) {
            return Err(format!("{what} \"{v}\" is not a Kubernetes object name (lower-case letters, digits, '-' and '.', at most 253)"));
        }
    }
    Ok(())
}

/// A Kubernetes HorizontalPodAutoscaler (autoscaling/v2) that scales on what was
/// simulated: a `Resource` metric with a `Utilization` target, or a `Pods` metric with
/// an `AverageValue` of `per_instance × target` named after `series` (or
/// `metric_name`); the `behavior` that was replayed (none when none was given, so the
/// cluster runs the same controller path), with a tolerance other than the cluster's
/// default 0.1 in `behavior.*.tolerance`.
///
/// # Errors
/// A value the Kubernetes API would reject (min/max, windows, periods, policy values,
/// names), naming it.
pub fn hpa_manifest(target: &HpaTarget, hpa: &Hpa, per_instance: f64, series: &str) -> Result<HpaManifest, String> {
    hpa.validate()?;
    check_names(target)?;
    let mut warnings = Vec::new();
    let mut y = String::from("# From a Headroom capacity plan: the HPA that was simulated.\n");
    let tolerance = (hpa.tolerance != DEFAULT_TOLERANCE).then_some(hpa.tolerance);
    if let Some(t) = tolerance {
        let note = format!(
            "behavior.*.tolerance {t} needs Kubernetes 1.33+ with the HPAConfigurableTolerance feature gate (on by default from 1.35); elsewhere the cluster's tolerance (default 0.1) applies"
        );
        let _ = writeln!(y, "# {note}");
        warnings.push(note);
    }
    // What the replay assumed that an HPA object cannot say: it lives in the cluster's
    // flags, the Deployment or the metrics pipeline. Said in the file, and as a warning
    // where it differs from a default cluster.
    let _ = writeln!(
        y,
        "# Replayed with: syncs every {} s (kube-controller-manager --horizontal-pod-autoscaler-sync-period, default 15 s);",
        hpa.sync_s
    );
    let _ = writeln!(
        y,
        "# new pods ready {} s after creation (the Deployment's readinessProbe and start-up, not this object); each sync reading",
        hpa.readiness_s
    );
    y.push_str("# the metric of its own instant (metrics-server's or an adapter's sampling delay is not modelled).\n");
    if hpa.sync_s != DEFAULT_SYNC_S {
        warnings.push(format!(
            "the replay synced every {} s; the HPA object cannot set that: the cluster's --horizontal-pod-autoscaler-sync-period (default {DEFAULT_SYNC_S} s) applies",
            hpa.sync_s
        ));
    }
    if hpa.behavior().is_none() {
        y.push_str(
            "# No behavior: scale-down stabilisation is the cluster's --horizontal-pod-autoscaler-downscale-stabilization (replayed as its default, 300 s).\n",
        );
    }
    if hpa.metric == HpaMetric::Resource && hpa.metric_name.as_deref().is_some_and(|n| n != "cpu") {
        let note = format!(
            "resource \"{}\" was replayed as CPU is: usage in proportion to load, unready pods' samples left out; the controller leaves out unready pods only for cpu (groupPods)",
            hpa.metric_name.as_deref().unwrap_or_default()
        );
        let _ = writeln!(y, "# {note}");
        warnings.push(note);
    }
    y.push_str("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n");
    let _ = writeln!(y, "  name: {}", q(&target.name));
    let _ = writeln!(y, "  namespace: {}", q(&target.namespace));
    y.push_str("spec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n");
    let _ = writeln!(y, "    name: {}", q(&target.deployment));
    let _ = writeln!(y, "  minReplicas: {}\n  maxReplicas: {}", hpa.min, hpa.max);
    match hpa.metric {
        HpaMetric::Resource => {
            let name = hpa.metric_name.clone().unwrap_or_else(|| "cpu".into());
            y.push_str("  metrics:\n    - type: Resource\n      resource:\n");
            let _ = writeln!(y, "        name: {}", q(&name));
            y.push_str("        target:\n          type: Utilization\n");
            let _ = writeln!(y, "          averageUtilization: {}", hpa.target_percent());
            let percent = hpa.target * 100.0;
            if (percent - percent.round()).abs() > 1e-9 {
                warnings.push(format!(
                    "target {} is {percent:.6} %: averageUtilization is a whole percent, so the manifest says {} %, as the replay used",
                    hpa.target,
                    hpa.target_percent()
                ));
            }
        }
        HpaMetric::Pods => {
            let name = hpa.metric_name.clone().unwrap_or_else(|| metric_name(series));
            let value = per_instance * hpa.target;
            if !(value.is_finite() && value >= MIN_QUANTITY) {
                return Err(format!(
                    "the per-pod target {value} (per_instance × target) is not a positive quantity of a nano-unit or more: give the metric in a smaller unit"
                ));
            }
            if value > MAX_AVERAGE_VALUE {
                return Err(format!(
                    "the per-pod target {value} (per_instance × target) is past {MAX_AVERAGE_VALUE:e}, the most the controller reads (milli-units in 64 bits): give the metric in a larger unit"
                ));
            }
            y.push_str("  metrics:\n    - type: Pods\n      pods:\n        metric:\n");
            let _ = writeln!(y, "          name: {}", q(&name));
            y.push_str("        target:\n          type: AverageValue\n");
            let _ = writeln!(y, "          averageValue: {}", q(&quantity(value)));
        }
    }
    if let Some((up, down)) = hpa.behavior() {
        y.push_str("  behavior:\n");
        rules_yaml(&mut y, "scaleUp", &up, tolerance);
        rules_yaml(&mut y, "scaleDown", &down, tolerance);
    }
    Ok(HpaManifest { yaml: y, warnings })
}

/// A Prometheus metric name from a series name: letters, digits, '_' and ':'.
fn metric_name(series: &str) -> String {
    let name: String = series.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == ':' { c } else { '_' }).collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) { format!("_{name}") } else { name }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn series(labels: &[(&str, &str)]) -> Series {
        let labels: BTreeMap<String, String> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Series {
            name: "web_cpu_percent".into(),
            labels,
            unit: crate::series::Unit::Percent,
            start_ms: 0,
            step_ms: 300_000,
            values: vec![1.0, 2.0],
        }
    }

    #[test]
    fn a_renamed_label_never_takes_another_labels_name() {
        // `k8s-pod` would become `k8s_pod`, which the series holds already: left out, and
        // the note says why (one key twice made promtool refuse the file).
        let s = series(&[("k8s-pod", "a"), ("k8s_pod", "b"), ("a.b", "c"), ("a-b", "d"), ("__meta", "x")]);
        let (labels, notes) = prometheus_labels(&s);
        let names: Vec<&str> = labels.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, vec!["a_b", "k8s_pod"], "{notes:?}");
        assert_eq!(labels.iter().find(|(k, _)| k == "k8s_pod").unwrap().1, "b", "the label valid as it was keeps its name");
        assert_eq!(notes.len(), 4, "a-b renamed, a.b and k8s-pod left out, __meta reserved: {notes:?}");
        assert_eq!(selector(&s), "web_cpu_percent{a_b=\"d\", k8s_pod=\"b\"}");
    }
}
