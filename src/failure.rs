//! Failure prediction (the article's roadmap): a capacity forecast and the anomaly trend of the
//! same metric combined into one early warning, emitted as an aiops-core [`Alert`] so it flows
//! into the same correlator and healing engine as every other alert.
//!
//! - The forecast (aiops-forecast, any [`ModelKind`]) says *when*: the first forecast step whose
//!   95 % band crosses the threshold is the predicted breach, and the time from `now` to it is
//!   the lead time.
//! - The anomaly trend (aiops-anomaly's streaming [`EnsembleDetector`]) says *whether the
//!   metric is already misbehaving*: how long its smoothed anomaly score has been rising.
//! - The severity comes from the lead time alone ([`severity_for_lead_time`]); the trend is
//!   reported in the message and the alert's annotations.
//!
//! ```
//! use aiops::core::{Severity, TimeSeries, Timestamp};
//! use aiops::failure::FailurePredictor;
//! use aiops::forecast::{ForecastConfig, ModelKind, Threshold};
//!
//! // Two weeks of hourly disk use (%) growing 0.1 points an hour from 50 %.
//! let start = Timestamp::parse("2026-11-01")?;
//! let values: Vec<f64> = (0..14 * 24).map(|h| 50.0 + 0.1 * f64::from(h) + [0.0, 0.2, -0.1][h as usize % 3]).collect();
//! let series = TimeSeries::regular(start, 3_600_000, values)?;
//! let now = series.last().unwrap().0;
//!
//! let predictor = FailurePredictor::new()
//!     .with_forecast(ForecastConfig::default().with_model(ModelKind::Linear));
//! let warning = predictor
//!     .predict("db-1", "disk", &series, Threshold::Above(90.0), now)?
//!     .expect("83.5 % now, 90 % in 65 hours");
//! assert_eq!(warning.severity, Severity::High);
//! assert!(warning.message().starts_with("disk on db-1 will breach 90 in about 3 days"));
//! let alert = warning.to_alert();
//! assert_eq!(alert.alertname(), Some("CapacityBreachPredicted"));
//! assert_eq!(alert.service(), Some("db-1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use aiops_anomaly::EnsembleDetector;
use aiops_core::stats::Ewma;
use aiops_core::{Alert, CoreError, Labels, Severity, TimeSeries, Timestamp};
use aiops_forecast::{CapacityPredictor, ForecastConfig, ModelKind, RiskAssessment, Threshold};

use crate::error::{Error, Result};

const HOUR_SECS: i64 = 3_600;
const DAY_SECS: i64 = 86_400;
/// Most forecast steps one prediction computes (the horizon is cut to fit).
pub const MAX_FORECAST_STEPS: usize = 20_000;

/// The severity of a predicted breach `lead_secs` away: critical within a day (or already
/// breached), high within 3 days, medium within 7, low within 30, info beyond.
///
/// ```
/// use aiops::core::Severity;
/// use aiops::failure::severity_for_lead_time;
/// assert_eq!(severity_for_lead_time(5 * 3_600), Severity::Critical);
/// assert_eq!(severity_for_lead_time(5 * 86_400), Severity::Medium);
/// assert_eq!(severity_for_lead_time(90 * 86_400), Severity::Info);
/// ```
pub fn severity_for_lead_time(lead_secs: i64) -> Severity {
    match lead_secs {
        s if s <= DAY_SECS => Severity::Critical,
        s if s < 3 * DAY_SECS => Severity::High,
        s if s < 7 * DAY_SECS => Severity::Medium,
        s if s < 30 * DAY_SECS => Severity::Low,
        _ => Severity::Info,
    }
}

