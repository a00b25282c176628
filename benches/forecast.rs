//! aiops-forecast benchmarks: Prophet fit + predict (pure-Rust MAP optimizer, 1000 seeded
//! uncertainty samples over the future rows only) on 2 years of hourly data (17,520 points,
//! daily + weekly + yearly seasonality, 720 future hourly rows) and 3 years of daily data
//! (1,095 points, weekly + yearly, 30 future daily rows), plus the fast `auto` model.
//!
//! `cargo bench --bench forecast` (quick check: `cargo bench --bench forecast -- --test`).
//! Python Prophet's side, same series, same work: `python3 scripts/forecast_bench_prophet.py`.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use aiops::core::{TimeSeries, Timestamp};
use aiops::forecast::{FittedModel, ForecastConfig, ModelKind};
use criterion::{Criterion, criterion_group, criterion_main};

/// The benchmark series; `scripts/forecast_bench_prophet.py` builds the same values.
fn series(n: usize, step_secs: i64, steps_per_day: f64) -> TimeSeries {
    let tau = std::f64::consts::TAU;
    let values = (0..n)
        .map(|i| {
            let t = i as f64;
            let day = t / steps_per_day;
            let noise = ((t * 12.9898).sin() * 43_758.545_3).fract();
            100.0
                + 0.01 * day
                + 10.0 * (tau * day).sin()
                + 5.0 * (tau * day / 7.0).sin()
                + 8.0 * (tau * day / 365.25).sin()
                + 2.0 * noise
        })
        .collect();
    // 2021-01-01T00:00:00Z.
    TimeSeries::regular(
        Timestamp::from_secs(1_609_459_200),
        step_secs * 1000,
        values,
    )
    .expect("valid benchmark series")
}

fn bench(c: &mut Criterion) {
    let no_holidays = ForecastConfig::default()
        .with_model(ModelKind::Prophet)
        .with_countries(vec![]);
    let hourly = series(17_520, 3600, 24.0);
    let daily = series(1_095, 86_400, 1.0);
    let mut g = c.benchmark_group("forecast");
    g.sample_size(10);
    let cfg_h = no_holidays.clone().with_seasonalities(true, true, true);
    g.bench_function("prophet_hourly_2y_fit_predict_720", |b| {
        b.iter(|| {
            let m = FittedModel::fit(black_box(&hourly), &cfg_h).expect("fit");
            m.forecast(720, 3_600_000).expect("forecast")
        });
    });
    let cfg_d = no_holidays.clone().with_seasonalities(true, true, false);
    g.bench_function("prophet_daily_3y_fit_predict_30", |b| {
        b.iter(|| {
            let m = FittedModel::fit(black_box(&daily), &cfg_d).expect("fit");
            m.forecast(30, 86_400_000).expect("forecast")
        });
    });
    let cfg_auto = no_holidays.with_model(ModelKind::Auto);
    g.bench_function("auto_hourly_2y_fit_predict_48", |b| {
        b.iter(|| {
            let m = FittedModel::fit(black_box(&hourly), &cfg_auto).expect("fit");
            m.forecast(48, 3_600_000).expect("forecast")
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
