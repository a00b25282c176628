//! Streaming detectors: an immutable detector plus a small per-series state.
//!
//! Every detector follows the same contract:
//!
//! - `update(&mut state, timestamp, value)` returns a score in `[0, 1]` (higher is more
//!   anomalous) in O(1) time, using only the data at or before `timestamp`.
//! - Non-finite values (NaN, ±inf) return `Ok(0.0)` and leave the state untouched.
//! - A timestamp not later than the previous accepted one is
//!   [`AnomalyError::NonIncreasingTimestamp`], and the state is left untouched. Gaps in time are
//!   fine: the seasonal detector places points by their timestamp, the others by order.
//! - Until a detector has seen `warmup` finite points it returns 0.
//! - Scores are comparable across series of different units: each detector standardises its
//!   residual by a robust spread estimate and maps the resulting `z` through
//!   [`z_to_score`] (`z = 3` gives 0.5), so one threshold serves every series. Every floor on a
//!   spread is relative to the series (its level, or the spread it has shown), none is
//!   absolute, so multiplying a series by any positive factor (1e-300 to 1e300) leaves its
//!   scores as they are. A series exactly constant at 0 has no scale: a departure from it
//!   scores 1 and the second departure sets the scale (see [`RobustDetector`]); a constant
//!   away from 0 is judged by the relative floor (0.1% of its level by default).

mod change;
mod ensemble;
mod robust;
mod seasonal;

pub use change::{ChangeDetector, ChangeState};
pub use ensemble::{EnsembleDetector, EnsembleState};
pub use robust::{RobustDetector, RobustState};
pub use seasonal::{SeasonalDetector, SeasonalState};

use aiops_core::Timestamp;

use crate::error::{AnomalyError, Result};

/// Maps a non-negative standardised deviation `z` to a score in `[0, 1]`:
/// `z^2 / (z^2 + 9)`, so `z = 3` scores 0.5, `z = 6` scores 0.8 and `z = 10` about 0.92; 1 for
/// an infinite `z` (or one whose square is), 0 for NaN.
///
/// ```
/// use aiops_anomaly::z_to_score;
/// assert_eq!(z_to_score(0.0), 0.0);
/// assert_eq!(z_to_score(3.0), 0.5);
/// assert_eq!(z_to_score(6.0), 0.8);
/// assert_eq!(z_to_score(f64::INFINITY), 1.0);
/// assert_eq!(z_to_score(1e200), 1.0);
/// assert_eq!(z_to_score(f64::NAN), 0.0);
/// ```
#[inline]
pub fn z_to_score(z: f64) -> f64 {
    let z2 = z * z;
    if z2.is_infinite() {
        // Also a finite z above 1.3e154, which used to score 0 (inf / inf is NaN).
        return 1.0;
    }
    let s = z2 / (z2 + 9.0);
    if s.is_nan() { 0.0 } else { s }
}

/// The per-series state of any built-in detector, for use through `dyn StreamingDetector`.
///
/// Each variant is the typed state of one detector; the typed `update_state` methods avoid the
/// enum match when the detector type is known.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DetectorState {
    /// State of a [`RobustDetector`].
    Robust(RobustState),
    /// State of a [`SeasonalDetector`].
    Seasonal(SeasonalState),
    /// State of a [`ChangeDetector`].
    Change(ChangeState),
    /// State of an [`EnsembleDetector`].
    Ensemble(Box<EnsembleState>),
}

impl DetectorState {
    /// Approximate size of the state in bytes, heap included.
    pub fn size_bytes(&self) -> usize {
        match self {
            DetectorState::Robust(_) => std::mem::size_of::<RobustState>(),
            DetectorState::Seasonal(s) => s.size_bytes(),
            DetectorState::Change(_) => std::mem::size_of::<ChangeState>(),
            DetectorState::Ensemble(s) => s.size_bytes(),
        }
    }
}

