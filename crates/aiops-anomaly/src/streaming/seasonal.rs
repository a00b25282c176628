//! Seasonal detector: a robust level plus a learned profile of offsets per time-of-period bin.

use aiops_core::Timestamp;

use super::robust::{CoreParams, LevelSpread, RobustDetector};
use super::{DetectorState, StreamingDetector, alpha, check_half_life, check_time, z_to_score};
use crate::error::{AnomalyError, Result, invalid};

/// Learns a seasonal profile (daily by default) and scores the deseasonalised residual.
///
/// The period is cut into `bins` equal bins by timestamp (so gaps and irregular steps are fine).
/// Each bin holds the offset of the data from a slow baseline (a Huber-clipped EWMA of the raw
/// value with a half-life of `bins` points, one period at one point per bin): the plain average
/// of its first four updates, then EWMA steps (weight 0.25 per point by default), every step
/// clipped at 3 baseline sigmas. The value minus its bin's offset feeds the robust core of
/// [`RobustDetector`], which scores it; unseen bins offset 0, so the first period behaves like
/// the robust detector.
///
/// The profile learns against the baseline, not against the scoring core's level: the core's
/// level follows the deseasonalised value with a trend (Holt), and a profile fitted to that
/// level's residuals feeds back on it (slow waves in the profile grow without bound, by a
/// factor of about 2 every 3 days on white noise, until the spread is inflated and nothing
/// scores). The baseline sees only raw values, so the profile is an EWMA of an input it does not
/// influence, and clipping keeps one outlier from moving a bin by more than 3 sigmas.
///
/// State: [`SeasonalState`], about `140 + 9 * bins` bytes (2.7 KiB for the daily default of 288
/// bins of 5 minutes; 18 KiB for [`SeasonalDetector::weekly`] at 2016 bins).
///
/// ```
/// use aiops_anomaly::SeasonalDetector;
/// use aiops_core::Timestamp;
/// let d = SeasonalDetector::daily();
/// let mut s = d.state();
/// let day = 288; // 5-minute steps
/// let mut scores = Vec::new();
/// for i in 0..(4 * day) {
///     let daily = 30.0 * (std::f64::consts::TAU * (i % day) as f64 / day as f64).sin();
///     let noise = (i * 7919 % 13) as f64 / 13.0;
///     let v = 100.0 + daily + noise + if i == 3 * day + 24 { 15.0 } else { 0.0 };
///     scores.push(d.update_state(&mut s, Timestamp::from_secs(300 * i as i64), v)?);
/// }
/// // On day 4 the daily peak is expected; a +15 jump at 2:00 is not.
/// assert!(scores[3 * day + 72] < 0.5);
/// assert!(scores[3 * day + 24] > 0.9);
/// # Ok::<(), aiops_anomaly::AnomalyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeasonalDetector {
    core: CoreParams,
    /// Settings of the slow baseline the profile is learned against.
    base: CoreParams,
    warmup: u32,
    period_ms: i64,
    bins: u32,
    season_alpha: f64,
}

/// Per-series state of a [`SeasonalDetector`].
#[derive(Debug, Clone, PartialEq)]
pub struct SeasonalState {
    last: i64,
    /// Phase of `last` within the period, in ms.
    phase: i64,
    core: LevelSpread,
    /// Slow baseline of the raw value.
    base: LevelSpread,
    /// Offset per bin.
    profile: Vec<f64>,
    /// Visits per bin, saturating at 255.
    visits: Vec<u8>,
}

impl SeasonalState {
    /// Size in bytes, heap included.
    pub fn size_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + 9 * self.profile.len()
    }
}

impl Default for SeasonalDetector {
    fn default() -> Self {
        Self::daily()
    }
}

