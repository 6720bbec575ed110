//! Log-space scalars and dense conversion: [`Mps::log_norm`], [`Mps::log_overlap`],
//! [`Mps::log_amplitude`], [`Mps::entanglement_entropies`], [`Mps::to_dense`].

use ndarray::{Array2, Array3, ArrayView2, Axis};

use crate::error::{Error, Result};
use crate::linalg::svd;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

use super::{
    adjoint_matmul, check_config, mat, matmul, matrix_norm, tensor_from_matrix, LogValue, Mps,
    MAX_DENSE_AMPLITUDES,
};

impl<T: Scalar> Mps<T> {
    /// `ln ||psi||`, with `||psi||^2 = sum_x |psi(x)|^2` (`-inf` for the zero state).
    ///
    /// With a known centre `c` this is `log_scale + ln ||A_c||` (O(size of `A_c`));
    /// otherwise the transfer-matrix contraction of [`Mps::log_overlap`] of the state
    /// with itself, `E_k = sum_s A_k[s]^H E_{k-1} A_k[s]` (two GEMMs per site,
    /// `E` renormalised at every step with its norm accumulated in log space), so it
    /// stays finite for chains of any length.
    pub fn log_norm(&self) -> f64 {
        match self.center {
            Some(c) => {
                crate::log_value::add_log(self.log_scale, super::site_norm(&self.tensors[c]))
            }
            None => 0.5 * self.transfer(self).log_abs,
        }
    }

    /// `<self|other> = sum_x conj(self(x)) other(x)` in log-polar form (conjugate on
    /// `self`).
    ///
    /// Computed by the transfer-matrix contraction
    /// `E_k = sum_s A_k[s]^H E_{k-1} B_k[s]`, `E_{-1} = 1`, as two GEMMs per site,
    /// dividing `E_k` by its Frobenius norm at every step and accumulating the logs,
    /// so neither overflow nor underflow occurs. Cost `O(N d D^3)`.
    ///
    /// Errors with [`Error::ShapeMismatch`] when the lengths differ or, naming the
    /// site, when the physical dimensions differ.
    pub fn log_overlap(&self, other: &Mps<T>) -> Result<LogValue<T>> {
        if self.len() != other.len() {
            return Err(Error::shape_mismatch(
                format!(
                    "Mps::log_overlap: the states have {} and {} sites",
                    self.len(),
                    other.len()
                ),
                vec![self.len()],
                vec![other.len()],
            ));
        }
        for (k, (a, b)) in self.tensors.iter().zip(&other.tensors).enumerate() {
            if a.dim().1 != b.dim().1 {
                return Err(Error::shape_mismatch(
                    format!(
                        "Mps::log_overlap: physical dimension at site {k} is {} in self \
                         but {} in other",
                        a.shape()[1],
                        b.shape()[1]
                    ),
                    vec![a.shape()[1]],
                    vec![b.shape()[1]],
                ));
            }
        }
        Ok(self.transfer(other))
    }

    /// The transfer-matrix contraction behind [`Mps::log_overlap`] (dimensions
    /// already checked).
    fn transfer(&self, other: &Mps<T>) -> LogValue<T> {
        let mut env = Array2::<T>::ones((1, 1));
        let mut acc = 0.0;
        for (k, b) in other.tensors.iter().enumerate() {
            let (al, d, ar) = self.site_dims(k);
            let (bl, _, br) = other.site_dims(k);
            // Entries far from 1 (e.g. 1e+-300) would overflow or underflow in the
            // products: such a site is divided by its largest entry, whose log is
            // accumulated.
            let (Some((a_t, la)), Some((b_t, lb))) = (safe_site(&self.tensors[k]), safe_site(b))
            else {
                return LogValue::zero();
            };
            acc += la + lb;
            // t1[a, (s, b')] = sum_b env[a, b] B[b, s, b']
            let t1 = matmul(env.view(), mat(&b_t, bl, d * br));
            let t1 = ArrayView2::from_shape((al * d, br), t1.as_slice().expect("row-major"))
                .expect("same element count");
            // env'[a', b'] = sum_{a, s} conj(A[a, s, a']) t1[(a, s), b']
            env = adjoint_matmul(mat(&a_t, al * d, ar), t1);
            let nrm = matrix_norm(&env.view());
            if nrm == 0.0 || !nrm.is_finite() {
                return LogValue::zero();
            }
            let inv = 1.0 / nrm;
            env.mapv_inplace(|x| x.scale(inv));
            acc += nrm.ln();
        }
        let mut v = LogValue::from_value(env[(0, 0)]);
        v.log_abs += acc + self.log_scale + other.log_scale;
        if v.log_abs == f64::NEG_INFINITY {
            return LogValue::zero();
        }
        v
    }

