//! One fitted forecaster for one series, whatever the model.

use aiops_core::{TimeSeries, Timestamp};

use crate::config::{ForecastConfig, ModelKind};
use crate::error::{ForecastError, Result};
use crate::fallback::{self, auto_choice, normal_quantile, season_length};
use crate::prophet_model::{ProphetFit, RawRow, usable_seasonalities};

/// One forecast row: the point forecast and its interval at a timestamp.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ForecastRow {
    /// When.
    pub timestamp: Timestamp,
    /// Point forecast (Prophet's `yhat`).
    pub yhat: f64,
    /// Lower interval bound (`yhat_lower`).
    pub lower: f64,
    /// Upper interval bound (`yhat_upper`).
    pub upper: f64,
}

/// Minimum points for any model.
pub const MIN_POINTS: usize = 2;
/// Minimum points before Prophet is used; shorter series take the `auto` rule.
pub const MIN_PROPHET_POINTS: usize = 10;
const DAY_MS: i64 = 86_400_000;
/// Most steps of the series any forecast may reach past the last training timestamp.
const MAX_STEPS_AHEAD: usize = 1_000_000;

/// A forecaster fitted to one series: Prophet or a fast model, chosen by the configuration.
///
/// ```
/// use aiops_core::{TimeSeries, Timestamp};
/// use aiops_forecast::{FittedModel, ForecastConfig, ModelKind};
///
/// let values: Vec<f64> = (0..24 * 14).map(|i| 50.0 + (i % 24) as f64).collect();
/// let series = TimeSeries::regular(Timestamp::from_secs(0), 3_600_000, values)?;
/// let cfg = ForecastConfig::default().with_model(ModelKind::Auto);
/// let model = FittedModel::fit(&series, &cfg)?;
/// let rows = model.forecast(48, model.step_millis())?;
/// assert_eq!(rows.len(), 48);
/// assert!(rows.iter().all(|r| r.lower <= r.yhat && r.yhat <= r.upper));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FittedModel {
    config: ForecastConfig,
    used: ModelKind,
    last: Timestamp,
    step_ms: i64,
    season: usize,
    values: Vec<f64>,
    prophet: Option<ProphetFit>,
}

/// `(median, smallest)` gap between consecutive timestamps, in milliseconds (at least 1).
/// Exact for increasing timestamps whose whole span fits an `i64` (checked by the caller).
fn median_and_min_step(ts: &[Timestamp]) -> (i64, i64) {
    let mut gaps: Vec<i64> = ts.windows(2).map(|w| w[1].millis_since(w[0])).collect();
    gaps.sort_unstable();
    let median = gaps.get(gaps.len() / 2).copied().unwrap_or(DAY_MS).max(1);
    (median, gaps.first().copied().unwrap_or(DAY_MS).max(1))
}

impl FittedModel {
    /// Fits `config`'s model to a series (already validated by [`TimeSeries`]).
    ///
    /// Timestamps keep their milliseconds, for every model: Prophet runs on a millisecond
    /// time axis, so points less than a second apart are fitted and predicted exactly.
    ///
    /// Errors: [`ForecastError::TooFewPoints`] under [`MIN_POINTS`] points,
    /// [`ForecastError::SpanTooLong`] when the first and last timestamps are more milliseconds
    /// apart than an `i64` holds, [`ForecastError::InvalidParameter`] when Prophet is fitted
    /// with [`crate::Growth::Logistic`] and the history's median lies above the cap or below
    /// the floor (naming the first point beyond it), [`ForecastError::Prophet`] when Prophet
    /// fails.
    pub fn fit(series: &TimeSeries, config: &ForecastConfig) -> Result<Self> {
        Self::fit_inner("series", series.timestamps(), series.values(), config)
    }

    /// Fits from raw slices, validating them: equal lengths, finite values, strictly
    /// increasing timestamps, at least [`MIN_POINTS`] points.
    pub fn fit_points(
        timestamps: &[Timestamp],
        values: &[f64],
        config: &ForecastConfig,
    ) -> Result<Self> {
        validate(timestamps, values)?;
        Self::fit_inner("series", timestamps, values, config)
    }

