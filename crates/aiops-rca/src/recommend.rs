//! Remediation recommendations by service kind.

use std::collections::BTreeMap;

use aiops_core::ServiceKind;

/// A table from service kind to recommended actions: the article's (database, network,
/// application; anything else "Manual investigation"), extended for cache, queue and host.
/// Replace or extend entries with [`Recommendations::set`].
///
/// ```
/// use aiops_core::ServiceKind;
/// use aiops_rca::{Recommendations, recommend};
///
/// assert_eq!(recommend(&ServiceKind::Database)[0], "Check slow-query logs");
/// let mut table = Recommendations::default();
/// table.set(&ServiceKind::Database, ["Page the DBA"]);
/// assert_eq!(table.recommend(&ServiceKind::Database), ["Page the DBA"]);
/// assert_eq!(table.recommend(&ServiceKind::Other("mainframe".into())), ["Manual investigation"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recommendations {
    table: BTreeMap<String, Vec<String>>,
    fallback: Vec<String>,
}

/// The table key of a kind: a custom kind apart from the built-in ones, so that
/// `ServiceKind::Other("database")` neither reads nor replaces the `Database` entry (the two are
/// different kinds, as `PartialEq` says).
fn key(kind: &ServiceKind) -> String {
    match kind {
        ServiceKind::Other(name) => format!("other:{name}"),
        known => known.as_str().to_owned(),
    }
}

fn strings<I: IntoIterator<Item = S>, S: Into<String>>(v: I) -> Vec<String> {
    v.into_iter().map(Into::into).collect()
}

impl Default for Recommendations {
    fn default() -> Self {
        let mut r = Recommendations::empty(["Manual investigation"]);
        r.set(
            &ServiceKind::Database,
            [
                "Check slow-query logs",
                "Analyze lock waits",
                "Inspect connection-pool config",
            ],
        );
        r.set(
            &ServiceKind::Network,
            [
                "Check latency",
                "Analyze packet loss",
                "Review firewall rules",
            ],
        );
        r.set(
            &ServiceKind::Application,
            [
                "Check error logs",
                "Analyze GC",
                "Inspect thread-pool status",
            ],
        );
        r.set(
            &ServiceKind::Cache,
            [
                "Check hit ratio and evictions",
                "Inspect memory usage and maxmemory policy",
                "Check connection count and latency",
            ],
        );
        r.set(
            &ServiceKind::Queue,
            [
                "Check consumer lag",
                "Inspect broker disk and partitions",
                "Check producer and consumer error rates",
            ],
        );
        r.set(
            &ServiceKind::Host,
            [
                "Check CPU, memory and disk saturation",
                "Inspect kernel and system logs",
                "Check network interface errors",
            ],
        );
        r
    }
}

impl Recommendations {
    /// An empty table answering `fallback` for every kind.
    pub fn empty<I: IntoIterator<Item = S>, S: Into<String>>(fallback: I) -> Self {
        Recommendations {
            table: BTreeMap::new(),
            fallback: strings(fallback),
        }
    }
    /// Sets (replaces) the actions for a kind.
    pub fn set<I: IntoIterator<Item = S>, S: Into<String>>(
        &mut self,
        kind: &ServiceKind,
        actions: I,
    ) {
        self.table.insert(key(kind), strings(actions));
    }
    /// The actions for a kind, or the fallback.
    pub fn recommend(&self, kind: &ServiceKind) -> &[String] {
        self.table.get(&key(kind)).unwrap_or(&self.fallback)
    }
}

/// The default table's actions for a kind.
pub fn recommend(kind: &ServiceKind) -> Vec<String> {
    Recommendations::default().recommend(kind).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A custom kind named like a built-in one was the built-in one: `Other("database")` got
    /// the database actions, and setting it replaced them.
    #[test]
    fn a_custom_kind_named_like_a_built_in_one_is_its_own_entry() {
        let custom = ServiceKind::Other("database".into());
        assert_eq!(recommend(&custom), ["Manual investigation"]);
        let mut t = Recommendations::default();
        t.set(&custom, ["mainframe db2 runbook"]);
        assert_eq!(t.recommend(&custom), ["mainframe db2 runbook"]);
        assert_eq!(
            t.recommend(&ServiceKind::Database)[0],
            "Check slow-query logs"
        );
    }

    #[test]
    fn the_articles_table() {
        assert_eq!(
            recommend(&ServiceKind::Database),
            [
                "Check slow-query logs",
                "Analyze lock waits",
                "Inspect connection-pool config"
            ]
        );
        assert_eq!(
            recommend(&ServiceKind::Network),
            [
                "Check latency",
                "Analyze packet loss",
                "Review firewall rules"
            ]
        );
        assert_eq!(
            recommend(&ServiceKind::Application),
            [
                "Check error logs",
                "Analyze GC",
                "Inspect thread-pool status"
            ]
        );
        assert_eq!(
            recommend(&ServiceKind::Other("x".into())),
            ["Manual investigation"]
        );
        for k in [ServiceKind::Cache, ServiceKind::Queue, ServiceKind::Host] {
            assert_eq!(recommend(&k).len(), 3);
        }
        let r = Recommendations::empty(["ask"]);
        assert_eq!(r.recommend(&ServiceKind::Database), ["ask"]);
    }
}
