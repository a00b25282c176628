#!/usr/bin/env python3
"""Checks the BARO baseline of scripts/rca_public_eval.py (`baro_ranking`) against RCAEval's own
`baro` on every case directory given, and prints how many service orders are identical.

RCAEval is used only here, as the reference; it is not needed to run the evaluation. Setup:

  pip download --no-deps RCAEval==1.8.1 -d /tmp/rcaeval && (cd /tmp/rcaeval && unzip -q *.whl)
  pip install pandas scikit-learn
  python3 scripts/rca_baro_check.py /tmp/rcaeval /tmp/rcadata/cases-rcd /tmp/rcadata/cases-ob ...

Each case's data.csv goes through RCAEval's reader's filling (infinities and empty cells take
the last value before them, 0 before the first; `RCAEval.utility.read_data`, whose renaming of
`latency-90` columns none of these datasets has) and then `RCAEval.e2e.baro.baro` with a dataset
name (so that its default preprocessing runs). Services are ordered by their first column in
BARO's column ranking. Orders that differ only among services whose scores are equal up to
rounding are counted separately.
Measured 2026-11-28 on the RCD Sock Shop and Nezha cases (151): with exact parsing
(RCA_BARO_ROUND_TRIP=1) all 149 that RCAEval ranks are identical; with pandas' default parser
144 are, 3 differ only among services tied up to rounding and 2 by the parsing (see PRECISION).
RCAEval raises on the other 2 (a side with no non-constant column), where `baro_ranking` ties
every service.
"""

import importlib.util
import math
import os
import sys
import warnings

warnings.filterwarnings("ignore")

# pandas' default float parser is not round-trip exact: it reads 0.004960000000000001 as
# 0.00496, which makes a rounding-flat column exactly constant (and dropped by BARO). Set
# RCA_BARO_ROUND_TRIP=1 to read every value exactly, as rca_public_eval.py does.
PRECISION = "round_trip" if os.environ.get("RCA_BARO_ROUND_TRIP") else None


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rcaeval_root, case_sets = sys.argv[1], sys.argv[2:]
    sys.path.insert(0, rcaeval_root)
    import numpy as np
    import pandas as pd

    # The module file alone: the package's e2e/__init__ imports every method's dependencies.
    baro = load(os.path.join(rcaeval_root, "RCAEval", "e2e", "baro.py"), "rcaeval_baro").baro
    here = os.path.dirname(os.path.abspath(__file__))
    ev = load(os.path.join(here, "rca_public_eval.py"), "rca_public_eval")
    same = tied = differ = raised = 0
    for cases in case_sets:
        for name in sorted(os.listdir(cases)):
            d = os.path.join(cases, name)
            if not os.path.isfile(os.path.join(d, "data.csv")):
                continue
            data = pd.read_csv(os.path.join(d, "data.csv"), float_precision=PRECISION)
            data = data.replace([np.inf, -np.inf], np.nan).ffill().fillna(0)
            with open(os.path.join(d, "inject_time.txt")) as f:
                inject = float(f.read().strip())
            try:
                ref = baro(data, inject_time=inject, dataset="check")
            except Exception as e:  # noqa: BLE001 - counted and reported
                raised += 1
                print(f"RCAEval raised on {d}: {type(e).__name__}: {e}")
                continue
            order = []
            for col in ref["ranks"]:
                svc = col.split("_", 1)[0]
                if svc not in order:
                    order.append(svc)
            mine = ev.baro_ranking(d, [])
            names = [r["service"] for r in mine][: len(order)]
            if names == order:
                same += 1
                continue
            score = {r["service"]: r["score"] for r in mine}
            # Scores equal up to rounding (the two sum and divide in different orders).
            if all(math.isclose(score[a], score[b], rel_tol=1e-9, abs_tol=1e-12)
                   for a, b in zip(names, order) if a != b):
                tied += 1
            else:
                differ += 1
                print(f"differs: {d}: RCAEval {order[:5]}, here {names[:5]}")
    print(f"identical {same}, differing only among tied services {tied}, differing {differ}, "
          f"RCAEval raised {raised}")


if __name__ == "__main__":
    main()
