//! A pure-Rust maximum a posteriori optimizer for Prophet's Stan model.
//!
//! [`MapOptimizer`] implements augurs-prophet's [`Optimizer`] trait, so a Prophet model needs
//! neither cmdstan nor a wasm runtime. It minimises the negative log posterior of Prophet's
//! Stan program (`prophet.stan`), divided by the number of points, over
//! `(k, m, delta, log sigma_obs, beta)` with analytic gradients:
//!
//! - `k ~ normal(0, 5)`, `m ~ normal(0, 5)`, `delta ~ double_exponential(0, tau)`,
//!   `sigma_obs ~ normal(0, 0.5)` (half-normal, as `sigma_obs` is positive),
//!   `beta ~ normal(0, sigmas)`;
//! - `y ~ normal(trend .* (1 + X_sm beta) + X_sa beta, sigma_obs)` with a linear, logistic or
//!   flat trend.
//!
//! For a linear or flat trend with additive features only (Prophet's default) the mean is
//! linear in `(k, m, delta, beta)`, so the Gram matrix `W'W` of the design is computed once and
//! each evaluation costs `O(p^2)` for `p` parameters instead of `O(n p)`.
//!
//! The search is L-BFGS with a bounded backtracking line search and caps on iterations and
//! evaluations; when it fails (no finite start, no progress) the optimizer falls back to a
//! damped Newton method, as Prophet falls back from L-BFGS to Newton. Prophet asks for Newton
//! itself when a series has fewer than 100 points.

// Index loops over several parallel arrays read more clearly than zipped iterators here.
#![allow(clippy::needless_range_loop)]

use augurs_prophet::PositiveFloat;
use augurs_prophet::optimizer::{
    Algorithm, Data, Error as OptError, InitialParams, OptimizeOpts, OptimizedParams, Optimizer,
    TrendIndicator,
};

/// Evaluation counters and the outcome of the last fit, for diagnostics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FitStats {
    /// Iterations taken by the algorithm that produced the result.
    pub iterations: u32,
    /// Objective evaluations over the whole fit.
    pub evaluations: u32,
    /// Whether the Newton fallback produced the result.
    pub used_newton: bool,
}

/// Prophet's MAP objective minimised in pure Rust: an implementation of augurs-prophet's
/// `Optimizer` trait that needs no cmdstan and no wasm runtime.
///
/// It minimises the negative log posterior of Prophet's Stan program divided by the number of
/// points (`k, m ~ N(0, 5)`, `delta ~ Laplace(0, tau)`, `sigma_obs ~ N+(0, 0.5)`,
/// `beta ~ N(0, sigmas)`, Gaussian likelihood around a linear, logistic or flat trend with
/// additive and multiplicative features) over `(k, m, delta, log sigma_obs, beta)` with
/// analytic gradients. For a linear or flat trend with additive features the design's Gram
/// matrix is computed once, so an evaluation costs O(p²) instead of O(n p). L-BFGS with a
/// bounded backtracking line search and caps on iterations and evaluations; damped Newton when
/// L-BFGS cannot step, or when asked (`Algorithm::Newton`, which Prophet uses below 100
/// points). Feature columns are optimised in a canonical order, so the result does not depend
/// on the (`HashMap`) order augurs-prophet builds them in.
///
/// ```
/// use aiops_forecast::MapOptimizer;
/// let opt = MapOptimizer::new().with_max_iterations(500);
/// assert_eq!(opt.max_iterations(), 500);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapOptimizer {
    max_iterations: u32,
    max_evaluations: u32,
    history: usize,
}

impl Default for MapOptimizer {
    fn default() -> Self {
        Self::new()
    }
}

impl MapOptimizer {
    /// Defaults: at most 10,000 iterations (Prophet's `iter`), 20,000 evaluations, L-BFGS
    /// history 5 (Stan's default).
    pub const fn new() -> Self {
        MapOptimizer {
            max_iterations: 10_000,
            max_evaluations: 20_000,
            history: 5,
        }
    }

    /// Caps the iterations of each algorithm (at least 1).
    #[must_use]
    pub fn with_max_iterations(mut self, iterations: u32) -> Self {
        self.max_iterations = iterations.max(1);
        self
    }

    /// Caps the objective evaluations of the whole fit (at least 10).
    #[must_use]
    pub fn with_max_evaluations(mut self, evaluations: u32) -> Self {
        self.max_evaluations = evaluations.max(10);
        self
    }

    /// The iteration cap.
    pub fn max_iterations(&self) -> u32 {
        self.max_iterations
    }

    /// Runs the fit and also returns its statistics.
    pub fn optimize_with_stats(
        &self,
        init: &InitialParams,
        data: &Data,
        opts: &OptimizeOpts,
    ) -> Result<(OptimizedParams, FitStats), OptError> {
        // augurs-prophet orders the feature columns by HashMap iteration, which changes from
        // run to run; optimise in a canonical order (by column content) so the fit is
        // bit-for-bit reproducible, and map beta back at the end.
        let (canonical, order) = canonical_columns(data)?;
        let init = InitialParams {
            beta: order
                .iter()
                .map(|&j| init.beta.get(j).copied().unwrap_or(0.0))
                .collect(),
            ..init.clone()
        };
        let init = &init;
        let data = &canonical;
        let objective = Objective::new(data, opts.jacobian.unwrap_or(false))?;
        let x0 = objective.pack(init);
        let max_iter = opts
            .iter
            .map_or(self.max_iterations, |i| i.min(self.max_iterations));
        let history = opts
            .history_size
            .map_or(self.history, |h| (h as usize).clamp(1, 50));
        let mut budget = Budget {
            left: self.max_evaluations,
            used: 0,
        };
        let newton_first = opts.algorithm == Some(Algorithm::Newton);
        let mut stats = FitStats::default();
        let result = if newton_first {
            None
        } else {
            lbfgs(&objective, &x0, max_iter, history, &mut budget)
        };
        let x = if let Some((x, iters)) = result {
            stats.iterations = iters;
            x
        } else {
            stats.used_newton = true;
            let (x, iters) =
                newton(&objective, &x0, max_iter.min(200), &mut budget).ok_or_else(|| {
                    OptError::static_str("neither L-BFGS nor Newton found a finite optimum")
                })?;
            stats.iterations = iters;
            x
        };
        stats.evaluations = budget.used;
        let mut params = objective.unpack(&x);
        let mut beta = vec![0.0; params.beta.len()];
        for (c, &j) in order.iter().enumerate() {
            beta[j] = params.beta[c];
        }
        params.beta = beta;
        Ok((params, stats))
    }
}

