//! The model: [`Cora`], its construction, parameters and their invariant.

use rand::Rng;

use super::geometry::{Architecture, Geometry};
use super::params::StochasticMap;
use crate::error::{Error, Result};
use crate::tensor::PlanCache;

/// `chi_J^(sites of Gamma_J)`, the entries of the top table, checked (validated
/// to be at most [`MAX_TOP_ENTRIES`](super::geometry::MAX_TOP_ENTRIES)).
pub(crate) fn top_entries(geometry: &Geometry) -> Result<usize> {
    let big_j = geometry.levels();
    u32::try_from(geometry.num_sites(big_j))
        .ok()
        .and_then(|sites| geometry.chi(big_j).checked_pow(sites))
        .ok_or_else(|| {
            Error::invalid_argument(
                "levels",
                format!(
                    "the top table over {} sites of {} states overflows",
                    geometry.num_sites(big_j),
                    geometry.chi(big_j)
                ),
            )
        })
}

/// CORA, the classical stochastic MERA of Beny (arXiv:1301.3124): a distribution on
/// the data lattice `Gamma_0` generated from a top distribution `e` by local
/// column-stochastic maps,
///
/// ```text
/// mu = pi_1 o pi_2 o ... o pi_J (e),
/// pi_j = (product of box maps B on groups of Gamma_{j-1}) o (product of refine maps R, one per site of Gamma_j)
/// ```
///
/// `R(y_block | h_c)` emits the block of a site `c` of `Gamma_j`; `B(z_g | y_g)` then
/// decorrelates a group `g` straddling blocks (see [`super::geometry`] for where
/// blocks and groups are). `e` is a full table over the top lattice `Gamma_J`.
/// Every map is a [`StochasticMap`]; the invariant (entries `>= 0`, columns summing
/// to 1 within `1e-12`) is checked at construction and after every update.
///
/// Besides the generative maps, each level carries a *coarse-graining prior*
/// `q_j` (a product distribution on `Gamma_j`, per site or shared): the prior of
/// the Bayesian inverse of `pi_j` used by [`Cora::coarse_grain`], the layerwise fit
/// and the proposal of [`Cora::nll_bound`]. It does not enter `mu`.
///
/// ```
/// use rand::SeedableRng;
/// use tnlearn::cora::{Architecture, Cora};
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let model = Cora::random(Architecture::chain(16).levels(3), &mut rng)?;
/// let p = model.marginal(&[3, 4, 5])?; // exact 2 x 2 x 2 joint of three sites
/// assert!((p.as_slice().iter().sum::<f64>() - 1.0).abs() < 1e-12);
/// assert_eq!(model.cone(&[3, 4, 5])?.sites[3].len(), 2); // the 2 top sites
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Cora {
    pub(crate) geometry: Geometry,
    /// `refine[j - 1][m]`: refine maps of level `j`.
    pub(crate) refine: Vec<Vec<StochasticMap>>,
    /// `boxes[j - 1][m]`: box maps of level `j`.
    pub(crate) boxes: Vec<Vec<StochasticMap>>,
    /// `priors[j - 1][m]`: coarse-graining priors on `Gamma_j` (`chi_j x 1`).
    pub(crate) priors: Vec<Vec<StochasticMap>>,
    /// The top distribution, `chi_J^(sites of Gamma_J) x 1`.
    pub(crate) top: StochasticMap,
    pub(crate) plans: PlanCache,
}

impl Cora {
    /// Builds a model whose maps come from `make(is_box, outputs, inputs)`.
    fn build(
        arch: Architecture,
        mut make: impl FnMut(bool, usize, usize) -> Result<StochasticMap>,
    ) -> Result<Self> {
        let geometry = Geometry::new(arch)?;
        let big_j = geometry.levels();
        let mut refine = Vec::with_capacity(big_j);
        let mut boxes = Vec::with_capacity(big_j);
        let mut priors = Vec::with_capacity(big_j);
        for j in 1..=big_j {
            let (fine, coarse) = (geometry.chi(j - 1), geometry.chi(j));
            let rows = fine.pow(geometry.block_size() as u32);
            refine.push(
                (0..geometry.num_refine_maps(j))
                    .map(|_| make(false, rows, coarse))
                    .collect::<Result<_>>()?,
            );
            let g = fine.pow(geometry.group_size() as u32);
            boxes.push(
                (0..geometry.num_box_maps(j))
                    .map(|_| make(true, g, g))
                    .collect::<Result<_>>()?,
            );
            priors.push(
                (0..geometry.num_refine_maps(j))
                    .map(|_| StochasticMap::uniform(coarse, 1))
                    .collect::<Result<_>>()?,
            );
        }
        let top_len = top_entries(&geometry)?;
        let top = make(false, top_len, 1)?;
        Ok(Cora {
            geometry,
            refine,
            boxes,
            priors,
            top,
            plans: PlanCache::default(),
        })
    }

