//! Prophet (augurs-prophet with [`MapOptimizer`]) plus seeded uncertainty sampling.
//!
//! augurs-prophet's own interval sampling draws from `thread_rng` and cannot be seeded, so the
//! model is fitted and predicted with `uncertainty_samples = 0` and the intervals are simulated
//! here from the fitted parameters exactly as Prophet's `sample_predictive_trend` does: new
//! changepoints in the future at the historical rate (Poisson), their rate changes drawn from a
//! Laplace with the mean absolute historical change, plus Gaussian observation noise.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use augurs_prophet::optimizer::{
    Data, Error as OptError, InitialParams, OptimizeOpts, OptimizedParams,
};
use augurs_prophet::{
    Algorithm, GrowthType, HolidayOccurrence, Optimizer, PositiveFloat, PredictionData, Prophet,
    ProphetOptions, SeasonalityOption, TrainingData, TrendIndicator,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Poisson};

use crate::config::{ForecastConfig, Growth};
use crate::error::{ForecastError, Result};
use crate::optimizer::{MapOptimizer, TrendCurve};

/// What the optimizer saw and returned, kept for uncertainty sampling.
#[derive(Debug, Clone)]
struct Captured {
    params: OptimizedParams,
    t_change: Vec<f64>,
    /// Largest |scaled y| and its row, to recover Prophet's y scale.
    max_scaled: (usize, f64),
}

#[derive(Debug, Default)]
struct CapturingOptimizer {
    inner: MapOptimizer,
    slot: Arc<Mutex<Option<Captured>>>,
}

impl Optimizer for CapturingOptimizer {
    fn optimize(
        &self,
        init: &InitialParams,
        data: &Data,
        opts: &OptimizeOpts,
    ) -> std::result::Result<OptimizedParams, OptError> {
        let params = self.inner.optimize(init, data, opts)?;
        let max_scaled = data
            .y
            .iter()
            .enumerate()
            .fold((0_usize, 0.0_f64), |acc, (i, &v)| {
                if v.abs() > acc.1.abs() { (i, v) } else { acc }
            });
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some(Captured {
                params: params.clone(),
                t_change: data.t_change.clone(),
                max_scaled,
            });
        }
        Ok(params)
    }
}

/// One forecast row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RawRow {
    pub(crate) yhat: f64,
    pub(crate) lower: f64,
    pub(crate) upper: f64,
}

/// A fitted Prophet model.
#[derive(Debug)]
pub(crate) struct ProphetFit {
    prophet: Prophet<CapturingOptimizer>,
    captured: Captured,
    start: i64,
    t_scale: f64,
    y_scale: f64,
    floor: f64,
    cap: f64,
    indicator: TrendIndicator,
}

fn perr(e: impl std::fmt::Display) -> ForecastError {
    ForecastError::Prophet(e.to_string())
}

const DAY: f64 = 86_400.0;
/// Furthest Prophet forecasts, in spans of the history after its end. Trend uncertainty draws
/// `changepoints * spans ahead` new changepoints per sample (as Python Prophet does), so an
/// unbounded horizon (say `i64::MAX` ms) exhausts memory; 10,000 spans keeps the draws per
/// sample at most 250,000.
const MAX_SPANS_AHEAD: f64 = 10_000.0;
/// Most values the interval simulation holds at once (`rows x uncertainty_samples`, 8 bytes
/// each: 1 GiB): every sample path is kept to take each row's quantiles. At the default 1,000
/// samples that is 134,217 rows (a 1,000,000-step horizon asked for 8 GB).
const MAX_SAMPLE_VALUES: usize = 1 << 27;

/// Which of the requested seasonalities the history can identify: those whose period fits at
/// least once into its span (Python Prophet keeps a forced seasonality whatever the span; one
/// that has never completed a cycle only adds unidentified Fourier terms that swing the
/// forecast).
pub(crate) fn usable_seasonalities(cfg: &ForecastConfig, span_secs: f64) -> [bool; 3] {
    [
        cfg.yearly && span_secs >= 365.0 * DAY,
        cfg.weekly && span_secs >= 7.0 * DAY,
        cfg.daily && span_secs >= DAY,
    ]
}

