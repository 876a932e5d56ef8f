//! What-if scaling: replay real scaling policies over demand (history and forecast),
//! with the forecast's uncertainty as seeded sample paths, and price the result.
//!
//! - [`policy`]: static, schedule, Kubernetes HPA, AWS target tracking, step scaling
//!   (with the gradual, aggressive and conservative presets), predictive;
//! - [`replay`]: the loop, in 15-second steps;
//! - this module: scenarios (TOML), overlays ("+30 % from 1 March", "lose one of three
//!   zones"), sample paths and risk, cost, the comparison and the recommendation.

pub mod aws;
pub mod hpa;
pub mod policy;
pub mod replay;

pub use policy::Policy;
pub use replay::{CapacityModel, Replay, StepRecord, Totals, replay, replay_counted_from};

use crate::error::{Error, Result};
use crate::forecast::Forecast;
use crate::series::Series;
use crate::time::HOUR_MS;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How instances are paid for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PricingModel {
    /// Every instance-hour at the list price.
    #[default]
    OnDemand,
    /// `commitment` instances paid around the clock at a discount; the rest on demand.
    Reserved,
    /// Every instance-hour at a discount, with interruptions.
    Spot,
}

/// Prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Price {
    /// List price per instance-hour.
    pub instance_hour: f64,
    /// The pricing model.
    pub model: PricingModel,
    /// Discount for reserved or spot, 0 to 1.
    pub discount: f64,
    /// Reserved: instances committed.
    pub commitment: u32,
    /// Spot: interruptions per instance-hour.
    pub interruption_rate: f64,
    /// Cores per instance (for the unit-cost view).
    pub cores: Option<f64>,
    /// Memory per instance in GiB (for the unit-cost view).
    pub memory_gib: Option<f64>,
}

impl Default for Price {
    fn default() -> Self {
        Price {
            instance_hour: 0.1,
            model: PricingModel::OnDemand,
            discount: 0.0,
            commitment: 0,
            interruption_rate: 0.0,
            cores: None,
            memory_gib: None,
        }
    }
}

/// OpenCost's default relative prices of a core-hour and a GiB-hour, used to split an
/// instance's price into CPU and memory.
const CORE_HOUR_WEIGHT: f64 = 0.031_611;
const GIB_HOUR_WEIGHT: f64 = 0.004_237;

impl Price {
    /// `(per core-hour, per GiB-hour)` of this instance type, splitting its price as
    /// OpenCost does; `None` without cores and memory.
    pub fn unit_costs(&self) -> Option<(f64, f64)> {
        let (c, m) = (self.cores?, self.memory_gib?);
        let weight = CORE_HOUR_WEIGHT * c + GIB_HOUR_WEIGHT * m;
        if weight <= 0.0 {
            return None;
        }
        let scale = self.effective_hourly() / weight;
        Some((CORE_HOUR_WEIGHT * scale, GIB_HOUR_WEIGHT * scale))
    }

    fn effective_hourly(&self) -> f64 {
        match self.model {
            PricingModel::OnDemand | PricingModel::Reserved => self.instance_hour,
            PricingModel::Spot => self.instance_hour * (1.0 - self.discount),
        }
    }

    /// The cost of a replay's instance counts (per demand step) over `hours`.
    pub fn cost(&self, steps: &[StepRecord], step_hours: f64, instance_hours: f64) -> f64 {
        match self.model {
            PricingModel::OnDemand => instance_hours * self.instance_hour,
            PricingModel::Spot => instance_hours * self.instance_hour * (1.0 - self.discount),
            PricingModel::Reserved => {
                let hours = steps.len() as f64 * step_hours;
                let committed = f64::from(self.commitment) * hours * self.instance_hour * (1.0 - self.discount);
                let excess: f64 = steps.iter().map(|s| (s.instances - f64::from(self.commitment)).max(0.0) * step_hours).sum();
                committed + excess * self.instance_hour
            }
        }
    }
}

