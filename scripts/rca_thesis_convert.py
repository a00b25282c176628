#!/usr/bin/env python3
"""Turns the "energy issues" Sock Shop / Train Ticket dataset into `rca_case` CASE_DIRs.

Standard library only. Nothing produced here is committed: the cases go under /tmp.

Dataset: the replication package of B. Rodriguez Sanchez, "Multivariate Anomaly Detection and
Root Cause Analysis of Energy Issues in Microservice-based Systems" (MSc thesis, UvA/VU
Amsterdam, 2024), repository bertars/Thesis (no licence file in the repository).
Bring it onto the machine first, e.g.
  git --git-dir=<bare repo> archive HEAD vuDevOps/data_collection data_analysis/RCA/MicroRCA \
      | tar -x -C <dest>
(`git archive` of the whole tree fails on missing large model pickles; these folders are whole).

Layout (SRC_DIR = vuDevOps/data_collection/):
  <system>-data/<scenario>/anomalous/<service>/<users>/repetition_<n>/metrics.csv
  <system>-data/<scenario>/baseline/<users>/repetition_<n>/metrics.csv
system `sockshop` (13 containers) or `trainticket` (68 containers); scenario `scenario_A` /
`scenario_B` (Locust workloads: Sock Shop A browses the catalogue only, B also fills a cart and
posts an order); users 100 or 1000; repetitions 1-30. The stressed service (the root cause) is
`orders` or `front-end` for Sock Shop, `ts-order-service` or `ts-travel-service` for Train
Ticket: 2 x 2 x 2 x 2 x 30 = 480 anomalous runs. Every anomalous run is one fault:
experiment-runner (examples/<system>/RunnerConfig.py) runs, inside the stressed container,
`stress-ng --timeout 300s --cpu 1 --cpu-load 90 --vm 1 --vm-bytes 921M --hdd 1 --hdd-bytes 921M`
(vuDevOps/data_collection/stressor_config.json): CPU, memory and disk stress together, and
metrics.csv is Prometheus `query_range` from the moment the stressor started to the moment it
ended, step 5 s (~61 rows): per container `cpu` (rate of container_cpu_usage_seconds_total
over 1m), `memory`, `memory_rss`, `memory_cache` (rate over 1m of the cAdvisor gauges, as the
collector queried them), `disk` (rate of fs read bytes, only some containers) and `power`
(Scaphandre, W). Columns are already `<container>_<metric>`, container names use `-` only.
The baseline runs are the same procedure without the stressor (examples/baseline), recorded
in separate runs, one per (scenario, users, repetition).

A case is one anomalous run: the baseline run of the same (scenario, users, repetition) shifted
in time so that its last row lies one step (5 s) before the anomalous run's first row (relative
spacing kept), then the anomalous run unchanged; `inject_time.txt` is the anomalous run's first
time (the stressor's start). Columns: the union, anomalous file's order first. As in RCD's Sock
Shop data the normal and anomalous windows come from different runs of the system.

Call graph: data_analysis/RCA/MicroRCA/<system>_links.csv (source calls destination), the graph
the thesis gave MicroRCA; self-loops dropped. services.json lists every container of data.csv
and of the links, with its callees as dependencies (`--no-graph` writes none).

truth.json: {"dataset", "case", "root", "fault"}; fault is `stress-<scenario>-u<users>` (there
is one fault type; the split is by workload). `--system` restricts to one system.

`--trim-baseline SECS` drops the baseline run's first SECS seconds: every run starts its load
(Locust, spawning for 10 s) just before the window, and the metrics are 1-minute rates, so the
first minute or two of a baseline ramps up (Train Ticket's JVMs for longer); a sensitivity check.

Usage:
  python3 scripts/rca_thesis_convert.py SRC_DIR OUT_DIR [--system sockshop|trainticket] [--no-graph]
      [--trim-baseline SECS]
"""

import argparse
import csv
import os
import sys

# The case layout (data.csv, inject_time.txt, truth.json, services.json) is the other
# converters' own.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rca_public_convert import read_csv, write_case  # noqa: E402

STEP = 5.0
SYSTEMS = {"sockshop": "ss", "trainticket": "tt"}


