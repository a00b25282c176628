//! Label sets and their Prometheus-compatible fingerprints.

use std::collections::BTreeMap;
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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Labels(Arc<BTreeMap<String, String>>);
// Shared, copy-on-write storage: alerts are cloned into incidents, events and reports many times
// over, and a label set is almost never changed after construction, so a clone is one atomic
// increment instead of a map of string allocations (the correlator spent about a third of its
// time copying labels before this).

impl Labels {
    /// An empty label set.
    pub fn new() -> Self {
        Labels(Arc::new(BTreeMap::new()))
    }

    /// Builds a set from pairs; a later pair with the same name replaces an earlier one.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut out = Labels::new();
        for (k, v) in pairs {
            out.insert(k, v);
        }
        out
    }

    /// Sets `name` to `value`, returning the previous value. An empty value removes the label.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let (name, value) = (name.into(), value.into());
        if value.is_empty() {
            if self.0.contains_key(&name) {
                Arc::make_mut(&mut self.0).remove(&name)
            } else {
                None
            }
        } else {
            Arc::make_mut(&mut self.0).insert(name, value)
        }
    }

    /// Removes `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        if self.0.contains_key(name) {
            Arc::make_mut(&mut self.0).remove(name)
        } else {
            None
        }
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The first of `names` that is present and non-empty, with its value.
    pub fn get_any<'a>(&'a self, names: &[&str]) -> Option<&'a str> {
        names
            .iter()
            .find_map(|n| self.get(n).filter(|v| !v.is_empty()))
    }

    /// Whether `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Pairs in name order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The labels whose name and value are the same in `self` and `other`.
    #[must_use]
    pub fn intersection(&self, other: &Labels) -> Labels {
        let shared = |(k, v): &(&String, &String)| other.0.get(*k) == Some(*v);
        // Folding many alerts into their common labels mostly meets subsets: share, don't copy.
        if Arc::ptr_eq(&self.0, &other.0) || self.0.iter().all(|kv| shared(&kv)) {
            return self.clone();
        }
        Labels(Arc::new(
            self.0
                .iter()
                .filter(shared)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ))
    }

    /// Prometheus' `LabelSet.Fingerprint()`: FNV-1a 64 over the names in sorted order, each name
    /// and value followed by the separator byte `0xff`. The empty set hashes to the FNV offset.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint(self.fingerprint_of(self.0.keys().map(String::as_str)))
    }

    /// The fingerprint of the subset of labels named in `names` (missing names are skipped), as
    /// Prometheus' `SignatureForLabels` computes it. Used for de-duplication keys that look at
    /// only some labels.
    pub fn fingerprint_of<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> u64 {
        let mut sorted: Vec<&str> = names
            .into_iter()
            .filter(|n| self.0.contains_key(*n))
            .collect();
        sorted.sort_unstable();
        sorted.dedup();
        let mut h = FNV_OFFSET;
        for name in sorted {
            h = fnv_add(h, name.as_bytes());
            h = fnv_add(h, &[SEPARATOR]);
            h = fnv_add(h, self.0[name].as_bytes());
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
        self.0.serialize(s)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Labels {
    /// A JSON object of strings; `null` reads as the empty set.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let m: Option<BTreeMap<String, String>> = serde::Deserialize::deserialize(d)?;
        Ok(Labels::from_pairs(m.unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
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
    }
}
