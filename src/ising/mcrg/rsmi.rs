//! Real-space mutual information (RSMI, Koch-Janusz and Ringel): the block spin
//! `h = sign(lambda . v)` that keeps the most information about the block's distant
//! environment, and the estimator of `I(H : E)` it is chosen by.

use ndarray::{Array2, ArrayView2};
use rand::seq::index::sample as sample_indices;
use rand::{Rng, RngCore};

use super::block::{block_index, block_spins, spin_configurations, BLOCK_STATES};
use super::{BlockRule, CoarseGrain};
use crate::data::Dataset;
use crate::error::{Error, Result};

/// An estimate of a mutual information in nats (see [`estimate_mutual_information`]).
///
/// ```
/// use tnlearn::ising::mcrg::RsmiOptions;
///
/// // Rsmi::fit returns the candidates' estimates; the options are checked up front.
/// assert!(RsmiOptions::new().environment(2).windows(1000).validate().is_ok());
/// assert!(RsmiOptions::new().ridge(-1.0).validate().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MiEstimate {
    /// The estimate `H_hat(H) - CE`, nats.
    pub nats: f64,
    /// Its standard error (from the spread of per-group means over test groups).
    pub std_error: f64,
    /// Plug-in entropy `H_hat(H)` of the binary variable on the test set, nats.
    pub entropy_h: f64,
    /// Held-out cross-entropy `CE = -mean ln q(h | e)` of the fitted classifier.
    pub cross_entropy: f64,
}

/// Settings of [`Rsmi::fit`], builder-style, checked by [`validate`](Self::validate).
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `buffer` | 1 | width of the ring of sites between block and environment |
/// | `environment` | 2 | width of the environment ring beyond the buffer |
/// | `windows` | 100 000 | (block, environment) windows for training and as many for testing |
/// | `ridge` | `1e-4` | L2 penalty per window of the logistic fits |
///
/// ```
/// use tnlearn::ising::mcrg::RsmiOptions;
///
/// let options = RsmiOptions::new().environment(2).windows(20_000);
/// options.validate()?;
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RsmiOptions {
    /// Buffer width (sites at Chebyshev distance `1..=buffer` from the block).
    pub buffer: usize,
    /// Environment width (distance `buffer + 1 ..= buffer + environment`), at least 1.
    pub environment: usize,
    /// Windows drawn for training the classifiers, and as many for testing.
    pub windows: usize,
    /// Ridge penalty (times the number of windows) of the logistic fits, `>= 0`.
    pub ridge: f64,
}

impl Default for RsmiOptions {
    fn default() -> Self {
        RsmiOptions {
            buffer: 1,
            environment: 2,
            windows: 100_000,
            ridge: 1e-4,
        }
    }
}

impl RsmiOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets `buffer`.
    pub fn buffer(mut self, buffer: usize) -> Self {
        self.buffer = buffer;
        self
    }
    /// Sets `environment`.
    pub fn environment(mut self, environment: usize) -> Self {
        self.environment = environment;
        self
    }
    /// Sets `windows`.
    pub fn windows(mut self, windows: usize) -> Self {
        self.windows = windows;
        self
    }
    /// Sets `ridge`.
    pub fn ridge(mut self, ridge: f64) -> Self {
        self.ridge = ridge;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the setting: `environment = 0`, `windows < 2`,
    /// a negative or non-finite `ridge`, or a window side `2 + 2 (buffer +
    /// environment)` that overflows or exceeds 64.
    pub fn validate(&self) -> Result<()> {
        if self.environment == 0 {
            return Err(Error::invalid_argument(
                "environment",
                "the environment ring must be at least 1 site wide",
            ));
        }
        if self.windows < 2 {
            return Err(Error::invalid_argument(
                "windows",
                format!("need at least 2 windows, got {}", self.windows),
            ));
        }
        if !(self.ridge.is_finite() && self.ridge >= 0.0) {
            return Err(Error::invalid_argument(
                "ridge",
                format!("must be finite and >= 0, got {}", self.ridge),
            ));
        }
        match self.window_side() {
            Some(s) if s <= 64 => Ok(()),
            _ => Err(Error::invalid_argument(
                "environment",
                "the window 2 + 2 (buffer + environment) must be at most 64 sites wide",
            )),
        }
    }

    /// `2 + 2 (buffer + environment)`, `None` on overflow.
    fn window_side(&self) -> Option<usize> {
        self.buffer
            .checked_add(self.environment)?
            .checked_mul(2)?
            .checked_add(2)
    }
}