/// A streaming detector usable as `Box<dyn StreamingDetector>`: immutable and shareable between
/// threads; all per-series data lives in a [`DetectorState`].
///
/// ```
/// use aiops_anomaly::{EnsembleDetector, RobustDetector, StreamingDetector};
/// use aiops_core::Timestamp;
/// let detectors: Vec<Box<dyn StreamingDetector>> =
///     vec![Box::new(RobustDetector::default()), Box::new(EnsembleDetector::default())];
/// for d in &detectors {
///     let mut state = d.new_state();
///     let mut last = 0.0;
///     for i in 0..200 {
///         let v = if i == 150 { 500.0 } else { 10.0 + f64::from(i % 5) };
///         let s = d.update(&mut state, Timestamp::from_secs(60 * i64::from(i)), v)?;
///         if i == 150 { last = s; }
///     }
///     assert!(last > 0.9, "{} scored the spike {last}", d.name());
/// }
/// # Ok::<(), aiops_anomaly::AnomalyError>(())
/// ```
pub trait StreamingDetector: Send + Sync + std::fmt::Debug {
    /// A short name (`robust`, `seasonal`, `change`, `ensemble`).
    fn name(&self) -> &'static str;
    /// A fresh state for one series.
    fn new_state(&self) -> DetectorState;
    /// Scores one point and updates the state; see the [module docs](self) for the contract.
    fn update(&self, state: &mut DetectorState, at: Timestamp, value: f64) -> Result<f64>;
}

/// Rejects timestamps not later than the last accepted one (`seen`: a point was accepted; the
/// first point may be at any time, `i64::MIN` ms included).
#[inline]
pub(crate) fn check_time(last: i64, seen: bool, at: Timestamp) -> Result<()> {
    if seen && at.as_millis() <= last {
        return Err(AnomalyError::NonIncreasingTimestamp {
            previous: last,
            got: at.as_millis(),
        });
    }
    Ok(())
}

/// EWMA weight for a half-life in points.
pub(crate) fn alpha(half_life: f64) -> f64 {
    aiops_core::stats::Ewma::alpha_for_half_life(half_life)
}

pub(crate) fn check_half_life(name: &'static str, h: f64) -> Result<()> {
    if h.is_finite() && h >= 1.0 {
        Ok(())
    } else {
        Err(crate::error::invalid(
            name,
            h,
            "must be a finite number of points >= 1",
        ))
    }
}

#[cfg(test)]
mod recovery_tests {
    use super::*;

    /// Gaussian noise (mean 100, sd 1) from a seeded generator, via Box-Muller.
    fn noise(n: usize) -> Vec<f64> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        (0..n)
            .map(|_| {
                let (u, w): (f64, f64) = (rng.r#gen(), rng.r#gen());
                100.0 + (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * w).cos()
            })
            .collect()
    }

    fn detectors() -> Vec<Box<dyn StreamingDetector>> {
        vec![
            Box::new(RobustDetector::default()),
            Box::new(SeasonalDetector::daily()),
            Box::new(EnsembleDetector::default()),
        ]
    }

    /// Scores of `values` at `at_rows`, one point every `step_secs`.
    fn scores_at(
        d: &dyn StreamingDetector,
        values: &[f64],
        step_secs: i64,
        at_rows: &[usize],
    ) -> Vec<f64> {
        let mut s = d.new_state();
        let mut out = Vec::new();
        for (i, &v) in values.iter().enumerate() {
            let x = d
                .update(
                    &mut s,
                    Timestamp::from_secs(1_704_067_200 + step_secs * i as i64),
                    v,
                )
                .unwrap();
            if at_rows.contains(&i) {
                out.push(x);
            }
        }
        out
    }

