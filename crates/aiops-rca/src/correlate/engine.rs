//! The engine that batch and stream share: de-duplication, the window of recent alerts, the
//! rules and the grouping.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use aiops_core::{Alert, Incident, Timestamp};

use super::output::{CorrelatedIncident, Correlation, IncidentEvent, Merge, MergeRule, ratio};
use super::stream::Pending;
use super::{
    Correlator, CorrelatorConfig, Grouping, MISSING_METRIC, NONE, SALT_DEDUP, SALT_DEP, SALT_LABEL,
    SALT_METRIC, SALT_NAME, SALT_SERVICE, SALT_SET, first_label, incident_id, service_of,
    set_values,
};
use crate::bitset;
use crate::fnv::{FastMap, hash_str};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fingerprint,
    Path,
    Service,
    Metric,
    Label,
    Set,
    Dep,
    /// Two incidents merged ([`CorrelatorConfig::incident_merge_coverage`]); `aux` packs the
    /// coverage ([`pack_upstream`]).
    Upstream,
}

/// A [`Kind::Upstream`] merge's `aux`: whether the earlier incident is the upstream one (bit
/// 63), how many services of the other it reached (bits 32..63) and how many it has (0..32).
fn pack_upstream(a_upstream: bool, reached: u32, services: u32) -> u64 {
    (u64::from(a_upstream) << 63)
        | (u64::from(reached.min(u32::MAX >> 1)) << 32)
        | u64::from(services)
}

/// [`pack_upstream`] reversed.
fn unpack_upstream(aux: u64) -> (bool, u32, u32) {
    (
        aux >> 63 == 1,
        ((aux >> 32) as u32) & (u32::MAX >> 1),
        aux as u32,
    )
}

#[derive(Debug, Clone, Copy)]
pub(super) struct RawMerge {
    a_node: u32,
    b_node: u32,
    pub(super) a_rec: usize,
    pub(super) b_rec: usize,
    gap_ms: i64,
    kind: Kind,
    aux: u64,
    next: u32,
}

/// [`Grouping::Scored`]: one incident related to the alert being placed.
#[derive(Debug, Clone, Copy)]
struct Scored {
    root: u32,
    /// Links (related earlier alerts) into the incident.
    links: u32,
    weight: f64,
    /// A same-service link is among the links.
    service: bool,
    /// The incident reached the alert's service long before (see `same_service_secs`).
    excluded: bool,
    /// The latest linked alert: (node, earlier node, rule, aux).
    link: (u32, u32, Kind, u32),
}

#[derive(Debug)]
pub(super) struct Node {
    start_ms: i64,
    last_seen_ms: i64,
    /// The start of the record holding the alert's latest state.
    latest_start_ms: i64,
    pub(super) service: u32,
    /// The record holding the alert's latest state.
    pub(super) latest_rec: usize,
    first_rec: usize,
    rec_head: u32,
    rec_tail: u32,
    next_member: u32,
}

#[derive(Debug)]
pub(super) struct Engine<'c, 'g, 'a> {
    pub(super) c: &'c Correlator<'g>,
    pub(super) store: Cow<'a, [Alert]>,
    /// `None`: `store[i]` is record `i`. After a stream released records
    /// ([`Engine::release`]): the index of each stored record, ascending.
    store_ext: Option<Vec<usize>>,
    events_on: bool,
    pub(super) events: Vec<IncidentEvent>,
    pub(super) records: usize,
    pub(super) nodes: Vec<Node>,
    rec_index: Vec<usize>,
    rec_next: Vec<u32>,
    /// Per record slot: its node.
    rec_node: Vec<u32>,
    /// De-duplication key -> (node, the node's `last_seen_ms`): the sweep reads only the map
    /// (reading each node's time missed the cache: 13% of the batch's cache misses).
    dedup: FastMap<u64, (u32, i64)>,
    /// Batch mode: when `expire_dedup` may next drop stale keys, and the map size it waits for
    /// (twice the size the last sweep left).
    next_sweep_ms: i64,
    sweep_len: usize,
    // Union-find over nodes; per-root data below.
    parent: Vec<u32>,
    size: Vec<u32>,
    comp_min: Vec<u32>,
    /// Per root: the start of its first alert (in ms).
    comp_first: Vec<i64>,
    comp_last: Vec<i64>,
    member_tail: Vec<u32>,
    merge_head: Vec<u32>,
    merge_tail: Vec<u32>,
    opened: Vec<bool>,
    closed: Vec<bool>,
    merges: Vec<RawMerge>,
    /// The window: the nodes from this one on (nodes are made in start order, so the nodes
    /// inside the window are always the latest ones).
    window_head: u32,
    /// The window of the current timestamp (ms): `window_secs`, or `sparse_window_secs`
    /// while alerts are sparse. The window itself holds alerts for the wider of the two, so
    /// with the narrow one in force, an alert in it older than this is out of reach.
    win_ms: i64,
    active: Vec<u64>,
    latest: Vec<u32>,
    /// Per service: its latest node, kept past the window (for `dependency_window_secs`).
    last_on: Vec<u32>,
    /// The first start seen (ms), for the alert rate of `dependency_window_max_chance`.
    first_ms: Option<i64>,
    /// Distinct alerts on graph services over the last 3 hours.
    recent: RecentAlerts,
    keys: FastMap<u64, u32>,
    quiet_heap: BinaryHeap<Reverse<(i64, u32)>>,
    scratch: Vec<u32>,
    /// Related earlier alerts found for the current group: (node, earlier node, rule, aux).
    cands: Vec<(u32, u32, Kind, u32)>,
    fresh: Vec<u32>,
    /// [`Grouping::Scored`]: the incidents related to the alert being placed.
    scored: Vec<Scored>,
    /// Scratch for `silent_siblings`: which new alerts have a candidate.
    linked: Vec<bool>,
    /// With `min_severity`: per node, whether it is below it (by its first record).
    low: Vec<bool>,
    /// [`Grouping::Scored`]: per node, the previous alert on its service in the window.
    prev_on_service: Vec<u32>,
    /// Batch mode: a copy of every record's alert, taken by the incident that reports it.
    pub(super) owned: Vec<Option<Alert>>,
    /// With `name_label`: the learned name statistics.
    names: NameStats,
    /// Whether the name statistics are on (`Scored`, `name_label` and a minimum ratio).
    naming: bool,
    /// Stream: the alerts [`Engine::release`] forgot while they were still firing, by
    /// de-duplication key, so that their later updates (a resolution, a re-send) are taken as
    /// they would have been.
    gone: FastMap<u64, Gone>,
    /// Stream: records that updated a forgotten alert since the last release, with whether
    /// they are noise (else the update of a forgotten incident, reported in an event).
    late: Vec<(usize, bool)>,
    /// With `incident_merge_coverage`: the incidents that may still merge, in the order they
    /// were tracked.
    tracks: Vec<Track>,
    /// Each track's place in `tracks`, by its first node.
    track_at: FastMap<u32, u32>,
    /// The earliest `first_ms` of the tracks (`i64::MAX`: none), so that a timestamp with
    /// no track to expire costs nothing.
    tracks_from: i64,
    /// Pairs of tracked incidents whose first alerts began at most
    /// `incident_merge_window_secs` apart, by the order they were found (`pairs_found` counts
    /// them), so that each track reaches its own pairs without scanning every pair.
    pairs: FastMap<u64, Pair>,
    pairs_found: u64,
    /// Scratch for `merge_incidents`: the first nodes of the tracked incidents a timestamp
    /// changed.
    merge_changed: Vec<u32>,
}

/// With [`CorrelatorConfig::incident_merge_coverage`]: an incident that may still merge.
#[derive(Debug, Clone)]
struct Track {
    /// Its first node (the root's `comp_min`).
    first: u32,
    /// The service of its first alert (`NONE`: not in the graph).
    service: u32,
    /// When its first alert began (ms).
    first_ms: i64,
    /// Its distinct services in the graph, ascending.
    services: Vec<u32>,
    /// Its pairs (keys of `pairs`), ascending: the order they were found. A pair dropped
    /// since (the other incident expired or merged) is skipped, and pruned when met.
    pairs: Vec<u64>,
}

/// Two tracked incidents (by first node, `a < b`) and how many of each one's services the
/// other's first service reaches.
#[derive(Debug, Clone, Copy)]
struct Pair {
    a: u32,
    b: u32,
    /// Services of `b` that `a`'s first service reaches.
    a_reaches: u32,
    /// Services of `a` that `b`'s first service reaches.
    b_reaches: u32,
}

/// A pair's merge: its two first nodes, whether the earlier one is upstream, how many services
/// of the other it reaches and how many the other has.
type Upstream = (u32, u32, bool, u32, usize);

/// An alert [`Engine::release`] forgot while it was firing: what a later update of it needs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Gone {
    last_seen_ms: i64,
    latest_start_ms: i64,
    firing: bool,
    /// The first record of its incident, or `None` for noise.
    incident: Option<usize>,
}

/// With [`CorrelatorConfig::name_label`]: per node its name (an index into `counts`,
/// [`NO_NAME`] or [`UNTRACKED`]); per tracked name the alerts and the dependency-path links into
/// them, learned from earlier timestamps; the totals over all named alerts.
#[derive(Debug, Default)]
pub(super) struct NameStats {
    of: Vec<u32>,
    ids: FastMap<u64, u32>,
    counts: Vec<(u32, u32)>,
    total: (u64, u64),
}

