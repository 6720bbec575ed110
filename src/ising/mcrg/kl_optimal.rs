//! The Chung-Kao criterion on 2 x 2 blocks: a stochastic block-spin rule whose
//! normalising factor is closest in KL divergence to the data.

use ndarray::{Array2, ArrayView2};
use rand::RngCore;

use super::block::{block_histogram, block_spins, spin_configurations, BLOCK_STATES};
use super::{BlockRule, CoarseGrain};
use crate::data::Dataset;
use crate::error::{Error, Result};

/// Newton iterations of [`KlOptimal::fit_block_distribution`] at most.
const MAX_ITERATIONS: usize = 500;

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
#[derive(Clone, Debug, PartialEq)]
pub struct KlOptimal {
    weights: [f64; 4],
    objective: f64,
    rule: BlockRule,
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
            for k in col..4 {
                a[row][k] -= f * a[col][k];
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
            weights: w,
            objective: f64::NAN,
            rule: BlockRule::new("kl-optimal", &up)?,
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

    /// The block weights `w` (row-major over the block).
    pub fn weights(&self) -> [f64; 4] {
        self.weights
    }

    /// `l(w)` on the fitted block distribution (NaN for [`KlOptimal::from_weights`]).
    pub fn objective(&self) -> f64 {
        self.objective
    }

    /// The Chung-Kao divergence per site, `D(p || Y / sum Y) / N = -s - l(w) / 4`,
    /// given the exact entropy per site `s` of the distribution the data came from
    /// (e.g. [`exact::exact`](crate::ising::exact::exact)); NaN if not fitted.
    pub fn kl_per_site(&self, entropy_per_site: f64) -> f64 {
        -entropy_per_site - self.objective / 4.0
    }

    /// The rule as a table `P(+1 | v)`.
    pub fn rule(&self) -> &BlockRule {
        &self.rule
    }
}

impl CoarseGrain for KlOptimal {
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
