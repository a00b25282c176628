//! Runtime-agnostic execution of a plan with caller-supplied handlers and sleeper.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;

use aiops_core::Timestamp;
use futures::FutureExt;
use futures::future::{BoxFuture, Either, select};

use crate::action::ActionType;
use crate::decision::Plan;
use crate::policy::UnknownActionPolicy;

/// The future a handler returns: `Ok(())` on success, `Err(message)` on failure.
pub type HandlerFuture<'a> = BoxFuture<'a, Result<(), String>>;

/// Runs one action. Dyn-compatible, so handlers can live in [`Handlers`] as trait objects;
/// any `Fn(&ActionType, &Plan) -> HandlerFuture<'static>` closure is a handler.
pub trait ActionHandler: Send + Sync {
    /// Runs `action` of `plan`.
    fn run<'a>(&'a self, action: &'a ActionType, plan: &'a Plan) -> HandlerFuture<'a>;
}

impl<F> ActionHandler for F
where
    F: Fn(&ActionType, &Plan) -> HandlerFuture<'static> + Send + Sync,
{
    fn run<'a>(&'a self, action: &'a ActionType, plan: &'a Plan) -> HandlerFuture<'a> {
        self(action, plan)
    }
}

/// The registered handlers, one per action.
#[derive(Default)]
pub struct Handlers {
    map: HashMap<ActionType, Box<dyn ActionHandler>>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.map.keys().map(ActionType::as_str).collect();
        names.sort_unstable();
        f.debug_struct("Handlers").field("actions", &names).finish()
    }
}

impl Handlers {
    /// No handlers.
    pub fn new() -> Self {
        Handlers::default()
    }
    /// Registers (or replaces) the handler of `action`.
    pub fn insert(
        &mut self,
        action: ActionType,
        handler: impl ActionHandler + 'static,
    ) -> &mut Self {
        self.map.insert(action, Box::new(handler));
        self
    }
    /// Whether `action` has a handler.
    pub fn contains(&self, action: &ActionType) -> bool {
        self.map.contains_key(action)
    }
    /// The actions with a handler (for [`crate::HealingEngine::set_available_actions`]).
    pub fn actions(&self) -> impl Iterator<Item = &ActionType> + '_ {
        self.map.keys()
    }
    fn get(&self, action: &ActionType) -> Option<&dyn ActionHandler> {
        self.map.get(action).map(AsRef::as_ref)
    }
}

/// The caller's clock and timer: tokio's, async-std's, or a fake one in tests.
pub trait Sleeper: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;
    /// A future that completes after `millis` milliseconds.
    fn sleep(&self, millis: u64) -> BoxFuture<'_, ()>;
}

/// Why [`execute`] refused a plan before running anything.
///
/// A refusal is a configuration error, not a verdict on the rule:
/// [`crate::HealingEngine::complete`] frees the execution's slot and records the refusal, but
/// counts no failure and leaves the circuit breaker alone.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "reason", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Refusal {
    /// An action (or the compensation) has no handler, under [`UnknownActionPolicy::Refuse`].
    UnknownAction {
        /// The first such action.
        action: ActionType,
    },
    /// The plan has no actions (only a plan built by hand can): nothing would run, and doing
    /// nothing is not a success.
    NoActions,
}

/// What happened to one action.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "status", content = "message", rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum ActionStatus {
    /// The handler returned `Ok`.
    Succeeded,
    /// The handler returned `Err` with this message, or panicked (the message then starts
    /// with `handler panicked`).
    Failed(String),
    /// The handler did not finish within the per-action timeout.
    TimedOut,
    /// No handler, skipped as the article does ([`UnknownActionPolicy::SkipLikeArticle`]).
    SkippedNoHandler,
    /// Dry run: not called.
    DryRun,
    /// Not run (an earlier step failed, or the plan was refused).
    NotRun,
}

impl ActionStatus {
    fn is_failure(&self) -> bool {
        matches!(self, ActionStatus::Failed(_) | ActionStatus::TimedOut)
    }
}

