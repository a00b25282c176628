//! Streaming correlation: [`CorrelationStream`].

use aiops_core::{Alert, Timestamp};

use super::engine::Engine;
use super::output::{Correlation, IncidentEvent, Released};
use super::{NONE, engine_ms, sort_key};
use crate::error::{RcaError, Result};

/// A streaming correlation (see [`Correlator::stream`](super::Correlator::stream)).
#[derive(Debug)]
pub struct CorrelationStream<'c, 'g> {
    pub(super) engine: Engine<'c, 'g, 'static>,
    pub(super) pending: Vec<Pending>,
    pub(super) pending_ms: i64,
    pub(super) processed_ms: i64,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Pending {
    pub(super) key: u64,
    pub(super) record: usize,
    /// The graph index of the record's service, or `NONE`.
    pub(super) service: u32,
    /// Below `min_severity`: relates to nothing.
    pub(super) low: bool,
    /// The record's `ends_at`, in ms.
    pub(super) ends_ms: Option<i64>,
    /// With `name_label`: the hash of its value (0: no name, or names unused).
    pub(super) name: u64,
}

impl CorrelationStream<'_, '_> {
    /// Adds the next record (its index is the number of records pushed before it) and
    /// returns the events it caused. Records must come in start order; equal starts may come
    /// in any order (they are processed together once a later start arrives, or on
    /// [`CorrelationStream::advance_to`] / [`CorrelationStream::finish`]). An earlier start
    /// than the latest pushed or declared time is accepted only as an update of a known alert
    /// (a re-sent or resolved notification, joining its alert's incident), else it is
    /// [`RcaError::OutOfOrder`]. Such an update joins the alert's latest episode: if the alert
    /// fired again (a new episode) before the update of an earlier episode arrives, the stream
    /// gives it to the new one, where a batch gives it to the earlier one (`docs/aiops-rca.md`).
    pub fn push(&mut self, alert: Alert) -> Result<Vec<IncidentEvent>> {
        let ms = engine_ms(alert.starts_at());
        let key = self.engine.dedup_key(&alert);
        let latest = self.pending_ms.max(self.processed_ms);
        if ms < latest {
            // An update of an alert still waiting with the latest start: it joins it there,
            // as it would once that alert is placed.
            if self.pending.iter().any(|p| p.key == key) {
                return Ok(self.push_pending(alert, key, ms.max(self.pending_ms)));
            }
            // An update of a placed alert, or of one a release forgot.
            let node = self.engine.refire_target(key, ms);
            if node.is_some() || self.engine.updates_gone(key, ms) {
                let ends_ms = alert.ends_at().map(engine_ms);
                let record = self.engine.push_alert(alert);
                let p = Pending {
                    key,
                    record,
                    service: NONE,
                    low: false,
                    ends_ms,
                    name: 0,
                };
                match node {
                    Some(node) => self.engine.attach(node, p, ms),
                    None => self.engine.attach_gone(p, ms),
                }
                return Ok(std::mem::take(&mut self.engine.events));
            }
            return Err(RcaError::OutOfOrder {
                got: alert.starts_at().to_rfc3339(),
                latest: Timestamp::from_millis(latest).to_rfc3339(),
            });
        }
        if ms > self.pending_ms {
            self.flush_pending();
            self.engine.close_quiet(ms);
        }
        Ok(self.push_pending(alert, key, ms))
    }

    /// Adds a record to the group waiting at `ms` (the latest start) and returns the events.
    fn push_pending(&mut self, alert: Alert, key: u64, ms: i64) -> Vec<IncidentEvent> {
        let record = self.engine.push_alert(alert);
        self.pending_ms = ms;
        let a = self.engine.at(record);
        let (service, low) = (self.engine.service_index(a), self.engine.is_low(a));
        let ends_ms = a.ends_at().map(engine_ms);
        let name = self.engine.name_hash(a);
        self.pending.push(Pending {
            key,
            record,
            service,
            low,
            ends_ms,
            name,
        });
        std::mem::take(&mut self.engine.events)
    }

    /// Declares that time `now` has come: processes waiting records that start before it and
    /// closes incidents quiet since `now - quiet_period`. A later push starting before `now`
    /// is then out of order (unless it updates a known alert), so a closed incident never
    /// takes a new alert: declare a time by which every record starting earlier has been
    /// pushed (for a webhook receiver, the arrival time minus the longest delivery delay,
    /// e.g. Alertmanager's `group_wait` plus `group_interval`).
    pub fn advance_to(&mut self, now: Timestamp) -> Vec<IncidentEvent> {
        let now = engine_ms(now);
        if now > self.pending_ms {
            self.flush_pending();
        }
        self.processed_ms = self.processed_ms.max(now);
        self.engine.close_quiet(now);
        std::mem::take(&mut self.engine.events)
    }

