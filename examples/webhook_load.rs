//! Load check for the `webhook_receiver` example: POSTs Alertmanager webhook payloads of N alerts
//! over keep-alive HTTP/1.1 connections on loopback and reports requests per second, latency
//! percentiles, and whether every request was answered 200 and counted by the receiver.
//!
//! ```sh
//! cargo build --release --example webhook_receiver --example webhook_load
//! target/release/examples/webhook_receiver --listen 127.0.0.1:9095 &
//! target/release/examples/webhook_load --url http://127.0.0.1:9095 --requests 5000 --connections 8
//! ```
//!
//! The client is a minimal HTTP/1.1 client on tokio's `TcpStream` (requests with
//! `Content-Length`, responses with `Content-Length`), so the figures measure the receiver and not
//! a client library. Bounded: `--requests` requests at most, and `--timeout-secs` overall.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Load check for the webhook receiver (loopback only).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The receiver's base URL (`http://127.0.0.1:PORT`); only loopback addresses are accepted.
    #[arg(long, default_value = "http://127.0.0.1:9095")]
    url: String,
    /// Total webhook requests to send.
    #[arg(long, default_value_t = 2_000)]
    requests: usize,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Alerts per webhook payload.
    #[arg(long, default_value_t = 100)]
    alerts: usize,
    /// Distinct alert label sets cycled through (the receiver's store stays bounded).
    #[arg(long, default_value_t = 5_000)]
    distinct: usize,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
}

/// Parses `http://HOST:PORT[/...]` into a loopback socket address.
fn loopback_addr(url: &str) -> Result<SocketAddr, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("--url must start with http://, got {url:?}"))?;
    let hostport = rest.split('/').next().unwrap_or(rest);
    let addr: SocketAddr = hostport
        .replace("localhost", "127.0.0.1")
        .parse()
        .map_err(|e| format!("--url {url:?}: expected http://IP:PORT ({e})"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "--url {url:?} is not a loopback address; this load check only runs on loopback"
        ));
    }
    Ok(addr)
}

/// A webhook payload of `n` firing alerts, the `k`-th request's share of `distinct` label sets.
fn payload(k: usize, n: usize, distinct: usize) -> Vec<u8> {
    let alerts: Vec<Value> = (0..n)
        .map(|i| {
            let id = (k * n + i) % distinct.max(1);
            let service = format!("svc-{}", id % 50);
            json!({
                "status": "firing",
                "labels": {"alertname": "LoadTest", "service": service, "instance": format!("host-{id}:9100"),
                           "severity": "warning", "metric_type": "latency"},
                "annotations": {"summary": "load test"},
                "startsAt": format!("2026-01-01T00:{:02}:{:02}Z", (id / 60) % 60, id % 60),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://127.0.0.1/load",
                "fingerprint": "0000000000000000",
            })
        })
        .collect();
    json!({
        "version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0, "status": "firing",
        "receiver": "aiops", "groupLabels": {}, "commonLabels": {"alertname": "LoadTest"},
        "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093", "alerts": alerts,
    })
    .to_string()
    .into_bytes()
}

