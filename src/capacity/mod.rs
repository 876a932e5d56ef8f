//! Capacity questions over a forecast: when is each threshold crossed (as a range of
//! dates from the bands), how likely is a breach by a date, how much headroom is left,
//! and what capacity keeps the forecast peak under a target utilisation.

use crate::forecast::Forecast;
use crate::forecast::paths::{FirstPassage, RUNWAY_PATHS, RUNWAY_SEED, for_each_path, prior_chance};
use crate::series::Series;
use serde::{Deserialize, Serialize};

/// A named threshold level of a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// `warning`, `critical`, `emergency`, or the value as typed.
    pub label: String,
    /// The level, in the series' unit.
    pub value: f64,
}

impl Threshold {
    /// The threshold as a reader sees it: its name and level ("warning 65.0 %"), or the
    /// level alone where the name is the number typed ("165", not "165 165").
    pub fn text(&self, unit: crate::series::Unit) -> String {
        let level = unit.format(self.value);
        if self.label.trim().parse::<f64>().is_ok() { level } else { format!("{} {level}", self.label) }
    }
}

/// Default thresholds by kind: CPU 65/80/90 %, memory 70/85/95 %, disk 75/85/92 %
/// (percent series); other series have none until the user gives them.
pub fn default_thresholds(series: &Series) -> Vec<Threshold> {
    if !series.unit.is_percent_like() {
        return Vec::new();
    }
    let name = series.name.to_ascii_lowercase();
    let levels = if name.contains("mem") {
        [70.0, 85.0, 95.0]
    } else if name.contains("disk") || name.contains("fs") || name.contains("volume") {
        [75.0, 85.0, 92.0]
    } else {
        [65.0, 80.0, 90.0]
    };
    ["warning", "critical", "emergency"]
        .iter()
        .zip(levels)
        .map(|(l, v)| Threshold { label: (*l).into(), value: series.unit.from_percent(v) })
        .collect()
}

/// The numbers in a typed list such as `65, 80, 90` or `65%, 80%` (anything else is
/// skipped).
pub fn parse_values(text: &str) -> Vec<f64> {
    text.split(',').filter_map(|t| t.trim().trim_end_matches('%').trim_end().parse().ok()).collect()
}

/// Thresholds from plain values (`65,80,90`), labelled by their value.
pub fn thresholds_from_values(values: &[f64]) -> Vec<Threshold> {
    values.iter().map(|v| Threshold { label: crate::series::unit::plain_number(*v), value: *v }).collect()
}

/// Thresholds typed for `series` (`65,80,90`), labelled as typed: in the series' own
/// unit, except on a 0–1 ratio series, where they are percent (80 means 0.8) unless
/// every one lies in (0, 1]: `0.8,0.9,1` are ratios already (a 1 % utilisation alarm
/// is no capacity threshold, a full one is).
pub fn thresholds_for(series: &Series, values: &[f64]) -> Vec<Threshold> {
    let as_ratios = series.unit == crate::series::Unit::Ratio && values.iter().all(|v| *v > 0.0 && *v <= 1.0);
    values
        .iter()
        .map(|v| Threshold {
            label: crate::series::unit::plain_number(*v),
            value: if as_ratios { *v } else { series.unit.from_percent(*v) },
        })
        .collect()
}

/// A probability in whole percent, never rounded to a certainty it is not: "<1 %" for a
/// chance that would round to 0 (0.3 % printed "0 %"), ">99 %" for one that would round
/// to 100. The window and the PDF both print it.
pub fn chance_text(p: f64) -> String {
    let percent = (100.0 * p).round();
    if p > 0.0 && percent < 1.0 {
        "<1 %".into()
    } else if p < 1.0 && percent > 99.0 {
        ">99 %".into()
    } else {
        format!("{percent:.0} %")
    }
}

