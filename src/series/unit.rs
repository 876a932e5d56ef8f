//! What a series measures, inferred from its name and overridable by the user.

use serde::{Deserialize, Serialize};

/// The unit of a series' values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Percent, 0 to 100 (CPU utilisation, disk used %).
    Percent,
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

impl Unit {
    /// Guesses the unit from a series name such as `web_cpu_percent` or `disk_used_bytes`.
    pub fn infer(name: &str) -> Unit {
        let n = name.to_ascii_lowercase();
        let has = |w: &[&str]| w.iter().any(|x| n.contains(x));
        if has(&["percent", "pct", "%", "utilization", "utilisation", "ratio_pct"]) || (has(&["cpu"]) && !has(&["seconds", "cores"])) {
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

    /// The unit's short symbol for axes and tables.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Percent => "%",
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
            Unit::Bytes => format_bytes(v),
            Unit::PerSecond => format!("{}/s", format_si(v)),
            Unit::Count | Unit::None => format_si(v),
        }
    }
}

fn format_bytes(v: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut x = v;
    let mut i = 0;
    while x.abs() >= 1024.0 && i < UNITS.len() - 1 {
        x /= 1024.0;
        i += 1;
    }
    if i == 0 { format!("{x:.0} B") } else { format!("{x:.2} {}", UNITS[i]) }
}

/// Formats with an SI suffix: `950`, `12.3k`, `4.50M`.
pub fn format_si(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
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
}
