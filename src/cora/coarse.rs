//! Coarse-graining (the Bayesian inverse of one level) and the importance-sampling
//! bound on the full NLL: [`Cora::coarse_grain`], [`Cora::nll_bound`].
//!
//! # The proposal `q(h, y | z)` of one level
//!
//! Given the values `z` of `Gamma_{j-1}`, the one-level model with the
//! coarse-graining prior `q_j` is
//! `p(h, y, z) = prod_c q_j(h_c) R_c(y_block(c) | h_c) prod_g B_g(z_g | y_g)`
//! (sites in no box: `y = z`). Its posterior over `(h, y)` is sampled block by
//! block in site order (`c = 0, 1, ...`): block `c` draws `(h_c, y_block(c))` from
//!
//! ```text
//! q(h_c, y_c | earlier blocks, z)  propto  q_j(h_c) R_c(y_c | h_c) prod_{g touching c} L_g
//! L_g = sum_{y of later blocks in g} B_g(z_g | y_g) prod_{later sites s} m_s(y_s)
//! ```
//!
//! where `m_s(y) = sum_h q_j(h) R(y_s = y | h)` is the prior predictive of a later
//! site. Boxes whose sites are all drawn enter exactly; boxes reaching into later
//! blocks are looked ahead with the prior predictive. For a chain with open
//! boundaries the look-ahead is replaced by the exact backward message, so the
//! draw is the exact posterior (forward-filtering backward-sampling, here
//! backward-filtering forward-sampling); for a periodic chain the first refined
//! site is drawn from its exact marginal first, which cuts the ring into a chain. Without boxes the posterior factorises
//! over blocks and every draw is exact. Whatever the geometry, the draw
//! probability `q(h, y | z) = prod_c q(h_c, y_c | ...)` is computed exactly, which
//! is what the importance-sampling bound needs.

use ndarray::Array2;
use rand::Rng;

use super::geometry::{BlockScheme, Boundary};
use super::model::Cora;
use super::options::CoarseGraining;
use crate::data::Dataset;
use crate::error::{Error, Result};

/// A box group as seen from one block.
#[derive(Clone, Debug)]
struct Touch {
    group: usize,
    /// Members (sites of Gamma_{j-1}) in group order.
    members: Vec<usize>,
    /// Block (site of Gamma_j) of each member.
    blocks: Vec<usize>,
}

/// Precomputed structure of the Bayesian inverse of level `j`.
pub(crate) struct Inverse<'a> {
    model: &'a Cora,
    level: usize,
    fine: usize,
    coarse: usize,
    children: Vec<Vec<usize>>,
    /// Positions (in the block) of the children that are in a box group.
    free: Vec<Vec<usize>>,
    touches: Vec<Vec<Touch>>,
    /// Prior predictive `m_s(y)` of every site of Gamma_{j-1}.
    predictive: Vec<Vec<f64>>,
    /// Exact backward messages available (open chain with boxes).
    exact_chain: bool,
    /// Periodic chain with boxes and at least 2 blocks: exact ring sampler.
    ring: bool,
}

/// An index drawn with probability `weights[k] / total` (`total` their sum, `> 0`);
/// rounding at the top end falls back to the last index with a nonzero weight.
fn sample_index<R: Rng + ?Sized>(weights: &[f64], total: f64, rng: &mut R) -> usize {
    let u = rng.random::<f64>() * total;
    let mut acc = 0.0;
    let mut k = weights.len() - 1;
    for (i, &w) in weights.iter().enumerate() {
        acc += w;
        if u < acc {
            k = i;
            break;
        }
    }
    while weights[k] == 0.0 && k > 0 {
        k -= 1;
    }
    k
}

/// One draw of the inverse of one level.
pub(crate) struct Draw {
    pub h: Vec<usize>,
    pub y: Vec<usize>,
    pub log_q: f64,
}

