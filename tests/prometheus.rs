//! Import from a real Prometheus on 127.0.0.1 (started here with backfilled history),
//! and every error case a user can meet, some from a small loopback server of our own.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use headroom::bench::local_prometheus::{History, LocalPrometheus, WebConfig};
use headroom::import::prometheus::{AuthSettings, Client, ConnectionSettings, RangeQuery, SecretSource, read_json};
use headroom::progress::Progress;
use headroom::time::{DAY_MS, MINUTE_MS};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

const STEP: i64 = 5 * MINUTE_MS;

/// History starts here: 95 days ago, on the 5-minute grid.
fn origin() -> i64 {
    static ORIGIN: OnceLock<i64> = OnceLock::new();
    *ORIGIN.get_or_init(|| (headroom::time::now_ms() - 95 * DAY_MS) / STEP * STEP)
}

fn value(series: usize, i: usize) -> f64 {
    ((i * 37 + series * 101) % 1000) as f64 / 10.0 + series as f64
}

/// 20 CPU series × 30 days and 2 disk series × 90 days, at 5 minutes.
fn histories() -> Vec<History> {
    let month = (30 * DAY_MS / STEP) as usize;
    let quarter = (90 * DAY_MS / STEP) as usize;
    let mut h: Vec<History> = (0..20)
        .map(|s| History {
            metric: "node_cpu_percent".into(),
            labels: vec![("instance".into(), format!("web-{s:02}")), ("job".into(), "node".into())],
            start_ms: origin(),
            step_ms: STEP,
            values: (0..month).map(|i| value(s, i)).collect(),
        })
        .collect();
    h.extend((0..2).map(|s| History {
        metric: "disk_used_bytes".into(),
        labels: vec![("device".into(), format!("sd{}", ['a', 'b'][s]))],
        start_ms: origin(),
        step_ms: STEP,
        values: (0..quarter).map(|i| 1e9 + (i * 1000 + s) as f64).collect(),
    }));
    h
}

/// One plain server shared by the tests that run at the same time; stopped with the last.
fn plain() -> Arc<LocalPrometheus> {
    static SHARED: Mutex<Weak<LocalPrometheus>> = Mutex::new(Weak::new());
    let mut slot = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = slot.upgrade() {
        return s;
    }
    let s = Arc::new(LocalPrometheus::start(&histories(), &WebConfig::default(), None, None).expect("start prometheus"));
    *slot = Arc::downgrade(&s);
    s
}

fn client(url: &str) -> Client {
    Client::new(&ConnectionSettings { url: url.into(), ..ConnectionSettings::default() }).unwrap()
}

fn query(q: &str, days: i64) -> RangeQuery {
    RangeQuery { query: q.into(), start_ms: origin(), end_ms: origin() + days * DAY_MS - STEP, step_ms: Some(STEP) }
}

#[test]
fn thirty_days_of_twenty_series_equal_sample_for_sample() {
    let server = plain();
    let import = client(&server.url).query_range(&query("node_cpu_percent", 30), &Progress::new()).unwrap();
    assert_eq!(import.series.len(), 20);
    for s in &import.series {
        let idx: usize = s.labels["instance"][4..].parse().unwrap();
        assert_eq!(s.name, "node_cpu_percent");
        assert_eq!(s.labels["job"], "node");
        assert_eq!(s.start_ms, origin());
        assert_eq!(s.step_ms, STEP);
        assert_eq!(s.len(), (30 * DAY_MS / STEP) as usize);
        for (i, v) in s.values.iter().enumerate() {
            assert_eq!(*v, value(idx, i), "{} sample {i}", s.display_name());
        }
    }
    assert!(import.warnings.is_empty(), "{:?}", import.warnings);
}

#[test]
fn ninety_days_chunked_without_duplicate_or_missing_sample() {
    let server = plain();
    let q = query("disk_used_bytes", 90);
    let chunks = headroom::import::prometheus::client::chunks(q.start_ms, q.end_ms, STEP);
    assert!(chunks.len() >= 3, "a 90-day range at 5 minutes needs several chunks: {}", chunks.len());
    let progress = Progress::new();
    let import = client(&server.url).query_range(&q, &progress).unwrap();
    assert_eq!(progress.fraction(), 1.0, "one unit of progress per chunk");
    assert_eq!(import.series.len(), 2);
    for (k, s) in import.series.iter().enumerate() {
        assert_eq!(s.len(), (90 * DAY_MS / STEP) as usize);
        assert_eq!(s.missing(), 0);
        for (i, v) in s.values.iter().enumerate() {
            assert_eq!(*v, 1e9 + (i * 1000 + k) as f64, "sample {i}");
        }
    }
    assert!(import.warnings.is_empty(), "no duplicate at the seams: {:?}", import.warnings);
}

