//! `correlate_alerts`: from an alert storm to incidents with root causes and why-records.
//!
//! ```text
//! cargo run --release --example correlate_alerts -- [--article] SERVICES_JSON ALERTS_JSON
//! ```
//!
//! `SERVICES_JSON` is the article's services config: `[{"name", "type", "criticality",
//! "dependencies": [name or {"name", "weight"}]}]`, dependencies being the services this one
//! calls or uses. `ALERTS_JSON` is an Alertmanager webhook payload, a JSON array of them, or a
//! JSON array of alerts in the webhook's alert shape; records are numbered 0.. in input order
//! after flattening; unknown fields are ignored. The service of an alert is its label
//! `service`, else `app`, `job`, `service_name`; alerts naming no known service are still
//! correlated by time and labels.
//!
//! Output (stdout, one JSON object): `{"incidents": [{"alert_indices", "services", "start",
//! "end", "root_causes": [{"service", "score", "confidence"}], "why": [{"a", "b", "rule",
//! "detail"}]}], "noise": [..], "compression", "raw_compression"}`. Every record index appears
//! exactly once, in one incident or in `noise`. An incident none of whose services is in
//! `SERVICES_JSON` gets its services in the order they first alerted as root causes (scores
//! `(n - k) / n`, confidence `1 / n` each). Errors name the file, line and field (exit 1);
//! a leading UTF-8 byte-order mark in either file is skipped.
//!
//! `compression` is `1 - incidents / distinct fingerprints` and `raw_compression` is
//! `1 - incidents / records`, exactly as the data-tools contract defines them (both 0 for no
//! alerts).
//! `compression` can be negative: a fingerprint whose episodes (re-fires far apart) land in
//! separate incidents counts once in the denominator but once per incident in the numerator:
//! 2 fingerprints each firing 3 separate times, correlated into 3 incidents (one per pair of
//! episodes), give `1 - 3 / 2 = -0.5`.
//! Dependencies must name services defined in `SERVICES_JSON`.
//!
//! The default is the best configuration measured on aiops-sim storms (dependency path within
//! 300 s, 420 s while alerts are sparse, same service, each alert joining one incident: see docs/aiops-rca.md) with the
//! combined ranker; `--article` runs the article's rules and ranker exactly (300 s window,
//! dependency path from the earlier alert's service to the later one's, same metric type,
//! connected groups, `PageRank` 0.85 over the alert graph, top 3; equal scores by service
//! name). The article's alert graph holds every related pair of alerts within 300 s: a burst of
//! more than about 10,000 alerts (50 million pairs) is refused with an error rather than
//! taking minutes and gigabytes.

use std::collections::HashSet;
use std::process::ExitCode;

use aiops::core::{Alert, ServicesConfig, parse_alerts_json};
use aiops::rca::{
    AlertGraphRanker, CombinedRanker, Correlator, CorrelatorConfig, MergeRule, RankInput, Ranker,
    RcaError, ServiceGraph,
};
use clap::Parser;
use serde_json::{Value, json};

/// Correlate an alert storm into incidents with ranked root causes and why-records.
#[derive(Parser, Debug)]
#[command(name = "correlate_alerts")]
struct Args {
    /// Run the article's rules and ranker exactly (300 s window, dependency path or same metric
    /// type, connected groups, alert-graph `PageRank` 0.85, top 3) instead of the default.
    #[arg(long)]
    article: bool,
    /// The services config (JSON array of services).
    services_json: String,
    /// The alerts (webhook payload, array of payloads, or array of alerts).
    alerts_json: String,
}

