//! Learning: two-node gradient sweeps along the tree edges
//! ([`BornMachine::fit`](crate::born::BornMachine::fit)).
//!
//! # Messages
//! For every node `v` the sweep keeps the upward message of its subtree and the
//! downward message of the rest of the tree (both on `v`'s parent leg, `n x D`
//! unit rows plus log scales), recomputed lazily: changing node `u` invalidates the
//! upward messages of `u` and its ancestors and the downward messages of every
//! node that is not an ancestor of `u`. Along the depth-first tour each edge update
//! then recomputes O(1) messages. Memory: `2 n sum_v D_v * 8` bytes.

use std::time::Instant;

use ndarray::{Array2, Array4, ArrayView2, Axis};
use rand::rngs::StdRng;

use super::messages::{khatri_rao, node_message, Msgs};
use super::TtnBornMachine;
use crate::born::checks::check_samples;
use crate::born::observer::{HalfSweepReport, SweepDirection};
use crate::born::options::BornOptions;
use crate::born::scratch;
use crate::born::step::{gradient_step, start_fit};
use crate::born::validation::{BestModel, Validation};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::fit::{FitControl, FitObserver};
use crate::linalg::{gemm_unchecked, matmul, svd_truncated_randomized, TruncatedSvd};
use crate::ttn::{from_leg_last, leg_last, Child, Tree, Ttn};

/// Lazily recomputed per-sample messages of a TTN on a data set.
struct MsgCache<'a> {
    x: ArrayView2<'a, u8>,
    sites: Vec<Msgs>,
    up: Vec<Option<Msgs>>,
    down: Vec<Option<Msgs>>,
}

impl<'a> MsgCache<'a> {
    fn new(ttn: &Ttn<f64>, x: ArrayView2<'a, u8>) -> Self {
        let d = ttn.phys_dim();
        let nn = ttn.tree().num_nodes();
        MsgCache {
            x,
            sites: (0..x.ncols()).map(|s| Msgs::site(x.column(s), d)).collect(),
            up: vec![None; nn],
            down: vec![None; nn],
        }
    }

    fn ensure_up(&mut self, ttn: &Ttn<f64>, v: usize) {
        if self.up[v].is_some() {
            return;
        }
        let [l, r] = ttn.tree().children(v);
        for c in [l, r] {
            if let Child::Node(u) = c {
                self.ensure_up(ttn, u);
            }
        }
        let m = node_message(&ttn.tensors[v], 0, self.child(l), self.child(r));
        self.up[v] = Some(m);
    }

    fn ensure_down(&mut self, ttn: &Ttn<f64>, v: usize) {
        if self.down[v].is_some() {
            return;
        }
        let m = match ttn.tree().parent(v) {
            None => Msgs::boundary(self.x.nrows()),
            Some((p, side)) => {
                self.ensure_down(ttn, p);
                let sib = ttn.tree().children(p)[1 - side];
                if let Child::Node(u) = sib {
                    self.ensure_up(ttn, u);
                }
                let dp = self.down[p].as_ref().expect("ensured");
                node_message(&ttn.tensors[p], 1 + side, dp, self.child(sib))
            }
        };
        self.down[v] = Some(m);
    }

    /// The message of a child (ensured before).
    fn child(&self, c: Child) -> &Msgs {
        match c {
            Child::Site(s) => &self.sites[s],
            Child::Node(u) => self.up[u].as_ref().expect("ensured"),
        }
    }

    /// Bytes held by the stored messages.
    fn bytes(&self) -> usize {
        let b = |m: &Msgs| m.vecs.len() * 8 + m.logs.len() * 8;
        self.sites.iter().map(b).sum::<usize>()
            + self.up.iter().flatten().map(b).sum::<usize>()
            + self.down.iter().flatten().map(b).sum::<usize>()
    }

    /// The tensors of `p` and of its child changed.
    fn invalidate_edge(&mut self, tree: &Tree, p: usize, c: usize) {
        let mut keep_down = vec![false; tree.num_nodes()];
        let mut w = Some(p);
        // Dropped messages return their buffers to the pool.
        let discard = |m: &mut Option<Msgs>| {
            if let Some(m) = m.take() {
                scratch::recycle_matrix(m.vecs);
            }
        };
        while let Some(v) = w {
            keep_down[v] = true;
            discard(&mut self.up[v]);
            w = tree.parent(v).map(|x| x.0);
        }
        discard(&mut self.up[c]);
        for (v, keep) in keep_down.into_iter().enumerate() {
            if !keep {
                discard(&mut self.down[v]);
            }
        }
    }
}

