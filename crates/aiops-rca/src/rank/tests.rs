use super::*;
use aiops_core::{Dependency, Labels, ServiceKind, ServiceSpec};

/// db -> api -> web, db -> worker, cache -> web (dependency -> dependent).
fn graph() -> ServiceGraph {
    let s = |n: &str, k: ServiceKind, deps: &[&str]| {
        let mut s = ServiceSpec::try_new(n, k).unwrap();
        for d in deps {
            s = s.depends_on(Dependency::new(*d)).unwrap();
        }
        s
    };
    ServiceGraph::from_specs(&[
        s("web", ServiceKind::Application, &["api", "cache"]),
        s("api", ServiceKind::Application, &["db"]),
        s("worker", ServiceKind::Application, &["db"]),
        s("db", ServiceKind::Database, &[]),
        s("cache", ServiceKind::Cache, &[]),
    ])
    .unwrap()
}

fn alert(svc: &str, sev: &str, metric: &str, t: i64) -> Alert {
    Alert::new(
        Labels::from_pairs([
            ("alertname", "X"),
            ("service", svc),
            ("severity", sev),
            ("metric_type", metric),
        ]),
        Timestamp::from_secs(t),
    )
}

#[test]
fn article_ranker_mass_flows_downstream_its_known_weakness() {
    let g = graph();
    // The database fails first; api and web follow. The article's ranker blames web.
    let alerts = [
        alert("db", "warning", "saturation", 0),
        alert("api", "critical", "latency", 60),
        alert("web", "critical", "errors", 120),
    ];
    let top = AlertGraphRanker::default()
        .rank_alerts(&g, &alerts)
        .unwrap();
    assert_eq!(top.len(), 3);
    assert_eq!(top[0].service, "web", "{top:?}");
    assert_eq!(top[2].service, "db");
    // Edges 0 -> 1, 0 -> 2 (db reaches web), 1 -> 2; networkx.pagerank on that graph gives
    // {0: 0.19757959373228617, 1: 0.28155110874039785, 2: 0.5208692975273159}.
    let want = [
        0.520_869_297_527_315_9,
        0.281_551_108_740_397_85,
        0.197_579_593_732_286_17,
    ];
    for (t, w) in top.iter().zip(want) {
        assert!((t.score - w).abs() < 1e-6, "{top:?}");
    }
    // The topology ranker puts the database first.
    let input = RankInput::new().graph(&g).alerts(&alerts);
    let topo = TopologyRanker::default().rank(&input).unwrap();
    assert_eq!(topo[0].service(), "db", "{topo:?}");
    assert_eq!(topo[0].score(), 1.0);
    // The path leads to the heaviest symptom it reaches (api: critical and earlier than web).
    assert_eq!(topo[0].evidence_path().unwrap(), ["db", "api"]);
    let comb = CombinedRanker::default().rank(&input).unwrap();
    assert_eq!(comb[0].service(), "db");
}

#[test]
fn article_ranker_refuses_a_burst_too_large_for_its_all_pairs_graph() {
    let g = graph();
    // 10,001 alerts of one metric type in one second: 50,005,000 related pairs.
    let burst: Vec<Alert> = (0..10_001)
        .map(|i| alert("api", "warning", "latency", i / 10_000))
        .collect();
    let e = AlertGraphRanker::default()
        .score_alerts(&g, &burst)
        .unwrap_err();
    assert!(
        matches!(e, RcaError::TooLarge { limit, .. } if limit == ARTICLE_MAX_PAIRS),
        "{e}"
    );
    assert!(e.to_string().contains("CombinedRanker"), "{e}");
    // Spread over time, alerts are compared with their window only.
    let spread: Vec<Alert> = (0..2_000)
        .map(|i| alert("api", "warning", "latency", i * 10))
        .collect();
    assert_eq!(
        AlertGraphRanker::default()
            .score_alerts(&g, &spread)
            .unwrap()
            .len(),
        2_000
    );
}

#[test]
fn article_ranker_matches_a_hand_computation() {
    let g = graph();
    // Two unrelated alerts (different services without a path, different metric types):
    // no edges, so PageRank is uniform; ties keep time order.
    let alerts = [
        alert("worker", "warning", "a", 10),
        alert("cache", "warning", "b", 0),
    ];
    let top = AlertGraphRanker::default()
        .rank_alerts(&g, &alerts)
        .unwrap();
    assert_eq!(top.iter().map(|t| t.index).collect::<Vec<_>>(), vec![1, 0]);
    assert!((top[0].score - 0.5).abs() < 1e-12);
    // One edge 0 -> 1: x1 = 0.925 / 1.425 (see pagerank's two-node hand computation).
    let alerts = [
        alert("db", "warning", "a", 0),
        alert("api", "warning", "b", 10),
    ];
    let top = AlertGraphRanker::default()
        .rank_alerts(&g, &alerts)
        .unwrap();
    assert_eq!(top[0].index, 1);
    assert!((top[0].score - 0.925 / 1.425).abs() < 1e-6);
    // An alert without a service takes part in the graph but is not listed; a service can be
    // listed twice (the article ranks alerts).
    let nameless = Alert::new(
        Labels::from_pairs([("alertname", "X"), ("metric_type", "b")]),
        Timestamp::from_secs(20),
    );
    let alerts = [
        alert("db", "warning", "a", 0),
        alert("api", "warning", "b", 10),
        nameless,
        alert("api", "warning", "c", 15),
    ];
    let top = AlertGraphRanker::default()
        .rank_alerts(&g, &alerts)
        .unwrap();
    let listed: Vec<usize> = top.iter().map(|t| t.index).collect();
    assert!(!listed.contains(&2), "{top:?}");
    assert_eq!(listed.len(), 3, "{top:?}");
    assert_eq!(
        top.iter().filter(|t| t.service == "api").count(),
        2,
        "{top:?}"
    );
}

#[test]
fn silent_shared_dependency_surfaces() {
    let g = graph();
    // db is silent; api and worker (both use db) alert.
    let alerts = [
        alert("api", "critical", "latency", 0),
        alert("worker", "critical", "latency", 5),
    ];
    let r = TopologyRanker::default()
        .rank(&RankInput::new().graph(&g).alerts(&alerts))
        .unwrap();
    assert_eq!(r[0].service(), "db", "{r:?}");
    assert!(
        r.iter()
            .all(|c| (0.0..=1.0).contains(&c.score()) && (0.0..=1.0).contains(&c.confidence()))
    );
    // Without a graph the topology ranker says what is missing.
    assert_eq!(
        TopologyRanker::default()
            .rank(&RankInput::new().alerts(&alerts))
            .unwrap_err(),
        RcaError::Empty("service graph")
    );
}

fn series(start: i64, values: &[f64]) -> TimeSeries {
    TimeSeries::regular(Timestamp::from_secs(start), 60_000, values.to_vec()).unwrap()
}

