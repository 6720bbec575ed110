//! Learning by expectation-maximisation on exact patch marginals:
//! [`Cora::fit_layerwise`] (Beny's method 1) and [`Cora::fit_joint`] (method 2).
//!
//! The objective is the composite likelihood `sum_x sum_P ln p(x_P)` over training
//! windows `P`. Each `p(x_P)` is a cone contraction, multilinear in every occurrence
//! of every map, so EM applies: the E-step gives, for every map entry, the expected
//! count `n(theta) = sum_x sum_P theta d p(x_P)/d theta / p(x_P)` (the posterior
//! usage of the entry in the cone of `P`, read off the cone environments); the
//! M-step sets each column to its normalised counts plus a Dirichlet pseudo-count
//! `alpha`, `theta(o | i) = (n(o, i) + alpha) / sum_o' (n(o', i) + alpha)`. This
//! maximises the usual EM lower bound of `sum ln p(x_P) + alpha sum ln theta`, so
//! that objective never decreases (with `alpha = 0`, the patch likelihood itself).
//! Maps shared across positions pool the counts of all their occurrences.

use std::time::Instant;

use ndarray::{Array2, ArrayView2};
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::cone::Cone;
use super::geometry::BlockScheme;
use super::model::Cora;
use super::network::{ConeNetwork, Counts, TopSource};
use super::observer::{CoraObserver, EmMethod, EmReport, FitControl, LevelReport, Silent};
use super::options::{BoxSchedule, CoraFitOptions};
use super::params::StochasticMap;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Which maps an EM run updates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Every map of the levels (layerwise: boxes after `box_warmup` iterations).
    All,
    /// Refine maps and priors; boxes held.
    Tree,
    /// Boxes only.
    Boxes,
}

/// Forwards the EM iterations of a tree stage (run on a box-free copy) to the
/// caller's observer, showing it the model with the copy's refine maps and priors.
struct TreeStage<'a> {
    model: &'a mut Cora,
    level: usize,
    inner: &'a mut dyn CoraObserver,
}

impl CoraObserver for TreeStage<'_> {
    fn on_iteration(&mut self, report: &EmReport, tree: &Cora) -> FitControl {
        let j = self.level;
        self.model.refine[j - 1].clone_from(&tree.refine[j - 1]);
        self.model.priors[j - 1].clone_from(&tree.priors[j - 1]);
        self.inner.on_iteration(report, self.model)
    }
}

/// Counts of each configuration of `sites` in `data` (row-major, first site slowest).
pub(crate) fn histogram(data: ArrayView2<'_, u8>, sites: &[usize], d: usize) -> Vec<f64> {
    let mut hist = vec![0.0; d.pow(sites.len() as u32)];
    for x in data.rows() {
        let k = sites.iter().fold(0, |k, &s| k * d + x[s] as usize);
        hist[k] += 1.0;
    }
    hist
}

impl Cora {
    /// The training window shape at a level: the option, or the scheme default,
    /// clipped to the lattice.
    fn patch_at(&self, options: &CoraFitOptions, level: usize) -> (usize, usize) {
        let default = match self.architecture().scheme {
            BlockScheme::Chain => (1, 4),
            _ => (2, 2),
        };
        let (h, w) = options.patch.unwrap_or(default);
        let (rows, cols) = self.geometry.dims(level);
        (h.min(rows), w.min(cols))
    }

    /// One E-step: the expected counts and `sum ln p(x_P)` of `data` (values of
    /// `Gamma_base`) over `windows`, through cones from `base` to `top`.
    fn e_step(
        &self,
        data: ArrayView2<'_, u8>,
        base: usize,
        top: usize,
        source: TopSource,
        windows: &[Vec<usize>],
    ) -> Result<(Counts, f64)> {
        let d = self.geometry.chi(base);
        let mut counts = Counts::zeros(self);
        let mut log_lik = 0.0;
        for w in windows {
            let cone = Cone::compute(&self.geometry, base, w, top)?;
            let net = ConeNetwork::new(self, cone, source)?;
            let hist = histogram(data, &net.cone.sites[0], d);
            let tables = net.forward(self)?;
            let p = tables.last().expect("non-empty");
            let mut weights = vec![0.0; hist.len()];
            for ((wt, &n), &q) in weights.iter_mut().zip(&hist).zip(p.as_slice()) {
                if n > 0.0 {
                    log_lik += n * q.ln();
                    *wt = n / q;
                }
            }
            let weights = Tensor::new(p.shape(), weights)?;
            net.backward(self, &tables, weights, &mut counts)?;
        }
        Ok((counts, log_lik))
    }