/// The merged tensor of edge `(p, c)` (`c` the child on `side`) as a
/// `(D_p_parent D_p_other) x (D_c_left D_c_right)` matrix.
fn merged(ttn: &Ttn<f64>, p: usize, c: usize, side: usize) -> Array2<f64> {
    let pm = leg_last(&ttn.tensors[p], 1 + side);
    let (de, dl, dr) = ttn.tensors[c].dim();
    let cm = ArrayView2::from_shape((de, dl * dr), ttn.tensors[c].as_slice().expect("standard"))
        .expect("sizes");
    let mut b = Array2::zeros((pm.nrows(), dl * dr));
    gemm_unchecked(1.0, pm.view(), cm, false, b.view_mut());
    b
}

/// The NLL gradient with respect to the merged tensor `b` (centre on the edge,
/// `Z = ||b||^2`):
///
/// ```text
/// dL/dB = 2 B / Z - (2/|batch|) sum_x K1_x^T K2_x / psi(x),   psi(x) = K1_x B K2_x^T,
/// ```
///
/// `K1 = KR(down_p, m_other)`, `K2 = KR(m_c_left, m_c_right)` (unit rows; their log
/// scales cancel). Two GEMMs for the batch. Samples with `psi(x) = 0` are skipped.
///
/// `psi` may be given (for all samples, e.g. from the factored tensor by
/// [`factored_psi`]); otherwise it takes one more GEMM `K1 B`.
fn edge_gradient(
    b: &Array2<f64>,
    k1: &Array2<f64>,
    k2: &Array2<f64>,
    batch: Option<&[usize]>,
    psi: Option<&[f64]>,
) -> Array2<f64> {
    let z: f64 = b.iter().map(|v| v * v).sum();
    // K1 is only read (a view of the full batch); K2 is copied once, scaled by 1/psi.
    let k1_sel;
    let (k1b, mut k2b) = match batch {
        Some(idx) => {
            k1_sel = k1.select(Axis(0), idx);
            (k1_sel.view(), k2.select(Axis(0), idx))
        }
        None => (k1.view(), scratch::copy_of(k2)),
    };
    let m = k1b.nrows();
    let psis: Vec<f64> = match psi {
        Some(all) => match batch {
            Some(idx) => idx.iter().map(|&i| all[i]).collect(),
            None => all.to_vec(),
        },
        None => {
            let mut t = scratch::zeros(m, b.ncols());
            gemm_unchecked(1.0, k1b, b.view(), false, t.view_mut());
            let psis = k2b
                .outer_iter()
                .zip(t.outer_iter())
                .map(|(row, trow)| row.dot(&trow))
                .collect();
            scratch::recycle_matrix(t);
            psis
        }
    };
    for (mut row, &psi) in k2b.outer_iter_mut().zip(&psis) {
        let inv = 1.0 / psi;
        if psi != 0.0 && psi.is_finite() && inv.is_finite() {
            row.mapv_inplace(|v| v * inv);
        } else {
            row.fill(0.0);
        }
    }
    let mut g = b.mapv(|v| 2.0 * v / z);
    gemm_unchecked(-2.0 / m as f64, k1b.t(), k2b.view(), true, g.view_mut());
    scratch::recycle_matrix(k2b);
    g
}

/// `psi(x) = K1_x B K2_x^T` for a merged tensor given as `B = F1 F2` (`F1` rows x
/// `D`, `F2` `D` x columns): `rowdot(K1 F1, K2 F2^T)`, `O(n D^3)` instead of the
/// `O(n D^4)` of `K1 B`.
fn factored_psi(
    k1: &Array2<f64>,
    f1: ArrayView2<'_, f64>,
    k2: &Array2<f64>,
    f2: ArrayView2<'_, f64>,
) -> Vec<f64> {
    let n = k1.nrows();
    let mut a = scratch::zeros(n, f1.ncols());
    gemm_unchecked(1.0, k1.view(), f1, false, a.view_mut());
    let mut c = scratch::zeros(n, f2.nrows());
    gemm_unchecked(1.0, k2.view(), f2.t(), false, c.view_mut());
    let psi = a
        .outer_iter()
        .zip(c.outer_iter())
        .map(|(x, y)| x.dot(&y))
        .collect();
    scratch::recycle_matrix(a);
    scratch::recycle_matrix(c);
    psi
}