impl ProphetFit {
    /// Fits Prophet to `(secs, y)`; `secs` strictly increasing Unix seconds.
    pub(crate) fn fit(secs: &[i64], y: &[f64], cfg: &ForecastConfig) -> Result<Self> {
        let n = secs.len();
        let span = (secs[n - 1] - secs[0]) as f64;
        let [yearly, weekly, daily] = usable_seasonalities(cfg, span);
        let mut holidays = HashMap::new();
        let all = cfg
            .countries
            .iter()
            .flat_map(|c| c.holidays())
            .chain(cfg.holidays.iter().cloned());
        for h in all {
            for (name, days) in h.features() {
                let occ: Vec<HolidayOccurrence> =
                    days.into_iter().map(HolidayOccurrence::for_day).collect();
                holidays
                    .entry(name)
                    .and_modify(|e: &mut Vec<HolidayOccurrence>| e.extend(occ.iter().cloned()))
                    .or_insert(occ);
            }
        }
        let holidays = holidays
            .into_iter()
            .map(|(k, v)| (k, augurs_prophet::Holiday::new(v)))
            .collect();
        let pf = |v: f64| PositiveFloat::try_new(v).map_err(perr);
        let floor = cfg.lower_bound.unwrap_or(0.0);
        let (growth, indicator, cap) = match cfg.growth {
            Growth::Linear => (GrowthType::Linear, TrendIndicator::Linear, 0.0),
            Growth::Flat => (GrowthType::Flat, TrendIndicator::Flat, 0.0),
            Growth::Logistic { cap } => (GrowthType::Logistic, TrendIndicator::Logistic, cap),
        };
        let opts = ProphetOptions {
            growth,
            yearly_seasonality: SeasonalityOption::Manual(yearly),
            weekly_seasonality: SeasonalityOption::Manual(weekly),
            daily_seasonality: SeasonalityOption::Manual(daily),
            uncertainty_samples: 0,
            changepoint_prior_scale: pf(cfg.changepoint_prior_scale)?,
            seasonality_prior_scale: pf(cfg.seasonality_prior_scale)?,
            holidays_prior_scale: pf(cfg.holidays_prior_scale)?,
            holidays,
            ..ProphetOptions::default()
        };
        let optimizer = CapturingOptimizer::default();
        let slot = Arc::clone(&optimizer.slot);
        let mut prophet = Prophet::new(opts, optimizer);
        let mut data = TrainingData::new(secs.to_vec(), y.to_vec()).map_err(perr)?;
        let logistic = indicator == TrendIndicator::Logistic;
        if logistic {
            data = data
                .with_cap(vec![cap; n])
                .map_err(perr)?
                .with_floor(vec![floor; n])
                .map_err(perr)?;
        }
        // Prophet's choice: Newton below 100 points, L-BFGS otherwise.
        let algorithm = if n < 100 {
            Algorithm::Newton
        } else {
            Algorithm::Lbfgs
        };
        let opt_opts = OptimizeOpts {
            algorithm: Some(algorithm),
            ..OptimizeOpts::default()
        };
        prophet.fit(data, opt_opts).map_err(perr)?;
        let captured = slot
            .lock()
            .ok()
            .and_then(|mut g| g.take())
            .ok_or_else(|| ForecastError::Prophet("optimizer was not called".into()))?;
        let (i, scaled) = captured.max_scaled;
        let base = if logistic { floor } else { 0.0 };
        let y_scale = if scaled == 0.0 {
            1.0
        } else {
            (y[i] - base) / scaled
        };
        Ok(ProphetFit {
            prophet,
            captured,
            start: secs[0],
            t_scale: span.max(1.0),
            y_scale,
            floor: if logistic { floor } else { 0.0 },
            cap,
            indicator,
        })
    }

