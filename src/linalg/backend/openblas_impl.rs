//! The `openblas` backend: system OpenBLAS. GEMM goes straight to CBLAS
//! (`cblas_dgemm` / `cblas_zgemm`); QR, SVD and the Hermitian eigendecomposition
//! call LAPACK (`?geqrf` + `?orgqr`/`?ungqr`, `?gesdd` with `?gesvd` and
//! QR-then-SVD as fallbacks, `?syevd`/`?heevd`) through `lapack-sys`.
//!
//! On first use the backend asks OpenBLAS which kernel it chose
//! (`openblas_get_corename()`) and prints one warning to stderr when that kernel is
//! weaker than the CPU (see [`super::openblas_kernel_warning`]).

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};
use std::sync::Once;

use cblas_sys::{CBLAS_LAYOUT, CBLAS_TRANSPOSE};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};
use num_complex::Complex64;

use super::impl_kernels;
use super::{openblas_kernel_warning, svd_via_adjoint, svd_via_qr, SvdParts};
use crate::error::{Error, Result};
use crate::scalar::Scalar;

extern "C" {
    fn openblas_get_corename() -> *const c_char;
    fn openblas_get_config() -> *const c_char;
}

fn c_str(p: *const c_char) -> String {
    if p.is_null() {
        return "unknown".to_string();
    }
    // SAFETY: OpenBLAS returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// The kernel OpenBLAS chose (e.g. `"Prescott"`, `"SkylakeX"`).
pub(crate) fn corename() -> String {
    // SAFETY: no arguments, returns a static string.
    c_str(unsafe { openblas_get_corename() })
}

/// Backend description for [`crate::linalg::backend_info`].
pub(crate) fn info() -> String {
    // SAFETY: no arguments, returns a static string.
    let config = c_str(unsafe { openblas_get_config() });
    format!(
        "openblas (system OpenBLAS: {}; core: {})",
        config.trim(),
        corename()
    )
}

static KERNEL_CHECK: Once = Once::new();

/// Prints the fallback-kernel warning at most once per process.
fn check_kernel_once() {
    KERNEL_CHECK.call_once(|| {
        if std::env::var_os("OPENBLAS_CORETYPE").is_some() {
            return; // the user chose a kernel
        }
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        let (avx2, avx512) = (
            std::is_x86_feature_detected!("avx2"),
            std::is_x86_feature_detected!("avx512f"),
        );
        #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
        let (avx2, avx512) = (false, false);
        if let Some(msg) = openblas_kernel_warning(&corename(), avx2, avx512) {
            eprintln!("{msg}");
        }
    });
}

/// A dimension as LAPACK/BLAS's 32-bit integer.
fn dim_i32(x: usize, what: &str) -> Result<c_int> {
    c_int::try_from(x).map_err(|_| {
        Error::invalid_argument(
            what,
            format!("{x} exceeds the 32-bit limit of the openblas backend"),
        )
    })
}

/// Row-major (`layout.0 == NoTrans`) or column-major (`Trans`) description of a
/// strided view for a row-major CBLAS call, with its leading dimension; `None` if
/// neither stride is unit (or strides are negative).
fn blas_layout(rows: usize, cols: usize, strides: &[isize]) -> Option<(CBLAS_TRANSPOSE, c_int)> {
    let (s0, s1) = (strides[0], strides[1]);
    let fits = |x: usize| c_int::try_from(x).ok();
    // Row-major: element (i, j) at i * ld + j.
    if cols <= 1 || s1 == 1 {
        let ld = if rows <= 1 {
            Some(cols.max(1))
        } else if s0 >= cols.max(1) as isize {
            Some(s0 as usize)
        } else {
            None
        };
        if let Some(ld) = ld.and_then(fits) {
            return Some((CBLAS_TRANSPOSE::CblasNoTrans, ld));
        }
    }
    // Column-major: element (i, j) at i + j * ld, i.e. the transpose is row-major.
    if rows <= 1 || s0 == 1 {
        let ld = if cols <= 1 {
            Some(rows.max(1))
        } else if s1 >= rows.max(1) as isize {
            Some(s1 as usize)
        } else {
            None
        };
        if let Some(ld) = ld.and_then(fits) {
            return Some((CBLAS_TRANSPOSE::CblasTrans, ld));
        }
    }
    None
}

/// The LAPACK/BLAS entry points for one scalar type. All matrices are column-major
/// (Fortran) buffers; every function returns LAPACK's `info`.
trait Lapack: Scalar {
    /// Row-major CBLAS GEMM, `c = alpha op(a) op(b) + beta c`.
    ///
    /// # Safety
    /// Pointers and leading dimensions must describe valid matrices.
    #[allow(clippy::too_many_arguments)]
    unsafe fn cblas_gemm(
        ta: CBLAS_TRANSPOSE,
        tb: CBLAS_TRANSPOSE,
        m: c_int,
        n: c_int,
        k: c_int,
        alpha: Self,
        a: *const Self,
        lda: c_int,
        b: *const Self,
        ldb: c_int,
        beta: Self,
        c: *mut Self,
        ldc: c_int,
    );
    /// Thin SVD (`jobz = 'S'` / `jobu = jobvt = 'S'`) of the `m x n` matrix `a`
    /// (destroyed); `u` is `m x k`, `vt` is `k x n`, `k = min(m, n)`.
    fn gesvd_thin(
        divide_and_conquer: bool,
        m: c_int,
        n: c_int,
        a: &mut [Self],
        s: &mut [f64],
        u: &mut [Self],
        vt: &mut [Self],
    ) -> c_int;
    /// Householder QR; `tau` has `min(m, n)` entries.
    fn geqrf(m: c_int, n: c_int, a: &mut [Self], tau: &mut [Self]) -> c_int;
    /// The first `n` columns of `Q` from `k` reflectors (in place).
    fn orgqr(m: c_int, n: c_int, k: c_int, a: &mut [Self], tau: &[Self]) -> c_int;
    /// Eigenvalues (ascending) and eigenvectors (overwriting `a`) of a Hermitian
    /// matrix, lower triangle read.
    fn heevd(n: c_int, a: &mut [Self], w: &mut [f64]) -> c_int;
}

/// Workspace size from a LAPACK query result.
fn lwork_of(x: f64) -> c_int {
    // Round up a little: some LAPACK versions return a float just below the
    // integer they meant.
    (x * (1.0 + 1e-12)).ceil().clamp(1.0, c_int::MAX as f64) as c_int
}

/// Calls a LAPACK routine twice: a workspace query (`lwork = -1`; the optimal size
/// comes back in `work[0]`), then the real call with that much workspace.
/// `call(work, lwork)` makes one call and returns LAPACK's `info`.
fn with_workspace<W: Scalar>(mut call: impl FnMut(&mut [W], c_int) -> c_int) -> c_int {
    let mut query = [W::default()];
    let info = call(&mut query, -1);
    if info != 0 {
        return info;
    }
    let lwork = lwork_of(query[0].re());
    let mut work = vec![W::default(); lwork as usize];
    call(&mut work, lwork)
}

const JOB_S: c_char = b'S' as c_char;
const JOB_V: c_char = b'V' as c_char;
const UPLO_L: c_char = b'L' as c_char;

impl Lapack for f64 {
    unsafe fn cblas_gemm(
        ta: CBLAS_TRANSPOSE,
        tb: CBLAS_TRANSPOSE,
        m: c_int,
        n: c_int,
        k: c_int,
        alpha: Self,
        a: *const Self,
        lda: c_int,
        b: *const Self,
        ldb: c_int,
        beta: Self,
        c: *mut Self,
        ldc: c_int,
    ) {
        cblas_sys::cblas_dgemm(
            CBLAS_LAYOUT::CblasRowMajor,
            ta,
            tb,
            m,
            n,
            k,
            alpha,
            a,
            lda,
            b,
            ldb,
            beta,
            c,
            ldc,
        );
    }

    fn gesvd_thin(
        divide_and_conquer: bool,
        m: c_int,
        n: c_int,
        a: &mut [Self],
        s: &mut [f64],
        u: &mut [Self],
        vt: &mut [Self],
    ) -> c_int {
        let k = m.min(n);
        let (lda, ldu, ldvt) = (m.max(1), m.max(1), k.max(1));
        if divide_and_conquer {
            let mut iwork = vec![0 as c_int; 8 * k.max(1) as usize];
            with_workspace(|work: &mut [f64], lwork| {
                let mut info = 0;
                // SAFETY: buffers are sized as LAPACK requires (lwork = -1: a query).
                unsafe {
                    lapack_sys::dgesdd_(
                        &JOB_S,
                        &m,
                        &n,
                        a.as_mut_ptr(),
                        &lda,
                        s.as_mut_ptr(),
                        u.as_mut_ptr(),
                        &ldu,
                        vt.as_mut_ptr(),
                        &ldvt,
                        work.as_mut_ptr(),
                        &lwork,
                        iwork.as_mut_ptr(),
                        &mut info,
                    );
                }
                info
            })
        } else {
            with_workspace(|work: &mut [f64], lwork| {
                let mut info = 0;
                // SAFETY: buffers are sized as LAPACK requires (lwork = -1: a query).
                unsafe {
                    lapack_sys::dgesvd_(
                        &JOB_S,
                        &JOB_S,
                        &m,
                        &n,
                        a.as_mut_ptr(),
                        &lda,
                        s.as_mut_ptr(),
                        u.as_mut_ptr(),
                        &ldu,
                        vt.as_mut_ptr(),
                        &ldvt,
                        work.as_mut_ptr(),
                        &lwork,
                        &mut info,
                    );
                }
                info
            })
        }
    }

    fn geqrf(m: c_int, n: c_int, a: &mut [Self], tau: &mut [Self]) -> c_int {
        let lda = m.max(1);
        with_workspace(|work: &mut [f64], lwork| {
            let mut info = 0;
            // SAFETY: buffers are sized as LAPACK requires (lwork = -1: a query).
            unsafe {
                lapack_sys::dgeqrf_(
                    &m,
                    &n,
                    a.as_mut_ptr(),
                    &lda,
                    tau.as_mut_ptr(),
                    work.as_mut_ptr(),
                    &lwork,
                    &mut info,
                );
            }
            info
        })
    }

    fn orgqr(m: c_int, n: c_int, k: c_int, a: &mut [Self], tau: &[Self]) -> c_int {
        let lda = m.max(1);
        with_workspace(|work: &mut [f64], lwork| {
            let mut info = 0;
            // SAFETY: buffers are sized as LAPACK requires (lwork = -1: a query).
            unsafe {
                lapack_sys::dorgqr_(
                    &m,
                    &n,
                    &k,
                    a.as_mut_ptr(),
                    &lda,
                    tau.as_ptr(),
                    work.as_mut_ptr(),
                    &lwork,
                    &mut info,
                );
            }
            info
        })
    }

    fn heevd(n: c_int, a: &mut [Self], w: &mut [f64]) -> c_int {
        let lda = n.max(1);
        let mut info = 0;
        let mut query = [0.0f64];
        let mut iquery = [0 as c_int];
        // SAFETY: workspace query, then the call with the queried workspace.
        unsafe {
            lapack_sys::dsyevd_(
                &JOB_V,
                &UPLO_L,
                &n,
                a.as_mut_ptr(),
                &lda,
                w.as_mut_ptr(),
                query.as_mut_ptr(),
                &-1,
                iquery.as_mut_ptr(),
                &-1,
                &mut info,
            );
            if info != 0 {
                return info;
            }
            let lwork = lwork_of(query[0]);
            let liwork = iquery[0].max(1);
            let mut work = vec![0.0f64; lwork as usize];
            let mut iwork = vec![0 as c_int; liwork as usize];
            lapack_sys::dsyevd_(
                &JOB_V,
                &UPLO_L,
                &n,
                a.as_mut_ptr(),
                &lda,
                w.as_mut_ptr(),
                work.as_mut_ptr(),
                &lwork,
                iwork.as_mut_ptr(),
                &liwork,
                &mut info,
            );
        }
        info
    }
}

type Zc = lapack_sys::__BindgenComplex<f64>;

/// `Complex64` and LAPACK's complex type have the same layout (two `f64`, `repr(C)`).
fn zp(x: &mut [Complex64]) -> *mut Zc {
    x.as_mut_ptr().cast()
}

impl Lapack for Complex64 {
    unsafe fn cblas_gemm(
        ta: CBLAS_TRANSPOSE,
        tb: CBLAS_TRANSPOSE,
        m: c_int,
        n: c_int,
        k: c_int,
        alpha: Self,
        a: *const Self,
        lda: c_int,
        b: *const Self,
        ldb: c_int,
        beta: Self,
        c: *mut Self,
        ldc: c_int,
    ) {
        cblas_sys::cblas_zgemm(
            CBLAS_LAYOUT::CblasRowMajor,
            ta,
            tb,
            m,
            n,
            k,
            (&alpha as *const Complex64).cast(),
            a.cast(),
            lda,
            b.cast(),
            ldb,
            (&beta as *const Complex64).cast(),
            c.cast(),
            ldc,
        );
    }

    fn gesvd_thin(
        divide_and_conquer: bool,
        m: c_int,
        n: c_int,
        a: &mut [Self],
        s: &mut [f64],
        u: &mut [Self],
        vt: &mut [Self],
    ) -> c_int {
        let k = m.min(n);
        let (lda, ldu, ldvt) = (m.max(1), m.max(1), k.max(1));
        let (mn, mx) = (k.max(1) as usize, m.max(n).max(1) as usize);
        if divide_and_conquer {
            let lrwork = (5 * mn * mn + 5 * mn).max(2 * mx * mn + 2 * mn * mn + mn);
            let mut rwork = vec![0.0f64; lrwork];
            let mut iwork = vec![0 as c_int; 8 * mn];
            with_workspace(|work: &mut [Complex64], lwork| {
                let mut info = 0;
                // SAFETY: buffers are sized as LAPACK requires (lwork = -1: a query).
                unsafe {
                    lapack_sys::zgesdd_(
                        &JOB_S,
                        &m,
                        &n,
                        zp(a),
                        &lda,
                        s.as_mut_ptr(),
                        zp(u),
                        &ldu,
                        zp(vt),
                        &ldvt,
                        zp(work),
                        &lwork,
                        rwork.as_mut_ptr(),
                        iwork.as_mut_ptr(),
                        &mut info,
                    );
                }
                info
            })
        } else {
            let mut rwork = vec![0.0f64; 5 * mn];
            with_workspace(|work: &mut [Complex64], lwork| {
                let mut info = 0;
                // SAFETY: buffers are sized as LAPACK requires (lwork = -1: a query).
                unsafe {
                    lapack_sys::zgesvd_(
                        &JOB_S,
                        &JOB_S,
                        &m,
                        &n,
                        zp(a),
                        &lda,
                        s.as_mut_ptr(),
                        zp(u),
                        &ldu,
                        zp(vt),
                        &ldvt,
                        zp(work),
                        &lwork,
                        rwork.as_mut_ptr(),
                        &mut info,
                    );
                }
                info
            })
        }
    }

    fn geqrf(m: c_int, n: c_int, a: &mut [Self], tau: &mut [Self]) -> c_int {
        let lda = m.max(1);
        with_workspace(|work: &mut [Complex64], lwork| {
            let mut info = 0;
            // SAFETY: buffers are sized as LAPACK requires (lwork = -1: a query).
            unsafe {
                lapack_sys::zgeqrf_(&m, &n, zp(a), &lda, zp(tau), zp(work), &lwork, &mut info);
            }
            info
        })
    }

    fn orgqr(m: c_int, n: c_int, k: c_int, a: &mut [Self], tau: &[Self]) -> c_int {
        let lda = m.max(1);
        let tau_ptr: *const Zc = tau.as_ptr().cast();
        with_workspace(|work: &mut [Complex64], lwork| {
            let mut info = 0;
            // SAFETY: buffers are sized as LAPACK requires (lwork = -1: a query).
            unsafe {
                lapack_sys::zungqr_(
                    &m,
                    &n,
                    &k,
                    zp(a),
                    &lda,
                    tau_ptr,
                    zp(work),
                    &lwork,
                    &mut info,
                );
            }
            info
        })
    }

    fn heevd(n: c_int, a: &mut [Self], w: &mut [f64]) -> c_int {
        let lda = n.max(1);
        let mut info = 0;
        let mut query = [Complex64::new(0.0, 0.0)];
        let mut rquery = [0.0f64];
        let mut iquery = [0 as c_int];
        // SAFETY: workspace query, then the call with the queried workspace.
        unsafe {
            lapack_sys::zheevd_(
                &JOB_V,
                &UPLO_L,
                &n,
                zp(a),
                &lda,
                w.as_mut_ptr(),
                zp(&mut query),
                &-1,
                rquery.as_mut_ptr(),
                &-1,
                iquery.as_mut_ptr(),
                &-1,
                &mut info,
            );
            if info != 0 {
                return info;
            }
            let lwork = lwork_of(query[0].re);
            let lrwork = lwork_of(rquery[0]);
            let liwork = iquery[0].max(1);
            let mut work = vec![Complex64::new(0.0, 0.0); lwork as usize];
            let mut rwork = vec![0.0f64; lrwork as usize];
            let mut iwork = vec![0 as c_int; liwork as usize];
            lapack_sys::zheevd_(
                &JOB_V,
                &UPLO_L,
                &n,
                zp(a),
                &lda,
                w.as_mut_ptr(),
                zp(&mut work),
                &lwork,
                rwork.as_mut_ptr(),
                &lrwork,
                iwork.as_mut_ptr(),
                &liwork,
                &mut info,
            );
        }
        info
    }
}

/// Column-major copy of a view.
fn to_col_major<T: Scalar>(a: &ArrayView2<'_, T>) -> Vec<T> {
    a.t().iter().copied().collect()
}

/// Row-major matrix from a column-major buffer holding an `rows x cols` matrix
/// with leading dimension `ld` (only the first `cols` columns are used).
fn from_col_major<T: Scalar>(buf: &[T], rows: usize, cols: usize, ld: usize) -> Array2<T> {
    Array2::from_shape_fn((rows, cols), |(i, j)| buf[i + j * ld])
}

fn gemm_impl<T: Lapack>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    accumulate: bool,
    mut c: ArrayViewMut2<'_, T>,
) {
    check_kernel_once();
    let (m, k) = a.dim();
    let n = b.ncols();
    if m == 0 || n == 0 {
        return;
    }
    let (Ok(mi), Ok(ni), Ok(ki)) = (c_int::try_from(m), c_int::try_from(n), c_int::try_from(k))
    else {
        // Beyond BLAS's 32-bit indices: ndarray's own product.
        let beta = if accumulate { T::one() } else { T::zero() };
        ndarray::linalg::general_mat_mul(alpha, &a, &b, beta, &mut c);
        return;
    };
    if k == 0 {
        if !accumulate {
            c.fill(T::zero());
        }
        return;
    }
    let beta = if accumulate { T::one() } else { T::zero() };
    // C row-major: C = op(A) op(B). C column-major: C^T = op(B^T) op(A^T), row-major.
    let c_rows = blas_layout(m, n, c.strides());
    if let Some((CBLAS_TRANSPOSE::CblasNoTrans, ldc)) = c_rows {
        gemm_row_major(alpha, &a, &b, beta, c.as_mut_ptr(), ldc, mi, ni, ki);
    } else if let Some((_, ldc)) = c_rows {
        let (at, bt) = (a.t(), b.t());
        gemm_row_major(alpha, &bt, &at, beta, c.as_mut_ptr(), ldc, ni, mi, ki);
    } else {
        let mut tmp = Array2::<T>::zeros((m, n));
        let ldc = n as c_int;
        gemm_row_major(alpha, &a, &b, T::zero(), tmp.as_mut_ptr(), ldc, mi, ni, ki);
        if accumulate {
            c += &tmp;
        } else {
            c.assign(&tmp);
        }
    }
}

