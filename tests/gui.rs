//! The window as a user sees it, through egui_kittest (no GPU, no display).
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use headroom::gui::HeadroomApp;
use headroom::gui::action::Action;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn sample_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-data")
}

fn open(inputs: Vec<PathBuf>) -> Harness<'static, HeadroomApp> {
    Harness::builder().with_size([1280.0, 800.0]).build_eframe(move |cc| HeadroomApp::new(cc, inputs))
}

/// Steps frames until no job runs (the jobs are real threads).
fn settle(h: &mut Harness<'static, HeadroomApp>) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        h.step();
        if !h.state().is_busy() {
            h.step();
            return;
        }
        assert!(Instant::now() < deadline, "jobs did not finish in time");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Clicks `name` in the series list (the overview has a row of the same name).
fn click_in_series_list(h: &Harness<'static, HeadroomApp>, name: &str) {
    h.get_all_by_label(name).find(|n| n.rect().left() < 250.0).expect("the series list entry").click();
}

#[test]
fn opens_on_the_sample_data_forecast_with_chart_and_controls() {
    let mut h = open(vec![sample_dir()]);
    settle(&mut h);
    h.get_by_label_contains("Chart: ").click();
    h.run_steps(2);
    let app = h.state();
    assert_eq!(app.model.entries.len(), 5, "{:?}", app.model.error);
    assert!(app.model.entries.iter().all(|e| matches!(e.forecast, Some(Ok(_)))), "every sample series is forecast");
    // The controls, found by their labels.
    h.get_by_label("Horizon");
    h.get_by_label("Seasonality");
    h.get_by_label("Open CSV…");
    h.get_by_label("Refit");
    // The chart of the first series with its model and legend.
    assert!(!h.get_all_by_label("api_requests_per_second").collect::<Vec<_>>().is_empty());
    h.get_by_label_contains("Model: ");
    // The evidence: the backtest table with the chosen model, and the model picker.
    h.get_by_label_contains(&format!("Backtest: {} windows of", headroom::forecast::DEFAULT_FOLDS));
    h.get_by_label_contains("(chosen)");
    h.get_by_label_contains("checked window by window");
    h.get_by_label("Model");
    h.get_by_label("History");
    h.get_by_label("Forecast");
    // Each band has its checkbox and its legend entry.
    assert_eq!(h.get_all_by_label("80 % band").count(), 2);
    assert_eq!(h.get_all_by_label("95 % band").count(), 2);
    // The status line reports the work and the warnings.
    h.get_by_label_contains("Recommended: ");
    h.get_by_label_contains("warnings");
}

#[test]
fn the_overview_lists_every_series_most_urgent_first_and_opens_one_on_click() {
    let mut h = open(vec![sample_dir()]);
    settle(&mut h);
    assert!(h.state().overview, "the window opens on the overview");
    let app = h.state();
    let rows = app.model.overview(&app.state.thresholds, "", headroom::gui::model::OverviewSort::Urgency);
    assert_eq!(rows.len(), 5);
    // Worked from the rows' own runway: urgency is the chance of the most severe
    // threshold first, so no later row is more likely to pass its top threshold.
    for pair in rows.windows(2) {
        assert!(pair[0].urgency() >= pair[1].urgency(), "{} before {}", pair[0].name, pair[1].name);
    }
    // The sample's CPU series is the only one with thresholds (65/80/90 % by kind) and
    // a chance of reaching them: it heads the table.
    assert_eq!(rows[0].name, "web_cpu_percent");
    assert_eq!(rows[0].crossings.len(), 3);
    assert!(rows[0].crossings[0].probability > 0.0);
    assert!(rows[1..].iter().all(|r| r.crossings.is_empty()));
    let peak = rows[0].peak.unwrap();
    assert!((rows[0].headroom.unwrap() - (90.0 - peak)).abs() < 1e-9, "headroom is the top threshold less the peak");
    h.get_by_label_contains("5 of 5 series");
    h.get_by_label("Threshold 3");
    // A filter narrows it.
    let filtered = app.model.overview(&app.state.thresholds, "bytes", headroom::gui::model::OverviewSort::Name);
    assert_eq!(filtered.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["db_disk_used_bytes", "orders_memory_bytes"]);
    // A click on the row's name (in the table, right of the series list) opens its chart.
    let cell = h.get_all_by_label("db_disk_used_bytes").find(|n| n.rect().left() > 255.0).expect("the row in the table");
    cell.click();
    h.step();
    h.step();
    let app = h.state();
    assert!(!app.overview, "the click opened the chart");
    assert_eq!(app.model.selected().unwrap().series.name, "db_disk_used_bytes");
    h.get_by_label("Overview").click();
    h.step();
    assert!(h.state().overview);
}

#[test]
fn choosing_a_preset_horizon_refits() {
    let mut h = open(vec![sample_dir().join("web_cpu_percent.csv")]);
    settle(&mut h);
    h.get_by_label("2d").click();
    h.step();
    settle(&mut h);
    let f = h.state().model.entries[0].forecast.clone().unwrap().unwrap();
    assert_eq!(f.point.len(), 576, "2 days at 5 minutes");
    // Unticking a band is a display choice: the chart shows the 80 % band alone, the
    // forecast (and so its paths, runway and risk) stays as it was, both bands in it.
    h.get_all_by_label("95 % band").next().unwrap().click();
    h.step();
    settle(&mut h);
    assert_eq!(h.state().levels(), vec![80.0]);
    let g = h.state().model.entries[0].forecast.clone().unwrap().unwrap();
    assert_eq!(g.bands.len(), 2);
    assert!(g == f, "no refit for a band shown or hidden");
}

#[test]
fn selecting_a_series_shows_its_chart() {
    let mut h = open(vec![sample_dir()]);
    settle(&mut h);
    click_in_series_list(&h, "web_cpu_percent");
    h.step();
    h.step();
    assert_eq!(h.state().model.selected().unwrap().series.name, "web_cpu_percent");
    // The chart's header reads "last 43.2 % at 14:05" (a model such as "naive (the last
    // hour's median)" in the series list holds "last " too).
    let header = h
        .query_all_by_label_contains("last ")
        .map(|n| format!("{n:?}"))
        .find(|d| d.contains("value: \"last "))
        .expect("the chart's header shows the last value");
    assert!(header.contains(" %"), "the value is shown with its unit: {header}");
}

/// A series with gaps (and a lone point between two of them) draws its chart: a gap's
/// `NaN` on a line made egui panic in a debug build as the chart opened.
#[test]
fn a_series_with_gaps_draws_its_chart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gappy_cpu_percent.csv");
    let mut csv = String::from("timestamp,value\n");
    for i in 0..864i64 {
        // Two hours missing on the first and the last day, a lone sample inside a gap, and
        // two single missing samples (a lone `NaN` between values is what egui tripped on).
        if (100..124).contains(&i) || (700..724).contains(&i) || ((780..810).contains(&i) && i != 795) || i == 840 || i == 850 {
            continue;
        }
        csv.push_str(&format!("{},{}\n", 1_767_225_600 + i * 300, 40.0 + 10.0 * ((i % 288) as f64 / 288.0 * std::f64::consts::TAU).sin()));
    }
    std::fs::write(&path, csv).unwrap();
    let mut h = open(vec![path]);
    settle(&mut h);
    click_in_series_list(&h, "gappy_cpu_percent");
    for _ in 0..4 {
        h.step();
    }
    assert_eq!(h.state().model.selected().unwrap().series.name, "gappy_cpu_percent");
    assert!(h.state().model.selected().unwrap().series.values.iter().any(|v| v.is_nan()), "the gaps stay gaps");
    // 864 five-minute slots, 79 of them missing: the list counts the samples and the slots.
    assert!(h.query_by_label_contains("785 points on 864 slots").is_some(), "the series list counts samples, not slots");
}