    pub(crate) fn fit_inner(
        metric: &str,
        ts: &[Timestamp],
        values: &[f64],
        config: &ForecastConfig,
    ) -> Result<Self> {
        // A configuration deserialised or built in another order is checked here too.
        config.check()?;
        let n = values.len();
        if n < MIN_POINTS {
            return Err(ForecastError::TooFewPoints {
                metric: metric.to_string(),
                got: n,
                needed: MIN_POINTS,
            });
        }
        // Every gap of increasing timestamps is at most the span: one check covers both.
        let span_ms = ts[n - 1].as_millis().checked_sub(ts[0].as_millis()).ok_or(
            ForecastError::SpanTooLong {
                first: ts[0],
                last: ts[n - 1],
            },
        )?;
        let (step_ms, min_step_ms) = median_and_min_step(ts);
        let season = season_length(step_ms as f64 / 1000.0);
        let mut used = config.model;
        if used == ModelKind::Prophet {
            let usable = usable_seasonalities(config, span_ms, min_step_ms);
            let wants_any = config.yearly || config.weekly || config.daily;
            let ok = n >= MIN_PROPHET_POINTS && (!wants_any || usable.iter().any(|&u| u));
            if !ok {
                used = ModelKind::Auto;
            }
        }
        if used == ModelKind::Auto {
            used = match auto_choice(n, season) {
                ModelKind::Auto => ModelKind::Auto,
                other => other,
            };
        }
        let prophet = if used == ModelKind::Prophet {
            let ms: Vec<i64> = ts.iter().map(|t| t.as_millis()).collect();
            Some(ProphetFit::fit(&ms, values, config)?)
        } else {
            None
        };
        Ok(FittedModel {
            config: config.clone(),
            used,
            last: ts[n - 1],
            step_ms,
            season,
            values: values.to_vec(),
            prophet,
        })
    }

    /// The model actually fitted: `Prophet`, `Linear`, `SeasonalNaive`, `LagRegression`, or
    /// `Auto` for the lag-regression / seasonal-naive combination.
    pub fn model(&self) -> ModelKind {
        self.used
    }

    /// The series' step: the median gap between its timestamps, in milliseconds.
    pub fn step_millis(&self) -> i64 {
        self.step_ms
    }

    /// The settings it was fitted with.
    pub fn config(&self) -> &ForecastConfig {
        &self.config
    }

    /// The last timestamp of the history.
    pub fn last_timestamp(&self) -> Timestamp {
        self.last
    }

    /// Rows at arbitrary increasing timestamps. Prophet predicts anywhere, the history
    /// included (an in-sample fit); the fast models only after the last training timestamp
    /// (an earlier one is [`ForecastError::InvalidHorizon`]), at the series' steps, linearly
    /// interpolated between them (the last observation standing for the step before the
    /// first).
    /// Also [`ForecastError::InvalidHorizon`]: the fast models beyond 1,000,000 steps of the
    /// series, Prophet beyond 10,000 times the history's span after its end or more
    /// milliseconds from the history's start than an `i64` holds (about 292 million years).
    /// Non-finite results are [`ForecastError::NonFiniteForecast`].
    pub fn predict_at(&self, timestamps: &[Timestamp]) -> Result<Vec<ForecastRow>> {
        if timestamps.is_empty() {
            return Err(ForecastError::InvalidHorizon(
                "no timestamps to predict".into(),
            ));
        }
        for (i, w) in timestamps.windows(2).enumerate() {
            if w[1] <= w[0] {
                return Err(ForecastError::Unsorted {
                    index: i + 1,
                    previous: w[0].as_millis(),
                    current: w[1].as_millis(),
                });
            }
        }
        let raw: Vec<RawRow> = if let Some(p) = &self.prophet {
            let ms: Vec<i64> = timestamps.iter().map(|t| t.as_millis()).collect();
            p.forecast(&ms, &self.config)?
        } else {
            let first = timestamps[0];
            if first <= self.last {
                return Err(ForecastError::InvalidHorizon(format!(
                    "{} is not after the last training timestamp {}; only Prophet predicts in-sample",
                    first, self.last
                )));
            }
            // i128: the distance of two i64 instants can exceed i64.
            let ahead: Vec<i128> = timestamps
                .iter()
                .map(|t| i128::from(t.as_millis()) - i128::from(self.last.as_millis()))
                .collect();
            self.fast_rows(&ahead, |native| {
                format!("{native} steps of the series is more than the 1,000,000 supported")
            })?
        };
        self.finish(timestamps.iter().copied(), raw)
    }

