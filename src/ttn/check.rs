//! [`Ttn::check_canonical`]: verifies a stored canonical form.

use crate::error::{Error, Result};
use crate::mps::check::{identity_deviation, not_canonical};
use crate::scalar::Scalar;

use super::{frob, leg_last, Child, Ttn};

impl<T: Scalar> Ttn<T> {
    /// Verifies that the TTN is in canonical form with orthogonality centre node
    /// `center`, as a model file claims: every other node `v` an isometry towards
    /// its neighbour on the path to `center` (with that leg as columns and the
    /// other two as rows, `M^H M = I` to `tol` in every entry), the centre tensor
    /// of Frobenius norm 1 to `tol`, and every entry finite. Leg dimensions are
    /// consistent with the tree by construction of [`Ttn`].
    ///
    /// When this holds and `log_scale = 0`, `sum_x |psi(x)|^2 = 1` up to
    /// `tol`-sized rounding. Cost `O(N D^4)` (linear in the number of nodes); the
    /// TTN is not changed.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `center` when it is not a node or `tol` is
    /// not finite and non-negative, and naming the first offending node and its
    /// deviation otherwise; [`Error::NonFinite`] for a NaN or infinite entry.
    pub fn check_canonical(&self, center: usize, tol: f64) -> Result<()> {
        let nodes = self.tree.num_nodes();
        if center >= nodes {
            return Err(Error::invalid_argument(
                "center",
                format!("node {center} does not exist (the tree has {nodes} nodes)"),
            ));
        }
        if !(tol.is_finite() && tol >= 0.0) {
            return Err(Error::invalid_argument(
                "tol",
                format!("must be a finite number >= 0 (got {tol})"),
            ));
        }
        for (v, t) in self.tensors.iter().enumerate() {
            if let Some(position) = t.iter().position(|x| !x.is_finite()) {
                return Err(Error::NonFinite {
                    context: format!("TTN node {v} tensor (shape {:?})", t.shape()),
                    position,
                    value: format!("{}", t.iter().nth(position).copied().unwrap_or_default()),
                });
            }
        }
        // The neighbour of every node on its path to the centre, by a search from
        // the centre (O(N); walking each path separately is quadratic on chains).
        let mut toward = vec![usize::MAX; nodes];
        toward[center] = center;
        let mut queue = std::collections::VecDeque::from([center]);
        while let Some(u) = queue.pop_front() {
            let parent = self.tree.parent(u).map(|p| p.0);
            let kids = self.tree.children(u).into_iter().filter_map(|c| match c {
                Child::Node(w) => Some(w),
                Child::Site(_) => None,
            });
            for w in parent.into_iter().chain(kids) {
                if toward[w] == usize::MAX {
                    toward[w] = u;
                    queue.push_back(w);
                }
            }
        }
        for (v, &next) in toward.iter().enumerate() {
            if v == center {
                let nrm = frob(&self.tensors[v]);
                if (nrm - 1.0).abs() > tol || nrm.is_nan() {
                    return Err(not_canonical(
                        "the TTN",
                        center,
                        format!("the centre tensor (node {v}) has norm {nrm}, expected 1"),
                    ));
                }
                continue;
            }
            let leg = self.leg_towards(v, next);
            let m = leg_last(&self.tensors[v], leg);
            if m.ncols() > m.nrows() {
                return Err(not_canonical(
                    "the TTN",
                    center,
                    format!(
                        "node {v} of shape {:?} cannot be an isometry towards node {next} \
                         (leg {leg} of dimension {} exceeds {})",
                        self.tensors[v].shape(),
                        m.ncols(),
                        m.nrows()
                    ),
                ));
            }
            let g = crate::mps::adjoint_matmul(m.view(), m.view());
            let dev = identity_deviation(&g.view());
            if dev > tol || dev.is_nan() {
                return Err(not_canonical(
                    "the TTN",
                    center,
                    format!(
                        "node {v} is not an isometry towards node {next} (largest deviation \
                         of its Gram matrix from the identity: {dev:e}, tolerance {tol:e})"
                    ),
                ));
            }
        }
        Ok(())
    }
}
