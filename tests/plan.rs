//! Exporting the plan: PDF, plan file, CSV, rules, HPA, AWS policy.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data")
}

/// One plan of the sample data with every export, made once for all tests.
fn exported() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let r = Command::new(env!("CARGO_BIN_EXE_headroom"))
            .arg("plan")
            .arg(sample())
            .arg("--scenario")
            .arg(sample().join("scenarios.toml"))
            .args(["--title", "Checkout service", "--author", "SRE team"])
            .arg("--pdf")
            .arg(d.join("plan.pdf"))
            .arg("--csv")
            .arg(d.join("csv"))
            .arg("--save")
            .arg(d.join("plan.headroom.ron"))
            .arg("--rules")
            .arg(d.join("rules.yml"))
            .arg("--hpa")
            .arg(d.join("hpa.yml"))
            .arg("--aws")
            .arg(d.join("aws.json"))
            .arg("--keda")
            .arg(d.join("keda.yml"))
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        dir
    })
    .path()
}

fn pdf_text(path: &Path) -> (usize, String) {
    let doc = lopdf::Document::load(path).expect("the PDF parses");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).unwrap_or_default();
    (pages.len(), text)
}

#[test]
fn the_pdf_parses_and_holds_the_summary() {
    let d = exported();
    let (pages, text) = pdf_text(&d.join("plan.pdf"));
    // Title, summary, four chart pages at two per page, scenarios, methods.
    assert!((5..=8).contains(&pages), "{pages} pages");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "Checkout service",
        "Executive summary",
        "Recommended:",
        "web_cpu_percent",
        "warning 65.0 %",
        "critical 80.0 %",
        "Scenarios",
        "Methods",
        "page 2 of",
    ] {
        assert!(flat.contains(needle), "{needle:?} not in the PDF text: {}", &flat[..flat.len().min(600)]);
    }
    // The recommended scenario is named in the summary, and its dates are there.
    let plan = headroom::plan::Plan::open(&d.join("plan.headroom.ron")).unwrap();
    let rec = plan.recommended().unwrap();
    assert!(flat.contains(&rec.name), "{}", rec.name);
    for ps in &plan.series {
        for c in &ps.runway {
            if let Some(e) = c.earliest_ms {
                let date = headroom::time::format_short(e);
                assert!(flat.contains(&date), "threshold date {date} not in the PDF");
            }
        }
    }
}

#[test]
fn the_same_plan_gives_the_same_bytes_and_reopens_identically() {
    let d = exported();
    let again = tempfile::tempdir().unwrap();
    let r = Command::new(env!("CARGO_BIN_EXE_headroom"))
        .arg("plan")
        .arg("--open")
        .arg(d.join("plan.headroom.ron"))
        .arg("--save")
        .arg(again.path().join("plan.headroom.ron"))
        .arg("--pdf")
        .arg(again.path().join("plan.pdf"))
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(
        std::fs::read(d.join("plan.headroom.ron")).unwrap() == std::fs::read(again.path().join("plan.headroom.ron")).unwrap(),
        "save, open, save: identical"
    );
    assert!(
        std::fs::read(d.join("plan.pdf")).unwrap() == std::fs::read(again.path().join("plan.pdf")).unwrap(),
        "the same plan, the same PDF bytes"
    );
}