impl Optimizer for MapOptimizer {
    fn optimize(
        &self,
        init: &InitialParams,
        data: &Data,
        opts: &OptimizeOpts,
    ) -> Result<OptimizedParams, OptError> {
        self.optimize_with_stats(init, data, opts).map(|(p, _)| p)
    }
}

/// A copy of `data` with its feature columns sorted by content, and `order[c]` = the original
/// index of canonical column `c`.
fn canonical_columns(data: &Data) -> Result<(Data, Vec<usize>), OptError> {
    let k = data.sigmas.len();
    let n = data.y.len();
    if data.X.len() != n * k || data.s_a.len() != k || data.s_m.len() != k {
        return Err(OptError::string(format!(
            "design has {} cells for {n} rows and {k} features",
            data.X.len()
        )));
    }
    let key = |j: usize| {
        // FNV-1a over the column's bits, the mode and the prior scale.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |v: u64| {
            h ^= v;
            h = h.wrapping_mul(0x0100_0000_01b3);
        };
        for i in 0..n {
            eat(data.X[i * k + j].to_bits());
        }
        (data.s_a[j], data.s_m[j], data.sigmas[j].to_bits(), h)
    };
    let keys: Vec<_> = (0..k).map(key).collect();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by_key(|&j| keys[j]);
    let mut out = data.clone();
    for i in 0..n {
        for (c, &j) in order.iter().enumerate() {
            out.X[i * k + c] = data.X[i * k + j];
        }
    }
    for (c, &j) in order.iter().enumerate() {
        out.s_a[c] = data.s_a[j];
        out.s_m[c] = data.s_m[j];
        out.sigmas[c] = data.sigmas[j];
    }
    Ok((out, order))
}

struct Budget {
    left: u32,
    used: u32,
}

impl Budget {
    fn take(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        self.used += 1;
        true
    }
}

/// The scaled negative log posterior: `f(x) = -log p(x | y) / n`.
///
/// Parameter layout: `[k, m, delta (S), log sigma_obs, beta (K)]`.
pub(crate) struct Objective<'a> {
    data: &'a Data,
    n: usize,
    s: usize,
    k: usize,
    jacobian: bool,
    /// Changepoint index per row: the number of changepoints `<= t[i]`.
    n_active: Vec<usize>,
    gram: Option<Gram>,
}

/// `W'W`, `W'y` and `y'y` for the linear-in-parameters case, with
/// `W = [t, 1, (t - c_j)_+, X_sa]`, theta = `[k, m, delta, beta]`.
struct Gram {
    g: Vec<f64>,
    b: Vec<f64>,
    yy: f64,
    p: usize,
}

