//! Draws a metric with its anomaly scores and detections as SVG (the picture in
//! `docs/guide.md`).
//!
//! ```sh
//! cargo run --release --example plot_anomaly -- --out docs/images/anomaly.svg
//! ```
//!
//! Top: two days of a 5-minute metric from aiops-sim with injected anomalies (shaded: the
//! simulator's labels) and the points the streaming ensemble detector flagged (red). Bottom: the
//! detector's score in `[0, 1]` and the alerting threshold.

use std::path::PathBuf;
use std::process::ExitCode;

use aiops::anomaly::{EnsembleDetector, anomaly_ranges};
use aiops_sim::{SeriesSpec, labelled_series};
use clap::Parser;
use plotters::prelude::*;

/// Writes an SVG of a simulated metric, its anomaly scores and the detections.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Output SVG file.
    #[arg(long, default_value = "anomaly.svg")]
    out: PathBuf,
    /// Seed of the simulated metric.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Score at or above which a point is a detection, in (0, 1] (scores lie in [0, 1]).
    #[arg(long, default_value_t = 0.5, value_parser = parse_threshold)]
    threshold: f64,
}

/// A threshold in (0, 1]: at 0 or below every point would be a detection, above 1 none.
fn parse_threshold(s: &str) -> Result<f64, String> {
    let t: f64 = s
        .trim()
        .parse()
        .map_err(|e| format!("{s:?} is not a number: {e}"))?;
    if t > 0.0 && t <= 1.0 {
        Ok(t)
    } else {
        Err(format!(
            "{t} is outside (0, 1]: scores lie in [0, 1], so 0 or less flags every point and \
             more than 1 none"
        ))
    }
}

fn run(args: &Args) -> Result<(usize, usize), Box<dyn std::error::Error>> {
    let spec = SeriesSpec {
        len: 2 * 288,
        anomalies: 4,
        warmup: 150,
        ..SeriesSpec::default()
    };
    let sim = labelled_series(&spec, args.seed);
    let series = &sim.series;
    let detector = EnsembleDetector::default();
    let mut state = detector.state();
    let scores = series
        .iter()
        .map(|(t, v)| detector.update_state(&mut state, t, v))
        .collect::<Result<Vec<f64>, _>>()?;
    let ranges = anomaly_ranges(
        series.timestamps(),
        &scores,
        args.threshold,
        600,
        "ensemble",
    )?;
    // Checked before anything is written: a picture without detections shows nothing.
    if ranges.is_empty() {
        return Err(format!(
            "no point scored at or above --threshold {} (seed {}, highest score {:.3}): \
             nothing detected to draw; try a lower threshold",
            args.threshold,
            args.seed,
            scores.iter().copied().fold(0.0, f64::max)
        )
        .into());
    }

    let t0 = series.timestamps()[0];
    let hours = |i: usize| series.timestamps()[i].secs_since(t0) / 3_600.0;
    let values = series.values();
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let pad = 0.05 * (hi - lo).max(1.0);
    let x_end = hours(values.len() - 1);

    let root = SVGBackend::new(&args.out, (900, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(300);

    let mut chart = ChartBuilder::on(&top)
        .caption(
            "metric, injected anomalies (shaded) and detections (red)",
            ("sans-serif", 18),
        )
        .margin(8)
        .x_label_area_size(24)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..x_end, (lo - pad)..(hi + pad))?;
    chart
        .configure_mesh()
        .x_desc("hours")
        .y_desc("value")
        .draw()?;
    for w in &sim.anomalies {
        let (a, b) = (hours(w.start), hours(w.end.min(values.len() - 1)));
        chart.draw_series(std::iter::once(Rectangle::new(
            [(a, lo - pad), (b.max(a + 0.05), hi + pad)],
            RGBColor(255, 215, 120).mix(0.5).filled(),
        )))?;
    }
    chart.draw_series(LineSeries::new(
        (0..values.len()).map(|i| (hours(i), values[i])),
        &BLUE,
    ))?;
    let flagged: Vec<usize> = (0..values.len())
        .filter(|&i| scores[i] >= args.threshold)
        .collect();
    chart.draw_series(
        flagged
            .iter()
            .map(|&i| Circle::new((hours(i), values[i]), 3, RED.filled())),
    )?;

    let mut chart = ChartBuilder::on(&bottom)
        .caption("ensemble anomaly score and threshold", ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(24)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..x_end, 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("hours")
        .y_desc("score")
        .draw()?;
    chart.draw_series(LineSeries::new(
        (0..values.len()).map(|i| (hours(i), scores[i])),
        &BLACK,
    ))?;
    chart.draw_series(LineSeries::new(
        [(0.0, args.threshold), (x_end, args.threshold)],
        RED.stroke_width(1),
    ))?;
    root.present()?;
    Ok((sim.anomalies.len(), ranges.len()))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok((injected, detected)) => {
            println!(
                "wrote {}: {injected} injected anomalies, {detected} detected ranges",
                args.out.display()
            );
            // Not reachable from the command line (the series always holds its 4 anomalies, and
            // `run` reports a threshold that detects nothing as an error): a check that CI
            // catches a broken example.
            assert!(injected > 0 && detected > 0);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("plot_anomaly: error: {e}");
            ExitCode::FAILURE
        }
    }
}
