//! Per-sample environments of every site, stored at checkpoints only.
//!
//! A sweep over `N` sites needs, at bond `(k, k+1)`, the left environments of site
//! `k` (`lefts[k]`: sites `0..k-1`) and the right environments of site `k+1`
//! (`rights[k+1]`: sites `k+2..N-1`) of every training sample. Keeping all of them
//! costs `n * sum_k D_k * 8` bytes (38 GB for 60,000 MNIST images at `D = 100`).
//! With checkpoint spacing `c` the store keeps an environment only at sites
//! `k ≡ 0 (mod c)` (and the boundaries), plus the ones a sweep has just produced;
//! when the sweep reaches a site whose environment is missing, the segment up to
//! the nearest checkpoint is rebuilt in one go (at most `c` environment updates,
//! each `d` GEMMs) and kept until the sweep has passed it. Peak memory is about
//! `N/c + c` environments, `~2 sqrt(N)` for `c = sqrt(N)`; the price is one extra
//! environment pass per half-sweep. Rebuilt environments are computed by the same
//! code from the same tensors, so the result does not depend on `c`.
//!
//! Validity: during a left-to-right half-sweep bond `k` changes tensors `k` and
//! `k+1`, so a right environment `rights[j]` (tensors `j+1..`) stays valid until
//! the sweep reaches bond `j`, and the right checkpoints written by the previous
//! right-to-left half-sweep are valid when they are needed; symmetrically for the
//! left environments on the way back.

use ndarray::{Array3, ArrayView2};

use super::environments::{advance_left_into, advance_right_into, Env};

/// Left and right per-sample environments with checkpoint spacing `spacing`.
pub(crate) struct EnvStore {
    spacing: usize,
    lefts: Vec<Option<Env>>,
    rights: Vec<Option<Env>>,
    bytes: usize,
    peak_bytes: usize,
    /// Dropped environments whose allocations the next updates reuse (at most
    /// `spacing + 2`, the most a rebuilt segment and one bond create at once): in
    /// steady state no bond allocates a fresh `n x D` buffer, hence no page faults.
    spare: Vec<Env>,
}

fn env_bytes(e: &Env) -> usize {
    (e.vecs.len() + e.logs.len()) * std::mem::size_of::<f64>()
}

impl EnvStore {
    /// The store before a left-to-right half-sweep with the centre at site 0:
    /// `lefts[0]` is the boundary; the right environments are built from the right
    /// boundary and kept at the checkpoints (and at site 1, needed first).
    pub fn new(tensors: &[Array3<f64>], x: ArrayView2<'_, u8>, spacing: usize) -> Self {
        let nsites = tensors.len();
        let n = x.nrows();
        let mut store = EnvStore {
            spacing: spacing.max(1),
            lefts: vec![None; nsites],
            rights: vec![None; nsites],
            bytes: 0,
            peak_bytes: 0,
            spare: Vec::new(),
        };
        store.put_left(0, Env::boundary(n));
        let mut cur = Env::boundary(n);
        let mut next = Env::boundary(0);
        for k in (1..nsites).rev() {
            if k < nsites - 1 {
                advance_right_into(&cur, &tensors[k + 1], x.column(k + 1), &mut next);
                std::mem::swap(&mut cur, &mut next);
            }
            if store.is_checkpoint(k, nsites) || k == 1 {
                store.put_right(k, cur.clone());
            }
        }
        store
    }

    fn is_checkpoint(&self, k: usize, nsites: usize) -> bool {
        k % self.spacing == 0 || k == nsites - 1
    }

    fn account(&mut self, added: usize, removed: usize) {
        self.bytes = self.bytes + added - removed;
        self.peak_bytes = self.peak_bytes.max(self.bytes);
    }

    fn put_left(&mut self, k: usize, e: Env) {
        let add = env_bytes(&e);
        let old = self.lefts[k].replace(e);
        let removed = old.as_ref().map_or(0, env_bytes);
        self.recycle(old);
        self.account(add, removed);
    }

    fn put_right(&mut self, k: usize, e: Env) {
        let add = env_bytes(&e);
        let old = self.rights[k].replace(e);
        let removed = old.as_ref().map_or(0, env_bytes);
        self.recycle(old);
        self.account(add, removed);
    }

    /// A spare environment to write an update into (its contents are overwritten).
    fn take_spare(&mut self) -> Env {
        self.spare.pop().unwrap_or_else(|| Env::boundary(0))
    }

    /// Keeps a dropped environment's allocation for reuse, up to `spacing + 2`.
    fn recycle(&mut self, e: Option<Env>) {
        if let Some(e) = e {
            if self.spare.len() < self.spacing + 2 {
                self.spare.push(e);
            }
        }
    }

