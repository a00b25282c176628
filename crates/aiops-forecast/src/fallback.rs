//! Fast forecasters on the series' own step: robust linear trend, seasonal naive, and a
//! least-squares regression on lags of the deseasonalised series, plus the `auto` rule.
//!
//! All work on the values as consecutive steps (gaps are treated as one step) and return
//! `horizon` rows with symmetric normal intervals of the requested width. Every model is
//! equivariant under a change of units (no constant in them carries a unit: the lag
//! regression centres its columns and scales its ridge with them), and [`forecast`] fits them
//! in the series' own scale, so forecasts and intervals do not depend on the series' units.

use aiops_core::stats::{median, quantile};

use crate::config::ModelKind;
use crate::optimizer::cholesky_solve;
use crate::prophet_model::RawRow;

/// The inverse standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.024_25 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.024_25 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// Season length in steps for a step of `step_secs`: the day for sub-daily steps that divide
/// it, the week for daily steps, none (1) otherwise.
pub(crate) fn season_length(step_secs: f64) -> usize {
    const DAY: f64 = 86_400.0;
    if step_secs <= 0.0 || !step_secs.is_finite() {
        return 1;
    }
    let per_day = DAY / step_secs;
    if per_day >= 2.0 && (per_day - per_day.round()).abs() < 1e-6 {
        return per_day.round() as usize;
    }
    if (step_secs - DAY).abs() < 1e-6 {
        return 7;
    }
    1
}

/// Which concrete model `auto` picks for `n` points with season length `m` (see
/// [`ModelKind::Auto`]).
pub(crate) fn auto_choice(n: usize, m: usize) -> ModelKind {
    if m >= 2 && n >= 3 * m && n >= 2 * m + 24 {
        ModelKind::Auto
    } else if m >= 2 && n >= 2 * m {
        ModelKind::SeasonalNaive
    } else {
        ModelKind::Linear
    }
}

fn rows_with_sd(yhat: &[f64], sd: &[f64], z: f64) -> Vec<RawRow> {
    yhat.iter()
        .zip(sd)
        .map(|(&y, &s)| RawRow {
            yhat: y,
            lower: y - z * s,
            upper: y + z * s,
        })
        .collect()
}

/// Robust linear trend: slope the median of pairwise slopes (all pairs for n <= 200, pairs half
/// the series apart otherwise), intercept the median of `y - slope * x`; intervals from the
/// residuals' MAD with OLS-style widening away from the data.
pub(crate) fn linear(y: &[f64], horizon: usize, z: f64) -> Vec<RawRow> {
    let n = y.len();
    let nf = n as f64;
    let mut slopes = Vec::new();
    if n <= 200 {
        for i in 0..n {
            for j in i + 1..n {
                slopes.push((y[j] - y[i]) / (j - i) as f64);
            }
        }
    } else {
        let half = n / 2;
        for i in 0..n - half {
            slopes.push((y[i + half] - y[i]) / half as f64);
        }
    }
    let slope = median(&mut slopes).unwrap_or(0.0);
    let mut resid: Vec<f64> = y
        .iter()
        .enumerate()
        .map(|(i, v)| v - slope * i as f64)
        .collect();
    let intercept = median(&mut resid.clone()).unwrap_or(0.0);
    for r in &mut resid {
        *r -= intercept;
    }
    let mut abs: Vec<f64> = resid.iter().map(|r| r.abs()).collect();
    let mad = median(&mut abs).unwrap_or(0.0) * aiops_core::stats::MAD_TO_SIGMA;
    let rms = (resid.iter().map(|r| r * r).sum::<f64>() / nf).sqrt();
    let s = if mad > 0.0 { mad } else { rms };
    let xbar = (nf - 1.0) / 2.0;
    let sxx = (nf * nf - 1.0) * nf / 12.0;
    let (mut yhat, mut sd) = (Vec::with_capacity(horizon), Vec::with_capacity(horizon));
    for h in 1..=horizon {
        let x = (n - 1 + h) as f64;
        yhat.push(intercept + slope * x);
        let lever = if sxx > 0.0 {
            (x - xbar).powi(2) / sxx
        } else {
            0.0
        };
        sd.push(s * (1.0 + 1.0 / nf + lever).sqrt());
    }
    rows_with_sd(&yhat, &sd, z)
}

