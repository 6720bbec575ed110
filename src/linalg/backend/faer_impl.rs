//! The default backend: faer (pure Rust).

use faer::linalg::matmul::matmul;
use faer::traits::ComplexField;
use faer::{Accum, MatMut, MatRef, Par, Side};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};
use num_complex::Complex64;

use super::impl_kernels;
use super::{svd_via_adjoint, svd_via_qr, SvdParts};
use crate::error::{Error, Result};
use crate::scalar::Scalar;

/// Backend description for [`crate::linalg::backend_info`].
pub(crate) fn info() -> String {
    format!(
        "faer 0.24 (pure Rust; {} threads)",
        faer::utils::thread::parallelism_degree(Par::rayon(0))
    )
}

/// Below this many multiply-adds a GEMM runs on one thread: entering the thread pool
/// costs more than it saves.
const PARALLEL_THRESHOLD: usize = 1 << 20;

fn par_for(flops: usize) -> Par {
    if flops < PARALLEL_THRESHOLD || crate::linalg::is_sequential() {
        Par::Seq
    } else {
        Par::rayon(0)
    }
}

fn as_faer<'a, T>(a: &'a ArrayView2<'_, T>) -> MatRef<'a, T> {
    let s = a.strides();
    // SAFETY: the view's pointer, dimensions and (element) strides describe valid
    // memory for the lifetime of the borrow.
    unsafe { MatRef::from_raw_parts(a.as_ptr(), a.nrows(), a.ncols(), s[0], s[1]) }
}

fn as_faer_mut<'a, T>(a: &'a mut ArrayViewMut2<'_, T>) -> MatMut<'a, T> {
    let s = a.strides().to_vec();
    let (m, n) = (a.nrows(), a.ncols());
    // SAFETY: as above, with exclusive access through the mutable borrow.
    unsafe { MatMut::from_raw_parts_mut(a.as_mut_ptr(), m, n, s[0], s[1]) }
}

fn to_ndarray<T: Copy>(m: MatRef<'_, T>) -> Array2<T> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

fn gemm_impl<T: ComplexField + Copy>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    accumulate: bool,
    mut c: ArrayViewMut2<'_, T>,
) {
    let flops = a.nrows() * a.ncols() * b.ncols();
    let accum = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    matmul(
        as_faer_mut(&mut c),
        accum,
        as_faer(&a),
        as_faer(&b),
        alpha,
        par_for(flops),
    );
}

fn qr_impl<T: ComplexField + Copy>(a: ArrayView2<'_, T>) -> Result<(Array2<T>, Array2<T>)> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::householder::{
        apply_block_householder_sequence_on_the_left_in_place_scratch as apply_scratch,
        apply_block_householder_sequence_on_the_left_in_place_with_conj as apply,
    };
    use faer::linalg::qr::no_pivoting::factor::{
        qr_in_place, qr_in_place_scratch, recommended_block_size,
    };

    // faer's `Qr::new` with the parallelism chosen per size (small factorisations
    // run single-threaded, as for GEMM).
    let (m, n) = a.dim();
    let k = m.min(n);
    let par = par_for(m * n * k);
    let mut qr = as_faer(&a).to_owned();
    let block = recommended_block_size::<T>(m, n);
    let mut coeff = faer::Mat::<T>::zeros(block, k);
    qr_in_place(
        qr.as_mut(),
        coeff.as_mut(),
        par,
        MemStack::new(&mut MemBuffer::new(qr_in_place_scratch::<T>(
            m,
            n,
            block,
            par,
            Default::default(),
        ))),
        Default::default(),
    );
    let r = Array2::from_shape_fn(
        (k, n),
        |(i, j)| {
            if j >= i {
                qr[(i, j)]
            } else {
                T::zero_impl()
            }
        },
    );
    // The Householder basis: unit lower trapezoidal part of the factored matrix.
    let basis = faer::Mat::<T>::from_fn(m, k, |i, j| match i.cmp(&j) {
        std::cmp::Ordering::Greater => qr[(i, j)],
        std::cmp::Ordering::Equal => T::one_impl(),
        std::cmp::Ordering::Less => T::zero_impl(),
    });
    let mut q = faer::Mat::<T>::identity(m, k);
    apply(
        basis.as_ref(),
        coeff.as_ref(),
        faer::Conj::No,
        q.as_mut(),
        par,
        MemStack::new(&mut MemBuffer::new(apply_scratch::<T>(m, block, k))),
    );
    Ok((to_ndarray(q.as_ref()), r))
}