    /// `lefts[j+1]` from `lefts[j]` and `A_j`.
    fn build_left(&mut self, j: usize, a: &Array3<f64>, x: ArrayView2<'_, u8>) {
        let mut next = self.take_spare();
        advance_left_into(
            self.lefts[j].as_ref().expect("built"),
            a,
            x.column(j),
            &mut next,
        );
        self.put_left(j + 1, next);
    }

    /// `rights[j-1]` from `rights[j]` and `A_j`.
    fn build_right(&mut self, j: usize, a: &Array3<f64>, x: ArrayView2<'_, u8>) {
        let mut next = self.take_spare();
        advance_right_into(
            self.rights[j].as_ref().expect("built"),
            a,
            x.column(j),
            &mut next,
        );
        self.put_right(j - 1, next);
    }

    /// Largest number of bytes held at once since the last [`EnvStore::reset_peak`].
    pub fn peak_bytes(&self) -> usize {
        self.peak_bytes
    }

    /// Starts a new peak measurement from the current holding.
    pub fn reset_peak(&mut self) {
        self.peak_bytes = self.bytes;
    }

    /// Makes sure `lefts[k]` is present, rebuilding from the nearest stored left
    /// environment below it, and returns it.
    pub fn left(&mut self, k: usize, tensors: &[Array3<f64>], x: ArrayView2<'_, u8>) -> &Env {
        if self.lefts[k].is_none() {
            let c = (0..k)
                .rev()
                .find(|&c| self.lefts[c].is_some())
                .expect("the left boundary is always stored");
            for (j, a) in tensors.iter().enumerate().take(k).skip(c) {
                self.build_left(j, a, x);
            }
        }
        self.lefts[k].as_ref().expect("present")
    }

    /// Makes sure `rights[k]` is present, rebuilding from the nearest stored right
    /// environment above it, and returns it.
    pub fn right(&mut self, k: usize, tensors: &[Array3<f64>], x: ArrayView2<'_, u8>) -> &Env {
        if self.rights[k].is_none() {
            let c = (k + 1..tensors.len())
                .find(|&c| self.rights[c].is_some())
                .expect("the right boundary is always stored");
            for j in (k + 1..=c).rev() {
                self.build_right(j, &tensors[j], x);
            }
        }
        self.rights[k].as_ref().expect("present")
    }

    /// `lefts[k]` and `rights[k+1]`, both present (rebuilt if needed).
    pub fn pair(
        &mut self,
        k: usize,
        tensors: &[Array3<f64>],
        x: ArrayView2<'_, u8>,
    ) -> (&Env, &Env) {
        self.left(k, tensors, x);
        self.right(k + 1, tensors, x);
        (
            self.lefts[k].as_ref().expect("present"),
            self.rights[k + 1].as_ref().expect("present"),
        )
    }

    /// After bond `k` of a left-to-right half-sweep: stores `lefts[k+1]` (from the
    /// updated `A_k`), drops `rights[k+1]` (stale from the next bond on, except the
    /// boundary) and `lefts[k]` unless it is a checkpoint.
    pub fn advance_left_past(&mut self, k: usize, tensors: &[Array3<f64>], x: ArrayView2<'_, u8>) {
        let nsites = tensors.len();
        self.build_left(k, &tensors[k], x);
        if !self.is_checkpoint(k, nsites) {
            self.drop_left(k);
        }
        if k + 1 < nsites - 1 {
            self.drop_right(k + 1);
        }
    }

    /// After bond `k` of a right-to-left half-sweep: stores `rights[k]` (from the
    /// updated `A_{k+1}`), drops `lefts[k]` (except the boundary) and `rights[k+1]`
    /// unless it is a checkpoint.
    pub fn advance_right_past(&mut self, k: usize, tensors: &[Array3<f64>], x: ArrayView2<'_, u8>) {
        let nsites = tensors.len();
        self.build_right(k + 1, &tensors[k + 1], x);
        if !self.is_checkpoint(k + 1, nsites) {
            self.drop_right(k + 1);
        }
        if k > 0 {
            self.drop_left(k);
        }
    }

    fn drop_left(&mut self, k: usize) {
        let old = self.lefts[k].take();
        self.account(0, old.as_ref().map_or(0, env_bytes));
        self.recycle(old);
    }

    fn drop_right(&mut self, k: usize) {
        let old = self.rights[k].take();
        self.account(0, old.as_ref().map_or(0, env_bytes));
        self.recycle(old);
    }

    /// Drops `lefts[N-1]` and `rights[0]`, which no bond uses (they only serve the
    /// NLL at the end of a half-sweep).
    pub fn drop_ends(&mut self) {
        let last = self.lefts.len() - 1;
        self.drop_left(last);
        self.drop_right(0);
    }

    /// The stored `lefts[k]`, if present.
    pub fn stored_left(&self, k: usize) -> Option<&Env> {
        self.lefts[k].as_ref()
    }

    /// The stored `rights[k]`, if present.
    pub fn stored_right(&self, k: usize) -> Option<&Env> {
        self.rights[k].as_ref()
    }
}
