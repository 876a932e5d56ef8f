//! Normal-distribution helpers (distrs, already used by augurs' ETS).

use distrs::Normal;

/// The standard normal quantile (inverse CDF) at probability `p` in (0, 1).
pub fn normal_quantile(p: f64) -> f64 {
    Normal::ppf(p, 0.0, 1.0)
}

/// The standard normal CDF.
pub fn normal_cdf(x: f64) -> f64 {
    Normal::cdf(x, 0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_quantiles() {
        assert!((normal_quantile(0.975) - 1.959_963_985).abs() < 1e-6);
        assert!((normal_quantile(0.9) - 1.281_551_566).abs() < 1e-6);
        assert!((normal_cdf(1.959_963_985) - 0.975).abs() < 1e-6);
    }
}
