//! Canonical forms by QR sweeps: [`Mps::canonicalize`], [`Mps::move_center`],
//! [`Mps::left_canonicalize`], [`Mps::right_canonicalize`], and the bond replacement
//! that keeps the centre, [`Mps::replace_bond`]. The sweep steps
//! ([`qr_step_right`], [`lq_step_left`]) are written once, for [`Mps`] and the MPS
//! Born machine (which holds an [`Mps`] and absorbs the factors as they are).

use ndarray::{Array2, Array3, ArrayView2};

use super::{mat, matrix_norm, site_norm, tensor_from_matrix, IntoSiteTensor, Mps};
use crate::error::{Error, Result};
use crate::linalg::{matmul, qr};
use crate::log_value::add_log;
use crate::scalar::Scalar;

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
    /// Errors with [`Error::InvalidArgument`] when
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
    /// Errors with [`Error::InvalidArgument`] when
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
        self.tensors[k].dim()
    }

    /// Divides site `k` by its Frobenius norm and adds the log of that norm to
    /// `log_scale` (a zero tensor sets `log_scale = -inf`).
    pub(crate) fn normalize_site(&mut self, k: usize) {
        let t = &mut self.tensors[k];
        let nrm = site_norm(t);
        self.log_scale = add_log(self.log_scale, nrm);
        if nrm > 0.0 && nrm != 1.0 {
            let inv = 1.0 / nrm;
            t.iter_mut().for_each(|x| *x = x.scale(inv));
        }
    }

    /// Site `k` becomes the left isometry of `A_k = Q R`; the normalised `R` is
    /// absorbed into site `k+1` and its norm into `log_scale` ([`qr_step_right`]).
    fn qr_step_right(&mut self, k: usize) -> Result<()> {
        let nrm = qr_step_right(&mut self.tensors, k, FactorNorm::ToScale)?;
        self.log_scale = add_log(self.log_scale, nrm);
        Ok(())
    }

    /// Site `k` becomes the right isometry of `A_k = L Q`; the normalised `L` is
    /// absorbed into site `k-1` and its norm into `log_scale` ([`lq_step_left`]).
    fn lq_step_left(&mut self, k: usize) -> Result<()> {
        let nrm = lq_step_left(&mut self.tensors, k, FactorNorm::ToScale)?;
        self.log_scale = add_log(self.log_scale, nrm);
        Ok(())
    }

    /// Replaces the neighbouring site tensors `k` and `k+1` (the bond between them
    /// may change size, as after a two-site update and split) and keeps the
    /// canonical form, in the manner of ITensor's `replacebond!`: the orthogonality
    /// centre becomes `center`, which must be `k` or `k+1`.
    ///
    /// This is [`Mps::set_tensor_pair`] (same validation) for a caller that knows
    /// the new pair is canonical about `center`: for `center = k+1`, `left` is a left
    /// isometry; for `center = k`, `right` is a right isometry (e.g. the orthonormal
    /// factor of an SVD or QR of the merged two-site tensor). The known form is kept
    /// only when the previous centre was `k` or `k+1` (every other site is then
    /// still an isometry about the bond); otherwise the centre becomes `None`, as
    /// after [`Mps::set_tensor_pair`]. When it is kept, the new centre tensor is
    /// normalised and its norm moved into `log_scale`, so `||psi|| = exp(log_scale)`
    /// as for every known centre. The isometry itself is the caller's promise and
    /// is not checked here (that would cost a Gram matrix per call);
    /// [`Mps::check_canonical`] verifies it.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tnlearn::Mps;
    ///
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    /// let mut psi = Mps::<f64>::random(&[2; 6], 4, &mut rng)?;
    /// psi.canonicalize(2)?;
    /// // A two-site update of sites 2 and 3 that leaves site 3 a right isometry
    /// // (here: the sites as they are after moving the centre back to 2).
    /// let mut moved = psi.clone();
    /// moved.move_center(3)?;
    /// moved.move_center(2)?;
    /// let (l, r) = (moved.tensor(2)?.clone(), moved.tensor(3)?.clone());
    /// psi.replace_bond(2, l, r, 2)?;
    /// assert_eq!(psi.center(), Some(2));
    /// psi.check_canonical(2, 1e-10)?;
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `k + 1 >= N` or
    /// `center` is neither `k` nor `k+1`; the errors of [`Mps::set_tensor_pair`] for
    /// tensors that do not fit. On error the MPS is unchanged.
    pub fn replace_bond<L, R>(&mut self, k: usize, left: L, right: R, center: usize) -> Result<()>
    where
        L: IntoSiteTensor<T>,
        R: IntoSiteTensor<T>,
    {
        if center != k && center != k.saturating_add(1) {
            return Err(Error::invalid_argument(
                "center",
                format!(
                    "the centre after replacing bond ({k}, {}) must be one of its sites \
                     (got {center})",
                    k.saturating_add(1)
                ),
            ));
        }
        let was = self.center;
        self.set_tensor_pair(k, left, right)?;
        if was == Some(k) || was == Some(k + 1) {
            self.normalize_site(center);
            self.center = Some(center);
        }
        Ok(())
    }
}