#[test]
fn a_failed_import_leaves_what_was_loaded_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "timestamp,value\n2026-01-05T10:00:00Z,1\n2026-01-05T10:05:00Z,x\n").unwrap();
    let mut h = open(vec![sample_dir().join("jobs_queue_depth.csv")]);
    settle(&mut h);
    let before: Vec<String> = h.state().model.entries.iter().map(|e| e.series.display_name()).collect();
    h.state_mut().apply(Action::Load(vec![bad]));
    settle(&mut h);
    let app = h.state();
    let after: Vec<String> = app.model.entries.iter().map(|e| e.series.display_name()).collect();
    assert_eq!(before, after);
    assert!(matches!(app.model.entries[0].forecast, Some(Ok(_))), "the forecast is kept too");
    let err = app.model.error.clone().unwrap();
    assert_eq!(err, "import failed, nothing changed: bad.csv:3:2: \"x\" is not a number");
    h.get_by_label_contains("bad.csv:3:2");
}

/// A load that switches the horizon to the step's preset (monthly values under a 14-day
/// horizon) says so, and claims no forecasting when a setting stops the fit.
#[test]
fn a_horizon_switch_on_load_claims_no_forecast_a_bad_setting_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let monthly = dir.path().join("monthly_orders.csv");
    let mut text = String::from("timestamp,value\n");
    for m in 0..36 {
        text.push_str(&format!("{}-{:02}-01T00:00:00Z,{}\n", 2023 + m / 12, m % 12 + 1, 100 + m));
    }
    std::fs::write(&monthly, &text).unwrap();
    let again = dir.path().join("monthly_refunds.csv");
    std::fs::write(&again, text).unwrap();
    let mut h = open(vec![monthly]);
    settle(&mut h);
    assert!(h.state().model.error.is_none() && h.state().model.entries[0].forecast.is_some());
    h.state_mut().state.horizon = "14d".into();
    h.state_mut().state.periods = "bogus".into();
    h.state_mut().apply(Action::Load(vec![again]));
    settle(&mut h);
    let app = h.state();
    assert!(app.model.status.contains("horizon set to") && !app.model.status.contains("forecasting"), "{}", app.model.status);
    assert!(app.model.error.clone().unwrap().starts_with("Seasonality"), "{:?}", app.model.error);
}

