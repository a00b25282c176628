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
        // Hex digits only: `from_str_radix` also takes a leading `+`, so "+f" read as 15.
        if s.is_empty() || s.len() > 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
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
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Labels(Option<Arc<str>>);
// Storage: one shared, immutable string holding every pair, as Prometheus' "stringlabels" does:
// the pair count, then per pair (in name order) the name's length, the name, the value's length
// and the value. A length below 0xD000 is one `char` of that code point (one byte below 128);
// a longer one is the char 0xD000 + k followed by k chars 0xE000 + 20-bit digits. Reading a
// label set touches one allocation (a set of `String` pairs touched the pair vector plus one
// allocation per name and value: the correlator's label reads were cache misses on those), a
// clone is one atomic increment, and the empty set allocates nothing. The encoding is canonical
// (sorted, unique names, no empty values), so equality and hashing compare the strings; the
// order compares the pairs (see `Ord`).

/// Appends a length in the encoding described at [`Labels`].
fn push_len(out: &mut String, len: usize) {
    if len < 0xD000 {
        out.push(char::from_u32(len as u32).unwrap_or('\0'));
        return;
    }
    let mut digits = [0u32; 4];
    let mut k = 0;
    let mut v = len as u64;
    while v > 0 && k < digits.len() {
        digits[k] = (v & 0xF_FFFF) as u32;
        v >>= 20;
        k += 1;
    }
    out.push(char::from_u32(0xD000 + k as u32).unwrap_or('\0'));
    for d in digits[..k].iter().rev() {
        out.push(char::from_u32(0xE000 + d).unwrap_or('\0'));
    }
}

/// Reads a length written by [`push_len`] at `*pos`, advancing it.
#[inline]
fn read_len(buf: &str, pos: &mut usize) -> usize {
    let bytes = buf.as_bytes();
    if let Some(&b) = bytes.get(*pos).filter(|&&b| b < 0x80) {
        *pos += 1;
        return usize::from(b);
    }
    let mut chars = buf.get(*pos..).unwrap_or("").chars();
    let Some(c) = chars.next() else {
        return 0;
    };
    *pos += c.len_utf8();
    let c = c as u32;
    if c < 0xD000 {
        return c as usize;
    }
    let mut v: u64 = 0;
    for _ in 0..(c - 0xD000) {
        let Some(d) = chars.next() else { break };
        *pos += d.len_utf8();
        v = (v << 20) | u64::from((d as u32).wrapping_sub(0xE000) & 0xF_FFFF);
    }
    v as usize
}

/// Reads the string of `len` bytes at `*pos`, advancing it.
#[inline]
fn read_str<'a>(buf: &'a str, pos: &mut usize, len: usize) -> &'a str {
    let s = buf.get(*pos..*pos + len).unwrap_or("");
    *pos += len;
    s
}

/// The pairs of an encoded label set, in name order.
#[derive(Debug, Clone)]
struct Pairs<'a> {
    buf: &'a str,
    pos: usize,
    left: usize,
}

