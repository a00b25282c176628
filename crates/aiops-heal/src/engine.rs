//! The healing engine: rules, statistics, safety state; pure decisions, recorded on request.

use std::collections::{HashMap, HashSet, VecDeque};

use aiops_core::{Incident, Timestamp};

use crate::action::ActionType;
use crate::audit::{AuditEvent, AuditRecord, Feedback};
use crate::confidence::severity_factor;
use crate::decision::{
    ApprovalReason, ConfidenceInfo, Decision, ExecutionId, Plan, RateScope, SkipReason, Verdict,
};
use crate::error::{HealError, Result};
use crate::execute::Outcome;
use crate::policy::{Policy, UnknownActionPolicy};
use crate::rule::{ANY_OF_SCORE, EXACT_SCORE, MIN_MATCH_SCORE, Matcher, Rule, field_value};

/// A rule's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct RuleStats {
    /// Successes counted (executions, corrected by feedback, and confirmed shadow decisions).
    pub successes: u64,
    /// Failures counted.
    pub failures: u64,
    /// Failures since the last success or circuit reset (executions only).
    pub consecutive_failures: u32,
}

#[derive(Debug, Clone)]
enum CompiledMatcher {
    Exact(u32),
    AnyOf(Box<[u32]>),
}

#[derive(Debug, Clone)]
struct RuleState {
    rule: Rule,
    compiled: Vec<(usize, CompiledMatcher)>,
    stats: RuleStats,
    last_start: HashMap<String, Timestamp>,
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    values: HashMap<String, u32>,
}

#[derive(Debug, Clone)]
struct Execution {
    rule: usize,
    service: String,
    started: Timestamp,
    shadow: bool,
    dry_run: bool,
    in_flight: bool,
    /// The outcome currently counted in the rule's statistics.
    counted: Option<bool>,
}

/// The self-healing engine.
///
/// [`HealingEngine::decide`] is pure: it reads the rules, statistics and safety state and says
/// what should happen. [`HealingEngine::handle`] decides and records the decision (an execution
/// starts counting towards cooldowns, rate limits, concurrency and blast radius) and returns the
/// audit record; the caller runs the plan with [`crate::execute`] and reports the outcome with
/// [`HealingEngine::complete`] (or [`HealingEngine::complete_simulated`] for dry runs and
/// replays). Nothing is logged or stored outside the returned records.
///
/// Matching is the article's: every rule is scored, the first rule with the highest score wins,
/// and it must score above 0.5. Checks then run in this order: unknown action, circuit breaker,
/// confidence threshold, cooldown, global then per-service rate limit, concurrency, blast radius,
/// shadow mode, approval gates.
#[derive(Debug, Clone)]
pub struct HealingEngine {
    policy: Policy,
    rules: Vec<RuleState>,
    rule_ids: HashMap<String, usize>,
    fields: Vec<Field>,
    field_ids: HashMap<String, usize>,
    available: Option<HashSet<ActionType>>,
    /// Starts of live (non-shadow) executions: (time, service).
    starts: VecDeque<(Timestamp, String)>,
    latest: Timestamp,
    in_flight: u32,
    executions: HashMap<u64, Execution>,
    next_execution: u64,
    next_seq: u64,
}

impl HealingEngine {
    /// An engine with no rules.
    pub fn new(policy: Policy) -> Self {
        HealingEngine {
            policy,
            rules: Vec::new(),
            rule_ids: HashMap::new(),
            fields: Vec::new(),
            field_ids: HashMap::new(),
            available: None,
            starts: VecDeque::new(),
            latest: Timestamp::from_millis(i64::MIN),
            in_flight: 0,
            executions: HashMap::new(),
            next_execution: 0,
            next_seq: 0,
        }
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Declares the actions that have handlers, so a plan naming any other is refused at
    /// decision time ([`SkipReason::UnknownAction`], under [`UnknownActionPolicy::Refuse`]).
    /// Until this is called, unknown actions are caught by [`crate::execute`] before anything
    /// runs.
    pub fn set_available_actions(&mut self, actions: impl IntoIterator<Item = ActionType>) {
        self.available = Some(actions.into_iter().collect());
    }

    /// Registers a rule; ids must be unique. Earlier rules win ties.
    pub fn add_rule(&mut self, rule: Rule) -> Result<()> {
        if self.rule_ids.contains_key(rule.id()) {
            return Err(HealError::DuplicateRule(rule.id().to_owned()));
        }
        let mut compiled = Vec::with_capacity(rule.pattern().len());
        for (key, m) in rule.pattern().iter() {
            let f = self.intern_field(key);
            let cm = match m {
                Matcher::Exact(v) => CompiledMatcher::Exact(self.intern_value(f, v)),
                Matcher::AnyOf(list) => {
                    CompiledMatcher::AnyOf(list.iter().map(|v| self.intern_value(f, v)).collect())
                }
            };
            compiled.push((f, cm));
        }
        self.rule_ids.insert(rule.id().to_owned(), self.rules.len());
        self.rules.push(RuleState {
            rule,
            compiled,
            stats: RuleStats::default(),
            last_start: HashMap::new(),
        });
        Ok(())
    }

    fn intern_field(&mut self, key: &str) -> usize {
        if let Some(&i) = self.field_ids.get(key) {
            return i;
        }
        self.fields.push(Field {
            name: key.to_owned(),
            values: HashMap::new(),
        });
        self.field_ids.insert(key.to_owned(), self.fields.len() - 1);
        self.fields.len() - 1
    }

    fn intern_value(&mut self, field: usize, value: &str) -> u32 {
        let values = &mut self.fields[field].values;
        let next = values.len() as u32;
        *values.entry(value.to_owned()).or_insert(next)
    }

    /// The rules, in registration order.
    pub fn rules(&self) -> impl ExactSizeIterator<Item = &Rule> + '_ {
        self.rules.iter().map(|r| &r.rule)
    }

