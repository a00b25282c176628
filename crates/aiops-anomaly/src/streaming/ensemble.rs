//! Ensemble of the robust, seasonal and change detectors.

use aiops_core::Timestamp;

use super::{
    ChangeDetector, ChangeState, DetectorState, RobustDetector, RobustState, SeasonalDetector,
    SeasonalState, StreamingDetector, check_time,
};
use crate::error::{AnomalyError, Result};

/// Quantile of the series' own combined `z` that the ensemble calibrates to.
const CALIBRATION_QUANTILE: f64 = 0.999;
/// Weight of the long-window mean and variance of the relative member: half-life 3000 points.
const LONG_ALPHA: f64 = 2.310_223_704_081_737_5e-4;
/// Weight of the short-window mean of the relative member: half-life 10 points.
const SHORT_ALPHA: f64 = 0.066_967_008_463_192_59;
/// Standard deviation of the short-window mean over that of one point, for white noise:
/// `sqrt(SHORT_ALPHA / (2 - SHORT_ALPHA))`.
const SHORT_SD_RATIO: f64 = 0.186_127_616_608_526_17;

/// Cap on the combined `z` before calibration (`z = 100` scores 0.9991).
const Z_CAP: f64 = 100.0;
/// Per-point decay of the suppression peak: `0.5^(1/200)`, a half-life of 200 points.
const PEAK_DECAY: f64 = 0.996_540_262_827_867_8;

/// The default streaming detector. Rule, in three steps:
///
/// 1. `combined = max(min(robust, seasonal, relative), change)`, as a standardised deviation
///    `z`, where `relative` compares the recent past with the longer past (as NAB's windowed
///    Gaussian detector does): the short-window mean (EWMA, half-life 10 points) against the
///    long-window mean and standard deviation (EWMA, half-life 3000 points), the latter scaled
///    to the short mean's standard deviation and floored at 0.1% of the long mean's magnitude;
///    after warm-up each point enters the long and short estimates clipped at 30 long standard
///    deviations, so one huge value cannot hold the spread up (or make it infinite) for ever;
/// 2. self-calibration: `z` is divided by `q / 3`, where `q` is a streaming estimate of the
///    99.9th percentile of this series' own combined `z` (only when `q > 3`), so one threshold
///    means the same rarity on a bursty series as on a Gaussian one;
/// 3. repeat suppression: the calibrated `z` scores only when it exceeds the decayed peak of the
///    previous ones (the peak halves every 200 points), otherwise the score is 0. An anomaly
///    therefore scores high at its onset and again only if it grows; a re-occurring deviation of
///    the same size scores again once the peak has decayed (a few hundred points later).
///    [`EnsembleDetector::update_parts`] still returns the unsuppressed member scores.
///
/// A point must be unusual against the recent level (robust), against the same time of the
/// period (seasonal) and, through the recent mean, against the longer past (relative) to count
/// as a point anomaly, which removes the daily peaks the robust detector alone flags, the
/// profile noise the seasonal detector alone flags and the bursts that are ordinary for a
/// bursty series (a lone spike must be large to move the short mean enough); a sustained
/// shift or drift (change) counts on its own. Every member sees every point, so each keeps its
/// own warm-up; the ensemble scores 0 until the robust member's warm-up is over.
///
/// State: [`EnsembleState`], the sum of its members' plus 60 bytes (about 2.8 KiB with the
/// daily profile).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EnsembleDetector {
    robust: RobustDetector,
    seasonal: SeasonalDetector,
    change: ChangeDetector,
    /// Score every point of a sustained anomaly (no repeat suppression).
    keep_repeats: bool,
}

/// Per-series state of an [`EnsembleDetector`].
#[derive(Debug, Clone, PartialEq)]
pub struct EnsembleState {
    last: i64,
    robust: RobustState,
    seasonal: SeasonalState,
    change: ChangeState,
    /// Streaming estimate of the 99.9th percentile of this series' own combined `z`.
    q99: f64,
    /// Decayed peak of the calibrated `z` (repeat suppression).
    peak: f64,
    /// The relative member.
    relative: Relative,
    /// Points seen after warm-up.
    calibrated: u32,
}

/// The relative member: short-window mean against the long-window distribution.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Relative {
    n: u32,
    mean: f64,
    /// The long-window standard deviation, kept as such (not squared), so a series in units
    /// beyond about 1e154 or below 1e-154 does not overflow or underflow it.
    sd: f64,
    short: f64,
}

