//! The Prometheus HTTP API's JSON, parsed with no I/O (so it is tested without a
//! server): `query_range` matrices, label and series listings, and error bodies.

use serde::Deserialize;
use std::collections::BTreeMap;

/// One series of a matrix result: its labels and `(utc_ms, value)` samples.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSeries {
    /// All labels, `__name__` included when present.
    pub labels: BTreeMap<String, String>,
    /// Samples in the order the server sent them.
    pub samples: Vec<(i64, f64)>,
}

/// What is wrong with a body.
#[derive(Debug, Clone, PartialEq)]
pub enum WireError {
    /// An HTML page came back where JSON was expected (usually a wrong URL or a proxy).
    Html,
    /// The body ended in the middle of the JSON.
    Truncated {
        /// Bytes received.
        bytes: usize,
    },
    /// Not JSON, or not the API's shape.
    Malformed(String),
    /// The API said `"status": "error"`.
    Api {
        /// Prometheus' `errorType` (`bad_data`, `execution`, `timeout`, …).
        kind: String,
        /// Prometheus' own message.
        message: String,
    },
    /// A result of another type than asked for (e.g. a vector from `query`).
    ResultType(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Html => write!(
                f,
                "the server answered with an HTML page, not the Prometheus API: is the URL the API's base (e.g. http://host:9090)?"
            ),
            WireError::Truncated { bytes } => write!(f, "the response was cut off after {bytes} bytes"),
            WireError::Malformed(m) => write!(f, "the response is not Prometheus API JSON: {m}"),
            WireError::Api { kind, message } => write!(f, "{kind}: {message}"),
            WireError::ResultType(t) => write!(f, "expected a range (matrix) result, got \"{t}\""),
        }
    }
}

#[derive(Deserialize)]
struct Envelope<T> {
    status: String,
    data: Option<T>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
struct MatrixData {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<MatrixSeries>,
}

#[derive(Deserialize)]
struct MatrixSeries {
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

fn envelope<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<(T, Vec<String>), WireError> {
    let trimmed = body.iter().position(|b| !b.is_ascii_whitespace()).map_or(&body[..0], |i| &body[i..]);
    if trimmed.first() == Some(&b'<') {
        return Err(WireError::Html);
    }
    let env: Envelope<T> = serde_json::from_slice(body)
        .map_err(|e| if e.is_eof() { WireError::Truncated { bytes: body.len() } } else { WireError::Malformed(e.to_string()) })?;
    if env.status != "success" {
        return Err(WireError::Api {
            kind: env.error_type.unwrap_or_else(|| "error".into()),
            message: env.error.unwrap_or_else(|| "no message".into()),
        });
    }
    let data = env.data.ok_or_else(|| WireError::Malformed("no \"data\"".into()))?;
    Ok((data, env.warnings))
}

/// Parses an error body, if it is one (for non-2xx responses).
pub fn api_error(body: &[u8]) -> Option<(String, String)> {
    let env: Envelope<serde_json::Value> = serde_json::from_slice(body).ok()?;
    (env.status == "error").then(|| (env.error_type.unwrap_or_else(|| "error".into()), env.error.unwrap_or_default()))
}

/// Parses a `query_range` response. Returns the series and the API's warnings.
///
/// # Errors
/// HTML, a truncated body, an API error, another result type, or a bad sample value.
pub fn parse_query_range(body: &[u8]) -> Result<(Vec<RawSeries>, Vec<String>), WireError> {
    let (data, warnings): (MatrixData, _) = envelope(body)?;
    if data.result_type != "matrix" {
        return Err(WireError::ResultType(data.result_type));
    }
    let series = data
        .result
        .into_iter()
        .map(|s| {
            let samples = s
                .values
                .into_iter()
                .map(|(t, v)| {
                    let value = parse_value(&v).ok_or_else(|| WireError::Malformed(format!("sample value \"{v}\" is not a number")))?;
                    Ok(((t * 1000.0).round() as i64, value))
                })
                .collect::<Result<Vec<_>, WireError>>()?;
            Ok(RawSeries { labels: s.metric, samples })
        })
        .collect::<Result<Vec<_>, WireError>>()?;
    Ok((series, warnings))
}

/// Prometheus writes values as strings: numbers, `NaN`, `+Inf`, `-Inf`.
fn parse_value(v: &str) -> Option<f64> {
    match v {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => v.parse().ok(),
    }
}

/// Parses a list of strings (`/api/v1/labels`, `/api/v1/label/<name>/values`).
///
/// # Errors
/// As [`parse_query_range`].
pub fn parse_strings(body: &[u8]) -> Result<Vec<String>, WireError> {
    envelope::<Vec<String>>(body).map(|(d, _)| d)
}

/// Parses `/api/v1/series`: one label set per series.
///
/// # Errors
/// As [`parse_query_range`].
pub fn parse_series(body: &[u8]) -> Result<Vec<BTreeMap<String, String>>, WireError> {
    envelope::<Vec<BTreeMap<String, String>>>(body).map(|(d, _)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_matrix() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"up","job":"node"},"values":[[1700000000,"1"],[1700000015.5,"NaN"]]}]}}"#;
        let (s, w) = parse_query_range(body).unwrap();
        assert!(w.is_empty());
        assert_eq!(s[0].labels["job"], "node");
        assert_eq!(s[0].samples[0], (1_700_000_000_000, 1.0));
        assert_eq!(s[0].samples[1].0, 1_700_000_015_500);
        assert!(s[0].samples[1].1.is_nan());
    }

    #[test]
    fn tells_errors_apart() {
        assert_eq!(parse_query_range(b"<html><body>Grafana</body></html>"), Err(WireError::Html));
        assert_eq!(parse_query_range(br#"{"status":"success","data":{"resultType":"mat"#), Err(WireError::Truncated { bytes: 45 }));
        let e = parse_query_range(br#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#).unwrap_err();
        assert_eq!(e.to_string(), "bad_data: parse error at char 5");
        let e = parse_query_range(br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#).unwrap_err();
        assert_eq!(e, WireError::ResultType("vector".into()));
    }
}
