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

use ndarray::{s, Array2, Array3, Array4, ArrayView1, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use crate::linalg::{dot, gemm_unchecked, sum_sq};

/// Environments of `n` samples at one site: unit rows and their log scales.
pub(crate) use crate::born::rows::ScaledRows as Env;

/// Rows per parallel task of an environment update: independent of the thread
/// count, so results do not depend on it.
const ROWS_PER_TASK: usize = 512;

/// Copies rows `idx` of the row-major `src` into `buf` (grown on demand) and
/// returns them as an `idx.len() x src.ncols()` matrix.
fn gather<'b>(src: &Array2<f64>, idx: &[usize], buf: &'b mut Vec<f64>) -> ArrayViewMut2<'b, f64> {
    let cols = src.ncols();
    let data = src.as_slice().expect("environments are row-major");
    buf.clear();
    for &i in idx {
        buf.extend_from_slice(&data[i * cols..(i + 1) * cols]);
    }
    ArrayViewMut2::from_shape((idx.len(), cols), buf.as_mut_slice()).expect("sizes match")
}

/// Normalises `row` to unit length; returns `ln ||row||` (`-inf`, and a zero row,
/// for a zero or non-finite norm).
fn normalise_row(row: &mut [f64]) -> f64 {
    let nrm = sum_sq(row).sqrt();
    if nrm > 0.0 && nrm.is_finite() {
        let inv = 1.0 / nrm;
        row.iter_mut().for_each(|v| *v *= inv);
        nrm.ln()
    } else {
        row.fill(0.0);
        f64::NEG_INFINITY
    }
}

/// Left environments of site `k+1` from those of site `k` and `A_k`:
/// `l_x <- l_x A_k[x_k]`, one GEMM per value of `x_k`.
pub(crate) fn advance_left(env: &Env, a: &Array3<f64>, col: ArrayView1<'_, u8>) -> Env {
    let mut out = Env::boundary(0);
    advance_left_into(env, a, col, &mut out);
    out
}

/// Right environments of site `k-1` from those of site `k` and `A_k`:
/// `r_x <- A_k[x_k] r_x`, i.e. rows `r_x^T A_k[x_k]^T`, one GEMM per value of `x_k`.
pub(crate) fn advance_right(env: &Env, a: &Array3<f64>, col: ArrayView1<'_, u8>) -> Env {
    let mut out = Env::boundary(0);
    advance_right_into(env, a, col, &mut out);
    out
}

/// [`advance_left`] written into `out`, reusing its allocation.
pub(crate) fn advance_left_into(
    env: &Env,
    a: &Array3<f64>,
    col: ArrayView1<'_, u8>,
    out: &mut Env,
) {
    let (_, d, dr) = a.dim();
    advance(env, col, d, dr, |s| a.index_axis(Axis(1), s), out);
}

/// [`advance_right`] written into `out`, reusing its allocation.
pub(crate) fn advance_right_into(
    env: &Env,
    a: &Array3<f64>,
    col: ArrayView1<'_, u8>,
    out: &mut Env,
) {
    let (dl, d, _) = a.dim();
    advance(
        env,
        col,
        d,
        dl,
        |s| a.index_axis(Axis(1), s).reversed_axes(),
        out,
    );
}

/// `out` reshaped to `n x cols` on its own allocation when large enough (the
/// contents are left to be overwritten).
fn reshape_env(out: &mut Env, n: usize, cols: usize) {
    let old = std::mem::replace(&mut out.vecs, Array2::zeros((0, 0)));
    let (mut v, _) = old.into_raw_vec_and_offset();
    let len = n * cols;
    if v.capacity() < len {
        // Sizes were checked when the fit started; `vec![0.0; n]` takes zeroed pages
        // from the allocator (no memset).
        v = vec![0.0; len];
    }
    v.resize(len, 0.0);
    out.vecs = Array2::from_shape_vec((n, cols), v).expect("sizes match");
    out.logs.resize(n, 0.0);
}

