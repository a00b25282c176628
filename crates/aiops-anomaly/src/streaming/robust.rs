//! Robust level/spread detector: Huber-clipped EWMA level and EWMA absolute deviation.

use aiops_core::Timestamp;

use super::{DetectorState, StreamingDetector, alpha, check_half_life, check_time, z_to_score};
use crate::error::{AnomalyError, Result};

/// `sqrt(pi / 2)`: standard deviation over mean absolute deviation for Gaussian noise.
const MEAN_ABS_TO_SIGMA: f64 = 1.253_314_137_315_500_3;

/// Mean absolute deviation over median absolute deviation for Gaussian noise:
/// `sqrt(2 / pi) / 0.674_489_750_196_081_7`.
const MEDIAN_ABS_TO_MEAN_ABS: f64 = 1.182_945_419_957_696;

/// The shared robust core: a level that follows the data with clipped steps and a spread that
/// tracks the mean absolute deviation of the clipped residuals.
///
/// Stored for speed: the one-step forecast `pred = level + slope` instead of the level (the
/// level is `pred - slope`), the spread in units of the clipping cap (`clip * MEAN_ABS_TO_SIGMA`
/// times the mean absolute deviation), and the cap's floor `clip * max(rel_floor * |pred|,
/// 1e-12)` taken from the previous forecast, in single precision (it is a floor; saturated at
/// `f32::MAX`), so the state stays 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LevelSpread {
    pub(crate) n: u32,
    /// `clip * max(rel_floor * |previous pred|, 1e-12)`.
    floor_cap: f32,
    /// `level + slope`.
    pred: f64,
    slope: f64,
    /// `clip * MEAN_ABS_TO_SIGMA * (mean absolute clipped residual)`.
    spread_cap: f64,
}

/// Fixed settings of the core, shared by the detectors that embed it. Build with
/// [`CoreParams::new`], which also derives the products the hot update uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CoreParams {
    pub(crate) a_level: f64,
    pub(crate) a_spread: f64,
    pub(crate) clip: f64,
    pub(crate) rel_floor: f64,
    /// Weight of the slope update relative to the level's (Holt's beta); 0 disables the trend.
    pub(crate) beta: f64,
    /// `beta * a_level`: the slope's step per unit clipped residual.
    slope_gain: f64,
    /// `(1 + beta) * a_level`: the forecast's step per unit clipped residual.
    pred_gain: f64,
    /// `1 - a_spread`.
    keep_spread: f64,
    /// `clip * MEAN_ABS_TO_SIGMA`: cap per unit mean absolute deviation.
    cap_per_mad: f64,
    /// `a_spread * clip * MEAN_ABS_TO_SIGMA`.
    spread_gain: f64,
    /// `clip * rel_floor`: the floor of the cap per unit `|pred|`.
    cap_floor_rel: f64,
    /// `clip * 1e-12`: the absolute floor of the cap.
    cap_min: f64,
    /// `1 / clip`.
    inv_clip: f64,
}

