//! What a series measures, inferred from its name and overridable by the user.

use serde::{Deserialize, Serialize};

/// The unit of a series' values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Percent, 0 to 100 (CPU utilisation, disk used %).
    Percent,
    /// A utilisation ratio, 0 to 1 (the Prometheus convention, e.g.
    /// `1 - rate(node_cpu_seconds_total{mode="idle"}[5m])`): shown, and thresholds typed,
    /// in percent; values stay as the source has them.
    Ratio,
    /// Bytes (memory, disk).
    Bytes,
    /// Events per second (requests/s).
    PerSecond,
    /// A count (queue depth, replicas, connections).
    Count,
    /// Unknown or unitless.
    #[default]
    None,
}

/// Highest value a 0–1 ratio may overshoot to (5 % over its whole).
pub const RATIO_OVERSHOOT: f64 = 1.05;
/// Largest share of a ratio's values that may lie above 1.
const RATIO_OVERSHOOT_SHARE: f64 = 0.01;

impl Unit {
    /// Guesses the unit from a series name such as `web_cpu_percent` or `disk_used_bytes`.
    pub fn infer(name: &str) -> Unit {
        let n = name.to_ascii_lowercase();
        let has = |w: &[&str]| w.iter().any(|x| n.contains(x));
        if has(&["percent", "pct", "%", "utilization", "utilisation", "ratio", "saturation"])
            || (has(&["cpu"]) && !has(&["seconds", "cores"]))
        {
            Unit::Percent
        } else if has(&["bytes", "memory", "mem_", "_mem", "rss", "disk_used", "heap"]) {
            Unit::Bytes
        } else if has(&["per_second", "_rate", "rps", "qps", "requests", "req_s", "/s"]) {
            Unit::PerSecond
        } else if has(&["depth", "count", "total", "queue", "replicas", "connections", "pods"]) {
            Unit::Count
        } else {
            Unit::None
        }
    }

    /// True when values may make this unit, inferred from `name`, a 0–1 ratio: a percent
    /// by its name (a utilisation) whose name does not say percent.
    pub fn may_be_ratio(self, name: &str) -> bool {
        let n = name.to_ascii_lowercase();
        self == Unit::Percent && !["percent", "pct", "%"].iter().any(|w| n.contains(w))
    }

    /// Refines a unit inferred from a name with the values seen: a "percent" series
    /// whose values lie within 0–1 and whose name does not say percent is a ratio
    /// (`node_cpu_utilization` at 0.32 is 32 %, not 0.32 %). A few values a little above
    /// 1 ([`RATIO_OVERSHOOT`]) do not make it a percent: a container's usage over its limit
    /// or a rate's extrapolation overshoots now and then, and read as percent a saturated
    /// node would show as 1 % busy.
    pub fn refine(self, name: &str, values: &[f64]) -> Unit {
        let mut finite = values.iter().filter(|v| v.is_finite()).peekable();
        if !self.may_be_ratio(name) || finite.peek().is_none() {
            return self;
        }
        let (mut n, mut over) = (0usize, 0usize);
        for v in finite {
            if !(0.0..=RATIO_OVERSHOOT).contains(v) {
                return self;
            }
            n += 1;
            over += usize::from(*v > 1.0);
        }
        if over as f64 <= RATIO_OVERSHOOT_SHARE * n as f64 { Unit::Ratio } else { self }
    }

    /// Shown in percent (a percent or a 0–1 ratio).
    pub fn is_percent_like(self) -> bool {
        matches!(self, Unit::Percent | Unit::Ratio)
    }

    /// How many of this unit one percent is: 0.01 for a ratio, 1 otherwise.
    pub fn per_percent(self) -> f64 {
        if self == Unit::Ratio { 0.01 } else { 1.0 }
    }

    /// A value typed in percent, in this unit: `80` is 0.8 of a ratio (exactly: divided,
    /// not multiplied by 0.01), and 80 of anything else.
    pub fn from_percent(self, v: f64) -> f64 {
        if self == Unit::Ratio { v / 100.0 } else { v }
    }

    /// The unit's short symbol for axes and tables.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Percent | Unit::Ratio => "%",
            Unit::Bytes => "B",
            Unit::PerSecond => "/s",
            Unit::Count => "",
            Unit::None => "",
        }
    }

    /// Values of this unit can never be negative.
    pub fn is_non_negative(self) -> bool {
        !matches!(self, Unit::None)
    }

    /// Formats a value with the unit, compactly: `81.2 %`, `3.4 GiB`, `1.2k/s`.
    pub fn format(self, v: f64) -> String {
        if v.is_nan() {
            return "missing".into();
        }
        match self {
            Unit::Percent => format!("{v:.1} %"),
            Unit::Ratio => format!("{:.1} %", 100.0 * v),
            Unit::Bytes => format_bytes(v),
            Unit::PerSecond => format!("{}/s", format_si(v)),
            Unit::Count | Unit::None => format_si(v),
        }
    }
}

