//! The one error type of aiops-rca.

/// Everything that can go wrong in aiops-rca; every variant names the offending value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RcaError {
    /// A service depends on a name that no service spec defines.
    #[error(
        "service {service:?} depends on unknown service {dependency:?} (define it, or use GraphOptions::add_unknown_dependencies)"
    )]
    UnknownDependency {
        /// The service whose dependency list names the unknown service.
        service: String,
        /// The unknown name.
        dependency: String,
    },
    /// Two service specs share a name.
    #[error("service {0:?} is defined twice")]
    DuplicateService(String),
    /// A service depends on itself.
    #[error("service {0:?} depends on itself")]
    SelfLoop(String),
    /// A parameter outside its allowed range.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Why it was rejected, with the value.
        reason: String,
    },
    /// A node index outside the graph.
    #[error("node index {index} out of range for a graph of {nodes} nodes")]
    NodeOutOfRange {
        /// The index given.
        index: usize,
        /// Number of nodes.
        nodes: usize,
    },
    /// A vector whose length does not match the graph.
    #[error("{what} has length {got}, expected {expected}")]
    LengthMismatch {
        /// Which vector.
        what: &'static str,
        /// Its length.
        got: usize,
        /// The number of nodes.
        expected: usize,
    },
    /// PageRank's power iteration did not converge (as networkx raises).
    #[error(
        "power iteration did not converge in {max_iter} iterations (last L1 change {last_error})"
    )]
    NotConverged {
        /// The iteration limit.
        max_iter: usize,
        /// The L1 change of the last iteration.
        last_error: f64,
    },
    /// A streaming alert starting before the latest start pushed or the time declared by
    /// `CorrelationStream::advance_to`, and updating no known alert.
    #[error(
        "alert starting at {got} arrived after {latest} (the latest start pushed or time declared with advance_to); push alerts in start order"
    )]
    OutOfOrder {
        /// Its start (RFC 3339).
        got: String,
        /// The latest start pushed or time declared, whichever is later (RFC 3339).
        latest: String,
    },
    /// An input too large for a method whose cost grows with its square.
    #[error("{what}: {got} exceeds the limit of {limit}; {hint}")]
    TooLarge {
        /// What was counted.
        what: &'static str,
        /// How many there were (at least).
        got: usize,
        /// The limit.
        limit: usize,
        /// What to do instead.
        hint: &'static str,
    },
    /// An input that needs data got none.
    #[error("{0} is empty")]
    Empty(&'static str),
    /// An error from aiops-core (for example a score out of range).
    #[error(transparent)]
    Core(#[from] aiops_core::CoreError),
}

/// Result with [`RcaError`].
pub type Result<T, E = RcaError> = std::result::Result<T, E>;
