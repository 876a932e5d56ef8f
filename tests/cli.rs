//! The `headroom forecast` contract, run as a user would run it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use headroom::time::{MINUTE_MS, format_rfc3339, parse_timestamp};
use std::path::Path;
use std::process::Command;

fn headroom() -> Command {
    Command::new(env!("CARGO_BIN_EXE_headroom"))
}

/// Two weeks of `timestamp,value` at 5-minute steps, like a real monitoring export.
fn write_export(path: &Path, start_ms: i64) {
    let mut text = String::from("timestamp,value\n");
    for i in 0..(14 * 288) {
        let d = (i % 288) as f64 / 288.0 * std::f64::consts::TAU;
        let v = 50.0 + 15.0 * d.sin() + ((i * 37) % 11) as f64 * 0.4;
        text.push_str(&format!("{},{v:.2}\n", format_rfc3339(start_ms + i as i64 * 5 * MINUTE_MS)));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn forecast_contract_for_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("web.csv");
    let start = 1_767_225_600_000;
    write_export(&input, start);
    let out = dir.path().join("f.csv");
    let run = headroom().args(["forecast", input.to_str().unwrap(), "--horizon", "2d", "--out", out.to_str().unwrap()]).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("timestamp,series,forecast,lower_80,upper_80,lower_95,upper_95"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 576, "2 days at 5 minutes");
    let last_history = start + (14 * 288 - 1) * 5 * MINUTE_MS;
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), 7, "{row}");
        assert_eq!(cells[0], format_rfc3339(last_history + (i as i64 + 1) * 5 * MINUTE_MS));
        assert!(cells[0].ends_with('Z') && cells[0].len() == 20, "{}", cells[0]);
        assert_eq!(cells[1], "web");
        let v: Vec<f64> = cells[2..].iter().map(|c| c.parse().unwrap()).collect();
        assert!(v[3] <= v[1] && v[1] <= v[0] && v[0] <= v[2] && v[2] <= v[4], "{row}");
    }
}

#[test]
fn levels_and_periods_flags_shape_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("web.csv");
    write_export(&input, 1_767_225_600_000);
    let run = headroom()
        .args(["forecast", input.to_str().unwrap(), "--horizon", "12", "--level", "50,99.5", "--period", "288"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let text = String::from_utf8(run.stdout).unwrap();
    assert_eq!(text.lines().next(), Some("timestamp,series,forecast,lower_50,upper_50,lower_99.5,upper_99.5"));
    assert_eq!(text.lines().count(), 13);
}

#[test]
fn directory_in_directory_out_in_parallel() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    for name in ["a.csv", "b.csv", "c.csv"] {
        write_export(&inputs.join(name), 1_767_225_600_000);
    }
    std::fs::write(inputs.join("notes.txt"), "not a csv").unwrap();
    let out = dir.path().join("out");
    let run =
        headroom().args(["forecast", inputs.to_str().unwrap(), "--horizon", "1h", "--out-dir", out.to_str().unwrap()]).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let mut written: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    written.sort();
    assert_eq!(written, ["a.csv", "b.csv", "c.csv"]);
    let b = std::fs::read_to_string(out.join("b.csv")).unwrap();
    assert_eq!(b.lines().count(), 1 + 12);
    assert!(b.lines().nth(1).unwrap().contains(",b,"));
}

#[test]
fn bad_input_exits_non_zero_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad.csv");
    std::fs::write(&input, "timestamp,value\n2026-01-05T10:00:00Z,1\n2026-01-05T10:05:00Z,oops\n").unwrap();
    let run = headroom().args(["forecast", input.to_str().unwrap(), "--horizon", "2d"]).output().unwrap();
    assert!(!run.status.success());
    let err = String::from_utf8(run.stderr).unwrap();
    assert_eq!(err, "error: bad.csv:3:2: \"oops\" is not a number\n");
    let run = headroom().args(["forecast", input.to_str().unwrap(), "--horizon", "2x"]).output().unwrap();
    assert!(!run.status.success());
    let err = String::from_utf8(run.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--horizon"), "{err}");
}

#[test]
fn sample_data_generator_reproduces_the_committed_files() {
    let dir = tempfile::tempdir().unwrap();
    let run = headroom().args(["sample-data", "--out", dir.path().to_str().unwrap()]).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    for name in [
        "web_cpu_percent.csv",
        "api_requests_per_second.csv",
        "orders_memory_bytes.csv",
        "db_disk_used_bytes.csv",
        "jobs_queue_depth.csv",
        "README.md",
    ] {
        let a = std::fs::read(dir.path().join(name)).unwrap();
        let b = std::fs::read(committed.join(name)).unwrap();
        assert!(a == b, "{name} differs from the generator's output: run `headroom sample-data --out sample-data/`");
    }
    // Timestamps continue at 5 minutes from the documented start.
    let text = std::fs::read_to_string(committed.join("api_requests_per_second.csv")).unwrap();
    let second = text.lines().nth(2).unwrap().split(',').next().unwrap();
    assert_eq!(parse_timestamp(second, &jiff_utc()).unwrap().0, headroom::sample_data::START_MS + 5 * MINUTE_MS);
}

