#!/usr/bin/env python3
"""Turns public microservice fault-injection datasets into `rca_case` CASE_DIRs.

Standard library only, except `causalrca`, whose recordings are pickled pandas DataFrames.
Nothing produced here is committed: the cases go under /tmp.

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

* `petshop`: the PetShop dataset of "PetShop: A Multi-Modal Dataset for Root Cause Analysis"
  (NeurIPS 2023 Datasets and Benchmarks), repository amazon-science/petshop-root-cause-analysis,
  folder dataset/. Per traffic scenario (`low_traffic`, `high_traffic`, `temporal_traffic1`,
  `temporal_traffic2`): `graph.csv` (the call graph as an adjacency matrix, row calls column),
  `noissue/metrics.csv` (fault-free operation) and `{train,test}/issue_<n>/` with `metrics.csv`
  (the 20 minutes around an SLO violation at PetSite) and `target.json` (the violated metric and
  the root-cause node). Metrics come every 5 minutes per node (41-44 nodes: services,
  databases, queues, load balancers, lambdas), as CloudWatch statistics: latency (Average, p50,
  p90, p95, p99), requests (Sum) and availability (Average); the files have three header rows
  (node, metric, statistic). A case is one issue (train and test alike; nothing is trained
  here): the fault-free rows shifted in time so that the last lies one step (300 s) before the
  issue's first row, then the issue's rows. `inject_time.txt` is the target's timestamp, when
  the SLO violation began (the dataset's only statement of when the problem began; the issue's
  rows begin about 9 minutes before it, so its first two rows follow the fault-free ones in the
  baseline); with `--inject window` it is the issue's first row instead, as the benchmark's own
  protocol treats the whole issue window as abnormal (and gives its methods no time).
  Node names become service names with `_` replaced by `-` (rca_case splits columns at the first
  `_`); columns are `<service>_<metric>-<statistic>` (e.g. `PetSite_latency-p90`), and the
  graph becomes services.json. `truth.json` has the root node (renamed the same way) and, as
  `fault`, the violated metric (`latency` or `availability`). A scenario whose
  `noissue/metrics.csv` is missing is skipped with a note.

* `causalrca`: the Sock Shop data of "CausalRCA: Causal inference based precise fine-grained
  root cause localization for microservice applications" (Xin, Chen, Zhao, JSS 2023),
  repository AXinx/CausalRCA_code, folder data_collected/: one pickled pandas DataFrame per
  recording, `<fault><run>_<service>.pkl`, fault `cpu-hog` (pumba stress `--cpu 4`),
  `memory-leak` (stress `-m 1 --vm-bytes 100M`, 500M for front-end) or `latency` (pumba netem
  delay 100 ms), run none, `1` or `2`, injected into one of front-end, user, catalogue, orders,
  carts, payment, shipping: the file's service is the root cause. The scripts in the
  repository's `*-test.txt` run `sleep 3m; date; pumba ... --duration=5m` per service; the
  recordings (data_collection_all_services.ipynb) are Prometheus `query_range` results over
  300 s at a 5 s step, 61 rows, columns `<service>_ctn_<metric>` kept as named: `latency`
  (request duration rate / request count rate over 1m), `cpu` (usage rate over 1m), `mem`
  (working set), `read` / `write` (its database container's file system bytes, rate over 1m),
  `net_in` / `net_out` (network bytes, rate over 1m), for the metrics that had data (a constant
  query result was not kept; 33-38 columns). The notebook filled missing values with 0, scaled
  every column to [0, 1] within its recording (MinMaxScaler), dropped the time column and any
  column equal to an earlier one before pickling: raw levels, units and timestamps are gone.
  Row i gets the nominal time 1656075370 + 5 i (2022-06-24 12:56:10 UTC, the start of the one
  recording whose query window the notebook keeps; rca_case needs only the relative times).
  No recording states its injection time (the `date` printed before each pumba command was not
  kept), so it is inferred, the same for every recording: `--inject-offset` seconds (default
  15) after the first row. Why 15 s: the notebook's kept recording (cpu-hog2_shipping: its
  printed raw values, min-max scaled, equal the pickle) has shipping's CPU rate flat for rows
  0-3 (0-15 s) and up at row 4 (20 s) by about 1/12 of its final rise, what 5 s of full load
  adds to a one-minute rate: the stress began about 15 s after the first row. It is also the
  earliest time that leaves rca_case its minimum of 3 baseline rows. In the other recordings
  the root's own injected resource moves from row 1 to 11 (cpu: rows 3-11; memory: rows 1-9,
  in 6 recordings before row 3, so their 3-row baseline holds fault rows), as the windows were
  entered by hand. The dataset gives no call graph, so no services.json is written. Skipped,
  with a note: file names not of that form for one of the 7 services
  (`latency1_shipping-old.pkl`) and files byte-identical to one converted before
  (`cpu-hog_carts.pkl` is `cpu-hog1_carts.pkl`). The case is the file name without `.pkl`;
  `truth.json` has the fault without its run digit. Reading the pickles needs pandas (imported
  by this converter only; unpickling runs code, so give it only the repository's files). HEAD
  holds the `1` runs; the runs without a digit and the `2` runs are in the repository's
  history only (all of them in its first commit, ceb6189).

Every CASE_DIR also gets `truth.json` (`{"dataset", "case", "root", "fault"}`), which rca_case
ignores and scripts/rca_public_eval.py reads.

Usage:
  python3 scripts/rca_public_convert.py rcd-sockshop SRC_DIR OUT_DIR
  python3 scripts/rca_public_convert.py nezha-ob SRC_DIR OUT_DIR [--before 600] [--after 180]
      [--settle 60] [--thresholds DIR]
  python3 scripts/rca_public_convert.py nezha-tt SRC_DIR OUT_DIR [--before 600] [--after 180]
      [--settle 60] [--thresholds DIR]
  python3 scripts/rca_public_convert.py petshop SRC_DIR OUT_DIR [--inject target|window]
  python3 scripts/rca_public_convert.py causalrca SRC_DIR OUT_DIR [--inject-offset 15]
SRC_DIR is the repository's sock-shop-data/ (rcd), rca_data/ (nezha), dataset/ (petshop) or
data_collected/ (causalrca) folder.
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


# ---------------------------------------------------------------- PetShop

PETSHOP_SCENARIOS = ["low_traffic", "high_traffic", "temporal_traffic1", "temporal_traffic2"]


def petshop_name(node):
    return node.replace("_", "-")


def read_petshop_metrics(path):
    """-> (columns, rows): columns `<service>_<metric>-<statistic>` in file order, rows
    `[time, value, ..]` sorted by time (values as written; empty when missing)."""
    with open(path, newline="") as f:
        r = csv.reader(f)
        nodes, metrics, stats = next(r), next(r), next(r)
        if nodes[0] != "microservice" or metrics[0] != "metric" or stats[0] != "statistic":
            sys.exit(f"{path}: expected the header rows microservice, metric, statistic")
        cols = [f"{petshop_name(n)}_{m}-{st}" for n, m, st in zip(nodes[1:], metrics[1:], stats[1:])]
        rows = []
        for row in r:
            if not row or row[0] in ("unix_timestamp", ""):
                continue
            rows.append([float(row[0])] + [v.strip() for v in row[1:1 + len(cols)]])
    rows.sort(key=lambda x: x[0])
    return cols, rows


def convert_petshop(src, out, inject_at="target"):
    n = 0
    for scenario in PETSHOP_SCENARIOS:
        sdir = os.path.join(src, scenario)
        normal = os.path.join(sdir, "noissue", "metrics.csv")
        if not os.path.isfile(normal):
            print(f"note: {scenario}: no noissue/metrics.csv, skipped", file=sys.stderr)
            continue
        with open(os.path.join(sdir, "graph.csv"), newline="") as f:
            r = csv.reader(f)
            heads = next(r)[1:]
            deps = {}
            for row in r:
                deps[row[0]] = [heads[i] for i, v in enumerate(row[1:]) if v and float(v) != 0.0]
        names = {petshop_name(x) for x in deps}
        if len(names) != len(deps):
            sys.exit(f"{scenario}: node names collide once `_` becomes `-`")
        services = [{"name": petshop_name(x), "type": "service", "criticality": "medium",
                     "dependencies": sorted({petshop_name(d) for d in ds if d != x})}
                    for x, ds in sorted(deps.items())]
        ncols, nrows = read_petshop_metrics(normal)
        for split in ("train", "test"):
            pdir = os.path.join(sdir, split)
            if not os.path.isdir(pdir):
                continue
            for issue in sorted(os.listdir(pdir), key=lambda s: (len(s), s)):
                idir = os.path.join(pdir, issue)
                if not os.path.isfile(os.path.join(idir, "target.json")):
                    continue
                with open(os.path.join(idir, "target.json")) as f:
                    target = json.load(f)
                acols, arows = read_petshop_metrics(os.path.join(idir, "metrics.csv"))
                header_cols = list(acols) + [c for c in ncols if c not in acols]
                def project(cols, rows):
                    idx = {c: i + 1 for i, c in enumerate(cols)}
                    return [[row[0]] + [row[idx[c]] if c in idx and idx[c] < len(row) else ""
                                        for c in header_cols] for row in rows]
                a = project(acols, arows)
                b = project(ncols, nrows)
                shift = a[0][0] - 300.0 - b[-1][0]
                for row in b:
                    row[0] += shift
                rows = [[str(int(row[0])) if float(row[0]).is_integer() else repr(row[0])] + row[1:]
                        for row in b + a]
                name = f"{scenario}-{split}-{issue}"
                truth = {"dataset": "petshop", "case": name,
                         "root": petshop_name(target["root_cause"]["node"]),
                         "fault": target["target"]["metric"]}
                if inject_at == "target":
                    inject = str(int(target["target"]["timestamp"]))
                else:
                    inject = rows[len(b)][0]
                write_case(out, name, ["time"] + header_cols, rows, inject, truth, services)
                n += 1
    return n


# ---------------------------------------------------------------- CausalRCA Sock Shop

CAUSALRCA_SERVICES = ["front-end", "user", "catalogue", "orders", "carts", "payment", "shipping"]
CAUSALRCA_START = 1656075370  # nominal time of every recording's first row
CAUSALRCA_STEP = 5  # seconds between rows (the notebook's query_range step)


def convert_causalrca(src, out, inject_offset=15):
    """Needs pandas, imported here only: the recordings are pickled pandas DataFrames."""
    import hashlib
    import math
    try:
        import pandas as pd
    except ImportError:
        sys.exit("causalrca: reading the pickles needs pandas (pip install pandas)")
    pattern = re.compile(r"^(cpu-hog|memory-leak|latency)(\d*)_(.+)\.pkl$")
    seen = {}
    n = 0
    for fn in sorted(os.listdir(src)):
        if not fn.endswith(".pkl"):
            continue
        m = pattern.match(fn)
        if not m or m.group(3) not in CAUSALRCA_SERVICES:
            print(f"note: {fn}: not <fault><run>_<service>.pkl for a known service, skipped",
                  file=sys.stderr)
            continue
        fault, root = m.group(1), m.group(3)
        path = os.path.join(src, fn)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest in seen:
            print(f"note: {fn}: byte-identical to {seen[digest]}, skipped", file=sys.stderr)
            continue
        seen[digest] = fn
        df = pd.read_pickle(path)
        if list(df.index) != list(range(len(df))):
            sys.exit(f"{path}: rows are not numbered 0..{len(df) - 1}")
        cols = [str(c) for c in df.columns]
        for c in cols:
            if "_" not in c or c.split("_", 1)[0] not in CAUSALRCA_SERVICES:
                sys.exit(f"{path}: column {c!r} is not <service>_<metric>")

        def cell(v):
            x = float(v)
            return repr(x) if math.isfinite(x) else ""
        rows = [[str(CAUSALRCA_START + CAUSALRCA_STEP * i)] + [cell(v) for v in rec]
                for i, rec in enumerate(df.itertuples(index=False, name=None))]
        name = fn[: -len(".pkl")]
        truth = {"dataset": "causalrca", "case": name, "root": root, "fault": fault}
        write_case(out, name, ["time"] + cols, rows, CAUSALRCA_START + inject_offset, truth)
        n += 1
    return n


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dataset",
                   choices=["rcd-sockshop", "nezha-ob", "nezha-tt", "petshop", "causalrca"])
    p.add_argument("src")
    p.add_argument("out")
    p.add_argument("--before", type=int, default=600, help="nezha: seconds before injection")
    p.add_argument("--after", type=int, default=180, help="nezha: seconds after injection")
    p.add_argument("--thresholds", help="nezha: the repository's metric_threshold/ folder; "
                   "writes alerts.json per case with Nezha's alarm rule (mean + 6 std)")
    p.add_argument("--settle", type=int, default=60,
                   help="nezha: seconds after the previous fault's after-window before a baseline")
    p.add_argument("--inject", choices=["target", "window"], default="target",
                   help="petshop: the injection time is the target's timestamp (default) or the "
                   "issue window's first row")
    p.add_argument("--inject-offset", type=int, default=15,
                   help="causalrca: seconds from a recording's first row to the injection")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if a.dataset == "rcd-sockshop":
        n = convert_rcd(a.src, a.out)
    elif a.dataset == "petshop":
        n = convert_petshop(a.src, a.out, a.inject)
    elif a.dataset == "causalrca":
        n = convert_causalrca(a.src, a.out, a.inject_offset)
    elif a.dataset == "nezha-ob":
        n = convert_nezha(a.src, a.out, ["2022-08-22", "2022-08-23"], a.dataset, a.before, a.after, a.settle,
                          a.thresholds)
    else:
        n = convert_nezha(a.src, a.out, ["2023-01-29", "2023-01-30"], a.dataset, a.before, a.after, a.settle,
                          a.thresholds)
    print(f"{n} cases written to {a.out}")


if __name__ == "__main__":
    main()