/// `sigma(x) = 1 / (1 + e^-x)` and `ln sigma(x)`, stable.
fn ln_sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        -(-x).exp().ln_1p()
    } else {
        x - x.exp().ln_1p()
    }
}

/// Logistic regression `q(h = 1 | e) = sigma(beta_0 + beta . e)` by Newton's method
/// (IRLS) with ridge penalty `ridge * n |beta|^2 / 2` (the intercept unpenalised);
/// returns `beta` (intercept first).
fn fit_logistic(h: &[bool], env: ArrayView2<'_, i8>, ridge: f64) -> Result<Vec<f64>> {
    let (n, d) = env.dim();
    let p = d + 1;
    let mut beta = vec![0.0; p];
    let penalty = ridge * n as f64;
    let mut x = vec![0.0; p];
    for _ in 0..50 {
        let mut grad = vec![0.0; p];
        let mut hess = vec![0.0; p * p];
        for (row, &y) in env.rows().into_iter().zip(h) {
            x[0] = 1.0;
            for (xi, &e) in x[1..].iter_mut().zip(row) {
                *xi = f64::from(e);
            }
            let eta: f64 = beta.iter().zip(&x).map(|(b, x)| b * x).sum();
            let s = 1.0 / (1.0 + (-eta).exp());
            let r = f64::from(u8::from(y)) - s;
            let w = s * (1.0 - s);
            for i in 0..p {
                grad[i] += r * x[i];
                let wx = w * x[i];
                for j in i..p {
                    hess[i * p + j] += wx * x[j];
                }
            }
        }
        for i in 1..p {
            grad[i] -= penalty * beta[i];
            hess[i * p + i] += penalty;
        }
        hess[0] += 1e-9 * n as f64;
        for i in 0..p {
            for j in 0..i {
                hess[i * p + j] = hess[j * p + i];
            }
        }
        let step = cholesky_solve(&mut hess, &grad, p).ok_or_else(|| Error::NoConvergence {
            routine: "logistic fit of the RSMI estimator".into(),
            detail: "a Newton step met a singular Hessian; use ridge > 0".into(),
        })?;
        let mut max_step: f64 = 0.0;
        for (b, s) in beta.iter_mut().zip(&step) {
            // Newton steps on a logistic likelihood can overshoot far from the optimum
            // (separable data): cap each coordinate's move.
            *b += s.clamp(-5.0, 5.0);
            max_step = max_step.max(s.abs());
        }
        if max_step < 1e-9 {
            break;
        }
    }
    Ok(beta)
}

/// Solves `a x = b` for a symmetric positive definite `p x p` matrix `a` (overwritten
/// by its Cholesky factor); `None` if not positive definite.
fn cholesky_solve(a: &mut [f64], b: &[f64], p: usize) -> Option<Vec<f64>> {
    for j in 0..p {
        let mut d = a[j * p + j];
        for k in 0..j {
            d -= a[j * p + k] * a[j * p + k];
        }
        if d.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        let d = d.sqrt();
        a[j * p + j] = d;
        for i in j + 1..p {
            let mut s = a[i * p + j];
            for k in 0..j {
                s -= a[i * p + k] * a[j * p + k];
            }
            a[i * p + j] = s / d;
        }
    }
    let mut y = b.to_vec();
    for i in 0..p {
        for k in 0..i {
            y[i] -= a[i * p + k] * y[k];
        }
        y[i] /= a[i * p + i];
    }
    for i in (0..p).rev() {
        for k in i + 1..p {
            y[i] -= a[k * p + i] * y[k];
        }
        y[i] /= a[i * p + i];
    }
    Some(y)
}

