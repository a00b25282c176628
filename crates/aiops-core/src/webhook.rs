//! Alertmanager webhook payloads (version 4) and the alert-file formats the data tools read.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

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
    /// Parses one payload. A leading UTF-8 byte-order mark is skipped. Errors name the line and
    /// column; an alert that cannot be read is [`CoreError::InvalidAlert`] with its index and
    /// the line its object starts on.
    pub fn from_json(text: &str) -> Result<Self> {
        let text = strip_bom(text);
        let top: &RawValue = serde_json::from_str(text).map_err(|e| syntax_error(&e))?;
        read_payload(text, top.get(), 0, "webhook payload")
    }
}

/// Reads alerts from any of the shapes the data tools accept: a webhook payload, a JSON array
/// of payloads, or a JSON array of alerts in the webhook's alert shape. Alerts come back in
/// input order after flattening (record `i` is the `i`-th alert met). A leading UTF-8
/// byte-order mark is skipped.
///
/// An alert that cannot be read (a missing `startsAt`, a time that does not parse, an `endsAt`
/// before its `startsAt`) is [`CoreError::InvalidAlert`], naming its record number, the line
/// its object starts on and the position of the fault; other faults are [`CoreError::Json`]
/// with the line and column.
///
/// An object is a payload when it has an `alerts` array and neither `labels` nor `startsAt`,
/// and an alert otherwise; unknown fields of either are ignored. An object with an `alerts`
/// array *and* `labels` or `startsAt` could be either (a payload with stray alert fields, or an
/// alert with a stray `alerts`), so it is a [`CoreError::Json`] naming the item and the
/// ambiguity rather than a guess that could drop an alert.
///
/// ```
/// let json = r#"[{"labels": {"alertname": "Down", "service": "db"}, "startsAt": "2024-01-01T00:00:00Z"}]"#;
/// let alerts = aiops_core::parse_alerts_json(json)?;
/// assert_eq!(alerts[0].service(), Some("db"));
/// assert!(aiops_core::parse_alerts_json("{").is_err());
/// let two_lines = "[{\"labels\": {}, \"startsAt\": 0},\n {\"labels\": {}}]";
/// let e = aiops_core::parse_alerts_json(two_lines);
/// assert_eq!(
///     e.unwrap_err().to_string(),
///     "alert 1 (line 2): missing field `startsAt` at line 2 column 15"
/// );
/// # Ok::<(), aiops_core::CoreError>(())
/// ```
pub fn parse_alerts_json(text: &str) -> Result<Vec<Alert>> {
    let text = strip_bom(text);
    // Parsed as raw slices of `text` first, so every error can be placed in the document.
    let top: &RawValue = serde_json::from_str(text).map_err(|e| syntax_error(&e))?;
    let top = top.get();
    match top.as_bytes().first() {
        Some(b'{') if classify(text, top, "the top-level object")? == Kind::Payload => {
            Ok(read_payload(text, top, 0, "webhook payload")?.alerts)
        }
        Some(b'[') => {
            let items: Vec<&RawValue> =
                serde_json::from_str(top).map_err(|e| CoreError::Json(relocated(text, top, &e)))?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let item = item.get();
                if classify(text, item, &format!("item {i}"))? == Kind::Payload {
                    let what = format!("payload {i}");
                    out.extend(read_payload(text, item, out.len(), &what)?.alerts);
                } else {
                    out.push(read_alert(text, item, out.len())?);
                }
            }
            Ok(out)
        }
        _ => Err(CoreError::Json(
            "expected a webhook payload (an object with \"alerts\"), an array of payloads, or an array of alerts".into(),
        )),
    }
}

/// The text without a leading UTF-8 byte-order mark (some Windows tools write one).
pub(crate) fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Only the `alerts` field of an object, as raw JSON.
#[derive(Deserialize)]
struct AlertsField<'a> {
    #[serde(borrow, default)]
    alerts: Option<&'a RawValue>,
}

