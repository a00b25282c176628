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
use crate::execute::{Outcome, Refusal};
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

/// Scores in fifths, so sums and comparisons are exact: exact = 5 (1.0), any-of = 4 (0.8).
const EXACT_UNITS: u32 = 5;
const ANY_OF_UNITS: u32 = 4;
const _: () = assert!(EXACT_SCORE == 1.0 && ANY_OF_SCORE == 0.8 && MIN_MATCH_SCORE == 0.5);

#[derive(Debug, Clone)]
struct RuleState {
    rule: Rule,
    stats: RuleStats,
    /// The latest start per service, for the cooldown.
    last_start: HashMap<String, Timestamp>,
    /// The latest start of a plan without a service: such plans share one cooldown per rule.
    last_start_no_service: Option<Timestamp>,
}

impl RuleState {
    fn last_start(&self, service: Option<&str>) -> Option<Timestamp> {
        match service {
            Some(s) => self.last_start.get(s).copied(),
            None => self.last_start_no_service,
        }
    }
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    values: HashMap<String, u32>,
    /// Per value id: the rules a field with that value scores for, with the units they score.
    postings: Vec<Vec<(u32, u32)>>,
}

#[derive(Debug, Clone)]
struct Execution {
    rule: usize,
    service: Option<String>,
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
    /// Pattern key count per rule, apart from the rules so the matching scan stays in cache.
    rule_keys: Vec<u32>,
    /// Least common multiple of the key counts (0 when it would overflow), and per rule
    /// `lcm / keys`: `units * that` orders scores exactly with one multiplication.
    keys_lcm: u64,
    rule_mult: Vec<u64>,
    fields: Vec<Field>,
    field_ids: HashMap<String, usize>,
    available: Option<HashSet<ActionType>>,
    /// Starts of live (non-shadow) executions within the longest policy window, in time
    /// order: all of them, and per service. Counted by binary search: scanning them per
    /// decision was quadratic in the executions in a window (160,000 decisions under a
    /// per-service rate limit took 42 s; with a blast radius, 80,000 took 261 s).
    starts: Starts,
    in_flight: u32,
    executions: HashMap<u64, Execution>,
    next_execution: u64,
    next_seq: u64,
}

/// Execution starts, in time order, for the rolling-window checks.
#[derive(Debug, Clone, Default)]
struct Starts {
    /// Every start: (time, service), plans without a service included (they count towards
    /// the global limit only).
    all: VecDeque<(Timestamp, Option<String>)>,
    /// Per service, its start times (plans without a service touch none).
    by_service: HashMap<String, VecDeque<Timestamp>>,
    /// Starts at or before this time were forgotten ([`Starts::prune`]).
    forgotten_through: Option<Timestamp>,
}

/// The start of the rolling window of `secs` seconds ending at `now`, exclusive: `None` when
/// it lies before the first representable millisecond (the window then holds every start up to
/// `now`; a saturated start would leave out a start at `i64::MIN` ms).
fn window_from(now: Timestamp, secs: u64) -> Option<Timestamp> {
    i64::try_from(secs)
        .ok()
        .and_then(|s| s.checked_mul(1000))
        .and_then(|ms| now.as_millis().checked_sub(ms))
        .map(Timestamp::from_millis)
}

impl Starts {
    /// Starts in `(from, now]` of the time-ordered `ts` (`from` `None`: up to `now`).
    fn count(ts: &VecDeque<Timestamp>, from: Option<Timestamp>, now: Timestamp) -> u32 {
        let upto = |x: Timestamp| ts.partition_point(|t| *t <= x);
        upto(now).saturating_sub(from.map_or(0, upto)) as u32
    }

    /// Starts of every service in `(from, now]`.
    fn count_all(&self, from: Option<Timestamp>, now: Timestamp) -> u32 {
        let upto = |x: Timestamp| self.all.partition_point(|(t, _)| *t <= x);
        upto(now).saturating_sub(from.map_or(0, upto)) as u32
    }

