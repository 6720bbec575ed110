//! Per-sample environments of an MPS with separate log scales, advanced one site at
//! a time by `d` grouped GEMMs, and the two-site NLL gradient as `d^2` GEMMs.
//!
//! For a data set `x^(1..n)` the left environment of site `k` is the row vector
//! `l_x = A_0[x_0] ... A_{k-1}[x_{k-1}]` (length `D_{k-1}`), the right environment
//! of site `k` is `r_x = (A_{k+1}[x_{k+1}] ... A_{N-1}[x_{N-1}])^T` (length `D_k`).
//! They are stored as an `n x D` matrix whose rows are normalised to unit length
//! plus one `ln`-scale per row (`-inf` for an exact zero), so products of hundreds
//! of sites neither under- nor overflow and `ln |psi(x)|` is a sum of logs.
//! Memory: `n * D * 8` bytes (plus `n * 8` for the scales) per stored site.

use ndarray::{s, Array2, Array3, Array4, ArrayView1, ArrayView2, Axis};

use crate::linalg::gemm_unchecked;

/// Environments of `n` samples at one site: unit rows and their log scales.
pub(crate) use crate::born::rows::ScaledRows as Env;

/// Sample indices grouped by the value of one column (`d` groups).
pub(crate) fn group_by(col: ArrayView1<'_, u8>, d: usize) -> Vec<Vec<usize>> {
    let mut groups = vec![Vec::new(); d];
    for (i, &v) in col.iter().enumerate() {
        groups[usize::from(v)].push(i);
    }
    groups
}

/// Normalises every row of `m` to unit length; `logs[i]` gets `base[i] + ln ||row||`.
fn normalise_rows_into(m: &mut Array2<f64>, rows: &[usize], base: &[f64], logs: &mut [f64]) {
    for (mut row, &i) in m.outer_iter_mut().zip(rows) {
        let nrm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        if nrm > 0.0 && nrm.is_finite() {
            row.mapv_inplace(|v| v / nrm);
            logs[i] = base[i] + nrm.ln();
        } else {
            row.fill(0.0);
            logs[i] = f64::NEG_INFINITY;
        }
    }
}

/// Left environments of site `k+1` from those of site `k` and `A_k`:
/// `l_x <- l_x A_k[x_k]`, one GEMM per value of `x_k`.
pub(crate) fn advance_left(env: &Env, a: &Array3<f64>, col: ArrayView1<'_, u8>) -> Env {
    let (_, d, dr) = a.dim();
    advance(env, col, d, dr, |s| a.index_axis(Axis(1), s))
}

/// Right environments of site `k-1` from those of site `k` and `A_k`:
/// `r_x <- A_k[x_k] r_x`, i.e. rows `r_x^T A_k[x_k]^T`, one GEMM per value of `x_k`.
pub(crate) fn advance_right(env: &Env, a: &Array3<f64>, col: ArrayView1<'_, u8>) -> Env {
    let (dl, d, _) = a.dim();
    advance(env, col, d, dl, |s| {
        a.index_axis(Axis(1), s).reversed_axes()
    })
}

fn advance<'a>(
    env: &Env,
    col: ArrayView1<'_, u8>,
    d: usize,
    out_dim: usize,
    mat: impl Fn(usize) -> ArrayView2<'a, f64>,
) -> Env {
    let n = env.vecs.nrows();
    let mut out = Array2::zeros((n, out_dim));
    let mut logs = vec![f64::NEG_INFINITY; n];
    for (s, idx) in group_by(col, d).iter().enumerate() {
        if idx.is_empty() {
            continue;
        }
        let lg = env.vecs.select(Axis(0), idx);
        let mut og = Array2::zeros((idx.len(), out_dim));
        gemm_unchecked(1.0, lg.view(), mat(s), false, og.view_mut());
        normalise_rows_into(&mut og, idx, &env.logs, &mut logs);
        for (row, &i) in og.outer_iter().zip(idx) {
            out.row_mut(i).assign(&row);
        }
    }
    Env { vecs: out, logs }
}