const PRIOR_SD_KM: f64 = 5.0;
const PRIOR_SD_SIGMA: f64 = 0.5;

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl<'a> Objective<'a> {
    pub(crate) fn new(data: &'a Data, jacobian: bool) -> Result<Self, OptError> {
        let n = data.y.len();
        let s = data.t_change.len();
        let k = data.sigmas.len();
        if n == 0 || data.t.len() != n {
            return Err(OptError::string(format!(
                "data has {} values and {} times",
                n,
                data.t.len()
            )));
        }
        if data.X.len() != n * k || data.s_a.len() != k || data.s_m.len() != k {
            return Err(OptError::string(format!(
                "design has {} cells for {n} rows and {k} features",
                data.X.len()
            )));
        }
        if data.trend_indicator == TrendIndicator::Logistic && data.cap.len() != n {
            return Err(OptError::static_str("logistic trend needs one cap per row"));
        }
        let mut n_active = Vec::with_capacity(n);
        let mut idx = 0;
        for &ti in &data.t {
            while idx < s && ti >= data.t_change[idx] {
                idx += 1;
            }
            n_active.push(idx);
        }
        let mut obj = Objective {
            data,
            n,
            s,
            k,
            jacobian,
            n_active,
            gram: None,
        };
        let additive_only = data.s_m.iter().all(|&v| v == 0);
        if additive_only && data.trend_indicator != TrendIndicator::Logistic {
            obj.gram = Some(obj.build_gram());
        }
        Ok(obj)
    }

    fn dim(&self) -> usize {
        self.s + self.k + 3
    }

    fn pack(&self, init: &InitialParams) -> Vec<f64> {
        let mut x = Vec::with_capacity(self.dim());
        x.push(init.k);
        x.push(init.m);
        x.extend((0..self.s).map(|j| init.delta.get(j).copied().unwrap_or(0.0)));
        x.push((*init.sigma_obs).max(1e-10).ln());
        x.extend((0..self.k).map(|j| init.beta.get(j).copied().unwrap_or(0.0)));
        x
    }

    fn unpack(&self, x: &[f64]) -> OptimizedParams {
        let s = self.s;
        let sigma = x[2 + s].exp().max(f64::MIN_POSITIVE);
        OptimizedParams {
            k: x[0],
            m: x[1],
            delta: x[2..2 + s].to_vec(),
            // exp() of a finite value is positive; the fallback never triggers.
            sigma_obs: PositiveFloat::try_new(sigma).unwrap_or(PositiveFloat::one()),
            beta: x[3 + s..].to_vec(),
            trend: self.trend(x),
        }
    }

    /// Design row `i` of the linear case: `[t, 1, (t - c_j)_+ ..., X_sa ...]` (flat: zeros for
    /// the trend-slope columns); the reference the suffix-sum Gram build is tested against.
    #[cfg(test)]
    fn gram_row(&self, i: usize, row: &mut [f64]) {
        let d = self.data;
        let linear = d.trend_indicator == TrendIndicator::Linear;
        let t = d.t[i];
        row[0] = if linear { t } else { 0.0 };
        row[1] = 1.0;
        for j in 0..self.s {
            row[2 + j] = if linear && j < self.n_active[i] {
                t - d.t_change[j]
            } else {
                0.0
            };
        }
        let xr = &d.X[i * self.k..(i + 1) * self.k];
        for j in 0..self.k {
            row[2 + self.s + j] = xr[j] * f64::from(d.s_a[j]);
        }
    }

    /// `W'W`, `W'y`, `y'y`. The trend columns `t`, `1`, `(t - c_j)_+` come from suffix sums
    /// at the changepoints in O(n (K + 1) + (S + K)^2); only the feature block needs dot
    /// products, done in row blocks of 128 held column-major.
    fn build_gram(&self) -> Gram {
        const BLOCK: usize = 128;
        let d = self.data;
        let (n, s, k) = (self.n, self.s, self.k);
        let p = 2 + s + k;
        let linear = d.trend_indicator == TrendIndicator::Linear;
        let mut g = vec![0.0; p * p];
        let mut b = vec![0.0; p];
        // First row of each changepoint's hinge (rows are sorted by t).
        let mut first = vec![n; s];
        for i in (0..n).rev() {
            for f in first.iter_mut().take(self.n_active[i]) {
                *f = i;
            }
        }
        let xa = |i: usize, j: usize| d.X[i * k + j] * f64::from(d.s_a[j]);
        // Suffix sums from each changepoint's first row (index s = the whole series start).
        // cols: 1, t, t^2, y, t*y, then x_j and t*x_j per feature.
        let width = 5 + 2 * k;
        let mut suffix = vec![0.0; (s + 1) * width];
        {
            let mut acc = vec![0.0; width];
            let mut boundary = s; // changepoints not yet passed, walking backwards
            // Changepoints after the last row keep empty suffixes.
            while boundary > 0 && first[boundary - 1] == n {
                boundary -= 1;
            }
            let mut i = n;
            // Walk rows backwards, snapshotting at each changepoint's first row.
            while i > 0 {
                i -= 1;
                let t = d.t[i];
                let y = d.y[i];
                acc[0] += 1.0;
                acc[1] += t;
                acc[2] += t * t;
                acc[3] += y;
                acc[4] += t * y;
                for j in 0..k {
                    let x = xa(i, j);
                    acc[5 + 2 * j] += x;
                    acc[6 + 2 * j] += t * x;
                }
                while boundary > 0 && first[boundary - 1] == i {
                    boundary -= 1;
                    suffix[boundary * width..(boundary + 1) * width].copy_from_slice(&acc);
                }
            }
            // The whole series goes in slot s.
            suffix[s * width..(s + 1) * width].copy_from_slice(&acc);
        }
        let at = |slot: usize, col: usize| suffix[slot * width + col];
        let all = s;
        // Trend columns: 0 = t, 1 = 1, 2 + j = hinge j.
        let (tt, t1, nn) = (at(all, 2), at(all, 1), at(all, 0));
        g[0] = if linear { tt } else { 0.0 };
        g[1] = if linear { t1 } else { 0.0 };
        g[p + 1] = nn;
        b[0] = if linear { at(all, 4) } else { 0.0 };
        b[1] = at(all, 3);
        if linear {
            for j in 0..s {
                let c = d.t_change[j];
                let (nj, tj, qj) = (at(j, 0), at(j, 1), at(j, 2));
                g[2 + j] = qj - c * tj;
                g[p + 2 + j] = tj - c * nj;
                b[2 + j] = at(j, 4) - c * at(j, 3);
                for l in j..s {
                    let cl = d.t_change[l];
                    let (nl, tl, ql) = (at(l, 0), at(l, 1), at(l, 2));
                    g[(2 + j) * p + 2 + l] = ql - (c + cl) * tl + c * cl * nl;
                }
            }
        }
        let f0 = 2 + s;
        for j in 0..k {
            let (sx, stx) = (at(all, 5 + 2 * j), at(all, 6 + 2 * j));
            g[f0 + j] = if linear { stx } else { 0.0 };
            g[p + f0 + j] = sx;
            if linear {
                for h in 0..s {
                    let c = d.t_change[h];
                    g[(2 + h) * p + f0 + j] = at(h, 6 + 2 * j) - c * at(h, 5 + 2 * j);
                }
            }
        }
        // Feature block and W'y for the features.
        let mut yy = 0.0;
        let mut blk = vec![0.0; k * BLOCK];
        let mut start = 0;
        while start < n {
            let len = BLOCK.min(n - start);
            for r in 0..len {
                for j in 0..k {
                    blk[j * BLOCK + r] = xa(start + r, j);
                }
            }
            let ys = &d.y[start..start + len];
            yy += dot4(ys, ys);
            for a in 0..k {
                let wa = &blk[a * BLOCK..a * BLOCK + len];
                b[f0 + a] += dot4(wa, ys);
                for c in a..k {
                    g[(f0 + a) * p + f0 + c] += dot4(wa, &blk[c * BLOCK..c * BLOCK + len]);
                }
            }
            start += len;
        }
        for a in 0..p {
            for c in 0..a {
                g[a * p + c] = g[c * p + a];
            }
        }
        Gram { g, b, yy, p }
    }

    /// The scaled objective's Hessian on the Gram path (false elsewhere). With `theta` the
    /// linear parameters and `u = log sigma`: `H_tt = G e^-2u + prior`,
    /// `H_tu = -2 (G theta - b) e^-2u`, `H_uu = 2 RSS e^-2u + 8 e^2u` (the last term from the
    /// sigma prior), all divided by n.
    fn gram_hessian(&self, x: &[f64], h: &mut [f64]) -> bool {
        let Some(gram) = &self.gram else {
            return false;
        };
        let (s, dim, p) = (self.s, x.len(), gram.p);
        let idx = |a: usize| if a < 2 + s { a } else { a + 1 };
        let u = x[2 + s];
        let inv_var = (-2.0 * u).exp();
        let th = self.theta(x);
        let inv_n = 1.0 / self.n as f64;
        let mut rss = gram.yy;
        for a in 0..p {
            let row = &gram.g[a * p..(a + 1) * p];
            let gth: f64 = row.iter().zip(&th).map(|(g, t)| g * t).sum();
            rss += th[a] * gth - 2.0 * th[a] * gram.b[a];
            let cross = -2.0 * (gth - gram.b[a]) * inv_var * inv_n;
            h[idx(a) * dim + 2 + s] = cross;
            h[(2 + s) * dim + idx(a)] = cross;
            for c in 0..p {
                h[idx(a) * dim + idx(c)] = row[c] * inv_var * inv_n;
            }
        }
        let var_km = PRIOR_SD_KM * PRIOR_SD_KM;
        h[0] += inv_n / var_km;
        h[dim + 1] += inv_n / var_km;
        for j in 0..self.k {
            let sd = *self.data.sigmas[j];
            let i = 3 + s + j;
            h[i * dim + i] += inv_n / (sd * sd);
        }
        // The Laplace prior's kink: within 1e-5 of 0 give |delta| the curvature a central
        // difference of that width sees, (2 / tau) / 2e-5, so Newton moves a delta off zero
        // only when the data pull harder than the prior (as the finite-difference Newton did).
        let tau = *self.data.tau;
        for j in 0..s {
            if x[2 + j].abs() < 1e-5 {
                h[(2 + j) * dim + 2 + j] += inv_n / (tau * 1e-5);
            }
        }
        let var_s = PRIOR_SD_SIGMA * PRIOR_SD_SIGMA;
        h[(2 + s) * dim + 2 + s] =
            (2.0 * rss.max(0.0) * inv_var + 2.0 * (2.0 * u).exp() / var_s) * inv_n;
        true
    }

    /// theta = [k, m, delta, beta] from x = [k, m, delta, u, beta].
    fn theta(&self, x: &[f64]) -> Vec<f64> {
        let s = self.s;
        let mut th = Vec::with_capacity(x.len() - 1);
        th.extend_from_slice(&x[..2 + s]);
        th.extend_from_slice(&x[3 + s..]);
        th
    }

    /// Scaled trend for every row (the Stan program's transformed parameter).
    pub(crate) fn trend(&self, x: &[f64]) -> Vec<f64> {
        let d = self.data;
        let s = self.s;
        let (k, m, delta) = (x[0], x[1], &x[2..2 + s]);
        match d.trend_indicator {
            TrendIndicator::Flat => vec![m; self.n],
            TrendIndicator::Linear => {
                let (rate, offset) = cumulative_linear(k, m, delta, &d.t_change);
                (0..self.n)
                    .map(|i| {
                        let a = self.n_active[i];
                        rate[a] * d.t[i] + offset[a]
                    })
                    .collect()
            }
            TrendIndicator::Logistic => {
                let (ks, gamma_cum) = logistic_parts(k, m, delta, &d.t_change);
                (0..self.n)
                    .map(|i| {
                        let a = self.n_active[i];
                        d.cap[i] * sigmoid(ks[a] * (d.t[i] - gamma_cum[a]))
                    })
                    .collect()
            }
        }
    }

    /// Prior part of the negative log posterior (unscaled) and its gradient added into `grad`.
    fn prior(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let d = self.data;
        let s = self.s;
        let tau = *d.tau;
        let var_km = PRIOR_SD_KM * PRIOR_SD_KM;
        let mut f = (x[0] * x[0] + x[1] * x[1]) / (2.0 * var_km);
        grad[0] += x[0] / var_km;
        grad[1] += x[1] / var_km;
        for j in 0..s {
            let v = x[2 + j];
            f += v.abs() / tau;
            grad[2 + j] += v.signum() * f64::from(u8::from(v != 0.0)) / tau;
        }
        let u = x[2 + s];
        let sigma2 = (2.0 * u).exp();
        let var_s = PRIOR_SD_SIGMA * PRIOR_SD_SIGMA;
        f += sigma2 / (2.0 * var_s);
        grad[2 + s] += sigma2 / var_s;
        if self.jacobian {
            f -= u;
            grad[2 + s] -= 1.0;
        }
        for j in 0..self.k {
            let sd = *d.sigmas[j];
            let b = x[3 + s + j];
            f += b * b / (2.0 * sd * sd);
            grad[3 + s + j] += b / (sd * sd);
        }
        f
    }

    /// Scaled objective and gradient; `None` when not finite.
    pub(crate) fn eval(&self, x: &[f64], grad: &mut [f64]) -> Option<f64> {
        grad.fill(0.0);
        let s = self.s;
        let n = self.n as f64;
        let u = x[2 + s];
        let inv_var = (-2.0 * u).exp();
        let (rss, mut f) = if let Some(gram) = &self.gram {
            let th = self.theta(x);
            let p = gram.p;
            let mut gth = vec![0.0; p];
            for a in 0..p {
                let row = &gram.g[a * p..(a + 1) * p];
                gth[a] = row.iter().zip(&th).map(|(g, t)| g * t).sum();
            }
            let th_b: f64 = th.iter().zip(&gram.b).map(|(t, b)| t * b).sum();
            let th_g_th: f64 = th.iter().zip(&gth).map(|(t, g)| t * g).sum();
            let rss = (gram.yy - 2.0 * th_b + th_g_th).max(0.0);
            for a in 0..p {
                let ga = (gth[a] - gram.b[a]) * inv_var;
                let idx = if a < 2 + s { a } else { a + 1 };
                grad[idx] += ga;
            }
            (rss, 0.0)
        } else {
            self.general_likelihood(x, inv_var, grad)
        };
        f += n * u + 0.5 * rss * inv_var;
        grad[2 + s] += n - rss * inv_var;
        f += self.prior(x, grad);
        let scale = 1.0 / n;
        for g in grad.iter_mut() {
            *g *= scale;
        }
        let f = f * scale;
        (f.is_finite() && grad.iter().all(|g| g.is_finite())).then_some(f)
    }

    /// O(n p) likelihood for logistic trends or multiplicative features. Adds the gradient of
    /// `0.5 * rss / sigma^2` w.r.t. the trend and beta; returns `(rss, 0)`.
    fn general_likelihood(&self, x: &[f64], inv_var: f64, grad: &mut [f64]) -> (f64, f64) {
        let d = self.data;
        let (s, kk) = (self.s, self.k);
        let beta = &x[3 + s..];
        let trend = self.trend(x);
        let mut rss = 0.0;
        // dF/dtrend_i, where F = 0.5 * rss * inv_var.
        let mut g_trend = vec![0.0; self.n];
        let mut g_beta = vec![0.0; kk];
        for i in 0..self.n {
            let xr = &d.X[i * kk..(i + 1) * kk];
            let mut xa = 0.0;
            let mut xm = 0.0;
            for j in 0..kk {
                let v = xr[j] * beta[j];
                xa += v * f64::from(d.s_a[j]);
                xm += v * f64::from(d.s_m[j]);
            }
            let mu = trend[i] * (1.0 + xm) + xa;
            let r = d.y[i] - mu;
            rss += r * r;
            let w = -r * inv_var;
            g_trend[i] = w * (1.0 + xm);
            let wm = w * trend[i];
            for j in 0..kk {
                g_beta[j] += xr[j] * (w * f64::from(d.s_a[j]) + wm * f64::from(d.s_m[j]));
            }
        }
        for j in 0..kk {
            grad[3 + s + j] += g_beta[j];
        }
        self.trend_backward(x, &trend, &g_trend, grad);
        (rss, 0.0)
    }

    /// Back-propagates `g_trend` (dF/dtrend) into the gradient of `k`, `m`, `delta`.
    fn trend_backward(&self, x: &[f64], trend: &[f64], g_trend: &[f64], grad: &mut [f64]) {
        let d = self.data;
        let s = self.s;
        match d.trend_indicator {
            TrendIndicator::Flat => grad[1] += g_trend.iter().sum::<f64>(),
            TrendIndicator::Linear => {
                for i in 0..self.n {
                    let g = g_trend[i];
                    let t = d.t[i];
                    grad[0] += g * t;
                    grad[1] += g;
                    for j in 0..self.n_active[i] {
                        grad[2 + j] += g * (t - d.t_change[j]);
                    }
                }
            }
            TrendIndicator::Logistic => {
                let (k, m, delta) = (x[0], x[1], &x[2..2 + s]);
                let (ks, gamma_cum) = logistic_parts(k, m, delta, &d.t_change);
                // Adjoints of the per-segment rate ks[a] and offset gamma_cum[a] (= m + sum gamma).
                let mut adj_rate = vec![0.0; s + 1];
                let mut adj_off = vec![0.0; s + 1];
                for i in 0..self.n {
                    let a = self.n_active[i];
                    let cap = d.cap[i];
                    let sg = if cap == 0.0 { 0.0 } else { trend[i] / cap };
                    let dz = g_trend[i] * cap * sg * (1.0 - sg);
                    adj_rate[a] += dz * (d.t[i] - gamma_cum[a]);
                    adj_off[a] -= dz * ks[a];
                }
                // offset[a] = m + sum_{j<a} gamma_j: adjoint of gamma_j = sum_{a>j} adj_off[a].
                let mut adj_gamma = vec![0.0; s];
                let mut acc = 0.0;
                for a in (1..=s).rev() {
                    acc += adj_off[a];
                    adj_gamma[a - 1] = acc;
                }
                let mut adj_m = adj_off.iter().sum::<f64>();
                let mut adj_ks = adj_rate;
                // gamma_j = (c_j - mpr_j) (1 - ks_j / ks_{j+1}); mpr_{j+1} = mpr_j + gamma_j.
                // Walk backwards carrying the adjoint of mpr_{j+1}.
                let mut adj_mpr_next = 0.0;
                let mut mpr = vec![0.0; s + 1];
                mpr[0] = m;
                mpr[1..=s].copy_from_slice(&gamma_cum[1..=s]);
                for j in (0..s).rev() {
                    let a_j = 1.0 - ks[j] / ks[j + 1];
                    let g_total = adj_gamma[j] + adj_mpr_next;
                    let adj_mpr_j = adj_mpr_next + g_total * (-a_j);
                    let adj_a = g_total * (d.t_change[j] - mpr[j]);
                    adj_ks[j] += adj_a * (-1.0 / ks[j + 1]);
                    adj_ks[j + 1] += adj_a * ks[j] / (ks[j + 1] * ks[j + 1]);
                    adj_mpr_next = adj_mpr_j;
                }
                adj_m += adj_mpr_next;
                // ks_{j+1} = ks_j + delta_j.
                for j in (0..s).rev() {
                    grad[2 + j] += adj_ks[j + 1];
                    adj_ks[j] += adj_ks[j + 1];
                }
                grad[0] += adj_ks[0];
                grad[1] += adj_m;
            }
        }
    }
}

