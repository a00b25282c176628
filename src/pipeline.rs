//! The end-to-end pipeline: an alert storm in, ranked incidents with a remediation decision out.
//!
//! ```text
//! alerts --correlate--> incidents --rank (+ metric evidence)--> root causes
//!        --recommend--> actions for the top cause's kind --decide--> dry-run plan or refusal
//! ```
//!
//! Each stage is also a method ([`Pipeline::correlate`], [`Pipeline::analyse`],
//! [`Pipeline::decide`]) so callers can time, inspect or replace one; [`Pipeline::run`] and
//! [`Pipeline::run_with_metrics`] chain them. Like every crate of the workspace, the pipeline
//! has no clock and does no I/O: `now` and the metric evidence are passed in.
//!
//! ```
//! use aiops::core::{Alert, Dependency, Labels, ServiceKind, ServiceSpec, Timestamp};
//! use aiops::pipeline::{Pipeline, PipelineConfig, dry_run_healer};
//! use aiops::rca::ServiceGraph;
//!
//! let specs = vec![
//!     ServiceSpec::try_new("web", ServiceKind::Application)?.depends_on(Dependency::new("db"))?,
//!     ServiceSpec::try_new("db", ServiceKind::Database)?,
//! ];
//! let graph = ServiceGraph::from_specs(&specs)?;
//! let at = |s: i64| Timestamp::from_secs(1_700_000_000 + s);
//! let alert = |svc: &str, name: &str, t: i64| {
//!     Alert::new(Labels::from_pairs([("alertname", name), ("service", svc), ("severity", "critical")]), at(t))
//! };
//! let storm = [alert("db", "SlowQueries", 0), alert("web", "HighLatency", 30), alert("db", "SlowQueries", 0)];
//!
//! let pipeline = Pipeline::new(&graph, PipelineConfig::default())?;
//! let healer = dry_run_healer(&graph)?;
//! let report = pipeline.run(&storm, &healer, at(60));
//! assert_eq!((report.records, report.distinct_alerts, report.incidents.len()), (3, 2, 1));
//! let first = &report.incidents[0];
//! assert_eq!(first.analysis.incident.root_causes()[0].service(), "db");
//! assert_eq!(first.analysis.recommendations[0], "Check slow-query logs");
//! // New rules have no track record: the dry-run plan (scale out db) waits for approval.
//! assert_eq!(first.decision.verdict.code(), "approval_required");
//! # Ok::<(), aiops::Error>(())
//! ```

use std::collections::BTreeSet;

use aiops_core::{Alert, Incident, ServiceKind, Timestamp};
use aiops_heal::{ActionType, BlastRadius, Decision, HealingEngine, Pattern, Policy, Rule};
use aiops_rca::{
    CombinedRanker, CorrelatedIncident, Correlation, Correlator, CorrelatorConfig, MetricSeries,
    RankInput, Ranker, Recommendations, ServiceGraph,
};

use crate::error::{Error, Result};

/// Root causes kept per incident by default: the article's top 3.
pub const DEFAULT_TOP_K: usize = 3;

/// How the pipeline correlates, ranks and recommends. Start from [`PipelineConfig::default`]
/// (aiops-rca's defaults: the best configuration measured on simulated storms) and adjust.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PipelineConfig {
    /// De-duplication and correlation rules.
    pub correlator: CorrelatorConfig,
    /// The root-cause ranker (a topology walk blended with metric evidence when given).
    pub ranker: CombinedRanker,
    /// Recommended actions by service kind.
    pub recommendations: Recommendations,
    /// Root causes kept per incident (at least 1).
    pub top_k: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            correlator: CorrelatorConfig::default(),
            ranker: CombinedRanker::default(),
            recommendations: Recommendations::default(),
            top_k: DEFAULT_TOP_K,
        }
    }
}

impl PipelineConfig {
    /// The article's rules and top 3 for correlation; ranking stays the default ranker.
    pub fn article() -> Self {
        PipelineConfig {
            correlator: CorrelatorConfig::article(),
            ..PipelineConfig::default()
        }
    }