/// The edge `(parent, child, side)` crossed by a move of the centre `from -> to`.
fn edge_of(tree: &Tree, from: usize, to: usize) -> (usize, usize, usize) {
    match tree.parent(to) {
        Some((p, side)) if p == from => (from, to, side),
        _ => {
            let (p, side) = tree.parent(from).expect("neighbours");
            debug_assert_eq!(p, to);
            (to, from, side)
        }
    }
}

/// Depth-first tour below `v` (children in the given order), as centre moves.
fn tour(tree: &Tree, v: usize, left_first: bool, moves: &mut Vec<(usize, usize)>) {
    let order = if left_first { [0, 1] } else { [1, 0] };
    for side in order {
        if let Child::Node(u) = tree.children(v)[side] {
            moves.push((v, u));
            tour(tree, u, left_first, moves);
            moves.push((u, v));
        }
    }
}

/// The centre moves of a half-sweep: the tour of the root's left subtree (left
/// children first) or of its right subtree (right children first).
fn half_sweep_moves(tree: &Tree, direction: SweepDirection) -> Vec<(usize, usize)> {
    let root = tree.root();
    let (side, left_first) = match direction {
        SweepDirection::LeftToRight => (0, true),
        SweepDirection::RightToLeft => (1, false),
    };
    let mut moves = Vec::new();
    if let Child::Node(u) = tree.children(root)[side] {
        moves.push((root, u));
        tour(tree, u, left_first, &mut moves);
        moves.push((u, root));
    }
    moves
}

