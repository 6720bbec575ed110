//! Born machines: generative models `p(x) = |psi(x)|^2 / Z` whose amplitude `psi`
//! is a tensor network, learned by maximum likelihood and sampled exactly.
//!
//! - [`MpsBornMachine`]: the matrix product state Born machine of Han, Wang, Fan,
//!   Wang and Zhang, *Unsupervised Generative Modeling Using Matrix Product States*,
//!   Phys. Rev. X 8, 031012 (2018): two-site gradient sweeps with adaptive bond
//!   dimension, exact likelihoods, exact i.i.d. and conditional (inpainting)
//!   sampling, exact marginals, versioned save/load.
//! - [`BornOptions`]: the validated training options.
//! - [`BornMachine`]: what MPS and (future) TTN Born machines share.
//! - [`FitObserver`], [`HalfSweepReport`], [`FitControl`]: progress and early stopping.
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

mod environments;
mod io;
mod mps_born;
mod observer;
mod options;
mod sampling;
mod training;
mod ttn_born;
mod ttn_io;
mod ttn_messages;
mod ttn_sampling;
mod ttn_split;
mod ttn_training;

use ndarray::{Array2, ArrayD};
use rand::Rng;

pub use mps_born::MpsBornMachine;
pub use observer::{FitControl, FitObserver, HalfSweepReport, NoObserver, SweepDirection};
pub use options::BornOptions;
pub use sampling::MAX_MARGINAL_ENTRIES;
pub use ttn_born::TtnBornMachine;

use crate::data::Dataset;
use crate::error::Result;

/// What every Born machine `p(x) = |psi(x)|^2 / Z` over `N` sites with `d` states
/// offers, independent of the network behind `psi` (MPS now, TTN later). All
/// quantities are exact.
pub trait BornMachine {
    /// The number of sites `N`.
    fn num_sites(&self) -> usize;
    /// The number of states `d` per site.
    fn num_states(&self) -> usize;
    /// `ln p(x)` for one configuration (`-inf` if `p(x) = 0`).
    fn log_prob(&self, x: &[u8]) -> Result<f64>;
    /// `-(1/|T|) sum_{x in T} ln p(x)`, nats per sample.
    fn nll(&self, data: &Dataset) -> Result<f64>;
    /// `n` independent exact samples, `n x N`.
    fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Result<Array2<u8>>;
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
}

impl BornMachine for MpsBornMachine {
    fn num_sites(&self) -> usize {
        MpsBornMachine::num_sites(self)
    }
    fn num_states(&self) -> usize {
        MpsBornMachine::num_states(self)
    }
    fn log_prob(&self, x: &[u8]) -> Result<f64> {
        MpsBornMachine::log_prob(self, x)
    }
    fn nll(&self, data: &Dataset) -> Result<f64> {
        MpsBornMachine::nll(self, data)
    }
    fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Result<Array2<u8>> {
        MpsBornMachine::sample(self, n, rng)
    }
    fn sample_conditional<R: Rng + ?Sized>(
        &self,
        x: &[u8],
        observed: &[bool],
        n: usize,
        rng: &mut R,
    ) -> Result<Array2<u8>> {
        MpsBornMachine::sample_conditional(self, x, observed, n, rng)
    }
    fn marginal(&self, sites: &[usize]) -> Result<ArrayD<f64>> {
        MpsBornMachine::marginal(self, sites)
    }
}

impl BornMachine for TtnBornMachine {
    fn num_sites(&self) -> usize {
        TtnBornMachine::num_sites(self)
    }
    fn num_states(&self) -> usize {
        TtnBornMachine::num_states(self)
    }
    fn log_prob(&self, x: &[u8]) -> Result<f64> {
        TtnBornMachine::log_prob(self, x)
    }
    fn nll(&self, data: &Dataset) -> Result<f64> {
        TtnBornMachine::nll(self, data)
    }
    fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Result<Array2<u8>> {
        TtnBornMachine::sample(self, n, rng)
    }
    fn sample_conditional<R: Rng + ?Sized>(
        &self,
        x: &[u8],
        observed: &[bool],
        n: usize,
        rng: &mut R,
    ) -> Result<Array2<u8>> {
        TtnBornMachine::sample_conditional(self, x, observed, n, rng)
    }
    fn marginal(&self, sites: &[usize]) -> Result<ArrayD<f64>> {
        TtnBornMachine::marginal(self, sites)
    }
}
