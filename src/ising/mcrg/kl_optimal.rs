//! The Chung-Kao criterion on 2 x 2 blocks: a stochastic block-spin rule whose
//! normalising factor is closest in KL divergence to the data.

use ndarray::{Array2, ArrayView2};
use rand::seq::SliceRandom;
use rand::{Rng, RngCore};

use super::block::{block_histogram, block_spins, spin_configurations, BLOCK_STATES};
use super::{check_configuration, BlockRule, CoarseGrain};
use crate::data::Dataset;
use crate::error::{Error, Result};

/// Newton iterations of [`KlOptimal::fit_block_distribution`] at most.
const MAX_ITERATIONS: usize = 500;

/// Half-width of the uniform initial weights of [`KlOptimal::fit_cd`] without a warm
/// start ("initialized uniformly around zero", Chung and Kao).
const INIT_SCALE: f64 = 0.01;

/// The KL-optimal stochastic coarse-graining of J.-H. Chung and Y.-J. Kao
/// (arXiv:1912.09005), on non-overlapping 2 x 2 blocks.
///
/// The weight factor of block `j` is an RBM conditional,
///
/// ```text
/// P(h_j | v_j) = exp(h_j w . v_j) / Y_j,   Y_j(v_j) = 2 cosh(w . v_j),   P(+1 | v) = sigma(2 w . v),
/// ```
///
/// with four weights `w` shared by every block (translation invariance), and `w` is
/// chosen to minimise `D(p || Y / sum Y)`, `p` the Boltzmann distribution and
/// `Y = prod_j Y_j`. Because the blocks do not overlap, `sum_sigma Y(sigma) =
/// (sum_v 2 cosh(w . v))^(N/4)` is exact, `Y / sum Y` is a product of identical block
/// distributions `q_w(v) = cosh(w . v) / sum_v' cosh(w . v')`, and
///
/// ```text
/// D / N = -s - l(w) / 4,   l(w) = sum_v p_hat(v) ln cosh(w . v) - ln sum_v cosh(w . v)
/// ```
///
/// (`s` the entropy per site, `p_hat` the histogram of the data's 2 x 2 blocks): the
/// criterion is maximum likelihood of the block histogram under `q_w`, evaluated
/// and differentiated exactly from 16 numbers; no contrastive divergence is needed.
/// `l` is maximised by damped Newton steps with exact gradient and Hessian,
///
/// ```text
/// dl/dw   = E_p_hat[tanh(w.v) v] - E_q[tanh(w.v) v]
/// d2l/dw2 = E_p_hat[sech^2(w.v) v v^T] - (E_q[v v^T] - E_q[tanh(w.v) v] E_q[tanh(w.v) v]^T)
/// ```
///
/// Deviation from the paper: Chung and Kao use 8 x 8 filters (overlapping, so
/// `sum Y` is a lattice partition function, trained by CD-3 and ADAM); here each
/// coarse spin sees only its own 2 x 2 block, as in majority rule.
///
/// **Wider filters** ([`KlOptimal::fit_cd`], `filter = f > 2`, even): the coarse spin
/// of block `(a, b)` couples to the `f x f` window centred on its block (rows
/// `2a - (f-2)/2 ..`, periodic), `P(mu_j = +1 | sigma) = sigma(2 x_j)`, `x_j = W .
/// sigma_window(j)`, one filter `W` shared by all blocks, as in the paper. The
/// windows overlap, `sum Y` is no longer a product, and the gradient
///
/// ```text
/// -dD/dW = E_p[g] - E_q[g],   g(sigma) = (1/N_b) sum_j tanh(x_j) sigma_window(j),   q propto Y
/// ```
///
/// is estimated by contrastive divergence: `q` is the visible marginal of the RBM
/// `exp(sum_j mu_j x_j)`, sampled by `cd_steps` block-Gibbs sweeps from each data
/// configuration (`mu | sigma` and `sigma | mu` both factorise), with ADAM.
/// The defaults of [`KlCdOptions`] are the paper's (CD-3, batches of 10, small
/// random start, free filter, the rate decaying over the first half of the
/// epochs), except for 200 epochs instead of 50, which leave the filter
/// unconverged; `persistent` replaces CD's restarts from the data by persistent chains
/// (PCD: a less biased estimate of `E_q[g]`), and `warm_start` / `symmetrise` give
/// the older variant described in `docs/ising.md`.
#[derive(Clone, Debug, PartialEq)]
pub struct KlOptimal {
    filter: usize,
    /// `filter x filter`, row-major.
    weights: Vec<f64>,
    objective: f64,
    /// The table `P(+1 | v)` when `filter = 2`.
    rule: Option<BlockRule>,
}

