//! Replays incidents through the healing engine in dry run: what would auto-heal have done?
//!
//! ```sh
//! cargo run --release --example heal_replay -- rules.json incidents.json
//! ```
//!
//! Rules file: `{"rules": [{"id", "pattern": {field: value or [values]}, "actions": [..],
//! "confidence_threshold"}], "policy": {...}}`. Incidents file: `[{"id", "timestamp", "service",
//! "severity", "labels": {..}, "outcome": "success"|"failure", "duration_secs"}]`. Output: one
//! JSON line per incident in time order, then `{"summary": {...}}`. The contract is in
//! `DATA_TOOLS.md`; the guide is `docs/aiops-heal.md`.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aiops_core::{Incident, Labels, Severity, Timestamp};
use aiops_heal::{
    ActionType, AuditEvent, ExecutionId, Feedback, HealingEngine, Matcher, Pattern, Policy,
    RateLimit, Rule, SkipReason, Verdict,
};
use clap::Parser;
use serde_json::{Map, Value, json};

/// Replays incidents in time order through the healing engine in dry run (no handler runs).
///
/// Each incident whose decision is `execute` is taken to have had its recorded `outcome`,
/// finishing `duration_secs` after its timestamp; outcomes feed the rules' statistics,
/// cooldowns, rate limits, concurrency, the circuit breaker and shadow mode exactly as live
/// executions would. A shadow decision's recorded outcome is fed as the confirmation a human
/// would give (it counts towards leaving shadow mode).
///
/// Rules: `id` (string), `pattern` (object: field -> string or array of strings; fields are
/// `service`, `severity` and any label), `actions` (array of action names: `restart_service`,
/// `scale_out`, `clear_cache`, `rollback`, `drain_traffic` or any custom name), `confidence_threshold`
/// (optional, default 0.8, the article's). Policy keys, all optional, unknown keys an error:
/// `cooldown_secs` (default 300), `max_executions_per_hour` (default 20, null: no limit),
/// `max_executions_per_hour_per_service` (default 3, null: no limit), `max_concurrent`
/// (default 3, null: no limit), `require_approval` (default `["rollback", "drain_traffic"]`),
/// `circuit_breaker_failures` (default 3, null: off), `shadow_until_successes` (default 0).
/// Confidence uses the library's default model (Beta posterior lower bound; 0.0251 with no
/// history).
#[derive(Parser, Debug)]
#[command(version, about, long_about)]
struct Args {
    /// Rules and policy JSON file.
    rules_json: PathBuf,
    /// Incidents JSON file (an array).
    incidents_json: PathBuf,
}

/// The policy keys `heal_replay` accepts.
const KEYS: [&str; 7] = [
    "cooldown_secs",
    "max_executions_per_hour",
    "max_executions_per_hour_per_service",
    "max_concurrent",
    "require_approval",
    "circuit_breaker_failures",
    "shadow_until_successes",
];

/// An input error, already naming file and field.
struct InputError(String);

type Res<T> = Result<T, InputError>;

fn err<T>(file: &Path, what: impl std::fmt::Display) -> Res<T> {
    Err(InputError(format!("{}: {what}", file.display())))
}

fn read_json(path: &Path) -> Res<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError(format!("{}: cannot read: {e}", path.display())))?;
    // A leading UTF-8 byte-order mark (some Windows tools write one) is not JSON: skip it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    serde_json::from_str(text).map_err(|e| {
        InputError(format!(
            "{}: invalid JSON at line {} column {}: {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })
}

fn string_list(file: &Path, field: &str, v: &Value) -> Res<Vec<String>> {
    let Some(items) = v.as_array() else {
        return err(
            file,
            format!("{field}: expected an array of strings, got {v}"),
        );
    };
    items
        .iter()
        .enumerate()
        .map(|(i, x)| match x.as_str() {
            Some(s) => Ok(s.to_owned()),
            None => err(file, format!("{field}[{i}]: expected a string, got {x}")),
        })
        .collect()
}

fn actions(file: &Path, field: &str, v: &Value) -> Res<Vec<ActionType>> {
    string_list(file, field, v)?
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.parse::<ActionType>()
                .or_else(|e| err(file, format!("{field}[{i}]: {e}")))
        })
        .collect()
}

/// A numeric policy setting: absent (keep the default), null (off), or a value.
#[derive(Clone, Copy, PartialEq)]
enum Setting {
    Absent,
    Off,
    Value(u64),
}

impl Setting {
    /// `None` when absent, else `Some(None)` for off or `Some(Some(n))`: the shape the
    /// builder's optional limits take.
    #[allow(clippy::option_option)]
    fn given(self) -> Option<Option<u64>> {
        match self {
            Setting::Absent => None,
            Setting::Off => Some(None),
            Setting::Value(n) => Some(Some(n)),
        }
    }
}

