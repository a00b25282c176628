//! Best-of-N wall-clock timing of Isolation Forest fit + score, one thread, for a side-by-side
//! run with `scripts/anomaly_iforest_bench.py` (same settings, same data shape).
//!
//! `cargo run --release -p aiops-anomaly --example iforest_timing -- [ROWS] [RUNS] [--kernel K]`
//!
//! `--kernel auto|portable|avx2|avx512` (default `auto`, what `score` runs) times scoring with
//! that compiled kernel through `FittedIsolationForest::score_with`; a kernel this CPU lacks
//! falls back to the best available one, and the line printed names the kernel that ran. With
//! a kernel given, `fit` is timed as the same work `fit` does (grow the trees, score the training
//! data, take the contamination quantile) with the scoring done by that kernel.

use std::time::Instant;

use aiops_anomaly::{Contamination, FittedIsolationForest, IsolationForest, ScoreKernel};

fn main() {
    let mut positional = Vec::new();
    let mut kernel = ScoreKernel::Auto;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--kernel" {
            let name = args.next().unwrap_or_default();
            kernel = match name.parse() {
                Ok(k) => k,
                Err(e) => {
                    eprintln!("iforest_timing: {e}");
                    std::process::exit(2);
                }
            };
        } else if let Some(name) = a.strip_prefix("--kernel=") {
            kernel = name.parse().unwrap_or_else(|e| {
                eprintln!("iforest_timing: {e}");
                std::process::exit(2);
            });
        } else {
            positional.push(a);
        }
    }
    let n: usize = positional
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let runs: usize = positional.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let ran = kernel.resolve();
    // Standard normal rows (xorshift + Box-Muller), the last 1% shifted by 4, as the Python script.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut x = Vec::with_capacity(n * 4);
    for i in 0..n {
        let shift = if i >= n - n / 100 { 4.0 } else { 0.0 };
        for _ in 0..4 {
            let (u, v) = (uniform(), uniform());
            x.push((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos() + shift);
        }
    }
    let best = |f: &mut dyn FnMut()| {
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let params = IsolationForest::new();
    let trees_params = params.clone().contamination(Contamination::Auto);
    // `fit` (contamination 0.1): trees, then the training scores' 10% quantile for the offset.
    // For `auto` that is `fit` itself; otherwise the same steps with the chosen kernel.
    let fit_with = |x: &[f64]| -> FittedIsolationForest {
        if kernel == ScoreKernel::Auto {
            return params.fit(x, 4).unwrap();
        }
        let m = trees_params.fit(x, 4).unwrap();
        let (mut s, _) = m.score_with(kernel, x).unwrap();
        for v in &mut s {
            *v = -*v;
        }
        assert!(aiops_core::stats::quantile(&mut s, 0.1).is_some());
        m
    };
    let fit = best(&mut || {
        fit_with(&x);
    });
    let trees_only = best(&mut || {
        trees_params.fit(&x, 4).unwrap();
    });
    let model = fit_with(&x);
    let score = best(&mut || {
        model.score_with(kernel, &x).unwrap();
    });
    let both = best(&mut || {
        let m = fit_with(&x);
        m.score_with(kernel, &x).unwrap();
    });
    println!(
        "aiops-anomaly n={n} x 4 kernel {ran} (asked {kernel}): fit {fit:.3} s (trees only {trees_only:.3} s), score {score:.3} s, fit+score {both:.3} s"
    );
    assert!(both > 0.0);
}
