//! Linear algebra: the same file must pass on every backend (`cargo test` for faer,
//! `cargo test --features openblas`). Backends are compared with each other through
//! exact references built in closed form (Householder reflections, Givens
//! rotations, Toeplitz spectra), never through one another.

use ndarray::{s, Array1, Array2, ArrayView2, ShapeBuilder};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tnlearn::linalg::{
    backend_info, backend_name, eigh, gemm, matmul, openblas_kernel_warning, qr, range_truncated,
    svd, svd_truncated, Truncation, TruncationMode,
};
use tnlearn::{Complex64, Error, Scalar};

const TOL: f64 = 1e-12;

// ---------------------------------------------------------------- helpers

fn rand_mat<T: Scalar>(m: usize, n: usize, seed: u64) -> Array2<T> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((m, n), || T::random_normal(&mut rng))
}

/// A random `m x n` matrix of rank at most `r`.
fn low_rank<T: Scalar>(m: usize, n: usize, r: usize, seed: u64) -> Array2<T> {
    naive(
        &rand_mat::<T>(m, r, seed).view(),
        &rand_mat::<T>(r, n, seed + 1).view(),
    )
}

fn naive<T: Scalar>(a: &ArrayView2<'_, T>, b: &ArrayView2<'_, T>) -> Array2<T> {
    let (m, k) = a.dim();
    let n = b.ncols();
    let mut c = Array2::zeros((m, n));
    for i in 0..m {
        for j in 0..n {
            let mut acc = T::zero();
            for l in 0..k {
                acc += a[(i, l)] * b[(l, j)];
            }
            c[(i, j)] = acc;
        }
    }
    c
}

fn adj<T: Scalar>(a: &Array2<T>) -> Array2<T> {
    a.t().mapv(|x| x.conj())
}

fn fro<T: Scalar>(a: &Array2<T>) -> f64 {
    a.iter().map(|x| x.abs2()).sum::<f64>().sqrt()
}

fn max_abs<T: Scalar>(a: &Array2<T>) -> f64 {
    a.iter().map(|x| x.abs()).fold(0.0, f64::max)
}

/// `||a - b||_F / max(||a||_F, tiny)`.
fn rel_err<T: Scalar>(a: &Array2<T>, b: &Array2<T>) -> f64 {
    let d = a - b;
    fro(&d) / fro(a).max(f64::MIN_POSITIVE)
}

fn diag<T: Scalar>(s: &Array1<f64>) -> Array2<T> {
    Array2::from_diag(&s.mapv(T::from_f64))
}

/// `max |Q^H Q - I|` for the columns of `q`.
fn orthonormality_defect<T: Scalar>(q: &Array2<T>) -> f64 {
    let g = naive(&adj(q).view(), &q.view());
    max_abs(&(g - Array2::<T>::eye(q.ncols())))
}

fn assert_svd_ok<T: Scalar>(a: &Array2<T>) {
    let (m, n) = a.dim();
    let k = m.min(n);
    let (u, s, vh) = svd(a.view()).unwrap();
    assert_eq!(u.dim(), (m, k));
    assert_eq!(s.len(), k);
    assert_eq!(vh.dim(), (k, n));
    assert!(s.iter().all(|&x| x >= 0.0), "negative singular value: {s}");
    assert!(
        s.windows(2).into_iter().all(|w| w[0] >= w[1]),
        "not non-increasing: {s}"
    );
    if k == 0 {
        return;
    }
    let rec = naive(&naive(&u.view(), &diag::<T>(&s).view()).view(), &vh.view());
    let err = rel_err(a, &rec);
    assert!(err <= TOL, "svd reconstruction {m} x {n}: {err:e}");
    assert!(orthonormality_defect(&u) <= TOL, "U not orthonormal");
    assert!(orthonormality_defect(&adj(&vh)) <= TOL, "V not orthonormal");
}

fn assert_qr_ok<T: Scalar>(a: &Array2<T>) {
    let (m, n) = a.dim();
    let k = m.min(n);
    let (q, r) = qr(a.view()).unwrap();
    assert_eq!(q.dim(), (m, k));
    assert_eq!(r.dim(), (k, n));
    for i in 0..k {
        for j in 0..i.min(n) {
            assert_eq!(r[(i, j)], T::zero(), "R[{i}, {j}] below the diagonal");
        }
        assert!(
            r[(i, i)].im() == 0.0 && r[(i, i)].re() >= 0.0,
            "R diagonal gauge"
        );
    }
    if k == 0 {
        return;
    }
    let err = rel_err(a, &naive(&q.view(), &r.view()));
    assert!(err <= TOL, "qr reconstruction {m} x {n}: {err:e}");
    assert!(orthonormality_defect(&q) <= TOL, "Q not orthonormal");
}

/// The Householder reflection `I - 2 v v^H / (v^H v)` (unitary, Hermitian).
fn householder<T: Scalar>(v: &[T]) -> Array2<T> {
    let n = v.len();
    let vv: f64 = v.iter().map(|x| x.abs2()).sum();
    Array2::from_shape_fn((n, n), |(i, j)| {
        let id = if i == j { T::one() } else { T::zero() };
        id - (v[i] * v[j].conj()).scale(2.0 / vv)
    })
}

