//! Writing results out. Every writer takes `impl Write`, so the same code serves files,
//! the GUI's save dialogs and tests. Output is deterministic: same input, same bytes.

pub mod aws;
pub mod code;
pub mod csv;
pub mod keda;
pub mod pdf;

use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::simulate::{Outcome, Policy};
use std::path::Path;

/// Writes every CSV of a plan into `dir`: `forecast.csv` (the forecast contract),
/// `runway.csv`, `warnings.csv` (`series,message`: what was repaired or doubtful), and
/// with scenarios `steps.csv` and `summary.csv`.
///
/// # Errors
/// The directory or a file cannot be written.
pub fn write_csv_dir(plan: &Plan, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let forecasts: Vec<crate::forecast::Forecast> = plan.series.iter().filter_map(|p| p.forecast.as_ref().ok().cloned()).collect();
    let mut buf = Vec::new();
    csv::write_forecasts(&mut buf, &forecasts, &plan.inputs.settings.levels).map_err(|e| Error::io(dir, e))?;
    crate::files::atomic_write(&dir.join("forecast.csv"), &buf)?;
    let mut buf = Vec::new();
    csv::write_runway(&mut buf, plan).map_err(|e| Error::io(dir, e))?;
    crate::files::atomic_write(&dir.join("runway.csv"), &buf)?;
    let mut text = String::from("series,message\n");
    for w in &plan.warnings {
        text.push_str(&format!("{},{}\n", csv::text_cell(&w.series), csv::text_cell(&w.message)));
    }
    crate::files::atomic_write(&dir.join("warnings.csv"), text.as_bytes())?;
    if let Some(sc) = &plan.scenarios {
        let within = crate::simulate::recommended_within(&sc.outcomes, sc.recommended, plan.horizon_minutes(), sc.file.risk_budget);
        write_outcomes_csv(dir, &sc.outcomes, sc.recommended, within)?;
    }
    Ok(())
}

