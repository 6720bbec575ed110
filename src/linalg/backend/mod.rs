//! The small internal interface every linear-algebra backend implements.
//!
//! Exactly one backend is compiled: [faer](https://docs.rs/faer) by default, system
//! OpenBLAS/LAPACK with the `openblas` feature. Everything above this module is
//! backend-agnostic.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use crate::error::Result;
use crate::scalar::Scalar;

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

/// Backend description for [`crate::linalg::backend_info`].
pub(crate) fn info() -> String {
    #[cfg(feature = "openblas")]
    let info = openblas_impl::info();
    #[cfg(not(feature = "openblas"))]
    let info = faer_impl::info();
    info
}

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

/// `(U, S, V^H)` of a thin SVD.
pub(crate) type SvdParts<T> = (Array2<T>, Array1<f64>, Array2<T>);

/// The conjugate transpose `a^H` as a new (row-major) matrix.
pub(crate) fn adjoint<T: Scalar>(a: ArrayView2<'_, T>) -> Array2<T> {
    a.t().mapv(|x| x.conj())
}

/// SVD through a QR decomposition first, the fallback when a direct SVD fails to
/// converge: for `m >= n`, `a = Q R` and `R = U_r S V^H` give `U = Q U_r`; for
/// `m < n`, `a^H = Q R` gives `a = R^H Q^H`, and `R^H = U S V_r^H` gives
/// `V^H = V_r^H Q^H`. `core` computes the SVD of the small square factor.
pub(crate) fn svd_via_qr<T: Scalar>(
    a: ArrayView2<'_, T>,
    core: impl Fn(ArrayView2<'_, T>) -> Result<SvdParts<T>>,
) -> Result<SvdParts<T>> {
    let (m, n) = a.dim();
    if m >= n {
        let (q, r) = T::qr_kernel(a)?;
        let (ur, s, vh) = core(r.view())?;
        let mut u = Array2::zeros((m, ur.ncols()));
        crate::linalg::gemm_unchecked(T::one(), q.view(), ur.view(), false, u.view_mut());
        Ok((u, s, vh))
    } else {
        let ah = adjoint(a);
        let (q, r) = T::qr_kernel(ah.view())?;
        let rh = adjoint(r.view());
        let (u, s, vrh) = core(rh.view())?;
        let qh = adjoint(q.view());
        let mut vh = Array2::zeros((vrh.nrows(), n));
        crate::linalg::gemm_unchecked(T::one(), vrh.view(), qh.view(), false, vh.view_mut());
        Ok((u, s, vh))
    }
}

/// SVD of `a` from an SVD of its adjoint: `a^H = U' S V'^H` gives `a = V' S U'^H`.
pub(crate) fn svd_via_adjoint<T: Scalar>(
    a: ArrayView2<'_, T>,
    core: impl Fn(ArrayView2<'_, T>) -> Result<SvdParts<T>>,
) -> Result<SvdParts<T>> {
    let ah = adjoint(a);
    let (u2, s, v2h) = core(ah.view())?;
    Ok((adjoint(v2h.view()), s, adjoint(u2.view())))
}

/// How capable an OpenBLAS kernel (as named by `openblas_get_corename()`) is:
/// 3 = AVX-512, 2 = AVX2, 1 = AVX, 0 = SSE-only, generic or unknown.
fn kernel_level(corename: &str) -> u8 {
    let name = corename.trim().to_ascii_lowercase();
    match name.as_str() {
        "skylakex" | "cooperlake" | "sapphirerapids" => 3,
        "haswell" | "zen" | "excavator" => 2,
        "sandybridge" | "bulldozer" | "piledriver" | "steamroller" => 1,
        _ => 0,
    }
}

/// The warning to print when OpenBLAS runs a kernel weaker than the CPU supports,
/// or `None` when there is nothing to say.
///
/// `corename` is what `openblas_get_corename()` reports (e.g. `"Prescott"`,
/// `"Haswell"`, `"SkylakeX"`); `has_avx2` / `has_avx512` say what the CPU can do
/// (`is_x86_feature_detected!`). The kernel is ranked AVX-512 (SkylakeX,
/// Cooperlake, SapphireRapids) > AVX2 (Haswell, Zen, Excavator) > AVX
/// (Sandybridge, Bulldozer, ...) > anything else (Prescott, Core2, Nehalem, ...),
/// and a warning is due when that rank is below the CPU's. The message names the
/// `OPENBLAS_CORETYPE` setting that fixes it.
///
/// The `openblas` backend prints this once per process (to stderr) on first use,
/// unless `OPENBLAS_CORETYPE` is already set; this function is public so that the
/// decision can be tested on any machine and any backend.
///
/// ```
/// use tnlearn::linalg::openblas_kernel_warning;
/// assert!(openblas_kernel_warning("Prescott", true, true).unwrap().contains("OPENBLAS_CORETYPE=SkylakeX"));
/// assert!(openblas_kernel_warning("SkylakeX", true, true).is_none());
/// assert!(openblas_kernel_warning("Prescott", false, false).is_none());
/// ```
pub fn openblas_kernel_warning(corename: &str, has_avx2: bool, has_avx512: bool) -> Option<String> {
    let cpu_level = if has_avx512 {
        3
    } else if has_avx2 {
        2
    } else {
        return None;
    };
    let kernel = kernel_level(corename);
    if kernel >= cpu_level {
        return None;
    }
    let (cpu, fix) = if cpu_level == 3 {
        (
            "AVX-512",
            "set OPENBLAS_CORETYPE=SkylakeX (AVX-512) or OPENBLAS_CORETYPE=Haswell (AVX2)",
        )
    } else {
        ("AVX2", "set OPENBLAS_CORETYPE=Haswell (AVX2)")
    };
    Some(format!(
        "tnlearn warning: OpenBLAS chose its \"{}\" kernel, but this CPU supports {cpu}, \
         so matrix products run several times slower than they could. \
         Fix: {fix} in the environment before starting the program, \
         e.g. `export OPENBLAS_CORETYPE={}`.",
        corename.trim(),
        if cpu_level == 3 {
            "SkylakeX"
        } else {
            "Haswell"
        }
    ))
}

/// Implements [`Kernels`] for a scalar type by forwarding to the functions
/// `gemm_impl`, `qr_impl`, `svd_impl` and `eigh_impl` of the module that invokes it
/// (each backend module defines them generically).
macro_rules! impl_kernels {
    ($t:ty) => {
        impl $crate::linalg::backend::Kernels for $t {
            fn gemm_kernel(
                alpha: Self,
                a: ndarray::ArrayView2<'_, Self>,
                b: ndarray::ArrayView2<'_, Self>,
                accumulate: bool,
                c: ndarray::ArrayViewMut2<'_, Self>,
            ) {
                gemm_impl(alpha, a, b, accumulate, c)
            }
            fn qr_kernel(
                a: ndarray::ArrayView2<'_, Self>,
            ) -> $crate::error::Result<(ndarray::Array2<Self>, ndarray::Array2<Self>)> {
                qr_impl(a)
            }
            fn svd_kernel(
                a: ndarray::ArrayView2<'_, Self>,
            ) -> $crate::error::Result<$crate::linalg::backend::SvdParts<Self>> {
                svd_impl(a)
            }
            fn eigh_kernel(
                a: ndarray::ArrayView2<'_, Self>,
            ) -> $crate::error::Result<(ndarray::Array1<f64>, ndarray::Array2<Self>)> {
                eigh_impl(a)
            }
        }
    };
}
use impl_kernels;
