//! A structure-aware mutation fuzzer for every loader of untrusted input: CSV (through
//! the forecast), saved `query_range` JSON, plan files, scenario TOML (through a
//! replay), and the duration, instant and timestamp parsers.
//!
//! Each target starts from valid seeds (the sample data, a small plan, and the
//! reproducers of crashes found before) and damages them the way real files get damaged:
//! bit flips, truncation, splices, numbers swapped for extremes (`1e308`, `NaN`, `inf`,
//! `i64::MAX`), control characters, quotes and changed delimiters. A panic anywhere
//! below a loader is a finding: its location is recorded and the input kept.
//! `cargo fuzz` needs nightly, which this machine cannot fetch; this runs on stable, in
//! `cargo test` with a bounded count and from `headroom bench fuzz` for minutes.

use crate::forecast::{Forecast, ForecastSettings, ModelChoice};
use crate::series::Series;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The fuzz targets.
pub const TARGETS: [&str; 5] = ["csv", "json", "plan", "scenario", "time"];

/// What a run found.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Inputs tried.
    pub executions: u64,
    /// Of those, rejected with an error (the expected answer to damage).
    pub errors: u64,
    /// Panics: (location and message, the input).
    pub findings: Vec<(String, Vec<u8>)>,
}

/// A small, fast xorshift generator: runs are reproducible from their seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

const EXTREMES: [&str; 16] = [
    "1e308",
    "-1e308",
    "NaN",
    "inf",
    "-inf",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "4294967296",
    "0",
    "-0",
    "1e-320",
    "99999999999999999999",
    "-1",
    "0.5",
    "",
];

const BYTES: [u8; 14] = [b',', b';', b'\t', b'"', b'\n', b'\r', 0, 0x7f, b'\\', b'[', b']', b'{', b'}', 0xc3];

/// Damages `input` with one to four mutations.
fn mutate(input: &[u8], corpus: &[Vec<u8>], rng: &mut Rng) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => v.truncate(rng.below(len)),
            2 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                v.drain(a..b);
            }
            3 => {
                // Splice in a piece of another seed.
                let other = &corpus[rng.below(corpus.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + 1 + rng.below(256)).min(other.len());
                    let at = rng.below(len + 1);
                    v.splice(at..at, other[a..b].iter().copied());
                }
            }
            4 | 5 => {
                // A number swapped for an extreme.
                let starts: Vec<usize> =
                    (0..len).filter(|&i| v[i].is_ascii_digit() && (i == 0 || !v[i - 1].is_ascii_alphanumeric())).collect();
                if !starts.is_empty() {
                    let a = starts[rng.below(starts.len())];
                    let mut b = a;
                    while b < len && (v[b].is_ascii_digit() || v[b] == b'.' || v[b] == b'e' || v[b] == b'-') {
                        b += 1;
                    }
                    let x = EXTREMES[rng.below(EXTREMES.len())];
                    v.splice(a..b, x.bytes());
                }
            }
            6 => {
                let at = rng.below(len + 1);
                v.insert(at, BYTES[rng.below(BYTES.len())]);
            }
            _ => {
                // A changed delimiter throughout.
                let to = [b';', b'\t', b'|'][rng.below(3)];
                for b in &mut v {
                    if *b == b',' {
                        *b = to;
                    }
                }
            }
        }
    }
    v
}

/// Where the last panic happened, recorded by the hook while fuzzing.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// The input being run and where to keep it if it panics: a panic that cannot unwind
/// (an unsafe precondition inside a dependency) aborts the process, so the hook writes
/// the input out before that happens.
static CURRENT: Mutex<(Vec<u8>, Option<std::path::PathBuf>)> = Mutex::new((Vec::new(), None));

/// The seeds and fixtures of one target.
struct Target {
    name: &'static str,
    seeds: Vec<Vec<u8>>,
    series: Series,
    forecast: Forecast,
}

/// A small series and its forecast for the scenario target, made once.
fn fixture() -> anyhow::Result<(Series, Forecast)> {
    let points: Vec<(i64, f64)> =
        (0..600).map(|i| (1_790_000_000_000 + i * 300_000, 1000.0 + 400.0 * ((i as f64) / 288.0 * std::f64::consts::TAU).sin())).collect();
    let (series, _) = Series::from_points("api_requests_per_second", BTreeMap::new(), crate::series::Unit::None, points)?;
    let settings = ForecastSettings { horizon: 48, model: ModelChoice::parse("seasonal-naive")?, folds: 2, ..ForecastSettings::default() };
    let forecast = crate::forecast::forecast(&series, &settings)?;
    Ok((series, forecast))
}

