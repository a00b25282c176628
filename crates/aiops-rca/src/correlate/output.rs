//! What correlation returns: incidents with their why-records, noise, compression, and the
//! events of a stream.

use std::sync::Arc;

use aiops_core::{Alert, Incident};

use super::engine::{Counts, Group, Node, Parts};
use super::{Correlator, NONE, incident_id, service_of};

/// Why two alerts were joined.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MergeRule {
    /// The later record is a re-fire or resolution of the earlier one.
    SameFingerprint,
    /// A dependency path leads from the earlier alert's service to the later one's (equal
    /// services: the same service).
    DependencyPath {
        /// The earlier alert's service.
        from: Arc<str>,
        /// The later alert's service.
        to: Arc<str>,
    },
    /// Both have this `metric_type` (empty: both lack it).
    SameMetricType {
        /// The shared metric type.
        metric_type: String,
    },
    /// Both have this label value (from an alias group, or the service of an unknown service).
    SharedLabel {
        /// The label name on the later alert.
        label: String,
        /// The shared value.
        value: String,
    },
    /// Both have these labels with these values.
    LabelSet {
        /// The shared labels.
        labels: Vec<(String, String)>,
    },
    /// Both services depend directly on this service.
    SharedDependency {
        /// The shared dependency.
        dependency: Arc<str>,
    },
    /// Two incidents merged ([`CorrelatorConfig::incident_merge_coverage`](super::CorrelatorConfig::incident_merge_coverage)):
    /// the service of one's first alert reaches most services of the other. The records are
    /// the two incidents' first alerts.
    UpstreamIncident {
        /// The service of the first alert of the incident upstream.
        from: Arc<str>,
        /// The service of the first alert of the other incident.
        to: Arc<str>,
        /// How many of the other incident's services `from` reaches, when they merged.
        reached: u32,
        /// The other incident's services in the graph, when they merged.
        services: u32,
    },
}

impl MergeRule {
    /// The rule's name as the data tools print it, one of the four their contract lists:
    /// `same_fingerprint`, `dependency_path` (a shared dependency and an upstream incident
    /// included: both services are on dependency paths from it, or one incident's first
    /// service reaches the other's; the variant and the detail tell them apart),
    /// `same_metric_type` or `shared_label` (label sets included).
    pub fn name(&self) -> &'static str {
        match self {
            MergeRule::SameFingerprint => "same_fingerprint",
            MergeRule::DependencyPath { .. }
            | MergeRule::SharedDependency { .. }
            | MergeRule::UpstreamIncident { .. } => "dependency_path",
            MergeRule::SameMetricType { .. } => "same_metric_type",
            MergeRule::SharedLabel { .. } | MergeRule::LabelSet { .. } => "shared_label",
        }
    }
}

/// One merge: which rule joined record `a` (earlier) and record `b`.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    pub(super) a: usize,
    pub(super) b: usize,
    pub(super) rule: MergeRule,
    pub(super) gap_secs: f64,
}

impl Merge {
    /// The earlier record's index.
    pub fn a(&self) -> usize {
        self.a
    }
    /// The later record's index.
    pub fn b(&self) -> usize {
        self.b
    }
    /// The rule that joined them.
    pub fn rule(&self) -> &MergeRule {
        &self.rule
    }
    /// Seconds between their starts.
    pub fn gap_secs(&self) -> f64 {
        self.gap_secs
    }
}

/// An incident with the record indices of its alerts and the merges that built it.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelatedIncident {
    pub(super) incident: Incident,
    pub(super) records: Vec<usize>,
    pub(super) merges: Vec<Merge>,
}

impl CorrelatedIncident {
    /// The aiops-core incident (one alert per de-duplicated alert, in its latest state).
    pub fn incident(&self) -> &Incident {
        &self.incident
    }
    /// Consumes into the aiops-core incident.
    pub fn into_incident(self) -> Incident {
        self.incident
    }
    /// Every record index of its alerts (re-fires included), ascending.
    pub fn records(&self) -> &[usize] {
        &self.records
    }
    /// The merges, one per join (a spanning tree of the incident plus re-fire merges).
    pub fn merges(&self) -> &[Merge] {
        &self.merges
    }
    /// Why record `record` is in this incident: the merges touching it. Each call scans the
    /// incident's merges; to explain every record, go through [`CorrelatedIncident::merges`]
    /// once instead (a call per record is quadratic: 27 s for an incident of 100,000).
    pub fn why(&self, record: usize) -> Vec<&Merge> {
        self.merges
            .iter()
            .filter(|m| m.a == record || m.b == record)
            .collect()
    }
}

