//! An Alertmanager webhook receiver: de-duplicates the alerts Alertmanager sends, correlates them
//! into incidents, ranks root causes, and asks the healing engine (always dry run) what it would do.
//!
//! ```sh
//! cargo run --release --example webhook_receiver -- --services services.json
//! # Alertmanager: receivers: [{name: aiops, webhook_configs: [{url: http://127.0.0.1:9095/webhook}]}]
//! curl -s http://127.0.0.1:9095/incidents | jq .
//! ```
//!
//! Endpoints: `POST /webhook` (Alertmanager webhook payload, version 4), `GET /incidents`,
//! `GET /healthz`. Bad requests get a 4xx with `{"error": "..."}` naming the problem; the service
//! keeps every earlier alert. See docs/webhook-receiver.md.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use aiops::pipeline::NOTHING_TO_RANK;
use aiops_core::{
    Alert, AlertStatus, Fingerprint, Incident, RootCause, ServiceKind, ServiceSpec, ServicesConfig,
    Timestamp, WebhookPayload,
};
use aiops_heal::{
    ActionType, ApprovalReason, Decision, HealingEngine, Pattern, Policy, Rule, Verdict,
};
use aiops_rca::{
    CombinedRanker, Correlator, CorrelatorConfig, RankInput, Ranker, ServiceGraph, recommend,
};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Parser;
use serde_json::{Value, json};

/// Receives Alertmanager webhooks and serves correlated incidents with ranked root causes and
/// dry-run healing decisions.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Address to listen on (loopback by default; put a reverse proxy in front to expose it).
    #[arg(long, default_value = "127.0.0.1:9095")]
    listen: SocketAddr,
    /// Services config JSON (`[{"name", "type", "criticality", "dependencies"}]`); without it,
    /// alerts are correlated by time and labels alone.
    #[arg(long, value_name = "FILE")]
    services: Option<PathBuf>,
    /// Correlation window in seconds: alerts further apart than this are not related.
    #[arg(long, default_value_t = CorrelatorConfig::default().window_secs)]
    window_secs: i64,
    /// Records resolved longer ago than this are forgotten (checked on each GET /incidents).
    #[arg(long, default_value_t = 86_400)]
    retention_secs: i64,
    /// Root causes listed per incident in GET /incidents (best first).
    #[arg(long, default_value_t = 5)]
    top_k: usize,
    /// Largest accepted request body in bytes (larger bodies get 413).
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Instead of serving: write an aiops-sim alert storm for Alertmanager's `POST /api/v2/alerts`
    /// into DIR (`services.json`, `step-<i>.json` to post in order, `truth.json`) and exit. Used by
    /// tests/alertmanager/run.sh.
    #[arg(long, value_name = "DIR")]
    emit_storm: Option<PathBuf>,
    /// Storm seed (with --emit-storm).
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Services in the simulated topology (with --emit-storm).
    #[arg(long, default_value_t = 30)]
    storm_services: usize,
    /// Injected incidents, one after another with distinct roots (with --emit-storm).
    #[arg(long, default_value_t = 3)]
    storm_incidents: usize,
    /// Probability that an alert resolves and fires again (with --emit-storm).
    #[arg(long, default_value_t = 0.3)]
    storm_refire_prob: f64,
    /// Longest delay of one cascade hop in seconds (with --emit-storm).
    #[arg(long, default_value_t = 60)]
    storm_max_hop_secs: i64,
    /// Number of time-ordered slices the storm is replayed in (with --emit-storm).
    #[arg(long, default_value_t = 6)]
    batches: usize,
}

/// Every alert record received, de-duplicated, plus counters.
///
/// Alertmanager re-sends the whole group on every change, so one firing of an alert arrives many
/// times: a record is identified by (fingerprint, `startsAt`), and a copy only updates its
/// status, end and annotations. A re-fire after resolution has a later `startsAt` and is a new
/// record of the same alert, which the correlator de-duplicates by fingerprint as it does with
/// any re-fire.
#[derive(Default)]
struct Store {
    /// One alert per (fingerprint, start), in order of first arrival, in its latest state.
    records: Vec<Alert>,
    index: HashMap<(Fingerprint, Timestamp), usize>,
    fingerprints: HashSet<Fingerprint>,
    /// Alerts received over all accepted payloads (re-sends included).
    received: u64,
    payloads: u64,
    rejected: u64,
    /// Records forgotten because they were resolved longer ago than the retention.
    evicted: u64,
    /// Changes whenever the records change (the analysis cache key).
    generation: u64,
}

