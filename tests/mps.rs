//! Tests of `Mps` against independent dense references (explicit loops over
//! configurations, never the library's own contraction routines).

use ndarray::{Array3, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tnlearn::linalg::svd;
use tnlearn::{Complex64, Error, LogValue, Mps, Scalar, Tensor, Truncation, TruncationMode};

/// The Frobenius norm of a site tensor (the sites of an `Mps` are `Array3`s),
/// by explicit summation.
trait Norm {
    fn norm(&self) -> f64;
}

impl<T: Scalar> Norm for Array3<T> {
    fn norm(&self) -> f64 {
        self.iter().map(|x| x.abs2()).sum::<f64>().sqrt()
    }
}

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

// ------------------------------------------------------------- dense references

/// The configuration with row-major flat index `flat`.
fn decode(mut flat: usize, dims: &[usize]) -> Vec<usize> {
    let mut x = vec![0; dims.len()];
    for k in (0..dims.len()).rev() {
        x[k] = flat % dims[k];
        flat /= dims[k];
    }
    x
}

/// psi(x) by explicit loops: row vector times A_k[:, x_k, :], times exp(log_scale).
fn amp_ref<T: Scalar>(m: &Mps<T>, x: &[usize]) -> T {
    let mut v = vec![T::one()];
    for (k, t) in m.tensors().iter().enumerate() {
        let (dl, d, dr) = (t.shape()[0], t.shape()[1], t.shape()[2]);
        assert_eq!(v.len(), dl);
        let a = t.as_slice().unwrap();
        let mut w = vec![T::zero(); dr];
        for (i, &vi) in v.iter().enumerate() {
            for (b, wb) in w.iter_mut().enumerate() {
                *wb += vi * a[(i * d + x[k]) * dr + b];
            }
        }
        v = w;
    }
    v[0].scale(m.log_scale().exp())
}

/// The full state vector (row-major), by explicit loops over configurations.
fn dense_ref<T: Scalar>(m: &Mps<T>) -> Vec<T> {
    let dims = m.phys_dims();
    let total: usize = dims.iter().product();
    (0..total).map(|f| amp_ref(m, &decode(f, &dims))).collect()
}

fn norm_sqr<T: Scalar>(v: &[T]) -> f64 {
    v.iter().map(|x| x.abs2()).sum()
}

fn dist_sqr<T: Scalar>(a: &[T], b: &[T]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(&x, &y)| (x - y).abs2()).sum()
}

fn rel_diff<T: Scalar>(a: &[T], b: &[T]) -> f64 {
    (dist_sqr(a, b) / norm_sqr(b)).sqrt()
}

/// max |sum_{a,s} conj(A[a,s,b]) A[a,s,b'] - delta_{bb'}|.
fn left_iso_err<T: Scalar>(t: &Array3<T>) -> f64 {
    let (dl, d, dr) = (t.shape()[0], t.shape()[1], t.shape()[2]);
    let a = t.as_slice().unwrap();
    let mut worst = 0.0_f64;
    for b in 0..dr {
        for b2 in 0..dr {
            let mut acc = T::zero();
            for i in 0..dl * d {
                acc += a[i * dr + b].conj() * a[i * dr + b2];
            }
            let target = if b == b2 { T::one() } else { T::zero() };
            worst = worst.max((acc - target).abs());
        }
    }
    worst
}

/// max |sum_{s,b} A[a,s,b] conj(A[a',s,b]) - delta_{aa'}|.
fn right_iso_err<T: Scalar>(t: &Array3<T>) -> f64 {
    let (dl, d, dr) = (t.shape()[0], t.shape()[1], t.shape()[2]);
    let a = t.as_slice().unwrap();
    let w = d * dr;
    let mut worst = 0.0_f64;
    for i in 0..dl {
        for i2 in 0..dl {
            let mut acc = T::zero();
            for j in 0..w {
                acc += a[i * w + j] * a[i2 * w + j].conj();
            }
            let target = if i == i2 { T::one() } else { T::zero() };
            worst = worst.max((acc - target).abs());
        }
    }
    worst
}

fn entropy_from_s(s: &[f64]) -> f64 {
    let total: f64 = s.iter().map(|x| x * x).sum();
    -s.iter()
        .map(|x| x * x / total)
        .filter(|&p| p > 0.0)
        .map(|p| p * p.ln())
        .sum::<f64>()
}

/// Entanglement entropies of a dense state, by SVD of its matricisation at each cut.
fn dense_entropies<T: Scalar>(psi: &[T], dims: &[usize]) -> Vec<f64> {
    (0..dims.len() - 1)
        .map(|k| {
            let rows: usize = dims[..=k].iter().product();
            let cols = psi.len() / rows;
            let m = ArrayView2::from_shape((rows, cols), psi).unwrap();
            let (_, s, _) = svd(m).unwrap();
            entropy_from_s(s.as_slice().unwrap())
        })
        .collect()
}

