//! Exact sampling and marginals of the TTN Born machine:
//! [`TtnBornMachine::sample`], [`TtnBornMachine::sample_conditional`],
//! [`TtnBornMachine::marginal`].
//!
//! Everything works on the root-canonical TTN: every node is an isometry from its
//! children to its parent, so a subtree with no fixed site, contracted with its
//! conjugate, is the identity on its parent leg.
//!
//! - A subtree's *density* `R_v` (on its parent leg) is the subtree contracted with
//!   its conjugate with the observed sites fixed and the others summed:
//!   `R_v[a,a'] = sum T[a,b,c] T[a',b',c'] R_left[b,b'] R_right[c,c']`; it is the
//!   identity for a subtree without observed sites, `e_s e_s^T` for an observed site
//!   and `I` for a free one.
//! - The sampler walks the tree depth first, left child first, carrying for every
//!   sample the *environment* `E_v` of the current node (the rest of the tree with
//!   the already drawn and the observed sites fixed, the others summed, on `v`'s
//!   parent leg). For the left child, `E_left = Phi(E_v)` with
//!   `Phi[(a,a'),(b,b')] = sum T[a,b,c] T[a',b',c'] R_right[c,c']` (one GEMM for the
//!   batch); for the right child the left subtree is complete, with message `m`, so
//!   `E_right = M^T E_v M`, `M[a,c] = sum_b T[a,b,c] m[b]`. At a site,
//!   `p(x_s = k | drawn, observed) = E_s[k,k] / tr E_s` exactly.
//!
//! Unconditional sampling ([`BornMachine::sample`](crate::born::BornMachine::sample),
//! the conditional sampler with nothing observed): `n` exact i.i.d. samples from `p(x)` (`n x N`), without a Markov chain.
//!
//! The sites are drawn in the depth-first order of the tree (left child first)
//! and every conditional `p(x_s | x_drawn)` is exact. With the root-canonical
//! TTN every subtree not yet visited is the identity on its parent leg; the
//! sampler carries each sample's environment `E_v` (the rest of the tree with
//! the drawn sites fixed, a `D x D` matrix on `v`'s parent leg) down the tree:
//! `E_left[b,b'] = sum T[a,b,c] T[a',b',c] E_v[a,a']` (the right subtree is still
//! free), `E_right = M^T E_v M` with `M[a,c] = sum_b T[a,b,c] m_left[b]` (the left
//! subtree is drawn, with message `m_left`), and at a site
//! `p(x_s = k | x_drawn) = E_s[k,k] / tr E_s`. Per node and batch: one
//! GEMM `(n x D^2) (D^2 x D^2)` for the left child, `n` products of `D x D`
//! matrices for the right one, one Khatri-Rao GEMM for the upward message. The
//! same `rng` state gives the same samples.

use ndarray::{Array2, Array3, ArrayD, ArrayView2, IxDyn};
use rand::{Rng, RngCore};

use super::TtnBornMachine;
use crate::born::checks::{check_marginal_sites, draw, normalise_density, zero_state, Evidence};
use crate::error::{Error, Result};
use crate::linalg::gemm_unchecked;
use crate::ttn::{from_leg_last, leg_last, Child, Ttn};

/// `t` with the symmetric matrix `m` applied on leg `leg`.
fn apply_on_leg(t: &Array3<f64>, m: &Array2<f64>, leg: usize) -> Array3<f64> {
    let tm = leg_last(t, leg);
    let mut out = Array2::zeros((tm.nrows(), m.ncols()));
    gemm_unchecked(1.0, tm.view(), m.view(), false, out.view_mut());
    from_leg_last(out, leg, t.dim())
}

/// `R[a,a'] = sum T[a,b,c] T[a',b',c'] R_l[b,b'] R_r[c,c']` (`None`: identity).
fn node_density(
    t: &Array3<f64>,
    rl: Option<&Array2<f64>>,
    rr: Option<&Array2<f64>>,
) -> Array2<f64> {
    let mut y = match rr {
        Some(m) => apply_on_leg(t, m, 2),
        None => t.clone(),
    };
    if let Some(m) = rl {
        y = apply_on_leg(&y, m, 1);
    }
    let (da, db, dc) = t.dim();
    let ym = ArrayView2::from_shape((da, db * dc), y.as_slice().expect("standard")).expect("sizes");
    let tm = ArrayView2::from_shape((da, db * dc), t.as_slice().expect("standard")).expect("sizes");
    let mut out = Array2::zeros((da, da));
    gemm_unchecked(1.0, ym, tm.t(), false, out.view_mut());
    out
}