/// `max` for operands that are not NaN (a NaN `a` yields `b`): one compare-and-select, where
/// `f64::max` adds NaN handling to the dependency chain.
#[inline]
fn max_num(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

/// `min` for operands that are not NaN (a NaN `a` yields `b`).
#[inline]
fn min_num(a: f64, b: f64) -> f64 {
    if a < b { a } else { b }
}

impl CoreParams {
    /// Settings with their derived products; `clip` must be positive.
    pub(crate) fn new(a_level: f64, a_spread: f64, clip: f64, rel_floor: f64, beta: f64) -> Self {
        let cap_per_mad = clip * MEAN_ABS_TO_SIGMA;
        Self {
            a_level,
            a_spread,
            clip,
            rel_floor,
            beta,
            slope_gain: beta * a_level,
            pred_gain: (1.0 + beta) * a_level,
            keep_spread: 1.0 - a_spread,
            cap_per_mad,
            spread_gain: a_spread * cap_per_mad,
            cap_floor_rel: clip * rel_floor,
            cap_min: clip * 1e-12,
            inv_clip: 1.0 / clip,
        }
    }

    /// `clip * max(rel_floor * |pred|, 1e-12)` in single precision, saturated at `f32::MAX`.
    #[inline]
    #[allow(clippy::cast_possible_truncation)] // Intended: the floor is kept as an f32.
    fn floor_cap(&self, pred: f64) -> f32 {
        let f = max_num(self.cap_floor_rel * pred.abs(), self.cap_min) as f32;
        if f < f32::MAX { f } else { f32::MAX }
    }
}

impl LevelSpread {
    pub(crate) const fn new() -> Self {
        Self {
            n: 0,
            floor_cap: 0.0,
            pred: 0.0,
            slope: 0.0,
            spread_cap: 0.0,
        }
    }

    /// The level estimate (meaningful once a point has been seen).
    #[inline]
    pub(crate) fn level(&self) -> f64 {
        self.pred - self.slope
    }

    /// Restarts the trend at `v` after an update: level `v`, slope 0, the spread and floor kept.
    #[inline]
    pub(crate) fn restart_at(&mut self, v: f64) {
        self.pred = v;
        self.slope = 0.0;
    }

    /// The sigma the next point will be judged by.
    #[inline]
    pub(crate) fn sigma(&self, p: &CoreParams) -> f64 {
        self.cap() * p.inv_clip
    }

    /// `clip * sigma`: the cap on a residual's step.
    #[inline]
    fn cap(&self) -> f64 {
        max_num(self.spread_cap, f64::from(self.floor_cap))
    }

    /// Signed standardised residual of `v` against the one-step forecast, then the update.
    #[inline]
    pub(crate) fn update(&mut self, v: f64, p: &CoreParams) -> f64 {
        let (r, sigma) = self.update_residual(v, p);
        r / sigma
    }

    /// The residual of `v` against the one-step forecast and the sigma it is judged by (before
    /// updating), then the update.
    ///
    /// The math (the test `fast_core_equals_reference` checks it against this plain form, equal
    /// up to rounding): `pred = level + slope`, `r = v - pred`, `sigma = max(MEAN_ABS_TO_SIGMA *
    /// mad, rel_floor * |previous pred|, 1e-12)`, `rc = clamp(r, -clip * sigma, clip * sigma)`,
    /// `level = pred + a * rc`, `slope += beta * a * rc`, `mad += b * (|rc| - mad)`. The first
    /// 31 points differ (see `warm_up`): the level and `mad` restart at the median and median
    /// absolute deviation of the first three points, `a` and `b` are at least `1 / n`, the
    /// floor comes from the current forecast, and while `mad` is at the floor a second excess
    /// confirms a scale.
    ///
    /// Only five operations sit on the loop-carried chain from one forecast to the next
    /// (subtract, absolute value, min, multiply, add): the forecast is stored, the clamp is
    /// `sign(r) * min(|r|, cap)` with the sign folded into the gains, the cap's floor comes from
    /// the previous forecast (known before the point arrives), and floors are
    /// compare-and-select.
    #[inline]
    pub(crate) fn update_residual(&mut self, v: f64, p: &CoreParams) -> (f64, f64) {
        self.n = self.n.saturating_add(1);
        if self.n < 32 {
            // By value, so the hot path's state can stay in registers.
            let (core, r, sigma) = self.warm_up(v, p);
            *self = core;
            return (r, sigma);
        }
        // One-step forecast from the local linear trend (Holt), so smooth daily swings and ramps
        // do not show up as residuals.
        let pred = self.pred;
        let r = v - pred;
        let cap = self.cap();
        // Huber-clipped steps, so one outlier moves the level by at most `clip` sigmas times
        // alpha: `a * clamp(r, -cap, cap) = copysign(a, r) * min(|r|, cap)`.
        let m = min_num(r.abs(), cap);
        self.floor_cap = p.floor_cap(pred);
        self.pred = (pred + self.slope) + p.pred_gain.copysign(r) * m;
        self.slope += p.slope_gain.copysign(r) * m;
        self.spread_cap = p.keep_spread * self.spread_cap + p.spread_gain * m;
        (r, cap * p.inv_clip)
    }

    /// The first 31 points, robust to a few outliers, with no buffer: running averages (weight
    /// at least `1 / n`) seeded by a median, with clipped steps.
    ///
    /// - Points 1 and 2: the level is their mean and the spread their mean absolute deviation,
    ///   which together keep both values (`mean -+ deviation`) for point 3.
    /// - Point 3: the level restarts at the median of the three and the spread at their median
    ///   absolute deviation (scaled to a mean absolute deviation), so one outlier among them is
    ///   dropped.
    /// - Points 4 to 31: Huber steps as after warm-up, at `clip` sigmas, with `1 / n` weights.
    ///   While the spread is still at its floor (for example after three equal counts of 0) a
    ///   lone excess is clipped to the floor and kept (in `floor_cap`, single precision) until
    ///   a second one confirms a scale: the smaller of the two enters unclipped, so one outlier
    ///   does not set the scale yet a series starting flat still finds it.
    ///
    /// Unclipped averages (before) let one value of 500 on noise of sd 1, or 1e200, set the
    /// spread, which then halves only every 60 points: tens of thousands of blind points. Any
    /// non-finite result (only values near `f64::MAX` overflow) restarts the warm-up at `v`.
    #[cold]
    #[inline(never)]
    fn warm_up(mut self, v: f64, p: &CoreParams) -> (Self, f64, f64) {
        let forecast = self.pred;
        let floor = max_num(p.cap_floor_rel * forecast.abs(), p.cap_min);
        let cap = max_num(self.spread_cap, floor);
        let (r, sigma) = (v - self.pred, cap * p.inv_clip);
        match self.n {
            1 => return (Self::started_at(v, p), 0.0, 1.0),
            2 => {
                // Halves, so the sum and difference of two huge values cannot overflow.
                let (h0, h1) = (0.5 * self.pred, 0.5 * v);
                self.pred = h0 + h1;
                self.slope = 0.0;
                self.spread_cap = p.cap_per_mad * (h1 - h0).abs();
                self.floor_cap = 0.0;
            }
            3 => {
                let dev = self.spread_cap / p.cap_per_mad;
                let (lo, hi) = (self.pred - dev, self.pred + dev);
                let med = min_num(max_num(v, lo), hi);
                let mad = median3((v - med).abs(), med - lo, hi - med);
                self.pred = med;
                self.slope = 0.0;
                self.spread_cap = p.cap_per_mad * MEDIAN_ABS_TO_MEAN_ABS * mad;
                self.floor_cap = 0.0;
            }
            _ => {
                let m = if r.abs() <= cap {
                    r.abs()
                } else if self.spread_cap > floor {
                    cap
                } else {
                    let pending = f64::from(self.floor_cap);
                    #[allow(clippy::cast_possible_truncation)] // Intended: saturates.
                    let kept = min_num(r.abs(), f64::from(f32::MAX)) as f32;
                    self.floor_cap = kept;
                    if pending > cap {
                        min_num(r.abs(), pending)
                    } else {
                        cap
                    }
                };
                let inv = 1.0 / f64::from(self.n);
                let a = max_num(p.a_level, inv).copysign(r);
                let b = max_num(p.a_spread, inv);
                let level = self.pred + a * m;
                self.slope += p.beta * a * m;
                self.pred = level + self.slope;
                self.spread_cap += b * (p.cap_per_mad * m - self.spread_cap);
            }
        }
        if !(self.pred.is_finite() && self.slope.is_finite() && self.spread_cap.is_finite()) {
            return (Self::started_at(v, p), 0.0, 1.0);
        }
        if self.n == 31 {
            // From here `floor_cap` is the floor again, from the previous forecast.
            self.floor_cap = p.floor_cap(forecast);
        }
        (self, r, sigma)
    }

    /// The state after its first point `v`.
    fn started_at(v: f64, p: &CoreParams) -> Self {
        Self {
            n: 1,
            floor_cap: p.floor_cap(v),
            pred: v,
            slope: 0.0,
            spread_cap: 0.0,
        }
    }
}

/// The median of three numbers that are not NaN.
#[inline]
fn median3(a: f64, b: f64, c: f64) -> f64 {
    max_num(min_num(a, b), min_num(max_num(a, b), c))
}

/// Robust level/spread detector, the simplest and fastest: `z = |x - forecast| / sigma` where the
/// forecast is a local linear trend (Holt: level + slope, EWMA updates with Huber-clipped steps,
/// so outliers barely move it and smooth daily swings are followed) and sigma is the EWMA of
/// absolute clipped residuals scaled to a standard deviation, floored at `rel_floor` times the
/// magnitude of the previous point's forecast (and at 1e-12).
///
/// State: [`RobustState`], 40 bytes. Warm-up: the first `warmup` points score 0.
///
/// Speed: the update is a short loop-carried chain (about 17 CPU cycles per point on one series:
/// subtract, absolute value, min, multiply, add), over 10^8 points per second on one core; see
/// `docs/benchmarks.md`.
///
/// ```
/// use aiops_anomaly::RobustDetector;
/// use aiops_core::Timestamp;
/// let d = RobustDetector::default();
/// let mut s = d.state();
/// let mut scores = Vec::new();
/// for i in 0..100i64 {
///     let v = if i == 80 { 40.0 } else { 20.0 + (i % 3) as f64 };
///     scores.push(d.update_state(&mut s, Timestamp::from_secs(i), v)?);
/// }
/// assert!(scores[..30].iter().all(|&x| x == 0.0)); // warm-up
/// assert!(scores[80] > 0.95 && scores[81] < 0.5);
/// # Ok::<(), aiops_anomaly::AnomalyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RobustDetector {
    core: CoreParams,
    warmup: u32,
}

