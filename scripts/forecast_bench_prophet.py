#!/usr/bin/env python3
"""Python Prophet's side of benches/forecast.rs: the same series and the same work.

pip install prophet pandas
python3 scripts/forecast_bench_prophet.py [REPEATS]

hourly: 17,520 hourly points (2 years), yearly + weekly + daily seasonality, predict 720
future hourly rows; daily: 1,095 daily points (3 years), yearly + weekly, predict 30 future
rows. Both with 1000 uncertainty samples, no holidays, interval_width 0.95, timed fit + predict
(future rows only). Prints the median of REPEATS runs (default 3).
"""
import logging
import math
import statistics
import sys
import time

import numpy as np
import pandas as pd
from prophet import Prophet

logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
logging.getLogger("prophet").setLevel(logging.WARNING)


def series(n, step_secs, steps_per_day):
    t = np.arange(n, dtype=float)
    day = t / steps_per_day
    noise = np.array([math.modf(math.sin(x * 12.9898) * 43758.5453)[0] for x in t])
    y = (100 + 0.01 * day + 10 * np.sin(2 * np.pi * day) + 5 * np.sin(2 * np.pi * day / 7)
         + 8 * np.sin(2 * np.pi * day / 365.25) + 2 * noise)
    ds = pd.to_datetime(1_609_459_200 + step_secs * np.arange(n), unit="s")
    return pd.DataFrame({"ds": ds, "y": y})


def run(df, step_secs, future_rows, yearly, weekly, daily):
    start = time.perf_counter()
    m = Prophet(yearly_seasonality=yearly, weekly_seasonality=weekly,
                daily_seasonality=daily, interval_width=0.95, uncertainty_samples=1000)
    m.fit(df)
    last = df["ds"].iloc[-1]
    future = pd.DataFrame({"ds": [last + pd.Timedelta(seconds=step_secs * k)
                                  for k in range(1, future_rows + 1)]})
    fc = m.predict(future)
    elapsed = time.perf_counter() - start
    assert len(fc) == future_rows
    return elapsed


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    cases = [
        ("prophet_hourly_2y_fit_predict_720", series(17_520, 3600, 24.0), 3600, 720, True, True, True),
        ("prophet_daily_3y_fit_predict_30", series(1_095, 86_400, 1.0), 86_400, 30, True, True, False),
    ]
    for name, df, step, rows, y, w, d in cases:
        times = [run(df, step, rows, y, w, d) for _ in range(repeats)]
        print(f"{name}: median {statistics.median(times) * 1000:.1f} ms over {repeats} runs "
              f"(min {min(times) * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