/// A change laid over the demand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Overlay {
    /// Demand grows by `percent` from `from` on.
    Growth {
        /// Percent more demand.
        percent: f64,
        /// From when (RFC 3339 or `YYYY-MM-DD`).
        from: String,
    },
    /// `lost` of `zones` availability zones are gone between `from` and `to`: the rest
    /// carry all the demand (modelled as demand × zones / (zones − lost)).
    ZoneLoss {
        /// Zones in all.
        zones: u32,
        /// Zones lost.
        lost: u32,
        /// From when.
        from: String,
        /// Until when (none: to the end).
        #[serde(default)]
        to: Option<String>,
    },
}

impl Overlay {
    /// Checks the numbers and dates, saying what is wrong.
    fn validate(&self) -> std::result::Result<(), String> {
        let date = |t: &str, field: &str| {
            crate::time::parse_instant(t, 0).map_err(|m| format!("{field}: {m}")).and_then(|ms| {
                if crate::time::in_range(ms) { Ok(()) } else { Err(format!("{field}: {t} lies outside the years 1000 to 9999")) }
            })
        };
        match self {
            Overlay::Growth { percent, from } => {
                if !(percent.is_finite() && *percent > -100.0 && *percent <= 1e6) {
                    return Err(format!("percent must be a finite number above -100 (and at most 1e6), got {percent}"));
                }
                date(from, "from")
            }
            Overlay::ZoneLoss { zones, lost, from, to } => {
                if *zones == 0 || *lost >= *zones {
                    return Err(format!("lost ({lost}) must be fewer than zones ({zones})"));
                }
                date(from, "from")?;
                to.as_deref().map_or(Ok(()), |t| date(t, "to"))
            }
        }
    }

    fn apply(&self, values: &mut [f64], start_ms: i64, step_ms: i64, key: &str) -> Result<()> {
        let at = |text: &str, field: &str| crate::time::parse_instant(text, 0).map_err(|m| Error::setting(format!("{key}.{field}"), m));
        let (factor, from, to) = match self {
            Overlay::Growth { percent, from } => (1.0 + percent / 100.0, at(from, "from")?, i64::MAX),
            Overlay::ZoneLoss { zones, lost, from, to } => {
                if *lost >= *zones {
                    return Err(Error::setting(format!("{key}.lost"), "must be fewer than zones"));
                }
                let to = match to {
                    Some(t) => at(t, "to")?,
                    None => i64::MAX,
                };
                (f64::from(*zones) / f64::from(zones - lost), at(from, "from")?, to)
            }
        };
        for (i, v) in values.iter_mut().enumerate() {
            let t = crate::time::slot_time(start_ms, step_ms, i as i64);
            if t >= from && t < to {
                *v *= factor;
            }
        }
        Ok(())
    }
}

/// A named what-if.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The name in tables.
    pub name: String,
    /// The demand series' name (as imported).
    pub series: String,
    /// What one instance serves and the target utilisation.
    pub capacity: CapacityModel,
    /// The scaling policy.
    pub policy: Policy,
    /// Prices.
    #[serde(default)]
    pub price: Price,
    /// Changes over the demand.
    #[serde(default)]
    pub overlay: Vec<Overlay>,
}

/// A scenario file: shared settings and the scenarios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// The demand data (CSV), relative to the file; `--data` overrides it.
    #[serde(default)]
    pub data: Option<String>,
    /// Forecast horizon (`14d`).
    #[serde(default = "default_horizon")]
    pub horizon: String,
    /// Sample paths for the risk figures.
    #[serde(default = "default_paths")]
    pub paths: usize,
    /// Seed of the sample paths.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Risk budget: largest acceptable share of minutes over target (0.001 = 0.1 %).
    #[serde(default = "default_budget")]
    pub risk_budget: f64,
    /// The scenarios.
    pub scenario: Vec<Scenario>,
}

