//! Metric series: trend, daily and weekly seasonality, Gaussian noise, and labelled anomalies.

use std::f64::consts::TAU;
use std::fmt;

use aiops_core::{TimeSeries, Timestamp};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::error::{Result, SimError};

/// The kind of an injected anomaly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum AnomalyKind {
    /// A short upward burst: +4..8 noise sigmas for 1..=3 points.
    Spike,
    /// A short downward burst: -4..8 noise sigmas for 1..=3 points.
    Dip,
    /// A step of 3..5 sigmas (either sign) held to the end of the window, then back.
    LevelShift,
    /// A new slope over the window: a ramp that reaches 4..8 sigmas at the window end.
    TrendChange,
    /// The noise is multiplied by 3..5 over the window.
    VarianceChange,
    /// The value freezes (no noise, no seasonality) for 30..=100 points.
    Stuck,
}

impl AnomalyKind {
    /// All kinds, in declaration order.
    pub const ALL: [AnomalyKind; 6] = [
        AnomalyKind::Spike,
        AnomalyKind::Dip,
        AnomalyKind::LevelShift,
        AnomalyKind::TrendChange,
        AnomalyKind::VarianceChange,
        AnomalyKind::Stuck,
    ];

    /// The snake-case name (`spike`, `dip`, `level_shift`, `trend_change`, `variance_change`,
    /// `stuck`).
    pub const fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::Spike => "spike",
            AnomalyKind::Dip => "dip",
            AnomalyKind::LevelShift => "level_shift",
            AnomalyKind::TrendChange => "trend_change",
            AnomalyKind::VarianceChange => "variance_change",
            AnomalyKind::Stuck => "stuck",
        }
    }

    /// Shortest and longest window, in points.
    const fn length_range(self) -> (usize, usize) {
        match self {
            AnomalyKind::Spike | AnomalyKind::Dip => (1, 3),
            AnomalyKind::LevelShift => (30, 200),
            AnomalyKind::TrendChange => (50, 200),
            AnomalyKind::VarianceChange => (30, 150),
            AnomalyKind::Stuck => (30, 100),
        }
    }
}

impl fmt::Display for AnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One injected anomaly: its kind and the indices `start..end` (end exclusive) it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AnomalyWindow {
    /// What was injected.
    pub kind: AnomalyKind,
    /// First anomalous index.
    pub start: usize,
    /// One past the last anomalous index.
    pub end: usize,
}

impl AnomalyWindow {
    /// Whether index `i` lies in the window.
    pub const fn contains(&self, i: usize) -> bool {
        self.start <= i && i < self.end
    }

    /// Number of points in the window.
    pub const fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether the window is empty (never true for generated windows).
    pub const fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// What series to generate. Fields are public; build one with struct update syntax from
/// [`SeriesSpec::default`].
///
/// The value at time `t` (in days since `start`) is
/// `base + trend_per_day·t + daily_amplitude·sin(2πt) + weekly_amplitude·sin(2πt/7) + N(0, noise_sd²)`,
/// then anomalies are injected. Anomaly sizes are in units of `noise_sd` (or, when the noise is
/// zero, of 5 % of the seasonal amplitude or of `|base|`, at least 1e-3).
///
/// [`labelled_series`] never fails: a zero `len` gives an empty series, a non-positive
/// `step_secs` is read as 1 s, non-finite numbers as 0, a negative `noise_sd` by its magnitude,
/// and a `warmup` that leaves fewer than 4 points after it is reduced to `len / 4`. Points that
/// would lie past the `i64` range of milliseconds (`start + (len - 1) · step_secs` overflows)
/// cannot be written: the result is then an empty series with no anomalies.
/// [`SeriesSpec::check`] reports such settings as errors instead.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct SeriesSpec {
    /// Number of points.
    pub len: usize,
    /// Seconds between points.
    pub step_secs: i64,
    /// Timestamp of the first point.
    pub start: Timestamp,
    /// Mean level at `start`.
    pub base: f64,
    /// Linear trend, in value units per day.
    pub trend_per_day: f64,
    /// Amplitude of the daily sine.
    pub daily_amplitude: f64,
    /// Amplitude of the weekly sine.
    pub weekly_amplitude: f64,
    /// Standard deviation of the Gaussian noise.
    pub noise_sd: f64,
    /// How many anomalies to inject (fewer if the series is too short to hold them apart).
    pub anomalies: usize,
    /// Restrict the kinds, used in this order (cycled); empty = drawn at random from all six.
    pub kinds: Vec<AnomalyKind>,
    /// No anomaly starts before this index. It must leave at least 4 points after it (else it
    /// is reduced to `len / 4`).
    pub warmup: usize,
}

