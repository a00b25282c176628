//! Batch correlation time on the benchmark storm (topology(1000), `StormSpec::large()`, seed 1:
//! 113,175 records), the default configuration with explanations on: the minimum over N runs,
//! which is steadier than a mean on a shared machine. For before/after comparisons, build this
//! example at both commits and run the binaries alternately.
//!
//! `cargo run --release -p aiops-rca --example correlate_timing [-- N]` (default 30 runs).

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
    let mut best = f64::MAX;
    let mut incidents = 0;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let r = c.correlate(&s.alerts);
        incidents = r.incidents().len();
        drop(r);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{} records, {incidents} incidents: min {:.1} ms over {runs} runs = {:.2e} alerts/s",
        s.alerts.len(),
        best * 1e3,
        s.alerts.len() as f64 / best
    );
}