/// [`NameStats`]: the alert has no name.
pub(super) const NO_NAME: u32 = u32::MAX;
/// [`NameStats`]: the alert's name is not tracked (the table was full).
pub(super) const UNTRACKED: u32 = u32::MAX - 1;

impl NameStats {
    /// The index of the name with hash `h`, adding it while fewer than `cap` are tracked.
    pub(super) fn id(&mut self, h: u64, cap: usize) -> u32 {
        if let Some(&id) = self.ids.get(&h) {
            return id;
        }
        if self.counts.len() >= cap {
            return UNTRACKED;
        }
        let id = self.counts.len() as u32;
        self.ids.insert(h, id);
        self.counts.push((0, 0));
        id
    }

    /// The smoothed rate of path links into alerts of name `id`, relative to the mean rate
    /// (1 without a name, before any link, or for an untracked name).
    pub(super) fn link_ratio(&self, id: u32, prior: f64) -> f64 {
        let Some(&(n, l)) = self.counts.get(id as usize) else {
            return 1.0;
        };
        if self.total.1 == 0 {
            return 1.0;
        }
        let mean = self.total.1 as f64 / self.total.0 as f64;
        let den = f64::from(n) + prior;
        if den <= 0.0 {
            return 1.0;
        }
        (f64::from(l) + prior * mean) / den / mean
    }

    /// Counts one alert of name `id` with `links` path links into it.
    pub(super) fn learn(&mut self, id: u32, links: u32) {
        if id == NO_NAME {
            return;
        }
        self.total.0 += 1;
        self.total.1 += u64::from(links);
        if let Some(e) = self.counts.get_mut(id as usize) {
            e.0 = e.0.saturating_add(1);
            e.1 = e.1.saturating_add(links);
        }
    }
}

impl<'c, 'g, 'a> Engine<'c, 'g, 'a> {
    pub(super) fn new(c: &'c Correlator<'g>, events_on: bool, store: Cow<'a, [Alert]>) -> Self {
        Engine {
            c,
            store,
            store_ext: None,
            events_on,
            events: Vec::new(),
            records: 0,
            nodes: Vec::new(),
            rec_index: Vec::new(),
            rec_next: Vec::new(),
            rec_node: Vec::new(),
            dedup: FastMap::default(),
            next_sweep_ms: i64::MIN,
            sweep_len: 0,
            parent: Vec::new(),
            size: Vec::new(),
            comp_min: Vec::new(),
            comp_first: Vec::new(),
            comp_last: Vec::new(),
            member_tail: Vec::new(),
            merge_head: Vec::new(),
            merge_tail: Vec::new(),
            opened: Vec::new(),
            closed: Vec::new(),
            merges: Vec::new(),
            window_head: 0,
            win_ms: c.config.window_secs.saturating_mul(1000),
            active: vec![0; c.graph.node_words()],
            latest: vec![NONE; c.graph.len()],
            last_on: vec![NONE; c.graph.len()],
            first_ms: None,
            recent: RecentAlerts::default(),
            keys: FastMap::default(),
            quiet_heap: BinaryHeap::new(),
            scratch: Vec::new(),
            cands: Vec::new(),
            fresh: Vec::new(),
            scored: Vec::new(),
            linked: Vec::new(),
            prev_on_service: Vec::new(),
            low: Vec::new(),
            owned: Vec::new(),
            names: NameStats::default(),
            naming: c.config.grouping == Grouping::Scored
                && c.config.name_label.is_some()
                && c.config.min_name_link_ratio > 0.0,
            gone: FastMap::default(),
            late: Vec::new(),
            tracks: Vec::new(),
            track_at: FastMap::default(),
            tracks_from: i64::MAX,
            pairs: FastMap::default(),
            pairs_found: 0,
            merge_changed: Vec::new(),
        }
    }

    /// Batch mode: room for `n` records up front (growing these arrays by doubling copied
    /// them about once more: 4% of the batch time went to `memmove`).
    pub(super) fn reserve(&mut self, n: usize) {
        self.nodes.reserve(n);
        self.rec_index.reserve(n);
        self.rec_next.reserve(n);
        self.rec_node.reserve(n);
        self.merges.reserve(n);
        for v in [
            &mut self.parent,
            &mut self.size,
            &mut self.comp_min,
            &mut self.member_tail,
            &mut self.merge_head,
            &mut self.merge_tail,
            &mut self.prev_on_service,
        ] {
            v.reserve(n);
        }
        self.comp_first.reserve(n);
        self.comp_last.reserve(n);
        self.opened.reserve(n);
        self.closed.reserve(n);
        self.low.reserve(n);
        if self.naming {
            self.names.of.reserve(n);
        }
    }

    fn alert(&self, node: u32) -> &Alert {
        self.at(self.nodes[node as usize].latest_rec)
    }

    /// The alert of record `rec` (kept, or not yet released).
    pub(super) fn at(&self, rec: usize) -> &Alert {
        record_at(&self.store, self.store_ext.as_deref(), rec)
    }

    /// Records stored (all, unless a stream released some).
    pub(super) fn held_records(&self) -> usize {
        self.store.len()
    }

    /// Stream: stores the alert of the next record.
    pub(super) fn push_alert(&mut self, alert: Alert) -> usize {
        let record = self.records;
        self.records += 1;
        self.store.to_mut().push(alert);
        if let Some(ext) = &mut self.store_ext {
            ext.push(record);
        }
        record
    }

