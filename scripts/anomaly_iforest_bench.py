#!/usr/bin/env python3
"""sklearn's side of benches/anomaly.rs: IsolationForest fit + score_samples, one thread.

Usage: pip install scikit-learn numpy && python3 scripts/anomaly_iforest_bench.py [--large]

Same settings as the Rust bench: 100 trees, max_samples 256 ("auto"), contamination 0.1 (so fit
also scores the training data for offset_, as ours does), n_jobs=1, 4 standard-normal columns
with the last 1% shifted by 4. Prints the best of 5 runs (3 for 1M rows) in seconds.
"""
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402


def data(n):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(n, 4))
    x[n - n // 100:] += 4.0
    return x


def best(f, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    sizes = [100_000] + ([1_000_000] if "--large" in sys.argv else [])
    for n in sizes:
        x = data(n)
        runs = 5 if n <= 100_000 else 3
        model = IsolationForest(n_estimators=100, contamination=0.1, random_state=42, n_jobs=1)
        fit = best(lambda: model.fit(x), runs)
        score = best(lambda: model.score_samples(x), runs)
        both = best(lambda: IsolationForest(n_estimators=100, contamination=0.1, random_state=42,
                                            n_jobs=1).fit(x).score_samples(x), runs)
        print(f"sklearn n={n} x 4: fit {fit:.3f} s, score_samples {score:.3f} s, fit+score {both:.3f} s")


if __name__ == "__main__":
    main()