/// The accessors [`Correlation`] and [`CorrelationView`] share: noise, counts, compression and
/// the per-record assignment, over `self.counts` and the list `$list` of items with `records`.
macro_rules! counts_accessors {
    ($list:ident) => {
        /// Record indices judged unrelated to any incident, ascending.
        pub fn noise(&self) -> &[usize] {
            &self.counts.noise
        }
        /// Number of records read.
        pub fn record_count(&self) -> usize {
            self.counts.records
        }
        /// Number of distinct alerts after de-duplication.
        pub fn distinct_alerts(&self) -> usize {
            self.counts.distinct
        }
        /// `1 - incidents / distinct alerts` (0 when there are none).
        pub fn compression(&self) -> f64 {
            self.counts.compression(self.$list.len())
        }
        /// `1 - incidents / records` (0 when there are none).
        pub fn raw_compression(&self) -> f64 {
            self.counts.raw_compression(self.$list.len())
        }
        /// Per record index: the incident it belongs to, `None` for noise (and, after a stream
        /// released records, for those it forgot).
        pub fn assignment(&self) -> Vec<Option<usize>> {
            // Noise is ascending: its last index bounds it.
            let records = self
                .counts
                .records
                .max(self.counts.noise.last().map_or(0, |&r| r + 1));
            assignment(records, self.$list.iter().map(|x| &x.records[..]))
        }
    };
}

/// The result of correlating a set of alert records.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    pub(super) incidents: Vec<CorrelatedIncident>,
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub(super) counts: Counts,
}

impl Correlation {
    /// The incidents, in order of their earliest alert.
    pub fn incidents(&self) -> &[CorrelatedIncident] {
        &self.incidents
    }
    /// Consumes into the incidents.
    pub fn into_incidents(self) -> Vec<CorrelatedIncident> {
        self.incidents
    }
    counts_accessors!(incidents);
}

fn assignment<'r>(
    records: usize,
    incidents: impl Iterator<Item = &'r [usize]>,
) -> Vec<Option<usize>> {
    // After a stream released records, indices run past the records held.
    let mut out = vec![None; records];
    for (k, recs) in incidents.enumerate() {
        for &r in recs {
            if r >= out.len() {
                out.resize(r + 1, None);
            }
            out[r] = Some(k);
        }
    }
    out
}

/// A batch correlation that borrows the alerts ([`Correlator::correlate_view`]): the same
/// incidents, noise and why-records as [`Correlation`], with nothing copied. An incident's
/// aiops-core [`Incident`] and its [`Merge`]s are made when asked for.
pub struct CorrelationView<'a> {
    pub(super) c: &'a Correlator<'a>,
    pub(super) alerts: &'a [Alert],
    pub(super) nodes: Vec<Node>,
    pub(super) groups: Vec<Group>,
    pub(super) counts: Counts,
}

impl std::fmt::Debug for CorrelationView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CorrelationView")
            .field("incidents", &self.groups.len())
            .field("noise", &self.counts.noise.len())
            .field("records", &self.counts.records)
            .field("distinct", &self.counts.distinct)
            .finish_non_exhaustive()
    }
}

impl<'a> CorrelationView<'a> {
    fn parts(&self) -> Parts<'_, 'a> {
        Parts {
            c: self.c,
            nodes: &self.nodes,
            store: self.alerts,
            ext: None,
        }
    }
    /// Number of incidents.
    pub fn len(&self) -> usize {
        self.groups.len()
    }
    /// Whether there are no incidents.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
    /// The incidents, in order of their earliest alert.
    pub fn incidents(&self) -> impl ExactSizeIterator<Item = IncidentView<'_, 'a>> + '_ {
        self.groups
            .iter()
            .map(move |g| IncidentView { view: self, g })
    }
    /// Incident `k` (in order of earliest alert).
    pub fn incident(&self, k: usize) -> Option<IncidentView<'_, 'a>> {
        self.groups.get(k).map(|g| IncidentView { view: self, g })
    }
    counts_accessors!(groups);
    /// The owned [`Correlation`] (what [`Correlator::correlate`] returns), copying the alerts.
    pub fn to_correlation(&self) -> Correlation {
        let parts = self.parts();
        let mut none: [Option<Alert>; 0] = [];
        Correlation {
            incidents: self
                .groups
                .iter()
                .map(|g| parts.incident(g.clone(), &mut none))
                .collect(),
            counts: self.counts.clone(),
        }
    }
}

/// One incident of a [`CorrelationView`].
#[derive(Clone, Copy)]
pub struct IncidentView<'v, 'a> {
    view: &'v CorrelationView<'a>,
    g: &'v Group,
}

