//! Root-cause rankers: the article's alert-graph PageRank, a topology random walk, a
//! metric-evidence ranker and their combination.

use std::collections::BTreeMap;

use aiops_core::stats::{RunningStats, median, quantile};
use aiops_core::{
    Alert, Criticality, Evidence, RootCause, SeriesSlice, Severity, TimeSeries, Timestamp,
};

use crate::bitset;
use crate::correlate::{Correlator, CorrelatorConfig};
use crate::error::{RcaError, Result};
use crate::graph::{PathScratch, ServiceGraph};
use crate::pagerank::{CsrGraph, PageRankParams, pagerank};

/// One metric series of one service, for metric-evidence ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSeries {
    service: String,
    metric: String,
    series: TimeSeries,
}

impl MetricSeries {
    /// A named series; service and metric names must be non-empty.
    pub fn try_new(
        service: impl Into<String>,
        metric: impl Into<String>,
        series: TimeSeries,
    ) -> Result<Self> {
        let (service, metric) = (service.into(), metric.into());
        if service.is_empty() || metric.is_empty() {
            return Err(RcaError::InvalidParameter {
                name: "metric series",
                reason: format!("service {service:?} and metric {metric:?} must be non-empty"),
            });
        }
        Ok(MetricSeries {
            service,
            metric,
            series,
        })
    }
    /// The service.
    pub fn service(&self) -> &str {
        &self.service
    }
    /// The metric name.
    pub fn metric(&self) -> &str {
        &self.metric
    }
    /// The series.
    pub fn series(&self) -> &TimeSeries {
        &self.series
    }
}

/// What a ranker may use: a service graph, the incident's alerts, metric series and the
/// incident start. Each ranker uses what it needs and reports what is missing
/// ([`RcaError::Empty`]: no graph, no series at all). Input it can use none of gives an empty
/// ranking, not an error: alerts only on services the graph lacks (the topology and combined
/// rankers score graph services; [`AlertGraphRanker`] ranks any service an alert names), or
/// metric series none of which has 3 finite points before the start and one
/// after it (a start in the wrong unit, or a baseline too short, looks like this).
#[derive(Debug, Clone, Copy, Default)]
pub struct RankInput<'a> {
    graph: Option<&'a ServiceGraph>,
    alerts: &'a [Alert],
    metrics: &'a [MetricSeries],
    start: Option<Timestamp>,
    service_labels: Option<&'a [String]>,
}

impl<'a> RankInput<'a> {
    /// Empty input.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds the service graph.
    #[must_use]
    pub fn graph(mut self, graph: &'a ServiceGraph) -> Self {
        self.graph = Some(graph);
        self
    }
    /// Adds the incident's alerts.
    #[must_use]
    pub fn alerts(mut self, alerts: &'a [Alert]) -> Self {
        self.alerts = alerts;
        self
    }
    /// Adds metric series and the time the incident (fault) started.
    #[must_use]
    pub fn metrics(mut self, metrics: &'a [MetricSeries], start: Timestamp) -> Self {
        self.metrics = metrics;
        self.start = Some(start);
        self
    }
    /// The labels naming an alert's service, looked up in order (the first present and
    /// non-empty), as [`CorrelatorConfig::service_labels`] names them for the correlator:
    /// give the same list to rank its incidents. Without it an alert's service is
    /// [`Alert::service`] (`service`, `app`, `job`, `service_name`). [`TopologyRanker`] and
    /// [`CombinedRanker`] read it; [`AlertGraphRanker`], the article's ranker exactly, reads
    /// [`Alert::service`].
    #[must_use]
    pub fn service_labels(mut self, labels: &'a [String]) -> Self {
        self.service_labels = Some(labels);
        self
    }
    /// The service of alert `a`, by [`RankInput::service_labels`].
    fn service_of<'x>(&self, a: &'x Alert) -> Option<&'x str> {
        match self.service_labels {
            None => a.service(),
            Some(labels) => crate::correlate::service_by(labels, a),
        }
    }
}

/// A root-cause ranker: candidates best first, scores in `[0, 1]`, ties broken by name.
pub trait Ranker {
    /// Ranks candidate services.
    fn rank(&self, input: &RankInput<'_>) -> Result<Vec<RootCause>>;
}

fn severity_weight(s: Option<Severity>) -> f64 {
    match s.unwrap_or_default() {
        Severity::Info => 0.2,
        Severity::Low => 0.4,
        Severity::High => 0.8,
        Severity::Critical => 1.0,
        _ => 0.6,
    }
}

fn criticality_weight(c: Criticality) -> f64 {
    match c {
        Criticality::Low => 0.8,
        Criticality::High => 1.25,
        _ => 1.0,
    }
}

// The default confidence exponent of every ranker: the candidate's share of the ranking's
// score. Fitted exponents calibrate aiops-sim rankings (seeds 11..=20 fit, 1..=10 held out:
// the combined ranker's ECE 0.64 -> 0.04 at k = 6 with alerts and metrics) but overstate
// confidence on public fault-injection data, where the rankers are less accurate (with
// metrics and graph, as rca_case ranks them, k = 2.8: Online Boutique ECE 0.17 -> 0.34), so
// the default stays 1 and `fit_confidence_exponent` fits it to a user's own incidents
// (`docs/benchmarks.md`, "Root-cause confidence").
const DEFAULT_EXPONENT: f64 = 1.0;

/// Sorts `(name, score)` best first, ties by name, scales scores so the best is 1, and turns
/// them into confidences with `exponent` (see [`confidence_from_scores`]).
fn finish(mut scored: Vec<(String, f64, Vec<Evidence>)>, exponent: f64) -> Result<Vec<RootCause>> {
    check_exponent(exponent)?;
    scored.retain(|s| s.1.is_finite() && s.1 > 0.0);
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let top = scored.first().map_or(1.0, |s| s.1);
    let scores: Vec<f64> = scored.iter().map(|s| (s.1 / top).clamp(0.0, 1.0)).collect();
    let confidence = confidence_from_scores(&scores, exponent)?;
    scored
        .into_iter()
        .zip(scores.into_iter().zip(confidence))
        .map(|((name, _, ev), (score, confidence))| {
            Ok(RootCause::try_new(name, score, confidence, ev)?)
        })
        .collect()
}

/// `Err(InvalidParameter)` naming `name` unless `ok`.
fn check_param(name: &'static str, ok: bool, reason: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(RcaError::InvalidParameter {
            name,
            reason: reason(),
        })
    }
}

/// Longest baseline or examined span a metric ranker accepts: 100 years.
const MAX_SPAN_SECS: i64 = 100 * 365 * 86_400;

