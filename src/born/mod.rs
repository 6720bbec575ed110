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

#[macro_use]
mod forward;
mod any;
mod checks;
pub mod export;
mod mps;
mod observer;
mod options;
mod progress;
mod rows;
pub(crate) mod scratch;
mod step;
mod ttn;
mod validation;

use std::path::Path;

use ndarray::{Array2, ArrayD, ArrayView2};
use rand::{Rng, RngCore};

/// Re-exported from [`crate::fit`], shared with CORA.
pub use crate::fit::{FitControl, FitObserver, NoObserver};
pub use any::AnyBornMachine;
pub use checks::{Evidence, MAX_INITIAL_ENTRIES, MAX_MARGINAL_ENTRIES, MAX_SAMPLE_ENTRIES};
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
///
/// ```
/// use tnlearn::ndarray::array;
/// use tnlearn::rand::{rngs::StdRng, SeedableRng};
/// use tnlearn::{BornMachine, BornOptions, Dataset, MpsBornMachine, TtnBornMachine};
///
/// /// Works for either model: train, then the exact NLL and a few samples.
/// fn train_and_sample<M: BornMachine>(mut m: M, data: &Dataset) -> tnlearn::Result<f64> {
///     m.fit(data)?;
///     let x = m.sample(3, &mut StdRng::seed_from_u64(0))?;
///     assert_eq!(x.dim(), (3, m.num_sites()));
///     m.nll(data)
/// }
/// let data = Dataset::binary(array![[0, 1, 1, 0], [1, 0, 0, 1]])?;
/// let options = BornOptions::new().max_bond(4).sweeps(2);
/// let mps = train_and_sample(MpsBornMachine::new(4, 2, options)?, &data)?;
/// let ttn = train_and_sample(TtnBornMachine::for_image(2, 2, 2, options)?, &data)?;
/// assert!(mps < 4.0 * 2f64.ln() && ttn < 4.0 * 2f64.ln()); // better than uniform
/// # Ok::<(), tnlearn::Error>(())
/// ```
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
    /// The sampler behind [`BornMachine::sample_conditional`] and
    /// [`BornMachine::sample`]: `n` exact i.i.d. samples of
    /// `p(x_free | x_observed)` for checked evidence, observed sites copied from it
    /// (the model's documentation describes its algorithm). The draws depend only
    /// on `rng`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) if the observed
    /// values have probability 0 (the conditional does not exist) or the `n x N`
    /// result cannot be allocated.
    fn sample_given(
        &self,
        evidence: &Evidence<'_>,
        n: usize,
        rng: &mut dyn RngCore,
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

    /// `n` exact i.i.d. samples of `p(x_free | x_observed)` (inpainting): the sites
    /// with `observed[k] = true` keep the value `x[k]`, the others are drawn. Any
    /// mask is allowed (contiguous or not, none or all sites). No Markov chain: the
    /// same `rng` state gives the same samples.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tnlearn::born::{BornMachine, BornOptions, MpsBornMachine};
    ///
    /// let model = MpsBornMachine::new(6, 2, BornOptions::new().initial_bond(3))?;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// // Keep the first two sites at (1, 0), draw the other four.
    /// let x = [1, 0, 0, 0, 0, 0];
    /// let observed = [true, true, false, false, false, false];
    /// let s = model.sample_conditional(&x, &observed, 8, &mut rng)?;
    /// assert!(s.rows().into_iter().all(|r| r[0] == 1 && r[1] == 0));
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `x` or `observed`
    /// does not have `N` entries; [`Error::InvalidArgument`](crate::Error::InvalidArgument)
    /// naming the site for an observed value `>= d`, naming `n` if `n * N` exceeds
    /// [`MAX_SAMPLE_ENTRIES`] (checked arithmetic), and if the observed values have
    /// probability 0 (the conditional does not exist).
    fn sample_conditional<R: Rng + ?Sized>(
        &self,
        x: &[u8],
        observed: &[bool],
        n: usize,
        rng: &mut R,
    ) -> Result<Array2<u8>> {
        let evidence = Evidence::new(x, observed, self.num_sites(), self.num_states())?;
        checks::check_sample_count(n, self.num_sites())?;
        self.sample_given(&evidence, n, &mut DynRng(rng))
    }

    /// [`BornMachine::fit_with`] with a closure as observer, whose parameter types
    /// are inferred (a closure passed to `fit_with` needs them written out).
    ///
    /// ```
    /// use tnlearn::born::{BornMachine, BornOptions, FitControl, MpsBornMachine};
    /// use tnlearn::Dataset;
    ///
    /// let data = Dataset::binary(ndarray::array![[0, 1, 1, 0], [1, 0, 0, 1]])?;
    /// let mut model = MpsBornMachine::new(4, 2, BornOptions::new().sweeps(50))?;
    /// // Stop as soon as the training NLL is within 0.05 of its floor ln 2.
    /// let reports = model.fit_with_fn(&data, |r, _m| {
    ///     if r.train_nll < 2f64.ln() + 0.05 { FitControl::Stop } else { FitControl::Continue }
    /// })?;
    /// assert!(reports.len() < 100);
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    fn fit_with_fn<F>(&mut self, train: &Dataset, mut observer: F) -> Result<Vec<HalfSweepReport>>
    where
        Self: Sized,
        F: FnMut(&HalfSweepReport, &Self) -> FitControl,
    {
        self.fit_with(train, &mut observer)
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

impl_born_machine!(MpsBornMachine, via_inherent { model_items!(); });
impl_born_machine!(TtnBornMachine, via_inherent { model_items!(); });

/// A `&mut R` for any (possibly unsized) generator as a `dyn RngCore`: every call
/// is forwarded, so the stream of numbers is the generator's own.
struct DynRng<'a, R: ?Sized>(&'a mut R);

impl<R: RngCore + ?Sized> RngCore for DynRng<'_, R> {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.0.fill_bytes(dst)
    }
}
