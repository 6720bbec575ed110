//! Born machines: generative models `p(x) = |psi(x)|^2 / Z` whose amplitude `psi`
//! is a tensor network, learned by maximum likelihood and sampled exactly.
//!
//! - [`MpsBornMachine`]: the matrix product state Born machine of Han, Wang, Fan,
//!   Wang and Zhang, *Unsupervised Generative Modeling Using Matrix Product States*,
//!   Phys. Rev. X 8, 031012 (2018): two-site gradient sweeps with adaptive bond
//!   dimension, exact likelihoods, exact i.i.d. and conditional (inpainting)
//!   sampling, exact marginals, versioned save/load.
//! - [`TtnBornMachine`]: the tree tensor network Born machine of Cheng, Wang, Xiang
//!   and Zhang, *Tree tensor networks for generative modeling*, Phys. Rev. B 99,
//!   155131 (2019), on a [`Tree`](crate::ttn::Tree) that follows the 2D image:
//!   two-node gradient updates along the tree edges, the same exactness and API.
//! - [`BornOptions`]: the validated training options (shared).
//! - [`BornMachine`]: what MPS and TTN Born machines share, so evaluation code is
//!   written once; [`AnyBornMachine`]: either model, chosen at run time.
//! - [`HalfSweepReport`]; [`FitObserver`], [`FitControl`] (from [`crate::fit`]):
//!   progress and stopping by the caller.
//! - [`Validation`]: early stopping on a validation set, keeping the best model
//!   ([`BornMachine::fit_validated_with`]).
//! - [`ProgressLog`]: a ready observer printing one line per half-sweep (NLL,
//!   validation NLL, bond, truncation error, seconds, ETA); with the cargo feature
//!   `progress`, `FitProgressBar`: an `indicatif` bar advancing per bond update.
//!
//! ```
//! use rand::SeedableRng;
//! use tnlearn::born::{BornMachine, BornOptions, MpsBornMachine};
//!
//! let model = MpsBornMachine::new(6, 2, BornOptions::new().initial_bond(3))?;
//! let p = model.marginal(&[0, 5])?; // 2 x 2 joint distribution of sites 0 and 5
//! assert!((p.sum() - 1.0).abs() < 1e-12);
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let x = model.sample(3, &mut rng)?;
//! assert!(model.log_prob(&x.row(0).to_vec())? <= 0.0);
//! # Ok::<(), tnlearn::Error>(())
//! ```

mod any;
mod checks;
mod mps;
mod observer;
mod options;
mod progress;
mod rows;
mod step;
mod ttn;
mod validation;

use std::path::Path;

use ndarray::{Array2, ArrayD, ArrayView2};
use rand::Rng;

/// Re-exported from [`crate::fit`], shared with CORA.
pub use crate::fit::{FitControl, FitObserver, NoObserver};
pub use any::AnyBornMachine;
pub use checks::{MAX_INITIAL_ENTRIES, MAX_MARGINAL_ENTRIES, MAX_SAMPLE_ENTRIES};
pub use mps::MpsBornMachine;
pub use observer::{HalfSweepReport, SweepDirection};
pub use options::{BornOptions, StepRule, AUTO_CHECKPOINT_BYTES};
#[cfg(feature = "progress")]
pub use progress::FitProgressBar;
pub use progress::ProgressLog;
pub use ttn::TtnBornMachine;
pub use validation::{Validation, DEFAULT_PATIENCE};

use crate::data::Dataset;
use crate::error::Result;

