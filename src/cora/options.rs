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
/// | `seed` | `0` | seed of the coarse-graining draws |
///
/// ```
/// use tnlearn::cora::CoraFitOptions;
/// let opts = CoraFitOptions::new().em_iterations(10).patch((3, 3));
/// assert!(opts.validate().is_ok());
/// assert!(CoraFitOptions::new().pseudo_count(-1.0).validate().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CoraFitOptions {
    /// EM iterations per level (layerwise) or in total (joint), at least 1.
    pub em_iterations: usize,
    /// Dirichlet pseudo-count `alpha >= 0` (finite).
    pub pseudo_count: f64,
    /// Training window `(height, width)`; clipped to small lattices.
    pub patch: Option<(usize, usize)>,
    /// Early-stopping threshold on the objective gain per patch (`>= 0`).
    pub tolerance: f64,
    /// Seed of the coarse-graining draws.
    pub seed: u64,
}

impl Default for CoraFitOptions {
    fn default() -> Self {
        CoraFitOptions {
            em_iterations: 20,
            pseudo_count: 0.01,
            patch: None,
            tolerance: 1e-7,
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
        Ok(())
    }
}