const DIMS_A: [usize; 7] = [2, 3, 2, 2, 3, 2, 2];
const DIMS_B: [usize; 8] = [3, 2, 2, 3, 2, 2, 2, 3];

// -------------------------------------------------------------- canonical forms

fn check_canonicalize_every_site<T: Scalar>(dims: &[usize], bond: usize, seed: u64) {
    let base = Mps::<T>::random(dims, bond, &mut rng(seed)).unwrap();
    assert_eq!(base.center(), None);
    let psi = dense_ref(&base);
    let n = dims.len();
    for k in 0..n {
        let mut m = base.clone();
        m.canonicalize(k).unwrap();
        assert_eq!(m.center(), Some(k));
        for j in 0..k {
            let e = left_iso_err(m.tensor(j).unwrap());
            assert!(e < 1e-12, "site {j} not a left isometry (centre {k}): {e}");
        }
        for j in k + 1..n {
            let e = right_iso_err(m.tensor(j).unwrap());
            assert!(e < 1e-12, "site {j} not a right isometry (centre {k}): {e}");
        }
        assert!((m.tensor(k).unwrap().norm() - 1.0).abs() < 1e-12);
        let after = dense_ref(&m);
        let r = rel_diff(&after, &psi);
        assert!(r < 1e-12, "state changed by canonicalize({k}): {r}");
        // The library's own dense conversion agrees with the loop reference.
        let lib = m.to_dense().unwrap();
        assert_eq!(lib.shape(), dims);
        assert!(rel_diff(lib.as_slice(), &psi) < 1e-12);
        // Norm from the centre equals the dense norm.
        let ln_dense = 0.5 * norm_sqr(&psi).ln();
        assert!((m.log_norm() - ln_dense).abs() < 1e-12 * ln_dense.abs().max(1.0));
        assert!((m.log_scale() - ln_dense).abs() < 1e-12 * ln_dense.abs().max(1.0));

        // Moving a known centre everywhere else keeps all invariants.
        for j in [0, n / 2, n - 1, k] {
            m.move_center(j).unwrap();
            assert_eq!(m.center(), Some(j));
            for i in 0..j {
                assert!(left_iso_err(m.tensor(i).unwrap()) < 1e-12);
            }
            for i in j + 1..n {
                assert!(right_iso_err(m.tensor(i).unwrap()) < 1e-12);
            }
            assert!(rel_diff(&dense_ref(&m), &psi) < 1e-12);
        }
    }
    // Left/right canonical shortcuts.
    let mut m = base.clone();
    m.left_canonicalize().unwrap();
    assert_eq!(m.center(), Some(n - 1));
    m.right_canonicalize().unwrap();
    assert_eq!(m.center(), Some(0));
    assert!(rel_diff(&dense_ref(&m), &psi) < 1e-12);
}

#[test]
fn canonicalize_every_site_f64() {
    check_canonicalize_every_site::<f64>(&DIMS_A, 5, 1);
    check_canonicalize_every_site::<f64>(&DIMS_B, 4, 2);
}

#[test]
fn canonicalize_every_site_c64() {
    check_canonicalize_every_site::<Complex64>(&DIMS_A, 5, 3);
    check_canonicalize_every_site::<Complex64>(&DIMS_B, 4, 4);
}

#[test]
fn canonical_bonds_shrink_to_exact_rank() {
    // Oversized bonds given by hand shrink to the exact maximal rank.
    let mut r = rng(5);
    let t = vec![
        Tensor::<f64>::random(&[1, 2, 6], &mut r),
        Tensor::<f64>::random(&[6, 2, 6], &mut r),
        Tensor::<f64>::random(&[6, 2, 1], &mut r),
    ];
    let mut m = Mps::from_tensors(t).unwrap();
    let psi = dense_ref(&m);
    m.canonicalize(1).unwrap();
    assert_eq!(m.bond_dims(), vec![2, 2]);
    assert!(rel_diff(&dense_ref(&m), &psi) < 1e-12);
}

// --------------------------------------------------------- log-space quantities

