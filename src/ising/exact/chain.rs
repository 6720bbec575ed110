//! The periodic chain by its 2 x 2 transfer matrix.

use super::{coupling, Thermodynamics};
use crate::error::{Error, Result};

/// Exact thermodynamics of a ring of `n >= 2` sites:
/// `Z_N = (2 cosh K)^N + (2 sinh K)^N = (2 cosh K)^N (1 + t^N)`, `t = tanh K`, so
/// `ln Z = N ln(2 cosh K) + ln(1 + t^N)` (no overflow for any `N`), with analytic
/// derivatives `d ln Z/dK = N t + r'/(1 + r)`, `r = t^N`, `r' = N t^(N-1) (1 - t^2)`.
///
/// ```
/// let t = tnlearn::ising::exact::chain(1000, 2.0)?;
/// assert!((t.entropy_per_site - 0.582203109).abs() < 1e-9); // = the infinite chain here
/// # Ok::<(), tnlearn::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] if `n < 2` or the temperature is not finite and `> 0`.
pub fn chain(n: usize, temperature: f64) -> Result<Thermodynamics> {
    if n < 2 {
        return Err(Error::invalid_argument(
            "n",
            format!("a ring needs at least 2 sites, got {n}"),
        ));
    }
    let k = coupling(temperature)?;
    let nf = n as f64;
    let t = k.tanh();
    let sech2 = 1.0 / (k.cosh() * k.cosh()); // 1 - t^2 without cancellation
                                             // r = t^N and its K-derivatives relative to r, computed in logs.
    let log_r = nf * t.ln();
    let r = log_r.exp();
    let r1 = if r > 0.0 { nf * sech2 / t * r } else { 0.0 };
    let r2 = if r > 0.0 {
        nf * sech2 / (t * t) * ((nf - 1.0) * sech2 - 2.0 * t * t) * r
    } else {
        0.0
    };
    let log_cosh2 = ln_2cosh(k);
    let log_z = nf * log_cosh2 + r.ln_1p();
    let d1 = nf * t + r1 / (1.0 + r);
    let d2 = nf * sech2 + (r2 * (1.0 + r) - r1 * r1) / ((1.0 + r) * (1.0 + r));
    Ok(Thermodynamics::from_log_z(
        temperature,
        Some(n),
        log_z / nf,
        d1 / nf,
        d2 / nf,
    ))
}

/// The infinite chain per site: `ln Z/N = ln(2 cosh K)`, `u = -tanh K`,
/// `C/N = K^2 sech^2 K`, `s = ln(2 cosh K) - K tanh K`.
///
/// ```
/// let t = tnlearn::ising::exact::chain_limit(1.0)?;
/// assert!((t.entropy_per_site - 0.365333855).abs() < 1e-9);
/// # Ok::<(), tnlearn::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] if the temperature is not finite and `> 0`.
pub fn chain_limit(temperature: f64) -> Result<Thermodynamics> {
    let k = coupling(temperature)?;
    let sech2 = 1.0 / (k.cosh() * k.cosh());
    Ok(Thermodynamics::from_log_z(
        temperature,
        None,
        ln_2cosh(k),
        k.tanh(),
        sech2,
    ))
}

/// `ln(2 cosh K)` for `K >= 0` without overflow: `K + ln(1 + e^{-2K})`.
pub(super) fn ln_2cosh(k: f64) -> f64 {
    k + (-2.0 * k).exp().ln_1p()
}
