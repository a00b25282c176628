//! The one error type of aiops-core.

use crate::Timestamp;

/// Everything that can be wrong with data handed to aiops-core.
///
/// Every variant names the offending value and, for sequences, its index, so a message is
/// enough to find the bad row.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// Two sequences that must pair up have different lengths.
    #[error("length mismatch: {timestamps} timestamps but {values} values")]
    LengthMismatch {
        /// Number of timestamps given.
        timestamps: usize,
        /// Number of values given.
        values: usize,
    },
    /// A value is NaN or infinite where a finite number is required.
    #[error("non-finite value {value} at index {index}")]
    NonFinite {
        /// Position of the value.
        index: usize,
        /// The value itself.
        value: f64,
    },
    /// A timestamp is earlier than the one before it.
    #[error(
        "timestamps not sorted: index {index} has {current}, earlier than {previous} before it"
    )]
    Unsorted {
        /// Position of the out-of-order timestamp.
        index: usize,
        /// The timestamp before it.
        previous: Timestamp,
        /// The out-of-order timestamp.
        current: Timestamp,
    },
    /// A timestamp repeats the one before it.
    #[error("duplicate timestamp {timestamp} at index {index}")]
    DuplicateTimestamp {
        /// Position of the repeated timestamp.
        index: usize,
        /// The repeated timestamp.
        timestamp: Timestamp,
    },
    /// Text that is not a timestamp in any accepted form.
    #[error("invalid timestamp {input:?}: {reason}")]
    InvalidTimestamp {
        /// The text as given.
        input: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A number of seconds or milliseconds outside the representable range.
    #[error("timestamp {value} {unit} is out of range (years 0000..=9999)")]
    TimestampOutOfRange {
        /// The number given.
        value: f64,
        /// `"seconds"` or `"milliseconds"`.
        unit: &'static str,
    },
    /// A severity that none of the known spellings match.
    #[error(
        "unknown severity {0:?} (expected info, low, medium/warning, high/error, critical/page)"
    )]
    UnknownSeverity(String),
    /// A criticality other than high, medium or low.
    #[error("unknown criticality {0:?} (expected high, medium or low)")]
    UnknownCriticality(String),
    /// A label name that Prometheus would not accept.
    #[error("invalid label name {name:?}: {reason}")]
    InvalidLabelName {
        /// The label name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A service description that cannot be used.
    #[error("invalid service {name:?}: {reason}")]
    InvalidService {
        /// The service name (may be empty when the name is the problem).
        name: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A number that must lie in `0..=1` does not.
    #[error("{what} must be in [0, 1], got {value}")]
    OutOfUnitRange {
        /// Which quantity.
        what: &'static str,
        /// The value given.
        value: f64,
    },
    /// A parameter that is out of its allowed range.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Why it was rejected, with the value.
        reason: String,
    },
    /// An operation that needs data got none.
    #[error("{0} is empty")]
    Empty(&'static str),
    /// A per-alert list does not have one entry per alert.
    #[error("{what}: {got} entries for {alerts} alerts")]
    PerAlertMismatch {
        /// What the list holds.
        what: &'static str,
        /// Number of alerts.
        alerts: usize,
        /// Number of entries given.
        got: usize,
    },
    /// An alert whose end is earlier than its start. Alertmanager rejects such an alert
    /// ("start time must be before end time"); an end equal to the start is allowed.
    #[error(
        "endsAt {ends_at} is before startsAt {starts_at} (an alert cannot end before it starts)"
    )]
    EndsBeforeStart {
        /// The alert's `startsAt`.
        starts_at: Timestamp,
        /// The `endsAt` given, earlier than `starts_at`.
        ends_at: Timestamp,
    },
    /// One alert of an alerts document that cannot be read.
    #[error("alert {record} (line {line}): {reason}")]
    InvalidAlert {
        /// The alert's record number: its position in input order after flattening payloads.
        record: usize,
        /// The 1-based line of the document on which the alert's JSON object starts.
        line: usize,
        /// What is wrong, with the position in the document where it was found.
        reason: String,
    },
    /// A services-config entry that cannot be read, or a name defined twice.
    #[error("service entry {entry} (line {line}): {reason}")]
    InvalidServiceEntry {
        /// The entry's position in the file's array, from 0.
        entry: usize,
        /// The 1-based line on which the entry's JSON object starts.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// JSON that is not of the documented shape.
    #[error("invalid JSON: {0}")]
    Json(String),
}

/// Result with [`CoreError`].
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
