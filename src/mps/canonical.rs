//! Canonical forms by QR sweeps: [`Mps::canonicalize`], [`Mps::move_center`],
//! [`Mps::left_canonicalize`], [`Mps::right_canonicalize`].

use crate::error::Result;
use crate::linalg::qr;
use crate::scalar::Scalar;

use super::{mat, matmul, matrix_norm, tensor_from_matrix, Mps};

impl<T: Scalar> Mps<T> {
    /// Brings the MPS into mixed canonical form with orthogonality centre `k`,
    /// re-orthogonalising every site from scratch (ignoring any known centre).
    ///
    /// Sites `0..k` are swept left to right with thin QR, `A = Q R` on `A` reshaped
    /// to `(D_{j-1} d_j) x D_j`, keeping `Q` (a left isometry) and absorbing `R` into
    /// site `j+1`; sites `N-1` down to `k+1` are swept right to left with an LQ
    /// decomposition (QR of the transposed `D_{j-1} x (d_j D_j)` reshaping),
    /// keeping the right isometry and absorbing `L` into site `j-1`. Every factor
    /// absorbed is normalised first, its norm going into `log_scale`, and finally the
    /// centre tensor is normalised, so afterwards `||A_k|| = 1` and
    /// `||psi|| = exp(log_scale)`. Bonds larger than the rank allowed by the
    /// neighbouring dimensions shrink (`D_j <= min(D_{j-1} d_j, d_{j+1} D_{j+1})`);
    /// the state represented is unchanged up to rounding.
    ///
    /// Errors with [`Error::InvalidArgument`](crate::Error::InvalidArgument) when
    /// `k >= N`.
    pub fn canonicalize(&mut self, k: usize) -> Result<()> {
        self.check_site_index(k, "center")?;
        self.center = None;
        self.move_center(k)
    }

    /// Moves the orthogonality centre to site `k`. When a centre `c` is known only
    /// the sites between `c` and `k` are swept (QR to the right, LQ to the left, as
    /// in [`Mps::canonicalize`]; nothing at all when `c == k`); otherwise this is
    /// [`Mps::canonicalize`]. The centre tensor is left with norm 1, its norm moved
    /// into `log_scale`.
    ///
    /// Errors with [`Error::InvalidArgument`](crate::Error::InvalidArgument) when
    /// `k >= N`.
    pub fn move_center(&mut self, k: usize) -> Result<()> {
        self.check_site_index(k, "center")?;
        if self.center == Some(k) {
            return Ok(());
        }
        let n = self.len();
        // If a sweep fails half-way the state is still represented correctly, but
        // the canonical form is unknown.
        let from = self.center.take();
        match from {
            Some(c) if c <= k => {
                for j in c..k {
                    self.qr_step_right(j)?;
                }
            }
            Some(c) => {
                for j in (k + 1..=c).rev() {
                    self.lq_step_left(j)?;
                }
            }
            None => {
                for j in 0..k {
                    self.qr_step_right(j)?;
                }
                for j in (k + 1..n).rev() {
                    self.lq_step_left(j)?;
                }
            }
        }
        self.normalize_site(k);
        self.center = Some(k);
        Ok(())
    }

    /// Left-canonical form: centre at the last site `N-1`, every other tensor a left
    /// isometry (see [`Mps::move_center`]).
    pub fn left_canonicalize(&mut self) -> Result<()> {
        self.move_center(self.len() - 1)
    }

    /// Right-canonical form: centre at site 0, every other tensor a right isometry
    /// (see [`Mps::move_center`]).
    pub fn right_canonicalize(&mut self) -> Result<()> {
        self.move_center(0)
    }

    /// Site dimensions `(D_{k-1}, d_k, D_k)`.
    pub(crate) fn site_dims(&self, k: usize) -> (usize, usize, usize) {
        let s = self.tensors[k].shape();
        (s[0], s[1], s[2])
    }

    /// Divides site `k` by its Frobenius norm and adds the log of that norm to
    /// `log_scale` (a zero tensor sets `log_scale = -inf`).
    pub(crate) fn normalize_site(&mut self, k: usize) {
        let t = &mut self.tensors[k];
        let nrm = t.norm();
        self.log_scale = add_log(self.log_scale, nrm);
        if nrm > 0.0 && nrm != 1.0 {
            let inv = 1.0 / nrm;
            t.as_mut_slice().iter_mut().for_each(|x| *x = x.scale(inv));
        }
    }

    /// Site `k` becomes the left isometry `Q` of `A_k = Q R`; the normalised `R` is
    /// absorbed into site `k+1`.
    fn qr_step_right(&mut self, k: usize) -> Result<()> {
        let (dl, d, dr) = self.site_dims(k);
        let (q, mut r) = qr(mat(&self.tensors[k], dl * d, dr))?;
        let rank = q.ncols();
        self.tensors[k] = tensor_from_matrix(q, &[dl, d, rank]);
        let nrm = matrix_norm(&r.view());
        self.log_scale = add_log(self.log_scale, nrm);
        if nrm > 0.0 {
            let inv = 1.0 / nrm;
            r.mapv_inplace(|x| x.scale(inv));
        }
        let (_, d2, dr2) = self.site_dims(k + 1);
        let next = matmul(r.view(), mat(&self.tensors[k + 1], dr, d2 * dr2));
        self.tensors[k + 1] = tensor_from_matrix(next, &[rank, d2, dr2]);
        Ok(())
    }

    /// Site `k` becomes the right isometry `Q` of `A_k = L Q` (computed as the QR
    /// decomposition `A_k^T = Q' R'`, so `L = R'^T`, `Q = Q'^T`, which has
    /// orthonormal rows); the normalised `L` is absorbed into site `k-1`.
    fn lq_step_left(&mut self, k: usize) -> Result<()> {
        let (dl, d, dr) = self.site_dims(k);
        let (q, mut r) = qr(mat(&self.tensors[k], dl, d * dr).t())?;
        let rank = q.ncols();
        self.tensors[k] = tensor_from_matrix(q.reversed_axes(), &[rank, d, dr]);
        let nrm = matrix_norm(&r.view());
        self.log_scale = add_log(self.log_scale, nrm);
        if nrm > 0.0 {
            let inv = 1.0 / nrm;
            r.mapv_inplace(|x| x.scale(inv));
        }
        let (dl0, d0, _) = self.site_dims(k - 1);
        let prev = matmul(mat(&self.tensors[k - 1], dl0 * d0, dl), r.t());
        self.tensors[k - 1] = tensor_from_matrix(prev, &[dl0, d0, rank]);
        Ok(())
    }
}

/// `log_scale + ln(norm)`, staying at `-inf` once the state is known to be zero.
pub(crate) fn add_log(log_scale: f64, norm: f64) -> f64 {
    if norm > 0.0 {
        log_scale + norm.ln()
    } else {
        f64::NEG_INFINITY
    }
}
