//! Prophet (augurs-prophet with [`MapOptimizer`]) plus seeded uncertainty sampling.
//!
//! augurs-prophet's own interval sampling draws from `thread_rng` and cannot be seeded, so the
//! model is fitted and predicted with `uncertainty_samples = 0` and the intervals are simulated
//! here from the fitted parameters exactly as Prophet's `sample_predictive_trend` does: new
//! changepoints in the future at the historical rate (Poisson), their rate changes drawn from a
//! Laplace with the mean absolute historical change, plus Gaussian observation noise.
//!
//! Time axis: augurs-prophet takes whole numbers of "seconds". It is given Unix
//! *milliseconds* instead, so that timestamps less than a second apart stay distinct and
//! sub-second times are exact (whole seconds collapsed 100 ms steps into duplicates). Nothing
//! else changes meaning on that axis: Prophet scales time to `[0, 1]` over the history (the
//! trend, changepoints and their priors are the same), changepoints are chosen by index, the
//! seasonalities are added with their periods in real days (1, 7, 365.25 days, written as
//! 1000 times as many axis "days"), and holidays are given as `[start, end)` millisecond
//! ranges of their UTC days.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use augurs_prophet::optimizer::{
    Data, Error as OptError, InitialParams, OptimizeOpts, OptimizedParams,
};
use augurs_prophet::{
    Algorithm, GrowthType, HolidayOccurrence, Optimizer, PositiveFloat, PredictionData, Prophet,
    ProphetOptions, Seasonality, SeasonalityOption, TrainingData, TrendIndicator,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Poisson};

use aiops_core::Timestamp;

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
    /// First training timestamp, Unix milliseconds.
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

const DAY_MS: i64 = 86_400_000;
/// augurs-prophet's seasonal periods are in axis "days" of 86,400 axis units; the axis unit
/// here is a millisecond, so a real day is 1000 axis days.
const AXIS_DAYS_PER_DAY: f64 = 1000.0;
/// Furthest Prophet forecasts, in spans of the history after its end. Trend uncertainty draws
/// `changepoints * spans ahead` new changepoints per sample (as Python Prophet does), so an
/// unbounded horizon (say `i64::MAX` ms) exhausts memory; 10,000 spans keeps the draws per
/// sample at most 250,000.
const MAX_SPANS_AHEAD: f64 = 10_000.0;
/// Most values the interval simulation holds at once (`rows x uncertainty_samples`, 8 bytes
/// each: 1 GiB): every sample path is kept to take each row's quantiles. At the default 1,000
/// samples that is 134,217 rows (a 1,000,000-step horizon asked for 8 GB).
const MAX_SAMPLE_VALUES: usize = 1 << 27;

/// Which of the requested seasonalities (`[yearly, weekly, daily]`) the history can identify,
/// by Python Prophet's rule for `'auto'` seasonalities (`set_auto_seasonalities`): yearly
/// when the history spans at least 730 days; weekly when it spans at least 2 weeks and its
/// smallest gap is under a week; daily when it spans at least 2 days and its smallest gap is
/// under a day. A seasonality sampled once a period or less (daily points, daily
/// seasonality) only adds unidentified Fourier terms that invent a cycle between the samples.
/// `span_ms` and `min_gap_ms` are the history's span and smallest gap in milliseconds.
pub(crate) fn usable_seasonalities(
    cfg: &ForecastConfig,
    span_ms: i64,
    min_gap_ms: i64,
) -> [bool; 3] {
    const WEEK_MS: i64 = 7 * DAY_MS;
    [
        cfg.yearly && span_ms >= 730 * DAY_MS,
        cfg.weekly && span_ms >= 2 * WEEK_MS && min_gap_ms < WEEK_MS,
        cfg.daily && span_ms >= 2 * DAY_MS && min_gap_ms < DAY_MS,
    ]
}

/// Refuses a logistic fit whose history mostly lies outside the trend's range `floor ..= cap`
/// (its median above the cap or below the floor), naming the first point outside it.
///
/// A logistic trend never leaves that range; seasonality and noise ride on the trend, so
/// single points beyond the cap are normal (a daily cycle on a saturated trend), and Python
/// Prophet accepts any history. But seasonal terms average to zero and noise is centred, so a
/// history whose median is beyond the cap cannot be fitted: the forecast would stay at the
/// cap, below most of the data (a cap in other units than the series, or one the metric has
/// already outgrown).
fn check_logistic_range(ms: &[i64], y: &[f64], floor: f64, cap: f64) -> Result<()> {
    let Some(mid) = aiops_core::stats::median(&mut y.to_vec()) else {
        return Ok(());
    };
    let first = |outside: &dyn Fn(f64) -> bool| {
        y.iter()
            .position(|&v| outside(v))
            .map(|i| (i, y[i], Timestamp::from_millis(ms[i])))
    };
    if mid > cap
        && let Some((i, v, at)) = first(&|v| v > cap)
    {
        return Err(ForecastError::InvalidParameter {
            name: "cap",
            reason: format!(
                "the history's median {mid} is above the logistic cap {cap} (first value above \
                 it: {v} at index {i}, {at}); a logistic trend never exceeds its cap, so it \
                 cannot follow this history: raise the cap (in the series' units) or use \
                 linear growth"
            ),
        });
    }
    if mid < floor
        && let Some((i, v, at)) = first(&|v| v < floor)
    {
        return Err(ForecastError::InvalidParameter {
            name: "floor",
            reason: format!(
                "the history's median {mid} is below the logistic floor {floor} (the lower \
                 bound, else 0; first value below it: {v} at index {i}, {at}); a logistic \
                 trend never falls below its floor, so it cannot follow this history: lower \
                 the bound or use linear growth"
            ),
        });
    }
    Ok(())
}