/// `sqrt((1 - a) * (sd^2 + a * d^2))`, the exponentially weighted Welford step of a standard
/// deviation. Kept as a standard deviation, since the variance of a series at 1e200 overflowed
/// (the member then restarted at every point, and the ensemble scored a 100-sigma spike 0.06)
/// and one at 1e-200 underflowed: the squares are formed directly only while they stay in the
/// normal range, as they do for any series between about 1e-150 and 1e150.
#[inline]
fn ewm_sd(sd: f64, a: f64, d: f64) -> f64 {
    let var = (1.0 - a) * (sd * sd + a * (d * d));
    if (f64::MIN_POSITIVE..f64::MAX).contains(&var) {
        return var.sqrt();
    }
    ewm_sd_scaled(sd, a, d)
}

/// [`ewm_sd`] without squaring a magnitude: for variances outside the normal range (and 0).
#[cold]
#[inline(never)]
fn ewm_sd_scaled(sd: f64, a: f64, d: f64) -> f64 {
    let y = a.sqrt() * d.abs();
    let (hi, lo) = if sd > y { (sd, y) } else { (y, sd) };
    if hi == 0.0 || hi.is_nan() {
        return hi;
    }
    let t = lo / hi;
    hi * ((1.0 - a) * (1.0 + t * t)).sqrt()
}

/// Clip on the long-window updates of the relative member, in long standard deviations.
const RELATIVE_CLIP: f64 = 30.0;

impl Relative {
    /// Standardised deviation of the short mean (including `v`) against the long mean and spread before `v`,
    /// then the update of the long estimates (exponentially weighted Welford steps; plain
    /// running averages while `n` is small). 0 during the first `warmup` points.
    ///
    /// At the third point the long mean and variance restart from the robust core's seed
    /// (`seed`: its level and sigma, which come from the median and median absolute deviation
    /// of the first three points), so an outlier among them is dropped. From then on each
    /// point's deviation from the long mean enters the long mean and variance clipped at
    /// [`RELATIVE_CLIP`] long standard deviations (during warm-up at least that many of the
    /// core's sigmas, as the long variance of a few points is still small), and so does the
    /// short mean, so a lone spike is not also stored for its half-life. Unclipped, one value
    /// of 1e200 made the variance infinite for ever, and one of 500 on noise of sd 1 (or 1e6
    /// during warm-up) inflated the long standard deviation for tens of thousands of points,
    /// hiding every later spike. A lasting shift still gets in: each clipped step raises the
    /// variance, so the clip widens geometrically.
    #[inline]
    fn update(&mut self, v: f64, warmup: u32, seed: (f64, f64)) -> f64 {
        self.n = self.n.saturating_add(1);
        if self.n == 1 {
            self.mean = v;
            self.short = v;
            return 0.0;
        }
        if self.n == 3 && seed.0.is_finite() && seed.1.is_finite() {
            self.mean = seed.0;
            self.sd = seed.1;
            self.short = seed.0;
            return 0.0;
        }
        // Floors relative to the series only (an absolute 1e-12 made scores depend on the
        // unit): on a series with no spread at 0 `sd` is 0, and `z` infinite (or NaN, read as 0).
        let sd = (self.sd * SHORT_SD_RATIO).max(1e-3 * self.mean.abs());
        let d = v - self.mean;
        let d = if self.n > warmup {
            let mut cap = RELATIVE_CLIP * self.sd.max(sd);
            if cap == 0.0 {
                // No scale of its own (the series was exactly 0): the robust core's, once its
                // second departure has set one, so the member does not stay at a cap of 0.
                cap = RELATIVE_CLIP * seed.1;
            }
            d.max(-cap).min(cap)
        } else if self.n > 3 {
            let cap = RELATIVE_CLIP * self.sd.max(sd).max(seed.1);
            d.max(-cap).min(cap)
        } else {
            d
        };
        let short = self.short + SHORT_ALPHA * (v - self.short);
        let z = (short - self.mean).abs() / sd;
        // The short mean keeps the clipped value: a spike still scores through `z` above.
        self.short += SHORT_ALPHA * (self.mean + d - self.short);
        let a = LONG_ALPHA.max(1.0 / f64::from(self.n));
        self.mean += a * d;
        self.sd = ewm_sd(self.sd, a, d);
        if !(self.mean.is_finite() && self.sd.is_finite() && self.short.is_finite()) {
            // Only values near f64::MAX get here (their differences overflow): start again
            // from this point rather than keep a non-finite state.
            *self = Relative {
                n: 1,
                mean: v,
                sd: 0.0,
                short: v,
            };
            return 0.0;
        }
        if self.n <= warmup || z.is_nan() {
            0.0
        } else {
            z
        }
    }
}

impl EnsembleState {
    /// Size in bytes, heap included.
    pub fn size_bytes(&self) -> usize {
        std::mem::size_of::<Self>() - std::mem::size_of::<SeasonalState>()
            + self.seasonal.size_bytes()
    }
}

impl EnsembleDetector {
    /// An ensemble of the given members.
    pub fn new(robust: RobustDetector, seasonal: SeasonalDetector, change: ChangeDetector) -> Self {
        Self {
            robust,
            seasonal,
            change,
            keep_repeats: false,
        }
    }

