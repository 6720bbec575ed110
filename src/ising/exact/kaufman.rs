//! The finite `L x L` torus: Kaufman's exact partition function (Phys. Rev. 76,
//! 1232 (1949)) in the form of Ferdinand and Fisher (Phys. Rev. 185, 832 (1969)),
//! evaluated in log space with analytic first and second derivatives in `K`.

use super::{coupling, Thermodynamics};
use crate::error::{Error, Result};

/// `ln |Y|` of a product of positive factors with its first two `K`-derivatives, each
/// accumulated factor by factor (`(ln f)'' = f''/f - (f'/f)^2` is evaluated in closed
/// form per factor, so no `O(N^2)` terms cancel).
#[derive(Clone, Copy, Debug, Default)]
struct LogProduct {
    log: f64,
    d1: f64,
    d2: f64,
}

impl LogProduct {
    /// Multiplies by `2 cosh x`: `(ln 2 cosh x)' = tanh x x'`,
    /// `(ln 2 cosh x)'' = sech^2 x x'^2 + tanh x x''`.
    fn times_two_cosh(&mut self, x: f64, dx: f64, ddx: f64) {
        let t = x.tanh();
        let sech2 = 1.0 / (x.cosh() * x.cosh());
        self.log += x.abs() + (-2.0 * x.abs()).exp().ln_1p();
        self.d1 += t * dx;
        self.d2 += sech2 * dx * dx + t * ddx;
    }

    /// Multiplies by `2 sinh x`, `x > 0`: `(ln 2 sinh x)' = coth x x'`,
    /// `(ln 2 sinh x)'' = -csch^2 x x'^2 + coth x x''`.
    fn times_two_sinh(&mut self, x: f64, dx: f64, ddx: f64) {
        let coth = 1.0 / x.tanh();
        let csch2 = 1.0 / (x.sinh() * x.sinh());
        self.log += x + (-(-2.0 * x).exp_m1()).ln();
        self.d1 += coth * dx;
        self.d2 += -csch2 * dx * dx + coth * ddx;
    }
}

/// `(g_l, g_l', g_l'')` for `l >= 1`: `cosh g_l = cosh 2K coth 2K - cos(pi l / L)`.
///
/// With `S = sinh 2K`, `w = cosh g_l`: `w - 1 = (S - 1)^2 / S + 2 sin^2(pi l / 2L)`
/// (exact rewriting, no cancellation near `T_c`), `g = ln(1 + (w-1) + sqrt((w-1)(w+1)))`,
/// `g' = c'/sinh g`, `g'' = (c'' - cosh g g'^2)/sinh g` with `c = cosh^2 2K / S`.
fn gamma(l: usize, size: usize, k: f64) -> (f64, f64, f64) {
    let s = (2.0 * k).sinh();
    let ch = (2.0 * k).cosh();
    let half = (std::f64::consts::PI * l as f64 / (2.0 * size as f64)).sin();
    let w1 = (s - 1.0) * (s - 1.0) / s + 2.0 * half * half; // w - 1 > 0
    let sinh_g = (w1 * (w1 + 2.0)).sqrt();
    let g = (w1 + sinh_g).ln_1p();
    let c1 = 2.0 * ch * (s * s - 1.0) / (s * s);
    let c2 = 4.0 * s - 4.0 / s + 8.0 * ch * ch / (s * s * s);
    let dg = c1 / sinh_g;
    let ddg = (c2 - (1.0 + w1) * dg * dg) / sinh_g;
    (g, dg, ddg)
}

/// `(g_0, g_0', g_0'')` with `g_0 = 2K + ln tanh K` (signed: negative above `T_c`,
/// zero at `T_c`), `g_0' = 2 + 2/sinh 2K`, `g_0'' = -4 cosh 2K / sinh^2 2K`.
fn gamma0(k: f64) -> (f64, f64, f64) {
    let s = (2.0 * k).sinh();
    let ch = (2.0 * k).cosh();
    // 2K + ln tanh K = ln(e^{2K} tanh K); e^{2K} tanh K - 1 = (e^{2K}(1 - e^{-2K})
    // - (1 + e^{-2K}))/(1 + e^{-2K}) = (e^{2K} - 2 - e^{-2K})/(1 + e^{-2K}) = 2(S - 1)/(1 + e^{-2K}).
    let g0 = (2.0 * (s - 1.0) / (1.0 + (-2.0 * k).exp())).ln_1p();
    (g0, 2.0 + 2.0 / s, -4.0 * ch / (s * s))
}

