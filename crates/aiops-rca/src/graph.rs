//! The service dependency graph, with precomputed reachability.

use std::collections::VecDeque;

use aiops_core::{Criticality, ServiceKind, ServiceSpec};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::bitset;
use crate::error::{RcaError, Result};
use crate::fnv::FastMap;
use crate::pagerank::CsrGraph;

/// How [`ServiceGraph::with_options`] treats questionable input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct GraphOptions {
    /// Add a node (kind `other("unknown")`, medium criticality) for every dependency name that no
    /// spec defines, instead of returning [`RcaError::UnknownDependency`].
    pub add_unknown_dependencies: bool,
    /// Most bytes the reachability bitsets may take (default 4 GiB); a larger graph is
    /// [`RcaError::TooLarge`] before anything is allocated. They take two bits per pair of
    /// strongly connected components and services: about 25 MB at 10,000 services without
    /// cycles, 2.5 GB at 100,000 (where the allocation alone takes seconds).
    pub max_reachability_bytes: usize,
}

/// The default [`GraphOptions::max_reachability_bytes`]: 4 GiB, about 130,000 services.
pub const DEFAULT_MAX_REACHABILITY_BYTES: usize = 1 << 32;

impl Default for GraphOptions {
    fn default() -> Self {
        GraphOptions {
            add_unknown_dependencies: false,
            max_reachability_bytes: DEFAULT_MAX_REACHABILITY_BYTES,
        }
    }
}

impl GraphOptions {
    /// Sets [`GraphOptions::max_reachability_bytes`].
    #[must_use]
    pub fn max_reachability_bytes(mut self, bytes: usize) -> Self {
        self.max_reachability_bytes = bytes;
        self
    }

    /// Sets [`GraphOptions::add_unknown_dependencies`].
    #[must_use]
    pub fn add_unknown_dependencies(mut self, yes: bool) -> Self {
        self.add_unknown_dependencies = yes;
        self
    }
}

/// The article's service dependency graph: one node per service, one edge
/// `dependency -> dependent` per declared dependency, weighted, with the node's kind and
/// criticality. Cycles are allowed.
///
/// Reachability ([`ServiceGraph::has_path`]) is answered in O(1) from bitsets over the
/// strongly connected components, computed once when the graph is built (for 10,000 services
/// about 25 MB and well under a second; they grow with the square of the services, up to
/// [`GraphOptions::max_reachability_bytes`]).
///
/// ```
/// use aiops_core::{Dependency, ServiceKind, ServiceSpec};
/// use aiops_rca::ServiceGraph;
///
/// let specs = vec![
///     ServiceSpec::try_new("api", ServiceKind::Application)?.depends_on(Dependency::new("db"))?,
///     ServiceSpec::try_new("db", ServiceKind::Database)?,
/// ];
/// let g = ServiceGraph::from_specs(&specs)?;
/// assert!(g.has_path("db", "api"));   // dependency -> dependent
/// assert!(!g.has_path("api", "db"));
/// assert_eq!(g.path("db", "api"), Some(vec!["db".to_string(), "api".to_string()]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ServiceGraph {
    names: Vec<String>,
    /// The names again, shared: explanations hold them without allocating.
    shared_names: Vec<std::sync::Arc<str>>,
    index: FastMap<String, usize>,
    kinds: Vec<ServiceKind>,
    criticality: Vec<Criticality>,
    graph: DiGraph<(), f64, u32>,
    scc_of: Vec<u32>,
    scc_words: usize,
    node_words: usize,
    /// Per SCC: the SCCs reachable from it (itself included), as a bitset over SCC ids.
    descendants: Vec<u64>,
    /// Per SCC: the services that reach it (its own included), as a bitset over service ids.
    ancestors: Vec<u64>,
    /// The reversed graph (dependent -> dependency) in CSR form for the rankers' walks, built
    /// on first use: building and sorting it for every ranked incident took 8 % of ranking a
    /// 3,000-service storm's incidents.
    walk: std::sync::OnceLock<Result<CsrGraph>>,
}

impl ServiceGraph {
    /// Builds the graph; unknown dependency names, duplicate services and self-loops are errors.
    pub fn from_specs(specs: &[ServiceSpec]) -> Result<Self> {
        Self::with_options(specs, GraphOptions::default())
    }

