//! Batch correlation time on the benchmark storm (topology(1000), `StormSpec::large()`, seed 1:
//! 113,175 records), the default configuration with explanations on: the minimum over N runs,
//! which is steadier than a mean on a shared machine. Two paths, measured alternately in one
//! run: `correlate_view` (borrows the alerts; incidents and why-records made on request) and
//! `correlate` (owned aiops-core incidents with every alert copied). Dropping the result is
//! inside the timed region. `--stream` adds the streaming path: `push` of every record (a copy
//! of each, as a receiver would own them), the events dropped, then `finish`. For before/after comparisons, build this example at both commits and
//! run the binaries alternately.
//!
//! `cargo run --release -p aiops-rca --example correlate_timing [-- N [--stream]]` (default 30
//! runs).

use std::hint::black_box;
use std::time::Instant;

use aiops_rca::{Correlator, CorrelatorConfig, ServiceGraph};
use aiops_sim::{StormSpec, storm, topology};

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let topo = topology(1000, 1);
    let graph = ServiceGraph::from_specs(&topo.services).expect("sim topologies are valid");
    let s = storm(&topo, &StormSpec::large(), 1);
    let c = Correlator::new(&graph, CorrelatorConfig::default()).expect("the default is valid");
    let stream = std::env::args().any(|a| a == "--stream");
    let (mut best_view, mut best_owned, mut best_stream) = (f64::MAX, f64::MAX, f64::MAX);
    let (mut view_incidents, mut owned_incidents) = (0, 0);
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let r = c.correlate_view(black_box(&s.alerts));
        view_incidents = r.len();
        drop(black_box(r));
        best_view = best_view.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let r = c.correlate(black_box(&s.alerts));
        owned_incidents = r.incidents().len();
        drop(black_box(r));
        best_owned = best_owned.min(t.elapsed().as_secs_f64());
        if stream {
            let t = Instant::now();
            let mut st = c.stream();
            for a in &s.alerts {
                drop(black_box(st.push(a.clone()).expect("the storm is sorted")));
            }
            let r = st.finish();
            assert_eq!(r.incidents().len(), owned_incidents, "stream equals batch");
            drop(black_box(r));
            best_stream = best_stream.min(t.elapsed().as_secs_f64());
        }
    }
    assert_eq!(view_incidents, owned_incidents, "both paths find the same incidents");
    let n = s.alerts.len() as f64;
    println!(
        "{} records, {view_incidents} incidents, min over {runs} runs: correlate_view {:.1} ms = \
         {:.2e} alerts/s; correlate (owned) {:.1} ms = {:.2e} alerts/s",
        s.alerts.len(),
        best_view * 1e3,
        n / best_view,
        best_owned * 1e3,
        n / best_owned
    );
    if stream {
        println!(
            "stream (push + finish) {:.1} ms = {:.2e} alerts/s",
            best_stream * 1e3,
            n / best_stream
        );
    }
}
