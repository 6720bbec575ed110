//! [`Mps::check_canonical`]: verifies a stored canonical form.

use ndarray::ArrayView2;

use crate::error::{Error, Result};
use crate::scalar::Scalar;

use super::{adjoint_matmul, mat, Mps};

/// The tolerance the model loaders use with [`Mps::check_canonical`] and
/// [`Ttn::check_canonical`](crate::ttn::Ttn::check_canonical): every Gram-matrix
/// entry within `1e-12` of the identity and the centre norm within `1e-12` of 1.
/// Canonical forms kept by QR sweeps are exact to about `1e-14`, so only a damaged
/// file comes near it; a model that passes has `sum_x p(x) = 1` to about
/// `1e-12` per site, which is what "exact" probabilities promise (a tolerance of
/// `1e-8` let the fuzz harness load models whose probabilities summed to
/// `1 +- 3e-9`).
pub const CANONICAL_TOL: f64 = 1e-12;

/// Largest deviation of `g` from the identity (`max |g_ij - delta_ij|`).
pub(crate) fn identity_deviation<T: Scalar>(g: &ArrayView2<'_, T>) -> f64 {
    g.indexed_iter()
        .map(|((i, j), &x)| {
            if i == j {
                (x - T::one()).abs()
            } else {
                x.abs()
            }
        })
        .fold(0.0_f64, |a, b| if b.is_nan() { f64::NAN } else { a.max(b) })
}

/// A rejected canonical-form check: [`Error::InvalidArgument`] on `center`.
pub(crate) fn not_canonical(what: &str, center: usize, reason: String) -> Error {
    Error::invalid_argument(
        "center",
        format!("{what} is not in canonical form about centre {center}: {reason}"),
    )
}

impl<T: Scalar> Mps<T> {
    /// Verifies that the MPS is in mixed canonical form with orthogonality centre
    /// `center`, as a model file claims: every site `j < center` a left isometry
    /// (`A^H A = I` on the `(D_{j-1} d_j) x D_j` reshaping), every site
    /// `j > center` a right isometry (`A A^H = I` on `D_{j-1} x (d_j D_j)`), each to
    /// `tol` in every entry of the Gram matrix; the centre tensor of Frobenius norm
    /// 1 to `tol`; every entry finite; and every bond no larger than the rank its
    /// neighbours allow (an isometry needs at least as many rows as columns).
    /// Shapes are consistent with the bonds by construction of [`Mps`].
    ///
    /// When this holds and `log_scale = 0`, `sum_x |psi(x)|^2 = 1` up to `tol`-sized
    /// rounding. Costs `O(N d D^3)` (one Gram matrix per site); does not change the
    /// MPS (use [`Mps::move_center`] to *establish* a canonical form).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tnlearn::Mps;
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    /// let mut psi = Mps::<f64>::random(&[2; 6], 4, &mut rng).unwrap();
    /// assert!(psi.check_canonical(2, 1e-10).is_err());
    /// psi.canonicalize(2).unwrap();
    /// psi.check_canonical(2, 1e-10).unwrap();
    /// assert!(psi.check_canonical(3, 1e-10).is_err());
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `center` when it is not a site or `tol` is
    /// not a finite non-negative number, and naming the first offending site and
    /// its deviation otherwise ([`Error::NonFinite`] for a NaN or infinite entry).
    pub fn check_canonical(&self, center: usize, tol: f64) -> Result<()> {
        self.check_site_index(center, "center")?;
        if !(tol.is_finite() && tol >= 0.0) {
            return Err(Error::invalid_argument(
                "tol",
                format!("must be a finite number >= 0 (got {tol})"),
            ));
        }
        for (k, t) in self.tensors.iter().enumerate() {
            super::check_finite_site(k, t)?;
        }
        for k in 0..self.len() {
            let (dl, d, dr) = self.site_dims(k);
            if k == center {
                let nrm = super::site_norm(&self.tensors[k]);
                if (nrm - 1.0).abs() > tol || nrm.is_nan() {
                    return Err(not_canonical(
                        "the MPS",
                        center,
                        format!("the centre tensor (site {k}) has norm {nrm}, expected 1"),
                    ));
                }
                continue;
            }
            let (g, kind, rows, cols) = if k < center {
                let a = mat(&self.tensors[k], dl * d, dr);
                (adjoint_matmul(a, a), "left", dl * d, dr)
            } else {
                let a = mat(&self.tensors[k], dl, d * dr);
                // conj(A A^H), same deviation from I as A A^H.
                (adjoint_matmul(a.t(), a.t()), "right", d * dr, dl)
            };
            if cols > rows {
                return Err(not_canonical(
                    "the MPS",
                    center,
                    format!(
                        "site {k} of shape ({dl}, {d}, {dr}) cannot be a {kind} isometry \
                         (bond {cols} exceeds {rows})"
                    ),
                ));
            }
            let dev = identity_deviation(&g.view());
            if dev > tol || dev.is_nan() {
                return Err(not_canonical(
                    "the MPS",
                    center,
                    format!(
                        "site {k} is not a {kind} isometry (largest deviation of its Gram \
                         matrix from the identity: {dev:e}, tolerance {tol:e})"
                    ),
                ));
            }
        }
        Ok(())
    }
}