#[test]
fn browsing_lists_metrics_labels_and_series() {
    let server = plain();
    let c = client(&server.url);
    let names = c.metric_names().unwrap();
    assert!(names.contains(&"node_cpu_percent".to_string()) && names.contains(&"disk_used_bytes".to_string()), "{names:?}");
    assert!(c.label_names().unwrap().contains(&"instance".to_string()));
    assert_eq!(c.label_values("device").unwrap(), vec!["sda", "sdb"]);
    let series = c.series("node_cpu_percent{instance=\"web-03\"}", origin(), origin() + DAY_MS).unwrap();
    assert_eq!(series.len(), 1);
    assert_eq!(series[0]["job"], "node");
}

#[test]
fn promql_errors_and_empty_results_say_what_and_where() {
    let server = plain();
    let c = client(&server.url);
    let e = c.query_range(&query("rate(node_cpu_percent[5m]", 1), &Progress::new()).unwrap_err().to_string();
    assert!(e.contains("(HTTP 400)") && e.contains("the query was rejected (bad_data)") && e.contains("parse error"), "{e}");
    assert!(e.ends_with("[query: rate(node_cpu_percent[5m]]"), "{e}");
    let e = c.query_range(&query("no_such_metric", 1), &Progress::new()).unwrap_err().to_string();
    assert!(e.contains("returned no series") && e.contains("no_such_metric"), "{e}");
}

#[test]
fn a_saved_response_imports_offline() {
    let server = plain();
    let url = format!(
        "{}/api/v1/query_range?query=disk_used_bytes&start={}&end={}&step=300",
        server.url,
        origin() / 1000,
        (origin() + DAY_MS) / 1000
    );
    let body = reqwest::blocking::get(url).unwrap().bytes().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("disk.json");
    std::fs::write(&path, &body).unwrap();
    let import = read_json(&path).unwrap();
    assert_eq!(import.series.len(), 2);
    assert_eq!(import.series[0].len(), 289);
    assert_eq!(import.series[0].values[3], 1e9 + 3000.0);
    // And through the same loader the window and the CLI use.
    let via = headroom::pipeline::load(&[path], &Default::default()).unwrap();
    assert_eq!(via.series, import.series);
}

fn cert_files(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=Headroom test CA",
    ]);
    run(&["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    (dir.join("ca.crt"), dir.join("server.crt"), dir.join("server.key"))
}

fn small_history() -> Vec<History> {
    vec![History {
        metric: "up_ratio".into(),
        labels: vec![],
        start_ms: origin(),
        step_ms: STEP,
        values: (0..300).map(|i| (i % 10) as f64).collect(),
    }]
}

#[test]
fn tls_with_the_ca_file_and_without_it() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = cert_files(certs.path());
    let server =
        LocalPrometheus::start(&small_history(), &WebConfig { tls: Some((cert, key)), basic_auth: None }, None, Some(&ca)).unwrap();
    assert!(server.url.starts_with("https://"));
    let q = RangeQuery { query: "up_ratio".into(), start_ms: origin(), end_ms: origin() + 299 * STEP, step_ms: Some(STEP) };
    let with_ca =
        Client::new(&ConnectionSettings { url: server.url.clone(), ca_file: Some(ca.clone()), ..ConnectionSettings::default() }).unwrap();
    let import = with_ca.query_range(&q, &Progress::new()).unwrap();
    assert_eq!(import.series[0].len(), 300);
    let without = client(&server.url);
    let e = without.query_range(&q, &Progress::new()).unwrap_err().to_string();
    assert!(e.contains("TLS failed") && e.contains("--ca-file"), "{e}");
    let bad_ca = certs.path().join("server.key");
    let e = Client::new(&ConnectionSettings { url: server.url.clone(), ca_file: Some(bad_ca), ..ConnectionSettings::default() })
        .err()
        .unwrap()
        .to_string();
    assert!(e.starts_with("ca-file:"), "{e}");
}

