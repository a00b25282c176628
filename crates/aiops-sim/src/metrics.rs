//! Per-service metric evidence around an injected fault, for metric-based root-cause ranking.

use aiops_core::{ServiceKind, TimeSeries, Timestamp};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::error::{Result, SimError};
use crate::storm::InjectedIncident;
use crate::topology::{Graph, Topology};

/// The metrics generated per service, in output order: latency (ms), `error_rate` (fraction of
/// requests, 0..=1), cpu (% of capacity), memory (% of capacity), throughput (requests/s).
pub const METRICS: [&str; 5] = ["latency", "error_rate", "cpu", "memory", "throughput"];
/// Minutes of history before the fault.
pub const MINUTES_BEFORE: i64 = 60;
/// Minutes after the fault.
pub const MINUTES_AFTER: i64 = 30;
/// The window before and after the fault, in milliseconds.
const BEFORE_MS: i64 = MINUTES_BEFORE * 60_000;
const AFTER_MS: i64 = MINUTES_AFTER * 60_000;
/// Earliest and latest fault times whose whole window lies in the `i64` range of milliseconds.
const EARLIEST_FAULT_MS: i64 = i64::MIN + BEFORE_MS;
const LATEST_FAULT_MS: i64 = i64::MAX - AFTER_MS;
/// Probability that the fault spreads from a service to one of its direct users.
const PROPAGATION_PROB: f64 = 0.8;

/// One metric of one service.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceMetric {
    /// The service.
    pub service: String,
    /// One of [`METRICS`].
    pub metric: String,
    /// One point per minute from 60 min before to 30 min after the fault (91 points).
    pub series: TimeSeries,
}

/// Metric evidence around one fault, for every service of the topology.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentMetrics {
    /// The faulty service.
    pub root: String,
    /// When it failed: the requested fault time, moved inward if its window would not fit in
    /// the `i64` range of milliseconds (see [`incident_metrics`]).
    pub fault_time: Timestamp,
    /// Every service's [`METRICS`], service by service in topology order.
    pub metrics: Vec<ServiceMetric>,
    /// Ground truth: the root and the dependents whose metrics the fault changed, in order of
    /// onset (empty when the root is not in the topology).
    pub affected: Vec<String>,
}

impl IncidentMetrics {
    /// The series of `metric` for `service`, if present.
    pub fn get(&self, service: &str, metric: &str) -> Option<&TimeSeries> {
        self.metrics
            .iter()
            .find(|m| m.service == service && m.metric == metric)
            .map(|m| &m.series)
    }
}

/// How a fault changes one service's metrics: multiplicative on latency and throughput,
/// additive on the rest.
#[derive(Debug, Clone, Copy, Default)]
struct Effect {
    latency_factor: f64,
    error_add: f64,
    cpu_add: f64,
    memory_add: f64,
    throughput_factor: f64,
}

fn root_effect(kind: &ServiceKind, m: f64) -> Effect {
    match kind {
        ServiceKind::Database => Effect {
            latency_factor: 1.0 + 2.0 * m,
            error_add: 0.03 * m,
            cpu_add: 30.0 * m,
            memory_add: 5.0 * m,
            throughput_factor: 1.0 - 0.2 * m,
        },
        ServiceKind::Cache => Effect {
            latency_factor: 1.0 + 1.5 * m,
            error_add: 0.02 * m,
            cpu_add: 10.0 * m,
            memory_add: 25.0 * m,
            throughput_factor: 1.0 - 0.1 * m,
        },
        ServiceKind::Queue => Effect {
            latency_factor: 1.0 + 2.0 * m,
            error_add: 0.01 * m,
            cpu_add: 10.0 * m,
            memory_add: 20.0 * m,
            throughput_factor: 1.0 - 0.4 * m,
        },
        ServiceKind::Host | ServiceKind::Network => Effect {
            latency_factor: 1.0 + m,
            error_add: 0.01 * m,
            cpu_add: 35.0 * m,
            memory_add: 20.0 * m,
            throughput_factor: 1.0 - 0.1 * m,
        },
        _ => Effect {
            latency_factor: 1.0 + 1.5 * m,
            error_add: 0.1 * m,
            cpu_add: 20.0 * m,
            memory_add: 15.0 * m,
            throughput_factor: 1.0 - 0.2 * m,
        },
    }
}