impl ProphetFit {
    /// Fits Prophet to `(ms, y)`; `ms` strictly increasing Unix milliseconds, at least 2 of
    /// them, whose span fits an `i64` (checked by the caller).
    ///
    /// Errors: [`ForecastError::InvalidParameter`] when the history's median lies beyond a
    /// logistic cap or floor (see [`check_logistic_range`]), [`ForecastError::Prophet`] when
    /// augurs-prophet fails.
    pub(crate) fn fit(ms: &[i64], y: &[f64], cfg: &ForecastConfig) -> Result<Self> {
        let n = ms.len();
        let span = ms[n - 1] - ms[0];
        let min_gap = ms.windows(2).map(|w| w[1] - w[0]).min().unwrap_or(span);
        let [yearly, weekly, daily] = usable_seasonalities(cfg, span, min_gap);
        let mut holidays = HashMap::new();
        let all = cfg
            .countries
            .iter()
            .flat_map(|c| c.holidays())
            .chain(cfg.holidays.iter().cloned());
        for h in all {
            for (name, days) in h.features() {
                let occ: Vec<HolidayOccurrence> = days
                    .into_iter()
                    .map(|(start, end)| HolidayOccurrence::new(start, end))
                    .collect();
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
        let logistic = indicator == TrendIndicator::Logistic;
        if logistic {
            check_logistic_range(ms, y, floor, cap)?;
        }
        // The built-in seasonalities assume an axis in seconds: they are added below with
        // their periods on the millisecond axis instead, under the same names and orders.
        let opts = ProphetOptions {
            growth,
            yearly_seasonality: SeasonalityOption::Manual(false),
            weekly_seasonality: SeasonalityOption::Manual(false),
            daily_seasonality: SeasonalityOption::Manual(false),
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
        // Python Prophet's periods (days) and default Fourier orders.
        for (on, name, period_days, order) in [
            (yearly, "yearly", 365.25, 10),
            (weekly, "weekly", 7.0, 3),
            (daily, "daily", 1.0, 4),
        ] {
            if on {
                let order = std::num::NonZeroU32::new(order)
                    .ok_or_else(|| ForecastError::Prophet("zero Fourier order".into()))?;
                let period = pf(period_days * AXIS_DAYS_PER_DAY)?;
                prophet
                    .add_seasonality(name.to_string(), Seasonality::new(period, order))
                    .map_err(perr)?;
            }
        }
        let mut data = TrainingData::new(ms.to_vec(), y.to_vec()).map_err(perr)?;
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
            start: ms[0],
            t_scale: span.max(1) as f64,
            y_scale,
            floor: if logistic { floor } else { 0.0 },
            cap,
            indicator,
        })
    }

    /// Point forecasts and seeded intervals at `future` (Unix milliseconds, increasing); more
    /// than [`MAX_SPANS_AHEAD`] spans of the history after its end, more than
    /// [`MAX_SAMPLE_VALUES`] rows times samples, or a time more milliseconds from the start of
    /// the history than an `i64` holds, is [`ForecastError::InvalidHorizon`].
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
        // In the history's scaled time: 0 at its start, 1 at its end (the distance in i128:
        // two i64 instants can be further apart than an i64 holds).
        let t: Vec<f64> = future
            .iter()
            .map(|&s| (i128::from(s) - i128::from(self.start)) as f64 / self.t_scale)
            .collect();
        if let Some((&s, &t_max)) = future.last().zip(t.last())
            && t_max - 1.0 > MAX_SPANS_AHEAD
        {
            return Err(ForecastError::InvalidHorizon(format!(
                "{} is {:.0} spans of the training history after its end; Prophet's trend \
                 uncertainty supports at most 10,000",
                Timestamp::from_millis(s),
                t_max - 1.0
            )));
        }
        // augurs-prophet subtracts the start in i64: the earliest and the latest time must be
        // within i64::MAX ms (about 292 million years) of it.
        for &s in [future.first(), future.last()].into_iter().flatten() {
            if s.checked_sub(self.start).is_none() {
                return Err(ForecastError::InvalidHorizon(format!(
                    "{} is more milliseconds from the start of the training history ({}) than \
                     an i64 holds (about 292 million years); Prophet cannot place it",
                    Timestamp::from_millis(s),
                    Timestamp::from_millis(self.start)
                )));
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seasonalities_follow_prophets_auto_rule() {
        // Python Prophet's set_auto_seasonalities: yearly with >= 730 days; weekly with >= 2
        // weeks and a smallest gap under a week; daily with >= 2 days and a gap under a day.
        const H: i64 = 3_600_000;
        let all = ForecastConfig::default();
        let cases: [(i64, i64, [bool; 3]); 9] = [
            (48 * H, H, [false, false, true]),
            (47 * H, H, [false, false, false]),
            (60 * DAY_MS, DAY_MS, [false, true, false]),
            (60 * DAY_MS, DAY_MS - 1, [false, true, true]),
            (14 * DAY_MS, H, [false, true, true]),
            (14 * DAY_MS - 1, H, [false, false, true]),
            (400 * DAY_MS, 7 * DAY_MS, [false, false, false]),
            (730 * DAY_MS, DAY_MS, [true, true, false]),
            (730 * DAY_MS - 1, 100, [false, true, true]),
        ];
        for (span, gap, want) in cases {
            assert_eq!(
                usable_seasonalities(&all, span, gap),
                want,
                "span {span} ms, smallest gap {gap} ms"
            );
        }
        // Only requested ones.
        let none = all.with_seasonalities(false, false, false);
        assert_eq!(
            usable_seasonalities(&none, 800 * DAY_MS, H),
            [false, false, false]
        );
    }
}
