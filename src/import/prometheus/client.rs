//! HTTP to the Prometheus API with reqwest (blocking, rustls): auth, TLS, timeouts,
//! retries with backoff where a retry can help (5xx, timeouts, dropped connections), and
//! long ranges fetched as chunks under the 11,000-points-per-series limit.

use super::wire::{self, RawSeries, WireError};
use super::{AuthSettings, ConnectionSettings, Secret};
use crate::error::{Error, Result};
use crate::import::Import;
use crate::progress::Progress;
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS};
use crate::warning::Warning;
use reqwest::Url;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Points per series per request: under Prometheus' 11,000 with room to spare.
pub const POINTS_PER_CHUNK: i64 = 10_000;
/// Attempts per request when a retry can help.
const ATTEMPTS: u32 = 3;
/// The longest `Retry-After` waited for; a longer one ends the import with its message.
const MAX_RETRY_AFTER_SECS: u64 = 30;

/// The wait before try `attempt + 1`: 200 ms doubling, ±25 % jitter (so parallel chunks
/// do not retry in step).
fn backoff(attempt: u32) -> Duration {
    let base = 200u64 << attempt.min(6);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let jitter = u64::from(nanos % 500) * base / 1000; // 0 to 50 % of base
    Duration::from_millis(base * 3 / 4 + jitter)
}

enum BodyError {
    TooLarge,
    Read(std::io::Error),
    /// A complete answer that is not what was asked for (not retried).
    Wire(WireError),
}

/// A response body that ends in an error past `limit` bytes (and says so).
struct Limited {
    inner: reqwest::blocking::Response,
    left: u64,
    exceeded: bool,
}

impl std::io::Read for Limited {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            // One byte more than allowed tells a body at the limit from one past it.
            let one = buf.len().min(1);
            let n = self.inner.read(&mut buf[..one])?;
            if n > 0 {
                self.exceeded = true;
                return Err(std::io::Error::other("the answer is larger than the limit"));
            }
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Parses a `query_range` answer as it arrives, at most `limit` bytes of it.
fn read_matrix(response: reqwest::blocking::Response, limit: u64) -> std::result::Result<(Vec<RawSeries>, Vec<String>), BodyError> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge);
    }
    let mut body = std::io::BufReader::with_capacity(64 << 10, Limited { inner: response, left: limit, exceeded: false });
    let parsed = wire::read_query_range(&mut body);
    if body.get_ref().exceeded {
        return Err(BodyError::TooLarge);
    }
    parsed.map_err(|e| match e {
        wire::StreamError::Io(e) => BodyError::Read(e),
        wire::StreamError::Wire(w) => BodyError::Wire(w),
    })
}

/// Reads a body of at most `limit` bytes.
fn read_limited(response: reqwest::blocking::Response, limit: u64) -> std::result::Result<Vec<u8>, BodyError> {
    use std::io::Read;
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    response.take(limit + 1).read_to_end(&mut body).map_err(BodyError::Read)?;
    if body.len() as u64 > limit {
        return Err(BodyError::TooLarge);
    }
    Ok(body)
}

/// Every form in which a server could echo a secret back: the value itself, URL-encoded
/// (`%XX` and `+`), and for basic auth the base64 of `user:password` that the
/// `Authorization` header carries. Header values count as secrets too (tenant IDs,
/// API keys); values under 4 characters are too short to blank out safely.
fn redaction_list(auth: &ResolvedAuth, headers: &[(String, String)]) -> Vec<String> {
    let mut plain: Vec<String> = headers.iter().map(|(_, v)| v.clone()).collect();
    let mut out = Vec::new();
    match auth {
        ResolvedAuth::None => {}
        ResolvedAuth::Basic(user, password) => {
            plain.push(password.expose().to_string());
            out.push(base64(format!("{user}:{}", password.expose()).as_bytes()));
        }
        ResolvedAuth::Bearer(token) => plain.push(token.expose().to_string()),
    }
    for p in plain {
        out.push(percent_encode(&p, false));
        out.push(percent_encode(&p, true));
        out.push(base64(p.as_bytes()));
        out.push(p);
    }
    out.retain(|s| s.chars().count() >= 4);
    // Longest first, so a secret inside a longer encoded form is blanked whole.
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.dedup();
    out
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Percent-encoding of everything but unreserved characters; `plus` writes spaces as `+`
/// (form encoding, as in a query string).
fn percent_encode(text: &str, plus: bool) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(b)),
            b' ' if plus => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A `query_range` request.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeQuery {
    /// The PromQL expression.
    pub query: String,
    /// First instant, UTC ms.
    pub start_ms: i64,
    /// Last instant, UTC ms.
    pub end_ms: i64,
    /// Step in ms; `None` chooses one from the range.
    pub step_ms: Option<i64>,
}