/// Settings of [`KlOptimal::fit_cd`], builder-style, checked by
/// [`validate`](Self::validate).
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `filter` | 8 | side `f` of the (even) filter centred on the block |
/// | `epochs` | 200 | passes over the training configurations (paper: 50; 50 are not converged: `y_t` 0.988 against 0.995 after 200, `docs/ising.md`) |
/// | `batch` | 10 | configurations per gradient step |
/// | `cd_steps` | 3 | block-Gibbs sweeps of CD-k |
/// | `learning_rate` | `1e-3` | ADAM step size at the start ... |
/// | `final_learning_rate` | `1e-4` | ... decayed as `1/sqrt` to this ... |
/// | `decay_fraction` | 0.5 | ... at this fraction of the steps, constant after (as the paper) |
/// | `warm_start` | false | start from uniform weights in `[-0.01, 0.01]`, as the paper (`true`: from the exact 2 x 2 optimum) |
/// | `persistent` | false | `true`: the negative samples continue `batch` persistent chains (PCD) instead of restarting from the batch's data (CD) |
/// | `symmetrise` | false | `true`: average the filter over the square's 8 symmetries about the block centre after every step (the paper does not; it excludes the learned site-centred optimum, `docs/ising.md`) |
///
/// ```
/// use tnlearn::ising::mcrg::KlCdOptions;
///
/// let options = KlCdOptions::new().filter(4).epochs(5);
/// options.validate()?;
/// assert!(KlCdOptions::new().filter(3).validate().is_err()); // the filter side must be even
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KlCdOptions {
    /// Filter side (even, `2..=32`).
    pub filter: usize,
    /// Epochs (at least 1).
    pub epochs: usize,
    /// Minibatch size (at least 1).
    pub batch: usize,
    /// Gibbs sweeps per negative sample (at least 1).
    pub cd_steps: usize,
    /// Initial ADAM step (finite, `> 0`).
    pub learning_rate: f64,
    /// Final ADAM step (finite, `> 0`).
    pub final_learning_rate: f64,
    /// Fraction of the steps over which the rate decays (in `(0, 1]`).
    pub decay_fraction: f64,
    /// Start from the exact 2 x 2 optimum (else small uniform random weights).
    pub warm_start: bool,
    /// Symmetrise the filter over the 8 symmetries of the square after every step.
    pub symmetrise: bool,
    /// Persistent chains for the negative phase (PCD) instead of CD's restarts.
    pub persistent: bool,
}

impl Default for KlCdOptions {
    fn default() -> Self {
        KlCdOptions {
            filter: 8,
            epochs: 200,
            batch: 10,
            cd_steps: 3,
            learning_rate: 1e-3,
            final_learning_rate: 1e-4,
            decay_fraction: 0.5,
            warm_start: false,
            symmetrise: false,
            persistent: false,
        }
    }
}

macro_rules! cd_setter {
    ($name:ident, $ty:ty) => {
        #[doc = concat!("Sets `", stringify!($name), "`.")]
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = value;
            self
        }
    };
}

impl KlCdOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }
    cd_setter!(filter, usize);
    cd_setter!(epochs, usize);
    cd_setter!(batch, usize);
    cd_setter!(cd_steps, usize);
    cd_setter!(learning_rate, f64);
    cd_setter!(final_learning_rate, f64);
    cd_setter!(decay_fraction, f64);
    cd_setter!(warm_start, bool);
    cd_setter!(symmetrise, bool);
    cd_setter!(persistent, bool);

    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the setting: an odd filter or one outside
    /// `2..=32`, zero epochs, batch or CD steps, a learning rate that is not finite
    /// and positive, a decay fraction outside `(0, 1]`.
    pub fn validate(&self) -> Result<()> {
        if self.filter < 2 || self.filter > 32 || self.filter % 2 != 0 {
            return Err(Error::invalid_argument(
                "filter",
                format!("must be even and in 2..=32, got {}", self.filter),
            ));
        }
        for (name, v) in [
            ("epochs", self.epochs),
            ("batch", self.batch),
            ("cd_steps", self.cd_steps),
        ] {
            if v == 0 {
                return Err(Error::invalid_argument(name, "must be at least 1"));
            }
        }
        for (name, v) in [
            ("learning_rate", self.learning_rate),
            ("final_learning_rate", self.final_learning_rate),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid_argument(
                    name,
                    format!("must be finite and > 0, got {v}"),
                ));
            }
        }
        if !(self.decay_fraction > 0.0 && self.decay_fraction <= 1.0) {
            return Err(Error::invalid_argument(
                "decay_fraction",
                format!("must be in (0, 1], got {}", self.decay_fraction),
            ));
        }
        Ok(())
    }
}

