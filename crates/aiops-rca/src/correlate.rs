//! Alert de-duplication and correlation into incidents.

use std::borrow::Cow;
use std::sync::Arc;

use aiops_core::{Alert, AlertStatus, Timestamp};

use crate::bitset;
use crate::error::Result;
use crate::graph::ServiceGraph;

const NONE: u32 = u32::MAX;
const SALT_SERVICE: u64 = 1;
const SALT_METRIC: u64 = 2;
const SALT_LABEL: u64 = 3;
const SALT_SET: u64 = 1 << 20;
const SALT_DEP: u64 = 5;
const SALT_DEDUP: u64 = 6;
const SALT_NAME: u64 = 7;
const MISSING_METRIC: u64 = 0x5eed_0000_0000_0001;

mod config;
mod engine;
mod output;
mod stream;

pub use config::{CorrelatorConfig, Grouping};
use engine::{Engine, Finished};
pub use output::{
    CorrelatedIncident, Correlation, CorrelationView, IncidentEvent, IncidentView, Merge,
    MergeRule, Released,
};
pub use stream::CorrelationStream;
use stream::Pending;

/// Groups alert storms into incidents.
///
/// Alerts are de-duplicated by fingerprint, then related by the configured rules within the
/// time window; related alerts are joined with union-find. Each alert looks only at the
/// latest alert per service / per key inside the window (a bitset of services active in the
/// window, intersected with the precomputed ancestors of its service), so the work is
/// near-linear in the number of alerts.
///
/// ```
/// use aiops_core::{Alert, Dependency, Labels, ServiceKind, ServiceSpec, Timestamp};
/// use aiops_rca::{Correlator, CorrelatorConfig, ServiceGraph};
///
/// let specs = vec![
///     ServiceSpec::try_new("api", ServiceKind::Application)?.depends_on(Dependency::new("db"))?,
///     ServiceSpec::try_new("db", ServiceKind::Database)?,
///     ServiceSpec::try_new("mail", ServiceKind::Application)?,
/// ];
/// let graph = ServiceGraph::from_specs(&specs)?;
/// let alert = |svc: &str, name: &str, t: i64| {
///     Alert::new(Labels::from_pairs([("alertname", name), ("service", svc)]), Timestamp::from_secs(t))
/// };
/// let alerts = vec![alert("db", "DiskFull", 0), alert("api", "HighLatency", 60),
///                   alert("db", "DiskFull", 90), alert("mail", "QueueStuck", 100)];
/// let c = Correlator::new(&graph, CorrelatorConfig::default())?.correlate(&alerts);
/// assert_eq!(c.incidents().len(), 1);
/// assert_eq!(c.incidents()[0].records(), &[0, 1, 2]);
/// assert_eq!(c.noise(), &[3]);
/// assert_eq!(c.distinct_alerts(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Correlator<'g> {
    graph: &'g ServiceGraph,
    config: CorrelatorConfig,
    /// With `max_hops`: per service, the services within that many hops upstream (bitsets).
    hop_ancestors: Option<Vec<u64>>,
    /// With `dependency_window_secs` or `silent_dependency`: direct dependencies per service.
    deps: Option<Rows>,
    /// With `silent_dependency`: direct dependents per service.
    users: Option<Rows>,
    /// `dependency_window_secs` in milliseconds, with `dependency_path`.
    dep_window_ms: Option<i64>,
    /// `sparse_window_secs` in milliseconds, when wider than the window.
    sparse_window_ms: Option<i64>,
    /// How far back the window holds alerts: the wider of `window_secs` and
    /// `sparse_window_secs`, in milliseconds.
    wide_ms: i64,
    /// With `link_decay_secs`: `exp(-gap / decay)` tabulated by gap in milliseconds.
    decay: Option<Decay>,
    /// `-ln(1 - dependency_window_max_chance)`: the most alerts a service may expect by chance
    /// in the dependency window's extra span (infinite for a chance of 1).
    max_chance_events: f64,
    /// With `incident_merge_coverage` and [`Grouping::Scored`]: the coverage and
    /// `incident_merge_window_secs` in milliseconds.
    incident_merge: Option<(f64, i64)>,
}