    /// `alpha sum ln theta` over the maps an EM step updates.
    fn log_prior(
        &self,
        alpha: f64,
        levels: &[usize],
        (priors, top): (bool, bool),
        factorized: bool,
    ) -> f64 {
        if alpha == 0.0 {
            return 0.0;
        }
        let sum = |m: &super::StochasticMap| m.values().iter().map(|v| v.ln()).sum::<f64>();
        let (b, mut s) = (self.geometry.block_size(), 0.0);
        for &j in levels {
            let fine = self.geometry.chi(j - 1);
            s += self.refine[j - 1]
                .iter()
                .map(|m| {
                    if factorized {
                        m.output_marginals(fine, b)
                            .iter()
                            .flatten()
                            .map(|v| v.ln())
                            .sum()
                    } else {
                        sum(m)
                    }
                })
                .sum::<f64>();
            s += self.boxes[j - 1].iter().map(sum).sum::<f64>();
            if priors {
                s += self.priors[j - 1].iter().map(sum).sum::<f64>();
            }
        }
        if top {
            s += sum(&self.top);
        }
        alpha * s
    }

    /// The M-step for the maps of `levels` (the refine maps, boxes, priors and top as
    /// flagged; maps not flagged are held).
    fn m_step(
        &mut self,
        counts: &Counts,
        alpha: f64,
        levels: &[usize],
        (refine, boxes, priors, top): (bool, bool, bool, bool),
        factorized: bool,
    ) -> Result<()> {
        let b = self.geometry.block_size();
        for &j in levels {
            let fine = self.geometry.chi(j - 1);
            for (m, map) in self.refine[j - 1].iter_mut().enumerate().filter(|_| refine) {
                let (counts, context) = (
                    &counts.refine[j - 1][m],
                    format!("refine map {m} of level {j}"),
                );
                if factorized {
                    map.set_product_from_counts(counts, alpha, fine, b, &context)?;
                } else {
                    map.set_from_counts(counts, alpha, &context)?;
                }
            }
            for (m, map) in self.boxes[j - 1].iter_mut().enumerate().filter(|_| boxes) {
                map.set_from_counts(
                    &counts.boxes[j - 1][m],
                    alpha,
                    &format!("box map {m} of level {j}"),
                )?;
            }
            if priors {
                for (m, map) in self.priors[j - 1].iter_mut().enumerate() {
                    map.set_from_counts(
                        &counts.priors[j - 1][m],
                        alpha,
                        &format!("prior {m} of level {j}"),
                    )?;
                }
            }
        }
        if top {
            self.top
                .set_from_counts(&counts.top, alpha, "top distribution")?;
        }
        Ok(())
    }

    /// Runs EM on one problem, at most `max_iterations` iterations, updating the maps
    /// `stage` names; returns (iterations, last patch NLL).
    #[allow(clippy::too_many_arguments)]
    fn run_em(
        &mut self,
        data: ArrayView2<'_, u8>,
        base: usize,
        top: usize,
        source: TopSource,
        options: &CoraFitOptions,
        (method, stage, max_iterations): (EmMethod, Stage, usize),
        observer: &mut dyn CoraObserver,
    ) -> Result<(usize, f64)> {
        let patch = self.patch_at(options, base);
        let windows = self.geometry.windows(base, patch)?;
        let levels: Vec<usize> = (base + 1..=top).collect();
        let (priors, fit_top) = match source {
            TopSource::Priors => (true, false),
            TopSource::Full => (false, true),
        };
        let scale = (data.nrows() * windows.len()) as f64;
        if options.factorized_refine && stage != Stage::Boxes {
            // Start from the product of each refine map's per-child marginals.
            let b = self.geometry.block_size();
            for &j in &levels {
                let fine = self.geometry.chi(j - 1);
                for map in self.refine[j - 1].iter_mut() {
                    let r = map.output_marginals(fine, b);
                    map.set_product(&r, fine, b);
                }
            }
        }
        let mut last_objective = f64::NEG_INFINITY;
        let mut last_nll = f64::INFINITY;
        let mut iterations = 0;
        for it in 1..=max_iterations {
            let start = Instant::now();
            let (counts, log_lik) = self.e_step(data, base, top, source, &windows)?;
            let log_prior = self.log_prior(
                options.pseudo_count,
                &levels,
                (priors, fit_top),
                options.factorized_refine,
            );
            let objective = (log_lik + log_prior) / scale;
            let (update_refine, update_boxes) = match stage {
                Stage::Tree => (true, false),
                Stage::Boxes => (false, true),
                // Layerwise: boxes held for the first `box_warmup` iterations (a tree).
                Stage::All => (true, method == EmMethod::Joint || it > options.box_warmup),
            };
            self.m_step(
                &counts,
                options.pseudo_count,
                &levels,
                (
                    update_refine,
                    update_boxes,
                    priors && update_refine,
                    fit_top,
                ),
                options.factorized_refine,
            )?;
            iterations = it;
            last_nll = -log_lik / scale;
            let report = EmReport {
                method,
                level: top,
                iteration: it,
                patch_nll: last_nll,
                objective,
                seconds: start.elapsed().as_secs_f64(),
            };
            let control = observer.on_iteration(&report, self);
            let gain = objective - last_objective;
            last_objective = objective;
            let warming = stage == Stage::All
                && method == EmMethod::Layerwise
                && it <= options.box_warmup + 1;
            if control == FitControl::Stop || (it > 1 && !warming && gain < options.tolerance) {
                break;
            }
        }
        Ok((iterations, last_nll))
    }

