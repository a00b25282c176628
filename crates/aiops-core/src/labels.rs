//! Label sets and their Prometheus-compatible fingerprints.

use std::fmt;
use std::sync::Arc;

/// FNV-1a 64-bit offset basis, as in prometheus/common `model/fnv.go`.
const FNV_OFFSET: u64 = 14_695_981_039_346_656_037;
/// FNV-1a 64-bit prime.
const FNV_PRIME: u64 = 1_099_511_628_211;
/// Separator byte Prometheus puts after every label name and value (`model.SeparatorByte`).
const SEPARATOR: u8 = 0xff;

fn fnv_add(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// The identity of a label set, equal to Prometheus' `model.LabelSet.Fingerprint()`.
///
/// Alertmanager identifies (and de-duplicates) alerts by this value and prints it as 16 lower-case
/// hex digits, which is what `Display` and [`Fingerprint::parse_hex`] use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    /// Reads the 16-hex-digit form Alertmanager prints (shorter forms are accepted too).
    pub fn parse_hex(s: &str) -> Option<Fingerprint> {
        if s.is_empty() || s.len() > 16 {
            return None;
        }
        u64::from_str_radix(s, 16).ok().map(Fingerprint)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// A set of label name/value pairs, kept sorted by name, each name at most once.
///
/// As in Prometheus and Alertmanager, a label with an empty value is the same as no label: such
/// pairs are dropped on insertion, so fingerprints agree with Alertmanager's.
///
/// ```
/// use aiops_core::Labels;
///
/// let labels = Labels::from_pairs([("service", "orders"), ("alertname", "HighLatency")]);
/// assert_eq!(labels.get("service"), Some("orders"));
/// // Order of insertion does not matter: the set is sorted.
/// let same = Labels::from_pairs([("alertname", "HighLatency"), ("service", "orders")]);
/// assert_eq!(labels.fingerprint(), same.fingerprint());
/// assert_eq!(labels.fingerprint().to_string().len(), 16);
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Labels(Option<Arc<Vec<(String, String)>>>);
// Shared, copy-on-write storage: alerts are cloned into incidents, events and reports many times
// over, and a label set is almost never changed after construction, so a clone is one atomic
// increment instead of a map of string allocations (the correlator spent about a third of its
// time copying labels before this). The pairs are a vector sorted by name, not a tree: alert
// label sets are small (5-15 labels), and reading them (lookups, iteration, intersections) is
// what the correlator does per alert; with a `BTreeMap` those reads were a quarter of its time.
// The derived order compares the sorted pairs lexicographically, as a map's would.

/// Label sets up to this size are searched by a linear scan (see [`Labels::get`]).
const SMALL: usize = 16;

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Labels {
    /// An empty label set.
    pub fn new() -> Self {
        Labels(None)
    }

    /// The pairs, sorted by name.
    #[inline]
    fn pairs(&self) -> &[(String, String)] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }

    /// The pairs for writing (copied first if shared).
    fn pairs_mut(&mut self) -> &mut Vec<(String, String)> {
        Arc::make_mut(self.0.get_or_insert_with(Arc::default))
    }

    /// A set from sorted, unique, non-empty pairs; the empty set holds no allocation.
    fn from_sorted(pairs: Vec<(String, String)>) -> Self {
        Labels((!pairs.is_empty()).then(|| Arc::new(pairs)))
    }

    /// Builds a set from pairs; a later pair with the same name replaces an earlier one.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut v: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        // Stable: among equal names the later pair stays later, and the last one wins.
        v.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(String, String)> = Vec::with_capacity(v.len());
        for pair in v {
            match out.last_mut() {
                Some(last) if last.0 == pair.0 => *last = pair,
                _ => out.push(pair),
            }
        }
        // An empty value is no label (after the last-wins rule, as `insert` would do it).
        out.retain(|(_, v)| !v.is_empty());
        Labels::from_sorted(out)
    }

    /// Where `name` is, or where it would be inserted.
    fn position(&self, name: &str) -> std::result::Result<usize, usize> {
        self.pairs().binary_search_by(|(k, _)| k.as_str().cmp(name))
    }

    /// Sets `name` to `value`, returning the previous value. An empty value removes the label.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let (name, value) = (name.into(), value.into());
        if value.is_empty() {
            return self.remove(&name);
        }
        match self.position(&name) {
            Ok(i) => Some(std::mem::replace(&mut self.pairs_mut()[i].1, value)),
            Err(i) => {
                self.pairs_mut().insert(i, (name, value));
                None
            }
        }
    }

    /// Removes `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let i = self.position(name).ok()?;
        let value = self.pairs_mut().remove(i).1;
        if self.pairs().is_empty() {
            self.0 = None;
        }
        Some(value)
    }

    /// The value of `name`.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&str> {
        // Small sets: a scan that compares lengths first does about one byte comparison per
        // lookup; large ones: binary search.
        let pairs = self.pairs();
        if pairs.len() <= SMALL {
            let n = name.as_bytes();
            pairs
                .iter()
                .find(|(k, _)| k.len() == n.len() && k.as_bytes() == n)
                .map(|(_, v)| v.as_str())
        } else {
            self.position(name).ok().map(|i| pairs[i].1.as_str())
        }
    }

    /// The first of `names` that is present and non-empty, with its value.
    pub fn get_any<'a>(&'a self, names: &[&str]) -> Option<&'a str> {
        names
            .iter()
            .find_map(|n| self.get(n).filter(|v| !v.is_empty()))
    }

    /// Whether `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.pairs().len()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// Pairs in name order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.pairs().iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The labels whose name and value are the same in `self` and `other`.
    #[must_use]
    pub fn intersection(&self, other: &Labels) -> Labels {
        let (Some(a), Some(b)) = (&self.0, &other.0) else {
            return Labels::new();
        };
        if Arc::ptr_eq(a, b) {
            return self.clone();
        }
        // Both are sorted by name: one merge pass finds the shared pairs.
        let shared = |j: &mut usize, (k, v): &(String, String)| {
            while *j < b.len() && b[*j].0 < *k {
                *j += 1;
            }
            *j < b.len() && b[*j].0 == *k && b[*j].1 == *v
        };
        let mut j = 0;
        // Folding many alerts into their common labels mostly meets subsets: share, don't copy.
        if a.iter().all(|p| shared(&mut j, p)) {
            return self.clone();
        }
        let mut j = 0;
        Labels::from_sorted(a.iter().filter(|p| shared(&mut j, p)).cloned().collect())
    }

    /// Prometheus' `LabelSet.Fingerprint()`: FNV-1a 64 over the names in sorted order, each name
    /// and value followed by the separator byte `0xff`. The empty set hashes to the FNV offset.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut h = FNV_OFFSET;
        for (name, value) in self.pairs() {
            h = fnv_add(h, name.as_bytes());
            h = fnv_add(h, &[SEPARATOR]);
            h = fnv_add(h, value.as_bytes());
            h = fnv_add(h, &[SEPARATOR]);
        }
        Fingerprint(h)
    }

    /// The fingerprint of the subset of labels named in `names` (missing names are skipped), as
    /// Prometheus' `SignatureForLabels` computes it. Used for de-duplication keys that look at
    /// only some labels.
    pub fn fingerprint_of<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> u64 {
        let mut sorted: Vec<(&str, &str)> = names
            .into_iter()
            .filter_map(|n| self.get(n).map(|v| (n, v)))
            .collect();
        sorted.sort_unstable();
        sorted.dedup();
        let mut h = FNV_OFFSET;
        for (name, value) in sorted {
            h = fnv_add(h, name.as_bytes());
            h = fnv_add(h, &[SEPARATOR]);
            h = fnv_add(h, value.as_bytes());
            h = fnv_add(h, &[SEPARATOR]);
        }
        h
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Labels {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Labels::from_pairs(iter)
    }
}