/// Repeats the last cycle of `m` steps; interval sd `s * sqrt(cycles ahead)` from the
/// seasonal differences (Hyndman & Athanasopoulos, 5.5).
pub(crate) fn seasonal_naive(y: &[f64], m: usize, horizon: usize, z: f64) -> Vec<RawRow> {
    let n = y.len();
    let m = m.clamp(1, n.saturating_sub(1).max(1));
    let diffs: Vec<f64> = (m..n).map(|t| y[t] - y[t - m]).collect();
    let s = if diffs.is_empty() {
        0.0
    } else {
        (diffs.iter().map(|d| d * d).sum::<f64>() / diffs.len() as f64).sqrt()
    };
    let mut yhat = Vec::with_capacity(horizon);
    let mut sd = Vec::with_capacity(horizon);
    for h in 1..=horizon {
        yhat.push(y[n - m + (h - 1) % m]);
        sd.push(s * (((h - 1) / m + 1) as f64).sqrt());
    }
    rows_with_sd(&yhat, &sd, z)
}

/// [`seasonal_naive`] plus a drift: the median of the seasonal differences `y[t] - y[t - m]`
/// over the last (up to) 20 cycles, as [`seasonal_profile`] uses, added once per cycle ahead.
/// A trending series is no longer forecast a cycle behind (a line rising 0.5 a step, hourly:
/// 144 instead of 150 one step ahead); a trendless one has a drift near 0.
fn seasonal_naive_drift(y: &[f64], m: usize, horizon: usize, z: f64) -> Vec<RawRow> {
    let mut rows = seasonal_naive(y, m, horizon, z);
    let n = y.len();
    let m = m.clamp(1, n.saturating_sub(1).max(1));
    let from = n.saturating_sub(20 * m).max(m);
    let mut d: Vec<f64> = (from..n).map(|t| y[t] - y[t - m]).collect();
    let drift = median(&mut d).unwrap_or(0.0);
    for (h, r) in rows.iter_mut().enumerate() {
        let shift = drift * (h / m + 1) as f64;
        r.yhat += shift;
        r.lower += shift;
        r.upper += shift;
    }
    rows
}

/// Seasonal profile of the last (up to 20) whole cycles: per phase, the median deviation from
/// each cycle's mean, centred to sum to zero. Phase of index `t` is `(t + offset) % m` with the
/// cycles aligned to end at the last point.
fn seasonal_profile(y: &[f64], m: usize) -> Vec<f64> {
    let n = y.len();
    let cycles = (n / m).min(20);
    let mut per_phase: Vec<Vec<f64>> = vec![Vec::with_capacity(cycles); m];
    for c in 0..cycles {
        let end = n - c * m;
        let chunk = &y[end - m..end];
        let mean = chunk.iter().sum::<f64>() / m as f64;
        for (j, v) in chunk.iter().enumerate() {
            per_phase[j].push(v - mean);
        }
    }
    let mut prof: Vec<f64> = per_phase
        .iter_mut()
        .map(|v| median(v).unwrap_or(0.0))
        .collect();
    let mean = prof.iter().sum::<f64>() / m as f64;
    for p in &mut prof {
        *p -= mean;
    }
    prof
}