/// The shared body of the environment updates: for blocks of [`ROWS_PER_TASK`]
/// samples in parallel, one sequential GEMM per value `s` of the site on the rows
/// with `x = s` (gathered), rows normalised into `out`.
fn advance<'a>(
    env: &Env,
    col: ArrayView1<'_, u8>,
    d: usize,
    out_dim: usize,
    mat: impl Fn(usize) -> ArrayView2<'a, f64> + Sync,
    out: &mut Env,
) {
    let n = env.vecs.nrows();
    reshape_env(out, n, out_dim);
    let col = col
        .as_slice()
        .map(<[u8]>::to_vec)
        .unwrap_or_else(|| col.to_vec());
    let vecs = out.vecs.as_slice_mut().expect("row-major");
    let task = |(t, (rows, logs)): (usize, (&mut [f64], &mut [f64])),
                bufs: &mut (Vec<usize>, Vec<f64>, Vec<f64>)| {
        let (idx, lg, og) = bufs;
        let first = t * ROWS_PER_TASK;
        for s in 0..d {
            idx.clear();
            idx.extend((first..first + logs.len()).filter(|&i| usize::from(col[i]) == s));
            if idx.is_empty() {
                continue;
            }
            let lview = gather(&env.vecs, idx, lg);
            og.clear();
            og.resize(idx.len() * out_dim, 0.0);
            let mut oview = ArrayViewMut2::from_shape((idx.len(), out_dim), og.as_mut_slice())
                .expect("sizes match");
            crate::linalg::sequential(|| {
                gemm_unchecked(1.0, lview.view(), mat(s), false, oview.view_mut());
            });
            for (r, &i) in og.chunks_exact_mut(out_dim).zip(idx.iter()) {
                let l = normalise_row(r);
                let j = i - first;
                rows[j * out_dim..(j + 1) * out_dim].copy_from_slice(r);
                logs[j] = env.logs[i] + l;
            }
        }
    };
    if out_dim == 0 || n == 0 {
        out.logs.fill(f64::NEG_INFINITY);
        return;
    }
    vecs.par_chunks_mut(ROWS_PER_TASK * out_dim)
        .zip(out.logs.par_chunks_mut(ROWS_PER_TASK))
        .enumerate()
        .for_each_init(
            || (Vec::new(), Vec::new(), Vec::new()),
            |bufs, item| task(item, bufs),
        );
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
    let mut grad = Array4::zeros(b.dim());
    let skipped = GradientScratch::default().gradient(b, left, right, xk, xk1, batch, &mut grad);
    (grad, skipped)
}

/// Samples per task of a gradient: the data term is summed per block of this many
/// samples (in parallel), then the blocks in order, so the result does not depend
/// on the thread count.
const SAMPLES_PER_TASK: usize = 2048;

/// Reusable buffers of [`two_site_gradient`] (grouped sample indices, gathered
/// environment rows, products), kept across bonds and steps of a sweep.
#[derive(Default)]
pub(crate) struct GradientScratch {
    groups: Vec<Vec<usize>>,
    rows: GatherBuffers,
    partials: Vec<Array4<f64>>,
}

/// Gathered left and right rows and the product `L_g B_g` of one block.
#[derive(Default)]
struct GatherBuffers {
    left: Vec<f64>,
    right: Vec<f64>,
    product: Vec<f64>,
}