/// Exact thermodynamics of the `l x l` torus (`l >= 2`, `N = l^2`), valid above, at
/// and below `T_c` and for any `l` (no overflow):
///
/// ```text
/// Z = 1/2 (2 sinh 2K)^(N/2) (Y1 + Y2 + Y3 + Y4)
/// Y1 = prod_{r=0}^{L-1} 2 cosh(L g_{2r+1} / 2)     Y2 = same with sinh
/// Y3 = prod_{r=0}^{L-1} 2 cosh(L g_{2r} / 2)       Y4 = same with sinh
/// cosh g_l = cosh 2K coth 2K - cos(pi l / L)  (l >= 1, g_l > 0)
/// g_0 = 2K + ln tanh K
/// ```
///
/// `g_0` keeps its sign (`Y4 < 0` above `T_c`, `Y4 = 0` at `T_c`). Each product is
/// carried as its logarithm with the first two `K`-derivatives of the logarithm
/// (summed factor by factor in closed form); the sum is taken relative to the
/// largest-scale term, `ln(Y1 + Y2 + Y3 + Y4) = ln Y1 + ln(1 + sum_i Y_i/Y1)` (a
/// signed log-sum-exp), with the sign and possible zero of the `sinh(L g_0/2)`
/// factor of `Y4` carried explicitly. Energy, heat capacity and entropy come from the analytic
/// derivatives of `ln Z` (product rule through all `2L` factors per `Y_i`), so they
/// are as accurate as `ln Z` itself: they agree with brute-force enumeration
/// ([`enumerate`](super::enumerate)) to about `1e-14` for `L = 2, 3, 4`.
///
/// ```
/// use tnlearn::ising::{exact, CRITICAL_TEMPERATURE};
/// let t = exact::square(32, CRITICAL_TEMPERATURE)?;
/// assert!((t.log_z().unwrap() - 952.6480795485427).abs() < 1e-9);
/// assert!((t.energy_per_site + 1.4336584661).abs() < 1e-10);
/// # Ok::<(), tnlearn::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] if `l < 2`, `l^2` exceeds the lattice limit of
/// [`Lattice::square`](crate::ising::Lattice::square) (`u32::MAX` sites), or the
/// temperature is not finite and `> 0`; [`Error::NoConvergence`] naming the
/// temperature if Kaufman's sum or its derivatives are not finite in floating point
/// (very low or very high temperatures).
pub fn square(l: usize, temperature: f64) -> Result<Thermodynamics> {
    if l < 2 {
        return Err(Error::invalid_argument(
            "l",
            format!("the torus needs l >= 2, got {l}"),
        ));
    }
    // Bounds l (the product below loops over l and computes l * l).
    crate::ising::Lattice::square(l)?;
    let k = coupling(temperature)?;
    let lf = l as f64;
    let n = lf * lf;
    let half_l = lf / 2.0;
    // Y1, Y2 over odd l; Y3 (so far) and P4 over even l >= 2 (l = 0 comes next).
    let [mut y1, mut y2, mut y3, mut p4] = [LogProduct::default(); 4];
    for r in 0..l {
        let (g, dg, ddg) = gamma(2 * r + 1, l, k);
        let x = (half_l * g, half_l * dg, half_l * ddg);
        y1.times_two_cosh(x.0, x.1, x.2);
        y2.times_two_sinh(x.0, x.1, x.2);
        if r > 0 {
            let (g, dg, ddg) = gamma(2 * r, l, k);
            let x = (half_l * g, half_l * dg, half_l * ddg);
            y3.times_two_cosh(x.0, x.1, x.2);
            p4.times_two_sinh(x.0, x.1, x.2);
        }
    }
    let (g0, dg0, ddg0) = gamma0(k);
    let (x0, dx0, ddx0) = (half_l * g0, half_l * dg0, half_l * ddg0);
    y3.times_two_cosh(x0, dx0, ddx0);
    // Y_i / Y1 = rho_i with derivatives, from differences of log-derivatives.
    let ratio = |y: &LogProduct| {
        let (dd, de) = (y.d1 - y1.d1, y.d2 - y1.d2);
        let rho = (y.log - y1.log).exp();
        (rho, rho * dd, rho * (de + dd * dd))
    };
    let (r2, r3) = (ratio(&y2), ratio(&y3));
    // Y4 = 2 sinh(x0) P4, signed, possibly zero: 2 sinh(x0) = e^{|x0|} a0 with
    // a0 = sign(x0)(1 - e^{-2|x0|}), and (2 sinh x0)' = e^{|x0|} (1 + e^{-2|x0|}) x0'.
    let a0 = -x0.signum() * (-2.0 * x0.abs()).exp_m1();
    let c0 = 1.0 + (-2.0 * x0.abs()).exp();
    let (b0, cc0) = (c0 * dx0, a0 * dx0 * dx0 + c0 * ddx0);
    let (dq, eq) = (p4.d1 - y1.d1, p4.d2 - y1.d2);
    let q = (p4.log + x0.abs() - y1.log).exp();
    let r4 = (
        q * a0,
        q * (b0 + a0 * dq),
        q * (cc0 + 2.0 * b0 * dq + a0 * (eq + dq * dq)),
    );
    let a = 1.0 + r2.0 + r3.0 + r4.0;
    let b = r2.1 + r3.1 + r4.1;
    let c = r2.2 + r3.2 + r4.2;
    if a.is_nan() || a <= 0.0 || !y1.log.is_finite() {
        return Err(Error::NoConvergence {
            routine: "ising::exact::square".into(),
            detail: format!(
                "Kaufman's sum (Y1 + Y2 + Y3 + Y4)/Y1 = {a} is not positive at L = {l}, \
                 temperature T = {temperature} (in floating point; use a temperature closer \
                 to T_c or exact::enumerate for a small torus)"
            ),
        });
    }
    let top = y1.log;
    let s2k = (2.0 * k).sinh();
    let log_z = -std::f64::consts::LN_2 + n / 2.0 * (2.0 * s2k).ln() + top + a.ln();
    let d1 = n * (2.0 * k).cosh() / s2k + y1.d1 + b / a;
    let d2 = -2.0 * n / (s2k * s2k) + y1.d2 + c / a - (b / a) * (b / a);
    if !(log_z.is_finite() && d1.is_finite() && d2.is_finite()) {
        return Err(Error::NoConvergence {
            routine: "ising::exact::square".into(),
            detail: format!(
                "ln Z or its derivatives are not finite at L = {l}, temperature T = {temperature}"
            ),
        });
    }
    Ok(Thermodynamics::from_log_z(
        temperature,
        Some(l * l),
        log_z / n,
        d1 / n,
        d2 / n,
    ))
}
