//! Alert de-duplication and correlation into incidents.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use aiops_core::{
    Alert, AlertStatus, INSTANCE_LABELS, Incident, SERVICE_LABELS, Severity, Timestamp,
};

use crate::bitset;
use crate::error::{RcaError, Result};
use crate::fnv::{FastMap, hash_str};
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

/// How alerts are de-duplicated and related. Build from [`CorrelatorConfig::default`] (the
/// best configuration measured on aiops-sim storms, see `docs/aiops-rca.md`) or
/// [`CorrelatorConfig::article`] (the article's rules exactly), then adjust fields.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[allow(clippy::struct_excessive_bools)] // each bool switches one documented rule
pub struct CorrelatorConfig {
    /// Two alerts can be related only if their starts are at most this far apart (seconds).
    pub window_secs: i64,
    /// The article's rule: relate when the earlier alert's service reaches the later one's
    /// along dependency -> dependent edges (a service reaches itself).
    pub dependency_path: bool,
    /// Limit the dependency path to at most this many edges (`Some(1)`: direct dependencies
    /// only); `None` allows any length, as the article does.
    pub max_hops: Option<usize>,
    /// With `dependency_path`: a new alert also relates to the latest alert on each direct
    /// dependency of its service that started up to this long before it (seconds), beyond
    /// `window_secs`, because one hop of a cascade can take longer than the window (a pool
    /// that drains slowly, a retry budget that runs out). Must lie in
    /// `window_secs..=quiet_period_secs`. With the alert-name statistics on ([`Grouping::Scored`],
    /// `name_label`, `min_name_link_ratio` above 0), only an alert whose name's smoothed link
    /// rate is at least the mean takes such a link (an alert without a name, with an untracked
    /// name, or before any link was learned counts as the mean): a link beyond the window is
    /// weak evidence, and without this a fault's first alerts (names that fire on their own)
    /// joined an older incident on a dependency. Such links are also taken only while alerts are
    /// sparse enough ([`CorrelatorConfig::dependency_window_max_chance`]). `None` (the
    /// article): the window only. Default 600 s (`docs/benchmarks.md`).
    pub dependency_window_secs: Option<i64>,
    /// With `dependency_window_secs`: a link beyond the window is taken only while the chance
    /// that a service raises some alert in the extra span (`dependency_window_secs -
    /// window_secs`) by chance is at most this, estimated as `1 - exp(-rate * span)` from the
    /// mean rate of alerts per service over the last 3 hours, or since the first alert if
    /// that is shorter (distinct alerts on services of the graph / services / time). In a dense storm, where a dependency alerts
    /// every few minutes anyway, an alert there minutes before is weak evidence of a cascade,
    /// and such links pulled new faults into older incidents; in a sparse one it is strong.
    /// 1: always; 0: never. Default 0.1. [`Correlator::relate`] does not apply it (it depends
    /// on the alerts seen before).
    pub dependency_window_max_chance: f64,
    /// Relate alerts naming the same service, also when the service is not in the graph.
    pub same_service: bool,
    /// The article's rule: relate alerts with the same `metric_type` label. On large storms
    /// this chains unrelated incidents together, so the default turns it off.
    pub same_metric_type: bool,
    /// With `same_metric_type`, whether two alerts both lacking `metric_type` match (the
    /// article's Python compares `None == None` as true).
    pub missing_metric_type_matches: bool,
    /// Relate alerts whose services share a direct dependency (siblings under a silent root).
    pub shared_dependency: bool,
    /// Relate an alert that nothing else relates to (no dependency path, no same service, no
    /// label rule) to the latest alert, within the window, on each other direct dependent of a
    /// direct dependency of its service that is silent (no alert within the window, nor within
    /// `dependency_window_secs`), when at least a quarter of that dependency's other
    /// dependents have alerted within the window and the sibling's incident began within the
    /// window: the first symptoms of a fault on a dependency that raises no alert itself
    /// (missing monitoring) are siblings under it. A narrow `shared_dependency`.
    pub silent_dependency: bool,
    /// Label alias groups: alerts are related when they have the same value for a group (the
    /// value being the first label of the group that is present), e.g. `instance`/`host`/
    /// `hostname`/`node`.
    pub shared_labels: Vec<Vec<String>>,
    /// Label-equality sets: alerts are related when every label of a set is present on both
    /// with equal values.
    pub label_sets: Vec<Vec<String>>,
    /// Labels forming the de-duplication key; `None` uses the full label fingerprint, as
    /// Alertmanager does.
    pub dedup_labels: Option<Vec<String>>,
    /// Labels naming an alert's service, looked up in order; the incidents list their
    /// services by these labels too.
    pub service_labels: Vec<String>,
    /// A record with an already-seen de-duplication key is an update (re-fire or resolution)
    /// of that alert if it starts at most this long after the alert was last seen (start or
    /// end), else a new alert.
    pub refire_window_secs: i64,
    /// Streaming: an incident closes when no alert joined it for this long (at least the
    /// window, so a closed incident can never grow again except by re-fires).
    pub quiet_period_secs: i64,
    /// Groups with fewer distinct alerts than this are reported as noise, not incidents.
    pub min_incident_alerts: usize,
    /// How related alerts form incidents.
    pub grouping: Grouping,
    /// With [`Grouping::BestParent`] and [`Grouping::Scored`]: a new alert joins an incident
    /// only if the incident's first alert started at most this long before it (seconds), so
    /// a long-lived incident cannot keep absorbing later, unrelated alerts. `None`: no limit.
    pub max_incident_span_secs: Option<i64>,
    /// With [`Grouping::Scored`]: how far apart (seconds) one incident's alerts on one service
    /// can be. A new alert relates to an earlier one on its own service only within this gap,
    /// and never joins an incident whose alert on its service is older (that incident reached
    /// the service before; this alert is something else). `None`: no limit.
    pub same_service_secs: Option<i64>,
    /// With [`Grouping::Scored`]: an incident's score is its links to the new alert times
    /// `size / (size + size_prior_alerts)` (size in distinct alerts), so a lone earlier alert
    /// (often noise) counts for less than an established incident. 0: links alone.
    pub size_prior_alerts: f64,
    /// Alerts below this severity relate to nothing, so they end as noise (lone alerts)
    /// unless a re-fire joins them to their own alert; an alert without a severity counts
    /// as [`Severity::Medium`]. `None`: every severity correlates.
    pub min_severity: Option<Severity>,
    /// With [`Grouping::Scored`]: each link's weight is `exp(-gap / link_decay_secs)`, gap
    /// being the seconds between the two alerts' starts, so a closer related alert counts
    /// more. `None`: every link weighs 1.
    pub link_decay_secs: Option<i64>,
    /// With [`Grouping::Scored`]: how many of the latest alerts within the window on each
    /// related service upstream count as links (1: the latest only, as the other groupings
    /// do), so a later unrelated alert there does not hide a cascade's alert.
    pub alerts_per_dependency: usize,
    /// With [`Grouping::Scored`]: the label naming an alert's kind (e.g. `alertname`), for
    /// [`CorrelatorConfig::min_name_link_ratio`]. An alert without it has no name (no
    /// minimum applies to it). `None`: names are not used.
    pub name_label: Option<String>,
    /// With `name_label`: per alert name, the rate of dependency-path links into its alerts
    /// (related earlier alerts on upstream services, the look-back included) is learned from
    /// the alerts (at or above `min_severity`) of earlier timestamps only, smoothed as `(links + k * mean) / (alerts + k)`
    /// with `k` = [`CorrelatorConfig::name_prior_alerts`] and `mean` the rate over all named
    /// alerts. An alert whose name's rate is below `min_name_link_ratio * mean` (a name that
    /// fires independently of its dependencies' trouble, such as a certificate or backup
    /// alert) joins an incident only through a same-service link. 0: no minimum.
    pub min_name_link_ratio: f64,
    /// With `name_label`: the pseudo-count `k` of alerts at the mean rate each name starts
    /// with.
    pub name_prior_alerts: f64,
    /// With `name_label`: at most this many names are tracked, so memory stays bounded
    /// (about 32 bytes a name, beside 4 bytes per alert); once full, a new name counts only
    /// in the mean and no minimum applies to it.
    pub max_names: usize,
}

/// How related alerts form incidents.
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Grouping {
    /// Connected components of the relation: any two related alerts share an incident (the
    /// article's alert graph, taken as groups). On dense storms one alert related to two
    /// incidents chains them together.
    Connected,
    /// Each new alert joins the incident of one related earlier alert: the one whose
    /// incident is largest (ties: the latest alert). Incidents never merge, so noise cannot
    /// chain them; the result is a forest of why-records.
    BestParent,
    /// Each new alert joins one related incident: the one with the highest score, its links
    /// to the alert (related earlier alerts in it) times a size prior
    /// ([`CorrelatorConfig::size_prior_alerts`]; ties: the larger incident, then the latest
    /// linked alert). An incident whose alert on the new alert's service is older than
    /// [`CorrelatorConfig::same_service_secs`] is skipped: a cascade reaches a service once,
    /// so a later alert there is noise or another incident. Incidents never merge, as with
    /// [`Grouping::BestParent`], and `max_incident_span_secs` applies too.
    #[default]
    Scored,
}

