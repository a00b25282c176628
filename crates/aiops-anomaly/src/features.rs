//! The article's features: value, short and long moving averages, short rolling standard deviation.

use aiops_core::stats::RunningStats;
use std::collections::VecDeque;

use crate::error::{Result, invalid};

/// Names of the four features, in order.
pub const FEATURE_NAMES: [&str; 4] = ["value", "ma_5", "ma_15", "std_5"];

/// Window lengths of the article's features (defaults 5, 15, 5).
///
/// `std` uses `ddof = 1`, as pandas' `rolling(w).std()`. Windows longer than the data are
/// allowed: every row is then `None` (nothing is allocated up front for the unused length).
/// With the `serde` feature, deserializing runs the checks of [`FeatureConfig::try_new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "FeatureConfigFields"))]
pub struct FeatureConfig {
    short_ma: usize,
    long_ma: usize,
    std_window: usize,
}

/// The unchecked serialized form of [`FeatureConfig`]: deserializing goes through `try_new`,
/// since a zero window would index outside the buffer.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct FeatureConfigFields {
    short_ma: usize,
    long_ma: usize,
    std_window: usize,
}

#[cfg(feature = "serde")]
impl TryFrom<FeatureConfigFields> for FeatureConfig {
    type Error = crate::error::AnomalyError;
    fn try_from(f: FeatureConfigFields) -> Result<Self> {
        Self::try_new(f.short_ma, f.long_ma, f.std_window)
    }
}

/// Values a fresh [`FeatureWindow`] makes room for up front; a longer window grows its buffer
/// as values arrive, so a huge window costs memory only for the values really pushed.
const PREALLOCATED_VALUES: usize = 1024;

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            short_ma: 5,
            long_ma: 15,
            std_window: 5,
        }
    }
}

impl FeatureConfig {
    /// Window lengths for the short mean, the long mean and the standard deviation.
    ///
    /// Errors unless both means have windows of at least 1 and the standard deviation at least 2.
    pub fn try_new(short_ma: usize, long_ma: usize, std_window: usize) -> Result<Self> {
        if short_ma == 0 {
            return Err(invalid("short_ma", short_ma, "must be at least 1"));
        }
        if long_ma == 0 {
            return Err(invalid("long_ma", long_ma, "must be at least 1"));
        }
        if std_window < 2 {
            return Err(invalid(
                "std_window",
                std_window,
                "must be at least 2 (ddof = 1)",
            ));
        }
        Ok(Self {
            short_ma,
            long_ma,
            std_window,
        })
    }
    /// The longest window: the number of points before the first feature row.
    pub fn warmup(&self) -> usize {
        self.short_ma.max(self.long_ma).max(self.std_window)
    }
    /// A fresh rolling window for one metric.
    pub fn window(&self) -> FeatureWindow {
        self.window_with_capacity(PREALLOCATED_VALUES)
    }
    /// A fresh window with room for `min(warmup(), values)` values: never more than the
    /// longest window keeps, nor than the caller will push (`with_capacity(usize::MAX)` would
    /// panic).
    fn window_with_capacity(&self, values: usize) -> FeatureWindow {
        FeatureWindow {
            config: *self,
            buf: VecDeque::with_capacity(self.warmup().min(values)),
            short: RunningStats::new(),
            long: RunningStats::new(),
            std: RunningStats::new(),
            pushed: 0,
            removed_max: 0.0,
        }
    }
    /// Features of a whole series: one entry per input point, `None` until every window is full
    /// (the first `warmup() - 1` points, the rows pandas' `dropna()` removes) and for non-finite
    /// values, which are skipped without entering the windows.
    pub fn extract(&self, values: &[f64]) -> Vec<Option<[f64; 4]>> {
        let mut w = self.window_with_capacity(values.len());
        values.iter().map(|&v| w.push(v)).collect()
    }
}

