//! PageRank by power iteration on a compressed sparse (CSR) graph, as `networkx.pagerank`
//! defines it.

use crate::error::{RcaError, Result};

/// A directed, weighted graph in compressed sparse form, stored by target node so one
/// PageRank iteration is a sequential gather.
///
/// Parallel edges are summed (as networkx does for multigraphs); self-loops are kept.
///
/// ```
/// use aiops_rca::{CsrGraph, PageRankParams, pagerank};
///
/// // 0 -> 1, 1 -> 2, 2 -> 0: a cycle, so every node gets 1/3.
/// let g = CsrGraph::from_edges(3, &[(0, 1, 1.0), (1, 2, 1.0), (2, 0, 1.0)])?;
/// let pr = pagerank(&g, &PageRankParams::default())?;
/// assert!(pr.iter().all(|x| (x - 1.0 / 3.0).abs() < 1e-9));
/// # Ok::<(), aiops_rca::RcaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CsrGraph {
    n: usize,
    /// `in_offsets[j]..in_offsets[j + 1]` index the in-edges of node `j`.
    in_offsets: Vec<usize>,
    sources: Vec<u32>,
    /// Edge weight divided by its source's total out-weight (row-stochastic transition).
    transition: Vec<f64>,
    /// Per node, the sum of its out-weights relative to the largest of them (0: dangling).
    out_weight: Vec<f64>,
}

impl CsrGraph {
    /// A graph on nodes `0..n` with edges `(from, to, weight)`; weights must be finite and
    /// non-negative, indices below `n`.
    pub fn from_edges(n: usize, edges: &[(usize, usize, f64)]) -> Result<Self> {
        if n > u32::MAX as usize {
            return Err(RcaError::InvalidParameter {
                name: "n",
                reason: format!("at most {} nodes, got {n}", u32::MAX),
            });
        }
        let mut sorted: Vec<(usize, usize, f64)> = Vec::with_capacity(edges.len());
        let mut out_weight = vec![0.0; n];
        // Per source, the largest out-weight: weights are summed relative to it, so finite
        // weights near f64::MAX cannot overflow the sum (and leak the walk's mass).
        let mut out_max = vec![0.0f64; n];
        for &(a, b, w) in edges {
            for i in [a, b] {
                if i >= n {
                    return Err(RcaError::NodeOutOfRange { index: i, nodes: n });
                }
            }
            if !(w.is_finite() && w >= 0.0) {
                return Err(RcaError::InvalidParameter {
                    name: "weight",
                    reason: format!(
                        "edge {a} -> {b} has weight {w}; weights must be finite and >= 0"
                    ),
                });
            }
            out_max[a] = out_max[a].max(w);
            sorted.push((b, a, w));
        }
        for &(_, a, w) in &sorted {
            if out_max[a] > 0.0 {
                out_weight[a] += w / out_max[a];
            }
        }
        sorted.sort_by_key(|x| (x.0, x.1));
        // Merge parallel edges, each weight relative to its source's largest.
        let mut merged: Vec<(usize, usize, f64)> = Vec::with_capacity(sorted.len());
        for (t, a, w) in sorted {
            let w = if out_max[a] > 0.0 {
                w / out_max[a]
            } else {
                0.0
            };
            match merged.last_mut() {
                Some(last) if last.0 == t && last.1 == a => last.2 += w,
                _ => merged.push((t, a, w)),
            }
        }
        let mut in_offsets = vec![0usize; n + 1];
        for &(t, _, _) in &merged {
            in_offsets[t + 1] += 1;
        }
        for i in 0..n {
            in_offsets[i + 1] += in_offsets[i];
        }
        let sources = merged.iter().map(|e| e.1 as u32).collect();
        let transition = merged
            .iter()
            .map(|&(_, s, w)| {
                if out_weight[s] > 0.0 {
                    w / out_weight[s]
                } else {
                    0.0
                }
            })
            .collect();
        Ok(CsrGraph {
            n,
            in_offsets,
            sources,
            transition,
            out_weight,
        })
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.n
    }
    /// Number of distinct edges (parallel edges merged).
    pub fn edge_count(&self) -> usize {
        self.sources.len()
    }
    /// Whether a node has no out-weight (networkx's dangling nodes).
    pub fn is_dangling(&self, node: usize) -> bool {
        self.out_weight.get(node).is_some_and(|w| *w == 0.0)
    }
}

