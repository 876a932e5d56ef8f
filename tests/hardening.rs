//! Untrusted input: every reproducer of a crash found by fuzzing the command line is
//! now a located error, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use headroom::plan::Plan;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

fn sample() -> &'static Path {
    static P: OnceLock<std::path::PathBuf> = OnceLock::new();
    P.get_or_init(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data"))
}

/// Runs the binary; returns (success, stderr). Fails the test on a panic or a signal.
fn run(args: &[&str]) -> (bool, String) {
    let r = Command::new(env!("CARGO_BIN_EXE_headroom")).args(args).env("RUST_BACKTRACE", "0").output().unwrap();
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert!(!err.contains("panicked"), "panic for {args:?}: {err}");
    assert!(r.status.code().is_some(), "killed by a signal for {args:?}: {err}");
    (r.status.success(), err)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn damaged_csv_gives_one_located_line() {
    let dir = tempfile::tempdir().unwrap();
    // A truncated download ending in a quote: polars-io 0.55.2 reads out of bounds on it
    // (csv/read/parser.rs:1154); the importer stops it first.
    let f = write(dir.path(), "cut.csv", "a,b\n\"");
    let (ok, err) = run(&["forecast", &f, "--horizon", "12"]);
    assert!(!ok);
    assert!(err.contains("cut.csv:2:1:") && err.contains("never ends"), "{err}");
    // A quote inside a field, then an odd count (found by `headroom bench fuzz`): the
    // same out-of-bounds read in polars, stopped first.
    let f = write(dir.path(), "odd.csv", "a,b\"\n\"\0\n\"");
    let (ok, err) = run(&["forecast", &f, "--horizon", "12"]);
    assert!(!ok && err.contains("odd.csv:1:4:") && err.contains("a quote inside a field"), "{err}");
    let f = write(dir.path(), "tab.csv", "a,b\n\t\"\0\n\"");
    let (ok, err) = run(&["forecast", &f, "--horizon", "12"]);
    assert!(!ok && err.contains("tab.csv:2:2:") && err.contains("a quote inside a field"), "{err}");
    // A number with a space inside its quotes: the line and column, not polars' advice.
    let f = write(dir.path(), "pad.csv", "timestamp,value\n2026-09-28T00:00:00Z,\"17 \"\n2026-09-28T00:05:00Z,18\n");
    let (_, err) = run(&["forecast", &f, "--horizon", "12"]);
    assert_eq!(err.trim_end(), "error: pad.csv:2:2: \"17 \" is not a number: remove the spaces after it");
    // A quoted cell of hundreds of lines is shown by its first line.
    let long: String = (0..300).map(|i| format!("line {i}\n")).collect();
    let f = write(dir.path(), "long.csv", &format!("timestamp,value\n2026-09-28T00:00:00Z,\"17\n{long}\"\n2026-09-28T00:05:00Z,18\n"));
    let (_, err) = run(&["forecast", &f, "--horizon", "12"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("long.csv:2:2:"), "{err}");
    // Epoch timestamps at the ends of i64.
    let f = write(dir.path(), "epoch.csv", "timestamp,value\n-9223372036854775808,1\n9223372036854775807,2\n");
    let (ok, err) = run(&["forecast", &f, "--horizon", "12"]);
    assert!(!ok && err.contains("outside the years 1000 to 9999"), "{err}");
}

#[test]
fn damaged_query_range_json_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "q.json",
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[-1e300,"1"],[1e300,"2"]]}]}}"#,
    );
    let (ok, err) = run(&["forecast", &f, "--horizon", "12"]);
    assert!(!ok && err.contains("outside the years 1000 to 9999"), "{err}");
}

