//! Draws a capacity forecast as SVG: history, forecast with its 95 % band, the threshold and the
//! first predicted breach (the picture in `docs/guide.md`).
//!
//! ```sh
//! cargo run --release --example plot_forecast -- --out docs/images/forecast.svg
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use aiops::core::Timestamp;
use aiops::forecast::{CapacityPredictor, ForecastConfig, RiskAssessment, Threshold};
use aiops_sim::{SeriesSpec, labelled_series};
use clap::Parser;
use plotters::prelude::*;

/// Writes an SVG of a simulated disk-usage history, its Prophet forecast with the 95 % band, a
/// threshold and the first predicted breach.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Output SVG file.
    #[arg(long, default_value = "forecast.svg")]
    out: PathBuf,
    /// Seed of the simulated history.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Capacity threshold (% used).
    #[arg(long, default_value_t = 90.0)]
    threshold: f64,
    /// Days to forecast.
    #[arg(long, default_value_t = 14)]
    days: u32,
}

fn run(args: &Args) -> Result<Option<Timestamp>, Box<dyn std::error::Error>> {
    // Three weeks of hourly disk use (%): 1 point a day with daily and weekly cycles.
    let spec = SeriesSpec {
        len: 21 * 24,
        step_secs: 3_600,
        base: 60.0,
        trend_per_day: 1.0,
        daily_amplitude: 1.5,
        weekly_amplitude: 0.8,
        noise_sd: 0.4,
        anomalies: 0,
        warmup: 0,
        ..SeriesSpec::default()
    };
    let history = labelled_series(&spec, args.seed).series;
    let (now, current) = history.last().ok_or("empty history")?;
    let mut predictor = CapacityPredictor::new(ForecastConfig::default());
    predictor.train("disk", &history)?;
    let rows = predictor.predict_steps("disk", args.days as usize * 24, 3_600_000)?;
    let breach = match predictor.check_capacity_risk(
        "disk",
        Threshold::Above(args.threshold),
        current,
        now,
    )? {
        RiskAssessment::AtRisk(r) => Some(r.predicted_date),
        _ => None,
    };

    let t0 = history.timestamps()[0];
    let days = |t: Timestamp| t.secs_since(t0) / 86_400.0;
    let x_end = rows.last().map_or(days(now), |r| days(r.timestamp));
    let y_lo = history
        .values()
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        - 2.0;
    let y_hi = rows.iter().map(|r| r.upper).fold(args.threshold, f64::max) + 2.0;

    let root = SVGBackend::new(&args.out, (900, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "disk use: history, Prophet forecast with 95 % band, threshold, first breach",
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(28)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..x_end, y_lo..y_hi)?;
    chart
        .configure_mesh()
        .x_desc("days")
        .y_desc("% used")
        .draw()?;
    let band: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (days(r.timestamp), r.upper))
        .chain(rows.iter().rev().map(|r| (days(r.timestamp), r.lower)))
        .collect();
    chart.draw_series(std::iter::once(Polygon::new(
        band,
        RGBColor(120, 160, 255).mix(0.35).filled(),
    )))?;
    chart.draw_series(LineSeries::new(
        history.iter().map(|(t, v)| (days(t), v)),
        &BLACK,
    ))?;
    chart.draw_series(LineSeries::new(
        rows.iter().map(|r| (days(r.timestamp), r.yhat)),
        &BLUE,
    ))?;
    chart.draw_series(LineSeries::new(
        [(0.0, args.threshold), (x_end, args.threshold)],
        RED.stroke_width(2),
    ))?;
    if let Some(b) = breach {
        let x = days(b);
        chart.draw_series(LineSeries::new([(x, y_lo), (x, y_hi)], RED.stroke_width(1)))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("first breach {}", b.to_rfc3339()),
            ((x - 0.25 * x_end).max(0.0), y_lo + 0.6 * (y_hi - y_lo)),
            ("sans-serif", 14).into_font().color(&RED),
        )))?;
    }
    root.present()?;
    Ok(breach)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(breach) => {
            match breach {
                Some(b) => println!(
                    "wrote {}: first breach of {} at {}",
                    args.out.display(),
                    args.threshold,
                    b.to_rfc3339()
                ),
                None => println!(
                    "wrote {}: no breach of {} within {} days",
                    args.out.display(),
                    args.threshold,
                    args.days
                ),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("plot_forecast: error: {e}");
            ExitCode::FAILURE
        }
    }
}
