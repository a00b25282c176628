//! Property tests: whatever the sequence of incidents, outcomes and feedback, no recorded
//! execution violates a policy, and dry run never calls a handler.
//!
//! The checker below is independent of the engine's policy code: it replays the audit log
//! (decisions, completions, feedback) with brute-force scans over all earlier records.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use aiops_core::{Alert, Incident, Labels, Severity, Timestamp};
use aiops_heal::{
    ActionType, AuditEvent, AuditRecord, BlastRadius, ConfidenceModel, Feedback, HandlerFuture,
    Handlers, HealingEngine, Pattern, Plan, Policy, RateLimit, Rule, Sleeper, Verdict, execute,
};
use futures::future::BoxFuture;
use proptest::prelude::*;

const SERVICES: [&str; 5] = ["api", "db", "cache", "web", "queue"];
/// The `service` index of an incident whose alerts name no service.
const NO_SERVICE: usize = SERVICES.len();
const TOTAL_SERVICES: u32 = 5;

#[derive(Debug, Clone)]
struct Params {
    dry_run: bool,
    article: bool,
    cooldown: u64,
    global: Option<(u32, u64)>,
    per_service: Option<(u32, u64)>,
    concurrent: Option<u32>,
    approval_rollback: bool,
    approval_below: Option<f64>,
    blast: Option<(f64, u64)>,
    circuit: Option<u32>,
    shadow: u32,
    thresholds: [f64; 4],
}

#[derive(Debug, Clone)]
enum Op {
    Incident {
        service: usize,
        severity: usize,
        team: bool,
        approved: bool,
        dt: i64,
    },
    Complete {
        pick: usize,
        success: bool,
        dt: i64,
    },
    Feedback {
        pick: usize,
        success: bool,
    },
    Reset {
        rule: usize,
    },
}

fn params() -> impl Strategy<Value = Params> {
    (
        (
            any::<bool>(),
            any::<bool>(),
            prop_oneof![Just(0u64), Just(30), Just(120)],
        ),
        (
            proptest::option::of((0u32..5, 30u64..400)),
            proptest::option::of((0u32..3, 30u64..400)),
            proptest::option::of(0u32..3),
        ),
        (
            any::<bool>(),
            proptest::option::of(0.0f64..1.0),
            proptest::option::of((0.0f64..=1.0, 30u64..400)),
            proptest::option::of(1u32..4),
            0u32..3,
        ),
        proptest::array::uniform4(prop_oneof![Just(0.0f64), Just(0.02), Just(0.3), Just(0.6)]),
    )
        .prop_map(
            |(
                (dry_run, article, cooldown),
                (global, per_service, concurrent),
                (approval_rollback, approval_below, blast, circuit, shadow),
                thresholds,
            )| Params {
                dry_run,
                article,
                cooldown,
                global,
                per_service,
                concurrent,
                approval_rollback,
                approval_below,
                blast,
                circuit,
                shadow,
                thresholds,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..=NO_SERVICE, 0usize..5, any::<bool>(), prop::bool::weighted(0.2), 0i64..60).prop_map(
            |(service, severity, team, approved, dt)| Op::Incident { service, severity, team, approved, dt }
        ),
        3 => (any::<usize>(), prop::bool::weighted(0.7), 0i64..60)
            .prop_map(|(pick, success, dt)| Op::Complete { pick, success, dt }),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(pick, success)| Op::Feedback { pick, success }),
        1 => (0usize..4).prop_map(|rule| Op::Reset { rule }),
    ]
}