    /// A rule's statistics.
    pub fn rule_stats(&self, rule_id: &str) -> Option<RuleStats> {
        self.rule_ids.get(rule_id).map(|&i| self.rules[i].stats)
    }

    /// Closes a rule's circuit breaker (consecutive failures back to 0).
    pub fn reset_circuit(&mut self, rule_id: &str) -> Result<()> {
        let &i = self
            .rule_ids
            .get(rule_id)
            .ok_or_else(|| HealError::UnknownRule(rule_id.to_owned()))?;
        self.rules[i].stats.consecutive_failures = 0;
        Ok(())
    }

    /// Executions started and not yet completed.
    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// The article's rule matching: the index and score of the first best rule above 0.5.
    fn best_rule(&self, incident: &Incident) -> Option<(usize, f64)> {
        let ids: Vec<Option<u32>> = self
            .fields
            .iter()
            .map(|f| field_value(incident, &f.name).and_then(|v| f.values.get(v).copied()))
            .collect();
        let mut best: Option<(usize, f64)> = None;
        let mut best_score = 0.0;
        for (i, r) in self.rules.iter().enumerate() {
            let mut total = 0.0;
            for (f, m) in &r.compiled {
                let got = ids[*f];
                total += match (m, got) {
                    (CompiledMatcher::Exact(want), Some(v)) if *want == v => EXACT_SCORE,
                    (CompiledMatcher::AnyOf(list), Some(v)) if list.contains(&v) => ANY_OF_SCORE,
                    _ => 0.0,
                };
            }
            let score = total / r.compiled.len() as f64;
            if score > best_score {
                best_score = score;
                best = Some((i, score));
            }
        }
        best.filter(|&(_, s)| s > MIN_MATCH_SCORE)
    }

    /// Decides what to do about `incident` at `now`, without changing anything.
    pub fn decide(&self, incident: &Incident, now: Timestamp) -> Decision {
        self.decide_inner(incident, now, false)
    }

    fn decide_inner(&self, incident: &Incident, now: Timestamp, approved: bool) -> Decision {
        let p = &self.policy;
        let service = incident.primary_service().map(str::to_owned);
        let mut d = Decision {
            incident_id: incident.id().to_owned(),
            service: service.clone(),
            at: now,
            rule_id: None,
            match_score: None,
            confidence: None,
            plan: None,
            verdict: Verdict::Skip(SkipReason::NoRule),
            dry_run: p.dry_run,
            approved,
        };
        let Some((ri, score)) = self.best_rule(incident) else {
            return d;
        };
        let rs = &self.rules[ri];
        let rule = &rs.rule;
        let stats = rs.stats;
        let confidence = p
            .model
            .confidence(stats.successes, stats.failures, incident.severity());
        let info = ConfidenceInfo {
            value: confidence,
            threshold: rule.threshold(),
            model: p.model.name(),
            successes: stats.successes,
            failures: stats.failures,
            severity: incident.severity(),
            severity_factor: p
                .model
                .uses_severity()
                .then(|| severity_factor(incident.severity())),
        };
        d.rule_id = Some(rule.id().to_owned());
        d.match_score = Some(score);
        d.confidence = Some(info);
        d.plan = Some(Plan {
            rule_id: rule.id().to_owned(),
            incident_id: incident.id().to_owned(),
            service: service.clone(),
            actions: rule.actions().to_vec(),
            compensation: rule.compensation().cloned(),
            pause_millis: p.pause_millis,
            action_timeout_millis: p.action_timeout_millis,
            dry_run: p.dry_run,
            unknown_action: p.unknown_action,
        });
        d.verdict = self.verdict(
            ri,
            service.as_deref().unwrap_or(""),
            confidence,
            now,
            approved,
        );
        d
    }

