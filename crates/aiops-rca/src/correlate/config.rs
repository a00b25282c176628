//! How alerts are de-duplicated and related: [`CorrelatorConfig`] and [`Grouping`].

use aiops_core::{INSTANCE_LABELS, SERVICE_LABELS, Severity};

use crate::error::{RcaError, Result};

/// How alerts are de-duplicated and related. Build from [`CorrelatorConfig::default`] (the
/// best configuration measured on aiops-sim storms, see `docs/aiops-rca.md`) or
/// [`CorrelatorConfig::article`] (the article's rules exactly), then adjust fields.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
// Missing keys take the default's value; an unknown key (a misspelt `window_sec`) is an error
// rather than a silently ignored setting.
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[allow(clippy::struct_excessive_bools)] // each bool switches one documented rule
pub struct CorrelatorConfig {
    /// Two alerts can be related only if their starts are at most this far apart (seconds),
    /// except through `sparse_window_secs` and `dependency_window_secs`.
    pub window_secs: i64,
    /// While alerts are sparse, the dependency-path, same-service and silent-dependency rules
    /// reach this far back instead of `window_secs` (seconds; in
    /// `window_secs..=quiet_period_secs`): sparse means that the chance that a service raises
    /// some alert by chance within this span is at most
    /// [`CorrelatorConfig::dependency_window_max_chance`], estimated as for
    /// `dependency_window_secs`, once per timestamp. A cascade's hops can take longer than the
    /// article's 300 s; while alerts are sparse, a related alert 5 or 7 minutes back is still
    /// strong evidence, while on a dense storm a wider window pulls new faults into older
    /// incidents. The label and metric-type rules keep `window_secs`.
    /// [`Correlator::relate`](super::Correlator::relate) treats the span as open (it does not
    /// know the alert rate). `None` (the article): `window_secs` always. Default 420 s.
    pub sparse_window_secs: Option<i64>,
    /// The article's rule: relate when the earlier alert's service reaches the later one's
    /// along dependency -> dependent edges (a service reaches itself).
    pub dependency_path: bool,
    /// Limit the dependency path to at most this many edges (`Some(1)`: direct dependencies
    /// only); `None` allows any length, as the article does. With a limit, `Correlator::new`
    /// builds per-service bitsets of the services within reach: `n * ceil(n / 64) * 8` bytes
    /// for `n` services (12.5 MB at 10,000, 1.25 GB at 100,000), twice that while building,
    /// beside the graph's own reachability bitsets (`GraphOptions::max_reachability_bytes`
    /// bounds those only).
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
    /// article): the window only. Default 720 s (`docs/benchmarks.md`).
    pub dependency_window_secs: Option<i64>,
    /// With `dependency_window_secs`: a link beyond the window is taken only while the chance
    /// that a service raises some alert in the extra span (`dependency_window_secs -
    /// window_secs`) by chance is at most this, estimated as `1 - exp(-rate * span)` from the
    /// mean rate of alerts per service over the last 3 hours, or since the first alert if
    /// that is shorter (distinct alerts on services of the graph / services / time). In a dense storm, where a dependency alerts
    /// every few minutes anyway, an alert there minutes before is weak evidence of a cascade,
    /// and such links pulled new faults into older incidents; in a sparse one it is strong.
    /// 1: always; 0: never. Default 0.1. [`Correlator::relate`](super::Correlator::relate) does not apply it (it depends
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
    /// With [`Grouping::Scored`]: two incidents become one when the service of one's first
    /// alert reaches, along dependency -> dependent edges of any length
    /// ([`ServiceGraph::has_path`](crate::ServiceGraph::has_path)), at least this share of the
    /// other's distinct services in the graph. Both must hold at least 3 distinct alerts (and
    /// `min_incident_alerts`), their first alerts must be at most `incident_merge_window_secs`
    /// apart and each at most `quiet_period_secs` old (so neither was reported closed), and
    /// alerts must be sparse: the chance that a service raises an alert by chance within
    /// `window_secs`, from the alert rate of
    /// [`CorrelatorConfig::dependency_window_max_chance`], at most that chance. Checked each
    /// time one of them gains a new alert (a re-fire does not count), so the merge happens as
    /// soon as the evidence holds (a stream reports it as
    /// [`IncidentEvent::Merged`](super::IncidentEvent::Merged)). A fault's
    /// root often alerts after its first dependents, and a branch of its cascade can begin
    /// before the root's own alert reaches it: each part then starts an incident of its own,
    /// which no rule between two alerts joins later, and the first alert of the part holding
    /// the root lies upstream of nearly all the other part. `None`: incidents never merge (the
    /// other groupings ignore it).
    pub incident_merge_coverage: Option<f64>,
    /// With `incident_merge_coverage`: how far apart (seconds) the first alerts of two
    /// incidents that merge may be, `0..=quiet_period_secs` (checked only with the merge on).
    pub incident_merge_window_secs: i64,
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
    /// so a later alert there is noise or another incident. An alert never joins two
    /// incidents, so noise cannot chain them; `max_incident_span_secs` applies too. Two
    /// incidents merge only by [`CorrelatorConfig::incident_merge_coverage`] (on by default),
    /// when the first alert of one lies upstream of nearly all the other.
    #[default]
    Scored,
}