/// Per-segment slope and intercept of the piecewise-linear trend.
fn cumulative_linear(k: f64, m: f64, delta: &[f64], t_change: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut rate = Vec::with_capacity(delta.len() + 1);
    let mut offset = Vec::with_capacity(delta.len() + 1);
    rate.push(k);
    offset.push(m);
    for (j, (&dl, &c)) in delta.iter().zip(t_change).enumerate() {
        rate.push(rate[j] + dl);
        offset.push(offset[j] - c * dl);
    }
    (rate, offset)
}

/// Per-segment rate `k_s` and offset `m + sum gamma` of the logistic trend (Stan's
/// `logistic_gamma`).
fn logistic_parts(k: f64, m: f64, delta: &[f64], t_change: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let s = delta.len();
    let mut ks = Vec::with_capacity(s + 1);
    ks.push(k);
    for j in 0..s {
        ks.push(ks[j] + delta[j]);
    }
    let mut off = Vec::with_capacity(s + 1);
    off.push(m);
    for j in 0..s {
        let gamma = (t_change[j] - off[j]) * (1.0 - ks[j] / ks[j + 1]);
        off.push(off[j] + gamma);
    }
    (ks, off)
}

/// The piecewise trend (scaled units) at arbitrary times, for uncertainty sampling: the
/// pieces (rate and offset after each changepoint) are computed once, and each time finds
/// its piece by binary search when the changepoints are in order (as Prophet's are: the
/// fitted ones, then the sampled future ones; otherwise those up to the first one after it
/// count). Computing the pieces per time made the sampling quadratic in the horizon (37,000
/// steps took 4.4 s).
pub(crate) struct TrendCurve<'a> {
    indicator: TrendIndicator,
    t_change: &'a [f64],
    sorted: bool,
    pieces: usize,
    rates: Vec<f64>,
    offsets: Vec<f64>,
    cap: f64,
}

