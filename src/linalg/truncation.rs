//! One truncation vocabulary for every SVD in the library.
//!
//! A [`Truncation`] says how many singular values to keep; [`svd_truncated`] applies
//! it and reports the discarded weight, which callers accumulate (ITensor's
//! "truncation error").

use ndarray::{s, Array1, Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::scalar::Scalar;

/// How [`Truncation::cutoff`] is compared with the singular values `s_0 >= s_1 >= ...`.
///
/// ```
/// use tnlearn::{Truncation, TruncationMode};
///
/// // Keep singular values above 1e-3 of the largest, at most 64 of them.
/// let t = Truncation::new().max_bond(64).cutoff(1e-3).mode(TruncationMode::Relative);
/// assert_eq!(t.keep_count(&[1.0, 0.5, 1e-4]), 2);
/// // Discard at most 1% of the weight sum s^2 (here 0.01^2 / 1.0001 < 1%).
/// let w = Truncation::new().cutoff(0.01).mode(TruncationMode::DiscardedWeight);
/// assert_eq!(w.keep_count(&[1.0, 0.01]), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TruncationMode {
    /// Keep `s_i > cutoff * s_0` (relative to the largest singular value).
    #[default]
    Relative,
    /// Keep `s_i > cutoff`.
    Absolute,
    /// Keep the fewest leading values such that the discarded weight
    /// `sum_{i >= k} s_i^2 / sum_i s_i^2` is at most `cutoff`.
    DiscardedWeight,
}

/// How to truncate a singular value decomposition.
///
/// The number kept is the count allowed by `cutoff` (under `mode`), then clamped to
/// `[min_bond, max_bond]` (and never more than the number of singular values).
///
/// ```
/// use tnlearn::linalg::{Truncation, TruncationMode};
/// let t = Truncation::new().max_bond(64).cutoff(1e-10).mode(TruncationMode::DiscardedWeight);
/// assert_eq!(t.max_bond, 64);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Truncation {
    /// Largest number of singular values kept (`usize::MAX`: no limit).
    pub max_bond: usize,
    /// Smallest number kept, even if below the cutoff (at least 1 is always kept).
    pub min_bond: usize,
    /// Threshold, interpreted according to `mode`; `0` keeps every non-zero value.
    pub cutoff: f64,
    /// How `cutoff` is interpreted.
    pub mode: TruncationMode,
}

impl Default for Truncation {
    fn default() -> Self {
        Truncation {
            max_bond: usize::MAX,
            min_bond: 1,
            cutoff: 0.0,
            mode: TruncationMode::Relative,
        }
    }
}

impl Truncation {
    /// No truncation beyond dropping exact zeros (`cutoff = 0`, relative).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `max_bond`.
    pub fn max_bond(mut self, max_bond: usize) -> Self {
        self.max_bond = max_bond;
        self
    }

    /// Sets `min_bond`.
    pub fn min_bond(mut self, min_bond: usize) -> Self {
        self.min_bond = min_bond;
        self
    }

    /// Sets `cutoff`.
    pub fn cutoff(mut self, cutoff: f64) -> Self {
        self.cutoff = cutoff;
        self
    }

    /// Sets `mode`.
    pub fn mode(mut self, mode: TruncationMode) -> Self {
        self.mode = mode;
        self
    }

    /// Checks the settings: `max_bond >= 1`, `min_bond <= max_bond`, `cutoff` finite
    /// and non-negative (and at most 1 for [`TruncationMode::DiscardedWeight`]).
    pub fn validate(&self) -> Result<()> {
        if self.max_bond == 0 {
            return Err(Error::invalid_argument(
                "max_bond",
                "must be at least 1 (got 0)",
            ));
        }
        if self.min_bond > self.max_bond {
            return Err(Error::invalid_argument(
                "min_bond",
                format!(
                    "must not exceed max_bond (min_bond = {}, max_bond = {})",
                    self.min_bond, self.max_bond
                ),
            ));
        }
        if !self.cutoff.is_finite() || self.cutoff < 0.0 {
            return Err(Error::invalid_argument(
                "cutoff",
                format!("must be finite and >= 0 (got {})", self.cutoff),
            ));
        }
        if self.mode == TruncationMode::DiscardedWeight && self.cutoff > 1.0 {
            return Err(Error::invalid_argument(
                "cutoff",
                format!(
                    "a discarded-weight cutoff is a fraction in [0, 1] (got {})",
                    self.cutoff
                ),
            ));
        }
        Ok(())
    }

