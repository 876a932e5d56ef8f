//! Getting metric history in: CSV files (polars stops here) and, later, Prometheus.
//!
//! Every importer returns an [`Import`]: the series it found plus the warnings about
//! what it repaired. An importer never touches what the caller already holds, so a
//! failed import leaves everything loaded before untouched.

pub mod csv;
pub mod prometheus;

use crate::series::Series;
use crate::warning::Warning;

/// What an import produced.
#[derive(Debug, Clone, Default)]
pub struct Import {
    /// The series found, in the order they first appear in the input.
    pub series: Vec<Series>,
    /// Partial problems that were repaired (gaps, duplicates, sorting).
    pub warnings: Vec<Warning>,
}