/// The step chosen for a range when none is given: the first of 15 s, 30 s, 1 m, 2 m,
/// 5 m, 10 m, 15 m, 30 m, 1 h, 3 h, 6 h, 12 h, 1 d that keeps the range under 10,000
/// points; never finer than 15 s, the usual scrape interval.
pub fn auto_step(start_ms: i64, end_ms: i64) -> i64 {
    const STEPS: [i64; 13] = [
        15 * SECOND_MS,
        30 * SECOND_MS,
        MINUTE_MS,
        2 * MINUTE_MS,
        5 * MINUTE_MS,
        10 * MINUTE_MS,
        15 * MINUTE_MS,
        30 * MINUTE_MS,
        HOUR_MS,
        3 * HOUR_MS,
        6 * HOUR_MS,
        12 * HOUR_MS,
        DAY_MS,
    ];
    let span = (end_ms - start_ms).max(0);
    STEPS.into_iter().find(|s| span / s < POINTS_PER_CHUNK).unwrap_or(DAY_MS)
}

/// The chunks `[start, end]` of a range, each at most [`POINTS_PER_CHUNK`] points,
/// aligned to `start + k·step` so that consecutive chunks neither overlap nor leave a gap.
pub fn chunks(start_ms: i64, end_ms: i64, step_ms: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let step = step_ms.max(1);
    let span = step * (POINTS_PER_CHUNK - 1);
    let mut s = start_ms;
    while s <= end_ms {
        let e = (s + span).min(end_ms);
        out.push((s, e));
        s = e + step - (e - start_ms) % step; // the next grid point after e
    }
    out
}

/// A connected client.
pub struct Client {
    http: reqwest::blocking::Client,
    base: Url,
    display_base: String,
    auth: ResolvedAuth,
    headers: Vec<(String, String)>,
    parallel: usize,
    timeout_secs: u64,
    max_body_bytes: u64,
    /// Every secret this client holds, in each form a server might echo it back.
    redact: Vec<String>,
}

enum ResolvedAuth {
    None,
    Basic(String, Secret),
    Bearer(Secret),
}

