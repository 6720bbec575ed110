//! Tree tensor networks over binary trees: [`Ttn`], [`Tree`], [`Child`].
//!
//! A TTN represents the amplitude
//!
//! ```text
//! psi(x_0, ..., x_{N-1}) = exp(log_scale) * (the tree contracted with every site leg fixed to x_s)
//! ```
//!
//! Every internal node `v` carries an order-3 tensor `T_v[a, b, c]`: `a` is the
//! parent leg (dimension 1 at the root), `b` and `c` the left and right child legs,
//! of dimension `d` when the child is a site and the child's parent dimension when
//! it is a node. The message of a subtree to its parent is
//! `m_v[a] = sum_{b,c} T_v[a,b,c] m_left[b] m_right[c]`, a one-hot vector `e_{x_s}`
//! for a site.
//!
//! **Canonical form.** With centre `c` ([`Ttn::move_center`]), every other node is an
//! isometry pointing towards `c`: contracting it with its conjugate over all legs
//! but the one towards `c` gives the identity. Then `||psi||^2 = exp(2 log_scale)
//! ||T_c||_F^2`, and the centre is kept at norm 1. Moving the centre along an edge is
//! a thin QR of the node's tensor with the edge leg as the column index, `R` being
//! absorbed by the neighbour, exactly as in an MPS.
//!
//! ```
//! use rand::SeedableRng;
//! use tnlearn::ttn::{Tree, Ttn};
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let mut t = Ttn::<f64>::random(Tree::image(4, 4)?, 2, 5, &mut rng)?;
//! let ln_norm = t.log_norm()?;
//! t.canonicalize(3)?;
//! assert!((t.log_norm()? - ln_norm).abs() < 1e-10);
//! let amp = t.log_amplitude(&[0; 16])?; // psi(0...0) in log-polar form
//! assert!(amp.log_abs.is_finite());
//! # Ok::<(), tnlearn::Error>(())
//! ```

mod check;
mod tree;

pub use tree::{Child, Tree};

use ndarray::{Array2, Array3, ArrayView2};
use rand::Rng;

use crate::error::{Error, Result};
use crate::linalg::{matmul, qr};
use crate::log_value::{add_log, LogValue};
use crate::scalar::Scalar;

/// A tree tensor network over a [`Tree`] with `d` states per site (see the
/// [module documentation](self)): node tensors of shape `(D_parent, D_left,
/// D_right)`, a `log_scale` carrying the overall magnitude, and the orthogonality
/// centre when one is known.
///
/// ```
/// use rand::SeedableRng;
/// use tnlearn::ttn::{Tree, Ttn};
///
/// let mut rng = rand::rngs::StdRng::seed_from_u64(3);
/// // 16 sites of a 4 x 4 image, bond dimension at most 4.
/// let mut psi = Ttn::<f64>::random(Tree::image(4, 4)?, 2, 4, &mut rng)?;
/// let root = psi.tree().root();
/// psi.canonicalize(root)?;
/// psi.check_canonical(root, 1e-10)?;
/// assert_eq!(psi.num_sites(), 16);
/// assert!(psi.max_bond() <= 4);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Ttn<T> {
    pub(crate) tree: Tree,
    pub(crate) tensors: Vec<Array3<T>>,
    pub(crate) phys_dim: usize,
    pub(crate) log_scale: f64,
    pub(crate) center: Option<usize>,
}