/// Densities of every subtree for the given observed sites (`None`: the identity,
/// no observed site below), each normalised to unit trace, and `ln` of the total
/// weight `sum_{x consistent} |psi(x)|^2` (the product of all normalisations).
fn densities(
    ttn: &Ttn<f64>,
    observed: &[bool],
    x: &[u8],
) -> Result<(Vec<Option<Array2<f64>>>, f64)> {
    let tree = ttn.tree();
    let d = ttn.phys_dim();
    let mut dens: Vec<Option<Array2<f64>>> = vec![None; tree.num_nodes()];
    let mut log_total = 0.0;
    for &v in tree.post_order() {
        let [l, r] = tree.children(v);
        let (rl, rr) = (
            child_density(l, &dens, observed, x, d),
            child_density(r, &dens, observed, x, d),
        );
        if rl.is_none() && rr.is_none() {
            continue;
        }
        let mut m = node_density(&ttn.tensors[v], rl.as_ref(), rr.as_ref());
        let tr = normalise_density(&mut m)?;
        log_total += tr.ln();
        dens[v] = Some(m);
    }
    // The root's parent leg has dimension 1: its (normalised) density is [1] and
    // the weight is the product of the traces. Without observed sites it is Z = 1.
    Ok((dens, log_total))
}

fn child_density(
    c: Child,
    dens: &[Option<Array2<f64>>],
    observed: &[bool],
    x: &[u8],
    d: usize,
) -> Option<Array2<f64>> {
    match c {
        Child::Node(u) => dens[u].clone(),
        Child::Site(s) if observed[s] => {
            let mut m = Array2::zeros((d, d));
            m[(usize::from(x[s]), usize::from(x[s]))] = 1.0;
            Some(m)
        }
        Child::Site(_) => None,
    }
}

/// Divides every row (a flattened `D x D` matrix) by its trace.
fn normalise_traces(e: &mut Array2<f64>, dim: usize) {
    for mut row in e.outer_iter_mut() {
        let tr: f64 = (0..dim).map(|k| row[k * dim + k]).sum();
        if tr > 0.0 && tr.is_finite() {
            row.mapv_inplace(|v| v / tr);
        } else {
            row.fill(0.0);
        }
    }
}

struct Sampler<'a, R: Rng + ?Sized> {
    ttn: &'a Ttn<f64>,
    dens: Vec<Option<Array2<f64>>>,
    observed: &'a [bool],
    x: &'a [u8],
    out: Array2<u8>,
    rng: &'a mut R,
}

impl<R: Rng + ?Sized> Sampler<'_, R> {
    /// Samples the sites below node `v` given the environments `env` (`n x D_a^2`,
    /// rows of unit trace); returns the normalised upward messages (`n x D_a`).
    fn visit(&mut self, v: usize, env: &Array2<f64>) -> Result<Array2<f64>> {
        let t = &self.ttn.tensors[v];
        let (da, db, dc) = t.dim();
        let n = env.nrows();
        let [l, r] = self.ttn.tree().children(v);
        let d = self.ttn.phys_dim();
        let rr = child_density(r, &self.dens, self.observed, self.x, d);
        // Phi[(a,a'),(b,b')] = sum_{c,c'} T[a,b,c] T[a',b',c'] R_r[c,c'].
        let y = match &rr {
            Some(m) => apply_on_leg(t, m, 2),
            None => t.clone(),
        };
        let ym =
            ArrayView2::from_shape((da * db, dc), y.as_slice().expect("standard")).expect("sizes");
        let tm =
            ArrayView2::from_shape((da * db, dc), t.as_slice().expect("standard")).expect("sizes");
        let mut g = Array2::zeros((da * db, da * db));
        gemm_unchecked(1.0, ym, tm.t(), false, g.view_mut());
        let phi = g
            .into_shape_with_order((da, db, da, db))
            .expect("sizes")
            .permuted_axes([0, 2, 1, 3])
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((da * da, db * db))
            .expect("sizes");
        let mut el = Array2::zeros((n, db * db));
        gemm_unchecked(1.0, env.view(), phi.view(), false, el.view_mut());
        normalise_traces(&mut el, db);
        let ml = self.child(l, &el)?;
        // M_i[a,c] = sum_b T[a,b,c] m_i[b]; E_right_i = M_i^T E_i M_i.
        let tb = leg_last(t, 1); // (a c) x b
        let mut mflat = Array2::zeros((n, da * dc));
        gemm_unchecked(1.0, ml.view(), tb.t(), false, mflat.view_mut());
        let mut er = Array2::zeros((n, dc * dc));
        for i in 0..n {
            let m = ArrayView2::from_shape((da, dc), mflat.row(i).to_slice().expect("row"))
                .expect("sizes");
            let e = ArrayView2::from_shape((da, da), env.row(i).to_slice().expect("row"))
                .expect("sizes");
            let em = e.dot(&m);
            let res = m.t().dot(&em);
            er.row_mut(i).assign(&ndarray::ArrayView1::from(
                res.as_standard_layout().as_slice().expect("std"),
            ));
        }
        normalise_traces(&mut er, dc);
        let mr = self.child(r, &er)?;
        // Upward message m[a] = sum T[a,b,c] ml[b] mr[c], rows normalised.
        let kr = super::messages::khatri_rao(ml.view(), mr.view());
        let tup =
            ArrayView2::from_shape((da, db * dc), t.as_slice().expect("standard")).expect("sizes");
        let mut up = Array2::zeros((n, da));
        gemm_unchecked(1.0, kr.view(), tup.t(), false, up.view_mut());
        for mut row in up.outer_iter_mut() {
            let nrm = row.dot(&row).sqrt();
            if nrm > 0.0 {
                row.mapv_inplace(|v| v / nrm);
            }
        }
        Ok(up)
    }

    fn child(&mut self, c: Child, env: &Array2<f64>) -> Result<Array2<f64>> {
        match c {
            Child::Node(u) => self.visit(u, env),
            Child::Site(s) => {
                let d = self.ttn.phys_dim();
                let n = env.nrows();
                let mut m = Array2::zeros((n, d));
                for i in 0..n {
                    let k = if self.observed[s] {
                        usize::from(self.x[s])
                    } else {
                        let row = env.row(i);
                        draw((0..d).map(|k| row[k * d + k]), self.rng.random::<f64>())
                            .ok_or_else(zero_state)?
                    };
                    m[(i, k)] = 1.0;
                    self.out[(i, s)] = k as u8;
                }
                Ok(m)
            }
        }
    }
}