fn check_log_quantities<T: Scalar>(dims: &[usize], seed: u64) {
    let mut r = rng(seed);
    let a = Mps::<T>::random(dims, 4, &mut r).unwrap();
    let mut b = Mps::<T>::random(dims, 3, &mut r).unwrap();
    b.canonicalize(2).unwrap(); // overlap of canonical with non-canonical states
    let pa = dense_ref(&a);
    let pb = dense_ref(&b);

    // log_norm, non-canonical (transfer-matrix route) and canonical.
    let ln_a = 0.5 * norm_sqr(&pa).ln();
    assert!((a.log_norm() - ln_a).abs() < 1e-12 * ln_a.abs().max(1.0));
    let ln_b = 0.5 * norm_sqr(&pb).ln();
    assert!((b.log_norm() - ln_b).abs() < 1e-12 * ln_b.abs().max(1.0));

    // <a|b> = sum conj(a) b.
    let ov: T = pa.iter().zip(&pb).map(|(&x, &y)| x.conj() * y).sum();
    let lv = a.log_overlap(&b).unwrap();
    assert!((lv.phase.abs() - 1.0).abs() < 1e-12);
    assert!((lv.to_value() - ov).abs() < 1e-10 * ov.abs());
    assert!((lv.log_abs - ov.abs().ln()).abs() < 1e-10);
    // <b|a> = conj(<a|b>).
    let lv2 = b.log_overlap(&a).unwrap();
    assert!((lv2.to_value() - ov.conj()).abs() < 1e-10 * ov.abs());
    // <a|a> = ||a||^2, phase 1.
    let aa = a.log_overlap(&a).unwrap();
    assert!((aa.log_abs - 2.0 * ln_a).abs() < 1e-12 * ln_a.abs().max(1.0));
    assert!((aa.phase - T::one()).abs() < 1e-12);

    // Every amplitude.
    for (f, &want) in pa.iter().enumerate() {
        let x = decode(f, dims);
        let got = a.log_amplitude(&x).unwrap();
        assert!((got.phase.abs() - 1.0).abs() < 1e-12);
        assert!(
            (got.to_value() - want).abs() < 1e-10 * want.abs().max(1e-300),
            "amplitude {x:?}: {} vs {}",
            got.to_value(),
            want
        );
    }
}

#[test]
fn log_quantities_match_dense_f64() {
    check_log_quantities::<f64>(&DIMS_A, 10);
    check_log_quantities::<f64>(&[2, 2, 3, 2, 2, 2], 11);
}

#[test]
fn log_quantities_match_dense_c64() {
    check_log_quantities::<Complex64>(&DIMS_A, 12);
    check_log_quantities::<Complex64>(&[2, 2, 3, 2, 2, 2], 13);
}

#[test]
fn product_state_amplitudes_and_exact_zeros() {
    let dims = [2, 3, 2, 4];
    let cfg = [1, 2, 0, 3];
    let m = Mps::<Complex64>::product_state(&dims, &cfg).unwrap();
    assert_eq!(m.center(), Some(0));
    assert_eq!(m.bond_dims(), vec![1, 1, 1]);
    assert!(m.log_norm().abs() < 1e-15);
    let hit = m.log_amplitude(&cfg).unwrap();
    assert_eq!(hit.log_abs, 0.0);
    assert_eq!(hit.to_value(), Complex64::new(1.0, 0.0));
    let miss = m.log_amplitude(&[1, 2, 1, 3]).unwrap();
    assert!(miss.is_zero());
    assert_eq!(miss.log_abs, f64::NEG_INFINITY);
    assert_eq!(miss.phase, Complex64::new(0.0, 0.0));
    assert_eq!(miss.to_value(), Complex64::new(0.0, 0.0));
    // Orthogonal product states: overlap is an exact zero, no NaN.
    let other = Mps::<Complex64>::product_state(&dims, &[0, 2, 0, 3]).unwrap();
    let ov = m.log_overlap(&other).unwrap();
    assert!(ov.is_zero() && !ov.phase.re.is_nan());
}

#[test]
fn zero_state_has_no_nan() {
    let mut r = rng(20);
    let mut t = vec![
        Tensor::<f64>::random(&[1, 2, 2], &mut r),
        Tensor::<f64>::zeros(&[2, 2, 2]),
        Tensor::<f64>::random(&[2, 2, 1], &mut r),
    ];
    t[0].scale_in_place(3.0);
    let mut m = Mps::from_tensors(t).unwrap();
    assert_eq!(m.log_norm(), f64::NEG_INFINITY);
    m.canonicalize(1).unwrap();
    assert_eq!(m.log_norm(), f64::NEG_INFINITY);
    assert!(m.to_dense().unwrap().as_slice().iter().all(|&x| x == 0.0));
    assert!(m.log_amplitude(&[0, 1, 0]).unwrap().is_zero());
    let err = m.compress(&Truncation::new().max_bond(1)).unwrap();
    assert_eq!(err, 0.0);
    assert!(m.normalize().is_err());
}

#[test]
fn log_value_roundtrip() {
    let v = LogValue::from_value(-2.5_f64);
    assert!((v.log_abs - 2.5_f64.ln()).abs() < 1e-15);
    assert_eq!(v.phase, -1.0);
    assert_eq!(v.to_value(), -2.5);
    let z = LogValue::from_value(Complex64::new(0.0, 0.0));
    assert!(z.is_zero());
    let c = LogValue::from_value(Complex64::new(3.0, -4.0));
    assert!((c.log_abs - 5.0_f64.ln()).abs() < 1e-15);
    assert!((c.to_value() - Complex64::new(3.0, -4.0)).norm() < 1e-14);
}