fn check_exponent(exponent: f64) -> Result<()> {
    if exponent.is_finite() && exponent > 0.0 {
        Ok(())
    } else {
        Err(RcaError::InvalidParameter {
            name: "confidence_exponent",
            reason: format!("must be finite and above 0, got {exponent}"),
        })
    }
}

/// The confidences of one ranking from its scores: `score^k / sum(score^k)` over the ranking
/// (each in `[0, 1]`, summing to 1 when any score is above 0; all 0 otherwise). The exponent
/// `k` calibrates them: a ranker whose first candidate is usually right needs a large `k`, so
/// that its first candidate's confidence approaches its accuracy. Scores that are not finite or
/// not above 0 get confidence 0. An exponent that is not finite and above 0 is
/// [`RcaError::InvalidParameter`] (at `k <= 0` a lower score would get the higher confidence).
pub fn confidence_from_scores(scores: &[f64], exponent: f64) -> Result<Vec<f64>> {
    check_exponent(exponent)?;
    let top = scores
        .iter()
        .copied()
        .filter(|x| x.is_finite() && *x > 0.0)
        .fold(0.0f64, f64::max);
    if top <= 0.0 {
        return Ok(vec![0.0; scores.len()]);
    }
    // Relative to the best, so the powers stay in [0, 1] and the sum is at least 1.
    let w: Vec<f64> = scores
        .iter()
        .map(|&x| {
            if x.is_finite() && x > 0.0 {
                (x / top).powf(exponent)
            } else {
                0.0
            }
        })
        .collect();
    let total: f64 = w.iter().sum();
    Ok(w.iter().map(|x| (x / total).clamp(0.0, 1.0)).collect())
}

/// The confidence exponent (see [`confidence_from_scores`]) that best fits past rankings
/// whose true root cause is known: the one with the least log loss of the true root's
/// confidence, searched in `[0.01, 100]`. Each item is a ranking (any ranker's, best first)
/// and the service that was the root cause. Rankings that do not depend on the exponent are
/// skipped: those without the root among their candidates or with it at score 0 (their log
/// loss is infinite whatever the exponent), and those whose candidates all tie (their
/// confidences are equal whatever it is). Skipping the first kind biases the fit upwards
/// when they are common: each is a miss of the first candidate, which the fit does not see,
/// so check the fitted confidences on incidents it was not fitted on. The result can be set
/// as a ranker's `confidence_exponent`, so the confidences follow the accuracy the ranker
/// had on your own incidents.
///
/// # Errors
/// [`RcaError::Empty`] when no ranking is left: none holds its true root with a score above
/// 0 and another candidate scored below the first.
pub fn fit_confidence_exponent<'a, I>(history: I) -> Result<f64>
where
    I: IntoIterator<Item = (&'a [RootCause], &'a str)>,
{
    // Per ranking: the log scores (relative to the best) and the true root's.
    let mut cases: Vec<(Vec<f64>, f64)> = Vec::new();
    for (ranking, root) in history {
        let top = ranking.iter().map(RootCause::score).fold(0.0f64, f64::max);
        let Some(truth) = ranking.iter().find(|c| c.service() == root) else {
            continue;
        };
        if top <= 0.0 || truth.score() <= 0.0 {
            continue;
        }
        let logs: Vec<f64> = ranking
            .iter()
            .filter(|c| c.score() > 0.0)
            .map(|c| (c.score() / top).ln())
            .collect();
        // All tied with the first (logs of 0): the same confidences for every exponent.
        if logs.iter().all(|l| *l >= 0.0) {
            continue;
        }
        cases.push((logs, (truth.score() / top).ln()));
    }
    if cases.is_empty() {
        return Err(RcaError::Empty(
            "rankings holding their true root with a score above 0 and a candidate below the first",
        ));
    }
    // The log loss is convex in k (a log-sum-exp of linear functions minus a linear one), so
    // a golden-section search over ln k finds its minimum.
    let loss = |k: f64| -> f64 {
        cases
            .iter()
            .map(|(logs, t)| {
                let lse = logs.iter().map(|l| (k * l).exp()).sum::<f64>().ln();
                lse - k * t
            })
            .sum()
    };
    let (mut a, mut b) = (0.01f64.ln(), 100f64.ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (loss(c.exp()), loss(d.exp()));
    for _ in 0..100 {
        if fc <= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = loss(c.exp());
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = loss(d.exp());
        }
    }
    Ok(f64::midpoint(a, b).exp())
}

fn alert_evidence(a: &Alert) -> Evidence {
    Evidence::Alert {
        fingerprint: a.fingerprint(),
        alertname: a.alertname().unwrap_or("").to_owned(),
        at: a.starts_at(),
    }
}

/// One alert scored by the article's ranker.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq)]
pub struct AlertScore {
    /// Index of the alert in the input slice.
    pub index: usize,
    /// Its service (empty when it names none).
    pub service: String,
    /// Its PageRank in the alert graph.
    pub score: f64,
}

/// Most alert pairs [`AlertGraphRanker`] compares (and so at most as many edges, 24 bytes
/// each): 50 million, about 1.2 GB at most.
pub const ARTICLE_MAX_PAIRS: usize = 50_000_000;

/// The article's ranker, exactly: sort alerts by time, add an edge `j -> i` for every earlier
/// alert `j` related to `i` (its `_is_related`: at most 300 s apart and a dependency path from
/// `j`'s service to `i`'s, or the same `metric_type`), run PageRank (alpha 0.85) and return
/// the top 3 alerts.
///
/// Its known weakness: edges point from earlier to later alerts, so rank mass flows to the
/// latest, most downstream symptoms, away from the root cause (see the tests). The article
/// compares all pairs; this compares each alert with the earlier ones within the window only,
/// which gives the same edges at a cost of the alerts times the alerts per window (linear
/// while the rate of alerts is bounded, quadratic within one burst).
#[derive(Debug, Clone)]
pub struct AlertGraphRanker {
    config: CorrelatorConfig,
    alpha: f64,
    top_k: usize,
    confidence_exponent: f64,
}

impl Default for AlertGraphRanker {
    fn default() -> Self {
        AlertGraphRanker {
            config: CorrelatorConfig::article(),
            alpha: 0.85,
            top_k: 3,
            confidence_exponent: DEFAULT_EXPONENT,
        }
    }
}

impl AlertGraphRanker {
    /// The same ranker with another confidence exponent (see
    /// [`TopologyRanker::confidence_exponent`]; the article defines no confidence).
    #[must_use]
    pub fn with_confidence_exponent(mut self, exponent: f64) -> Self {
        self.confidence_exponent = exponent;
        self
    }