impl SeasonalDetector {
    /// Daily profile with 288 five-minute bins.
    pub fn daily() -> Self {
        Self::try_new(86_400, 288).expect("valid defaults")
    }
    /// Weekly profile with 2016 five-minute bins.
    pub fn weekly() -> Self {
        Self::try_new(7 * 86_400, 2016).expect("valid defaults")
    }
    /// A profile over `period_secs` cut into `bins` bins, with the robust detector's defaults.
    /// Errors unless `1 <= period_secs <= 10 * 366 * 86400` and `1 <= bins <= 100_000`.
    pub fn try_new(period_secs: i64, bins: u32) -> Result<Self> {
        if !(1..=10 * 366 * 86_400).contains(&period_secs) {
            return Err(invalid(
                "period_secs",
                period_secs,
                "must be in 1 s ..= 10 years",
            ));
        }
        if !(1..=100_000).contains(&bins) {
            return Err(invalid("bins", bins, "must be in 1..=100000"));
        }
        let r = RobustDetector::default();
        let core = r.core();
        Ok(Self {
            core,
            // No trend: the baseline only anchors the profile.
            base: CoreParams::new(
                alpha(f64::from(bins)),
                alpha(f64::from(bins)),
                core.clip,
                core.rel_floor,
                0.0,
            ),
            warmup: r.warmup(),
            period_ms: period_secs * 1000,
            bins,
            season_alpha: 0.25,
        })
    }
    /// Uses the level/spread settings of `robust`.
    #[must_use]
    pub fn with_robust(mut self, robust: &RobustDetector) -> Self {
        self.core = robust.core();
        self.warmup = robust.warmup();
        self
    }
    /// Sets how many periods a bin's offset takes to move half way to a new pattern.
    pub fn with_season_half_life(mut self, periods: f64) -> Result<Self> {
        check_half_life("season_half_life", periods)?;
        self.season_alpha = alpha(periods);
        Ok(self)
    }

    /// A fresh typed state.
    pub fn state(&self) -> SeasonalState {
        SeasonalState {
            last: i64::MIN,
            phase: 0,
            core: LevelSpread::new(),
            base: LevelSpread::new(),
            profile: vec![0.0; self.bins as usize],
            visits: vec![0; self.bins as usize],
        }
    }

    #[cfg(test)]
    fn bin(&self, at: Timestamp) -> usize {
        self.bin_of_phase(at.as_millis().rem_euclid(self.period_ms))
    }

    /// The bin of a phase `0 <= phase < period_ms` (the product fits in i64: `phase < period_ms
    /// <= 3.2e14` and `bins <= 1e5`). An integer division measured faster here than a
    /// floating-point multiplication with exact correction.
    #[inline]
    fn bin_of_phase(&self, phase: i64) -> usize {
        (phase * i64::from(self.bins) / self.period_ms) as usize
    }

    /// Phase of `at` in the period: one addition from the previous point's phase when the step
    /// is shorter than the period, a remainder otherwise.
    #[inline]
    fn phase(&self, s: &SeasonalState, at: i64) -> i64 {
        match at.checked_sub(s.last) {
            Some(d) if s.last != i64::MIN && d < self.period_ms => {
                let p = s.phase + d;
                if p >= self.period_ms {
                    p - self.period_ms
                } else {
                    p
                }
            }
            _ => at.rem_euclid(self.period_ms),
        }
    }

    /// The checks of an update, which changes nothing when they fail:
    /// [`AnomalyError::StateMismatch`] for the state of a seasonal detector with another number
    /// of bins or a longer period (its profile does not fit, or its phase is past this period's
    /// end: that phase indexed past the profile and panicked), then the timestamp.
    #[inline]
    pub(crate) fn check_update(&self, s: &SeasonalState, at: Timestamp) -> Result<()> {
        if s.profile.len() != self.bins as usize
            || s.visits.len() != self.bins as usize
            || !(0..self.period_ms).contains(&s.phase)
        {
            return Err(AnomalyError::StateMismatch {
                detector: "seasonal",
            });
        }
        check_time(s.last, s.core.n > 0, at)
    }

    /// Typed update; same contract as [`StreamingDetector::update`].
    pub fn update_state(&self, s: &mut SeasonalState, at: Timestamp, v: f64) -> Result<f64> {
        if !v.is_finite() {
            return Ok(0.0);
        }
        Ok(z_to_score(self.update_z(s, at, v)?))
    }

    /// The deseasonalised standardised deviation (0 during warm-up, never NaN) for a finite
    /// `v`, then the update.
    #[inline]
    pub(crate) fn update_z(&self, s: &mut SeasonalState, at: Timestamp, v: f64) -> Result<f64> {
        self.check_update(s, at)?;
        Ok(self.checked_z(s, at, v))
    }