    /// [`Cora::fit_layerwise_with`] without an observer.
    ///
    /// # Errors
    /// As [`Cora::fit_layerwise_with`].
    ///
    /// ```
    /// use tnlearn::cora::{Architecture, Cora, CoraFitOptions};
    /// use tnlearn::rand::{rngs::StdRng, SeedableRng};
    /// use tnlearn::Dataset;
    ///
    /// let mut rng = StdRng::seed_from_u64(4);
    /// let truth = Cora::random(Architecture::chain(8).levels(2), &mut rng)?;
    /// let data = Dataset::binary(truth.sample(60, &mut rng)?)?;
    /// let mut model = Cora::initial(Architecture::chain(8).levels(2), 0.5, &mut rng)?;
    /// let before = model.patch_nll(&data, (1, 2))?;
    /// model.fit_layerwise(&data, &CoraFitOptions::new().em_iterations(3).patch((1, 2)))?;
    /// assert!(model.patch_nll(&data, (1, 2))? < before);
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    pub fn fit_layerwise(&mut self, data: &Dataset, options: &CoraFitOptions) -> Result<()> {
        self.fit_layerwise_with(data, options, &mut Silent)
    }

    /// Beny's method 1, layer by layer, starting from the current maps:
    ///
    /// 1. fit `pi_1` and the coarse-graining prior `q_1` (a product distribution on
    ///    `Gamma_1`) to the windows of the data by EM on the exact one-level patch
    ///    marginals `p(x_P) = sum q_1 R B`;
    /// 2. coarse-grain the data to `Gamma_1` ([`Cora::coarse_grain`]: one draw from
    ///    the Bayesian inverse of `pi_1` with prior `q_1` per sample);
    /// 3. repeat for `pi_2, ..., pi_J` on the coarse-grained data;
    /// 4. fit the top distribution `e` to the data coarse-grained to `Gamma_J`
    ///    (normalised counts plus `alpha`).
    ///
    /// With [`BoxSchedule::AfterRefine`], step 1 is done with the level's boxes set to
    /// the identity, step 2 uses that tree, and the boxes are fitted afterwards with
    /// the rest held (see [`BoxSchedule`]).
    ///
    /// `observer` sees every EM iteration and every finished level.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for invalid options
    /// or data of the wrong size; errors of the cone contractions (a window too large).
    pub fn fit_layerwise_with(
        &mut self,
        data: &Dataset,
        options: &CoraFitOptions,
        observer: &mut dyn CoraObserver,
    ) -> Result<()> {
        options.validate()?;
        self.check_data(data)?;
        let mut rng = StdRng::seed_from_u64(options.seed);
        let mut cur: Array2<u8> = data.samples().to_owned();
        for j in 1..=self.levels() {
            let start = Instant::now();
            let (iterations, patch_nll, next) = match options.box_schedule {
                BoxSchedule::Interleaved => {
                    let (it, nll) = self.run_em(
                        cur.view(),
                        j - 1,
                        j,
                        TopSource::Priors,
                        options,
                        (EmMethod::Layerwise, Stage::All, options.em_iterations),
                        observer,
                    )?;
                    (
                        it,
                        nll,
                        self.coarse_grain_level_with(&cur, j, options.coarse_graining, &mut rng),
                    )
                }
                BoxSchedule::AfterRefine { iterations } => {
                    // Tree stage: the level's boxes are the identity. EM runs on the
                    // box-free copy (the same model; see `Cora::without_boxes`), the
                    // observer sees this model with identity boxes.
                    let n = self.geometry.group_size();
                    let fine = self.geometry.chi(j - 1);
                    // The level's box maps are `fine^n x fine^n` (sizes checked when the
                    // model was built); checked here rather than trusted.
                    let dim = u32::try_from(n)
                        .ok()
                        .and_then(|n| fine.checked_pow(n))
                        .ok_or_else(|| {
                            Error::invalid_argument(
                                "geometry",
                                format!("level {j}: box dimension {fine}^{n} overflows usize"),
                            )
                        })?;
                    let identity = StochasticMap::identity(dim);
                    let start_boxes = std::mem::replace(
                        &mut self.boxes[j - 1],
                        vec![identity; self.geometry.num_box_maps(j)],
                    );
                    let mut tree = self.without_boxes()?;
                    let (it, nll) = tree.run_em(
                        cur.view(),
                        j - 1,
                        j,
                        TopSource::Priors,
                        options,
                        (EmMethod::Layerwise, Stage::Tree, options.em_iterations),
                        &mut TreeStage {
                            model: self,
                            level: j,
                            inner: observer,
                        },
                    )?;
                    self.refine[j - 1] = tree.refine[j - 1].clone();
                    self.priors[j - 1] = tree.priors[j - 1].clone();
                    // The next level learns from the data coarse-grained by the tree.
                    let next =
                        tree.coarse_grain_level_with(&cur, j, options.coarse_graining, &mut rng);
                    if !start_boxes.is_empty() {
                        // Box stage: from the starting boxes, the rest held.
                        self.boxes[j - 1] = start_boxes;
                        self.run_em(
                            cur.view(),
                            j - 1,
                            j,
                            TopSource::Priors,
                            options,
                            (EmMethod::Layerwise, Stage::Boxes, iterations),
                            observer,
                        )?;
                    }
                    (it, nll, next)
                }
            };
            cur = next;
            observer.on_level(
                &LevelReport {
                    level: j,
                    iterations,
                    patch_nll,
                    seconds: start.elapsed().as_secs_f64(),
                },
                self,
            );
        }
        self.fit_top(cur.view(), options.pseudo_count)
    }

