//! Forecast settings: the article's Prophet defaults, all overridable.

use crate::error::{ForecastError, Result};
use crate::holidays::{Country, Holiday};

/// Which forecaster to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum ModelKind {
    /// Prophet when the history has at least 10 points and can identify at least one
    /// requested seasonality, otherwise [`ModelKind::Auto`]'s fast rule (with no seasonality
    /// requested, 10 points suffice). A seasonality is kept by Python Prophet's rule for
    /// `'auto'` ones: yearly when the history spans at least 730 days, weekly when it spans
    /// 2 weeks and its smallest gap is under a week, daily when it spans 2 days and its
    /// smallest gap is under a day (daily samples cannot show a daily cycle); the others are
    /// left out. Timestamps keep their milliseconds. The article's choice and the default of
    /// [`crate::CapacityPredictor`].
    Prophet,
    /// Picks by the length of the history, in whole seasonal cycles `m` (the daily cycle for
    /// sub-daily steps, the weekly cycle for daily steps): with at least 3 cycles and 2m+24
    /// points, a robust combination (per step, the median of [`ModelKind::LagRegression`],
    /// [`ModelKind::SeasonalNaive`] plus a drift (the median seasonal difference over the last
    /// 20 cycles, once per cycle ahead) and, for sub-daily steps with two weeks of history, the
    /// weekly seasonal naive; the mean of the first two otherwise); with at least 2 cycles,
    /// [`ModelKind::SeasonalNaive`]; otherwise [`ModelKind::Linear`]. Measured best on the M4
    /// hourly set (docs/benchmarks.md).
    Auto,
    /// Robust linear trend (Theil–Sen-style slope, median intercept), like Prometheus'
    /// `predict_linear` but not pulled by outliers.
    Linear,
    /// Repeats the last seasonal cycle.
    SeasonalNaive,
    /// Least-squares autoregression on lags of the deseasonalised series, clipped to the
    /// plausible range.
    LagRegression,
}

impl ModelKind {
    /// Every model, in `--help` order.
    pub const ALL: [ModelKind; 5] = [
        ModelKind::Auto,
        ModelKind::Prophet,
        ModelKind::Linear,
        ModelKind::SeasonalNaive,
        ModelKind::LagRegression,
    ];

    /// The name used on command lines.
    pub const fn name(self) -> &'static str {
        match self {
            ModelKind::Prophet => "prophet",
            ModelKind::Auto => "auto",
            ModelKind::Linear => "linear",
            ModelKind::SeasonalNaive => "seasonal_naive",
            ModelKind::LagRegression => "lag_regression",
        }
    }

    /// Parses a name from [`ModelKind::name`].
    pub fn parse(name: &str) -> Result<Self> {
        ModelKind::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| ForecastError::InvalidParameter {
                name: "model",
                reason: format!(
                    "unknown model {name:?} (expected one of auto, prophet, linear, seasonal_naive, lag_regression)"
                ),
            })
    }
}

/// The trend Prophet fits.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Growth {
    /// Piecewise-linear trend (Prophet's default).
    Linear,
    /// Logistic trend saturating at `cap` (and at the lower bound, else 0). The cap bounds the
    /// trend, not the data: seasonality and noise may take single points past it, as in
    /// Prophet. A history whose median lies above the cap (or below the floor) cannot be
    /// followed by such a trend and is refused with [`ForecastError::InvalidParameter`]
    /// naming the first point beyond it (Python Prophet fits it, the forecast held at the cap
    /// below the data).
    Logistic {
        /// The carrying capacity.
        cap: f64,
    },
    /// Constant trend.
    Flat,
}