impl Store {
    /// Forgets records resolved before `cutoff` (and rebuilds the indexes); returns how many.
    fn evict_resolved_before(&mut self, cutoff: Timestamp) -> usize {
        let before = self.records.len();
        self.records
            .retain(|a| a.is_firing() || a.ends_at().is_none_or(|end| end >= cutoff));
        let evicted = before - self.records.len();
        if evicted > 0 {
            self.index = self
                .records
                .iter()
                .enumerate()
                .map(|(i, a)| ((a.fingerprint(), a.starts_at()), i))
                .collect();
            self.fingerprints = self.records.iter().map(Alert::fingerprint).collect();
            self.evicted += evicted as u64;
            self.generation += 1;
        }
        evicted
    }

    /// Adds one payload's alerts; returns how many records were new and how many changed.
    fn ingest(&mut self, alerts: Vec<Alert>) -> (usize, usize) {
        let (mut new, mut updated) = (0, 0);
        self.payloads += 1;
        for alert in alerts {
            self.received += 1;
            let key = (alert.fingerprint(), alert.starts_at());
            if let Some(&i) = self.index.get(&key) {
                if alert != self.records[i] {
                    updated += 1;
                    self.records[i] = alert;
                }
            } else {
                self.fingerprints.insert(key.0);
                self.index.insert(key, self.records.len());
                self.records.push(alert);
                new += 1;
            }
        }
        if new + updated > 0 {
            self.generation += 1;
        }
        (new, updated)
    }
}

struct AppState {
    store: Mutex<Store>,
    /// The last analysis and the store generation it was made from.
    cache: Mutex<Option<(u64, Analysed)>>,
    analysis: Analysis,
    max_body_bytes: usize,
    retention_secs: i64,
}

/// What turns the stored alerts into incidents: the service graph, the correlator settings and
/// the healing engine (dry run). Immutable once built, so requests share it without a lock.
struct Analysis {
    graph: ServiceGraph,
    top_k: usize,
    config: CorrelatorConfig,
    healer: HealingEngine,
}

/// Actions to try first for a faulty service of this kind (the healing rules of the example).
fn actions_for(kind: &ServiceKind) -> Vec<ActionType> {
    match kind {
        ServiceKind::Cache => vec![ActionType::ClearCache, ActionType::RestartService],
        ServiceKind::Database | ServiceKind::Queue => vec![ActionType::ScaleOut],
        ServiceKind::Host | ServiceKind::Network => vec![ActionType::DrainTraffic],
        _ => vec![ActionType::RestartService],
    }
}

impl Analysis {
    /// Builds the graph (strict: unknown dependencies, duplicates and self-loops are errors),
    /// one healing rule per service (its kind's actions) and a fallback rule for critical or
    /// high incidents on services outside the topology. Dry run is always on.
    fn new(services: &[ServiceSpec], window_secs: i64, top_k: usize) -> Result<Self, String> {
        let graph = ServiceGraph::from_specs(services).map_err(|e| format!("services: {e}"))?;
        let mut config = CorrelatorConfig::default();
        config.window_secs = window_secs;
        // The settings that must be at least the window (720 s by default) follow a wider one,
        // so a window above 720 s is taken rather than refused over settings the flags do not
        // reach.
        config.quiet_period_secs = config.quiet_period_secs.max(window_secs);
        config.sparse_window_secs = config.sparse_window_secs.map(|w| w.max(window_secs));
        config.dependency_window_secs = config.dependency_window_secs.map(|d| d.max(window_secs));
        config
            .check()
            .map_err(|e| format!("correlator settings: {e}"))?;
        // New rules have no record, so their confidence starts low: instead of skipping, the
        // engine proposes the plan for approval until it has earned 0.8.
        let policy = Policy::builder()
            .dry_run(true)
            .approval_below(Some(0.8))
            .build()
            .map_err(|e| format!("healing policy: {e}"))?;
        let mut healer = HealingEngine::new(policy);
        healer.set_available_actions(ActionType::BUILT_IN);
        let mut rules = Vec::with_capacity(services.len() + 1);
        for spec in services {
            rules.push(Rule::new(
                format!("{}-{}", spec.kind().as_str(), spec.name()),
                Pattern::new().exact("service", spec.name()),
                actions_for(spec.kind()),
            ));
        }
        rules.push(Rule::new(
            "fallback-restart",
            Pattern::new().any_of("severity", ["critical", "high"]),
            [ActionType::RestartService],
        ));
        for rule in rules {
            let rule = rule
                .and_then(|r| r.with_threshold(0.0))
                .map_err(|e| format!("healing rule: {e}"))?;
            healer
                .add_rule(rule)
                .map_err(|e| format!("healing rule: {e}"))?;
        }
        Ok(Analysis {
            graph,
            top_k,
            config,
            healer,
        })
    }

