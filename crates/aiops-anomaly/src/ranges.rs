//! From per-point scores to what an operator acts on: anomaly ranges, thresholds and alarms.

use aiops_core::Timestamp;

use crate::error::{AnomalyError, Result, invalid};

/// A contiguous stretch of anomalous points.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AnomalyRange {
    /// First point at or above the threshold.
    pub start: Timestamp,
    /// Last point at or above the threshold (inclusive).
    pub end: Timestamp,
    /// Highest score in the range.
    pub peak: f64,
    /// When the peak occurred.
    pub peak_at: Timestamp,
    /// Which detector produced the scores.
    pub detector: String,
}

/// Merges points scoring at least `threshold` into ranges; points at most `max_gap_secs` apart
/// (in time) join the same range. `timestamps` and `scores` must have equal lengths and the
/// timestamps must not decrease ([`AnomalyError::NonIncreasingTimestamp`] otherwise: a range
/// would end before it starts); NaN scores count as 0; a NaN `threshold` or a negative
/// `max_gap_secs` is an [`AnomalyError::InvalidParam`].
///
/// ```
/// use aiops_anomaly::anomaly_ranges;
/// use aiops_core::Timestamp;
/// let ts: Vec<Timestamp> = (0..8).map(|i| Timestamp::from_secs(60 * i)).collect();
/// let scores = [0.1, 0.9, 0.7, 0.1, 0.2, 0.1, 0.95, 0.1];
/// let r = anomaly_ranges(&ts, &scores, 0.6, 120, "ensemble")?;
/// assert_eq!(r.len(), 2);
/// assert_eq!((r[0].start, r[0].end, r[0].peak), (ts[1], ts[2], 0.9));
/// assert_eq!(r[1].peak_at, ts[6]);
/// assert!(anomaly_ranges(&ts, &scores, f64::NAN, 120, "ensemble").is_err());
/// assert!(anomaly_ranges(&ts, &scores, 0.6, -1, "ensemble").is_err());
/// # Ok::<(), aiops_anomaly::AnomalyError>(())
/// ```
pub fn anomaly_ranges(
    timestamps: &[Timestamp],
    scores: &[f64],
    threshold: f64,
    max_gap_secs: i64,
    detector: &str,
) -> Result<Vec<AnomalyRange>> {
    if timestamps.len() != scores.len() {
        return Err(AnomalyError::Shape {
            expected: timestamps.len(),
            got: scores.len(),
        });
    }
    // NaN compares false with every score, so every point would have counted as anomalous.
    if threshold.is_nan() {
        return Err(invalid("threshold", threshold, "must be a number"));
    }
    // A negative gap silently split every run into single points (no gap is that short).
    if max_gap_secs < 0 {
        return Err(invalid("max_gap_secs", max_gap_secs, "must be >= 0"));
    }
    let mut out: Vec<AnomalyRange> = Vec::new();
    for (i, (&t, &s)) in timestamps.iter().zip(scores).enumerate() {
        if i > 0 && t < timestamps[i - 1] {
            return Err(AnomalyError::NonIncreasingTimestamp {
                previous: timestamps[i - 1].as_millis(),
                got: t.as_millis(),
            });
        }
        if s.is_nan() || s < threshold {
            continue;
        }
        match out.last_mut() {
            // i128: neither the difference of two i64 instants nor the gap in ms overflows it.
            Some(r)
                if i128::from(t.as_millis()) - i128::from(r.end.as_millis())
                    <= i128::from(max_gap_secs) * 1000 =>
            {
                r.end = t;
                if s > r.peak {
                    r.peak = s;
                    r.peak_at = t;
                }
            }
            _ => out.push(AnomalyRange {
                start: t,
                end: t,
                peak: s,
                peak_at: t,
                detector: detector.to_owned(),
            }),
        }
    }
    Ok(out)
}

