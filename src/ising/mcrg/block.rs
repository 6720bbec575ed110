//! Stochastic 2 x 2 block rules: a coarse spin drawn from a table `P(h = +1 | v)`
//! over the 16 configurations `v` of a block, and the block data the learned rules
//! are trained on.

use ndarray::{Array2, ArrayView2};
use rand::{Rng, RngCore};

use super::{check_configuration, CoarseGrain};
use crate::data::Dataset;
use crate::error::{Error, Result};

/// Number of configurations of a 2 x 2 block of binary spins.
pub const BLOCK_STATES: usize = 16;

/// The index of a 2 x 2 block configuration `(v_00, v_01, v_10, v_11)` (row-major
/// spins `+-1`): `sum_k [v_k = +1] 2^(3 - k)`, the first spin most significant
/// (the order of CORA's refine maps). Never panics; spins other than `+1` count as
/// down.
pub fn block_index(v: [i8; 4]) -> usize {
    v.iter().fold(0, |a, &s| 2 * a + usize::from(s == 1))
}

/// The spins `+-1` of the block configuration with index `index < 16` (inverse of
/// [`block_index`]; bits above the fourth are ignored).
pub fn block_spins(index: usize) -> [i8; 4] {
    let mut v = [0i8; 4];
    for (k, s) in v.iter_mut().enumerate() {
        *s = if (index >> (3 - k)) & 1 == 1 { 1 } else { -1 };
    }
    v
}

/// A per-block coarse-graining on 2 x 2 blocks: the coarse spin of block `(a, b)`
/// (fine sites `2a..2a+2 x 2b..2b+2`) is `+1` with probability `P(+1 | v)`, read
/// from a table over the block's 16 configurations, independently across blocks.
///
/// Deterministic rules have entries 0 and 1 (no random number is drawn for them);
/// the majority rule with fair-coin ties is the table `1` for block sums `> 0`,
/// `1/2` for `0`, `0` for `< 0`. [`Rsmi`](super::Rsmi) and
/// [`KlOptimal`](super::KlOptimal) produce such tables.
///
/// ```
/// use ndarray::array;
/// use rand::SeedableRng;
/// use tnlearn::ising::mcrg::{block_index, BlockRule, CoarseGrain};
/// // decimation: the coarse spin is the block's top-left spin
/// let table: Vec<f64> = (0..16).map(|i| if i >= 8 { 1.0 } else { 0.0 }).collect();
/// let rule = BlockRule::new("decimation", &table)?;
/// let fine = array![[1i8, -1, -1, -1], [-1, -1, -1, 1], [-1, 1, 1, 1], [1, 1, 1, 1]];
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let coarse = rule.coarse_grain(fine.view(), &mut rng)?;
/// assert_eq!(coarse, array![[1i8, -1], [-1, 1]]);
/// assert_eq!(block_index([1, -1, -1, -1]), 8);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct BlockRule {
    name: String,
    up: [f64; BLOCK_STATES],
}

impl BlockRule {
    /// A rule named `name` with `P(+1 | v) = up[block_index(v)]`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `up` does not have 16 entries or one is not in
    /// `[0, 1]`.
    pub fn new(name: impl Into<String>, up: &[f64]) -> Result<Self> {
        if up.len() != BLOCK_STATES {
            return Err(Error::invalid_argument(
                "up",
                format!(
                    "a 2 x 2 block rule needs {BLOCK_STATES} probabilities, got {}",
                    up.len()
                ),
            ));
        }
        if let Some((i, p)) = up
            .iter()
            .enumerate()
            .find(|(_, p)| !(0.0..=1.0).contains(*p))
        {
            return Err(Error::invalid_argument(
                "up",
                format!("entry {i} is {p}, but P(h = +1 | v) must be in [0, 1]"),
            ));
        }
        let mut table = [0.0; BLOCK_STATES];
        table.copy_from_slice(up);
        Ok(BlockRule {
            name: name.into(),
            up: table,
        })
    }