impl Default for CorrelatorConfig {
    /// The best configuration measured on aiops-sim storms (`docs/benchmarks.md`): the
    /// article's 300 s window, 420 s while alerts are sparse (`sparse_window_secs`: a
    /// cascade's hops can take longer), dependency paths of at most 2 edges and same service
    /// (and, for an alert nothing else relates to,
    /// its siblings under a silent dependency: `silent_dependency`; and, while alerts are
    /// sparse, the latest alert up to 720 s back on a direct dependency:
    /// `dependency_window_secs`, `dependency_window_max_chance` 0.1), each alert joining
    /// the related incident with the highest score ([`Grouping::Scored`]: links weighted by
    /// `exp(-gap / 300 s)`, the latest 4 alerts per related service, size prior 10 alerts,
    /// an incident that reached the alert's service more than 90 s before is skipped) only
    /// while that incident is at most 2,400 s old; `info` alerts relate to nothing
    /// (`min_severity` [`Severity::Low`]); an alert whose `alertname` has found fewer than
    /// 0.8 times the mean number of dependency-path links so far (learned online, smoothed by
    /// 5 alerts; at most 4,096 names) joins only through a same-service link; two incidents
    /// of 3 or more alerts whose first alerts began at most 180 s apart merge while alerts are
    /// sparse when one's first alert's service reaches 80 % of the other's services
    /// (`incident_merge_coverage`); an incident closes after 720 s without a new alert
    /// (`quiet_period_secs`); no same-metric-type rule, no shared-instance rule, noise =
    /// lone alerts.
    fn default() -> Self {
        CorrelatorConfig {
            window_secs: 300,
            sparse_window_secs: Some(420),
            dependency_path: true,
            max_hops: Some(2),
            dependency_window_secs: Some(720),
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
            quiet_period_secs: 720,
            min_incident_alerts: 2,
            grouping: Grouping::Scored,
            max_incident_span_secs: Some(2_400),
            same_service_secs: Some(90),
            size_prior_alerts: 10.0,
            min_severity: Some(Severity::Low),
            link_decay_secs: Some(300),
            alerts_per_dependency: 4,
            name_label: Some("alertname".to_owned()),
            min_name_link_ratio: 0.8,
            name_prior_alerts: 5.0,
            max_names: 4096,
            incident_merge_coverage: Some(0.8),
            incident_merge_window_secs: 180,
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
            sparse_window_secs: None,
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
            incident_merge_coverage: None,
            incident_merge_window_secs: 180,
        }
    }

    /// Adds the shared host/instance rule (`instance`, `host`, `hostname`, `node`).
    #[must_use]
    pub fn with_shared_instance(mut self) -> Self {
        self.shared_labels
            .push(INSTANCE_LABELS.iter().map(|s| (*s).to_owned()).collect());
        self
    }

    /// Checks the ranges; [`Correlator::new`](super::Correlator::new) calls it.
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
        // The windows that reach past `window_secs`, up to the quiet period.
        for (name, value) in [
            ("sparse_window_secs", self.sparse_window_secs),
            ("dependency_window_secs", self.dependency_window_secs),
        ] {
            if let Some(v) = value
                && !(self.window_secs..=self.quiet_period_secs).contains(&v)
            {
                return bad(
                    name,
                    format!(
                        "must be in window_secs..=quiet_period_secs ({}..={}), got {v}",
                        self.window_secs, self.quiet_period_secs
                    ),
                );
            }
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
        if let Some(c) = self.incident_merge_coverage
            && !(c > 0.0 && c <= 1.0)
        {
            return bad(
                "incident_merge_coverage",
                format!("must be in (0, 1] (or None), got {c}"),
            );
        }
        // Checked only with the merge on, as `dependency_window_secs` only when set: a quiet
        // period below the default merge window (180 s) needs no change to a setting that is off.
        if self.incident_merge_coverage.is_some()
            && !(0..=self.quiet_period_secs).contains(&self.incident_merge_window_secs)
        {
            return bad(
                "incident_merge_window_secs",
                format!(
                    "must be in 0..=quiet_period_secs ({}), got {}",
                    self.quiet_period_secs, self.incident_merge_window_secs
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