/// Thresholds typed for `series` ([`thresholds_for`]) and what the user may not expect
/// of them ([`threshold_warnings`]): what the plan and `runway` read from `--thresholds`.
pub fn typed_thresholds(series: &Series, values: &[f64]) -> (Vec<Threshold>, Vec<crate::warning::Warning>) {
    let thresholds = thresholds_for(series, values);
    let warnings = threshold_warnings(series, &thresholds);
    (thresholds, warnings)
}

/// What a user typing `thresholds` for `series` may not expect: on a percent series
/// whose values all lie in 0–1 (a ratio its name does not say is one, so its thresholds
/// are read as percent of its own unit), a threshold over 1 can never be reached — `80` typed for
/// 80 % of a `disk_usage` series at 0.32–0.57 said a probability of 0 and nothing more.
pub fn threshold_warnings(series: &Series, thresholds: &[Threshold]) -> Vec<crate::warning::Warning> {
    // Only a series read as percent of something in 0–1 cannot pass 1: a rate or a
    // count at 0.05–0.95 may well reach 1.2.
    if series.unit == crate::series::Unit::Ratio || !series.unit.is_percent_like() {
        return Vec::new();
    }
    let finite = || series.values.iter().copied().filter(|v| v.is_finite());
    let in_unit_interval = finite().next().is_some() && finite().all(|v| (0.0..=1.0).contains(&v));
    let past: Vec<&str> = thresholds.iter().filter(|t| t.value > 1.0).map(|t| t.label.as_str()).collect();
    if !in_unit_interval || past.is_empty() {
        return Vec::new();
    }
    vec![crate::warning::Warning::new(
        series.display_name(),
        format!(
            "its values all lie between 0 and 1, but its name does not say it is a ratio, so thresholds are read as percent and {} can never be reached; for 80 % give 0.8",
            past.join(", ")
        ),
    )]
}

/// When a threshold is crossed, read from the forecast's sample paths: the quantiles of
/// the first-crossing time and the probability of a crossing within the horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Crossing {
    /// The threshold.
    pub threshold: Threshold,
    /// The median first-crossing time (UTC ms); `None`: half the paths or more never
    /// reach it within the horizon. With the three dates, the forecast's first step when
    /// history already stands at or past it ([`Crossing::already`]): its crossing is now.
    pub median_ms: Option<i64>,
    /// The (100 − level)/2 % quantile of the first-crossing time: the earliest plausible
    /// date.
    pub earliest_ms: Option<i64>,
    /// The (100 + level)/2 % quantile: the latest plausible date (`None`: plausibly
    /// never within the horizon).
    pub latest_ms: Option<i64>,
    /// The level the range comes from, in percent.
    pub level: f64,
    /// Probability that the forecast reaches the threshold at some step within the
    /// horizon: the share of sample paths that do, weighed by the evidence behind them
    /// ([`crate::forecast::paths::prior_weight`]). What the breach bench measures against
    /// the held-out values; where history already stands past the threshold, what is
    /// shown is [`Crossing::chance`] (1), not this.
    pub probability: f64,
    /// The last value of history is already at or above it.
    pub already: bool,
}

impl Crossing {
    /// The chance of being at or past the threshold within the horizon: 1 when history
    /// already is.
    pub fn chance(&self) -> f64 {
        if self.already { 1.0 } else { self.probability }
    }
}