impl Default for CorrelatorConfig {
    /// The best configuration measured on aiops-sim storms (`docs/benchmarks.md`): a
    /// 300 s window, dependency paths of at most 2 edges and same service (and, for an alert
    /// nothing else relates to,
    /// its siblings under a silent dependency: `silent_dependency`; and, while alerts are
    /// sparse, the latest alert up to 600 s back on a direct dependency:
    /// `dependency_window_secs`, `dependency_window_max_chance` 0.1), each alert joining
    /// the related incident with the highest score ([`Grouping::Scored`]: links weighted by
    /// `exp(-gap / 300 s)`, the latest 4 alerts per related service, size prior 10 alerts,
    /// an incident that reached the alert's service more than 120 s before is skipped) only
    /// while that incident is at most 2,400 s old; `info` alerts relate to nothing
    /// (`min_severity` [`Severity::Low`]); an alert whose `alertname` has found fewer than
    /// 0.8 times the mean number of dependency-path links so far (learned online, smoothed by
    /// 5 alerts; at most 4,096 names) joins only through a same-service link; no
    /// same-metric-type rule, no shared-instance rule, noise = lone alerts.
    fn default() -> Self {
        CorrelatorConfig {
            window_secs: 300,
            dependency_path: true,
            max_hops: Some(2),
            dependency_window_secs: Some(600),
            dependency_window_max_chance: 0.1,
            same_service: true,
            same_metric_type: false,
            missing_metric_type_matches: false,
            shared_dependency: false,
            silent_dependency: true,
            shared_labels: Vec::new(),
            label_sets: Vec::new(),
            dedup_labels: None,
            service_labels: SERVICE_LABELS.iter().map(|s| (*s).to_owned()).collect(),
            refire_window_secs: 600,
            quiet_period_secs: 600,
            min_incident_alerts: 2,
            grouping: Grouping::Scored,
            max_incident_span_secs: Some(2_400),
            same_service_secs: Some(120),
            size_prior_alerts: 10.0,
            min_severity: Some(Severity::Low),
            link_decay_secs: Some(300),
            alerts_per_dependency: 4,
            name_label: Some("alertname".to_owned()),
            min_name_link_ratio: 0.8,
            name_prior_alerts: 5.0,
            max_names: 4096,
        }
    }
}

impl CorrelatorConfig {
    /// The article's rules exactly: 300 s window, dependency path from the earlier alert's
    /// service to the later one's (a service reaches itself), same `metric_type` (missing
    /// matches missing, as in its Python), every group an incident (no noise).
    pub fn article() -> Self {
        CorrelatorConfig {
            window_secs: 300,
            dependency_path: true,
            max_hops: None,
            dependency_window_secs: None,
            dependency_window_max_chance: 0.1,
            same_service: true,
            same_metric_type: true,
            missing_metric_type_matches: true,
            shared_dependency: false,
            silent_dependency: false,
            shared_labels: Vec::new(),
            label_sets: Vec::new(),
            dedup_labels: None,
            service_labels: SERVICE_LABELS.iter().map(|s| (*s).to_owned()).collect(),
            refire_window_secs: 600,
            quiet_period_secs: 600,
            min_incident_alerts: 1,
            grouping: Grouping::Connected,
            max_incident_span_secs: None,
            same_service_secs: None,
            size_prior_alerts: 0.0,
            min_severity: None,
            link_decay_secs: None,
            alerts_per_dependency: 1,
            name_label: None,
            min_name_link_ratio: 0.0,
            name_prior_alerts: 5.0,
            max_names: 4096,
        }
    }

    /// Adds the shared host/instance rule (`instance`, `host`, `hostname`, `node`).
    #[must_use]
    pub fn with_shared_instance(mut self) -> Self {
        self.shared_labels
            .push(INSTANCE_LABELS.iter().map(|s| (*s).to_owned()).collect());
        self
    }

    /// Checks the ranges; [`Correlator::new`] calls it.
    pub fn check(&self) -> Result<()> {
        let bad = |name, reason: String| Err(RcaError::InvalidParameter { name, reason });
        if self.window_secs <= 0 || self.window_secs > 86_400 * 365 {
            return bad(
                "window_secs",
                format!("must be in 1..=31536000, got {}", self.window_secs),
            );
        }
        if self.refire_window_secs < 0 || self.refire_window_secs > 86_400 * 365 {
            return bad(
                "refire_window_secs",
                format!("must be in 0..=31536000, got {}", self.refire_window_secs),
            );
        }
        if self.quiet_period_secs < self.window_secs || self.quiet_period_secs > 86_400 * 365 {
            return bad(
                "quiet_period_secs",
                format!(
                    "must be in window_secs..=31536000, got {}",
                    self.quiet_period_secs
                ),
            );
        }
        if let Some(d) = self.dependency_window_secs
            && !(self.window_secs..=self.quiet_period_secs).contains(&d)
        {
            return bad(
                "dependency_window_secs",
                format!(
                    "must be in window_secs..=quiet_period_secs ({}..={}), got {d}",
                    self.window_secs, self.quiet_period_secs
                ),
            );
        }
        if let Some(span) = self.max_incident_span_secs
            && !(0..=86_400 * 365).contains(&span)
        {
            return bad(
                "max_incident_span_secs",
                format!("must be in 0..=31536000, got {span}"),
            );
        }
        if let Some(w) = self.same_service_secs
            && !(0..=86_400 * 365).contains(&w)
        {
            return bad(
                "same_service_secs",
                format!("must be in 0..=31536000, got {w}"),
            );
        }
        if let Some(d) = self.link_decay_secs
            && !(1..=86_400 * 365).contains(&d)
        {
            return bad(
                "link_decay_secs",
                format!("must be in 1..=31536000, got {d}"),
            );
        }
        if !(1..=64).contains(&self.alerts_per_dependency) {
            return bad(
                "alerts_per_dependency",
                format!("must be in 1..=64, got {}", self.alerts_per_dependency),
            );
        }
        for (name, v) in [
            ("size_prior_alerts", self.size_prior_alerts),
            ("name_prior_alerts", self.name_prior_alerts),
            ("min_name_link_ratio", self.min_name_link_ratio),
        ] {
            if !(0.0..=1e9).contains(&v) {
                return bad(name, format!("must be in 0..=1e9, got {v}"));
            }
        }
        if !(0.0..=1.0).contains(&self.dependency_window_max_chance) {
            return bad(
                "dependency_window_max_chance",
                format!(
                    "must be in 0..=1, got {}",
                    self.dependency_window_max_chance
                ),
            );
        }
        if !(1..=1 << 20).contains(&self.max_names) {
            return bad(
                "max_names",
                format!("must be in 1..=1048576, got {}", self.max_names),
            );
        }
        if self.name_label.as_ref().is_some_and(String::is_empty) {
            return bad("name_label", "must be a label name (or None)".into());
        }
        if self.min_incident_alerts == 0 {
            return bad("min_incident_alerts", "must be at least 1, got 0".into());
        }
        for (name, groups) in [
            ("shared_labels", &self.shared_labels),
            ("label_sets", &self.label_sets),
        ] {
            if groups
                .iter()
                .any(|g| g.is_empty() || g.iter().any(String::is_empty))
            {
                return bad(
                    name,
                    format!("groups must be non-empty label names, got {groups:?}"),
                );
            }
        }
        if self.service_labels.is_empty() {
            return bad("service_labels", "needs at least one label name".into());
        }
        if self.dedup_labels.as_ref().is_some_and(Vec::is_empty) {
            return bad(
                "dedup_labels",
                "must name at least one label (or be None)".into(),
            );
        }
        Ok(())
    }
}

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
}

impl MergeRule {
    /// The rule's name as the data tools print it: `same_fingerprint`, `dependency_path`,
    /// `same_metric_type`, `shared_label` (label sets included) or `shared_dependency`.
    pub fn name(&self) -> &'static str {
        match self {
            MergeRule::SameFingerprint => "same_fingerprint",
            MergeRule::DependencyPath { .. } => "dependency_path",
            MergeRule::SameMetricType { .. } => "same_metric_type",
            MergeRule::SharedLabel { .. } | MergeRule::LabelSet { .. } => "shared_label",
            MergeRule::SharedDependency { .. } => "shared_dependency",
        }
    }
}

/// One merge: which rule joined record `a` (earlier) and record `b`.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    a: usize,
    b: usize,
    rule: MergeRule,
    gap_secs: f64,
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
    incident: Incident,
    records: Vec<usize>,
    merges: Vec<Merge>,
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
    /// Why record `record` is in this incident: the merges touching it.
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
        /// Per record index: the incident it belongs to, `None` for noise.
        pub fn assignment(&self) -> Vec<Option<usize>> {
            assignment(
                self.counts.records,
                self.$list.iter().map(|x| &x.records[..]),
            )
        }
    };
}