/// What every Born machine `p(x) = |psi(x)|^2 / Z` over `N` sites with `d` states
/// offers, independent of the network behind `psi` ([`MpsBornMachine`],
/// [`TtnBornMachine`], [`AnyBornMachine`]). All quantities are exact.
///
/// A model implements the primitives (sizes, batched `log_probs`, samplers,
/// marginals, training, saving); `log_prob`, `nll` and `fit` are written once here
/// on top of them. Import the trait to call any of these methods.
pub trait BornMachine {
    /// The number of sites `N`.
    fn num_sites(&self) -> usize;
    /// The number of states `d` per site.
    fn num_states(&self) -> usize;
    /// `ln p(x)` for every row of `samples` (`n x N`), exact, in log space (`-inf`
    /// where `p(x) = 0`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for another number
    /// of sites or a value `>= d`, naming sample and site.
    fn log_probs(&self, samples: ArrayView2<'_, u8>) -> Result<Vec<f64>>;
    /// `n` exact samples of `p(x_free | x_observed)`, observed sites copied from `x`.
    fn sample_conditional<R: Rng + ?Sized>(
        &self,
        x: &[u8],
        observed: &[bool],
        n: usize,
        rng: &mut R,
    ) -> Result<Array2<u8>>;
    /// The joint distribution of a few sites, shape `[d; sites.len()]`.
    fn marginal(&self, sites: &[usize]) -> Result<ArrayD<f64>>;
    /// The largest bond dimension of the network.
    fn max_bond(&self) -> usize;
    /// The training options (model state: saved with the model and used by every
    /// later fit).
    fn options(&self) -> &BornOptions;
    /// Replaces the options of the next fit (validated).
    fn set_options(&mut self, options: BornOptions) -> Result<()>;
    /// Trains by two-site (two-node) gradient sweeps, reporting every half-sweep to
    /// `observer` (which may stop the fit), with early stopping on `validation` if
    /// given (see [`Validation`]: the best model on the validation set is left in
    /// place). With `None` it is [`BornMachine::fit_with`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) before any work for
    /// invalid options (naming the setting), a training or validation set of another
    /// number of sites or with a value `>= d` (naming `train` or `validation`, the
    /// sample and the site), or a patience of 0; linear-algebra errors during
    /// training.
    fn fit_validated_with<O: FitObserver<HalfSweepReport, Self> + ?Sized>(
        &mut self,
        train: &Dataset,
        validation: Option<Validation<'_>>,
        observer: &mut O,
    ) -> Result<Vec<HalfSweepReport>>
    where
        Self: Sized;
    /// Writes the model to a versioned, checksummed file.
    fn save(&self, path: impl AsRef<Path>) -> Result<()>;

    /// `ln p(x) = 2 ln |psi(x)| - ln Z` for one configuration, exact, in log space
    /// (`-inf` if `p(x) = 0`).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `x.len() != N`,
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming the site if
    /// a value is `>= d`.
    fn log_prob(&self, x: &[u8]) -> Result<f64> {
        checks::check_config(x, self.num_sites(), self.num_states(), "x")?;
        let row = ArrayView2::from_shape((1, x.len()), x).expect("1 x N view");
        Ok(self.log_probs(row)?[0])
    }

    /// The negative log-likelihood in nats per sample,
    /// `L = -(1/|T|) sum_{x in T} ln p(x)`, exact (log space); `+inf` if some
    /// sample has probability 0.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for an empty data
    /// set, another number of sites, or a value `>= d` (naming sample and site).
    fn nll(&self, data: &Dataset) -> Result<f64> {
        checks::check_samples(data.samples(), self.num_sites(), self.num_states(), "data")?;
        let lp = self.log_probs(data.samples())?;
        Ok(-lp.iter().sum::<f64>() / lp.len() as f64)
    }

    /// `n` independent exact samples of `p(x)`, `n x N`: the conditional sampler
    /// with nothing observed (no Markov chain; the same `rng` state gives the same
    /// samples).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming `n` if
    /// `n * N` exceeds [`MAX_SAMPLE_ENTRIES`];
    /// [`Error::NoConvergence`](crate::Error::NoConvergence) only for a degenerate
    /// (zero) state.
    fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Result<Array2<u8>> {
        let nsites = self.num_sites();
        self.sample_conditional(&vec![0; nsites], &vec![false; nsites], n, rng)
    }

    /// Trains on `train` with `options().sweeps` sweeps (see
    /// [`BornMachine::fit_with`]); returns the half-sweep reports.
    fn fit(&mut self, train: &Dataset) -> Result<Vec<HalfSweepReport>>
    where
        Self: Sized,
    {
        self.fit_with(train, &mut NoObserver)
    }

    /// Trains by two-site (two-node) gradient sweeps, reporting every half-sweep to
    /// `observer`, which may stop training ([`FitControl::Stop`]); no validation
    /// set.
    fn fit_with<O: FitObserver<HalfSweepReport, Self> + ?Sized>(
        &mut self,
        train: &Dataset,
        observer: &mut O,
    ) -> Result<Vec<HalfSweepReport>>
    where
        Self: Sized,
    {
        self.fit_validated_with(train, None, observer)
    }

    /// Trains with early stopping on a validation set and no observer (see
    /// [`BornMachine::fit_validated_with`] and [`Validation`]); the model left in
    /// place is the best one on `validation.data`.
    fn fit_validated(
        &mut self,
        train: &Dataset,
        validation: Validation<'_>,
    ) -> Result<Vec<HalfSweepReport>>
    where
        Self: Sized,
    {
        self.fit_validated_with(train, Some(validation), &mut NoObserver)
    }
}

/// Implements [`BornMachine`] for a model with an `options` field by forwarding
/// the other primitives to the model's inherent methods of the same names.
macro_rules! forward_born_machine {
    ($model:ident) => {
        impl BornMachine for $model {
            fn num_sites(&self) -> usize {
                $model::num_sites(self)
            }
            fn num_states(&self) -> usize {
                $model::num_states(self)
            }
            fn log_probs(&self, samples: ArrayView2<'_, u8>) -> Result<Vec<f64>> {
                $model::log_probs(self, samples)
            }
            fn sample_conditional<R: Rng + ?Sized>(
                &self,
                x: &[u8],
                observed: &[bool],
                n: usize,
                rng: &mut R,
            ) -> Result<Array2<u8>> {
                $model::sample_conditional(self, x, observed, n, rng)
            }
            fn marginal(&self, sites: &[usize]) -> Result<ArrayD<f64>> {
                $model::marginal(self, sites)
            }
            fn max_bond(&self) -> usize {
                $model::max_bond(self)
            }
            fn options(&self) -> &BornOptions {
                &self.options
            }
            fn set_options(&mut self, options: BornOptions) -> Result<()> {
                options.validate()?;
                self.options = options;
                Ok(())
            }
            fn fit_validated_with<O: FitObserver<HalfSweepReport, Self> + ?Sized>(
                &mut self,
                train: &Dataset,
                validation: Option<Validation<'_>>,
                observer: &mut O,
            ) -> Result<Vec<HalfSweepReport>> {
                $model::fit_validated_with(self, train, validation, observer)
            }
            fn save(&self, path: impl AsRef<Path>) -> Result<()> {
                $model::save(self, path)
            }
        }
    };
}

forward_born_machine!(MpsBornMachine);
forward_born_machine!(TtnBornMachine);
