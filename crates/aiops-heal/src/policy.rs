//! Safety policies: everything that can stop a matching, confident rule from running.

use crate::action::ActionType;
use crate::confidence::ConfidenceModel;
use crate::error::{HealError, Result};

/// The longest window or cooldown accepted, in seconds (about 317 years).
pub const MAX_WINDOW_SECS: u64 = 10_000_000_000;

fn check_window(field: &'static str, secs: u64) -> Result<()> {
    if secs == 0 || secs > MAX_WINDOW_SECS {
        return Err(HealError::InvalidSetting {
            field,
            reason: format!("must be in 1..={MAX_WINDOW_SECS} seconds, got {secs}"),
        });
    }
    Ok(())
}

/// A limit on executions started within a rolling window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RateLimit {
    max: u32,
    window_secs: u64,
}

impl RateLimit {
    /// At most `max` executions started in any window of `window_secs` seconds
    /// (`1..=MAX_WINDOW_SECS`; `max` 0 forbids every execution).
    pub fn new(max: u32, window_secs: u64) -> Result<Self> {
        check_window("rate limit window_secs", window_secs)?;
        Ok(RateLimit { max, window_secs })
    }
    /// Executions allowed per window (0 forbids every execution).
    pub fn max(&self) -> u32 {
        self.max
    }
    /// The window length in seconds.
    pub fn window_secs(&self) -> u64 {
        self.window_secs
    }
}

/// A limit on the share of services touched by executions started within a rolling window.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BlastRadius {
    max_share: f64,
    window_secs: u64,
    total_services: u32,
}

impl BlastRadius {
    /// At most `max_share` (in `[0, 1]`) of `total_services` (> 0) distinct services may be
    /// touched by executions started within any `window_secs` (> 0).
    pub fn new(max_share: f64, window_secs: u64, total_services: u32) -> Result<Self> {
        if !(0.0..=1.0).contains(&max_share) {
            return Err(HealError::OutOfUnitRange {
                what: "blast radius max_share",
                value: max_share,
            });
        }
        check_window("blast radius window_secs", window_secs)?;
        if total_services == 0 {
            return Err(HealError::InvalidSetting {
                field: "blast radius total_services",
                reason: "must be > 0, got 0".into(),
            });
        }
        Ok(BlastRadius {
            max_share,
            window_secs,
            total_services,
        })
    }
    /// Largest share of services that may be touched.
    pub fn max_share(&self) -> f64 {
        self.max_share
    }
    /// The window length in seconds.
    pub fn window_secs(&self) -> u64 {
        self.window_secs
    }
    /// The number of services in the system.
    pub fn total_services(&self) -> u32 {
        self.total_services
    }
    /// The largest number of distinct services that may be touched in one window.
    pub fn max_services(&self) -> u32 {
        // Small epsilon so 0.3 * 10 counts as 3, not 2.999...
        (self.max_share * f64::from(self.total_services) + 1e-9).floor() as u32
    }
}

/// What to do with an action that has no handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum UnknownActionPolicy {
    /// Refuse the whole plan before anything runs (the default).
    #[default]
    Refuse,
    /// The article's behaviour: skip the action and carry on; the plan can still succeed.
    /// **Hazard:** a plan of only unknown actions "succeeds" without doing anything.
    SkipLikeArticle,
}

/// The engine's safety policy. Build it with [`Policy::builder`]; [`Policy::default`] is:
///
/// | setting | default |
/// |---|---|
/// | dry run | off |
/// | confidence model | [`ConfidenceModel::default`] (Beta lower bound) |
/// | cooldown per (rule, service) | 300 s |
/// | global rate limit | 20 per 3600 s |
/// | per-service rate limit | 3 per 3600 s |
/// | max concurrent executions | 3 |
/// | approval required for | `rollback`, `drain_traffic` |
/// | approval required below confidence | none |
/// | blast radius | none (needs the number of services) |
/// | circuit breaker | open after 3 consecutive failures |
/// | shadow mode | until 0 confirmed successes (off) |
/// | pause between actions | 5 s (the article's) |
/// | per-action timeout | 300 s |
/// | unknown action | refuse the plan |
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Policy {
    pub(crate) dry_run: bool,
    pub(crate) model: ConfidenceModel,
    pub(crate) cooldown_secs: u64,
    pub(crate) global_rate: Option<RateLimit>,
    pub(crate) service_rate: Option<RateLimit>,
    pub(crate) max_concurrent: Option<u32>,
    pub(crate) approval_actions: Vec<ActionType>,
    pub(crate) approval_below: Option<f64>,
    pub(crate) blast_radius: Option<BlastRadius>,
    pub(crate) circuit_breaker_failures: Option<u32>,
    pub(crate) shadow_until_successes: u32,
    pub(crate) pause_millis: u64,
    pub(crate) action_timeout_millis: u64,
    pub(crate) unknown_action: UnknownActionPolicy,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            dry_run: false,
            model: ConfidenceModel::default(),
            cooldown_secs: 300,
            global_rate: Some(RateLimit {
                max: 20,
                window_secs: 3600,
            }),
            service_rate: Some(RateLimit {
                max: 3,
                window_secs: 3600,
            }),
            max_concurrent: Some(3),
            approval_actions: vec![ActionType::Rollback, ActionType::DrainTraffic],
            approval_below: None,
            blast_radius: None,
            circuit_breaker_failures: Some(3),
            shadow_until_successes: 0,
            pause_millis: 5_000,
            action_timeout_millis: 300_000,
            unknown_action: UnknownActionPolicy::Refuse,
        }
    }
}