#[test]
fn huge_settings_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let csv = sample().join("web_cpu_percent.csv");
    let csv = csv.to_str().unwrap();
    let (ok, err) = run(&["forecast", csv, "--horizon", "99999999d"]);
    assert!(!ok && err.contains("horizon"), "{err}");
    let (ok, err) = run(&["forecast", csv, "--horizon", "12", "--period", "18446744073709551615"]);
    assert!(!ok && err.contains("period"), "{err}");
    // Scenario files: an infinite or huge step change, absurd path counts.
    let base = std::fs::read_to_string(sample().join("scenarios.toml")).unwrap();
    let api = sample().join("api_requests_per_second.csv");
    for (from, to, expect) in [
        ("{ lower = 0.1, change = 2.0 }", "{ lower = 0.1, change = inf }", "change must be a whole number"),
        ("{ lower = 0.1, change = 2.0 }", "{ lower = 0.1, change = 5e9 }", "change must be a whole number"),
        ("paths = 200", "paths = 9223372036854775807", "paths"),
        ("paths = 200", "paths = 1000000000", "paths"),
    ] {
        assert!(base.contains(from), "the sample scenario file changed: {from}");
        let f = write(dir.path(), "s.toml", &base.replace(from, to));
        let out = dir.path().join("out");
        let (ok, err) = run(&["simulate", "--scenario", &f, "--data", api.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert!(!ok && err.contains(expect), "{to}: {err}");
        assert_eq!(err.lines().count(), 1, "one line, not one per worker thread: {err}");
    }
}

/// A saved plan of the sample, made once.
fn plan_text() -> &'static str {
    static T: OnceLock<String> = OnceLock::new();
    T.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.headroom.ron");
        let scen = sample().join("scenarios.toml");
        let (ok, err) = run(&["plan", sample().to_str().unwrap(), "--scenario", scen.to_str().unwrap(), "--save", p.to_str().unwrap()]);
        assert!(ok, "{err}");
        std::fs::read_to_string(p).unwrap()
    })
}

/// `text` with the number after the `n`-th `key: ` replaced by `new`.
fn set_nth(text: &str, key: &str, n: usize, new: &str) -> String {
    let pat = format!("{key}: ");
    let at = text.match_indices(&pat).nth(n).unwrap_or_else(|| panic!("no {key} #{n}")).0 + pat.len();
    let end = at + text[at..].find([',', '\n', ')']).unwrap();
    format!("{}{new}{}", &text[..at], &text[end..])
}

/// `text` with the `n`-th `key: [ … ]` list one item shorter (or emptied).
fn shorten_nth(text: &str, key: &str, n: usize, empty: bool) -> String {
    let pat = format!("{key}: [");
    let at = text.match_indices(&pat).nth(n).unwrap().0 + pat.len();
    let end = at + text[at..].find(']').unwrap();
    let items: Vec<&str> = text[at..end].split(',').collect();
    let kept = if empty { String::new() } else { items[..items.len() - 1].join(",") };
    format!("{}{kept}{}", &text[..at], &text[end..])
}

#[test]
fn damaged_plan_fields_are_named_not_panics() {
    let text = plan_text();
    let path = Path::new("p.headroom.ron");
    Plan::parse(text, path).unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        ("lower one short", shorten_nth(text, "lower", 0, false), "bands[0].lower has"),
        ("upper one short", shorten_nth(text, "upper", 0, false), "bands[0].upper has"),
        ("lower empty", shorten_nth(text, "lower", 0, true), "bands[0].lower has 0 values"),
        ("point one short", shorten_nth(text, "point", 0, false), "values for"),
        (
            "min above max",
            set_nth(text, "min", text.match_indices("min: ").position(|(i, _)| text[i..].starts_with("min: 3,")).unwrap(), "1000"),
            "is above",
        ),
        ("series start i64::MAX", set_nth(text, "start_ms", 0, "9223372036854775807"), "series.start_ms"),
        ("series start i64::MIN", set_nth(text, "start_ms", 0, "-9223372036854775808"), "series.start_ms"),
        ("forecast start i64::MAX", set_nth(text, "start_ms", 1, "9223372036854775807"), "forecast.start_ms"),
        ("series step i64::MIN", set_nth(text, "step_ms", 0, "-9223372036854775808"), "series.step_ms"),
        ("forecast step i64::MIN", set_nth(text, "step_ms", 1, "-9223372036854775808"), "forecast.step_ms"),
        ("paths 2^32", set_nth(text, "paths", 0, "4294967296"), "paths"),
        ("paths u64::MAX", set_nth(text, "paths", 0, "18446744073709551615"), "paths"),
        ("per_instance 0", set_nth(text, "per_instance", 0, "0.0"), "per_instance"),
        ("level 150", set_nth(text, "runway_level", 0, "150.0"), "runway_level"),
        ("risk budget NaN", set_nth(text, "risk_budget", 0, "NaN"), "risk_budget"),
        ("recommended out of range", text.replacen("recommended: Some(", "recommended: Some(99", 1), "recommended"),
    ];
    for (what, damaged, expect) in cases {
        assert_ne!(damaged, text, "{what}: the mutation changed nothing");
        let err = Plan::parse(&damaged, path).expect_err(what).to_string();
        assert!(err.contains(expect) && err.starts_with("p.headroom.ron"), "{what}: {err}");
    }
}

