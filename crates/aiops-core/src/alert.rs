//! Alerts in Alertmanager's shape.

use std::fmt;

use crate::error::{CoreError, Result};
use crate::{Fingerprint, Labels, Severity, Timestamp};

/// Label names that name an alert's service, in the order they are looked up.
pub const SERVICE_LABELS: [&str; 4] = ["service", "app", "job", "service_name"];
/// Label names that name an alert's host or instance, in the order they are looked up.
pub const INSTANCE_LABELS: [&str; 4] = ["instance", "host", "hostname", "node"];

/// Whether an alert is still firing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum AlertStatus {
    /// The condition holds.
    #[default]
    Firing,
    /// The condition stopped holding at `ends_at`.
    Resolved,
}

impl AlertStatus {
    /// `"firing"` or `"resolved"`, as Alertmanager writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

impl fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert, as Alertmanager holds and sends it.
///
/// Its identity is the fingerprint of its labels ([`Labels::fingerprint`]); annotations, times
/// and status are not part of it, so a re-fire of the same condition has the same fingerprint.
///
/// ```
/// use aiops_core::{Alert, Labels, Severity, Timestamp};
///
/// let labels = Labels::from_pairs([("alertname", "HighLatency"), ("service", "orders"), ("severity", "warning")]);
/// let alert = Alert::new(labels, Timestamp::from_secs(1_700_000_000));
/// assert_eq!(alert.service(), Some("orders"));
/// assert_eq!(alert.severity(), Some(Severity::Medium));
/// let resolved = alert.clone().resolve(Timestamp::from_secs(1_700_000_300));
/// assert_eq!(resolved.fingerprint(), alert.fingerprint());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    labels: Labels,
    annotations: Labels,
    starts_at: Timestamp,
    ends_at: Option<Timestamp>,
    status: AlertStatus,
    generator_url: String,
    fingerprint: Fingerprint,
    // Derived from `labels` once: both are read for every alert on hot paths.
    severity: Option<Severity>,
}

impl Alert {
    /// A firing alert with these labels, starting at `starts_at`.
    pub fn new(labels: Labels, starts_at: Timestamp) -> Self {
        let fingerprint = labels.fingerprint();
        let severity = labels.get("severity").and_then(|s| s.parse().ok());
        Alert {
            severity,
            labels,
            annotations: Labels::new(),
            starts_at,
            ends_at: None,
            status: AlertStatus::Firing,
            generator_url: String::new(),
            fingerprint,
        }
    }

    /// Sets the annotations (summary, description, runbook...).
    #[must_use]
    pub fn with_annotations(mut self, annotations: Labels) -> Self {
        self.annotations = annotations;
        self
    }

    /// Sets the URL of the rule that generated the alert.
    #[must_use]
    pub fn with_generator_url(mut self, url: impl Into<String>) -> Self {
        self.generator_url = url.into();
        self
    }

    /// Marks the alert resolved at `ends_at`, which must not be earlier than
    /// [`starts_at`](Self::starts_at).
    ///
    /// An earlier end is [`CoreError::EndsBeforeStart`], as Alertmanager rejects it ("start time
    /// must be before end time"); an end equal to the start is allowed.
    ///
    /// ```
    /// use aiops_core::{Alert, CoreError, Labels, Timestamp};
    ///
    /// let labels = Labels::from_pairs([("alertname", "Down")]);
    /// let alert = Alert::new(labels, Timestamp::from_secs(600));
    /// assert!(alert.clone().try_resolve(Timestamp::from_secs(900)).is_ok());
    /// let err = alert.try_resolve(Timestamp::from_secs(0)).unwrap_err();
    /// assert!(matches!(err, CoreError::EndsBeforeStart { .. }));
    /// ```
    pub fn try_resolve(self, ends_at: Timestamp) -> Result<Self> {
        self.check_end(ends_at)?;
        Ok(self.resolve(ends_at))
    }

    /// Like [`try_resolve`](Self::try_resolve), without the check that the end is not before
    /// the start: for times the program made itself. Times read from input go through the
    /// check (the `serde` reader applies it, through `try_with_ends_at`).
    #[must_use]
    pub fn resolve(mut self, ends_at: Timestamp) -> Self {
        self.ends_at = Some(ends_at);
        self.status = AlertStatus::Resolved;
        self
    }

    /// Sets the time until which a firing alert is considered active (Alertmanager's `endsAt`
    /// on a firing alert), `None` for no end; the status stays as it is. An end earlier than
    /// [`starts_at`](Self::starts_at) is [`CoreError::EndsBeforeStart`].
    pub fn try_with_ends_at(self, ends_at: Option<Timestamp>) -> Result<Self> {
        if let Some(end) = ends_at {
            self.check_end(end)?;
        }
        Ok(self.with_ends_at(ends_at))
    }

    /// Like [`try_with_ends_at`](Self::try_with_ends_at), without the check that the end is
    /// not before the start: for times the program made itself.
    #[must_use]
    pub fn with_ends_at(mut self, ends_at: Option<Timestamp>) -> Self {
        self.ends_at = ends_at;
        self
    }

