//! Benchmarks on real traffic: forecasts and bands on held-out data (`bench nab`), and
//! whether breach probabilities come true as often as they say (`bench breach`).
//!
//! Both use the defaults a user gets ([`ForecastSettings::default`]) and print them.

use super::m4::{HORIZON as M4_HORIZON, read_m4};
use crate::capacity::{PriorInputs, runway, thresholds_from_values};
use crate::forecast::metrics::{coverage, mase, mase_scale, mean, msis};
use crate::forecast::{ForecastSettings, forecast};
use crate::import::csv::{CsvOptions, read_csv};
use crate::series::{Series, Unit};
use crate::time::HOUR_MS;
use anyhow::Context;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Held out on each 5-minute series: two days.
pub const NAB_HORIZON: usize = 576;
/// The seasonal naive baseline's lag on 5-minute data: one day.
pub const NAB_SEASON: usize = 288;

fn print_settings(s: &ForecastSettings) -> std::io::Result<()> {
    crate::outln!(
        "  settings: model {}, levels {:?}, periods {:?}, {} backtest windows (default {}), robust {}",
        s.model.name(),
        s.levels,
        s.periods,
        s.folds,
        crate::forecast::DEFAULT_FOLDS,
        s.robust
    );
    Ok(())
}

/// Reads every `*.csv` in `dir` as one series each, sorted by name.
fn read_dir_series(dir: &Path) -> anyhow::Result<Vec<Series>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let import = read_csv(&f, &CsvOptions::default())?;
        let stem = f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        for mut s in import.series {
            s.name.clone_from(&stem);
            out.push(s);
        }
    }
    Ok(out)
}

/// The first `n` steps of `s`.
fn head(s: &Series, n: usize) -> Series {
    Series { values: s.values[..n.min(s.values.len())].to_vec(), ..s.clone() }
}

/// `bench nab --data DIR`: the last two days of each series held out.
///
/// # Errors
/// The data cannot be read.
pub fn nab(dir: &Path, folds: usize) -> anyhow::Result<()> {
    let all = read_dir_series(dir)?;
    let settings = ForecastSettings { horizon: NAB_HORIZON, folds, ..ForecastSettings::default() };
    crate::outln!("bench nab: {} series from {}, last {NAB_HORIZON} steps (2 days) held out", all.len(), dir.display());
    print_settings(&settings)?;
    let started = Instant::now();
    let rows: Vec<anyhow::Result<(String, [f64; 7])>> = all
        .par_iter()
        .map(|s| {
            let n = s.len();
            anyhow::ensure!(
                n > NAB_HORIZON + 2 * NAB_SEASON,
                "{}: too short ({n} points; more than {} are needed to hold out {NAB_HORIZON} and keep two seasons)",
                s.name,
                NAB_HORIZON + 2 * NAB_SEASON
            );
            let train = head(s, n - NAB_HORIZON);
            let actual = &s.values[n - NAB_HORIZON..];
            let f = forecast(&train, &settings)?;
            let (hist, _) = train.interpolated();
            let scale = mase_scale(&hist, NAB_SEASON);
            let snaive: Vec<f64> = (0..NAB_HORIZON).map(|h| hist[hist.len() - NAB_SEASON + h % NAB_SEASON]).collect();
            let b95 = f.band(95.0).context("no 95 % band")?;
            let b80 = f.band(80.0).context("no 80 % band")?;
            let hist_max = hist.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let band_max = b95.upper.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            Ok((
                format!("{} ({})", s.name, f.model),
                [
                    mase(actual, &f.point, scale),
                    mase(actual, &snaive, scale),
                    coverage(actual, &b95.lower, &b95.upper),
                    coverage(actual, &b80.lower, &b80.upper),
                    msis(actual, &b95.lower, &b95.upper, scale, 0.05),
                    if hist_max > 0.0 { band_max / hist_max } else { f64::NAN },
                    f.evidence.as_ref().map_or(f64::NAN, |e| e.rescaled.iter().find(|r| r.level == 95.0).map_or(1.0, |r| r.value)),
                ],
            ))
        })
        .collect();
    let secs = started.elapsed().as_secs_f64();
    crate::outln!(
        "  {:<58} {:>7} {:>7} {:>7} {:>7} {:>7} {:>9} {:>7}",
        "series (model)",
        "MASE",
        "sNaive",
        "cov95",
        "cov80",
        "MSIS",
        "max/hist",
        "resc95"
    );
    let mut ok = Vec::new();
    let mut skipped = 0;
    for r in rows {
        // A series the bench cannot use is named and left out of the means, not the end
        // of the whole run.
        let (name, v) = match r {
            Ok(row) => row,
            Err(e) => {
                crate::outln!("  skipped: {e:#}");
                skipped += 1;
                continue;
            }
        };
        crate::outln!(
            "  {:<58} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>7.2} {:>9.2} {:>7.2}",
            truncate(&name, 58),
            v[0],
            v[1],
            v[2],
            v[3],
            v[4],
            v[5],
            v[6]
        );
        ok.push(v);
    }
    let col = |i: usize| mean(ok.iter().map(|v| v[i]));
    crate::outln!(
        "  {:<58} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>7.2} {:>9.2}",
        "mean",
        col(0),
        col(1),
        col(2),
        col(3),
        col(4),
        ok.iter().map(|v| v[5]).fold(f64::NEG_INFINITY, f64::max)
    );
    let under80 = ok.iter().filter(|v| v[2] < 0.8).count();
    let under60 = ok.iter().filter(|v| v[2] < 0.6).count();
    let worst = ok.iter().map(|v| v[2]).fold(f64::INFINITY, f64::min);
    crate::outln!(
        "  series under 80 % coverage (95 % band): {under80} of {}; under 60 %: {under60}; lowest {worst:.3}; largest band top / historical max {:.2}",
        ok.len(),
        ok.iter().map(|v| v[5]).fold(f64::NEG_INFINITY, f64::max)
    );
    if skipped > 0 {
        crate::outln!("  {skipped} series skipped (named above), not in the means");
    }
    crate::outln!("  time: {secs:.1} s on {} threads", rayon::current_num_threads());
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n - 1).collect::<String>()) }
}