impl<'a> Pairs<'a> {
    fn new(buf: &'a str) -> Self {
        let mut pos = 0;
        let left = if buf.is_empty() {
            0
        } else {
            read_len(buf, &mut pos)
        };
        Pairs { buf, pos, left }
    }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a str);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let n = read_len(self.buf, &mut self.pos);
        let name = read_str(self.buf, &mut self.pos, n);
        let v = read_len(self.buf, &mut self.pos);
        let value = read_str(self.buf, &mut self.pos, v);
        Some((name, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Pairs<'_> {}

/// Encodes sorted, unique, non-empty pairs; the empty set holds no allocation.
fn encode<'a>(pairs: impl ExactSizeIterator<Item = (&'a str, &'a str)> + Clone) -> Labels {
    let n = pairs.len();
    if n == 0 {
        return Labels(None);
    }
    let bytes: usize = pairs.clone().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut out = String::with_capacity(bytes + 2);
    push_len(&mut out, n);
    for (k, v) in pairs {
        push_len(&mut out, k.len());
        out.push_str(k);
        push_len(&mut out, v.len());
        out.push_str(v);
    }
    Labels(Some(Arc::from(out)))
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Labels {
    /// Lexicographic over the pairs in name order, as a sorted map compares.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.iter().cmp(other.iter())
    }
}

impl Labels {
    /// An empty label set.
    pub fn new() -> Self {
        Labels(None)
    }

    fn pairs(&self) -> Pairs<'_> {
        Pairs::new(self.0.as_deref().unwrap_or(""))
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
        encode(out.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// Sets `name` to `value`, returning the previous value. An empty value removes the label.
    /// The set is rebuilt (O(labels)); build a whole set with [`Labels::from_pairs`].
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let (name, value) = (name.into(), value.into());
        let mut pairs: Vec<(&str, &str)> = self.iter().collect();
        let old = match pairs.binary_search_by(|(k, _)| (*k).cmp(name.as_str())) {
            Ok(i) if value.is_empty() => Some(pairs.remove(i).1.to_owned()),
            Ok(i) => Some(std::mem::replace(&mut pairs[i].1, value.as_str()).to_owned()),
            Err(_) if value.is_empty() => return None,
            Err(i) => {
                pairs.insert(i, (name.as_str(), value.as_str()));
                None
            }
        };
        let updated = encode(pairs.into_iter());
        *self = updated;
        old
    }

    /// Removes `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let old = self.get(name)?.to_owned();
        let updated = encode(
            self.iter()
                .filter(|(k, _)| *k != name)
                .collect::<Vec<_>>()
                .into_iter(),
        );
        *self = updated;
        Some(old)
    }

    /// The value of `name`.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&str> {
        // One pass over one contiguous string, on bytes: names are compared by length first,
        // values are skipped unread, and only the match becomes a `&str` (building a `&str` of
        // every name and value, each with its char-boundary checks, doubled the cost of a
        // lookup in the correlator's batch loop).
        let buf = self.0.as_deref()?;
        let bytes = buf.as_bytes();
        let n = name.as_bytes();
        let mut pos = 0;
        for _ in 0..read_len(buf, &mut pos) {
            let k = read_len(buf, &mut pos);
            let key = bytes.get(pos..pos + k)?;
            pos += k;
            let v = read_len(buf, &mut pos);
            if k == n.len() && key == n {
                return buf.get(pos..pos + v);
            }
            pos += v;
        }
        None
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
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone + '_ {
        self.pairs()
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
        let mut theirs = other.pairs().peekable();
        let mut shared: Vec<(&str, &str)> = Vec::new();
        let mut all = true;
        for (k, v) in self.pairs() {
            while theirs.peek().is_some_and(|(ok, _)| *ok < k) {
                theirs.next();
            }
            if theirs.peek().is_some_and(|(ok, ov)| *ok == k && *ov == v) {
                shared.push((k, v));
            } else {
                all = false;
            }
        }
        // Folding many alerts into their common labels mostly meets subsets: share, don't copy.
        if all {
            return self.clone();
        }
        encode(shared.into_iter())
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

    /// Prometheus' `SignatureForLabels(m, names...)` (prometheus/common `model/signature.go`):
    /// FNV-1a 64 over `names` sorted (byte order, duplicates kept), each name followed by
    /// `0xff`, its value here (the empty string when the label is missing) and `0xff`. No
    /// names gives the FNV offset basis. Used for de-duplication keys that look at only some
    /// labels.
    ///
    /// As in Prometheus, a missing name still counts (so `{a="1"}` keyed by `a` and `b` differs
    /// from the same set keyed by `a` alone), and a repeated name is hashed twice.
    ///
    /// ```
    /// use aiops_core::Labels;
    /// let ls = Labels::from_pairs([("a", "1"), ("b", "2")]);
    /// // With every label named, the signature is the fingerprint of the set.
    /// assert_eq!(ls.fingerprint_of(["b", "a"]), ls.fingerprint().0);
    /// assert_ne!(ls.fingerprint_of(["a", "missing"]), ls.fingerprint_of(["a"]));
    /// ```
    pub fn fingerprint_of<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> u64 {
        let mut sorted: Vec<&str> = names.into_iter().collect();
        // Go's `sort.Sort(LabelNames)` compares strings bytewise, as `str`'s order does; equal
        // names are equal bytes, so an unstable sort gives the same sequence.
        sorted.sort_unstable();
        let mut h = FNV_OFFSET;
        for name in sorted {
            h = fnv_add(h, name.as_bytes());
            h = fnv_add(h, &[SEPARATOR]);
            h = fnv_add(h, self.get(name).unwrap_or("").as_bytes());
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
    fn long_and_multibyte_names_and_values_round_trip() {
        // Lengths on each side of every encoding boundary (1 byte, 2-3 byte chars, multi-char).
        for len in [
            0x7f, 0x80, 0x7ff, 0x800, 0xCFFF, 0xD000, 0xD001, 0x10_0000, 0x12_3457,
        ] {
            let value = "x".repeat(len);
            let name = "é".repeat(len % 300 + 1);
            let l = Labels::from_pairs([(name.as_str(), value.as_str()), ("a", "ü\u{0}z")]);
            assert_eq!(l.len(), 2);
            assert_eq!(l.get(&name), Some(value.as_str()), "len {len}");
            assert_eq!(l.get("a"), Some("ü\u{0}z"));
            let pairs: Vec<(&str, &str)> = l.iter().collect();
            assert_eq!(
                pairs,
                vec![("a", "ü\u{0}z"), (name.as_str(), value.as_str())]
            );
        }
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
        // Digits only: a sign is no hex digit (`from_str_radix` took "+f" as 15).
        for bad in ["+f", "+", "-1", " f", "f "] {
            assert_eq!(Fingerprint::parse_hex(bad), None, "{bad:?}");
        }
        assert_eq!(Fingerprint::parse_hex("F"), Some(Fingerprint(15)));
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
        // Named in any order, the present labels give the fingerprint of the subset.
        assert_eq!(ls.fingerprint_of(["c", "a"]), sub.fingerprint().0);
        // A missing name is hashed with an empty value, as `SignatureForLabels` does: it is
        // not the subset's fingerprint.
        assert_ne!(
            ls.fingerprint_of(["c", "a", "missing"]),
            sub.fingerprint().0
        );
    }

    /// `SignatureForLabels` as prometheus/common `model/signature.go` computes it: the names
    /// sorted, not de-duplicated, each hashed as `name 0xff value 0xff` with the value of a
    /// missing label empty. The expected values are FNV-1a 64 of the byte strings written in
    /// each case, computed independently with this Python:
    ///
    /// ```text
    /// def fnv(b):
    ///     h = 14695981039346656037
    ///     for c in b: h = ((h ^ c) * 1099511628211) % 2**64
    ///     return h
    /// ```
    #[test]
    fn fingerprint_of_matches_signature_for_labels() {
        let ls = Labels::from_pairs([("a", "1")]);
        // fnv(b"a\xff1\xffmissing\xff\xff"); the old code skipped `missing`.
        assert_eq!(
            ls.fingerprint_of(["a", "missing"]),
            1_680_624_026_575_377_157
        );
        // Sorted first: the same bytes whatever the order given.
        assert_eq!(
            ls.fingerprint_of(["missing", "a"]),
            1_680_624_026_575_377_157
        );
        // fnv(b"a\xff1\xffa\xff1\xff"); the old code de-duplicated to fnv(b"a\xff1\xff").
        assert_eq!(ls.fingerprint_of(["a", "a"]), 17_145_625_532_106_742_565);
        assert_eq!(ls.fingerprint_of(["a"]), ls.fingerprint().0);
        // The current Go code hashes the names even for an empty metric (older releases
        // returned the offset basis): fnv(b"missing\xff\xff").
        assert_eq!(
            Labels::new().fingerprint_of(["missing"]),
            17_505_915_096_734_305_109
        );
        assert_eq!(Labels::new().fingerprint_of([]), FNV_OFFSET);
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

        /// Any sequence of inserts and removes (empty values remove) leaves the same pairs, in
        /// the same order, as a map given the same operations; equality, order and the
        /// fingerprint follow the pairs.
        #[test]
        fn edits_match_a_map(
            ops in proptest::collection::vec(("[a-d\u{e9}\u{1F600}]{0,3}", "[xy\u{0}\u{20AC}]{0,3}", proptest::bool::ANY), 0..40),
        ) {
            let mut l = Labels::new();
            let mut m: BTreeMap<String, String> = BTreeMap::new();
            for (k, v, remove) in &ops {
                if *remove {
                    proptest::prop_assert_eq!(l.remove(k), m.remove(k));
                } else if v.is_empty() {
                    proptest::prop_assert_eq!(l.insert(k.clone(), v.clone()), m.remove(k));
                } else {
                    proptest::prop_assert_eq!(l.insert(k.clone(), v.clone()), m.insert(k.clone(), v.clone()));
                }
                let want: Vec<(&str, &str)> = m.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
                proptest::prop_assert_eq!(l.iter().collect::<Vec<_>>(), want);
                proptest::prop_assert_eq!(l.len(), m.len());
                let rebuilt = Labels::from_pairs(m.clone());
                proptest::prop_assert_eq!(&l, &rebuilt);
                proptest::prop_assert_eq!(l.fingerprint(), rebuilt.fingerprint());
            }
        }

        /// The order of label sets is the order of their pair sequences.
        #[test]
        fn order_follows_the_pairs(
            a in proptest::collection::btree_map("[a-c]{1,2}", "[xy]{1,2}", 0..4),
            b in proptest::collection::btree_map("[a-c]{1,2}", "[xy]{1,2}", 0..4),
        ) {
            let (la, lb) = (Labels::from_pairs(a.clone()), Labels::from_pairs(b.clone()));
            proptest::prop_assert_eq!(la.cmp(&lb), a.iter().cmp(b.iter()));
            proptest::prop_assert_eq!(la == lb, a == b);
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