/// One HTTP/1.1 exchange on a keep-alive connection; returns the status code and body.
async fn exchange(
    conn: &mut BufReader<TcpStream>,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<(u16, Vec<u8>), String> {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let stream = conn.get_mut();
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    stream
        .write_all(body)
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut line = String::new();
    conn.read_line(&mut line)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {line:?}"))?;
    let mut length = None;
    loop {
        line.clear();
        conn.read_line(&mut line)
            .await
            .map_err(|e| format!("read: {e}"))?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((name, value)) = l.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let length = length.ok_or("response without Content-Length")?;
    let mut out = vec![0; length];
    conn.read_exact(&mut out)
        .await
        .map_err(|e| format!("read body: {e}"))?;
    Ok((status, out))
}

async fn connect(addr: SocketAddr) -> Result<BufReader<TcpStream>, String> {
    let s = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    s.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
    Ok(BufReader::new(s))
}

async fn get_json(addr: SocketAddr, path: &str) -> Result<Value, String> {
    let mut c = connect(addr).await?;
    let (status, body) = exchange(&mut c, "GET", path, b"").await?;
    if status != 200 {
        return Err(format!("GET {path}: HTTP {status}"));
    }
    serde_json::from_slice(&body).map_err(|e| format!("GET {path}: {e}"))
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

async fn run(args: Args) -> Result<(), String> {
    let addr = loopback_addr(&args.url)?;
    if args.requests == 0 || args.connections == 0 || args.alerts == 0 {
        return Err("--requests, --connections and --alerts must be positive".into());
    }
    let before = get_json(addr, "/incidents").await?;
    let received_before = before["alerts_received"].as_u64().unwrap_or(0);
    // Payloads are built before the clock starts.
    let bodies: Vec<Vec<u8>> = (0..args.requests)
        .map(|k| payload(k, args.alerts, args.distinct))
        .collect();
    let bytes = bodies.first().map_or(0, Vec::len);
    let bodies = std::sync::Arc::new(bodies);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.connections.min(args.requests) {
        let bodies = bodies.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = connect(addr).await?;
            let mut latencies = Vec::new();
            let mut failures = Vec::new();
            loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(body) = bodies.get(k) else { break };
                let t0 = Instant::now();
                let (status, resp) = exchange(&mut conn, "POST", "/webhook", body).await?;
                latencies.push(t0.elapsed());
                if status != 200 {
                    failures.push(format!(
                        "request {k}: HTTP {status} {}",
                        String::from_utf8_lossy(&resp)
                    ));
                }
            }
            Ok::<_, String>((latencies, failures))
        }));
    }
    let mut latencies = Vec::with_capacity(args.requests);
    let mut failures = Vec::new();
    let deadline = Duration::from_secs(args.timeout_secs);
    for t in tasks {
        let left = deadline.saturating_sub(started.elapsed());
        let (l, f) = tokio::time::timeout(left, t)
            .await
            .map_err(|_| format!("not finished within {} s", args.timeout_secs))?
            .map_err(|e| format!("client task failed: {e}"))??;
        latencies.extend(l);
        failures.extend(f);
    }
    let elapsed = started.elapsed();
    // GET /incidents correlates, ranks and decides over everything stored: time it too. This
    // first call analyses; the receiver caches the result until the records change, so the
    // next calls measure the cached answer.
    let t0 = Instant::now();
    let after = get_json(addr, "/incidents").await?;
    let first_get = t0.elapsed();
    let received = after["alerts_received"]
        .as_u64()
        .unwrap_or(0)
        .saturating_sub(received_before);
    let expected = (args.requests * args.alerts) as u64;
    let mut gets = Vec::new();
    let mut incidents = after["incidents"].as_array().map_or(0, Vec::len);
    for _ in 0..4 {
        let t0 = Instant::now();
        let v = get_json(addr, "/incidents").await?;
        gets.push(t0.elapsed());
        incidents = v["incidents"].as_array().map_or(0, Vec::len);
    }
    gets.sort_unstable();
    latencies.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let report = json!({
        "requests": latencies.len(),
        "alerts_per_request": args.alerts,
        "body_bytes": bytes,
        "connections": args.connections,
        "ok": latencies.len() - failures.len(),
        "failed": failures.len(),
        "alerts_counted_by_receiver": received,
        "alerts_sent": expected,
        "seconds": elapsed.as_secs_f64(),
        "requests_per_sec": latencies.len() as f64 / elapsed.as_secs_f64(),
        "alerts_per_sec": expected as f64 / elapsed.as_secs_f64(),
        "incidents_get_ms_first": ms(first_get),
        "incidents_get_ms_cached_median_of_4": ms(gets[1]),
        "incidents": incidents,
        "distinct_alerts_stored": after["distinct_alerts"],
        "latency_ms": {
            "p50": ms(percentile(&latencies, 0.50)),
            "p90": ms(percentile(&latencies, 0.90)),
            "p99": ms(percentile(&latencies, 0.99)),
            "max": ms(percentile(&latencies, 1.0)),
        },
    });
    println!("{report}");
    for f in failures.iter().take(5) {
        eprintln!("webhook_load: {f}");
    }
    if !failures.is_empty() || latencies.len() != args.requests || received != expected {
        return Err(format!(
            "requests lost: {} of {} answered 200, receiver counted {received} of {expected} alerts",
            latencies.len() - failures.len(),
            args.requests
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("webhook_load: cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("webhook_load: {e}");
            ExitCode::FAILURE
        }
    }
}