fn build(p: &Params) -> HealingEngine {
    let mut b = Policy::builder()
        .dry_run(p.dry_run)
        .model(if p.article {
            ConfidenceModel::Article
        } else {
            ConfidenceModel::default()
        })
        .cooldown_secs(p.cooldown)
        .global_rate(p.global.map(|(m, w)| RateLimit::new(m, w).unwrap()))
        .service_rate(p.per_service.map(|(m, w)| RateLimit::new(m, w).unwrap()))
        .max_concurrent(p.concurrent)
        .approval_below(p.approval_below)
        .blast_radius(
            p.blast
                .map(|(s, w)| BlastRadius::new(s, w, TOTAL_SERVICES).unwrap()),
        )
        .circuit_breaker_failures(p.circuit)
        .shadow_until_successes(p.shadow);
    b = if p.approval_rollback {
        b.approval_actions([ActionType::Rollback])
    } else {
        b.approval_actions([])
    };
    let mut e = HealingEngine::new(b.build().unwrap());
    let rules = [
        Rule::new(
            "api-restart",
            Pattern::new().exact("service", "api"),
            [ActionType::RestartService],
        ),
        Rule::new(
            "db-rollback",
            Pattern::new()
                .exact("service", "db")
                .any_of("severity", ["critical", "high"]),
            [ActionType::ClearCache, ActionType::Rollback],
        ),
        Rule::new(
            "team-scale",
            Pattern::new()
                .exact("team", "web")
                .any_of("service", ["web", "cache", "queue"]),
            [ActionType::ScaleOut],
        ),
        Rule::new(
            "critical-drain",
            Pattern::new().exact("severity", "critical"),
            [ActionType::DrainTraffic],
        ),
    ];
    for (r, th) in rules.into_iter().zip(p.thresholds) {
        e.add_rule(r.unwrap().with_threshold(th).unwrap()).unwrap();
    }
    e
}

struct Clock(AtomicI64);
impl Sleeper for Clock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
    fn sleep(&self, millis: u64) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.0.fetch_add(millis as i64, Ordering::SeqCst);
        })
    }
}

fn counting_handlers(calls: &Arc<AtomicUsize>) -> Handlers {
    let mut h = Handlers::new();
    for a in ActionType::BUILT_IN {
        let calls = Arc::clone(calls);
        h.insert(
            a,
            move |_: &ActionType, _: &Plan| -> HandlerFuture<'static> {
                calls.fetch_add(1, Ordering::SeqCst);
                Box::pin(async { Ok(()) })
            },
        );
    }
    h
}

/// Independent confidence formulas (written from the docs, not calling the crate).
fn confidence(article: bool, s: u64, f: u64, sev: Severity) -> f64 {
    if article {
        let factor = match sev {
            Severity::Critical => 0.9,
            Severity::High => 0.8,
            Severity::Medium => 0.7,
            Severity::Low => 0.6,
            _ => 0.5,
        };
        let rate = if s + f == 0 {
            0.0
        } else {
            s as f64 / (s + f) as f64
        };
        ((0.5 + 0.3 * rate) * factor).min(1.0)
    } else {
        let (a, b) = (1.0 + s as f64, 1.0 + f as f64);
        let n = a + b;
        (a / n - 1.645 * (a * b / (n * n * (n + 1.0))).sqrt()).clamp(0.0, 1.0)
    }
}

