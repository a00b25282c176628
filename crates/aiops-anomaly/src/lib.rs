#![doc = include_str!("../README.md")]

mod detector;
mod error;
mod features;
mod iforest;
#[cfg(feature = "linfa")]
pub mod linfa_adapter;
mod multivariate;
mod ranges;
pub mod streaming;

pub use detector::{AnomalyAlert, AnomalyDetector, Driver};
pub use error::{AnomalyError, Result};
pub use features::{FEATURE_NAMES, FeatureConfig, FeatureWindow};
pub use iforest::{
    Contamination, FittedIsolationForest, IsolationForest, MAX_TREES, MaxSamples, ScoreKernel,
    average_path_length,
};
pub use multivariate::{FittedMultivariate, MultivariateDetector};
pub use ranges::{Alarms, AnomalyRange, anomaly_ranges, threshold_for_alarm_rate};
pub use streaming::{
    ChangeDetector, ChangeState, DetectorState, EnsembleDetector, EnsembleState, RobustDetector,
    RobustState, SeasonalDetector, SeasonalState, StreamingDetector, z_to_score,
};