/// One breach question: a probability said, an outcome seen, and the historical
/// frequency baseline.
#[derive(Debug, Clone)]
struct Case {
    set: &'static str,
    series: String,
    /// Steps from the origin to the series' end (h, 2h or 3h).
    back: usize,
    /// Which threshold: "p90", "p99", "max" or "1.15max".
    kind: &'static str,
    threshold: f64,
    said: f64,
    happened: bool,
    base_rate: f64,
    /// The weight the probability gave its prior ([`crate::forecast::paths::prior_weight`]).
    weight: f64,
    /// The highest value of training and of the point forecast, and the last training
    /// value: what the prior's chance was read from.
    history_max: f64,
    point_max: f64,
    last: f64,
}

/// Thresholds from the last 7 days of training: the 90th and 99th percentiles, the
/// maximum, and 1.15 × the maximum.
fn thresholds_of(last_week: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = last_week.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let Some(&max) = v.last() else { return Vec::new() };
    let q = |p: f64| v[((p * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)];
    vec![q(0.90), q(0.99), max, 1.15 * max]
}

/// Share of past windows of `len` steps (starting every `len / 4` steps) whose maximum
/// reached `threshold`.
fn historical_frequency(history: &[f64], len: usize, threshold: f64) -> f64 {
    let stride = (len / 4).max(1);
    let (mut hit, mut n) = (0usize, 0usize);
    let mut start = 0;
    while start + len <= history.len() {
        n += 1;
        hit += usize::from(history[start..start + len].iter().any(|v| *v >= threshold));
        start += stride;
    }
    if n == 0 { 0.5 } else { hit as f64 / n as f64 }
}

/// The breach cases of one series at origins `end - h`, `end - 2h`, … (`origins` of them).
fn cases_of(set: &'static str, series: &Series, horizon: usize, week: usize, origins: usize, settings: &ForecastSettings) -> Vec<Case> {
    const KINDS: [&str; 4] = ["p90", "p99", "max", "1.15max"];
    let n = series.len();
    let mut out = Vec::new();
    for k in 1..=origins {
        let Some(origin) = n.checked_sub(k * horizon) else { continue };
        if origin < week.max(4 * horizon) {
            continue;
        }
        let train = head(series, origin);
        let Ok(f) = forecast(&train, &ForecastSettings { horizon, ..settings.clone() }) else { continue };
        let actual = &series.values[origin..origin + horizon];
        let (hist, _) = train.interpolated();
        let values = thresholds_of(&hist[hist.len().saturating_sub(week)..]);
        // What the runway's prior was read from, once for every threshold.
        let prior = PriorInputs::of(&train, &f);
        let weight = f.dependence.evidence_weight();
        for (c, kind) in runway(&train, &f, &thresholds_from_values(&values), 95.0).into_iter().zip(KINDS) {
            out.push(Case {
                set,
                series: series.name.clone(),
                back: k * horizon,
                kind,
                threshold: c.threshold.value,
                said: c.probability,
                happened: actual.iter().any(|v| *v >= c.threshold.value),
                base_rate: historical_frequency(&hist, horizon, c.threshold.value),
                weight,
                history_max: prior.history_max,
                point_max: prior.point_max,
                last: prior.last.unwrap_or(f64::NAN),
            });
        }
    }
    out
}

/// Bins of the reliability table and of the expected calibration error.
const BINS: usize = 10;

/// The bin of a said probability.
fn bin_of(said: f64) -> usize {
    ((said * BINS as f64) as usize).min(BINS - 1)
}

/// The reliability table: per bin of [`BINS`], the cases, the sum of the probabilities
/// said and the cases that came true.
fn reliability(said: &[f64], happened: impl Iterator<Item = bool>) -> [(usize, f64, usize); BINS] {
    let mut bins = [(0usize, 0.0f64, 0usize); BINS];
    for (p, h) in said.iter().zip(happened) {
        let b = &mut bins[bin_of(*p)];
        *b = (b.0 + 1, b.1 + p, b.2 + usize::from(h));
    }
    bins
}

/// Expected calibration error of a reliability table: the case-weighted gap between the
/// mean probability said and the share that came true.
fn ece(bins: &[(usize, f64, usize)]) -> f64 {
    let n = bins.iter().map(|b| b.0).sum::<usize>().max(1) as f64;
    bins.iter().filter(|b| b.0 > 0).map(|b| (b.0 as f64 / n) * (b.1 / b.0 as f64 - b.2 as f64 / b.0 as f64).abs()).sum()
}

/// Draws of the calibration error a perfectly calibrated forecaster would show on these
/// cases: outcomes drawn true with exactly the probability said.
const CHANCE_DRAWS: usize = 2000;

/// The median and 90th percentile of the ECE that chance alone gives at `said`: with few
/// cases, even true probabilities show an ECE well above zero.
fn chance_ece(said: &[f64]) -> (f64, f64) {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0xECE);
    let mut draws: Vec<f64> = (0..CHANCE_DRAWS).map(|_| ece(&reliability(said, said.iter().map(|p| rng.random::<f64>() < *p)))).collect();
    draws.sort_by(f64::total_cmp);
    (draws[CHANCE_DRAWS / 2], draws[CHANCE_DRAWS * 9 / 10])
}