impl GradientScratch {
    /// [`two_site_gradient`] written into `grad` (same shape as `b`); returns the
    /// number of skipped samples.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn gradient(
        &mut self,
        b: &Array4<f64>,
        left: &Env,
        right: &Env,
        xk: ArrayView1<'_, u8>,
        xk1: ArrayView1<'_, u8>,
        batch: &[usize],
        grad: &mut Array4<f64>,
    ) -> usize {
        let z = sum_sq(b.as_slice().expect("merged tensor is contiguous"));
        let scale = 2.0 / z;
        grad.zip_mut_with(b, |g, &v| *g = scale * v);
        let coef = -2.0 / batch.len() as f64;
        self.add_data_term(b, (left, right), (xk, xk1), batch, coef, grad)
    }

    /// Adds `coef sum_{x in batch} (l_x (x) e_{x_k} (x) e_{x_{k+1}} (x) r_x) / psi(x)`
    /// to `grad`: the data term of [`two_site_gradient`] with `coef = -2/|batch|`,
    /// or, in a distributed fit, `-2/total` for this rank's part of a batch of
    /// `total` samples. Blocks of [`SAMPLES_PER_TASK`] samples run in parallel and
    /// are added in order. Returns the number of skipped samples (`psi(x) = 0`).
    pub(crate) fn add_data_term(
        &mut self,
        b: &Array4<f64>,
        (left, right): (&Env, &Env),
        (xk, xk1): (ArrayView1<'_, u8>, ArrayView1<'_, u8>),
        batch: &[usize],
        coef: f64,
        grad: &mut Array4<f64>,
    ) -> usize {
        if batch.len() <= SAMPLES_PER_TASK {
            let mut rows = std::mem::take(&mut self.rows);
            let skipped = self.block(b, left, right, xk, xk1, batch, coef, grad, &mut rows);
            self.rows = rows;
            return skipped;
        }
        let blocks: Vec<&[usize]> = batch.chunks(SAMPLES_PER_TASK).collect();
        self.partials
            .resize_with(blocks.len(), || Array4::zeros(b.dim()));
        for p in &mut self.partials {
            if p.dim() != b.dim() {
                *p = Array4::zeros(b.dim());
            } else {
                p.fill(0.0);
            }
        }
        let skipped: usize = blocks
            .par_iter()
            .zip(self.partials.par_iter_mut())
            .map_init(
                || (GradientScratch::default(), GatherBuffers::default()),
                |(scratch, rows), (blk, partial)| {
                    crate::linalg::sequential(|| {
                        scratch.block(b, left, right, xk, xk1, blk, 1.0, partial, rows)
                    })
                },
            )
            .sum();
        for p in &self.partials {
            grad.scaled_add(coef, p);
        }
        skipped
    }

    /// Adds `coef sum_x (l_x (x) e_{x_k} (x) e_{x_{k+1}} (x) r_x) / psi(x)` over the
    /// samples `batch` to `acc`: per group `g = (x_k, x_{k+1})`, the GEMM
    /// `L_g B_g` for `psi`, then `acc_g += coef L_g^T diag(1/psi) R_g`.
    #[allow(clippy::too_many_arguments)]
    fn block(
        &mut self,
        b: &Array4<f64>,
        left: &Env,
        right: &Env,
        xk: ArrayView1<'_, u8>,
        xk1: ArrayView1<'_, u8>,
        batch: &[usize],
        coef: f64,
        acc: &mut Array4<f64>,
        rows: &mut GatherBuffers,
    ) -> usize {
        let (_, d, _, dr) = b.dim();
        self.groups.resize_with(d * d, Vec::new);
        self.groups.iter_mut().for_each(Vec::clear);
        for &i in batch {
            self.groups[usize::from(xk[i]) * d + usize::from(xk1[i])].push(i);
        }
        let mut skipped = 0;
        for (g, idx) in self.groups.iter().enumerate() {
            if idx.is_empty() {
                continue;
            }
            let (sk, sk1) = (g / d, g % d);
            let lg = gather(&left.vecs, idx, &mut rows.left);
            gather(&right.vecs, idx, &mut rows.right);
            rows.product.clear();
            rows.product.resize(idx.len() * dr, 0.0);
            let m = ArrayViewMut2::from_shape((idx.len(), dr), rows.product.as_mut_slice())
                .expect("sizes match");
            gemm_unchecked(1.0, lg.view(), b.slice(s![.., sk, sk1, ..]), false, m);
            for (r, m) in rows
                .right
                .chunks_exact_mut(dr)
                .zip(rows.product.chunks_exact(dr))
            {
                let psi = dot(r, m);
                let inv = 1.0 / psi;
                if psi != 0.0 && psi.is_finite() && inv.is_finite() {
                    r.iter_mut().for_each(|v| *v *= inv);
                } else {
                    skipped += 1;
                    r.fill(0.0);
                }
            }
            let rg = ArrayView2::from_shape((idx.len(), dr), rows.right.as_slice())
                .expect("sizes match");
            gemm_unchecked(coef, lg.t(), rg, true, acc.slice_mut(s![.., sk, sk1, ..]));
        }
        skipped
    }
}
