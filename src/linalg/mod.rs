//! Linear algebra on matrices: products, thin QR, thin SVD (with truncation), and
//! Hermitian eigendecomposition, on the active backend (see [`backend_name`]).
//!
//! Matrices are [`ndarray`] 2-D arrays; any strides are accepted.

pub mod backend;

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use crate::error::{Error, Result};
use crate::scalar::Scalar;

pub use backend::openblas_kernel_warning;

/// The name of the linear-algebra backend compiled in (`"faer"` or `"openblas"`).
pub fn backend_name() -> &'static str {
    backend::BACKEND_NAME
}

/// A one-line description of the active backend: its name, and for `openblas` the
/// library's build configuration and the kernel (core) OpenBLAS chose, e.g.
/// `"openblas (system OpenBLAS: OpenBLAS 0.3.21 DYNAMIC_ARCH ...; core: SkylakeX)"`.
///
/// With `openblas`, the first linear-algebra call also checks that kernel: if it is
/// weaker than the CPU (Debian 12's OpenBLAS 0.3.21 picks "Prescott" on Sapphire
/// Rapids), one warning naming `OPENBLAS_CORETYPE` is printed to stderr; see
/// [`openblas_kernel_warning`].
///
/// ```
/// let info = tnlearn::linalg::backend_info();
/// assert!(info.starts_with(tnlearn::linalg::backend_name()));
/// ```
pub fn backend_info() -> String {
    backend::info()
}

/// Below this many multiply-adds a product is computed by a plain loop: no backend
/// call, no thread pool, no allocation.
const SMALL_GEMM: usize = 512;

/// General matrix product `c = alpha * a * b` (`c_ij = alpha * sum_l a_il b_lj`), or
/// `c += alpha * a * b` when `accumulate` is true.
///
/// Views may have any strides (transposed views, slices with steps); contiguous row-
/// or column-major views are passed to the backend without copying. Products of
/// fewer than 512 multiply-adds use a plain loop. When `accumulate` is false the
/// previous contents of `c` are ignored (even NaN).
///
/// Errors with [`Error::ShapeMismatch`] when the shapes do not chain
/// (`a: m x k`, `b: k x n`, `c: m x n`).
///
/// ```
/// use ndarray::array;
/// use tnlearn::linalg::gemm;
///
/// let (a, b) = (array![[1.0, 2.0], [3.0, 4.0]], array![[5.0], [6.0]]);
/// let mut c = array![[1.0], [1.0]];
/// gemm(2.0, a.view(), b.view(), true, c.view_mut())?; // c <- c + 2 a b
/// assert_eq!(c, array![[35.0], [79.0]]);
/// # Ok::<(), tnlearn::Error>(())
/// ```
pub fn gemm<T: Scalar>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    accumulate: bool,
    mut c: ArrayViewMut2<'_, T>,
) -> Result<()> {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    if k != k2 {
        return Err(Error::shape_mismatch(
            format!("gemm: inner dimensions differ (a is {m} x {k}, b is {k2} x {n}); b's shape"),
            vec![k, n],
            vec![k2, n],
        ));
    }
    if c.dim() != (m, n) {
        return Err(Error::shape_mismatch(
            format!("gemm: output c for a ({m} x {k}) times b ({k2} x {n}); c's shape"),
            vec![m, n],
            vec![c.nrows(), c.ncols()],
        ));
    }
    gemm_unchecked(alpha, a, b, accumulate, c.view_mut());
    Ok(())
}