/// Regression of the deseasonalised series on its own lags `1..=p` (p = season length, at
/// least 3, at most 24) and an intercept, fitted over the last `30 * max(m, 24)` points (30
/// cycles at hourly or finer steps) by one small least-squares solve on centred columns (the
/// intercept is the mean left over), stabilised
/// by a ridge of 1e-6 of the centred Gram matrix's mean diagonal: every term scales with the
/// series, so the coefficients do not depend on its units or its level. Forecasts
/// recursively, re-seasonalises, and clips to the recent range widened by half of it.
/// Intervals from the AR psi-weights.
pub(crate) fn lag_regression(y: &[f64], m: usize, horizon: usize, z: f64) -> Vec<RawRow> {
    let n = y.len();
    let m = m.max(1);
    let prof = if m >= 2 && n >= 2 * m {
        seasonal_profile(y, m)
    } else {
        vec![0.0; m]
    };
    // Phase of index t: cycles end at n, so t has phase (t + m - n % m) % m.
    let phase = |t: usize| (t + m - n % m) % m;
    let d: Vec<f64> = (0..n).map(|t| y[t] - prof[phase(t)]).collect();
    let p = m.clamp(3, 24).min(n / 3).max(1);
    let start = n.saturating_sub(30 * m.max(24)).max(p);
    let dim = p + 1;
    let rows = n.saturating_sub(start);
    if rows < dim + 2 {
        return seasonal_naive(y, m, horizon, z);
    }
    // Centred columns: the intercept drops out of the solve, and the ridge below (a fraction
    // of the centred Gram matrix's diagonal) scales with the lags' squares, as they do with the
    // units; a ridge on an uncentred intercept column weighed a unit-less 1 against them.
    let rows_f = rows as f64;
    let y_mean = (start..n).map(|t| d[t]).sum::<f64>() / rows_f;
    let x_mean: Vec<f64> = (1..=p)
        .map(|l| (start..n).map(|t| d[t - l]).sum::<f64>() / rows_f)
        .collect();
    let mut g = vec![0.0; p * p];
    let mut b = vec![0.0; p];
    let mut x = vec![0.0; p];
    let mut level = 0.0;
    for t in start..n {
        for (l, xl) in x.iter_mut().enumerate() {
            *xl = d[t - l - 1] - x_mean[l];
        }
        let yt = d[t] - y_mean;
        level += d[t] * d[t];
        for a in 0..p {
            b[a] += x[a] * yt;
            for c in 0..p {
                g[a * p + c] += x[a] * x[c];
            }
        }
    }
    let trace: f64 = (0..p).map(|a| g[a * p + a]).sum();
    // Lags that do not vary (to rounding, relative to the series' own size) carry nothing:
    // a flat deseasonalised series forecasts its mean.
    let lags = if trace <= 1e-20 * level * p as f64 {
        vec![0.0; p]
    } else {
        for a in 0..p {
            g[a * p + a] += 1e-6 * trace / p as f64;
        }
        let Some(lags) = cholesky_solve(&g, &b, p) else {
            return seasonal_naive(y, m, horizon, z);
        };
        lags
    };
    let intercept = y_mean
        - lags
            .iter()
            .zip(&x_mean)
            .map(|(a, mean)| a * mean)
            .sum::<f64>();
    let coef: Vec<f64> = std::iter::once(intercept).chain(lags).collect();
    let mut sse = 0.0;
    for t in start..n {
        let pred = coef[0] + (1..=p).map(|l| coef[l] * d[t - l]).sum::<f64>();
        sse += (d[t] - pred).powi(2);
    }
    let sigma = (sse / (rows - dim).max(1) as f64).sqrt();
    let recent = &y[n.saturating_sub(m.max(24) * 4)..];
    let mut sorted = recent.to_vec();
    let lo = quantile(&mut sorted, 0.0).unwrap_or(0.0);
    let hi = quantile(&mut sorted, 1.0).unwrap_or(0.0);
    let pad = 0.5 * (hi - lo);
    let mut path = d.clone();
    let mut yhat = Vec::with_capacity(horizon);
    for h in 0..horizon {
        let t = n + h;
        let next = coef[0] + (1..=p).map(|l| coef[l] * path[t - l]).sum::<f64>();
        path.push(next);
        let v = (next + prof[phase(t)]).clamp(lo - pad, hi + pad);
        yhat.push(v);
    }
    // psi-weights: psi_0 = 1, psi_j = sum_l a_l psi_{j-l}.
    let mut psi = vec![1.0];
    let mut sd = Vec::with_capacity(horizon);
    let mut acc = 0.0;
    for h in 0..horizon {
        if h > 0 {
            let v = (1..=p.min(h)).map(|l| coef[l] * psi[h - l]).sum::<f64>();
            psi.push(v);
        }
        acc += psi[h] * psi[h];
        sd.push(sigma * acc.sqrt());
    }
    rows_with_sd(&yhat, &sd, z)
}

