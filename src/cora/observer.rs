//! Watching (and stopping) a CORA fit: [`EmReport`], [`LevelReport`],
//! [`CoraObserver`]. Training goes on or stops by [`FitControl`], the same
//! vocabulary as the Born machines.

pub use crate::fit::{FitControl, NoObserver};

use super::model::Cora;

/// Which learning method produced a report.
///
/// ```
/// use tnlearn::cora::{Architecture, Cora, CoraFitOptions, EmMethod, EmReport, FitControl};
/// use tnlearn::rand::{rngs::StdRng, SeedableRng};
///
/// let mut rng = StdRng::seed_from_u64(2);
/// let mut model = Cora::random(Architecture::chain(8).levels(2), &mut rng)?;
/// let data = tnlearn::Dataset::binary(model.sample(50, &mut rng)?)?;
/// let mut methods = Vec::new();
/// let options = CoraFitOptions::new().em_iterations(2).patch((1, 2));
/// model.fit_joint_with(&data, &options, &mut |r: &EmReport, _: &Cora| {
///     methods.push(r.method);
///     FitControl::Continue
/// })?;
/// assert!(methods.iter().all(|&m| m == EmMethod::Joint));
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum EmMethod {
    /// Beny's method 1: one level at a time on coarse-grained data.
    Layerwise,
    /// Beny's method 2: all levels at once on data patches through full cones.
    Joint,
}

/// One EM iteration.
///
/// ```
/// use tnlearn::cora::{Architecture, Cora, CoraFitOptions, EmReport, FitControl};
/// use tnlearn::rand::{rngs::StdRng, SeedableRng};
///
/// let mut rng = StdRng::seed_from_u64(2);
/// let mut model = Cora::random(Architecture::chain(8).levels(2), &mut rng)?;
/// let data = tnlearn::Dataset::binary(model.sample(50, &mut rng)?)?;
/// let mut objectives = Vec::new();
/// let options = CoraFitOptions::new().em_iterations(3).patch((1, 2));
/// model.fit_joint_with(&data, &options, &mut |r: &EmReport, _: &Cora| {
///     objectives.push(r.objective);
///     FitControl::Continue
/// })?;
/// // EM never decreases its objective.
/// assert!(objectives.windows(2).all(|w| w[1] >= w[0] - 1e-9));
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EmReport {
    /// The method.
    pub method: EmMethod,
    /// The level being fitted (layerwise), or the number of levels (joint).
    pub level: usize,
    /// Iteration number, from 1.
    pub iteration: usize,
    /// Exact patch NLL (nats per patch) of the training windows at the parameters
    /// the E-step saw (before this iteration's M-step). Layerwise: patches of the
    /// coarse-grained data of `Gamma_{level-1}` under the one-level model with the
    /// coarse-graining prior on top.
    pub patch_nll: f64,
    /// The EM objective per patch at those parameters:
    /// `(sum ln p(x_P) + alpha sum_theta ln theta) / (samples x windows)`;
    /// EM never decreases it.
    pub objective: f64,
    /// Wall-clock seconds of this iteration.
    pub seconds: f64,
}

/// One finished level of the layerwise fit.
///
/// ```
/// use tnlearn::cora::{
///     Architecture, Cora, CoraFitOptions, CoraObserver, EmReport, FitControl, LevelReport,
/// };
/// use tnlearn::rand::{rngs::StdRng, SeedableRng};
///
/// /// Counts the finished levels of a layerwise fit.
/// struct Levels(Vec<usize>);
/// impl CoraObserver for Levels {
///     fn on_iteration(&mut self, _: &EmReport, _: &Cora) -> FitControl {
///         FitControl::Continue
///     }
///     fn on_level(&mut self, r: &LevelReport, _: &Cora) {
///         self.0.push(r.level);
///     }
/// }
/// let mut rng = StdRng::seed_from_u64(2);
/// let mut model = Cora::initial(Architecture::chain(8).levels(2), 0.5, &mut rng)?;
/// let data = tnlearn::Dataset::binary(model.sample(40, &mut rng)?)?;
/// let mut levels = Levels(Vec::new());
/// let options = CoraFitOptions::new().em_iterations(2).patch((1, 2));
/// model.fit_layerwise_with(&data, &options, &mut levels)?;
/// assert_eq!(levels.0, vec![1, 2]);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LevelReport {
    /// The level.
    pub level: usize,
    /// EM iterations run.
    pub iterations: usize,
    /// Final patch NLL (nats per patch) of the level's training windows.
    pub patch_nll: f64,
    /// Wall-clock seconds for the level (EM and coarse-graining).
    pub seconds: f64,
}

/// Sees every EM iteration (and, layerwise, every finished level) and decides
/// whether to go on. Closures `FnMut(&EmReport, &Cora) -> FitControl` implement it.
///
/// ```
/// use tnlearn::cora::{Architecture, Cora, CoraFitOptions, EmReport, FitControl};
/// use tnlearn::rand::{rngs::StdRng, SeedableRng};
///
/// let mut rng = StdRng::seed_from_u64(2);
/// let mut model = Cora::random(Architecture::chain(8).levels(2), &mut rng)?;
/// let data = tnlearn::Dataset::binary(model.sample(50, &mut rng)?)?;
/// // A closure is an observer: stop the joint fit after its first iteration.
/// let mut seen = 0;
/// let options = CoraFitOptions::new().em_iterations(10).patch((1, 2));
/// model.fit_joint_with(&data, &options, &mut |_: &EmReport, _: &Cora| {
///     seen += 1;
///     FitControl::Stop
/// })?;
/// assert_eq!(seen, 1);
/// # Ok::<(), tnlearn::Error>(())
/// ```
pub trait CoraObserver {
    /// Called after every EM iteration; [`FitControl::Stop`] ends the current level
    /// (layerwise) or the fit (joint).
    fn on_iteration(&mut self, report: &EmReport, model: &Cora) -> FitControl;
    /// Called when a level of the layerwise fit is done (default: nothing).
    fn on_level(&mut self, _report: &LevelReport, _model: &Cora) {}
}

impl<F: FnMut(&EmReport, &Cora) -> FitControl> CoraObserver for F {
    fn on_iteration(&mut self, report: &EmReport, model: &Cora) -> FitControl {
        self(report, model)
    }
}

/// The former name of [`NoObserver`], the crate-wide observer that never stops a
/// fit (deprecated: use [`crate::fit::NoObserver`]).
pub use crate::fit::NoObserver as Silent;

impl CoraObserver for NoObserver {
    fn on_iteration(&mut self, _report: &EmReport, _model: &Cora) -> FitControl {
        FitControl::Continue
    }
}
