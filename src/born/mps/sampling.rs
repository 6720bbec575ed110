//! Exact sampling and marginals: [`BornMachine::sample`](crate::born::BornMachine::sample),
//! [`MpsBornMachine::sample_conditional`], [`MpsBornMachine::marginal`].
//!
//! Unconditional sampling ([`BornMachine::sample`](crate::born::BornMachine::sample),
//! the conditional sampler with nothing observed): `n` exact i.i.d. samples from `p(x)` by zipper sampling (`n x N`).
//!
//! With the MPS right-canonical (centre 0, `Z = 1`) the conditionals are
//! `p(x_k | x_<k) = ||v_{k-1} A_k[x_k]||^2` with `v_{k-1}` the normalised product
//! `A_0[x_0] ... A_{k-1}[x_{k-1}]`; the whole batch advances by one GEMM
//! `(n x D_{k-1}) (D_{k-1} x d D_k)` per site. Cost `O(n N d D^2)`; no Markov
//! chain, so the samples are independent. The same `rng` state gives the same
//! samples.

use ndarray::{Array2, Array3, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use rayon::prelude::*;

use super::MpsBornMachine;
use crate::born::checks::{check_marginal_sites, draw, normalise_density, zero_state, Evidence};
use crate::error::Result;
use crate::linalg::gemm_unchecked;
use crate::mps::canonical::site_matrix;

fn row_norm_sqr(row: &[f64]) -> f64 {
    row.iter().map(|v| v * v).sum()
}

/// One zipper step for a batch: `v` (`n x D_{k-1}`, unit rows) times `A_k`, then
/// one site value per row and the new unit rows (`n x D_k`).
///
/// With `fixed = Some(s)` (an observed site) every row takes `s`. Otherwise row `i`
/// draws `s` with weight `w_is = (v_i A_k[s]) E (v_i A_k[s])^T`, where `E` is the
/// conditional right environment; with `E` the weights take one GEMM per value
/// `s`. Without `E` (the identity, by right-canonicity) `w_is = ||v_i A_k[s]||^2`
/// and `sum_s w_is = ||v_i||^2 = 1`, so only the products with `A_k[0..d-1]` are
/// formed for the whole batch, `w_{i,d-1} = ||v_i||^2 - sum_{s<d-1} w_is`, and
/// `v_i A_k[d-1]` only for the rows that drew `d-1` (for binary images, where
/// `d-1` is the rarer ink value, about half the flops of the full product).
fn zip_step<R: Rng + ?Sized>(
    v: &Array2<f64>,
    a: &Array3<f64>,
    env: Option<&Array2<f64>>,
    fixed: Option<usize>,
    rng: &mut R,
    out_values: &mut [u8],
) -> Result<Array2<f64>> {
    let (dl, d, dr) = a.dim();
    let n = v.nrows();
    let amat = site_matrix(a, dl, d * dr);
    // The values whose products are formed for every row.
    let formed = match (fixed, env) {
        (Some(_), _) | (None, Some(_)) => d,
        (None, None) => d - 1,
    };
    let mut m = Array2::zeros((n, formed * dr));
    gemm_unchecked(
        1.0,
        v.view(),
        amat.slice(ndarray::s![.., ..formed * dr]),
        false,
        m.view_mut(),
    );
    let weights = match (fixed, env) {
        (Some(_), _) => None,
        (None, None) => Some(Array2::from_shape_fn((n, d), |(i, s)| {
            let seg = |s: usize| {
                row_norm_sqr(
                    m.slice(ndarray::s![i, s * dr..(s + 1) * dr])
                        .as_slice()
                        .expect("a row segment of a standard-layout matrix"),
                )
            };
            if s + 1 < d {
                seg(s)
            } else {
                let others: f64 = (0..d - 1).map(seg).sum();
                let total = row_norm_sqr(v.row(i).as_slice().expect("standard layout"));
                (total - others).max(0.0)
            }
        })),
        (None, Some(e)) => {
            let mut w = Array2::zeros((n, d));
            let mut q = Array2::zeros((n, dr));
            for s in 0..d {
                let p_s = m.slice(ndarray::s![.., s * dr..(s + 1) * dr]);
                gemm_unchecked(1.0, p_s, e.view(), false, q.view_mut());
                for i in 0..n {
                    w[(i, s)] = q.row(i).dot(&p_s.row(i)).max(0.0);
                }
            }
            Some(w)
        }
    };
    let mut next = Array2::zeros((n, dr));
    let mut late = Vec::new();
    for (i, value) in out_values.iter_mut().enumerate().take(n) {
        let s = match (fixed, &weights) {
            (Some(s), _) => s,
            (None, Some(w)) => {
                draw(w.row(i).iter().copied(), rng.random::<f64>()).ok_or_else(zero_state)?
            }
            (None, None) => unreachable!("weights are computed whenever no value is fixed"),
        };
        *value = s as u8;
        if s < formed {
            let mut row = next.row_mut(i);
            row.assign(&m.slice(ndarray::s![i, s * dr..(s + 1) * dr]));
            normalise(row);
        } else {
            late.push(i);
        }
    }
    if !late.is_empty() {
        // Rows that drew the value not formed for the whole batch: one GEMM.
        let s = d - 1;
        let vg = v.select(ndarray::Axis(0), &late);
        let mut pg = Array2::zeros((late.len(), dr));
        gemm_unchecked(
            1.0,
            vg.view(),
            amat.slice(ndarray::s![.., s * dr..(s + 1) * dr]),
            false,
            pg.view_mut(),
        );
        for (row, &i) in pg.outer_iter().zip(&late) {
            let mut target = next.row_mut(i);
            target.assign(&row);
            normalise(target);
        }
    }
    Ok(next)
}

fn normalise(mut row: ndarray::ArrayViewMut1<'_, f64>) {
    let nrm = row.dot(&row).sqrt();
    if nrm > 0.0 {
        row.mapv_inplace(|b| b / nrm);
    }
}

/// Samples per independently seeded chunk of a batch (the unit of parallel work).
const SAMPLE_CHUNK: usize = 256;

/// The zipper over all sites for `rows` samples (see
/// [`MpsBornMachine::sample_conditional`]).
fn zip_chunk<R: Rng + ?Sized>(
    tensors: &[Array3<f64>],
    envs: &[Option<Array2<f64>>],
    observed: &[bool],
    x: &[u8],
    rows: usize,
    rng: &mut R,
) -> Result<Array2<u8>> {
    let mut out = Array2::<u8>::zeros((rows, tensors.len()));
    let mut v = Array2::ones((rows, 1));
    let mut col = vec![0u8; rows];
    for (k, a) in tensors.iter().enumerate() {
        let fixed = observed[k].then(|| usize::from(x[k]));
        v = zip_step(&v, a, envs[k + 1].as_ref(), fixed, rng, &mut col)?;
        out.column_mut(k)
            .assign(&ndarray::ArrayView1::from(&col[..]));
    }
    Ok(out)
}

impl MpsBornMachine {
    /// [`BornMachine::sample_given`](crate::born::BornMachine::sample_given): the
    /// zipper sampler of [`MpsBornMachine`] (see "Exact sampling" there).
    pub(crate) fn sample_given(
        &self,
        ev: &Evidence<'_>,
        n: usize,
        rng: &mut dyn RngCore,
    ) -> Result<Array2<u8>> {
        let nsites = self.num_sites();
        let (x, observed) = (ev.values(), ev.observed());
        let tensors = self.right_canonical()?;
        let last_obs = observed.iter().rposition(|&o| o);
        // envs[k] = E_k for k in 1..=last_obs (None: identity).
        let mut envs: Vec<Option<Array2<f64>>> = vec![None; nsites + 1];
        if let Some(last) = last_obs {
            let (_, _, dr) = tensors[last].dim();
            let mut e = Array2::<f64>::eye(dr);
            for k in (0..=last).rev() {
                let a = &tensors[k];
                let (dl, d, _) = a.dim();
                let mut next = Array2::<f64>::zeros((dl, dl));
                let values: Vec<usize> = if observed[k] {
                    vec![usize::from(x[k])]
                } else {
                    (0..d).collect()
                };
                for s in values {
                    let a_s = a.index_axis(ndarray::Axis(1), s);
                    let ae = a_s.dot(&e);
                    gemm_unchecked(1.0, ae.view(), a_s.t(), true, next.view_mut());
                }
                normalise_density(&mut next)?;
                envs[k] = Some(next.clone());
                e = next;
            }
        }
        // The result first, fallibly: a batch that cannot be held is an error before
        // any sampling work.
        let mut out = crate::data::try_zeros_u8(n, nsites, "n")?;
        // Independent chunks of the batch run in parallel, each single-threaded
        // (coarse-grained parallelism without per-GEMM synchronisation), each with
        // its own generator seeded from `rng`: the result depends only on `rng`.
        let chunks: Vec<(usize, u64)> = (0..n)
            .step_by(SAMPLE_CHUNK)
            .map(|start| (start, rng.random::<u64>()))
            .collect();
        let parts: Vec<Result<Array2<u8>>> = chunks
            .par_iter()
            .map(|&(start, seed)| {
                let rows = SAMPLE_CHUNK.min(n - start);
                let mut chunk_rng = StdRng::seed_from_u64(seed);
                crate::linalg::sequential(|| {
                    zip_chunk(&tensors, &envs, observed, x, rows, &mut chunk_rng)
                })
            })
            .collect();
        for (&(start, _), part) in chunks.iter().zip(parts) {
            let part = part?;
            out.slice_mut(ndarray::s![start..start + part.nrows(), ..])
                .assign(&part);
        }
        Ok(out)
    }

    /// The exact joint distribution of the sites `sites` (distinct, any order): an
    /// array of shape `[d; sites.len()]` whose entry `[s_0, s_1, ...]` is
    /// `p(x_{sites[0]} = s_0, x_{sites[1]} = s_1, ...)`, summing over all other sites.
    ///
    /// Computed by transfer matrices `rho <- sum_s A_k[s]^T rho A_k[s]` (free sites)
    /// and one branch per value at the chosen sites, up to the last chosen site,
    /// where right-canonicity closes the chain with a trace; normalised by the total.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a site `>= N`, a repeated site, or more than
    /// [`MAX_MARGINAL_ENTRIES`](crate::born::MAX_MARGINAL_ENTRIES) entries.
    pub fn marginal(&self, sites: &[usize]) -> Result<ArrayD<f64>> {
        let nsites = self.num_sites();
        let d = self.num_states;
        check_marginal_sites(sites, nsites, d)?;
        if sites.is_empty() {
            return Ok(ArrayD::from_elem(IxDyn(&[]), 1.0));
        }
        let tensors = self.right_canonical()?;
        let mut sorted: Vec<usize> = sites.to_vec();
        sorted.sort_unstable();
        let last = *sorted.last().expect("non-empty");
        let mut rhos: Vec<Array2<f64>> = vec![Array2::ones((1, 1))];
        for (k, a) in tensors.iter().enumerate().take(last + 1) {
            let chosen = sorted.binary_search(&k).is_ok();
            let transfer = |rho: &Array2<f64>, s: usize| {
                let a_s = a.index_axis(ndarray::Axis(1), s);
                a_s.t().dot(rho).dot(&a_s)
            };
            rhos = if chosen {
                rhos.iter()
                    .flat_map(|rho| (0..d).map(move |s| (rho, s)))
                    .map(|(rho, s)| transfer(rho, s))
                    .collect()
            } else {
                rhos.iter()
                    .map(|rho| {
                        let mut acc = transfer(rho, 0);
                        for s in 1..d {
                            acc += &transfer(rho, s);
                        }
                        acc
                    })
                    .collect()
            };
            let scale = rhos.iter().map(|r| r.diag().sum()).fold(0.0_f64, f64::max);
            if scale > 0.0 && scale.is_finite() {
                rhos.iter_mut().for_each(|r| r.mapv_inplace(|v| v / scale));
            }
        }
        let mut values: Vec<f64> = rhos.iter().map(|r| r.diag().sum().max(0.0)).collect();
        let total: f64 = values.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            return Err(zero_state());
        }
        values.iter_mut().for_each(|v| *v /= total);
        let arr =
            ArrayD::from_shape_vec(IxDyn(&vec![d; sites.len()]), values).expect("d^m entries");
        let perm: Vec<usize> = sites
            .iter()
            .map(|k| sorted.binary_search(k).expect("present"))
            .collect();
        Ok(arr
            .permuted_axes(IxDyn(&perm))
            .as_standard_layout()
            .into_owned())
    }
}