    /// The amplitude `psi(x) = exp(log_scale) A_0[x_0] ... A_{N-1}[x_{N-1}]` of a
    /// basis configuration `x`, in log-polar form.
    ///
    /// Computed as a row vector times one matrix per site, renormalised at every
    /// step (cost `O(N D^2)`).
    ///
    /// Errors with [`Error::ShapeMismatch`] when `config.len() != N` and
    /// [`Error::InvalidArgument`] naming the site when `config[k] >= d_k`.
    pub fn log_amplitude(&self, config: &[usize]) -> Result<LogValue<T>> {
        check_config(&self.phys_dims(), config, "Mps::log_amplitude")?;
        let mut v = Array2::<T>::ones((1, 1));
        let mut acc = 0.0;
        for (k, &x) in config.iter().enumerate() {
            let Some((t, lt)) = safe_site(&self.tensors[k]) else {
                return Ok(LogValue::zero());
            };
            acc += lt;
            v = matmul(v.view(), t.index_axis(Axis(1), x));
            let nrm = matrix_norm(&v.view());
            if nrm == 0.0 || !nrm.is_finite() {
                return Ok(LogValue::zero());
            }
            let inv = 1.0 / nrm;
            v.mapv_inplace(|x| x.scale(inv));
            acc += nrm.ln();
        }
        let mut out = LogValue::from_value(v[(0, 0)]);
        out.log_abs += acc + self.log_scale;
        if out.log_abs == f64::NEG_INFINITY {
            return Ok(LogValue::zero());
        }
        Ok(out)
    }

    /// The von Neumann entanglement entropy `S_k = -sum_i p_i ln p_i`,
    /// `p_i = s_i^2 / sum_j s_j^2`, across every internal bond `k` (between sites `k`
    /// and `k+1`; `N - 1` values, natural logarithm), where `s_i` are the Schmidt
    /// coefficients of the cut.
    ///
    /// Takes `&mut self` because it works on the canonical form: the centre is moved
    /// to site 0 ([`Mps::move_center`]), then an SVD sweep to the right computes the
    /// singular values of every centre tensor, `A_k = U S V^H` on the
    /// `(D_{k-1} d_k) x D_k` reshaping, keeping `U` and absorbing `S V^H` into site
    /// `k+1`. Afterwards the MPS is in left-canonical form (centre `N-1`); the state
    /// is unchanged (bonds may shrink to their exact rank). Clone first to keep the
    /// original gauge.
    pub fn entanglement_entropies(&mut self) -> Result<Vec<f64>> {
        let n = self.len();
        self.move_center(0)?;
        self.center = None;
        let mut out = Vec::with_capacity(n - 1);
        for k in 0..n - 1 {
            let (dl, d, dr) = self.site_dims(k);
            let (u, s, vh) = svd(mat(&self.tensors[k], dl * d, dr))?;
            out.push(von_neumann(s.as_slice().expect("contiguous")));
            let rank = s.len();
            self.tensors[k] = tensor_from_matrix(u, &[dl, d, rank]);
            let st = s.mapv(T::from_f64).insert_axis(Axis(1));
            let svh = &vh * &st;
            let (_, d2, dr2) = self.site_dims(k + 1);
            let next = matmul(svh.view(), mat(&self.tensors[k + 1], dr, d2 * dr2));
            self.tensors[k + 1] = tensor_from_matrix(next, &[rank, d2, dr2]);
        }
        self.normalize_site(n - 1);
        self.center = Some(n - 1);
        Ok(out)
    }

