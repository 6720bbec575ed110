//! What a Born machine fit reports after every half-sweep: [`HalfSweepReport`].
//! The validation NLL and the best half-sweep are filled in by
//! [`Validation`](super::Validation) (early stopping).
//! Observers and [`FitControl`](crate::fit::FitControl) are the crate-wide ones of
//! [`crate::fit`].

/// The direction of a half-sweep.
///
/// ```
/// use tnlearn::born::SweepDirection;
/// use tnlearn::ndarray::array;
/// use tnlearn::{BornMachine, BornOptions, Dataset, MpsBornMachine};
///
/// let data = Dataset::binary(array![[0, 1, 1], [1, 0, 0]])?;
/// let mut model = MpsBornMachine::new(3, 2, BornOptions::new().sweeps(1))?;
/// let reports = model.fit(&data)?; // one sweep: two half-sweeps
/// assert_eq!(reports[0].direction, SweepDirection::LeftToRight);
/// assert_eq!(reports[1].direction, SweepDirection::RightToLeft);
/// # Ok::<(), tnlearn::Error>(())
/// ```
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
///
/// ```
/// use tnlearn::ndarray::array;
/// use tnlearn::born::FitControl;
/// use tnlearn::{BornMachine, BornOptions, Dataset, MpsBornMachine};
///
/// let data = Dataset::binary(array![[0, 1, 1, 0], [1, 0, 0, 1], [0, 1, 1, 0]])?;
/// let mut model = MpsBornMachine::new(4, 2, BornOptions::new().max_bond(4).sweeps(2))?;
/// let mut nlls = Vec::new();
/// let reports = model.fit_with_fn(&data, |r, _| {
///     nlls.push(r.train_nll); // exact training NLL after the half-sweep
///     FitControl::Continue
/// })?;
/// assert_eq!((reports.len(), reports[3].sweep, reports[3].half_sweep()), (4, 2, 4));
/// assert!(nlls[3] < nlls[0]);
/// # Ok::<(), tnlearn::Error>(())
/// ```
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
    /// Wall-clock seconds spent in the updates of this half-sweep (the training NLL
    /// included; the validation NLL, the observer and the copy of the best model
    /// not).
    pub seconds: f64,
    /// Peak bytes held by the per-sample environments during this half-sweep
    /// (see [`BornOptions::checkpoint_every`](super::BornOptions::checkpoint_every)).
    pub env_bytes: usize,
    /// Exact NLL of the validation set (nats per sample) at the end of the
    /// half-sweep, when the fit was given one ([`Validation`](super::Validation));
    /// `None` otherwise.
    pub valid_nll: Option<f64>,
    /// With a validation set: the half-sweep (numbered as
    /// [`HalfSweepReport::half_sweep`]) of the lowest validation NLL so far, the
    /// model the fit leaves in place if it ends now. `None` without a validation
    /// set. In the last report it names the model the fit returned.
    pub best_half_sweep: Option<usize>,
}

impl HalfSweepReport {
    /// The number of this half-sweep, counted from 1 over the whole fit:
    /// `2 (sweep - 1) + 1` left to right, `2 sweep` right to left.
    pub fn half_sweep(&self) -> usize {
        2 * (self.sweep - 1)
            + match self.direction {
                SweepDirection::LeftToRight => 1,
                SweepDirection::RightToLeft => 2,
            }
    }

    /// Whether the model after this half-sweep is the best so far on the
    /// validation set (`false` without one).
    pub fn is_best(&self) -> bool {
        self.best_half_sweep == Some(self.half_sweep())
    }
}