/// The rolling state of one metric's features: O(1) per point, at most `warmup()` values kept.
///
/// ```
/// use aiops_anomaly::FeatureConfig;
/// let mut w = FeatureConfig::default().window();
/// let mut last = None;
/// for i in 1..=15 {
///     last = w.push(f64::from(i));
/// }
/// let [value, ma_5, ma_15, std_5] = last.unwrap();
/// assert_eq!((value, ma_5, ma_15), (15.0, 13.0, 8.0));
/// assert!((std_5 - 2.5f64.sqrt()).abs() < 1e-12); // sample std of 11..=15
/// ```
///
/// With the `serde` feature, deserializing checks the buffer (at most `warmup()` values, all
/// finite, no more than were accepted) and recomputes the running sums from it, so a window
/// that was edited or comes from another version gives the features of its values or an error.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "FeatureWindowFields"))]
pub struct FeatureWindow {
    config: FeatureConfig,
    buf: VecDeque<f64>,
    short: RunningStats,
    long: RunningStats,
    std: RunningStats,
    pushed: u64,
    /// The largest magnitude removed from the accumulators since they were last rebuilt: a
    /// removal's rounding error scales with it.
    #[cfg_attr(feature = "serde", serde(default))]
    removed_max: f64,
}

/// The unchecked serialized form of [`FeatureWindow`]: the derived reader took any buffer and
/// sums, so a buffer longer than the windows grew without bound and sums that did not match
/// it gave wrong features (an `ma_5` of -4 for values 0 to 19) without an error.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct FeatureWindowFields {
    config: FeatureConfig,
    buf: VecDeque<f64>,
    // Read for the format's sake; recomputed from `buf`.
    #[allow(dead_code)]
    short: RunningStats,
    #[allow(dead_code)]
    long: RunningStats,
    #[allow(dead_code)]
    std: RunningStats,
    pushed: u64,
    #[serde(default)]
    #[allow(dead_code)]
    removed_max: f64,
}

#[cfg(feature = "serde")]
impl TryFrom<FeatureWindowFields> for FeatureWindow {
    type Error = crate::error::AnomalyError;
    fn try_from(f: FeatureWindowFields) -> Result<Self> {
        if f.buf.len() > f.config.warmup() {
            return Err(invalid(
                "buf",
                f.buf.len(),
                "holds more values than the longest window",
            ));
        }
        if let Some(i) = f.buf.iter().position(|v| !v.is_finite()) {
            return Err(crate::error::AnomalyError::NonFinite {
                row: i,
                column: 0,
                value: f.buf[i],
            });
        }
        if f.pushed < f.buf.len() as u64 {
            return Err(invalid(
                "pushed",
                f.pushed,
                "is less than the number of values in the buffer",
            ));
        }
        let mut w = f.config.window_with_capacity(0);
        w.buf = f.buf;
        w.pushed = f.pushed;
        w.rebuild();
        Ok(w)
    }
}

impl FeatureWindow {
    /// Adds a value; returns `[value, ma_short, ma_long, std]` once every window is full.
    /// Non-finite values are skipped (state untouched) and return `None`.
    pub fn push(&mut self, v: f64) -> Option<[f64; 4]> {
        if !v.is_finite() {
            return None;
        }
        let cap = self.config.warmup();
        let n = self.buf.len();
        // Values leaving each window: the one `w` places back from the new end.
        for (w, acc) in [
            (self.config.short_ma, &mut self.short),
            (self.config.long_ma, &mut self.long),
            (self.config.std_window, &mut self.std),
        ] {
            if n >= w {
                let x = self.buf[n - w];
                acc.remove(x);
                self.removed_max = self.removed_max.max(x.abs());
            }
        }
        if n == cap {
            self.buf.pop_front();
        }
        self.buf.push_back(v);
        self.short.push(v);
        self.long.push(v);
        self.std.push(v);
        self.pushed += 1;
        // Rebuild the accumulators from the buffer now and then so rounding from removals
        // cannot accumulate over long streams, and at once when a removed value was so large
        // against what stays that its removal's rounding error swamps the rest (a spike of 1e20
        // in a series at 10 left the features wrong for up to 4,096 points).
        if self.pushed.is_multiple_of(4096) || self.removal_may_have_swamped() {
            self.rebuild();
        }
        self.current()
    }