    fn verdict(
        &self,
        ri: usize,
        service: &str,
        confidence: f64,
        now: Timestamp,
        approved: bool,
    ) -> Verdict {
        let p = &self.policy;
        let rs = &self.rules[ri];
        let rule = &rs.rule;
        let skip = Verdict::Skip;
        if let (Some(avail), UnknownActionPolicy::Refuse) = (&self.available, p.unknown_action)
            && let Some(a) = rule
                .actions()
                .iter()
                .chain(rule.compensation())
                .find(|a| !avail.contains(a))
        {
            return skip(SkipReason::UnknownAction { action: a.clone() });
        }
        if let Some(k) = p.circuit_breaker_failures
            && rs.stats.consecutive_failures >= k
        {
            return skip(SkipReason::CircuitOpen {
                consecutive_failures: rs.stats.consecutive_failures,
                limit: k,
            });
        }
        if confidence < rule.threshold() {
            return skip(SkipReason::LowConfidence {
                confidence,
                threshold: rule.threshold(),
            });
        }
        if p.cooldown_secs > 0
            && let Some(&last) = rs.last_start.get(service)
        {
            let until = last.add_secs(p.cooldown_secs as i64);
            if now < until {
                return skip(SkipReason::Cooldown {
                    last_started: last,
                    until,
                });
            }
        }
        for (scope, limit) in [
            (RateScope::Global, p.global_rate),
            (RateScope::Service, p.service_rate),
        ] {
            let Some(limit) = limit else { continue };
            let from = now.add_secs(-(limit.window_secs() as i64));
            let count = self
                .starts
                .iter()
                .filter(|(t, s)| {
                    *t > from && *t <= now && (scope == RateScope::Global || s == service)
                })
                .count() as u32;
            if count >= limit.max() {
                return skip(SkipReason::RateLimited {
                    scope,
                    count,
                    max: limit.max(),
                    window_secs: limit.window_secs(),
                });
            }
        }
        if let Some(max) = p.max_concurrent
            && self.in_flight >= max
        {
            return skip(SkipReason::Concurrency {
                in_flight: self.in_flight,
                max,
            });
        }
        if let Some(b) = p.blast_radius {
            let from = now.add_secs(-(b.window_secs() as i64));
            let touched: HashSet<&str> = self
                .starts
                .iter()
                .filter(|(t, _)| *t > from && *t <= now)
                .map(|(_, s)| s.as_str())
                .collect();
            let n = touched.len() as u32;
            if !touched.contains(service) && n + 1 > b.max_services() {
                return skip(SkipReason::BlastRadius {
                    touched: n,
                    max_services: b.max_services(),
                });
            }
        }
        if u64::from(p.shadow_until_successes) > rs.stats.successes {
            return skip(SkipReason::Shadow {
                confirmed_successes: rs.stats.successes,
                required: p.shadow_until_successes,
            });
        }
        if !approved {
            if let Some(a) = rule
                .actions()
                .iter()
                .chain(rule.compensation())
                .find(|a| p.approval_actions.contains(a))
            {
                return Verdict::ApprovalRequired(ApprovalReason::Action { action: a.clone() });
            }
            if let Some(below) = p.approval_below
                && confidence < below
            {
                return Verdict::ApprovalRequired(ApprovalReason::LowConfidence {
                    confidence,
                    below,
                });
            }
        }
        Verdict::Execute
    }

    /// Decides and records: an `Execute` verdict starts an execution (its id is in the record),
    /// a shadow decision gets an id for [`HealingEngine::record_feedback`].
    pub fn handle(&mut self, incident: &Incident, now: Timestamp) -> AuditRecord {
        let d = self.decide_inner(incident, now, false);
        self.record(d, now)
    }

    /// Like [`HealingEngine::handle`] for an incident a human approved: the approval gates are
    /// satisfied, every other check runs again at `now`.
    pub fn handle_approved(&mut self, incident: &Incident, now: Timestamp) -> AuditRecord {
        let d = self.decide_inner(incident, now, true);
        self.record(d, now)
    }

    fn push(
        &mut self,
        at: Timestamp,
        execution_id: Option<ExecutionId>,
        event: AuditEvent,
    ) -> AuditRecord {
        let seq = self.next_seq;
        self.next_seq += 1;
        AuditRecord {
            seq,
            at,
            execution_id,
            event,
        }
    }

