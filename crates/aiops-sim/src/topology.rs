//! Layered microservice topologies: frontends -> applications -> caches/queues -> databases, with
//! every service placed on a host.

use std::collections::HashMap;

use aiops_core::{Criticality, Dependency, ServiceKind, ServiceSpec};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Result, SimError};

/// Smallest topology [`topology`] builds.
pub const MIN_SERVICES: usize = 10;
/// Largest topology [`topology`] builds.
pub const MAX_SERVICES: usize = 10_000;

/// A set of services and their dependencies (`ServiceSpec::dependencies` = the services each one
/// calls or uses, as in aiops-core). With the `serde` feature it reads and writes the article's
/// services config (a JSON array of services).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Topology {
    /// The services: frontends, then applications, caches, queues, databases and hosts.
    pub services: Vec<ServiceSpec>,
}

impl Topology {
    /// Number of services.
    pub fn len(&self) -> usize {
        self.services.len()
    }

    /// Whether there are no services.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    /// The service with this name.
    pub fn get(&self, name: &str) -> Option<&ServiceSpec> {
        self.services.iter().find(|s| s.name() == name)
    }

    /// The names of every service, in order.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.services.iter().map(ServiceSpec::name)
    }

    /// Every service that depends on `name` directly or transitively (`name` excluded), in
    /// breadth-first order. Errors if `name` is not in the topology.
    ///
    /// ```
    /// let t = aiops_sim::topology(30, 1);
    /// let db = t.names().find(|n| n.starts_with("db-")).unwrap();
    /// let up = t.dependents(db)?;
    /// assert!(up.iter().any(|s| s.starts_with("app-")));
    /// # Ok::<(), aiops_sim::SimError>(())
    /// ```
    pub fn dependents(&self, name: &str) -> Result<Vec<String>> {
        let g = Graph::new(self);
        let root = g
            .index_of(name)
            .ok_or_else(|| SimError::UnknownService(name.to_owned()))?;
        let order = g.upstream_bfs(root);
        Ok(order[1..]
            .iter()
            .map(|&i| self.services[i].name().to_owned())
            .collect())
    }
}

/// Index form of a topology: names to indices, both edge directions. Unknown dependency names
/// and repeated services are ignored, so a hand-built topology never makes a generator panic.
pub(crate) struct Graph<'a> {
    index: HashMap<&'a str, usize>,
    /// `users[i]`: services that use `i`.
    pub(crate) users: Vec<Vec<usize>>,
}

impl<'a> Graph<'a> {
    pub(crate) fn new(t: &'a Topology) -> Self {
        let mut index = HashMap::with_capacity(t.services.len());
        for (i, s) in t.services.iter().enumerate() {
            index.entry(s.name()).or_insert(i);
        }
        let n = t.services.len();
        let mut users = vec![Vec::new(); n];
        for (i, s) in t.services.iter().enumerate() {
            for d in s.dependencies() {
                if let Some(&j) = index.get(d.name())
                    && j != i
                {
                    users[j].push(i);
                }
            }
        }
        Graph { index, users }
    }

    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// `root` followed by everything that transitively depends on it, breadth first.
    pub(crate) fn upstream_bfs(&self, root: usize) -> Vec<usize> {
        let mut seen = vec![false; self.users.len()];
        let mut order = vec![root];
        seen[root] = true;
        let mut k = 0;
        while k < order.len() {
            let i = order[k];
            k += 1;
            for &u in &self.users[i] {
                if !seen[u] {
                    seen[u] = true;
                    order.push(u);
                }
            }
        }
        order
    }
}

/// Picks an index in `0..n` favouring small indices (quadratic bias): a few popular shared
/// services get most of the fan-in, as shared databases and caches do in practice.
fn popular(rng: &mut ChaCha8Rng, n: usize) -> usize {
    let u: f64 = rng.r#gen();
    ((u * u * n as f64) as usize).min(n - 1)
}

fn pick_distinct(rng: &mut ChaCha8Rng, n: usize, count: usize, biased: bool, out: &mut Vec<usize>) {
    out.clear();
    let count = count.min(n);
    let mut tries = 0;
    while out.len() < count && tries < count * 8 {
        tries += 1;
        let i = if biased {
            popular(rng, n)
        } else {
            rng.gen_range(0..n)
        };
        if !out.contains(&i) {
            out.push(i);
        }
    }
}

