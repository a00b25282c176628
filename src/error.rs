//! The facade's error type: a capability crate's error, or bad input to the code that combines
//! them.

use thiserror::Error;

/// Errors of the facade's combined capabilities ([`crate::pipeline`], [`crate::failure`]).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is out of range; names the setting and the value.
    #[error("invalid {name}: {reason}")]
    InvalidParameter {
        /// The setting.
        name: &'static str,
        /// What was wrong, with the value.
        reason: String,
    },
    /// From aiops-core (bad series, timestamps, labels).
    #[error(transparent)]
    Core(#[from] aiops_core::CoreError),
    /// From aiops-anomaly.
    #[cfg(feature = "anomaly")]
    #[error(transparent)]
    Anomaly(#[from] aiops_anomaly::AnomalyError),
    /// From aiops-rca.
    #[cfg(feature = "rca")]
    #[error(transparent)]
    Rca(#[from] aiops_rca::RcaError),
    /// From aiops-forecast.
    #[cfg(feature = "forecast")]
    #[error(transparent)]
    Forecast(#[from] aiops_forecast::ForecastError),
    /// From aiops-heal.
    #[cfg(feature = "heal")]
    #[error(transparent)]
    Heal(#[from] aiops_heal::HealError),
}

/// `Result` with the facade's [`Error`](enum@Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;