/// A dependent's symptoms: slower, more errors, less throughput, a little more CPU from retries.
/// With `m` up to 1.5 times the root's, a dependent's latency can rise more than the root's.
fn symptom_effect(m: f64) -> Effect {
    Effect {
        latency_factor: 1.0 + 2.5 * m,
        error_add: 0.15 * m,
        cpu_add: 8.0 * m,
        memory_add: 2.0 * m,
        throughput_factor: (1.0 - 0.3 * m).max(0.05),
    }
}

/// Per-service metric series around a fault at `root` at `fault_time`; deterministic for
/// `(topology, root, fault_time, seed)`.
///
/// Every service gets the five [`METRICS`] at 1-minute steps from [`MINUTES_BEFORE`] before to
/// [`MINUTES_AFTER`] after the fault, each with its own baseline and autocorrelated noise. The
/// root changes first (within 2 minutes of `fault_time`, by a kind-specific pattern: a database
/// gets slow and busy, a host saturates its CPU, an application throws errors). The fault spreads
/// to the root's users, their users and so on (each edge with probability 0.8), each hop 1..=5
/// minutes later, with a magnitude of 0.5..1.5 times the previous hop's: dependents can change
/// more than the root. About 15 % of unaffected services fluctuate on their own (a transient
/// bump in one metric at a random time, sometimes near the fault).
///
/// An unknown `root` is a documented skip: no service is faulted and `affected` is empty. A
/// `fault_time` within [`MINUTES_BEFORE`] of the start or [`MINUTES_AFTER`] of the end of the
/// `i64` range of milliseconds is clamped so that the whole window fits (every series keeps its
/// 91 points); [`IncidentMetrics::fault_time`] reports the time used. Use
/// [`try_incident_metrics`] to get an error for either instead.
///
/// ```
/// use aiops_core::Timestamp;
/// use aiops_sim::{incident_metrics, topology};
///
/// let topo = topology(30, 3);
/// let t = Timestamp::from_secs(1_704_067_200);
/// let m = incident_metrics(&topo, "db-0", t, 3);
/// assert_eq!(m.metrics.len(), 30 * 5);
/// assert_eq!(m.affected[0], "db-0");
/// let cpu = m.get("db-0", "cpu").unwrap().values();
/// let before: f64 = cpu[..60].iter().sum::<f64>() / 60.0;
/// let after: f64 = cpu[65..].iter().sum::<f64>() / 26.0;
/// assert!(after > before + 10.0);
/// ```
pub fn incident_metrics(
    topology: &Topology,
    root: &str,
    fault_time: Timestamp,
    seed: u64,
) -> IncidentMetrics {
    generate(topology, root, fault_time, None, seed)
}

/// Metric evidence consistent with a storm's incident: the fault is at `incident.root` at
/// `incident.start`, and exactly the services of `incident.affected` that are reachable from the
/// root through dependents within that set change (1..=5 minutes per hop), so the metrics agree
/// with the alerts `storm` generated. Everything else is as in [`incident_metrics`]; an unknown
/// root and a start at the ends of the `i64` range are the same documented skip and clamp.
///
/// ```
/// use aiops_sim::{incident_metrics_for, storm, topology, StormSpec};
///
/// let topo = topology(30, 2);
/// let s = storm(&topo, &StormSpec::small(), 2);
/// let inc = &s.incidents[0];
/// let m = incident_metrics_for(&topo, inc, 2);
/// assert_eq!(m.root, inc.root);
/// let mut a = m.affected.clone();
/// let mut b = inc.affected.clone();
/// a.sort();
/// b.sort();
/// assert_eq!(a, b);
/// ```
pub fn incident_metrics_for(
    topology: &Topology,
    incident: &InjectedIncident,
    seed: u64,
) -> IncidentMetrics {
    generate(
        topology,
        &incident.root,
        incident.start,
        Some(&incident.affected),
        seed,
    )
}

