//! Alert storms: cascading incidents with delays, re-fires and unrelated noise, with ground truth.

use aiops_core::{Alert, Labels, ServiceKind, Timestamp};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp};

use crate::error::{Result, SimError};
use crate::topology::{Graph, Topology};

/// Most incidents one storm holds; larger requests are clamped.
pub const MAX_INCIDENTS: usize = 100_000;
/// Most noise alerts one storm holds; larger requests are clamped.
pub const MAX_NOISE_ALERTS: usize = 10_000_000;
/// Longest storm, in seconds: 100 years of 365 days. Longer durations are clamped; the bound
/// keeps every offset within a storm far inside the `i64` range of milliseconds.
pub const MAX_DURATION_SECS: i64 = 100 * 365 * 86_400;
/// Longest cascade hop, in seconds (the same 100 years); longer delays are clamped.
pub const MAX_CASCADE_DELAY_SECS: i64 = MAX_DURATION_SECS;
/// Most times one alert condition fires (the first fire included).
const MAX_FIRES: usize = 8;
/// Probability that a fault spreads from a service to one of its direct users.
const PROPAGATION_PROB: f64 = 0.8;

/// What storm to generate. Fields are public; start from a preset ([`StormSpec::small`],
/// [`StormSpec::medium`], [`StormSpec::large`]) and adjust with struct update syntax.
///
/// [`storm`] never fails: probabilities are clamped to `0..=1` (NaN reads as 0; re-fires to at
/// most 0.95), negative delays and durations read as 0 s and 1 s, delays above
/// [`MAX_CASCADE_DELAY_SECS`] and durations above [`MAX_DURATION_SECS`] are clamped to them,
/// and counts above [`MAX_INCIDENTS`] / [`MAX_NOISE_ALERTS`] are clamped. Times that would lie
/// past the end of the `i64` range of milliseconds (a `start` within `duration_secs` of it)
/// saturate at [`i64::MAX`] ms. [`StormSpec::check`] reports such settings as errors instead.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct StormSpec {
    /// Number of injected incidents (faults at a root service).
    pub incidents: usize,
    /// Exact number of unrelated noise alerts (re-fires of noise included).
    pub noise_alerts: usize,
    /// Probability that a firing condition resolves and fires again (flapping), per fire.
    pub refire_prob: f64,
    /// Longest delay of one cascade hop, in seconds (at most [`MAX_CASCADE_DELAY_SECS`]). Hop
    /// delays are exponential with a mean of a fifth of this, capped at it, so with 600 s about
    /// one hop in twelve exceeds 300 s.
    pub max_cascade_delay_secs: i64,
    /// Probability that an incident's root raises no alert at all (only its dependents do).
    pub silent_root_prob: f64,
    /// `true`: incident start times are independent, so incidents overlap in time; `false`: each
    /// incident starts in its own slot of the duration and roots are distinct.
    pub overlap: bool,
    /// Length of the storm in seconds (1 to [`MAX_DURATION_SECS`]): incidents start in its first
    /// 80 %, noise anywhere in it.
    pub duration_secs: i64,
    /// When the storm starts.
    pub start: Timestamp,
}

/// 2024-01-01T00:00:00Z.
const DEFAULT_START: Timestamp = Timestamp::from_secs(1_704_067_200);

impl StormSpec {
    /// For `topology(30, _)`: 8 overlapping incidents and 220 noise alerts within an hour;
    /// about 500 alerts.
    pub fn small() -> Self {
        StormSpec {
            incidents: 8,
            noise_alerts: 220,
            refire_prob: 0.4,
            max_cascade_delay_secs: 600,
            silent_root_prob: 0.2,
            overlap: true,
            duration_secs: 3_600,
            start: DEFAULT_START,
        }
    }

    /// For `topology(200, _)`: 60 incidents and 5,500 noise alerts within six hours; about
    /// 10,000 alerts.
    pub fn medium() -> Self {
        StormSpec {
            incidents: 60,
            noise_alerts: 5_500,
            duration_secs: 6 * 3_600,
            ..StormSpec::small()
        }
    }

