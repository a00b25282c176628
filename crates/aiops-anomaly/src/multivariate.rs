//! Multivariate detector: distance to the nearest k-means centre of standardised metric vectors.

use linfa::traits::Fit;
use linfa_clustering::KMeans;
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{AnomalyError, Result, invalid};
use crate::streaming::z_to_score;

/// Parameters of the multivariate detector: `k` clusters (default 4), seed 42, and the training
/// distance quantile that scores 0.5 (default 0.99).
///
/// Each column is standardised by its training mean and standard deviation (so latency in ms and
/// error rate in percent weigh alike), k-means (linfa-clustering, k-means++ initialisation)
/// learns the normal operating modes, and a vector's score is
/// `z_to_score(3 * d / d_q)`, `d` being its distance to the nearest centre and `d_q` the
/// `quantile` of the training vectors' distances.
///
/// Scores do not depend on the columns' units: multiplying a column (training and scored rows
/// alike) by any positive factor leaves them as they are. A column constant in training has no
/// spread of its own: one at `c != 0` counts 0.1% of `|c|` as one standard deviation (as the
/// streaming detectors' relative floor), one at exactly 0 has no scale at all, so any other
/// value there scores 1.
///
/// ```
/// use aiops_anomaly::MultivariateDetector;
/// // Two normal modes of (cpu, latency): idle and busy.
/// let mut rows = Vec::new();
/// for i in 0..400 {
///     let j = f64::from(i % 10) * 0.1;
///     if i % 2 == 0 { rows.extend([10.0 + j, 50.0 + j]) } else { rows.extend([80.0 + j, 200.0 + j]) }
/// }
/// let model = MultivariateDetector::new().fit(&rows, 2)?;
/// assert!(model.score_row(&[10.5, 50.5])? < 0.5);
/// // High cpu with idle latency fits neither mode.
/// assert!(model.score_row(&[80.0, 50.0])? > 0.9);
/// # Ok::<(), aiops_anomaly::AnomalyError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MultivariateDetector {
    k: usize,
    seed: u64,
    quantile: f64,
}

impl Default for MultivariateDetector {
    fn default() -> Self {
        Self {
            k: 4,
            seed: 42,
            quantile: 0.99,
        }
    }
}

impl MultivariateDetector {
    /// Default parameters.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of clusters (at least 1).
    #[must_use]
    pub fn k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }
    /// Random seed for the k-means initialisation.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Training distance quantile that scores 0.5, in `(0, 1)`.
    #[must_use]
    pub fn quantile(mut self, q: f64) -> Self {
        self.quantile = q;
        self
    }
    /// Validates the parameters.
    pub fn check(&self) -> Result<()> {
        if self.k == 0 {
            return Err(invalid("k", self.k, "must be at least 1"));
        }
        if !(self.quantile > 0.0 && self.quantile < 1.0) {
            return Err(invalid("quantile", self.quantile, "must be in (0, 1)"));
        }
        Ok(())
    }

    /// Fits on a row-major `n x n_features` matrix (finite values, at least `k` rows).
    pub fn fit(&self, data: &[f64], n_features: usize) -> Result<FittedMultivariate> {
        self.check()?;
        if n_features == 0 {
            return Err(invalid("n_features", 0, "must be at least 1"));
        }
        if !data.len().is_multiple_of(n_features) {
            return Err(AnomalyError::Shape {
                expected: n_features,
                got: data.len() % n_features,
            });
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(AnomalyError::NonFinite {
                row: i / n_features,
                column: i % n_features,
                value: data[i],
            });
        }
        let n = data.len() / n_features;
        if n < self.k.max(2) {
            return Err(AnomalyError::NotEnoughData {
                needed: self.k.max(2),
                got: n,
            });
        }
        let mut mean = vec![0.0; n_features];
        let mut sd = vec![0.0; n_features];
        let mut unit = vec![1.0; n_features];
        for c in 0..n_features {
            // In units of the column's largest magnitude, so the spread of values near
            // `f64::MAX` stays finite (it overflowed from about 1e155, every z became 0 and the
            // column was ignored).
            let top = (0..n)
                .map(|r| data[r * n_features + c].abs())
                .fold(0.0, f64::max);
            if top > 0.0 {
                unit[c] = top;
            }
            let mut s = aiops_core::stats::RunningStats::new();
            for r in 0..n {
                s.push(data[r * n_features + c] / unit[c]);
            }
            mean[c] = s.mean().unwrap_or(0.0);
            let v = s.std_dev().unwrap_or(0.0);
            // Relative floors only: the spread used to be floored at 1e-12 of the column's
            // unit and replaced by one unit, so a column at 1e-11 with a spread of 1e-13 was
            // ignored, while the same column at 1 counted.
            sd[c] = if v > 1e-12 * mean[c].abs() {
                v
            } else {
                // Constant: 0.1% of its level is one sd; 0 if the column is all 0 (no scale).
                1e-3 * mean[c].abs()
            };
        }
        let z: Vec<f64> = data
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let c = i % n_features;
                standardise(v, unit[c], mean[c], sd[c])
            })
            .collect();
        let arr = Array2::from_shape_vec((n, n_features), z.clone())
            .map_err(|e| AnomalyError::Clustering(e.to_string()))?;
        let dataset = linfa::DatasetBase::from(arr);
        let km = KMeans::params_with_rng(self.k, ChaCha8Rng::seed_from_u64(self.seed))
            .n_runs(3)
            .max_n_iterations(200)
            .fit(&dataset)
            .map_err(|e| AnomalyError::Clustering(e.to_string()))?;
        let centres: Vec<f64> = km.centroids().iter().copied().collect();
        let mut model = FittedMultivariate {
            unit,
            mean,
            sd,
            centres,
            n_features,
            scale: 1.0,
        };
        let mut d: Vec<f64> = z.chunks(n_features).map(|r| model.nearest(r)).collect();
        let q = aiops_core::stats::quantile(&mut d, self.quantile).unwrap_or(1.0);
        model.scale = if q > 1e-12 { q } else { 1e-12 };
        Ok(model)
    }
}

