//! Batch correlation time on the benchmark storm (topology(1000), `StormSpec::large()`, seed 1:
//! 113,175 records) with explanations on: the minimum over N runs, which is steadier than a mean
//! on a shared machine. Per configuration (the default, the default without its alert-name
//! statistics (`name_label` off), and the previous default:
//! `Grouping::BestParent`, 240 s window, every severity) two paths, measured alternately in one
//! run: `correlate_view` (borrows the alerts; incidents and why-records made on request) and
//! `correlate` (owned aiops-core incidents with every alert copied). Dropping the result is
//! inside the timed region. `--stream` adds the default's streaming path: `push` of every record
//! (a copy of each, as a receiver would own them), the events dropped, then `finish`; and the
//! same calling `release_settled` every 1,000 records (its time, and the most records held).
//! For other
//! before/after comparisons, build this example at both commits and run the binaries alternately.
//!
//! `cargo run --release -p aiops-rca --example correlate_timing [-- N [--stream]]` (default 30
//! runs).

use std::hint::black_box;
use std::time::Instant;

use aiops_rca::{Correlator, CorrelatorConfig, Grouping, ServiceGraph};
use aiops_sim::{StormSpec, storm, topology};

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let stream = std::env::args().any(|a| a == "--stream");
    let topo = topology(1000, 1);
    let graph = ServiceGraph::from_specs(&topo.services).expect("sim topologies are valid");
    let s = storm(&topo, &StormSpec::large(), 1);
    let mut previous = CorrelatorConfig::default();
    previous.grouping = Grouping::BestParent;
    previous.window_secs = 240;
    previous.sparse_window_secs = None;
    previous.min_severity = None;
    let mut unnamed = CorrelatorConfig::default();
    unnamed.name_label = None;
    let configs = [
        ("default", CorrelatorConfig::default()),
        ("default without alert names", unnamed),
        ("previous default (BestParent, 240 s)", previous),
    ];
    let correlators: Vec<Correlator<'_>> = configs
        .iter()
        .map(|(_, cfg)| Correlator::new(&graph, cfg.clone()).expect("valid configurations"))
        .collect();
    // Per configuration: best view, best owned; incidents.
    let mut best = [[f64::MAX; 2]; 3];
    let mut incidents = [0; 3];
    let mut best_stream = f64::MAX;
    let (mut best_released, mut most_held, mut released_total) = (f64::MAX, 0, 0);
    for _ in 0..runs.max(1) {
        for (k, c) in correlators.iter().enumerate() {
            let t = Instant::now();
            let r = c.correlate_view(black_box(&s.alerts));
            let view_incidents = r.len();
            drop(black_box(r));
            best[k][0] = best[k][0].min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let r = c.correlate(black_box(&s.alerts));
            incidents[k] = r.incidents().len();
            drop(black_box(r));
            best[k][1] = best[k][1].min(t.elapsed().as_secs_f64());
            assert_eq!(
                view_incidents, incidents[k],
                "both paths find the same incidents"
            );
        }
        if stream {
            let t = Instant::now();
            let mut st = correlators[0].stream();
            for a in &s.alerts {
                drop(black_box(st.push(a.clone()).expect("the storm is sorted")));
            }
            let r = st.finish();
            assert_eq!(r.incidents().len(), incidents[0], "stream equals batch");
            drop(black_box(r));
            best_stream = best_stream.min(t.elapsed().as_secs_f64());
            // The same with `release_settled` every 1,000 records: what a long-running
            // consumer pays to hold only recent alerts, and how many it then holds.
            let t = Instant::now();
            let mut st = correlators[0].stream();
            let (mut most, mut released, mut released_incidents) = (0, 0, 0);
            for (i, a) in s.alerts.iter().enumerate() {
                drop(black_box(st.push(a.clone()).expect("the storm is sorted")));
                if i % 1000 == 999 {
                    let r = st.release_settled();
                    released_incidents += r.incidents().len();
                    released += r.incidents().len() + r.noise().len();
                    most = most.max(st.held_records());
                }
            }
            let r = st.finish();
            assert_eq!(
                r.incidents().len() + released_incidents,
                incidents[0],
                "releasing changes no incident"
            );
            drop(black_box(r));
            best_released = best_released.min(t.elapsed().as_secs_f64());
            (most_held, released_total) = (most, released);
        }
    }
    let n = s.alerts.len() as f64;
    for (k, (name, _)) in configs.iter().enumerate() {
        println!(
            "{name}: {} records, {} incidents, min over {runs} runs: correlate_view {:.1} ms = \
             {:.2e} alerts/s; correlate (owned) {:.1} ms = {:.2e} alerts/s",
            s.alerts.len(),
            incidents[k],
            best[k][0] * 1e3,
            n / best[k][0],
            best[k][1] * 1e3,
            n / best[k][1]
        );
    }
    if stream {
        println!(
            "default stream (push + finish) {:.1} ms = {:.2e} alerts/s",
            best_stream * 1e3,
            n / best_stream
        );
        println!(
            "default stream releasing every 1,000 records {:.1} ms = {:.2e} alerts/s; at most \
             {most_held} of {} records held; {released_total} incidents and noise records \
             released",
            best_released * 1e3,
            n / best_released,
            s.alerts.len()
        );
    }
}
