//! Brute-force enumeration of all `2^N` configurations: the independent reference
//! for the exact formulas and the samplers on small lattices.

use super::{coupling, Thermodynamics};
use crate::error::{Error, Result};
use crate::ising::Lattice;

/// The largest lattice [`enumerate`] accepts (`2^24` configurations, a few seconds).
pub const MAX_ENUMERATION_SITES: usize = 24;

/// What brute-force enumeration gives: the thermodynamics and the magnetisation
/// moments `m = (1/N) sum_i s_i`.
///
/// ```
/// use tnlearn::ising::{exact, Lattice};
///
/// let e = exact::enumerate(&Lattice::square(3)?, 2.0)?; // all 2^9 configurations
/// assert!(e.mean_magnetization_squared <= 1.0);
/// assert!(e.mean_abs_magnetization <= e.mean_magnetization_squared.sqrt() + 1e-12);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Enumeration {
    /// `ln Z/N`, `u`, `C/N`, `s` (as from the exact formulas).
    pub thermodynamics: Thermodynamics,
    /// `<|m|>`.
    pub mean_abs_magnetization: f64,
    /// `<m^2>`.
    pub mean_magnetization_squared: f64,
}

/// Sums over all `2^N` configurations of a lattice with `N <= 24` sites. The
/// configurations are first binned by (bond sum, number of up spins) in exact integer
/// counts; the Boltzmann sums are then a log-sum-exp over the bins, so the results
/// are exact to rounding (`C/N` from `K^2 Var(E)/N` with the variance computed
/// about the mean).
///
/// ```
/// use tnlearn::ising::{exact, Lattice, CRITICAL_TEMPERATURE};
/// let e = exact::enumerate(&Lattice::square(4)?, CRITICAL_TEMPERATURE)?;
/// assert!((e.mean_abs_magnetization - 0.84386044).abs() < 1e-8);
/// # Ok::<(), tnlearn::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] if the lattice has more than
/// [`MAX_ENUMERATION_SITES`] sites or the temperature is not finite and `> 0`.
pub fn enumerate(lattice: &Lattice, temperature: f64) -> Result<Enumeration> {
    let n = lattice.num_sites();
    if n > MAX_ENUMERATION_SITES {
        return Err(Error::invalid_argument(
            "lattice",
            format!(
                "enumeration is limited to {MAX_ENUMERATION_SITES} sites (2^{MAX_ENUMERATION_SITES} \
                 configurations), this lattice has {n}"
            ),
        ));
    }
    let k = coupling(temperature)?;
    let bonds = lattice.bonds();
    let nb = bonds.len();
    // counts[(unequal bonds) * (n + 1) + ups]
    let mut counts = vec![0u64; (nb + 1) * (n + 1)];
    for x in 0u32..(1u32 << n) {
        let unequal: u32 = bonds.iter().map(|&(i, j)| ((x >> i) ^ (x >> j)) & 1).sum();
        counts[unequal as usize * (n + 1) + x.count_ones() as usize] += 1;
    }
    // Bin (d, ups): bond sum nb - 2d, log weight K (nb - 2d) + ln count.
    let bins: Vec<(f64, f64, f64)> = counts
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(idx, &c)| {
            let (d, ups) = (idx / (n + 1), idx % (n + 1));
            let bond_sum = nb as f64 - 2.0 * d as f64;
            let m = (2.0 * ups as f64 - n as f64) / n as f64;
            (k * bond_sum + (c as f64).ln(), -bond_sum, m)
        })
        .collect();
    let top = bins.iter().map(|b| b.0).fold(f64::NEG_INFINITY, f64::max);
    let weights: Vec<f64> = bins.iter().map(|b| (b.0 - top).exp()).collect();
    let z: f64 = weights.iter().sum();
    let mean = |f: &dyn Fn(&(f64, f64, f64)) -> f64| {
        bins.iter()
            .zip(&weights)
            .map(|(b, w)| w * f(b))
            .sum::<f64>()
            / z
    };
    let energy = mean(&|b| b.1);
    let var_e = mean(&|b| (b.1 - energy) * (b.1 - energy));
    let nf = n as f64;
    let log_z = (top + z.ln()) / nf;
    let thermodynamics = Thermodynamics {
        temperature,
        n_sites: Some(n),
        log_z_per_site: log_z,
        energy_per_site: energy / nf,
        heat_capacity_per_site: k * k * var_e / nf,
        entropy_per_site: log_z + k * energy / nf,
    };
    Ok(Enumeration {
        thermodynamics,
        mean_abs_magnetization: mean(&|b| b.2.abs()),
        mean_magnetization_squared: mean(&|b| b.2 * b.2),
    })
}