    /// The fast models' rows at `ahead` milliseconds (each > 0) after the last training
    /// timestamp: at a step of the series its forecast, between two steps the linear
    /// interpolation of theirs, the last observation standing for step 0 (with no width).
    /// Rounding to the nearest step (and never to step 0) put a weekly series' forecast for
    /// day 7 on day 1 of a daily prediction, so a breach was reported 6 days early.
    /// [`ForecastError::InvalidHorizon`] with `too_far(steps)` beyond 1,000,000 steps.
    fn fast_rows(&self, ahead: &[i128], too_far: impl Fn(i128) -> String) -> Result<Vec<RawRow>> {
        let step = i128::from(self.step_ms);
        // Steps to compute: up to the step at or after the furthest time.
        let native = ahead
            .iter()
            .map(|&a| (a + step - 1) / step)
            .max()
            .unwrap_or(1)
            .max(1);
        if native > MAX_STEPS_AHEAD as i128 {
            return Err(ForecastError::InvalidHorizon(too_far(native)));
        }
        let z = normal_quantile(0.5 + self.config.interval_width / 2.0);
        let rows = fallback::forecast(self.used, &self.values, self.season, native as usize, z);
        let last = self.values.last().copied().unwrap_or(0.0);
        let at = |j: i128| match usize::try_from(j) {
            Ok(j) if j > 0 => rows[j - 1],
            _ => RawRow {
                yhat: last,
                lower: last,
                upper: last,
            },
        };
        // `a + w (b - a)`, or the weighted sum where the difference overflows.
        let lerp = |a: f64, b: f64, w: f64| {
            let d = b - a;
            if d.is_finite() {
                a + w * d
            } else {
                a * (1.0 - w) + b * w
            }
        };
        Ok(ahead
            .iter()
            .map(|&a| {
                let (lo, rem) = (a / step, a % step);
                if rem == 0 {
                    return at(lo);
                }
                let w = rem as f64 / step as f64;
                let (p, q) = (at(lo), at(lo + 1));
                RawRow {
                    yhat: lerp(p.yhat, q.yhat, w),
                    lower: lerp(p.lower, q.lower, w),
                    upper: lerp(p.upper, q.upper, w),
                }
            })
            .collect())
    }

    /// Clamps the raw rows into the configured bounds, refusing non-finite ones: a NaN or
    /// infinity means the arithmetic overflowed, and clamping it into a bound would hide that.
    fn finish(
        &self,
        times: impl Iterator<Item = Timestamp>,
        raw: Vec<RawRow>,
    ) -> Result<Vec<ForecastRow>> {
        times
            .zip(raw)
            .map(|(timestamp, r)| {
                if !(r.yhat.is_finite() && r.lower.is_finite() && r.upper.is_finite()) {
                    return Err(ForecastError::NonFiniteForecast {
                        timestamp,
                        yhat: r.yhat,
                        lower: r.lower,
                        upper: r.upper,
                    });
                }
                Ok(ForecastRow {
                    timestamp,
                    yhat: self.config.clamp(r.yhat),
                    lower: self.config.clamp(r.lower.min(r.yhat)),
                    upper: self.config.clamp(r.upper.max(r.yhat)),
                })
            })
            .collect()
    }

    /// Forecast rows at `last + k * step_millis` for `k = 1..=steps`, inside the configured
    /// hard bounds (the fast models interpolate between the series' own steps, as
    /// [`FittedModel::predict_at`]).
    ///
    /// Errors: [`ForecastError::InvalidHorizon`] for 0 steps, more than 1,000,000 of them, a
    /// step `<= 0`, a horizon ending after [`Timestamp::LATEST`] (9999-12-30T21:59:59.999Z,
    /// the latest time that can be written as a date), or reaching further
    /// than [`FittedModel::predict_at`] allows;
    /// [`ForecastError::NonFiniteForecast`] when the values are too large for `f64`.
    pub fn forecast(&self, steps: usize, step_millis: i64) -> Result<Vec<ForecastRow>> {
        if steps == 0 {
            return Err(ForecastError::InvalidHorizon(
                "horizon of 0 steps; ask for at least 1".into(),
            ));
        }
        if step_millis <= 0 {
            return Err(ForecastError::InvalidHorizon(format!(
                "step must be > 0 ms, got {step_millis}"
            )));
        }
        if steps > MAX_STEPS_AHEAD {
            return Err(ForecastError::InvalidHorizon(format!(
                "{steps} steps is more than the 1,000,000 supported"
            )));
        }
        // The last row is the furthest: if it fits, every `last + k * step` does. Rows after
        // `Timestamp::LATEST` could not be written as dates (a risk's date was clamped to it).
        let last_ms = self.last.as_millis();
        i64::try_from(steps)
            .ok()
            .and_then(|s| s.checked_mul(step_millis))
            .and_then(|d| last_ms.checked_add(d))
            .filter(|&end| end <= Timestamp::LATEST.as_millis())
            .ok_or_else(|| {
                ForecastError::InvalidHorizon(format!(
                    "{steps} steps of {step_millis} ms after {} end after {}, the latest time \
                     that can be written as a date",
                    self.last,
                    Timestamp::LATEST
                ))
            })?;
        let times: Vec<Timestamp> = (1..=steps as i64)
            .map(|k| Timestamp::from_millis(last_ms + k * step_millis))
            .collect();
        let raw: Vec<RawRow> = if let Some(p) = &self.prophet {
            let ms: Vec<i64> = times.iter().map(|t| t.as_millis()).collect();
            p.forecast(&ms, &self.config)?
        } else {
            let ahead: Vec<i128> = (1..=steps as i128)
                .map(|k| k * i128::from(step_millis))
                .collect();
            self.fast_rows(&ahead, |native| {
                format!("{steps} steps of {step_millis} ms is {native} steps of the series")
            })?
        };
        self.finish(times.into_iter(), raw)
    }
}

