use super::engine::{NO_NAME, NameStats, RecentAlerts, UNTRACKED};
use super::*;
use crate::error::RcaError;
use aiops_core::{Dependency, Fingerprint, Incident, Labels, ServiceKind, ServiceSpec, Severity};
use proptest::prelude::*;

/// lb -> api -> web, db -> api, db -> worker (edges dependency -> dependent).
fn graph() -> ServiceGraph {
    let s = |n: &str, k: ServiceKind, deps: &[&str]| {
        let mut s = ServiceSpec::try_new(n, k).unwrap();
        for d in deps {
            s = s.depends_on(Dependency::new(*d)).unwrap();
        }
        s
    };
    ServiceGraph::from_specs(&[
        s("web", ServiceKind::Application, &["api"]),
        s("api", ServiceKind::Application, &["db", "lb"]),
        s("worker", ServiceKind::Application, &["db"]),
        s("db", ServiceKind::Database, &[]),
        s("lb", ServiceKind::Network, &[]),
        s("mail", ServiceKind::Application, &[]),
    ])
    .unwrap()
}

fn alert(svc: &str, name: &str, metric: &str, t: i64) -> Alert {
    Alert::new(
        Labels::from_pairs([
            ("alertname", name),
            ("service", svc),
            ("metric_type", metric),
        ]),
        Timestamp::from_secs(t),
    )
}

fn groups(c: &Correlation) -> Vec<Vec<usize>> {
    c.incidents().iter().map(|i| i.records().to_vec()).collect()
}

#[test]
fn the_articles_rule_is_directed_and_windowed() {
    let g = graph();
    let cfg = CorrelatorConfig {
        same_metric_type: false,
        ..CorrelatorConfig::article()
    };
    let c = Correlator::new(&g, cfg).unwrap();
    // db then api 300 s later: path db -> api, exactly at the window edge.
    let r = c.correlate(&[alert("db", "A", "x", 0), alert("api", "B", "y", 300)]);
    assert_eq!(groups(&r), vec![vec![0, 1]]);
    assert_eq!(
        r.incidents()[0].merges()[0].rule(),
        &MergeRule::DependencyPath {
            from: "db".into(),
            to: "api".into()
        }
    );
    assert_eq!(r.incidents()[0].merges()[0].gap_secs(), 300.0);
    // 301 s: too far.
    let r = c.correlate(&[alert("db", "A", "x", 0), alert("api", "B", "y", 301)]);
    assert_eq!(r.incidents().len(), 2);
    // api first, db later: no path api -> db.
    let r = c.correlate(&[alert("api", "B", "y", 0), alert("db", "A", "x", 10)]);
    assert_eq!(r.incidents().len(), 2);
    // Siblings under db are not related by a path.
    let r = c.correlate(&[alert("worker", "B", "y", 0), alert("api", "A", "x", 10)]);
    assert_eq!(r.incidents().len(), 2);
    // Transitive path lb -> api -> web.
    let r = c.correlate(&[alert("lb", "B", "y", 0), alert("web", "A", "x", 10)]);
    assert_eq!(groups(&r), vec![vec![0, 1]]);
    // Equal starts: either direction relates (there is no earlier alert).
    let r = c.correlate(&[alert("api", "B", "y", 5), alert("db", "A", "x", 5)]);
    assert_eq!(r.incidents().len(), 1);
}

#[test]
fn same_metric_type_rule_and_article_config() {
    let g = graph();
    let alerts = [
        alert("mail", "A", "latency", 0),
        alert("lb", "B", "latency", 100),
    ];
    let art = Correlator::new(&g, CorrelatorConfig::article())
        .unwrap()
        .correlate(&alerts);
    assert_eq!(groups(&art), vec![vec![0, 1]]);
    assert_eq!(
        art.incidents()[0].merges()[0].rule().name(),
        "same_metric_type"
    );
    let def = Correlator::new(&g, CorrelatorConfig::default())
        .unwrap()
        .correlate(&alerts);
    assert!(def.incidents().is_empty());
    assert_eq!(def.noise(), &[0, 1]);
    // The article's Python compares None == None.
    let bare = |s: &str, t| {
        Alert::new(
            Labels::from_pairs([("service", s)]),
            Timestamp::from_secs(t),
        )
    };
    let art = Correlator::new(&g, CorrelatorConfig::article())
        .unwrap()
        .correlate(&[bare("mail", 0), bare("lb", 10)]);
    assert_eq!(art.incidents().len(), 1);
    // The article has no noise: a lone alert is an incident.
    let art = Correlator::new(&g, CorrelatorConfig::article())
        .unwrap()
        .correlate(&[bare("mail", 0)]);
    assert_eq!((art.incidents().len(), art.noise().len()), (1, 0));
}

#[test]
fn dedup_refires_and_resolutions() {
    let g = graph();
    let c = Correlator::new(&g, CorrelatorConfig::default()).unwrap();
    let a = alert("db", "DiskFull", "saturation", 0);
    let alerts = vec![
        a.clone(),
        alert("api", "HighLatency", "latency", 30),
        a.clone().resolve(Timestamp::from_secs(120)),
        alert("db", "DiskFull", "saturation", 400), // re-fire after resolution, same fingerprint
    ];
    let r = c.correlate(&alerts);
    assert_eq!(r.distinct_alerts(), 2);
    assert_eq!(r.record_count(), 4);
    assert_eq!(groups(&r), vec![vec![0, 1, 2, 3]]);
    let inc = r.incidents()[0].incident();
    assert_eq!(inc.alerts().len(), 2);
    assert!(inc.end().is_none(), "the re-fire is firing again");
    // The incident holds the re-fire's latest state (start 400) but began with its first
    // firing; so do the view's and the stream's incidents.
    assert_eq!(inc.alerts()[0].starts_at(), Timestamp::from_secs(400));
    assert_eq!(inc.start(), Timestamp::from_secs(0));
    // The first firing's service is the primary one, as for any incident's earliest alert.
    assert_eq!(inc.primary_service(), Some("db"));
    let view = c.correlate_view(&alerts);
    assert_eq!(
        view.incident(0).unwrap().to_incident().start(),
        Timestamp::from_secs(0)
    );
    let mut stream = c.stream();
    for a in &alerts {
        stream.push(a.clone()).unwrap();
    }
    assert_eq!(
        stream.finish().incidents()[0].incident().start(),
        Timestamp::from_secs(0)
    );
    assert_eq!(r.compression(), 0.5);
    assert_eq!(r.raw_compression(), 0.75);
    let why = r.incidents()[0].why(3);
    assert_eq!(why.len(), 1);
    assert_eq!(why[0].rule(), &MergeRule::SameFingerprint);
    assert_eq!((why[0].a(), why[0].gap_secs()), (0, 400.0));
    // Without the re-fire, the incident ends with the resolution.
    let r = c.correlate(&[
        alerts[0].clone(),
        alerts[2].clone(),
        alerts[1].clone().resolve(Timestamp::from_secs(99)),
    ]);
    assert_eq!(
        r.incidents()[0].incident().end(),
        Some(Timestamp::from_secs(120))
    );
    // A re-fire beyond the re-fire window is a new alert.
    let cfg = CorrelatorConfig {
        refire_window_secs: 60,
        ..CorrelatorConfig::default()
    };
    let r = Correlator::new(&g, cfg)
        .unwrap()
        .correlate(&[a.clone(), alert("db", "DiskFull", "saturation", 4000)]);
    assert_eq!(r.distinct_alerts(), 2);
    assert_eq!(r.noise(), &[0, 1]);
}

#[test]
fn unknown_services_correlate_by_labels() {
    let g = graph();
    let with_host = |svc: &str, host: &str, t: i64| {
        Alert::new(
            Labels::from_pairs([("alertname", "X"), ("service", svc), ("host", host)]),
            Timestamp::from_secs(t),
        )
    };
    let alerts = [
        with_host("ghost", "h1", 0),
        Alert::new(
            Labels::from_pairs([("alertname", "Y"), ("app", "ghost")]),
            Timestamp::from_secs(20),
        ),
        with_host("phantom", "h1", 40),
        with_host("phantom2", "h2", 50),
    ];
    let c = Correlator::new(&g, CorrelatorConfig::default().with_shared_instance()).unwrap();
    let r = c.correlate(&alerts);
    assert_eq!(groups(&r), vec![vec![0, 1, 2]]);
    assert_eq!(r.noise(), &[3]);
    let rules: Vec<MergeRule> = r.incidents()[0]
        .merges()
        .iter()
        .map(|m| m.rule().clone())
        .collect();
    assert!(rules.contains(&MergeRule::SharedLabel {
        label: "service".into(),
        value: "ghost".into()
    }));
    assert!(rules.contains(&MergeRule::SharedLabel {
        label: "host".into(),
        value: "h1".into()
    }));
    // Label-equality sets.
    let cfg = CorrelatorConfig {
        label_sets: vec![vec!["cluster".into(), "team".into()]],
        ..CorrelatorConfig::default()
    };
    let l = |c: &str, t: &str, s: i64| {
        Alert::new(
            Labels::from_pairs([
                ("alertname", "Z"),
                ("cluster", c),
                ("team", t),
                ("n", &*s.to_string()),
            ]),
            Timestamp::from_secs(s),
        )
    };
    let r = Correlator::new(&g, cfg).unwrap().correlate(&[
        l("c1", "a", 0),
        l("c1", "b", 1),
        l("c1", "a", 2),
    ]);
    assert_eq!(groups(&r), vec![vec![0, 2]]);
    assert_eq!(r.incidents()[0].merges()[0].rule().name(), "shared_label");
}

#[test]
fn max_hops_limits_the_path() {
    let g = graph();
    let cfg = CorrelatorConfig {
        max_hops: Some(1),
        ..CorrelatorConfig::default()
    };
    let c = Correlator::new(&g, cfg).unwrap();
    // lb -> api -> web is two hops: not related; lb -> api is one.
    assert_eq!(
        c.correlate(&[alert("lb", "A", "x", 0), alert("web", "B", "y", 10)])
            .incidents()
            .len(),
        0
    );
    assert_eq!(
        c.correlate(&[alert("lb", "A", "x", 0), alert("api", "B", "y", 10)])
            .incidents()
            .len(),
        1
    );
    assert!(
        c.relate(&alert("lb", "A", "x", 0), &alert("web", "B", "y", 10))
            .is_err()
    );
}

