#!/usr/bin/env python3
"""Runs `rca_case` over every CASE_DIR made by scripts/rca_public_convert.py and reports AC@1,
AC@3 and Avg@5 overall and per fault type, next to the random baseline.

Standard library only.

* AC@k: the share of cases whose true root service is among the first k services.
* Avg@5: the mean of AC@1..AC@5.
* Ties: rca_case lists tied services by name, which would favour roots with an early name, so a
  root tied with other services is counted at every position of its tie group with equal
  probability (its expected AC@k under a random tie-break); the name order is reported too
  ("strict").
* Random baseline: the exact expected value of a uniformly random ranking of the case's n
  services, AC@k = k / n (Avg@5 = 3 / n), averaged over the cases.
* The article's ranker (with `--article BIN`, for cases with alerts.json and services.json):
  `correlate_alerts --article services.json alerts.json`; the incident holding the most alerts
  is the case's incident and its root causes (the article keeps the top 3) are its ranking, so
  only AC@1 and AC@3 exist; a root without an alert cannot be ranked by it.

Usage:
  cargo build --release --example rca_case
  python3 scripts/rca_public_eval.py CASES_DIR [--bin target/release/examples/rca_case]
         [--json OUT.json] [--article target/release/examples/correlate_alerts]
         [--confidence-exponents 1,6]

* BARO (with `--baro`): the metric ranker of RCAEval (Pham et al., FSE 2024), re-implemented
  here from its published code (`RCAEval.e2e.baro`, RCAEval 1.8.1) as a baseline: every column of
  data.csv that is not constant before and after the injection is scaled by the median and the
  inter-quartile range of its values before (sklearn's `RobustScaler`: a range below 10 machine
  epsilons scales by 1; `_mem` columns in MB, as RCAEval converts them),
  its score is its largest scaled value after (upward only), and services rank by their best
  column. Empty and non-finite cells take the value before them (0 before the first), as
  RCAEval's `read_data` fills them. Standard library only, like the rest of this script.

* Confidence calibration (with `--confidence-exponents`): rca_case prints scores only; the
  confidences are aiops-rca's `confidence_from_scores`, score^k / sum(score^k) over the services
  scored above 0, for each exponent k given (rca_case uses `CombinedRanker`: its blend's
  exponent with services.json, the `MetricRanker`'s without). Reported per exponent: the mean
  confidence of the first service (name order), its AC@1, the expected calibration error over 10
  equal-width bins, the Brier score of the first service and the log loss of the true root's
  confidence (floored at 1e-3).
* `--fit-by-day`: calibration fitted on labelled history, as `fit_confidence_exponent` does:
  the exponent with the least log loss of the true root's confidence (cases whose root is
  scored 0 are skipped; a grid of 401 exponents log-spaced over [0.01, 100], where aiops-rca
  uses a golden-section search) fitted on the cases of one day (the case name's first 10
  characters) and evaluated on the other days' cases, for every day.
"""

import argparse
import csv
import json
import math
import os
import subprocess
import sys
from collections import defaultdict

KS = (1, 2, 3, 4, 5)


def expected_hits(ranking, root):
    """{k: P(root in top k)} with ties broken at random, {k: 0/1} in the listed order, n."""
    scores = {r["service"]: r["score"] for r in ranking}
    n = len(ranking)
    if root not in scores:
        return {k: 0.0 for k in KS}, {k: 0.0 for k in KS}, n, None
    s = scores[root]
    greater = sum(1 for v in scores.values() if v > s)
    equal = sum(1 for v in scores.values() if v == s)
    tie = {k: min(1.0, max(0.0, (k - greater) / equal)) for k in KS}
    pos = [r["service"] for r in ranking].index(root) + 1
    strict = {k: 1.0 if pos <= k else 0.0 for k in KS}
    return tie, strict, n, pos


def confidences(ranking, k):
    """aiops-rca's confidence_from_scores: score^k / sum(score^k) over the scores above 0."""
    scores = [r["score"] if r["score"] > 0 else 0.0 for r in ranking]
    top = max(scores, default=0.0)
    if top <= 0:
        return [0.0] * len(scores)
    w = [(x / top) ** k if x > 0 else 0.0 for x in scores]
    total = sum(w)
    return [x / total for x in w]