#[test]
fn damaged_and_future_plan_files_are_refused_and_left_alone() {
    let d = exported();
    let text = std::fs::read_to_string(d.join("plan.headroom.ron")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.headroom.ron");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let e = headroom::plan::Plan::open(&cut).unwrap_err().to_string();
    assert!(e.starts_with("cut.headroom.ron:") && e.contains("damaged or cut off"), "{e}");
    let future = dir.path().join("future.headroom.ron");
    let newer = text.replacen(&format!("schema: {},", headroom::plan::SCHEMA_VERSION), "schema: 99,", 1);
    std::fs::write(&future, &newer).unwrap();
    let e = headroom::plan::Plan::open(&future).unwrap_err().to_string();
    assert!(e.contains("newer Headroom (plan schema 99"), "{e}");
    // The CLI refuses too, and touches neither file.
    for (path, content) in [(&cut, text[..text.len() / 2].to_string()), (&future, newer)] {
        let r = Command::new(env!("CARGO_BIN_EXE_headroom")).arg("plan").arg("--open").arg(path).arg("--save").arg(path).output().unwrap();
        assert!(!r.status.success());
        assert_eq!(std::fs::read_to_string(path).unwrap(), content, "never overwritten");
    }
}

#[test]
fn csv_exports_escape_formulas_and_keep_the_contract() {
    let d = exported().join("csv");
    let forecast = std::fs::read_to_string(d.join("forecast.csv")).unwrap();
    assert_eq!(forecast.lines().next(), Some("timestamp,series,forecast,lower_80,upper_80,lower_95,upper_95"));
    let runway = std::fs::read_to_string(d.join("runway.csv")).unwrap();
    // The runway command's columns first, in its format, then the plan's two.
    assert_eq!(
        runway.lines().next(),
        Some("series,threshold,median_crossing,earliest_crossing,latest_crossing,breach_probability,label,level")
    );
    assert_eq!(runway.lines().count(), 1 + 3, "web_cpu_percent has three default thresholds");
    let summary = std::fs::read_to_string(d.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 1 + 8);
    assert!(!forecast.contains('e') || !forecast.lines().skip(1).any(|l| l.split(',').skip(2).any(|c| c.contains('e'))), "plain decimals");
    // A name that would run as a formula is escaped.
    let mut buf = Vec::new();
    let s = headroom::series::Series {
        name: "=HYPERLINK(\"x\")".into(),
        labels: Default::default(),
        unit: headroom::series::Unit::None,
        start_ms: 0,
        step_ms: 1000,
        values: vec![1.0, 2.0],
    };
    headroom::export::csv::write_series_long(&mut buf, &[s]).unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert!(text.lines().nth(1).unwrap().contains(",\"'=HYPERLINK(\"\"x\"\")\","), "{text}");
}

#[test]
fn the_rules_pass_promtool() {
    let r = Command::new("promtool")
        .args(["check", "rules"])
        .arg(exported().join("rules.yml"))
        .output()
        .expect("promtool (Debian: apt-get install prometheus)");
    assert!(r.status.success(), "{}{}", String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(&r.stderr));
    let text = std::fs::read_to_string(exported().join("rules.yml")).unwrap();
    assert!(text.contains("predict_linear(web_cpu_percent[6h], 4 * 3600) > 90"), "{text}");
}

/// Two daily-cycle series of web_cpu_percent in long form, at 40 and 45 %, with the
/// header's extra columns filled by `extra(k)` for the k-th series.
fn two_series(header: &str, extra: impl Fn(usize) -> String) -> String {
    let mut text = format!("timestamp,series,value,{header}\n");
    for i in 0..(3 * 288) {
        for (k, base) in [40.0, 45.0].into_iter().enumerate() {
            let v = base + 10.0 * ((i % 288) as f64 / 288.0 * std::f64::consts::TAU).sin();
            text.push_str(&format!("{},web_cpu_percent,{v:.2},{}\n", 1_767_225_600 + i * 300, extra(k)));
        }
    }
    text
}

/// The rules `plan --horizon 1d … --rules` writes for `csv_text` (a file named `name`,
/// with `args` besides), once promtool's strictest lint has loaded them without a
/// duplicate.
fn checked_rules(name: &str, csv_text: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join(name);
    std::fs::write(&csv, csv_text).unwrap();
    let rules = dir.path().join("rules.yml");
    let r = Command::new(env!("CARGO_BIN_EXE_headroom"))
        .arg("plan")
        .arg(&csv)
        .args(["--horizon", "1d"])
        .args(args)
        .arg("--rules")
        .arg(&rules)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let r = Command::new("promtool").args(["check", "rules", "--lint=all", "--lint-fatal"]).arg(&rules).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(&r.stderr));
    let text = std::fs::read_to_string(&rules).unwrap();
    assert!(r.status.success() && !said.contains("duplicate"), "{said}\n{text}");
    text
}