    #[test]
    fn scores_do_not_depend_on_the_unit() {
        // Noise of sd 1 around 100, a 100-sd spike, then a 10-sd level shift, in units from
        // 1e-15 to 1e15 (and at the ends of f64). Absolute floors of 1e-12 (on the robust
        // core's spread, which the seasonal and change detectors share, and on the ensemble's
        // relative member) made the spike score 0.915 (robust), 0.917 (seasonal) and 0.059
        // (ensemble) at 1e-13 instead of 0.999, 0.999 and 0.993; 0.0011, 0.0011 and 4.6e-6 at
        // 1e-15. At 1e200 the relative member's variance overflowed, it restarted at every
        // point and the ensemble scored the spike 0.059.
        let mut v = noise(3000);
        v[1500] += 100.0;
        for x in &mut v[2000..] {
            *x += 10.0;
        }
        let rows: Vec<usize> = (0..v.len()).collect();
        let mut all: Vec<Box<dyn StreamingDetector>> = detectors();
        all.push(Box::new(ChangeDetector::default()));
        for d in &all {
            let want = scores_at(d.as_ref(), &v, 60, &rows);
            if d.name() != "change" {
                assert!(want[1500] > 0.99, "{}: {}", d.name(), want[1500]);
            }
            let shift = want[2000..2030].iter().copied().fold(0.0, f64::max);
            assert!(shift > 0.5, "{}: {shift}", d.name());
            for e in (-15..=15).chain([-300, -200, -100, -50, 50, 100, 200, 300]) {
                let unit = 10f64.powi(e);
                let scaled: Vec<f64> = v.iter().map(|x| x * unit).collect();
                let got = scores_at(d.as_ref(), &scaled, 60, &rows);
                let (i, diff) = got
                    .iter()
                    .zip(&want)
                    .map(|(g, w)| (g - w).abs())
                    .enumerate()
                    .fold((0, 0.0), |m, (i, x)| if x > m.1 { (i, x) } else { m });
                assert!(
                    diff < 1e-9,
                    "{} at unit 1e{e}: point {i} scored {} against {}",
                    d.name(),
                    got[i],
                    want[i]
                );
            }
        }
    }

    #[test]
    fn a_spike_after_long_noise_still_scores_high() {
        // Before the fix the seasonal profile grew without bound (fed back through the Holt
        // level): this spike scored 0.001 (seasonal) and 0.000 (ensemble).
        for step in [60, 300] {
            let mut v = noise(52_000);
            v[50_000] = 300.0;
            for d in detectors() {
                let s = scores_at(d.as_ref(), &v, step, &[50_000]);
                assert!(s[0] > 0.9, "{} at {step} s: {s:?}", d.name());
            }
        }
    }

    #[test]
    fn a_huge_value_does_not_blind_later_spikes() {
        // Before the fixes: after warm-up, 1e200 made the ensemble's long variance infinite
        // (spikes scored 0.06) and fixed the seasonal bin at 2e199; during warm-up (rows 0-29)
        // the core averaged without clipping, so 500 (or 1e200, +-1e308) inflated the spread,
        // which halves only every 60 points, and this spike scored about 0 for some 40,000
        // points (robust, seasonal, ensemble). The ensemble's relative member had the same
        // warm-up flaw: 1e4 or 1e6 (whose squares do not overflow) at row 5 left it at 0.06-0.08.
        for huge in [1e200, 1e308, -1e308, 500.0, 1e4, 1e6, -1e6, 1e150] {
            for row in [0, 1, 2, 5, 29, 100] {
                let mut v = noise(12_000);
                v[row] = huge;
                v[10_100] = 300.0;
                for d in detectors() {
                    let s = scores_at(d.as_ref(), &v, 60, &[10_100]);
                    assert!(s[0] > 0.9, "{} after {huge} at row {row}: {s:?}", d.name());
                }
            }
        }
    }

    #[test]
    fn a_huge_value_during_warm_up_does_not_blind_the_change_detector() {
        // A change detector does not score lone spikes: a shift of 10 sd must still alarm
        // (cross `h`, score 0.5) within 20 points, as it does without the huge value.
        let d = ChangeDetector::default();
        for huge in [None, Some(1e200), Some(1e308), Some(-1e308), Some(500.0)] {
            let mut v = noise(12_000);
            if let Some(h) = huge {
                v[5] = h;
            }
            for x in &mut v[10_000..] {
                *x += 10.0;
            }
            let rows: Vec<usize> = (10_000..10_020).collect();
            let s = scores_at(&d, &v, 60, &rows);
            let max = s.iter().copied().fold(0.0, f64::max);
            assert!(max > 0.5, "change after {huge:?}: {max}");
        }
    }
}
