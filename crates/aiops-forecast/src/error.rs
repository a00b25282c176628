//! The one error type of aiops-forecast.

use aiops_core::{CoreError, Timestamp};

/// Everything that can go wrong when training, predicting or checking capacity.
///
/// Every variant names the offending value so the message alone locates the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ForecastError {
    /// Not enough points to fit anything.
    #[error("series for {metric:?} has {got} points, at least {needed} are needed")]
    TooFewPoints {
        /// The metric being trained.
        metric: String,
        /// Points given.
        got: usize,
        /// Minimum required.
        needed: usize,
    },
    /// A NaN or infinite value in the input.
    #[error("non-finite value {value} at index {index}")]
    NonFinite {
        /// Position of the value.
        index: usize,
        /// The value.
        value: f64,
    },
    /// Timestamps not strictly increasing.
    #[error("timestamps not strictly increasing at index {index}: {current} after {previous}")]
    Unsorted {
        /// Position of the offending timestamp.
        index: usize,
        /// The timestamp before it (Unix milliseconds).
        previous: i64,
        /// The offending timestamp (Unix milliseconds).
        current: i64,
    },
    /// Timestamps and values of different lengths.
    #[error("{timestamps} timestamps but {values} values")]
    LengthMismatch {
        /// Number of timestamps.
        timestamps: usize,
        /// Number of values.
        values: usize,
    },
    /// Timestamps so far apart that their distance in milliseconds does not fit an `i64`.
    #[error("series spans {first} to {last}: more milliseconds apart than an i64 holds")]
    SpanTooLong {
        /// The first timestamp.
        first: Timestamp,
        /// The last timestamp.
        last: Timestamp,
    },
    /// A forecast value or interval bound came out NaN or infinite: the series' values (or
    /// their spread) are too large for `f64` arithmetic. Rescale the series (e.g. to other
    /// units) and fit again.
    #[error(
        "forecast at {timestamp} is not finite (yhat {yhat:e}, interval {lower:e}..{upper:e}): the series' values are too large for f64 arithmetic; rescale them"
    )]
    NonFiniteForecast {
        /// The row's timestamp.
        timestamp: Timestamp,
        /// Its point forecast.
        yhat: f64,
        /// Its lower bound.
        lower: f64,
        /// Its upper bound.
        upper: f64,
    },
    /// A horizon of zero steps, a non-positive step, one ending past the last
    /// representable timestamp, or one a model cannot reach (see
    /// [`crate::FittedModel::predict_at`]).
    #[error("invalid horizon: {0}")]
    InvalidHorizon(String),
    /// No model has been trained for this metric.
    #[error("unknown metric {0:?}: no model trained for it")]
    UnknownMetric(String),
    /// `check_capacity_risk` before any `predict` for this metric.
    #[error("no prediction for metric {0:?}: call predict first")]
    NoPrediction(String),
    /// A configuration value out of its range.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Why, with the value.
        reason: String,
    },
    /// The Prophet model could not be fitted or used.
    #[error("prophet failed: {0}")]
    Prophet(String),
    /// An aiops-core validation error.
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// Result with [`ForecastError`].
pub type Result<T, E = ForecastError> = std::result::Result<T, E>;