/// Estimates the mutual information `I(H : E)` between a binary variable `H` and a
/// vector `E` of spins `+-1` from samples, by the variational (Barber-Agakov) lower
/// bound with a logistic classifier:
///
/// ```text
/// I(H : E) = H(H) - H(H | E) >= H(H) + E_p[ln q(h | e)]   for every q,
/// q(h = 1 | e) = sigma(beta_0 + beta . e)
/// ```
///
/// with equality when `q` is the true conditional `p(h | e)`. `q` is fitted by
/// maximum likelihood (Newton, with ridge penalty `ridge * n_train`) on the training
/// windows; `E[ln q(h | e)]` is averaged over the held-out test windows (no
/// overfitting bias), `H(H)` is the plug-in binary entropy of the test labels. The
/// standard error is the spread of per-group means (`test_groups[i]` names the
/// configuration window `i` came from; windows of one configuration are correlated)
/// over the number of groups.
///
/// Why this estimator: `H` is binary, so `p(h | e)` is one logistic function of `e`
/// and the bound is tight exactly when its log-odds are linear in `e`. For a
/// Markov chain (the 1D Ising model, the known case of the tests) the log-odds of an
/// odd function of the block given the spins beyond a buffer depend only on the two
/// nearest environment spins and are odd, hence linear: the estimator is consistent.
/// In 2D it is a lower bound; the comparison of coarse-graining rules uses the
/// same `q` family for all of them.
///
/// # Errors
/// [`Error::InvalidArgument`] if the lengths disagree, a set is empty, `ridge` is
/// negative or not finite, or an environment entry is not `+-1`;
/// [`Error::NoConvergence`] if a Newton step meets a singular Hessian (use `ridge > 0`).
pub fn estimate_mutual_information(
    train_h: &[bool],
    train_env: ArrayView2<'_, i8>,
    test_h: &[bool],
    test_env: ArrayView2<'_, i8>,
    test_groups: &[usize],
    ridge: f64,
) -> Result<MiEstimate> {
    if train_h.len() != train_env.nrows()
        || test_h.len() != test_env.nrows()
        || test_groups.len() != test_h.len()
        || train_env.ncols() != test_env.ncols()
    {
        return Err(Error::invalid_argument(
            "train_h, train_env, test_h, test_env, test_groups",
            format!(
                "lengths disagree: {} labels for {} x {} training windows, {} labels and {} \
                 groups for {} x {} test windows",
                train_h.len(),
                train_env.nrows(),
                train_env.ncols(),
                test_h.len(),
                test_groups.len(),
                test_env.nrows(),
                test_env.ncols()
            ),
        ));
    }
    if train_h.is_empty() || test_h.is_empty() {
        return Err(Error::invalid_argument(
            "train_h, test_h",
            "need at least one training and one test window",
        ));
    }
    if !(ridge.is_finite() && ridge >= 0.0) {
        return Err(Error::invalid_argument(
            "ridge",
            format!("must be finite and >= 0, got {ridge}"),
        ));
    }
    for (name, env) in [("train_env", &train_env), ("test_env", &test_env)] {
        if let Some(((i, j), s)) = env.indexed_iter().find(|(_, &s)| s != 1 && s != -1) {
            return Err(Error::invalid_argument(
                name,
                format!("entry ({i}, {j}) is {s}, but environment spins must be +1 or -1"),
            ));
        }
    }
    let beta = fit_logistic(train_h, train_env, ridge)?;
    let n = test_h.len() as f64;
    let p_up = test_h.iter().filter(|&&h| h).count() as f64 / n;
    let entropy_h = -[p_up, 1.0 - p_up]
        .iter()
        .filter(|&&p| p > 0.0)
        .map(|&p| p * p.ln())
        .sum::<f64>();
    let ln_ph = |h: bool| if h { p_up.ln() } else { (1.0 - p_up).ln() };
    // Per-group sums of ln q(h | e) - ln p_hat(h).
    let mut sums = std::collections::BTreeMap::<usize, (f64, usize)>::new();
    let mut cross = 0.0;
    for ((row, &h), &g) in test_env.rows().into_iter().zip(test_h).zip(test_groups) {
        let eta = beta[0]
            + beta[1..]
                .iter()
                .zip(row)
                .map(|(b, &e)| b * f64::from(e))
                .sum::<f64>();
        let lq = if h { ln_sigmoid(eta) } else { ln_sigmoid(-eta) };
        cross -= lq;
        let entry = sums.entry(g).or_default();
        entry.0 += lq - ln_ph(h);
        entry.1 += 1;
    }
    let cross_entropy = cross / n;
    let means: Vec<f64> = sums.values().map(|s| s.0 / s.1 as f64).collect();
    let k = means.len() as f64;
    let mean = means.iter().sum::<f64>() / k;
    let var = if means.len() > 1 {
        means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (k - 1.0)
    } else {
        f64::NAN
    };
    Ok(MiEstimate {
        nats: entropy_h - cross_entropy,
        std_error: (var / k).sqrt(),
        entropy_h,
        cross_entropy,
    })
}