/// Brute-force check of the whole log. Returns the first violation.
fn check(p: &Params, log: &[AuditRecord]) -> Result<usize, String> {
    struct Exec {
        at: i64,
        rule: String,
        service: Option<String>,
        id: u64,
    }
    let mut execs: Vec<Exec> = Vec::new();
    let mut completed: HashMap<u64, u64> = HashMap::new(); // id -> seq of completion
    // (rule, Some(success)) per completion, (rule, None) per circuit reset, in log order.
    let mut completions: Vec<(String, Option<bool>)> = Vec::new();
    let mut counted: HashMap<u64, (String, bool)> = HashMap::new();
    let mut rule_of: HashMap<u64, String> = HashMap::new();
    let mut n_exec = 0;
    for rec in log {
        let now = rec.at.as_millis();
        match &rec.event {
            AuditEvent::Decision(d) => {
                if d.dry_run != p.dry_run {
                    return Err(format!("seq {}: dry-run flag {}", rec.seq, d.dry_run));
                }
                if let Some(id) = rec.execution_id {
                    rule_of.insert(id.0, d.rule_id.clone().unwrap());
                }
                // Only decisions with a matched rule carry conditions to judge.
                let (Some(rule), Some(plan), Some(c)) =
                    (d.rule_id.clone(), d.plan.as_ref(), d.confidence.as_ref())
                else {
                    if d.verdict == Verdict::Execute {
                        return Err(format!("seq {}: execute without rule or plan", rec.seq));
                    }
                    continue;
                };
                // A plan without a service touches none: no per-service rate limit, no blast
                // radius; its cooldown is shared by the rule's plans without a service.
                let service = d.service.clone();
                if plan.dry_run != p.dry_run {
                    return Err(format!("seq {}: plan dry-run flag", rec.seq));
                }
                // Every condition that forbids running now, by brute force over the log so far.
                let mut blocked: Vec<&'static str> = Vec::new();
                let earlier = |w: u64| {
                    execs
                        .iter()
                        .filter(move |e| e.at > now - (w as i64) * 1000 && e.at <= now)
                };
                if execs.iter().any(|e| {
                    e.rule == rule && e.service == service && now - e.at < p.cooldown as i64 * 1000
                }) {
                    blocked.push("cooldown");
                }
                if p.global
                    .is_some_and(|(max, w)| earlier(w).count() as u32 >= max)
                {
                    blocked.push("rate_limited");
                }
                if service.is_some()
                    && p.per_service.is_some_and(|(max, w)| {
                        earlier(w).filter(|e| e.service == service).count() as u32 >= max
                    })
                {
                    blocked.push("rate_limited");
                }
                let in_flight = execs
                    .iter()
                    .filter(|e| completed.get(&e.id).is_none_or(|&s| s > rec.seq))
                    .count() as u32;
                if p.concurrent.is_some_and(|max| in_flight >= max) {
                    blocked.push("concurrency");
                }
                if let (Some((share, w)), Some(service)) = (p.blast, &service) {
                    let mut touched: HashSet<&str> =
                        earlier(w).filter_map(|e| e.service.as_deref()).collect();
                    touched.insert(service);
                    let allowed = (share * f64::from(TOTAL_SERVICES) + 1e-9).floor() as usize;
                    if touched.len() > allowed {
                        blocked.push("blast_radius");
                    }
                }
                let mut streak = 0;
                for (r, ok) in &completions {
                    if *r == rule {
                        streak = if *ok == Some(false) { streak + 1 } else { 0 };
                    }
                }
                if p.circuit.is_some_and(|k| streak >= k) {
                    blocked.push("circuit_open");
                }
                let succ = counted.values().filter(|(r, ok)| *r == rule && *ok).count() as u64;
                let fail = counted
                    .values()
                    .filter(|(r, ok)| *r == rule && !*ok)
                    .count() as u64;
                if succ < u64::from(p.shadow) {
                    blocked.push("shadow");
                }
                let conf = confidence(p.article, succ, fail, c.severity);
                if (conf - c.value).abs() > 1e-9 {
                    return Err(format!("seq {}: confidence {} vs {conf}", rec.seq, c.value));
                }
                if conf < c.threshold {
                    blocked.push("low_confidence");
                }
                let gated = p.approval_rollback
                    && plan
                        .actions
                        .iter()
                        .chain(plan.compensation.iter())
                        .any(|a| *a == ActionType::Rollback);
                let needs_approval =
                    !d.approved && (gated || p.approval_below.is_some_and(|b| conf < b));
                match &d.verdict {
                    Verdict::Execute => {
                        if !blocked.is_empty() {
                            return Err(format!("seq {}: executed despite {blocked:?}", rec.seq));
                        }
                        if needs_approval {
                            return Err(format!("seq {}: executed without approval", rec.seq));
                        }
                    }
                    Verdict::ApprovalRequired(_) => {
                        if !blocked.is_empty() || !needs_approval {
                            return Err(format!(
                                "seq {}: approval asked, blocked {blocked:?}, needs {needs_approval}",
                                rec.seq
                            ));
                        }
                        continue;
                    }
                    Verdict::Skip(r) => {
                        // No spurious refusals: the reason given really holds.
                        if !blocked.contains(&r.code()) {
                            return Err(format!(
                                "seq {}: skipped for {} but only {blocked:?} hold",
                                rec.seq,
                                r.code()
                            ));
                        }
                        continue;
                    }
                    v => return Err(format!("unexpected verdict {v:?}")),
                }
                n_exec += 1;
                execs.push(Exec {
                    at: now,
                    rule,
                    service,
                    id: rec.execution_id.ok_or("execute without id")?.0,
                });
            }
            AuditEvent::Completed {
                rule_id,
                success,
                refused,
                ..
            } => {
                let id = rec.execution_id.unwrap().0;
                if completed.insert(id, rec.seq).is_some() {
                    return Err(format!("execution {id} completed twice"));
                }
                if refused.is_some() {
                    // Nothing ran: not charged to the rule (counts and circuit unchanged).
                    continue;
                }
                completions.push((rule_id.clone(), Some(*success)));
                counted.entry(id).or_insert((rule_id.clone(), *success));
            }
            AuditEvent::CircuitReset { rule_id, .. } => {
                completions.push((rule_id.clone(), None));
            }
            AuditEvent::Feedback { feedback, .. } => {
                let id = rec.execution_id.unwrap().0;
                counted.insert(id, (rule_of[&id].clone(), *feedback == Feedback::Success));
            }
            _ => return Err("unexpected event".into()),
        }
    }
    Ok(n_exec)
}

