//! Small numeric primitives shared by the capability crates, so they exist once.
//!
//! All functions skip nothing silently: they take finite input (the callers validate) and
//! return `None` where a statistic is undefined (empty input, fewer than two points).

/// Scale factor that turns a median absolute deviation into a consistent estimate of the
/// standard deviation for normal data (1 / Φ⁻¹(3/4)).
pub const MAD_TO_SIGMA: f64 = 1.482_602_218_505_602;

/// Running mean and variance by Welford's update: numerically stable on large values, where
/// running sums of squares lose all precision.
///
/// ```
/// use aiops_core::stats::RunningStats;
/// let mut s = RunningStats::new();
/// for x in [1e9 + 4.0, 1e9 + 7.0, 1e9 + 13.0, 1e9 + 16.0] { s.push(x); }
/// assert_eq!(s.mean(), Some(1e9 + 10.0));
/// assert_eq!(s.variance(), Some(30.0)); // sample variance (ddof = 1)
/// ```
///
/// With the `serde` feature it deserialises only states that pushes can reach: a NaN `mean`,
/// an `m2` (the sum of squared deviations) that is negative or NaN, or a non-zero `m2` with no
/// observations is an error naming the field.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RunningStats {
    n: u64,
    mean: f64,
    m2: f64,
}

impl RunningStats {
    /// No observations yet.
    pub const fn new() -> Self {
        RunningStats {
            n: 0,
            mean: 0.0,
            m2: 0.0,
        }
    }
    /// Adds an observation.
    pub fn push(&mut self, x: f64) {
        // Saturating, as every count here: a deserialised count may be `u64::MAX`, which no
        // pushes reach; `+= 1` panicked there (and wrapped to 0 in release, dividing by it).
        self.n = self.n.saturating_add(1);
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }
    /// Removes an earlier observation (for sliding windows). Removing a value that was never
    /// added gives meaningless results; variance is clamped at zero against rounding.
    pub fn remove(&mut self, x: f64) {
        match self.n {
            0 => {}
            1 => *self = RunningStats::new(),
            _ => {
                let n = self.n as f64;
                let old_mean = (n * self.mean - x) / (n - 1.0);
                self.m2 = (self.m2 - (x - self.mean) * (x - old_mean)).max(0.0);
                self.mean = old_mean;
                self.n -= 1;
            }
        }
    }
    /// Merges another accumulator (Chan et al.'s parallel update).
    pub fn merge(&mut self, other: &RunningStats) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let n = self.n as f64 + other.n as f64;
        let d = other.mean - self.mean;
        self.m2 += other.m2 + d * d * self.n as f64 * other.n as f64 / n;
        self.mean += d * other.n as f64 / n;
        self.n = self.n.saturating_add(other.n);
    }
    /// Number of observations.
    pub const fn count(&self) -> u64 {
        self.n
    }
    /// Mean, `None` when empty.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }
    /// Sample variance (ddof = 1, as pandas' `std`), `None` below two observations.
    pub fn variance(&self) -> Option<f64> {
        (self.n > 1).then(|| self.m2 / (self.n - 1) as f64)
    }
    /// Population variance (ddof = 0), `None` when empty.
    pub fn population_variance(&self) -> Option<f64> {
        (self.n > 0).then(|| self.m2 / self.n as f64)
    }
    /// Sample standard deviation (ddof = 1).
    pub fn std_dev(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }
}

/// Exponentially weighted moving mean and variance (the incremental form of West, 1979).
///
/// `alpha` in `(0, 1]` is the weight of the newest observation. The first observation sets the
/// mean, with variance zero.
///
/// With the `serde` feature it deserialises through the checks of [`Ewma::new`]: an `alpha`
/// outside `(0, 1]`, a NaN `mean` or a `var` that is negative or NaN is an error naming the
/// field.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Ewma {
    alpha: f64,
    mean: f64,
    var: f64,
    n: u64,
}

