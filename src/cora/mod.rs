//! CORA, the classical stochastic MERA (C. Beny, *Deep learning and the
//! renormalization group*, arXiv:1301.3124): a generative hierarchy of local
//! column-stochastic maps with exact `O(log N)` marginals through causal cones,
//! exact ancestral sampling, and layer-by-layer learning.
//!
//! | file | one job |
//! |---|---|
//! | [`geometry`] | lattices, blocks, box groups, windows: [`Architecture`], [`Geometry`] |
//! | `params` | [`StochasticMap`], the column-stochastic parameters and their invariant |
//! | `model` | [`Cora`]: construction, parameters, updates |
//! | [`cone`] | [`Cone`]: the causal cone of a region |
//! | `network` | the cone contraction (cached [`ContractionPlan`](crate::ContractionPlan)s) and its environments |
//! | `marginal` | exact marginals, `log_marginal`, patch likelihoods |
//! | `sampling` | exact ancestral sampling |
//! | `em`, `options`, `observer` | layerwise and joint EM: [`CoraFitOptions`], [`CoraObserver`] |
//! | `coarse` | coarse-graining (Bayesian inverse), `nll_bound`, `nll_bound_truncated` |
//! | `information` | per level, exact `H(h)` and `I(h : block)`: [`LevelInformation`] |
//! | `io` | versioned, checksummed save/load (`TNLCORA`) |
//! | `export` | `export_npz` / `import_npz`: an `.npz` archive numpy reads (layout in `docs/cora.md`) |
//!
//! ```
//! use rand::SeedableRng;
//! use tnlearn::cora::{Architecture, Boundary, Cora};
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let arch = Architecture::square_2x2(8, 8).levels(3).boundary(Boundary::Periodic);
//! let model = Cora::random(arch, &mut rng)?;
//! let patch = model.geometry().window(0, (3, 3), (2, 2))?;
//! let p = model.marginal(&patch)?;            // exact 2x2x2x2 joint
//! assert!((p.as_slice().iter().sum::<f64>() - 1.0).abs() < 1e-12);
//! let x = model.sample(4, &mut rng)?;          // 4 exact samples, 4 x 64
//! assert_eq!(x.dim(), (4, 64));
//! # Ok::<(), tnlearn::Error>(())
//! ```

mod coarse;
pub mod cone;
mod em;
mod export;
pub mod geometry;
mod information;
mod io;
mod marginal;
mod model;
mod network;
mod observer;
mod options;
mod params;
mod sampling;

pub use cone::Cone;
pub use geometry::{Architecture, BlockScheme, Boundary, Geometry, MapSharing};
pub use information::LevelInformation;
pub use model::Cora;
pub use network::MAX_CONE_TABLE;
pub use observer::{CoraObserver, EmMethod, EmReport, FitControl, LevelReport, Silent};
pub use options::{BoxSchedule, CoarseGraining, CoraFitOptions};
pub use params::{StochasticMap, STOCHASTIC_TOLERANCE};
