//! The article's `CapacityPredictor`: one model per metric, daily predictions, capacity risk.

use std::collections::HashMap;

use aiops_core::{TimeSeries, Timestamp};

use crate::config::{ForecastConfig, ModelKind};
use crate::error::{ForecastError, Result};
use crate::model::{FittedModel, ForecastRow, validate};

const DAY_MS: i64 = 86_400_000;

/// A capacity threshold: breached when the forecast goes above it (usage) or below it
/// (free space, with [`Threshold::Below`]).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Threshold {
    /// Risk when `yhat_upper` exceeds the value (the article's check).
    Above(f64),
    /// Risk when `yhat_lower` falls below the value (a floor, e.g. free space).
    Below(f64),
}

impl Threshold {
    fn value(self) -> f64 {
        match self {
            Threshold::Above(v) | Threshold::Below(v) => v,
        }
    }

    fn breached_by_row(self, r: &ForecastRow, bounds: (Option<f64>, Option<f64>)) -> bool {
        match self {
            Threshold::Above(_) => self.breached_by_value(r.upper, bounds),
            Threshold::Below(_) => self.breached_by_value(r.lower, bounds),
        }
    }

    /// Whether `x` is beyond the threshold, or at a hard limit (`bounds`) that the threshold
    /// is at or beyond: forecasts are clamped into the limits, so a bound hides how far past
    /// it a forecast went, and an upper bound of 100 with `Above(100.0)` was never breached
    /// ("no capacity risk" while the forecast sat at 100).
    fn breached_by_value(self, x: f64, bounds: (Option<f64>, Option<f64>)) -> bool {
        match self {
            Threshold::Above(v) => x > v || bounds.1.is_some_and(|b| v >= b && x >= b),
            Threshold::Below(v) => x < v || bounds.0.is_some_and(|b| v <= b && x <= b),
        }
    }
}

/// How soon the threshold is breached: high under 7 days, medium under 30, else low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum RiskLevel {
    /// 30 days or more away.
    Low,
    /// 7 to 29 days away.
    Medium,
    /// Under 7 days away, or already breached.
    High,
}

impl RiskLevel {
    /// `"high"`, `"medium"` or `"low"`, as the article spells them.
    pub const fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
        }
    }

    fn from_days(days: u64) -> Self {
        if days < 7 {
            RiskLevel::High
        } else if days < 30 {
            RiskLevel::Medium
        } else {
            RiskLevel::Low
        }
    }
}

/// A predicted breach.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct CapacityRisk {
    /// The risk level.
    pub level: RiskLevel,
    /// Whole days from `now` to the first breaching row (0 when already breached; never
    /// negative).
    pub days_until_risk: u64,
    /// Timestamp of the first breaching row (`predicted_date` in the article).
    pub predicted_date: Timestamp,
    /// Its point forecast.
    pub predicted_value: f64,
    /// Its interval `(lower, upper)`.
    pub interval: (f64, f64),
    /// The article's recommendation for disk, memory, cpu or other metrics.
    pub recommendation: String,
    /// Whole days until the point forecast reaches the configured hard limit (upper bound for
    /// [`Threshold::Above`], lower bound for [`Threshold::Below`]), when it does so within the
    /// horizon.
    pub days_until_limit: Option<u64>,
}

/// The outcome of a capacity check.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum RiskAssessment {
    /// No breach within the predicted horizon.
    NoRisk {
        /// The last predicted timestamp.
        horizon_end: Timestamp,
        /// Days from `now` to `horizon_end`.
        horizon_days: f64,
        /// `"No capacity risk in the next N days"`, naming the real horizon.
        message: String,
    },
    /// A breach is predicted (or has happened).
    AtRisk(CapacityRisk),
}

impl RiskAssessment {
    /// The risk level, `None` when there is no risk.
    pub fn level(&self) -> Option<RiskLevel> {
        match self {
            RiskAssessment::AtRisk(r) => Some(r.level),
            RiskAssessment::NoRisk { .. } => None,
        }
    }
}

