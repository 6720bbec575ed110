//! A randomised truncated SVD, [`svd_truncated_randomized`], for large matrices of
//! which only a few singular values are kept.
//!
//! The TTN Born machine splits merged two-node tensors, `D^2 x D^2` matrices of
//! which at most `max_bond = D` singular values are kept: a full SVD costs
//! `O(D^6)` (0.7 s at `D = 32`) for `D` useful values. Above a size threshold the
//! split therefore uses a randomised range finder (Halko, Martinsson, Tropp, SIAM
//! Rev. 53, 217 (2011)) with oversampling and two power iterations, followed by
//! the exact SVD of the small projected matrix; the kept count then follows the
//! same [`Truncation`] rule, and the discarded weight is exact
//! (`1 - sum_kept s^2 / ||B||_F^2`). Small matrices use the exact
//! [`svd_truncated`].

use ndarray::{Array2, ArrayView2};
use rand::Rng;

use crate::error::Result;
use crate::linalg::{matmul, qr, svd, svd_truncated, TruncatedSvd, Truncation};
use crate::scalar::Scalar;

/// Matrices whose smaller side is at most this, or at most
/// `2 (max_bond + oversampling)`, get the exact SVD.
const EXACT_SVD_SIDE: usize = 96;

/// Power iterations of the randomised range finder.
const POWER_ITERATIONS: usize = 2;

/// Truncated SVD of `m` under `trunc`, as [`svd_truncated`]: exact for small
/// matrices (smaller side at most 96 or at most `2 (max_bond + oversampling)`),
/// randomised (seeded by `rng`) for large ones (see the module documentation).
/// The kept singular values follow the same [`Truncation`] rule; the discarded
/// weight is exact.
///
/// # Errors
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for an invalid
/// `trunc`, and the errors of the backend's QR and SVD.
pub fn svd_truncated_randomized<R: Rng + ?Sized>(
    m: ArrayView2<'_, f64>,
    trunc: &Truncation,
    rng: &mut R,
) -> Result<TruncatedSvd<f64>> {
    trunc.validate()?;
    let (rows, cols) = m.dim();
    let side = rows.min(cols);
    let oversample = (trunc.max_bond / 2).max(8);
    let l = trunc.max_bond.saturating_add(oversample);
    if side <= EXACT_SVD_SIDE || side <= 2 * l {
        return svd_truncated(m, trunc);
    }
    let total: f64 = m.iter().map(|v| v * v).sum();
    let omega = Array2::from_shape_simple_fn((cols, l), || f64::random_normal(rng));
    let mut q = qr(matmul(m, omega.view())?.view())?.0;
    for _ in 0..POWER_ITERATIONS {
        let z = qr(matmul(m.t(), q.view())?.view())?.0;
        q = qr(matmul(m, z.view())?.view())?.0;
    }
    let small = matmul(q.t(), m)?; // l x cols
    let (ub, s, vh) = svd(small.view())?;
    let keep = trunc.keep_count(s.as_slice().expect("contiguous"));
    let u = matmul(q.view(), ub.slice(ndarray::s![.., ..keep]))?;
    let s = s.slice(ndarray::s![..keep]).to_owned();
    let vh = vh.slice(ndarray::s![..keep, ..]).to_owned();
    let kept: f64 = s.iter().map(|v| v * v).sum();
    let err = if total > 0.0 {
        (1.0 - kept / total).max(0.0)
    } else {
        0.0
    };
    Ok(TruncatedSvd {
        u,
        s,
        vh,
        truncation_error: err,
        discarded_norm_sqr: (total - kept).max(0.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// A 200 x 300 matrix with singular values `2^-i`: the randomised split must
    /// reproduce the exact truncated SVD (values, reconstruction, discarded weight).
    #[test]
    fn randomised_split_matches_the_exact_one() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let (m, n, r) = (200, 300, 60);
        let gauss = |rows, cols, rng: &mut rand::rngs::StdRng| {
            Array2::from_shape_simple_fn((rows, cols), || f64::random_normal(rng))
        };
        let qa = qr(gauss(m, r, &mut rng).view()).unwrap().0;
        let qb = qr(gauss(n, r, &mut rng).view()).unwrap().0;
        let s: Vec<f64> = (0..r).map(|i| 0.5f64.powi(i as i32)).collect();
        let mut a = qa.clone();
        for (mut col, &x) in a.axis_iter_mut(ndarray::Axis(1)).zip(&s) {
            col.mapv_inplace(|v| v * x);
        }
        let a = matmul(a.view(), qb.t()).unwrap();
        let trunc = Truncation::new().max_bond(10).cutoff(1e-12);
        let t = svd_truncated_randomized(a.view(), &trunc, &mut rng).unwrap();
        let (u, sv, vh, err) = (t.u, t.s, t.vh, t.truncation_error);
        assert_eq!(sv.len(), 10);
        for i in 0..10 {
            assert!(
                (sv[i] - s[i]).abs() < 1e-10,
                "s[{i}] = {} vs {}",
                sv[i],
                s[i]
            );
        }
        let total: f64 = s.iter().map(|x| x * x).sum();
        let want: f64 = s[10..].iter().map(|x| x * x).sum::<f64>() / total;
        assert!((err - want).abs() < 1e-12, "{err} vs {want}");
        let mut us = u.clone();
        for (mut col, &x) in us.axis_iter_mut(ndarray::Axis(1)).zip(sv.iter()) {
            col.mapv_inplace(|v| v * x);
        }
        let rec = matmul(us.view(), vh.view()).unwrap();
        let diff: f64 = (&rec - &a).iter().map(|v| v * v).sum::<f64>() / total;
        assert!((diff - want).abs() < 1e-10, "{diff} vs {want}");
    }
}