#[test]
fn metric_ranker_is_unit_invariant_and_directional() {
    let t0 = 6_000;
    let base: Vec<f64> = (0..60).map(|i| 100.0 + f64::from(i % 5)).collect();
    let mut db = base.clone();
    db.extend([100.0, 160.0, 170.0, 170.0, 170.0]); // latency up from minute 1
    let mut api = base.clone();
    api.extend([100.0, 101.0, 102.0, 150.0, 150.0]); // later, smaller
    let mut web_tp = base.clone();
    web_tp.extend([100.0, 100.0, 100.0, 100.0, 100.0]); // unchanged
    let mk =
        |s: &str, m: &str, v: &[f64]| MetricSeries::try_new(s, m, series(t0 - 3600, v)).unwrap();
    let metrics = vec![
        mk("db", "latency", &db),
        mk("api", "latency", &api),
        mk("web", "throughput", &web_tp),
    ];
    let input = RankInput::new().metrics(&metrics, Timestamp::from_secs(t0));
    let r = MetricRanker::default().rank(&input).unwrap();
    assert_eq!(r[0].service(), "db");
    assert_eq!(r[1].service(), "api");
    assert!(r.iter().all(|c| c.service() != "web") || r[2].score() < 0.05);
    // Scaling a metric by 1000 (ms -> us) changes nothing.
    let scaled: Vec<f64> = db.iter().map(|x| x * 1000.0).collect();
    let metrics2 = vec![
        mk("db", "latency", &scaled),
        mk("api", "latency", &api),
        mk("web", "throughput", &web_tp),
    ];
    let r2 = MetricRanker::default()
        .rank(&RankInput::new().metrics(&metrics2, Timestamp::from_secs(t0)))
        .unwrap();
    assert_eq!(
        r.iter().map(RootCause::service).collect::<Vec<_>>(),
        r2.iter().map(RootCause::service).collect::<Vec<_>>()
    );
    assert!((r[1].score() - r2[1].score()).abs() < 1e-9);
    // A latency drop is not a fault; a throughput drop is.
    let mut drop = base.clone();
    drop.extend([40.0; 5]);
    let m3 = vec![mk("a", "latency", &drop), mk("b", "throughput", &drop)];
    let r3 = MetricRanker::default()
        .rank(&RankInput::new().metrics(&m3, Timestamp::from_secs(t0)))
        .unwrap();
    assert_eq!(r3.len(), 1);
    assert_eq!(r3[0].service(), "b");
    assert!(MetricRanker::default().rank(&RankInput::new()).is_err());
    assert!(MetricSeries::try_new("", "cpu", TimeSeries::new()).is_err());
}

#[test]
fn combined_uses_metrics_without_a_graph() {
    let t0 = 6_000;
    let base: Vec<f64> = (0..60).map(|i| 1.0 + f64::from(i % 3) * 0.01).collect();
    let mut up = base.clone();
    up.extend([5.0; 10]);
    let metrics = vec![
        MetricSeries::try_new("svc-a", "cpu", series(t0 - 3600, &up)).unwrap(),
        MetricSeries::try_new("svc-b", "cpu", series(t0 - 3600, &base)).unwrap(),
    ];
    let r = CombinedRanker::default()
        .rank(&RankInput::new().metrics(&metrics, Timestamp::from_secs(t0)))
        .unwrap();
    assert_eq!(r[0].service(), "svc-a");
    assert!(CombinedRanker::default().rank(&RankInput::new()).is_err());
}

/// `host` under db, cache and three apps; db -> api -> web, cache -> web, db -> worker.
fn hosted_graph() -> ServiceGraph {
    let s = |n: &str, k: ServiceKind, deps: &[&str]| {
        let mut s = ServiceSpec::try_new(n, k).unwrap();
        for d in deps {
            s = s.depends_on(Dependency::new(*d)).unwrap();
        }
        s
    };
    ServiceGraph::from_specs(&[
        s("web", ServiceKind::Application, &["api", "cache", "host"]),
        s("api", ServiceKind::Application, &["db", "host"]),
        s("worker", ServiceKind::Application, &["db", "host"]),
        s("db", ServiceKind::Database, &["host"]),
        s("cache", ServiceKind::Cache, &["host"]),
        s("host", ServiceKind::Host, &[]),
    ])
    .unwrap()
}

#[test]
fn silent_shared_host_does_not_outrank_the_alerting_root() {
    let g = hosted_graph();
    // db fails first, its dependents follow; the shared host raised nothing.
    let alerts = [
        alert("db", "warning", "saturation", 0),
        alert("db", "critical", "saturation", 20),
        alert("api", "critical", "latency", 90),
        alert("worker", "critical", "latency", 150),
        alert("web", "critical", "errors", 200),
    ];
    let input = RankInput::new().graph(&g).alerts(&alerts);
    let r = TopologyRanker::default().rank(&input).unwrap();
    assert_eq!(r[0].service(), "db", "{r:?}");
    let c = CombinedRanker::default().rank(&input).unwrap();
    assert_eq!(c[0].service(), "db", "{c:?}");
    // Without the own-evidence factor the plain walk blames the silent host, the weakness
    // the factor fixes.
    let plain = TopologyRanker {
        silent_weight: None,
        ..TopologyRanker::default()
    };
    let p = plain.rank(&input).unwrap();
    assert_eq!(p[0].service(), "host", "{p:?}");
}

#[test]
fn silent_host_under_many_symptomatic_branches_surfaces() {
    let g = hosted_graph();
    // Four services on the host alert at once through separate branches; the host is silent.
    let alerts = [
        alert("cache", "critical", "latency", 0),
        alert("db", "critical", "latency", 0),
        alert("api", "critical", "latency", 0),
        alert("worker", "critical", "latency", 0),
        alert("web", "critical", "latency", 0),
    ];
    let r = TopologyRanker::default()
        .rank(&RankInput::new().graph(&g).alerts(&alerts))
        .unwrap();
    assert_eq!(r[0].service(), "host", "{r:?}");
    // api and cache both lead to web only: one independent branch; db and cache lead to api
    // and web: two.
    let i = |n: &str| g.index_of(n).unwrap();
    assert_eq!(
        independent_branches(&g, [i("api"), i("cache")], &[i("web")]),
        1
    );
    assert_eq!(
        independent_branches(&g, [i("db"), i("cache")], &[i("api"), i("web")]),
        2
    );
    // Counted up to 2, all the silent rule asks: three branches to three symptoms give 2.
    assert_eq!(
        independent_branches(
            &g,
            [i("api"), i("cache"), i("worker")],
            &[i("api"), i("web"), i("worker")]
        ),
        2
    );
}

