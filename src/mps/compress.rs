//! Compression by truncated-SVD sweeps: [`Mps::compress`].

use ndarray::Axis;

use crate::error::Result;
use crate::linalg::{svd_truncated, Truncation};
use crate::scalar::Scalar;

use super::{mat, matmul, tensor_from_matrix, Mps};

impl<T: Scalar> Mps<T> {
    /// Truncates every internal bond according to `trunc` by one SVD sweep and
    /// returns the total truncation error
    ///
    /// ```text
    /// eps = sum_bonds (discarded sum of s_i^2 at that bond) / ||psi||^2
    ///     = ||psi - psi_c||^2 / ||psi||^2 ,
    /// ```
    ///
    /// where `psi` is the state before and `psi_c` the (unnormalised) state after
    /// compression. The equality is exact (up to rounding): the state is first
    /// brought to canonical form with its centre at one end (the end nearer the
    /// current centre, if one is known; otherwise the last site), then the sweep
    /// goes to the other end, at each bond taking
    /// [`svd_truncated`] of the centre tensor, keeping
    /// the isometric factor and absorbing `S V^H` (or `U S`) into the next site
    /// *without renormalising*. Each truncation is then an orthogonal projection of
    /// the current state, the projections are nested, so the discarded pieces are
    /// mutually orthogonal and their weights add up to `||psi - psi_c||^2`.
    ///
    /// **Normalisation:** the compressed state is *not* renormalised: afterwards the
    /// MPS represents exactly `psi_c`, with `||psi_c||^2 = (1 - eps) ||psi||^2`. Its
    /// tensors are canonical (centre at the end where the sweep stopped, site 0 or
    /// `N-1`, recorded in [`Mps::center`]) and the centre's norm is in `log_scale`.
    /// Call [`Mps::normalize`] for a unit vector.
    ///
    /// The cutoff is applied per bond exactly as in
    /// [`Truncation::keep_count`](crate::linalg::Truncation::keep_count): a
    /// [`Relative`](crate::TruncationMode::Relative) cutoff compares with the largest
    /// singular value at that bond, a
    /// [`DiscardedWeight`](crate::TruncationMode::DiscardedWeight) cutoff bounds the
    /// fraction of that bond's weight discarded (so the total error is at most
    /// `(N-1) * cutoff`), and an [`Absolute`](crate::TruncationMode::Absolute)
    /// cutoff compares with the singular values of the *normalised* state (the
    /// Schmidt coefficients, `sum s_i^2 = 1` at the first bond swept). Every bond keeps at least `max(min_bond, 1)` and at most
    /// `max_bond` values (and never more than its exact rank).
    ///
    /// Errors with [`Error::InvalidArgument`](crate::Error::InvalidArgument) for an
    /// invalid truncation (see [`Truncation::validate`]), before touching the state.
    pub fn compress(&mut self, trunc: &Truncation) -> Result<f64> {
        trunc.validate()?;
        let n = self.len();
        let sweep_right = matches!(self.center, Some(c) if 2 * c < n - 1);
        let start = if sweep_right { 0 } else { n - 1 };
        self.move_center(start)?;
        // The centre tensor now has norm 1 (0 for the zero state); dividing by its
        // actual squared norm makes the weights relative to ||psi||^2 regardless.
        let norm0_sqr: f64 = self.tensors[start].iter().map(|x| x.abs2()).sum();
        self.center = None;
        let mut error = 0.0;
        if sweep_right {
            for k in 0..n - 1 {
                let (dl, d, dr) = self.site_dims(k);
                let t = svd_truncated(mat(&self.tensors[k], dl * d, dr), trunc)?;
                error += t.discarded_norm_sqr;
                let rank = t.rank();
                self.tensors[k] = tensor_from_matrix(t.u, &[dl, d, rank]);
                let st = t.s.mapv(T::from_f64).insert_axis(Axis(1));
                let svh = &t.vh * &st;
                let (_, d2, dr2) = self.site_dims(k + 1);
                let next = matmul(svh.view(), mat(&self.tensors[k + 1], dr, d2 * dr2));
                self.tensors[k + 1] = tensor_from_matrix(next, &[rank, d2, dr2]);
            }
        } else {
            for k in (1..n).rev() {
                let (dl, d, dr) = self.site_dims(k);
                let t = svd_truncated(mat(&self.tensors[k], dl, d * dr), trunc)?;
                error += t.discarded_norm_sqr;
                let rank = t.rank();
                self.tensors[k] = tensor_from_matrix(t.vh, &[rank, d, dr]);
                let st = t.s.mapv(T::from_f64).insert_axis(Axis(0));
                let us = &t.u * &st;
                let (dl0, d0, _) = self.site_dims(k - 1);
                let prev = matmul(mat(&self.tensors[k - 1], dl0 * d0, dl), us.view());
                self.tensors[k - 1] = tensor_from_matrix(prev, &[dl0, d0, rank]);
            }
        }
        let end = if sweep_right { n - 1 } else { 0 };
        self.normalize_site(end);
        self.center = Some(end);
        Ok(if norm0_sqr > 0.0 {
            error / norm0_sqr
        } else {
            0.0
        })
    }
}