impl<'a> Inverse<'a> {
    pub(crate) fn new(model: &'a Cora, level: usize) -> Self {
        let geo = model.geometry();
        let (fine, coarse) = (geo.chi(level - 1), geo.chi(level));
        let nc = geo.num_sites(level);
        let nf = geo.num_sites(level - 1);
        let b = geo.block_size();
        let mut children = Vec::with_capacity(nc);
        let mut free = Vec::with_capacity(nc);
        let mut touches = Vec::with_capacity(nc);
        let mut predictive = vec![Vec::new(); nf];
        for c in 0..nc {
            let ch = geo.children(level, c);
            let r = model.refine_of(level, c);
            let q = model.prior_of(level, c).values();
            for (p, &s) in ch.iter().enumerate() {
                let mut m = vec![0.0; fine];
                for o in 0..r.outputs() {
                    let y = (o / fine.pow((b - 1 - p) as u32)) % fine;
                    for (h, &qh) in q.iter().enumerate() {
                        m[y] += qh * r.get(o, h);
                    }
                }
                predictive[s] = m;
            }
            let mut groups: Vec<usize> = ch
                .iter()
                .filter_map(|&s| geo.group_of(level, s).map(|(g, _)| g))
                .collect();
            groups.sort_unstable();
            groups.dedup();
            free.push(
                (0..b)
                    .filter(|&p| geo.group_of(level, ch[p]).is_some())
                    .collect(),
            );
            touches.push(
                groups
                    .into_iter()
                    .map(|g| {
                        let members = geo.group_sites(level, g);
                        let blocks = members.iter().map(|&s| geo.parent(level, s).0).collect();
                        Touch {
                            group: g,
                            members,
                            blocks,
                        }
                    })
                    .collect(),
            );
            children.push(ch);
        }
        let arch = model.architecture();
        let exact_chain = arch.scheme == BlockScheme::Chain
            && arch.boundary == Boundary::Open
            && arch.boxes
            && nc >= 2;
        let ring = arch.scheme == BlockScheme::Chain
            && arch.boundary == Boundary::Periodic
            && arch.boxes
            && nc >= 2;
        Inverse {
            model,
            level,
            fine,
            coarse,
            children,
            free,
            touches,
            predictive,
            exact_chain,
            ring,
        }
    }

    /// Sum over the later members of `t` of `B(z_g | y_g) prod m(y_later)`, as a table
    /// over the values of the members in block `c` (row-major in member order);
    /// `y` holds the values of earlier blocks.
    fn lookahead(&self, t: &Touch, c: usize, z: &[usize], y: &[usize]) -> Vec<f64> {
        let f = self.fine;
        let bm = self.model.box_of(self.level, t.group);
        let k = t.members.len();
        let cur: Vec<usize> = (0..k).filter(|&p| t.blocks[p] == c).collect();
        let later: Vec<usize> = (0..k).filter(|&p| t.blocks[p] > c).collect();
        let zi = t.members.iter().fold(0, |a, &s| a * f + z[s]);
        let mut table = vec![0.0; f.pow(cur.len() as u32)];
        let mut vals = vec![0usize; k];
        for p in 0..k {
            if t.blocks[p] < c {
                vals[p] = y[t.members[p]];
            }
        }
        for (ci, slot) in table.iter_mut().enumerate() {
            super::sampling::scatter(ci, f, &cur, &mut vals);
            let mut acc = 0.0;
            for li in 0..f.pow(later.len() as u32) {
                super::sampling::scatter(li, f, &later, &mut vals);
                let yi = vals.iter().fold(0, |a, &v| a * f + v);
                let w: f64 = later
                    .iter()
                    .map(|&p| self.predictive[t.members[p]][vals[p]])
                    .product();
                acc += bm.get(zi, yi) * w;
            }
            *slot = acc;
        }
        table
    }

    /// Exact backward messages of an open chain: `beta[c][y]`, `y` the value of the
    /// last child `2c+1` of block `c`: the probability of the evidence of all later
    /// blocks given `y` (the box `(2c+1, 2c+2)` included).
    fn chain_messages(&self, z: &[usize]) -> Vec<Vec<f64>> {
        let f = self.fine;
        let nc = self.children.len();
        let mut beta = vec![vec![1.0; f]; nc];
        // weight of block c+1 given its first child value y0 and (for c+1 < nc-1)
        // the message of its last child.
        for c in (0..nc - 1).rev() {
            let next = c + 1;
            let r = self.model.refine_of(self.level, next);
            let q = self.model.prior_of(self.level, next).values();
            let bm = self.model.box_of(self.level, c); // group c = (2c+1, 2c+2)
            let zi = z[2 * c + 1] * f + z[2 * c + 2];
            let last = next == nc - 1;
            let mut msg = vec![0.0; f];
            for (y, m) in msg.iter_mut().enumerate() {
                let mut acc = 0.0;
                for y0 in 0..f {
                    let box_w = bm.get(zi, y * f + y0);
                    if box_w == 0.0 {
                        continue;
                    }
                    // block `next`: children (2next, 2next+1); the second is free
                    // (in group `next`) unless it is the open end (pass-through).
                    let mut inner = 0.0;
                    for (h, &qh) in q.iter().enumerate() {
                        if last {
                            inner += qh * r.get(y0 * f + z[2 * next + 1], h);
                        } else {
                            for (y1, &b1) in beta[next].iter().enumerate() {
                                inner += qh * r.get(y0 * f + y1, h) * b1;
                            }
                        }
                    }
                    acc += box_w * inner;
                }
                *m = acc;
            }
            // normalise for range (constant factors cancel in the conditionals)
            let s: f64 = msg.iter().sum();
            if s > 0.0 {
                msg.iter_mut().for_each(|v| *v /= s);
            }
            beta[c] = msg;
        }
        beta
    }