/// The plan-file seed: a small plan of the fixture with the sample scenarios.
fn plan_seed(series: &Series, forecast: &Forecast) -> anyhow::Result<Vec<u8>> {
    let mut file = crate::simulate::ScenarioFile::parse(crate::sample_data::SCENARIOS_TOML, "scenarios")?;
    file.paths = 8;
    let inputs = crate::plan::PlanInputs {
        title: "Fuzz".into(),
        author: "headroom bench fuzz".into(),
        created_ms: 0,
        sources: vec!["generated".into()],
        settings: ForecastSettings::default(),
        horizon: crate::pipeline::Horizon::Steps(48),
        thresholds: None,
        series_thresholds: Default::default(),
        runway_level: 95.0,
    };
    let plan = crate::plan::assemble(&inputs, vec![(series.clone(), Ok(forecast.clone()))], Vec::new(), Some(file))?;
    Ok(plan.to_text()?.into_bytes())
}

fn seeds(name: &str, series: &Series, forecast: &Forecast) -> anyhow::Result<Vec<Vec<u8>>> {
    let head = |text: &str, lines: usize| text.lines().take(lines).collect::<Vec<_>>().join("\n").into_bytes();
    Ok(match name {
        "csv" => {
            let mut s: Vec<Vec<u8>> = crate::sample_data::generate()
                .iter()
                .map(|g| {
                    let mut t = String::from("timestamp,value\n");
                    for (i, v) in g.values.iter().take(400).enumerate() {
                        crate::time::push_rfc3339(&mut t, crate::sample_data::START_MS + i as i64 * crate::sample_data::STEP_MS);
                        t.push_str(&format!(",{v}\n"));
                    }
                    t.into_bytes()
                })
                .collect();
            s.push(b"a,b\n\"".to_vec());
            s.push(b"a,b\"\n\"\0\n\"".to_vec());
            s.push(b"a,b\"\"\n\t\"\0\n\"".to_vec());
            s.push(b"timestamp,value\n2026-09-28T00:00:00Z,\"17 \"\n2026-09-28T00:05:00Z,18\n".to_vec());
            s.push(head("timestamp,series,value,host\n2026-09-28T00:00:00Z,cpu,1,a\n2026-09-28T00:05:00Z,cpu,2,a\n2026-09-28T00:10:00Z,cpu,3,a\n2026-09-28T00:15:00Z,cpu,4,a\n2026-09-28T00:20:00Z,cpu,5,a\n2026-09-28T00:25:00Z,cpu,6,a\n2026-09-28T00:30:00Z,cpu,7,a\n2026-09-28T00:35:00Z,cpu,8,a\n2026-09-28T00:40:00Z,cpu,9,a\n", 20));
            s
        }
        "json" => {
            let values: Vec<String> =
                series.values.iter().take(300).enumerate().map(|(i, v)| format!("[{},\"{v}\"]", 1_790_000_000 + i * 300)).collect();
            vec![
                format!(r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{"__name__":"m","job":"a"}},"values":[{}]}}]}}}}"#, values.join(",")).into_bytes(),
                br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[-1e300,"1"],[1e300,"2"]]}]}}"#.to_vec(),
                br#"{"status":"error","errorType":"bad_data","error":"parse error"}"#.to_vec(),
            ]
        }
        "plan" => vec![plan_seed(series, forecast)?],
        "scenario" => vec![crate::sample_data::SCENARIOS_TOML.replace("paths = 200", "paths = 8").into_bytes()],
        _ => ["5m", "2d", "36h", "-30d", "now", "2026-09-28T00:00:00Z", "2026-09-28 00:00:00+02:00", "1790000000", "1790000000000", "2w"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect(),
    })
}

/// Runs one input through the target. `Err` is a clean rejection.
fn exec(t: &Target, input: &[u8]) -> Result<(), String> {
    let err = |e: crate::error::Error| e.to_string();
    match t.name {
        "csv" => {
            let import =
                crate::import::csv::parse_csv(input, &crate::error::Location::default(), "fuzz", &Default::default()).map_err(err)?;
            for s in import.series.iter().filter(|s| s.len() <= 2_000) {
                let settings = ForecastSettings { horizon: 12, folds: 2, ..ForecastSettings::default() };
                let _ = crate::forecast::forecast(s, &settings);
            }
            Ok(())
        }
        "json" => {
            let (raw, _) = crate::import::prometheus::wire::parse_query_range(input).map_err(|e| e.to_string())?;
            crate::import::prometheus::to_import(raw, "fuzz", "fuzz.json").map(drop).map_err(err)
        }
        "plan" => {
            let text = std::str::from_utf8(input).map_err(|e| e.to_string())?;
            let plan = crate::plan::Plan::parse(text, std::path::Path::new("fuzz.headroom.ron")).map_err(err)?;
            let mut out = Vec::new();
            let forecasts: Vec<_> = plan.series.iter().filter_map(|p| p.forecast.as_ref().ok().cloned()).collect();
            crate::export::csv::write_forecasts(&mut out, &forecasts, &plan.inputs.settings.levels).map_err(|e| e.to_string())
        }
        "scenario" => {
            let text = std::str::from_utf8(input).map_err(|e| e.to_string())?;
            let file = crate::simulate::ScenarioFile::parse(text, "fuzz.toml").map_err(err)?;
            for s in &file.scenario {
                crate::simulate::run_scenario(s, &t.series, &t.forecast, file.paths.min(8), file.seed).map_err(err)?;
            }
            Ok(())
        }
        _ => {
            let text = String::from_utf8_lossy(input);
            let _ = crate::time::parse_duration(&text);
            let _ = crate::time::parse_instant(&text, 1_790_000_000_000);
            if let Ok(utc) = crate::time::zone("UTC") {
                let _ = crate::time::parse_timestamp(&text, &utc);
            }
            let _ = crate::pipeline::Horizon::parse(&text);
            Ok(())
        }
    }
}

