//! Draws one incident's subgraph with the ranked root cause highlighted, as SVG (the picture in
//! `docs/guide.md`) and, with `--dot FILE`, as Graphviz DOT text.
//!
//! ```sh
//! cargo run --release --example plot_incident -- --out docs/images/incident.svg --dot docs/images/incident.dot
//! ```
//!
//! Nodes are the incident's alerting services and the services on the evidence paths of its
//! top root causes, in rows by layer (frontends, applications, caches and queues, databases,
//! hosts); edges point from a dependency to the service that uses it. Red fill: ranked first;
//! bold red ring: the fault the simulator injected; orange: alerting; grey: silent.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use aiops::rca::{CombinedRanker, Correlator, CorrelatorConfig, RankInput, Ranker, ServiceGraph};
use aiops_sim::{StormSpec, storm, topology};
use clap::Parser;
use plotters::prelude::*;

/// Writes the subgraph of one simulated incident with its ranked root causes.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Output SVG file.
    #[arg(long, default_value = "incident.svg")]
    out: PathBuf,
    /// Also write the subgraph as Graphviz DOT text to this file.
    #[arg(long)]
    dot: Option<PathBuf>,
    /// Seed of the simulated system and fault.
    #[arg(long, default_value_t = 5)]
    seed: u64,
    /// Services in the simulated system.
    #[arg(long, default_value_t = 40)]
    services: usize,
}

/// Row of a service in the picture, from the simulator's naming of layers.
fn row(name: &str) -> usize {
    match name.split('-').next().unwrap_or("") {
        "frontend" => 0,
        "cache" | "queue" => 2,
        "db" => 3,
        "host" => 4,
        _ => 1,
    }
}

struct Picture {
    nodes: Vec<String>,
    edges: Vec<(String, String)>,
    alerting: BTreeSet<String>,
    ranked: Vec<(String, f64)>,
    truth: String,
}

fn build(args: &Args) -> Result<Picture, Box<dyn std::error::Error>> {
    let topo = topology(args.services, args.seed);
    let spec = StormSpec {
        incidents: 1,
        noise_alerts: 0,
        silent_root_prob: 0.0,
        ..StormSpec::small()
    };
    let st = storm(&topo, &spec, args.seed);
    let graph = ServiceGraph::from_specs(&topo.services)?;
    let correlation = Correlator::new(&graph, CorrelatorConfig::default())?.correlate(&st.alerts);
    let incident = correlation
        .incidents()
        .iter()
        .max_by_key(|i| i.records().len())
        .ok_or("the storm formed no incident")?
        .incident();
    let causes = CombinedRanker::default()
        .rank(&RankInput::new().graph(&graph).alerts(incident.alerts()))?;
    let alerting: BTreeSet<String> = incident.services().iter().cloned().collect();
    let mut nodes: BTreeSet<String> = alerting.clone();
    let ranked: Vec<(String, f64)> = causes
        .iter()
        .take(3)
        .map(|c| (c.service().to_owned(), c.score()))
        .collect();
    for c in causes.iter().take(3) {
        nodes.insert(c.service().to_owned());
        for s in c.evidence_path().unwrap_or(&[]) {
            nodes.insert(s.clone());
        }
    }
    let truth = st
        .incidents
        .first()
        .map(|i| i.root.clone())
        .unwrap_or_default();
    nodes.insert(truth.clone());
    let mut edges = Vec::new();
    for n in &nodes {
        for (dep, _) in graph.dependencies(n) {
            if nodes.contains(dep) {
                edges.push((dep.to_owned(), n.clone()));
            }
        }
    }
    Ok(Picture {
        nodes: nodes.into_iter().collect(),
        edges,
        alerting,
        ranked,
        truth,
    })
}