/// PageRank parameters; the defaults are networkx's (`alpha` 0.85, `max_iter` 100,
/// `tol` 1e-6, uniform personalisation, dangling nodes jump by the personalisation).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PageRankParams {
    /// Damping factor in `[0, 1]`.
    pub alpha: f64,
    /// Iteration limit; not converging by then is [`RcaError::NotConverged`].
    pub max_iter: usize,
    /// Convergence: stop when the L1 change of an iteration is below `n * tol`.
    pub tol: f64,
    /// Teleport distribution (any non-negative weights with a positive sum; normalised).
    pub personalization: Option<Vec<f64>>,
    /// Where dangling nodes' mass goes (normalised); defaults to the personalisation.
    pub dangling: Option<Vec<f64>>,
}

impl Default for PageRankParams {
    fn default() -> Self {
        PageRankParams {
            alpha: 0.85,
            max_iter: 100,
            tol: 1e-6,
            personalization: None,
            dangling: None,
        }
    }
}

impl PageRankParams {
    /// Sets the damping factor.
    #[must_use]
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }
    /// Sets the personalisation vector (one weight per node).
    #[must_use]
    pub fn personalization(mut self, p: Vec<f64>) -> Self {
        self.personalization = Some(p);
        self
    }
    /// Sets the dangling-node distribution (one weight per node).
    #[must_use]
    pub fn dangling(mut self, d: Vec<f64>) -> Self {
        self.dangling = Some(d);
        self
    }
    /// Sets the iteration limit and tolerance.
    #[must_use]
    pub fn convergence(mut self, max_iter: usize, tol: f64) -> Self {
        self.max_iter = max_iter;
        self.tol = tol;
        self
    }
}

fn distribution(what: &'static str, v: Option<&Vec<f64>>, n: usize) -> Result<Vec<f64>> {
    let Some(v) = v else {
        return Ok(vec![1.0 / n as f64; n]);
    };
    if v.len() != n {
        return Err(RcaError::LengthMismatch {
            what,
            got: v.len(),
            expected: n,
        });
    }
    if let Some((i, x)) = v
        .iter()
        .enumerate()
        .find(|(_, x)| !(x.is_finite() && **x >= 0.0))
    {
        return Err(RcaError::InvalidParameter {
            name: what,
            reason: format!("entry {i} is {x}; entries must be finite and >= 0"),
        });
    }
    // Relative to the largest entry, so finite entries near f64::MAX cannot overflow the sum.
    let top = v.iter().copied().fold(0.0f64, f64::max);
    if top <= 0.0 {
        return Err(RcaError::InvalidParameter {
            name: what,
            reason: "entries sum to 0".into(),
        });
    }
    let s: f64 = v.iter().map(|x| x / top).sum();
    Ok(v.iter().map(|x| x / top / s).collect())
}

