//! How much each level's coarse variables say about their blocks:
//! [`Cora::level_information`], exact from the model.

use super::cone::Cone;
use super::model::Cora;
use super::network::{ConeNetwork, TopSource};
use crate::error::Result;

/// Exact information figures of one level `j` of a [`Cora`] model, averaged over
/// the sites of `Gamma_j` (see [`Cora::level_information`]).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LevelInformation {
    /// The level `j` (`1..=J`).
    pub level: usize,
    /// Site average of the entropy `H(h_c) = -sum_h p_c(h) ln p_c(h)` of a coarse
    /// variable (nats), `p_c` the model's exact one-site marginal of site `c` of
    /// `Gamma_j`.
    pub entropy: f64,
    /// Site average of the mutual information (nats) between a coarse variable and
    /// the block its refine map emits (before the boxes),
    /// `I(h_c : y) = sum_h p_c(h) sum_y R(y | h) ln(R(y | h) / sum_h' p_c(h') R(y | h'))`.
    pub mutual_information: f64,
}

/// `H(p)` and `I(h : y)` for a prior `p` and a map `r(y, h)` (`outputs x chi`).
fn entropy_and_information(
    p: &[f64],
    r: impl Fn(usize, usize) -> f64,
    outputs: usize,
) -> (f64, f64) {
    let entropy = -p
        .iter()
        .filter(|&&x| x > 0.0)
        .map(|x| x * x.ln())
        .sum::<f64>();
    let mut mi = 0.0;
    for y in 0..outputs {
        let py: f64 = p.iter().enumerate().map(|(h, &ph)| ph * r(y, h)).sum();
        for (h, &ph) in p.iter().enumerate() {
            let t = ph * r(y, h);
            if t > 0.0 {
                mi += t * (r(y, h) / py).ln();
            }
        }
    }
    (entropy, mi)
}

impl Cora {
    /// Per level `j = 1..=J`, the entropy of a coarse variable `h_c` (a site of
    /// `Gamma_j`) and its mutual information with the block `y` of `Gamma_{j-1}` its
    /// refine map `R` emits, both averaged over the sites `c`:
    ///
    /// ```text
    /// H(h_c)     = -sum_h p_c(h) ln p_c(h)
    /// I(h_c : y) =  sum_h p_c(h) sum_y R(y | h) ln( R(y | h) / sum_h' p_c(h') R(y | h') )
    /// ```
    ///
    /// with `p_c` the model's exact one-site marginal (the cone from `Gamma_j` to the
    /// top; the coarse-graining priors are not used). `I` is the information the
    /// level passes down: `I = 0` when the coarse variables do not influence their
    /// blocks (then the levels above model nothing of the data), and
    /// `I <= min(H(h_c), H(y))`. No sampling: exact to rounding.
    ///
    /// # Errors
    /// Errors of the cone contractions (none for valid models).
    ///
    /// ```
    /// use tnlearn::cora::{Architecture, Cora};
    /// use tnlearn::rand::{rngs::StdRng, SeedableRng};
    /// let mut rng = StdRng::seed_from_u64(3);
    /// let model = Cora::random(Architecture::square_2x2(8, 8).levels(3), &mut rng)?;
    /// let info = model.level_information()?;
    /// assert_eq!(info.len(), 3);
    /// assert!(info.iter().all(|l| l.mutual_information >= -1e-12
    ///     && l.mutual_information <= l.entropy + 1e-12));
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    pub fn level_information(&self) -> Result<Vec<LevelInformation>> {
        let geo = &self.geometry;
        let mut out = Vec::with_capacity(self.levels());
        for j in 1..=self.levels() {
            let n = geo.num_sites(j);
            let (mut entropy, mut mutual_information) = (0.0, 0.0);
            for c in 0..n {
                let cone = Cone::compute(geo, j, &[c], self.levels())?;
                let net = ConeNetwork::new(self, cone, TopSource::Full)?;
                let p = net.forward(self)?.pop().expect("non-empty").into_vec();
                let r = self.refine_of(j, c);
                let (h, i) = entropy_and_information(&p, |y, h| r.get(y, h), r.outputs());
                entropy += h;
                mutual_information += i;
            }
            out.push(LevelInformation {
                level: j,
                entropy: entropy / n as f64,
                mutual_information: mutual_information / n as f64,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::entropy_and_information;

    #[test]
    fn information_of_known_channels() {
        let p = [0.5, 0.5];
        // identity channel: I = H = ln 2
        let (h, i) = entropy_and_information(&p, |y, h| if y == h { 1.0 } else { 0.0 }, 2);
        assert!((h - 2f64.ln()).abs() < 1e-15 && (i - 2f64.ln()).abs() < 1e-15);
        // a channel that ignores h: I = 0
        let (_, i) = entropy_and_information(&p, |y, _| [0.3, 0.7][y], 2);
        assert!(i.abs() < 1e-15);
        // binary symmetric channel with flip e: I = ln 2 - H_b(e)
        let e: f64 = 0.1;
        let (_, i) = entropy_and_information(&p, |y, h| if y == h { 1.0 - e } else { e }, 2);
        let hb = -(e * e.ln() + (1.0 - e) * (1.0 - e).ln());
        assert!((i - (2f64.ln() - hb)).abs() < 1e-14);
    }
}