def calibration(rows, k):
    """[mean top-1 confidence, AC@1 (name order), ECE (10 bins), Brier, log loss]."""
    n = len(rows)
    bins = [[0.0, 0.0] for _ in range(10)]
    conf = hits = brier = loss = 0.0
    for r in rows:
        c = confidences(r["ranking"], k)
        top = c[0] if c else 0.0
        hit = 1.0 if r["pos"] == 1 else 0.0
        conf += top
        hits += hit
        brier += (top - hit) ** 2
        truth = c[r["pos"] - 1] if r["pos"] else 0.0
        loss -= math.log(max(truth, 1e-3))
        b = min(int(top * 10), 9)
        bins[b][0] += top
        bins[b][1] += hit
    ece = sum(abs(c - h) for c, h in bins) / n
    return [conf / n, hits / n, ece, brier / n, loss / n]


def fit_exponent(rows):
    """The exponent with the least log loss of the true root's confidence (grid search)."""
    cases = [r for r in rows if r["pos"] and r["ranking"][r["pos"] - 1]["score"] > 0]
    if not cases:
        return None

    def loss(k):
        # In logs (a tiny score to a large power underflows): log sum(s^k) - k log s_root.
        total = 0.0
        for r in cases:
            top = r["ranking"][0]["score"]
            logs = [math.log(x["score"] / top) for x in r["ranking"] if x["score"] > 0]
            total += math.log(sum(math.exp(k * l) for l in logs))
            total -= k * math.log(r["ranking"][r["pos"] - 1]["score"] / top)
        return total

    grid = [10 ** (-2 + 4 * i / 400) for i in range(401)]
    return min(grid, key=loss)