    fn cfg(&self) -> &'c CorrelatorConfig {
        &self.c.config
    }

    pub(super) fn dedup_key(&self, a: &Alert) -> u64 {
        match &self.c.config.dedup_labels {
            None => a.fingerprint().0,
            Some(names) => {
                let mut h = SALT_DEDUP;
                for n in names {
                    h = hash_str(h, a.labels().get(n).unwrap_or("\u{0}"));
                }
                h
            }
        }
    }

    /// With the name statistics on: the hash of the alert's name (never 0), or 0.
    pub(super) fn name_hash(&self, a: &Alert) -> u64 {
        match &self.cfg().name_label {
            Some(label) if self.naming => a
                .labels()
                .get(label)
                .map_or(0, |v| hash_str(SALT_NAME, v) | 1),
            _ => 0,
        }
    }

    /// Whether the alert is below `min_severity` (so relates to nothing).
    pub(super) fn is_low(&self, a: &Alert) -> bool {
        self.cfg()
            .min_severity
            .is_some_and(|min| a.severity().unwrap_or_default() < min)
    }

    /// The graph index of the alert's service, or `NONE`.
    #[inline]
    pub(super) fn service_index(&self, a: &Alert) -> u32 {
        service_of(self.cfg(), a)
            .and_then(|s| self.c.graph.index_of(s))
            .map_or(NONE, |i| i as u32)
    }

    /// Batch mode: drops the de-duplication keys whose alert can no longer be re-fired at
    /// `now_ms` or later (starts only grow in a batch), at most every half re-fire window and
    /// only once the map has doubled since the last sweep (so a sweep costs O(1) per insert
    /// even when keys stay live, e.g. alerts ending far ahead with a re-fire window of 0), so
    /// the map holds mostly recent alerts and stays in cache (9.9% of the batch time went to
    /// lookups in the full map; expiring each key on time through a queue cost 5% of the
    /// instructions). Which keys are present never changes a result: `refire_target` checks
    /// the time too. A stream keeps every key, since a late update of an old alert may still
    /// come.
    fn expire_dedup(&mut self, now_ms: i64) {
        if self.events_on || now_ms < self.next_sweep_ms || self.dedup.len() < self.sweep_len {
            return;
        }
        let w = self.cfg().refire_window_secs.saturating_mul(1000);
        self.dedup.retain(|_, e| now_ms.saturating_sub(e.1) <= w);
        self.next_sweep_ms = now_ms.saturating_add((w / 2).max(1));
        self.sweep_len = 2 * self.dedup.len().max(256);
    }

    pub(super) fn refire_target(&self, key: u64, ms: i64) -> Option<u32> {
        let &(node, last_seen_ms) = self.dedup.get(&key)?;
        let w = self.cfg().refire_window_secs.saturating_mul(1000);
        (ms.saturating_sub(last_seen_ms) <= w).then_some(node)
    }

    /// Whether a record of key `key` starting at `ms` updates an alert [`Engine::release`]
    /// forgot (as `refire_target` would have found it).
    pub(super) fn updates_gone(&self, key: u64, ms: i64) -> bool {
        let w = self.cfg().refire_window_secs.saturating_mul(1000);
        self.gone
            .get(&key)
            .is_some_and(|g| ms.saturating_sub(g.last_seen_ms) <= w)
    }

    /// An update (`p`, starting at `ms`, stored) of a forgotten alert: reported as `attach`
    /// would have (an `Updated` event of its incident, or noise at the next release).
    pub(super) fn attach_gone(&mut self, p: Pending, ms: i64) {
        let firing = self.at(p.record).is_firing();
        let Some(g) = self.gone.get_mut(&p.key) else {
            return;
        };
        g.last_seen_ms = g.last_seen_ms.max(p.ends_ms.unwrap_or(ms).max(ms));
        if ms >= g.latest_start_ms {
            g.latest_start_ms = ms;
            g.firing = firing;
        }
        let incident = g.incident;
        self.late.push((p.record, incident.is_none()));
        if let (Some(first), true) = (incident, self.events_on) {
            self.events.push(IncidentEvent::Updated {
                id: incident_id(first),
                record: p.record,
            });
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    fn id_of_root(&self, root: u32) -> String {
        incident_id(self.nodes[self.comp_min[root as usize] as usize].first_rec)
    }

    fn push_record(&mut self, node: u32, record: usize) -> u32 {
        let slot = self.rec_index.len() as u32;
        self.rec_index.push(record);
        self.rec_node.push(node);
        self.rec_next.push(NONE);
        let n = &mut self.nodes[node as usize];
        if n.rec_tail == NONE {
            n.rec_head = slot;
        } else {
            self.rec_next[n.rec_tail as usize] = slot;
        }
        n.rec_tail = slot;
        slot
    }

    /// A re-fire or resolution of a known alert (`p`, starting at `ms`).
    pub(super) fn attach(&mut self, node: u32, p: Pending, ms: i64) {
        let record = p.record;
        self.push_record(node, record);
        let n = &mut self.nodes[node as usize];
        n.last_seen_ms = n.last_seen_ms.max(p.ends_ms.unwrap_or(ms).max(ms));
        let gap_ms = ms - n.start_ms;
        let a_rec = n.first_rec;
        // The latest state wins, except that a stale copy never re-opens a newer resolution.
        if ms >= n.latest_start_ms {
            n.latest_rec = record;
            n.latest_start_ms = ms;
        }
        let seen = n.last_seen_ms;
        if let Some(e) = self.dedup.get_mut(&p.key).filter(|e| e.0 == node) {
            e.1 = seen;
        }
        self.add_merge(node, node, a_rec, record, gap_ms, Kind::Fingerprint, 0);
        if self.events_on {
            let root = self.find(node);
            if self.opened[root as usize] {
                let id = self.id_of_root(root);
                self.events.push(IncidentEvent::Updated { id, record });
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_merge(
        &mut self,
        a_node: u32,
        b_node: u32,
        a_rec: usize,
        b_rec: usize,
        gap_ms: i64,
        kind: Kind,
        aux: u64,
    ) {
        let id = self.merges.len() as u32;
        self.merges.push(RawMerge {
            a_node,
            b_node,
            a_rec,
            b_rec,
            gap_ms,
            kind,
            aux,
            next: NONE,
        });
        let root = self.find(b_node) as usize;
        if self.merge_tail[root] == NONE {
            self.merge_head[root] = id;
        } else {
            self.merges[self.merge_tail[root] as usize].next = id;
        }
        self.merge_tail[root] = id;
    }

    fn new_node(&mut self, p: Pending, ms: i64) -> u32 {
        let id = self.nodes.len() as u32;
        let service = p.service;
        let seen = p.ends_ms.map_or(ms, |e| e.max(ms));
        self.low.push(p.low);
        if self.naming {
            let id = if p.name == 0 {
                NO_NAME
            } else {
                self.names.id(p.name, self.cfg().max_names)
            };
            self.names.of.push(id);
        }
        self.comp_first.push(ms);
        self.nodes.push(Node {
            start_ms: ms,
            last_seen_ms: seen,
            latest_start_ms: ms,
            service,
            latest_rec: p.record,
            first_rec: p.record,
            rec_head: NONE,
            rec_tail: NONE,
            next_member: NONE,
        });
        self.push_record(id, p.record);
        self.dedup.insert(p.key, (id, seen));
        if !self.gone.is_empty() {
            self.gone.remove(&p.key);
        }
        self.parent.push(id);
        self.size.push(1);
        self.comp_min.push(id);
        self.comp_last.push(ms);
        self.member_tail.push(id);
        self.merge_head.push(NONE);
        self.merge_tail.push(NONE);
        self.opened.push(false);
        self.closed.push(false);
        if self.cfg().min_incident_alerts <= 1 {
            self.open(id);
        }
        id
    }

    fn open(&mut self, root: u32) {
        self.opened[root as usize] = true;
        if self.events_on {
            let id = self.id_of_root(root);
            self.events.push(IncidentEvent::Opened { id });
        }
    }

    /// Joins the groups of `a` (earlier) and `b` (the new node) if they differ.
    fn union(&mut self, a: u32, b: u32, kind: Kind, aux: u64) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        let (big, small) = if self.size[ra as usize] >= self.size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        let (bi, si) = (big as usize, small as usize);
        let was_open = (self.opened[bi], self.opened[si]);
        let ids = if self.events_on && was_open.0 && was_open.1 {
            Some((self.id_of_root(big), self.id_of_root(small)))
        } else {
            None
        };
        self.parent[si] = big;
        self.size[bi] += self.size[si];
        // Members list: splice small after big (head of a list is its comp_min-independent
        // root node's chain; we keep a chain per root starting at the root).
        let big_tail = self.member_tail[bi];
        self.nodes[big_tail as usize].next_member = small;
        self.member_tail[bi] = self.member_tail[si];
        if self.merge_head[si] != NONE {
            if self.merge_tail[bi] == NONE {
                self.merge_head[bi] = self.merge_head[si];
            } else {
                self.merges[self.merge_tail[bi] as usize].next = self.merge_head[si];
            }
            self.merge_tail[bi] = self.merge_tail[si];
        }
        self.comp_min[bi] = self.comp_min[bi].min(self.comp_min[si]);
        self.comp_first[bi] = self.comp_first[bi].min(self.comp_first[si]);
        self.comp_last[bi] = self.comp_last[bi].max(self.comp_last[si]);
        let (an, bn) = (&self.nodes[a as usize], &self.nodes[b as usize]);
        let (a_rec, b_rec, gap) = (an.first_rec, bn.first_rec, bn.start_ms - an.start_ms);
        self.add_merge(a, b, a_rec, b_rec, gap, kind, aux);
        let opened = was_open.0 || was_open.1;
        self.opened[bi] = opened;
        if let Some((id_big, id_small)) = ids {
            let into = self.id_of_root(big);
            let from = if into == id_big { id_small } else { id_big };
            self.events.push(IncidentEvent::Merged { into, from });
        }
        if !opened && self.size[bi] as usize >= self.cfg().min_incident_alerts {
            self.open(big);
        } else if opened && self.events_on {
            let id = self.id_of_root(big);
            self.events
                .push(IncidentEvent::Updated { id, record: b_rec });
        }
    }

    fn evict(&mut self, now_ms: i64) {
        let w = self.c.wide_ms;
        while let Some(n) = self.nodes.get(self.window_head as usize) {
            let front = self.window_head;
            if now_ms - n.start_ms <= w {
                break;
            }
            if n.service != NONE && self.latest[n.service as usize] == front {
                bitset::clear(&mut self.active, n.service as usize);
                self.latest[n.service as usize] = NONE;
            }
            self.window_head += 1;
        }
    }

    /// Whether the service's latest alert lies inside this timestamp's window (`win_ms`).
    #[inline]
    fn in_window(&self, ms: i64, service: usize) -> bool {
        bitset::get(&self.active, service)
            && (self.win_ms >= self.c.wide_ms
                || ms - self.nodes[self.latest[service] as usize].start_ms <= self.win_ms)
    }

    /// Looks up the latest node with this key inside the window and records this node as the
    /// latest; `same` checks a candidate really has the same value (hash collisions).
    fn key_rule(
        &mut self,
        node: u32,
        key: u64,
        kind: Kind,
        aux: u32,
        same: impl Fn(&Alert, &Alert) -> bool,
    ) {
        let w = self.cfg().window_secs * 1000;
        let ms = self.nodes[node as usize].start_ms;
        if let Some(&prev) = self.keys.get(&key) {
            let p = &self.nodes[prev as usize];
            if ms - p.start_ms <= w
                && !self.low[node as usize]
                && !self.low[prev as usize]
                && same(self.alert(prev), self.alert(node))
            {
                self.cands.push((node, prev, kind, aux));
            }
        }
        self.keys.insert(key, node);
    }

    pub(super) fn process_group(&mut self, ms: i64, group: &[Pending]) {
        self.evict(ms);
        self.expire_dedup(ms);
        let mut fresh = std::mem::take(&mut self.fresh);
        fresh.clear();
        for &p in group {
            if let Some(node) = self.refire_target(p.key, ms) {
                self.attach(node, p, ms);
            } else if self.updates_gone(p.key, ms) {
                self.attach_gone(p, ms);
            } else {
                fresh.push(self.new_node(p, ms));
            }
        }
        let cfg = self.cfg();
        let scored = cfg.grouping == Grouping::Scored;
        if scored {
            self.prev_on_service.resize(self.nodes.len(), NONE);
        }
        let naming = self.naming;
        let first_ms = *self.first_ms.get_or_insert(ms);
        if self.c.dep_window_ms.is_some()
            || self.c.incident_merge.is_some()
            || self.c.sparse_window_ms.is_some()
        {
            let on_graph = fresh
                .iter()
                .filter(|&&n| self.nodes[n as usize].service != NONE)
                .count();
            self.recent.add(ms, on_graph as u64);
        }
        // Whether alerts are sparse enough that a service alerts by chance within `span_ms`
        // with at most `dependency_window_max_chance` (computed once per timestamp, with
        // every alert of it counted, so their order does not matter):
        // 1 - exp(-rate * span) <= max_chance, as rate * span <= -ln(1 - max_chance).
        let sparse = |e: &Self, span_ms: i64| {
            let services = e.c.graph.len().max(1) as f64;
            let (count, covered) = e.recent.get(ms);
            let elapsed = (ms - first_ms).min(covered).max(1) as f64;
            count as f64 * span_ms as f64 <= e.c.max_chance_events * services * elapsed
        };
        self.win_ms = match self.c.sparse_window_ms {
            Some(sw) if sparse(self, sw) => sw,
            _ => cfg.window_secs * 1000,
        };
        let win = self.win_ms;
        // Whether the window holds alerts older than this timestamp's window.
        let narrow = win < self.c.wide_ms;
        // Alerts below `min_severity` relate to nothing: no candidate links one (`low` is
        // all false without the setting), so none is made, rather than made and dropped.
        for &node in &fresh {
            let s = self.nodes[node as usize].service;
            if s != NONE {
                let prev = self.latest[s as usize];
                if prev != NONE && (cfg.same_service || cfg.dependency_path) {
                    if scored {
                        // For `path_link`, whatever the severities.
                        self.prev_on_service[node as usize] = prev;
                    }
                    if !self.low[node as usize]
                        && !self.low[prev as usize]
                        && (!narrow || ms - self.nodes[prev as usize].start_ms <= win)
                    {
                        self.cands.push((node, prev, Kind::Service, 0));
                    }
                }
                self.latest[s as usize] = node;
                self.last_on[s as usize] = node;
                bitset::set(&mut self.active, s as usize);
            } else if let Some(key) = service_of(cfg, self.alert(node))
                .filter(|_| cfg.same_service)
                .map(|name| hash_str(SALT_SERVICE, name))
            {
                self.key_rule(node, key, Kind::Service, 0, |x, y| {
                    service_of(cfg, x) == service_of(cfg, y)
                });
            }
            if cfg.same_metric_type {
                let m = self.alert(node).metric_type();
                let key = match m {
                    Some(m) => Some(hash_str(SALT_METRIC, m)),
                    None if cfg.missing_metric_type_matches => Some(MISSING_METRIC),
                    None => None,
                };
                if let Some(key) = key {
                    self.key_rule(node, key, Kind::Metric, 0, |x, y| {
                        x.metric_type() == y.metric_type()
                    });
                }
            }
            for (gi, g) in cfg.shared_labels.iter().enumerate() {
                if let Some(key) = first_label(self.alert(node), g)
                    .map(|(_, v)| hash_str(SALT_LABEL + ((gi as u64) << 8), v))
                {
                    self.key_rule(node, key, Kind::Label, gi as u32, |x, y| {
                        first_label(x, g).map(|p| p.1) == first_label(y, g).map(|p| p.1)
                    });
                }
            }
            for (si, set) in cfg.label_sets.iter().enumerate() {
                if let Some(key) = set_values(self.alert(node), set)
                    .map(|vals| vals.into_iter().fold(SALT_SET + si as u64, hash_str))
                {
                    self.key_rule(node, key, Kind::Set, si as u32, |x, y| {
                        set_values(x, set) == set_values(y, set)
                    });
                }
            }
            if cfg.shared_dependency && s != NONE {
                let deps: Vec<usize> = self.c.graph.dependency_indices(s as usize).collect();
                for d in deps {
                    let key = SALT_DEP.wrapping_mul(0x1_0000_0001) ^ ((d as u64) << 16) ^ 0xdead;
                    self.key_rule(node, key, Kind::Dep, d as u32, |_, _| true);
                }
            }
        }
        // Links beyond the window, while alerts are sparse enough over the extra span.
        let slow_window = self
            .c
            .dep_window_ms
            .filter(|&dw| sparse(self, dw - cfg.window_secs * 1000));
        if cfg.dependency_path {
            for &node in &fresh {
                let s = self.nodes[node as usize].service;
                // An alert below `min_severity` relates to nothing: its path links would be
                // dropped below, so they are not looked for.
                if s == NONE || self.low[node as usize] {
                    continue;
                }
                let anc = self.c.ancestors(s as usize);
                let mut hits = std::mem::take(&mut self.scratch);
                hits.clear();
                for (w, (a, b)) in anc.iter().zip(&self.active).enumerate() {
                    let mut bits = a & b;
                    while bits != 0 {
                        let t = w * 64 + bits.trailing_zeros() as usize;
                        bits &= bits - 1;
                        if t != s as usize {
                            hits.push(t as u32);
                        }
                    }
                }
                for &t in &hits {
                    let prev = self.latest[t as usize];
                    if !narrow || ms - self.nodes[prev as usize].start_ms <= win {
                        self.path_link(ms, node, prev);
                    }
                }
                // A link beyond the window is weak evidence: only for an alert whose name has
                // followed its dependencies' alerts at least as often as the mean name.
                let slow_ok = |e: &Self| {
                    !naming
                        || e.names
                            .link_ratio(e.names.of[node as usize], cfg.name_prior_alerts)
                            >= 1.0
                };
                if let Some(dw) = slow_window.filter(|_| slow_ok(self)) {
                    for &d in self.c.direct_dependencies(s as usize) {
                        // Inside the window the hits above hold it already.
                        if self.in_window(ms, d as usize) {
                            continue;
                        }
                        let prev = self.last_on[d as usize];
                        if prev != NONE && ms - self.nodes[prev as usize].start_ms <= dw {
                            self.path_link(ms, node, prev);
                        }
                    }
                }
                self.scratch = hits;
            }
        }
        let mut cands = std::mem::take(&mut self.cands);
        if cfg.silent_dependency && !fresh.is_empty() {
            self.silent_siblings(ms, &fresh, &mut cands);
        }
        match cfg.grouping {
            Grouping::Connected => {
                // Dependency paths first, as the article tests them first.
                for pass in [true, false] {
                    for &(node, prev, kind, aux) in &cands {
                        if matches!(kind, Kind::Path | Kind::Service) == pass {
                            self.union(prev, node, kind, u64::from(aux));
                        }
                    }
                }
            }
            Grouping::BestParent => {
                let span = cfg.max_incident_span_secs.map(|x| x.saturating_mul(1000));
                // Stable: per node, same-service and key candidates first, then paths.
                cands.sort_by_key(|c| c.0);
                let mut i = 0;
                while i < cands.len() {
                    let node = cands[i].0;
                    let mut best = None;
                    let mut best_key = (0u32, i64::MIN, 0u32);
                    while i < cands.len() && cands[i].0 == node {
                        let c = cands[i];
                        i += 1;
                        let root = self.find(c.1);
                        if let Some(span) = span {
                            let first = self.comp_first[root as usize];
                            if ms - first > span {
                                continue;
                            }
                        }
                        let key = (
                            self.size[root as usize],
                            self.nodes[c.1 as usize].start_ms,
                            c.1,
                        );
                        if best.is_none() || key > best_key {
                            best_key = key;
                            best = Some(c);
                        }
                    }
                    if let Some(best) = best {
                        self.union(best.1, node, best.2, u64::from(best.3));
                    }
                }
            }
            Grouping::Scored => {
                self.group_scored(ms, &mut cands);
                if naming {
                    // Learn only after the whole timestamp is placed, so alerts with equal
                    // starts see the same statistics whatever their order.
                    self.learn_names(&fresh, &cands);
                }
            }
        }
        cands.clear();
        self.cands = cands;
        if self.c.incident_merge.is_some() && !fresh.is_empty() {
            let open = sparse(self, cfg.window_secs * 1000);
            self.merge_incidents(ms, &fresh, open);
        }
        for &node in &fresh {
            let root = self.find(node);
            let r = root as usize;
            self.comp_last[r] = self.comp_last[r].max(ms);
            if self.events_on && self.opened[r] {
                self.quiet_heap.push(Reverse((ms, root)));
            }
        }
        self.fresh = fresh;
    }

    /// With `incident_merge_coverage`, once the timestamp's alerts are placed: adds their
    /// services to the incidents tracked, tracks an incident that reached 3 alerts (and
    /// `min_incident_alerts`) while alerts are `sparse`, and while they are, merges the pairs
    /// of incidents that gained an alert whose coverage holds (see
    /// [`CorrelatorConfig::incident_merge_coverage`]). Tracks whose first alert began longer
    /// ago than the quiet period are dropped first: such incidents never merge.
    fn merge_incidents(&mut self, ms: i64, fresh: &[u32], sparse: bool) {
        let Some((coverage, window_ms)) = self.c.incident_merge else {
            return;
        };
        let horizon = self.cfg().quiet_period_secs.saturating_mul(1000);
        let min = self.cfg().min_incident_alerts.max(3);
        if ms.saturating_sub(self.tracks_from) > horizon {
            self.untrack(|t| ms - t.first_ms > horizon);
        }
        let graph = self.c.graph;
        let reaches =
            |from: u32, to: u32| from != NONE && graph.has_path_index(from as usize, to as usize);
        // Reused between timestamps (a fresh list per timestamp allocated on every one that
        // touched a tracked incident).
        let mut changed = std::mem::take(&mut self.merge_changed);
        changed.clear();
        for &node in fresh {
            let s = self.nodes[node as usize].service;
            let root = self.find(node);
            let first = self.comp_min[root as usize];
            if let Some(&k) = self.track_at.get(&first) {
                let k = k as usize;
                if s != NONE
                    && let Err(at) = self.tracks[k].services.binary_search(&s)
                {
                    self.tracks[k].services.insert(at, s);
                    // One reachability bit per pair: from the other's first service to `s`.
                    let mut ids = std::mem::take(&mut self.tracks[k].pairs);
                    let (tracks, track_at, pairs) = (&self.tracks, &self.track_at, &mut self.pairs);
                    ids.retain(|id| {
                        let Some(p) = pairs.get_mut(id) else {
                            return false;
                        };
                        let other = if p.b == first { p.a } else { p.b };
                        let from = track_at
                            .get(&other)
                            .map_or(NONE, |&o| tracks[o as usize].service);
                        if reaches(from, s) {
                            if p.b == first {
                                p.a_reaches += 1;
                            } else {
                                p.b_reaches += 1;
                            }
                        }
                        true
                    });
                    self.tracks[k].pairs = ids;
                }
            } else if sparse
                && self.size[root as usize] as usize >= min
                && ms - self.comp_first[root as usize] <= horizon
            {
                self.track(root, window_ms);
            } else {
                continue;
            }
            if !changed.contains(&first) {
                changed.push(first);
            }
        }
        if !sparse {
            self.merge_changed = changed;
            return;
        }
        // Merge while some pair touching a changed incident holds (the first such pair in the
        // order found, so the result does not depend on anything else).
        loop {
            let (tracks, track_at) = (&self.tracks, &self.track_at);
            let track = |x: u32| track_at.get(&x).map(|&k| &tracks[k as usize]);
            let mut found: Option<(u64, Upstream)> = None;
            for &c in &changed {
                let Some(t) = track(c) else {
                    continue;
                };
                // A track's pairs are in the order found: its first that holds is its best.
                for id in &t.pairs {
                    if found.is_some_and(|f| f.0 <= *id) {
                        break;
                    }
                    let Some(p) = self.pairs.get(id) else {
                        continue;
                    };
                    let (Some(ta), Some(tb)) = (track(p.a), track(p.b)) else {
                        continue;
                    };
                    let holds = |reached: u32, of: &Track| {
                        !of.services.is_empty()
                            && f64::from(reached) >= coverage * of.services.len() as f64
                    };
                    let merge = if ta.service != NONE && holds(p.a_reaches, tb) {
                        (p.a, p.b, true, p.a_reaches, tb.services.len())
                    } else if tb.service != NONE && holds(p.b_reaches, ta) {
                        (p.a, p.b, false, p.b_reaches, ta.services.len())
                    } else {
                        continue;
                    };
                    found = Some((*id, merge));
                    break;
                }
            }
            let Some((_, (a, b, a_up, reached, services))) = found else {
                break;
            };
            self.untrack(|t| t.first == a || t.first == b);
            let aux = pack_upstream(a_up, reached, u32::try_from(services).unwrap_or(u32::MAX));
            self.union(a, b, Kind::Upstream, aux);
            let root = self.find(a);
            self.track(root, window_ms);
            changed.retain(|&x| x != b);
            if !changed.contains(&a) {
                changed.push(a);
            }
        }
        self.merge_changed = changed;
    }

    /// Starts tracking the incident of `root` (its services from its members), paired with
    /// every tracked incident whose first alert began at most `window_ms` apart from its own.
    fn track(&mut self, root: u32, window_ms: i64) {
        let first = self.comp_min[root as usize];
        let mut services = Vec::new();
        let mut x = root;
        while x != NONE {
            let n = &self.nodes[x as usize];
            if n.service != NONE {
                services.push(n.service);
            }
            x = n.next_member;
        }
        services.sort_unstable();
        services.dedup();
        let mut t = Track {
            first,
            service: self.nodes[first as usize].service,
            first_ms: self.comp_first[root as usize],
            services,
            pairs: Vec::new(),
        };
        let graph = self.c.graph;
        let count = |from: u32, of: &Track| {
            if from == NONE {
                return 0;
            }
            of.services
                .iter()
                .filter(|&&s| graph.has_path_index(from as usize, s as usize))
                .count() as u32
        };
        for o in &mut self.tracks {
            if (o.first_ms - t.first_ms).abs() > window_ms {
                continue;
            }
            let (a, b) = if o.first < t.first {
                (&*o, &t)
            } else {
                (&t, &*o)
            };
            let id = self.pairs_found;
            self.pairs_found += 1;
            self.pairs.insert(
                id,
                Pair {
                    a: a.first,
                    b: b.first,
                    a_reaches: count(a.service, b),
                    b_reaches: count(b.service, a),
                },
            );
            o.pairs.push(id);
            t.pairs.push(id);
        }
        self.track_at.insert(t.first, self.tracks.len() as u32);
        self.tracks_from = self.tracks_from.min(t.first_ms);
        self.tracks.push(t);
    }

    /// Stops tracking the incidents `stop` picks, with their pairs (each track's own pairs:
    /// no scan of every pair).
    fn untrack(&mut self, stop: impl Fn(&Track) -> bool) {
        let mut kept = Vec::with_capacity(self.tracks.len());
        for t in std::mem::take(&mut self.tracks) {
            if stop(&t) {
                for id in &t.pairs {
                    self.pairs.remove(id);
                }
            } else {
                kept.push(t);
            }
        }
        self.tracks = kept;
        self.track_at.clear();
        self.tracks_from = i64::MAX;
        for (k, t) in self.tracks.iter().enumerate() {
            self.track_at.insert(t.first, k as u32);
            self.tracks_from = self.tracks_from.min(t.first_ms);
        }
    }

    /// With `silent_dependency`: for each new alert without any candidate, links to the latest
    /// alert on each sibling under a silent direct dependency of its service (see
    /// [`CorrelatorConfig::silent_dependency`]). `fresh` holds consecutive node ids.
    fn silent_siblings(&mut self, ms: i64, fresh: &[u32], cands: &mut Vec<(u32, u32, Kind, u32)>) {
        let (Some(deps), Some(users)) = (self.c.deps.as_ref(), self.c.users.as_ref()) else {
            return;
        };
        let base = fresh[0];
        let mut linked = std::mem::take(&mut self.linked);
        linked.clear();
        linked.resize(fresh.len(), false);
        for c in cands.iter() {
            if let Some(x) = linked.get_mut(c.0.wrapping_sub(base) as usize) {
                *x = true;
            }
        }
        let w = self.win_ms;
        let dw = self.c.dep_window_ms;
        for (k, &node) in fresh.iter().enumerate() {
            let s = self.nodes[node as usize].service;
            if linked[k] || s == NONE || self.low[node as usize] {
                continue;
            }
            for &d in deps.row(s as usize) {
                let d = d as usize;
                let last = self.last_on[d];
                let silent = !self.in_window(ms, d)
                    && (last == NONE
                        || dw.is_none_or(|dw| ms - self.nodes[last as usize].start_ms > dw));
                if !silent {
                    continue;
                }
                let row = users.row(d);
                let alerting = row
                    .iter()
                    .filter(|&&u| u != s && self.in_window(ms, u as usize))
                    .count();
                // A quarter of the other dependents alerting: a cascade, not a coincidence.
                if alerting == 0 || 4 * alerting < row.len() - 1 {
                    continue;
                }
                for &u in row {
                    if u == s || !self.in_window(ms, u as usize) {
                        continue;
                    }
                    let prev = self.latest[u as usize];
                    if prev == node || self.low[prev as usize] {
                        continue;
                    }
                    // Only an incident that began within the window: a running incident
                    // taking such an alert in would take noise and new roots with it.
                    let root = self.find(prev);
                    if ms - self.comp_first[root as usize] > w {
                        continue;
                    }
                    cands.push((node, prev, Kind::Dep, d as u32));
                }
            }
        }
        self.linked = linked;
    }

    /// A dependency-path link from `prev` to `node` (unless `prev` is below `min_severity`),
    /// and with [`Grouping::Scored`] the earlier alerts on `prev`'s service within the window,
    /// up to `alerts_per_dependency` alerts in all (below `min_severity` ones skipped but
    /// counted), so a later alert there (often noise) does not hide a cascade's alert.
    #[inline]
    fn path_link(&mut self, ms: i64, node: u32, prev: u32) {
        if !self.low[prev as usize] {
            self.cands.push((node, prev, Kind::Path, 0));
        }
        let cfg = self.cfg();
        if cfg.grouping != Grouping::Scored {
            return;
        }
        let extra = cfg.alerts_per_dependency.saturating_sub(1);
        let w = self.win_ms;
        let mut q = self.prev_on_service[prev as usize];
        let mut d = 0;
        while q != NONE && d < extra && ms - self.nodes[q as usize].start_ms <= w {
            if !self.low[q as usize] {
                self.cands.push((node, q, Kind::Path, 0));
            }
            q = self.prev_on_service[q as usize];
            d += 1;
        }
    }

    /// With `name_label`: counts each new alert (above `min_severity`) and its path links
    /// (`cands` are sorted by node) in the name statistics.
    fn learn_names(&mut self, fresh: &[u32], cands: &[(u32, u32, Kind, u32)]) {
        let mut i = 0;
        for &node in fresh {
            while i < cands.len() && cands[i].0 < node {
                i += 1;
            }
            let mut links = 0u32;
            while i < cands.len() && cands[i].0 == node {
                links += u32::from(cands[i].2 == Kind::Path);
                i += 1;
            }
            if !self.low[node as usize] {
                self.names.learn(self.names.of[node as usize], links);
            }
        }
    }

    /// [`Grouping::Scored`]: each new alert joins the related incident with the highest score
    /// (links to it x its size prior), skipping incidents that already reached its service
    /// earlier than `same_service_secs` ago.
    fn group_scored(&mut self, ms: i64, cands: &mut [(u32, u32, Kind, u32)]) {
        let cfg = self.cfg();
        let span = cfg.max_incident_span_secs.map(|x| x.saturating_mul(1000));
        let same_ms = cfg.same_service_secs.map(|x| x.saturating_mul(1000));
        let prior = cfg.size_prior_alerts;
        let decay = self.c.decay.as_ref();
        let naming = self.naming;
        let prior_n = cfg.name_prior_alerts;
        // Stable: per node, same-service and key candidates first, then paths.
        cands.sort_by_key(|c| c.0);
        let mut per = std::mem::take(&mut self.scored);
        let mut i = 0;
        while i < cands.len() {
            let node = cands[i].0;
            per.clear();
            while i < cands.len() && cands[i].0 == node {
                let c = cands[i];
                i += 1;
                let root = self.find(c.1);
                let first = self.comp_first[root as usize];
                if span.is_some_and(|span| ms - first > span) {
                    continue;
                }
                let gap = ms - self.nodes[c.1 as usize].start_ms;
                // The incident's alert on this service is older than a cascade's alerts on one
                // service can be apart: the incident reached the service before, this alert is
                // something else.
                let stale = c.2 == Kind::Service && same_ms.is_some_and(|w| gap > w);
                let at = if let Some(p) = per.iter().position(|e| e.root == root) {
                    p
                } else {
                    per.push(Scored {
                        root,
                        links: 0,
                        weight: 0.0,
                        service: false,
                        excluded: false,
                        link: c,
                    });
                    per.len() - 1
                };
                let e = &mut per[at];
                if stale {
                    e.excluded = true;
                } else {
                    // Keep the latest linked alert as the why-record (equal starts: the later
                    // alert, so the order of the candidates does not matter).
                    if e.links == 0
                        || (self.nodes[c.1 as usize].start_ms, c.1)
                            > (self.nodes[e.link.1 as usize].start_ms, e.link.1)
                    {
                        e.link = c;
                    }
                    e.links += 1;
                    // A cascade's hop delays are short more often than long.
                    let w = decay.map_or(1.0, |d| d.weight(gap));
                    e.service |= c.2 == Kind::Service;
                    e.weight += w;
                }
            }
            let mut best: Option<(f64, u32, i64, u32)> = None;
            let mut link = None;
            let mut service = false;
            for e in &per {
                if e.excluded || e.links == 0 {
                    continue;
                }
                let size = self.size[e.root as usize];
                let score = e.weight * f64::from(size) / (f64::from(size) + prior);
                let key = (
                    score,
                    size,
                    self.nodes[e.link.1 as usize].start_ms,
                    e.link.1,
                );
                // Scores within a relative 1e-9 are a tie (equal in exact arithmetic, they differ
                // only by rounding): then the larger incident, then the latest linked alert.
                let better = best.is_none_or(|b| {
                    let tol = 1e-9 * key.0.abs().max(b.0.abs());
                    if (key.0 - b.0).abs() > tol {
                        key.0 > b.0
                    } else {
                        (key.1, key.2, key.3) > (b.1, b.2, b.3)
                    }
                });
                if better {
                    best = Some(key);
                    link = Some(e.link);
                    service = e.service;
                }
            }
            if naming
                && !service
                && link.is_some()
                && self.names.link_ratio(self.names.of[node as usize], prior_n)
                    < cfg.min_name_link_ratio
            {
                link = None;
            }
            if let Some(c) = link {
                self.union(c.1, node, c.2, u64::from(c.3));
            }
        }
        per.clear();
        self.scored = per;
    }

    pub(super) fn close_quiet(&mut self, now_ms: i64) {
        let quiet = self.cfg().quiet_period_secs * 1000;
        while let Some(&Reverse((last, root))) = self.quiet_heap.peek() {
            if now_ms - last <= quiet {
                break;
            }
            self.quiet_heap.pop();
            let r = root as usize;
            if self.parent[r] != root
                || self.comp_last[r] != last
                || !self.opened[r]
                || self.closed[r]
            {
                continue; // stale entry
            }
            self.closed[r] = true;
            let inc = self.build(root);
            self.events.push(IncidentEvent::Closed(Box::new(inc)));
        }
    }

    /// Stream: forgets every group that no record starting at `now_ms` or later can join or
    /// update, and renumbers the rest (in the same order, so every later decision is the same).
    /// A group is settled when each of its alerts began longer ago than any rule links back
    /// (the window, `dependency_window_secs`) and was last seen longer ago than the re-fire
    /// window; an incident is forgotten only once reported closed. `pending` are the records
    /// still waiting to be placed (kept). Returns the forgotten incidents' ids (in order of
    /// their first alert) and the forgotten noise records (ascending). O(everything held).
    pub(super) fn release(
        &mut self,
        now_ms: i64,
        pending: &[Pending],
    ) -> (Vec<String>, Vec<usize>) {
        let cfg = self.cfg();
        let reach = self.c.wide_ms.max(self.c.dep_window_ms.unwrap_or(0));
        let refire = cfg.refire_window_secs.saturating_mul(1000);
        let n = self.nodes.len();
        // Per root: whether a member may still be linked to or updated.
        let mut busy = vec![false; n];
        for x in 0..n {
            let nd = &self.nodes[x];
            if now_ms.saturating_sub(nd.start_ms) <= reach
                || now_ms.saturating_sub(nd.last_seen_ms) <= refire
            {
                let r = self.find(x as u32);
                busy[r as usize] = true;
            }
        }
        let mut ids: Vec<(u32, String)> = Vec::new();
        let roots: Vec<u32> = (0..n as u32).map(|x| self.find(x)).collect();
        let keep: Vec<bool> = (0..n)
            .map(|x| {
                let r = roots[x] as usize;
                let kept = busy[r] || (self.opened[r] && !self.closed[r]);
                if !kept && x == r && self.opened[r] {
                    ids.push((self.comp_min[r], self.id_of_root(r as u32)));
                }
                kept
            })
            .collect();
        // Updates of forgotten alerts since the last release that were noise, and forgotten
        // alerts no update can reach any more. Their records leave the store below, so the
        // store is compacted whenever there were any, even when no node goes.
        let late = !self.late.is_empty();
        let mut noise: Vec<usize> = self
            .late
            .drain(..)
            .filter_map(|(r, noise)| noise.then_some(r))
            .collect();
        self.gone
            .retain(|_, g| g.firing || now_ms.saturating_sub(g.last_seen_ms) <= refire);
        if !late && keep.iter().all(|&k| k) {
            noise.sort_unstable();
            return (Vec::new(), noise);
        }
        ids.sort_unstable_by_key(|e| e.0);
        let ids = ids.into_iter().map(|e| e.1).collect();
        for s in 0..self.rec_index.len() {
            let x = self.rec_node[s] as usize;
            if !keep[x] && !self.opened[roots[x] as usize] {
                noise.push(self.rec_index[s]);
            }
        }
        noise.sort_unstable();
        // An alert forgotten while firing (its resolution is still to come) leaves what a later
        // update of it needs.
        for (&key, &(x, _)) in &self.dedup {
            let (x, nd) = (x as usize, &self.nodes[x as usize]);
            if keep[x] || !self.at(nd.latest_rec).is_firing() {
                continue;
            }
            let r = roots[x] as usize;
            let incident = self.opened[r].then(|| self.nodes[self.comp_min[r] as usize].first_rec);
            self.gone.insert(
                key,
                Gone {
                    last_seen_ms: nd.last_seen_ms,
                    latest_start_ms: nd.latest_start_ms,
                    firing: true,
                    incident,
                },
            );
        }

        // New ids: nodes, record slots and merges, each in their old order.
        let renumber = |flags: &mut dyn Iterator<Item = bool>| -> Vec<u32> {
            let mut next = 0u32;
            flags
                .map(|k| {
                    if k {
                        next += 1;
                        next - 1
                    } else {
                        NONE
                    }
                })
                .collect()
        };
        let node_id = renumber(&mut keep.iter().copied());
        let slot_id = renumber(&mut self.rec_node.iter().map(|&x| keep[x as usize]));
        let merge_id = renumber(&mut self.merges.iter().map(|m| keep[m.b_node as usize]));
        let node = |x: u32| if x == NONE { NONE } else { node_id[x as usize] };
        let slot = |x: u32| if x == NONE { NONE } else { slot_id[x as usize] };
        let merge = |x: u32| {
            if x == NONE {
                NONE
            } else {
                merge_id[x as usize]
            }
        };

        retain_at(&mut self.nodes, &node_id);
        for nd in &mut self.nodes {
            nd.rec_head = slot(nd.rec_head);
            nd.rec_tail = slot(nd.rec_tail);
            nd.next_member = node(nd.next_member);
        }
        for v in [
            &mut self.parent,
            &mut self.comp_min,
            &mut self.member_tail,
            &mut self.prev_on_service,
        ] {
            retain_at(v, &node_id);
            for x in v.iter_mut() {
                *x = node(*x);
            }
        }
        for v in [&mut self.merge_head, &mut self.merge_tail] {
            retain_at(v, &node_id);
            for x in v.iter_mut() {
                *x = merge(*x);
            }
        }
        retain_at(&mut self.size, &node_id);
        retain_at(&mut self.names.of, &node_id);
        retain_at(&mut self.comp_first, &node_id);
        retain_at(&mut self.comp_last, &node_id);
        for v in [&mut self.opened, &mut self.closed, &mut self.low] {
            retain_at(v, &node_id);
        }
        retain_at(&mut self.rec_index, &slot_id);
        retain_at(&mut self.rec_node, &slot_id);
        self.rec_node.iter_mut().for_each(|x| *x = node(*x));
        retain_at(&mut self.rec_next, &slot_id);
        self.rec_next.iter_mut().for_each(|x| *x = slot(*x));
        retain_at(&mut self.merges, &merge_id);
        for m in &mut self.merges {
            m.a_node = node(m.a_node);
            m.b_node = node(m.b_node);
            m.next = merge(m.next);
        }
        // Tracked incidents are open and younger than the quiet period, so kept; one closed
        // since the last placement (its track expires at the next) may go with its pairs.
        self.untrack(|t| node(t.first) == NONE);
        self.tracks.iter_mut().for_each(|t| t.first = node(t.first));
        self.track_at = (self.tracks.iter().enumerate())
            .map(|(k, t)| (t.first, k as u32))
            .collect();
        for p in self.pairs.values_mut() {
            (p.a, p.b) = (node(p.a), node(p.b));
        }
        // References into the nodes. A forgotten node is outside every window, so clearing
        // it here changes nothing the window's own eviction would not.
        for s in 0..self.latest.len() {
            if self.latest[s] != NONE && node(self.latest[s]) == NONE {
                bitset::clear(&mut self.active, s);
            }
            self.latest[s] = node(self.latest[s]);
            self.last_on[s] = node(self.last_on[s]);
        }
        self.window_head = keep[..(self.window_head as usize).min(n)]
            .iter()
            .filter(|&&k| k)
            .count() as u32;
        self.dedup.retain(|_, e| node(e.0) != NONE);
        self.dedup.values_mut().for_each(|e| e.0 = node(e.0));
        self.keys.retain(|_, x| node(*x) != NONE);
        self.keys.values_mut().for_each(|x| *x = node(*x));
        let heap = std::mem::take(&mut self.quiet_heap);
        self.quiet_heap = heap
            .into_iter()
            .filter(|e| node(e.0.1) != NONE)
            .map(|Reverse((t, r))| Reverse((t, node(r))))
            .collect();

        // The alerts: those of the records kept and of the records waiting, in record order.
        let mut records: Vec<usize> = self.rec_index.clone();
        records.extend(pending.iter().map(|p| p.record));
        records.sort_unstable();
        let old_ext = self.store_ext.take();
        let old = std::mem::take(self.store.to_mut());
        let store = self.store.to_mut();
        store.reserve_exact(records.len());
        let mut want = records.iter().peekable();
        for (at, a) in old.into_iter().enumerate() {
            let rec = old_ext.as_ref().map_or(at, |e| e[at]);
            if want.peek() == Some(&&rec) {
                store.push(a);
                want.next();
            }
        }
        self.store_ext = Some(records);
        (ids, noise)
    }

    /// An incident's members (in start order), records (ascending) and merges (by later record,
    /// then earlier), without copying any alert.
    fn collect(&self, root: u32) -> Group {
        let size = self.size[root as usize] as usize;
        let mut members: Vec<(i64, u32)> = Vec::with_capacity(size);
        let mut records = Vec::with_capacity(size);
        let mut x = root;
        while x != NONE {
            let n = &self.nodes[x as usize];
            members.push((n.start_ms, x));
            let mut r = n.rec_head;
            while r != NONE {
                records.push(self.rec_index[r as usize]);
                r = self.rec_next[r as usize];
            }
            x = n.next_member;
        }
        members.sort_unstable();
        records.sort_unstable();
        let mut merges = Vec::with_capacity(size);
        let mut m = self.merge_head[root as usize];
        while m != NONE {
            let raw = self.merges[m as usize];
            merges.push(raw);
            m = raw.next;
        }
        merges.sort_by_key(|m| (m.b_rec, m.a_rec));
        Group {
            id_rec: self.nodes[self.comp_min[root as usize] as usize].first_rec,
            members: members.into_iter().map(|(_, x)| x).collect(),
            records,
            merges,
        }
    }

    /// The incident of the group of `root`, built now (streaming `Closed` events).
    fn build(&mut self, root: u32) -> CorrelatedIncident {
        let g = self.collect(root);
        let parts = Parts {
            c: self.c,
            nodes: &self.nodes,
            store: &self.store,
            ext: self.store_ext.as_deref(),
        };
        parts.incident(g, &mut self.owned)
    }

    /// Ends the correlation: the groups, in order of their earliest alert, and the noise.
    pub(super) fn finish(mut self) -> Finished<'c, 'g, 'a> {
        // One pass per array instead of walking every incident's linked lists (8% of the
        // batch time): nodes in id order are in start order, and the first node met of a
        // group is its first alert, so groups come out in order of their earliest alert.
        let n = self.nodes.len();
        let min = self.cfg().min_incident_alerts;
        let mut node_group = vec![NONE; n];
        let mut groups: Vec<Group> = Vec::new();
        for x in 0..n as u32 {
            let root = self.find(x) as usize;
            if (self.size[root] as usize) < min {
                continue;
            }
            let g = if node_group[root] == NONE {
                let g = groups.len();
                groups.push(Group {
                    id_rec: self.nodes[x as usize].first_rec,
                    members: Vec::with_capacity(self.size[root] as usize),
                    records: Vec::new(),
                    merges: Vec::new(),
                });
                node_group[root] = g as u32;
                g
            } else {
                node_group[root] as usize
            };
            node_group[x as usize] = g as u32;
            groups[g].members.push(x);
        }
        // Records in index order, each with its group, so every list comes out sorted and
        // sized once (sorting the noise and growing the lists took 7% of the batch time).
        // By the record's place in the store: its index, unless a stream released records.
        let ext = self.store_ext.as_deref();
        let stored = ext.map_or(self.records, <[usize]>::len);
        let mut group_of = vec![NONE; stored];
        for (&record, &node) in self.rec_index.iter().zip(&self.rec_node) {
            let at = ext.map_or(record, |e| e.partition_point(|&r| r < record));
            if let Some(x) = group_of.get_mut(at) {
                *x = node_group[node as usize];
            }
        }
        let mut counts = vec![(0usize, 0usize); groups.len()];
        let mut in_groups = 0;
        for &g in &group_of {
            if g != NONE {
                counts[g as usize].0 += 1;
                in_groups += 1;
            }
        }
        for m in &self.merges {
            let g = node_group[m.b_node as usize];
            if g != NONE {
                counts[g as usize].1 += 1;
            }
        }
        for (g, &(r, m)) in groups.iter_mut().zip(&counts) {
            g.records.reserve_exact(r);
            g.merges.reserve_exact(m);
        }
        // Updates of forgotten incidents were reported in events: not noise.
        let mut gone_updates: Vec<usize> = self
            .late
            .iter()
            .filter_map(|&(r, noise)| (!noise).then_some(r))
            .collect();
        gone_updates.sort_unstable();
        let mut noise = Vec::with_capacity(stored.saturating_sub(in_groups));
        for (at, &g) in group_of.iter().enumerate() {
            let record = ext.map_or(at, |e| e[at]);
            if g == NONE && gone_updates.binary_search(&record).is_ok() {
                continue;
            }
            if g == NONE {
                noise.push(record);
            } else {
                groups[g as usize].records.push(record);
            }
        }
        for m in &self.merges {
            let g = node_group[m.b_node as usize];
            if g != NONE {
                groups[g as usize].merges.push(*m);
            }
        }
        for g in &mut groups {
            // (later record, earlier record) is unique per merge: any order sorts the same.
            g.merges.sort_unstable_by_key(|m| (m.b_rec, m.a_rec));
        }
        Finished {
            c: self.c,
            store: self.store,
            store_ext: self.store_ext,
            nodes: self.nodes,
            owned: self.owned,
            groups,
            counts: Counts {
                noise,
                records: stored - gone_updates.len(),
                distinct: n,
            },
        }
    }
}

/// Keeps the items whose new id (`ids`, by old index) is not `NONE`, in order, and gives back
/// the room freed when most of it is unused (a released stream keeps only recent alerts).
fn retain_at<T>(v: &mut Vec<T>, ids: &[u32]) {
    let mut i = 0;
    v.retain(|_| {
        i += 1;
        ids.get(i - 1).is_none_or(|&x| x != NONE)
    });
    if v.capacity() > 4 * v.len() + 64 {
        v.shrink_to(2 * v.len());
    }
}

/// One incident as the engine found it: node and record indices, raw merges.
#[derive(Debug, Clone)]
pub(super) struct Group {
    /// The first record of the incident's first alert (its id is `inc-<id_rec>`).
    pub(super) id_rec: usize,
    /// Nodes in start order.
    pub(super) members: Vec<u32>,
    /// Record indices, ascending.
    pub(super) records: Vec<usize>,
    /// Merges by later record, then earlier.
    pub(super) merges: Vec<RawMerge>,
}

/// Record counts shared by [`Correlation`] and [`CorrelationView`].
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Counts {
    pub(super) noise: Vec<usize>,
    pub(super) records: usize,
    pub(super) distinct: usize,
}

impl Counts {
    pub(super) fn compression(&self, incidents: usize) -> f64 {
        ratio(incidents, self.distinct)
    }
    pub(super) fn raw_compression(&self, incidents: usize) -> f64 {
        ratio(incidents, self.records)
    }
}

/// What a finished engine leaves: enough to render incidents now or later.
pub(super) struct Finished<'c, 'g, 'a> {
    pub(super) c: &'c Correlator<'g>,
    pub(super) store: Cow<'a, [Alert]>,
    pub(super) store_ext: Option<Vec<usize>>,
    pub(super) nodes: Vec<Node>,
    pub(super) owned: Vec<Option<Alert>>,
    pub(super) groups: Vec<Group>,
    pub(super) counts: Counts,
}

impl Finished<'_, '_, '_> {
    pub(super) fn into_correlation(mut self) -> Correlation {
        let parts = Parts {
            c: self.c,
            nodes: &self.nodes,
            store: &self.store,
            ext: self.store_ext.as_deref(),
        };
        let incidents = std::mem::take(&mut self.groups)
            .into_iter()
            .map(|g| parts.incident(g, &mut self.owned))
            .collect();
        Correlation {
            incidents,
            counts: self.counts,
        }
    }
}