    /// The article's scores: the `top_k` (3) best alerts with service and PageRank, best
    /// first (ties in input time order, as Python's stable sort). Alerts that name no service
    /// take part in the alert graph but are not listed (the article's sketch reads each
    /// alert's service, and fails without one). As in the article, a service can be listed
    /// more than once: it ranks alerts, not services.
    pub fn rank_alerts(&self, graph: &ServiceGraph, alerts: &[Alert]) -> Result<Vec<AlertScore>> {
        let mut all = self.score_alerts(graph, alerts)?;
        all.retain(|a| !a.service.is_empty());
        all.truncate(self.top_k);
        Ok(all)
    }

    /// Every alert's score (services or not), best first, ties in time order: what
    /// [`AlertGraphRanker::rank_alerts`] takes its top 3 from. The article compares every
    /// alert with every earlier one in its window, so a burst of `n` alerts within 300 s costs
    /// `n^2 / 2` comparisons and as many edges: beyond [`ARTICLE_MAX_PAIRS`] pairs it is
    /// [`RcaError::TooLarge`] (a burst of about 10,000 alerts; 20,000 took 73 s and 14 GB).
    pub fn score_alerts(&self, graph: &ServiceGraph, alerts: &[Alert]) -> Result<Vec<AlertScore>> {
        let correlator = Correlator::new(graph, self.config.clone())?;
        let mut order: Vec<usize> = (0..alerts.len()).collect();
        order.sort_by_key(|&i| alerts[i].starts_at());
        let mut edges = Vec::new();
        // Sorted by start, the alerts within the window of alert `i` are a run ending at `i`:
        // the article's all-pairs loop gives the same edges, with pairs beyond the window
        // never related (240,000 alerts: 117 s all pairs).
        let window_ms = correlator.config().window_secs.saturating_mul(1000);
        let within = |i: usize, lo: usize| {
            alerts[order[i]]
                .starts_at()
                .millis_since(alerts[order[lo]].starts_at())
                <= window_ms
        };
        // Count the pairs first (one pass): a burst too large fails before any work.
        let (mut lo, mut pairs) = (0, 0usize);
        for i in 0..order.len() {
            while lo < i && !within(i, lo) {
                lo += 1;
            }
            pairs = pairs.saturating_add(i - lo);
        }
        if pairs > ARTICLE_MAX_PAIRS {
            return Err(RcaError::TooLarge {
                what: "alert pairs within the article's window",
                got: pairs,
                limit: ARTICLE_MAX_PAIRS,
                hint: "the article's alert graph grows with the square of a burst; rank \
                       with TopologyRanker or CombinedRanker instead",
            });
        }
        let mut lo = 0;
        for (i, &ai) in order.iter().enumerate() {
            while lo < i && !within(i, lo) {
                lo += 1;
            }
            for (j, &aj) in order.iter().enumerate().take(i).skip(lo) {
                if is_related(&correlator, &alerts[aj], &alerts[ai]) {
                    edges.push((j, i, 1.0));
                }
            }
        }
        let g = CsrGraph::from_edges(order.len(), &edges)?;
        let pr = pagerank(&g, &PageRankParams::default().alpha(self.alpha))?;
        let mut ranked: Vec<usize> = (0..order.len()).collect();
        ranked.sort_by(|&a, &b| pr[b].total_cmp(&pr[a]));
        Ok(ranked
            .into_iter()
            .map(|k| AlertScore {
                index: order[k],
                service: alerts[order[k]].service().unwrap_or("").to_owned(),
                score: pr[k],
            })
            .collect())
    }
}

/// The article's `_is_related(alert1, alert2)` with `alert1` the earlier one.
fn is_related(c: &Correlator<'_>, a: &Alert, b: &Alert) -> bool {
    let gap = b.starts_at().millis_since(a.starts_at());
    if gap > c.config().window_secs * 1000 {
        return false;
    }
    if let (Some(x), Some(y)) = (a.service(), b.service())
        && (c.graph().has_path(x, y) || x == y)
    {
        return true;
    }
    a.metric_type() == b.metric_type()
}

impl Ranker for AlertGraphRanker {
    /// Services by their best alert's PageRank (all services, so AC@k can be measured beyond
    /// the article's top 3).
    fn rank(&self, input: &RankInput<'_>) -> Result<Vec<RootCause>> {
        check_exponent(self.confidence_exponent)?;
        let graph = input.graph.ok_or(RcaError::Empty("service graph"))?;
        let scores = self.score_alerts(graph, input.alerts)?;
        let mut best: BTreeMap<String, (f64, Vec<Evidence>)> = BTreeMap::new();
        for s in scores {
            let e = best.entry(s.service.clone()).or_insert((0.0, Vec::new()));
            e.0 = e.0.max(s.score);
            e.1.push(alert_evidence(&input.alerts[s.index]));
        }
        finish(
            best.into_iter()
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, (s, e))| (k, s, e))
                .collect(),
            self.confidence_exponent,
        )
    }
}

/// Personalised random walk on the reversed dependency graph (dependent -> dependency),
/// teleporting to the symptomatic services in proportion to their evidence (alert severity,
/// service criticality, earliness, or metric anomaly scores). Mass collects at upstream
/// services that many symptoms depend on, including silent ones without alerts.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TopologyRanker {
    /// Damping factor of the walk, in 0..1 (at 1 the walk need not converge).
    pub alpha: f64,
    /// Alerts this many seconds after the incident's first alert weigh half as much (earlier
    /// alerts are likelier causes); `None` weighs all equally.
    pub earliness_half_life_secs: Option<f64>,
    /// Exponent of the share of symptomatic services a candidate can reach: the walk score is
    /// multiplied by `coverage^coverage_power`.
    pub coverage_power: f64,
    /// Strength factor of a candidate with evidence of its own: the walk score is multiplied
    /// by `(own weight / largest weight)^evidence_power`. Off (0) by default: 0.5 lifts AC@1
    /// on aiops-sim incidents, but it weighs a root's own alert by its severity, so a root
    /// whose only alert is a warning loses to the critical symptoms it causes downstream
    /// (the README's tiny storm: a slow database under a critical checkout latency).
    pub evidence_power: f64,
    /// Factor of a silent candidate (no alert, no metric change): `silent_weight` when it
    /// reaches symptoms through at least 2 independent branches (dependents leading to
    /// distinct symptoms), 0 otherwise (a silent service upstream of a single symptomatic
    /// branch is not listed: the branch explains the symptoms as well). A random walk piles
    /// mass at the graph's shared upstream services (hosts); this keeps candidates that
    /// raised evidence themselves ahead of them, while one upstream of many symptoms still
    /// surfaces, its walk score growing with the number of branches. `None` turns the rule
    /// off (the plain walk).
    pub silent_weight: Option<f64>,
    /// Exponent `k` of the confidences, `score^k / sum(score^k)` over the ranking (see
    /// [`confidence_from_scores`]; finite, above 0). The default 1 makes a candidate's
    /// confidence its share of the ranking's score, which is not a calibrated probability:
    /// measured, it is too low on aiops-sim incidents and too high on public fault-injection
    /// data (`docs/benchmarks.md`). [`fit_confidence_exponent`] fits `k` to your own labelled
    /// incidents.
    pub confidence_exponent: f64,
}

