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

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use aiops_core::{Alert, AlertStatus, Fingerprint, ServiceSpec, Timestamp, WebhookPayload};
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
#[command(version, about)]
struct Args {
    /// Address to listen on (loopback by default; put a reverse proxy in front to expose it).
    #[arg(long, default_value = "127.0.0.1:9095")]
    listen: SocketAddr,
    /// Services config JSON (`[{"name", "type", "criticality", "dependencies"}]`); without it,
    /// alerts are correlated by time and labels alone.
    #[arg(long, value_name = "FILE")]
    services: Option<PathBuf>,
    /// Correlation window in seconds: alerts further apart than this are not related.
    #[arg(long, default_value_t = 300)]
    window_secs: i64,
    /// Largest accepted request body in bytes (larger bodies get 413).
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Instead of serving: write an aiops-sim alert storm for Alertmanager's `POST /api/v2/alerts`
    /// into DIR (`services.json`, `batch-<i>.json`, `truth.json`) and exit. Used by
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
    /// Number of time-ordered batches the storm is split into (with --emit-storm).
    #[arg(long, default_value_t = 4)]
    batches: usize,
}

/// Every distinct alert received (one per fingerprint, latest state), plus counters.
#[derive(Default)]
struct Store {
    /// One alert per fingerprint, in order of first arrival.
    alerts: Vec<Alert>,
    index: HashMap<Fingerprint, usize>,
    /// How many times each fingerprint was received.
    copies: Vec<u64>,
    /// Alert records received over all accepted payloads (re-sends included).
    records: u64,
    payloads: u64,
    rejected: u64,
}

impl Store {
    /// Adds one payload's alerts: a new fingerprint is appended, a known one is updated in place
    /// (status, end, annotations) so re-sends never create a second alert.
    fn ingest(&mut self, alerts: Vec<Alert>) -> (usize, usize) {
        let (mut new, mut updated) = (0, 0);
        self.payloads += 1;
        for alert in alerts {
            self.records += 1;
            if let Some(&i) = self.index.get(&alert.fingerprint()) {
                self.copies[i] += 1;
                // Keep the earliest start: a re-fire after resolution is the same condition.
                let start = self.alerts[i].starts_at().min(alert.starts_at());
                if alert != self.alerts[i] {
                    updated += 1;
                }
                self.alerts[i] = rebase(alert, start);
            } else {
                self.index.insert(alert.fingerprint(), self.alerts.len());
                self.alerts.push(alert);
                self.copies.push(1);
                new += 1;
            }
        }
        (new, updated)
    }
}

/// The same alert with another start time.
fn rebase(alert: Alert, start: Timestamp) -> Alert {
    if alert.starts_at() == start {
        return alert;
    }
    Alert::new(alert.labels().clone(), start)
        .with_annotations(alert.annotations().clone())
        .with_generator_url(alert.generator_url())
        .with_ends_at(alert.ends_at())
        .with_status(alert.status())
}

struct AppState {
    store: Mutex<Store>,
    services: Vec<ServiceSpec>,
    window_secs: i64,
    max_body_bytes: usize,
}

impl AppState {
    /// The store, even if a handler panicked while holding the lock (the data stays valid:
    /// every mutation is a whole-alert replace or push).
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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

async fn incidents(State(state): State<Shared>) -> Json<Value> {
    let (alerts, copies, records, payloads, rejected) = {
        let store = state.store();
        (
            store.alerts.clone(),
            store.copies.clone(),
            store.records,
            store.payloads,
            store.rejected,
        )
    };
    let report = analyse(&alerts, &copies, &state.services, state.window_secs, now());
    Json(json!({
        "payloads": payloads,
        "alerts_received": records,
        "distinct_alerts": alerts.len(),
        "firing_alerts": alerts.iter().filter(|a| a.status() == AlertStatus::Firing).count(),
        "rejected_requests": rejected,
        "incidents": report,
    }))
}

/// Correlates, ranks and decides (placeholder grouping until the correlator is wired in).
fn analyse(
    alerts: &[Alert],
    copies: &[u64],
    _services: &[ServiceSpec],
    _window_secs: i64,
    _now: Timestamp,
) -> Vec<Value> {
    alerts
        .iter()
        .zip(copies)
        .map(|(a, c)| {
            json!({
                "fingerprint": a.fingerprint().to_string(),
                "service": a.service(),
                "copies": c,
            })
        })
        .collect()
}

async fn healthz(State(state): State<Shared>) -> Json<Value> {
    let distinct = state.store().alerts.len();
    Json(json!({ "status": "ok", "distinct_alerts": distinct }))
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such endpoint: use POST /webhook, GET /incidents or GET /healthz",
    )
}

