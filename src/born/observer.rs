//! What a Born machine fit reports after every half-sweep: [`HalfSweepReport`].
//! Observers and [`FitControl`](crate::fit::FitControl) are the crate-wide ones of
//! [`crate::fit`].

/// The direction of a half-sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SweepDirection {
    /// MPS: bonds `(0,1), (1,2), ..., (N-2,N-1)`; the centre moves to site `N-1`.
    /// TTN: the depth-first tour of the root's left subtree (left children first),
    /// from the root back to the root.
    LeftToRight,
    /// MPS: bonds `(N-2,N-1), ..., (0,1)`; the centre moves back to site 0.
    /// TTN: the tour of the root's right subtree (right children first).
    RightToLeft,
}

/// What happened in one half-sweep of training.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HalfSweepReport {
    /// The sweep number, starting at 1 (a sweep is left-to-right then right-to-left).
    pub sweep: usize,
    /// Which half of the sweep.
    pub direction: SweepDirection,
    /// Exact NLL of the whole training set (nats per sample) at the end of the
    /// half-sweep, read off the stored environments.
    pub train_nll: f64,
    /// Largest bond dimension at the end of the half-sweep.
    pub max_bond: usize,
    /// Largest relative discarded weight `sum_discarded s^2 / sum s^2` of any split in
    /// this half-sweep.
    pub truncation_error: f64,
    /// Wall-clock seconds spent in this half-sweep.
    pub seconds: f64,
    /// Peak bytes held by the per-sample environments during this half-sweep
    /// (see [`BornOptions::checkpoint_every`](super::BornOptions::checkpoint_every)).
    pub env_bytes: usize,
}
