//! The seven even coupling operators of Swendsen's MCRG on the square lattice.

use ndarray::ArrayView2;

use crate::error::Result;

/// An even (spin-flip symmetric) operator of the square-lattice Ising model; its
/// lattice sum `S_a = sum_i prod_{j in a + i} s_j` runs over all translates `i`,
/// each shape counted once (never two translates of the same operator). Offsets are
/// `(row, column)`.
///
/// ```
/// use tnlearn::ising::mcrg::{lattice_sums, EvenOperator};
/// use tnlearn::ndarray::Array2;
///
/// let up = Array2::<i8>::ones((4, 4)); // all spins up: every product is 1
/// let sums = lattice_sums(up.view())?;
/// assert_eq!(sums[0], 32.0); // nearest-neighbour pairs of a 4 x 4 torus
/// assert_eq!(EvenOperator::ALL[0], EvenOperator::NearestNeighbor);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EvenOperator {
    /// Nearest-neighbour pairs, `(0,1)` and `(1,0)`.
    NearestNeighbor,
    /// Next-nearest (diagonal) pairs, `(1,1)` and `(1,-1)`.
    NextNearestNeighbor,
    /// The 4-spin plaquette `(0,0),(0,1),(1,0),(1,1)`.
    Plaquette,
    /// Pairs at distance 2 along the axes, `(0,2)` and `(2,0)`.
    Pair20,
    /// Pairs at `(1,2)`, `(-1,2)`, `(2,1)`, `(2,-1)`.
    Pair21,
    /// Pairs at `(2,2)` and `(2,-2)`.
    Pair22,
    /// The 4-spin diamond: the four neighbours `(-1,0),(0,-1),(0,1),(1,0)` of a site.
    Diamond,
}

impl EvenOperator {
    /// All seven, in the order of the reference table in `docs/ising.md` (and of the
    /// couplings `1..=7` used by [`measure`](super::measure)).
    pub const ALL: [EvenOperator; 7] = [
        EvenOperator::NearestNeighbor,
        EvenOperator::NextNearestNeighbor,
        EvenOperator::Plaquette,
        EvenOperator::Pair20,
        EvenOperator::Pair21,
        EvenOperator::Pair22,
        EvenOperator::Diamond,
    ];

    /// A short name for tables.
    pub fn name(&self) -> &'static str {
        match self {
            EvenOperator::NearestNeighbor => "nn",
            EvenOperator::NextNearestNeighbor => "nnn",
            EvenOperator::Plaquette => "plaquette",
            EvenOperator::Pair20 => "(2,0)",
            EvenOperator::Pair21 => "(2,1)",
            EvenOperator::Pair22 => "(2,2)",
            EvenOperator::Diamond => "diamond",
        }
    }
}

/// The lattice sums of all seven [`EvenOperator`]s (in the order of
/// [`EvenOperator::ALL`]) of an `L x L` periodic configuration of `+-1`, in one pass.
///
/// # Errors
/// As [`check_configuration`](super::check_configuration) with `b = 1`: `s` must be
/// a non-empty square configuration of `+-1`.
pub fn lattice_sums(s: ArrayView2<'_, i8>) -> Result<[f64; 7]> {
    let l = super::check_configuration(s, 1)?;
    // Periodic padding by 2 on every side, so the loop needs no modulo.
    let w = l + 4;
    let mut p = vec![0i32; w * w];
    for r in 0..w {
        for c in 0..w {
            p[r * w + c] = i32::from(s[[(r + 2 * l - 2) % l, (c + 2 * l - 2) % l]]);
        }
    }
    let mut sums = [0i64; 7];
    for r in 2..l + 2 {
        for c in 2..l + 2 {
            let at = |dr: isize, dc: isize| {
                p[(r as isize + dr) as usize * w + (c as isize + dc) as usize]
            };
            let s0 = at(0, 0);
            let terms = [
                s0 * (at(0, 1) + at(1, 0)),
                s0 * (at(1, 1) + at(1, -1)),
                s0 * at(0, 1) * at(1, 0) * at(1, 1),
                s0 * (at(0, 2) + at(2, 0)),
                s0 * (at(1, 2) + at(-1, 2) + at(2, 1) + at(2, -1)),
                s0 * (at(2, 2) + at(2, -2)),
                at(-1, 0) * at(0, -1) * at(0, 1) * at(1, 0),
            ];
            for (acc, t) in sums.iter_mut().zip(terms) {
                *acc += i64::from(t);
            }
        }
    }
    Ok(sums.map(|v| v as f64))
}