fn default_horizon() -> String {
    "14d".into()
}
/// Most sample paths a scenario file may ask for: 10,000 replays of a 14-day horizon at
/// 15 s take minutes and about a gigabyte of demand paths; more is a typo.
pub const MAX_PATHS: usize = 10_000;
/// Most sample-path values one scenario may draw (400 MB of demand).
pub const MAX_PATH_VALUES: usize = 50_000_000;

fn default_paths() -> usize {
    200
}
fn default_seed() -> u64 {
    1
}
fn default_budget() -> f64 {
    0.001
}

impl ScenarioFile {
    /// Parses and validates TOML; errors name the key (and the line).
    ///
    /// # Errors
    /// Bad TOML, an unknown or missing key, a value out of range.
    pub fn parse(text: &str, origin: &str) -> Result<ScenarioFile> {
        let file: ScenarioFile = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_string();
            let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() as u64 + 1);
            let loc = crate::error::Location { file: Some(origin.into()), line, column: None };
            Error::parse(loc, msg)
        })?;
        file.validate()?;
        Ok(file)
    }

    /// Checks every setting (the scenario TOML and the scenarios a plan file carries),
    /// naming the key.
    ///
    /// # Errors
    /// The first bad key and what it must be.
    pub fn validate(&self) -> Result<()> {
        let file = self;
        if file.scenario.is_empty() {
            return Err(Error::setting("scenario", "the file has no [[scenario]]"));
        }
        for (i, s) in file.scenario.iter().enumerate() {
            // Outcomes, CSV rows and the recommendation are known by name.
            if let Some(j) = file.scenario[..i].iter().position(|o| o.name == s.name) {
                return Err(Error::setting(
                    format!("scenario[{i}].name"),
                    format!("\"{}\" is already the name of scenario[{j}]: each scenario needs a name of its own", s.name),
                ));
            }
            s.policy.validate().map_err(|m| Error::setting(format!("scenario[{i}] ({})", s.name), m))?;
            let key = |field: &str| format!("scenario[{i}] ({}).{field}", s.name);
            if !(s.capacity.per_instance > 0.0 && s.capacity.per_instance.is_finite()) {
                return Err(Error::setting(
                    key("capacity.per_instance"),
                    format!("must be a finite number above zero, got {}", s.capacity.per_instance),
                ));
            }
            if !(s.capacity.target_utilisation > 0.0 && s.capacity.target_utilisation <= 1.0) {
                return Err(Error::setting(key("capacity.target_utilisation"), "must be in (0, 1]"));
            }
            let p = &s.price;
            if !(p.instance_hour >= 0.0 && p.instance_hour.is_finite()) || !(0.0..=1.0).contains(&p.discount) {
                return Err(Error::setting(key("price"), "instance_hour a finite number ≥ 0 and discount within 0..1"));
            }
            if !(p.interruption_rate >= 0.0 && p.interruption_rate.is_finite()) {
                return Err(Error::setting(
                    key("price.interruption_rate"),
                    format!("must be a finite number ≥ 0, got {}", p.interruption_rate),
                ));
            }
            for (field, v) in [("price.cores", p.cores), ("price.memory_gib", p.memory_gib)] {
                if v.is_some_and(|v| !(v > 0.0 && v.is_finite())) {
                    return Err(Error::setting(key(field), "must be a finite number above zero"));
                }
            }
            for (j, o) in s.overlay.iter().enumerate() {
                o.validate().map_err(|m| Error::setting(key(&format!("overlay[{j}]")), m))?;
            }
        }
        if file.paths == 0 || file.paths > MAX_PATHS {
            return Err(Error::setting("paths", format!("sample paths must be 1 to {MAX_PATHS}, got {}", file.paths)));
        }
        if !(file.risk_budget >= 0.0 && file.risk_budget <= 1.0) {
            return Err(Error::setting("risk_budget", "a share between 0 and 1"));
        }
        Ok(())
    }
}

