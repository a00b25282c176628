#![doc = include_str!("../README.md")]
// Prose names algorithms and projects (PageRank, AIOps, networkx) without code formatting.
#![allow(clippy::doc_markdown)]

pub use aiops_core as core;

#[cfg(feature = "anomaly")]
pub use aiops_anomaly as anomaly;
#[cfg(feature = "forecast")]
pub use aiops_forecast as forecast;
#[cfg(feature = "heal")]
pub use aiops_heal as heal;
#[cfg(feature = "rca")]
pub use aiops_rca as rca;

mod error;
#[cfg(all(feature = "anomaly", feature = "forecast"))]
pub mod failure;
#[cfg(all(feature = "rca", feature = "heal"))]
pub mod pipeline;

pub use error::{Error, Result};
