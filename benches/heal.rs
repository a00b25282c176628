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

fn bench(c: &mut Criterion) {
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