#[test]
fn a_bad_horizon_is_an_error_not_a_crash() {
    let mut h = open(vec![sample_dir().join("jobs_queue_depth.csv")]);
    settle(&mut h);
    h.state_mut().state.horizon = "soon".into();
    h.state_mut().apply(Action::Refit);
    settle(&mut h);
    let err = h.state().model.error.clone().unwrap();
    assert!(err.starts_with("horizon: \"soon\""), "{err}");
}

#[test]
fn forcing_a_model_refits_with_it() {
    let mut h = open(vec![sample_dir().join("web_cpu_percent.csv")]);
    settle(&mut h);
    h.state_mut().state.model = "seasonal-naive".into();
    h.state_mut().apply(Action::Refit);
    settle(&mut h);
    let f = h.state().model.entries[0].forecast.clone().unwrap().unwrap();
    assert!(f.model.starts_with("seasonal naive"), "{}", f.model);
    assert_eq!(f.evidence.unwrap().scores.len(), 1, "only the forced model is backtested");
}

#[test]
fn importing_from_prometheus_adds_series_and_a_failure_changes_nothing() {
    use headroom::bench::local_prometheus::{History, LocalPrometheus, WebConfig};
    let step = 5 * 60_000;
    let start = (headroom::time::now_ms() - 2 * 86_400_000) / step * step;
    let history = vec![History {
        metric: "api_requests_per_second".into(),
        labels: vec![("job".into(), "api".into())],
        start_ms: start,
        step_ms: step,
        values: (0..500).map(|i| 100.0 + (i % 12) as f64).collect(),
    }];
    let server = LocalPrometheus::start(&history, &WebConfig::default(), None, None).unwrap();
    let mut h = open(vec![sample_dir().join("jobs_queue_depth.csv")]);
    settle(&mut h);
    h.get_by_label("Connect to Prometheus…").click();
    h.step();
    h.step();
    assert!(h.state().prometheus.open, "the dialog opens");
    h.run_steps(4);
    h.get_by_label("URL");
    h.get_by_label("Query (PromQL)");
    h.get_by_label("last 30d");
    // A server that is not there: an error, and nothing loaded is lost.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    h.state_mut().state.prometheus.connection.url = format!("http://127.0.0.1:{port}");
    h.state_mut().state.prometheus.queries = vec!["api_requests_per_second".into()];
    h.state_mut().state.prometheus.range = "7d".into();
    h.state_mut().apply(Action::PrometheusImport);
    settle(&mut h);
    assert_eq!(h.state().model.entries.len(), 1);
    let err = h.state().model.error.clone().unwrap();
    assert!(err.contains("connection refused"), "{err}");
    // The real one.
    h.state_mut().state.prometheus.connection.url = server.url.clone();
    h.state_mut().apply(Action::PrometheusMetricNames);
    settle(&mut h);
    assert!(h.state().prometheus.names.contains(&"api_requests_per_second".to_string()));
    h.state_mut().apply(Action::PrometheusImport);
    settle(&mut h);
    let names: Vec<String> = h.state().model.entries.iter().map(|e| e.series.display_name()).collect();
    assert_eq!(names, vec!["jobs_queue_depth".to_string(), "api_requests_per_second{job=\"api\"}".to_string()]);
    assert_eq!(h.state().model.entries[1].series.len(), 500);
    assert!(h.state().model.entries.iter().all(|e| matches!(e.forecast, Some(Ok(_)))), "the new series is forecast too");
}

