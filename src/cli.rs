//! The command line: clap arguments → validated settings → pipeline → export.
//! anyhow lives only here and in `gui/`.

use crate::export::csv::write_forecasts;
use crate::forecast::{Forecast, ForecastSettings, ModelChoice, Periods};
use crate::import::csv::CsvOptions;
use crate::pipeline::{self, Horizon};
use crate::progress::Progress;
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use rayon::prelude::*;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Headroom: forecast metric history, find the runway, plan capacity.
#[derive(Debug, Parser)]
#[command(name = "headroom", version, about, long_about = None, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; with none, the window opens on the files given (or on the bundled
    /// sample data).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// CSV files, directories or a plan file (`*.headroom.ron`) to open the window on.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the window, on the given CSV files or directories (default: sample data).
    Gui {
        /// CSV files or directories of CSV files.
        inputs: Vec<PathBuf>,
    },
    /// Open the window on the sample data and save screenshots of its views (PNG,
    /// 1280×800) into DIR; needs a display (e.g. xvfb-run).
    Screenshots {
        /// Where the PNG files go (`docs/screenshots` in the repository).
        dir: PathBuf,
    },
    /// Forecast CSV metric history and write the forecast as CSV.
    Forecast(ForecastArgs),
    /// Build the capacity plan and export it: PDF, CSV, plan file, rules, HPA.
    Plan(PlanArgs),
    /// Replay scaling policies over the forecast: per-step and summary CSV.
    Simulate(SimulateArgs),
    /// When to order more storage: CSV of order-by dates and sizes.
    Storage(StorageArgs),
    /// When each threshold is crossed: CSV of median, earliest and latest crossing.
    Runway(RunwayArgs),
    /// Import metric history from a server and write it as CSV.
    Import {
        /// Where from.
        #[command(subcommand)]
        source: ImportSource,
    },
    /// Write the bundled sample data with the deterministic generator.
    SampleData {
        /// Directory to write into.
        #[arg(long, default_value = "sample-data")]
        out: PathBuf,
    },
    /// Measure speed, memory and accuracy: `bench m4`, `bench nab`, `bench breach`, `bench forecast`, …
    Bench {
        /// What to measure.
        #[command(subcommand)]
        what: crate::bench::BenchCommand,
    },
}

/// `headroom plan` arguments.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// CSV files, directories or saved query_range JSON files.
    #[arg(required_unless_present = "open")]
    pub inputs: Vec<PathBuf>,
    /// Reopen a saved plan instead of building one (then only export).
    /// `--title` and `--author` rename it for the export; what it was built from stays.
    #[arg(long, conflicts_with_all = ["inputs", "scenario", "thresholds", "horizon", "timezone"])]
    pub open: Option<PathBuf>,
    /// Scenario files (TOML), repeatable.
    #[arg(long)]
    pub scenario: Vec<PathBuf>,
    /// Thresholds for every series, e.g. 65,80,90 (default: by kind).
    #[arg(long)]
    pub thresholds: Option<String>,
    /// Forecast horizon.
    #[arg(long, default_value = "14d")]
    pub horizon: String,
    /// Time zone of timestamps written without an offset (IANA name).
    #[arg(long, default_value = "UTC")]
    pub timezone: String,
    /// The plan's title (the service under review) [default: "Capacity review"].
    #[arg(long)]
    pub title: Option<String>,
    /// Who prepared it [default: none].
    #[arg(long)]
    pub author: Option<String>,
    /// Write the PDF report here.
    #[arg(long)]
    pub pdf: Option<PathBuf>,
    /// Write forecast.csv, runway.csv, warnings.csv, steps.csv and summary.csv into this directory.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Save the plan file (*.headroom.ron) here.
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Write Prometheus alerting rules (YAML) here.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Write a Kubernetes HPA manifest, from the recommendation among the HPA scenarios
    /// (the recommended scenario itself when it is one).
    #[arg(long)]
    pub hpa: Option<PathBuf>,
    /// Write a KEDA ScaledObject of the replayed schedule (cron triggers at the same local
    /// hours and counts), from the recommendation among the schedule scenarios.
    #[arg(long)]
    pub keda: Option<PathBuf>,
    /// Namespace of the exported HPA or ScaledObject (default `default`).
    #[arg(long)]
    pub namespace: Option<String>,
    /// The Deployment the exported HPA or ScaledObject scales (default: the series' name
    /// as a Kubernetes name).
    #[arg(long)]
    pub target: Option<String>,
    /// Write an AWS CloudFormation template (JSON) of the replayed Auto Scaling policy:
    /// target tracking, step scaling with its alarms, predictive, or a schedule as
    /// scheduled actions; from the recommendation among the scenarios AWS has a policy
    /// for (the recommended scenario itself when it is one).
    #[arg(long)]
    pub aws: Option<PathBuf>,
}

/// `headroom simulate` arguments.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The scenario file (TOML, one [[scenario]] per what-if).
    #[arg(long)]
    pub scenario: PathBuf,
    /// The demand data (CSV or directory); default: the file's `data`.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Directory for steps.csv and summary.csv.
    #[arg(long)]
    pub out: PathBuf,
    /// Also search each autoscaling scenario's target utilisation and minimum for the
    /// cheapest setting within the risk budget (search.csv).
    #[arg(long)]
    pub search: bool,
}