    /// Correlates the distinct alerts, ranks each incident's root causes and asks the healing
    /// engine what it would do.
    fn run(&self, alerts: &[Alert], now: Timestamp) -> Result<(Vec<Value>, usize), String> {
        let correlator = Correlator::new(&self.graph, self.config.clone())
            .map_err(|e| format!("correlator: {e}"))?;
        let correlation = correlator.correlate(alerts);
        let noise: HashSet<Fingerprint> = correlation
            .noise()
            .iter()
            .map(|&i| alerts[i].fingerprint())
            .collect();
        let noise = noise.len();
        let mut out = Vec::with_capacity(correlation.incidents().len());
        for ci in correlation.into_incidents() {
            let incident = ci.into_incident();
            // A stable id: the fingerprint of the incident's earliest alert.
            let first = incident
                .alerts()
                .iter()
                .min_by_key(|a| (a.starts_at(), a.fingerprint()))
                .map(Alert::fingerprint)
                .unwrap_or_default();
            let incident =
                Incident::from_alerts(format!("inc-{first}"), incident.alerts().to_vec())
                    .map_err(|e| format!("incident: {e}"))?;
            let (causes, rank_error) = rank(&self.graph, &incident);
            let incident = incident.with_root_causes(causes);
            let decision = self.healer.decide(&incident, now);
            out.push(incident_json(
                &incident,
                &decision,
                &self.graph,
                self.top_k,
                rank_error.as_deref(),
            ));
        }
        Ok((out, noise))
    }
}

/// Root causes of one incident, best first, by aiops-rca's default ranker (a walk on the
/// reversed dependency graph from the alerting services). An incident the ranker cannot rank
/// (no alert names a service of the topology) keeps no root causes, and the reason is reported.
fn rank(graph: &ServiceGraph, incident: &Incident) -> (Vec<RootCause>, Option<String>) {
    let input = RankInput::new().graph(graph).alerts(incident.alerts());
    match CombinedRanker::default().rank(&input) {
        // The rankers score graph services only: an empty ranking is a reason too.
        Ok(causes) if causes.is_empty() => (causes, Some(NOTHING_TO_RANK.to_owned())),
        Ok(causes) => (causes, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    }
}

fn incident_json(
    incident: &Incident,
    decision: &Decision,
    graph: &ServiceGraph,
    top_k: usize,
    rank_error: Option<&str>,
) -> Value {
    let recommendations = incident
        .root_causes()
        .first()
        .and_then(|rc| graph.kind(rc.service()))
        .map(recommend);
    let (reason, approval) = match &decision.verdict {
        Verdict::Skip(r) => (Some(r.code()), None),
        Verdict::ApprovalRequired(ApprovalReason::Action { action }) => (
            None,
            Some(format!("action {} needs approval", action.as_str())),
        ),
        Verdict::ApprovalRequired(ApprovalReason::LowConfidence { confidence, below }) => (
            None,
            Some(format!(
                "confidence {confidence:.3} below the approval level {below}"
            )),
        ),
        _ => (None, None),
    };
    json!({
        "id": incident.id(),
        "alerts": incident.alerts().len(),
        "firing": incident.alerts().iter().filter(|a| a.is_firing()).count(),
        "services": incident.services(),
        "primary_service": incident.primary_service(),
        "start": incident.start().to_string(),
        "end": incident.end().map(|t| t.to_string()),
        "severity": incident.severity().as_str(),
        "root_causes": incident.root_causes().iter().take(top_k).map(|rc| json!({
            "service": rc.service(),
            "score": rc.score(),
            "confidence": rc.confidence(),
            "path": rc.evidence_path(),
        })).collect::<Vec<_>>(),
        "ranking_error": rank_error,
        "recommendations": recommendations,
        "healing": {
            "decision": decision.verdict.code(),
            "reason": reason,
            "approval": approval,
            "rule": decision.rule_id,
            "confidence": decision.confidence.as_ref().map(|c| c.value),
            "threshold": decision.confidence.as_ref().map(|c| c.threshold),
            "service": decision.service,
            "actions": decision.plan.as_ref().map(|p| p.actions.iter().map(|a| a.as_str().to_owned()).collect::<Vec<_>>()),
            "dry_run": decision.dry_run,
        },
    })
}

impl AppState {
    /// The store, even if a handler panicked while holding the lock (the data stays valid:
    /// every mutation is a whole-alert replace or push).
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached analysis if it was made from this generation of the store.
    fn cached(&self, generation: u64) -> Option<Analysed> {
        match &*self.cache.lock().unwrap_or_else(PoisonError::into_inner) {
            Some((g, a)) if *g == generation => Some(a.clone()),
            _ => None,
        }
    }
}

type Shared = Arc<AppState>;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn now() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_millis(millis)
}