#[test]
fn thresholds_and_scenarios_on_the_sample() {
    let mut h = open(vec![sample_dir()]);
    settle(&mut h);
    // Runway lines for the CPU's default thresholds.
    click_in_series_list(&h, "web_cpu_percent");
    h.run_steps(3);
    h.get_by_label("Thresholds");
    // The runway table: a header naming the horizon, one row per default CPU threshold.
    h.get_by_label_contains("P(reached within");
    for label in ["warning 65.0 %", "critical 80.0 %", "emergency 90.0 %"] {
        assert!(h.get_all_by_label(label).count() >= 2, "{label}: in the chart's key and in the runway table");
    }
    // The sample is planned on opening: the scenarios have replayed, one is recommended.
    let app = h.state();
    assert_eq!(app.scenarios.outcomes.len(), 8, "{:?}", app.model.error);
    assert!(app.scenarios.recommended.is_some());
    h.get_by_label("recommended");
    h.get_by_label("Cost / month");
    h.get_by_label("P(saturation)");
    // And they run again on demand.
    h.get_by_label("Run scenarios").click();
    h.step();
    settle(&mut h);
    assert_eq!(h.state().scenarios.outcomes.len(), 8);
}

#[test]
fn save_export_and_reopen_a_plan_from_the_window() {
    use headroom::gui::action::ExportKind;
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(vec![sample_dir()]);
    settle(&mut h);
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label_contains("Save Plan…");
    h.get_by_label_contains("Export PDF…");
    h.get_by_label_contains("Export KEDA Schedule…");
    let plan_path = dir.path().join("review.headroom.ron");
    h.state_mut().apply(Action::ExportTo(ExportKind::Plan, plan_path.clone()));
    settle(&mut h);
    assert_eq!(h.state().model.status, format!("Saved to {}", plan_path.display()));
    h.state_mut().apply(Action::ExportTo(ExportKind::Pdf, dir.path().join("review.pdf")));
    settle(&mut h);
    assert!(lopdf::Document::load(dir.path().join("review.pdf")).is_ok());
    h.state_mut().apply(Action::ExportTo(ExportKind::Rules, dir.path().join("rules.yml")));
    settle(&mut h);
    assert!(std::fs::read_to_string(dir.path().join("rules.yml")).unwrap().contains("groups:"));
    // The AWS policy: JSON carries no comments, so what it cannot carry goes to the
    // warnings panel and the status line stays one short line.
    let before = h.state().model.warnings.len();
    h.state_mut().apply(Action::ExportTo(ExportKind::Aws, dir.path().join("aws.json")));
    settle(&mut h);
    let status = h.state().model.status.clone();
    assert!(status.contains("aws.json") && status.contains("warnings panel") && status.len() < 160, "{status}");
    let notes: Vec<String> = h.state().model.warnings[before..].iter().map(ToString::to_string).collect();
    assert!(notes.iter().any(|n| n.starts_with("aws.json: ") && n.contains("MinSize")), "{notes:?}");
    // The schedule as KEDA triggers, from the same window.
    h.state_mut().apply(Action::ExportTo(ExportKind::Keda, dir.path().join("keda.yml")));
    settle(&mut h);
    let keda = std::fs::read_to_string(dir.path().join("keda.yml")).unwrap();
    assert!(keda.contains("kind: ScaledObject") && keda.contains("start: 0 9 * * 1,2,3,4,5"), "{keda}");
    // A failed export says so and writes nothing.
    h.state_mut().apply(Action::ExportTo(ExportKind::Pdf, dir.path().join("no/such/dir/x.pdf")));
    settle(&mut h);
    assert!(h.state().model.error.clone().unwrap().starts_with("export failed"));
    // Reopen the plan in a fresh window: same series, same forecasts, same scenarios.
    let before: Vec<_> = h.state().model.entries.iter().map(|e| (e.series.display_name(), e.forecast.clone())).collect();
    let outcomes = h.state().scenarios.outcomes.len();
    let mut h2 = open(vec![sample_dir().join("jobs_queue_depth.csv")]);
    settle(&mut h2);
    // The seasonality field comes back as the plan was made (auto), whatever it held.
    h2.state_mut().state.periods = "1d,7d".into();
    h2.state_mut().apply(Action::OpenPlanFrom(plan_path));
    settle(&mut h2);
    assert_eq!(h2.state().state.periods, "auto");
    let after: Vec<_> = h2.state().model.entries.iter().map(|e| (e.series.display_name(), e.forecast.clone())).collect();
    assert_eq!(before, after);
    assert_eq!(h2.state().scenarios.outcomes.len(), outcomes);
    assert!(h2.state().model.status.starts_with("Opened the plan"));
}