    /// Point forecasts and seeded intervals at `future` (Unix seconds, increasing); more than
    /// [`MAX_SPANS_AHEAD`] spans of the history after its end, or more than
    /// [`MAX_SAMPLE_VALUES`] rows times samples, is [`ForecastError::InvalidHorizon`].
    pub(crate) fn forecast(&self, future: &[i64], cfg: &ForecastConfig) -> Result<Vec<RawRow>> {
        let n_samples = cfg.uncertainty_samples as usize;
        if future.len().saturating_mul(n_samples) > MAX_SAMPLE_VALUES {
            return Err(ForecastError::InvalidHorizon(format!(
                "{} steps with {n_samples} uncertainty samples would hold {} sample values \
                 ({} MiB); Prophet's intervals support at most {} values: ask for at most {} \
                 steps, or fewer samples",
                future.len(),
                future.len().saturating_mul(n_samples),
                future.len().saturating_mul(n_samples) / (1 << 17),
                MAX_SAMPLE_VALUES,
                MAX_SAMPLE_VALUES / n_samples.max(1)
            )));
        }
        // In the history's scaled time: 0 at its start, 1 at its end.
        let t: Vec<f64> = future
            .iter()
            .map(|&s| (s - self.start) as f64 / self.t_scale)
            .collect();
        if let Some((&s, &t_max)) = future.last().zip(t.last())
            && t_max - 1.0 > MAX_SPANS_AHEAD
        {
            return Err(ForecastError::InvalidHorizon(format!(
                "{} is {:.0} spans of the training history after its end; Prophet's trend \
                 uncertainty supports at most 10,000",
                aiops_core::Timestamp::from_secs(s),
                t_max - 1.0
            )));
        }
        let mut pd = PredictionData::new(future.to_vec());
        if self.indicator == TrendIndicator::Logistic {
            pd = pd
                .with_cap(vec![self.cap; future.len()])
                .map_err(perr)?
                .with_floor(vec![self.floor; future.len()])
                .map_err(perr)?;
        }
        let pred = self.prophet.predict(pd).map_err(perr)?;
        // augurs sums the components in HashMap order; add them in name order instead so the
        // last bits are reproducible (the model is additive: yhat = trend + components).
        let mut parts: Vec<(&String, &Vec<f64>)> = pred
            .seasonalities
            .iter()
            .chain(&pred.holidays)
            .map(|(k, v)| (k, &v.point))
            .collect();
        parts.sort_by(|a, b| a.0.cmp(b.0));
        let yhat: Vec<f64> = (0..future.len())
            .map(|i| {
                let seasonal: f64 = parts.iter().map(|(_, v)| v[i]).sum();
                pred.trend.point[i] * (1.0 + pred.multiplicative.point[i]) + seasonal
            })
            .collect();
        debug_assert!(
            yhat.iter()
                .zip(&pred.yhat.point)
                .all(|(a, b)| a == b || (a - b).abs() <= 1e-9 * (1.0 + b.abs()) || !b.is_finite())
        );
        let yhat = &yhat;
        let trend = &pred.trend.point;
        let mult = &pred.multiplicative.point;
        let samples = self.sample(&t, yhat, trend, mult, cfg)?;
        let h = future.len();
        let n_samples = cfg.uncertainty_samples as usize;
        let lo_q = (1.0 - cfg.interval_width) / 2.0;
        let hi_q = 1.0 - lo_q;
        let mut samples = samples;
        let mut rows = Vec::with_capacity(h);
        for i in 0..h {
            let col = &mut samples[i * n_samples..(i + 1) * n_samples];
            let lower = aiops_core::stats::quantile(col, lo_q).unwrap_or(yhat[i]);
            let upper = aiops_core::stats::quantile(col, hi_q).unwrap_or(yhat[i]);
            rows.push(RawRow {
                yhat: yhat[i],
                lower,
                upper,
            });
        }
        Ok(rows)
    }

