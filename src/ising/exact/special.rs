//! Special functions for the Onsager solution: complete elliptic integrals (by the
//! arithmetic-geometric mean) and adaptive Gauss-Legendre quadrature.

/// `(K(k), E(k))`, the complete elliptic integrals of the first and second kind with
/// modulus `k`, given the complementary modulus `k' = sqrt(1 - k^2) > 0` (passed
/// directly so that `k -> 1` keeps its precision). Abramowitz-Stegun 17.6:
/// `K = pi / (2 AGM(1, k'))`, `E = K (1 - sum_n 2^(n-1) c_n^2)`, `c_0 = k`.
pub(super) fn elliptic_k_e(k_prime: f64) -> (f64, f64) {
    let (mut a, mut b) = (1.0f64, k_prime);
    let mut c2 = (1.0 - k_prime) * (1.0 + k_prime); // c_0^2 = k^2
    let mut sum = 0.5 * c2;
    let mut power = 0.5;
    for _ in 0..64 {
        let c = 0.5 * (a - b);
        let (na, nb) = (0.5 * (a + b), (a * b).sqrt());
        a = na;
        b = nb;
        power *= 2.0;
        c2 = c * c;
        sum += power * c2;
        if c.abs() <= 4.0 * f64::EPSILON * a {
            break;
        }
    }
    let kk = std::f64::consts::PI / (2.0 * a);
    (kk, kk * (1.0 - sum))
}

/// Nodes and weights of the `n`-point Gauss-Legendre rule on `[-1, 1]` (Newton on
/// `P_n`, starting from Chebyshev-like guesses).
fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    let mut rule = Vec::with_capacity(n);
    for i in 0..n {
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut dp = 0.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, x);
            for j in 2..=n {
                let p2 = ((2 * j - 1) as f64 * x * p1 - (j - 1) as f64 * p0) / j as f64;
                p0 = p1;
                p1 = p2;
            }
            dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
            let dx = p1 / dp;
            x -= dx;
            if dx.abs() < 1e-16 {
                break;
            }
        }
        rule.push((x, 2.0 / ((1.0 - x * x) * dp * dp)));
    }
    rule
}

/// `int_a^b f`, adaptive: a 20-point Gauss-Legendre rule on each interval, bisected
/// until the two halves agree with the whole to `tol` (absolute, split over the
/// pieces), at most 40 levels deep.
pub(super) fn integrate(f: &dyn Fn(f64) -> f64, a: f64, b: f64, tol: f64) -> f64 {
    let rule = gauss_legendre(20);
    let apply = |a: f64, b: f64| {
        let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
        half * rule
            .iter()
            .map(|&(x, w)| w * f(mid + half * x))
            .sum::<f64>()
    };
    fn recurse(
        apply: &dyn Fn(f64, f64) -> f64,
        a: f64,
        b: f64,
        whole: f64,
        tol: f64,
        depth: usize,
    ) -> f64 {
        let m = 0.5 * (a + b);
        let (left, right) = (apply(a, m), apply(m, b));
        if depth >= 40 || (left + right - whole).abs() <= tol {
            return left + right;
        }
        recurse(apply, a, m, left, 0.5 * tol, depth + 1)
            + recurse(apply, m, b, right, 0.5 * tol, depth + 1)
    }
    recurse(&apply, a, b, apply(a, b), tol, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elliptic_integrals_match_known_values() {
        // K(0) = E(0) = pi/2; K(1/sqrt 2) = Gamma(1/4)^2 / (4 sqrt pi).
        let (k, e) = elliptic_k_e(1.0);
        assert!((k - std::f64::consts::FRAC_PI_2).abs() < 1e-15);
        assert!((e - std::f64::consts::FRAC_PI_2).abs() < 1e-15);
        let (k, e) = elliptic_k_e(0.5f64.sqrt());
        assert!((k - 1.854_074_677_301_372).abs() < 1e-14);
        assert!((e - 1.350_643_881_047_675_5).abs() < 1e-14);
    }

    #[test]
    fn quadrature_integrates_near_singular_functions() {
        let exact = 2.0f64.sqrt() * 2.0 / 3.0; // int_0^1 sqrt(2x) dx
        let got = integrate(&|x: f64| (2.0 * x).sqrt(), 0.0, 1.0, 1e-15);
        assert!((got - exact).abs() < 1e-13, "{got} vs {exact}");
    }
}