#[test]
fn normalize_gives_unit_norm() {
    let mut m = Mps::<Complex64>::random(&DIMS_B, 4, &mut rng(21)).unwrap();
    let before = m.log_norm();
    let ln = m.normalize().unwrap();
    assert!((ln - before).abs() < 1e-12 * before.abs().max(1.0));
    assert!(m.log_norm().abs() < 1e-12);
    assert!((norm_sqr(&dense_ref(&m)) - 1.0).abs() < 1e-12);
}

// ------------------------------------------------------------------ compression

fn check_compress_identity<T: Scalar>(dims: &[usize], seed: u64, presweep: Option<usize>) {
    let truncs = [
        Truncation::new().max_bond(2),
        Truncation::new().max_bond(3),
        Truncation::new().max_bond(1),
        Truncation::new()
            .cutoff(0.05)
            .mode(TruncationMode::DiscardedWeight),
        Truncation::new().cutoff(0.3).mode(TruncationMode::Relative),
        Truncation::new().cutoff(0.3).max_bond(3).min_bond(2),
    ];
    for (i, tr) in truncs.iter().enumerate() {
        let mut m = Mps::<T>::random(dims, 5, &mut rng(seed + i as u64)).unwrap();
        if let Some(c) = presweep {
            m.canonicalize(c).unwrap();
        }
        let psi = dense_ref(&m);
        let err = m.compress(tr).unwrap();
        let psi_c = dense_ref(&m);
        let measured = dist_sqr(&psi, &psi_c) / norm_sqr(&psi);
        assert!(
            (measured - err).abs() < 1e-10,
            "truncation {tr:?}: returned {err}, measured {measured}"
        );
        assert!(err > 0.0, "{tr:?} should truncate something");
        // Not renormalised: ||psi_c||^2 = (1 - err) ||psi||^2.
        assert!((norm_sqr(&psi_c) / norm_sqr(&psi) - (1.0 - err)).abs() < 1e-10);
        // Canonical at an end, bonds within the limits.
        let c = m.center().unwrap();
        assert!(c == 0 || c == dims.len() - 1);
        for &b in &m.bond_dims() {
            assert!(b <= tr.max_bond && b >= 1);
        }
        for j in 0..dims.len() {
            if j < c {
                assert!(left_iso_err(m.tensor(j).unwrap()) < 1e-12);
            } else if j > c {
                assert!(right_iso_err(m.tensor(j).unwrap()) < 1e-12);
            }
        }
        if tr.mode == TruncationMode::DiscardedWeight {
            assert!(err <= (dims.len() - 1) as f64 * tr.cutoff + 1e-12);
        }
        if tr.min_bond == 2 {
            assert!(m.bond_dims().iter().all(|&b| b >= 2));
        }
    }
}

#[test]
fn compress_error_is_distance_f64() {
    check_compress_identity::<f64>(&DIMS_A, 30, None);
    check_compress_identity::<f64>(&DIMS_B, 40, Some(1)); // sweeps left to right
}

#[test]
fn compress_error_is_distance_c64() {
    check_compress_identity::<Complex64>(&DIMS_A, 50, Some(6));
    check_compress_identity::<Complex64>(&DIMS_B, 60, Some(0));
}

#[test]
fn compress_without_loss_keeps_state() {
    for seed in 0..3 {
        let mut m = Mps::<Complex64>::random(&DIMS_A, 4, &mut rng(70 + seed)).unwrap();
        let bonds = m.bond_dims();
        let psi = dense_ref(&m);
        let err = m.compress(&Truncation::new().max_bond(64)).unwrap();
        assert!(err < 1e-24, "lossless compression reported {err}");
        assert_eq!(m.bond_dims(), bonds);
        assert!(rel_diff(&dense_ref(&m), &psi) < 1e-12);
    }
    // A product state stored with padded bonds compresses to bond 1 exactly.
    let mut t = Vec::new();
    for k in 0..4 {
        let dl = if k == 0 { 1 } else { 3 };
        let dr = if k == 3 { 1 } else { 3 };
        let mut a = Tensor::<f64>::zeros(&[dl, 2, dr]);
        a.set(&[0, 1, 0], 1.0).unwrap();
        a.set(&[0, 0, 0], 0.5).unwrap();
        t.push(a);
    }
    let mut m = Mps::from_tensors(t).unwrap();
    let psi = dense_ref(&m);
    let err = m.compress(&Truncation::new().cutoff(1e-12)).unwrap();
    assert!(err < 1e-24);
    assert_eq!(m.bond_dims(), vec![1, 1, 1]);
    assert!(rel_diff(&dense_ref(&m), &psi) < 1e-12);
}