/// The runway to each threshold at `level` (e.g. 95: dates are the 2.5 %, 50 % and
/// 97.5 % quantiles of the first-crossing time), from the forecast's sample paths
/// ([`crate::forecast::paths`]), the same paths `simulate` replays.
pub fn runway(series: &Series, forecast: &Forecast, thresholds: &[Threshold], level: f64) -> Vec<Crossing> {
    let mut passages = vec![FirstPassage::default(); thresholds.len()];
    for_each_path(forecast, RUNWAY_PATHS, RUNWAY_SEED, |p| {
        for (fp, t) in passages.iter_mut().zip(thresholds) {
            fp.add(p, t.value);
        }
    });
    let weight = forecast.dependence.evidence_weight();
    let prior = PriorInputs::of(series, forecast);
    let reached = prior.history_max.max(prior.point_max);
    let last_value = prior.last;
    let level = if level > 0.0 && level < 100.0 { level } else { 95.0 };
    let date = |step: Option<usize>| step.map(|i| forecast.timestamp(i));
    thresholds
        .iter()
        .zip(passages)
        .map(|(t, fp)| {
            let already = last_value.is_some_and(|v| v >= t.value);
            let fp = fp.with_prior(weight, prior_chance(already, t.value <= reached));
            // Already past: crossed now, whatever the paths do after (a forecast that
            // starts below the last value read 0.29 and a crossing hours away for a
            // threshold the series stood past).
            let quantile = |q: f64| if already { Some(0) } else { fp.quantile(q) };
            Crossing {
                threshold: t.clone(),
                median_ms: date(quantile(0.5)),
                earliest_ms: date(quantile((100.0 - level) / 200.0)),
                latest_ms: date(quantile((100.0 + level) / 200.0)),
                level,
                probability: fp.probability(),
                already,
            }
        })
        .collect()
}

/// What [`runway`]'s prior reads of a series and its forecast: the prior gives a
/// threshold up to the highest level the series has been at or its point forecast
/// reaches even odds, and one the last value stands past is reached ([`prior_chance`]).
/// Values past the sentinel limit aside: sentinels are not levels the series reached
/// (the forecast took them as missing).
#[derive(Debug, Clone, Copy)]
pub struct PriorInputs {
    /// The highest value of history (`-inf` when none).
    pub history_max: f64,
    /// The highest value of the point forecast (`-inf` when none).
    pub point_max: f64,
    /// The last value of history.
    pub last: Option<f64>,
}

impl PriorInputs {
    /// Read from `series` and its `forecast`.
    pub fn of(series: &Series, forecast: &Forecast) -> Self {
        let limit = crate::forecast::sentinel_limit(series).unwrap_or(f64::INFINITY);
        let highest = |v: &[f64]| v.iter().copied().filter(|x| x.is_finite() && x.abs() <= limit).fold(f64::NEG_INFINITY, f64::max);
        PriorInputs {
            history_max: highest(&series.values),
            point_max: forecast.point.iter().copied().filter(|v| v.is_finite()).fold(f64::NEG_INFINITY, f64::max),
            last: series.values.iter().rev().find(|v| !v.is_nan() && v.abs() <= limit).copied(),
        }
    }
}

/// Peak forecast against a capacity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Headroom {
    /// The median forecast's peak over the horizon and when.
    pub peak_median: f64,
    /// When the median peaks (UTC ms).
    pub peak_median_ms: i64,
    /// The band's upper edge at its peak.
    pub peak_upper: f64,
    /// The capacity compared against.
    pub capacity: f64,
    /// `1 - peak_upper / capacity`: the share of capacity left at the plausible peak
    /// (negative when the peak exceeds it).
    pub headroom: f64,
    /// Capacity needed to keep the plausible peak at `target_utilisation`.
    pub required_capacity: f64,
    /// The target utilisation used (0 to 1).
    pub target_utilisation: f64,
}

/// Headroom of `forecast` against `capacity`, and the capacity needed to keep the peak
/// of the `level` band at `target_utilisation` (0 to 1).
pub fn headroom(forecast: &Forecast, capacity: f64, level: f64, target_utilisation: f64) -> Option<Headroom> {
    let (i, &peak_median) = forecast.point.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    let upper = forecast.band(level).or_else(|| forecast.widest()).map_or(&forecast.point, |b| &b.upper);
    let peak_upper = upper.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let target = target_utilisation.clamp(0.01, 1.0);
    Some(Headroom {
        peak_median,
        peak_median_ms: forecast.timestamp(i),
        peak_upper,
        capacity,
        headroom: if capacity > 0.0 { 1.0 - peak_upper / capacity } else { f64::NAN },
        required_capacity: peak_upper / target,
        target_utilisation: target,
    })
}