#[test]
fn metric_ranker_prefers_a_held_early_change_to_a_transient_bump() {
    let t0 = 6_000;
    let base: Vec<f64> = (0..60).map(|i| 100.0 + f64::from(i % 5)).collect();
    // "bump": a lone spike at the start then back to normal (no confirmed onset, held
    // median ~0); "root": up from minute 1 and staying up.
    let mut bump = base.clone();
    bump.extend([100.0, 400.0, 101.0, 102.0, 100.0, 101.0, 100.0]);
    let mut root = base.clone();
    root.extend([100.0, 150.0, 160.0, 160.0, 160.0, 160.0, 160.0]);
    let mk =
        |s: &str, v: &[f64]| MetricSeries::try_new(s, "latency", series(t0 - 3600, v)).unwrap();
    let metrics = vec![mk("bump", &bump), mk("root", &root)];
    let r = MetricRanker::default()
        .rank(&RankInput::new().metrics(&metrics, Timestamp::from_secs(t0)))
        .unwrap();
    assert_eq!(r[0].service(), "root", "{r:?}");
    assert!(r.len() == 1 || r[1].score() < 0.05, "{r:?}");
}

/// One service changes a little from the first point after the start, the other a lot from
/// `late` steps later; which leads, at sampling step `step_secs`.
fn leader_with_a_late_large_change(step_secs: i64, late: usize) -> String {
    let t0 = 100_000;
    let n_base = (3_600 / step_secs) as usize;
    let base: Vec<f64> = (0..n_base).map(|i| 100.0 + (i % 5) as f64).collect();
    let after = late + 3;
    let mut early = base.clone();
    early.extend(vec![116.0; after]);
    let mut root = base.clone();
    root.extend((0..after).map(|i| if i < late { 101.0 } else { 270.0 }));
    let mk = |s: &str, v: &[f64]| {
        let ts = TimeSeries::regular(
            Timestamp::from_secs(t0 - step_secs * n_base as i64),
            step_secs * 1000,
            v.to_vec(),
        )
        .unwrap();
        MetricSeries::try_new(s, "latency", ts).unwrap()
    };
    let metrics = vec![mk("early", &early), mk("root", &root)];
    let r = MetricRanker::default()
        .rank(&RankInput::new().metrics(&metrics, Timestamp::from_secs(t0)))
        .unwrap();
    r[0].service().to_owned()
}

#[test]
fn onset_lateness_is_measured_against_the_sampling_step() {
    // Two 5-minute steps after the first change (600 s): with a 60 s half-life the root's
    // change would weigh 1/1024; an onset is known only to within a step, so the half-life is
    // at least the step (300 s) and the much larger change leads.
    assert_eq!(leader_with_a_late_large_change(300, 2), "root");
    // The same two steps at 1-minute sampling (120 s later) cost a factor 4 only.
    assert_eq!(leader_with_a_late_large_change(60, 2), "root");
    // Ten minutes later at 1-minute sampling, the earlier change leads: the half-life is still
    // 60 s there.
    assert_eq!(leader_with_a_late_large_change(60, 10), "early");
}

#[test]
fn counters_are_ranked_by_their_rate() {
    let t0 = 6_000;
    let mk =
        |s: &str, m: &str, v: &[f64]| MetricSeries::try_new(s, m, series(t0 - 3600, v)).unwrap();
    // About 10 requests/s (600 a minute) throughout: the level grows, the rate does not change.
    // "cache" restarts (its counter resets to 0) in the baseline.
    let counter = |reset: Option<usize>| {
        let mut c = 5_000.0;
        (0..65)
            .map(|i| {
                c = if Some(i) == reset {
                    0.0
                } else {
                    c + 600.0 + (i % 3) as f64
                };
                c
            })
            .collect::<Vec<f64>>()
    };
    // Errors: 1-2 a minute, then 60 a minute from the start.
    let mut errors = Vec::new();
    let mut e = 0.0;
    for i in 0..65 {
        e += if i < 60 { 1.0 + f64::from(i % 2) } else { 60.0 };
        errors.push(e);
    }
    let base: Vec<f64> = (0..60).map(|i| 100.0 + f64::from(i % 5)).collect();
    let mut lat = base.clone();
    lat.extend([100.0, 101.0, 130.0, 130.0, 130.0]); // a smaller, later change
    let metrics = vec![
        mk("web", "http_requests_total", &counter(None)),
        mk("cache", "http_requests_total", &counter(Some(30))),
        mk("db", "errors_total", &errors),
        mk("api", "latency", &lat),
    ];
    let r = MetricRanker::default()
        .rank(&RankInput::new().metrics(&metrics, Timestamp::from_secs(t0)))
        .unwrap();
    // Read as levels, a counter's baseline is a ramp whose spread hides the jump of its rate:
    // the errors came second, after the smaller latency change.
    assert_eq!(r[0].service(), "db", "{r:?}");
    assert_eq!(r[1].service(), "api", "{r:?}");
    // Steady rates, a reset included, are no change.
    assert!(r[2..].iter().all(|c| c.score() < 0.05), "{r:?}");
    // A rate exported under a counter's name (it rises and falls) is read as it is: the same
    // error rates as `db`'s, but per minute, as `errors_total`.
    let per_minute: Vec<f64> = (0..65)
        .map(|i| if i < 60 { 1.0 + f64::from(i % 2) } else { 60.0 })
        .collect();
    let rates = vec![
        mk("db", "errors_total", &per_minute),
        mk("api", "latency", &lat),
    ];
    let r = MetricRanker::default()
        .rank(&RankInput::new().metrics(&rates, Timestamp::from_secs(t0)))
        .unwrap();
    // Read as a counter, each fall from 2 to 1 was a reset: a rate jumping between 1 and 2
    // per minute, a baseline as noisy as the change.
    assert_eq!(r[0].service(), "db", "{r:?}");
    assert!(r[0].score() > 2.0 * r[1].score(), "{r:?}");
    assert!(is_counter_metric("container_cpu_usage_seconds_total"));
    assert!(!is_counter_metric("total_memory") && !is_counter_metric("latency"));
}

#[test]
fn a_change_too_large_for_f64_still_ranks() {
    let t0 = 6_000;
    let base: Vec<f64> = (0..60).map(|i| 1.0 + 0.5 * f64::from(i % 2)).collect();
    let with = |after: &[f64]| {
        let mut v = base.clone();
        v.extend_from_slice(after);
        v
    };
    let mk =
        |s: &str, m: &str, v: &[f64]| MetricSeries::try_new(s, m, series(t0 - 3600, v)).unwrap();
    // (1e308 - 1.25) / 0.37 overflows: as infinity or NaN it dropped the service.
    let huge = with(&[1e308; 10]);
    let small = with(&[100.0; 10]);
    for after in [&huge[..], &huge[..huge.len() - 1]] {
        let metrics = vec![mk("huge", "latency", after), mk("small", "latency", &small)];
        let input = RankInput::new().metrics(&metrics, Timestamp::from_secs(t0));
        let r = MetricRanker::default().rank(&input).unwrap();
        assert_eq!(names_of(&r), ["huge", "small"], "{r:?}");
        let g = ServiceGraph::from_specs(&[
            ServiceSpec::try_new("huge", ServiceKind::Database).unwrap(),
            ServiceSpec::try_new("small", ServiceKind::Database).unwrap(),
        ])
        .unwrap();
        let r = CombinedRanker::default().rank(&input.graph(&g)).unwrap();
        assert_eq!(r[0].service(), "huge", "{r:?}");
    }
    // A flat baseline of huge values: its spread overflowed (mean of 60 x 1e307), so a drop to
    // 0 (z 100 against 1 % of the median) scored 0.
    let mut flat = vec![1e307; 60];
    flat.extend([0.0; 10]);
    let metrics = vec![
        mk("big", "throughput", &flat),
        mk("small", "latency", &with(&[3.0; 10])),
    ];
    let r = MetricRanker::default()
        .rank(&RankInput::new().metrics(&metrics, Timestamp::from_secs(t0)))
        .unwrap();
    assert_eq!(r[0].service(), "big", "{r:?}");
}