impl Ewma {
    /// A new average with weight `alpha`; `None` unless `0 < alpha <= 1`.
    pub fn new(alpha: f64) -> Option<Self> {
        (alpha > 0.0 && alpha <= 1.0).then_some(Ewma {
            alpha,
            mean: 0.0,
            var: 0.0,
            n: 0,
        })
    }
    /// The weight for a given half-life in observations: `1 - 2^(-1/half_life)`.
    pub fn alpha_for_half_life(half_life: f64) -> f64 {
        1.0 - (-std::f64::consts::LN_2 / half_life).exp()
    }
    /// Adds an observation.
    pub fn update(&mut self, x: f64) {
        if self.n == 0 {
            self.mean = x;
            self.var = 0.0;
        } else {
            let d = x - self.mean;
            let incr = self.alpha * d;
            self.mean += incr;
            self.var = (1.0 - self.alpha) * (self.var + d * incr);
        }
        self.n = self.n.saturating_add(1);
    }
    /// The weight of the newest observation.
    pub const fn alpha(&self) -> f64 {
        self.alpha
    }
    /// Number of observations.
    pub const fn count(&self) -> u64 {
        self.n
    }
    /// The weighted mean, `None` when empty.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }
    /// The weighted variance, `None` when empty.
    pub fn variance(&self) -> Option<f64> {
        (self.n > 0).then_some(self.var)
    }
}

/// The `q`-quantile (`0 <= q <= 1`) with linear interpolation between order statistics (numpy's
/// default, Hyndman & Fan type 7). Reorders `data`. `None` when empty or `q` is outside `[0, 1]`.
pub fn quantile(data: &mut [f64], q: f64) -> Option<f64> {
    if data.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let len = data.len();
    let h = q * (len - 1) as f64;
    let lo = h.floor() as usize;
    let (_, &mut x_lo, upper) = data.select_nth_unstable_by(lo, f64::total_cmp);
    if lo + 1 >= len || h == lo as f64 {
        return Some(x_lo);
    }
    let x_hi = upper.iter().copied().min_by(f64::total_cmp)?;
    let f = h - lo as f64;
    let gap = x_hi - x_lo;
    // Values of opposite sign near f64::MAX: their difference overflows, their weighted sum
    // does not.
    Some(if gap.is_finite() {
        x_lo + f * gap
    } else {
        x_lo * (1.0 - f) + x_hi * f
    })
}

/// The median (average of the two middle values for even lengths). Reorders `data`.
pub fn median(data: &mut [f64]) -> Option<f64> {
    quantile(data, 0.5)
}

/// The median absolute deviation from the median (unscaled; multiply by [`MAD_TO_SIGMA`] for a
/// standard-deviation estimate). Returns `(median, mad)`. Reorders `data`.
pub fn median_mad(data: &mut [f64]) -> Option<(f64, f64)> {
    let m = median(data)?;
    let mut dev: Vec<f64> = data.iter().map(|x| (x - m).abs()).collect();
    Some((m, median(&mut dev)?))
}

/// The interquartile range `q75 - q25` (type 7). Reorders `data`.
pub fn iqr(data: &mut [f64]) -> Option<f64> {
    Some(quantile(data, 0.75)? - quantile(data, 0.25)?)
}

/// Streaming quantile estimate in constant memory: the P² algorithm of Jain and Chlamtac
/// (CACM 1985), five markers adjusted by piecewise-parabolic interpolation.
///
/// Exact for the first five observations; afterwards an estimate whose error shrinks as data
/// accumulate (within a few percent of the spread for smooth distributions).
///
/// With the `serde` feature it deserialises through the checks of [`P2Quantile::new`] and the
/// markers' invariants: a `p` outside `(0, 1)`, increments `incr` that are not the ones `p`
/// gives, marker positions `pos` that do not start at 0 and rise by at least 1 (or, before five
/// observations, are not the initial ones), non-finite desired positions `desired`, or marker
/// heights `q` that are NaN or (from five observations on) out of order are an error naming
/// the field.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct P2Quantile {
    p: f64,
    q: [f64; 5],
    pos: [f64; 5],
    desired: [f64; 5],
    incr: [f64; 5],
    n: u64,
}

