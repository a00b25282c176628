//! The one error type of aiops-sim.

use thiserror::Error;

/// What was wrong with a simulator request.
///
/// The generators themselves never fail: they clamp or skip out-of-range settings as documented
/// on each spec. The `check` methods and the `try_` functions report those settings instead, for
/// callers that prefer an error to a silent correction.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SimError {
    /// A numeric setting is out of its documented range.
    #[error("invalid {name}: {reason}")]
    InvalidParameter {
        /// The setting's name.
        name: &'static str,
        /// What is wrong with its value, naming the value.
        reason: String,
    },
    /// A service name that the topology does not contain.
    #[error("unknown service {0:?}: not in the topology")]
    UnknownService(String),
}

/// `Result` with [`SimError`].
pub type Result<T> = std::result::Result<T, SimError>;