/// Forecast with a fast model; `ModelKind::Auto` here is the combination: the median of lag
/// regression, seasonal naive with drift and (sub-daily steps with two weeks of history)
/// weekly seasonal naive, the mean of the first two otherwise.
///
/// The models are fitted to the series divided by the power of two nearest below its largest
/// magnitude (so its values lie within `(-2, 2)`) and scaled back; multiplying by a power of
/// two is exact, so a series of exact values keeps them. Unscaled, sums of squares underflowed
/// below about 1e-154 (zero-width intervals) and overflowed above 1e154. A forecast in
/// gigabytes is the forecast in bytes divided by 2^30, from 1e-300 to 1e300.
pub(crate) fn forecast(
    kind: ModelKind,
    y: &[f64],
    m: usize,
    horizon: usize,
    z: f64,
) -> Vec<RawRow> {
    let top = y.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    if !(top > 0.0 && top.is_finite()) {
        return forecast_in_scale(kind, y, m, horizon, z);
    }
    // 2^e <= top < 2^(e+1); kept where 2^-e is a normal number (a series below 2^-1000 is
    // scaled by 2^1000, enough to keep its squares from underflowing).
    let e = (top.log2().floor() as i32).clamp(-1000, 1000);
    let (down, up) = (2f64.powi(-e), 2f64.powi(e));
    let x: Vec<f64> = y.iter().map(|v| v * down).collect();
    forecast_in_scale(kind, &x, m, horizon, z)
        .into_iter()
        .map(|r| RawRow {
            yhat: r.yhat * up,
            lower: r.lower * up,
            upper: r.upper * up,
        })
        .collect()
}

/// [`forecast`] on a series already in its own scale.
fn forecast_in_scale(kind: ModelKind, y: &[f64], m: usize, horizon: usize, z: f64) -> Vec<RawRow> {
    match kind {
        ModelKind::SeasonalNaive => seasonal_naive(y, m, horizon, z),
        ModelKind::LagRegression => lag_regression(y, m, horizon, z),
        ModelKind::Auto => {
            let mut members = vec![
                lag_regression(y, m, horizon, z),
                seasonal_naive_drift(y, m, horizon, z),
            ];
            // Sub-daily steps with two whole weeks: the weekly cycle as a third member.
            if m >= 2 && y.len() >= 14 * m {
                members.push(seasonal_naive(y, 7 * m, horizon, z));
            }
            combine(&members)
        }
        _ => linear(y, horizon, z),
    }
}

