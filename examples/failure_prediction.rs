//! Failure prediction (the article's roadmap): a capacity forecast and the anomaly trend of each
//! metric become early-warning alerts, which flow into the same correlator and healing engine
//! as every other alert.
//!
//! ```sh
//! cargo run --release --example failure_prediction -- --seed 42
//! ```
//!
//! Three weeks of hourly history for three metrics of a simulated system: a database disk that
//! grows steadily and, for the last hours, much faster (a runaway log); a second database disk
//! that is flat; and a cache's memory that grows slowly. The facade's `FailurePredictor` warns
//! about the first (soon, anomaly score rising) and the third (later, lower severity), not the
//! second. The warnings join the current alerts of the services that use the first database,
//! the pipeline correlates them into incidents and the healing engine decides, in dry run.

use std::process::ExitCode;

use aiops::core::{Alert, Labels, TimeSeries, Timestamp};
use aiops::failure::{EarlyWarning, FailurePredictor};
use aiops::forecast::Threshold;
use aiops::pipeline::{Pipeline, PipelineConfig, dry_run_healer};
use aiops::rca::ServiceGraph;
use aiops_sim::{SeriesSpec, labelled_series, topology};
use clap::Parser;

/// Predicts capacity breaches of simulated metrics and shows the early-warning alerts going
/// through correlation and dry-run healing.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Seed of the simulated system and metrics.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// Hourly history of `days` days ending at `now`; the last `fast_hours` points climb by an
/// extra `fast_per_hour` each hour.
fn history(
    now: Timestamp,
    days: usize,
    base: f64,
    trend_per_day: f64,
    (fast_hours, fast_per_hour): (usize, f64),
    seed: u64,
) -> Result<TimeSeries, String> {
    let len = days * 24;
    let spec = SeriesSpec {
        len,
        step_secs: 3_600,
        start: now.add_secs(-3_600 * (len as i64 - 1)),
        base,
        trend_per_day,
        daily_amplitude: 1.0,
        weekly_amplitude: 0.5,
        noise_sd: 0.3,
        anomalies: 0,
        kinds: Vec::new(),
        warmup: 0,
    };
    let (ts, mut values) = labelled_series(&spec, seed).series.into_parts();
    let n = values.len();
    for (k, v) in values[n - fast_hours.min(n)..].iter_mut().enumerate() {
        *v += fast_per_hour * (k + 1) as f64;
    }
    TimeSeries::try_new(ts, values).map_err(|e| e.to_string())
}

fn print_warning(w: &EarlyWarning) {
    println!("  [{}] {}", w.severity.as_str(), w.message());
    println!(
        "      breach at {} (forecast {:.1}, 95 % band {:.1}..{:.1}, model {})",
        w.breach_at.to_rfc3339(),
        w.predicted_value,
        w.interval.0,
        w.interval.1,
        w.model.name()
    );
    println!("      {}", w.recommendation);
}