/// The result of correlating a set of alert records.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    incidents: Vec<CorrelatedIncident>,
    #[cfg_attr(feature = "serde", serde(flatten))]
    counts: Counts,
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
    let mut out = vec![None; records];
    for (k, recs) in incidents.enumerate() {
        for &r in recs {
            out[r] = Some(k);
        }
    }
    out
}

/// A batch correlation that borrows the alerts ([`Correlator::correlate_view`]): the same
/// incidents, noise and why-records as [`Correlation`], with nothing copied. An incident's
/// aiops-core [`Incident`] and its [`Merge`]s are made when asked for.
pub struct CorrelationView<'a> {
    c: &'a Correlator<'a>,
    alerts: &'a [Alert],
    nodes: Vec<Node>,
    groups: Vec<Group>,
    counts: Counts,
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
    /// Why record `record` is in this incident: the merges touching it.
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

fn ratio(incidents: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        1.0 - incidents as f64 / n as f64
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
    /// With `link_decay_secs`: `exp(-gap / decay)` tabulated by gap in milliseconds.
    decay: Option<Decay>,
    /// `-ln(1 - dependency_window_max_chance)`: the most alerts a service may expect by chance
    /// in the dependency window's extra span (infinite for a chance of 1).
    max_chance_events: f64,
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
        let max_gap_ms = config
            .window_secs
            .max(config.dependency_window_secs.unwrap_or(0))
            .saturating_mul(1000);
        let decay = config
            .link_decay_secs
            .map(|d| Decay::new(d as f64 * 1000.0, max_gap_ms));
        let max_chance_events = -(-config.dependency_window_max_chance).ln_1p();
        Ok(Correlator {
            graph,
            config,
            hop_ancestors,
            deps: lists.as_deref().map(Rows::new),
            users,
            dep_window_ms,
            decay,
            max_chance_events,
        })
    }

    /// The direct dependencies of service `s` (empty without `dependency_window_secs` and
    /// `silent_dependency`).
    fn direct_dependencies(&self, s: usize) -> &[u32] {
        self.deps.as_ref().map_or(&[], |d| d.row(s))
    }

    /// The services from which `s` is reachable within the configured hops, as a bitset.
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
    /// noise, counts and why-records are the same; aiops-core [`Incident`]s are made per
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

    /// A streaming correlation: push records in start order (equal starts in any order).
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
        if gap > self.config.window_secs as f64 {
            why_not.push(format!(
                "{gap} s apart, more than the {} s window",
                self.config.window_secs
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
        if self.config.shared_dependency || self.config.silent_dependency {
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
/// span years -9999..=9999, far inside the clamp). Only times beyond the clamp change.
fn engine_ms(t: Timestamp) -> i64 {
    const LIMIT: i64 = 1 << 61;
    t.as_millis().clamp(-LIMIT, LIMIT)
}

fn service_of<'a>(config: &CorrelatorConfig, a: &'a Alert) -> Option<&'a str> {
    config
        .service_labels
        .iter()
        .find_map(|l| a.labels().get(l).filter(|v| !v.is_empty()))
}

fn first_label<'a, 'b>(a: &'a Alert, group: &'b [String]) -> Option<(&'b str, &'a str)> {
    group.iter().find_map(|l| {
        a.labels()
            .get(l)
            .filter(|v| !v.is_empty())
            .map(|v| (l.as_str(), v))
    })
}

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

/// A streaming correlation (see [`Correlator::stream`]).
#[derive(Debug)]
pub struct CorrelationStream<'c, 'g> {
    engine: Engine<'c, 'g, 'static>,
    pending: Vec<Pending>,
    pending_ms: i64,
    processed_ms: i64,
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    key: u64,
    record: usize,
    /// The graph index of the record's service, or `NONE`.
    service: u32,
    /// Below `min_severity`: relates to nothing.
    low: bool,
    /// The record's `ends_at`, in ms.
    ends_ms: Option<i64>,
    /// With `name_label`: the hash of its value (0: no name, or names unused).
    name: u64,
}

impl CorrelationStream<'_, '_> {
    /// Adds the next record (its index is the number of records pushed before it) and
    /// returns the events it caused. Records must come in start order; equal starts may come
    /// in any order (they are processed together once a later start arrives, or on
    /// [`CorrelationStream::advance_to`] / [`CorrelationStream::finish`]). An earlier start is
    /// accepted only as an update of a known alert (a re-sent or resolved notification), else
    /// it is [`RcaError::OutOfOrder`].
    pub fn push(&mut self, alert: Alert) -> Result<Vec<IncidentEvent>> {
        let ms = engine_ms(alert.starts_at());
        let key = self.engine.dedup_key(&alert);
        let latest = self.pending_ms.max(self.processed_ms);
        if ms < latest {
            if let Some(node) = self.engine.refire_target(key, ms) {
                let record = self.engine.records;
                self.engine.records += 1;
                let p = Pending {
                    key,
                    record,
                    service: NONE,
                    low: false,
                    ends_ms: alert.ends_at().map(engine_ms),
                    name: 0,
                };
                self.engine.store.to_mut().push(alert);
                self.engine.attach(node, p, ms);
                return Ok(std::mem::take(&mut self.engine.events));
            }
            return Err(RcaError::OutOfOrder {
                got: alert.starts_at().to_rfc3339(),
                latest: Timestamp::from_millis(latest).to_rfc3339(),
            });
        }
        if ms > self.pending_ms {
            self.flush_pending();
            self.engine.close_quiet(ms);
        }
        let record = self.engine.records;
        self.engine.records += 1;
        self.engine.store.to_mut().push(alert);
        self.pending_ms = ms;
        let a = &self.engine.store[record];
        let (service, low) = (self.engine.service_index(a), self.engine.is_low(a));
        let ends_ms = a.ends_at().map(engine_ms);
        let name = self.engine.name_hash(a);
        self.pending.push(Pending {
            key,
            record,
            service,
            low,
            ends_ms,
            name,
        });
        Ok(std::mem::take(&mut self.engine.events))
    }

    /// Declares that time `now` has come: processes waiting records that start before it and
    /// closes incidents quiet since `now - quiet_period`.
    pub fn advance_to(&mut self, now: Timestamp) -> Vec<IncidentEvent> {
        if engine_ms(now) > self.pending_ms {
            self.flush_pending();
        }
        self.engine.close_quiet(engine_ms(now));
        std::mem::take(&mut self.engine.events)
    }

    fn flush_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut group = std::mem::take(&mut self.pending);
        let store = &self.engine.store;
        group.sort_by(|x, y| {
            sort_key(&store[x.record], x.key, x.record).cmp(&sort_key(
                &store[y.record],
                y.key,
                y.record,
            ))
        });
        self.engine.process_group(self.pending_ms, &group);
        group.clear();
        self.pending = group;
        self.processed_ms = self.pending_ms;
    }

    /// Ends the stream: the correlation of everything pushed, equal to the batch result.
    pub fn finish(mut self) -> Correlation {
        self.flush_pending();
        self.engine.finish().into_correlation()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fingerprint,
    Path,
    Service,
    Metric,
    Label,
    Set,
    Dep,
}

#[derive(Debug, Clone, Copy)]
struct RawMerge {
    a_node: u32,
    b_node: u32,
    a_rec: usize,
    b_rec: usize,
    gap_ms: i64,
    kind: Kind,
    aux: u32,
    next: u32,
}

/// [`Grouping::Scored`]: one incident related to the alert being placed.
#[derive(Debug, Clone, Copy)]
struct Scored {
    root: u32,
    /// Links (related earlier alerts) into the incident.
    links: u32,
    weight: f64,
    /// A same-service link is among the links.
    service: bool,
    /// The incident reached the alert's service long before (see `same_service_secs`).
    excluded: bool,
    /// The latest linked alert: (node, earlier node, rule, aux).
    link: (u32, u32, Kind, u32),
}

#[derive(Debug)]
struct Node {
    start_ms: i64,
    last_seen_ms: i64,
    /// The start of the record holding the alert's latest state.
    latest_start_ms: i64,
    service: u32,
    /// The record holding the alert's latest state.
    latest_rec: usize,
    first_rec: usize,
    rec_head: u32,
    rec_tail: u32,
    next_member: u32,
}

#[derive(Debug)]
struct Engine<'c, 'g, 'a> {
    c: &'c Correlator<'g>,
    store: Cow<'a, [Alert]>,
    events_on: bool,
    events: Vec<IncidentEvent>,
    records: usize,
    nodes: Vec<Node>,
    rec_index: Vec<usize>,
    rec_next: Vec<u32>,
    /// Per record slot: its node.
    rec_node: Vec<u32>,
    /// De-duplication key -> (node, the node's `last_seen_ms`): the sweep reads only the map
    /// (reading each node's time missed the cache: 13% of the batch's cache misses).
    dedup: FastMap<u64, (u32, i64)>,
    /// Batch mode: when `expire_dedup` may next drop stale keys, and the map size it waits for
    /// (twice the size the last sweep left).
    next_sweep_ms: i64,
    sweep_len: usize,
    // Union-find over nodes; per-root data below.
    parent: Vec<u32>,
    size: Vec<u32>,
    comp_min: Vec<u32>,
    /// Per root: the start of its first alert (in ms).
    comp_first: Vec<i64>,
    comp_last: Vec<i64>,
    member_tail: Vec<u32>,
    merge_head: Vec<u32>,
    merge_tail: Vec<u32>,
    opened: Vec<bool>,
    closed: Vec<bool>,
    merges: Vec<RawMerge>,
    /// The window: the nodes from this one on (nodes are made in start order, so the nodes
    /// inside the window are always the latest ones).
    window_head: u32,
    active: Vec<u64>,
    latest: Vec<u32>,
    /// Per service: its latest node, kept past the window (for `dependency_window_secs`).
    last_on: Vec<u32>,
    /// The first start seen (ms), for the alert rate of `dependency_window_max_chance`.
    first_ms: Option<i64>,
    /// Distinct alerts on graph services over the last 3 hours.
    recent: RecentAlerts,
    keys: FastMap<u64, u32>,
    quiet_heap: BinaryHeap<Reverse<(i64, u32)>>,
    scratch: Vec<u32>,
    /// Related earlier alerts found for the current group: (node, earlier node, rule, aux).
    cands: Vec<(u32, u32, Kind, u32)>,
    fresh: Vec<u32>,
    /// [`Grouping::Scored`]: the incidents related to the alert being placed.
    scored: Vec<Scored>,
    /// Scratch for `silent_siblings`: which new alerts have a candidate.
    linked: Vec<bool>,
    /// With `min_severity`: per node, whether it is below it (by its first record).
    low: Vec<bool>,
    /// [`Grouping::Scored`]: per node, the previous alert on its service in the window.
    prev_on_service: Vec<u32>,
    /// Batch mode: a copy of every record's alert, taken by the incident that reports it.
    owned: Vec<Option<Alert>>,
    /// With `name_label`: the learned name statistics.
    names: NameStats,
    /// Whether the name statistics are on (`Scored`, `name_label` and a minimum ratio).
    naming: bool,
}

/// With [`CorrelatorConfig::name_label`]: per node its name (an index into `counts`,
/// [`NO_NAME`] or [`UNTRACKED`]); per tracked name the alerts and the dependency-path links into
/// them, learned from earlier timestamps; the totals over all named alerts.
#[derive(Debug, Default)]
struct NameStats {
    of: Vec<u32>,
    ids: FastMap<u64, u32>,
    counts: Vec<(u32, u32)>,
    total: (u64, u64),
}

/// [`NameStats`]: the alert has no name.
const NO_NAME: u32 = u32::MAX;
/// [`NameStats`]: the alert's name is not tracked (the table was full).
const UNTRACKED: u32 = u32::MAX - 1;

impl NameStats {
    /// The index of the name with hash `h`, adding it while fewer than `cap` are tracked.
    fn id(&mut self, h: u64, cap: usize) -> u32 {
        if let Some(&id) = self.ids.get(&h) {
            return id;
        }
        if self.counts.len() >= cap {
            return UNTRACKED;
        }
        let id = self.counts.len() as u32;
        self.ids.insert(h, id);
        self.counts.push((0, 0));
        id
    }

    /// The smoothed rate of path links into alerts of name `id`, relative to the mean rate
    /// (1 without a name, before any link, or for an untracked name).
    fn link_ratio(&self, id: u32, prior: f64) -> f64 {
        let Some(&(n, l)) = self.counts.get(id as usize) else {
            return 1.0;
        };
        if self.total.1 == 0 {
            return 1.0;
        }
        let mean = self.total.1 as f64 / self.total.0 as f64;
        let den = f64::from(n) + prior;
        if den <= 0.0 {
            return 1.0;
        }
        (f64::from(l) + prior * mean) / den / mean
    }

    /// Counts one alert of name `id` with `links` path links into it.
    fn learn(&mut self, id: u32, links: u32) {
        if id == NO_NAME {
            return;
        }
        self.total.0 += 1;
        self.total.1 += u64::from(links);
        if let Some(e) = self.counts.get_mut(id as usize) {
            e.0 = e.0.saturating_add(1);
            e.1 = e.1.saturating_add(links);
        }
    }
}

impl<'c, 'g, 'a> Engine<'c, 'g, 'a> {
    fn new(c: &'c Correlator<'g>, events_on: bool, store: Cow<'a, [Alert]>) -> Self {
        Engine {
            c,
            store,
            events_on,
            events: Vec::new(),
            records: 0,
            nodes: Vec::new(),
            rec_index: Vec::new(),
            rec_next: Vec::new(),
            rec_node: Vec::new(),
            dedup: FastMap::default(),
            next_sweep_ms: i64::MIN,
            sweep_len: 0,
            parent: Vec::new(),
            size: Vec::new(),
            comp_min: Vec::new(),
            comp_first: Vec::new(),
            comp_last: Vec::new(),
            member_tail: Vec::new(),
            merge_head: Vec::new(),
            merge_tail: Vec::new(),
            opened: Vec::new(),
            closed: Vec::new(),
            merges: Vec::new(),
            window_head: 0,
            active: vec![0; c.graph.node_words()],
            latest: vec![NONE; c.graph.len()],
            last_on: vec![NONE; c.graph.len()],
            first_ms: None,
            recent: RecentAlerts::default(),
            keys: FastMap::default(),
            quiet_heap: BinaryHeap::new(),
            scratch: Vec::new(),
            cands: Vec::new(),
            fresh: Vec::new(),
            scored: Vec::new(),
            linked: Vec::new(),
            prev_on_service: Vec::new(),
            low: Vec::new(),
            owned: Vec::new(),
            names: NameStats::default(),
            naming: c.config.grouping == Grouping::Scored
                && c.config.name_label.is_some()
                && c.config.min_name_link_ratio > 0.0,
        }
    }

    /// Batch mode: room for `n` records up front (growing these arrays by doubling copied
    /// them about once more: 4% of the batch time went to `memmove`).
    fn reserve(&mut self, n: usize) {
        self.nodes.reserve(n);
        self.rec_index.reserve(n);
        self.rec_next.reserve(n);
        self.rec_node.reserve(n);
        self.merges.reserve(n);
        for v in [
            &mut self.parent,
            &mut self.size,
            &mut self.comp_min,
            &mut self.member_tail,
            &mut self.merge_head,
            &mut self.merge_tail,
            &mut self.prev_on_service,
        ] {
            v.reserve(n);
        }
        self.comp_first.reserve(n);
        self.comp_last.reserve(n);
        self.opened.reserve(n);
        self.closed.reserve(n);
        self.low.reserve(n);
        if self.naming {
            self.names.of.reserve(n);
        }
    }

    fn alert(&self, node: u32) -> &Alert {
        &self.store[self.nodes[node as usize].latest_rec]
    }

    fn cfg(&self) -> &'c CorrelatorConfig {
        &self.c.config
    }

    fn dedup_key(&self, a: &Alert) -> u64 {
        match &self.c.config.dedup_labels {
            None => a.fingerprint().0,
            Some(names) => {
                let mut h = SALT_DEDUP;
                for n in names {
                    h = hash_str(h, a.labels().get(n).unwrap_or("\u{0}"));
                }
                h
            }
        }
    }

    /// With the name statistics on: the hash of the alert's name (never 0), or 0.
    fn name_hash(&self, a: &Alert) -> u64 {
        match &self.cfg().name_label {
            Some(label) if self.naming => a
                .labels()
                .get(label)
                .map_or(0, |v| hash_str(SALT_NAME, v) | 1),
            _ => 0,
        }
    }

    /// Whether the alert is below `min_severity` (so relates to nothing).
    fn is_low(&self, a: &Alert) -> bool {
        self.cfg()
            .min_severity
            .is_some_and(|min| a.severity().unwrap_or_default() < min)
    }

    /// The graph index of the alert's service, or `NONE`.
    fn service_index(&self, a: &Alert) -> u32 {
        service_of(self.cfg(), a)
            .and_then(|s| self.c.graph.index_of(s))
            .map_or(NONE, |i| i as u32)
    }

    /// Batch mode: drops the de-duplication keys whose alert can no longer be re-fired at
    /// `now_ms` or later (starts only grow in a batch), at most every half re-fire window and
    /// only once the map has doubled since the last sweep (so a sweep costs O(1) per insert
    /// even when keys stay live, e.g. alerts ending far ahead with a re-fire window of 0), so
    /// the map holds mostly recent alerts and stays in cache (9.9% of the batch time went to
    /// lookups in the full map; expiring each key on time through a queue cost 5% of the
    /// instructions). Which keys are present never changes a result: `refire_target` checks
    /// the time too. A stream keeps every key, since a late update of an old alert may still
    /// come.
    fn expire_dedup(&mut self, now_ms: i64) {
        if self.events_on || now_ms < self.next_sweep_ms || self.dedup.len() < self.sweep_len {
            return;
        }
        let w = self.cfg().refire_window_secs.saturating_mul(1000);
        self.dedup.retain(|_, e| now_ms.saturating_sub(e.1) <= w);
        self.next_sweep_ms = now_ms.saturating_add((w / 2).max(1));
        self.sweep_len = 2 * self.dedup.len().max(256);
    }

    fn refire_target(&self, key: u64, ms: i64) -> Option<u32> {
        let &(node, last_seen_ms) = self.dedup.get(&key)?;
        let w = self.cfg().refire_window_secs.saturating_mul(1000);
        (ms.saturating_sub(last_seen_ms) <= w).then_some(node)
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    fn id_of_root(&self, root: u32) -> String {
        incident_id(self.nodes[self.comp_min[root as usize] as usize].first_rec)
    }

    fn push_record(&mut self, node: u32, record: usize) -> u32 {
        let slot = self.rec_index.len() as u32;
        self.rec_index.push(record);
        self.rec_node.push(node);
        self.rec_next.push(NONE);
        let n = &mut self.nodes[node as usize];
        if n.rec_tail == NONE {
            n.rec_head = slot;
        } else {
            self.rec_next[n.rec_tail as usize] = slot;
        }
        n.rec_tail = slot;
        slot
    }

    /// A re-fire or resolution of a known alert (`p`, starting at `ms`).
    fn attach(&mut self, node: u32, p: Pending, ms: i64) {
        let record = p.record;
        self.push_record(node, record);
        let n = &mut self.nodes[node as usize];
        n.last_seen_ms = n.last_seen_ms.max(p.ends_ms.unwrap_or(ms).max(ms));
        let gap_ms = ms - n.start_ms;
        let a_rec = n.first_rec;
        // The latest state wins, except that a stale copy never re-opens a newer resolution.
        if ms >= n.latest_start_ms {
            n.latest_rec = record;
            n.latest_start_ms = ms;
        }
        let seen = n.last_seen_ms;
        if let Some(e) = self.dedup.get_mut(&p.key).filter(|e| e.0 == node) {
            e.1 = seen;
        }
        self.add_merge(node, node, a_rec, record, gap_ms, Kind::Fingerprint, 0);
        if self.events_on {
            let root = self.find(node);
            if self.opened[root as usize] {
                let id = self.id_of_root(root);
                self.events.push(IncidentEvent::Updated { id, record });
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_merge(
        &mut self,
        a_node: u32,
        b_node: u32,
        a_rec: usize,
        b_rec: usize,
        gap_ms: i64,
        kind: Kind,
        aux: u32,
    ) {
        let id = self.merges.len() as u32;
        self.merges.push(RawMerge {
            a_node,
            b_node,
            a_rec,
            b_rec,
            gap_ms,
            kind,
            aux,
            next: NONE,
        });
        let root = self.find(b_node) as usize;
        if self.merge_tail[root] == NONE {
            self.merge_head[root] = id;
        } else {
            self.merges[self.merge_tail[root] as usize].next = id;
        }
        self.merge_tail[root] = id;
    }

    fn new_node(&mut self, p: Pending, ms: i64) -> u32 {
        let id = self.nodes.len() as u32;
        let service = p.service;
        let seen = p.ends_ms.map_or(ms, |e| e.max(ms));
        self.low.push(p.low);
        if self.naming {
            let id = if p.name == 0 {
                NO_NAME
            } else {
                self.names.id(p.name, self.cfg().max_names)
            };
            self.names.of.push(id);
        }
        self.comp_first.push(ms);
        self.nodes.push(Node {
            start_ms: ms,
            last_seen_ms: seen,
            latest_start_ms: ms,
            service,
            latest_rec: p.record,
            first_rec: p.record,
            rec_head: NONE,
            rec_tail: NONE,
            next_member: NONE,
        });
        self.push_record(id, p.record);
        self.dedup.insert(p.key, (id, seen));
        self.parent.push(id);
        self.size.push(1);
        self.comp_min.push(id);
        self.comp_last.push(ms);
        self.member_tail.push(id);
        self.merge_head.push(NONE);
        self.merge_tail.push(NONE);
        self.opened.push(false);
        self.closed.push(false);
        if self.cfg().min_incident_alerts <= 1 {
            self.open(id);
        }
        id
    }

    fn open(&mut self, root: u32) {
        self.opened[root as usize] = true;
        if self.events_on {
            let id = self.id_of_root(root);
            self.events.push(IncidentEvent::Opened { id });
        }
    }

    /// Joins the groups of `a` (earlier) and `b` (the new node) if they differ.
    fn union(&mut self, a: u32, b: u32, kind: Kind, aux: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        let (big, small) = if self.size[ra as usize] >= self.size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        let (bi, si) = (big as usize, small as usize);
        let was_open = (self.opened[bi], self.opened[si]);
        let ids = if self.events_on && was_open.0 && was_open.1 {
            Some((self.id_of_root(big), self.id_of_root(small)))
        } else {
            None
        };
        self.parent[si] = big;
        self.size[bi] += self.size[si];
        // Members list: splice small after big (head of a list is its comp_min-independent
        // root node's chain; we keep a chain per root starting at the root).
        let big_tail = self.member_tail[bi];
        self.nodes[big_tail as usize].next_member = small;
        self.member_tail[bi] = self.member_tail[si];
        if self.merge_head[si] != NONE {
            if self.merge_tail[bi] == NONE {
                self.merge_head[bi] = self.merge_head[si];
            } else {
                self.merges[self.merge_tail[bi] as usize].next = self.merge_head[si];
            }
            self.merge_tail[bi] = self.merge_tail[si];
        }
        self.comp_min[bi] = self.comp_min[bi].min(self.comp_min[si]);
        self.comp_first[bi] = self.comp_first[bi].min(self.comp_first[si]);
        self.comp_last[bi] = self.comp_last[bi].max(self.comp_last[si]);
        let (an, bn) = (&self.nodes[a as usize], &self.nodes[b as usize]);
        let (a_rec, b_rec, gap) = (an.first_rec, bn.first_rec, bn.start_ms - an.start_ms);
        self.add_merge(a, b, a_rec, b_rec, gap, kind, aux);
        let opened = was_open.0 || was_open.1;
        self.opened[bi] = opened;
        if let Some((id_big, id_small)) = ids {
            let into = self.id_of_root(big);
            let from = if into == id_big { id_small } else { id_big };
            self.events.push(IncidentEvent::Merged { into, from });
        }
        if !opened && self.size[bi] as usize >= self.cfg().min_incident_alerts {
            self.open(big);
        } else if opened && self.events_on {
            let id = self.id_of_root(big);
            self.events
                .push(IncidentEvent::Updated { id, record: b_rec });
        }
    }

    fn evict(&mut self, now_ms: i64) {
        let w = self.cfg().window_secs * 1000;
        while let Some(n) = self.nodes.get(self.window_head as usize) {
            let front = self.window_head;
            if now_ms - n.start_ms <= w {
                break;
            }
            if n.service != NONE && self.latest[n.service as usize] == front {
                bitset::clear(&mut self.active, n.service as usize);
                self.latest[n.service as usize] = NONE;
            }
            self.window_head += 1;
        }
    }

    /// Looks up the latest node with this key inside the window and records this node as the
    /// latest; `same` checks a candidate really has the same value (hash collisions).
    fn key_rule(
        &mut self,
        node: u32,
        key: u64,
        kind: Kind,
        aux: u32,
        same: impl Fn(&Alert, &Alert) -> bool,
    ) {
        let w = self.cfg().window_secs * 1000;
        let ms = self.nodes[node as usize].start_ms;
        if let Some(&prev) = self.keys.get(&key) {
            let p = &self.nodes[prev as usize];
            if ms - p.start_ms <= w && same(self.alert(prev), self.alert(node)) {
                self.cands.push((node, prev, kind, aux));
            }
        }
        self.keys.insert(key, node);
    }

    fn process_group(&mut self, ms: i64, group: &[Pending]) {
        self.evict(ms);
        self.expire_dedup(ms);
        let mut fresh = std::mem::take(&mut self.fresh);
        fresh.clear();
        for &p in group {
            if let Some(node) = self.refire_target(p.key, ms) {
                self.attach(node, p, ms);
            } else {
                fresh.push(self.new_node(p, ms));
            }
        }
        let cfg = self.cfg();
        let mut on_graph = 0;
        for &node in &fresh {
            let s = self.nodes[node as usize].service;
            if s != NONE {
                on_graph += 1;
                let prev = self.latest[s as usize];
                if prev != NONE && (cfg.same_service || cfg.dependency_path) {
                    self.cands.push((node, prev, Kind::Service, 0));
                }
                self.latest[s as usize] = node;
                self.last_on[s as usize] = node;
                bitset::set(&mut self.active, s as usize);
            } else if let Some(key) = service_of(cfg, self.alert(node))
                .filter(|_| cfg.same_service)
                .map(|name| hash_str(SALT_SERVICE, name))
            {
                self.key_rule(node, key, Kind::Service, 0, |x, y| {
                    service_of(cfg, x) == service_of(cfg, y)
                });
            }
            if cfg.same_metric_type {
                let m = self.alert(node).metric_type();
                let key = match m {
                    Some(m) => Some(hash_str(SALT_METRIC, m)),
                    None if cfg.missing_metric_type_matches => Some(MISSING_METRIC),
                    None => None,
                };
                if let Some(key) = key {
                    self.key_rule(node, key, Kind::Metric, 0, |x, y| {
                        x.metric_type() == y.metric_type()
                    });
                }
            }
            for (gi, g) in cfg.shared_labels.iter().enumerate() {
                if let Some(key) = first_label(self.alert(node), g)
                    .map(|(_, v)| hash_str(SALT_LABEL + ((gi as u64) << 8), v))
                {
                    self.key_rule(node, key, Kind::Label, gi as u32, |x, y| {
                        first_label(x, g).map(|p| p.1) == first_label(y, g).map(|p| p.1)
                    });
                }
            }
            for (si, set) in cfg.label_sets.iter().enumerate() {
                if let Some(key) = set_values(self.alert(node), set)
                    .map(|vals| vals.into_iter().fold(SALT_SET + si as u64, hash_str))
                {
                    self.key_rule(node, key, Kind::Set, si as u32, |x, y| {
                        set_values(x, set) == set_values(y, set)
                    });
                }
            }
            if cfg.shared_dependency && s != NONE {
                let deps: Vec<usize> = self.c.graph.dependency_indices(s as usize).collect();
                for d in deps {
                    let key = SALT_DEP.wrapping_mul(0x1_0000_0001) ^ ((d as u64) << 16) ^ 0xdead;
                    self.key_rule(node, key, Kind::Dep, d as u32, |_, _| true);
                }
            }
        }
        let naming = self.naming;
        let first_ms = *self.first_ms.get_or_insert(ms);
        if self.c.dep_window_ms.is_some() {
            self.recent.add(ms, on_graph);
        }
        // Links beyond the window, while alerts are sparse enough (computed once per
        // timestamp, after every alert of it is counted, so their order does not matter).
        // 1 - exp(-rate * span) <= max_chance, as rate * span <= -ln(1 - max_chance).
        let slow_window = self.c.dep_window_ms.filter(|&dw| {
            let span = (dw - cfg.window_secs * 1000) as f64;
            let services = self.c.graph.len().max(1) as f64;
            let (count, covered) = self.recent.get(ms);
            let elapsed = (ms - first_ms).min(covered).max(1) as f64;
            count as f64 * span <= self.c.max_chance_events * services * elapsed
        });
        if cfg.dependency_path {
            for &node in &fresh {
                let s = self.nodes[node as usize].service;
                // An alert below `min_severity` relates to nothing: its path links would be
                // dropped below, so they are not looked for.
                if s == NONE || self.low[node as usize] {
                    continue;
                }
                let anc = self.c.ancestors(s as usize);
                let mut hits = std::mem::take(&mut self.scratch);
                hits.clear();
                for (w, (a, b)) in anc.iter().zip(&self.active).enumerate() {
                    let mut bits = a & b;
                    while bits != 0 {
                        let t = w * 64 + bits.trailing_zeros() as usize;
                        bits &= bits - 1;
                        if t != s as usize {
                            hits.push(t as u32);
                        }
                    }
                }
                for &t in &hits {
                    let prev = self.latest[t as usize];
                    self.cands.push((node, prev, Kind::Path, 0));
                }
                // A link beyond the window is weak evidence: only for an alert whose name has
                // followed its dependencies' alerts at least as often as the mean name.
                let slow_ok = |e: &Self| {
                    !naming
                        || e.names
                            .link_ratio(e.names.of[node as usize], cfg.name_prior_alerts)
                            >= 1.0
                };
                if let Some(dw) = slow_window.filter(|_| slow_ok(self)) {
                    for &d in self.c.direct_dependencies(s as usize) {
                        // Inside the window the hits above hold it already.
                        if bitset::get(&self.active, d as usize) {
                            continue;
                        }
                        let prev = self.last_on[d as usize];
                        if prev != NONE && ms - self.nodes[prev as usize].start_ms <= dw {
                            self.cands.push((node, prev, Kind::Path, 0));
                        }
                    }
                }
                self.scratch = hits;
            }
        }
        let mut cands = std::mem::take(&mut self.cands);
        if cfg.grouping == Grouping::Scored {
            self.scored_lookback(ms, &mut cands);
        }
        if cfg.min_severity.is_some() {
            // Alerts below the minimum severity relate to nothing (they end as noise).
            let low = &self.low;
            cands.retain(|c| !low[c.0 as usize] && !low[c.1 as usize]);
        }
        if cfg.silent_dependency && !fresh.is_empty() {
            self.silent_siblings(ms, &fresh, &mut cands);
        }
        match cfg.grouping {
            Grouping::Connected => {
                // Dependency paths first, as the article tests them first.
                for pass in [true, false] {
                    for &(node, prev, kind, aux) in &cands {
                        if matches!(kind, Kind::Path | Kind::Service) == pass {
                            self.union(prev, node, kind, aux);
                        }
                    }
                }
            }
            Grouping::BestParent => {
                let span = cfg.max_incident_span_secs.map(|x| x.saturating_mul(1000));
                // Stable: per node, same-service and key candidates first, then paths.
                cands.sort_by_key(|c| c.0);
                let mut i = 0;
                while i < cands.len() {
                    let node = cands[i].0;
                    let mut best = None;
                    let mut best_key = (0u32, i64::MIN, 0u32);
                    while i < cands.len() && cands[i].0 == node {
                        let c = cands[i];
                        i += 1;
                        let root = self.find(c.1);
                        if let Some(span) = span {
                            let first = self.comp_first[root as usize];
                            if ms - first > span {
                                continue;
                            }
                        }
                        let key = (
                            self.size[root as usize],
                            self.nodes[c.1 as usize].start_ms,
                            c.1,
                        );
                        if best.is_none() || key > best_key {
                            best_key = key;
                            best = Some(c);
                        }
                    }
                    if let Some(best) = best {
                        self.union(best.1, node, best.2, best.3);
                    }
                }
            }
            Grouping::Scored => {
                self.group_scored(ms, &mut cands);
                if naming {
                    // Learn only after the whole timestamp is placed, so alerts with equal
                    // starts see the same statistics whatever their order.
                    self.learn_names(&fresh, &cands);
                }
            }
        }
        cands.clear();
        self.cands = cands;
        for &node in &fresh {
            let root = self.find(node);
            let r = root as usize;
            self.comp_last[r] = self.comp_last[r].max(ms);
            if self.events_on && self.opened[r] {
                self.quiet_heap.push(Reverse((ms, root)));
            }
        }
        self.fresh = fresh;
    }

    /// With `silent_dependency`: for each new alert without any candidate, links to the latest
    /// alert on each sibling under a silent direct dependency of its service (see
    /// [`CorrelatorConfig::silent_dependency`]). `fresh` holds consecutive node ids.
    fn silent_siblings(&mut self, ms: i64, fresh: &[u32], cands: &mut Vec<(u32, u32, Kind, u32)>) {
        let (Some(deps), Some(users)) = (self.c.deps.as_ref(), self.c.users.as_ref()) else {
            return;
        };
        let base = fresh[0];
        let mut linked = std::mem::take(&mut self.linked);
        linked.clear();
        linked.resize(fresh.len(), false);
        for c in cands.iter() {
            if let Some(x) = linked.get_mut(c.0.wrapping_sub(base) as usize) {
                *x = true;
            }
        }
        let w = self.cfg().window_secs * 1000;
        let dw = self.c.dep_window_ms;
        for (k, &node) in fresh.iter().enumerate() {
            let s = self.nodes[node as usize].service;
            if linked[k] || s == NONE || self.low[node as usize] {
                continue;
            }
            for &d in deps.row(s as usize) {
                let d = d as usize;
                let last = self.last_on[d];
                let silent = !bitset::get(&self.active, d)
                    && (last == NONE
                        || dw.is_none_or(|dw| ms - self.nodes[last as usize].start_ms > dw));
                if !silent {
                    continue;
                }
                let row = users.row(d);
                let alerting = row
                    .iter()
                    .filter(|&&u| u != s && bitset::get(&self.active, u as usize))
                    .count();
                // A quarter of the other dependents alerting: a cascade, not a coincidence.
                if alerting == 0 || 4 * alerting < row.len() - 1 {
                    continue;
                }
                for &u in row {
                    if u == s || !bitset::get(&self.active, u as usize) {
                        continue;
                    }
                    let prev = self.latest[u as usize];
                    if prev == node || self.low[prev as usize] {
                        continue;
                    }
                    // Only an incident that began within the window: a running incident
                    // taking such an alert in would take noise and new roots with it.
                    let root = self.find(prev);
                    if ms - self.comp_first[root as usize] > w {
                        continue;
                    }
                    cands.push((node, prev, Kind::Dep, d as u32));
                }
            }
        }
        self.linked = linked;
    }

    /// [`Grouping::Scored`]: remembers each new alert's previous alert on its service, and adds
    /// as links the earlier alerts (within the window, up to `alerts_per_dependency` in all)
    /// on each dependency service a path candidate found, so a later alert there (often
    /// noise) does not hide a cascade's alert.
    fn scored_lookback(&mut self, ms: i64, cands: &mut Vec<(u32, u32, Kind, u32)>) {
        self.prev_on_service.resize(self.nodes.len(), NONE);
        for c in cands.iter() {
            if c.2 == Kind::Service {
                self.prev_on_service[c.0 as usize] = c.1;
            }
        }
        let cfg = self.cfg();
        let extra = cfg.alerts_per_dependency.saturating_sub(1);
        let w = cfg.window_secs * 1000;
        for k in 0..cands.len() {
            let c = cands[k];
            if c.2 != Kind::Path {
                continue;
            }
            let mut q = self.prev_on_service[c.1 as usize];
            let mut d = 0;
            while q != NONE && d < extra && ms - self.nodes[q as usize].start_ms <= w {
                cands.push((c.0, q, Kind::Path, c.3));
                q = self.prev_on_service[q as usize];
                d += 1;
            }
        }
    }

    /// With `name_label`: counts each new alert (above `min_severity`) and its path links
    /// (`cands` are sorted by node) in the name statistics.
    fn learn_names(&mut self, fresh: &[u32], cands: &[(u32, u32, Kind, u32)]) {
        let mut i = 0;
        for &node in fresh {
            while i < cands.len() && cands[i].0 < node {
                i += 1;
            }
            let mut links = 0u32;
            while i < cands.len() && cands[i].0 == node {
                links += u32::from(cands[i].2 == Kind::Path);
                i += 1;
            }
            if !self.low[node as usize] {
                self.names.learn(self.names.of[node as usize], links);
            }
        }
    }

    /// [`Grouping::Scored`]: each new alert joins the related incident with the highest score
    /// (links to it x its size prior), skipping incidents that already reached its service
    /// earlier than `same_service_secs` ago.
    fn group_scored(&mut self, ms: i64, cands: &mut [(u32, u32, Kind, u32)]) {
        let cfg = self.cfg();
        let span = cfg.max_incident_span_secs.map(|x| x.saturating_mul(1000));
        let same_ms = cfg.same_service_secs.map(|x| x.saturating_mul(1000));
        let prior = cfg.size_prior_alerts;
        let decay = self.c.decay.as_ref();
        let naming = self.naming;
        let prior_n = cfg.name_prior_alerts;
        // Stable: per node, same-service and key candidates first, then paths.
        cands.sort_by_key(|c| c.0);
        let mut per = std::mem::take(&mut self.scored);
        let mut i = 0;
        while i < cands.len() {
            let node = cands[i].0;
            per.clear();
            while i < cands.len() && cands[i].0 == node {
                let c = cands[i];
                i += 1;
                let root = self.find(c.1);
                let first = self.comp_first[root as usize];
                if span.is_some_and(|span| ms - first > span) {
                    continue;
                }
                let gap = ms - self.nodes[c.1 as usize].start_ms;
                // The incident's alert on this service is older than a cascade's alerts on one
                // service can be apart: the incident reached the service before, this alert is
                // something else.
                let stale = c.2 == Kind::Service && same_ms.is_some_and(|w| gap > w);
                let at = if let Some(p) = per.iter().position(|e| e.root == root) {
                    p
                } else {
                    per.push(Scored {
                        root,
                        links: 0,
                        weight: 0.0,
                        service: false,
                        excluded: false,
                        link: c,
                    });
                    per.len() - 1
                };
                let e = &mut per[at];
                if stale {
                    e.excluded = true;
                } else {
                    // Keep the latest linked alert as the why-record.
                    if e.links == 0
                        || self.nodes[c.1 as usize].start_ms
                            > self.nodes[e.link.1 as usize].start_ms
                    {
                        e.link = c;
                    }
                    e.links += 1;
                    // A cascade's hop delays are short more often than long.
                    let w = decay.map_or(1.0, |d| d.weight(gap));
                    e.service |= c.2 == Kind::Service;
                    e.weight += w;
                }
            }
            let mut best: Option<(f64, u32, i64, u32)> = None;
            let mut link = None;
            let mut service = false;
            for e in &per {
                if e.excluded || e.links == 0 {
                    continue;
                }
                let size = self.size[e.root as usize];
                let score = e.weight * f64::from(size) / (f64::from(size) + prior);
                let key = (
                    score,
                    size,
                    self.nodes[e.link.1 as usize].start_ms,
                    e.link.1,
                );
                // Scores within a relative 1e-9 are a tie (equal in exact arithmetic, they differ
                // only by rounding): then the larger incident, then the latest linked alert.
                let better = best.is_none_or(|b| {
                    let tol = 1e-9 * key.0.abs().max(b.0.abs());
                    if (key.0 - b.0).abs() > tol {
                        key.0 > b.0
                    } else {
                        (key.1, key.2, key.3) > (b.1, b.2, b.3)
                    }
                });
                if better {
                    best = Some(key);
                    link = Some(e.link);
                    service = e.service;
                }
            }
            if naming
                && !service
                && link.is_some()
                && self.names.link_ratio(self.names.of[node as usize], prior_n)
                    < cfg.min_name_link_ratio
            {
                link = None;
            }
            if let Some(c) = link {
                self.union(c.1, node, c.2, c.3);
            }
        }
        per.clear();
        self.scored = per;
    }

    fn close_quiet(&mut self, now_ms: i64) {
        let quiet = self.cfg().quiet_period_secs * 1000;
        while let Some(&Reverse((last, root))) = self.quiet_heap.peek() {
            if now_ms - last <= quiet {
                break;
            }
            self.quiet_heap.pop();
            let r = root as usize;
            if self.parent[r] != root
                || self.comp_last[r] != last
                || !self.opened[r]
                || self.closed[r]
            {
                continue; // stale entry
            }
            self.closed[r] = true;
            let inc = self.build(root);
            self.events.push(IncidentEvent::Closed(Box::new(inc)));
        }
    }

    /// An incident's members (in start order), records (ascending) and merges (by later record,
    /// then earlier), without copying any alert.
    fn collect(&self, root: u32) -> Group {
        let size = self.size[root as usize] as usize;
        let mut members: Vec<(i64, u32)> = Vec::with_capacity(size);
        let mut records = Vec::with_capacity(size);
        let mut x = root;
        while x != NONE {
            let n = &self.nodes[x as usize];
            members.push((n.start_ms, x));
            let mut r = n.rec_head;
            while r != NONE {
                records.push(self.rec_index[r as usize]);
                r = self.rec_next[r as usize];
            }
            x = n.next_member;
        }
        members.sort_unstable();
        records.sort_unstable();
        let mut merges = Vec::with_capacity(size);
        let mut m = self.merge_head[root as usize];
        while m != NONE {
            let raw = self.merges[m as usize];
            merges.push(raw);
            m = raw.next;
        }
        merges.sort_by_key(|m| (m.b_rec, m.a_rec));
        Group {
            id_rec: self.nodes[self.comp_min[root as usize] as usize].first_rec,
            members: members.into_iter().map(|(_, x)| x).collect(),
            records,
            merges,
        }
    }

    /// The incident of the group of `root`, built now (streaming `Closed` events).
    fn build(&mut self, root: u32) -> CorrelatedIncident {
        let g = self.collect(root);
        let parts = Parts {
            c: self.c,
            nodes: &self.nodes,
            store: &self.store,
        };
        parts.incident(g, &mut self.owned)
    }

    /// Ends the correlation: the groups, in order of their earliest alert, and the noise.
    fn finish(mut self) -> Finished<'c, 'g, 'a> {
        // One pass per array instead of walking every incident's linked lists (8% of the
        // batch time): nodes in id order are in start order, and the first node met of a
        // group is its first alert, so groups come out in order of their earliest alert.
        let n = self.nodes.len();
        let min = self.cfg().min_incident_alerts;
        let mut node_group = vec![NONE; n];
        let mut groups: Vec<Group> = Vec::new();
        for x in 0..n as u32 {
            let root = self.find(x) as usize;
            if (self.size[root] as usize) < min {
                continue;
            }
            let g = if node_group[root] == NONE {
                let g = groups.len();
                groups.push(Group {
                    id_rec: self.nodes[x as usize].first_rec,
                    members: Vec::with_capacity(self.size[root] as usize),
                    records: Vec::new(),
                    merges: Vec::new(),
                });
                node_group[root] = g as u32;
                g
            } else {
                node_group[root] as usize
            };
            node_group[x as usize] = g as u32;
            groups[g].members.push(x);
        }
        // Records in index order, each with its group, so every list comes out sorted and
        // sized once (sorting the noise and growing the lists took 7% of the batch time).
        let mut group_of = vec![NONE; self.records];
        for (&record, &node) in self.rec_index.iter().zip(&self.rec_node) {
            if let Some(x) = group_of.get_mut(record) {
                *x = node_group[node as usize];
            }
        }
        let mut counts = vec![(0usize, 0usize); groups.len()];
        let mut in_groups = 0;
        for &g in &group_of {
            if g != NONE {
                counts[g as usize].0 += 1;
                in_groups += 1;
            }
        }
        for m in &self.merges {
            let g = node_group[m.b_node as usize];
            if g != NONE {
                counts[g as usize].1 += 1;
            }
        }
        for (g, &(r, m)) in groups.iter_mut().zip(&counts) {
            g.records.reserve_exact(r);
            g.merges.reserve_exact(m);
        }
        let mut noise = Vec::with_capacity(self.records.saturating_sub(in_groups));
        for (record, &g) in group_of.iter().enumerate() {
            if g == NONE {
                noise.push(record);
            } else {
                groups[g as usize].records.push(record);
            }
        }
        for m in &self.merges {
            let g = node_group[m.b_node as usize];
            if g != NONE {
                groups[g as usize].merges.push(*m);
            }
        }
        for g in &mut groups {
            // (later record, earlier record) is unique per merge: any order sorts the same.
            g.merges.sort_unstable_by_key(|m| (m.b_rec, m.a_rec));
        }
        Finished {
            c: self.c,
            store: self.store,
            nodes: self.nodes,
            owned: self.owned,
            groups,
            counts: Counts {
                noise,
                records: self.records,
                distinct: n,
            },
        }
    }
}

/// One incident as the engine found it: node and record indices, raw merges.
#[derive(Debug, Clone)]
struct Group {
    /// The first record of the incident's first alert (its id is `inc-<id_rec>`).
    id_rec: usize,
    /// Nodes in start order.
    members: Vec<u32>,
    /// Record indices, ascending.
    records: Vec<usize>,
    /// Merges by later record, then earlier.
    merges: Vec<RawMerge>,
}

/// Record counts shared by [`Correlation`] and [`CorrelationView`].
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Counts {
    noise: Vec<usize>,
    records: usize,
    distinct: usize,
}

impl Counts {
    fn compression(&self, incidents: usize) -> f64 {
        ratio(incidents, self.distinct)
    }
    fn raw_compression(&self, incidents: usize) -> f64 {
        ratio(incidents, self.records)
    }
}

/// What a finished engine leaves: enough to render incidents now or later.
struct Finished<'c, 'g, 'a> {
    c: &'c Correlator<'g>,
    store: Cow<'a, [Alert]>,
    nodes: Vec<Node>,
    owned: Vec<Option<Alert>>,
    groups: Vec<Group>,
    counts: Counts,
}

impl Finished<'_, '_, '_> {
    fn into_correlation(mut self) -> Correlation {
        let parts = Parts {
            c: self.c,
            nodes: &self.nodes,
            store: &self.store,
        };
        let incidents = std::mem::take(&mut self.groups)
            .into_iter()
            .map(|g| parts.incident(g, &mut self.owned))
            .collect();
        Correlation {
            incidents,
            counts: self.counts,
        }
    }
}

/// What rendering a [`Group`] needs.
#[derive(Clone, Copy)]
struct Parts<'p, 'g> {
    c: &'p Correlator<'g>,
    nodes: &'p [Node],
    store: &'p [Alert],
}

impl Parts<'_, '_> {
    fn merge(&self, m: &RawMerge) -> Merge {
        Merge {
            a: m.a_rec,
            b: m.b_rec,
            rule: self.merge_rule(m),
            gap_secs: m.gap_ms as f64 / 1000.0,
        }
    }

    fn merge_rule(&self, m: &RawMerge) -> MergeRule {
        let (na, nb) = (
            &self.nodes[m.a_node as usize],
            &self.nodes[m.b_node as usize],
        );
        let cfg = &self.c.config;
        let (a, b) = (&self.store[na.latest_rec], &self.store[nb.latest_rec]);
        // Known services by graph index (shared names, no label lookup), others by label.
        let svc = |n: &Node, x: &Alert| match self.c.graph.shared_name(n.service as usize) {
            Some(name) if n.service != NONE => Arc::clone(name),
            _ => Arc::from(service_of(cfg, x).unwrap_or("")),
        };
        match m.kind {
            Kind::Fingerprint => MergeRule::SameFingerprint,
            Kind::Path => MergeRule::DependencyPath {
                from: svc(na, a),
                to: svc(nb, b),
            },
            Kind::Service => match self.c.graph.shared_name(nb.service as usize) {
                Some(name) if nb.service != NONE => MergeRule::DependencyPath {
                    from: Arc::clone(name),
                    to: Arc::clone(name),
                },
                _ => self.c.same_service_rule(service_of(cfg, b).unwrap_or("")),
            },
            Kind::Metric => MergeRule::SameMetricType {
                metric_type: b.metric_type().unwrap_or("").to_owned(),
            },
            Kind::Label => {
                let g = &cfg.shared_labels[m.aux as usize];
                let (l, v) = first_label(b, g).unwrap_or(("", ""));
                MergeRule::SharedLabel {
                    label: l.to_owned(),
                    value: v.to_owned(),
                }
            }
            Kind::Set => {
                let set = &cfg.label_sets[m.aux as usize];
                MergeRule::LabelSet {
                    labels: set
                        .iter()
                        .map(|l| (l.clone(), b.labels().get(l).unwrap_or("").to_owned()))
                        .collect(),
                }
            }
            Kind::Dep => MergeRule::SharedDependency {
                dependency: self
                    .c
                    .graph
                    .shared_name(m.aux as usize)
                    .map_or_else(|| Arc::from(""), Arc::clone),
            },
        }
    }

    /// A member's service as the correlator saw it (by graph index, so the incident need not
    /// read every alert's labels again; others by the configured service labels).
    fn service(&self, node: u32) -> Option<&str> {
        let n = &self.nodes[node as usize];
        match self.c.graph.name(n.service as usize) {
            Some(name) if n.service != NONE => Some(name),
            _ => service_of(&self.c.config, &self.store[n.latest_rec]),
        }
    }

    /// The aiops-core incident of `g`: each alert in its latest state, taken from `owned` when
    /// a copy was made there (batch mode), else cloned from the store.
    fn core_incident(&self, g: &Group, owned: &mut [Option<Alert>]) -> Incident {
        let id = incident_id(g.id_rec);
        let mut alerts: Vec<Alert> = Vec::with_capacity(g.members.len());
        for &x in &g.members {
            let rec = self.nodes[x as usize].latest_rec;
            alerts.push(match owned.get_mut(rec).and_then(Option::take) {
                Some(a) => a,
                None => self.store[rec].clone(),
            });
        }
        let services: Vec<Option<&str>> = g.members.iter().map(|&x| self.service(x)).collect();
        // `alerts` is never empty (a group has at least one member) and `services` pairs with it.
        Incident::from_alerts_and_services(id.clone(), alerts, &services).unwrap_or_else(|_| {
            Incident::from_summary(
                id,
                "",
                aiops_core::Severity::Medium,
                aiops_core::Labels::new(),
                Timestamp::EPOCH,
            )
        })
    }

    fn incident(&self, g: Group, owned: &mut [Option<Alert>]) -> CorrelatedIncident {
        CorrelatedIncident {
            incident: self.core_incident(&g, owned),
            merges: g.merges.iter().map(|m| self.merge(m)).collect(),
            records: g.records,
        }
    }
}

#[cfg(test)]
mod tests;

/// For `dependency_window_max_chance`: distinct alerts on graph services per minute over the
/// last [`RATE_MINUTES`] minutes, in a ring indexed by minute.
#[derive(Debug)]
struct RecentAlerts {
    minute: Vec<i64>,
    count: Vec<u64>,
    total: u64,
    last: Option<i64>,
}

/// How far back the alert rate of `dependency_window_max_chance` looks: 3 hours, so that a
/// long-running stream notices a storm within hours (the rate since the first alert gave the
/// same figures on every storm measured; one hour lowered recall on `day` by up to 0.015).
const RATE_MINUTES: i64 = 180;

impl Default for RecentAlerts {
    fn default() -> Self {
        RecentAlerts {
            minute: vec![i64::MIN; RATE_MINUTES as usize],
            count: vec![0; RATE_MINUTES as usize],
            total: 0,
            last: None,
        }
    }
}

impl RecentAlerts {
    /// Counts `n` alerts at `ms` (times never decrease), dropping minutes that left the span.
    fn add(&mut self, ms: i64, n: u64) {
        let m = ms.div_euclid(60_000);
        if self.last == Some(m) {
            self.count[m.rem_euclid(RATE_MINUTES) as usize] += n;
            self.total += n;
            return;
        }
        let from = self.last.map_or(m, |l| (l + 1).max(m - (RATE_MINUTES - 1)));
        for k in from..=m {
            let slot = k.rem_euclid(RATE_MINUTES) as usize;
            if self.minute[slot] != k {
                self.total -= self.count[slot];
                self.count[slot] = 0;
                self.minute[slot] = k;
            }
        }
        self.last = Some(self.last.map_or(m, |l| l.max(m)));
        self.count[m.rem_euclid(RATE_MINUTES) as usize] += n;
        self.total += n;
    }

    /// The alerts counted, and how many milliseconds up to `ms` the counted minutes cover.
    fn get(&self, ms: i64) -> (u64, i64) {
        let m = ms.div_euclid(60_000);
        (self.total, ms - (m - (RATE_MINUTES - 1)) * 60_000)
    }
}
