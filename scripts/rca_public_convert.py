#!/usr/bin/env python3
"""Turns public microservice fault-injection datasets into `rca_case` CASE_DIRs.

Standard library only. Nothing produced here is committed: the cases go under /tmp.

Datasets (the repositories are public; bring them onto the machine first, e.g. with
`git clone`, or `git --git-dir=<bare repo> archive HEAD <dir> | tar -x -C <dest>`):

* `rcd-sockshop`: the Sock Shop data of "Root Cause Analysis of Failures in Microservices
  through Causal Discovery" (NeurIPS 2022), repository azamikram/rcd, folder sock-shop-data/.
  Layout `<service>-<fault>/<n>/{normal,anomalous}.csv`: 13 services, CPU hog (`cpu`) and
  memory leak (`mem`) injected into 5 services, 5 runs each (50 cases), 1 s steps, columns
  `time,<service>_<metric>` (cpu, mem, lod, lat_50/90/99). The normal and anomalous windows
  were recorded at different times (hours apart), each about 290 s long; the anomalous window
  begins while the fault is active. Each case's `data.csv` is the normal window shifted in
  time so that its last row lies 1 s before the anomalous window's first row (relative spacing
  kept), followed by the anomalous window unchanged; `inject_time.txt` is the anomalous
  window's first time. The dataset gives no call graph, so no services.json is written.

* `nezha-ob` / `nezha-tt`: the fault-suffering data of "Nezha: Interpretable Fine-Grained
  Root Causes Analysis for Microservices on Multi-Modal Observability Data" (FSE 2023),
  repository IntelligentDDS/Nezha, folder rca_data/: Online Boutique (2022-08-22, 2022-08-23)
  or Train Ticket (2023-01-29, 2023-01-30). Per day `<day>-fault_list.json` (inject_time,
  inject_pod, inject_type) and `metric/<pod>_metric.csv` (one row a minute per pod). A case is
  one fault: rows from `--before` seconds before to `--after` seconds after the injection,
  clipped so that neither the previous fault's after-window plus `--settle` seconds nor the
  next fault enters it (faults are 4-9 minutes apart, so a baseline holds 2-6 minutes);
  columns `<service>_<metric>` for the pod metrics (CpuUsageRate, MemoryUsageRate, Syscall
  read/write, network bytes, client/server latency P90-P99, workload, success rate). Times are
  the wall-clock `Time` column and the fault list's `inject_time`, both read as UTC (that is how
  Nezha itself matches them; the files' Unix `TimeStamp` and `inject_timestamp` disagree with
  each other by hours). Online Boutique's `metric/dependency.csv` call graph becomes
  services.json; for Train Ticket the call graph comes from the spans of rca_data/<day>/trace/
  (a span whose parent span ran in another service is a call from that service). With
  `--thresholds metric_threshold/`, each case also gets `alerts.json` (Alertmanager alert
  shape): Nezha's own alarm rule (alarm.py: a pod metric above its fault-free mean + 6 standard
  deviations, for CPU and memory usage rate and syscall read/write), one alert per service and
  metric at the first sample that breaks it between the injection and the case's end.

Every CASE_DIR also gets `truth.json` (`{"dataset", "case", "root", "fault"}`), which rca_case
ignores and scripts/rca_public_eval.py reads.

Usage:
  python3 scripts/rca_public_convert.py rcd-sockshop SRC_DIR OUT_DIR
  python3 scripts/rca_public_convert.py nezha-ob SRC_DIR OUT_DIR [--before 600] [--after 180]
      [--settle 60] [--thresholds DIR]
  python3 scripts/rca_public_convert.py nezha-tt SRC_DIR OUT_DIR [--before 600] [--after 180]
      [--settle 60] [--thresholds DIR]
SRC_DIR is the repository's sock-shop-data/ (rcd) or rca_data/ (nezha) folder.
"""

import argparse
import csv
import json
import os
import re
import sys
from datetime import datetime, timezone


def write_case(out, name, header, rows, inject, truth, services=None):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "data.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    with open(os.path.join(d, "inject_time.txt"), "w") as f:
        f.write(f"{inject}\n")
    with open(os.path.join(d, "truth.json"), "w") as f:
        json.dump(truth, f)
    if services is not None:
        with open(os.path.join(d, "services.json"), "w") as f:
            json.dump(services, f, indent=1)