fn opt_u64(file: &Path, field: &str, v: Option<&Value>) -> Res<Setting> {
    match v {
        None => Ok(Setting::Absent),
        Some(Value::Null) => Ok(Setting::Off),
        Some(x) => match x.as_u64() {
            Some(n) => Ok(Setting::Value(n)),
            None => err(
                file,
                format!("{field}: expected a non-negative integer or null, got {x}"),
            ),
        },
    }
}

fn u32_of(file: &Path, field: &str, n: u64) -> Res<u32> {
    u32::try_from(n).or_else(|_| err(file, format!("{field}: {n} is too large")))
}

fn parse_policy(file: &Path, v: Option<&Value>) -> Res<Policy> {
    let mut b = Policy::builder().dry_run(true);
    let Some(v) = v else {
        return b.build().or_else(|e| err(file, e));
    };
    let Some(obj) = v.as_object() else {
        return err(file, format!("policy: expected an object, got {v}"));
    };
    for k in obj.keys() {
        if !KEYS.contains(&k.as_str()) {
            return err(
                file,
                format!("policy.{k}: unknown key (known: {})", KEYS.join(", ")),
            );
        }
    }
    let f = |k: &str| format!("policy.{k}");
    match opt_u64(file, &f("cooldown_secs"), obj.get("cooldown_secs"))?.given() {
        Some(Some(n)) => b = b.cooldown_secs(n),
        Some(None) => b = b.cooldown_secs(0),
        None => {}
    }
    let hourly = |n: u64, k: &str| -> Res<RateLimit> {
        RateLimit::new(u32_of(file, &f(k), n)?, 3600).or_else(|e| err(file, e))
    };
    if let Some(x) = opt_u64(
        file,
        &f("max_executions_per_hour"),
        obj.get("max_executions_per_hour"),
    )?
    .given()
    {
        b = b.global_rate(
            x.map(|n| hourly(n, "max_executions_per_hour"))
                .transpose()?,
        );
    }
    let k = "max_executions_per_hour_per_service";
    if let Some(x) = opt_u64(file, &f(k), obj.get(k))?.given() {
        b = b.service_rate(x.map(|n| hourly(n, k)).transpose()?);
    }
    if let Some(x) = opt_u64(file, &f("max_concurrent"), obj.get("max_concurrent"))?.given() {
        b = b.max_concurrent(
            x.map(|n| u32_of(file, &f("max_concurrent"), n))
                .transpose()?,
        );
    }
    if let Some(x) = obj.get("require_approval") {
        b = b.approval_actions(actions(file, &f("require_approval"), x)?);
    }
    let k = "circuit_breaker_failures";
    if let Some(x) = opt_u64(file, &f(k), obj.get(k))?.given() {
        if x == Some(0) {
            return err(
                file,
                format!("{}: must be > 0 (null switches it off)", f(k)),
            );
        }
        b = b.circuit_breaker_failures(x.map(|n| u32_of(file, &f(k), n)).transpose()?);
    }
    let k = "shadow_until_successes";
    if let Some(x) = opt_u64(file, &f(k), obj.get(k))?.given() {
        b = b.shadow_until_successes(u32_of(file, &f(k), x.unwrap_or(0))?);
    }
    b.build().or_else(|e| err(file, format!("policy: {e}")))
}