    fn check_end(&self, ends_at: Timestamp) -> Result<()> {
        if ends_at < self.starts_at {
            return Err(CoreError::EndsBeforeStart {
                starts_at: self.starts_at,
                ends_at,
            });
        }
        Ok(())
    }

    /// Sets the status explicitly.
    #[must_use]
    pub fn with_status(mut self, status: AlertStatus) -> Self {
        self.status = status;
        self
    }

    /// The identifying labels.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }
    /// The annotations.
    pub fn annotations(&self) -> &Labels {
        &self.annotations
    }
    /// When the alert started firing.
    pub fn starts_at(&self) -> Timestamp {
        self.starts_at
    }
    /// When it ended (resolved alerts) or is due to end, if known.
    pub fn ends_at(&self) -> Option<Timestamp> {
        self.ends_at
    }
    /// Firing or resolved.
    pub fn status(&self) -> AlertStatus {
        self.status
    }
    /// Whether the alert is firing.
    pub fn is_firing(&self) -> bool {
        self.status == AlertStatus::Firing
    }
    /// The generator URL (empty when unknown).
    pub fn generator_url(&self) -> &str {
        &self.generator_url
    }
    /// Prometheus' fingerprint of the labels, as Alertmanager computes it.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }
    /// The `alertname` label.
    pub fn alertname(&self) -> Option<&str> {
        self.labels.get("alertname")
    }
    /// The service: the first non-empty of the labels `service`, `app`, `job`, `service_name`.
    pub fn service(&self) -> Option<&str> {
        self.labels.get_any(&SERVICE_LABELS)
    }
    /// The host or instance: the first non-empty of `instance`, `host`, `hostname`, `node`.
    pub fn instance(&self) -> Option<&str> {
        self.labels.get_any(&INSTANCE_LABELS)
    }
    /// The `metric_type` label (the article's correlation key).
    pub fn metric_type(&self) -> Option<&str> {
        self.labels.get("metric_type")
    }
    /// The `severity` label, parsed leniently; `None` when missing or not a known spelling.
    pub fn severity(&self) -> Option<Severity> {
        self.severity
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    use std::fmt;

    use super::{Alert, AlertStatus};
    use crate::time::TimestampVisitor;
    use crate::{Labels, Timestamp};
    use serde::de::Visitor;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Alertmanager writes Go's zero time for "no end".
    pub(crate) const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

    impl Serialize for AlertStatus {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(self.as_str())
        }
    }
    impl<'de> Deserialize<'de> for AlertStatus {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let s = String::deserialize(d)?;
            match s.as_str() {
                "firing" => Ok(AlertStatus::Firing),
                "resolved" => Ok(AlertStatus::Resolved),
                other => Err(serde::de::Error::custom(format!(
                    "unknown alert status {other:?} (expected firing or resolved)"
                ))),
            }
        }
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct AlertOut<'a> {
        status: AlertStatus,
        labels: &'a Labels,
        annotations: &'a Labels,
        starts_at: Timestamp,
        ends_at: String,
        #[serde(rename = "generatorURL")]
        generator_url: &'a str,
        fingerprint: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct AlertIn {
        #[serde(default)]
        status: Option<AlertStatus>,
        labels: Labels,
        #[serde(default)]
        annotations: Labels,
        starts_at: Timestamp,
        #[serde(default, deserialize_with = "ends_at")]
        ends_at: Option<Timestamp>,
        #[serde(default, rename = "generatorURL")]
        generator_url: Option<String>,
    }

