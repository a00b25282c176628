//! Property tests: forecasts stay inside their intervals and the hard bounds, whatever the
//! input; risk levels follow the days; days are never negative.

use aiops_core::{TimeSeries, Timestamp};
use aiops_forecast::{
    CapacityPredictor, FittedModel, ForecastConfig, ModelKind, RiskAssessment, RiskLevel, Threshold,
};
use proptest::prelude::*;

const FAST: [ModelKind; 4] = [
    ModelKind::Auto,
    ModelKind::Linear,
    ModelKind::SeasonalNaive,
    ModelKind::LagRegression,
];

fn series(values: Vec<f64>, step_secs: i64) -> TimeSeries {
    TimeSeries::regular(
        Timestamp::from_secs(1_767_225_600),
        step_secs * 1000,
        values,
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn rows_are_ordered_finite_and_inside_bounds(
        values in prop::collection::vec(-1e6f64..1e6, 2..400),
        model in 0usize..4,
        hourly in any::<bool>(),
        steps in 1usize..100,
        lo in -2e6f64..0.0,
        width in 1.0f64..4e6,
    ) {
        let hi = lo + width;
        let cfg = ForecastConfig::default()
            .with_model(FAST[model])
            .with_bounds(Some(lo), Some(hi))
            .unwrap();
        let step = if hourly { 3600 } else { 86_400 };
        let m = FittedModel::fit(&series(values, step), &cfg).unwrap();
        let rows = m.forecast(steps, step * 1000).unwrap();
        prop_assert_eq!(rows.len(), steps);
        for r in &rows {
            prop_assert!(r.yhat.is_finite() && r.lower.is_finite() && r.upper.is_finite());
            prop_assert!(lo <= r.lower && r.lower <= r.yhat && r.yhat <= r.upper && r.upper <= hi,
                "{:?} outside [{}, {}]", r, lo, hi);
        }
    }

    #[test]
    fn fast_forecasts_do_not_depend_on_the_unit(
        values in prop::collection::vec(-1e6f64..1e6, 2..400),
        model in 0usize..4,
        hourly in any::<bool>(),
        steps in 1usize..60,
        exponent in -200i32..=200,
    ) {
        // Bytes or gigabytes, the forecast is the same: forecast(unit * x) / unit ==
        // forecast(x), intervals included, for any unit from 1e-200 to 1e200.
        let unit = 10f64.powi(exponent);
        let cfg = ForecastConfig::default().with_model(FAST[model]);
        let step = if hourly { 3600 } else { 86_400 };
        let scaled: Vec<f64> = values.iter().map(|v| v * unit).collect();
        let top = values.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let base = FittedModel::fit(&series(values, step), &cfg).unwrap()
            .forecast(steps, step * 1000).unwrap();
        let rows = FittedModel::fit(&series(scaled, step), &cfg).unwrap()
            .forecast(steps, step * 1000).unwrap();
        for (a, b) in rows.iter().zip(&base) {
            for (x, want) in [(a.yhat, b.yhat), (a.lower, b.lower), (a.upper, b.upper)] {
                let got = x / unit;
                prop_assert!((got - want).abs() <= 1e-9 * want.abs().max(top),
                    "unit {:e}: {} vs {}", unit, got, want);
            }
        }
    }

    #[test]
    fn risk_days_and_levels_are_consistent(
        values in prop::collection::vec(0f64..100.0, 2..120),
        threshold in 0f64..150.0,
        current in 0f64..100.0,
        floor in any::<bool>(),
        now_offset_days in -5i64..60,
        days_ahead in 1u32..60,
    ) {
        let n = values.len() as i64;
        let s = series(values, 86_400);
        let cfg = ForecastConfig::default().with_model(ModelKind::Auto);
        let mut p = CapacityPredictor::new(cfg);
        p.train("disk_used", &s).unwrap();
        let rows = p.predict("disk_used", days_ahead).unwrap();
        let now = Timestamp::from_secs(1_767_225_600 + (n - 1 + now_offset_days) * 86_400);
        let t = if floor { Threshold::Below(threshold) } else { Threshold::Above(threshold) };
        match p.check_capacity_risk("disk_used", t, current, now).unwrap() {
            RiskAssessment::AtRisk(r) => {
                let expected = if r.days_until_risk < 7 {
                    RiskLevel::High
                } else if r.days_until_risk < 30 {
                    RiskLevel::Medium
                } else {
                    RiskLevel::Low
                };
                prop_assert_eq!(r.level, expected);
                let breached_now = if floor { current < threshold } else { current > threshold };
                let row = rows.iter().find(|x| x.timestamp == r.predicted_date).unwrap();
                let row_breaches = if floor { row.lower < threshold } else { row.upper > threshold };
                prop_assert!(breached_now || row_breaches, "risk without a breach");
                prop_assert!(!r.recommendation.contains("in -"));
            }
            RiskAssessment::NoRisk { message, .. } => {
                let clear = rows
                    .iter()
                    .all(|x| if floor { x.lower >= threshold } else { x.upper <= threshold });
                prop_assert!(clear, "no risk reported but a row breaches");
                prop_assert!(message.starts_with("No capacity risk in the next"));
            }
            _ => prop_assert!(false, "unexpected variant"),
        }
    }
}