fn report(name: &str, cases: &[Case]) -> std::io::Result<()> {
    let n = cases.len().max(1) as f64;
    let said: Vec<f64> = cases.iter().map(|c| c.said).collect();
    let bins = reliability(&said, cases.iter().map(|c| c.happened));
    let ece = ece(&bins);
    let outcome = |c: &Case| if c.happened { 1.0 } else { 0.0 };
    let brier = cases.iter().map(|c| (c.said - outcome(c)).powi(2)).sum::<f64>() / n;
    let brier_ref = cases.iter().map(|c| (c.base_rate - outcome(c)).powi(2)).sum::<f64>() / n;
    crate::outln!("  {name}: {} cases", cases.len());
    crate::outln!("    {:<11} {:>6} {:>10} {:>10}", "said", "cases", "mean said", "came true");
    for (i, b) in bins.iter().enumerate() {
        if b.0 == 0 {
            continue;
        }
        crate::outln!(
            "    {:<11} {:>6} {:>10.3} {:>10.3}",
            format!("{:.1}–{:.1}", i as f64 / BINS as f64, (i + 1) as f64 / BINS as f64),
            b.0,
            b.1 / b.0 as f64,
            b.2 as f64 / b.0 as f64
        );
    }
    crate::outln!(
        "    ECE (10 bins) {ece:.4}; Brier {brier:.4}; historical-frequency Brier {brier_ref:.4}; Brier skill {:.3}",
        1.0 - brier / brier_ref
    );
    let (median, p90) = chance_ece(&said);
    crate::outln!(
        "    ECE of true probabilities on these cases, by chance alone: median {median:.4}, 90th percentile {p90:.4} ({CHANCE_DRAWS} draws)"
    );
    Ok(())
}