    /// How many of the singular values `s` (non-increasing) to keep:
    /// `min(max(allowed, min_bond, 1), max_bond, s.len())`, where `allowed` is the
    /// number the cutoff lets through under [`Truncation::mode`] (and 0 for an empty
    /// `s`). Does not validate the settings (see [`Truncation::validate`]).
    pub fn keep_count(&self, s: &[f64]) -> usize {
        let n = s.len();
        if n == 0 {
            return 0;
        }
        let allowed = match self.mode {
            TruncationMode::Relative => {
                let threshold = self.cutoff * s[0];
                s.iter().take_while(|&&x| x > threshold).count()
            }
            TruncationMode::Absolute => s.iter().take_while(|&&x| x > self.cutoff).count(),
            TruncationMode::DiscardedWeight => {
                let total: f64 = s.iter().map(|x| x * x).sum();
                if total == 0.0 {
                    0
                } else {
                    // Smallest k with sum_{i >= k} s_i^2 <= cutoff * total.
                    let mut tail = 0.0;
                    let mut k = n;
                    while k > 0 {
                        let next = tail + s[k - 1] * s[k - 1];
                        if next > self.cutoff * total {
                            break;
                        }
                        tail = next;
                        k -= 1;
                    }
                    k
                }
            }
        };
        allowed.max(self.min_bond.max(1)).min(self.max_bond).min(n)
    }
}

/// A truncated SVD `a ~ U diag(S) V^H` and what was thrown away.
///
/// ```
/// use tnlearn::linalg::{svd_truncated, Truncation};
/// use tnlearn::ndarray::array;
///
/// let a = array![[3.0, 0.0], [0.0, 1.0]];
/// let t = svd_truncated(a.view(), &Truncation::new().max_bond(1))?;
/// assert_eq!((t.rank(), t.u.dim(), t.vh.dim()), (1, (2, 1), (1, 2)));
/// assert!((t.s[0] - 3.0).abs() < 1e-12 && (t.discarded_norm_sqr - 1.0).abs() < 1e-12);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TruncatedSvd<T> {
    /// Left singular vectors, `m x kept`.
    pub u: Array2<T>,
    /// Kept singular values, non-increasing.
    pub s: Array1<f64>,
    /// Right singular vectors (conjugate-transposed), `kept x n`.
    pub vh: Array2<T>,
    /// Discarded weight `sum_{discarded} s_i^2 / sum_i s_i^2` (0 for a zero matrix).
    pub truncation_error: f64,
    /// Discarded weight in absolute terms, `sum_{discarded} s_i^2`.
    pub discarded_norm_sqr: f64,
}

impl<T> TruncatedSvd<T> {
    /// The number of singular values kept.
    pub fn rank(&self) -> usize {
        self.s.len()
    }
}

/// Thin SVD truncated by `trunc`: keeps the `k = trunc.keep_count(s)` largest
/// singular values, so `a ~ U[:, :k] diag(s[:k]) V^H[:k, :]`, and reports the
/// discarded weight `sum_{i >= k} s_i^2 / sum_i s_i^2`, which equals the relative
/// squared Frobenius error `||a - U S V^H||_F^2 / ||a||_F^2`.
///
/// Errors: [`Error::InvalidArgument`] from [`Truncation::validate`], and whatever
/// [`svd`](super::svd) returns (e.g. [`Error::NonFinite`]). An empty matrix gives
/// rank 0 and `truncation_error = 0`.
///
/// ```
/// use ndarray::Array2;
/// use tnlearn::linalg::{svd_truncated, Truncation};
///
/// // A rank-3 matrix with singular values 4, 2, 1 (times orthonormal factors).
/// let a = Array2::from_diag(&ndarray::array![4.0, 2.0, 1.0]);
/// let t = svd_truncated(a.view(), &Truncation::new().max_bond(2))?;
/// assert_eq!(t.rank(), 2);
/// // The discarded weight: 1^2 / (16 + 4 + 1).
/// assert!((t.truncation_error - 1.0 / 21.0).abs() < 1e-12);
/// # Ok::<(), tnlearn::Error>(())
/// ```
pub fn svd_truncated<T: Scalar>(
    a: ArrayView2<'_, T>,
    trunc: &Truncation,
) -> Result<TruncatedSvd<T>> {
    trunc.validate()?;
    let (u, s, vh) = super::svd(a)?;
    let s_slice = s.as_slice().expect("1-d owned array is contiguous");
    let keep = trunc.keep_count(s_slice);
    let total: f64 = s_slice.iter().map(|x| x * x).sum();
    let discarded: f64 = s_slice[keep..].iter().map(|x| x * x).sum();
    let truncation_error = if total > 0.0 { discarded / total } else { 0.0 };
    Ok(TruncatedSvd {
        u: u.slice(s![.., ..keep]).to_owned(),
        s: s.slice(s![..keep]).to_owned(),
        vh: vh.slice(s![..keep, ..]).to_owned(),
        truncation_error,
        discarded_norm_sqr: discarded,
    })
}