#[test]
fn basic_auth_right_and_wrong_and_the_password_never_shows() {
    let out = Command::new("htpasswd").args(["-nbBC", "10", "admin", "s3cret-pass"]).output().expect("htpasswd (apache2-utils)");
    let line = String::from_utf8(out.stdout).unwrap();
    let hash = line.trim().split_once(':').unwrap().1.to_string();
    let server = LocalPrometheus::start(
        &small_history(),
        &WebConfig { basic_auth: Some(("admin".into(), hash)), tls: None },
        Some(("admin", "s3cret-pass")),
        None,
    )
    .unwrap();
    let q = RangeQuery { query: "up_ratio".into(), start_ms: origin(), end_ms: origin() + 299 * STEP, step_ms: Some(STEP) };
    // SAFETY of the test: variable names unique to this test.
    let settings = |var: &str| ConnectionSettings {
        url: server.url.clone(),
        auth: AuthSettings::Basic { user: "admin".into(), password: SecretSource::Env(var.into()) },
        ..ConnectionSettings::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let good_file = dir.path().join("good");
    std::fs::write(&good_file, "s3cret-pass\n").unwrap();
    let good = ConnectionSettings {
        auth: AuthSettings::Basic { user: "admin".into(), password: SecretSource::File(good_file) },
        ..settings("UNUSED")
    };
    assert_eq!(Client::new(&good).unwrap().query_range(&q, &Progress::new()).unwrap().series.len(), 1);
    let e = Client::new(&settings("HEADROOM_TEST_UNSET_VAR")).err().unwrap().to_string();
    assert_eq!(e, "secret: environment variable HEADROOM_TEST_UNSET_VAR is not set (or not UTF-8)");
    // Wrong password through the command line: a clear 401, no secret anywhere.
    let csv = dir.path().join("out.csv");
    let run = Command::new(env!("CARGO_BIN_EXE_headroom"))
        .args(["import", "prometheus", "--url", &server.url, "--query", "up_ratio", "--start", &(origin() / 1000).to_string()])
        .args(["--end", &((origin() + 299 * STEP) / 1000).to_string(), "--user", "admin", "--password-env", "HR_TEST_PW", "--out"])
        .arg(&csv)
        .env("HR_TEST_PW", "wrong-password-xyz")
        .output()
        .unwrap();
    assert!(!run.status.success());
    let all = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(all.contains("(HTTP 401)") && all.contains("authentication failed"), "{all}");
    assert!(!all.contains("wrong-password-xyz") && !all.contains("s3cret-pass"), "{all}");
    assert!(!csv.exists(), "nothing written on failure");
    // Right password through the command line: the CSV chains into the importer.
    let run = Command::new(env!("CARGO_BIN_EXE_headroom"))
        .args(["import", "prometheus", "--url", &server.url, "--query", "up_ratio", "--start", &(origin() / 1000).to_string()])
        .args(["--end", &((origin() + 299 * STEP) / 1000).to_string(), "--user", "admin", "--password-env", "HR_TEST_PW", "--out"])
        .arg(&csv)
        .env("HR_TEST_PW", "s3cret-pass")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let all = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(!all.contains("s3cret-pass"));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(!text.contains("s3cret-pass"));
    assert_eq!(text.lines().next(), Some("timestamp,series,value"));
    let back = headroom::import::csv::read_csv(&csv, &Default::default()).unwrap();
    assert_eq!(back.series[0].name, "up_ratio");
    assert_eq!(back.series[0].values[..3], [0.0, 1.0, 2.0]);
}

/// A loopback HTTP server answering every request with `respond(request_text)`.
struct Fake {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

fn fake(respond: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        // Bounded: at most 50 connections, then the thread ends.
        for stream in listener.incoming().take(50) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = vec![0u8; 16384];
            let n = stream.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).into_owned();
            seen.lock().unwrap().push(req.clone());
            let _ = stream.write_all(&respond(&req));
        }
    });
    Fake { url, requests }
}

fn http(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!("HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
        .into_bytes()
}

const MATRIX: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"m"},"values":[[1700000000,"1"],[1700000300,"2"],[1700000600,"3"]]}]}}"#;