impl TtnBornMachine {
    /// Trains on `train` by two-node gradient sweeps along the tree edges, calling
    /// `observer` after every half-sweep; it may stop training early.
    ///
    /// The centre walks the tree depth first. A sweep is two half-sweeps:
    /// [`SweepDirection::LeftToRight`] tours the root's left subtree (left children
    /// first), [`SweepDirection::RightToLeft`] the root's right subtree (right
    /// children first); each starts and ends at the root and crosses every edge of
    /// its subtree twice (down and up), so a sweep visits every edge twice, as an MPS
    /// sweep visits every bond twice. Each crossing of an edge `(p, c)` (`c` a child
    /// of `p`) is one two-node update:
    ///
    /// 1. merge `B = T_p T_c` over the edge, a `(D_a D_o) x (D_l D_r)` matrix (`a` the
    ///    parent leg of `p`, `o` its other child, `l, r` the children of `c`); the
    ///    centre is on the edge, so `Z = ||B||^2`;
    /// 2. `steps_per_bond` times: `B <- B - eta dL/dB` on a batch (all samples or
    ///    `batch_size` drawn without replacement) with
    ///    `dL/dB = 2B/Z - (2/|T|) sum_x K1_x^T K2_x / psi(x)`, where `K1 =
    ///    KR(down_p, m_o)` and `K2 = KR(m_l, m_r)` are the row-wise Kronecker
    ///    products of the per-sample messages on the four outer legs (two GEMMs for
    ///    the batch); then `B <- B / ||B||`, with the step shortened to length 1 if
    ///    `eta ||dL/dB|| > 1` (as in the MPS);
    /// 3. split `B` with an SVD truncated by `options.truncation` (randomised range
    ///    finder for large merged tensors, see below), `S` going to the node the
    ///    centre moves to; but only if the split lowers the training NLL of all
    ///    samples (exact, from the factors in `O(n D^3)`): otherwise the update
    ///    `B - B_0` is halved up to 3 times and, if no split improves, the
    ///    unchanged `B_0` is split. The gradient steps ignore the rank bound; on
    ///    the `D^2 x D^2` merged tensors of a TTN trained on many samples their
    ///    truncation to `max_bond` can discard 15-30% of the weight and make the
    ///    model worse than no step (the training NLL then rose sweep after sweep);
    ///    with the check every update keeps or lowers it.
    ///
    /// Large splits (`D^2 x D^2` with `D^2` well above `max_bond`) use a randomised
    /// truncated SVD (oversampling `max(8, max_bond/2)`, two power iterations,
    /// seeded from `options.seed`): the kept singular values follow the same
    /// truncation rule and the reported discarded weight is exact for the factors
    /// kept; the optimal rank-`max_bond` approximation is found up to the accuracy
    /// of the range finder.
    ///
    /// After each half-sweep the centre is at the root and the reported training NLL
    /// is exact. Samples with `psi(x) = 0` are skipped in the gradient.
    ///
    /// # Memory
    /// Every node's upward and downward per-sample messages are kept:
    /// `2 n_samples sum_v D_v * 8` bytes (most nodes sit near the leaves, where
    /// `D_v <= d^k` is small); `options.checkpoint_every` is not used by the TTN.
    ///
    /// With a validation set ([`Validation`]), early stopping: after every
    /// half-sweep the validation NLL is computed and the
    /// node tensors of the best model so far are copied; training stops after
    /// `patience` half-sweeps without a new best, and the best model is put back
    /// (centre at the root, as at the end of every fit). With `None`,
    /// every sweep of `options.sweeps` runs (unless the observer stops it). [`BornMachine::fit_with`](crate::born::BornMachine::fit_with)
    /// and `fit` call this with `None`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for invalid options, an empty data set, wrong
    /// number of sites, or a value `>= d` (naming sample and site), before any work;
    /// linear-algebra failures and [`Error::NonFinite`] (a divergent learning rate)
    /// during training.
    /// Also [`Error::InvalidArgument`] naming
    /// `validation` (sample and site) for a validation set of another number of
    /// sites or a value `>= d`, or naming `patience` for a patience of 0.
    pub fn fit_validated_with<O: FitObserver<HalfSweepReport, Self> + ?Sized>(
        &mut self,
        train: &Dataset,
        validation: Option<Validation<'_>>,
        observer: &mut O,
    ) -> Result<Vec<HalfSweepReport>> {
        let opts = self.options;
        let mut rng = start_fit(
            &opts,
            train,
            validation,
            self.num_sites(),
            self.num_states(),
        )?;
        // Large per-edge buffers are reused across the fit and freed at its end.
        let _pool = scratch::ReleaseOnDrop;
        let x = train.samples();
        let n = x.nrows();
        let root = self.tree().root();
        self.ttn.move_center(root)?;
        self.ttn.log_scale = 0.0;
        let tree = self.tree().clone();
        let mut cache = MsgCache::new(&self.ttn, x);
        let mut reports = Vec::new();
        let mut best = BestModel::new(validation);
        let moves = [SweepDirection::LeftToRight, SweepDirection::RightToLeft]
            .map(|direction| half_sweep_moves(&tree, direction));
        let total = opts.sweeps as u64 * (moves[0].len() + moves[1].len()) as u64;
        let mut done = 0u64;
        'outer: for sweep in 1..=opts.sweeps {
            for (direction, moves) in [SweepDirection::LeftToRight, SweepDirection::RightToLeft]
                .into_iter()
                .zip(&moves)
            {
                let start = Instant::now();
                let mut trunc_err: f64 = 0.0;
                let mut peak_bytes = cache.bytes();
                for &(from, to) in moves {
                    let (p, c, side) = edge_of(&tree, from, to);
                    let err = if p == root && root_bond(&tree).is_some() {
                        self.update_root_bond(&mut cache, to, &mut rng)?
                    } else {
                        self.update_edge(&mut cache, p, c, side, to == c, &mut rng)?
                    };
                    trunc_err = trunc_err.max(err);
                    peak_bytes = peak_bytes.max(cache.bytes());
                    done += 1;
                    observer.on_progress(done, total);
                }
                cache.ensure_up(&self.ttn, root);
                let m = cache.up[root].as_ref().expect("ensured");
                let lz = self.log_z();
                let sum: f64 = m
                    .logs
                    .iter()
                    .zip(m.vecs.column(0))
                    .map(|(&l, &v)| 2.0 * (l + v.abs().ln()) - lz)
                    .sum();
                let mut report = HalfSweepReport {
                    sweep,
                    direction,
                    train_nll: -sum / n as f64,
                    max_bond: self.max_bond(),
                    truncation_error: trunc_err,
                    seconds: start.elapsed().as_secs_f64(),
                    env_bytes: peak_bytes,
                    valid_nll: None,
                    best_half_sweep: None,
                };
                let patience_exhausted = best.after_half_sweep(
                    &mut report,
                    |v| self.log_probs_unchecked(v.samples()),
                    || self.ttn.clone(),
                );
                reports.push(report);
                if observer.on_report(&report, self) == FitControl::Stop || patience_exhausted {
                    break 'outer;
                }
            }
        }
        if let Some(ttn) = best.into_best() {
            self.ttn = ttn;
        }
        self.ttn.move_center(root)?;
        self.ttn.log_scale = 0.0;
        Ok(reports)
    }

    /// One two-node update on edge `(p, c)`; the centre moves to `c` if
    /// `to_child`, else to `p`. Returns the discarded weight.
    fn update_edge(
        &mut self,
        cache: &mut MsgCache<'_>,
        p: usize,
        c: usize,
        side: usize,
        to_child: bool,
        rng: &mut StdRng,
    ) -> Result<f64> {
        let (k1, k2) = edge_inputs(&self.ttn, cache, p, c, side);
        let mut b = merged(&self.ttn, p, c, side);
        let psi0 = edge_psi(&self.ttn, &k1, &k2, p, c, side);
        let opts = self.options;
        let b0 = b.clone();
        let f0 = local_nll(&psi0, &b0);
        descend(&mut b, &k1, &k2, psi0, &opts, rng, || {
            format!("edge ({p}, {c})")
        })?;
        let t = split_improving(&b0, &b, f0, &k1, &k2, &opts, rng)?;
        let (u, s, vh, err) = (t.u, t.s, t.vh, t.truncation_error);
        let k = s.len();
        let snorm = s.iter().map(|v| v * v).sum::<f64>().sqrt();
        let s = s.mapv(|v| v / snorm);
        let (_, dl, dr) = self.ttn.tensors[c].dim();
        let pdims = self.ttn.tensors[p].dim();
        let (pu, cv) = if to_child {
            let mut sv = vh;
            for (mut row, &x) in sv.axis_iter_mut(Axis(0)).zip(s.iter()) {
                row.mapv_inplace(|v| v * x);
            }
            (u, sv)
        } else {
            let mut us = u;
            for (mut col, &x) in us.axis_iter_mut(Axis(1)).zip(s.iter()) {
                col.mapv_inplace(|v| v * x);
            }
            (us, vh)
        };
        self.ttn.tensors[p] = from_leg_last(pu, 1 + side, pdims);
        self.ttn.tensors[c] = cv
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((k, dl, dr))
            .expect("sizes");
        self.ttn.center = Some(if to_child { c } else { p });
        cache.invalidate_edge(self.tree(), p, c);
        scratch::recycle_matrix(k1);
        scratch::recycle_matrix(k2);
        Ok(err)
    }

    /// The update of the root bond (both root children nodes `L`, `R`): merge
    /// `B[(l1 l2), (r1 r2)] = sum_{b,c} T_L[b,l1,l2] T_root[0,b,c] T_R[c,r1,r2]`, the
    /// gradient steps of [`TtnBornMachine::fit_validated_with`] with `K1 = KR(m_l1, m_l2)`,
    /// `K2 = KR(m_r1, m_r2)`, and the truncated split `B = U S V^T`: `T_L = U`,
    /// `T_R = V^T` (isometries), the root `diag(S)` (centre `to` = root) or the
    /// identity with `S` absorbed by `to` (`L` or `R`).
    fn update_root_bond(
        &mut self,
        cache: &mut MsgCache<'_>,
        to: usize,
        rng: &mut StdRng,
    ) -> Result<f64> {
        let root = self.tree().root();
        let (l, r) = root_bond(self.tree()).expect("checked by the caller");
        let (k1, k2) = root_bond_inputs(&self.ttn, cache);
        let (f1, f2) = root_factors(&self.ttn);
        let mut b = matmul(f1.view(), f2)?;
        let psi0 = factored_psi(&k1, f1.view(), &k2, f2);
        let opts = self.options;
        let b0 = b.clone();
        let f0 = local_nll(&psi0, &b0);
        descend(&mut b, &k1, &k2, psi0, &opts, rng, || {
            "the root bond".to_string()
        })?;
        let t = split_improving(&b0, &b, f0, &k1, &k2, &opts, rng)?;
        let (mut u, s, mut vh, err) = (t.u, t.s, t.vh, t.truncation_error);
        let k = s.len();
        let snorm = s.iter().map(|v| v * v).sum::<f64>().sqrt();
        let s = s.mapv(|v| v / snorm);
        let mut root_t = ndarray::Array3::<f64>::zeros((1, k, k));
        if to == root {
            for i in 0..k {
                root_t[(0, i, i)] = s[i];
            }
        } else {
            for i in 0..k {
                root_t[(0, i, i)] = 1.0;
            }
            if to == l {
                for (mut col, &x) in u.axis_iter_mut(Axis(1)).zip(s.iter()) {
                    col.mapv_inplace(|v| v * x);
                }
            } else {
                for (mut row, &x) in vh.axis_iter_mut(Axis(0)).zip(s.iter()) {
                    row.mapv_inplace(|v| v * x);
                }
            }
        }
        let ldims = self.ttn.tensors[l].dim();
        let (_, r1, r2) = self.ttn.tensors[r].dim();
        self.ttn.tensors[l] = from_leg_last(u, 0, ldims);
        self.ttn.tensors[r] = vh
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((k, r1, r2))
            .expect("sizes");
        self.ttn.tensors[root] = root_t;
        self.ttn.center = Some(to);
        cache.invalidate_edge(self.tree(), root, l);
        cache.invalidate_edge(self.tree(), root, r);
        scratch::recycle_matrix(k1);
        scratch::recycle_matrix(k2);
        Ok(err)
    }

    /// Test hook: for a tree whose root has two node children `L`, `R`, moves the
    /// centre to the root and returns the merged root bond `B[l1, l2, r1, r2] =
    /// sum T_L[b,l1,l2] T_root[0,b,c] T_R[c,r1,r2]` and the full-batch NLL gradient
    /// on `data` (as used by training on the root bond).
    #[doc(hidden)]
    pub fn root_bond_gradient(&mut self, data: &Dataset) -> Result<(Array4<f64>, Array4<f64>)> {
        check_samples(data.samples(), self.num_sites(), self.num_states(), "data")?;
        let Some((l, r)) = root_bond(self.tree()) else {
            return Err(Error::invalid_argument(
                "tree",
                "the root does not have two node children",
            ));
        };
        self.ttn.move_center(self.tree().root())?;
        let mut cache = MsgCache::new(&self.ttn, data.samples());
        let (k1, k2) = root_bond_inputs(&self.ttn, &mut cache);
        let (f1, f2) = root_factors(&self.ttn);
        let b = matmul(f1.view(), f2)?;
        let psi = factored_psi(&k1, f1.view(), &k2, f2);
        let g = edge_gradient(&b, &k1, &k2, None, Some(&psi));
        let (_, l1, l2) = self.ttn.tensors[l].dim();
        let (_, r1, r2) = self.ttn.tensors[r].dim();
        let shape = (l1, l2, r1, r2);
        Ok((
            b.into_shape_with_order(shape).expect("sizes"),
            g.into_shape_with_order(shape).expect("sizes"),
        ))
    }

    /// Test hook: moves the centre to the parent `p` of node `c` and returns the
    /// merged tensor `B[a, o, l, r]` of the edge `(p, c)` (`a` the parent leg of
    /// `p`, `o` its other child, `l, r` the children of `c`) and the full-batch NLL
    /// gradient `dL/dB` on `data` (the formula of [`TtnBornMachine::fit_validated_with`]).
    #[doc(hidden)]
    pub fn edge_gradient(
        &mut self,
        data: &Dataset,
        c: usize,
    ) -> Result<(Array4<f64>, Array4<f64>)> {
        check_samples(data.samples(), self.num_sites(), self.num_states(), "data")?;
        let (p, side) = match (c < self.tree().num_nodes()).then(|| self.tree().parent(c)) {
            Some(Some(ps)) => ps,
            _ => {
                return Err(Error::invalid_argument(
                    "c",
                    format!("node {c} does not exist or is the root"),
                ))
            }
        };
        self.ttn.move_center(p)?;
        let mut cache = MsgCache::new(&self.ttn, data.samples());
        let (k1, k2) = edge_inputs(&self.ttn, &mut cache, p, c, side);
        let b = merged(&self.ttn, p, c, side);
        let psi = edge_psi(&self.ttn, &k1, &k2, p, c, side);
        let g = edge_gradient(&b, &k1, &k2, None, Some(&psi));
        let (da, _, _) = self.ttn.tensors[p].dim();
        let (_, dl, dr) = self.ttn.tensors[c].dim();
        let shape = (da, b.nrows() / da, dl, dr);
        Ok((
            b.into_shape_with_order(shape).expect("sizes"),
            g.into_shape_with_order(shape).expect("sizes"),
        ))
    }
}

