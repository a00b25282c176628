//! aiops-rca benchmarks: correlation throughput on an aiops-sim storm (1,000 services, about
//! 300 alerts per 300 s window), ranking an incident on 1,000 and 10,000 services, `PageRank`
//! on 10,000 nodes / 100,000 edges, and petgraph's `page_rank` on a small graph for
//! comparison.
//!
//! `cargo bench --bench rca` (CI: `cargo bench --bench rca -- --test`).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use aiops::rca::{
    CombinedRanker, Correlator, CorrelatorConfig, CsrGraph, PageRankParams, RankInput, Ranker,
    ServiceGraph, pagerank,
};
use aiops_sim::{StormSpec, storm, topology};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Uniform random directed edges (xorshift, fixed seed), no self-loops.
fn random_edges(n: usize, m: usize, seed: u64) -> Vec<(usize, usize, f64)> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = Vec::with_capacity(m);
    while out.len() < m {
        let a = (next() % n as u64) as usize;
        let b = (next() % n as u64) as usize;
        if a != b {
            out.push((a, b, 1.0));
        }
    }
    out
}

/// The alerts of the storm's largest incident.
fn largest_incident(s: &aiops_sim::Storm) -> Vec<aiops::core::Alert> {
    let k = (0..s.incidents.len())
        .max_by_key(|&k| s.alerts_of(k).len())
        .unwrap_or(0);
    s.alerts_of(k)
        .into_iter()
        .map(|i| s.alerts[i].clone())
        .collect()
}

fn correlation(c: &mut Criterion) {
    let topo = topology(1000, 1);
    let graph = ServiceGraph::from_specs(&topo.services).expect("sim topology is valid");
    let s = storm(&topo, &StormSpec::large(), 1);
    let mut group = c.benchmark_group("correlate");
    group.throughput(Throughput::Elements(s.alerts.len() as u64));
    group.sample_size(10);
    // The default before the incident span and the 2-hop limit (for a side-by-side figure).
    let mut previous = CorrelatorConfig::default();
    previous.window_secs = 300;
    previous.sparse_window_secs = None;
    previous.max_hops = None;
    previous.max_incident_span_secs = None;
    for (name, cfg) in [
        ("default", CorrelatorConfig::default()),
        ("previous_default", previous),
        ("article", CorrelatorConfig::article()),
    ] {
        let correlator = Correlator::new(&graph, cfg).expect("valid config");
        group.bench_function(format!("{name}_1000svc_{}alerts", s.alerts.len()), |b| {
            b.iter(|| black_box(correlator.correlate(black_box(&s.alerts))));
        });
    }
    let correlator = Correlator::new(&graph, CorrelatorConfig::default()).expect("valid config");
    // The borrowing batch path (the data tool's): same incidents and why-records, nothing copied.
    group.bench_function(
        format!("default_view_1000svc_{}alerts", s.alerts.len()),
        |b| {
            b.iter(|| black_box(correlator.correlate_view(black_box(&s.alerts))).len());
        },
    );
    group.bench_function("stream_default", |b| {
        b.iter(|| {
            let mut st = correlator.stream();
            for a in &s.alerts {
                black_box(st.push(a.clone()).expect("sorted storm"));
            }
            black_box(st.finish())
        });
    });
    group.finish();
    // Ranking one incident of the storm with the default ranker.
    let alerts = largest_incident(&s);
    c.bench_function(
        &format!("rank_combined_1000svc_{}alerts", alerts.len()),
        |b| {
            b.iter(|| {
                black_box(
                    CombinedRanker::default().rank(&RankInput::new().graph(&graph).alerts(&alerts)),
                )
            });
        },
    );
    // The same on 10,000 services, where the ranking's per-candidate work (paths, coverage)
    // dominates: the largest incident of a `day` storm.
    let topo = topology(10_000, 1);
    let graph = ServiceGraph::from_specs(&topo.services).expect("sim topology is valid");
    let s = storm(&topo, &StormSpec::day(), 1);
    let alerts = largest_incident(&s);
    let mut group = c.benchmark_group("rank_large");
    group.sample_size(10);
    group.bench_function(
        format!("rank_combined_10000svc_{}alerts", alerts.len()),
        |b| {
            b.iter(|| {
                black_box(
                    CombinedRanker::default().rank(&RankInput::new().graph(&graph).alerts(&alerts)),
                )
            });
        },
    );
    group.finish();
}

fn pagerank_bench(c: &mut Criterion) {
    let edges = random_edges(10_000, 100_000, 42);
    let g = CsrGraph::from_edges(10_000, &edges).expect("valid edges");
    let mut group = c.benchmark_group("pagerank");
    group.sample_size(20);
    group.bench_function("ours_10k_nodes_100k_edges", |b| {
        b.iter(|| black_box(pagerank(black_box(&g), &PageRankParams::default())));
    });
    // petgraph's page_rank is quadratic per iteration: compare at 1,000 nodes / 10,000 edges,
    // one iteration each.
    let small = random_edges(1_000, 10_000, 7);
    let mut pg = petgraph::graph::DiGraph::<(), ()>::new();
    let nodes: Vec<_> = (0..1_000).map(|_| pg.add_node(())).collect();
    for &(a, b, _) in &small {
        pg.add_edge(nodes[a], nodes[b], ());
    }
    let sg = CsrGraph::from_edges(1_000, &small).expect("valid edges");
    group.bench_function("petgraph_1k_nodes_10k_edges_1_iteration", |b| {
        b.iter(|| black_box(petgraph::algo::page_rank(&pg, 0.85_f64, 1)));
    });
    group.bench_function("ours_1k_nodes_10k_edges_to_convergence", |b| {
        b.iter(|| black_box(pagerank(black_box(&sg), &PageRankParams::default())));
    });
    group.finish();
}

criterion_group!(benches, correlation, pagerank_bench);
criterion_main!(benches);