fn q() -> RangeQuery {
    RangeQuery { query: "m".into(), start_ms: 1_700_000_000_000, end_ms: 1_700_000_600_000, step_ms: Some(STEP) }
}

fn error_of(url: &str, settings: ConnectionSettings) -> String {
    let c = Client::new(&ConnectionSettings { url: url.into(), timeout_secs: 1, ..settings }).unwrap();
    c.query_range(&q(), &Progress::new()).unwrap_err().to_string()
}

#[test]
fn bearer_tokens_are_sent_and_never_shown() {
    let server = fake(|req| {
        if req.contains("authorization: Bearer tok-123") || req.contains("Authorization: Bearer tok-123") {
            http("200 OK", "application/json", MATRIX)
        } else {
            http("401 Unauthorized", "text/plain", "no")
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "tok-123\n").unwrap();
    let good = ConnectionSettings {
        url: server.url.clone(),
        auth: AuthSettings::Bearer { token: SecretSource::File(file) },
        ..ConnectionSettings::default()
    };
    assert_eq!(Client::new(&good).unwrap().query_range(&q(), &Progress::new()).unwrap().series[0].values, vec![1.0, 2.0, 3.0]);
    let bad_file = dir.path().join("bad");
    std::fs::write(&bad_file, "tok-WRONG").unwrap();
    let bad = ConnectionSettings { auth: AuthSettings::Bearer { token: SecretSource::File(bad_file) }, ..good.clone() };
    let e = error_of(&server.url, bad.clone());
    assert!(e.contains("(HTTP 401)") && !e.contains("tok-WRONG"), "{e}");
    assert!(!format!("{bad:?}").contains("tok-WRONG"), "settings hold where the secret is, not the secret");
    assert!(server.requests.lock().unwrap().iter().any(|r| r.contains("GET /api/v1/query_range?query=m&start=1700000000")));
}

#[test]
fn mimir_tenant_header_is_sent() {
    let server = fake(|req| {
        if req.contains("X-Scope-OrgID: tenant-7") || req.contains("x-scope-orgid: tenant-7") {
            http("200 OK", "application/json", MATRIX)
        } else {
            http("401 Unauthorized", "text/plain", "no org id")
        }
    });
    let s = ConnectionSettings {
        url: format!("{}/prometheus", server.url),
        headers: vec![("X-Scope-OrgID".into(), "tenant-7".into())],
        ..ConnectionSettings::default()
    };
    Client::new(&s).unwrap().query_range(&q(), &Progress::new()).unwrap();
    assert!(server.requests.lock().unwrap()[0].starts_with("GET /prometheus/api/v1/query_range?"), "the path prefix is kept");
}

#[test]
fn every_error_case_has_its_message() {
    let d = ConnectionSettings::default;
    // Connection refused: a port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let e = error_of(&format!("http://127.0.0.1:{port}"), d());
    assert!(e.contains("connection refused"), "{e}");
    // DNS failure.
    let e = error_of("http://no-such-host.invalid:9090", d());
    assert!(e.contains("could not be resolved (DNS)") || e.contains("could not connect"), "{e}");
    // Timeout: accepted, never answered.
    let silent = fake(|_| {
        std::thread::sleep(Duration::from_millis(1500));
        Vec::new()
    });
    let e = error_of(&silent.url, d());
    assert!(e.contains("timed out after 1 s"), "{e}");
    assert!(silent.requests.lock().unwrap().len() >= 2, "timeouts are retried");
    // 403.
    let e = error_of(&fake(|_| http("403 Forbidden", "text/plain", "nope")).url, d());
    assert!(e.contains("(HTTP 403)") && e.contains("forbidden"), "{e}");
    // 422 with Prometheus' own message.
    let body = r#"{"status":"error","errorType":"execution","error":"query processing would load too many samples"}"#;
    let e = error_of(&fake(move |_| http("422 Unprocessable Entity", "application/json", body)).url, d());
    assert!(e.contains("(HTTP 422)") && e.contains("too many samples") && e.contains("[query: m]"), "{e}");
    // 503: retried, then reported.
    let unavailable = fake(|_| http("503 Service Unavailable", "text/plain", "warming up"));
    let e = error_of(&unavailable.url, d());
    assert!(e.contains("(HTTP 503)") && e.contains("unavailable"), "{e}");
    assert_eq!(unavailable.requests.lock().unwrap().len(), 3, "5xx is retried, three attempts in all");
    // A resolution error.
    let body = r#"{"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"}"#;
    let e = error_of(&fake(move |_| http("400 Bad Request", "application/json", body)).url, d());
    assert!(e.contains("resolution too fine") && e.contains("--step"), "{e}");
    // 400 is not retried.
    // An HTML page where JSON was expected (a wrong URL: Grafana's login page).
    let e = error_of(&fake(|_| http("200 OK", "text/html", "<!DOCTYPE html><html><body>Grafana</body></html>")).url, d());
    assert!(e.contains("HTML page") && e.contains("base"), "{e}");
    // A truncated body: the length promises more than arrives.
    let cut = fake(|_| {
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\nConnection: close\r\n\r\n{\"status\":\"success\",\"da"
            .to_vec()
    });
    let e = error_of(&cut.url, d());
    assert!(e.contains("cut off"), "{e}");
    // An empty result.
    let empty = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
    let e = error_of(&fake(move |_| http("200 OK", "application/json", empty)).url, d());
    assert!(e.contains("returned no series"), "{e}");
}

#[test]
fn credentials_in_the_url_are_moved_out_of_messages() {
    let server = fake(|req| {
        if req.contains("Basic ") {
            http("401 Unauthorized", "text/plain", "no")
        } else {
            http("500 Internal Server Error", "text/plain", "x")
        }
    });
    let url = server.url.replace("http://", "http://bob:pa55word@");
    let e = error_of(&url, ConnectionSettings::default());
    assert!(!e.contains("pa55word") && e.contains("(HTTP 401)"), "{e}");
}

/// A server that echoes the request (headers and all) into its error body, as some
/// proxies do: no secret may reach the message, in any encoding.
#[test]
fn secrets_echoed_by_the_server_never_reach_the_message() {
    let echo = fake(|req| {
        // The headers first, on one line, then the request line on the next.
        let mut lines = req.lines();
        let first = lines.next().unwrap_or("");
        let body = format!("bad request, you sent: {}\n{first}", lines.collect::<Vec<_>>().join(" | "));
        http("500 Internal Server Error", "text/plain", &body)
    });
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("password");
    std::fs::write(&password, "p@ss word/42\n").unwrap();
    let basic = ConnectionSettings {
        auth: AuthSettings::Basic { user: "alice".into(), password: SecretSource::File(password) },
        headers: vec![("X-Api-Key".into(), "key-0123456789".into())],
        ..ConnectionSettings::default()
    };
    let e = error_of(&echo.url, basic);
    assert!(e.contains("(HTTP 500)"), "{e}");
    for leaked in ["p@ss word/42", "p%40ss%20word%2F42", "p%40ss+word%2F42", "YWxpY2U6cEBzcyB3b3JkLzQy", "key-0123456789"] {
        assert!(!e.contains(leaked), "{leaked} leaked: {e}");
    }
    assert_eq!(e.lines().count(), 1, "server text is cut to one line: {e}");
    let file = dir.path().join("token");
    std::fs::write(&file, "tok-abcdef-999").unwrap();
    let bearer = ConnectionSettings { auth: AuthSettings::Bearer { token: SecretSource::File(file) }, ..ConnectionSettings::default() };
    let e = error_of(&echo.url, bearer);
    assert!(!e.contains("tok-abcdef-999") && e.contains("***"), "{e}");
}

#[test]
fn too_many_requests_waits_as_told_then_succeeds() {
    let calls = Arc::new(Mutex::new(0usize));
    let n = calls.clone();
    let server = fake(move |_| {
        let mut c = n.lock().unwrap();
        *c += 1;
        if *c == 1 {
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
        } else {
            http("200 OK", "application/json", MATRIX)
        }
    });
    let t = std::time::Instant::now();
    let c = Client::new(&ConnectionSettings { url: server.url.clone(), ..ConnectionSettings::default() }).unwrap();
    let got = c.query_range(&q(), &Progress::new()).unwrap();
    assert_eq!(got.series[0].values, vec![1.0, 2.0, 3.0]);
    let secs = t.elapsed().as_secs_f64();
    assert!((1.0..5.0).contains(&secs), "waited {secs} s for Retry-After: 1");
    // A Retry-After too long to wait for ends the import with the server's word.
    let busy = fake(|_| b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3600\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec());
    let e = error_of(&busy.url, ConnectionSettings::default());
    assert!(e.contains("(HTTP 429)") && e.contains("3600 s"), "{e}");
    assert_eq!(busy.requests.lock().unwrap().len(), 1);
}

#[test]
fn a_stalled_server_is_an_error_within_about_the_timeout() {
    // No --step: the step probes run first. They share one deadline.
    let silent = fake(|_| {
        std::thread::sleep(Duration::from_secs(4));
        Vec::new()
    });
    let c = Client::new(&ConnectionSettings { url: silent.url.clone(), timeout_secs: 1, ..ConnectionSettings::default() }).unwrap();
    let t = std::time::Instant::now();
    let e = c.query_range(&RangeQuery { step_ms: None, ..q() }, &Progress::new()).unwrap_err().to_string();
    let secs = t.elapsed().as_secs_f64();
    assert!(e.contains("timed out after 1 s") && e.contains(&silent.url), "{e}");
    assert!(secs < 3.0, "a stalled server took {secs} s to report");
    // Stalling in the middle of the body is a timeout, not a cut-off answer.
    let half = fake(|_| {
        let mut r = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"status\":\"succ".to_vec();
        r.extend(std::iter::repeat_n(b' ', 10));
        std::thread::sleep(Duration::from_millis(2500));
        r
    });
    let e = error_of(&half.url, ConnectionSettings::default());
    assert!(e.contains("timed out") || e.contains("cut off"), "{e}");
}

#[test]
fn an_answer_over_the_size_limit_is_refused_clearly() {
    let big = format!(
        r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{"__name__":"m"}},"values":[{}]}}]}}}}"#,
        (0..200_000).map(|i| format!("[{},\"1\"]", 1_700_000_000 + i * 300)).collect::<Vec<_>>().join(",")
    );
    assert!(big.len() > 1 << 20);
    let server = fake({
        let big = big.clone();
        move |_| http("200 OK", "application/json", &big)
    });
    let e = error_of(&server.url, ConnectionSettings { max_body_mib: 1, ..ConnectionSettings::default() });
    assert!(e.contains("larger than 1 MiB") && e.contains("--max-body-mib"), "{e}");
    // With no Content-Length (the end marked by closing the connection), the limit is
    // found while the answer is parsed as it arrives.
    let unsized_answer = fake(move |_| {
        let mut r = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n".to_vec();
        r.extend(big.as_bytes());
        r
    });
    let e = error_of(&unsized_answer.url, ConnectionSettings { max_body_mib: 1, ..ConnectionSettings::default() });
    assert!(e.contains("larger than 1 MiB") && e.contains("--max-body-mib"), "{e}");
}

