//! Exact marginals through causal cones: [`Cora::cone`], [`Cora::marginal`],
//! [`Cora::log_marginal`], [`Cora::patch_nll`].

use super::cone::Cone;
use super::em::histogram;
use super::model::Cora;
use super::network::{ConeNetwork, TopSource};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

impl Cora {
    /// The causal cone of `region` (sites of the data lattice `Gamma_0`) at every
    /// level up to the top: `cone.sites[j]` are the sites of `Gamma_j` the marginal
    /// of the region depends on (see [`Cone`]).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty region, a site out of range or a
    /// repeated site.
    pub fn cone(&self, region: &[usize]) -> Result<Cone> {
        Cone::compute(&self.geometry, 0, region, self.levels())
    }

    /// The exact joint distribution of the data sites `region`, a tensor of shape
    /// `[d; region.len()]` whose axis `k` is site `region[k]`:
    ///
    /// `p(x_A) = sum over the cone of e(h_J) prod R prod B`,
    ///
    /// contracted level by level through the cone (cost `O(levels x chi^cone)`,
    /// i.e. `O(log N)` for a fixed region), with one cached contraction plan per
    /// step alignment. No sampling and no truncation: exact to rounding.
    ///
    /// # Errors
    /// As [`Cora::cone`]; [`Error::InvalidArgument`] if the region is so large that
    /// a cone step needs more than 52 index letters.
    pub fn marginal(&self, region: &[usize]) -> Result<Tensor<f64>> {
        let cone = self.cone(region)?;
        let sorted = cone.sites[0].clone();
        let net = ConeNetwork::new(self, cone, TopSource::Full)?;
        let p = net.forward(self)?.pop().expect("non-empty");
        // Sorted site order -> the caller's order.
        let perm: Vec<usize> = region
            .iter()
            .map(|s| sorted.binary_search(s).expect("region site"))
            .collect();
        if perm.iter().enumerate().all(|(a, &b)| a == b) {
            Ok(p)
        } else {
            p.permute(&perm)
        }
    }

    /// Number of compiled contraction plans in the model's cache (one per level-step
    /// shape and alignment met so far; independent of the lattice size).
    pub fn cached_plans(&self) -> usize {
        self.plans.len()
    }

    /// `ln p(x_A)` for one data sample `x` (all `N` sites) and a region `A`.
    ///
    /// # Errors
    /// As [`Cora::marginal`]; [`Error::ShapeMismatch`] if `x.len() != N`;
    /// [`Error::InvalidArgument`] for a value `>= d`.
    ///
    /// ```
    /// use tnlearn::cora::{Architecture, Cora};
    /// use tnlearn::rand::{rngs::StdRng, SeedableRng};
    ///
    /// let model = Cora::random(Architecture::chain(8).levels(2), &mut StdRng::seed_from_u64(5))?;
    /// let x = [0, 1, 1, 0, 1, 0, 0, 1];
    /// let p = model.marginal(&[2, 3])?;
    /// assert!((model.log_marginal(&x, &[2, 3])? - p.get(&[1, 0])?.ln()).abs() < 1e-12);
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    pub fn log_marginal(&self, x: &[u8], region: &[usize]) -> Result<f64> {
        self.check_sample(x)?;
        let p = self.marginal(region)?;
        let vals: Vec<usize> = region.iter().map(|&s| x[s] as usize).collect();
        Ok(p.get(&vals)?.ln())
    }

