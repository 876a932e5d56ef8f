//! Forecasts to trust: calibration, no look-ahead, outliers, level shifts.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use headroom::forecast::backtest::{Fold, Plan, Variant, Windows};
use headroom::forecast::calibrate;
use headroom::forecast::metrics::coverage;
use headroom::forecast::models::{ModelKind, RawForecast, Spec};
use headroom::forecast::{ForecastSettings, ModelChoice, Periods, forecast};
use headroom::series::{Series, Unit};
use headroom::time::HOUR_MS;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::collections::BTreeMap;

fn noise(seed: u64, n: usize, sd: f64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dist = Normal::new(0.0, sd).unwrap();
    (0..n).map(|_| dist.sample(&mut rng)).collect()
}

/// Windows whose model claims sigma 1 while the truth has sigma 3.
fn overconfident_folds(seed: u64, folds: usize, len: usize) -> Vec<Fold> {
    (0..folds)
        .map(|f| {
            let actual = noise(seed + f as u64, len, 3.0).into_iter().map(|e| 100.0 + e).collect();
            Fold {
                origin: f * len,
                forecast: RawForecast { point: vec![100.0; len], sigma_lower: vec![1.0; len], sigma_upper: vec![1.0; len] },
                actual,
                scale: 1.0,
            }
        })
        .collect()
}

#[test]
fn calibration_widens_a_too_narrow_band_to_what_it_promises() {
    let folds = overconfident_folds(1, 3, 200);
    let cal = calibrate::calibrate(&folds, &[80.0, 95.0]).unwrap();
    // Judge on fresh windows from the same process.
    let fresh = overconfident_folds(100, 5, 200);
    for (level, raw_z) in [(80.0, 1.2816), (95.0, 1.96)] {
        let (mut raw_hits, mut cal_hits, mut n) = (0.0, 0.0, 0.0);
        for f in &fresh {
            let lo: Vec<f64> = f.forecast.point.iter().map(|p| p - raw_z).collect();
            let hi: Vec<f64> = f.forecast.point.iter().map(|p| p + raw_z).collect();
            raw_hits += coverage(&f.actual, &lo, &hi) * f.actual.len() as f64;
            let (clo, chi) = cal.band(&f.forecast, level, 1.0).unwrap();
            cal_hits += coverage(&f.actual, &clo, &chi) * f.actual.len() as f64;
            n += f.actual.len() as f64;
        }
        let (raw, calibrated) = (raw_hits / n, cal_hits / n);
        assert!(raw < level / 100.0 - 0.25, "the model's own {level} % band is far too narrow: {raw}");
        // Conformal bands cover at least what they promise. A band's reach never shrinks
        // with the horizon (each of the six horizon buckets takes at least the reach of the
        // ones before), so on errors that do not grow at all it takes the largest of six
        // noisy estimates and errs on the wide side: measured on M4 and real traffic, that
        // margin is what the future's extra roughness used.
        let promised = level / 100.0;
        assert!(calibrated >= promised - 0.02 && calibrated <= promised + 0.10, "calibrated {level} % band covers {calibrated}");
    }
}

#[test]
fn backtest_windows_never_see_past_their_origin() {
    let base: Vec<f64> =
        (0..600).map(|i| 50.0 + 10.0 * ((i % 24) as f64 / 24.0 * std::f64::consts::TAU).sin() + ((i * 7919) % 11) as f64 * 0.1).collect();
    let plan = Plan { folds: 3, fold_len: 48, first_origin: 600 - 144, stride: 48, selection: 3 };
    let spec = Spec { kind: ModelKind::Mstl, periods: vec![24], step_ms: 3_600_000, level_adjusted: false };
    let settings = ForecastSettings::default();
    let run = |values: &[f64]| Windows::new(values, values, plan, 3_600_000, &settings).run(&spec, 0..3, Variant::default()).unwrap();
    let a = run(&base);
    // Change everything after the first window's origin: its forecast (preparation
    // included: periods, outliers, level shifts) must not move.
    let mut changed = base.clone();
    for v in &mut changed[plan.first_origin..] {
        *v += 1000.0;
    }
    let b = run(&changed);
    assert_eq!(a[0].forecast, b[0].forecast, "window 1 only sees history before its origin");
    assert_ne!(a[1].forecast, b[1].forecast, "window 2 does see the changed first window");
}

