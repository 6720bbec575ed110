//! Linear algebra on matrices: products, thin QR, thin SVD (with truncation), and
//! Hermitian eigendecomposition, on the active backend (see [`backend_name`]).
//!
//! Matrices are [`ndarray`] 2-D arrays; any strides are accepted.

pub mod backend;

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use crate::error::{Error, Result};
use crate::scalar::Scalar;

/// The name of the linear-algebra backend compiled in (`"faer"` or `"openblas"`).
pub fn backend_name() -> &'static str {
    backend::BACKEND_NAME
}

/// Below this many multiply-adds a product is computed by a plain loop: no backend
/// call, no thread pool, no allocation.
const SMALL_GEMM: usize = 512;

/// `c = alpha * a * b`, or `c += alpha * a * b` when `accumulate` is true.
///
/// Errors with [`Error::ShapeMismatch`] when the shapes do not chain
/// (`a: m x k`, `b: k x n`, `c: m x n`).
pub fn gemm<T: Scalar>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    accumulate: bool,
    mut c: ArrayViewMut2<'_, T>,
) -> Result<()> {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    if k != k2 || c.dim() != (m, n) {
        return Err(Error::shape_mismatch(
            format!(
                "gemm: a is {m} x {k}, b is {k2} x {n}, c is {} x {}",
                c.nrows(),
                c.ncols()
            ),
            vec![m, n],
            vec![c.nrows(), c.ncols()],
        ));
    }
    gemm_unchecked(alpha, a, b, accumulate, c.view_mut());
    Ok(())
}

/// [`gemm`] without the shape check, for internal callers that built the views.
pub(crate) fn gemm_unchecked<T: Scalar>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    accumulate: bool,
    mut c: ArrayViewMut2<'_, T>,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(T::zero());
        }
        return;
    }
    if m * n * k <= SMALL_GEMM {
        for i in 0..m {
            for j in 0..n {
                let mut acc = T::zero();
                for l in 0..k {
                    acc += a[(i, l)] * b[(l, j)];
                }
                if accumulate {
                    c[(i, j)] += alpha * acc;
                } else {
                    c[(i, j)] = alpha * acc;
                }
            }
        }
        return;
    }
    T::gemm_kernel(alpha, a, b, accumulate, c);
}

/// The matrix product `a * b`.
pub fn matmul<T: Scalar>(a: ArrayView2<'_, T>, b: ArrayView2<'_, T>) -> Result<Array2<T>> {
    let mut c = Array2::zeros((a.nrows(), b.ncols()));
    gemm(T::one(), a, b, false, c.view_mut())?;
    Ok(c)
}

/// Thin QR decomposition `a = Q R`: `Q` (`m x k`) has orthonormal columns, `R`
/// (`k x n`) is upper triangular, `k = min(m, n)`.
pub fn qr<T: Scalar>(a: ArrayView2<'_, T>) -> Result<(Array2<T>, Array2<T>)> {
    check_finite_matrix(&a, "qr input")?;
    T::qr_kernel(a)
}

/// Thin SVD `a = U diag(S) V^H` with singular values in non-increasing order.
pub fn svd<T: Scalar>(a: ArrayView2<'_, T>) -> Result<(Array2<T>, Array1<f64>, Array2<T>)> {
    check_finite_matrix(&a, "svd input")?;
    T::svd_kernel(a)
}

/// Eigendecomposition of a Hermitian (real symmetric) matrix `a = V diag(w) V^H`,
/// eigenvalues non-decreasing. Errors if `a` is not square.
pub fn eigh<T: Scalar>(a: ArrayView2<'_, T>) -> Result<(Array1<f64>, Array2<T>)> {
    if a.nrows() != a.ncols() {
        return Err(Error::shape_mismatch(
            "eigh: matrix must be square",
            vec![a.nrows(), a.nrows()],
            vec![a.nrows(), a.ncols()],
        ));
    }
    check_finite_matrix(&a, "eigh input")?;
    T::eigh_kernel(a)
}

/// Errors with [`Error::NonFinite`] if a matrix has a NaN or infinite entry.
pub(crate) fn check_finite_matrix<T: Scalar>(a: &ArrayView2<'_, T>, context: &str) -> Result<()> {
    for (position, x) in a.iter().enumerate() {
        if !x.is_finite() {
            return Err(Error::NonFinite {
                context: context.to_string(),
                position,
                value: format!("{x}"),
            });
        }
    }
    Ok(())
}

#[allow(dead_code)]
fn _unused(_: ArrayViewMut2<'_, f64>) {}

mod truncation;
pub use truncation::{svd_truncated, TruncatedSvd, Truncation, TruncationMode};
