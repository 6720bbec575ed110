//! The cone network: the small tensor network whose contraction is an exact
//! marginal, level by level, with its environments (for EM).
//!
//! One *level step* maps the joint distribution `P_j` of the cone on `Gamma_j` to
//! the joint `P_{j-1}` of the cone on `Gamma_{j-1}`:
//!
//! ```text
//! P_{j-1}(z) = sum_{h, y} P_j(h) prod_{c in cone_j} R_c(y_{block(c) in refined} | h_c)
//!                               prod_{g in boxes_j} B_g(z_{g in cone} | y_g)
//! ```
//!
//! where outputs of `R_c` outside `refined_j` and outputs of `B_g` outside
//! `cone_{j-1}` are summed into the operand beforehand (a column-stochastic map
//! restricted to some outputs is still column-stochastic), and a site in no box
//! passes through (`z = y`, one label). Each step is one einsum, compiled once into
//! a [`ContractionPlan`](crate::ContractionPlan) and cached by its specification: steps with the same
//! alignment relative to the blocks have the same specification, so evaluating
//! many patches costs a table lookup per step. The intermediate tables stay at the
//! size of one cone level (`chi^3` in 1D), never a whole lattice.
//!
//! The environment of an operand (the same network with the operand removed and
//! the output weighted by `W_{j-1} = dL/dP_{j-1}`) gives both `W_j = dL/dP_j` and
//! the EM expected counts `theta * dL/dtheta` of every map.

use std::sync::Arc;

use super::cone::Cone;
use super::model::Cora;
use super::params::StochasticMap;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Largest joint table of one cone level (`chi^(cone sites)`).
pub const MAX_CONE_TABLE: usize = 1 << 26;

/// The einsum letters, in order.
const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Sums a map over the outputs not in `keep`: a tensor of shape
/// `[site_dim; keep.len()] ++ in_shape` (the input axes split per site).
///
/// Memoised on the map ([`StochasticMap::derived`]): a marginal reuses the
/// operands of earlier ones until the map's values change, so a level step costs
/// its einsum only.
pub(crate) fn restrict(
    map: &StochasticMap,
    site_dim: usize,
    out_sites: usize,
    keep: &[usize],
    in_shape: &[usize],
) -> Arc<Tensor<f64>> {
    let mut key = Vec::with_capacity(3 + keep.len() + in_shape.len());
    key.extend([site_dim, out_sites, keep.len()]);
    key.extend_from_slice(keep);
    key.extend_from_slice(in_shape);
    map.derived(&key, |m| {
        sum_outputs(m, site_dim, out_sites, keep, in_shape)
    })
}

/// [`restrict`] without the memo.
fn sum_outputs(
    map: &StochasticMap,
    site_dim: usize,
    out_sites: usize,
    keep: &[usize],
    in_shape: &[usize],
) -> Tensor<f64> {
    let ni = map.inputs();
    let mut shape = vec![site_dim; keep.len()];
    shape.extend_from_slice(in_shape);
    if keep.len() == out_sites {
        return Tensor::new(&shape, map.values().to_vec()).expect("shape matches the map");
    }
    let kept_len = site_dim.pow(keep.len() as u32);
    let mut out = vec![0.0; kept_len * ni];
    let vals = map.values();
    for o in 0..map.outputs() {
        let k = kept_index(o, site_dim, out_sites, keep);
        let (src, dst) = (&vals[o * ni..(o + 1) * ni], &mut out[k * ni..(k + 1) * ni]);
        for (d, s) in dst.iter_mut().zip(src) {
            *d += s;
        }
    }
    Tensor::new(&shape, out).expect("shape matches")
}

/// The row-major index over the kept positions of a configuration `o` of `sites`
/// sites (`dim` states each, first site slowest).
#[inline]
pub(crate) fn kept_index(o: usize, dim: usize, sites: usize, keep: &[usize]) -> usize {
    let mut k = 0;
    for &p in keep {
        let digit = (o / dim.pow((sites - 1 - p) as u32)) % dim;
        k = k * dim + digit;
    }
    k
}