    /// Exact posterior draw for a periodic chain (a ring of blocks): the value `v`
    /// of the first refined site is drawn from its exact posterior marginal
    /// (`P(v) propto Z(v)`, the chain partition function with `y_0 = v`), then the
    /// rest block by block with the backward messages conditioned on `v`.
    // Loop variables are states indexing several tables at once.
    #[allow(clippy::needless_range_loop)]
    fn draw_ring<R: Rng + ?Sized>(&self, z: &[usize], rng: &mut R) -> Draw {
        let f = self.fine;
        let nc = self.children.len();
        let n = 2 * nc;
        let level = self.level;
        let model = self.model;
        let wrap = model.box_of(level, nc - 1); // group (2nc-1, 0)
        let z_wrap = z[n - 1] * f + z[0];
        let box_w = |c: usize, a: usize, b: usize| -> f64 {
            // group c = (2c+1, 2c+2)
            model
                .box_of(level, c)
                .get(z[2 * c + 1] * f + z[2 * c + 2], a * f + b)
        };
        // beta[v][c][y]: normalised messages; log_z[v]: ln Z(v).
        let mut beta = vec![vec![vec![1.0; f]; nc]; f];
        let mut log_z = vec![0.0; f];
        for v in 0..f {
            let mut log_scale = 0.0;
            for c in (0..nc - 1).rev() {
                let next = c + 1;
                let r = model.refine_of(level, next);
                let q = model.prior_of(level, next).values();
                let mut msg = vec![0.0; f];
                for (y, m) in msg.iter_mut().enumerate() {
                    let mut acc = 0.0;
                    for y0 in 0..f {
                        let bw = box_w(c, y, y0);
                        if bw == 0.0 {
                            continue;
                        }
                        let mut inner = 0.0;
                        for (h, &qh) in q.iter().enumerate() {
                            for y1 in 0..f {
                                let tail = if next == nc - 1 {
                                    wrap.get(z_wrap, y1 * f + v)
                                } else {
                                    beta[v][next][y1]
                                };
                                inner += qh * r.get(y0 * f + y1, h) * tail;
                            }
                        }
                        acc += bw * inner;
                    }
                    *m = acc;
                }
                let sum: f64 = msg.iter().sum();
                if sum > 0.0 {
                    msg.iter_mut().for_each(|x| *x /= sum);
                    log_scale += sum.ln();
                }
                beta[v][c] = msg;
            }
            // block 0 with y_0 = v
            let r = model.refine_of(level, 0);
            let q = model.prior_of(level, 0).values();
            let mut z0 = 0.0;
            for (h, &qh) in q.iter().enumerate() {
                for y1 in 0..f {
                    z0 += qh * r.get(v * f + y1, h) * beta[v][0][y1];
                }
            }
            log_z[v] = log_scale + z0.ln();
        }
        let mut log_q = 0.0;
        let pick = |weights: &[f64], rng: &mut R, log_q: &mut f64| -> usize {
            let total: f64 = weights.iter().sum();
            let k = sample_index(weights, total, rng);
            *log_q += (weights[k] / total).ln();
            k
        };
        let m = log_z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let pv: Vec<f64> = log_z.iter().map(|l| (l - m).exp()).collect();
        let v = pick(&pv, rng, &mut log_q);
        let mut h = vec![0usize; nc];
        let mut y = z.to_vec();
        y[0] = v;
        let mut weights = Vec::with_capacity(self.coarse * f * f);
        for c in 0..nc {
            let r = model.refine_of(level, c);
            let q = model.prior_of(level, c).values();
            weights.clear();
            // state (h, a = y_{2c}, b = y_{2c+1}); y_0 fixed to v in block 0
            for (hc, &qh) in q.iter().enumerate() {
                for a in 0..f {
                    for b in 0..f {
                        let mut w = qh * r.get(a * f + b, hc);
                        if c == 0 {
                            w *= if a == v { beta[v][0][b] } else { 0.0 };
                        } else {
                            w *= box_w(c - 1, y[2 * c - 1], a);
                            w *= if c == nc - 1 {
                                wrap.get(z_wrap, b * f + v)
                            } else {
                                beta[v][c][b]
                            };
                        }
                        weights.push(w);
                    }
                }
            }
            let k = pick(&weights, rng, &mut log_q);
            h[c] = k / (f * f);
            y[2 * c] = (k / f) % f;
            y[2 * c + 1] = k % f;
        }
        Draw { h, y, log_q }
    }

