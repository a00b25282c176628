//! Alertmanager webhook payloads (version 4) and the alert-file formats the data tools read.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::{Alert, AlertStatus, Labels};

/// The JSON body Alertmanager POSTs to a webhook receiver (`version: "4"`).
///
/// Unknown fields are ignored, so payloads of later Alertmanager versions still read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebhookPayload {
    /// Payload version, `"4"` for every Alertmanager since 0.x.
    #[serde(default)]
    pub version: String,
    /// Key identifying the alert group.
    #[serde(default)]
    pub group_key: String,
    /// How many alerts were left out because of the receiver's `max_alerts`.
    #[serde(default)]
    pub truncated_alerts: u64,
    /// `firing` if any alert of the group fires, else `resolved`.
    pub status: AlertStatus,
    /// The receiver's name.
    #[serde(default)]
    pub receiver: String,
    /// Labels the group is keyed by.
    #[serde(default)]
    pub group_labels: Labels,
    /// Labels common to all alerts of the payload.
    #[serde(default)]
    pub common_labels: Labels,
    /// Annotations common to all alerts of the payload.
    #[serde(default)]
    pub common_annotations: Labels,
    /// Alertmanager's external URL.
    #[serde(default, rename = "externalURL")]
    pub external_url: String,
    /// The alerts.
    pub alerts: Vec<Alert>,
}

impl WebhookPayload {
    /// Parses one payload, with errors that name the line, column and field.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| CoreError::Json(e.to_string()))
    }
}

/// Reads alerts from any of the shapes the data tools accept: a webhook payload, a JSON array
/// of payloads, or a JSON array of alerts in the webhook's alert shape. Alerts come back in
/// input order after flattening (record `i` is the `i`-th alert met).
///
/// ```
/// let json = r#"[{"labels": {"alertname": "Down", "service": "db"}, "startsAt": "2024-01-01T00:00:00Z"}]"#;
/// let alerts = aiops_core::parse_alerts_json(json)?;
/// assert_eq!(alerts[0].service(), Some("db"));
/// assert!(aiops_core::parse_alerts_json("{").is_err());
/// # Ok::<(), aiops_core::CoreError>(())
/// ```
pub fn parse_alerts_json(text: &str) -> Result<Vec<Alert>> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| CoreError::Json(e.to_string()))?;
    let is_payload =
        |v: &serde_json::Value| v.get("alerts").is_some_and(serde_json::Value::is_array);
    match value {
        serde_json::Value::Object(_) if is_payload(&value) => {
            let p: WebhookPayload = serde_json::from_value(value).map_err(|e| CoreError::Json(format!("webhook payload: {e}")))?;
            Ok(p.alerts)
        }
        serde_json::Value::Array(items) => {
            let mut out = Vec::new();
            for (i, item) in items.into_iter().enumerate() {
                if is_payload(&item) {
                    let p: WebhookPayload =
                        serde_json::from_value(item).map_err(|e| CoreError::Json(format!("payload {i}: {e}")))?;
                    out.extend(p.alerts);
                } else {
                    let a: Alert = serde_json::from_value(item).map_err(|e| CoreError::Json(format!("alert {i}: {e}")))?;
                    out.push(a);
                }
            }
            Ok(out)
        }
        _ => Err(CoreError::Json(
            "expected a webhook payload (an object with \"alerts\"), an array of payloads, or an array of alerts".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;

    const PAYLOAD: &str = r#"{
      "receiver": "aiops", "status": "firing", "version": "4", "groupKey": "{}:{alertname=\"Down\"}",
      "truncatedAlerts": 0, "groupLabels": {"alertname": "Down"}, "commonLabels": {"alertname": "Down"},
      "commonAnnotations": {}, "externalURL": "http://localhost:9093", "newFieldFromTheFuture": [1, 2],
      "alerts": [
        {"status": "firing", "labels": {"alertname": "Down", "service": "db"}, "annotations": {"summary": "x"},
         "startsAt": "2024-01-01T00:00:00.123456789Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "http://prom/graph", "fingerprint": "ffffffffffffffff"},
        {"status": "resolved", "labels": {"alertname": "Down", "service": "api"},
         "startsAt": "2024-01-01T00:00:00+01:00", "endsAt": "2024-01-01T00:05:00Z"}
      ]}"#;

    #[test]
    fn reads_a_payload_ignoring_unknown_fields() {
        let p = WebhookPayload::from_json(PAYLOAD).unwrap();
        assert_eq!(p.alerts.len(), 2);
        let a = &p.alerts[0];
        assert_eq!(a.ends_at(), None);
        assert_eq!(a.starts_at().as_millis(), 1_704_067_200_123);
        assert_eq!(
            a.fingerprint(),
            a.labels().fingerprint(),
            "the fingerprint is recomputed from labels"
        );
        assert_eq!(p.alerts[1].status(), AlertStatus::Resolved);
        assert_eq!(
            p.alerts[1].starts_at(),
            Timestamp::parse("2023-12-31T23:00:00Z").unwrap()
        );
        let back = WebhookPayload::from_json(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn every_accepted_shape() {
        assert_eq!(parse_alerts_json(PAYLOAD).unwrap().len(), 2);
        assert_eq!(
            parse_alerts_json(&format!("[{PAYLOAD}, {PAYLOAD}]"))
                .unwrap()
                .len(),
            4
        );
        let e = parse_alerts_json(r#"[{"labels": {}}]"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("alert 0") && e.contains("startsAt"), "{e}");
        let e = parse_alerts_json(r#"{"x": 1}"#).unwrap_err().to_string();
        assert!(e.contains("expected a webhook payload"), "{e}");
        let e = parse_alerts_json("[1,").unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
        let e = parse_alerts_json(r#"[{"labels": {"a": "b"}, "startsAt": "yesterday"}]"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("yesterday"), "{e}");
    }
}