#[test]
fn dependency_window_links_a_slow_hop_on_a_direct_dependency() {
    let g = graph();
    // Whatever the alert rate (see the next test).
    let slow_hops = CorrelatorConfig {
        dependency_window_secs: Some(600),
        dependency_window_max_chance: 1.0,
        ..CorrelatorConfig::default()
    };
    let c = Correlator::new(&g, slow_hops.clone()).unwrap();
    // db -> api is one hop: 450 s is past the default's 300 s window (420 s while sparse) but
    // within the 600 s dependency window.
    let slow = [alert("db", "A", "x", 0), alert("api", "B", "y", 450)];
    let r = c.correlate(&slow);
    assert_eq!(groups(&r), vec![vec![0, 1]]);
    let m = &r.incidents()[0].merges()[0];
    assert_eq!((m.a(), m.b(), m.gap_secs()), (0, 1, 450.0));
    let rule = MergeRule::DependencyPath {
        from: "db".into(),
        to: "api".into(),
    };
    assert_eq!(m.rule(), &rule);
    assert_eq!(c.relate(&slow[0], &slow[1]), Ok(rule));
    // The stream gives the same incident.
    let mut st = c.stream();
    for a in &slow {
        st.push(a.clone()).unwrap();
    }
    assert_eq!(groups(&st.finish()), vec![vec![0, 1]]);
    // Two hops (db -> api -> web), 601 s, or the rule off (as the article): unrelated.
    assert_eq!(
        CorrelatorConfig::default().dependency_window_secs,
        Some(720)
    );
    assert_eq!(CorrelatorConfig::article().dependency_window_secs, None);
    let off = CorrelatorConfig {
        dependency_window_secs: None,
        ..CorrelatorConfig::default()
    };
    for (later, cfg) in [
        (alert("web", "B", "y", 450), slow_hops.clone()),
        (alert("api", "B", "y", 601), slow_hops.clone()),
        (alert("api", "B", "y", 450), off),
    ] {
        let c = Correlator::new(&g, cfg).unwrap();
        let pair = [alert("db", "A", "x", 0), later];
        assert!(c.correlate(&pair).incidents().is_empty());
        let e = c.relate(&pair[0], &pair[1]).unwrap_err();
        assert!(e[0].contains("window"), "{e:?}");
    }
    // Inside the window the ordinary two-hop rule still holds.
    assert_eq!(
        c.correlate(&[alert("db", "A", "x", 0), alert("web", "B", "y", 200)])
            .incidents()
            .len(),
        1
    );
    // A dependency window outside window_secs..=quiet_period_secs is an error naming it.
    let e = CorrelatorConfig {
        dependency_window_secs: Some(200),
        ..CorrelatorConfig::default()
    }
    .check()
    .unwrap_err();
    assert!(e.to_string().contains("dependency_window_secs"), "{e}");
    assert!(e.to_string().contains("got 200"), "{e}");
    let e = CorrelatorConfig {
        dependency_window_secs: Some(800),
        ..CorrelatorConfig::default()
    }
    .check()
    .unwrap_err();
    assert!(e.to_string().contains("300..=720"), "{e}");
}

/// The default before [`Grouping::Scored`].
fn best_parent() -> CorrelatorConfig {
    CorrelatorConfig {
        grouping: Grouping::BestParent,
        window_secs: 240,
        min_severity: None,
        ..CorrelatorConfig::default()
    }
}

#[test]
fn incident_span_stops_an_old_incident_absorbing_alerts() {
    let g = graph();
    // db, then a new api alert every 200 s: each related to the previous one.
    let storm: Vec<Alert> = std::iter::once(alert("db", "A", "x", 0))
        .chain((1..=13).map(|k| alert("api", &format!("S{k}"), "y", 200 * k)))
        .collect();
    let unlimited = CorrelatorConfig {
        max_incident_span_secs: None,
        ..best_parent()
    };
    let r = Correlator::new(&g, unlimited).unwrap().correlate(&storm);
    assert_eq!(groups(&r), vec![(0..14).collect::<Vec<_>>()]);
    // The default: 2,400 s. The alert at 2,600 s would join an incident started at 0 s.
    assert_eq!(
        CorrelatorConfig::default().max_incident_span_secs,
        Some(2_400)
    );
    let r = Correlator::new(&g, best_parent())
        .unwrap()
        .correlate(&storm);
    assert_eq!(groups(&r), vec![(0..13).collect::<Vec<_>>()]);
    assert_eq!(r.noise(), &[13]);
    // The article's connected groups ignore the span.
    let r = Correlator::new(
        &g,
        CorrelatorConfig {
            same_metric_type: false,
            ..CorrelatorConfig::article()
        },
    )
    .unwrap()
    .correlate(&storm);
    assert_eq!(groups(&r), vec![(0..14).collect::<Vec<_>>()]);
}

#[test]
fn article_config_is_the_articles_rules() {
    let a = CorrelatorConfig::article();
    assert_eq!(a.window_secs, 300);
    assert!(a.dependency_path && a.same_metric_type && a.missing_metric_type_matches);
    assert_eq!(a.max_hops, None);
    assert_eq!(a.max_incident_span_secs, None);
    assert_eq!(a.min_incident_alerts, 1);
    assert_eq!(a.grouping, Grouping::Connected);
    assert!(!a.shared_dependency && a.shared_labels.is_empty() && a.label_sets.is_empty());
}

#[test]
fn shared_dependency_rule_joins_siblings() {
    let g = graph();
    let cfg = CorrelatorConfig {
        shared_dependency: true,
        ..CorrelatorConfig::default()
    };
    let r = Correlator::new(&g, cfg)
        .unwrap()
        .correlate(&[alert("worker", "A", "x", 0), alert("api", "B", "y", 10)]);
    assert_eq!(r.incidents().len(), 1);
    assert_eq!(
        r.incidents()[0].merges()[0].rule(),
        &MergeRule::SharedDependency {
            dependency: "db".into()
        }
    );
}

#[test]
fn silent_dependency_joins_the_first_symptoms_under_a_silent_dependency() {
    let g = graph();
    let c = Correlator::new(&g, CorrelatorConfig::default()).unwrap();
    // db raises nothing; its users api and worker alert a minute apart: siblings under it.
    let r = c.correlate(&[alert("api", "A", "x", 0), alert("worker", "B", "y", 60)]);
    assert_eq!(groups(&r), vec![vec![0, 1]]);
    let db = MergeRule::SharedDependency {
        dependency: "db".into(),
    };
    assert_eq!(r.incidents()[0].merges()[0].rule(), &db);
    // The data tools' contract names four rules: a shared dependency is a dependency path.
    assert_eq!(db.name(), "dependency_path");
    assert_eq!(
        c.relate(&alert("api", "A", "x", 0), &alert("worker", "B", "y", 60)),
        Ok(db)
    );
    // Off: two lone alerts.
    let off = Correlator::new(
        &g,
        CorrelatorConfig {
            silent_dependency: false,
            ..CorrelatorConfig::default()
        },
    )
    .unwrap();
    assert!(
        off.correlate(&[alert("api", "A", "x", 0), alert("worker", "B", "y", 60)])
            .incidents()
            .is_empty()
    );
    // An incident that began more than the window ago (at lb, 0 s) takes no sibling link.
    let r = c.correlate(&[
        alert("lb", "A", "x", 0),
        alert("api", "B", "y", 250),
        alert("worker", "C", "z", 440),
    ]);
    assert_eq!(groups(&r), vec![vec![0, 1]]);
    assert_eq!(r.noise(), &[2]);
    // An alert with a path to an alerting dependency joins by that path, not as a sibling.
    let r = c.correlate(&[
        alert("db", "A", "x", 0),
        alert("api", "B", "y", 10),
        alert("worker", "C", "z", 20),
    ]);
    assert_eq!(groups(&r), vec![vec![0, 1, 2]]);
    assert!(
        r.incidents()[0]
            .merges()
            .iter()
            .all(|m| matches!(m.rule(), MergeRule::DependencyPath { .. }))
    );
    // The stream agrees.
    let mut st = c.stream();
    for a in [alert("api", "A", "x", 0), alert("worker", "B", "y", 60)] {
        st.push(a).unwrap();
    }
    assert_eq!(groups(&st.finish()), vec![vec![0, 1]]);
}

#[test]
fn relate_explains_why_not() {
    let g = graph();
    let c = Correlator::new(&g, CorrelatorConfig::default()).unwrap();
    let e = c
        .relate(&alert("api", "A", "x", 0), &alert("db", "B", "x", 10))
        .unwrap_err();
    assert!(
        e.iter()
            .any(|s| s.contains("no dependency path from \"api\" to \"db\"")),
        "{e:?}"
    );
    let e = c
        .relate(&alert("db", "A", "x", 0), &alert("api", "B", "x", 1000))
        .unwrap_err();
    assert!(e[0].contains("window"), "{e:?}");
    assert_eq!(
        c.relate(&alert("db", "A", "x", 0), &alert("web", "B", "x", 10)),
        Ok(MergeRule::DependencyPath {
            from: "db".into(),
            to: "web".into()
        })
    );
}