/// The fields that tell a payload from an alert: whether `alerts` is an array, and whether
/// `labels` and `startsAt` are there at all (with any value, `null` included).
#[derive(Deserialize)]
struct ShapeFields<'a> {
    #[serde(borrow, default)]
    alerts: Option<&'a RawValue>,
    #[serde(default, deserialize_with = "present")]
    labels: bool,
    #[serde(default, rename = "startsAt", deserialize_with = "present")]
    starts_at: bool,
}

/// `true` for a field that is there, whatever its value.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

/// What an item of an alerts document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Payload,
    Alert,
}

/// Whether `json` (a slice of `doc`, named `what` in errors) is a webhook payload (an object
/// with an `alerts` array and no `labels` or `startsAt`) or an alert (anything else; reading
/// it reports what is wrong). An object with an `alerts` array and `labels` or `startsAt` is
/// an error: either reading could be meant, and guessing "payload" silently dropped an alert
/// that carried a stray `alerts` field.
fn classify(doc: &str, json: &str, what: &str) -> Result<Kind> {
    if !json.starts_with('{') {
        return Ok(Kind::Alert);
    }
    // `json` is one valid JSON object, so the only error here is a field given twice. The
    // alert reader names a repeated `labels` or `startsAt`; a repeated `alerts`, which it
    // ignores, is an error here (such an object was read as an alert whatever else it held,
    // or at the top as neither shape, "expected a webhook payload").
    let Ok(f) = serde_json::from_str::<ShapeFields<'_>>(json) else {
        if let Err(e) = serde_json::from_str::<AlertsField<'_>>(json) {
            return Err(CoreError::Json(format!(
                "{what}: {}",
                relocated(doc, json, &e)
            )));
        }
        return Ok(Kind::Alert);
    };
    if !f.alerts.is_some_and(|a| a.get().starts_with('[')) {
        return Ok(Kind::Alert);
    }
    if !(f.labels || f.starts_at) {
        return Ok(Kind::Payload);
    }
    let (line, column) = position(doc, json);
    let fields = match (f.labels, f.starts_at) {
        (true, true) => "\"labels\" and \"startsAt\"",
        (true, false) => "\"labels\"",
        _ => "\"startsAt\"",
    };
    Err(CoreError::Json(format!(
        "{what} at line {line} column {column} is ambiguous: it has an \"alerts\" array, as a \
         webhook payload does, and {fields}, as an alert does; remove the fields of the shape \
         it is not"
    )))
}

/// Reads the payload `json` (a slice of `doc`) whose first alert is record `first_record`.
fn read_payload(doc: &str, json: &str, first_record: usize, what: &str) -> Result<WebhookPayload> {
    serde_json::from_str(json).or_else(|e| {
        // Find the alert at fault, if one is, to name its record and line.
        if let Ok(AlertsField { alerts: Some(raw) }) = serde_json::from_str(json)
            && let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(raw.get())
        {
            for (j, item) in items.into_iter().enumerate() {
                read_alert(doc, item.get(), first_record + j)?;
            }
        }
        Err(CoreError::Json(format!(
            "{what}: {}",
            relocated(doc, json, &e)
        )))
    })
}

/// Reads one alert whose JSON `json` is a slice of `doc`.
fn read_alert(doc: &str, json: &str, record: usize) -> Result<Alert> {
    serde_json::from_str(json).map_err(|e| CoreError::InvalidAlert {
        record,
        line: position(doc, json).0,
        reason: relocated(doc, json, &e),
    })
}

/// The error's message with its position moved from `part` to the whole `doc`.
pub(crate) fn relocated(doc: &str, part: &str, e: &serde_json::Error) -> String {
    let msg = e.to_string();
    if e.line() == 0 {
        return msg;
    }
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let bare = msg.strip_suffix(&suffix).unwrap_or(&msg);
    let (line, column) = position(doc, part);
    let (line, column) = if e.line() == 1 {
        (line, column + e.column() - 1)
    } else {
        (line + e.line() - 1, e.column())
    };
    format!("{bare} at line {line} column {column}")
}