    /// Whether a removal since the last rebuild may have left an accumulator off by more than
    /// about 1e-6 of its values' scale: the error of removing `x` is about `eps * x^2` in the
    /// second moment, so this holds once a removed magnitude exceeds 1,000 times the root mean
    /// square of what an accumulator now holds (or anything is not finite).
    fn removal_may_have_swamped(&self) -> bool {
        if self.removed_max == 0.0 {
            return false;
        }
        let big = self.removed_max * self.removed_max;
        [&self.short, &self.long, &self.std].iter().any(|acc| {
            let (Some(mean), Some(var)) = (acc.mean(), acc.population_variance()) else {
                return false;
            };
            // NaN or infinity count as swamped.
            let bound = 1e6 * (var + mean * mean);
            !big.is_finite() || !bound.is_finite() || big > bound
        })
    }

    fn rebuild(&mut self) {
        let n = self.buf.len();
        let acc = |w: usize| {
            let mut s = RunningStats::new();
            for &x in self.buf.iter().skip(n.saturating_sub(w)) {
                s.push(x);
            }
            s
        };
        self.short = acc(self.config.short_ma);
        self.long = acc(self.config.long_ma);
        self.std = acc(self.config.std_window);
        self.removed_max = 0.0;
    }

    /// The current feature row, `None` during warm-up.
    pub fn current(&self) -> Option<[f64; 4]> {
        if self.buf.len() < self.config.warmup() {
            return None;
        }
        Some([
            *self.buf.back()?,
            self.short.mean()?,
            self.long.mean()?,
            self.std.std_dev()?,
        ])
    }

    /// How many finite values the window has accepted.
    pub(crate) fn accepted(&self) -> u64 {
        self.pushed
    }