impl Default for TopologyRanker {
    fn default() -> Self {
        TopologyRanker {
            alpha: 0.85,
            earliness_half_life_secs: Some(300.0),
            coverage_power: 1.0,
            evidence_power: 0.0,
            silent_weight: Some(0.5),
            confidence_exponent: DEFAULT_EXPONENT,
        }
    }
}

impl TopologyRanker {
    /// Per graph node: the symptom weight from the input's alerts.
    fn alert_weights(&self, graph: &ServiceGraph, input: &RankInput<'_>) -> Vec<f64> {
        let mut w = vec![0.0; graph.len()];
        let alerts = input.alerts;
        // The first alert on a graph service: an older one elsewhere would discount every
        // weight here to nothing (0.5^(gap / 300 s) underflows to 0 after about 3.7 days).
        let on_graph = |a: &&Alert| {
            input
                .service_of(a)
                .is_some_and(|s| graph.index_of(s).is_some())
        };
        let Some(t0) = alerts.iter().filter(on_graph).map(Alert::starts_at).min() else {
            return w;
        };
        for a in alerts {
            let Some(i) = input.service_of(a).and_then(|s| graph.index_of(s)) else {
                continue;
            };
            let early = self.earliness_half_life_secs.map_or(1.0, |h| {
                0.5f64.powf(a.starts_at().secs_since(t0) / h.max(1e-9))
            });
            w[i] +=
                severity_weight(a.severity()) * criticality_weight(graph.criticality_at(i)) * early;
        }
        w
    }

    /// Ranks from per-node symptom weights, with the input's alerts as evidence and
    /// confidences of exponent `exponent`.
    fn rank_weights(
        &self,
        graph: &ServiceGraph,
        weights: &[f64],
        own: &[f64],
        input: &RankInput<'_>,
        exponent: f64,
    ) -> Result<Vec<RootCause>> {
        if weights.iter().all(|w| *w <= 0.0) {
            return Ok(Vec::new());
        }
        let pr = pagerank(
            graph.walk_graph()?,
            &PageRankParams::default()
                .alpha(self.alpha)
                .personalization(weights.to_vec()),
        )?;
        let symptoms: Vec<usize> = (0..graph.len()).filter(|&i| weights[i] > 0.0).collect();
        let total_w: f64 = symptoms.iter().map(|&i| weights[i]).sum();
        let ep = if self.evidence_power.is_finite() {
            self.evidence_power.max(0.0)
        } else {
            0.0
        };
        // Per graph node, its alerts (evidence), in input order: one pass instead of a scan
        // of every alert per candidate.
        let mut alerts_at: Vec<Vec<&Alert>> = vec![Vec::new(); graph.len()];
        for a in input.alerts {
            if let Some(i) = input.service_of(a).and_then(|s| graph.index_of(s)) {
                alerts_at[i].push(a);
            }
        }
        // The services that reach some symptom: every other one covers nothing and is skipped
        // before its symptoms are tested one by one (the walk leaves every node a little
        // mass, so on 10,000 services all of them would be tested per incident).
        let mut reach_any = vec![0u64; graph.node_words()];
        for &s in &symptoms {
            for (u, a) in reach_any.iter_mut().zip(graph.ancestor_bits(s)) {
                *u |= a;
            }
        }
        // The symptoms by component: a bitset of the components holding one, and per component
        // its symptoms (a CSR over component ids), so a candidate's reach row ANDed with the
        // bitset names the symptoms it covers (a bit test per candidate and symptom was
        // quadratic when every service alerts: 10,000 took 240 ms).
        let sccs = graph.scc_count();
        let mut scc_mask = vec![0u64; bitset::words(sccs)];
        let mut scc_start = vec![0u32; sccs + 1];
        for &s in &symptoms {
            let k = graph.scc_index(s);
            bitset::set(&mut scc_mask, k);
            scc_start[k + 1] += 1;
        }
        for k in 0..sccs {
            scc_start[k + 1] += scc_start[k];
        }
        let mut scc_symptoms = vec![0usize; symptoms.len()];
        let mut fill = scc_start.clone();
        for &s in &symptoms {
            let k = graph.scc_index(s);
            scc_symptoms[fill[k] as usize] = s;
            fill[k] += 1;
        }
        let mut covered: Vec<usize> = Vec::new();
        let mut scratch = PathScratch::default();
        let mut scored = Vec::new();
        // Per scored candidate: (its path's target, the candidate, its place in `scored`).
        let mut targets: Vec<(usize, usize, usize)> = Vec::new();
        for (c, &p) in pr.iter().enumerate() {
            if p <= 0.0 || !bitset::get(&reach_any, c) {
                continue;
            }
            // The symptoms' components in the candidate's reach row, word by word, in service
            // order as the sums below expect: gathered and sorted when they are few, else every
            // symptom tested in order (a candidate covering most of them, as on a chain).
            let reach = graph.descendant_sccs(c);
            let hit: u32 = reach
                .iter()
                .zip(&scc_mask)
                .map(|(r, m)| (r & m).count_ones())
                .sum();
            covered.clear();
            if (hit as usize) * 8 < symptoms.len() {
                for (w, (r, m)) in reach.iter().zip(&scc_mask).enumerate() {
                    let mut bits = r & m;
                    while bits != 0 {
                        let k = w * 64 + bits.trailing_zeros() as usize;
                        bits &= bits - 1;
                        covered.extend_from_slice(
                            &scc_symptoms[scc_start[k] as usize..scc_start[k + 1] as usize],
                        );
                    }
                }
                covered.sort_unstable();
            } else {
                covered.extend(
                    symptoms
                        .iter()
                        .copied()
                        .filter(|&s| bitset::get(reach, graph.scc_index(s))),
                );
            }
            debug_assert!(
                !covered.is_empty(),
                "reach_any holds only services with symptoms"
            );
            let cov = covered.iter().map(|&s| weights[s]).sum::<f64>() / total_w;
            let mut score = p * cov.powf(self.coverage_power);
            let mine = own.get(c).copied().unwrap_or(0.0);
            if mine > 0.0 {
                if ep > 0.0 {
                    score *= mine.min(1.0).powf(ep);
                }
            } else if let Some(silent) = self.silent_weight {
                let branches = independent_branches(graph, graph.dependent_indices(c), &covered);
                score *= if branches >= 2 { silent.max(0.0) } else { 0.0 };
            }
            // `finish` drops it anyway: no path or evidence for it (5 % of the largest bench).
            if !(score.is_finite() && score > 0.0) {
                continue;
            }
            // The path to the most heavily weighted symptom it reaches (other than itself if
            // possible), found below.
            let target = covered
                .iter()
                .copied()
                .filter(|&s| s != c)
                .max_by(|&a, &b| weights[a].total_cmp(&weights[b]).then(b.cmp(&a)))
                .unwrap_or(c);
            targets.push((target, c, scored.len()));
            let name = graph.name(c).unwrap_or("");
            let ev: Vec<Evidence> = alerts_at[c].iter().copied().map(alert_evidence).collect();
            scored.push((name.to_owned(), score, ev));
        }
        // Paths by target: one backward search serves every candidate of a target (a forward
        // search per candidate made ranking quadratic in the services); a lone candidate
        // searches forward, within the services that reach its target.
        targets.sort_unstable();
        for group in targets.chunk_by(|x, y| x.0 == y.0) {
            let target = group[0].0;
            let paths = if let [(_, c, _)] = group {
                vec![graph.path_index_with(*c, target, &mut scratch)]
            } else {
                let froms: Vec<usize> = group.iter().map(|g| g.1).collect();
                graph.paths_to(&froms, target, &mut scratch)
            };
            for (&(_, _, k), path) in group.iter().zip(paths) {
                if let Some(path) = path {
                    let path = path
                        .into_iter()
                        .filter_map(|i| graph.name(i).map(str::to_owned))
                        .collect();
                    scored[k].2.insert(0, Evidence::DependencyPath { path });
                }
            }
        }
        finish(scored, exponent)
    }
}