/// `exp(-gap_ms / decay_ms)` as the product of two table entries, one per 1,024 ms and one
/// per millisecond within them (the call to `exp` per link took 3.7% of the batch time). The
/// relative error grows with `gap / decay` (both sides round the argument): 3 ulp at the
/// default 300 s decay over a 600 s gap, under 1e-12 up to 300 decays; scores that close count
/// as a tie (see `group_scored`). Gaps beyond the table (over 4,096 x 1,024 ms) call `exp`.
#[derive(Debug, Clone)]
struct Decay {
    scale_ms: f64,
    coarse: Vec<f64>,
    fine: Vec<f64>,
}

impl Decay {
    fn new(scale_ms: f64, max_gap_ms: i64) -> Self {
        let n = (max_gap_ms.max(0) >> 10).min(4096) as usize + 1;
        Decay {
            scale_ms,
            coarse: (0..n)
                .map(|k| (-((k << 10) as f64) / scale_ms).exp())
                .collect(),
            fine: (0..1024)
                .map(|j| (-f64::from(j) / scale_ms).exp())
                .collect(),
        }
    }

    #[inline]
    fn weight(&self, gap_ms: i64) -> f64 {
        match usize::try_from(gap_ms >> 10)
            .ok()
            .and_then(|i| self.coarse.get(i))
        {
            Some(c) => c * self.fine[(gap_ms & 1023) as usize],
            _ => (-(gap_ms as f64) / self.scale_ms).exp(),
        }
    }
}

/// Per service, a list of services (compressed rows).
#[derive(Debug, Clone)]
struct Rows {
    start: Vec<u32>,
    items: Vec<u32>,
}

impl Rows {
    fn new(lists: &[Vec<u32>]) -> Self {
        let mut start = Vec::with_capacity(lists.len() + 1);
        let mut items = Vec::new();
        for l in lists {
            start.push(items.len() as u32);
            items.extend_from_slice(l);
        }
        start.push(items.len() as u32);
        Rows { start, items }
    }

    #[inline]
    fn row(&self, i: usize) -> &[u32] {
        &self.items[self.start[i] as usize..self.start[i + 1] as usize]
    }
}

impl<'g> Correlator<'g> {
    /// A correlator over `graph`; the configuration is checked.
    pub fn new(graph: &'g ServiceGraph, config: CorrelatorConfig) -> Result<Self> {
        config.check()?;
        let hop_ancestors = config.max_hops.map(|k| hop_ancestors(graph, k));
        let dep_window_ms = config
            .dependency_window_secs
            .filter(|_| config.dependency_path)
            .map(|secs| secs.saturating_mul(1000));
        let lists: Option<Vec<Vec<u32>>> = (dep_window_ms.is_some() || config.silent_dependency)
            .then(|| {
                (0..graph.len())
                    .map(|v| graph.dependency_indices(v).map(|d| d as u32).collect())
                    .collect()
            });
        let users = lists
            .as_ref()
            .filter(|_| config.silent_dependency)
            .map(|deps| {
                let mut users = vec![Vec::new(); graph.len()];
                for (v, list) in deps.iter().enumerate() {
                    for &d in list {
                        users[d as usize].push(v as u32);
                    }
                }
                Rows::new(&users)
            });
        let window_ms = config.window_secs.saturating_mul(1000);
        let sparse_window_ms = config
            .sparse_window_secs
            .map(|secs| secs.saturating_mul(1000))
            .filter(|&w| w > window_ms);
        let wide_ms = sparse_window_ms.unwrap_or(window_ms);
        let max_gap_ms = wide_ms.max(
            config
                .dependency_window_secs
                .unwrap_or(0)
                .saturating_mul(1000),
        );
        let decay = config
            .link_decay_secs
            .map(|d| Decay::new(d as f64 * 1000.0, max_gap_ms));
        let max_chance_events = -(-config.dependency_window_max_chance).ln_1p();
        let incident_merge = config
            .incident_merge_coverage
            .filter(|_| config.grouping == Grouping::Scored)
            .map(|c| (c, config.incident_merge_window_secs.saturating_mul(1000)));
        Ok(Correlator {
            graph,
            config,
            hop_ancestors,
            deps: lists.as_deref().map(Rows::new),
            users,
            dep_window_ms,
            sparse_window_ms,
            wide_ms,
            decay,
            max_chance_events,
            incident_merge,
        })
    }

    /// The direct dependencies of service `s` (empty without `dependency_window_secs` and
    /// `silent_dependency`).
    #[inline]
    fn direct_dependencies(&self, s: usize) -> &[u32] {
        self.deps.as_ref().map_or(&[], |d| d.row(s))
    }

