#![doc = include_str!("../README.md")]

mod detector;
mod error;
mod features;
mod iforest;

pub use detector::{AnomalyAlert, AnomalyDetector, Driver};
pub use error::{AnomalyError, Result};
pub use features::{FEATURE_NAMES, FeatureConfig, FeatureWindow};
pub use iforest::{
    Contamination, FittedIsolationForest, IsolationForest, MaxSamples, average_path_length,
};
