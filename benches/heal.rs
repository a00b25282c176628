//! `HealingEngine::decide` with 1,000 realistic rules: patterns over the same few fields
//! (service, severity, alertname, team, env), most incidents matching many rules partially.
//!
//! Compared in the same run: the engine's interned matching against the article's algorithm
//! (score every rule's pattern by string comparison, `Pattern::score`), and rule-count scaling.
//!
//! `cargo bench --bench heal` (or `-- --test` for a quick smoke run).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use aiops_core::{Incident, Labels, Severity, Timestamp};
use aiops_heal::{ActionType, HealingEngine, Pattern, Policy, Rule};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// A small deterministic generator (splitmix64), so the bench needs no extra dependency.
struct Gen(u64);
impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];
const TEAMS: [&str; 5] = ["payments", "search", "platform", "web", "data"];
const ENVS: [&str; 3] = ["prod", "staging", "dev"];

fn service(i: usize) -> String {
    format!("svc-{i:02}")
}
fn alertname(i: usize) -> String {
    format!("Alert{i:02}")
}

fn rules(n: usize, g: &mut Gen) -> Vec<Rule> {
    let actions = ActionType::BUILT_IN;
    (0..n)
        .map(|i| {
            let mut p = Pattern::new().exact("service", service(g.below(50)));
            if g.below(2) == 0 {
                p = p.any_of("severity", [SEVERITIES[g.below(5)], SEVERITIES[g.below(5)]]);
            }
            if g.below(2) == 0 {
                p = p.exact("alertname", alertname(g.below(20)));
            }
            if g.below(3) == 0 {
                p = p.any_of("team", [TEAMS[g.below(5)], TEAMS[g.below(5)]]);
            }
            if g.below(4) == 0 {
                p = p.exact("env", ENVS[g.below(3)]);
            }
            let acts = [actions[g.below(5)].clone(), actions[g.below(5)].clone()];
            Rule::new(format!("rule-{i}"), p, acts)
                .and_then(|r| r.with_threshold(0.0))
                .expect("valid generated rule")
        })
        .collect()
}

fn incidents(n: usize, g: &mut Gen) -> Vec<Incident> {
    (0..n)
        .map(|i| {
            let labels = Labels::from_pairs([
                ("alertname", alertname(g.below(20))),
                ("team", TEAMS[g.below(5)].to_owned()),
                ("env", ENVS[g.below(3)].to_owned()),
            ]);
            Incident::from_summary(
                format!("inc-{i}"),
                service(g.below(50)),
                Severity::ALL[g.below(5)],
                labels,
                Timestamp::from_secs(i as i64),
            )
        })
        .collect()
}

fn engine(rules: &[Rule]) -> HealingEngine {
    let mut e = HealingEngine::new(Policy::default());
    for r in rules {
        e.add_rule(r.clone()).expect("unique ids");
    }
    e
}

/// What the engines do with 3 rules whose remedies truly work 95 %, 60 % and 20 % of the time,
/// over 3,000 incidents 10 minutes apart (services api, db, cache; random severities).
/// Humans approve whatever the engine asks them to (each approval is counted).
fn print_policy_figures() {
    #[derive(Default)]
    struct Tally {
        auto: u32,
        auto_failed: u32,
        approved: u32,
        approved_failed: u32,
        approvals: u32,
        circuit_open: u32,
    }
    let truth = [("api", 0.95), ("db", 0.60), ("cache", 0.20)];
    let make = |policy: Policy, threshold: f64| {
        let mut e = HealingEngine::new(policy);
        for (svc, _) in truth {
            let r = Rule::new(
                format!("{svc}-fix"),
                Pattern::new().exact("service", svc),
                [ActionType::RestartService],
            )
            .and_then(|r| r.with_threshold(threshold))
            .expect("valid rule");
            e.add_rule(r).expect("unique");
        }
        e
    };
    let article = |threshold| make(Policy::article(), threshold);
    let learned = || {
        let p = Policy::builder()
            .approval_below(Some(0.8))
            .build()
            .expect("valid policy");
        make(p, 0.0)
    };
    let engines: [(&str, HealingEngine); 3] = [
        ("article, threshold 0.8", article(0.8)),
        ("article, threshold 0.4", article(0.4)),
        ("default model, approval below 0.8", learned()),
    ];
    println!("policy figures (3,000 incidents; true success 0.95 / 0.60 / 0.20):");
    println!(
        "| engine | auto executions | auto failures | approvals asked | approved failures | circuit-open skips |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, mut e) in engines {
        let mut g = Gen(2024);
        let mut t = Tally::default();
        for i in 0..3_000i64 {
            let (svc, p_ok) = truth[g.below(3)];
            let now = Timestamp::from_secs(i * 600);
            let inc = Incident::from_summary(
                format!("inc-{i}"),
                svc,
                Severity::ALL[g.below(5)],
                Labels::new(),
                now,
            );
            let ok = (g.next() % 10_000) as f64 / 10_000.0 < p_ok;
            let mut rec = e.handle(&inc, now);
            let mut approved = false;
            if let aiops_heal::AuditEvent::Decision(d) = &rec.event
                && d.skip_reason().is_some_and(|r| r.code() == "circuit_open")
            {
                t.circuit_open += 1;
            }
            if let aiops_heal::AuditEvent::Decision(d) = &rec.event
                && matches!(d.verdict, aiops_heal::Verdict::ApprovalRequired(_))
            {
                t.approvals += 1;
                approved = true;
                rec = e.handle_approved(&inc, now);
            }
            if let Some(id) = rec.execution_id {
                if approved {
                    t.approved += 1;
                    t.approved_failed += u32::from(!ok);
                } else {
                    t.auto += 1;
                    t.auto_failed += u32::from(!ok);
                }
                e.complete_simulated(id, ok, now.add_secs(60))
                    .expect("known execution");
            }
        }
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            t.auto, t.auto_failed, t.approvals, t.approved_failed, t.circuit_open
        );
    }
}

fn bench(c: &mut Criterion) {
    print_policy_figures();
    let mut g = Gen(42);
    let incs = incidents(1_000, &mut g);
    let mut group = c.benchmark_group("heal_decide");
    group.throughput(Throughput::Elements(incs.len() as u64));
    for n in [100usize, 1_000, 10_000] {
        let rs = rules(n, &mut Gen(7));
        let e = engine(&rs);
        group.bench_with_input(BenchmarkId::new("engine", n), &e, |b, e| {
            b.iter(|| {
                let mut executed = 0u32;
                for inc in &incs {
                    let d = e.decide(black_box(inc), Timestamp::from_secs(0));
                    executed += u32::from(d.plan_to_execute().is_some());
                }
                executed
            });
        });
        if n == 1_000 {
            // The article's algorithm: score each pattern by string comparison, first best wins.
            group.bench_with_input(BenchmarkId::new("article_match_only", n), &rs, |b, rs| {
                b.iter(|| {
                    let mut matched = 0u32;
                    for inc in &incs {
                        let mut best = 0.0;
                        let mut best_i = None;
                        for (i, r) in rs.iter().enumerate() {
                            let s = r.pattern().score(black_box(inc));
                            if s > best {
                                best = s;
                                best_i = Some(i);
                            }
                        }
                        matched += u32::from(best > 0.5 && best_i.is_some());
                    }
                    matched
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