/// Two sites of dimension 4 with Schmidt values (1, 0.5, 0.1, 0.01) in rotated bases.
fn schmidt_pair() -> Mps<f64> {
    let s = [1.0, 0.5, 0.1, 0.01];
    let (c, sn) = (0.6_f64, 0.8_f64);
    // A0[0, x, i] = U[x, i] (a rotation in the (0, 1) plane), A1[i, y, 0] = s_i V[i, y].
    let mut u = Tensor::<f64>::zeros(&[1, 4, 4]);
    let rot = [
        [c, -sn, 0.0, 0.0],
        [sn, c, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ];
    for (x, row) in rot.iter().enumerate() {
        for (i, &r) in row.iter().enumerate() {
            u.set(&[0, x, i], r).unwrap();
        }
    }
    let mut v = Tensor::<f64>::zeros(&[4, 4, 1]);
    for (i, &si) in s.iter().enumerate() {
        v.set(&[i, 3 - i, 0], si).unwrap();
    }
    Mps::from_tensors(vec![u, v]).unwrap()
}

#[test]
fn compress_cutoff_modes() {
    let total: f64 = [1.0_f64, 0.25, 0.01, 0.0001].iter().sum();
    let cases = [
        // (truncation, kept, discarded weight)
        (Truncation::new().cutoff(0.05), 3, 0.0001),
        (Truncation::new().cutoff(0.2), 2, 0.0101),
        (
            Truncation::new().cutoff(0.2).mode(TruncationMode::Absolute),
            2,
            0.0101,
        ),
        (
            Truncation::new()
                .cutoff(0.05)
                .mode(TruncationMode::Absolute),
            3,
            0.0001,
        ),
        (
            Truncation::new()
                .cutoff(0.01)
                .mode(TruncationMode::DiscardedWeight),
            2,
            0.0101,
        ),
        (
            Truncation::new()
                .cutoff(1e-5)
                .mode(TruncationMode::DiscardedWeight),
            4,
            0.0,
        ),
        (Truncation::new().cutoff(0.9).min_bond(2), 2, 0.0101),
        (Truncation::new().max_bond(1), 1, 0.2601),
    ];
    for (tr, kept, disc) in cases {
        let mut m = schmidt_pair();
        let psi = dense_ref(&m);
        let err = m.compress(&tr).unwrap();
        assert_eq!(m.bond_dims(), vec![kept], "{tr:?}");
        assert!((err - disc / total).abs() < 1e-14, "{tr:?}: {err}");
        assert!((dist_sqr(&psi, &dense_ref(&m)) / norm_sqr(&psi) - err).abs() < 1e-14);
    }
}

// --------------------------------------------------------------- entanglement

fn check_entropies<T: Scalar>(dims: &[usize], seed: u64) {
    let mut m = Mps::<T>::random(dims, 4, &mut rng(seed)).unwrap();
    let psi = dense_ref(&m);
    let want = dense_entropies(&psi, dims);
    let got = m.entanglement_entropies().unwrap();
    assert_eq!(got.len(), dims.len() - 1);
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!((g - w).abs() < 1e-10, "bond {k}: {g} vs {w}");
        assert!(*w > 1e-3, "bond {k}: trivial reference entropy {w}");
    }
    // State unchanged, left-canonical.
    assert_eq!(m.center(), Some(dims.len() - 1));
    assert!(rel_diff(&dense_ref(&m), &psi) < 1e-12);
}

#[test]
fn entropies_match_dense_svd() {
    check_entropies::<f64>(&DIMS_A, 80);
    check_entropies::<Complex64>(&DIMS_B, 81);
    check_entropies::<Complex64>(&DIMS_A, 82);
}

#[test]
fn entropies_product_and_ghz() {
    let mut p = Mps::<f64>::product_state(&[2, 3, 2, 2], &[1, 0, 1, 1]).unwrap();
    for s in p.entanglement_entropies().unwrap() {
        assert!(s.abs() < 1e-14);
    }
    // GHZ: (|00000> + |11111>) / sqrt 2, tensors written by hand.
    let n = 5;
    let mut t = Vec::new();
    for k in 0..n {
        let dl = if k == 0 { 1 } else { 2 };
        let dr = if k == n - 1 { 1 } else { 2 };
        let mut a = Tensor::<Complex64>::zeros(&[dl, 2, dr]);
        for s in 0..2 {
            let l = if k == 0 { 0 } else { s };
            let r = if k == n - 1 { 0 } else { s };
            a.set(&[l, s, r], Complex64::new(1.0, 0.0)).unwrap();
        }
        t.push(a);
    }
    let mut ghz = Mps::from_tensors(t).unwrap();
    assert!((ghz.log_norm() - 0.5 * 2.0_f64.ln()).abs() < 1e-14);
    let s = ghz.entanglement_entropies().unwrap();
    assert_eq!(s.len(), n - 1);
    for v in s {
        assert!((v - 2.0_f64.ln()).abs() < 1e-12, "{v}");
    }
}