/// What sits on top of a cone network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TopSource {
    /// The model's top distribution `e` (the cone reaches `Gamma_J`).
    Full,
    /// The product of the coarse-graining priors of the top level of the cone.
    Priors,
}

/// One level step of a cone network (see the module docs).
#[derive(Clone, Debug)]
struct LevelStep {
    level: usize,
    parents: Vec<usize>,
    /// (site of Gamma_j, kept child positions).
    refines: Vec<(usize, Vec<usize>)>,
    /// (group, kept output positions).
    boxes: Vec<(usize, Vec<usize>)>,
    /// Label strings of the operands: parents, refines..., boxes...
    terms: Vec<String>,
    /// Labels of the output (cone_{j-1}, sorted).
    output: String,
}

impl LevelStep {
    fn spec(&self) -> String {
        format!("{}->{}", self.terms.join(","), self.output)
    }
    /// The specification of the environment of operand `k`.
    fn env_spec(&self, k: usize) -> String {
        let mut terms: Vec<&str> = Vec::with_capacity(self.terms.len());
        for (i, t) in self.terms.iter().enumerate() {
            if i != k {
                terms.push(t);
            }
        }
        terms.push(&self.output);
        format!("{}->{}", terms.join(","), self.terms[k])
    }
}

/// Expected counts with the shapes of a model's parameters.
#[derive(Clone, Debug)]
pub(crate) struct Counts {
    pub refine: Vec<Vec<Vec<f64>>>,
    pub boxes: Vec<Vec<Vec<f64>>>,
    pub priors: Vec<Vec<Vec<f64>>>,
    pub top: Vec<f64>,
}

impl Counts {
    pub(crate) fn zeros(model: &Cora) -> Self {
        let z = |maps: &Vec<Vec<StochasticMap>>| -> Vec<Vec<Vec<f64>>> {
            maps.iter()
                .map(|l| l.iter().map(|m| vec![0.0; m.values().len()]).collect())
                .collect()
        };
        Counts {
            refine: z(&model.refine),
            boxes: z(&model.boxes),
            priors: z(&model.priors),
            top: vec![0.0; model.top.values().len()],
        }
    }
}

/// The contraction of a cone: level steps from the top of the cone down to its base.
#[derive(Clone, Debug)]
pub(crate) struct ConeNetwork {
    pub cone: Cone,
    steps: Vec<LevelStep>,
    top: TopSource,
}