    /// The services from which `s` is reachable within the configured hops, as a bitset.
    #[inline]
    fn ancestors(&self, s: usize) -> &[u64] {
        match &self.hop_ancestors {
            Some(h) => {
                let w = self.graph.node_words();
                &h[s * w..(s + 1) * w]
            }
            None => self.graph.ancestor_bits(s),
        }
    }

    /// Whether the dependency-path rule relates service `from` to service `to`.
    fn reaches(&self, from: &str, to: &str) -> bool {
        match (self.graph.index_of(from), self.graph.index_of(to)) {
            (Some(a), Some(b)) => bitset::get(self.ancestors(b), a),
            _ => false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &CorrelatorConfig {
        &self.config
    }

    /// The graph.
    pub fn graph(&self) -> &'g ServiceGraph {
        self.graph
    }

    /// Correlates a batch of records (record `i` is `alerts[i]`), in any order. Equal to
    /// streaming the records sorted by start through [`Correlator::stream`].
    pub fn correlate(&self, alerts: &[Alert]) -> Correlation {
        self.run(alerts, true).into_correlation()
    }

    /// As [`Correlator::correlate`], borrowing the alerts instead of copying them into owned
    /// incidents: the fastest batch path (the figure in `docs/benchmarks.md`). Incidents,
    /// noise, counts and why-records are the same; aiops-core [`Incident`](aiops_core::Incident)s are made per
    /// incident on request ([`IncidentView::to_incident`]).
    pub fn correlate_view<'a>(&'a self, alerts: &'a [Alert]) -> CorrelationView<'a> {
        let f = self.run(alerts, false);
        CorrelationView {
            c: f.c,
            alerts,
            nodes: f.nodes,
            groups: f.groups,
            counts: f.counts,
        }
    }

    /// The batch engine; `copy` makes the incidents' copies of the alerts in its first pass.
    fn run<'c, 'a>(&'c self, alerts: &'a [Alert], copy: bool) -> Finished<'c, 'g, 'a> {
        let mut engine = Engine::new(self, false, Cow::Borrowed(alerts));
        engine.reserve(alerts.len());
        if copy {
            engine.owned.reserve(alerts.len());
        }
        // One pass with independent iterations computes every record's keys, so the CPU
        // overlaps the cache misses of reading scattered label sets (the same lookups inside
        // the main loop stalled it: 15% of the time). The incidents' copies of the alerts are
        // made here too, while each alert is in cache (made later, each copy's reference-count
        // update was a cache miss: 15% of the time).
        let mut starts: Vec<i64> = Vec::with_capacity(alerts.len());
        let mut pend: Vec<Pending> = Vec::with_capacity(alerts.len());
        for (i, a) in alerts.iter().enumerate() {
            starts.push(engine_ms(a.starts_at()));
            if copy {
                engine.owned.push(Some(a.clone()));
            }
            pend.push(Pending {
                key: engine.dedup_key(a),
                record: i,
                service: engine.service_index(a),
                low: engine.is_low(a),
                ends_ms: a.ends_at().map(engine_ms),
                name: engine.name_hash(a),
            });
        }
        // Alerts usually come in start order (a receiver's arrival order, a sorted export):
        // then the records are used in place and only runs of equal starts are sorted (the
        // full sort took 4% of the batch time on the benchmark storm, and copying each
        // timestamp's records into a group another 4.5%). Otherwise start, key and index are
        // sorted (24 bytes instead of 48) and the records gathered in that order.
        if !starts.windows(2).all(|w| w[0] <= w[1]) {
            let mut order: Vec<(i64, u64, usize)> = starts
                .iter()
                .zip(&pend)
                .map(|(&t, p)| (t, p.key, p.record))
                .collect();
            order.sort_unstable();
            pend = order.iter().map(|k| pend[k.2]).collect();
            starts = order.into_iter().map(|k| k.0).collect();
        }
        // Equal starts in the order the stream processes them, `sort_key` (the real starts
        // first: times beyond the engine's clamp can differ within a run; then key, state and
        // index). Runs are rare in real input, so the alerts are read only there.
        let mut s = 0;
        while s < starts.len() {
            let mut e = s + 1;
            while e < starts.len() && starts[e] == starts[s] {
                e += 1;
            }
            if e - s > 1 {
                pend[s..e].sort_unstable_by_key(|p| sort_key(&alerts[p.record], p.key, p.record));
            }
            engine.process_group(starts[s], &pend[s..e]);
            s = e;
        }
        engine.records = alerts.len();
        engine.finish()
    }