/// Halvings of the update `B1 - B0` tried by [`split_improving`] before the
/// unchanged `B0` is split instead.
const MAX_HALVINGS: usize = 3;

/// The training NLL of the samples as a function of the merged tensor alone (the
/// messages' log scales do not depend on it and are left out):
/// `f(B) = ln ||B||^2 - (2/n) sum_x ln |psi_B(x)|`; `+inf` if some `psi_B(x) = 0`.
fn local_nll_of(psi: &[f64], z: f64) -> f64 {
    let n = psi.len().max(1) as f64;
    z.ln() - 2.0 * psi.iter().map(|p| p.abs().ln()).sum::<f64>() / n
}

/// [`local_nll_of`] for the dense merged tensor `b` with amplitudes `psi`.
fn local_nll(psi: &[f64], b: &Array2<f64>) -> f64 {
    local_nll_of(psi, b.iter().map(|v| v * v).sum())
}

/// The truncated split of the updated merged tensor `b1` if it lowers the training
/// NLL, else of `B0 + t (B1 - B0)` for `t = 1/2, 1/4, ...` ([`MAX_HALVINGS`]
/// times), else of the unchanged `b0` (whose NLL is `f0`): an update never raises
/// the training NLL of the samples. The gradient step on `B` ignores the rank
/// bound; when its truncation to `max_bond` discards much of the weight (the
/// step leaves the rank-`D` set far behind, as on the `D^2 x D^2` tensors of a
/// TTN with many samples), the split can be worse than no step at all. The check
/// costs one more split and `O(n D^3)` per trial (`psi` of the factored tensor).
fn split_improving(
    b0: &Array2<f64>,
    b1: &Array2<f64>,
    f0: f64,
    k1: &Array2<f64>,
    k2: &Array2<f64>,
    opts: &BornOptions,
    rng: &mut StdRng,
) -> Result<TruncatedSvd<f64>> {
    let mut t = 1.0;
    for _ in 0..=MAX_HALVINGS {
        let bt = if t == 1.0 {
            std::borrow::Cow::Borrowed(b1)
        } else {
            std::borrow::Cow::Owned(b0 + &((b1 - b0) * t))
        };
        let split = svd_truncated_randomized(bt.view(), &opts.truncation, rng)?;
        let mut us = split.u.clone();
        for (mut col, &x) in us.axis_iter_mut(Axis(1)).zip(split.s.iter()) {
            col.mapv_inplace(|v| v * x);
        }
        let psi = factored_psi(k1, us.view(), k2, split.vh.view());
        let f = local_nll_of(&psi, split.s.iter().map(|v| v * v).sum());
        if f <= f0 {
            return Ok(split);
        }
        t *= 0.5;
    }
    svd_truncated_randomized(b0.view(), &opts.truncation, rng)
}

