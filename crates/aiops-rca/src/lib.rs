#![doc = include_str!("../README.md")]
// Prose names algorithms and libraries (PageRank, networkx) without code formatting.
#![allow(clippy::doc_markdown)]

mod bitset;
mod correlate;
mod error;
mod fnv;
mod graph;
mod pagerank;

pub use correlate::{
    CorrelatedIncident, Correlation, CorrelationStream, Correlator, CorrelatorConfig,
    IncidentEvent, Merge, MergeRule,
};
pub use error::{RcaError, Result};
pub use graph::{GraphOptions, ServiceGraph};
pub use pagerank::{CsrGraph, PageRankParams, pagerank};