/// Hours in the month a cost per month is given for: 8,760 / 12, the average month,
/// which AWS's, Azure's and Google Cloud's price calculators all use ("730 hours in a
/// month"), so that a scenario's cost reads against their estimates and twelve months
/// make the year. (A 30-day month read 1.4 % under every calculator.)
pub const HOURS_PER_MONTH: f64 = 730.0;

/// A scenario's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The scenario's name.
    pub name: String,
    /// The policy kind.
    pub policy: String,
    /// The capacity model it ran with.
    pub capacity: CapacityModel,
    /// Cost per month ([`HOURS_PER_MONTH`]) at the forecast horizon's rate.
    pub cost_per_month: f64,
    /// Instance-hours over the forecast horizon (median demand).
    pub instance_hours: f64,
    /// Minutes over target utilisation (median demand).
    pub minutes_over_target: f64,
    /// Minutes over capacity (median demand).
    pub minutes_over_capacity: f64,
    /// Scaling events (median demand).
    pub scaling_events: u32,
    /// The chance of any minute over capacity: the share of sample paths with one,
    /// weighed by the evidence behind them (`saturation_probability`).
    pub saturation_probability: f64,
    /// Mean minutes over target over the sample paths.
    pub expected_minutes_over_target: f64,
    /// Expected spot interruptions over the horizon.
    pub interruptions: f64,
    /// `(per core-hour, per GiB-hour)`, when cores and memory are known.
    pub unit_costs: Option<(f64, f64)>,
    /// Per demand step over history and forecast (median demand). Not kept in plan
    /// files: replaying the scenario gives them back exactly.
    #[serde(skip)]
    pub steps: Vec<StepRecord>,
    /// Where the forecast starts in `steps`.
    pub forecast_start: usize,
}

/// Demand sample paths around a forecast: the forecast's own paths
/// ([`crate::forecast::paths::sample`]): half replay its backtest windows' errors, half
/// come from the fitted error process with its calibrated bands from step 0; the runway
/// reads the same paths.
pub fn sample_paths(forecast: &Forecast, paths: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut out = crate::forecast::paths::sample(forecast, paths, seed);
    // Demand is never negative, whatever bounds the forecast was made with.
    out.iter_mut().flatten().for_each(|v| *v = v.max(0.0));
    out
}

/// History replayed before each sample path in [`run_scenario`]: longer than anything a
/// policy remembers (the HPA's stabilisation windows reach an hour at most, AWS alarms
/// and cooldowns minutes), so that every path starts from the fleet history left.
const WARM_UP_MS: i64 = 2 * HOUR_MS;