/// Builds a layered topology of `n_services` services (clamped to 10..=10,000); deterministic
/// for `(n_services, seed)`.
///
/// Layers, by share of the services: about 5 % frontends (`frontend-K`, high criticality), the
/// applications (`app-K`, about 55 %), 8 % caches (`cache-K`), 5 % queues (`queue-K`), 12 %
/// databases (`db-K`) and 15 % hosts (`host-K`), each layer at least one. Frontends call 2..=5
/// applications; applications call 0..=3 later applications (so the graph is acyclic), 1..=2
/// databases, 0..=2 caches and sometimes a queue; every application, cache, queue and database
/// runs on one host (frontends on none). Database, cache and application choices favour low
/// indices, so a few shared databases and caches have a large fan-in. Databases and caches used by 4 or more services are high criticality.
///
/// ```
/// let t = aiops_sim::topology(100, 42);
/// assert_eq!(t.len(), 100);
/// assert!(t.names().any(|n| n == "frontend-0") && t.names().any(|n| n == "db-0"));
/// for s in &t.services {
///     for d in s.dependencies() {
///         assert!(t.get(d.name()).is_some() && d.name() != s.name());
///     }
/// }
/// ```
pub fn topology(n_services: usize, seed: u64) -> Topology {
    let n = n_services.clamp(MIN_SERVICES, MAX_SERVICES);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let share = |pct: usize| (n * pct / 100).max(1);
    let (nf, nc, nq, nd, nh) = (share(5), share(8), share(5), share(12), share(15));
    let na = n - nf - nc - nq - nd - nh;

    // Index ranges of each layer in the final vector.
    let f0 = 0;
    let a0 = f0 + nf;
    let c0 = a0 + na;
    let q0 = c0 + nc;
    let d0 = q0 + nq;
    let h0 = d0 + nd;

    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut pick = Vec::new();
    for f in 0..nf {
        let k = rng.gen_range(2..=5);
        pick_distinct(&mut rng, na, k, true, &mut pick);
        deps[f0 + f].extend(pick.iter().map(|&a| a0 + a));
    }
    for a in 0..na {
        let later = na - a - 1;
        if later > 0 {
            let k = rng.gen_range(0..=3);
            pick_distinct(&mut rng, later, k, true, &mut pick);
            deps[a0 + a].extend(pick.iter().map(|&b| a0 + a + 1 + b));
        }
        let k = rng.gen_range(1..=2);
        pick_distinct(&mut rng, nd, k, true, &mut pick);
        deps[a0 + a].extend(pick.iter().map(|&d| d0 + d));
        let k = rng.gen_range(0..=2);
        pick_distinct(&mut rng, nc, k, true, &mut pick);
        deps[a0 + a].extend(pick.iter().map(|&c| c0 + c));
        if rng.gen_bool(0.3) {
            let q = rng.gen_range(0..nq);
            deps[a0 + a].push(q0 + q);
        }
    }
    for (i, d) in deps.iter_mut().enumerate().take(h0) {
        if i >= a0 {
            d.push(h0 + rng.gen_range(0..nh));
        }
    }

    let mut fan_in = vec![0usize; n];
    for d in &deps {
        for &j in d {
            fan_in[j] += 1;
        }
    }
    let name_of = |i: usize| -> String {
        if i < a0 {
            format!("frontend-{}", i - f0)
        } else if i < c0 {
            format!("app-{}", i - a0)
        } else if i < q0 {
            format!("cache-{}", i - c0)
        } else if i < d0 {
            format!("queue-{}", i - q0)
        } else if i < h0 {
            format!("db-{}", i - d0)
        } else {
            format!("host-{}", i - h0)
        }
    };
    let names: Vec<String> = (0..n).map(name_of).collect();
    let mut services = Vec::with_capacity(n);
    for i in 0..n {
        let (kind, criticality) = if i < a0 {
            (ServiceKind::Application, Criticality::High)
        } else if i < c0 {
            let c = match rng.gen_range(0..10) {
                0..=1 => Criticality::High,
                2..=7 => Criticality::Medium,
                _ => Criticality::Low,
            };
            (ServiceKind::Application, c)
        } else if i < q0 || (d0..h0).contains(&i) {
            let kind = if i < q0 {
                ServiceKind::Cache
            } else {
                ServiceKind::Database
            };
            let c = if fan_in[i] >= 4 {
                Criticality::High
            } else {
                Criticality::Medium
            };
            (kind, c)
        } else if i < d0 {
            (ServiceKind::Queue, Criticality::Medium)
        } else {
            (ServiceKind::Host, Criticality::Medium)
        };
        // Names are non-empty and dependencies distinct and never the service itself, so the
        // validating constructors cannot fail; a failure would only drop that edge.
        let mut spec = match ServiceSpec::try_new(names[i].clone(), kind) {
            Ok(s) => s.with_criticality(criticality),
            Err(_) => continue,
        };
        for &j in &deps[i] {
            let next = spec.clone().depends_on(Dependency::new(names[j].clone()));
            if let Ok(s) = next {
                spec = s;
            }
        }
        services.push(spec);
    }
    Topology { services }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_clamped_and_names_layered() {
        assert_eq!(topology(0, 1).len(), 10);
        assert_eq!(topology(20_000, 1).len(), 10_000);
        let t = topology(10, 3);
        let prefixes: Vec<&str> = t
            .names()
            .map(|n| n.rsplit_once('-').map_or(n, |(p, _)| p))
            .collect();
        assert_eq!(
            prefixes,
            [
                "frontend", "app", "app", "app", "app", "app", "cache", "queue", "db", "host"
            ]
        );
    }

    #[test]
    fn deterministic_per_seed() {
        assert_eq!(topology(200, 9), topology(200, 9));
        assert_ne!(topology(200, 9), topology(200, 10));
    }

    #[test]
    fn shared_databases_have_large_fan_in() {
        let t = topology(1000, 5);
        let g = Graph::new(&t);
        let db_fan_in: Vec<usize> = t
            .services
            .iter()
            .enumerate()
            .filter(|(_, s)| *s.kind() == ServiceKind::Database)
            .map(|(i, _)| g.users[i].len())
            .collect();
        let max = *db_fan_in.iter().max().unwrap_or(&0);
        let mean = db_fan_in.iter().sum::<usize>() as f64 / db_fan_in.len() as f64;
        // ~500 apps use 1-2 of 120 databases: mean ~6, the most popular one far above it.
        assert!(mean > 3.0 && mean < 10.0, "mean {mean}");
        assert!(max as f64 > 4.0 * mean, "max {max} mean {mean}");
    }

    #[test]
    fn graph_is_acyclic_and_hosts_are_leaves() {
        let t = topology(500, 2);
        let g = Graph::new(&t);
        // Every edge goes to a later index: a topological order exists.
        for (i, s) in t.services.iter().enumerate() {
            for d in s.dependencies() {
                let j = g.index_of(d.name()).unwrap();
                assert!(j > i, "{} -> {}", s.name(), d.name());
            }
        }
        for s in &t.services {
            if *s.kind() == ServiceKind::Host {
                assert!(s.dependencies().is_empty());
            } else {
                assert_eq!(
                    s.dependencies()
                        .iter()
                        .filter(|d| d.name().starts_with("host-"))
                        .count(),
                    usize::from(!s.name().starts_with("frontend-"))
                );
            }
        }
    }

    #[test]
    fn dependents_are_transitive_and_unknown_names_are_errors() {
        let t = Topology {
            services: vec![
                ServiceSpec::try_new("a", ServiceKind::Application)
                    .and_then(|s| s.depends_on(Dependency::new("b")))
                    .unwrap(),
                ServiceSpec::try_new("b", ServiceKind::Application)
                    .and_then(|s| s.depends_on(Dependency::new("c")))
                    .and_then(|s| s.depends_on(Dependency::new("missing")))
                    .unwrap(),
                ServiceSpec::try_new("c", ServiceKind::Database).unwrap(),
            ],
        };
        assert_eq!(t.dependents("c").unwrap(), ["b", "a"]);
        assert!(t.dependents("a").unwrap().is_empty());
        assert_eq!(
            t.dependents("zzz"),
            Err(SimError::UnknownService("zzz".into()))
        );
    }
}
