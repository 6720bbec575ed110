//! Validated learning options: [`CoraFitOptions`].

use crate::error::{Error, Result};

/// Options of [`Cora::fit_layerwise`](super::Cora::fit_layerwise) and
/// [`Cora::fit_joint`](super::Cora::fit_joint), set builder-style and validated once.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `em_iterations` | `20` | EM iterations per level (layerwise) or in total (joint) |
/// | `pseudo_count` | `0.01` | Dirichlet pseudo-count `alpha` added to every expected count |
/// | `patch` | `None` | `(height, width)` of the training windows; `None`: `(1, 4)` for a chain, `(2, 2)` in 2D |
/// | `tolerance` | `1e-7` | stop a level when the objective improves by less than this (nats per patch) |
/// | `box_warmup` | `5` | layerwise: EM iterations per level with the boxes held fixed (a latent tree) before they are learned too |
/// | `factorized_refine` | `false` | keep refine maps in product form `R(y_block \| h) = prod_k r_k(y_k \| h)` |
/// | `box_schedule` | [`BoxSchedule::Interleaved`] | layerwise: when the boxes are learned (with the refine maps, or after them) |
/// | `coarse_graining` | [`CoarseGraining::Sample`] | layerwise: how the data are pushed up for the next level (a posterior draw, or the posterior mode) |
/// | `seed` | `0` | seed of the coarse-graining draws |
///
/// ```
/// use tnlearn::cora::{BoxSchedule, CoraFitOptions};
/// let opts = CoraFitOptions::new().em_iterations(10).patch((3, 3));
/// assert!(opts.validate().is_ok());
/// assert!(CoraFitOptions::new().pseudo_count(-1.0).validate().is_err());
/// // Refine maps first (boxes held), then the boxes alone:
/// let staged = CoraFitOptions::new().box_schedule(BoxSchedule::AfterRefine { iterations: 10 });
/// assert!(staged.validate().is_ok());
/// assert!(CoraFitOptions::new()
///     .box_schedule(BoxSchedule::AfterRefine { iterations: 0 })
///     .validate()
///     .is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CoraFitOptions {
    /// EM iterations per level (layerwise) or in total (joint), at least 1.
    pub em_iterations: usize,
    /// Dirichlet pseudo-count `alpha >= 0` (finite).
    pub pseudo_count: f64,
    /// Training window `(height, width)`; clipped to small lattices.
    pub patch: Option<(usize, usize)>,
    /// Early-stopping threshold on the objective gain per patch (`>= 0`).
    pub tolerance: f64,
    /// Layerwise: EM iterations per level with the box maps held fixed before they
    /// are learned too. Boxes start near the identity ([`Cora::initial`](super::Cora::initial)),
    /// so the coarse variables first learn to explain the blocks; boxes learned
    /// from the start can absorb a window's statistics on their own and leave the
    /// coarse variables (and hence every higher level) uninformative.
    pub box_warmup: usize,
    /// Keep every refine map in product form `R(y_block | h) = prod_k r_k(y_k | h)`
    /// (children conditionally independent given the parent). A full refine map
    /// can model a whole block on its own, and a mixture of full block tables is
    /// again a full block table, so with a product prior the coarse variable of
    /// the layerwise fit is then unidentifiable and the coarse-grained data carry
    /// little information. In product form the block's correlations must go
    /// through the coarse variable. The maps are projected onto product form
    /// (their per-child marginals) when a fit starts, and the M-step is the
    /// constrained one (per-child counts), so EM stays monotone.
    pub factorized_refine: bool,
    /// Layerwise: when a level's box maps are learned (see [`BoxSchedule`]).
    #[cfg_attr(feature = "serde", serde(default))]
    pub box_schedule: BoxSchedule,
    /// Layerwise: how the data are pushed up to train the next level (see
    /// [`CoarseGraining`]).
    #[cfg_attr(feature = "serde", serde(default))]
    pub coarse_graining: CoarseGraining,
    /// Seed of the coarse-graining draws.
    pub seed: u64,
}