fn jiff_utc() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::UTC
}

/// A disk at 400 + 1 per hour for 300 hours from 2026-01-01, in `dir`.
fn disk_line(dir: &std::path::Path) -> std::path::PathBuf {
    let csv = dir.join("disk.csv");
    let mut text = String::from("timestamp,value\n");
    for i in 0..300 {
        text.push_str(&format!("{},{}\n", 1_767_225_600 + i * 3600, 400.0 + i as f64));
    }
    std::fs::write(&csv, text).unwrap();
    csv
}

#[test]
fn storage_orders_come_a_lead_time_ahead() {
    let dir = tempfile::tempdir().unwrap();
    let csv = disk_line(dir.path());
    let run = headroom()
        .arg("storage")
        .arg(&csv)
        .args(["--size", "1000", "--increment", "100", "--lead", "2d", "--target", "0.8", "--horizon", "30d"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let out = String::from_utf8(run.stdout).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "series,order_by,needed_by,new_size");
    // A noiseless +1/h line passes 800 at hour 401 (forecast step 101 after hour 299).
    let first: Vec<&str> = lines[1].split(',').collect();
    let needed = headroom::time::parse_timestamp(first[2], &jiff::tz::TimeZone::UTC).unwrap().0;
    let order = headroom::time::parse_timestamp(first[1], &jiff::tz::TimeZone::UTC).unwrap().0;
    assert_eq!(needed - order, 2 * 86_400_000);
    assert!((needed / 1000 - (1_767_225_600 + 401 * 3600)).abs() <= 3600, "{}", lines[1]);
    assert_eq!(first[3], "1100");
}

#[test]
fn storage_says_when_an_order_is_already_late() {
    // The same +1/h line, 400 to 699: with --size 800 at 0.8 (640), it passed the
    // target at hour 240, before the data ends; the first order, needed at the
    // forecast's first step, should have been placed two days before it.
    let dir = tempfile::tempdir().unwrap();
    let csv = disk_line(dir.path());
    let run = headroom()
        .arg("storage")
        .arg(&csv)
        .args(["--size", "800", "--increment", "100", "--lead", "2d", "--target", "0.8", "--horizon", "2d"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("the last value, 699, is already past --target × --size (640): the first order is late"), "{stderr}");
    assert!(stderr.contains("should have been placed by") && stderr.contains("order now"), "{stderr}");
}

/// Flags are checked before any work or file: an AWS export with no AWS scenario
/// fails before the PDF beside it is written; a storage increment far too small for the
/// growth is an error, not a thousand rows cut short; non-finite or repeated numbers are
/// refused by flag.
#[test]
fn flags_fail_before_the_work_and_name_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("disk_used_bytes.csv");
    let mut text = String::from("timestamp,value\n");
    for i in 0..(4 * 288) {
        text.push_str(&format!("{},{}\n", format_rfc3339(1_767_225_600_000 + i * 5 * MINUTE_MS), 1e9 + 1e6 * i as f64));
    }
    std::fs::write(&input, text).unwrap();
    let pdf = dir.path().join("plan.pdf");
    let run = headroom()
        .args(["plan", input.to_str().unwrap(), "--pdf", pdf.to_str().unwrap(), "--aws"])
        .arg(dir.path().join("aws.json"))
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success() && e.contains("--aws: no scenario has an AWS policy"), "{e}");
    assert!(!pdf.exists(), "nothing written before the error");
    let storage = |size: &str, increment: &str| {
        let run = headroom()
            .args(["storage", input.to_str().unwrap(), "--size", size, "--increment", increment, "--horizon", "1d"])
            .output()
            .unwrap();
        (run.status.success(), String::from_utf8_lossy(&run.stdout).into_owned(), String::from_utf8_lossy(&run.stderr).into_owned())
    };
    let (ok, _, e) = storage("1.2e9", "1");
    assert!(!ok && e.contains("1000 orders or more of --increment 1"), "{e}");
    let (ok, out, e) = storage("1.2e9", "1e8");
    assert!(ok, "{e}");
    // The fill (2.15e9 now) is past 85 % of 1.2e9: orders in whole increments, no drift.
    let sizes: Vec<&str> = out.lines().skip(1).filter_map(|l| l.rsplit(',').next()).collect();
    assert!(sizes.len() > 10 && sizes.iter().all(|s| s.ends_with("00000000") && !s.contains('.')), "{out}");
    let (ok, _, e) = storage("nan", "1e8");
    assert!(!ok && e.contains("--size: a finite size above zero"), "{e}");
    let run = headroom().args(["runway", input.to_str().unwrap(), "--thresholds", "1e9,inf"]).output().unwrap();
    assert!(String::from_utf8_lossy(&run.stderr).contains("--thresholds: \"inf\" is not a finite number"));
    let run = headroom().args(["forecast", input.to_str().unwrap(), "--horizon", "2h", "--level", "50,50"]).output().unwrap();
    assert!(String::from_utf8_lossy(&run.stderr).contains("\"50\" is given twice"), "{}", String::from_utf8_lossy(&run.stderr));
}