/// The Givens rotation by `theta` in the plane of coordinates `p < q`.
fn givens<T: Scalar>(n: usize, p: usize, q: usize, theta: f64) -> Array2<T> {
    let mut g = Array2::<T>::eye(n);
    let (c, s) = (theta.cos(), theta.sin());
    g[(p, p)] = T::from_f64(c);
    g[(q, q)] = T::from_f64(c);
    g[(p, q)] = T::from_f64(-s);
    g[(q, p)] = T::from_f64(s);
    g
}

/// A unitary `n x n` matrix from explicit reflections and rotations (and, for
/// complex types, a complex reflection vector).
fn explicit_unitary<T: Scalar>(n: usize, salt: f64) -> Array2<T> {
    let v1: Vec<T> = (0..n)
        .map(|i| {
            let x = 1.0 + (i as f64 + salt).sin();
            if T::IS_COMPLEX {
                T::from_f64(x) + complex_unit::<T>().scale(0.5 * (i as f64 * salt).cos())
            } else {
                T::from_f64(x)
            }
        })
        .collect();
    let v2: Vec<T> = (0..n)
        .map(|i| T::from_f64((i as f64 * 0.7 + salt).cos() - 0.3))
        .collect();
    let mut u = naive(&householder(&v1).view(), &householder(&v2).view());
    for p in 0..n.saturating_sub(1) {
        u = naive(
            &u.view(),
            &givens::<T>(n, p, p + 1, 0.3 + salt * p as f64).view(),
        );
    }
    u
}

/// `i` for complex types (zero for real ones).
fn complex_unit<T: Scalar>() -> T {
    let z = Complex64::new(0.0, 1.0);
    let any: &dyn std::any::Any = &z;
    any.downcast_ref::<T>().copied().unwrap_or(T::zero())
}

/// `A = Q1[:, :k] diag(s) Q2[:, :k]^H`, singular values `s` known exactly.
fn exact_svd_matrix<T: Scalar>(m: usize, n: usize, s: &[f64]) -> (Array2<T>, Array2<T>, Array2<T>) {
    let k = s.len();
    let q1 = explicit_unitary::<T>(m, 0.37).slice(s![.., ..k]).to_owned();
    let q2 = explicit_unitary::<T>(n, 1.91).slice(s![.., ..k]).to_owned();
    let a = naive(
        &naive(&q1.view(), &diag::<T>(&Array1::from(s.to_vec())).view()).view(),
        &adj(&q2).view(),
    );
    (a, q1, q2)
}

// ---------------------------------------------------------------- SVD

#[test]
fn svd_shapes_and_reconstruction() {
    for &(m, n) in &[
        (1, 1),
        (7, 7),
        (30, 12),
        (12, 30),
        (64, 64),
        (100, 3),
        (3, 100),
    ] {
        assert_svd_ok(&rand_mat::<f64>(m, n, (m * 1000 + n) as u64));
        assert_svd_ok(&rand_mat::<Complex64>(m, n, (m * 1000 + n + 7) as u64));
    }
}

#[test]
fn svd_rank_deficient() {
    for &(m, n, r) in &[(20, 15, 3), (15, 20, 1), (25, 25, 10)] {
        let a = low_rank::<f64>(m, n, r, 5);
        assert_svd_ok(&a);
        let (_, s, _) = svd(a.view()).unwrap();
        assert!(s[r] <= 1e-12 * s[0], "rank {r}: s = {s}");
        let a = low_rank::<Complex64>(m, n, r, 9);
        assert_svd_ok(&a);
        let (_, s, _) = svd(a.view()).unwrap();
        assert!(s[r] <= 1e-12 * s[0], "rank {r}: s = {s}");
    }
    assert_svd_ok(&Array2::<f64>::zeros((4, 3)));
}

#[test]
fn svd_of_strided_views() {
    let big = rand_mat::<f64>(20, 30, 3);
    let view = big.slice(s![..;2, 1..;3]);
    let owned = view.to_owned();
    let (u, s1, vh) = svd(view).unwrap();
    let rec = naive(
        &naive(&u.view(), &diag::<f64>(&s1).view()).view(),
        &vh.view(),
    );
    assert!(rel_err(&owned, &rec) <= TOL);
    let (_, s2, _) = svd(big.t()).unwrap();
    let (_, s3, _) = svd(big.view()).unwrap();
    assert!((&s2 - &s3).iter().all(|x| x.abs() <= TOL * s3[0]));
}