#[test]
fn two_series_with_the_same_labels_and_different_values_are_a_conflict() {
    let body = r#"{"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"__name__":"m","job":"a"},"values":[[1700000000,"1"],[1700000300,"2"],[1700000600,"3"]]},
        {"metric":{"__name__":"m","job":"a"},"values":[[1700000000,"1"],[1700000300,"5"],[1700000600,"3"]]}]}}"#;
    let e = error_of(&fake(move |_| http("200 OK", "application/json", body)).url, ConnectionSettings::default());
    assert!(e.contains("comes twice with different values") && e.contains("job=\"a\""), "{e}");
    // The same values twice (chunks meeting at a seam) are one series.
    let seam = r#"{"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"__name__":"m"},"values":[[1700000000,"1"],[1700000300,"2"]]},
        {"metric":{"__name__":"m"},"values":[[1700000300,"2"],[1700000600,"3"]]}]}}"#;
    let c = Client::new(&ConnectionSettings {
        url: fake(move |_| http("200 OK", "application/json", seam)).url,
        ..ConnectionSettings::default()
    })
    .unwrap();
    assert_eq!(c.query_range(&q(), &Progress::new()).unwrap().series[0].values, vec![1.0, 2.0, 3.0]);
}

#[test]
fn a_header_value_a_request_cannot_carry_is_named() {
    let s = ConnectionSettings { headers: vec![("X-Scope-OrgID".into(), "bad\u{7}value".into())], ..ConnectionSettings::default() };
    let e = Client::new(&s).err().unwrap().to_string();
    assert!(e.contains("X-Scope-OrgID"), "{e}");
}