/// The article's recommendation text, with its bugs fixed: days are never negative and the
/// disk lead time `days - 3` is floored at 0. For a floor threshold the rate is the decline.
/// Amounts are in the series' own unit: the article wrote "GB", but a series carries no unit
/// (a disk may be measured in percent), so the text names none.
fn recommendation(metric: &str, days: u64, current: f64, threshold: Threshold) -> String {
    let gap = match threshold {
        Threshold::Above(t) => t - current,
        Threshold::Below(t) => current - t,
    };
    // Already breached: the overshoot, so the advice never asks for negative capacity.
    let growth_rate = gap.abs() / days.max(1) as f64;
    let name = metric.to_lowercase();
    if name.contains("disk") {
        let lead = days.saturating_sub(3);
        format!(
            "Suggest expanding disk in {lead} {}, by approx. {:.1} (a week of growth, in the \
             metric's unit)",
            if lead == 1 { "day" } else { "days" },
            growth_rate * 7.0
        )
    } else if name.contains("memory") {
        format!(
            "Suggest adding memory or optimizing usage, daily growth ≈ {growth_rate:.2} (in the \
             metric's unit)"
        )
    } else if name.contains("cpu") {
        "Suggest performance tuning or adding compute resources".to_string()
    } else {
        "Recommend monitoring and appropriate scaling".to_string()
    }
}

/// Whole days as an integer, fractions with one decimal ("30", "0.2").
fn days_text(days: f64) -> String {
    if (days - days.round()).abs() < 1e-9 {
        format!("{}", days.round() as i64)
    } else {
        format!("{days:.1}")
    }
}

/// `to - from` in milliseconds, exact: the distance of two `i64` instants can exceed `i64`.
fn millis_between(from: Timestamp, to: Timestamp) -> i128 {
    i128::from(to.as_millis()) - i128::from(from.as_millis())
}

/// Whole days from `from` to `to`, 0 when `to` is not after `from`.
fn whole_days(from: Timestamp, to: Timestamp) -> u64 {
    let ms = millis_between(from, to);
    if ms <= 0 {
        0
    } else {
        // At most 2^64 ms / DAY_MS, far below u64::MAX: the fallback is never taken.
        u64::try_from(ms / i128::from(DAY_MS)).unwrap_or(u64::MAX)
    }
}

/// One forecasting model per metric, as in the article: `train`, `predict`, then
/// `check_capacity_risk`.
///
/// ```
/// use aiops_core::{TimeSeries, Timestamp};
/// use aiops_forecast::{CapacityPredictor, ForecastConfig, RiskAssessment, RiskLevel, Threshold};
///
/// // 60 days of disk usage growing 0.5 GB a day from 50 GB, with a weekly wiggle.
/// let start = Timestamp::parse("2026-09-01")?;
/// let values: Vec<f64> = (0..60).map(|d| 50.0 + 0.5 * d as f64 + [0.0, 0.3, -0.2, 0.1, 0.0, -0.4, 0.2][d % 7]).collect();
/// let series = TimeSeries::regular(start, 86_400_000, values)?;
///
/// let mut predictor = CapacityPredictor::new(ForecastConfig::default().with_seasonalities(false, true, false));
/// predictor.train("disk_used_gb", &series)?;
/// let rows = predictor.predict("disk_used_gb", 30)?;
/// assert_eq!(rows.len(), 30);
///
/// let now = series.timestamps()[59];
/// let risk = predictor.check_capacity_risk("disk_used_gb", Threshold::Above(90.0), 79.5, now)?;
/// let RiskAssessment::AtRisk(r) = risk else { panic!("growth reaches 90 GB in ~21 days") };
/// assert_eq!(r.level, RiskLevel::Medium);
/// assert!(r.recommendation.starts_with("Suggest expanding disk in"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct CapacityPredictor {
    config: ForecastConfig,
    models: HashMap<String, FittedModel>,
    predictions: HashMap<String, Vec<ForecastRow>>,
}

