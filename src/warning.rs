//! Partial problems that do not stop the work: a gap filled, a duplicate dropped.
//!
//! They are collected, carried along with the result and shown to the user, never
//! silently swallowed.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One partial problem, attached to the series it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The series concerned, or empty for the whole input.
    pub series: String,
    /// What happened, with the times concerned.
    pub message: String,
}

impl Warning {
    /// A warning about `series`.
    pub fn new(series: impl Into<String>, message: impl Into<String>) -> Self {
        Warning { series: series.into(), message: message.into() }
    }
}

/// `one` for a count of one, else `many`: "1 window", "3 windows".
pub fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.series.is_empty() { write!(f, "{}", self.message) } else { write!(f, "{}: {}", self.series, self.message) }
    }
}