fn parse_rules(file: &Path) -> Res<(Vec<Rule>, Policy)> {
    let v = read_json(file)?;
    let Some(top) = v.as_object() else {
        return err(file, "expected an object with \"rules\" and \"policy\"");
    };
    for k in top.keys() {
        if k != "rules" && k != "policy" {
            return err(file, format!("{k}: unknown key (known: rules, policy)"));
        }
    }
    let Some(list) = top.get("rules").and_then(Value::as_array) else {
        return err(file, "rules: missing or not an array");
    };
    let mut rules = Vec::with_capacity(list.len());
    for (i, r) in list.iter().enumerate() {
        let at = |k: &str| format!("rules[{i}].{k}");
        let Some(obj) = r.as_object() else {
            return err(file, format!("rules[{i}]: expected an object, got {r}"));
        };
        for k in obj.keys() {
            if !["id", "pattern", "actions", "confidence_threshold"].contains(&k.as_str()) {
                return err(
                    file,
                    format!(
                        "{}: unknown key (known: id, pattern, actions, confidence_threshold)",
                        at(k)
                    ),
                );
            }
        }
        let Some(id) = obj.get("id").and_then(Value::as_str) else {
            return err(file, format!("{}: missing or not a string", at("id")));
        };
        let Some(pat) = obj.get("pattern").and_then(Value::as_object) else {
            return err(file, format!("{}: missing or not an object", at("pattern")));
        };
        let mut pattern = Pattern::new();
        for (key, val) in pat {
            let field = format!("{}.{key}", at("pattern"));
            let m = match val {
                Value::String(s) => Matcher::Exact(s.clone()),
                Value::Array(_) => Matcher::AnyOf(string_list(file, &field, val)?),
                other => {
                    return err(
                        file,
                        format!("{field}: expected a string or an array of strings, got {other}"),
                    );
                }
            };
            pattern = pattern.with(key.clone(), m);
        }
        let Some(acts) = obj.get("actions") else {
            return err(file, format!("{}: missing", at("actions")));
        };
        let acts = actions(file, &at("actions"), acts)?;
        let mut rule =
            Rule::new(id, pattern, acts).or_else(|e| err(file, format!("rules[{i}]: {e}")))?;
        if let Some(t) = obj.get("confidence_threshold") {
            let Some(t) = t.as_f64() else {
                return err(
                    file,
                    format!("{}: expected a number, got {t}", at("confidence_threshold")),
                );
            };
            rule = rule
                .with_threshold(t)
                .or_else(|e| err(file, format!("{}: {e}", at("confidence_threshold"))))?;
        }
        rules.push(rule);
    }
    let policy = parse_policy(file, top.get("policy"))?;
    Ok((rules, policy))
}

struct Row {
    incident: Incident,
    at: Timestamp,
    success: bool,
    duration_secs: f64,
}

/// The keys of an incident that `parse_incidents` reads.
const INCIDENT_KEYS: [&str; 7] = [
    "id",
    "timestamp",
    "service",
    "severity",
    "labels",
    "outcome",
    "duration_secs",
];

fn parse_incidents(file: &Path) -> Res<Vec<Row>> {
    let v = read_json(file)?;
    let Some(list) = v.as_array() else {
        return err(file, "expected an array of incidents");
    };
    let mut rows = Vec::with_capacity(list.len());
    // Unknown keys (a misspelt `duration_secs` would silently be 0): key -> (first, count).
    let mut unknown: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (i, x) in list.iter().enumerate() {
        let at = |k: &str| format!("[{i}].{k}");
        let Some(obj) = x.as_object() else {
            return err(file, format!("[{i}]: expected an object, got {x}"));
        };
        for k in obj.keys().filter(|k| !INCIDENT_KEYS.contains(&k.as_str())) {
            unknown.entry(k).or_insert((i, 0)).1 += 1;
        }
        let s = |k: &str| -> Res<&str> {
            match obj.get(k).and_then(Value::as_str) {
                Some(s) => Ok(s),
                None => err(file, format!("{}: missing or not a string", at(k))),
            }
        };
        let id = s("id")?;
        let service = s("service")?;
        let severity: Severity = s("severity")?
            .parse()
            .or_else(|e| err(file, format!("{}: {e}", at("severity"))))?;
        let ts = match obj.get("timestamp") {
            Some(Value::Number(n)) => n
                .as_f64()
                .ok_or(())
                .and_then(|f| Timestamp::try_from_secs_f64(f).map_err(|_| ())),
            Some(Value::String(t)) => Timestamp::parse(t).map_err(|_| ()),
            _ => Err(()),
        };
        let Ok(ts) = ts else {
            return err(
                file,
                format!(
                    "{}: missing or not a timestamp (Unix seconds), got {}",
                    at("timestamp"),
                    obj.get("timestamp").unwrap_or(&Value::Null)
                ),
            );
        };
        let mut labels = Labels::new();
        match obj.get("labels") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    let Some(v) = v.as_str() else {
                        return err(
                            file,
                            format!("{}.{k}: expected a string, got {v}", at("labels")),
                        );
                    };
                    labels.insert(k.clone(), v);
                }
            }
            Some(other) => {
                return err(
                    file,
                    format!("{}: expected an object, got {other}", at("labels")),
                );
            }
        }
        let success = match obj.get("outcome").and_then(Value::as_str) {
            Some("success") => true,
            Some("failure") => false,
            _ => {
                return err(
                    file,
                    format!(
                        "{}: expected \"success\" or \"failure\", got {}",
                        at("outcome"),
                        obj.get("outcome").unwrap_or(&Value::Null)
                    ),
                );
            }
        };
        let duration_secs = match obj.get("duration_secs") {
            None | Some(Value::Null) => 0.0,
            Some(d) => match d.as_f64() {
                Some(d) if (0.0..1e12).contains(&d) => d,
                _ => {
                    return err(
                        file,
                        format!("{}: expected a number >= 0, got {d}", at("duration_secs")),
                    );
                }
            },
        };
        rows.push(Row {
            incident: Incident::from_summary(id, service, severity, labels, ts),
            at: ts,
            success,
            duration_secs,
        });
    }
    for (k, (first, n)) in unknown {
        eprintln!(
            "heal_replay: warning: {}: unknown key {k:?} in {n} incident(s) (first [{first}]), \
             ignored; the keys read are {}",
            file.display(),
            INCIDENT_KEYS.join(", ")
        );
    }
    // Time order; ties keep input order (stable sort).
    rows.sort_by_key(|r| r.at);
    Ok(rows)
}