/// Per-series state of a [`RobustDetector`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RobustState {
    last: i64,
    core: LevelSpread,
}

impl RobustState {
    /// Whether a point was accepted.
    pub(crate) fn seen(&self) -> bool {
        self.core.n > 0
    }
}

impl Default for RobustDetector {
    fn default() -> Self {
        // Level half-life 5 points with a Holt slope (beta 0.3), spread half-life 60 points, clip at
        // 3 sigma, 0.1% floor: chosen among a few candidates by the accuracy measurements.
        Self::try_new(5.0, 60.0, 30).expect("valid defaults")
    }
}

impl RobustDetector {
    /// A detector with the level and spread half-lives in points and the warm-up length.
    /// Errors unless both half-lives are finite and at least 1.
    pub fn try_new(level_half_life: f64, spread_half_life: f64, warmup: u32) -> Result<Self> {
        check_half_life("level_half_life", level_half_life)?;
        check_half_life("spread_half_life", spread_half_life)?;
        Ok(Self {
            core: CoreParams::new(
                alpha(level_half_life),
                alpha(spread_half_life),
                3.0,
                1e-3,
                0.3,
            ),
            warmup,
        })
    }

    /// Sets the spread floor as a fraction of the forecast's magnitude (default 0.001); the
    /// floor is kept in single precision (saturated at `f32::MAX`).
    pub fn with_rel_floor(mut self, rel_floor: f64) -> Result<Self> {
        if !(rel_floor.is_finite() && rel_floor >= 0.0) {
            return Err(crate::error::invalid(
                "rel_floor",
                rel_floor,
                "must be finite and >= 0",
            ));
        }
        let c = self.core;
        self.core = CoreParams::new(c.a_level, c.a_spread, c.clip, rel_floor, c.beta);
        Ok(self)
    }

