//! Best-of-N wall-clock timing of Isolation Forest fit + score, one thread, for a side-by-side
//! run with `scripts/anomaly_iforest_bench.py` (same settings, same data shape).
//!
//! `cargo run --release -p aiops-anomaly --example iforest_timing -- [ROWS] [RUNS]`

use std::time::Instant;

use aiops_anomaly::{Contamination, IsolationForest};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
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
    let fit = best(&mut || {
        params.fit(&x, 4).unwrap();
    });
    let trees_only = best(&mut || {
        params
            .clone()
            .contamination(Contamination::Auto)
            .fit(&x, 4)
            .unwrap();
    });
    let model = params.fit(&x, 4).unwrap();
    let score = best(&mut || {
        model.score(&x).unwrap();
    });
    let both = best(&mut || {
        let m = params.fit(&x, 4).unwrap();
        m.score(&x).unwrap();
    });
    println!(
        "aiops-anomaly n={n} x 4: fit {fit:.3} s (trees only {trees_only:.3} s), score {score:.3} s, fit+score {both:.3} s"
    );
    assert!(both > 0.0);
}