    /// The full state `psi(x) = exp(log_scale) A_0[x_0] ... A_{N-1}[x_{N-1}]` as a
    /// dense tensor of shape `(d_0, ..., d_{N-1})` (the scale *is* included; it can
    /// overflow only if `|psi(x)|` exceeds `f64::MAX`).
    ///
    /// Contracted left to right by GEMMs. Errors with [`Error::InvalidArgument`] when
    /// the state has more than [`MAX_DENSE_AMPLITUDES`] (2^24) amplitudes.
    pub fn to_dense(&self) -> Result<Tensor<T>> {
        let dims = self.phys_dims();
        let total = dims
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .filter(|&t| t <= MAX_DENSE_AMPLITUDES);
        let Some(total) = total else {
            return Err(Error::invalid_argument(
                "self",
                format!(
                    "Mps::to_dense: {} sites with physical dimensions {} have more than \
                     {MAX_DENSE_AMPLITUDES} amplitudes",
                    dims.len(),
                    if dims.len() <= 16 {
                        format!("{dims:?}")
                    } else {
                        format!("{:?}...", &dims[..16])
                    }
                ),
            ));
        };
        // cur: (d_0 ... d_{k-1}) x D_{k-1}
        let mut cur = Array2::<T>::ones((1, 1));
        let mut rows = 1;
        for (k, t) in self.tensors.iter().enumerate() {
            let (dl, d, dr) = self.site_dims(k);
            let m = matmul(cur.view(), mat(t, dl, d * dr));
            rows *= d;
            let (data, _) = m.into_raw_vec_and_offset();
            cur = Array2::from_shape_vec((rows, dr), data).expect("element count");
        }
        debug_assert_eq!(rows, total);
        let (mut data, _) = cur.into_raw_vec_and_offset();
        if self.log_scale != 0.0 {
            let f = self.log_scale.exp();
            data.iter_mut().for_each(|x| *x = x.scale(f));
        }
        Tensor::new(&dims, data)
    }
}

/// Entries whose magnitude lies within `[1/SAFE_MAX, SAFE_MAX]` multiply without
/// overflow or underflow in the transfer products (with any realistic bond
/// dimension); a site outside is rescaled first.
const SAFE_MAX: f64 = 1e100;

/// The site tensor as is (log factor 0) when its largest entry is moderate, else
/// divided by its largest entry (log factor = ln of that entry); `None` for a zero
/// tensor.
fn safe_site<T: Scalar>(t: &Array3<T>) -> Option<(std::borrow::Cow<'_, Array3<T>>, f64)> {
    let max = t.iter().map(|x| x.abs()).fold(0.0_f64, f64::max);
    if max == 0.0 {
        return None;
    }
    if (1.0 / SAFE_MAX..=SAFE_MAX).contains(&max) {
        return Some((std::borrow::Cow::Borrowed(t), 0.0));
    }
    // Tiny maxima are scaled in two steps so that 1/max cannot overflow (max can
    // be as small as 5e-324).
    let scaled = if max < 1.0 {
        let s1 = 1.0 / (max * SAFE_MAX);
        t.mapv(|x| x.scale(SAFE_MAX).scale(s1))
    } else {
        let s1 = 1.0 / max;
        t.mapv(|x| x.scale(s1))
    };
    Some((std::borrow::Cow::Owned(scaled), max.ln()))
}

/// `-sum p ln p` with `p_i = s_i^2 / sum s^2` (0 for a zero vector).
fn von_neumann(s: &[f64]) -> f64 {
    let total: f64 = s.iter().map(|x| x * x).sum();
    if total <= 0.0 {
        return 0.0;
    }
    -s.iter()
        .map(|x| x * x / total)
        .filter(|&p| p > 0.0)
        .map(|p| p * p.ln())
        .sum::<f64>()
}
