//! Incidents and root causes: the hand-off between correlation, ranking and healing.

use crate::error::{CoreError, Result};
use crate::{Alert, Fingerprint, Labels, Severity, Timestamp};

/// One piece of evidence for a root cause.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Evidence {
    /// A dependency path from the candidate to a symptomatic service, candidate first.
    DependencyPath {
        /// Service names along the path.
        path: Vec<String>,
    },
    /// An alert that supports the candidate.
    Alert {
        /// The alert's fingerprint.
        fingerprint: Fingerprint,
        /// Its `alertname` (empty when missing).
        alertname: String,
        /// When it started.
        at: Timestamp,
    },
    /// A metric of the candidate that changed around the incident start.
    MetricChange {
        /// Metric name.
        metric: String,
        /// Unit-free change score (larger is a stronger change), signed by direction.
        score: f64,
    },
    /// Free text.
    Note {
        /// The text.
        text: String,
    },
}

/// A ranked candidate root cause.
///
/// `score` orders candidates of one ranking; `confidence` is the ranker's belief that this
/// candidate is the root cause, as the ranker defines it (aiops-rca's rankers: the candidate's
/// share of the ranking's score unless calibrated to labelled incidents). Both are in `[0, 1]`.
/// With `serde`, it serializes but does not deserialize (that would bypass the range checks).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RootCause {
    service: String,
    score: f64,
    confidence: f64,
    evidence: Vec<Evidence>,
}

fn unit(what: &'static str, value: f64) -> Result<f64> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(CoreError::OutOfUnitRange { what, value })
    }
}

impl RootCause {
    /// A root cause; `score` and `confidence` must be in `[0, 1]` (NaN is rejected).
    pub fn try_new(
        service: impl Into<String>,
        score: f64,
        confidence: f64,
        evidence: Vec<Evidence>,
    ) -> Result<Self> {
        Ok(RootCause {
            service: service.into(),
            score: unit("score", score)?,
            confidence: unit("confidence", confidence)?,
            evidence,
        })
    }
    /// The candidate service.
    pub fn service(&self) -> &str {
        &self.service
    }
    /// Ranking score in `[0, 1]`.
    pub fn score(&self) -> f64 {
        self.score
    }
    /// Confidence in `[0, 1]`.
    pub fn confidence(&self) -> f64 {
        self.confidence
    }
    /// Supporting evidence.
    pub fn evidence(&self) -> &[Evidence] {
        &self.evidence
    }
    /// The first dependency path in the evidence, if any.
    pub fn evidence_path(&self) -> Option<&[String]> {
        self.evidence.iter().find_map(|e| match e {
            Evidence::DependencyPath { path } => Some(path.as_slice()),
            _ => None,
        })
    }
}

/// A group of related alerts believed to share one cause.
///
/// ```
/// use aiops_core::{Alert, Incident, Labels, Severity, Timestamp};
///
/// let a = Alert::new(Labels::from_pairs([("service", "db"), ("severity", "critical"), ("team", "x")]), Timestamp::from_secs(10));
/// let b = Alert::new(Labels::from_pairs([("service", "api"), ("severity", "warning"), ("team", "x")]), Timestamp::from_secs(40));
/// let inc = Incident::from_alerts("inc-1", vec![b, a])?;
/// assert_eq!(inc.primary_service(), Some("db")); // earliest alerting service until ranked
/// assert_eq!(inc.severity(), Severity::Critical);
/// assert_eq!(inc.common_labels().get("team"), Some("x"));
/// assert_eq!(inc.services(), &["api".to_string(), "db".to_string()]);
/// # Ok::<(), aiops_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Incident {
    id: String,
    alerts: Vec<Alert>,
    services: Vec<String>,
    primary_service: Option<String>,
    common_labels: Labels,
    start: Timestamp,
    end: Option<Timestamp>,
    severity: Severity,
    root_causes: Vec<RootCause>,
}