    /// A streaming correlation: push records in start order (equal starts in any order). A
    /// long-running stream calls [`CorrelationStream::release_settled`] now and then to hold
    /// only recent alerts.
    pub fn stream(&self) -> CorrelationStream<'_, 'g> {
        CorrelationStream {
            engine: Engine::new(self, true, Cow::Owned(Vec::new())),
            pending: Vec::new(),
            pending_ms: i64::MIN,
            processed_ms: i64::MIN,
        }
    }

    /// Whether and why two alerts are directly related (ignoring de-duplication); `Err` lists
    /// why not, so a user can ask why an alert is not in another incident. The rules only:
    /// what the engine learns from the alerts before (alert-name statistics, the alert rate of
    /// `dependency_window_max_chance`), `min_severity` and the choice among related incidents
    /// are not applied.
    pub fn relate(
        &self,
        earlier: &Alert,
        later: &Alert,
    ) -> std::result::Result<MergeRule, Vec<String>> {
        let (a, b) = if earlier.starts_at() <= later.starts_at() {
            (earlier, later)
        } else {
            (later, earlier)
        };
        let gap = b.starts_at().secs_since(a.starts_at());
        let mut why_not = Vec::new();
        let sa = service_of(&self.config, a);
        let sb = service_of(&self.config, b);
        // Beyond the window but within the sparse window: only the dependency-path and
        // same-service rules can hold (while alerts are sparse).
        let sparse_only = gap > self.config.window_secs as f64;
        if gap * 1000.0 > self.wide_ms as f64 {
            why_not.push(format!(
                "{gap} s apart, more than the {} s window",
                self.wide_ms / 1000
            ));
            if let Some(window_ms) = self.dep_window_ms {
                let direct = match (
                    sa.and_then(|x| self.graph.index_of(x)),
                    sb.and_then(|y| self.graph.index_of(y)),
                ) {
                    (Some(x), Some(y)) => {
                        x != y && self.direct_dependencies(y).contains(&(x as u32))
                    }
                    _ => false,
                };
                if direct && gap * 1000.0 <= window_ms as f64 {
                    return Ok(MergeRule::DependencyPath {
                        from: sa.unwrap_or_default().into(),
                        to: sb.unwrap_or_default().into(),
                    });
                }
                why_not.push(format!(
                    "not within {} s on a direct dependency",
                    window_ms / 1000
                ));
            }
            return Err(why_not);
        }
        if self.config.same_service || self.config.dependency_path {
            if let (Some(x), Some(y)) = (sa, sb) {
                if x == y && self.config.same_service {
                    return Ok(self.same_service_rule(x));
                }
                if self.config.dependency_path {
                    let equal_time = gap == 0.0;
                    if self.reaches(x, y) || (equal_time && self.reaches(y, x)) {
                        return Ok(MergeRule::DependencyPath {
                            from: x.into(),
                            to: y.into(),
                        });
                    }
                    why_not.push(format!("no dependency path from {x:?} to {y:?}"));
                }
            } else {
                why_not.push("an alert names no service".into());
            }
        }
        if sparse_only {
            why_not.push(format!(
                "{gap} s apart, beyond the {} s window of the label and metric-type rules",
                self.config.window_secs
            ));
        } else {
            if self.config.same_metric_type {
                let (ma, mb) = (a.metric_type(), b.metric_type());
                if ma == mb && (ma.is_some() || self.config.missing_metric_type_matches) {
                    return Ok(MergeRule::SameMetricType {
                        metric_type: ma.unwrap_or("").to_owned(),
                    });
                }
                why_not.push(format!("metric types differ ({ma:?} vs {mb:?})"));
            }
            for g in &self.config.shared_labels {
                match (first_label(a, g), first_label(b, g)) {
                    (Some((_, va)), Some((lb, vb))) if va == vb => {
                        return Ok(MergeRule::SharedLabel {
                            label: lb.to_owned(),
                            value: vb.to_owned(),
                        });
                    }
                    _ => why_not.push(format!("no shared value for labels {g:?}")),
                }
            }
            for set in &self.config.label_sets {
                if let Some(labels) =
                    set_values(a, set).filter(|v| Some(v) == set_values(b, set).as_ref())
                {
                    return Ok(MergeRule::LabelSet {
                        labels: set
                            .iter()
                            .cloned()
                            .zip(labels.into_iter().map(str::to_owned))
                            .collect(),
                    });
                }
                why_not.push(format!("labels {set:?} not all equal"));
            }
        }
        if (self.config.shared_dependency && !sparse_only) || self.config.silent_dependency {
            if let (Some(x), Some(y)) = (sa, sb) {
                let dx = self.graph.dependencies(x);
                if let Some((d, _)) = self
                    .graph
                    .dependencies(y)
                    .into_iter()
                    .find(|(d, _)| dx.iter().any(|(e, _)| e == d))
                {
                    return Ok(MergeRule::SharedDependency {
                        dependency: d.into(),
                    });
                }
            }
            why_not.push("no shared direct dependency".into());
        }
        Err(why_not)
    }

