//! What the engine decided, and why.

use std::fmt;

use aiops_core::{Severity, Timestamp};

use crate::action::ActionType;
use crate::policy::UnknownActionPolicy;

/// Identifies one execution (or shadow decision) issued by a [`crate::HealingEngine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct ExecutionId(pub u64);

impl fmt::Display for ExecutionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exec-{}", self.0)
    }
}

/// A plan: the actions of a rule for one incident, with the execution settings of the policy.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Plan {
    /// The rule the plan comes from.
    pub rule_id: String,
    /// The incident it remedies.
    pub incident_id: String,
    /// The target service (the incident's primary service); `None` touches no service, so
    /// only the global limits and the rule's cooldown apply to it.
    pub service: Option<String>,
    /// Actions, run in order.
    pub actions: Vec<ActionType>,
    /// Run once if a step fails after an earlier step succeeded.
    pub compensation: Option<ActionType>,
    /// Pause between actions, milliseconds.
    pub pause_millis: u64,
    /// Per-action timeout, milliseconds.
    pub action_timeout_millis: u64,
    /// Dry run: `execute` calls no handler.
    pub dry_run: bool,
    /// Treatment of actions without a handler.
    pub unknown_action: UnknownActionPolicy,
}

impl Plan {
    /// A plan built by hand (for example to run a human's choice through [`crate::execute`])
    /// with the default execution settings (5 s pause, 300 s timeout, live, unknown actions
    /// refused). [`crate::execute`] refuses a plan with no actions
    /// ([`crate::Refusal::NoActions`]).
    pub fn new(
        rule_id: impl Into<String>,
        incident_id: impl Into<String>,
        service: Option<String>,
        actions: Vec<ActionType>,
    ) -> Self {
        let p = crate::Policy::default();
        Plan {
            rule_id: rule_id.into(),
            incident_id: incident_id.into(),
            service,
            actions,
            compensation: None,
            pause_millis: p.pause_millis(),
            action_timeout_millis: p.action_timeout_millis(),
            dry_run: false,
            unknown_action: p.unknown_action(),
        }
    }
}

/// The confidence of a decision with its inputs.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ConfidenceInfo {
    /// The confidence, in `[0, 1]`.
    pub value: f64,
    /// The rule's threshold.
    pub threshold: f64,
    /// The model's name (`article`, `beta_lower_bound`).
    pub model: &'static str,
    /// Successes counted for the rule.
    pub successes: u64,
    /// Failures counted for the rule.
    pub failures: u64,
    /// The incident's severity.
    pub severity: Severity,
    /// The severity factor, when the model uses one.
    pub severity_factor: Option<f64>,
}

/// Which rate limit was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum RateScope {
    /// All executions.
    Global,
    /// Executions on the incident's service.
    Service,
}

/// Why the engine will not act.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "reason", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum SkipReason {
    /// No rule scored above 0.5.
    NoRule,
    /// The plan names an action with no handler (refused before anything runs).
    UnknownAction {
        /// The first such action.
        action: ActionType,
    },
    /// The rule's circuit breaker is open.
    CircuitOpen {
        /// The rule's consecutive failures.
        consecutive_failures: u32,
        /// Failures that open the circuit.
        limit: u32,
    },
    /// Confidence below the rule's threshold.
    LowConfidence {
        /// The confidence.
        confidence: f64,
        /// The threshold.
        threshold: f64,
    },
    /// The (rule, service) pair ran too recently.
    Cooldown {
        /// Start of the last execution.
        last_started: Timestamp,
        /// When the cooldown ends (the last representable millisecond if it ends later).
        until: Timestamp,
    },
    /// Too many executions in the rolling window.
    RateLimited {
        /// Which limit.
        scope: RateScope,
        /// Executions already in the window.
        count: u32,
        /// The limit.
        max: u32,
        /// The window, seconds.
        window_secs: u64,
    },
    /// Too many executions in flight.
    Concurrency {
        /// Executions in flight.
        in_flight: u32,
        /// The limit.
        max: u32,
    },
    /// Acting would touch too large a share of the services in the window.
    BlastRadius {
        /// Distinct services already touched in the window.
        touched: u32,
        /// The most that may be touched.
        max_services: u32,
    },
    /// The rule is in shadow mode: everything else allowed the plan, but it is only recorded.
    Shadow {
        /// Confirmed successes so far.
        confirmed_successes: u64,
        /// Needed to leave shadow mode.
        required: u32,
    },
    /// The decision's time is so far before the executions already recorded that a rolling
    /// window reaching back from it covers starts the engine has forgotten (it keeps what the
    /// longest window before its latest start needs): the limit cannot be checked, so the plan
    /// does not run. Decisions in time order never meet this.
    BeforeHistory {
        /// Starts at or before this time are forgotten.
        forgotten_through: Timestamp,
    },
}