impl fmt::Display for Labels {
    /// Prometheus' text form: `{a="1", b="2"}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (k, v)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k}={v:?}")?;
        }
        f.write_str("}")
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Fingerprint {
    /// The 16-hex-digit text Alertmanager uses.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Fingerprint::parse_hex(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid fingerprint {s:?}: expected up to 16 hex digits"
            ))
        })
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Labels {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Labels {
    /// A JSON object of strings; `null` reads as the empty set.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let m: Option<std::collections::BTreeMap<String, String>> =
            serde::Deserialize::deserialize(d)?;
        Ok(Labels::from_pairs(m.unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// The expected values written in prometheus/common `model/signature_test.go`
    /// (`TestMetricToFingerprint`, `TestSignatureForLabels` and the fingerprint benchmarks).
    #[test]
    fn matches_prometheus_common_examples() {
        assert_eq!(Labels::new().fingerprint().0, 14_695_981_039_346_656_037);
        let ls = Labels::from_pairs([("name", "garland, briggs"), ("fear", "love is not enough")]);
        assert_eq!(ls.fingerprint().0, 5_799_056_148_416_392_346);
        let single = Labels::from_pairs([("first-label", "first-label-value")]);
        assert_eq!(single.fingerprint().0, 5_146_282_821_936_882_169);
        let mut double = single.clone();
        double.insert("second-label", "second-label-value");
        assert_eq!(double.fingerprint().0, 3_195_800_080_984_914_717);
        let mut triple = double.clone();
        triple.insert("third-label", "third-label-value");
        assert_eq!(triple.fingerprint().0, 13_843_036_195_897_128_121);
        // SignatureForLabels: a subset, extra labels ignored; no names gives the offset basis.
        let mut extra = ls.clone();
        extra.insert("foo", "bar");
        assert_eq!(
            extra.fingerprint_of(["fear", "name"]),
            5_799_056_148_416_392_346
        );
        assert_eq!(extra.fingerprint_of([]), 14_695_981_039_346_656_037);
    }

    #[test]
    fn clones_are_copy_on_write_and_intersection_is_exact() {
        let a = Labels::from_pairs([("a", "1"), ("b", "2"), ("c", "3")]);
        let mut b = a.clone();
        b.insert("b", "20");
        b.insert("a", "");
        assert_eq!(
            a.get("b"),
            Some("2"),
            "changing a clone leaves the original alone"
        );
        assert_eq!(a.get("a"), Some("1"));
        assert_eq!(b.get("a"), None, "an empty value removes the label");
        assert_eq!(a.intersection(&b), Labels::from_pairs([("c", "3")]));
        assert_eq!(a.intersection(&a), a);
        let sub = Labels::from_pairs([("c", "3")]);
        assert_eq!(sub.intersection(&a), sub);
        assert_eq!(a.intersection(&Labels::new()), Labels::new());
    }

    #[test]
    fn every_empty_set_is_the_same_value() {
        use std::hash::{BuildHasher, RandomState};
        let mut emptied = Labels::from_pairs([("a", "1")]);
        assert_eq!(emptied.remove("a"), Some("1".to_owned()));
        let only_empty_values = Labels::from_pairs([("a", ""), ("b", "")]);
        let disjoint =
            Labels::from_pairs([("a", "1")]).intersection(&Labels::from_pairs([("a", "2")]));
        let h = RandomState::new();
        for e in [emptied, only_empty_values, disjoint, Labels::default()] {
            assert_eq!(e, Labels::new());
            assert!(e.is_empty() && e.iter().len() == 0 && e.iter().next().is_none());
            assert_eq!(h.hash_one(&e), h.hash_one(Labels::new()));
            assert_eq!(e.fingerprint(), Labels::new().fingerprint());
            assert!(e < Labels::from_pairs([("a", "1")]));
        }
    }

    #[test]
    fn hex_form_round_trips() {
        let f = Labels::from_pairs([("a", "b")]).fingerprint();
        let s = f.to_string();
        assert_eq!(s.len(), 16);
        assert_eq!(Fingerprint::parse_hex(&s), Some(f));
        assert_eq!(Fingerprint::parse_hex("zz"), None);
        assert_eq!(Fingerprint::parse_hex(""), None);
    }

    #[test]
    fn separator_prevents_concatenation_collisions() {
        let a = Labels::from_pairs([("ab", "c")]);
        let b = Labels::from_pairs([("a", "bc")]);
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn subset_fingerprint_equals_fingerprint_of_subset() {
        let ls = Labels::from_pairs([("a", "1"), ("b", "2"), ("c", "3")]);
        let sub = Labels::from_pairs([("a", "1"), ("c", "3")]);
        assert_eq!(
            ls.fingerprint_of(["c", "a", "missing"]),
            sub.fingerprint().0
        );
    }

    proptest::proptest! {
        #[test]
        fn fingerprint_is_insertion_order_independent(pairs in proptest::collection::vec((".{0,8}", ".{0,8}"), 0..10)) {
            let mut dedup: BTreeMap<String, String> = BTreeMap::new();
            for (k, v) in &pairs { dedup.insert(k.clone(), v.clone()); }
            dedup.retain(|_, v| !v.is_empty());
            let forward = Labels::from_pairs(dedup.clone());
            let backward = Labels::from_pairs(dedup.into_iter().rev());
            proptest::prop_assert_eq!(forward.fingerprint(), backward.fingerprint());
        }

        /// The scan in `get` and the merge in `intersection` agree with plain map operations,
        /// for small sets (scan, bitmask) and large ones (tree search, filter).
        #[test]
        fn get_and_intersection_match_the_map(
            a in proptest::collection::btree_map("[a-e]{1,3}", "[xy]{1,2}", 0..80),
            b in proptest::collection::btree_map("[a-e]{1,3}", "[xy]{1,2}", 0..80),
            probe in "[a-e]{0,4}",
        ) {
            let (la, lb) = (Labels::from_pairs(a.clone()), Labels::from_pairs(b.clone()));
            proptest::prop_assert_eq!(la.get(&probe), a.get(&probe).map(String::as_str));
            let want: BTreeMap<String, String> = a
                .iter()
                .filter(|(k, v)| b.get(*k) == Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            proptest::prop_assert_eq!(la.intersection(&lb), Labels::from_pairs(want));
        }
    }
}