/// The ADAM step size after `frac` of the training: `lr_0 / sqrt(1 + s (r^2 - 1))`,
/// `s = min(frac / decay_fraction, 1)`, `r = lr_0 / lr_final`, so it falls as
/// `1/sqrt` from `lr_0` to `lr_final` at `decay_fraction` and stays there.
fn learning_rate(options: &KlCdOptions, frac: f64) -> f64 {
    let s = (frac / options.decay_fraction).min(1.0);
    let r = options.learning_rate / options.final_learning_rate;
    options.learning_rate / (1.0 + s * (r * r - 1.0)).sqrt()
}

/// `x` with its periodic images laid out so that the `f x f` window of block
/// `(a, b)` is rows `2a..2a + f`, columns `2b..2b + f` of the result (side
/// `P = L + f - 2`, row-major): `padded[r][c] = x[(r - o) mod L][(c - o) mod L]`,
/// `o = (f - 2) / 2`. The window loops then run over contiguous memory.
fn padded(x: &Array2<i8>, filter: usize) -> (Vec<f64>, usize) {
    let l = x.nrows();
    let o = (filter - 2) / 2;
    let side = l + filter - 2;
    let mut out = vec![0.0; side * side];
    for (r, row) in out.chunks_exact_mut(side).enumerate() {
        let src = (r + l - o) % l;
        for (c, s) in row.iter_mut().enumerate() {
            *s = f64::from(x[[src, (c + l - o) % l]]);
        }
    }
    (out, side)
}

/// The fields `x_j = W . sigma_window(j)` of every block, from the padded lattice
/// (row-major over the `L/2 x L/2` coarse lattice).
fn padded_fields(pad: &[f64], side: usize, filter: usize, w: &[f64]) -> Vec<f64> {
    let m = (side + 2 - filter) / 2;
    let mut out = vec![0.0; m * m];
    for a in 0..m {
        for b in 0..m {
            let mut f = 0.0;
            for u in 0..filter {
                let start = (2 * a + u) * side + 2 * b;
                let row = &pad[start..start + filter];
                let wr = &w[u * filter..(u + 1) * filter];
                f += row.iter().zip(wr).map(|(s, w)| s * w).sum::<f64>();
            }
            out[a * m + b] = f;
        }
    }
    out
}

/// The fields `x_j = W . sigma_window(j)` of every block of `x` (row-major over the
/// `L/2 x L/2` coarse lattice).
fn block_fields(x: &Array2<i8>, filter: usize, w: &[f64]) -> Vec<f64> {
    let (pad, side) = padded(x, filter);
    padded_fields(&pad, side, filter, w)
}

/// Adds `g(x) = (1/N_b) sum_j tanh(x_j) sigma_window(j)` to `acc` (weighted by
/// `scale`); `g = (1/N_b) d ln Y / dW`.
fn add_statistic(x: &Array2<i8>, filter: usize, w: &[f64], scale: f64, acc: &mut [f64]) {
    let (pad, side) = padded(x, filter);
    let fields = padded_fields(&pad, side, filter, w);
    let m = x.nrows() / 2;
    let s = scale / (m * m) as f64;
    for a in 0..m {
        for b in 0..m {
            let t = fields[a * m + b].tanh() * s;
            for u in 0..filter {
                let start = (2 * a + u) * side + 2 * b;
                let row = &pad[start..start + filter];
                for (g, &v) in acc[u * filter..(u + 1) * filter].iter_mut().zip(row) {
                    *g += t * v;
                }
            }
        }
    }
}