/// One action's result, with times from the injected clock.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ActionResult {
    /// The action.
    pub action: ActionType,
    /// What happened.
    pub status: ActionStatus,
    /// When it started.
    pub started: Timestamp,
    /// When it ended.
    pub finished: Timestamp,
}

impl ActionResult {
    /// `finished - started` in milliseconds.
    pub fn duration_millis(&self) -> i64 {
        self.finished.millis_since(self.started)
    }
}

/// The result of [`execute`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Outcome {
    /// Every action of the plan, in order (`NotRun` after a failure).
    pub actions: Vec<ActionResult>,
    /// The compensating action, when it ran.
    pub compensation: Option<ActionResult>,
    /// Why the plan was refused before anything ran, if it was.
    pub refused: Option<Refusal>,
    /// Whether the plan succeeded (a dry run counts as success; nothing failed).
    pub success: bool,
    /// A dry run: no handler was called.
    pub dry_run: bool,
    /// Start, from the sleeper's clock.
    pub started: Timestamp,
    /// End, from the sleeper's clock.
    pub finished: Timestamp,
}

/// Runs `plan`'s actions in order: pause between actions (the plan's `pause_millis`, through
/// `sleeper`), per-action timeout, stop at the first failure, then run the compensating action
/// once if an earlier step had succeeded. A dry-run plan calls no handler. Under
/// [`UnknownActionPolicy::Refuse`] a plan with an action lacking a handler is refused before
/// anything runs ([`Refusal::UnknownAction`]); a plan with no actions is always refused
/// ([`Refusal::NoActions`], dry run included), never reported as a success.
///
/// A handler that panics (while building its future or while it runs) counts as a failed
/// action, `ActionStatus::Failed("handler panicked: ..")`: the unwind is caught, so an
/// [`Outcome`] is still produced and the caller can report it to the engine, freeing the
/// execution's slot. The panic hook still runs (it may print), a build with `panic = "abort"`
/// cannot catch anything, and a handler that panicked is called again for later actions and
/// plans: keep its shared state consistent across a panic.
///
/// A handler whose completion is observed later than the timeout counts as timed out, even if
/// it returned `Ok` (so a fake clock that jumps forward inside a handler is judged correctly).
///
/// ```
/// use aiops_core::Timestamp;
/// use aiops_heal::{execute, ActionType, Handlers, Plan, Sleeper};
/// use futures::future::BoxFuture;
/// use std::sync::atomic::{AtomicI64, Ordering};
///
/// struct FakeClock(AtomicI64);
/// impl Sleeper for FakeClock {
///     fn now(&self) -> Timestamp { Timestamp::from_millis(self.0.load(Ordering::SeqCst)) }
///     fn sleep(&self, millis: u64) -> BoxFuture<'_, ()> {
///         // Time passes only when the sleep is polled (a lost timeout race costs nothing).
///         Box::pin(async move { self.0.fetch_add(millis as i64, Ordering::SeqCst); })
///     }
/// }
/// let mut handlers = Handlers::new();
/// handlers.insert(ActionType::ClearCache, |_: &ActionType, _: &Plan| -> aiops_heal::HandlerFuture<'static> { Box::pin(async { Ok(()) }) });
/// handlers.insert(ActionType::ScaleOut, |_: &ActionType, _: &Plan| -> aiops_heal::HandlerFuture<'static> { Box::pin(async { Ok(()) }) });
/// let plan = Plan::new("r", "inc-1", Some("api".into()), vec![ActionType::ClearCache, ActionType::ScaleOut]);
/// let clock = FakeClock(AtomicI64::new(0));
/// let out = futures::executor::block_on(execute(&plan, &handlers, &clock));
/// assert!(out.success);
/// assert_eq!(out.actions[1].started, Timestamp::from_secs(5)); // the 5 s pause
/// ```
pub async fn execute<S: Sleeper + ?Sized>(
    plan: &Plan,
    handlers: &Handlers,
    sleeper: &S,
) -> Outcome {
    let started = sleeper.now();
    let not_run = |status: ActionStatus, at: Timestamp| -> Vec<ActionResult> {
        plan.actions
            .iter()
            .map(|a| ActionResult {
                action: a.clone(),
                status: status.clone(),
                started: at,
                finished: at,
            })
            .collect()
    };
    let refuse = |why: Refusal| Outcome {
        actions: not_run(ActionStatus::NotRun, started),
        compensation: None,
        refused: Some(why),
        success: false,
        dry_run: plan.dry_run,
        started,
        finished: started,
    };
    if plan.actions.is_empty() {
        return refuse(Refusal::NoActions);
    }
    if plan.dry_run {
        return Outcome {
            actions: not_run(ActionStatus::DryRun, started),
            compensation: None,
            refused: None,
            success: true,
            dry_run: true,
            started,
            finished: started,
        };
    }
    if plan.unknown_action == UnknownActionPolicy::Refuse {
        let missing = plan
            .actions
            .iter()
            .chain(plan.compensation.iter())
            .find(|a| !handlers.contains(a));
        if let Some(a) = missing {
            return refuse(Refusal::UnknownAction { action: a.clone() });
        }
    }
    let mut results = Vec::with_capacity(plan.actions.len());
    let mut any_succeeded = false;
    let mut failed = false;
    for (i, action) in plan.actions.iter().enumerate() {
        if failed {
            let at = sleeper.now();
            results.push(ActionResult {
                action: action.clone(),
                status: ActionStatus::NotRun,
                started: at,
                finished: at,
            });
            continue;
        }
        if i > 0 && plan.pause_millis > 0 {
            sleeper.sleep(plan.pause_millis).await;
        }
        let r = run_one(action, plan, handlers, sleeper).await;
        if r.status.is_failure() {
            failed = true;
        } else if r.status == ActionStatus::Succeeded {
            any_succeeded = true;
        }
        results.push(r);
    }
    let compensation = match (&plan.compensation, failed && any_succeeded) {
        (Some(c), true) => Some(run_one(c, plan, handlers, sleeper).await),
        _ => None,
    };
    Outcome {
        actions: results,
        compensation,
        refused: None,
        success: !failed,
        dry_run: false,
        started,
        finished: sleeper.now(),
    }
}