/// Labels Prometheus cannot hold as they are: names with a dash or a leading digit are
/// renamed as its service discovery renames them (`k8s-pod` → `k8s_pod`), reserved `__`
/// names are left out, and values with a newline, a tab or a template's `{{` are
/// escaped, so promtool loads every rule and series told apart by such labels keep rules
/// of their own (from the export review: each of these made promtool refuse the file, or
/// two series share one rule).
#[test]
fn rules_of_labels_prometheus_cannot_hold_as_they_are_still_load() {
    let text = checked_rules(
        "long.csv",
        &two_series("k8s-pod,9zone,__meta,note", |k| format!("p-{},\"eu\nwest\t1\",x,{{{{ end }}}}", k + 1)),
        &[],
    );
    assert_eq!(text.matches("\"k8s_pod\": \"p-2\"").count(), 4, "three thresholds and the runway alert: {text}");
    assert!(text.contains(r#"_9zone=\"eu\\nwest\\t1\""#), "{text}");
    let reserved = |l: &str| (l.trim_start().starts_with("expr:") && l.contains("__meta")) || l.trim_start().starts_with("\"__meta\":");
    assert!(!text.lines().any(reserved), "{text}");
}

/// Two instances of one metric get rules of the same alert names told apart by their
/// labels: promtool's lint counts rules of one name and the same labels as duplicates.
#[test]
fn rules_of_labelled_series_are_not_duplicates() {
    let text = checked_rules("long.csv", &two_series("instance", |k| ["a", "b"][k].to_string()), &[]);
    assert_eq!(text.matches("\"instance\": \"b\"").count(), 4, "three thresholds and the runway alert: {text}");
    // Told apart by their own severity alone: kept as series_severity beside the rule's.
    let text = checked_rules("long.csv", &two_series("severity", |k| ["page", "ticket"][k].to_string()), &[]);
    assert_eq!(text.matches("\"series_severity\": \"ticket\"").count(), 4, "{text}");
}

#[test]
fn the_hpa_manifest_is_an_autoscaling_v2_hpa() {
    let text = std::fs::read_to_string(exported().join("hpa.yml")).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).expect("valid YAML");
    let hpa = &docs[0];
    assert_eq!(hpa["apiVersion"].as_str(), Some("autoscaling/v2"));
    assert_eq!(hpa["kind"].as_str(), Some("HorizontalPodAutoscaler"));
    assert!(hpa["metadata"]["name"].as_str().is_some_and(|n| !n.is_empty()));
    let spec = &hpa["spec"];
    assert_eq!(spec["scaleTargetRef"]["kind"].as_str(), Some("Deployment"));
    assert!(spec["scaleTargetRef"]["name"].as_str().is_some());
    assert_eq!(spec["minReplicas"].as_i64(), Some(3));
    assert_eq!(spec["maxReplicas"].as_i64(), Some(40));
    // The sample HPA scales on requests per second per pod: 250 per pod at 60 % = 150.
    assert_eq!(spec["metrics"][0]["type"].as_str(), Some("Pods"));
    assert_eq!(spec["metrics"][0]["pods"]["metric"]["name"].as_str(), Some("api_requests_per_second"));
    assert_eq!(spec["metrics"][0]["pods"]["target"]["averageValue"].as_str(), Some("150"));
    assert!(spec["behavior"].is_badvalue(), "no behavior was simulated, none is written");
    // The AWS template is the recommendation among the AWS scenarios by the plan's rule
    // (cheapest within the risk budget of 0.1 % of 20,160 minutes): predictive, 7.4
    // expected minutes over target; target tracking (60) and the schedule and step
    // policies are past it. Requests through an ALB: 250 per instance at 60 % is 150
    // req/s, 9,000 requests per instance per minute, for both the predictive policy and
    // the target tracking it was replayed with.
    let aws: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(exported().join("aws.json")).unwrap()).unwrap();
    assert_eq!(aws["AWSTemplateFormatVersion"], "2010-09-09");
    assert!(aws["Description"].as_str().unwrap().contains("predictive on the 80 % band"));
    let predictive = &aws["Resources"]["PredictivePolicy"]["Properties"];
    assert_eq!(predictive["PolicyType"], "PredictiveScaling");
    let c = &predictive["PredictiveScalingConfiguration"];
    assert_eq!(c["Mode"], "ForecastAndScale");
    assert_eq!(c["SchedulingBufferTime"], 300);
    let pair = &c["MetricSpecifications"][0]["PredefinedMetricPairSpecification"];
    assert_eq!(pair["PredefinedMetricType"], "ALBRequestCount");
    assert!(pair["ResourceLabel"].as_str().is_some_and(|l| l.starts_with("app/") && l.contains("/targetgroup/")));
    assert_eq!(c["MetricSpecifications"][0]["TargetValue"].as_f64(), Some(9000.0));
    let tracking = &aws["Resources"]["TargetTrackingPolicy"]["Properties"]["TargetTrackingConfiguration"];
    assert_eq!(tracking["PredefinedMetricSpecification"]["PredefinedMetricType"], "ALBRequestCountPerTarget");
    assert_eq!(tracking["TargetValue"].as_f64(), Some(9000.0));
}

#[test]
fn the_keda_export_is_the_sample_schedule_on_its_hours() {
    // The one schedule scenario: weekdays 09–21 UTC at 20, weekends 10–20 at 12, else 6.
    let text = std::fs::read_to_string(exported().join("keda.yml")).unwrap();
    let doc = &yaml_rust2::YamlLoader::load_from_str(&text).expect("valid YAML")[0];
    assert_eq!(doc["kind"].as_str(), Some("ScaledObject"));
    assert_eq!(doc["metadata"]["name"].as_str(), Some("schedule-business-hours"));
    let spec = &doc["spec"];
    assert_eq!(spec["scaleTargetRef"]["name"].as_str(), Some("api-requests-per-second"));
    assert_eq!((spec["minReplicaCount"].as_i64(), spec["maxReplicaCount"].as_i64()), (Some(6), Some(20)));
    let triggers: Vec<(String, String, String)> = spec["triggers"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|t| {
            let m = &t["metadata"];
            assert_eq!(m["timezone"].as_str(), Some("Etc/UTC"));
            (m["start"].as_str().unwrap().into(), m["end"].as_str().unwrap().into(), m["desiredReplicas"].as_str().unwrap().into())
        })
        .collect();
    let t = |a: &str, b: &str, n: &str| (a.to_string(), b.to_string(), n.to_string());
    assert_eq!(triggers, vec![t("0 9 * * 1,2,3,4,5", "0 21 * * 1,2,3,4,5", "20"), t("0 10 * * 0,6", "0 20 * * 0,6", "12")]);
}