/// The score threshold that raises alarms on a `rate` share of points (`0 < rate < 1`) of
/// representative history, e.g. `0.001` for one alarm per thousand points: the `1 - rate`
/// quantile of `scores` (NaN ignored; an infinite score is [`AnomalyError::NonFinite`]).
///
/// ```
/// use aiops_anomaly::threshold_for_alarm_rate;
/// let scores: Vec<f64> = (0..1000).map(|i| f64::from(i) / 1000.0).collect();
/// let t = threshold_for_alarm_rate(&scores, 0.01)?;
/// assert!((t - 0.98901).abs() < 1e-9);
/// # Ok::<(), aiops_anomaly::AnomalyError>(())
/// ```
pub fn threshold_for_alarm_rate(scores: &[f64], rate: f64) -> Result<f64> {
    if !(rate > 0.0 && rate < 1.0) {
        return Err(invalid("rate", rate, "must be in (0, 1)"));
    }
    // Between -inf and +inf the quantile interpolated to NaN, a threshold nothing reaches.
    if let Some(i) = scores.iter().position(|s| s.is_infinite()) {
        return Err(AnomalyError::NonFinite {
            row: i,
            column: 0,
            value: scores[i],
        });
    }
    let mut v: Vec<f64> = scores.iter().copied().filter(|s| !s.is_nan()).collect();
    aiops_core::stats::quantile(&mut v, 1.0 - rate)
        .ok_or(AnomalyError::NotEnoughData { needed: 1, got: 0 })
}

/// Turns scores into alarms: a score at or above the threshold alarms unless another alarm was
/// raised within the last `suppress_secs`, since only the first alarm for an anomaly helps and
/// every repeat costs the operator. Operator feedback moves the threshold: a false alarm raises
/// it just above that alarm's score, a missed anomaly lowers it just below that score.
///
/// Late scores (a timestamp before the last alarm, e.g. several series sharing one `Alarms`
/// with out-of-order delivery) are judged by their distance to that alarm in either direction:
/// within `suppress_secs` of it they are repeats, further away they alarm; either way the last
/// alarm stays the latest one, so a late score cannot re-open the suppression window behind it.
///
/// ```
/// use aiops_anomaly::Alarms;
/// use aiops_core::Timestamp;
/// let mut a = Alarms::try_new(0.8, 3600)?;
/// assert!(a.check(Timestamp::from_secs(0), 0.9));
/// assert!(!a.check(Timestamp::from_secs(60), 0.95)); // suppressed
/// assert!(a.check(Timestamp::from_secs(3700), 0.85));
/// a.mark_false_alarm(0.85);
/// assert!(a.threshold() > 0.85);
/// assert!(!a.check(Timestamp::from_secs(9000), 0.85));
/// # Ok::<(), aiops_anomaly::AnomalyError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Alarms {
    threshold: f64,
    suppress_ms: i64,
    last_alarm: Option<i64>,
}