#[test]
fn an_unwritable_output_fails_before_the_work_and_says_so_once() {
    let t = std::time::Instant::now();
    let scen = sample().join("scenarios.toml");
    let (ok, err) =
        run(&["plan", sample().to_str().unwrap(), "--scenario", scen.to_str().unwrap(), "--save", "/dev/null/plan.headroom.ron"]);
    let secs = t.elapsed().as_secs_f64();
    assert!(!ok && err.contains("/dev/null/plan.headroom.ron"), "{err}");
    assert!(secs < 3.0, "found only after {secs} s of work");
    assert_eq!(err.matches("does not exist").count() + err.matches("Not a directory").count(), 1, "said once: {err}");
}

#[test]
fn temporary_files_of_a_killed_save_are_cleaned_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join(".headroom-killed");
    let fresh = dir.path().join(".headroom-running");
    std::fs::write(&stale, "half a plan").unwrap();
    std::fs::write(&fresh, "another save in progress").unwrap();
    let ok = Command::new("touch").args(["-d", "2 hours ago"]).arg(&stale).status().unwrap();
    assert!(ok.success());
    headroom::files::atomic_write(&dir.path().join("out.txt"), b"new").unwrap();
    assert!(!stale.exists(), "a temporary file hours old is a killed save's");
    assert!(fresh.exists(), "a recent one may be another save's");
    assert_eq!(std::fs::read(dir.path().join("out.txt")).unwrap(), b"new");
}

#[test]
fn kill_nine_during_a_save_leaves_the_old_or_the_new_plan() {
    // The target starts as plan B; each run saves plan A over it and is killed at a
    // random moment. Afterwards the target is always exactly A or exactly B.
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.headroom.ron");
    std::fs::write(&a, plan_text()).unwrap();
    let b_text = plan_text().replacen("title: \"Capacity review\"", "title: \"Before\"", 1);
    assert_ne!(b_text, plan_text());
    let target = dir.path().join("t.headroom.ron");
    std::fs::write(&target, &b_text).unwrap();
    // How long one save takes here; the kills fall from 60 % to 110 % of it.
    let t = std::time::Instant::now();
    let (ok, err) = run(&["plan", "--open", a.to_str().unwrap(), "--save", dir.path().join("timing.headroom.ron").to_str().unwrap()]);
    assert!(ok, "{err}");
    let full = t.elapsed().as_millis() as u64;
    let mut seed = 0x9e37_79b9_u64;
    let mut became_new = 0;
    for _ in 0..20 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(full * 6 / 10 + seed % (full / 2).max(1));
        let mut child = Command::new(env!("CARGO_BIN_EXE_headroom"))
            .args(["plan", "--open"])
            .arg(&a)
            .arg("--save")
            .arg(&target)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let now = std::fs::read_to_string(&target).unwrap();
        assert!(now == plan_text() || now == b_text, "a damaged plan after a kill at {delay:?}");
        Plan::parse(&now, &target).unwrap();
        if now == plan_text() {
            became_new += 1;
            std::fs::write(&target, &b_text).unwrap();
        }
    }
    // Both outcomes should occur over 20 random kills, or the test proves nothing.
    assert!(became_new > 0 && became_new < 20, "{became_new} of 20 saves completed");
}

/// A series at `f64::MAX` (a broken exporter's sentinel) is refused by name, not a panic
/// in the runway's paths (their bounds came out NaN).
#[test]
fn values_near_f64_max_are_refused_by_name() {
    use headroom::forecast::{ForecastSettings, forecast};
    use headroom::series::{Series, Unit};
    let s = Series {
        name: "maxval".into(),
        labels: Default::default(),
        unit: Unit::None,
        start_ms: 0,
        step_ms: 300_000,
        values: vec![f64::MAX; 3000],
    };
    let e = forecast(&s, &ForecastSettings { horizon: 576, ..ForecastSettings::default() }).unwrap_err().to_string();
    assert!(e.contains("maxval") && e.contains("too large to forecast"), "{e}");
}