fn reason_code(v: &Verdict) -> Option<&'static str> {
    match v {
        Verdict::Execute => None,
        Verdict::ApprovalRequired(_) => Some("approval_required"),
        Verdict::Skip(r) => Some(r.code()),
        _ => Some("unknown"),
    }
}

fn run(args: &Args) -> Res<()> {
    let (rules, policy) = parse_rules(&args.rules_json)?;
    let rows = parse_incidents(&args.incidents_json)?;
    let mut engine = HealingEngine::new(policy);
    for (i, r) in rules.into_iter().enumerate() {
        engine
            .add_rule(r)
            .or_else(|e| err(&args.rules_json, format!("rules[{i}]: {e}")))?;
    }
    // Executions in flight: (end, id, success), earliest end first (a list sorted again for
    // every incident took 22 s for 200,000 incidents with long executions).
    let mut pending: BinaryHeap<Reverse<(Timestamp, ExecutionId, bool)>> = BinaryHeap::new();
    let mut by_reason: BTreeMap<&'static str, u64> = BTreeMap::new();
    let (mut n_exec, mut n_appr, mut n_skip) = (0u64, 0u64, 0u64);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for row in &rows {
        while let Some(Reverse((end, id, ok))) = pending.peek().copied()
            && end <= row.at
        {
            pending.pop();
            engine
                .complete_simulated(id, ok, end)
                .or_else(|e| err(&args.incidents_json, e))?;
        }
        let rec = engine.handle(&row.incident, row.at);
        let AuditEvent::Decision(d) = &rec.event else {
            return err(&args.incidents_json, "engine returned no decision");
        };
        match (&d.verdict, rec.execution_id) {
            (Verdict::Execute, Some(id)) => {
                let end = row
                    .at
                    .add_millis((row.duration_secs * 1000.0).round() as i64);
                pending.push(Reverse((end, id, row.success)));
            }
            (Verdict::Skip(SkipReason::Shadow { .. }), Some(id)) => {
                let fb = if row.success {
                    Feedback::Success
                } else {
                    Feedback::Failure
                };
                engine
                    .record_feedback(id, fb, row.at)
                    .or_else(|e| err(&args.incidents_json, e))?;
            }
            _ => {}
        }
        match d.verdict {
            Verdict::Execute => n_exec += 1,
            Verdict::ApprovalRequired(_) => n_appr += 1,
            _ => n_skip += 1,
        }
        let reason = reason_code(&d.verdict);
        if let Some(r) = reason {
            *by_reason.entry(r).or_default() += 1;
        }
        let acts: Vec<&str> = d
            .plan
            .as_ref()
            .map(|p| p.actions.iter().map(ActionType::as_str).collect())
            .unwrap_or_default();
        let line = json!({
            "incident": d.incident_id,
            "decision": d.verdict.code(),
            "reason": reason,
            "rule": d.rule_id,
            "confidence": d.confidence.as_ref().map(|c| c.value),
            "actions": acts,
        });
        write_line(&mut out, &line)?;
    }
    let total = rows.len() as u64;
    assert_eq!(
        n_exec + n_appr + n_skip,
        total,
        "every incident has one decision"
    );
    assert_eq!(by_reason.values().sum::<u64>(), n_appr + n_skip);
    let summary = json!({"summary": {
        "incidents": total,
        "execute": n_exec,
        "approval_required": n_appr,
        "skip": n_skip,
        "by_reason": by_reason.into_iter().map(|(k, v)| (k.to_owned(), Value::from(v))).collect::<Map<_, _>>(),
    }});
    write_line(&mut out, &summary)
}

fn write_line(out: &mut impl std::io::Write, v: &Value) -> Res<()> {
    writeln!(out, "{v}").map_err(|e| InputError(format!("stdout: {e}")))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(InputError(msg)) => {
            eprintln!("heal_replay: {msg}");
            ExitCode::FAILURE
        }
    }
}