// -------------------------------------------------------------- long chains

fn check_long_chain<T: Scalar>(seed: u64) -> std::time::Duration {
    let n = 10_000;
    let start = std::time::Instant::now();
    let m = Mps::<T>::random(&vec![2; n], 4, &mut rng(seed)).unwrap();
    let ln_transfer = m.log_norm();
    assert!(ln_transfer.is_finite());
    // Gaussian tensors: ||psi||^2 grows like (d D)^N, far beyond f64.
    assert!(ln_transfer > 1000.0, "{ln_transfer}");
    let mut c = m.clone();
    c.canonicalize(n / 2).unwrap();
    let ln_canon = c.log_norm();
    assert!(
        (ln_canon - ln_transfer).abs() < 1e-8 * ln_transfer.abs(),
        "{ln_canon} vs {ln_transfer}"
    );
    c.left_canonicalize().unwrap();
    assert!((c.log_norm() - ln_transfer).abs() < 1e-8 * ln_transfer.abs());
    let x: Vec<usize> = (0..n).map(|k| (k * 7 + k / 3) % 2).collect();
    let a1 = m.log_amplitude(&x).unwrap();
    let a2 = c.log_amplitude(&x).unwrap();
    assert!(a1.log_abs.is_finite());
    assert!((a1.log_abs - a2.log_abs).abs() < 1e-8 * a1.log_abs.abs());
    assert!((a1.phase - a2.phase).abs() < 1e-6);
    // <m|c> = ||m||^2 (same state, different gauge).
    let ov = m.log_overlap(&c).unwrap();
    assert!((ov.log_abs - 2.0 * ln_transfer).abs() < 1e-8 * ln_transfer.abs());
    start.elapsed()
}

#[test]
fn ten_thousand_sites_f64() {
    let t = check_long_chain::<f64>(90);
    eprintln!("10,000-site f64 test took {t:?}");
}

#[test]
fn ten_thousand_sites_c64() {
    let t = check_long_chain::<Complex64>(91);
    eprintln!("10,000-site c64 test took {t:?}");
}

// -------------------------------------------------------------- construction

#[test]
fn random_bond_dims_are_clipped_and_seeded() {
    let m = Mps::<f64>::random(&[2, 2, 2, 2, 2, 2], 100, &mut rng(1)).unwrap();
    assert_eq!(m.bond_dims(), vec![2, 4, 8, 4, 2]);
    assert_eq!(m.max_bond(), 8);
    let m = Mps::<f64>::random(&[3, 2, 2, 3], 5, &mut rng(1)).unwrap();
    assert_eq!(m.bond_dims(), vec![3, 5, 3]);
    assert_eq!(m.phys_dims(), vec![3, 2, 2, 3]);
    assert_eq!(m.len(), 4);
    let a = Mps::<Complex64>::random(&DIMS_A, 4, &mut rng(9)).unwrap();
    let b = Mps::<Complex64>::random(&DIMS_A, 4, &mut rng(9)).unwrap();
    assert_eq!(a.tensors(), b.tensors());
    let single = Mps::<f64>::random(&[5], 3, &mut rng(2)).unwrap();
    assert!(single.bond_dims().is_empty());
    assert_eq!(single.tensor(0).unwrap().shape(), &[1, 5, 1]);
}

#[test]
fn set_tensor_resets_center() {
    let mut m = Mps::<f64>::random(&DIMS_A, 4, &mut rng(3)).unwrap();
    m.canonicalize(3).unwrap();
    let t = m.tensor(2).unwrap().clone() * 2.0;
    m.set_tensor(2, t).unwrap();
    assert_eq!(m.center(), None);
    m.canonicalize(3).unwrap();
    let (l, r) = (m.tensor(3).unwrap().clone(), m.tensor(4).unwrap().clone());
    m.set_tensor_pair(3, l, r).unwrap();
    assert_eq!(m.center(), None);
    // A pair update may change the bond between the two sites.
    let (dl, d3) = (m.bond_dims()[2], DIMS_A[3]);
    let (d4, dr) = (DIMS_A[4], m.bond_dims()[4]);
    let l = Tensor::random(&[dl, d3, 7], &mut rng(4));
    let r = Tensor::random(&[7, d4, dr], &mut rng(5));
    m.set_tensor_pair(3, l, r).unwrap();
    assert_eq!(m.bond_dims()[3], 7);
    let (parts, scale) = m.into_parts();
    assert_eq!(parts.len(), DIMS_A.len());
    assert!(scale.is_finite());
}