/// One exporter's sentinel (2^64 − 1) in a CPU series is taken as missing and named: the
/// forecast and the runway are those of the series with that slot missing.
#[test]
fn a_sentinel_value_is_taken_as_missing_and_named() {
    use headroom::capacity::{runway, thresholds_from_values};
    use headroom::forecast::{ForecastSettings, forecast};
    use headroom::series::{Series, Unit};
    let values: Vec<f64> =
        (0..8 * 288).map(|i| 40.0 + 15.0 * ((i % 288) as f64 / 288.0 * std::f64::consts::TAU).sin() + ((i * 7) % 5) as f64).collect();
    let mut gap =
        Series { name: "web_cpu_percent".into(), labels: Default::default(), unit: Unit::Percent, start_ms: 0, step_ms: 300_000, values };
    gap.values[1000] = f64::NAN;
    let mut sentinel = gap.clone();
    sentinel.values[1000] = 18_446_744_073_709_551_615.0;
    let settings = ForecastSettings { horizon: 288, ..ForecastSettings::default() };
    let (a, b) = (forecast(&gap, &settings).unwrap(), forecast(&sentinel, &settings).unwrap());
    assert_eq!(a.point, b.point);
    assert!(
        b.warnings[0].message.contains("1.8446744073709552e19 at") && b.warnings[0].message.contains("treated as missing"),
        "{}",
        b.warnings[0]
    );
    let t = thresholds_from_values(&[80.0]);
    assert_eq!(runway(&gap, &a, &t, 95.0)[0].probability, runway(&sentinel, &b, &t, 95.0)[0].probability, "not a level it reached");
}

/// Eight points (the fewest forecast) are too few for AutoETS: the automatic choice falls
/// back to a linear trend and says so, instead of failing.
#[test]
fn eight_points_forecast_as_a_line() {
    use headroom::forecast::{ForecastSettings, forecast};
    use headroom::series::{Series, Unit};
    let s = Series {
        name: "eight".into(),
        labels: Default::default(),
        unit: Unit::None,
        start_ms: 0,
        step_ms: 300_000,
        values: (1..=8).map(f64::from).collect(),
    };
    let f = forecast(&s, &ForecastSettings { horizon: 2, ..ForecastSettings::default() }).unwrap();
    assert_eq!(f.point, [9.0, 10.0]);
    assert!(f.warnings.iter().any(|w| w.message.contains("a linear trend instead")), "{:?}", f.warnings);
}

/// A quiet error rate (0 almost always, a few hundredths now and then) that bursts to
/// thousands keeps its bursts: they are a billion times short of a sentinel.
#[test]
fn real_bursts_are_not_sentinels() {
    use headroom::forecast::sentinel_limit;
    use headroom::series::{Series, Unit};
    let mut values: Vec<f64> = (0..4000).map(|i| if i % 100 == 0 { 1.0 / 300.0 } else { 0.0 }).collect();
    values[2000] = 5000.0;
    values[2001] = 4000.0;
    let s = Series {
        name: "errors_per_second".into(),
        labels: Default::default(),
        unit: Unit::PerSecond,
        start_ms: 0,
        step_ms: 300_000,
        values,
    };
    assert_eq!(sentinel_limit(&s), None, "mostly zero: no reference to judge by");
    let mut busy = s.clone();
    busy.values.iter_mut().for_each(|v| *v += 0.01);
    assert!(sentinel_limit(&busy).is_some_and(|limit| limit > 5000.0));
}

/// Physical bounds from the unit and the history: a count that dipped a hair below zero
/// (a rate's extrapolation, under 1 % of its largest value) is held at zero; one that
/// ran far below zero is not (its values are not what the name says); a ratio that
/// overshot to 1.03 is bounded there, not at 1 and not at infinity.
#[test]
fn bounds_follow_the_unit_and_what_history_did() {
    use headroom::forecast::{ForecastSettings, forecast};
    use headroom::series::{Series, Unit};
    let series = |name: &str, unit: Unit, f: &dyn Fn(usize) -> f64| Series {
        name: name.into(),
        labels: Default::default(),
        unit,
        start_ms: 0,
        step_ms: 300_000,
        values: (0..2000).map(f).collect(),
    };
    let settings = ForecastSettings { horizon: 24, ..ForecastSettings::default() };
    let jitter = series("queue_depth", Unit::Count, &|i| if i % 97 == 0 { -0.5 } else { 50.0 + (i % 13) as f64 });
    assert_eq!(forecast(&jitter, &settings).unwrap().bounds.0, 0.0, "0.5 below zero of 62 is 0.8 %");
    let negative = series("queue_depth", Unit::Count, &|i| -((i % 50) as f64));
    assert_eq!(forecast(&negative, &settings).unwrap().bounds.0, f64::NEG_INFINITY);
    let ratio = series("node_cpu_utilisation", Unit::Percent, &|i| if i == 1000 { 1.03 } else { 0.5 + 0.3 * ((i % 288) as f64 / 288.0) });
    let ratio = Series { unit: ratio.unit.refine(&ratio.name, &ratio.values), ..ratio };
    assert_eq!(ratio.unit, Unit::Ratio);
    assert_eq!(forecast(&ratio, &settings).unwrap().bounds.1, 1.03);
}
