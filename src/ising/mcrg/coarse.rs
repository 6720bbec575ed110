//! Coarse-grainings of square-lattice configurations: the [`CoarseGrain`] trait and
//! the majority rule.

use ndarray::{Array2, ArrayView2};
use rand::{Rng, RngCore};

use crate::error::{Error, Result};

/// A (possibly stochastic) real-space renormalization step: a configuration of
/// spins `+-1` on an `L x L` torus at level `n` to one on an `(L/b) x (L/b)` torus at
/// level `n + 1`.
///
/// The trait is object-safe (the RNG is `&mut dyn RngCore`), so coarse-grainings of
/// different types sit in one list, `Vec<Box<dyn CoarseGrain>>`, and are measured
/// together by [`measure`](super::measure); `Sync` lets independent runs go to
/// rayon's threads.
///
/// ```
/// use ndarray::array;
/// use rand::SeedableRng;
/// use tnlearn::ising::mcrg::{CoarseGrain, MajorityRule};
///
/// let fine = array![[1i8, 1, -1, -1], [1, -1, -1, -1], [1, 1, 1, -1], [1, 1, -1, 1]];
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let coarse = MajorityRule::new(2)?.coarse_grain(fine.view(), &mut rng)?;
/// assert_eq!(coarse.row(0).to_vec(), vec![1, -1]);
/// assert_eq!(coarse[[1, 0]], 1); // the (1, 1) block ties 2:2 and is decided at random
/// # Ok::<(), tnlearn::Error>(())
/// ```
pub trait CoarseGrain: Sync {
    /// A short name for tables (e.g. `"majority"`).
    fn name(&self) -> String;
    /// The length rescaling factor `b` (2 for 2 x 2 blocks): `y = ln(lambda)/ln b`.
    fn scale_factor(&self) -> usize;
    /// The configuration at the next level, `(L/b) x (L/b)`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] or [`Error::InvalidArgument`] if `fine` is not a
    /// square configuration of `+-1` whose side is a multiple of `b`.
    fn coarse_grain(&self, fine: ArrayView2<'_, i8>, rng: &mut dyn RngCore) -> Result<Array2<i8>>;
}

/// Checks that `fine` is an `L x L` configuration of `+-1` with `b | L`, `L >= b`;
/// returns `L`.
///
/// # Errors
/// [`Error::InvalidArgument`] naming `b` if `b = 0`; [`Error::ShapeMismatch`] if
/// `fine` is not square, is empty or its side is not a multiple of `b`;
/// [`Error::InvalidArgument`] naming the spin if one is not `+1` or `-1`.
pub fn check_configuration(fine: ArrayView2<'_, i8>, b: usize) -> Result<usize> {
    if b == 0 {
        return Err(Error::invalid_argument(
            "b",
            "the block size must be at least 1 (got 0)",
        ));
    }
    let (rows, cols) = fine.dim();
    if rows != cols || rows == 0 || rows % b != 0 {
        // The nearest valid side; b itself if that overflows.
        let side = rows.max(b).checked_next_multiple_of(b).unwrap_or(b);
        return Err(Error::shape_mismatch(
            format!(
                "coarse-graining by b = {b} (a square configuration whose side is a multiple of b)"
            ),
            [side; 2],
            [rows, cols],
        ));
    }
    if let Some(((r, c), &s)) = fine.indexed_iter().find(|(_, &s)| s != 1 && s != -1) {
        return Err(Error::invalid_argument(
            "fine",
            format!("spin ({r}, {c}) is {s}, but spins must be +1 or -1"),
        ));
    }
    Ok(rows)
}

/// The majority rule on `b x b` blocks: the block spin is the sign of the sum of
/// its `b^2` spins, and a tie (possible for even `b`) is decided by a fair coin. With
/// `b = 2` this is the classic baseline of real-space RG (Niemeijer-van Leeuwen,
/// Swendsen).
///
/// ```
/// use tnlearn::ising::mcrg::{CoarseGrain, MajorityRule};
/// use tnlearn::ndarray::Array2;
/// use tnlearn::rand::{rngs::StdRng, SeedableRng};
///
/// let rule = MajorityRule::new(2)?;
/// let fine = Array2::<i8>::from_shape_fn((4, 4), |(r, _)| if r < 2 { 1 } else { -1 });
/// let coarse = rule.coarse_grain(fine.view(), &mut StdRng::seed_from_u64(0))?;
/// assert_eq!(coarse, tnlearn::ndarray::array![[1, 1], [-1, -1]]);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MajorityRule {
    b: usize,
}

impl MajorityRule {
    /// Majority rule on `b x b` blocks, `b >= 2`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `b < 2`.
    pub fn new(b: usize) -> Result<Self> {
        if b < 2 {
            return Err(Error::invalid_argument(
                "b",
                format!("blocks must be at least 2 x 2, got b = {b}"),
            ));
        }
        Ok(MajorityRule { b })
    }
}

impl CoarseGrain for MajorityRule {
    fn name(&self) -> String {
        format!("majority {0}x{0}", self.b)
    }

    fn scale_factor(&self) -> usize {
        self.b
    }

    fn coarse_grain(&self, fine: ArrayView2<'_, i8>, rng: &mut dyn RngCore) -> Result<Array2<i8>> {
        let b = self.b;
        let l = check_configuration(fine, b)?;
        let m = l / b;
        let mut coarse = Array2::<i8>::zeros((m, m));
        for ((r, c), out) in coarse.indexed_iter_mut() {
            let mut sum = 0i32;
            for i in r * b..(r + 1) * b {
                for j in c * b..(c + 1) * b {
                    sum += i32::from(fine[[i, j]]);
                }
            }
            *out = match sum.signum() {
                0 => {
                    if rng.random::<bool>() {
                        1
                    } else {
                        -1
                    }
                }
                s => s as i8,
            };
        }
        Ok(coarse)
    }
}