/// One faer thin SVD, `Err` carrying faer's error (printed) on failure. Small
/// matrices run single-threaded (see [`par_for`]): entering the thread pool costs
/// more than it saves below about 100 x 100.
fn svd_faer<T: ComplexField<Real = f64> + Copy>(
    a: ArrayView2<'_, T>,
) -> std::result::Result<SvdParts<T>, String> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::svd::{svd, svd_scratch, ComputeSvdVectors};

    let (m, n) = a.dim();
    let k = m.min(n);
    let par = par_for(m * n * k);
    let mut s = faer::diag::Diag::<T>::zeros(k);
    let mut u = faer::Mat::<T>::zeros(m, k);
    let mut v = faer::Mat::<T>::zeros(n, k);
    let mut mem = MemBuffer::new(svd_scratch::<T>(
        m,
        n,
        ComputeSvdVectors::Thin,
        ComputeSvdVectors::Thin,
        par,
        Default::default(),
    ));
    svd(
        as_faer(&a),
        s.as_mut(),
        Some(u.as_mut()),
        Some(v.as_mut()),
        par,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .map_err(|e| format!("{e:?}"))?;
    let u = to_ndarray(u.as_ref());
    let s_col = s.column_vector();
    let s = Array1::from_shape_fn(k, |i| T::real_part_impl(&s_col[i]));
    // V^H: conjugate transpose of V.
    let vh = Array2::from_shape_fn((k, n), |(i, j)| T::conj_impl(&v[(j, i)]));
    Ok((u, s, vh))
}

/// faer's thin SVD; if it does not converge, the SVD of `a^H`, then QR followed by
/// the SVD of the small triangular factor (and of its adjoint).
fn svd_impl<T: Scalar + ComplexField<Real = f64>>(a: ArrayView2<'_, T>) -> Result<SvdParts<T>> {
    let first = match svd_faer(a) {
        Ok(r) => return Ok(r),
        Err(e) => e,
    };
    svd_fallbacks(a, first)
}

/// The fallback chain after a failed direct SVD (`first` is its error).
fn svd_fallbacks<T: Scalar + ComplexField<Real = f64>>(
    a: ArrayView2<'_, T>,
    first: String,
) -> Result<SvdParts<T>> {
    let (m, n) = a.dim();
    let wrap = |r: std::result::Result<SvdParts<T>, String>| {
        r.map_err(|e| Error::NoConvergence {
            routine: "svd (faer)".into(),
            detail: e,
        })
    };
    let mut tried = vec![format!("thin SVD ({first})")];
    match svd_via_adjoint(a, |x| wrap(svd_faer(x))) {
        Ok(r) => return Ok(r),
        Err(e) => tried.push(format!("thin SVD of the adjoint ({e})")),
    }
    let core = |r: ArrayView2<'_, T>| {
        wrap(svd_faer(r)).or_else(|_| svd_via_adjoint(r, |x| wrap(svd_faer(x))))
    };
    match svd_via_qr(a, core) {
        Ok(r) => return Ok(r),
        Err(e) => tried.push(format!("QR then SVD of R ({e})")),
    }
    Err(Error::NoConvergence {
        routine: "svd (faer)".into(),
        detail: format!("{m} x {n} matrix; tried {}", tried.join(", ")),
    })
}

fn eigh_impl<T: ComplexField<Real = f64> + Copy>(
    a: ArrayView2<'_, T>,
) -> Result<(Array1<f64>, Array2<T>)> {
    let m = as_faer(&a);
    let evd = m
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| Error::NoConvergence {
            routine: "eigh (faer)".into(),
            detail: format!("{e:?} on a {} x {} matrix", a.nrows(), a.ncols()),
        })?;
    let w_diag = evd.S().column_vector();
    let w = Array1::from_shape_fn(w_diag.nrows(), |i| T::real_part_impl(&w_diag[i]));
    Ok((w, to_ndarray(evd.U())))
}

impl_kernels!(f64);
impl_kernels!(Complex64);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn check(a: &Array2<f64>, (u, s, vh): SvdParts<f64>) {
        let rec = u.dot(&Array2::from_diag(&s)).dot(&vh);
        assert!((&rec - a).iter().all(|x| x.abs() < 1e-12), "{rec} vs {a}");
        assert!(s.windows(2).into_iter().all(|w| w[0] >= w[1]));
    }

    /// The fallback routes give correct SVDs (they cannot be forced through faer).
    #[test]
    fn svd_fallback_routes() {
        let tall = array![
            [1.0, 2.0, 3.0],
            [4.0, 5.0, 6.5],
            [0.5, -1.0, 2.0],
            [1.0, 1.0, 1.0]
        ];
        let wide = tall.t().to_owned();
        for a in [&tall, &wide] {
            check(a, svd_fallbacks(a.view(), "forced".into()).unwrap());
            check(
                a,
                svd_via_adjoint(a.view(), |x| Ok(svd_faer(x).unwrap())).unwrap(),
            );
            check(
                a,
                svd_via_qr(a.view(), |x| Ok(svd_faer(x).unwrap())).unwrap(),
            );
        }
    }
}
