#![doc = include_str!("../README.md")]

mod action;
mod audit;
mod confidence;
mod decision;
mod engine;
mod error;
mod execute;
mod policy;
mod rule;

pub use action::{ActionType, CustomAction};
pub use audit::{AuditEvent, AuditRecord, Feedback};
pub use confidence::{COLD_START_CONFIDENCE, ConfidenceModel, severity_factor};
pub use decision::{
    ApprovalReason, ConfidenceInfo, Decision, ExecutionId, Plan, RateScope, SkipReason, Verdict,
};
pub use engine::{HealingEngine, RuleStats};
pub use error::{HealError, Result};
pub use execute::{
    ActionHandler, ActionResult, ActionStatus, HandlerFuture, Handlers, Outcome, Refusal, Sleeper,
    execute,
};
pub use policy::{
    BlastRadius, MAX_WINDOW_SECS, Policy, PolicyBuilder, RateLimit, UnknownActionPolicy,
};
pub use rule::{
    ANY_OF_SCORE, DEFAULT_CONFIDENCE_THRESHOLD, EXACT_SCORE, MIN_MATCH_SCORE, Matcher, Pattern,
    Rule,
};