/// `steps_per_bond` normalised gradient steps on the merged tensor `b`.
fn descend(
    b: &mut Array2<f64>,
    k1: &Array2<f64>,
    k2: &Array2<f64>,
    psi0: Vec<f64>,
    opts: &BornOptions,
    rng: &mut StdRng,
    what: impl Fn() -> String,
) -> Result<()> {
    let n = k1.nrows();
    let mut psi = Some(psi0); // psi of the unchanged B, for the first step only
    for _ in 0..opts.steps_per_bond {
        let batch = match opts.batch_size {
            Some(m) if m < n => Some(rand::seq::index::sample(rng, n, m).into_vec()),
            _ => None,
        };
        let g = edge_gradient(b, k1, k2, batch.as_deref(), psi.take().as_deref());
        // The step rule of the options, as in the MPS.
        gradient_step(b, &g, opts, || format!("merged tensor on {}", what()))?;
    }
    Ok(())
}

/// The root's two children when both are nodes (`None` otherwise). Then the root
/// tensor `T_root[0, b, c]` is a matrix joining the two halves whose rank is at
/// most `min(D_left, D_right)`: a two-node update on either root edge could never
/// raise it (each side bounds the other), so the root bond is updated as one
/// bond between the two children, through the root (see
/// `TtnBornMachine::update_root_bond`).
fn root_bond(tree: &Tree) -> Option<(usize, usize)> {
    match tree.children(tree.root()) {
        [Child::Node(l), Child::Node(r)] => Some((l, r)),
        _ => None,
    }
}

