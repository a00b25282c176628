//! With the `serde` feature, audit records serialise to JSON with the decision, the
//! confidence and its inputs, the reason, and each action's result and duration.
#![cfg(feature = "serde")]

use std::sync::atomic::{AtomicI64, Ordering};

use aiops_core::{Incident, Labels, Severity, Timestamp};
use aiops_heal::{
    ActionType, AuditEvent, HandlerFuture, Handlers, HealingEngine, Pattern, Plan, Policy, Rule,
    Sleeper, execute,
};
use futures::future::BoxFuture;

struct Clock(AtomicI64);
impl Sleeper for Clock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
    fn sleep(&self, millis: u64) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.0.fetch_add(millis as i64, Ordering::SeqCst);
        })
    }
}

#[test]
fn audit_records_serialise() {
    let policy = Policy::builder().build().unwrap();
    let mut e = HealingEngine::new(policy);
    e.add_rule(
        Rule::new(
            "api",
            Pattern::new().exact("service", "api"),
            [
                ActionType::ClearCache,
                ActionType::custom("warm_up").unwrap(),
            ],
        )
        .unwrap()
        .with_threshold(0.0)
        .unwrap(),
    )
    .unwrap();
    let inc = Incident::from_summary(
        "inc-7",
        "api",
        Severity::High,
        Labels::new(),
        Timestamp::from_secs(10),
    );
    let rec = e.handle(&inc, Timestamp::from_secs(10));
    let v = serde_json::to_value(&rec).unwrap();
    assert_eq!(v["seq"], 0);
    assert_eq!(v["event"]["event"], "decision");
    assert_eq!(v["event"]["incident_id"], "inc-7");
    assert_eq!(v["event"]["verdict"]["decision"], "execute");
    assert_eq!(v["event"]["confidence"]["model"], "beta_lower_bound");
    assert_eq!(v["event"]["confidence"]["severity"], "high");
    assert_eq!(v["event"]["plan"]["actions"][1], "warm_up");

    let mut h = Handlers::new();
    h.insert(
        ActionType::ClearCache,
        |_: &ActionType, _: &Plan| -> HandlerFuture<'static> { Box::pin(async { Ok(()) }) },
    );
    h.insert(
        ActionType::custom("warm_up").unwrap(),
        |_: &ActionType, _: &Plan| -> HandlerFuture<'static> {
            Box::pin(async { Err("cold".to_owned()) })
        },
    );
    let clock = Clock(AtomicI64::new(10_000));
    let AuditEvent::Decision(d) = &rec.event else {
        panic!("decision expected")
    };
    let out = futures::executor::block_on(execute(d.plan_to_execute().unwrap(), &h, &clock));
    let done = e.complete(rec.execution_id.unwrap(), &out).unwrap();
    let v = serde_json::to_value(&done).unwrap();
    assert_eq!(v["event"]["event"], "completed");
    assert_eq!(v["event"]["success"], false);
    assert_eq!(v["event"]["actions"][0]["status"]["status"], "succeeded");
    assert_eq!(v["event"]["actions"][1]["status"]["status"], "failed");
    assert_eq!(v["event"]["actions"][1]["status"]["message"], "cold");
    assert_eq!(v["execution_id"], 0);
    assert!(v["event"]["refused"].is_null());

    // A refusal names its reason (a plan refused for a missing handler, or with no actions).
    let refused = futures::executor::block_on(execute(
        &Plan::new("r", "inc-8", None, vec![ActionType::ScaleOut]),
        &h,
        &clock,
    ));
    let v = serde_json::to_value(&refused).unwrap();
    assert_eq!(v["refused"]["reason"], "unknown_action");
    assert_eq!(v["refused"]["action"], "scale_out");
    let empty =
        futures::executor::block_on(execute(&Plan::new("r", "i", None, vec![]), &h, &clock));
    let v = serde_json::to_value(&empty).unwrap();
    assert_eq!(v["refused"], serde_json::json!({"reason": "no_actions"}));

    let skip = e.handle(&inc, Timestamp::from_secs(20));
    let v = serde_json::to_value(&skip).unwrap();
    assert_eq!(v["event"]["verdict"]["decision"], "skip");
    assert_eq!(v["event"]["verdict"]["why"]["reason"], "cooldown");
}