/// Fuzzes `target` until `budget` has passed or `max_execs` inputs were tried.
///
/// # Errors
/// The fixtures cannot be made (not expected).
pub fn fuzz(target: &str, budget: Duration, max_execs: u64, seed: u64) -> anyhow::Result<Report> {
    fuzz_keeping(target, budget, max_execs, seed, None)
}

/// [`fuzz`], writing the input of any panic to `keep` as it happens.
///
/// # Errors
/// As [`fuzz`].
pub fn fuzz_keeping(target: &str, budget: Duration, max_execs: u64, seed: u64, keep: Option<std::path::PathBuf>) -> anyhow::Result<Report> {
    if let Ok(mut c) = CURRENT.lock() {
        c.1 = keep;
    }
    let (series, forecast) = fixture()?;
    let seeds = seeds(target, &series, &forecast)?;
    let t = Target {
        name: TARGETS
            .iter()
            .find(|n| **n == target)
            .copied()
            .ok_or_else(|| anyhow::anyhow!("no fuzz target \"{target}\": use {}", TARGETS.join(", ")))?,
        seeds,
        series,
        forecast,
    };
    // Panics are findings, recorded quietly; the previous hook comes back afterwards.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let place = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let line = format!("{place}: {}", msg.lines().next().unwrap_or(""));
        if let Ok(current) = CURRENT.try_lock()
            && let Some(path) = &current.1
        {
            let _ = std::fs::write(path, &current.0);
            eprintln!("fuzz: panic at {line} (input kept in {})", path.display());
        }
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(line);
        }
    }));
    let mut rng = Rng(seed | 1);
    let mut report = Report::default();
    let start = Instant::now();
    while report.executions < max_execs && start.elapsed() < budget {
        // Every seed as it is first, then damaged copies.
        let input = match usize::try_from(report.executions).ok().and_then(|i| t.seeds.get(i)) {
            Some(s) => s.clone(),
            None => mutate(&t.seeds[rng.below(t.seeds.len())], &t.seeds, &mut rng),
        };
        report.executions += 1;
        if let Ok(mut c) = CURRENT.lock()
            && c.1.is_some()
        {
            c.0.clone_from(&input);
        }
        match std::panic::catch_unwind(AssertUnwindSafe(|| exec(&t, &input))) {
            Ok(Ok(())) => {}
            Ok(Err(_)) => report.errors += 1,
            Err(_) => {
                let place = LAST_PANIC.lock().ok().and_then(|mut l| l.take()).unwrap_or_else(|| "unknown".into());
                if !report.findings.iter().any(|(p, _)| *p == place) {
                    report.findings.push((place, input));
                }
            }
        }
    }
    std::panic::set_hook(previous);
    Ok(report)
}

/// `headroom bench fuzz`: each target for `minutes`, printing executions and findings;
/// each finding's input is written into `findings_dir`.
///
/// # Errors
/// A finding's input cannot be written.
pub fn run(targets: &[String], minutes: f64, findings_dir: &std::path::Path) -> anyhow::Result<bool> {
    let budget = Duration::from_secs_f64(minutes.max(0.0) * 60.0);
    let names: Vec<String> = if targets.is_empty() { TARGETS.iter().map(|s| (*s).to_string()).collect() } else { targets.to_vec() };
    crate::outln!("bench fuzz: {minutes} min per target, targets {}, findings into {}", names.join(", "), findings_dir.display());
    let mut clean = true;
    for name in &names {
        let t = Instant::now();
        std::fs::create_dir_all(findings_dir)?;
        let keep = findings_dir.join(format!("{name}-last-panic.bin"));
        let r = fuzz_keeping(name, budget, u64::MAX, 0x5eed ^ name.len() as u64, Some(keep))?;
        let secs = t.elapsed().as_secs_f64();
        crate::outln!(
            "  {name}: {} executions in {secs:.0} s ({:.0}/s), {} rejected with an error, {} findings",
            r.executions,
            r.executions as f64 / secs.max(1e-9),
            r.errors,
            r.findings.len()
        );
        for (i, (place, input)) in r.findings.iter().enumerate() {
            let path = findings_dir.join(format!("{name}-{i}.bin"));
            std::fs::write(&path, input)?;
            crate::outln!("    panic at {place} (input: {})", path.display());
            clean = false;
        }
    }
    Ok(clean)
}