    /// [`update_z`](Self::update_z) after [`check_update`](Self::check_update) has accepted `s`
    /// and `at`.
    // Always: the ensemble inlined it until the core grew, and ran slower without.
    #[inline(always)]
    #[allow(clippy::inline_always)] // Measured: see the comment above.
    pub(crate) fn checked_z(&self, s: &mut SeasonalState, at: Timestamp, v: f64) -> f64 {
        let phase = self.phase(s, at.as_millis());
        s.last = at.as_millis();
        s.phase = phase;
        let b = self.bin_of_phase(phase);
        let off = s.profile[b];
        let visits = s.visits[b];
        let z = s.core.update(v - off, &self.core).abs();
        // Only once the baseline has its seed (the median of its first three points), so a huge
        // first or second value does not enter the profile.
        let started = s.base.n >= 3;
        let base_before = s.base.level();
        // The sigma the baseline judged `v` by, before its update.
        let (_, base_sigma) = s.base.update_residual(v, &self.base);
        if started {
            // Clipped in every phase, so one huge value moves a bin by at most 3 sigmas.
            let cap = self.base.clip * base_sigma;
            // `max`/`min`, not `clamp`: no panic even if a bound were NaN.
            let step = (v - base_before - off).max(-cap).min(cap);
            s.profile[b] = if visits < 4 {
                // First updates: a plain average, so the profile settles quickly.
                off + step / (f64::from(visits) + 1.0)
            } else {
                off + self.season_alpha * step
            };
            s.visits[b] = visits.saturating_add(1);
        }
        if s.core.n <= self.warmup || z.is_nan() {
            0.0
        } else {
            z
        }
    }
}

impl StreamingDetector for SeasonalDetector {
    fn name(&self) -> &'static str {
        "seasonal"
    }
    fn new_state(&self) -> DetectorState {
        DetectorState::Seasonal(self.state())
    }
    fn update(&self, state: &mut DetectorState, at: Timestamp, value: f64) -> Result<f64> {
        match state {
            DetectorState::Seasonal(s) => self.update_state(s, at, value),
            _ => Err(AnomalyError::StateMismatch {
                detector: "seasonal",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_follow_time_of_day_and_reject_bad_config() {
        let d = SeasonalDetector::daily();
        assert_eq!(d.bin(Timestamp::from_secs(0)), 0);
        assert_eq!(d.bin(Timestamp::from_secs(86_400 + 301)), 1);
        assert_eq!(d.bin(Timestamp::from_secs(-1)), 287);
        assert!(SeasonalDetector::try_new(0, 10).is_err());
        assert!(SeasonalDetector::try_new(60, 0).is_err());
        assert_eq!(
            d.state().size_bytes(),
            std::mem::size_of::<SeasonalState>() + 288 * 9
        );
    }

    #[test]
    fn nan_leaves_state_untouched() {
        let d = SeasonalDetector::daily();
        let mut s = d.state();
        for i in 0..100 {
            d.update_state(&mut s, Timestamp::from_secs(300 * i), 1.0 + (i % 3) as f64)
                .unwrap();
        }
        let before = s.clone();
        assert_eq!(
            d.update_state(&mut s, Timestamp::from_secs(300 * 101), f64::NAN),
            Ok(0.0)
        );
        assert_eq!(s.profile.len(), before.profile.len());
        assert!(
            s.profile
                .iter()
                .zip(&before.profile)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        assert_eq!(s.core, before.core);
    }

    #[test]
    fn a_state_of_a_longer_period_is_a_mismatch_not_a_panic() {
        // Same bins, a week instead of a day: the phase 5 days in indexed bin 1440 of 288.
        let weekly288 = SeasonalDetector::try_new(7 * 86_400, 288).unwrap();
        let mut s = weekly288.state();
        for i in 0..10 {
            weekly288
                .update_state(&mut s, Timestamp::from_secs(5 * 86_400 + 300 * i), 1.0)
                .unwrap();
        }
        let before = s.clone();
        let d = SeasonalDetector::daily();
        assert_eq!(
            d.update_state(&mut s, Timestamp::from_secs(6 * 86_400), 1.0),
            Err(AnomalyError::StateMismatch {
                detector: "seasonal"
            })
        );
        assert_eq!(s, before);
        assert_eq!(
            SeasonalDetector::weekly().update_state(&mut s, Timestamp::from_secs(0), 1.0),
            Err(AnomalyError::StateMismatch {
                detector: "seasonal"
            })
        );
    }

    #[test]
    fn incremental_phase_matches_the_remainder() {
        let d = SeasonalDetector::daily();
        let mut s = d.state();
        let mut t = -5 * 86_400_000i64 - 7;
        for k in 0..3000i64 {
            // Irregular steps, some longer than the period.
            t += match k % 7 {
                0 => 86_400_000 + 1,
                1 => 3 * 86_400_000,
                2 => 86_400_000 - 1,
                _ => 299_999 + k,
            };
            d.update_state(&mut s, Timestamp::from_millis(t), 1.0)
                .unwrap();
            assert_eq!(s.phase, t.rem_euclid(d.period_ms), "t {t}");
        }
    }
}