/// What rendering a [`Group`] needs.
#[derive(Clone, Copy)]
pub(super) struct Parts<'p, 'g> {
    pub(super) c: &'p Correlator<'g>,
    pub(super) nodes: &'p [Node],
    pub(super) store: &'p [Alert],
    /// As [`Engine`]'s `store_ext`.
    pub(super) ext: Option<&'p [usize]>,
}

/// The alert of record `rec` in a store (see [`Engine`]'s `store_ext`).
#[inline]
fn record_at<'s>(store: &'s [Alert], ext: Option<&[usize]>, rec: usize) -> &'s Alert {
    match ext {
        None => &store[rec],
        Some(ext) => &store[ext.partition_point(|&r| r < rec)],
    }
}

impl Parts<'_, '_> {
    fn at(&self, rec: usize) -> &Alert {
        record_at(self.store, self.ext, rec)
    }

    pub(super) fn merge(&self, m: &RawMerge) -> Merge {
        Merge {
            a: m.a_rec,
            b: m.b_rec,
            rule: self.merge_rule(m),
            gap_secs: m.gap_ms as f64 / 1000.0,
        }
    }

    fn merge_rule(&self, m: &RawMerge) -> MergeRule {
        let (na, nb) = (
            &self.nodes[m.a_node as usize],
            &self.nodes[m.b_node as usize],
        );
        let cfg = &self.c.config;
        let (a, b) = (self.at(na.latest_rec), self.at(nb.latest_rec));
        // Known services by graph index (shared names, no label lookup), others by label.
        let svc = |n: &Node, x: &Alert| match self.c.graph.shared_name(n.service as usize) {
            Some(name) if n.service != NONE => Arc::clone(name),
            _ => Arc::from(service_of(cfg, x).unwrap_or("")),
        };
        match m.kind {
            Kind::Fingerprint => MergeRule::SameFingerprint,
            Kind::Path => MergeRule::DependencyPath {
                from: svc(na, a),
                to: svc(nb, b),
            },
            Kind::Service => match self.c.graph.shared_name(nb.service as usize) {
                Some(name) if nb.service != NONE => MergeRule::DependencyPath {
                    from: Arc::clone(name),
                    to: Arc::clone(name),
                },
                _ => self.c.same_service_rule(service_of(cfg, b).unwrap_or("")),
            },
            Kind::Metric => MergeRule::SameMetricType {
                metric_type: b.metric_type().unwrap_or("").to_owned(),
            },
            Kind::Label => {
                let g = &cfg.shared_labels[m.aux as usize];
                let (l, v) = first_label(b, g).unwrap_or(("", ""));
                MergeRule::SharedLabel {
                    label: l.to_owned(),
                    value: v.to_owned(),
                }
            }
            Kind::Set => {
                let set = &cfg.label_sets[m.aux as usize];
                MergeRule::LabelSet {
                    labels: set
                        .iter()
                        .map(|l| (l.clone(), b.labels().get(l).unwrap_or("").to_owned()))
                        .collect(),
                }
            }
            Kind::Dep => MergeRule::SharedDependency {
                dependency: self
                    .c
                    .graph
                    .shared_name(m.aux as usize)
                    .map_or_else(|| Arc::from(""), Arc::clone),
            },
            Kind::Upstream => {
                let (a_up, reached, services) = unpack_upstream(m.aux);
                let (from, to) = if a_up {
                    (svc(na, a), svc(nb, b))
                } else {
                    (svc(nb, b), svc(na, a))
                };
                MergeRule::UpstreamIncident {
                    from,
                    to,
                    reached,
                    services,
                }
            }
        }
    }