    /// A model with every map and the top distribution drawn column by column from
    /// the flat Dirichlet distribution ([`StochasticMap::random`]); uniform
    /// coarse-graining priors.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for invalid settings ([`Architecture::validate`]).
    pub fn random<R: Rng + ?Sized>(arch: Architecture, rng: &mut R) -> Result<Self> {
        Self::build(arch, |_, o, i| StochasticMap::random(o, i, rng))
    }

    /// The starting point of the fits: refine maps and the top distribution
    /// `(1 - noise) * uniform + noise * Dirichlet` ([`StochasticMap::near_uniform`]),
    /// box maps `(1 - noise / 4) * identity + (noise / 4) * Dirichlet`, uniform priors.
    ///
    /// Boxes start near the identity (the model starts as a latent tree) so that
    /// the coarse variables, not the boxes, first explain the blocks; a box that
    /// starts at random can learn a window's statistics on its own and leave the
    /// coarse variables uninformative.
    ///
    /// # Errors
    /// As [`Cora::random`]; `noise` outside `[0, 1]`.
    pub fn initial<R: Rng + ?Sized>(arch: Architecture, noise: f64, rng: &mut R) -> Result<Self> {
        if !(0.0..=1.0).contains(&noise) {
            return Err(Error::invalid_argument(
                "noise",
                format!("must be in [0, 1] (got {noise})"),
            ));
        }
        Self::build(arch, |is_box, o, i| {
            if is_box {
                StochasticMap::near_identity(o, noise / 4.0, rng)
            } else {
                StochasticMap::near_uniform(o, i, noise, rng)
            }
        })
    }

    /// The same model without boxes (a latent tree): refine maps, priors and top
    /// cloned, the architecture with `boxes(false)`. With identity boxes a model is
    /// this tree, but its patch cones also hold the blocks behind each box, whose
    /// children are all unobserved; in EM those blocks only add counts proportional
    /// to the current maps, which damps every update. The tree stage of
    /// [`super::BoxSchedule::AfterRefine`] therefore runs on this copy.
    pub(crate) fn without_boxes(&self) -> Result<Cora> {
        let geometry = Geometry::new(self.architecture().clone().boxes(false))?;
        Ok(Cora {
            boxes: vec![Vec::new(); geometry.levels()],
            geometry,
            refine: self.refine.clone(),
            priors: self.priors.clone(),
            top: self.top.clone(),
            plans: PlanCache::default(),
        })
    }

    /// The lattices, blocks and groups.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }
    /// The settings.
    pub fn architecture(&self) -> &Architecture {
        self.geometry.architecture()
    }
    /// Number of levels `J`.
    pub fn levels(&self) -> usize {
        self.geometry.levels()
    }
    /// Number of data sites.
    pub fn num_sites(&self) -> usize {
        self.geometry.num_sites(0)
    }
    /// States of a data site.
    pub fn num_states(&self) -> usize {
        self.geometry.chi(0)
    }
    /// Total number of free parameters (`sum over maps of (outputs - 1) * inputs`).
    pub fn num_parameters(&self) -> usize {
        let count = |m: &StochasticMap| (m.outputs() - 1) * m.inputs();
        self.refine
            .iter()
            .chain(&self.boxes)
            .flatten()
            .map(count)
            .sum::<usize>()
            + count(&self.top)
    }

    fn check_level(&self, level: usize) -> Result<()> {
        if level == 0 || level > self.levels() {
            return Err(Error::invalid_argument(
                "level",
                format!("must be in 1..={} (got {level})", self.levels()),
            ));
        }
        Ok(())
    }