/// How many dependents of a silent candidate lead to its `covered` symptoms independently: the
/// number of symptomatic branches, at most the number of distinct symptoms they reach,
/// counted up to 2 (all the silent rule asks).
fn independent_branches(
    graph: &ServiceGraph,
    users: impl IntoIterator<Item = usize>,
    covered: &[usize],
) -> i32 {
    let mut reached = vec![false; covered.len()];
    let (mut branches, mut distinct) = (0usize, 0usize);
    for u in users {
        let mut any = false;
        let reach = graph.descendant_sccs(u);
        for (k, &s) in covered.iter().enumerate() {
            if u == s || bitset::get(reach, graph.scc_index(s)) {
                distinct += usize::from(!reached[k]);
                reached[k] = true;
                any = true;
            }
        }
        branches += usize::from(any);
        // The rule only asks for two: a silent host with a thousand dependents need not test
        // them all against every symptom.
        if branches >= 2 && distinct >= 2 {
            return 2;
        }
    }
    i32::try_from(branches.min(distinct)).unwrap_or(i32::MAX)
}

/// Weights relative to the largest.
fn relative(w: &[f64]) -> Vec<f64> {
    let top = w.iter().copied().fold(0.0f64, f64::max);
    w.iter()
        .map(|x| if top > 0.0 { x / top } else { 0.0 })
        .collect()
}

impl TopologyRanker {
    /// Checks the settings ([`Ranker::rank`] calls it, so a bad one is an error on every
    /// path): `alpha` in 0..1 (1 excluded), a half-life and the silent factor, when set, finite and above
    /// 0 (at least 0 for the factor); the powers finite and at least 0. The confidence
    /// exponent is checked where it is used.
    pub fn check(&self) -> Result<()> {
        let a = self.alpha;
        // At 1 the walk never teleports and need not converge (two symptoms on one shared
        // dependency make it oscillate).
        check_param("alpha", (0.0..1.0).contains(&a), || {
            format!("must be in 0..1 (1 excluded), got {a}")
        })?;
        if let Some(h) = self.earliness_half_life_secs {
            check_param("earliness_half_life_secs", h.is_finite() && h > 0.0, || {
                format!("must be finite and above 0, got {h}")
            })?;
        }
        for (name, p) in [
            ("coverage_power", self.coverage_power),
            ("evidence_power", self.evidence_power),
        ] {
            check_param(name, p.is_finite() && p >= 0.0, || {
                format!("must be finite and at least 0, got {p}")
            })?;
        }
        if let Some(w) = self.silent_weight {
            check_param("silent_weight", w.is_finite() && w >= 0.0, || {
                format!("must be finite and at least 0, got {w}")
            })?;
        }
        Ok(())
    }
}

impl Ranker for TopologyRanker {
    fn rank(&self, input: &RankInput<'_>) -> Result<Vec<RootCause>> {
        check_exponent(self.confidence_exponent)?;
        self.check()?;
        let graph = input.graph.ok_or(RcaError::Empty("service graph"))?;
        let w = self.alert_weights(graph, input);
        let own = relative(&w);
        self.rank_weights(graph, &w, &own, input, self.confidence_exponent)
    }
}

/// Whether an upward change of this metric means trouble (latency, errors, saturation);
/// other metrics (throughput, unknown names) count changes in both directions.
pub fn is_upward_metric(metric: &str) -> bool {
    let m = metric.to_ascii_lowercase();
    [
        "lat", "error", "err", "fail", "cpu", "mem", "disk", "satur", "util", "load", "queue",
        "lag", "timeout", "5xx", "gc",
    ]
    .iter()
    .any(|k| m.contains(k))
}

/// Whether a metric is a cumulative counter by the Prometheus / OpenMetrics convention (a name
/// ending in `_total`, e.g. `http_requests_total`): its rate changes with a fault, while its
/// level only grows. [`MetricRanker`] reads such a metric by its rate only while its values
/// behave as a counter's over the examined span (falling, a reset, at most once in 20 steps,
/// or once in all): a rate exported under the counter's name is read as it is.
///
/// ```
/// use aiops_rca::is_counter_metric;
///
/// assert!(is_counter_metric("http_requests_total"));
/// assert!(!is_counter_metric("latency_p99"));
/// ```
pub fn is_counter_metric(metric: &str) -> bool {
    metric.to_ascii_lowercase().ends_with("_total")
}

/// Whether values named as a counter behave as one: they fall (a reset) at most once in 20
/// steps, or once in all. Exports often keep a counter's name on its rate (Prometheus'
/// `rate(x_total[1m])` saved as `x_total`), which rises and falls; read as a counter, its every
/// fall would count as a reset and its rate would be noise.
fn reads_as_counter(values: &[f64]) -> bool {
    let falls = values.windows(2).filter(|w| w[1] < w[0]).count();
    falls <= (values.len().saturating_sub(1) / 20).max(1)
}