    /// `endsAt`: the grammar of `startsAt` (text or Unix seconds), or no end when it is null,
    /// empty, or Go's zero time (any year-1 date), which Alertmanager writes for "not set".
    fn ends_at<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        struct EndsAt;
        impl<'de> Visitor<'de> for EndsAt {
            type Value = Option<Timestamp>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp, Unix seconds, Go's zero time or null")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let t = v.trim();
                if t.is_empty() || t.starts_with("0001-01-01") {
                    return Ok(None);
                }
                TimestampVisitor.visit_str(v).map(Some)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
                TimestampVisitor.visit_i64(v).map(Some)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
                TimestampVisitor.visit_u64(v).map(Some)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
                TimestampVisitor.visit_f64(v).map(Some)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                d.deserialize_any(self)
            }
        }
        d.deserialize_any(EndsAt)
    }

    impl Serialize for Alert {
        /// The alert shape of Alertmanager's webhook: `endsAt` is Go's zero time when unknown.
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            AlertOut {
                status: self.status,
                labels: &self.labels,
                annotations: &self.annotations,
                starts_at: self.starts_at,
                ends_at: self
                    .ends_at
                    .map_or_else(|| GO_ZERO_TIME.to_owned(), |t| t.to_string()),
                generator_url: &self.generator_url,
                fingerprint: self.fingerprint.to_string(),
            }
            .serialize(s)
        }
    }

    impl<'de> Deserialize<'de> for Alert {
        /// Reads the webhook alert shape. `labels` and `startsAt` are required; `startsAt` and
        /// `endsAt` take the same timestamp grammar ([`Timestamp::parse`] or the `<n>ms` form
        /// `Display` writes outside its range as text, or Unix seconds as a number). `endsAt` that is null, empty or Go's zero time (or a year-1
        /// date) means no end; an `endsAt` earlier than `startsAt` is an error naming both
        /// ([`CoreError::EndsBeforeStart`](crate::CoreError::EndsBeforeStart)), as in
        /// Alertmanager. A missing `status` is `resolved` when `endsAt` is given and `firing`
        /// otherwise. A `fingerprint` field is ignored: the fingerprint is always computed
        /// from the labels, as Alertmanager computes it. Unknown fields are ignored.
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let w: AlertIn = crate::wire::from_map(d, "an alert")?;
            let status = w.status.unwrap_or(if w.ends_at.is_some() {
                AlertStatus::Resolved
            } else {
                AlertStatus::Firing
            });
            Alert::new(w.labels, w.starts_at)
                .with_annotations(w.annotations)
                .with_generator_url(w.generator_url.unwrap_or_default())
                .try_with_ends_at(w.ends_at)
                .map(|a| a.with_status(status))
                .map_err(serde::de::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors_follow_label_aliases() {
        let a = Alert::new(
            Labels::from_pairs([("job", "api"), ("service", ""), ("hostname", "h1")]),
            Timestamp::EPOCH,
        );
        assert_eq!(
            a.service(),
            Some("api"),
            "empty service label falls through to job"
        );
        assert_eq!(a.instance(), Some("h1"));
        assert_eq!(a.severity(), None);
        assert!(a.is_firing());
        let r = a.clone().resolve(Timestamp::from_secs(9));
        assert_eq!(r.status(), AlertStatus::Resolved);
        assert_eq!(r.ends_at(), Some(Timestamp::from_secs(9)));
        assert_eq!(r.fingerprint(), a.fingerprint());
    }

    #[test]
    fn an_end_before_the_start_is_an_error_naming_both_times() {
        let a = Alert::new(
            Labels::from_pairs([("alertname", "X")]),
            Timestamp::from_secs(600),
        );
        let err = a.clone().try_resolve(Timestamp::from_secs(0)).unwrap_err();
        assert_eq!(
            err,
            CoreError::EndsBeforeStart {
                starts_at: Timestamp::from_secs(600),
                ends_at: Timestamp::EPOCH,
            }
        );
        assert_eq!(
            err.to_string(),
            "endsAt 1970-01-01T00:00:00Z is before startsAt 1970-01-01T00:10:00Z \
             (an alert cannot end before it starts)"
        );
        assert!(
            a.clone()
                .try_with_ends_at(Some(Timestamp::from_millis(599_999)))
                .is_err()
        );
        // Equal times are allowed (Alertmanager only rejects an end strictly before the start),
        // and so is no end.
        let r = a.clone().try_resolve(Timestamp::from_secs(600)).unwrap();
        assert_eq!(r.status(), AlertStatus::Resolved);
        let f = a.try_with_ends_at(None).unwrap();
        assert_eq!((f.ends_at(), f.status()), (None, AlertStatus::Firing));
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serde_checks_the_end_and_reads_both_times_with_one_grammar() {
        let read = |json: &str| serde_json::from_str::<Alert>(json);
        // 2024-01-01T00:00:00Z is 1704067200 (`date -ud @1704067200`).
        let text = read(
            r#"{"labels": {"a": "b"}, "startsAt": "2024-01-01T00:00:00Z",
                "endsAt": "2024-01-01T00:10:00Z"}"#,
        )
        .unwrap();
        let num = read(r#"{"labels": {"a": "b"}, "startsAt": 1704067200, "endsAt": 1704067800}"#)
            .unwrap();
        let frac =
            read(r#"{"labels": {"a": "b"}, "startsAt": 1704067200.0, "endsAt": "1704067800"}"#)
                .unwrap();
        assert_eq!(text.ends_at(), Some(Timestamp::from_secs(1_704_067_800)));
        assert_eq!(num, text);
        assert_eq!(frac, text);
        assert_eq!(num.status(), AlertStatus::Resolved);
        // Go's zero time, null and "" mean "not set", even on a firing alert.
        for end in [r#""0001-01-01T00:00:00Z""#, "null", r#""""#] {
            let a = read(&format!(
                r#"{{"labels": {{"a": "b"}}, "startsAt": 1704067200, "endsAt": {end},
                     "status": "firing"}}"#
            ))
            .unwrap();
            assert_eq!(
                (a.ends_at(), a.status()),
                (None, AlertStatus::Firing),
                "{end}"
            );
        }
        for end in [r#""2024-01-01T00:00:00Z""#, "1704066000", "1704067199.5"] {
            let e = read(&format!(
                r#"{{"labels": {{"a": "b"}}, "startsAt": "2024-01-01T00:10:00Z", "endsAt": {end}}}"#
            ))
            .unwrap_err()
            .to_string();
            assert!(
                e.contains("is before startsAt 2024-01-01T00:10:00Z") && e.contains("endsAt 20"),
                "{end}: {e}"
            );
        }
        let e = read(r#"{"labels": {"a": "b"}, "startsAt": 0, "endsAt": true}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid type: boolean"), "{e}");
    }
}