    /// Builds the graph with explicit options.
    pub fn with_options(specs: &[ServiceSpec], options: GraphOptions) -> Result<Self> {
        let mut names = Vec::with_capacity(specs.len());
        let mut index = FastMap::with_capacity_and_hasher(
            specs.len(),
            std::hash::BuildHasherDefault::default(),
        );
        let mut kinds = Vec::with_capacity(specs.len());
        let mut criticality = Vec::with_capacity(specs.len());
        for s in specs {
            if index.insert(s.name().to_owned(), names.len()).is_some() {
                return Err(RcaError::DuplicateService(s.name().to_owned()));
            }
            names.push(s.name().to_owned());
            kinds.push(s.kind().clone());
            criticality.push(s.criticality());
        }
        let mut edges = Vec::new();
        for (to, s) in specs.iter().enumerate() {
            for d in s.dependencies() {
                if d.name() == s.name() {
                    return Err(RcaError::SelfLoop(s.name().to_owned()));
                }
                let from = match index.get(d.name()) {
                    Some(&i) => i,
                    None if options.add_unknown_dependencies => {
                        index.insert(d.name().to_owned(), names.len());
                        names.push(d.name().to_owned());
                        kinds.push(ServiceKind::Other("unknown".into()));
                        criticality.push(Criticality::Medium);
                        names.len() - 1
                    }
                    None => {
                        return Err(RcaError::UnknownDependency {
                            service: s.name().to_owned(),
                            dependency: d.name().to_owned(),
                        });
                    }
                };
                edges.push((from, to, d.weight()));
            }
        }
        let mut graph = DiGraph::with_capacity(names.len(), edges.len());
        for _ in 0..names.len() {
            graph.add_node(());
        }
        for &(a, b, w) in &edges {
            graph.add_edge(NodeIndex::new(a), NodeIndex::new(b), w);
        }
        let mut g = ServiceGraph {
            shared_names: names
                .iter()
                .map(|n| std::sync::Arc::from(n.as_str()))
                .collect(),
            names,
            index,
            kinds,
            criticality,
            graph,
            scc_of: Vec::new(),
            scc_words: 0,
            node_words: 0,
            descendants: Vec::new(),
            ancestors: Vec::new(),
            walk: std::sync::OnceLock::new(),
        };
        g.build_reachability(options.max_reachability_bytes)?;
        Ok(g)
    }

    fn build_reachability(&mut self, max_bytes: usize) -> Result<()> {
        let n = self.names.len();
        // Tarjan returns SCCs in reverse topological order: every edge goes from a later SCC
        // to an earlier one (or stays inside one).
        let sccs = petgraph::algo::tarjan_scc(&self.graph);
        let k = sccs.len();
        let bytes = k
            .saturating_mul(bitset::words(k).saturating_add(bitset::words(n)))
            .saturating_mul(8);
        if bytes > max_bytes {
            return Err(RcaError::TooLarge {
                what: "the service graph's reachability bitsets (bytes)",
                got: bytes,
                limit: max_bytes,
                hint: "they grow with the square of the services; raise \
                       GraphOptions::max_reachability_bytes if the memory is there",
            });
        }
        let mut scc_of = vec![0u32; n];
        for (c, members) in sccs.iter().enumerate() {
            for v in members {
                scc_of[v.index()] = c as u32;
            }
        }
        let sw = bitset::words(k);
        let nw = bitset::words(n);
        let mut desc = vec![0u64; k * sw];
        for (c, members) in sccs.iter().enumerate() {
            bitset::set(&mut desc[c * sw..(c + 1) * sw], c);
            for v in members {
                for e in self.graph.edges(*v) {
                    let d = scc_of[e.target().index()] as usize;
                    if d != c {
                        // d < c: already complete.
                        let (lo, hi) = desc.split_at_mut(c * sw);
                        bitset::or_into(&mut hi[..sw], &lo[d * sw..(d + 1) * sw]);
                    }
                }
            }
        }
        let mut anc = vec![0u64; k * nw];
        for c in (0..k).rev() {
            for v in &sccs[c] {
                bitset::set(&mut anc[c * nw..(c + 1) * nw], v.index());
                for e in self.graph.edges_directed(*v, petgraph::Direction::Incoming) {
                    let p = scc_of[e.source().index()] as usize;
                    if p != c {
                        // p > c: already complete.
                        let (lo, hi) = anc.split_at_mut(p * nw);
                        bitset::or_into(&mut lo[c * nw..(c + 1) * nw], &hi[..nw]);
                    }
                }
            }
        }
        self.scc_of = scc_of;
        self.scc_words = sw;
        self.node_words = nw;
        self.descendants = desc;
        self.ancestors = anc;
        Ok(())
    }

