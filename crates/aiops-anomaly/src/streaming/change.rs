//! Change detector: two-sided CUSUM on clipped, standardised one-step forecast residuals.

use aiops_core::Timestamp;

use super::robust::{CoreParams, LevelSpread, RobustDetector};
use super::{DetectorState, StreamingDetector, check_time, z_to_score};
use crate::error::{AnomalyError, Result, invalid};

/// Detects level shifts and the onset of trends (drift): Page's two-sided CUSUM on `e = (x - forecast) / sigma`, the
/// standardised one-step residual of the robust core (a Huber-clipped local linear trend, so
/// smooth seasonal swings leave no run of same-signed residuals, while a shift does: the clipped
/// level follows it only slowly).
/// Each `e` is clipped to `[-4, 4]` so one spike cannot trigger it alone, and `k = 1` is the
/// allowance (shifts of about 2 sigma and more accumulate). The score is
/// `z_to_score(3 * S / h)` with `S = max(S+, S-)` and `h = 12`, so reaching `S = h` scores 0.5.
/// When `S` exceeds `2h` the detector has certainly seen a change: it jumps its level to the
/// new value and restarts the sums, so a shift alarms once instead of for ever. A drift that sets
/// in very gradually is absorbed by the trend before it accumulates; it is caught only while the
/// slope is still catching up.
///
/// State: [`ChangeState`], 56 bytes. Warm-up as the robust detector.
///
/// ```
/// use aiops_anomaly::ChangeDetector;
/// use aiops_core::Timestamp;
/// let d = ChangeDetector::default();
/// let mut s = d.state();
/// let mut scores = Vec::new();
/// for i in 0..600i64 {
///     let noise = ((i * 7919) % 11) as f64 / 11.0 - 0.5;
///     let v = if i < 400 { 10.0 } else { 12.0 } + noise;
///     scores.push(d.update_state(&mut s, Timestamp::from_secs(i), v)?);
/// }
/// assert!(scores[100..400].iter().all(|&x| x < 0.5));
/// assert!(scores[400..440].iter().any(|&x| x > 0.5));
/// assert!(scores[500..].iter().all(|&x| x < 0.5)); // re-baselined after the shift
/// # Ok::<(), aiops_anomaly::AnomalyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangeDetector {
    core: CoreParams,
    warmup: u32,
    k: f64,
    h: f64,
}

/// Per-series state of a [`ChangeDetector`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangeState {
    last: i64,
    core: LevelSpread,
    pos: f64,
    neg: f64,
}

impl ChangeState {
    /// The checks of an update (the timestamp), which changes nothing when they fail.
    #[inline]
    pub(crate) fn check_at(&self, at: Timestamp) -> Result<()> {
        check_time(self.last, self.core.n > 0, at)
    }
}

impl Default for ChangeDetector {
    fn default() -> Self {
        Self::try_new(1.0, 12.0).expect("valid defaults")
    }
}

impl ChangeDetector {
    /// A detector with allowance `k` and decision level `h` (both in sigmas). Errors unless
    /// `k >= 0` and `h > 0`, both finite.
    pub fn try_new(k: f64, h: f64) -> Result<Self> {
        if !(k.is_finite() && k >= 0.0) {
            return Err(invalid("k", k, "must be finite and >= 0"));
        }
        if !(h.is_finite() && h > 0.0) {
            return Err(invalid("h", h, "must be finite and > 0"));
        }
        let r = RobustDetector::default();
        Ok(Self {
            core: r.core(),
            warmup: r.warmup(),
            k,
            h,
        })
    }

    /// A fresh typed state.
    pub fn state(&self) -> ChangeState {
        ChangeState {
            last: i64::MIN,
            core: LevelSpread::new(),
            pos: 0.0,
            neg: 0.0,
        }
    }

    /// Typed update; same contract as [`StreamingDetector::update`].
    #[inline]
    pub fn update_state(&self, s: &mut ChangeState, at: Timestamp, v: f64) -> Result<f64> {
        if !v.is_finite() {
            return Ok(0.0);
        }
        Ok(z_to_score(self.update_z(s, at, v)?))
    }

    /// `3 * S / h` (0 during warm-up) for a finite `v`, then the update.
    #[inline]
    pub(crate) fn update_z(&self, s: &mut ChangeState, at: Timestamp, v: f64) -> Result<f64> {
        s.check_at(at)?;
        Ok(self.checked_z(s, at, v))
    }

    /// [`update_z`](Self::update_z) after [`ChangeState::check_at`] has accepted `at`.
    // Always: the ensemble inlined it until the core grew, and ran slower without.
    #[inline(always)]
    #[allow(clippy::inline_always)] // Measured: see the comment above.
    pub(crate) fn checked_z(&self, s: &mut ChangeState, at: Timestamp, v: f64) -> f64 {
        s.last = at.as_millis();
        let e = s.core.update(v, &self.core).clamp(-4.0, 4.0);
        if s.core.n <= self.warmup {
            return 0.0;
        }
        s.pos = (s.pos + e - self.k).max(0.0);
        s.neg = (s.neg - e - self.k).max(0.0);
        let stat = s.pos.max(s.neg);
        let z = 3.0 * stat / self.h;
        if stat > 2.0 * self.h {
            // Certainly a change: jump to the new regime and restart the sums.
            s.core.restart_at(v);
            s.pos = 0.0;
            s.neg = 0.0;
        }
        if z.is_nan() { 0.0 } else { z }
    }
}

impl StreamingDetector for ChangeDetector {
    fn name(&self) -> &'static str {
        "change"
    }
    fn new_state(&self) -> DetectorState {
        DetectorState::Change(self.state())
    }
    fn update(&self, state: &mut DetectorState, at: Timestamp, value: f64) -> Result<f64> {
        match state {
            DetectorState::Change(s) => self.update_state(s, at, value),
            _ => Err(AnomalyError::StateMismatch { detector: "change" }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_spike_does_not_trigger_but_trend_onset_does() {
        let d = ChangeDetector::default();
        let mut s = d.state();
        let mut max_spike = 0.0f64;
        for i in 0..300 {
            let v = 10.0 + f64::from(i % 3) * 0.1 + if i == 200 { 100.0 } else { 0.0 };
            max_spike = max_spike.max(
                d.update_state(&mut s, Timestamp::from_secs(i64::from(i)), v)
                    .unwrap(),
            );
        }
        assert!(max_spike < 0.5, "{max_spike}");
        // A trend that starts abruptly: residuals run one way until the slope catches up.
        let mut max_drift = 0.0f64;
        for i in 300..600 {
            let v = 10.0 + f64::from(i % 3) * 0.1 + f64::from(i - 300) * 0.1;
            max_drift = max_drift.max(
                d.update_state(&mut s, Timestamp::from_secs(i64::from(i)), v)
                    .unwrap(),
            );
        }
        assert!(max_drift > 0.5, "{max_drift}");
        assert!(ChangeDetector::try_new(-1.0, 5.0).is_err());
        assert!(std::mem::size_of::<ChangeState>() <= 64);
    }
}