/// The root bond `B[(l1 l2), (r1 r2)] = F1 F2` with `F1 = T_L T_root` (`(l1 l2) x c`)
/// and `F2 = T_R` as a `c x (r1 r2)` view (see `update_root_bond`).
fn root_factors(ttn: &Ttn<f64>) -> (Array2<f64>, ArrayView2<'_, f64>) {
    let tree = ttn.tree();
    let (l, r) = root_bond(tree).expect("both root children are nodes");
    let lm = leg_last(&ttn.tensors[l], 0); // (l1 l2) x b
    let root = &ttn.tensors[tree.root()];
    let (_, db, dc) = root.dim();
    let rootm =
        ArrayView2::from_shape((db, dc), root.as_slice().expect("standard")).expect("sizes");
    let (_, r1, r2) = ttn.tensors[r].dim();
    let rm = ArrayView2::from_shape((dc, r1 * r2), ttn.tensors[r].as_slice().expect("standard"))
        .expect("sizes");
    let mut f1 = Array2::zeros((lm.nrows(), dc));
    gemm_unchecked(1.0, lm.view(), rootm, false, f1.view_mut());
    (f1, rm)
}

/// `psi(x)` on edge `(p, c)` from the factored merged tensor `B = T_p T_c`.
fn edge_psi(
    ttn: &Ttn<f64>,
    k1: &Array2<f64>,
    k2: &Array2<f64>,
    p: usize,
    c: usize,
    side: usize,
) -> Vec<f64> {
    let pm = leg_last(&ttn.tensors[p], 1 + side);
    let (de, dl, dr) = ttn.tensors[c].dim();
    let cm = ArrayView2::from_shape((de, dl * dr), ttn.tensors[c].as_slice().expect("standard"))
        .expect("sizes");
    factored_psi(k1, pm.view(), k2, cm)
}

