//! Time series: sorted, unique timestamps with finite values.

use crate::Timestamp;
use crate::error::{CoreError, Result};

/// A univariate time series: strictly increasing timestamps, one finite value each.
///
/// **Missing values** are held by leaving the point out: spacing need not be regular, so a gap
/// in time *is* the missing data. [`TimeSeries::from_optional`] builds a series from rows with
/// `None`/NaN holes by dropping them; detectors that care about regular steps look at the gaps
/// between timestamps.
///
/// ```
/// use aiops_core::{TimeSeries, Timestamp};
///
/// let ts: Vec<Timestamp> = (0..4).map(|i| Timestamp::from_secs(60 * i)).collect();
/// let s = TimeSeries::try_new(ts, vec![1.0, 2.0, 3.0, 4.0])?;
/// assert_eq!(s.last_n(2).values(), &[3.0, 4.0]);
/// assert_eq!(s.range(Timestamp::from_secs(60), Timestamp::from_secs(180)).values(), &[2.0, 3.0]);
///
/// // Unsorted input is an error that names the index.
/// let bad = TimeSeries::try_new(vec![Timestamp::from_secs(2), Timestamp::from_secs(1)], vec![0.0, 0.0]);
/// assert!(bad.unwrap_err().to_string().contains("index 1"));
/// # Ok::<(), aiops_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimeSeries {
    timestamps: Vec<Timestamp>,
    values: Vec<f64>,
}

/// A borrowed run of consecutive points of a [`TimeSeries`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesSlice<'a> {
    timestamps: &'a [Timestamp],
    values: &'a [f64],
}

impl<'a> SeriesSlice<'a> {
    /// The timestamps.
    pub fn timestamps(&self) -> &'a [Timestamp] {
        self.timestamps
    }
    /// The values.
    pub fn values(&self) -> &'a [f64] {
        self.values
    }
    /// Number of points.
    pub fn len(&self) -> usize {
        self.values.len()
    }
    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    /// The median gap between consecutive timestamps in milliseconds, `None` below 2 points.
    pub fn median_step_millis(&self) -> Option<i64> {
        if self.len() < 2 {
            return None;
        }
        let mut gaps: Vec<i64> = self
            .timestamps
            .windows(2)
            .map(|w| w[1].millis_since(w[0]))
            .collect();
        let mid = gaps.len() / 2;
        let (_, m, _) = gaps.select_nth_unstable(mid);
        Some(*m)
    }
    /// `(timestamp, value)` pairs in time order.
    pub fn iter(self) -> impl ExactSizeIterator<Item = (Timestamp, f64)> + 'a {
        self.timestamps
            .iter()
            .copied()
            .zip(self.values.iter().copied())
    }
    /// An owned copy.
    pub fn to_series(&self) -> TimeSeries {
        TimeSeries {
            timestamps: self.timestamps.to_vec(),
            values: self.values.to_vec(),
        }
    }
}

fn check_order(index: usize, previous: Timestamp, current: Timestamp) -> Result<()> {
    match current.cmp(&previous) {
        std::cmp::Ordering::Greater => Ok(()),
        std::cmp::Ordering::Equal => Err(CoreError::DuplicateTimestamp {
            index,
            timestamp: current,
        }),
        std::cmp::Ordering::Less => Err(CoreError::Unsorted {
            index,
            previous,
            current,
        }),
    }
}

impl TimeSeries {
    /// An empty series.
    pub fn new() -> Self {
        TimeSeries::default()
    }

    /// Validates and builds a series: equal lengths, strictly increasing timestamps, finite values.
    pub fn try_new(timestamps: Vec<Timestamp>, values: Vec<f64>) -> Result<Self> {
        if timestamps.len() != values.len() {
            return Err(CoreError::LengthMismatch {
                timestamps: timestamps.len(),
                values: values.len(),
            });
        }
        for (i, &v) in values.iter().enumerate() {
            if !v.is_finite() {
                return Err(CoreError::NonFinite { index: i, value: v });
            }
        }
        for i in 1..timestamps.len() {
            check_order(i, timestamps[i - 1], timestamps[i])?;
        }
        Ok(TimeSeries { timestamps, values })
    }