impl P2Quantile {
    /// An estimator of the `p`-quantile; `None` unless `0 < p < 1`.
    pub fn new(p: f64) -> Option<Self> {
        (p > 0.0 && p < 1.0).then_some(P2Quantile {
            p,
            q: [0.0; 5],
            pos: [0.0, 1.0, 2.0, 3.0, 4.0],
            desired: [0.0, 2.0 * p, 4.0 * p, 2.0 + 2.0 * p, 4.0],
            incr: [0.0, p / 2.0, p, f64::midpoint(1.0, p), 1.0],
            n: 0,
        })
    }

    /// Adds an observation (callers pass finite values).
    pub fn update(&mut self, x: f64) {
        if self.n < 5 {
            self.q[self.n as usize] = x;
            self.n += 1;
            if self.n == 5 {
                self.q.sort_unstable_by(f64::total_cmp);
            }
            return;
        }
        self.n = self.n.saturating_add(1);
        let k = if x < self.q[0] {
            self.q[0] = x;
            0
        } else if x >= self.q[4] {
            self.q[4] = x;
            3
        } else {
            (0..4).find(|&i| x < self.q[i + 1]).unwrap_or(3)
        };
        for i in k + 1..5 {
            self.pos[i] += 1.0;
        }
        for i in 0..5 {
            self.desired[i] += self.incr[i];
        }
        for i in 1..4 {
            let d = self.desired[i] - self.pos[i];
            if (d >= 1.0 && self.pos[i + 1] - self.pos[i] > 1.0)
                || (d <= -1.0 && self.pos[i - 1] - self.pos[i] < -1.0)
            {
                let s = d.signum();
                let (qm, qi, qp) = (self.q[i - 1], self.q[i], self.q[i + 1]);
                let (nm, ni, np) = (self.pos[i - 1], self.pos[i], self.pos[i + 1]);
                let parabolic = qi
                    + s / (np - nm)
                        * ((ni - nm + s) * (qp - qi) / (np - ni)
                            + (np - ni - s) * (qi - qm) / (ni - nm));
                self.q[i] = if qm < parabolic && parabolic < qp {
                    parabolic
                } else if s > 0.0 {
                    qi + (qp - qi) / (np - ni)
                } else {
                    qi - (qm - qi) / (nm - ni)
                };
                self.pos[i] += s;
            }
        }
    }

    /// The target quantile level.
    pub const fn p(&self) -> f64 {
        self.p
    }

    /// Number of observations.
    pub const fn count(&self) -> u64 {
        self.n
    }

    /// The current estimate, `None` when empty.
    pub fn estimate(&self) -> Option<f64> {
        match self.n {
            0 => None,
            n if n < 5 => {
                let mut few = self.q[..n as usize].to_vec();
                quantile(&mut few, self.p)
            }
            _ => Some(self.q[2]),
        }
    }
}

/// Deserialisation through the constructors' checks: the derived readers took any field
/// values (an `Ewma` with `alpha` 2 whose variance went negative, a `RunningStats` with a
/// negative `m2` whose standard deviation was NaN).
#[cfg(feature = "serde")]
mod serde_impl {
    use serde::{Deserialize, Deserializer};

    use super::{Ewma, P2Quantile, RunningStats};
    use crate::CoreError;

    fn invalid<E: serde::de::Error>(name: &'static str, reason: String) -> E {
        E::custom(CoreError::InvalidParameter { name, reason })
    }

    #[derive(Deserialize)]
    struct RunningStatsWire {
        n: u64,
        mean: f64,
        m2: f64,
    }