    /// A fresh typed state.
    pub fn state(&self) -> RobustState {
        RobustState {
            last: i64::MIN,
            core: LevelSpread::new(),
        }
    }

    /// Typed, allocation-free update; same contract as [`StreamingDetector::update`].
    #[inline]
    pub fn update_state(&self, s: &mut RobustState, at: Timestamp, v: f64) -> Result<f64> {
        if !v.is_finite() {
            return Ok(0.0);
        }
        check_time(s.last, s.core.n > 0, at)?;
        s.last = at.as_millis();
        let (r, sigma) = s.core.update_residual(v, &self.core);
        if s.core.n <= self.warmup {
            return Ok(0.0);
        }
        // z_to_score(|r| / sigma) with a single division: r^2 / (r^2 + 9 sigma^2).
        let r2 = r * r;
        let score = r2 / (r2 + 9.0 * sigma * sigma);
        Ok(if score.is_nan() {
            z_to_score(r.abs() / sigma)
        } else {
            score
        })
    }

    /// The standardised deviation `|x - forecast| / sigma` (0 during warm-up, never NaN) for a
    /// finite `v`, then the update; the ensemble combines these before mapping to a score.
    #[inline]
    pub(crate) fn update_z(&self, s: &mut RobustState, at: Timestamp, v: f64) -> Result<f64> {
        check_time(s.last, s.core.n > 0, at)?;
        s.last = at.as_millis();
        let (r, sigma) = s.core.update_residual(v, &self.core);
        if s.core.n <= self.warmup {
            return Ok(0.0);
        }
        let z = r.abs() / sigma;
        Ok(if z.is_nan() { 0.0 } else { z })
    }