impl CapacityPredictor {
    /// A predictor whose models use `config` (see [`ForecastConfig::default`] for the
    /// article's settings).
    pub fn new(config: ForecastConfig) -> Self {
        CapacityPredictor {
            config,
            models: HashMap::new(),
            predictions: HashMap::new(),
        }
    }

    /// The configuration new models use.
    pub fn config(&self) -> &ForecastConfig {
        &self.config
    }

    /// Trains (or retrains) the model of `metric` on its history; returns the model used.
    /// A previous prediction for the metric is dropped.
    pub fn train(&mut self, metric: &str, series: &TimeSeries) -> Result<ModelKind> {
        let cfg = self.config.clone();
        self.train_with(metric, series, &cfg)
    }

    /// [`CapacityPredictor::train`] with settings for this metric only (its own bounds,
    /// seasonalities, model).
    pub fn train_with(
        &mut self,
        metric: &str,
        series: &TimeSeries,
        config: &ForecastConfig,
    ) -> Result<ModelKind> {
        let model = FittedModel::fit_inner(metric, series.timestamps(), series.values(), config)?;
        let used = model.model();
        self.models.insert(metric.to_string(), model);
        self.predictions.remove(metric);
        Ok(used)
    }

    /// Trains from raw timestamps and values, validating them (lengths, finite values, strictly
    /// increasing timestamps).
    pub fn train_points(
        &mut self,
        metric: &str,
        timestamps: &[Timestamp],
        values: &[f64],
    ) -> Result<ModelKind> {
        validate(timestamps, values)?;
        let cfg = self.config.clone();
        let model = FittedModel::fit_inner(metric, timestamps, values, &cfg)?;
        let used = model.model();
        self.models.insert(metric.to_string(), model);
        self.predictions.remove(metric);
        Ok(used)
    }

    /// Predicts `days_ahead` daily rows after the last training timestamp (the article's
    /// `make_future_dataframe(periods=days_ahead)`), and keeps them for the risk check.
    pub fn predict(&mut self, metric: &str, days_ahead: u32) -> Result<Vec<ForecastRow>> {
        self.predict_steps(metric, days_ahead as usize, DAY_MS)
    }

    /// Predicts `steps` rows `step_millis` apart after the last training timestamp.
    pub fn predict_steps(
        &mut self,
        metric: &str,
        steps: usize,
        step_millis: i64,
    ) -> Result<Vec<ForecastRow>> {
        let model = self
            .models
            .get(metric)
            .ok_or_else(|| ForecastError::UnknownMetric(metric.to_string()))?;
        let rows = model.forecast(steps, step_millis)?;
        self.predictions.insert(metric.to_string(), rows.clone());
        Ok(rows)
    }

    /// The fitted model of a metric.
    pub fn model(&self, metric: &str) -> Option<&FittedModel> {
        self.models.get(metric)
    }

    /// The last prediction of a metric.
    pub fn predictions(&self, metric: &str) -> Option<&[ForecastRow]> {
        self.predictions.get(metric).map(Vec::as_slice)
    }