    impl<'de> Deserialize<'de> for RunningStats {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let RunningStatsWire { n, mean, m2 } = RunningStatsWire::deserialize(d)?;
            if mean.is_nan() {
                return Err(invalid("mean", "RunningStats mean is NaN".into()));
            }
            if m2.is_nan() || m2 < 0.0 {
                return Err(invalid(
                    "m2",
                    format!("RunningStats m2 (sum of squared deviations) must be >= 0, got {m2}"),
                ));
            }
            if n == 0 && m2 != 0.0 {
                return Err(invalid(
                    "m2",
                    format!("RunningStats m2 must be 0 with no observations (n = 0), got {m2}"),
                ));
            }
            Ok(RunningStats { n, mean, m2 })
        }
    }

    #[derive(Deserialize)]
    struct EwmaWire {
        alpha: f64,
        mean: f64,
        var: f64,
        n: u64,
    }

    impl<'de> Deserialize<'de> for Ewma {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let EwmaWire {
                alpha,
                mean,
                var,
                n,
            } = EwmaWire::deserialize(d)?;
            let Some(empty) = Ewma::new(alpha) else {
                return Err(invalid(
                    "alpha",
                    format!("Ewma alpha must be in (0, 1], got {alpha}"),
                ));
            };
            if mean.is_nan() {
                return Err(invalid("mean", "Ewma mean is NaN".into()));
            }
            if var.is_nan() || var < 0.0 {
                return Err(invalid(
                    "var",
                    format!("Ewma variance must be >= 0, got {var}"),
                ));
            }
            Ok(Ewma {
                mean,
                var,
                n,
                ..empty
            })
        }
    }

    #[derive(Deserialize)]
    struct P2QuantileWire {
        p: f64,
        q: [f64; 5],
        pos: [f64; 5],
        desired: [f64; 5],
        incr: [f64; 5],
        n: u64,
    }

    impl<'de> Deserialize<'de> for P2Quantile {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let P2QuantileWire {
                p,
                q,
                pos,
                desired,
                incr,
                n,
            } = P2QuantileWire::deserialize(d)?;
            let Some(empty) = P2Quantile::new(p) else {
                return Err(invalid(
                    "p",
                    format!("P2Quantile p must be in (0, 1), got {p}"),
                ));
            };
            // `incr` is a function of `p`, computed the same way here as in `new`.
            if incr != empty.incr {
                return Err(invalid(
                    "incr",
                    format!(
                        "P2Quantile increments {incr:?} are not the ones p = {p} gives ({:?})",
                        empty.incr
                    ),
                ));
            }
            if n < 5 {
                if pos != empty.pos {
                    return Err(invalid(
                        "pos",
                        format!(
                            "P2Quantile marker positions before 5 observations must be {:?}, \
                             got {pos:?}",
                            empty.pos
                        ),
                    ));
                }
                if desired != empty.desired {
                    return Err(invalid(
                        "desired",
                        format!(
                            "P2Quantile desired positions before 5 observations must be {:?}, \
                             got {desired:?}",
                            empty.desired
                        ),
                    ));
                }
            } else if pos[0] != 0.0
                || pos.iter().any(|x| !x.is_finite())
                || pos.windows(2).any(|w| w[1] - w[0] < 1.0)
            {
                return Err(invalid(
                    "pos",
                    format!(
                        "P2Quantile marker positions must start at 0 and rise by at least 1, \
                         got {pos:?}"
                    ),
                ));
            }
            if desired.iter().any(|x| !x.is_finite()) {
                return Err(invalid(
                    "desired",
                    format!("P2Quantile desired positions must be finite, got {desired:?}"),
                ));
            }
            if q.iter().any(|x| x.is_nan()) {
                return Err(invalid(
                    "q",
                    format!("P2Quantile marker heights must not be NaN, got {q:?}"),
                ));
            }
            if n >= 5 && q.windows(2).any(|w| w[0] > w[1]) {
                return Err(invalid(
                    "q",
                    format!("P2Quantile marker heights must be in order, got {q:?}"),
                ));
            }
            Ok(P2Quantile {
                q,
                pos,
                desired,
                n,
                ..empty
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_values_near_f64_max_stay_finite() {
        // The gap between -MAX and MAX overflows; the interpolation must not.
        let mut v = [-f64::MAX, f64::MAX];
        assert_eq!(median(&mut v), Some(0.0));
        let mut v = [-f64::MAX, f64::MAX, f64::MAX, -f64::MAX];
        let q = quantile(&mut v, 0.25).unwrap();
        assert!(q.is_finite() && q < 0.0, "{q}");
        // Ordinary values interpolate as before.
        let mut v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&mut v, 0.5), Some(2.5));
    }

    #[test]
    fn welford_matches_hand_computation_and_survives_large_offsets() {
        let mut s = RunningStats::new();
        assert_eq!(s.mean(), None);
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            s.push(x);
        }
        assert_eq!(s.mean(), Some(5.0));
        assert_eq!(s.population_variance(), Some(4.0));
        assert!((s.variance().unwrap() - 32.0 / 7.0).abs() < 1e-12);
        s.remove(9.0);
        assert!((s.mean().unwrap() - 31.0 / 7.0).abs() < 1e-12);
        let mut big = RunningStats::new();
        for i in 0..1000 {
            big.push(1e12 + f64::from(i % 2));
        }
        assert!((big.population_variance().unwrap() - 0.25).abs() < 1e-6);
        let (mut a, mut b) = (RunningStats::new(), RunningStats::new());
        for x in [1.0, 2.0, 3.0] {
            a.push(x);
        }
        for x in [10.0, 20.0] {
            b.push(x);
        }
        a.merge(&b);
        assert_eq!(a.mean(), Some(7.2));
        assert!((a.variance().unwrap() - 63.7).abs() < 1e-9); // numpy.var([1,2,3,10,20], ddof=1)
    }

    #[test]
    fn ewma_hand_computation() {
        let mut e = Ewma::new(0.5).unwrap();
        e.update(10.0);
        e.update(20.0);
        assert_eq!(e.mean(), Some(15.0));
        assert_eq!(e.variance(), Some(25.0)); // 0.5 * (0 + 10 * 5)
        assert!(Ewma::new(0.0).is_none() && Ewma::new(1.5).is_none());
        assert!((Ewma::alpha_for_half_life(1.0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn quantiles_match_numpy() {
        let mut d = [7.0, 1.0, 3.0, 5.0];
        assert_eq!(median(&mut d), Some(4.0));
        assert_eq!(quantile(&mut d, 0.25), Some(2.5)); // numpy.quantile([1,3,5,7], .25)
        assert_eq!(quantile(&mut d, 1.0), Some(7.0));
        assert_eq!(iqr(&mut [1.0, 2.0, 3.0, 4.0, 100.0]), Some(2.0));
        assert_eq!(
            median_mad(&mut [1.0, 1.0, 2.0, 2.0, 4.0, 6.0, 9.0]),
            Some((2.0, 1.0))
        );
        assert_eq!(median(&mut []), None);
        assert_eq!(quantile(&mut [1.0], 1.5), None);
    }

    #[test]
    fn p2_tracks_the_quantile() {
        let mut p = P2Quantile::new(0.9).unwrap();
        assert_eq!(p.estimate(), None);
        // A deterministic permutation of 0..10000.
        for i in 0..10_000u64 {
            p.update(((i * 7_919) % 10_000) as f64);
        }
        let est = p.estimate().unwrap();
        assert!((est - 9_000.0).abs() < 100.0, "{est}");
        let mut few = P2Quantile::new(0.5).unwrap();
        for x in [3.0, 1.0, 2.0] {
            few.update(x);
        }
        assert_eq!(few.estimate(), Some(2.0));
    }

    /// The derived readers took any values: `alpha` 2 (the variance then went negative), `p`
    /// 7, `m2` -5 (variance -2.5, standard deviation NaN).
    #[cfg(feature = "serde")]
    #[test]
    fn deserialising_checks_what_the_constructors_check() {
        fn err<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
            serde_json::from_str::<T>(json).unwrap_err().to_string()
        }
        // Valid states round-trip.
        let mut e = Ewma::new(0.5).unwrap();
        let mut s = RunningStats::new();
        let mut p = P2Quantile::new(0.9).unwrap();
        let mut few = P2Quantile::new(0.5).unwrap();
        for i in 0..50 {
            let x = f64::from((i * 7) % 11);
            e.update(x);
            s.push(x);
            p.update(x);
        }
        few.update(3.0);
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<Ewma>(&json).unwrap(), e);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<RunningStats>(&json).unwrap(), s);
        for q in [p, few, P2Quantile::new(0.1).unwrap()] {
            let json = serde_json::to_string(&q).unwrap();
            assert_eq!(serde_json::from_str::<P2Quantile>(&json).unwrap(), q);
        }

        // Ewma.
        let ewma = |alpha: &str, mean: &str, var: &str| {
            err::<Ewma>(&format!(
                r#"{{"alpha": {alpha}, "mean": {mean}, "var": {var}, "n": 3}}"#
            ))
        };
        for alpha in ["2", "0", "-0.5", "1.0000001"] {
            let m = ewma(alpha, "1.0", "0.5");
            assert!(
                m.contains("invalid parameter alpha") && m.contains(alpha),
                "{m}"
            );
        }
        let m = ewma("0.5", "1.0", "-1.0");
        assert!(
            m.contains("invalid parameter var") && m.contains("-1"),
            "{m}"
        );
        assert!(
            serde_json::from_str::<Ewma>(r#"{"alpha": 1.0, "mean": 1.0, "var": 0.0, "n": 3}"#)
                .is_ok()
        );

        // RunningStats.
        let m = err::<RunningStats>(r#"{"n": 3, "mean": 1.0, "m2": -5.0}"#);
        assert!(
            m.contains("invalid parameter m2") && m.contains("-5"),
            "{m}"
        );
        let m = err::<RunningStats>(r#"{"n": 0, "mean": 0.0, "m2": 4.0}"#);
        assert!(
            m.contains("invalid parameter m2") && m.contains("n = 0"),
            "{m}"
        );

        // P2Quantile: p, then each marker field of an otherwise valid state.
        let valid: serde_json::Value = serde_json::to_value(p).unwrap();
        let with = |field: &str, value: serde_json::Value| {
            let mut v = valid.clone();
            v[field] = value;
            err::<P2Quantile>(&v.to_string())
        };
        for bad_p in [7.0, 0.0, 1.0, -0.1] {
            let m = with("p", bad_p.into());
            assert!(m.contains("invalid parameter p:"), "{m}");
        }
        // A valid p whose increments are another p's.
        let m = with("p", 0.5.into());
        assert!(m.contains("invalid parameter incr"), "{m}");
        let m = with("pos", serde_json::json!([0.0, 5.0, 4.0, 20.0, 49.0]));
        assert!(m.contains("invalid parameter pos"), "{m}");
        let m = with("pos", serde_json::json!([1.0, 5.0, 10.0, 20.0, 49.0]));
        assert!(m.contains("invalid parameter pos"), "{m}");
        let m = with("q", serde_json::json!([0.0, 5.0, 4.0, 9.0, 10.0]));
        assert!(m.contains("invalid parameter q"), "{m}");
        // Before five observations the positions are the initial ones.
        let mut v = serde_json::to_value(few).unwrap();
        v["pos"] = serde_json::json!([0.0, 1.0, 2.0, 3.0, 9.0]);
        let m = err::<P2Quantile>(&v.to_string());
        assert!(m.contains("invalid parameter pos"), "{m}");
    }

    /// A count of `u64::MAX` reads (no bound is natural), and pushes after it panicked on
    /// `n += 1` (in release it wrapped to 0 and the mean became NaN).
    #[cfg(feature = "serde")]
    #[test]
    fn counts_read_at_their_largest_saturate() {
        let max = u64::MAX;
        let mut s: RunningStats =
            serde_json::from_str(&format!(r#"{{"n": {max}, "mean": 1.0, "m2": 0.0}}"#)).unwrap();
        let copy = s;
        s.push(3.0);
        s.merge(&copy);
        assert_eq!(s.count(), max);
        assert!(s.mean().unwrap().is_finite() && s.variance().unwrap().is_finite());
        let mut e: Ewma = serde_json::from_str(&format!(
            r#"{{"alpha": 0.5, "mean": 1.0, "var": 0.0, "n": {max}}}"#
        ))
        .unwrap();
        e.update(3.0);
        assert_eq!((e.count(), e.mean()), (max, Some(2.0)));
        let mut p = P2Quantile::new(0.5).unwrap();
        for x in 0..10 {
            p.update(f64::from(x));
        }
        let mut v = serde_json::to_value(p).unwrap();
        v["n"] = serde_json::json!(max);
        let mut p: P2Quantile = serde_json::from_value(v).unwrap();
        p.update(4.0);
        assert_eq!(p.count(), max);
        assert!(p.estimate().unwrap().is_finite());
    }

    /// NaN and infinities, which JSON cannot write but other formats can.
    #[cfg(feature = "serde")]
    #[test]
    fn deserialising_rejects_nan_fields() {
        use serde::de::value::{Error, MapDeserializer, SeqDeserializer};
        use serde::de::{IntoDeserializer, Visitor};

        /// A field value of a self-describing format that has NaN.
        #[derive(Clone, Copy)]
        enum Val {
            F(f64),
            U(u64),
            A([f64; 5]),
        }
        impl<'de> serde::Deserializer<'de> for Val {
            type Error = Error;
            fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
                match self {
                    Val::F(x) => v.visit_f64(x),
                    Val::U(n) => v.visit_u64(n),
                    Val::A(a) => v.visit_seq(SeqDeserializer::new(a.into_iter())),
                }
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
                byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
                struct enum identifier ignored_any
            }
        }
        impl IntoDeserializer<'_, Error> for Val {
            type Deserializer = Self;
            fn into_deserializer(self) -> Self {
                self
            }
        }
        fn read<T: serde::de::DeserializeOwned>(fields: &[(&'static str, Val)]) -> String {
            match T::deserialize(MapDeserializer::new(fields.iter().copied())) {
                Ok(_) => "accepted".to_owned(),
                Err(e) => e.to_string(),
            }
        }
        use Val::{A, F, U};

        let ewma = |alpha, mean, var| {
            read::<Ewma>(&[
                ("alpha", F(alpha)),
                ("mean", F(mean)),
                ("var", F(var)),
                ("n", U(2)),
            ])
        };
        assert_eq!(ewma(0.5, 1.0, 0.0), "accepted");
        assert!(ewma(f64::NAN, 1.0, 0.0).contains("invalid parameter alpha"));
        assert!(ewma(0.5, f64::NAN, 0.0).contains("invalid parameter mean"));
        assert!(ewma(0.5, 1.0, f64::NAN).contains("invalid parameter var"));

        let stats =
            |mean, m2| read::<RunningStats>(&[("n", U(2)), ("mean", F(mean)), ("m2", F(m2))]);
        assert_eq!(stats(1.0, 0.5), "accepted");
        assert!(stats(f64::NAN, 0.5).contains("invalid parameter mean"));
        assert!(stats(1.0, f64::NAN).contains("invalid parameter m2"));

        let p = P2Quantile::new(0.5).unwrap();
        let p2 = |q: [f64; 5], desired: [f64; 5], pos: [f64; 5]| {
            read::<P2Quantile>(&[
                ("p", F(0.5)),
                ("q", A(q)),
                ("pos", A(pos)),
                ("desired", A(desired)),
                ("incr", A(p.incr)),
                ("n", U(9)),
            ])
        };
        let (q, desired, pos) = (
            [1.0, 2.0, 3.0, 4.0, 5.0],
            [0.0, 4.0, 8.0, 12.0, 8.0],
            [0.0, 2.0, 4.0, 6.0, 8.0],
        );
        assert_eq!(p2(q, desired, pos), "accepted");
        assert!(p2([1.0, f64::NAN, 3.0, 4.0, 5.0], desired, pos).contains("invalid parameter q"));
        let inf = [0.0, 4.0, 8.0, 12.0, f64::INFINITY];
        assert!(p2(q, inf, pos).contains("invalid parameter desired"));
        let nan_pos = [0.0, 2.0, f64::NAN, 6.0, 8.0];
        assert!(p2(q, desired, nan_pos).contains("invalid parameter pos"));
    }
}
