//! Isolation Forest (Liu, Ting & Zhou, ICDM 2008), scored as scikit-learn scores it.
//!
//! Trees are stored in an implicit complete-tree layout: a tree grown on `psi` samples has at
//! most `D = ceil(log2 psi)` levels, so its `2^D - 1` split nodes and `2^D` leaves live in flat
//! arrays indexed like a binary heap (children of node `i` are `2i+1` and `2i+2`). A leaf reached
//! early is encoded as a chain of "always go left" splits (threshold `+inf`), so every point takes
//! exactly `D` branch-free steps. Scoring walks a block of points through one tree in lockstep,
//! which overlaps their memory loads instead of chasing one pointer at a time.

use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{AnomalyError, Result, invalid};

/// Euler–Mascheroni constant, as numpy's `np.euler_gamma`.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// Points scored together per tree (a power of two).
const BLOCK: usize = 64;

/// Widest input handled by the bounds-check-free kernel (a power of two).
const MAX_FAST_FEATURES: usize = 16;

/// Largest `max_samples` (after capping at `n`): keeps a tree's depth at most 30, so the `u32`
/// node indices of the scoring kernels (`< 2^(depth + 1)`) cannot overflow.
const MAX_PSI: usize = 1 << 30;

/// A finite `f64` at the `f32` precision trees split and compare at, saturating: values beyond
/// the `f32` range become `±f32::MAX` instead of `±inf` (order-preserving, so a column of huge
/// values still splits; an infinite bound would make the split draw panic).
#[inline]
fn to_f32(v: f64) -> f32 {
    (v as f32).clamp(-f32::MAX, f32::MAX)
}

/// The average path length of an unsuccessful search in a binary search tree of `n` points,
/// `c(n)`, exactly as scikit-learn's `_average_path_length`: 0 for `n <= 1`, 1 for `n = 2`,
/// else `2 (ln(n - 1) + gamma) - 2 (n - 1) / n`.
///
/// ```
/// use aiops_anomaly::average_path_length;
/// assert_eq!(average_path_length(1), 0.0);
/// assert_eq!(average_path_length(2), 1.0);
/// assert!((average_path_length(256) - 10.244_770_920_804_39).abs() < 1e-9);
/// ```
pub fn average_path_length(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + EULER_GAMMA) - 2.0 * (n - 1.0) / n
        }
    }
}

/// The expected fraction of outliers, which sets the threshold of [`FittedIsolationForest::predict`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Contamination {
    /// scikit-learn's `"auto"`: the offset is `-0.5`, i.e. a point is an outlier when its score
    /// exceeds 0.5, as in the original paper.
    Auto,
    /// A fraction in `(0, 0.5]`: the offset is the `100 * fraction` percentile of the training
    /// data's `score_samples`.
    Fraction(f64),
}

/// How many samples each tree is grown on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MaxSamples {
    /// scikit-learn's `"auto"`: `min(256, n)`.
    Auto,
    /// An absolute count (capped at `n`).
    Count(usize),
}

/// Isolation Forest parameters, with scikit-learn's defaults and the article's contamination.
///
/// ```
/// use aiops_anomaly::{Contamination, IsolationForest};
/// let params = IsolationForest::new().n_trees(50).contamination(Contamination::Auto);
/// assert!(params.check().is_ok());
/// assert!(IsolationForest::new().n_trees(0).check().is_err());
/// // Absurd sizes are errors too, not an abort on the allocation.
/// let e = IsolationForest::new().n_trees(usize::MAX).fit(&[0.0, 1.0, 2.0, 3.0], 1).unwrap_err();
/// assert!(e.to_string().contains("n_trees"), "{e}");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct IsolationForest {
    n_trees: usize,
    max_samples: MaxSamples,
    contamination: Contamination,
    max_features: f64,
    seed: u64,
}

impl Default for IsolationForest {
    fn default() -> Self {
        Self {
            n_trees: 100,
            max_samples: MaxSamples::Auto,
            contamination: Contamination::Fraction(0.1),
            max_features: 1.0,
            seed: 42,
        }
    }
}

/// Most trees a forest may have (see [`IsolationForest::check`]).
pub const MAX_TREES: usize = 100_000;

impl IsolationForest {
    /// Default parameters: 100 trees, `max_samples` auto (`min(256, n)`), contamination 0.1 (the
    /// article's), `max_features` 1.0, seed 42 (the article's `random_state`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of trees (`n_estimators`), at least 1.
    #[must_use]
    pub fn n_trees(mut self, n: usize) -> Self {
        self.n_trees = n;
        self
    }
    /// Samples per tree.
    #[must_use]
    pub fn max_samples(mut self, m: MaxSamples) -> Self {
        self.max_samples = m;
        self
    }
    /// Expected outlier fraction, used by `predict`.
    #[must_use]
    pub fn contamination(mut self, c: Contamination) -> Self {
        self.contamination = c;
        self
    }
    /// Fraction of the columns each tree may split on, in `(0, 1]`.
    #[must_use]
    pub fn max_features(mut self, f: f64) -> Self {
        self.max_features = f;
        self
    }
    /// Random seed (`ChaCha8Rng`).
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// The configured contamination.
    pub fn contamination_value(&self) -> Contamination {
        self.contamination
    }

    /// Validates the parameters: `n_trees` in `1..=MAX_TREES`, `max_samples` at least 2,
    /// `contamination` in (0, 0.5], `max_features` in (0, 1].
    pub fn check(&self) -> Result<()> {
        if self.n_trees == 0 {
            return Err(invalid("n_trees", self.n_trees, "must be at least 1"));
        }
        // About 8 KB a tree at 256 samples: 100,000 trees hold 0.8 GB (`usize::MAX` aborted
        // on the allocation).
        if self.n_trees > MAX_TREES {
            return Err(invalid("n_trees", self.n_trees, "must be at most 100,000"));
        }
        if let MaxSamples::Count(m) = self.max_samples
            && m < 2
        {
            return Err(invalid("max_samples", m, "must be at least 2"));
        }
        if let Contamination::Fraction(c) = self.contamination
            && !(c > 0.0 && c <= 0.5)
        {
            return Err(invalid("contamination", c, "must be in (0, 0.5]"));
        }
        if !(self.max_features > 0.0 && self.max_features <= 1.0) {
            return Err(invalid(
                "max_features",
                self.max_features,
                "must be in (0, 1]",
            ));
        }
        Ok(())
    }

    /// Fits a forest on a row-major `n x n_features` matrix given as a flat slice.
    ///
    /// Errors when the parameters are invalid, `n_features` is 0 or above `u32::MAX / 64`, the
    /// slice length is not a multiple of `n_features`, there are fewer than 2 rows, a value is
    /// not finite (NaN or infinite: [`AnomalyError::NonFinite`] naming the first), or
    /// `max_samples` (capped at the row count) is above `2^30`. Finite values beyond the `f32`
    /// range are compared as `±f32::MAX` (see [`FittedIsolationForest::score`]).
    pub fn fit(&self, data: &[f64], n_features: usize) -> Result<FittedIsolationForest> {
        self.check()?;
        let n = check_matrix(data, n_features)?;
        if n_features > u32::MAX as usize / BLOCK {
            // Column offsets `f * BLOCK` are stored as `u32`.
            return Err(invalid(
                "n_features",
                n_features,
                "must be at most u32::MAX / 64",
            ));
        }
        if n < 2 {
            return Err(AnomalyError::NotEnoughData { needed: 2, got: n });
        }
        let psi = match self.max_samples {
            MaxSamples::Auto => n.min(256),
            MaxSamples::Count(m) => m.min(n),
        };
        if psi > MAX_PSI {
            return Err(invalid(
                "max_samples",
                psi,
                "must be at most 2^30 (after capping at the row count)",
            ));
        }
        let depth = (psi as f64).log2().ceil() as u32;
        let n_cols =
            ((self.max_features * n_features as f64).floor() as usize).clamp(1, n_features);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut trees = Vec::with_capacity(self.n_trees);
        for _ in 0..self.n_trees {
            let rows = sample(&mut rng, n, psi).into_vec();
            let cols: Vec<usize> = if n_cols == n_features {
                (0..n_features).collect()
            } else {
                let mut c = sample(&mut rng, n_features, n_cols).into_vec();
                c.sort_unstable();
                c
            };
            trees.push(Tree::grow(data, n_features, rows, &cols, depth, &mut rng));
        }
        let mut model = FittedIsolationForest {
            trees,
            n_features,
            depth,
            norm: average_path_length(psi),
            max_samples: psi,
            offset: -0.5,
        };
        if let Contamination::Fraction(c) = self.contamination {
            // score_samples of the training data (already checked above), without a second check.
            let mut ss = vec![0.0; n];
            model.score_into(data, &mut ss);
            for v in &mut ss {
                *v = -*v;
            }
            model.offset = aiops_core::stats::quantile(&mut ss, c).unwrap_or(-0.5);
        }
        Ok(model)
    }

    /// Fits on rows given as slices of equal width.
    pub fn fit_rows<R: AsRef<[f64]>>(&self, rows: &[R]) -> Result<FittedIsolationForest> {
        let d = rows.first().map_or(0, |r| r.as_ref().len());
        let flat = flatten_rows(rows, d)?;
        self.fit(&flat, d)
    }
}