    /// `samples[i * n_samples + s]`: simulated value of path `s` at row `i`.
    fn sample(
        &self,
        t: &[f64],
        yhat: &[f64],
        trend: &[f64],
        mult: &[f64],
        cfg: &ForecastConfig,
    ) -> Result<Vec<f64>> {
        let p = &self.captured.params;
        let cps = &self.captured.t_change;
        let h = t.len();
        let n_samples = cfg.uncertainty_samples as usize;
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let sigma = *p.sigma_obs * self.y_scale.abs();
        let noise = Normal::new(0.0, sigma.max(0.0)).map_err(perr)?;
        let t_max = t.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lambda = if p.delta.is_empty() {
            0.0
        } else {
            p.delta.iter().map(|d| d.abs()).sum::<f64>() / p.delta.len() as f64
        } + 1e-8;
        let rate = cps.len() as f64 * (t_max - 1.0);
        let poisson = if rate > 0.0 {
            Some(Poisson::new(rate).map_err(perr)?)
        } else {
            None
        };
        let mut out = vec![0.0; n_samples * h];
        let mut new_cps: Vec<f64> = Vec::new();
        let mut new_deltas: Vec<f64> = Vec::new();
        let mut all_cps: Vec<f64> = Vec::new();
        let mut all_deltas: Vec<f64> = Vec::new();
        for s in 0..n_samples {
            new_cps.clear();
            new_deltas.clear();
            if self.indicator != TrendIndicator::Flat
                && let Some(po) = &poisson
            {
                let count = po.sample(&mut rng) as usize;
                for _ in 0..count {
                    new_cps.push(rng.gen_range(1.0..t_max.max(1.0 + 1e-12)));
                }
                new_cps.sort_by(f64::total_cmp);
                for _ in 0..count {
                    // Laplace(0, lambda) by inverse CDF.
                    let u: f64 = rng.gen_range(-0.5..0.5);
                    new_deltas.push(-lambda * u.signum() * (1.0 - 2.0 * u.abs()).max(1e-300).ln());
                }
            }
            if self.indicator == TrendIndicator::Logistic && !new_cps.is_empty() {
                all_cps.clear();
                all_cps.extend_from_slice(cps);
                all_cps.extend_from_slice(&new_cps);
                all_deltas.clear();
                all_deltas.extend_from_slice(&p.delta);
                all_deltas.extend_from_slice(&new_deltas);
            }
            // The sampled changepoints' trend, its pieces computed once per sample: the sum
            // over the new changepoints `c <= t` of `delta (t - c)` (linear, a trend from 0
            // with rate 0), or the logistic trend over all changepoints.
            let curve = match self.indicator {
                TrendIndicator::Flat => None,
                TrendIndicator::Linear => Some(TrendCurve::new(
                    TrendIndicator::Linear,
                    0.0,
                    0.0,
                    &new_deltas,
                    &new_cps,
                    0.0,
                )),
                TrendIndicator::Logistic => (!new_cps.is_empty()).then(|| {
                    TrendCurve::new(
                        TrendIndicator::Logistic,
                        p.k,
                        p.m,
                        &all_deltas,
                        &all_cps,
                        (self.cap - self.floor) / self.y_scale,
                    )
                }),
            };
            for i in 0..h {
                let delta_trend = match (&curve, self.indicator) {
                    (None, _) => 0.0,
                    (Some(c), TrendIndicator::Linear) => c.at(t[i], 0.0) * self.y_scale,
                    (Some(c), _) => c.at(t[i], p.m) * self.y_scale + self.floor - trend[i],
                };
                out[i * n_samples + s] =
                    yhat[i] + delta_trend * (1.0 + mult[i]) + noise.sample(&mut rng);
            }
        }
        Ok(out)
    }
}