#[test]
fn an_old_alert_off_the_graph_does_not_discount_the_others() {
    // 0.5^(gap / 300 s) from an alert days earlier elsewhere underflowed every weight to 0.
    let g = graph();
    let day = 86_400;
    let alerts = vec![
        alert("elsewhere", "critical", "x", 0),
        alert("db", "critical", "latency", 5 * day),
        alert("api", "critical", "errors", 5 * day + 30),
    ];
    let r = TopologyRanker::default()
        .rank(&RankInput::new().graph(&g).alerts(&alerts))
        .unwrap();
    assert_eq!(r[0].service(), "db", "{r:?}");
}

#[test]
fn alerts_name_their_services_by_the_given_labels() {
    // Alerts naming their service by `component`, as a correlator with those service labels
    // groups them: without the labels nothing ranks; with them, the same ranking as `service`.
    let g = graph();
    let by = |label: &str, svc: &str, t: i64| {
        Alert::new(
            Labels::from_pairs([("alertname", "X"), (label, svc), ("severity", "critical")]),
            Timestamp::from_secs(t),
        )
    };
    let plain = [by("service", "db", 0), by("service", "api", 30)];
    let custom = [by("component", "db", 0), by("component", "api", 30)];
    let labels = vec!["component".to_owned()];
    let base = RankInput::new().graph(&g);
    for ranker in [
        &TopologyRanker::default() as &dyn Ranker,
        &CombinedRanker::default(),
    ] {
        let want = ranker.rank(&base.alerts(&plain)).unwrap();
        assert_eq!(want[0].service(), "db");
        assert!(ranker.rank(&base.alerts(&custom)).unwrap().is_empty());
        let got = ranker
            .rank(&base.alerts(&custom).service_labels(&labels))
            .unwrap();
        assert_eq!(names_of(&got), names_of(&want));
        let scores = |r: &[RootCause]| r.iter().map(RootCause::score).collect::<Vec<_>>();
        assert_eq!(scores(&got), scores(&want));
    }
}

#[test]
fn combined_ranker_takes_any_valid_walk_weight() {
    let g = graph();
    let t0 = 6_000;
    let base: Vec<f64> = (0..60).map(|i| 100.0 + f64::from(i % 5)).collect();
    let mut db = base.clone();
    db.extend([170.0; 5]);
    let metrics = vec![MetricSeries::try_new("db", "latency", series(t0 - 3600, &db)).unwrap()];
    let alerts = vec![
        alert("api", "critical", "errors", t0),
        alert("db", "warning", "latency", t0),
    ];
    let input = RankInput::new()
        .graph(&g)
        .alerts(&alerts)
        .metrics(&metrics, Timestamp::from_secs(t0));
    for walk in [0.0, 0.3, 1e6, f64::MAX] {
        let c = CombinedRanker {
            metric_walk_weight: walk,
            ..CombinedRanker::default()
        };
        c.check().unwrap();
        // `wsum * walk` overflowed: an error about a "personalization" the user never set.
        let r = c.rank(&input).unwrap();
        assert_eq!(r[0].service(), "db", "{walk}: {r:?}");
    }
}

#[test]
fn flat_baseline_rounding_noise_is_no_evidence() {
    let t0 = 6_000;
    // A gauge flat up to rounding (spread ~1e-18): a 2 % wobble after the start would score
    // z ~1e13 against the spread; against the floor 1 % of 0.0046 it scores
    // (0.004692 - 0.0046) / 0.000046 = 2, below the onset threshold.
    let flat: Vec<f64> = (0..60)
        .map(|i| {
            if i % 2 == 0 {
                0.0046
            } else {
                0.0046 * (1.0 + 1e-15)
            }
        })
        .collect();
    let mut wobble = flat.clone();
    wobble.extend([0.0046, 0.004_692, 0.004_692, 0.004_692, 0.004_692]);
    // The root: median 102, IQR 2 (scale 2 / 1.349), up to 160: z = 58 * 1.349 / 2 = 39.1.
    let base: Vec<f64> = (0..60).map(|i| 100.0 + f64::from(i % 5)).collect();
    let mut root = base.clone();
    root.extend([100.0, 160.0, 160.0, 160.0, 160.0]);
    let metrics = vec![
        MetricSeries::try_new("flat", "latency", series(t0 - 3600, &wobble)).unwrap(),
        MetricSeries::try_new("root", "latency", series(t0 - 3600, &root)).unwrap(),
    ];
    let input = RankInput::new().metrics(&metrics, Timestamp::from_secs(t0));
    let ranker = MetricRanker::default();
    let r = ranker.rank(&input).unwrap();
    assert_eq!(r[0].service(), "root", "{r:?}");
    assert!(r.len() == 1 || r[1].score() < 1e-6, "{r:?}");
    let z = r[0]
        .evidence()
        .iter()
        .find_map(|e| match e {
            Evidence::MetricChange { score, .. } => Some(*score),
            _ => None,
        })
        .unwrap();
    assert!((z - 58.0 * 1.349 / 2.0).abs() < 1e-9, "{z}");
    // Without the floor the rounding noise wins by 12 orders of magnitude.
    let no_floor = MetricRanker {
        min_relative_scale: 0.0,
        ..MetricRanker::default()
    };
    let r = no_floor.rank(&input).unwrap();
    assert_eq!(r[0].service(), "flat", "{r:?}");
}

