//! `headroom bench m4 --data DIR`: the M4 competition's hourly set (414 series, h = 48),
//! scored exactly as the competition defined it.
//!
//! Measures: sMAPE, MASE (m = 24), OWA against Naive2, 95 % coverage, ACD and MSIS
//! (α = 0.05). Naive2 is the seasonally adjusted naive forecast: a classical
//! multiplicative decomposition when the 90 % autocorrelation test at lag 24 says the
//! series is seasonal. Its published hourly figures (sMAPE 18.383, MASE 2.395) check the
//! scorer. The test file is read only by the scorer, after every forecast is made.

use crate::forecast::metrics::{coverage, mase, mase_scale, mean, msis, smape};
use crate::forecast::seasonality::autocorrelation;
use crate::forecast::{ForecastSettings, forecast};
use crate::series::{Series, Unit};
use crate::time::HOUR_MS;
use anyhow::{Context, bail};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// M4 hourly: forecast horizon.
pub const HORIZON: usize = 48;
/// M4 hourly: seasonal period for MASE, MSIS and Naive2.
pub const SEASON: usize = 24;

/// Reads an M4 CSV: a header, then `"id","v1","v2",…` with empty trailing cells.
///
/// # Errors
/// The file is missing or a cell is not a number (with line and column).
pub fn read_m4(path: &Path) -> anyhow::Result<Vec<(String, Vec<f64>)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let mut cells = line.split(',').map(|c| c.trim().trim_matches('"'));
        let Some(id) = cells.next() else { continue };
        let mut values = Vec::new();
        for (j, c) in cells.enumerate() {
            if c.is_empty() {
                continue;
            }
            let v: f64 = c.parse().with_context(|| format!("{}:{}:{}: \"{c}\" is not a number", path.display(), i + 1, j + 2))?;
            values.push(v);
        }
        out.push((id.to_string(), values));
    }
    Ok(out)
}

/// Naive2: seasonally adjusted naive forecast.
pub fn naive2(history: &[f64], horizon: usize, m: usize) -> Vec<f64> {
    let n = history.len();
    let Some(&last) = history.last() else { return vec![f64::NAN; horizon] };
    if !seasonality_test(history, m) {
        return vec![last; horizon];
    }
    let si = seasonal_indices(history, m);
    let deseasonalised_last = last / si[(n - 1) % m];
    (0..horizon).map(|h| deseasonalised_last * si[(n + h) % m]).collect()
}

/// The M4 seasonality test: |r_m| > 1.645 · sqrt((1 + 2 Σ_{i<m} r_i²) / n).
pub fn seasonality_test(history: &[f64], m: usize) -> bool {
    let n = history.len();
    if n < 3 * m {
        return false;
    }
    let r: Vec<f64> = (1..=m).map(|k| autocorrelation(history, k)).collect();
    let sum_sq: f64 = r[..m - 1].iter().map(|x| x * x).sum();
    let limit = 1.645 / (n as f64).sqrt() * (1.0 + 2.0 * sum_sq).sqrt();
    r[m - 1].abs() > limit
}

/// Classical multiplicative decomposition's seasonal indices (R's `decompose`): ratios
/// to a centred moving average, averaged per phase, normalised to mean one.
pub fn seasonal_indices(x: &[f64], m: usize) -> Vec<f64> {
    let n = x.len();
    let mut sums = vec![0.0; m];
    let mut counts = vec![0usize; m];
    let half = m / 2;
    for t in half..n.saturating_sub(half) {
        let trend = if m.is_multiple_of(2) {
            (0.5 * x[t - half] + x[t + 1 - half..t + half].iter().sum::<f64>() + 0.5 * x[t + half]) / m as f64
        } else {
            x[t - half..=t + half].iter().sum::<f64>() / m as f64
        };
        if trend != 0.0 {
            sums[t % m] += x[t] / trend;
            counts[t % m] += 1;
        }
    }
    let raw: Vec<f64> = sums.iter().zip(&counts).map(|(s, c)| if *c > 0 { s / *c as f64 } else { 1.0 }).collect();
    let avg = raw.iter().sum::<f64>() / m as f64;
    raw.iter().map(|v| v / avg).collect()
}

/// One method's figures over the whole set.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Mean sMAPE (percent).
    pub smape: f64,
    /// Mean MASE.
    pub mase: f64,
    /// Share of test points inside the 95 % interval.
    pub coverage95: f64,
    /// Share inside the 80 % interval.
    pub coverage80: f64,
    /// Mean scaled interval score.
    pub msis: f64,
}