/// Singular values and vectors against a matrix whose SVD is known exactly.
fn svd_exact_reference<T: Scalar>() {
    let s_exact = [9.0, 7.5, 4.0, 2.25, 1.0, 0.5, 0.0];
    for &(m, n) in &[(10, 7), (7, 7), (7, 12)] {
        let (a, q1, q2) = exact_svd_matrix::<T>(m, n, &s_exact);
        let (u, s, vh) = svd(a.view()).unwrap();
        for (i, &x) in s_exact.iter().enumerate() {
            assert!(
                (s[i] - x).abs() <= TOL * s_exact[0],
                "{m} x {n}: s[{i}] = {} vs exact {x}",
                s[i]
            );
        }
        // Distinct non-zero values: vectors equal up to one phase per pair.
        for i in 0..6 {
            let ui = u.column(i);
            let vi = vh.row(i);
            let ov_u: T = (0..m).map(|r| q1[(r, i)].conj() * ui[r]).sum();
            let ov_v: T = (0..n).map(|r| q2[(r, i)] * vi[r]).sum();
            assert!((ov_u.abs() - 1.0).abs() <= 1e-12, "u_{i} overlap {ov_u}");
            // u_i phase times conj(v_i phase) must be 1: A v_i = s_i u_i.
            assert!(
                (ov_u * ov_v - T::one()).abs() <= 1e-12,
                "phases of pair {i}"
            );
        }
    }
}

#[test]
fn svd_matches_exact_reference_f64() {
    svd_exact_reference::<f64>();
}

#[test]
fn svd_matches_exact_reference_c64() {
    svd_exact_reference::<Complex64>();
}

#[test]
fn svd_empty_matrices() {
    for &(m, n) in &[(0, 5), (5, 0), (0, 0)] {
        let a = Array2::<f64>::zeros((m, n));
        let (u, s, vh) = svd(a.view()).unwrap();
        assert_eq!((u.dim(), s.len(), vh.dim()), ((m, 0), 0, (0, n)));
        let t = svd_truncated(a.view(), &Truncation::new()).unwrap();
        assert_eq!(t.rank(), 0);
        assert_eq!(t.truncation_error, 0.0);
    }
}