#[test]
fn a_change_from_a_baseline_at_zero_counts_at_most_the_onset_threshold() {
    let t0 = 6_000;
    // A rarely called service: no requests in the whole baseline, then one or two per 15 s
    // from the start on (Train Ticket's `ops`). Against the 1e-9 floor that is z = 6.7e7.
    let mut rare = vec![0.0; 60];
    rare.extend([0.067, 0.133, 0.067, 0.067, 0.2]);
    // The root: latency held up, z = 58 * 1.349 / 2 = 39.1 (as above).
    let base: Vec<f64> = (0..60).map(|i| 100.0 + f64::from(i % 5)).collect();
    let mut root = base.clone();
    root.extend([100.0, 160.0, 160.0, 160.0, 160.0]);
    // Zero up to rounding is zero too.
    let mut dust: Vec<f64> = (0..60).map(|i| f64::from(i % 2) * 1e-18).collect();
    dust.extend([0.5, 0.5, 0.5, 0.5, 0.5]);
    let metrics = vec![
        MetricSeries::try_new("rare", "ops", series(t0 - 3600, &rare)).unwrap(),
        MetricSeries::try_new("dust", "errors", series(t0 - 3600, &dust)).unwrap(),
        MetricSeries::try_new("root", "latency", series(t0 - 3600, &root)).unwrap(),
    ];
    let input = RankInput::new().metrics(&metrics, Timestamp::from_secs(t0));
    let r = MetricRanker::default().rank(&input).unwrap();
    assert_eq!(r[0].service(), "root", "{r:?}");
    let z = |name: &str| {
        r.iter()
            .find(|c| c.service() == name)
            .and_then(|c| {
                c.evidence().iter().find_map(|e| match e {
                    Evidence::MetricChange { score, .. } => Some(*score),
                    _ => None,
                })
            })
            .unwrap()
    };
    // Still a change (with an onset, so evidence), of unknown size: the onset threshold.
    assert_eq!(z("rare"), MetricRanker::default().onset_z);
    assert_eq!(z("dust"), MetricRanker::default().onset_z);
    assert!((z("root") - 58.0 * 1.349 / 2.0).abs() < 1e-9);
}

#[test]
fn a_spike_at_the_last_point_is_unconfirmed() {
    let t0 = 6_000;
    let base: Vec<f64> = (0..60).map(|i| 100.0 + f64::from(i % 5)).collect();
    // "late": a latency spike at the last point only (z ~6600), nothing after it to confirm
    // it; "root": latency held up, z 39.1.
    let mut late = base.clone();
    late.extend([100.0, 101.0, 100.0, 101.0, 10_000.0]);
    let mut root = base.clone();
    root.extend([100.0, 160.0, 160.0, 160.0, 160.0]);
    let metrics = vec![
        MetricSeries::try_new("late", "latency", series(t0 - 3600, &late)).unwrap(),
        MetricSeries::try_new("root", "latency", series(t0 - 3600, &root)).unwrap(),
    ];
    let input = RankInput::new().metrics(&metrics, Timestamp::from_secs(t0));
    let r = MetricRanker::default().rank(&input).unwrap();
    assert_eq!(r[0].service(), "root", "{r:?}");
    // late: min(6600, 5) = 5, with no onset, so no evidence, and discounted as if its change
    // began at the end of the examined span. Counted as an onset 3 minutes after the root's,
    // it scored 6600 / 8 = 825 against 39.1.
    let late = r.iter().find(|c| c.service() == "late").unwrap();
    assert!(late.score() > 0.0 && late.score() < 1e-6, "{r:?}");
    assert!(late.evidence().is_empty(), "{r:?}");
}

#[test]
fn an_unconfirmed_spike_counts_at_most_the_onset_threshold() {
    let t0 = 6_000;
    let base: Vec<f64> = (0..60).map(|i| 100.0 + f64::from(i % 5)).collect();
    // "other": memory held up by 10 (z = 10 * 1.349 / 2 = 6.7) and one latency spike
    // (z ~6600) that the next point does not confirm; "root": latency held up, z 39.1. Both
    // change from the same minute.
    let mut memory = base.clone();
    memory.extend([100.0, 112.0, 112.0, 112.0, 112.0]);
    let mut spike = base.clone();
    spike.extend([100.0, 10_000.0, 101.0, 100.0, 101.0]);
    let mut root = base.clone();
    root.extend([100.0, 160.0, 160.0, 160.0, 160.0]);
    let mk =
        |s: &str, m: &str, v: &[f64]| MetricSeries::try_new(s, m, series(t0 - 3600, v)).unwrap();
    let metrics = vec![
        mk("other", "memory", &memory),
        mk("other", "latency", &spike),
        mk("root", "latency", &root),
    ];
    let input = RankInput::new().metrics(&metrics, Timestamp::from_secs(t0));
    let r = MetricRanker::default().rank(&input).unwrap();
    assert_eq!(r[0].service(), "root", "{r:?}");
    // other: max(6.7, min(6600, 5)) = 6.7 against 39.1.
    assert!((r[1].score() - 10.0 / 58.0).abs() < 1e-9, "{r:?}");
    let uncapped = MetricRanker {
        cap_unconfirmed: false,
        ..MetricRanker::default()
    };
    let r = uncapped.rank(&input).unwrap();
    assert_eq!(r[0].service(), "other", "{r:?}");
}

#[test]
fn caller_side_latency_counts_for_the_callees() {
    assert!(is_caller_side_metric("client-latency-p90"));
    assert!(!is_caller_side_metric("server-latency-p90"));
    let g = graph(); // web calls api and cache; api calls db; db and cache call nothing.
    let t0 = 6_000;
    let base: Vec<f64> = (0..60).map(|i| 100.0 + f64::from(i % 5)).collect();
    // web's client latency up (z 39.1); cache's client latency up more (z 78.2), but cache has
    // no dependency in the graph; api's own cpu up a little (z 6.7).
    let mut web = base.clone();
    web.extend([100.0, 160.0, 160.0, 160.0, 160.0]);
    let mut cache = base.clone();
    cache.extend([100.0, 218.0, 218.0, 218.0, 218.0]);
    let mut api = base.clone();
    api.extend([100.0, 112.0, 112.0, 112.0, 112.0]);
    let mk =
        |s: &str, m: &str, v: &[f64]| MetricSeries::try_new(s, m, series(t0 - 3600, v)).unwrap();
    let metrics = vec![
        mk("web", "client-latency", &web),
        mk("cache", "client-latency", &cache),
        mk("api", "cpu", &api),
    ];
    let input = RankInput::new()
        .metrics(&metrics, Timestamp::from_secs(t0))
        .graph(&g);
    let r = MetricRanker::default().rank(&input).unwrap();
    let names: Vec<&str> = r.iter().map(RootCause::service).collect();
    // web calls two services, so api and cache each take half of web's z 39.1 (api's own 6.7
    // is weaker); web and cache's own caller-side changes count for nobody.
    assert_eq!(names, ["api", "cache"], "{r:?}");
    assert!((r[1].score() - 1.0).abs() < 1e-12, "{r:?}");
    let half = 58.0 * 1.349 / 2.0 / 2.0;
    assert!(
        r[0].evidence().iter().any(|e| matches!(
            e,
            Evidence::MetricChange { metric, score }
                if metric == "client-latency of caller web (1/2)" && (score - half).abs() < 1e-9
        )),
        "{r:?}"
    );
    // web (two callees) and api (one: db) slow by as much: db, the one callee api's change can
    // mean, leads; copied in full, api, cache and db tied.
    let mut api_client = base.clone();
    api_client.extend([100.0, 160.0, 160.0, 160.0, 160.0]);
    let both = vec![
        mk("web", "client-latency", &web),
        mk("api", "client-latency", &api_client),
    ];
    let r = MetricRanker::default()
        .rank(
            &RankInput::new()
                .metrics(&both, Timestamp::from_secs(t0))
                .graph(&g),
        )
        .unwrap();
    let names: Vec<&str> = r.iter().map(RootCause::service).collect();
    assert_eq!(names, ["db", "api", "cache"], "{r:?}");
    assert!((r[1].score() - 0.5).abs() < 1e-12, "{r:?}");
    // Without a graph the callees are unknown: the caller-side changes count for nobody, and
    // api's own small change leads. With the option off, each metric is its own service's.
    let r = MetricRanker::default()
        .rank(&RankInput::new().metrics(&metrics, Timestamp::from_secs(t0)))
        .unwrap();
    assert_eq!(r[0].service(), "api", "{r:?}");
    assert!(r[1..].iter().all(|c| c.score() == 0.0), "{r:?}");
    // The same for a caller the graph does not hold.
    let outside = vec![
        mk("gateway", "client-latency", &cache),
        mk("api", "cpu", &api),
    ];
    let r = MetricRanker::default()
        .rank(
            &RankInput::new()
                .metrics(&outside, Timestamp::from_secs(t0))
                .graph(&g),
        )
        .unwrap();
    assert_eq!(r[0].service(), "api", "{r:?}");
    let off = MetricRanker {
        caller_side_to_callees: false,
        ..MetricRanker::default()
    };
    assert_eq!(off.rank(&input).unwrap()[0].service(), "cache");
    let alone = RankInput::new().metrics(&metrics, Timestamp::from_secs(t0));
    assert_eq!(off.rank(&alone).unwrap()[0].service(), "cache");
}