/// Row-major `c = alpha a b + beta c` where `c` is row-major with leading
/// dimension `ldc`; `a` and `b` may be row- or column-major (else they are copied).
#[allow(clippy::too_many_arguments)]
fn gemm_row_major<T: Lapack>(
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    beta: T,
    c: *mut T,
    ldc: c_int,
    m: c_int,
    n: c_int,
    k: c_int,
) {
    let a_copy;
    let (ta, lda, pa) = match blas_layout(a.nrows(), a.ncols(), a.strides()) {
        Some((t, ld)) => (t, ld, a.as_ptr()),
        None => {
            a_copy = a.as_standard_layout().into_owned();
            (CBLAS_TRANSPOSE::CblasNoTrans, k.max(1), a_copy.as_ptr())
        }
    };
    let b_copy;
    let (tb, ldb, pb) = match blas_layout(b.nrows(), b.ncols(), b.strides()) {
        Some((t, ld)) => (t, ld, b.as_ptr()),
        None => {
            b_copy = b.as_standard_layout().into_owned();
            (CBLAS_TRANSPOSE::CblasNoTrans, n.max(1), b_copy.as_ptr())
        }
    };
    // SAFETY: the layouts and leading dimensions were derived from the views'
    // strides (or from fresh contiguous copies); `c` is valid for an m x n
    // row-major matrix with leading dimension ldc.
    unsafe { T::cblas_gemm(ta, tb, m, n, k, alpha, pa, lda, pb, ldb, beta, c, ldc) }
}