pub(crate) fn flatten_rows<R: AsRef<[f64]>>(rows: &[R], d: usize) -> Result<Vec<f64>> {
    let mut flat = Vec::with_capacity(rows.len() * d);
    for r in rows {
        let r = r.as_ref();
        if r.len() != d {
            return Err(AnomalyError::Shape {
                expected: d,
                got: r.len(),
            });
        }
        flat.extend_from_slice(r);
    }
    Ok(flat)
}

fn check_matrix(data: &[f64], n_features: usize) -> Result<usize> {
    if n_features == 0 {
        return Err(invalid("n_features", 0, "must be at least 1"));
    }
    if !data.len().is_multiple_of(n_features) {
        return Err(AnomalyError::Shape {
            expected: n_features,
            got: data.len() % n_features,
        });
    }
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        return Err(AnomalyError::NonFinite {
            row: i / n_features,
            column: i % n_features,
            value: data[i],
        });
    }
    Ok(data.len() / n_features)
}

/// One isolation tree in implicit complete-tree layout, stored as parallel arrays (split node `i`
/// is `thr[i]`, `off[i]`; the vector kernel loads whole levels of them into registers).
#[derive(Debug, Clone)]
struct Tree {
    /// Split threshold per internal node: go right when `x > threshold`. Thresholds are `f32` and
    /// inputs are compared at `f32` precision, as scikit-learn does (it converts X to `float32`);
    /// each threshold is the largest `f32` not above the drawn split value, so routing `f32` data
    /// is exact. `+inf` for the always-left chain below an early leaf.
    thr: Vec<f32>,
    /// The split's column times [`BLOCK`]: the offset of that column in a block's column-major copy.
    off: Vec<u32>,
    /// Path length per leaf slot (`2^D` entries): depth + c(samples in leaf).
    leaf: Vec<f64>,
}

/// Node slots allocated per tree at least (the AVX-512 kernel loads the first 6 levels, 63 nodes,
/// as whole registers).
const MIN_SLOTS: usize = 64;

impl Tree {
    /// Whether the tree has the shape the vector kernels' unchecked accesses rely on for `n`
    /// leaves: at least `max(n, MIN_SLOTS)` node slots and exactly `n` leaf slots (always true for
    /// a tree `grow` built at depth `log2(n)`).
    #[inline]
    fn has_vector_shape(&self, n: usize) -> bool {
        self.thr.len() >= n.max(MIN_SLOTS)
            && self.off.len() >= n.max(MIN_SLOTS)
            && self.leaf.len() == n
    }

    fn grow(
        data: &[f64],
        d: usize,
        mut rows: Vec<usize>,
        cols: &[usize],
        depth: u32,
        rng: &mut ChaCha8Rng,
    ) -> Tree {
        let internal = (1usize << depth) - 1;
        // One spare slot so the length is a power of two (lets scoring mask indices), and at
        // least MIN_SLOTS.
        let slots = (internal + 1).max(MIN_SLOTS);
        let mut tree = Tree {
            thr: vec![f32::INFINITY; slots],
            off: vec![0; slots],
            leaf: vec![0.0; internal + 1],
        };
        let mut stack = vec![(0usize, 0u32, 0usize, rows.len())];
        let mut candidates = Vec::with_capacity(cols.len());
        while let Some((node, level, lo, hi)) = stack.pop() {
            let idx = &mut rows[lo..hi];
            let split = if level < depth && idx.len() > 1 {
                // Draw columns until one is not constant in this node, as sklearn's random splitter.
                candidates.clear();
                candidates.extend_from_slice(cols);
                let mut found = None;
                while !candidates.is_empty() {
                    let k = rng.gen_range(0..candidates.len());
                    let f = candidates.swap_remove(k);
                    let (mn, mx) =
                        idx.iter()
                            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &r| {
                                // At f32 precision, as sklearn (and as scoring compares).
                                let v = f64::from(to_f32(data[r * d + f]));
                                (a.min(v), b.max(v))
                            });
                    if mx - mn > 1e-7 {
                        let mut t = rng.gen_range(mn..mx);
                        if t >= mx {
                            t = mn;
                        }
                        // Largest f32 <= t: for f32 data, `x <= t` iff `x <= t32`.
                        let mut t32 = t as f32;
                        if f64::from(t32) > t {
                            t32 = t32.next_down();
                        }
                        found = Some((f, t32));
                        break;
                    }
                }
                found
            } else {
                None
            };
            if let Some((f, t)) = split {
                tree.thr[node] = t;
                tree.off[node] = (f * BLOCK) as u32;
                // Partition: values <= t to the left.
                let mut i = 0;
                let mut j = idx.len();
                while i < j {
                    if to_f32(data[idx[i] * d + f]) <= t {
                        i += 1;
                    } else {
                        j -= 1;
                        idx.swap(i, j);
                    }
                }
                stack.push((2 * node + 1, level + 1, lo, lo + i));
                stack.push((2 * node + 2, level + 1, lo + i, hi));
            } else {
                // A leaf at `level`: follow the always-left chain to the bottom level.
                let mut n = node;
                for _ in level..depth {
                    n = 2 * n + 1;
                }
                tree.leaf[n - internal] = f64::from(level) + average_path_length(idx.len());
            }
        }
        tree
    }
}

/// A fitted Isolation Forest: immutable, `Send + Sync`, scores rows of the training width.
///
/// ```
/// use aiops_anomaly::IsolationForest;
/// let mut data = Vec::new();
/// for i in 0..200 {
///     data.push((i % 10) as f64);
///     data.push((i % 7) as f64);
/// }
/// data.extend([100.0, 100.0]);
/// let model = IsolationForest::new().fit(&data, 2)?;
/// let scores = model.score(&data)?;
/// let outlier = scores[200];
/// assert!(scores[..200].iter().all(|&s| s < outlier));
/// assert!(model.predict(&[100.0, 100.0])?[0]);
/// # Ok::<(), aiops_anomaly::AnomalyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FittedIsolationForest {
    trees: Vec<Tree>,
    n_features: usize,
    depth: u32,
    norm: f64,
    max_samples: usize,
    offset: f64,
}