impl Mps<f64> {
    /// For a normalised state with a known centre (the Born machine's): moves the
    /// centre to `k` by the steps of [`Mps::move_center`], absorbing the factors as
    /// they are ([`FactorNorm::Keep`]), then divides the new centre tensor by its
    /// norm; `log_scale` is untouched. Without a known centre, `canonicalize`s
    /// first.
    pub(crate) fn move_center_normalized(&mut self, k: usize) -> Result<()> {
        self.check_site_index(k, "center")?;
        let Some(mut c) = self.center.take() else {
            return self.canonicalize(k);
        };
        while c < k {
            qr_step_right(&mut self.tensors, c, FactorNorm::Keep)?;
            c += 1;
        }
        while c > k {
            lq_step_left(&mut self.tensors, c, FactorNorm::Keep)?;
            c -= 1;
        }
        let t = &mut self.tensors[c];
        let nrm = t.iter().map(|v| v * v).sum::<f64>().sqrt();
        if nrm > 0.0 {
            t.mapv_inplace(|v| v / nrm);
        }
        self.center = Some(c);
        Ok(())
    }

    /// [`Mps::replace_bond`] for a caller inside the crate that built the pair
    /// itself (split of a merged two-site tensor): no validation, no
    /// normalisation; the caller guarantees the shapes, the isometry and the norm
    /// of the centre tensor.
    pub(crate) fn replace_bond_trusted(
        &mut self,
        k: usize,
        left: Array3<f64>,
        right: Array3<f64>,
        center: usize,
    ) {
        debug_assert!(center == k || center == k + 1);
        debug_assert_eq!(left.dim().2, right.dim().0);
        self.tensors[k] = left;
        self.tensors[k + 1] = right;
        self.center = Some(center);
    }
}

/// What a canonical step does with the factor (`R` or `L`) it pushes into the
/// neighbouring site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FactorNorm {
    /// Divide the factor by its Frobenius norm before absorbing it and return that
    /// norm (for a log scale): [`Mps`], whose states may have any norm.
    ToScale,
    /// Absorb the factor as it is (return 1): the Born machine, whose state is
    /// normalised and whose centre tensor is normalised once at the end.
    Keep,
}

/// Takes the factor's norm out as `norm` says; returns the norm taken out.
fn take_norm<T: Scalar>(factor: &mut Array2<T>, norm: FactorNorm) -> f64 {
    if norm == FactorNorm::Keep {
        return 1.0;
    }
    let nrm = matrix_norm(&factor.view());
    if nrm > 0.0 {
        let inv = 1.0 / nrm;
        factor.mapv_inplace(|x| x.scale(inv));
    }
    nrm
}

/// One step of a left-to-right QR sweep: site `k` becomes the left isometry `Q` of
/// `A_k = Q R` (thin QR of `A_k` as a `(D_{k-1} d_k) x D_k` matrix) and `R` is
/// absorbed into site `k+1`; the bond takes the rank of the QR. Returns the norm
/// taken out of `R` (see [`FactorNorm`]).
pub(crate) fn qr_step_right<T: Scalar>(
    sites: &mut [Array3<T>],
    k: usize,
    norm: FactorNorm,
) -> Result<f64> {
    let (dl, d, dr) = sites[k].dim();
    let (q, mut r) = qr(site_matrix(&sites[k], dl * d, dr))?;
    let rank = q.ncols();
    let nrm = take_norm(&mut r, norm);
    let (_, d2, dr2) = sites[k + 1].dim();
    let next = matmul(r.view(), site_matrix(&sites[k + 1], dr, d2 * dr2))?;
    sites[k] = site_from_matrix(q, (dl, d, rank));
    sites[k + 1] = site_from_matrix(next, (rank, d2, dr2));
    Ok(nrm)
}

/// One step of a right-to-left sweep: site `k` becomes the right isometry `Q` of
/// `A_k = L Q` (computed as the QR decomposition `A_k^T = Q' R'` of the
/// `D_{k-1} x (d_k D_k)` reshaping, so `L = R'^T`, `Q = Q'^T` with orthonormal
/// rows) and `L` is absorbed into site `k-1`. Returns the norm taken out of `L`
/// (see [`FactorNorm`]).
pub(crate) fn lq_step_left<T: Scalar>(
    sites: &mut [Array3<T>],
    k: usize,
    norm: FactorNorm,
) -> Result<f64> {
    let (dl, d, dr) = sites[k].dim();
    let (q, mut r) = qr(site_matrix(&sites[k], dl, d * dr).t())?;
    let rank = q.ncols();
    let nrm = take_norm(&mut r, norm);
    let (dl0, d0, _) = sites[k - 1].dim();
    let prev = matmul(site_matrix(&sites[k - 1], dl0 * d0, dl), r.t())?;
    sites[k] = site_from_matrix(q.reversed_axes(), (rank, d, dr));
    sites[k - 1] = site_from_matrix(prev, (dl0, d0, rank));
    Ok(nrm)
}

/// A site tensor viewed as a `rows x cols` matrix (row-major, no copy).
#[inline]
pub(crate) fn site_matrix<T: Scalar>(t: &Array3<T>, rows: usize, cols: usize) -> ArrayView2<'_, T> {
    mat(t, rows, cols)
}

/// A matrix (any layout) reshaped row-major into a site tensor of shape
/// `(D_left, d, D_right)` (moves the buffer when the matrix is row-major contiguous).
#[inline]
pub(crate) fn site_from_matrix<T: Scalar>(
    m: Array2<T>,
    (a, b, c): (usize, usize, usize),
) -> Array3<T> {
    tensor_from_matrix(m, &[a, b, c])
}