#[test]
fn bad_config_is_an_error() {
    let g = graph();
    for cfg in [
        CorrelatorConfig {
            window_secs: 0,
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig {
            quiet_period_secs: 10,
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig {
            min_incident_alerts: 0,
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig {
            shared_labels: vec![vec![]],
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig {
            dedup_labels: Some(vec![]),
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig {
            max_incident_span_secs: Some(-1),
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig {
            same_service_secs: Some(-5),
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig {
            size_prior_alerts: f64::NAN,
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig {
            size_prior_alerts: -1.0,
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig {
            link_decay_secs: Some(0),
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig {
            alerts_per_dependency: 0,
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig {
            name_prior_alerts: -1.0,
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig {
            min_name_link_ratio: f64::NAN,
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig {
            max_names: 0,
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig {
            name_label: Some(String::new()),
            ..CorrelatorConfig::default()
        },
    ] {
        let e = Correlator::new(&g, cfg).unwrap_err();
        assert!(matches!(e, RcaError::InvalidParameter { .. }), "{e}");
    }
}

fn scored() -> CorrelatorConfig {
    CorrelatorConfig {
        grouping: Grouping::Scored,
        window_secs: 300,
        same_service_secs: Some(120),
        size_prior_alerts: 10.0,
        ..CorrelatorConfig::default()
    }
}

#[test]
fn scored_skips_an_incident_that_reached_the_service_before() {
    let g = graph();
    // db fails, api follows 10 s later; another api alert 200 s later is not that cascade.
    let alerts = [
        alert("db", "A", "x", 0),
        alert("api", "B", "y", 10),
        alert("api", "C", "z", 200),
    ];
    let r = Correlator::new(&g, scored()).unwrap().correlate(&alerts);
    assert_eq!(groups(&r), vec![vec![0, 1]]);
    assert_eq!(r.noise(), &[2]);
    // Within same_service_secs it joins, through its own service (the latest link).
    let mut near = alerts.clone();
    near[2] = alert("api", "C", "z", 100);
    let r = Correlator::new(&g, scored()).unwrap().correlate(&near);
    assert_eq!(groups(&r), vec![vec![0, 1, 2]]);
    let why = r.incidents()[0].why(2);
    assert_eq!(why.len(), 1);
    assert_eq!((why[0].a(), why[0].gap_secs()), (1, 90.0));
    // Without the limit, and with BestParent, the late alert joins.
    let free = CorrelatorConfig {
        same_service_secs: None,
        ..scored()
    };
    let r = Correlator::new(&g, free).unwrap().correlate(&alerts);
    assert_eq!(groups(&r), vec![vec![0, 1, 2]]);
    let best = CorrelatorConfig {
        grouping: Grouping::BestParent,
        ..scored()
    };
    let r = Correlator::new(&g, best).unwrap().correlate(&alerts);
    assert_eq!(groups(&r), vec![vec![0, 1, 2]]);
}

#[test]
fn scored_weighs_links_against_size() {
    let g = graph();
    // One link per related service (X's two db alerts would count twice otherwise).
    let scored = || CorrelatorConfig {
        alerts_per_dependency: 1,
        ..scored()
    };
    // Y = {lb, api} (0, 1); X = {db, db, worker} (2, 3, 4); then api again (5), linked to Y
    // twice (api itself 50 s ago, lb 60 s ago) and to X once (db 39 s ago).
    let alerts = [
        alert("lb", "L", "x", 40),
        alert("api", "B", "y", 50),
        alert("db", "A", "x", 60),
        alert("db", "A2", "x", 61),
        alert("worker", "W", "y", 62),
        alert("api", "D", "z", 100),
    ];
    // Scores: Y 2 x 2 / (2 + 10) = 0.33 beats X 1 x 3 / (3 + 10) = 0.23.
    let r = Correlator::new(&g, scored()).unwrap().correlate(&alerts);
    assert_eq!(groups(&r), vec![vec![0, 1, 5], vec![2, 3, 4]]);
    // BestParent prefers the larger X.
    let best = CorrelatorConfig {
        grouping: Grouping::BestParent,
        ..scored()
    };
    let r = Correlator::new(&g, best).unwrap().correlate(&alerts);
    assert_eq!(groups(&r), vec![vec![0, 1], vec![2, 3, 4, 5]]);
    // X of 8 alerts: 1 x 8 / (8 + 10) = 0.44 beats Y's 0.33; with no size prior, Y's two
    // links beat X's one.
    let mut alerts: Vec<Alert> = vec![alert("lb", "L", "x", 40), alert("api", "B", "y", 50)];
    for k in 0..7 {
        alerts.push(alert("db", &format!("A{k}"), "x", 60 + k));
    }
    alerts.push(alert("worker", "W", "y", 67));
    alerts.push(alert("api", "D", "z", 100));
    let r = Correlator::new(&g, scored()).unwrap().correlate(&alerts);
    assert_eq!(groups(&r), vec![vec![0, 1], (2..=10).collect()]);
    let flat = CorrelatorConfig {
        size_prior_alerts: 0.0,
        ..scored()
    };
    let r = Correlator::new(&g, flat).unwrap().correlate(&alerts);
    assert_eq!(groups(&r), vec![vec![0, 1, 10], (2..=9).collect()]);
}

#[test]
fn streaming_events_and_out_of_order() {
    let g = graph();
    let c = Correlator::new(&g, CorrelatorConfig::default()).unwrap();
    let mut s = c.stream();
    assert!(s.push(alert("db", "A", "x", 0)).unwrap().is_empty());
    assert!(
        s.push(alert("api", "B", "y", 10)).unwrap().is_empty(),
        "equal-start groups wait"
    );
    let ev = s.push(alert("web", "C", "y", 20)).unwrap();
    assert_eq!(ev, vec![IncidentEvent::Opened { id: "inc-0".into() }]);
    let ev = s.advance_to(Timestamp::from_secs(25));
    assert_eq!(
        ev,
        vec![IncidentEvent::Updated {
            id: "inc-0".into(),
            record: 2
        }]
    );
    let e = s.push(alert("mail", "Z", "y", 5)).unwrap_err();
    assert!(matches!(e, RcaError::OutOfOrder { .. }), "{e}");
    // A resolution of a known alert may come late.
    let ev = s
        .push(alert("db", "A", "x", 0).resolve(Timestamp::from_secs(30)))
        .unwrap();
    assert_eq!(
        ev,
        vec![IncidentEvent::Updated {
            id: "inc-0".into(),
            record: 3
        }]
    );
    let ev = s.advance_to(Timestamp::from_secs(20 + 721));
    assert_eq!(ev.len(), 1);
    let IncidentEvent::Closed(inc) = &ev[0] else {
        panic!("{ev:?}")
    };
    assert_eq!(inc.records(), &[0, 1, 2, 3]);
    let r = s.finish();
    assert_eq!(groups(&r), vec![vec![0, 1, 2, 3]]);
}

#[test]
fn a_closed_incident_takes_no_alert_pushed_after_advance_to() {
    let g = graph();
    let c = Correlator::new(&g, CorrelatorConfig::default()).unwrap();
    let mut s = c.stream();
    s.push(alert("db", "A", "x", 0)).unwrap();
    s.push(alert("api", "B", "y", 10)).unwrap();
    let ev = s.advance_to(Timestamp::from_secs(10_000));
    assert!(
        matches!(&ev[..], [IncidentEvent::Opened { .. }, IncidentEvent::Closed(i)] if i.records() == [0, 1]),
        "{ev:?}"
    );
    // A new alert starting before the declared time is late: it would join the closed incident.
    let e = s.push(alert("api", "C", "y", 20)).unwrap_err();
    assert!(matches!(e, RcaError::OutOfOrder { .. }), "{e}");
    // An update of a known alert is still taken (its incident reports it again).
    s.push(alert("db", "A", "x", 0).resolve(Timestamp::from_secs(60)))
        .unwrap();
    // At or after the declared time, records are in order again.
    s.push(alert("mail", "D", "y", 10_000)).unwrap();
    assert_eq!(groups(&s.finish())[0], vec![0, 1, 2]);
}

#[test]
fn an_earlier_update_of_a_waiting_alert_is_taken_like_one_of_a_placed_alert() {
    let g = graph();
    let c = Correlator::new(&g, CorrelatorConfig::default()).unwrap();
    // The update comes while its alert still waits with the latest start...
    let mut waiting = c.stream();
    waiting.push(alert("db", "A", "x", 100)).unwrap();
    waiting.push(alert("db", "A", "x", 50)).unwrap();
    waiting.push(alert("api", "B", "y", 110)).unwrap();
    // ...or after it was placed: both are accepted and end in its incident.
    let mut placed = c.stream();
    placed.push(alert("db", "A", "x", 100)).unwrap();
    placed.push(alert("api", "B", "y", 110)).unwrap();
    placed.push(alert("db", "A", "x", 50)).unwrap();
    let (w, p) = (waiting.finish(), placed.finish());
    assert_eq!(groups(&w), vec![vec![0, 1, 2]]);
    assert_eq!(groups(&p), vec![vec![0, 1, 2]]);
}

#[test]
fn merged_event_when_two_incidents_join() {
    let g = graph();
    let cfg = CorrelatorConfig {
        grouping: Grouping::Connected,
        ..CorrelatorConfig::default()
    };
    let c = Correlator::new(&g, cfg).unwrap();
    let mut s = c.stream();
    let mut ev = Vec::new();
    for a in [
        alert("db", "A", "x", 0),
        alert("worker", "B", "x", 1),
        alert("lb", "C", "x", 2),
        alert("lb", "D", "x", 3),
        alert("api", "E", "x", 4),
    ] {
        ev.extend(s.push(a).unwrap());
    }
    ev.extend(s.advance_to(Timestamp::from_secs(5)));
    assert!(
        ev.contains(&IncidentEvent::Merged {
            into: "inc-0".into(),
            from: "inc-2".into()
        }),
        "{ev:?}"
    );
    assert_eq!(s.finish().incidents().len(), 1);
}

#[test]
fn a_stream_that_releases_holds_only_recent_alerts() {
    // Ten days of the same storm: released now and then, the stream holds about a day's
    // records at most, and what it released is the batch result of all ten days.
    let topo = aiops_sim::topology(60, 3);
    let g = ServiceGraph::from_specs(&topo.services).unwrap();
    let mut day = aiops_sim::storm(&topo, &aiops_sim::StormSpec::small(), 3).alerts;
    day.sort_by_key(Alert::starts_at);
    let shift = |a: &Alert, d: i64| {
        let at = |t: Timestamp| Timestamp::from_millis(t.as_millis() + d * 86_400_000);
        let b = Alert::new(a.labels().clone(), at(a.starts_at()));
        a.ends_at().map_or(b.clone(), |e| b.resolve(at(e)))
    };
    let all: Vec<Alert> = (0..10)
        .flat_map(|d| day.iter().map(move |a| shift(a, d)))
        .collect();
    let c = Correlator::new(&g, CorrelatorConfig::default()).unwrap();
    let batch = c.correlate(&all);
    let mut s = c.stream();
    let (mut ids, mut noise, mut most) = (Vec::new(), Vec::new(), 0);
    for (i, a) in all.iter().enumerate() {
        s.push(a.clone()).unwrap();
        if i % 50 == 0 {
            let r = s.release_settled();
            ids.extend_from_slice(r.incidents());
            noise.extend_from_slice(r.noise());
        }
        most = most.max(s.held_records());
    }
    let last = all.iter().map(Alert::starts_at).max().unwrap();
    s.advance_to(Timestamp::from_millis(last.as_millis() + 86_400_000));
    let r = s.release_settled();
    ids.extend_from_slice(r.incidents());
    noise.extend_from_slice(r.noise());
    assert!(most <= day.len() + 50, "held {most} of {} a day", day.len());
    assert_eq!(s.held_records(), 0);
    let mut want: Vec<&str> = batch
        .incidents()
        .iter()
        .map(|i| i.incident().id())
        .collect();
    want.sort_unstable();
    ids.sort_unstable();
    assert_eq!(ids, want);
    noise.sort_unstable();
    assert_eq!(noise, batch.noise());
}

#[test]
fn a_released_stream_finishes_with_what_it_kept() {
    let g = graph();
    let c = Correlator::new(&g, CorrelatorConfig::default()).unwrap();
    let mut s = c.stream();
    let resolved = |svc, name, t| alert(svc, name, "x", t).resolve(Timestamp::from_secs(t + 5));
    s.push(resolved("mail", "A", 0)).unwrap();
    s.push(alert("db", "B", "x", 10_000)).unwrap();
    s.push(alert("api", "C", "x", 10_010)).unwrap();
    s.advance_to(Timestamp::from_secs(10_020));
    let r = s.release_settled();
    assert_eq!((r.incidents(), r.noise()), (&[][..], &[0][..]));
    assert_eq!(s.held_records(), 2);
    let f = s.finish();
    assert_eq!(groups(&f), vec![vec![1, 2]]);
    assert!(f.noise().is_empty());
    assert_eq!(f.record_count(), 2);
    assert_eq!(f.assignment(), vec![None, Some(0), Some(0)]);
}

#[test]
fn the_resolution_of_an_alert_forgotten_while_firing_updates_its_incident() {
    let g = graph();
    let c = Correlator::new(&g, CorrelatorConfig::default()).unwrap();
    let (mut kept, mut freed) = (c.stream(), c.stream());
    let mut events = (Vec::new(), Vec::new());
    for s in [&mut kept, &mut freed] {
        s.push(alert("db", "A", "x", 0)).unwrap();
        s.push(alert("api", "B", "x", 10)).unwrap();
        s.push(resolved_at(alert("mail", "N", "x", 20), 25))
            .unwrap();
        s.advance_to(Timestamp::from_secs(5_000));
    }
    let r = freed.release_settled();
    assert_eq!(
        (r.incidents(), r.noise()),
        (&["inc-0".to_owned()][..], &[2][..])
    );
    assert_eq!(freed.held_records(), 0);
    // Hours later both alerts of the incident resolve, with their own starts: taken as updates
    // of the incident, as by the stream that kept everything.
    for (s, ev) in [(&mut kept, &mut events.0), (&mut freed, &mut events.1)] {
        ev.extend(
            s.push(resolved_at(alert("db", "A", "x", 0), 7_000))
                .unwrap(),
        );
        ev.extend(
            s.push(resolved_at(alert("api", "B", "x", 10), 7_000))
                .unwrap(),
        );
        ev.extend(s.push(alert("web", "W", "x", 7_000)).unwrap());
        ev.extend(s.advance_to(Timestamp::from_secs(7_010)));
    }
    assert_eq!(events.0, events.1);
    assert_eq!(
        events.1[..2],
        [
            IncidentEvent::Updated {
                id: "inc-0".into(),
                record: 3
            },
            IncidentEvent::Updated {
                id: "inc-0".into(),
                record: 4
            },
        ]
    );
    // A release that forgets no alert still lets go of the update records (reported above).
    assert!(freed.release_settled().is_empty());
    assert_eq!(freed.held_records(), 1, "only the later alert W");
    // Resolved and settled, they are gone for good: a repeated resolution is late.
    freed.advance_to(Timestamp::from_secs(9_000));
    assert_eq!(freed.release_settled().noise(), &[5]);
    let e = freed
        .push(resolved_at(alert("db", "A", "x", 0), 7_000))
        .unwrap_err();
    assert!(matches!(e, RcaError::OutOfOrder { .. }), "{e}");
    let f = freed.finish();
    assert!(f.incidents().is_empty() && f.noise().is_empty());
}

fn resolved_at(a: Alert, t: i64) -> Alert {
    a.resolve(Timestamp::from_secs(t))
}

fn arb_alerts() -> impl Strategy<Value = Vec<Alert>> {
    let svcs = [
        "web", "api", "worker", "db", "lb", "mail", "ghost", "phantom",
    ];
    let metrics = ["latency", "errors", "saturation"];
    prop::collection::vec((0usize..8, 0usize..3, 0i64..40, 0usize..3, 0u8..4), 0..60).prop_map(
        move |v| {
            let mut out: Vec<Alert> = v
                .into_iter()
                .map(|(s, m, t, host, kind)| {
                    let a = Alert::new(
                        Labels::from_pairs([
                            ("alertname", format!("A{m}")),
                            ("service", svcs[s].to_owned()),
                            ("metric_type", metrics[m].to_owned()),
                            ("instance", format!("h{host}")),
                        ]),
                        Timestamp::from_secs(t * 45),
                    );
                    if kind == 0 {
                        a.resolve(Timestamp::from_secs(t * 45 + 30))
                    } else {
                        a
                    }
                })
                .collect();
            out.sort_by_key(Alert::starts_at);
            out
        },
    )
}

fn configs() -> Vec<CorrelatorConfig> {
    vec![
        CorrelatorConfig::default(),
        CorrelatorConfig {
            grouping: Grouping::Connected,
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig::article(),
        CorrelatorConfig {
            max_incident_span_secs: Some(300),
            max_hops: None,
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig {
            shared_dependency: true,
            ..CorrelatorConfig::default().with_shared_instance()
        },
        scored(),
        best_parent(),
        CorrelatorConfig {
            shared_dependency: true,
            same_metric_type: true,
            size_prior_alerts: 0.0,
            link_decay_secs: None,
            min_severity: Some(Severity::Medium),
            alerts_per_dependency: 2,
            ..scored()
        },
        // Slow hops beyond the window whatever the alert rate, without the silent-dependency
        // rule; a shorter one with a middling rate limit.
        CorrelatorConfig {
            dependency_window_secs: Some(600),
            dependency_window_max_chance: 1.0,
            silent_dependency: false,
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig {
            dependency_window_secs: Some(450),
            dependency_window_max_chance: 0.5,
            ..CorrelatorConfig::default()
        },
        // Names with a tiny table (one name tracked) and a strict minimum.
        CorrelatorConfig {
            max_names: 1,
            min_name_link_ratio: 1.0,
            name_prior_alerts: 0.5,
            ..CorrelatorConfig::default()
        },
        // Incidents merging whatever the alert rate, at a low coverage and over a wide window,
        // so the random storms merge often; and again with groups of 4 alerts before any
        // merge, as when `min_incident_alerts` is above 3.
        CorrelatorConfig {
            incident_merge_coverage: Some(0.5),
            incident_merge_window_secs: 600,
            dependency_window_max_chance: 1.0,
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig {
            incident_merge_coverage: Some(0.3),
            dependency_window_max_chance: 1.0,
            min_incident_alerts: 4,
            quiet_period_secs: 450,
            dependency_window_secs: Some(450),
            incident_merge_window_secs: 450,
            ..CorrelatorConfig::default()
        },
    ]
}

fn partition(c: &Correlation, map: &[usize]) -> (Vec<Vec<usize>>, Vec<usize>) {
    let mut g: Vec<Vec<usize>> = c
        .incidents()
        .iter()
        .map(|i| {
            let mut v: Vec<usize> = i.records().iter().map(|&r| map[r]).collect();
            v.sort_unstable();
            v
        })
        .collect();
    g.sort();
    let mut n: Vec<usize> = c.noise().iter().map(|&r| map[r]).collect();
    n.sort_unstable();
    (g, n)
}

/// Every accessor of the view agrees with the owned correlation.
fn assert_view_equals(view: &CorrelationView<'_>, owned: &Correlation) {
    assert_eq!(view.len(), owned.incidents().len());
    assert_eq!(view.is_empty(), owned.incidents().is_empty());
    assert_eq!(view.noise(), owned.noise());
    assert_eq!(view.record_count(), owned.record_count());
    assert_eq!(view.distinct_alerts(), owned.distinct_alerts());
    assert_eq!(view.compression().to_bits(), owned.compression().to_bits());
    assert_eq!(
        view.raw_compression().to_bits(),
        owned.raw_compression().to_bits()
    );
    assert_eq!(view.assignment(), owned.assignment());
    assert_eq!(view.incidents().len(), owned.incidents().len());
    for (k, (v, o)) in view.incidents().zip(owned.incidents()).enumerate() {
        assert_eq!(v.id(), o.incident().id());
        assert_eq!(v.records(), o.records());
        assert_eq!(v.len(), o.incident().alerts().len());
        assert!(!v.is_empty());
        assert!(v.alerts().eq(o.incident().alerts().iter()));
        assert_eq!(v.merges().collect::<Vec<_>>(), o.merges());
        for &r in o.records() {
            let why: Vec<Merge> = o.why(r).into_iter().cloned().collect();
            assert_eq!(v.why(r), why);
        }
        assert_eq!(&v.to_incident(), o.incident());
        assert_eq!(&v.to_correlated(), o);
        assert_eq!(view.incident(k).map(|i| i.records()), Some(o.records()));
    }
    assert!(view.incident(view.len()).is_none());
    assert_eq!(&view.to_correlation(), owned);
}

#[test]
fn view_equals_owned_correlation_on_a_storm() {
    // A simulator storm with overlapping incidents, re-fires and noise, every configuration.
    let topo = aiops_sim::topology(60, 3);
    let g = ServiceGraph::from_specs(&topo.services).unwrap();
    let s = aiops_sim::storm(&topo, &aiops_sim::StormSpec::small(), 3);
    for cfg in configs() {
        let c = Correlator::new(&g, cfg).unwrap();
        let owned = c.correlate(&s.alerts);
        assert!(!owned.incidents().is_empty());
        assert_view_equals(&c.correlate_view(&s.alerts), &owned);
    }
    // Services named by other labels come out the same way through the view.
    let cfg = CorrelatorConfig {
        service_labels: vec!["component".into()],
        ..CorrelatorConfig::default()
    };
    let comp = |c: &str, t: i64| {
        Alert::new(
            Labels::from_pairs([("alertname", format!("A{t}").as_str()), ("component", c)]),
            Timestamp::from_secs(t),
        )
    };
    let alerts = [
        comp("db", 0),
        comp("api", 60),
        comp("ghost", 70),
        comp("ghost", 90),
    ];
    let small = graph();
    let c = Correlator::new(&small, cfg).unwrap();
    let view = c.correlate_view(&alerts);
    let services: Vec<Vec<Option<&str>>> = view
        .incidents()
        .map(|i| i.alert_services().collect())
        .collect();
    assert_eq!(
        services,
        [
            vec![Some("db"), Some("api")],
            vec![Some("ghost"), Some("ghost")]
        ]
    );
    assert_view_equals(&view, &c.correlate(&alerts));
}

proptest! {
    #[test]
    fn every_record_once_stream_equals_batch_and_order_independent(
        alerts in arb_alerts(),
        seed in any::<u64>(),
    ) {
        let g = graph();
        for cfg in configs() {
            let c = Correlator::new(&g, cfg).unwrap();
            let batch = c.correlate(&alerts);
            let mut seen = vec![0u32; alerts.len()];
            for inc in batch.incidents() {
                for &r in inc.records() { seen[r] += 1; }
                prop_assert!(inc.records().len() >= inc.incident().alerts().len());
            }
            for &r in batch.noise() { seen[r] += 1; }
            prop_assert!(seen.iter().all(|&x| x == 1), "{:?}", seen);
            // Every merge joins two records of its own incident.
            for inc in batch.incidents() {
                for m in inc.merges() {
                    prop_assert!(inc.records().contains(&m.a()) && inc.records().contains(&m.b()));
                }
            }
            // The borrowing view is the same correlation, piece by piece and as a whole.
            let view = c.correlate_view(&alerts);
            assert_view_equals(&view, &batch);
            // Streaming the same (sorted) records gives the same result.
            let mut s = c.stream();
            let mut closed = Vec::new();
            for a in &alerts {
                for e in s.push(a.clone()).unwrap() {
                    if let IncidentEvent::Closed(inc) = e { closed.push(*inc); }
                }
            }
            prop_assert_eq!(&s.finish(), &batch);
            // An incident closed on the way (built from its own lists) equals the batch one
            // (built in bulk) unless a re-fire updated it after closing.
            for inc in &closed {
                let b = batch.incidents().iter().find(|b| b.incident().id() == inc.incident().id());
                prop_assert!(b.is_some(), "closed {} not in the batch", inc.incident().id());
                if let Some(b) = b.filter(|b| b.records() == inc.records()) {
                    prop_assert_eq!(b, inc);
                }
            }
            // Shuffling records with equal starts changes nothing but indices.
            let mut perm: Vec<usize> = (0..alerts.len()).collect();
            let mut x = seed | 1;
            let mut rnd: Vec<u64> = (0..alerts.len()).map(|_| { x ^= x << 13; x ^= x >> 7; x ^= x << 17; x }).collect();
            perm.sort_by_key(|&i| (alerts[i].starts_at(), rnd[i]));
            rnd.clear();
            let shuffled: Vec<Alert> = perm.iter().map(|&i| alerts[i].clone()).collect();
            let other = c.correlate(&shuffled);
            let ident: Vec<usize> = (0..alerts.len()).collect();
            prop_assert_eq!(partition(&other, &perm), partition(&batch, &ident));
            prop_assert_eq!(other.distinct_alerts(), batch.distinct_alerts());
            // A batch out of start order (here reversed) is sorted first: the same result.
            let rev: Vec<usize> = (0..alerts.len()).rev().collect();
            let reversed: Vec<Alert> = rev.iter().map(|&i| alerts[i].clone()).collect();
            prop_assert_eq!(partition(&c.correlate(&reversed), &rev), partition(&batch, &ident));
        }
    }

    #[test]
    fn releasing_settled_groups_changes_no_event(
        alerts in arb_alerts(),
        every in 1usize..6,
        seed in any::<u64>(),
    ) {
        let g = graph();
        for cfg in configs() {
            let c = Correlator::new(&g, cfg).unwrap();
            // The same pushes and declared times, one stream releasing every few steps.
            let (mut kept, mut freed) = (c.stream(), c.stream());
            let (mut ev_kept, mut ev_freed) = (Vec::new(), Vec::new());
            let mut released = Released::default();
            let mut add = |r: Released| {
                released.incidents.extend(r.incidents);
                released.noise.extend(r.noise);
            };
            // Alerts resolved so far (by the input or by a late resolution below).
            let mut resolved: Vec<Fingerprint> = Vec::new();
            let mut x = seed | 1;
            for (i, a) in alerts.iter().enumerate() {
                if i % 3 == 0 {
                    ev_kept.extend(kept.advance_to(a.starts_at()));
                    ev_freed.extend(freed.advance_to(a.starts_at()));
                }
                ev_kept.extend(kept.push(a.clone()).unwrap());
                ev_freed.extend(freed.push(a.clone()).unwrap());
                if !a.is_firing() {
                    resolved.push(a.fingerprint());
                }
                // Now and then the resolution of an earlier alert that was firing until now,
                // with its own start (an update out of start order), perhaps of a forgotten one.
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                let b = &alerts[(x % (i as u64 + 1)) as usize];
                if x % 3 == 0 && !resolved.contains(&b.fingerprint()) {
                    resolved.push(b.fingerprint());
                    let r = b.clone().resolve(Timestamp::from_millis(a.starts_at().as_millis() + 1000));
                    let (k, f) = (kept.push(r.clone()), freed.push(r));
                    prop_assert_eq!(k.is_ok(), f.is_ok());
                    ev_kept.extend(k.unwrap_or_default());
                    ev_freed.extend(f.unwrap_or_default());
                }
                if i % every == 0 {
                    add(freed.release_settled());
                }
                prop_assert_eq!(&ev_freed, &ev_kept);
            }
            let end = Timestamp::from_secs(100_000);
            ev_kept.extend(kept.advance_to(end));
            ev_freed.extend(freed.advance_to(end));
            prop_assert_eq!(&ev_freed, &ev_kept);
            add(freed.release_settled());
            // Everything settled: forgotten, and reported once, as the stream kept it.
            prop_assert_eq!(freed.held_records(), 0);
            let rest = freed.finish();
            prop_assert!(rest.assignment().iter().all(Option::is_none));
            prop_assert!(rest.incidents().is_empty() && rest.noise().is_empty());
            let all = kept.finish();
            let ids: Vec<String> = all.incidents().iter().map(|i| i.incident().id().to_owned()).collect();
            let mut got = released.incidents.clone();
            got.sort();
            let mut want = ids.clone();
            want.sort();
            prop_assert_eq!(got, want);
            released.noise.sort_unstable();
            prop_assert_eq!(&released.noise[..], all.noise());
        }
    }

    #[test]
    fn dedup_is_idempotent(alerts in arb_alerts()) {
        // Sending every record twice adds no alert and no incident.
        let g = graph();
        let c = Correlator::new(&g, CorrelatorConfig::default()).unwrap();
        let once = c.correlate(&alerts);
        let twice: Vec<Alert> = alerts.iter().flat_map(|a| [a.clone(), a.clone()]).collect();
        let r = c.correlate(&twice);
        prop_assert_eq!(r.distinct_alerts(), once.distinct_alerts());
        prop_assert_eq!(r.incidents().len(), once.incidents().len());
        let halve: Vec<usize> = (0..twice.len()).map(|i| i / 2).collect();
        let (g2, n2) = partition(&r, &halve);
        let dedup = |v: Vec<Vec<usize>>| v.into_iter().map(|mut x| { x.dedup(); x }).collect::<Vec<_>>();
        let mut n2 = n2; n2.dedup();
        let ident: Vec<usize> = (0..alerts.len()).collect();
        prop_assert_eq!((dedup(g2), n2), partition(&once, &ident));
    }
}

#[cfg(feature = "serde")]
#[test]
fn serde_config_round_trip_and_result_serializes() {
    let cfg = CorrelatorConfig::article();
    let text = serde_json::to_string(&cfg).unwrap();
    let back: CorrelatorConfig = serde_json::from_str(&text).unwrap();
    assert_eq!(back, cfg);
    // Missing fields take the defaults.
    let partial: CorrelatorConfig = serde_json::from_str(r#"{"window_secs": 120}"#).unwrap();
    assert_eq!(partial.window_secs, 120);
    assert_eq!(partial.grouping, Grouping::Scored);
    assert_eq!(partial.min_severity, Some(Severity::Low));
    // A misspelt key is an error naming it, not the defaults run in silence.
    let e = serde_json::from_str::<CorrelatorConfig>(r#"{"window_sec": 60}"#).unwrap_err();
    assert!(e.to_string().contains("unknown field `window_sec`"), "{e}");
    let g = graph();
    let r = Correlator::new(&g, CorrelatorConfig::default())
        .unwrap()
        .correlate(&[alert("db", "A", "x", 0), alert("api", "B", "y", 10)]);
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["incidents"][0]["records"], serde_json::json!([0, 1]));
    assert_eq!(
        v["incidents"][0]["merges"][0]["rule"]["DependencyPath"]["from"],
        "db"
    );
}

#[test]
fn incidents_name_services_by_the_configured_service_labels() {
    // Services named by `component` (not one of the default service labels): the correlator
    // relates them along the graph, and the incident lists them the same way.
    let comp = |c: &str, t: i64| {
        let name = format!("A{t}");
        Alert::new(
            Labels::from_pairs([
                ("alertname", name.as_str()),
                ("component", c),
                ("app", "ignored"),
            ]),
            Timestamp::from_secs(t),
        )
    };
    let cfg = CorrelatorConfig {
        service_labels: vec!["component".into()],
        ..CorrelatorConfig::default()
    };
    let g = graph();
    let r = Correlator::new(&g, cfg).unwrap().correlate(&[
        comp("db", 0),
        comp("api", 60),
        comp("ghost", 70),
        comp("ghost", 90),
    ]);
    let inc: Vec<&Incident> = r
        .incidents()
        .iter()
        .map(CorrelatedIncident::incident)
        .collect();
    assert_eq!(inc.len(), 2);
    assert_eq!(inc[0].services(), ["api", "db"]);
    assert_eq!(inc[0].primary_service(), Some("db"));
    // A service the graph does not know is still named by the configured label.
    assert_eq!(inc[1].services(), ["ghost"]);
}

#[test]
fn alerts_below_min_severity_relate_to_nothing() {
    let g = graph();
    let sev = |svc: &str, name: &str, severity: &str, t: i64| {
        Alert::new(
            Labels::from_pairs([
                ("alertname", name),
                ("service", svc),
                ("severity", severity),
            ]),
            Timestamp::from_secs(t),
        )
    };
    // db (info) at 0, api (warning) at 10, api (no severity: medium) at 20, worker (info) at 30.
    let alerts = [
        sev("db", "A", "info", 0),
        sev("api", "B", "warning", 10),
        Alert::new(
            Labels::from_pairs([("alertname", "C"), ("service", "api")]),
            Timestamp::from_secs(20),
        ),
        sev("db", "D", "critical", 25),
        sev("worker", "E", "info", 30),
    ];
    for grouping in [Grouping::BestParent, Grouping::Scored, Grouping::Connected] {
        let all = CorrelatorConfig {
            grouping,
            min_severity: None,
            ..CorrelatorConfig::default()
        };
        let r = Correlator::new(&g, all.clone()).unwrap().correlate(&alerts);
        assert_eq!(groups(&r), vec![vec![0, 1, 2, 3, 4]], "{grouping:?}");
        let cfg = CorrelatorConfig {
            min_severity: Some(Severity::Low),
            ..all
        };
        let r = Correlator::new(&g, cfg).unwrap().correlate(&alerts);
        // The info alerts are noise; the others still relate (api-api, db -> worker is info).
        assert_eq!(groups(&r), vec![vec![1, 2]], "{grouping:?}");
        assert_eq!(r.noise(), &[0, 3, 4], "{grouping:?}");
    }
}

#[test]
fn scored_links_decay_with_the_gap() {
    let g = graph();
    // X = {db, db, worker} around 100 s, Y = {lb, lb} at 290 s; api at 300 s links to X's
    // db (199 s ago) and Y's lb (9 s ago).
    let alerts = [
        alert("db", "A", "x", 100),
        alert("db", "A2", "x", 101),
        alert("worker", "W", "y", 102),
        alert("lb", "L", "x", 290),
        alert("lb", "L2", "x", 291),
        alert("api", "B", "y", 300),
    ];
    // Decay 300 s: Y exp(-9/300) x 2/12 = 0.16 beats X exp(-199/300) x 3/13 = 0.12.
    let r = Correlator::new(&g, scored()).unwrap().correlate(&alerts);
    assert_eq!(groups(&r), vec![vec![0, 1, 2], vec![3, 4, 5]]);
    assert_eq!(r.incidents()[1].why(5)[0].a(), 4);
    // No decay: X 3/13 = 0.23 beats Y 2/12 = 0.17.
    let flat = CorrelatorConfig {
        link_decay_secs: None,
        ..scored()
    };
    let r = Correlator::new(&g, flat).unwrap().correlate(&alerts);
    assert_eq!(groups(&r), vec![vec![0, 1, 2, 5], vec![3, 4]]);
}

#[test]
fn scored_looks_past_a_later_alert_on_a_dependency() {
    let g = graph();
    // X = {db, worker, worker}; an unrelated db alert at 200 s (X reached db long before, so
    // it stays alone) hides X's db alert from api at 210 s unless earlier db alerts count.
    let alerts = [
        alert("db", "A", "x", 0),
        alert("worker", "W", "y", 10),
        alert("worker", "W2", "y", 11),
        alert("db", "N", "x", 200),
        alert("api", "B", "y", 210),
    ];
    // X: exp(-210/300) x 3/13 = 0.11 beats the lone db alert: exp(-10/300) x 1/11 = 0.09.
    let r = Correlator::new(&g, scored()).unwrap().correlate(&alerts);
    assert_eq!(groups(&r), vec![vec![0, 1, 2, 4]]);
    assert_eq!(r.noise(), &[3]);
    let why = r.incidents()[0].why(4);
    assert_eq!((why[0].a(), why[0].gap_secs()), (0, 210.0));
    let latest_only = CorrelatorConfig {
        alerts_per_dependency: 1,
        ..scored()
    };
    let r = Correlator::new(&g, latest_only).unwrap().correlate(&alerts);
    assert_eq!(groups(&r), vec![vec![0, 1, 2], vec![3, 4]]);
}

#[test]
fn name_stats_ratio_by_hand() {
    let mut n = NameStats::default();
    // Nothing learned yet: every ratio is 1.
    let a = n.id(11, 2);
    let b = n.id(22, 2);
    assert_eq!((a, b, n.id(11, 2)), (0, 1, 0));
    assert_eq!(n.link_ratio(a, 5.0), 1.0);
    // The table holds 2 names: a third is untracked, and an alert without a name counts for
    // nothing.
    assert_eq!(n.id(33, 2), UNTRACKED);
    n.learn(a, 2);
    n.learn(a, 2);
    n.learn(b, 0);
    n.learn(UNTRACKED, 2);
    n.learn(NO_NAME, 7);
    // 4 named alerts, 6 links: mean 1.5. a: (4 + 5 x 1.5) / (2 + 5) / 1.5 = 11.5 / 10.5;
    // b: (0 + 7.5) / 6 / 1.5 = 5 / 6; untracked and unnamed: 1.
    assert!((n.link_ratio(a, 5.0) - 11.5 / 10.5).abs() < 1e-12);
    assert!((n.link_ratio(b, 5.0) - 5.0 / 6.0).abs() < 1e-12);
    assert_eq!(n.link_ratio(UNTRACKED, 5.0), 1.0);
    assert_eq!(n.link_ratio(NO_NAME, 5.0), 1.0);
    // No prior: the raw rates, 2 / 1.5 and 0.
    assert!((n.link_ratio(a, 0.0) - 2.0 / 1.5).abs() < 1e-12);
    assert_eq!(n.link_ratio(b, 0.0), 0.0);
}

/// db A, api B 10 s later (one path link), three Cert alerts on the unrelated mail (no links,
/// 700 s apart: new alerts, not re-fires), db A again at 3,000 s.
fn name_history() -> Vec<Alert> {
    vec![
        alert("db", "A", "x", 0),
        alert("api", "B", "y", 10),
        alert("mail", "Cert", "s", 1_000),
        alert("mail", "Cert", "s", 1_700),
        alert("mail", "Cert", "s", 2_400),
        alert("db", "A", "x", 3_000),
    ]
}

#[test]
fn a_name_that_fires_alone_joins_only_its_own_service() {
    let g = graph();
    // db A, api B 10 s later (one path link); three Cert alerts on the unrelated mail (no
    // links, 700 s apart: new alerts, not re-fires); db A again, then Cert on api 10 s later
    // (a path link from db) and Cert on db 20 s later (a same-service link).
    let mut alerts = name_history();
    alerts.push(alert("api", "Cert", "s", 3_010));
    alerts.push(alert("db", "Cert", "s", 3_020));
    // Before 3,010 s: 6 named alerts, 1 path link (B's), mean 1/6; Cert: 3 alerts, no link:
    // (0 + 5/6) / (3 + 5) / (1/6) = 0.625 < 0.8, so api's Cert stays alone; db's Cert joins
    // through its own service.
    let cfg = CorrelatorConfig::default();
    assert_eq!((cfg.min_name_link_ratio, cfg.name_prior_alerts), (0.8, 5.0));
    let r = Correlator::new(&g, cfg.clone()).unwrap().correlate(&alerts);
    assert_eq!(groups(&r), vec![vec![0, 1], vec![5, 7]]);
    assert_eq!(r.noise(), &[2, 3, 4, 6]);
    // A minimum of 0.62 (below 0.625) lets it join, as do names unused.
    for other in [
        CorrelatorConfig {
            min_name_link_ratio: 0.62,
            ..cfg.clone()
        },
        CorrelatorConfig {
            name_label: None,
            ..cfg.clone()
        },
    ] {
        let r = Correlator::new(&g, other).unwrap().correlate(&alerts);
        assert_eq!(groups(&r), vec![vec![0, 1], vec![5, 6, 7]]);
    }
    // B (1 alert, 1 link): (1 + 5/6) / 6 / (1/6) = 1.83, so a B on api joins.
    let mut b = alerts.clone();
    b[6] = alert("api", "B", "y", 3_010);
    let r = Correlator::new(&g, cfg.clone()).unwrap().correlate(&b);
    assert_eq!(groups(&r), vec![vec![0, 1], vec![5, 6, 7]]);
    // Any label can be the name: by service, api's one earlier alert (B) had a link, so api
    // is a linked name (1.83 again) and Cert on api joins.
    let by_service = CorrelatorConfig {
        name_label: Some("service".into()),
        ..cfg.clone()
    };
    let r = Correlator::new(&g, by_service).unwrap().correlate(&alerts);
    assert_eq!(groups(&r), vec![vec![0, 1], vec![5, 6, 7]]);
    // Streaming gives the same result.
    let c = Correlator::new(&g, cfg).unwrap();
    let mut st = c.stream();
    for a in &alerts {
        st.push(a.clone()).unwrap();
    }
    assert_eq!(groups(&st.finish()), vec![vec![0, 1], vec![5, 7]]);
}

#[test]
fn a_link_beyond_the_window_needs_a_name_that_follows_its_dependencies() {
    let g = graph();
    // As above: db A, api B 10 s later (one path link), three Cert alerts on mail (no links),
    // db A again at 3,000 s; then one alert on api 450 s after it: past the 420 s sparse
    // window, within the 600 s dependency window.
    let with = |a: Alert| {
        let mut v = name_history();
        v.push(a);
        v
    };
    let cfg = CorrelatorConfig {
        dependency_window_secs: Some(600),
        dependency_window_max_chance: 1.0,
        min_name_link_ratio: 0.5,
        ..CorrelatorConfig::default()
    };
    let c = Correlator::new(&g, cfg.clone()).unwrap();
    // Before 3,450 s: 6 named alerts, 1 link, mean 1/6. B: (1 + 5/6) / 6 / (1/6) = 1.83 >= 1,
    // so a B on api takes the slow link to db's A.
    let r = c.correlate(&with(alert("api", "B", "y", 3_450)));
    assert_eq!(groups(&r), vec![vec![0, 1], vec![5, 6]]);
    // Cert: (0 + 5/6) / 8 / (1/6) = 0.625 < 1: no link beyond the window, although 0.625 is
    // above this minimum, so inside the window it joins.
    let late_cert = with(alert("api", "Cert", "s", 3_450));
    let r = c.correlate(&late_cert);
    assert_eq!(groups(&r), vec![vec![0, 1]]);
    assert_eq!(r.noise(), &[2, 3, 4, 5, 6]);
    let r = c.correlate(&with(alert("api", "Cert", "s", 3_010)));
    assert_eq!(groups(&r), vec![vec![0, 1], vec![5, 6]]);
    // Streaming agrees; without names the slow link is taken.
    let mut st = c.stream();
    for a in &late_cert {
        st.push(a.clone()).unwrap();
    }
    assert_eq!(groups(&st.finish()), vec![vec![0, 1]]);
    let unnamed = CorrelatorConfig {
        name_label: None,
        ..cfg
    };
    let r = Correlator::new(&g, unnamed).unwrap().correlate(&late_cert);
    assert_eq!(groups(&r), vec![vec![0, 1], vec![5, 6]]);
}

#[test]
fn tabulated_link_decay_matches_exp() {
    // 300 s decay over a 600 s range, and past the table (4,096 x 1,024 ms) and negative gaps,
    // which fall back to `exp`.
    let d = super::Decay::new(300_000.0, 600_000);
    for gap in (0..=700_000)
        .step_by(37)
        .chain([0, 1023, 1024, 599_999, 600_000, 5_000_000, -5])
    {
        let want = (-(gap as f64) / 300_000.0).exp();
        let got = d.weight(gap);
        assert!(
            ((got - want) / want).abs() <= 3.0 * f64::EPSILON,
            "gap {gap}: {got} vs {want}"
        );
    }
    // A short decay: the error grows with gap / decay, still far below the 1e-9 tie tolerance.
    let short = super::Decay::new(1_000.0, 300_000);
    for gap in (0..=300_000).step_by(97) {
        let want = (-(gap as f64) / 1_000.0).exp();
        assert!(
            ((short.weight(gap) - want) / want).abs() < 1e-12,
            "gap {gap}"
        );
    }
    let wide = super::Decay::new(1_000.0, i64::MAX);
    assert_eq!(wide.coarse.len(), 4097);
    assert_eq!(wide.weight(10_000_000), (-10_000.0f64).exp());
}

#[test]
fn links_beyond_the_window_only_while_alerts_are_sparse() {
    let g = graph();
    let cfg = CorrelatorConfig::default();
    assert_eq!(
        (cfg.dependency_window_secs, cfg.dependency_window_max_chance),
        (Some(720), 0.1)
    );
    let c = Correlator::new(&g, cfg.clone()).unwrap();
    // Sparse: 3 alerts on 6 services in 20,450 s, 2.4e-5 per service and second: an alert in
    // the extra 300 s by chance 0.7 %, so db's A and api's B 450 s later are one incident.
    let sparse = [
        alert("mail", "M", "m", 0),
        alert("db", "A", "x", 20_000),
        alert("api", "B", "y", 20_450),
    ];
    let r = c.correlate(&sparse);
    assert_eq!(groups(&r), vec![vec![1, 2]]);
    let mut st = c.stream();
    for a in &sparse {
        st.push(a.clone()).unwrap();
    }
    assert_eq!(groups(&st.finish()), vec![vec![1, 2]]);
    // Dense: 40 more alerts in the first 1,000 s (42 on 6 services in 1,450 s, 4.8e-3 per
    // service and second: chance 0.76): the same pair stays apart, unless any chance will do.
    let mut dense: Vec<Alert> = (0..40)
        .map(|i| alert("mail", &format!("M{i}"), "m", i * 25))
        .collect();
    dense.push(alert("db", "A", "x", 1_000));
    dense.push(alert("api", "B", "y", 1_450));
    let r = c.correlate(&dense);
    assert!(
        r.incidents().iter().all(|i| !i.records().contains(&41)),
        "{:?}",
        groups(&r)
    );
    let any = CorrelatorConfig {
        dependency_window_max_chance: 1.0,
        ..cfg.clone()
    };
    let r = Correlator::new(&g, any).unwrap().correlate(&dense);
    assert!(groups(&r).contains(&vec![40, 41]), "{:?}", groups(&r));
    // The rate is over the last 3 hours: after ten quiet days the same dense burst still
    // keeps the pair apart (over all time it would be sparse).
    let mut late = vec![alert("mail", "M", "m", 0)];
    let t0 = 10 * 86_400;
    late.extend(
        dense
            .iter()
            .map(|a| alert_at(a, a.starts_at().as_secs() + t0)),
    );
    let r = c.correlate(&late);
    assert!(
        r.incidents().iter().all(|i| !i.records().contains(&42)),
        "{:?}",
        groups(&r)
    );
    // The setting is a probability.
    for bad in [-0.1, 1.5, f64::NAN] {
        let e = CorrelatorConfig {
            dependency_window_max_chance: bad,
            ..cfg.clone()
        }
        .check()
        .unwrap_err();
        assert!(
            e.to_string().contains("dependency_window_max_chance"),
            "{e}"
        );
    }
}

/// The alert with its start moved to `t` seconds.
fn alert_at(a: &Alert, t: i64) -> Alert {
    Alert::new(a.labels().clone(), Timestamp::from_secs(t))
}

#[test]
fn recent_alerts_count_the_last_three_hours() {
    let mut r = RecentAlerts::default();
    r.add(0, 2);
    r.add(59_999, 1);
    r.add(60_000, 4);
    // The span: 179 whole minutes before the current one, plus its elapsed part.
    assert_eq!(r.get(60_000), (7, 179 * 60_000));
    assert_eq!(r.get(90_000), (7, 179 * 60_000 + 30_000));
    // 179 minutes later the first minute is still in, at 180 it has left.
    r.add(179 * 60_000, 1);
    assert_eq!(r.get(179 * 60_000).0, 8);
    r.add(180 * 60_000, 0);
    assert_eq!(r.get(180 * 60_000).0, 5);
    // A gap longer than the span clears everything.
    r.add(1_000 * 60_000, 3);
    assert_eq!(r.get(1_000 * 60_000).0, 3);
    // Negative times (before 1970) work the same.
    let mut n = RecentAlerts::default();
    n.add(-90_000, 1);
    n.add(-30_000, 1);
    assert_eq!(n.get(-30_000).0, 2);
}

#[test]
fn alerts_ending_far_ahead_with_a_zero_refire_window_match_the_stream() {
    // Alerts due to end at the end of time stay re-fireable, so the batch de-duplication sweep
    // keeps their keys (it waits for the map to double, so it stays linear), and compares each
    // key's last sighting, i64::MAX, with the present without overflowing.
    let g = graph();
    let cfg = CorrelatorConfig {
        refire_window_secs: 0,
        dependency_window_secs: None,
        ..CorrelatorConfig::default()
    };
    let c = Correlator::new(&g, cfg).unwrap();
    let far = Some(Timestamp::from_millis(i64::MAX));
    let mut alerts: Vec<Alert> = (0..2_000)
        .map(|i| alert("mail", &format!("N{i}"), "z", i).with_ends_at(far))
        .collect();
    alerts.push(alert("db", "A", "x", 2_000));
    // Re-fires, long after: their alerts have not ended yet, so they are the same alerts.
    alerts.push(alert("mail", "N0", "z", 5_000).with_ends_at(far));
    alerts.push(alert("mail", "N1999", "z", 5_000).with_ends_at(far));
    let batch = c.correlate(&alerts);
    let mut s = c.stream();
    for a in &alerts {
        s.push(a.clone()).unwrap();
    }
    let streamed = s.finish();
    assert_eq!(groups(&batch), groups(&streamed));
    assert_eq!(batch.noise(), streamed.noise());
    assert_eq!(batch.distinct_alerts(), streamed.distinct_alerts());
    assert_eq!(batch.distinct_alerts(), 2_001);
}

proptest! {
    #[test]
    fn incident_ids_are_inc_and_the_record(rec in any::<usize>()) {
        prop_assert_eq!(incident_id(rec), format!("inc-{rec}"));
    }
}

#[test]
fn incident_ids_at_the_edges() {
    for rec in [0, 9, 10, 99, 100, usize::MAX] {
        assert_eq!(incident_id(rec), format!("inc-{rec}"));
    }
}

#[test]
fn times_at_the_ends_of_the_i64_range_neither_panic_nor_differ_from_the_stream() {
    // Timestamp::from_millis takes any i64: alerts 2^64 ms apart must not overflow the time
    // differences (the engine clamps times to +-2^61 ms, 73 million years).
    let g = graph();
    let at = |svc: &str, name: &str, ms: i64| {
        Alert::new(
            Labels::from_pairs([
                ("alertname", name),
                ("service", svc),
                ("severity", "critical"),
            ]),
            Timestamp::from_millis(ms),
        )
    };
    let alerts = vec![
        at("db", "A", i64::MIN).with_ends_at(Some(Timestamp::from_millis(i64::MAX))),
        at("api", "B", i64::MIN + 1),
        at("web", "C", i64::MIN + 2),
        at("db", "D", 0),
        at("api", "E", 1_000),
        at("db", "A", i64::MAX - 1),
        at("api", "B", i64::MAX),
        at("web", "F", i64::MAX),
    ];
    for cfg in [
        CorrelatorConfig::default(),
        CorrelatorConfig {
            refire_window_secs: 0,
            ..CorrelatorConfig::default()
        },
        CorrelatorConfig::article(),
    ] {
        let c = Correlator::new(&g, cfg).unwrap();
        let batch = c.correlate(&alerts);
        let mut s = c.stream();
        for a in &alerts {
            s.push(a.clone()).unwrap();
        }
        s.advance_to(Timestamp::from_millis(i64::MAX));
        let streamed = s.finish();
        assert_eq!(groups(&batch), groups(&streamed));
        assert_eq!(batch.noise(), streamed.noise());
        // Record 5 re-fires record 0 (still firing: it ends at the end of time); otherwise the
        // alerts at the start of time, around 0 and at the end are apart.
        let era = |i: usize| match i {
            0..=2 | 5 => 0,
            3 | 4 => 1,
            _ => 2,
        };
        let gs = groups(&batch);
        assert!(
            gs.iter().any(|g| g.contains(&0) && g.contains(&5)),
            "{gs:?}"
        );
        assert!(
            gs.iter().all(|g| g.iter().all(|&i| era(i) == era(g[0]))),
            "{gs:?}"
        );
        let view = c.correlate_view(&alerts);
        assert_eq!(view.noise(), batch.noise());
    }
}

proptest! {
    #[test]
    fn any_i64_times_neither_panic_nor_differ_from_the_stream(
        v in prop::collection::vec(
            (
                0usize..5,
                prop_oneof![
                    any::<i64>(),
                    Just(i64::MIN),
                    Just(i64::MAX),
                    -1_000_000i64..1_000_000,
                ],
                prop::option::of(any::<i64>()),
            ),
            0..25,
        ),
    ) {
        let svcs = ["web", "api", "db", "lb", "ghost"];
        let mut alerts: Vec<Alert> = v
            .into_iter()
            .map(|(s, t, end)| {
                Alert::new(
                    Labels::from_pairs([("alertname", "X"), ("service", svcs[s])]),
                    Timestamp::from_millis(t),
                )
                .with_ends_at(end.map(Timestamp::from_millis))
            })
            .collect();
        alerts.sort_by_key(Alert::starts_at);
        let g = graph();
        for cfg in [
            CorrelatorConfig::default(),
            CorrelatorConfig::article(),
            CorrelatorConfig { refire_window_secs: 0, ..CorrelatorConfig::default() },
        ] {
            let c = Correlator::new(&g, cfg).unwrap();
            let batch = c.correlate(&alerts);
            assert_view_equals(&c.correlate_view(&alerts), &batch);
            let mut s = c.stream();
            for a in &alerts {
                s.push(a.clone()).unwrap();
            }
            s.advance_to(Timestamp::from_millis(i64::MAX));
            prop_assert_eq!(&s.finish(), &batch);
        }
    }
}

/// The documented difference between a stream and a batch: a late resolution of an alert's
/// earlier episode, arriving after a newer episode began, joins the newer one in a stream
/// (a stream keeps only the latest episode of each alert for updates).
#[test]
fn a_late_update_of_an_earlier_episode_joins_the_latest_in_a_stream() {
    let g = graph();
    let c = Correlator::new(&g, CorrelatorConfig::default()).unwrap();
    let a0 = alert("db", "A", "x", 0);
    let recs = vec![
        a0.clone(),
        alert("api", "B", "y", 10),
        // A new episode of the same alert: 2,000 s is beyond the 600 s re-fire window.
        alert("db", "A", "x", 2000),
        alert("web", "C", "y", 2010),
        alert("api", "D", "y", 2020),
        a0.resolve(Timestamp::from_secs(100)),
    ];
    assert_eq!(
        groups(&c.correlate(&recs)),
        vec![vec![0, 1, 5], vec![2, 3, 4]]
    );
    let mut st = c.stream();
    for a in &recs {
        st.push(a.clone()).unwrap();
    }
    assert_eq!(groups(&st.finish()), vec![vec![0, 1], vec![2, 3, 4, 5]]);
}

/// db's own alert lags its dependents': worker and its users alert first and form an incident,
/// db's alert then starts another with api and web. The first alert of the second (db) lies
/// upstream of every service of the first, so the two merge.
fn lagging_root() -> (ServiceGraph, Vec<Alert>) {
    let s = |n: &str, deps: &[&str]| {
        let mut s = ServiceSpec::try_new(n, ServiceKind::Application).unwrap();
        for d in deps {
            s = s.depends_on(Dependency::new(*d)).unwrap();
        }
        s
    };
    let g = ServiceGraph::from_specs(&[
        s("db", &[]),
        s("api", &["db"]),
        s("web", &["api"]),
        s("worker", &["db"]),
        s("batch", &["worker"]),
        s("report", &["worker"]),
        s("mail", &[]),
        s("smtp", &["mail"]),
        s("notify", &["mail"]),
    ])
    .unwrap();
    let alerts = vec![
        alert("worker", "QueueBacklog", "q", 0),
        alert("batch", "JobLate", "j", 10),
        alert("report", "JobLate", "j", 20),
        alert("db", "SlowQueries", "l", 40),
        alert("api", "HighLatency", "l", 50),
        alert("web", "HighErrorRate", "e", 60),
    ];
    (g, alerts)
}

#[test]
fn an_incident_whose_first_service_is_upstream_of_another_merges_with_it() {
    let (g, alerts) = lagging_root();
    // Whatever the alert rate (a storm this short has no history to call it sparse by).
    let on = CorrelatorConfig {
        dependency_window_max_chance: 1.0,
        ..CorrelatorConfig::default()
    };
    let off = CorrelatorConfig {
        incident_merge_coverage: None,
        ..on.clone()
    };
    let split = Correlator::new(&g, off).unwrap().correlate(&alerts);
    assert_eq!(groups(&split), vec![vec![0, 1, 2], vec![3, 4, 5]]);
    let c = Correlator::new(&g, on.clone()).unwrap();
    let merged = c.correlate(&alerts);
    assert_eq!(groups(&merged), vec![vec![0, 1, 2, 3, 4, 5]]);
    // The why-record joins the two first alerts and says which one is upstream, by how much.
    let why: Vec<&Merge> = merged.incidents()[0]
        .merges()
        .iter()
        .filter(|m| matches!(m.rule(), MergeRule::UpstreamIncident { .. }))
        .collect();
    assert_eq!(why.len(), 1);
    assert_eq!((why[0].a(), why[0].b(), why[0].gap_secs()), (0, 3, 40.0));
    assert_eq!(
        why[0].rule(),
        &MergeRule::UpstreamIncident {
            from: "db".into(),
            to: "worker".into(),
            reached: 3,
            services: 3
        }
    );
    assert_eq!(why[0].rule().name(), "dependency_path");
    // A stream reports the merge when db's incident reaches 3 alerts, and ends the same.
    let mut s = c.stream();
    let mut events = Vec::new();
    for a in &alerts {
        events.extend(s.push(a.clone()).unwrap());
    }
    // The last start is placed once the time moves past it.
    events.extend(s.advance_to(Timestamp::from_secs(61)));
    assert!(
        events.contains(&IncidentEvent::Merged {
            into: "inc-0".into(),
            from: "inc-3".into()
        }),
        "{events:?}"
    );
    assert_eq!(s.finish(), merged);
    // A coverage below the one asked for keeps them apart: mail, which db does not reach,
    // joins worker's incident by a label rule (db's alerts lack the label), so db reaches 3
    // of its 4 services.
    let eu = |x: &Alert| {
        let mut l = x.labels().clone();
        l.insert("cluster", "eu");
        Alert::new(l, x.starts_at())
    };
    let with_mail = {
        let mut a: Vec<Alert> = alerts[..3].iter().map(eu).collect();
        a.push(eu(&alert("mail", "Bounce", "m", 25)));
        a.extend_from_slice(&alerts[3..]);
        a
    };
    let by_cluster = |coverage| {
        let cfg = CorrelatorConfig {
            label_sets: vec![vec!["cluster".into()]],
            incident_merge_coverage: Some(coverage),
            ..on.clone()
        };
        let r = Correlator::new(&g, cfg).unwrap().correlate(&with_mail);
        groups(&r)
    };
    assert_eq!(by_cluster(0.8), vec![vec![0, 1, 2, 3], vec![4, 5, 6]]);
    assert_eq!(by_cluster(0.75), vec![vec![0, 1, 2, 3, 4, 5, 6]]);
    // So do first alerts further apart than the merge window, and alerts too dense to call
    // sparse (a storm this short has no history).
    let late = Correlator::new(
        &g,
        CorrelatorConfig {
            incident_merge_window_secs: 30,
            ..on.clone()
        },
    )
    .unwrap();
    assert_eq!(late.correlate(&alerts).incidents().len(), 2);
    let dense = Correlator::new(&g, CorrelatorConfig::default()).unwrap();
    assert_eq!(dense.correlate(&alerts).incidents().len(), 2);
}

#[test]
fn unrelated_incidents_at_the_same_time_do_not_merge() {
    let (g, mut alerts) = lagging_root();
    alerts.truncate(3);
    // mail's cascade at the same time: mail reaches none of worker's services, nor worker
    // any of mail's.
    alerts.extend([
        alert("mail", "Bounce", "m", 5),
        alert("smtp", "Refused", "m", 15),
        alert("notify", "Late", "m", 25),
    ]);
    alerts.sort_by_key(Alert::starts_at);
    let c = Correlator::new(
        &g,
        CorrelatorConfig {
            dependency_window_max_chance: 1.0,
            incident_merge_coverage: Some(0.01),
            ..CorrelatorConfig::default()
        },
    )
    .unwrap();
    assert_eq!(c.correlate(&alerts).incidents().len(), 2);
}

/// Many incidents tracked at once: one 3-alert cascade a second, each on its own chain of 3
/// services, for 30 minutes (about 600 incidents tracked at a time, each paired with the 360
/// whose first alerts began within 180 s). Unrelated chains never merge. The cost per new alert
/// is one reachability bit per incident paired with its own (measured in `docs/benchmarks.md`,
/// "60 seeds, and the incident merge"; scanning every pair per alert made this storm take
/// minutes).
#[test]
fn many_incidents_tracked_at_once_do_not_merge_when_unrelated() {
    let chains = 1800;
    let mut specs = Vec::new();
    for i in 0..chains {
        for k in 0..3 {
            let mut s =
                ServiceSpec::try_new(format!("c{i}-{k}"), ServiceKind::Application).unwrap();
            if k > 0 {
                s = s
                    .depends_on(Dependency::new(format!("c{i}-{}", k - 1)))
                    .unwrap();
            }
            specs.push(s);
        }
    }
    let g = ServiceGraph::from_specs(&specs).unwrap();
    let mut alerts = Vec::new();
    for i in 0..chains {
        for k in 0..3i64 {
            let (svc, name) = (format!("c{i}-{k}"), format!("A{k}"));
            alerts.push(alert(&svc, &name, "m", i as i64 + 5 * k));
        }
    }
    alerts.sort_by_key(Alert::starts_at);
    let c = Correlator::new(
        &g,
        CorrelatorConfig {
            dependency_window_max_chance: 1.0,
            ..CorrelatorConfig::default()
        },
    )
    .unwrap();
    let r = c.correlate(&alerts);
    // The chains are unrelated: one incident each, none merged.
    assert_eq!(r.incidents().len(), chains);
    assert!(r.incidents().iter().all(|i| i.records().len() == 3));
    // And the stream agrees.
    let mut s = c.stream();
    for a in &alerts {
        s.push(a.clone()).unwrap();
    }
    assert_eq!(s.finish(), r);
}

#[test]
fn a_short_quiet_period_needs_no_merge_window_with_the_merge_off() {
    // A quiet period below the merge window's default (180 s) is refused only with the merge on.
    let short = CorrelatorConfig {
        window_secs: 60,
        sparse_window_secs: Some(90),
        quiet_period_secs: 120,
        dependency_window_secs: Some(120),
        ..CorrelatorConfig::default()
    };
    let e = short.check().unwrap_err();
    assert!(
        matches!(
            e,
            RcaError::InvalidParameter {
                name: "incident_merge_window_secs",
                ..
            }
        ),
        "{e}"
    );
    let off = CorrelatorConfig {
        incident_merge_coverage: None,
        ..short
    };
    assert!(off.check().is_ok());
}

#[test]
fn incident_merge_settings_are_checked() {
    for (cfg, name) in [
        (
            CorrelatorConfig {
                incident_merge_coverage: Some(0.0),
                ..CorrelatorConfig::default()
            },
            "incident_merge_coverage",
        ),
        (
            CorrelatorConfig {
                incident_merge_coverage: Some(f64::NAN),
                ..CorrelatorConfig::default()
            },
            "incident_merge_coverage",
        ),
        (
            CorrelatorConfig {
                incident_merge_window_secs: 721,
                ..CorrelatorConfig::default()
            },
            "incident_merge_window_secs",
        ),
        (
            CorrelatorConfig {
                incident_merge_window_secs: -1,
                ..CorrelatorConfig::default()
            },
            "incident_merge_window_secs",
        ),
    ] {
        let e = cfg.check().unwrap_err();
        assert!(
            matches!(e, RcaError::InvalidParameter { name: n, .. } if n == name),
            "{e}"
        );
    }
}

#[test]
fn sparse_window_widens_the_window_only_while_alerts_are_sparse() {
    let g = graph();
    let cfg = CorrelatorConfig::default();
    assert_eq!((cfg.window_secs, cfg.sparse_window_secs), (300, Some(420)));
    assert_eq!(CorrelatorConfig::article().sparse_window_secs, None);
    let c = Correlator::new(&g, cfg.clone()).unwrap();
    // lb -> api -> web is two hops, so the dependency window (direct dependencies) does not
    // apply. Sparse: 3 alerts on 6 services, the last two in the last 3 hours (an alert on a
    // service by chance within 420 s: 1.3 %): web's B 360 s after lb's A joins it.
    let sparse = |gap: i64| {
        [
            alert("mail", "M", "m", 0),
            alert("lb", "A", "x", 20_000),
            alert("web", "B", "y", 20_000 + gap),
        ]
    };
    let r = c.correlate(&sparse(360));
    assert_eq!(groups(&r), vec![vec![1, 2]]);
    let m = &r.incidents()[0].merges()[0];
    assert_eq!((m.a(), m.b(), m.gap_secs()), (1, 2, 360.0));
    let rule = MergeRule::DependencyPath {
        from: "lb".into(),
        to: "web".into(),
    };
    assert_eq!(m.rule(), &rule);
    let mut st = c.stream();
    for a in &sparse(360) {
        st.push(a.clone()).unwrap();
    }
    assert_eq!(st.finish(), r);
    // Past the sparse window, or without it: unrelated.
    assert!(c.correlate(&sparse(421)).incidents().is_empty());
    let narrow = CorrelatorConfig {
        sparse_window_secs: None,
        ..cfg.clone()
    };
    let n = Correlator::new(&g, narrow).unwrap();
    assert!(n.correlate(&sparse(360)).incidents().is_empty());
    assert_eq!(n.correlate(&sparse(300)).incidents().len(), 1);
    // Dense: 40 alerts on mail in the first 1,000 s (42 on 6 services in 1,360 s: an alert
    // by chance within 420 s is likely), then the same pair: the 300 s window holds, and the
    // alerts the window still keeps from 300-420 s back are out of reach.
    let mut dense: Vec<Alert> = (0..40)
        .map(|i| alert("mail", &format!("M{i}"), "m", i * 25))
        .collect();
    dense.push(alert("lb", "A", "x", 1_000));
    dense.push(alert("web", "B", "y", 1_360));
    let r = c.correlate(&dense);
    assert!(
        r.incidents().iter().all(|i| !i.records().contains(&41)),
        "{:?}",
        groups(&r)
    );
    dense[41] = alert("web", "B", "y", 1_290);
    assert!(
        groups(&c.correlate(&dense)).contains(&vec![40, 41]),
        "within the 300 s window"
    );
    // `relate` does not know the alert rate: the dependency and same-service rules reach the
    // sparse window, the label rules only the window.
    let pair = sparse(360);
    assert_eq!(c.relate(&pair[1], &pair[2]), Ok(rule));
    let e = c
        .relate(&alert("lb", "A", "x", 0), &alert("worker", "B", "y", 360))
        .unwrap_err();
    assert!(
        e.iter().any(|m| m.contains("beyond the 300 s window")),
        "{e:?}"
    );
    let e = c.relate(&pair[1], &sparse(421)[2]).unwrap_err();
    assert!(e[0].contains("more than the 420 s window"), "{e:?}");
    // Outside window_secs..=quiet_period_secs: an error naming it.
    for bad in [299, 721] {
        let e = CorrelatorConfig {
            sparse_window_secs: Some(bad),
            ..cfg.clone()
        }
        .check()
        .unwrap_err();
        assert!(
            matches!(&e, RcaError::InvalidParameter { name, .. } if *name == "sparse_window_secs"),
            "{e}"
        );
        assert!(e.to_string().contains("300..=720"), "{e}");
    }
}
