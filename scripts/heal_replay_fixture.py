#!/usr/bin/env python3
"""Writes the sample input of the heal_replay data tool (deterministic, seed 7).

Usage: python3 scripts/heal_replay_fixture.py crates/aiops-heal/tests/fixtures

replay_rules.json: five rules over service, severity and labels, with the policy keys of
DATA_TOOLS.md. replay_incidents.json: 60 incidents over one day on six services; each rule's
remedy works with a fixed probability (api 0.95, db 0.6, cache 0.9, queue 0.3), so the replay
shows learning, cooldowns, the circuit breaker, shadow mode and approvals.
"""
import json
import random
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "."
rng = random.Random(7)

rules = {
    "rules": [
        {"id": "api-restart", "pattern": {"service": "api", "severity": ["critical", "high"]},
         "actions": ["restart_service"], "confidence_threshold": 0.0},
        {"id": "db-rollback", "pattern": {"service": "db"},
         "actions": ["clear_cache", "rollback"], "confidence_threshold": 0.0},
        {"id": "cache-flush", "pattern": {"service": "cache", "alertname": "CacheHitRateLow"},
         "actions": ["clear_cache"], "confidence_threshold": 0.0},
        {"id": "queue-scale", "pattern": {"service": "queue", "team": "platform"},
         "actions": ["scale_out"], "confidence_threshold": 0.0},
        {"id": "web-article", "pattern": {"service": "web"},
         "actions": ["scale_out"]},
    ],
    "policy": {
        "cooldown_secs": 900,
        "max_executions_per_hour": 10,
        "max_executions_per_hour_per_service": 2,
        "max_concurrent": 2,
        "require_approval": ["rollback"],
        "circuit_breaker_failures": 3,
        "shadow_until_successes": 2,
    },
}

p_ok = {"api": 0.95, "db": 0.6, "cache": 0.9, "queue": 0.3, "web": 0.8, "search": 0.5}
alert = {"api": "HighLatency", "db": "ReplicationLag", "cache": "CacheHitRateLow",
         "queue": "ConsumerLag", "web": "Error5xx", "search": "SlowQueries"}
team = {"api": "payments", "db": "data", "cache": "platform", "queue": "platform",
        "web": "web", "search": "search"}
t0 = 1_764_201_600  # 2025-11-27T00:00:00Z
incidents = []
t = t0
for i in range(60):
    t += rng.randint(300, 2400)
    svc = rng.choice(list(p_ok))
    incidents.append({
        "id": f"inc-{i:03d}",
        "timestamp": t,
        "service": svc,
        "severity": rng.choice(["critical", "high", "warning", "low"]),
        "labels": {"alertname": alert[svc], "team": team[svc], "env": "prod"},
        "outcome": "success" if rng.random() < p_ok[svc] else "failure",
        "duration_secs": rng.randint(20, 400),
    })

with open(f"{out}/replay_rules.json", "w") as f:
    json.dump(rules, f, indent=1)
    f.write("\n")
with open(f"{out}/replay_incidents.json", "w") as f:
    json.dump(incidents, f, indent=1)
    f.write("\n")