fn lapack_failure(routine: &str, info: c_int, m: usize, n: usize) -> Error {
    if info < 0 {
        Error::invalid_argument(
            routine,
            format!("LAPACK rejected argument {} on a {m} x {n} matrix", -info),
        )
    } else {
        Error::NoConvergence {
            routine: routine.to_string(),
            detail: format!("LAPACK info = {info} on a {m} x {n} matrix"),
        }
    }
}

fn qr_impl<T: Lapack>(a: ArrayView2<'_, T>) -> Result<(Array2<T>, Array2<T>)> {
    check_kernel_once();
    let (m, n) = a.dim();
    let k = m.min(n);
    let (mi, ni) = (dim_i32(m, "rows")?, dim_i32(n, "columns")?);
    let ki = mi.min(ni);
    let mut buf = to_col_major(&a);
    let mut tau = vec![T::zero(); k.max(1)];
    let info = T::geqrf(mi, ni, &mut buf, &mut tau);
    if info != 0 {
        return Err(lapack_failure("qr (geqrf)", info, m, n));
    }
    let r = Array2::from_shape_fn(
        (k, n),
        |(i, j)| {
            if i <= j {
                buf[i + j * m]
            } else {
                T::zero()
            }
        },
    );
    let info = T::orgqr(mi, ki, ki, &mut buf, &tau);
    if info != 0 {
        return Err(lapack_failure("qr (orgqr/ungqr)", info, m, n));
    }
    Ok((from_col_major(&buf, m, k, m), r))
}