/// `K1 = KR(m_l1, m_l2)`, `K2 = KR(m_r1, m_r2)` for the root bond.
fn root_bond_inputs(ttn: &Ttn<f64>, cache: &mut MsgCache<'_>) -> (Array2<f64>, Array2<f64>) {
    let tree = ttn.tree();
    let (l, r) = root_bond(tree).expect("both root children are nodes");
    let [l1, l2] = tree.children(l);
    let [r1, r2] = tree.children(r);
    for ch in [l1, l2, r1, r2] {
        if let Child::Node(u) = ch {
            cache.ensure_up(ttn, u);
        }
    }
    let k1 = khatri_rao(cache.child(l1).vecs.view(), cache.child(l2).vecs.view());
    let k2 = khatri_rao(cache.child(r1).vecs.view(), cache.child(r2).vecs.view());
    (k1, k2)
}

/// `K1 = KR(down_p, m_other)` and `K2 = KR(m_c_left, m_c_right)` for edge `(p, c)`.
fn edge_inputs(
    ttn: &Ttn<f64>,
    cache: &mut MsgCache<'_>,
    p: usize,
    c: usize,
    side: usize,
) -> (Array2<f64>, Array2<f64>) {
    let tree = ttn.tree();
    let other = tree.children(p)[1 - side];
    let [cl, cr] = tree.children(c);
    cache.ensure_down(ttn, p);
    for ch in [other, cl, cr] {
        if let Child::Node(u) = ch {
            cache.ensure_up(ttn, u);
        }
    }
    let dp = cache.down[p].as_ref().expect("ensured");
    let k1 = khatri_rao(dp.vecs.view(), cache.child(other).vecs.view());
    let k2 = khatri_rao(cache.child(cl).vecs.view(), cache.child(cr).vecs.view());
    (k1, k2)
}