fn hourly(values: Vec<f64>) -> Series {
    Series { name: "s".into(), labels: BTreeMap::new(), unit: Unit::Count, start_ms: 1_767_225_600_000, step_ms: HOUR_MS, values }
}

#[test]
fn incident_spikes_are_masked_and_reported() {
    let e = noise(7, 24 * 28, 1.0);
    let mut v: Vec<f64> = (0..24 * 28).map(|i| 40.0 + 8.0 * ((i % 24) as f64 / 24.0 * std::f64::consts::TAU).sin() + e[i]).collect();
    for x in &mut v[300..304] {
        *x += 60.0;
    }
    let s = hourly(v);
    let f = forecast(&s, &ForecastSettings { horizon: 48, ..ForecastSettings::default() }).unwrap();
    let expect: Vec<i64> = (300..304).map(|i| s.timestamp(i)).collect();
    assert_eq!(f.outliers, expect);
    assert!(f.warnings.iter().any(|w| w.message.starts_with("4 outliers masked")), "{:?}", f.warnings);
    // The spike does not leak into the forecast's level.
    assert!(f.point.iter().all(|p| *p < 60.0), "{:?}", &f.point[..5]);
}

#[test]
fn a_level_shift_moves_the_fit_to_the_new_regime() {
    let e = noise(11, 24 * 35, 1.0);
    let v: Vec<f64> = (0..24 * 35)
        .map(|i| if i < 24 * 24 { 20.0 } else { 60.0 } + 5.0 * ((i % 24) as f64 / 24.0 * std::f64::consts::TAU).sin() + e[i])
        .collect();
    let f = forecast(
        &hourly(v),
        &ForecastSettings {
            horizon: 24,
            model: ModelChoice::Single(ModelKind::Ets),
            periods: Periods::Given(vec![24]),
            ..ForecastSettings::default()
        },
    )
    .unwrap();
    let median = f.point[12];
    assert!((median - 60.0).abs() < 8.0, "the forecast follows the new level: {median}");
}

#[test]
fn every_forecast_carries_its_evidence() {
    let e = noise(3, 24 * 21, 2.0);
    let v: Vec<f64> = (0..24 * 21).map(|i| 30.0 + 6.0 * ((i % 24) as f64 / 24.0 * std::f64::consts::TAU).sin() + e[i]).collect();
    let f = forecast(&hourly(v), &ForecastSettings { horizon: 24, ..ForecastSettings::default() }).unwrap();
    let ev = f.evidence.expect("three weeks allow a backtest");
    // As many windows as the history allows after the training minimum of 49 points:
    // 1 + (504 - 49 - 24) / 24 = 18 (the default allows more).
    assert!(headroom::forecast::DEFAULT_FOLDS >= 18);
    assert_eq!(ev.plan.folds, 18);
    assert_eq!(ev.plan.fold_len, 24);
    assert_eq!(ev.plan.stride(), 24, "origins a season apart");
    let selection = headroom::forecast::choose::SELECTION_WINDOWS;
    assert_eq!(ev.plan.selection().len(), selection, "the latest windows choose the model");
    assert!(ev.calibrated);
    assert_eq!(ev.nested_windows, selection - 1, "every selection window after the first is forecast by what its past chose");
    assert!(ev.scores.len() >= 4, "every model is scored: {}", ev.scores.len());
    assert!(ev.scores.windows(2).all(|w| w[0].mase.is_finite()), "scores are finite");
    let cov = ev.calibrated_coverage.unwrap();
    assert_eq!(cov.iter().map(|c| c.level).collect::<Vec<_>>(), vec![80.0, 95.0]);
}