pub(crate) fn validate(ts: &[Timestamp], values: &[f64]) -> Result<()> {
    if ts.len() != values.len() {
        return Err(ForecastError::LengthMismatch {
            timestamps: ts.len(),
            values: values.len(),
        });
    }
    if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(ForecastError::NonFinite { index, value });
    }
    for (i, w) in ts.windows(2).enumerate() {
        if w[1] <= w[0] {
            return Err(ForecastError::Unsorted {
                index: i + 1,
                previous: w[0].as_millis(),
                current: w[1].as_millis(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hourly(n: usize, f: impl Fn(usize) -> f64) -> TimeSeries {
        TimeSeries::regular(
            Timestamp::from_secs(1_700_000_000),
            3_600_000,
            (0..n).map(f).collect(),
        )
        .unwrap()
    }

    #[test]
    fn fitted_models_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<FittedModel>();
        check::<crate::CapacityPredictor>();
    }

    #[test]
    fn bad_input_is_named() {
        let cfg = ForecastConfig::default();
        let t = |s| Timestamp::from_secs(s);
        let e = FittedModel::fit_points(&[t(0)], &[1.0], &cfg).unwrap_err();
        assert!(
            matches!(e, ForecastError::TooFewPoints { got: 1, .. }),
            "{e}"
        );
        let e = FittedModel::fit_points(&[t(0), t(1)], &[1.0, f64::NAN], &cfg).unwrap_err();
        assert!(e.to_string().contains("index 1"), "{e}");
        let e = FittedModel::fit_points(&[t(5), t(1)], &[1.0, 2.0], &cfg).unwrap_err();
        assert!(matches!(e, ForecastError::Unsorted { index: 1, .. }), "{e}");
        let e = FittedModel::fit_points(&[t(5)], &[1.0, 2.0], &cfg).unwrap_err();
        assert!(matches!(e, ForecastError::LengthMismatch { .. }));
        let m = FittedModel::fit(&hourly(30, |i| i as f64), &cfg).unwrap();
        assert!(matches!(
            m.forecast(0, 3_600_000),
            Err(ForecastError::InvalidHorizon(_))
        ));
        assert!(m.forecast(3, 0).is_err());
    }

    fn linear_cfg() -> ForecastConfig {
        ForecastConfig::default().with_model(ModelKind::Linear)
    }

    #[test]
    fn forecast_horizon_past_the_last_millisecond_is_an_error() {
        let s = TimeSeries::regular(Timestamp::EPOCH, 60_000, (0..20).map(f64::from).collect())
            .unwrap();
        let m = FittedModel::fit(&s, &linear_cfg()).unwrap();
        // 2 * i64::MAX overflows: an error, not a panic or a wrapped timestamp.
        let e = m.forecast(2, i64::MAX).unwrap_err();
        assert!(matches!(e, ForecastError::InvalidHorizon(_)), "{e}");
        assert!(
            e.to_string()
                .contains("end after 9999-12-30T21:59:59.999Z, the latest time"),
            "{e}"
        );
        // So does a horizon that fits an i64 but ends after the latest writable time.
        let e = m.forecast(1, i64::MAX - 1_140_000).unwrap_err();
        assert!(e.to_string().contains("latest time"), "{e}");
        // Last = 19 min; one step ending exactly at `Timestamp::LATEST` is a writable time (it is
        // refused only as too many of the series' own steps).
        let step = Timestamp::LATEST.as_millis() - 1_140_000;
        let e = m.forecast(1, step).unwrap_err();
        assert!(e.to_string().contains("steps of the series"), "{e}");
    }

    #[test]
    fn forecasts_end_at_the_latest_writable_date() {
        // Daily points up to 9999-12-23: 7 more days reach 9999-12-30, 8 would not be writable
        // (a capacity risk's date was clamped to 9999-12-30 there).
        let start = Timestamp::parse("9999-12-20").unwrap();
        let s = TimeSeries::regular(start, DAY_MS, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let m = FittedModel::fit(&s, &linear_cfg()).unwrap();
        let rows = m.forecast(7, DAY_MS).unwrap();
        assert_eq!(rows[6].timestamp.date_string(), "9999-12-30");
        let e = m.forecast(8, DAY_MS).unwrap_err();
        assert!(matches!(e, ForecastError::InvalidHorizon(_)), "{e}");
    }

    #[test]
    fn span_beyond_i64_millis_is_an_error_and_the_widest_that_fits_works() {
        let t = Timestamp::from_millis;
        let s = TimeSeries::try_new(vec![t(i64::MIN), t(i64::MAX)], vec![1.0, 2.0]).unwrap();
        let e = FittedModel::fit(&s, &linear_cfg()).unwrap_err();
        assert_eq!(
            e,
            ForecastError::SpanTooLong {
                first: t(i64::MIN),
                last: t(i64::MAX)
            }
        );
        let e =
            FittedModel::fit_points(&[t(i64::MIN), t(0), t(i64::MAX)], &[1.0; 3], &linear_cfg())
                .unwrap_err();
        assert!(matches!(e, ForecastError::SpanTooLong { .. }), "{e}");
        // -1 - i64::MIN = i64::MAX ms: fits, the step is that gap, one more step reaches
        // i64::MAX - 1 and continues the line 1, 2 -> 3 (a forecast row there would be past the
        // latest writable time; a prediction at a given time is not).
        let m = FittedModel::fit_points(&[t(i64::MIN), t(-1)], &[1.0, 2.0], &linear_cfg()).unwrap();
        assert_eq!(m.step_millis(), i64::MAX);
        assert!(m.forecast(1, i64::MAX).is_err());
        let rows = m.predict_at(&[t(i64::MAX - 1)]).unwrap();
        assert!((rows[0].yhat - 3.0).abs() < 1e-9, "{rows:?}");
    }

    #[test]
    fn predict_at_the_far_end_of_time_is_too_many_steps() {
        let t = Timestamp::from_millis;
        let s = TimeSeries::try_new(vec![t(-10_000), t(-1)], vec![1.0, 2.0]).unwrap();
        let m = FittedModel::fit(&s, &linear_cfg()).unwrap();
        // i64::MAX - (-1) overflows i64; it is ~9.2e14 steps of 9999 ms.
        let e = m.predict_at(&[t(i64::MAX)]).unwrap_err();
        assert!(matches!(e, ForecastError::InvalidHorizon(_)), "{e}");
        assert!(e.to_string().contains("1,000,000"), "{e}");
        // The nearest step still works: one step of 9999 ms after -1 ms.
        let rows = m.predict_at(&[t(9_998)]).unwrap();
        assert!((rows[0].yhat - 3.0).abs() < 1e-9, "{rows:?}");
    }

    #[test]
    fn fast_models_interpolate_between_the_series_steps() {
        // Hourly points of a line 0, 1, 2, ...: a quarter of an hour after the last point is a
        // quarter of the way to the next (the nearest step, 1 h ahead, stood for it, and for
        // 1 min ahead too), and the interval widens from the last observation's zero width.
        let m = FittedModel::fit(&hourly(30, |i| i as f64), &linear_cfg()).unwrap();
        let last = m.last_timestamp().as_millis();
        let rows = m.forecast(8, 900_000).unwrap();
        for (k, r) in (1..).zip(&rows) {
            assert!(
                (r.yhat - (29.0 + 0.25 * f64::from(k))).abs() < 1e-9,
                "{k}: {r:?}"
            );
        }
        let at = m
            .predict_at(&[Timestamp::from_millis(last + 60_000)])
            .unwrap();
        assert!((at[0].yhat - (29.0 + 1.0 / 60.0)).abs() < 1e-9, "{at:?}");
        let noisy = hourly(30, |i| i as f64 + [0.0, 0.3, -0.3][i % 3]);
        let m = FittedModel::fit(&noisy, &linear_cfg()).unwrap();
        let rows = m.forecast(4, 900_000).unwrap();
        let on_step = m.forecast(1, 3_600_000).unwrap();
        let width = |r: &ForecastRow| r.upper - r.lower;
        assert_eq!(rows[3], on_step[0]);
        assert!(width(&rows[0]) > 0.0 && width(&rows[0]) < width(&on_step[0]));
    }

    #[test]
    fn prophet_horizon_is_bounded_in_history_spans() {
        let m =
            FittedModel::fit(&hourly(50, |i| (i % 24) as f64), &ForecastConfig::default()).unwrap();
        assert_eq!(m.model(), ModelKind::Prophet);
        // Without the bound, sampling trend changepoints up to i64::MAX ms (~5e10 spans of the
        // 49-hour history) exhausts memory.
        let e = m
            .predict_at(&[Timestamp::from_millis(i64::MAX)])
            .unwrap_err();
        assert!(matches!(e, ForecastError::InvalidHorizon(_)), "{e}");
        assert!(e.to_string().contains("10,000"), "{e}");
        // 2 steps of 250,000 hours end 500,000 h / 49 h = 10,204 spans after the history.
        let e = m.forecast(2, 250_000 * 3_600_000).unwrap_err();
        assert!(e.to_string().contains("10204 spans"), "{e}");
        // The far past is in-sample for Prophet: allowed, and finite, back to i64::MAX ms
        // before the history's start (Prophet's time axis is in milliseconds, offsets from
        // the start in an i64); further back is an error, not an overflow.
        let earliest = Timestamp::from_millis(i64::MIN + 1_700_000_000_000);
        let rows = m.predict_at(&[earliest]).unwrap();
        assert!(rows[0].yhat.is_finite());
        let e = m
            .predict_at(&[Timestamp::from_millis(i64::MIN)])
            .unwrap_err();
        assert!(matches!(e, ForecastError::InvalidHorizon(_)), "{e}");
        assert!(e.to_string().contains("292 million years"), "{e}");
    }

    #[test]
    fn prophet_intervals_are_bounded_in_memory() {
        let m =
            FittedModel::fit(&hourly(50, |i| (i % 24) as f64), &ForecastConfig::default()).unwrap();
        assert_eq!(m.model(), ModelKind::Prophet);
        // 1,000,000 hourly steps (within 10,000 spans of the history) at 1,000 samples would
        // hold 8 GB of sample paths: refused before anything is allocated.
        let e = m.forecast(1_000_000, 3_600_000).unwrap_err();
        assert!(matches!(e, ForecastError::InvalidHorizon(_)), "{e}");
        assert!(e.to_string().contains("at most 134217 steps"), "{e}");
        // The bound is on steps times samples: twice the samples, half the steps.
        let cfg = ForecastConfig::default()
            .with_uncertainty_samples(2_000)
            .unwrap();
        let m = FittedModel::fit(&hourly(50, |i| (i % 24) as f64), &cfg).unwrap();
        let e = m.forecast(70_000, 3_600_000).unwrap_err();
        assert!(e.to_string().contains("at most 67108 steps"), "{e}");
    }

    #[test]
    fn prophet_values_overflowing_far_back_are_an_error_in_debug_builds_too() {
        // A check comparing Prophet's yhat with ours failed on inf = inf (debug builds only).
        let m = FittedModel::fit(
            &hourly(50, |i| 1e300 * (1.0 + 0.1 * i as f64)),
            &ForecastConfig::default(),
        )
        .unwrap();
        assert_eq!(m.model(), ModelKind::Prophet);
        let earliest = Timestamp::from_millis(i64::MIN + 1_700_000_000_000);
        let e = m.predict_at(&[earliest]).unwrap_err();
        assert!(matches!(e, ForecastError::NonFiniteForecast { .. }), "{e}");
    }

    #[test]
    fn overflowing_values_are_an_error_not_infinite_rows() {
        // Alternating +-1.7e308: differences overflow f64 (3.4e308 > f64::MAX ~ 1.8e308).
        let v: Vec<f64> = (0..60)
            .map(|i| if i % 2 == 0 { 1.7e308 } else { -1.7e308 })
            .collect();
        let s = TimeSeries::regular(Timestamp::EPOCH, 3_600_000, v).unwrap();
        let m = FittedModel::fit(&s, &linear_cfg()).unwrap();
        let e = m.forecast(3, 3_600_000).unwrap_err();
        assert!(matches!(e, ForecastError::NonFiniteForecast { .. }), "{e}");
        assert!(e.to_string().contains("rescale"), "{e}");
        let e = m
            .predict_at(&[Timestamp::from_secs(60 * 3600)])
            .unwrap_err();
        assert!(matches!(e, ForecastError::NonFiniteForecast { .. }), "{e}");
        // Bounds must not clamp an overflow into a plausible-looking number.
        let bounded = linear_cfg().with_bounds(Some(-1.0), Some(1.0)).unwrap();
        let e = FittedModel::fit(&s, &bounded)
            .unwrap()
            .forecast(3, 3_600_000)
            .unwrap_err();
        assert!(matches!(e, ForecastError::NonFiniteForecast { .. }), "{e}");
    }

    #[test]
    fn short_series_falls_back_by_the_documented_rule() {
        let cfg = ForecastConfig::default();
        // 5 hourly points: too short for Prophet and for a daily cycle -> Linear.
        let m = FittedModel::fit(&hourly(5, |i| i as f64), &cfg).unwrap();
        assert_eq!(m.model(), ModelKind::Linear);
        let rows = m.forecast(2, 3_600_000).unwrap();
        assert!((rows[0].yhat - 5.0).abs() < 1e-9 && (rows[1].yhat - 6.0).abs() < 1e-9);
        // 20 hours: spans < 1 day -> no usable seasonality; fewer than 2 cycles -> Linear.
        let m = FittedModel::fit(&hourly(20, |i| (i % 24) as f64), &cfg).unwrap();
        assert_eq!(m.model(), ModelKind::Linear);
        let m = FittedModel::fit(&hourly(50, |i| (i % 24) as f64), &cfg).unwrap();
        assert_eq!(m.model(), ModelKind::Prophet);
    }

    #[test]
    fn prophet_constant_series_is_flat() {
        let cfg = ForecastConfig::default().with_seasonalities(false, true, true);
        let m = FittedModel::fit(&hourly(24 * 20, |_| 7.0), &cfg).unwrap();
        assert_eq!(m.model(), ModelKind::Prophet);
        for r in m.forecast(24, 3_600_000).unwrap() {
            assert!((r.yhat - 7.0).abs() < 0.05, "{r:?}");
            assert!(r.lower.is_finite() && r.upper.is_finite());
        }
    }

    #[test]
    fn bounds_hold_for_forecasts_and_intervals() {
        let cfg = ForecastConfig::default()
            .with_seasonalities(false, false, true)
            .with_bounds(Some(0.0), Some(100.0))
            .unwrap();
        // Disk filling at 0.5%/h from 60%: crosses 100% within the horizon.
        let s = hourly(24 * 5, |i| {
            60.0 * 0.0 + 40.0 + 0.5 * i as f64 + (i % 3) as f64
        });
        let m = FittedModel::fit(&s, &cfg).unwrap();
        let rows = m.forecast(24 * 3, 3_600_000).unwrap();
        assert!(rows.iter().all(|r| (0.0..=100.0).contains(&r.lower)
            && (0.0..=100.0).contains(&r.upper)
            && (0.0..=100.0).contains(&r.yhat)));
        assert_eq!(rows.last().unwrap().yhat, 100.0);
    }

    #[test]
    fn logistic_growth_saturates_below_its_cap() {
        // Usage approaching a cap of 100 along a logistic curve, 40 days hourly.
        let s = hourly(24 * 40, |i| {
            let d = i as f64 / 24.0;
            100.0 / (1.0 + (-(d - 20.0) / 4.0).exp()) + (i % 24) as f64 * 0.05
        });
        let cfg = ForecastConfig::default()
            .with_seasonalities(false, false, true)
            .with_countries(vec![])
            .with_growth(crate::Growth::Logistic { cap: 100.0 })
            .unwrap();
        let m = FittedModel::fit(&s, &cfg).unwrap();
        let rows = m.forecast(24 * 30, 3_600_000).unwrap();
        let last = rows.last().unwrap();
        // The trend saturates: the last forecast is near, not far beyond, the cap.
        assert!(last.yhat > 95.0 && last.yhat < 102.0, "{last:?}");
        // A linear trend on the same data runs far past it.
        let lin = FittedModel::fit(&s, &cfg.clone().with_growth(crate::Growth::Linear).unwrap())
            .unwrap()
            .forecast(24 * 30, 3_600_000)
            .unwrap();
        assert!(lin.last().unwrap().yhat > last.yhat + 10.0);
    }

    #[test]
    fn prophet_keeps_milliseconds() {
        // 20 points 100 ms apart on the line 10, 11, ..., 29. In whole seconds they collapsed
        // into two timestamps and every forecast was 34.509.
        let t0 = 1_700_000_000_000;
        let ts: Vec<Timestamp> = (0..20)
            .map(|i| Timestamp::from_millis(t0 + 100 * i))
            .collect();
        let v: Vec<f64> = (10..30).map(f64::from).collect();
        let cfg = ForecastConfig::default()
            .with_seasonalities(false, false, false)
            .with_countries(vec![]);
        let m = FittedModel::fit_points(&ts, &v, &cfg).unwrap();
        assert_eq!(m.model(), ModelKind::Prophet);
        let rows = m.forecast(5, 100).unwrap();
        for (k, r) in rows.iter().enumerate() {
            let truth = 30.0 + k as f64;
            assert!((r.yhat - truth).abs() < 0.05, "step {}: {r:?}", k + 1);
        }
        // Half a step (50 ms) into the history: halfway between 10 and 11.
        let mid = m.predict_at(&[Timestamp::from_millis(t0 + 50)]).unwrap();
        assert!((mid[0].yhat - 10.5).abs() < 0.05, "{mid:?}");
    }

    #[test]
    fn daily_seasonality_needs_sub_daily_samples() {
        // 60 daily points on a line (default settings: daily seasonality requested). Samples
        // all at midnight never see the time of day, so daily Fourier terms are unidentified:
        // they invented a wave of about 20 in an hourly forecast. Prophet's rule leaves daily
        // seasonality out when the smallest gap is a day or more.
        let s = TimeSeries::regular(
            Timestamp::from_secs(1_767_225_600),
            DAY_MS,
            (0..60).map(|i| 100.0 + 0.5 * f64::from(i)).collect(),
        )
        .unwrap();
        let m = FittedModel::fit(&s, &ForecastConfig::default()).unwrap();
        assert_eq!(m.model(), ModelKind::Prophet);
        let rows = m.forecast(24, 3_600_000).unwrap();
        let (lo, hi) = rows
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), r| {
                (l.min(r.yhat), h.max(r.yhat))
            });
        // The line rises 0.5 a day; the weekly terms move far less than 1 within a day.
        assert!(hi - lo < 1.0, "hourly forecast spans {lo}..{hi}");
    }

    #[test]
    fn logistic_history_beyond_the_cap_is_an_error_naming_the_point() {
        let cfg = ForecastConfig::default()
            .with_seasonalities(false, false, true)
            .with_countries(vec![])
            .with_growth(crate::Growth::Logistic { cap: 100.0 })
            .unwrap();
        // 50, 51, ..., 169: most of it above the cap of 100 (a cap the metric outgrew, or in
        // other units). It used to fit, the trend pinned at 100 below the data.
        let e = FittedModel::fit(&hourly(24 * 5, |i| 50.0 + i as f64), &cfg).unwrap_err();
        assert!(
            matches!(e, ForecastError::InvalidParameter { name: "cap", .. }),
            "{e}"
        );
        // Median 109.5; 50 + 51 = 101 at index 51 is the first point above 100.
        let msg = e.to_string();
        assert!(
            msg.contains("median 109.5")
                && msg.contains("101 at index 51")
                && msg.contains("cap 100"),
            "{msg}"
        );
        // Below the floor (the lower bound, else 0) likewise.
        let below = hourly(24 * 5, |i| if i < 7 { 5.0 } else { -1.0 });
        let e = FittedModel::fit(&below, &cfg).unwrap_err();
        assert!(
            matches!(e, ForecastError::InvalidParameter { name: "floor", .. }),
            "{e}"
        );
        assert!(e.to_string().contains("-1 at index 7"), "{e}");
        // Points beyond the cap on a level below it are seasonality or noise riding on the
        // trend, as Prophet allows: half the points at 101, median 99.
        let ripple = hourly(24 * 5, |i| if i % 2 == 0 { 101.0 } else { 97.0 });
        let m = FittedModel::fit(&ripple, &cfg).unwrap();
        assert_eq!(m.model(), ModelKind::Prophet);
    }

    #[test]
    fn same_seed_same_intervals_other_seed_differs() {
        let s = hourly(24 * 15, |i| {
            10.0 + (i % 24) as f64 + ((i * 7919) % 13) as f64 * 0.3
        });
        let cfg = ForecastConfig::default().with_seasonalities(false, true, true);
        let a = FittedModel::fit(&s, &cfg)
            .unwrap()
            .forecast(48, 3_600_000)
            .unwrap();
        let b = FittedModel::fit(&s, &cfg)
            .unwrap()
            .forecast(48, 3_600_000)
            .unwrap();
        assert_eq!(a, b);
        let c = FittedModel::fit(&s, &cfg.clone().with_seed(7))
            .unwrap()
            .forecast(48, 3_600_000)
            .unwrap();
        assert_ne!(a[10].upper, c[10].upper);
        assert_eq!(a[10].yhat, c[10].yhat);
    }
}