#[test]
fn the_scenario_form_edits_the_toml() {
    let mut h = open(vec![sample_dir().join("api_requests_per_second.csv")]);
    settle(&mut h);
    h.get_by_label("Edit (TOML)").click();
    h.run_steps(3);
    h.get_by_label("Per instance (demand units)");
    h.get_by_label("Price per instance-hour");
    // Switch the first scenario's policy from static to an HPA through the form.
    h.get_by_label("Policy").click();
    h.run_steps(2);
    h.get_by_label("hpa").click();
    h.run_steps(3);
    let file = headroom::simulate::ScenarioFile::parse(&h.state().state.scenarios, "edited").unwrap();
    assert_eq!(file.scenario[0].policy.kind(), "hpa");
}

#[test]
fn undo_restores_a_threshold_and_redo_puts_it_back() {
    use egui::Key;
    let mut h = open(vec![sample_dir().join("web_cpu_percent.csv")]);
    settle(&mut h);
    h.state_mut().apply(Action::Select(0));
    h.run_steps(3);
    assert!(h.get_all_by_label("warning 65.0 %").next().is_some());
    h.get_by_label("Thresholds").focus();
    h.step();
    h.get_by_label("Thresholds").type_text("70,85");
    h.step();
    // Typing is one step once the field is left, not one per letter.
    h.key_press(Key::Enter);
    h.run_steps(3);
    assert_eq!(h.state().state.thresholds.get("web_cpu_percent").map(String::as_str), Some("70,85"));
    assert!(h.state().title().contains('•'), "an edit marks the review unsaved: {}", h.state().title());
    assert!(h.query_all_by_label_contains("65.0 %").next().is_none(), "the runway follows the typed thresholds");
    h.key_press_modifiers(egui::Modifiers::COMMAND, Key::Z);
    h.run_steps(3);
    assert_eq!(h.state().state.thresholds.get("web_cpu_percent"), None, "Ctrl+Z: back to the defaults by kind");
    assert!(h.get_all_by_label("warning 65.0 %").next().is_some());
    assert_eq!(h.state().model.status, "Undid thresholds");
    // Redo from the Edit menu, named for what it redoes.
    h.get_by_label("Edit").click();
    h.run_steps(2);
    h.get_by_label_contains("Redo thresholds").click();
    h.run_steps(3);
    assert_eq!(h.state().state.thresholds.get("web_cpu_percent").map(String::as_str), Some("70,85"));
    // A forecast setting undone refits with it.
    h.get_by_label("2d").click();
    h.step();
    settle(&mut h);
    assert_eq!(h.state().model.entries[0].forecast.clone().unwrap().unwrap().point.len(), 576);
    h.state_mut().apply(Action::Undo);
    settle(&mut h);
    assert_eq!(h.state().state.horizon, "14d");
    assert_eq!(h.state().model.entries[0].forecast.clone().unwrap().unwrap().point.len(), 14 * 288, "refitted at 14 days");
}