thread_local! {
    static SEQUENTIAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with the faer kernels called from this thread single-threaded, for
/// callers that parallelise at a coarser grain themselves (e.g. one batch chunk per
/// thread): nested thread-pool entries only add synchronisation.
pub(crate) fn sequential<R>(f: impl FnOnce() -> R) -> R {
    let before = SEQUENTIAL.with(|s| s.replace(true));
    let out = f();
    SEQUENTIAL.with(|s| s.set(before));
    out
}

/// Whether the calling thread is inside [`sequential`].
#[cfg_attr(feature = "openblas", allow(dead_code))]
pub(crate) fn is_sequential() -> bool {
    SEQUENTIAL.with(|s| s.get())
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
    if m.saturating_mul(n).saturating_mul(k) <= SMALL_GEMM {
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

/// The matrix product `a * b` as a new (row-major) matrix.
///
/// Errors with [`Error::ShapeMismatch`] when `a.ncols() != b.nrows()`, and with
/// [`Error::InvalidArgument`] (naming the shape) when the `m x n` result is too large
/// to allocate (possible only when the inner dimension is 0).
///
/// ```
/// use ndarray::array;
/// let c = tnlearn::linalg::matmul(array![[1.0, 2.0]].view(), array![[3.0], [4.0]].view())?;
/// assert_eq!(c, array![[11.0]]);
/// assert!(tnlearn::linalg::matmul(c.view(), array![[1.0, 2.0, 3.0]].t()).is_err()); // 1x1 by 3x1
/// # Ok::<(), tnlearn::Error>(())
/// ```
pub fn matmul<T: Scalar>(a: ArrayView2<'_, T>, b: ArrayView2<'_, T>) -> Result<Array2<T>> {
    if a.ncols() != b.nrows() {
        return Err(Error::shape_mismatch(
            format!(
                "matmul: inner dimensions differ (a is {} x {}, b is {} x {}); b's shape",
                a.nrows(),
                a.ncols(),
                b.nrows(),
                b.ncols()
            ),
            vec![a.ncols(), b.ncols()],
            vec![b.nrows(), b.ncols()],
        ));
    }
    let shape = [a.nrows(), b.ncols()];
    let len = crate::tensor::alloc::checked_len::<T>(&shape, "matmul: result")?;
    let data = crate::tensor::alloc::try_zeroed_vec::<T>(len, "matmul: result")?;
    let mut c = Array2::from_shape_vec((shape[0], shape[1]), data)
        .map_err(|e| Error::invalid_argument("a", format!("matmul: result {shape:?}: {e}")))?;
    gemm(T::one(), a, b, false, c.view_mut())?;
    Ok(c)
}

/// Thin QR decomposition `a = Q R`: `Q` (`m x k`) has orthonormal columns
/// (`Q^H Q = 1`), `R` (`k x n`) is upper triangular (`R_ij = 0` for `i > j`), and
/// `k = min(m, n)`.
///
/// The diagonal of `R` is made real and non-negative (by moving a phase from each
/// row of `R` to the matching column of `Q`), so for a matrix of full column rank
/// the factorisation is unique and identical on every backend.
///
/// Errors: [`Error::NonFinite`] for a NaN or infinite entry. A `0 x n` or `m x 0`
/// input gives empty factors (`m x 0` and `0 x n`).
///
/// ```
/// use ndarray::array;
/// let a = array![[3.0, 1.0], [4.0, 2.0], [0.0, 5.0]];
/// let (q, r) = tnlearn::linalg::qr(a.view())?;
/// assert!((q.t().dot(&q) - ndarray::Array2::<f64>::eye(2)).iter().all(|x| x.abs() < 1e-12));
/// assert!((q.dot(&r) - &a).iter().all(|x| x.abs() < 1e-12));
/// assert!(r[[0, 0]] >= 0.0 && r[[1, 0]] == 0.0);
/// # Ok::<(), tnlearn::Error>(())
/// ```
pub fn qr<T: Scalar>(a: ArrayView2<'_, T>) -> Result<(Array2<T>, Array2<T>)> {
    check_finite_matrix(&a, "qr input")?;
    let (m, n) = a.dim();
    if m == 0 || n == 0 {
        return Ok((Array2::zeros((m, 0)), Array2::zeros((0, n))));
    }
    // Entries near the limits of f64 (e.g. 1e308) overflow inside the
    // Householder reflections: factor an exactly rescaled copy (a power of 2), then
    // scale R back.
    let (mut q, mut r) = match pow2_rescaled(&a) {
        None => T::qr_kernel(a)?,
        Some((scaled, e)) => {
            let (q, mut r) = T::qr_kernel(scaled.view())?;
            let (f1, f2) = pow2_factors(e);
            r.mapv_inplace(|x| x.scale(f1).scale(f2));
            check_finite_matrix(&r.view(), "qr: R factor (|R| exceeds f64::MAX)")?;
            (q, r)
        }
    };
    for i in 0..r.nrows().min(r.ncols()) {
        let d = r[(i, i)];
        let mag = d.abs();
        if mag > 0.0 && (d.im() != 0.0 || d.re() < 0.0) {
            let phase = d.scale(1.0 / mag); // d = |d| * phase
            let phase_c = phase.conj();
            r.row_mut(i).mapv_inplace(|x| x * phase_c);
            r[(i, i)] = T::from_f64(mag);
            q.column_mut(i).mapv_inplace(|x| x * phase);
        }
    }
    Ok((q, r))
}

/// Thin SVD `a = U diag(S) V^H`: `U` is `m x k` and `V^H` is `k x n` with
/// orthonormal columns / rows (`U^H U = V^H V = 1`), and `S` (`k` values, `k =
/// min(m, n)`) is non-negative and non-increasing. Note that `V^H` is returned, not
/// `V`.
///
/// If the backend's SVD does not converge, fallbacks are tried (another SVD driver,
/// the SVD of `a^H`, QR first then the SVD of the small triangular factor) before
/// [`Error::NoConvergence`] is returned, naming what was tried.
///
/// Errors: [`Error::NonFinite`] for a NaN or infinite entry. An empty input gives
/// empty factors (`m x 0`, `0`, `0 x n`).
///
/// ```
/// use ndarray::{array, Array2};
/// let a = array![[2.0, 0.0], [0.0, -3.0]];
/// let (u, s, vh) = tnlearn::linalg::svd(a.view())?;
/// assert_eq!(s.to_vec(), vec![3.0, 2.0]); // descending
/// let back = u.dot(&Array2::from_diag(&s)).dot(&vh);
/// assert!((back - &a).iter().all(|x| x.abs() < 1e-12));
/// # Ok::<(), tnlearn::Error>(())
/// ```
pub fn svd<T: Scalar>(a: ArrayView2<'_, T>) -> Result<(Array2<T>, Array1<f64>, Array2<T>)> {
    check_finite_matrix(&a, "svd input")?;
    let (m, n) = a.dim();
    if m == 0 || n == 0 {
        return Ok((
            Array2::zeros((m, 0)),
            Array1::zeros(0),
            Array2::zeros((0, n)),
        ));
    }
    match pow2_rescaled(&a) {
        None => T::svd_kernel(a),
        Some((scaled, e)) => {
            let (u, mut sv, vh) = T::svd_kernel(scaled.view())?;
            let (f1, f2) = pow2_factors(e);
            sv.mapv_inplace(|x| x * f1 * f2);
            if let Some(position) = sv.iter().position(|x| !x.is_finite()) {
                return Err(Error::NonFinite {
                    context: "svd: singular value exceeds f64::MAX".into(),
                    position,
                    value: format!("{}", sv[position]),
                });
            }
            Ok((u, sv, vh))
        }
    }
}

/// `None` when the largest magnitude of `a` lies in `[2^-400, 2^400]` (no risk of
/// overflow or underflow in the factorisations); otherwise `a * 2^-e` with the
/// exponent `e` of that magnitude (exact: a power of 2), and `e`.
fn pow2_rescaled<T: Scalar>(a: &ArrayView2<'_, T>) -> Option<(Array2<T>, i32)> {
    let max = a.iter().map(|x| x.abs()).fold(0.0_f64, f64::max);
    const LIMIT: f64 = 2.582249878086908e120; // 2^400
    if max == 0.0 || (1.0 / LIMIT..=LIMIT).contains(&max) {
        return None;
    }
    let e = max.log2().round() as i32;
    let (f1, f2) = pow2_factors(-e);
    Some((a.mapv(|x| x.scale(f1).scale(f2)), e))
}

/// `2^e` as two factors neither of which overflows or underflows (`|e| <= 1100`).
fn pow2_factors(e: i32) -> (f64, f64) {
    (2f64.powi(e / 2), 2f64.powi(e - e / 2))
}

/// Eigendecomposition of a Hermitian (real symmetric) matrix `a = V diag(w) V^H`:
/// eigenvalues `w` non-decreasing, eigenvectors the orthonormal columns of `V`.
///
/// Only the lower triangle of `a` enters the result (the upper one is taken to be
/// its conjugate transpose), though every entry must be finite.
///
/// Errors: [`Error::ShapeMismatch`] if `a` is not square, [`Error::NonFinite`] for a
/// NaN or infinite entry. A `0 x 0` input gives empty results.
///
/// ```
/// use ndarray::array;
/// let (w, v) = tnlearn::linalg::eigh(array![[2.0, 1.0], [1.0, 2.0]].view())?;
/// assert!((w[0] - 1.0).abs() < 1e-12 && (w[1] - 3.0).abs() < 1e-12); // ascending
/// assert!((v[[0, 1]].abs() - 0.5f64.sqrt()).abs() < 1e-12);
/// # Ok::<(), tnlearn::Error>(())
/// ```
pub fn eigh<T: Scalar>(a: ArrayView2<'_, T>) -> Result<(Array1<f64>, Array2<T>)> {
    if a.nrows() != a.ncols() {
        return Err(Error::shape_mismatch(
            format!(
                "eigh: matrix must be square, got {} x {}",
                a.nrows(),
                a.ncols()
            ),
            vec![a.nrows(), a.nrows()],
            vec![a.nrows(), a.ncols()],
        ));
    }
    check_finite_matrix(&a, "eigh input")?;
    if a.nrows() == 0 {
        return Ok((Array1::zeros(0), Array2::zeros((0, 0))));
    }
    T::eigh_kernel(a)
}

/// `sum_i x_i y_i` over the common length, with eight partial sums so the loop
/// vectorises (a single running sum is one dependent add per element: about 4x
/// slower on the rows and tensors of a sweep). Differs from the sequential sum by
/// rounding only.
pub(crate) fn dot(x: &[f64], y: &[f64]) -> f64 {
    debug_assert_eq!(x.len(), y.len());
    let mut acc = [0.0f64; 8];
    let (xc, yc) = (x.chunks_exact(8), y.chunks_exact(8));
    let tail: f64 = xc
        .remainder()
        .iter()
        .zip(yc.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (a, b) in xc.zip(yc) {
        for k in 0..8 {
            acc[k] += a[k] * b[k];
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// `sum_i x_i^2` (see [`dot`]).
pub(crate) fn sum_sq(x: &[f64]) -> f64 {
    dot(x, x)
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

mod randomized;
mod truncation;
pub use randomized::svd_truncated_randomized;
pub use truncation::{
    range_truncated, svd_truncated, TruncatedRange, TruncatedSvd, Truncation, TruncationMode,
};