/// Rounds a required capacity up to whole units of `increment` (instances, 0.5 cores,
/// 1 GiB, 100 GiB of disk).
pub fn round_up(required: f64, increment: f64) -> f64 {
    if increment <= 0.0 { required } else { (required / increment).ceil() * increment }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::Band;

    #[test]
    fn a_threshold_reads_as_its_name_and_level_or_its_level_alone() {
        let named = Threshold { label: "warning".into(), value: 65.0 };
        assert_eq!(named.text(crate::series::Unit::Percent), "warning 65.0 %");
        let typed = Threshold { label: "165".into(), value: 165.0 };
        assert_eq!(typed.text(crate::series::Unit::None), "165");
    }

    #[test]
    fn thresholds_a_unit_interval_series_cannot_reach_are_said() {
        let series = |name: &str, unit: crate::series::Unit, values: Vec<f64>| Series {
            name: name.into(),
            labels: Default::default(),
            unit,
            start_ms: 0,
            step_ms: 3_600_000,
            values,
        };
        let t = thresholds_from_values(&[60.0, 0.8]);
        // A disk usage at 0.32–0.57 read as percent: 60 can never be reached, 0.8 can.
        let w = threshold_warnings(&series("disk_usage", crate::series::Unit::Percent, vec![0.32, 0.57, f64::NAN]), &t);
        assert_eq!(w.len(), 1);
        assert!(w[0].message.contains("60 can never") && w[0].message.contains("give 0.8"), "{}", w[0].message);
        // A ratio series reads 60 as 60 %; a series past 1 has no such doubt; a rate in
        // 0–1 may pass 1.
        assert!(threshold_warnings(&series("jobs_per_second", crate::series::Unit::None, vec![0.05, 0.95]), &t).is_empty());
        assert!(threshold_warnings(&series("cpu_ratio", crate::series::Unit::Ratio, vec![0.3, 0.5]), &t).is_empty());
        assert!(threshold_warnings(&series("disk", crate::series::Unit::Percent, vec![30.0, 57.0]), &t).is_empty());
    }

    fn line_forecast() -> Forecast {
        let point: Vec<f64> = (0..100).map(|i| 50.0 + i as f64).collect();
        let bands =
            vec![Band { level: 95.0, lower: point.iter().map(|p| p - 10.0).collect(), upper: point.iter().map(|p| p + 10.0).collect() }];
        Forecast::from_parts("x", 1000, 10, point, bands, "line")
    }

    /// A percent series stepped every 10 ms from 0, as the forecasts here continue it.
    fn cpu(values: Vec<f64>) -> Series {
        Series { name: "cpu".into(), labels: Default::default(), unit: crate::series::Unit::Percent, start_ms: 0, step_ms: 10, values }
    }

    #[test]
    fn crossings_come_as_a_range() {
        // A line rising 1 per step with a ±10 band (95 %) and errors fully persistent:
        // each path is the line shifted by one draw e ~ N(0, (10/1.96)²), so it first
        // reaches 80.5 at step ceil(30.5 - e): P(T ≤ s) = P(e ≥ 30.5 - s). The median is
        // step 31 (P = 0.54; step 30 has 0.46), the 2.5 % quantile step 21 (e ≥ 9.5:
        // 0.031; step 20 has 0.020), the 97.5 % quantile step 41.
        let mut f = line_forecast();
        f.dependence = crate::forecast::paths::Dependence::persistent(1e15, true);
        let s = cpu(vec![40.0; 10]);
        let r = runway(&s, &f, &thresholds_from_values(&[80.5, 500.0]), 95.0);
        let step = |t: Option<i64>| t.map(|t| (t - 1000) / 10);
        assert_eq!(step(r[0].median_ms), Some(31));
        assert_eq!(step(r[0].earliest_ms), Some(21));
        assert_eq!(step(r[0].latest_ms), Some(41));
        assert!(r[0].probability > 0.99);
        assert_eq!(r[1].median_ms, None, "never within the horizon is an answer");
        assert!(r[1].probability < 1e-6);
    }

    #[test]
    fn a_threshold_history_stands_past_is_crossed_now() {
        // History ends at 60; the forecast holds 40 with a ±10 band (95 %) for ten steps,
        // so few paths reach 55. The last value is past 55: its crossing is the first
        // step (1000 ms), and the chance is 1, in the CSV as in the window; the paths' own
        // share stays what they say.
        let point = vec![40.0; 10];
        let band = Band { level: 95.0, lower: vec![30.0; 10], upper: vec![50.0; 10] };
        let f = Forecast::from_parts("x", 1000, 10, point, vec![band], "flat");
        let s = cpu(vec![40.0, 50.0, 60.0]);
        let r = runway(&s, &f, &thresholds_from_values(&[55.0]), 95.0);
        assert!(r[0].already);
        assert_eq!((r[0].earliest_ms, r[0].median_ms, r[0].latest_ms), (Some(1000), Some(1000), Some(1000)));
        assert_eq!(r[0].chance(), 1.0);
        assert!(r[0].probability < 0.5, "the paths stay below it: {}", r[0].probability);
        let row = crate::export::csv::runway_row("cpu", &r[0]);
        assert!(row.ends_with(",1.0000"), "{row}");
    }

    #[test]
    fn headroom_and_required_capacity() {
        let h = headroom(&line_forecast(), 200.0, 95.0, 0.8).unwrap();
        assert_eq!(h.peak_median, 149.0);
        assert_eq!(h.peak_upper, 159.0);
        assert!((h.headroom - (1.0 - 159.0 / 200.0)).abs() < 1e-12);
        assert!((h.required_capacity - 159.0 / 0.8).abs() < 1e-9);
        assert_eq!(round_up(198.75, 100.0), 200.0);
    }
}