    fn same_service_rule(&self, s: &str) -> MergeRule {
        match self
            .graph
            .index_of(s)
            .and_then(|i| self.graph.shared_name(i))
        {
            Some(name) => MergeRule::DependencyPath {
                from: Arc::clone(name),
                to: Arc::clone(name),
            },
            None => MergeRule::SharedLabel {
                label: "service".into(),
                value: s.to_owned(),
            },
        }
    }
}

/// Per service, the services at most `k` edges upstream (itself included), as bitsets.
fn hop_ancestors(graph: &ServiceGraph, k: usize) -> Vec<u64> {
    let (n, w) = (graph.len(), graph.node_words());
    let mut cur = vec![0u64; n * w];
    for v in 0..n {
        bitset::set(&mut cur[v * w..(v + 1) * w], v);
    }
    for _ in 0..k.min(n) {
        let mut next = cur.clone();
        for v in 0..n {
            for d in graph.dependency_indices(v) {
                bitset::or_into(&mut next[v * w..(v + 1) * w], &cur[d * w..(d + 1) * w]);
            }
        }
        if next == cur {
            break;
        }
        cur = next;
    }
    cur
}

/// The id of the incident whose first record is `rec`: `inc-<rec>`. Written digit by digit: a
/// stream makes one per event, and `format!` took 9% of the streaming time.
fn incident_id(rec: usize) -> String {
    let mut digits = [0u8; 20];
    let mut n = rec;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut id = String::with_capacity(4 + digits.len() - i);
    id.push_str("inc-");
    id.extend(digits[i..].iter().map(|&d| char::from(d)));
    id
}

/// A time as the engine holds it: milliseconds, clamped to +-2^61 (+-73 million years) so
/// that no difference of two times overflows (`Timestamp` takes any `i64`; RFC 3339 dates
/// span years 0000..=9999, far inside the clamp). Only times beyond the clamp change.
#[inline]
fn engine_ms(t: Timestamp) -> i64 {
    const LIMIT: i64 = 1 << 61;
    t.as_millis().clamp(-LIMIT, LIMIT)
}

#[inline]
fn service_of<'a>(config: &CorrelatorConfig, a: &'a Alert) -> Option<&'a str> {
    service_by(&config.service_labels, a)
}

/// An alert's service: the first of `labels` it has with a non-empty value (the correlator's
/// `service_labels`; the rankers' `RankInput::service_labels`).
pub(crate) fn service_by<'a>(labels: &[String], a: &'a Alert) -> Option<&'a str> {
    labels
        .iter()
        .find_map(|l| a.labels().get(l).filter(|v| !v.is_empty()))
}

#[inline]
fn first_label<'a, 'b>(a: &'a Alert, group: &'b [String]) -> Option<(&'b str, &'a str)> {
    group.iter().find_map(|l| {
        a.labels()
            .get(l)
            .filter(|v| !v.is_empty())
            .map(|v| (l.as_str(), v))
    })
}

#[inline]
fn set_values<'a>(a: &'a Alert, set: &[String]) -> Option<Vec<&'a str>> {
    set.iter().map(|l| a.labels().get(l)).collect()
}

fn sort_key(
    a: &Alert,
    key: u64,
    i: usize,
) -> (Timestamp, u64, AlertStatus, Option<Timestamp>, usize) {
    (a.starts_at(), key, a.status(), a.ends_at(), i)
}
#[cfg(test)]
mod tests;