/// One LAPACK SVD attempt; `Err(info)` on failure.
fn svd_lapack<T: Lapack>(
    a: ArrayView2<'_, T>,
    divide_and_conquer: bool,
) -> std::result::Result<SvdParts<T>, c_int> {
    let (m, n) = a.dim();
    let k = m.min(n);
    // The row-major copy of `a` is the column-major `a^T` (n x m). LAPACK gives
    // a^T = U' S V'^H, so a = conj(V') S U'^T: `U` is `V'^H` transposed and `V^H`
    // is `U'` transposed -- read as row-major, the buffers are already U and V^H.
    let mut buf: Vec<T> = a.iter().copied().collect();
    let mut s = vec![0.0f64; k];
    let mut u2 = vec![T::zero(); n * k]; // n x k column-major = V^H (k x n) row-major
    let mut vt2 = vec![T::zero(); k * m]; // k x m column-major = U (m x k) row-major
    let info = T::gesvd_thin(
        divide_and_conquer,
        n as c_int,
        m as c_int,
        &mut buf,
        &mut s,
        &mut u2,
        &mut vt2,
    );
    if info != 0 {
        return Err(info);
    }
    let u = Array2::from_shape_vec((m, k), vt2).expect("sizes match");
    let vh = Array2::from_shape_vec((k, n), u2).expect("sizes match");
    Ok((u, Array1::from(s), vh))
}