/// An instance type (vertical size) and its price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceType {
    /// Name, e.g. `m6i.xlarge`.
    pub name: String,
    /// Cores.
    pub cores: f64,
    /// Memory in GiB.
    pub memory_gib: f64,
    /// Price per hour.
    pub hourly: f64,
}

/// One way to serve a peak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sizing {
    /// The type (or `custom 2.5 cores / 9 GiB`).
    pub name: String,
    /// Instances needed.
    pub count: u32,
    /// Cores per instance.
    pub cores: f64,
    /// GiB per instance.
    pub memory_gib: f64,
    /// Price per hour for all of them.
    pub hourly: f64,
}

/// The ways to serve a peak of `cores` and `memory_gib` at `target` utilisation, cheapest
/// first: each listed type with the count it needs, and, with `custom` prices per
/// core-hour and GiB-hour, one custom size rounded up to 0.5 core and 1 GiB steps.
pub fn rightsize(cores: f64, memory_gib: f64, target: f64, types: &[InstanceType], custom: Option<(f64, f64)>) -> Vec<Sizing> {
    let target = target.clamp(0.01, 1.0);
    let (need_c, need_m) = (cores.max(0.0) / target, memory_gib.max(0.0) / target);
    let mut out: Vec<Sizing> = types
        .iter()
        .filter(|t| t.cores > 0.0 && t.memory_gib > 0.0)
        .map(|t| {
            let count = ((need_c / t.cores).ceil().max((need_m / t.memory_gib).ceil())).max(1.0) as u32;
            Sizing { name: t.name.clone(), count, cores: t.cores, memory_gib: t.memory_gib, hourly: f64::from(count) * t.hourly }
        })
        .collect();
    if let Some((core_hour, gib_hour)) = custom {
        let c = round_up(need_c, 0.5).max(0.5);
        let m = round_up(need_m, 1.0).max(1.0);
        out.push(Sizing {
            name: format!("custom {c} cores / {m} GiB"),
            count: 1,
            cores: c,
            memory_gib: m,
            hourly: c * core_hour + m * gib_hour,
        });
    }
    out.sort_by(|a, b| a.hourly.total_cmp(&b.hourly).then_with(|| a.name.cmp(&b.name)));
    out
}

