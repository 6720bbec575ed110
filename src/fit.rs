//! The vocabulary of every iterative fit in the crate (the Born machines'
//! sweeps, CORA's EM): [`FitControl`] (go on or stop), [`FitObserver`] (sees a
//! report and the model after each step of a fit) and [`NoObserver`] (never stops).
//!
//! Each fit has its own report type (`born::HalfSweepReport`, `cora::EmReport`);
//! closures `FnMut(&Report, &Model) -> FitControl` are observers.

/// Whether training goes on after a report.
///
/// ```
/// use tnlearn::born::{BornMachine, BornOptions, FitControl, MpsBornMachine};
/// use tnlearn::Dataset;
///
/// let data = Dataset::binary(ndarray::array![[0, 1, 1], [1, 0, 0]])?;
/// let mut model = MpsBornMachine::new(3, 2, BornOptions::new().sweeps(100))?;
/// // Stop after three half-sweeps, whatever the options say.
/// let reports = model.fit_with_fn(&data, |r, _| {
///     if r.sweep >= 2 { FitControl::Stop } else { FitControl::Continue }
/// })?;
/// assert_eq!(reports.len(), 3);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FitControl {
    /// Go on with the next step (half-sweep, EM iteration).
    Continue,
    /// Stop now (the model is left in its usable form).
    Stop,
}

/// Sees every report `R` of a fit and the model `M` after it; returns whether to
/// go on. Implemented for closures `FnMut(&R, &M) -> FitControl`, e.g. for early
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
pub trait FitObserver<R, M: ?Sized> {
    /// Called after every step of the fit with its report and the model.
    fn on_report(&mut self, report: &R, model: &M) -> FitControl;

    /// Called while a step of the fit is under way, after each unit of work: `done`
    /// of `total` units of the whole fit (a Born machine: one unit per bond or edge
    /// update, `total = 2 * sweeps * updates per half-sweep`; a fit stopped early
    /// ends before `done == total`). For progress bars; the default does nothing.
    fn on_progress(&mut self, done: u64, total: u64) {
        let _ = (done, total);
    }
}

impl<R, M: ?Sized, F: FnMut(&R, &M) -> FitControl> FitObserver<R, M> for F {
    fn on_report(&mut self, report: &R, model: &M) -> FitControl {
        self(report, model)
    }
}

/// An observer that never stops a fit.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl<R, M: ?Sized> FitObserver<R, M> for NoObserver {
    fn on_report(&mut self, _report: &R, _model: &M) -> FitControl {
        FitControl::Continue
    }
}
