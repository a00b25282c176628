//! aiops-anomaly benchmarks: Isolation Forest fit + score (100k x 4, and 1M x 4 in its own
//! group), and streaming detectors' throughput in points per second.
//!
//! `cargo bench --bench anomaly` (quick check: `cargo bench --bench anomaly -- --test`).
//! sklearn's side of the comparison: `python3 scripts/anomaly_iforest_bench.py`.

#![allow(missing_docs)] // `criterion_group!` generates an undocumented function.

use std::hint::black_box;

use aiops::anomaly::{
    ChangeDetector, EnsembleDetector, IsolationForest, RobustDetector, SeasonalDetector,
};
use aiops::core::Timestamp;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// A small xorshift generator of uniforms in (0, 1), so the bench needs no extra dependency.
struct Uniform(u64);

impl Uniform {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

/// Standard normal 4-column rows, the last 1% shifted by 4 (the sklearn script builds the same
/// shape of data with numpy).
fn data(n: usize) -> Vec<f64> {
    let mut rng = Uniform(0x9E37_79B9_7F4A_7C15);
    let mut x = Vec::with_capacity(n * 4);
    for i in 0..n {
        let shift = if i >= n - n / 100 { 4.0 } else { 0.0 };
        for _ in 0..4 {
            // Box-Muller, enough for a benchmark input.
            let (u, v) = (rng.next(), rng.next());
            x.push((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos() + shift);
        }
    }
    x
}

fn iforest(c: &mut Criterion, n: usize, group: &str) {
    let x = data(n);
    let params = IsolationForest::new();
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("fit_score", n), |b| {
        b.iter(|| {
            let m = params.fit(black_box(&x), 4).unwrap();
            black_box(m.score(&x).unwrap())
        });
    });
    g.bench_function(BenchmarkId::new("fit", n), |b| {
        b.iter(|| black_box(params.fit(black_box(&x), 4).unwrap()));
    });
    let m = params.fit(&x, 4).unwrap();
    g.bench_function(BenchmarkId::new("score", n), |b| {
        b.iter(|| black_box(m.score(black_box(&x)).unwrap()));
    });
    g.finish();
}

fn iforest_100k(c: &mut Criterion) {
    iforest(c, 100_000, "iforest_100k_x4");
}

/// 1M x 4: skipped unless `AIOPS_BENCH_LARGE=1`, so `-- --test` stays quick.
fn iforest_1m(c: &mut Criterion) {
    if std::env::var("AIOPS_BENCH_LARGE").is_ok_and(|v| v == "1") {
        iforest(c, 1_000_000, "iforest_1m_x4");
    }
}

fn series(n: usize) -> (Vec<Timestamp>, Vec<f64>) {
    let mut rng = Uniform(0x2545_F491_4F6C_DD1D);
    let ts = (0..n)
        .map(|i| Timestamp::from_secs(300 * i as i64))
        .collect();
    let v = (0..n)
        .map(|i| 100.0 + 20.0 * (i as f64 * std::f64::consts::TAU / 288.0).sin() + rng.next() * 4.0)
        .collect();
    (ts, v)
}

fn streaming(c: &mut Criterion) {
    const N: usize = 100_000;
    let (ts, v) = series(N);
    let mut g = c.benchmark_group("streaming");
    g.throughput(Throughput::Elements(N as u64));
    let robust = RobustDetector::default();
    g.bench_function("robust", |b| {
        b.iter(|| {
            let mut s = robust.state();
            let mut acc = 0.0;
            for (&t, &x) in ts.iter().zip(&v) {
                acc += robust.update_state(&mut s, t, x).unwrap_or(0.0);
            }
            black_box(acc)
        });
    });
    // Many series at once (the production case): eight independent states updated round-robin,
    // so the CPU overlaps their dependency chains.
    g.bench_function("robust_8_series", |b| {
        b.iter(|| {
            let mut states = [robust.state(); 8];
            let mut acc = 0.0;
            for (i, (&t, &x)) in ts.iter().zip(&v).enumerate().step_by(8) {
                for (k, s) in states.iter_mut().enumerate() {
                    let x = v.get(i + k).copied().unwrap_or(x);
                    acc += robust.update_state(s, t, x).unwrap_or(0.0);
                }
            }
            black_box(acc)
        });
    });
    let seasonal = SeasonalDetector::daily();
    g.bench_function("seasonal", |b| {
        b.iter(|| {
            let mut s = seasonal.state();
            let mut acc = 0.0;
            for (&t, &x) in ts.iter().zip(&v) {
                acc += seasonal.update_state(&mut s, t, x).unwrap_or(0.0);
            }
            black_box(acc)
        });
    });
    let change = ChangeDetector::default();
    g.bench_function("change", |b| {
        b.iter(|| {
            let mut s = change.state();
            let mut acc = 0.0;
            for (&t, &x) in ts.iter().zip(&v) {
                acc += change.update_state(&mut s, t, x).unwrap_or(0.0);
            }
            black_box(acc)
        });
    });
    let ens = EnsembleDetector::default();
    g.bench_function("ensemble", |b| {
        b.iter(|| {
            let mut s = ens.state();
            let mut acc = 0.0;
            for (&t, &x) in ts.iter().zip(&v) {
                acc += ens.update_state(&mut s, t, x).unwrap_or(0.0);
            }
            black_box(acc)
        });
    });
    g.finish();
}

criterion_group!(benches, iforest_100k, iforest_1m, streaming);
criterion_main!(benches);