fn run(p: &Params, ops: &[Op]) -> (Vec<AuditRecord>, usize) {
    let mut e = build(p);
    let calls = Arc::new(AtomicUsize::new(0));
    let handlers = counting_handlers(&calls);
    let clock = Clock(AtomicI64::new(0));
    let mut log = Vec::new();
    let mut in_flight: Vec<aiops_heal::ExecutionId> = Vec::new();
    let mut all_ids: Vec<aiops_heal::ExecutionId> = Vec::new();
    let mut now = 1_000_000i64;
    for (k, op) in ops.iter().enumerate() {
        match *op {
            Op::Incident {
                service,
                severity,
                team,
                approved,
                dt,
            } => {
                now += dt;
                let mut labels = Labels::new();
                if team {
                    labels.insert("team", "web");
                }
                let inc = if service == NO_SERVICE {
                    labels.insert("severity", Severity::ALL[severity].as_str());
                    let alert = Alert::new(labels, Timestamp::from_secs(now));
                    Incident::from_alerts(format!("inc-{k}"), vec![alert]).unwrap()
                } else {
                    Incident::from_summary(
                        format!("inc-{k}"),
                        SERVICES[service],
                        Severity::ALL[severity],
                        labels,
                        Timestamp::from_secs(now),
                    )
                };
                let rec = if approved {
                    e.handle_approved(&inc, Timestamp::from_secs(now))
                } else {
                    e.handle(&inc, Timestamp::from_secs(now))
                };
                if let AuditEvent::Decision(d) = &rec.event
                    && let Some(plan) = d.plan_to_execute()
                {
                    let before = calls.load(Ordering::SeqCst);
                    let out = futures::executor::block_on(execute(plan, &handlers, &clock));
                    let after = calls.load(Ordering::SeqCst);
                    if p.dry_run {
                        assert_eq!(before, after, "dry run called a handler");
                        assert!(out.dry_run);
                    } else {
                        assert!(after > before);
                    }
                    in_flight.push(rec.execution_id.unwrap());
                }
                if let Some(id) = rec.execution_id {
                    all_ids.push(id);
                }
                log.push(rec);
            }
            Op::Complete { pick, success, dt } => {
                now += dt;
                if !in_flight.is_empty() {
                    let id = in_flight.remove(pick % in_flight.len());
                    log.push(
                        e.complete_simulated(id, success, Timestamp::from_secs(now))
                            .unwrap(),
                    );
                }
            }
            Op::Reset { rule } => {
                let id = ["api-restart", "db-rollback", "team-scale", "critical-drain"][rule];
                log.push(e.reset_circuit(id, Timestamp::from_secs(now)).unwrap());
            }
            Op::Feedback { pick, success } => {
                if !all_ids.is_empty() {
                    let id = all_ids[pick % all_ids.len()];
                    let fb = if success {
                        Feedback::Success
                    } else {
                        Feedback::Failure
                    };
                    log.push(
                        e.record_feedback(id, fb, Timestamp::from_secs(now))
                            .unwrap(),
                    );
                }
            }
        }
    }
    (log, calls.load(Ordering::SeqCst))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn no_policy_is_ever_violated(p in params(), ops in prop::collection::vec(op(), 1..120)) {
        let (log, calls) = run(&p, &ops);
        for (i, r) in log.iter().enumerate() {
            prop_assert_eq!(r.seq, i as u64);
        }
        let checked = check(&p, &log);
        prop_assert!(checked.is_ok(), "{:?}", checked);
        if p.dry_run {
            prop_assert_eq!(calls, 0);
        }
    }
}