impl FittedIsolationForest {
    /// Number of columns the model was fitted on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }
    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }
    /// Samples each tree was grown on (`max_samples_` in sklearn).
    pub fn max_samples(&self) -> usize {
        self.max_samples
    }
    /// sklearn's `offset_`: `predict` flags a row when `score_samples < offset`.
    pub fn offset(&self) -> f64 {
        self.offset
    }
    /// The score threshold equivalent to the offset: a row is an outlier when its score exceeds it.
    pub fn threshold(&self) -> f64 {
        -self.offset
    }

    /// Anomaly scores in `[0, 1]`, `2^(-E[h(x)] / c(psi))`, one per row of the row-major matrix
    /// `data`; higher is more anomalous, about 0.5 and below is normal.
    ///
    /// Values are compared with the `f32` split thresholds at `f32` precision (as scikit-learn);
    /// finite values beyond the `f32` range are compared as `±f32::MAX`. Errors with
    /// [`AnomalyError::NonFinite`] on NaN or infinity and [`AnomalyError::Shape`] when the length
    /// is not a multiple of [`n_features`](Self::n_features) (a flat slice cannot tell a matrix
    /// of another width whose length happens to be a multiple; [`score_one`](Self::score_one)
    /// checks the row width).
    pub fn score(&self, data: &[f64]) -> Result<Vec<f64>> {
        let n = check_matrix(data, self.n_features)?;
        let mut out = vec![0.0; n];
        self.score_into(data, &mut out);
        Ok(out)
    }

    /// The score of one row.
    pub fn score_one(&self, row: &[f64]) -> Result<f64> {
        if row.len() != self.n_features {
            return Err(AnomalyError::Shape {
                expected: self.n_features,
                got: row.len(),
            });
        }
        Ok(self.score(row)?[0])
    }

    /// scikit-learn's `score_samples`: minus [`score`](Self::score).
    pub fn score_samples(&self, data: &[f64]) -> Result<Vec<f64>> {
        let mut s = self.score(data)?;
        for v in &mut s {
            *v = -*v;
        }
        Ok(s)
    }

    /// scikit-learn's `decision_function`: `score_samples - offset`; negative means outlier.
    pub fn decision_function(&self, data: &[f64]) -> Result<Vec<f64>> {
        let mut s = self.score_samples(data)?;
        for v in &mut s {
            *v -= self.offset;
        }
        Ok(s)
    }

    /// `true` for rows sklearn's `predict` labels `-1` (outliers): `decision_function < 0`.
    pub fn predict(&self, data: &[f64]) -> Result<Vec<bool>> {
        Ok(self
            .decision_function(data)?
            .into_iter()
            .map(|v| v < 0.0)
            .collect())
    }

    /// [`score`](Self::score) with a chosen compiled kernel, for benchmarking and diagnostics;
    /// returns the scores and the kernel that ran. [`ScoreKernel::Auto`], and a kernel this CPU
    /// (or this build) lacks, run the best available one ([`ScoreKernel::resolve`]). Every kernel
    /// gives bit-identical scores.
    ///
    /// ```
    /// use aiops_anomaly::{IsolationForest, ScoreKernel};
    /// let data: Vec<f64> = (0..100).map(|i| f64::from(i % 9)).collect();
    /// let model = IsolationForest::new().n_trees(10).fit(&data, 2)?;
    /// let (portable, ran) = model.score_with(ScoreKernel::Portable, &data)?;
    /// assert_eq!(ran, ScoreKernel::Portable);
    /// let (auto, ran) = model.score_with(ScoreKernel::Auto, &data)?;
    /// assert_ne!(ran, ScoreKernel::Auto);
    /// assert_eq!(portable, auto);
    /// # Ok::<(), aiops_anomaly::AnomalyError>(())
    /// ```
    pub fn score_with(&self, kernel: ScoreKernel, data: &[f64]) -> Result<(Vec<f64>, ScoreKernel)> {
        let n = check_matrix(data, self.n_features)?;
        let kernel = kernel.resolve();
        let mut out = vec![0.0; n];
        self.score_into_with(kernel, data, &mut out);
        Ok((out, kernel))
    }

    fn score_into(&self, data: &[f64], out: &mut [f64]) {
        self.score_into_with(ScoreKernel::best(), data, out);
    }

    fn score_into_with(&self, kernel: ScoreKernel, data: &[f64], out: &mut [f64]) {
        #[cfg(feature = "rayon")]
        {
            use rayon::prelude::*;
            let d = self.n_features;
            out.par_chunks_mut(BLOCK * 16)
                .zip(data.par_chunks(BLOCK * 16 * d))
                .for_each(|(o, x)| self.score_serial(kernel, x, o));
        }
        #[cfg(not(feature = "rayon"))]
        self.score_serial(kernel, data, out);
    }

    /// Scores with one compiled kernel; one the CPU lacks runs the portable kernel. Any `data`
    /// and `out` lengths are memory-safe (rows are paired with outputs by `zip`); callers pass
    /// `out.len() * n_features == data.len()`.
    fn score_serial(&self, kernel: ScoreKernel, data: &[f64], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if kernel.is_available() {
            match kernel {
                // SAFETY: `is_available` verified at run time (`is_x86_feature_detected!`, which
                // also checks the OS saves the zmm state) that this CPU has AVX-512F, the only
                // target feature `score_serial_avx512` enables; it has no other precondition.
                #[cfg(aiops_avx512)]
                #[allow(unsafe_code)]
                ScoreKernel::Avx512 => unsafe { return self.score_serial_avx512(data, out) },
                // SAFETY: as above: AVX2 verified at run time; no other precondition.
                #[allow(unsafe_code)]
                ScoreKernel::Avx2 => unsafe { return self.score_serial_avx2(data, out) },
                _ => {}
            }
        }
        let _ = kernel;
        self.score_serial_portable(data, out);
    }

    /// The explicit AVX2 kernel for trees of at most 8 levels and at most
    /// [`MAX_FAST_FEATURES`] columns; others take the generic kernel compiled with AVX2 enabled.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[allow(unsafe_code)]
    unsafe fn score_serial_avx2(&self, data: &[f64], out: &mut [f64]) {
        if self.n_features <= MAX_FAST_FEATURES {
            // SAFETY (all arms): the only precondition of `score_blocks_avx2_w` is AVX2, which
            // this function's own contract guarantees (verified at run time by the caller).
            unsafe {
                match self.depth {
                    1 => return self.score_blocks_avx2_w::<2>(data, out),
                    2 => return self.score_blocks_avx2_w::<4>(data, out),
                    3 => return self.score_blocks_avx2_w::<8>(data, out),
                    4 => return self.score_blocks_avx2_w::<16>(data, out),
                    5 => return self.score_blocks_avx2_w::<32>(data, out),
                    6 => return self.score_blocks_avx2_w::<64>(data, out),
                    7 => return self.score_blocks_avx2_w::<128>(data, out),
                    8 => return self.score_blocks_avx2_w::<256>(data, out),
                    _ => {}
                }
            }
        }
        self.score_blocks(data, out);
    }

    /// # Safety
    /// AVX2 must be available (the only precondition of
    /// [`score_blocks_avx2`](Self::score_blocks_avx2)). `n_features <= MAX_FAST_FEATURES` is
    /// needed for correct scores only.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[allow(unsafe_code)]
    unsafe fn score_blocks_avx2_w<const N: usize>(&self, data: &[f64], out: &mut [f64]) {
        // SAFETY: AVX2 is available (this function's contract), all the callee requires.
        unsafe {
            match self.n_features {
                1 | 2 => self.score_blocks_avx2::<N, 2>(data, out),
                3 | 4 => self.score_blocks_avx2::<N, 4>(data, out),
                _ => self.score_blocks_avx2::<N, MAX_FAST_FEATURES>(data, out),
            }
        }
    }

    /// AVX2 form of [`score_blocks_fixed`](Self::score_blocks_fixed), bit-identical to it: 8
    /// points per register, the block's 8 registers in flight. A level's thresholds and column
    /// offsets are picked by register permutes for levels of up to 32 nodes
    /// ([`pick_level_avx2`]) and gathered below; for up to 4 columns the point's value is
    /// blended from the block's columns in registers (otherwise gathered); leaf path lengths
    /// are gathered.
    ///
    /// # Safety
    /// AVX2 must be available; nothing else. Every memory access is bounded by facts checked or
    /// established in this function, for any tree, any `data`/`out` lengths and any `N`: trees
    /// without `max(N, MIN_SLOTS)` node slots and exactly `N` leaves are skipped; node indices
    /// come from the level loop (`0..2^l` at level `l`, `2^(l + 1) <= N`); the value gather's
    /// index is masked to the block buffer. For correct scores (not for safety) `N` must be
    /// `2^self.depth <= 256` and `n_features <= W <= MAX_FAST_FEATURES` (column offsets below
    /// `W * BLOCK`).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[allow(unsafe_code)]
    unsafe fn score_blocks_avx2<const N: usize, const W: usize>(
        &self,
        data: &[f64],
        out: &mut [f64],
    ) {
        use std::arch::x86_64::{
            __m256, __m256i, _CMP_GT_OQ, _mm256_add_epi32, _mm256_add_pd, _mm256_and_si256,
            _mm256_blendv_ps, _mm256_castps_si256, _mm256_castsi256_ps, _mm256_castsi256_si128,
            _mm256_cmp_ps, _mm256_extracti128_si256, _mm256_i32gather_pd, _mm256_i32gather_ps,
            _mm256_loadu_pd, _mm256_loadu_ps, _mm256_set1_epi32, _mm256_setr_epi32,
            _mm256_setzero_si256, _mm256_slli_epi32, _mm256_storeu_pd, _mm256_sub_epi32,
        };
        const XT: usize = MAX_FAST_FEATURES * BLOCK;
        const G: usize = BLOCK / 8;
        let d = self.n_features;
        let depth = N.trailing_zeros();
        let denom = self.norm * self.trees.len() as f64;
        let mut xt = [0.0f32; XT];
        let mut acc = [0.0f64; BLOCK];
        let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let lanes: [__m256i; G] =
            std::array::from_fn(|g| _mm256_add_epi32(lane, _mm256_set1_epi32((8 * g) as i32)));
        // Keeps the value gather inside `xt` whatever a column offset holds (no-op for valid ones).
        let xt_mask = _mm256_set1_epi32((XT - 1) as i32);
        for (o, x) in out.chunks_mut(BLOCK).zip(data.chunks(BLOCK * d)) {
            Self::transpose_block(x, d, &mut xt);
            // The block's first 4 columns, 8 points per register: xs[g][f] = x[f][8 g..].
            let xs: [[__m256; 4]; G] = std::array::from_fn(|g| {
                // SAFETY: reads xt[f * BLOCK + 8 g .. + 8] with f < 4, g < G = BLOCK / 8, so
                // the end is at most 3 * BLOCK + BLOCK = 4 * BLOCK <= XT = xt.len(); AVX is
                // enabled (implied by avx2); unaligned loads.
                std::array::from_fn(|f| unsafe {
                    _mm256_loadu_ps(xt.as_ptr().add(f * BLOCK + 8 * g))
                })
            });
            acc.fill(0.0);
            for tree in &self.trees {
                // Always true for trees built by `Tree::grow` at this depth (see the AVX-512
                // kernel); the unchecked accesses below rely on it.
                if !tree.has_vector_shape(N) {
                    continue;
                }
                let thr = tree.thr.as_ptr();
                let off = tree.off.as_ptr().cast::<i32>();
                let mut ix = [_mm256_setzero_si256(); G];
                let xs = &xs;
                macro_rules! level {
                    ($l:literal) => {
                        if $l < depth {
                            let base = (1usize << $l) - 1;
                            // SAFETY: `l < depth = log2(N)` (N a power of two up to 256, so
                            // l <= 7) and every lane of `j` is in `0..2^l` (it starts at 0 and
                            // each level maps j to 2 j or 2 j + 1). Level `l` holds heap nodes
                            // `base = 2^l - 1 .. 2^(l + 1) - 1`; `pick_level_avx2::<l>` reads
                            // `base .. base + max(8, 2^l)`: for l <= 3 that ends at most at
                            // 7 + 8 = 15 < MIN_SLOTS, else at 2^(l + 1) - 1 < N; both within
                            // thr/off, checked above to hold max(N, MIN_SLOTS) entries (thr and
                            // off have the same 4-byte size, read as i32). The value gather
                            // reads xt[(f + p) & (XT - 1)] (f32, scale 4), in bounds whatever
                            // `f` holds. AVX2 is enabled in this function.
                            unsafe {
                                let tl = thr.add(base).cast::<i32>();
                                let ol = off.add(base);
                                for (g, (j, p)) in ix.iter_mut().zip(&lanes).enumerate() {
                                    let t = _mm256_castsi256_ps(pick_level_avx2::<$l>(tl, *j));
                                    let f = pick_level_avx2::<$l>(ol, *j);
                                    let v = if W <= 4 {
                                        // Column f = off / 64: bit 0 of f (bit 6 of off) to the
                                        // sign bit picks within a pair, bit 1 between pairs.
                                        let b0 = _mm256_castsi256_ps(_mm256_slli_epi32::<25>(f));
                                        let lo = _mm256_blendv_ps(xs[g][0], xs[g][1], b0);
                                        if W <= 2 {
                                            lo
                                        } else {
                                            let hi = _mm256_blendv_ps(xs[g][2], xs[g][3], b0);
                                            let b1 =
                                                _mm256_castsi256_ps(_mm256_slli_epi32::<24>(f));
                                            _mm256_blendv_ps(lo, hi, b1)
                                        }
                                    } else {
                                        _mm256_i32gather_ps::<4>(
                                            xt.as_ptr(),
                                            _mm256_and_si256(_mm256_add_epi32(f, *p), xt_mask),
                                        )
                                    };
                                    // All ones where x > t: j = 2 j - (-1).
                                    let right =
                                        _mm256_castps_si256(_mm256_cmp_ps::<_CMP_GT_OQ>(v, t));
                                    *j = _mm256_sub_epi32(_mm256_add_epi32(*j, *j), right);
                                }
                            }
                        }
                    };
                }
                level!(0);
                level!(1);
                level!(2);
                level!(3);
                level!(4);
                level!(5);
                level!(6);
                level!(7);
                // SAFETY: after the `depth` levels every lane of `ix` is in `0..2^depth = N`
                // (the level loop above; N <= 256 so all 8 levels ran), and tree.leaf.len() == N
                // was checked above: the f64 gathers (scale 8) read within `leaf`. The loads and
                // stores at acc[8 g .. 8 g + 8] end at 8 G = BLOCK = acc.len().
                unsafe {
                    let leaf = tree.leaf.as_ptr();
                    for (g, li) in ix.iter().enumerate() {
                        let lo = _mm256_i32gather_pd::<8>(leaf, _mm256_castsi256_si128(*li));
                        let hi = _mm256_i32gather_pd::<8>(leaf, _mm256_extracti128_si256::<1>(*li));
                        let a = acc.as_mut_ptr().add(8 * g);
                        _mm256_storeu_pd(a, _mm256_add_pd(_mm256_loadu_pd(a), lo));
                        _mm256_storeu_pd(a.add(4), _mm256_add_pd(_mm256_loadu_pd(a.add(4)), hi));
                    }
                }
            }
            for (dst, &a) in o.iter_mut().zip(&acc) {
                *dst = (-a / denom).exp2();
            }
        }
    }

    /// The explicit AVX-512 kernel for trees of at most 8 levels and at most
    /// [`MAX_FAST_FEATURES`] columns (every forest with `max_samples <= 256`); others take the
    /// generic kernel compiled with AVX-512 enabled.
    #[cfg(all(target_arch = "x86_64", aiops_avx512))]
    #[target_feature(enable = "avx512f")]
    #[allow(unsafe_code, clippy::incompatible_msrv)] // compiled only by Rust >= 1.89 (build.rs)
    unsafe fn score_serial_avx512(&self, data: &[f64], out: &mut [f64]) {
        if self.n_features <= MAX_FAST_FEATURES {
            // SAFETY (all arms): the only precondition of `score_blocks_avx512_w` is AVX-512F,
            // which this function's own contract guarantees (verified at run time by the caller).
            unsafe {
                match self.depth {
                    1 => return self.score_blocks_avx512_w::<2>(data, out),
                    2 => return self.score_blocks_avx512_w::<4>(data, out),
                    3 => return self.score_blocks_avx512_w::<8>(data, out),
                    4 => return self.score_blocks_avx512_w::<16>(data, out),
                    5 => return self.score_blocks_avx512_w::<32>(data, out),
                    6 => return self.score_blocks_avx512_w::<64>(data, out),
                    7 => return self.score_blocks_avx512_w::<128>(data, out),
                    8 => return self.score_blocks_avx512_w::<256>(data, out),
                    _ => {}
                }
            }
        }
        self.score_blocks_dyn(data, out);
    }

    fn score_serial_portable(&self, data: &[f64], out: &mut [f64]) {
        self.score_blocks(data, out);
    }

    // Inlined into both the AVX2 and the portable wrapper, so each gets its own code generation.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn score_blocks(&self, data: &[f64], out: &mut [f64]) {
        if self.n_features <= MAX_FAST_FEATURES {
            match self.depth {
                1 => return self.score_blocks_fixed::<2>(data, out),
                2 => return self.score_blocks_fixed::<4>(data, out),
                3 => return self.score_blocks_fixed::<8>(data, out),
                4 => return self.score_blocks_fixed::<16>(data, out),
                5 => return self.score_blocks_fixed::<32>(data, out),
                6 => return self.score_blocks_fixed::<64>(data, out),
                7 => return self.score_blocks_fixed::<128>(data, out),
                8 => return self.score_blocks_fixed::<256>(data, out),
                _ => {}
            }
        }
        self.score_blocks_dyn(data, out);
    }

    /// Copies one block of rows into `xt` column-major at `f32` precision: column `f` of point
    /// `p` at `f * BLOCK + p`. Rows past the block's end keep stale (finite) values: their lanes
    /// are computed and never written out.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn transpose_block(x: &[f64], d: usize, xt: &mut [f32; MAX_FAST_FEATURES * BLOCK]) {
        const XT: usize = MAX_FAST_FEATURES * BLOCK;
        for (p, row) in x.chunks_exact(d).enumerate() {
            for (f, &v) in row.iter().enumerate() {
                xt[(f * BLOCK + p) & (XT - 1)] = to_f32(v);
            }
        }
    }

    /// The kernel for trees of `N = 2^depth` node slots and at most [`MAX_FAST_FEATURES`]
    /// columns: every index is masked by a compile-time power of two, so no bounds checks remain
    /// in the inner loop (the masks never change a valid index).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn score_blocks_fixed<const N: usize>(&self, data: &[f64], out: &mut [f64]) {
        const XT: usize = MAX_FAST_FEATURES * BLOCK;
        let d = self.n_features;
        let internal = N - 1;
        let denom = self.norm * self.trees.len() as f64;
        let mut xt = [0.0f32; XT];
        let mut idx = [0u32; BLOCK];
        let mut acc = [0.0f64; BLOCK];
        for (o, x) in out.chunks_mut(BLOCK).zip(data.chunks(BLOCK * d)) {
            Self::transpose_block(x, d, &mut xt);
            acc.fill(0.0);
            for tree in &self.trees {
                let (Some(Ok(thr)), Some(Ok(off)), Ok(leaf)) = (
                    tree.thr.get(..N).map(<&[f32; N]>::try_from),
                    tree.off.get(..N).map(<&[u32; N]>::try_from),
                    <&[f64; N]>::try_from(&tree.leaf[..]),
                ) else {
                    continue;
                };
                idx.fill(0);
                for _ in 0..self.depth {
                    for (p, i) in idx.iter_mut().enumerate() {
                        let n = *i as usize & (N - 1);
                        let v = xt[(off[n] as usize + p) & (XT - 1)];
                        *i = 2 * *i + 1 + u32::from(v > thr[n]);
                    }
                }
                for (a, &i) in acc.iter_mut().zip(&idx) {
                    *a += leaf[(i as usize).wrapping_sub(internal) & (N - 1)];
                }
            }
            for (dst, &a) in o.iter_mut().zip(&acc) {
                *dst = (-a / denom).exp2();
            }
        }
    }

    /// AVX-512 form of [`score_blocks_fixed`](Self::score_blocks_fixed), bit-identical to it:
    /// 16 points per register, four registers in flight, no gathers on the path: the split of
    /// each level is picked from the level's thresholds and column offsets held in registers by
    /// permutes ([`pick_level`]); for up to 4 columns the point's value is picked by permutes
    /// from the block's columns in registers (otherwise gathered from the column-major block).
    /// Only the leaf path lengths (`f64`) are gathered, once per tree.
    ///
    /// # Safety
    /// AVX-512F must be available; nothing else (see
    /// [`score_blocks_avx512`](Self::score_blocks_avx512)). For correct scores `N` must be
    /// `2^self.depth <= 256` and `n_features <= MAX_FAST_FEATURES`.
    #[cfg(all(target_arch = "x86_64", aiops_avx512))]
    #[target_feature(enable = "avx512f")]
    #[allow(unsafe_code, clippy::incompatible_msrv)] // compiled only by Rust >= 1.89 (build.rs)
    unsafe fn score_blocks_avx512_w<const N: usize>(&self, data: &[f64], out: &mut [f64]) {
        // SAFETY: AVX-512F is available (this function's contract), all the callee requires.
        unsafe {
            match self.n_features {
                1 | 2 => self.score_blocks_avx512::<N, 2>(data, out),
                3 | 4 => self.score_blocks_avx512::<N, 4>(data, out),
                _ => self.score_blocks_avx512::<N, MAX_FAST_FEATURES>(data, out),
            }
        }
    }

    /// AVX-512 form of [`score_blocks_fixed`](Self::score_blocks_fixed) for at most `W` columns
    /// (2, 4: the value is picked from registers by permutes; otherwise gathered).
    ///
    /// # Safety
    /// AVX-512F must be available; nothing else. Every memory access is bounded by facts checked
    /// or established in this function, as in [`score_blocks_avx2`](Self::score_blocks_avx2).
    /// For correct scores `N` must be `2^self.depth <= 256` and `n_features <= W`.
    #[cfg(all(target_arch = "x86_64", aiops_avx512))]
    #[target_feature(enable = "avx512f")]
    #[allow(unsafe_code, clippy::incompatible_msrv)] // compiled only by Rust >= 1.89 (build.rs)
    unsafe fn score_blocks_avx512<const N: usize, const W: usize>(
        &self,
        data: &[f64],
        out: &mut [f64],
    ) {
        use std::arch::x86_64::{
            __m512, __m512i, _CMP_GT_OQ, _mm512_add_epi32, _mm512_add_pd, _mm512_and_si512,
            _mm512_castsi512_ps, _mm512_castsi512_si256, _mm512_cmp_ps_mask,
            _mm512_extracti64x4_epi64, _mm512_i32gather_pd, _mm512_i32gather_ps, _mm512_loadu_pd,
            _mm512_loadu_ps, _mm512_mask_add_epi32, _mm512_mask_blend_ps, _mm512_permutex2var_ps,
            _mm512_set1_epi32, _mm512_setr_epi32, _mm512_setzero_si512, _mm512_srli_epi32,
            _mm512_storeu_pd, _mm512_test_epi32_mask,
        };
        const XT: usize = MAX_FAST_FEATURES * BLOCK;
        const G: usize = BLOCK / 16;
        let d = self.n_features;
        let depth = N.trailing_zeros();
        let denom = self.norm * self.trees.len() as f64;
        let mut xt = [0.0f32; XT];
        let mut acc = [0.0f64; BLOCK];
        let one = _mm512_set1_epi32(1);
        let lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let lanes: [__m512i; G] =
            std::array::from_fn(|g| _mm512_add_epi32(lane, _mm512_set1_epi32((16 * g) as i32)));
        let two_cols = _mm512_set1_epi32(32);
        // Keeps the value gather inside `xt` whatever a column offset holds (no-op for valid ones).
        let xt_mask = _mm512_set1_epi32((XT - 1) as i32);
        for (o, x) in out.chunks_mut(BLOCK).zip(data.chunks(BLOCK * d)) {
            Self::transpose_block(x, d, &mut xt);
            // The block's first 4 columns, 16 points per register: xs[g][f] = x[f][16 g..].
            let xs: [[__m512; 4]; G] = std::array::from_fn(|g| {
                // SAFETY: reads xt[f * BLOCK + 16 g .. + 16] with f < 4, g < G = BLOCK / 16,
                // so the end is at most 4 * BLOCK <= XT = xt.len(); AVX-512F is enabled.
                std::array::from_fn(|f| unsafe {
                    _mm512_loadu_ps(xt.as_ptr().add(f * BLOCK + 16 * g))
                })
            });
            acc.fill(0.0);
            for tree in &self.trees {
                // Always true for trees built by `Tree::grow` at this depth; checked (three
                // compares per tree and block) so the unchecked accesses below rely on nothing
                // outside this function, as the portable kernel skips a tree of another shape.
                if !tree.has_vector_shape(N) {
                    continue;
                }
                let thr = tree.thr.as_ptr();
                let off = tree.off.as_ptr().cast::<i32>();
                let mut ix = [_mm512_setzero_si512(); G];
                let xs = &xs;
                // One level for all G registers; `j` is the index within the level (`0..2^l`).
                macro_rules! level {
                    ($l:literal) => {
                        if $l < depth {
                            let base = (1usize << $l) - 1;
                            // SAFETY: `l < depth = log2(N)` (l <= 7) and every lane of `j` is
                            // in `0..2^l` (starts at 0; each level maps j to 2 j or 2 j + 1).
                            // Level `l` holds heap nodes `base = 2^l - 1 .. 2^(l + 1) - 1`;
                            // `pick_level::<l>` reads `base .. base + max(16, 2^l)`: for l <= 4
                            // that ends at most at 15 + 16 = 31 < MIN_SLOTS, else at
                            // 2^(l + 1) - 1 < N; both within thr/off, checked above to hold
                            // max(N, MIN_SLOTS) entries (4-byte entries read as i32). The
                            // register permutes have no memory operand. The value gather reads
                            // xt[(f + p) & (XT - 1)] (f32, scale 4), in bounds whatever `f`
                            // holds. AVX-512F is enabled in this function.
                            unsafe {
                                let tl = thr.add(base).cast::<i32>();
                                let ol = off.add(base);
                                for (g, (j, p)) in ix.iter_mut().zip(&lanes).enumerate() {
                                    let t = _mm512_castsi512_ps(pick_level::<$l>(tl, *j));
                                    let f = pick_level::<$l>(ol, *j);
                                    let v = if W <= 4 {
                                        // f * 16 + lane: permutex2var picks x[f][lane] from
                                        // two registers.
                                        let k = _mm512_add_epi32(_mm512_srli_epi32::<2>(f), lane);
                                        let lo = _mm512_permutex2var_ps(xs[g][0], k, xs[g][1]);
                                        if W <= 2 {
                                            lo
                                        } else {
                                            let hi = _mm512_permutex2var_ps(xs[g][2], k, xs[g][3]);
                                            let upper = _mm512_test_epi32_mask(k, two_cols);
                                            _mm512_mask_blend_ps(upper, lo, hi)
                                        }
                                    } else {
                                        _mm512_i32gather_ps::<4>(
                                            _mm512_and_si512(_mm512_add_epi32(f, *p), xt_mask),
                                            xt.as_ptr(),
                                        )
                                    };
                                    let right = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, t);
                                    let twice = _mm512_add_epi32(*j, *j);
                                    *j = _mm512_mask_add_epi32(twice, right, twice, one);
                                }
                            }
                        }
                    };
                }
                level!(0);
                level!(1);
                level!(2);
                level!(3);
                level!(4);
                level!(5);
                level!(6);
                level!(7);
                // SAFETY: after the `depth` levels every lane of `ix` is in `0..2^depth = N`
                // (the level loop above; N <= 256 so all 8 levels ran), and tree.leaf.len() == N
                // was checked above: the f64 gathers (scale 8) read within `leaf`. The loads and
                // stores at acc[16 g .. 16 g + 16] end at 16 G = BLOCK = acc.len().
                unsafe {
                    let leaf = tree.leaf.as_ptr();
                    for (g, li) in ix.iter().enumerate() {
                        let li = *li;
                        let lo = _mm512_i32gather_pd::<8>(_mm512_castsi512_si256(li), leaf);
                        let hi = _mm512_i32gather_pd::<8>(_mm512_extracti64x4_epi64::<1>(li), leaf);
                        let a = acc.as_mut_ptr().add(16 * g);
                        _mm512_storeu_pd(a, _mm512_add_pd(_mm512_loadu_pd(a), lo));
                        _mm512_storeu_pd(a.add(8), _mm512_add_pd(_mm512_loadu_pd(a.add(8)), hi));
                    }
                }
            }
            for (dst, &a) in o.iter_mut().zip(&acc) {
                *dst = (-a / denom).exp2();
            }
        }
    }

    fn score_blocks_dyn(&self, data: &[f64], out: &mut [f64]) {
        let d = self.n_features;
        let internal = (1usize << self.depth) - 1;
        let denom = self.norm * self.trees.len() as f64;
        let mut xt = vec![0.0f32; d * BLOCK];
        let mut idx = [0u32; BLOCK];
        let mut acc = [0.0f64; BLOCK];
        for (o, x) in out.chunks_mut(BLOCK).zip(data.chunks(BLOCK * d)) {
            let m = o.len();
            // Column-major copy of the block at f32 precision: x of point p, column f at f*BLOCK+p.
            for p in 0..m {
                for f in 0..d {
                    xt[f * BLOCK + p] = to_f32(x[p * d + f]);
                }
            }
            acc.fill(0.0);
            for tree in &self.trees {
                idx.fill(0);
                for _ in 0..self.depth {
                    for (p, i) in idx.iter_mut().enumerate() {
                        let n = *i as usize;
                        let v = xt[tree.off[n] as usize + p];
                        *i = 2 * *i + 1 + u32::from(v > tree.thr[n]);
                    }
                }
                for (a, &i) in acc.iter_mut().zip(&idx) {
                    *a += tree.leaf[i as usize - internal];
                }
            }
            for (dst, &a) in o.iter_mut().zip(&acc) {
                *dst = (-a / denom).exp2();
            }
        }
    }
}