    /// A member's service as the correlator saw it (by graph index, so the incident need not
    /// read every alert's labels again; others by the configured service labels).
    fn service(&self, node: u32) -> Option<&str> {
        let n = &self.nodes[node as usize];
        match self.c.graph.name(n.service as usize) {
            Some(name) if n.service != NONE => Some(name),
            _ => service_of(&self.c.config, self.at(n.latest_rec)),
        }
    }

    /// The aiops-core incident of `g`: each alert in its latest state, taken from `owned` when
    /// a copy was made there (batch mode), else cloned from the store.
    pub(super) fn core_incident(&self, g: &Group, owned: &mut [Option<Alert>]) -> Incident {
        let id = incident_id(g.id_rec);
        let mut alerts: Vec<Alert> = Vec::with_capacity(g.members.len());
        for &x in &g.members {
            let rec = self.nodes[x as usize].latest_rec;
            alerts.push(match owned.get_mut(rec).and_then(Option::take) {
                Some(a) => a,
                None => self.at(rec).clone(),
            });
        }
        let services: Vec<Option<&str>> = g.members.iter().map(|&x| self.service(x)).collect();
        // The alerts are in their latest state: a re-fired alert's first firing, which began
        // the incident, is among the records only.
        let cfg = &self.c.config;
        let first = g
            .records
            .iter()
            .map(|&r| (self.at(r).starts_at(), service_of(cfg, self.at(r))))
            .min();
        // `alerts` is never empty (a group has at least one member) and `services` pairs with it.
        let incident = Incident::from_alerts_and_services(id.clone(), alerts, &services)
            .unwrap_or_else(|_| {
                Incident::from_summary(
                    id,
                    "",
                    aiops_core::Severity::Medium,
                    aiops_core::Labels::new(),
                    Timestamp::EPOCH,
                )
            });
        match first {
            Some((t, service)) => incident.with_first_firing(t, service),
            None => incident,
        }
    }