/// An order of storage: when to order, when it must be in place, the size after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageOrder {
    /// Order by (UTC ms): `needed_by` minus the lead time.
    pub order_by_ms: i64,
    /// The first step the band's upper edge would pass the target without it.
    pub needed_by_ms: i64,
    /// The size once it is in place.
    pub new_size: f64,
}

/// Most orders [`storage_plan`] lists: more means the increment is far too small for the
/// growth (the caller says so rather than list them).
pub const MAX_STORAGE_ORDERS: usize = 1000;

/// Storage grown in `increment`s that take `lead_ms` to arrive: the orders needed to keep
/// the upper edge of the `level` band at or under `target` × size over the horizon. Stops
/// at [`MAX_STORAGE_ORDERS`].
pub fn storage_plan(forecast: &Forecast, size: f64, increment: f64, lead_ms: i64, target: f64, level: f64) -> Vec<StorageOrder> {
    let upper = forecast.band(level).or_else(|| forecast.widest()).map_or(&forecast.point, |b| &b.upper);
    let mut orders = Vec::new();
    if increment <= 0.0 || target <= 0.0 {
        return orders;
    }
    // The size after k orders, multiplied rather than summed (no drift over many orders).
    let after = |k: usize| size + k as f64 * increment;
    for (i, v) in upper.iter().enumerate() {
        while *v > target * after(orders.len()) && orders.len() < MAX_STORAGE_ORDERS {
            let t = forecast.timestamp(i);
            orders.push(StorageOrder { order_by_ms: t - lead_ms, needed_by_ms: t, new_size: after(orders.len() + 1) });
        }
    }
    orders
}

#[cfg(test)]
mod sizing_tests {
    use super::*;
    use crate::forecast::Band;

    #[test]
    fn rightsizing_picks_the_cheapest_fit() {
        let types = vec![
            InstanceType { name: "large".into(), cores: 2.0, memory_gib: 8.0, hourly: 0.10 },
            InstanceType { name: "xlarge".into(), cores: 4.0, memory_gib: 16.0, hourly: 0.19 },
        ];
        // 6 cores and 20 GiB at 75 %: 8 cores and 26.7 GiB needed.
        let s = rightsize(6.0, 20.0, 0.75, &types, Some((0.03, 0.004)));
        let xl = s.iter().find(|s| s.name == "xlarge").unwrap();
        assert_eq!(xl.count, 2, "max(8 / 4, ceil(26.7 / 16))");
        let l = s.iter().find(|s| s.name == "large").unwrap();
        assert_eq!(l.count, 4);
        let custom = s.iter().find(|s| s.name.starts_with("custom")).unwrap();
        assert_eq!((custom.cores, custom.memory_gib), (8.0, 27.0), "0.5 core and 1 GiB steps");
        assert!(s.windows(2).all(|w| w[0].hourly <= w[1].hourly), "cheapest first");
    }

    #[test]
    fn storage_is_ordered_a_lead_time_ahead() {
        let point: Vec<f64> = (0..100).map(|i| 500.0 + 10.0 * i as f64).collect();
        let bands = vec![Band { level: 95.0, lower: point.clone(), upper: point.clone() }];
        let f = Forecast::from_parts("disk", 0, 1000, point, bands, "line");
        // 1000 now, +200 per order, kept at or under 80 %: 800 is passed at step 31.
        let orders = storage_plan(&f, 1000.0, 200.0, 5000, 0.8, 95.0);
        assert_eq!(orders[0], StorageOrder { order_by_ms: 31_000 - 5000, needed_by_ms: 31_000, new_size: 1200.0 });
        assert_eq!(orders[1].needed_by_ms, 47_000, "960 passed at step 47");
        assert!(orders.iter().all(|o| o.order_by_ms == o.needed_by_ms - 5000));
    }
}