    /// For `topology(1000, _)`: 400 incidents and 40,000 noise alerts within a day; about
    /// 100,000 alerts.
    pub fn large() -> Self {
        StormSpec {
            incidents: 400,
            noise_alerts: 40_000,
            duration_secs: 24 * 3_600,
            ..StormSpec::small()
        }
    }

    /// For `topology(1000, _)`: 60 overlapping incidents and 10,000 noise alerts within a day;
    /// about 19,000 alerts. Incidents start every 19 minutes on average and overlap a few at a
    /// time, where [`StormSpec::large`] starts one every 3 minutes on as many services and
    /// [`StormSpec::medium`] one every 5 minutes on 200, so that most of their cascades run
    /// into others.
    pub fn day() -> Self {
        StormSpec {
            incidents: 60,
            noise_alerts: 10_000,
            duration_secs: 24 * 3_600,
            ..StormSpec::small()
        }
    }

    /// Reports settings that [`storm`] would silently correct: a probability outside `0..=1`,
    /// a negative delay or one above [`MAX_CASCADE_DELAY_SECS`], a duration outside
    /// `1..=`[`MAX_DURATION_SECS`], counts above [`MAX_INCIDENTS`] / [`MAX_NOISE_ALERTS`], and a
    /// `start` so late that the storm would end past the `i64` range of milliseconds.
    ///
    /// ```
    /// use aiops_sim::{StormSpec, MAX_DURATION_SECS};
    ///
    /// let spec = StormSpec { duration_secs: i64::MAX, ..StormSpec::small() };
    /// let err = spec.check().unwrap_err().to_string();
    /// assert!(err.contains("duration_secs") && err.contains(&MAX_DURATION_SECS.to_string()));
    /// ```
    pub fn check(&self) -> Result<()> {
        for (name, p) in [
            ("refire_prob", self.refire_prob),
            ("silent_root_prob", self.silent_root_prob),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(SimError::InvalidParameter {
                    name,
                    reason: format!("must be a probability in 0..=1, got {p}"),
                });
            }
        }
        if !(0..=MAX_CASCADE_DELAY_SECS).contains(&self.max_cascade_delay_secs) {
            return Err(SimError::InvalidParameter {
                name: "max_cascade_delay_secs",
                reason: format!(
                    "must be in 0..={MAX_CASCADE_DELAY_SECS} (100 years), got {}",
                    self.max_cascade_delay_secs
                ),
            });
        }
        if !(1..=MAX_DURATION_SECS).contains(&self.duration_secs) {
            return Err(SimError::InvalidParameter {
                name: "duration_secs",
                reason: format!(
                    "must be in 1..={MAX_DURATION_SECS} (100 years), got {}",
                    self.duration_secs
                ),
            });
        }
        // In range, `duration_secs * 1000` cannot overflow.
        if self
            .start
            .as_millis()
            .checked_add(self.duration_secs * 1000)
            .is_none()
        {
            return Err(SimError::InvalidParameter {
                name: "start",
                reason: format!(
                    "{} plus duration_secs {} runs past the i64 range of milliseconds",
                    self.start, self.duration_secs
                ),
            });
        }
        if self.incidents > MAX_INCIDENTS {
            return Err(SimError::InvalidParameter {
                name: "incidents",
                reason: format!("at most {MAX_INCIDENTS}, got {}", self.incidents),
            });
        }
        if self.noise_alerts > MAX_NOISE_ALERTS {
            return Err(SimError::InvalidParameter {
                name: "noise_alerts",
                reason: format!("at most {MAX_NOISE_ALERTS}, got {}", self.noise_alerts),
            });
        }
        Ok(())
    }
}

impl Default for StormSpec {
    /// [`StormSpec::small`].
    fn default() -> Self {
        StormSpec::small()
    }
}

/// One injected incident: the faulty root service, when it failed, and every service the fault
/// reached (the root first, then its dependents in order of onset).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct InjectedIncident {
    /// The service where the fault was injected.
    pub root: String,
    /// When the root failed.
    pub start: Timestamp,
    /// The root and every dependent the cascade reached.
    pub affected: Vec<String>,
}