/// 2024-01-01T00:00:00Z.
const DEFAULT_START_SECS: i64 = 1_704_067_200;

impl Default for SeriesSpec {
    /// Two weeks at 5-minute steps (4032 points) from 2024-01-01T00:00:00Z, base 100, trend 0.5
    /// per day, daily amplitude 20, weekly amplitude 10, noise sd 2, 6 anomalies of random kinds
    /// after a warm-up of a quarter of the series.
    fn default() -> Self {
        SeriesSpec {
            len: 4032,
            step_secs: 300,
            start: Timestamp::from_secs(DEFAULT_START_SECS),
            base: 100.0,
            trend_per_day: 0.5,
            daily_amplitude: 20.0,
            weekly_amplitude: 10.0,
            noise_sd: 2.0,
            anomalies: 6,
            kinds: Vec::new(),
            warmup: 4032 / 4,
        }
    }
}

/// Fewest points after the warm-up that can hold an anomaly (one anomalous point, then normal
/// ones before the next slot).
const MIN_ROOM: usize = 4;

/// Whether `warmup` leaves room for an anomaly in `len` points; else the generator reduces it.
fn warmup_fits(warmup: usize, len: usize) -> bool {
    warmup.saturating_add(MIN_ROOM) <= len
}

/// Whether all `len` points, `step_secs` apart from `start`, lie in the `i64` range of
/// milliseconds.
fn span_fits(start: Timestamp, len: usize, step_secs: i64) -> bool {
    if len <= 1 {
        return true;
    }
    i64::try_from(len - 1)
        .ok()
        .and_then(|k| step_secs.checked_mul(1000)?.checked_mul(k))
        .and_then(|span| start.as_millis().checked_add(span))
        .is_some()
}

impl SeriesSpec {
    /// Reports settings that [`labelled_series`] would silently correct: a non-positive
    /// `step_secs`, non-finite numbers, a negative `noise_sd`, a `warmup` that leaves fewer than
    /// 4 points for anomalies, and points past the `i64` range of milliseconds (naming
    /// `step_secs` when the span itself overflows, else `start`).
    ///
    /// ```
    /// use aiops_sim::SeriesSpec;
    ///
    /// let spec = SeriesSpec { step_secs: 1_000_000_000_000_000, ..SeriesSpec::default() };
    /// assert!(spec.check().unwrap_err().to_string().contains("step_secs"));
    /// ```
    pub fn check(&self) -> Result<()> {
        if self.step_secs <= 0 {
            return Err(SimError::InvalidParameter {
                name: "step_secs",
                reason: format!("must be > 0, got {}", self.step_secs),
            });
        }
        for (name, v) in [
            ("base", self.base),
            ("trend_per_day", self.trend_per_day),
            ("daily_amplitude", self.daily_amplitude),
            ("weekly_amplitude", self.weekly_amplitude),
            ("noise_sd", self.noise_sd),
        ] {
            if !v.is_finite() {
                return Err(SimError::InvalidParameter {
                    name,
                    reason: format!("must be finite, got {v}"),
                });
            }
        }
        if self.noise_sd < 0.0 {
            return Err(SimError::InvalidParameter {
                name: "noise_sd",
                reason: format!("must be >= 0, got {}", self.noise_sd),
            });
        }
        if self.anomalies > 0 && !warmup_fits(self.warmup, self.len) {
            return Err(SimError::InvalidParameter {
                name: "warmup",
                reason: format!(
                    "{} leaves fewer than {MIN_ROOM} points for anomalies in a series of {} points",
                    self.warmup, self.len
                ),
            });
        }
        if !span_fits(self.start, self.len, self.step_secs) {
            // Which setting to blame: the span alone, or only its sum with the start.
            let span_overflows = !span_fits(Timestamp::EPOCH, self.len, self.step_secs);
            return Err(SimError::InvalidParameter {
                name: if span_overflows { "step_secs" } else { "start" },
                reason: format!(
                    "{} points {} s apart from {} run past the i64 range of milliseconds",
                    self.len, self.step_secs, self.start
                ),
            });
        }
        Ok(())
    }
}