impl std::fmt::Debug for IncidentView<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncidentView")
            .field("id", &self.id())
            .field("records", &self.g.records)
            .finish_non_exhaustive()
    }
}

impl<'v, 'a> IncidentView<'v, 'a> {
    /// The incident id, as [`Correlation`]'s incident has it (`inc-<first record>`).
    pub fn id(&self) -> String {
        incident_id(self.g.id_rec)
    }
    /// Every record index of its alerts (re-fires included), ascending.
    pub fn records(&self) -> &'v [usize] {
        &self.g.records
    }
    /// Number of distinct alerts.
    pub fn len(&self) -> usize {
        self.g.members.len()
    }
    /// Whether it has no alerts (never: an incident has at least one).
    pub fn is_empty(&self) -> bool {
        self.g.members.is_empty()
    }
    /// Its distinct alerts in their latest state, in order of first start.
    pub fn alerts(&self) -> impl ExactSizeIterator<Item = &'a Alert> + 'v {
        let (nodes, store) = (&self.view.nodes, self.view.alerts);
        self.g
            .members
            .iter()
            .map(move |&x| &store[nodes[x as usize].latest_rec])
    }
    /// Each distinct alert's service as the correlator read it (in the order of
    /// [`IncidentView::alerts`]).
    pub fn alert_services(&self) -> impl ExactSizeIterator<Item = Option<&'v str>> + 'v {
        let view = self.view;
        self.g.members.iter().map(move |&x| {
            let n = &view.nodes[x as usize];
            match view.c.graph.name(n.service as usize) {
                Some(name) if n.service != NONE => Some(name),
                _ => service_of(&view.c.config, &view.alerts[n.latest_rec]),
            }
        })
    }
    /// The merges, one per join, by later record then earlier (as
    /// [`CorrelatedIncident::merges`]), made now.
    pub fn merges(&self) -> impl ExactSizeIterator<Item = Merge> + 'v {
        let view = self.view;
        self.g.merges.iter().map(move |m| view.parts().merge(m))
    }
    /// Why record `record` is in this incident: the merges touching it. Each call scans the
    /// incident's merges; to explain every record, go through [`IncidentView::merges`] once.
    pub fn why(&self, record: usize) -> Vec<Merge> {
        let parts = self.view.parts();
        self.g
            .merges
            .iter()
            .filter(|m| m.a_rec == record || m.b_rec == record)
            .map(|m| parts.merge(m))
            .collect()
    }
    /// The aiops-core incident (alerts copied), equal to [`CorrelatedIncident::incident`].
    pub fn to_incident(&self) -> Incident {
        self.view.parts().core_incident(self.g, &mut [])
    }
    /// The owned [`CorrelatedIncident`].
    pub fn to_correlated(&self) -> CorrelatedIncident {
        self.view.parts().incident(self.g.clone(), &mut [])
    }
}

pub(super) fn ratio(incidents: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        1.0 - incidents as f64 / n as f64
    }
}

/// What [`CorrelationStream::release_settled`](super::CorrelationStream::release_settled)
/// forgot: incidents already reported closed, and noise records, that no later record can
/// change any more.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Released {
    pub(super) incidents: Vec<String>,
    pub(super) noise: Vec<usize>,
}

impl Released {
    /// The ids of the incidents forgotten, in order of their first alert. Each was reported
    /// in an [`IncidentEvent::Closed`] and, if re-fired after, in [`IncidentEvent::Updated`]s;
    /// later, only an [`IncidentEvent::Updated`] for an update (a resolution, a re-send) of one
    /// of its alerts that was still firing when forgotten names it again.
    pub fn incidents(&self) -> &[String] {
        &self.incidents
    }
    /// The records forgotten as noise, ascending: final, as [`Correlation::noise`] would have
    /// listed them (including updates of alerts forgotten earlier as noise).
    pub fn noise(&self) -> &[usize] {
        &self.noise
    }
    /// Whether nothing was forgotten.
    pub fn is_empty(&self) -> bool {
        self.incidents.is_empty() && self.noise.is_empty()
    }
}

/// What happened to incidents as a streaming record was processed.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum IncidentEvent {
    /// A group reached `min_incident_alerts` distinct alerts.
    Opened {
        /// Incident id.
        id: String,
    },
    /// An open incident gained a record (a new alert, a re-fire or a resolution).
    Updated {
        /// Incident id.
        id: String,
        /// The record index.
        record: usize,
    },
    /// Two incidents were joined; `from` no longer exists.
    Merged {
        /// The surviving incident.
        into: String,
        /// The absorbed incident.
        from: String,
    },
    /// No alert joined the incident for the quiet period; it is final (re-fires may still
    /// update it).
    Closed(Box<CorrelatedIncident>),
}
