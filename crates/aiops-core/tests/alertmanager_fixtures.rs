//! Fingerprints and webhook payloads recorded from a real Alertmanager (0.25.0) by
//! `scripts/alertmanager_fixtures.sh`; see `tests/fixtures/alertmanager/README.md`.
#![cfg(feature = "serde")]

use aiops_core::{AlertStatus, Fingerprint, Labels, WebhookPayload, parse_alerts_json};

const FINGERPRINTS: &str = include_str!("fixtures/alertmanager/fingerprints.json");
const PAYLOADS: &str = include_str!("fixtures/alertmanager/webhook_payloads.json");

#[derive(serde::Deserialize)]
struct Recorded {
    labels: Labels,
    fingerprint: String,
}

#[test]
fn fingerprints_equal_alertmanagers() {
    let recorded: Vec<Recorded> = serde_json::from_str(FINGERPRINTS).unwrap();
    assert!(
        recorded.len() >= 10,
        "fixture has {} label sets",
        recorded.len()
    );
    for r in &recorded {
        assert_eq!(
            r.labels.fingerprint().to_string(),
            r.fingerprint,
            "labels {}",
            r.labels
        );
        assert_eq!(
            Fingerprint::parse_hex(&r.fingerprint),
            Some(r.labels.fingerprint())
        );
    }
}

#[test]
fn webhook_payloads_read_and_round_trip() {
    let raw: Vec<serde_json::Value> = serde_json::from_str(PAYLOADS).unwrap();
    let mut resolved = 0;
    for value in &raw {
        let text = value.to_string();
        let payload = WebhookPayload::from_json(&text).unwrap();
        assert_eq!(payload.version, "4");
        let wire_alerts = value["alerts"].as_array().unwrap();
        assert_eq!(payload.alerts.len(), wire_alerts.len());
        for (alert, wire) in payload.alerts.iter().zip(wire_alerts) {
            // Our fingerprint, computed from labels, equals the one Alertmanager sent.
            assert_eq!(
                alert.fingerprint().to_string(),
                wire["fingerprint"].as_str().unwrap()
            );
            assert_eq!(alert.status().as_str(), wire["status"].as_str().unwrap());
            if alert.status() == AlertStatus::Resolved {
                resolved += 1;
                assert!(alert.ends_at().is_some_and(|e| e >= alert.starts_at()));
            } else {
                assert_eq!(alert.ends_at(), None, "Go's zero endsAt reads as no end");
            }
        }
        // Writing it back gives the same payload again.
        let again = WebhookPayload::from_json(&serde_json::to_string(&payload).unwrap()).unwrap();
        assert_eq!(again, payload);
    }
    assert!(resolved > 0, "the fixture holds resolved alerts");
    // The whole file is also an accepted alerts file (an array of payloads).
    let flat = parse_alerts_json(PAYLOADS).unwrap();
    assert_eq!(
        flat.len(),
        raw.iter()
            .map(|v| v["alerts"].as_array().unwrap().len())
            .sum::<usize>()
    );
}