/// `(x / unit - mean) / sd`; for a column without a scale (`sd` 0: all 0 in training), 0 for
/// its value and an infinite distance for any other.
fn standardise(x: f64, unit: f64, mean: f64, sd: f64) -> f64 {
    let u = x / unit - mean;
    if sd > 0.0 {
        u / sd
    } else if u == 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// A fitted multivariate detector: immutable, `Send + Sync`.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedMultivariate {
    /// Per column, the unit `mean` and `sd` are in (its largest training magnitude).
    unit: Vec<f64>,
    mean: Vec<f64>,
    sd: Vec<f64>,
    centres: Vec<f64>,
    n_features: usize,
    scale: f64,
}

impl FittedMultivariate {
    fn nearest(&self, z: &[f64]) -> f64 {
        self.centres
            .chunks(self.n_features)
            .map(|c| c.iter().zip(z).map(|(a, b)| (a - b) * (a - b)).sum::<f64>())
            .fold(f64::INFINITY, f64::min)
            .sqrt()
    }
    /// Number of cluster centres.
    pub fn n_clusters(&self) -> usize {
        self.centres.len() / self.n_features
    }
    /// Score in `[0, 1]` of one vector of the training width. Non-finite entries are an error.
    pub fn score_row(&self, row: &[f64]) -> Result<f64> {
        if row.len() != self.n_features {
            return Err(AnomalyError::Shape {
                expected: self.n_features,
                got: row.len(),
            });
        }
        if let Some(i) = row.iter().position(|v| !v.is_finite()) {
            return Err(AnomalyError::NonFinite {
                row: 0,
                column: i,
                value: row[i],
            });
        }
        let z: Vec<f64> = row
            .iter()
            .enumerate()
            .map(|(i, &v)| standardise(v, self.unit[i], self.mean[i], self.sd[i]))
            .collect();
        Ok(z_to_score(3.0 * self.nearest(&z) / self.scale))
    }
    /// Scores of every row of a row-major matrix.
    pub fn score(&self, data: &[f64]) -> Result<Vec<f64>> {
        if !data.len().is_multiple_of(self.n_features) {
            return Err(AnomalyError::Shape {
                expected: self.n_features,
                got: data.len() % self.n_features,
            });
        }
        data.chunks(self.n_features)
            .map(|r| self.score_row(r))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibrated_and_validated() {
        let rows: Vec<f64> = (0..500)
            .flat_map(|i| [f64::from(i % 13), f64::from(i % 7) * 100.0])
            .collect();
        let m = MultivariateDetector::new().fit(&rows, 2).unwrap();
        let s = m.score(&rows).unwrap();
        // About 1% of training rows score above 0.5 by construction.
        let above = s.iter().filter(|&&x| x > 0.5).count();
        assert!(above <= 10, "{above}");
        assert!(s.iter().all(|x| (0.0..=1.0).contains(x)));
        assert!(m.score_row(&[1.0]).is_err());
        assert!(m.score_row(&[f64::NAN, 1.0]).is_err());
        assert!(MultivariateDetector::new().k(0).check().is_err());
        assert!(MultivariateDetector::new().fit(&rows[..3], 2).is_err());
        assert_eq!(m.n_clusters(), 4);
    }

    #[test]
    fn scores_do_not_depend_on_the_unit() {
        // Column 2 at 1e-11 with a spread of 1e-13 was ignored (its spread fell below 1e-12 of
        // one unit and was replaced by one unit), so an outlier there scored as a normal row.
        let base: Vec<[f64; 3]> = (0..400)
            .map(|i| {
                let j = f64::from(i % 10) * 0.1;
                [10.0 + j, 100.0 + f64::from((i * 7) % 11) * 0.1, 5.0]
            })
            .collect();
        let queries = [[10.5, 100.5, 5.0], [10.5, 120.0, 5.0], [10.5, 100.5, 5.5]];
        let score = |unit: f64| {
            let rows: Vec<f64> = base
                .iter()
                .flat_map(|r| [r[0], r[1] * unit, r[2] * unit])
                .collect();
            let m = MultivariateDetector::new().fit(&rows, 3).unwrap();
            queries
                .iter()
                .map(|q| m.score_row(&[q[0], q[1] * unit, q[2] * unit]).unwrap())
                .collect::<Vec<_>>()
        };
        let want = score(1.0);
        assert!(
            want[0] < 0.6 && want[1] > 0.99 && want[2] > 0.99,
            "{want:?}"
        );
        for e in (-30..=30).chain([-300, -200, -100, 100, 200, 300]) {
            let unit = 10f64.powi(e);
            let got = score(unit);
            for (g, w) in got.iter().zip(&want) {
                // Equal up to k-means' convergence on data rounded differently.
                assert!((g - w).abs() < 1e-6, "unit 1e{e}: {got:?} against {want:?}");
            }
        }
    }

    #[test]
    fn constant_columns_have_a_relative_scale_or_none() {
        // Two modes in column 0; column 1 constant at 50, column 2 at 0.
        let rows: Vec<f64> = (0..200)
            .flat_map(|i| {
                let j = f64::from(i % 10) * 0.1;
                [if i % 2 == 0 { 10.0 } else { 80.0 } + j, 50.0, 0.0]
            })
            .collect();
        let m = MultivariateDetector::new().k(2).fit(&rows, 3).unwrap();
        let normal = m.score_row(&[10.45, 50.0, 0.0]).unwrap();
        assert!(normal < 0.5, "{normal}");
        // 0.1% of 50 is one sd (in original units), the all-zero column has none.
        assert!((m.sd[1] * m.unit[1] - 0.05).abs() < 1e-15, "{:?}", m.sd);
        assert_eq!(m.sd[2], 0.0);
        assert!(m.score_row(&[10.45, 51.0, 0.0]).unwrap() > 0.9);
        // Any value off an all-zero column scores 1, whatever its size.
        for x in [1e-300, -1.0, 1e300] {
            assert_eq!(m.score_row(&[10.45, 50.0, x]).unwrap(), 1.0, "{x}");
        }
    }

    #[test]
    fn huge_columns_still_count() {
        // The same data scaled to 1e200 (its spread overflowed `f64` and the column was
        // ignored): an outlier in that column still stands out, and the scores match.
        let mut first = None;
        for unit in [1.0, 1e200, 1e300] {
            let rows: Vec<f64> = (0..500)
                .flat_map(|i| [f64::from(i % 13), f64::from(i % 7) * unit])
                .collect();
            let m = MultivariateDetector::new().fit(&rows, 2).unwrap();
            let normal = m.score_row(&[6.0, 3.0 * unit]).unwrap();
            let outlier = m.score_row(&[6.0, 60.0 * unit]).unwrap();
            assert!(outlier > 0.99 && normal < 0.6, "{unit}: {normal} {outlier}");
            let &mut f = first.get_or_insert(normal);
            assert!((normal - f).abs() < 1e-9, "{unit}: {normal} against {f}");
        }
    }
}