    fn flush_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut group = std::mem::take(&mut self.pending);
        let e = &self.engine;
        group.sort_by(|x, y| {
            sort_key(e.at(x.record), x.key, x.record).cmp(&sort_key(
                e.at(y.record),
                y.key,
                y.record,
            ))
        });
        self.engine.process_group(self.pending_ms, &group);
        group.clear();
        self.pending = group;
        self.processed_ms = self.processed_ms.max(self.pending_ms);
    }

    /// Forgets what can no longer change, so that a stream running for weeks holds only the
    /// recent alerts: every incident already reported [`IncidentEvent::Closed`], and every noise
    /// alert, whose alerts all began longer ago than any rule links back (`window_secs`, and
    /// `dependency_window_secs` when set) and were last seen (started, re-fired or ended) longer
    /// ago than `refire_window_secs`, at the declared time (the latest start pushed, or
    /// [`CorrelationStream::advance_to`]'s time). An incident still open is kept whatever its
    /// age, and so is an alert that keeps re-firing, with every record of it.
    ///
    /// Nothing else changes: every later event is the one the stream would have given without
    /// it. An alert forgotten while still firing leaves about 50 bytes behind, so that its
    /// resolution or a re-send, coming later with its own start, is taken as before: an
    /// [`IncidentEvent::Updated`] of its forgotten incident, or a noise record returned by the
    /// next release. Those bytes go once the alert is resolved and settled (an alert whose
    /// resolution never comes keeps them). The one difference: a further update of a
    /// forgotten alert that was already resolved (a repeated resolution, later than the re-fire
    /// window after it ended) is [`RcaError::OutOfOrder`], where a stream that kept everything
    /// would take it.
    ///
    /// The forgotten noise records are returned (they would have been in
    /// [`Correlation::noise`]); after it [`CorrelationStream::finish`] reports only what was
    /// kept (its counts and compression too; [`Correlation::assignment`] has `None` for the
    /// forgotten records). It takes time linear in what the stream holds: call it now and
    /// then, for example after each `advance_to` a minute apart.
    ///
    /// ```
    /// use aiops_core::{Alert, Labels, Timestamp};
    /// use aiops_rca::{Correlator, CorrelatorConfig, IncidentEvent, ServiceGraph};
    ///
    /// let graph = ServiceGraph::from_specs(&[])?;
    /// let config = CorrelatorConfig::default().with_shared_instance();
    /// let correlator = Correlator::new(&graph, config)?;
    /// let mut stream = correlator.stream();
    /// let (mut closed, mut noise) = (0, 0);
    /// // A day of alerts, one a minute; every hour three related ones on one host.
    /// for minute in 0..1440 {
    ///     let at = Timestamp::from_secs(minute * 60);
    ///     let host = if minute % 60 < 3 { format!("db-{}", minute / 60) } else { format!("h{minute}") };
    ///     let name = ["Disk", "Cpu", "Memory"][(minute % 3) as usize];
    ///     let alert = Alert::new(Labels::from_pairs([("alertname", name), ("instance", &host)]), at);
    ///     let mut events = stream.advance_to(at);
    ///     events.extend(stream.push(alert)?);
    ///     closed += events.iter().filter(|e| matches!(e, IncidentEvent::Closed(_))).count();
    ///     noise += stream.release_settled().noise().len();
    ///     assert!(stream.held_records() <= 20, "only the last minutes are held");
    /// }
    /// let events = stream.advance_to(Timestamp::from_secs(2 * 86_400));
    /// closed += events.iter().filter(|e| matches!(e, IncidentEvent::Closed(_))).count();
    /// noise += stream.release_settled().noise().len();
    /// assert_eq!((closed, noise, stream.held_records()), (24, 1440 - 24 * 3, 0));
    /// # Ok::<(), aiops_rca::RcaError>(())
    /// ```
    pub fn release_settled(&mut self) -> Released {
        let now = self.pending_ms.max(self.processed_ms);
        let (incidents, noise) = self.engine.release(now, &self.pending);
        Released { incidents, noise }
    }

    /// The records the stream holds (pushed and not forgotten by
    /// [`CorrelationStream::release_settled`]).
    pub fn held_records(&self) -> usize {
        self.engine.held_records()
    }

    /// Ends the stream: the correlation of everything pushed, equal to the batch result of the
    /// same records when they came in start order. (An update with an earlier start than its
    /// alert's, accepted above, joins that alert where it stands; a batch orders every record by
    /// its start, so there the update may come first.) After
    /// [`CorrelationStream::release_settled`] it holds only what was kept; and since the events
    /// of the records still waiting are not returned here, call
    /// [`CorrelationStream::advance_to`] past the latest start first: a waiting update of a
    /// forgotten incident is reported only by its [`IncidentEvent::Updated`].
    pub fn finish(mut self) -> Correlation {
        self.flush_pending();
        self.engine.finish().into_correlation()
    }
}