    /// Checks every setting; [`Pipeline::new`] calls it.
    pub fn check(&self) -> Result<()> {
        if self.top_k == 0 {
            return Err(Error::InvalidParameter {
                name: "top_k",
                reason: "must keep at least 1 root cause, got 0".to_owned(),
            });
        }
        self.correlator.check()?;
        self.ranker.check()?;
        Ok(())
    }
}

/// [`AnalysedIncident::rank_error`] of an incident the ranker returned no candidate for.
pub const NOTHING_TO_RANK: &str = "no candidate to rank: no alert of the incident names a \
     service of the graph, and no metric series of one shows a change";

/// One incident after ranking and recommendation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AnalysedIncident {
    /// The incident with its top root causes attached (the best one is its primary service).
    pub incident: Incident,
    /// Indices into the input alerts of every record of the incident, re-fires included.
    pub records: Vec<usize>,
    /// Recommended actions for the kind of the top root cause (empty without one).
    pub recommendations: Vec<String>,
    /// Why the incident could not be ranked (no service of the graph and no metric evidence;
    /// the ranker's settings are checked by [`Pipeline::new`]), `None` when it was.
    pub rank_error: Option<String>,
}

/// One incident's full result: the analysis and the healing decision.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IncidentReport {
    /// Ranking and recommendations.
    pub analysis: AnalysedIncident,
    /// What the healing engine would do.
    pub decision: Decision,
}

/// The result of one pipeline run over a batch of alerts.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PipelineReport {
    /// Alert records in.
    pub records: usize,
    /// Distinct alerts after de-duplication.
    pub distinct_alerts: usize,
    /// Incidents, in the correlator's order (by start).
    pub incidents: Vec<IncidentReport>,
    /// Record indices judged unrelated to any incident.
    pub noise: Vec<usize>,
    /// `1 - incidents / distinct alerts`.
    pub compression: f64,
    /// `1 - incidents / records`.
    pub raw_compression: f64,
}

/// The pipeline over one service graph. Immutable once built, so threads can share it.
#[derive(Debug, Clone)]
pub struct Pipeline<'g> {
    graph: &'g ServiceGraph,
    correlator: Correlator<'g>,
    config: PipelineConfig,
}

impl<'g> Pipeline<'g> {
    /// A pipeline over `graph`; errors when a setting is out of range.
    pub fn new(graph: &'g ServiceGraph, config: PipelineConfig) -> Result<Self> {
        config.check()?;
        let correlator = Correlator::new(graph, config.correlator.clone())?;
        Ok(Pipeline {
            graph,
            correlator,
            config,
        })
    }