fn generate(
    topology: &Topology,
    root: &str,
    fault_time: Timestamp,
    only: Option<&[String]>,
    seed: u64,
) -> IncidentMetrics {
    let g = Graph::new(topology);
    let n = topology.services.len();
    // With `only`, the cascade reaches exactly these services (where reachable), no coin flips.
    let allowed: Option<Vec<bool>> = only.map(|names| {
        let mut v = vec![false; n];
        for name in names {
            if let Some(i) = g.index_of(name) {
                v[i] = true;
            }
        }
        v
    });
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Clamped so that every point of the window has a timestamp (documented).
    let fault_time = Timestamp::from_millis(
        fault_time
            .as_millis()
            .clamp(EARLIEST_FAULT_MS, LATEST_FAULT_MS),
    );
    let points = (MINUTES_BEFORE + MINUTES_AFTER + 1) as usize;
    let fault_idx = MINUTES_BEFORE as usize;
    let start = fault_time.add_secs(-60 * MINUTES_BEFORE);

    // Cascade: onset minute (index) and magnitude per affected service.
    let mut onset: Vec<Option<(usize, f64)>> = vec![None; n];
    let mut order = Vec::new();
    if let Some(r) = g.index_of(root) {
        onset[r] = Some((fault_idx + rng.gen_range(0..=2), rng.gen_range(0.6..1.0)));
        order.push(r);
        let mut head = 0;
        while head < order.len() {
            let i = order[head];
            head += 1;
            let Some((t, m)) = onset[i] else { continue };
            for &u in &g.users[i] {
                let spreads = match &allowed {
                    Some(a) => a[u],
                    None => rng.gen_bool(PROPAGATION_PROB),
                };
                if onset[u].is_some() || !spreads {
                    continue;
                }
                let child = (
                    t + rng.gen_range(1..=5),
                    (m * rng.gen_range(0.5..1.5)).min(2.0),
                );
                onset[u] = Some(child);
                order.push(u);
            }
        }
    }
    order.sort_by_key(|&i| (onset[i].map_or(usize::MAX, |o| o.0), i));
    let root_idx = g.index_of(root);

    let mut metrics = Vec::with_capacity(n * METRICS.len());
    for (i, svc) in topology.services.iter().enumerate() {
        let effect = match onset[i] {
            Some((t, m)) if Some(i) == root_idx => Some((t, root_effect(svc.kind(), m))),
            Some((t, m)) => Some((t, symptom_effect(m))),
            None => None,
        };
        // An unaffected service sometimes has its own transient bump: (metric, from, to, size).
        let bump = if effect.is_none() && rng.gen_bool(0.15) {
            let from = rng.gen_range(0..points);
            let len = rng.gen_range(3..=15);
            Some((
                rng.gen_range(0..METRICS.len()),
                from,
                from + len,
                rng.gen_range(0.3..0.8),
            ))
        } else {
            None
        };
        let base = [
            rng.gen_range(20.0..200.0),
            rng.gen_range(0.001..0.01),
            rng.gen_range(15.0..60.0),
            rng.gen_range(30.0..70.0),
            rng.gen_range(50.0..2000.0),
        ];
        for (mi, name) in METRICS.iter().enumerate() {
            let mut ar = 0.0;
            let mut values = Vec::with_capacity(points);
            for p in 0..points {
                let z: f64 = rng.sample(StandardNormal);
                ar = 0.7 * ar + 0.04 * z;
                let mut v = match mi {
                    0 | 4 => base[mi] * (1.0 + ar),
                    1 => base[1] * (1.0 + 3.0 * ar),
                    _ => base[mi] + 40.0 * ar,
                };
                if let Some((t, e)) = effect
                    && p >= t
                {
                    // Ramp in over two minutes.
                    let w = ((p - t + 1) as f64 / 2.0).min(1.0);
                    v = match mi {
                        0 => v * (1.0 + w * (e.latency_factor - 1.0)),
                        1 => v + w * e.error_add,
                        2 => v + w * e.cpu_add,
                        3 => v + w * e.memory_add,
                        _ => v * (1.0 + w * (e.throughput_factor - 1.0)),
                    };
                }
                if let Some((bm, from, to, size)) = bump
                    && bm == mi
                    && (from..to).contains(&p)
                {
                    v = match mi {
                        0 | 4 => v * (1.0 + size),
                        1 => v + 0.05 * size,
                        _ => v + 30.0 * size,
                    };
                }
                let v = match mi {
                    1 => v.clamp(0.0, 1.0),
                    2 | 3 => v.clamp(0.0, 100.0),
                    _ => v.max(0.0),
                };
                values.push(if v.is_finite() { v } else { 0.0 });
            }
            // Cannot fail: the fault time is clamped so that the window fits, values are finite.
            let series = TimeSeries::regular(start, 60_000, values).unwrap_or_default();
            metrics.push(ServiceMetric {
                service: svc.name().to_owned(),
                metric: (*name).to_owned(),
                series,
            });
        }
    }
    IncidentMetrics {
        root: root.to_owned(),
        fault_time,
        metrics,
        affected: order
            .iter()
            .map(|&i| topology.services[i].name().to_owned())
            .collect(),
    }
}