impl Policy {
    /// A builder starting from [`Policy::default`].
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder {
            policy: Policy::default(),
        }
    }
    /// The article's engine: the article's confidence model, no safety policy at all, unknown
    /// actions skipped, 5 s pause, no timeout to speak of (one day).
    pub fn article() -> Self {
        Policy {
            dry_run: false,
            model: ConfidenceModel::Article,
            cooldown_secs: 0,
            global_rate: None,
            service_rate: None,
            max_concurrent: None,
            approval_actions: Vec::new(),
            approval_below: None,
            blast_radius: None,
            circuit_breaker_failures: None,
            shadow_until_successes: 0,
            pause_millis: 5_000,
            action_timeout_millis: 86_400_000,
            unknown_action: UnknownActionPolicy::SkipLikeArticle,
        }
    }
    /// Whether decisions are dry runs.
    pub fn dry_run(&self) -> bool {
        self.dry_run
    }
    /// The confidence model.
    pub fn model(&self) -> &ConfidenceModel {
        &self.model
    }
    /// Cooldown per (rule, service), seconds.
    pub fn cooldown_secs(&self) -> u64 {
        self.cooldown_secs
    }
    /// Global rate limit.
    pub fn global_rate(&self) -> Option<RateLimit> {
        self.global_rate
    }
    /// Per-service rate limit.
    pub fn service_rate(&self) -> Option<RateLimit> {
        self.service_rate
    }
    /// Max concurrent executions.
    pub fn max_concurrent(&self) -> Option<u32> {
        self.max_concurrent
    }
    /// Actions that always need approval.
    pub fn approval_actions(&self) -> &[ActionType] {
        &self.approval_actions
    }
    /// Confidence below which approval is needed.
    pub fn approval_below(&self) -> Option<f64> {
        self.approval_below
    }
    /// Blast radius limit.
    pub fn blast_radius(&self) -> Option<BlastRadius> {
        self.blast_radius
    }
    /// Consecutive failures that open a rule's circuit.
    pub fn circuit_breaker_failures(&self) -> Option<u32> {
        self.circuit_breaker_failures
    }
    /// Confirmed successes a rule needs before it leaves shadow mode.
    pub fn shadow_until_successes(&self) -> u32 {
        self.shadow_until_successes
    }
    /// Pause between actions, milliseconds.
    pub fn pause_millis(&self) -> u64 {
        self.pause_millis
    }
    /// Per-action timeout, milliseconds.
    pub fn action_timeout_millis(&self) -> u64 {
        self.action_timeout_millis
    }
    /// Treatment of actions without a handler.
    pub fn unknown_action(&self) -> UnknownActionPolicy {
        self.unknown_action
    }
}

/// Builds a [`Policy`]; every setter is infallible, [`PolicyBuilder::build`] validates.
#[derive(Debug, Clone)]
pub struct PolicyBuilder {
    policy: Policy,
}