    pub(crate) fn core(&self) -> CoreParams {
        self.core
    }
    /// The core's level and the sigma the next point will be judged by, after the points seen.
    pub(crate) fn level_sigma(&self, s: &RobustState) -> (f64, f64) {
        (s.core.level(), s.core.sigma(&self.core()))
    }

    pub(crate) fn warmup(&self) -> u32 {
        self.warmup
    }
}

impl RobustState {
    /// The current level estimate, once a point has been seen.
    pub fn level(&self) -> Option<f64> {
        (self.core.n > 0).then_some(self.core.level())
    }
}

impl StreamingDetector for RobustDetector {
    fn name(&self) -> &'static str {
        "robust"
    }
    fn new_state(&self) -> DetectorState {
        DetectorState::Robust(self.state())
    }
    fn update(&self, state: &mut DetectorState, at: Timestamp, value: f64) -> Result<f64> {
        match state {
            DetectorState::Robust(s) => self.update_state(s, at, value),
            _ => Err(AnomalyError::StateMismatch { detector: "robust" }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_and_time_errors_leave_state_untouched() {
        let d = RobustDetector::default();
        let mut s = d.state();
        for i in 0..50 {
            d.update_state(&mut s, Timestamp::from_secs(i), 5.0 + (i % 2) as f64)
                .unwrap();
        }
        let before = s;
        assert_eq!(
            d.update_state(&mut s, Timestamp::from_secs(60), f64::NAN),
            Ok(0.0)
        );
        assert_eq!(
            d.update_state(&mut s, Timestamp::from_secs(61), f64::INFINITY),
            Ok(0.0)
        );
        assert_eq!(s, before);
        assert!(matches!(
            d.update_state(&mut s, Timestamp::from_secs(49), 5.0),
            Err(AnomalyError::NonIncreasingTimestamp { .. })
        ));
        assert!(
            d.update_state(&mut s, Timestamp::from_secs(49), 5.0)
                .is_err()
        );
        assert_eq!(s, before);
        // A gap in time is fine.
        assert!(
            d.update_state(&mut s, Timestamp::from_secs(10_000), 5.0)
                .is_ok()
        );
    }

    #[test]
    fn flat_series_does_not_explode_and_units_do_not_matter() {
        let d = RobustDetector::default();
        let run = |scale: f64| {
            let mut s = d.state();
            (0..300)
                .map(|i| {
                    let v = scale * (100.0 + if i == 250 { 30.0 } else { f64::from(i % 4) });
                    d.update_state(&mut s, Timestamp::from_secs(i64::from(i)), v)
                        .unwrap()
                })
                .collect::<Vec<_>>()
        };
        let (a, b) = (run(1.0), run(1e6));
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-6);
        }
        assert!(a[250] > 0.9);
        // Flat: a 0.01% wiggle on a constant stays low thanks to the relative floor.
        let mut s = d.state();
        for i in 0..100 {
            d.update_state(&mut s, Timestamp::from_secs(i), 1000.0)
                .unwrap();
        }
        let w = d
            .update_state(&mut s, Timestamp::from_secs(100), 1000.1)
            .unwrap();
        assert!(w < 0.01, "{w}");
    }

    #[test]
    fn a_series_starting_flat_at_zero_still_finds_its_scale() {
        // Counts 0, 0, 0, then 0-2: the seed's spread is 0, and only confirmed excesses (not a
        // lone one) may set the scale, yet after warm-up an ordinary count must not alarm.
        let d = RobustDetector::default();
        let mut s = d.state();
        let mut max = 0.0f64;
        for i in 0..200i64 {
            let v = if i < 3 { 0.0 } else { ((i * 7) % 3) as f64 };
            let x = d.update_state(&mut s, Timestamp::from_secs(i), v).unwrap();
            if i >= 40 {
                max = max.max(x);
            }
        }
        assert!(max < 0.5, "{max}");
    }

    #[test]
    fn wrong_state_is_an_error() {
        let d = RobustDetector::default();
        let mut st = crate::EnsembleDetector::default().new_state();
        assert_eq!(
            d.update(&mut st, Timestamp::EPOCH, 1.0),
            Err(AnomalyError::StateMismatch { detector: "robust" })
        );
        assert!(RobustDetector::try_new(0.5, 10.0, 5).is_err());
        assert!(std::mem::size_of::<RobustState>() <= 40);
    }

    /// The detector's math written plainly (NaN-propagating `f64::max`, `clamp`, a sort for the
    /// median of the first three points, the level and the spread as a mean absolute deviation,
    /// no hoisted products, the floor in double precision): the fast core must agree with it up
    /// to rounding.
    struct Reference {
        n: u32,
        level: f64,
        slope: f64,
        mad: f64,
        /// The forecast of the previous point (the floor's base).
        prev_pred: f64,
        /// The first three points.
        first: Vec<f64>,
        /// The last excess over the cap while `mad` was at the floor (warm-up).
        pending: f64,
    }

    impl Reference {
        fn new() -> Self {
            Self {
                n: 0,
                level: 0.0,
                slope: 0.0,
                mad: 0.0,
                prev_pred: 0.0,
                first: Vec::new(),
                pending: 0.0,
            }
        }

        fn score(&mut self, d: &RobustDetector, v: f64) -> f64 {
            let p = d.core;
            self.n += 1;
            let pred = self.level + self.slope;
            let r = v - pred;
            let warm = self.n < 32;
            // During warm-up the floor comes from the current forecast.
            let floor = p.rel_floor * if warm { pred } else { self.prev_pred }.abs();
            let sigma = (self.mad * MEAN_ABS_TO_SIGMA).max(floor).max(1e-12);
            let score = if self.n == 1 || self.n <= d.warmup {
                0.0
            } else {
                z_to_score(r.abs() / sigma)
            };
            if self.n <= 3 {
                self.first.push(v);
                let mut x = self.first.clone();
                x.sort_by(f64::total_cmp);
                (self.level, self.slope) = (x[x.len() / 2], 0.0);
                if self.n == 2 {
                    (self.level, self.mad) = (f64::midpoint(x[0], x[1]), (x[1] - x[0]) / 2.0);
                } else if self.n == 3 {
                    let mut dev: Vec<f64> = x.iter().map(|y| (y - x[1]).abs()).collect();
                    dev.sort_by(f64::total_cmp);
                    // Median absolute deviation to mean absolute deviation, Gaussian.
                    self.mad = dev[1] * (2.0 / std::f64::consts::PI).sqrt() / 0.674_489_750_196_082;
                }
                self.prev_pred = pred;
                return score;
            }
            let cap = p.clip * sigma;
            let (a, b, rc) = if warm {
                let inv = 1.0 / f64::from(self.n);
                let at_floor = self.mad * MEAN_ABS_TO_SIGMA <= floor.max(1e-12);
                let rc = if r.abs() > cap && at_floor {
                    let confirmed = self.pending > cap;
                    let m = if confirmed {
                        r.abs().min(self.pending)
                    } else {
                        cap
                    };
                    self.pending = r.abs();
                    m.copysign(r)
                } else {
                    r.clamp(-cap, cap)
                };
                (p.a_level.max(inv), p.a_spread.max(inv), rc)
            } else {
                (p.a_level, p.a_spread, r.clamp(-cap, cap))
            };
            self.level = pred + a * rc;
            self.slope += p.beta * a * rc;
            self.mad += b * (rc.abs() - self.mad);
            self.prev_pred = pred;
            score
        }
    }

    fn assert_matches_reference(d: &RobustDetector, values: &[f64]) {
        let mut s = d.state();
        let mut reference = Reference::new();
        for (i, &v) in values.iter().enumerate() {
            let fast = d
                .update_state(&mut s, Timestamp::from_secs(i as i64), v)
                .unwrap();
            let want = reference.score(d, v);
            // The fast core keeps the floor in single precision: 1e-7 relative on sigma.
            assert!(
                (fast - want).abs() <= 1e-6,
                "point {i}: fast {fast}, reference {want}"
            );
            let level = s.level().unwrap();
            assert!(
                (level - reference.level).abs() <= 1e-6 * reference.level.abs().max(1.0),
                "point {i}: level {level}, reference {}",
                reference.level
            );
        }
    }

    #[test]
    fn fast_core_equals_reference() {
        let mut x = 0x2545_F491_4F6C_DD1D_u64;
        let mut uniform = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let noise: Vec<f64> = (0..5000).map(|_| uniform() - 0.5).collect();
        // Daily swing with spikes, dips and a level shift; a flat stretch (the floor decides);
        // a ramp; large values; values around zero (the 1e-12 floor).
        let seasonal: Vec<f64> = (0..5000)
            .map(|i| {
                let f = f64::from(i);
                let mut v = 100.0
                    + 20.0 * (f * std::f64::consts::TAU / 288.0).sin()
                    + 4.0 * noise[i as usize];
                if i % 500 == 250 {
                    v += 80.0;
                }
                if i % 700 == 300 {
                    v -= 60.0;
                }
                if i > 3000 {
                    v += 50.0;
                }
                v
            })
            .collect();
        let flat: Vec<f64> = (0..2000)
            .map(|i| {
                if i < 1000 || i % 100 != 0 {
                    1000.0
                } else {
                    1000.5
                }
            })
            .collect();
        let ramp: Vec<f64> = (0..2000)
            .map(|i| 0.5 * f64::from(i) + noise[i as usize])
            .collect();
        let large: Vec<f64> = noise.iter().map(|e| 1e9 * (1.0 + 0.01 * e)).collect();
        let tiny: Vec<f64> = noise.iter().map(|e| 1e-13 * e).collect();
        let d = RobustDetector::default();
        for values in [&seasonal, &flat, &ramp, &large, &tiny] {
            assert_matches_reference(&d, values);
        }
        let other = RobustDetector::try_new(2.0, 20.0, 5)
            .unwrap()
            .with_rel_floor(0.05)
            .unwrap();
        assert_matches_reference(&other, &seasonal);
        assert_matches_reference(&other, &flat);
        // Scores from the second point on, so the seed's own scores are checked too.
        let eager = RobustDetector::try_new(5.0, 60.0, 1).unwrap();
        assert_matches_reference(&eager, &seasonal);
        assert_matches_reference(&eager, &ramp);
    }

    proptest::proptest! {
        #[test]
        fn scores_in_unit_interval(values in proptest::collection::vec(proptest::num::f64::ANY, 1..300)) {
            let d = RobustDetector::default();
            let mut s = d.state();
            for (i, v) in values.into_iter().enumerate() {
                let x = d.update_state(&mut s, Timestamp::from_secs(i as i64), v).unwrap();
                proptest::prop_assert!((0.0..=1.0).contains(&x));
            }
        }

        #[test]
        fn fast_core_equals_reference_on_random_series(
            values in proptest::collection::vec(-1e6..1e6f64, 1..400),
        ) {
            assert_matches_reference(&RobustDetector::default(), &values);
        }
    }
}