    fn record(&mut self, d: Decision, now: Timestamp) -> AuditRecord {
        let ri = d
            .rule_id
            .as_ref()
            .and_then(|id| self.rule_ids.get(id).copied());
        let service = d.service.clone().unwrap_or_default();
        let shadow = matches!(d.verdict, Verdict::Skip(SkipReason::Shadow { .. }));
        let mut id = None;
        if let (Some(ri), true) = (ri, shadow || d.verdict == Verdict::Execute) {
            let eid = self.next_execution;
            self.next_execution += 1;
            id = Some(ExecutionId(eid));
            if !shadow {
                self.in_flight += 1;
                self.rules[ri].last_start.insert(service.clone(), now);
                self.starts.push_back((now, service.clone()));
                self.latest = self.latest.max(now);
                self.prune();
            }
            self.executions.insert(
                eid,
                Execution {
                    rule: ri,
                    service,
                    started: now,
                    shadow,
                    dry_run: d.dry_run,
                    in_flight: !shadow,
                    counted: None,
                },
            );
        }
        self.push(now, id, AuditEvent::Decision(Box::new(d)))
    }

    /// Forgets execution starts older than every window.
    fn prune(&mut self) {
        let p = &self.policy;
        let longest = [
            p.global_rate.map(|r| r.window_secs()),
            p.service_rate.map(|r| r.window_secs()),
            p.blast_radius.map(|b| b.window_secs()),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0);
        let from = self.latest.add_secs(-(longest as i64));
        while self.starts.front().is_some_and(|(t, _)| *t <= from) {
            self.starts.pop_front();
        }
    }

    /// Reports the outcome of a live execution run with [`crate::execute`].
    pub fn complete(&mut self, id: ExecutionId, outcome: &Outcome) -> Result<AuditRecord> {
        self.finish(
            id,
            outcome.success,
            outcome.finished,
            outcome.actions.clone(),
            outcome.compensation.clone(),
        )
    }

    /// Reports an outcome without per-action results: the assumed or recorded outcome of a
    /// dry-run execution (replays feed statistics this way) or one observed elsewhere.
    pub fn complete_simulated(
        &mut self,
        id: ExecutionId,
        success: bool,
        finished: Timestamp,
    ) -> Result<AuditRecord> {
        self.finish(id, success, finished, Vec::new(), None)
    }

    fn finish(
        &mut self,
        id: ExecutionId,
        success: bool,
        finished: Timestamp,
        actions: Vec<crate::execute::ActionResult>,
        compensation: Option<crate::execute::ActionResult>,
    ) -> Result<AuditRecord> {
        let ex = self
            .executions
            .get_mut(&id.0)
            .ok_or(HealError::UnknownExecution(id.0))?;
        if ex.shadow {
            return Err(HealError::NotExecuted(id.0));
        }
        if !ex.in_flight {
            return Err(HealError::AlreadyComplete(id.0));
        }
        ex.in_flight = false;
        // Feedback that arrived before the outcome stays the counted outcome.
        let count_it = ex.counted.is_none();
        if count_it {
            ex.counted = Some(success);
        }
        let (ri, service, started, dry_run) = (ex.rule, ex.service.clone(), ex.started, ex.dry_run);
        self.in_flight -= 1;
        let stats = &mut self.rules[ri].stats;
        if success {
            stats.successes += u64::from(count_it);
            stats.consecutive_failures = 0;
        } else {
            stats.failures += u64::from(count_it);
            stats.consecutive_failures = stats.consecutive_failures.saturating_add(1);
        }
        let rule_id = self.rules[ri].rule.id().to_owned();
        Ok(self.push(
            finished,
            Some(id),
            AuditEvent::Completed {
                rule_id,
                service: (!service.is_empty()).then_some(service),
                success,
                started,
                actions,
                compensation,
                dry_run,
            },
        ))
    }

    /// Corrects the counts of an execution (a human's verdict, or a later check that the
    /// incident did not resolve), or confirms a shadow decision. The last feedback on an
    /// execution wins; each execution counts once. Feedback moves counts only: the circuit
    /// breaker follows execution outcomes.
    pub fn record_feedback(
        &mut self,
        id: ExecutionId,
        feedback: Feedback,
        at: Timestamp,
    ) -> Result<AuditRecord> {
        let ex = self
            .executions
            .get_mut(&id.0)
            .ok_or(HealError::UnknownExecution(id.0))?;
        let previous = ex.counted;
        let now_ok = feedback == Feedback::Success;
        ex.counted = Some(now_ok);
        let ri = ex.rule;
        let stats = &mut self.rules[ri].stats;
        match previous {
            Some(true) => stats.successes -= 1,
            Some(false) => stats.failures -= 1,
            None => {}
        }
        if now_ok {
            stats.successes += 1;
        } else {
            stats.failures += 1;
        }
        let rule_id = self.rules[ri].rule.id().to_owned();
        Ok(self.push(
            at,
            Some(id),
            AuditEvent::Feedback {
                rule_id,
                feedback,
                previous,
            },
        ))
    }
}