async fn run_one<S: Sleeper + ?Sized>(
    action: &ActionType,
    plan: &Plan,
    handlers: &Handlers,
    sleeper: &S,
) -> ActionResult {
    let t0 = sleeper.now();
    let status = match handlers.get(action) {
        None => ActionStatus::SkippedNoHandler,
        // A panic unwinding out of `execute` left no outcome, and the execution in flight
        // for ever: it is caught and counted as the action's failure. Nothing of the handler's
        // future is used after a panic.
        Some(h) => match std::panic::catch_unwind(AssertUnwindSafe(|| h.run(action, plan))) {
            Err(payload) => ActionStatus::Failed(panic_message(payload.as_ref())),
            Ok(work) => {
                let work = AssertUnwindSafe(work).catch_unwind();
                let timer = sleeper.sleep(plan.action_timeout_millis);
                match select(work, timer).await {
                    Either::Left((Ok(Ok(())), _)) => ActionStatus::Succeeded,
                    Either::Left((Ok(Err(msg)), _)) => ActionStatus::Failed(msg),
                    Either::Left((Err(payload), _)) => {
                        ActionStatus::Failed(panic_message(payload.as_ref()))
                    }
                    Either::Right(((), _)) => ActionStatus::TimedOut,
                }
            }
        },
    };
    let t1 = sleeper.now();
    // In exact arithmetic: `millis_since` saturates, so a completion more than `i64::MAX` ms
    // after the start did not count as late against a timeout above `i64::MAX` ms.
    let late = i128::from(t1.as_millis()) - i128::from(t0.as_millis())
        > i128::from(plan.action_timeout_millis);
    let status = if late && status == ActionStatus::Succeeded {
        ActionStatus::TimedOut
    } else {
        status
    };
    ActionResult {
        action: action.clone(),
        status,
        started: t0,
        finished: t1,
    }
}