impl Incident {
    /// Builds an incident from its alerts (at least one), deriving everything else:
    /// services (sorted, unique), primary service (the earliest alerting service; ties by
    /// name), common labels, start (earliest `starts_at`), end (`None` while any alert fires,
    /// else the latest `ends_at`), and severity (the maximum; alerts without a recognised
    /// severity label count as [`Severity::Medium`]).
    pub fn from_alerts(id: impl Into<String>, alerts: Vec<Alert>) -> Result<Self> {
        Self::derive(id.into(), alerts, None)
    }

    /// As [`Incident::from_alerts`], with each alert's service given by the caller
    /// (`services[i]` for `alerts[i]`) instead of read from the alert's default service labels:
    /// for callers that name services by their own labels (a correlator configured with other
    /// service labels), or that already know every alert's service and need not read its
    /// labels again. Errors when the lengths differ.
    ///
    /// ```
    /// use aiops_core::{Alert, Incident, Labels, Timestamp};
    /// let a = Alert::new(Labels::from_pairs([("app", "cart")]), Timestamp::from_secs(5));
    /// let b = Alert::new(Labels::from_pairs([("app", "db")]), Timestamp::from_secs(1));
    /// let inc = Incident::from_alerts_and_services("i", vec![a, b], &[Some("cart"), Some("db")])?;
    /// assert_eq!(inc.services(), ["cart", "db"]);
    /// assert_eq!(inc.primary_service(), Some("db"));
    /// assert!(Incident::from_alerts_and_services("i", vec![], &[Some("x")]).is_err());
    /// # Ok::<(), aiops_core::CoreError>(())
    /// ```
    pub fn from_alerts_and_services(
        id: impl Into<String>,
        alerts: Vec<Alert>,
        services: &[Option<&str>],
    ) -> Result<Self> {
        if services.len() != alerts.len() {
            return Err(CoreError::PerAlertMismatch {
                what: "services",
                alerts: alerts.len(),
                got: services.len(),
            });
        }
        Self::derive(id.into(), alerts, Some(services))
    }

    fn derive(id: String, alerts: Vec<Alert>, given: Option<&[Option<&str>]>) -> Result<Self> {
        let first = alerts.first().ok_or(CoreError::Empty("incident alerts"))?;
        let mut common = first.labels().clone();
        let mut start = first.starts_at();
        let mut severity = Severity::Info;
        let mut any_firing = false;
        let mut end: Option<Timestamp> = None;
        let mut earliest: Option<(Timestamp, &str)> = None;
        let mut services: Vec<&str> = Vec::new();
        for (i, a) in alerts.iter().enumerate() {
            common = common.intersection(a.labels());
            start = start.min(a.starts_at());
            severity = severity.max(a.severity().unwrap_or_default());
            if a.is_firing() {
                any_firing = true;
            } else if let Some(e) = a.ends_at() {
                end = Some(end.map_or(e, |x| x.max(e)));
            }
            let service = match given {
                Some(g) => g.get(i).copied().flatten(),
                None => a.service(),
            };
            if let Some(s) = service {
                services.push(s);
                let cand = (a.starts_at(), s);
                if earliest.is_none_or(|e| cand < e) {
                    earliest = Some(cand);
                }
            }
        }
        services.sort_unstable();
        services.dedup();
        let services: Vec<String> = services.into_iter().map(str::to_owned).collect();
        let primary_service = earliest.map(|(_, s)| s.to_owned());
        Ok(Incident {
            id,
            services,
            primary_service,
            common_labels: common,
            start,
            end: if any_firing { None } else { end },
            severity,
            root_causes: Vec::new(),
            alerts,
        })
    }

    /// An incident known only by its summary (for example one replayed from a ticket system):
    /// no alerts, the given primary service, severity, labels and start.
    pub fn from_summary(
        id: impl Into<String>,
        service: impl Into<String>,
        severity: Severity,
        labels: Labels,
        start: Timestamp,
    ) -> Self {
        let service = service.into();
        Incident {
            id: id.into(),
            alerts: Vec::new(),
            services: vec![service.clone()],
            primary_service: Some(service),
            common_labels: labels,
            start,
            end: None,
            severity,
            root_causes: Vec::new(),
        }
    }