/// One block-Gibbs sweep of the RBM `exp(sum_j mu_j W . sigma_window(j))`:
/// `mu ~ P(mu | sigma)`, then `sigma ~ P(sigma | mu)`.
fn gibbs_sweep<R: Rng + ?Sized>(x: &mut Array2<i8>, filter: usize, w: &[f64], rng: &mut R) {
    let l = x.nrows();
    let m = l / 2;
    let o = (filter - 2) / 2;
    let (pad, side) = padded(x, filter);
    let fields = padded_fields(&pad, side, filter, w);
    // The field on every (padded) site from the coarse spins, folded back below.
    let mut ypad = vec![0.0; side * side];
    for a in 0..m {
        for b in 0..m {
            let p = 1.0 / (1.0 + (-2.0 * fields[a * m + b]).exp());
            let mu = if rng.random::<f64>() < p { 1.0 } else { -1.0 };
            for u in 0..filter {
                let start = (2 * a + u) * side + 2 * b;
                let wr = &w[u * filter..(u + 1) * filter];
                for (y, &wv) in ypad[start..start + filter].iter_mut().zip(wr) {
                    *y += mu * wv;
                }
            }
        }
    }
    let mut y = Array2::<f64>::zeros((l, l));
    for (r, row) in ypad.chunks_exact(side).enumerate() {
        let dst = (r + l - o) % l;
        for (c, &v) in row.iter().enumerate() {
            y[[dst, (c + l - o) % l]] += v;
        }
    }
    for (s, &f) in x.iter_mut().zip(y.iter()) {
        let p = 1.0 / (1.0 + (-2.0 * f).exp());
        *s = if rng.random::<f64>() < p { 1 } else { -1 };
    }
}

/// Averages a `f x f` filter over the 8 symmetries of the square about its centre.
fn symmetrise(w: &mut [f64], f: usize) {
    let orig = w.to_vec();
    for u in 0..f {
        for v in 0..f {
            let (a, b) = (u, v);
            let (ra, rb) = (f - 1 - u, f - 1 - v);
            let images = [
                (a, b),
                (b, ra),
                (ra, rb),
                (rb, a),
                (a, rb),
                (ra, b),
                (b, a),
                (rb, ra),
            ];
            w[u * f + v] = images.iter().map(|&(p, q)| orig[p * f + q]).sum::<f64>() / 8.0;
        }
    }
}

/// `(w . v)` for every block configuration.
fn fields(w: &[f64; 4]) -> [f64; BLOCK_STATES] {
    std::array::from_fn(|i| {
        let v = block_spins(i);
        (0..4).map(|k| w[k] * f64::from(v[k])).sum()
    })
}

/// `ln cosh x` without overflow.
fn ln_cosh(x: f64) -> f64 {
    let a = x.abs();
    a + (-2.0 * a).exp().ln_1p() - std::f64::consts::LN_2
}

/// `l(w)`, its gradient and Hessian for the block distribution `p`.
fn objective(p: &[f64; BLOCK_STATES], w: &[f64; 4]) -> (f64, [f64; 4], [[f64; 4]; 4]) {
    let x = fields(w);
    let lc: Vec<f64> = x.iter().map(|&x| ln_cosh(x)).collect();
    let max = lc.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = lc.iter().map(|&l| (l - max).exp()).sum();
    let ln_z = max + z.ln();
    let mut value = -ln_z;
    let mut grad = [0.0; 4];
    let mut hess = [[0.0; 4]; 4];
    let mut gq = [0.0; 4];
    for i in 0..BLOCK_STATES {
        let v = block_spins(i).map(f64::from);
        let t = x[i].tanh();
        let q = (lc[i] - ln_z).exp();
        value += p[i] * lc[i];
        for k in 0..4 {
            grad[k] += (p[i] - q) * t * v[k];
            gq[k] += q * t * v[k];
            for m in 0..4 {
                hess[k][m] += (p[i] * (1.0 - t * t) - q) * v[k] * v[m];
            }
        }
    }
    for k in 0..4 {
        for m in 0..4 {
            hess[k][m] += gq[k] * gq[m];
        }
    }
    (value, grad, hess)
}

/// The first four weights as an array (filter 2).
fn rule_weights(w: &[f64]) -> [f64; 4] {
    [w[0], w[1], w[2], w[3]]
}