    /// Builds a series from rows where a value may be missing (`None`, NaN or infinite):
    /// those rows are dropped. Timestamps of *all* rows must still be strictly increasing.
    pub fn from_optional(rows: impl IntoIterator<Item = (Timestamp, Option<f64>)>) -> Result<Self> {
        let mut out = TimeSeries::new();
        let mut last: Option<Timestamp> = None;
        for (i, (t, v)) in rows.into_iter().enumerate() {
            if let Some(prev) = last {
                check_order(i, prev, t)?;
            }
            last = Some(t);
            if let Some(v) = v.filter(|v| v.is_finite()) {
                out.timestamps.push(t);
                out.values.push(v);
            }
        }
        Ok(out)
    }

    /// A series at a regular step from `start`, one point per value.
    ///
    /// A step of 0 or less, or points that would lie past the `i64` range of milliseconds, are
    /// [`CoreError::InvalidParameter`] naming `step_millis` (the points are not saturated into
    /// duplicates).
    pub fn regular(start: Timestamp, step_millis: i64, values: Vec<f64>) -> Result<Self> {
        if step_millis <= 0 {
            return Err(CoreError::InvalidParameter {
                name: "step_millis",
                reason: format!("must be > 0, got {step_millis}"),
            });
        }
        let timestamps = (0..values.len())
            .map(|i| {
                i64::try_from(i)
                    .ok()
                    .and_then(|k| k.checked_mul(step_millis))
                    .and_then(|offset| start.as_millis().checked_add(offset))
                    .map(Timestamp::from_millis)
                    .ok_or_else(|| CoreError::InvalidParameter {
                        name: "step_millis",
                        reason: format!(
                            "point {i} at {} ms + {i} * {step_millis} ms overflows the i64 \
                             range of milliseconds ({} values)",
                            start.as_millis(),
                            values.len()
                        ),
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        TimeSeries::try_new(timestamps, values)
    }

    /// Appends a point; it must be later than the last one and finite.
    pub fn push(&mut self, timestamp: Timestamp, value: f64) -> Result<()> {
        let index = self.values.len();
        if !value.is_finite() {
            return Err(CoreError::NonFinite { index, value });
        }
        if let Some(&prev) = self.timestamps.last() {
            check_order(index, prev, timestamp)?;
        }
        self.timestamps.push(timestamp);
        self.values.push(value);
        Ok(())
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The timestamps, strictly increasing.
    pub fn timestamps(&self) -> &[Timestamp] {
        &self.timestamps
    }

    /// The values, all finite.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The first point.
    pub fn first(&self) -> Option<(Timestamp, f64)> {
        Some((*self.timestamps.first()?, *self.values.first()?))
    }

    /// The last point.
    pub fn last(&self) -> Option<(Timestamp, f64)> {
        Some((*self.timestamps.last()?, *self.values.last()?))
    }

    /// `(timestamp, value)` pairs in time order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (Timestamp, f64)> + '_ {
        self.as_slice().iter()
    }

    /// The whole series as a slice.
    pub fn as_slice(&self) -> SeriesSlice<'_> {
        SeriesSlice {
            timestamps: &self.timestamps,
            values: &self.values,
        }
    }

    /// Points with `start <= t < end` (binary search; empty when `end <= start`).
    pub fn range(&self, start: Timestamp, end: Timestamp) -> SeriesSlice<'_> {
        let lo = self.timestamps.partition_point(|&t| t < start);
        let hi = self.timestamps.partition_point(|&t| t < end).max(lo);
        SeriesSlice {
            timestamps: &self.timestamps[lo..hi],
            values: &self.values[lo..hi],
        }
    }

    /// The last `n` points (all of them when there are fewer).
    pub fn last_n(&self, n: usize) -> SeriesSlice<'_> {
        let lo = self.len().saturating_sub(n);
        SeriesSlice {
            timestamps: &self.timestamps[lo..],
            values: &self.values[lo..],
        }
    }

    /// The median gap between consecutive timestamps in milliseconds, `None` below 2 points.
    pub fn median_step_millis(&self) -> Option<i64> {
        self.as_slice().median_step_millis()
    }

    /// Splits into the timestamps and values.
    pub fn into_parts(self) -> (Vec<Timestamp>, Vec<f64>) {
        (self.timestamps, self.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(v: &[i64]) -> Vec<Timestamp> {
        v.iter().map(|&s| Timestamp::from_secs(s)).collect()
    }

    #[test]
    fn rejects_bad_input_naming_the_index() {
        let e = TimeSeries::try_new(ts(&[1, 2]), vec![1.0]).unwrap_err();
        assert_eq!(
            e,
            CoreError::LengthMismatch {
                timestamps: 2,
                values: 1
            }
        );
        let e = TimeSeries::try_new(ts(&[1, 2, 3]), vec![1.0, f64::NAN, 0.0]).unwrap_err();
        assert!(matches!(e, CoreError::NonFinite { index: 1, .. }));
        let e = TimeSeries::try_new(ts(&[1, 3, 2]), vec![0.0; 3]).unwrap_err();
        assert!(matches!(e, CoreError::Unsorted { index: 2, .. }));
        let e = TimeSeries::try_new(ts(&[1, 1]), vec![0.0; 2]).unwrap_err();
        assert!(matches!(e, CoreError::DuplicateTimestamp { index: 1, .. }));
        let mut s = TimeSeries::new();
        s.push(Timestamp::from_secs(5), 1.0).unwrap();
        assert!(s.push(Timestamp::from_secs(5), 1.0).is_err());
        assert!(s.push(Timestamp::from_secs(6), f64::INFINITY).is_err());
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn gaps_and_accessors() {
        let s = TimeSeries::from_optional(ts(&[0, 60, 120, 180]).into_iter().zip([
            Some(1.0),
            None,
            Some(f64::NAN),
            Some(4.0),
        ]))
        .unwrap();
        assert_eq!(s.values(), &[1.0, 4.0]);
        assert_eq!(s.median_step_millis(), Some(180_000));
        let r = TimeSeries::regular(Timestamp::EPOCH, 1000, vec![1.0, 2.0, 3.0]).unwrap();
        assert_eq!(
            r.range(Timestamp::from_secs(1), Timestamp::from_secs(10))
                .values(),
            &[2.0, 3.0]
        );
        assert!(
            r.range(Timestamp::from_secs(2), Timestamp::from_secs(1))
                .is_empty()
        );
        assert_eq!(r.last_n(10).len(), 3);
        assert_eq!(r.last(), Some((Timestamp::from_secs(2), 3.0)));
        assert!(TimeSeries::regular(Timestamp::EPOCH, 0, vec![]).is_err());
    }

    #[test]
    fn a_regular_series_past_the_millisecond_range_names_the_overflow() {
        // Saturated, points 1 and 2 both were i64::MAX: "duplicate timestamp at index 2".
        let start = Timestamp::from_millis(i64::MAX - 1_500);
        let e = TimeSeries::regular(start, 1_000, vec![0.0; 3]).unwrap_err();
        assert!(
            matches!(
                e,
                CoreError::InvalidParameter {
                    name: "step_millis",
                    ..
                }
            ),
            "{e:?}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("point 2") && msg.contains("overflows"),
            "{msg}"
        );
        // The last point may be exactly i64::MAX.
        let s = TimeSeries::regular(start, 750, vec![0.0; 3]).unwrap();
        assert_eq!(s.last().unwrap().0, Timestamp::from_millis(i64::MAX));
        let e = TimeSeries::regular(Timestamp::EPOCH, i64::MAX, vec![0.0; 3]).unwrap_err();
        assert!(e.to_string().contains("point 2"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn try_new_never_panics(t in proptest::collection::vec(-1000i64..1000, 0..20), v in proptest::collection::vec(proptest::num::f64::ANY, 0..20)) {
            let r = TimeSeries::try_new(t.iter().map(|&x| Timestamp::from_millis(x)).collect(), v.clone());
            if let Ok(s) = r {
                proptest::prop_assert!(s.values().iter().all(|x| x.is_finite()));
                proptest::prop_assert!(s.timestamps().windows(2).all(|w| w[0] < w[1]));
            }
        }
    }
}