    pub(crate) fn check_sample(&self, x: &[u8]) -> Result<()> {
        if x.len() != self.num_sites() {
            return Err(Error::shape_mismatch(
                "Cora: data sample",
                vec![self.num_sites()],
                vec![x.len()],
            ));
        }
        if let Some(s) = x.iter().position(|&v| v as usize >= self.num_states()) {
            return Err(Error::invalid_argument(
                "x",
                format!(
                    "site {s} has value {} >= num_states {}",
                    x[s],
                    self.num_states()
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn check_data(&self, data: &Dataset) -> Result<()> {
        if data.num_sites() != self.num_sites() || data.num_states() > self.num_states() {
            return Err(Error::invalid_argument(
                "data",
                format!(
                    "{} sites with {} states, the model has {} sites with {} states",
                    data.num_sites(),
                    data.num_states(),
                    self.num_sites(),
                    self.num_states()
                ),
            ));
        }
        if data.is_empty() {
            return Err(Error::invalid_argument("data", "is empty"));
        }
        Ok(())
    }

    /// The exact patch (composite) NLL of `data` in nats per patch:
    ///
    /// `-(1 / (|T| |P|)) sum_{x in T} sum_{P} ln p(x_P)`
    ///
    /// over every `height x width` window `P` of the data lattice
    /// ([`Geometry::windows`](super::Geometry::windows)). Each term is an exact
    /// cone marginal; the marginal table of a window is computed once and looked up
    /// for every sample.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for data of the wrong size or a window that does not
    /// fit; as [`Cora::marginal`].
    ///
    /// ```
    /// use tnlearn::cora::{Architecture, Cora, CoraFitOptions};
    /// use tnlearn::rand::{rngs::StdRng, SeedableRng};
    /// use tnlearn::Dataset;
    ///
    /// let mut rng = StdRng::seed_from_u64(4);
    /// let truth = Cora::random(Architecture::chain(8).levels(2), &mut rng)?;
    /// let data = Dataset::binary(truth.sample(60, &mut rng)?)?;
    /// let nll = truth.patch_nll(&data, (1, 2))?; // nats per pair of neighbouring sites
    /// assert!(nll > 0.0 && nll <= 2.0 * 2f64.ln() + 1.0);
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    pub fn patch_nll(&self, data: &Dataset, patch: (usize, usize)) -> Result<f64> {
        self.check_data(data)?;
        let windows = self.geometry.windows(0, patch)?;
        let mut total = 0.0;
        for w in &windows {
            let cone = Cone::compute(&self.geometry, 0, w, self.levels())?;
            let net = ConeNetwork::new(self, cone, TopSource::Full)?;
            let p = net.forward(self)?.pop().expect("non-empty");
            total += sum_log_lookup(&p, data, w, self.num_states());
        }
        Ok(-total / (data.len() * windows.len()) as f64)
    }
}

/// `sum_x ln p[x_window]` over the samples (window sites must be sorted, as the
/// cone tables are).
pub(crate) fn sum_log_lookup(p: &Tensor<f64>, data: &Dataset, window: &[usize], d: usize) -> f64 {
    let mut sorted = window.to_vec();
    sorted.sort_unstable();
    let hist = histogram(data.samples(), &sorted, d);
    hist.iter()
        .zip(p.as_slice())
        .filter(|(&n, _)| n > 0.0)
        .map(|(&n, &q)| n * q.ln())
        .sum()
}

impl Cora {
    /// Sets every coarse-graining prior `q_j` to the model's own one-site marginals of
    /// `Gamma_j` (computed exactly through the cones from `Gamma_j` to the top; with
    /// [`MapSharing::PerLevel`](super::MapSharing::PerLevel), their average over the
    /// sites). This is Beny's "prior generated by the layers already trained": it
    /// makes [`Cora::coarse_grain`] invert each level against what the levels above
    /// actually produce, and usually tightens [`Cora::nll_bound`].
    ///
    /// # Errors
    /// Errors of the cone contractions (none for valid models).
    pub fn priors_from_model(&mut self) -> Result<()> {
        let geo = self.geometry.clone();
        for j in 1..=self.levels() {
            let chi = geo.chi(j);
            let n = geo.num_sites(j);
            let mut marginals = Vec::with_capacity(n);
            for c in 0..n {
                let cone = Cone::compute(&geo, j, &[c], self.levels())?;
                let net = ConeNetwork::new(self, cone, TopSource::Full)?;
                let p = net.forward(self)?.pop().expect("non-empty");
                marginals.push(p.into_vec());
            }
            let count = self.priors[j - 1].len();
            for m in 0..count {
                let values: Vec<f64> = if count == n {
                    marginals[m].clone()
                } else {
                    (0..chi)
                        .map(|h| marginals.iter().map(|p| p[h]).sum::<f64>() / n as f64)
                        .collect()
                };
                let s: f64 = values.iter().sum();
                let values = values.iter().map(|v| v / s).collect();
                let map = super::StochasticMap::new(chi, 1, values)?;
                self.priors[j - 1][m] = map;
            }
        }
        Ok(())
    }
}
