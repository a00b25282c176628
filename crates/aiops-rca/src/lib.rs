#![doc = include_str!("../README.md")]
// Prose names algorithms and libraries (PageRank, networkx) without code formatting.
#![allow(clippy::doc_markdown)]

mod bitset;
mod error;
mod graph;
mod pagerank;

pub use error::{RcaError, Result};
pub use graph::{GraphOptions, ServiceGraph};
pub use pagerank::{CsrGraph, PageRankParams, pagerank};