/// Runs the benchmark and prints the table.
///
/// # Errors
/// The data cannot be read or the series do not match.
pub fn run(dir: &Path, limit: Option<usize>, folds: usize) -> anyhow::Result<()> {
    let mut train = read_m4(&dir.join("Hourly-train.csv"))?;
    if let Some(l) = limit {
        train.truncate(l);
    }
    let settings = ForecastSettings { horizon: HORIZON, folds, ..ForecastSettings::default() };
    // Forecast everything from the training part alone.
    let started = Instant::now();
    let results: Vec<(String, Vec<f64>, anyhow::Result<crate::forecast::Forecast>, f64)> = train
        .par_iter()
        .map(|(id, values)| {
            let t = Instant::now();
            let series = Series {
                name: id.clone(),
                labels: BTreeMap::new(),
                unit: Unit::None,
                start_ms: 0,
                step_ms: HOUR_MS,
                values: values.clone(),
            };
            let f = forecast(&series, &settings).map_err(anyhow::Error::from);
            (id.clone(), values.clone(), f, t.elapsed().as_secs_f64())
        })
        .collect();
    let total_secs = started.elapsed().as_secs_f64();

    // Only now is the test part read, by the scorer.
    let test: BTreeMap<String, Vec<f64>> = read_m4(&dir.join("Hourly-test.csv"))?.into_iter().collect();
    let mut naive = Vec::new();
    let mut ours = Vec::new();
    let mut models: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_series_secs = Vec::new();
    for (id, history, result, secs) in &results {
        let Some(actual) = test.get(id) else { bail!("series {id} is not in Hourly-test.csv") };
        if actual.len() != HORIZON {
            bail!("series {id} has {} test values, expected {HORIZON}", actual.len());
        }
        let f = result.as_ref().map_err(|e| anyhow::anyhow!("series {id}: {e}"))?;
        let scale = mase_scale(history, SEASON);
        let n2 = naive2(history, HORIZON, SEASON);
        naive.push((smape(actual, &n2), mase(actual, &n2, scale)));
        let b95 = f.band(95.0).context("no 95 % band")?;
        let b80 = f.band(80.0).context("no 80 % band")?;
        ours.push(Totals {
            smape: smape(actual, &f.point),
            mase: mase(actual, &f.point, scale),
            coverage95: coverage(actual, &b95.lower, &b95.upper),
            coverage80: coverage(actual, &b80.lower, &b80.upper),
            msis: msis(actual, &b95.lower, &b95.upper, scale, 0.05),
        });
        let family = strip_parens(&f.model).replace(", log scale", "");
        if std::env::var_os("HEADROOM_M4_DEBUG").is_some() {
            let m = msis(actual, &b95.lower, &b95.upper, scale, 0.05);
            eprintln!("{id}\t{:.3}\t{:.3}\t{m:.1}\t{}", mase(actual, &f.point, scale), coverage(actual, &b95.lower, &b95.upper), f.model);
        }
        *models.entry(family).or_default() += 1;
        per_series_secs.push(*secs);
    }
    let n2_smape = mean(naive.iter().map(|x| x.0));
    let n2_mase = mean(naive.iter().map(|x| x.1));
    let t = Totals {
        smape: mean(ours.iter().map(|x| x.smape)),
        mase: mean(ours.iter().map(|x| x.mase)),
        coverage95: mean(ours.iter().map(|x| x.coverage95)),
        coverage80: mean(ours.iter().map(|x| x.coverage80)),
        msis: mean(ours.iter().map(|x| x.msis)),
    };
    let owa = 0.5 * (t.smape / n2_smape + t.mase / n2_mase);
    per_series_secs.sort_by(f64::total_cmp);
    crate::outln!("bench m4: {} hourly series, horizon {HORIZON}, MASE/MSIS seasonality {SEASON}, {folds} backtest windows", results.len());
    crate::outln!("  {:<10} {:>8} {:>8} {:>7} {:>9} {:>7} {:>8}", "method", "sMAPE", "MASE", "OWA", "cov95", "ACD", "MSIS");
    crate::outln!("  {:<10} {:>8.3} {:>8.3} {:>7.3} {:>9} {:>7} {:>8}", "Naive2", n2_smape, n2_mase, 1.0, "-", "-", "-");
    crate::outln!(
        "  {:<10} {:>8.3} {:>8.3} {:>7.3} {:>9.4} {:>7.4} {:>8.3}",
        "Headroom",
        t.smape,
        t.mase,
        owa,
        t.coverage95,
        (t.coverage95 - 0.95).abs(),
        t.msis
    );
    crate::outln!("  80 % band coverage: {:.4}", t.coverage80);
    let under80 = ours.iter().filter(|x| x.coverage95 < 0.8).count();
    crate::outln!(
        "  series whose 95 % band covered under 80 %: {under80} of {} ({:.1} %)",
        ours.len(),
        100.0 * under80 as f64 / ours.len().max(1) as f64
    );
    crate::outln!(
        "  settings: model {}, levels {:?}, periods {:?}, {} backtest windows (default {}), robust {}",
        settings.model.name(),
        settings.levels,
        settings.periods,
        settings.folds,
        crate::forecast::DEFAULT_FOLDS,
        settings.robust
    );
    crate::outln!(
        "  time: {total_secs:.1} s for all series on {} threads (backtests included); per series median {:.3} s, max {:.3} s",
        rayon::current_num_threads(),
        per_series_secs.get(per_series_secs.len() / 2).copied().unwrap_or(0.0),
        per_series_secs.last().copied().unwrap_or(0.0)
    );
    let chosen: Vec<String> = models.iter().map(|(m, c)| format!("{m}: {c}")).collect();
    crate::outln!("  models chosen: {}", chosen.join("; "));
    Ok(())
}

/// `MSTL(24, 168) + AutoETS` → `MSTL + AutoETS`, for counting model families.
fn strip_parens(s: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.replace("  ", " ").replace(" ,", ",").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seasonal_indices_recover_a_multiplicative_pattern() {
        let pattern = [0.5, 1.0, 1.5, 1.0];
        let x: Vec<f64> = (0..40).map(|i| 100.0 * pattern[i % 4]).collect();
        let si = seasonal_indices(&x, 4);
        for (a, b) in si.iter().zip(pattern) {
            assert!((a - b).abs() < 1e-9, "{si:?}");
        }
        assert!(seasonality_test(&x, 4));
        let f = naive2(&x, 4, 4);
        assert!((f[0] - 50.0).abs() < 1e-9 && (f[2] - 150.0).abs() < 1e-9, "{f:?}");
    }

    #[test]
    fn flat_noise_is_not_seasonal() {
        let x: Vec<f64> = (0..200).map(|i| 10.0 + ((i * 7919) % 13) as f64).collect();
        assert!(!seasonality_test(&x, 24));
        assert_eq!(naive2(&x, 3, 24), vec![x[199]; 3]);
    }
}