fn run(args: &Args) -> Result<(), String> {
    let topo = topology(40, args.seed);
    let graph = ServiceGraph::from_specs(&topo.services).map_err(|e| e.to_string())?;
    let dbs: Vec<&str> = topo.names().filter(|n| n.starts_with("db-")).collect();
    let (Some(&hot_db), Some(&calm_db)) = (dbs.first(), dbs.get(1)) else {
        return Err("the topology has fewer than two databases".to_owned());
    };
    let cache = topo
        .names()
        .find(|n| n.starts_with("cache-"))
        .ok_or("the topology has no cache")?;
    let now = Timestamp::parse("2026-11-27T12:00:00Z").map_err(|e| e.to_string())?;

    let metrics = [
        (
            hot_db,
            "disk",
            history(now, 21, 58.0, 1.0, (6, 0.8), args.seed)?,
            90.0,
        ),
        (
            calm_db,
            "disk",
            history(now, 21, 40.0, 0.0, (0, 0.0), args.seed.wrapping_add(1))?,
            90.0,
        ),
        (
            cache,
            "memory",
            history(now, 21, 50.0, 1.2, (0, 0.0), args.seed.wrapping_add(2))?,
            95.0,
        ),
    ];
    let predictor = FailurePredictor::new();
    println!("early warnings at {}:", now.to_rfc3339());
    let mut warnings = Vec::new();
    for (service, metric, series, limit) in &metrics {
        match predictor
            .predict(service, metric, series, Threshold::Above(*limit), now)
            .map_err(|e| format!("{metric} on {service}: {e}"))?
        {
            Some(w) => {
                print_warning(&w);
                warnings.push(w);
            }
            None => println!("  {metric} on {service}: no breach of {limit} within 30 days"),
        }
    }

    // The warnings join what is firing now: the database's users report slow queries.
    let mut alerts: Vec<Alert> = warnings.iter().map(EarlyWarning::to_alert).collect();
    for (user, _) in graph.dependents(hot_db).into_iter().take(3) {
        alerts.push(Alert::new(
            Labels::from_pairs([
                ("alertname", "SlowQueries"),
                ("service", user),
                ("severity", "warning"),
            ]),
            now.add_secs(30),
        ));
    }
    let pipeline =
        Pipeline::new(&graph, PipelineConfig::default()).map_err(|e| format!("pipeline: {e}"))?;
    let healer = dry_run_healer(&graph).map_err(|e| format!("healing engine: {e}"))?;
    let report = pipeline.run(&alerts, &healer, now.add_secs(60));
    println!(
        "\n{} alerts ({} early warnings) -> {} incidents, {} noise",
        report.records,
        warnings.len(),
        report.incidents.len(),
        report.noise.len()
    );
    for inc in &report.incidents {
        let a = &inc.analysis;
        let top = a
            .incident
            .root_causes()
            .first()
            .map_or("-", |c| c.service());
        let d = &inc.decision;
        println!(
            "  {} [{}] services {:?}; top root cause {top}; healing (dry run) {}{}",
            a.incident.id(),
            a.incident.severity().as_str(),
            a.incident.services(),
            d.verdict.code(),
            d.plan.as_ref().map_or(String::new(), |p| format!(
                ": {}",
                p.actions
                    .iter()
                    .map(aiops::heal::ActionType::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        );
    }
    for i in &report.noise {
        if let Some(a) = alerts.get(*i) {
            println!(
                "  alone: {} on {}",
                a.alertname().unwrap_or("?"),
                a.service().unwrap_or("?")
            );
        }
    }

    // Checks on the output: errors, not panics, as another --seed may give data they miss.
    let check = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(format!("check failed for --seed {}: {what}", args.seed))
        }
    };
    let hot = warnings
        .iter()
        .find(|w| w.service == hot_db)
        .ok_or("no warning for the runaway disk")?;
    check(
        hot.lead_time_secs > 0 && hot.lead_time_secs < 7 * 86_400,
        "the runaway disk's breach must be within a week",
    )?;
    check(
        hot.trend.is_some(),
        "the runaway disk's anomaly score must be rising",
    )?;
    check(
        warnings.iter().all(|w| w.service != calm_db),
        "the flat disk must raise no warning",
    )?;
    let cache_warning = warnings.iter().find(|w| w.service == cache);
    check(
        cache_warning.is_some_and(|c| c.severity <= hot.severity),
        "the cache's memory must warn, no more severely than the runaway disk",
    )?;
    let hot_incident = report
        .incidents
        .iter()
        .find(|i| i.analysis.incident.services().iter().any(|s| s == hot_db))
        .ok_or("the early warning joined no incident")?;
    check(
        hot_incident.analysis.incident.services().len() > 1,
        "the runaway disk's incident must include its users",
    )?;
    check(hot_incident.decision.dry_run, "healing must be a dry run")?;
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("failure_prediction: error: {e}");
            ExitCode::FAILURE
        }
    }
}
