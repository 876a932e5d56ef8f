//! CSV import: every accepted form, and every bad input with its line and column.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use headroom::error::Location;
use headroom::import::Import;
use headroom::import::csv::{CsvOptions, parse_csv, read_csv};
use headroom::time::{MINUTE_MS, format_rfc3339, zone};
use std::path::Path;

fn parse(text: &str) -> headroom::Result<Import> {
    parse_with(text, &CsvOptions::default())
}

fn parse_with(text: &str, options: &CsvOptions) -> headroom::Result<Import> {
    parse_csv(text.as_bytes(), &Location::file(Path::new("web.csv")), "web", options)
}

fn err(text: &str) -> String {
    match parse(text) {
        Ok(i) => panic!("expected an error, got {} series", i.series.len()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn long_form_timestamp_value() {
    let imp = parse("timestamp,value\n2026-01-05T10:00:00Z,1.5\n2026-01-05T10:05:00Z,2\n2026-01-05T10:10:00Z,3\n").unwrap();
    let s = &imp.series[0];
    assert_eq!(s.name, "web");
    assert_eq!(s.step_ms, 5 * MINUTE_MS);
    assert_eq!(format_rfc3339(s.start_ms), "2026-01-05T10:00:00Z");
    assert_eq!(s.values, vec![1.5, 2.0, 3.0]);
    assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
}

#[test]
fn long_form_with_series_and_labels() {
    let text = "timestamp,series,value,host,dc\n\
                1767607200,cpu,10,a,eu\n1767607200,cpu,20,b,eu\n\
                1767607500,cpu,11,a,eu\n1767607500,cpu,21,b,eu\n\
                1767607800,cpu,12,a,eu\n1767607800,cpu,22,b,eu\n";
    let imp = parse(text).unwrap();
    assert_eq!(imp.series.len(), 2);
    assert_eq!(imp.series[0].display_name(), "cpu{dc=\"eu\", host=\"a\"}");
    assert_eq!(imp.series[1].values, vec![20.0, 21.0, 22.0]);
}

#[test]
fn wide_form() {
    let imp = parse("timestamp,web-1,web-2\n2026-01-05 10:00:00,1,4\n2026-01-05 10:01:00,2,5\n2026-01-05 10:02:00,3,6\n").unwrap();
    let names: Vec<_> = imp.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["web-1", "web-2"]);
    assert_eq!(imp.series[1].values, vec![4.0, 5.0, 6.0]);
    assert_eq!(imp.series[0].step_ms, MINUTE_MS);
}

#[test]
fn grafana_panel_csv() {
    // Grafana's "Download CSV": quoted header, a Time column, one column per series.
    let text = "\"Time\",\"web-1 cpu\",\"web-2 cpu\"\n\
                \"2026-01-05 10:00:00\",\"12.5\",\"13\"\n\
                \"2026-01-05 10:00:30\",\"12.7\",\"\"\n\
                \"2026-01-05 10:01:00\",\"12.9\",\"13.4\"\n";
    let imp = parse(text).unwrap();
    assert_eq!(imp.series.len(), 2);
    assert_eq!(imp.series[0].name, "web-1 cpu");
    assert_eq!(imp.series[0].values, vec![12.5, 12.7, 12.9]);
    assert!(imp.series[1].values[1].is_nan(), "empty cell is missing");
    assert!(imp.warnings.iter().any(|w| w.message.contains("missing")), "{:?}", imp.warnings);
}

#[test]
fn semicolon_and_tab_delimiters_bom_and_crlf() {
    let semi = "\u{feff}timestamp;value\r\n2026-01-05T10:00:00Z;1\r\n2026-01-05T10:05:00Z;2\r\n";
    assert_eq!(parse(semi).unwrap().series[0].values, vec![1.0, 2.0]);
    let tab = "time\tcpu\n2026-01-05T10:00:00Z\t1\n2026-01-05T10:05:00Z\t2\n";
    assert_eq!(parse(tab).unwrap().series[0].name, "cpu");
}

#[test]
fn quoted_fields_and_missing_values() {
    let text = "timestamp,series,value\n\
                2026-01-05T10:00:00Z,\"api, eu\",1\n\
                2026-01-05T10:05:00Z,\"api, eu\",NaN\n\
                2026-01-05T10:10:00Z,\"api, eu\",\n\
                2026-01-05T10:15:00Z,\"api, eu\",4\n";
    let imp = parse(text).unwrap();
    let s = &imp.series[0];
    assert_eq!(s.name, "api, eu");
    assert_eq!(s.values.len(), 4);
    assert!(s.values[1].is_nan() && s.values[2].is_nan(), "NaN and empty are missing, never 0");
    assert!(imp.warnings.iter().any(|w| w.message.contains("2 empty or NaN cells")), "{:?}", imp.warnings);
}

#[test]
fn timestamp_forms_agree() {
    let forms = [
        "2026-01-05T10:00:00Z\n2026-01-05T10:05:00Z",
        "2026-01-05T12:00:00+02:00\n2026-01-05T12:05:00+02:00",
        "2026-01-05 10:00:00.000\n2026-01-05 10:05:00.000",
        "1767607200\n1767607500",
        "1767607200000\n1767607500000",
    ];
    for f in forms {
        let rows: Vec<String> = f.lines().enumerate().map(|(i, t)| format!("{t},{i}")).collect();
        let imp = parse(&format!("timestamp,value\n{}\n", rows.join("\n"))).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(format_rfc3339(imp.series[0].start_ms), "2026-01-05T10:00:00Z", "{f}");
        assert_eq!(imp.series[0].step_ms, 5 * MINUTE_MS, "{f}");
    }
}

#[test]
fn naive_timestamps_in_a_named_zone() {
    let opts = CsvOptions { time_zone: zone("America/New_York").unwrap(), series: None };
    let imp = parse_with("timestamp,value\n2026-07-01 08:00:00,1\n2026-07-01 08:05:00,2\n", &opts).unwrap();
    assert_eq!(format_rfc3339(imp.series[0].start_ms), "2026-07-01T12:00:00Z");
}

/// Wall-clock times in Europe/Berlin across the autumn change (2026-10-25: 03:00 CEST
/// goes back to 02:00 CET): 02:00–02:55 come twice, and the rows in order say which is
/// which. Every reading is kept, five minutes apart in UTC, none a duplicate or a gap;
/// in long form too, where two series share each timestamp.
#[test]
fn the_repeated_hour_of_an_autumn_change_is_read_in_row_order() {
    let mut wide = String::from("timestamp,value\n");
    let mut long = String::from("timestamp,series,value\n");
    let mut n = 0;
    let mut times: Vec<(u32, u32)> = (0..60).step_by(5).map(|m| (1, m)).collect();
    times.extend((0..60).step_by(5).map(|m| (2, m))); // CEST
    times.extend((0..60).step_by(5).map(|m| (2, m))); // CET, again
    times.extend((0..60).step_by(5).map(|m| (3, m)));
    for (h, m) in &times {
        wide.push_str(&format!("2026-10-25 {h:02}:{m:02}:00,{n}\n"));
        long.push_str(&format!("2026-10-25 {h:02}:{m:02}:00,a,{n}\n2026-10-25 {h:02}:{m:02}:00,b,{n}\n"));
        n += 1;
    }
    // Long form grouped by series: each series goes back to its start, not into a fold.
    let mut grouped = String::from("timestamp,series,value\n");
    for name in ["a", "b"] {
        for (k, (h, m)) in times.iter().enumerate() {
            grouped.push_str(&format!("2026-10-25 {h:02}:{m:02}:00,{name},{k}\n"));
        }
    }
    let opts = CsvOptions { time_zone: zone("Europe/Berlin").unwrap(), series: None };
    for text in [&wide, &long, &grouped] {
        let imp = parse_with(text, &opts).unwrap();
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
        for s in &imp.series {
            assert_eq!(s.step_ms, 5 * MINUTE_MS);
            assert_eq!(s.values, (0..n).map(f64::from).collect::<Vec<_>>(), "every reading, in order");
            // 01:00 CEST is 23:00 UTC the day before.
            assert_eq!(format_rfc3339(s.start_ms), "2026-10-24T23:00:00Z");
        }
    }
    // Written newest first (as many exports are), the hour comes in reverse: the first
    // run through it is the later one. Read in file order, both runs fell on the same
    // instants, twelve readings were lost as duplicates and no warning said why.
    let newest_first = |text: &str| {
        let mut lines: Vec<&str> = text.lines().collect();
        let header = lines.remove(0);
        lines.reverse();
        format!("{header}\n{}\n", lines.join("\n"))
    };
    // Hourly, the hour comes twice as the same wall time: 02:00 CEST, then 02:00 CET.
    let hourly: String = ["01:00", "02:00", "02:00", "03:00", "04:00"]
        .iter()
        .enumerate()
        .map(|(k, t)| format!("2026-10-25 {t}:00,{k}\n"))
        .fold(String::from("timestamp,value\n"), |a, b| a + &b);
    for text in [&hourly, &newest_first(&hourly)] {
        let imp = parse_with(text, &opts).unwrap();
        assert!(imp.warnings.iter().all(|w| w.message.contains("sorted")), "{:?}", imp.warnings);
        let s = &imp.series[0];
        assert_eq!((s.step_ms, s.values.clone()), (60 * MINUTE_MS, vec![0.0, 1.0, 2.0, 3.0, 4.0]), "every hour, in order");
    }
    for text in [newest_first(&wide), newest_first(&long)] {
        let imp = parse_with(&text, &opts).unwrap();
        assert!(imp.warnings.iter().all(|w| w.message.contains("sorted")), "only the order is noted: {:?}", imp.warnings);
        for s in &imp.series {
            assert_eq!(s.values, (0..n).map(f64::from).collect::<Vec<_>>(), "every reading, in order");
            assert_eq!(format_rfc3339(s.start_ms), "2026-10-24T23:00:00Z");
        }
    }
}

#[test]
fn unsorted_duplicates_and_gaps_are_repaired_and_reported() {
    let text = "timestamp,value\n\
                2026-01-05T10:10:00Z,3\n2026-01-05T10:00:00Z,1\n2026-01-05T10:05:00Z,2\n\
                2026-01-05T10:05:00Z,2.5\n2026-01-05T10:30:00Z,7\n2026-01-05T10:35:00Z,8\n";
    let imp = parse(text).unwrap();
    let s = &imp.series[0];
    assert_eq!(s.values.len(), 8);
    assert_eq!(s.values[1], 2.5, "the last duplicate wins");
    assert!(s.values[3].is_nan() && s.values[5].is_nan());
    let w: Vec<String> = imp.warnings.iter().map(ToString::to_string).collect();
    assert!(w.iter().any(|m| m.starts_with("web: ") && m.contains("sorted")), "{w:?}");
    assert!(w.iter().any(|m| m.contains("duplicate") && m.contains("2026-01-05 10:05 UTC")), "{w:?}");
    assert!(w.iter().any(|m| m.contains("1 gap (3 missing slots") && m.contains("10:15 UTC to 2026-01-05 10:25 UTC")), "{w:?}");
}

#[test]
fn series_filter() {
    let opts = CsvOptions { series: Some("b".into()), ..CsvOptions::default() };
    let imp = parse_with("timestamp,a,b\n1767607200,1,2\n1767607500,1,3\n", &opts).unwrap();
    assert_eq!(imp.series.len(), 1);
    assert_eq!(imp.series[0].name, "b");
    let none = CsvOptions { series: Some("zzz".into()), ..CsvOptions::default() };
    let e = parse_with("timestamp,a,b\n1767607200,1,2\n1767607500,1,3\n", &none).unwrap_err();
    assert!(e.to_string().contains("no series named \"zzz\""), "{e}");
}

#[test]
fn empty_file() {
    assert_eq!(err(""), "web.csv:1: the file is empty: expected a header such as timestamp,value");
    assert!(err("\n\n").starts_with("web.csv:1: the file is empty"));
}

#[test]
fn header_only() {
    assert_eq!(err("timestamp,value\n"), "web.csv:2: the file has a header but no data rows");
}

#[test]
fn non_numeric_cell() {
    let mut text = String::from("timestamp,value\n");
    for i in 0..1100 {
        text.push_str(&format!("{},{}\n", 1_767_607_200 + i * 300, if i == 1046 { "abc".to_string() } else { i.to_string() }));
    }
    assert_eq!(err(&text), "web.csv:1048:2: \"abc\" is not a number");
}

#[test]
fn bad_timestamp() {
    let e = err("timestamp,value\n2026-01-05T10:00:00Z,1\n2026-01-05T1O:05:00Z,2\n2026-01-05T10:10:00Z,3\n");
    assert!(e.starts_with("web.csv:3:1: \"2026-01-05T1O:05:00Z\" is not a timestamp"), "{e}");
    let e = err("timestamp,value\n2026-02-30 10:00:00,1\n2026-03-01 10:00:00,2\n");
    assert_eq!(e, "web.csv:2:1: \"2026-02-30 10:00:00\" is not a valid date-time");
}

#[test]
fn mixed_timestamp_formats() {
    let e = err("timestamp,value\n2026-01-05T10:00:00Z,1\n2026-01-05T10:05:00Z,2\n1767608100,3\n");
    assert_eq!(e, "web.csv:4:1: mixed timestamp formats: \"1767608100\" is Unix epoch seconds, but line 2 uses RFC 3339 with an offset");
}

#[test]
fn one_row() {
    assert_eq!(
        err("timestamp,value\n2026-01-05T10:00:00Z,1\n"),
        "web.csv:2: the file has only one data row: at least two timestamps are needed to infer the step"
    );
}

#[test]
fn all_missing_column() {
    let e = err("timestamp,cpu,mem\n2026-01-05T10:00:00Z,1,\n2026-01-05T10:05:00Z,2,NaN\n");
    assert_eq!(e, "web.csv:1:3: column \"mem\" has no values: every cell is empty or NaN");
}

#[test]
fn ragged_row_and_single_column() {
    let e = err("timestamp,value\n2026-01-05T10:00:00Z,1\n2026-01-05T10:05:00Z,2,9\n");
    assert!(e.starts_with("web.csv:3:3: expected 2 fields, found 3"), "{e}");
    let e = err("timestamp\n2026-01-05T10:00:00Z\n");
    assert!(e.starts_with("web.csv:1: found one column"), "{e}");
}

#[test]
fn missing_file_names_the_path() {
    let e = read_csv(Path::new("/nonexistent/dir/web.csv"), &CsvOptions::default()).unwrap_err();
    assert!(e.to_string().starts_with("/nonexistent/dir/web.csv: "), "{e}");
}

#[test]
fn sample_data_imports_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let imp = headroom::pipeline::load(&[dir], &CsvOptions::default()).unwrap();
    assert_eq!(imp.series.len(), 5);
    let cpu = imp.series.iter().find(|s| s.name == "web_cpu_percent").unwrap();
    assert_eq!(cpu.unit, headroom::series::Unit::Percent);
    assert_eq!(cpu.len(), headroom::sample_data::POINTS);
    assert_eq!(cpu.missing(), 36, "the 3-hour gap");
    assert!(
        imp.warnings.iter().any(|w| w.series == "web_cpu_percent" && w.message.contains("1 gap (36 missing slots")),
        "{:?}",
        imp.warnings
    );
}

#[test]
fn infinite_cells_are_missing_with_a_warning() {
    let imp = parse("timestamp,value\n1767607200,1\n1767607500,inf\n1767607800,-inf\n1767608100,4\n").unwrap();
    let s = &imp.series[0];
    assert!(s.values[1].is_nan() && s.values[2].is_nan());
    let w: Vec<String> = imp.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(w, vec!["web: 2 infinite values treated as missing".to_string()]);
}

#[test]
fn garbage_never_panics() {
    // Deterministic junk: every result is an error or an import, never a panic.
    let alphabet: Vec<char> = "0123456789,;\t\n\r\"-:TZ. eaNinfx".chars().collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..400 {
        let len = (state % 200) as usize;
        let mut text = String::from(if state % 3 == 0 { "timestamp,value\n" } else { "" });
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            text.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        let _ = parse(&text);
    }
}

#[test]
fn a_file_cut_off_inside_a_quote_is_a_located_error_not_a_crash() {
    // The 5-byte reproducer that made polars-io 0.55.2 read out of bounds.
    let e = err("a,b\n\"");
    assert!(e.contains("web.csv:2:1") && e.contains("never ends"), "{e}");
    let e = err("timestamp,value\n2026-09-28T00:00:00Z,\"17\n2026-09-28T00:05:00Z,18\n");
    assert!(e.contains("web.csv:2:22"), "{e}");
}

#[test]
fn ratio_utilisation_is_recognised_and_said() {
    let imp = parse_csv(
        b"timestamp,value\n2026-01-05T10:00:00Z,0.32\n2026-01-05T10:05:00Z,0.41\n2026-01-05T10:10:00Z,0.38\n",
        &Location::file(Path::new("node_cpu_utilization.csv")),
        "node_cpu_utilization",
        &CsvOptions::default(),
    )
    .unwrap();
    let s = &imp.series[0];
    assert_eq!(s.unit, headroom::series::Unit::Ratio);
    assert_eq!(s.unit.format(s.values[0]), "32.0 %");
    assert!(imp.warnings.iter().any(|w| w.to_string().contains("0–1")), "{:?}", imp.warnings);
    // Thresholds typed in percent read as shares of one.
    let t = headroom::capacity::thresholds_for(s, &[80.0]);
    assert_eq!(t[0].value, 0.8);
    assert_eq!(t[0].label, "80");
    let d = headroom::capacity::default_thresholds(s);
    assert_eq!(d.iter().map(|t| t.value).collect::<Vec<_>>(), vec![0.65, 0.8, 0.9]);
}
