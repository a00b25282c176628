#!/usr/bin/env python3
"""Inputs of growing size for the data tools, to check that their time grows linearly.

Standard library only; deterministic (fixed seeds). Used for "Scaling of the data tools" in
docs/benchmarks.md:

    python3 scripts/data_tools_scale.py forecast SERIES POINTS OUT.csv
        SERIES hourly series of POINTS points each (trend + daily cycle + noise), the input of
        forecast_csv (series_id,timestamp,value).
    python3 scripts/data_tools_scale.py alerts ALERTS SERVICES OUT_DIR
        OUT_DIR/services.json: SERVICES services in a deep acyclic graph (each depends on 1-3
        of the next 50), written on one line; OUT_DIR/alerts.json: ALERTS alerts over one day
        on random services (a fifth of them re-fires of earlier ones, 30 % resolved), the
        inputs of correlate_alerts.
"""

import datetime
import json
import math
import os
import random
import sys


def forecast(series: int, points: int, out: str) -> None:
    rng = random.Random(2)
    t0 = 1_700_000_000
    with open(out, "w") as f:
        f.write("series_id,timestamp,value\n")
        for s in range(series):
            base, slope = rng.uniform(10, 90), rng.uniform(-0.01, 0.05)
            for i in range(points):
                v = base + slope * i + 5 * math.sin(2 * math.pi * i / 24) + rng.gauss(0, 1)
                f.write(f"host-{s:06d},{t0 + 3600 * i},{v:.3f}\n")


def iso(t: float) -> str:
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def alerts(n_alerts: int, n_services: int, out_dir: str) -> None:
    rng = random.Random(11)
    names = [f"svc-{i:05d}" for i in range(n_services)]
    kinds = ["gateway", "api", "service", "database", "cache", "queue"]
    services = []
    for i, name in enumerate(names):
        deps = []
        if i < n_services - 1:
            for _ in range(rng.randint(1, 3)):
                d = names[rng.randint(i + 1, min(n_services - 1, i + 50))]
                if d not in deps:
                    deps.append(d)
        services.append({"name": name, "type": kinds[i % 6], "dependencies": deps})
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "services.json"), "w") as f:
        json.dump(services, f)
    t0 = 1_764_201_600
    names_kinds = ["HighCPU", "HighMemory", "HighLatency", "ErrorRate", "Saturation"]
    first = []
    for _ in range(n_alerts * 4 // 5):
        s = rng.choice(names)
        labels = {
            "alertname": rng.choice(names_kinds),
            "service": s,
            "severity": rng.choice(["critical", "warning", "info"]),
            "instance": f"{s}-{rng.randrange(3)}",
        }
        first.append((t0 + rng.uniform(0, 86_400), labels))
    records = list(first)
    for _ in range(n_alerts - len(first)):
        t, labels = rng.choice(first)
        records.append((t + rng.uniform(60, 3600), labels))
    records.sort(key=lambda r: r[0])
    out = []
    for t, labels in records:
        a = {"labels": labels, "startsAt": iso(t)}
        if rng.random() < 0.3:
            a["status"], a["endsAt"] = "resolved", iso(t + rng.randint(60, 1800))
        out.append(a)
    with open(os.path.join(out_dir, "alerts.json"), "w") as f:
        json.dump(out, f)


def main() -> None:
    args = sys.argv[1:]
    if len(args) == 4 and args[0] == "forecast":
        forecast(int(args[1]), int(args[2]), args[3])
    elif len(args) == 4 and args[0] == "alerts":
        alerts(int(args[1]), int(args[2]), args[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
