#!/usr/bin/env python3
"""Accuracy of forecast_csv's models on the M4 hourly series (48-step horizon).

The M4 data is NOT in this repository: fetch Hourly-train.csv and Hourly-test.csv from the
public M4 repository (github.com/Mcompetitions/M4-methods, Dataset/Train, Dataset/Test) and
pass their directory.

cargo build --release --example forecast_csv
python3 scripts/forecast_m4_eval.py M4_DIR [--models auto,seasonal_naive,lag_regression,prophet]
        [--python-prophet N] [--mstl]

Metrics as the M4 competition defines them: sMAPE (%), MASE (seasonal period 24), and OWA =
(sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2 over the whole set, where Naive2 is the naive
forecast of the classically (multiplicatively) deseasonalised series when the 90% lag-24
autocorrelation test finds seasonality. `--python-prophet N` also scores Python Prophet (default
settings plus daily and weekly seasonality) on the first N series; `--mstl` scores
statsforecast's MSTL (seasons 24 and 168, pip install statsforecast) on all of them.
"""
import argparse
import csv
import io
import math
import subprocess
import sys

import numpy as np

H = 48
M = 24
START = 1_435_708_800  # 2015-07-01T00:00:00Z, an arbitrary start (M4 hourly has no dates)


def load(path):
    out = {}
    with open(path) as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            out[row[0]] = np.array([float(v) for v in row[1:] if v != ""])
    return out


def smape(y, f):
    return float(np.mean(200 * np.abs(y - f) / (np.abs(y) + np.abs(f))))


def mase(train, y, f):
    scale = np.mean(np.abs(train[M:] - train[:-M]))
    return float(np.mean(np.abs(y - f)) / scale)


def acf(x, k):
    x = x - x.mean()
    return float(np.dot(x[:-k], x[k:]) / np.dot(x, x))


def naive2(train):
    n = len(train)
    seasonal = False
    if n >= 3 * M:
        r = [acf(train, k) for k in range(1, M + 1)]
        limit = 1.645 * math.sqrt((1 + 2 * sum(v * v for v in r[:-1])) / n)
        seasonal = abs(r[-1]) > limit
    if not seasonal:
        return np.repeat(train[-1], H)
    # Classical multiplicative decomposition: centred 2xM moving average.
    ma = np.convolve(train, np.r_[0.5, np.ones(M - 1), 0.5] / M, mode="valid")
    ratio = train[M // 2: M // 2 + len(ma)] / ma
    idx = np.array([ratio[(np.arange(len(ratio)) - (j - M // 2)) % M == 0].mean() for j in range(M)])
    idx = idx * M / idx.sum()
    phase = np.arange(n) % M
    des = train / idx[phase]
    future_phase = (np.arange(n, n + H)) % M
    return des[-1] * idx[future_phase]


def run_tool(train, model):
    buf = io.StringIO()
    buf.write("series_id,timestamp,value\n")
    for sid, x in train.items():
        for i, v in enumerate(x):
            buf.write(f"{sid},{START + 3600 * i},{float(v)!r}\n")
    res = subprocess.run(
        ["target/release/examples/forecast_csv", "--horizon", str(H), "--model", model,
         "--countries", "none"],
        input=buf.getvalue(), capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"forecast_csv failed: {res.stderr}")
    out = {}
    for row in csv.DictReader(io.StringIO(res.stdout)):
        out.setdefault(row["series_id"], []).append(
            (float(row["yhat"]), float(row["yhat_lower"]), float(row["yhat_upper"])))
    return {k: np.array(v) for k, v in out.items()}


def python_prophet(train, n):
    import logging
    import pandas as pd
    from prophet import Prophet
    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    logging.getLogger("prophet").setLevel(logging.WARNING)
    out = {}
    for sid in list(train)[:n]:
        x = train[sid]
        df = pd.DataFrame({"ds": pd.to_datetime(START + 3600 * np.arange(len(x)), unit="s"), "y": x})
        m = Prophet(daily_seasonality=True, weekly_seasonality=True, interval_width=0.95)
        m.fit(df)
        fut = pd.DataFrame({"ds": pd.to_datetime(START + 3600 * np.arange(len(x), len(x) + H), unit="s")})
        fc = m.predict(fut)
        out[sid] = np.c_[fc.yhat, fc.yhat_lower, fc.yhat_upper]
    return out


def mstl(train):
    """statsforecast's MSTL (daily and weekly seasons, its default AutoETS trend), 95% level."""
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL
    rows = []
    for sid, x in train.items():
        rows.append(pd.DataFrame({"unique_id": sid, "ds": np.arange(len(x)), "y": x}))
    df = pd.concat(rows)
    sf = StatsForecast(models=[MSTL(season_length=[24, 168])], freq=1, n_jobs=1)
    fc = sf.forecast(df=df, h=H, level=[95])
    out = {}
    for sid, g in fc.groupby("unique_id"):
        out[sid] = np.c_[g["MSTL"], g["MSTL-lo-95"], g["MSTL-hi-95"]]
    return out


def score(name, fc, train, test, ids):
    s = np.mean([smape(test[i], fc[i][:, 0]) for i in ids])
    m = np.mean([mase(train[i], test[i], fc[i][:, 0]) for i in ids])
    s2 = np.mean([smape(test[i], naive2(train[i])) for i in ids])
    m2 = np.mean([mase(train[i], test[i], naive2(train[i])) for i in ids])
    owa = 0.5 * (s / s2 + m / m2)
    cover = ""
    if fc[ids[0]].shape[1] == 3:
        inside = np.mean([np.mean((test[i] >= fc[i][:, 1]) & (test[i] <= fc[i][:, 2])) for i in ids])
        cover = f"  95%-interval coverage {inside:.3f}"
    print(f"{name:16s} n={len(ids):3d}  sMAPE {s:7.3f}  MASE {m:6.3f}  OWA {owa:6.3f}{cover}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("m4_dir")
    ap.add_argument("--models", default="auto,seasonal_naive,lag_regression,linear,prophet")
    ap.add_argument("--python-prophet", type=int, default=0)
    ap.add_argument("--mstl", action="store_true", help="also score statsforecast's MSTL")
    a = ap.parse_args()
    train = load(f"{a.m4_dir}/Hourly-train.csv")
    test = load(f"{a.m4_dir}/Hourly-test.csv")
    ids = list(train)
    n2 = {i: np.c_[naive2(train[i])] for i in ids}
    score("naive2", n2, train, test, ids)
    results = {}
    for model in a.models.split(","):
        results[model] = run_tool(train, model)
        score(model, results[model], train, test, ids)
    if a.mstl:
        score("mstl", mstl(train), train, test, ids)
    if a.python_prophet:
        py = python_prophet(train, a.python_prophet)
        sub = list(py)
        score("python_prophet", py, train, test, sub)
        for model in results:
            score(f"{model} (same)", results[model], train, test, sub)


if __name__ == "__main__":
    main()