    /// Sets `e` to the normalised counts (plus `alpha`) of the top configurations.
    fn fit_top(&mut self, top_data: ArrayView2<'_, u8>, alpha: f64) -> Result<()> {
        let big_j = self.levels();
        let sites: Vec<usize> = (0..self.geometry.num_sites(big_j)).collect();
        let counts = histogram(top_data, &sites, self.geometry.chi(big_j));
        self.top.set_from_counts(&counts, alpha, "top distribution")
    }

    /// [`Cora::fit_joint_with`] without an observer.
    ///
    /// # Errors
    /// As [`Cora::fit_joint_with`].
    ///
    /// ```
    /// use tnlearn::cora::{Architecture, Cora, CoraFitOptions};
    /// use tnlearn::rand::{rngs::StdRng, SeedableRng};
    /// use tnlearn::Dataset;
    ///
    /// let mut rng = StdRng::seed_from_u64(4);
    /// let truth = Cora::random(Architecture::chain(8).levels(2), &mut rng)?;
    /// let data = Dataset::binary(truth.sample(60, &mut rng)?)?;
    /// let mut model = Cora::initial(Architecture::chain(8).levels(2), 0.5, &mut rng)?;
    /// let before = model.patch_nll(&data, (1, 2))?;
    /// model.fit_joint(&data, &CoraFitOptions::new().em_iterations(3).patch((1, 2)))?;
    /// assert!(model.patch_nll(&data, (1, 2))? < before);
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    pub fn fit_joint(&mut self, data: &Dataset, options: &CoraFitOptions) -> Result<()> {
        self.fit_joint_with(data, options, &mut Silent)
    }

    /// Beny's method 2: EM on the windows of the data through the full cones, all
    /// levels and the top distribution at once, starting from the current maps
    /// (typically a layerwise fit). The objective is the exact patch likelihood of
    /// the whole model, `sum_x sum_P ln p(x_P)`.
    ///
    /// # Errors
    /// As [`Cora::fit_layerwise_with`].
    pub fn fit_joint_with(
        &mut self,
        data: &Dataset,
        options: &CoraFitOptions,
        observer: &mut dyn CoraObserver,
    ) -> Result<()> {
        options.validate()?;
        self.check_data(data)?;
        let big_j = self.levels();
        self.run_em(
            data.samples(),
            0,
            big_j,
            TopSource::Full,
            options,
            (EmMethod::Joint, Stage::All, options.em_iterations),
            observer,
        )?;
        Ok(())
    }
}
