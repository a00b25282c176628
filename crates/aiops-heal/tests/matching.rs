//! The engine's indexed matching picks the same rule as the article's algorithm written out
//! directly (score every pattern, first strictly-best wins, must exceed 0.5).

use aiops_core::{Incident, Labels, Severity, Timestamp};
use aiops_heal::{ActionType, HealingEngine, Matcher, Pattern, Policy, Rule};
use proptest::prelude::*;

const FIELDS: [&str; 4] = ["service", "severity", "team", "env"];
const VALUES: [[&str; 3]; 4] = [
    ["api", "db", "web"],
    ["critical", "high", "warning"],
    ["a", "b", "c"],
    ["prod", "dev", "qa"],
];

fn matcher(field: usize) -> impl Strategy<Value = Matcher> {
    prop_oneof![
        (0usize..3).prop_map(move |v| Matcher::Exact(VALUES[field][v].to_owned())),
        prop::collection::vec(0usize..3, 1..4).prop_map(move |vs| Matcher::AnyOf(
            vs.into_iter()
                .map(|v| VALUES[field][v].to_owned())
                .collect()
        )),
    ]
}

fn pattern() -> impl Strategy<Value = Pattern> {
    prop::collection::vec((0usize..4).prop_flat_map(|f| (Just(f), matcher(f))), 1..5).prop_map(
        |keys| {
            keys.into_iter()
                .fold(Pattern::new(), |p, (f, m)| p.with(FIELDS[f], m))
        },
    )
}

/// The article's `_match_rule`, over `Pattern::score`.
fn article_match(rules: &[Rule], inc: &Incident) -> Option<(usize, f64)> {
    let mut best = None;
    let mut best_score = 0.0;
    for (i, r) in rules.iter().enumerate() {
        let s = r.pattern().score(inc);
        // Float sums of 1.0 and 0.8 in different orders may differ in the last bit; the engine
        // compares exactly, so treat scores within 1e-12 as equal (first registered wins).
        if s > best_score + 1e-12 {
            best_score = s;
            best = Some((i, s));
        }
    }
    best.filter(|&(_, s)| s > 0.5 + 1e-12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]
    #[test]
    fn indexed_matching_equals_the_article(
        patterns in prop::collection::vec(pattern(), 1..30),
        svc in 0usize..3, sev in 0usize..3, team in proptest::option::of(0usize..3),
        env in proptest::option::of(0usize..3),
    ) {
        let rules: Vec<Rule> = patterns
            .into_iter()
            .enumerate()
            .map(|(i, p)| Rule::new(format!("r{i}"), p, [ActionType::ScaleOut]).unwrap())
            .collect();
        let mut e = HealingEngine::new(Policy::default());
        for r in &rules {
            e.add_rule(r.clone()).unwrap();
        }
        let mut labels = Labels::new();
        if let Some(t) = team { labels.insert("team", VALUES[2][t]); }
        if let Some(v) = env { labels.insert("env", VALUES[3][v]); }
        let sev: Severity = VALUES[1][sev].parse().unwrap();
        let inc = Incident::from_summary("i", VALUES[0][svc], sev, labels, Timestamp::EPOCH);
        let d = e.decide(&inc, Timestamp::EPOCH);
        let want = article_match(&rules, &inc);
        prop_assert_eq!(d.rule_id.clone(), want.map(|(i, _)| format!("r{i}")));
        if let (Some(got), Some((_, s))) = (d.match_score, want) {
            prop_assert!((got - s).abs() < 1e-12);
        }
    }
}