/// Settings of a forecast. `Default` is the article's: Prophet with yearly, weekly and daily
/// seasonality, 95% intervals, Chinese holidays; plus 1000 uncertainty samples and seed 42.
///
/// ```
/// use aiops_forecast::{Country, ForecastConfig, ModelKind};
/// let cfg = ForecastConfig::default()
///     .with_interval_width(0.8)?
///     .with_countries(vec![Country::Cn, Country::Us])
///     .with_bounds(Some(0.0), Some(100.0))?;
/// assert_eq!(cfg.interval_width(), 0.8);
/// assert_eq!(cfg.model(), ModelKind::Prophet);
/// # Ok::<(), aiops_forecast::ForecastError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "Unchecked"))]
pub struct ForecastConfig {
    pub(crate) model: ModelKind,
    pub(crate) yearly: bool,
    pub(crate) weekly: bool,
    pub(crate) daily: bool,
    pub(crate) interval_width: f64,
    pub(crate) uncertainty_samples: u32,
    pub(crate) seed: u64,
    pub(crate) countries: Vec<Country>,
    pub(crate) holidays: Vec<Holiday>,
    pub(crate) growth: Growth,
    pub(crate) changepoint_prior_scale: f64,
    pub(crate) seasonality_prior_scale: f64,
    pub(crate) holidays_prior_scale: f64,
    pub(crate) lower_bound: Option<f64>,
    pub(crate) upper_bound: Option<f64>,
}

impl Default for ForecastConfig {
    fn default() -> Self {
        ForecastConfig {
            model: ModelKind::Prophet,
            yearly: true,
            weekly: true,
            daily: true,
            interval_width: 0.95,
            uncertainty_samples: 1000,
            seed: 42,
            countries: vec![Country::Cn],
            holidays: Vec::new(),
            growth: Growth::Linear,
            changepoint_prior_scale: 0.05,
            seasonality_prior_scale: 10.0,
            holidays_prior_scale: 10.0,
            lower_bound: None,
            upper_bound: None,
        }
    }
}

/// A deserialised [`ForecastConfig`] before [`ForecastConfig::check`] (the same fields).
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct Unchecked {
    model: ModelKind,
    yearly: bool,
    weekly: bool,
    daily: bool,
    interval_width: f64,
    uncertainty_samples: u32,
    seed: u64,
    countries: Vec<Country>,
    holidays: Vec<Holiday>,
    growth: Growth,
    changepoint_prior_scale: f64,
    seasonality_prior_scale: f64,
    holidays_prior_scale: f64,
    lower_bound: Option<f64>,
    upper_bound: Option<f64>,
}

#[cfg(feature = "serde")]
impl TryFrom<Unchecked> for ForecastConfig {
    type Error = ForecastError;
    fn try_from(u: Unchecked) -> Result<Self> {
        let c = ForecastConfig {
            model: u.model,
            yearly: u.yearly,
            weekly: u.weekly,
            daily: u.daily,
            interval_width: u.interval_width,
            uncertainty_samples: u.uncertainty_samples,
            seed: u.seed,
            countries: u.countries,
            holidays: u.holidays,
            growth: u.growth,
            changepoint_prior_scale: u.changepoint_prior_scale,
            seasonality_prior_scale: u.seasonality_prior_scale,
            holidays_prior_scale: u.holidays_prior_scale,
            lower_bound: u.lower_bound,
            upper_bound: u.upper_bound,
        };
        c.check()?;
        Ok(c)
    }
}

fn positive(name: &'static str, v: f64) -> Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(ForecastError::InvalidParameter {
            name,
            reason: format!("must be finite and > 0, got {v}"),
        })
    }
}

impl ForecastConfig {
    /// The model.
    #[must_use]
    pub fn with_model(mut self, model: ModelKind) -> Self {
        self.model = model;
        self
    }

    /// Turns Prophet's yearly, weekly and daily seasonalities on or off.
    #[must_use]
    pub fn with_seasonalities(mut self, yearly: bool, weekly: bool, daily: bool) -> Self {
        self.yearly = yearly;
        self.weekly = weekly;
        self.daily = daily;
        self
    }

    /// Width of the prediction intervals, in `(0, 1)` (default 0.95).
    pub fn with_interval_width(mut self, width: f64) -> Result<Self> {
        if !(width > 0.0 && width < 1.0) {
            return Err(ForecastError::InvalidParameter {
                name: "interval_width",
                reason: format!("must be in (0, 1), got {width}"),
            });
        }
        self.interval_width = width;
        Ok(self)
    }