/// The checker is not vacuous: it catches a log where policies were ignored.
#[test]
fn checker_catches_violations() {
    let p = Params {
        dry_run: false,
        article: false,
        cooldown: 0,
        global: None,
        per_service: None,
        concurrent: None,
        approval_rollback: false,
        approval_below: None,
        blast: None,
        circuit: None,
        shadow: 0,
        thresholds: [0.0; 4],
    };
    let ops: Vec<Op> = (0..4)
        .map(|_| Op::Incident {
            service: 0,
            severity: 3,
            team: false,
            approved: false,
            dt: 1,
        })
        .collect();
    let (log, calls) = run(&p, &ops);
    assert_eq!(check(&p, &log), Ok(4));
    assert_eq!(calls, 4);
    // The same log judged under stricter policies shows violations.
    let strict = Params {
        concurrent: Some(2),
        ..p.clone()
    };
    assert!(check(&strict, &log).unwrap_err().contains("concurrency"));
    let strict = Params {
        cooldown: 60,
        ..p.clone()
    };
    assert!(check(&strict, &log).unwrap_err().contains("cooldown"));
    let strict = Params {
        global: Some((3, 60)),
        ..p.clone()
    };
    assert!(check(&strict, &log).unwrap_err().contains("rate_limited"));
    let strict = Params {
        shadow: 1,
        ..p.clone()
    };
    assert!(check(&strict, &log).unwrap_err().contains("shadow"));
    let strict = Params {
        dry_run: true,
        ..p.clone()
    };
    assert!(check(&strict, &log).unwrap_err().contains("dry-run"));
    // A refusal whose reason does not hold is caught too.
    let mut spurious = log.clone();
    if let AuditEvent::Decision(d) = &mut spurious[1].event {
        d.verdict = Verdict::Skip(aiops_heal::SkipReason::Cooldown {
            last_started: Timestamp::EPOCH,
            until: Timestamp::EPOCH,
        });
    }
    assert!(
        check(&p, &spurious)
            .unwrap_err()
            .contains("skipped for cooldown")
    );
}

/// The generated cases reach every policy: each verdict and refusal reason the checker judges
/// occurs in 300 deterministic cases (so the property above is not vacuous).
#[test]
fn generated_cases_reach_every_policy() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = (params(), prop::collection::vec(op(), 1..120));
    let mut seen: HashMap<&'static str, u32> = HashMap::new();
    for _ in 0..300 {
        let (p, ops) = strategy.new_tree(&mut runner).unwrap().current();
        let (log, _) = run(&p, &ops);
        assert!(check(&p, &log).is_ok());
        for r in &log {
            if let AuditEvent::Decision(d) = &r.event {
                let code = match &d.verdict {
                    Verdict::Skip(s) => s.code(),
                    v => v.code(),
                };
                *seen.entry(code).or_default() += 1;
                if d.service.is_none() && d.verdict == Verdict::Execute {
                    *seen.entry("execute without a service").or_default() += 1;
                }
            }
        }
    }
    for code in [
        "execute",
        "approval_required",
        "no_rule",
        "low_confidence",
        "cooldown",
        "rate_limited",
        "concurrency",
        "blast_radius",
        "circuit_open",
        "shadow",
        "execute without a service",
    ] {
        assert!(
            seen.get(code).copied().unwrap_or(0) > 0,
            "{code} never occurs: {seen:?}"
        );
    }
}
