//! aiops-sim generator speed, plus the preset figures (over 5 seeds) printed once before timing.
//!
//! `cargo bench --bench sim` (or `-- --test` for a quick smoke run).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::collections::HashSet;
use std::hint::black_box;

use aiops_core::Timestamp;
use aiops_core::stats::median_mad;
use aiops_sim::{
    AnomalyKind, SeriesSpec, StormSpec, incident_metrics, labelled_series, storm, topology,
};
use criterion::{Criterion, criterion_group, criterion_main};

const SEEDS: u64 = 5;

/// Prints, per preset, the mean and worst (over 5 seeds) of the storm's ground-truth figures.
fn preset_figures() {
    println!(
        "preset  services  alerts(mean/min/max)  noise%  affected/incident(mean/max)  silent-root%  gap>300s%(all fires/first fires)"
    );
    for (name, n, spec) in [
        ("small", 30, StormSpec::small()),
        ("medium", 200, StormSpec::medium()),
        ("large", 1000, StormSpec::large()),
        ("day", 1000, StormSpec::day()),
    ] {
        let mut alerts = Vec::new();
        let (mut noise, mut affected, mut affected_max, mut silent) = (0.0, 0.0, 0usize, 0usize);
        let (mut spanning, mut cascade_spanning, mut total) = (0usize, 0usize, 0usize);
        for seed in 0..SEEDS {
            let t = topology(n, seed);
            let s = storm(&t, &spec, seed);
            alerts.push(s.alerts.len());
            noise += s.noise_count() as f64 / s.alerts.len() as f64;
            // Largest gap between consecutive alerts (re-fires included) of each incident: a
            // gap above 300 s splits the incident for a 300 s time-window correlator.
            // `cascade_gap` looks at first fires only (what a correlator that de-duplicates by
            // fingerprint first sees).
            let mut last = vec![None::<Timestamp>; s.incidents.len()];
            let mut last_first = vec![None::<Timestamp>; s.incidents.len()];
            let mut gap = vec![0.0f64; s.incidents.len()];
            let mut cascade_gap = vec![0.0f64; s.incidents.len()];
            let mut seen = HashSet::new();
            let mut root_alerted = vec![false; s.incidents.len()];
            for (a, k) in s.alerts.iter().zip(&s.incident_of) {
                let Some(k) = *k else { continue };
                root_alerted[k] |= a.service() == Some(s.incidents[k].root.as_str());
                if let Some(l) = last[k] {
                    gap[k] = gap[k].max(a.starts_at().secs_since(l));
                }
                last[k] = Some(a.starts_at());
                if seen.insert((k, a.fingerprint())) {
                    if let Some(l) = last_first[k] {
                        cascade_gap[k] = cascade_gap[k].max(a.starts_at().secs_since(l));
                    }
                    last_first[k] = Some(a.starts_at());
                }
            }
            for (k, inc) in s.incidents.iter().enumerate() {
                total += 1;
                affected += inc.affected.len() as f64;
                affected_max = affected_max.max(inc.affected.len());
                silent += usize::from(!root_alerted[k]);
                spanning += usize::from(gap[k] > 300.0);
                cascade_spanning += usize::from(cascade_gap[k] > 300.0);
            }
        }
        let mean = alerts.iter().sum::<usize>() as f64 / alerts.len() as f64;
        println!(
            "{name:<7} {n:>8}  {mean:>8.0}/{}/{}  {:>6.1}  {:>10.1}/{affected_max}  {:>12.1}  {:>8.1}/{:.1}",
            alerts.iter().min().unwrap_or(&0),
            alerts.iter().max().unwrap_or(&0),
            100.0 * noise / SEEDS as f64,
            affected / total as f64,
            100.0 * silent as f64 / total as f64,
            100.0 * spanning as f64 / total as f64,
            100.0 * cascade_spanning as f64 / total as f64,
        );
    }
}

