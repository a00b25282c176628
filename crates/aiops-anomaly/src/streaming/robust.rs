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
/// times the mean absolute deviation), and the cap's floor `clip * rel_floor * |pred|` taken
/// from the previous forecast, in single precision (it is a floor; saturated at `f32::MAX`), so
/// the state stays 32 bytes.
///
/// Every floor is relative to the series' own scale (there used to be an absolute one of 1e-12
/// as well, which made scores depend on the unit: a 100-sigma spike on noise of sd 1e-13
/// around 1e-11 scored 0.92 instead of 0.999, on noise of sd 1e-15 0.001), so multiplying a
/// series by any positive factor leaves its scores as they are. A series with no scale of its own gets one from its
/// data: see [`LevelSpread::update_residual`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LevelSpread {
    pub(crate) n: u32,
    /// `clip * rel_floor * |previous pred|`; `NO_SCALE` after warm-up while there is no scale
    /// at all.
    floor_cap: f32,
    /// `level + slope`.
    pred: f64,
    slope: f64,
    /// `clip * MEAN_ABS_TO_SIGMA * (mean absolute clipped residual)`; while there is no scale
    /// at all, minus the pending first departure (see `without_scale`).
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
    /// `1 / clip`.
    inv_clip: f64,
}

/// The value of `LevelSpread::floor_cap` while a series has no scale at all (see
/// `without_scale`): a floor never takes it (floors saturate at `f32::MAX`), and as the cap it
/// sends every point to the cold path, so the hot path needs no test of its own for it.
const NO_SCALE: f32 = f32::INFINITY;

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
            inv_clip: 1.0 / clip,
        }
    }

    /// `clip * rel_floor * |pred|` in single precision, saturated at `f32::MAX`.
    #[inline]
    #[allow(clippy::cast_possible_truncation)] // Intended: the floor is kept as an f32.
    fn floor_cap(&self, pred: f64) -> f32 {
        let f = (self.cap_floor_rel * pred.abs()) as f32;
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

    /// The sigma the next point will be judged by (0 without a scale).
    #[inline]
    pub(crate) fn sigma(&self, p: &CoreParams) -> f64 {
        if self.floor_cap == NO_SCALE {
            return 0.0;
        }
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
    /// mad, rel_floor * |previous pred|)`, `rc = clamp(r, -clip * sigma, clip * sigma)`,
    /// `level = pred + a * rc`, `slope += beta * a * rc`, `mad += b * (|rc| - mad)`. The first
    /// 31 points differ (see `warm_up`): the level and `mad` restart at the median and median
    /// absolute deviation of the first three points, `a` and `b` are at least `1 / n`, the
    /// floor comes from the current forecast, and while `mad` is at the floor a second excess
    /// confirms a scale.
    ///
    /// Two rules give a scale to a series that has none, without an absolute floor (which
    /// would tie scores to the unit):
    ///
    /// - Resting at zero keeps the scale: while both `|r|` and the floor are below `f64`
    ///   rounding of the spread (`<= f64::EPSILON` times it), `mad` is not decayed. A series
    ///   exactly at 0 after noise would otherwise shrink its spread without end (halving every
    ///   60 points, with no relative floor to stop it), and the noise's return would score high
    ///   for about a third of the flat stretch's length (all 2,000 points after a rest of
    ///   20,000 in the test; a few hundred with resting). A flat stretch away from 0 decays to
    ///   its floor as before.
    /// - No scale at all (`sigma == 0`: exactly 0, or flat with `rel_floor` 0, since the
    ///   warm-up): a departure scores 1 (`z` infinite), and as in the warm-up a second one
    ///   confirms a scale: the smaller of the two sets `mad` and takes a level step (see
    ///   `without_scale`), so one outlier does not set it and the series does not stay at score
    ///   1 (before, an absolute floor of 1e-12 grew by 3% a point: some 900 points to reach a
    ///   spread of 1).
    ///
    /// Only five operations sit on the loop-carried chain from one forecast to the next
    /// (subtract, absolute value, min, multiply, add): the forecast is stored, the clamp is
    /// `sign(r) * min(|r|, cap)` with the sign folded into the gains, the cap's floor comes from
    /// the previous forecast (known before the point arrives), and floors are
    /// compare-and-select.
    // Always: it grew past the inliner's budget in the ensemble, which then ran 15% slower.
    #[inline(always)]
    #[allow(clippy::inline_always)] // Measured: see the comment above.
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
        // Resting at zero (residual and floor below rounding of the cap, which is then the
        // spread) or no scale at all (the floor is then `NO_SCALE`, infinite, and so is the
        // cap): one compare and a branch, predicted on a series with a scale.
        if max_num(r.abs(), f64::from(self.floor_cap)) <= f64::EPSILON * cap {
            let (core, r, sigma) = self.at_rest(v, p);
            *self = core;
            return (r, sigma);
        }
        // Huber-clipped steps, so one outlier moves the level by at most `clip` sigmas times
        // alpha: `a * clamp(r, -cap, cap) = copysign(a, r) * min(|r|, cap)`.
        let m = min_num(r.abs(), cap);
        self.floor_cap = p.floor_cap(pred);
        self.pred = (pred + self.slope) + p.pred_gain.copysign(r) * m;
        self.slope += p.slope_gain.copysign(r) * m;
        self.spread_cap = p.keep_spread * self.spread_cap + p.spread_gain * m;
        (r, cap * p.inv_clip)
    }

    /// The update while resting at zero (the hot path's, with the spread kept) or without a
    /// scale (see [`without_scale`](Self::without_scale)): the residual and the sigma it was
    /// judged by.
    #[cold]
    #[inline(never)]
    fn at_rest(mut self, v: f64, p: &CoreParams) -> (Self, f64, f64) {
        if self.floor_cap == NO_SCALE {
            let (core, r) = self.without_scale(v, p);
            return (core, r, 0.0);
        }
        let cap = self.cap();
        let pred = self.pred;
        let r = v - pred;
        let m = min_num(r.abs(), cap);
        self.floor_cap = p.floor_cap(pred);
        self.pred = (pred + self.slope) + p.pred_gain.copysign(r) * m;
        self.slope += p.slope_gain.copysign(r) * m;
        (self, r, cap * p.inv_clip)
    }

    /// An update after warm-up without a scale (`floor_cap` is `NO_SCALE`: no spread and no
    /// floor at the end of the warm-up, so the series has been exactly 0, or flat with
    /// `rel_floor` 0). A departure from the forecast scores 1 (the caller's `|r| / 0`); the
    /// first is kept, as minus `spread_cap`, and the next one confirms a scale: the smaller of
    /// the two enters as a level step and restarts `mad`, as the warm-up's confirmed excess
    /// does, and the floor is the floor again. Returns the state and `r`; sigma is 0. A
    /// non-finite result (values near `f64::MAX`) restarts the warm-up.
    fn without_scale(mut self, v: f64, p: &CoreParams) -> (Self, f64) {
        let pred = self.pred;
        let r = v - pred;
        if r != 0.0 {
            let pending = -self.spread_cap;
            let size = min_num(r.abs(), f64::MAX);
            if pending > 0.0 {
                let m = min_num(size, pending);
                self.floor_cap = p.floor_cap(pred);
                self.pred = (pred + self.slope) + p.pred_gain.copysign(r) * m;
                self.slope += p.slope_gain.copysign(r) * m;
                self.spread_cap = p.cap_per_mad * m;
            } else {
                self.spread_cap = -size;
            }
        }
        if !(self.pred.is_finite() && self.slope.is_finite() && self.spread_cap.is_finite()) {
            return (Self::started_at(v, p), 0.0);
        }
        (self, r)
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
        let floor = p.cap_floor_rel * forecast.abs();
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
            if self.floor_cap == 0.0 && self.spread_cap <= 0.0 {
                self.floor_cap = NO_SCALE;
            }
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
/// magnitude of the previous point's forecast.
///
/// Scores do not depend on the unit: every floor is relative to the series, so multiplying it
/// by any positive factor (1e-300 to 1e300) leaves the scores as they are. A flat series
/// away from 0 is judged by the floor (a 0.01% wiggle on a constant stays low); a series
/// exactly at 0 since its warm-up has no scale: a departure scores 1, and the second departure
/// sets the scale (the smaller of the two), so one outlier does not. Resting exactly at 0 after
/// noise keeps the noise's scale rather than shrinking it without end.
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
    /// The checks of an update (the timestamp), which changes nothing when they fail.
    #[inline]
    pub(crate) fn check_at(&self, at: Timestamp) -> Result<()> {
        check_time(self.last, self.seen(), at)
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
        // z_to_score(|r| / sigma) with a single division: r^2 / (r^2 + 9 sigma^2), unless the
        // squares leave the normal range (series beyond about 1e150 or below 1e-150: a subnormal
        // 9 sigma^2 has too few digits, an infinite r^2 gives NaN), where the division comes
        // first, so scores do not depend on the unit.
        let r2 = r * r;
        let s2 = 9.0 * sigma * sigma;
        let score = r2 / (r2 + s2);
        Ok(if s2 >= f64::MIN_POSITIVE && !score.is_nan() {
            score
        } else {
            z_to_score(r.abs() / sigma)
        })
    }

    /// The standardised deviation `|x - forecast| / sigma` (0 during warm-up, never NaN) for a
    /// finite `v`, then the update; the ensemble combines these before mapping to a score. Only
    /// after [`RobustState::check_at`] has accepted `at`.
    #[inline]
    pub(crate) fn checked_z(&self, s: &mut RobustState, at: Timestamp, v: f64) -> f64 {
        s.last = at.as_millis();
        let (r, sigma) = s.core.update_residual(v, &self.core);
        if s.core.n <= self.warmup {
            return 0.0;
        }
        let z = r.abs() / sigma;
        if z.is_nan() { 0.0 } else { z }
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

    /// Scores of `values`, one point a second.
    fn run(d: &RobustDetector, values: &[f64]) -> Vec<f64> {
        let mut s = d.state();
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                d.update_state(&mut s, Timestamp::from_secs(i as i64), v)
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn a_series_exactly_at_zero_takes_its_scale_from_its_departures() {
        // 0 for 200 points (no scale: no spread, no relative floor), a lone 1e6, 0 again,
        // then counts 0-4 from point 400. With an absolute floor of 1e-12 the counts scored
        // above 0.5 for some 900 points (to point 1322) while it grew; with no floor at all
        // (a cap of 0, no step) they would for ever.
        let values: Vec<f64> = (0..1500)
            .map(|i| match i {
                300 => 1e6,
                400.. => f64::from((i * 7) % 5),
                _ => 0.0,
            })
            .collect();
        let d = RobustDetector::default();
        let want = run(&d, &values);
        assert!(want[31..300].iter().all(|&x| x == 0.0));
        // A departure from a series with no scale scores 1 (the first two do).
        assert_eq!(want[300], 1.0);
        assert!(want[301..400].iter().all(|&x| x == 0.0));
        let first = (400..values.len()).find(|&i| values[i] != 0.0).unwrap();
        assert_eq!(want[first], 1.0);
        // The second departure set the scale (the smaller of 1e6 and it): ordinary counts
        // score low soon after, and the 1e6 did not blind the detector.
        let late = want[450..].iter().copied().fold(0.0, f64::max);
        assert!(late < 0.6, "{late}");
        // The same in any unit.
        for unit in [1e-300, 1e-15, 1e15, 1e300] {
            let scaled: Vec<f64> = values.iter().map(|x| x * unit).collect();
            for (i, (g, w)) in run(&d, &scaled).iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() < 1e-9,
                    "unit {unit}, point {i}: {g} against {w}"
                );
            }
        }
    }

    #[test]
    fn resting_exactly_at_zero_keeps_the_scale() {
        // Noise of sd 1 around 0, exactly 0 for 20,000 points, then the same noise: the spread
        // decayed while at 0 (to the 1e-12 floor before, after some 2,400 points) and 886 of
        // the 2,000 points after the rest scored above 0.5; with no floor and no resting rule
        // it went on down to the smallest subnormal and all 2,000 did. Resting keeps the
        // spread once the forecast has settled on 0 (at about 1e-3 of the noise's).
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        let mut noise = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Uniform on [-1.7, 1.7]: sd about 1.
            (x >> 11) as f64 / (1u64 << 53) as f64 * 3.4 - 1.7
        };
        let values: Vec<f64> = (0..23_000)
            .map(|i| {
                if (1000..21_000).contains(&i) {
                    0.0
                } else {
                    noise()
                }
            })
            .collect();
        let d = RobustDetector::default();
        let s = run(&d, &values);
        let high = s[21_000..].iter().filter(|&&x| x > 0.5).count();
        assert!(
            high < 250,
            "{high} of 2000 points after the rest scored above 0.5"
        );
        // The same in any unit.
        for unit in [1e-300, 1e-15, 1e15, 1e300] {
            let scaled: Vec<f64> = values.iter().map(|x| x * unit).collect();
            for (i, (g, w)) in run(&d, &scaled).iter().zip(&s).enumerate() {
                assert!(
                    (g - w).abs() < 1e-9,
                    "unit {unit}, point {i}: {g} against {w}"
                );
            }
        }
        // A flat stretch away from 0 still decays to its floor, even after noise far larger
        // than the level (the floor is not below rounding of the spread): after 5,000 points at
        // 1000, a wiggle of 5 is 5 sigmas of the 0.1% floor.
        let values: Vec<f64> = (0..7000)
            .map(|i| match i {
                0..1000 => 1000.0 + 1e6 * noise(),
                6500 => 1005.0,
                _ => 1000.0,
            })
            .collect();
        let s = run(&d, &values);
        assert!(s[6500] > 0.5, "{}", s[6500]);
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
        /// The first departure while there is no scale at all (after warm-up).
        departure: f64,
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
                departure: 0.0,
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
            let sigma = (self.mad * MEAN_ABS_TO_SIGMA).max(floor);
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
            if !warm && cap == 0.0 {
                // No scale: the second departure confirms one, the smaller of the two.
                if r != 0.0 {
                    if self.departure > 0.0 {
                        let m = r.abs().min(self.departure);
                        self.level = pred + (p.a_level * m).copysign(r);
                        self.slope += (p.beta * p.a_level * m).copysign(r);
                        self.mad = m;
                        self.departure = 0.0;
                    } else {
                        self.departure = r.abs();
                    }
                }
                self.prev_pred = pred;
                return score;
            }
            // Resting at zero: residual and floor below rounding of the spread.
            let resting = !warm
                && r.abs().max(p.clip * floor)
                    <= f64::EPSILON * p.clip * MEAN_ABS_TO_SIGMA * self.mad;
            let (a, b, rc) = if warm {
                let inv = 1.0 / f64::from(self.n);
                let at_floor = self.mad * MEAN_ABS_TO_SIGMA <= floor;
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
            if !resting {
                self.mad += b * (rc.abs() - self.mad);
            }
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
        // a ramp; large values; values around zero; flat at 0 from the start (no scale), and
        // noise, then exactly 0 (resting), then noise.
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
        // Counts: 0 for 100 points, a lone 3, 0 again, then counts 0-4 from point 300.
        let zeros: Vec<f64> = (0..2000)
            .map(|i| match i {
                150 => 3.0,
                300.. => f64::from((i * 7) % 5),
                _ => 0.0,
            })
            .collect();
        let rest: Vec<f64> = (0..5000)
            .map(|i| {
                if (1000..3000).contains(&i) {
                    0.0
                } else {
                    noise[i]
                }
            })
            .collect();
        let d = RobustDetector::default();
        for values in [&seasonal, &flat, &ramp, &large, &tiny, &zeros, &rest] {
            assert_matches_reference(&d, values);
        }
        let no_floor = RobustDetector::default().with_rel_floor(0.0).unwrap();
        assert_matches_reference(&no_floor, &flat);
        assert_matches_reference(&no_floor, &zeros);
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