fn svd_impl<T: Lapack>(a: ArrayView2<'_, T>) -> Result<SvdParts<T>> {
    check_kernel_once();
    let (m, n) = a.dim();
    dim_i32(m, "rows")?;
    dim_i32(n, "columns")?;
    dim_i32(m.saturating_mul(n), "rows * columns")?;
    let mut tried = Vec::new();
    match svd_lapack(a, true) {
        Ok(r) => return Ok(r),
        Err(info) => tried.push(format!("gesdd (info = {info})")),
    }
    match svd_lapack(a, false) {
        Ok(r) => return Ok(r),
        Err(info) => tried.push(format!("gesvd (info = {info})")),
    }
    let gesdd = |x: ArrayView2<'_, T>| {
        svd_lapack(x, true).map_err(|info| lapack_failure("gesdd", info, x.nrows(), x.ncols()))
    };
    match svd_via_adjoint(a, gesdd) {
        Ok(r) => return Ok(r),
        Err(e) => tried.push(format!("gesdd of the adjoint ({e})")),
    }
    let core = |r: ArrayView2<'_, T>| {
        svd_lapack(r, true)
            .or_else(|_| svd_lapack(r, false))
            .map_err(|info| lapack_failure("svd of R", info, r.nrows(), r.ncols()))
    };
    match svd_via_qr(a, core) {
        Ok(r) => return Ok(r),
        Err(e) => tried.push(format!("QR then gesdd/gesvd of R ({e})")),
    }
    Err(Error::NoConvergence {
        routine: "svd (openblas)".into(),
        detail: format!("{m} x {n} matrix; tried {}", tried.join(", ")),
    })
}