    /// The majority rule with fair-coin ties as a table (the same law as
    /// [`MajorityRule::new(2)`](super::MajorityRule)).
    pub fn majority() -> Self {
        let mut up = [0.0; BLOCK_STATES];
        for (i, p) in up.iter_mut().enumerate() {
            let m: i32 = block_spins(i).iter().map(|&s| i32::from(s)).sum();
            *p = match m.signum() {
                1 => 1.0,
                0 => 0.5,
                _ => 0.0,
            };
        }
        BlockRule {
            name: "majority table".into(),
            up,
        }
    }

    /// `P(h = +1 | v)` for the 16 block configurations, indexed by [`block_index`].
    pub fn probabilities(&self) -> &[f64; BLOCK_STATES] {
        &self.up
    }
}

impl CoarseGrain for BlockRule {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn scale_factor(&self) -> usize {
        2
    }

    fn coarse_grain(&self, fine: ArrayView2<'_, i8>, rng: &mut dyn RngCore) -> Result<Array2<i8>> {
        let l = check_configuration(fine, 2)?;
        let m = l / 2;
        let mut coarse = Array2::<i8>::zeros((m, m));
        for ((a, b), out) in coarse.indexed_iter_mut() {
            let (r, c) = (2 * a, 2 * b);
            let v = [
                fine[[r, c]],
                fine[[r, c + 1]],
                fine[[r + 1, c]],
                fine[[r + 1, c + 1]],
            ];
            let p = self.up[block_index(v)];
            let up = if p >= 1.0 {
                true
            } else if p <= 0.0 {
                false
            } else {
                rng.random::<f64>() < p
            };
            *out = if up { 1 } else { -1 };
        }
        Ok(coarse)
    }
}

/// The configurations of a data set of bits (`1` = up) on an `L x L` torus as spin
/// arrays `+-1`; checks that the data are binary, carry the image shape `(L, L)`
/// and that `L` is even.
///
/// # Errors
/// [`Error::InvalidArgument`] naming `data` otherwise, or if it is empty.
pub(crate) fn spin_configurations(data: &Dataset) -> Result<Vec<Array2<i8>>> {
    let (rows, cols) = data.image_shape().ok_or_else(|| {
        Error::invalid_argument(
            "data",
            "the training configurations need an image shape (L, L); \
             use ising::sampling::sample or Dataset::with_image_shape",
        )
    })?;
    if data.num_states() != 2 || rows != cols || rows < 2 || rows % 2 != 0 || data.is_empty() {
        return Err(Error::invalid_argument(
            "data",
            format!(
                "need a non-empty binary data set of L x L configurations with L even \
                 and >= 2; got {} samples of {rows} x {cols} with {} states",
                data.len(),
                data.num_states()
            ),
        ));
    }
    Ok(data
        .samples()
        .rows()
        .into_iter()
        .map(|row| {
            Array2::from_shape_fn(
                (rows, cols),
                |(r, c)| {
                    if row[r * cols + c] == 1 {
                        1
                    } else {
                        -1
                    }
                },
            )
        })
        .collect())
}

/// The histogram of 2 x 2 block configurations over every block of every
/// configuration, normalised (`p_hat(v)`, indexed by [`block_index`]).
pub(crate) fn block_histogram(configs: &[Array2<i8>]) -> [f64; BLOCK_STATES] {
    let mut counts = [0.0; BLOCK_STATES];
    let mut total = 0.0;
    for x in configs {
        let l = x.nrows();
        for r in (0..l).step_by(2) {
            for c in (0..l).step_by(2) {
                let v = [x[[r, c]], x[[r, c + 1]], x[[r + 1, c]], x[[r + 1, c + 1]]];
                counts[block_index(v)] += 1.0;
                total += 1.0;
            }
        }
    }
    counts.map(|n| n / total)
}