impl Client {
    /// Builds a client: reads the secret from its source, the CA file, and checks the URL.
    ///
    /// # Errors
    /// A bad URL, an unreadable secret or CA file, a bad header.
    pub fn new(settings: &ConnectionSettings) -> Result<Client> {
        // One crypto provider for rustls (ring); a second install is a no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let trimmed = settings.url.trim().trim_end_matches('/');
        let mut base = Url::parse(&format!("{trimmed}/")).map_err(|e| Error::setting("url", format!("\"{trimmed}\" is not a URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::setting("url", format!("\"{trimmed}\" must start with http:// or https://")));
        }
        // Credentials in the URL would end up in messages: move them out.
        let url_user = (!base.username().is_empty()).then(|| base.username().to_string());
        let url_password = base.password().map(str::to_string);
        let _ = base.set_username("");
        let _ = base.set_password(None);
        let display_base = base.as_str().trim_end_matches('/').to_string();
        let auth = match &settings.auth {
            AuthSettings::None => match (url_user, url_password) {
                (Some(u), Some(p)) => ResolvedAuth::Basic(u, Secret::new(p)),
                _ => ResolvedAuth::None,
            },
            AuthSettings::Basic { user, password } => ResolvedAuth::Basic(user.clone(), password.read()?),
            AuthSettings::Bearer { token } => ResolvedAuth::Bearer(token.read()?),
        };
        for (name, value) in &settings.headers {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(Error::setting("header", format!("\"{name}\" is not a valid header name")));
            }
            if reqwest::header::HeaderValue::from_str(value).is_err() {
                return Err(Error::setting(
                    "header",
                    format!("the value of header \"{name}\" holds characters a header cannot carry (control characters or non-ASCII)"),
                ));
            }
        }
        let mut builder = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_secs.max(1)))
            .connect_timeout(Duration::from_secs(settings.timeout_secs.clamp(1, 10)))
            .user_agent(concat!("headroom/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &settings.ca_file {
            let pem = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| Error::setting("ca-file", format!("{}: not a PEM certificate bundle: {e}", path.display())))?;
            if certs.is_empty() {
                return Err(Error::setting("ca-file", format!("{}: no certificate in it", path.display())));
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        if settings.insecure {
            builder = builder.danger_accept_invalid_certs(true);
        }
        let http = builder.build().map_err(|e| Error::setting("url", format!("cannot build an HTTP client: {}", e.without_url())))?;
        let redact = redaction_list(&auth, &settings.headers);
        Ok(Client {
            http,
            base,
            display_base,
            auth,
            redact,
            headers: settings.headers.clone(),
            parallel: settings.parallel.clamp(1, 16),
            timeout_secs: settings.timeout_secs,
            max_body_bytes: settings.max_body_mib.clamp(1, 1 << 20) << 20,
        })
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}/{path}", self.display_base)
    }

    /// GETs `path` with `params`, retrying where a retry can help. Returns the body of a
    /// 2xx answer; anything else becomes an [`Error::Http`] naming endpoint, query and
    /// status. `retries` counts the retries made.
    fn get(&self, path: &str, params: &[(&str, String)], query: Option<&str>, retries: &AtomicUsize) -> Result<Vec<u8>> {
        self.get_with(path, params, query, retries, ATTEMPTS, read_limited)
    }

    /// [`get`](Self::get) with at most `attempts` tries, a 2xx body read by `read_ok`
    /// (at most the body limit of it; a read that fails part-way is tried again).
    fn get_with<T>(
        &self,
        path: &str,
        params: &[(&str, String)],
        query: Option<&str>,
        retries: &AtomicUsize,
        attempts: u32,
        read_ok: impl Fn(reqwest::blocking::Response, u64) -> std::result::Result<T, BodyError>,
    ) -> Result<T> {
        let endpoint = self.endpoint(path);
        // Whatever the server said, one line of it, with every secret blanked out.
        let err = |status: Option<u16>, message: String| Error::Http {
            endpoint: endpoint.clone(),
            query: query.map(str::to_string),
            status,
            message: self.scrub(&message),
        };
        let mut url = self.base.join(path).map_err(|e| err(None, e.to_string()))?;
        url.query_pairs_mut().extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
        let mut last = None;
        let mut wait = Duration::ZERO;
        for attempt in 0..attempts {
            if attempt > 0 {
                retries.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(wait);
            }
            // Exponential back-off with jitter (unless the server said how long to wait).
            wait = backoff(attempt);
            let mut req = self.http.get(url.clone());
            for (k, v) in &self.headers {
                req = req.header(k.as_str(), v.as_str());
            }
            req = match &self.auth {
                ResolvedAuth::None => req,
                ResolvedAuth::Basic(user, password) => req.basic_auth(user, Some(password.expose())),
                ResolvedAuth::Bearer(token) => req.bearer_auth(token.expose()),
            };
            let response = match req.send() {
                Ok(r) => r,
                Err(e) => {
                    let (retry, message) = describe_transport(&e, self.timeout_secs);
                    last = Some(err(None, message));
                    if retry {
                        continue;
                    }
                    break;
                }
            };
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let read = if (200..300).contains(&status) {
                read_ok(response, self.max_body_bytes).map(Ok)
            } else {
                read_limited(response, self.max_body_bytes).map(Err)
            };
            let body = match read {
                Ok(Ok(answer)) => return Ok(answer),
                Ok(Err(body)) => body,
                Err(BodyError::Wire(w)) => return Err(err(Some(status), w.to_string())),
                Err(BodyError::TooLarge) => {
                    return Err(err(
                        Some(status),
                        format!(
                            "the answer is larger than {} MiB: narrow the query (fewer series) or the range, use a coarser --step, or raise --max-body-mib",
                            self.max_body_bytes >> 20
                        ),
                    ));
                }
                Err(BodyError::Read(e)) => {
                    let message = if e.kind() == std::io::ErrorKind::TimedOut || e.to_string().to_ascii_lowercase().contains("timed out") {
                        format!("the server stopped sending the answer: timed out after {} s", self.timeout_secs)
                    } else {
                        "the answer was cut off: the connection closed before all of it arrived".to_string()
                    };
                    last = Some(err(Some(status), message));
                    continue; // a dropped body is worth another try
                }
            };
            let api = wire::api_error(&body);
            let message = match (status, &api) {
                (401, _) => "authentication failed: check the user and password (or token)".to_string(),
                (403, _) => "forbidden: the credentials are valid but may not read this (tenant or permissions)".to_string(),
                (429, _) => match retry_after {
                    Some(s) => format!("too many requests: the server asked to wait {s} s"),
                    None => "too many requests".to_string(),
                },
                (400, Some((kind, msg))) if msg.contains("exceeded maximum resolution") => {
                    format!("resolution too fine ({kind}): {msg}; choose a coarser --step")
                }
                (400, Some((kind, msg))) => format!("the query was rejected ({kind}): {msg}"),
                (422, Some((kind, msg))) => format!("the query could not be executed ({kind}): {msg}"),
                (503, Some((kind, msg))) => format!("the server is unavailable ({kind}): {msg}"),
                (503, None) => "the server is unavailable".to_string(),
                (404, _) => "not found: is the URL the API's base (e.g. http://host:9090, or Mimir's .../prometheus)?".to_string(),
                (_, Some((kind, msg))) => format!("{kind}: {msg}"),
                (_, None) if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') => WireError::Html.to_string(),
                // Secrets blanked before the cut, so no part of one survives it.
                (_, None) => format!(
                    "unexpected answer: {}",
                    self.blank(&String::from_utf8_lossy(&body[..body.len().min(64 << 10)])).chars().take(200).collect::<String>().trim()
                ),
            };
            last = Some(err(Some(status), message));
            if status == 429 {
                // Honour Retry-After when it is short enough to be worth waiting for.
                match retry_after {
                    Some(s) if s <= MAX_RETRY_AFTER_SECS => wait = Duration::from_secs(s),
                    Some(_) => break,
                    None => {}
                }
                continue;
            }
            if status >= 500 {
                continue;
            }
            break;
        }
        Err(last.unwrap_or_else(|| err(None, "no answer".into())))
    }

    /// `text` with every secret this client holds replaced by `***`.
    fn blank(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.redact {
            out = out.replace(s.as_str(), "***");
        }
        out
    }

    /// `text` cut to its first line (at most 300 characters) with every secret this
    /// client holds replaced by `***`.
    fn scrub(&self, text: &str) -> String {
        let out = self.blank(text);
        let first = out.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
        let mut line: String = first.chars().take(300).collect();
        if line.len() < first.len() || out.lines().filter(|l| !l.trim().is_empty()).count() > 1 {
            line.push('…');
        }
        line
    }

    /// Runs a range query, chunked and in parallel, reporting one unit of progress per
    /// chunk. Every label set becomes one series.
    ///
    /// # Errors
    /// The first chunk that fails (with endpoint, query and status), an empty result,
    /// or cancellation. Nothing partial is returned.
    pub fn query_range(&self, q: &RangeQuery, progress: &Progress) -> Result<Import> {
        if q.query.trim().is_empty() {
            return Err(Error::setting("query", "the query is empty"));
        }
        if q.end_ms <= q.start_ms {
            return Err(Error::setting("end", "the end must be after the start"));
        }
        let step = match q.step_ms {
            Some(s) if s <= 0 => return Err(Error::setting("step", "the step must be positive")),
            Some(s) => s,
            None => {
                // Never finer than the data: for a plain selector, look at the raw
                // sample spacing in an hour of it (at the end, the middle or the start
                // of the range) and step no finer than that.
                let by_range = auto_step(q.start_ms, q.end_ms);
                // The probes try once each and share one deadline: a server that does not
                // answer is an error within about the timeout, not after every probe.
                let probes = [q.end_ms, q.start_ms + (q.end_ms - q.start_ms) / 2, (q.start_ms + HOUR_MS).min(q.end_ms)];
                let deadline = std::time::Instant::now() + Duration::from_secs(self.timeout_secs.max(1));
                let mut found = None;
                for at in probes {
                    if std::time::Instant::now() >= deadline {
                        break;
                    }
                    match self.probe_interval(&q.query, at) {
                        Ok(Some(interval)) => {
                            found = Some(interval);
                            break;
                        }
                        Ok(None) => {}
                        Err(e) if e.http_status().is_none() => return Err(e),
                        Err(_) => break,
                    }
                }
                match found {
                    Some(interval) if interval > by_range => nice_step(interval),
                    _ => by_range,
                }
            }
        };
        let (mut raw, mut api_warnings, mut retries) = self.fetch_range(q, step, progress)?;
        if q.step_ms.is_none() {
            // Still finer than the data (the probes found no samples)? Runs of repeated
            // values give it away: fetch again at the step the runs imply.
            let run = mean_run(&raw);
            if run >= 1.5 {
                let coarser = nearest_step((step as f64 * run).round() as i64);
                if coarser > step {
                    (raw, api_warnings, retries) = self.fetch_range(q, coarser, progress)?;
                }
            }
        }
        if raw.is_empty() {
            return Err(Error::Http {
                endpoint: self.endpoint("api/v1/query_range"),
                query: Some(q.query.clone()),
                status: None,
                message: "the query returned no series in this range: check the metric name, the labels and the time range".into(),
            });
        }
        let mut import = super::to_import(raw, &q.query, &self.endpoint("api/v1/query_range"))?;
        if retries > 0 {
            import.warnings.insert(0, Warning::new("", format!("{retries} requests were retried after a server error or timeout")));
        }
        api_warnings.dedup();
        for w in api_warnings {
            import.warnings.insert(0, Warning::new("", format!("Prometheus: {w}")));
        }
        Ok(import)
    }

    /// Fetches every chunk of the range at `step`, in parallel; all or nothing.
    fn fetch_range(&self, q: &RangeQuery, step: i64, progress: &Progress) -> Result<(Vec<RawSeries>, Vec<String>, usize)> {
        let parts = chunks(q.start_ms, q.end_ms, step);
        progress.add_total(parts.len() as u64);
        let next = AtomicUsize::new(0);
        let retries = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Result<(Vec<RawSeries>, Vec<String>)>>>> = Mutex::new((0..parts.len()).map(|_| None).collect());
        std::thread::scope(|scope| {
            for _ in 0..self.parallel.min(parts.len()) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(s, e)) = parts.get(i) else { break };
                        let result =
                            if progress.is_cancelled() { Err(Error::Cancelled) } else { self.fetch_chunk(&q.query, s, e, step, &retries) };
                        let failed = result.is_err();
                        if let Ok(mut r) = results.lock() {
                            r[i] = Some(result);
                        }
                        progress.advance(1);
                        if failed {
                            // Stop handing out work: the import fails as a whole.
                            next.store(parts.len(), Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        progress.check()?;
        let results = results.into_inner().map_err(|_| Error::Http {
            endpoint: self.endpoint("api/v1/query_range"),
            query: Some(q.query.clone()),
            status: None,
            message: "a fetch thread failed".into(),
        })?;
        let mut raw = Vec::new();
        let mut api_warnings = Vec::new();
        for r in results.into_iter().flatten() {
            let (series, w) = r?;
            raw.extend(series);
            api_warnings.extend(w);
        }
        Ok((raw, api_warnings, retries.load(Ordering::Relaxed)))
    }

    /// The median spacing of raw samples of a plain selector (`metric{labels}`) in the
    /// hour before `at_ms`, or `None` for expressions or when the probe fails.
    pub fn sample_interval(&self, query: &str, at_ms: i64) -> Option<i64> {
        self.probe_interval(query, at_ms).ok().flatten()
    }

    /// [`sample_interval`](Self::sample_interval) in one try, with the transport
    /// failure (no answer at all) as an error.
    fn probe_interval(&self, query: &str, at_ms: i64) -> Result<Option<i64>> {
        if !is_plain_selector(query) {
            return Ok(None);
        }
        let params = [("query", format!("{}[1h]", query.trim())), ("time", seconds(at_ms))];
        let body = self.get_with("api/v1/query", &params, Some(query), &AtomicUsize::new(0), 1, read_limited)?;
        let Ok((series, _)) = wire::parse_query_range(&body) else { return Ok(None) };
        let mut gaps: Vec<i64> =
            series.iter().flat_map(|s| s.samples.windows(2).map(|w| w[1].0.saturating_sub(w[0].0))).filter(|d| *d > 0).collect();
        if gaps.is_empty() {
            return Ok(None);
        }
        let mid = gaps.len() / 2;
        Ok(Some(*gaps.select_nth_unstable(mid).1))
    }

    fn fetch_chunk(
        &self,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        retries: &AtomicUsize,
    ) -> Result<(Vec<RawSeries>, Vec<String>)> {
        let params = [("query", query.to_string()), ("start", seconds(start_ms)), ("end", seconds(end_ms)), ("step", seconds(step_ms))];
        self.get_with("api/v1/query_range", &params, Some(query), retries, ATTEMPTS, read_matrix)
    }

    /// Metric names, for completion.
    ///
    /// # Errors
    /// As any request.
    pub fn metric_names(&self) -> Result<Vec<String>> {
        self.label_values("__name__")
    }

    /// Label names.
    ///
    /// # Errors
    /// As any request.
    pub fn label_names(&self) -> Result<Vec<String>> {
        self.strings("api/v1/labels", &[])
    }

    /// Values of one label.
    ///
    /// # Errors
    /// As any request.
    pub fn label_values(&self, label: &str) -> Result<Vec<String>> {
        self.strings(&format!("api/v1/label/{label}/values"), &[])
    }

    /// Label names of the series matching `matcher` (`match[]`, e.g. a metric name),
    /// or of every series when `None`.
    ///
    /// # Errors
    /// As any request.
    pub fn label_names_for(&self, matcher: Option<&str>) -> Result<Vec<String>> {
        let params: Vec<(&str, String)> = matcher.map(|m| ("match[]", m.to_string())).into_iter().collect();
        self.strings("api/v1/labels", &params)
    }

    /// Values of `label` among the series matching `matcher`, or among all when `None`.
    ///
    /// # Errors
    /// A label name that is not one (it goes into the path), or as any request.
    pub fn label_values_for(&self, label: &str, matcher: Option<&str>) -> Result<Vec<String>> {
        let valid = label.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Error::setting("label", format!("\"{label}\" is not a label name")));
        }
        let params: Vec<(&str, String)> = matcher.map(|m| ("match[]", m.to_string())).into_iter().collect();
        self.strings(&format!("api/v1/label/{label}/values"), &params)
    }

    /// Label sets of the series matching `matcher` (e.g. `up{job="node"}`).
    ///
    /// # Errors
    /// As any request.
    pub fn series(&self, matcher: &str, start_ms: i64, end_ms: i64) -> Result<Vec<BTreeMap<String, String>>> {
        let params = [("match[]", matcher.to_string()), ("start", seconds(start_ms)), ("end", seconds(end_ms))];
        let body = self.get("api/v1/series", &params, Some(matcher), &AtomicUsize::new(0))?;
        wire::parse_series(&body).map_err(|e| Error::Http {
            endpoint: self.endpoint("api/v1/series"),
            query: Some(matcher.into()),
            status: Some(200),
            message: e.to_string(),
        })
    }

    fn strings(&self, path: &str, params: &[(&str, String)]) -> Result<Vec<String>> {
        let body = self.get(path, params, None, &AtomicUsize::new(0))?;
        wire::parse_strings(&body).map_err(|e| Error::Http {
            endpoint: self.endpoint(path),
            query: None,
            status: Some(200),
            message: e.to_string(),
        })
    }
}