    /// Draws `(h, y)` from the proposal given `z` (values of Gamma_{j-1}).
    pub(crate) fn draw<R: Rng + ?Sized>(&self, z: &[usize], rng: &mut R) -> Draw {
        self.draw_or_mode(z, CoarseGraining::Sample, rng)
    }

    /// As [`Inverse::draw`] with [`CoarseGraining::Sample`]; with
    /// [`CoarseGraining::Mode`] every block takes the most probable `(h_c, y_c)` of
    /// its sequential conditional instead of a draw (ties: the lowest index; on a
    /// periodic chain with boxes the sequential look-ahead path is used), and
    /// `log_q` is the log of the chosen conditional probabilities.
    pub(crate) fn draw_or_mode<R: Rng + ?Sized>(
        &self,
        z: &[usize],
        how: CoarseGraining,
        rng: &mut R,
    ) -> Draw {
        let mode = how == CoarseGraining::Mode;
        if self.ring && !mode {
            return self.draw_ring(z, rng);
        }
        let f = self.fine;
        let nc = self.children.len();
        let mut h = vec![0usize; nc];
        let mut y = z.to_vec();
        let mut log_q = 0.0;
        let beta = if self.exact_chain {
            Some(self.chain_messages(z))
        } else {
            None
        };
        let mut weights = Vec::new();
        for c in 0..nc {
            let ch = &self.children[c];
            let free = &self.free[c];
            let r = self.model.refine_of(self.level, c);
            let q = self.model.prior_of(self.level, c).values();
            // Group factors as tables over the block's own members of each group.
            let tables: Vec<(Vec<usize>, Vec<f64>)> = self.touches[c]
                .iter()
                .map(|t| {
                    let own: Vec<usize> = (0..t.members.len())
                        .filter(|&p| t.blocks[p] == c)
                        .map(|p| {
                            ch.iter()
                                .position(|&s| s == t.members[p])
                                .expect("own child")
                        })
                        .collect();
                    let table = match &beta {
                        // open chain: the group reaching into block c+1 uses the
                        // exact backward message instead of the look-ahead
                        Some(beta) if t.blocks.iter().any(|&b| b > c) => beta[c].clone(),
                        _ => self.lookahead(t, c, z, &y),
                    };
                    (own, table)
                })
                .collect();
            let nfree = f.pow(free.len() as u32);
            weights.clear();
            let mut vals = vec![0usize; ch.len()];
            for (p, &s) in ch.iter().enumerate() {
                vals[p] = z[s];
            }
            debug_assert_eq!(q.len(), self.coarse);
            for (hc, &qh) in q.iter().enumerate() {
                for fi in 0..nfree {
                    super::sampling::scatter(fi, f, free, &mut vals);
                    let o = vals.iter().fold(0, |a, &v| a * f + v);
                    let mut w = qh * r.get(o, hc);
                    for (own, table) in &tables {
                        w *= table[own.iter().fold(0, |a, &p| a * f + vals[p])];
                    }
                    weights.push(w);
                }
            }
            let total: f64 = weights.iter().sum();
            let mut pick = weights.len() - 1;
            if mode {
                let mut best = f64::NEG_INFINITY;
                for (k, &w) in weights.iter().enumerate() {
                    if w > best {
                        (best, pick) = (w, k);
                    }
                }
            } else {
                pick = sample_index(&weights, total, rng);
            }
            log_q += (weights[pick] / total).ln();
            h[c] = pick / nfree;
            super::sampling::scatter(pick % nfree, f, free, &mut vals);
            for (p, &s) in ch.iter().enumerate() {
                y[s] = vals[p];
            }
        }
        Draw { h, y, log_q }
    }

