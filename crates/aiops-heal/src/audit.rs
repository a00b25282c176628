//! The append-only audit trail the engine returns to its caller.

use aiops_core::Timestamp;

use crate::decision::{Decision, ExecutionId};
use crate::execute::{ActionResult, Refusal};

/// Human or later-check feedback on an execution (or a shadow decision).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Feedback {
    /// It worked (for a shadow decision: it would have worked).
    Success,
    /// It did not (for example the incident did not resolve).
    Failure,
}

/// One entry of the audit trail. `seq` numbers the engine's records from 0 without gaps.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct AuditRecord {
    /// Position in the trail.
    pub seq: u64,
    /// When it happened.
    pub at: Timestamp,
    /// The execution (or shadow decision) this record belongs to.
    pub execution_id: Option<ExecutionId>,
    /// What happened.
    pub event: AuditEvent,
}

/// What an [`AuditRecord`] records.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "event", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum AuditEvent {
    /// A decision (with rule, confidence and its inputs, verdict and reason).
    Decision(Box<Decision>),
    /// An execution finished.
    Completed {
        /// The rule.
        rule_id: String,
        /// The service.
        service: Option<String>,
        /// Whether it succeeded.
        success: bool,
        /// Start of the execution.
        started: Timestamp,
        /// Each action's result and duration (empty for a simulated outcome).
        actions: Vec<ActionResult>,
        /// The compensating action, when it ran.
        compensation: Option<ActionResult>,
        /// Why the plan was refused before anything ran, if it was (then no failure was
        /// counted: see [`crate::HealingEngine::complete`]).
        refused: Option<Refusal>,
        /// It was a dry run.
        dry_run: bool,
    },
    /// A human closed a rule's circuit breaker.
    CircuitReset {
        /// The rule.
        rule_id: String,
        /// Its consecutive failures before the reset.
        consecutive_failures: u32,
    },
    /// Feedback corrected the counts.
    Feedback {
        /// The rule.
        rule_id: String,
        /// The feedback.
        feedback: Feedback,
        /// The outcome counted before (`None`: nothing was counted yet).
        previous: Option<bool>,
    },
}
