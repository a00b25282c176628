#![doc = include_str!("../README.md")]

mod error;
mod metrics;
mod series;
mod storm;
mod topology;

pub use error::{Result, SimError};
pub use metrics::{
    IncidentMetrics, METRICS, MINUTES_AFTER, MINUTES_BEFORE, ServiceMetric, incident_metrics,
    incident_metrics_for, try_incident_metrics,
};
pub use series::{AnomalyKind, AnomalyWindow, LabelledSeries, SeriesSpec, labelled_series};
pub use storm::{
    InjectedIncident, MAX_CASCADE_DELAY_SECS, MAX_DURATION_SECS, MAX_INCIDENTS, MAX_NOISE_ALERTS,
    Storm, StormSpec, storm,
};
pub use topology::{MAX_SERVICES, MIN_SERVICES, Topology, topology};