/// Robust combination: the median of the members' values and of their bounds (the mean
/// for two members).
fn combine(members: &[Vec<RawRow>]) -> Vec<RawRow> {
    let h = members[0].len();
    let mut buf = Vec::with_capacity(members.len());
    let mut pick = |f: &dyn Fn(&RawRow) -> f64, i: usize| {
        buf.clear();
        buf.extend(members.iter().map(|m| f(&m[i])));
        median(&mut buf).unwrap_or(0.0)
    };
    (0..h)
        .map(|i| RawRow {
            yhat: pick(&|r| r.yhat, i),
            lower: pick(&|r| r.lower, i),
            upper: pick(&|r| r.upper, i),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn very_large_series_forecast_finite_values() {
        // A month of hourly values near 1e160 with a daily cycle: sums of squares overflow at
        // about 1e154, which made every fast model's interval infinite.
        let mut seed = 7u64;
        let y: Vec<f64> = (0..720)
            .map(|i| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let noise = (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                1e160 * (2.0 + (f64::from(i) * std::f64::consts::TAU / 24.0).sin() + noise)
            })
            .collect();
        for kind in [
            ModelKind::Auto,
            ModelKind::SeasonalNaive,
            ModelKind::LagRegression,
            ModelKind::Linear,
        ] {
            let rows = forecast(kind, &y, 24, 48, 1.96);
            assert!(
                rows.iter()
                    .all(|r| r.yhat.is_finite() && r.lower.is_finite() && r.upper.is_finite()),
                "{kind:?}"
            );
            // Same forecast as the series in its own units, scaled.
            let unit: Vec<f64> = y.iter().map(|v| v / 1e160).collect();
            let small = forecast(kind, &unit, 24, 48, 1.96);
            for (a, b) in rows.iter().zip(&small) {
                let rel = (a.yhat / 1e160 - b.yhat).abs() / b.yhat.abs().max(1.0);
                assert!(
                    rel < 1e-6,
                    "{kind:?}: {} vs {} ({rel})",
                    a.yhat / 1e160,
                    b.yhat
                );
            }
        }
    }

    /// 240 hourly points: a level of 50, a daily cycle, a slow rise and noise.
    fn noisy_hourly() -> Vec<f64> {
        let mut seed = 11u64;
        (0..240)
            .map(|i| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let noise = (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                let t = f64::from(i);
                50.0 + 0.02 * t + 8.0 * (t * std::f64::consts::TAU / 24.0).sin() + 3.0 * noise
            })
            .collect()
    }

    #[test]
    fn forecasts_and_intervals_scale_with_the_series() {
        // The same series in other units forecasts the same, in those units: the lag
        // regression's ridge mixed its unit-less intercept with squared values (1e-3 off at
        // 1e-2, 0.11 at 1e-6), and at 1e-200 squares underflowed to zero-width intervals.
        let y = noisy_hourly();
        for kind in [
            ModelKind::Auto,
            ModelKind::LagRegression,
            ModelKind::SeasonalNaive,
            ModelKind::Linear,
        ] {
            let base = forecast(kind, &y, 24, 48, 1.96);
            assert!(base.iter().all(|r| r.upper - r.lower > 1.0), "{kind:?}");
            for unit in [
                1e-200, 1e-160, 1e-100, 1e-6, 1e-4, 1e-2, 0.3, 7.0, 1e2, 1e100, 1e160, 1e200,
            ] {
                let scaled: Vec<f64> = y.iter().map(|v| v * unit).collect();
                let rows = forecast(kind, &scaled, 24, 48, 1.96);
                for (h, (a, b)) in rows.iter().zip(&base).enumerate() {
                    for (x, want) in [(a.yhat, b.yhat), (a.lower, b.lower), (a.upper, b.upper)] {
                        let got = x / unit;
                        assert!(
                            (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                            "{kind:?} unit {unit:e} step {}: {got} vs {want}",
                            h + 1
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn auto_follows_a_trend_instead_of_lagging_a_cycle() {
        // A line rising 0.5 a step, alone and with a daily cycle. Seasonal naive alone repeats
        // the last cycle, a cycle's rise (12) behind; with the drift the combination stays
        // within 0.2 on the line (lag regression drifts by 0.25 at step 48) and 1 on the cycle.
        let line = |t: f64| 50.0 + 0.5 * t;
        let cycle = |t: f64| line(t) + 10.0 * (2.0 * std::f64::consts::PI * t / 24.0).sin();
        for (f, tol) in [(&line as &dyn Fn(f64) -> f64, 0.2), (&cycle, 1.0)] {
            let y: Vec<f64> = (0..200).map(|i| f(f64::from(i))).collect();
            let rows = forecast(ModelKind::Auto, &y, 24, 48, 1.96);
            for (h, r) in rows.iter().enumerate() {
                let truth = f((200 + h) as f64);
                assert!(
                    (r.yhat - truth).abs() < tol,
                    "step {}: {} vs {truth}",
                    h + 1,
                    r.yhat
                );
            }
            let sn = seasonal_naive(&y, 24, 1, 1.96);
            assert!((f(200.0) - sn[0].yhat - 12.0).abs() < 1e-9);
        }
    }

    #[test]
    fn normal_quantile_matches_tables() {
        assert!((normal_quantile(0.975) - 1.959_963_985).abs() < 1e-8);
        assert!((normal_quantile(0.9) - 1.281_551_566).abs() < 1e-8);
        assert!(normal_quantile(0.5).abs() < 1e-12);
        assert!((normal_quantile(0.001) + 3.090_232_306).abs() < 1e-8);
    }

    #[test]
    fn season_lengths() {
        assert_eq!(season_length(3600.0), 24);
        assert_eq!(season_length(300.0), 288);
        assert_eq!(season_length(86_400.0), 7);
        assert_eq!(season_length(7.0 * 86_400.0), 1);
        assert_eq!(season_length(0.0), 1);
    }

    #[test]
    fn linear_recovers_a_line_despite_an_outlier() {
        let mut y: Vec<f64> = (0..50).map(|i| 2.0 + 0.5 * f64::from(i)).collect();
        y[10] = 1000.0;
        let f = linear(&y, 3, 1.96);
        // Hand: x = 50 -> 2 + 25 = 27.
        assert!((f[0].yhat - 27.0).abs() < 1e-9, "{:?}", f[0]);
        assert!((f[2].yhat - 28.0).abs() < 1e-9);
        assert!(f[0].lower <= f[0].yhat && f[0].upper >= f[0].yhat);
    }

    #[test]
    fn constant_series_is_flat_with_zero_width() {
        let y = vec![5.0; 30];
        for kind in [
            ModelKind::Linear,
            ModelKind::SeasonalNaive,
            ModelKind::LagRegression,
            ModelKind::Auto,
        ] {
            let f = forecast(kind, &y, 7, 10, 1.96);
            for r in &f {
                assert!((r.yhat - 5.0).abs() < 1e-6, "{kind:?} {r:?}");
                assert!(r.lower.is_finite() && r.upper.is_finite());
                assert!((r.upper - r.lower).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn seasonal_naive_repeats_the_last_cycle() {
        let y: Vec<f64> = (0..21).map(|i| f64::from(i % 7)).collect();
        let f = seasonal_naive(&y, 7, 9, 1.96);
        let got: Vec<f64> = f.iter().map(|r| r.yhat).collect();
        assert_eq!(got, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.0, 1.0]);
    }

    #[test]
    fn lag_regression_follows_a_seasonal_pattern() {
        let y: Vec<f64> = (0..24 * 20)
            .map(|i| 10.0 + 3.0 * (2.0 * std::f64::consts::PI * f64::from(i) / 24.0).sin())
            .collect();
        let f = lag_regression(&y, 24, 48, 1.96);
        for (h, r) in f.iter().enumerate() {
            let t = (24 * 20 + h) as f64;
            let truth = 10.0 + 3.0 * (2.0 * std::f64::consts::PI * t / 24.0).sin();
            assert!((r.yhat - truth).abs() < 0.05, "h={h} {} vs {truth}", r.yhat);
        }
    }

    #[test]
    fn auto_rule() {
        assert_eq!(auto_choice(5, 24), ModelKind::Linear);
        assert_eq!(auto_choice(48, 24), ModelKind::SeasonalNaive);
        assert_eq!(auto_choice(100, 24), ModelKind::Auto);
        assert_eq!(auto_choice(1000, 1), ModelKind::Linear);
    }
}
