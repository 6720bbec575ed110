//! Early stopping on a validation set: [`Validation`] (what the caller gives a fit)
//! and [`BestModel`] (what the MPS and TTN trainers keep while they sweep).
//!
//! # Why a fit argument and not a [`BornOptions`](super::BornOptions) field
//! The options are model state: `Copy`, saved in every model file and used by every
//! later fit. A validation set is data (borrowed, possibly large) that cannot be
//! saved with the model, and a patience means nothing without it, so both travel
//! together as one argument of
//! [`BornMachine::fit_validated_with`](super::BornMachine::fit_validated_with),
//! checked once when the fit starts. The file formats do not change, and a fit
//! without a validation set is exactly the fit it was before.

use super::checks::check_samples;
use super::observer::HalfSweepReport;
use crate::data::Dataset;
use crate::error::{Error, Result};

/// The patience of [`Validation::new`]: 4 half-sweeps (two sweeps) without a lower
/// validation NLL.
pub const DEFAULT_PATIENCE: usize = 4;

/// A validation set for early stopping, given to
/// [`BornMachine::fit_validated_with`](super::BornMachine::fit_validated_with) (or
/// [`BornMachine::fit_validated`](super::BornMachine::fit_validated)).
///
/// After every half-sweep the fit computes the exact NLL of `data` (reported as
/// [`HalfSweepReport::valid_nll`]) and keeps a copy of the tensors of the model with
/// the lowest one so far (strictly lower than every earlier one). It stops after
/// `patience` consecutive half-sweeps without a new lowest validation NLL (or when
/// the sweeps run out, or when the observer stops it), then puts the best model
/// back: the returned model is bit for bit the one after the best half-sweep,
/// canonicalised as at the end of any fit. The reports name that half-sweep
/// ([`HalfSweepReport::best_half_sweep`]).
///
/// Take the validation set from the training data (a held-out part), not from the
/// test set, or the test NLL is no longer an unbiased estimate.
///
/// ```
/// use tnlearn::born::{BornMachine, BornOptions, MpsBornMachine, Validation};
/// use tnlearn::Dataset;
///
/// let train = Dataset::binary(ndarray::array![[0, 1, 1, 0], [1, 0, 0, 1], [0, 1, 1, 1]])?;
/// let valid = Dataset::binary(ndarray::array![[0, 1, 1, 0], [1, 0, 0, 0]])?;
/// let mut model = MpsBornMachine::new(4, 2, BornOptions::new().max_bond(4).sweeps(10))?;
/// let reports = model.fit_validated(&train, Validation::new(&valid).patience(2))?;
/// let last = reports.last().unwrap();
/// let best = last.best_half_sweep.unwrap();
/// assert!(last.half_sweep() <= best + 2);
/// // The model left in place is the best one (the NLL up to the rounding of the
/// // final canonicalisation).
/// assert!((model.nll(&valid)? - reports[best - 1].valid_nll.unwrap()).abs() < 1e-9);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Validation<'a> {
    /// The held-out samples (same sites and states as the training set).
    pub data: &'a Dataset,
    /// Half-sweeps without a new lowest validation NLL after which the fit stops
    /// (at least 1).
    pub patience: usize,
}

impl<'a> Validation<'a> {
    /// Early stopping on `data` with the [`DEFAULT_PATIENCE`].
    pub fn new(data: &'a Dataset) -> Self {
        Validation {
            data,
            patience: DEFAULT_PATIENCE,
        }
    }

    /// Sets `patience` (half-sweeps, at least 1).
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// Checks the patience (`>= 1`) and the samples against a model of `nsites`
    /// sites and `d` states; errors name `validation` (and the sample and site).
    pub(crate) fn check(&self, nsites: usize, d: usize) -> Result<()> {
        if self.patience == 0 {
            return Err(Error::invalid_argument(
                "patience",
                "must be at least 1 half-sweep (got 0)",
            ));
        }
        check_samples(self.data.samples(), nsites, d, "validation")
    }
}

/// What a trainer keeps for early stopping: the lowest validation NLL seen, the
/// half-sweep it was seen after and a copy `S` of the network then.
pub(crate) struct BestModel<'a, S> {
    validation: Option<Validation<'a>>,
    best: Option<(f64, usize, S)>,
    since_best: usize,
}

impl<'a, S> BestModel<'a, S> {
    /// Tracks nothing without a validation set (then
    /// [`BestModel::after_half_sweep`] does nothing).
    pub(crate) fn new(validation: Option<Validation<'a>>) -> Self {
        BestModel {
            validation,
            best: None,
            since_best: 0,
        }
    }

    /// After a half-sweep: computes the validation NLL with `nll` (from the mean
    /// `ln p` of the samples it is given), fills in the report's `valid_nll` and
    /// `best_half_sweep`, copies the network with `snapshot` when it is the best so
    /// far (the first one always is; a later NaN never is), and returns whether the
    /// patience is exhausted.
    pub(crate) fn after_half_sweep(
        &mut self,
        report: &mut HalfSweepReport,
        log_probs: impl FnOnce(&Dataset) -> Vec<f64>,
        snapshot: impl FnOnce() -> S,
    ) -> bool {
        self.after_half_sweep_nll(
            report,
            |data| {
                let lp = log_probs(data);
                -lp.iter().sum::<f64>() / lp.len() as f64
            },
            snapshot,
        )
    }

    /// [`BestModel::after_half_sweep`] with the validation NLL computed by `nll`
    /// (a distributed fit reduces it over the ranks' validation shards).
    pub(crate) fn after_half_sweep_nll(
        &mut self,
        report: &mut HalfSweepReport,
        nll: impl FnOnce(&Dataset) -> f64,
        snapshot: impl FnOnce() -> S,
    ) -> bool {
        let Some(v) = self.validation else {
            return false;
        };
        let nll = nll(v.data);
        let index = report.half_sweep();
        let improved = match &self.best {
            None => true,
            Some((best, _, _)) => nll < *best,
        };
        if improved {
            self.best = Some((nll, index, snapshot()));
            self.since_best = 0;
        } else {
            self.since_best += 1;
        }
        report.valid_nll = Some(nll);
        report.best_half_sweep = self.best.as_ref().map(|b| b.1);
        self.since_best >= v.patience
    }

    /// The copy of the best network (`None` without a validation set, or before
    /// the first half-sweep).
    pub(crate) fn into_best(self) -> Option<S> {
        self.best.map(|b| b.2)
    }
}