impl ConeNetwork {
    /// Builds the steps of `cone` (which must come from `model.geometry()`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if a step needs more than 52 index letters (the
    /// region is too large for one cone contraction).
    pub(crate) fn new(model: &Cora, cone: Cone, top: TopSource) -> Result<Self> {
        let geo = model.geometry();
        for (k, sites) in cone.sites.iter().enumerate() {
            let level = cone.base_level + k;
            let entries = (geo.chi(level) as u128).saturating_pow(sites.len() as u32);
            if entries > MAX_CONE_TABLE as u128 {
                return Err(Error::invalid_argument(
                    "region",
                    format!(
                        "the cone has {} sites of {} states at level {level}: a table of {entries} \
                         entries (limit {MAX_CONE_TABLE}); use a smaller region",
                        sites.len(),
                        geo.chi(level)
                    ),
                ));
            }
        }
        let mut steps = Vec::with_capacity(cone.sites.len() - 1);
        for k in 1..cone.sites.len() {
            let j = cone.base_level + k;
            let parents = &cone.sites[k];
            let outputs = &cone.sites[k - 1];
            let refined = &cone.refined[k];
            let groups = &cone.boxes[k];
            let mut next = 0usize;
            let mut fresh = || -> Result<char> {
                let c = LETTERS.get(next).copied().ok_or_else(|| {
                    Error::invalid_argument(
                        "region",
                        format!(
                            "the cone step of level {j} needs more than {} index letters \
                             ({} parents, {} refined sites, {} outputs); use a smaller region",
                            LETTERS.len(),
                            parents.len(),
                            refined.len(),
                            outputs.len()
                        ),
                    )
                })?;
                next += 1;
                Ok(c as char)
            };
            let h: Vec<char> = parents.iter().map(|_| fresh()).collect::<Result<_>>()?;
            let y: Vec<char> = refined.iter().map(|_| fresh()).collect::<Result<_>>()?;
            let y_of = |s: usize| y[refined.binary_search(&s).expect("refined site")];
            let mut z: Vec<char> = Vec::with_capacity(outputs.len());
            for &s in outputs {
                z.push(if geo.group_of(j, s).is_some() {
                    fresh()?
                } else {
                    y_of(s)
                });
            }
            let z_of = |s: usize| z[outputs.binary_search(&s).expect("output site")];
            let mut terms = vec![h.iter().collect::<String>()];
            let mut refines = Vec::with_capacity(parents.len());
            for (pi, &c) in parents.iter().enumerate() {
                let children = geo.children(j, c);
                let keep: Vec<usize> = (0..children.len())
                    .filter(|&p| refined.binary_search(&children[p]).is_ok())
                    .collect();
                let mut t: String = keep.iter().map(|&p| y_of(children[p])).collect();
                t.push(h[pi]);
                terms.push(t);
                refines.push((c, keep));
            }
            let mut boxes = Vec::with_capacity(groups.len());
            for &g in groups {
                let members = geo.group_sites(j, g);
                let keep: Vec<usize> = (0..members.len())
                    .filter(|&p| outputs.binary_search(&members[p]).is_ok())
                    .collect();
                let mut t: String = keep.iter().map(|&p| z_of(members[p])).collect();
                t.extend(members.iter().map(|&s| y_of(s)));
                terms.push(t);
                boxes.push((g, keep));
            }
            steps.push(LevelStep {
                level: j,
                parents: parents.clone(),
                refines,
                boxes,
                terms,
                output: z.iter().collect(),
            });
        }
        steps.reverse(); // top first
        Ok(ConeNetwork { cone, steps, top })
    }

    /// The level of the top of the cone.
    fn top_level(&self) -> usize {
        self.cone.base_level + self.cone.sites.len() - 1
    }

    /// The joint distribution of the top sites of the cone.
    fn top_table(&self, model: &Cora) -> Tensor<f64> {
        let j = self.top_level();
        let sites = self.cone.sites.last().expect("non-empty");
        let chi = model.geometry.chi(j);
        match self.top {
            TopSource::Full => {
                let n = model.geometry.num_sites(j);
                Arc::unwrap_or_clone(restrict(&model.top, chi, n, sites, &[]))
            }
            TopSource::Priors => {
                let mut t = vec![1.0];
                for &c in sites {
                    let q = model.prior_of(j, c).values();
                    t = t
                        .iter()
                        .flat_map(|a| q.iter().map(move |b| a * b))
                        .collect();
                }
                Tensor::new(&vec![chi; sites.len()], t).expect("product table")
            }
        }
    }

    fn operands(&self, model: &Cora, step: &LevelStep) -> Vec<Arc<Tensor<f64>>> {
        let geo = &model.geometry;
        let j = step.level;
        let (fine, coarse) = (geo.chi(j - 1), geo.chi(j));
        let mut ops = Vec::with_capacity(step.refines.len() + step.boxes.len());
        for (c, keep) in &step.refines {
            ops.push(restrict(
                model.refine_of(j, *c),
                fine,
                geo.block_size(),
                keep,
                &[coarse],
            ));
        }
        let gs = geo.group_size();
        for (g, keep) in &step.boxes {
            ops.push(restrict(
                model.box_of(j, *g),
                fine,
                gs,
                keep,
                &vec![fine; gs],
            ));
        }
        ops
    }

    /// The joint distributions of the cone at every level, top first; the last is
    /// the marginal of the base region (axes in sorted site order).
    pub(crate) fn forward(&self, model: &Cora) -> Result<Vec<Tensor<f64>>> {
        let mut tables = vec![self.top_table(model)];
        for step in &self.steps {
            let ops = self.operands(model, step);
            let mut refs: Vec<&Tensor<f64>> = vec![tables.last().expect("non-empty")];
            refs.extend(ops.iter().map(|t| &**t));
            let next = model.plans.run(&step.spec(), &refs)?;
            tables.push(next);
        }
        Ok(tables)
    }

