//! The small internal interface every linear-algebra backend implements.
//!
//! Exactly one backend is compiled: [faer](https://docs.rs/faer) by default, system
//! OpenBLAS/LAPACK with the `openblas` feature. Everything above this module is
//! backend-agnostic.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use crate::error::Result;

#[cfg(not(feature = "openblas"))]
mod faer_impl;
#[cfg(feature = "openblas")]
mod openblas_impl;

/// The name of the active backend (`"faer"` or `"openblas"`).
#[cfg(not(feature = "openblas"))]
pub const BACKEND_NAME: &str = "faer";
/// The name of the active backend (`"faer"` or `"openblas"`).
#[cfg(feature = "openblas")]
pub const BACKEND_NAME: &str = "openblas";

/// Dense kernels a backend provides for one scalar type. Not meant to be used
/// directly: call the functions of [`crate::linalg`].
#[doc(hidden)]
pub trait Kernels: Sized {
    /// `c = alpha * a * b` (or `c += alpha * a * b` when `accumulate`), on
    /// arbitrarily strided views. Callers have checked the shapes.
    fn gemm_kernel(
        alpha: Self,
        a: ArrayView2<'_, Self>,
        b: ArrayView2<'_, Self>,
        accumulate: bool,
        c: ArrayViewMut2<'_, Self>,
    );

    /// Thin QR of an `m x n` matrix: `Q` is `m x k`, `R` is `k x n`, `k = min(m, n)`.
    fn qr_kernel(a: ArrayView2<'_, Self>) -> Result<(Array2<Self>, Array2<Self>)>;

    /// Thin SVD of an `m x n` matrix: `U` (`m x k`), singular values in
    /// non-increasing order (`k`), `V^H` (`k x n`), `k = min(m, n)`.
    fn svd_kernel(a: ArrayView2<'_, Self>) -> Result<(Array2<Self>, Array1<f64>, Array2<Self>)>;

    /// Eigendecomposition of a Hermitian matrix (only the lower triangle is read):
    /// eigenvalues in non-decreasing order and eigenvectors as columns.
    fn eigh_kernel(a: ArrayView2<'_, Self>) -> Result<(Array1<f64>, Array2<Self>)>;
}