    /// Turns repeat suppression off: every point of a sustained anomaly keeps its calibrated
    /// score instead of only the onset and later growth. Use it where the score is read as a
    /// level (dashboards, trends of the score); for alarms keep the default, where only the
    /// first alarm of an anomaly earns credit and repeats cost.
    #[must_use]
    pub fn keep_repeats(mut self) -> Self {
        self.keep_repeats = true;
        self
    }

    /// A fresh typed state.
    pub fn state(&self) -> EnsembleState {
        EnsembleState {
            last: i64::MIN,
            robust: self.robust.state(),
            seasonal: self.seasonal.state(),
            change: self.change.state(),
            q99: 3.0,
            peak: 0.0,
            relative: Relative::default(),
            calibrated: 0,
        }
    }

    /// The four member scores `(robust, seasonal, change, relative)` and the final
    /// (calibrated, suppressed) score.
    pub fn update_parts(
        &self,
        s: &mut EnsembleState,
        at: Timestamp,
        v: f64,
    ) -> Result<([f64; 4], f64)> {
        let (z, out) = self.step(s, at, v)?;
        Ok((z.map(super::z_to_score), out))
    }

    /// The four member `z` and the final score.
    #[inline]
    fn step(&self, s: &mut EnsembleState, at: Timestamp, v: f64) -> Result<([f64; 4], f64)> {
        if !v.is_finite() {
            return Ok(([0.0; 4], 0.0));
        }
        check_time(s.last, s.robust.seen(), at)?;
        // Every member's checks before any member changes, so an error leaves the state as it
        // was: the seasonal member's (a state of an ensemble with another profile) used to fail
        // after the robust member and `last` had taken the point, and a retry then failed on
        // its timestamp.
        s.robust.check_at(at)?;
        self.seasonal.check_update(&s.seasonal, at)?;
        s.change.check_at(at)?;
        s.last = at.as_millis();
        // Members report standardised deviations z; they are combined in z and mapped to a
        // score once, at the end.
        let zr = self.robust.checked_z(&mut s.robust, at, v);
        let zse = self.seasonal.checked_z(&mut s.seasonal, at, v);
        let zch = self.change.checked_z(&mut s.change, at, v);
        let seed = self.robust.level_sigma(&s.robust);
        let zw = s.relative.update(v, self.robust.warmup(), seed);
        let parts = [zr, zse, zch, zw];
        let combined = zr.min(zse).min(zw).max(zch);
        if combined == 0.0 {
            // Warm-up (or an exact repeat of the level): nothing to calibrate.
            s.peak *= PEAK_DECAY;
            return Ok((parts, 0.0));
        }
        // Calibrate to the series' own history: a series whose ordinary 99.9th percentile of z
        // is above 3 (heavy tails, bursts) has its z shrunk by 3 / q, so one threshold means the
        // same surprise on every series; Gaussian-like series (q <= 3) are left as they are.
        // q is a stochastic-approximation quantile (up 0.999 step when exceeded, down 0.001
        // step otherwise, so it settles where 0.1% of z exceed it): two flops per point.
        // Capped so a huge z (a jump off a perfectly flat stretch) does not hold the
        // suppression peak up for thousands of points.
        let z = combined.min(Z_CAP);
        let q = if s.calibrated >= 100 {
            s.q99.max(3.0)
        } else {
            3.0
        };
        let step = 0.05 * s.q99.max(1.0);
        s.q99 = if z > s.q99 {
            s.q99 + CALIBRATION_QUANTILE * step
        } else {
            s.q99 - (1.0 - CALIBRATION_QUANTILE) * step
        };
        s.calibrated = s.calibrated.saturating_add(1);
        let zc = z * 3.0 / q;
        // Only the first alarm of an anomaly earns credit and every repeat costs: score only
        // what exceeds the decayed peak of the recent calibrated z.
        let floor = s.peak * PEAK_DECAY;
        s.peak = floor.max(zc);
        let out = if self.keep_repeats || zc > floor {
            super::z_to_score(zc)
        } else {
            0.0
        };
        Ok((parts, out))
    }

    /// Typed update; same contract as [`StreamingDetector::update`].
    pub fn update_state(&self, s: &mut EnsembleState, at: Timestamp, v: f64) -> Result<f64> {
        Ok(self.step(s, at, v)?.1)
    }
}