    fn lookup<'a>(
        maps: &'a [Vec<StochasticMap>],
        what: &str,
        level: usize,
        index: usize,
    ) -> Result<&'a StochasticMap> {
        maps[level - 1].get(index).ok_or_else(|| {
            Error::invalid_argument(
                "index",
                format!(
                    "level {level} has {} {what} maps (got index {index})",
                    maps[level - 1].len()
                ),
            )
        })
    }

    /// Refine map number `index` of level `level` (see [`Geometry::refine_index`]):
    /// `chi_{level-1}^(block) x chi_level`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a level outside `1..=J` or an index out of range.
    pub fn refine_map(&self, level: usize, index: usize) -> Result<&StochasticMap> {
        self.check_level(level)?;
        Self::lookup(&self.refine, "refine", level, index)
    }
    /// Box map number `index` of level `level` (see [`Geometry::box_index`]):
    /// `chi_{level-1}^g x chi_{level-1}^g`.
    ///
    /// # Errors
    /// As [`Cora::refine_map`].
    pub fn box_map(&self, level: usize, index: usize) -> Result<&StochasticMap> {
        self.check_level(level)?;
        Self::lookup(&self.boxes, "box", level, index)
    }
    /// Coarse-graining prior number `index` of level `level` (`chi_level x 1`).
    ///
    /// # Errors
    /// As [`Cora::refine_map`].
    pub fn prior(&self, level: usize, index: usize) -> Result<&StochasticMap> {
        self.check_level(level)?;
        Self::lookup(&self.priors, "prior", level, index)
    }
    /// The top distribution `e`: a `chi_J^(sites of Gamma_J) x 1` map, the top sites
    /// flattened row-major (first site slowest).
    pub fn top(&self) -> &StochasticMap {
        &self.top
    }

    fn replace(
        slot: &mut StochasticMap,
        map: StochasticMap,
        what: &str,
        level: usize,
        index: usize,
    ) -> Result<()> {
        if (map.outputs(), map.inputs()) != (slot.outputs(), slot.inputs()) {
            return Err(Error::shape_mismatch(
                format!("{what} map {index} of level {level}"),
                vec![slot.outputs(), slot.inputs()],
                vec![map.outputs(), map.inputs()],
            ));
        }
        map.check(&format!("{what} map {index} of level {level}"))?;
        *slot = map;
        Ok(())
    }

    /// Replaces refine map `index` of level `level`.
    ///
    /// # Errors
    /// As [`Cora::refine_map`]; [`Error::ShapeMismatch`] for a map of another shape.
    pub fn set_refine_map(&mut self, level: usize, index: usize, map: StochasticMap) -> Result<()> {
        self.refine_map(level, index)?;
        Self::replace(
            &mut self.refine[level - 1][index],
            map,
            "refine",
            level,
            index,
        )
    }
    /// Replaces box map `index` of level `level`.
    ///
    /// # Errors
    /// As [`Cora::set_refine_map`].
    pub fn set_box_map(&mut self, level: usize, index: usize, map: StochasticMap) -> Result<()> {
        self.box_map(level, index)?;
        Self::replace(&mut self.boxes[level - 1][index], map, "box", level, index)
    }
    /// Replaces coarse-graining prior `index` of level `level`.
    ///
    /// # Errors
    /// As [`Cora::set_refine_map`].
    pub fn set_prior(&mut self, level: usize, index: usize, map: StochasticMap) -> Result<()> {
        self.prior(level, index)?;
        Self::replace(
            &mut self.priors[level - 1][index],
            map,
            "prior",
            level,
            index,
        )
    }
    /// Replaces the top distribution.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a map of another shape.
    pub fn set_top(&mut self, map: StochasticMap) -> Result<()> {
        let j = self.levels();
        Self::replace(&mut self.top, map, "top", j, 0)
    }

    /// The refine map used by site `site` of `Gamma_level`.
    pub(crate) fn refine_of(&self, level: usize, site: usize) -> &StochasticMap {
        &self.refine[level - 1][self.geometry.refine_index(level, site)]
    }
    /// The box map used by group `group` of level `level`.
    pub(crate) fn box_of(&self, level: usize, group: usize) -> &StochasticMap {
        &self.boxes[level - 1][self.geometry.box_index(level, group)]
    }
    /// The coarse-graining prior of site `site` of `Gamma_level`.
    pub(crate) fn prior_of(&self, level: usize, site: usize) -> &StochasticMap {
        &self.priors[level - 1][self.geometry.refine_index(level, site)]
    }

    /// Checks the invariant of every map (used after loading and in debug builds).
    pub(crate) fn check_all(&self) -> Result<()> {
        for (j, level) in self.refine.iter().enumerate() {
            for (m, map) in level.iter().enumerate() {
                map.check(&format!("refine map {m} of level {}", j + 1))?;
            }
        }
        for (j, level) in self.boxes.iter().enumerate() {
            for (m, map) in level.iter().enumerate() {
                map.check(&format!("box map {m} of level {}", j + 1))?;
            }
        }
        for (j, level) in self.priors.iter().enumerate() {
            for (m, map) in level.iter().enumerate() {
                map.check(&format!("prior {m} of level {}", j + 1))?;
            }
        }
        self.top.check("top distribution")
    }
}

impl std::fmt::Display for Cora {
    /// A one-line summary: sites, states, levels, parameters.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CORA: {} sites with {} states each, {} levels, {} parameters",
            self.num_sites(),
            self.num_states(),
            self.levels(),
            self.num_parameters()
        )
    }
}