    /// Number of services.
    pub fn len(&self) -> usize {
        self.names.len()
    }
    /// Whether there are no services.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
    /// Number of dependency edges.
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }
    /// Whether a service of this name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }
    /// The dense index (0..len) of a service.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }
    /// The name of the service with this index.
    pub fn name(&self, index: usize) -> Option<&str> {
        self.names.get(index).map(String::as_str)
    }
    /// The shared name of the service with this index.
    pub(crate) fn shared_name(&self, index: usize) -> Option<&std::sync::Arc<str>> {
        self.shared_names.get(index)
    }
    /// All service names, in index order (specs first, in their order, then added unknowns).
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// The kind of a service.
    pub fn kind(&self, name: &str) -> Option<&ServiceKind> {
        self.index_of(name).map(|i| &self.kinds[i])
    }
    /// The criticality of a service.
    pub fn criticality(&self, name: &str) -> Option<Criticality> {
        self.index_of(name).map(|i| self.criticality[i])
    }
    pub(crate) fn criticality_at(&self, i: usize) -> Criticality {
        self.criticality[i]
    }
    /// The services `name` depends on, with edge weights.
    pub fn dependencies(&self, name: &str) -> Vec<(&str, f64)> {
        self.neighbours(name, petgraph::Direction::Incoming)
    }
    /// The services that depend on `name`, with edge weights.
    pub fn dependents(&self, name: &str) -> Vec<(&str, f64)> {
        self.neighbours(name, petgraph::Direction::Outgoing)
    }
    fn neighbours(&self, name: &str, dir: petgraph::Direction) -> Vec<(&str, f64)> {
        let Some(i) = self.index_of(name) else {
            return Vec::new();
        };
        let mut v: Vec<(&str, f64)> = self
            .graph
            .edges_directed(NodeIndex::new(i), dir)
            .map(|e| {
                let other = if dir == petgraph::Direction::Outgoing {
                    e.target()
                } else {
                    e.source()
                };
                (self.names[other.index()].as_str(), *e.weight())
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }
    /// Every edge as `(dependency index, dependent index, weight)`.
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        self.graph
            .edge_references()
            .map(|e| (e.source().index(), e.target().index(), *e.weight()))
    }

    /// Whether `to` is reachable from `from` along dependency -> dependent edges (a service
    /// reaches itself, as in networkx). Unknown names give `false`. O(1).
    pub fn has_path(&self, from: &str, to: &str) -> bool {
        match (self.index_of(from), self.index_of(to)) {
            (Some(a), Some(b)) => self.has_path_index(a, b),
            _ => false,
        }
    }

    /// The reversed graph (each edge dependent -> dependency, with its weight) as a
    /// [`CsrGraph`], built once and shared by every ranking on this graph.
    pub(crate) fn walk_graph(&self) -> Result<&CsrGraph> {
        self.walk
            .get_or_init(|| {
                let edges: Vec<(usize, usize, f64)> =
                    self.edges().map(|(dep, user, w)| (user, dep, w)).collect();
                CsrGraph::from_edges(self.len(), &edges)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// [`ServiceGraph::has_path`] by index; out-of-range indices give `false`.
    pub fn has_path_index(&self, from: usize, to: usize) -> bool {
        if from >= self.len() || to >= self.len() {
            return false;
        }
        let a = self.scc_of[from] as usize;
        let b = self.scc_of[to] as usize;
        bitset::get(
            &self.descendants[a * self.scc_words..(a + 1) * self.scc_words],
            b,
        )
    }

    /// The strongly connected component of a service (an index into the bitsets of
    /// [`ServiceGraph::descendant_sccs`]).
    pub(crate) fn scc_index(&self, index: usize) -> usize {
        self.scc_of[index] as usize
    }

    /// The number of strongly connected components (the width of
    /// [`ServiceGraph::descendant_sccs`]' bitsets, in bits).
    pub(crate) fn scc_count(&self) -> usize {
        self.descendants.len() / self.scc_words.max(1)
    }

    /// The components reachable from service `index` (its own included), as a bitset over
    /// component ids: `to` is reachable from `index` when bit [`ServiceGraph::scc_index`]`(to)`
    /// is set. For testing many targets from one service without a call per pair.
    pub(crate) fn descendant_sccs(&self, index: usize) -> &[u64] {
        let a = self.scc_of[index] as usize;
        &self.descendants[a * self.scc_words..(a + 1) * self.scc_words]
    }

    /// The services from which `index` is reachable (itself included), as a bitset over
    /// service indices.
    pub(crate) fn ancestor_bits(&self, index: usize) -> &[u64] {
        let c = self.scc_of[index] as usize;
        &self.ancestors[c * self.node_words..(c + 1) * self.node_words]
    }

    pub(crate) fn node_words(&self) -> usize {
        self.node_words
    }

    /// A shortest dependency path from `from` to `to` (both included), or `None`.
    pub fn path(&self, from: &str, to: &str) -> Option<Vec<String>> {
        let (a, b) = (self.index_of(from)?, self.index_of(to)?);
        self.path_index(a, b)
            .map(|p| p.into_iter().map(|i| self.names[i].clone()).collect())
    }

    pub(crate) fn path_index(&self, a: usize, b: usize) -> Option<Vec<usize>> {
        self.path_index_with(a, b, &mut PathScratch::default())
    }

    /// [`ServiceGraph::path`] by index, reusing `scratch` between calls (a ranking asks for
    /// one path per candidate). The breadth-first search visits only the services from which
    /// `b` is reachable: any node that discovers such a service first reaches `b` itself, so
    /// the search finds exactly the path the unpruned search would (same queue order among
    /// them), while a candidate far upstream no longer walks its whole downstream graph. At
    /// 3,000 services this was 40 % of ranking a storm's incidents.
    pub(crate) fn path_index_with(
        &self,
        a: usize,
        b: usize,
        scratch: &mut PathScratch,
    ) -> Option<Vec<usize>> {
        if !self.has_path_index(a, b) {
            return None;
        }
        // Node indices are below u32::MAX (petgraph's u32 index refuses that one), so no index
        // equals the `prev` sentinel.
        debug_assert!(self.len() < u32::MAX as usize);
        let reaches_b = self.ancestor_bits(b);
        scratch.start(self.len(), a);
        let PathScratch {
            prev,
            queue,
            touched,
        } = scratch;
        let mut found = false;
        while let Some(v) = queue.pop_front() {
            if v == b {
                found = true;
                break;
            }
            for e in self.graph.edges(NodeIndex::new(v)) {
                let t = e.target().index();
                if prev[t] == u32::MAX && bitset::get(reaches_b, t) {
                    prev[t] = v as u32;
                    touched.push(t);
                    queue.push_back(t);
                }
            }
        }
        let path = found.then(|| {
            let mut path = vec![b];
            let mut cur = b;
            while cur != a {
                cur = prev[cur] as usize;
                path.push(cur);
            }
            path.reverse();
            path
        });
        scratch.reset();
        path
    }

    /// A shortest path from each of `froms` to `b` (`None` where there is none), in one
    /// breadth-first search backwards from `b` over its ancestors: a ranking asks for paths
    /// from many candidates to one symptom, and a forward search per candidate was 55-76 % of
    /// ranking an incident on 1,000-4,000 services. Among paths of equal length the search
    /// may pick another one than [`ServiceGraph::path_index_with`].
    pub(crate) fn paths_to(
        &self,
        froms: &[usize],
        b: usize,
        scratch: &mut PathScratch,
    ) -> Vec<Option<Vec<usize>>> {
        if b >= self.len() {
            return vec![None; froms.len()];
        }
        scratch.start(self.len(), b);
        let PathScratch {
            prev: next,
            queue,
            touched,
        } = scratch;
        while let Some(v) = queue.pop_front() {
            for e in self
                .graph
                .edges_directed(NodeIndex::new(v), petgraph::Direction::Incoming)
            {
                let u = e.source().index();
                if next[u] == u32::MAX {
                    next[u] = v as u32;
                    touched.push(u);
                    queue.push_back(u);
                }
            }
        }
        let paths = froms
            .iter()
            .map(|&a| {
                (a < self.len() && next[a] != u32::MAX).then(|| {
                    let mut path = vec![a];
                    let mut cur = a;
                    while cur != b {
                        cur = next[cur] as usize;
                        path.push(cur);
                    }
                    path
                })
            })
            .collect();
        scratch.reset();
        paths
    }

    /// Indices of the direct dependencies of a node.
    pub(crate) fn dependency_indices(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph
            .edges_directed(NodeIndex::new(i), petgraph::Direction::Incoming)
            .map(|e| e.source().index())
    }

    /// Indices of the direct dependents of a node (the services that depend on it), one per
    /// edge.
    pub(crate) fn dependent_indices(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph
            .edges(NodeIndex::new(i))
            .map(|e| e.target().index())
    }

    /// Out-edges of a node as (target, weight), for algorithms.
    #[cfg(test)]
    pub(crate) fn out_edges(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.graph
            .edges(NodeIndex::new(i))
            .map(|e| (e.target().index(), *e.weight()))
    }
}

/// Reusable buffers of [`ServiceGraph::path_index_with`].
#[derive(Debug, Default)]
pub(crate) struct PathScratch {
    /// Per service: the node it was discovered from, `u32::MAX` when not yet.
    prev: Vec<u32>,
    queue: VecDeque<usize>,
    /// Services whose `prev` is set, to reset them after a search.
    touched: Vec<usize>,
}

impl PathScratch {
    /// Starts a search of a graph of `len` services at `root` (its own `prev`).
    fn start(&mut self, len: usize, root: usize) {
        if self.prev.len() < len {
            self.prev.resize(len, u32::MAX);
        }
        self.queue.clear();
        self.prev[root] = root as u32;
        self.touched.push(root);
        self.queue.push_back(root);
    }

    /// Clears what the search set, for the next one.
    fn reset(&mut self) {
        for &t in &self.touched {
            self.prev[t] = u32::MAX;
        }
        self.touched.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aiops_core::Dependency;

    fn spec(name: &str, deps: &[&str]) -> ServiceSpec {
        let mut s = ServiceSpec::try_new(name, ServiceKind::Application).unwrap();
        for d in deps {
            s = s.depends_on(Dependency::new(*d)).unwrap();
        }
        s
    }

    #[test]
    fn errors_name_the_bad_value() {
        let e = ServiceGraph::from_specs(&[spec("a", &["ghost"])]).unwrap_err();
        assert_eq!(
            e,
            RcaError::UnknownDependency {
                service: "a".into(),
                dependency: "ghost".into()
            }
        );
        assert!(e.to_string().contains("ghost"));
        let e = ServiceGraph::from_specs(&[spec("a", &[]), spec("a", &[])]).unwrap_err();
        assert_eq!(e, RcaError::DuplicateService("a".into()));
        let g = ServiceGraph::with_options(
            &[spec("a", &["ghost"])],
            GraphOptions::default().add_unknown_dependencies(true),
        )
        .unwrap();
        assert_eq!(g.len(), 2);
        assert!(g.has_path("ghost", "a"));
        assert_eq!(g.kind("ghost"), Some(&ServiceKind::Other("unknown".into())));
    }

    #[test]
    fn a_graph_beyond_the_memory_limit_is_refused_before_allocating() {
        // 1,000 services in a chain: 1,000 x (16 + 16) words of 8 bytes = 256,000 bytes.
        let specs: Vec<ServiceSpec> = (0..1000)
            .map(|i| {
                let dep = format!("s{}", i + 1);
                let deps: &[&str] = if i < 999 { &[dep.as_str()] } else { &[] };
                spec(&format!("s{i}"), deps)
            })
            .collect();
        let limited = |bytes| {
            ServiceGraph::with_options(
                &specs,
                GraphOptions::default().max_reachability_bytes(bytes),
            )
        };
        let e = limited(255_999).unwrap_err();
        assert!(
            matches!(
                e,
                RcaError::TooLarge {
                    got: 256_000,
                    limit: 255_999,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("max_reachability_bytes"), "{e}");
        assert!(limited(256_000).unwrap().has_path("s999", "s0"));
        assert_eq!(
            GraphOptions::default().max_reachability_bytes,
            DEFAULT_MAX_REACHABILITY_BYTES
        );
    }

    #[test]
    fn cycles_and_reachability_match_a_search() {
        // a -> b -> c -> a (cycle), c -> d, e isolated; edges are dependency -> dependent.
        let specs = [
            spec("a", &["c"]),
            spec("b", &["a"]),
            spec("c", &["b"]),
            spec("d", &["c"]),
            spec("e", &[]),
        ];
        let g = ServiceGraph::from_specs(&specs).unwrap();
        for x in ["a", "b", "c"] {
            for y in ["a", "b", "c", "d"] {
                assert!(g.has_path(x, y), "{x}->{y}");
            }
            assert!(!g.has_path("d", x));
            assert!(!g.has_path(x, "e"));
        }
        assert!(g.has_path("e", "e"));
        assert!(!g.has_path("a", "nope"));
        assert_eq!(g.path("a", "d").unwrap(), ["a", "b", "c", "d"]);
        assert_eq!(g.path("d", "a"), None);
        assert_eq!(g.dependencies("d"), vec![("c", 1.0)]);
        assert_eq!(g.dependents("c"), vec![("a", 1.0), ("d", 1.0)]);
    }

    proptest::proptest! {
        #[test]
        fn bitsets_agree_with_bfs(edges in proptest::collection::vec((0usize..12, 0usize..12), 0..40)) {
            let n = 12;
            let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
            for (a, b) in edges {
                if a != b && !deps[b].contains(&a) {
                    deps[b].push(a);
                }
            }
            let specs: Vec<ServiceSpec> = (0..n)
                .map(|i| {
                    let names: Vec<String> = deps[i].iter().map(|d| format!("s{d}")).collect();
                    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                    spec(&format!("s{i}"), &refs)
                })
                .collect();
            let g = ServiceGraph::from_specs(&specs).unwrap();
            for a in 0..n {
                // Plain DFS as the reference.
                let mut seen = vec![false; n];
                let mut stack = vec![a];
                seen[a] = true;
                while let Some(v) = stack.pop() {
                    for (t, _) in g.out_edges(v) {
                        if !seen[t] { seen[t] = true; stack.push(t); }
                    }
                }
                for (b, &reach) in seen.iter().enumerate() {
                    proptest::prop_assert_eq!(g.has_path_index(a, b), reach);
                    proptest::prop_assert_eq!(bitset::get(g.ancestor_bits(b), a), reach);
                    proptest::prop_assert_eq!(g.path_index(a, b).is_some(), reach);
                }
            }
            // The pruned search, its buffers reused across every pair, finds exactly the path
            // of a plain breadth-first search over the whole graph.
            let mut scratch = PathScratch::default();
            for a in 0..n {
                let mut prev = vec![usize::MAX; n];
                prev[a] = a;
                let mut queue = VecDeque::from([a]);
                while let Some(v) = queue.pop_front() {
                    for (t, _) in g.out_edges(v) {
                        if prev[t] == usize::MAX {
                            prev[t] = v;
                            queue.push_back(t);
                        }
                    }
                }
                for b in 0..n {
                    let want = (prev[b] != usize::MAX).then(|| {
                        let mut path = vec![b];
                        while *path.last().unwrap() != a {
                            path.push(prev[*path.last().unwrap()]);
                        }
                        path.reverse();
                        path
                    });
                    proptest::prop_assert_eq!(g.path_index_with(a, b, &mut scratch), want);
                }
            }
            // The backward search from each target, its buffers reused: from every service, a
            // path along edges exactly when one exists, and a shortest one.
            let froms: Vec<usize> = (0..n).collect();
            for b in 0..n {
                let paths = g.paths_to(&froms, b, &mut scratch);
                for (a, p) in paths.into_iter().enumerate() {
                    let forward = g.path_index(a, b);
                    proptest::prop_assert_eq!(p.is_some(), forward.is_some());
                    if let (Some(p), Some(f)) = (p, forward) {
                        proptest::prop_assert_eq!(p.len(), f.len());
                        proptest::prop_assert_eq!((p[0], *p.last().unwrap()), (a, b));
                        for w in p.windows(2) {
                            proptest::prop_assert!(g.out_edges(w[0]).any(|(t, _)| t == w[1]));
                        }
                    }
                }
            }
            proptest::prop_assert!(g.paths_to(&[0, n], n, &mut scratch).iter().all(Option::is_none));
        }
    }
}