    /// The ends of the windows of `secs` seconds holding `now` that a start at `now` must fit
    /// in: the one ending at `now`, and one ending at each later start within `secs` of it
    /// (recorded by decisions made at later times). Any other window holding `now` holds no
    /// start that one of these lacks, so checking these checks every window. In time order
    /// there is no later start and this is `now` alone.
    fn window_ends(&self, now: Timestamp, secs: u64) -> impl Iterator<Item = Timestamp> + '_ {
        let later = self.all.partition_point(|(t, _)| *t <= now);
        std::iter::once(now).chain(
            self.all
                .range(later..)
                .map(|(t, _)| *t)
                .take_while(move |&t| window_from(t, secs).is_none_or(|from| from < now)),
        )
    }

    /// Whether a window `(from, now]` reaches into forgotten starts.
    fn reaches_forgotten(&self, from: Option<Timestamp>) -> Option<Timestamp> {
        let through = self.forgotten_through?;
        from.is_none_or(|f| f < through).then_some(through)
    }

    /// Adds a start, keeping time order (one earlier than the latest is placed by its time).
    fn push(&mut self, t: Timestamp, service: Option<&str>) {
        let at = self.all.partition_point(|(x, _)| *x <= t);
        self.all.insert(at, (t, service.map(str::to_owned)));
        if let Some(service) = service {
            let ts = self.by_service.entry(service.to_owned()).or_default();
            let at = ts.partition_point(|x| *x <= t);
            ts.insert(at, t);
        }
    }

    /// Forgets starts at or before `from`, O(1) per start: the earliest start of all is the
    /// earliest of its service.
    fn prune(&mut self, from: Timestamp) {
        if self.all.front().is_some_and(|(t, _)| *t <= from) {
            self.forgotten_through = Some(self.forgotten_through.map_or(from, |f| f.max(from)));
        }
        while self.all.front().is_some_and(|(t, _)| *t <= from) {
            let Some((_, service)) = self.all.pop_front() else {
                break;
            };
            if let Some(service) = service
                && let Some(ts) = self.by_service.get_mut(&service)
            {
                ts.pop_front();
                if ts.is_empty() {
                    self.by_service.remove(&service);
                }
            }
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl HealingEngine {
    /// An engine with no rules.
    pub fn new(policy: Policy) -> Self {
        HealingEngine {
            policy,
            rules: Vec::new(),
            rule_ids: HashMap::new(),
            rule_keys: Vec::new(),
            keys_lcm: 1,
            rule_mult: Vec::new(),
            fields: Vec::new(),
            field_ids: HashMap::new(),
            available: None,
            starts: Starts::default(),
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
        let index = self.rules.len() as u32;
        for (key, m) in rule.pattern().iter() {
            let f = self.intern_field(key);
            let (values, units): (Vec<&String>, u32) = match m {
                Matcher::Exact(v) => (vec![v], EXACT_UNITS),
                Matcher::AnyOf(list) => (list.iter().collect(), ANY_OF_UNITS),
            };
            let mut ids: Vec<u32> = values.iter().map(|v| self.intern_value(f, v)).collect();
            // A value listed twice still scores once.
            ids.sort_unstable();
            ids.dedup();
            for id in ids {
                self.fields[f].postings[id as usize].push((index, units));
            }
        }
        self.rule_ids.insert(rule.id().to_owned(), self.rules.len());
        let keys = rule.pattern().len() as u64;
        self.rule_keys.push(keys as u32);
        let lcm = if self.keys_lcm == 0 {
            0
        } else {
            let g = gcd(self.keys_lcm, keys);
            (self.keys_lcm / g)
                .checked_mul(keys)
                .filter(|l| *l <= u64::MAX / (4 * u64::from(EXACT_UNITS) * 64))
                .unwrap_or(0)
        };
        if lcm == self.keys_lcm {
            self.rule_mult.push(if lcm == 0 { 0 } else { lcm / keys });
        } else {
            self.keys_lcm = lcm;
            self.rule_mult = self
                .rule_keys
                .iter()
                .map(|&k| if lcm == 0 { 0 } else { lcm / u64::from(k) })
                .collect();
        }
        self.rules.push(RuleState {
            rule,
            stats: RuleStats::default(),
            last_start: HashMap::new(),
            last_start_no_service: None,
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
            postings: Vec::new(),
        });
        self.field_ids.insert(key.to_owned(), self.fields.len() - 1);
        self.fields.len() - 1
    }

    fn intern_value(&mut self, field: usize, value: &str) -> u32 {
        let f = &mut self.fields[field];
        let next = f.values.len() as u32;
        let id = *f.values.entry(value.to_owned()).or_insert(next);
        if id == next {
            f.postings.push(Vec::new());
        }
        id
    }

    /// The rules, in registration order.
    pub fn rules(&self) -> impl ExactSizeIterator<Item = &Rule> + '_ {
        self.rules.iter().map(|r| &r.rule)
    }

    /// A rule's statistics.
    pub fn rule_stats(&self, rule_id: &str) -> Option<RuleStats> {
        self.rule_ids.get(rule_id).map(|&i| self.rules[i].stats)
    }

    /// Closes a rule's circuit breaker (consecutive failures back to 0), as a human does after
    /// fixing what made the rule fail; the reset is part of the audit trail.
    pub fn reset_circuit(&mut self, rule_id: &str, at: Timestamp) -> Result<AuditRecord> {
        let &i = self
            .rule_ids
            .get(rule_id)
            .ok_or_else(|| HealError::UnknownRule(rule_id.to_owned()))?;
        let previous = self.rules[i].stats.consecutive_failures;
        self.rules[i].stats.consecutive_failures = 0;
        Ok(self.push(
            at,
            None,
            AuditEvent::CircuitReset {
                rule_id: rule_id.to_owned(),
                consecutive_failures: previous,
            },
        ))
    }

    /// Forgets completed executions and shadow decisions started before `before` (so a
    /// long-running engine does not grow without bound); feedback on them is then
    /// [`HealError::UnknownExecution`]. Statistics are kept, and so are the last starts per
    /// rule and service that a cooldown still holds at `before` (a service seen once no
    /// longer costs memory for ever). Returns how many executions were forgotten.
    pub fn forget_before(&mut self, before: Timestamp) -> usize {
        let n = self.executions.len();
        self.executions
            .retain(|_, e| e.in_flight || e.started >= before);
        let cooldown_ms = i128::from(self.policy.cooldown_secs) * 1000;
        // In exact arithmetic, as `verdict` checks it: `t + cooldown` saturated at the end of
        // time and dropped a start whose cooldown still held there.
        let holds =
            |t: Timestamp| i128::from(t.as_millis()) + cooldown_ms > i128::from(before.as_millis());
        for r in &mut self.rules {
            r.last_start.retain(|_, t| holds(*t));
            r.last_start_no_service = r.last_start_no_service.filter(|t| holds(*t));
        }
        n - self.executions.len()
    }

    /// Executions started and not yet completed.
    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// The article's rule matching: the index and score of the first best rule above 0.5.
    ///
    /// Each key scores 1.0 (exact) or 0.8 (any-of); a rule's score is their mean. Scores are
    /// accumulated through an inverted index (field value -> rules) in exact fifths, so equal
    /// scores tie exactly and the first registered rule wins, as in the article.
    fn best_rule(&self, incident: &Incident) -> Option<(usize, f64)> {
        let mut units = vec![0u32; self.rules.len()];
        for f in &self.fields {
            let Some(id) = field_value(incident, &f.name).and_then(|v| f.values.get(v)) else {
                continue;
            };
            for &(r, u) in &f.postings[*id as usize] {
                units[r as usize] += u;
            }
        }
        let mut best: Option<(usize, u64, u64)> = None;
        if self.keys_lcm > 0 {
            // units * lcm / keys is proportional to the score: one multiply, rarely-taken branch.
            let (mut best_v, mut best_i) = (0u64, usize::MAX);
            for (i, (&u, &m)) in units.iter().zip(&self.rule_mult).enumerate() {
                let v = u64::from(u) * m;
                if v > best_v {
                    best_v = v;
                    best_i = i;
                }
            }
            if best_i != usize::MAX {
                let k = u64::from(self.rule_keys[best_i]);
                best = Some((best_i, u64::from(units[best_i]), k));
            }
        } else {
            // Key counts too varied for a common multiple: compare fractions pairwise.
            for (i, (&u, &k)) in units.iter().zip(&self.rule_keys).enumerate() {
                let (u, k) = (u64::from(u), u64::from(k));
                if u > 0 && best.is_none_or(|(_, bu, bk)| u * bk > bu * k) {
                    best = Some((i, u, k));
                }
            }
        }
        // score > 0.5  <=>  units / (5 keys) > 1/2  <=>  2 units > 5 keys
        best.filter(|&(_, u, k)| 2 * u > u64::from(EXACT_UNITS) * k)
            .map(|(i, u, k)| (i, u as f64 / (f64::from(EXACT_UNITS) * k as f64)))
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
        d.verdict = self.verdict(ri, service.as_deref(), confidence, now, approved);
        d
    }

    /// `service` `None`: the plan touches no service, so the per-service rate limit and the
    /// blast radius do not apply to it; its cooldown is the rule's for plans without a service.
    fn verdict(
        &self,
        ri: usize,
        service: Option<&str>,
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
        // Fail-safe: a confidence that is not a number in [0, 1] (NaN compares false with
        // everything) counts as below the threshold, never as a pass.
        if !(0.0..=1.0).contains(&confidence) || confidence < rule.threshold() {
            return skip(SkipReason::LowConfidence {
                confidence,
                threshold: rule.threshold(),
            });
        }
        if p.cooldown_secs > 0
            && let Some(last) = rs.last_start(service)
        {
            // In exact arithmetic: `last + cooldown` saturated at the end of time, where a
            // start 1 s before it would not have held the next one back. A decision before
            // the latest start counts as inside its cooldown.
            let until_ms = i128::from(last.as_millis()) + i128::from(p.cooldown_secs) * 1000;
            if i128::from(now.as_millis()) < until_ms {
                return skip(SkipReason::Cooldown {
                    last_started: last,
                    until: last.add_secs(i64::try_from(p.cooldown_secs).unwrap_or(i64::MAX)),
                });
            }
        }
        for (scope, limit) in [
            (RateScope::Global, p.global_rate),
            (RateScope::Service, p.service_rate),
        ] {
            let Some(limit) = limit else { continue };
            let secs = limit.window_secs();
            let from = window_from(now, secs);
            // No service: no per-service bucket (the global limit above applies).
            if let (RateScope::Service, None) = (scope, service) {
                continue;
            }
            let count_in = |end: Timestamp| {
                let from = window_from(end, secs);
                match service.filter(|_| scope == RateScope::Service) {
                    None => self.starts.count_all(from, end),
                    Some(s) => self
                        .starts
                        .by_service
                        .get(s)
                        .map_or(0, |ts| Starts::count(ts, from, end)),
                }
            };
            // Every window holding `now`, not only the one ending there: a decision made at an
            // earlier time than starts already recorded must not crowd the windows after it
            // (one at 950 s after one at 1,000 s made two in a window of 100 s with a limit of 1).
            let count = self
                .starts
                .window_ends(now, secs)
                .map(count_in)
                .max()
                .unwrap_or(0);
            if count >= limit.max() {
                return skip(SkipReason::RateLimited {
                    scope,
                    count,
                    max: limit.max(),
                    window_secs: limit.window_secs(),
                });
            }
            if let Some(forgotten_through) = self.starts.reaches_forgotten(from) {
                return skip(SkipReason::BeforeHistory { forgotten_through });
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
        // A plan without a service touches none, so it cannot widen the blast radius.
        if let (Some(b), Some(service)) = (p.blast_radius, service) {
            let from = window_from(now, b.window_secs());
            if let Some(forgotten_through) = self.starts.reaches_forgotten(from) {
                return skip(SkipReason::BeforeHistory { forgotten_through });
            }
            let max = b.max_services();
            // Every window holding `now`, as for the rate limits.
            for end in self.starts.window_ends(now, b.window_secs()) {
                let from = window_from(end, b.window_secs());
                let touched = |ts: &VecDeque<Timestamp>| Starts::count(ts, from, end) > 0;
                // A service already touched passes; another one needs the count, which stops
                // at the limit (O(services with starts in the longest window) at most), and is
                // taken in full only to report a skip.
                let mine = self.starts.by_service.get(service).is_some_and(touched);
                let touched_services = || self.starts.by_service.values().filter(|ts| touched(ts));
                if !mine && touched_services().take(max as usize).count() as u32 >= max {
                    return skip(SkipReason::BlastRadius {
                        touched: touched_services().count() as u32,
                        max_services: max,
                    });
                }
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
        let service = d.service.clone();
        let shadow = matches!(d.verdict, Verdict::Skip(SkipReason::Shadow { .. }));
        let mut id = None;
        if let (Some(ri), true) = (ri, shadow || d.verdict == Verdict::Execute) {
            let eid = self.next_execution;
            self.next_execution += 1;
            id = Some(ExecutionId(eid));
            if !shadow {
                self.in_flight += 1;
                // The latest start: a decision recorded with an earlier time keeps it.
                let rs = &mut self.rules[ri];
                let last = match &service {
                    Some(s) => rs.last_start.entry(s.clone()).or_insert(now),
                    None => rs.last_start_no_service.get_or_insert(now),
                };
                *last = (*last).max(now);
                self.starts.push(now, service.as_deref());
                self.prune(now);
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

    /// Forgets execution starts older than every window before `now`, the time of the start
    /// just recorded (not the latest time seen: a start recorded with an earlier time than
    /// the latest is kept for the decisions around its own time).
    fn prune(&mut self, now: Timestamp) {
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
        if let Some(from) = window_from(now, longest) {
            self.starts.prune(from);
        }
    }

    /// Reports the outcome of a live execution run with [`crate::execute`].
    ///
    /// A refused outcome ([`Outcome::refused`]: nothing ran, because a handler was missing or
    /// the plan had no actions) is a configuration error, not a verdict on the rule: the
    /// execution is complete (its concurrency slot is freed) and the refusal is recorded, but
    /// no failure is counted and the circuit breaker does not move.
    pub fn complete(&mut self, id: ExecutionId, outcome: &Outcome) -> Result<AuditRecord> {
        self.finish(
            id,
            outcome.success,
            outcome.finished,
            outcome.actions.clone(),
            outcome.compensation.clone(),
            outcome.refused.clone(),
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
        self.finish(id, success, finished, Vec::new(), None, None)
    }

    fn finish(
        &mut self,
        id: ExecutionId,
        success: bool,
        finished: Timestamp,
        actions: Vec<crate::execute::ActionResult>,
        compensation: Option<crate::execute::ActionResult>,
        refused: Option<Refusal>,
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
        // Feedback that arrived before the outcome stays the counted outcome. A refusal (nothing
        // ran) counts neither way.
        let count_it = ex.counted.is_none() && refused.is_none();
        if count_it {
            ex.counted = Some(success);
        }
        let (ri, service, started, dry_run) = (ex.rule, ex.service.clone(), ex.started, ex.dry_run);
        self.in_flight -= 1;
        let stats = &mut self.rules[ri].stats;
        if refused.is_some() {
            // A missing handler is the caller's configuration, not the rule's track record.
        } else if success {
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
                service,
                success,
                started,
                actions,
                compensation,
                refused,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::confidence::ConfidenceModel;

    proptest::proptest! {
        /// The binary-searched counts equal a scan of every start after the last prune, with
        /// starts out of time order.
        #[test]
        fn starts_count_as_a_scan(
            ops in proptest::collection::vec((0i64..100, 0usize..5, 0i64..100, 0i64..40, proptest::bool::ANY), 1..60)
        ) {
            let mut starts = Starts::default();
            // Service 4 stands for a plan without a service: counted globally only.
            let mut naive: Vec<(i64, String)> = Vec::new();
            for (t, svc, now, span, prune) in ops {
                let svc = format!("s{svc}");
                let t = Timestamp::from_secs(t);
                starts.push(t, (svc != "s4").then_some(svc.as_str()));
                naive.push((t.as_secs(), svc));
                let (now_t, from_t) = (Timestamp::from_secs(now), Timestamp::from_secs(now - span));
                let inside = |x: i64| x > now - span && x <= now;
                let all = naive.iter().filter(|(x, _)| inside(*x)).count() as u32;
                proptest::prop_assert_eq!(starts.count_all(Some(from_t), now_t), all);
                for k in 0..4 {
                    let name = format!("s{k}");
                    let want = naive.iter().filter(|(x, s)| inside(*x) && *s == name).count() as u32;
                    let got = starts.by_service.get(&name).map_or(0, |ts| Starts::count(ts, Some(from_t), now_t));
                    proptest::prop_assert_eq!(got, want);
                }
                if prune {
                    starts.prune(from_t);
                    naive.retain(|(x, _)| *x > now - span);
                    proptest::prop_assert!(starts.by_service.values().all(|ts| !ts.is_empty()));
                    proptest::prop_assert!(!starts.by_service.contains_key("s4"));
                    proptest::prop_assert_eq!(starts.all.len(), naive.len());
                }
            }
        }
    }
    use crate::policy::{BlastRadius, RateLimit};
    use crate::rule::Pattern;
    use aiops_core::{Labels, Severity};

    fn inc(id: &str, service: &str, sev: Severity) -> Incident {
        Incident::from_summary(
            id,
            service,
            sev,
            Labels::from_pairs([("alertname", "HighLatency")]),
            Timestamp::EPOCH,
        )
    }
    fn t(secs: i64) -> Timestamp {
        Timestamp::from_secs(secs)
    }
    /// No safety limits, confidence always passes (threshold 0).
    fn open_policy() -> crate::PolicyBuilder {
        Policy::builder()
            .cooldown_secs(0)
            .global_rate(None)
            .service_rate(None)
            .max_concurrent(None)
            .approval_actions([])
            .circuit_breaker_failures(None)
    }
    fn rule(id: &str, pattern: Pattern, actions: &[ActionType]) -> Rule {
        Rule::new(id, pattern, actions.iter().cloned())
            .unwrap()
            .with_threshold(0.0)
            .unwrap()
    }
    /// An engine with one restart rule matching `key = value`.
    fn engine_on(policy: Policy, id: &str, key: &str, value: &str) -> HealingEngine {
        let mut e = HealingEngine::new(policy);
        e.add_rule(rule(
            id,
            Pattern::new().exact(key, value),
            &[ActionType::RestartService],
        ))
        .unwrap();
        e
    }
    fn engine(policy: Policy) -> HealingEngine {
        engine_on(policy, "api-restart", "service", "api")
    }
    /// An engine whose rule matches every test incident, whatever its service.
    fn any_service(policy: Policy) -> HealingEngine {
        engine_on(policy, "latency-restart", "alertname", "HighLatency")
    }
    /// [`any_service`] with [`open_policy`] plus one limit.
    fn open_with(
        limit: impl FnOnce(crate::PolicyBuilder) -> crate::PolicyBuilder,
    ) -> HealingEngine {
        any_service(limit(open_policy()).build().unwrap())
    }
    /// The verdict of handling an incident on `svc` at `at` seconds.
    fn go(e: &mut HealingEngine, svc: &str, at: i64) -> Verdict {
        handled(e, svc, t(at))
    }
    fn exec_id(r: &AuditRecord) -> ExecutionId {
        r.execution_id.unwrap()
    }
    /// The verdict of handling an incident on `svc` at `at`.
    fn handled(e: &mut HealingEngine, svc: &str, at: Timestamp) -> Verdict {
        match e.handle(&inc(svc, svc, Severity::High), at).event {
            AuditEvent::Decision(d) => d.verdict,
            _ => unreachable!(),
        }
    }
    fn reason(d: &Decision) -> &'static str {
        match &d.verdict {
            Verdict::Skip(r) => r.code(),
            v => v.code(),
        }
    }

    #[test]
    fn matching_ties_go_to_the_first_rule_and_score_must_exceed_half() {
        let mut e = HealingEngine::new(open_policy().build().unwrap());
        let a = [ActionType::ClearCache];
        e.add_rule(rule("first", Pattern::new().exact("service", "api"), &a))
            .unwrap();
        e.add_rule(rule("second", Pattern::new().exact("service", "api"), &a))
            .unwrap();
        // (1.0 + 0.8) / 2 = 0.9 < 1.0: the exact-only rules win
        e.add_rule(rule(
            "third",
            Pattern::new()
                .exact("service", "api")
                .any_of("severity", ["high"]),
            &a,
        ))
        .unwrap();
        // exactly 0.5: (1 + 0) / 2, never matches
        e.add_rule(rule(
            "half",
            Pattern::new()
                .exact("service", "db")
                .exact("alertname", "Nope"),
            &a,
        ))
        .unwrap();
        let d = e.decide(&inc("i", "api", Severity::High), t(0));
        assert_eq!(d.rule_id.as_deref(), Some("first"));
        assert_eq!(d.match_score, Some(1.0));
        assert_eq!(
            reason(&e.decide(&inc("i", "db", Severity::High), t(0))),
            "no_rule"
        );
        assert_eq!(
            e.add_rule(rule("first", Pattern::new().exact("x", "y"), &a)),
            Err(HealError::DuplicateRule("first".into()))
        );
        // labels: alertname exact (1.0) + service miss (0) + severity any-of (0.8) = 0.6 > 0.5
        e.add_rule(rule(
            "by-label",
            Pattern::new()
                .exact("alertname", "HighLatency")
                .exact("service", "zzz")
                .any_of("severity", ["warning", "high"]),
            &a,
        ))
        .unwrap();
        let d = e.decide(&inc("i", "web", Severity::High), t(0));
        assert_eq!(d.rule_id.as_deref(), Some("by-label"));
        assert!((d.match_score.unwrap() - 0.6).abs() < 1e-12);
    }

    #[test]
    fn matching_with_key_counts_too_varied_for_a_common_multiple() {
        let mut e = HealingEngine::new(open_policy().build().unwrap());
        let labels: Labels = (0..50).map(|i| (format!("l{i}"), "x".to_owned())).collect();
        let incident = Incident::from_summary("i", "api", Severity::High, labels, t(0));
        // Rule k has k keys, one of them missing: score (k - 1) / k.
        for k in 2..=46 {
            let p = (0..k).fold(Pattern::new(), |p, j| {
                p.exact(format!("l{j}"), if j == 0 { "nope" } else { "x" })
            });
            e.add_rule(rule(&format!("k{k}"), p, &[ActionType::ScaleOut]))
                .unwrap();
        }
        assert_eq!(e.keys_lcm, 0, "lcm of 2..=46 overflows the exact fast path");
        let d = e.decide(&incident, t(0));
        assert_eq!(d.rule_id.as_deref(), Some("k46"));
        assert!((d.match_score.unwrap() - 45.0 / 46.0).abs() < 1e-12);
        // A later rule with the same score does not win; a higher one does.
        let same = (0..46).fold(Pattern::new(), |p, j| {
            p.exact(format!("l{j}"), if j == 5 { "nope" } else { "x" })
        });
        e.add_rule(rule("same", same, &[ActionType::ScaleOut]))
            .unwrap();
        assert_eq!(e.decide(&incident, t(0)).rule_id.as_deref(), Some("k46"));
        e.add_rule(rule(
            "full",
            Pattern::new().exact("l1", "x"),
            &[ActionType::ScaleOut],
        ))
        .unwrap();
        assert_eq!(e.decide(&incident, t(0)).rule_id.as_deref(), Some("full"));
    }

    #[test]
    fn hazard_article_engine_never_heals_at_its_default_threshold() {
        let mut e = HealingEngine::new(Policy::article());
        let r = Rule::new(
            "r",
            Pattern::new().exact("service", "api"),
            [ActionType::RestartService],
        )
        .unwrap();
        e.add_rule(r).unwrap();
        // even with a perfect record, critical incidents get 0.72 < 0.8
        for i in 0..50 {
            let rec = e.handle_approved(&inc("i", "api", Severity::Critical), t(i));
            assert!(rec.execution_id.is_none());
        }
        e.rules[0].stats.successes = 1_000;
        let d = e.decide(&inc("i", "api", Severity::Critical), t(100));
        match d.verdict {
            Verdict::Skip(SkipReason::LowConfidence {
                confidence,
                threshold,
            }) => {
                assert!((confidence - 0.72).abs() < 1e-12);
                assert_eq!(threshold, 0.8);
            }
            v => panic!("expected low confidence, got {v:?}"),
        }
        // the fix: the default model passes 0.8 with the same record
        let mut fixed = engine(open_policy().build().unwrap());
        fixed.rules[0].rule = fixed.rules[0].rule.clone().with_threshold(0.8).unwrap();
        fixed.rules[0].stats.successes = 1_000;
        let d = fixed.decide(&inc("i", "api", Severity::Critical), t(100));
        assert_eq!(d.verdict, Verdict::Execute);
    }

    #[test]
    fn cold_start_confidence_is_documented_and_recorded_with_inputs() {
        let mut e = engine(open_policy().build().unwrap());
        e.rules[0].rule = e.rules[0].rule.clone().with_threshold(0.5).unwrap();
        let d = e.decide(&inc("i", "api", Severity::Critical), t(0));
        let c = d.confidence.clone().unwrap();
        assert!((c.value - crate::COLD_START_CONFIDENCE).abs() < 1e-15);
        assert_eq!((c.successes, c.failures, c.threshold), (0, 0, 0.5));
        assert_eq!(c.model, "beta_lower_bound");
        assert_eq!(c.severity_factor, None);
        assert!(matches!(
            d.verdict,
            Verdict::Skip(SkipReason::LowConfidence { threshold, .. }) if threshold == 0.5
        ));
        // the article model records its severity factor, info = 0.5
        let mut a = engine(
            open_policy()
                .model(ConfidenceModel::Article)
                .build()
                .unwrap(),
        );
        a.rules[0].rule = a.rules[0].rule.clone().with_threshold(0.8).unwrap();
        let d = a.decide(&inc("i", "api", Severity::Info), t(0));
        let c = d.confidence.unwrap();
        assert_eq!(c.severity_factor, Some(0.5));
        assert!((c.value - 0.25).abs() < 1e-12);
    }

    #[test]
    fn unknown_actions_are_refused_by_default_and_skipped_like_the_article_on_request() {
        let mut e = HealingEngine::new(open_policy().build().unwrap());
        let flush = ActionType::custom("flush_dns").unwrap();
        e.add_rule(rule(
            "r",
            Pattern::new().exact("service", "api"),
            &[ActionType::RestartService, flush.clone()],
        ))
        .unwrap();
        e.set_available_actions([ActionType::RestartService]);
        let d = e.decide(&inc("i", "api", Severity::High), t(0));
        assert_eq!(
            d.verdict,
            Verdict::Skip(SkipReason::UnknownAction { action: flush })
        );
        let mut article = e.clone();
        article.policy.unknown_action = UnknownActionPolicy::SkipLikeArticle;
        assert_eq!(
            article
                .decide(&inc("i", "api", Severity::High), t(0))
                .verdict,
            Verdict::Execute
        );
    }

    #[test]
    fn circuit_breaker_opens_after_k_consecutive_failures_until_reset() {
        let mut e = engine(
            open_policy()
                .circuit_breaker_failures(Some(2))
                .build()
                .unwrap(),
        );
        let i = inc("i", "api", Severity::High);
        let r1 = e.handle(&i, t(0));
        e.complete_simulated(exec_id(&r1), false, t(1)).unwrap();
        let r2 = e.handle(&i, t(2));
        e.complete_simulated(exec_id(&r2), false, t(3)).unwrap();
        let d = e.decide(&i, t(4));
        assert_eq!(
            d.verdict,
            Verdict::Skip(SkipReason::CircuitOpen {
                consecutive_failures: 2,
                limit: 2
            })
        );
        assert_eq!(
            e.reset_circuit("nope", t(5)),
            Err(HealError::UnknownRule("nope".into()))
        );
        let rec = e.reset_circuit("api-restart", t(5)).unwrap();
        assert!(matches!(
            rec.event,
            AuditEvent::CircuitReset {
                consecutive_failures: 2,
                ..
            }
        ));
        assert_eq!(e.decide(&i, t(5)).verdict, Verdict::Execute);
        // a success in between resets the streak
        let mut e = engine(
            open_policy()
                .circuit_breaker_failures(Some(2))
                .build()
                .unwrap(),
        );
        for (k, ok) in [false, true, false].into_iter().enumerate() {
            let r = e.handle(&i, t(k as i64 * 10));
            e.complete_simulated(exec_id(&r), ok, t(k as i64 * 10 + 1))
                .unwrap();
        }
        assert_eq!(e.decide(&i, t(100)).verdict, Verdict::Execute);
        assert_eq!(e.rule_stats("api-restart").unwrap().consecutive_failures, 1);
    }

    #[test]
    fn cooldown_is_per_rule_and_service() {
        let mut e = engine(open_policy().cooldown_secs(300).build().unwrap());
        e.add_rule(rule(
            "web-cache",
            Pattern::new().exact("service", "web"),
            &[ActionType::ClearCache],
        ))
        .unwrap();
        let r = e.handle(&inc("a", "api", Severity::High), t(1_000));
        e.complete_simulated(exec_id(&r), true, t(1_010)).unwrap();
        let d = e.decide(&inc("b", "api", Severity::High), t(1_299));
        assert_eq!(
            d.verdict,
            Verdict::Skip(SkipReason::Cooldown {
                last_started: t(1_000),
                until: t(1_300)
            })
        );
        // another service is not cooling down
        assert_eq!(
            e.decide(&inc("c", "web", Severity::High), t(1_001)).verdict,
            Verdict::Execute
        );
        assert_eq!(
            e.decide(&inc("d", "api", Severity::High), t(1_300)).verdict,
            Verdict::Execute
        );
    }

    #[test]
    fn rate_limits_global_and_per_service_over_a_rolling_window() {
        let p = open_policy()
            .global_rate(Some(RateLimit::new(3, 60).unwrap()))
            .service_rate(Some(RateLimit::new(2, 60).unwrap()))
            .build()
            .unwrap();
        let mut e = HealingEngine::new(p);
        e.add_rule(rule(
            "any",
            Pattern::new().exact("alertname", "HighLatency"),
            &[ActionType::ScaleOut],
        ))
        .unwrap();
        let mut go = |id: &str, svc: &str, s: i64| {
            let r = e.handle(&inc(id, svc, Severity::High), t(s));
            if let Some(x) = r.execution_id {
                e.complete_simulated(x, true, t(s)).unwrap();
            }
            match r.event {
                AuditEvent::Decision(d) => reason(&d),
                _ => unreachable!(),
            }
        };
        assert_eq!(go("1", "a", 0), "execute");
        assert_eq!(go("2", "a", 10), "execute");
        assert_eq!(go("3", "a", 20), "rate_limited"); // per service: 2 in 60 s
        assert_eq!(go("4", "b", 30), "execute");
        assert_eq!(go("5", "c", 40), "rate_limited"); // global: 3 in 60 s
        assert_eq!(go("6", "c", 60), "execute"); // the start at 0 left the window (0, 60]
        assert_eq!(go("7", "a", 71), "execute"); // a's starts: 10 only in (11, 71]
    }

    #[test]
    fn concurrency_counts_executions_in_flight() {
        let mut e = engine(open_policy().max_concurrent(Some(1)).build().unwrap());
        let r = e.handle(&inc("a", "api", Severity::High), t(0));
        assert_eq!(e.in_flight(), 1);
        let d = e.decide(&inc("b", "api", Severity::High), t(1));
        assert_eq!(
            d.verdict,
            Verdict::Skip(SkipReason::Concurrency {
                in_flight: 1,
                max: 1
            })
        );
        e.complete_simulated(exec_id(&r), true, t(2)).unwrap();
        assert_eq!(
            e.complete_simulated(exec_id(&r), true, t(2)).unwrap_err(),
            HealError::AlreadyComplete(exec_id(&r).0)
        );
        assert_eq!(
            e.decide(&inc("b", "api", Severity::High), t(3)).verdict,
            Verdict::Execute
        );
    }

    #[test]
    fn blast_radius_limits_the_share_of_services_touched() {
        let p = open_policy()
            .blast_radius(Some(BlastRadius::new(0.2, 600, 10).unwrap()))
            .build()
            .unwrap();
        let mut e = HealingEngine::new(p);
        e.add_rule(rule(
            "any",
            Pattern::new().exact("alertname", "HighLatency"),
            &[ActionType::ScaleOut],
        ))
        .unwrap();
        for (k, s) in ["a", "b"].iter().enumerate() {
            let r = e.handle(&inc("x", s, Severity::High), t(k as i64));
            assert!(r.execution_id.is_some());
        }
        let d = e.decide(&inc("y", "c", Severity::High), t(10));
        assert_eq!(
            d.verdict,
            Verdict::Skip(SkipReason::BlastRadius {
                touched: 2,
                max_services: 2
            })
        );
        // a service already touched may be touched again
        assert_eq!(
            e.decide(&inc("y", "a", Severity::High), t(10)).verdict,
            Verdict::Execute
        );
        assert_eq!(
            e.decide(&inc("y", "c", Severity::High), t(601)).verdict,
            Verdict::Execute
        );
    }

    #[test]
    fn approval_for_chosen_actions_and_below_a_confidence() {
        let mut e = HealingEngine::new(Policy::builder().build().unwrap());
        e.add_rule(rule(
            "rb",
            Pattern::new().exact("service", "api"),
            &[ActionType::Rollback],
        ))
        .unwrap();
        e.add_rule(
            rule(
                "rs",
                Pattern::new().exact("service", "db"),
                &[ActionType::RestartService],
            )
            .with_compensation(ActionType::DrainTraffic),
        )
        .unwrap();
        let d = e.decide(&inc("i", "api", Severity::High), t(0));
        assert_eq!(
            d.verdict,
            Verdict::ApprovalRequired(ApprovalReason::Action {
                action: ActionType::Rollback
            })
        );
        assert!(d.plan_to_execute().is_none() && d.plan.is_some());
        // the compensating action is gated too
        assert_eq!(
            e.decide(&inc("i", "db", Severity::High), t(0)).verdict,
            Verdict::ApprovalRequired(ApprovalReason::Action {
                action: ActionType::DrainTraffic
            })
        );
        let rec = e.handle_approved(&inc("i", "api", Severity::High), t(0));
        let AuditEvent::Decision(d) = &rec.event else {
            unreachable!()
        };
        assert!(d.approved && d.verdict == Verdict::Execute && rec.execution_id.is_some());
        // approval below a confidence
        let mut e = engine(open_policy().approval_below(Some(0.5)).build().unwrap());
        let d = e.decide(&inc("i", "api", Severity::High), t(0));
        assert!(matches!(
            d.verdict,
            Verdict::ApprovalRequired(ApprovalReason::LowConfidence { below, .. }) if below == 0.5
        ));
        e.rules[0].stats.successes = 10;
        assert_eq!(
            e.decide(&inc("i", "api", Severity::High), t(0)).verdict,
            Verdict::Execute
        );
    }

    #[test]
    fn shadow_mode_until_n_confirmed_successes() {
        let mut e = engine(open_policy().shadow_until_successes(2).build().unwrap());
        let i = inc("i", "api", Severity::High);
        let r = e.handle(&i, t(0));
        let AuditEvent::Decision(d) = &r.event else {
            unreachable!()
        };
        assert_eq!(
            d.verdict,
            Verdict::Skip(SkipReason::Shadow {
                confirmed_successes: 0,
                required: 2
            })
        );
        assert_eq!(e.in_flight(), 0);
        let id = exec_id(&r);
        assert_eq!(
            e.complete_simulated(id, true, t(1)).unwrap_err(),
            HealError::NotExecuted(id.0)
        );
        e.record_feedback(id, Feedback::Success, t(1)).unwrap();
        let r2 = e.handle(&i, t(2));
        e.record_feedback(exec_id(&r2), Feedback::Failure, t(3))
            .unwrap();
        assert_eq!(e.decide(&i, t(4)).skip_reason().unwrap().code(), "shadow");
        e.record_feedback(exec_id(&r2), Feedback::Success, t(5))
            .unwrap();
        assert_eq!(e.rule_stats("api-restart").unwrap().successes, 2);
        assert_eq!(e.rule_stats("api-restart").unwrap().failures, 0);
        assert_eq!(e.decide(&i, t(6)).verdict, Verdict::Execute);
    }

    #[test]
    fn feedback_corrects_counts_once_per_execution() {
        let mut e = engine(open_policy().build().unwrap());
        let i = inc("i", "api", Severity::High);
        let r = e.handle(&i, t(0));
        let id = exec_id(&r);
        e.complete_simulated(id, true, t(1)).unwrap();
        assert_eq!(e.rule_stats("api-restart").unwrap().successes, 1);
        // the incident did not resolve after all
        let fb = e.record_feedback(id, Feedback::Failure, t(100)).unwrap();
        assert!(matches!(
            fb.event,
            AuditEvent::Feedback {
                previous: Some(true),
                ..
            }
        ));
        let s = e.rule_stats("api-restart").unwrap();
        assert_eq!((s.successes, s.failures), (0, 1));
        e.record_feedback(id, Feedback::Failure, t(101)).unwrap();
        let s = e.rule_stats("api-restart").unwrap();
        assert_eq!((s.successes, s.failures), (0, 1));
        assert_eq!(
            e.record_feedback(ExecutionId(99), Feedback::Success, t(0))
                .unwrap_err(),
            HealError::UnknownExecution(99)
        );
        // feedback before the outcome stays the counted outcome
        let r = e.handle(&i, t(200));
        e.record_feedback(exec_id(&r), Feedback::Success, t(201))
            .unwrap();
        e.complete_simulated(exec_id(&r), false, t(202)).unwrap();
        let s = e.rule_stats("api-restart").unwrap();
        assert_eq!((s.successes, s.failures, s.consecutive_failures), (1, 1, 1));
        assert_eq!(r.seq + 2, 5 + 1);
    }

    #[test]
    fn forgetting_old_executions_keeps_stats_and_in_flight_ones() {
        let mut e = engine(open_policy().build().unwrap());
        let i = inc("i", "api", Severity::High);
        let old = e.handle(&i, t(0));
        e.complete_simulated(exec_id(&old), true, t(1)).unwrap();
        let running = e.handle(&i, t(2));
        let recent = e.handle(&i, t(100));
        e.complete_simulated(exec_id(&recent), true, t(101))
            .unwrap();
        assert_eq!(e.forget_before(t(50)), 1);
        assert_eq!(
            e.record_feedback(exec_id(&old), Feedback::Failure, t(200)),
            Err(HealError::UnknownExecution(exec_id(&old).0))
        );
        e.complete_simulated(exec_id(&running), true, t(201))
            .unwrap();
        e.record_feedback(exec_id(&recent), Feedback::Failure, t(202))
            .unwrap();
        let s = e.rule_stats("api-restart").unwrap();
        assert_eq!((s.successes, s.failures), (2, 1));
    }

    #[test]
    fn forgetting_keeps_only_the_starts_a_cooldown_still_holds() {
        // Each service's last start was kept for ever: a stream of new services grew the
        // engine without bound even with `forget_before`.
        let mut e = any_service(open_policy().cooldown_secs(100).build().unwrap());
        for k in 0..50 {
            let i = inc(&format!("i{k}"), &format!("api-{k}"), Severity::High);
            let r = e.handle(&i, t(10 * k));
            e.complete_simulated(exec_id(&r), true, t(10 * k + 1))
                .unwrap();
        }
        e.forget_before(t(400));
        // Started at 310-490: a cooldown of 100 s still holds those after 300 at 400.
        let kept = e.rules.iter().map(|r| r.last_start.len()).sum::<usize>();
        assert_eq!(kept, 19);
        let again = |e: &HealingEngine, k: i64| {
            let i = inc("x", &format!("api-{k}"), Severity::High);
            e.decide(&i, t(405)).verdict
        };
        assert!(matches!(
            again(&e, 49),
            Verdict::Skip(SkipReason::Cooldown { .. })
        ));
        assert_eq!(again(&e, 20), Verdict::Execute);
    }

    #[test]
    fn starts_recorded_out_of_time_order_still_count() {
        // A start at 500 recorded after one at 1000 was pruned at once (1000 - 100 s).
        let mut e = open_with(|p| p.global_rate(Some(RateLimit::new(1, 100).unwrap())));
        assert_eq!(go(&mut e, "a", 1000), Verdict::Execute);
        assert_eq!(go(&mut e, "b", 500), Verdict::Execute);
        assert!(matches!(
            go(&mut e, "c", 550),
            Verdict::Skip(SkipReason::RateLimited { count: 1, .. })
        ));
        // The blast radius alike: a start at 1500 recorded first still counts at 1000.
        let mut e = open_with(|p| p.blast_radius(Some(BlastRadius::new(0.1, 1000, 10).unwrap())));
        assert_eq!(go(&mut e, "a", 1500), Verdict::Execute);
        assert_eq!(go(&mut e, "b", 400), Verdict::Execute);
        assert_eq!(
            go(&mut e, "c", 1000),
            Verdict::Skip(SkipReason::BlastRadius {
                touched: 1,
                max_services: 1
            })
        );
    }

    #[test]
    fn a_decision_before_later_starts_fits_every_window_holding_it() {
        // One execution per 100 s. A decision at 950 after a start at 1000 counted only the
        // window (850, 950] and ran: the window (900, 1000] then held two.
        let mut e = open_with(|p| p.global_rate(Some(RateLimit::new(1, 100).unwrap())));
        assert_eq!(go(&mut e, "a", 1000), Verdict::Execute);
        assert_eq!(
            go(&mut e, "b", 950),
            Verdict::Skip(SkipReason::RateLimited {
                scope: RateScope::Global,
                count: 1,
                max: 1,
                window_secs: 100
            })
        );
        // No window of 100 s holds both 900 and 1000.
        assert_eq!(go(&mut e, "c", 900), Verdict::Execute);
        // Per service alike; another service is not held back.
        let mut e = open_with(|p| p.service_rate(Some(RateLimit::new(1, 100).unwrap())));
        assert_eq!(go(&mut e, "a", 1000), Verdict::Execute);
        assert!(matches!(
            go(&mut e, "a", 950),
            Verdict::Skip(SkipReason::RateLimited {
                scope: RateScope::Service,
                count: 1,
                ..
            })
        ));
        assert_eq!(go(&mut e, "b", 950), Verdict::Execute);
        // The blast radius (1 of 4 services per 100 s): a later start on another service
        // counts; one on the same service does not.
        let mut e = open_with(|p| p.blast_radius(Some(BlastRadius::new(0.25, 100, 4).unwrap())));
        assert_eq!(go(&mut e, "a", 1000), Verdict::Execute);
        assert_eq!(
            go(&mut e, "b", 950),
            Verdict::Skip(SkipReason::BlastRadius {
                touched: 1,
                max_services: 1
            })
        );
        assert_eq!(go(&mut e, "a", 950), Verdict::Execute);
        assert_eq!(go(&mut e, "b", 850), Verdict::Execute);
    }

    #[test]
    fn decisions_before_forgotten_history_do_not_run() {
        let verdict = |e: &mut HealingEngine, svc: &str, at: i64| handled(e, svc, t(at));
        // One execution an hour. The start at 0 is forgotten once one at 10,000 is recorded;
        // a decision at 100 would need it (a fresh engine says RateLimited): not run.
        let mut e = any_service(
            open_policy()
                .global_rate(Some(RateLimit::new(1, 3600).unwrap()))
                .build()
                .unwrap(),
        );
        assert_eq!(verdict(&mut e, "a", 0), Verdict::Execute);
        assert_eq!(verdict(&mut e, "b", 10_000), Verdict::Execute);
        assert_eq!(
            e.decide(&inc("c", "c", Severity::High), t(100)).verdict,
            Verdict::Skip(SkipReason::BeforeHistory {
                forgotten_through: t(10_000 - 3600)
            })
        );
        // In time order nothing changes: the next hour is open again.
        assert_eq!(verdict(&mut e, "d", 13_601), Verdict::Execute);
        // The blast radius alike (half of 4 services in 100 s).
        let mut e = any_service(
            open_policy()
                .blast_radius(Some(BlastRadius::new(0.5, 100, 4).unwrap()))
                .build()
                .unwrap(),
        );
        for (svc, at) in [("a", 0), ("b", 10), ("c", 10_000)] {
            assert_eq!(verdict(&mut e, svc, at), Verdict::Execute);
        }
        assert!(matches!(
            verdict(&mut e, "d", 20),
            Verdict::Skip(SkipReason::BeforeHistory { .. })
        ));
    }

    #[test]
    fn limits_hold_at_the_ends_of_time() {
        let verdict = |e: &mut HealingEngine, at: Timestamp| handled(e, "db", at);
        // A cooldown running past the last millisecond still holds (it saturated there).
        let mut e = any_service(open_policy().cooldown_secs(300).build().unwrap());
        let end = Timestamp::from_millis(i64::MAX);
        assert_eq!(verdict(&mut e, end.add_millis(-1000)), Verdict::Execute);
        assert!(matches!(
            verdict(&mut e, end),
            Verdict::Skip(SkipReason::Cooldown { .. })
        ));
        // A window reaching before the first millisecond holds a start made there.
        let mut e = any_service(
            open_policy()
                .global_rate(Some(RateLimit::new(1, 3600).unwrap()))
                .build()
                .unwrap(),
        );
        let start = Timestamp::from_millis(i64::MIN);
        assert_eq!(verdict(&mut e, start), Verdict::Execute);
        assert!(matches!(
            verdict(&mut e, start.add_millis(1000)),
            Verdict::Skip(SkipReason::RateLimited { count: 1, .. })
        ));
    }

    #[test]
    fn dry_run_is_a_mode_not_a_reason() {
        let mut e = engine(open_policy().dry_run(true).build().unwrap());
        let r = e.handle(&inc("i", "api", Severity::High), t(0));
        let AuditEvent::Decision(d) = &r.event else {
            unreachable!()
        };
        assert!(d.dry_run && d.verdict == Verdict::Execute);
        assert!(d.plan_to_execute().unwrap().dry_run);
        let done = e.complete_simulated(exec_id(&r), true, t(9)).unwrap();
        assert!(matches!(
            done.event,
            AuditEvent::Completed {
                dry_run: true,
                success: true,
                ..
            }
        ));
    }

    #[test]
    fn confidence_outside_unit_range_never_executes() {
        // A rule with threshold 0 and no other limit: only the confidence check can stop it.
        let e = engine(open_policy().build().unwrap());
        for c in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.1, 1.5] {
            let v = e.verdict(0, Some("api"), c, t(100), true);
            assert!(
                matches!(v, Verdict::Skip(SkipReason::LowConfidence { threshold, .. }) if threshold == 0.0),
                "confidence {c}: {v:?}"
            );
        }
        assert_eq!(
            e.verdict(0, Some("api"), 0.0, t(100), true),
            Verdict::Execute
        );
        assert_eq!(
            e.verdict(0, Some("api"), 1.0, t(100), true),
            Verdict::Execute
        );

        // The reported case: a literal model with a NaN prior, past a 0.99 threshold, put in
        // the policy without the builder's check.
        let mut policy = open_policy().build().unwrap();
        policy.model = ConfidenceModel::BetaLowerBound {
            prior_successes: f64::NAN,
            prior_failures: 1.0,
            z: 1.645,
            severity_weighted: false,
        };
        let mut e = HealingEngine::new(policy);
        e.add_rule(
            Rule::new(
                "r",
                Pattern::new().exact("service", "api"),
                [ActionType::RestartService],
            )
            .unwrap()
            .with_threshold(0.99)
            .unwrap(),
        )
        .unwrap();
        let d = e.decide(&inc("i", "api", Severity::Critical), t(100));
        assert_eq!(reason(&d), "low_confidence", "{:?}", d.verdict);
        assert_eq!(d.confidence.unwrap().value, 0.0);
    }

    #[test]
    fn forgetting_keeps_a_cooldown_that_runs_past_the_end_of_time() {
        // `forget_before` compared `last + cooldown`, saturated at the last millisecond, with
        // `before`: a start whose cooldown still held at the end of time was dropped, and the
        // next execution let through.
        let mut e = any_service(open_policy().cooldown_secs(300).build().unwrap());
        let end = Timestamp::from_millis(i64::MAX);
        let r = e.handle(&inc("a", "db", Severity::High), end.add_millis(-1000));
        e.complete_simulated(exec_id(&r), true, end.add_millis(-500))
            .unwrap();
        let cooling = |e: &HealingEngine| {
            matches!(
                e.decide(&inc("b", "db", Severity::High), end).verdict,
                Verdict::Skip(SkipReason::Cooldown { .. })
            )
        };
        assert!(cooling(&e));
        e.forget_before(end);
        assert!(
            cooling(&e),
            "forgetting dropped a cooldown that still holds"
        );
        assert_eq!(e.rules[0].last_start.len(), 1);
    }

    /// An incident whose alerts name no service.
    fn inc_without_service(id: &str) -> Incident {
        let labels = Labels::from_pairs([("alertname", "HighLatency"), ("severity", "high")]);
        let alert = aiops_core::Alert::new(labels, Timestamp::EPOCH);
        let i = Incident::from_alerts(id, vec![alert]).unwrap();
        assert_eq!(i.primary_service(), None);
        i
    }

    #[test]
    fn plans_without_a_service_touch_no_service() {
        // Executions without a service were recorded under the service "": they counted
        // towards the blast radius and shared one per-service rate bucket.
        let policy = |p: crate::PolicyBuilder| {
            p.blast_radius(Some(BlastRadius::new(0.1, 600, 10).unwrap()))
                .service_rate(Some(RateLimit::new(1, 3600).unwrap()))
                .build()
                .unwrap()
        };
        let mut e = any_service(policy(open_policy()));
        let r = e.handle(&inc_without_service("x"), t(0));
        let id = exec_id(&r);
        assert_eq!(e.in_flight(), 1);
        // The blast radius (1 service of 10) and api's rate bucket are untouched...
        assert_eq!(
            e.decide(&inc("a", "api", Severity::High), t(1)).verdict,
            Verdict::Execute
        );
        // ...and another plan without a service has no per-service bucket to share.
        assert_eq!(
            handled_incident(&mut e, &inc_without_service("y"), t(2)),
            Verdict::Execute
        );
        let AuditEvent::Completed { service, .. } =
            e.complete_simulated(id, true, t(3)).unwrap().event
        else {
            unreachable!()
        };
        assert_eq!(service, None);
        // Global limits still apply to them.
        let mut e = any_service(policy(
            open_policy().global_rate(Some(RateLimit::new(2, 3600).unwrap())),
        ));
        assert_eq!(
            handled_incident(&mut e, &inc_without_service("x"), t(0)),
            Verdict::Execute
        );
        assert_eq!(handled(&mut e, "api", t(1)), Verdict::Execute);
        assert!(matches!(
            handled_incident(&mut e, &inc_without_service("y"), t(2)),
            Verdict::Skip(SkipReason::RateLimited {
                scope: RateScope::Global,
                count: 2,
                ..
            })
        ));
        // So does the cooldown, shared by the rule's plans without a service (not by a
        // service's plans), and it is forgotten once over.
        let mut e = any_service(open_policy().cooldown_secs(300).build().unwrap());
        assert_eq!(
            handled_incident(&mut e, &inc_without_service("x"), t(0)),
            Verdict::Execute
        );
        assert_eq!(handled(&mut e, "api", t(1)), Verdict::Execute);
        assert!(matches!(
            e.decide(&inc_without_service("y"), t(299)).verdict,
            Verdict::Skip(SkipReason::Cooldown { last_started, .. }) if last_started == t(0)
        ));
        e.forget_before(t(299));
        assert!(e.rules[0].last_start_no_service.is_some());
        e.forget_before(t(300));
        assert!(e.rules[0].last_start_no_service.is_none());
        assert_eq!(
            e.decide(&inc_without_service("y"), t(300)).verdict,
            Verdict::Execute
        );
    }

    /// The verdict of handling `incident` at `at`.
    fn handled_incident(e: &mut HealingEngine, incident: &Incident, at: Timestamp) -> Verdict {
        match e.handle(incident, at).event {
            AuditEvent::Decision(d) => d.verdict,
            _ => unreachable!(),
        }
    }

    /// Runs the plan of an `Execute` record with `handlers` on a clock that never moves.
    fn run_plan(r: &AuditRecord, handlers: &crate::Handlers) -> Outcome {
        struct Still;
        impl crate::Sleeper for Still {
            fn now(&self) -> Timestamp {
                Timestamp::EPOCH
            }
            fn sleep(&self, _: u64) -> futures::future::BoxFuture<'_, ()> {
                Box::pin(async {})
            }
        }
        let AuditEvent::Decision(d) = &r.event else {
            unreachable!()
        };
        futures::executor::block_on(crate::execute(
            d.plan_to_execute().unwrap(),
            handlers,
            &Still,
        ))
    }

    #[test]
    fn refused_outcomes_are_not_charged_to_the_rule() {
        // A plan refused for a missing handler counted as the rule's failure and opened its
        // circuit, though nothing ran.
        let mut e = engine(
            open_policy()
                .circuit_breaker_failures(Some(1))
                .max_concurrent(Some(1))
                .build()
                .unwrap(),
        );
        let i = inc("i", "api", Severity::High);
        let r = e.handle(&i, t(0));
        let out = run_plan(&r, &crate::Handlers::new());
        assert_eq!(
            out.refused,
            Some(Refusal::UnknownAction {
                action: ActionType::RestartService
            })
        );
        let done = e.complete(exec_id(&r), &out).unwrap();
        assert!(matches!(
            done.event,
            AuditEvent::Completed {
                success: false,
                refused: Some(Refusal::UnknownAction { .. }),
                ..
            }
        ));
        assert_eq!(e.rule_stats("api-restart").unwrap(), RuleStats::default());
        assert_eq!(e.in_flight(), 0);
        assert_eq!(e.decide(&i, t(1)).verdict, Verdict::Execute);
        // Feedback on it still counts, as on any execution.
        e.record_feedback(exec_id(&r), Feedback::Failure, t(2))
            .unwrap();
        assert_eq!(e.rule_stats("api-restart").unwrap().failures, 1);
    }

    #[test]
    fn a_panicking_handler_frees_its_slot_and_counts_as_a_failure() {
        // A panic unwound out of `execute`: no outcome, and the execution stayed in flight
        // for ever (every later decision: Skip(Concurrency)).
        let mut e = engine(open_policy().max_concurrent(Some(1)).build().unwrap());
        let mut h = crate::Handlers::new();
        h.insert(
            ActionType::RestartService,
            |_: &ActionType, _: &Plan| -> crate::HandlerFuture<'static> {
                Box::pin(async { panic!("restart blew up") })
            },
        );
        let i = inc("i", "api", Severity::High);
        let r = e.handle(&i, t(0));
        let out = run_plan(&r, &h);
        assert!(!out.success && out.refused.is_none());
        assert_eq!(
            out.actions[0].status,
            crate::ActionStatus::Failed("handler panicked: restart blew up".into())
        );
        e.complete(exec_id(&r), &out).unwrap();
        assert_eq!(e.in_flight(), 0);
        let s = e.rule_stats("api-restart").unwrap();
        assert_eq!((s.failures, s.consecutive_failures), (1, 1));
        assert_eq!(e.decide(&i, t(1)).verdict, Verdict::Execute);
    }
}
