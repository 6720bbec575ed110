//! Batched tree messages with log scales for the TTN Born machine.
//!
//! For `n` samples the message on one leg is an `n x D` matrix of unit rows plus
//! one `ln`-scale per row (`-inf` for an exact zero), as the MPS environments. A
//! node's message to one of its legs contracts the node with the messages on its
//! other two legs; for the whole batch that is one GEMM: the row-wise Kronecker
//! (Khatri-Rao) product of the two incoming message matrices, `n x (D_1 D_2)`, times
//! the node reshaped to `(D_1 D_2) x D_out`.

use ndarray::{Array2, Array3, ArrayView2};

use crate::born::scratch;
use crate::linalg::gemm_unchecked;

/// Messages of `n` samples on one leg: unit rows and their log scales.
pub(crate) use crate::born::rows::ScaledRows as Msgs;

/// The row-wise Kronecker product: row `i` is `a_i (x) b_i`, `n x (D_a D_b)`.
/// Works on the raw row-major buffers (the rows are often tiny: `d = 2`).
pub(crate) fn khatri_rao(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> {
    let (n, da) = a.dim();
    let db = b.ncols();
    let a = a.as_standard_layout();
    let b = b.as_standard_layout();
    let (av, bv) = (
        a.as_slice().expect("standard layout"),
        b.as_slice().expect("standard layout"),
    );
    let w = da * db;
    // From the scratch pool: callers return it with `scratch::recycle_matrix`.
    let mut out = scratch::zeroed(n * w);
    if w > 0 {
        for ((o, ar), br) in out
            .chunks_exact_mut(w)
            .zip(av.chunks_exact(da.max(1)))
            .zip(bv.chunks_exact(db.max(1)))
        {
            for (dst, &x) in o.chunks_exact_mut(db).zip(ar) {
                if x != 0.0 {
                    for (d, &y) in dst.iter_mut().zip(br) {
                        *d = x * y;
                    }
                }
            }
        }
    }
    Array2::from_shape_vec((n, w), out).expect("n x (D_a D_b)")
}

/// Normalises every row; returns the messages with `logs[i] = base[i] + ln ||row||`.
pub(crate) fn normalised(mut m: Array2<f64>, base: impl Fn(usize) -> f64) -> Msgs {
    let (n, w) = m.dim();
    let mut logs = vec![f64::NEG_INFINITY; n];
    if w > 0 {
        let buf = m.as_slice_mut().expect("fresh standard-layout matrix");
        for (i, row) in buf.chunks_exact_mut(w).enumerate() {
            let nrm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
            if nrm > 0.0 && nrm.is_finite() {
                row.iter_mut().for_each(|v| *v /= nrm);
                logs[i] = base(i) + nrm.ln();
            } else {
                row.fill(0.0);
            }
        }
    }
    Msgs { vecs: m, logs }
}

/// The message of node `t` (shape `(D_0, D_1, D_2)`) to its leg `out`, from the
/// messages `m1`, `m2` on its other two legs (in leg order):
/// `m_out = KR(m1, m2) T_mat`, with `T_mat` the node with the other legs as rows.
pub(crate) fn node_message(t: &Array3<f64>, out: usize, m1: &Msgs, m2: &Msgs) -> Msgs {
    let kr = khatri_rao(m1.vecs.view(), m2.vecs.view());
    let (d0, d1, d2) = t.dim();
    let n = kr.nrows();
    let res = match out {
        0 => {
            // (D_1 D_2) x D_0 = T reshaped (D_0, D_1 D_2), transposed (a view).
            let tm = ArrayView2::from_shape((d0, d1 * d2), t.as_slice().expect("standard"))
                .expect("sizes");
            let mut r = scratch::zeros(n, d0);
            gemm_unchecked(1.0, kr.view(), tm.t(), false, r.view_mut());
            r
        }
        2 => {
            let tm = ArrayView2::from_shape((d0 * d1, d2), t.as_slice().expect("standard"))
                .expect("sizes");
            let mut r = scratch::zeros(n, d2);
            gemm_unchecked(1.0, kr.view(), tm, false, r.view_mut());
            r
        }
        _ => {
            let tm = crate::ttn::leg_last(t, 1); // (D_0 D_2) x D_1
            let mut r = scratch::zeros(n, d1);
            gemm_unchecked(1.0, kr.view(), tm.view(), false, r.view_mut());
            r
        }
    };
    scratch::recycle_matrix(kr);
    normalised(res, |i| m1.logs[i] + m2.logs[i])
}