/// The 32-bit entries `p[j]` of one tree level, 8 lanes, `j` in `0..2^LEVEL`, `LEVEL <= 7`: one
/// register permute for up to 8 nodes, permutes blended by the index bits above for 16 and 32
/// nodes, a gather for 64 and 128.
///
/// # Safety
/// AVX2 must be available, `p` must be readable for `max(8, 2^LEVEL)` `i32` entries and, for
/// `LEVEL >= 6` (a gather), every lane of `j` must be in `0..2^LEVEL` (the permutes use only the
/// low 3 bits of each lane and have no memory operand).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(unsafe_code)]
unsafe fn pick_level_avx2<const LEVEL: u32>(
    p: *const i32,
    j: std::arch::x86_64::__m256i,
) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::{
        __m256i, _mm256_blendv_epi8, _mm256_i32gather_epi32, _mm256_loadu_si256,
        _mm256_permutevar8x32_epi32, _mm256_setzero_si256, _mm256_slli_epi32, _mm256_srai_epi32,
    };
    // SAFETY: the register loads read p[0..8] (LEVEL <= 3) or p[8 k..8 k + 8] for
    // k < 2^(LEVEL - 3) (LEVEL 4, 5), i.e. p[0..max(8, 2^LEVEL)]; the gather (LEVEL >= 6) reads
    // p[j] with j in 0..2^LEVEL; all readable by this function's contract; AVX2 is enabled.
    unsafe {
        if LEVEL <= 3 {
            return _mm256_permutevar8x32_epi32(_mm256_loadu_si256(p.cast()), j);
        }
        if LEVEL >= 6 {
            return _mm256_i32gather_epi32::<4>(p, j);
        }
        let regs = 1usize << (LEVEL.clamp(3, 5) - 3);
        let mut v = [_mm256_setzero_si256(); 4];
        for (k, vk) in v.iter_mut().enumerate().take(regs) {
            *vk = _mm256_permutevar8x32_epi32(_mm256_loadu_si256(p.add(8 * k).cast()), j);
        }
        // Bit 3 of j, then bit 4, spread to all bytes of its lane (shift to the sign bit, then
        // arithmetic shift right) for the byte blend.
        let m3: __m256i = _mm256_srai_epi32::<31>(_mm256_slli_epi32::<28>(j));
        v[0] = _mm256_blendv_epi8(v[0], v[1], m3);
        if regs == 4 {
            let m4: __m256i = _mm256_srai_epi32::<31>(_mm256_slli_epi32::<27>(j));
            v[2] = _mm256_blendv_epi8(v[2], v[3], m3);
            v[0] = _mm256_blendv_epi8(v[0], v[2], m4);
        }
        v[0]
    }
}