    /// Number of simulated paths behind Prophet's intervals (at least 10; default 1000).
    pub fn with_uncertainty_samples(mut self, samples: u32) -> Result<Self> {
        if samples < 10 {
            return Err(ForecastError::InvalidParameter {
                name: "uncertainty_samples",
                reason: format!("must be >= 10, got {samples}"),
            });
        }
        self.uncertainty_samples = samples;
        Ok(self)
    }

    /// Seed of the uncertainty sampling: the same seed gives the same intervals.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Built-in country calendars (default `[Country::Cn]`, as the article); several at once
    /// are merged.
    #[must_use]
    pub fn with_countries(mut self, countries: Vec<Country>) -> Self {
        self.countries = countries;
        self
    }

    /// The caller's own holidays, added to the country calendars.
    #[must_use]
    pub fn with_holidays(mut self, holidays: Vec<Holiday>) -> Self {
        self.holidays = holidays;
        self
    }

    /// Prophet's trend. A logistic cap must be finite and above the lower bound; fitting
    /// refuses a history whose median lies beyond the cap or the floor (see
    /// [`Growth::Logistic`]).
    pub fn with_growth(mut self, growth: Growth) -> Result<Self> {
        if let Growth::Logistic { cap } = growth {
            let floor = self.lower_bound.unwrap_or(0.0);
            if !cap.is_finite() || cap <= floor {
                return Err(ForecastError::InvalidParameter {
                    name: "cap",
                    reason: format!("logistic cap must be finite and > floor {floor}, got {cap}"),
                });
            }
        }
        self.growth = growth;
        Ok(self)
    }

    /// Prophet's prior scales: changepoints (0.05), seasonality (10), holidays (10).
    pub fn with_prior_scales(
        mut self,
        changepoint: f64,
        seasonality: f64,
        holidays: f64,
    ) -> Result<Self> {
        self.changepoint_prior_scale = positive("changepoint_prior_scale", changepoint)?;
        self.seasonality_prior_scale = positive("seasonality_prior_scale", seasonality)?;
        self.holidays_prior_scale = positive("holidays_prior_scale", holidays)?;
        Ok(self)
    }

    /// Hard limits of the metric (disk at most 100%, free space at least 0): every forecast
    /// value and interval bound is kept inside them, whatever the model.
    pub fn with_bounds(mut self, lower: Option<f64>, upper: Option<f64>) -> Result<Self> {
        for (name, b) in [("lower_bound", lower), ("upper_bound", upper)] {
            if let Some(v) = b
                && !v.is_finite()
            {
                return Err(ForecastError::InvalidParameter {
                    name,
                    reason: format!("must be finite, got {v}"),
                });
            }
        }
        if let (Some(l), Some(u)) = (lower, upper)
            && l >= u
        {
            return Err(ForecastError::InvalidParameter {
                name: "bounds",
                reason: format!("lower bound {l} must be below upper bound {u}"),
            });
        }
        if let Growth::Logistic { cap } = self.growth
            && cap <= lower.unwrap_or(0.0)
        {
            return Err(ForecastError::InvalidParameter {
                name: "cap",
                reason: format!(
                    "logistic cap {cap} must be > the lower bound {}",
                    lower.unwrap_or(0.0)
                ),
            });
        }
        self.lower_bound = lower;
        self.upper_bound = upper;
        Ok(self)
    }

    /// Validates every setting together, as the `with_*` builders do one at a time (a
    /// deserialised configuration goes through it; fitting checks it again). The logistic cap
    /// is checked against the lower bound whatever order they were set in; every holiday as
    /// [`Holiday::try_new`] and [`Holiday::with_window`] check it (a name, at least one date,
    /// `-366 <= lower_window <= 0 <= upper_window <= 366`).
    pub fn check(&self) -> Result<()> {
        for h in &self.holidays {
            h.check()?;
        }
        let c = self.clone();
        let c = c.with_interval_width(self.interval_width)?;
        let c = c.with_uncertainty_samples(self.uncertainty_samples)?;
        let c = c.with_prior_scales(
            self.changepoint_prior_scale,
            self.seasonality_prior_scale,
            self.holidays_prior_scale,
        )?;
        let c = c.with_bounds(self.lower_bound, self.upper_bound)?;
        c.with_growth(self.growth)?;
        Ok(())
    }