    /// `ln prod_c R_c(y_c | h_c) prod_g B_g(z_g | y_g)` (the level's part of the joint).
    pub(crate) fn log_joint(&self, h: &[usize], y: &[usize], z: &[usize]) -> f64 {
        let geo = self.model.geometry();
        let f = self.fine;
        let mut lp = 0.0;
        for (c, ch) in self.children.iter().enumerate() {
            let o = ch.iter().fold(0, |a, &s| a * f + y[s]);
            lp += self.model.refine_of(self.level, c).get(o, h[c]).ln();
        }
        for g in 0..geo.num_groups(self.level) {
            let m = geo.group_sites(self.level, g);
            let zi = m.iter().fold(0, |a, &s| a * f + z[s]);
            let yi = m.iter().fold(0, |a, &s| a * f + y[s]);
            lp += self.model.box_of(self.level, g).get(zi, yi).ln();
        }
        lp
    }
}

impl Cora {
    /// The data renormalised to `Gamma_level`: every sample pushed up level by level
    /// through the Bayesian inverse of each `pi_j` with the coarse-graining prior
    /// `q_j`.
    ///
    /// The draw goes block by block in site order: block `c` draws
    /// `(h_c, y_block(c))` with probability proportional to
    /// `q_j(h_c) R_c(y | h_c) prod_{g touching c} L_g`, where boxes whose sites are
    /// all drawn enter exactly (`L_g = B_g(z_g | y_g)`) and boxes reaching into later
    /// blocks are looked ahead with the prior predictive `m_s(y)` of their later
    /// sites (`L_g = sum B_g(z_g | y_g) prod m_s(y_s)`). For a chain the look-ahead
    /// is the exact backward message (backward filtering, forward sampling; on a
    /// ring, after drawing the first refined site from its exact marginal), so the
    /// draw is the exact posterior; without boxes it is exact too; in 2D it is a
    /// sequential local posterior, not the exact one. One draw per sample; the
    /// result is `n x (sites of Gamma_level)`, values `< chi_level`, row-major over
    /// the lattice `geometry().dims(level)`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for data of the wrong size or `level > J`.
    ///
    /// ```
    /// use tnlearn::cora::{Architecture, Cora, CoraFitOptions};
    /// use tnlearn::rand::{rngs::StdRng, SeedableRng};
    /// use tnlearn::Dataset;
    ///
    /// let mut rng = StdRng::seed_from_u64(4);
    /// let truth = Cora::random(Architecture::chain(8).levels(2), &mut rng)?;
    /// let data = Dataset::binary(truth.sample(60, &mut rng)?)?;
    /// let coarse = truth.coarse_grain(&data, 1, &mut rng)?; // one draw per sample
    /// assert_eq!(coarse.dim(), (60, 4)); // Gamma_1 has 4 sites
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    pub fn coarse_grain<R: Rng + ?Sized>(
        &self,
        data: &Dataset,
        level: usize,
        rng: &mut R,
    ) -> Result<Array2<u8>> {
        self.coarse_grain_with(data, level, CoarseGraining::Sample, rng)
    }