/// "about 5 days", "about 7 hours", "about 40 minutes", "now".
fn lead_text(secs: i64) -> String {
    let (n, unit) = if secs <= 0 {
        return "now".to_owned();
    } else if secs >= 2 * DAY_SECS {
        ((secs + DAY_SECS / 2) / DAY_SECS, "day")
    } else if secs >= 2 * HOUR_SECS {
        ((secs + HOUR_SECS / 2) / HOUR_SECS, "hour")
    } else {
        (((secs + 30) / 60).max(1), "minute")
    };
    format!("in about {n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// "3 hours", "40 minutes", "2 days".
fn duration_text(secs: i64) -> String {
    let (n, unit) = if secs >= 2 * DAY_SECS {
        ((secs + DAY_SECS / 2) / DAY_SECS, "day")
    } else if secs >= 2 * HOUR_SECS {
        ((secs + HOUR_SECS / 2) / HOUR_SECS, "hour")
    } else {
        (((secs + 30) / 60).max(1), "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// A number without trailing zeros: `90`, `0.75`.
fn number_text(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// How an anomaly score has been rising at the end of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct AnomalyTrend {
    /// Where the rise began: the last point before the end whose smoothed score was within a
    /// tenth of the rise above the run's minimum.
    pub since: Timestamp,
    /// How long the smoothed score has been rising, up to the last point.
    pub rising_secs: i64,
    /// Smoothed score at `since`.
    pub from_score: f64,
    /// Smoothed score at the last point.
    pub to_score: f64,
}

/// The trend of `scores` (one per timestamp) at the end of the series: the scores are smoothed
/// with an EWMA of half-life `half_life_points`, and the rise is the run of non-decreasing
/// smoothed scores (allowing dips of `tolerance`) that ends at the last point, starting where
/// the score last stood within a tenth of the rise above the run's minimum (narrower when
/// needed to keep the reported rise at least `min_rise`). It is reported
/// when it climbs by at least `min_rise`; `None` otherwise.
///
/// A NaN or infinite score counts as 0 (no anomaly), as a detector's warm-up does. The
/// timestamps must be strictly increasing, as in a [`TimeSeries`]: an out-of-order or repeated
/// one is the error [`TimeSeries::try_new`] gives ([`CoreError::Unsorted`] or
/// [`CoreError::DuplicateTimestamp`], naming its index), as is a different number of scores
/// and timestamps ([`Error::InvalidParameter`] naming `scores`), or a negative or non-finite
/// `tolerance` or `min_rise`, or a `half_life_points` that is not finite and > 0.
///
/// ```
/// use aiops::core::Timestamp;
/// use aiops::failure::anomaly_trend;
/// let ts: Vec<Timestamp> = (0..10).map(|i| Timestamp::from_secs(3_600 * i)).collect();
/// let scores = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.3, 0.5, 0.7, 0.9];
/// let t = anomaly_trend(&ts, &scores, 1.0, 0.0, 0.2)?.unwrap();
/// assert_eq!((t.since, t.rising_secs), (ts[5], 4 * 3_600));
/// assert!(t.from_score < 0.11 && t.to_score > 0.6); // smoothed with half-life 1 point
///
/// // Timestamps out of order are an error naming the index.
/// let mut back = ts.clone();
/// back.swap(3, 4);
/// let e = anomaly_trend(&back, &scores, 1.0, 0.0, 0.2).unwrap_err();
/// assert!(e.to_string().contains("index 4"), "{e}");
/// # Ok::<(), aiops::Error>(())
/// ```
pub fn anomaly_trend(
    timestamps: &[Timestamp],
    scores: &[f64],
    half_life_points: f64,
    tolerance: f64,
    min_rise: f64,
) -> Result<Option<AnomalyTrend>> {
    if timestamps.len() != scores.len() {
        return Err(Error::InvalidParameter {
            name: "scores",
            reason: format!(
                "need one score per timestamp, got {} scores for {} timestamps",
                scores.len(),
                timestamps.len()
            ),
        });
    }
    for (name, v) in [("tolerance", tolerance), ("min_rise", min_rise)] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(Error::InvalidParameter {
                name,
                reason: format!("must be finite and >= 0, got {v}"),
            });
        }
    }
    if !(half_life_points.is_finite() && half_life_points > 0.0) {
        return Err(Error::InvalidParameter {
            name: "half_life_points",
            reason: format!("must be finite and > 0, got {half_life_points}"),
        });
    }
    // Descending or repeated timestamps made a negative or zero `rising_secs`.
    for (index, w) in timestamps.windows(2).enumerate() {
        let (previous, current) = (w[0], w[1]);
        let index = index + 1;
        if current == previous {
            return Err(CoreError::DuplicateTimestamp {
                index,
                timestamp: current,
            }
            .into());
        }
        if current < previous {
            return Err(CoreError::Unsorted {
                index,
                previous,
                current,
            }
            .into());
        }
    }
    let alpha = Ewma::alpha_for_half_life(half_life_points);
    let mut ewma = Ewma::new(alpha).ok_or(Error::InvalidParameter {
        name: "half_life_points",
        reason: format!("gives no valid smoothing factor: {half_life_points}"),
    })?;
    let smooth: Vec<f64> = scores
        .iter()
        .map(|&s| {
            ewma.update(if s.is_finite() { s } else { 0.0 });
            ewma.mean().unwrap_or(0.0)
        })
        .collect();
    let Some(last) = smooth.len().checked_sub(1) else {
        return Ok(None);
    };
    // Walk back while the score keeps (nearly) rising; remember the lowest point of the run.
    let mut low = last;
    let mut i = last;
    while i > 0 && smooth[i - 1] <= smooth[i] + tolerance {
        i -= 1;
        if smooth[i] < smooth[low] {
            low = i;
        }
    }
    let rise = smooth[last] - smooth[low];
    if low == last || rise < min_rise {
        return Ok(None);
    }
    // The rise began when the score last left the band just above its low (a tenth of the
    // rise, and never so wide that the reported rise falls below `min_rise`), not at an exact
    // minimum long before: a slowly wandering baseline must not stretch a climb of hours into
    // one of days.
    let band = smooth[low] + (0.1 * rise).min(rise - min_rise);
    let low = (low..last)
        .rev()
        .find(|&j| smooth[j] <= band)
        .unwrap_or(low);
    Ok(Some(AnomalyTrend {
        since: timestamps[low],
        rising_secs: timestamps[last].as_secs() - timestamps[low].as_secs(),
        from_score: smooth[low],
        to_score: smooth[last],
    }))
}

/// An early warning: a predicted threshold breach of one metric of one service.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EarlyWarning {
    /// The service.
    pub service: String,
    /// The metric.
    pub metric: String,
    /// The threshold.
    pub threshold: Threshold,
    /// The last observed value.
    pub current_value: f64,
    /// When the prediction was made.
    pub now: Timestamp,
    /// The first forecast step whose 95 % band crosses the threshold (`now` when already
    /// breached).
    pub breach_at: Timestamp,
    /// Seconds from `now` to `breach_at` (0 when already breached).
    pub lead_time_secs: i64,
    /// The point forecast at `breach_at`.
    pub predicted_value: f64,
    /// The forecast band at `breach_at`.
    pub interval: (f64, f64),
    /// The forecaster that was fitted.
    pub model: ModelKind,
    /// The anomaly-score trend at the end of the history, if it is rising.
    pub trend: Option<AnomalyTrend>,
    /// From the lead time ([`severity_for_lead_time`]).
    pub severity: Severity,
    /// aiops-forecast's capacity recommendation.
    pub recommendation: String,
}

impl EarlyWarning {
    /// One line for a person: "disk on db-1 will breach 90 in about 5 days; anomaly score
    /// rising for 3 hours".
    pub fn message(&self) -> String {
        let (verb, value) = match self.threshold {
            Threshold::Below(v) => ("fall below", v),
            Threshold::Above(v) => ("breach", v),
            // `Threshold` is non-exhaustive; a future kind reads as a breach of its value.
            _ => ("breach", f64::NAN),
        };
        let when = if self.lead_time_secs <= 0 {
            format!("is past {} now", number_text(value))
        } else {
            format!(
                "will {verb} {} {}",
                number_text(value),
                lead_text(self.lead_time_secs)
            )
        };
        let mut msg = format!("{} on {} {when}", self.metric, self.service);
        if let Some(t) = &self.trend {
            msg.push_str("; anomaly score rising for ");
            msg.push_str(&duration_text(t.rising_secs));
        }
        msg
    }

    /// An Alertmanager-shaped alert starting at `now`: labels `alertname =
    /// CapacityBreachPredicted`, `service`, `metric_type` (the metric) and `severity`;
    /// annotations `summary` (the [message](Self::message)), `breach_at` (RFC 3339),
    /// `lead_time_secs`, `recommendation` and, with a trend, `anomaly_rising_secs`.
    pub fn to_alert(&self) -> Alert {
        let labels = Labels::from_pairs([
            ("alertname", "CapacityBreachPredicted"),
            ("service", self.service.as_str()),
            ("metric_type", self.metric.as_str()),
            ("severity", self.severity.as_str()),
        ]);
        let mut annotations = Labels::from_pairs([
            ("summary", self.message()),
            ("breach_at", self.breach_at.to_rfc3339()),
            ("lead_time_secs", self.lead_time_secs.to_string()),
            ("recommendation", self.recommendation.clone()),
        ]);
        if let Some(t) = &self.trend {
            annotations.insert("anomaly_rising_secs", t.rising_secs.to_string());
        }
        Alert::new(labels, self.now).with_annotations(annotations)
    }
}

/// Combines a capacity forecast and an anomaly trend into [`EarlyWarning`]s.
///
/// Defaults: the forecast settings of [`ForecastConfig::default`] (the article's Prophet), a
/// 30-day horizon at the series' own step, the default [`EnsembleDetector`] with repeats kept
/// ([`EnsembleDetector::keep_repeats`]: a trend reads the score as a level), and a trend that
/// counts when the score (smoothed over 6 points) has risen by at least 0.1 for at least an
/// hour.
#[derive(Debug, Clone, PartialEq)]
pub struct FailurePredictor {
    forecast: ForecastConfig,
    detector: EnsembleDetector,
    horizon_secs: i64,
    half_life_points: f64,
    min_rise: f64,
    min_rising_secs: i64,
}

impl Default for FailurePredictor {
    fn default() -> Self {
        FailurePredictor {
            forecast: ForecastConfig::default(),
            // A trend reads the score as a level, so a sustained climb must keep scoring.
            detector: EnsembleDetector::default().keep_repeats(),
            horizon_secs: 30 * DAY_SECS,
            half_life_points: 6.0,
            min_rise: 0.1,
            min_rising_secs: HOUR_SECS,
        }
    }
}

impl FailurePredictor {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the forecast settings (model, seasonalities, bounds, seed).
    #[must_use]
    pub fn with_forecast(mut self, config: ForecastConfig) -> Self {
        self.forecast = config;
        self
    }

    /// Sets the anomaly detector.
    #[must_use]
    pub fn with_detector(mut self, detector: EnsembleDetector) -> Self {
        self.detector = detector;
        self
    }

    /// Sets how far ahead to look (1 to 365 days).
    pub fn with_horizon_days(mut self, days: u32) -> Result<Self> {
        if !(1..=365).contains(&days) {
            return Err(Error::InvalidParameter {
                name: "horizon_days",
                reason: format!("must be in 1..=365, got {days}"),
            });
        }
        self.horizon_secs = i64::from(days) * DAY_SECS;
        Ok(self)
    }

    /// Sets when a rising anomaly score counts as a trend: smoothed over `half_life_points`
    /// (> 0), risen by at least `min_rise` (in `[0, 1]`) over at least `min_rising_secs`
    /// (>= 0).
    pub fn with_trend(
        mut self,
        half_life_points: f64,
        min_rise: f64,
        min_rising_secs: i64,
    ) -> Result<Self> {
        if !(half_life_points.is_finite() && half_life_points > 0.0) {
            return Err(Error::InvalidParameter {
                name: "half_life_points",
                reason: format!("must be finite and > 0, got {half_life_points}"),
            });
        }
        if !(0.0..=1.0).contains(&min_rise) {
            return Err(Error::InvalidParameter {
                name: "min_rise",
                reason: format!("must be in [0, 1], got {min_rise}"),
            });
        }
        if min_rising_secs < 0 {
            return Err(Error::InvalidParameter {
                name: "min_rising_secs",
                reason: format!("must be >= 0, got {min_rising_secs}"),
            });
        }
        self.half_life_points = half_life_points;
        self.min_rise = min_rise;
        self.min_rising_secs = min_rising_secs;
        Ok(self)
    }

    /// The streaming anomaly score of every point of `series` (0 during warm-up).
    pub fn scores(&self, series: &TimeSeries) -> Result<Vec<f64>> {
        let mut state = self.detector.state();
        series
            .iter()
            .map(|(t, v)| Ok(self.detector.update_state(&mut state, t, v)?))
            .collect()
    }

    /// The anomaly trend at the end of `series`, when it counts as one.
    pub fn trend(&self, series: &TimeSeries) -> Result<Option<AnomalyTrend>> {
        let scores = self.scores(series)?;
        let trend = anomaly_trend(
            series.timestamps(),
            &scores,
            self.half_life_points,
            0.002,
            self.min_rise,
        )?;
        Ok(trend.filter(|t| t.rising_secs >= self.min_rising_secs))
    }

    /// Forecasts `series` (the history of `metric` on `service`, ending at or before `now`)
    /// and returns an early warning when the forecast band crosses `threshold` within the
    /// horizon (or the last value already does), `None` otherwise.
    ///
    /// Errors: an empty series, a series too short for the forecaster, a non-finite
    /// threshold, a history ending after `now`, or a `now` so far after the last point that
    /// the span from it to the end of the horizon does not fit `i64` milliseconds
    /// ([`Error::InvalidParameter`] naming `now`).
    pub fn predict(
        &self,
        service: &str,
        metric: &str,
        series: &TimeSeries,
        threshold: Threshold,
        now: Timestamp,
    ) -> Result<Option<EarlyWarning>> {
        let Some((last_t, current)) = series.last() else {
            return Err(Error::InvalidParameter {
                name: "series",
                reason: format!("the history of {metric} on {service} is empty"),
            });
        };
        if last_t > now {
            return Err(Error::InvalidParameter {
                name: "now",
                reason: format!(
                    "{} is before the last point of the history ({})",
                    now.to_rfc3339(),
                    last_t.to_rfc3339()
                ),
            });
        }
        let step_millis = series
            .median_step_millis()
            .unwrap_or(HOUR_SECS * 1000)
            .max(1);
        // Steps to cover the horizon from `now`, which may be later than the last point. Exact
        // arithmetic: `millis_since` saturates, and adding the horizon to it overflowed.
        let span_millis = now
            .as_millis()
            .checked_sub(last_t.as_millis())
            .and_then(|gap| gap.checked_add(self.horizon_secs * 1000))
            .ok_or_else(|| Error::InvalidParameter {
                name: "now",
                reason: format!(
                    "{now} is too far after the last point of the history ({last_t}): the \
                     span to the end of the {}-day horizon overflows i64 milliseconds",
                    self.horizon_secs / DAY_SECS
                ),
            })?;
        let steps = usize::try_from(span_millis / step_millis)
            .unwrap_or(MAX_FORECAST_STEPS)
            .clamp(1, MAX_FORECAST_STEPS);
        let mut predictor = CapacityPredictor::new(self.forecast.clone());
        let model = predictor.train(metric, series)?;
        predictor.predict_steps(metric, steps, step_millis)?;
        let RiskAssessment::AtRisk(risk) =
            predictor.check_capacity_risk(metric, threshold, current, now)?
        else {
            return Ok(None);
        };
        let breached_now = match threshold {
            Threshold::Above(v) => current > v,
            Threshold::Below(v) => current < v,
            _ => false,
        };
        let breach_at = if breached_now {
            now
        } else {
            risk.predicted_date
        };
        let lead_time_secs = breach_at.as_secs() - now.as_secs();
        if lead_time_secs > self.horizon_secs {
            return Ok(None);
        }
        let trend = self.trend(series)?;
        Ok(Some(EarlyWarning {
            service: service.to_owned(),
            metric: metric.to_owned(),
            threshold,
            current_value: current,
            now,
            breach_at,
            lead_time_secs: lead_time_secs.max(0),
            predicted_value: risk.predicted_value,
            interval: risk.interval,
            model,
            trend,
            severity: severity_for_lead_time(lead_time_secs),
            recommendation: risk.recommendation,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hourly(values: Vec<f64>) -> TimeSeries {
        TimeSeries::regular(Timestamp::from_secs(1_780_000_000), 3_600_000, values).unwrap()
    }

    fn linear() -> FailurePredictor {
        FailurePredictor::new()
            .with_forecast(ForecastConfig::default().with_model(ModelKind::Linear))
    }

    #[test]
    fn lead_time_maps_to_severity_at_the_edges() {
        assert_eq!(severity_for_lead_time(0), Severity::Critical);
        assert_eq!(severity_for_lead_time(DAY_SECS), Severity::Critical);
        assert_eq!(severity_for_lead_time(DAY_SECS + 1), Severity::High);
        assert_eq!(severity_for_lead_time(3 * DAY_SECS - 1), Severity::High);
        assert_eq!(severity_for_lead_time(3 * DAY_SECS), Severity::Medium);
        assert_eq!(severity_for_lead_time(7 * DAY_SECS), Severity::Low);
        assert_eq!(severity_for_lead_time(30 * DAY_SECS), Severity::Info);
    }

    #[test]
    fn texts_round_to_the_nearest_unit() {
        assert_eq!(lead_text(0), "now");
        assert_eq!(lead_text(5 * DAY_SECS + 3 * HOUR_SECS), "in about 5 days");
        assert_eq!(lead_text(7 * HOUR_SECS + 20 * 60), "in about 7 hours");
        assert_eq!(lead_text(40 * 60), "in about 40 minutes");
        assert_eq!(lead_text(20), "in about 1 minute");
        assert_eq!(duration_text(3 * HOUR_SECS), "3 hours");
        assert_eq!(number_text(90.0), "90");
        assert_eq!(number_text(0.75), "0.75");
    }

    #[test]
    fn a_steady_rise_is_predicted_on_time() {
        // 40 + 0.25/h: 80 now (h = 160), crosses 89.9 at h = 199.6; the first hourly step
        // above it is h = 200, 40 hours after `now`.
        let values: Vec<f64> = (0..=160).map(|h| 40.0 + 0.25 * f64::from(h)).collect();
        let s = hourly(values);
        let now = s.last().unwrap().0;
        let w = linear()
            .predict("db-1", "disk", &s, Threshold::Above(89.9), now)
            .unwrap()
            .unwrap();
        // A noiseless line has a near-zero band, so the breach is within an hour of h = 200.
        assert!(
            (w.lead_time_secs - 40 * HOUR_SECS).abs() <= HOUR_SECS,
            "{}",
            w.lead_time_secs
        );
        assert_eq!(w.severity, Severity::High);
        assert_eq!(w.model, ModelKind::Linear);
        assert_eq!(w.current_value, 80.0);
        assert!(
            w.message()
                .starts_with("disk on db-1 will breach 89.9 in about 40 hours")
        );
        let a = w.to_alert();
        assert_eq!(a.severity(), Some(Severity::High));
        assert_eq!(a.metric_type(), Some("disk"));
        assert_eq!(a.starts_at(), now);
        assert_eq!(
            a.annotations().get("lead_time_secs"),
            Some(w.lead_time_secs.to_string().as_str())
        );
    }

    #[test]
    fn a_floor_threshold_warns_about_falling_values() {
        let values: Vec<f64> = (0..=100).map(|h| 60.0 - 0.5 * f64::from(h)).collect();
        let s = hourly(values);
        let now = s.last().unwrap().0;
        // 10 now, below 5.2 after 9.6 hours: the first hourly step below it is 10 hours away.
        let w = linear()
            .predict("db-1", "disk_free", &s, Threshold::Below(5.2), now)
            .unwrap()
            .unwrap();
        assert!((w.lead_time_secs - 10 * HOUR_SECS).abs() <= HOUR_SECS);
        assert_eq!(w.severity, Severity::Critical);
        assert!(
            w.message()
                .contains("will fall below 5.2 in about 10 hours"),
            "{}",
            w.message()
        );
    }

    #[test]
    fn flat_metrics_and_far_breaches_give_no_warning() {
        let flat = hourly((0..200).map(|h| 50.0 + [0.0, 0.3, -0.3][h % 3]).collect());
        let now = flat.last().unwrap().0;
        assert!(
            linear()
                .predict("a", "cpu", &flat, Threshold::Above(90.0), now)
                .unwrap()
                .is_none()
        );
        // 0.01/h from 10: 90 is 333 days away, beyond a 30-day horizon.
        let slow = hourly((0..200).map(|h| 10.0 + 0.01 * f64::from(h)).collect());
        assert!(
            linear()
                .predict("a", "cpu", &slow, Threshold::Above(90.0), now)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn an_already_breached_metric_is_critical_now() {
        let s = hourly((0..100).map(|h| 95.0 + 0.01 * f64::from(h)).collect());
        let now = s.last().unwrap().0;
        let w = linear()
            .predict("db-1", "disk", &s, Threshold::Above(90.0), now)
            .unwrap()
            .unwrap();
        assert_eq!((w.lead_time_secs, w.breach_at), (0, now));
        assert_eq!(w.severity, Severity::Critical);
        assert_eq!(w.message(), "disk on db-1 is past 90 now");
    }

    #[test]
    fn bad_input_is_an_error_naming_it() {
        let p = linear();
        let empty = TimeSeries::new();
        let e = p
            .predict(
                "db-1",
                "disk",
                &empty,
                Threshold::Above(90.0),
                Timestamp::EPOCH,
            )
            .unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        let s = hourly((0..50).map(f64::from).collect());
        let before = s.first().unwrap().0;
        let e = p
            .predict("x", "m", &s, Threshold::Above(90.0), before)
            .unwrap_err();
        assert!(e.to_string().contains("now"), "{e}");
        let now = s.last().unwrap().0;
        assert!(
            p.predict("x", "m", &s, Threshold::Above(f64::NAN), now)
                .is_err()
        );
        assert!(FailurePredictor::new().with_horizon_days(0).is_err());
        assert!(FailurePredictor::new().with_trend(0.0, 0.1, 0).is_err());
        assert!(FailurePredictor::new().with_trend(1.0, 1.5, 0).is_err());
        assert!(FailurePredictor::new().with_trend(1.0, 0.1, -1).is_err());
        let ts = [Timestamp::EPOCH];
        assert!(anomaly_trend(&ts, &[], 1.0, 0.0, 0.1).is_err());
        assert!(anomaly_trend(&ts, &[0.1], -1.0, 0.0, 0.1).is_err());
        assert!(anomaly_trend(&ts, &[0.1], 1.0, f64::NAN, 0.1).is_err());
    }

    /// The span from the last point to the end of the horizon overflowed i64 (a debug-build
    /// panic "attempt to add with overflow", a wrapped step count in release).
    #[test]
    fn a_span_past_the_millisecond_range_is_an_error_naming_now() {
        let s = TimeSeries::regular(
            Timestamp::from_millis(i64::MIN / 2),
            3_600_000,
            (0..48).map(f64::from).collect(),
        )
        .unwrap();
        let now = Timestamp::from_millis(i64::MAX / 2 + 1);
        let e = linear()
            .predict("svc", "disk", &s, Threshold::Above(90.0), now)
            .unwrap_err();
        assert!(
            matches!(e, Error::InvalidParameter { name: "now", .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains("overflows"), "{e}");
        // The last span that fits is no error of `predict`'s own.
        let last = s.last().unwrap().0;
        let fits = Timestamp::from_millis(last.as_millis() + (i64::MAX - 30 * DAY_SECS * 1000));
        if let Err(e) = linear().predict("svc", "disk", &s, Threshold::Above(90.0), fits) {
            assert!(
                !matches!(e, Error::InvalidParameter { name: "now", .. }),
                "{e}"
            );
        }
    }

    /// Descending timestamps gave `Ok(Some(..))` with `rising_secs` -14400.
    #[test]
    fn trend_timestamps_must_be_strictly_increasing() {
        let desc: Vec<Timestamp> = (0..6)
            .rev()
            .map(|h| Timestamp::from_secs(3_600 * h))
            .collect();
        let scores = [0.0, 0.0, 0.2, 0.4, 0.6, 0.8];
        let e = anomaly_trend(&desc, &scores, 1.0, 0.0, 0.1).unwrap_err();
        assert!(
            matches!(e, Error::Core(CoreError::Unsorted { index: 1, .. })),
            "{e:?}"
        );
        assert!(e.to_string().contains("index 1"), "{e}");
        let mut dup: Vec<Timestamp> = (0..6).map(|h| Timestamp::from_secs(3_600 * h)).collect();
        dup[4] = dup[3];
        let e = anomaly_trend(&dup, &scores, 1.0, 0.0, 0.1).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Core(CoreError::DuplicateTimestamp { index: 4, .. })
            ),
            "{e:?}"
        );
        // The same errors as a series of those timestamps.
        let series_err = TimeSeries::try_new(dup.clone(), scores.to_vec()).unwrap_err();
        assert_eq!(e.to_string(), series_err.to_string());
    }

    #[test]
    fn trend_needs_a_rise_at_the_end() {
        let ts: Vec<Timestamp> = (0..8).map(|i| Timestamp::from_secs(60 * i)).collect();
        // Rose, then fell: no rise at the end.
        let fell = [0.1, 0.5, 0.9, 0.9, 0.5, 0.3, 0.2, 0.1];
        assert!(anomaly_trend(&ts, &fell, 1.0, 0.0, 0.1).unwrap().is_none());
        // A rise smaller than min_rise does not count.
        let small = [0.1, 0.1, 0.1, 0.1, 0.12, 0.14, 0.16, 0.18];
        assert!(anomaly_trend(&ts, &small, 1.0, 0.0, 0.1).unwrap().is_none());
        // NaN scores count as 0.
        let nan = [0.0, f64::NAN, 0.0, 0.0, 0.2, 0.4, 0.6, 0.8];
        let t = anomaly_trend(&ts, &nan, 1.0, 0.0, 0.1).unwrap().unwrap();
        assert_eq!(t.since, ts[3]);
        assert!(anomaly_trend(&[], &[], 1.0, 0.0, 0.1).unwrap().is_none());
    }

    #[test]
    fn an_accelerating_metric_has_a_rising_anomaly_trend() {
        // Flat with noise for 20 days, then the last 6 hours climb ever faster.
        let n = 20 * 24;
        let values: Vec<f64> = (0..n + 6)
            .map(|h| {
                let noise = [0.0, 0.4, -0.2, 0.3, -0.4, 0.1, -0.1][h % 7];
                let climb = if h >= n {
                    2.0 * ((h - n + 1) as f64).powi(2)
                } else {
                    0.0
                };
                50.0 + noise + climb
            })
            .collect();
        let s = hourly(values);
        let p = FailurePredictor::new();
        let t = p.trend(&s).unwrap().expect("the climb raises the score");
        assert!(t.to_score > t.from_score + 0.1);
        // The climb lasts 6 hours; the smoothed score may turn upwards a few hours earlier on
        // the noise.
        assert!(
            t.rising_secs >= HOUR_SECS && t.rising_secs <= 12 * HOUR_SECS,
            "{t:?}"
        );
        // The flat part alone has no trend.
        let flat = hourly(s.values()[..n].to_vec());
        assert!(p.trend(&flat).unwrap().is_none());
    }

    proptest::proptest! {
        /// A later breach is never more severe.
        #[test]
        fn severity_never_rises_with_lead_time(a in 0i64..100 * DAY_SECS, b in 0i64..100 * DAY_SECS) {
            let (near, far) = (a.min(b), a.max(b));
            proptest::prop_assert!(severity_for_lead_time(near) >= severity_for_lead_time(far));
        }

        /// Trends only report rises of at least `min_rise`, ending at the last point.
        #[test]
        fn trends_are_rises_to_the_last_point(scores in proptest::collection::vec(0.0f64..1.0, 1..60), rise in 0.0f64..0.5) {
            let ts: Vec<Timestamp> = (0..scores.len() as i64).map(|i| Timestamp::from_secs(60 * i)).collect();
            if let Some(t) = anomaly_trend(&ts, &scores, 2.0, 0.0, rise).unwrap() {
                proptest::prop_assert!(t.to_score - t.from_score >= rise);
                proptest::prop_assert!(t.rising_secs > 0);
                proptest::prop_assert_eq!(t.since.as_secs() + t.rising_secs, ts[ts.len() - 1].as_secs());
            }
        }

        /// Whatever the timestamps, a trend is a positive rise to the last one, or an error.
        #[test]
        fn trends_never_run_backwards(
            points in proptest::collection::vec((-5i64..5, 0.0f64..1.0), 1..12),
        ) {
            let (secs, scores): (Vec<i64>, Vec<f64>) = points.into_iter().unzip();
            let ts: Vec<Timestamp> = secs.iter().map(|&s| Timestamp::from_secs(60 * s)).collect();
            match anomaly_trend(&ts, &scores, 1.0, 0.0, 0.0) {
                Ok(Some(t)) => {
                    proptest::prop_assert!(t.rising_secs > 0);
                    proptest::prop_assert!(ts.windows(2).all(|w| w[0] < w[1]));
                }
                Ok(None) => {}
                Err(e) => proptest::prop_assert!(ts.windows(2).any(|w| w[0] >= w[1]), "{}", e),
            }
        }
    }
}