fn router(state: Shared) -> Router {
    let limit = state.max_body_bytes;
    Router::new()
        .route("/webhook", post(webhook))
        .route("/incidents", get(incidents))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

fn load_services(path: &Path) -> Result<Vec<ServiceSpec>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read services file {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("services file {}: {e}", path.display()))
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

/// One alert in the shape of Alertmanager's `POST /api/v2/alerts` (`endsAt` only when resolved).
fn postable(alert: &Alert, shift_millis: i64) -> Value {
    let mut v = json!({
        "labels": alert.labels(),
        "annotations": {"summary": format!("{} on {}", alert.alertname().unwrap_or("alert"), alert.service().unwrap_or("?"))},
        "startsAt": alert.starts_at().add_millis(shift_millis).to_string(),
        "generatorURL": "http://127.0.0.1/aiops-sim",
    });
    if let (Some(end), false) = (alert.ends_at(), alert.is_firing()) {
        v["endsAt"] = json!(end.add_millis(shift_millis).to_string());
    }
    v
}

/// Writes a seeded aiops-sim storm, moved in time so that it ends a minute ago, as
/// Alertmanager API batches plus its topology and ground truth.
fn emit_storm(args: &Args, dir: &Path) -> Result<(), String> {
    let topo = aiops_sim::topology(args.storm_services, args.seed);
    // Incidents one after another with distinct, alerting roots and short cascade hops, no noise:
    // the ground truth then says exactly how many incidents a correct correlator finds.
    let spec = aiops_sim::StormSpec {
        incidents: args.storm_incidents,
        noise_alerts: 0,
        refire_prob: 0.4,
        max_cascade_delay_secs: 120,
        silent_root_prob: 0.0,
        overlap: false,
        duration_secs: 3_600 * i64::try_from(args.storm_incidents.max(1)).unwrap_or(1),
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
    let batches = args.batches.clamp(1, storm.alerts.len());
    let per = storm.alerts.len().div_ceil(batches);
    for (i, chunk) in storm.alerts.chunks(per).enumerate() {
        let body: Vec<Value> = chunk.iter().map(|a| postable(a, shift)).collect();
        write(&format!("batch-{i}.json"), &json!(body))?;
    }
    let mut fingerprints: Vec<Fingerprint> = storm.alerts.iter().map(Alert::fingerprint).collect();
    fingerprints.sort_unstable();
    fingerprints.dedup();
    let truth = json!({
        "seed": args.seed,
        "records": storm.alerts.len(),
        "distinct_fingerprints": fingerprints.len(),
        "batches": storm.alerts.chunks(per).count(),
        "incidents": storm.incidents.iter().enumerate().map(|(k, inc)| json!({
            "root": inc.root,
            "start": inc.start.add_millis(shift).to_string(),
            "affected": inc.affected,
            "alerts": storm.alerts_of(k).len(),
        })).collect::<Vec<_>>(),
    });
    write("truth.json", &truth)?;
    eprintln!(
        "webhook_receiver: wrote a storm of {} alerts ({} distinct, {} incidents, {} services) to {}",
        storm.alerts.len(),
        fingerprints.len(),
        storm.incidents.len(),
        topo.services.len(),
        dir.display()
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
    if args.window_secs <= 0 {
        eprintln!(
            "webhook_receiver: --window-secs must be positive, got {}",
            args.window_secs
        );
        return ExitCode::from(2);
    }
    let services = match args.services.as_deref().map(load_services).transpose() {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => {
            eprintln!("webhook_receiver: {e}");
            return ExitCode::from(2);
        }
    };
    let state = Arc::new(AppState {
        store: Mutex::new(Store::default()),
        services,
        window_secs: args.window_secs,
        max_body_bytes: args.max_body_bytes,
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
            state.services.len(),
            state.window_secs
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
