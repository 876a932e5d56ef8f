//! The Prometheus HTTP API's JSON, parsed with no network I/O (so it is tested without a
//! server): `query_range` matrices, label and series listings, and error bodies.
//!
//! A matrix is read straight into `(utc_ms, value)` pairs, from a slice or a stream:
//! no string per sample is ever kept, so a large answer read from the network costs
//! about 16 bytes a sample and never the whole body at once.

use serde::Deserialize;
use serde::de::{Deserializer, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::io::BufRead;

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
    values: Samples,
}

/// A series' `values`, parsed sample by sample into `(utc_ms, value)`.
#[derive(Default)]
struct Samples(Vec<(i64, f64)>);

impl<'de> Deserialize<'de> for Samples {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct List;
        impl<'de> Visitor<'de> for List {
            type Value = Samples;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of [time, \"value\"] samples")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Samples, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(Sample(t, v)) = seq.next_element()? {
                    out.push((t, v));
                }
                Ok(Samples(out))
            }
        }
        d.deserialize_seq(List)
    }
}

/// One `[seconds, "value"]` sample.
struct Sample(i64, f64);

impl<'de> Deserialize<'de> for Sample {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pair;
        impl<'de> Visitor<'de> for Pair {
            type Value = Sample;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a [time, \"value\"] sample")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Sample, A::Error> {
                use serde::de::Error;
                let t: f64 = seq.next_element()?.ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let v = seq.next_element::<Value>()?.ok_or_else(|| A::Error::invalid_length(1, &self))?;
                Ok(Sample((t * 1000.0).round() as i64, v.0))
            }
        }
        d.deserialize_tuple(2, Pair)
    }
}

/// A sample value: Prometheus writes it as a string.
struct Value(f64);

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;
        impl Visitor<'_> for Text {
            type Value = Value;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sample value as a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
                parse_value(v).map(Value).ok_or_else(|| E::custom(format!("sample value \"{v}\" is not a number")))
            }
        }
        d.deserialize_str(Text)
    }
}

fn envelope<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<(T, Vec<String>), WireError> {
    let trimmed = body.iter().position(|b| !b.is_ascii_whitespace()).map_or(&body[..0], |i| &body[i..]);
    if trimmed.first() == Some(&b'<') {
        return Err(WireError::Html);
    }
    let env: Envelope<T> = serde_json::from_slice(body)
        .map_err(|e| if e.is_eof() { WireError::Truncated { bytes: body.len() } } else { WireError::Malformed(e.to_string()) })?;
    checked(env)
}

/// The data of a successful answer, or the API's error.
fn checked<T>(env: Envelope<T>) -> Result<(T, Vec<String>), WireError> {
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
    matrix(envelope(body)?)
}

/// What went wrong reading a `query_range` answer from a stream.
#[derive(Debug)]
pub enum StreamError {
    /// Reading failed (a reset, a stall, or the reader's own limit).
    Io(std::io::Error),
    /// What was read is not a matrix answer.
    Wire(WireError),
}

/// [`parse_query_range`] from a stream, parsed as it arrives: the body is never held
/// whole, so memory is the samples' 16 bytes each, whatever the answer's size.
///
/// # Errors
/// A read error, or as [`parse_query_range`].
pub fn read_query_range<R: BufRead>(mut reader: R) -> Result<(Vec<RawSeries>, Vec<String>), StreamError> {
    let head = reader.fill_buf().map_err(StreamError::Io)?;
    if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
        return Err(StreamError::Wire(WireError::Html));
    }
    let mut counted = Counted { inner: reader, bytes: 0 };
    let parsed: Result<Envelope<MatrixData>, _> = serde_json::from_reader(&mut counted);
    let env = match parsed {
        Ok(env) => env,
        Err(e) if e.is_io() => return Err(StreamError::Io(e.into())),
        Err(e) if e.is_eof() => return Err(StreamError::Wire(WireError::Truncated { bytes: counted.bytes })),
        Err(e) => return Err(StreamError::Wire(WireError::Malformed(e.to_string()))),
    };
    matrix(checked(env).map_err(StreamError::Wire)?).map_err(StreamError::Wire)
}

/// A reader that counts the bytes through it.
struct Counted<R> {
    inner: R,
    bytes: usize,
}

impl<R: std::io::Read> std::io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n;
        Ok(n)
    }
}

fn matrix((data, warnings): (MatrixData, Vec<String>)) -> Result<(Vec<RawSeries>, Vec<String>), WireError> {
    if data.result_type != "matrix" {
        return Err(WireError::ResultType(data.result_type));
    }
    let series = data.result.into_iter().map(|s| RawSeries { labels: s.metric, samples: s.values.0 }).collect();
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
    fn a_stream_reads_as_a_slice_does() {
        let body = br#"{"status":"success","warnings":["w"],"data":{"resultType":"matrix","result":[
            {"metric":{"job":"a"},"values":[[1700000000,"1.5"],[1700000060,"+Inf"]]},{"metric":{"job":"b"}}]}}"#;
        let (streamed, w) = read_query_range(&body[..]).unwrap();
        assert_eq!((streamed.clone(), w.clone()), parse_query_range(body).unwrap());
        assert_eq!(streamed[0].samples, vec![(1_700_000_000_000, 1.5), (1_700_000_060_000, f64::INFINITY)]);
        assert!(streamed[1].samples.is_empty());
        assert_eq!(w, vec!["w".to_string()]);
        let cut = &body[..60];
        assert!(matches!(read_query_range(cut), Err(StreamError::Wire(WireError::Truncated { bytes: 60 }))));
        assert!(matches!(read_query_range(&b"  <html>"[..]), Err(StreamError::Wire(WireError::Html))));
        let bad = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"x"]]}]}}"#;
        let Err(StreamError::Wire(WireError::Malformed(m))) = read_query_range(&bad[..]) else { panic!("a bad value must be refused") };
        assert!(m.contains("sample value \"x\" is not a number"), "{m}");
        let short = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1]]}]}}"#;
        assert!(parse_query_range(short).is_err());
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