/// The gradient of the NLL of the samples `batch` with respect to the merged
/// two-site tensor `b` (shape `(D_{k-1}, d, d, D_{k+1})`) of a canonical MPS whose
/// centre is on the bond:
///
/// ```text
/// dL/dB = 2 B / Z - (2/|batch|) sum_x (l_x (x) e_{x_k} (x) e_{x_{k+1}} (x) r_x) / psi(x),
/// Z = ||B||^2,  psi(x) = l_x B[x_k, x_{k+1}] r_x.
/// ```
///
/// The log scales of `l_x` and `r_x` cancel in `l_x (x) r_x / psi(x)`, so only the
/// unit rows enter. For each of the `d^2` groups `g = (x_k, x_{k+1})` the sum is the
/// single GEMM `L_g^T diag(1/psi_g) R_g`. A sample with `psi(x) = 0` (its NLL is
/// infinite and its gradient undefined), or with `1/psi` overflowing, is skipped; it
/// still counts in `|batch|`.
///
/// Returns the gradient and the number of skipped samples.
pub(crate) fn two_site_gradient(
    b: &Array4<f64>,
    left: &Env,
    right: &Env,
    xk: ArrayView1<'_, u8>,
    xk1: ArrayView1<'_, u8>,
    batch: &[usize],
) -> (Array4<f64>, usize) {
    let z: f64 = b.iter().map(|v| v * v).sum();
    let grad = b.mapv(|v| 2.0 * v / z);
    add_data_gradient(grad, b, (left, right), xk, xk1, batch, batch.len())
}

/// `grad + (-(2/total) sum_{x in batch} (l_x (x) e_{x_k} (x) e_{x_{k+1}} (x) r_x) / psi(x))`:
/// the data term of [`two_site_gradient`] for the samples `batch` of a batch of
/// `total` samples (a distributed fit's rank holds a part of the batch; the parts
/// are summed across ranks). Returns it and the number of skipped samples.
pub(crate) fn add_data_gradient(
    mut grad: Array4<f64>,
    b: &Array4<f64>,
    (left, right): (&Env, &Env),
    xk: ArrayView1<'_, u8>,
    xk1: ArrayView1<'_, u8>,
    batch: &[usize],
    total: usize,
) -> (Array4<f64>, usize) {
    let (dl, d, _, dr) = b.dim();
    let mut groups = vec![Vec::new(); d * d];
    for &i in batch {
        groups[usize::from(xk[i]) * d + usize::from(xk1[i])].push(i);
    }
    let coef = -2.0 / total as f64;
    let mut skipped = 0;
    for (g, idx) in groups.iter().enumerate() {
        if idx.is_empty() {
            continue;
        }
        let (sk, sk1) = (g / d, g % d);
        let lg = left.vecs.select(Axis(0), idx);
        let mut rg = right.vecs.select(Axis(0), idx);
        let bg = b.slice(s![.., sk, sk1, ..]);
        let mut m = Array2::zeros((idx.len(), dr));
        gemm_unchecked(1.0, lg.view(), bg, false, m.view_mut());
        for (mut rrow, mrow) in rg.outer_iter_mut().zip(m.outer_iter()) {
            let psi: f64 = rrow.iter().zip(mrow.iter()).map(|(r, m)| r * m).sum();
            let inv = 1.0 / psi;
            if psi != 0.0 && psi.is_finite() && inv.is_finite() {
                rrow.mapv_inplace(|v| v * inv);
            } else {
                skipped += 1;
                rrow.fill(0.0);
            }
        }
        let mut gg = Array2::zeros((dl, dr));
        gemm_unchecked(1.0, lg.t(), rg.view(), false, gg.view_mut());
        grad.slice_mut(s![.., sk, sk1, ..]).scaled_add(coef, &gg);
    }
    (grad, skipped)
}