/// Minutes as they are, to two decimals at most: they come in quarters (the replay's
/// 15-s clock), and rounded half to even 2.5 read "2" where the CSV says 2.5.
pub fn minutes(v: f64) -> String {
    format!("{v:.2}").trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Writes `steps.csv` (per step per scenario) and `summary.csv` (one row per scenario)
/// into `dir`, which must exist.
///
/// # Errors
/// A file cannot be written.
pub fn write_outcomes_csv(dir: &Path, outcomes: &[Outcome], recommended: Option<usize>, within_budget: bool) -> Result<()> {
    let mut buf = Vec::new();
    csv::write_steps_csv(&mut buf, outcomes).map_err(|e| Error::io(dir, e))?;
    crate::files::atomic_write(&dir.join("steps.csv"), &buf)?;
    let mut buf = Vec::new();
    csv::write_summary_csv(&mut buf, outcomes, recommended, within_budget).map_err(|e| Error::io(dir, e))?;
    crate::files::atomic_write(&dir.join("summary.csv"), &buf)
}

/// The scenario an export is written from: the recommendation among the scenarios whose
/// policy `kind` accepts, by the plan's own rule ([`crate::simulate::recommend`]: the
/// cheapest within the risk budget, else the least risky), so the recommended scenario
/// itself when it is one; the first such scenario when the plan has no outcomes for them.
/// (The first of the kind, whatever its risk, was written before: an AWS export of the
/// sample was the business-hours schedule, 74 % likely to saturate.)
fn export_scenario(plan: &Plan, kind: impl Fn(&Policy) -> bool) -> Option<&crate::simulate::Scenario> {
    let sc = plan.scenarios.as_ref()?;
    let list = &sc.file.scenario;
    let of_kind = |i: &usize| list.get(*i).is_some_and(|s| kind(&s.policy));
    let outcomes = sc.outcomes.iter().enumerate().filter(|(i, _)| of_kind(i));
    let best = (sc.outcomes.len() == list.len())
        .then(|| crate::simulate::recommend_among(outcomes, plan.horizon_minutes(), sc.file.risk_budget))
        .flatten();
    best.or_else(|| (0..list.len()).find(of_kind)).and_then(|i| list.get(i))
}

/// cron's day-of-week list (0 = Sunday, ascending, each once) of `days` counted from
/// Monday (0): the AWS scheduled actions and the KEDA triggers both write it.
pub(crate) fn cron_days(days: impl IntoIterator<Item = usize>) -> String {
    let mut cron: Vec<usize> = days.into_iter().map(|d| (d + 1) % 7).collect();
    cron.sort_unstable();
    cron.dedup();
    cron.iter().map(usize::to_string).collect::<Vec<_>>().join(",")
}

/// Where a Kubernetes export of scenario `s` points: named after the scenario, in
/// `namespace` (default `default`), scaling `target` (default: the series' name).
fn k8s_target(s: &crate::simulate::Scenario, namespace: Option<&str>, target: Option<&str>) -> code::HpaTarget {
    let deployment = target.map_or_else(|| code::k8s_name(&s.series), str::to_string);
    code::HpaTarget { name: code::k8s_name(&s.name), namespace: namespace.unwrap_or("default").to_string(), deployment }
}

/// The HPA manifest of a plan: from the recommended scenario when it is an HPA, else
/// from the recommendation among the HPA scenarios ([`export_scenario`]).
///
/// # Errors
/// The plan has no HPA scenario.
pub fn hpa_for_plan(plan: &Plan, namespace: Option<&str>, target: Option<&str>) -> Result<code::HpaManifest> {
    let none = || Error::setting("hpa", "no scenario has an HPA policy (give a scenario file with kind = \"hpa\")");
    let s = export_scenario(plan, |p| matches!(p, Policy::Hpa(_))).ok_or_else(none)?;
    let Policy::Hpa(h) = &s.policy else { return Err(none()) };
    code::hpa_manifest(&k8s_target(s, namespace, target), h, s.capacity.per_instance, &s.series)
        .map_err(|m| Error::setting("hpa", format!("scenario \"{}\": {m}", s.name)))
}

/// The KEDA `ScaledObject` of a plan ([`keda`]): from the recommendation among the
/// schedule scenarios ([`export_scenario`]), the recommended scenario itself when it is
/// one.
///
/// # Errors
/// The plan has no schedule scenario, or a name or zone Kubernetes or KEDA would refuse.
pub fn keda_for_plan(plan: &Plan, namespace: Option<&str>, target: Option<&str>) -> Result<keda::KedaManifest> {
    let none = || Error::setting("keda", "no scenario has a schedule policy (give a scenario file with kind = \"schedule\")");
    let s = export_scenario(plan, |p| matches!(p, Policy::Schedule { .. })).ok_or_else(none)?;
    let Policy::Schedule { default, rules, time_zone, .. } = &s.policy else { return Err(none()) };
    keda::scaled_object(&k8s_target(s, namespace, target), *default, rules, time_zone.as_deref())
        .map_err(|m| Error::setting("keda", format!("scenario \"{}\": {m}", s.name)))
}

/// The AWS CloudFormation template of a plan ([`aws`]): from the recommended scenario
/// when AWS has its policy (target tracking, step, predictive, schedule), else from the
/// recommendation among those scenarios ([`export_scenario`]).
///
/// # Errors
/// The plan has no such scenario, or its policy cannot be written (named).
pub fn aws_for_plan(plan: &Plan) -> Result<aws::AwsTemplate> {
    let none = || {
        Error::setting(
            "aws",
            "no scenario has an AWS policy (give a scenario file with kind = \"target_tracking\", \"step\", \"predictive\" or \"schedule\")",
        )
    };
    let s = export_scenario(plan, aws::exportable).ok_or_else(none)?;
    let utilisation_series = plan.series.iter().find(|p| p.series.name == s.series).is_some_and(|p| p.series.unit.is_percent_like());
    let replayed = aws::Replayed { name: &s.name, series: &s.series, per_instance: s.capacity.per_instance, utilisation_series };
    aws::template(replayed, &s.policy).map_err(|m| Error::setting("aws", format!("scenario \"{}\": {m}", s.name)))
}