/// Solves the 4 x 4 system `a x = b` by Gaussian elimination with partial pivoting;
/// `None` if singular.
fn solve4(mut a: [[f64; 4]; 4], mut b: [f64; 4]) -> Option<[f64; 4]> {
    for col in 0..4 {
        let piv = (col..4).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        for row in col + 1..4 {
            let f = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (x, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 4];
    for row in (0..4).rev() {
        let s: f64 = (row + 1..4).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Damped Newton ascent of `l` from `w`; returns the final `(w, l(w))`.
fn newton(p: &[f64; BLOCK_STATES], mut w: [f64; 4]) -> ([f64; 4], f64) {
    let (mut value, mut grad, mut hess) = objective(p, &w);
    let mut mu = 1e-3;
    for _ in 0..MAX_ITERATIONS {
        if grad.iter().map(|g| g.abs()).fold(0.0, f64::max) < 1e-12 {
            break;
        }
        let mut improved = false;
        while mu < 1e12 {
            let mut a = hess.map(|row| row.map(|h| -h));
            for (k, row) in a.iter_mut().enumerate() {
                row[k] += mu;
            }
            if let Some(step) = solve4(a, grad) {
                let trial: [f64; 4] = std::array::from_fn(|k| w[k] + step[k]);
                let (v, g, h) = objective(p, &trial);
                if v.is_finite() && v >= value {
                    (w, value, grad, hess) = (trial, v, g, h);
                    mu = (mu * 0.3).max(1e-12);
                    improved = true;
                    break;
                }
            }
            mu *= 10.0;
        }
        if !improved {
            break;
        }
    }
    (w, value)
}

impl KlOptimal {
    /// The rule with weights `w` (no fitting).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if a weight is not finite.
    pub fn from_weights(w: [f64; 4]) -> Result<Self> {
        if let Some(k) = w.iter().position(|x| !x.is_finite()) {
            return Err(Error::invalid_argument(
                "w",
                format!("weight {k} is {}, but weights must be finite", w[k]),
            ));
        }
        let up: Vec<f64> = fields(&w)
            .iter()
            .map(|&x| 1.0 / (1.0 + (-2.0 * x).exp()))
            .collect();
        Ok(KlOptimal {
            filter: 2,
            weights: w.to_vec(),
            objective: f64::NAN,
            rule: Some(BlockRule::new("kl-optimal", &up)?),
        })
    }

    /// The rule with an `f x f` filter `weights` (row-major, centred on the block as
    /// in [`KlOptimal::fit_cd`]), e.g. one saved from an earlier fit; `filter = 2`
    /// gives [`KlOptimal::from_weights`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an odd filter or one outside `2..=32`, a
    /// length other than `f^2`, or a weight that is not finite.
    pub fn from_filter(filter: usize, weights: &[f64]) -> Result<Self> {
        KlCdOptions::new().filter(filter).validate()?;
        if weights.len() != filter * filter {
            return Err(Error::invalid_argument(
                "weights",
                format!(
                    "a {filter} x {filter} filter needs {} weights, got {}",
                    filter * filter,
                    weights.len()
                ),
            ));
        }
        if let Some(k) = weights.iter().position(|x| !x.is_finite()) {
            return Err(Error::invalid_argument(
                "weights",
                format!("weight {k} is {}, but weights must be finite", weights[k]),
            ));
        }
        if filter == 2 {
            return Self::from_weights(rule_weights(weights));
        }
        Ok(KlOptimal {
            filter,
            weights: weights.to_vec(),
            objective: f64::NAN,
            rule: None,
        })
    }

    /// Fits an `f x f` filter by contrastive divergence (see the type's docs) on
    /// `data` (bits, `1` = up, image shape `(L, L)`, `L` even and `>= f`).
    /// `filter = 2` also goes through CD (a check against the exact
    /// [`KlOptimal::fit`]).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for invalid options or data that are not binary
    /// `L x L` configurations with `L` even and at least the filter.
    pub fn fit_cd<R: Rng + ?Sized>(
        data: &Dataset,
        options: &KlCdOptions,
        rng: &mut R,
    ) -> Result<Self> {
        options.validate()?;
        let configs = spin_configurations(data)?;
        let f = options.filter;
        let l = configs[0].nrows();
        if l < f {
            return Err(Error::invalid_argument(
                "data",
                format!("the lattice side {l} is smaller than the filter {f}"),
            ));
        }
        let o = (f - 2) / 2;
        let mut w = vec![0.0; f * f];
        if options.warm_start {
            let centre = Self::fit_block_distribution(&block_histogram(&configs))?.weights;
            for (k, &c) in centre.iter().enumerate() {
                w[(o + k / 2) * f + o + k % 2] = c;
            }
        } else {
            w.iter_mut()
                .for_each(|x| *x = rng.random_range(-INIT_SCALE..INIT_SCALE));
        }
        if options.symmetrise {
            symmetrise(&mut w, f);
        }
        let (mut m1, mut m2) = (vec![0.0; f * f], vec![0.0; f * f]);
        let (beta1, beta2, eps) = (0.9, 0.999, 1e-8);
        let steps_per_epoch = configs.len().div_ceil(options.batch);
        let total = (steps_per_epoch * options.epochs).max(1) as f64;
        let mut order: Vec<usize> = (0..configs.len()).collect();
        let mut step = 0usize;
        // PCD: `batch` chains started from random training configurations.
        let mut chains: Vec<Array2<i8>> = if options.persistent {
            (0..options.batch)
                .map(|_| configs[rng.random_range(0..configs.len())].clone())
                .collect()
        } else {
            Vec::new()
        };
        for _ in 0..options.epochs {
            order.shuffle(rng);
            for chunk in order.chunks(options.batch) {
                let mut grad = vec![0.0; f * f];
                let scale = 1.0 / chunk.len() as f64;
                // The negative phase: `cd_steps` Gibbs sweeps of `neg`, then its
                // statistic with weight `-weight`.
                let mut negative = |neg: &mut Array2<i8>, weight: f64, grad: &mut [f64]| {
                    for _ in 0..options.cd_steps {
                        gibbs_sweep(neg, f, &w, rng);
                    }
                    add_statistic(neg, f, &w, -weight, grad);
                };
                for &i in chunk {
                    add_statistic(&configs[i], f, &w, scale, &mut grad);
                    if !options.persistent {
                        negative(&mut configs[i].clone(), scale, &mut grad);
                    }
                }
                if options.persistent {
                    let chain_scale = 1.0 / chains.len() as f64;
                    for neg in &mut chains {
                        negative(neg, chain_scale, &mut grad);
                    }
                }
                if options.symmetrise {
                    symmetrise(&mut grad, f);
                }
                step += 1;
                let lr = learning_rate(options, step as f64 / total);
                let t = step as i32;
                for k in 0..f * f {
                    m1[k] = beta1 * m1[k] + (1.0 - beta1) * grad[k];
                    m2[k] = beta2 * m2[k] + (1.0 - beta2) * grad[k] * grad[k];
                    let mh = m1[k] / (1.0 - beta1.powi(t));
                    let vh = m2[k] / (1.0 - beta2.powi(t));
                    // Ascent on -D.
                    w[k] += lr * mh / (vh.sqrt() + eps);
                }
            }
        }
        if w.iter().sum::<f64>() < 0.0 {
            w.iter_mut().for_each(|x| *x = -*x);
        }
        if f == 2 {
            let mut rule = Self::from_weights([w[0], w[1], w[2], w[3]])?;
            rule.objective = objective(&block_histogram(&configs), &rule_weights(&w)).0;
            return Ok(rule);
        }
        Ok(KlOptimal {
            filter: f,
            weights: w,
            objective: f64::NAN,
            rule: None,
        })
    }

    /// Fits `w` to the 2 x 2 blocks of `data` (bits, `1` = up, image shape `(L, L)`
    /// with `L` even; every block of every configuration is pooled), as
    /// [`KlOptimal::fit_block_distribution`] on their histogram.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `data` for data that are not binary `L x L`
    /// configurations with `L` even.
    pub fn fit(data: &Dataset) -> Result<Self> {
        let configs = spin_configurations(data)?;
        Self::fit_block_distribution(&block_histogram(&configs))
    }

    /// Maximises `l(w)` for the block distribution `p` (16 probabilities indexed by
    /// [`block_index`](super::block_index)) from the 8 starts `w = (1/2, +-1/2, +-1/2,
    /// +-1/2)` (`l` is not concave; `w = 0` is stationary) by damped Newton steps (Levenberg: `(mu I - H) dw = grad`, `mu` raised until `l`
    /// increases) until the gradient is below `1e-12`; the sign of `w` (which does
    /// not change `Y`) is fixed by `sum w >= 0`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `p` if it has negative or non-finite
    /// entries or does not sum to 1 (to `1e-9`).
    pub fn fit_block_distribution(p: &[f64; BLOCK_STATES]) -> Result<Self> {
        if p.iter().any(|x| !x.is_finite() || *x < 0.0)
            || (p.iter().sum::<f64>() - 1.0).abs() > 1e-9
        {
            return Err(Error::invalid_argument(
                "p",
                "the block distribution must have 16 non-negative entries summing to 1",
            ));
        }
        // l is not concave and w = 0 is a stationary point: start from the 8 sign
        // patterns of (1/2, +-1/2, +-1/2, +-1/2) and keep the best optimum.
        let mut best: Option<([f64; 4], f64)> = None;
        for signs in 0..8u32 {
            let start: [f64; 4] = std::array::from_fn(|k| {
                if k > 0 && signs >> (k - 1) & 1 == 1 {
                    -0.5
                } else {
                    0.5
                }
            });
            let (w, value) = newton(p, start);
            if best.is_none_or(|(_, v)| value > v) {
                best = Some((w, value));
            }
        }
        let (mut w, value) = best.expect("eight starts");
        if w.iter().sum::<f64>() < 0.0 {
            w = w.map(|x| -x);
        }
        let mut rule = Self::from_weights(w)?;
        rule.objective = value;
        Ok(rule)
    }

    /// The filter `W` (`filter x filter`, row-major; for `filter = 2` the block
    /// weights `w`).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The filter side `f` (2: the block itself).
    pub fn filter(&self) -> usize {
        self.filter
    }

    /// `l(w)` on the fitted block distribution (NaN for [`KlOptimal::from_weights`]
    /// and for filters wider than 2, whose normaliser is not a product).
    pub fn objective(&self) -> f64 {
        self.objective
    }

    /// The Chung-Kao divergence per site, `D(p || Y / sum Y) / N = -s - l(w) / 4`,
    /// given the exact entropy per site `s` of the distribution the data came from
    /// (e.g. [`exact::exact`](crate::ising::exact::exact)); NaN if not fitted.
    pub fn kl_per_site(&self, entropy_per_site: f64) -> f64 {
        -entropy_per_site - self.objective / 4.0
    }

    /// The rule as a table `P(+1 | v)` (filter 2 only; `None` for wider filters).
    pub fn rule(&self) -> Option<&BlockRule> {
        self.rule.as_ref()
    }
}

impl CoarseGrain for KlOptimal {
    fn name(&self) -> String {
        if self.filter == 2 {
            "kl-optimal".into()
        } else {
            format!("kl-optimal {0}x{0}", self.filter)
        }
    }

    fn scale_factor(&self) -> usize {
        2
    }

    fn coarse_grain(&self, fine: ArrayView2<'_, i8>, rng: &mut dyn RngCore) -> Result<Array2<i8>> {
        if let Some(rule) = &self.rule {
            return rule.coarse_grain(fine, rng);
        }
        let l = check_configuration(fine, 2)?;
        if l < self.filter {
            return Err(Error::shape_mismatch(
                format!(
                    "KL-optimal coarse-graining with a {0} x {0} filter",
                    self.filter
                ),
                [self.filter; 2],
                [l, l],
            ));
        }
        let x = fine.to_owned();
        let fields = block_fields(&x, self.filter, &self.weights);
        let m = l / 2;
        Ok(Array2::from_shape_fn((m, m), |(a, b)| {
            let p = 1.0 / (1.0 + (-2.0 * fields[a * m + b]).exp());
            if rng.random::<f64>() < p {
                1
            } else {
                -1
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn random_lattice(l: usize, rng: &mut StdRng) -> Array2<i8> {
        Array2::from_shape_fn((l, l), |_| if rng.random::<bool>() { 1 } else { -1 })
    }

    fn random_filter(f: usize, scale: f64, rng: &mut StdRng) -> Vec<f64> {
        (0..f * f)
            .map(|_| rng.random_range(-scale..scale))
            .collect()
    }

    /// `ln Y / N_b = (1/N_b) sum_j ln 2 cosh(x_j)` by the reference definition of the
    /// windows (rows `2a - o + u mod L`).
    fn ln_y(x: &Array2<i8>, f: usize, w: &[f64]) -> f64 {
        let l = x.nrows();
        let (m, o) = (l / 2, (f - 2) / 2);
        let mut total = 0.0;
        for a in 0..m {
            for b in 0..m {
                let mut field = 0.0;
                for u in 0..f {
                    for v in 0..f {
                        let (r, c) = ((2 * a + l + u - o) % l, (2 * b + l + v - o) % l);
                        field += w[u * f + v] * f64::from(x[[r, c]]);
                    }
                }
                total += (2.0 * field.cosh()).ln();
            }
        }
        total / (m * m) as f64
    }

    #[test]
    fn the_statistic_is_the_gradient_of_ln_y() {
        let mut rng = StdRng::seed_from_u64(3);
        for (l, f) in [(8, 4), (8, 8), (10, 6), (6, 2)] {
            let x = random_lattice(l, &mut rng);
            let w = random_filter(f, 0.4, &mut rng);
            let mut g = vec![0.0; f * f];
            add_statistic(&x, f, &w, 1.0, &mut g);
            let h = 1e-6;
            for k in 0..f * f {
                let (mut up, mut down) = (w.clone(), w.clone());
                up[k] += h;
                down[k] -= h;
                let numeric = (ln_y(&x, f, &up) - ln_y(&x, f, &down)) / (2.0 * h);
                assert!(
                    (numeric - g[k]).abs() < 1e-8,
                    "L {l} f {f} k {k}: {numeric} vs {}",
                    g[k]
                );
            }
        }
    }

    /// Contrastive divergence's negative phase: block-Gibbs sweeps sample the RBM's
    /// visible marginal `q propto Y`, so with many sweeps the average statistic tends
    /// to the exact `E_q[g]` (and CD-k to the exact gradient `E_p[g] - E_q[g]`),
    /// here enumerated over the 2^16 states of the 4 x 4 torus with a 4 x 4 filter
    /// (every window overlaps every other).
    #[test]
    fn gibbs_sweeps_sample_the_normaliser_exactly() {
        let (l, f) = (4, 4);
        let mut rng = StdRng::seed_from_u64(5);
        let w = random_filter(f, 0.35, &mut rng);
        let mut exact = vec![0.0; f * f];
        let mut weights = Vec::with_capacity(1 << 16);
        let mut stats = Vec::with_capacity(1 << 16);
        for s in 0..1u32 << 16 {
            let x = Array2::from_shape_fn(
                (l, l),
                |(r, c)| {
                    if s >> (r * l + c) & 1 == 1 {
                        1
                    } else {
                        -1
                    }
                },
            );
            let mut g = vec![0.0; f * f];
            add_statistic(&x, f, &w, 1.0, &mut g);
            weights.push(ln_y(&x, f, &w) * 4.0);
            stats.push(g);
        }
        let max = weights.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = weights.iter().map(|lw| (lw - max).exp()).sum();
        for (lw, g) in weights.iter().zip(&stats) {
            let q = (lw - max).exp() / z;
            for (e, gk) in exact.iter_mut().zip(g) {
                *e += q * gk;
            }
        }
        // Batch means over a long chain.
        let (batches, per_batch) = (50, 1000);
        let mut x = random_lattice(l, &mut rng);
        let mut means = vec![vec![0.0; f * f]; batches];
        for mean in &mut means {
            for _ in 0..per_batch {
                gibbs_sweep(&mut x, f, &w, &mut rng);
                add_statistic(&x, f, &w, 1.0 / per_batch as f64, mean);
            }
        }
        for k in 0..f * f {
            let avg = means.iter().map(|m| m[k]).sum::<f64>() / batches as f64;
            let var = means.iter().map(|m| (m[k] - avg).powi(2)).sum::<f64>()
                / ((batches - 1) * batches) as f64;
            let err = var.sqrt();
            assert!(
                (avg - exact[k]).abs() < 5.0 * err + 1e-3,
                "component {k}: chain {avg} +- {err}, exact {}",
                exact[k]
            );
        }
    }

    #[test]
    fn the_rate_decays_to_its_final_value_and_stays() {
        let o = KlCdOptions::new().decay_fraction(0.5);
        assert!((learning_rate(&o, 0.0) - 1e-3).abs() < 1e-15);
        assert!((learning_rate(&o, 0.5) - 1e-4).abs() < 1e-15);
        assert!((learning_rate(&o, 0.9) - 1e-4).abs() < 1e-15);
        let full = KlCdOptions::new().decay_fraction(1.0);
        assert!(learning_rate(&full, 0.5) > 1e-4 && learning_rate(&full, 0.5) < 1e-3);
        assert!((learning_rate(&full, 1.0) - 1e-4).abs() < 1e-15);
        assert!(KlCdOptions::new().decay_fraction(0.0).validate().is_err());
        assert!(KlCdOptions::new().decay_fraction(1.5).validate().is_err());
    }

    #[test]
    fn from_filter_round_trips_and_checks() {
        let mut rng = StdRng::seed_from_u64(8);
        let w = random_filter(4, 0.5, &mut rng);
        let rule = KlOptimal::from_filter(4, &w).unwrap();
        assert_eq!((rule.filter(), rule.weights()), (4, &w[..]));
        let x = random_lattice(8, &mut rng);
        assert_eq!(block_fields(&x, 4, &w).len(), 16);
        assert!(KlOptimal::from_filter(4, &w[..15]).is_err());
        assert!(KlOptimal::from_filter(3, &w[..9]).is_err());
        assert!(KlOptimal::from_filter(2, &[1.0, f64::NAN, 0.0, 0.0]).is_err());
        assert!(KlOptimal::from_filter(2, &[1.0; 4])
            .unwrap()
            .rule()
            .is_some());
    }
}