impl TtnBornMachine {
    /// [`BornMachine::sample_given`](crate::born::BornMachine::sample_given) for the
    /// tree. The observed sites enter through the subtree densities
    /// `R_v[a,a'] = sum T[a,b,c] T[a',b',c'] R_left[b,b'] R_right[c,c']` (the
    /// identity without observed sites below `v`, `e_k e_k^T` at an observed site),
    /// computed once per call; then the unconditional sampler (module documentation)
    /// runs with `R_right` in place of the identity in `E_left`, and the observed
    /// sites fixed instead of drawn.
    pub(crate) fn sample_given(
        &self,
        ev: &Evidence<'_>,
        n: usize,
        rng: &mut dyn RngCore,
    ) -> Result<Array2<u8>> {
        let nsites = self.num_sites();
        let (x, observed) = (ev.values(), ev.observed());
        let ttn = self.root_canonical()?;
        let (dens, _) = densities(&ttn, observed, x)?;
        let mut s = Sampler {
            ttn: &ttn,
            dens,
            observed,
            x,
            out: crate::data::try_zeros_u8(n, nsites, "n")?,
            rng,
        };
        if n > 0 {
            s.visit(ttn.tree().root(), &Array2::ones((n, 1)))?;
        }
        Ok(s.out)
    }

    /// The exact joint distribution of the sites `sites` (distinct, any order): an
    /// array of shape `[d; sites.len()]` whose entry `[s_0, s_1, ...]` is
    /// `p(x_{sites[0]} = s_0, ...)`, summing over all other sites.
    ///
    /// For every assignment of the chosen sites, the subtree densities with those
    /// sites fixed give the total weight; only the nodes above a chosen site cost
    /// anything (`O(D^4)` each). Normalised by the sum.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a site `>= N`, a repeated site, or more than
    /// [`MAX_MARGINAL_ENTRIES`](crate::born::MAX_MARGINAL_ENTRIES) entries.
    pub fn marginal(&self, sites: &[usize]) -> Result<ArrayD<f64>> {
        let nsites = self.num_sites();
        let d = self.num_states();
        let entries = check_marginal_sites(sites, nsites, d)?;
        if sites.is_empty() {
            return Ok(ArrayD::from_elem(IxDyn(&[]), 1.0));
        }
        let ttn = self.root_canonical()?;
        let mut observed = vec![false; nsites];
        for &k in sites {
            observed[k] = true;
        }
        let mut x = vec![0u8; nsites];
        let mut logs = Vec::with_capacity(entries);
        for e in 0..entries {
            let mut r = e;
            for &k in sites.iter().rev() {
                x[k] = (r % d) as u8;
                r /= d;
            }
            logs.push(match densities(&ttn, &observed, &x) {
                Ok((_, l)) => l,
                Err(Error::InvalidArgument { .. }) => f64::NEG_INFINITY,
                Err(e) => return Err(e),
            });
        }
        let max = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if max == f64::NEG_INFINITY {
            return Err(zero_state());
        }
        let mut values: Vec<f64> = logs.iter().map(|l| (l - max).exp()).collect();
        let total: f64 = values.iter().sum();
        values.iter_mut().for_each(|v| *v /= total);
        Ok(ArrayD::from_shape_vec(IxDyn(&vec![d; sites.len()]), values).expect("d^m entries"))
    }
}