async fn webhook(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = parse_webhook(&headers, body, state.max_body_bytes);
    match result {
        Ok(payload) => {
            let n = payload.alerts.len();
            let (new, updated) = state.store().ingest(payload.alerts);
            Json(json!({ "accepted": n, "new": new, "updated": updated })).into_response()
        }
        Err((status, message)) => {
            state.store().rejected += 1;
            error(status, message)
        }
    }
}

/// Checks the content type and size and parses the payload; the error names the problem.
fn parse_webhook(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<WebhookPayload, (StatusCode, String)> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "application/json" {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("content type must be application/json, got {content_type:?}"),
        ));
    }
    let body = body.map_err(|e| {
        let status = e.status();
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            format!("request body larger than the limit of {limit} bytes")
        } else {
            format!("could not read the request body: {}", e.body_text())
        };
        (status, message)
    })?;
    let text = std::str::from_utf8(&body).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("request body is not UTF-8: {e}"),
        )
    })?;
    serde_json::from_str::<WebhookPayload>(text).map_err(|e| {
        // Syntax errors are 400; well-formed JSON of the wrong shape (a missing field, a bad
        // timestamp) is 422.
        let status = if e.is_syntax() || e.is_eof() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let kind = if status == StatusCode::BAD_REQUEST {
            "malformed JSON"
        } else {
            "not an Alertmanager webhook payload"
        };
        (status, format!("{kind}: {e}"))
    })
}

/// The analysis of one state of the store: incidents as JSON and the number of noise alerts.
type Analysed = Arc<(Vec<Value>, usize)>;

async fn incidents(State(state): State<Shared>) -> Response {
    // Counters and, unless the cached analysis is current, a copy of the records are taken
    // under the lock; the analysis runs outside it, so webhooks never wait for it.
    let (generation, records, counters) = {
        let mut store = state.store();
        store.evict_resolved_before(now().add_secs(-state.retention_secs));
        let cached = state.cached(store.generation);
        let records = match cached {
            Some(hit) => Err(hit),
            None => Ok(store.records.clone()),
        };
        let counters = json!({
            "payloads": store.payloads,
            "alerts_received": store.received,
            "records": store.records.len(),
            "distinct_alerts": store.fingerprints.len(),
            "firing_records": store.records.iter().filter(|a| a.status() == AlertStatus::Firing).count(),
            "rejected_requests": store.rejected,
            "evicted_records": store.evicted,
        });
        (store.generation, records, counters)
    };
    let analysed: Analysed = match records {
        Err(hit) => hit,
        Ok(records) => {
            let worker = state.clone();
            match tokio::task::spawn_blocking(move || worker.analysis.run(&records, now())).await {
                Ok(Ok(result)) => {
                    let result = Arc::new(result);
                    let mut cache = state.cache.lock().unwrap_or_else(PoisonError::into_inner);
                    // A slower, older analysis never replaces a newer one.
                    if cache.as_ref().is_none_or(|(g, _)| *g <= generation) {
                        *cache = Some((generation, result.clone()));
                    }
                    result
                }
                Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, e),
                Err(e) => {
                    return error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("analysis failed: {e}"),
                    );
                }
            }
        }
    };
    let mut body = counters;
    body["noise_alerts"] = json!(analysed.1);
    body["incidents"] = json!(analysed.0);
    Json(body).into_response()
}

