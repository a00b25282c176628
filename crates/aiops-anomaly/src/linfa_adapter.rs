//! linfa integration (feature `linfa`): [`IsolationForest`] implements `linfa::traits::Fit` and
//! [`FittedIsolationForest`] implements `linfa::traits::PredictInplace`, so the forest drops into
//! linfa pipelines.
//!
//! ```
//! use aiops_anomaly::IsolationForest;
//! use linfa::traits::{Fit, Predict};
//! use ndarray::Array2;
//! let mut rows: Vec<f64> = (0..400).map(|i| f64::from(i % 20)).collect();
//! rows.extend([500.0, 500.0]);
//! let x = Array2::from_shape_vec((201, 2), rows).unwrap();
//! // Inherent `fit`/`predict` take flat slices; call the linfa traits by path.
//! let model = Fit::fit(&IsolationForest::new(), &linfa::DatasetBase::from(x.clone()))?;
//! let outlier: ndarray::Array1<bool> = Predict::predict(&model, &x);
//! assert!(outlier[200]);
//! # Ok::<(), aiops_anomaly::AnomalyError>(())
//! ```

use linfa::DatasetBase;
use linfa::traits::{Fit, PredictInplace};
use ndarray::{Array1, Array2};

use crate::error::AnomalyError;
use crate::iforest::{FittedIsolationForest, IsolationForest};

impl From<linfa::error::Error> for AnomalyError {
    fn from(e: linfa::error::Error) -> Self {
        AnomalyError::Linfa(e.to_string())
    }
}

impl<T> Fit<Array2<f64>, T, AnomalyError> for IsolationForest {
    type Object = FittedIsolationForest;

    fn fit(&self, dataset: &DatasetBase<Array2<f64>, T>) -> Result<Self::Object, AnomalyError> {
        let x = &dataset.records;
        let flat: Vec<f64> = x.rows().into_iter().flatten().copied().collect();
        IsolationForest::fit(self, &flat, x.ncols())
    }
}

impl PredictInplace<Array2<f64>, Array1<bool>> for FittedIsolationForest {
    /// `true` for outliers (sklearn's `-1`). Rows that cannot be scored (wrong width or
    /// non-finite values; linfa's trait has no error channel) predict `false`: check inputs
    /// with [`FittedIsolationForest::predict`] when that matters.
    fn predict_inplace(&self, x: &Array2<f64>, y: &mut Array1<bool>) {
        let flat: Vec<f64> = x.rows().into_iter().flatten().copied().collect();
        if x.ncols() == self.n_features() {
            for ((i, row), out) in flat.chunks(x.ncols().max(1)).enumerate().zip(y.iter_mut()) {
                let _ = i;
                *out = self
                    .predict(row)
                    .ok()
                    .and_then(|v| v.first().copied())
                    .unwrap_or(false);
            }
        } else {
            y.fill(false);
        }
    }

    fn default_target(&self, x: &Array2<f64>) -> Array1<bool> {
        Array1::from_elem(x.nrows(), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::traits::Predict;

    #[test]
    fn linfa_fit_matches_native_fit() {
        let rows: Vec<f64> = (0..600).map(|i| f64::from((i * 7) % 31)).collect();
        let x = Array2::from_shape_vec((300, 2), rows.clone()).unwrap();
        let params = IsolationForest::new();
        let a = Fit::fit(&params, &DatasetBase::from(x.clone())).unwrap();
        let b = params.fit(&rows, 2).unwrap();
        assert_eq!(a.score(&rows).unwrap(), b.score(&rows).unwrap());
        let y: Array1<bool> = Predict::predict(&a, &x);
        assert_eq!(y.to_vec(), b.predict(&rows).unwrap());
        let wrong = Array2::from_elem((3, 5), 1.0);
        let y: Array1<bool> = Predict::predict(&a, &wrong);
        assert!(y.iter().all(|&v| !v));
    }
}
