#![doc = include_str!("../README.md")]
// Prose names algorithms and libraries (PageRank, networkx) without code formatting.
#![allow(clippy::doc_markdown)]

mod bitset;
mod correlate;
mod error;
mod fnv;
mod graph;
mod pagerank;
mod rank;
mod recommend;

pub use correlate::{
    CorrelatedIncident, Correlation, CorrelationStream, CorrelationView, Correlator,
    CorrelatorConfig, Grouping, IncidentEvent, IncidentView, Merge, MergeRule, Released,
};
pub use error::{RcaError, Result};
pub use graph::{DEFAULT_MAX_REACHABILITY_BYTES, GraphOptions, ServiceGraph};
pub use pagerank::{CsrGraph, PageRankParams, pagerank};
pub use rank::{
    ARTICLE_MAX_PAIRS, AlertGraphRanker, AlertScore, CombinedRanker, MetricRanker, MetricSeries,
    RankInput, Ranker, TopologyRanker, confidence_from_scores, fit_confidence_exponent,
    is_caller_side_metric, is_counter_metric, is_upward_metric,
};
pub use recommend::{Recommendations, recommend};
