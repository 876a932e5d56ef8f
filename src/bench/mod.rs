//! `headroom bench …`: the speed and accuracy figures the issues ask for, printed by the
//! program itself so anyone can reproduce them (`cargo run -- bench import`).

pub mod big;
#[cfg(feature = "gui")]
pub mod frames;
pub mod fuzz;
pub mod local_prometheus;
pub mod m4;
pub mod real;

use crate::forecast::{ForecastSettings, ModelChoice, ModelKind, Periods, forecast};
use crate::import::csv::{CsvOptions, read_csv};
use crate::series::{Series, Unit};
use crate::time::{MINUTE_MS, push_rfc3339};
use clap::Subcommand;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

/// What to measure.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// CSV import throughput on a generated long-form file.
    Import {
        /// Data rows in the generated file.
        #[arg(long, default_value_t = 10_000_000)]
        rows: usize,
    },
    /// Fit-and-predict time of a 30-day 5-minute series (8,640 points, periods 288 and 2016).
    Forecast {
        /// Timed repetitions (the median is reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Import speed from a local Prometheus (started here, on 127.0.0.1).
    Prometheus {
        /// Series to backfill and import.
        #[arg(long, default_value_t = 100)]
        series: usize,
        /// Days of 5-minute history.
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
    /// Replay speed: 90 days at 15-second steps, 5 policies × 200 sample paths.
    Simulate {
        /// Sample paths per policy.
        #[arg(long, default_value_t = 200)]
        paths: usize,
        /// Days simulated.
        #[arg(long, default_value_t = 90)]
        days: i64,
    },
    /// Export time of a plan with 10 series and 5 scenarios: PDF, plan file, CSV.
    Export,
    /// Accuracy and speed on the M4 competition's hourly set.
    M4 {
        /// Directory holding Hourly-train.csv and Hourly-test.csv.
        #[arg(long)]
        data: std::path::PathBuf,
        /// Only the first N series (for a quick look).
        #[arg(long)]
        limit: Option<usize>,
        /// Most backtest windows per series (the user's default; the model is chosen on
        /// the latest six, bands calibrated on the nested record of all).
        #[arg(long, default_value_t = crate::forecast::DEFAULT_FOLDS)]
        folds: usize,
    },
    /// Forecasts and bands on real 5-minute traffic (a directory of `timestamp,value`
    /// CSVs such as ../shared/data/nab-tweets), the last two days of each held out:
    /// MASE against seasonal naive at lag 288, coverage, MSIS, per-series coverage.
    Nab {
        /// Directory of CSV files, one series each.
        #[arg(long)]
        data: std::path::PathBuf,
        /// Backtest windows per series (the user's default).
        #[arg(long, default_value_t = crate::forecast::DEFAULT_FOLDS)]
        folds: usize,
    },
    /// Calibration of breach probabilities on M4 hourly and/or 5-minute CSVs: reliability
    /// table, expected calibration error, Brier skill against the historical frequency.
    Breach {
        /// Directory holding Hourly-train.csv and Hourly-test.csv.
        #[arg(long)]
        m4: Option<std::path::PathBuf>,
        /// Directory of 5-minute CSV files.
        #[arg(long)]
        nab: Option<std::path::PathBuf>,
        /// Only the first N series of each set (for a quick look).
        #[arg(long)]
        limit: Option<usize>,
        /// Origins per series, at end − h, end − 2h, …: the measure is 3; more
        /// give the calibration error less chance noise (each origin needs 7 days and
        /// 4 horizons of training before it).
        #[arg(long, default_value_t = 3)]
        origins: usize,
        /// Also write every case (set, series, origin, threshold, said, happened,
        /// historical frequency) to this CSV, to see which cases make the table.
        #[arg(long)]
        cases: Option<std::path::PathBuf>,
    },
    /// Big inputs as a user runs them (child processes of this binary): a directory of
    /// many series, one very long series, a large Prometheus answer; wall time and peak
    /// memory of each.
    Big {
        /// Series in the directory (`forecast DIR --horizon 12 --out-dir D`).
        #[arg(long, default_value_t = 1000)]
        series: usize,
        /// Points per series in the directory (5-minute steps).
        #[arg(long, default_value_t = 5000)]
        points: usize,
        /// Points of the one long series (1-minute steps).
        #[arg(long, default_value_t = 1_000_000)]
        long_points: usize,
        /// Size of the Prometheus answer in MiB.
        #[arg(long, default_value_t = 200)]
        answer_mib: usize,
        /// Only these parts: many, long, prometheus (repeatable; all when none).
        #[arg(long)]
        only: Vec<String>,
        /// Keep the generated inputs and the outputs in this directory.
        #[arg(long)]
        keep: Option<std::path::PathBuf>,
    },
    /// CPU time per frame of the window (no GPU needed) with a long series on screen,
    /// time to the first frame, and the longest frame while forecasts run.
    #[cfg(feature = "gui")]
    Frames {
        /// Points of the long series on screen (1-minute steps).
        #[arg(long, default_value_t = 1_000_000)]
        points: usize,
        /// Frames timed with it.
        #[arg(long, default_value_t = 300)]
        frames: usize,
    },
    /// Mutation fuzzing of every loader (CSV, query_range JSON, plan file, scenario
    /// TOML, durations and timestamps): executions, rejections and panics per target.
    Fuzz {
        /// Targets (csv, json, plan, scenario, time); all when none is given.
        #[arg(long)]
        target: Vec<String>,
        /// Minutes per target.
        #[arg(long, default_value_t = 1.0)]
        minutes: f64,
        /// Where the inputs of findings are written.
        #[arg(long, default_value = "fuzz-findings")]
        findings: std::path::PathBuf,
    },
}

/// Runs one benchmark and prints its figures.
///
/// # Errors
/// The temporary file cannot be written or the work fails.
pub fn run(what: BenchCommand) -> anyhow::Result<ExitCode> {
    match what {
        BenchCommand::Import { rows } => import(rows),
        BenchCommand::Forecast { runs } => forecast_bench(runs),
        BenchCommand::Simulate { paths, days } => simulate_bench(paths, days),
        BenchCommand::Export => export_bench(),
        BenchCommand::Prometheus { series, days } => local_prometheus::bench(series, days).map(|()| ExitCode::SUCCESS),
        BenchCommand::M4 { data, limit, folds } => m4::run(&data, limit, folds).map(|()| ExitCode::SUCCESS),
        BenchCommand::Nab { data, folds } => real::nab(&data, folds).map(|()| ExitCode::SUCCESS),
        BenchCommand::Breach { m4, nab, limit, origins, cases } => {
            real::breach(m4.as_deref(), nab.as_deref(), limit, origins, cases.as_deref()).map(|()| ExitCode::SUCCESS)
        }
        BenchCommand::Big { series, points, long_points, answer_mib, only, keep } => {
            big::run(&big::BigSettings { series, points, long_points, answer_mib, only, keep }).map(|()| ExitCode::SUCCESS)
        }
        #[cfg(feature = "gui")]
        BenchCommand::Frames { points, frames } => frames::run(&frames::FrameSettings { points, frames }).map(|()| ExitCode::SUCCESS),
        BenchCommand::Fuzz { target, minutes, findings } => {
            fuzz::run(&target, minutes, &findings).map(|clean| if clean { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

fn import(rows: usize) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.csv");
    let series = 10usize;
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    writeln!(file, "timestamp,series,value")?;
    let mut line = String::new();
    let start = 1_767_225_600_000i64;
    for i in 0..rows {
        line.clear();
        push_rfc3339(&mut line, start + (i / series) as i64 * 15_000);
        let v = 50.0 + ((i * 7919) % 1000) as f64 / 37.0;
        line.push_str(&format!(",host-{},{v:.3}\n", i % series));
        file.write_all(line.as_bytes())?;
    }
    file.flush()?;
    drop(file);
    let size = std::fs::metadata(&path)?.len();
    let t = Instant::now();
    let imported = read_csv(&path, &CsvOptions::default())?;
    let secs = t.elapsed().as_secs_f64();
    let points: usize = imported.series.iter().map(Series::len).sum();
    crate::outln!("bench import: {rows} rows ({:.0} MiB, {series} series, RFC 3339 timestamps, long form)", size as f64 / 1048576.0);
    crate::outln!("  read + parse + grid: {secs:.2} s = {:.2} M rows/s ({points} points)", rows as f64 / secs / 1e6);
    Ok(ExitCode::SUCCESS)
}

/// A 30-day 5-minute series with daily and weekly shape, trend and noise.
pub fn bench_series() -> Series {
    let n = 8640;
    let values = (0..n)
        .map(|i| {
            let day = (i % 288) as f64 / 288.0 * std::f64::consts::TAU;
            let weekend = if (i / 288) % 7 >= 5 { -8.0 } else { 0.0 };
            40.0 + 12.0 * day.sin() + weekend + 0.001 * i as f64 + ((i * 7919) % 17) as f64 * 0.2
        })
        .collect();
    Series {
        name: "bench".into(),
        labels: BTreeMap::new(),
        unit: Unit::Percent,
        start_ms: 1_767_225_600_000,
        step_ms: 5 * MINUTE_MS,
        values,
    }
}

fn forecast_bench(runs: usize) -> anyhow::Result<ExitCode> {
    let s = bench_series();
    let settings = ForecastSettings {
        horizon: 576,
        levels: vec![80.0, 95.0],
        periods: Periods::Given(vec![288, 2016]),
        model: ModelChoice::Single(ModelKind::Mstl),
        folds: 0,
        robust: false,
    };
    let mut times = Vec::new();
    let mut model = String::new();
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let f = forecast(&s, &settings)?;
        times.push(t.elapsed().as_secs_f64());
        model = f.model;
    }
    times.sort_by(f64::total_cmp);
    let auto = ForecastSettings { periods: Periods::Auto, model: ModelChoice::Auto, folds: 3, robust: true, ..settings };
    let mut auto_times = Vec::new();
    let mut chosen = String::new();
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let f = forecast(&s, &auto)?;
        auto_times.push(t.elapsed().as_secs_f64());
        chosen = format!("{} (periods {:?})", f.model, f.periods);
    }
    auto_times.sort_by(f64::total_cmp);
    crate::outln!("bench forecast: 8640 points at 5m, horizon 576, levels 80,95");
    crate::outln!(
        "  fit + predict, {model}, no backtest: median {:.3} s over {} runs (min {:.3} s)",
        times[times.len() / 2],
        times.len(),
        times[0]
    );
    crate::outln!(
        "  auto: detection, outliers, 3-window backtest of every model, calibration, final fit: median {:.3} s (min {:.3} s), chose {chosen}",
        auto_times[auto_times.len() / 2],
        auto_times[0]
    );
    Ok(ExitCode::SUCCESS)
}

fn simulate_bench(paths: usize, days: i64) -> anyhow::Result<ExitCode> {
    use crate::forecast::{Band, Forecast};
    use crate::simulate::policy::{Hpa, Predictive, StepScaling, TargetTracking};
    use crate::simulate::{CapacityModel, Policy, replay, sample_paths};
    use rayon::prelude::*;
    let step = 5 * MINUTE_MS;
    let n = (days * crate::time::DAY_MS / step) as usize;
    let point: Vec<f64> = (0..n)
        .map(|i| {
            let day = (i % 288) as f64 / 288.0 * std::f64::consts::TAU;
            2000.0 + 1500.0 * day.sin() + i as f64 * 0.01
        })
        .collect();
    let bands = vec![Band { level: 95.0, lower: point.iter().map(|p| p * 0.8).collect(), upper: point.iter().map(|p| p * 1.2).collect() }];
    let f = Forecast::from_parts("bench", 0, step, point, bands, "bench");
    let t = Instant::now();
    let demand = sample_paths(&f, paths, 1);
    let sampling = t.elapsed().as_secs_f64();
    let cap = CapacityModel { per_instance: 250.0, target_utilisation: 0.7 };
    let policies = [
        Policy::Static { count: 20 },
        Policy::Hpa(Hpa { min: 2, max: 60, target: 0.6, ..Hpa::default() }),
        Policy::TargetTracking(TargetTracking { min: 2, max: 60, target: 0.6, ..TargetTracking::default() }),
        Policy::Step(StepScaling::preset("gradual", 2, 60).ok_or_else(|| anyhow::anyhow!("preset"))?),
        Policy::Predictive(Predictive { min: 2, max: 60, target: 0.6, ..Predictive::default() }),
    ];
    let sim_steps = n as u64 * (step / crate::simulate::replay::SIM_STEP_MS) as u64;
    let t = Instant::now();
    let replays: Vec<f64> = policies
        .par_iter()
        .flat_map(|p| demand.par_iter().map(move |d| replay(p, &cap, d, 0, step, None, false).totals.instance_hours))
        .collect();
    let secs = t.elapsed().as_secs_f64();
    let total = replays.len() as u64 * sim_steps;
    // Each policy alone, to see where the time goes.
    let by_policy: Vec<String> = policies
        .iter()
        .map(|p| {
            let t = Instant::now();
            let _: Vec<f64> = demand.par_iter().map(|d| replay(p, &cap, d, 0, step, None, false).totals.instance_hours).collect();
            format!("{} {:.2} s", p.kind(), t.elapsed().as_secs_f64())
        })
        .collect();
    crate::outln!(
        "bench simulate: {days} days at 15 s ({sim_steps} steps per replay), {} policies x {paths} sample paths = {} replays",
        policies.len(),
        replays.len()
    );
    crate::outln!(
        "  sample paths: {sampling:.2} s; replays: {secs:.2} s on {} threads ({:.1} M policy-steps/s)",
        rayon::current_num_threads(),
        total as f64 / secs / 1e6
    );
    crate::outln!("  by policy ({paths} replays each): {}", by_policy.join(", "));
    Ok(ExitCode::SUCCESS)
}

fn export_bench() -> anyhow::Result<ExitCode> {
    use crate::plan::{PlanInputs, build};
    use crate::sample_data::{START_MS, STEP_MS, generate};
    // Ten series: the five sample series and a scaled copy of each.
    let mut series = Vec::new();
    for copy in 0..2 {
        for s in generate() {
            let points =
                s.values.iter().enumerate().map(|(i, v)| (START_MS + i as i64 * STEP_MS, v * (1.0 + 0.1 * f64::from(copy)))).collect();
            let name = if copy == 0 { s.name.to_string() } else { format!("{}_b", s.name) };
            let unit = crate::series::Unit::infer(&name);
            series.push(Series::from_points(name, BTreeMap::new(), unit, points)?.0);
        }
    }
    let mut file = crate::simulate::ScenarioFile::parse(crate::sample_data::SCENARIOS_TOML, "scenarios")?;
    file.scenario.truncate(5);
    let inputs = PlanInputs {
        title: "Bench".into(),
        author: "headroom bench".into(),
        created_ms: START_MS,
        sources: vec!["generated".into()],
        settings: crate::forecast::ForecastSettings::default(),
        horizon: crate::pipeline::Horizon::Duration(14 * crate::time::DAY_MS),
        thresholds: None,
        series_thresholds: Default::default(),
        runway_level: 95.0,
    };
    let t = Instant::now();
    let plan = build(&inputs, series, Vec::new(), Some(file), &crate::progress::Progress::new())?;
    let build_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let pdf = crate::export::pdf::write_pdf(&plan)?;
    let pdf_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let text = plan.to_text()?;
    let save_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut csv = Vec::new();
    let forecasts: Vec<_> = plan.series.iter().filter_map(|p| p.forecast.as_ref().ok().cloned()).collect();
    crate::export::csv::write_forecasts(&mut csv, &forecasts, &plan.inputs.settings.levels)?;
    if let Some(sc) = &plan.scenarios {
        crate::export::csv::write_steps_csv(&mut csv, &sc.outcomes)?;
    }
    let csv_secs = t.elapsed().as_secs_f64();
    crate::outln!(
        "bench export: plan of {} series and {} scenarios (built in {build_secs:.2} s: forecasts, runway, replays)",
        plan.series.len(),
        plan.scenarios.as_ref().map_or(0, |s| s.outcomes.len())
    );
    crate::outln!("  PDF: {pdf_secs:.3} s ({} KiB)", pdf.len() / 1024);
    crate::outln!("  plan file: {save_secs:.3} s ({} KiB)", text.len() / 1024);
    crate::outln!("  CSV (forecasts and per-step replays): {csv_secs:.3} s ({} KiB)", csv.len() / 1024);
    Ok(ExitCode::SUCCESS)
}