impl Alarms {
    /// Errors unless `threshold` is in `[0, 1]` and `suppress_secs >= 0`.
    pub fn try_new(threshold: f64, suppress_secs: i64) -> Result<Self> {
        if !(0.0..=1.0).contains(&threshold) {
            return Err(invalid("threshold", threshold, "must be in [0, 1]"));
        }
        if suppress_secs < 0 {
            return Err(invalid("suppress_secs", suppress_secs, "must be >= 0"));
        }
        Ok(Self {
            threshold,
            suppress_ms: suppress_secs.saturating_mul(1000),
            last_alarm: None,
        })
    }
    /// The current threshold.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }
    /// Whether the score at `at` raises an alarm (and records it if so). A score earlier than
    /// the last alarm is suppressed within `suppress_secs` before it, and never moves the last
    /// alarm back (see the type's docs).
    pub fn check(&mut self, at: Timestamp, score: f64) -> bool {
        if score.is_nan() || score < self.threshold {
            return false;
        }
        let t = at.as_millis();
        if let Some(last) = self.last_alarm {
            // i128: the distance between two i64 instants does not overflow it.
            let gap = (i128::from(t) - i128::from(last)).unsigned_abs();
            if gap < u128::from(self.suppress_ms.unsigned_abs()) {
                return false;
            }
            // A late score used to move the last alarm back, so the next on-time repeat of the
            // alarm it followed was no longer suppressed.
            self.last_alarm = Some(t.max(last));
        } else {
            self.last_alarm = Some(t);
        }
        true
    }
    /// Feedback: the alarm with this score was false; raise the threshold just above it.
    pub fn mark_false_alarm(&mut self, score: f64) {
        if score.is_finite() && score >= self.threshold {
            self.threshold = (score + 0.5 * (1.0 - score).min(0.01)).min(1.0);
        }
    }
    /// Feedback: an anomaly scoring `score` was missed; lower the threshold to just below it.
    pub fn mark_missed(&mut self, score: f64) {
        if score.is_finite() && score < self.threshold {
            self.threshold = (score - 1e-6).max(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_reject_mismatched_lengths_and_respect_gap() {
        let ts: Vec<Timestamp> = (0..4).map(|i| Timestamp::from_secs(100 * i)).collect();
        assert!(anomaly_ranges(&ts, &[0.0], 0.5, 0, "x").is_err());
        let r = anomaly_ranges(&ts, &[0.9, 0.1, 0.9, f64::NAN], 0.5, 150, "x").unwrap();
        assert_eq!(r.len(), 2);
        let r = anomaly_ranges(&ts, &[0.9, 0.1, 0.9, 0.0], 0.5, 200, "x").unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].end, ts[2]);
    }

    #[test]
    fn a_negative_max_gap_is_an_error() {
        // It silently gave one range per point.
        let ts: Vec<Timestamp> = (0..4).map(|i| Timestamp::from_secs(60 * i)).collect();
        let e = anomaly_ranges(&ts, &[0.9; 4], 0.5, -5, "x").unwrap_err();
        assert!(
            matches!(&e, AnomalyError::InvalidParam { name: "max_gap_secs", value, .. } if value == "-5"),
            "{e}"
        );
        assert!(e.to_string().contains("max_gap_secs"), "{e}");
        assert!(anomaly_ranges(&ts, &[0.9; 4], 0.5, i64::MIN, "x").is_err());
        // 0 is valid: only points at the same instant merge.
        assert_eq!(
            anomaly_ranges(&ts, &[0.9; 4], 0.5, 0, "x").unwrap().len(),
            4
        );
        assert_eq!(
            anomaly_ranges(&ts, &[0.9; 4], 0.5, 60, "x").unwrap().len(),
            1
        );
    }

    #[test]
    fn a_late_score_never_moves_the_last_alarm_back() {
        let mut a = Alarms::try_new(0.5, 3600).unwrap();
        assert!(a.check(Timestamp::from_secs(10_000), 0.9));
        // Late, within the suppression window before the alarm: a repeat.
        assert!(!a.check(Timestamp::from_secs(9_000), 0.9));
        // Late and further away: its own alarm, but the last alarm stays at 10,000 s ...
        assert!(a.check(Timestamp::from_secs(1_000), 0.9));
        // ... so an on-time repeat of that alarm is still suppressed (it alarmed: the late
        // score had moved the last alarm back to 1,000 s).
        assert!(!a.check(Timestamp::from_secs(10_060), 0.9));
        assert!(a.check(Timestamp::from_secs(13_600), 0.9));
        // Equal timestamps are repeats unless there is no suppression.
        assert!(!a.check(Timestamp::from_secs(13_600), 0.9));
        let mut none = Alarms::try_new(0.5, 0).unwrap();
        assert!(none.check(Timestamp::from_secs(5), 0.9));
        assert!(none.check(Timestamp::from_secs(5), 0.9));
        assert!(none.check(Timestamp::from_secs(4), 0.9));
        assert!(none.check(Timestamp::from_secs(6), 0.9));
        // Extreme instants in reverse order do not overflow.
        let mut a = Alarms::try_new(0.5, i64::MAX).unwrap();
        assert!(a.check(Timestamp::from_millis(i64::MAX), 0.9));
        assert!(!a.check(Timestamp::from_millis(1), 0.9));
        assert!(a.check(Timestamp::from_millis(i64::MIN), 0.9));
        assert!(!a.check(Timestamp::from_millis(i64::MAX - 1), 0.9));
    }

    #[test]
    fn feedback_moves_threshold_and_bad_params_error() {
        let mut a = Alarms::try_new(0.5, 0).unwrap();
        a.mark_missed(0.3);
        assert!(a.threshold() < 0.3);
        assert!(a.check(Timestamp::EPOCH, 0.3));
        assert!(Alarms::try_new(1.5, 0).is_err());
        assert!(threshold_for_alarm_rate(&[0.1], 0.0).is_err());
        assert!(threshold_for_alarm_rate(&[], 0.1).is_err());
    }

    #[test]
    fn an_infinite_score_is_an_error_not_a_nan_threshold() {
        // -inf and +inf interpolated to a NaN threshold.
        let e = threshold_for_alarm_rate(&[0.2, f64::NEG_INFINITY, f64::INFINITY], 0.5);
        assert!(
            matches!(e, Err(AnomalyError::NonFinite { row: 1, value, .. })
                if value == f64::NEG_INFINITY),
            "{e:?}"
        );
        assert!(threshold_for_alarm_rate(&[0.2, f64::INFINITY], 0.5).is_err());
        assert_eq!(
            threshold_for_alarm_rate(&[0.25, f64::NAN, 0.75], 0.5),
            Ok(0.5)
        );
    }

    #[test]
    fn alarms_at_extreme_timestamps_do_not_overflow() {
        let mut a = Alarms::try_new(0.5, 10).unwrap();
        assert!(a.check(Timestamp::from_millis(i64::MIN), 0.9));
        // i64::MAX + 1 ms later: far outside the 10 s suppression window.
        assert!(a.check(Timestamp::EPOCH, 0.9));
        assert!(!a.check(Timestamp::from_secs(9), 0.9));
        assert!(a.check(Timestamp::from_millis(i64::MAX), 0.9));
        // the longest suppression still lets an alarm through after more than i64::MAX ms
        let mut a = Alarms::try_new(0.5, i64::MAX).unwrap();
        assert!(a.check(Timestamp::from_millis(i64::MIN), 0.9));
        assert!(!a.check(Timestamp::from_millis(-2), 0.9));
        assert!(a.check(Timestamp::from_millis(i64::MAX), 0.9));
    }

    #[test]
    fn ranges_at_extreme_timestamps_do_not_overflow() {
        let ts = [
            Timestamp::from_millis(i64::MIN),
            Timestamp::from_millis(i64::MAX),
            Timestamp::from_millis(i64::MAX),
        ];
        let scores = [0.9, 0.8, 0.7];
        // gap 2^64 - 1 ms > i64::MAX / 1000 s (about 2^63 ms): separate ranges
        let r = anomaly_ranges(&ts, &scores, 0.5, i64::MAX / 1000, "x").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].start, r[0].end), (ts[0], ts[0]));
        assert_eq!((r[1].start, r[1].end, r[1].peak), (ts[1], ts[2], 0.8));
        // i64::MAX s is about 2^73 ms, more than any gap between two instants: one range
        let r = anomaly_ranges(&ts, &scores, 0.5, i64::MAX, "x").unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].start, r[0].end, r[0].peak), (ts[0], ts[2], 0.9));
        // A step back in time is an error, not a range that ends before it starts.
        let back = [ts[1], ts[0]];
        assert!(matches!(
            anomaly_ranges(&back, &[0.9, 0.9], 0.5, 60, "x"),
            Err(AnomalyError::NonIncreasingTimestamp { .. })
        ));
    }
}