/// The 32-bit entries `p[j]` of one tree level, 16 lanes, `j` in `0..2^LEVEL`, `LEVEL <= 7`,
/// without gathers: one register permute for up to 16 nodes, two-register permutes blended by
/// the index bits above for 32 to 128 nodes.
///
/// # Safety
/// AVX-512F must be available and `p` must be readable for `max(16, 2^LEVEL)` `i32` entries
/// (no gathers: `j` only selects within registers, so any `j` is memory-safe).
#[cfg(all(target_arch = "x86_64", aiops_avx512))]
#[target_feature(enable = "avx512f")]
#[allow(unsafe_code, clippy::incompatible_msrv)] // compiled only by Rust >= 1.89 (build.rs)
unsafe fn pick_level<const LEVEL: u32>(
    p: *const i32,
    j: std::arch::x86_64::__m512i,
) -> std::arch::x86_64::__m512i {
    use std::arch::x86_64::{
        _mm512_loadu_si512, _mm512_mask_blend_epi32, _mm512_permutex2var_epi32,
        _mm512_permutexvar_epi32, _mm512_set1_epi32, _mm512_test_epi32_mask,
    };
    // SAFETY: the register loads read p[0..16] (LEVEL <= 4) or p[32 k..32 k + 32] for
    // k < 2^(LEVEL - 5) (LEVEL 5..=7), i.e. p[0..max(16, 2^LEVEL)], readable by this function's
    // contract; AVX-512F is enabled.
    unsafe {
        if LEVEL <= 4 {
            return _mm512_permutexvar_epi32(j, _mm512_loadu_si512(p.cast()));
        }
        let pairs = 1usize << (LEVEL.max(5) - 5);
        let mut v = [_mm512_set1_epi32(0); 4];
        for (k, vk) in v.iter_mut().enumerate().take(pairs) {
            *vk = _mm512_permutex2var_epi32(
                _mm512_loadu_si512(p.add(32 * k).cast()),
                j,
                _mm512_loadu_si512(p.add(32 * k + 16).cast()),
            );
        }
        let (mut width, mut bit) = (pairs, 32);
        while width > 1 {
            let upper = _mm512_test_epi32_mask(j, _mm512_set1_epi32(bit));
            for k in 0..width / 2 {
                v[k] = _mm512_mask_blend_epi32(upper, v[2 * k], v[2 * k + 1]);
            }
            width /= 2;
            bit <<= 1;
        }
        v[0]
    }
}

