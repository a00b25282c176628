#![doc = include_str!("../README.md")]

mod error;
mod iforest;

pub use error::{AnomalyError, Result};
pub use iforest::{
    Contamination, FittedIsolationForest, IsolationForest, MaxSamples, average_path_length,
};
