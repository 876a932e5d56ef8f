//! `headroom bench big`: the big inputs a user may point Headroom at, each run as the
//! user would run it (this program's own binary, in a child process), with its wall time
//! and peak memory (the child's resident high-water mark, from the kernel):
//!
//! - a directory of many series (`forecast DIR --horizon 12 --out-dir D`);
//! - one very long series (`forecast FILE --horizon 12 --out F`);
//! - one large `query_range` answer from a loopback server
//!   (`import prometheus … --step 1m --out F`), against the size of the answer.
//!
//! The inputs are generated here, deterministically: daily and weekly shape, trend,
//! noise and the odd spike, a different level and amplitude per series.

use crate::time::{DAY_MS, MINUTE_MS, push_rfc3339};
use anyhow::{Context, bail};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// What to generate and run.
#[derive(Debug, Clone)]
pub struct BigSettings {
    /// Series in the directory.
    pub series: usize,
    /// Points per series in the directory.
    pub points: usize,
    /// Points of the one long series (1-minute steps).
    pub long_points: usize,
    /// Size of the Prometheus answer, MiB.
    pub answer_mib: usize,
    /// Which parts to run (`many`, `long`, `prometheus`); all when empty.
    pub only: Vec<String>,
    /// Where to write the inputs and outputs, kept afterwards (default: a temporary
    /// directory, removed).
    pub keep: Option<std::path::PathBuf>,
}

const START_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

/// Runs the parts asked for and prints their figures.
///
/// # Errors
/// The inputs cannot be written, or a run fails (its standard error is shown).
pub fn run(settings: &BigSettings) -> anyhow::Result<()> {
    let wants = |part: &str| settings.only.is_empty() || settings.only.iter().any(|o| o == part);
    for o in &settings.only {
        if !["many", "long", "prometheus"].contains(&o.as_str()) {
            bail!("--only {o}: the parts are many, long and prometheus");
        }
    }
    let exe = std::env::current_exe().context("finding this program's binary")?;
    let temp = tempfile::tempdir()?;
    let dir = match &settings.keep {
        Some(keep) => {
            std::fs::create_dir_all(keep).with_context(|| format!("creating {}", keep.display()))?;
            keep.clone()
        }
        None => temp.path().to_path_buf(),
    };
    let dir = dir.as_path();
    crate::outln!("bench big: this binary ({}), in child processes, on {} threads", exe.display(), rayon::current_num_threads());
    if wants("many") {
        let input = dir.join("many");
        std::fs::create_dir(&input)?;
        let t = Instant::now();
        let mut bytes = 0;
        for i in 0..settings.series {
            let path = input.join(format!("host-{i:04}.csv"));
            bytes += write_series(&path, i as u64, settings.points, 5 * MINUTE_MS)?;
        }
        crate::outln!(
            "  many: {} series x {} points at 5m ({:.0} MiB of CSV, written in {:.1} s)",
            settings.series,
            settings.points,
            bytes as f64 / 1048576.0,
            t.elapsed().as_secs_f64()
        );
        let out = dir.join("many-out");
        let r = forecast_run(&exe, &input, "--out-dir", &out)?;
        let written = std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0);
        crate::outln!("    forecast DIR --horizon 12 --out-dir D (defaults otherwise): {r}, {written} forecasts written");
        if settings.keep.is_none() {
            std::fs::remove_dir_all(&input)?;
        }
    }
    if wants("long") {
        let path = dir.join("long.csv");
        let bytes = write_series(&path, 7, settings.long_points, MINUTE_MS)?;
        crate::outln!("  long: one series of {} points at 1m ({:.0} MiB of CSV)", settings.long_points, bytes as f64 / 1048576.0);
        let r = forecast_run(&exe, &path, "--out", &dir.join("long-out.csv"))?;
        crate::outln!("    forecast FILE --horizon 12 --out F (defaults otherwise): {r}");
        if settings.keep.is_none() {
            std::fs::remove_file(&path)?;
        }
    }
    if wants("prometheus") {
        prometheus(&exe, dir, settings.answer_mib)?;
    }
    Ok(())
}

/// A generated `timestamp,value` CSV of `n` points; returns its size in bytes.
fn write_series(path: &Path, seed: u64, n: usize, step_ms: i64) -> anyhow::Result<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let level = rng.random_range(10.0..60.0);
    let amplitude = rng.random_range(0.1..0.4) * level;
    let trend = rng.random_range(-0.2..0.5) * level / n as f64;
    let mut file = BufWriter::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?);
    let mut line = String::with_capacity(64);
    let mut bytes = 0u64;
    line.push_str("timestamp,value\n");
    for i in 0..n {
        let t = START_MS + i as i64 * step_ms;
        let day = ((t % DAY_MS) as f64 / DAY_MS as f64) * std::f64::consts::TAU;
        let weekend = if ((t / DAY_MS) + 4) % 7 >= 5 { -0.3 * amplitude } else { 0.0 };
        let noise = (rng.random::<f64>() - 0.5) * 0.1 * level;
        let spike = if rng.random::<f64>() < 0.0005 { level } else { 0.0 };
        let v = (level + amplitude * (day - 2.0).sin() + weekend + trend * i as f64 + noise + spike).max(0.0);
        push_rfc3339(&mut line, t);
        line.push_str(&format!(",{v:.3}\n"));
        bytes += line.len() as u64;
        file.write_all(line.as_bytes())?;
        line.clear();
    }
    file.flush()?;
    Ok(bytes)
}

struct Measured {
    secs: f64,
    peak_mib: f64,
}

impl std::fmt::Display for Measured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1} s wall, {:.0} MiB peak memory", self.secs, self.peak_mib)
    }
}