/// The mean length of runs of identical consecutive values over all series (the last
/// run of each, stretched by the lookback after the final sample, left out): 1 for data
/// sampled at least as often as the step, about interval/step when finer.
fn mean_run(series: &[RawSeries]) -> f64 {
    let (mut points, mut runs) = (0usize, 0usize);
    for s in series {
        let mut run = 1;
        let mut done: Vec<usize> = Vec::new();
        for w in s.samples.windows(2) {
            if w[0].1 == w[1].1 || (w[0].1.is_nan() && w[1].1.is_nan()) {
                run += 1;
            } else {
                done.push(run);
                run = 1;
            }
        }
        points += done.iter().sum::<usize>();
        runs += done.len();
    }
    if runs == 0 { 1.0 } else { points as f64 / runs as f64 }
}

/// The first step of the usual ladder (15 s … 1 d) at or above `interval`.
pub fn nice_step(interval: i64) -> i64 {
    [15, 30, 60, 120, 300, 600, 900, 1800, 3600, 10_800, 21_600, 43_200, 86_400]
        .into_iter()
        .map(|s| s * SECOND_MS)
        .find(|s| *s >= interval)
        .unwrap_or(interval)
}

/// The step of the usual ladder nearest to an estimated `interval` (by ratio): runs of
/// repeated values give the interval only roughly.
pub fn nearest_step(interval: i64) -> i64 {
    [15, 30, 60, 120, 300, 600, 900, 1800, 3600, 10_800, 21_600, 43_200, 86_400]
        .into_iter()
        .map(|s| s * SECOND_MS)
        .min_by(|a, b| {
            let d = |s: i64| ((s as f64) / (interval.max(1) as f64)).ln().abs();
            d(*a).total_cmp(&d(*b))
        })
        .unwrap_or(interval)
}