async fn healthz(State(state): State<Shared>) -> Json<Value> {
    let distinct = state.store().fingerprints.len();
    Json(json!({ "status": "ok", "distinct_alerts": distinct }))
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such endpoint: use POST /webhook, GET /incidents or GET /healthz",
    )
}

async fn wrong_method(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "method {method} not allowed on {}: use POST /webhook, GET /incidents or GET /healthz",
            uri.path()
        ),
    )
}

fn router(state: Shared) -> Router {
    let limit = state.max_body_bytes;
    Router::new()
        .route("/webhook", post(webhook))
        .route("/incidents", get(incidents))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

fn load_services(path: &Path) -> Result<Vec<ServiceSpec>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read services file {}: {e}", path.display()))?;
    ServicesConfig::from_json(&text)
        .map(ServicesConfig::into_specs)
        .map_err(|e| format!("services file {}: {e}", path.display()))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    eprintln!("webhook_receiver: shutting down");
}

/// One alert in the shape of Alertmanager's `POST /api/v2/alerts`, firing or resolved.
fn postable(alert: &Alert, shift_millis: i64, resolved: bool) -> Value {
    let mut v = json!({
        "labels": alert.labels(),
        "annotations": {"summary": format!("{} on {}", alert.alertname().unwrap_or("alert"), alert.service().unwrap_or("?"))},
        "startsAt": alert.starts_at().add_millis(shift_millis).to_string(),
        "generatorURL": "http://127.0.0.1/aiops-sim",
    });
    if let (Some(end), true) = (alert.ends_at(), resolved) {
        v["endsAt"] = json!(end.add_millis(shift_millis).to_string());
    }
    v
}