impl StreamingDetector for EnsembleDetector {
    fn name(&self) -> &'static str {
        "ensemble"
    }
    fn new_state(&self) -> DetectorState {
        DetectorState::Ensemble(Box::new(self.state()))
    }
    fn update(&self, state: &mut DetectorState, at: Timestamp, value: f64) -> Result<f64> {
        match state {
            DetectorState::Ensemble(s) => self.update_state(s, at, value),
            _ => Err(AnomalyError::StateMismatch {
                detector: "ensemble",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combines_by_the_documented_rule() {
        let d = EnsembleDetector::default();
        let mut s = d.state();
        for i in 0..2000i64 {
            let v = 50.0 + ((i * 31) % 17) as f64 + if i % 500 == 499 { 200.0 } else { 0.0 };
            let (p, c) = d
                .update_parts(&mut s, Timestamp::from_secs(300 * i), v)
                .unwrap();
            // Calibration and suppression only shrink the combined score.
            assert!(c <= p[0].min(p[1]).min(p[3]).max(p[2]) + 1e-12);
            assert!((0.0..=1.0).contains(&c));
        }
        assert!(d.state().size_bytes() < 4096);
    }

    #[test]
    fn a_state_of_another_ensemble_is_an_error_and_left_untouched() {
        let weekly = EnsembleDetector::new(
            RobustDetector::default(),
            SeasonalDetector::weekly(),
            ChangeDetector::default(),
        );
        let d = EnsembleDetector::default();
        let at = |i: i64| Timestamp::from_secs(300 * i);
        let mut s = weekly.state();
        for i in 0..50 {
            weekly
                .update_state(&mut s, at(i), 10.0 + (i % 3) as f64)
                .unwrap();
        }
        let before = s.clone();
        let mismatch = Err(AnomalyError::StateMismatch {
            detector: "seasonal",
        });
        assert_eq!(d.update_state(&mut s, at(50), 11.0), mismatch);
        assert_eq!(s, before);
        assert_eq!(d.update_parts(&mut s, at(50), 11.0).map(|p| p.1), mismatch);
        let mut dyn_state = DetectorState::Ensemble(Box::new(s.clone()));
        assert_eq!(d.update(&mut dyn_state, at(50), 11.0), mismatch);
        assert_eq!(dyn_state, DetectorState::Ensemble(Box::new(before.clone())));
        // A retry with the right detector takes the point (it failed on the timestamp).
        weekly.update_state(&mut s, at(50), 11.0).unwrap();
        // A repeated timestamp is an error too, with the state untouched.
        let before = s.clone();
        assert!(matches!(
            weekly.update_state(&mut s, at(50), 11.0),
            Err(AnomalyError::NonIncreasingTimestamp { .. })
        ));
        assert_eq!(s, before);
    }

    #[test]
    fn repeats_are_suppressed_until_the_peak_decays() {
        let d = EnsembleDetector::default();
        let mut s = d.state();
        let spikes = [1000, 1030, 3000];
        let mut at = Vec::new();
        for i in 0..3100i64 {
            let base = 50.0 + ((i * 31) % 17) as f64;
            let v = match i {
                1030 => base + 150.0,
                1000 | 3000 => base + 300.0,
                _ => base,
            };
            let x = d
                .update_state(&mut s, Timestamp::from_secs(300 * i), v)
                .unwrap();
            if spikes.contains(&i) {
                at.push(x);
            }
        }
        // The first spike alarms; a smaller one 30 points later is a repeat and scores 0;
        // 2000 points later (10 half-lives) the peak has decayed and a spike alarms again.
        assert!(at[0] > 0.9, "{at:?}");
        assert_eq!(at[1], 0.0, "{at:?}");
        assert!(at[2] > 0.9, "{at:?}");
    }

    #[test]
    fn keep_repeats_scores_a_sustained_anomaly_throughout() {
        let run = |d: &EnsembleDetector| {
            let mut s = d.state();
            (0..1300i64)
                .map(|i| {
                    let base = 50.0 + ((i * 31) % 17) as f64;
                    // Ten points far above normal from 1000 on.
                    let v = if (1000..1010).contains(&i) {
                        base + 300.0
                    } else {
                        base
                    };
                    d.update_state(&mut s, Timestamp::from_secs(300 * i), v)
                        .unwrap()
                })
                .collect::<Vec<_>>()
        };
        let suppressed = run(&EnsembleDetector::default());
        let kept = run(&EnsembleDetector::default().keep_repeats());
        assert!(suppressed[1000] > 0.9 && kept[1000] > 0.9);
        // Suppressed, the later points of the run score 0 unless they beat the peak; kept,
        // the run keeps a high score from start to end.
        assert!(
            suppressed[1001..1010].iter().filter(|&&x| x == 0.0).count() >= 5,
            "{suppressed:?}"
        );
        assert!(
            kept[1001..1010].iter().all(|&x| x > 0.5),
            "{:?}",
            &kept[1000..1010]
        );
        // Only the repeats differ.
        assert!(
            kept[..1000]
                .iter()
                .zip(&suppressed[..1000])
                .all(|(a, b)| a >= b)
        );
    }
}