    /// The configuration this window follows.
    pub fn config(&self) -> FeatureConfig {
        self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spike_leaves_no_trace_once_out_of_the_windows() {
        // Removing 1e20 from the running moments left them off by ~1e4 until the next rebuild,
        // 4,096 points later; the windows are exact again as soon as the spike has left them.
        for spike in [1e10, 1e20, 1e300] {
            let mut v = vec![10.0; 5000];
            v[50] = spike;
            let rows = FeatureConfig::default().extract(&v);
            for (i, r) in rows.iter().enumerate().skip(65) {
                assert_eq!(*r, Some([10.0, 10.0, 10.0, 0.0]), "spike {spike}, row {i}");
            }
        }
    }

    /// Direct O(w) computation, as pandas does it.
    fn naive(values: &[f64], i: usize) -> [f64; 4] {
        let mean = |w: usize| values[i + 1 - w..=i].iter().sum::<f64>() / w as f64;
        let m5 = mean(5);
        let var = values[i - 4..=i]
            .iter()
            .map(|x| (x - m5).powi(2))
            .sum::<f64>()
            / 4.0;
        [values[i], m5, mean(15), var.sqrt()]
    }

    #[test]
    fn matches_direct_rolling_computation() {
        let values: Vec<f64> = (0..10_000)
            .map(|i| 1e6 + f64::from((i * 37) % 101) * 0.5)
            .collect();
        let feats = FeatureConfig::default().extract(&values);
        assert!(feats[..14].iter().all(Option::is_none));
        for (i, f) in feats.iter().enumerate().skip(14) {
            let got = f.unwrap();
            let want = naive(&values, i);
            for k in 0..4 {
                assert!(
                    (got[k] - want[k]).abs() < 1e-6,
                    "i={i} k={k} {got:?} {want:?}"
                );
            }
        }
    }

    #[test]
    fn skips_non_finite_and_validates() {
        let mut w = FeatureConfig::default().window();
        for i in 0..15 {
            w.push(f64::from(i));
        }
        let before = w.current();
        assert_eq!(w.push(f64::NAN), None);
        assert_eq!(w.current(), before);
        assert!(FeatureConfig::try_new(5, 15, 1).is_err());
        assert!(FeatureConfig::try_new(0, 15, 5).is_err());
        assert_eq!(FeatureConfig::try_new(3, 4, 2).unwrap().warmup(), 4);
    }

    #[test]
    fn windows_longer_than_the_data_allocate_nothing_extra_and_yield_none() {
        let huge = FeatureConfig::try_new(usize::MAX, 1, 2).unwrap();
        assert_eq!(huge.warmup(), usize::MAX);
        // used to panic: VecDeque::with_capacity(usize::MAX)
        assert_eq!(huge.extract(&[1.0, 2.0, 3.0]), vec![None; 3]);
        assert!(huge.extract(&[]).is_empty());
        let mut w = huge.window();
        assert!(w.buf.capacity() <= 2 * PREALLOCATED_VALUES);
        assert_eq!(w.push(1.0), None);
        assert_eq!(w.current(), None);
        // a window one longer than the data: all None; as long as the data: the last row only
        let values: Vec<f64> = (1..=6).map(f64::from).collect();
        let long = FeatureConfig::try_new(2, 7, 2).unwrap().extract(&values);
        assert!(long.iter().all(Option::is_none));
        let exact = FeatureConfig::try_new(2, 6, 2).unwrap().extract(&values);
        assert!(exact[..5].iter().all(Option::is_none));
        // value 6, mean of 5..=6, mean of 1..=6, sample std of 5..=6
        let got = exact[5].unwrap();
        for (g, w) in got.iter().zip([6.0, 5.5, 3.5, 0.5f64.sqrt()]) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
    }

    #[cfg(feature = "serde")]
    #[test]
    fn deserializing_checks_the_windows() {
        let ok: FeatureConfig =
            serde_json::from_str(r#"{"short_ma":3,"long_ma":4,"std_window":2}"#).unwrap();
        assert_eq!(ok, FeatureConfig::try_new(3, 4, 2).unwrap());
        let e =
            serde_json::from_str::<FeatureConfig>(r#"{"short_ma":0,"long_ma":4,"std_window":2}"#)
                .unwrap_err();
        assert!(e.to_string().contains("short_ma"), "{e}");
    }

    #[cfg(feature = "serde")]
    #[test]
    fn deserializing_a_window_checks_its_buffer_and_recomputes_its_sums() {
        let mut w = FeatureConfig::default().window();
        for i in 0..20 {
            w.push(f64::from(i));
        }
        let good = serde_json::to_value(&w).unwrap();
        let mut back: FeatureWindow = serde_json::from_value(good.clone()).unwrap();
        assert_eq!(back.current(), w.current());
        assert_eq!(back.push(20.0), w.push(20.0));
        // Sums that do not match the buffer gave wrong features (`ma_5` 19.5 for 11 after
        // 0..=10; `ma_5` -4 for 2 with a long buffer): they are recomputed.
        let mut v = good.clone();
        v["short"] = serde_json::json!({"n": 5, "mean": 1000.0, "m2": 7.0});
        let mut back: FeatureWindow = serde_json::from_value(v).unwrap();
        let mut fresh = FeatureConfig::default().window();
        for i in 0..20 {
            fresh.push(f64::from(i));
        }
        assert_eq!(back.push(20.0), fresh.push(20.0));
        for (field, value, needle) in [
            (
                "buf",
                serde_json::json!((0..40).collect::<Vec<i32>>()),
                "buf",
            ),
            ("pushed", serde_json::json!(3), "pushed"),
        ] {
            let mut v = good.clone();
            v[field] = value;
            let e = serde_json::from_value::<FeatureWindow>(v).unwrap_err();
            assert!(e.to_string().contains(needle), "{field}: {e}");
        }
        // JSON has no NaN; other formats do.
        let nan = FeatureWindowFields {
            config: FeatureConfig::default(),
            buf: [1.0, f64::NAN].into(),
            short: RunningStats::new(),
            long: RunningStats::new(),
            std: RunningStats::new(),
            pushed: 2,
            removed_max: 0.0,
        };
        assert!(matches!(
            FeatureWindow::try_from(nan),
            Err(crate::error::AnomalyError::NonFinite { row: 1, .. })
        ));
    }
}
