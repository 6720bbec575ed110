//! A coarse-graining learned by CORA: one draw from the Bayesian inverse of a
//! trained level.

use ndarray::{Array2, ArrayView2};
use rand::RngCore;

use super::{check_configuration, BlockRule, CoarseGrain, BLOCK_STATES};
use crate::cora::{BlockScheme, Cora, MapSharing};
use crate::data::Dataset;
use crate::error::{Error, Result};

/// The stochastic coarse-graining of a trained CORA model (2 x 2 blocks, binary data,
/// `chi_1 = 2`): the coarse spins of a configuration are one draw from the Bayesian
/// inverse of the model's first level with its coarse-graining prior `q_1`
/// ([`Cora::coarse_grain`] to level 1),
///
/// ```text
/// h ~ q(h | v) propto q_1(h) R(y | h) B(v | y)   (summed over the refined sites y),
/// ```
///
/// exact when the model has no boxes (then `q(h_c | v) propto q_1(h_c) R(v_c | h_c)`
/// per block) and the sequential local posterior of `docs/cora.md` in 2D with boxes.
/// Without boxes and with maps shared per level the posterior is one table over the
/// 16 block configurations, precomputed as a [`BlockRule`] (the same law, about 50
/// times faster than the general path).
/// The coarse state whose refine map gives the all-up block the larger probability is
/// mapped to spin `+1` (a global relabelling, invisible to the even operators of
/// MCRG).
#[derive(Clone, Debug)]
pub struct CoraRule {
    model: Cora,
    up_state: usize,
    table: Option<BlockRule>,
}

impl CoraRule {
    /// Wraps a trained model.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `model` unless it has 2 x 2 blocks, binary
    /// data, a square lattice and 2 coarse states at level 1.
    pub fn new(model: Cora) -> Result<Self> {
        let geo = model.geometry();
        let arch = geo.architecture();
        let (rows, cols) = geo.dims(0);
        if arch.scheme != BlockScheme::Square2x2
            || model.num_states() != 2
            || geo.chi(1) != 2
            || rows != cols
        {
            return Err(Error::invalid_argument(
                "model",
                format!(
                    "a CORA coarse-graining needs 2 x 2 blocks on a square lattice, binary data \
                     and chi_1 = 2; got {:?} on {rows} x {cols}, {} states, chi_1 = {}",
                    arch.scheme,
                    model.num_states(),
                    geo.chi(1)
                ),
            ));
        }
        let r = model.refine_map(1, 0)?;
        // Block index 15: all four children up (value 1).
        let up_state = usize::from(r.get(15, 1) > r.get(15, 0));
        let table = if !arch.boxes && arch.sharing == MapSharing::PerLevel {
            let q = model.prior(1, 0)?;
            let up: Vec<f64> = (0..BLOCK_STATES)
                .map(|v| {
                    let w = |h: usize| q.get(h, 0) * r.get(v, h);
                    let total = w(0) + w(1);
                    if total > 0.0 {
                        w(up_state) / total
                    } else {
                        0.5
                    }
                })
                .collect();
            Some(BlockRule::new("cora", &up)?)
        } else {
            None
        };
        Ok(CoraRule {
            model,
            up_state,
            table,
        })
    }

    /// The posterior as a table `P(+1 | v)` when the model has no boxes and shares
    /// its maps per level; `None` otherwise.
    pub fn table(&self) -> Option<&BlockRule> {
        self.table.as_ref()
    }

    /// The wrapped model.
    pub fn model(&self) -> &Cora {
        &self.model
    }
}

impl CoarseGrain for CoraRule {
    fn name(&self) -> String {
        "cora".into()
    }

    fn scale_factor(&self) -> usize {
        2
    }

    fn coarse_grain(&self, fine: ArrayView2<'_, i8>, rng: &mut dyn RngCore) -> Result<Array2<i8>> {
        let l = check_configuration(fine, 2)?;
        let (rows, _) = self.model.geometry().dims(0);
        if l != rows {
            return Err(Error::shape_mismatch(
                "CORA coarse-graining (the model's lattice)",
                [rows, rows],
                [l, l],
            ));
        }
        if let Some(table) = &self.table {
            return table.coarse_grain(fine, rng);
        }
        let bits = Array2::from_shape_fn((1, l * l), |(_, k)| u8::from(fine[[k / l, k % l]] == 1));
        let data = Dataset::binary(bits)?;
        let coarse = self.model.coarse_grain(&data, 1, rng)?;
        let m = l / 2;
        Ok(Array2::from_shape_fn((m, m), |(a, b)| {
            if usize::from(coarse[[0, a * m + b]]) == self.up_state {
                1
            } else {
                -1
            }
        }))
    }
}