fn rc(service: &str, score: f64) -> RootCause {
    RootCause::try_new(service, score, 0.0, Vec::new()).unwrap()
}

#[test]
fn confidence_from_scores_by_hand() {
    // k = 1: shares of the score; k = 2: 1 / (1 + 0.25) and 0.25 / 1.25.
    let c = confidence_from_scores(&[1.0, 0.5], 1.0).unwrap();
    assert!((c[0] - 2.0 / 3.0).abs() < 1e-12 && (c[1] - 1.0 / 3.0).abs() < 1e-12);
    let c = confidence_from_scores(&[1.0, 0.5], 2.0).unwrap();
    assert!((c[0] - 0.8).abs() < 1e-12 && (c[1] - 0.2).abs() < 1e-12);
    // Scores need not be relative to the best; non-finite or non-positive ones get 0.
    let c = confidence_from_scores(&[4.0, f64::NAN, 2.0, -1.0, f64::INFINITY, 0.0], 1.0).unwrap();
    assert_eq!(c, [4.0 / 6.0, 0.0, 2.0 / 6.0, 0.0, 0.0, 0.0]);
    assert_eq!(
        confidence_from_scores(&[0.0, f64::NAN], 1.0).unwrap(),
        [0.0, 0.0]
    );
    assert!(confidence_from_scores(&[], 1.0).unwrap().is_empty());
}

#[test]
fn fit_confidence_exponent_recovers_the_exponent_by_hand() {
    // Two candidates scored 1 and 0.5; the first is the root 8 times in 10. The likelihood is
    // largest where 1 / (1 + 0.5^k) = 0.8, i.e. 0.5^k = 0.25: k = 2.
    let ranking = [rc("db", 1.0), rc("api", 0.5)];
    let mut history: Vec<(&[RootCause], &str)> = vec![(&ranking, "db"); 8];
    history.extend([(&ranking[..], "api"); 2]);
    // A ranking without its root says nothing and is skipped.
    let other = [rc("web", 1.0)];
    history.push((&other, "db"));
    let k = fit_confidence_exponent(history.iter().copied()).unwrap();
    assert!((k - 2.0).abs() < 1e-4, "{k}");
    // Right 2 times in 3: 1 / (1 + 0.5^k) = 2/3, k = 1.
    let mut h: Vec<(&[RootCause], &str)> = vec![(&ranking, "db"); 2];
    h.push((&ranking, "api"));
    let k = fit_confidence_exponent(h).unwrap();
    assert!((k - 1.0).abs() < 1e-4, "{k}");
    // Always right: the loss falls with k until the first candidate's confidence is 1 up to
    // rounding.
    let k = fit_confidence_exponent([(&ranking[..], "db")]).unwrap();
    assert!(k > 30.0, "{k}");
    assert!(confidence_from_scores(&[1.0, 0.5], k).unwrap()[0] > 1.0 - 1e-9);
}

#[test]
fn fit_confidence_exponent_without_usable_history_is_an_error() {
    let none: [(&[RootCause], &str); 0] = [];
    assert!(matches!(
        fit_confidence_exponent(none),
        Err(RcaError::Empty(_))
    ));
    let r = [rc("web", 1.0), rc("db", 0.0)];
    assert!(matches!(
        fit_confidence_exponent([(&r[..], "db"), (&r[..], "cache")]),
        Err(RcaError::Empty(_))
    ));
    // Ties, and a lone candidate, give the same confidences for every exponent.
    let tie = [rc("web", 1.0), rc("db", 1.0)];
    let lone = [rc("db", 1.0)];
    assert!(matches!(
        fit_confidence_exponent([(&tie[..], "db"), (&lone[..], "db")]),
        Err(RcaError::Empty(_))
    ));
}

/// Whether every confidence is `confidence_from_scores` of the ranking's scores with `k`.
fn has_exponent(r: &[RootCause], k: f64) -> bool {
    let scores: Vec<f64> = r.iter().map(RootCause::score).collect();
    let want = confidence_from_scores(&scores, k).unwrap();
    !r.is_empty()
        && r.iter()
            .zip(&want)
            .all(|(c, w)| (c.confidence() - w).abs() < 1e-12)
}

#[test]
fn confidence_from_scores_rejects_bad_exponents() {
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(
                confidence_from_scores(&[1.0, 0.5], bad),
                Err(RcaError::InvalidParameter {
                    name: "confidence_exponent",
                    ..
                })
            ),
            "{bad}"
        );
    }
}