def read_csv(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        return header, [row for row in r if row]


# ---------------------------------------------------------------- RCD Sock Shop


def convert_rcd(src, out):
    n = 0
    for case in sorted(os.listdir(src)):
        cdir = os.path.join(src, case)
        if not os.path.isdir(cdir) or "-" not in case:
            continue
        root, fault = case.rsplit("-", 1)
        for run in sorted(os.listdir(cdir), key=lambda s: (len(s), s)):
            rdir = os.path.join(cdir, run)
            normal = os.path.join(rdir, "normal.csv")
            anomalous = os.path.join(rdir, "anomalous.csv")
            if not (os.path.isfile(normal) and os.path.isfile(anomalous)):
                continue
            nh, nrows = read_csv(normal)
            ah, arows = read_csv(anomalous)
            if nh[0] != "time" or ah[0] != "time":
                sys.exit(f"{rdir}: first column is not 'time'")
            # Union of columns, in the anomalous file's order then the normal file's extras.
            header = list(ah) + [c for c in nh if c not in ah]
            def project(h, rows):
                idx = {c: i for i, c in enumerate(h)}
                return [[row[idx[c]] if c in idx and idx[c] < len(row) else "" for c in header]
                        for row in rows]
            nrows = sorted(project(nh, nrows), key=lambda r: float(r[0]))
            arows = sorted(project(ah, arows), key=lambda r: float(r[0]))
            a0 = float(arows[0][0])
            shift = a0 - 1.0 - float(nrows[-1][0])
            for r in nrows:
                t = float(r[0]) + shift
                r[0] = str(int(t)) if t.is_integer() else repr(t)
            inject = arows[0][0]
            name = f"{case}-{run}"
            truth = {"dataset": "rcd-sockshop", "case": name, "root": root, "fault": fault}
            write_case(out, name, header, nrows + arows, inject, truth)
            n += 1
    return n


# ---------------------------------------------------------------- Nezha

POD_METRICS = [
    "CpuUsageRate(%)", "MemoryUsageRate(%)", "SyscallRead", "SyscallWrite",
    "NetworkReceiveBytes", "NetworkTransmitBytes", "PodClientLatencyP90(s)",
    "PodServerLatencyP90(s)", "PodClientLatencyP95(s)", "PodServerLatencyP95(s)",
    "PodClientLatencyP99(s)", "PodServerLatencyP99(s)", "PodWorkload(Ops)",
    "PodSuccessRate(%)",
]


def metric_name(m):
    """`PodServerLatencyP90(s)` -> `server-latency-p90`: a name rca_case's metric kinds read
    (latency / error / saturation words), with no `_` inside."""
    table = {
        "CpuUsageRate(%)": "cpu-usage",
        "MemoryUsageRate(%)": "memory-usage",
        "SyscallRead": "syscall-read",
        "SyscallWrite": "syscall-write",
        "NetworkReceiveBytes": "network-receive-bytes",
        "NetworkTransmitBytes": "network-transmit-bytes",
        "PodClientLatencyP90(s)": "client-latency-p90",
        "PodServerLatencyP90(s)": "server-latency-p90",
        "PodClientLatencyP95(s)": "client-latency-p95",
        "PodServerLatencyP95(s)": "server-latency-p95",
        "PodClientLatencyP99(s)": "client-latency-p99",
        "PodServerLatencyP99(s)": "server-latency-p99",
        "PodWorkload(Ops)": "ops",
        "PodSuccessRate(%)": "success-rate",
    }
    return table[m]


def pod_service(pod):
    """`ts-contacts-service-866bd68c97-xcqfx` -> `ts-contacts-service` (Deployment pod names end
    in `-<replicaset hash>-<5 chars>`)."""
    m = re.match(r"^(.*)-[0-9a-f]{6,10}-[0-9a-z]{5}$", pod)
    return m.group(1) if m else pod


def wall_utc(text):
    """`2023-01-29 08:41:09.858 +0000 UTC m=+0.93` or `2023-01-29 08:43:04` -> Unix seconds,
    the wall-clock time read as UTC."""
    m = re.match(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})", text.strip())
    if not m:
        raise ValueError(f"bad time {text!r}")
    dt = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


THRESHOLD_METRICS = ["CpuUsageRate(%)", "MemoryUsageRate(%)", "SyscallRead", "SyscallWrite"]


def trace_graph(src, days):
    """Caller -> callee services from every span whose parent span ran in another service."""
    edges = set()
    for day in days:
        tdir = os.path.join(src, day, "trace")
        if not os.path.isdir(tdir):
            continue
        for fn in sorted(os.listdir(tdir)):
            if not fn.endswith("_trace.csv"):
                continue
            header, rows = read_csv(os.path.join(tdir, fn))
            idx = {c: i for i, c in enumerate(header)}
            svc_of = {r[idx["SpanID"]]: pod_service(r[idx["PodName"]]) for r in rows}
            for r in rows:
                parent = svc_of.get(r[idx["ParentID"]])
                child = svc_of[r[idx["SpanID"]]]
                if parent is not None and parent != child:
                    edges.add((parent, child))
    return edges


def load_thresholds(tdir):
    """Nezha's alarm rule data: metric_threshold/<service>.csv, first row the fault-free mean,
    second the standard deviation of each metric."""
    out = {}
    if tdir is None:
        return out
    for fn in os.listdir(tdir):
        if fn.endswith(".csv"):
            header, rows = read_csv(os.path.join(tdir, fn))
            if len(rows) >= 2:
                out[fn[:-4]] = {c: (float(rows[0][i]), float(rows[1][i]))
                                for i, c in enumerate(header)}
    return out


