//! Watching (and stopping) a training run: [`HalfSweepReport`], [`FitObserver`],
//! [`FitControl`].

/// The direction of a half-sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// Whether training goes on after a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FitControl {
    /// Go on with the next half-sweep.
    Continue,
    /// Stop now (the model is left right-canonical and usable).
    Stop,
}

/// Sees every half-sweep of a fit and the model after it; returns whether to go on.
/// Implemented for closures `FnMut(&HalfSweepReport, &M) -> FitControl`, e.g. for early
/// stopping on a validation set:
///
/// ```no_run
/// # use tnlearn::born::*;
/// # fn demo(model: &mut MpsBornMachine, train: &tnlearn::Dataset, valid: &tnlearn::Dataset) -> tnlearn::Result<()> {
/// let mut best = f64::INFINITY;
/// model.fit_with(train, &mut |_r: &HalfSweepReport, m: &MpsBornMachine| {
///     let v = m.nll(valid).unwrap_or(f64::INFINITY);
///     if v < best - 1e-3 { best = v; FitControl::Continue } else { FitControl::Stop }
/// })?;
/// # Ok(()) }
/// ```
pub trait FitObserver<M: ?Sized> {
    /// Called after every half-sweep.
    fn on_half_sweep(&mut self, report: &HalfSweepReport, model: &M) -> FitControl;
}

impl<M: ?Sized, F: FnMut(&HalfSweepReport, &M) -> FitControl> FitObserver<M> for F {
    fn on_half_sweep(&mut self, report: &HalfSweepReport, model: &M) -> FitControl {
        self(report, model)
    }
}

/// An observer that never stops training.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl<M: ?Sized> FitObserver<M> for NoObserver {
    fn on_half_sweep(&mut self, _report: &HalfSweepReport, _model: &M) -> FitControl {
        FitControl::Continue
    }
}
