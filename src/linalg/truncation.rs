//! One truncation vocabulary for every SVD in the library.
//!
//! A [`Truncation`] says how many singular values to keep; [`svd_truncated`] applies
//! it and reports the discarded weight, which callers accumulate (ITensor's
//! "truncation error").

use ndarray::{s, Array1, Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::scalar::Scalar;

/// How [`Truncation::cutoff`] is compared with the singular values `s_0 >= s_1 >= ...`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
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