#[test]
fn rankers_reject_bad_settings_by_name() {
    let g = graph();
    let alerts = [
        alert("db", "critical", "saturation", 0),
        alert("web", "critical", "latency", 60),
    ];
    let t0 = 6_000;
    let mut db: Vec<f64> = (0..60).map(|i| 100.0 + f64::from(i % 5)).collect();
    db.extend([100.0, 160.0, 170.0, 170.0, 170.0]);
    let metrics = vec![MetricSeries::try_new("db", "latency", series(t0 - 3600, &db)).unwrap()];
    let start = Timestamp::from_secs(t0);
    let with_alerts = RankInput::new().graph(&g).alerts(&alerts);
    let with_metrics = RankInput::new().metrics(&metrics, start);
    let blend = RankInput::new()
        .graph(&g)
        .alerts(&alerts)
        .metrics(&metrics, start);
    let named = |r: Result<Vec<RootCause>>, want: &str| match r {
        Err(RcaError::InvalidParameter { name, .. }) => name == want,
        _ => false,
    };
    let d = TopologyRanker::default;
    let topology: Vec<(TopologyRanker, &str)> = vec![
        (
            TopologyRanker {
                earliness_half_life_secs: Some(0.0),
                ..d()
            },
            "earliness_half_life_secs",
        ),
        (
            TopologyRanker {
                earliness_half_life_secs: Some(f64::NAN),
                ..d()
            },
            "earliness_half_life_secs",
        ),
        (
            TopologyRanker {
                coverage_power: f64::NAN,
                ..d()
            },
            "coverage_power",
        ),
        (
            TopologyRanker {
                coverage_power: -1.0,
                ..d()
            },
            "coverage_power",
        ),
        (
            TopologyRanker {
                evidence_power: f64::INFINITY,
                ..d()
            },
            "evidence_power",
        ),
        (
            TopologyRanker {
                silent_weight: Some(-0.5),
                ..d()
            },
            "silent_weight",
        ),
        (
            TopologyRanker {
                alpha: f64::NAN,
                ..d()
            },
            "alpha",
        ),
        (TopologyRanker { alpha: 1.5, ..d() }, "alpha"),
        // At 1 the walk need not converge: two symptoms on one shared dependency oscillate.
        (TopologyRanker { alpha: 1.0, ..d() }, "alpha"),
    ];
    for (t, name) in topology {
        assert!(named(t.rank(&with_alerts), name), "{name}");
        let c = CombinedRanker {
            topology: t,
            ..CombinedRanker::default()
        };
        assert!(named(c.rank(&blend), name), "{name}");
    }
    let d = MetricRanker::default;
    let metric: Vec<(MetricRanker, &str)> = vec![
        (
            MetricRanker {
                baseline_secs: 0,
                ..d()
            },
            "baseline_secs",
        ),
        (
            MetricRanker {
                baseline_secs: i64::MIN,
                ..d()
            },
            "baseline_secs",
        ),
        (
            MetricRanker {
                baseline_secs: i64::MAX,
                ..d()
            },
            "baseline_secs",
        ),
        (
            MetricRanker {
                after_secs: -5_000,
                ..d()
            },
            "after_secs",
        ),
        (
            MetricRanker {
                after_secs: i64::MAX,
                ..d()
            },
            "after_secs",
        ),
        (
            MetricRanker {
                onset_z: f64::NAN,
                ..d()
            },
            "onset_z",
        ),
        (
            MetricRanker {
                onset_z: 0.0,
                ..d()
            },
            "onset_z",
        ),
        (
            MetricRanker {
                onset_half_life_secs: Some(-60.0),
                ..d()
            },
            "onset_half_life_secs",
        ),
        (
            MetricRanker {
                min_relative_scale: f64::NAN,
                ..d()
            },
            "min_relative_scale",
        ),
    ];
    for (m, name) in metric {
        assert!(named(m.rank(&with_metrics), name), "{name}");
        let c = CombinedRanker {
            metric: m,
            ..CombinedRanker::default()
        };
        assert!(named(c.rank(&blend), name), "{name}");
    }
    for bad in [f64::NAN, -0.1, 1.5] {
        let c = CombinedRanker {
            metric_weight: bad,
            ..CombinedRanker::default()
        };
        assert!(named(c.rank(&blend), "metric_weight"), "{bad}");
    }
    for bad in [f64::NAN, -1.0, f64::INFINITY] {
        let c = CombinedRanker {
            metric_walk_weight: bad,
            ..CombinedRanker::default()
        };
        assert!(named(c.rank(&blend), "metric_walk_weight"), "{bad}");
    }
    // The limits themselves are accepted.
    let edge = MetricRanker {
        after_secs: 0,
        baseline_secs: 1,
        ..d()
    };
    assert!(edge.rank(&with_metrics).is_ok());
    let edge = CombinedRanker {
        metric_weight: 1.0,
        metric_walk_weight: 0.0,
        ..CombinedRanker::default()
    };
    assert!(edge.rank(&blend).is_ok());
}

fn bad_exponent(r: &Result<Vec<RootCause>>) -> bool {
    matches!(
        r,
        Err(RcaError::InvalidParameter {
            name: "confidence_exponent",
            ..
        })
    )
}

#[test]
fn rankers_use_their_confidence_exponent_and_reject_bad_ones() {
    let g = graph();
    let alerts = [
        alert("db", "critical", "saturation", 0),
        alert("api", "warning", "latency", 30),
        alert("web", "critical", "latency", 60),
    ];
    let t0 = 6_000;
    let base: Vec<f64> = (0..60).map(|i| 100.0 + f64::from(i % 5)).collect();
    let mut db = base.clone();
    db.extend([100.0, 160.0, 170.0, 170.0, 170.0]);
    let mut api = base.clone();
    api.extend([100.0, 101.0, 102.0, 150.0, 150.0]);
    let metrics = vec![
        MetricSeries::try_new("db", "latency", series(t0 - 3600, &db)).unwrap(),
        MetricSeries::try_new("api", "latency", series(t0 - 3600, &api)).unwrap(),
    ];
    let start = Timestamp::from_secs(t0);
    let alerts_only = RankInput::new().graph(&g).alerts(&alerts);
    let metrics_only = RankInput::new().metrics(&metrics, start);
    let blend = RankInput::new().graph(&g).metrics(&metrics, start);
    let plain = TopologyRanker::default().rank(&alerts_only).unwrap();
    let sharp = TopologyRanker {
        confidence_exponent: 3.0,
        ..TopologyRanker::default()
    };
    let r = sharp.rank(&alerts_only).unwrap();
    assert!(has_exponent(&r, 3.0), "{r:?}");
    // Same order and scores; the first candidate is surer.
    assert_eq!(names_of(&plain), names_of(&r));
    assert!(r[0].confidence() > plain[0].confidence());
    let metric = MetricRanker {
        confidence_exponent: 2.0,
        ..MetricRanker::default()
    };
    assert!(has_exponent(&metric.rank(&metrics_only).unwrap(), 2.0));
    let article = AlertGraphRanker::default().with_confidence_exponent(0.5);
    assert!(has_exponent(&article.rank(&alerts_only).unwrap(), 0.5));
    // The combined ranker's exponent holds on each of its paths; its parts' do not matter.
    let combined = CombinedRanker {
        confidence_exponent: 4.0,
        topology: TopologyRanker {
            confidence_exponent: f64::NAN,
            ..TopologyRanker::default()
        },
        metric: MetricRanker {
            confidence_exponent: -1.0,
            ..MetricRanker::default()
        },
        ..CombinedRanker::default()
    };
    for input in [&alerts_only, &metrics_only, &blend] {
        let r = combined.rank(input).unwrap();
        assert!(has_exponent(&r, 4.0), "{r:?}");
    }
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let t = TopologyRanker {
            confidence_exponent: bad,
            ..TopologyRanker::default()
        };
        assert!(bad_exponent(&t.rank(&alerts_only)), "{bad}");
        // Checked even when there is nothing to rank.
        assert!(bad_exponent(&t.rank(&RankInput::new().graph(&g))), "{bad}");
        let m = MetricRanker {
            confidence_exponent: bad,
            ..MetricRanker::default()
        };
        assert!(bad_exponent(&m.rank(&metrics_only)), "{bad}");
        let a = AlertGraphRanker::default().with_confidence_exponent(bad);
        assert!(bad_exponent(&a.rank(&alerts_only)), "{bad}");
        for input in [&alerts_only, &metrics_only, &blend] {
            let c = CombinedRanker {
                confidence_exponent: bad,
                ..CombinedRanker::default()
            };
            assert!(bad_exponent(&c.rank(input)), "{bad}");
        }
    }
}