    /// The service graph.
    pub fn graph(&self) -> &'g ServiceGraph {
        self.graph
    }

    /// The settings.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// Stage 1: de-duplicates and groups the alerts into incidents.
    pub fn correlate(&self, alerts: &[Alert]) -> Correlation {
        self.correlator.correlate(alerts)
    }

    /// Stages 2 and 3: ranks the incident's root causes (with `metrics` as evidence when not
    /// empty, measured around the incident's start) and recommends actions for the top cause.
    /// An incident that cannot be ranked keeps no root causes and says why in `rank_error`.
    pub fn analyse(
        &self,
        incident: CorrelatedIncident,
        metrics: &[MetricSeries],
    ) -> AnalysedIncident {
        let records = incident.records().to_vec();
        let incident = incident.into_incident();
        // The alerts' services as the correlator named them: by the default labels only, an
        // incident correlated by other labels (`component`) had nothing to rank.
        let mut input = RankInput::new()
            .graph(self.graph)
            .alerts(incident.alerts())
            .service_labels(&self.config.correlator.service_labels);
        if !metrics.is_empty() {
            input = input.metrics(metrics, incident.start());
        }
        let (mut causes, rank_error) = match self.config.ranker.rank(&input) {
            // The rankers score graph services only: an empty ranking is a reason too.
            Ok(c) if c.is_empty() => (c, Some(NOTHING_TO_RANK.to_owned())),
            Ok(c) => (c, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        causes.truncate(self.config.top_k);
        let recommendations = causes
            .first()
            .and_then(|c| self.graph.kind(c.service()))
            .map(|k| self.config.recommendations.recommend(k).to_vec())
            .unwrap_or_default();
        AnalysedIncident {
            incident: incident.with_root_causes(causes),
            records,
            recommendations,
            rank_error,
        }
    }

    /// Stage 4: what `healer` would do about the incident at `now` (pure: nothing runs and the
    /// engine is not changed).
    pub fn decide(
        &self,
        analysis: &AnalysedIncident,
        healer: &HealingEngine,
        now: Timestamp,
    ) -> Decision {
        healer.decide(&analysis.incident, now)
    }

    /// All stages without metric evidence (ranking by topology and alerts only).
    pub fn run(&self, alerts: &[Alert], healer: &HealingEngine, now: Timestamp) -> PipelineReport {
        self.run_with_metrics(alerts, healer, now, |_| Vec::new())
    }

    /// All stages; `evidence` supplies the metric series to rank each incident with (for
    /// example the series of [`candidate_services`] around the incident's start from a
    /// metrics store; an empty vector ranks without metrics).
    pub fn run_with_metrics<F>(
        &self,
        alerts: &[Alert],
        healer: &HealingEngine,
        now: Timestamp,
        mut evidence: F,
    ) -> PipelineReport
    where
        F: FnMut(&Incident) -> Vec<MetricSeries>,
    {
        let correlation = self.correlate(alerts);
        let records = correlation.record_count();
        let distinct_alerts = correlation.distinct_alerts();
        let compression = correlation.compression();
        let raw_compression = correlation.raw_compression();
        let noise = correlation.noise().to_vec();
        let incidents = correlation
            .into_incidents()
            .into_iter()
            .map(|ci| {
                let metrics = evidence(ci.incident());
                let analysis = self.analyse(ci, &metrics);
                let decision = self.decide(&analysis, healer, now);
                IncidentReport { analysis, decision }
            })
            .collect();
        PipelineReport {
            records,
            distinct_alerts,
            incidents,
            noise,
            compression,
            raw_compression,
        }
    }
}

/// The services worth measuring for an incident: its alerting services and everything they
/// depend on within `hops` dependency edges (a silent root raises no alert, so it is found
/// only upstream of its symptoms). Sorted; services unknown to the graph are kept as named.
pub fn candidate_services(graph: &ServiceGraph, incident: &Incident, hops: usize) -> Vec<String> {
    let mut seen: BTreeSet<String> = incident.services().iter().cloned().collect();
    let mut frontier: Vec<String> = seen.iter().cloned().collect();
    for _ in 0..hops {
        let mut next = Vec::new();
        for s in &frontier {
            for (dep, _) in graph.dependencies(s) {
                if seen.insert(dep.to_owned()) {
                    next.push(dep.to_owned());
                }
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    seen.into_iter().collect()
}

/// First actions to try for a faulty service of this kind: clear then restart a cache, scale
/// out a database or queue, drain traffic from a host or network element (a risky action that
/// the default policy gates behind approval), restart anything else.
pub fn actions_for_kind(kind: &ServiceKind) -> Vec<ActionType> {
    match kind {
        ServiceKind::Cache => vec![ActionType::ClearCache, ActionType::RestartService],
        ServiceKind::Database | ServiceKind::Queue => vec![ActionType::ScaleOut],
        ServiceKind::Host | ServiceKind::Network => vec![ActionType::DrainTraffic],
        _ => vec![ActionType::RestartService],
    }
}

/// One healing rule per service kind present in `graph` (id `kind-<kind>`; a custom kind
/// named like a built-in kind that is present too, `kind-other:<name>`), matching an
/// incident whose primary service (its top root cause) is of that kind, with
/// [`actions_for_kind`] and confidence threshold 0, so the policy's approval level decides
/// whether a new rule may act alone.
pub fn rules_by_kind(graph: &ServiceGraph) -> Result<Vec<Rule>> {
    // By kind, not by its name: a custom kind named like a built-in one
    // (`ServiceKind::Other("database")`) is another kind, as in `Recommendations`. Grouped by
    // name, it shared one rule with the built-in kind, whose actions were those of whichever
    // came first in the graph (a restart for every database).
    let mut kinds: Vec<(String, ServiceKind, Vec<String>)> = Vec::new();
    for name in graph.names() {
        let Some(kind) = graph.kind(name) else {
            continue;
        };
        match kinds.iter_mut().find(|(_, k, _)| k == kind) {
            Some((_, _, names)) => names.push(name.clone()),
            None => kinds.push((kind.as_str().to_owned(), kind.clone(), vec![name.clone()])),
        }
    }
    // A custom kind whose name a built-in kind has is `kind-other:<name>` (ids are unique).
    let built_in: Vec<String> = kinds
        .iter()
        .filter(|(_, k, _)| !matches!(k, ServiceKind::Other(_)))
        .map(|(id, _, _)| id.clone())
        .collect();
    for (id, kind, _) in &mut kinds {
        if matches!(kind, ServiceKind::Other(_)) && built_in.contains(id) {
            *id = format!("other:{id}");
        }
    }
    kinds.sort_by(|a, b| a.0.cmp(&b.0));
    kinds
        .into_iter()
        .map(|(id, kind, names)| {
            Ok(Rule::new(
                format!("kind-{id}"),
                Pattern::new().any_of("service", names),
                actions_for_kind(&kind),
            )?
            .with_threshold(0.0)?)
        })
        .collect()
}

/// A healing engine safe to show a storm to: dry run, every built-in action available,
/// [`rules_by_kind`], plans proposed for approval until a rule's confidence reaches 0.8, and
/// at most 10 % of the services (at least one) touched per hour; the other limits are
/// [`Policy::default`]'s.
pub fn dry_run_healer(graph: &ServiceGraph) -> Result<HealingEngine> {
    let total = u32::try_from(graph.len()).unwrap_or(u32::MAX).max(1);
    let policy = Policy::builder()
        .dry_run(true)
        .approval_below(Some(0.8))
        .blast_radius(Some(BlastRadius::new(
            0.1f64.max(1.0 / f64::from(total)),
            3_600,
            total,
        )?))
        .build()?;
    let mut healer = HealingEngine::new(policy);
    healer.set_available_actions(ActionType::BUILT_IN);
    for rule in rules_by_kind(graph)? {
        healer.add_rule(rule)?;
    }
    Ok(healer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aiops_core::{Dependency, Labels, ServiceSpec, TimeSeries};
    use aiops_heal::Verdict;

    const T0: i64 = 1_700_000_000;

    /// web -> api -> db, api -> cache; search stands alone.
    fn graph() -> ServiceGraph {
        let specs = vec![
            ServiceSpec::try_new("web", ServiceKind::Application)
                .unwrap()
                .depends_on(Dependency::new("api"))
                .unwrap(),
            ServiceSpec::try_new("api", ServiceKind::Application)
                .unwrap()
                .depends_on(Dependency::new("db"))
                .unwrap()
                .depends_on(Dependency::new("cache"))
                .unwrap(),
            ServiceSpec::try_new("db", ServiceKind::Database).unwrap(),
            ServiceSpec::try_new("cache", ServiceKind::Cache).unwrap(),
            ServiceSpec::try_new("search", ServiceKind::Application).unwrap(),
        ];
        ServiceGraph::from_specs(&specs).unwrap()
    }

    fn alert(svc: &str, name: &str, t: i64) -> Alert {
        Alert::new(
            Labels::from_pairs([
                ("alertname", name),
                ("service", svc),
                ("severity", "critical"),
            ]),
            Timestamp::from_secs(T0 + t),
        )
    }

    fn storm() -> Vec<Alert> {
        vec![
            alert("db", "SlowQueries", 0),
            alert("api", "HighLatency", 40),
            alert("db", "SlowQueries", 0), // duplicate
            alert("web", "HighErrorRate", 90),
            alert("search", "DiskFull", 5_000), // unrelated, alone: noise
        ]
    }

    #[test]
    fn run_groups_ranks_recommends_and_decides() {
        let g = graph();
        let p = Pipeline::new(&g, PipelineConfig::default()).unwrap();
        let healer = dry_run_healer(&g).unwrap();
        let r = p.run(&storm(), &healer, Timestamp::from_secs(T0 + 100));
        assert_eq!(r.records, 5);
        assert_eq!(r.distinct_alerts, 4);
        assert_eq!(r.incidents.len(), 1);
        assert_eq!(r.noise, vec![4]);
        // 1 - 1/4 and 1 - 1/5.
        assert!((r.compression - 0.75).abs() < 1e-12);
        assert!((r.raw_compression - 0.8).abs() < 1e-12);
        let inc = &r.incidents[0];
        assert_eq!(inc.analysis.records, vec![0, 1, 2, 3]);
        assert!(inc.analysis.rank_error.is_none());
        let causes = inc.analysis.incident.root_causes();
        assert_eq!(causes[0].service(), "db");
        assert!(causes.len() <= DEFAULT_TOP_K);
        assert_eq!(inc.analysis.incident.primary_service(), Some("db"));
        assert_eq!(
            inc.analysis.recommendations,
            Recommendations::default().recommend(&ServiceKind::Database)
        );
        let d = &inc.decision;
        assert!(d.dry_run);
        assert_eq!(d.rule_id.as_deref(), Some("kind-database"));
        assert_eq!(
            d.plan.as_ref().map(|p| p.actions.clone()),
            Some(vec![ActionType::ScaleOut])
        );
        assert!(matches!(d.verdict, Verdict::ApprovalRequired(_)));
    }

    #[test]
    fn pipeline_and_reports_can_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Pipeline<'static>>();
        send_sync::<PipelineReport>();
    }

    #[test]
    fn top_k_limits_the_root_causes() {
        let g = graph();
        let cfg = PipelineConfig {
            top_k: 1,
            ..PipelineConfig::default()
        };
        let p = Pipeline::new(&g, cfg).unwrap();
        let healer = dry_run_healer(&g).unwrap();
        let r = p.run(&storm(), &healer, Timestamp::from_secs(T0));
        assert_eq!(r.incidents[0].analysis.incident.root_causes().len(), 1);
    }

    #[test]
    fn bad_settings_are_errors_naming_the_value() {
        let g = graph();
        let cfg = PipelineConfig {
            top_k: 0,
            ..PipelineConfig::default()
        };
        let e = Pipeline::new(&g, cfg).unwrap_err();
        assert!(e.to_string().contains("top_k"), "{e}");
        let mut cfg = PipelineConfig::default();
        cfg.correlator.window_secs = -5;
        assert!(Pipeline::new(&g, cfg).is_err());
        // The ranker's settings too, up front rather than per incident.
        let mut cfg = PipelineConfig::default();
        cfg.ranker.metric_weight = 1.5;
        let e = Pipeline::new(&g, cfg).unwrap_err();
        assert!(e.to_string().contains("metric_weight"), "{e}");
    }

    #[test]
    fn empty_storm_gives_an_empty_report() {
        let g = graph();
        let p = Pipeline::new(&g, PipelineConfig::default()).unwrap();
        let healer = dry_run_healer(&g).unwrap();
        let r = p.run(&[], &healer, Timestamp::from_secs(T0));
        assert_eq!((r.records, r.distinct_alerts), (0, 0));
        assert!(r.incidents.is_empty() && r.noise.is_empty());
    }

    #[test]
    fn unknown_services_are_correlated_but_get_no_recommendation() {
        let g = graph();
        let p = Pipeline::new(&g, PipelineConfig::default()).unwrap();
        let healer = dry_run_healer(&g).unwrap();
        let storm = vec![alert("ghost", "Down", 0), alert("ghost", "Slow", 10)];
        let r = p.run(&storm, &healer, Timestamp::from_secs(T0));
        assert_eq!(r.incidents.len(), 1);
        let a = &r.incidents[0].analysis;
        // `ghost` has no kind in the graph, so nothing to recommend, and the rankers rank
        // graph services only: no root cause, and the reason says so (it was `None`).
        assert!(a.recommendations.is_empty());
        assert!(a.incident.root_causes().is_empty());
        assert_eq!(a.rank_error.as_deref(), Some(NOTHING_TO_RANK));
        // No rule names `ghost`'s kind: the healer skips.
        assert_eq!(r.incidents[0].decision.verdict.code(), "skip");
    }

    /// Incidents correlated by other service labels than the default ones were ranked by the
    /// default ones: no root cause, and a `rank_error` saying no alert names a graph service.
    #[test]
    fn incidents_are_ranked_by_the_correlators_service_labels() {
        let g = graph();
        let mut cfg = PipelineConfig::default();
        cfg.correlator.service_labels = vec!["component".into()];
        let p = Pipeline::new(&g, cfg).unwrap();
        let healer = dry_run_healer(&g).unwrap();
        let at = |c: &str, name: &str, t: i64| {
            Alert::new(
                Labels::from_pairs([
                    ("alertname", name),
                    ("component", c),
                    ("severity", "critical"),
                    // A default service label naming something else is not the service.
                    ("job", "scraper"),
                ]),
                Timestamp::from_secs(T0 + t),
            )
        };
        let storm = [
            at("db", "SlowQueries", 0),
            at("api", "HighLatency", 40),
            at("web", "HighErrorRate", 90),
        ];
        let r = p.run(&storm, &healer, Timestamp::from_secs(T0 + 100));
        assert_eq!(r.incidents.len(), 1);
        let a = &r.incidents[0].analysis;
        assert_eq!(a.rank_error, None);
        assert_eq!(a.incident.root_causes()[0].service(), "db");
        assert_eq!(
            a.recommendations,
            Recommendations::default().recommend(&ServiceKind::Database)
        );
        assert_eq!(
            r.incidents[0].decision.rule_id.as_deref(),
            Some("kind-database")
        );
    }

    /// A metric that is flat before `fault` minutes and jumps by `jump` after it.
    fn step_series(jump: f64, fault: i64) -> TimeSeries {
        let start = Timestamp::from_secs(T0 - 3_600);
        let values = (0..91)
            .map(|i| {
                let wiggle = [0.0, 0.4, -0.3, 0.2, -0.1][i as usize % 5];
                10.0 + wiggle + if i >= fault { jump } else { 0.0 }
            })
            .collect();
        TimeSeries::regular(start, 60_000, values).unwrap()
    }

    #[test]
    fn metric_evidence_can_move_the_top_cause_to_a_silent_root() {
        // The cache fails silently; only api and web alert. Without metrics the walk cannot
        // tell db from cache; the cache's latency jump decides.
        let g = graph();
        let p = Pipeline::new(&g, PipelineConfig::default()).unwrap();
        let healer = dry_run_healer(&g).unwrap();
        let storm = vec![
            alert("api", "HighLatency", 0),
            alert("web", "HighErrorRate", 60),
        ];
        let mut asked = Vec::new();
        let r = p.run_with_metrics(&storm, &healer, Timestamp::from_secs(T0), |inc| {
            asked = candidate_services(&g, inc, 2);
            vec![
                MetricSeries::try_new("cache", "latency", step_series(40.0, 60)).unwrap(),
                MetricSeries::try_new("db", "latency", step_series(0.0, 60)).unwrap(),
                MetricSeries::try_new("api", "latency", step_series(5.0, 61)).unwrap(),
            ]
        });
        assert_eq!(asked, ["api", "cache", "db", "web"]);
        let causes = r.incidents[0].analysis.incident.root_causes();
        assert_eq!(causes[0].service(), "cache", "{causes:?}");
        assert_eq!(
            r.incidents[0].decision.rule_id.as_deref(),
            Some("kind-cache")
        );
    }

    #[test]
    fn candidate_services_follow_dependencies_up_to_hops() {
        let g = graph();
        let inc = Incident::from_alerts("i", vec![alert("web", "X", 0)]).unwrap();
        assert_eq!(candidate_services(&g, &inc, 0), ["web"]);
        assert_eq!(candidate_services(&g, &inc, 1), ["api", "web"]);
        assert_eq!(
            candidate_services(&g, &inc, 5),
            ["api", "cache", "db", "web"]
        );
    }

    #[test]
    fn rules_cover_each_kind_once() {
        let g = graph();
        let rules = rules_by_kind(&g).unwrap();
        let ids: Vec<&str> = rules.iter().map(Rule::id).collect();
        assert_eq!(ids, ["kind-application", "kind-cache", "kind-database"]);
        assert_eq!(
            rules[1].actions(),
            &[ActionType::ClearCache, ActionType::RestartService]
        );
        assert!(rules.iter().all(|r| r.threshold() == 0.0));
    }

    /// A custom kind named like a built-in one shared its rule: the database `db` got the
    /// actions of the custom kind listed first (a restart, not a scale-out).
    #[test]
    fn a_custom_kind_named_like_a_built_in_one_gets_its_own_rule() {
        let specs = vec![
            ServiceSpec::try_new("mainframe", ServiceKind::Other("database".into())).unwrap(),
            ServiceSpec::try_new("db", ServiceKind::Database).unwrap(),
            ServiceSpec::try_new("old-db", ServiceKind::Other("database".into())).unwrap(),
        ];
        let g = ServiceGraph::from_specs(&specs).unwrap();
        let rules = rules_by_kind(&g).unwrap();
        let got: Vec<(&str, &[ActionType])> = rules.iter().map(|r| (r.id(), r.actions())).collect();
        assert_eq!(
            got,
            [
                ("kind-database", &[ActionType::ScaleOut][..]),
                ("kind-other:database", &[ActionType::RestartService][..]),
            ]
        );
        assert_eq!(
            rules[0].pattern().iter().collect::<Vec<_>>(),
            [("service", &aiops_heal::Matcher::AnyOf(vec!["db".into()]))]
        );
        // The healer takes them (ids are unique) and scales the database out.
        let healer = dry_run_healer(&g).unwrap();
        let inc = Incident::from_summary(
            "i",
            "db",
            aiops_core::Severity::High,
            Labels::new(),
            Timestamp::EPOCH,
        );
        let d = healer.decide(&inc, Timestamp::EPOCH);
        assert_eq!(d.rule_id.as_deref(), Some("kind-database"));
        // Alone, a custom kind keeps its plain id.
        let alone = ServiceGraph::from_specs(&specs[..1]).unwrap();
        assert_eq!(rules_by_kind(&alone).unwrap()[0].id(), "kind-database");
    }

    #[test]
    fn host_plans_need_approval_whatever_the_confidence() {
        assert_eq!(
            actions_for_kind(&ServiceKind::Host),
            vec![ActionType::DrainTraffic]
        );
        let h = dry_run_healer(&graph()).unwrap();
        assert!(h.policy().dry_run());
        assert!(
            h.policy()
                .approval_actions()
                .contains(&ActionType::DrainTraffic)
        );
        assert_eq!(h.policy().blast_radius().map(|b| b.max_services()), Some(1));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// On any simulated storm: every record is in exactly one incident or in the noise,
        /// each incident keeps at most `top_k` root causes, best first, and every decision is a
        /// dry run.
        #[test]
        fn every_record_is_accounted_for_once(seed in 0u64..10_000, n in 10usize..60) {
            let topo = aiops_sim::topology(n, seed);
            let spec = aiops_sim::StormSpec { incidents: 3, noise_alerts: 40, ..aiops_sim::StormSpec::small() };
            let st = aiops_sim::storm(&topo, &spec, seed);
            let g = ServiceGraph::from_specs(&topo.services).unwrap();
            let p = Pipeline::new(&g, PipelineConfig::default()).unwrap();
            let healer = dry_run_healer(&g).unwrap();
            let r = p.run(&st.alerts, &healer, Timestamp::from_secs(1_704_067_200 + 7_200));
            let mut seen = vec![0u32; st.alerts.len()];
            for inc in &r.incidents {
                for &k in &inc.analysis.records {
                    seen[k] += 1;
                }
                let causes = inc.analysis.incident.root_causes();
                proptest::prop_assert!(causes.len() <= DEFAULT_TOP_K);
                proptest::prop_assert!(causes.windows(2).all(|w| w[0].score() >= w[1].score()));
                proptest::prop_assert!(inc.decision.dry_run);
            }
            for &k in &r.noise {
                seen[k] += 1;
            }
            proptest::prop_assert!(seen.iter().all(|&c| c == 1));
            proptest::prop_assert_eq!(r.records, st.alerts.len());
        }
    }
}