/// One candidate rule of [`Rsmi::fit`]: a class of functions `sign(lambda . v)` equal
/// up to the block's symmetries.
#[derive(Clone, Debug, PartialEq)]
pub struct RsmiCandidate {
    /// A representative `lambda` (grid point plus a small generic shift).
    pub lambda: [f64; 4],
    /// `h(v) = +1` for the block configurations (by [`block_index`]) in this table.
    pub table: [bool; BLOCK_STATES],
    /// Number of distinct tables in the class (rotations, reflections of the block
    /// and `h -> -h`), all with the same `I(H : E)` by symmetry.
    pub class_size: usize,
    /// The estimate of `I(H : E)`.
    pub mi: MiEstimate,
}

/// The RSMI coarse-graining of M. Koch-Janusz and Z. Ringel (Nature Physics 14,
/// 578 (2018)) on 2 x 2 blocks: the coarse spin `h = sign(lambda . v_block)` whose
/// `lambda` maximises the mutual information `I(H : E)` between `H` and the block's
/// environment `E` (the ring of sites at Chebyshev distance `buffer + 1 ..= buffer +
/// environment` from the block; default: beyond a buffer of one site, 2 sites wide,
/// 48 spins).
///
/// `h` depends on `lambda` only through the truth table of `sign(lambda . v)` on the
/// 16 block configurations, so the maximisation over `lambda` is a maximisation over
/// the finitely many linear threshold functions (odd, since `sign(lambda . (-v)) =
/// -sign(lambda . v)`). [`Rsmi::fit`] enumerates them from a grid of `lambda`
/// (components in `-3..=3` plus generic shifts that break ties), groups them into
/// classes under the symmetries of the block (the 8 rotations and reflections, and
/// `h -> -h`), which leave `I(H : E)` unchanged on a square lattice, estimates
/// `I(H : E)` for one table per class ([`estimate_mutual_information`], on
/// (block, environment) windows drawn from the training configurations, half of them
/// for fitting the classifier and half for evaluating it) and keeps the best.
///
/// Deviation from the paper: Koch-Janusz and Ringel use the stochastic RBM
/// conditional `P(h | v) propto exp(h lambda . v)` and estimate `I` with RBM
/// models of `(V, E)` and contrastive divergence; here `h` is deterministic (the
/// `sign` rule of the brief, the `lambda -> infinity` limit of theirs), `lambda`
/// is searched exhaustively and `I` is a held-out variational bound.
///
/// ```
/// use tnlearn::ising::mcrg::{CoarseGrain, Rsmi, RsmiOptions};
/// use tnlearn::ising::{sampling, Lattice};
/// use tnlearn::rand::{rngs::StdRng, SeedableRng};
///
/// let mut rng = StdRng::seed_from_u64(1);
/// let data = sampling::sample(&Lattice::square(8)?, 2.27, 40, &Default::default(), &mut rng)?;
/// let rule = Rsmi::fit(&data, &RsmiOptions::new().windows(500), &mut rng)?;
/// assert_eq!(rule.scale_factor(), 2);
/// assert!(!rule.candidates().is_empty()); // every class of sign(lambda . v), best first
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Rsmi {
    best: usize,
    candidates: Vec<RsmiCandidate>,
    rule: BlockRule,
}