/// A generated storm and its ground truth.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Storm {
    /// The alerts, sorted by `starts_at`. Labels: `alertname`, `service`, `severity`,
    /// `metric_type`, `instance`. Re-fires of one condition share a fingerprint; all fires but
    /// the last are resolved.
    pub alerts: Vec<Alert>,
    /// Per alert: the index of its incident in `incidents`, or `None` for noise.
    pub incident_of: Vec<Option<usize>>,
    /// The injected incidents.
    pub incidents: Vec<InjectedIncident>,
}

impl Storm {
    /// Number of noise alerts.
    pub fn noise_count(&self) -> usize {
        self.incident_of.iter().filter(|i| i.is_none()).count()
    }

    /// Indices (into `alerts`) of the alerts of incident `incident`. Scans the alerts; use
    /// [`Storm::alerts_by_incident`] for all incidents at once.
    pub fn alerts_of(&self, incident: usize) -> Vec<usize> {
        self.incident_of
            .iter()
            .enumerate()
            .filter(|(_, i)| **i == Some(incident))
            .map(|(k, _)| k)
            .collect()
    }

    /// For every incident, the indices (into `alerts`) of its alerts, in one pass.
    pub fn alerts_by_incident(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.incidents.len()];
        for (i, k) in self.incident_of.iter().enumerate() {
            if let Some(list) = k.and_then(|k| out.get_mut(k)) {
                list.push(i);
            }
        }
        out
    }

    /// For every incident, whether its root raised no alert, in one pass.
    pub fn silent_roots(&self) -> Vec<bool> {
        let mut silent = vec![true; self.incidents.len()];
        for (a, k) in self.alerts.iter().zip(&self.incident_of) {
            if let Some(k) = *k
                && let Some(inc) = self.incidents.get(k)
                && a.service() == Some(inc.root.as_str())
            {
                silent[k] = false;
            }
        }
        silent
    }

    /// Whether incident `incident`'s root raised no alert (a silent root). Scans the alerts; use
    /// [`Storm::silent_roots`] for all incidents at once.
    pub fn is_silent_root(&self, incident: usize) -> bool {
        let Some(inc) = self.incidents.get(incident) else {
            return false;
        };
        !self
            .incident_of
            .iter()
            .zip(&self.alerts)
            .any(|(i, a)| *i == Some(incident) && a.service() == Some(inc.root.as_str()))
    }
}

type Catalogue = &'static [(&'static str, &'static str)];

const CAUSE_DATABASE: Catalogue = &[
    ("ConnectionPoolExhausted", "saturation"),
    ("SlowQueries", "latency"),
    ("DiskFull", "saturation"),
    ("HighCPU", "saturation"),
    ("ReplicationLag", "latency"),
    ("DatabaseDown", "availability"),
];
const CAUSE_CACHE: Catalogue = &[
    ("HighMemory", "saturation"),
    ("CacheEvictionsHigh", "saturation"),
    ("HighLatency", "latency"),
    ("CacheDown", "availability"),
];
const CAUSE_QUEUE: Catalogue = &[
    ("ConsumerLagHigh", "saturation"),
    ("BrokerDown", "availability"),
    ("HighLatency", "latency"),
    ("DiskFull", "saturation"),
];
const CAUSE_HOST: Catalogue = &[
    ("HighCPU", "saturation"),
    ("DiskFull", "saturation"),
    ("HighMemory", "saturation"),
    ("InstanceDown", "availability"),
    ("NetworkPacketLoss", "errors"),
];
const CAUSE_APPLICATION: Catalogue = &[
    ("HighErrorRate", "errors"),
    ("PodCrashLooping", "availability"),
    ("HighMemory", "saturation"),
    ("HighLatency", "latency"),
    ("DeploymentFailed", "errors"),
];
const SYMPTOM: Catalogue = &[
    ("HighLatency", "latency"),
    ("HighErrorRate", "errors"),
    ("UpstreamTimeouts", "errors"),
    ("CircuitBreakerOpen", "errors"),
    ("ThroughputDrop", "traffic"),
];
/// Noise shares metric types (and even names) with incidents on purpose.
const NOISE: Catalogue = &[
    ("HighLatency", "latency"),
    ("HighCPU", "saturation"),
    ("HighMemory", "saturation"),
    ("DiskSpaceLow", "saturation"),
    ("PodRestarting", "availability"),
    ("HighErrorRate", "errors"),
    ("GCPauseLong", "latency"),
    ("BackupJobFailed", "errors"),
    ("CertificateExpiringSoon", "security"),
];