/// The per-second rate of a counter over `win`: each point's increase since the previous point,
/// over the time between them, at the later point (so the first point has none); a decrease is
/// a reset (a restarted process), after which the value itself is the increase. `None` if a
/// rate overflows.
fn counter_rate(win: SeriesSlice<'_>) -> Option<TimeSeries> {
    let (ts, vs) = (win.timestamps(), win.values());
    let mut rates = Vec::with_capacity(vs.len().saturating_sub(1));
    for i in 1..vs.len() {
        let secs = ts[i].millis_since(ts[i - 1]) as f64 / 1000.0;
        let inc = if vs[i] >= vs[i - 1] {
            vs[i] - vs[i - 1]
        } else {
            vs[i]
        };
        rates.push(inc / secs);
    }
    let times = ts.get(1..).unwrap_or_default().to_vec();
    TimeSeries::try_new(times, rates).ok()
}

/// The population standard deviation of `xs`, computed on values scaled by the largest
/// magnitude so that values near `f64::MAX` do not overflow (their squares would).
fn spread(xs: &[f64]) -> f64 {
    let top = xs.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if !(top > 0.0 && top.is_finite()) {
        return 0.0;
    }
    let mut stats = RunningStats::new();
    for x in xs {
        stats.push(x / top);
    }
    stats
        .population_variance()
        .map_or(0.0, |v| (v.sqrt() * top).min(f64::MAX))
}

/// `(x - med) / scale`, held finite: a change too large for `f64` counts as `f64::MAX`
/// (as infinity or NaN it would drop its service from the ranking).
fn deviation(x: f64, med: f64, scale: f64) -> f64 {
    let d = (x - med) / scale;
    if d.is_nan() {
        0.0
    } else {
        d.clamp(-f64::MAX, f64::MAX)
    }
}

/// Whether a metric is measured on the caller's side of its calls (client latency): its
/// rise points at the callees.
pub fn is_caller_side_metric(metric: &str) -> bool {
    metric.to_ascii_lowercase().contains("client")
}

/// Robust before/after change scores per metric (a counter, see [`is_counter_metric`], by its
/// per-second rate): the baseline is the window before the start, scaled by its median and
/// inter-quartile range (so units do not matter); the change
/// is the largest robust deviation after the start (upward only for latency, errors and
/// saturation), capped by the median deviation from its onset on (a transient bump scores
/// less than a change that holds). The onset is the first point at or above `onset_z` that
/// the next point confirms. A service's score is its strongest metric (one without a confirmed
/// onset counts at most `onset_z`), discounted by how much later its change began than the
/// earliest change (the root's changes first). The baseline scale is at least
/// `min_relative_scale` (1 %) of the baseline median, so a gauge that is flat up to rounding
/// does not turn a small wobble into an enormous z; a baseline at zero (no spread and no
/// magnitude, e.g. a rarely called service's request rate) gives no scale at all, and its
/// change counts at most `onset_z`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MetricRanker {
    /// Baseline length before the start (seconds).
    pub baseline_secs: i64,
    /// Seconds after the start that are examined.
    pub after_secs: i64,
    /// Robust z above which a point counts as changed (for the onset time).
    pub onset_z: f64,
    /// A change starting this many seconds after the earliest change weighs half as much;
    /// `None` ignores onset times. It is at least the metrics' sampling step (the median of
    /// their median gaps before the start): an onset is known only to within a step.
    pub onset_half_life_secs: Option<f64>,
    /// Smallest baseline scale, as a share of the baseline median's magnitude: a metric whose
    /// baseline barely varies (a flat gauge) measures its change against
    /// `min_relative_scale * |median|` (at least `1e-9`), so rounding noise is no evidence.
    pub min_relative_scale: f64,
    /// Whether a metric without a confirmed onset (no two consecutive points at or above
    /// `onset_z`: a lone spike, one at the last point included, or a sub-threshold wobble)
    /// counts at most `onset_z` in its service's score; `false` lets its largest deviation
    /// count in full.
    pub cap_unconfirmed: bool,
    /// Whether a caller-side metric (client latency: see [`is_caller_side_metric`]) of a
    /// service counts as evidence for the services it depends on rather than for itself, when
    /// a graph is given: each of its `n` dependencies takes `1/n` of the change (the caller
    /// knows that one of its callees is slow, not which) as if it were its own metric
    /// (strongest metric per service, as for own metrics), and the change of a service without
    /// dependencies in the graph (its calls leave the graph) counts for no candidate; nor does
    /// it without a graph, or for a service the graph does not hold (its callees are unknown,
    /// and the change says nothing about the caller itself). A network delay injected into a
    /// service shows in its callers' client latency, hardly in its own metrics. `false` counts
    /// every metric for its own service.
    pub caller_side_to_callees: bool,
    /// Exponent `k` of the confidences, `score^k / sum(score^k)` over the ranking (see
    /// [`confidence_from_scores`]; finite, above 0). The default 1 makes a candidate's
    /// confidence its share of the ranking's score, which is not a calibrated probability:
    /// measured, it is too low on aiops-sim incidents and too high on public fault-injection
    /// data (`docs/benchmarks.md`). [`fit_confidence_exponent`] fits `k` to your own labelled
    /// incidents.
    pub confidence_exponent: f64,
}

impl Default for MetricRanker {
    fn default() -> Self {
        MetricRanker {
            baseline_secs: 3_600,
            after_secs: 1_800,
            onset_z: 5.0,
            onset_half_life_secs: Some(60.0),
            min_relative_scale: 0.01,
            cap_unconfirmed: true,
            caller_side_to_callees: true,
            confidence_exponent: DEFAULT_EXPONENT,
        }
    }
}

/// The change of one metric.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Change {
    z: f64,
    onset: Option<Timestamp>,
    /// The median gap between its baseline points (ms): its sampling step.
    step_ms: i64,
}

