//! Agreement with Python Prophet 1.5.0 on fixtures from `scripts/forecast_prophet_fixtures.py`.

use aiops_core::Timestamp;
use aiops_forecast::{Country, FittedModel, ForecastConfig, ModelKind};

struct Fixture {
    ds: Vec<Timestamp>,
    y: Vec<f64>,
    train: usize,
    yhat: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
}

fn load(name: &str) -> Fixture {
    let path = format!("{}/tests/fixtures/{name}.csv", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut f = Fixture {
        ds: vec![],
        y: vec![],
        train: 0,
        yhat: vec![],
        lower: vec![],
        upper: vec![],
    };
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        f.ds.push(Timestamp::from_secs(c[0].parse().unwrap()));
        f.y.push(c[1].parse().unwrap());
        if c[2] == "1" {
            f.train += 1;
        }
        f.yhat.push(c[3].parse().unwrap());
        f.lower.push(c[4].parse().unwrap());
        f.upper.push(c[5].parse().unwrap());
    }
    f
}

/// The settings the script gave Python Prophet for each fixture.
fn config(name: &str) -> ForecastConfig {
    let base = ForecastConfig::default().with_model(ModelKind::Prophet);
    match name {
        "daily_holidays" => base
            .with_seasonalities(true, true, false)
            .with_countries(vec![Country::Cn]),
        "hourly" => base
            .with_seasonalities(false, true, true)
            .with_countries(vec![]),
        _ => base
            .with_seasonalities(false, true, false)
            .with_countries(vec![]),
    }
}

/// (max |yhat diff| / range, our held-out coverage, Prophet's held-out coverage, held-out n).
fn compare(name: &str) -> (f64, f64, f64, usize) {
    let f = load(name);
    let model = FittedModel::fit_points(&f.ds[..f.train], &f.y[..f.train], &config(name)).unwrap();
    assert_eq!(model.model(), ModelKind::Prophet);
    let rows = model.predict_at(&f.ds).unwrap();
    let lo = f.y[..f.train].iter().copied().fold(f64::INFINITY, f64::min);
    let hi = f.y[..f.train]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let range = hi - lo;
    let worst = rows
        .iter()
        .zip(&f.yhat)
        .map(|(r, p)| (r.yhat - p).abs() / range)
        .fold(0.0, f64::max);
    let held = f.y.len() - f.train;
    let covered = |lower: &dyn Fn(usize) -> f64, upper: &dyn Fn(usize) -> f64| {
        (f.train..f.y.len())
            .filter(|&i| f.y[i] >= lower(i) && f.y[i] <= upper(i))
            .count() as f64
            / held as f64
    };
    let ours = covered(&|i| rows[i].lower, &|i| rows[i].upper);
    let theirs = covered(&|i| f.lower[i], &|i| f.upper[i]);
    (worst, ours, theirs, held)
}

#[test]
fn yhat_within_two_percent_of_range_and_coverage_as_close_to_95() {
    let mut ours_total = 0.0;
    let mut theirs_total = 0.0;
    let mut n_total = 0.0;
    for name in [
        "daily_holidays",
        "hourly",
        "trend_change",
        "flat",
        "noisy",
        "short",
    ] {
        let (worst, ours, theirs, held) = compare(name);
        eprintln!(
            "{name}: max |dyhat|/range {worst:.4}, coverage ours {ours:.3} prophet {theirs:.3}"
        );
        assert!(
            worst <= 0.02,
            "{name}: yhat differs by {worst} of the range"
        );
        ours_total += ours * held as f64;
        theirs_total += theirs * held as f64;
        n_total += held as f64;
    }
    let ours = ours_total / n_total;
    let theirs = theirs_total / n_total;
    assert!(
        (ours - 0.95).abs() <= (theirs - 0.95).abs() + 1e-9,
        "pooled held-out coverage ours {ours:.3} vs Prophet {theirs:.3}"
    );
}
