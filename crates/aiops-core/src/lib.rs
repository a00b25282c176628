#![doc = include_str!("../README.md")]

mod alert;
mod error;
mod incident;
mod labels;
mod series;
mod service;
#[cfg(feature = "serde")]
mod services_config;
mod severity;
pub mod stats;
mod time;
#[cfg(feature = "serde")]
mod webhook;
#[cfg(feature = "serde")]
mod wire;

pub use alert::{Alert, AlertStatus, INSTANCE_LABELS, SERVICE_LABELS};
pub use error::{CoreError, Result};
pub use incident::{Evidence, Incident, RootCause};
pub use labels::{Fingerprint, Labels};
pub use series::{SeriesSlice, TimeSeries};
pub use service::{Criticality, Dependency, ServiceKind, ServiceSpec};
#[cfg(feature = "serde")]
pub use services_config::ServicesConfig;
pub use severity::Severity;
pub use time::Timestamp;
#[cfg(feature = "serde")]
pub use webhook::{WebhookPayload, parse_alerts_json};
