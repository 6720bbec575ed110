//! Ising data with an exact answer key.
//!
//! Spins `s = +-1` on a periodic [`Lattice`] (ring or `L x L` torus), coupling
//! `J = 1`, `k_B = 1`, `K = 1/T`, Boltzmann weight `exp(K sum_<ij> s_i s_j)`.
//!
//! - [`exact`]: `ln Z`, energy, heat capacity and entropy per site, exactly: the
//!   finite ring (transfer matrix), the finite torus (Kaufman), the infinite lattices
//!   (Onsager), and brute-force enumeration for small lattices.
//! - [`sampling`]: Wolff and Swendsen-Wang cluster Monte Carlo producing
//!   [`Dataset`](crate::data::Dataset)s of bits (`1` = spin up) for the models.
//! - [`stats`]: error bars of correlated time series (blocking analysis).
//! - [`mcrg`]: Swendsen's Monte Carlo renormalization group, the thermal exponent
//!   `y_t` of a coarse-graining ([`mcrg::CoarseGrain`], majority rule built in).
//!
//! Why exact values matter: a generative model's test NLL per site can never go below
//! the entropy per site of the distribution that produced the data, so
//! `NLL/N - s` is the model's KL divergence from the truth, per site.
//!
//! ```
//! use rand::SeedableRng;
//! use tnlearn::ising::{exact, sampling, Lattice, CRITICAL_TEMPERATURE};
//!
//! let lattice = Lattice::square(8)?;
//! let truth = exact::exact(&lattice, CRITICAL_TEMPERATURE)?;
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let options = sampling::SamplerOptions::new().burn_in(100).thinning(2);
//! let data = sampling::sample(&lattice, CRITICAL_TEMPERATURE, 50, &options, &mut rng)?;
//! assert_eq!((data.len(), data.num_sites(), data.image_shape()), (50, 64, Some((8, 8))));
//! assert!(truth.entropy_per_site > 0.28 && truth.entropy_per_site < 0.29);
//! # Ok::<(), tnlearn::Error>(())
//! ```

pub mod exact;
mod lattice;
pub mod mcrg;
pub mod sampling;
pub mod stats;

pub use exact::{Thermodynamics, CRITICAL_COUPLING, CRITICAL_TEMPERATURE};
pub use lattice::{snake_order, Lattice};