/// `headroom storage` arguments.
#[derive(Debug, Args)]
pub struct StorageArgs {
    /// A CSV of used bytes (or any usage of the storage).
    pub input: PathBuf,
    /// The size today, in the series' unit.
    #[arg(long)]
    pub size: f64,
    /// The size of one increment.
    #[arg(long)]
    pub increment: f64,
    /// How long an increment takes to arrive (7d, 36h).
    #[arg(long, default_value = "7d")]
    pub lead: String,
    /// Highest utilisation to allow, 0 to 1.
    #[arg(long, default_value_t = 0.85)]
    pub target: f64,
    /// How far ahead to plan.
    #[arg(long, default_value = "90d")]
    pub horizon: String,
    /// Plan on this band's upper edge.
    #[arg(long, default_value_t = 95.0)]
    pub level: f64,
    /// Time zone of timestamps written without an offset (IANA name).
    #[arg(long, default_value = "UTC")]
    pub timezone: String,
}

/// `headroom runway` arguments.
#[derive(Debug, Args)]
pub struct RunwayArgs {
    /// A CSV file (or a directory of them).
    pub input: PathBuf,
    /// Threshold values in the series' unit, e.g. 65,80,90 (default: by kind, for
    /// percent series).
    #[arg(long)]
    pub thresholds: Option<String>,
    /// How far ahead to look.
    #[arg(long, default_value = "30d")]
    pub horizon: String,
    /// The level (percent) of the earliest and latest dates: the (100 − L)/2 and
    /// (100 + L)/2 % quantiles of the first-crossing time over the sample paths (empty
    /// when the breach probability is below that quantile).
    #[arg(long, default_value_t = 95.0)]
    pub level: f64,
    /// Forecast only the series with this name.
    #[arg(long)]
    pub series: Option<String>,
    /// Time zone of timestamps written without an offset (IANA name).
    #[arg(long, default_value = "UTC")]
    pub timezone: String,
    /// Model: auto, combination, mstl, mstl-linear, ets, seasonal-naive or linear.
    #[arg(long, default_value = "auto")]
    pub model: String,
    /// Output CSV (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Sources for `headroom import`.
#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// A Prometheus-compatible API (Prometheus, Thanos, Mimir, VictoriaMetrics).
    Prometheus(PrometheusArgs),
}

/// `headroom import prometheus` arguments.
#[derive(Debug, Args)]
pub struct PrometheusArgs {
    /// Base URL of the API, e.g. http://prometheus:9090 (Mimir: http://mimir/prometheus).
    #[arg(long)]
    pub url: String,
    /// The PromQL expression.
    #[arg(long)]
    pub query: String,
    /// Start: now, -30d, RFC 3339 or Unix seconds.
    #[arg(long, allow_hyphen_values = true)]
    pub start: String,
    /// End: now, -1h, RFC 3339 or Unix seconds.
    #[arg(long, allow_hyphen_values = true, default_value = "now")]
    pub end: String,
    /// Step (15s, 5m, 1h); chosen from the range when not given.
    #[arg(long)]
    pub step: Option<String>,
    /// User for basic auth (the password comes from --password-env).
    #[arg(long, requires = "password_env")]
    pub user: Option<String>,
    /// Environment variable holding the basic-auth password.
    #[arg(long)]
    pub password_env: Option<String>,
    /// Environment variable holding a bearer token.
    #[arg(long, conflicts_with_all = ["user", "token_file"])]
    pub token_env: Option<String>,
    /// File holding a bearer token.
    #[arg(long, conflicts_with = "user")]
    pub token_file: Option<PathBuf>,
    /// Extra header, `Name: value` (repeatable), e.g. 'X-Scope-OrgID: tenant-1'.
    #[arg(long = "header")]
    pub headers: Vec<String>,
    /// PEM file of CA certificates to trust for https.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Accept any TLS certificate (unsafe: only for a test server).
    #[arg(long)]
    pub insecure: bool,
    /// Seconds before a request gives up.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Chunks fetched at once.
    #[arg(long, default_value_t = 4)]
    pub parallel: usize,
    /// The largest answer read per request, in MiB.
    #[arg(long, default_value_t = 512)]
    pub max_body_mib: u64,
    /// Output CSV (long form: timestamp,series,value plus label columns).
    #[arg(long)]
    pub out: PathBuf,
}