fn eigh_impl<T: Lapack>(a: ArrayView2<'_, T>) -> Result<(Array1<f64>, Array2<T>)> {
    check_kernel_once();
    let n = a.nrows();
    let ni = dim_i32(n, "rows")?;
    let mut buf = to_col_major(&a);
    let mut w = vec![0.0f64; n];
    let info = T::heevd(ni, &mut buf, &mut w);
    if info != 0 {
        return Err(lapack_failure("eigh (syevd/heevd)", info, n, n));
    }
    Ok((Array1::from(w), from_col_major(&buf, n, n, n)))
}

impl_kernels!(f64);
impl_kernels!(Complex64);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, ShapeBuilder};

    #[test]
    fn layouts() {
        let a = Array2::<f64>::zeros((3, 4));
        assert!(matches!(
            blas_layout(3, 4, a.strides()),
            Some((CBLAS_TRANSPOSE::CblasNoTrans, 4))
        ));
        let t = a.t();
        assert!(matches!(
            blas_layout(4, 3, t.strides()),
            Some((CBLAS_TRANSPOSE::CblasTrans, 4))
        ));
        let f = Array2::<f64>::zeros((3, 4).f());
        assert!(matches!(
            blas_layout(3, 4, f.strides()),
            Some((CBLAS_TRANSPOSE::CblasTrans, 3))
        ));
        let s = a.slice(ndarray::s![..;2, ..;2]);
        assert!(blas_layout(2, 2, s.strides()).is_none());
    }

    #[test]
    fn svd_routes_agree() {
        let a = array![
            [1.0, 2.0, 3.0],
            [4.0, 5.0, 6.5],
            [0.5, -1.0, 2.0],
            [1.0, 1.0, 1.0]
        ];
        for route in [true, false] {
            let (u, s, vh) = svd_lapack(a.view(), route).unwrap();
            let rec = u.dot(&Array2::from_diag(&s)).dot(&vh);
            assert!((&rec - &a).iter().all(|x| x.abs() < 1e-12));
        }
    }
}