#[test]
fn the_title_names_the_plan_after_save_and_marks_unsaved_changes() {
    use headroom::gui::action::ExportKind;
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(vec![sample_dir()]);
    settle(&mut h);
    let title = h.state().title();
    assert!(title.contains("sample-data") && title.ends_with(" — Headroom"), "{title}");
    h.state_mut().apply(Action::Refit);
    settle(&mut h);
    assert!(h.state().title().contains('•'), "{}", h.state().title());
    h.state_mut().apply(Action::ExportTo(ExportKind::Plan, dir.path().join("review.headroom.ron")));
    settle(&mut h);
    assert_eq!(h.state().title(), "review.headroom.ron — Headroom");
    // The plan opened in a new window carries the name too.
    let mut h2 = open(vec![dir.path().join("review.headroom.ron")]);
    settle(&mut h2);
    assert_eq!(h2.state().title(), "review.headroom.ron — Headroom");
}

#[test]
fn the_light_theme_applies_from_the_view_menu() {
    let mut h = open(vec![sample_dir().join("jobs_queue_depth.csv")]);
    settle(&mut h);
    h.get_by_label("View").click();
    h.run_steps(2);
    h.get_by_label("Light").click();
    h.run_steps(3);
    assert_eq!(h.state().state.theme, "light");
    assert_eq!(h.ctx.theme(), egui::Theme::Light);
    assert!(!h.ctx.global_style().visuals.dark_mode, "light visuals are in use");
    h.get_by_label("View").click();
    h.run_steps(2);
    h.get_by_label("Dark").click();
    h.run_steps(3);
    assert!(h.ctx.global_style().visuals.dark_mode);
}

/// Opens the Prometheus dialog with three metric names loaded for completion.
fn open_dialog_with_names(h: &mut Harness<'static, HeadroomApp>) {
    h.state_mut().apply(Action::ConnectPrometheus);
    h.run_steps(2);
    h.state_mut().prometheus.names =
        ["node_cpu_seconds_total", "node_memory_MemAvailable_bytes", "up"].into_iter().map(String::from).collect();
}

#[test]
fn a_completion_chip_is_clicked_and_fills_the_query() {
    let mut h = open(vec![sample_dir().join("jobs_queue_depth.csv")]);
    settle(&mut h);
    open_dialog_with_names(&mut h);
    h.state_mut().state.prometheus.queries = vec!["sum(rate(node_cp".into()];
    h.state_mut().prometheus.complete(0);
    h.run_steps(2);
    assert!(h.query_all_by_label("node_memory_MemAvailable_bytes").next().is_none(), "only names that match are offered");
    // The query box does not have the focus: the chip must still take the click.
    h.get_by_label("node_cpu_seconds_total").click();
    h.run_steps(2);
    assert_eq!(h.state().state.prometheus.queries[0], "sum(rate(node_cpu_seconds_total");
    assert!(h.query_all_by_label("node_cpu_seconds_total").next().is_none(), "a complete name offers nothing more");
}