fn dot(p: &Picture) -> String {
    let mut s = String::from(
        "digraph incident {\n  rankdir=BT;\n  node [style=filled, fontname=\"sans-serif\"];\n",
    );
    for n in &p.nodes {
        let rank = p.ranked.iter().position(|(r, _)| r == n);
        let fill = match rank {
            Some(0) => "#e34a33",
            _ if p.alerting.contains(n) => "#fdbb84",
            _ => "#dddddd",
        };
        let label = match rank {
            Some(k) => format!("{n}\\n#{} score {:.2}", k + 1, p.ranked[k].1),
            None => n.clone(),
        };
        let ring = if *n == p.truth {
            ", penwidth=3, color=\"#b30000\""
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  \"{n}\" [label=\"{label}\", fillcolor=\"{fill}\"{ring}];"
        );
    }
    for (a, b) in &p.edges {
        let _ = writeln!(s, "  \"{a}\" -> \"{b}\";");
    }
    s.push_str("}\n");
    s
}

fn svg(p: &Picture, out: &PathBuf) -> Result<(), Box<dyn std::error::Error>> {
    let mut rows: BTreeMap<usize, Vec<&String>> = BTreeMap::new();
    for n in &p.nodes {
        rows.entry(row(n)).or_default().push(n);
    }
    let width = 140 * rows.values().map(Vec::len).max().unwrap_or(1).max(4) as i32;
    let height = 110 * 5 + 40;
    let mut pos: BTreeMap<&String, (i32, i32)> = BTreeMap::new();
    for (r, names) in &rows {
        let step = width / (names.len() as i32 + 1);
        for (i, n) in names.iter().enumerate() {
            pos.insert(*n, (step * (i as i32 + 1), 60 + 110 * *r as i32));
        }
    }
    let root = SVGBackend::new(out, (width as u32, height as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    root.draw(&Text::new(
        "incident subgraph: red = ranked first, ring = injected fault, orange = alerting",
        (10, 10),
        ("sans-serif", 16).into_font(),
    ))?;
    for (a, b) in &p.edges {
        if let (Some(&pa), Some(&pb)) = (pos.get(a), pos.get(b)) {
            root.draw(&PathElement::new(
                vec![pa, pb],
                RGBColor(120, 120, 120).stroke_width(1),
            ))?;
            // Arrow head near the user end.
            let (dx, dy) = (f64::from(pb.0 - pa.0), f64::from(pb.1 - pa.1));
            let len = dx.hypot(dy).max(1.0);
            let tip = (
                pb.0 - (24.0 * dx / len) as i32,
                pb.1 - (24.0 * dy / len) as i32,
            );
            root.draw(&Circle::new(tip, 3, RGBColor(120, 120, 120).filled()))?;
        }
    }
    for n in &p.nodes {
        let Some(&(x, y)) = pos.get(n) else { continue };
        let rank = p.ranked.iter().position(|(r, _)| r == n);
        let fill = match rank {
            Some(0) => RGBColor(227, 74, 51),
            _ if p.alerting.contains(n) => RGBColor(253, 187, 132),
            _ => RGBColor(221, 221, 221),
        };
        root.draw(&Circle::new((x, y), 22, fill.filled()))?;
        if *n == p.truth {
            root.draw(&Circle::new(
                (x, y),
                26,
                RGBColor(179, 0, 0).stroke_width(3),
            ))?;
        }
        root.draw(&Text::new(
            n.clone(),
            (x - 28, y + 28),
            ("sans-serif", 13).into_font(),
        ))?;
        if let Some(k) = rank {
            root.draw(&Text::new(
                format!("#{} {:.2}", k + 1, p.ranked[k].1),
                (x - 16, y - 6),
                ("sans-serif", 12).into_font(),
            ))?;
        }
    }
    root.present()?;
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = build(&args).and_then(|p| {
        svg(&p, &args.out).map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
        if let Some(path) = &args.dot {
            std::fs::write(path, dot(&p))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        Ok(p)
    });
    match result {
        Ok(p) => {
            println!(
                "wrote {}: {} services, injected fault at {}, ranked first {}",
                args.out.display(),
                p.nodes.len(),
                p.truth,
                p.ranked.first().map_or("-", |r| r.0.as_str())
            );
            assert!(p.nodes.contains(&p.truth) && !p.ranked.is_empty());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("plot_incident: error: {e}");
            ExitCode::FAILURE
        }
    }
}