def percentile(sorted_xs, q):
    """numpy's default (linear) percentile of a sorted non-empty list, q in [0, 100]."""
    pos = (len(sorted_xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


def baro_ranking(case_dir, services):
    """BARO's ranking of a case (see the module doc): [{"service", "score"}], best first."""
    with open(os.path.join(case_dir, "inject_time.txt")) as f:
        inject = float(f.read().strip())
    with open(os.path.join(case_dir, "data.csv")) as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    tcol = header.index("time")
    best = {}
    for j, name in enumerate(header):
        if name.startswith("time") or "_" not in name:
            continue
        # RCAEval's read_data: infinities and empty cells take the last value before them, 0
        # before the first.
        before, after = [], []
        last = 0.0
        for r in rows:
            x = None
            if j < len(r) and r[j] != "":
                try:
                    x = float(r[j])
                except ValueError:
                    x = None
            if x is not None and math.isfinite(x):
                last = x
            (before if float(r[tcol]) < inject else after).append(last)
        # RCAEval's drop_constant runs on each side: a column constant on either is dropped.
        if len(set(before)) < 2 or len(set(after)) < 2:
            continue
        if name.endswith("_mem"):  # RCAEval's convert_mem_mb (matters when the range is 0)
            before = [x / 1e6 for x in before]
            after = [x / 1e6 for x in after]
        b = sorted(before)
        med = percentile(b, 50)
        scale = percentile(b, 75) - percentile(b, 25)
        if scale < 10 * sys.float_info.epsilon:  # sklearn's _handle_zeros_in_scale
            scale = 1.0
        z = max((x - med) / scale for x in after)
        svc = name.split("_", 1)[0]
        best[svc] = max(best.get(svc, -math.inf), z)
    floor = min(best.values(), default=0.0) - 1.0
    out = [{"service": s, "score": best.get(s, floor)} for s in set(services) | set(best)]
    out.sort(key=lambda r: (-r["score"], r["service"]))
    return out


def summary(rows):
    m = len(rows)
    out = {"cases": m}
    for key in ("tie", "strict", "random", "baro"):
        if any(key not in r for r in rows):
            continue
        ac = {k: sum(r[key][k] for r in rows) / m for k in KS}
        out[key] = {"AC@1": ac[1], "AC@3": ac[3], "Avg@5": sum(ac.values()) / len(KS)}
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("cases")
    p.add_argument("--bin", default="target/release/examples/rca_case")
    p.add_argument("--json", help="write per-case results here")
    p.add_argument("--article", help="correlate_alerts binary: also run the article's ranker")
    p.add_argument("--confidence-exponents",
                   help="comma-separated exponents k: also report confidence calibration")
    p.add_argument("--baro", action="store_true",
                   help="also rank every case with BARO (RCAEval's metric ranker) as a baseline")
    p.add_argument("--fit-by-day", action="store_true",
                   help="fit the exponent on one day's cases, evaluate on the other days'")
    a = p.parse_args()
    rows = []
    errors = []
    for name in sorted(os.listdir(a.cases)):
        d = os.path.join(a.cases, name)
        tpath = os.path.join(d, "truth.json")
        if not os.path.isfile(tpath):
            continue
        with open(tpath) as f:
            truth = json.load(f)
        proc = subprocess.run([a.bin, d], capture_output=True, text=True)
        if proc.returncode != 0:
            errors.append((name, proc.stderr.strip()))
            continue
        ranking = json.loads(proc.stdout)["ranking"]
        tie, strict, n, pos = expected_hits(ranking, truth["root"])
        rnd = {k: min(1.0, k / n) for k in KS}
        row = {"case": name, "fault": truth["fault"], "root": truth["root"], "n": n,
               "all_zero": all(r["score"] == 0 for r in ranking),
               "pos": pos, "top": [r["service"] for r in ranking[:3]],
               "tie": tie, "strict": strict, "random": rnd, "ranking": ranking}
        if a.baro:
            baro = baro_ranking(d, [r["service"] for r in ranking])
            row["baro"] = expected_hits(baro, truth["root"])[0]
            row["baro_top"] = [r["service"] for r in baro[:3]]
        alerts = os.path.join(d, "alerts.json")
        services = os.path.join(d, "services.json")
        if a.article and os.path.isfile(alerts) and os.path.isfile(services):
            proc = subprocess.run([a.article, "--article", services, alerts],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                errors.append((name + " (article)", proc.stderr.strip()))
            else:
                incidents = json.loads(proc.stdout)["incidents"]
                top = []
                if incidents:
                    main_inc = max(incidents, key=lambda i: len(i["alert_indices"]))
                    top = [r["service"] for r in main_inc["root_causes"]]
                with open(alerts) as f:
                    alerted = {x["labels"]["service"] for x in json.load(f)}
                row["article_top"] = top
                row["root_alerted"] = truth["root"] in alerted
                row["article"] = {k: 1.0 if truth["root"] in top[:k] else 0.0 for k in KS}
        rows.append(row)
    for name, err in errors:
        print(f"ERROR {name}: {err}", file=sys.stderr)
    if not rows:
        sys.exit("no case ran")
    groups = defaultdict(list)
    for r in rows:
        groups[r["fault"]].append(r)
    ns = sorted({r["n"] for r in rows})
    print(f"{len(rows)} cases ({len(errors)} failed), services per case: {ns}")
    print("| faults | cases | rca_case AC@1 | AC@3 | Avg@5 | strict (name order) AC@1 / AC@3 / Avg@5 "
          "| random AC@1 | AC@3 | Avg@5 |")
    print("|---|---|---|---|---|---|---|---|---|")
    table = [("all", rows)] + sorted(groups.items())
    result = {}
    for label, rs in table:
        s = summary(rs)
        result[label] = s
        t, st, rd = s["tie"], s["strict"], s["random"]
        print(f"| {label} | {s['cases']} | {t['AC@1']:.3f} | {t['AC@3']:.3f} | {t['Avg@5']:.3f} "
              f"| {st['AC@1']:.3f} / {st['AC@3']:.3f} / {st['Avg@5']:.3f} "
              f"| {rd['AC@1']:.3f} | {rd['AC@3']:.3f} | {rd['Avg@5']:.3f} |")
    by_root = defaultdict(list)
    for r in rows:
        by_root[r["root"]].append(r)
    blank = [r for r in rows if r["all_zero"]]
    if blank:
        rest = [r for r in rows if not r["all_zero"]]
        print(f"{len(blank)} cases where rca_case scored every service 0 (no metric with a "
              f"baseline of 3 points and a change): {sorted(r['case'] for r in blank)}")
        if rest:
            s = summary(rest)
            t = s["tie"]
            line = (f"without them ({len(rest)} cases): rca_case AC@1 {t['AC@1']:.3f}, "
                    f"AC@3 {t['AC@3']:.3f}, Avg@5 {t['Avg@5']:.3f}")
            art_rest = [r for r in rest if "article" in r]
            if art_rest:
                m = len(art_rest)
                line += (f"; article AC@1 {sum(r['article'][1] for r in art_rest) / m:.3f}, "
                         f"AC@3 {sum(r['article'][3] for r in art_rest) / m:.3f}")
            print(line)
    art = [r for r in rows if "article" in r]
    if art:
        print("article's ranker (correlate_alerts --article, main incident, top 3):")
        for label, rs in table:
            rs = [r for r in rs if "article" in r]
            if rs:
                m = len(rs)
                a1 = sum(r["article"][1] for r in rs) / m
                a3 = sum(r["article"][3] for r in rs) / m
                al = sum(r["root_alerted"] for r in rs) / m
                print(f"| {label} | {m} | AC@1 {a1:.3f} | AC@3 {a3:.3f} | root has an alert {al:.3f} |")
    if a.confidence_exponents:
        print("confidence calibration (first service in name order):")
        print("| exponent | faults | cases | mean top-1 confidence | AC@1 | ECE | Brier | log loss |")
        print("|---|---|---|---|---|---|---|---|")
        for k in [float(x) for x in a.confidence_exponents.split(",")]:
            for label, rs in table[:1]:
                m = calibration(rs, k)
                print(f"| {k:g} | {label} | {len(rs)} | {m[0]:.3f} | {m[1]:.3f} | {m[2]:.3f} "
                      f"| {m[3]:.3f} | {m[4]:.3f} |")
    if a.fit_by_day:
        days = sorted({r["case"][:10] for r in rows})
        print("exponent fitted on one day, evaluated on the others:")
        print("| fitted on | k | evaluated on | cases | mean top-1 confidence | AC@1 | ECE | Brier "
              "| log loss | with k = 1: mean top-1 confidence | ECE | log loss |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for day in days:
            train = [r for r in rows if r["case"][:10] == day]
            test = [r for r in rows if r["case"][:10] != day]
            k = fit_exponent(train)
            if k is None or not test:
                continue
            m = calibration(test, k)
            b = calibration(test, 1.0)
            print(f"| {day} | {k:.3g} | other days | {len(test)} | {m[0]:.3f} | {m[1]:.3f} "
                  f"| {m[2]:.3f} | {m[3]:.3f} | {m[4]:.3f} | {b[0]:.3f} | {b[2]:.3f} | {b[4]:.3f} |")
    if a.baro:
        print("BARO (RCAEval's metric ranker, re-implemented; tie-aware):")
        print("| faults | cases | BARO AC@1 | AC@3 | Avg@5 | rca_case AC@1 | AC@3 | Avg@5 |")
        print("|---|---|---|---|---|---|---|---|")
        for label, rs in table:
            s = summary(rs)
            b, t = s["baro"], s["tie"]
            print(f"| {label} | {s['cases']} | {b['AC@1']:.3f} | {b['AC@3']:.3f} | {b['Avg@5']:.3f} "
                  f"| {t['AC@1']:.3f} | {t['AC@3']:.3f} | {t['Avg@5']:.3f} |")
    print("per root service (rca_case AC@1 / AC@3, tie-aware):")
    for root, rs in sorted(by_root.items()):
        s = summary(rs)["tie"]
        print(f"  {root}: {len(rs)} cases, {s['AC@1']:.3f} / {s['AC@3']:.3f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"summary": result, "cases": rows,
                       "errors": [{"case": c, "error": e} for c, e in errors]}, f, indent=1)


if __name__ == "__main__":
    main()