/// Runs one scenario over `series` and its `forecast`.
///
/// # Errors
/// A bad overlay date.
pub fn run_scenario(scenario: &Scenario, series: &Series, forecast: &Forecast, paths: usize, seed: u64) -> Result<Outcome> {
    // The history each sample path replays first: WARM_UP_MS of it, or all there is.
    let warm = usize::try_from(WARM_UP_MS / series.step_ms.max(1)).unwrap_or(usize::MAX).min(series.len());
    if paths.saturating_mul(forecast.point.len().saturating_add(warm)) > MAX_PATH_VALUES {
        return Err(Error::setting(
            "paths",
            format!(
                "{paths} sample paths of {} steps would hold more than {MAX_PATH_VALUES} values: use fewer paths or a shorter horizon",
                forecast.point.len()
            ),
        ));
    }
    let (history, _) = series.interpolated();
    let step = series.step_ms;
    let mut demand = history.clone();
    demand.extend_from_slice(&forecast.point);
    for (i, o) in scenario.overlay.iter().enumerate() {
        o.apply(&mut demand, series.start_ms, step, &format!("overlay[{i}]"))?;
    }
    // What a predictive policy plans on: history as it was, then its chosen band.
    let signal = match &scenario.policy {
        Policy::Predictive(p) => {
            let mut s = history.clone();
            let future = match p.band.and_then(|l| forecast.band(l)) {
                Some(b) => b.upper.clone(),
                None => forecast.point.clone(),
            };
            s.extend(future);
            for (i, o) in scenario.overlay.iter().enumerate() {
                o.apply(&mut s, series.start_ms, step, &format!("overlay[{i}]"))?;
            }
            Some(s)
        }
        _ => None,
    };
    let h = history.len();
    // One replay over history and forecast: its steps are the rows, and its totals,
    // counted from the forecast's start, the summary (the policy meets the future as
    // history left it, not from a cold start).
    let run = replay_counted_from(&scenario.policy, &scenario.capacity, &demand, series.start_ms, step, signal.as_deref(), true, h);
    let step_hours = step as f64 / HOUR_MS as f64;
    let horizon_hours = (demand.len() - h) as f64 * step_hours;
    let cost = scenario.price.cost(&run.steps[h.min(run.steps.len())..], step_hours, run.totals.instance_hours);
    // Risk over sample paths of the forecast part, each after the last WARM_UP_MS of
    // history (joined per path as it is replayed, not held for all of them), so that it
    // too starts where history left the policy.
    let mut paths_demand = sample_paths(forecast, paths, seed);
    for p in &mut paths_demand {
        for (i, o) in scenario.overlay.iter().enumerate() {
            o.apply(p, forecast.start_ms, step, &format!("overlay[{i}]"))?;
        }
    }
    let warm_start = crate::time::slot_time(series.start_ms, step, (h - warm) as i64);
    let risks: Vec<Totals> = paths_demand
        .par_iter()
        .map(|p| {
            let mut d = Vec::with_capacity(warm + p.len());
            d.extend_from_slice(&demand[h - warm..h]);
            d.extend_from_slice(p);
            let signal = signal.as_deref().map(|s| &s[h - warm..]);
            replay_counted_from(&scenario.policy, &scenario.capacity, &d, warm_start, step, signal, false, warm).totals
        })
        .collect();
    let n = risks.len().max(1) as f64;
    Ok(Outcome {
        name: scenario.name.clone(),
        policy: scenario.policy.kind().into(),
        capacity: scenario.capacity,
        cost_per_month: if horizon_hours > 0.0 { cost * HOURS_PER_MONTH / horizon_hours } else { 0.0 },
        instance_hours: run.totals.instance_hours,
        minutes_over_target: run.totals.minutes_over_target,
        minutes_over_capacity: run.totals.minutes_over_capacity,
        scaling_events: run.totals.scaling_events,
        saturation_probability: saturation_probability(
            &risks,
            forecast,
            h.checked_sub(1).and_then(|i| run.steps.get(i)).is_some_and(|s| s.unserved > 0.0),
            run.steps.iter().any(|s| s.unserved > 0.0),
        ),
        expected_minutes_over_target: risks.iter().map(|t| t.minutes_over_target).sum::<f64>() / n,
        interruptions: if scenario.price.model == PricingModel::Spot {
            run.totals.instance_hours * scenario.price.interruption_rate
        } else {
            0.0
        },
        unit_costs: scenario.price.unit_costs(),
        steps: run.steps,
        forecast_start: h,
    })
}

/// The chance that demand outruns the scenario's capacity at some minute of the
/// horizon: the share of sample paths that did, weighed against a prior as the runway's
/// breach probabilities are ([`crate::forecast::paths::prior_weight`]): certain when the
/// scenario is short at the end of history (as a threshold history already stands at),
/// even odds when it ran short on history or on the median forecast, none when it never
/// did. (A group of none under real demand read 0.93.)
fn saturation_probability(risks: &[Totals], forecast: &Forecast, short_now: bool, short_before: bool) -> f64 {
    use crate::forecast::paths::{prior_chance, weigh};
    let share = risks.iter().filter(|t| t.minutes_over_capacity > 0.0).count() as f64 / risks.len().max(1) as f64;
    weigh(share, forecast.dependence.evidence_weight(), prior_chance(short_now, short_before))
}