/// The byte offset in `doc` where `part`, a slice of it, begins (0 if it is not one).
pub(crate) fn offset_in(doc: &str, part: &str) -> usize {
    (part.as_ptr() as usize)
        .checked_sub(doc.as_ptr() as usize)
        .filter(|&o| o <= doc.len())
        .unwrap_or(0)
}

/// 1-based line and column (in bytes, as `serde_json` counts) where `part`, a slice of `doc`,
/// begins.
pub(crate) fn position(doc: &str, part: &str) -> (usize, usize) {
    let offset = offset_in(doc, part);
    let before = &doc.as_bytes()[..offset];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    // One more line than there are newlines before the offset.
    let line = before.split(|&b| b == b'\n').count();
    (line, offset - line_start + 1)
}

fn syntax_error(e: &serde_json::Error) -> CoreError {
    CoreError::Json(e.to_string())
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
    fn arrays_in_place_of_objects_are_errors() {
        // serde's derived structs also read a sequence of their fields; the contract names
        // objects, so these were read as an alert and a service.
        let e = parse_alerts_json(r#"[["firing", {"alertname": "A"}, {}, 0]]"#).unwrap_err();
        assert!(e.to_string().contains("expected an alert object"), "{e}");
        let payload = r#"{"alerts": [["firing", {"alertname": "A"}, {}, 0]]}"#;
        assert!(parse_alerts_json(payload).is_err());
        let e = serde_json::from_str::<Vec<crate::ServiceSpec>>(r#"[["api", "application"]]"#)
            .unwrap_err();
        assert!(
            e.to_string().contains("services-config entry object"),
            "{e}"
        );
        // Objects still read, unknown fields ignored.
        let specs: Vec<crate::ServiceSpec> =
            serde_json::from_str(r#"[{"name": "api", "dependencies": ["db"], "x": 1}]"#).unwrap();
        assert_eq!(specs[0].name(), "api");
    }

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

    /// An object with `alerts` twice escaped the ambiguity check (its shape could not be read,
    /// so it counted as an alert): read as an alert, its `alerts` dropped, or at the top
    /// refused as neither shape.
    #[test]
    fn an_alerts_field_given_twice_is_an_error_naming_it() {
        let e = parse_alerts_json(
            r#"[{"labels": {"a": "b"}, "startsAt": 0, "alerts": [], "alerts": []}]"#,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid JSON: item 0: duplicate field `alerts` at line 1 column 61"
        );
        let top = r#"{"status": "firing", "alerts": [{"labels": {"a": "b"}, "startsAt": 0}],
 "alerts": []}"#;
        let e = parse_alerts_json(top).unwrap_err().to_string();
        assert!(
            e.contains("the top-level object: duplicate field `alerts` at line 2"),
            "{e}"
        );
        // A repeated alert field is still the alert's error, naming its record.
        let e = parse_alerts_json(r#"[{"labels": {}, "labels": {}, "startsAt": 0, "alerts": []}]"#)
            .unwrap_err();
        assert!(
            matches!(&e, CoreError::InvalidAlert { record: 0, reason, .. } if reason.contains("duplicate field `labels`")),
            "{e}"
        );
    }

    #[test]
    fn a_bad_alert_is_named_by_record_and_line() {
        // The third alert of a payload lacks startsAt; its object starts on line 5.
        let payload = r#"{"status": "firing", "alerts": [
  {"labels": {"a": "1"}, "startsAt": 1},
  {"labels": {"a": "2"}, "startsAt": 2},
  {"labels": {"a": "3"},
   "endsAt": 3}
]}"#;
        let err = parse_alerts_json(payload).unwrap_err();
        assert!(
            matches!(
                err,
                CoreError::InvalidAlert {
                    record: 2,
                    line: 4,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "alert 2 (line 4): missing field `startsAt` at line 5 column 15"
        );
        assert_eq!(WebhookPayload::from_json(payload).unwrap_err(), err);
        // In an array of payloads, records are numbered after flattening.
        let two = format!("[{PAYLOAD},\n{payload}]");
        let err = parse_alerts_json(&two).unwrap_err();
        assert!(
            matches!(
                err,
                CoreError::InvalidAlert {
                    record: 4,
                    line: 15,
                    ..
                }
            ),
            "{err:?}"
        );
        // An end before the start names the alert and both times.
        let e = parse_alerts_json(
            r#"[{"labels": {}, "startsAt": 0},
 {"labels": {}, "startsAt": "2024-01-01T00:10:00Z", "endsAt": "2024-01-01T00:00:00Z"}]"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with(
                "alert 1 (line 2): endsAt 2024-01-01T00:00:00Z \
                 is before startsAt 2024-01-01T00:10:00Z"
            ),
            "{e}"
        );
        // A fault in the payload's own fields names the payload and the position.
        let e = parse_alerts_json("[{\"status\": \"on\", \"alerts\": []}]")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("invalid JSON: payload 0: unknown alert status \"on\"")
                && e.contains("line 1"),
            "{e}"
        );
    }

    /// An alert that carried an extra `"alerts": []` (and a `status`) was read as an empty
    /// payload: two alerts in, one out, no error.
    #[test]
    fn an_object_that_is_both_a_payload_and_an_alert_is_an_error() {
        let doc = r#"[{"labels": {"alertname": "A"}, "startsAt": 0},
 {"status": "firing", "labels": {"alertname": "B"}, "startsAt": 0, "alerts": []}]"#;
        let e = parse_alerts_json(doc).unwrap_err();
        assert!(matches!(e, CoreError::Json(_)), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.starts_with("invalid JSON: item 1 at line 2 column 2 is ambiguous")
                && msg.contains("\"labels\" and \"startsAt\""),
            "{msg}"
        );
        // Either alert field alone is enough to make it ambiguous, whatever its value.
        for item in [
            r#"{"status": "firing", "labels": null, "alerts": []}"#,
            r#"{"status": "firing", "startsAt": 0, "alerts": []}"#,
        ] {
            let e = parse_alerts_json(&format!("[{item}]")).unwrap_err();
            assert!(e.to_string().contains("item 0 at line 1"), "{e}");
        }
        // At the top level too: an alert with a stray `alerts` was read as an empty payload.
        let e = parse_alerts_json(
            r#"{"status": "firing", "labels": {"a": "b"}, "startsAt": 0, "alerts": []}"#,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("the top-level object at line 1 column 1 is ambiguous"),
            "{e}"
        );
        // Unknown fields are still ignored: an `alerts` that is not an array does not make a
        // payload, and a payload's unknown fields are not alert fields.
        let alerts = parse_alerts_json(
            r#"[{"labels": {"alertname": "A"}, "startsAt": 0, "alerts": "x"},
                {"status": "firing", "alerts": [{"labels": {"alertname": "B"}, "startsAt": 0}],
                 "commonLabels": {}, "extra": 1}]"#,
        )
        .unwrap();
        let names: Vec<_> = alerts.iter().map(Alert::alertname).collect();
        assert_eq!(names, [Some("A"), Some("B")]);
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let with_bom = format!("\u{feff}{PAYLOAD}");
        assert_eq!(parse_alerts_json(&with_bom).unwrap().len(), 2);
        assert_eq!(
            WebhookPayload::from_json(&with_bom).unwrap(),
            WebhookPayload::from_json(PAYLOAD).unwrap()
        );
        assert_eq!(
            parse_alerts_json("\u{feff}[]").unwrap(),
            Vec::<Alert>::new()
        );
    }
}