/// Writes a seeded aiops-sim storm, moved in time so that it ends a minute ago, as
/// Alertmanager API batches plus its topology and ground truth.
fn emit_storm(args: &Args, dir: &Path) -> Result<(), String> {
    let topo = aiops_sim::topology(args.storm_services, args.seed);
    // An hour per incident, checked: a huge count used to wrap to a negative duration.
    let duration_secs = i64::try_from(args.storm_incidents.max(1))
        .ok()
        .filter(|_| args.storm_incidents <= aiops_sim::MAX_INCIDENTS)
        .and_then(|n| n.checked_mul(3_600))
        .ok_or_else(|| {
            format!(
                "--storm-incidents {}: at most {} (each incident gets an hour of the storm)",
                args.storm_incidents,
                aiops_sim::MAX_INCIDENTS
            )
        })?;
    // Incidents one after another with distinct, alerting roots and short cascade hops (the whole
    // cascade fits in the correlation window), no noise: the ground truth then says exactly how
    // many incidents a correct correlator finds.
    let spec = aiops_sim::StormSpec {
        incidents: args.storm_incidents,
        noise_alerts: 0,
        refire_prob: args.storm_refire_prob,
        max_cascade_delay_secs: args.storm_max_hop_secs,
        silent_root_prob: 0.0,
        overlap: false,
        duration_secs,
        ..aiops_sim::StormSpec::small()
    };
    spec.check().map_err(|e| format!("storm settings: {e}"))?;
    let storm = aiops_sim::storm(&topo, &spec, args.seed);
    let latest = storm
        .alerts
        .iter()
        .map(|a| a.ends_at().unwrap_or(a.starts_at()).max(a.starts_at()))
        .max()
        .ok_or("the storm has no alerts")?;
    let shift = now().add_secs(-60).millis_since(latest);
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let write = |name: &str, v: &Value| {
        let path = dir.join(name);
        std::fs::write(&path, v.to_string())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write("services.json", &json!(topo.services))?;
    // Replay in time order: every firing and every resolution is an event; the events are cut
    // into `batches` slices, and each slice is posted as two steps, its firings then its
    // resolutions, so Alertmanager notifies a firing before it learns of its end (as with
    // Prometheus, which keeps re-sending firing alerts). A resolution is left out when the same
    // alert fires again later in the slice (Alertmanager merged that re-fire into the first).
    let mut events: Vec<(Timestamp, bool, usize)> = Vec::with_capacity(2 * storm.alerts.len());
    for (i, a) in storm.alerts.iter().enumerate() {
        events.push((a.starts_at(), false, i));
        if let (Some(end), false) = (a.ends_at(), a.is_firing()) {
            events.push((end, true, i));
        }
    }
    events.sort_unstable();
    let per = events
        .len()
        .div_ceil(args.batches.clamp(1, events.len().max(1)));
    let mut steps = 0;
    for slice in events.chunks(per.max(1)) {
        let fires: Vec<&Alert> = slice
            .iter()
            .filter(|e| !e.1)
            .map(|e| &storm.alerts[e.2])
            .collect();
        let resolves: Vec<&Alert> = slice
            .iter()
            .filter(|e| e.1)
            .map(|e| &storm.alerts[e.2])
            .filter(|r| {
                !fires
                    .iter()
                    .any(|f| f.fingerprint() == r.fingerprint() && f.starts_at() > r.starts_at())
            })
            .collect();
        for (group, resolved) in [(fires, false), (resolves, true)] {
            if group.is_empty() {
                continue;
            }
            let body: Vec<Value> = group.iter().map(|a| postable(a, shift, resolved)).collect();
            write(&format!("step-{steps}.json"), &json!(body))?;
            steps += 1;
        }
    }
    let analysis = Analysis::new(&topo.services, args.window_secs, args.top_k)?;
    let library = Correlator::new(&analysis.graph, analysis.config.clone())
        .map_err(|e| format!("correlator: {e}"))?
        .correlate(&storm.alerts);
    let mut fingerprints: Vec<Fingerprint> = storm.alerts.iter().map(Alert::fingerprint).collect();
    fingerprints.sort_unstable();
    fingerprints.dedup();
    let truth = json!({
        "seed": args.seed,
        // What the library finds on the storm itself, before Alertmanager: the receiver must
        // find the same through Alertmanager.
        "library_incidents": library.incidents().len(),
        "library_noise_records": library.noise().len(),
        "records": storm.alerts.len(),
        "distinct_fingerprints": fingerprints.len(),
        "steps": steps,
        "incidents": storm.incidents.iter().enumerate().map(|(k, inc)| json!({
            "root": inc.root,
            "start": inc.start.add_millis(shift).to_string(),
            "affected": inc.affected,
            "alerts": storm.alerts_of(k).len(),
        })).collect::<Vec<_>>(),
    });
    write("truth.json", &truth)?;
    eprintln!(
        "webhook_receiver: wrote a storm of {} alerts ({} distinct, {} incidents, {} services) to {}; \
         the library finds {} incidents and {} noise records in it",
        storm.alerts.len(),
        fingerprints.len(),
        storm.incidents.len(),
        topo.services.len(),
        dir.display(),
        library.incidents().len(),
        library.noise().len()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(dir) = &args.emit_storm {
        return match emit_storm(&args, dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("webhook_receiver: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if args.retention_secs <= 0 {
        eprintln!(
            "webhook_receiver: --retention-secs must be positive, got {}",
            args.retention_secs
        );
        return ExitCode::from(2);
    }
    if args.window_secs <= 0 {
        eprintln!(
            "webhook_receiver: --window-secs must be positive, got {}",
            args.window_secs
        );
        return ExitCode::from(2);
    }
    let analysis = args
        .services
        .as_deref()
        .map(load_services)
        .transpose()
        .and_then(|s| Analysis::new(&s.unwrap_or_default(), args.window_secs, args.top_k));
    let analysis = match analysis {
        Ok(a) => a,
        Err(e) => {
            eprintln!("webhook_receiver: {e}");
            return ExitCode::from(2);
        }
    };
    let state = Arc::new(AppState {
        store: Mutex::new(Store::default()),
        cache: Mutex::new(None),
        analysis,
        max_body_bytes: args.max_body_bytes,
        retention_secs: args.retention_secs,
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("webhook_receiver: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(args.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("webhook_receiver: cannot listen on {}: {e}", args.listen);
                return ExitCode::FAILURE;
            }
        };
        let addr = listener.local_addr().map_or(args.listen, |a| a);
        eprintln!(
            "webhook_receiver: listening on http://{addr} ({} services, window {} s, dry run)",
            state.analysis.graph.len(),
            state.analysis.config.window_secs
        );
        match axum::serve(listener, router(state))
            .with_graceful_shutdown(shutdown_signal())
            .await
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("webhook_receiver: server error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