impl MetricRanker {
    fn change(&self, m: &MetricSeries, start: Timestamp) -> Option<Change> {
        let end = start.add_secs(self.after_secs + 1);
        // A counter's level only grows: its rate over the examined span is what changes.
        let rate;
        let span = m.series.range(start.add_secs(-self.baseline_secs), end);
        let series = if is_counter_metric(&m.metric) && reads_as_counter(span.values()) {
            rate = counter_rate(span)?;
            &rate
        } else {
            &m.series
        };
        let before = series.range(start.add_secs(-self.baseline_secs), start);
        let after = series.range(start, end);
        let mut base: Vec<f64> = before
            .values()
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        if base.len() < 3 || after.is_empty() {
            return None;
        }
        let step_ms = before.median_step_millis()?;
        let med = median(&mut base)?;
        let q1 = quantile(&mut base, 0.25)?;
        let q3 = quantile(&mut base, 0.75)?;
        // Capped: an inter-quartile range of values near f64::MAX overflows.
        let mut scale = ((q3 - q1) / 1.349).min(f64::MAX);
        if scale <= 0.0 {
            scale = spread(&base);
        }
        // A near-constant baseline (quantised gauges, values equal up to rounding) has a
        // spread of ~1e-18: without a floor any later wobble scores 1e15.
        let floor = (med.abs() * self.min_relative_scale.max(0.0)).max(1e-9);
        // A baseline at zero (up to rounding) has neither spread nor magnitude to measure a
        // change against: the change counts at most `onset_z`, a change of unknown size.
        // Measured against the 1e-9 floor, one or two requests reaching a rarely called
        // service (Train Ticket's `ops` at 0.067) scored 7e7 and outranked every real change.
        let unscaled = scale <= 1e-9 && med.abs() <= 1e-9;
        scale = scale.max(floor);
        let up = is_upward_metric(&m.metric);
        let mut best = 0.0f64;
        let mut onset = None;
        // A lone spike is not an onset: the change must hold for the next point too.
        let mut pending: Option<Timestamp> = None;
        for (t, x) in after.iter() {
            if !x.is_finite() {
                continue;
            }
            let d = deviation(x, med, scale);
            let z = if up { d } else { d.abs() };
            if z > best {
                best = z;
            }
            if onset.is_none() {
                if z >= self.onset_z {
                    if pending.is_some() {
                        onset = pending.or(Some(t));
                    } else {
                        pending = Some(t);
                    }
                } else {
                    pending = None;
                }
            }
        }
        // A change first seen at the last point has no next point to confirm it: as far as the
        // data go it is a lone spike, not an onset. (Counted as an onset, one late outlier of a
        // sparse histogram quantile, a p95 from 0.0048 s to 37.5 s at z 7.8e5, led a Train
        // Ticket ranking.)
        //
        // A change that holds (the median from its onset on) outweighs a transient bump.
        if let Some(o) = onset {
            let mut held: Vec<f64> = after
                .iter()
                .filter(|(t, x)| *t >= o && x.is_finite())
                .map(|(_, x)| {
                    let d = deviation(x, med, scale);
                    if up { d } else { d.abs() }
                })
                .collect();
            if let Some(h) = median(&mut held) {
                best = best.min(h.max(0.0));
            }
        }
        if unscaled {
            best = best.min(self.onset_z);
        }
        Some(Change {
            z: best,
            onset,
            step_ms,
        })
    }

    /// Per service: (score, evidence). With a graph and `caller_side_to_callees`, a
    /// caller-side metric's change counts for the service's dependencies instead.
    fn service_scores(
        &self,
        metrics: &[MetricSeries],
        start: Timestamp,
        graph: Option<&ServiceGraph>,
    ) -> BTreeMap<String, (f64, Option<Timestamp>, Vec<Evidence>)> {
        let mut per: BTreeMap<String, (f64, Option<Timestamp>, Vec<Evidence>)> = BTreeMap::new();
        let mut steps: Vec<f64> = Vec::new();
        for m in metrics {
            per.entry(m.service.clone())
                .or_insert((0.0, None, Vec::new()));
            let Some(ch) = self.change(m, start) else {
                continue;
            };
            steps.push(ch.step_ms as f64 / 1000.0);
            // Without a confirmed onset the metric never held a change: its z counts up to the
            // onset threshold only (a lone spike is no stronger than a sub-threshold wobble).
            let z = if ch.onset.is_some() || !self.cap_unconfirmed {
                ch.z
            } else {
                ch.z.min(self.onset_z)
            };
            let targets: Vec<String> =
                if self.caller_side_to_callees && is_caller_side_metric(&m.metric) {
                    // A service without dependencies in the graph calls only services outside
                    // it, and without a graph (or for a service not in it) its callees are
                    // unknown: either way its caller-side change points at no candidate. Counted
                    // as the caller's own (as before 2026-11-28), Train Ticket's client latency
                    // of callers outranked the root in every cpu_contention case without
                    // services.json (AC@1 0.00; dropped: 0.86).
                    match graph {
                        Some(g) if g.contains(&m.service) => g
                            .dependencies(&m.service)
                            .into_iter()
                            .map(|(d, _)| d.to_owned())
                            .collect(),
                        _ => Vec::new(),
                    }
                } else {
                    vec![m.service.clone()]
                };
            // A caller's change says that one of its callees is slow, not which: each of `n`
            // callees takes 1/n of it (copied in full, every dependency of a slow hub tied
            // with the culprit: Online Boutique AC@1 0.454 -> 0.523 split).
            let n = targets.len();
            for t in targets {
                let (metric, share, zt) = if t == m.service {
                    (m.metric.clone(), ch.z, z)
                } else {
                    let k = n as f64;
                    (
                        format!("{} of caller {} (1/{n})", m.metric, m.service),
                        ch.z / k,
                        z / k,
                    )
                };
                let e = per.entry(t).or_insert((0.0, None, Vec::new()));
                if zt > e.0 {
                    e.0 = zt;
                }
                if let Some(o) = ch.onset {
                    e.1 = Some(e.1.map_or(o, |x: Timestamp| x.min(o)));
                    e.2.push(Evidence::MetricChange {
                        metric,
                        score: share,
                    });
                }
            }
        }
        let earliest = per.values().filter_map(|v| v.1).min();
        if let (Some(h), Some(t0)) = (self.onset_half_life_secs, earliest) {
            // An onset is known only to within a sampling step: the half-life is at least the
            // metrics' median step. With 60 s on PetShop's 5-minute samples, a root whose
            // change showed two steps after a stale baseline's shift elsewhere weighed 1/1024
            // (AC@1 0.15 -> 0.33 with the issue window's start as the start; 0.56 -> 0.54
            // with the violation's time, where the root's change comes first anyway).
            let h = median(&mut steps).map_or(h, |step| h.max(step));
            for v in per.values_mut() {
                let late = v.1.map_or(self.after_secs as f64, |o| o.secs_since(t0));
                v.0 *= 0.5f64.powf(late / h.max(1e-9));
            }
        }
        per
    }
}