fn cause_catalogue(kind: &ServiceKind) -> Catalogue {
    match kind {
        ServiceKind::Database => CAUSE_DATABASE,
        ServiceKind::Cache => CAUSE_CACHE,
        ServiceKind::Queue => CAUSE_QUEUE,
        ServiceKind::Host | ServiceKind::Network => CAUSE_HOST,
        _ => CAUSE_APPLICATION,
    }
}

fn clamp_prob(p: f64, max: f64) -> f64 {
    if p.is_nan() { 0.0 } else { p.clamp(0.0, max) }
}

/// Per-service facts the generator reuses: name, kind, replicas.
struct Svc<'a> {
    name: &'a str,
    kind: &'a ServiceKind,
    replicas: usize,
}

impl Svc<'_> {
    fn instance(&self, rng: &mut ChaCha8Rng) -> String {
        if *self.kind == ServiceKind::Host {
            self.name.to_owned()
        } else {
            format!("{}-{}:9100", self.name, rng.gen_range(0..self.replicas))
        }
    }
}

struct Emitter<'s> {
    rng: ChaCha8Rng,
    refire_prob: f64,
    out: Vec<(Alert, Option<usize>)>,
    svcs: Vec<Svc<'s>>,
}

impl Emitter<'_> {
    /// Emits one condition: its first fire at `at`, then re-fires while the coin says so (at most
    /// `limit` fires). Returns how many alerts were emitted.
    fn condition(
        &mut self,
        svc: usize,
        (alertname, metric_type): (&str, &str),
        severity: &str,
        at: Timestamp,
        incident: Option<usize>,
        limit: usize,
    ) -> usize {
        let s = &self.svcs[svc];
        let instance = s.instance(&mut self.rng);
        let labels = Labels::from_pairs([
            ("alertname", alertname),
            ("service", s.name),
            ("severity", severity),
            ("metric_type", metric_type),
            ("instance", instance.as_str()),
        ]);
        let mut t = at;
        let mut fires = 0;
        let limit = limit.min(MAX_FIRES);
        while fires < limit {
            fires += 1;
            let alert = Alert::new(labels.clone(), t);
            if fires < limit && self.rng.gen_bool(self.refire_prob) {
                let resolved = t.add_millis(self.rng.gen_range(60_000..300_000));
                self.out.push((alert.resolve(resolved), incident));
                t = resolved.add_millis(self.rng.gen_range(30_000..600_000));
            } else {
                self.out.push((alert, incident));
                break;
            }
        }
        fires
    }
}