/// How hard the injected anomalies are, per kind, for two simple reference detectors (5 seeds,
/// 6 anomalies of the kind per default series): a naive global 3-sigma threshold on the raw
/// values, and a local one: a robust z-score (median/MAD over the warm-up) above 4 of the
/// residual `x[i] - median(x[i-6..i])`. A window counts as found if a point in
/// `start..end + 12` is flagged; false alarms are flagged points away from every window (and the
/// 6 points after it, which the trailing median still sees).
fn series_difficulty() {
    const LAG: usize = 6;
    println!(
        "kind             naive-3sigma recall/false-alarm%  local-median-robust-z>4 recall/false-alarm%"
    );
    for kind in AnomalyKind::ALL {
        let (mut found, mut windows) = ([0usize; 2], 0usize);
        let (mut alarms, mut normal) = ([0usize; 2], 0usize);
        for seed in 0..SEEDS {
            let spec = SeriesSpec {
                anomalies: 6,
                kinds: vec![kind],
                ..SeriesSpec::default()
            };
            let l = labelled_series(&spec, seed);
            let x = l.series.values();
            let n = x.len() as f64;
            let mean = x.iter().sum::<f64>() / n;
            let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            let naive: Vec<bool> = x.iter().map(|v| (v - mean).abs() > 3.0 * sd).collect();
            let diff: Vec<f64> = (0..x.len())
                .map(|i| {
                    if i >= LAG {
                        let mut prev = x[i - LAG..i].to_vec();
                        x[i] - median_mad(&mut prev).map_or(x[i], |(m, _)| m)
                    } else {
                        0.0
                    }
                })
                .collect();
            let mut warm = diff[LAG..spec.warmup].to_vec();
            let (med, mad) = median_mad(&mut warm).unwrap_or((0.0, 1.0));
            let scale = (mad * aiops_core::stats::MAD_TO_SIGMA).max(1e-12);
            let seasonal: Vec<bool> = (0..x.len())
                .map(|i| i >= LAG && ((diff[i] - med) / scale).abs() > 4.0)
                .collect();
            let near = |i: usize| {
                l.anomalies
                    .iter()
                    .any(|w| (w.start..w.end + 12).contains(&i))
            };
            for w in &l.anomalies {
                windows += 1;
                let hit = |f: &[bool]| f[w.start..(w.end + 12).min(f.len())].iter().any(|&b| b);
                found[0] += usize::from(hit(&naive));
                found[1] += usize::from(hit(&seasonal));
            }
            for i in LAG..x.len() {
                if !near(i) {
                    normal += 1;
                    alarms[0] += usize::from(naive[i]);
                    alarms[1] += usize::from(seasonal[i]);
                }
            }
        }
        let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
        println!(
            "{:<16} {:>5.0}% / {:>5.2}%                     {:>5.0}% / {:>5.2}%",
            kind.as_str(),
            pct(found[0], windows),
            pct(alarms[0], normal),
            pct(found[1], windows),
            pct(alarms[1], normal),
        );
    }
}

fn bench_sim(c: &mut Criterion) {
    preset_figures();
    series_difficulty();
    let t200 = topology(200, 1);
    let medium = StormSpec::medium();
    c.bench_function("storm/medium preset on 200 services (~10k alerts)", |b| {
        b.iter_with_large_drop(|| storm(black_box(&t200), black_box(&medium), 1));
    });
    let t1000 = topology(1000, 1);
    let large = StormSpec::large();
    c.bench_function("storm/large preset on 1000 services (~100k alerts)", |b| {
        b.iter_with_large_drop(|| storm(black_box(&t1000), black_box(&large), 1));
    });
    c.bench_function("topology/1000 services", |b| {
        b.iter_with_large_drop(|| topology(black_box(1000), 1));
    });
    c.bench_function("topology/10000 services", |b| {
        b.iter_with_large_drop(|| topology(black_box(10_000), 1));
    });
    let spec = SeriesSpec::default();
    c.bench_function("labelled_series/4032 points, 6 anomalies", |b| {
        b.iter_with_large_drop(|| labelled_series(black_box(&spec), 1));
    });
    let fault = Timestamp::from_secs(1_704_067_200);
    c.bench_function(
        "incident_metrics/200 services x 5 metrics x 91 points",
        |b| {
            b.iter_with_large_drop(|| incident_metrics(black_box(&t200), "db-0", fault, 1));
        },
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench_sim
}
criterion_main!(benches);