/// A generated series and the ground truth of what was injected into it.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledSeries {
    /// The series (regular steps, finite values).
    pub series: TimeSeries,
    /// The injected anomalies, sorted by start, non-overlapping.
    pub anomalies: Vec<AnomalyWindow>,
}

impl LabelledSeries {
    /// Per point: whether it lies in an anomaly window (the usual 0/1 ground truth).
    pub fn labels(&self) -> Vec<bool> {
        let mut out = vec![false; self.series.len()];
        for w in &self.anomalies {
            for slot in out.iter_mut().take(w.end).skip(w.start) {
                *slot = true;
            }
        }
        out
    }
}

fn finite_or_zero(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// Generates a seasonal series with labelled anomalies; deterministic for `(spec, seed)`.
///
/// Settings out of range are corrected as [`SeriesSpec`] documents; a series whose points would
/// lie past the `i64` range of milliseconds is empty, with no anomalies.
///
/// ```
/// use aiops_sim::{labelled_series, AnomalyKind, SeriesSpec};
///
/// let spec = SeriesSpec { anomalies: 3, kinds: vec![AnomalyKind::Spike], ..SeriesSpec::default() };
/// let s = labelled_series(&spec, 7);
/// assert_eq!(s.series.len(), 4032);
/// assert_eq!(s.anomalies.len(), 3);
/// assert!(s.anomalies.iter().all(|w| w.kind == AnomalyKind::Spike && w.start >= spec.warmup));
/// assert_eq!(s, labelled_series(&spec, 7));
/// ```
pub fn labelled_series(spec: &SeriesSpec, seed: u64) -> LabelledSeries {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let len = spec.len;
    let step_secs = spec.step_secs.max(1);
    if !span_fits(spec.start, len, step_secs) {
        // No timestamps for these points: nothing to label either.
        return LabelledSeries {
            series: TimeSeries::default(),
            anomalies: Vec::new(),
        };
    }
    let base = finite_or_zero(spec.base);
    let trend = finite_or_zero(spec.trend_per_day);
    let daily = finite_or_zero(spec.daily_amplitude);
    let weekly = finite_or_zero(spec.weekly_amplitude);
    let noise_sd = finite_or_zero(spec.noise_sd).abs();
    let sigma = if noise_sd > 0.0 {
        noise_sd
    } else {
        (0.05 * (daily.abs() + weekly.abs()).max(base.abs())).max(1e-3)
    };

    let step_days = step_secs as f64 / 86_400.0;
    let clean: Vec<f64> = (0..len)
        .map(|i| {
            let t = i as f64 * step_days;
            base + trend * t + daily * (TAU * t).sin() + weekly * (TAU * t / 7.0).sin()
        })
        .collect();
    // Unit-variance noise, scaled per point so variance changes can amplify it.
    let unit_noise: Vec<f64> = (0..len).map(|_| rng.sample(StandardNormal)).collect();

    let windows = place_windows(spec, len, &mut rng);
    let mut values: Vec<f64> = clean
        .iter()
        .zip(&unit_noise)
        .map(|(c, z)| c + noise_sd * z)
        .collect();
    for w in &windows {
        inject(
            w,
            &mut values,
            &clean,
            &unit_noise,
            noise_sd,
            sigma,
            &mut rng,
        );
    }
    for v in &mut values {
        *v = finite_or_zero(*v);
    }
    // Cannot fail (the span fits and the values are finite); should it, the windows go too, so
    // no anomaly ever points past the series.
    match TimeSeries::regular(spec.start, step_secs.saturating_mul(1000), values) {
        Ok(series) => LabelledSeries {
            series,
            anomalies: windows,
        },
        Err(_) => LabelledSeries {
            series: TimeSeries::default(),
            anomalies: Vec::new(),
        },
    }
}

/// Chooses non-overlapping windows after the warm-up: the room is cut into equal slots, one
/// anomaly per slot, with a gap of normal points before the next slot.
fn place_windows(spec: &SeriesSpec, len: usize, rng: &mut ChaCha8Rng) -> Vec<AnomalyWindow> {
    if spec.anomalies == 0 || len < 8 {
        return Vec::new();
    }
    // The same test as `SeriesSpec::check`, without overflow for a huge warm-up.
    let warmup = if warmup_fits(spec.warmup, len) {
        spec.warmup
    } else {
        len / 4
    };
    let room = len - warmup;
    // Each slot holds at least 4 points: one or more anomalous, then normal points.
    let count = spec.anomalies.min(room / MIN_ROOM);
    if count == 0 {
        return Vec::new();
    }
    let slot = room / count;
    let mut out = Vec::with_capacity(count);
    for k in 0..count {
        let kind = if spec.kinds.is_empty() {
            AnomalyKind::ALL[rng.gen_range(0..AnomalyKind::ALL.len())]
        } else {
            spec.kinds[k % spec.kinds.len()]
        };
        let (lo, hi) = kind.length_range();
        // Leave at least a third of the slot normal so windows never touch.
        let max_len = (slot * 2 / 3).max(1);
        let hi = hi.min(max_len);
        let lo = lo.min(hi);
        let length = rng.gen_range(lo..=hi);
        let slot_start = warmup + k * slot;
        let latest = slot_start + slot - length - slot / 3;
        let start = rng.gen_range(slot_start..=latest.max(slot_start));
        out.push(AnomalyWindow {
            kind,
            start,
            end: start + length,
        });
    }
    out
}

fn inject(
    w: &AnomalyWindow,
    values: &mut [f64],
    clean: &[f64],
    unit_noise: &[f64],
    noise_sd: f64,
    sigma: f64,
    rng: &mut ChaCha8Rng,
) {
    let range = w.start..w.end;
    let len = w.len() as f64;
    match w.kind {
        AnomalyKind::Spike | AnomalyKind::Dip => {
            let sign = if w.kind == AnomalyKind::Spike {
                1.0
            } else {
                -1.0
            };
            for i in range {
                values[i] += sign * rng.gen_range(4.0..8.0) * sigma;
            }
        }
        AnomalyKind::LevelShift => {
            let sign = if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
            let shift = sign * rng.gen_range(3.0..5.0) * sigma;
            for v in &mut values[range] {
                *v += shift;
            }
        }
        AnomalyKind::TrendChange => {
            let sign = if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
            let total = sign * rng.gen_range(4.0..8.0) * sigma;
            for (k, i) in range.enumerate() {
                values[i] += total * (k as f64 + 1.0) / len;
            }
        }
        AnomalyKind::VarianceChange => {
            let factor = rng.gen_range(3.0..5.0);
            for i in range {
                // Without base noise there is nothing to amplify: add noise of `sigma` instead.
                let sd = if noise_sd > 0.0 { noise_sd } else { sigma };
                values[i] = clean[i] + factor * sd * unit_noise[i];
            }
        }
        AnomalyKind::Stuck => {
            // A frozen exporter repeats its last good reading.
            let stuck = if w.start > 0 {
                values[w.start - 1]
            } else {
                clean[0]
            };
            for v in &mut values[range] {
                *v = stuck;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_two_weeks_of_five_minute_points() {
        let spec = SeriesSpec::default();
        let s = labelled_series(&spec, 1);
        assert_eq!(s.series.len(), 4032);
        assert_eq!(s.series.median_step_millis(), Some(300_000));
        assert_eq!(
            s.series.first().map(|(t, _)| t.to_string()),
            Some("2024-01-01T00:00:00Z".to_owned())
        );
        assert_eq!(s.anomalies.len(), 6);
        assert!(spec.check().is_ok());
    }

    #[test]
    fn same_seed_same_output_different_seed_different() {
        let spec = SeriesSpec::default();
        assert_eq!(labelled_series(&spec, 5), labelled_series(&spec, 5));
        assert_ne!(
            labelled_series(&spec, 5).series,
            labelled_series(&spec, 6).series
        );
    }

    #[test]
    fn windows_are_sorted_disjoint_and_after_warmup() {
        for seed in 0..20 {
            let spec = SeriesSpec {
                anomalies: 12,
                ..SeriesSpec::default()
            };
            let s = labelled_series(&spec, seed);
            assert_eq!(s.anomalies.len(), 12);
            for w in &s.anomalies {
                assert!(w.start >= spec.warmup && w.end <= spec.len && !w.is_empty());
            }
            for pair in s.anomalies.windows(2) {
                assert!(pair[0].end < pair[1].start, "{pair:?}");
            }
        }
    }

    #[test]
    fn kinds_cycle_in_order() {
        let spec = SeriesSpec {
            anomalies: 5,
            kinds: vec![AnomalyKind::Stuck, AnomalyKind::Dip],
            ..SeriesSpec::default()
        };
        let kinds: Vec<_> = labelled_series(&spec, 3)
            .anomalies
            .iter()
            .map(|w| w.kind)
            .collect();
        let (d, s) = (AnomalyKind::Dip, AnomalyKind::Stuck);
        assert_eq!(kinds, vec![s, d, s, d, s]);
    }

    /// Residual (value minus the noise-free signal) at the anomaly, in noise sigmas.
    fn residuals(spec: &SeriesSpec, seed: u64) -> (LabelledSeries, Vec<f64>) {
        let clean_spec = SeriesSpec {
            noise_sd: 0.0,
            anomalies: 0,
            ..spec.clone()
        };
        let clean = labelled_series(&clean_spec, seed);
        let s = labelled_series(spec, seed);
        let r = s
            .series
            .values()
            .iter()
            .zip(clean.series.values())
            .map(|(v, c)| (v - c) / spec.noise_sd)
            .collect();
        (s, r)
    }

    #[test]
    fn spikes_and_dips_are_four_to_eight_sigma_beyond_the_noise() {
        for kind in [AnomalyKind::Spike, AnomalyKind::Dip] {
            let spec = SeriesSpec {
                anomalies: 8,
                kinds: vec![kind],
                ..SeriesSpec::default()
            };
            let (s, r) = residuals(&spec, 11);
            for w in &s.anomalies {
                assert!((1..=3).contains(&w.len()));
                for &x in &r[w.start..w.end] {
                    // 4..8 sigma injected, plus unit noise: outside +-(4-5) sigma with margin.
                    let signed = if kind == AnomalyKind::Spike { x } else { -x };
                    assert!(signed > 4.0 - 5.0 && signed < 8.0 + 5.0, "{kind}: {x}");
                }
                let mean: f64 = r[w.start..w.end].iter().sum::<f64>() / w.len() as f64;
                assert!(mean.abs() > 2.0, "{kind}: mean residual {mean}");
            }
        }
    }

    #[test]
    fn level_shift_moves_the_mean_three_to_five_sigma() {
        let spec = SeriesSpec {
            anomalies: 4,
            kinds: vec![AnomalyKind::LevelShift],
            ..SeriesSpec::default()
        };
        let (s, r) = residuals(&spec, 2);
        for w in &s.anomalies {
            let mean = r[w.start..w.end].iter().sum::<f64>() / w.len() as f64;
            // Mean of >= 30 unit-noise points is within +-1 of the shift.
            assert!(mean.abs() > 2.0 && mean.abs() < 6.0, "shift {mean}");
        }
    }

    #[test]
    fn variance_change_multiplies_the_noise() {
        let spec = SeriesSpec {
            anomalies: 4,
            kinds: vec![AnomalyKind::VarianceChange],
            ..SeriesSpec::default()
        };
        let (s, r) = residuals(&spec, 4);
        for w in &s.anomalies {
            let sd = (r[w.start..w.end].iter().map(|x| x * x).sum::<f64>() / w.len() as f64).sqrt();
            assert!(sd > 2.0 && sd < 7.0, "sd ratio {sd}");
        }
    }

    #[test]
    fn stuck_values_are_constant_for_thirty_to_a_hundred_points() {
        let spec = SeriesSpec {
            anomalies: 4,
            kinds: vec![AnomalyKind::Stuck],
            ..SeriesSpec::default()
        };
        let s = labelled_series(&spec, 9);
        let v = s.series.values();
        for w in &s.anomalies {
            assert!((30..=100).contains(&w.len()));
            assert!(v[w.start..w.end].iter().all(|&x| x == v[w.start - 1]));
        }
    }

    #[test]
    fn trend_change_ramps_up_to_the_window_end() {
        let spec = SeriesSpec {
            anomalies: 4,
            kinds: vec![AnomalyKind::TrendChange],
            ..SeriesSpec::default()
        };
        let (s, r) = residuals(&spec, 8);
        for w in &s.anomalies {
            let n = w.len();
            let head: f64 = r[w.start..w.start + n / 4].iter().sum::<f64>() / (n / 4) as f64;
            let tail: f64 = r[w.end - n / 4..w.end].iter().sum::<f64>() / (n / 4) as f64;
            assert!((tail - head).abs() > 1.5, "head {head} tail {tail}");
        }
    }

    #[test]
    fn bad_settings_are_corrected_and_reported() {
        let spec = SeriesSpec {
            len: 100,
            step_secs: -5,
            base: f64::NAN,
            noise_sd: -1.0,
            warmup: 1000,
            ..SeriesSpec::default()
        };
        let s = labelled_series(&spec, 0);
        assert_eq!(s.series.len(), 100);
        assert_eq!(s.series.median_step_millis(), Some(1000));
        assert!(s.series.values().iter().all(|v| v.is_finite()));
        assert!(s.anomalies.iter().all(|w| w.start >= 25 && w.end <= 100));
        let err = spec.check().unwrap_err().to_string();
        assert!(err.contains("step_secs") && err.contains("-5"), "{err}");
        assert!(
            SeriesSpec {
                base: f64::INFINITY,
                ..SeriesSpec::default()
            }
            .check()
            .is_err()
        );
        let empty = labelled_series(
            &SeriesSpec {
                len: 0,
                ..SeriesSpec::default()
            },
            0,
        );
        assert!(empty.series.is_empty() && empty.anomalies.is_empty());
    }

    #[test]
    fn a_huge_warmup_is_reduced_not_overflowed() {
        // `warmup + 4` used to overflow (a debug panic; an index out of bounds in release).
        let spec = SeriesSpec {
            len: 100,
            anomalies: 3,
            warmup: usize::MAX,
            ..SeriesSpec::default()
        };
        let s = labelled_series(&spec, 3);
        assert_eq!(s.series.len(), 100);
        assert_eq!(s.anomalies.len(), 3);
        assert!(s.anomalies.iter().all(|w| w.start >= 25 && w.end <= 100));
        let err = spec.check().unwrap_err().to_string();
        assert!(
            err.contains("warmup") && err.contains(&usize::MAX.to_string()),
            "{err}"
        );
    }

    #[test]
    fn check_accepts_exactly_the_warmups_the_generator_keeps() {
        // `check` used to accept a warm-up of 97..=99 in 100 points, which the generator
        // silently replaced by 25.
        for len in 8..=120 {
            for warmup in 0..=len + 1 {
                let spec = SeriesSpec {
                    len,
                    anomalies: 1,
                    warmup,
                    ..SeriesSpec::default()
                };
                let s = labelled_series(&spec, 1);
                assert_eq!(s.anomalies.len(), 1, "len {len}, warmup {warmup}");
                let kept = s.anomalies[0].start >= warmup;
                match spec.check() {
                    Ok(()) => assert!(kept, "len {len}, warmup {warmup}: {:?}", s.anomalies),
                    Err(e) => {
                        assert!(warmup + 4 > len, "len {len}, warmup {warmup}: {e}");
                        assert!(e.to_string().contains("warmup"), "{e}");
                    }
                }
            }
        }
        let late = SeriesSpec {
            len: 100,
            anomalies: 1,
            warmup: 97,
            ..SeriesSpec::default()
        };
        assert!(late.check().is_err());
    }

    #[test]
    fn a_span_past_the_i64_range_is_reported_and_empty() {
        // These used to pass `check` and give an empty series with anomalies listed.
        for (spec, field) in [
            (
                SeriesSpec {
                    step_secs: 1_000_000_000_000_000,
                    ..SeriesSpec::default()
                },
                "step_secs",
            ),
            (
                SeriesSpec {
                    step_secs: i64::MAX,
                    ..SeriesSpec::default()
                },
                "step_secs",
            ),
            (
                SeriesSpec {
                    start: Timestamp::from_millis(i64::MAX - 1000),
                    ..SeriesSpec::default()
                },
                "start",
            ),
        ] {
            let err = spec.check().unwrap_err().to_string();
            assert!(err.starts_with(&format!("invalid {field}:")), "{err}");
            assert!(err.contains("4032 points"), "{err}");
            let s = labelled_series(&spec, 1);
            assert!(s.series.is_empty(), "{field}");
            assert!(s.anomalies.is_empty(), "{field}: {:?}", s.anomalies);
            assert!(s.labels().is_empty());
        }
        // One point needs no step: it fits anywhere.
        let one = SeriesSpec {
            len: 1,
            anomalies: 0,
            step_secs: i64::MAX,
            start: Timestamp::from_millis(i64::MAX),
            ..SeriesSpec::default()
        };
        assert!(one.check().is_ok());
        assert_eq!(labelled_series(&one, 1).series.len(), 1);
        // The last representable instant is still accepted.
        let edge = SeriesSpec {
            len: 4,
            anomalies: 0,
            step_secs: 1,
            start: Timestamp::from_millis(i64::MAX - 3000),
            ..SeriesSpec::default()
        };
        assert!(edge.check().is_ok());
        let s = labelled_series(&edge, 1);
        assert_eq!(s.series.last().map(|(t, _)| t.as_millis()), Some(i64::MAX));
    }

    #[test]
    fn labels_mark_exactly_the_windows() {
        let s = labelled_series(&SeriesSpec::default(), 12);
        let labels = s.labels();
        let marked = labels.iter().filter(|&&b| b).count();
        assert_eq!(
            marked,
            s.anomalies.iter().map(AnomalyWindow::len).sum::<usize>()
        );
    }
}