/// A compiled form of the Isolation Forest scoring kernel, for
/// [`FittedIsolationForest::score_with`] (benchmarking and diagnostics; [`score`] always runs
/// the best available one). All give bit-identical scores.
///
/// [`score`]: FittedIsolationForest::score
///
/// ```
/// use aiops_anomaly::ScoreKernel;
/// assert!(ScoreKernel::Portable.is_available());
/// assert!(ScoreKernel::Auto.resolve().is_available());
/// assert_eq!("avx2".parse::<ScoreKernel>(), Ok(ScoreKernel::Avx2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScoreKernel {
    /// The best kernel this CPU and build support (what [`FittedIsolationForest::score`] runs).
    Auto,
    /// Portable code, compiled for the build target (no run-time CPU features).
    Portable,
    /// Explicit AVX2 kernel (x86-64 CPUs with AVX2).
    Avx2,
    /// Explicit AVX-512 kernel (x86-64 CPUs with AVX-512F; built only by Rust >= 1.89, see the
    /// crate's `build.rs`).
    Avx512,
}

impl ScoreKernel {
    /// Every concrete kernel, the portable one first.
    pub const ALL: [ScoreKernel; 3] = [
        ScoreKernel::Portable,
        ScoreKernel::Avx2,
        ScoreKernel::Avx512,
    ];

    /// Whether this CPU and build can run the kernel (`Auto` always can).
    pub fn is_available(self) -> bool {
        match self {
            ScoreKernel::Auto | ScoreKernel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            ScoreKernel::Avx2 => std::is_x86_feature_detected!("avx2"),
            #[cfg(all(target_arch = "x86_64", aiops_avx512))]
            ScoreKernel::Avx512 => std::is_x86_feature_detected!("avx512f"),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The concrete kernel that runs when this one is asked for: itself when available,
    /// otherwise (and for `Auto`) the fastest available one.
    #[must_use]
    pub fn resolve(self) -> ScoreKernel {
        if self != ScoreKernel::Auto && self.is_available() {
            self
        } else {
            Self::best()
        }
    }

    /// The fastest kernel this CPU supports.
    fn best() -> ScoreKernel {
        [ScoreKernel::Avx512, ScoreKernel::Avx2]
            .into_iter()
            .find(|k| k.is_available())
            .unwrap_or(ScoreKernel::Portable)
    }

    /// The kernel's lower-case name: `auto`, `portable`, `avx2`, `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            ScoreKernel::Auto => "auto",
            ScoreKernel::Portable => "portable",
            ScoreKernel::Avx2 => "avx2",
            ScoreKernel::Avx512 => "avx512",
        }
    }
}

impl std::fmt::Display for ScoreKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ScoreKernel {
    type Err = AnomalyError;