    /// Checks the last prediction of `metric` against `threshold`, with `current_value` the
    /// metric's value now and `now` the current time (the library has no clock).
    ///
    /// The first row whose upper bound is above an [`Threshold::Above`] (lower bound below a
    /// [`Threshold::Below`]) is the predicted breach; with a threshold at or beyond the
    /// model's hard limit ([`ForecastConfig::with_bounds`]), which no clamped row can pass,
    /// the first row whose bound reaches the limit. When `current_value` already breaches
    /// (by the same rule), the risk is high with 0 days. Errors:
    /// [`ForecastError::NoPrediction`] when `predict` has not run for the metric (the article
    /// returns `None` there), [`ForecastError::InvalidParameter`] for a non-finite threshold or
    /// current value.
    pub fn check_capacity_risk(
        &self,
        metric: &str,
        threshold: Threshold,
        current_value: f64,
        now: Timestamp,
    ) -> Result<RiskAssessment> {
        let rows = self
            .predictions
            .get(metric)
            .ok_or_else(|| ForecastError::NoPrediction(metric.to_string()))?;
        if !threshold.value().is_finite() {
            return Err(ForecastError::InvalidParameter {
                name: "threshold",
                reason: format!("must be finite, got {}", threshold.value()),
            });
        }
        if !current_value.is_finite() {
            return Err(ForecastError::InvalidParameter {
                name: "current_value",
                reason: format!("must be finite, got {current_value}"),
            });
        }
        let config = self.models.get(metric).map_or(&self.config, |m| m.config());
        let bounds = config.bounds();
        let breached_now = threshold.breached_by_value(current_value, bounds);
        let first = rows.iter().find(|r| threshold.breached_by_row(r, bounds));
        let row = match (first, breached_now) {
            (Some(r), _) => r,
            (None, true) => match rows.first() {
                Some(r) => r,
                None => return Err(ForecastError::NoPrediction(metric.to_string())),
            },
            (None, false) => {
                let end = rows.last().map_or(now, |r| r.timestamp);
                let horizon_days = millis_between(now, end) as f64 / DAY_MS as f64;
                return Ok(RiskAssessment::NoRisk {
                    horizon_end: end,
                    horizon_days,
                    message: format!(
                        "No capacity risk in the next {} days (until {})",
                        days_text(horizon_days.max(0.0)),
                        end.to_rfc3339()
                    ),
                });
            }
        };
        let days = if breached_now {
            0
        } else {
            whole_days(now, row.timestamp)
        };
        let limit = match threshold {
            Threshold::Above(_) => config
                .bounds()
                .1
                .and_then(|u| rows.iter().find(|r| r.yhat >= u)),
            Threshold::Below(_) => config
                .bounds()
                .0
                .and_then(|l| rows.iter().find(|r| r.yhat <= l)),
        };
        Ok(RiskAssessment::AtRisk(CapacityRisk {
            level: RiskLevel::from_days(days),
            days_until_risk: days,
            predicted_date: row.timestamp,
            predicted_value: row.yhat,
            interval: (row.lower, row.upper),
            recommendation: recommendation(metric, days, current_value, threshold),
            days_until_limit: limit.map(|r| whole_days(now, r.timestamp)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daily(values: Vec<f64>) -> TimeSeries {
        TimeSeries::regular(Timestamp::parse("2026-01-01").unwrap(), DAY_MS, values).unwrap()
    }

    fn predictor_with(metric: &str, values: Vec<f64>, cfg: ForecastConfig) -> CapacityPredictor {
        let mut p = CapacityPredictor::new(cfg);
        p.train(metric, &daily(values)).unwrap();
        p
    }

    #[test]
    fn recommendation_texts_follow_the_article() {
        // growth = (90 - 60) / 10 = 3 per day; disk: in 10 - 3 = 7 days, 3 * 7 = 21.0. The
        // article's "GB" is gone: the series' unit is unknown (often percent).
        assert_eq!(
            recommendation("disk_usage", 10, 60.0, Threshold::Above(90.0)),
            "Suggest expanding disk in 7 days, by approx. 21.0 (a week of growth, in the \
             metric's unit)"
        );
        // Fixed bug: 1 day away gives 0 days, not -2.
        assert!(recommendation("Disk", 1, 60.0, Threshold::Above(90.0)).contains("in 0 days,"));
        // One day is singular: 4 days away, expand in 1 day.
        assert!(recommendation("disk", 4, 60.0, Threshold::Above(90.0)).contains("in 1 day,"));
        // memory: (16 - 12) / max(0, 1) = 4.00.
        assert_eq!(
            recommendation("memory_gb", 0, 12.0, Threshold::Above(16.0)),
            "Suggest adding memory or optimizing usage, daily growth ≈ 4.00 (in the metric's \
             unit)"
        );
        for (metric, days) in [("disk", 10), ("disk_percent", 4), ("memory", 3)] {
            let text = recommendation(metric, days, 60.0, Threshold::Above(90.0));
            assert!(!text.contains("GB") && !text.contains(" 1 days"), "{text}");
        }
        assert!(recommendation("cpu", 3, 1.0, Threshold::Above(2.0)).contains("compute"));
        assert!(recommendation("qps", 3, 1.0, Threshold::Above(2.0)).contains("monitoring"));
        // Already over: the overshoot (95 - 90) / 1 * 7 = 35.0, never negative.
        assert!(recommendation("disk", 0, 95.0, Threshold::Above(90.0)).contains("approx. 35.0 "));
        assert_eq!(days_text(30.0), "30");
        assert_eq!(days_text(5.0 / 24.0), "0.2");
        // Floor: free space 40 falling to 10 in 5 days: 6 per day, 42.0 a week.
        assert!(recommendation("disk_free", 5, 40.0, Threshold::Below(10.0)).contains("42.0"));
    }

    #[test]
    fn unknown_metric_and_missing_prediction_are_errors() {
        let mut p = predictor_with(
            "m",
            (0..20).map(f64::from).collect(),
            ForecastConfig::default(),
        );
        assert!(matches!(
            p.predict("x", 3),
            Err(ForecastError::UnknownMetric(_))
        ));
        let now = Timestamp::parse("2026-01-20").unwrap();
        assert!(matches!(
            p.check_capacity_risk("m", Threshold::Above(1.0), 0.0, now),
            Err(ForecastError::NoPrediction(_))
        ));
        assert!(matches!(
            p.predict("m", 0),
            Err(ForecastError::InvalidHorizon(_))
        ));
        p.predict("m", 3).unwrap();
        assert!(
            p.check_capacity_risk("m", Threshold::Above(f64::NAN), 0.0, now)
                .is_err()
        );
    }

    #[test]
    fn rising_series_gives_days_level_and_no_risk_names_the_horizon() {
        // A clean line 0, 1, 2, ... (linear model): day 19 is the last point.
        let cfg = ForecastConfig::default().with_model(ModelKind::Linear);
        let mut p = predictor_with("cpu_load", (0..20).map(f64::from).collect(), cfg);
        let rows = p.predict("cpu_load", 30).unwrap();
        assert_eq!(rows.len(), 30);
        assert_eq!(rows[0].timestamp, Timestamp::parse("2026-01-21").unwrap());
        let now = Timestamp::parse("2026-01-20").unwrap();
        // yhat on day 19 + k is 19 + k; upper = yhat exactly (zero residuals): first > 29.5 is
        // k = 11 -> 2026-01-31, 11 days from now -> medium.
        let RiskAssessment::AtRisk(r) = p
            .check_capacity_risk("cpu_load", Threshold::Above(29.5), 19.0, now)
            .unwrap()
        else {
            panic!("expected risk")
        };
        assert_eq!(r.days_until_risk, 11);
        assert_eq!(r.level, RiskLevel::Medium);
        assert_eq!(r.predicted_date.date_string(), "2026-01-31");
        assert!((r.predicted_value - 30.0).abs() < 1e-9);
        // Beyond the horizon: no risk, naming the 30 days.
        let none = p
            .check_capacity_risk("cpu_load", Threshold::Above(1000.0), 19.0, now)
            .unwrap();
        let RiskAssessment::NoRisk { message, .. } = none else {
            panic!()
        };
        assert!(message.contains("next 30 days"), "{message}");
        // A shorter prediction names its own horizon.
        p.predict("cpu_load", 5).unwrap();
        let RiskAssessment::NoRisk { message, .. } = p
            .check_capacity_risk("cpu_load", Threshold::Above(1000.0), 19.0, now)
            .unwrap()
        else {
            panic!()
        };
        assert!(message.contains("next 5 days"), "{message}");
    }

    #[test]
    fn already_breached_and_past_now_never_go_negative() {
        let cfg = ForecastConfig::default().with_model(ModelKind::Linear);
        let mut p = predictor_with("disk", (0..20).map(f64::from).collect(), cfg);
        p.predict("disk", 10).unwrap();
        // `now` far after the predicted rows: days are 0, not negative.
        let late = Timestamp::parse("2027-01-01").unwrap();
        let r = p
            .check_capacity_risk("disk", Threshold::Above(20.5), 19.0, late)
            .unwrap();
        let RiskAssessment::AtRisk(r) = r else {
            panic!()
        };
        assert_eq!(r.days_until_risk, 0);
        assert_eq!(r.level, RiskLevel::High);
        // Current value already over the threshold.
        let now = Timestamp::parse("2026-01-20").unwrap();
        let RiskAssessment::AtRisk(r) = p
            .check_capacity_risk("disk", Threshold::Above(5.0), 19.0, now)
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(r.days_until_risk, 0);
    }

    #[test]
    fn floor_threshold_and_limit_for_free_space() {
        // Free space falling 2 GB/day from 40: reaches 0 on day 20.
        let cfg = ForecastConfig::default()
            .with_model(ModelKind::Linear)
            .with_bounds(Some(0.0), None)
            .unwrap();
        let mut p = predictor_with(
            "disk_free_gb",
            (0..10).map(|d| 40.0 - 2.0 * f64::from(d)).collect(),
            cfg,
        );
        let rows = p.predict("disk_free_gb", 30).unwrap();
        assert!(rows.iter().all(|r| r.lower >= 0.0 && r.yhat >= 0.0));
        let now = Timestamp::parse("2026-01-10").unwrap();
        let RiskAssessment::AtRisk(r) = p
            .check_capacity_risk("disk_free_gb", Threshold::Below(10.0), 22.0, now)
            .unwrap()
        else {
            panic!()
        };
        // yhat day 9 + k = 22 - 2k; first below 10 at k = 7 (8), 2026-01-17, 7 days.
        assert_eq!(r.days_until_risk, 7);
        assert_eq!(r.level, RiskLevel::Medium);
        // Reaches the floor 0 at k = 11 (2026-01-21).
        assert_eq!(r.days_until_limit, Some(11));
    }

    #[test]
    fn a_threshold_at_the_hard_limit_is_breached_where_the_forecast_reaches_it() {
        // Disk in percent rising 0.5 a day from 70, bounded at 100: every row is clamped to at
        // most 100, so `Above(100.0)` was never breached and the check said "no capacity risk"
        // while the forecast sat at 100 for the last month of the horizon.
        let values: Vec<f64> = (0..60).map(|d| 70.0 + 0.5 * f64::from(d)).collect();
        let now = Timestamp::parse("2026-03-01").unwrap();
        let unbounded = ForecastConfig::default().with_model(ModelKind::Linear);
        let bounded = unbounded.clone().with_bounds(None, Some(100.0)).unwrap();
        let mut days = Vec::new();
        for cfg in [unbounded, bounded.clone()] {
            let mut p = predictor_with("disk_percent", values.clone(), cfg);
            p.predict("disk_percent", 60).unwrap();
            let risk = p
                .check_capacity_risk("disk_percent", Threshold::Above(100.0), 99.5, now)
                .unwrap();
            let RiskAssessment::AtRisk(r) = risk else {
                panic!("{risk:?}")
            };
            days.push(r.days_until_risk);
        }
        // yhat on day 59 + k is 99.5 + 0.5 k (zero residuals): above 100 from k = 2 unbounded,
        // at the limit 100 from k = 1 bounded.
        assert_eq!(days, [2, 1]);
        // Already at the limit: breached now.
        let mut p = predictor_with("disk_percent", values.clone(), bounded.clone());
        p.predict("disk_percent", 60).unwrap();
        let RiskAssessment::AtRisk(r) = p
            .check_capacity_risk("disk_percent", Threshold::Above(100.0), 100.0, now)
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(r.days_until_risk, 0);
        // A threshold below the limit keeps the plain rule: first row above 99.9 is k = 1.
        let RiskAssessment::AtRisk(r) = p
            .check_capacity_risk("disk_percent", Threshold::Above(99.9), 99.5, now)
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(r.days_until_risk, 1);
        // The same for a floor: free space falling to the lower bound 0.
        let free = ForecastConfig::default()
            .with_model(ModelKind::Linear)
            .with_bounds(Some(0.0), None)
            .unwrap();
        let mut p = predictor_with(
            "disk_free",
            (0..10).map(|d| 40.0 - 2.0 * f64::from(d)).collect(),
            free,
        );
        p.predict("disk_free", 30).unwrap();
        let now = Timestamp::parse("2026-01-10").unwrap();
        let RiskAssessment::AtRisk(r) = p
            .check_capacity_risk("disk_free", Threshold::Below(0.0), 22.0, now)
            .unwrap()
        else {
            panic!("free space reaches 0 on 2026-01-21")
        };
        assert_eq!(r.days_until_risk, 11);
        assert_eq!(r.days_until_limit, Some(11));
    }

    #[test]
    fn a_weekly_series_is_breached_on_the_day_its_line_crosses() {
        // Weekly samples growing 7 a week (1 a day), daily predictions: each row took the
        // forecast of the nearest week, never the last observation, so rows 1-10 all showed
        // day 7's value and a threshold 6.5 above the last value was breached "in 1 day"
        // (high) instead of 7 (medium).
        let start = Timestamp::parse("2026-01-01").unwrap();
        let values: Vec<f64> = (0..12).map(|w| 100.0 + 7.0 * f64::from(w)).collect();
        let series = TimeSeries::regular(start, 7 * DAY_MS, values).unwrap();
        let now = series.timestamps()[11];
        let mut p = CapacityPredictor::new(ForecastConfig::default().with_model(ModelKind::Linear));
        p.train("disk", &series).unwrap();
        let rows = p.predict("disk", 30).unwrap();
        // The line, exactly (zero residuals): 177 + d on day d.
        for (d, r) in (1..).zip(&rows) {
            assert!(
                (r.yhat - (177.0 + f64::from(d))).abs() < 1e-9,
                "day {d}: {r:?}"
            );
        }
        let RiskAssessment::AtRisk(r) = p
            .check_capacity_risk("disk", Threshold::Above(183.5), 177.0, now)
            .unwrap()
        else {
            panic!("the line crosses 183.5 on day 7")
        };
        assert_eq!(r.days_until_risk, 7);
        assert_eq!(r.level, RiskLevel::Medium);
    }

    #[test]
    fn now_at_the_start_of_time_gives_exact_days() {
        let cfg = ForecastConfig::default().with_model(ModelKind::Linear);
        let mut p = predictor_with("cpu_load", (0..20).map(f64::from).collect(), cfg);
        p.predict("cpu_load", 3).unwrap();
        let now = Timestamp::from_millis(i64::MIN);
        // Rows at 2026-01-21, -22, -23 (1_769_126_400_000 ms); by hand (Python integers):
        // (1_769_126_400_000 + 2^63) / 86_400_000 = 106_752_011_643.300_64 days.
        let RiskAssessment::NoRisk { horizon_days, .. } = p
            .check_capacity_risk("cpu_load", Threshold::Above(1e9), 0.0, now)
            .unwrap()
        else {
            panic!("no row reaches 1e9")
        };
        assert!(
            (horizon_days - 106_752_011_643.300_64).abs() < 1e-3,
            "{horizon_days}"
        );
        // First row over 20 is 2026-01-21 (1_768_953_600_000 ms): (that + 2^63) // 86_400_000
        // = 106_752_011_641 whole days, not the 106_751_991_167 a saturated i64 would give.
        let RiskAssessment::AtRisk(r) = p
            .check_capacity_risk("cpu_load", Threshold::Above(19.5), 0.0, now)
            .unwrap()
        else {
            panic!("20 > 19.5")
        };
        assert_eq!(r.days_until_risk, 106_752_011_641);
        assert_eq!(r.level, RiskLevel::Low);
    }
}
