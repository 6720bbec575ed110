//! The infinite square lattice: Onsager's solution.

use super::special::{elliptic_k_e, integrate};
use super::{coupling, Thermodynamics};
use crate::error::Result;

/// Onsager's exact thermodynamics of the infinite square lattice, per site. With
/// `S = sinh 2K`, `Ch = cosh 2K`, modulus `kappa = 2S/Ch^2` and complementary modulus
/// `kappa' = |1 - S^2|/Ch^2` (exact rewriting of `sqrt(1 - kappa^2)`):
///
/// ```text
/// ln Z/N = ln(2 Ch) + (1/pi) int_0^{pi/2} ln[(1 + sqrt(cos^2 phi + kappa'^2 sin^2 phi))/2] dphi
/// u      = -coth 2K [1 + (2/pi) (2 tanh^2 2K - 1) K1(kappa)]
/// C/N    = -K^2 du/dK   (chain rule through coth 2K, tanh^2 2K and K1(kappa),
///                         dK1/dkappa = E1/(kappa kappa'^2) - K1/kappa)
/// s      = ln Z/N + K u
/// ```
///
/// `K1`, `E1` are the complete elliptic integrals (arithmetic-geometric mean), the
/// integral is adaptive Gauss-Legendre to `1e-15`. At `T = T_c` exactly (`kappa' = 0`)
/// `u = -sqrt 2` and `C/N = +inf`.
///
/// ```
/// let t = tnlearn::ising::exact::onsager(2.5)?;
/// assert!((t.entropy_per_site - 0.436932139277).abs() < 1e-11);
/// # Ok::<(), tnlearn::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) if the temperature is
/// not finite and `> 0`.
pub fn onsager(temperature: f64) -> Result<Thermodynamics> {
    let k = coupling(temperature)?;
    let s = (2.0 * k).sinh();
    let ch = (2.0 * k).cosh();
    let k_prime = (1.0 - s * s).abs() / (ch * ch);
    let integrand = |phi: f64| {
        let (sin, cos) = phi.sin_cos();
        (0.5 * (1.0 + (cos * cos + k_prime * k_prime * sin * sin).sqrt())).ln()
    };
    let pi = std::f64::consts::PI;
    let log_z = (2.0 * ch).ln() + integrate(&integrand, 0.0, 0.5 * pi, 1e-15) / pi;
    let coth = ch / s;
    let tanh2 = (s / ch) * (s / ch);
    let two_tanh2_m1 = (s * s - 1.0) / (ch * ch); // 2 tanh^2 2K - 1
    let (energy, heat) = if k_prime == 0.0 {
        (-coth, f64::INFINITY)
    } else {
        let (k1, e1) = elliptic_k_e(k_prime);
        let u = -coth * (1.0 + 2.0 / pi * two_tanh2_m1 * k1);
        // du/dK by the chain rule: d coth 2K/dK = -2/S^2, dq/dK = 8 tanh 2K sech^2 2K,
        // dkappa/dK = 4 (1 - S^2)/Ch^3, dK1/dkappa = E1/(kappa kappa'^2) - K1/kappa.
        let kappa = 2.0 * s / (ch * ch);
        let dq = 8.0 * (s / ch) * (1.0 - tanh2);
        let dkappa = 4.0 * (1.0 - s * s) / (ch * ch * ch);
        let dk1 = e1 / (kappa * k_prime * k_prime) - k1 / kappa;
        let du = 2.0 / (s * s) * (1.0 + 2.0 / pi * two_tanh2_m1 * k1)
            - coth * 2.0 / pi * (dq * k1 + two_tanh2_m1 * dk1 * dkappa);
        (u, -k * k * du)
    };
    Ok(Thermodynamics {
        temperature,
        n_sites: None,
        log_z_per_site: log_z,
        energy_per_site: energy,
        heat_capacity_per_site: heat,
        entropy_per_site: log_z + k * energy,
    })
}