/// `metric` or `metric{label="x", …}`: a selector whose raw samples can be probed.
fn is_plain_selector(q: &str) -> bool {
    let q = q.trim();
    let name_end = q.find('{').unwrap_or(q.len());
    let name = &q[..name_end];
    let name_ok = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    let rest = &q[name_end..];
    name_ok
        && (rest.is_empty() || (rest.starts_with('{') && rest.ends_with('}') && !rest[1..rest.len() - 1].contains(['{', '}', '[', '('])))
}

/// Milliseconds as the API's decimal seconds.
fn seconds(ms: i64) -> String {
    if ms % 1000 == 0 { (ms / 1000).to_string() } else { format!("{:.3}", ms as f64 / 1000.0) }
}

/// A transport failure in the user's terms, and whether a retry may help.
fn describe_transport(e: &reqwest::Error, timeout_secs: u64) -> (bool, String) {
    let chain = {
        let mut parts = Vec::new();
        let mut source: Option<&dyn std::error::Error> = Some(e);
        while let Some(s) = source {
            parts.push(s.to_string());
            source = s.source();
        }
        parts.join(": ").to_ascii_lowercase()
    };
    if e.is_timeout() {
        return (true, format!("timed out after {timeout_secs} s"));
    }
    if chain.contains("dns error") || chain.contains("failed to lookup address") || chain.contains("name or service not known") {
        return (false, "the host name could not be resolved (DNS)".into());
    }
    if chain.contains("certificate") || chain.contains("tls") || chain.contains("handshake") {
        let hint = if chain.contains("unknown issuer") || chain.contains("unknownissuer") {
            "the server's certificate is not signed by a trusted CA: give its CA with --ca-file"
        } else {
            "check the CA file and the host name"
        };
        return (false, format!("TLS failed ({hint})"));
    }
    if chain.contains("connection refused") {
        return (false, "connection refused: is the server running and the port right?".into());
    }
    if e.is_connect() {
        return (true, "could not connect".into());
    }
    (true, format!("request failed: {}", chain.chars().take(200).collect::<String>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_tile_the_range_on_the_step_grid() {
        let step = 60_000;
        let start = 1_700_000_000_000;
        let end = start + 25_000 * step;
        let c = chunks(start, end, step);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0], (start, start + 9_999 * step));
        assert_eq!(c[1].0, c[0].1 + step);
        assert_eq!(c[2].1, end);
        let points: i64 = c.iter().map(|(s, e)| (e - s) / step + 1).sum();
        assert_eq!(points, 25_001, "every grid point once");
    }

    #[test]
    fn plain_selectors_are_told_from_expressions() {
        assert!(is_plain_selector("up"));
        assert!(is_plain_selector("node_cpu{job=\"node\", mode!=\"idle\"}"));
        assert!(!is_plain_selector("rate(up[5m])"));
        assert!(!is_plain_selector("sum by (job) (up)"));
        assert_eq!(nice_step(5 * MINUTE_MS), 5 * MINUTE_MS);
        assert_eq!(nice_step(20 * SECOND_MS), 30 * SECOND_MS);
        assert_eq!(nearest_step(301_200), 5 * MINUTE_MS);
        assert_eq!(nearest_step(290_000), 5 * MINUTE_MS);
    }

    #[test]
    fn auto_step_keeps_ranges_under_the_limit() {
        assert_eq!(auto_step(0, 30 * DAY_MS), 5 * MINUTE_MS);
        assert_eq!(auto_step(0, 6 * DAY_MS), MINUTE_MS);
        assert_eq!(auto_step(0, 7 * DAY_MS), 2 * MINUTE_MS);
        assert_eq!(auto_step(0, HOUR_MS), 15 * SECOND_MS);
    }
}