/// PageRank of every node, equal to `networkx.pagerank` (same start vector, iteration,
/// dangling handling and stopping rule). An empty graph gives an empty vector.
pub fn pagerank(g: &CsrGraph, params: &PageRankParams) -> Result<Vec<f64>> {
    let n = g.n;
    if !(0.0..=1.0).contains(&params.alpha) {
        return Err(RcaError::InvalidParameter {
            name: "alpha",
            reason: format!("must be in [0, 1], got {}", params.alpha),
        });
    }
    if !(params.tol.is_finite() && params.tol > 0.0) {
        return Err(RcaError::InvalidParameter {
            name: "tol",
            reason: format!("must be finite and > 0, got {}", params.tol),
        });
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    let p = distribution("personalization", params.personalization.as_ref(), n)?;
    let dw = match &params.dangling {
        None => p.clone(),
        Some(_) => distribution("dangling", params.dangling.as_ref(), n)?,
    };
    let dangling: Vec<usize> = (0..n).filter(|&i| g.out_weight[i] == 0.0).collect();
    let alpha = params.alpha;
    let mut x = vec![1.0 / n as f64; n];
    let mut next = vec![0.0; n];
    let mut err = f64::INFINITY;
    for _ in 0..params.max_iter {
        let dsum: f64 = dangling.iter().map(|&i| x[i]).sum();
        err = 0.0;
        for j in 0..n {
            let mut acc = 0.0;
            for k in g.in_offsets[j]..g.in_offsets[j + 1] {
                acc += x[g.sources[k] as usize] * g.transition[k];
            }
            let v = alpha * (acc + dsum * dw[j]) + (1.0 - alpha) * p[j];
            err += (v - x[j]).abs();
            next[j] = v;
        }
        std::mem::swap(&mut x, &mut next);
        if err < n as f64 * params.tol {
            return Ok(x);
        }
    }
    Err(RcaError::NotConverged {
        max_iter: params.max_iter,
        last_error: err,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_near_the_largest_float_keep_the_mass() {
        // Out-weights summing beyond f64::MAX: each edge is half the mass, not 0.
        let g = CsrGraph::from_edges(3, &[(0, 1, 1e308), (0, 2, 1e308)]).unwrap();
        let huge = pagerank(&g, &PageRankParams::default()).unwrap();
        let unit = pagerank(
            &CsrGraph::from_edges(3, &[(0, 1, 1.0), (0, 2, 1.0)]).unwrap(),
            &PageRankParams::default(),
        )
        .unwrap();
        for (a, b) in huge.iter().zip(&unit) {
            assert!((a - b).abs() < 1e-12, "{huge:?} vs {unit:?}");
        }
        assert!((huge.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // Parallel edges that overflow when merged.
        let g = CsrGraph::from_edges(2, &[(0, 1, 1e308), (0, 1, 1e308), (1, 0, 1.0)]).unwrap();
        let r = pagerank(&g, &PageRankParams::default()).unwrap();
        assert!(
            (r[0] - 0.5).abs() < 1e-9 && (r[1] - 0.5).abs() < 1e-9,
            "{r:?}"
        );
        // A personalisation summing beyond f64::MAX is a distribution all the same.
        let g = CsrGraph::from_edges(2, &[(0, 1, 1.0), (1, 0, 1.0)]).unwrap();
        let r = pagerank(
            &g,
            &PageRankParams::default().personalization(vec![1e308, 1e308]),
        )
        .unwrap();
        assert!(
            (r[0] - 0.5).abs() < 1e-9 && (r[1] - 0.5).abs() < 1e-9,
            "{r:?}"
        );
    }

    #[test]
    fn hand_computed_two_nodes() {
        // 0 -> 1 only; node 1 dangling. Stationary: x0 = 0.15/2 + 0.85*x1/2,
        // x1 = 0.15/2 + 0.85*(x0 + x1/2), x0 + x1 = 1 -> x0 = 0.5/1.85*... solve by hand:
        // x0 = 0.075 + 0.425 x1 and x0 + x1 = 1 -> 1 - x1 = 0.075 + 0.425 x1 -> x1 = 0.925/1.425.
        let g = CsrGraph::from_edges(2, &[(0, 1, 1.0)]).unwrap();
        let pr = pagerank(&g, &PageRankParams::default().convergence(1000, 1e-15)).unwrap();
        let x1 = 0.925 / 1.425;
        assert!((pr[1] - x1).abs() < 1e-12, "{pr:?}");
        assert!((pr[0] - (1.0 - x1)).abs() < 1e-12);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(matches!(
            CsrGraph::from_edges(2, &[(0, 2, 1.0)]),
            Err(RcaError::NodeOutOfRange { index: 2, nodes: 2 })
        ));
        assert!(CsrGraph::from_edges(2, &[(0, 1, f64::NAN)]).is_err());
        let g = CsrGraph::from_edges(2, &[(0, 1, 1.0)]).unwrap();
        assert!(pagerank(&g, &PageRankParams::default().alpha(1.5)).is_err());
        assert!(pagerank(&g, &PageRankParams::default().personalization(vec![1.0])).is_err());
        assert!(
            pagerank(
                &g,
                &PageRankParams::default().personalization(vec![0.0, 0.0])
            )
            .is_err()
        );
        assert!(matches!(
            pagerank(&g, &PageRankParams::default().convergence(1, 1e-12)),
            Err(RcaError::NotConverged { max_iter: 1, .. })
        ));
        assert_eq!(
            pagerank(
                &CsrGraph::from_edges(0, &[]).unwrap(),
                &PageRankParams::default()
            )
            .unwrap(),
            Vec::<f64>::new()
        );
    }

    #[test]
    fn parallel_edges_sum() {
        let a = CsrGraph::from_edges(3, &[(0, 1, 1.0), (0, 1, 1.0), (0, 2, 2.0)]).unwrap();
        let b = CsrGraph::from_edges(3, &[(0, 1, 2.0), (0, 2, 2.0)]).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.edge_count(), 2);
        assert!(a.is_dangling(1) && !a.is_dangling(0));
    }

    proptest::proptest! {
        #[test]
        fn sums_to_one_and_is_positive(
            edges in proptest::collection::vec((0usize..15, 0usize..15, 0.1f64..5.0), 0..60),
            pers in proptest::collection::vec(0.0f64..1.0, 15),
        ) {
            let g = CsrGraph::from_edges(15, &edges).unwrap();
            let mut params = PageRankParams::default();
            if pers.iter().sum::<f64>() > 0.0 {
                params = params.personalization(pers);
            }
            let pr = pagerank(&g, &params).unwrap();
            let s: f64 = pr.iter().sum();
            proptest::prop_assert!((s - 1.0).abs() < 1e-6, "sum {}", s);
            proptest::prop_assert!(pr.iter().all(|x| *x >= 0.0));
        }
    }
}