/// When the layerwise fit ([`Cora::fit_layerwise`](super::Cora::fit_layerwise))
/// learns a level's box maps. The joint fit always learns every map at once.
///
/// Every iteration of either schedule is an EM step on a subset of the maps (the
/// others held), so the objective never decreases across the whole level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum BoxSchedule {
    /// Boxes held for the first `box_warmup` iterations, then learned together with
    /// the refine maps and priors (the original schedule, the default). With boxes
    /// learned alongside, they absorb the window statistics and the coarse variables
    /// of levels `>= 2` carry almost no information (`docs/cora.md`).
    #[default]
    Interleaved,
    /// Two stages per level. Tree stage: the level's boxes are set to the identity
    /// and the refine maps and priors are fitted (a latent tree, the fit whose
    /// coarse variables stay informative at every level; at most `em_iterations`
    /// iterations, stopping early when the gain drops below `tolerance`), and the
    /// data are coarse-grained with this tree for the next level. Box stage: the
    /// boxes restart from their values before the level's fit (near the identity
    /// for [`Cora::initial`](super::Cora::initial); EM cannot leave the exact
    /// identity) and are fitted alone, refine maps and priors held, for at most
    /// `iterations` iterations (same early stop). `box_warmup` is not used. The
    /// objective never decreases within a stage; the box restart may lower it (the
    /// box stage then starts its iteration count again at 1).
    AfterRefine {
        /// EM iterations of the box stage, at least 1.
        iterations: usize,
    },
}

/// How the layerwise fit ([`Cora::fit_layerwise`](super::Cora::fit_layerwise)) and
/// [`Cora::coarse_grain_with`](super::Cora::coarse_grain_with) pick the coarse values
/// of a sample from the Bayesian inverse of a level.
///
/// A draw adds noise wherever the coarse variable says little about its block: a
/// block that every model state emits alike (e.g. an MNIST border block, always
/// blank) gets a value drawn from the prior, a fair coin for a uniform prior, and
/// the next level is trained on that noise. The mode keeps only what the block
/// says: a deterministic function of the data (constant on such blocks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CoarseGraining {
    /// One draw from the posterior `q(h | z) propto q_j(h) R(z | h) ...` (Béný's
    /// Bayesian inverse; the default).
    #[default]
    Sample,
    /// The most probable `h` of each block's (sequential) posterior: exact per
    /// block without boxes, the greedy sequential mode with boxes.
    Mode,
}

impl Default for CoraFitOptions {
    fn default() -> Self {
        CoraFitOptions {
            em_iterations: 20,
            pseudo_count: 0.01,
            patch: None,
            tolerance: 1e-7,
            box_warmup: 5,
            factorized_refine: false,
            box_schedule: BoxSchedule::Interleaved,
            coarse_graining: CoarseGraining::Sample,
            seed: 0,
        }
    }
}

impl CoraFitOptions {
    /// The defaults (see the table in [`CoraFitOptions`]).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets `em_iterations`.
    pub fn em_iterations(mut self, n: usize) -> Self {
        self.em_iterations = n;
        self
    }
    /// Sets `pseudo_count`.
    pub fn pseudo_count(mut self, alpha: f64) -> Self {
        self.pseudo_count = alpha;
        self
    }
    /// Sets `patch`.
    pub fn patch(mut self, patch: (usize, usize)) -> Self {
        self.patch = Some(patch);
        self
    }
    /// Sets `tolerance`.
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }
    /// Sets `box_warmup`.
    pub fn box_warmup(mut self, iterations: usize) -> Self {
        self.box_warmup = iterations;
        self
    }
    /// Sets `factorized_refine`.
    pub fn factorized_refine(mut self, factorized: bool) -> Self {
        self.factorized_refine = factorized;
        self
    }
    /// Sets `box_schedule`.
    pub fn box_schedule(mut self, schedule: BoxSchedule) -> Self {
        self.box_schedule = schedule;
        self
    }
    /// Sets `coarse_graining`.
    pub fn coarse_graining(mut self, how: CoarseGraining) -> Self {
        self.coarse_graining = how;
        self
    }
    /// Sets `seed`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Checks every setting; the error names it.
    pub fn validate(&self) -> Result<()> {
        if self.em_iterations == 0 {
            return Err(Error::invalid_argument(
                "em_iterations",
                "must be at least 1",
            ));
        }
        if !self.pseudo_count.is_finite() || self.pseudo_count < 0.0 {
            return Err(Error::invalid_argument(
                "pseudo_count",
                format!("must be finite and >= 0 (got {})", self.pseudo_count),
            ));
        }
        if let Some((h, w)) = self.patch {
            if h == 0 || w == 0 {
                return Err(Error::invalid_argument(
                    "patch",
                    format!("must be at least 1 x 1 (got {h} x {w})"),
                ));
            }
        }
        if !self.tolerance.is_finite() || self.tolerance < 0.0 {
            return Err(Error::invalid_argument(
                "tolerance",
                format!("must be finite and >= 0 (got {})", self.tolerance),
            ));
        }
        if self.box_schedule == (BoxSchedule::AfterRefine { iterations: 0 }) {
            return Err(Error::invalid_argument(
                "box_schedule",
                "BoxSchedule::AfterRefine needs at least 1 box iteration \
                 (for a model without learned boxes, build the architecture with boxes(false))",
            ));
        }
        Ok(())
    }
}