impl<T: Scalar> Ttn<T> {
    /// A random TTN: every entry an independent standard normal sample, drawn from
    /// `rng`; the parent bond of node `v` has dimension
    /// `min(bond_dim, d^(sites below v), d^(sites outside v))` (the largest of full
    /// rank), 1 at the root. Not normalised, no canonical form.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for `phys_dim < 1` or `bond_dim < 1`, and (naming
    /// the node and shape) when a node tensor's size overflows or cannot be
    /// allocated.
    pub fn random<R: Rng + ?Sized>(
        tree: Tree,
        phys_dim: usize,
        bond_dim: usize,
        rng: &mut R,
    ) -> Result<Self> {
        if phys_dim == 0 {
            return Err(Error::invalid_argument("phys_dim", "must be at least 1"));
        }
        if bond_dim == 0 {
            return Err(Error::invalid_argument("bond_dim", "must be at least 1"));
        }
        let n = tree.num_sites();
        let pow = |k: usize| {
            (0..k)
                .try_fold(1usize, |a, _| a.checked_mul(phys_dim))
                .unwrap_or(usize::MAX)
        };
        let mut dims = vec![1usize; tree.num_nodes()];
        let below_counts = tree.sites_below_counts();
        for (v, dim) in dims.iter_mut().enumerate() {
            if v != tree.root() {
                let below = below_counts[v];
                *dim = bond_dim.min(pow(below)).min(pow(n - below));
            }
        }
        let child_dim = |c: Child| match c {
            Child::Site(_) => phys_dim,
            Child::Node(u) => dims[u],
        };
        let tensors = (0..tree.num_nodes())
            .map(|v| {
                let [l, r] = tree.children(v);
                let shape = [dims[v], child_dim(l), child_dim(r)];
                let t = crate::Tensor::<T>::try_random(&shape, rng).map_err(|e| {
                    Error::invalid_argument(
                        "bond_dim",
                        format!("Ttn::random: node {v} of shape {shape:?}: {e}"),
                    )
                })?;
                let a =
                    ndarray::Array3::from_shape_vec((shape[0], shape[1], shape[2]), t.into_vec())
                        .map_err(|e| Error::invalid_argument("bond_dim", e.to_string()))?;
                Ok(a)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Ttn {
            tree,
            tensors,
            phys_dim,
            log_scale: 0.0,
            center: None,
        })
    }

    /// A TTN from its node tensors (`tensors[v]` of node `v`, shape `(D_parent,
    /// D_left, D_right)`), `log_scale = 0`, no canonical form. Validated: one tensor
    /// per node, the root's parent dimension 1, site legs of dimension `phys_dim`,
    /// node legs matching the child's parent dimension, all dimensions `>= 1`, all
    /// entries finite.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] / [`Error::ShapeMismatch`] naming the node,
    /// [`Error::NonFinite`].
    pub fn from_tensors(tree: Tree, phys_dim: usize, tensors: Vec<Array3<T>>) -> Result<Self> {
        if phys_dim == 0 {
            return Err(Error::invalid_argument("phys_dim", "must be at least 1"));
        }
        if tensors.len() != tree.num_nodes() {
            return Err(Error::invalid_argument(
                "tensors",
                format!(
                    "one tensor per node is needed: the tree has {} nodes, got {} tensors",
                    tree.num_nodes(),
                    tensors.len()
                ),
            ));
        }
        for v in 0..tree.num_nodes() {
            let [l, r] = tree.children(v);
            let want = |c: Child| match c {
                Child::Site(_) => phys_dim,
                Child::Node(u) => tensors[u].dim().0,
            };
            let (a, b, c) = tensors[v].dim();
            let a_ok = if v == tree.root() { a == 1 } else { a >= 1 };
            if !a_ok || b != want(l) || c != want(r) {
                return Err(Error::shape_mismatch(
                    format!(
                        "Ttn::from_tensors: node {v} (children {l:?}, {r:?}{}) needs shape \
                         (D_parent, D_left, D_right)",
                        if v == tree.root() {
                            ", root: D_parent = 1"
                        } else {
                            ""
                        }
                    ),
                    vec![
                        if v == tree.root() { 1 } else { a.max(1) },
                        want(l),
                        want(r),
                    ],
                    vec![a, b, c],
                ));
            }
            if let Some(p) = tensors[v].iter().position(|x| !x.is_finite()) {
                return Err(Error::NonFinite {
                    context: format!("Ttn::from_tensors, node {v}"),
                    position: p,
                    value: tensors[v]
                        .iter()
                        .nth(p)
                        .map(|x| format!("{x:?}"))
                        .unwrap_or_default(),
                });
            }
        }
        Ok(Ttn {
            tree,
            tensors,
            phys_dim,
            log_scale: 0.0,
            center: None,
        })
    }

    /// The tree.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// The node tensors, indexed by node.
    pub fn tensors(&self) -> &[Array3<T>] {
        &self.tensors
    }

    /// The tree, the node tensors and the log scale, consuming the TTN.
    pub fn into_parts(self) -> (Tree, Vec<Array3<T>>, f64) {
        (self.tree, self.tensors, self.log_scale)
    }

    /// The number of states `d` per site.
    pub fn phys_dim(&self) -> usize {
        self.phys_dim
    }

    /// The number of sites `N`.
    pub fn num_sites(&self) -> usize {
        self.tree.num_sites()
    }

    /// `ln` of the overall factor in front of the contracted tensors.
    pub fn log_scale(&self) -> f64 {
        self.log_scale
    }

    /// The orthogonality centre, if known (see [`Ttn::move_center`]).
    pub fn center(&self) -> Option<usize> {
        self.center
    }

    /// The parent-bond dimension of every node (1 at the root).
    pub fn bond_dims(&self) -> Vec<usize> {
        self.tensors.iter().map(|t| t.dim().0).collect()
    }

    /// The largest bond dimension between two nodes (1 for a single node).
    pub fn max_bond(&self) -> usize {
        self.bond_dims().into_iter().max().unwrap_or(1)
    }

    /// Brings the TTN into canonical form with centre `c` from scratch (QR steps
    /// from every leaf-most node towards `c`), normalising the centre into
    /// `log_scale`. Bonds larger than the rank their neighbours allow shrink; the
    /// state is unchanged up to rounding.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `c` is not a node.
    pub fn canonicalize(&mut self, c: usize) -> Result<()> {
        self.check_node(c, "center")?;
        self.center = None;
        // Post order relative to c: the tree rooted at c, leaves first. Process the
        // nodes in decreasing distance from c.
        let mut order: Vec<(usize, usize)> = (0..self.tree.num_nodes())
            .map(|v| (self.tree.path(v, c).len(), v))
            .collect();
        order.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(len, v) in &order {
            if len > 1 {
                let next = self.tree.path(v, c)[1];
                self.qr_step(v, next)?;
            }
        }
        self.normalize_center(c);
        self.center = Some(c);
        Ok(())
    }

    /// Moves the orthogonality centre to node `c`: QR steps along the path from the
    /// known centre (or [`Ttn::canonicalize`] when none is known).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `c` is not a node.
    pub fn move_center(&mut self, c: usize) -> Result<()> {
        self.check_node(c, "center")?;
        match self.center.take() {
            None => self.canonicalize(c),
            Some(from) => {
                let path = self.tree.path(from, c);
                for w in path.windows(2) {
                    self.qr_step(w[0], w[1])?;
                }
                self.normalize_center(c);
                self.center = Some(c);
                Ok(())
            }
        }
    }

    /// `ln ||psi||`: from the centre when known (`log_scale + ln ||T_c||`), else on a
    /// canonicalised copy.
    ///
    /// # Errors
    /// Linear-algebra failures only ([`Error::NonFinite`]).
    pub fn log_norm(&self) -> Result<f64> {
        match self.center {
            Some(c) => Ok(add_log(self.log_scale, frob(&self.tensors[c]))),
            None => {
                let mut t = self.clone();
                t.canonicalize(self.tree.root())?;
                t.log_norm()
            }
        }
    }

    /// Canonicalises (centre at the root unless one is known) and sets
    /// `log_scale = 0`, so `||psi|| = 1`; returns the previous `ln ||psi||`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for the zero state.
    pub fn normalize(&mut self) -> Result<f64> {
        let c = self.center.unwrap_or(self.tree.root());
        self.move_center(c)?;
        let ln = self.log_norm()?;
        if ln == f64::NEG_INFINITY {
            return Err(Error::invalid_argument(
                "ttn",
                "the zero state cannot be normalised",
            ));
        }
        self.log_scale = 0.0;
        Ok(ln)
    }

    /// The amplitude `psi(x)` of a configuration (`x[s] < d` for every site), in
    /// log-polar form, by upward messages renormalised at every node (cost
    /// `O(N D^3)`).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `x.len() != N`, [`Error::InvalidArgument`] naming
    /// the site for a value `>= d`.
    pub fn log_amplitude(&self, x: &[usize]) -> Result<LogValue<T>> {
        let n = self.num_sites();
        if x.len() != n {
            return Err(Error::shape_mismatch(
                format!("Ttn::log_amplitude: one value per site ({n} sites)"),
                vec![n],
                vec![x.len()],
            ));
        }
        if let Some(s) = x.iter().position(|&v| v >= self.phys_dim) {
            return Err(Error::invalid_argument(
                "x",
                format!("site {s} has value {}, must be < {}", x[s], self.phys_dim),
            ));
        }
        let mut msgs: Vec<Vec<T>> = vec![Vec::new(); self.tree.num_nodes()];
        let mut acc = self.log_scale;
        for &v in self.tree.post_order() {
            let t = &self.tensors[v];
            let (da, db, dc) = t.dim();
            let vec_of = |c: Child| -> Vec<T> {
                match c {
                    Child::Site(s) => {
                        let mut e = vec![T::zero(); self.phys_dim];
                        e[x[s]] = T::one();
                        e
                    }
                    Child::Node(u) => msgs[u].clone(),
                }
            };
            let [l, r] = self.tree.children(v);
            let (ml, mr) = (vec_of(l), vec_of(r));
            let mut out = vec![T::zero(); da];
            for (a, o) in out.iter_mut().enumerate() {
                for b in 0..db {
                    if ml[b] == T::zero() {
                        continue;
                    }
                    let mut s = T::zero();
                    for c in 0..dc {
                        s += t[(a, b, c)] * mr[c];
                    }
                    *o += ml[b] * s;
                }
            }
            let nrm = safe_norm(out.iter().copied());
            if nrm == 0.0 || !nrm.is_finite() {
                return Ok(LogValue::zero());
            }
            out.iter_mut().for_each(|z| *z = z.scale(1.0 / nrm));
            acc += nrm.ln();
            msgs[v] = out;
        }
        let mut lv = LogValue::from_value(msgs[self.tree.root()][0]);
        lv.log_abs += acc;
        Ok(lv)
    }

    fn check_node(&self, v: usize, name: &str) -> Result<()> {
        if v >= self.tree.num_nodes() {
            return Err(Error::invalid_argument(
                name,
                format!(
                    "node {v} does not exist (the tree has {} nodes)",
                    self.tree.num_nodes()
                ),
            ));
        }
        Ok(())
    }

    fn normalize_center(&mut self, c: usize) {
        let nrm = frob(&self.tensors[c]);
        self.log_scale = add_log(self.log_scale, nrm);
        if nrm > 0.0 {
            self.tensors[c].mapv_inplace(|z| z.scale(1.0 / nrm));
        }
    }

    /// Node `u` becomes an isometry towards its neighbour `v` (`T_u = Q R` with the
    /// edge leg as columns); the normalised `R` is absorbed by `v`.
    pub(crate) fn qr_step(&mut self, u: usize, v: usize) -> Result<()> {
        let leg_u = self.leg_towards(u, v);
        let leg_v = self.leg_towards(v, u);
        let (q, mut r) = qr(leg_last(&self.tensors[u], leg_u).view())?;
        let k = q.ncols();
        self.tensors[u] = from_leg_last(q, leg_u, self.tensors[u].dim());
        let nrm = safe_norm(r.iter().copied());
        self.log_scale = add_log(self.log_scale, nrm);
        if nrm > 0.0 {
            r.mapv_inplace(|z| z.scale(1.0 / nrm));
        }
        self.tensors[v] = absorb(&r.view(), &self.tensors[v], leg_v)?;
        debug_assert_eq!(k, dim_of(&self.tensors[v], leg_v));
        Ok(())
    }

    /// The leg of node `u` (0 parent, 1 left, 2 right) that points to the
    /// neighbouring node `v`.
    pub(crate) fn leg_towards(&self, u: usize, v: usize) -> usize {
        leg_towards(&self.tree, u, v)
    }
}

/// The leg of node `u` (0 parent, 1 left, 2 right) pointing to the neighbouring
/// node `v`.
pub(crate) fn leg_towards(tree: &Tree, u: usize, v: usize) -> usize {
    if tree.parent(u).map(|p| p.0) == Some(v) {
        0
    } else {
        let [l, _] = tree.children(u);
        if l == Child::Node(v) {
            1
        } else {
            debug_assert_eq!(
                tree.children(u)[1],
                Child::Node(v),
                "{u} and {v} are neighbours"
            );
            2
        }
    }
}

pub(crate) fn dim_of<T>(t: &Array3<T>, leg: usize) -> usize {
    t.shape()[leg]
}

/// `||t||_F`.
/// `||t||_F`, computed without overflow or underflow for entries near the limits
/// of `f64` (scaled by the largest entry).
pub(crate) fn frob<T: Scalar>(t: &Array3<T>) -> f64 {
    safe_norm(t.iter().copied())
}

/// Euclidean norm of `xs` without overflow or underflow (scaled by the largest
/// magnitude; NaN propagates).
fn safe_norm<T: Scalar>(xs: impl Iterator<Item = T> + Clone) -> f64 {
    let max = xs.clone().map(|z| z.abs()).fold(0.0_f64, |a, b| {
        if a.is_nan() || b.is_nan() {
            f64::NAN
        } else {
            a.max(b)
        }
    });
    if max == 0.0 || !max.is_finite() {
        return max;
    }
    if (1e-100..=1e100).contains(&max) {
        return xs.map(|z| z.abs2()).sum::<f64>().sqrt();
    }
    let inv = 1.0 / max;
    max * xs.map(|z| z.scale(inv).abs2()).sum::<f64>().sqrt()
}

/// The axis permutation that moves `leg` last, keeping the other two in order.
fn perm_last(leg: usize) -> [usize; 3] {
    match leg {
        0 => [1, 2, 0],
        1 => [0, 2, 1],
        _ => [0, 1, 2],
    }
}

/// `t` as a matrix: rows = the other two legs (in order), columns = `leg`.
pub(crate) fn leg_last<T: Scalar>(t: &Array3<T>, leg: usize) -> Array2<T> {
    let p = perm_last(leg);
    let sh = t.shape();
    let (r, c) = (sh[p[0]] * sh[p[1]], sh[p[2]]);
    let perm = t.view().permuted_axes(p);
    let owned = perm.as_standard_layout().into_owned();
    owned
        .into_shape_with_order((r, c))
        .expect("element count matches")
}

/// The inverse of [`leg_last`]: a `(rows x k)` matrix back to a 3-tensor whose leg
/// `leg` has dimension `k` and whose other legs have the dimensions of `dims`.
pub(crate) fn from_leg_last<T: Scalar>(
    m: Array2<T>,
    leg: usize,
    dims: (usize, usize, usize),
) -> Array3<T> {
    let d = [dims.0, dims.1, dims.2];
    let p = perm_last(leg);
    let k = m.ncols();
    let m = m.as_standard_layout().into_owned();
    let t = m
        .into_shape_with_order((d[p[0]], d[p[1]], k))
        .expect("element count matches");
    // Inverse permutation.
    let mut inv = [0usize; 3];
    for (i, &pi) in p.iter().enumerate() {
        inv[pi] = i;
    }
    t.permuted_axes(inv).as_standard_layout().into_owned()
}

/// `t` with `r` (`k x D`) applied on leg `leg`: `t'[.., i, ..] = sum_j r[i, j] t[.., j, ..]`.
pub(crate) fn absorb<T: Scalar>(
    r: &ArrayView2<'_, T>,
    t: &Array3<T>,
    leg: usize,
) -> Result<Array3<T>> {
    let m = leg_last(t, leg);
    let out = matmul(m.view(), r.t())?;
    Ok(from_leg_last(out, leg, t.dim()))
}

impl<T: Scalar> std::fmt::Display for Ttn<T> {
    /// A one-line summary: sites, nodes, physical dimension, bonds, parameter
    /// count, log scale and centre.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let params: usize = self.tensors.iter().map(|t| t.len()).sum();
        write!(
            f,
            "TTN of {} sites on {} nodes (physical dimension {}), max bond {}, \
             {params} parameters, log scale {}, ",
            self.num_sites(),
            self.tree.num_nodes(),
            self.phys_dim,
            self.max_bond(),
            self.log_scale
        )?;
        match self.center {
            Some(c) => write!(f, "centre at node {c} (root {})", self.tree.root()),
            None => write!(f, "no canonical form"),
        }
    }
}