/// The 8 symmetries of the 2 x 2 block as permutations of its row-major sites.
const BLOCK_SYMMETRIES: [[usize; 4]; 8] = [
    [0, 1, 2, 3],
    [1, 3, 0, 2],
    [3, 2, 1, 0],
    [2, 0, 3, 1],
    [1, 0, 3, 2],
    [2, 3, 0, 1],
    [0, 2, 1, 3],
    [3, 1, 2, 0],
];

/// The table as a 16-bit mask.
fn mask(table: &[bool; BLOCK_STATES]) -> u16 {
    table
        .iter()
        .enumerate()
        .fold(0, |m, (i, &t)| m | (u16::from(t) << i))
}

/// Every table of the symmetry class of `table` (as masks).
fn class_of(table: &[bool; BLOCK_STATES]) -> Vec<u16> {
    let mut out = Vec::new();
    for perm in BLOCK_SYMMETRIES {
        for flip in [false, true] {
            let t: [bool; BLOCK_STATES] = std::array::from_fn(|i| {
                let v = block_spins(i);
                let w = [v[perm[0]], v[perm[1]], v[perm[2]], v[perm[3]]];
                table[block_index(w)] != flip
            });
            out.push(mask(&t));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// One representative `(lambda, table)` per symmetry class of the functions
/// `sign(lambda . v)` on a 2 x 2 block, with the class sizes.
pub(crate) fn threshold_classes() -> Vec<([f64; 4], [bool; BLOCK_STATES], usize)> {
    let shifts = [
        [0.0101, 0.0037, 0.0023, 0.0011],
        [0.0011, 0.0023, 0.0037, 0.0101],
        [-0.0037, 0.0101, -0.0011, 0.0023],
    ];
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for code in 0..7usize.pow(4) {
        let grid: [f64; 4] =
            std::array::from_fn(|k| ((code / 7usize.pow(k as u32)) % 7) as f64 - 3.0);
        for shift in &shifts {
            let lambda: [f64; 4] = std::array::from_fn(|k| grid[k] + shift[k]);
            let table: [bool; BLOCK_STATES] = std::array::from_fn(|i| {
                let v = block_spins(i);
                (0..4).map(|k| lambda[k] * f64::from(v[k])).sum::<f64>() > 0.0
            });
            let class = class_of(&table);
            if seen.insert(class[0]) {
                out.push((lambda, table, class.len()));
            }
        }
    }
    out
}

/// Draws `count` (block, environment) windows from `configs[range]`; returns the
/// block configurations, the environments (`count x |E|`) and the group (index in
/// `range`) of each window.
fn windows<R: Rng + ?Sized>(
    configs: &[Array2<i8>],
    count: usize,
    options: &RsmiOptions,
    rng: &mut R,
) -> (Vec<usize>, Array2<i8>, Vec<usize>) {
    let l = configs[0].nrows();
    let m = l / 2;
    let inner = options.buffer as isize;
    let outer = (options.buffer + options.environment) as isize;
    // Offsets (relative to the block's top-left site) of the environment ring.
    let mut offsets = Vec::new();
    for dr in -outer..2 + outer {
        for dc in -outer..2 + outer {
            let dist = (if dr < 0 { -dr } else { dr - 1 }).max(if dc < 0 { -dc } else { dc - 1 });
            if dist > inner {
                offsets.push((dr, dc));
            }
        }
    }
    let per = count.div_ceil(configs.len()).clamp(1, m * m);
    let mut blocks = Vec::new();
    let mut env = Vec::new();
    let mut groups = Vec::new();
    'outer: for (g, x) in configs.iter().enumerate() {
        for b in sample_indices(rng, m * m, per) {
            if blocks.len() == count {
                break 'outer;
            }
            let (r, c) = (2 * (b / m), 2 * (b % m));
            blocks.push(block_index([
                x[[r, c]],
                x[[r, c + 1]],
                x[[r + 1, c]],
                x[[r + 1, c + 1]],
            ]));
            let li = l as isize;
            for &(dr, dc) in &offsets {
                let rr = (r as isize + dr).rem_euclid(li) as usize;
                let cc = (c as isize + dc).rem_euclid(li) as usize;
                env.push(x[[rr, cc]]);
            }
            groups.push(g);
        }
    }
    let n = blocks.len();
    let env = Array2::from_shape_vec((n, offsets.len()), env)
        .expect("one environment row of |E| entries per window");
    (blocks, env, groups)
}

impl Rsmi {
    /// Learns the rule from critical configurations `data` (bits, `1` = up, image
    /// shape `(L, L)`, `L` even): the first half of the configurations gives the
    /// training windows of the classifiers, the second half the test windows, about
    /// `options.windows` each (blocks drawn uniformly without replacement within a
    /// configuration, the same windows for every candidate).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for invalid options, data that are not binary
    /// `L x L` configurations, fewer than 2 configurations, or `L` smaller than the
    /// window `2 + 2 (buffer + environment)`; errors of
    /// [`estimate_mutual_information`].
    pub fn fit<R: Rng + ?Sized>(
        data: &Dataset,
        options: &RsmiOptions,
        rng: &mut R,
    ) -> Result<Self> {
        options.validate()?;
        let configs = spin_configurations(data)?;
        let side = options.window_side().unwrap_or(usize::MAX);
        let l = configs[0].nrows();
        if configs.len() < 2 || l < side {
            return Err(Error::invalid_argument(
                "data",
                format!(
                    "need at least 2 configurations of side >= {side} (the window), got {} of \
                     side {l}",
                    configs.len()
                ),
            ));
        }
        let half = configs.len() / 2;
        let (train_v, train_env, _) = windows(&configs[..half], options.windows, options, rng);
        let (test_v, test_env, test_groups) =
            windows(&configs[half..], options.windows, options, rng);
        let mut candidates = Vec::new();
        for (lambda, table, class_size) in threshold_classes() {
            let train_h: Vec<bool> = train_v.iter().map(|&v| table[v]).collect();
            let test_h: Vec<bool> = test_v.iter().map(|&v| table[v]).collect();
            let mi = estimate_mutual_information(
                &train_h,
                train_env.view(),
                &test_h,
                test_env.view(),
                &test_groups,
                options.ridge,
            )?;
            candidates.push(RsmiCandidate {
                lambda,
                table,
                class_size,
                mi,
            });
        }
        candidates.sort_by(|a, b| b.mi.nats.total_cmp(&a.mi.nats));
        let up: Vec<f64> = candidates[0]
            .table
            .iter()
            .map(|&t| f64::from(u8::from(t)))
            .collect();
        Ok(Rsmi {
            best: 0,
            rule: BlockRule::new("rsmi", &up)?,
            candidates,
        })
    }

    /// The chosen rule's `lambda` (a representative of its cone of `lambda`s).
    pub fn lambda(&self) -> [f64; 4] {
        self.candidates[self.best].lambda
    }

    /// The chosen rule's estimate of `I(H : E)`.
    pub fn mutual_information(&self) -> MiEstimate {
        self.candidates[self.best].mi
    }

    /// Every candidate class, best first.
    pub fn candidates(&self) -> &[RsmiCandidate] {
        &self.candidates
    }

    /// The rule as a (deterministic) table.
    pub fn rule(&self) -> &BlockRule {
        &self.rule
    }
}

impl CoarseGrain for Rsmi {
    fn name(&self) -> String {
        self.rule.name()
    }

    fn scale_factor(&self) -> usize {
        2
    }

    fn coarse_grain(&self, fine: ArrayView2<'_, i8>, rng: &mut dyn RngCore) -> Result<Array2<i8>> {
        self.rule.coarse_grain(fine, rng)
    }
}