/// `headroom forecast INPUT --horizon 12 OUT_FLAG OUT`, measured.
fn forecast_run(exe: &Path, input: &Path, out_flag: &str, out: &Path) -> anyhow::Result<Measured> {
    measure(exe, &["forecast".as_ref(), input.as_os_str(), "--horizon".as_ref(), "12".as_ref(), out_flag.as_ref(), out.as_os_str()])
}

/// Runs `exe args` and follows its peak resident set: the kernel's high-water mark
/// (`VmHWM` in /proc/PID/status), read every 5 ms until the child exits, so any peak
/// before the last read is seen.
fn measure(exe: &Path, args: &[&std::ffi::OsStr]) -> anyhow::Result<Measured> {
    let t = Instant::now();
    let mut child = Command::new(exe).args(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().context("starting headroom")?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut stderr = child.stderr.take().context("no stderr")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let mut peak_kib = 0u64;
    let status = loop {
        if let Some(kib) = std::fs::read_to_string(&status_file).ok().as_deref().and_then(high_water_kib) {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let secs = t.elapsed().as_secs_f64();
    let err = reader.join().unwrap_or_default();
    if !status.success() {
        bail!("headroom {} failed ({status}): {}", args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" "), err.trim());
    }
    if peak_kib == 0 {
        bail!("could not read the child's memory from {status_file}");
    }
    Ok(Measured { secs, peak_mib: peak_kib as f64 / 1024.0 })
}

/// `VmHWM` of a /proc/PID/status text, in KiB.
fn high_water_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One `query_range` answer of about `mib` MiB served from 127.0.0.1, imported.
fn prometheus(exe: &Path, dir: &Path, mib: usize) -> anyhow::Result<()> {
    const POINTS: usize = 10_000; // one chunk at --step 1m
    let per_series = answer_series(0, POINTS, &mut std::io::sink())?;
    let series = ((mib as u64) << 20).div_ceil(per_series).max(1) as usize;
    let mut counter = Counter(0);
    write_answer(series, POINTS, &mut counter)?;
    let size = counter.0;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let server = std::thread::spawn(move || -> anyhow::Result<usize> {
        let mut served = 0;
        // Serves every request with the same answer until the client is done.
        listener.set_nonblocking(false)?;
        for stream in listener.incoming() {
            let stream = stream?;
            let mut reader = std::io::BufReader::new(stream.try_clone()?);
            let mut request_line = String::new();
            reader.read_line(&mut request_line)?;
            if request_line.starts_with("QUIT") {
                break;
            }
            let mut line = String::new();
            while reader.read_line(&mut line)? > 2 {
                line.clear();
            }
            let mut out = BufWriter::with_capacity(1 << 16, stream);
            write!(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n")?;
            write_answer(series, POINTS, &mut out)?;
            out.flush()?;
            served += 1;
        }
        Ok(served)
    });
    let mut start = String::new();
    push_rfc3339(&mut start, START_MS);
    let mut end = String::new();
    push_rfc3339(&mut end, START_MS + (POINTS as i64 - 1) * MINUTE_MS);
    let out = dir.join("prometheus.csv");
    let url = format!("http://127.0.0.1:{port}");
    let args: Vec<&std::ffi::OsStr> = vec![
        "import".as_ref(),
        "prometheus".as_ref(),
        "--url".as_ref(),
        url.as_ref(),
        "--query".as_ref(),
        "node_cpu_utilisation".as_ref(),
        "--start".as_ref(),
        start.as_ref(),
        "--end".as_ref(),
        end.as_ref(),
        "--step".as_ref(),
        "1m".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ];
    let r = measure(exe, &args);
    // Ends the server's accept loop.
    if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
        let _ = s.write_all(b"QUIT\r\n");
    }
    let served = server.join().map_err(|_| anyhow::anyhow!("the test server failed"))??;
    let r = r?;
    let size_mib = size as f64 / 1048576.0;
    crate::outln!(
        "  prometheus: one query_range answer of {size_mib:.0} MiB ({series} series x {POINTS} samples) from 127.0.0.1, {served} request(s)"
    );
    crate::outln!("    import prometheus --step 1m --out F: {r} = {:.2}x the answer", r.peak_mib / size_mib);
    Ok(())
}

/// Counts the bytes written to it.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The whole answer: `series` series of `points` samples each.
fn write_answer(series: usize, points: usize, out: &mut impl Write) -> std::io::Result<()> {
    out.write_all(br#"{"status":"success","data":{"resultType":"matrix","result":["#)?;
    for s in 0..series {
        if s > 0 {
            out.write_all(b",")?;
        }
        answer_series(s, points, out)?;
    }
    out.write_all(b"]}}")
}

/// One series of the answer; returns its size in bytes.
fn answer_series(s: usize, points: usize, out: &mut impl Write) -> std::io::Result<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(s as u64);
    let mut text = format!(r#"{{"metric":{{"__name__":"node_cpu_utilisation","instance":"host-{s:05}:9100","job":"node"}},"values":["#);
    let level = rng.random_range(0.1..0.6);
    for i in 0..points {
        let t = START_MS / 1000 + i as i64 * 60;
        let day = ((t * 1000 % DAY_MS) as f64 / DAY_MS as f64) * std::f64::consts::TAU;
        let v = (level + 0.1 * day.sin() + 0.02 * rng.random::<f64>()).clamp(0.0, 1.0);
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!("[{t},\"{v:.6}\"]"));
    }
    text.push_str("]}");
    out.write_all(text.as_bytes())?;
    Ok(text.len() as u64)
}
