//! Long runs of the healing engine: how the rolling-window checks scale with the executions in
//! a window, and how much heap a long-running engine holds when it forgets old state.
//!
//! `cargo run --release -p aiops-heal --example heal_long_run`
//!
//! Each run drives a fresh engine with one rule matching every incident and a policy with
//! every limit off except a per-service rate limit of 3 per hour. Each decision is on a new
//! service, goes through `handle`, and its execution is completed (`complete_simulated`,
//! success) at the same instant, before the next decision:
//!
//! - 40,000 decisions one millisecond apart (40 s of simulated time): wall time;
//! - 160,000 decisions one millisecond apart (160 s): wall time;
//! - 1,000,000 decisions one second apart (about 11.6 days), with `forget_before(now - 1 h)`
//!   after every 1,000th: peak heap, as counted by the allocator below (bytes requested and
//!   not yet freed during the run), and wall time.
//!
//! Every decision in these runs lands inside the rate limit's one-hour window, so the
//! millisecond runs put all their executions in one window (a scan per decision was
//! quadratic). The 1,000,000-decision run is one second apart so that forgetting an hour back
//! does forget: memory should stay at about an hour of decisions, not grow with every
//! service ever seen. The allocator counts in every run (two relaxed atomics per allocation),
//! so the timings include that small cost.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use aiops_core::{Incident, Labels, Severity, Timestamp};
use aiops_heal::{
    ActionType, AuditEvent, HealingEngine, Pattern, Policy, RateLimit, Rule, Verdict,
};

/// The system allocator, counting the bytes currently allocated and their peak.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Relaxed) + bytes;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments, so it keeps
// `System`'s guarantees; the counters only observe sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, which is `System`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc`/`realloc` above, i.e. from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as `dealloc`, and the caller upholds `realloc`'s contract on `new_size`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            CURRENT.fetch_sub(layout.size(), Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Any fixed time will do: 2023-11-14T22:13:20Z.
const START_MS: i64 = 1_700_000_000_000;
const HOUR_MS: i64 = 3_600_000;

/// An engine whose one rule matches every incident below, under the per-service rate limit.
fn engine() -> HealingEngine {
    let policy = Policy::builder()
        .cooldown_secs(0)
        .global_rate(None)
        .service_rate(Some(RateLimit::new(3, 3600).expect("a valid limit")))
        .max_concurrent(None)
        .approval_actions([])
        .circuit_breaker_failures(None)
        .build()
        .expect("a valid policy");
    let mut e = HealingEngine::new(policy);
    let rule = Rule::new(
        "latency-restart",
        Pattern::new().exact("alertname", "HighLatency"),
        [ActionType::RestartService],
    )
    .and_then(|r| r.with_threshold(0.0))
    .expect("a valid rule");
    e.add_rule(rule).expect("one rule");
    e
}

/// What a run did.
struct Run {
    executed: u64,
    forgotten: usize,
    secs: f64,
}

/// Drives `n` decisions `step_ms` apart, each on a new service and completed at once; after
/// every `forget_every`-th decision, forgets what started more than an hour earlier.
fn drive(e: &mut HealingEngine, n: i64, step_ms: i64, forget_every: Option<i64>) -> Run {
    let labels = Labels::from_pairs([("alertname", "HighLatency")]);
    let (mut executed, mut forgotten) = (0, 0);
    let t0 = Instant::now();
    for k in 0..n {
        let now = Timestamp::from_millis(START_MS + k * step_ms);
        let service = format!("svc-{k}");
        let incident = Incident::from_summary(
            service.clone(),
            service,
            Severity::High,
            labels.clone(),
            now,
        );
        let record = e.handle(&incident, now);
        if let (AuditEvent::Decision(d), Some(id)) = (&record.event, record.execution_id)
            && d.verdict == Verdict::Execute
        {
            executed += 1;
            e.complete_simulated(id, true, now)
                .expect("a running execution");
        }
        if forget_every.is_some_and(|every| (k + 1) % every == 0) {
            forgotten += e.forget_before(Timestamp::from_millis(now.as_millis() - HOUR_MS));
        }
    }
    Run {
        executed,
        forgotten,
        secs: t0.elapsed().as_secs_f64(),
    }
}

fn main() {
    for (n, what) in [
        (40_000, "40,000 decisions in 40 s"),
        (160_000, "160,000 decisions in 160 s"),
    ] {
        let run = drive(&mut engine(), n, 1, None);
        println!(
            "{what} (one per ms, new service each), per-service rate limit 3 per hour: {:.3} s",
            run.secs
        );
        // A new service each time: the per-service limit never refuses.
        assert_eq!(run.executed, n as u64);
    }

    let n = 1_000_000;
    let base = CURRENT.load(Relaxed);
    PEAK.store(base, Relaxed);
    let mut e = engine();
    let run = drive(&mut e, n, 1000, Some(1000));
    let peak = PEAK.load(Relaxed) - base;
    let held = CURRENT.load(Relaxed).saturating_sub(base);
    drop(e);
    println!(
        "1,000,000 decisions (one per s), a new service each, forget_before(now - 1 h) every \
         1,000: peak memory {:.1} MB, {:.1} MB held at the end, {:.2} s",
        peak as f64 / 1e6,
        held as f64 / 1e6,
        run.secs
    );
    assert_eq!(run.executed, n as u64);
    // Everything but about the last hour (3,600 decisions, up to 999 more) is forgotten.
    assert!(
        run.forgotten >= 995_000,
        "forgot only {} executions",
        run.forgotten
    );
    // An hour of decisions, not a million services (134 MB when the last starts were kept).
    assert!(peak < 32_000_000, "peak memory {peak} bytes");
}