fn names_of(r: &[RootCause]) -> Vec<&str> {
    r.iter().map(RootCause::service).collect()
}

proptest::proptest! {
    #[test]
    fn confidences_are_probabilities_in_score_order(
        scores in proptest::collection::vec(
            proptest::prop_oneof![
                0.0f64..10.0,
                proptest::strategy::Just(0.0),
                proptest::strategy::Just(f64::NAN),
                proptest::strategy::Just(-1.0),
                proptest::strategy::Just(f64::INFINITY),
                proptest::strategy::Just(1e-300),
            ],
            0..20,
        ),
        k in 0.01f64..100.0,
    ) {
        let c = confidence_from_scores(&scores, k).unwrap();
        proptest::prop_assert_eq!(c.len(), scores.len());
        proptest::prop_assert!(c.iter().all(|x| (0.0..=1.0).contains(x)));
        let usable = |x: f64| x.is_finite() && x > 0.0;
        let sum: f64 = c.iter().sum();
        if scores.iter().any(|&x| usable(x)) {
            proptest::prop_assert!((sum - 1.0).abs() < 1e-9, "{sum}");
        } else {
            proptest::prop_assert_eq!(sum, 0.0);
        }
        for (i, &a) in scores.iter().enumerate() {
            for (j, &b) in scores.iter().enumerate() {
                if usable(a) && usable(b) && a > b {
                    proptest::prop_assert!(c[i] >= c[j], "{:?}", (i, j, &c));
                }
                if !usable(a) {
                    proptest::prop_assert_eq!(c[i], 0.0);
                }
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
    /// The windowed scan gives the article's all-pairs alert graph: same PageRank for every
    /// alert, in any order of input and with equal, far apart or extreme start times.
    #[test]
    fn article_ranker_equals_the_all_pairs_graph(
        raw in proptest::collection::vec(
            (
                0usize..6,
                0usize..3,
                proptest::prop_oneof![
                    0i64..2_000,
                    proptest::strategy::Just(0i64),
                    proptest::strategy::Just(300i64),
                    proptest::strategy::Just(i64::MIN / 1000),
                    proptest::strategy::Just(i64::MAX / 1000),
                ],
            ),
            0..40,
        ),
    ) {
        let g = graph();
        let services = ["web", "api", "worker", "db", "cache", "elsewhere"];
        let metrics = ["latency", "errors", "saturation"];
        let alerts: Vec<Alert> = raw
            .iter()
            .map(|&(s, m, t)| alert(services[s], "warning", metrics[m], t))
            .collect();
        let ranker = AlertGraphRanker::default();
        let fast = ranker.score_alerts(&g, &alerts).unwrap();
        // The article's loop over all earlier alerts.
        let c = Correlator::new(&g, CorrelatorConfig::article()).unwrap();
        let mut order: Vec<usize> = (0..alerts.len()).collect();
        order.sort_by_key(|&i| alerts[i].starts_at());
        let mut edges = Vec::new();
        for i in 0..order.len() {
            for j in 0..i {
                if is_related(&c, &alerts[order[j]], &alerts[order[i]]) {
                    edges.push((j, i, 1.0));
                }
            }
        }
        let pr = pagerank(
            &CsrGraph::from_edges(order.len(), &edges).unwrap(),
            &PageRankParams::default(),
        )
        .unwrap();
        proptest::prop_assert_eq!(fast.len(), alerts.len());
        for s in &fast {
            let k = order.iter().position(|&i| i == s.index).unwrap();
            proptest::prop_assert_eq!(s.score, pr[k]);
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
    /// Any metrics (counters with resets, flat, huge or negative values, irregular and sparse
    /// samples, a start anywhere) rank without panicking: finite scores in [0, 1], the first
    /// 1 when any is above 0, confidences that sum to 1 then, best first, every service at most
    /// once.
    #[test]
    fn metric_ranker_takes_any_series(
        raw in proptest::collection::vec(
            (
                0usize..4,
                0usize..5,
                proptest::collection::vec(
                    (
                        1i64..900,
                        proptest::prop_oneof![
                            -1e6f64..1e6,
                            proptest::strategy::Just(0.0),
                            proptest::strategy::Just(1e300),
                            proptest::strategy::Just(-1e300),
                            proptest::strategy::Just(f64::MAX),
                        ],
                    ),
                    0..80,
                ),
            ),
            0..8,
        ),
        start in -1_000i64..40_000,
    ) {
        let services = ["web", "api", "db", "cache"];
        let names = ["latency", "requests_total", "client-latency", "throughput", "errors_total"];
        let metrics: Vec<MetricSeries> = raw
            .iter()
            .map(|(s, m, pts)| {
                let mut t = 0;
                let (ts, vs): (Vec<Timestamp>, Vec<f64>) = pts
                    .iter()
                    .map(|&(gap, v)| {
                        t += gap;
                        (Timestamp::from_secs(t), v)
                    })
                    .unzip();
                MetricSeries::try_new(
                    services[*s],
                    names[*m],
                    TimeSeries::try_new(ts, vs).unwrap(),
                )
                .unwrap()
            })
            .collect();
        let input = RankInput::new().metrics(&metrics, Timestamp::from_secs(start));
        if let Ok(r) = MetricRanker::default().rank(&input) {
            let mut seen: Vec<&str> = r.iter().map(RootCause::service).collect();
            seen.sort_unstable();
            seen.dedup();
            proptest::prop_assert_eq!(seen.len(), r.len());
            proptest::prop_assert!(r.windows(2).all(|w| w[0].score() >= w[1].score()), "{r:?}");
            for c in &r {
                proptest::prop_assert!((0.0..=1.0).contains(&c.score()), "{r:?}");
                proptest::prop_assert!((0.0..=1.0).contains(&c.confidence()), "{r:?}");
            }
            if let Some(first) = r.first().filter(|c| c.score() > 0.0) {
                proptest::prop_assert_eq!(first.score(), 1.0);
                let sum: f64 = r.iter().map(RootCause::confidence).sum();
                proptest::prop_assert!((sum - 1.0).abs() < 1e-9, "{sum}");
            }
        }
    }
}