/// `handler panicked: <message>`, the message when the payload is a string.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let msg = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
    match msg {
        Some(m) => format!("handler panicked: {m}"),
        None => "handler panicked".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

    /// Time moves only when a sleep is polled.
    #[derive(Default)]
    struct FakeClock {
        millis: AtomicI64,
        sleeps: std::sync::Mutex<Vec<u64>>,
    }
    impl Sleeper for FakeClock {
        fn now(&self) -> Timestamp {
            Timestamp::from_millis(self.millis.load(Ordering::SeqCst))
        }
        fn sleep(&self, millis: u64) -> BoxFuture<'_, ()> {
            Box::pin(async move {
                self.sleeps.lock().unwrap().push(millis);
                self.millis.fetch_add(millis as i64, Ordering::SeqCst);
            })
        }
    }

    /// A handler taking `work_millis` of fake time, then answering `ok`, counting calls.
    fn handler(
        clock: &Arc<FakeClock>,
        calls: &Arc<AtomicUsize>,
        work_millis: u64,
        ok: bool,
    ) -> impl ActionHandler + 'static {
        let clock = Arc::clone(clock);
        let calls = Arc::clone(calls);
        move |a: &ActionType, _: &Plan| -> HandlerFuture<'static> {
            calls.fetch_add(1, Ordering::SeqCst);
            let clock = Arc::clone(&clock);
            let name = a.to_string();
            Box::pin(async move {
                clock.millis.fetch_add(work_millis as i64, Ordering::SeqCst);
                if ok {
                    Ok(())
                } else {
                    Err(format!("{name} failed"))
                }
            })
        }
    }

    fn plan(actions: Vec<ActionType>) -> Plan {
        Plan::new("r", "i", Some("api".into()), actions)
    }

    #[test]
    fn runs_in_order_with_pauses_and_clock_times() {
        let clock = Arc::new(FakeClock::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let mut h = Handlers::new();
        h.insert(ActionType::ClearCache, handler(&clock, &calls, 1_000, true));
        h.insert(ActionType::ScaleOut, handler(&clock, &calls, 2_000, true));
        let out = block_on(execute(
            &plan(vec![ActionType::ClearCache, ActionType::ScaleOut]),
            &h,
            clock.as_ref(),
        ));
        assert!(out.success && !out.dry_run);
        // 1 s work, 5 s pause, 2 s work
        assert_eq!(out.actions[0].duration_millis(), 1_000);
        assert_eq!(out.actions[1].started, Timestamp::from_millis(6_000));
        assert_eq!(out.finished, Timestamp::from_millis(8_000));
        assert_eq!(*clock.sleeps.lock().unwrap(), vec![5_000]);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn stops_at_first_failure_and_compensates_only_after_a_success() {
        let clock = Arc::new(FakeClock::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let comp = Arc::new(AtomicUsize::new(0));
        let mut h = Handlers::new();
        h.insert(ActionType::ClearCache, handler(&clock, &calls, 10, true));
        h.insert(ActionType::ScaleOut, handler(&clock, &calls, 10, false));
        h.insert(
            ActionType::RestartService,
            handler(&clock, &calls, 10, true),
        );
        h.insert(ActionType::Rollback, handler(&clock, &comp, 10, true));
        let mut p = plan(vec![
            ActionType::ClearCache,
            ActionType::ScaleOut,
            ActionType::RestartService,
        ]);
        p.compensation = Some(ActionType::Rollback);
        let out = block_on(execute(&p, &h, clock.as_ref()));
        assert!(!out.success);
        assert_eq!(out.actions[0].status, ActionStatus::Succeeded);
        assert_eq!(
            out.actions[1].status,
            ActionStatus::Failed("scale_out failed".into())
        );
        assert_eq!(out.actions[2].status, ActionStatus::NotRun);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(out.compensation.unwrap().status, ActionStatus::Succeeded);
        assert_eq!(comp.load(Ordering::SeqCst), 1);
        // first step fails: nothing to undo
        let mut p = plan(vec![ActionType::ScaleOut, ActionType::ClearCache]);
        p.compensation = Some(ActionType::Rollback);
        let out = block_on(execute(&p, &h, clock.as_ref()));
        assert!(!out.success && out.compensation.is_none());
        assert_eq!(comp.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn per_action_timeout() {
        let clock = Arc::new(FakeClock::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let mut h = Handlers::new();
        // never completes
        h.insert(
            ActionType::ScaleOut,
            |_: &ActionType, _: &Plan| -> HandlerFuture<'static> {
                Box::pin(futures::future::pending())
            },
        );
        // completes, but after the timeout on the injected clock
        h.insert(ActionType::ClearCache, handler(&clock, &calls, 3_000, true));
        let mut p = plan(vec![ActionType::ScaleOut]);
        p.action_timeout_millis = 2_000;
        let out = block_on(execute(&p, &h, clock.as_ref()));
        assert_eq!(out.actions[0].status, ActionStatus::TimedOut);
        assert_eq!(out.actions[0].duration_millis(), 2_000);
        p.actions = vec![ActionType::ClearCache];
        let out = block_on(execute(&p, &h, clock.as_ref()));
        assert_eq!(out.actions[0].status, ActionStatus::TimedOut);
        assert!(!out.success);
    }

    #[test]
    fn unknown_action_refused_before_anything_runs_or_skipped_like_the_article() {
        let clock = Arc::new(FakeClock::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let mut h = Handlers::new();
        h.insert(
            ActionType::RestartService,
            handler(&clock, &calls, 10, true),
        );
        let flush = ActionType::custom("flush_dns").unwrap();
        let mut p = plan(vec![ActionType::RestartService, flush.clone()]);
        let out = block_on(execute(&p, &h, clock.as_ref()));
        assert_eq!(
            out.refused,
            Some(Refusal::UnknownAction {
                action: flush.clone()
            })
        );
        assert!(!out.success);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        // Hazard: the article skips it and calls the plan a success.
        p.unknown_action = UnknownActionPolicy::SkipLikeArticle;
        let out = block_on(execute(&p, &h, clock.as_ref()));
        assert!(out.success);
        assert_eq!(out.actions[1].status, ActionStatus::SkippedNoHandler);
        let only_unknown = Plan {
            actions: vec![flush],
            ..p
        };
        let out = block_on(execute(&only_unknown, &h, clock.as_ref()));
        assert!(
            out.success,
            "the article counts a plan that did nothing as a success"
        );
    }

    #[test]
    fn engine_handlers_and_the_execute_future_are_send() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>(_: &T) {}
        send_sync::<crate::HealingEngine>();
        send_sync::<Handlers>();
        let clock = FakeClock::default();
        let h = Handlers::new();
        let p = plan(vec![ActionType::ScaleOut]);
        let fut = execute(&p, &h, &clock);
        send(&fut); // so it can be spawned on a multi-threaded runtime
        let out = block_on(fut);
        assert_eq!(
            out.refused,
            Some(Refusal::UnknownAction {
                action: ActionType::ScaleOut
            })
        );
    }

    #[test]
    fn dry_run_calls_no_handler() {
        let clock = Arc::new(FakeClock::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let mut h = Handlers::new();
        h.insert(
            ActionType::RestartService,
            handler(&clock, &calls, 10, true),
        );
        let mut p = plan(vec![ActionType::RestartService, ActionType::RestartService]);
        p.dry_run = true;
        let out = block_on(execute(&p, &h, clock.as_ref()));
        assert!(out.dry_run && out.success);
        assert!(out.actions.iter().all(|a| a.status == ActionStatus::DryRun));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert!(clock.sleeps.lock().unwrap().is_empty());
        assert!(format!("{h:?}").contains("restart_service"));
    }

    #[test]
    fn a_plan_with_no_actions_is_refused_not_a_success() {
        // A hand-built plan with no actions ran nothing and reported success.
        let clock = FakeClock::default();
        let h = Handlers::new();
        let mut p = plan(Vec::new());
        for (dry_run, unknown) in [
            (false, UnknownActionPolicy::Refuse),
            (false, UnknownActionPolicy::SkipLikeArticle),
            (true, UnknownActionPolicy::Refuse),
        ] {
            p.dry_run = dry_run;
            p.unknown_action = unknown;
            let out = block_on(execute(&p, &h, &clock));
            assert_eq!(out.refused, Some(Refusal::NoActions), "{p:?}");
            assert!(!out.success && out.actions.is_empty() && out.compensation.is_none());
            assert_eq!(out.dry_run, dry_run);
        }
    }

    #[test]
    fn a_panicking_handler_is_a_failed_action_and_is_compensated() {
        // A panic unwound out of `execute`, leaving no outcome to report.
        let clock = Arc::new(FakeClock::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let comp = Arc::new(AtomicUsize::new(0));
        let mut h = Handlers::new();
        h.insert(ActionType::ClearCache, handler(&clock, &calls, 10, true));
        // panics while it runs...
        h.insert(
            ActionType::ScaleOut,
            |_: &ActionType, _: &Plan| -> HandlerFuture<'static> {
                Box::pin(async { panic!("scale-out {}", 42) })
            },
        );
        // ...or before it returns a future
        h.insert(
            ActionType::RestartService,
            |_: &ActionType, _: &Plan| -> HandlerFuture<'static> { panic!("no future") },
        );
        h.insert(ActionType::Rollback, handler(&clock, &comp, 10, true));
        for (action, message) in [
            (ActionType::ScaleOut, "handler panicked: scale-out 42"),
            (ActionType::RestartService, "handler panicked: no future"),
        ] {
            let mut p = plan(vec![ActionType::ClearCache, action, ActionType::ClearCache]);
            p.compensation = Some(ActionType::Rollback);
            let out = block_on(execute(&p, &h, clock.as_ref()));
            assert!(!out.success);
            assert_eq!(out.actions[1].status, ActionStatus::Failed(message.into()));
            assert_eq!(out.actions[2].status, ActionStatus::NotRun);
            assert_eq!(out.compensation.unwrap().status, ActionStatus::Succeeded);
        }
        assert_eq!(comp.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_completion_more_than_i64_max_millis_late_is_timed_out() {
        // `millis_since` saturated at i64::MAX ms, and a timeout above it was cut to i64::MAX:
        // an action finishing 2^64 - 1 ms after its start passed a timeout of 2^63 + 4 ms.
        struct Jump(AtomicI64);
        impl Sleeper for Jump {
            fn now(&self) -> Timestamp {
                Timestamp::from_millis(self.0.load(Ordering::SeqCst))
            }
            fn sleep(&self, _: u64) -> BoxFuture<'_, ()> {
                Box::pin(futures::future::pending())
            }
        }
        let clock = Arc::new(Jump(AtomicI64::new(i64::MIN)));
        let mut h = Handlers::new();
        let c = Arc::clone(&clock);
        h.insert(
            ActionType::ScaleOut,
            move |_: &ActionType, _: &Plan| -> HandlerFuture<'static> {
                c.0.store(i64::MAX, Ordering::SeqCst);
                Box::pin(async { Ok(()) })
            },
        );
        let mut p = plan(vec![ActionType::ScaleOut]);
        p.action_timeout_millis = (1 << 63) + 4;
        let out = block_on(execute(&p, &h, clock.as_ref()));
        assert_eq!(out.actions[0].status, ActionStatus::TimedOut);
        // Within a timeout of u64::MAX ms it is in time.
        p.action_timeout_millis = u64::MAX;
        clock.0.store(i64::MIN, Ordering::SeqCst);
        let out = block_on(execute(&p, &h, clock.as_ref()));
        assert_eq!(out.actions[0].status, ActionStatus::Succeeded);
    }
}