/// The file's text, without a leading UTF-8 byte-order mark (some Windows tools write one).
fn read(path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: cannot read: {e}"))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

fn load_graph(path: &str) -> Result<ServiceGraph, String> {
    let text = read(path)?;
    let config = ServicesConfig::from_json(&text).map_err(|e| format!("{path}: {e}"))?;
    let line = |name: &str| {
        config
            .line_of(name)
            .map_or(String::new(), |l| format!(" (line {l})"))
    };
    ServiceGraph::from_specs(config.specs()).map_err(|e| match e {
        // The library's message points at a library option; say what to change in the file.
        RcaError::UnknownDependency {
            service,
            dependency,
        } => format!(
            "{path}: service {service:?}{} depends on {dependency:?}, which no entry defines: \
             add {{\"name\": {dependency:?}}} to the file, \
             or remove it from {service:?}'s dependencies",
            line(&service)
        ),
        other => format!("{path}: {other}"),
    })
}

/// `1 - incidents / distinct fingerprints` (the contract), 0 when there are no alerts. Negative
/// when more incidents than fingerprints (a fingerprint's far-apart episodes in separate
/// incidents).
fn compression(incidents: usize, alerts: &[Alert]) -> f64 {
    let fingerprints: HashSet<_> = alerts.iter().map(Alert::fingerprint).collect();
    if fingerprints.is_empty() {
        return 0.0;
    }
    1.0 - incidents as f64 / fingerprints.len() as f64
}

fn detail(graph: &ServiceGraph, rule: &MergeRule, gap: f64) -> String {
    match rule {
        MergeRule::SameFingerprint => {
            format!("same fingerprint (re-fire or resolution), {gap} s later")
        }
        MergeRule::DependencyPath { from, to } if from == to => {
            format!("same service {from}, {gap} s apart")
        }
        MergeRule::DependencyPath { from, to } => {
            let path = graph
                .path(from, to)
                .map_or_else(|| format!("{from} -> {to}"), |p| p.join(" -> "));
            format!("dependency path {path}, {gap} s apart")
        }
        MergeRule::SameMetricType { metric_type } => {
            format!("same metric_type {metric_type:?}, {gap} s apart")
        }
        MergeRule::SharedLabel { label, value } => {
            format!("shared label {label}={value:?}, {gap} s apart")
        }
        MergeRule::LabelSet { labels } => {
            let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            format!("shared labels {}, {gap} s apart", l.join(", "))
        }
        MergeRule::SharedDependency { dependency } => {
            format!("both depend on {dependency}, {gap} s apart")
        }
        MergeRule::UpstreamIncident {
            from,
            to,
            reached,
            services,
        } => format!(
            "incidents merged: {from} (first alert of one) reaches {reached} of the {services} services of the other (first alert on {to}), first alerts {gap} s apart"
        ),
        other => format!("{other:?}, {gap} s apart"),
    }
}

fn root_causes(args: &Args, graph: &ServiceGraph, alerts: &[Alert]) -> Result<Vec<Value>, String> {
    if args.article {
        // The article's top 3 alerts, with equal scores ordered by service name as every data
        // tool breaks ties (the article's stable sort keeps them in time order; the sort below
        // is stable too, so alerts of one service keep it).
        let mut all = AlertGraphRanker::default()
            .score_alerts(graph, alerts)
            .map_err(|e| match e {
                RcaError::TooLarge { .. } => format!("--article: {e} (or run without --article)"),
                e => e.to_string(),
            })?;
        all.retain(|a| !a.service.is_empty());
        all.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.service.cmp(&b.service))
        });
        return Ok(all
            .into_iter()
            .take(3)
            .map(|s| json!({"service": s.service, "score": s.score, "confidence": s.score}))
            .collect());
    }
    let ranked = CombinedRanker::default()
        .rank(&RankInput::new().graph(graph).alerts(alerts))
        .map_err(|e| e.to_string())?;
    if ranked.is_empty() {
        return Ok(first_alerting(alerts));
    }
    Ok(ranked
        .iter()
        .take(3)
        .map(|c| json!({"service": c.service(), "score": c.score(), "confidence": c.confidence()}))
        .collect())
}

/// Root causes of an incident none of whose services the graph holds (the rankers rank graph
/// services only): its services in the order they first alerted (ties by name), scores
/// `(n - k) / n` for the k-th of n, and confidence `1 / n` each, as nothing but the order of
/// the first alerts tells them apart.
fn first_alerting(alerts: &[Alert]) -> Vec<Value> {
    let mut first: Vec<(aiops::core::Timestamp, &str)> = Vec::new();
    for a in alerts {
        let Some(s) = a.service() else { continue };
        match first.iter_mut().find(|(_, x)| *x == s) {
            Some(e) => e.0 = e.0.min(a.starts_at()),
            None => first.push((a.starts_at(), s)),
        }
    }
    first.sort();
    let n = first.len() as f64;
    first
        .iter()
        .take(3)
        .enumerate()
        .map(
            |(k, (_, s))| json!({"service": s, "score": (n - k as f64) / n, "confidence": 1.0 / n}),
        )
        .collect()
}

fn run(args: &Args) -> Result<String, String> {
    let graph = load_graph(&args.services_json)?;
    let alerts = parse_alerts_json(&read(&args.alerts_json)?)
        .map_err(|e| format!("{}: {e}", args.alerts_json))?;
    let config = if args.article {
        CorrelatorConfig::article()
    } else {
        CorrelatorConfig::default()
    };
    let correlator = Correlator::new(&graph, config).map_err(|e| e.to_string())?;
    // The borrowing batch path: nothing is copied until an incident is ranked.
    let result = correlator.correlate_view(&alerts);
    let mut incidents = Vec::new();
    let mut seen = vec![0u32; alerts.len()];
    for inc in result.incidents() {
        for &r in inc.records() {
            seen[r] += 1;
        }
        let i = inc.to_incident();
        let why: Vec<Value> = inc
            .merges()
            .map(|m| {
                json!({"a": m.a(), "b": m.b(), "rule": m.rule().name(),
                       "detail": detail(&graph, m.rule(), m.gap_secs())})
            })
            .collect();
        incidents.push(json!({
            "alert_indices": inc.records(),
            "services": i.services(),
            "start": i.start().to_rfc3339(),
            "end": i.end().map(aiops::core::Timestamp::to_rfc3339),
            "root_causes": root_causes(args, &graph, i.alerts())?,
            "why": why,
        }));
    }
    for &r in result.noise() {
        seen[r] += 1;
    }
    // The contract: every record exactly once.
    if let Some(r) = seen.iter().position(|&c| c != 1) {
        return Err(format!(
            "internal error: record {r} appears {} times",
            seen[r]
        ));
    }
    let out = json!({
        "incidents": incidents,
        "noise": result.noise(),
        "compression": compression(result.incidents().len(), &alerts),
        "raw_compression": result.raw_compression(),
    });
    serde_json::to_string(&out).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("correlate_alerts: {e}");
            ExitCode::FAILURE
        }
    }
}