    /// The same incident, beginning with a firing at `start` on `service` when that came
    /// first (earlier, or as early on a service first by name, the rule of the primary
    /// service): its start moves back to it and, unless root causes are attached, its primary
    /// service becomes that service. An incident holds each alert in its latest state, so a
    /// re-fired alert shows its latest start; a correlator that saw the first firing gives it
    /// here, and the incident's start can then precede every listed alert's `starts_at`.
    #[must_use]
    pub fn with_first_firing(mut self, start: Timestamp, service: Option<&str>) -> Self {
        if let Some(s) = service
            && self.root_causes.is_empty()
        {
            let earlier = match self.primary_service.as_deref() {
                Some(p) => (start, s) < (self.start, p),
                None => start <= self.start,
            };
            if earlier {
                self.primary_service = Some(s.to_owned());
            }
        }
        self.start = self.start.min(start);
        self
    }

    /// Attaches ranked root causes (best first); the best becomes the primary service.
    #[must_use]
    pub fn with_root_causes(mut self, root_causes: Vec<RootCause>) -> Self {
        if let Some(top) = root_causes.first() {
            self.primary_service = Some(top.service.clone());
        }
        self.root_causes = root_causes;
        self
    }

    /// Identifier.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The alerts, in the order given.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }
    /// Services with alerts in this incident, sorted.
    pub fn services(&self) -> &[String] {
        &self.services
    }
    /// The top root cause once ranked, else the earliest alerting service.
    pub fn primary_service(&self) -> Option<&str> {
        self.primary_service.as_deref()
    }
    /// Labels shared (same name and value) by every alert.
    pub fn common_labels(&self) -> &Labels {
        &self.common_labels
    }
    /// Earliest alert start.
    pub fn start(&self) -> Timestamp {
        self.start
    }
    /// Latest alert end, `None` while any alert fires.
    pub fn end(&self) -> Option<Timestamp> {
        self.end
    }
    /// Maximum alert severity.
    pub fn severity(&self) -> Severity {
        self.severity
    }
    /// Ranked root causes, best first (empty until ranked).
    pub fn root_causes(&self) -> &[RootCause] {
        &self.root_causes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_incident_is_an_error() {
        assert_eq!(
            Incident::from_alerts("x", vec![]).unwrap_err(),
            CoreError::Empty("incident alerts")
        );
    }

    #[test]
    fn end_and_ranking() {
        let l = |s: &str| Labels::from_pairs([("service", s)]);
        let a = Alert::new(l("a"), Timestamp::from_secs(5)).resolve(Timestamp::from_secs(50));
        let b = Alert::new(l("b"), Timestamp::from_secs(1)).resolve(Timestamp::from_secs(20));
        let inc = Incident::from_alerts("i", vec![a.clone(), b]).unwrap();
        assert_eq!(inc.end(), Some(Timestamp::from_secs(50)));
        assert_eq!(inc.start(), Timestamp::from_secs(1));
        assert_eq!(inc.primary_service(), Some("b"));
        assert_eq!(inc.severity(), Severity::Medium);
        let firing = Alert::new(l("c"), Timestamp::from_secs(7));
        let inc2 = Incident::from_alerts("j", vec![a, firing]).unwrap();
        assert_eq!(inc2.end(), None);
        let rc = RootCause::try_new(
            "c",
            0.9,
            0.7,
            vec![Evidence::DependencyPath {
                path: vec!["c".into(), "a".into()],
            }],
        )
        .unwrap();
        let ranked = inc2.with_root_causes(vec![rc]);
        assert_eq!(ranked.primary_service(), Some("c"));
        assert_eq!(ranked.root_causes()[0].evidence_path().unwrap().len(), 2);
        assert!(RootCause::try_new("x", f64::NAN, 0.5, vec![]).is_err());
        assert!(RootCause::try_new("x", 0.5, 1.5, vec![]).is_err());
    }
}