fn format_bytes(v: f64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if v.abs() >= 1024f64.powi(7) {
        return format!("{v:.2e} B");
    }
    let mut x = v;
    let mut i = 0;
    while x.abs() >= 1024.0 && i < UNITS.len() - 1 {
        x /= 1024.0;
        i += 1;
    }
    if i == 0 { format!("{x:.0} B") } else { format!("{x:.2} {}", UNITS[i]) }
}

/// A number as typed: `80`, `92.5` (no trailing `.0`).
pub fn plain_number(v: f64) -> String {
    // Fifteen significant digits: a float's noise is not a figure (99.99 % of a ratio is
    // 0.9998999999999999 in floating point, written 0.9999).
    let v = if v.is_finite() && v != 0.0 {
        let scale = 10f64.powi(14 - v.abs().log10().floor() as i32);
        if scale.is_finite() && (v * scale).is_finite() { (v * scale).round() / scale } else { v }
    } else {
        v
    };
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v}") }
}

/// Formats with an SI suffix: `950`, `12.3k`, `4.50M`; beyond tera and below a
/// hundredth in exponent form (`8.97e306`, `3.20e-7`), so no label runs to hundreds of
/// digits or rounds a small latency to `0.00`.
pub fn format_si(v: f64) -> String {
    let a = v.abs();
    if a >= 1e15 || (a > 0.0 && a < 0.01) {
        format!("{v:.2e}")
    } else if a >= 1e12 {
        format!("{:.2}T", v / 1e12)
    } else if a >= 1e9 {
        format!("{:.2}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_common_names() {
        assert_eq!(Unit::infer("web_cpu_percent"), Unit::Percent);
        assert_eq!(Unit::infer("api_memory_bytes"), Unit::Bytes);
        assert_eq!(Unit::infer("api_requests_per_second"), Unit::PerSecond);
        assert_eq!(Unit::infer("queue_depth"), Unit::Count);
        assert_eq!(Unit::Bytes.format(3.0 * 1024.0 * 1024.0 * 1024.0), "3.00 GiB");
    }

    #[test]
    fn extreme_magnitudes_stay_short() {
        assert_eq!(format_si(8.97e306), "8.97e306");
        assert_eq!(format_si(-2.5e13), "-25.00T");
        assert_eq!(format_si(3.2e-7), "3.20e-7");
        assert_eq!(format_si(0.0), "0");
        assert_eq!(format_si(0.25), "0.25");
        assert_eq!(Unit::Bytes.format(2.0 * 1024f64.powi(6)), "2.00 EiB");
        assert_eq!(Unit::Bytes.format(1e300), "1.00e300 B");
    }

    #[test]
    fn ratios_in_zero_to_one_are_told_from_percent() {
        let u = Unit::infer("node_cpu_utilization");
        assert_eq!(u.refine("node_cpu_utilization", &[0.32, 0.5, f64::NAN]), Unit::Ratio);
        assert_eq!(Unit::Ratio.format(0.32), "32.0 %");
        // A real percent series stays one, even when low, if its name says percent.
        assert_eq!(Unit::infer("error_percent").refine("error_percent", &[0.2, 0.4]), Unit::Percent);
        assert_eq!(u.refine("node_cpu_utilization", &[12.0, 40.0]), Unit::Percent);
        // One sample of 1.02 among two hundred near saturation is an overshoot, not a
        // percent series at 1 %; many, or one at 1.2, are not a ratio's.
        let mut busy: Vec<f64> = (0..200).map(|i| 0.6 + 0.3 * ((i % 20) as f64 / 20.0)).collect();
        busy[100] = 1.02;
        assert_eq!(u.refine("node_cpu_utilization", &busy), Unit::Ratio);
        busy[50..55].fill(1.02);
        assert_eq!(u.refine("node_cpu_utilization", &busy), Unit::Percent, "six of two hundred above 1");
        busy[50..55].fill(0.7);
        busy[100] = 1.2;
        assert_eq!(u.refine("node_cpu_utilization", &busy), Unit::Percent, "1.2 is past any overshoot");
    }
}