#[test]
fn replace_bond_keeps_a_centre_on_the_bond() {
    let mut m = Mps::<f64>::random(&DIMS_A, 4, &mut rng(6)).unwrap();
    m.canonicalize(3).unwrap();
    // The pair as a QR step leaves it: site 3 a left isometry, centre on site 4.
    let mut moved = m.clone();
    moved.move_center(4).unwrap();
    let (l, r) = (
        moved.tensor(3).unwrap().clone(),
        moved.tensor(4).unwrap().clone(),
    );
    m.replace_bond(3, l.clone(), r.clone(), 4).unwrap();
    assert_eq!(m.center(), Some(4));
    m.check_canonical(4, 1e-10).unwrap();
    assert!((m.tensor(4).unwrap().norm() - 1.0).abs() < 1e-12);
    // Moving the known centre only sweeps the sites in between.
    m.move_center(5).unwrap();
    m.check_canonical(5, 1e-10).unwrap();
    // A centre away from the bond is forgotten, as by set_tensor_pair.
    m.canonicalize(0).unwrap();
    m.replace_bond(3, l.clone(), r.clone(), 4).unwrap();
    assert_eq!(m.center(), None);
    // The new centre must lie on the bond; errors leave the MPS unchanged.
    m.canonicalize(3).unwrap();
    let before = m.tensors().to_vec();
    let e = m.replace_bond(3, l.clone(), r, 5).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
    let r = moved.tensor(4).unwrap().clone();
    assert!(m.replace_bond(usize::MAX, l, r, usize::MAX).is_err());
    let (a, b) = (
        Tensor::<f64>::ones(&[1, 2, 1]),
        Tensor::<f64>::ones(&[1, 3, 1]),
    );
    assert!(m.replace_bond(3, a, b, 4).is_err());
    assert_eq!(m.tensors(), &before[..]);
    assert_eq!(m.center(), Some(3));
}

// ------------------------------------------------------------------ bad input

fn msg(e: &Error) -> String {
    e.to_string()
}

#[test]
fn from_tensors_rejects_bad_chains() {
    let mut r = rng(100);
    // Mismatched internal bond between sites 1 and 2.
    let t = vec![
        Tensor::<f64>::random(&[1, 2, 3], &mut r),
        Tensor::<f64>::random(&[3, 2, 4], &mut r),
        Tensor::<f64>::random(&[5, 2, 1], &mut r),
    ];
    let e = Mps::from_tensors(t).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }), "{e:?}");
    let s = msg(&e);
    assert!(
        s.contains("site 1") && s.contains("site 2") && s.contains('4') && s.contains('5'),
        "{s}"
    );

    // Boundary bonds.
    let t = vec![
        Tensor::<f64>::random(&[2, 2, 3], &mut r),
        Tensor::<f64>::random(&[3, 2, 1], &mut r),
    ];
    let e = Mps::from_tensors(t).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }));
    assert!(
        msg(&e).contains("site 0") && msg(&e).contains("boundary"),
        "{e}"
    );
    let t = vec![
        Tensor::<f64>::random(&[1, 2, 3], &mut r),
        Tensor::<f64>::random(&[3, 2, 2], &mut r),
    ];
    let e = Mps::from_tensors(t).unwrap_err();
    assert!(
        msg(&e).contains("site 1") && msg(&e).contains("boundary"),
        "{e}"
    );

    // Wrong order.
    let t = vec![
        Tensor::<f64>::random(&[1, 2, 1], &mut r),
        Tensor::<f64>::random(&[1, 2], &mut r),
    ];
    let e = Mps::from_tensors(t).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }));
    assert!(
        msg(&e).contains("site 1") && msg(&e).contains("order 2"),
        "{e}"
    );

    // NaN entry at site 1.
    let mut bad = Tensor::<Complex64>::random(&[2, 2, 1], &mut r);
    bad.set(&[1, 0, 0], Complex64::new(f64::NAN, 0.0)).unwrap();
    let t = vec![Tensor::<Complex64>::random(&[1, 3, 2], &mut r), bad];
    let e = Mps::from_tensors(t).unwrap_err();
    assert!(matches!(e, Error::NonFinite { position: 2, .. }), "{e:?}");
    assert!(msg(&e).contains("site 1") && msg(&e).contains("NaN"), "{e}");

    // Zero dimensions, empty chain.
    let e = Mps::from_tensors(vec![Tensor::<f64>::zeros(&[1, 0, 1])]).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }));
    assert!(msg(&e).contains("site 0") && msg(&e).contains("physical dimension 0"));
    let t = vec![
        Tensor::<f64>::zeros(&[1, 2, 0]),
        Tensor::<f64>::zeros(&[0, 2, 1]),
    ];
    let e = Mps::from_tensors(t).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }));
    assert!(msg(&e).contains("site 0") && msg(&e).contains("dimension 0"));
    let e = Mps::<f64>::from_tensors(Vec::<Tensor<f64>>::new()).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }) && msg(&e).contains("empty"));
    let e = Mps::from_parts(vec![Tensor::<f64>::ones(&[1, 2, 1])], f64::NAN).unwrap_err();
    assert!(msg(&e).contains("log_scale"));
}