impl MetricRanker {
    /// Checks the settings ([`Ranker::rank`] calls it): the baseline 1 s to 100 years, the
    /// examined span 0 s to 100 years, `onset_z` and the half-life (when set) finite and above
    /// 0, `min_relative_scale` finite and at least 0. The confidence exponent is checked where
    /// it is used.
    pub fn check(&self) -> Result<()> {
        let b = self.baseline_secs;
        check_param("baseline_secs", (1..=MAX_SPAN_SECS).contains(&b), || {
            format!("must be 1..={MAX_SPAN_SECS} seconds, got {b}")
        })?;
        let a = self.after_secs;
        check_param("after_secs", (0..=MAX_SPAN_SECS).contains(&a), || {
            format!("must be 0..={MAX_SPAN_SECS} seconds, got {a}")
        })?;
        let z = self.onset_z;
        check_param("onset_z", z.is_finite() && z > 0.0, || {
            format!("must be finite and above 0, got {z}")
        })?;
        if let Some(h) = self.onset_half_life_secs {
            check_param("onset_half_life_secs", h.is_finite() && h > 0.0, || {
                format!("must be finite and above 0, got {h}")
            })?;
        }
        let r = self.min_relative_scale;
        check_param("min_relative_scale", r.is_finite() && r >= 0.0, || {
            format!("must be finite and at least 0, got {r}")
        })
    }
}

impl Ranker for MetricRanker {
    fn rank(&self, input: &RankInput<'_>) -> Result<Vec<RootCause>> {
        check_exponent(self.confidence_exponent)?;
        self.check()?;
        let start = input.start.ok_or(RcaError::Empty("incident start time"))?;
        if input.metrics.is_empty() {
            return Err(RcaError::Empty("metric series"));
        }
        let per = self.service_scores(input.metrics, start, input.graph);
        finish(
            per.into_iter().map(|(k, (s, _, e))| (k, s, e)).collect(),
            self.confidence_exponent,
        )
    }
}

/// The default ranker: a topology walk whose symptoms are the alerting services and the
/// services with changed metrics, blended with the metric-evidence scores. Uses whatever the
/// input has: graph, alerts, metrics (at least alerts + graph, or metrics).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CombinedRanker {
    /// The walk.
    pub topology: TopologyRanker,
    /// The metric scores.
    pub metric: MetricRanker,
    /// Weight of the metric score in the final blend (the walk gets `1 - metric_weight`);
    /// 0..=1.
    pub metric_weight: f64,
    /// Total teleport weight given to metric-anomalous services in the walk, relative to the
    /// total weight of the alerting services.
    pub metric_walk_weight: f64,
    /// Exponent of the confidences, on every path (the blend, the walk alone, the metric
    /// scores alone; see [`TopologyRanker::confidence_exponent`]): the `confidence_exponent`
    /// of `topology` and `metric` are not used inside this ranker.
    pub confidence_exponent: f64,
}

impl Default for CombinedRanker {
    fn default() -> Self {
        CombinedRanker {
            topology: TopologyRanker::default(),
            metric: MetricRanker::default(),
            metric_weight: 0.2,
            metric_walk_weight: 0.3,
            confidence_exponent: DEFAULT_EXPONENT,
        }
    }
}

impl CombinedRanker {
    /// Checks every setting, its parts' included (except their confidence exponents, which
    /// this ranker does not use): `metric_weight` in 0..=1, `metric_walk_weight` finite and at
    /// least 0, `confidence_exponent` finite and above 0. [`Ranker::rank`] calls it; check a
    /// configuration up front with it.
    pub fn check(&self) -> Result<()> {
        check_exponent(self.confidence_exponent)?;
        self.topology.check()?;
        self.metric.check()?;
        let mw = self.metric_weight;
        check_param("metric_weight", (0.0..=1.0).contains(&mw), || {
            format!("must be in 0..=1, got {mw}")
        })?;
        let walk = self.metric_walk_weight;
        check_param(
            "metric_walk_weight",
            walk.is_finite() && walk >= 0.0,
            || format!("must be finite and at least 0, got {walk}"),
        )
    }
}

impl Ranker for CombinedRanker {
    fn rank(&self, input: &RankInput<'_>) -> Result<Vec<RootCause>> {
        self.check()?;
        let mw = self.metric_weight;
        let walk = self.metric_walk_weight;
        let metric = match (input.metrics.is_empty(), input.start) {
            (false, Some(start)) => Some(self.metric.service_scores(
                input.metrics,
                start,
                input.graph,
            )),
            _ => None,
        };
        let Some(graph) = input.graph else {
            return match metric {
                Some(per) => finish(
                    per.into_iter().map(|(k, (s, _, e))| (k, s, e)).collect(),
                    self.confidence_exponent,
                ),
                None => Err(RcaError::Empty("service graph and metric series")),
            };
        };
        let mut w = self.topology.alert_weights(graph, input);
        let wsum: f64 = w.iter().sum();
        // Own evidence: the stronger of the alert weight and the metric change, each relative to
        // the largest of its kind.
        let mut own = relative(&w);
        if let Some(per) = &metric {
            // Only services whose metrics changed are symptoms; an unchanged one stays silent.
            let changed = || per.iter().filter(|(_, v)| v.1.is_some());
            let top = changed().map(|(_, v)| v.0).fold(0.0f64, f64::max);
            if top > 0.0 {
                // The alerts and the metric changes share the teleport mass 1 : `walk`, each
                // in proportion to its weights; as shares (relative to the largest change
                // first) no sum overflows, whatever the scores and `walk`.
                let msum: f64 = changed().map(|(_, v)| v.0 / top).sum();
                let m_share = if wsum > 0.0 {
                    let a_share = 1.0 / (1.0 + walk);
                    for x in &mut w {
                        *x = *x / wsum * a_share;
                    }
                    walk / (1.0 + walk)
                } else {
                    1.0
                };
                for (name, v) in changed() {
                    if let Some(i) = graph.index_of(name) {
                        own[i] = own[i].max(v.0 / top);
                        w[i] += m_share * (v.0 / top) / msum;
                    }
                }
            }
        }
        let topo = self
            .topology
            .rank_weights(graph, &w, &own, input, self.confidence_exponent)?;
        let Some(per) = metric else {
            return Ok(topo);
        };
        let top_m = per.values().map(|v| v.0).fold(0.0f64, f64::max);
        let mut blended: BTreeMap<String, (f64, Vec<Evidence>)> = BTreeMap::new();
        for rc in topo {
            blended.insert(
                rc.service().to_owned(),
                ((1.0 - mw) * rc.score(), rc.evidence().to_vec()),
            );
        }
        for (name, (s, _, ev)) in per {
            let m = if top_m > 0.0 { s / top_m } else { 0.0 };
            let e = blended.entry(name).or_insert((0.0, Vec::new()));
            e.0 += mw * m;
            e.1.extend(ev);
        }
        finish(
            blended.into_iter().map(|(k, (s, e))| (k, s, e)).collect(),
            self.confidence_exponent,
        )
    }
}

#[cfg(test)]
mod tests;
