//! Round trips through JSON with the `serde` feature.
#![cfg(feature = "serde")]

use aiops_sim::{AnomalyKind, SeriesSpec, Storm, StormSpec, Topology, storm, topology};

#[test]
fn specs_round_trip_and_missing_fields_take_defaults() {
    let spec = SeriesSpec {
        kinds: vec![AnomalyKind::LevelShift],
        ..SeriesSpec::default()
    };
    let json = serde_json::to_string(&spec).unwrap();
    assert!(json.contains(r#""kinds":["level_shift"]"#), "{json}");
    assert_eq!(serde_json::from_str::<SeriesSpec>(&json).unwrap(), spec);
    let partial: SeriesSpec = serde_json::from_str(r#"{"len": 100}"#).unwrap();
    assert_eq!(partial.len, 100);
    assert_eq!(partial.step_secs, 300);
    let storm_spec: StormSpec = serde_json::from_str(r#"{"incidents": 3}"#).unwrap();
    assert_eq!(storm_spec.incidents, 3);
    assert_eq!(storm_spec.noise_alerts, StormSpec::small().noise_alerts);
}

#[test]
fn topology_is_the_services_config_and_storms_round_trip() {
    let t = topology(12, 1);
    let json = serde_json::to_string(&t).unwrap();
    assert!(json.starts_with(r#"[{"name":"frontend-0""#), "{json}");
    assert_eq!(serde_json::from_str::<Topology>(&json).unwrap(), t);

    let s = storm(&t, &StormSpec::small(), 1);
    let back: Storm = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back.incident_of, s.incident_of);
    assert_eq!(back.incidents, s.incidents);
    assert_eq!(back.alerts.len(), s.alerts.len());
    for (a, b) in back.alerts.iter().zip(&s.alerts) {
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.starts_at(), b.starts_at());
        assert_eq!(a.ends_at(), b.ends_at());
    }
}