/// The recommendation: the cheapest scenario whose expected minutes over target stay
/// within `budget` (a share of the horizon's minutes); when none does, the least risky.
pub fn recommend(outcomes: &[Outcome], horizon_minutes: f64, budget: f64) -> Option<usize> {
    recommend_among(outcomes.iter().enumerate(), horizon_minutes, budget)
}

/// [`recommend`] among some outcomes, each with its index: the index of the one chosen.
pub fn recommend_among<'a>(
    outcomes: impl Iterator<Item = (usize, &'a Outcome)> + Clone,
    horizon_minutes: f64,
    budget: f64,
) -> Option<usize> {
    let share = |o: &Outcome| over_target_share(o, horizon_minutes);
    let within = outcomes
        .clone()
        .filter(|(_, o)| within_budget(o, horizon_minutes, budget))
        .min_by(|a, b| a.1.cost_per_month.total_cmp(&b.1.cost_per_month));
    within.or_else(|| outcomes.min_by(|a, b| share(a.1).total_cmp(&share(b.1)))).map(|(i, _)| i)
}

/// The share of the horizon's minutes a scenario is expected to spend over target.
pub fn over_target_share(o: &Outcome, horizon_minutes: f64) -> f64 {
    if horizon_minutes > 0.0 { o.expected_minutes_over_target / horizon_minutes } else { 0.0 }
}

/// True when `o` keeps within the risk `budget` (a share of the horizon's minutes).
pub fn within_budget(o: &Outcome, horizon_minutes: f64, budget: f64) -> bool {
    over_target_share(o, horizon_minutes) <= budget
}

/// True when the scenario [`recommend`] picked (`best`) keeps within the risk `budget`:
/// otherwise it is only the least risky, and every output says so.
pub fn recommended_within(outcomes: &[Outcome], best: Option<usize>, horizon_minutes: f64, budget: f64) -> bool {
    best.and_then(|i| outcomes.get(i)).is_some_and(|o| within_budget(o, horizon_minutes, budget))
}

/// Where a scenario stands in the recommendation: every output (summary.csv, the PDF,
/// the command line, the window) says it from this, in its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The cheapest scenario within the risk budget.
    Recommended,
    /// The pick when no scenario keeps within the budget: the least risky.
    LeastRisky,
    /// Any other.
    Other,
}

impl Standing {
    /// Scenario `i`'s, given [`recommend`]'s pick `best` and whether it keeps within the
    /// budget ([`recommended_within`]).
    pub fn of(i: usize, best: Option<usize>, within: bool) -> Standing {
        match (best == Some(i), within) {
            (true, true) => Standing::Recommended,
            (true, false) => Standing::LeastRisky,
            (false, _) => Standing::Other,
        }
    }

    /// The `recommended` column of summary.csv: "yes", "least risky (over budget)" or "no".
    pub fn word(self) -> &'static str {
        match self {
            Standing::Recommended => "yes",
            Standing::LeastRisky => "least risky (over budget)",
            Standing::Other => "no",
        }
    }
}

/// One line on the recommendation, as every output says it: the cheapest scenario within
/// the risk budget, or, when none keeps within it, that none does and which is the
/// least risky (a recommendation over budget must not read as one within it).
pub fn recommendation_text(outcomes: &[Outcome], best: Option<usize>, horizon_minutes: f64, budget: f64) -> Option<String> {
    let o = outcomes.get(best?)?;
    Some(if within_budget(o, horizon_minutes, budget) {
        format!("Recommended: {} at {:.2} per month", o.name, o.cost_per_month)
    } else {
        format!(
            "No scenario keeps within the risk budget ({} % of minutes over target); the least risky, {}, is expected over target {:.0} minutes ({:.2} %) at {:.2} per month",
            crate::series::unit::plain_number(100.0 * budget),
            o.name,
            o.expected_minutes_over_target,
            100.0 * over_target_share(o, horizon_minutes),
            o.cost_per_month
        )
    })
}