impl PrometheusArgs {
    /// Validates into connection settings and a range query.
    ///
    /// # Errors
    /// A flag whose value cannot be used.
    pub fn validate(
        &self,
        now_ms: i64,
    ) -> anyhow::Result<(crate::import::prometheus::ConnectionSettings, crate::import::prometheus::RangeQuery)> {
        use crate::import::prometheus::{AuthSettings, ConnectionSettings, RangeQuery, SecretSource, parse_header};
        let auth = match (&self.user, &self.password_env, &self.token_env, &self.token_file) {
            (Some(user), Some(var), _, _) => AuthSettings::Basic { user: user.clone(), password: SecretSource::Env(var.clone()) },
            (None, Some(_), _, _) => anyhow::bail!("--password-env needs --user"),
            (_, _, Some(var), _) => AuthSettings::Bearer { token: SecretSource::Env(var.clone()) },
            (_, _, _, Some(file)) => AuthSettings::Bearer { token: SecretSource::File(file.clone()) },
            _ => AuthSettings::None,
        };
        let headers =
            self.headers.iter().map(|h| parse_header(h).map_err(|e| anyhow::anyhow!("--{e}"))).collect::<anyhow::Result<Vec<_>>>()?;
        let start_ms = crate::time::parse_instant(&self.start, now_ms).map_err(|m| anyhow::anyhow!("--start: {m}"))?;
        let end_ms = crate::time::parse_instant(&self.end, now_ms).map_err(|m| anyhow::anyhow!("--end: {m}"))?;
        if end_ms <= start_ms {
            anyhow::bail!("--end must be after --start");
        }
        let step_ms =
            self.step.as_deref().map(|s| crate::time::parse_duration(s).map_err(|m| anyhow::anyhow!("--step: {m}"))).transpose()?;
        let settings = ConnectionSettings {
            url: self.url.clone(),
            auth,
            headers,
            ca_file: self.ca_file.clone(),
            insecure: self.insecure,
            timeout_secs: self.timeout,
            parallel: self.parallel,
            max_body_mib: self.max_body_mib,
        };
        Ok((settings, RangeQuery { query: self.query.clone(), start_ms, end_ms, step_ms }))
    }
}

