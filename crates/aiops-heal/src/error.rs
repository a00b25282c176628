//! The one error type of aiops-heal.

/// Everything that can be wrong with rules, policies or calls handed to aiops-heal.
///
/// Every variant names the offending value so the message alone locates the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum HealError {
    /// A rule id is empty.
    #[error("rule id must not be empty")]
    EmptyRuleId,
    /// Two rules share one id.
    #[error("duplicate rule id {0:?}")]
    DuplicateRule(String),
    /// A rule id names no registered rule.
    #[error("unknown rule id {0:?}")]
    UnknownRule(String),
    /// A rule's pattern has no keys (the article scores it 0, so it could never match).
    #[error("rule {rule:?}: pattern has no keys, so it can never match")]
    EmptyPattern {
        /// The rule id.
        rule: String,
    },
    /// A pattern key is empty.
    #[error("pattern key must not be empty")]
    EmptyPatternKey,
    /// An any-of list in a pattern is empty.
    #[error("pattern key {key:?}: any-of list is empty")]
    EmptyAnyOf {
        /// The pattern key.
        key: String,
    },
    /// A `severity` pattern value that is not a severity.
    #[error("pattern key \"severity\": {value:?} is not a severity")]
    UnknownSeverity {
        /// The value as given.
        value: String,
    },
    /// A rule without actions.
    #[error("rule {rule:?}: action list is empty")]
    EmptyActions {
        /// The rule id.
        rule: String,
    },
    /// An action name that is empty or only white space.
    #[error("action name {0:?} is empty")]
    EmptyActionName(String),
    /// A confidence or share that is not a finite number in `[0, 1]`.
    #[error("{what} must be in [0, 1], got {value}")]
    OutOfUnitRange {
        /// What the number is.
        what: &'static str,
        /// The number given.
        value: f64,
    },
    /// A policy or model setting that is invalid.
    #[error("invalid setting {field}: {reason}")]
    InvalidSetting {
        /// The setting's name.
        field: &'static str,
        /// Why it is invalid, with the value.
        reason: String,
    },
    /// An execution id this engine never issued.
    #[error("unknown execution id {0}")]
    UnknownExecution(u64),
    /// An execution whose outcome was already reported.
    #[error("execution {0} is already complete")]
    AlreadyComplete(u64),
    /// An outcome reported for a record that never executed (for example a shadow decision,
    /// which takes feedback instead).
    #[error("execution {0} was a shadow decision: report it with record_feedback")]
    NotExecuted(u64),
}

/// Result with [`HealError`].
pub type Result<T, E = HealError> = std::result::Result<T, E>;