    /// [`Cora::coarse_grain`] with a choice of how each level's coarse values are
    /// picked: [`CoarseGraining::Sample`] (one draw, as `coarse_grain`) or
    /// [`CoarseGraining::Mode`] (the most probable values, level by level: a
    /// deterministic coarse-graining, exact per block for box-free models, whose
    /// posterior factorises over blocks; with boxes the greedy sequential mode).
    ///
    /// # Errors
    /// As [`Cora::coarse_grain`].
    ///
    /// ```
    /// use tnlearn::cora::{Architecture, CoarseGraining, Cora};
    /// use tnlearn::rand::{rngs::StdRng, SeedableRng};
    /// use tnlearn::Dataset;
    ///
    /// let mut rng = StdRng::seed_from_u64(4);
    /// let truth = Cora::random(Architecture::chain(8).levels(2).boxes(false), &mut rng)?;
    /// let data = Dataset::binary(truth.sample(20, &mut rng)?)?;
    /// let a = truth.coarse_grain_with(&data, 2, CoarseGraining::Mode, &mut rng)?;
    /// let b = truth.coarse_grain_with(&data, 2, CoarseGraining::Mode, &mut rng)?;
    /// assert_eq!(a, b); // deterministic
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    pub fn coarse_grain_with<R: Rng + ?Sized>(
        &self,
        data: &Dataset,
        level: usize,
        how: CoarseGraining,
        rng: &mut R,
    ) -> Result<Array2<u8>> {
        self.check_data(data)?;
        if level > self.levels() {
            return Err(Error::invalid_argument(
                "level",
                format!("must be in 0..={} (got {level})", self.levels()),
            ));
        }
        let mut cur = data.samples().to_owned();
        for j in 1..=level {
            cur = self.coarse_grain_level_with(&cur, j, how, rng);
        }
        Ok(cur)
    }

    /// One level of [`Cora::coarse_grain_with`] on raw values of `Gamma_{j-1}`.
    pub(crate) fn coarse_grain_level_with<R: Rng + ?Sized>(
        &self,
        data: &Array2<u8>,
        level: usize,
        how: CoarseGraining,
        rng: &mut R,
    ) -> Array2<u8> {
        let inv = Inverse::new(self, level);
        let mut out = Array2::<u8>::zeros((data.nrows(), self.geometry.num_sites(level)));
        for (row, mut dst) in data.rows().into_iter().zip(out.rows_mut()) {
            let z: Vec<usize> = row.iter().map(|&v| v as usize).collect();
            let d = inv.draw_or_mode(&z, how, rng);
            for (t, &v) in dst.iter_mut().zip(&d.h) {
                *t = v as u8;
            }
        }
        out
    }

    /// An upper bound on the full NLL (nats per sample) by importance sampling with
    /// the coarse-graining posterior as the proposal: `-mean` of
    /// [`Cora::log_likelihood_bounds`].
    ///
    /// # Errors
    /// As [`Cora::log_likelihood_bounds`].
    ///
    /// ```
    /// use tnlearn::cora::{Architecture, Cora, CoraFitOptions};
    /// use tnlearn::rand::{rngs::StdRng, SeedableRng};
    /// use tnlearn::Dataset;
    ///
    /// let mut rng = StdRng::seed_from_u64(4);
    /// let truth = Cora::random(Architecture::chain(8).levels(2), &mut rng)?;
    /// let data = Dataset::binary(truth.sample(60, &mut rng)?)?;
    /// // A stochastic upper bound on the full NLL; K = 10 importance samples per sample.
    /// let bound = truth.nll_bound(&data.take(10), 10, &mut rng)?;
    /// assert!(bound.is_finite() && bound > 0.0);
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    pub fn nll_bound<R: Rng + ?Sized>(&self, data: &Dataset, k: usize, rng: &mut R) -> Result<f64> {
        let b = self.log_likelihood_bounds(data, k, rng)?;
        Ok(-b.iter().sum::<f64>() / b.len() as f64)
    }

    /// Per-sample stochastic lower bounds on `ln p(x)`, the K-sample importance
    /// sampling bound with the coarse-graining posterior as the proposal:
    ///
    /// ```text
    /// L_K(x) = ln (1/K) sum_k p(x, h_k) / q(h_k | x),   h_k ~ q(. | x),
    /// E[L_K(x)] <= E[L_{K+1}(x)] <= ln p(x)
    /// ```
    ///
    /// where `h` are all hidden variables (every level's refined and coarse values),
    /// `p(x, h) = e(h_J) prod R prod B` exactly and
    /// `q(h | x) = prod_j q(h_j, y_{j-1} | h_{j-1})` exactly (the probabilities of
    /// the draws of [`Cora::coarse_grain`]). The bound holds in expectation for every `K` (Jensen)
    /// and tightens to `ln p(x)` as `K` grows (Burda, Grosse and Salakhutdinov's
    /// K-sample bound); each value is a random estimate.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for data of the wrong size, `k = 0`, or naming `k`
    /// if its weights cannot be allocated.
    pub fn log_likelihood_bounds<R: Rng + ?Sized>(
        &self,
        data: &Dataset,
        k: usize,
        rng: &mut R,
    ) -> Result<Vec<f64>> {
        self.bounds_of_truncation(data, self.levels(), k, rng)
    }

