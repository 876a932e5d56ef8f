//! Forecast accuracy measures, as the M4 competition defined them.
//!
//! All take the actual values and the forecast of one series over the horizon; `NaN`
//! actuals (gaps) are skipped.

/// Symmetric MAPE in percent: mean of `200 |y - f| / (|y| + |f|)`.
pub fn smape(actual: &[f64], forecast: &[f64]) -> f64 {
    mean(actual.iter().zip(forecast).filter(|(y, _)| !y.is_nan()).map(|(y, f)| {
        let d = y.abs() + f.abs();
        if d == 0.0 { 0.0 } else { 200.0 * (y - f).abs() / d }
    }))
}

/// The MASE scale: the in-sample mean absolute error of the seasonal naive forecast
/// at lag `m` (lag 1 when the history is shorter than `m + 1`).
pub fn mase_scale(history: &[f64], m: usize) -> f64 {
    let m = if history.len() > m && m > 0 { m } else { 1 };
    mean((m..history.len()).filter_map(|i| {
        let d = history[i] - history[i - m];
        (!d.is_nan()).then_some(d.abs())
    }))
}

/// Mean absolute scaled error, given the scale from [`mase_scale`].
pub fn mase(actual: &[f64], forecast: &[f64], scale: f64) -> f64 {
    let mae = mean(actual.iter().zip(forecast).filter(|(y, _)| !y.is_nan()).map(|(y, f)| (y - f).abs()));
    if scale > 0.0 { mae / scale } else { f64::NAN }
}

/// Share of actuals inside `[lower, upper]`.
pub fn coverage(actual: &[f64], lower: &[f64], upper: &[f64]) -> f64 {
    mean(
        actual
            .iter()
            .zip(lower)
            .zip(upper)
            .filter(|((y, _), _)| !y.is_nan())
            .map(|((y, l), u)| if *y >= *l && *y <= *u { 1.0 } else { 0.0 }),
    )
}

/// Mean scaled interval score at significance `alpha` (0.05 for a 95 % interval).
pub fn msis(actual: &[f64], lower: &[f64], upper: &[f64], scale: f64, alpha: f64) -> f64 {
    let score = mean(actual.iter().zip(lower).zip(upper).filter(|((y, _), _)| !y.is_nan()).map(|((y, l), u)| {
        let mut s = u - l;
        if y < l {
            s += 2.0 / alpha * (l - y);
        }
        if y > u {
            s += 2.0 / alpha * (y - u);
        }
        s
    }));
    if scale > 0.0 { score / scale } else { f64::NAN }
}

/// The mean of an iterator (`NaN` when empty).
pub fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_values() {
        let y = [100.0, 110.0, 90.0];
        let f = [110.0, 110.0, 100.0];
        // sMAPE: 200*10/210, 0, 200*10/190 → mean
        let expect = (200.0 * 10.0 / 210.0 + 0.0 + 200.0 * 10.0 / 190.0) / 3.0;
        assert!((smape(&y, &f) - expect).abs() < 1e-12);
        // Scale with m = 2 over [1, 2, 4, 3]: |4-1|, |3-2| → 2
        assert_eq!(mase_scale(&[1.0, 2.0, 4.0, 3.0], 2), 2.0);
        // MAE 20/3 over scale 2
        assert!((mase(&y, &f, 2.0) - 10.0 / 3.0).abs() < 1e-12);
        assert!((coverage(&y, &[95.0, 100.0, 95.0], &[105.0, 120.0, 99.0]) - 2.0 / 3.0).abs() < 1e-12);
        // MSIS at alpha 0.05: widths 10, 20, 4; penalty on the last: 40 * (95 - 90) = 200.
        let m = msis(&y, &[95.0, 100.0, 95.0], &[105.0, 120.0, 99.0], 2.0, 0.05);
        assert!((m - (10.0 + 20.0 + 204.0) / 3.0 / 2.0).abs() < 1e-9, "{m}");
    }
}