/// A series too short to forecast is named in the warnings every export carries (stderr
/// and warnings.csv), not dropped without a word; with nothing forecast at all the plan
/// fails and writes nothing.
#[test]
fn a_series_that_cannot_be_forecast_is_named_and_a_plan_of_none_fails() {
    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("short_cpu_percent.csv");
    std::fs::write(&short, "timestamp,value\n2026-01-01T00:00:00Z,1\n2026-01-01T00:05:00Z,2\n2026-01-01T00:10:00Z,3\n").unwrap();
    let run = |inputs: &[&Path], csv: &Path| {
        Command::new(env!("CARGO_BIN_EXE_headroom")).arg("plan").args(inputs).arg("--csv").arg(csv).output().unwrap()
    };
    let r = run(&[&short, &sample().join("web_cpu_percent.csv")], &dir.path().join("both"));
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{stderr}");
    assert!(stderr.contains("short_cpu_percent: not forecast: has 3 values"), "{stderr}");
    let warnings = std::fs::read_to_string(dir.path().join("both").join("warnings.csv")).unwrap();
    assert!(warnings.lines().any(|l| l.starts_with("short_cpu_percent,not forecast")), "{warnings}");
    let r = run(&[&short], &dir.path().join("none"));
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("no series could be forecast"), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(!dir.path().join("none").join("forecast.csv").exists(), "nothing written");
}

/// A reopened plan takes a new title and author for its export and leaves the file as it
/// was; flags that would rebuild it (a horizon, a time zone) are refused, not ignored.
#[test]
fn a_reopened_plan_is_renamed_for_export_and_refuses_rebuild_flags() {
    let dir = tempfile::tempdir().unwrap();
    let saved = exported().join("plan.headroom.ron");
    let before = std::fs::read(&saved).unwrap();
    let pdf = dir.path().join("renamed.pdf");
    let r = Command::new(env!("CARGO_BIN_EXE_headroom"))
        .args(["plan", "--open"])
        .arg(&saved)
        .args(["--title", "Payments review", "--author", "On-call"])
        .arg("--pdf")
        .arg(&pdf)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let (_, text) = pdf_text(&pdf);
    assert!(text.contains("Payments review") && text.contains("On-call"), "{text}");
    assert!(!text.contains("Checkout service"), "the old title is gone");
    assert_eq!(std::fs::read(&saved).unwrap(), before, "the plan file is not written");
    for flag in [["--horizon", "7d"], ["--timezone", "Europe/Berlin"]] {
        let r = Command::new(env!("CARGO_BIN_EXE_headroom")).args(["plan", "--open"]).arg(&saved).args(flag).output().unwrap();
        assert!(!r.status.success(), "{flag:?} with --open");
        assert!(String::from_utf8_lossy(&r.stderr).contains("cannot be used with"), "{}", String::from_utf8_lossy(&r.stderr));
    }
}

/// A 0–1 ratio's thresholds typed in percent and out of order: severities rise with the
/// level (the highest of four is the emergency), the runway alert watches the highest,
/// and no float noise reaches an expression or a name (99.99 % is 0.9999, not
/// 0.9998999999999999; from the review's hostile run).
#[test]
fn ratio_thresholds_typed_out_of_order_read_as_levels() {
    let mut csv = String::from("timestamp,value\n");
    for i in 0..(3 * 288) {
        let v = 0.4 + 0.1 * ((i % 288) as f64 / 288.0 * std::f64::consts::TAU).sin();
        csv.push_str(&format!("{},{v:.4}\n", 1_767_225_600 + i * 300));
    }
    let text = checked_rules("disk_utilization.csv", &csv, &["--thresholds", "99.99,10,30,20"]);
    let severities: Vec<&str> = text.lines().filter_map(|l| l.trim().strip_prefix("severity: ")).collect();
    assert_eq!(severities, vec!["\"warning\"", "\"critical\"", "\"critical\"", "\"emergency\"", "\"warning\""], "{text}");
    assert!(text.contains("disk_utilization > 0.9999\""), "{text}");
    assert!(text.contains("> 0.9999 and disk_utilization <= 0.9999"), "{text}");
    assert!(text.contains("\"DiskUtilizationAbove99_99\""), "{text}");
}