#[test]
fn svd_rejects_non_finite() {
    let mut a = rand_mat::<f64>(3, 4, 1);
    a[(1, 2)] = f64::NAN;
    match svd(a.view()) {
        Err(Error::NonFinite {
            context, position, ..
        }) => {
            assert_eq!(position, 6);
            assert!(context.contains("svd"));
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
    let msg = svd(a.view()).unwrap_err().to_string();
    assert!(
        msg.contains("svd") && msg.contains("NaN") && msg.contains('6'),
        "{msg}"
    );

    let mut c = rand_mat::<Complex64>(4, 3, 2);
    c[(3, 0)] = Complex64::new(0.0, f64::INFINITY);
    let err = svd(c.view()).unwrap_err();
    assert!(
        matches!(err, Error::NonFinite { position: 9, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("inf"), "{err}");
    assert!(matches!(
        svd_truncated(c.view(), &Truncation::new()),
        Err(Error::NonFinite { .. })
    ));
}

// ---------------------------------------------------------------- QR

#[test]
fn qr_shapes_and_reconstruction() {
    for &(m, n) in &[(1, 1), (9, 9), (40, 12), (12, 40), (100, 2), (2, 100)] {
        assert_qr_ok(&rand_mat::<f64>(m, n, (m * 31 + n) as u64));
        assert_qr_ok(&rand_mat::<Complex64>(m, n, (m * 37 + n) as u64));
    }
    assert_qr_ok(&low_rank::<f64>(20, 10, 3, 4));
    assert_qr_ok(&low_rank::<Complex64>(10, 20, 2, 4));
    assert_qr_ok(&Array2::<f64>::zeros((5, 3)));
    assert_qr_ok(&rand_mat::<f64>(30, 20, 8).t().to_owned());
    // Strided input.
    let big = rand_mat::<Complex64>(30, 30, 6);
    let v = big.slice(s![1..;3, ..;2]);
    let (q, r) = qr(v).unwrap();
    assert!(rel_err(&v.to_owned(), &naive(&q.view(), &r.view())) <= TOL);
}

/// `A = Q0 R0` with `Q0` explicit and `R0` upper triangular with positive diagonal:
/// the (gauge-fixed) QR must return exactly these factors.
fn qr_exact_reference<T: Scalar>() {
    for &(m, n) in &[(9, 5), (6, 6), (4, 7)] {
        let k = m.min(n);
        let q0 = explicit_unitary::<T>(m, 0.83).slice(s![.., ..k]).to_owned();
        let r0 = Array2::from_shape_fn((k, n), |(i, j)| {
            if i > j {
                T::zero()
            } else if i == j {
                T::from_f64(2.0 + i as f64)
            } else {
                T::from_f64(0.25 * ((i + 2 * j) as f64).sin())
            }
        });
        let a = naive(&q0.view(), &r0.view());
        let (q, r) = qr(a.view()).unwrap();
        assert!(max_abs(&(&q - &q0)) <= 1e-12, "{m} x {n}: Q differs");
        assert!(max_abs(&(&r - &r0)) <= 1e-12, "{m} x {n}: R differs");
    }
}

#[test]
fn qr_matches_exact_reference_f64() {
    qr_exact_reference::<f64>();
}

#[test]
fn qr_matches_exact_reference_c64() {
    qr_exact_reference::<Complex64>();
}

#[test]
fn qr_empty_and_non_finite() {
    for &(m, n) in &[(0, 4), (4, 0), (0, 0)] {
        let (q, r) = qr(Array2::<Complex64>::zeros((m, n)).view()).unwrap();
        assert_eq!((q.dim(), r.dim()), ((m, 0), (0, n)));
    }
    let mut a = rand_mat::<f64>(4, 4, 3);
    a[(0, 1)] = f64::NEG_INFINITY;
    let err = qr(a.view()).unwrap_err();
    assert!(
        matches!(err, Error::NonFinite { position: 1, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("qr") && msg.contains("-inf"), "{msg}");
}

// ---------------------------------------------------------------- eigh

#[test]
fn eigh_toeplitz_exact() {
    for n in [1usize, 2, 10, 50] {
        let a = Array2::from_shape_fn((n, n), |(i, j)| match i.abs_diff(j) {
            0 => 2.0,
            1 => -1.0,
            _ => 0.0,
        });
        let (w, v) = eigh(a.view()).unwrap();
        for k in 1..=n {
            let exact = 2.0 - 2.0 * (k as f64 * std::f64::consts::PI / (n as f64 + 1.0)).cos();
            assert!(
                (w[k - 1] - exact).abs() <= TOL,
                "n = {n}, k = {k}: {}",
                w[k - 1]
            );
        }
        let rec = naive(
            &naive(&v.view(), &diag::<f64>(&w).view()).view(),
            &adj(&v).view(),
        );
        assert!(rel_err(&a, &rec) <= TOL);
        assert!(orthonormality_defect(&v) <= TOL);
        // Eigenvectors as columns: A v_k = w_k v_k.
        let av = naive(&a.view(), &v.view());
        for k in 0..n {
            let d = &av.column(k) - &v.column(k).mapv(|x| x * w[k]);
            assert!(d.iter().all(|x| x.abs() <= 1e-12));
        }
    }
}

fn eigh_exact_reference<T: Scalar>() {
    let w_exact = [-3.5, -1.0, 0.0, 0.25, 2.0, 6.0];
    let n = w_exact.len();
    let u = explicit_unitary::<T>(n, 0.61);
    let a = naive(
        &naive(
            &u.view(),
            &diag::<T>(&Array1::from(w_exact.to_vec())).view(),
        )
        .view(),
        &adj(&u).view(),
    );
    let (w, v) = eigh(a.view()).unwrap();
    for i in 0..n {
        assert!((w[i] - w_exact[i]).abs() <= TOL * 6.0, "w[{i}] = {}", w[i]);
    }
    let rec = naive(
        &naive(&v.view(), &diag::<T>(&w).view()).view(),
        &adj(&v).view(),
    );
    assert!(rel_err(&a, &rec) <= TOL);
    assert!(orthonormality_defect(&v) <= TOL);
    // Only the lower triangle is read.
    let mut garbage = a.clone();
    for i in 0..n {
        for j in i + 1..n {
            garbage[(i, j)] = T::from_f64(1e3 * (i + j) as f64);
        }
    }
    let (w2, _) = eigh(garbage.view()).unwrap();
    assert!((&w2 - &w).iter().all(|x| x.abs() <= TOL * 6.0));
}

#[test]
fn eigh_matches_exact_reference() {
    eigh_exact_reference::<f64>();
    eigh_exact_reference::<Complex64>();
}

#[test]
fn eigh_random_hermitian() {
    let b = rand_mat::<Complex64>(40, 40, 11);
    let h = &b + &adj(&b);
    let (w, v) = eigh(h.view()).unwrap();
    assert!(w.windows(2).into_iter().all(|p| p[0] <= p[1]));
    let rec = naive(
        &naive(&v.view(), &diag::<Complex64>(&w).view()).view(),
        &adj(&v).view(),
    );
    assert!(rel_err(&h, &rec) <= TOL);
    assert!(orthonormality_defect(&v) <= TOL);
}

#[test]
fn eigh_errors_and_empty() {
    let err = eigh(Array2::<f64>::zeros((3, 4)).view()).unwrap_err();
    match &err {
        Error::ShapeMismatch {
            context,
            expected,
            found,
        } => {
            assert!(context.contains("eigh"));
            assert_eq!((expected.clone(), found.clone()), (vec![3, 3], vec![3, 4]));
        }
        other => panic!("expected ShapeMismatch, got {other:?}"),
    }
    assert!(err.to_string().contains("3 x 4"), "{err}");
    let mut a = Array2::<f64>::eye(3);
    a[(2, 2)] = f64::NAN;
    let err = eigh(a.view()).unwrap_err();
    assert!(matches!(err, Error::NonFinite { position: 8, .. }));
    assert!(err.to_string().contains("eigh"));
    let (w, v) = eigh(Array2::<Complex64>::zeros((0, 0)).view()).unwrap();
    assert_eq!((w.len(), v.dim()), (0, (0, 0)));
}

// ---------------------------------------------------------------- gemm

fn check_gemm<T: Scalar>(seed: u64) {
    let (m, k, n) = (13, 17, 11); // above the small-product loop
    let alpha = T::from_f64(-1.5);
    let a = rand_mat::<T>(m, k, seed);
    let b = rand_mat::<T>(k, n, seed + 1);
    let want = naive(&a.view(), &b.view()).mapv(|x| x * alpha);
    let close = |c: &Array2<T>, want: &Array2<T>| rel_err(want, c) <= TOL;

    // Plain row-major.
    let mut c = Array2::zeros((m, n));
    gemm(alpha, a.view(), b.view(), false, c.view_mut()).unwrap();
    assert!(close(&c, &want));

    // Transposed (column-major) operands, column-major output.
    let at = a.t().to_owned(); // k x m
    let bt = b.t().to_owned();
    let mut cf = Array2::zeros((m, n).f());
    gemm(alpha, at.t(), bt.t(), false, cf.view_mut()).unwrap();
    assert!(close(&cf, &want));

    // Strided operands (no unit stride) and a strided output slice.
    let a_big = {
        let mut x = Array2::zeros((2 * m, 3 * k));
        x.slice_mut(s![..;2, ..;3]).assign(&a);
        x
    };
    let b_rev = b.slice(s![..;-1, ..]).to_owned(); // reversed rows
    let mut c_big = Array2::from_elem((2 * m, 2 * n), T::from_f64(f64::NAN));
    gemm(
        alpha,
        a_big.slice(s![..;2, ..;3]),
        b_rev.slice(s![..;-1, ..]),
        false,
        c_big.slice_mut(s![..;2, ..;2]),
    )
    .unwrap();
    assert!(close(&c_big.slice(s![..;2, ..;2]).to_owned(), &want));
    assert!(
        c_big[(1, 1)].re().is_nan(),
        "untouched entries stay untouched"
    );

    // Accumulate into a non-zero output.
    let c0 = rand_mat::<T>(m, n, seed + 2);
    let mut c = c0.clone();
    gemm(alpha, a.view(), b.view(), true, c.view_mut()).unwrap();
    assert!(close(&c, &(&c0 + &want)));
    let mut cf = Array2::zeros((m, n).f());
    cf.assign(&c0);
    gemm(alpha, at.t(), b.view(), true, cf.view_mut()).unwrap();
    assert!(close(&cf, &(&c0 + &want)));

    // Overwrite ignores NaN already in c.
    let mut c = Array2::from_elem((m, n), T::from_f64(f64::NAN));
    gemm(alpha, a.view(), b.view(), false, c.view_mut()).unwrap();
    assert!(close(&c, &want));

    // Small products (plain loop) and vectors.
    for &(m, k, n) in &[(2, 3, 4), (1, 50, 1), (50, 1, 50), (1, 1, 1), (64, 64, 1)] {
        let a = rand_mat::<T>(m, k, seed + 3);
        let b = rand_mat::<T>(k, n, seed + 4);
        let c = matmul(a.view(), b.view()).unwrap();
        assert!(close(&c, &naive(&a.view(), &b.view())), "{m} x {k} x {n}");
        let c = matmul(b.t(), a.t()).unwrap();
        assert!(
            close(&c, &naive(&b.t(), &a.t())),
            "transposed {m} x {k} x {n}"
        );
    }

    // Degenerate dimensions.
    let mut c = Array2::from_elem((3, 2), T::one());
    gemm(
        alpha,
        Array2::zeros((3, 0)).view(),
        Array2::zeros((0, 2)).view(),
        false,
        c.view_mut(),
    )
    .unwrap();
    assert!(c.iter().all(|&x| x == T::zero()));
    let mut c = Array2::from_elem((3, 2), T::one());
    gemm(
        alpha,
        Array2::zeros((3, 0)).view(),
        Array2::zeros((0, 2)).view(),
        true,
        c.view_mut(),
    )
    .unwrap();
    assert!(c.iter().all(|&x| x == T::one()));
    assert_eq!(
        matmul(Array2::<T>::zeros((0, 4)).view(), b.slice(s![..4, ..]))
            .unwrap()
            .dim(),
        (0, n)
    );
}

#[test]
fn gemm_f64_against_naive() {
    check_gemm::<f64>(100);
}

#[test]
fn gemm_c64_against_naive() {
    check_gemm::<Complex64>(200);
}

#[test]
fn gemm_large_against_naive() {
    let a = rand_mat::<f64>(300, 200, 1);
    let b = rand_mat::<f64>(200, 250, 2);
    let c = matmul(a.view(), b.view()).unwrap();
    assert!(rel_err(&naive(&a.view(), &b.view()), &c) <= TOL);
    let c = matmul(b.t(), a.t()).unwrap();
    assert!(rel_err(&naive(&b.t(), &a.t()), &c) <= TOL);
}

#[test]
fn gemm_shape_errors() {
    let a = Array2::<f64>::zeros((3, 4));
    let b = Array2::<f64>::zeros((5, 2));
    let mut c = Array2::<f64>::zeros((3, 2));
    let err = gemm(1.0, a.view(), b.view(), false, c.view_mut()).unwrap_err();
    match &err {
        Error::ShapeMismatch {
            expected, found, ..
        } => {
            assert_eq!((expected.clone(), found.clone()), (vec![4, 2], vec![5, 2]));
        }
        other => panic!("expected ShapeMismatch, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("gemm") && msg.contains("inner"), "{msg}");

    let b = Array2::<f64>::zeros((4, 2));
    let mut c = Array2::<f64>::zeros((2, 3));
    let err = gemm(1.0, a.view(), b.view(), false, c.view_mut()).unwrap_err();
    assert!(matches!(&err, Error::ShapeMismatch { expected, found, .. }
        if *expected == vec![3, 2] && *found == vec![2, 3]));
    assert!(err.to_string().contains("output c"), "{err}");
    assert!(matches!(
        matmul(a.view(), a.view()),
        Err(Error::ShapeMismatch { .. })
    ));
}

// ---------------------------------------------------------------- truncation

#[test]
fn keep_count_modes() {
    let s = [4.0, 2.0, 1.0, 0.5];
    let t = Truncation::new();
    assert_eq!(t.keep_count(&s), 4);
    assert_eq!(t.keep_count(&[]), 0);
    // Relative: keep s_i > cutoff * s_0 (strict).
    assert_eq!(t.cutoff(0.25).keep_count(&s), 2);
    assert_eq!(t.cutoff(0.2).keep_count(&s), 3);
    assert_eq!(t.cutoff(2.0).keep_count(&s), 1);
    // Absolute: keep s_i > cutoff.
    let abs = t.mode(TruncationMode::Absolute);
    assert_eq!(abs.cutoff(1.0).keep_count(&s), 2);
    assert_eq!(abs.cutoff(0.4).keep_count(&s), 4);
    assert_eq!(abs.cutoff(10.0).keep_count(&s), 1);
    // Exact zeros are dropped with cutoff 0.
    assert_eq!(t.keep_count(&[3.0, 0.0, 0.0]), 1);
    assert_eq!(abs.keep_count(&[3.0, 1.0, 0.0]), 2);
}

#[test]
fn keep_count_discarded_weight_boundary() {
    // Squares 4, 1, 1, 1, 1: total 8, all exact in binary.
    let s = [2.0, 1.0, 1.0, 1.0, 1.0];
    let dw = Truncation::new().mode(TruncationMode::DiscardedWeight);
    assert_eq!(dw.cutoff(0.0).keep_count(&s), 5);
    assert_eq!(dw.cutoff(0.125).keep_count(&s), 4); // discards exactly 1/8
    assert_eq!(dw.cutoff(0.125 - 1e-15).keep_count(&s), 5);
    assert_eq!(dw.cutoff(0.25).keep_count(&s), 3); // exactly 2/8
    assert_eq!(dw.cutoff(0.375).keep_count(&s), 2);
    assert_eq!(dw.cutoff(0.5).keep_count(&s), 1); // exactly 4/8: all the ones
    assert_eq!(dw.cutoff(1.0).keep_count(&s), 1); // at least one is kept
    assert_eq!(dw.cutoff(0.0).keep_count(&[1.0, 0.0, 0.0]), 1);
}

#[test]
fn keep_count_clamps() {
    let s = [4.0, 2.0, 1.0, 0.5];
    let t = Truncation::new();
    // All zeros: at least one is kept in every mode.
    for mode in [
        TruncationMode::Relative,
        TruncationMode::Absolute,
        TruncationMode::DiscardedWeight,
    ] {
        assert_eq!(t.mode(mode).keep_count(&[0.0, 0.0, 0.0]), 1, "{mode:?}");
        assert_eq!(
            t.mode(mode).min_bond(0).keep_count(&[0.0; 3]),
            1,
            "{mode:?}"
        );
        assert_eq!(
            t.mode(mode).min_bond(2).keep_count(&[0.0; 3]),
            2,
            "{mode:?}"
        );
    }
    // min_bond above what the cutoff allows.
    assert_eq!(t.cutoff(0.9).keep_count(&s), 1);
    assert_eq!(t.cutoff(0.9).min_bond(3).keep_count(&s), 3);
    assert_eq!(t.cutoff(0.9).min_bond(10).keep_count(&s), 4); // never more than len
                                                              // max_bond clamp.
    assert_eq!(t.max_bond(2).keep_count(&s), 2);
    assert_eq!(t.max_bond(2).min_bond(2).keep_count(&s), 2);
    assert_eq!(t.max_bond(100).keep_count(&s), 4);
    assert_eq!(t.max_bond(1).keep_count(&s), 1);
}

#[test]
fn truncation_validate_errors() {
    assert!(Truncation::new().validate().is_ok());
    let cases: [(Truncation, &str); 6] = [
        (Truncation::new().max_bond(0), "max_bond"),
        (Truncation::new().max_bond(3).min_bond(4), "min_bond"),
        (Truncation::new().cutoff(-1e-3), "cutoff"),
        (Truncation::new().cutoff(f64::NAN), "cutoff"),
        (Truncation::new().cutoff(f64::INFINITY), "cutoff"),
        (
            Truncation::new()
                .mode(TruncationMode::DiscardedWeight)
                .cutoff(1.5),
            "cutoff",
        ),
    ];
    let a = rand_mat::<f64>(4, 4, 1);
    for (t, culprit) in cases {
        let err = t.validate().unwrap_err();
        match &err {
            Error::InvalidArgument { name, .. } => assert_eq!(name, culprit),
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
        assert!(err.to_string().contains(culprit), "{err}");
        assert!(matches!(
            svd_truncated(a.view(), &t),
            Err(Error::InvalidArgument { .. })
        ));
    }
    let msg = Truncation::new()
        .max_bond(3)
        .min_bond(4)
        .validate()
        .unwrap_err()
        .to_string();
    assert!(msg.contains('3') && msg.contains('4'), "{msg}");
}

fn check_truncated<T: Scalar>(a: &Array2<T>, t: &Truncation) {
    let (_, s_full, _) = svd(a.view()).unwrap();
    let tr = svd_truncated(a.view(), t).unwrap();
    let keep = t.keep_count(s_full.as_slice().unwrap());
    assert_eq!(tr.rank(), keep);
    assert_eq!(tr.u.dim(), (a.nrows(), keep));
    assert_eq!(tr.vh.dim(), (keep, a.ncols()));
    let total: f64 = s_full.iter().map(|x| x * x).sum();
    let discarded: f64 = s_full.iter().skip(keep).map(|x| x * x).sum();
    assert!((tr.truncation_error - discarded / total).abs() <= TOL);
    assert!((tr.discarded_norm_sqr - discarded).abs() <= TOL * total);
    // The discarded weight is the relative squared Frobenius error.
    let approx = naive(
        &naive(&tr.u.view(), &diag::<T>(&tr.s).view()).view(),
        &tr.vh.view(),
    );
    let d = a - &approx;
    let err2 = fro(&d).powi(2) / fro(a).powi(2);
    assert!(
        (err2 - tr.truncation_error).abs() <= TOL,
        "{err2:e} vs {:e}",
        tr.truncation_error
    );
}

#[test]
fn svd_truncated_error_is_discarded_weight() {
    let a = rand_mat::<f64>(20, 15, 3);
    let c = rand_mat::<Complex64>(12, 18, 4);
    for t in [
        Truncation::new(),
        Truncation::new().max_bond(5),
        Truncation::new().cutoff(0.3),
        Truncation::new()
            .mode(TruncationMode::DiscardedWeight)
            .cutoff(0.1),
        Truncation::new()
            .mode(TruncationMode::Absolute)
            .cutoff(2.0)
            .min_bond(3),
    ] {
        check_truncated(&a, &t);
        check_truncated(&c, &t);
    }
}

#[test]
fn svd_truncated_exact_reference() {
    // Singular values 9, 7.5, 4, 2.25, 1, 0.5, 0 exactly: keep 3.
    let s_exact = [9.0, 7.5, 4.0, 2.25, 1.0, 0.5, 0.0];
    let total: f64 = s_exact.iter().map(|x| x * x).sum();
    let discarded: f64 = s_exact[3..].iter().map(|x| x * x).sum();
    for (m, n) in [(10, 8), (8, 11)] {
        let (a, _, _) = exact_svd_matrix::<Complex64>(m, n, &s_exact);
        let tr = svd_truncated(a.view(), &Truncation::new().max_bond(3)).unwrap();
        assert_eq!(tr.rank(), 3);
        assert!((tr.truncation_error - discarded / total).abs() <= TOL);
        assert!((tr.discarded_norm_sqr - discarded).abs() <= TOL * total);
        let tr = svd_truncated(a.view(), &Truncation::new().cutoff(1e-10)).unwrap();
        assert_eq!(tr.rank(), 6, "the exact zero is cut");
        assert!(tr.truncation_error <= TOL);
    }
    let z = Array2::<f64>::zeros((3, 5));
    let tr = svd_truncated(z.view(), &Truncation::new()).unwrap();
    assert_eq!((tr.rank(), tr.truncation_error), (1, 0.0));
}

// ---------------------------------------------------------------- backend

#[test]
fn kernel_warning_decision() {
    let w = openblas_kernel_warning("Prescott", true, true).expect("should warn");
    assert!(w.contains("\"Prescott\""), "{w}");
    assert!(w.contains("OPENBLAS_CORETYPE=SkylakeX"), "{w}");
    assert!(w.contains("OPENBLAS_CORETYPE=Haswell"), "{w}");
    for weak in [
        "Core2",
        "Nehalem",
        "Sandybridge",
        "Unknown",
        "Haswell",
        "Zen",
    ] {
        assert!(
            openblas_kernel_warning(weak, true, true).is_some(),
            "{weak}"
        );
    }
    for strong in ["SkylakeX", "skylakex", "Cooperlake", "SapphireRapids"] {
        assert!(
            openblas_kernel_warning(strong, true, true).is_none(),
            "{strong}"
        );
    }
    // AVX2-only CPU: Haswell-class kernels are enough, and SkylakeX is not advised.
    assert!(openblas_kernel_warning("Haswell", true, false).is_none());
    assert!(openblas_kernel_warning("Zen", true, false).is_none());
    let w = openblas_kernel_warning("Sandybridge", true, false).expect("should warn");
    assert!(
        w.contains("OPENBLAS_CORETYPE=Haswell") && !w.contains("SkylakeX"),
        "{w}"
    );
    // A CPU without AVX2: nothing to say.
    assert!(openblas_kernel_warning("Prescott", false, false).is_none());
}

#[test]
fn backend_description() {
    let info = backend_info();
    assert!(info.starts_with(backend_name()), "{info}");
    if backend_name() == "openblas" {
        assert!(info.contains("core:"), "{info}");
    }
}

// ---------------------------------------------------------------- properties

fn dims() -> impl Strategy<Value = (usize, usize, usize, u64)> {
    (1usize..40, 1usize..40, 1usize..40, any::<u64>())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn prop_svd_f64((m, n, r, seed) in dims()) {
        assert_svd_ok(&rand_mat::<f64>(m, n, seed));
        assert_svd_ok(&low_rank::<f64>(m, n, r.min(m).min(n), seed));
    }

    #[test]
    fn prop_svd_c64((m, n, r, seed) in dims()) {
        assert_svd_ok(&rand_mat::<Complex64>(m, n, seed));
        assert_svd_ok(&low_rank::<Complex64>(m, n, r.min(m).min(n), seed));
    }

    #[test]
    fn prop_qr((m, n, r, seed) in dims()) {
        assert_qr_ok(&rand_mat::<f64>(m, n, seed));
        assert_qr_ok(&rand_mat::<Complex64>(m, n, seed));
        assert_qr_ok(&low_rank::<f64>(m, n, r.min(m).min(n), seed));
    }

    #[test]
    fn prop_gemm((m, k, n, seed) in dims(), acc in any::<bool>(), ta in any::<bool>()) {
        let a = if ta { rand_mat::<f64>(k, m, seed).t().to_owned() } else { rand_mat::<f64>(m, k, seed) };
        let b = rand_mat::<f64>(k, n, seed ^ 1);
        let c0 = rand_mat::<f64>(m, n, seed ^ 2);
        let mut c = c0.clone();
        let a_view = if ta { a.t().to_owned() } else { a.clone() };
        let a_arg = if ta { a_view.t() } else { a_view.view() };
        gemm(0.5, a_arg, b.view(), acc, c.view_mut()).unwrap();
        let mut want = naive(&a.view(), &b.view()).mapv(|x| 0.5 * x);
        if acc { want += &c0; }
        prop_assert!(rel_err(&want, &c) <= TOL);
    }

    #[test]
    fn prop_eigh(n in 1usize..30, seed in any::<u64>()) {
        let b = rand_mat::<Complex64>(n, n, seed);
        let h = &b + &adj(&b);
        let (w, v) = eigh(h.view()).unwrap();
        prop_assert!(w.windows(2).into_iter().all(|p| p[0] <= p[1]));
        let rec = naive(&naive(&v.view(), &diag::<Complex64>(&w).view()).view(), &adj(&v).view());
        prop_assert!(rel_err(&h, &rec) <= TOL);
        prop_assert!(orthonormality_defect(&v) <= TOL);
    }
}

fn range_matches_truncated_svd<T: Scalar>() {
    // Exact singular values 10, 9, ..., 1 (well separated) in explicit unitaries.
    let s: Vec<f64> = (1..=10).rev().map(f64::from).collect();
    let (a, _, _) = exact_svd_matrix::<T>(14, 12, &s);
    for max_bond in [3, 7, 10] {
        let trunc = Truncation::new().max_bond(max_bond);
        let r = range_truncated(a.view(), &trunc).unwrap();
        let t = svd_truncated(a.view(), &trunc).unwrap();
        assert_eq!(r.rank(), max_bond);
        for (x, y) in r.s.iter().zip(&s) {
            assert!((x - y).abs() < 1e-10, "singular value {x} vs {y}");
        }
        assert!(orthonormality_defect(&r.basis) < 1e-12);
        // Q Q^H a equals the truncated SVD's U S V^H.
        let approx = r.basis.dot(&r.coeffs);
        let svd_approx = t.u.dot(&diag::<T>(&t.s)).dot(&t.vh);
        assert!(rel_err(&approx, &svd_approx) < 1e-10);
        let exact: f64 =
            s[max_bond..].iter().map(|v| v * v).sum::<f64>() / s.iter().map(|v| v * v).sum::<f64>();
        assert!((r.truncation_error - exact).abs() < 1e-12);
        assert!((t.truncation_error - exact).abs() < 1e-12);
    }
    // Rank 4 of 12: a relative cutoff of 1e-6 keeps exactly the rank (numerical
    // zeros are estimated below 1e-7 s_0); without a cutoff at most min(m, n) = 9.
    let b = low_rank::<T>(12, 9, 4, 3);
    let r = range_truncated(b.view(), &Truncation::new()).unwrap();
    assert!((4..=9).contains(&r.rank()), "rank {}", r.rank());
    let trunc = Truncation::new().cutoff(1e-6);
    let r = range_truncated(b.view(), &trunc).unwrap();
    assert_eq!(r.rank(), 4);
    assert!(rel_err(&r.basis.dot(&r.coeffs), &b) < 1e-10);
    // Bad input is an error, not a panic.
    let mut bad = b.clone();
    bad[[2, 3]] = T::from_f64(f64::NAN);
    assert!(range_truncated(bad.view(), &trunc).is_err());
    assert!(range_truncated(b.view(), &Truncation::new().max_bond(0)).is_err());
    let empty = Array2::<T>::zeros((0, 3));
    assert_eq!(range_truncated(empty.view(), &trunc).unwrap().rank(), 0);
}

#[test]
fn range_truncated_matches_svd_truncated() {
    range_matches_truncated_svd::<f64>();
    range_matches_truncated_svd::<Complex64>();
}