/// [`incident_metrics`], but an unknown `root` is [`SimError::UnknownService`], and a
/// `fault_time` whose window does not fit in the `i64` range of milliseconds (which
/// [`incident_metrics`] would clamp) is [`SimError::InvalidParameter`] naming `fault_time`.
pub fn try_incident_metrics(
    topology: &Topology,
    root: &str,
    fault_time: Timestamp,
    seed: u64,
) -> Result<IncidentMetrics> {
    if topology.get(root).is_none() {
        return Err(SimError::UnknownService(root.to_owned()));
    }
    if !(EARLIEST_FAULT_MS..=LATEST_FAULT_MS).contains(&fault_time.as_millis()) {
        return Err(SimError::InvalidParameter {
            name: "fault_time",
            reason: format!(
                "{fault_time}: the window from {MINUTES_BEFORE} min before to {MINUTES_AFTER} min \
                 after runs past the i64 range of milliseconds"
            ),
        });
    }
    Ok(incident_metrics(topology, root, fault_time, seed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::topology;

    const T0: Timestamp = Timestamp::from_secs(1_704_067_200);

    fn mean(v: &[f64]) -> f64 {
        v.iter().sum::<f64>() / v.len() as f64
    }

    /// Relative latency change: mean of the last 10 minutes over the mean of the first 50.
    fn latency_ratio(m: &IncidentMetrics, service: &str) -> f64 {
        let v = m.get(service, "latency").unwrap().values();
        mean(&v[v.len() - 10..]) / mean(&v[..50])
    }

    #[test]
    fn shape_and_determinism() {
        let t = topology(40, 1);
        let m = incident_metrics(&t, "db-0", T0, 1);
        assert_eq!(m.metrics.len(), 40 * 5);
        for sm in &m.metrics {
            assert_eq!(sm.series.len(), 91);
            assert_eq!(sm.series.first().unwrap().0, T0.add_secs(-3600));
            assert_eq!(sm.series.last().unwrap().0, T0.add_secs(1800));
            assert!(sm.series.values().iter().all(|v| *v >= 0.0));
        }
        assert_eq!(m, incident_metrics(&t, "db-0", T0, 1));
        assert_ne!(m.metrics, incident_metrics(&t, "db-0", T0, 2).metrics);
    }

    #[test]
    fn root_changes_first_and_dependents_after() {
        let t = topology(60, 2);
        for seed in 0..5 {
            let m = incident_metrics(&t, "db-0", T0, seed);
            assert!(m.affected.len() > 1, "db-0 has users");
            // Before the fault nobody is faulted: no affected latency moved by 2x at minute 59.
            for s in &m.affected {
                let v = m.get(s, "latency").unwrap().values();
                assert!(v[59] < 1.6 * mean(&v[..50]), "{s} moved before the fault");
            }
            // The root's CPU rises within 3 minutes; dependents' latency rises later.
            let cpu = m.get("db-0", "cpu").unwrap().values();
            assert!(cpu[63] > mean(&cpu[..50]) + 10.0);
            for s in &m.affected[1..] {
                let v = m.get(s, "latency").unwrap().values();
                assert!(v[60] < 1.6 * mean(&v[..50]), "{s} moved with the root");
                assert!(latency_ratio(&m, s) > 1.3, "{s} did not slow down");
            }
        }
    }

    #[test]
    fn some_dependent_changes_more_than_the_root() {
        let t = topology(200, 3);
        let mut louder = 0;
        for seed in 0..10 {
            let m = incident_metrics(&t, "db-0", T0, seed);
            let root = latency_ratio(&m, "db-0");
            if m.affected[1..].iter().any(|s| latency_ratio(&m, s) > root) {
                louder += 1;
            }
        }
        assert!(louder >= 5, "only {louder} of 10");
    }

    #[test]
    fn unaffected_services_fluctuate_but_mostly_stay_put() {
        let t = topology(300, 4);
        let m = incident_metrics(&t, "app-3", T0, 4);
        let unaffected: Vec<&str> = t
            .names()
            .filter(|n| !m.affected.iter().any(|a| a == n))
            .collect();
        assert!(unaffected.len() > 200);
        let moved = unaffected
            .iter()
            .filter(|s| {
                METRICS.iter().any(|metric| {
                    // A 3-minute mean more than 5 baseline standard deviations off.
                    let v = m.get(s, metric).unwrap().values();
                    let base = mean(&v[..50]);
                    let sd =
                        (v[..50].iter().map(|x| (x - base).powi(2)).sum::<f64>() / 49.0).sqrt();
                    v.windows(3).any(|w| (mean(w) - base).abs() > 5.0 * sd)
                })
            })
            .count();
        let share = moved as f64 / unaffected.len() as f64;
        assert!(share > 0.03 && share < 0.4, "share {share}");
    }

    #[test]
    fn metrics_for_an_incident_follow_its_affected_services() {
        use crate::storm::{StormSpec, storm};
        let t = topology(200, 6);
        let s = storm(&t, &StormSpec::medium(), 6);
        for inc in s.incidents.iter().take(10) {
            let m = incident_metrics_for(&t, inc, 6);
            assert_eq!(m.fault_time, inc.start);
            assert_eq!(m.affected[0], inc.root);
            let mut a = m.affected.clone();
            let mut b = inc.affected.clone();
            a.sort();
            b.sort();
            assert_eq!(a, b);
            for svc in &inc.affected[1..] {
                assert!(latency_ratio(&m, svc) > 1.3, "{svc} did not slow down");
            }
        }
    }

    #[test]
    fn fault_times_at_the_ends_of_time_are_clamped_or_an_error() {
        // `i64::MAX` used to give 150 empty series, with `affected` still listed.
        let t = topology(30, 7);
        for (asked, used) in [
            (i64::MAX, i64::MAX - 1_800_000),
            (i64::MAX - 1_799_999, i64::MAX - 1_800_000),
            (i64::MIN, i64::MIN + 3_600_000),
        ] {
            let m = incident_metrics(&t, "db-0", Timestamp::from_millis(asked), 7);
            assert_eq!(m.fault_time.as_millis(), used);
            assert_eq!(m.metrics.len(), 150);
            assert!(m.metrics.iter().all(|sm| sm.series.len() == 91));
            assert_eq!(m.affected[0], "db-0");
            let err = try_incident_metrics(&t, "db-0", Timestamp::from_millis(asked), 7)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("invalid fault_time") && err.contains("ms"),
                "{err}"
            );
        }
        // The latest fault time that fits is used as given.
        let edge = Timestamp::from_millis(i64::MAX - 1_800_000);
        let m = try_incident_metrics(&t, "db-0", edge, 7).unwrap();
        assert_eq!(m.fault_time, edge);
        let cpu = m.get("db-0", "cpu").unwrap();
        assert_eq!(cpu.last().map(|(t, _)| t.as_millis()), Some(i64::MAX));
        // Clamping changes only the times: the values equal those of the edge fault time.
        assert_eq!(
            incident_metrics(&t, "db-0", Timestamp::from_millis(i64::MAX), 7),
            m
        );
    }

    #[test]
    fn unknown_root_is_a_documented_skip_or_an_error() {
        let t = topology(20, 5);
        let m = incident_metrics(&t, "nope", T0, 5);
        assert!(m.affected.is_empty());
        assert_eq!(m.metrics.len(), 100);
        assert_eq!(
            try_incident_metrics(&t, "nope", T0, 5),
            Err(SimError::UnknownService("nope".into()))
        );
        assert!(try_incident_metrics(&t, "db-0", T0, 5).is_ok());
    }
}
