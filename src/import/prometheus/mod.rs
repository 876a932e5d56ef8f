//! Import from Prometheus and everything that speaks its HTTP API (Thanos, Mimir,
//! VictoriaMetrics), and from saved `query_range` JSON files.
//!
//! [`wire`] parses the API's JSON with no I/O; [`client`] does HTTP with reqwest:
//! auth, TLS, timeouts, retries, and long ranges split into chunks under the server's
//! 11,000-points-per-series limit, fetched in parallel and stitched together.
//!
//! Secrets (passwords, tokens) are read from an environment variable or a file the user
//! names, held in a [`Secret`] that never prints, and never written into settings, plan
//! files, logs or error messages.

pub mod client;
pub mod wire;

pub use client::{Client, RangeQuery, auto_step};

use super::Import;
use crate::error::{Error, Location, Result};
use crate::series::{Series, Unit};
use crate::warning::Warning;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use wire::RawSeries;

/// A password or token. Its `Debug` prints `***`; it has no `Display` and no `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value (tests and callers that already hold one).
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Where a secret comes from. This, never the secret, is what settings keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretSource {
    /// An environment variable's name.
    Env(String),
    /// A file whose content (trimmed) is the secret.
    File(PathBuf),
}

impl SecretSource {
    /// Reads the secret.
    ///
    /// # Errors
    /// The variable is unset or the file unreadable; the message names the variable or
    /// file, never a value.
    pub fn read(&self) -> Result<Secret> {
        match self {
            SecretSource::Env(var) => std::env::var(var)
                .map(Secret)
                .map_err(|_| Error::setting("secret", format!("environment variable {var} is not set (or not UTF-8)"))),
            SecretSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
                let value = text.trim().to_string();
                if value.is_empty() {
                    return Err(Error::setting("secret", format!("{} is empty", path.display())));
                }
                Ok(Secret(value))
            }
        }
    }
}

/// How to authenticate, as settings keep it (no secret values).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AuthSettings {
    /// No authentication.
    #[default]
    None,
    /// HTTP basic auth with a user and a password from a source.
    Basic {
        /// The user name.
        user: String,
        /// Where the password is.
        password: SecretSource,
    },
    /// A bearer token from a source.
    Bearer {
        /// Where the token is.
        token: SecretSource,
    },
}

/// A connection as the user describes it and settings keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionSettings {
    /// Base URL, e.g. `http://prometheus:9090` (a path prefix such as Mimir's
    /// `/prometheus` is kept).
    pub url: String,
    /// Authentication.
    pub auth: AuthSettings,
    /// Extra headers, e.g. `X-Scope-OrgID: tenant-1` for Mimir.
    pub headers: Vec<(String, String)>,
    /// A PEM file of CA certificates to trust.
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate (unsafe; the window marks it so).
    pub insecure: bool,
    /// Seconds before a request gives up.
    pub timeout_secs: u64,
    /// Chunks fetched at once.
    pub parallel: usize,
    /// The largest answer read per request, in MiB (a long range comes in chunks).
    pub max_body_mib: u64,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        ConnectionSettings {
            url: "http://localhost:9090".into(),
            auth: AuthSettings::None,
            headers: Vec::new(),
            ca_file: None,
            insecure: false,
            timeout_secs: 30,
            parallel: 4,
            max_body_mib: 512,
        }
    }
}

/// Parses a header given as `Name: value`.
///
/// # Errors
/// No colon, or an empty name.
pub fn parse_header(text: &str) -> Result<(String, String)> {
    let (name, value) = text.split_once(':').ok_or_else(|| Error::setting("header", format!("\"{text}\" is not \"Name: value\"")))?;
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(Error::setting("header", format!("\"{name}\" is not a header name")));
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// Turns matrix series into Headroom series: one per label set, named by `__name__`
/// (or `fallback_name` for expressions without one), the other labels kept.
///
/// # Errors
/// A series with fewer than two samples.
pub fn to_import(raw: Vec<RawSeries>, fallback_name: &str, source: &str) -> Result<Import> {
    // Merge chunks: the same label set may come in several pieces.
    let mut merged: BTreeMap<BTreeMap<String, String>, Vec<(i64, f64)>> = BTreeMap::new();
    for s in raw {
        merged.entry(s.labels).or_default().extend(s.samples);
    }
    let mut import = Import::default();
    for (mut labels, mut samples) in merged {
        samples.sort_by_key(|s| s.0);
        let before = samples.len();
        let name = labels.remove("__name__").unwrap_or_else(|| fallback_name.to_string());
        let display = Series { name: name.clone(), labels: labels.clone(), unit: Unit::None, start_ms: 0, step_ms: 1, values: Vec::new() }
            .display_name();
        // The same sample twice (chunks meet at a seam) is dropped; two different values
        // at one time mean two series with the same labels (e.g. HA replicas without
        // deduplication): a conflict, never merged silently.
        if let Some(w) = samples.windows(2).find(|w| w[0].0 == w[1].0 && !same_value(w[0].1, w[1].1)) {
            return Err(Error::parse(
                Location::default(),
                format!(
                    "{source}: series {display} comes twice with different values (at {}: {} and {}): the query returns two series with the same labels (HA replicas without deduplication?); add a label that tells them apart or aggregate them",
                    crate::time::format_short(w[0].0),
                    w[0].1,
                    w[1].1
                ),
            ));
        }
        samples.dedup_by_key(|s| s.0);
        if samples.len() != before {
            import.warnings.push(Warning::new(&display, format!("{} duplicate samples at chunk seams dropped", before - samples.len())));
        }
        let unit = Unit::infer(&name);
        let (series, warnings) =
            Series::from_points(name, labels, unit, samples).map_err(|e| Error::parse(Location::default(), format!("{source}: {e}")))?;
        import.series.push(series);
        import.warnings.extend(warnings);
    }
    Ok(import)
}

/// Equal values (NaN equal to NaN).
fn same_value(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// Imports a saved `query_range` response (the JSON the API returns), so a review can be
/// redone without the server.
///
/// # Errors
/// Unreadable, not such a response, or an empty result.
pub fn read_json(path: &Path) -> Result<Import> {
    // Parsed as it is read: a large saved answer never sits in memory whole.
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let (raw, _) = wire::read_query_range(std::io::BufReader::with_capacity(64 << 10, file)).map_err(|e| match e {
        wire::StreamError::Io(e) => Error::io(path, e),
        wire::StreamError::Wire(e) => Error::parse(Location::file(path), e.to_string()),
    })?;
    if raw.is_empty() {
        return Err(Error::parse(Location::file(path), "the saved response holds no series"));
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "series".into());
    to_import(raw, &stem, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "***");
        let auth = AuthSettings::Basic { user: "u".into(), password: SecretSource::Env("PROM_PASSWORD".into()) };
        assert!(!serde_json::to_string(&auth).unwrap().contains("hunter2"));
    }

    #[test]
    fn headers_parse() {
        assert_eq!(parse_header("X-Scope-OrgID: t1").unwrap(), ("X-Scope-OrgID".into(), "t1".into()));
        assert!(parse_header("nonsense").is_err());
    }
}