    /// The model.
    pub fn model(&self) -> ModelKind {
        self.model
    }

    /// The interval width.
    pub fn interval_width(&self) -> f64 {
        self.interval_width
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// `(lower, upper)` hard limits.
    pub fn bounds(&self) -> (Option<f64>, Option<f64>) {
        (self.lower_bound, self.upper_bound)
    }

    /// Clamps a value into the hard limits.
    pub(crate) fn clamp(&self, v: f64) -> f64 {
        let v = self.lower_bound.map_or(v, |l| v.max(l));
        self.upper_bound.map_or(v, |u| v.min(u))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logistic_cap_is_checked_against_bounds_set_later() {
        let c = ForecastConfig::default()
            .with_growth(Growth::Logistic { cap: 10.0 })
            .unwrap();
        let e = c.clone().with_bounds(Some(50.0), None).unwrap_err();
        assert!(e.to_string().contains("cap"), "{e}");
        assert!(c.with_bounds(Some(5.0), None).unwrap().check().is_ok());
    }

    #[cfg(feature = "serde")]
    #[test]
    fn a_deserialised_configuration_is_checked() {
        let good = serde_json::to_value(ForecastConfig::default()).unwrap();
        let back: ForecastConfig = serde_json::from_value(good.clone()).unwrap();
        assert_eq!(back, ForecastConfig::default());
        for (key, bad) in [
            ("interval_width", serde_json::json!(7.5)),
            ("uncertainty_samples", serde_json::json!(0)),
            ("lower_bound", serde_json::json!(100.0)),
            ("changepoint_prior_scale", serde_json::json!(-1.0)),
        ] {
            let mut v = good.clone();
            v[key] = bad;
            if key == "lower_bound" {
                v["upper_bound"] = serde_json::json!(0.0);
            }
            let e = serde_json::from_value::<ForecastConfig>(v).unwrap_err();
            assert!(
                e.to_string()
                    .contains(if key == "lower_bound" { "bound" } else { key }),
                "{key}: {e}"
            );
        }
    }

    #[test]
    fn defaults_are_the_articles() {
        let c = ForecastConfig::default();
        assert_eq!(c.interval_width, 0.95);
        assert!(c.yearly && c.weekly && c.daily);
        assert_eq!(c.countries, vec![Country::Cn]);
    }

    #[test]
    fn bad_settings_are_rejected_with_the_value() {
        let c = ForecastConfig::default();
        assert!(c.clone().with_interval_width(1.0).is_err());
        assert!(c.clone().with_interval_width(f64::NAN).is_err());
        let e = c.clone().with_bounds(Some(5.0), Some(1.0)).unwrap_err();
        assert!(e.to_string().contains('5'));
        assert!(
            c.clone()
                .with_growth(Growth::Logistic { cap: -1.0 })
                .is_err()
        );
        assert!(c.clone().with_prior_scales(0.0, 1.0, 1.0).is_err());
        assert!(
            ModelKind::parse("arima")
                .unwrap_err()
                .to_string()
                .contains("arima")
        );
        for m in ModelKind::ALL {
            assert_eq!(ModelKind::parse(m.name()).unwrap(), m);
        }
    }

    #[test]
    fn clamp_respects_bounds() {
        let c = ForecastConfig::default()
            .with_bounds(Some(0.0), Some(100.0))
            .unwrap();
        assert_eq!(c.clamp(120.0), 100.0);
        assert_eq!(c.clamp(-3.0), 0.0);
        assert_eq!(c.clamp(42.0), 42.0);
    }
}