/// `bench breach --m4 DIR --nab DIR`: calibration of breach probabilities.
///
/// # Errors
/// The data cannot be read.
pub fn breach(m4: Option<&Path>, nab: Option<&Path>, limit: Option<usize>, origins: usize, cases_csv: Option<&Path>) -> anyhow::Result<()> {
    anyhow::ensure!(origins > 0, "--origins must be at least 1");
    let settings = ForecastSettings::default();
    crate::outln!(
        "bench breach: {origins} origins per series at end − h, 2h, …; thresholds P90, P99, max and 1.15 × max of the last 7 days of training; outcome: the next h values reach it"
    );
    print_settings(&settings)?;
    let started = Instant::now();
    let mut all = Vec::new();
    if let Some(dir) = m4 {
        let mut train = read_m4(&dir.join("Hourly-train.csv"))?;
        let test: BTreeMap<String, Vec<f64>> = read_m4(&dir.join("Hourly-test.csv"))?.into_iter().collect();
        if let Some(l) = limit {
            train.truncate(l);
        }
        let cases: Vec<Case> = train
            .par_iter()
            .flat_map_iter(|(id, values)| {
                let mut full = values.clone();
                full.extend(test.get(id).cloned().unwrap_or_default());
                let s = Series { name: id.clone(), labels: BTreeMap::new(), unit: Unit::None, start_ms: 0, step_ms: HOUR_MS, values: full };
                cases_of("m4", &s, M4_HORIZON, 7 * 24, origins, &settings)
            })
            .collect();
        report(&format!("M4 hourly (h = {M4_HORIZON})"), &cases)?;
        all.extend(cases);
    }
    if let Some(dir) = nab {
        let mut series = read_dir_series(dir)?;
        if let Some(l) = limit {
            series.truncate(l);
        }
        let cases: Vec<Case> = series.par_iter().flat_map_iter(|s| cases_of("nab", s, NAB_HORIZON, 7 * 288, origins, &settings)).collect();
        // Named for its directory: the set given may be other 5-minute series than nab-tweets.
        let name = dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned());
        report(&format!("{name} (h = {NAB_HORIZON})"), &cases)?;
        all.extend(cases);
    }
    if m4.is_some() && nab.is_some() {
        report("both", &all)?;
    }
    if let Some(path) = cases_csv {
        let mut text =
            String::from("set,series,back,kind,threshold,said,happened,historical_frequency,prior_weight,history_max,point_max,last\n");
        for c in &all {
            text.push_str(&format!(
                "{},{},{},{},{},{:.6},{},{:.4},{:.6},{},{},{}\n",
                c.set,
                crate::export::csv::text_cell(&c.series),
                c.back,
                c.kind,
                c.threshold,
                c.said,
                u8::from(c.happened),
                c.base_rate,
                c.weight,
                c.history_max,
                c.point_max,
                c.last
            ));
        }
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        crate::outln!("  cases written to {}", path.display());
    }
    crate::outln!("  time: {:.1} s on {} threads", started.elapsed().as_secs_f64(), rayon::current_num_threads());
    Ok(())
}