    pub(super) fn incident(&self, g: Group, owned: &mut [Option<Alert>]) -> CorrelatedIncident {
        CorrelatedIncident {
            incident: self.core_incident(&g, owned),
            merges: g.merges.iter().map(|m| self.merge(m)).collect(),
            records: g.records,
        }
    }
}

/// For `dependency_window_max_chance`: distinct alerts on graph services per minute over the
/// last [`RATE_MINUTES`] minutes, in a ring indexed by minute.
#[derive(Debug)]
pub(super) struct RecentAlerts {
    minute: Vec<i64>,
    count: Vec<u64>,
    total: u64,
    last: Option<i64>,
}

/// How far back the alert rate of `dependency_window_max_chance` looks: 3 hours, so that a
/// long-running stream notices a storm within hours (the rate since the first alert gave the
/// same figures on every storm measured; one hour lowered recall on `day` by up to 0.015).
const RATE_MINUTES: i64 = 180;

impl Default for RecentAlerts {
    fn default() -> Self {
        RecentAlerts {
            minute: vec![i64::MIN; RATE_MINUTES as usize],
            count: vec![0; RATE_MINUTES as usize],
            total: 0,
            last: None,
        }
    }
}

impl RecentAlerts {
    /// Counts `n` alerts at `ms` (times never decrease), dropping minutes that left the span.
    pub(super) fn add(&mut self, ms: i64, n: u64) {
        let m = ms.div_euclid(60_000);
        if self.last == Some(m) {
            self.count[m.rem_euclid(RATE_MINUTES) as usize] += n;
            self.total += n;
            return;
        }
        let from = self.last.map_or(m, |l| (l + 1).max(m - (RATE_MINUTES - 1)));
        for k in from..=m {
            let slot = k.rem_euclid(RATE_MINUTES) as usize;
            if self.minute[slot] != k {
                self.total -= self.count[slot];
                self.count[slot] = 0;
                self.minute[slot] = k;
            }
        }
        self.last = Some(self.last.map_or(m, |l| l.max(m)));
        self.count[m.rem_euclid(RATE_MINUTES) as usize] += n;
        self.total += n;
    }

    /// The alerts counted, and how many milliseconds up to `ms` the counted minutes cover.
    pub(super) fn get(&self, ms: i64) -> (u64, i64) {
        let m = ms.div_euclid(60_000);
        (self.total, ms - (m - (RATE_MINUTES - 1)) * 60_000)
    }
}
