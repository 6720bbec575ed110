//! Exact thermodynamics of the Ising model (`J = 1`, `k_B = 1`, `K = 1/T`, weight
//! `exp(K sum_<ij> s_i s_j)`, periodic boundaries): the answer key of the Ising data.
//!
//! | function | system | method |
//! |---|---|---|
//! | [`chain`] | ring of `N` sites | transfer matrix, `Z_N = (2 cosh K)^N + (2 sinh K)^N` |
//! | [`chain_limit`] | infinite chain | `ln Z/N = ln(2 cosh K)` |
//! | [`square`] | `L x L` torus | Kaufman (1949) in the Ferdinand-Fisher form, log space |
//! | [`onsager`] | infinite square lattice | Onsager (1944), elliptic integrals |
//! | [`enumerate`] | any small [`Lattice`] | brute force over all `2^N` states |
//! | [`exact`] | any [`Lattice`] | [`chain`] or [`square`] |
//!
//! All derivatives are analytic (no finite differences):
//! `u = E/N = -(1/N) d ln Z/dK`, `C/N = (K^2/N) d^2 ln Z/dK^2`, and the entropy
//! `s = S/N = ln Z/N + K u`.

mod chain;
mod enumerate;
mod kaufman;
mod onsager;
mod special;

pub use chain::{chain, chain_limit};
pub use enumerate::{enumerate, Enumeration, MAX_ENUMERATION_SITES};
pub use kaufman::square;
pub use onsager::onsager;

use super::Lattice;
use crate::error::{Error, Result};

/// Exact thermodynamics per site at one temperature.
///
/// For a finite lattice `n_sites` is `Some(N)` and [`log_z`](Self::log_z) gives
/// `ln Z` itself; for an infinite lattice it is `None`.
///
/// ```
/// use tnlearn::ising::{exact, Lattice, CRITICAL_TEMPERATURE};
///
/// let t = exact::exact(&Lattice::square(4)?, CRITICAL_TEMPERATURE)?; // Kaufman, L = 4
/// assert_eq!(t.n_sites, Some(16));
/// assert!(t.entropy_per_site > 0.0 && t.entropy_per_site < std::f64::consts::LN_2);
/// let limit = exact::onsager(CRITICAL_TEMPERATURE)?; // the thermodynamic limit
/// assert_eq!(limit.log_z(), None);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thermodynamics {
    /// The temperature `T = 1/K`.
    pub temperature: f64,
    /// `N` for a finite lattice, `None` in the thermodynamic limit.
    pub n_sites: Option<usize>,
    /// `ln Z / N`.
    pub log_z_per_site: f64,
    /// `u = <E>/N` (`E = -sum_<ij> s_i s_j`).
    pub energy_per_site: f64,
    /// `C/N = K^2 (<E^2> - <E>^2)/N` (infinite at `T_c` in the thermodynamic limit).
    pub heat_capacity_per_site: f64,
    /// `s = S/N = ln Z/N + K u`, nats per site: the lowest test NLL per site any model
    /// of the Boltzmann distribution can reach.
    pub entropy_per_site: f64,
}

impl Thermodynamics {
    /// `ln Z` of a finite lattice (`None` in the thermodynamic limit).
    pub fn log_z(&self) -> Option<f64> {
        self.n_sites.map(|n| self.log_z_per_site * n as f64)
    }

    /// Assembles the per-site values from `ln Z` and its first two derivatives in
    /// `K`, all divided by `N`.
    pub(crate) fn from_log_z(
        temperature: f64,
        n_sites: Option<usize>,
        log_z_per_site: f64,
        d1_per_site: f64,
        d2_per_site: f64,
    ) -> Self {
        let k = 1.0 / temperature;
        let energy = -d1_per_site;
        Thermodynamics {
            temperature,
            n_sites,
            log_z_per_site,
            energy_per_site: energy,
            heat_capacity_per_site: k * k * d2_per_site,
            entropy_per_site: log_z_per_site + k * energy,
        }
    }
}

/// `K_c = ln(1 + sqrt 2)/2`, the critical coupling of the square lattice.
pub const CRITICAL_COUPLING: f64 = 0.440_686_793_509_771_5;

/// `T_c = 1/K_c = 2/ln(1 + sqrt 2)`, the critical temperature of the square lattice.
pub const CRITICAL_TEMPERATURE: f64 = 2.269_185_314_213_022;

/// Checks a temperature: finite and `> 0`; returns `K = 1/T`.
pub(crate) fn coupling(temperature: f64) -> Result<f64> {
    if !temperature.is_finite() || temperature <= 0.0 {
        return Err(Error::invalid_argument(
            "temperature",
            format!("must be finite and > 0, got {temperature}"),
        ));
    }
    let k = 1.0 / temperature;
    if !k.is_finite() || k > 1e6 {
        return Err(Error::invalid_argument(
            "temperature",
            format!("{temperature} is too small (K = 1/T must be at most 1e6)"),
        ));
    }
    Ok(k)
}

/// The exact thermodynamics of a finite lattice: [`chain`] for a ring, [`square`]
/// for a torus.
///
/// ```
/// use tnlearn::ising::{exact, Lattice, CRITICAL_TEMPERATURE};
/// let t = exact::exact(&Lattice::square(16)?, CRITICAL_TEMPERATURE)?;
/// assert!((t.log_z().unwrap() - 238.64225663513287).abs() < 1e-10);
/// assert!((t.entropy_per_site - 0.29185).abs() < 1e-5);
/// # Ok::<(), tnlearn::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] if the temperature is not finite and positive.
pub fn exact(lattice: &Lattice, temperature: f64) -> Result<Thermodynamics> {
    match *lattice {
        Lattice::Ring { n } => chain(n, temperature),
        Lattice::Square { l } => square(l, temperature),
    }
}