impl<'a> TrendCurve<'a> {
    pub(crate) fn new(
        indicator: TrendIndicator,
        k: f64,
        m: f64,
        delta: &[f64],
        t_change: &'a [f64],
        cap: f64,
    ) -> Self {
        let pieces = delta.len().min(t_change.len());
        let (delta, cps) = (&delta[..pieces], &t_change[..pieces]);
        let (rates, offsets) = match indicator {
            TrendIndicator::Flat => (Vec::new(), Vec::new()),
            TrendIndicator::Linear => cumulative_linear(k, m, delta, cps),
            TrendIndicator::Logistic => logistic_parts(k, m, delta, cps),
        };
        TrendCurve {
            indicator,
            t_change,
            sorted: t_change.is_sorted_by(|a, b| a <= b),
            pieces,
            rates,
            offsets,
            cap,
        }
    }

    pub(crate) fn at(&self, t: f64, m: f64) -> f64 {
        let a = if self.sorted {
            self.t_change.partition_point(|&c| t >= c)
        } else {
            self.t_change.iter().take_while(|&&c| t >= c).count()
        }
        .min(self.pieces);
        match self.indicator {
            TrendIndicator::Flat => m,
            TrendIndicator::Linear => self.rates[a] * t + self.offsets[a],
            TrendIndicator::Logistic => self.cap * sigmoid(self.rates[a] * (t - self.offsets[a])),
        }
    }
}

