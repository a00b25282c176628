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
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
        self.n += 1;
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
        let n = (self.n + other.n) as f64;
        let d = other.mean - self.mean;
        self.m2 += other.m2 + d * d * self.n as f64 * other.n as f64 / n;
        self.mean += d * other.n as f64 / n;
        self.n += other.n;
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
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
        self.n += 1;
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
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
        self.n += 1;
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
}