/// `headroom forecast` arguments.
#[derive(Debug, Args)]
pub struct ForecastArgs {
    /// A CSV file, or a directory whose `*.csv` files are all forecast in parallel.
    pub input: PathBuf,
    /// Forecast only the series with this name.
    #[arg(long)]
    pub series: Option<String>,
    /// How far ahead: a number of steps (48) or a duration (2d, 36h, 2w, 3mo; 1m is a minute).
    #[arg(long)]
    pub horizon: String,
    /// Interval levels in percent, comma-separated, in output order.
    #[arg(long, default_value = "80,95")]
    pub level: String,
    /// Seasonal periods in steps (`288,2016`) or as durations (`1d,7d`), or `auto` to detect day and week.
    #[arg(long, default_value = "auto")]
    pub period: String,
    /// Model: auto (best by backtest), combination, mstl, mstl-linear (seasons and a
    /// growth line), ets, seasonal-naive, linear,
    /// sawtooth (leak and restart) or prophet (with the `prophet` cargo feature).
    #[arg(long, default_value = "auto")]
    pub model: String,
    /// Most backtest windows, each as long as the horizon, a season apart, as many as the
    /// history allows (0: no backtest, uncalibrated bands).
    #[arg(long, default_value_t = crate::forecast::DEFAULT_FOLDS)]
    pub folds: usize,
    /// Time zone of timestamps written without an offset (IANA name).
    #[arg(long, default_value = "UTC")]
    pub timezone: String,
    /// Output CSV file (for one input file; default: standard output).
    #[arg(long, conflicts_with = "out_dir")]
    pub out: Option<PathBuf>,
    /// Output directory (for a directory input): one CSV per input, same file name.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Print the chosen model, the backtest table and the warnings on standard error.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Settings for `forecast`, validated from [`ForecastArgs`].
#[derive(Debug, Clone)]
pub struct ForecastJob {
    /// Import options.
    pub csv: CsvOptions,
    /// Forecast settings (its `horizon` is replaced per series from `horizon`).
    pub settings: ForecastSettings,
    /// The horizon as given.
    pub horizon: Horizon,
}

impl ForecastArgs {
    /// Validates the arguments into settings, naming the bad flag.
    ///
    /// # Errors
    /// A flag whose value cannot be used.
    pub fn validate(&self) -> anyhow::Result<ForecastJob> {
        let horizon = Horizon::parse(&self.horizon).map_err(|e| anyhow::anyhow!("--{e}"))?;
        let levels = parse_levels(&self.level).map_err(|e| anyhow::anyhow!("--level: {e}"))?;
        let periods = parse_periods(&self.period)?;
        let time_zone = time_zone_arg(&self.timezone)?;
        let model = ModelChoice::parse(&self.model).map_err(|e| anyhow::anyhow!("--{e}"))?;
        let settings = ForecastSettings { horizon: 1, levels, periods, model, folds: self.folds, robust: true };
        settings.validate().map_err(|e| anyhow::anyhow!("--{e}"))?;
        Ok(ForecastJob { csv: CsvOptions { time_zone, series: self.series.clone() }, settings, horizon })
    }
}

/// Parses `80,95` into levels.
///
/// # Errors
/// A part that is not a number.
pub fn parse_levels(text: &str) -> anyhow::Result<Vec<f64>> {
    let mut out: Vec<f64> = Vec::new();
    for p in text.split(',') {
        let v = p
            .trim()
            .trim_end_matches('%')
            .trim_end()
            .parse::<f64>()
            .map_err(|_| anyhow::anyhow!("\"{}\" is not a number (e.g. 80,95)", p.trim()))?;
        if !v.is_finite() {
            bail!("\"{}\" is not a finite number", p.trim());
        }
        if out.contains(&v) {
            bail!("\"{}\" is given twice", p.trim());
        }
        out.push(v);
    }
    Ok(out)
}

/// Parses `auto`, `288,2016` or `1d,7d` into periods (see [`Periods::parse`]).
///
/// # Errors
/// A part that is not a whole number.
pub fn parse_periods(text: &str) -> anyhow::Result<Periods> {
    Periods::parse(text).map_err(|m| anyhow::anyhow!("--period: {m}"))
}

/// Runs a parsed command line that is not the GUI.
///
/// # Errors
/// Whatever the command failed on, with context.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Forecast(args) => forecast(&args),
        Command::SampleData { out } => {
            let files = crate::sample_data::write_all(&out)?;
            for f in files {
                crate::outln!("{}", f.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { what } => crate::bench::run(what),
        Command::Runway(args) => runway(&args),
        Command::Storage(args) => storage(&args),
        Command::Simulate(args) => simulate(&args),
        Command::Plan(args) => plan(&args),
        Command::Import { source: ImportSource::Prometheus(args) } => import_prometheus(&args),
        Command::Gui { .. } | Command::Screenshots { .. } => {
            bail!("this build has no window (built without the \"gui\" feature)")
        }
    }
}

fn plan(args: &PlanArgs) -> anyhow::Result<ExitCode> {
    use crate::plan::{Plan, PlanInputs};
    // Every output is checked before the work: a read-only place fails in a moment.
    if (args.namespace.is_some() || args.target.is_some()) && args.hpa.is_none() && args.keda.is_none() {
        bail!("--namespace and --target name where an exported HPA or ScaledObject goes: give --hpa or --keda");
    }
    for path in [&args.save, &args.pdf, &args.rules, &args.hpa, &args.aws, &args.keda].into_iter().flatten() {
        crate::files::ensure_writable(path)?;
    }
    if let Some(dir) = &args.csv {
        crate::files::ensure_writable_dir(dir)?;
    }
    let plan = match &args.open {
        Some(path) => {
            let mut plan = Plan::open(path)?;
            // Renamed for this export only; the file opened is never written.
            if let Some(title) = &args.title {
                plan.inputs.title.clone_from(title);
            }
            if let Some(author) = &args.author {
                plan.inputs.author.clone_from(author);
            }
            plan
        }
        None => {
            let horizon = Horizon::parse(&args.horizon).map_err(|e| anyhow::anyhow!("--{e}"))?;
            let thresholds = args.thresholds.as_deref().map(parse_levels).transpose().context("--thresholds")?;
            let mut scenarios: Option<crate::simulate::ScenarioFile> = None;
            for path in &args.scenario {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                let file = crate::simulate::ScenarioFile::parse(&text, &path.display().to_string())?;
                match &mut scenarios {
                    Some(all) => all.scenario.extend(file.scenario),
                    None => scenarios = Some(file),
                }
            }
            // An export that needs a policy kind the scenarios lack fails before the work.
            let has =
                |kind: fn(&crate::simulate::Policy) -> bool| scenarios.as_ref().is_some_and(|f| f.scenario.iter().any(|s| kind(&s.policy)));
            if args.hpa.is_some() && !has(|p| matches!(p, crate::simulate::Policy::Hpa(_))) {
                bail!("--hpa: no scenario has an HPA policy (give a scenario file with kind = \"hpa\")");
            }
            if args.keda.is_some() && !has(|p| matches!(p, crate::simulate::Policy::Schedule { .. })) {
                bail!("--keda: no scenario has a schedule policy (give a scenario file with kind = \"schedule\")");
            }
            if args.aws.is_some() && !has(crate::export::aws::exportable) {
                bail!(
                    "--aws: no scenario has an AWS policy (give a scenario file with kind = \"target_tracking\", \"step\", \"predictive\" or \"schedule\")"
                );
            }
            let time_zone = time_zone_arg(&args.timezone)?;
            let import = pipeline::load(&args.inputs, &CsvOptions { time_zone, ..CsvOptions::default() })?;
            let inputs = PlanInputs {
                title: args.title.clone().unwrap_or_else(|| crate::plan::DEFAULT_TITLE.to_string()),
                author: args.author.clone().unwrap_or_default(),
                created_ms: crate::time::now_ms(),
                sources: args.inputs.iter().map(|p| p.display().to_string()).collect(),
                settings: ForecastSettings::default(),
                horizon,
                thresholds,
                series_thresholds: Default::default(),
                runway_level: 95.0,
            };
            let plan = crate::plan::build(&inputs, import.series, import.warnings, scenarios, &Progress::new())?;
            // A plan with no forecast at all is no plan: fail before writing one.
            if let Some(Err(first)) = plan.series.first().map(|p| &p.forecast)
                && plan.series.iter().all(|p| p.forecast.is_err())
            {
                bail!("no series could be forecast, so no plan was written ({} series; the first: {first})", plan.series.len());
            }
            plan
        }
    };
    export_plan(&plan, args)?;
    Ok(ExitCode::SUCCESS)
}

/// The `--timezone` argument as a time zone.
fn time_zone_arg(name: &str) -> anyhow::Result<jiff::tz::TimeZone> {
    crate::time::zone(name).map_err(|m| anyhow::anyhow!("--timezone: {m}"))
}

/// Prints warnings on standard error, one a line: what was repaired or doubtful in the
/// data and the forecasts behind a result on standard output.
fn print_warnings(warnings: &[crate::warning::Warning]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

/// Writes every export the arguments ask for. The HPA manifest, the AWS policy and the
/// KEDA object are worked out first: one that cannot be written fails before any file is.
fn export_plan(plan: &crate::plan::Plan, args: &PlanArgs) -> anyhow::Result<()> {
    use crate::export::code;
    print_warnings(&plan.warnings);
    // Worked out only when asked for; an error names its flag (`--hpa: …`).
    fn asked<T>(flag: &Option<PathBuf>, make: impl FnOnce() -> crate::error::Result<T>) -> anyhow::Result<Option<T>> {
        flag.as_ref().map(|_| make()).transpose().map_err(|e| anyhow::anyhow!("--{e}"))
    }
    let (namespace, target) = (args.namespace.as_deref(), args.target.as_deref());
    let manifest = asked(&args.hpa, || crate::export::hpa_for_plan(plan, namespace, target))?;
    let policy = asked(&args.aws, || crate::export::aws_for_plan(plan))?;
    let keda = asked(&args.keda, || crate::export::keda_for_plan(plan, namespace, target))?;
    if let Some(path) = &args.save {
        plan.save(path)?;
        eprintln!("plan saved to {}", path.display());
    }
    if let Some(path) = &args.pdf {
        crate::files::atomic_write(path, &crate::export::pdf::write_pdf(plan)?)?;
        eprintln!("report written to {}", path.display());
    }
    if let Some(dir) = &args.csv {
        crate::export::write_csv_dir(plan, dir)?;
        eprintln!("CSV written to {}", dir.display());
    }
    if let Some(path) = &args.rules {
        crate::files::atomic_write(path, code::prometheus_rules(plan).as_bytes())?;
        eprintln!("Prometheus rules written to {}", path.display());
    }
    // The policy exports: what each cannot carry said first, then the file written.
    let policies = [
        (&args.hpa, manifest.map(|m| (m.yaml, m.warnings)), "warning: --hpa", "HPA manifest"),
        (&args.aws, policy.map(|p| (p.json, p.warnings)), "note: --aws", "AWS CloudFormation template"),
        (&args.keda, keda.map(|k| (k.yaml, k.warnings)), "note: --keda", "KEDA ScaledObject"),
    ];
    for (path, written, prefix, what) in policies {
        if let (Some(path), Some((text, notes))) = (path, written) {
            for w in &notes {
                eprintln!("{prefix}: {w}");
            }
            crate::files::atomic_write(path, text.as_bytes())?;
            eprintln!("{what} written to {}", path.display());
        }
    }
    Ok(())
}

fn simulate(args: &SimulateArgs) -> anyhow::Result<ExitCode> {
    use crate::simulate::{ScenarioFile, recommend, run_scenario};
    let text = std::fs::read_to_string(&args.scenario).with_context(|| format!("reading {}", args.scenario.display()))?;
    let file = ScenarioFile::parse(&text, &args.scenario.display().to_string())?;
    let data = match (&args.data, &file.data) {
        (Some(d), _) => d.clone(),
        (None, Some(d)) => args.scenario.parent().unwrap_or(std::path::Path::new(".")).join(d),
        (None, None) => bail!("{}: no `data` in the file: give --data", args.scenario.display()),
    };
    let horizon = Horizon::parse(&file.horizon).map_err(|e| anyhow::anyhow!("{}: {e}", args.scenario.display()))?;
    crate::files::ensure_writable_dir(&args.out)?;
    let import = pipeline::load(&[data], &CsvOptions::default())?;
    let mut names: Vec<&str> = file.scenario.iter().map(|s| s.series.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut forecasts = std::collections::HashMap::new();
    for name in names {
        let series = import
            .series
            .iter()
            .find(|s| s.name == name || s.display_name() == name)
            .ok_or_else(|| anyhow::anyhow!("{}: series \"{name}\" is not in the data", args.scenario.display()))?;
        let settings = ForecastSettings { horizon: horizon.steps(series.step_ms), ..ForecastSettings::default() };
        forecasts.insert(name.to_string(), (series, pipeline::forecast_series(series, &settings)?));
    }
    let mut outcomes = Vec::new();
    for s in &file.scenario {
        let Some((series, forecast)) = forecasts.get(&s.series) else { continue };
        outcomes.push(run_scenario(s, series, forecast, file.paths, file.seed).with_context(|| format!("scenario \"{}\"", s.name))?);
    }
    let horizon_minutes = forecasts.values().next().map_or(0.0, |(_, f)| f.point.len() as f64 * f.step_ms as f64 / 60_000.0);
    let best = recommend(&outcomes, horizon_minutes, file.risk_budget);
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let within = crate::simulate::recommended_within(&outcomes, best, horizon_minutes, file.risk_budget);
    crate::export::write_outcomes_csv(&args.out, &outcomes, best, within)?;
    if args.search {
        let mut rows =
            String::from("scenario,target_utilisation,min,cost_per_month,expected_minutes_over_target,saturation_probability,best\n");
        for s in &file.scenario {
            let Some((series, forecast)) = forecasts.get(&s.series) else { continue };
            let Some((trials, best)) = crate::simulate::search(s, series, forecast, file.paths, file.seed, file.risk_budget)? else {
                continue;
            };
            for (i, t) in trials.iter().enumerate() {
                rows.push_str(&format!(
                    "{},{:.2},{},{:.2},{:.1},{:.3},{}\n",
                    crate::export::csv::text_cell(&s.name),
                    t.target,
                    t.min,
                    t.outcome.cost_per_month,
                    t.outcome.expected_minutes_over_target,
                    t.outcome.saturation_probability,
                    if best == Some(i) { "yes" } else { "no" }
                ));
            }
            if let Some(b) = best.and_then(|b| trials.get(b)) {
                crate::outln!(
                    "search {}: target {:.0} %, min {} -> {:.2}/month, {:.1} expected minutes over target",
                    s.name,
                    100.0 * b.target,
                    b.min,
                    b.outcome.cost_per_month,
                    b.outcome.expected_minutes_over_target
                );
            }
        }
        crate::files::atomic_write(&args.out.join("search.csv"), rows.as_bytes())?;
    }
    crate::outln!(
        "{:<34} {:>16} {:>12} {:>10} {:>10} {:>8} {:>9}",
        "scenario",
        "policy",
        "cost/month",
        "min>target",
        "min>cap",
        "events",
        "P(sat)"
    );
    let minutes = crate::export::minutes;
    for (i, o) in outcomes.iter().enumerate() {
        crate::outln!(
            "{:<34} {:>16} {:>12.2} {:>10} {:>10} {:>8} {:>9.3}{}",
            o.name,
            o.policy,
            o.cost_per_month,
            minutes(o.minutes_over_target),
            minutes(o.minutes_over_capacity),
            o.scaling_events,
            o.saturation_probability,
            match crate::simulate::Standing::of(i, best, within) {
                crate::simulate::Standing::Other => "",
                crate::simulate::Standing::Recommended => "  <- recommended",
                crate::simulate::Standing::LeastRisky => "  <- least risky (none within the risk budget)",
            }
        );
    }
    if !within && let Some(text) = crate::simulate::recommendation_text(&outcomes, best, horizon_minutes, file.risk_budget) {
        crate::outln!("{text}");
    }
    for o in &outcomes {
        if let Some((core, gib)) = o.unit_costs {
            crate::outln!("unit cost of \"{}\": {core:.4} per core-hour, {gib:.4} per GiB-hour (OpenCost split)", o.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn storage(args: &StorageArgs) -> anyhow::Result<ExitCode> {
    let horizon = Horizon::parse(&args.horizon).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let lead = crate::time::parse_duration(&args.lead).map_err(|m| anyhow::anyhow!("--lead: {m}"))?;
    if !(args.target > 0.0 && args.target <= 1.0) {
        bail!("--target: a utilisation in (0, 1], got {}", args.target);
    }
    for (flag, v) in [("--size", args.size), ("--increment", args.increment)] {
        if !(v > 0.0 && v.is_finite()) {
            bail!("{flag}: a finite size above zero, got {v}");
        }
    }
    let mut levels = vec![80.0];
    if args.level != 80.0 {
        levels.push(args.level);
    }
    let settings = ForecastSettings { horizon: 1, levels, ..ForecastSettings::default() };
    settings.validate().map_err(|e| anyhow::anyhow!("--{e}"))?;
    let time_zone = time_zone_arg(&args.timezone)?;
    let import = pipeline::load(std::slice::from_ref(&args.input), &CsvOptions { time_zone, ..CsvOptions::default() })?;
    print_warnings(&import.warnings);
    let mut out = String::from("series,order_by,needed_by,new_size\n");
    for (s, f) in import.series.iter().zip(pipeline::forecast_all(&import.series, horizon, &settings, &Progress::new())) {
        let f = f?;
        print_warnings(&f.warnings);
        let orders = crate::capacity::storage_plan(&f, args.size, args.increment, lead, args.target, args.level);
        if orders.len() >= crate::capacity::MAX_STORAGE_ORDERS {
            // (The list stops at the cap: it may have needed exactly that many, or more.)
            bail!(
                "{}: {} orders or more of --increment {} would be needed within the horizon: give a larger increment",
                s.display_name(),
                crate::capacity::MAX_STORAGE_ORDERS,
                args.increment
            );
        }
        if s.unit.is_percent_like() {
            eprintln!(
                "warning: {}: a percent series is forecast no higher than 100 %, so no order past the disk's current size is listed: give its used bytes and --size in bytes",
                s.display_name()
            );
        }
        // An order already due: said, not left as a date in the past.
        let last = s.values.iter().rev().find(|v| v.is_finite()).copied();
        if let Some(v) = last.filter(|v| *v > args.target * args.size) {
            eprintln!(
                "warning: {}: the last value, {}, is already past --target × --size ({}): the first order is late",
                s.display_name(),
                s.unit.format(v),
                s.unit.format(args.target * args.size)
            );
        }
        for o in orders.iter().filter(|o| o.order_by_ms < f.start_ms) {
            eprintln!(
                "warning: {}: the order needed by {} should have been placed by {}, before the forecast starts ({}): order now",
                s.display_name(),
                crate::time::format_rfc3339(o.needed_by_ms),
                crate::time::format_rfc3339(o.order_by_ms),
                crate::time::format_rfc3339(f.start_ms)
            );
        }
        for o in orders {
            let mut line = format!(
                "{},{},{},",
                crate::export::csv::text_cell(&s.display_name()),
                crate::time::format_rfc3339(o.order_by_ms),
                crate::time::format_rfc3339(o.needed_by_ms)
            );
            crate::export::csv::push_number(&mut line, o.new_size);
            out.push_str(&line);
            out.push('\n');
        }
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn runway(args: &RunwayArgs) -> anyhow::Result<ExitCode> {
    use crate::capacity::{default_thresholds, runway};
    let horizon = Horizon::parse(&args.horizon).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let given =
        args.thresholds.as_deref().map(|t| parse_levels(t).map_err(|e| anyhow::anyhow!("{e:#}").context("--thresholds"))).transpose()?;
    let model = ModelChoice::parse(&args.model).map_err(|e| anyhow::anyhow!("--{e}"))?;
    if !(args.level > 0.0 && args.level < 100.0) {
        bail!("--level must be between 0 and 100 (exclusive), got {}", args.level);
    }
    // The paths follow the plan's bands (80 and 95 %) whatever `--level` asks: the level
    // only picks which quantiles of the crossing time are the earliest and latest dates,
    // so the median and the probability are the plan's at every level (a 99 % band among
    // the paths' knots moved them: 0.54 at 95, 0.53 at 99).
    let settings = ForecastSettings { horizon: 1, model, ..ForecastSettings::default() };
    settings.validate().map_err(|e| anyhow::anyhow!("--{e}"))?;
    let time_zone = time_zone_arg(&args.timezone)?;
    let import = pipeline::load(std::slice::from_ref(&args.input), &CsvOptions { series: args.series.clone(), time_zone })?;
    print_warnings(&import.warnings);
    let results = pipeline::forecast_all(&import.series, horizon, &settings, &Progress::new());
    let mut out = format!("{}\n", crate::export::csv::RUNWAY_HEADER);
    for (series, result) in import.series.iter().zip(results) {
        let f = result?;
        print_warnings(&f.warnings);
        let thresholds = match &given {
            Some(v) => {
                let (t, warnings) = crate::capacity::typed_thresholds(series, v);
                print_warnings(&warnings);
                t
            }
            None => default_thresholds(series),
        };
        if thresholds.is_empty() {
            eprintln!("warning: {}: no thresholds (not a percent series): give --thresholds", f.series);
        }
        for c in runway(series, &f, &thresholds, args.level) {
            if c.already {
                eprintln!(
                    "warning: {}: {} is already reached (the last value is at or above it): its crossing is now",
                    f.series,
                    series.unit.format(c.threshold.value)
                );
            }
            out.push_str(&crate::export::csv::runway_row(&f.series, &c));
            out.push('\n');
        }
    }
    match &args.out {
        Some(p) => crate::files::atomic_write(p, out.as_bytes())?,
        None => std::io::stdout().lock().write_all(out.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

fn import_prometheus(args: &PrometheusArgs) -> anyhow::Result<ExitCode> {
    let (settings, query) = args.validate(crate::time::now_ms())?;
    let client = crate::import::prometheus::Client::new(&settings)?;
    crate::files::ensure_writable(&args.out)?;
    let import = client.query_range(&query, &Progress::new())?;
    for w in &import.warnings {
        eprintln!("warning: {w}");
    }
    // Streamed to the file: a large import is never held twice, as series and as text.
    crate::files::atomic_write_with(&args.out, |w| crate::export::csv::write_series_long(w, &import.series))?;
    let points: usize = import.series.iter().map(|s| s.len() - s.missing()).sum();
    eprintln!("{} series, {points} samples written to {}", import.series.len(), args.out.display());
    Ok(ExitCode::SUCCESS)
}

fn forecast(args: &ForecastArgs) -> anyhow::Result<ExitCode> {
    let job = args.validate()?;
    if args.input.is_dir() {
        let Some(out_dir) = &args.out_dir else {
            bail!("--out-dir is required when the input is a directory ({})", args.input.display());
        };
        crate::files::ensure_writable_dir(out_dir)?;
        let files = crate::files::csv_files_in(&args.input)?;
        if files.is_empty() {
            bail!("{}: no *.csv files in this directory", args.input.display());
        }
        // Progress on a terminal (a thousand files take a minute); never in a pipe or log.
        let show = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let done = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<anyhow::Result<()>> = files
            .par_iter()
            .map(|file| {
                let bytes = forecast_one(std::slice::from_ref(file), &job, args.verbose)?;
                crate::files::atomic_write(&pipeline::output_path(out_dir, file), &bytes)?;
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if show && (n % 10 == 0 || n == files.len()) {
                    eprint!("\rforecast: {n} of {} files", files.len());
                }
                Ok(())
            })
            .collect();
        if show {
            eprintln!();
        }
        for r in results {
            r?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.out_dir.is_some() {
        bail!("--out-dir is for a directory input; for one file use --out FILE");
    }
    if let Some(path) = &args.out {
        crate::files::ensure_writable(path)?;
    }
    let bytes = forecast_one(std::slice::from_ref(&args.input), &job, args.verbose)?;
    match &args.out {
        Some(path) => crate::files::atomic_write(path, &bytes)?,
        None => std::io::stdout().lock().write_all(&bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn forecast_one(inputs: &[PathBuf], job: &ForecastJob, verbose: bool) -> anyhow::Result<Vec<u8>> {
    let import = pipeline::load(inputs, &job.csv)?;
    if verbose {
        for w in &import.warnings {
            eprintln!("warning: {w}");
        }
    }
    let results = pipeline::forecast_all(&import.series, job.horizon, &job.settings, &Progress::new());
    let mut forecasts = Vec::with_capacity(results.len());
    for r in results {
        let f = r?;
        if verbose {
            eprint!("{}", describe_forecast(&f));
            for w in &f.warnings {
                eprintln!("warning: {w}");
            }
        }
        forecasts.push(f);
    }
    let mut out = Vec::new();
    write_forecasts(&mut out, &forecasts, &job.settings.levels)?;
    Ok(out)
}

/// A plain-text account of a forecast: the model, its backtest table, the calibrated
/// coverage. Printed by `forecast --verbose`.
pub fn describe_forecast(f: &Forecast) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "{}: {} ({} steps)", f.series, f.model, f.point.len());
    let Some(ev) = &f.evidence else {
        let _ = writeln!(out, "  no backtest (too little history): bands are the model's own");
        return out;
    };
    let _ = writeln!(
        out,
        "  backtest: {} windows of {} {}, origins {} {} apart; the latest {} choose the model",
        ev.plan.folds,
        ev.plan.fold_len,
        crate::warning::plural(ev.plan.fold_len, "step", "steps"),
        ev.plan.stride(),
        crate::warning::plural(ev.plan.stride(), "step", "steps"),
        ev.plan.selection().len()
    );
    let levels: Vec<f64> = ev.chosen.coverage.iter().map(|c| c.level).collect();
    let mut head = format!("  {:<48} {:>7} {:>7}", "model", "MASE", "sMAPE");
    for l in &levels {
        head.push_str(&format!(" {:>7}", format!("cov{}", crate::export::csv::level_label(*l))));
    }
    head.push_str(&format!(" {:>7}", "MSIS"));
    let _ = writeln!(out, "{head}");
    for s in &ev.scores {
        let mut row = format!("  {:<48} {:>7.3} {:>7.2}", truncate(&s.model, 48), s.mase, s.smape);
        for c in &s.coverage {
            row.push_str(&format!(" {:>7.3}", c.value));
        }
        row.push_str(&format!(" {:>7.2}", s.msis));
        let _ = writeln!(out, "{row}");
    }
    let _ = writeln!(out, "  chosen: {} (MASE {:.3})", ev.chosen.model, ev.chosen.mase);
    if let Some(cov) = &ev.calibrated_coverage {
        let parts: Vec<String> = cov.iter().map(|c| format!("{} %: {:.3}", crate::export::csv::level_label(c.level), c.value)).collect();
        let source = if ev.nested_windows > 0 {
            format!("; {} of the latest forecast by the model their own past chose", ev.nested_windows)
        } else {
            String::new()
        };
        if ev.left_out + ev.unfitted > 0 {
            let mut why = Vec::new();
            if ev.left_out > 0 {
                why.push(format!("{} scored after the level shift the final fit levelled at", ev.left_out));
            }
            if ev.unfitted > 0 {
                why.push(format!("{} on which the chosen model could not be fitted", ev.unfitted));
            }
            let _ = writeln!(
                out,
                "  calibrated on {} of the {} windows ({} left out){source}",
                ev.plan.folds.saturating_sub(ev.left_out + ev.unfitted),
                ev.plan.folds,
                why.join(", ")
            );
        } else {
            let _ = writeln!(out, "  calibrated on all {} windows{source}", ev.plan.folds);
        }
        let _ = writeln!(
            out,
            "  calibrated band coverage (out of sample, each window judged without itself and the neighbour either side that overlaps it): {}",
            parts.join(", ")
        );
    }
    for r in &ev.rescaled {
        let _ = writeln!(
            out,
            "  {} % band rescaled ×{:.2} to meet its out-of-sample coverage",
            crate::export::csv::level_label(r.level),
            r.value
        );
    }
    let d = &f.dependence;
    let _ = writeln!(
        out,
        "  error dependence: correlation {:.3} per step{}, {:.0} % of the variance fast ({})",
        d.rho(f.step_ms as f64),
        if d.tau_ms.is_finite() && d.tau_ms > 0.0 {
            format!(" (correlation time {})", crate::time::format_duration(((d.tau_ms.min(1e15) / 60_000.0).round() * 60_000.0) as i64))
        } else {
            String::new()
        },
        100.0 * d.fast_share(),
        if d.estimated { "from the backtest errors" } else { "assumed" },
    );
    let replayed = d.replayed().count();
    let share = crate::forecast::paths::replay_share(replayed);
    if share > 0.0 {
        let _ = writeln!(
            out,
            "  sample paths: {:.0} % replay one of the {replayed} backtest windows' errors whole, the rest from that error process",
            100.0 * share
        );
    }
    out
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n - 1).collect::<String>()) }
}