/// Dot product with four independent accumulators (lets the compiler vectorise it).
fn dot4(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let ca = a.chunks_exact(4);
    let cb = b.chunks_exact(4);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Backtracking line search with the Armijo condition, bounded to 30 trials.
fn line_search(
    obj: &Objective<'_>,
    x: &[f64],
    f: f64,
    g: &[f64],
    dir: &[f64],
    step0: f64,
    budget: &mut Budget,
) -> Option<(Vec<f64>, f64, Vec<f64>)> {
    let slope = dot(g, dir);
    if slope.is_nan() || slope >= 0.0 {
        return None;
    }
    let mut step = step0;
    let mut xn = vec![0.0; x.len()];
    let mut gn = vec![0.0; x.len()];
    for _ in 0..30 {
        if !budget.take() {
            return None;
        }
        for i in 0..x.len() {
            xn[i] = x[i] + step * dir[i];
        }
        if let Some(fnew) = obj.eval(&xn, &mut gn)
            && fnew <= f + 1e-4 * step * slope
        {
            return Some((xn, fnew, gn));
        }
        step *= 0.5;
    }
    None
}

/// L-BFGS; `None` when it cannot make a first step (the caller then tries Newton).
fn lbfgs(
    obj: &Objective<'_>,
    x0: &[f64],
    max_iter: u32,
    history: usize,
    budget: &mut Budget,
) -> Option<(Vec<f64>, u32)> {
    let dim = x0.len();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; dim];
    if !budget.take() {
        return None;
    }
    let mut f = obj.eval(&x, &mut g)?;
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut rho_hist: Vec<f64> = Vec::new();
    let mut iters = 0;
    while iters < max_iter {
        // Two-loop recursion.
        let mut q = g.clone();
        let mut alpha = vec![0.0; s_hist.len()];
        for i in (0..s_hist.len()).rev() {
            alpha[i] = rho_hist[i] * dot(&s_hist[i], &q);
            for (qj, yj) in q.iter_mut().zip(&y_hist[i]) {
                *qj -= alpha[i] * yj;
            }
        }
        let gamma = if let (Some(s), Some(y)) = (s_hist.last(), y_hist.last()) {
            dot(s, y) / dot(y, y)
        } else {
            // First step: at most 1e-3 in the largest coordinate (Stan's init_alpha).
            let gmax = g.iter().fold(0.0_f64, |acc, v| acc.max(v.abs()));
            if gmax == 0.0 {
                1.0
            } else {
                (1e-3 / gmax).min(1.0)
            }
        };
        for qj in &mut q {
            *qj *= gamma;
        }
        for i in 0..s_hist.len() {
            let beta = rho_hist[i] * dot(&y_hist[i], &q);
            for (qj, sj) in q.iter_mut().zip(&s_hist[i]) {
                *qj += (alpha[i] - beta) * sj;
            }
        }
        let dir: Vec<f64> = q.iter().map(|v| -v).collect();
        let Some((xn, fnew, gn)) = line_search(obj, &x, f, &g, &dir, 1.0, budget) else {
            // Line search failure after progress is Stan's usual stop; before it, give up.
            if iters == 0 {
                return None;
            }
            break;
        };
        iters += 1;
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        let df = f - fnew;
        let step_norm = s.iter().fold(0.0_f64, |acc, v| acc.max(v.abs()));
        x = xn;
        g = gn;
        let fold = f;
        f = fnew;
        // Stan's tolerances: tol_obj 1e-12, tol_rel_obj 1e4 eps, tol_grad 1e-8, tol_param 1e-8.
        let gnorm = g.iter().fold(0.0_f64, |acc, v| acc.max(v.abs()));
        let rel = df / fold.abs().max(f.abs()).max(1.0);
        if df.abs() < 1e-15 || rel < 10.0 * f64::EPSILON || gnorm < 1e-10 || step_norm < 1e-11 {
            break;
        }
        if sy > 1e-12 {
            if s_hist.len() == history {
                s_hist.remove(0);
                y_hist.remove(0);
                rho_hist.remove(0);
            }
            rho_hist.push(1.0 / sy);
            s_hist.push(s);
            y_hist.push(y);
        }
    }
    x.iter().all(|v| v.is_finite()).then_some((x, iters))
}

/// Solves `a z = b` for a symmetric positive definite `a` by Cholesky; `None` if not SPD.
pub(crate) fn cholesky_solve(a: &[f64], b: &[f64], dim: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; dim * dim];
    for i in 0..dim {
        for j in 0..=i {
            let mut sum = a[i * dim + j];
            for p in 0..j {
                sum -= l[i * dim + p] * l[j * dim + p];
            }
            if i == j {
                if sum <= 0.0 || !sum.is_finite() {
                    return None;
                }
                l[i * dim + i] = sum.sqrt();
            } else {
                l[i * dim + j] = sum / l[j * dim + j];
            }
        }
    }
    let mut z = b.to_vec();
    for i in 0..dim {
        let mut sum = z[i];
        for p in 0..i {
            sum -= l[i * dim + p] * z[p];
        }
        z[i] = sum / l[i * dim + i];
    }
    for i in (0..dim).rev() {
        let mut sum = z[i];
        for p in i + 1..dim {
            sum -= l[p * dim + i] * z[p];
        }
        z[i] = sum / l[i * dim + i];
    }
    Some(z)
}

/// Central-difference Hessian of the analytic gradient, symmetrised; `None` when an
/// evaluation is not finite.
fn fd_hessian(
    obj: &Objective<'_>,
    x: &[f64],
    h: &mut [f64],
    gp: &mut [f64],
    gm: &mut [f64],
    budget: &mut Budget,
) -> Option<()> {
    let dim = x.len();
    for j in 0..dim {
        let eps = 1e-5 * x[j].abs().max(1.0);
        let mut xp = x.to_vec();
        xp[j] += eps;
        let mut xm = x.to_vec();
        xm[j] -= eps;
        if !(budget.take() && budget.take()) {
            return Some(());
        }
        obj.eval(&xp, gp)?;
        obj.eval(&xm, gm)?;
        for i in 0..dim {
            h[i * dim + j] = (gp[i] - gm[i]) / (2.0 * eps);
        }
    }
    for i in 0..dim {
        for j in 0..i {
            let avg = 0.5 * (h[i * dim + j] + h[j * dim + i]);
            h[i * dim + j] = avg;
            h[j * dim + i] = avg;
        }
    }
    Some(())
}