#[test]
fn constructors_reject_bad_arguments() {
    let e = Mps::<f64>::random(&[2, 2, 2], 0, &mut rng(1)).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }) && msg(&e).contains("bond_dim"));
    let e = Mps::<f64>::random(&[2, 2, 2, 0], 3, &mut rng(1)).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }));
    assert!(msg(&e).contains("site 3") && msg(&e).contains("physical dimension 0"));
    let e = Mps::<f64>::random(&[], 3, &mut rng(1)).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }));
    let e = Mps::<f64>::product_state(&[2, 3], &[0, 3]).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }));
    assert!(
        msg(&e).contains("site 1") && msg(&e).contains("value 3"),
        "{e}"
    );
    let e = Mps::<f64>::product_state(&[2, 3], &[0]).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }));
}

#[test]
fn queries_reject_bad_arguments() {
    let mut m = Mps::<Complex64>::random(&DIMS_B, 3, &mut rng(7)).unwrap();
    // Configuration of the wrong length.
    let e = m.log_amplitude(&[0; 5]).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }));
    assert!(msg(&e).contains('5') && msg(&e).contains('8'), "{e}");
    // Value >= d at site 1 (d_1 = 2).
    let e = m.log_amplitude(&[0, 2, 0, 0, 0, 0, 0, 0]).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }));
    assert!(
        msg(&e).contains("site 1") && msg(&e).contains("value 2"),
        "{e}"
    );
    // Centre out of range; state untouched.
    for e in [
        m.canonicalize(8).unwrap_err(),
        m.move_center(9).unwrap_err(),
    ] {
        assert!(matches!(e, Error::InvalidArgument { .. }));
        assert!(msg(&e).contains("8 sites"), "{e}");
    }
    assert!(msg(&m.move_center(9).unwrap_err()).contains("site 9"));
    assert!(m.tensor(8).is_err());
    assert_eq!(m.center(), None);
    // Invalid truncation rejected before touching the state.
    let before = m.tensors().to_vec();
    let e = m.compress(&Truncation::new().max_bond(0)).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }) && msg(&e).contains("max_bond"));
    let e = m
        .compress(
            &Truncation::new()
                .cutoff(2.0)
                .mode(TruncationMode::DiscardedWeight),
        )
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }) && msg(&e).contains("cutoff"));
    assert_eq!(m.tensors(), &before[..]);
    // Overlaps of incompatible states.
    let short = Mps::<Complex64>::random(&DIMS_B[..7], 3, &mut rng(8)).unwrap();
    let e = m.log_overlap(&short).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }));
    assert!(msg(&e).contains('8') && msg(&e).contains('7'));
    let mut dims = DIMS_B;
    dims[5] = 3;
    let other = Mps::<Complex64>::random(&dims, 3, &mut rng(8)).unwrap();
    let e = m.log_overlap(&other).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }));
    assert!(msg(&e).contains("site 5"), "{e}");
    // set_tensor with a mismatched bond names the bond.
    let bonds = m.bond_dims();
    let t = Tensor::random(&[bonds[1], 2, bonds[2] + 1], &mut rng(9));
    let e = m.set_tensor(2, t).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }));
    assert!(
        msg(&e).contains("site 2") && msg(&e).contains("site 3"),
        "{e}"
    );
    // to_dense refuses huge states.
    let big = Mps::<f64>::product_state(&[2; 30], &[0; 30]).unwrap();
    let e = big.to_dense().unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }) && msg(&e).contains("30 sites"));
}

#[test]
fn move_center_only_sweeps_between() {
    let mut m = Mps::<Complex64>::random(&DIMS_B, 4, &mut rng(200)).unwrap();
    m.canonicalize(2).unwrap();
    let before = m.tensors().to_vec();
    let psi = dense_ref(&m);
    m.move_center(5).unwrap();
    // Sites outside 2..=5 are bitwise untouched; the state is unchanged.
    for k in (0..2).chain(6..DIMS_B.len()) {
        assert_eq!(m.tensor(k).unwrap(), &before[k], "site {k} was touched");
    }
    assert!(rel_diff(&dense_ref(&m), &psi) < 1e-12);
    let before = m.tensors().to_vec();
    m.move_center(3).unwrap();
    for k in (0..3).chain(6..DIMS_B.len()) {
        assert_eq!(m.tensor(k).unwrap(), &before[k], "site {k} was touched");
    }
    assert!(rel_diff(&dense_ref(&m), &psi) < 1e-12);
    // Moving to the current centre changes nothing.
    let before = m.tensors().to_vec();
    m.move_center(3).unwrap();
    assert_eq!(m.tensors(), &before[..]);
}
