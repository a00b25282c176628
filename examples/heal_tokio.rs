//! Runs a healing plan on tokio: real handlers (here simulated with short sleeps), tokio's clock
//! and timer as the `Sleeper`, a per-action timeout and a compensating rollback.
//!
//! ```sh
//! cargo run --release --example heal_tokio
//! ```

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aiops_core::{Incident, Labels, Severity, Timestamp};
use aiops_heal::{
    ActionStatus, ActionType, AuditEvent, HandlerFuture, Handlers, HealingEngine, Pattern, Plan,
    Policy, Rule, Sleeper, Verdict, execute,
};

/// tokio's timer; wall-clock time for the audit trail.
struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn now(&self) -> Timestamp {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Timestamp::from_millis(ms)
    }
    fn sleep(&self, millis: u64) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(Duration::from_millis(millis)))
    }
}

/// A handler that "works" for `millis` and then answers `ok`.
fn simulated(millis: u64, ok: bool) -> impl Fn(&ActionType, &Plan) -> HandlerFuture<'static> {
    move |action: &ActionType, plan: &Plan| -> HandlerFuture<'static> {
        let what = format!("{action} on {}", plan.service.as_deref().unwrap_or("?"));
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            if ok {
                Ok(())
            } else {
                Err(format!("{what}: simulated failure"))
            }
        })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let policy = Policy::builder()
        .pause_millis(50) // the article's 5 s pause, shortened for the demo
        .action_timeout_millis(200)
        .approval_actions([])
        .build()?;
    let mut engine = HealingEngine::new(policy);
    engine.add_rule(
        Rule::new(
            "checkout-latency",
            Pattern::new()
                .exact("service", "checkout")
                .exact("alertname", "HighLatency"),
            [
                ActionType::ClearCache,
                ActionType::ScaleOut,
                ActionType::RestartService,
            ],
        )?
        .with_threshold(0.0)?
        .with_compensation(ActionType::Rollback),
    )?;
    let mut handlers = Handlers::new();
    handlers.insert(ActionType::ClearCache, simulated(10, true));
    handlers.insert(ActionType::ScaleOut, simulated(20, true));
    handlers.insert(ActionType::RestartService, simulated(1_000, true)); // exceeds the timeout
    handlers.insert(ActionType::Rollback, simulated(10, true));
    engine.set_available_actions(handlers.actions().cloned());

    let sleeper = TokioSleeper;
    let incident = Incident::from_summary(
        "inc-42",
        "checkout",
        Severity::Critical,
        Labels::from_pairs([("alertname", "HighLatency")]),
        sleeper.now(),
    );
    let record = engine.handle(&incident, sleeper.now());
    let AuditEvent::Decision(decision) = &record.event else {
        return Err("no decision".into());
    };
    println!(
        "decision: {} (rule {:?})",
        decision.verdict.code(),
        decision.rule_id
    );
    assert_eq!(decision.verdict, Verdict::Execute);
    let plan = decision.plan_to_execute().ok_or("no plan")?;
    let id = record.execution_id.ok_or("no execution id")?;

    let outcome = execute(plan, &handlers, &sleeper).await;
    for r in &outcome.actions {
        println!(
            "  {:<16} {:?} ({} ms)",
            r.action.as_str(),
            r.status,
            r.duration_millis()
        );
    }
    if let Some(c) = &outcome.compensation {
        println!("  compensation {} {:?}", c.action, c.status);
    }
    let done = engine.complete(id, &outcome)?;
    println!(
        "audit record {} at {}: success = {}",
        done.seq, done.at, outcome.success
    );

    assert!(!outcome.success);
    assert_eq!(outcome.actions[0].status, ActionStatus::Succeeded);
    assert_eq!(outcome.actions[2].status, ActionStatus::TimedOut);
    assert_eq!(
        outcome.compensation.as_ref().map(|c| &c.status),
        Some(&ActionStatus::Succeeded)
    );
    assert!(
        outcome.actions[1]
            .started
            .millis_since(outcome.actions[0].finished)
            >= 50
    );
    let stats = engine.rule_stats("checkout-latency").ok_or("no stats")?;
    assert_eq!((stats.successes, stats.failures), (0, 1));
    Ok(())
}