/// One point of a settings search.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// The target utilisation tried.
    pub target: f64,
    /// The minimum instances tried.
    pub min: u32,
    /// What it gave.
    pub outcome: Outcome,
}

/// Searches a policy's key settings (target utilisation 0.4–0.9 and the minimum
/// instances) for the cheapest within `budget`; returns every trial and the best one's
/// index. Static and schedule policies have no such settings: `None`.
///
/// # Errors
/// As [`run_scenario`].
pub fn search(
    scenario: &Scenario,
    series: &Series,
    forecast: &Forecast,
    paths: usize,
    seed: u64,
    budget: f64,
) -> Result<Option<(Vec<Trial>, Option<usize>)>> {
    let base_min = match &scenario.policy {
        Policy::Hpa(h) => h.min,
        Policy::TargetTracking(t) => t.min,
        Policy::Predictive(p) => p.min,
        _ => return Ok(None),
    };
    let mins: Vec<u32> = {
        let mut m = vec![base_min.max(1), base_min.max(1) * 2];
        m.dedup();
        m
    };
    let mut grid = Vec::new();
    for t in 0..=10 {
        for &min in &mins {
            grid.push((0.4 + 0.05 * f64::from(t), min));
        }
    }
    let trials: Vec<Trial> = grid
        .into_par_iter()
        .map(|(target, min)| {
            let mut s = scenario.clone();
            match &mut s.policy {
                Policy::Hpa(h) => {
                    h.target = target;
                    h.min = min.min(h.max);
                }
                Policy::TargetTracking(t) => {
                    t.target = target;
                    t.min = min.min(t.max);
                }
                Policy::Predictive(p) => {
                    p.target = target;
                    p.min = min.min(p.max);
                }
                _ => {}
            }
            s.name = format!("{} [target {:.0} %, min {min}]", scenario.name, 100.0 * target);
            run_scenario(&s, series, forecast, paths, seed).map(|outcome| Trial { target, min, outcome })
        })
        .collect::<Result<_>>()?;
    let minutes = forecast.point.len() as f64 * forecast.step_ms as f64 / 60_000.0;
    let outcomes: Vec<Outcome> = trials.iter().map(|t| t.outcome.clone()).collect();
    let best = recommend(&outcomes, minutes, budget);
    Ok(Some((trials, best)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Overlays on monthly values fall on the calendar's months. From the 1st of January
    /// 2021, slot 36 is 2024-01-01 00:00 and slot 38 is 2024-03-01 00:00. Growth from
    /// noon on the 1st of January 2024 leaves slot 36 (midnight, before it) and grows
    /// every later one; a zone lost on the 1st of March alone doubles slot 38 and no other.
    /// (Steps of the mean month put slot 36 at 16:49 that day, grown, and slot 38 on the
    /// 2nd of March at 14:25, past the loss.)
    #[test]
    fn overlays_apply_from_their_calendar_slot_on_monthly_values() {
        use crate::time::{DAY_MS, MONTH_MS, days_from_civil};
        let start = days_from_civil(2021, 1, 1) * DAY_MS;
        let mut v = vec![1.0; 40];
        Overlay::Growth { percent: 100.0, from: "2024-01-01T12:00:00Z".into() }.apply(&mut v, start, MONTH_MS, "o").unwrap();
        assert!(v[..37].iter().all(|x| *x == 1.0) && v[37..].iter().all(|x| *x == 2.0), "{v:?}");
        let mut v = vec![1.0; 40];
        Overlay::ZoneLoss { zones: 2, lost: 1, from: "2024-03-01".into(), to: Some("2024-03-02".into()) }
            .apply(&mut v, start, MONTH_MS, "o")
            .unwrap();
        assert_eq!(v.iter().enumerate().filter(|(_, x)| **x != 1.0).map(|(i, x)| (i, *x)).collect::<Vec<_>>(), vec![(38, 2.0)]);
    }
}