/// Damped Newton: the analytic Hessian on the Gram path, central differences of the analytic
/// gradient otherwise (the Laplace prior's curvature is taken as 0 away from 0).
fn newton(
    obj: &Objective<'_>,
    x0: &[f64],
    max_iter: u32,
    budget: &mut Budget,
) -> Option<(Vec<f64>, u32)> {
    let dim = x0.len();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; dim];
    budget.take();
    let mut f = obj.eval(&x, &mut g)?;
    let mut iters = 0;
    let mut gp = vec![0.0; dim];
    let mut gm = vec![0.0; dim];
    while iters < max_iter {
        let mut h = vec![0.0; dim * dim];
        if obj.gram_hessian(&x, &mut h) {
            // Analytic (linear/flat trend, additive features).
        } else {
            fd_hessian(obj, &x, &mut h, &mut gp, &mut gm, budget)?;
        }
        if budget.left == 0 {
            return Some((x, iters));
        }
        let neg_g: Vec<f64> = g.iter().map(|v| -v).collect();
        let mut lambda = 0.0;
        let mut dir = None;
        for _ in 0..30 {
            let mut hd = h.clone();
            for i in 0..dim {
                hd[i * dim + i] += lambda;
            }
            if let Some(z) = cholesky_solve(&hd, &neg_g, dim) {
                dir = Some(z);
                break;
            }
            lambda = if lambda == 0.0 { 1e-6 } else { lambda * 10.0 };
        }
        let dir = dir.unwrap_or_else(|| neg_g.clone());
        let Some((xn, fnew, gn)) = line_search(obj, &x, f, &g, &dir, 1.0, budget) else {
            break;
        };
        iters += 1;
        let df = f - fnew;
        x = xn;
        g = gn;
        f = fnew;
        if df.abs() < 1e-12 || g.iter().fold(0.0_f64, |acc, v| acc.max(v.abs())) < 1e-8 {
            break;
        }
    }
    x.iter().all(|v| v.is_finite()).then_some((x, iters))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy_data(trend: TrendIndicator, multiplicative: bool) -> Data {
        let n = 60;
        let t: Vec<f64> = (0..n).map(|i| f64::from(i) / f64::from(n - 1)).collect();
        let x: Vec<f64> = t
            .iter()
            .flat_map(|&ti| {
                let w = 2.0 * std::f64::consts::PI * ti * 6.0;
                [w.sin(), w.cos()]
            })
            .collect();
        let y: Vec<f64> = t
            .iter()
            .enumerate()
            .map(|(i, &ti)| {
                0.3 + 0.4 * ti
                    + 0.1 * (2.0 * std::f64::consts::PI * ti * 6.0).sin()
                    + 0.01 * ((i * 37 % 11) as f64 - 5.0)
            })
            .collect();
        let pos = |v: f64| v.try_into().unwrap();
        Data {
            T: n,
            y,
            t,
            cap: vec![1.5; n as usize],
            S: 3,
            t_change: vec![0.2, 0.4, 0.6],
            trend_indicator: trend,
            K: 2,
            s_a: if multiplicative {
                vec![1, 0]
            } else {
                vec![1, 1]
            },
            s_m: if multiplicative {
                vec![0, 1]
            } else {
                vec![0, 0]
            },
            X: x,
            sigmas: vec![pos(10.0), pos(10.0)],
            tau: pos(0.05),
        }
    }

    fn check_gradient(data: &Data, jacobian: bool) {
        let obj = Objective::new(data, jacobian).unwrap();
        let x = vec![0.35, 0.28, 0.05, -0.03, 0.02, -2.0, 0.09, 0.01];
        let mut g = vec![0.0; x.len()];
        let f = obj.eval(&x, &mut g).unwrap();
        assert!(f.is_finite());
        let mut scratch = vec![0.0; x.len()];
        for j in 0..x.len() {
            let h = 1e-6;
            let mut xp = x.clone();
            xp[j] += h;
            let mut xm = x.clone();
            xm[j] -= h;
            let num = (obj.eval(&xp, &mut scratch).unwrap() - obj.eval(&xm, &mut scratch).unwrap())
                / (2.0 * h);
            assert!(
                (num - g[j]).abs() <= 1e-5 * num.abs().max(1.0),
                "component {j}: analytic {} numeric {num}",
                g[j]
            );
        }
    }

    #[test]
    fn gradient_matches_finite_differences_for_every_trend() {
        check_gradient(&toy_data(TrendIndicator::Linear, false), false);
        check_gradient(&toy_data(TrendIndicator::Linear, false), true);
        check_gradient(&toy_data(TrendIndicator::Linear, true), false);
        check_gradient(&toy_data(TrendIndicator::Flat, false), false);
        check_gradient(&toy_data(TrendIndicator::Logistic, false), false);
        check_gradient(&toy_data(TrendIndicator::Logistic, true), true);
    }

    #[test]
    fn gram_path_equals_row_by_row_path() {
        let data = toy_data(TrendIndicator::Linear, false);
        let fast = Objective::new(&data, false).unwrap();
        assert!(fast.gram.is_some());
        let mut slow = Objective::new(&data, false).unwrap();
        slow.gram = None;
        let x = vec![0.35, 0.28, 0.05, -0.03, 0.02, -2.0, 0.09, 0.01];
        let (mut g1, mut g2) = (vec![0.0; 8], vec![0.0; 8]);
        let f1 = fast.eval(&x, &mut g1).unwrap();
        let f2 = slow.eval(&x, &mut g2).unwrap();
        assert!((f1 - f2).abs() < 1e-10, "{f1} vs {f2}");
        for (a, b) in g1.iter().zip(&g2) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
    }

    #[test]
    fn gram_matches_the_naive_sum_over_rows() {
        let mut late = toy_data(TrendIndicator::Linear, false);
        // A changepoint after the last row, and two sharing a first row.
        late.t_change = vec![0.2, 0.2, 1.5];
        for (ind, data) in [
            (
                TrendIndicator::Linear,
                toy_data(TrendIndicator::Linear, false),
            ),
            (TrendIndicator::Flat, toy_data(TrendIndicator::Flat, false)),
            (TrendIndicator::Linear, late),
        ] {
            let obj = Objective::new(&data, false).unwrap();
            let gram = obj.gram.as_ref().unwrap();
            let p = gram.p;
            let mut row = vec![0.0; p];
            let mut g = vec![0.0; p * p];
            let mut bb = vec![0.0; p];
            for i in 0..data.y.len() {
                obj.gram_row(i, &mut row);
                for a in 0..p {
                    bb[a] += row[a] * data.y[i];
                    for c in 0..p {
                        g[a * p + c] += row[a] * row[c];
                    }
                }
            }
            for a in 0..p * p {
                assert!((g[a] - gram.g[a]).abs() < 1e-9, "{ind:?} G[{a}]");
            }
            for a in 0..p {
                assert!((bb[a] - gram.b[a]).abs() < 1e-9, "{ind:?} b[{a}]");
            }
        }
    }

    #[test]
    fn analytic_hessian_matches_finite_differences() {
        let data = toy_data(TrendIndicator::Linear, false);
        let obj = Objective::new(&data, false).unwrap();
        let x = vec![0.35, 0.28, 0.05, 0.0, 0.02, -2.0, 0.09, 0.01];
        let dim = x.len();
        let mut ha = vec![0.0; dim * dim];
        assert!(obj.gram_hessian(&x, &mut ha));
        let mut hf = vec![0.0; dim * dim];
        let (mut gp, mut gm) = (vec![0.0; dim], vec![0.0; dim]);
        let mut budget = Budget {
            left: 1000,
            used: 0,
        };
        fd_hessian(&obj, &x, &mut hf, &mut gp, &mut gm, &mut budget).unwrap();
        for i in 0..dim * dim {
            assert!(
                (ha[i] - hf[i]).abs() <= 1e-4 * hf[i].abs().max(1.0),
                "H[{i}]: {} vs {}",
                ha[i],
                hf[i]
            );
        }
    }

    #[test]
    fn trend_at_matches_objective_trend() {
        for ind in [
            TrendIndicator::Linear,
            TrendIndicator::Logistic,
            TrendIndicator::Flat,
        ] {
            let data = toy_data(ind, false);
            let obj = Objective::new(&data, false).unwrap();
            let x = vec![0.35, 0.28, 0.05, -0.03, 0.02, -2.0, 0.09, 0.01];
            let tr = obj.trend(&x);
            let curve = TrendCurve::new(ind, 0.35, 0.28, &x[2..5], &data.t_change, 1.5);
            for (i, &ti) in data.t.iter().enumerate() {
                assert!((curve.at(ti, 0.28) - tr[i]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn trend_curve_sums_the_changepoints_before_each_time() {
        // The sampled changepoints' linear trend: sum over c <= t of delta (t - c), in any
        // time order; changepoints out of order count up to the first one after t.
        let cps = [0.2, 0.5, 0.5, 0.9];
        let deltas = [0.3, -1.0, 0.25, 2.0];
        let curve = TrendCurve::new(TrendIndicator::Linear, 0.0, 0.0, &deltas, &cps, 0.0);
        for t in [1.2, 0.0, 0.5, 0.7, 0.2, 0.95] {
            let want: f64 = cps
                .iter()
                .zip(&deltas)
                .filter(|(c, _)| t >= **c)
                .map(|(c, d)| d * (t - c))
                .sum();
            assert!((curve.at(t, 0.0) - want).abs() < 1e-12, "{t}");
        }
        let unsorted = [0.2, 0.9, 0.5];
        let curve = TrendCurve::new(
            TrendIndicator::Linear,
            1.0,
            0.0,
            &deltas[..3],
            &unsorted,
            0.0,
        );
        // At 0.6 only 0.2 counts (0.9 stops the prefix): rate 1.3, offset -0.06.
        assert!((curve.at(0.6, 0.0) - (1.3 * 0.6 - 0.06)).abs() < 1e-12);
    }

    fn init() -> InitialParams {
        InitialParams {
            k: 0.4,
            m: 0.3,
            delta: vec![0.0; 3],
            beta: vec![0.0; 2],
            sigma_obs: 1.0.try_into().unwrap(),
        }
    }

    #[test]
    fn lbfgs_and_newton_reach_the_same_optimum() {
        let data = toy_data(TrendIndicator::Linear, false);
        let opt = MapOptimizer::new();
        let (a, sa) = opt
            .optimize_with_stats(&init(), &data, &OptimizeOpts::default())
            .unwrap();
        let newton_opts = OptimizeOpts {
            algorithm: Some(Algorithm::Newton),
            ..OptimizeOpts::default()
        };
        let (b, sb) = opt
            .optimize_with_stats(&init(), &data, &newton_opts)
            .unwrap();
        assert!(!sa.used_newton && sb.used_newton);
        // Seasonal amplitude 0.1 on the sine feature is recovered by both.
        assert!((a.beta[0] - 0.1).abs() < 0.01, "{:?}", a.beta);
        let fit = |p: &OptimizedParams| p.trend.iter().sum::<f64>();
        assert!((fit(&a) - fit(&b)).abs() / fit(&b).abs() < 1e-3);
        // The noise 0.01 * (i * 37 mod 11 - 5) cycles through -5..=5 evenly: sd = 0.01 * sqrt(10).
        assert!(
            (*a.sigma_obs - 0.01 * 10f64.sqrt()).abs() < 0.003,
            "{:?}",
            a.sigma_obs
        );
    }

    #[test]
    fn column_order_does_not_change_the_fit() {
        let data = toy_data(TrendIndicator::Linear, false);
        let mut swapped = data.clone();
        for i in 0..data.y.len() {
            swapped.X.swap(2 * i, 2 * i + 1);
        }
        let opt = MapOptimizer::new();
        let a = opt
            .optimize(&init(), &data, &OptimizeOpts::default())
            .unwrap();
        let b = opt
            .optimize(&init(), &swapped, &OptimizeOpts::default())
            .unwrap();
        assert_eq!(a.beta[0].to_bits(), b.beta[1].to_bits());
        assert_eq!(a.beta[1].to_bits(), b.beta[0].to_bits());
        assert_eq!(a.k.to_bits(), b.k.to_bits());
    }

    #[test]
    fn evaluation_cap_bounds_the_fit() {
        let data = toy_data(TrendIndicator::Logistic, true);
        let opt = MapOptimizer::new().with_max_evaluations(10);
        let res = opt.optimize_with_stats(&init(), &data, &OptimizeOpts::default());
        let (_, stats) = res.unwrap();
        assert!(stats.evaluations <= 10, "{stats:?}");
    }

    #[test]
    fn mismatched_design_is_an_error() {
        let mut data = toy_data(TrendIndicator::Linear, false);
        data.X.pop();
        let err = MapOptimizer::new()
            .optimize(&init(), &data, &OptimizeOpts::default())
            .unwrap_err();
        assert!(err.to_string().contains("cells"));
    }
}