#[test]
fn the_prometheus_preview_counts_series_and_points_and_the_import_takes_the_picked_ones() {
    use headroom::bench::local_prometheus::{History, LocalPrometheus, WebConfig};
    let step = 5 * 60_000;
    let start = (headroom::time::now_ms() - 2 * 86_400_000) / step * step;
    let history: Vec<History> = ["a", "b"]
        .iter()
        .map(|inst| History {
            metric: "api_requests_per_second".into(),
            labels: vec![("job".into(), "api".into()), ("instance".into(), (*inst).into())],
            start_ms: start,
            step_ms: step,
            values: (0..500).map(|i| 100.0 + (i % 12) as f64).collect(),
        })
        .collect();
    let server = LocalPrometheus::start(&history, &WebConfig::default(), None, None).unwrap();
    let mut h = open(vec![sample_dir().join("jobs_queue_depth.csv")]);
    settle(&mut h);
    let kept = h.state().model.entries[0].forecast.clone();
    h.state_mut().apply(Action::ConnectPrometheus);
    h.state_mut().state.prometheus.connection.url = server.url.clone();
    // Label names, then values, offered from the server for the metric being typed.
    h.state_mut().state.prometheus.queries = vec!["api_requests_per_second{inst".into()];
    h.state_mut().prometheus.complete(0);
    h.run_steps(2);
    settle(&mut h);
    h.run_steps(2);
    h.get_by_label("instance").click();
    h.run_steps(2);
    assert_eq!(h.state().state.prometheus.queries[0], "api_requests_per_second{instance=\"");
    settle(&mut h);
    h.run_steps(2);
    h.get_by_label("b").click();
    h.run_steps(2);
    assert_eq!(h.state().state.prometheus.queries[0], "api_requests_per_second{instance=\"b\"");
    // The preview of the plain metric over the last 7 days.
    h.state_mut().state.prometheus.queries = vec!["api_requests_per_second".into()];
    h.state_mut().state.prometheus.range = "7d".into();
    h.get_by_label("Preview").click();
    h.step();
    settle(&mut h);
    let (preview, picked) = h.state().prometheus.preview.clone().expect("a preview");
    assert_eq!(preview.series.len(), 2, "{:?}", h.state().prometheus.preview_status);
    assert_eq!(picked, [true, true]);
    // 500 samples 5 minutes apart, at the import's automatic step for 7 days (2 m):
    // about 500 × 5/2 = 1,250 points a series.
    assert_eq!(preview.step_ms, 120_000);
    for (name, points) in &preview.series {
        assert!((1150..=1350).contains(points), "{name}: {points}");
    }
    h.get_by_label_contains("2 series · about");
    // Pick one of the two, then import: only it is added, and only it is fitted.
    h.get_by_label_contains("instance=\"b\"").click();
    h.run_steps(2);
    h.get_by_label("Import 1 picked series").click();
    h.step();
    settle(&mut h);
    let app = h.state();
    let names: Vec<String> = app.model.entries.iter().map(|e| e.series.display_name()).collect();
    assert_eq!(names, ["jobs_queue_depth", "api_requests_per_second{instance=\"a\", job=\"api\"}"], "{:?}", app.model.error);
    assert_eq!(app.model.entries[0].forecast, kept, "the series already loaded keeps its forecast");
    assert!(matches!(app.model.entries[1].forecast, Some(Ok(_))));
    // The plan records the server and the query.
    let sources = app.plan_inputs().sources;
    assert!(sources.iter().any(|s| s.starts_with(&format!("Prometheus {}: api_requests_per_second from ", server.url))), "{sources:?}");
}

#[test]
fn a_double_click_on_an_overview_row_opens_its_series() {
    let mut h = open(vec![sample_dir()]);
    settle(&mut h);
    assert!(h.state().overview);
    let model = match &h.state().model.entries.iter().find(|e| e.series.name == "jobs_queue_depth").unwrap().forecast {
        Some(Ok(f)) => f.model.clone(),
        _ => panic!("no forecast"),
    };
    let cell = h.get_all_by_label(&model).find(|n| n.rect().left() > 255.0).expect("the model cell");
    // Near its left edge: the model column runs past the window's right edge.
    let at = egui::pos2(cell.rect().left() + 8.0, cell.rect().center().y);
    // Two clicks 0.1 s apart, whatever the harness' own clock says between frames.
    let t0 = h.ctx.input(|i| i.time);
    for k in 0..2 {
        h.input_mut().time = Some(t0 + 0.1 * f64::from(k + 1));
        h.event(egui::Event::PointerMoved(at));
        for pressed in [true, false] {
            h.event(egui::Event::PointerButton { pos: at, button: egui::PointerButton::Primary, pressed, modifiers: Default::default() });
        }
        h.step();
    }
    h.input_mut().time = None;
    h.step();
    assert!(!h.state().overview, "the double-click opened the chart");
    assert_eq!(h.state().model.selected().unwrap().series.name, "jobs_queue_depth");
}

#[test]
fn completion_is_picked_with_the_keyboard() {
    let mut h = open(vec![sample_dir().join("jobs_queue_depth.csv")]);
    settle(&mut h);
    open_dialog_with_names(&mut h);
    h.run_steps(2);
    // Type into the query box: the chips follow the typing.
    h.get_by_label("Query (PromQL)").focus();
    h.step();
    h.get_by_label("Query (PromQL)").type_text("max(node_");
    h.run_steps(3);
    h.get_by_label("node_cpu_seconds_total");
    h.get_by_label("node_memory_MemAvailable_bytes");
    // ↓ moves to the second, Tab takes it; the rest of the query is left as it was.
    h.key_press(egui::Key::ArrowDown);
    h.step();
    h.key_press(egui::Key::Tab);
    h.run_steps(3);
    assert_eq!(h.state().state.prometheus.queries[0], "max(node_memory_MemAvailable_bytes");
}