    /// An upper bound on the full NLL (nats per sample) of the model truncated to
    /// its first `levels` levels: `pi_1 o ... o pi_levels` applied to the product of
    /// the coarse-graining priors `q_levels` on `Gamma_levels` (a distribution on the
    /// data lattice in its own right), instead of the levels above and the top.
    /// `levels = J` is [`Cora::nll_bound`] itself. Same importance-sampling
    /// estimator as [`Cora::log_likelihood_bounds`] with the proposal of the first
    /// `levels` levels, so the figures for `levels = 1, 2, ..., J` show what each
    /// added level contributes.
    ///
    /// With the layerwise fit, `q_j` is the product distribution fitted to the data
    /// coarse-grained to `Gamma_j`; after [`Cora::priors_from_model`] it is the
    /// model's own one-site marginals.
    ///
    /// # Errors
    /// As [`Cora::log_likelihood_bounds`]; `levels` outside `1..=J`.
    ///
    /// ```
    /// use tnlearn::cora::{Architecture, Cora};
    /// use tnlearn::rand::{rngs::StdRng, SeedableRng};
    /// use tnlearn::Dataset;
    ///
    /// let mut rng = StdRng::seed_from_u64(4);
    /// let mut model = Cora::random(Architecture::chain(8).levels(2), &mut rng)?;
    /// model.priors_from_model()?;
    /// let data = Dataset::binary(model.sample(20, &mut rng)?)?;
    /// let one = model.nll_bound_truncated(&data, 1, 10, &mut rng)?; // pi_1(q_1)
    /// let all = model.nll_bound_truncated(&data, 2, 10, &mut rng)?; // = nll_bound
    /// assert!(one.is_finite() && all.is_finite());
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    pub fn nll_bound_truncated<R: Rng + ?Sized>(
        &self,
        data: &Dataset,
        levels: usize,
        k: usize,
        rng: &mut R,
    ) -> Result<f64> {
        if levels == 0 || levels > self.levels() {
            return Err(Error::invalid_argument(
                "levels",
                format!("must be in 1..={} (got {levels})", self.levels()),
            ));
        }
        let b = self.bounds_of_truncation(data, levels, k, rng)?;
        Ok(-b.iter().sum::<f64>() / b.len() as f64)
    }

    /// [`Cora::log_likelihood_bounds`] of the model truncated to `levels` levels (the
    /// top `e` when `levels = J`, else the product of the priors `q_levels`).
    fn bounds_of_truncation<R: Rng + ?Sized>(
        &self,
        data: &Dataset,
        levels: usize,
        k: usize,
        rng: &mut R,
    ) -> Result<Vec<f64>> {
        self.check_data(data)?;
        if k == 0 {
            return Err(Error::invalid_argument("k", "must be at least 1"));
        }
        let inverses: Vec<Inverse<'_>> = (1..=levels).map(|j| Inverse::new(self, j)).collect();
        let big_j = self.levels();
        let chi_top = self.geometry.chi(big_j);
        let log_top = |z: &[usize]| -> f64 {
            if levels == big_j {
                let t = z.iter().fold(0, |a, &v| a * chi_top + v);
                self.top.get(t, 0).ln()
            } else {
                z.iter()
                    .enumerate()
                    .map(|(c, &v)| self.prior_of(levels, c).get(v, 0).ln())
                    .sum()
            }
        };
        let mut out = Vec::with_capacity(data.len());
        let mut logw: Vec<f64> = Vec::new();
        logw.try_reserve_exact(k).map_err(|e| {
            Error::invalid_argument(
                "k",
                format!("cannot allocate the weights of {k} importance samples ({e})"),
            )
        })?;
        logw.resize(k, 0.0);
        for x in data.samples().rows() {
            let x: Vec<usize> = x.iter().map(|&v| v as usize).collect();
            for lw in logw.iter_mut() {
                let mut z = x.clone();
                let mut acc = 0.0;
                for inv in &inverses {
                    let d = inv.draw(&z, rng);
                    acc += inv.log_joint(&d.h, &d.y, &z) - d.log_q;
                    z = d.h;
                }
                *lw = acc + log_top(&z);
            }
            let m = logw.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = if m.is_finite() {
                m + logw.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
            } else {
                m
            };
            out.push(lse - (k as f64).ln());
        }
        Ok(out)
    }
}
