//! A real Prometheus on 127.0.0.1 with history backfilled by promtool, for the
//! integration tests and `headroom bench prometheus`. Needs the `prometheus` and
//! `promtool` binaries (Debian: `apt-get install prometheus`). The server is stopped
//! when the value is dropped.

use anyhow::{Context, bail};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A series to backfill: metric name, labels, first timestamp (UTC ms), step (ms), values.
#[derive(Debug, Clone)]
pub struct History {
    /// Metric name.
    pub metric: String,
    /// Labels (besides the name).
    pub labels: Vec<(String, String)>,
    /// First sample, UTC ms (whole seconds).
    pub start_ms: i64,
    /// Step between samples, ms.
    pub step_ms: i64,
    /// The samples.
    pub values: Vec<f64>,
}

/// Writes histories as OpenMetrics text (timestamps in seconds, ascending per series,
/// series of one metric together, ending with `# EOF`).
pub fn openmetrics(histories: &[History]) -> String {
    let mut out = String::new();
    let mut metrics: Vec<&str> = histories.iter().map(|h| h.metric.as_str()).collect();
    metrics.dedup();
    for metric in metrics {
        let _ = writeln!(out, "# TYPE {metric} gauge");
        for h in histories.iter().filter(|h| h.metric == metric) {
            let labels: Vec<String> = h.labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            let head = if labels.is_empty() { metric.to_string() } else { format!("{metric}{{{}}}", labels.join(",")) };
            for (i, v) in h.values.iter().enumerate() {
                let t = (h.start_ms + i as i64 * h.step_ms) / 1000;
                let _ = writeln!(out, "{head} {v} {t}");
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

/// TLS and basic auth for the server's `--web.config.file`.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// `(user, bcrypt hash)` for basic auth.
    pub basic_auth: Option<(String, String)>,
    /// `(cert file, key file)` for https.
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// A running Prometheus.
pub struct LocalPrometheus {
    child: Child,
    /// Base URL, `http://127.0.0.1:PORT` (or https).
    pub url: String,
    /// Its working directory (data, config, logs).
    pub dir: tempfile::TempDir,
}

impl Drop for LocalPrometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

impl LocalPrometheus {
    /// Backfills `histories` and starts Prometheus on 127.0.0.1, waiting until ready.
    /// `ready_auth` is the `(user, password)` the readiness probe needs when basic auth
    /// is on; `ready_ca` the CA file when TLS is on.
    ///
    /// # Errors
    /// A missing binary, a failed backfill, or a server that never becomes ready.
    pub fn start(
        histories: &[History],
        web: &WebConfig,
        ready_auth: Option<(&str, &str)>,
        ready_ca: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let om = dir.path().join("history.om");
        std::fs::write(&om, openmetrics(histories))?;
        let data = dir.path().join("data");
        let out = Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=720h"])
            .arg(&om)
            .arg(&data)
            .output()
            .context("running promtool (Debian: apt-get install prometheus)")?;
        if !out.status.success() {
            bail!("promtool failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 15s\nscrape_configs: []\n")?;
        let port = free_port()?;
        let mut cmd = Command::new("prometheus");
        cmd.arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg("--storage.tsdb.retention.time=10y")
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("prometheus.log"))?);
        let scheme = if web.tls.is_some() { "https" } else { "http" };
        if web.basic_auth.is_some() || web.tls.is_some() {
            let mut yaml = String::new();
            if let Some((cert, key)) = &web.tls {
                let _ = writeln!(yaml, "tls_server_config:\n  cert_file: {}\n  key_file: {}", cert.display(), key.display());
            }
            if let Some((user, hash)) = &web.basic_auth {
                let _ = writeln!(yaml, "basic_auth_users:\n  {user}: '{hash}'");
            }
            let web_file = dir.path().join("web.yml");
            std::fs::write(&web_file, yaml)?;
            cmd.arg(format!("--web.config.file={}", web_file.display()));
        }
        let child = cmd.spawn().context("starting prometheus (Debian: apt-get install prometheus)")?;
        let server = LocalPrometheus { child, url: format!("{scheme}://127.0.0.1:{port}"), dir };
        server.wait_ready(ready_auth, ready_ca)?;
        Ok(server)
    }

    fn wait_ready(&self, auth: Option<(&str, &str)>, ca: Option<&Path>) -> anyhow::Result<()> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::blocking::Client::builder().timeout(Duration::from_secs(2));
        if let Some(ca) = ca {
            builder = builder.add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(ca)?)?);
        }
        let client = builder.build()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let mut req = client.get(format!("{}/-/ready", self.url));
            if let Some((u, p)) = auth {
                req = req.basic_auth(u, Some(p));
            }
            if req.send().is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default();
        bail!("prometheus did not become ready in 60 s; its log ends:\n{}", log.lines().rev().take(10).collect::<Vec<_>>().join("\n"))
    }
}

/// `headroom bench prometheus`: 100 series × 30 days at 5 minutes, backfilled into a
/// local server, then imported through the client (chunked, 4 at a time).
///
/// # Errors
/// The server cannot be started or the import fails.
pub fn bench(series: usize, days: i64) -> anyhow::Result<()> {
    use crate::import::prometheus::{Client, ConnectionSettings, RangeQuery};
    use crate::time::{DAY_MS, MINUTE_MS};
    let step = 5 * MINUTE_MS;
    let n = (days * DAY_MS / step) as usize;
    let start = (crate::time::now_ms() - (days + 1) * DAY_MS) / step * step;
    let histories: Vec<History> = (0..series)
        .map(|s| History {
            metric: "bench_cpu_percent".into(),
            labels: vec![("instance".into(), format!("host-{s:03}"))],
            start_ms: start,
            step_ms: step,
            values: (0..n).map(|i| 40.0 + ((i * 7 + s * 13) % 50) as f64).collect(),
        })
        .collect();
    let t = Instant::now();
    let server = LocalPrometheus::start(&histories, &WebConfig::default(), None, None)?;
    let setup = t.elapsed().as_secs_f64();
    let client = Client::new(&ConnectionSettings { url: server.url.clone(), ..ConnectionSettings::default() })?;
    let q = RangeQuery { query: "bench_cpu_percent".into(), start_ms: start, end_ms: start + (n as i64 - 1) * step, step_ms: Some(step) };
    let t = Instant::now();
    let import = client.query_range(&q, &crate::progress::Progress::new())?;
    let secs = t.elapsed().as_secs_f64();
    let samples: usize = import.series.iter().map(|s| s.len() - s.missing()).sum();
    crate::outln!("bench prometheus: {series} series x {days} days at 5m from a local Prometheus (backfill + start {setup:.1} s)");
    crate::outln!(
        "  import: {secs:.2} s for {} series, {samples} samples ({:.2} M samples/s), {} chunks of <= 10,000 points",
        import.series.len(),
        samples as f64 / secs / 1e6,
        crate::import::prometheus::client::chunks(q.start_ms, q.end_ms, step).len()
    );
    Ok(())
}