def rfc3339(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def convert_nezha(src, out, days, label, before, after, settle, thresholds=None, std_num=6.0):
    n = 0
    limits = load_thresholds(thresholds)
    edges = trace_graph(src, days) if label == "nezha-tt" else set()
    for day in days:
        ddir = os.path.join(src, day)
        with open(os.path.join(ddir, f"{day}-fault_list.json")) as f:
            flist = json.load(f)
        faults = []
        for hour in sorted(flist):
            for ft in flist[hour]:
                faults.append((wall_utc(ft["inject_time"]), pod_service(ft["inject_pod"]),
                               ft["inject_type"]))
        faults.sort()
        # Per service: {time: {metric: value}}.
        table = {}
        mdir = os.path.join(ddir, "metric")
        for fn in sorted(os.listdir(mdir)):
            if not fn.endswith("_metric.csv"):
                continue
            svc = pod_service(fn[: -len("_metric.csv")])
            header, rows = read_csv(os.path.join(mdir, fn))
            idx = {c: i for i, c in enumerate(header)}
            series = table.setdefault(svc, {})
            for row in rows:
                t = wall_utc(row[idx["Time"]])
                point = series.setdefault(t, {})
                for m in POD_METRICS:
                    if m in idx and idx[m] < len(row):
                        v = row[idx[m]].strip()
                        point[metric_name(m)] = "" if v.lower() == "nan" else v
        services = None
        dep = os.path.join(mdir, "dependency.csv")
        pairs = set(edges)
        if os.path.isfile(dep):
            _, drows = read_csv(dep)
            pairs |= {(r[0], r[1]) for r in drows}
        if pairs:
            # Only services with metrics: dependency.csv also names node IPs and the load
            # generator.
            deps = {s: set() for s in table}
            for s, t in pairs:
                if s in table and t in table:
                    deps[s].add(t)
            services = [{"name": s, "type": "service", "criticality": "medium",
                         "dependencies": sorted(deps[s])} for s in sorted(deps)]
        columns = [(s, metric_name(m)) for s in sorted(table) for m in POD_METRICS]
        header = ["time"] + [f"{s}_{m}" for s, m in columns]
        for i, (t0, root, ftype) in enumerate(faults):
            lo = t0 - before
            if i > 0:
                lo = max(lo, faults[i - 1][0] + after + settle)
            hi = t0 + after
            if i + 1 < len(faults):
                hi = min(hi, faults[i + 1][0] - 1)
            times = sorted({t for s in table for t in table[s] if lo <= t <= hi})
            rows = []
            for t in times:
                rows.append([str(t)] + [table[s].get(t, {}).get(m, "") for s, m in columns])
            name = f"{day}-{i:02d}-{root}-{ftype}"
            truth = {"dataset": label, "case": name, "root": root, "fault": ftype}
            write_case(out, name, header, rows, t0, truth, services)
            if limits:
                alerts = []
                for svc in sorted(table):
                    for m in THRESHOLD_METRICS:
                        mean_std = limits.get(svc, {}).get(m)
                        if mean_std is None:
                            continue
                        limit = mean_std[0] + std_num * mean_std[1]
                        for t in sorted(table[svc]):
                            v = table[svc][t].get(metric_name(m), "")
                            if t0 <= t <= hi and v != "" and float(v) > limit:
                                alerts.append({
                                    "labels": {"alertname": f"{metric_name(m)}-high",
                                               "service": svc, "metric_type": metric_name(m),
                                               "severity": "warning"},
                                    "startsAt": rfc3339(t)})
                                break
                alerts.sort(key=lambda a: a["startsAt"])
                with open(os.path.join(out, name, "alerts.json"), "w") as f:
                    json.dump(alerts, f, indent=1)
            n += 1
    return n


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dataset", choices=["rcd-sockshop", "nezha-ob", "nezha-tt"])
    p.add_argument("src")
    p.add_argument("out")
    p.add_argument("--before", type=int, default=600, help="nezha: seconds before injection")
    p.add_argument("--after", type=int, default=180, help="nezha: seconds after injection")
    p.add_argument("--thresholds", help="nezha: the repository's metric_threshold/ folder; "
                   "writes alerts.json per case with Nezha's alarm rule (mean + 6 std)")
    p.add_argument("--settle", type=int, default=60,
                   help="nezha: seconds after the previous fault's after-window before a baseline")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if a.dataset == "rcd-sockshop":
        n = convert_rcd(a.src, a.out)
    elif a.dataset == "nezha-ob":
        n = convert_nezha(a.src, a.out, ["2022-08-22", "2022-08-23"], a.dataset, a.before, a.after, a.settle,
                          a.thresholds)
    else:
        n = convert_nezha(a.src, a.out, ["2023-01-29", "2023-01-30"], a.dataset, a.before, a.after, a.settle,
                          a.thresholds)
    print(f"{n} cases written to {a.out}")


if __name__ == "__main__":
    main()