def read_links(path):
    deps = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            s, d = row["source"].strip(), row["destination"].strip()
            deps.setdefault(s, set())
            deps.setdefault(d, set())
            if s != d:
                deps[s].add(d)
    return deps


def fmt(t):
    return str(int(t)) if float(t).is_integer() else repr(t)


def convert(src, out, systems, graph_dir=None, trim_baseline=0.0):
    n = 0
    for system in systems:
        sdir = os.path.join(src, f"{system}-data")
        deps = None
        if graph_dir:
            deps = read_links(os.path.join(graph_dir, f"{system}_links.csv"))
        for scenario in sorted(os.listdir(sdir)):
            adir = os.path.join(sdir, scenario, "anomalous")
            for root in sorted(os.listdir(adir)):
                for users in sorted(os.listdir(os.path.join(adir, root)), key=int):
                    udir = os.path.join(adir, root, users)
                    for rep in sorted(os.listdir(udir), key=lambda s: int(s.split("_")[-1])):
                        apath = os.path.join(udir, rep, "metrics.csv")
                        npath = os.path.join(sdir, scenario, "baseline", users, rep, "metrics.csv")
                        if not (os.path.isfile(apath) and os.path.isfile(npath)):
                            print(f"note: {apath}: no baseline run, skipped", file=sys.stderr)
                            continue
                        ah, arows = read_csv(apath)
                        nh, nrows = read_csv(npath)
                        if ah[0] != "time" or nh[0] != "time":
                            sys.exit(f"{apath}: first column is not 'time'")
                        for c in ah[1:] + nh[1:]:
                            if "_" not in c:
                                sys.exit(f"{apath}: column {c} has no service prefix")
                        header = list(ah) + [c for c in nh if c not in ah]

                        def project(h, rows):
                            idx = {c: i for i, c in enumerate(h)}
                            return [[row[idx[c]] if c in idx and idx[c] < len(row) else ""
                                     for c in header] for row in rows]

                        a = sorted(project(ah, arows), key=lambda r: float(r[0]))
                        b = sorted(project(nh, nrows), key=lambda r: float(r[0]))
                        if trim_baseline > 0:
                            b = [r for r in b if float(r[0]) >= float(b[0][0]) + trim_baseline]
                        shift = float(a[0][0]) - STEP - float(b[-1][0])
                        for r in b:
                            r[0] = fmt(round(float(r[0]) + shift, 3))
                        for r in a:
                            r[0] = fmt(float(r[0]))
                        inject = a[0][0]
                        services = None
                        if deps is not None:
                            names = sorted({c.split("_", 1)[0] for c in header[1:]} | set(deps))
                            services = [{"name": s, "type": "service", "criticality": "medium",
                                         "dependencies": sorted(deps.get(s, ()))}
                                        for s in names]
                        name = (f"{SYSTEMS[system]}-{scenario[-1]}-{root}-u{users}-"
                                f"r{int(rep.split('_')[-1]):02d}")
                        truth = {"dataset": f"energy-{system}", "case": name, "root": root,
                                 "fault": f"stress-{scenario}-u{users}"}
                        write_case(out, name, header, b + a, inject, truth, services)
                        n += 1
    return n


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("src", help="the repository's vuDevOps/data_collection/ folder")
    p.add_argument("out")
    p.add_argument("--system", choices=sorted(SYSTEMS), action="append")
    p.add_argument("--graph-dir", help="folder holding <system>_links.csv "
                   "(default: SRC/../../data_analysis/RCA/MicroRCA)")
    p.add_argument("--no-graph", action="store_true", help="write no services.json")
    p.add_argument("--trim-baseline", type=float, default=0.0, metavar="SECS",
                   help="drop the baseline run's first SECS seconds (its load ramp-up and the "
                   "1-minute rate window filling; a sensitivity check, default 0: kept)")
    a = p.parse_args()
    gdir = None
    if not a.no_graph:
        gdir = a.graph_dir or os.path.join(a.src, "..", "..", "data_analysis", "RCA", "MicroRCA")
    n = convert(a.src, a.out, a.system or sorted(SYSTEMS), gdir, a.trim_baseline)
    print(f"{n} cases written to {a.out}")


if __name__ == "__main__":
    main()
