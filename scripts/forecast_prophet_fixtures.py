#!/usr/bin/env python3
"""Reference forecasts from Python Prophet for aiops-forecast's agreement tests.

pip install prophet pandas   (fixtures in the repository: prophet 1.5.0, holidays 0.109)
python3 scripts/forecast_prophet_fixtures.py crates/aiops-forecast/tests/fixtures

For each synthetic series (generated here with a fixed numpy seed) writes
  <name>.csv: ds (Unix seconds), y, is_train, yhat, yhat_lower, yhat_upper
covering the training rows (in-sample fit) and the held-out rows (forecast). Prophet runs
with the settings listed in SERIES, interval_width 0.95, 1000 uncertainty samples.
"""
import sys
import numpy as np
import pandas as pd
from prophet import Prophet

rng = np.random.default_rng(20261127)
DAY = 86400


def daily_holidays():
    n = 3 * 365 + 30
    ds = pd.date_range("2021-01-01", periods=n, freq="D")
    t = np.arange(n)
    y = (100 + 0.05 * t
         + 8 * np.sin(2 * np.pi * t / 365.25) + 3 * np.cos(4 * np.pi * t / 365.25)
         + 4 * (ds.day_of_week >= 5)
         + rng.normal(0, 1.5, n))
    # A holiday effect on China's National Day week.
    y = y - 10 * ((ds.month == 10) & (ds.day <= 7))
    return ds, y, 30, dict(yearly_seasonality=True, weekly_seasonality=True,
                           daily_seasonality=False), "CN"


def hourly():
    n = 24 * 7 * 8 + 24 * 30
    ds = pd.date_range("2026-03-02", periods=n, freq="h")
    t = np.arange(n)
    y = (50 + 0.01 * t + 10 * np.sin(2 * np.pi * t / 24) + 5 * np.cos(2 * np.pi * t / 24 * 2)
         - 6 * (ds.day_of_week >= 5) + rng.normal(0, 2, n))
    return ds, y, 24 * 30, dict(yearly_seasonality=False, weekly_seasonality=True,
                                daily_seasonality=True), None


def trend_change():
    n = 2 * 365 + 30
    ds = pd.date_range("2024-01-01", periods=n, freq="D")
    t = np.arange(n)
    slope = np.where(t < 400, 0.1, -0.05)
    level = np.cumsum(slope)
    y = 20 + level + 2 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.8, n)
    return ds, y, 30, dict(yearly_seasonality=False, weekly_seasonality=True,
                           daily_seasonality=False), None


def flat():
    n = 120 + 30
    ds = pd.date_range("2026-01-01", periods=n, freq="D")
    y = 42 + rng.normal(0, 0.01, n)
    return ds, y, 30, dict(yearly_seasonality=False, weekly_seasonality=True,
                           daily_seasonality=False), None


def noisy():
    n = 365 + 30
    ds = pd.date_range("2025-01-01", periods=n, freq="D")
    t = np.arange(n)
    y = 60 + 0.02 * t + 1.5 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 6, n)
    return ds, y, 30, dict(yearly_seasonality=False, weekly_seasonality=True,
                           daily_seasonality=False), None


def short():
    # Fewer than 100 training points: Prophet uses Newton.
    n = 60 + 30
    ds = pd.date_range("2026-01-01", periods=n, freq="D")
    t = np.arange(n)
    y = 50 + 0.5 * t + 3 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 1, n)
    return ds, y, 30, dict(yearly_seasonality=False, weekly_seasonality=True,
                           daily_seasonality=False), None


SERIES = {
    "daily_holidays": daily_holidays,
    "hourly": hourly,
    "trend_change": trend_change,
    "flat": flat,
    "noisy": noisy,
    "short": short,
}


def main(out_dir):
    for name, make in SERIES.items():
        ds, y, horizon, opts, country = make()
        df = pd.DataFrame({"ds": ds, "y": y})
        train = df.iloc[:-horizon]
        m = Prophet(interval_width=0.95, uncertainty_samples=1000, **opts)
        if country:
            m.add_country_holidays(country_name=country)
        m.fit(train)
        fc = m.predict(df[["ds"]])
        out = pd.DataFrame({
            "ds": (df["ds"].astype("int64") // 10**9) if df["ds"].dtype == "datetime64[ns]"
            else df["ds"].map(lambda d: int(d.timestamp())),
            "y": df["y"].round(6),
            "is_train": [1] * len(train) + [0] * horizon,
            "yhat": fc["yhat"].round(6),
            "yhat_lower": fc["yhat_lower"].round(6),
            "yhat_upper": fc["yhat_upper"].round(6),
        })
        out.to_csv(f"{out_dir}/{name}.csv", index=False)
        test = out[out.is_train == 0]
        cov = ((test.y >= test.yhat_lower) & (test.y <= test.yhat_upper)).mean()
        print(name, len(train), horizon, "held-out coverage", round(cov, 3))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