    /// Parses a [`name`](ScoreKernel::name) (case-insensitive; `avx-512` and `avx512f` too).
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(ScoreKernel::Auto),
            "portable" => Ok(ScoreKernel::Portable),
            "avx2" => Ok(ScoreKernel::Avx2),
            "avx512" | "avx-512" | "avx512f" => Ok(ScoreKernel::Avx512),
            _ => Err(invalid(
                "kernel",
                s,
                "must be auto, portable, avx2 or avx512",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::prop_oneof;
    use proptest::strategy::Strategy;

    fn grid(n: usize) -> Vec<f64> {
        (0..n)
            .flat_map(|i| [(i % 17) as f64, ((i * 7) % 13) as f64])
            .collect()
    }

    #[test]
    fn c_matches_hand_computation() {
        // c(3) = 2 (ln 2 + gamma) - 4/3
        let want = 2.0 * (2f64.ln() + 0.577_215_664_901_532_9) - 4.0 / 3.0;
        assert!((average_path_length(3) - want).abs() < 1e-12);
        assert_eq!(average_path_length(0), 0.0);
    }

    #[test]
    fn tiny_forest_has_exact_scores() {
        // Two distinct points: every tree splits once, each leaf at depth 1 holds one sample:
        // h = 1 + c(1) = 1, c(psi = 2) = 1, score = 2^-1.
        let m = IsolationForest::new()
            .n_trees(10)
            .fit(&[0.0, 1.0], 1)
            .unwrap();
        for s in m.score(&[0.0, 1.0, 0.5, -3.0]).unwrap() {
            assert!((s - 0.5).abs() < 1e-12, "{s}");
        }
        // Two identical points: no split possible, root leaf with c(2) = 1: h = 1, score 0.5.
        let m = IsolationForest::new()
            .n_trees(3)
            .fit(&[4.0, 4.0], 1)
            .unwrap();
        assert!((m.score_one(&[4.0]).unwrap() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn outlier_scores_highest_and_offset_matches_contamination() {
        let mut data = grid(300);
        data.extend([50.0, -40.0]);
        let m = IsolationForest::new().fit(&data, 2).unwrap();
        let s = m.score(&data).unwrap();
        let max = s.iter().copied().fold(0.0, f64::max);
        assert_eq!(s[300], max);
        let flagged = m.predict(&data).unwrap().iter().filter(|&&b| b).count();
        // The offset is the 10th percentile of score_samples: about 10% flagged (ties aside).
        assert!((1..=31).contains(&flagged), "{flagged}");
        assert!(m.predict(&[50.0, -40.0]).unwrap()[0]);
        let auto = IsolationForest::new()
            .contamination(Contamination::Auto)
            .fit(&data, 2)
            .unwrap();
        assert_eq!(auto.offset(), -0.5);
    }

    #[test]
    fn deterministic_per_seed() {
        let data = grid(500);
        let a = IsolationForest::new()
            .fit(&data, 2)
            .unwrap()
            .score(&data)
            .unwrap();
        let b = IsolationForest::new()
            .fit(&data, 2)
            .unwrap()
            .score(&data)
            .unwrap();
        let c = IsolationForest::new()
            .seed(7)
            .fit(&data, 2)
            .unwrap()
            .score(&data)
            .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn bad_input_is_an_error() {
        let p = IsolationForest::new();
        assert!(matches!(
            p.fit(&[1.0, 2.0, 3.0], 2),
            Err(AnomalyError::Shape { .. })
        ));
        assert!(matches!(
            p.fit(&[1.0], 1),
            Err(AnomalyError::NotEnoughData { .. })
        ));
        assert!(matches!(
            p.fit(&[1.0, f64::NAN, 2.0, 3.0], 2),
            Err(AnomalyError::NonFinite {
                row: 0,
                column: 1,
                ..
            })
        ));
        assert!(
            p.clone()
                .contamination(Contamination::Fraction(0.6))
                .check()
                .is_err()
        );
        assert!(p.clone().max_features(0.0).check().is_err());
        let m = p.fit(&grid(20), 2).unwrap();
        assert!(m.score_one(&[1.0]).is_err());
        assert!(m.score(&[f64::INFINITY, 0.0]).is_err());
    }

    #[test]
    fn every_kernel_is_bit_identical_to_the_portable_one() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        // Depths 1..=10 (9 and 10 take the generic kernel), 1..=17 columns (17 too), row counts
        // that are and are not multiples of the 64-point block, ties from rounded values.
        let cases = [
            (2, 1, 2),
            (5, 2, 3),
            (40, 3, 5),
            (100, 4, 9),
            (130, 1, 17),
            (300, 5, 33),
            (500, 4, 64),
            (700, 7, 100),
            (1000, 4, 256),
            (1000, 16, 256),
            (1500, 17, 256),
            (1200, 3, 300),
            (2000, 2, 1000),
        ];
        let mut checked = 0;
        for (n, d, psi) in cases {
            let data: Vec<f64> = (0..n * d)
                .map(|k| {
                    let u: f64 = rng.r#gen();
                    match k % 3 {
                        0 => (u * 8.0).round() - 4.0,
                        1 => (u - 0.5) * 1e3,
                        _ => (1.0 - u).ln() * if rng.r#gen::<bool>() { 1.0 } else { -1.0 },
                    }
                })
                .collect();
            for max_features in [1.0, 0.5] {
                let m = IsolationForest::new()
                    .n_trees(7)
                    .max_samples(MaxSamples::Count(psi))
                    .max_features(max_features)
                    .seed(n as u64)
                    .fit(&data, d)
                    .unwrap();
                let queries: Vec<f64> = data.iter().map(|v| v * 1.5 - 0.25).collect();
                // Values equal to split thresholds (ties go left): each column's value is a
                // threshold drawn on that column somewhere in the forest, or the raw value.
                let splits: Vec<(usize, f64)> = m
                    .trees
                    .iter()
                    .flat_map(|t| t.thr.iter().zip(&t.off))
                    .filter(|(t, _)| t.is_finite())
                    .map(|(&t, &o)| (o as usize / BLOCK, f64::from(t)))
                    .collect();
                let ties: Vec<f64> = (0..n * d)
                    .map(|k| {
                        let col: Vec<f64> = splits
                            .iter()
                            .filter(|s| s.0 == k % d)
                            .map(|s| s.1)
                            .collect();
                        if col.is_empty() {
                            data[k]
                        } else {
                            col[rng.gen_range(0..col.len())]
                        }
                    })
                    .collect();
                for x in [
                    &data[..],
                    &queries[..],
                    &ties[..],
                    &data[..d],
                    &ties[..(n.min(65)) * d],
                ] {
                    let rows = x.len() / d;
                    let mut want = vec![0.0; rows];
                    m.score_serial(ScoreKernel::Portable, x, &mut want);
                    assert!(want.iter().all(|s| (0.0..=1.0).contains(s)));
                    for k in ScoreKernel::ALL {
                        if !k.is_available() {
                            continue;
                        }
                        let mut got = vec![-1.0; rows];
                        m.score_serial(k, x, &mut got);
                        let same = got
                            .iter()
                            .zip(&want)
                            .all(|(a, b)| a.to_bits() == b.to_bits());
                        assert!(same, "{k:?} n={n} d={d} psi={psi} rows={rows}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked >= cases.len() * 8);
    }

    #[test]
    fn values_beyond_f32_range_saturate_instead_of_panicking() {
        // Regression: 1e300 became +inf at f32 precision and the split draw over [0, inf)
        // panicked in `fit`.
        let data = [1e300, 0.0, 1.0, -1e300, 2.0, 3e38, -3.5e38, 1e39];
        let m = IsolationForest::new().n_trees(20).fit(&data, 1).unwrap();
        let q = [1e300, -1e300, f64::MAX, f64::MIN, 0.5, 3.4e38];
        let s = m.score(&q).unwrap();
        assert!(s.iter().all(|v| (0.0..=1.0).contains(v)), "{s:?}");
        // Saturation: anything above the f32 range scores as f32::MAX does.
        assert_eq!(s[0], s[2]);
        assert_eq!(s[0], m.score_one(&[f64::from(f32::MAX)]).unwrap());
        assert_eq!(s[1], s[3]);
        // Two columns: one all beyond the f32 range (constant at f32 precision), one usable.
        let data2: Vec<f64> = (0..40)
            .flat_map(|i| [1e300 * f64::from(i + 1), f64::from(i % 7)])
            .collect();
        let m2 = IsolationForest::new().n_trees(5).fit(&data2, 2).unwrap();
        assert_eq!(m2.score(&data2).unwrap().len(), 40);
        assert!(matches!(
            IsolationForest::new().fit(&[], 1 << 27),
            Err(AnomalyError::InvalidParam {
                name: "n_features",
                ..
            })
        ));
    }

    /// Obviously-correct scalar reference: walks each tree recursively from the root, going
    /// right when the value (at saturated `f32` precision) is `>` the node's threshold, until a
    /// leaf (a node with an infinite threshold, i.e. no split, or the depth limit); there
    /// `h = depth + c(m)` with the leaf's sample count `m` recovered from the stored path length
    /// (asserted to be `depth + c(m)` exactly for an integer `m`). Also asserts each tree's
    /// leaf counts add up to `max_samples`. Score `2^(-sum h / (c(psi) * trees))`.
    fn reference_scores(m: &FittedIsolationForest, data: &[f64]) -> Vec<f64> {
        fn leaf_slot(node: usize, level: u32, depth: u32) -> usize {
            // An early leaf's value sits at the bottom of its always-left chain.
            let mut n = node;
            for _ in level..depth {
                n = 2 * n + 1;
            }
            n - ((1usize << depth) - 1)
        }
        fn leaf_count(m: &FittedIsolationForest, stored: f64, level: u32) -> usize {
            let count =
                (1..=m.max_samples).find(|&k| f64::from(level) + average_path_length(k) == stored);
            assert!(count.is_some(), "leaf at level {level} stores {stored}");
            count.unwrap_or(0)
        }
        fn walk(m: &FittedIsolationForest, t: &Tree, node: usize, level: u32, x: &[f64]) -> f64 {
            if level == m.depth || t.thr[node].is_infinite() {
                let stored = t.leaf[leaf_slot(node, level, m.depth)];
                return f64::from(level) + average_path_length(leaf_count(m, stored, level));
            }
            let col = t.off[node] as usize / BLOCK;
            assert!(col < m.n_features);
            let v = (x[col] as f32).clamp(-f32::MAX, f32::MAX);
            let child = if v > t.thr[node] {
                2 * node + 2
            } else {
                2 * node + 1
            };
            walk(m, t, child, level + 1, x)
        }
        fn total(m: &FittedIsolationForest, t: &Tree, node: usize, level: u32) -> usize {
            if level == m.depth || t.thr[node].is_infinite() {
                let stored = t.leaf[leaf_slot(node, level, m.depth)];
                return leaf_count(m, stored, level);
            }
            total(m, t, 2 * node + 1, level + 1) + total(m, t, 2 * node + 2, level + 1)
        }
        for t in &m.trees {
            assert_eq!(total(m, t, 0, 0), m.max_samples);
        }
        let c = average_path_length(m.max_samples);
        data.chunks(m.n_features)
            .map(|x| {
                let mut sum = 0.0;
                for t in &m.trees {
                    sum += walk(m, t, 0, 0, x);
                }
                (-sum / (c * m.trees.len() as f64)).exp2()
            })
            .collect()
    }

    /// Every available kernel (and `Auto`) against the portable one and the reference, bit for
    /// bit; returns the number of kernels compared.
    fn assert_kernels_match_reference(m: &FittedIsolationForest, x: &[f64]) -> usize {
        let want = reference_scores(m, x);
        let (portable, ran) = m.score_with(ScoreKernel::Portable, x).unwrap();
        assert_eq!(ran, ScoreKernel::Portable);
        let bits = |v: &[f64]| v.iter().map(|s| s.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&portable), bits(&want), "portable vs reference");
        let mut compared = 0;
        for k in ScoreKernel::ALL.into_iter().chain([ScoreKernel::Auto]) {
            let (got, ran) = m.score_with(k, x).unwrap();
            assert!(ran != ScoreKernel::Auto && ran.is_available());
            if k.is_available() && k != ScoreKernel::Auto {
                assert_eq!(ran, k);
            }
            assert_eq!(bits(&got), bits(&want), "{k:?} (ran {ran:?}) vs reference");
            compared += 1;
        }
        assert_eq!(bits(&m.score(x).unwrap()), bits(&want));
        compared
    }

    /// Values that stress the f32 conversion and ties: small integers (ties, duplicate rows,
    /// constant columns), signed zeros, subnormals, values at and beyond the f32 range.
    fn tricky_value() -> impl proptest::strategy::Strategy<Value = f64> {
        use proptest::prelude::*;
        prop_oneof![
            4 => (-3i32..=3).prop_map(f64::from),
            4 => -1e3f64..1e3,
            1 => Just(-0.0),
            1 => Just(0.0),
            1 => prop_oneof![Just(1e-310), Just(-1e-310), Just(1e-40), Just(-1e-45)],
            1 => prop_oneof![
                Just(f64::from(f32::MAX)),
                Just(-f64::from(f32::MAX)),
                Just(3.5e38),
                Just(-1e300),
                Just(f64::MAX),
            ],
        ]
    }

    #[test]
    fn deep_and_shallow_trees_match_reference() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        // max_samples 2, 3, 256, 4096 (depth 12, the generic kernel), a constant column,
        // duplicate rows, and 3 columns.
        let n = 4200;
        let data: Vec<f64> = (0..n)
            .flat_map(|i| {
                let u: f64 = rng.r#gen();
                [
                    (u * 50.0).round(),
                    7.0,
                    if i % 3 == 0 { 1.0 } else { u * 1e6 },
                ]
            })
            .collect();
        for psi in [2, 3, 256, 4096] {
            let m = IsolationForest::new()
                .n_trees(3)
                .max_samples(MaxSamples::Count(psi))
                .fit(&data, 3)
                .unwrap();
            assert_eq!(m.max_samples(), psi);
            assert_eq!(assert_kernels_match_reference(&m, &data[..300 * 3]), 4);
        }
    }

    #[test]
    fn non_finite_and_width_errors() {
        let m = IsolationForest::new().n_trees(3).fit(&grid(30), 2).unwrap();
        for (i, bad) in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY]
            .into_iter()
            .enumerate()
        {
            let mut x = grid(5);
            x[2 * i + 1] = bad;
            for k in [
                ScoreKernel::Auto,
                ScoreKernel::Portable,
                ScoreKernel::Avx512,
            ] {
                assert!(matches!(
                    m.score_with(k, &x),
                    Err(AnomalyError::NonFinite { row, column: 1, .. }) if row == i
                ));
            }
            assert!(matches!(
                IsolationForest::new().fit(&x, 2),
                Err(AnomalyError::NonFinite { row, column: 1, .. }) if row == i
            ));
        }
        // Fitted on 2 columns: a 3-column row or a ragged matrix is a shape error.
        assert!(matches!(
            m.score_one(&[1.0, 2.0, 3.0]),
            Err(AnomalyError::Shape {
                expected: 2,
                got: 3
            })
        ));
        assert!(matches!(
            m.score(&[1.0, 2.0, 3.0]),
            Err(AnomalyError::Shape { expected: 2, .. })
        ));
        assert!(matches!(
            m.score_with(ScoreKernel::Avx2, &[1.0; 5]),
            Err(AnomalyError::Shape { expected: 2, .. })
        ));
        // No rows: no scores.
        assert_eq!(
            m.score_with(ScoreKernel::Auto, &[]).unwrap().0,
            Vec::<f64>::new()
        );
        assert!("avx3".parse::<ScoreKernel>().is_err());
        for k in ScoreKernel::ALL.into_iter().chain([ScoreKernel::Auto]) {
            assert_eq!(k.name().parse::<ScoreKernel>(), Ok(k));
            assert_eq!(k.to_string(), k.name());
        }
    }

    #[test]
    fn fitted_is_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<FittedIsolationForest>();
    }

    proptest::proptest! {
        /// Over the shape space (1..=64 columns, 2..=150 rows, any max_samples 2..=n, any
        /// max_features, 1..=4 trees, tricky values), every kernel is bit-identical to the
        /// reference scorer on the training data, on queries beyond it and on threshold ties.
        #[test]
        fn every_kernel_matches_the_reference_scorer(
            (d, rows) in (1usize..=64).prop_flat_map(|d| {
                (
                    proptest::strategy::Just(d),
                    proptest::collection::vec(
                        proptest::collection::vec(tricky_value(), d),
                        2..=(if d > 16 { 40 } else { 150 }),
                    ),
                )
            }),
            psi_frac in 0.0f64..=1.0,
            max_features in prop_oneof![proptest::strategy::Just(1.0), 0.01f64..=1.0],
            n_trees in 1usize..=4,
            seed in 0u64..1000,
            queries in proptest::collection::vec(tricky_value(), 0..=200),
            auto in proptest::bool::ANY,
        ) {
            let n = rows.len();
            let data: Vec<f64> = rows.concat();
            let psi = 2 + ((n - 2) as f64 * psi_frac).round() as usize;
            let m = IsolationForest::new()
                .n_trees(n_trees)
                .max_samples(MaxSamples::Count(psi))
                .max_features(max_features)
                .contamination(if auto { Contamination::Auto } else { Contamination::Fraction(0.1) })
                .seed(seed)
                .fit(&data, d)
                .unwrap();
            proptest::prop_assert_eq!(m.max_samples(), psi);
            proptest::prop_assert!(m.offset().is_finite());
            assert_kernels_match_reference(&m, &data);
            let k = queries.len() / d * d;
            assert_kernels_match_reference(&m, &queries[..k]);
            // Ties: each value replaced by a threshold of its column where there is one.
            let ties: Vec<f64> = data
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    m.trees
                        .iter()
                        .flat_map(|t| t.thr.iter().zip(&t.off))
                        .filter(|(t, o)| t.is_finite() && **o as usize / BLOCK == i % d)
                        .nth(i / d)
                        .map_or(v, |(t, _)| f64::from(*t))
                })
                .collect();
            assert_kernels_match_reference(&m, &ties);
        }

        #[test]
        fn scores_in_unit_interval(
            xs in proptest::collection::vec(-1e6f64..1e6, 4..200),
            q in proptest::collection::vec(-1e7f64..1e7, 2..20),
        ) {
            let n = xs.len() / 2 * 2;
            let m = IsolationForest::new().n_trees(10).fit(&xs[..n], 2).unwrap();
            let k = q.len() / 2 * 2;
            for s in m.score(&q[..k]).unwrap() {
                proptest::prop_assert!((0.0..=1.0).contains(&s));
            }
        }
    }
}