impl PolicyBuilder {
    /// Dry run: decide and record, mark decisions as dry runs, never call a handler.
    #[must_use]
    pub fn dry_run(mut self, on: bool) -> Self {
        self.policy.dry_run = on;
        self
    }
    /// The confidence model.
    #[must_use]
    pub fn model(mut self, model: ConfidenceModel) -> Self {
        self.policy.model = model;
        self
    }
    /// Cooldown per (rule, service) in seconds, counted from the start of an execution (0: off).
    #[must_use]
    pub fn cooldown_secs(mut self, secs: u64) -> Self {
        self.policy.cooldown_secs = secs;
        self
    }
    /// Global rate limit (`None`: off).
    #[must_use]
    pub fn global_rate(mut self, limit: Option<RateLimit>) -> Self {
        self.policy.global_rate = limit;
        self
    }
    /// Per-service rate limit (`None`: off).
    #[must_use]
    pub fn service_rate(mut self, limit: Option<RateLimit>) -> Self {
        self.policy.service_rate = limit;
        self
    }
    /// Max executions in flight (`None`: off).
    #[must_use]
    pub fn max_concurrent(mut self, max: Option<u32>) -> Self {
        self.policy.max_concurrent = max;
        self
    }
    /// Actions that always need a human's approval.
    #[must_use]
    pub fn approval_actions(mut self, actions: impl IntoIterator<Item = ActionType>) -> Self {
        self.policy.approval_actions = actions.into_iter().collect();
        self
    }
    /// Approval is needed when confidence is below this (`None`: off); must be in `[0, 1]`.
    #[must_use]
    pub fn approval_below(mut self, confidence: Option<f64>) -> Self {
        self.policy.approval_below = confidence;
        self
    }
    /// Blast radius limit (`None`: off).
    #[must_use]
    pub fn blast_radius(mut self, limit: Option<BlastRadius>) -> Self {
        self.policy.blast_radius = limit;
        self
    }
    /// Open a rule's circuit after this many consecutive failures (`None`: off; must be > 0).
    #[must_use]
    pub fn circuit_breaker_failures(mut self, k: Option<u32>) -> Self {
        self.policy.circuit_breaker_failures = k;
        self
    }
    /// Keep each rule in shadow mode until it has this many confirmed successes (0: off).
    #[must_use]
    pub fn shadow_until_successes(mut self, n: u32) -> Self {
        self.policy.shadow_until_successes = n;
        self
    }
    /// Pause between actions in milliseconds.
    #[must_use]
    pub fn pause_millis(mut self, millis: u64) -> Self {
        self.policy.pause_millis = millis;
        self
    }
    /// Per-action timeout in milliseconds (must be > 0).
    #[must_use]
    pub fn action_timeout_millis(mut self, millis: u64) -> Self {
        self.policy.action_timeout_millis = millis;
        self
    }
    /// Treatment of actions without a handler.
    #[must_use]
    pub fn unknown_action(mut self, p: UnknownActionPolicy) -> Self {
        self.policy.unknown_action = p;
        self
    }
    /// Validates and returns the policy, including the confidence model
    /// ([`ConfidenceModel::check`], since a model written as a literal skips its constructor).
    pub fn build(self) -> Result<Policy> {
        let p = self.policy;
        p.model.check()?;
        if p.cooldown_secs > MAX_WINDOW_SECS {
            return Err(HealError::InvalidSetting {
                field: "cooldown_secs",
                reason: format!("must be at most {MAX_WINDOW_SECS}, got {}", p.cooldown_secs),
            });
        }
        if let Some(c) = p.approval_below
            && !(0.0..=1.0).contains(&c)
        {
            return Err(HealError::OutOfUnitRange {
                what: "approval_below confidence",
                value: c,
            });
        }
        if p.circuit_breaker_failures == Some(0) {
            return Err(HealError::InvalidSetting {
                field: "circuit_breaker_failures",
                reason: "must be > 0 (use None to switch it off), got 0".into(),
            });
        }
        if p.action_timeout_millis == 0 {
            return Err(HealError::InvalidSetting {
                field: "action_timeout_millis",
                reason: "must be > 0, got 0".into(),
            });
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_values() {
        assert!(RateLimit::new(3, 0).is_err());
        assert!(
            RateLimit::new(3, u64::MAX)
                .unwrap_err()
                .to_string()
                .contains(&u64::MAX.to_string())
        );
        assert!(BlastRadius::new(0.5, 1 << 63, 4).is_err());
        assert!(Policy::builder().cooldown_secs(u64::MAX).build().is_err());
        assert!(
            BlastRadius::new(1.2, 60, 10)
                .unwrap_err()
                .to_string()
                .contains("1.2")
        );
        assert!(BlastRadius::new(0.5, 60, 0).is_err());
        assert_eq!(BlastRadius::new(0.3, 60, 10).unwrap().max_services(), 3);
        assert!(
            Policy::builder()
                .approval_below(Some(2.0))
                .build()
                .unwrap_err()
                .to_string()
                .contains('2')
        );
        assert!(
            Policy::builder()
                .circuit_breaker_failures(Some(0))
                .build()
                .is_err()
        );
        assert!(Policy::builder().action_timeout_millis(0).build().is_err());
        let p = Policy::builder().dry_run(true).build().unwrap();
        assert!(p.dry_run());
        assert_eq!(Policy::default().pause_millis(), 5_000);
    }

    #[test]
    fn build_rejects_a_literal_model_with_bad_fields() {
        let literal = |a: f64, z: f64| ConfidenceModel::BetaLowerBound {
            prior_successes: a,
            prior_failures: 1.0,
            z,
            severity_weighted: false,
        };
        let e = Policy::builder()
            .model(literal(f64::NAN, 1.645))
            .build()
            .unwrap_err();
        assert!(
            matches!(
                e,
                HealError::InvalidSetting {
                    field: "prior_successes",
                    ..
                }
            ),
            "{e}"
        );
        let e = Policy::builder()
            .model(literal(1.0, -100.0))
            .build()
            .unwrap_err();
        assert!(
            matches!(e, HealError::InvalidSetting { field: "z", ref reason } if reason.contains("-100")),
            "{e}"
        );
        assert!(Policy::builder().model(literal(2.0, 1.0)).build().is_ok());
        assert!(
            Policy::builder()
                .model(ConfidenceModel::Article)
                .build()
                .is_ok()
        );
    }
}