/// Generates an alert storm on `topology`; deterministic for `(topology, spec, seed)`.
///
/// Each incident picks a root (60 % infrastructure: databases, caches, queues, hosts; otherwise
/// an application), then spreads the fault to the root's users, their users and so on, each
/// edge with probability 0.8 and a delay per hop (see
/// [`StormSpec::max_cascade_delay_secs`]). The root raises 2..=3 cause alerts matching its kind
/// (`ConnectionPoolExhausted`, `DiskFull`, `InstanceDown`, ...) unless it is silent; every other
/// affected service raises 1..=2 symptom alerts (`HighLatency`, `HighErrorRate`,
/// `UpstreamTimeouts`, ...), often with a higher severity than the root's. Conditions re-fire
/// with `refire_prob`. Noise alerts hit random services with names and metric types partly
/// shared with incident alerts. A topology without services gives an empty storm; dependency
/// names missing from the topology are ignored.
///
/// ```
/// use aiops_sim::{storm, topology, StormSpec};
///
/// let topo = topology(30, 1);
/// let s = storm(&topo, &StormSpec::small(), 1);
/// assert_eq!(s.alerts.len(), s.incident_of.len());
/// assert_eq!(s.incidents.len(), 8);
/// assert_eq!(s.noise_count(), 220);
/// assert!(s.alerts.windows(2).all(|w| w[0].starts_at() <= w[1].starts_at()));
/// ```
pub fn storm(topology: &Topology, spec: &StormSpec, seed: u64) -> Storm {
    let g = Graph::new(topology);
    let n = topology.services.len();
    if n == 0 {
        return Storm {
            alerts: Vec::new(),
            incident_of: Vec::new(),
            incidents: Vec::new(),
        };
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let svcs: Vec<Svc<'_>> = topology
        .services
        .iter()
        .map(|s| Svc {
            name: s.name(),
            kind: s.kind(),
            replicas: rng.gen_range(1..=3),
        })
        .collect();
    let infra: Vec<usize> = (0..n)
        .filter(|&i| {
            matches!(
                svcs[i].kind,
                ServiceKind::Database | ServiceKind::Cache | ServiceKind::Queue | ServiceKind::Host
            )
        })
        .collect();
    // Clamped to the documented bounds, so neither product nor `duration_ms / 5 * 4` overflows.
    let duration_ms = spec.duration_secs.clamp(1, MAX_DURATION_SECS) * 1000;
    let max_delay_ms = spec.max_cascade_delay_secs.clamp(0, MAX_CASCADE_DELAY_SECS) * 1000;
    let hop = Exp::new(5.0 / max_delay_ms.max(1) as f64).ok();
    let silent_prob = clamp_prob(spec.silent_root_prob, 1.0);
    let n_incidents = spec.incidents.min(MAX_INCIDENTS);
    let n_noise = spec.noise_alerts.min(MAX_NOISE_ALERTS);

    let mut em = Emitter {
        rng,
        refire_prob: clamp_prob(spec.refire_prob, 0.95),
        out: Vec::with_capacity(n_noise + n_incidents * 32),
        svcs,
    };
    let mut incidents = Vec::with_capacity(n_incidents);
    let mut used_root = vec![false; n];
    let mut onset = vec![i64::MIN; n];
    let mut order: Vec<usize> = Vec::new();
    for k in 0..n_incidents {
        let rng = &mut em.rng;
        let offset = if spec.overlap || n_incidents == 1 {
            rng.gen_range(0..=duration_ms / 5 * 4)
        } else {
            let slot = (duration_ms / 5 * 4) / n_incidents as i64;
            k as i64 * slot + rng.gen_range(0..=slot / 4)
        };
        let start = spec.start.add_millis(offset);
        let mut root = if !infra.is_empty() && rng.gen_bool(0.6) {
            infra[rng.gen_range(0..infra.len())]
        } else {
            rng.gen_range(0..n)
        };
        if !spec.overlap {
            // Distinct roots while any are left.
            let mut tries = 0;
            while used_root[root] && tries < 4 * n {
                root = rng.gen_range(0..n);
                tries += 1;
            }
            used_root[root] = true;
        }

        // Cascade: breadth first over users; each reached service records its onset.
        order.clear();
        order.push(root);
        onset[root] = 0;
        let mut head = 0;
        while head < order.len() {
            let i = order[head];
            head += 1;
            for &u in &g.users[i] {
                if onset[u] != i64::MIN || !rng.gen_bool(PROPAGATION_PROB) {
                    continue;
                }
                let delay = hop
                    .as_ref()
                    .map_or(0, |e| (e.sample(rng) as i64).min(max_delay_ms));
                // Saturating: a long chain of long hops ends at the last instant, never wraps.
                onset[u] = onset[i].saturating_add(delay);
                order.push(u);
            }
        }
        // Report the affected services in order of onset, the root first (a dependent whose
        // hop delay rounds to 0 ms shares its onset).
        order.sort_by_key(|&i| (onset[i], i != root, i));
        let silent = rng.gen_bool(silent_prob);
        for &i in &order {
            let is_root = i == root;
            if is_root && silent {
                continue;
            }
            let t0 = start.add_millis(onset[i]);
            let (count, catalogue) = if is_root {
                (em.rng.gen_range(2..=3), cause_catalogue(em.svcs[i].kind))
            } else {
                (em.rng.gen_range(1..=2), SYMPTOM)
            };
            let first = em.rng.gen_range(0..catalogue.len());
            for c in 0..count.min(catalogue.len()) {
                let entry = catalogue[(first + c) % catalogue.len()];
                let critical_p = if is_root { 0.4 } else { 0.5 };
                let severity = if em.rng.gen_bool(critical_p) {
                    "critical"
                } else {
                    "warning"
                };
                // Rules evaluate every 15-60 s: alerts of one service trail its onset a little.
                let at = t0.add_millis(em.rng.gen_range(0..90_000));
                em.condition(i, entry, severity, at, Some(k), MAX_FIRES);
            }
        }
        incidents.push(InjectedIncident {
            root: em.svcs[root].name.to_owned(),
            start,
            affected: order.iter().map(|&i| em.svcs[i].name.to_owned()).collect(),
        });
        for &i in &order {
            onset[i] = i64::MIN;
        }
    }

    let mut emitted = 0;
    while emitted < n_noise {
        let svc = em.rng.gen_range(0..n);
        let entry = NOISE[em.rng.gen_range(0..NOISE.len())];
        let severity = match em.rng.gen_range(0..10) {
            0..=2 => "info",
            3..=8 => "warning",
            _ => "critical",
        };
        let at = spec.start.add_millis(em.rng.gen_range(0..duration_ms));
        emitted += em.condition(svc, entry, severity, at, None, n_noise - emitted);
    }

    // Sort small keys, not the alerts themselves; the index keeps the sort stable.
    let mut order: Vec<(Timestamp, usize)> = em
        .out
        .iter()
        .enumerate()
        .map(|(i, (a, _))| (a.starts_at(), i))
        .collect();
    order.sort_unstable();
    let mut slots: Vec<Option<(Alert, Option<usize>)>> = em.out.into_iter().map(Some).collect();
    let (alerts, incident_of) = order
        .into_iter()
        .filter_map(|(_, i)| slots[i].take())
        .unzip();
    Storm {
        alerts,
        incident_of,
        incidents,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use aiops_core::{AlertStatus, Dependency, ServiceSpec};

    use super::*;
    use crate::topology::topology;

    #[test]
    fn same_seed_same_storm_different_seed_different() {
        let t = topology(30, 1);
        let spec = StormSpec::small();
        assert_eq!(storm(&t, &spec, 4), storm(&t, &spec, 4));
        assert_ne!(storm(&t, &spec, 4).alerts, storm(&t, &spec, 5).alerts);
    }

    #[test]
    fn presets_land_near_their_alert_counts() {
        for (n, spec, lo, hi) in [
            (30, StormSpec::small(), 250, 900),
            (200, StormSpec::medium(), 6_000, 15_000),
            (1000, StormSpec::day(), 14_000, 26_000),
        ] {
            for seed in 0..3 {
                let s = storm(&topology(n, seed), &spec, seed);
                assert!(
                    (lo..=hi).contains(&s.alerts.len()),
                    "n={n}: {}",
                    s.alerts.len()
                );
                assert_eq!(s.noise_count(), spec.noise_alerts);
                assert_eq!(s.incidents.len(), spec.incidents);
            }
        }
    }

    #[test]
    fn alerts_carry_the_five_labels() {
        let s = storm(&topology(30, 2), &StormSpec::small(), 2);
        for a in &s.alerts {
            assert!(a.alertname().is_some() && a.metric_type().is_some());
            assert!(a.severity().is_some());
            let service = a.service().unwrap();
            let instance = a.instance().unwrap();
            assert!(
                instance == service || instance.starts_with(&format!("{service}-")),
                "{instance} for {service}"
            );
            if !service.starts_with("host-") {
                assert!(instance.ends_with(":9100"));
            }
        }
    }

    #[test]
    fn refires_share_a_fingerprint_and_earlier_fires_are_resolved() {
        let spec = StormSpec {
            refire_prob: 0.9,
            ..StormSpec::small()
        };
        let s = storm(&topology(30, 3), &spec, 3);
        let mut by_fp: HashMap<_, Vec<&Alert>> = HashMap::new();
        for a in &s.alerts {
            by_fp.entry(a.fingerprint()).or_default().push(a);
        }
        let flapping = by_fp.values().filter(|v| v.len() > 1).count();
        assert!(flapping > 10, "{flapping} flapping conditions");
        let resolved = s
            .alerts
            .iter()
            .filter(|a| a.status() == AlertStatus::Resolved)
            .count();
        assert!(resolved > 0);
        for a in s.alerts.iter().filter(|a| a.ends_at().is_some()) {
            assert!(a.ends_at().unwrap() > a.starts_at());
        }
        // No re-fires when the probability is zero: every fingerprint fires once per incident.
        let once = StormSpec {
            refire_prob: 0.0,
            ..StormSpec::small()
        };
        let s = storm(&topology(30, 3), &once, 3);
        assert!(s.alerts.iter().all(|a| a.status() == AlertStatus::Firing));
    }

    #[test]
    fn root_alerts_come_first_and_cascades_sometimes_exceed_five_minutes() {
        let t = topology(200, 7);
        let spec = StormSpec {
            silent_root_prob: 0.0,
            ..StormSpec::medium()
        };
        let s = storm(&t, &spec, 7);
        let mut late = 0;
        for (k, inc) in s.incidents.iter().enumerate() {
            assert!(!s.is_silent_root(k));
            let idx = s.alerts_of(k);
            let first_root = idx
                .iter()
                .map(|&i| &s.alerts[i])
                .filter(|a| a.service() == Some(inc.root.as_str()))
                .map(Alert::starts_at)
                .min()
                .unwrap();
            assert!(first_root >= inc.start && first_root.secs_since(inc.start) < 90.0);
            let last_first_fire = idx.iter().map(|&i| s.alerts[i].starts_at()).max().unwrap();
            if last_first_fire.secs_since(inc.start) > 300.0 {
                late += 1;
            }
        }
        assert!(late > 0, "no incident spans more than 300 s");
    }

    #[test]
    fn one_pass_helpers_agree_with_the_per_incident_ones() {
        let s = storm(&topology(60, 8), &StormSpec::small(), 8);
        let by = s.alerts_by_incident();
        let silent = s.silent_roots();
        for k in 0..s.incidents.len() {
            assert_eq!(by[k], s.alerts_of(k));
            assert_eq!(silent[k], s.is_silent_root(k));
        }
        assert_eq!(
            by.iter().map(Vec::len).sum::<usize>() + s.noise_count(),
            s.alerts.len()
        );
    }

    #[test]
    fn silent_roots_raise_no_alert() {
        let spec = StormSpec {
            silent_root_prob: 1.0,
            ..StormSpec::small()
        };
        let s = storm(&topology(30, 4), &spec, 4);
        for k in 0..s.incidents.len() {
            assert!(s.is_silent_root(k));
        }
    }

    #[test]
    fn separate_incidents_have_distinct_roots_and_ordered_starts() {
        let spec = StormSpec {
            overlap: false,
            ..StormSpec::small()
        };
        let s = storm(&topology(30, 5), &spec, 5);
        let mut roots: Vec<_> = s.incidents.iter().map(|i| i.root.clone()).collect();
        assert!(s.incidents.windows(2).all(|w| w[0].start < w[1].start));
        roots.sort();
        roots.dedup();
        assert_eq!(roots.len(), s.incidents.len());
    }

    #[test]
    fn noise_shares_metric_types_with_incidents() {
        let s = storm(&topology(30, 6), &StormSpec::small(), 6);
        let types = |noise: bool| -> Vec<&str> {
            let mut v: Vec<&str> = s
                .alerts
                .iter()
                .zip(&s.incident_of)
                .filter(|(_, i)| i.is_none() == noise)
                .filter_map(|(a, _)| a.metric_type())
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let incident_types = types(false);
        let shared = types(true)
            .into_iter()
            .filter(|t| incident_types.contains(t))
            .count();
        assert!(shared >= 3, "shared metric types: {shared}");
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let empty = storm(&Topology::default(), &StormSpec::small(), 1);
        assert!(empty.alerts.is_empty() && empty.incidents.is_empty());
        let spec = StormSpec {
            refire_prob: f64::NAN,
            silent_root_prob: 7.0,
            max_cascade_delay_secs: -5,
            duration_secs: -1,
            ..StormSpec::small()
        };
        assert!(spec.check().is_err());
        let s = storm(&topology(10, 1), &spec, 1);
        assert_eq!(s.noise_count(), 220);
        // A hand-built topology with a missing dependency and a dependency cycle.
        let a = ServiceSpec::try_new("a", ServiceKind::Application)
            .and_then(|s| s.depends_on(Dependency::new("b")))
            .and_then(|s| s.depends_on(Dependency::new("ghost")))
            .unwrap();
        let b = ServiceSpec::try_new("b", ServiceKind::Database)
            .and_then(|s| s.depends_on(Dependency::new("a")))
            .unwrap();
        let t = Topology {
            services: vec![a, b],
        };
        let s = storm(&t, &StormSpec::small(), 2);
        assert!(s.incidents.iter().all(|i| i.affected.len() <= 2));
    }

    #[test]
    fn huge_durations_are_clamped_and_reported() {
        // Used to overflow `duration_ms * 4 / 5` (a debug panic; a wrapped or empty range in
        // release) while `check` said Ok.
        let t = topology(30, 9);
        for overlap in [true, false] {
            let capped = StormSpec {
                duration_secs: MAX_DURATION_SECS,
                overlap,
                ..StormSpec::small()
            };
            assert!(capped.check().is_ok());
            let expected = storm(&t, &capped, 9);
            for duration_secs in [10_000_000_000_000_000, i64::MAX, MAX_DURATION_SECS + 1] {
                let spec = StormSpec {
                    duration_secs,
                    ..capped.clone()
                };
                let err = spec.check().unwrap_err().to_string();
                assert!(
                    err.contains("duration_secs") && err.contains(&duration_secs.to_string()),
                    "{err}"
                );
                assert_eq!(storm(&t, &spec, 9), expected, "{duration_secs} s");
            }
            // Incidents start in the first 80 % of the clamped duration.
            let last = capped.start.add_secs(MAX_DURATION_SECS / 5 * 4);
            assert_eq!(expected.incidents.len(), 8);
            assert!(
                expected
                    .incidents
                    .iter()
                    .all(|i| i.start >= capped.start && i.start <= last)
            );
        }
    }

    #[test]
    fn huge_cascade_delays_are_clamped_and_never_wrap() {
        // `i64::MAX / 1000` s used to overflow the onset sum (a debug panic; alerts before their
        // incident in release) while `check` said Ok.
        let t = topology(60, 10);
        let capped = StormSpec {
            max_cascade_delay_secs: MAX_CASCADE_DELAY_SECS,
            silent_root_prob: 0.0,
            ..StormSpec::small()
        };
        assert!(capped.check().is_ok());
        let expected = storm(&t, &capped, 10);
        for delay in [i64::MAX / 1000, i64::MAX, MAX_CASCADE_DELAY_SECS + 1] {
            let spec = StormSpec {
                max_cascade_delay_secs: delay,
                ..capped.clone()
            };
            let err = spec.check().unwrap_err().to_string();
            assert!(
                err.contains("max_cascade_delay_secs") && err.contains(&delay.to_string()),
                "{err}"
            );
            assert_eq!(storm(&t, &spec, 10), expected, "{delay} s");
        }
        assert!(expected.incidents.iter().any(|i| i.affected.len() > 2));
        for (a, k) in expected.alerts.iter().zip(&expected.incident_of) {
            if let Some(k) = *k {
                assert!(a.starts_at() >= expected.incidents[k].start);
            }
        }
    }

    #[test]
    fn a_start_at_the_end_of_time_saturates_and_is_reported() {
        let spec = StormSpec {
            start: Timestamp::from_millis(i64::MAX - 1_000),
            ..StormSpec::small()
        };
        let err = spec.check().unwrap_err().to_string();
        assert!(
            err.contains("invalid start") && err.contains("3600"),
            "{err}"
        );
        let s = storm(&topology(30, 11), &spec, 11);
        assert_eq!(s.noise_count(), 220);
        assert_eq!(s.incidents.len(), 8);
        assert!(s.alerts.iter().all(|a| a.starts_at() >= spec.start));
        assert!(
            s.alerts
                .windows(2)
                .all(|w| w[0].starts_at() <= w[1].starts_at())
        );
    }

    #[test]
    fn check_names_the_bad_value() {
        assert!(StormSpec::large().check().is_ok());
        let err = StormSpec {
            refire_prob: 1.5,
            ..StormSpec::small()
        }
        .check()
        .unwrap_err()
        .to_string();
        assert!(err.contains("refire_prob") && err.contains("1.5"), "{err}");
    }
}