    /// Adds the EM expected counts `theta * dL/dtheta` of every parameter of the
    /// cone to `counts`, for `L = sum_x W(x) P(x)` with `W = weights` (a table over
    /// the base region, sorted site order) and `tables` from [`Self::forward`].
    pub(crate) fn backward(
        &self,
        model: &Cora,
        tables: &[Tensor<f64>],
        weights: Tensor<f64>,
        counts: &mut Counts,
    ) -> Result<()> {
        let geo = &model.geometry;
        let mut w = weights;
        for (s, step) in self.steps.iter().enumerate().rev() {
            let j = step.level;
            let ops = self.operands(model, step);
            let p = &tables[s];
            let all: Vec<&Tensor<f64>> =
                std::iter::once(p).chain(ops.iter().map(|t| &**t)).collect();
            let env_of = |k: usize| -> Result<Tensor<f64>> {
                let mut refs: Vec<&Tensor<f64>> = Vec::with_capacity(all.len());
                for (i, t) in all.iter().enumerate() {
                    if i != k {
                        refs.push(t);
                    }
                }
                refs.push(&w);
                model.plans.run(&step.env_spec(k), &refs)
            };
            let fine = geo.chi(j - 1);
            for (r, (c, keep)) in step.refines.iter().enumerate() {
                let env = env_of(1 + r)?;
                let m = geo.refine_index(j, *c);
                accumulate(
                    &model.refine[j - 1][m],
                    &env,
                    fine,
                    geo.block_size(),
                    keep,
                    &mut counts.refine[j - 1][m],
                );
            }
            for (b, (g, keep)) in step.boxes.iter().enumerate() {
                let env = env_of(1 + step.refines.len() + b)?;
                let m = geo.box_index(j, *g);
                accumulate(
                    &model.boxes[j - 1][m],
                    &env,
                    fine,
                    geo.group_size(),
                    keep,
                    &mut counts.boxes[j - 1][m],
                );
            }
            w = env_of(0)?;
            debug_assert_eq!(step.parents.len(), w.ndim());
        }
        // The top of the cone.
        let j = self.top_level();
        let sites = self.cone.sites.last().expect("non-empty");
        let chi = geo.chi(j);
        match self.top {
            TopSource::Full => {
                let n = geo.num_sites(j);
                let e = model.top.values();
                let wv = w.as_slice();
                for (t, (&et, ct)) in e.iter().zip(counts.top.iter_mut()).enumerate() {
                    *ct += et * wv[kept_index(t, chi, n, sites)];
                }
            }
            TopSource::Priors => {
                let wv = w.as_slice();
                let nsites = sites.len();
                let qs: Vec<&[f64]> = sites
                    .iter()
                    .map(|&c| model.prior_of(j, c).values())
                    .collect();
                for (cfg, &wc) in wv.iter().enumerate() {
                    // prod of all q's at this configuration, then divide out one.
                    let digits: Vec<usize> = (0..nsites)
                        .map(|p| (cfg / chi.pow((nsites - 1 - p) as u32)) % chi)
                        .collect();
                    let prod: f64 = digits.iter().zip(&qs).map(|(&d, q)| q[d]).product();
                    for (p, &c) in sites.iter().enumerate() {
                        let m = geo.refine_index(j, c);
                        // q_c(h) * sum_{others} W prod_{others} q  =  W * prod (all)
                        counts.priors[j - 1][m][digits[p]] += wc * prod;
                    }
                }
            }
        }
        Ok(())
    }
}

/// `counts(o, i) += theta(o, i) * env(kept(o), i)` for a map restricted to `keep`.
fn accumulate(
    map: &StochasticMap,
    env: &Tensor<f64>,
    dim: usize,
    sites: usize,
    keep: &[usize],
    counts: &mut [f64],
) {
    let ni = map.inputs();
    let (vals, ev) = (map.values(), env.as_slice());
    for o in 0..map.outputs() {
        let k = kept_index(o, dim, sites, keep);
        for i in 0..ni {
            counts[o * ni + i] += vals[o * ni + i] * ev[k * ni + i];
        }
    }
}