/// A truncated factorisation `a ~ Q C` with orthonormal columns `Q` spanning the
/// dominant left singular subspace of `a` and `C = Q^H a`: what a sweep needs to
/// split a two-site tensor, computed without an SVD (see [`range_truncated`]).
#[derive(Clone, Debug)]
pub struct TruncatedRange<T> {
    /// Orthonormal basis of the kept left singular subspace, `m x kept`.
    pub basis: Array2<T>,
    /// Coefficients `basis^H a`, `kept x n` (rows ordered by decreasing singular value).
    pub coeffs: Array2<T>,
    /// Kept singular values estimated as `sqrt(max(lambda, 0))` from the Gram
    /// eigenvalues, non-increasing. Accurate above about `1e-7 s_0`; smaller ones
    /// (including exact zeros) come out anywhere between 0 and about `1e-8 s_0`.
    pub s: Array1<f64>,
    /// Relative discarded weight `||a - Q C||_F^2 / ||a||_F^2`, computed as
    /// `(||a||^2 - ||C||^2) / ||a||^2` (exact up to rounding of order
    /// `1e-16`; 0 for a zero matrix).
    pub truncation_error: f64,
    /// Discarded weight in absolute terms, `||a - Q C||_F^2`.
    pub discarded_norm_sqr: f64,
}

impl<T> TruncatedRange<T> {
    /// The number of basis vectors kept.
    pub fn rank(&self) -> usize {
        self.s.len()
    }
}

/// Truncated range factorisation `a ~ Q (Q^H a)` from the eigendecomposition of the
/// Gram matrix `a a^H = V diag(lambda) V^H` (`m x m`): the singular values of `a` are
/// `s_i = sqrt(lambda_i)`, `trunc` chooses how many to keep exactly as in
/// [`svd_truncated`], and `Q` holds the corresponding eigenvectors.
///
/// `Q Q^H a` is then the best rank-`k` approximation of `a` (up to rounding), with
/// the same error as the truncated SVD. `Q` is orthonormal to machine precision
/// and `C = Q^H a` is formed directly (no division by small singular values), so
/// the factorisation is exact where it matters; only the *estimates* of singular
/// values below about `sqrt(eps) s_0 ~ 1e-8 s_0` are inaccurate, which affects
/// which of those tiny values a cutoff keeps, not the error reported. For the
/// square `2D x 2D` matrices of a two-site sweep this is about twice as fast as a
/// full SVD (one GEMM and a symmetric eigensolver).
///
/// Errors: [`Error::InvalidArgument`] from [`Truncation::validate`];
/// [`Error::NonFinite`] for a NaN or infinite entry. An empty matrix gives rank 0.
pub fn range_truncated<T: Scalar>(
    a: ArrayView2<'_, T>,
    trunc: &Truncation,
) -> Result<TruncatedRange<T>> {
    trunc.validate()?;
    let (m, n) = a.dim();
    if m == 0 || n == 0 {
        return Ok(TruncatedRange {
            basis: Array2::zeros((m, 0)),
            coeffs: Array2::zeros((0, n)),
            s: Array1::zeros(0),
            truncation_error: 0.0,
            discarded_norm_sqr: 0.0,
        });
    }
    let ah = a.t().mapv(|v| v.conj());
    let gram = super::matmul(a, ah.view())?;
    let (lambda, v) = super::eigh(gram.view())?;
    // eigh sorts ascending: reverse to the SVD's non-increasing order. Only the
    // leading min(m, n) eigenvalues can be non-zero (rank bound), as in a thin SVD.
    let s: Vec<f64> = lambda
        .iter()
        .rev()
        .take(m.min(n))
        .map(|&l| l.max(0.0).sqrt())
        .collect();
    let keep = trunc.keep_count(&s);
    let basis = v.slice(s![.., ..;-1]).slice(s![.., ..keep]).to_owned();
    let bh = basis.t().mapv(|v| v.conj());
    let coeffs = super::matmul(bh.view(), a)?;
    let total: f64 = a.iter().map(|v| v.abs2()).sum();
    let kept: f64 = coeffs.iter().map(|v| v.abs2()).sum();
    let discarded = (total - kept).max(0.0);
    Ok(TruncatedRange {
        basis,
        coeffs,
        s: Array1::from(s[..keep].to_vec()),
        truncation_error: if total > 0.0 { discarded / total } else { 0.0 },
        discarded_norm_sqr: discarded,
    })
}
