//! The crate's error type.

/// Everything that can go wrong in this crate. Each variant names the bad value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AnomalyError {
    /// A parameter is outside its valid range.
    #[error("invalid parameter `{name}` = {value}: {reason}")]
    InvalidParam {
        /// The parameter's name.
        name: &'static str,
        /// The offending value, formatted.
        value: String,
        /// What the valid range is.
        reason: &'static str,
    },
    /// Too few rows or points to fit a model.
    #[error("not enough data: need at least {needed}, got {got}")]
    NotEnoughData {
        /// The minimum needed.
        needed: usize,
        /// What was given.
        got: usize,
    },
    /// A matrix's flat length is not a multiple of its column count, or a row has the wrong width.
    #[error("shape mismatch: expected {expected} columns, got {got}")]
    Shape {
        /// The expected number of columns.
        expected: usize,
        /// The number found.
        got: usize,
    },
    /// The article's features of a finite input point overflow `f64`.
    #[error(
        "the `{feature}` feature of point {index} is {value}: the values around it are too \
         large for f64 (rescale them)"
    )]
    FeatureOverflow {
        /// Index of the input point (for
        /// [`AnomalyDetector::alert_if_anomaly`](crate::AnomalyDetector::alert_if_anomaly), its
        /// position among the finite values its window has accepted).
        index: usize,
        /// The feature (one of `FEATURE_NAMES`).
        feature: &'static str,
        /// Its value.
        value: f64,
    },
    /// A value that must be finite is NaN or infinite.
    #[error("non-finite value {value} at row {row}, column {column}")]
    NonFinite {
        /// Row index.
        row: usize,
        /// Column index.
        column: usize,
        /// The value.
        value: f64,
    },
    /// A timestamp is not later than the previous one in the same series.
    #[error("timestamp {got} ms is not later than the previous timestamp {previous} ms")]
    NonIncreasingTimestamp {
        /// The previous timestamp (Unix ms).
        previous: i64,
        /// The offending timestamp (Unix ms).
        got: i64,
    },
    /// The model was used before training.
    #[error("the detector has not been trained")]
    NotTrained,
    /// A streaming detector was given the state of another detector kind.
    #[error("state mismatch: detector `{detector}` was given a state created by another detector")]
    StateMismatch {
        /// The detector's name.
        detector: &'static str,
    },
    /// linfa reported an error (feature `linfa`).
    #[error("linfa: {0}")]
    Linfa(String),
    /// A clustering step failed.
    #[error("clustering failed: {0}")]
    Clustering(String),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, AnomalyError>;

pub(crate) fn invalid(
    name: &'static str,
    value: impl std::fmt::Display,
    reason: &'static str,
) -> AnomalyError {
    AnomalyError::InvalidParam {
        name,
        value: value.to_string(),
        reason,
    }
}