impl SkipReason {
    /// The reason's `snake_case` code, as `heal_replay` prints it.
    pub fn code(&self) -> &'static str {
        match self {
            SkipReason::NoRule => "no_rule",
            SkipReason::UnknownAction { .. } => "unknown_action",
            SkipReason::CircuitOpen { .. } => "circuit_open",
            SkipReason::LowConfidence { .. } => "low_confidence",
            SkipReason::Cooldown { .. } => "cooldown",
            SkipReason::RateLimited { .. } => "rate_limited",
            SkipReason::Concurrency { .. } => "concurrency",
            SkipReason::BlastRadius { .. } => "blast_radius",
            SkipReason::Shadow { .. } => "shadow",
            SkipReason::BeforeHistory { .. } => "before_history",
        }
    }
}

/// Why a human must approve.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "reason", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum ApprovalReason {
    /// The plan contains an action the policy gates.
    Action {
        /// The first gated action.
        action: ActionType,
    },
    /// Confidence is below the policy's approval level.
    LowConfidence {
        /// The confidence.
        confidence: f64,
        /// The approval level.
        below: f64,
    },
}

/// The verdict of a decision.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "decision", content = "why", rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum Verdict {
    /// Run the plan.
    Execute,
    /// Run the plan only once a human approves (then call
    /// [`crate::HealingEngine::handle_approved`]).
    ApprovalRequired(ApprovalReason),
    /// Do nothing.
    Skip(SkipReason),
}

impl Verdict {
    /// `execute`, `approval_required` or `skip`.
    pub fn code(&self) -> &'static str {
        match self {
            Verdict::Execute => "execute",
            Verdict::ApprovalRequired(_) => "approval_required",
            Verdict::Skip(_) => "skip",
        }
    }
}

/// A decision for one incident.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Decision {
    /// The incident.
    pub incident_id: String,
    /// Its primary service.
    pub service: Option<String>,
    /// When the decision was made.
    pub at: Timestamp,
    /// The best-matching rule, if any scored above 0.5.
    pub rule_id: Option<String>,
    /// Its match score.
    pub match_score: Option<f64>,
    /// Confidence with its inputs (when a rule matched).
    pub confidence: Option<ConfidenceInfo>,
    /// The plan (when a rule matched), whatever the verdict.
    pub plan: Option<Plan>,
    /// What to do.
    pub verdict: Verdict,
    /// Made in dry-run mode: no handler will run.
    pub dry_run: bool,
    /// A human approved it (made by `handle_approved`).
    pub approved: bool,
}

impl Decision {
    /// The plan to run: `Some` only for an [`Verdict::Execute`] verdict.
    pub fn plan_to_execute(&self) -> Option<&Plan> {
        match self.verdict {
            Verdict::Execute => self.plan.as_ref(),
            _ => None,
        }
    }
    /// The skip reason, if skipped.
    pub fn skip_reason(&self) -> Option<&SkipReason> {
        match &self.verdict {
            Verdict::Skip(r) => Some(r),
            _ => None,
        }
    }
}
